/*
 * Unit tests for src/dns/rrtype.c: mnemonics both ways (every type of the
 * enum, RFC 3597 "TYPEnnn"), RCODE names, the sets of compressible and
 * lowercased types (RFC 3597 §4, RFC 4034 §6.2 with RFC 6840 §5.1), and
 * RDATA checks and name walks driven by tables in tests/unit/data/dns/.
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

/* Types of the enum, read from rrtypes.txt. */
static uint16_t enum_types[128];
static unsigned enum_n;

static int load_types(void **state)
{
	(void)state;
	FILE *f = fopen(DATA_DIR "rrtypes.txt", "r");
	char line[128];
	if (f == NULL)
		return -1;
	enum_n = 0;
	while (next_line(f, line, sizeof(line)) && enum_n < 128) {
		unsigned v;
		if (sscanf(line, "%u", &v) != 1)
			return -1;
		enum_types[enum_n++] = (uint16_t)v;
	}
	fclose(f);
	return 0;
}

static void mnemonics_table(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "rrtypes.txt");
	char line[128];
	unsigned cases = 0;

	while (next_line(f, line, sizeof(line))) {
		unsigned num;
		char mn[32], buf[16], lowered[32], generic[24];
		assert_int_equal(sscanf(line, "%u %31s", &num, mn), 2);

		assert_string_equal(dns_rrtype_to_str((uint16_t)num, buf), mn);
		const struct dns_rrtype_desc *d = dns_rrtype_desc((uint16_t)num);
		assert_non_null(d);
		assert_string_equal(d->name, mn);

		uint16_t t = 0;
		assert_int_equal(dns_rrtype_from_str(mn, &t), 0);
		assert_int_equal(t, num);
		for (size_t i = 0; i <= strlen(mn); i++)
			lowered[i] = (char)tolower((unsigned char)mn[i]);
		t = 0;
		assert_int_equal(dns_rrtype_from_str(lowered, &t), 0);
		assert_int_equal(t, num);
		snprintf(generic, sizeof(generic), "TYPE%u", num);
		t = 0;
		assert_int_equal(dns_rrtype_from_str(generic, &t), 0);
		assert_int_equal(t, num);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 73);
	assert_int_equal(enum_n, 73);
}

