/*
 * Unit tests for src/server/cache.c, the packet cache of the UDP workers:
 * the cache alone (a hit gives back the stored octets with the new ID;
 * another generation, view or key misses; entries overwritten when the
 * ring wraps are never returned, the others intact; what is too large is
 * not kept), then through a running server on both UDP backends: for
 * every kind of answer the response to a repeated query is byte for byte
 * the engine's (so equal to the first one but for the ID), query name
 * case and EDNS payload make other entries, a newly published zone set is
 * never answered from the old one, signed, EXPIRE, malformed, NOTIFY and
 * AXFR messages are never answered from the cache, a hit moves every
 * counter as its miss did, and the cache can be turned off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/internal.h"
#include "server_test.h"

#define ZONE_V1 ST_DATA "cache.zone"
#define ZONE_V2 ST_DATA "cache-v2.zone"

/* ---- building queries ---------------------------------------------------- */

struct qspec {
	const char *name;
	uint16_t qtype;
	uint16_t qclass;	/* 0: IN */
	uint16_t payload;	/* EDNS payload; 0: no OPT */
	bool do_bit;
	bool expire;		/* an empty EDNS EXPIRE option (RFC 7314) */
	bool tsig;		/* a TSIG record for a key nobody has */
	uint16_t flags;		/* the header word after the ID */
	uint16_t qdcount;	/* 0: 1 */
};

static size_t put_name(uint8_t *p, const char *name)
{
	size_t len;
	assert_int_equal(dns_name_from_str(p, &len, name, NULL), 0);
	return len;
}

/* The query spec describes, with ID id, into buf (512 octets). */
static size_t build(uint8_t *buf, uint16_t id, const struct qspec *s)
{
	memset(buf, 0, DNS_HEADER_LEN);
	wire_put_u16(buf, id);
	wire_put_u16(buf + 2, s->flags);
	wire_put_u16(buf + 4, s->qdcount ? s->qdcount : 1);
	wire_put_u16(buf + 10, (uint16_t)((s->payload ? 1 : 0) +
					  (s->tsig ? 1 : 0)));
	uint8_t *p = buf + DNS_HEADER_LEN;
	p += put_name(p, s->name);
	wire_put_u16(p, s->qtype);
	wire_put_u16(p + 2, s->qclass ? s->qclass : DNS_CLASS_IN);
	p += 4;
	if (s->payload) {
		*p++ = 0;
		wire_put_u16(p, DNS_TYPE_OPT);
		wire_put_u16(p + 2, s->payload);
		wire_put_u32(p + 4, s->do_bit ? 0x8000 : 0);
		wire_put_u16(p + 8, s->expire ? 4 : 0);
		p += 10;
		if (s->expire) {
			wire_put_u16(p, DNS_EDNS_EXPIRE);
			wire_put_u16(p + 2, 0);
			p += 4;
		}
	}
	if (s->tsig) {
		p += put_name(p, "key.example.");
		wire_put_u16(p, DNS_TYPE_TSIG);
		wire_put_u16(p + 2, DNS_CLASS_ANY);
		wire_put_u32(p + 4, 0);
		uint8_t *rdlen = p + 8;
		uint8_t *rd = p + 10;
		rd += put_name(rd, "hmac-sha256.");
		memset(rd, 0, 6);			/* time */
		wire_put_u32(rd + 2, 1700000000);
		wire_put_u16(rd + 6, 300);		/* fudge */
		wire_put_u16(rd + 8, 32);		/* MAC size */
		memset(rd + 10, 0xab, 32);
		wire_put_u16(rd + 42, id);		/* original ID */
		wire_put_u16(rd + 44, 0);		/* error */
		wire_put_u16(rd + 46, 0);		/* other len */
		rd += 48;
		wire_put_u16(rdlen, (uint16_t)(rd - (p + 10)));
		p = rd;
	}
	return (size_t)(p - buf);
}

/* ---- the cache alone ------------------------------------------------------- */

static const struct qspec www_a = { "www.example.com.", DNS_TYPE_A };

/* A made-up response of len octets for query q: its ID, then a pattern
 * from seed, so that every entry's octets are its own. */
static void fake_resp(uint8_t *out, size_t len, const uint8_t *q,
		      unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(seed * 31 + i * 7);
	memcpy(out, q, 2);
}

