/*
 * Unit tests for src/dns/name.c: presentation form both ways, reading
 * compressed names from messages (pointer rules, limits, truncation),
 * canonical order of RFC 4034 §6.1 and the small helpers. The tables of
 * cases are in tests/unit/data/dns/.
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

static int err_from_name(const char *s)
{
	static const struct {
		const char *name;
		int code;
	} errs[] = {
		{ "EMALF", ANYDNS_EMALF }, { "ETRUNC", ANYDNS_ETRUNC },
		{ "ELABEL", ANYDNS_ELABEL }, { "ENAME", ANYDNS_ENAME },
		{ "ECOMPR", ANYDNS_ECOMPR }, { "ESYNTAX", ANYDNS_ESYNTAX },
	};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (strcmp(s, errs[i].name) == 0)
			return errs[i].code;
	return 0;
}

static void from_str_table(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "names.txt");
	char line[2048];
	unsigned cases = 0;

	while (next_line(f, line, sizeof(line))) {
		/* The expectation is the last word; the name is before it. */
		char *sp = strrchr(line, ' ');
		assert_non_null(sp);
		char *expect = sp + 1;
		while (sp > line && sp[-1] == ' ')
			sp--;
		*sp = '\0';

		uint8_t got[DNS_NAME_MAXLEN], want[DNS_NAME_MAXLEN + 8];
		size_t len = 99;
		int ret = dns_name_from_str(got, &len, line, NULL);
		int want_err = err_from_name(expect);
		if (want_err != 0) {
			if (ret != want_err)
				fail_msg("%s: got %d, want %s", line, ret, expect);
			assert_int_equal(len, 0);
		} else {
			size_t wlen = unhex(want, sizeof(want), expect);
			if (ret != 0)
				fail_msg("%s: error %d", line, ret);
			assert_int_equal(len, wlen);
			assert_memory_equal(got, want, wlen);
			assert_int_equal(dns_name_len(got), wlen);
		}
		cases++;
	}
	fclose(f);
	assert_true(cases >= 40);
}

static void to_str_table(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "names_to_str.txt");
	char line[2048];
	unsigned cases = 0;

	while (next_line(f, line, sizeof(line))) {
		char *sp = strchr(line, ' ');
		assert_non_null(sp);
		*sp = '\0';
		const char *want = sp + 1;
		uint8_t wire[DNS_NAME_MAXLEN];
		unhex(wire, sizeof(wire), line);

		char str[DNS_NAME_STRLEN];
		size_t n = dns_name_to_str(str, wire);
		assert_string_equal(str, want);
		assert_int_equal(n, strlen(want));

		/* And back: presentation form parses to the same octets. */
		uint8_t back[DNS_NAME_MAXLEN];
		size_t blen;
		assert_int_equal(dns_name_from_str(back, &blen, str, NULL), 0);
		assert_int_equal(blen, dns_name_len(wire));
		assert_memory_equal(back, wire, blen);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 21);
}

/* Every octet value in the longest names round-trips through text, and the
 * longest possible text fits DNS_NAME_STRLEN. */
static void to_str_worst_case(void **state)
{
	(void)state;
	uint8_t wire[DNS_NAME_MAXLEN];
	char str[DNS_NAME_STRLEN];

	for (unsigned start = 0; start < 256; start += 63) {
		size_t n = 0;
		unsigned v = start;
		for (int l = 0; l < 4; l++) {
			unsigned ll = l < 3 ? 63 : 61;
			wire[n++] = (uint8_t)ll;
			for (unsigned i = 0; i < ll; i++)
				wire[n++] = (uint8_t)(v++ & 0xff);
		}
		wire[n++] = 0;
		assert_int_equal(n, DNS_NAME_MAXLEN);

		size_t slen = dns_name_to_str(str, wire);
		assert_true(slen < DNS_NAME_STRLEN);
		uint8_t back[DNS_NAME_MAXLEN];
		size_t blen;
		assert_int_equal(dns_name_from_str(back, &blen, str, NULL), 0);
		assert_int_equal(blen, n);
		assert_memory_equal(back, wire, n);
	}

	/* All "\DDD": 250 octets of 0x00, 4 dots. */
	memset(wire, 0, sizeof(wire));
	wire[0] = 63; wire[64] = 63; wire[128] = 63; wire[192] = 61;
	assert_int_equal(dns_name_to_str(str, wire), 250 * 4 + 4);
}

