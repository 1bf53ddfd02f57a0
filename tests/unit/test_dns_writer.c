/*
 * Unit tests for src/dns/writer.c: exact bytes of compressed messages
 * (worked out by hand), case-insensitive compression, which RDATA names
 * are compressed (RFC 3597 §4), records that do not fit, marks, the
 * reserve, the OPT record, and a round trip of many names through the
 * writer and dns_name_read(), also past the 16 KiB pointer range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

/* A wire name from presentation form (absolute). */
static const uint8_t *N(uint8_t buf[DNS_NAME_MAXLEN], const char *s)
{
	size_t len;
	assert_int_equal(dns_name_from_str(buf, &len, s, NULL), 0);
	return buf;
}

static void dump_diff(const uint8_t *got, size_t glen, const uint8_t *want,
		      size_t wlen)
{
	if (glen == wlen && memcmp(got, want, wlen) == 0)
		return;
	for (size_t i = 0; i < glen || i < wlen; i++) {
		fprintf(stderr, "%4zu: %02x %02x%s\n", i, i < glen ? got[i] : 0,
			i < wlen ? want[i] : 0,
			(i < glen && i < wlen && got[i] == want[i]) ? "" : "  <--");
	}
	fail_msg("message differs (got %zu octets, want %zu)", glen, wlen);
}

static void exact_message(void **state)
{
	(void)state;
	uint8_t buf[512], n1[DNS_NAME_MAXLEN], n2[DNS_NAME_MAXLEN];
	struct dns_writer w;
	uint8_t a1[] = { 192, 0, 2, 1 }, a2[] = { 192, 0, 2, 53 };

	memset(buf, 0xee, sizeof(buf));
	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(w.len, 12);
	assert_int_equal(dns_writer_question(&w, N(n1, "www.example.com."),
					     DNS_TYPE_A, DNS_CLASS_IN), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_CNAME,
				       DNS_CLASS_IN, 3600,
				       N(n2, "web.example.com."), 17), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n2, DNS_TYPE_A,
				       DNS_CLASS_IN, 3600, a1, 4), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_AUTHORITY,
				       N(n1, "example.com."), DNS_TYPE_NS,
				       DNS_CLASS_IN, 3600,
				       N(n2, "ns1.example.com."), 17), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ADDITIONAL, n2, DNS_TYPE_A,
				       DNS_CLASS_IN, 3600, a2, 4), 0);
	size_t len = dns_writer_finish(&w, 0xbeef, 0x8400);

	static const uint8_t want[] = {
		/* header */
		0xbe, 0xef, 0x84, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01,
		/* 12: www(12).example(16).com(24). A IN */
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0x00, 0x01, 0x00, 0x01,
		/* 33: www.example.com CNAME web(45).<16> */
		0xc0, 12, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x06,
		3, 'w', 'e', 'b', 0xc0, 16,
		/* 51: web.example.com A 192.0.2.1 */
		0xc0, 45, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04,
		192, 0, 2, 1,
		/* 67: example.com NS ns1(79).<16> */
		0xc0, 16, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x06,
		3, 'n', 's', '1', 0xc0, 16,
		/* 85: ns1.example.com A 192.0.2.53 */
		0xc0, 79, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04,
		192, 0, 2, 53,
	};
	dump_diff(buf, len, want, sizeof(want));
	assert_int_equal(len, 101);
	assert_int_equal(buf[101], 0xee);	/* nothing written past the end */
	assert_int_equal(w.count[0], 1);
	assert_int_equal(w.count[1], 2);
	assert_int_equal(w.count[2], 1);
	assert_int_equal(w.count[3], 1);
	/* Labels written out: www, example, com, web, ns1. */
	assert_int_equal(w.compr_n, 5);
	assert_int_equal(w.compr[3], 45);
	assert_int_equal(w.compr[4], 79);
}