static void store(struct server_cache *c, const struct server_cache_probe *p,
		  const uint8_t *resp, size_t len)
{
	struct server_cache_hit kept = {
		.res = { .len = len, .rcode = DNS_RCODE_NOERROR },
		.qtype = DNS_TYPE_A,
	};
	server_cache_store(c, p, resp, &kept);
}

static void test_cache_bounds(void **state)
{
	(void)state;
	struct server_cache *c = NULL;
	assert_int_equal(server_cache_new(SERVER_CACHE_MIN - 1, &c),
			 ANYDNS_EINVAL);
	assert_null(c);
	assert_int_equal(server_cache_new(SERVER_CACHE_MIN, &c), 0);
	server_cache_free(c);
	server_cache_free(NULL);
}

static void test_cache_hit_and_misses(void **state)
{
	(void)state;
	struct server_cache *c;
	assert_int_equal(server_cache_new(1 << 20, &c), 0);
	uint8_t q[512], q2[512], resp[300], out[1232];
	struct server_cache_probe p;
	struct server_cache_hit hit;
	size_t qlen = build(q, 0x1111, &www_a);

	assert_int_equal(server_cache_lookup(c, 7, 3, q, qlen, out,
					     sizeof(out), &p, &hit), 0);
	assert_non_null(p.key);
	fake_resp(resp, sizeof(resp), q, 1);
	struct server_cache_hit kept = {
		.res = { .len = sizeof(resp), .rcode = DNS_RCODE_NXDOMAIN,
			 .truncated = true },
		.qtype = DNS_TYPE_A,
	};
	server_cache_store(c, &p, resp, &kept);

	/* The same octets with another ID: the response with that ID. */
	memcpy(q2, q, qlen);
	wire_put_u16(q2, 0x2222);
	memset(&hit, 0, sizeof(hit));
	assert_int_equal(server_cache_lookup(c, 7, 3, q2, qlen, out,
					     sizeof(out), &p, &hit),
			 sizeof(resp));
	assert_int_equal(wire_get_u16(out), 0x2222);
	assert_memory_equal(out + 2, resp + 2, sizeof(resp) - 2);
	assert_int_equal(hit.res.len, sizeof(resp));
	assert_int_equal(hit.res.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(hit.res.truncated);
	assert_int_equal(hit.qtype, DNS_TYPE_A);

	/* Another generation, another view, a buffer too small. */
	assert_int_equal(server_cache_lookup(c, 8, 3, q2, qlen, out,
					     sizeof(out), &p, &hit), 0);
	assert_int_equal(server_cache_lookup(c, 7, ZONE_VIEW_ALL, q2, qlen,
					     out, sizeof(out), &p, &hit), 0);
	assert_int_equal(server_cache_lookup(c, 7, 3, q2, qlen, out,
					     sizeof(resp) - 1, &p, &hit), 0);
	/* One octet of the key changed (RD set; the name's case). */
	q2[2] ^= 0x01;
	assert_int_equal(server_cache_lookup(c, 7, 3, q2, qlen, out,
					     sizeof(out), &p, &hit), 0);
	q2[2] ^= 0x01;
	q2[DNS_HEADER_LEN + 1] = 'W';
	assert_int_equal(server_cache_lookup(c, 7, 3, q2, qlen, out,
					     sizeof(out), &p, &hit), 0);
	/* A longer message with the same start. */
	memcpy(q2, q, qlen);
	q2[qlen] = 0;
	assert_int_equal(server_cache_lookup(c, 7, 3, q2, qlen + 1, out,
					     sizeof(out), &p, &hit), 0);
	/* Shorter than a header: no key, and storing it does nothing. */
	assert_int_equal(server_cache_lookup(c, 7, 3, q, 11, out,
					     sizeof(out), &p, &hit), 0);
	assert_null(p.key);
	store(c, &p, resp, sizeof(resp));

	/* A new answer for the next generation replaces the old one. */
	assert_int_equal(server_cache_lookup(c, 8, 3, q, qlen, out,
					     sizeof(out), &p, &hit), 0);
	fake_resp(resp, sizeof(resp), q, 2);
	store(c, &p, resp, 100);
	assert_int_equal(server_cache_lookup(c, 8, 3, q, qlen, out,
					     sizeof(out), &p, &hit), 100);
	assert_memory_equal(out, resp, 100);
	assert_int_equal(server_cache_lookup(c, 7, 3, q, qlen, out,
					     sizeof(out), &p, &hit), 0);
	server_cache_free(c);
}

/* Much more written than the ring holds: the newest entries are found,
 * each with its own octets; the oldest are gone. */
static void test_cache_wrap(void **state)
{
	(void)state;
	struct server_cache *c;
	assert_int_equal(server_cache_new(SERVER_CACHE_MIN, &c), 0);
	enum { N = 3000, RLEN = 97 };
	uint8_t q[512], resp[RLEN], out[1232];
	struct server_cache_probe p;
	struct server_cache_hit hit;
	char name[64];
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%u.example.com.", i);
		struct qspec s = { name, DNS_TYPE_A };
		size_t qlen = build(q, (uint16_t)i, &s);
		assert_int_equal(server_cache_lookup(c, 1, ZONE_VIEW_ALL, q,
						     qlen, out, sizeof(out),
						     &p, &hit), 0);
		fake_resp(resp, RLEN, q, i);
		store(c, &p, resp, RLEN - i % 40);
	}
	unsigned found = 0;
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%u.example.com.", i);
		struct qspec s = { name, DNS_TYPE_A };
		size_t qlen = build(q, (uint16_t)i, &s);
		size_t n = server_cache_lookup(c, 1, ZONE_VIEW_ALL, q, qlen,
					       out, sizeof(out), &p, &hit);
		if (n == 0) {
			/* Entries of about 150 octets: the first ones were
			 * overwritten long ago. The last four cannot have
			 * lost their way in the index either (four ways). */
			assert_true(i < N - 4);
			continue;
		}
		fake_resp(resp, RLEN, q, i);
		assert_int_equal(n, RLEN - i % 40);
		assert_memory_equal(out, resp, n);
		found++;
	}
	/* 56 KiB of ring: about 400 entries, fewer for the ones whose
	 * bucket overflowed. */
	assert_true(found > 200 && found < 450);
	server_cache_free(c);
}

