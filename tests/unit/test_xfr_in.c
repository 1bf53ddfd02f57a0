/*
 * Unit tests for src/xfr/in.c, the parser of a transfer's response stream:
 * AXFR in one and in several messages (RFC 5936 §2.2), IXFR difference
 * sequences applied to the version we have (RFC 1995 §4), an IXFR answered
 * AXFR-style, the SOA-only answer of a current secondary (RFC 1995 §2),
 * TSIG over a stream (RFC 8945 §5.3.1), and a table of broken streams each
 * with the exact error code and the step (feed or finish) that finds it.
 * Messages are written with the dns writer (so names in RDATA come
 * compressed, as from a real primary) from records given as master-file
 * text parsed by libzscanner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wire.h"
#include "xfr/xfr.h"
#include "xfr_test.h"

#define ID 0x1234
#define NOW 1700000000u
#define FLAGS_OK (DNS_FLAG_QR | DNS_FLAG_AA)

static const uint8_t apex[] = "\x07" "example";

/* SOA of example. with serial n (a string literal). */
#define SOA(n) "@ 3600 SOA ns hostmaster " n " 3600 900 604800 300\n"

/* ---- Messages ------------------------------------------------------------ */

/* One response message: the answer records given as text. */
struct tmsg {
	const char *rrs;
	int id_delta;		/* added to the request's ID */
	uint16_t flags;		/* 0: QR AA */
	bool no_question;
	uint16_t qtype;		/* 0: the stream's */
};

static size_t make_msg(uint8_t *buf, size_t cap, const struct tmsg *m,
		       uint16_t qtype)
{
	struct dns_writer w;
	dns_writer_init(&w, buf, cap);
	if (!m->no_question)
		assert_int_equal(dns_writer_question(&w, apex, m->qtype ? m->qtype :
						     qtype, DNS_CLASS_IN), 0);
	assert_int_equal(xt_put_answers(&w, m->rrs), 0);
	return dns_writer_finish(&w, (uint16_t)(ID + m->id_delta),
				 m->flags ? m->flags : FLAGS_OK);
}

/* The version an IXFR applies to: serial 1. */
#define CURRENT \
	SOA("1") \
	"@ 3600 NS ns\n" \
	"ns 3600 A 192.0.2.53\n" \
	"www 3600 A 192.0.2.1\n"

/* Feeds msgs[0..n) to x; returns the last feed's result (stopping at the
 * first error) and the index it stopped at in *at. */
static int feed_all(struct xfr_in *x, const struct tmsg *msgs, unsigned n,
		    uint16_t qtype, unsigned *at)
{
	static uint8_t buf[65535];
	int ret = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = make_msg(buf, sizeof(buf), &msgs[i], qtype);
		ret = xfr_in_feed(x, buf, len, NOW);
		if (at != NULL)
			*at = i;
		if (ret < 0)
			break;
	}
	return ret;
}

/* ---- Good streams -------------------------------------------------------- */

static void axfr_one_message(void **state)
{
	(void)state;
	const struct tmsg msgs[] = {
		{ SOA("5") "@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.80\n"
		  "mail MX 10 www\n" SOA("5") },
	};
	struct xfr_in *x;
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL, 0, &x), 0);
	assert_int_equal(feed_all(x, msgs, 1, DNS_TYPE_AXFR, NULL), 1);
	struct xfr_pull_result res = { 0 };
	assert_int_equal(xfr_in_finish(x, &res), 0);
	assert_int_equal(res.kind, XFR_IN_FULL);
	assert_int_equal(res.qtype, DNS_TYPE_AXFR);
	assert_int_equal(res.serial, 5);
	assert_int_equal(res.messages, 1);
	assert_int_equal(res.records, 6);
	assert_non_null(res.zone);
	assert_int_equal(res.zone->serial, 5);
	assert_int_equal(res.zone->rr_count, 5);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.80"));
	assert_null(res.diffs);
	xfr_pull_result_clear(&res);
	assert_null(res.zone);
}

