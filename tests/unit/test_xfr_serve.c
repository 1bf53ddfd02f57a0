/*
 * Unit tests for the serving side of src/xfr: policy lookup and ACL
 * address matching (policy.c); AXFR (RFC 5936) of a zone spread over many
 * messages, parsed back record by record; IXFR (RFC 1995) from each
 * serial of a three-version history as exact record sequences, SOA-only
 * answers, the AXFR-style fallback, condensing, UDP; access control by
 * address and TSIG key (RFC 8945 §5.2 and §5.3.2 error responses);
 * NOTIFY (RFC 1996) built by notify.c, served, acknowledged and refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "xfr/xfr.h"

#define NOW 1700000000ull
#define MAXRR 8192

/* ---- helpers ------------------------------------------------------------ */

static void wire_name(uint8_t *dst, const char *s)
{
	size_t len;
	assert_int_equal(dns_name_from_str(dst, &len, s, NULL), 0);
}

/* A zone of apex origin from master-file text (through a temporary file,
 * the way the daemon loads zones). */
static struct zone *zone_text(const char *origin, const char *text)
{
	char path[] = "/tmp/anydns-xfr-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	uint8_t apex[DNS_NAME_MAXLEN];
	wire_name(apex, origin);
	struct zone *z = NULL;
	char err[256];
	int ret = zone_load_file(apex, path, &z, err, sizeof(err));
	unlink(path);
	if (ret != 0)
		fail_msg("zone: %s", err);
	return z;
}

static const char soa_fmt[] =
	"$ORIGIN example.com.\n$TTL 3600\n"
	"@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	"@ NS ns1\n@ NS ns2.example.net.\nns1 A 192.0.2.53\n";

/* The example.com zone with serial and extra text appended. */
static struct zone *example(uint32_t serial, const char *extra)
{
	size_t cap = sizeof(soa_fmt) + 16 + strlen(extra);
	char *text = malloc(cap);
	assert_non_null(text);
	int n = snprintf(text, cap, soa_fmt, serial);
	snprintf(text + n, cap - (size_t)n, "%s", extra);
	struct zone *z = zone_text("example.com.", text);
	free(text);
	return z;
}

static struct sockaddr_storage addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ss;
}

static struct xfr_acl acl(const char *ip, unsigned plen,
			  const struct dns_tsig_key *key)
{
	struct xfr_acl a;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, ip, a.addr) == 1) {
		a.family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, a.addr), 1);
		a.family = AF_INET6;
	}
	a.prefix_len = (uint8_t)plen;
	a.key = key;
	return a;
}

/* Keys of the tests: two known to the server, one not. */
static struct dns_tsig_key keys[3];

static void keys_init(void)
{
	char err[128];
	assert_int_equal(dns_tsig_key_init(&keys[0], "xfr-key.", "hmac-sha256",
		"c2VjcmV0LW9mLXRoZS14ZnIta2V5LTAxMjM0NTY3ODk=", err,
		sizeof(err)), 0);
	assert_int_equal(dns_tsig_key_init(&keys[1], "other-key.",
		"hmac-sha512", "b3RoZXItc2VjcmV0LWZvci10ZXN0cy0wMTIzNDU2Nzg=",
		err, sizeof(err)), 0);
	assert_int_equal(dns_tsig_key_init(&keys[2], "xfr-key.", "hmac-sha256",
		"d3Jvbmctc2VjcmV0LXNhbWUtbmFtZS0wMTIzNDU2Nzg=", err,
		sizeof(err)), 0);
}

/* A policy for example.com (and a policy-only zone example.org). */
struct env {
	struct xfr_acl transfer[4];
	struct xfr_acl notify[2];
	struct xfr_zone_policy zones[2];
	struct xfr_policy pol;
	struct zone_set *set;
};

static void env_init(struct env *e, struct zone *const *zones, size_t n)
{
	memset(e, 0, sizeof(*e));
	e->transfer[0] = acl("127.0.0.0", 8, NULL);
	e->transfer[1] = acl("2001:db8::", 32, NULL);
	e->transfer[2] = acl("192.0.2.0", 24, &keys[0]);
	e->transfer[3] = acl("198.51.100.7", 32, &keys[1]);
	e->notify[0] = acl("127.0.0.2", 32, NULL);
	e->notify[1] = acl("192.0.2.0", 24, &keys[0]);
	/* Sorted by memcmp of the wire apex: 7example3com < 7example3org. */
	wire_name(e->zones[0].apex, "example.com.");
	e->zones[0].transfer = e->transfer;
	e->zones[0].transfer_count = 4;
	e->zones[0].notify = e->notify;
	e->zones[0].notify_count = 2;
	wire_name(e->zones[1].apex, "example.org.");
	e->zones[1].transfer = e->transfer;
	e->zones[1].transfer_count = 1;
	e->pol.keys = keys;
	e->pol.key_count = 2;
	e->pol.zones = e->zones;
	e->pol.zone_count = 2;
	assert_int_equal(zone_set_new(zones, n, &e->set), 0);
}

static void env_fini(struct env *e)
{
	zone_set_free(e->set);
}

/* A query for name/qtype; with the client's SOA serial in authority when
 * soa_serial >= 0 (IXFR); signed with key when given. */
static size_t query(uint8_t *buf, size_t cap, uint16_t opcode,
		    const char *name, uint16_t qtype, long soa_serial,
		    const struct dns_tsig_key *key, struct dns_tsig_ctx *cctx,
		    uint64_t now)
{
	struct dns_writer w;
	uint8_t qname[DNS_NAME_MAXLEN];
	wire_name(qname, name);
	dns_writer_init(&w, buf, cap);
	assert_int_equal(dns_writer_question(&w, qname, qtype, DNS_CLASS_IN), 0);
	if (soa_serial >= 0) {
		/* The writer compresses MNAME and RNAME against the
		 * question, as dig does. */
		uint8_t rdata[128], *p;
		uint8_t mname[DNS_NAME_MAXLEN], rname[DNS_NAME_MAXLEN];
		wire_name(mname, "ns1.example.com.");
		wire_name(rname, "hostmaster.example.com.");
		size_t ml = dns_name_len(mname), rl = dns_name_len(rname);
		memcpy(rdata, mname, ml);
		memcpy(rdata + ml, rname, rl);
		p = rdata + ml + rl;
		wire_put_u32(p, (uint32_t)soa_serial);
		for (int i = 1; i < 5; i++)
			wire_put_u32(p + 4 * i, 60);
		assert_int_equal(dns_writer_rr(&w, DNS_SECTION_AUTHORITY, qname,
			DNS_TYPE_SOA, DNS_CLASS_IN, 0, rdata,
			(uint16_t)(ml + rl + 20)), 0);
	}
	size_t len = dns_writer_finish(&w, 0x4242,
				       (uint16_t)(opcode << 11));
	if (key != NULL) {
		dns_tsig_ctx_init(cctx, key);
		assert_int_equal(dns_tsig_sign(cctx, buf, &len, cap, now), 0);
	}
	return len;
}