static void test_cache_too_large(void **state)
{
	(void)state;
	struct server_cache *c;
	assert_int_equal(server_cache_new(SERVER_CACHE_MIN, &c), 0);
	static uint8_t q[1024], resp[DNS_MSG_MAXLEN], out[DNS_MSG_MAXLEN];
	struct server_cache_probe p;
	struct server_cache_hit hit;
	size_t qlen = build(q, 1, &www_a);
	/* More than a quarter of the ring: not kept. */
	assert_int_equal(server_cache_lookup(c, 1, 0, q, qlen, out,
					     sizeof(out), &p, &hit), 0);
	fake_resp(resp, 16000, q, 5);
	store(c, &p, resp, 16000);
	assert_int_equal(server_cache_lookup(c, 1, 0, q, qlen, out,
					     sizeof(out), &p, &hit), 0);
	store(c, &p, resp, 4000);
	assert_int_equal(server_cache_lookup(c, 1, 0, q, qlen, out,
					     sizeof(out), &p, &hit), 4000);
	/* A query of more than 512 octets after its ID is not looked up. */
	memset(q + qlen, 0, 600);
	assert_int_equal(server_cache_lookup(c, 1, 0, q, 515, out,
					     sizeof(out), &p, &hit), 0);
	assert_null(p.key);
	assert_int_equal(server_cache_lookup(c, 1, 0, q, 514, out,
					     sizeof(out), &p, &hit), 0);
	assert_non_null(p.key);
	server_cache_free(c);
}

/* ---- through a server ---------------------------------------------------- */

static int setup(void **state)
{
	struct st_env *e = malloc(sizeof(*e));
	if (e == NULL || st_env_init(e) != 0 || st_publish(e, ZONE_V1) != 0)
		return -1;
	e->conf.answer.identity = "cache-test";
	e->conf.answer.version = "cache-test 1";
	/* One worker: whether a query is a hit must not depend on which
	 * worker's socket the kernel picks for a client. */
	e->conf.workers = 1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct st_env *e = *state;
	st_env_fini(e);
	free(e);
	return 0;
}

/* Sends q on fd and checks the reply is, octet for octet, what the engine
 * answers from the zones published now; returns its length into resp. */
