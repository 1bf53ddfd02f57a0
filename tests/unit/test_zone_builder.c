/*
 * Unit tests for src/zone/builder.c: the semantic checks (RFC 1034 §4.2.1,
 * RFC 2181 §5.2, §6 and §10.1, RFC 4592 §4.2-4.3, RFC 6672 §2.4, RFC 6895
 * §3.1) as a table of small zones in tests/unit/data/zone-builder/
 * semantic.txt, each compared report by report; and the frozen zone:
 * lowercase owners, RDATA case kept, duplicates and case variants dropped,
 * canonical RDATA order (RFC 4034 §6.3), empty non-terminals, flags, the
 * root zone, the RRset size limit. Records are parsed from text with
 * libzscanner so the cases stay readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include "lib/log.h"
#include "zone/zone.h"

#define SEMANTIC "tests/unit/data/zone-builder/semantic.txt"

struct reports {
	char text[64][160];	/* "LINE E|W message" */
	unsigned n;
	char last_file[16];	/* "(null)" for none */
};

static void collect(void *arg, const char *file, unsigned long line,
		    bool is_error, const char *msg)
{
	struct reports *r = arg;
	snprintf(r->last_file, sizeof(r->last_file), "%s",
		 file != NULL ? file : "(null)");
	if (r->n < 64)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%lu %c %s", line,
			 is_error ? 'E' : 'W', msg);
}

static void wire(uint8_t *dst, size_t *len, const char *s)
{
	size_t l;
	assert_int_equal(dns_name_from_str(dst, &l, s, NULL), 0);
	if (len != NULL)
		*len = l;
}

struct feed {
	struct zone_builder *b;
	int errors;
};

static void feed_record(zs_scanner_t *s)
{
	struct feed *f = s->process.data;
	assert_int_equal(zone_builder_add(f->b, s->r_owner, s->r_type, s->r_ttl,
					  s->r_data, (uint16_t)s->r_data_length,
					  "t", s->line_counter), 0);
}

static void feed_error(zs_scanner_t *s)
{
	struct feed *f = s->process.data;
	print_error("zone text line %lu: %s\n", (unsigned long)s->line_counter,
		    zs_strerror(s->error.code));
	f->errors++;
}

/* Adds the records of a zone text (origin example. unless told). */
static void feed_text(struct zone_builder *b, const char *origin,
		      const char *text)
{
	static zs_scanner_t s;
	struct feed f = { .b = b };
	assert_int_equal(zs_init(&s, origin, DNS_CLASS_IN, 3600), 0);
	assert_int_equal(zs_set_input_string(&s, text, strlen(text)), 0);
	assert_int_equal(zs_set_processing(&s, feed_record, feed_error, &f), 0);
	zs_parse_all(&s);
	zs_deinit(&s);
	assert_int_equal(f.errors, 0);
}

static int build(const char *origin, const char *text, struct reports *r,
		 struct zone **z)
{
	uint8_t o[DNS_NAME_MAXLEN];
	wire(o, NULL, origin);
	memset(r, 0, sizeof(*r));
	struct zone_builder *b = zone_builder_new(o, collect, r);
	assert_non_null(b);
	feed_text(b, origin, text);
	return zone_builder_finish(b, z);
}

static int code_of(const char *s)
{
	if (strcmp(s, "OK") == 0)
		return 0;
	if (strcmp(s, "EZONE") == 0)
		return ANYDNS_EZONE;
	if (strcmp(s, "ENOSOA") == 0)
		return ANYDNS_ENOSOA;
	fail_msg("unknown code %s", s);
	return 1;
}

