/*
 * Unit tests for src/ctl/metrics.c: the whole /metrics page of a fixed
 * daemon view, octet for octet (tests/unit/data/ctl/metrics.txt: HELP and
 * TYPE before each metric's samples, label values escaped as the
 * Prometheus text format 0.0.4 wants), a view without a server and
 * without zones, and label escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_test.h"

static void full_page(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	ct_expect(ctl_write_metrics, &fx.view, CT_DATA "metrics.txt");
}

/* Before the server runs, and with no zone configured: the daemon's own
 * metrics only, every one still present. */
static void no_server_no_zones(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	fx.view.stats = NULL;
	fx.view.zone_count = 0;
	fx.view.workers = 0;
	ct_expect(ctl_write_metrics, &fx.view, CT_DATA "metrics-empty.txt");
}

/* Every sample line is `name{labels} value` or `name value`, every
 * metric has its TYPE before its first sample, and no name repeats a
 * TYPE: what Prometheus' parser insists on. */
static void well_formed(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	char *text = ct_write(ctl_write_metrics, &fx.view);
	char typed[64][64];
	int ntyped = 0, samples = 0;
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		char name[64];
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (sscanf(line, "# TYPE %63s", name) == 1) {
			for (int i = 0; i < ntyped; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(ntyped < 64);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			continue;
		}
		size_t n = strcspn(line, "{ ");
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		assert_true(ntyped > 0);
		assert_string_equal(typed[ntyped - 1], name);
		assert_non_null(strrchr(line, ' '));
		samples++;
	}
	assert_int_equal(ntyped, 23);
	/* ... + 2: the packet cache's hits and misses. */
	assert_int_equal(samples, 4 + 4 + 25 + 17 + 4 + 4 + 3 + 2 + 2 + 3 + 2 + 2 +
				  2);
	free(text);
}

static void label_escaping(void **state)
{
	(void)state;
	struct ct_fixture fx;
	ct_fixture_init(&fx);
	fx.view.version = "1\\2\"3\n4";
	fx.view.stats = NULL;
	fx.view.zone_count = 0;
	char *text = ct_write(ctl_write_metrics, &fx.view);
	assert_non_null(strstr(text, "anydns_build_info{version=\"1\\\\2\\\"3\\n4\"} 1\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_page),
		cmocka_unit_test(no_server_no_zones),
		cmocka_unit_test(well_formed),
		cmocka_unit_test(label_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