static void case_insensitive(void **state)
{
	(void)state;
	uint8_t buf[512], n1[DNS_NAME_MAXLEN], n2[DNS_NAME_MAXLEN];
	struct dns_writer w;
	uint8_t a1[] = { 10, 0, 0, 1 };

	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_question(&w, N(n1, "WwW.ExAmple.COM."),
					     DNS_TYPE_A, DNS_CLASS_IN), 0);
	/* Lowercase owner: points at the question as the client spelled it. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n2, "www.example.com."), DNS_TYPE_A,
				       DNS_CLASS_IN, 60, a1, 4), 0);
	/* Mixed-case suffix; the new label keeps its own case. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n2, "Mail.EXAMPLE.com."), DNS_TYPE_A,
				       DNS_CLASS_IN, 60, a1, 4), 0);
	/* Only ASCII letters fold: "\196" does not match "\228". */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n2, "\\196.example.com."), DNS_TYPE_A,
				       DNS_CLASS_IN, 60, a1, 4), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n2, "\\228.example.com."), DNS_TYPE_A,
				       DNS_CLASS_IN, 60, a1, 4), 0);
	size_t len = dns_writer_finish(&w, 1, 0x8000);

	static const uint8_t want[] = {
		0x00, 0x01, 0x80, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
		3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'p', 'l', 'e', 3, 'C', 'O', 'M', 0,
		0x00, 0x01, 0x00, 0x01,
		/* 33 */
		0xc0, 12, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 60, 0x00, 0x04,
		10, 0, 0, 1,
		/* 49: Mail(49).<16> */
		4, 'M', 'a', 'i', 'l', 0xc0, 16,
		0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 60, 0x00, 0x04, 10, 0, 0, 1,
		/* 72: \196(72).<16> */
		1, 196, 0xc0, 16,
		0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 60, 0x00, 0x04, 10, 0, 0, 1,
		/* 90: \228(90).<16>, not a pointer to 72 */
		1, 228, 0xc0, 16,
		0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 60, 0x00, 0x04, 10, 0, 0, 1,
	};
	dump_diff(buf, len, want, sizeof(want));
}

/* RDATA names: MX and SOA compressed, SRV, DNAME, RP and NAPTR not. */
static void rdata_compression(void **state)
{
	(void)state;
	uint8_t buf[1024], own[DNS_NAME_MAXLEN], rd[512];
	struct dns_writer w;
	size_t n;

	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_question(&w, N(own, "example.com."),
					     DNS_TYPE_ANY, DNS_CLASS_IN), 0);
	/* 12: example(12).com(20). ANY IN; len 29 */

	/* MX 10 mail.example.com. */
	memcpy(rd, "\x00\x0a\x04mail\x07" "example\x03" "com", 20);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, own, DNS_TYPE_MX,
				       DNS_CLASS_IN, 300, rd, 20), 0);
	/* 29: c00c type class ttl rdlen=9, 41: 000a mail(43) c00c; len 50 */

	/* SRV 0 5 80 mail.example.com.: target copied whole, even though
	 * it is already in the message. */
	memcpy(rd, "\x00\x00\x00\x05\x00\x50\x04mail\x07" "example\x03" "com", 24);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, own, DNS_TYPE_SRV,
				       DNS_CLASS_IN, 300, rd, 24), 0);
	/* 50: c00c .. rdlen=24, 62: 24 octets as given; len 86 */

	/* SOA: both names compressed, then the 20 octets. */
	n = 0;
	memcpy(rd + n, "\x03ns1\x07" "example\x03" "com", 17);
	n += 17;
	memcpy(rd + n, "\x04MAIL\x07" "example\x03" "com", 18);
	n += 18;
	for (int i = 0; i < 20; i++)
		rd[n++] = (uint8_t)(i + 1);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_AUTHORITY, own, DNS_TYPE_SOA,
				       DNS_CLASS_IN, 300, rd, (uint16_t)n), 0);
	/* 86: c00c .. rdlen=28, 98: ns1(98) c00c, 104: c02b (mail at 43),
	 * 106: 20 octets; len 126 */

	/* DNAME: never compressed. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ADDITIONAL, own,
				       DNS_TYPE_DNAME, DNS_CLASS_IN, 300,
				       (const uint8_t *)"\x07" "example\x03" "com", 13), 0);
	/* 126: c00c .. rdlen=13, 138: 13 octets; len 151 */
	size_t len = dns_writer_finish(&w, 7, 0);

	static const uint8_t want[] = {
		0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0x00, 0xff, 0x00, 0x01,
		/* 29 MX */
		0xc0, 12, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 9,
		0x00, 0x0a, 4, 'm', 'a', 'i', 'l', 0xc0, 12,
		/* 50 SRV */
		0xc0, 12, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 24,
		0x00, 0x00, 0x00, 0x05, 0x00, 0x50,
		4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		/* 86 SOA */
		0xc0, 12, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 28,
		3, 'n', 's', '1', 0xc0, 12, 0xc0, 43,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
		/* 126 DNAME */
		0xc0, 12, 0x00, 0x27, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 13,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	};
	dump_diff(buf, len, want, sizeof(want));
}

