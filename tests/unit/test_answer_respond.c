/*
 * Unit tests for src/answer/respond.c, the message level of answering: the
 * header and flags (RFC 1035 §4.1.1), NOTIMP and NOTAUTH by opcode and
 * type, FORMERR (RFC 9619 §3), messages that get no answer, EDNS with DO,
 * BADVERS, NSID, keepalive and EXPIRE (RFC 6891, 5001, 7828, 7314), EDE 20
 * on REFUSED (RFC 8914), CHAOS identity (RFC 4892), TSIG BADKEY (RFC 8945)
 * and the UDP size limits (RFC 1035 §4.2.1, RFC 6891 §6.2.5). The cases
 * are in tests/unit/data/answer/respond.txt; the size limits are also
 * swept with output buffers of exactly the allowed size, and mutated
 * queries must still get well-formed responses or none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "answer_cases.h"

#define CASES_FILE AT_DATA "respond.txt"
#define CASES_COUNT 92

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

static void conf_defaults(void **state)
{
	(void)state;
	struct answer_conf conf;
	memset(&conf, 0x5a, sizeof(conf));
	answer_conf_init(&conf);
	assert_null(conf.identity);
	assert_null(conf.version);
	assert_null(conf.nsid);
	assert_int_equal(conf.nsid_len, 0);
	assert_int_equal(conf.udp_max_payload, DNS_EDNS_DEFAULT_PAYLOAD);
	assert_int_equal(conf.tcp_keepalive, 0);
}

/*
 * Over UDP the output buffer only has to hold udp_max_payload octets: give
 * it exactly that (on the heap, where ASan sees every overrun) for many
 * pairs of our payload and the client's, and check the response against
 * the limit of RFC 6891 §6.2.5: the smaller of the two, at least 512.
 */
static void udp_limits(void **state)
{
	static const char *const queries[] = {
		"big.example. A", "big.example. TXT", "huge.example. AAAA",
		"www.fat.example. A", "mxbig.example. MX", "example. SOA +expire",
		"www.example.org. A +nsid", "www.example. A +tsig=key.example.",
		"id.server. TXT class=CH", "www.example. A +ednsver=1 +nsid",
		"a.drec.example. A",
	};
	static const unsigned ours[] = { 512, 600, 1232, 1301, 4096, 65535 };
	static const unsigned theirs[] = {
		0, 100, 511, 512, 513, 540, 541, 551, 552, 553, 600, 1000,
		1231, 1232, 1233, 1300, 1301, 1302, 4096, 65535, 70000,
	};
	struct at_resp *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	unsigned truncated = 0, whole = 0;

	enum {
		NQ = sizeof(queries) / sizeof(queries[0]),
		NO = sizeof(ours) / sizeof(ours[0]),
		NT = sizeof(theirs) / sizeof(theirs[0]),
	};
	for (size_t i = 0; i < NQ * NO * NT; i++) {
		size_t qi = i / (NO * NT), oi = i / NT % NO, ti = i % NT;
		char spec[256];
		struct at_query q;
		struct answer_result res;
		if (theirs[ti] > UINT16_MAX)
			snprintf(spec, sizeof(spec), "%s +noedns @payload=%u",
				 queries[qi], ours[oi]);
		else
			snprintf(spec, sizeof(spec), "%s +bufsize=%u @payload=%u",
				 queries[qi], theirs[ti], ours[oi]);
		assert_null(at_query_build(&q, spec));
		uint8_t *out = malloc(ours[oi]);
		assert_non_null(out);
		answer_packet(&q.conf, *state, q.msg, q.len, ANSWER_UDP, out,
			      ours[oi], &res);
		if (res.len > at_udp_limit(&q))
			fail_msg("%s: %zu octets, limit %zu", spec, res.len,
				 at_udp_limit(&q));
		const char *problem = at_resp_decode(r, out, res.len);
		if (problem != NULL)
			fail_msg("%s: %s", spec, problem);
		/* The OPT is always kept room for. */
		if (q.edns != r->has_opt)
			fail_msg("%s: OPT %s", spec, r->has_opt ? "added" : "lost");
		assert_int_equal(res.truncated, (r->flags & DNS_FLAG_TC) != 0);
		assert_int_not_equal(res.rcode, DNS_RCODE_SERVFAIL);
		truncated += res.truncated;
		whole += !res.truncated;
		free(out);
	}
	assert_true(truncated > 0);
	assert_true(whole > 0);
	free(r);
}

