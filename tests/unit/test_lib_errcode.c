/*
 * Unit tests for lib/errcode.h: every code has a message, errno-based codes
 * keep the system's text, unknown codes are named as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/errcode.h"

static void own_codes_named(void **state)
{
	(void)state;
	for (int c = ANYDNS_ERRBASE; c < ANYDNS_ERRLAST; c++)
		assert_string_not_equal(anydns_strerror(c), "unknown error");
	assert_string_equal(anydns_strerror(ANYDNS_ETRUNC), "data truncated");
	assert_string_equal(anydns_strerror(ANYDNS_ECONFIG), "invalid configuration");
}

static void errno_codes(void **state)
{
	(void)state;
	assert_string_equal(anydns_strerror(0), "success");
	assert_string_equal(anydns_strerror(ANYDNS_ENOMEM), strerror(ENOMEM));
	assert_string_equal(anydns_strerror(ANYDNS_ENOENT), strerror(ENOENT));
}

static void unknown_codes(void **state)
{
	(void)state;
	assert_string_equal(anydns_strerror(ANYDNS_ERRLAST), "unknown error");
	assert_string_equal(anydns_strerror(ANYDNS_ERRBASE - 1), "unknown error");
	assert_string_equal(anydns_strerror(5), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_codes_named),
		cmocka_unit_test(errno_codes),
		cmocka_unit_test(unknown_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
