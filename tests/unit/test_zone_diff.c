/*
 * Unit tests for src/zone/diff.c and diff_apply.c: the diff builder and
 * its ordering checks (RFC 1995 §4: the old SOA first, then the removed
 * records, the new SOA, then the added ones), the diff of two versions
 * against the diff expected for a table of changes (records, TTLs, names,
 * delegations, RDATA case), applying it back (the result equal to the new
 * version record for record), applying errors, condensing a chain into the
 * diff of its two ends, a zone's history, and the same properties over
 * random versions (the seed is printed on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "zone/zone.h"
#include "zone_diff_test.h"

#define SOA(n) "@ 3600 SOA ns1 hostmaster " #n " 7200 900 1209600 300\n"

#define BASE \
	"@ NS ns1\n" \
	"@ NS ns2\n" \
	"ns1 A 192.0.2.53\n" \
	"ns2 A 192.0.2.54\n" \
	"www 300 A 192.0.2.1\n" \
	"www 300 A 192.0.2.2\n" \
	"mail MX 10 mail\n" \
	"mail A 192.0.2.25\n" \
	"sub NS ns.sub\n" \
	"ns.sub A 192.0.2.99\n"

/* ---- The diff builder ------------------------------------------------------ */

static void builder_layout(void **state)
{
	(void)state;
	struct zone_diff *d = zt_diff("EXAMPLE. 3600 SOA ns1 hostmaster 1 2 3 4 5\n"
				      "WWW.Example. 300 A 192.0.2.1\n",
				      "example. 3600 SOA ns1 hostmaster 2 2 3 4 5\n"
				      "www 600 A 192.0.2.7\n"
				      "new TXT \"x\"\n");
	assert_int_equal(d->from, 1);
	assert_int_equal(d->to, 2);
	assert_int_equal(d->removed, 2);
	assert_int_equal(d->added, 3);
	assert_int_equal(d->refs, 1);
	assert_ptr_equal(d->data, (const uint8_t *)(d + 1));

	static const struct {
		const char *owner;
		uint16_t type;
		uint32_t ttl;
		uint16_t rdlen;
	} want[] = {
		{ "example.", DNS_TYPE_SOA, 3600, 53 },
		{ "www.example.", DNS_TYPE_A, 300, 4 },
		{ "example.", DNS_TYPE_SOA, 3600, 53 },
		{ "www.example.", DNS_TYPE_A, 600, 4 },
		{ "new.example.", DNS_TYPE_TXT, 3600, 2 },
	};
	const uint8_t *pos = d->data, *end = d->data + d->len;
	struct zone_diff_rr rr;
	size_t k = 0;
	for (const uint8_t *at = pos; zone_diff_rr_next(&pos, end, &rr);
	     at = pos, k++) {
		assert_true(k < 5);
		if (k == 2)
			assert_int_equal(at - d->data, d->added_at);
		uint8_t name[DNS_NAME_MAXLEN];
		zt_wire(name, want[k].owner);
		assert_memory_equal(rr.owner, name, dns_name_len(name));
		assert_int_equal(rr.type, want[k].type);
		assert_int_equal(rr.ttl, want[k].ttl);
		assert_int_equal(rr.rdlen, want[k].rdlen);
		/* class IN on the wire */
		assert_int_equal(wire_get_u16(rr.owner + dns_name_len(name) + 2),
				 DNS_CLASS_IN);
	}
	assert_int_equal(k, 5);
	assert_ptr_equal(pos, end);
	/* A cut end stops the walk inside the data. */
	pos = d->data;
	assert_true(zone_diff_rr_next(&pos, d->data + d->added_at, &rr));
	assert_true(zone_diff_rr_next(&pos, d->data + d->added_at, &rr));
	assert_false(zone_diff_rr_next(&pos, d->data + d->added_at, &rr));
	pos = d->data;
	assert_false(zone_diff_rr_next(&pos, d->data + 20, &rr));

	zone_diff_ref(d);
	assert_int_equal(d->refs, 2);
	zone_diff_unref(d);
	assert_int_equal(d->refs, 1);
	zone_diff_unref(d);	/* freed: ASan would see a leak otherwise */
	zone_diff_unref(NULL);
}

