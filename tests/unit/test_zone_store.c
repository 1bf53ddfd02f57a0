/*
 * Unit tests for src/zone/store.c: zone_write_file() writes a zone that
 * zone_load_file() reads back equal, node by node and record by record
 * (RFC 3597 §5 generic form for every type: A, AAAA, MX, TXT with spaces
 * and quotes, CAA, SRV, a delegation with glue, a wildcard, owners with
 * escaped dots, spaces and binary octets, unknown types with empty and
 * 65535-octet RDATA, the root zone); the exact text of some lines; the
 * atomic replacement (no PATH.tmp left, the old file intact when the new
 * one cannot be written); the zones it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "zone/zone.h"
#include "file_test.h"
#include "zone_diff_test.h"

static const char EXAMPLE[] =
	"$ORIGIN example.\n"
	"$TTL 3600\n"
	"@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
	"@ IN NS ns1\n"
	"@ IN NS NS2.Example.NET.\n"
	"@ IN MX 10 mail\n"
	"@ IN TXT \"v=spf1 -all\" \"with \\\"quotes\\\" and  spaces\"\n"
	"@ IN CAA 0 issue \"letsencrypt.org\"\n"
	"ns1 IN A 192.0.2.1\n"
	"ns1 IN AAAA 2001:db8::1\n"
	"mail 300 IN A 192.0.2.2\n"
	"_sip._tcp IN SRV 10 20 5060 sip\n"
	"sip IN A 192.0.2.3\n"
	"*.wild IN A 192.0.2.4\n"
	"*.wild IN TXT \"wildcard\"\n"
	"sub IN NS ns.sub\n"
	"ns.sub IN A 192.0.2.5\n"
	"ns.sub IN AAAA 2001:db8::5\n"
	"a\\.b IN A 192.0.2.6\n"
	"with\\ space IN TXT \"x\"\n"
	"\\$d\\@a\\;s\\(p\\)\\\"q IN A 192.0.2.7\n"
	"\\000\\255bin IN TYPE65000 \\# 3 010203\n"
	"unk IN TYPE65000 \\# 0\n"
	"deep.ent.chain 60 IN A 192.0.2.8\n"
	"www IN CNAME www.example.net.\n";

static const char ROOT[] =
	". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. "
	"2024010100 1800 900 604800 86400\n"
	". 518400 IN NS a.root-servers.net.\n"
	"example. 172800 IN NS ns.example.\n"
	"ns.example. 172800 IN A 192.0.2.53\n";

static struct zone *load(const char *origin, const char *path)
{
	uint8_t o[DNS_NAME_MAXLEN];
	size_t l;
	assert_int_equal(dns_name_from_str(o, &l, origin, NULL), 0);
	struct zone *z = NULL;
	char err[512];
	int ret = zone_load_file(o, path, &z, err, sizeof(err));
	if (ret != 0)
		fail_msg("loading %s: %s", path, err);
	return z;
}

/* The line of text that starts with prefix (a whole line), or NULL. */
static const char *line_with(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, n) == 0)
			return p;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* The example zone plus a 65535-octet TYPE65001 record: the longest
 * line there can be. */
static char *example_text(void)
{
	size_t base = strlen(EXAMPLE);
	size_t cap = base + 64 + 2 * 65535;
	char *t = malloc(cap);
	assert_non_null(t);
	memcpy(t, EXAMPLE, base);
	size_t n = base + (size_t)snprintf(t + base, cap - base,
					   "big IN TYPE65001 \\# 65535 ");
	for (unsigned i = 0; i < 65535; i++)
		n += (size_t)snprintf(t + n, cap - n, "%02x", (i * 7) & 0xff);
	t[n++] = '\n';
	t[n] = '\0';
	return t;
}

