/*
 * Unit tests for src/zone/serial.c: RFC 1982 serial arithmetic (wrap
 * around, the undefined pair at distance 2^31), the serial policies
 * (increment, unixtime with a clock behind the serial, YYYYMMDDnn with
 * more than 99 changes in a day and a serial ahead of the date), a zone
 * copied under another serial, and the SERVFAIL placeholder in a zone set
 * and through a reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "zone/zone.h"
#include "zone_diff_test.h"

static void serial_newer_table(void **state)
{
	(void)state;
	static const struct {
		uint32_t a, b;
		bool newer;
	} cases[] = {
		{ 1, 0, true },
		{ 0, 1, false },
		{ 0, 0, false },
		{ 0xffffffff, 0xffffffff, false },
		{ 0, 0xffffffff, true },		/* wraps */
		{ 0xffffffff, 0, false },
		{ 5, 0xfffffff0, true },
		{ 0x7fffffff, 0, true },		/* 2^31 - 1 ahead */
		{ 0, 0x7fffffff, false },
		{ 0x80000000, 0, false },		/* 2^31: undefined */
		{ 0, 0x80000000, false },
		{ 100, 0x80000064, false },
		{ 0x80000064, 100, false },
		{ 0x80000001, 0, false },		/* 2^31 + 1 ahead: behind */
		{ 0, 0x80000001, true },
		{ 2024031500, 2024031499, true },
		{ 1710504000, 2024031500, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (zone_serial_newer(cases[i].a, cases[i].b) != cases[i].newer)
			fail_msg("case %zu: newer(%u, %u) should be %d", i,
				 cases[i].a, cases[i].b, cases[i].newer);
}

#define T_MIDDAY 1710504000	/* 2024-03-15 12:00:00 UTC */
#define T_MIDNIGHT 1710460800	/* 2024-03-15 00:00:00 UTC */
#define T_LASTSEC 1710460799	/* 2024-03-14 23:59:59 UTC */
#define T_NEWYEAR 1704067199	/* 2023-12-31 23:59:59 UTC */