static void axfr_three_messages(void **state)
{
	(void)state;
	/* Later messages may leave the question out (RFC 5936 §2.2.1). */
	const struct tmsg msgs[] = {
		{ SOA("7") "@ NS ns\n" },
		{ "ns A 192.0.2.53\nwww A 192.0.2.7\n", .no_question = true },
		{ SOA("7") },
	};
	struct xfr_in *x;
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL, 0, &x), 0);
	static uint8_t buf[65535];
	size_t total = 0;
	for (unsigned i = 0; i < 3; i++) {
		size_t len = make_msg(buf, sizeof(buf), &msgs[i], DNS_TYPE_AXFR);
		total += len;
		assert_int_equal(xfr_in_feed(x, buf, len, NOW), i == 2 ? 1 : 0);
	}
	struct xfr_pull_result res = { 0 };
	assert_int_equal(xfr_in_finish(x, &res), 0);
	assert_int_equal(res.kind, XFR_IN_FULL);
	assert_int_equal(res.messages, 3);
	assert_int_equal(res.bytes, total);
	assert_int_equal(res.records, 5);
	assert_int_equal(res.zone->serial, 7);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.7"));
	xfr_pull_result_clear(&res);
}

static void ixfr_two_diffs(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	/* 1 → 2: www moves; 2 → 3: mail appears. Split over two messages
	 * inside the second difference. */
	const struct tmsg msgs[] = {
		{ SOA("3") SOA("1") "www A 192.0.2.1\n"
		  SOA("2") "www A 192.0.2.2\n" SOA("2") },
		{ SOA("3") "mail A 192.0.2.25\n" SOA("3") },
	};
	struct xfr_in *x;
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_IXFR, cur, ID, NULL, 0, &x), 0);
	assert_int_equal(feed_all(x, msgs, 2, DNS_TYPE_IXFR, NULL), 1);
	struct xfr_pull_result res = { 0 };
	assert_int_equal(xfr_in_finish(x, &res), 0);
	assert_int_equal(res.kind, XFR_IN_DIFFS);
	assert_int_equal(res.qtype, DNS_TYPE_IXFR);
	assert_int_equal(res.serial, 3);
	assert_int_equal(res.records, 9);
	assert_int_equal(res.diff_count, 2);
	assert_int_equal(res.diffs[0]->from, 1);
	assert_int_equal(res.diffs[0]->to, 2);
	assert_int_equal(res.diffs[0]->removed, 2);
	assert_int_equal(res.diffs[0]->added, 2);
	assert_int_equal(res.diffs[1]->from, 2);
	assert_int_equal(res.diffs[1]->to, 3);
	assert_int_equal(res.diffs[1]->removed, 1);
	assert_int_equal(res.diffs[1]->added, 2);
	assert_non_null(res.zone);
	assert_int_equal(res.zone->serial, 3);
	assert_int_equal(res.zone->rr_count, 5);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.2"));
	assert_false(xt_has_a(res.zone, "www.example.", "192.0.2.1"));
	assert_true(xt_has_a(res.zone, "mail.example.", "192.0.2.25"));
	/* The version we had is untouched. */
	assert_int_equal(cur->serial, 1);
	assert_true(xt_has_a(cur, "www.example.", "192.0.2.1"));
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

static void ixfr_axfr_style(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	const struct tmsg msgs[] = {
		{ SOA("9") "@ NS ns\nns A 192.0.2.53\n" },
		{ "www A 192.0.2.9\n" SOA("9"), .no_question = true },
	};
	struct xfr_in *x;
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_IXFR, cur, ID, NULL, 0, &x), 0);
	assert_int_equal(feed_all(x, msgs, 2, DNS_TYPE_IXFR, NULL), 1);
	struct xfr_pull_result res = { 0 };
	assert_int_equal(xfr_in_finish(x, &res), 0);
	assert_int_equal(res.kind, XFR_IN_FULL);
	assert_int_equal(res.qtype, DNS_TYPE_IXFR);
	assert_int_equal(res.serial, 9);
	assert_int_equal(res.diff_count, 0);
	assert_int_equal(res.zone->serial, 9);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.9"));
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

static void ixfr_uptodate(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	/* Our serial, and an older one (a primary restored from backup):
	 * both say there is nothing newer. */
	const char *soas[] = { SOA("1"), SOA("4294967295") };
	for (unsigned i = 0; i < 2; i++) {
		const struct tmsg m = { soas[i] };
		struct xfr_in *x;
		assert_int_equal(xfr_in_new(apex, DNS_TYPE_IXFR, cur, ID, NULL,
					    0, &x), 0);
		assert_int_equal(feed_all(x, &m, 1, DNS_TYPE_IXFR, NULL), 1);
		struct xfr_pull_result res = { 0 };
		assert_int_equal(xfr_in_finish(x, &res), 0);
		assert_int_equal(res.kind, XFR_IN_UPTODATE);
		assert_int_equal(res.serial, i == 0 ? 1 : 4294967295u);
		assert_null(res.zone);
		assert_int_equal(res.records, 1);
		xfr_pull_result_clear(&res);
	}
	zone_free(cur);
}

