/*
 * Unit tests for src/zone/journal.c: the file format, byte for byte
 * against an image built here from its description (CRC-32C of RFC 3720
 * §12.1 computed bit by bit); append, close and reopen giving the same
 * diffs; a tail torn at every offset of the last record, and corrupt
 * octets in every field of a record, cut off at the last good record;
 * records whose checksum is right but whose content is not (a table of
 * broken diffs, each rejected by zone_journal_parse()); non-consecutive
 * serials; compaction to the newest diffs within half of max_size; a
 * failed write cut back (RLIMIT_FSIZE); files of another zone or format;
 * clearing.
 *
 * With ANYDNS_JOURNAL_CORPUS=DIR set, a few small journals are also
 * written to DIR: that is how tests/fuzz/corpus/journal/ was made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "zone/zone.h"
#include "file_test.h"
#include "zone_diff_test.h"
#include "unit_data.h"

/* The header of a journal of "example.": magic, version, apex length,
 * apex, checksum. */
#define HLEN (8 + 2 + 1 + 9 + 4)

static const uint8_t APEX[] = "\x07" "example";

/* ---- Diffs --------------------------------------------------------------- */

static void name(uint8_t *dst, const char *s)
{
	size_t len;
	assert_int_equal(dns_name_from_str(dst, &len, s, NULL), 0);
}

/* SOA RDATA "ns.example. hm.example. serial 3600 600 86400 300". */
static size_t soa_rdata(uint8_t *rd, uint32_t serial)
{
	static const uint8_t names[] =
		"\x02" "ns" "\x07" "example" "\0" "\x02" "hm" "\x07" "example";
	size_t n = sizeof(names);	/* the final root label included */
	memcpy(rd, names, n);
	static const uint32_t v[5] = { 0, 3600, 600, 86400, 300 };
	for (int i = 0; i < 5; i++) {
		uint32_t x = i == 0 ? serial : v[i];
		rd[n++] = (uint8_t)(x >> 24);
		rd[n++] = (uint8_t)(x >> 16);
		rd[n++] = (uint8_t)(x >> 8);
		rd[n++] = (uint8_t)x;
	}
	return n;
}

/*
 * A diff from → to: the old SOA and n A records removed, the new SOA and
 * n TXT records added; owners carry tag. Diffs with the same n have the
 * same size.
 */
static struct zone_diff *mkdiff(uint32_t from, uint32_t to, unsigned n,
				unsigned tag)
{
	struct zone_diff_builder *b = zone_diff_builder_new();
	assert_non_null(b);
	uint8_t rd[64], owner[DNS_NAME_MAXLEN];
	size_t len = soa_rdata(rd, from);
	assert_int_equal(zone_diff_builder_add(b, false, APEX, DNS_TYPE_SOA,
					       3600, rd, (uint16_t)len), 0);
	for (unsigned i = 0; i < n; i++) {
		char s[64];
		snprintf(s, sizeof(s), "r%04u-%03u.example.", tag % 10000,
			 i % 1000);
		name(owner, s);
		const uint8_t a[4] = { 192, 0, 2, (uint8_t)i };
		assert_int_equal(zone_diff_builder_add(b, false, owner,
						       DNS_TYPE_A, 300, a, 4), 0);
	}
	len = soa_rdata(rd, to);
	assert_int_equal(zone_diff_builder_add(b, true, APEX, DNS_TYPE_SOA,
					       3600, rd, (uint16_t)len), 0);
	for (unsigned i = 0; i < n; i++) {
		char s[64];
		snprintf(s, sizeof(s), "Add%04u-%03u.example.", tag % 10000,
			 i % 1000);
		name(owner, s);
		static const uint8_t txt[] = "\x0b" "hello world";
		assert_int_equal(zone_diff_builder_add(b, true, owner,
						       DNS_TYPE_TXT, 60, txt,
						       sizeof(txt) - 1), 0);
	}
	struct zone_diff *d = NULL;
	assert_int_equal(zone_diff_builder_finish(b, &d), 0);
	assert_int_equal(d->from, from);
	assert_int_equal(d->to, to);
	return d;
}

