/*
 * Unit tests for src/zone/set.c: the zone of a query name is the one with
 * the longest matching apex (RFC 1034 §4.3.2), exact lookup, duplicate
 * apexes, reference counts shared between sets, views (subsets served on
 * some addresses), and the RCU snapshot read
 * by a registered reader thread while the main thread publishes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "lib/log.h"
#include "lib/wire.h"
#include "zone/zone.h"

static void wire(uint8_t *dst, size_t *len, const char *s)
{
	size_t l;
	assert_int_equal(dns_name_from_str(dst, &l, s, NULL), 0);
	dns_name_lower(dst);
	if (len != NULL)
		*len = l;
}

/* A zone with just an SOA (of the given serial) and an NS at origin. */
static struct zone *make_zone(const char *origin, uint32_t serial)
{
	uint8_t o[DNS_NAME_MAXLEN], rd[DNS_NAME_MAXLEN * 2 + 20];
	size_t olen;
	wire(o, &olen, origin);
	struct zone_builder *b = zone_builder_new(o, NULL, NULL);
	assert_non_null(b);
	/* SOA: MNAME and RNAME both the origin, then five numbers. */
	memcpy(rd, o, olen);
	memcpy(rd + olen, o, olen);
	uint8_t *p = rd + 2 * olen;
	const uint32_t nums[5] = { serial, 7200, 3600, 1209600, 300 };
	for (int i = 0; i < 5; i++)
		wire_put_u32(p + 4 * i, nums[i]);
	assert_int_equal(zone_builder_add(b, o, DNS_TYPE_SOA, 3600, rd,
					  (uint16_t)(2 * olen + 20), NULL, 0), 0);
	assert_int_equal(zone_builder_add(b, o, DNS_TYPE_NS, 3600, o,
					  (uint16_t)olen, NULL, 0), 0);
	struct zone *z = NULL;
	assert_int_equal(zone_builder_finish(b, &z), 0);
	assert_int_equal(z->serial, serial);
	return z;
}

static const char *found(const struct zone_set *set, const char *qname)
{
	uint8_t q[DNS_NAME_MAXLEN];
	wire(q, NULL, qname);
	const struct zone *z = zone_set_find(set, q);
	return z != NULL ? z->name_str : "(none)";
}

static void longest_match(void **state)
{
	(void)state;
	struct zone *zones[] = {
		make_zone("sub.example.", 1),
		make_zone("example.", 2),
		make_zone("example.com.", 3),
	};
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(zones, 3, &set), 0);
	assert_int_equal(set->count, 3);
	/* Canonical order of the apexes. */
	assert_ptr_equal(set->zones[0], zones[2]);
	assert_ptr_equal(set->zones[1], zones[1]);
	assert_ptr_equal(set->zones[2], zones[0]);

	assert_string_equal(found(set, "sub.example."), "sub.example.");
	assert_string_equal(found(set, "a.b.sub.example."), "sub.example.");
	assert_string_equal(found(set, "example."), "example.");
	assert_string_equal(found(set, "www.example."), "example.");
	assert_string_equal(found(set, "sub2.example."), "example.");
	assert_string_equal(found(set, "x.example.com."), "example.com.");
	assert_string_equal(found(set, "com."), "(none)");
	assert_string_equal(found(set, "ample."), "(none)");
	assert_string_equal(found(set, "example.org."), "(none)");
	assert_string_equal(found(set, "."), "(none)");

	uint8_t n[DNS_NAME_MAXLEN];
	wire(n, NULL, "sub.example.");
	assert_ptr_equal(zone_set_get(set, n), zones[0]);
	wire(n, NULL, "www.sub.example.");
	assert_null(zone_set_get(set, n));
	wire(n, NULL, "example.");
	assert_ptr_equal(zone_set_get(set, n), zones[1]);
	zone_set_free(set);
}