static void run_case(const char *name, int want, char want_reports[][160],
		     unsigned want_n, const char *text)
{
	struct reports r;
	struct zone *z = NULL;
	int ret = build("example.", text, &r, &z);
	bool same = ret == want && r.n == want_n;
	for (unsigned i = 0; same && i < want_n; i++)
		same = strcmp(r.text[i], want_reports[i]) == 0;
	if (!same) {
		print_error("case %s: returned %d, want %d\n", name, ret, want);
		for (unsigned i = 0; i < r.n; i++)
			print_error("  got:  %s\n", r.text[i]);
		for (unsigned i = 0; i < want_n; i++)
			print_error("  want: %s\n", want_reports[i]);
		fail();
	}
	if (want == 0) {
		assert_non_null(z);
		zone_free(z);
	} else {
		assert_null(z);
	}
}

static void semantic_table(void **state)
{
	(void)state;
	FILE *f = fopen(SEMANTIC, "r");
	assert_non_null(f);
	static char text[8192];
	static char want[16][160];
	char name[64] = "", line[512];
	unsigned want_n = 0, cases = 0;
	int code = 0;
	size_t tlen = 0;
	bool in_case = false;
	for (;;) {
		bool eof = fgets(line, sizeof(line), f) == NULL;
		if (eof || strncmp(line, "== ", 3) == 0) {
			if (in_case) {
				text[tlen] = '\0';
				run_case(name, code, want, want_n, text);
				cases++;
			}
			if (eof)
				break;
			char codestr[16];
			assert_int_equal(sscanf(line + 3, "%63s %15s", name, codestr), 2);
			code = code_of(codestr);
			want_n = 0;
			tlen = 0;
			in_case = true;
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '!') {
			assert_true(want_n < 16);
			size_t n = strlen(line);
			if (n > 0 && line[n - 1] == '\n')
				line[n - 1] = '\0';
			assert_true(strlen(line + 2) < sizeof(want[0]));
			memcpy(want[want_n++], line + 2, strlen(line + 2) + 1);
			continue;
		}
		size_t n = strlen(line);
		assert_true(tlen + n < sizeof(text));
		memcpy(text + tlen, line, n);
		tlen += n;
	}
	fclose(f);
	assert_int_equal(cases, 30);
}

static const struct zone_node *find(const struct zone *z, const char *s)
{
	uint8_t n[DNS_NAME_MAXLEN];
	size_t len;
	wire(n, &len, s);
	dns_name_lower(n);
	return zone_find(z, n, len);
}

#define HEADER "@ SOA ns hm 7 7200 3600 1209600 300\n@ NS ns\nns A 192.0.2.1\n"

static void owners_and_duplicates(void **state)
{
	(void)state;
	struct reports r;
	struct zone *z = NULL;
	assert_int_equal(build("example.", HEADER
			       "MiXeD.Example. PTR Target.EXAMPLE.\n"
			       "mixed PTR target.example.\n"	/* case variant */
			       "mixed PTR TARGET.example.\n"	/* case variant */
			       "mixed PTR other.example.\n"
			       "mixed TXT \"Case\"\n"
			       "mixed TXT \"case\"\n"		/* not in a name */
			       "mixed TXT \"Case\"\n",		/* duplicate */
			       &r, &z), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(z->serial, 7);
	const struct zone_node *n = find(z, "mixed.example.");
	assert_non_null(n);
	assert_memory_equal(n->name, "\005mixed\007example", 15);
	assert_int_equal(n->rrset_count, 2);
	/* PTR: the first of the case variants is kept, as written. */
	const struct zone_rrset *ptr = zone_node_rrset(n, DNS_TYPE_PTR);
	assert_int_equal(ptr->count, 2);
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, ptr);
	assert_true(zone_rr_next(&it, &rd, &len));
	assert_int_equal(len, 15);
	assert_memory_equal(rd, "\005other\007example", 15);
	assert_true(zone_rr_next(&it, &rd, &len));
	assert_int_equal(len, 16);
	assert_memory_equal(rd, "\006Target\007EXAMPLE", 16);
	assert_false(zone_rr_next(&it, &rd, &len));
	/* TXT compares octets: "Case" < "case". */
	const struct zone_rrset *txt = zone_node_rrset(n, DNS_TYPE_TXT);
	assert_int_equal(txt->count, 2);
	zone_rr_iter_init(&it, txt);
	assert_true(zone_rr_next(&it, &rd, &len));
	assert_memory_equal(rd, "\004Case", 5);
	assert_true(zone_rr_next(&it, &rd, &len));
	assert_memory_equal(rd, "\004case", 5);
	assert_int_equal(z->rr_count, 3 + 4);
	zone_free(z);
}

