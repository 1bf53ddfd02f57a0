/*
 * Unit tests for src/zone/load.c: master files through libzscanner
 * (RFC 1035 §5: $ORIGIN, $TTL, $INCLUDE; RFC 3597 §5 generic RDATA), the
 * $GENERATE expansion done here, the error text "file:line: message" of
 * every class of bad zone (table in tests/unit/data/zones/bad.txt), and a
 * generated 100,000-record zone whose load time and size are printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "zone/zone.h"

#define DIR "tests/unit/data/zones"

static void wire(uint8_t *dst, size_t *len, const char *s)
{
	size_t l;
	assert_int_equal(dns_name_from_str(dst, &l, s, NULL), 0);
	dns_name_lower(dst);
	if (len != NULL)
		*len = l;
}

static int load(const char *origin, const char *path, struct zone **z,
		char *err, size_t errlen)
{
	uint8_t o[DNS_NAME_MAXLEN];
	wire(o, NULL, origin);
	return zone_load_file(o, path, z, err, errlen);
}

static const struct zone_node *find(const struct zone *z, const char *s)
{
	uint8_t n[DNS_NAME_MAXLEN];
	size_t len;
	wire(n, &len, s);
	return zone_find(z, n, len);
}

static const struct zone_rrset *rrset(const struct zone *z, const char *name,
				      uint16_t type)
{
	const struct zone_node *n = find(z, name);
	assert_non_null(n);
	const struct zone_rrset *rs = zone_node_rrset(n, type);
	assert_non_null(rs);
	return rs;
}

/* The RRset's records, each as "len:hex", joined by spaces. */
static const char *rdata_hex(const struct zone_rrset *rs)
{
	static char buf[1024];
	size_t o = 0;
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	buf[0] = '\0';
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &len)) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u:",
				      o ? " " : "", len);
		for (uint16_t i = 0; i < len; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%02x",
					      rd[i]);
	}
	return buf;
}