static size_t ask(struct st_env *e, int fd, const uint8_t *q, size_t qlen,
		  uint8_t *resp, size_t cap)
{
	uint8_t want[2048];
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, cap, ST_WAIT_MS);
	assert_true(n >= DNS_HEADER_LEN);
	size_t wlen = st_expected(e, q, qlen, ANSWER_UDP, want, sizeof(want));
	assert_int_equal((size_t)n, wlen);
	assert_memory_equal(resp, want, wlen);
	return (size_t)n;
}

/* Every kind of answer, each a different key. */
static const struct {
	struct qspec q;
	uint16_t rcode;
	bool tc;
} kinds[] = {
	{ { "www.example.com.", DNS_TYPE_A }, DNS_RCODE_NOERROR, false },
	{ { "WWW.Example.COM.", DNS_TYPE_A }, DNS_RCODE_NOERROR, false },
	{ { "www.example.com.", DNS_TYPE_A, .flags = DNS_FLAG_RD },
	  DNS_RCODE_NOERROR, false },
	{ { "www.example.com.", DNS_TYPE_AAAA, .payload = 1232 },
	  DNS_RCODE_NOERROR, false },
	{ { "www.example.com.", DNS_TYPE_AAAA, .payload = 1232, .do_bit = true },
	  DNS_RCODE_NOERROR, false },
	{ { "nope.example.com.", DNS_TYPE_A }, DNS_RCODE_NXDOMAIN, false },
	{ { "nope.example.com.", DNS_TYPE_A, .payload = 4096 },
	  DNS_RCODE_NXDOMAIN, false },
	{ { "www.example.com.", DNS_TYPE_MX }, DNS_RCODE_NOERROR, false },
	{ { "example.com.", DNS_TYPE_MX }, DNS_RCODE_NOERROR, false },
	{ { "example.com.", DNS_TYPE_SOA }, DNS_RCODE_NOERROR, false },
	{ { "host.sub.example.com.", DNS_TYPE_A }, DNS_RCODE_NOERROR, false },
	{ { "alias.example.com.", DNS_TYPE_A }, DNS_RCODE_NOERROR, false },
	{ { "x.wild.example.com.", DNS_TYPE_A }, DNS_RCODE_NOERROR, false },
	{ { "y.wild.example.com.", DNS_TYPE_TXT }, DNS_RCODE_NOERROR, false },
	{ { "txt.example.com.", DNS_TYPE_TXT }, DNS_RCODE_NOERROR, false },
	{ { "mid.example.com.", DNS_TYPE_TXT }, DNS_RCODE_NOERROR, true },
	{ { "mid.example.com.", DNS_TYPE_TXT, .payload = 512 },
	  DNS_RCODE_NOERROR, true },
	{ { "mid.example.com.", DNS_TYPE_TXT, .payload = 1232 },
	  DNS_RCODE_NOERROR, false },
	{ { "www.example.org.", DNS_TYPE_A }, DNS_RCODE_REFUSED, false },
	{ { "id.server.", DNS_TYPE_TXT, DNS_CLASS_CH }, DNS_RCODE_NOERROR,
	  false },
	{ { "version.bind.", DNS_TYPE_TXT, DNS_CLASS_CH, .payload = 1232 },
	  DNS_RCODE_NOERROR, false },
	{ { "www.example.com.", DNS_TYPE_A, DNS_CLASS_HS }, DNS_RCODE_REFUSED,
	  false },
	{ { "www.example.com.", 0 }, DNS_RCODE_NOTIMP, false },
	{ { "www.example.com.", DNS_TYPE_A, .payload = 1232 },
	  DNS_RCODE_NOERROR, false },
};

/* Each kind asked twice, over IPv4 then IPv6: the first answer over IPv4
 * is made by the engine, every other comes from the cache, and all are
 * the engine's answers to them all the same. */
