/*
 * Unit tests for src/zone/zone.c: lookups in a frozen zone (exact match,
 * closest encloser with empty non-terminals, RFC 4592), canonical order and
 * predecessor (RFC 4034 §6.1), RRset search, node flags and pointers, on
 * tests/unit/data/zones/good.zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/log.h"
#include "zone/zone.h"

#define GOOD "tests/unit/data/zones/good.zone"

/* good.zone in canonical order, empty non-terminals included. */
static const char *const canonical[] = {
	"example.",
	"c.example.",
	"b.c.example.",
	"a.b.c.example.",
	"dname.example.",
	"host1.example.",
	"host2.example.",
	"host3.example.",
	"inc.example.",
	"mail.example.",
	"mail2.example.",
	"ns1.example.",
	"ns2.example.",
	"sub.example.",
	"ns.sub.example.",
	"deep.ns.sub.example.",
	"ttl.example.",
	"txt.example.",
	"unk.example.",
	"wild.example.",
	"*.wild.example.",
	"x.wild.example.",
	"www.example.",
	"z.example.",
	"\\001.z.example.",
	"*.z.example.",
};
#define NODES (sizeof(canonical) / sizeof(canonical[0]))

static void wire(uint8_t *dst, size_t *len, const char *s)
{
	size_t l;
	assert_int_equal(dns_name_from_str(dst, &l, s, NULL), 0);
	dns_name_lower(dst);
	if (len != NULL)
		*len = l;
}

static const struct zone_node *find(const struct zone *z, const char *s)
{
	uint8_t n[DNS_NAME_MAXLEN];
	size_t len;
	wire(n, &len, s);
	return zone_find(z, n, len);
}

static const char *node_str(const struct zone_node *n)
{
	static char buf[DNS_NAME_STRLEN];
	dns_name_to_str(buf, n->name);
	return buf;
}

static int setup(void **state)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char err[256];
	struct zone *z = NULL;
	log_set_level(LOG_LVL_ERR);
	wire(origin, NULL, "example.");
	assert_int_equal(zone_load_file(origin, GOOD, &z, err, sizeof(err)), 0);
	*state = z;
	return 0;
}

static int teardown(void **state)
{
	zone_free(*state);
	return 0;
}

static void canonical_order(void **state)
{
	const struct zone *z = *state;
	assert_int_equal(z->node_count, NODES);
	for (size_t i = 0; i < NODES; i++) {
		const struct zone_node *n = z->nodes[i];
		assert_string_equal(node_str(n), canonical[i]);
		assert_int_equal(n->index, i);
		assert_int_equal(n->name_len, dns_name_len(n->name));
		assert_int_equal(n->labels, dns_name_labels(n->name));
		if (i > 0)
			assert_true(dns_name_cmp_canonical(z->nodes[i - 1]->name,
							   n->name) < 0);
	}
	assert_ptr_equal(z->apex, z->nodes[0]);
	assert_string_equal(z->name_str, "example.");
	assert_int_equal(z->apex_len, 9);
	assert_memory_equal(z->apex_name, "\007example", 9);
}

static void exact_find(void **state)
{
	const struct zone *z = *state;
	for (size_t i = 0; i < NODES; i++)
		assert_ptr_equal(find(z, canonical[i]), z->nodes[i]);
	/* Case-insensitive only through the caller lowercasing. */
	assert_ptr_equal(find(z, "WWW.Example."), find(z, "www.example."));
	assert_null(find(z, "nope.example."));
	assert_null(find(z, "example.com."));
	assert_null(find(z, "."));
	assert_null(find(z, "a.b.c.example.org."));
	/* Empty non-terminals are nodes without RRsets. */
	const struct zone_node *ent = find(z, "b.c.example.");
	assert_non_null(ent);
	assert_int_equal(ent->rrset_count, 0);
	assert_null(ent->rrsets);
	assert_int_equal(ent->flags, 0);
	/* The table is at most half full. */
	assert_true(z->node_count * 2 <= z->table_mask + 1);
	size_t used = 0;
	for (size_t i = 0; i <= z->table_mask; i++)
		used += z->table[i] != NULL;
	assert_int_equal(used, NODES);
}

struct ce_case {
	const char *qname;
	const char *encloser;
};

