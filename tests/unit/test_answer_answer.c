/*
 * Unit tests for src/answer/answer.c, the zone algorithm of RFC 1034
 * §4.3.2: positive answers, NODATA and NXDOMAIN with the SOA TTL of RFC
 * 2308 §5, wildcards (RFC 4592), CNAME chains and their limit, DNAME
 * (RFC 6672, YXDOMAIN), referrals with glue (RFC 9471), DS from the parent
 * side (RFC 4035 §3.1.4.1), minimal ANY (RFC 8482) and whole RRsets under
 * truncation (RFC 2181 §9). The cases are in tests/unit/data/answer/
 * cases.txt over the zones beside it; a sweep over UDP payload sizes
 * checks that every RRset is written whole or not at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "answer/internal.h"
#include "answer_cases.h"

#define CASES_FILE AT_DATA "cases.txt"
#define CASES_COUNT 114

static int setup(void **state)
{
	*state = at_zones_load();
	return 0;
}

static int teardown(void **state)
{
	zone_set_free(*state);
	return 0;
}

static void case_file(void **state)
{
	unsigned failed;
	unsigned cases = at_run_file(*state, CASES_FILE, &failed);
	if (failed != 0)
		fail_msg("%u of %u cases in %s failed (details above)", failed,
			 cases, CASES_FILE);
	assert_int_equal(cases, CASES_COUNT);
}

/* Records of section s whose text starts like line's: owner, TTL, class
 * and type (the RRset the line belongs to). */
static unsigned rrset_size(const struct at_resp *r, int s, const char *line)
{
	const char *rd = line;
	for (int field = 0; field < 3 && rd != NULL; field++)
		rd = strchr(rd + 1, ' ');
	size_t key = rd != NULL ? (size_t)(rd - line) : strlen(line);
	unsigned n = 0;
	for (unsigned i = 0; i < r->n[s]; i++)
		if (strncmp(r->rr[s][i], line, key) == 0 &&
		    (r->rr[s][i][key] == ' ' || r->rr[s][i][key] == '\0'))
			n++;
	return n;
}

/*
 * For every UDP payload size from 512 to 1400 octets (and no EDNS), the
 * response against the same query over TCP: every RRset present is whole,
 * without TC the answer and authority sections are the TCP ones, with TC
 * they are a prefix of them (nothing after the RRset that did not fit).
 */
static void whole_rrsets(void **state)
{
	static const char *const queries[] = {
		"big.example. A", "big.example. TXT", "huge.example. AAAA",
		"tobig.example. A", "mxbig.example. MX", "www.fat.example. A",
		"www.sib.example. A", "www.deleg.example. A", "example. NS",
		"todeleg.example. A", "a.drec.example. A", "ch3.example. A",
		"www.child.signed.test. A +dnssec", "host.wild.example. MX",
	};
	struct at_resp *tcp = calloc(1, sizeof(*tcp));
	struct at_resp *udp = calloc(1, sizeof(*udp));
	uint8_t *out = malloc(DNS_MSG_MAXLEN);
	assert_non_null(tcp);
	assert_non_null(udp);
	assert_non_null(out);
	unsigned truncated = 0;

	for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]); qi++) {
		char spec[256];
		struct at_query q;
		struct answer_result res;
		const char *problem;

		for (unsigned size = 511; size <= 1400; size++) {
			/* The same query over TCP, with or without EDNS. */
			if (size <= 512) {
				snprintf(spec, sizeof(spec), "%s +tcp%s", queries[qi],
					 size == 511 ? " +noedns" : "");
				assert_null(at_query_build(&q, spec));
				problem = at_answer(*state, &q, out, &res, tcp);
				if (problem != NULL)
					fail_msg("%s: %s", spec, problem);
				assert_false(res.truncated);
			}
			if (size == 511)
				snprintf(spec, sizeof(spec), "%s +noedns", queries[qi]);
			else
				snprintf(spec, sizeof(spec), "%s +bufsize=%u",
					 queries[qi], size);
			assert_null(at_query_build(&q, spec));
			problem = at_answer(*state, &q, out, &res, udp);
			if (problem != NULL)
				fail_msg("%s: %s", spec, problem);
			truncated += res.truncated;
			for (int s = 1; s < 4; s++) {
				for (unsigned i = 0; i < udp->n[s]; i++) {
					const char *line = udp->rr[s][i];
					if (rrset_size(udp, s, line) != rrset_size(tcp, s, line))
						fail_msg("%s: partial RRset: %s", spec, line);
				}
				if (s == DNS_SECTION_ADDITIONAL)
					continue;
				if (!res.truncated && udp->n[s] != tcp->n[s])
					fail_msg("%s: section %d has %u records without TC, %u over TCP",
						 spec, s, udp->n[s], tcp->n[s]);
				for (unsigned i = 0; i < udp->n[s]; i++)
					if (i >= tcp->n[s] ||
					    strcmp(udp->rr[s][i], tcp->rr[s][i]) != 0)
						fail_msg("%s: section %d record %u differs from TCP",
							 spec, s, i + 1);
			}
			/* Nothing follows an RRset that did not fit. */
			if (res.truncated && udp->n[DNS_SECTION_ANSWER] < tcp->n[DNS_SECTION_ANSWER])
				assert_int_equal(udp->n[DNS_SECTION_AUTHORITY], 0);
		}
	}
	/* The sweep did cross the sizes where truncation starts. */
	assert_true(truncated > 0);
	free(tcp);
	free(udp);
	free(out);
}