static void assert_diff_equal(const struct zone_diff *a,
			      const struct zone_diff *b)
{
	zt_assert_same_diff(a, b);
	/* One block, as zone.h requires. */
	assert_ptr_equal(b->data, (const uint8_t *)(b + 1));
}

/* The size of d's record in a journal. */
static size_t rec_size(const struct zone_diff *d)
{
	return 32 + d->len;
}

static struct zone_journal *jopen(const char *path, size_t max)
{
	struct zone_journal *j = NULL;
	char err[512] = "untouched";
	int ret = zone_journal_open(path, APEX, max, &j, err, sizeof(err));
	if (ret != 0)
		fail_msg("open %s: %d %s", path, ret, err);
	assert_string_equal(err, "");
	return j;
}

/* A journal at path holding diffs from → from + 1 → ... (count of them,
 * each with n records a side); returns them (references of our own). */
static void make_journal(const char *path, struct zone_diff **d, size_t count,
			 uint32_t from, unsigned n)
{
	unlink(path);
	struct zone_journal *j = jopen(path, 0);
	for (size_t i = 0; i < count; i++) {
		d[i] = mkdiff(from + (uint32_t)i, from + (uint32_t)i + 1, n,
			      (unsigned)i);
		assert_int_equal(zone_journal_append(j, d[i]), 0);
	}
	zone_journal_close(j);
}

static void unref_all(struct zone_diff **d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zone_diff_unref(d[i]);
}

/* The journal at path holds exactly want[0..n) and is size octets long. */
static void assert_journal(const char *path, struct zone_diff *const *want,
			   size_t n, size_t size)
{
	struct zone_journal *j = jopen(path, 0);
	size_t got_n;
	struct zone_diff *const *got = zone_journal_diffs(j, &got_n);
	assert_int_equal(got_n, n);
	for (size_t i = 0; i < n; i++)
		assert_diff_equal(want[i], got[i]);
	assert_int_equal(zone_journal_size(j), size);
	assert_int_equal(file_size(path), size);
	zone_journal_close(j);
}

/* ---- The format, from its description in journal.c ------------------------ */

static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

static size_t put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

static size_t header_image(uint8_t *p, const uint8_t *apex, uint16_t version)
{
	size_t n = 0, alen = dns_name_len(apex);
	memcpy(p, "ANYDNSJ1", 8);
	n += 8;
	p[n++] = (uint8_t)(version >> 8);
	p[n++] = (uint8_t)version;
	p[n++] = (uint8_t)alen;
	memcpy(p + n, apex, alen);
	n += alen;
	n += put32(p + n, crc32c_bitwise(p, n));
	return n;
}

struct rec_fields {
	uint32_t from, to, removed, added, added_at;
};

static size_t record_image(uint8_t *p, const struct rec_fields *f,
			   const uint8_t *data, size_t len)
{
	size_t n = 0;
	n += put32(p + n, 0x4a524543u);	/* "JREC" */
	n += put32(p + n, (uint32_t)(32 + len));
	n += put32(p + n, f->from);
	n += put32(p + n, f->to);
	n += put32(p + n, f->removed);
	n += put32(p + n, f->added);
	n += put32(p + n, f->added_at);
	memcpy(p + n, data, len);
	n += len;
	n += put32(p + n, crc32c_bitwise(p, n));
	return n;
}

static size_t diff_image(uint8_t *p, const struct zone_diff *d)
{
	struct rec_fields f = { d->from, d->to, d->removed, d->added,
				(uint32_t)d->added_at };
	return record_image(p, &f, d->data, d->len);
}

