/*
 * Unit tests for src/zone/reload.c: the first load, unchanged files shared
 * by reference between sets, a changed file read again, a broken file
 * keeping the old version with its "file:line: message" error, a new zone
 * that fails (nothing served), zones dropped from the configuration, a
 * file moved to another path, one zone reloaded by name, and the errors
 * that leave everything as it was. Zone files are written to a temporary
 * directory with explicit modification times, so no test depends on the
 * file system's timestamp granularity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "zone/zone.h"

struct fixture {
	char dir[64];
	char path[4][128];	/* a.zone, b.zone, c.zone, moved.zone */
	uint8_t name[4][DNS_NAME_MAXLEN];
	struct zone_source src[4];
	struct zone_reload_status st[4];
	time_t mtime;		/* the next file gets a later one */
};

static const char *const zone_names[] = { "a.test.", "b.test.", "c.test.",
					  "a.test." };
static const char *const file_names[] = { "a.zone", "b.zone", "c.zone",
					  "moved.zone" };

/* A zone file of origin with this serial; extra is appended as written. */
static void write_zone(struct fixture *f, int i, uint32_t serial,
		       const char *extra)
{
	FILE *fp = fopen(f->path[i], "w");
	assert_non_null(fp);
	fprintf(fp, "$ORIGIN %s\n$TTL 300\n"
		"@ SOA ns hostmaster %u 7200 3600 1209600 300\n"
		"@ NS ns\n"
		"ns A 192.0.2.1\n%s", zone_names[i], serial, extra);
	assert_int_equal(fclose(fp), 0);
	struct timespec ts[2] = { { f->mtime, 0 }, { f->mtime, 0 } };
	f->mtime += 10;
	assert_int_equal(utimensat(AT_FDCWD, f->path[i], ts, 0), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/anydns-reload-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->mtime = 1700000000;
	for (int i = 0; i < 4; i++) {
		size_t len;
		char path[sizeof(f->path[i])];
		snprintf(path, sizeof(path), "%s/%s", f->dir, file_names[i]);
		memcpy(f->path[i], path, sizeof(path));
		assert_int_equal(dns_name_from_str(f->name[i], &len,
						   zone_names[i], NULL), 0);
		f->src[i].name = f->name[i];
		f->src[i].file = f->path[i];
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 4; i++)
		unlink(f->path[i]);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct zone *get(const struct zone_set *set, const char *name)
{
	uint8_t w[DNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(dns_name_from_str(w, &len, name, NULL), 0);
	return zone_set_get(set, w);
}

static void first_load_and_unchanged(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	write_zone(f, 1, 20, "");
	struct zone_set *s1 = NULL, *s2 = NULL;
	assert_int_equal(zone_reload(NULL, f->src, 2, NULL, &s1, f->st), 0);
	assert_int_equal(s1->count, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->st[i].state, ZONE_RELOAD_LOADED);
		assert_true(f->st[i].serving);
		assert_ptr_equal(f->st[i].name, f->name[i]);
		assert_ptr_equal(f->st[i].file, f->path[i]);
		assert_string_equal(f->st[i].error, "");
		assert_true(f->st[i].loaded_at > 0);
	}
	assert_int_equal(f->st[0].serial, 10);
	assert_int_equal(f->st[1].serial, 20);
	struct zone *a = get(s1, "a.test."), *b = get(s1, "b.test.");
	assert_non_null(a);
	assert_string_equal(a->source, f->path[0]);
	assert_int_equal(a->file_id.mtime.tv_sec, 1700000000);
	assert_int_equal(a->refs, 1);

	/* Nothing changed: both zones are the same objects, now in two sets. */
	assert_int_equal(zone_reload(s1, f->src, 2, NULL, &s2, f->st), 0);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_UNCHANGED);
	assert_int_equal(f->st[1].state, ZONE_RELOAD_UNCHANGED);
	assert_int_equal(f->st[1].serial, 20);
	assert_int_equal(f->st[1].loaded_at, b->loaded_at);
	assert_ptr_equal(get(s2, "a.test."), a);
	assert_ptr_equal(get(s2, "b.test."), b);
	assert_int_equal(a->refs, 2);
	zone_set_free(s1);
	assert_int_equal(a->refs, 1);
	assert_int_equal(b->serial, 20);
	zone_set_free(s2);
}

static void changed_and_broken(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	write_zone(f, 1, 20, "");
	struct zone_set *s1 = NULL, *s2 = NULL, *s3 = NULL;
	assert_int_equal(zone_reload(NULL, f->src, 2, NULL, &s1, f->st), 0);
	struct zone *a1 = get(s1, "a.test."), *b1 = get(s1, "b.test.");

	/* a gets a new serial; b a syntax error on line 6. */
	write_zone(f, 0, 11, "www A 192.0.2.2\n");
	write_zone(f, 1, 21, "www A 192.0.2.1.5\n");
	assert_int_equal(zone_reload(s1, f->src, 2, NULL, &s2, f->st), 0);
	assert_int_equal(s2->count, 2);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_LOADED);
	assert_int_equal(f->st[0].serial, 11);
	struct zone *a2 = get(s2, "a.test.");
	assert_ptr_not_equal(a2, a1);
	assert_int_equal(a2->serial, 11);
	assert_int_equal(a2->file_id.mtime.tv_sec, 1700000020);

	char want[256];
	snprintf(want, sizeof(want), "%s:6: invalid IPv4 address", f->path[1]);
	assert_int_equal(f->st[1].state, ZONE_RELOAD_FAILED_KEPT);
	assert_true(f->st[1].serving);
	assert_int_equal(f->st[1].serial, 20);
	assert_string_equal(f->st[1].error, want);
	assert_ptr_equal(get(s2, "b.test."), b1);

	/* Still broken: it is tried again, fails again, old one kept. */
	assert_int_equal(zone_reload(s2, f->src, 2, NULL, &s3, f->st), 0);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_UNCHANGED);
	assert_int_equal(f->st[1].state, ZONE_RELOAD_FAILED_KEPT);
	assert_string_equal(f->st[1].error, want);
	assert_ptr_equal(get(s3, "b.test."), b1);
	assert_int_equal(b1->refs, 3);
	zone_set_free(s1);
	zone_set_free(s2);
	assert_int_equal(a2->refs, 1);
	assert_int_equal(b1->refs, 1);
	zone_set_free(s3);
}