static void serial_next_table(void **state)
{
	(void)state;
	static const struct {
		enum zone_serial_policy policy;
		uint32_t old;
		time_t now;
		uint32_t want;
	} cases[] = {
		{ ZONE_SERIAL_KEEP, 5, T_MIDDAY, 5 },
		{ ZONE_SERIAL_KEEP, 0xffffffff, T_MIDDAY, 0xffffffff },
		{ ZONE_SERIAL_INCREMENT, 5, T_MIDDAY, 6 },
		{ ZONE_SERIAL_INCREMENT, 0xffffffff, T_MIDDAY, 0 },
		{ ZONE_SERIAL_INCREMENT, 0x7fffffff, T_MIDDAY, 0x80000000 },
		/* unixtime: the clock when it is ahead */
		{ ZONE_SERIAL_UNIXTIME, 5, T_MIDDAY, T_MIDDAY },
		{ ZONE_SERIAL_UNIXTIME, T_MIDDAY - 1, T_MIDDAY, T_MIDDAY },
		/* ... old + 1 when the serial is at or ahead of the clock */
		{ ZONE_SERIAL_UNIXTIME, T_MIDDAY, T_MIDDAY, T_MIDDAY + 1 },
		{ ZONE_SERIAL_UNIXTIME, T_MIDDAY + 100, T_MIDDAY, T_MIDDAY + 101 },
		{ ZONE_SERIAL_UNIXTIME, 2024031500, T_MIDDAY, 2024031501 },
		/* ... and when the clock is "behind" by RFC 1982 */
		{ ZONE_SERIAL_UNIXTIME, 3500000000u, T_MIDDAY, 3500000001u },
		/* a serial far "behind" by value but newer by RFC 1982 */
		{ ZONE_SERIAL_UNIXTIME, 0xffffffff, T_MIDDAY, T_MIDDAY },
		/* dateserial: today's 00 when that is newer */
		{ ZONE_SERIAL_DATESERIAL, 1, T_MIDDAY, 2024031500 },
		{ ZONE_SERIAL_DATESERIAL, 2024031405, T_MIDDAY, 2024031500 },
		{ ZONE_SERIAL_DATESERIAL, 2024031499, T_MIDNIGHT, 2024031500 },
		{ ZONE_SERIAL_DATESERIAL, 2024031405, T_LASTSEC, 2024031406 },
		{ ZONE_SERIAL_DATESERIAL, 2023123100, T_NEWYEAR, 2023123101 },
		{ ZONE_SERIAL_DATESERIAL, 2023123050, T_NEWYEAR, 2023123100 },
		/* ... else old + 1, also past nn = 99 */
		{ ZONE_SERIAL_DATESERIAL, 2024031500, T_MIDDAY, 2024031501 },
		{ ZONE_SERIAL_DATESERIAL, 2024031598, T_MIDDAY, 2024031599 },
		{ ZONE_SERIAL_DATESERIAL, 2024031599, T_MIDDAY, 2024031600 },
		{ ZONE_SERIAL_DATESERIAL, 2024031600, T_MIDDAY, 2024031601 },
		{ ZONE_SERIAL_DATESERIAL, 2099010100, T_MIDDAY, 2099010101 },
		{ ZONE_SERIAL_DATESERIAL, 4000000000u, T_MIDDAY, 4000000001u },
		/* a unixtime serial is newer than a date by value... */
		{ ZONE_SERIAL_DATESERIAL, T_MIDDAY, T_MIDDAY, 2024031500 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = zone_serial_next(cases[i].policy, cases[i].old,
						cases[i].now);
		if (got != cases[i].want)
			fail_msg("case %zu: next(%d, %u) = %u, want %u", i,
				 cases[i].policy, cases[i].old, got,
				 cases[i].want);
	}
}

/* Every policy but KEEP gives a newer serial, whatever old and now are. */
static void serial_next_always_newer(void **state)
{
	(void)state;
	static const uint32_t olds[] = {
		0, 1, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001,
		2024031599, 3000000000u, 0xfffffffe, 0xffffffff,
		T_MIDDAY, T_MIDDAY + 1,
	};
	static const time_t nows[] = {
		0, 1, T_MIDDAY, T_NEWYEAR, 4102444800 /* 2100-01-01 */,
		(time_t)1 << 40,
	};
	for (int p = ZONE_SERIAL_INCREMENT; p <= ZONE_SERIAL_DATESERIAL; p++)
		for (size_t i = 0; i < sizeof(olds) / sizeof(olds[0]); i++)
			for (size_t k = 0; k < sizeof(nows) / sizeof(nows[0]); k++) {
				uint32_t n = zone_serial_next(p, olds[i], nows[k]);
				if (!zone_serial_newer(n, olds[i]))
					fail_msg("policy %d old %u now %lld: %u "
						 "not newer", p, olds[i],
						 (long long)nows[k], n);
			}
	/* A date past year 4294 does not fit YYYYMMDDnn: old + 1. */
	assert_int_equal(zone_serial_next(ZONE_SERIAL_DATESERIAL, 7,
					  (time_t)1 << 40), 8);
}

#define ZONE_TEXT \
	"@ 3600 SOA ns1 hostmaster 7 7200 900 1209600 300\n" \
	"@ NS ns1\n" \
	"ns1 A 192.0.2.53\n" \
	"www 300 A 192.0.2.1\n" \
	"www 300 A 192.0.2.2\n" \
	"mail MX 10 MX.Example.\n" \
	"sub NS ns.sub\n" \
	"ns.sub A 192.0.2.99\n"

static void with_serial(void **state)
{
	(void)state;
	struct zone *z = zt_zone(ZONE_TEXT);
	z->source = strdup("/tmp/example.zone");
	assert_non_null(z->source);
	z->file_id.ino = 1234;
	z->file_id.size = 99;
	z->loaded_at = 1000;
	assert_int_equal(z->serial, 7);

	struct zone *c = NULL;
	assert_int_equal(zone_with_serial(z, 2024031500, &c), 0);
	assert_int_equal(c->serial, 2024031500);
	assert_string_equal(c->source, "/tmp/example.zone");
	assert_ptr_not_equal(c->source, z->source);
	assert_int_equal(c->file_id.ino, 1234);
	assert_int_equal(c->file_id.size, 99);
	assert_int_equal(c->loaded_at, 1000);
	assert_null(c->history);
	assert_false(c->servfail);

	/* Everything else is the same; the expected copy is built from the
	 * text with the new serial. */
	char text[sizeof(ZONE_TEXT) + 16];
	snprintf(text, sizeof(text), "%s",
		 "@ 3600 SOA ns1 hostmaster 2024031500 7200 900 1209600 300\n");
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s",
		 strchr(ZONE_TEXT, '\n') + 1);
	struct zone *want = zt_zone(text);
	zt_assert_same(c, want);

	/* The original is untouched. */
	struct zone *orig = zt_zone(ZONE_TEXT);
	zt_assert_same(z, orig);

	/* And the diff between them is the SOA alone. */
	struct zone_diff *d = NULL;
	assert_int_equal(zone_diff_compute(z, c, &d), 0);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->added, 1);
	assert_int_equal(d->from, 7);
	assert_int_equal(d->to, 2024031500);
	zone_diff_unref(d);

	zone_free(orig);
	zone_free(want);
	zone_free(c);
	zone_free(z);
}