static void format(void **state)
{
	(void)state;
	/* The check value of CRC-32C (RFC 3720 B.4 and every CRC catalogue). */
	assert_int_equal(crc32c_bitwise((const uint8_t *)"123456789", 9),
			 0xe3069283u);
	char path[PATH_CAP];
	in_dir(path, "format.journal");
	struct zone_diff *d[2];
	make_journal(path, d, 2, 4294967295u, 1);	/* serials wrap */
	uint8_t want[4096];
	size_t n = header_image(want, APEX, 1);
	assert_int_equal(n, HLEN);
	n += diff_image(want + n, d[0]);
	n += diff_image(want + n, d[1]);
	assert_file_holds(path, want, n);
	unref_all(d, 2);
}

/* ---- Broken records with a good checksum ------------------------------------ */

#define EX "076578616d706c6500"		/* example. */
#define WWW "03777777" EX		/* www.example. */
#define IN_3600 "0001_00000e10"		/* class IN, TTL 3600 */
/* An SOA record at owner: "ns.example. hm.example. SERIAL ...". */
#define SOA_AT(owner, serial) owner "_0006_" IN_3600 "_002c_026e73" EX \
	"_02686d" EX "_" serial "_00000e10_00000258_00015180_0000012c"
#define SOA(serial) SOA_AT(EX, serial)
#define A_AT(owner) owner "_0001_" IN_3600 "_0004_c0000201"
#define L63 "3f" \
	"6161616161616161616161616161616161616161616161616161616161616161" \
	"61616161616161616161616161616161616161616161616161616161616161"

_Static_assert(sizeof(L63) - 1 == 2 + 2 * 63, "L63 is one 63-octet label");

struct bad_case {
	const char *what;
	const char *removed_hex;	/* the removed records */
	const char *added_hex;		/* the added records */
	struct rec_fields f;		/* added_at is relative: see below */
	long count;			/* diffs zone_journal_parse() finds */
};

/* f.added_at is added to the length of removed_hex: 0 is right. */
static const struct bad_case bad_cases[] = {
	{ "a good diff", SOA("00000001") A_AT(WWW), SOA("00000002") A_AT(WWW),
	  { 1, 2, 2, 2, 0 }, 1 },
	{ "empty RDATA of an unknown type", SOA("00000001"),
	  SOA("00000002") WWW "_fde8_" IN_3600 "_0000", { 1, 2, 1, 2, 0 }, 1 },
	{ "removed count too high", SOA("00000001") A_AT(WWW), SOA("00000002"),
	  { 1, 2, 3, 1, 0 }, 0 },
	{ "added count too high", SOA("00000001"), SOA("00000002") A_AT(WWW),
	  { 1, 2, 1, 3, 0 }, 0 },
	{ "added count too low", SOA("00000001"), SOA("00000002") A_AT(WWW),
	  { 1, 2, 1, 1, 0 }, 0 },
	{ "no removed records", "", SOA("00000002"), { 1, 2, 0, 1, 0 }, 0 },
	{ "no records", "", "", { 1, 2, 0, 0, 0 }, 0 },
	{ "added offset early", SOA("00000001") A_AT(WWW), SOA("00000002"),
	  { 1, 2, 2, 1, (uint32_t)-1 }, 0 },
	{ "added offset late", SOA("00000001"), SOA("00000002"),
	  { 1, 2, 1, 1, 1 }, 0 },
	{ "from serial not the old SOA's", SOA("00000001"), SOA("00000002"),
	  { 7, 2, 1, 1, 0 }, 0 },
	{ "to serial not the new SOA's", SOA("00000001"), SOA("00000002"),
	  { 1, 7, 1, 1, 0 }, 0 },
	{ "removed not led by an SOA",
	  WWW "_0010_" IN_3600 "_0002_0161" SOA("00000001"), SOA("00000002"),
	  { 1, 2, 2, 1, 0 }, 0 },
	{ "added not led by an SOA", SOA("00000001"),
	  A_AT(WWW) SOA("00000002"), { 1, 2, 1, 2, 0 }, 0 },
	{ "a second SOA", SOA("00000001"), SOA("00000002") SOA("00000002"),
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "SOA not at the apex", SOA_AT(WWW, "00000001"), SOA("00000002"),
	  { 1, 2, 1, 1, 0 }, 0 },
	{ "class CH", SOA("00000001"),
	  SOA("00000002") WWW "_0001_0003_00000e10_0004_c0000201",
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "uppercase owner", SOA("00000001"), SOA("00000002") A_AT("03575757" EX),
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "compressed owner", SOA("00000001"), SOA("00000002") A_AT("c000"),
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "owner over 255 octets", SOA("00000001"),
	  SOA("00000002") A_AT(L63 L63 L63 L63 EX), { 1, 2, 1, 2, 0 }, 0 },
	{ "owner outside the zone", SOA("00000001"),
	  SOA("00000002") A_AT("03777777076578616d706c6503636f6d00"),
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "owner label past the end", SOA("00000001"),
	  SOA("00000002") "3f616263", { 1, 2, 1, 2, 0 }, 0 },
	{ "fixed fields past the end", SOA("00000001"),
	  SOA("00000002") WWW "_0001_0001", { 1, 2, 1, 2, 0 }, 0 },
	{ "RDLENGTH past the end", SOA("00000001"),
	  SOA("00000002") WWW "_0001_" IN_3600 "_0005_c0000201",
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "malformed A RDATA", SOA("00000001"),
	  SOA("00000002") WWW "_0001_" IN_3600 "_0003_c00002",
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "compressed name in MX RDATA", SOA("00000001"),
	  SOA("00000002") WWW "_000f_" IN_3600 "_0004_000a_c000",
	  { 1, 2, 1, 2, 0 }, 0 },
	{ "a stray octet after the records", SOA("00000001"),
	  SOA("00000002") "00", { 1, 2, 1, 1, 0 }, 0 },
};