/* ---- Broken streams ------------------------------------------------------ */

struct err_case {
	const char *name;
	uint16_t qtype;
	uint64_t max_size;
	struct tmsg msgs[4];
	unsigned n;
	unsigned fail_at;	/* index of the message whose feed fails */
	int feed;		/* what that feed returns */
	int finish;		/* then what finish returns */
	uint16_t rcode;
	const char *error;	/* xfr_in_error() or res.error, if given */
};

#define A_ZONE "@ NS ns\nns A 192.0.2.53\n"

static const struct err_case err_cases[] = {
	{ "wrong ID", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2"), .id_delta = 1 } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: ID 4661, the request's is 4660" },
	{ "wrong ID in a later message", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE }, { SOA("2"), .id_delta = -1 } }, 2, 1,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "no closing SOA", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE }, { "www A 192.0.2.1\n" } }, 2, 1,
	  0, ANYDNS_EXFR, 0, "the transfer is not complete" },
	{ "records after the closing SOA", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2") "www A 192.0.2.1\n" } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: www.example. A after the closing SOA" },
	{ "a message after the closing SOA", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2") }, { "www A 192.0.2.1\n" } }, 2, 1,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 2: a message after the end of the transfer" },
	{ "out-of-zone record", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE "www.example.org. A 192.0.2.1\n" SOA("2") } },
	  1, 0, ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: out-of-zone record www.example.org. A" },
	{ "RCODE REFUSED", DNS_TYPE_AXFR, 0,
	  { { NULL, .flags = DNS_FLAG_QR | DNS_RCODE_REFUSED } }, 1, 0,
	  ANYDNS_EREFUSED, ANYDNS_EREFUSED, DNS_RCODE_REFUSED,
	  "message 1: REFUSED" },
	{ "RCODE NOTAUTH", DNS_TYPE_IXFR, 0,
	  { { NULL, .flags = DNS_FLAG_QR | DNS_RCODE_NOTAUTH } }, 1, 0,
	  ANYDNS_EREFUSED, ANYDNS_EREFUSED, DNS_RCODE_NOTAUTH, NULL },
	{ "over max_size", DNS_TYPE_AXFR, 150,
	  { { SOA("2") A_ZONE }, { "www A 192.0.2.1\n" SOA("2") } }, 2, 1,
	  ANYDNS_ETOOBIG, ANYDNS_ETOOBIG, 0,
	  "message 2: over the limit of 150 octets" },
	{ "TC set", DNS_TYPE_AXFR, 0,
	  { { SOA("2"), .flags = FLAGS_OK | DNS_FLAG_TC } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, "message 1: truncated (TC set)" },
	{ "QR clear", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2"), .flags = DNS_FLAG_AA } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "opcode NOTIFY", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2"),
	      .flags = FLAGS_OK | (DNS_OPCODE_NOTIFY << 11) } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "no question in the first message", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2"), .no_question = true } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, "message 1: no question" },
	{ "question of another type", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("2"), .qtype = DNS_TYPE_SOA } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "no records", DNS_TYPE_AXFR, 0, { { "" } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, "message 1: no records" },
	{ "first record not the SOA", DNS_TYPE_AXFR, 0,
	  { { A_ZONE SOA("2") SOA("2") } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: the first record, example. NS, is not the zone's SOA" },
	{ "SOA below the apex", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE "sub 3600 SOA ns hm 2 1 1 1 1\n" SOA("2") } },
	  1, 0, ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "closing SOA of another serial", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE SOA("3") } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "zone fails its checks", DNS_TYPE_AXFR, 0,
	  { { SOA("2") A_ZONE "www CNAME ns\nwww A 192.0.2.1\n" SOA("2") } },
	  1, 0, 1, ANYDNS_EZONE, 0, NULL },
	{ "IXFR: newer SOA only", DNS_TYPE_IXFR, 0,
	  { { SOA("2") } }, 1, 0, ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: IXFR answered with a newer SOA (serial 2) only" },
	{ "IXFR: first difference not from our serial", DNS_TYPE_IXFR, 0,
	  { { SOA("3") SOA("2") SOA("3") SOA("3") } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: IXFR: the first difference starts at serial 2, ours is 1" },
	{ "IXFR: differences not consecutive", DNS_TYPE_IXFR, 0,
	  { { SOA("4") SOA("1") SOA("2") SOA("3") SOA("4") SOA("4") } },
	  1, 0, ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: IXFR: a difference starts at serial 3, the previous "
	  "one ended at 2" },
	{ "IXFR: a difference going back", DNS_TYPE_IXFR, 0,
	  { { SOA("4") SOA("1") SOA("1") } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "IXFR: last difference short of the end", DNS_TYPE_IXFR, 0,
	  { { SOA("4") SOA("1") SOA("2") SOA("4") } }, 1, 0,
	  ANYDNS_EXFR, ANYDNS_EXFR, 0,
	  "message 1: IXFR: ends at serial 4 but its last difference leads to 2" },
	{ "IXFR: removes a record we do not have", DNS_TYPE_IXFR, 0,
	  { { SOA("2") SOA("1") "www A 192.0.2.99\n" SOA("2") SOA("2") } },
	  1, 0, 1, ANYDNS_EXFR, 0, NULL },
	{ "IXFR: adds a record we have", DNS_TYPE_IXFR, 0,
	  { { SOA("2") SOA("1") SOA("2") "www A 192.0.2.1\n" SOA("2") } },
	  1, 0, 1, ANYDNS_EXFR, 0, NULL },
	{ "IXFR: diffs make a broken zone", DNS_TYPE_IXFR, 0,
	  { { SOA("2") SOA("1") SOA("2") "www CNAME ns\n" SOA("2") } },
	  1, 0, 1, ANYDNS_EZONE, 0, NULL },
	{ "IXFR: records after the end", DNS_TYPE_IXFR, 0,
	  { { SOA("2") SOA("1") SOA("2") SOA("2") "www A 192.0.2.1\n" } },
	  1, 0, ANYDNS_EXFR, ANYDNS_EXFR, 0, NULL },
	{ "IXFR: stream cut inside a difference", DNS_TYPE_IXFR, 0,
	  { { SOA("2") SOA("1") "www A 192.0.2.1\n" } }, 1, 0,
	  0, ANYDNS_EXFR, 0, NULL },
	/* The primary's serial twice: a whole zone of the SOA alone. */
	{ "IXFR: AXFR-style of an SOA alone", DNS_TYPE_IXFR, 0,
	  { { SOA("2") SOA("2") } }, 1, 0, 1, ANYDNS_EZONE, 0,
	  "no NS records at the zone apex" },
};

static void broken_streams(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct xfr_in *x;
		assert_int_equal(xfr_in_new(apex, c->qtype,
					    c->qtype == DNS_TYPE_IXFR ? cur : NULL,
					    ID, NULL, c->max_size, &x), 0);
		unsigned at = 0;
		int ret = feed_all(x, c->msgs, c->n, c->qtype, &at);
		if (ret != c->feed || at != c->fail_at) {
			print_error("case \"%s\": feed %d at message %u, want %d "
				    "at %u (%s)\n", c->name, ret, at + 1, c->feed,
				    c->fail_at + 1, xfr_in_error(x));
			fail();
		}
		if (ret < 0) {
			assert_int_equal(xfr_in_rcode(x), c->rcode);
			if (c->error != NULL)
				assert_string_equal(xfr_in_error(x), c->error);
			/* Sticky: nothing more is accepted. */
			static uint8_t buf[512];
			const struct tmsg m = { SOA("2") };
			size_t len = make_msg(buf, sizeof(buf), &m, c->qtype);
			assert_int_equal(xfr_in_feed(x, buf, len, NOW), ret);
		}
		struct xfr_pull_result res = { 0 };
		ret = xfr_in_finish(x, &res);
		if (ret != c->finish) {
			print_error("case \"%s\": finish %d, want %d (%s)\n",
				    c->name, ret, c->finish, res.error);
			fail();
		}
		assert_null(res.zone);
		assert_int_equal(res.diff_count, 0);
		assert_true(res.error[0] != '\0');
		if (c->error != NULL && c->feed >= 0)
			assert_string_equal(res.error, c->error);
		xfr_pull_result_clear(&res);
	}
	zone_free(cur);
}

/* Raw messages the writer would never make. */
static void malformed_messages(void **state)
{
	(void)state;
	static uint8_t buf[65535];
	const struct tmsg m = { SOA("2") A_ZONE SOA("2") };
	size_t len = make_msg(buf, sizeof(buf), &m, DNS_TYPE_AXFR);
	struct xfr_in *x;

	/* Trailing octets. */
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL, 0, &x), 0);
	buf[len] = 0;
	assert_int_equal(xfr_in_feed(x, buf, len + 1, NOW), ANYDNS_EXFR);
	assert_string_equal(xfr_in_error(x), "message 1: malformed message");
	xfr_in_free(x);

	/* Cut short at every length: never read past the end. */
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL,
					    0, &x), 0);
		uint8_t *copy = malloc(cut > 0 ? cut : 1);
		memcpy(copy, buf, cut);
		assert_int_equal(xfr_in_feed(x, copy, cut, NOW), ANYDNS_EXFR);
		free(copy);
		xfr_in_free(x);
	}

	/* A compression pointer pointing forward: the owner of the first
	 * answer record (right after the question) made to point at itself. */
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL, 0, &x), 0);
	size_t an = DNS_HEADER_LEN + sizeof(apex) + 4;
	buf[an] = 0xc0;
	buf[an + 1] = (uint8_t)an;
	assert_int_equal(xfr_in_feed(x, buf, len, NOW), ANYDNS_EXFR);
	xfr_in_free(x);

	/* SOA RDATA one octet short (RDLENGTH one less, the octet cut). */
	len = make_msg(buf, sizeof(buf), &(const struct tmsg){ SOA("2") },
		       DNS_TYPE_AXFR);
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL, 0, &x), 0);
	/* Header, question, the owner (a pointer), type, class, TTL. */
	size_t rdlen_at = DNS_HEADER_LEN + sizeof(apex) + 4 + 2 + 8;
	wire_put_u16(buf + rdlen_at, (uint16_t)(wire_get_u16(buf + rdlen_at) - 1));
	assert_int_equal(xfr_in_feed(x, buf, len - 1, NOW), ANYDNS_EXFR);
	assert_string_equal(xfr_in_error(x),
			    "message 1: malformed RDATA of example. SOA");
	xfr_in_free(x);

	/* Class CH (3). */
	len = make_msg(buf, sizeof(buf), &m, DNS_TYPE_AXFR);
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL, 0, &x), 0);
	wire_put_u16(buf + rdlen_at - 6, DNS_CLASS_CH);
	assert_int_equal(xfr_in_feed(x, buf, len, NOW), ANYDNS_EXFR);
	assert_string_equal(xfr_in_error(x),
			    "message 1: example. SOA of class 3, not IN");
	xfr_in_free(x);
}