static void from_str_origin(void **state)
{
	(void)state;
	uint8_t origin[DNS_NAME_MAXLEN], got[DNS_NAME_MAXLEN];
	size_t olen, len;
	const uint8_t want[] = "\003www\007example\003com";

	assert_int_equal(dns_name_from_str(origin, &olen, "Example.COM.", NULL), 0);
	assert_int_equal(olen, 13);

	/* Relative: origin appended, as given (its case too). */
	assert_int_equal(dns_name_from_str(got, &len, "www", origin), 0);
	assert_int_equal(len, 17);
	assert_memory_equal(got, "\003www\007Example\003COM", 17);

	/* Absolute: origin ignored. */
	assert_int_equal(dns_name_from_str(got, &len, "www.example.com.", origin), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));

	/* Root stays root; "@" is an ordinary label here. */
	assert_int_equal(dns_name_from_str(got, &len, ".", origin), 0);
	assert_int_equal(len, 1);
	assert_int_equal(got[0], 0);
	assert_int_equal(dns_name_from_str(got, &len, "@", origin), 0);
	assert_int_equal(len, 15);
	assert_memory_equal(got, "\001@\007Example\003COM", 15);

	/* An empty string has no label. */
	assert_int_equal(dns_name_from_str(got, &len, "", origin), ANYDNS_ELABEL);

	/* The origin counts toward 255: 242 + 13 fits, 243 + 13 does not. */
	char rel[300];
	size_t p = 0;
	for (int l = 0; l < 3; l++) {
		memset(rel + p, 'x', 63);
		p += 63;
		rel[p++] = '.';
	}
	memset(rel + p, 'x', 49);	/* 3 * 64 + 50 = 242 octets */
	rel[p + 49] = '\0';
	assert_int_equal(dns_name_from_str(got, &len, rel, origin), 0);
	assert_int_equal(len, 255);
	assert_int_equal(dns_name_len(got), 255);
	rel[p + 49] = 'x';
	rel[p + 50] = '\0';
	assert_int_equal(dns_name_from_str(got, &len, rel, origin), ANYDNS_ENAME);
}

static void read_table(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "name_read.txt");
	char line[2048];
	unsigned cases = 0;

	while (next_line(f, line, sizeof(line))) {
		char hex[1024], expect[600];
		size_t off, end;
		assert_int_equal(sscanf(line, "%1023s %zu %599s %zu", hex, &off,
					expect, &end), 4);
		uint8_t msg[512], want[300];
		size_t mlen = unhex(msg, sizeof(msg), hex);

		struct wire_ctx c;
		wire_init(&c, msg, mlen);
		wire_seek(&c, off);
		assert_int_equal(c.err, 0);

		uint8_t got[DNS_NAME_MAXLEN];
		size_t len = 77;
		int ret = dns_name_read(&c, got, &len);
		int want_err = err_from_name(expect);
		if (want_err != 0) {
			if (ret != want_err)
				fail_msg("%s: got %d, want %s", line, ret, expect);
			assert_int_equal(c.err, want_err);
			assert_int_equal(len, 0);
		} else {
			if (ret != 0)
				fail_msg("%s: error %d", line, ret);
			size_t wlen = unhex(want, sizeof(want), expect);
			assert_int_equal(len, wlen);
			assert_memory_equal(got, want, wlen);
			assert_int_equal(c.err, 0);
		}
		assert_int_equal(wire_offset(&c), end);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 26);
}

/* Appends a label of n copies of ch. */
static size_t put_label(uint8_t *p, unsigned n, uint8_t ch)
{
	p[0] = (uint8_t)n;
	memset(p + 1, ch, n);
	return 1 + n;
}