static void good_zone(void **state)
{
	(void)state;
	struct zone *z = NULL;
	char err[256] = "untouched";
	time_t before = time(NULL);
	assert_int_equal(load("example.", DIR "/good.zone", &z, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_non_null(z);
	assert_string_equal(z->source, DIR "/good.zone");
	assert_true(z->loaded_at >= before && z->loaded_at <= time(NULL));
	assert_int_equal(z->serial, 2024010101);
	assert_int_equal(z->node_count, 26);
	assert_int_equal(z->rr_count, 33);
	assert_int_equal(z->refs, 0);
	assert_true(arena_size(&z->arena) > 0);

	/* NS: the case variant of ns1 is a duplicate; case is kept. */
	const struct zone_rrset *ns = rrset(z, "example.", DNS_TYPE_NS);
	assert_int_equal(ns->count, 2);
	assert_int_equal(ns->ttl, 3600);
	assert_string_equal(rdata_hex(ns),
			    "13:036e7331076578616d706c6500 "
			    "13:036e7332074578616d706c6500");
	/* MX: the exact duplicate dropped, sorted by canonical RDATA. */
	assert_string_equal(rdata_hex(rrset(z, "example.", DNS_TYPE_MX)),
			    "17:0005056d61696c32076578616d706c6500 "
			    "16:000a046d61696c076578616d706c6500");
	/* TXT "b" "ab" "a": shorter sorts first only on a common prefix. */
	assert_string_equal(rdata_hex(rrset(z, "txt.example.", DNS_TYPE_TXT)),
			    "2:0161 2:0162 3:026162");
	/* The first TTL of an RRset wins. */
	const struct zone_rrset *ttl = rrset(z, "ttl.example.", DNS_TYPE_A);
	assert_int_equal(ttl->count, 2);
	assert_int_equal(ttl->ttl, 3600);
	/* RFC 3597 generic RDATA of an unknown type. */
	assert_string_equal(rdata_hex(rrset(z, "unk.example.", 65280)),
			    "3:010203");
	/* The SOA, with names made absolute. */
	assert_string_equal(rdata_hex(z->soa),
			    "53:036e7331076578616d706c65000a686f73746d6173746572"
			    "076578616d706c650078a3f17500001c2000000e1000127500"
			    "0000012c");
	assert_string_equal(rdata_hex(rrset(z, "www.example.", DNS_TYPE_CNAME)),
			    "9:076578616d706c6500");
	/* $INCLUDE relative to the including file, with its origin. */
	assert_string_equal(rdata_hex(rrset(z, "inc.example.", DNS_TYPE_TXT)),
			    "9:08696e636c75646564");
	/* $GENERATE 1-3 host$ A 192.0.2.$ */
	assert_string_equal(rdata_hex(rrset(z, "host2.example.", DNS_TYPE_A)),
			    "4:c0000202");
	assert_non_null(find(z, "host1.example."));
	assert_non_null(find(z, "host3.example."));
	assert_null(find(z, "host4.example."));
	zone_free(z);
}

static void generate(void **state)
{
	(void)state;
	struct zone *z = NULL;
	char err[256];
	assert_int_equal(load("example.", DIR "/generate.zone", &z, err, sizeof(err)), 0);
	/* 1-5/2 */
	assert_string_equal(rdata_hex(rrset(z, "h1.example.", DNS_TYPE_A)), "4:c0000201");
	assert_string_equal(rdata_hex(rrset(z, "h3.example.", DNS_TYPE_A)), "4:c0000203");
	assert_string_equal(rdata_hex(rrset(z, "h5.example.", DNS_TYPE_A)), "4:c0000205");
	assert_null(find(z, "h2.example."));
	assert_null(find(z, "h7.example."));
	/* ${-9,3,d} and ${0,4,x}; "\$" stays a "$". */
	assert_string_equal(rdata_hex(rrset(z, "001.pad.example.", DNS_TYPE_TXT)),
			    "10:09763d30303061202478");
	assert_string_equal(rdata_hex(rrset(z, "002.pad.example.", DNS_TYPE_TXT)),
			    "10:09763d30303062202478");
	/* ${0,0,X} and ${-9}; the directive is case-insensitive. */
	assert_string_equal(rdata_hex(rrset(z, "ra.example.", DNS_TYPE_CNAME)),
			    "15:05686f737431076578616d706c6500");
	assert_string_equal(rdata_hex(rrset(z, "rb.example.", DNS_TYPE_CNAME)),
			    "15:05686f737432076578616d706c6500");
	/* "$$" is a literal "$": price-$101. */
	assert_string_equal(rdata_hex(rrset(z, "dollar.example.", DNS_TYPE_TXT)),
			    "11:0a70726963652d24313031");
	/* In an included file, with the $TTL in force there. */
	const struct zone_rrset *inc = rrset(z, "inc7.example.", DNS_TYPE_AAAA);
	assert_int_equal(inc->ttl, 60);
	assert_string_equal(rdata_hex(inc), "16:20010db8000000000000000000000007");
	assert_non_null(find(z, "inc8.example."));
	/* Parsing goes on after both. */
	assert_non_null(find(z, "last.example."));
	assert_int_equal(z->rr_count, 3 + 3 + 2 + 2 + 1 + 2 + 1);
	zone_free(z);
}

static char *trim(char *s)
{
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static int code_of(const char *s)
{
	static const struct { const char *name; int code; } codes[] = {
		{ "ESYNTAX", ANYDNS_ESYNTAX }, { "EZONE", ANYDNS_EZONE },
		{ "ENOSOA", ANYDNS_ENOSOA }, { "ENOENT", ANYDNS_ENOENT },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(s, codes[i].name) == 0)
			return codes[i].code;
	fail_msg("unknown code %s", s);
	return 0;
}

static void bad_zones(void **state)
{
	(void)state;
	char dir[PATH_MAX];
	assert_non_null(realpath(DIR, dir));
	FILE *f = fopen(DIR "/bad.txt", "r");
	assert_non_null(f);
	char line[1024];
	unsigned cases = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char *file = strtok(line, "|");
		char *code = strtok(NULL, "|");
		char *text = strtok(NULL, "|");
		assert_non_null(text);
		file = trim(file);
		code = trim(code);
		text = trim(text);
		char path[PATH_MAX], want[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", DIR, file);
		if (strncmp(text, "@DIR@", 5) == 0)
			snprintf(want, sizeof(want), "%s%s", dir, text + 5);
		else
			snprintf(want, sizeof(want), "%s", text);

		struct zone *z = (struct zone *)&cases;	/* must stay untouched */
		char err[PATH_MAX + 256];
		int ret = load("example.", path, &z, err, sizeof(err));
		if (ret != code_of(code) || strcmp(err, want) != 0)
			fail_msg("%s: got %d \"%s\", want %s \"%s\"", file, ret,
				 err, code, want);
		assert_ptr_equal(z, &cases);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 17);
}

static void missing_file(void **state)
{
	(void)state;
	struct zone *z = NULL;
	char err[256];
	assert_int_equal(load("example.", DIR "/missing.zone", &z, err, sizeof(err)),
			 ANYDNS_ENOENT);
	assert_string_equal(err, "cannot open " DIR "/missing.zone: "
			    "No such file or directory");
	assert_null(z);
	assert_int_equal(load("example.", DIR, &z, err, sizeof(err)), ANYDNS_ENOENT);
	assert_string_equal(err, "cannot open " DIR ": not a regular file");
	/* No error buffer, or a tiny one, is fine. */
	assert_int_equal(load("example.", DIR "/missing.zone", &z, NULL, 0),
			 ANYDNS_ENOENT);
	assert_int_equal(load("example.", DIR "/bad-nosoa.zone", &z, err, 8),
			 ANYDNS_ENOSOA);
	assert_string_equal(err, "tests/u");
	assert_null(z);
}

/* Another origin: the apex of the file is the origin given. */
static void other_origin(void **state)
{
	(void)state;
	struct zone *z = NULL;
	char err[256];
	/* good.zone sets $ORIGIN example. itself: loaded for example.org.
	 * every record is outside the zone, so there is no SOA either. The
	 * first error is kept: a record spanning lines is reported at its
	 * last line, where libzscanner completes it. */
	assert_int_equal(load("example.org.", DIR "/good.zone", &z, err, sizeof(err)),
			 ANYDNS_ENOSOA);
	assert_string_equal(err, DIR "/good.zone:5: record outside the zone");
	assert_null(z);
}

/* A file that is no zone stops the load after 100 errors. */
static void many_errors(void **state)
{
	(void)state;
	char path[] = "/tmp/anydns-test-zone-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "@ SOA ns hm 1 2 3 4 5\n@ NS ns\n");
	for (int i = 0; i < 5000; i++)
		fprintf(f, "x%d.example.org. A 192.0.2.1\n", i);
	fclose(f);
	struct zone *z = NULL;
	char err[512], want[600];
	assert_int_equal(load("example.", path, &z, err, sizeof(err)),
			 ANYDNS_EZONE);
	snprintf(want, sizeof(want), "%s:3: record outside the zone", path);
	assert_string_equal(err, want);
	assert_null(z);

	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "x%d A 192.0.2.1.1\n", i);
	fclose(f);
	assert_int_equal(load("example.", path, &z, err, sizeof(err)),
			 ANYDNS_ESYNTAX);
	snprintf(want, sizeof(want), "%s:1: invalid IPv4 address", path);
	assert_string_equal(err, want);
	assert_null(z);
	unlink(path);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void big_zone(void **state)
{
	(void)state;
	enum { RECORDS = 100000 };
	char path[] = "/tmp/anydns-test-zone-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "$ORIGIN big.example.\n$TTL 3600\n"
		   "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
		   "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n");
	for (unsigned i = 5; i < RECORDS; i++) {
		if (i % 10 == 0)
			fprintf(f, "h%u.g%u MX 10 mail%u\n", i - 1,
				(i - 1) % 100, i);
		else
			fprintf(f, "h%u.g%u A 10.%u.%u.%u\n", i, i % 100,
				i >> 16, (i >> 8) & 255, i & 255);
	}
	fclose(f);

	struct zone *z = NULL;
	char err[256];
	double t0 = now();
	int ret = load("big.example.", path, &z, err, sizeof(err));
	double t1 = now();
	unlink(path);
	assert_int_equal(ret, 0);
	assert_int_equal(z->rr_count, RECORDS);
	/* Owners: 89,996 h names (MX lines reuse an A owner), 90 g empty
	 * non-terminals (none ends in 0), the apex, ns1 and ns2. */
	assert_int_equal(z->node_count, 89996 + 90 + 3);
	for (size_t i = 0; i < z->node_count; i++) {
		const struct zone_node *n = z->nodes[i];
		assert_ptr_equal(zone_find(z, n->name, n->name_len), n);
	}
	print_message("      100k-record zone: %.3f s, arena %zu bytes "
		      "(%.1f per record), %zu nodes\n", t1 - t0,
		      arena_size(&z->arena),
		      (double)arena_size(&z->arena) / RECORDS, z->node_count);
	zone_free(z);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_zone),
		cmocka_unit_test(generate),
		cmocka_unit_test(bad_zones),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(other_origin),
		cmocka_unit_test(many_errors),
		cmocka_unit_test(big_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