/*
 * A long question and a long TSIG key name over UDP: the question and the
 * OPT fit in 512 octets, the TSIG may not. The response must echo the
 * question and either carry the TSIG or set TC (RFC 2181 §9), never
 * SERVFAIL; over TCP it is NOTAUTH with the TSIG. (Once a bug: room for the
 * TSIG was reserved before the question was written.)
 */
static void tsig_long_names(void **state)
{
	char spec[1024], label[64];
	memset(label, 'q', 63);
	label[63] = '\0';
	/* A 252-octet question name and a 253-octet key name. */
	snprintf(spec, sizeof(spec),
		 "%s.%s.%s.%.50s.example. A +bufsize=512 +tsig=%s.%s.%s.%.60s.",
		 label, label, label, label, label, label, label, label);
	struct at_query q;
	struct answer_result res;
	uint8_t *out = malloc(DNS_MSG_MAXLEN);
	struct at_resp *r = calloc(1, sizeof(*r));
	assert_non_null(out);
	assert_non_null(r);
	assert_null(at_query_build(&q, spec));
	assert_int_equal(q.qname_len, 252);

	q.transport = ANSWER_TCP;
	assert_null(at_answer(*state, &q, out, &res, r));
	assert_int_equal(res.rcode, DNS_RCODE_NOTAUTH);
	assert_int_equal(r->count[DNS_SECTION_QUESTION], 1);
	assert_true(r->tsig_seen);

	q.transport = ANSWER_UDP;
	assert_null(at_answer(*state, &q, out, &res, r));
	assert_true(res.len <= DNS_UDP_MIN_PAYLOAD);
	if (res.rcode == DNS_RCODE_SERVFAIL || r->count[DNS_SECTION_QUESTION] != 1 ||
	    !(r->tsig_seen || res.truncated))
		fail_msg("signed query with long names over UDP: rcode %u, "
			 "%u question(s), TSIG %s, TC %d", res.rcode,
			 r->count[DNS_SECTION_QUESTION], r->tsig_seen ? "yes" : "no",
			 res.truncated);
	free(out);
	free(r);
}

/* A buffer too small for a header gets nothing written into it. */
static void tiny_buffer(void **state)
{
	struct at_query q;
	struct answer_result res;
	uint8_t out[DNS_HEADER_LEN];
	assert_null(at_query_build(&q, "www.example. A"));
	memset(out, AT_POISON, sizeof(out));
	res.len = 99;
	answer_packet(&q.conf, *state, q.msg, q.len, ANSWER_UDP, out,
		      DNS_HEADER_LEN - 1, &res);
	assert_int_equal(res.len, 0);
	assert_int_equal(res.rcode, 0);
	assert_false(res.truncated);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], AT_POISON);
}