static void unknown_types(void **state)
{
	(void)state;
	char buf[16];
	uint16_t t = 7;

	assert_string_equal(dns_rrtype_to_str(0, buf), "TYPE0");
	assert_string_equal(dns_rrtype_to_str(31, buf), "TYPE31");
	assert_string_equal(dns_rrtype_to_str(258, buf), "TYPE258");
	assert_string_equal(dns_rrtype_to_str(65535, buf), "TYPE65535");
	assert_null(dns_rrtype_desc(0));
	assert_null(dns_rrtype_desc(31));
	assert_null(dns_rrtype_desc(258));
	assert_null(dns_rrtype_desc(65280));

	assert_int_equal(dns_rrtype_from_str("type65280", &t), 0);
	assert_int_equal(t, 65280);
	assert_int_equal(dns_rrtype_from_str("TYPE65535", &t), 0);
	assert_int_equal(t, 65535);
	assert_int_equal(dns_rrtype_from_str("TYPE0", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(dns_rrtype_from_str("TyPe028", &t), 0);
	assert_int_equal(t, 28);

	t = 7;
	const char *bad[] = {
		"", "TYPE", "TYPE65536", "TYPE123456", "TYPEx", "TYPE1x",
		"TYPE-1", "TYPE 1", "FOO", "A ", " A", "AAAAA", "NSAP_PTR", "*",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dns_rrtype_from_str(bad[i], &t) != ANYDNS_EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	assert_int_equal(t, 7);
}

static void rcodes(void **state)
{
	(void)state;
	char buf[16];
	static const char *const want[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
		"DSOTYPENI", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
		"BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG",
		"BADTRUNC", "BADCOOKIE", "RCODE24",
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(dns_rcode_to_str((uint16_t)i, buf), want[i]);
	assert_string_equal(dns_rcode_to_str(4095, buf), "RCODE4095");
	assert_string_equal(dns_rcode_to_str(65535, buf), "RCODE65535");
}

static bool has_field(const struct dns_rrtype_desc *d, uint8_t field)
{
	for (unsigned i = 0; i < 8 && d->blocks[i].field != DNS_RDF_END; i++)
		if (d->blocks[i].field == field)
			return true;
	return false;
}

static bool in_list(uint16_t t, const uint16_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == t)
			return true;
	return false;
}

/* RFC 3597 §4: exactly these types have compressible names. */
static void compressible_set(void **state)
{
	(void)state;
	static const uint16_t compr[] = {
		DNS_TYPE_NS, DNS_TYPE_MD, DNS_TYPE_MF, DNS_TYPE_CNAME,
		DNS_TYPE_SOA, DNS_TYPE_MB, DNS_TYPE_MG, DNS_TYPE_MR,
		DNS_TYPE_PTR, DNS_TYPE_MINFO, DNS_TYPE_MX,
	};
	static const uint16_t plain[] = {
		DNS_TYPE_RP, DNS_TYPE_AFSDB, DNS_TYPE_RT, DNS_TYPE_PX,
		DNS_TYPE_KX, DNS_TYPE_SRV, DNS_TYPE_NAPTR, DNS_TYPE_DNAME,
		DNS_TYPE_NSEC, DNS_TYPE_RRSIG, DNS_TYPE_SIG, DNS_TYPE_NXT,
		DNS_TYPE_SVCB, DNS_TYPE_HTTPS, DNS_TYPE_NSAP_PTR, DNS_TYPE_LP,
		DNS_TYPE_TSIG, DNS_TYPE_TKEY,
	};
	for (unsigned i = 0; i < enum_n; i++) {
		uint16_t t = enum_types[i];
		const struct dns_rrtype_desc *d = dns_rrtype_desc(t);
		assert_non_null(d);
		bool c = in_list(t, compr, sizeof(compr) / sizeof(compr[0]));
		bool p = in_list(t, plain, sizeof(plain) / sizeof(plain[0]));
		if (has_field(d, DNS_RDF_CNAME) != c)
			fail_msg("type %u: compressible %d", t, !c);
		if (has_field(d, DNS_RDF_NAME) != p)
			fail_msg("type %u: uncompressed name %d", t, !p);
	}
}

/* RFC 4034 §6.2 as amended by RFC 6840 §5.1. */
static void lowercase_set(void **state)
{
	(void)state;
	static const uint16_t lower[] = {
		DNS_TYPE_NS, DNS_TYPE_MD, DNS_TYPE_MF, DNS_TYPE_CNAME,
		DNS_TYPE_SOA, DNS_TYPE_MB, DNS_TYPE_MG, DNS_TYPE_MR,
		DNS_TYPE_PTR, DNS_TYPE_MINFO, DNS_TYPE_MX, DNS_TYPE_RP,
		DNS_TYPE_AFSDB, DNS_TYPE_RT, DNS_TYPE_SIG, DNS_TYPE_PX,
		DNS_TYPE_NXT, DNS_TYPE_NAPTR, DNS_TYPE_KX, DNS_TYPE_SRV,
		DNS_TYPE_DNAME, DNS_TYPE_A6, DNS_TYPE_RRSIG,
	};
	unsigned n = 0;
	for (unsigned i = 0; i < enum_n; i++) {
		uint16_t t = enum_types[i];
		bool want = in_list(t, lower, sizeof(lower) / sizeof(lower[0]));
		if (dns_rrtype_desc(t)->lower_in_canonical != want)
			fail_msg("type %u: lower_in_canonical", t);
		n += want;
	}
	assert_int_equal(n, 23);
	assert_false(dns_rrtype_desc(DNS_TYPE_NSEC)->lower_in_canonical);
	assert_false(dns_rrtype_desc(DNS_TYPE_HINFO)->lower_in_canonical);
}

static void rdata_check_table(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "rdata_check.txt");
	char line[1024];
	unsigned cases = 0;

	while (next_line(f, line, sizeof(line))) {
		char type[32], hex[512], expect[16];
		uint8_t rdata[256];
		uint16_t t;
		assert_int_equal(sscanf(line, "%31s %511s %15s", type, hex, expect), 3);
		assert_int_equal(dns_rrtype_from_str(type, &t), 0);
		size_t len = unhex(rdata, sizeof(rdata), hex);
		int want = strcmp(expect, "OK") == 0 ? 0 : ANYDNS_EMALF;
		int got = dns_rdata_check(t, rdata, len);
		if (got != want)
			fail_msg("%s: got %d", line, got);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 89);
}

struct names_seen {
	char text[128];
	const uint8_t *base;
	unsigned n;
};

static void collect(const uint8_t *name, size_t offset, bool compressible,
		    void *arg)
{
	struct names_seen *s = arg;
	size_t used = strlen(s->text);
	assert_ptr_equal(name, s->base + offset);
	snprintf(s->text + used, sizeof(s->text) - used, "%s%zu%c",
		 s->n > 0 ? "," : "", offset, compressible ? 'c' : 'n');
	s->n++;
}

static void rdata_names_table(void **state)
{
	(void)state;
	FILE *f = open_data(DATA_DIR "rdata_names.txt");
	char line[1024];
	unsigned cases = 0;

	while (next_line(f, line, sizeof(line))) {
		char type[32], hex[512], expect[16], names[128];
		uint8_t rdata[256];
		uint16_t t;
		assert_int_equal(sscanf(line, "%31s %511s %15s %127s", type, hex,
					expect, names), 4);
		assert_int_equal(dns_rrtype_from_str(type, &t), 0);
		size_t len = unhex(rdata, sizeof(rdata), hex);

		struct names_seen seen = { .text = "", .base = rdata };
		int want = strcmp(expect, "OK") == 0 ? 0 : ANYDNS_EMALF;
		int got = dns_rdata_names(t, rdata, len, collect, &seen);
		if (got != want)
			fail_msg("%s: got %d", line, got);
		if (strcmp(names, "-") == 0)
			strcpy(names, "");
		if (strcmp(seen.text, names) != 0)
			fail_msg("%s: names %s", line, seen.text);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 26);
}

/* Names in RDATA obey the 255-octet limit. */
static void rdata_long_names(void **state)
{
	(void)state;
	uint8_t rdata[300];
	size_t n = 2;

	rdata[0] = 0;
	rdata[1] = 10;		/* MX preference */
	for (int l = 0; l < 3; l++) {
		rdata[n++] = 63;
		memset(rdata + n, 'a', 63);
		n += 63;
	}
	rdata[n++] = 61;
	memset(rdata + n, 'b', 61);
	n += 61;
	rdata[n++] = 0;
	assert_int_equal(n, 2 + 255);
	assert_int_equal(dns_rdata_check(DNS_TYPE_MX, rdata, n), 0);

	/* Empty RDATA may be passed as NULL. */
	assert_int_equal(dns_rdata_check(DNS_TYPE_TXT, NULL, 0), 0);
	assert_int_equal(dns_rdata_check(DNS_TYPE_A, NULL, 0), ANYDNS_EMALF);
	assert_int_equal(dns_rdata_check(DNS_TYPE_NS, NULL, 0), ANYDNS_EMALF);

	rdata[2 + 192] = 62;	/* one more octet in the last label */
	memmove(rdata + 2 + 193 + 62, rdata + 2 + 193 + 61, 1);
	rdata[2 + 193 + 61] = 'b';
	n++;
	assert_int_equal(dns_rdata_check(DNS_TYPE_MX, rdata, n), ANYDNS_EMALF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mnemonics_table),
		cmocka_unit_test(unknown_types),
		cmocka_unit_test(rcodes),
		cmocka_unit_test(compressible_set),
		cmocka_unit_test(lowercase_set),
		cmocka_unit_test(rdata_check_table),
		cmocka_unit_test(rdata_names_table),
		cmocka_unit_test(rdata_long_names),
	};
	return cmocka_run_group_tests(tests, load_types, NULL);
}