/* Suffix matching follows pointers already in the output. */
static void match_through_pointers(void **state)
{
	(void)state;
	uint8_t buf[512], n1[DNS_NAME_MAXLEN];
	struct dns_writer w;

	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_question(&w, N(n1, "example.com."),
					     DNS_TYPE_NS, DNS_CLASS_IN), 0);
	/* 29: a(29).b(31).<12> */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n1, "a.b.example.com."), DNS_TYPE_NULL,
				       DNS_CLASS_IN, 0, NULL, 0), 0);
	/* 45: <31>: "b" then the pointer at 33 */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n1, "B.example.COM."), DNS_TYPE_NULL,
				       DNS_CLASS_IN, 0, NULL, 0), 0);
	/* 57: c(57).<29> */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n1, "c.a.b.example.com."), DNS_TYPE_NULL,
				       DNS_CLASS_IN, 0, NULL, 0), 0);
	/* 71: a partial match is not a match: "b.example.net" shares no
	 * suffix but the root, so it is written out whole. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n1, "b.example.net."), DNS_TYPE_NULL,
				       DNS_CLASS_IN, 0, NULL, 0), 0);
	/* 96: the root is one octet, never a pointer. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER,
				       N(n1, "."), DNS_TYPE_NULL,
				       DNS_CLASS_IN, 0, NULL, 0), 0);
	/* 107: malformed RDATA of a compressible type goes out as it is. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_NS,
				       DNS_CLASS_IN, 0, NULL, 0), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_NS,
				       DNS_CLASS_IN, 0,
				       (const uint8_t *)"\x01" "a\xc0\x0c", 4), 0);
	size_t len = dns_writer_finish(&w, 0, 0);

	static const uint8_t want[] = {
		0, 0, 0, 0, 0, 1, 0, 7, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 2, 0, 1,
		1, 'a', 1, 'b', 0xc0, 12, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, 31, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'c', 0xc0, 29, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
		0, 10, 0, 1, 0, 0, 0, 0, 0, 0,
		0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0,
		0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0,
		0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 4, 1, 'a', 0xc0, 12,
	};
	dump_diff(buf, len, want, sizeof(want));
}

/* A record that does not fit changes nothing, whatever part overflows. */
static void no_space(void **state)
{
	(void)state;
	uint8_t buf[256], n1[DNS_NAME_MAXLEN], rd[64], before[256];
	struct dns_writer w;

	memset(buf, 0xee, sizeof(buf));
	dns_writer_init(&w, buf, 100);
	assert_int_equal(dns_writer_question(&w, N(n1, "example.com."),
					     DNS_TYPE_SOA, DNS_CLASS_IN), 0);
	assert_int_equal(w.len, 29);

	/* SOA with new names: owner pointer (2) + 10 + ns1 (4) + ptr (2) +
	 * hostmaster (11) + ptr (2) + 20 = 51 octets: 80 total. */
	size_t n = 0;
	memcpy(rd + n, "\x03ns1\x07" "example\x03" "com", 17);
	n += 17;
	memcpy(rd + n, "\x0ahostmaster\x07" "example\x03" "com", 24);
	n += 24;
	memset(rd + n, 0x11, 20);
	n += 20;

	for (size_t limit = 29; limit <= 80; limit++) {
		memset(buf + 29, 0xee, sizeof(buf) - 29);
		w.limit = limit;
		memcpy(before, buf, sizeof(buf));
		int ret = dns_writer_rr(&w, DNS_SECTION_AUTHORITY, n1, DNS_TYPE_SOA,
					DNS_CLASS_IN, 3600, rd, (uint16_t)n);
		if (limit < 80) {
			assert_int_equal(ret, ANYDNS_ESPACE);
			assert_int_equal(w.len, 29);
			assert_int_equal(w.compr_n, 2);
			assert_int_equal(w.count[DNS_SECTION_AUTHORITY], 0);
			/* Octets past the limit were never touched. */
			for (size_t i = limit; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 0xee);
			assert_memory_equal(buf, before, 29);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(w.len, 80);
			assert_int_equal(w.compr_n, 4);
		}
	}

	/* Question and plain records too. */
	dns_writer_init(&w, buf, 28);
	assert_int_equal(dns_writer_question(&w, n1, DNS_TYPE_A, DNS_CLASS_IN),
			 ANYDNS_ESPACE);
	assert_int_equal(w.len, 12);
	assert_int_equal(w.compr_n, 0);
	assert_int_equal(w.count[0], 0);
	dns_writer_init(&w, buf, 29 + 15);
	assert_int_equal(dns_writer_question(&w, n1, DNS_TYPE_A, DNS_CLASS_IN), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_A,
				       DNS_CLASS_IN, 1, rd, 4), ANYDNS_ESPACE);
	assert_int_equal(w.len, 29);
	w.limit = 29 + 16;
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_A,
				       DNS_CLASS_IN, 1, rd, 4), 0);
	assert_int_equal(w.len, 45);
	assert_int_equal(dns_writer_finish(&w, 0, 0), 45);
	assert_int_equal(buf[7], 1);	/* ANCOUNT */
}