static void servfail_zone(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAXLEN], lapex[DNS_NAME_MAXLEN];
	zt_wire(apex, "Broken.EXAMPLE.");
	zt_wire(lapex, "broken.example.");
	struct zone *sf = NULL;
	assert_int_equal(zone_new_servfail(apex, &sf), 0);
	assert_true(sf->servfail);
	assert_int_equal(sf->apex_len, 16);
	assert_memory_equal(sf->apex_name, lapex, 16);
	assert_string_equal(sf->name_str, "broken.example.");
	assert_null(sf->soa);
	assert_null(sf->apex);
	assert_int_equal(sf->node_count, 0);
	assert_int_equal(sf->serial, 0);
	assert_null(sf->history);
	assert_null(sf->source);
	/* A lookup that forgets the flag finds nothing instead of crashing. */
	assert_null(zone_find(sf, lapex, 16));
	assert_null(zone_closest_encloser(sf, lapex));

	struct zone *other = NULL;
	assert_int_equal(zone_with_serial(sf, 5, &other), ANYDNS_EINVAL);

	/* In a set beside a normal zone (example., its parent). */
	struct zone *z = zt_zone(ZONE_TEXT);
	struct zone *zones[] = { z, sf };
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(zones, 2, &set), 0);
	uint8_t q[DNS_NAME_MAXLEN];
	zt_wire(q, "www.broken.example.");
	assert_ptr_equal(zone_set_find(set, q), sf);
	zt_wire(q, "www.example.");
	assert_ptr_equal(zone_set_find(set, q), z);
	assert_ptr_equal(zone_set_get(set, lapex), sf);

	uint8_t name_only[DNS_NAME_MAXLEN];
	zt_wire(name_only, "BROKEN.example.");
	const uint8_t *view_apexes[] = { name_only };
	struct zone_view_def def = { .apexes = view_apexes, .count = 1 };
	assert_int_equal(zone_set_views(set, &def, 1), 0);
	assert_int_equal(set->views[0]->count, 1);
	assert_ptr_equal(set->views[0]->zones[0], sf);
	zone_set_free(set);	/* frees both zones: ASan checks */
}

/* A reload whose current set holds a placeholder: a file that loads
 * replaces it, one that fails keeps it serving. */
static void servfail_reload(void **state)
{
	(void)state;
	char path[] = "/tmp/anydns-serial-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, ZONE_TEXT, strlen(ZONE_TEXT)),
			 (ssize_t)strlen(ZONE_TEXT));
	close(fd);

	uint8_t apex[DNS_NAME_MAXLEN];
	zt_wire(apex, ZT_ORIGIN);
	struct zone *sf = NULL;
	assert_int_equal(zone_new_servfail(apex, &sf), 0);
	struct zone_set *cur = NULL;
	assert_int_equal(zone_set_new(&sf, 1, &cur), 0);

	struct zone_source src = { .name = apex, .file = "/nonexistent/x" };
	struct zone_reload_status st;
	struct zone_set *next = NULL;
	assert_int_equal(zone_reload(cur, &src, 1, NULL, &next, &st), 0);
	assert_int_equal(st.state, ZONE_RELOAD_FAILED_KEPT);
	assert_true(st.serving);
	assert_int_equal(st.serial, 0);
	assert_ptr_equal(zone_set_get(next, apex), sf);
	zone_set_free(cur);
	cur = next;

	src.file = path;
	assert_int_equal(zone_reload(cur, &src, 1, NULL, &next, &st), 0);
	assert_int_equal(st.state, ZONE_RELOAD_LOADED);
	assert_int_equal(st.serial, 7);
	assert_false(zone_set_get(next, apex)->servfail);
	zone_set_free(cur);
	zone_set_free(next);
	unlink(path);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serial_newer_table),
		cmocka_unit_test(serial_next_table),
		cmocka_unit_test(serial_next_always_newer),
		cmocka_unit_test(with_serial),
		cmocka_unit_test(servfail_zone),
		cmocka_unit_test(servfail_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
