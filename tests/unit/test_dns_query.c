/*
 * Unit tests for src/dns/query.c: what is dropped, what earns a FORMERR
 * and what parses, with the fields it fills. Most cases are in
 * tests/unit/data/dns/queries.txt; the ones that need long or computed
 * messages are built here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit_data.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

#define DATA_DIR "tests/unit/data/dns/"

static int result_code(const char *s)
{
	if (strcmp(s, "OK") == 0)
		return 0;
	if (strcmp(s, "EDROP") == 0)
		return ANYDNS_EDROP;
	if (strcmp(s, "EMALF") == 0)
		return ANYDNS_EMALF;
	fail_msg("unknown result %s", s);
	return 1;
}

/* Checks one key=value against q; fails the test on a mismatch. */
static void check_field(const struct dns_query *q, const char *kv,
			const char *line)
{
	char key[16];
	char val[16];
	if (sscanf(kv, "%15[^=]=%15s", key, val) != 2)
		fail_msg("bad check %s", kv);
	unsigned long want = strtoul(val, NULL, strcmp(key, "flags") == 0 ? 16 : 10);
	unsigned long got = 0;

	if (strcmp(key, "id") == 0)
		got = q->id;
	else if (strcmp(key, "flags") == 0)
		got = q->flags;
	else if (strcmp(key, "opcode") == 0)
		got = q->opcode;
	else if (strcmp(key, "q") == 0)
		got = q->has_question;
	else if (strcmp(key, "qtype") == 0)
		got = q->qtype;
	else if (strcmp(key, "qclass") == 0)
		got = q->qclass;
	else if (strcmp(key, "qlen") == 0)
		got = q->qname_len;
	else if (strcmp(key, "edns") == 0)
		got = q->has_edns;
	else if (strcmp(key, "ver") == 0)
		got = q->edns_version;
	else if (strcmp(key, "payload") == 0)
		got = q->edns_payload;
	else if (strcmp(key, "do") == 0)
		got = q->edns_do;
	else if (strcmp(key, "nsid") == 0)
		got = q->edns_nsid;
	else if (strcmp(key, "ka") == 0)
		got = q->edns_keepalive;
	else if (strcmp(key, "tsig") == 0)
		got = q->tsig_offset;
	else
		fail_msg("unknown key %s", key);
	if (got != want)
		fail_msg("%s\n  %s: got %lu, want %lu", line, key, got, want);
}

static void query_table(void **state)
{
	(void)state;
	FILE *f = fopen(DATA_DIR "queries.txt", "r");
	if (f == NULL)
		fail_msg("cannot open queries.txt (run from the repository root)");
	char line[4096], copy[4096];
	unsigned cases = 0;
	struct dns_query q;

	while (next_line(f, line, sizeof(line))) {
		uint8_t msg[2048];
		strcpy(copy, line);
		char *res = strtok(line, " ");
		char *hex = strtok(NULL, " ");
		assert_non_null(res);
		assert_non_null(hex);
		size_t len = unhex(msg, sizeof(msg), hex);

		/* Poison the struct: the parser must reset what it reports. */
		memset(&q, 0xa5, sizeof(q));
		int ret = dns_query_parse(msg, len, &q);
		if (ret != result_code(res))
			fail_msg("%s\n  got %d", copy, ret);
		assert_ptr_equal(q.wire, msg);
		assert_int_equal(q.wire_len, len);
		if (ret == 0)
			assert_true(q.has_question);
		for (char *kv = strtok(NULL, " "); kv != NULL; kv = strtok(NULL, " "))
			check_field(&q, kv, copy);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 70);
}

static void short_headers(void **state)
{
	(void)state;
	uint8_t msg[DNS_HEADER_LEN] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01 };
	struct dns_query q;

	for (size_t len = 0; len < DNS_HEADER_LEN; len++) {
		memset(&q, 0xa5, sizeof(q));
		assert_int_equal(dns_query_parse(msg, len, &q), ANYDNS_EDROP);
		assert_false(q.has_question);
		assert_false(q.has_edns);
		assert_int_equal(q.id, 0);
		assert_int_equal(q.tsig_offset, 0);
	}
	/* A whole header with QDCOUNT 1 but no question: FORMERR. */
	assert_int_equal(dns_query_parse(msg, DNS_HEADER_LEN, &q), ANYDNS_EMALF);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qdcount, 1);
	assert_false(q.has_question);
}

static void qname_case(void **state)
{
	(void)state;
	static const uint8_t msg[] = {
		0xab, 0xcd, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'P', 'l', 'E', 0,
		0x00, 0x1c, 0x00, 0x01,
	};
	struct dns_query q;

	assert_int_equal(dns_query_parse(msg, sizeof(msg), &q), 0);
	assert_int_equal(q.id, 0xabcd);
	assert_int_equal(q.flags, 0x0120);
	assert_int_equal(q.qdcount, 1);
	assert_int_equal(q.ancount + q.nscount + q.arcount, 0);
	assert_int_equal(q.qname_len, 13);
	assert_memory_equal(q.qname, "\003WwW\007ExAmPlE", 13);
	assert_memory_equal(q.qname_lower, "\003www\007example", 13);
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_false(q.has_edns);
}