/* answer_query() follows the parse_rc it is given. */
static void parse_rc(void **state)
{
	struct at_query q;
	struct answer_result res;
	struct dns_query dq;
	uint8_t out[DNS_UDP_MIN_PAYLOAD];
	struct at_resp *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_null(at_query_build(&q, "www.example. A +noedns +rd"));
	assert_int_equal(dns_query_parse(q.msg, q.len, &dq), 0);

	answer_query(&q.conf, *state, &dq, ANYDNS_EDROP, ANSWER_UDP, out,
		     sizeof(out), &res);
	assert_int_equal(res.len, 0);

	/* FORMERR with the question echoed when the caller says malformed. */
	answer_query(&q.conf, *state, &dq, ANYDNS_EMALF, ANSWER_UDP, out,
		     sizeof(out), &res);
	assert_int_equal(res.rcode, DNS_RCODE_FORMERR);
	assert_null(at_resp_decode(r, out, res.len));
	assert_int_equal(r->flags, DNS_FLAG_QR | DNS_FLAG_RD | DNS_RCODE_FORMERR);
	assert_int_equal(r->count[DNS_SECTION_QUESTION], 1);
	assert_int_equal(r->count[DNS_SECTION_ANSWER], 0);
	assert_memory_equal(r->qname, q.qname, q.qname_len);

	answer_query(&q.conf, *state, &dq, 0, ANSWER_UDP, out, sizeof(out), &res);
	assert_int_equal(res.rcode, DNS_RCODE_NOERROR);
	assert_null(at_resp_decode(r, out, res.len));
	assert_int_equal(r->count[DNS_SECTION_ANSWER], 1);
	free(r);
}

/*
 * Queries with octets changed at random (a fixed seed, so a failure can be
 * replayed) get either no response or a well-formed one that echoes the
 * ID and stays within 512 octets (none of them has a usable OPT that asks
 * for more than 1232).
 */
static void mutated_queries(void **state)
{
	static const char *const bases[] = {
		"www.example. A +noedns", "x.dname2.example. A +dnssec +nsid",
		"www.deleg.example. A +tsig=key.example.", "id.server. TXT class=CH",
		"example. SOA +expire +keepalive", "big.example. A +bufsize=600",
	};
	uint32_t seed = 20261123;
	struct at_resp *r = calloc(1, sizeof(*r));
	uint8_t *out = malloc(DNS_EDNS_DEFAULT_PAYLOAD);
	assert_non_null(r);
	assert_non_null(out);
	unsigned answered = 0, dropped = 0;

	for (unsigned iter = 0; iter < 30000; iter++) {
		struct at_query q;
		struct answer_result res;
		assert_null(at_query_build(&q, bases[iter % 6]));
		unsigned flips = 1 + iter % 4;
		for (unsigned f = 0; f < flips; f++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % q.len;
			seed = seed * 1103515245u + 12345u;
			q.msg[at] = (uint8_t)(seed >> 16);
		}
		if (iter % 7 == 0)
			q.len -= (seed >> 4) % q.len;
		answer_packet(&q.conf, *state, q.msg, q.len, ANSWER_UDP, out,
			      DNS_EDNS_DEFAULT_PAYLOAD, &res);
		if (res.len == 0) {
			/* Only what is not a query is dropped. */
			if (q.len >= DNS_HEADER_LEN && !(q.msg[2] & 0x80))
				fail_msg("iteration %u: a query was dropped", iter);
			dropped++;
			continue;
		}
		answered++;
		const char *problem = at_resp_decode(r, out, res.len);
		if (problem != NULL)
			fail_msg("iteration %u: %s", iter, problem);
		assert_int_equal(r->id, wire_get_u16(q.msg));
		assert_int_equal(DNS_OPCODE(r->flags), DNS_OPCODE(wire_get_u16(q.msg + 2)));
		assert_true(r->flags & DNS_FLAG_QR);
		assert_true(res.len <= DNS_EDNS_DEFAULT_PAYLOAD);
		assert_int_equal(res.rcode, at_resp_rcode(r));
	}
	assert_true(answered > 0);
	assert_true(dropped > 0);
	free(r);
	free(out);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(case_file),
		cmocka_unit_test(conf_defaults),
		cmocka_unit_test(udp_limits),
		cmocka_unit_test(tsig_long_names),
		cmocka_unit_test(tiny_buffer),
		cmocka_unit_test(parse_rc),
		cmocka_unit_test(mutated_queries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