/* One record of a response, in a comparable text form. */
struct rr {
	char text[600];
};

struct parsed {
	unsigned messages;
	unsigned first_qd;	/* QDCOUNT of the first message */
	unsigned later_qd;	/* sum of the others' */
	uint16_t first_flags;
	uint16_t id;
	uint16_t qtype;
	size_t max_len;
	bool has_tsig_all;	/* every message ends with a TSIG */
	size_t nrr;
	struct rr *rr;		/* MAXRR */
};

/* RDATA with its names decompressed (per the type's descriptor). */
static size_t rdata_plain(struct wire_ctx *c, uint16_t type, uint16_t rdlen,
			  uint8_t *out)
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	size_t end = wire_offset(c) + rdlen, n = 0;
	bool names = false;
	for (unsigned i = 0; d != NULL && i < 8 &&
	     d->blocks[i].field != DNS_RDF_END; i++)
		if (d->blocks[i].field == DNS_RDF_CNAME ||
		    d->blocks[i].field == DNS_RDF_NAME)
			names = true;
	if (!names) {
		wire_read(c, out, rdlen);
		return rdlen;
	}
	for (unsigned i = 0; i < 8 && d->blocks[i].field != DNS_RDF_END; i++) {
		size_t l;
		switch (d->blocks[i].field) {
		case DNS_RDF_CNAME:
		case DNS_RDF_NAME:
			dns_name_read(c, out + n, &l);
			n += l;
			break;
		case DNS_RDF_FIXED:
			wire_read(c, out + n, d->blocks[i].len);
			n += d->blocks[i].len;
			break;
		case DNS_RDF_STRING:
			l = c->pos < c->end ? *c->pos + 1u : 0;
			wire_read(c, out + n, l);
			n += l;
			break;
		default:
			l = end - wire_offset(c);
			wire_read(c, out + n, l);
			n += l;
			break;
		}
	}
	assert_int_equal(wire_offset(c), end);
	return n;
}

/* "owner TYPE rdata": A as an address, SOA by serial, others in hex. */
static void rr_text(char *buf, size_t cap, const uint8_t *owner, uint16_t type,
		    const uint8_t *rdata, size_t rdlen)
{
	char name[DNS_NAME_STRLEN], tbuf[16];
	uint8_t lower[DNS_NAME_MAXLEN];
	dns_name_copy_lower(lower, owner);
	dns_name_to_str(name, lower);
	int n = snprintf(buf, cap, "%s %s ", name, dns_rrtype_to_str(type, tbuf));
	if (type == DNS_TYPE_A && rdlen == 4) {
		inet_ntop(AF_INET, rdata, buf + n, (socklen_t)(cap - (size_t)n));
	} else if (type == DNS_TYPE_SOA) {
		size_t l1 = dns_name_len(rdata);
		size_t l2 = dns_name_len(rdata + l1);
		snprintf(buf + n, cap - (size_t)n, "%u",
			 wire_get_u32(rdata + l1 + l2));
	} else {
		for (size_t i = 0; i < rdlen && (size_t)n + 3 < cap; i++)
			n += snprintf(buf + n, cap - (size_t)n, "%02x", rdata[i]);
	}
}

/* Splits out into messages and reads their answer records. */
static void parse_out(const struct xfr_out *out, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->rr = calloc(MAXRR, sizeof(*p->rr));
	assert_non_null(p->rr);
	p->has_tsig_all = true;
	size_t off = 0;
	while (off < out->len) {
		size_t mlen = out->len - off;
		if (out->framed) {
			assert_true(out->len - off >= 2);
			mlen = wire_get_u16(out->buf + off);
			off += 2;
			assert_true(mlen <= out->len - off);
		}
		const uint8_t *m = out->buf + off;
		struct wire_ctx c;
		wire_init(&c, m, mlen);
		uint16_t id = wire_read_u16(&c), flags = wire_read_u16(&c);
		uint16_t qd = wire_read_u16(&c), an = wire_read_u16(&c);
		uint16_t ns = wire_read_u16(&c), ar = wire_read_u16(&c);
		if (p->messages == 0) {
			p->first_flags = flags;
			p->first_qd = qd;
			p->id = id;
		} else {
			assert_int_equal(id, p->id);
			p->later_qd += qd;
		}
		assert_int_equal(ns, 0);
		uint8_t name[DNS_NAME_MAXLEN];
		size_t nl;
		for (unsigned i = 0; i < qd; i++) {
			dns_name_read(&c, name, &nl);
			uint16_t qt = wire_read_u16(&c);
			wire_skip(&c, 2);
			if (p->messages == 0)
				p->qtype = qt;
		}
		for (unsigned i = 0; i < an; i++) {
			uint8_t rd[DNS_MSG_MAXLEN];
			dns_name_read(&c, name, &nl);
			uint16_t type = wire_read_u16(&c);
			assert_int_equal(wire_read_u16(&c), DNS_CLASS_IN);
			wire_skip(&c, 4);
			uint16_t rdlen = wire_read_u16(&c);
			assert_int_equal(c.err, 0);
			size_t l = rdata_plain(&c, type, rdlen, rd);
			assert_true(p->nrr < MAXRR);
			rr_text(p->rr[p->nrr++].text, sizeof(p->rr[0].text),
				name, type, rd, l);
		}
		bool tsig = false;
		for (unsigned i = 0; i < ar; i++) {
			dns_name_read(&c, name, &nl);
			uint16_t type = wire_read_u16(&c);
			wire_skip(&c, 6);
			wire_skip(&c, wire_read_u16(&c));
			tsig = type == DNS_TYPE_TSIG;
		}
		assert_int_equal(c.err, 0);
		assert_int_equal(wire_avail(&c), 0);
		if (!tsig)
			p->has_tsig_all = false;
		if (mlen > p->max_len)
			p->max_len = mlen;
		p->messages++;
		off += mlen;
	}
	assert_int_equal(p->messages, out->messages);
}