static void builder_errors(void **state)
{
	(void)state;
	static const struct {
		const char *name, *removed, *added;
		int want;
	} cases[] = {
		{ "minimal", SOA(1), SOA(2), 0 },
		{ "same serial", SOA(1), SOA(1), 0 },
		{ "no removed", "", SOA(2), ANYDNS_EXFR },
		{ "no added", SOA(1), "", ANYDNS_EXFR },
		{ "nothing", "", "", ANYDNS_EXFR },
		{ "removed not SOA first", "www A 192.0.2.1\n" SOA(1), SOA(2),
		  ANYDNS_EXFR },
		{ "added not SOA first", SOA(1), "www A 192.0.2.1\n" SOA(2),
		  ANYDNS_EXFR },
		{ "second removed SOA", SOA(1) SOA(3), SOA(2), ANYDNS_EXFR },
		{ "second added SOA", SOA(1), SOA(2) SOA(3), ANYDNS_EXFR },
		{ "SOA RDATA cut", "@ TYPE6 \\# 4 00000000\n", SOA(2),
		  ANYDNS_EXFR },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zone_diff *d = NULL;
		int ret = zt_diff_try(cases[i].removed, cases[i].added, &d);
		if (ret != cases[i].want)
			fail_msg("case %s: %d, want %d", cases[i].name, ret,
				 cases[i].want);
		if (ret == 0)
			zone_diff_unref(d);
		else
			assert_null(d);
	}

	/* A removed record after an added one is refused at once. */
	struct zone_diff_builder *b = zone_diff_builder_new();
	assert_non_null(b);
	uint8_t apex[DNS_NAME_MAXLEN], www[DNS_NAME_MAXLEN];
	zt_wire(apex, "example.");
	zt_wire(www, "www.example.");
	static const uint8_t soa[] = { 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1,
				       0, 0, 0, 1, 0, 0, 0, 1 };
	static const uint8_t a[] = { 192, 0, 2, 1 };
	assert_int_equal(zone_diff_builder_add(b, false, apex, DNS_TYPE_SOA, 1,
					       soa, sizeof(soa)), 0);
	assert_int_equal(zone_diff_builder_add(b, true, apex, DNS_TYPE_SOA, 1,
					       soa, sizeof(soa)), 0);
	assert_int_equal(zone_diff_builder_add(b, false, www, DNS_TYPE_A, 1, a,
					       4), ANYDNS_EINVAL);
	assert_int_equal(zone_diff_builder_add(b, true, www, DNS_TYPE_A, 1, a,
					       4), 0);
	struct zone_diff *d = NULL;
	assert_int_equal(zone_diff_builder_finish(b, &d), 0);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->added, 2);
	assert_int_equal(d->from, 9);
	assert_int_equal(d->to, 9);
	zone_diff_unref(d);

	/* Freeing an unfinished builder. */
	b = zone_diff_builder_new();
	assert_non_null(b);
	assert_int_equal(zone_diff_builder_add(b, false, apex, DNS_TYPE_SOA, 1,
					       soa, sizeof(soa)), 0);
	zone_diff_builder_free(b);
	zone_diff_builder_free(NULL);
}

/* ---- Compute and apply: a table of changes -------------------------------- */

struct change_case {
	const char *name;
	const char *old, *new;
	/* What the diff holds after the SOAs, in canonical order. */
	const char *removed, *added;
};

