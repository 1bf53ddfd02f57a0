/*
 * What the zone version tests (test_zone_diff.c, test_zone_serial.c)
 * share, as static inline functions because every .c file beside the
 * tests is linked into every test: zones and diffs made from master-file
 * text (parsed with libzscanner, so cases stay readable), and a
 * comparison of two zones' whole content, node by node and octet by
 * octet. Included after <cmocka.h>.
 */
#ifndef ANYDNS_TESTS_UNIT_ZONE_DIFF_TEST_H
#define ANYDNS_TESTS_UNIT_ZONE_DIFF_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include "zone/zone.h"

#define ZT_ORIGIN "example."

static inline void zt_wire(uint8_t *dst, const char *s)
{
	size_t len;
	assert_int_equal(dns_name_from_str(dst, &len, s, NULL), 0);
}

struct zt_feed {
	struct zone_builder *zb;	/* records go here, or */
	struct zone_diff_builder *db;	/* here */
	bool added;
	int errors;
};

static inline void zt_feed_record(zs_scanner_t *s)
{
	struct zt_feed *f = s->process.data;
	int ret = f->zb != NULL
		? zone_builder_add(f->zb, s->r_owner, s->r_type, s->r_ttl,
				   s->r_data, (uint16_t)s->r_data_length, NULL, 0)
		: zone_diff_builder_add(f->db, f->added, s->r_owner, s->r_type,
					s->r_ttl, s->r_data,
					(uint16_t)s->r_data_length);
	if (ret != 0)
		f->errors++;
}

static inline void zt_feed_error(zs_scanner_t *s)
{
	struct zt_feed *f = s->process.data;
	print_error("zone text line %lu: %s\n", (unsigned long)s->line_counter,
		    zs_strerror(s->error.code));
	f->errors++;
}

/* Feeds the records of a zone text (origin example., TTL 3600). */
static inline void zt_feed_text(struct zt_feed *f, const char *text)
{
	static zs_scanner_t s;
	assert_int_equal(zs_init(&s, ZT_ORIGIN, DNS_CLASS_IN, 3600), 0);
	assert_int_equal(zs_set_input_string(&s, text, strlen(text)), 0);
	assert_int_equal(zs_set_processing(&s, zt_feed_record, zt_feed_error,
					   f), 0);
	zs_parse_all(&s);
	zs_deinit(&s);
	assert_int_equal(f->errors, 0);
}

/* A zone of example. from text; fails the test when it does not build. */
static inline struct zone *zt_zone(const char *text)
{
	uint8_t o[DNS_NAME_MAXLEN];
	zt_wire(o, ZT_ORIGIN);
	struct zt_feed f = { .zb = zone_builder_new(o, NULL, NULL) };
	assert_non_null(f.zb);
	zt_feed_text(&f, text);
	struct zone *z = NULL;
	assert_int_equal(zone_builder_finish(f.zb, &z), 0);
	return z;
}

/* A diff from the text of its removed and its added records. */
static inline int zt_diff_try(const char *removed, const char *added,
			      struct zone_diff **out)
{
	struct zt_feed f = { .db = zone_diff_builder_new() };
	assert_non_null(f.db);
	zt_feed_text(&f, removed);
	f.added = true;
	zt_feed_text(&f, added);
	return zone_diff_builder_finish(f.db, out);
}

static inline struct zone_diff *zt_diff(const char *removed, const char *added)
{
	struct zone_diff *d = NULL;
	assert_int_equal(zt_diff_try(removed, added, &d), 0);
	return d;
}

/* Octets of an RRset's records. */
static inline size_t zt_rrset_octets(const struct zone_rrset *rs)
{
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &len))
		;
	return (size_t)(it.pos - rs->rdata);
}

/* Fails unless a and b hold the same names, flags, RRsets, TTLs and
 * records, octet for octet, and the same serial. */
static inline void zt_assert_same(const struct zone *a, const struct zone *b)
{
	char na[DNS_NAME_STRLEN], nb[DNS_NAME_STRLEN];
	assert_int_equal(a->serial, b->serial);
	assert_int_equal(a->rr_count, b->rr_count);
	assert_int_equal(a->node_count, b->node_count);
	assert_int_equal(a->apex_len, b->apex_len);
	assert_memory_equal(a->apex_name, b->apex_name, a->apex_len);
	for (size_t i = 0; i < a->node_count; i++) {
		const struct zone_node *x = a->nodes[i], *y = b->nodes[i];
		dns_name_to_str(na, x->name);
		dns_name_to_str(nb, y->name);
		assert_string_equal(na, nb);
		if (x->flags != y->flags || x->rrset_count != y->rrset_count)
			fail_msg("node %s: flags %u/%u, rrsets %u/%u", na,
				 x->flags, y->flags, x->rrset_count,
				 y->rrset_count);
		for (uint16_t r = 0; r < x->rrset_count; r++) {
			const struct zone_rrset *p = &x->rrsets[r];
			const struct zone_rrset *q = &y->rrsets[r];
			size_t len = zt_rrset_octets(p);
			if (p->type != q->type || p->ttl != q->ttl ||
			    p->count != q->count || len != zt_rrset_octets(q) ||
			    memcmp(p->rdata, q->rdata, len) != 0)
				fail_msg("node %s: RRset %u (type %u/%u, TTL "
					 "%u/%u, %u/%u records) differs", na, r,
					 p->type, q->type, p->ttl, q->ttl,
					 p->count, q->count);
		}
	}
}

/* Fails unless two diffs are the same, octet for octet. */
static inline void zt_assert_same_diff(const struct zone_diff *a,
				       const struct zone_diff *b)
{
	assert_int_equal(a->from, b->from);
	assert_int_equal(a->to, b->to);
	assert_int_equal(a->removed, b->removed);
	assert_int_equal(a->added, b->added);
	assert_int_equal(a->added_at, b->added_at);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

#endif