static void mark_rollback(void **state)
{
	(void)state;
	uint8_t buf[512], n1[DNS_NAME_MAXLEN], n2[DNS_NAME_MAXLEN];
	struct dns_writer w;
	struct dns_writer_mark m;
	const uint8_t a[4] = { 1, 2, 3, 4 };

	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_question(&w, N(n1, "example.com."),
					     DNS_TYPE_A, DNS_CLASS_IN), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_A,
				       DNS_CLASS_IN, 1, a, 4), 0);
	dns_writer_mark(&w, &m);
	assert_int_equal(m.len, 45);
	assert_int_equal(m.compr_n, 2);

	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_AUTHORITY,
				       N(n2, "sub.example.com."), DNS_TYPE_NS,
				       DNS_CLASS_IN, 1,
				       (const uint8_t *)"\x02ns\x03sub\x07" "example\x03" "com", 20), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ADDITIONAL,
				       N(n2, "ns.sub.example.com."), DNS_TYPE_A,
				       DNS_CLASS_IN, 1, a, 4), 0);
	assert_int_equal(w.compr_n, 4);
	assert_int_equal(w.count[2], 1);
	assert_int_equal(w.count[3], 1);

	dns_writer_rollback(&w, &m);
	assert_int_equal(w.len, 45);
	assert_int_equal(w.compr_n, 2);
	assert_int_equal(w.count[1], 1);
	assert_int_equal(w.count[2], 0);
	assert_int_equal(w.count[3], 0);

	/* The dropped names are gone from the table: "sub" is written out
	 * again, not pointed at where it used to be. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ADDITIONAL,
				       N(n2, "ns.sub.example.com."), DNS_TYPE_A,
				       DNS_CLASS_IN, 1, a, 4), 0);
	static const uint8_t tail[] = {
		2, 'n', 's', 3, 's', 'u', 'b', 0xc0, 12,
		0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4,
	};
	assert_int_equal(w.len, 45 + sizeof(tail));
	assert_memory_equal(buf + 45, tail, sizeof(tail));
	size_t len = dns_writer_finish(&w, 0, 0);
	assert_int_equal(len, 68);
	assert_memory_equal(buf + 4, "\x00\x01\x00\x01\x00\x00\x00\x01", 8);
}

static void opt_record(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct dns_writer w;
	struct dns_opt_out opt = {
		.payload = 1232, .do_bit = true,
		.nsid = (const uint8_t *)"ns1", .nsid_len = 3,
	};

	assert_int_equal(dns_opt_size(&opt), 11 + 7);
	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_opt(&w, &opt), 0);
	static const uint8_t want1[] = {
		0, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x07,
		0x00, 0x03, 0x00, 0x03, 'n', 's', '1',
	};
	dump_diff(buf + 12, w.len - 12, want1, sizeof(want1));
	assert_int_equal(w.count[DNS_SECTION_ADDITIONAL], 1);

	/* BADVERS (16): extended RCODE 1; keepalive 10 s; no DO, no NSID. */
	struct dns_opt_out opt2 = {
		.payload = 4096, .ext_rcode = 1, .keepalive = true,
		.keepalive_timeout = 100,
	};
	assert_int_equal(dns_opt_size(&opt2), 11 + 6);
	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_opt(&w, &opt2), 0);
	static const uint8_t want2[] = {
		0, 0x00, 0x29, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x06,
		0x00, 0x0b, 0x00, 0x02, 0x00, 0x64,
	};
	dump_diff(buf + 12, w.len - 12, want2, sizeof(want2));

	/* Both options, and an empty NSID. */
	struct dns_opt_out opt3 = {
		.payload = 512, .nsid = (const uint8_t *)"", .nsid_len = 0,
		.keepalive = true, .keepalive_timeout = 0x1234,
	};
	dns_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(dns_writer_opt(&w, &opt3), 0);
	static const uint8_t want3[] = {
		0, 0x00, 0x29, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
		0x00, 0x03, 0x00, 0x00,
		0x00, 0x0b, 0x00, 0x02, 0x12, 0x34,
	};
	dump_diff(buf + 12, w.len - 12, want3, sizeof(want3));
	assert_int_equal(dns_opt_size(&opt3), sizeof(want3));

	/* No room: nothing written. */
	dns_writer_init(&w, buf, 12 + 17);
	assert_int_equal(dns_writer_opt(&w, &opt), ANYDNS_ESPACE);
	assert_int_equal(w.len, 12);
	assert_int_equal(w.count[3], 0);
}