/* An OPT in additional is skipped, its extended RCODE counted. */
static void opt_in_additional(void **state)
{
	(void)state;
	static uint8_t buf[65535];
	struct xfr_in *x;
	for (int ext = 0; ext < 2; ext++) {
		struct dns_writer w;
		dns_writer_init(&w, buf, sizeof(buf));
		assert_int_equal(dns_writer_question(&w, apex, DNS_TYPE_AXFR,
						     DNS_CLASS_IN), 0);
		assert_int_equal(xt_put_answers(&w, SOA("2") A_ZONE SOA("2")),
				 0);
		const struct dns_opt_out opt = { .payload = 1232,
						 .ext_rcode = (uint8_t)ext };
		assert_int_equal(dns_writer_opt(&w, &opt), 0);
		size_t len = dns_writer_finish(&w, ID, FLAGS_OK);
		assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, NULL,
					    0, &x), 0);
		int ret = xfr_in_feed(x, buf, len, NOW);
		if (ext == 0) {
			assert_int_equal(ret, 1);
		} else {
			assert_int_equal(ret, ANYDNS_EREFUSED);
			assert_int_equal(xfr_in_rcode(x), DNS_RCODE_BADVERS);
		}
		xfr_in_free(x);
	}
}

static void bad_arguments(void **state)
{
	(void)state;
	struct xfr_in *x = (struct xfr_in *)1;
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_SOA, NULL, ID, NULL, 0, &x),
			 ANYDNS_EINVAL);
	assert_null(x);
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_IXFR, NULL, ID, NULL, 0, &x),
			 ANYDNS_EINVAL);
	xfr_in_free(NULL);
	struct xfr_pull_result res = { 0 };
	xfr_pull_result_clear(&res);
}