static void parsed_free(struct parsed *p)
{
	free(p->rr);
}

/* Every record of z in the text form of rr_text(). */
static size_t zone_rrs(const struct zone *z, struct rr *rr)
{
	size_t n = 0;
	for (size_t i = 0; i < z->node_count; i++) {
		const struct zone_node *node = z->nodes[i];
		for (uint16_t k = 0; k < node->rrset_count; k++) {
			struct zone_rr_iter it;
			const uint8_t *rd;
			uint16_t len;
			zone_rr_iter_init(&it, &node->rrsets[k]);
			while (zone_rr_next(&it, &rd, &len)) {
				assert_true(n < MAXRR);
				rr_text(rr[n++].text, sizeof(rr[0].text),
					node->name, node->rrsets[k].type, rd,
					len);
			}
		}
	}
	return n;
}

static int rr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rr *)a)->text, ((const struct rr *)b)->text);
}

/* The response holds z whole: SOA first and last, every record once. */
static void assert_full_zone(const struct parsed *p, const struct zone *z)
{
	char soa[600];
	struct rr *want = calloc(MAXRR, sizeof(*want));
	assert_non_null(want);
	size_t n = zone_rrs(z, want);
	snprintf(soa, sizeof(soa), "example.com. SOA %u", z->serial);
	assert_int_equal(p->nrr, n + 1);
	assert_string_equal(p->rr[0].text, soa);
	assert_string_equal(p->rr[p->nrr - 1].text, soa);
	struct rr *got = calloc(MAXRR, sizeof(*got));
	assert_non_null(got);
	memcpy(got, p->rr, (p->nrr - 1) * sizeof(*got));
	qsort(got, p->nrr - 1, sizeof(*got), rr_cmp);
	qsort(want, n, sizeof(*want), rr_cmp);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(got[i].text, want[i].text);
	free(got);
	free(want);
}

/* Serves one request and returns xfr_serve()'s result. */
static int serve(const struct env *e, const uint8_t *msg, size_t len,
		 const char *from, bool tcp, uint64_t now, struct xfr_out *out,
		 struct xfr_notify_event *ev)
{
	struct dns_query q;
	assert_int_equal(dns_query_parse(msg, len, &q), 0);
	assert_true(xfr_handles(&q));
	struct sockaddr_storage ss = addr(from, 5353);
	memset(out, 0, sizeof(*out));
	return xfr_serve(&e->pol, e->set, &q, (struct sockaddr *)&ss, tcp, now,
			 out, ev);
}

/* ---- policy.c ----------------------------------------------------------- */

static void test_policy_find(void **state)
{
	(void)state;
	static const char *const names[] = {
		"a.", "example.com.", "example.org.", "sub.example.com.", "z.",
		"xn--bcher-kva.example.",
	};
	enum { N = sizeof(names) / sizeof(names[0]) };
	struct xfr_zone_policy zp[N];
	memset(zp, 0, sizeof(zp));
	for (size_t i = 0; i < N; i++)
		wire_name(zp[i].apex, names[i]);
	/* The documented order: memcmp of the zero-padded apex arrays. */
	for (size_t i = 0; i < N; i++)
		for (size_t k = i + 1; k < N; k++)
			if (memcmp(zp[k].apex, zp[i].apex, DNS_NAME_MAXLEN) < 0) {
				struct xfr_zone_policy t = zp[i];
				zp[i] = zp[k];
				zp[k] = t;
			}
	struct xfr_policy p = { .zones = zp, .zone_count = N };
	for (size_t i = 0; i < N; i++) {
		uint8_t n[DNS_NAME_MAXLEN];
		wire_name(n, names[i]);
		const struct xfr_zone_policy *f = xfr_policy_find(&p, n);
		assert_non_null(f);
		assert_true(dns_name_equal(f->apex, n));
	}
	uint8_t n[DNS_NAME_MAXLEN];
	static const char *const absent[] = { "com.", "example.net.", ".",
					      "b.", "www.example.com." };
	for (size_t i = 0; i < 5; i++) {
		wire_name(n, absent[i]);
		assert_null(xfr_policy_find(&p, n));
	}
	struct xfr_policy empty = { 0 };
	assert_null(xfr_policy_find(&empty, n));
	assert_null(xfr_policy_find(NULL, n));
}