static void nodes_and_flags(void **state)
{
	(void)state;
	struct reports r;
	struct zone *z = NULL;
	assert_int_equal(build("example.", HEADER
			       "a.b.c.d A 192.0.2.2\n"
			       "*.d TXT \"w\"\n"
			       "sub NS ns.sub\n"
			       "x.y.ns.sub A 192.0.2.3\n"
			       "cn CNAME ns\n"
			       "dn DNAME example.net.\n",
			       &r, &z), 0);
	/* Apex, ns, a.b.c.d + 3 empty non-terminals, *.d, sub, ns.sub and
	 * y.ns.sub (empty), x.y.ns.sub, cn, dn. */
	assert_int_equal(z->node_count, 13);
	static const char *const order[] = {
		"example.", "cn.example.", "d.example.", "*.d.example.",
		"c.d.example.", "b.c.d.example.", "a.b.c.d.example.",
		"dn.example.", "ns.example.", "sub.example.",
		"ns.sub.example.", "y.ns.sub.example.", "x.y.ns.sub.example.",
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		char s[DNS_NAME_STRLEN];
		dns_name_to_str(s, z->nodes[i]->name);
		assert_string_equal(s, order[i]);
	}
	const struct zone_node *d = find(z, "d.example.");
	assert_int_equal(d->rrset_count, 0);
	assert_ptr_equal(d->wildcard, find(z, "*.d.example."));
	assert_int_equal(d->wildcard->flags, ZONE_NODE_WILDCARD);
	assert_int_equal(find(z, "sub.example.")->flags, ZONE_NODE_DELEG);
	assert_int_equal(find(z, "ns.sub.example.")->flags, ZONE_NODE_NONAUTH);
	assert_int_equal(find(z, "y.ns.sub.example.")->flags, ZONE_NODE_NONAUTH);
	assert_int_equal(find(z, "x.y.ns.sub.example.")->flags, ZONE_NODE_NONAUTH);
	assert_int_equal(find(z, "cn.example.")->flags, ZONE_NODE_CNAME);
	assert_int_equal(find(z, "dn.example.")->flags, ZONE_NODE_DNAME);
	assert_int_equal(z->apex->flags, ZONE_NODE_APEX);
	assert_int_equal(z->apex->labels, 1);
	assert_int_equal(find(z, "a.b.c.d.example.")->labels, 5);
	assert_ptr_equal(find(z, "a.b.c.d.example.")->parent,
			 find(z, "b.c.d.example."));
	zone_free(z);
}

static void root_zone(void **state)
{
	(void)state;
	struct reports r;
	struct zone *z = NULL;
	assert_int_equal(build(".",
			       ". SOA a.root-servers.net. nstld.verisign-grs.com. "
			       "2024010100 1800 900 604800 86400\n"
			       ". NS a.root-servers.net.\n"
			       "com. NS a.gtld-servers.net.\n"
			       "com. DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE\n"
			       "a.root-servers.net. A 198.41.0.4\n"
			       "a.gtld-servers.net. A 192.5.6.30\n",
			       &r, &z), 0);
	assert_int_equal(r.n, 0);
	assert_string_equal(z->name_str, ".");
	assert_int_equal(z->apex_len, 1);
	assert_int_equal(z->serial, 2024010100);
	/* ., com, net (empty), gtld-servers.net (empty), a.gtld...,
	 * root-servers.net (empty), a.root-servers.net */
	assert_int_equal(z->node_count, 7);
	assert_int_equal(z->apex->labels, 0);
	assert_int_equal(find(z, "com.")->flags, ZONE_NODE_DELEG);
	assert_int_equal(find(z, "net.")->flags, 0);
	uint8_t q[DNS_NAME_MAXLEN];
	wire(q, NULL, "www.example.com.");
	assert_ptr_equal(zone_closest_encloser(z, q), find(z, "com."));
	wire(q, NULL, "org.");
	assert_ptr_equal(zone_closest_encloser(z, q), z->apex);
	zone_free(z);
}