static void bad_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		uint8_t data[2048], img[4096];
		size_t rem = unhex(data, sizeof(data), c->removed_hex);
		size_t len = rem + unhex(data + rem, sizeof(data) - rem,
					 c->added_hex);
		struct rec_fields f = c->f;
		f.added_at += (uint32_t)rem;
		size_t n = header_image(img, APEX, 1);
		size_t rec = record_image(img + n, &f, data, len);
		size_t valid = 12345;
		long got = zone_journal_parse(img, n + rec, APEX, &valid);
		if (got != c->count)
			fail_msg("%s: %ld diffs, expected %ld", c->what, got,
				 c->count);
		assert_int_equal(valid, c->count ? n + rec : n);
	}
}

/* Whole records that are not: magic, length, checksum, serials. */
static void bad_framing(void **state)
{
	(void)state;
	struct zone_diff *d1 = mkdiff(1, 2, 1, 0), *d2 = mkdiff(2, 3, 1, 1);
	struct zone_diff *d3 = mkdiff(4, 5, 1, 2);
	uint8_t img[4096];
	size_t h = header_image(img, APEX, 1);
	size_t r1 = diff_image(img + h, d1);
	size_t r2 = diff_image(img + h + r1, d2);
	size_t valid;
	assert_int_equal(zone_journal_parse(img, h + r1 + r2, APEX, &valid), 2);
	assert_int_equal(valid, h + r1 + r2);

	/* d3 does not follow d2: the valid prefix ends before it. */
	size_t r3 = diff_image(img + h + r1 + r2, d3);
	assert_int_equal(zone_journal_parse(img, h + r1 + r2 + r3, APEX,
					    &valid), 2);
	assert_int_equal(valid, h + r1 + r2);

	/* The length field rewritten, then the checksum flipped. */
	static const struct {
		const char *what;
		int edit;	/* -1 magic, 1 set length, 2 add to it,
				 * 0 checksum */
		uint32_t length;
	} cases[] = {
		{ "bad magic", -1, 0 },
		{ "length 0", 1, 0 },
		{ "length below the fixed part", 1, 31 },
		{ "length past the end", 1, 0xffffffffu },
		{ "length one short", 2, (uint32_t)-1 },
		{ "length one long", 2, 1 },
		{ "checksum", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t copy[4096];
		memcpy(copy, img, h + r1 + r2);
		uint8_t *rec = copy + h + r1;
		if (cases[i].edit < 0)
			rec[0] = 'X';
		else if (cases[i].edit == 1)
			put32(rec + 4, cases[i].length);
		else if (cases[i].edit == 2)
			put32(rec + 4, (uint32_t)r2 + cases[i].length);
		else
			rec[r2 - 1] ^= 0x01;
		if (zone_journal_parse(copy, h + r1 + r2, APEX, &valid) != 1)
			fail_msg("%s: not cut", cases[i].what);
		assert_int_equal(valid, h + r1);
	}

	/* Images shorter than a header that begin like ours have no diffs. */
	assert_int_equal(zone_journal_parse(img, 0, APEX, &valid), 0);
	assert_int_equal(valid, 0);
	assert_int_equal(zone_journal_parse(img, h - 1, APEX, &valid), 0);
	assert_int_equal(valid, 0);
	assert_int_equal(zone_journal_parse(img, h, APEX, &valid), 0);
	assert_int_equal(valid, h);
	/* The apex in any case; NULL valid. */
	assert_int_equal(zone_journal_parse(img, h + r1, (const uint8_t *)
					    "\x07" "EXAMPLE", NULL), 1);
	/* Another zone's. */
	assert_int_equal(zone_journal_parse(img, h + r1, (const uint8_t *)
					    "\x07" "example" "\x03" "com",
					    &valid), ANYDNS_EJOURNAL);
	assert_int_equal(zone_journal_parse(img, 3, (const uint8_t *)
					    "\x07" "example" "\x03" "com",
					    &valid), 0);
	zone_diff_unref(d1);
	zone_diff_unref(d2);
	zone_diff_unref(d3);
}

/* ---- Open, append, close ---------------------------------------------------- */

static void write_corpus(const char *path, const char *name_)
{
	const char *out = getenv("ANYDNS_JOURNAL_CORPUS");
	if (out == NULL)
		return;
	char p[PATH_CAP];
	snprintf(p, sizeof(p), "%s/%s", out, name_);
	size_t len;
	uint8_t *data = get_file(path, &len);
	put_file(p, data, len);
	free(data);
}

static void round_trip(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "rt.journal");
	unlink(path);
	struct zone_journal *j = jopen(path, 0);
	assert_int_equal(zone_journal_size(j), HLEN);
	assert_int_equal(file_size(path), HLEN);
	size_t n;
	zone_journal_diffs(j, &n);
	assert_int_equal(n, 0);
	write_corpus(path, "header-only");

	struct zone_diff *d[5];
	size_t size = HLEN;
	for (size_t i = 0; i < 5; i++) {
		d[i] = mkdiff(100 + (uint32_t)i, 101 + (uint32_t)i,
			      (unsigned)i * 2, (unsigned)i);
		assert_int_equal(zone_journal_append(j, d[i]), 0);
		assert_int_equal(d[i]->refs, 2);	/* ours and the journal's */
		size += rec_size(d[i]);
		assert_int_equal(zone_journal_size(j), size);
		assert_int_equal(file_size(path), size);
		struct zone_diff *const *got = zone_journal_diffs(j, &n);
		assert_int_equal(n, i + 1);
		assert_ptr_equal(got[i], d[i]);
	}
	zone_journal_close(j);
	zone_journal_close(NULL);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(d[i]->refs, 1);
	assert_journal(path, d, 5, size);

	/* The apex in another case is the same zone. */
	struct zone_journal *up = NULL;
	assert_int_equal(zone_journal_open(path, (const uint8_t *)"\x07" "EXAMPLE",
					   0, &up, NULL, 0), 0);
	zone_journal_diffs(up, &n);
	assert_int_equal(n, 5);
	/* Appending goes on from the last diff read. */
	struct zone_diff *more = mkdiff(105, 106, 1, 9);
	assert_int_equal(zone_journal_append(up, more), 0);
	zone_journal_close(up);
	struct zone_diff *all[6] = { d[0], d[1], d[2], d[3], d[4], more };
	assert_journal(path, all, 6, size + rec_size(more));
	write_corpus(path, "six-diffs");
	zone_diff_unref(more);
	unref_all(d, 5);
}

