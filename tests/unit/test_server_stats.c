/*
 * Unit tests for src/server/stats.c: the names and order of the counters
 * (compared with tests/unit/data/server/stats_format.txt, which the
 * metrics endpoint and the control socket rely on), the cut and the
 * length reported when the buffer is short, and the visitor. Summing the
 * workers' counters is tested with real traffic in test_server_server.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

#define DATA_DIR "tests/unit/data/server/"

/* Every counter a different value: slot i of each array holds base + i. */
static void fill(struct server_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < SERVER_TRANSPORT_COUNT; i++)
		st->queries[i] = 1 + (uint64_t)i;
	for (int i = 0; i < SERVER_RCODE_SLOTS; i++)
		st->rcodes[i] = 100 + (uint64_t)i;
	for (int i = 0; i < SERVER_QT_COUNT; i++)
		st->qtypes[i] = 200 + (uint64_t)i;
	st->truncated = 300;
	st->dropped = 301;
	st->malformed = 302;
	st->send_failed = UINT64_MAX;
	st->tcp_accepted = 400;
	st->tcp_closed = 401;
	st->tcp_refused = 402;
	st->tcp_timeout = 403;
	st->xfr_out = 500;
	st->notify_in = 501;
	st->cache_hits = 600;
	st->cache_misses = 601;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_format(void **state)
{
	(void)state;
	struct server_stats st;
	fill(&st);
	const char *want = read_file(DATA_DIR "stats_format.txt");
	assert_non_null(want);
	char buf[8192];
	size_t need = server_stats_format(&st, buf, sizeof(buf));
	assert_int_equal(need, strlen(want));
	assert_string_equal(buf, want);
}

static void test_format_short(void **state)
{
	(void)state;
	struct server_stats st;
	fill(&st);
	char full[8192], cut[100];
	size_t need = server_stats_format(&st, full, sizeof(full));
	memset(cut, 'x', sizeof(cut));
	assert_int_equal(server_stats_format(&st, cut, sizeof(cut)), need);
	assert_int_equal(strlen(cut), sizeof(cut) - 1);
	assert_memory_equal(cut, full, sizeof(cut) - 1);
	/* No room at all: only the length. */
	assert_int_equal(server_stats_format(&st, NULL, 0), need);
	char one[1] = { 'x' };
	assert_int_equal(server_stats_format(&st, one, 1), need);
	assert_int_equal(one[0], '\0');
}

struct visit {
	unsigned calls;
	unsigned unlabeled;
	uint64_t sum_rcodes;
};

static void on_counter(void *arg, const char *name, const char *label,
		       const char *label_value, uint64_t value)
{
	struct visit *v = arg;
	v->calls++;
	assert_true(strncmp(name, "anydns_", 7) == 0);
	assert_true((label == NULL) == (label_value == NULL));
	if (label == NULL)
		v->unlabeled++;
	if (strcmp(name, "anydns_responses_total") == 0) {
		assert_string_equal(label, "rcode");
		v->sum_rcodes += value;
	}
}

static void test_each(void **state)
{
	(void)state;
	struct server_stats st;
	fill(&st);
	struct visit v = { 0 };
	server_stats_each(&st, on_counter, &v);
	assert_int_equal(v.calls, SERVER_TRANSPORT_COUNT + SERVER_RCODE_SLOTS +
				  SERVER_QT_COUNT + 6 + 4 + 2);
	assert_int_equal(v.unlabeled, 6);
	/* 100 + 101 + ... + 124 */
	assert_int_equal(v.sum_rcodes, 25 * 100 + 24 * 25 / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_short),
		cmocka_unit_test(test_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