static const struct change_case change_cases[] = {
	{ "serial only", SOA(1) BASE, SOA(2) BASE, "", "" },
	{ "no change at all", SOA(1) BASE, SOA(1) BASE, "", "" },
	{ "record added", SOA(1) BASE, SOA(2) BASE "www 300 A 192.0.2.3\n",
	  "", "www 300 A 192.0.2.3\n" },
	{ "record removed", SOA(1) BASE "www 300 A 192.0.2.3\n", SOA(2) BASE,
	  "www 300 A 192.0.2.3\n", "" },
	{ "TTL changed", SOA(1) BASE "txt 60 TXT a\ntxt 60 TXT b\n",
	  SOA(2) BASE "txt 120 TXT a\ntxt 120 TXT b\n",
	  "txt 60 TXT a\ntxt 60 TXT b\n", "txt 120 TXT a\ntxt 120 TXT b\n" },
	{ "TTL and content changed", SOA(1) BASE "txt 60 TXT a\ntxt 60 TXT b\n",
	  SOA(2) BASE "txt 120 TXT b\ntxt 120 TXT c\n",
	  "txt 60 TXT a\ntxt 60 TXT b\n", "txt 120 TXT b\ntxt 120 TXT c\n" },
	{ "SOA TTL changed", SOA(1) BASE,
	  "@ 60 SOA ns1 hostmaster 2 7200 900 1209600 300\n" BASE, "", "" },
	{ "new name below an empty non-terminal", SOA(1) BASE,
	  SOA(2) BASE "a.b 60 TXT hello\n", "", "a.b 60 TXT hello\n" },
	{ "name deleted", SOA(1) BASE "old A 192.0.2.7\nold TXT gone\n",
	  SOA(2) BASE, "old A 192.0.2.7\nold TXT gone\n", "" },
	{ "type added at a name", SOA(1) BASE,
	  SOA(2) BASE "www AAAA 2001:db8::1\n", "", "www AAAA 2001:db8::1\n" },
	{ "delegation moved", SOA(1) BASE,
	  SOA(2) "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	  "www 300 A 192.0.2.1\nwww 300 A 192.0.2.2\nmail MX 10 mail\n"
	  "mail A 192.0.2.25\nsub NS ns2.sub\nns2.sub A 192.0.2.98\n",
	  "sub NS ns.sub\nns.sub A 192.0.2.99\n",
	  "sub NS ns2.sub\nns2.sub A 192.0.2.98\n" },
	{ "delegation added", SOA(1) BASE,
	  SOA(2) BASE "dept NS ns.dept\ndept DS 1 8 2 "
	  "0000000000000000000000000000000000000000000000000000000000000000\n"
	  "ns.dept A 192.0.2.80\n",
	  "", "dept NS ns.dept\ndept DS 1 8 2 "
	  "0000000000000000000000000000000000000000000000000000000000000000\n"
	  "ns.dept A 192.0.2.80\n" },
	{ "delegation removed with its glue", SOA(1) BASE,
	  SOA(2) "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	  "www 300 A 192.0.2.1\nwww 300 A 192.0.2.2\nmail MX 10 mail\n"
	  "mail A 192.0.2.25\n",
	  "sub NS ns.sub\nns.sub A 192.0.2.99\n", "" },
	{ "apex NS changed", SOA(1) BASE,
	  SOA(2) "@ NS ns1\n@ NS ns3\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	  "www 300 A 192.0.2.1\nwww 300 A 192.0.2.2\nmail MX 10 mail\n"
	  "mail A 192.0.2.25\nsub NS ns.sub\nns.sub A 192.0.2.99\n",
	  "@ NS ns2\n", "@ NS ns3\n" },
	{ "RDATA case changed", SOA(1) BASE "mx2 MX 10 Mail\n",
	  SOA(2) BASE "mx2 MX 10 MAIL\n", "mx2 MX 10 Mail\n",
	  "mx2 MX 10 MAIL\n" },
	{ "owner case is no change", SOA(1) BASE "Up A 192.0.2.5\n",
	  SOA(2) BASE "uP A 192.0.2.5\n", "", "" },
	{ "wildcard and CNAME", SOA(1) BASE "* TXT any\nalias CNAME www\n",
	  SOA(2) BASE "* TXT every\nalias CNAME mail\n",
	  "* TXT any\nalias CNAME www\n", "* TXT every\nalias CNAME mail\n" },
	{ "many at once", SOA(1) BASE "a TXT 1\nz TXT 26\n",
	  SOA(2) "@ NS ns1\n@ NS ns2\n@ TXT apex\nns1 A 192.0.2.53\n"
	  "ns2 A 192.0.2.54\nwww 300 A 192.0.2.2\nwww 300 A 192.0.2.4\n"
	  "mail MX 10 mail\nmail A 192.0.2.25\nsub NS ns.sub\n"
	  "ns.sub A 192.0.2.99\nb TXT 2\nz TXT 26\nzz TXT 27\n",
	  "a TXT 1\nwww 300 A 192.0.2.1\n",
	  "@ TXT apex\nb TXT 2\nwww 300 A 192.0.2.4\nzz TXT 27\n" },
};

/* Old SOA, then removed, in one text. */
static char *cat(const char *soa_of, const char *rest)
{
	/* The SOA line of a version is its first line. */
	size_t soa_len = (size_t)(strchr(soa_of, '\n') + 1 - soa_of);
	size_t n = soa_len + strlen(rest) + 1;
	char *s = malloc(n);
	assert_non_null(s);
	memcpy(s, soa_of, soa_len);
	strcpy(s + soa_len, rest);
	return s;
}