/* Names reaching 255 octets only through pointers. */
static void read_long_through_pointers(void **state)
{
	(void)state;
	uint8_t msg[600];
	uint8_t got[DNS_NAME_MAXLEN];
	size_t n = 0, len;
	struct wire_ctx c;

	/* 0: two 63-octet labels and the root: 129 octets. */
	n += put_label(msg + n, 63, 'a');
	n += put_label(msg + n, 63, 'b');
	msg[n++] = 0;
	assert_int_equal(n, 129);

	/* 129: 63 + 61 octets, then a pointer to 0: 64 + 62 + 129 = 255. */
	size_t ok = n;
	n += put_label(msg + n, 63, 'c');
	n += put_label(msg + n, 61, 'd');
	msg[n++] = 0xc0;
	msg[n++] = 0x00;

	/* The same with 62: 256 octets. */
	size_t bad = n;
	n += put_label(msg + n, 63, 'c');
	n += put_label(msg + n, 62, 'd');
	msg[n++] = 0xc0;
	msg[n++] = 0x00;

	/* Through two pointers: 3 octets + pointer to the 255-octet name. */
	size_t bad2 = n;
	n += put_label(msg + n, 2, 'e');
	msg[n++] = (uint8_t)(0xc0 | ok >> 8);
	msg[n++] = (uint8_t)ok;

	wire_init(&c, msg, n);
	wire_seek(&c, ok);
	assert_int_equal(dns_name_read(&c, got, &len), 0);
	assert_int_equal(len, 255);
	assert_int_equal(wire_offset(&c), bad);
	assert_int_equal(got[0], 63);
	assert_int_equal(got[64], 61);
	assert_int_equal(got[126], 63);
	assert_int_equal(got[127], 'a');
	assert_int_equal(got[254], 0);

	wire_init(&c, msg, n);
	wire_seek(&c, bad);
	assert_int_equal(dns_name_read(&c, got, &len), ANYDNS_ENAME);
	assert_int_equal(c.err, ANYDNS_ENAME);

	wire_init(&c, msg, n);
	wire_seek(&c, bad2);
	assert_int_equal(dns_name_read(&c, got, &len), ANYDNS_ENAME);

	/* 128 one-octet labels, written as a chain of 2-label names each
	 * pointing at the previous one: fails once past 255. */
	n = 0;
	msg[n++] = 0;
	size_t prev = 0;
	for (int i = 0; i < 64; i++) {
		size_t here = n;
		n += put_label(msg + n, 1, 'x');
		n += put_label(msg + n, 1, 'y');
		msg[n++] = (uint8_t)(0xc0 | prev >> 8);
		msg[n++] = (uint8_t)prev;
		prev = here;
	}
	wire_init(&c, msg, n);
	wire_seek(&c, prev);
	assert_int_equal(dns_name_read(&c, got, &len), ANYDNS_ENAME);
	/* 63 links: 126 labels, 253 octets: fine. */
	size_t link63 = prev - 6;
	wire_init(&c, msg, n);
	wire_seek(&c, link63);
	assert_int_equal(dns_name_read(&c, got, &len), 0);
	assert_int_equal(len, 253);
	assert_int_equal(dns_name_labels(got), 126);
}

static void read_failed_cursor(void **state)
{
	(void)state;
	const uint8_t msg[] = { 0x01, 'a', 0x00 };
	uint8_t got[DNS_NAME_MAXLEN];
	size_t len;
	struct wire_ctx c;

	wire_init(&c, msg, sizeof(msg));
	wire_fail(&c, ANYDNS_EMALF);
	assert_int_equal(dns_name_read(&c, got, &len), ANYDNS_EMALF);
	assert_int_equal(c.err, ANYDNS_EMALF);
}

static void canonical_order(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "canonical.txt");
	static uint8_t names[32][DNS_NAME_MAXLEN];
	char line[512];
	size_t n = 0, len;

	while (next_line(f, line, sizeof(line))) {
		assert_true(n < 32);
		assert_int_equal(dns_name_from_str(names[n], &len, line, NULL), 0);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 15);

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(dns_name_cmp_canonical(names[i], names[i]), 0);
		for (size_t j = i + 1; j < n; j++) {
			if (dns_name_cmp_canonical(names[i], names[j]) >= 0)
				fail_msg("order of lines %zu and %zu", i, j);
			assert_true(dns_name_cmp_canonical(names[j], names[i]) > 0);
		}
	}
}