static void closest_encloser(void **state)
{
	const struct zone *z = *state;
	static const struct ce_case cases[] = {
		{ "example.", "example." },
		{ "nothing.example.", "example." },
		{ "a.b.c.example.", "a.b.c.example." },
		{ "q.b.c.example.", "b.c.example." },
		{ "x.y.b.c.example.", "b.c.example." },
		{ "c.example.", "c.example." },
		{ "foo.bar.wild.example.", "wild.example." },
		{ "x.wild.example.", "x.wild.example." },
		{ "y.x.wild.example.", "x.wild.example." },
		{ "x.y.z.example.", "z.example." },
		{ "*.z.example.", "*.z.example." },
		{ "a.*.z.example.", "*.z.example." },
		{ "deep.ns.sub.example.", "deep.ns.sub.example." },
		{ "a.deep.ns.sub.example.", "deep.ns.sub.example." },
		{ "www.sub.example.", "sub.example." },
		{ "a.b.c.d.e.f.g.h.example.", "example." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t q[DNS_NAME_MAXLEN];
		wire(q, NULL, cases[i].qname);
		const struct zone_node *n = zone_closest_encloser(z, q);
		assert_non_null(n);
		assert_string_equal(node_str(n), cases[i].encloser);
	}
}

static void predecessor(void **state)
{
	const struct zone *z = *state;
	assert_ptr_equal(zone_node_prev(z, z->apex), z->nodes[NODES - 1]);
	for (size_t i = 1; i < NODES; i++)
		assert_ptr_equal(zone_node_prev(z, z->nodes[i]), z->nodes[i - 1]);
	assert_string_equal(node_str(zone_node_prev(z, find(z, "inc.example."))),
			    "host3.example.");
}

static void flags_and_pointers(void **state)
{
	const struct zone *z = *state;
	for (size_t i = 0; i < NODES; i++) {
		const struct zone_node *n = z->nodes[i];
		uint16_t want = 0;
		const char *s = canonical[i];
		if (i == 0)
			want = ZONE_NODE_APEX;
		else if (strcmp(s, "sub.example.") == 0)
			want = ZONE_NODE_DELEG;
		else if (strcmp(s, "ns.sub.example.") == 0 ||
			 strcmp(s, "deep.ns.sub.example.") == 0)
			want = ZONE_NODE_NONAUTH;
		else if (strcmp(s, "dname.example.") == 0)
			want = ZONE_NODE_DNAME;
		else if (strcmp(s, "www.example.") == 0)
			want = ZONE_NODE_CNAME;
		else if (s[0] == '*')
			want = ZONE_NODE_WILDCARD;
		assert_int_equal(n->flags, want);
		if (i == 0) {
			assert_null(n->parent);
		} else {
			assert_non_null(n->parent);
			size_t skip = (size_t)n->name[0] + 1;
			assert_int_equal(n->parent->name_len, n->name_len - skip);
			assert_memory_equal(n->parent->name, n->name + skip,
					    n->parent->name_len);
			assert_true(n->parent->index < n->index);
		}
		const char *w = NULL;
		if (strcmp(s, "wild.example.") == 0)
			w = "*.wild.example.";
		else if (strcmp(s, "z.example.") == 0)
			w = "*.z.example.";
		if (w == NULL)
			assert_null(n->wildcard);
		else
			assert_ptr_equal(n->wildcard, find(z, w));
	}
}

static void rrset_lookup(void **state)
{
	const struct zone *z = *state;
	const struct zone_node *apex = z->apex;
	/* Apex: NS MX SOA by type. */
	assert_int_equal(apex->rrset_count, 3);
	assert_int_equal(apex->rrsets[0].type, DNS_TYPE_NS);
	assert_int_equal(apex->rrsets[1].type, DNS_TYPE_SOA);
	assert_int_equal(apex->rrsets[2].type, DNS_TYPE_MX);
	assert_ptr_equal(zone_node_rrset(apex, DNS_TYPE_SOA), &apex->rrsets[1]);
	assert_ptr_equal(z->soa, &apex->rrsets[1]);
	assert_null(zone_node_rrset(apex, DNS_TYPE_A));
	assert_null(zone_node_rrset(apex, DNS_TYPE_TXT));
	assert_null(zone_node_rrset(apex, 0));
	assert_null(zone_node_rrset(find(z, "b.c.example."), DNS_TYPE_A));
	const struct zone_node *w = find(z, "*.wild.example.");
	assert_int_equal(zone_node_rrset(w, DNS_TYPE_TXT)->count, 1);
	assert_int_equal(zone_node_rrset(w, DNS_TYPE_A)->count, 1);
}

/* A hand-made node with many types takes the binary search. */
static void rrset_binary_search(void **state)
{
	(void)state;
	static const uint16_t types[] = { 1, 2, 5, 6, 15, 16, 28, 33, 43, 46,
					  47, 48, 99, 257, 65280 };
	struct zone_rrset rs[sizeof(types) / sizeof(types[0])];
	memset(rs, 0, sizeof(rs));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		rs[i].type = types[i];
	struct zone_node n = { .rrsets = rs,
			       .rrset_count = sizeof(types) / sizeof(types[0]) };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_ptr_equal(zone_node_rrset(&n, types[i]), &rs[i]);
	assert_null(zone_node_rrset(&n, 0));
	assert_null(zone_node_rrset(&n, 3));
	assert_null(zone_node_rrset(&n, 100));
	assert_null(zone_node_rrset(&n, 65535));
	n.rrset_count = 0;
	assert_null(zone_node_rrset(&n, 1));
}

static void free_null(void **state)
{
	(void)state;
	zone_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(canonical_order, setup, teardown),
		cmocka_unit_test_setup_teardown(exact_find, setup, teardown),
		cmocka_unit_test_setup_teardown(closest_encloser, setup, teardown),
		cmocka_unit_test_setup_teardown(predecessor, setup, teardown),
		cmocka_unit_test_setup_teardown(flags_and_pointers, setup, teardown),
		cmocka_unit_test_setup_teardown(rrset_lookup, setup, teardown),
		cmocka_unit_test(rrset_binary_search),
		cmocka_unit_test(free_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