static void check_roundtrip(const char *name, const struct zone *a,
			    const struct zone *b, struct zone_diff *d)
{
	char err[256] = "unset";
	struct zone *r = NULL;
	int ret = zone_diff_apply(a, &d, 1, &r, err, sizeof(err));
	if (ret != 0)
		fail_msg("case %s: apply %d: %s", name, ret, err);
	zt_assert_same(r, b);
	assert_null(r->source);
	zone_free(r);

	/* One diff condensed is that diff. */
	struct zone_diff *c = NULL;
	assert_int_equal(zone_diff_condense(&d, 1, &c), 0);
	zt_assert_same_diff(c, d);
	zone_diff_unref(c);
}

static void compute_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *t = &change_cases[i];
		print_message("case %s\n", t->name);
		struct zone *a = zt_zone(t->old), *b = zt_zone(t->new);
		char *rem = cat(t->old, t->removed), *add = cat(t->new, t->added);
		struct zone_diff *want = zt_diff(rem, add);
		free(rem);
		free(add);

		struct zone_diff *d = NULL;
		assert_int_equal(zone_diff_compute(a, b, &d), 0);
		zt_assert_same_diff(d, want);
		assert_int_equal(d->refs, 1);
		check_roundtrip(t->name, a, b, d);

		/* And the way back. */
		struct zone_diff *back = NULL;
		assert_int_equal(zone_diff_compute(b, a, &back), 0);
		assert_int_equal(back->removed, d->added);
		assert_int_equal(back->added, d->removed);
		check_roundtrip(t->name, b, a, back);

		zone_diff_unref(back);
		zone_diff_unref(d);
		zone_diff_unref(want);
		zone_free(a);
		zone_free(b);
	}
}

static void compute_servfail(void **state)
{
	(void)state;
	struct zone *a = zt_zone(SOA(1) BASE), *sf = NULL;
	uint8_t apex[DNS_NAME_MAXLEN];
	zt_wire(apex, "example.");
	assert_int_equal(zone_new_servfail(apex, &sf), 0);
	struct zone_diff *d = NULL;
	assert_int_equal(zone_diff_compute(sf, a, &d), ANYDNS_EINVAL);
	assert_int_equal(zone_diff_compute(a, sf, &d), ANYDNS_EINVAL);
	assert_null(d);
	struct zone *r = NULL;
	char err[128];
	assert_int_equal(zone_diff_apply(sf, NULL, 0, &r, err, sizeof(err)),
			 ANYDNS_EXFR);
	assert_null(r);
	zone_free(sf);
	zone_free(a);
}

/* ---- Apply errors -------------------------------------------------------------- */