static void test_acl_match(void **state)
{
	(void)state;
	static const struct {
		const char *net;
		unsigned plen;
		const char *ip;
		bool match;
	} cases[] = {
		{ "192.0.2.0", 24, "192.0.2.200", true },
		{ "192.0.2.0", 24, "192.0.3.1", false },
		{ "192.0.2.0", 25, "192.0.2.128", false },
		{ "192.0.2.0", 25, "192.0.2.127", true },
		{ "192.0.2.7", 32, "192.0.2.7", true },
		{ "192.0.2.7", 32, "192.0.2.6", false },
		{ "0.0.0.0", 0, "203.0.113.9", true },
		{ "192.0.2.0", 24, "::ffff:192.0.2.9", true },	/* mapped */
		{ "192.0.2.0", 24, "::ffff:192.0.3.9", false },
		{ "192.0.2.0", 24, "2001:db8::1", false },
		{ "2001:db8::", 32, "2001:db8:ffff::1", true },
		{ "2001:db8::", 32, "2001:db9::1", false },
		{ "2001:db8::", 33, "2001:db8:8000::1", false },
		{ "2001:db8::1", 128, "2001:db8::1", true },
		{ "2001:db8::", 32, "192.0.2.1", false },
		{ "::", 0, "::1", true },
		{ "::", 0, "127.0.0.1", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfr_acl a = acl(cases[i].net, cases[i].plen, NULL);
		struct sockaddr_storage ss = addr(cases[i].ip, 53);
		if (xfr_acl_match_addr(&a, (struct sockaddr *)&ss) !=
		    cases[i].match)
			fail_msg("case %zu: %s/%u vs %s", i, cases[i].net,
				 cases[i].plen, cases[i].ip);
	}
	struct sockaddr_storage un;
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	struct xfr_acl a = acl("0.0.0.0", 0, NULL);
	assert_false(xfr_acl_match_addr(&a, (struct sockaddr *)&un));

	struct xfr_out out = { .buf = malloc(10), .len = 3, .cap = 10,
			       .messages = 1 };
	xfr_out_free(&out);
	assert_null(out.buf);
	assert_int_equal(out.len, 0);
	xfr_out_free(NULL);
}

/* ---- AXFR --------------------------------------------------------------- */

/* 3000 records of several types, so names compress and types vary. */
static struct zone *big_zone(uint32_t serial)
{
	size_t cap = 3000 * 80;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t n = 0;
	for (unsigned i = 0; i < 3000; i++) {
		switch (i % 4) {
		case 0:
			n += (size_t)snprintf(text + n, cap - n,
				"host%u A 10.%u.%u.%u\n", i, i >> 16,
				(i >> 8) & 255, i & 255);
			break;
		case 1:
			n += (size_t)snprintf(text + n, cap - n,
				"host%u MX 10 mail%u.example.net.\n", i - 1, i);
			break;
		case 2:
			n += (size_t)snprintf(text + n, cap - n,
				"alias%u CNAME host%u\n", i, i - 2);
			break;
		default:
			n += (size_t)snprintf(text + n, cap - n,
				"txt%u TXT \"record %u of the big zone\"\n",
				i, i);
			break;
		}
	}
	struct zone *z = example(serial, text);
	free(text);
	return z;
}

static void test_axfr_many_messages(void **state)
{
	(void)state;
	struct zone *z = big_zone(5);
	struct env e;
	env_init(&e, &z, 1);
	e.zones[0].message_size = 4096;
	uint8_t q[512];
	size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "Example.COM.",
			    DNS_TYPE_AXFR, -1, NULL, NULL, NOW);
	struct xfr_out out;
	assert_int_equal(serve(&e, q, qlen, "127.0.0.1", true, NOW, &out, NULL),
			 0);
	assert_true(out.framed);
	assert_int_equal(out.rcode, DNS_RCODE_NOERROR);
	struct parsed p;
	parse_out(&out, &p);
	assert_true(p.messages > 10);
	assert_true(p.max_len <= 4096);
	assert_int_equal(p.first_qd, 1);
	assert_int_equal(p.later_qd, 0);
	assert_int_equal(p.qtype, DNS_TYPE_AXFR);
	assert_int_equal(p.id, 0x4242);
	assert_int_equal(p.first_flags, DNS_FLAG_QR | DNS_FLAG_AA);
	assert_false(p.has_tsig_all);
	assert_int_equal(out.records, z->rr_count + 1);
	assert_int_equal(p.nrr, out.records);
	assert_full_zone(&p, z);
	parsed_free(&p);
	xfr_out_free(&out);

	/* The default message size when the policy says 0. */
	e.zones[0].message_size = 0;
	assert_int_equal(serve(&e, q, qlen, "127.0.0.1", true, NOW, &out, NULL),
			 0);
	parse_out(&out, &p);
	assert_true(p.max_len <= 16384 && p.max_len > 8192);
	assert_full_zone(&p, z);
	parsed_free(&p);
	xfr_out_free(&out);
	env_fini(&e);
}

/* A record larger than the configured message size goes alone in a
 * message of its own size. */
static void test_axfr_big_record(void **state)
{
	(void)state;
	char *text = malloc(8000);
	size_t n = (size_t)snprintf(text, 8000, "big TXT");
	for (int i = 0; i < 8; i++) {
		text[n++] = ' ';
		text[n++] = '"';
		memset(text + n, 'a' + i, 250);
		n += 250;
		text[n++] = '"';
	}
	snprintf(text + n, 8000 - n, "\nsmall A 192.0.2.1\n");
	struct zone *z = example(9, text);
	free(text);
	struct env e;
	env_init(&e, &z, 1);
	e.zones[0].message_size = 512;
	uint8_t q[512];
	size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
			    DNS_TYPE_AXFR, -1, NULL, NULL, NOW);
	struct xfr_out out;
	assert_int_equal(serve(&e, q, qlen, "127.0.0.1", true, NOW, &out, NULL),
			 0);
	struct parsed p;
	parse_out(&out, &p);
	assert_true(p.max_len > 2000);
	assert_full_zone(&p, z);
	parsed_free(&p);
	xfr_out_free(&out);
	env_fini(&e);
}

static void test_axfr_refusals(void **state)
{
	(void)state;
	struct zone *z = example(1, "");
	struct zone *expired;
	uint8_t apex[DNS_NAME_MAXLEN];
	wire_name(apex, "example.org.");
	assert_int_equal(zone_new_servfail(apex, &expired), 0);
	struct zone *zones[] = { z, expired };
	struct env e;
	env_init(&e, zones, 2);
	uint8_t q[512];
	struct xfr_out out;
	struct parsed p;
	static const struct {
		const char *zone;
		const char *from;
		bool tcp;
		uint16_t rcode;
	} cases[] = {
		{ "example.com.", "127.0.0.1", true, DNS_RCODE_NOERROR },
		{ "example.com.", "::ffff:127.1.2.3", true, DNS_RCODE_NOERROR },
		{ "example.com.", "2001:db8:1::5", true, DNS_RCODE_NOERROR },
		{ "example.com.", "127.0.0.1", false, DNS_RCODE_NOTIMP },
		{ "example.com.", "203.0.113.1", true, DNS_RCODE_REFUSED },
		{ "example.com.", "2001:db9::1", true, DNS_RCODE_REFUSED },
		/* Allowed address, key required, request unsigned. */
		{ "example.com.", "192.0.2.9", true, DNS_RCODE_NOTAUTH },
		{ "www.example.com.", "127.0.0.1", true, DNS_RCODE_REFUSED },
		{ "example.net.", "127.0.0.1", true, DNS_RCODE_REFUSED },
		{ "example.org.", "127.0.0.1", true, DNS_RCODE_SERVFAIL },
		{ "example.org.", "192.0.2.1", true, DNS_RCODE_REFUSED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY,
				    cases[i].zone, DNS_TYPE_AXFR, -1, NULL,
				    NULL, NOW);
		assert_int_equal(serve(&e, q, qlen, cases[i].from,
				       cases[i].tcp, NOW, &out, NULL), 0);
		assert_int_equal(out.framed, cases[i].tcp);
		parse_out(&out, &p);
		if (out.rcode != cases[i].rcode)
			fail_msg("case %zu: rcode %u", i, out.rcode);
		assert_int_equal(DNS_RCODE(p.first_flags), cases[i].rcode);
		assert_int_equal(p.first_qd, 1);
		if (cases[i].rcode != DNS_RCODE_NOERROR) {
			assert_int_equal(p.messages, 1);
			assert_int_equal(p.nrr, 0);
			assert_int_equal(out.records, 0);
			/* Unsigned request: no TSIG in the error either. */
			assert_false(p.has_tsig_all);
			assert_int_equal(p.first_flags & DNS_FLAG_AA, 0);
		}
		parsed_free(&p);
		xfr_out_free(&out);
	}
	env_fini(&e);
}