/* ---- TSIG ---------------------------------------------------------------- */

struct tsig_pair {
	struct dns_tsig_key key;
	struct dns_tsig_ctx client, server;
};

/* The client signs an AXFR request, the server verifies it. */
static void tsig_start(struct tsig_pair *t)
{
	static uint8_t req[1024];
	char err[128];
	assert_int_equal(dns_tsig_key_init(&t->key, "xfr-key.", "hmac-sha256",
					   "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==",
					   err, sizeof(err)), 0);
	dns_tsig_ctx_init(&t->client, &t->key);
	dns_tsig_ctx_init(&t->server, NULL);
	struct dns_writer w;
	dns_writer_init(&w, req, sizeof(req) - DNS_TSIG_MAXLEN);
	assert_int_equal(dns_writer_question(&w, apex, DNS_TYPE_AXFR,
					     DNS_CLASS_IN), 0);
	size_t len = dns_writer_finish(&w, ID, 0);
	assert_int_equal(dns_tsig_sign(&t->client, req, &len, sizeof(req), NOW), 0);
	struct dns_query q;
	assert_int_equal(dns_query_parse(req, len, &q), 0);
	assert_true(q.tsig_offset > 0);
	assert_int_equal(dns_tsig_verify_request(&t->server, &t->key, 1, req,
						 len, q.tsig_offset, NOW), 0);
}

