/*
 * Unit tests for the DNS probe's messages (src/health/probe.c): the query
 * it sends (read back with dns_query_parse()), the presentation form of
 * RDATA it compares (tests/unit/data/health/rdata.txt), and the judge of
 * replies: the expected RCODE and RDATA pass; another RCODE, other RDATA,
 * no matching record and a malformed reply fail with a reason; a reply to
 * another query (ID, QR, question) is ignored. Compressed names in the
 * answer are followed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/internal.h"

#define DATA "tests/unit/data/health/rdata.txt"

static void name(uint8_t *dst, const char *s)
{
	size_t len;
	assert_int_equal(dns_name_from_str(dst, &len, s, NULL), 0);
}

static void query_is_read_back(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAXLEN];
	struct dns_query q;
	name(qn, "www.Example.com.");
	size_t len = health_probe_query(buf, sizeof(buf), 0xbeef, qn,
					DNS_TYPE_AAAA);
	assert_int_equal(len, 12 + 17 + 4 + 11);
	assert_int_equal(dns_query_parse(buf, len, &q), 0);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.flags, 0);	/* a query, RD clear */
	assert_true(q.has_question);
	assert_memory_equal(q.qname, qn, dns_name_len(qn));
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_true(q.has_edns);
	assert_int_equal(q.edns_payload, 1232);
	/* Too small a buffer gives nothing rather than a cut message. */
	assert_int_equal(health_probe_query(buf, 30, 1, qn, DNS_TYPE_A), 0);
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		unsigned v;
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void rdata_table(void **state)
{
	(void)state;
	FILE *f = fopen(DATA, "r");
	assert_non_null(f);
	char line[512];
	unsigned cases = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char type_s[32], hex[300];
		char *arrow = strstr(line, " => ");
		assert_non_null(arrow);
		*arrow = '\0';
		const char *want = arrow + 4;
		assert_int_equal(sscanf(line, "%31s %299s", type_s, hex), 2);
		uint16_t type;
		assert_int_equal(dns_rrtype_from_str(type_s, &type), 0);
		uint8_t rd[160];
		size_t n = unhex(hex, rd);
		/* The RDATA followed by more octets, as inside a message:
		 * the reader must stop at the RDATA's end. */
		uint8_t msg[200];
		memcpy(msg, rd, n);
		memset(msg + n, 0xee, 8);
		struct wire_ctx c;
		wire_init(&c, msg, n + 8);
		char text[HEALTH_TEXT_MAX];
		int ret = health_rdata_text(&c, type, (uint16_t)n, text,
					    sizeof(text));
		if (want[0] == '!') {
			if (ret != ANYDNS_EMALF)
				fail_msg("%s %s: %d '%s', want malformed",
					 type_s, hex, ret, text);
		} else {
			if (ret != 0 || strcmp(text, want) != 0)
				fail_msg("%s %s: %d '%s', want '%s'", type_s,
					 hex, ret, text, want);
			assert_int_equal(wire_offset(&c), n);
		}
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 25);
}

static void rdata_text_space(void **state)
{
	(void)state;
	static const uint8_t a[] = { 192, 0, 2, 80 };
	struct wire_ctx c;
	char small[8];
	wire_init(&c, a, sizeof(a));
	assert_int_equal(health_rdata_text(&c, DNS_TYPE_A, 4, small,
					   sizeof(small)), ANYDNS_ESPACE);
}

/* ---- the judge ------------------------------------------------------------ */

struct reply {
	uint8_t buf[1024];
	size_t len;
	uint8_t qname[DNS_NAME_MAXLEN];
};

/* A response to (qname, qtype) with one record per rdata given of owner
 * owner (NULL: the qname), each of type rtype. */
static void build(struct reply *r, uint16_t id, uint16_t flags,
		  const char *qname, uint16_t qtype, const char *owner,
		  uint16_t rtype, const uint8_t *const *rdata,
		  const uint16_t *rdlen, size_t n)
{
	struct dns_writer w;
	uint8_t own[DNS_NAME_MAXLEN];
	name(r->qname, qname);
	name(own, owner != NULL ? owner : qname);
	dns_writer_init(&w, r->buf, sizeof(r->buf));
	assert_int_equal(dns_writer_question(&w, r->qname, qtype, DNS_CLASS_IN), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, own, rtype,
					       DNS_CLASS_IN, 300, rdata[i],
					       rdlen[i]), 0);
	r->len = dns_writer_finish(&w, id, flags);
}

#define RESP (DNS_FLAG_QR | DNS_FLAG_AA)

static int judge(const struct reply *r, uint16_t id, const char *qname,
		 uint16_t qtype, uint8_t rcode, const char *rdata, char *why)
{
	uint8_t qn[DNS_NAME_MAXLEN];
	name(qn, qname);
	why[0] = '\0';
	return health_probe_judge(r->buf, r->len, id, qn, qtype, rcode, rdata,
				  why, HEALTH_TEXT_MAX);
}