/* ---- IXFR --------------------------------------------------------------- */

struct ixfr_env {
	struct zone *v[3];
	struct zone_diff *d[2];
	struct env e;
};

/* Serials 1, 2, 3: 1→2 changes www's address; 2→3 removes ftp's TXT
 * and adds new. The set serves version 3 with that history. */
static void ixfr_setup(struct ixfr_env *x)
{
	x->v[0] = example(1, "www A 192.0.2.1\nftp TXT \"gone soon\"\n");
	x->v[1] = example(2, "www A 192.0.2.2\nftp TXT \"gone soon\"\n");
	x->v[2] = example(3, "www A 192.0.2.2\nnew A 192.0.2.3\n");
	assert_int_equal(zone_diff_compute(x->v[0], x->v[1], &x->d[0]), 0);
	assert_int_equal(zone_diff_compute(x->v[1], x->v[2], &x->d[1]), 0);
	assert_int_equal(zone_set_history(x->v[2], x->d, 2), 0);
	env_init(&x->e, &x->v[2], 1);
}

static void ixfr_teardown(struct ixfr_env *x)
{
	env_fini(&x->e);
	zone_free(x->v[0]);
	zone_free(x->v[1]);
	zone_diff_unref(x->d[0]);
	zone_diff_unref(x->d[1]);
}

#define SOA(n) "example.com. SOA " #n
#define TXT_FTP "ftp.example.com. TXT 09676f6e6520736f6f6e"

static void assert_sequence(const struct parsed *p, const char *const *want,
			    size_t n)
{
	for (size_t i = 0; i < n && i < p->nrr; i++)
		if (strcmp(p->rr[i].text, want[i]) != 0)
			fail_msg("record %zu: \"%s\", want \"%s\"", i,
				 p->rr[i].text, want[i]);
	assert_int_equal(p->nrr, n);
}

static void test_ixfr_sequences(void **state)
{
	(void)state;
	struct ixfr_env x;
	ixfr_setup(&x);
	static const char *const from1[] = {
		SOA(3),
		SOA(1), "www.example.com. A 192.0.2.1",
		SOA(2), "www.example.com. A 192.0.2.2",
		SOA(2), TXT_FTP,
		SOA(3), "new.example.com. A 192.0.2.3",
		SOA(3),
	};
	static const char *const from2[] = {
		SOA(3),
		SOA(2), TXT_FTP,
		SOA(3), "new.example.com. A 192.0.2.3",
		SOA(3),
	};
	static const char *const only[] = { SOA(3) };
	static const struct {
		long serial;
		const char *const *want;
		size_t n;
	} cases[] = {
		{ 1, from1, 10 },
		{ 2, from2, 6 },
		{ 3, only, 1 },		/* current */
		{ 4, only, 1 },		/* newer than ours */
		{ 2147483651, only, 1 },	/* 3 + 2^31: undefined, not
						 * older (RFC 1982 §3.2) */
	};
	uint8_t q[512];
	struct xfr_out out;
	struct parsed p;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY,
				    "example.com.", DNS_TYPE_IXFR,
				    cases[i].serial, NULL, NULL, NOW);
		assert_int_equal(serve(&x.e, q, qlen, "127.0.0.1", true, NOW,
				       &out, NULL), 0);
		assert_int_equal(out.rcode, DNS_RCODE_NOERROR);
		parse_out(&out, &p);
		assert_int_equal(p.messages, 1);
		assert_int_equal(p.qtype, DNS_TYPE_IXFR);
		assert_int_equal(p.first_flags, DNS_FLAG_QR | DNS_FLAG_AA);
		assert_sequence(&p, cases[i].want, cases[i].n);
		assert_int_equal(out.records, cases[i].n);
		parsed_free(&p);
		xfr_out_free(&out);
	}

	/* A serial the history does not reach: the whole zone, with the
	 * IXFR question (RFC 1995 §4). */
	size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
			    DNS_TYPE_IXFR, 0, NULL, NULL, NOW);
	assert_int_equal(serve(&x.e, q, qlen, "127.0.0.1", true, NOW, &out,
			       NULL), 0);
	parse_out(&out, &p);
	assert_int_equal(p.qtype, DNS_TYPE_IXFR);
	assert_full_zone(&p, x.v[2]);
	parsed_free(&p);
	xfr_out_free(&out);

	/* Over UDP: our SOA alone, unframed, whatever the client has. */
	qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
		     DNS_TYPE_IXFR, 1, NULL, NULL, NOW);
	assert_int_equal(serve(&x.e, q, qlen, "127.0.0.1", false, NOW, &out,
			       NULL), 0);
	assert_false(out.framed);
	parse_out(&out, &p);
	assert_sequence(&p, only, 1);
	assert_int_equal(p.first_flags, DNS_FLAG_QR | DNS_FLAG_AA);
	parsed_free(&p);
	xfr_out_free(&out);

	/* No SOA in authority: FORMERR (after the ACL). */
	qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
		     DNS_TYPE_IXFR, -1, NULL, NULL, NOW);
	assert_int_equal(serve(&x.e, q, qlen, "127.0.0.1", true, NOW, &out,
			       NULL), 0);
	assert_int_equal(out.rcode, DNS_RCODE_FORMERR);
	parse_out(&out, &p);
	assert_int_equal(p.nrr, 0);
	assert_int_equal(p.first_flags & DNS_FLAG_AA, 0);
	parsed_free(&p);
	xfr_out_free(&out);
	assert_int_equal(serve(&x.e, q, qlen, "203.0.113.5", true, NOW, &out,
			       NULL), 0);
	assert_int_equal(out.rcode, DNS_RCODE_REFUSED);
	xfr_out_free(&out);
	ixfr_teardown(&x);
}