static size_t put_header(uint8_t *p, uint16_t qd, uint16_t an, uint16_t ar)
{
	memset(p, 0, DNS_HEADER_LEN);
	p[0] = 0x55;
	p[5] = (uint8_t)qd;
	p[7] = (uint8_t)an;
	p[11] = (uint8_t)ar;
	return DNS_HEADER_LEN;
}

static size_t put_label(uint8_t *p, unsigned n)
{
	p[0] = (uint8_t)n;
	memset(p + 1, 'q', n);
	return 1 + n;
}

/* Names over 255 octets, directly and through pointers. */
static void long_names(void **state)
{
	(void)state;
	uint8_t msg[1024];
	struct dns_query q;
	size_t n;

	/* A 255-octet qname: fine. */
	n = put_header(msg, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		n += put_label(msg + n, 63);
	n += put_label(msg + n, 61);
	msg[n++] = 0;
	memcpy(msg + n, "\x00\x01\x00\x01", 4);
	n += 4;
	assert_int_equal(dns_query_parse(msg, n, &q), 0);
	assert_int_equal(q.qname_len, 255);

	/* An answer owned by "a" + pointer to it: 257 octets. */
	msg[7] = 1;
	size_t base = n;
	n += put_label(msg + n, 1);
	msg[n++] = 0xc0;
	msg[n++] = DNS_HEADER_LEN;
	memcpy(msg + n, "\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04", 14);
	n += 14;
	assert_int_equal(dns_query_parse(msg, n, &q), ANYDNS_EMALF);
	assert_true(q.has_question);
	/* The same record owned by the pointer alone parses. */
	memmove(msg + base, msg + base + 2, n - base - 2);
	assert_int_equal(dns_query_parse(msg, n - 2, &q), 0);

	/* A 256-octet qname. */
	n = put_header(msg, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		n += put_label(msg + n, 63);
	n += put_label(msg + n, 62);
	msg[n++] = 0;
	memcpy(msg + n, "\x00\x01\x00\x01", 4);
	n += 4;
	assert_int_equal(dns_query_parse(msg, n, &q), ANYDNS_EMALF);
	assert_false(q.has_question);

	/* A 64-octet label (0x40 is also a label type). */
	n = put_header(msg, 1, 0, 0);
	n += put_label(msg + n, 64);
	msg[n++] = 0;
	memcpy(msg + n, "\x00\x01\x00\x01", 4);
	n += 4;
	assert_int_equal(dns_query_parse(msg, n, &q), ANYDNS_EMALF);
	assert_false(q.has_question);
}

/* A parse after a richer one must not keep anything of it. */
static void reuse_resets(void **state)
{
	(void)state;
	uint8_t a[256], b[256];
	size_t la = unhex(a, sizeof(a),
		"1234_0100_0001_0000_0000_0002_016100_0001_0001"
		"_00_0029_1000_00018000_0008_0003_0000_000b_0000"
		"_036b657900_00fa_00ff_00000000_0000");
	size_t lb = unhex(b, sizeof(b), "4321_0000_0001_0000_0000_0000_00_0006_0003");
	struct dns_query q;

	assert_int_equal(dns_query_parse(a, la, &q), 0);
	assert_true(q.has_edns);
	assert_int_equal(q.edns_payload, 4096);
	assert_int_equal(q.edns_version, 1);
	assert_true(q.edns_do && q.edns_nsid && q.edns_keepalive);
	assert_int_equal(q.tsig_offset, 12 + 7 + 11 + 8);

	assert_int_equal(dns_query_parse(b, lb, &q), 0);
	assert_int_equal(q.id, 0x4321);
	assert_false(q.has_edns);
	assert_int_equal(q.edns_payload, 0);
	assert_int_equal(q.edns_version, 0);
	assert_false(q.edns_do || q.edns_nsid || q.edns_keepalive);
	assert_int_equal(q.tsig_offset, 0);
	assert_int_equal(q.qname_len, 1);
	assert_int_equal(q.qtype, DNS_TYPE_SOA);
	assert_int_equal(q.qclass, DNS_CLASS_CH);
}

/* Counts that promise more records than a message can hold. */
static void huge_counts(void **state)
{
	(void)state;
	uint8_t msg[64];
	size_t n = unhex(msg, sizeof(msg),
		"1234_0100_0001_ffff_ffff_ffff_00_0001_0001_00_0029_04d0_00000000_0000");
	struct dns_query q;
	assert_int_equal(dns_query_parse(msg, n, &q), ANYDNS_EMALF);
	assert_true(q.has_question);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_table),
		cmocka_unit_test(short_headers),
		cmocka_unit_test(qname_case),
		cmocka_unit_test(long_names),
		cmocka_unit_test(reuse_resets),
		cmocka_unit_test(huge_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