/* The journal at path is cut at the last record boundary at or below
 * cut when reopened. */
static void check_cut(const char *path, const uint8_t *image, size_t cut,
		      struct zone_diff *const *d, size_t keep, size_t keep_len)
{
	put_file(path, image, cut);
	assert_journal(path, d, keep, keep_len);
}

static void torn_tail(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "torn.journal");
	struct zone_diff *d[3];
	make_journal(path, d, 3, 7, 2);
	size_t len;
	uint8_t *image = get_file(path, &len);
	size_t last = HLEN + rec_size(d[0]) + rec_size(d[1]);
	assert_int_equal(len, last + rec_size(d[2]));

	/* At every offset inside the last record, and at its start. */
	for (size_t cut = last; cut < len; cut++)
		check_cut(path, image, cut, d, 2, last);
	/* Inside the header, or nothing: a new empty journal. */
	for (size_t cut = 0; cut < HLEN; cut++) {
		check_cut(path, image, cut, d, 0, HLEN);
		assert_file_holds(path, image, HLEN);
	}
	/* After a cut, appending goes on from the last whole record. */
	put_file(path, image, len - 1);
	struct zone_journal *j = jopen(path, 0);
	assert_int_equal(zone_journal_append(j, d[2]), 0);
	zone_journal_close(j);
	check_cut(path, image, len, d, 3, len);
	write_corpus(path, "three-diffs");
	put_file(path, image, len - 5);
	write_corpus(path, "torn");
	free(image);
	unref_all(d, 3);
}