static void test_hits_equal_misses(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	size_t n = sizeof(kinds) / sizeof(kinds[0]);
	static const char *const ips[] = { "127.0.0.1", "::1" };
	for (size_t k = 0; k < 2; k++) {
		int fd = st_udp_client(ips[k], e->port);
		assert_true(fd >= 0);
		for (size_t i = 0; i < n; i++) {
			uint8_t q[512], r1[2048], r2[2048];
			uint16_t id = (uint16_t)(1000 * k + 2 * i);
			size_t qlen = build(q, id, &kinds[i].q);
			size_t n1 = ask(e, fd, q, qlen, r1, sizeof(r1));
			wire_put_u16(q, (uint16_t)(id + 1));
			size_t n2 = ask(e, fd, q, qlen, r2, sizeof(r2));
			assert_int_equal(n1, n2);
			assert_int_equal(st_id(r1), id);
			assert_int_equal(st_id(r2), id + 1);
			assert_memory_equal(r1 + 2, r2 + 2, n1 - 2);
			if (DNS_RCODE(st_flags(r2)) != kinds[i].rcode)
				fail_msg("%s: RCODE %u", kinds[i].q.name,
					 DNS_RCODE(st_flags(r2)));
			assert_int_equal((st_flags(r2) & DNS_FLAG_TC) != 0,
					 kinds[i].tc);
		}
		close(fd);
	}
	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.cache_misses, n);
	assert_int_equal(st.cache_hits, 3 * n);
	assert_int_equal(st.queries[SERVER_UDP4] + st.queries[SERVER_UDP6],
			 st.rcodes[DNS_RCODE_NOERROR] +
			 st.rcodes[DNS_RCODE_NXDOMAIN] +
			 st.rcodes[DNS_RCODE_REFUSED] +
			 st.rcodes[DNS_RCODE_NOTIMP]);
	assert_int_equal(st.truncated, 4 * 2);
	assert_int_equal(st.queries[SERVER_UDP4], 2 * n);
	assert_int_equal(st.queries[SERVER_UDP6], 2 * n);
}

/* After a new zone set is published, its answers are served, never the
 * old set's; and they are cached in turn. */
static void test_new_zones(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("127.0.0.1", e->port);
	assert_true(fd >= 0);
	static const uint8_t v1[4] = { 192, 0, 2, 1 }, v2[4] = { 192, 0, 2, 2 };
	uint8_t q[512], r[512];
	size_t qlen = build(q, 1, &www_a);
	for (int i = 0; i < 3; i++) {
		size_t n = ask(e, fd, q, qlen, r, sizeof(r));
		assert_memory_equal(r + n - 4, v1, 4);
	}
	assert_int_equal(st_publish(e, ZONE_V2), 0);
	for (int i = 0; i < 3; i++) {
		size_t n = ask(e, fd, q, qlen, r, sizeof(r));
		assert_memory_equal(r + n - 4, v2, 4);
	}
	/* Back to the first version: a new generation again, not the
	 * entries of the first set. */
	assert_int_equal(st_publish(e, ZONE_V1), 0);
	size_t n = ask(e, fd, q, qlen, r, sizeof(r));
	assert_memory_equal(r + n - 4, v1, 4);
	close(fd);
	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.cache_misses, 3);
	assert_int_equal(st.cache_hits, 4);
}

/* Messages the cache must never answer: each asked three times. */
static const struct qspec never[] = {
	{ "www.example.com.", DNS_TYPE_A, .tsig = true },
	{ "example.com.", DNS_TYPE_SOA, .payload = 1232, .expire = true },
	{ "www.example.com.", DNS_TYPE_A, .qdcount = 2 },
	{ "example.com.", DNS_TYPE_SOA, .flags = DNS_OPCODE_NOTIFY << 11 },
	{ "example.com.", DNS_TYPE_AXFR },
	{ "example.com.", DNS_TYPE_IXFR },
	{ "www.example.com.", DNS_TYPE_A, .flags = DNS_OPCODE_STATUS << 11 },
};

static void test_never_cached(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("127.0.0.1", e->port);
	assert_true(fd >= 0);
	size_t n = sizeof(never) / sizeof(never[0]);
	for (size_t i = 0; i < n; i++) {
		for (uint16_t k = 0; k < 3; k++) {
			uint8_t q[512], r[2048];
			size_t qlen = build(q, (uint16_t)(10 * i + k), &never[i]);
			ask(e, fd, q, qlen, r, sizeof(r));
		}
	}
	/* A message with QR set gets no answer at all. */
	uint8_t q[512], r[512];
	struct qspec resp = { "www.example.com.", DNS_TYPE_A,
			      .flags = DNS_FLAG_QR };
	size_t qlen = build(q, 99, &resp);
	for (int k = 0; k < 2; k++)
		assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	assert_true(st_udp_recv(fd, r, sizeof(r), 200) < 0);
	close(fd);
	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.dropped == 2);
	assert_int_equal(st.cache_hits, 0);
	assert_int_equal(st.cache_misses, 3 * n + 2);
	assert_int_equal(st.malformed, 3);
	assert_int_equal(st.rcodes[DNS_RCODE_NOTAUTH], 3 + 3 + 3);
	assert_int_equal(st.rcodes[DNS_RCODE_NOTIMP], 3 + 3);
}