static void judge_rcode_and_rdata(void **state)
{
	(void)state;
	static const uint8_t a80[] = { 192, 0, 2, 80 }, a81[] = { 192, 0, 2, 81 };
	const uint8_t *rd[] = { a81, a80 };
	const uint16_t len[] = { 4, 4 };
	struct reply r;
	char why[HEALTH_TEXT_MAX];

	build(&r, 7, RESP, "www.example.com.", DNS_TYPE_A, NULL, DNS_TYPE_A,
	      rd, len, 2);
	assert_int_equal(judge(&r, 7, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), 0);
	assert_string_equal(why, "NOERROR, 2 answers");
	/* The second record matches; the name is compared case-blind. */
	assert_int_equal(judge(&r, 7, "WWW.example.COM.", DNS_TYPE_A, 0,
			       "192.0.2.80", why), 0);
	assert_string_equal(why, "NOERROR, RDATA 192.0.2.80");
	assert_int_equal(judge(&r, 7, "www.example.com.", DNS_TYPE_A, 0,
			       "192.0.2.9", why), ANYDNS_EMALF);
	assert_string_equal(why, "RDATA 192.0.2.81, expected 192.0.2.9");
	assert_int_equal(judge(&r, 7, "www.example.com.", DNS_TYPE_A,
			       DNS_RCODE_NXDOMAIN, NULL, why), ANYDNS_EMALF);
	assert_string_equal(why, "NOERROR, expected NXDOMAIN");

	/* The answer record must be of the name asked. */
	build(&r, 8, RESP | DNS_RCODE_NOERROR, "www.example.com.", DNS_TYPE_A,
	      "other.example.com.", DNS_TYPE_A, rd, len, 1);
	assert_int_equal(judge(&r, 8, "www.example.com.", DNS_TYPE_A, 0,
			       "192.0.2.81", why), ANYDNS_EMALF);
	assert_string_equal(why, "NOERROR, no answer record");

	build(&r, 9, RESP | DNS_RCODE_REFUSED, "www.example.com.", DNS_TYPE_A,
	      NULL, 0, NULL, NULL, 0);
	assert_int_equal(judge(&r, 9, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EMALF);
	assert_string_equal(why, "REFUSED, expected NOERROR");
	assert_int_equal(judge(&r, 9, "www.example.com.", DNS_TYPE_A,
			       DNS_RCODE_REFUSED, NULL, why), 0);
	assert_string_equal(why, "REFUSED, 0 answers");
}

/* Addresses compare as addresses, names without regard to case or the
 * final dot, and names compressed in the RDATA are followed. */
static void judge_forms(void **state)
{
	(void)state;
	static const uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
	uint8_t ns[DNS_NAME_MAXLEN];
	name(ns, "ns1.example.com.");
	const uint8_t *rd6[] = { six }, *rdns[] = { ns };
	const uint16_t l6[] = { 16 }, lns[] = { (uint16_t)dns_name_len(ns) };
	struct reply r;
	char why[HEALTH_TEXT_MAX];

	build(&r, 1, RESP, "example.com.", DNS_TYPE_AAAA, NULL, DNS_TYPE_AAAA,
	      rd6, l6, 1);
	assert_int_equal(judge(&r, 1, "example.com.", DNS_TYPE_AAAA, 0,
			       "2001:DB8:0:0::53", why), 0);
	assert_string_equal(why, "NOERROR, RDATA 2001:db8::53");

	build(&r, 2, RESP, "example.com.", DNS_TYPE_NS, NULL, DNS_TYPE_NS,
	      rdns, lns, 1);
	/* The writer compressed the NS name against the question. */
	assert_true(r.len < 12 + 13 + 4 + 12 + dns_name_len(ns));
	assert_int_equal(judge(&r, 2, "example.com.", DNS_TYPE_NS, 0,
			       "NS1.example.com.", why), 0);
	assert_int_equal(judge(&r, 2, "example.com.", DNS_TYPE_NS, 0,
			       "ns1.example.com", why), 0);
	assert_int_equal(judge(&r, 2, "example.com.", DNS_TYPE_NS, 0,
			       "ns1.example", why), ANYDNS_EMALF);
	assert_string_equal(why, "RDATA ns1.example.com., expected ns1.example");
}

/* What is not the reply to this query is skipped; what is broken fails. */
static void judge_other_and_broken(void **state)
{
	(void)state;
	static const uint8_t a80[] = { 192, 0, 2, 80 };
	const uint8_t *rd[] = { a80 };
	const uint16_t len[] = { 4 };
	struct reply r;
	char why[HEALTH_TEXT_MAX];

	build(&r, 5, RESP, "www.example.com.", DNS_TYPE_A, NULL, DNS_TYPE_A,
	      rd, len, 1);
	assert_int_equal(judge(&r, 6, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EAGAIN);
	assert_int_equal(judge(&r, 5, "ftp.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EAGAIN);
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_AAAA, 0,
			       NULL, why), ANYDNS_EAGAIN);
	build(&r, 5, DNS_FLAG_AA, "www.example.com.", DNS_TYPE_A, NULL,
	      DNS_TYPE_A, rd, len, 1);
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EAGAIN);

	build(&r, 5, RESP, "www.example.com.", DNS_TYPE_A, NULL, DNS_TYPE_A,
	      rd, len, 1);
	size_t whole = r.len;
	r.len = whole - 2;	/* the RDATA cut */
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_A, 0,
			       "192.0.2.80", why), ANYDNS_EMALF);
	assert_string_equal(why, "malformed RDATA in the answer");
	r.len = 14;		/* the question cut */
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EMALF);
	assert_string_equal(why, "malformed reply (14 octets)");
	r.len = 3;
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EAGAIN);
	r.len = whole;
	r.buf[5] = 2;		/* QDCOUNT 2 */
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_A, 0, NULL,
			       why), ANYDNS_EMALF);
	assert_string_equal(why, "reply with 2 questions");
	r.buf[5] = 1;
	r.buf[7] = 3;		/* ANCOUNT 3, one record there */
	assert_int_equal(judge(&r, 5, "www.example.com.", DNS_TYPE_A, 0,
			       "192.0.2.1", why), ANYDNS_EMALF);
	assert_string_equal(why, "malformed answer section");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_is_read_back),
		cmocka_unit_test(rdata_table),
		cmocka_unit_test(rdata_text_space),
		cmocka_unit_test(judge_rcode_and_rdata),
		cmocka_unit_test(judge_forms),
		cmocka_unit_test(judge_other_and_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