static void reserve(void **state)
{
	(void)state;
	uint8_t buf[512], n1[DNS_NAME_MAXLEN];
	struct dns_writer w;
	struct dns_opt_out opt = { .payload = 1232, .nsid = (const uint8_t *)"x",
				   .nsid_len = 1 };
	const uint8_t a[4] = { 1, 2, 3, 4 };
	size_t osize = dns_opt_size(&opt);	/* 16 */

	dns_writer_init(&w, buf, 29 + 16 + 16);	/* question, one A, the OPT */
	assert_int_equal(dns_writer_reserve(&w, 1000), ANYDNS_ESPACE);
	assert_int_equal(w.limit, 61);
	assert_int_equal(w.reserved, 0);
	assert_int_equal(dns_writer_reserve(&w, osize), 0);
	assert_int_equal(w.limit, 45);
	assert_int_equal(w.reserved, 16);
	/* Reserving again replaces the reserve, it does not add to it. */
	assert_int_equal(dns_writer_reserve(&w, 20), 0);
	assert_int_equal(w.limit, 41);
	assert_int_equal(dns_writer_reserve(&w, osize), 0);
	assert_int_equal(w.limit, 45);

	assert_int_equal(dns_writer_question(&w, N(n1, "example.com."),
					     DNS_TYPE_A, DNS_CLASS_IN), 0);
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_A,
				       DNS_CLASS_IN, 1, a, 4), 0);
	/* The reserve is not for records. */
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_ANSWER, n1, DNS_TYPE_A,
				       DNS_CLASS_IN, 1, a, 4), ANYDNS_ESPACE);
	assert_int_equal(w.len, 45);
	/* Only 16 are left: reserving more fails and keeps the old one. */
	assert_int_equal(dns_writer_reserve(&w, 17), ANYDNS_ESPACE);
	assert_int_equal(w.reserved, 16);
	assert_int_equal(w.limit, 45);
	/* The OPT uses it. */
	assert_int_equal(dns_writer_opt(&w, &opt), 0);
	assert_int_equal(w.len, 61);
	assert_int_equal(w.limit, 61);
	assert_int_equal(w.reserved, 0);
	assert_int_equal(dns_writer_finish(&w, 0, 0), 61);
	assert_int_equal(buf[11], 1);

	/* Reserving 0 releases. */
	dns_writer_init(&w, buf, 100);
	assert_int_equal(dns_writer_reserve(&w, 50), 0);
	assert_int_equal(w.limit, 50);
	assert_int_equal(dns_writer_reserve(&w, 0), 0);
	assert_int_equal(w.limit, 100);
	assert_int_equal(w.reserved, 0);

	/* An OPT that fits below the limit leaves the reserve alone. */
	assert_int_equal(dns_writer_reserve(&w, 30), 0);
	assert_int_equal(dns_writer_opt(&w, &opt), 0);
	assert_int_equal(w.limit, 70);
	assert_int_equal(w.reserved, 30);

	/* Limits above 65535 are capped. */
	static uint8_t big[70000];
	dns_writer_init(&w, big, sizeof(big));
	assert_int_equal(w.limit, DNS_MSG_MAXLEN);
}

/* Reads a message back: every name must come out as it went in. */
struct rt_rec {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint8_t target[DNS_NAME_MAXLEN];
	uint16_t type;
};