static void test_ixfr_condensed(void **state)
{
	(void)state;
	struct ixfr_env x;
	ixfr_setup(&x);
	x.e.zones[0].condense_after = 1;
	uint8_t q[512];
	struct xfr_out out;
	struct parsed p;
	size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
			    DNS_TYPE_IXFR, 1, NULL, NULL, NOW);
	assert_int_equal(serve(&x.e, q, qlen, "127.0.0.1", true, NOW, &out,
			       NULL), 0);
	parse_out(&out, &p);
	/* One difference 1 → 3: SOA 3, SOA 1, both removed, SOA 3, both
	 * added, SOA 3; within a part the order is the diff's. */
	assert_int_equal(p.nrr, 8);
	assert_string_equal(p.rr[0].text, SOA(3));
	assert_string_equal(p.rr[1].text, SOA(1));
	const char *removed[2] = { p.rr[2].text, p.rr[3].text };
	if (strcmp(removed[0], removed[1]) > 0) {
		const char *t = removed[0];
		removed[0] = removed[1];
		removed[1] = t;
	}
	assert_string_equal(removed[0], TXT_FTP);
	assert_string_equal(removed[1], "www.example.com. A 192.0.2.1");
	assert_string_equal(p.rr[4].text, SOA(3));
	const char *added[2] = { p.rr[5].text, p.rr[6].text };
	if (strcmp(added[0], added[1]) > 0) {
		const char *t = added[0];
		added[0] = added[1];
		added[1] = t;
	}
	assert_string_equal(added[0], "new.example.com. A 192.0.2.3");
	assert_string_equal(added[1], "www.example.com. A 192.0.2.2");
	assert_string_equal(p.rr[7].text, SOA(3));
	parsed_free(&p);
	xfr_out_free(&out);

	/* From serial 2 the chain is 1 long: sent as it is. */
	qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
		     DNS_TYPE_IXFR, 2, NULL, NULL, NOW);
	assert_int_equal(serve(&x.e, q, qlen, "127.0.0.1", true, NOW, &out,
			       NULL), 0);
	parse_out(&out, &p);
	assert_int_equal(p.nrr, 6);
	parsed_free(&p);
	xfr_out_free(&out);
	ixfr_teardown(&x);
}

/* ---- TSIG --------------------------------------------------------------- */

/* The TSIG error and MAC size of the TSIG ending msg. */
static void tsig_fields(const uint8_t *msg, size_t len, uint16_t *error,
			uint16_t *mac_size)
{
	long at = dns_tsig_find(msg, len);
	assert_true(at > 0);
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t nl;
	wire_init(&c, msg, len);
	wire_seek(&c, (size_t)at);
	dns_name_read(&c, name, &nl);
	wire_skip(&c, 10);
	dns_name_read(&c, name, &nl);
	wire_skip(&c, 8);
	*mac_size = wire_read_u16(&c);
	wire_skip(&c, *mac_size + 2);
	*error = wire_read_u16(&c);
	assert_int_equal(c.err, 0);
}