static void absent_added_dropped(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	write_zone(f, 1, 20, "");
	/* c has no NS: a semantic error, and it was never served. */
	FILE *fp = fopen(f->path[2], "w");
	assert_non_null(fp);
	fprintf(fp, "$ORIGIN c.test.\n@ 300 SOA ns hostmaster 1 2 3 4 5\n");
	fclose(fp);
	struct zone_set *s1 = NULL, *s2 = NULL;
	assert_int_equal(zone_reload(NULL, f->src, 3, NULL, &s1, f->st), 0);
	assert_int_equal(s1->count, 2);
	char want[256];
	snprintf(want, sizeof(want), "%s:2: no NS records at the zone apex",
		 f->path[2]);
	assert_int_equal(f->st[2].state, ZONE_RELOAD_FAILED_ABSENT);
	assert_false(f->st[2].serving);
	assert_int_equal(f->st[2].serial, 0);
	assert_int_equal(f->st[2].loaded_at, 0);
	assert_string_equal(f->st[2].error, want);
	assert_null(get(s1, "c.test."));

	/* b leaves the configuration, c is fixed. */
	write_zone(f, 2, 30, "");
	f->src[1] = f->src[2];
	assert_int_equal(zone_reload(s1, f->src, 2, NULL, &s2, f->st), 0);
	assert_int_equal(s2->count, 2);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_UNCHANGED);
	assert_int_equal(f->st[1].state, ZONE_RELOAD_LOADED);
	assert_int_equal(f->st[1].serial, 30);
	assert_null(get(s2, "b.test."));
	assert_non_null(get(s2, "c.test."));
	zone_set_free(s1);
	zone_set_free(s2);
}

static void missing_file(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	struct zone_set *s1 = NULL, *s2 = NULL;
	assert_int_equal(zone_reload(NULL, f->src, 1, NULL, &s1, f->st), 0);
	struct zone *a = get(s1, "a.test.");
	unlink(f->path[0]);
	assert_int_equal(zone_reload(s1, f->src, 1, NULL, &s2, f->st), 0);
	char want[256];
	snprintf(want, sizeof(want), "cannot open %s: No such file or directory",
		 f->path[0]);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_FAILED_KEPT);
	assert_string_equal(f->st[0].error, want);
	assert_ptr_equal(get(s2, "a.test."), a);
	zone_set_free(s1);
	zone_set_free(s2);
}

