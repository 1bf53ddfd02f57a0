/*
 * Unit tests for src/ctl/reply.c: the bodies of the status, zones and
 * stats replies for a fixed daemon view, octet for octet
 * (tests/unit/data/ctl/status.txt, zones.txt, stats.txt): a loaded zone,
 * a failed reload with its old version serving and its file:line error, a
 * zone never loaded, IPv4 and IPv6 listen addresses, and zone names that
 * need escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_test.h"

static void status(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	ct_expect(ctl_write_status, &fx.view, CT_DATA "status.txt");
}

static void zones(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	ct_expect(ctl_write_zones, &fx.view, CT_DATA "zones.txt");
}

static void stats(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	ct_expect(ctl_write_stats, &fx.view, CT_DATA "stats.txt");
}

/* Nothing configured, no server yet: empty bodies, not broken ones. */
static void empty(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	fx.view.stats = NULL;
	fx.view.zone_count = 0;
	fx.view.listen_count = 0;
	char *text = ct_write(ctl_write_zones, &fx.view);
	assert_string_equal(text, "");
	free(text);
	text = ct_write(ctl_write_stats, &fx.view);
	assert_string_equal(text, "");
	free(text);
	text = ct_write(ctl_write_status, &fx.view);
	assert_string_equal(text, "version: 0.1.0\n"
			    "started: 2023-11-14T21:40:00Z\n"
			    "uptime: 12s\n"
			    "workers: 4\n"
			    "zones: 0 served, 0 failed, 0 configured\n"
			    "reloads: 3\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status),
		cmocka_unit_test(zones),
		cmocka_unit_test(stats),
		cmocka_unit_test(empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