static void root_zone(void **state)
{
	(void)state;
	struct zone *zones[] = { make_zone(".", 1), make_zone("org.", 2) };
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(zones, 2, &set), 0);
	assert_string_equal(found(set, "."), ".");
	assert_string_equal(found(set, "example.com."), ".");
	assert_string_equal(found(set, "example.org."), "org.");
	zone_set_free(set);
}

static void empty_set(void **state)
{
	(void)state;
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(NULL, 0, &set), 0);
	assert_int_equal(set->count, 0);
	assert_string_equal(found(set, "example."), "(none)");
	assert_string_equal(found(set, "."), "(none)");
	uint8_t n[DNS_NAME_MAXLEN];
	wire(n, NULL, "example.");
	assert_null(zone_set_get(set, n));
	zone_set_free(set);
	zone_set_free(NULL);
}

static void duplicate_apex(void **state)
{
	(void)state;
	struct zone *zones[] = { make_zone("example.", 1),
				 make_zone("other.", 1),
				 make_zone("EXAMPLE.", 2) };
	struct zone_set *set = (struct zone_set *)zones;	/* untouched */
	assert_int_equal(zone_set_new(zones, 3, &set), ANYDNS_EEXIST);
	assert_ptr_equal(set, (struct zone_set *)zones);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(zones[i]->refs, 0);
		zone_free(zones[i]);
	}
}

/* A zone in two sets lives until the second is freed (ASan would catch
 * a use after free or a leak). */
static void refcounts(void **state)
{
	(void)state;
	struct zone *shared = make_zone("example.", 1);
	struct zone *only_a = make_zone("a.example.", 1);
	struct zone *only_b = make_zone("b.example.", 1);
	struct zone *in_a[] = { shared, only_a };
	struct zone *in_b[] = { only_b, shared };
	struct zone_set *a = NULL, *b = NULL;
	assert_int_equal(zone_set_new(in_a, 2, &a), 0);
	assert_int_equal(shared->refs, 1);
	assert_int_equal(zone_set_new(in_b, 2, &b), 0);
	assert_int_equal(shared->refs, 2);
	assert_int_equal(only_a->refs, 1);
	zone_set_free(a);
	assert_int_equal(shared->refs, 1);
	assert_string_equal(found(b, "x.example."), "example.");
	assert_string_equal(found(b, "x.a.example."), "example.");
	assert_string_equal(found(b, "x.b.example."), "b.example.");
	zone_set_free(b);
}

/* Views: subsets served on some addresses. A view holds the named zones
 * the set has (any case, repeats once), shares them by reference, answers
 * nothing else, and goes with its set. */
static void views(void **state)
{
	(void)state;
	struct zone *zones[] = {
		make_zone("example.com.", 1),
		make_zone("example.net.", 2),
		make_zone("eu.example.", 3),
	};
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(zones, 3, &set), 0);
	uint8_t eu[DNS_NAME_MAXLEN], com[DNS_NAME_MAXLEN],
		gone[DNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(dns_name_from_str(eu, &len, "EU.example.", NULL), 0);
	assert_int_equal(dns_name_from_str(com, &len, "example.com.", NULL), 0);
	assert_int_equal(dns_name_from_str(gone, &len, "failed.example.", NULL), 0);
	const uint8_t *v0[] = { eu, gone, eu }, *v1[] = { com, eu };
	struct zone_view_def defs[] = { { v0, 3 }, { v1, 2 }, { NULL, 0 } };
	assert_int_equal(zone_set_views(set, defs, 3), 0);
	assert_int_equal(set->view_count, 3);
	assert_int_equal(zones[2]->refs, 3);
	assert_int_equal(zones[1]->refs, 1);

	const struct zone_set *v = zone_set_view(set, 0);
	assert_int_equal(v->count, 1);
	assert_string_equal(found(v, "www.eu.example."), "eu.example.");
	assert_string_equal(found(v, "www.example.com."), "(none)");
	v = zone_set_view(set, 1);
	assert_int_equal(v->count, 2);
	assert_string_equal(found(v, "www.example.com."), "example.com.");
	assert_string_equal(found(v, "www.example.net."), "(none)");
	v = zone_set_view(set, 2);
	assert_int_equal(v->count, 0);
	assert_string_equal(found(v, "www.example.com."), "(none)");
	/* No such view: the whole set. */
	assert_ptr_equal(zone_set_view(set, 3), set);
	assert_ptr_equal(zone_set_view(set, ZONE_VIEW_ALL), set);
	assert_string_equal(found(zone_set_view(set, ZONE_VIEW_ALL),
				  "www.example.net."), "example.net.");

	/* Replacing the views drops the old ones' references. */
	assert_int_equal(zone_set_views(set, defs + 1, 1), 0);
	assert_int_equal(set->view_count, 1);
	assert_int_equal(zones[2]->refs, 2);
	assert_int_equal(zones[0]->refs, 2);
	zone_set_free(set);
}