static void corrupt(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "corrupt.journal");
	struct zone_diff *d[3];
	make_journal(path, d, 3, 1000, 1);
	size_t len;
	uint8_t *image = get_file(path, &len);
	size_t second = HLEN + rec_size(d[0]);
	size_t r2 = rec_size(d[1]);
	/* One octet of each field of the second record: the first stays. */
	static const size_t offsets[] = { 0, 4, 7, 8, 12, 16, 20, 24, 27, 28,
					  40, 60 };
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		assert_true(offsets[i] < r2 - 4);
		uint8_t *copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, image, len);
		copy[second + offsets[i]] ^= 0x20;
		put_file(path, copy, len);
		assert_journal(path, d, 1, second);
		free(copy);
	}
	/* The checksum itself. */
	for (size_t k = 1; k <= 4; k++) {
		image[second + r2 - k] ^= 0x80;
		put_file(path, image, len);
		assert_journal(path, d, 1, second);
		image[second + r2 - k] ^= 0x80;
	}
	free(image);
	unref_all(d, 3);
}

static void not_consecutive(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "gap.journal");
	struct zone_diff *d[1];
	make_journal(path, d, 1, 1, 1);
	size_t before_len;
	uint8_t *before = get_file(path, &before_len);
	struct zone_journal *j = jopen(path, 0);

	struct zone_diff *gap = mkdiff(3, 4, 1, 1);
	assert_int_equal(zone_journal_append(j, gap), ANYDNS_EINVAL);
	assert_int_equal(gap->refs, 1);
	/* A diff of another zone: its SOAs are not at our apex. */
	struct zone_diff_builder *b = zone_diff_builder_new();
	uint8_t rd[64], other[DNS_NAME_MAXLEN];
	name(other, "example.org.");
	size_t l = soa_rdata(rd, 2);
	assert_int_equal(zone_diff_builder_add(b, false, other, DNS_TYPE_SOA,
					       60, rd, (uint16_t)l), 0);
	l = soa_rdata(rd, 3);
	assert_int_equal(zone_diff_builder_add(b, true, other, DNS_TYPE_SOA,
					       60, rd, (uint16_t)l), 0);
	struct zone_diff *foreign = NULL;
	assert_int_equal(zone_diff_builder_finish(b, &foreign), 0);
	assert_int_equal(zone_journal_append(j, foreign), ANYDNS_EINVAL);
	assert_int_equal(foreign->refs, 1);

	size_t n;
	zone_journal_diffs(j, &n);
	assert_int_equal(n, 1);
	assert_int_equal(zone_journal_size(j), before_len);
	zone_journal_close(j);
	assert_file_holds(path, before, before_len);
	free(before);
	zone_diff_unref(gap);
	zone_diff_unref(foreign);
	unref_all(d, 1);
}