static void check_read_back(const uint8_t *msg, size_t len,
			    const struct rt_rec *recs, unsigned n)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t nlen;

	wire_init(&c, msg, len);
	wire_skip(&c, DNS_HEADER_LEN);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(dns_name_read(&c, name, &nlen), 0);
		if (!dns_name_equal(name, recs[i].owner) ||
		    nlen != dns_name_len(recs[i].owner))
			fail_msg("record %u: owner differs", i);
		assert_int_equal(wire_read_u16(&c), recs[i].type);
		wire_skip(&c, 6);
		uint16_t rdlen = wire_read_u16(&c);
		size_t rdend = wire_offset(&c) + rdlen;
		if (recs[i].type == DNS_TYPE_MX)
			wire_skip(&c, 2);
		if (recs[i].type == DNS_TYPE_SRV)
			wire_skip(&c, 6);
		assert_int_equal(dns_name_read(&c, name, &nlen), 0);
		/* Names that were not compressed keep their case exactly;
		 * compressed ones may take the case of what they point to. */
		bool plain = recs[i].type == DNS_TYPE_SRV ||
			     recs[i].type == DNS_TYPE_DNAME;
		if (nlen != dns_name_len(recs[i].target) ||
		    !dns_name_equal(name, recs[i].target) ||
		    (plain && memcmp(name, recs[i].target, nlen) != 0))
			fail_msg("record %u: RDATA name differs", i);
		assert_int_equal(wire_offset(&c), rdend);
	}
	assert_int_equal(c.err, 0);
	assert_int_equal(wire_avail(&c), 0);
}

static void random_name(uint8_t *dst)
{
	static const char *const labels[] = {
		"a", "b", "www", "mail", "ns1", "example", "Example", "com",
		"net", "org", "x-y", "EXAMPLE", "sub", "deep", "z",
	};
	char text[256] = "";
	int nl = 1 + rand() % 5;
	for (int i = 0; i < nl; i++) {
		strcat(text, labels[rand() % 15]);
		strcat(text, ".");
	}
	size_t len;
	assert_int_equal(dns_name_from_str(dst, &len, text, NULL), 0);
}

static void round_trip(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAXLEN];
	static struct rt_rec recs[2000];
	static const uint16_t types[] = { DNS_TYPE_NS, DNS_TYPE_MX, DNS_TYPE_SRV,
					  DNS_TYPE_CNAME, DNS_TYPE_DNAME };
	uint8_t rd[300];
	struct dns_writer w;
	size_t raw = DNS_HEADER_LEN;
	unsigned n = 0;

	srand(4242);
	dns_writer_init(&w, buf, sizeof(buf));
	for (;;) {
		struct rt_rec *r = &recs[n];
		random_name(r->owner);
		random_name(r->target);
		r->type = types[rand() % 5];
		size_t tl = dns_name_len(r->target), rl = 0;
		if (r->type == DNS_TYPE_MX)
			rl = 2;
		if (r->type == DNS_TYPE_SRV)
			rl = 6;
		memset(rd, 0, rl);
		memcpy(rd + rl, r->target, tl);
		rl += tl;
		int ret = dns_writer_rr(&w, DNS_SECTION_ANSWER, r->owner, r->type,
					DNS_CLASS_IN, 1, rd, (uint16_t)rl);
		if (ret == ANYDNS_ESPACE)
			break;
		assert_int_equal(ret, 0);
		raw += dns_name_len(r->owner) + 10 + rl;
		n++;
		assert_true(n < 2000);
	}
	size_t len = dns_writer_finish(&w, 0, 0x8000);
	assert_true(len > 0x4000);	/* past the reach of pointers */
	assert_true(len <= DNS_MSG_MAXLEN);
	assert_int_equal(w.count[1], n);
	assert_int_equal(w.compr_n, DNS_COMPR_MAX);
	for (unsigned i = 0; i < w.compr_n; i++)
		assert_true(w.compr[i] <= 0x3fff);
	/* Compression saved space (about 16% with these names, the table
	 * being full after the first few dozen records). */
	assert_true(raw > len + len / 8);
	check_read_back(buf, len, recs, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_message),
		cmocka_unit_test(case_insensitive),
		cmocka_unit_test(rdata_compression),
		cmocka_unit_test(match_through_pointers),
		cmocka_unit_test(no_space),
		cmocka_unit_test(mark_rollback),
		cmocka_unit_test(opt_record),
		cmocka_unit_test(reserve),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