static void test_tsig_signed_axfr(void **state)
{
	(void)state;
	struct zone *z = big_zone(7);
	struct env e;
	env_init(&e, &z, 1);
	e.zones[0].message_size = 2048;
	uint8_t q[1024];
	struct dns_tsig_ctx cctx;
	size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
			    DNS_TYPE_AXFR, -1, &keys[0], &cctx, NOW);
	struct xfr_out out;
	assert_int_equal(serve(&e, q, qlen, "192.0.2.77", true, NOW + 5, &out,
			       NULL), 0);
	assert_int_equal(out.rcode, DNS_RCODE_NOERROR);
	struct parsed p;
	parse_out(&out, &p);
	assert_true(p.messages > 20);
	assert_true(p.has_tsig_all);
	assert_true(p.max_len <= 2048);
	assert_full_zone(&p, z);
	parsed_free(&p);
	/* Every message verifies, in order, as a client checks them. */
	size_t off = 0;
	unsigned n = 0;
	while (off < out.len) {
		size_t mlen = wire_get_u16(out.buf + off);
		assert_int_equal(dns_tsig_verify_response(&cctx,
				 out.buf + off + 2, mlen, NOW + 6), 0);
		off += 2 + mlen;
		n++;
	}
	assert_int_equal(n, out.messages);
	assert_true(dns_tsig_stream_done(&cctx));
	dns_tsig_ctx_clear(&cctx);
	xfr_out_free(&out);

	/* The same key from an address whose entry needs no key: allowed,
	 * and the answer is signed all the same. */
	qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
		     DNS_TYPE_AXFR, -1, &keys[0], &cctx, NOW);
	assert_int_equal(serve(&e, q, qlen, "127.0.0.1", true, NOW, &out,
			       NULL), 0);
	assert_int_equal(out.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(dns_tsig_verify_response(&cctx, out.buf + 2,
			 wire_get_u16(out.buf), NOW), 0);
	dns_tsig_ctx_clear(&cctx);
	xfr_out_free(&out);

	/* A signed IXFR over UDP without EDNS: the SOA and the TSIG fit in
	 * 512 octets and verify. */
	qlen = query(q, sizeof(q), DNS_OPCODE_QUERY, "example.com.",
		     DNS_TYPE_IXFR, 1, &keys[0], &cctx, NOW);
	assert_int_equal(serve(&e, q, qlen, "192.0.2.1", false, NOW, &out,
			       NULL), 0);
	assert_false(out.framed);
	assert_true(out.len <= 512);
	assert_int_equal(out.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(wire_get_u16(out.buf + 6), 1);
	assert_int_equal(dns_tsig_verify_response(&cctx, out.buf, out.len,
						  NOW), 0);
	dns_tsig_ctx_clear(&cctx);
	xfr_out_free(&out);
	env_fini(&e);
}

static void test_tsig_errors(void **state)
{
	(void)state;
	struct zone *z = example(1, "");
	struct env e;
	env_init(&e, &z, 1);
	static const struct {
		int key;		/* index in keys, -1: unsigned */
		const char *from;
		int corrupt;		/* flip a MAC octet */
		int64_t skew;		/* server clock minus client's */
		uint16_t rcode;
		int tsig_error;		/* -1: no TSIG in the answer */
		bool mac;		/* the answer's TSIG has a MAC */
	} cases[] = {
		{ 0, "192.0.2.1", 0, 0, DNS_RCODE_NOERROR, 0, true },
		{ 1, "198.51.100.7", 0, 0, DNS_RCODE_NOERROR, 0, true },
		/* BADSIG: the MAC does not verify (§5.2.3). */
		{ 0, "192.0.2.1", 1, 0, DNS_RCODE_NOTAUTH, DNS_TSIG_BADSIG,
		  false },
		/* Same name and algorithm, another secret: BADSIG too. */
		{ 2, "192.0.2.1", 0, 0, DNS_RCODE_NOTAUTH, DNS_TSIG_BADSIG,
		  false },
		/* A key we know, not the one this address must use. */
		{ 1, "192.0.2.1", 0, 0, DNS_RCODE_NOTAUTH, DNS_TSIG_BADKEY,
		  false },
		{ 0, "198.51.100.7", 0, 0, DNS_RCODE_NOTAUTH, DNS_TSIG_BADKEY,
		  false },
		/* BADTIME is signed (§5.2.3). */
		{ 0, "192.0.2.1", 0, 1000, DNS_RCODE_NOTAUTH, DNS_TSIG_BADTIME,
		  true },
		/* Unsigned where a key is required: nothing to echo. */
		{ -1, "192.0.2.1", 0, 0, DNS_RCODE_NOTAUTH, -1, false },
		/* No entry holds the address: REFUSED whatever the key. */
		{ 0, "203.0.113.1", 0, 0, DNS_RCODE_REFUSED, -1, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t q[1024];
		struct dns_tsig_ctx cctx;
		const struct dns_tsig_key *k =
			cases[i].key >= 0 ? &keys[cases[i].key] : NULL;
		size_t qlen = query(q, sizeof(q), DNS_OPCODE_QUERY,
				    "example.com.", DNS_TYPE_AXFR, -1, k,
				    &cctx, NOW);
		if (cases[i].corrupt)
			q[qlen - 10] ^= 0x55;	/* inside the MAC */
		struct xfr_out out;
		assert_int_equal(serve(&e, q, qlen, cases[i].from, true,
				       NOW + (uint64_t)cases[i].skew, &out,
				       NULL), 0);
		if (out.rcode != cases[i].rcode)
			fail_msg("case %zu: rcode %u", i, out.rcode);
		const uint8_t *m = out.buf + 2;
		size_t mlen = wire_get_u16(out.buf);
		if (cases[i].tsig_error < 0) {
			assert_int_equal(dns_tsig_find(m, mlen), 0);
		} else {
			uint16_t err, mac;
			tsig_fields(m, mlen, &err, &mac);
			if (err != cases[i].tsig_error)
				fail_msg("case %zu: TSIG error %u", i, err);
			assert_int_equal(mac != 0, cases[i].mac);
		}
		if (cases[i].rcode == DNS_RCODE_NOERROR)
			assert_int_equal(dns_tsig_verify_response(&cctx, m,
					 mlen, NOW), 0);
		if (k != NULL)
			dns_tsig_ctx_clear(&cctx);
		xfr_out_free(&out);
	}
	env_fini(&e);
}

/* ---- NOTIFY ------------------------------------------------------------- */

static void test_notify(void **state)
{
	(void)state;
	struct zone *z = example(42, "");
	struct zone *org = zone_text("example.org.",
		"$ORIGIN example.org.\n@ 60 SOA ns hm 1 1 1 1 1\n@ 60 NS ns\n"
		"ns 60 A 192.0.2.1\n");
	struct zone *zones[] = { z, org };
	struct env e;
	env_init(&e, zones, 2);
	uint8_t req[1024];
	size_t len;
	assert_int_equal(xfr_notify_build(z, 0x1234, NULL, NOW, req,
					  sizeof(req), &len), 0);
	struct dns_query q;
	assert_int_equal(dns_query_parse(req, len, &q), 0);
	assert_int_equal(q.opcode, DNS_OPCODE_NOTIFY);
	assert_int_equal(q.qtype, DNS_TYPE_SOA);
	assert_int_equal(q.ancount, 1);
	assert_true(q.flags & DNS_FLAG_AA);
	assert_int_equal(xfr_notify_build(z, 1, NULL, NOW, req, 40, &len),
			 ANYDNS_ESPACE);
	assert_int_equal(xfr_notify_build(z, 0x1234, NULL, NOW, req,
					  sizeof(req), &len), 0);

	struct xfr_out out;
	struct xfr_notify_event ev;
	assert_int_equal(serve(&e, req, len, "127.0.0.2", false, NOW, &out,
			       &ev), 1);
	uint8_t apex[DNS_NAME_MAXLEN];
	wire_name(apex, "example.com.");
	assert_true(dns_name_equal(ev.apex, apex));
	assert_int_equal(memcmp(ev.apex, apex, dns_name_len(apex)), 0);
	assert_true(ev.has_serial);
	assert_int_equal(ev.serial, 42);
	assert_int_equal(ev.from.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ev.from)->sin_port),
			 5353);
	assert_false(out.framed);
	assert_int_equal(out.messages, 1);
	assert_int_equal(out.rcode, 0);
	uint16_t flags = wire_get_u16(out.buf + 2);
	assert_int_equal(flags, DNS_FLAG_QR | DNS_FLAG_AA |
			 (DNS_OPCODE_NOTIFY << 11));
	assert_int_equal(wire_get_u16(out.buf), 0x1234);
	uint16_t rcode = 99;
	assert_int_equal(xfr_notify_reply_check(req, len, out.buf, out.len,
						NULL, NOW, &rcode), 0);
	assert_int_equal(rcode, 0);
	/* Not a reply to it: another ID, or the request itself. */
	out.buf[1] ^= 1;
	assert_int_equal(xfr_notify_reply_check(req, len, out.buf, out.len,
						NULL, NOW, &rcode),
			 ANYDNS_EDROP);
	assert_int_equal(xfr_notify_reply_check(req, len, req, len, NULL, NOW,
						&rcode), ANYDNS_EDROP);
	xfr_out_free(&out);

	/* Over TCP it is accepted the same way, framed. */
	assert_int_equal(serve(&e, req, len, "127.0.0.2", true, NOW, &out,
			       &ev), 1);
	assert_true(out.framed);
	assert_int_equal(wire_get_u16(out.buf), out.len - 2);
	xfr_out_free(&out);

	/* Refused: a source not in the notify ACL (127.0.0.1 may transfer
	 * but not notify), a zone without a notify ACL, one not ours. */
	static const struct {
		const char *from;
		uint16_t rcode;
	} refused[] = {
		{ "127.0.0.1", DNS_RCODE_REFUSED },
		{ "192.0.2.5", DNS_RCODE_NOTAUTH },	/* key needed */
		{ "::1", DNS_RCODE_REFUSED },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memset(&ev, 0xee, sizeof(ev));
		assert_int_equal(serve(&e, req, len, refused[i].from, false,
				       NOW, &out, &ev), 0);
		assert_int_equal(out.rcode, refused[i].rcode);
		assert_int_equal(xfr_notify_reply_check(req, len, out.buf,
			out.len, NULL, NOW, &rcode), ANYDNS_EREFUSED);
		assert_int_equal(rcode, refused[i].rcode);
		xfr_out_free(&out);
	}
	assert_int_equal(xfr_notify_build(org, 7, NULL, NOW, req, sizeof(req),
					  &len), 0);
	assert_int_equal(serve(&e, req, len, "127.0.0.2", false, NOW, &out,
			       &ev), 0);
	assert_int_equal(out.rcode, DNS_RCODE_REFUSED);
	xfr_out_free(&out);

	/* A NOTIFY without the SOA in answer: accepted, no serial. */
	size_t qlen = query(req, sizeof(req), DNS_OPCODE_NOTIFY, "example.com.",
			    DNS_TYPE_SOA, -1, NULL, NULL, NOW);
	assert_int_equal(serve(&e, req, qlen, "127.0.0.2", false, NOW, &out,
			       &ev), 1);
	assert_false(ev.has_serial);
	xfr_out_free(&out);
	/* ... and one for another type: FORMERR. */
	qlen = query(req, sizeof(req), DNS_OPCODE_NOTIFY, "example.com.",
		     DNS_TYPE_A, -1, NULL, NULL, NOW);
	assert_int_equal(serve(&e, req, qlen, "127.0.0.2", false, NOW, &out,
			       &ev), 0);
	assert_int_equal(out.rcode, DNS_RCODE_FORMERR);
	xfr_out_free(&out);
	env_fini(&e);
}