/* A mix sent twice: the second round (hits where it may) moves every
 * counter by what the first round (misses) did. */
static void test_counters(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("::1", e->port);
	assert_true(fd >= 0);
	size_t nk = sizeof(kinds) / sizeof(kinds[0]);
	size_t nn = sizeof(never) / sizeof(never[0]);
	struct server_stats st[3];
	server_stats(e->srv, &st[0]);
	for (int round = 1; round <= 2; round++) {
		for (size_t i = 0; i < nk + nn; i++) {
			uint8_t q[512], r[2048];
			const struct qspec *s = i < nk ? &kinds[i].q :
							 &never[i - nk];
			size_t qlen = build(q, (uint16_t)(round * 100 + i), s);
			ask(e, fd, q, qlen, r, sizeof(r));
		}
		server_stats(e->srv, &st[round]);
	}
	close(fd);
	const uint64_t *c0 = (const uint64_t *)&st[0];
	const uint64_t *c1 = (const uint64_t *)&st[1];
	const uint64_t *c2 = (const uint64_t *)&st[2];
	size_t hits = offsetof(struct server_stats, cache_hits) /
		      sizeof(uint64_t);
	size_t misses = offsetof(struct server_stats, cache_misses) /
			sizeof(uint64_t);
	for (size_t k = 0; k < sizeof(st[0]) / sizeof(uint64_t); k++) {
		if (k == hits || k == misses)
			continue;
		if (c2[k] - c1[k] != c1[k] - c0[k])
			fail_msg("counter %zu: %llu in the first round, %llu in "
				 "the second", k,
				 (unsigned long long)(c1[k] - c0[k]),
				 (unsigned long long)(c2[k] - c1[k]));
	}
	assert_int_equal(st[1].queries[SERVER_UDP6], nk + nn);
	assert_true(st[1].truncated > 0);
	assert_int_equal(st[1].cache_hits, 0);
	assert_int_equal(st[2].cache_hits - st[1].cache_hits, nk);
	assert_int_equal(st[2].cache_misses - st[1].cache_misses, nn);
}

static void test_cache_off(void **state)
{
	struct st_env *e = *state;
	e->conf.packet_cache = 0;
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("127.0.0.1", e->port);
	assert_true(fd >= 0);
	for (uint16_t k = 0; k < 3; k++) {
		uint8_t q[512], r[512];
		size_t qlen = build(q, k, &www_a);
		ask(e, fd, q, qlen, r, sizeof(r));
	}
	close(fd);
	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.queries[SERVER_UDP4], 3);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 3);
	assert_int_equal(st.cache_hits, 0);
	assert_int_equal(st.cache_misses, 0);
}

static void test_cache_conf(void **state)
{
	struct st_env *e = *state;
	struct server_conf def;
	server_conf_init(&def);
	assert_int_equal(def.packet_cache, 16u << 20);
	e->conf.packet_cache = SERVER_CACHE_MIN - 1;
	assert_int_equal(st_env_start(e), ANYDNS_EINVAL);
	assert_null(e->srv);
}

int main(void)
{
	bool in_netns = st_main_init();
	(void)in_netns;
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(test_cache_bounds),
		cmocka_unit_test(test_cache_hit_and_misses),
		cmocka_unit_test(test_cache_wrap),
		cmocka_unit_test(test_cache_too_large),
	};
	const struct CMUnitTest served[] = {
		cmocka_unit_test_setup_teardown(test_hits_equal_misses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_cached, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_conf, setup,
						teardown),
	};
	int failed = cmocka_run_group_tests_name("cache", alone, NULL, NULL);
	for (int i = 0; i < ST_UDP_IO_RUNS; i++) {
		const char *name = st_udp_io_pick(i);
		if (name != NULL)
			failed += cmocka_run_group_tests_name(name, served,
							      NULL, NULL);
	}
	return failed;
}