struct reader {
	struct zone_snapshot *snap;
	volatile int stop;
	unsigned long reads, misses, regressions;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t q[DNS_NAME_MAXLEN];
	size_t len;
	dns_name_from_str(q, &len, "www.example.", NULL);
	rcu_register_thread();
	uint32_t last = 0;
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		rcu_read_lock();
		const struct zone_set *set = zone_snapshot_read(r->snap);
		const struct zone *z = zone_set_find(set, q);
		if (z == NULL) {
			r->misses++;
		} else {
			/* Touch the zone's memory: freed early, ASan says so. */
			uint32_t serial = z->serial;
			if (serial < last || z->soa == NULL ||
			    zone_node_rrset(z->apex, DNS_TYPE_SOA) != z->soa)
				r->regressions++;
			last = serial;
		}
		rcu_read_unlock();
		r->reads++;
	}
	rcu_unregister_thread();
	return NULL;
}

static void snapshot(void **state)
{
	(void)state;
	struct zone_snapshot snap;
	assert_int_equal(zone_snapshot_init(&snap), 0);
	rcu_read_lock();
	assert_int_equal(zone_snapshot_read(&snap)->count, 0);
	rcu_read_unlock();

	struct zone *first = make_zone("example.", 1);
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(&first, 1, &set), 0);
	zone_snapshot_publish(&snap, set);

	struct reader r = { .snap = &snap };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	unsigned published = 0;
	struct zone *other = make_zone("other.", 1);
	for (uint32_t serial = 2;; serial++) {
		/* A new example. each time; other. shared across sets. */
		struct zone *zones[] = { make_zone("example.", serial), other };
		assert_int_equal(zone_set_new(zones, 2, &set), 0);
		zone_snapshot_publish(&snap, set);
		published++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double el = (double)(now.tv_sec - start.tv_sec) +
			    (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if ((el > 0.3 && r.reads > 1000) || el > 0.9)
			break;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message("      %u publishes, %lu reads\n", published, r.reads);
	assert_true(published > 10);
	assert_true(r.reads > 0);
	assert_int_equal(r.misses, 0);
	assert_int_equal(r.regressions, 0);
	assert_int_equal(other->refs, 1);

	rcu_read_lock();
	const struct zone_set *cur = zone_snapshot_read(&snap);
	assert_int_equal(cur->count, 2);
	assert_string_equal(found(cur, "www.example."), "example.");
	assert_int_equal(zone_set_find(cur, (const uint8_t *)"\007example")->serial,
			 published + 1);
	rcu_read_unlock();
	zone_snapshot_destroy(&snap);
	assert_null(snap.current);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(longest_match),
		cmocka_unit_test(root_zone),
		cmocka_unit_test(empty_set),
		cmocka_unit_test(duplicate_apex),
		cmocka_unit_test(refcounts),
		cmocka_unit_test(views),
		cmocka_unit_test(snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