/* A write that fails half way (the file size limit) is cut back. */
static void failed_append(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "fail.journal");
	struct zone_diff *d[1];
	make_journal(path, d, 1, 1, 1);
	size_t size = file_size(path);
	struct zone_journal *j = jopen(path, 0);
	struct zone_diff *next = mkdiff(2, 3, 1, 1);

	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = size + 10;	/* 10 octets of the record fit */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int ret = zone_journal_append(j, next);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);

	assert_int_equal(ret, -EFBIG);
	assert_int_equal(next->refs, 1);
	size_t n;
	zone_journal_diffs(j, &n);
	assert_int_equal(n, 1);
	assert_int_equal(zone_journal_size(j), size);
	assert_int_equal(file_size(path), size);
	/* And it works once the limit is gone. */
	assert_int_equal(zone_journal_append(j, next), 0);
	zone_journal_close(j);
	struct zone_diff *all[2] = { d[0], next };
	assert_journal(path, all, 2, size + rec_size(next));
	zone_diff_unref(next);
	unref_all(d, 1);
}

static void compaction(void **state)
{
	(void)state;
	char path[PATH_CAP], tmp[PATH_CAP];
	in_dir(path, "compact.journal");
	in_dir(tmp, "compact.journal.tmp");
	unlink(path);
	/* Every diff has the same size r; max 40 records' worth. */
	struct zone_diff *probe = mkdiff(1000, 1001, 2, 0);
	const size_t r = rec_size(probe), max = 2 * HLEN + 40 * r;
	zone_diff_unref(probe);
	const size_t keep = (max / 2 - HLEN) / r;	/* after compacting */
	assert_int_equal(keep, 20);

	/* A compaction a crash cut short left its file: open removes it. */
	put_file(tmp, (const uint8_t *)"junk", 4);
	struct zone_journal *j = jopen(path, max);
	assert_false(exists(tmp));
	struct zone_diff *d[100];
	size_t expect = 0;
	for (size_t i = 0; i < 100; i++) {
		d[i] = mkdiff(1000 + (uint32_t)i, 1001 + (uint32_t)i, 2,
			      (unsigned)i);
		assert_int_equal(rec_size(d[i]), r);
		assert_int_equal(zone_journal_append(j, d[i]), 0);
		/* 41 records are over max: back to the newest 20. */
		expect = expect + 1 > 40 ? keep : expect + 1;
		size_t n;
		struct zone_diff *const *got = zone_journal_diffs(j, &n);
		assert_int_equal(n, expect);
		assert_ptr_equal(got[n - 1], d[i]);
		assert_ptr_equal(got[0], d[i + 1 - n]);
		assert_int_equal(zone_journal_size(j), HLEN + n * r);
		assert_int_equal(file_size(path), HLEN + n * r);
		assert_false(exists(tmp));
	}
	zone_journal_close(j);
	size_t n_kept = expect;
	assert_journal(path, d + 100 - n_kept, n_kept, HLEN + n_kept * r);
	/* The dropped ones are ours alone now. */
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(d[i]->refs, 1);

	/* A diff bigger than half the limit: the newest alone is kept. */
	j = jopen(path, max);
	struct zone_diff *big = mkdiff(1000 + 100, 1101, 100, 1);
	assert_true(HLEN + rec_size(big) > max / 2);
	assert_true(HLEN + n_kept * r + rec_size(big) > max);
	assert_int_equal(zone_journal_append(j, big), 0);
	size_t n;
	struct zone_diff *const *got = zone_journal_diffs(j, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(got[0], big);
	assert_int_equal(zone_journal_size(j), HLEN + rec_size(big));
	assert_int_equal(file_size(path), HLEN + rec_size(big));
	zone_journal_close(j);
	zone_diff_unref(big);
	unref_all(d, 100);
}

static void other_file(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "other.journal");
	struct zone_diff *d[1];
	make_journal(path, d, 1, 1, 0);
	size_t len;
	uint8_t *image = get_file(path, &len);
	uint8_t bad[256];

	static const struct {
		const char *what;
		const char *apex;	/* opened for */
		int edit;		/* of the file */
		const char *reason;
	} cases[] = {
		{ "another zone", "example.org.", 0,
		  "a journal of zone example." },
		{ "not a journal", "example.", 1, "not an anydns journal" },
		{ "a later version", "example.", 2,
		  "format version 2, expected 1" },
		{ "header checksum", "example.", 3, "header checksum mismatch" },
		{ "a malformed apex", "example.", 4, "a journal of another zone" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, image, HLEN);
		size_t blen = HLEN;
		switch (cases[i].edit) {
		case 1:
			blen = (size_t)snprintf((char *)bad, sizeof(bad),
						"$ORIGIN example.\n");
			break;
		case 2:
			blen = header_image(bad, APEX, 2);
			break;
		case 3:
			bad[HLEN - 1] ^= 1;
			break;
		case 4:
			bad[11] = 0xc0;
			break;
		}
		put_file(path, bad, blen);
		uint8_t apex[DNS_NAME_MAXLEN];
		name(apex, cases[i].apex);
		struct zone_journal *j = (struct zone_journal *)1;
		char err[512], want[1024];
		assert_int_equal(zone_journal_open(path, apex, 0, &j, err,
						   sizeof(err)),
				 ANYDNS_EJOURNAL);
		assert_ptr_equal(j, (struct zone_journal *)1);
		snprintf(want, sizeof(want), "journal %s for zone %s: %s", path,
			 cases[i].apex, cases[i].reason);
		assert_string_equal(err, want);
		/* Left as it was. */
		assert_file_holds(path, bad, blen);
	}

	/* A directory is no journal; a missing directory is a system error. */
	struct zone_journal *j = NULL;
	char err[512];
	assert_int_equal(zone_journal_open(scratch_dir, APEX, 0, &j, err, sizeof(err)),
			 -EISDIR);
	assert_non_null(strstr(err, scratch_dir));
	char missing[PATH_CAP];
	in_dir(missing, "none/x.journal");
	assert_int_equal(zone_journal_open(missing, APEX, 0, &j, err,
					   sizeof(err)), ANYDNS_ENOENT);
	assert_null(j);
	free(image);
	unref_all(d, 1);
}