/* answer_put_rrset() writes an RRset whole or leaves the message as it
 * was, earlier records included. */
static void put_rrset_whole(void **state)
{
	const struct zone_set *set = *state;
	uint8_t apex[DNS_NAME_MAXLEN], name[DNS_NAME_MAXLEN], buf[1024];
	size_t len;
	assert_int_equal(dns_name_from_str(apex, &len, "example.", NULL), 0);
	const struct zone *z = zone_set_get(set, apex);
	assert_non_null(z);
	assert_int_equal(dns_name_from_str(name, &len, "big.example.", NULL), 0);
	const struct zone_node *node = zone_find(z, name, len);
	assert_non_null(node);
	const struct zone_rrset *rs = zone_node_rrset(node, DNS_TYPE_A);
	assert_non_null(rs);
	assert_int_equal(rs->count, 32);

	struct answer_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	/* The first A writes the owner in full (13 octets) and takes
	 * 13+10+4 = 27 octets, each later one points to it and takes
	 * 2+10+4 = 16: the 32 records need 27 + 31*16 = 523 octets. */
	dns_writer_init(&ctx.w, buf, DNS_HEADER_LEN + 522);
	memset(buf + DNS_HEADER_LEN, 0x5a, sizeof(buf) - DNS_HEADER_LEN);
	assert_int_equal(answer_put_rrset(&ctx, DNS_SECTION_ANSWER, name, rs),
			 ANYDNS_ESPACE);
	assert_int_equal(ctx.w.len, DNS_HEADER_LEN);
	assert_int_equal(ctx.w.count[DNS_SECTION_ANSWER], 0);
	assert_int_equal(ctx.w.compr_n, 0);

	dns_writer_init(&ctx.w, buf, DNS_HEADER_LEN + 523);
	assert_int_equal(answer_put_rrset(&ctx, DNS_SECTION_ANSWER, name, rs), 0);
	assert_int_equal(ctx.w.len, DNS_HEADER_LEN + 523);
	assert_int_equal(ctx.w.count[DNS_SECTION_ANSWER], 32);

	/* A second RRset that does not fit leaves the first one alone. */
	const struct zone_rrset *txt = zone_node_rrset(node, DNS_TYPE_TXT);
	assert_non_null(txt);
	dns_writer_init(&ctx.w, buf, 600);
	assert_int_equal(answer_put_rrset(&ctx, DNS_SECTION_ANSWER, name, rs), 0);
	size_t before = ctx.w.len;
	assert_int_equal(answer_put_rrset(&ctx, DNS_SECTION_ANSWER, name, txt),
			 ANYDNS_ESPACE);
	assert_int_equal(ctx.w.len, before);
	assert_int_equal(ctx.w.count[DNS_SECTION_ANSWER], 32);
}

/* A placeholder for a zone we cannot serve (an expired secondary) is
 * answered SERVFAIL without AA or records, for any name in it, while the
 * zones around it answer as before. */
static void servfail_zone(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t len;
	struct zone *zones[2];
	assert_int_equal(dns_name_from_str(apex, &len, "sub.example.", NULL), 0);
	assert_int_equal(zone_new_servfail(apex, &zones[0]), 0);
	char err[256];
	assert_int_equal(dns_name_from_str(apex, &len, "example.", NULL), 0);
	assert_int_equal(zone_load_file(apex, AT_DATA "example.zone",
					&zones[1], err, sizeof(err)), 0);
	struct zone_set *set;
	assert_int_equal(zone_set_new(zones, 2, &set), 0);
	static const struct {
		const char *spec;
		uint16_t rcode;
		uint16_t aa;
	} cases[] = {
		{ "sub.example. SOA", DNS_RCODE_SERVFAIL, 0 },
		{ "www.Sub.example. A +tcp", DNS_RCODE_SERVFAIL, 0 },
		{ "a.b.sub.example. TXT +noedns", DNS_RCODE_SERVFAIL, 0 },
		{ "example. SOA", DNS_RCODE_NOERROR, DNS_FLAG_AA },
		{ "nothere.test. A", DNS_RCODE_REFUSED, 0 },
	};
	struct at_resp *r = calloc(1, sizeof(*r));
	uint8_t *out = malloc(DNS_MSG_MAXLEN);
	assert_non_null(r);
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct at_query q;
		struct answer_result res;
		assert_null(at_query_build(&q, cases[i].spec));
		const char *problem = at_answer(set, &q, out, &res, r);
		if (problem != NULL)
			fail_msg("%s: %s", cases[i].spec, problem);
		if (res.rcode != cases[i].rcode)
			fail_msg("%s: rcode %u", cases[i].spec, res.rcode);
		assert_int_equal(r->flags & DNS_FLAG_AA, cases[i].aa);
		if (cases[i].rcode == DNS_RCODE_SERVFAIL) {
			assert_int_equal(r->n[DNS_SECTION_ANSWER], 0);
			assert_int_equal(r->n[DNS_SECTION_AUTHORITY], 0);
			assert_int_equal(r->n[DNS_SECTION_ADDITIONAL], 0);
		}
	}
	free(r);
	free(out);
	zone_set_free(set);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(case_file),
		cmocka_unit_test(whole_rrsets),
		cmocka_unit_test(put_rrset_whole),
		cmocka_unit_test(servfail_zone),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