static void round_trip_one(const char *origin, const char *text)
{
	char src[PATH_CAP], copy[PATH_CAP], tmp[PATH_CAP];
	in_dir(src, "source.zone");
	in_dir(copy, "copy.zone");
	in_dir(tmp, "copy.zone.tmp");
	put_file(src, text, strlen(text));
	struct zone *z1 = load(origin, src);
	char err[256] = "untouched";
	assert_int_equal(zone_write_file(z1, copy, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_false(exists(tmp));
	struct zone *z2 = load(origin, copy);
	zt_assert_same(z1, z2);

	/* The SOA is the first record, right after $ORIGIN. */
	char *out = get_file(copy, NULL);
	assert_non_null(out);
	const char *o = line_with(out, "$ORIGIN .\n");
	assert_non_null(o);
	char soa_start[DNS_NAME_STRLEN + 32];
	snprintf(soa_start, sizeof(soa_start), "%s %u IN TYPE6 \\# ",
		 z1->name_str, z1->soa->ttl);
	assert_true(strncmp(o + strlen("$ORIGIN .\n"), soa_start,
			    strlen(soa_start)) == 0);
	free(out);
	zone_free(z1);
	zone_free(z2);
	unlink(src);
	unlink(copy);
}

static void round_trip(void **state)
{
	(void)state;
	char *text = example_text();
	round_trip_one("example.", text);
	free(text);
	round_trip_one(".", ROOT);
}

/* Lines as written, for the reader of the file format. */
static void exact_lines(void **state)
{
	(void)state;
	char src[PATH_CAP], copy[PATH_CAP], tmp[PATH_CAP];
	in_dir(src, "source.zone");
	in_dir(copy, "copy.zone");
	in_dir(tmp, "copy.zone.tmp");
	put_file(src, EXAMPLE, strlen(EXAMPLE));
	struct zone *z = load("example.", src);
	assert_int_equal(zone_write_file(z, copy, NULL, 0), 0);
	assert_false(exists(tmp));
	char *out = get_file(copy, NULL);
	static const char *const lines[] = {
		"a\\.b.example. 3600 IN TYPE1 \\# 4 c0000206\n",
		"with\\ space.example. 3600 IN TYPE16 \\# 2 0178\n",
		"\\$d\\@a\\;s\\(p\\)\\\"q.example. 3600 IN TYPE1 \\# 4 "
		"c0000207\n",
		"\\000\\255bin.example. 3600 IN TYPE65000 \\# 3 010203\n",
		"unk.example. 3600 IN TYPE65000 \\# 0\n",
		"deep.ent.chain.example. 60 IN TYPE1 \\# 4 c0000208\n",
		"example. 3600 IN TYPE257 \\# 22 "
		"000569737375656c657473656e63727970742e6f7267\n",
		"*.wild.example. 3600 IN TYPE1 \\# 4 c0000204\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (line_with(out, lines[i]) == NULL)
			fail_msg("no line %s in:\n%s", lines[i], out);
	/* The SOA once only. */
	const char *soa = strstr(out, " IN TYPE6 ");
	assert_non_null(soa);
	assert_null(strstr(soa + 1, " IN TYPE6 "));
	free(out);
	zone_free(z);
	unlink(src);
	unlink(copy);
}

static void overwrite(void **state)
{
	(void)state;
	char src[PATH_CAP], copy[PATH_CAP], tmp[PATH_CAP];
	in_dir(src, "source.zone");
	in_dir(copy, "copy.zone");
	in_dir(tmp, "copy.zone.tmp");
	put_file(src, EXAMPLE, strlen(EXAMPLE));
	struct zone *z = load("example.", src);
	put_file(copy, "old contents\n", 13);
	char err[256];
	assert_int_equal(zone_write_file(z, copy, err, sizeof(err)), 0);
	assert_false(exists(tmp));
	struct zone *back = load("example.", copy);
	zt_assert_same(z, back);
	zone_free(back);

	/* PATH.tmp cannot be made (a directory is in the way): an error
	 * naming it, and the file in place is the one written before. */
	size_t before_len;
	char *before = get_file(copy, &before_len);
	assert_int_equal(mkdir(tmp, 0755), 0);
	err[0] = '\0';
	assert_int_equal(zone_write_file(z, copy, err, sizeof(err)),
			 -EISDIR);
	assert_non_null(strstr(err, "copy.zone.tmp"));
	assert_file_holds(copy, before, before_len);
	free(before);
	assert_int_equal(rmdir(tmp), 0);

	/* A directory that does not exist. */
	err[0] = '\0';
	char none[PATH_CAP];
	in_dir(none, "none/copy.zone");
	assert_int_equal(zone_write_file(z, none, err, sizeof(err)),
			 ANYDNS_ENOENT);
	assert_true(strlen(err) > 0);
	zone_free(z);
	unlink(src);
	unlink(copy);
}

static void no_report(void *arg, const char *file, unsigned long line,
		      bool is_error, const char *msg)
{
	(void)arg;
	(void)file;
	(void)line;
	(void)is_error;
	fail_msg("builder: %s", msg);
}

static void builder_zone(struct zone **out, uint16_t type,
			 const uint8_t *rdata, uint16_t rdlen)
{
	static const uint8_t apex[] = "\x07" "example";
	static const uint8_t www[] = "\x03" "www" "\x07" "example";
	static const uint8_t soa[] =
		"\x02" "ns" "\x07" "example" "\0" "\x02" "hm" "\x07" "example"
		"\0" "\0\0\0\1" "\0\0\0\2" "\0\0\0\3" "\0\0\0\4" "\0\0\0\5";
	static const uint8_t ns[] = "\x02" "ns" "\x07" "example";
	struct zone_builder *b = zone_builder_new(apex, no_report, NULL);
	assert_non_null(b);
	assert_int_equal(zone_builder_add(b, apex, DNS_TYPE_SOA, 60, soa,
					  sizeof(soa) - 1, NULL, 0), 0);
	assert_int_equal(zone_builder_add(b, apex, DNS_TYPE_NS, 60, ns,
					  sizeof(ns), NULL, 0), 0);
	assert_int_equal(zone_builder_add(b, www, type, 60, rdata, rdlen,
					  NULL, 0), 0);
	assert_int_equal(zone_builder_finish(b, out), 0);
}

/* Zones that cannot be written as a file zone_load_file() reads. */
static void refused(void **state)
{
	(void)state;
	char copy[PATH_CAP], tmp[PATH_CAP];
	in_dir(copy, "copy.zone");
	in_dir(tmp, "copy.zone.tmp");
	/* Empty TXT RDATA: libzscanner reads "\# 0" for unknown types only. */
	struct zone *z = NULL;
	builder_zone(&z, DNS_TYPE_TXT, (const uint8_t *)"", 0);
	char err[256] = "";
	assert_int_equal(zone_write_file(z, copy, err, sizeof(err)),
			 ANYDNS_EINVAL);
	assert_string_equal(err, "zone example.: www.example. TXT has empty "
			    "RDATA, which libzscanner cannot read back");
	assert_false(exists(copy));
	assert_false(exists(tmp));
	zone_free(z);

	/* The same for an unknown type is fine. */
	builder_zone(&z, 65100, (const uint8_t *)"", 0);
	assert_int_equal(zone_write_file(z, copy, err, sizeof(err)), 0);
	struct zone *back = load("example.", copy);
	zt_assert_same(z, back);
	zone_free(back);
	zone_free(z);
	unlink(copy);

	/* A placeholder has nothing to write. */
	assert_int_equal(zone_new_servfail((const uint8_t *)"\x07" "example",
					   &z), 0);
	assert_int_equal(zone_write_file(z, copy, err, sizeof(err)),
			 ANYDNS_EINVAL);
	assert_string_equal(err, "zone example. has no data to write");
	assert_false(exists(copy));
	zone_free(z);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(exact_lines),
		cmocka_unit_test(overwrite),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