static void test_notify_signed(void **state)
{
	(void)state;
	struct zone *z = example(42, "");
	struct env e;
	env_init(&e, &z, 1);
	uint8_t req[1024];
	size_t len;
	struct dns_tsig_ctx cctx;
	dns_tsig_ctx_init(&cctx, &keys[0]);
	assert_int_equal(xfr_notify_build(z, 77, &cctx, NOW, req, sizeof(req),
					  &len), 0);
	struct xfr_out out;
	struct xfr_notify_event ev;
	assert_int_equal(serve(&e, req, len, "192.0.2.200", false, NOW, &out,
			       &ev), 1);
	assert_int_equal(ev.serial, 42);
	/* A reply that lost its TSIG does not pass. */
	uint16_t rcode;
	uint8_t bare[1024];
	memcpy(bare, out.buf, out.len);
	long at = dns_tsig_find(bare, out.len);
	assert_true(at > 0);
	wire_put_u16(bare + 10, (uint16_t)(wire_get_u16(bare + 10) - 1));
	assert_int_equal(xfr_notify_reply_check(req, len, bare, (size_t)at,
						&cctx, NOW, &rcode),
			 ANYDNS_ENOTSIG);
	dns_tsig_ctx_clear(&cctx);
	/* The whole reply does, checked by a context of the same request. */
	dns_tsig_ctx_init(&cctx, &keys[0]);
	assert_int_equal(xfr_notify_build(z, 77, &cctx, NOW, req, sizeof(req),
					  &len), 0);
	assert_int_equal(xfr_notify_reply_check(req, len, out.buf, out.len,
						&cctx, NOW, &rcode), 0);
	assert_int_equal(rcode, 0);
	dns_tsig_ctx_clear(&cctx);
	xfr_out_free(&out);

	/* Signed with the other key: the secondary answers NOTAUTH with an
	 * unsigned BADKEY, which the primary reports as the TSIG error. */
	dns_tsig_ctx_init(&cctx, &keys[1]);
	assert_int_equal(xfr_notify_build(z, 78, &cctx, NOW, req, sizeof(req),
					  &len), 0);
	assert_int_equal(serve(&e, req, len, "192.0.2.200", false, NOW, &out,
			       &ev), 0);
	assert_int_equal(out.rcode, DNS_RCODE_NOTAUTH);
	assert_int_equal(xfr_notify_reply_check(req, len, out.buf, out.len,
						&cctx, NOW, &rcode),
			 ANYDNS_EBADKEY);
	assert_int_equal(rcode, DNS_RCODE_NOTAUTH);
	dns_tsig_ctx_clear(&cctx);
	xfr_out_free(&out);
	env_fini(&e);
}

int main(void)
{
	/* XFR_TEST_LOG=1 shows the lines every transfer and refusal logs. */
	log_set_level(getenv("XFR_TEST_LOG") ? LOG_LVL_INFO : LOG_LVL_SILENT);
	keys_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_find),
		cmocka_unit_test(test_acl_match),
		cmocka_unit_test(test_axfr_many_messages),
		cmocka_unit_test(test_axfr_big_record),
		cmocka_unit_test(test_axfr_refusals),
		cmocka_unit_test(test_ixfr_sequences),
		cmocka_unit_test(test_ixfr_condensed),
		cmocka_unit_test(test_tsig_signed_axfr),
		cmocka_unit_test(test_tsig_errors),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_signed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