static void apply_errors(void **state)
{
	(void)state;
	static const struct {
		const char *name, *removed, *added;
		int want;
		const char *err;
	} cases[] = {
		{ "removed record missing", SOA(1) "www 300 A 192.0.2.9\n", SOA(2),
		  ANYDNS_EXFR, "diff 1 -> 2: removed record not in the zone: "
		  "www.example. A" },
		{ "removed name missing", SOA(1) "nope TXT x\n", SOA(2),
		  ANYDNS_EXFR, "diff 1 -> 2: removed record not in the zone: "
		  "nope.example. TXT" },
		{ "removed twice", SOA(1) "www A 192.0.2.1\nwww A 192.0.2.1\n",
		  SOA(2), ANYDNS_EXFR, "diff 1 -> 2: removed record not in the "
		  "zone: www.example. A" },
		{ "other SOA removed",
		  "@ SOA other hostmaster 1 7200 900 1209600 300\n", SOA(2),
		  ANYDNS_EXFR, "diff 1 -> 2: removed record not in the zone: "
		  "example. SOA" },
		{ "added record present", SOA(1), SOA(2) "www 300 A 192.0.2.1\n",
		  ANYDNS_EXFR, "diff 1 -> 2: added record already in the zone: "
		  "www.example. A" },
		{ "added record present in other case", SOA(1),
		  SOA(2) "mail MX 10 MAIL.example.\n", ANYDNS_EXFR,
		  "diff 1 -> 2: added record already in the zone: "
		  "mail.example. MX" },
		{ "added twice", SOA(1), SOA(2) "x TXT y\nx TXT y\n", ANYDNS_EXFR,
		  "diff 1 -> 2: added record already in the zone: x.example. TXT" },
		{ "wrong base serial", SOA(5), SOA(6), ANYDNS_EXFR,
		  "diff 5 -> 6 does not follow serial 1" },
		{ "CNAME and other data", SOA(1), SOA(2) "www CNAME mail\n",
		  ANYDNS_EZONE, "serial 2: CNAME and other data" },
		{ "no apex NS left", SOA(1) "@ NS ns1\n@ NS ns2\n", SOA(2),
		  ANYDNS_EZONE, "serial 2: no NS records at the zone apex" },
		{ "record outside the zone", SOA(1), SOA(2) "x.other. A 192.0.2.1\n",
		  ANYDNS_EZONE, "serial 2: record outside the zone" },
		{ "data below a delegation", SOA(1), SOA(2) "x.sub TXT no\n",
		  ANYDNS_EZONE, "serial 2: non-glue record below a delegation" },
	};
	struct zone *base = zt_zone(SOA(1) BASE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zone_diff *d = zt_diff(cases[i].removed, cases[i].added);
		static struct zone sentinel;
		struct zone *out = &sentinel;	/* untouched on error */
		char err[256] = "unset";
		int ret = zone_diff_apply(base, &d, 1, &out, err, sizeof(err));
		if (ret != cases[i].want || strcmp(err, cases[i].err) != 0)
			fail_msg("case %s: %d \"%s\", want %d \"%s\"",
				 cases[i].name, ret, err, cases[i].want,
				 cases[i].err);
		assert_ptr_equal(out, &sentinel);
		/* No room for the reason is fine too. */
		assert_int_equal(zone_diff_apply(base, &d, 1, &out, NULL, 0),
				 cases[i].want);
		zone_diff_unref(d);
	}

	/* A chain that skips a version. */
	struct zone_diff *chain[2] = { zt_diff(SOA(1), SOA(2)),
				       zt_diff(SOA(3), SOA(4)) };
	struct zone *out = NULL;
	char err[256];
	assert_int_equal(zone_diff_apply(base, chain, 2, &out, err, sizeof(err)),
			 ANYDNS_EXFR);
	assert_string_equal(err, "diff 3 -> 4 does not follow serial 2");
	assert_null(out);
	zone_diff_unref(chain[0]);
	zone_diff_unref(chain[1]);

	/* Removing in another case than stored finds the record. */
	struct zone_diff *d = zt_diff(SOA(1) "MAIL mx 10 MAIL.EXAMPLE.\n", SOA(2));
	assert_int_equal(zone_diff_apply(base, &d, 1, &out, err, sizeof(err)), 0);
	uint8_t mail[DNS_NAME_MAXLEN];
	zt_wire(mail, "mail.example.");
	const struct zone_node *n = zone_find(out, mail, dns_name_len(mail));
	assert_non_null(n);
	assert_null(zone_node_rrset(n, DNS_TYPE_MX));
	assert_int_equal(out->rr_count, base->rr_count - 1);
	zone_free(out);
	zone_diff_unref(d);

	/* An empty chain copies the base. */
	assert_int_equal(zone_diff_apply(base, NULL, 0, &out, err, sizeof(err)), 0);
	zt_assert_same(out, base);
	zone_free(out);

	/* A record removed and added again in one diff (its TTL changed) and
	 * an RRset only partly given a new TTL: the new TTL wins. */
	d = zt_diff(SOA(1) "www 300 A 192.0.2.1\n",
		    SOA(2) "www 900 A 192.0.2.1\n");
	assert_int_equal(zone_diff_apply(base, &d, 1, &out, err, sizeof(err)), 0);
	struct zone *want = zt_zone(SOA(2) "@ NS ns1\n@ NS ns2\n"
		"ns1 A 192.0.2.53\nns2 A 192.0.2.54\nwww 900 A 192.0.2.1\n"
		"www 900 A 192.0.2.2\nmail MX 10 mail\nmail A 192.0.2.25\n"
		"sub NS ns.sub\nns.sub A 192.0.2.99\n");
	zt_assert_same(out, want);
	zone_free(want);
	zone_free(out);
	zone_diff_unref(d);
	zone_free(base);
}

/* ---- Chains and condensing ------------------------------------------------- */