static void canonical_case(void **state)
{
	(void)state;
	uint8_t a[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN];
	size_t len;

	assert_int_equal(dns_name_from_str(a, &len, "WwW.ExAmPlE.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "www.example.", NULL), 0);
	assert_int_equal(dns_name_cmp_canonical(a, b), 0);
	/* Non-ASCII octets are not folded: \200 vs \240. */
	assert_int_equal(dns_name_from_str(a, &len, "\\200.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "\\240.", NULL), 0);
	assert_true(dns_name_cmp_canonical(a, b) < 0);
	/* '_' (0x5f) sorts after upper-case letters but before lower-case
	 * ones: the comparison must use lowercase, not uppercase. */
	assert_int_equal(dns_name_from_str(a, &len, "_.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "A.", NULL), 0);
	assert_true(dns_name_cmp_canonical(a, b) < 0);
}

static void helpers(void **state)
{
	(void)state;
	uint8_t a[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN], c[DNS_NAME_MAXLEN];
	size_t len;

	assert_int_equal(dns_name_from_str(a, &len, "WWW.Example.COM.", NULL), 0);
	assert_int_equal(dns_name_len(a), 17);
	assert_int_equal(dns_name_labels(a), 3);
	assert_int_equal(dns_name_labels((const uint8_t *)""), 0);
	assert_int_equal(dns_name_len((const uint8_t *)""), 1);

	assert_int_equal(dns_name_copy_lower(b, a), 17);
	assert_memory_equal(b, "\003www\007example\003com", 17);
	assert_memory_equal(a, "\003WWW\007Example\003COM", 17);	/* untouched */
	assert_true(dns_name_equal(a, b));
	dns_name_lower(a);
	assert_memory_equal(a, b, 17);

	/* Non-ASCII octets are compared exactly: \196 vs \228 differ only in
	 * bit 0x20 but are not letters. */
	assert_int_equal(dns_name_from_str(a, &len, "\\196.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "\\228.", NULL), 0);
	assert_false(dns_name_equal(a, b));
	dns_name_lower(a);
	assert_int_equal(a[1], 196);
	/* '@' and '`' differ by 0x20 too. */
	assert_int_equal(dns_name_from_str(a, &len, "\\@.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "`.", NULL), 0);
	assert_false(dns_name_equal(a, b));
	/* Same text, different label split. */
	assert_int_equal(dns_name_from_str(a, &len, "ab.c.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "a.bc.", NULL), 0);
	assert_false(dns_name_equal(a, b));
	assert_int_equal(dns_name_from_str(b, &len, "ab.", NULL), 0);
	assert_false(dns_name_equal(a, b));
	assert_false(dns_name_equal(b, a));

	/* Subdomains. */
	assert_int_equal(dns_name_from_str(a, &len, "www.example.com.", NULL), 0);
	assert_int_equal(dns_name_from_str(b, &len, "EXAMPLE.com.", NULL), 0);
	assert_int_equal(dns_name_from_str(c, &len, "ample.com.", NULL), 0);
	assert_true(dns_name_is_subdomain(a, b));
	assert_true(dns_name_is_subdomain(b, b));
	assert_false(dns_name_is_subdomain(b, a));
	assert_false(dns_name_is_subdomain(a, c));
	assert_true(dns_name_is_subdomain(a, (const uint8_t *)""));

	/* Parents. */
	const uint8_t *p = dns_name_parent(a);
	assert_ptr_equal(p, a + 4);
	p = dns_name_parent(dns_name_parent(p));
	assert_int_equal(p[0], 0);
	assert_null(dns_name_parent(p));

	/* Wildcards. */
	assert_int_equal(dns_name_from_str(a, &len, "*.example.", NULL), 0);
	assert_true(dns_name_is_wildcard(a));
	assert_int_equal(dns_name_from_str(a, &len, "\\*.example.", NULL), 0);
	assert_true(dns_name_is_wildcard(a));
	assert_int_equal(dns_name_from_str(a, &len, "*a.example.", NULL), 0);
	assert_false(dns_name_is_wildcard(a));
	assert_int_equal(dns_name_from_str(a, &len, "a.*.example.", NULL), 0);
	assert_false(dns_name_is_wildcard(a));
	assert_false(dns_name_is_wildcard((const uint8_t *)""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_str_table),
		cmocka_unit_test(from_str_origin),
		cmocka_unit_test(to_str_table),
		cmocka_unit_test(to_str_worst_case),
		cmocka_unit_test(read_table),
		cmocka_unit_test(read_long_through_pointers),
		cmocka_unit_test(read_failed_cursor),
		cmocka_unit_test(canonical_order),
		cmocka_unit_test(canonical_case),
		cmocka_unit_test(helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