/* count is 16 bits: a bigger RRset cannot be represented. */
static void rrset_too_big(void **state)
{
	(void)state;
	struct reports r;
	memset(&r, 0, sizeof(r));
	uint8_t o[DNS_NAME_MAXLEN], owner[DNS_NAME_MAXLEN];
	wire(o, NULL, "example.");
	wire(owner, NULL, "big.example.");
	struct zone_builder *b = zone_builder_new(o, collect, &r);
	feed_text(b, "example.", HEADER);
	for (uint32_t i = 0; i < 65536; i++) {
		uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };
		assert_int_equal(zone_builder_add(b, owner, DNS_TYPE_A, 60, a, 4,
						  "big", 100 + i), 0);
	}
	struct zone *z = NULL;
	assert_int_equal(zone_builder_finish(b, &z), ANYDNS_EZONE);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "100 E more than 65535 A records at a name");
	assert_string_equal(r.last_file, "big");
	assert_null(z);

	/* 65535 is fine, and a node with many types is searched. */
	memset(&r, 0, sizeof(r));
	b = zone_builder_new(o, collect, &r);
	feed_text(b, "example.", HEADER);
	for (uint32_t i = 0; i < 65535; i++) {
		uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };
		assert_int_equal(zone_builder_add(b, owner, DNS_TYPE_A, 60, a, 4,
						  NULL, 0), 0);
	}
	for (uint16_t t = 65280; t < 65300; t++)
		assert_int_equal(zone_builder_add(b, owner, t, 60, NULL, 0,
						  NULL, 0), 0);
	assert_int_equal(zone_builder_finish(b, &z), 0);
	const struct zone_node *n = find(z, "big.example.");
	assert_int_equal(n->rrset_count, 21);
	assert_int_equal(zone_node_rrset(n, DNS_TYPE_A)->count, 65535);
	assert_int_equal(zone_node_rrset(n, 65290)->type, 65290);
	assert_int_equal(zone_node_rrset(n, 65290)->count, 1);
	assert_null(zone_node_rrset(n, 65300));
	assert_int_equal(z->rr_count, 3 + 65535 + 20);
	zone_free(z);
}

/* Reports without a file, a builder freed unfinished, no callback. */
static void api_edges(void **state)
{
	(void)state;
	uint8_t o[DNS_NAME_MAXLEN], owner[DNS_NAME_MAXLEN];
	wire(o, NULL, "example.");
	wire(owner, NULL, "www.example.org.");
	struct reports r;
	memset(&r, 0, sizeof(r));
	struct zone_builder *b = zone_builder_new(o, collect, &r);
	const uint8_t a[4] = { 192, 0, 2, 1 };
	assert_int_equal(zone_builder_add(b, owner, DNS_TYPE_A, 60, a, 4, NULL, 0), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "0 E record outside the zone");
	assert_string_equal(r.last_file, "(null)");
	feed_text(b, "example.", HEADER "x TXT \"keep me\"\n");
	zone_builder_free(b);	/* ASan checks nothing leaks */
	zone_builder_free(NULL);

	b = zone_builder_new(o, NULL, NULL);
	feed_text(b, "example.", HEADER "x CNAME ns\nx A 192.0.2.9\n");
	struct zone *z = NULL;
	assert_int_equal(zone_builder_finish(b, &z), ANYDNS_EZONE);
	assert_null(z);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(semantic_table),
		cmocka_unit_test(owners_and_duplicates),
		cmocka_unit_test(nodes_and_flags),
		cmocka_unit_test(root_zone),
		cmocka_unit_test(rrset_too_big),
		cmocka_unit_test(api_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