/* The same content at another path is read again: the zone's source must
 * name the file configured. */
static void moved_file(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	struct zone_set *s1 = NULL, *s2 = NULL;
	assert_int_equal(zone_reload(NULL, f->src, 1, NULL, &s1, f->st), 0);
	assert_int_equal(rename(f->path[0], f->path[3]), 0);
	assert_int_equal(zone_reload(s1, &f->src[3], 1, NULL, &s2, f->st), 0);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_LOADED);
	assert_string_equal(get(s2, "a.test.")->source, f->path[3]);
	assert_ptr_not_equal(get(s2, "a.test."), get(s1, "a.test."));
	zone_set_free(s1);
	zone_set_free(s2);
}

static void only_one(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	write_zone(f, 1, 20, "");
	FILE *fp = fopen(f->path[2], "w");	/* never loads */
	assert_non_null(fp);
	fclose(fp);
	struct zone_set *s1 = NULL, *s2 = NULL, *s3 = (void *)1;
	assert_int_equal(zone_reload(NULL, f->src, 3, NULL, &s1, f->st), 0);
	struct zone *a = get(s1, "a.test."), *b = get(s1, "b.test.");
	write_zone(f, 0, 12, "");

	/* Only b, written in another case: read even though unchanged; a is
	 * skipped although its file changed; c stays absent. */
	uint8_t only[DNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(dns_name_from_str(only, &len, "B.Test", NULL), 0);
	assert_int_equal(zone_reload(s1, f->src, 3, only, &s2, f->st), 0);
	assert_int_equal(s2->count, 2);
	assert_int_equal(f->st[0].state, ZONE_RELOAD_SKIPPED);
	assert_true(f->st[0].serving);
	assert_int_equal(f->st[0].serial, 10);
	assert_ptr_equal(get(s2, "a.test."), a);
	assert_int_equal(f->st[1].state, ZONE_RELOAD_LOADED);
	assert_ptr_not_equal(get(s2, "b.test."), b);
	assert_int_equal(f->st[2].state, ZONE_RELOAD_SKIPPED);
	assert_false(f->st[2].serving);

	/* A zone not configured: nothing happens. */
	assert_int_equal(dns_name_from_str(only, &len, "d.test", NULL), 0);
	assert_int_equal(zone_reload(s2, f->src, 3, only, &s3, f->st),
			 ANYDNS_ENOENT);
	assert_ptr_equal(s3, (void *)1);
	zone_set_free(s1);
	zone_set_free(s2);
}

static void duplicate_sources(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	assert_int_equal(rename(f->path[0], f->path[3]), 0);
	write_zone(f, 0, 11, "");
	struct zone_set *s = (void *)1;
	/* Two files for a.test.: both load, then the set refuses them and
	 * frees what was loaded (ASan checks). */
	struct zone_source two[2] = { f->src[0], f->src[3] };
	assert_int_equal(zone_reload(NULL, two, 2, NULL, &s, f->st),
			 ANYDNS_EEXIST);
	assert_ptr_equal(s, (void *)1);
}

static void empty_config(void **state)
{
	struct fixture *f = *state;
	write_zone(f, 0, 10, "");
	struct zone_set *s1 = NULL, *s2 = NULL;
	assert_int_equal(zone_reload(NULL, f->src, 1, NULL, &s1, f->st), 0);
	assert_int_equal(zone_reload(s1, NULL, 0, NULL, &s2, NULL), 0);
	assert_int_equal(s2->count, 0);
	zone_set_free(s1);
	zone_set_free(s2);
}

static void state_names(void **state)
{
	(void)state;
	assert_string_equal(zone_reload_state_str(ZONE_RELOAD_LOADED), "loaded");
	assert_string_equal(zone_reload_state_str(ZONE_RELOAD_UNCHANGED),
			    "unchanged");
	assert_string_equal(zone_reload_state_str(ZONE_RELOAD_FAILED_KEPT),
			    "failed-kept-old");
	assert_string_equal(zone_reload_state_str(ZONE_RELOAD_FAILED_ABSENT),
			    "failed-absent");
	assert_string_equal(zone_reload_state_str(ZONE_RELOAD_SKIPPED),
			    "skipped");
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(first_load_and_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_and_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(absent_added_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(moved_file, setup, teardown),
		cmocka_unit_test_setup_teardown(only_one, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_config, setup, teardown),
		cmocka_unit_test(state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
