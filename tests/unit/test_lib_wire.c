/*
 * Unit tests for lib/wire.h: the bounds-checked cursor whose error sticks
 * and whose short reads yield zeros.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/wire.h"

static void read_values(void **state)
{
	(void)state;
	const uint8_t buf[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
	struct wire_ctx c;
	wire_init(&c, buf, sizeof(buf));
	assert_int_equal(wire_read_u8(&c), 0x01);
	assert_int_equal(wire_read_u16(&c), 0x0203);
	assert_int_equal(wire_read_u32(&c), 0x04050607);
	assert_int_equal(c.err, 0);
	assert_int_equal(wire_avail(&c), 0);
}

static void short_read_sticks(void **state)
{
	(void)state;
	const uint8_t buf[] = { 0xff, 0xee, 0xdd };
	struct wire_ctx c;
	wire_init(&c, buf, sizeof(buf));
	assert_int_equal(wire_read_u16(&c), 0xffee);
	assert_int_equal(wire_read_u16(&c), 0);	/* one octet left: short */
	assert_int_equal(c.err, ANYDNS_ETRUNC);
	/* Later reads yield zeros even though an octet remained. */
	assert_int_equal(wire_read_u8(&c), 0);
	assert_null(wire_take(&c, 1));
	assert_int_equal(wire_avail(&c), 0);
}

static void seek_bounds(void **state)
{
	(void)state;
	const uint8_t buf[4] = { 9, 8, 7, 6 };
	struct wire_ctx c;
	wire_init(&c, buf, sizeof(buf));
	wire_seek(&c, 4);
	assert_int_equal(c.err, 0);
	assert_int_equal(wire_avail(&c), 0);
	wire_seek(&c, 5);
	assert_int_equal(c.err, ANYDNS_ETRUNC);
}

static void writer_space(void **state)
{
	(void)state;
	uint8_t out[5];
	struct wire_wctx w;
	wire_winit(&w, out, sizeof(out));
	wire_write_u32(&w, 0xa1b2c3d4);
	assert_int_equal(w.err, 0);
	wire_write_u16(&w, 0x1234);
	assert_int_equal(w.err, ANYDNS_ESPACE);
	assert_int_equal(wire_wlen(&w), 4);
	assert_int_equal(out[0], 0xa1);
	assert_int_equal(out[3], 0xd4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_values),
		cmocka_unit_test(short_read_sticks),
		cmocka_unit_test(seek_bounds),
		cmocka_unit_test(writer_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