static void clear(void **state)
{
	(void)state;
	char path[PATH_CAP];
	in_dir(path, "clear.journal");
	struct zone_diff *d[3];
	make_journal(path, d, 3, 50, 1);
	struct zone_journal *j = jopen(path, 0);
	assert_int_equal(zone_journal_clear(j), 0);
	size_t n;
	zone_journal_diffs(j, &n);
	assert_int_equal(n, 0);
	assert_int_equal(zone_journal_size(j), HLEN);
	assert_int_equal(file_size(path), HLEN);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(d[i]->refs, 1);
	/* Any serial may follow a cleared journal. */
	struct zone_diff *next = mkdiff(900, 901, 1, 0);
	assert_int_equal(zone_journal_append(j, next), 0);
	zone_journal_close(j);
	assert_journal(path, &next, 1, HLEN + rec_size(next));
	zone_diff_unref(next);
	unref_all(d, 3);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format),
		cmocka_unit_test(bad_records),
		cmocka_unit_test(bad_framing),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(torn_tail),
		cmocka_unit_test(corrupt),
		cmocka_unit_test(not_consecutive),
		cmocka_unit_test(failed_append),
		cmocka_unit_test(compaction),
		cmocka_unit_test(other_file),
		cmocka_unit_test(clear),
	};
	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