static const char *const versions[] = {
	SOA(1) BASE "x1 TXT keep\n",
	/* + x, - www .1, mail A TTL 60 */
	SOA(2) "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	"www 300 A 192.0.2.2\nmail MX 10 mail\nmail 60 A 192.0.2.25\n"
	"sub NS ns.sub\nns.sub A 192.0.2.99\nx1 TXT keep\nx TXT new\n",
	/* - x (cancels), + www .1 (cancels), + y */
	SOA(3) "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	"www 300 A 192.0.2.1\nwww 300 A 192.0.2.2\nmail MX 10 mail\n"
	"mail 60 A 192.0.2.25\nsub NS ns.sub\nns.sub A 192.0.2.99\n"
	"x1 TXT keep\ny TXT new\n",
	/* mail A TTL back (cancels), MX case, - y (cancels), + z, - x1 */
	SOA(4) "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	"www 300 A 192.0.2.1\nwww 300 A 192.0.2.2\nmail MX 10 MAIL\n"
	"mail A 192.0.2.25\nsub NS ns.sub\nns.sub A 192.0.2.99\n"
	"z TXT new\n",
};

static void chain_condense(void **state)
{
	(void)state;
	struct zone *v[4];
	struct zone_diff *d[3];
	for (int i = 0; i < 4; i++)
		v[i] = zt_zone(versions[i]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(zone_diff_compute(v[i], v[i + 1], &d[i]), 0);

	char err[256];
	struct zone *r = NULL;
	assert_int_equal(zone_diff_apply(v[0], d, 3, &r, err, sizeof(err)), 0);
	zt_assert_same(r, v[3]);
	zone_free(r);
	assert_int_equal(zone_diff_apply(v[1], d + 1, 2, &r, err, sizeof(err)), 0);
	zt_assert_same(r, v[3]);
	zone_free(r);

	struct zone_diff *c = NULL, *want = NULL;
	assert_int_equal(zone_diff_condense(d, 3, &c), 0);
	assert_int_equal(zone_diff_compute(v[0], v[3], &want), 0);
	zt_assert_same_diff(c, want);
	/* Spelled out: SOA, x1 and the MX in its old case go, the SOA, the
	 * MX in its new case and z come. */
	struct zone_diff *text = zt_diff(SOA(1) "mail MX 10 mail\nx1 TXT keep\n",
					 SOA(4) "mail MX 10 MAIL\nz TXT new\n");
	zt_assert_same_diff(c, text);
	assert_int_equal(c->refs, 1);
	assert_int_equal(zone_diff_apply(v[0], &c, 1, &r, err, sizeof(err)), 0);
	zt_assert_same(r, v[3]);
	zone_free(r);
	zone_diff_unref(text);
	zone_diff_unref(want);
	zone_diff_unref(c);

	assert_int_equal(zone_diff_condense(d + 1, 2, &c), 0);
	assert_int_equal(zone_diff_compute(v[1], v[3], &want), 0);
	zt_assert_same_diff(c, want);
	zone_diff_unref(want);
	zone_diff_unref(c);

	/* A diff made in any order condenses to canonical order. */
	struct zone_diff *odd = zt_diff(SOA(1) "x1 TXT keep\nmail MX 10 mail\n",
					SOA(4) "z TXT new\nmail MX 10 MAIL\n");
	assert_int_equal(zone_diff_condense(&odd, 1, &c), 0);
	assert_int_equal(zone_diff_compute(v[0], v[3], &want), 0);
	zt_assert_same_diff(c, want);
	zone_diff_unref(want);
	zone_diff_unref(c);
	zone_diff_unref(odd);

	/* Everything cancels: only the SOAs are left. */
	struct zone_diff *back = NULL;
	assert_int_equal(zone_diff_compute(v[3], v[0], &back), 0);
	struct zone_diff *round[4] = { d[0], d[1], d[2], back };
	assert_int_equal(zone_diff_condense(round, 4, &c), 0);
	assert_int_equal(c->removed, 1);
	assert_int_equal(c->added, 1);
	assert_int_equal(c->from, 1);
	assert_int_equal(c->to, 1);
	zone_diff_unref(c);
	zone_diff_unref(back);

	assert_int_equal(zone_diff_condense(d, 0, &c), ANYDNS_EINVAL);
	for (int i = 0; i < 3; i++)
		zone_diff_unref(d[i]);
	for (int i = 0; i < 4; i++)
		zone_free(v[i]);
}

/* ---- History ---------------------------------------------------------------- */

static void history(void **state)
{
	(void)state;
	struct zone_diff *d[3] = {
		zt_diff(SOA(1), SOA(2)), zt_diff(SOA(2), SOA(3)),
		zt_diff(SOA(3), SOA(4)),
	};
	struct zone *z = zt_zone(SOA(4) BASE);
	struct zone_diff *const *chain = NULL;
	size_t n = 99;
	assert_null(z->history);
	assert_int_equal(zone_history_chain(z, 1, &chain, &n), ANYDNS_EJOURNAL);

	assert_int_equal(zone_set_history(z, d, 2), ANYDNS_EINVAL);	/* to 3 */
	struct zone_diff *gap[2] = { d[0], d[2] };
	assert_int_equal(zone_set_history(z, gap, 2), ANYDNS_EINVAL);
	assert_null(z->history);
	assert_int_equal(d[0]->refs, 1);

	assert_int_equal(zone_set_history(z, d, 3), 0);
	assert_non_null(z->history);
	assert_int_equal(z->history->count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(d[i]->refs, 2);
		assert_ptr_equal(z->history->diffs[i], d[i]);
	}

	static const struct {
		uint32_t from;
		int want;
		size_t first, n;
	} cases[] = {
		{ 1, 0, 0, 3 },
		{ 2, 0, 1, 2 },
		{ 3, 0, 2, 1 },
		{ 4, ANYDNS_EJOURNAL, 0, 0 },	/* current */
		{ 5, ANYDNS_EJOURNAL, 0, 0 },	/* newer */
		{ 0, ANYDNS_EJOURNAL, 0, 0 },	/* older than the history */
		{ 77, ANYDNS_EJOURNAL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		chain = NULL;
		n = 99;
		int ret = zone_history_chain(z, cases[i].from, &chain, &n);
		assert_int_equal(ret, cases[i].want);
		if (ret != 0)
			continue;
		assert_ptr_equal(chain, &z->history->diffs[cases[i].first]);
		assert_int_equal(n, cases[i].n);
		assert_int_equal(chain[0]->from, cases[i].from);
		assert_int_equal(chain[n - 1]->to, z->serial);
	}

	/* Replacing drops the old references; clearing too. */
	assert_int_equal(zone_set_history(z, d + 2, 1), 0);
	assert_int_equal(d[0]->refs, 1);
	assert_int_equal(d[2]->refs, 2);
	assert_int_equal(zone_history_chain(z, 2, &chain, &n), ANYDNS_EJOURNAL);
	assert_int_equal(zone_set_history(z, NULL, 0), 0);
	assert_null(z->history);
	assert_int_equal(d[2]->refs, 1);

	/* zone_free() drops them. */
	assert_int_equal(zone_set_history(z, d, 3), 0);
	zone_free(z);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(d[i]->refs, 1);
		zone_diff_unref(d[i]);
	}
}

/* ---- Random versions --------------------------------------------------------- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng >> 33) % n;
}

/* A random version: a subset of a small universe of records, with TTLs
 * that change per RRset and names in RDATA whose case changes. */
static struct zone *random_version(uint32_t serial)
{
	static char text[16384];
	size_t len = (size_t)snprintf(text, sizeof(text),
		"@ 3600 SOA ns1 hostmaster %u 7200 900 1209600 300\n"
		"@ NS ns1\nns1 A 192.0.2.53\n", serial);
	for (unsigned name = 0; name < 8; name++) {
		unsigned ttl_a = rnd(2) ? 300 : 600, ttl_t = rnd(2) ? 60 : 120;
		for (unsigned k = 0; k < 4; k++) {
			if (rnd(2))
				len += (size_t)snprintf(text + len, sizeof(text) - len,
					"n%u.d%u %u A 192.0.2.%u\n", name, name % 3,
					ttl_a, k);
			if (rnd(3) == 0)
				len += (size_t)snprintf(text + len, sizeof(text) - len,
					"n%u.d%u %u TXT t%u\n", name, name % 3,
					ttl_t, k);
			if (rnd(3) == 0)
				len += (size_t)snprintf(text + len, sizeof(text) - len,
					"n%u.d%u MX %u %s%u\n", name, name % 3, k,
					rnd(2) ? "m" : "M", k);
		}
	}
	assert_true(len < sizeof(text));
	return zt_zone(text);
}

static void random_chains(void **state)
{
	(void)state;
	uint64_t seed = (uint64_t)time(NULL);
	rng = seed;
	print_message("random_chains seed %llu\n", (unsigned long long)seed);
	for (int trial = 0; trial < 40; trial++) {
		enum { V = 6 };
		struct zone *v[V];
		struct zone_diff *d[V - 1];
		uint32_t serial = rnd(UINT32_MAX);
		for (int i = 0; i < V; i++)
			v[i] = random_version(serial + (uint32_t)i);
		char err[256];
		for (int i = 0; i + 1 < V; i++) {
			assert_int_equal(zone_diff_compute(v[i], v[i + 1], &d[i]), 0);
			struct zone *r = NULL;
			if (zone_diff_apply(v[i], &d[i], 1, &r, err, sizeof(err)) != 0)
				fail_msg("seed %llu: %s", (unsigned long long)seed, err);
			zt_assert_same(r, v[i + 1]);
			zone_free(r);
		}
		struct zone *r = NULL;
		if (zone_diff_apply(v[0], d, V - 1, &r, err, sizeof(err)) != 0)
			fail_msg("seed %llu: %s", (unsigned long long)seed, err);
		zt_assert_same(r, v[V - 1]);
		zone_free(r);

		struct zone_diff *c = NULL, *want = NULL;
		assert_int_equal(zone_diff_condense(d, V - 1, &c), 0);
		assert_int_equal(zone_diff_compute(v[0], v[V - 1], &want), 0);
		if (c->len != want->len || memcmp(c->data, want->data, c->len) != 0)
			fail_msg("seed %llu trial %d: condensed differs",
				 (unsigned long long)seed, trial);
		zt_assert_same_diff(c, want);
		zone_diff_unref(c);
		zone_diff_unref(want);
		for (int i = 0; i + 1 < V; i++)
			zone_diff_unref(d[i]);
		for (int i = 0; i < V; i++)
			zone_free(v[i]);
	}
}

/* ---- A bigger zone ------------------------------------------------------------ */

/* A zone of n names with one A each, built directly, serial s; extra adds
 * one more record. */
static struct zone *big_zone(unsigned n, uint32_t s, bool extra)
{
	uint8_t apex[DNS_NAME_MAXLEN], name[DNS_NAME_MAXLEN];
	zt_wire(apex, "example.");
	struct zone_builder *b = zone_builder_new(apex, NULL, NULL);
	assert_non_null(b);
	uint8_t soa[64];
	size_t l = 0;
	soa[l++] = 0;	/* MNAME . */
	soa[l++] = 0;	/* RNAME . */
	wire_put_u32(soa + l, s);
	memset(soa + l + 4, 0, 16);
	l += 20;
	assert_int_equal(zone_builder_add(b, apex, DNS_TYPE_SOA, 3600, soa,
					  (uint16_t)l, NULL, 0), 0);
	static const uint8_t ns[] = { 2, 'n', 's', 0 };
	assert_int_equal(zone_builder_add(b, apex, DNS_TYPE_NS, 3600, ns,
					  sizeof(ns), NULL, 0), 0);
	for (unsigned i = 0; i < n + (extra ? 1 : 0); i++) {
		char s_name[32];
		snprintf(s_name, sizeof(s_name), "h%u.example.", i);
		zt_wire(name, s_name);
		uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				 (uint8_t)i };
		assert_int_equal(zone_builder_add(b, name, DNS_TYPE_A, 300, a, 4,
						  NULL, 0), 0);
	}
	struct zone *z = NULL;
	assert_int_equal(zone_builder_finish(b, &z), 0);
	return z;
}

static void big_zone_one_change(void **state)
{
	(void)state;
	enum { N = 50000 };
	struct zone *a = big_zone(N, 10, false), *b = big_zone(N, 11, true);
	struct zone_diff *d = NULL;
	assert_int_equal(zone_diff_compute(a, b, &d), 0);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->added, 2);
	struct zone *r = NULL;
	char err[128];
	assert_int_equal(zone_diff_apply(a, &d, 1, &r, err, sizeof(err)), 0);
	zt_assert_same(r, b);
	assert_int_equal(r->rr_count, N + 3);
	zone_free(r);
	zone_diff_unref(d);
	zone_free(a);
	zone_free(b);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builder_layout),
		cmocka_unit_test(builder_errors),
		cmocka_unit_test(compute_table),
		cmocka_unit_test(compute_servfail),
		cmocka_unit_test(apply_errors),
		cmocka_unit_test(chain_condense),
		cmocka_unit_test(history),
		cmocka_unit_test(random_chains),
		cmocka_unit_test(big_zone_one_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