static void tsig_end(struct tsig_pair *t)
{
	dns_tsig_ctx_clear(&t->client);
	dns_tsig_ctx_clear(&t->server);
}

/* Feeds a two-message AXFR; sign[i] says whether message i is signed,
 * tamper flips an octet of the last message after signing. */
static int tsig_stream(bool sign0, bool sign1, bool tamper)
{
	static uint8_t buf[65535];
	struct tsig_pair t;
	tsig_start(&t);
	const struct tmsg msgs[] = {
		{ SOA("2") A_ZONE },
		{ "www A 192.0.2.1\n" SOA("2") },
	};
	const bool sign[] = { sign0, sign1 };
	struct xfr_in *x;
	assert_int_equal(xfr_in_new(apex, DNS_TYPE_AXFR, NULL, ID, &t.client, 0,
				    &x), 0);
	int ret = 0;
	for (unsigned i = 0; i < 2 && ret == 0; i++) {
		size_t len = make_msg(buf, sizeof(buf) - DNS_TSIG_MAXLEN,
				      &msgs[i], DNS_TYPE_AXFR);
		if (sign[i])
			assert_int_equal(dns_tsig_sign(&t.server, buf, &len,
						       sizeof(buf), NOW), 0);
		if (tamper && i == 1)
			buf[DNS_HEADER_LEN + 1] ^= 1;	/* "example" → "dxample" */
		ret = xfr_in_feed(x, buf, len, NOW);
	}
	if (ret == 1) {
		struct xfr_pull_result res = { 0 };
		assert_int_equal(xfr_in_finish(x, &res), 0);
		assert_int_equal(res.zone->serial, 2);
		xfr_pull_result_clear(&res);
	} else {
		xfr_in_free(x);
	}
	tsig_end(&t);
	return ret;
}

static void tsig_streams(void **state)
{
	(void)state;
	assert_int_equal(tsig_stream(true, true, false), 1);
	/* Unsigned messages in between are fine, not at the end. */
	assert_int_equal(tsig_stream(true, false, false), ANYDNS_ENOTSIG);
	/* The first message must be signed. */
	assert_int_equal(tsig_stream(false, true, false), ANYDNS_ENOTSIG);
	assert_int_equal(tsig_stream(true, true, true), ANYDNS_EBADSIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(axfr_one_message),
		cmocka_unit_test(axfr_three_messages),
		cmocka_unit_test(ixfr_two_diffs),
		cmocka_unit_test(ixfr_axfr_style),
		cmocka_unit_test(ixfr_uptodate),
		cmocka_unit_test(broken_streams),
		cmocka_unit_test(malformed_messages),
		cmocka_unit_test(opt_in_additional),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(tsig_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
