/*
 * Unit tests for src/xfr/pull.c: xfr_pull() against a fake primary run in
 * a thread of the test (UDP and TCP on 127.0.0.1, one ephemeral port)
 * that serves canned answers: the SOA check (RFC 1996 §4.7) up to date,
 * over UDP and again over TCP after TC; AXFR; IXFR carrying our SOA in
 * authority (RFC 1995 §3); IXFR refused or unusable → AXFR on a new
 * connection; a stream cut inside a message or before its closing SOA;
 * a primary that never answers (timeouts); a closed port; TSIG signed by
 * the fake primary with dns_tsig_* (RFC 8945 §5.3), and a wrong key.
 *
 * knot_interop runs a real Knot DNS (/usr/sbin/knotd) on loopback with
 * TSIG and a journal, pulls AXFR, changes the zone file, reloads, pulls
 * IXFR from the old serial and checks the result against a fresh AXFR. It
 * is skipped when knotd is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/wire.h"
#include "xfr/xfr.h"
#include "xfr_test.h"

#define KNOTD "/usr/sbin/knotd"
#define KNOTC "/usr/sbin/knotc"
#define SECRET "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=="
#define OTHER_SECRET "b3RoZXIgb3RoZXIgb3RoZXIgb3RoZXIgb3RoZXIh"

static const uint8_t apex[] = "\x07" "example";

#define SOA(n) "@ 3600 SOA ns hostmaster " n " 3600 900 604800 300\n"
#define CURRENT \
	SOA("1") \
	"@ 3600 NS ns\n" \
	"ns 3600 A 192.0.2.53\n" \
	"www 3600 A 192.0.2.1\n"

/* ---- Messages from text ------------------------------------------------- */

static size_t make_msg(uint8_t *buf, size_t cap, uint16_t id, uint16_t qtype,
		       uint16_t rcode, const char *rrs)
{
	struct dns_writer w;
	dns_writer_init(&w, buf, cap);
	dns_writer_question(&w, apex, qtype, DNS_CLASS_IN);
	(void)xt_put_answers(&w, rrs);	/* the thread has no asserts */
	return dns_writer_finish(&w, id, DNS_FLAG_QR | DNS_FLAG_AA | rcode);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 127.0.0.1 and port (0: any) into *a. */
static void loopback(struct sockaddr_in *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP port of 127.0.0.1 nobody listens on: bound, then closed. */
static uint16_t free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	loopback(&a, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t al = sizeof(a);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	return ntohs(a.sin_port);
}

/* ---- The fake primary ------------------------------------------------------ */

struct fake_cfg {
	uint32_t soa_serial;
	bool udp_silent;		/* never answer over UDP */
	bool soa_tc;			/* UDP SOA answers carry TC only */
	uint16_t ixfr_rcode;		/* answer IXFR with this RCODE */
	const char *const *ixfr;	/* messages' answer records, NULL-ended */
	const char *const *axfr;
	uint16_t axfr_rcode;
	bool tcp_silent;		/* accept, read, never answer */
	bool cut;			/* close inside the last message */
	const struct dns_tsig_key *key;	/* verify requests, sign answers */
};

struct fake {
	struct fake_cfg cfg;
	int udp, tcp, stop[2];
	struct sockaddr_in addr;
	pthread_t thread;
	/* What the primary saw (read after fake_stop()). */
	unsigned udp_queries, tcp_queries;
	uint16_t tcp_qtypes[8];
	uint32_t ixfr_serial;		/* serial of the SOA in IXFR authority */
	unsigned signed_requests;
	unsigned problems;		/* requests it could not make sense of */
};

/* Answers one request (msg) with the configured messages; sends each
 * through send_fn. */
typedef void (*send_fn)(struct fake *f, int fd, const uint8_t *msg,
			size_t len, bool last, const struct sockaddr *to,
			socklen_t tolen);

static void answer(struct fake *f, const uint8_t *msg, size_t len, bool tcp,
		   int fd, send_fn out, const struct sockaddr *to,
		   socklen_t tolen)
{
	static __thread uint8_t buf[65535];
	struct dns_query q;
	struct dns_tsig_ctx ctx;
	bool sign = false;

	if (dns_query_parse(msg, len, &q) != 0 || !q.has_question ||
	    !dns_name_equal(q.qname, apex)) {
		f->problems++;
		return;
	}
	if (q.qtype == DNS_TYPE_IXFR) {
		/* Our SOA in authority: owner, type... then RDATA whose names
		 * may be compressed, then the serial. */
		struct wire_ctx c;
		uint8_t name[DNS_NAME_MAXLEN];
		size_t nlen;
		wire_init(&c, msg, len);
		wire_seek(&c, DNS_HEADER_LEN + q.qname_len + 4);
		dns_name_read(&c, name, &nlen);
		wire_skip(&c, 10);
		dns_name_read(&c, name, &nlen);
		dns_name_read(&c, name, &nlen);
		f->ixfr_serial = wire_read_u32(&c);
		if (q.nscount != 1 || c.err != 0)
			f->problems++;
	}
	if (tcp && f->tcp_queries < 8)
		f->tcp_qtypes[f->tcp_queries] = q.qtype;
	if (tcp)
		f->tcp_queries++;
	else
		f->udp_queries++;
	if ((tcp && f->cfg.tcp_silent) || (!tcp && f->cfg.udp_silent))
		return;

	dns_tsig_ctx_init(&ctx, NULL);
	if (q.tsig_offset != 0 && f->cfg.key != NULL) {
		f->signed_requests++;
		sign = true;
		if (dns_tsig_verify_request(&ctx, f->cfg.key, 1, msg, len,
					    q.tsig_offset, (uint64_t)time(NULL)) != 0) {
			/* NOTAUTH with the TSIG error (RFC 8945 §5.3.2). */
			size_t n = make_msg(buf, sizeof(buf) - DNS_TSIG_MAXLEN,
					    q.id, q.qtype, DNS_RCODE_NOTAUTH, NULL);
			dns_tsig_sign(&ctx, buf, &n, sizeof(buf), (uint64_t)time(NULL));
			out(f, fd, buf, n, true, to, tolen);
			dns_tsig_ctx_clear(&ctx);
			return;
		}
	}

	char soa[128];
	snprintf(soa, sizeof(soa), "@ 3600 SOA ns hostmaster %u 3600 900 604800 300\n",
		 (unsigned)f->cfg.soa_serial);
	const char *one[2] = { soa, NULL };
	const char *const *msgs = one;
	uint16_t rcode = 0;
	uint16_t flags_tc = 0;
	if (q.qtype == DNS_TYPE_SOA) {
		if (!tcp && f->cfg.soa_tc) {
			one[0] = NULL;
			flags_tc = 1;
		}
	} else if (q.qtype == DNS_TYPE_IXFR) {
		rcode = f->cfg.ixfr_rcode;
		msgs = f->cfg.ixfr;
	} else if (q.qtype == DNS_TYPE_AXFR) {
		rcode = f->cfg.axfr_rcode;
		msgs = f->cfg.axfr;
	}
	if (rcode != 0 || msgs == NULL) {
		one[0] = NULL;
		msgs = one;
	}
	for (unsigned i = 0; msgs[i] != NULL || i == 0; i++) {
		size_t n = make_msg(buf, sizeof(buf) - DNS_TSIG_MAXLEN, q.id,
				    q.qtype, rcode, msgs[i]);
		if (flags_tc)
			buf[2] |= DNS_FLAG_TC >> 8;
		if (sign)
			dns_tsig_sign(&ctx, buf, &n, sizeof(buf), (uint64_t)time(NULL));
		bool last = msgs[i] == NULL || msgs[i + 1] == NULL;
		out(f, fd, buf, n, last, to, tolen);
		if (last)
			break;
	}
	dns_tsig_ctx_clear(&ctx);
}

static void send_udp(struct fake *f, int fd, const uint8_t *msg, size_t len,
		     bool last, const struct sockaddr *to, socklen_t tolen)
{
	(void)f;
	(void)last;
	(void)sendto(fd, msg, len, 0, to, tolen);
}

static void send_tcp(struct fake *f, int fd, const uint8_t *msg, size_t len,
		     bool last, const struct sockaddr *to, socklen_t tolen)
{
	(void)to;
	(void)tolen;
	uint8_t hdr[2];
	wire_put_u16(hdr, (uint16_t)len);
	if (send(fd, hdr, 2, MSG_NOSIGNAL) != 2)
		return;
	/* A cut stream: half of the last message, then the close. */
	if (last && f->cfg.cut)
		len /= 2;
	(void)send(fd, msg, len, MSG_NOSIGNAL);
}

static void serve_tcp(struct fake *f, int c)
{
	static __thread uint8_t req[65535];
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t hdr[2];
	if (recv(c, hdr, 2, MSG_WAITALL) != 2)
		return;
	size_t len = wire_get_u16(hdr);
	if (recv(c, req, len, MSG_WAITALL) != (ssize_t)len)
		return;
	answer(f, req, len, true, c, send_tcp, NULL, 0);
	if (f->cfg.tcp_silent) {
		/* Hold the connection until the client gives up. */
		(void)recv(c, hdr, 1, 0);
	}
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	static __thread uint8_t buf[65535];
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = f->udp, .events = POLLIN },
			{ .fd = f->tcp, .events = POLLIN },
			{ .fd = f->stop[0], .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0)
			continue;
		if (p[2].revents)
			break;
		if (p[0].revents) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(f->udp, buf, sizeof(buf), 0,
					     (struct sockaddr *)&from, &fl);
			if (n > 0)
				answer(f, buf, (size_t)n, false, f->udp,
				       send_udp, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents) {
			int c = accept(f->tcp, NULL, NULL);
			if (c >= 0) {
				serve_tcp(f, c);
				close(c);
			}
		}
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct fake_cfg *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	/* One port for both: bind TCP first, then UDP to its port (retried
	 * on the rare clash with another UDP user). */
	for (int tries = 0;; tries++) {
		assert_true(tries < 20);
		f->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(f->tcp >= 0);
		struct sockaddr_in a;
		loopback(&a, 0);
		assert_int_equal(bind(f->tcp, (struct sockaddr *)&a, sizeof(a)), 0);
		socklen_t al = sizeof(a);
		assert_int_equal(getsockname(f->tcp, (struct sockaddr *)&a, &al), 0);
		f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(f->udp >= 0);
		if (bind(f->udp, (struct sockaddr *)&a, sizeof(a)) == 0) {
			f->addr = a;
			break;
		}
		close(f->udp);
		close(f->tcp);
	}
	assert_int_equal(listen(f->tcp, 8), 0);
	assert_int_equal(pipe(f->stop), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(f->thread, NULL);
	close(f->udp);
	close(f->tcp);
	close(f->stop[0]);
	close(f->stop[1]);
	assert_int_equal(f->problems, 0);
}

static void make_req(struct xfr_pull_req *req, const struct fake *f,
		     const struct zone *current)
{
	memset(req, 0, sizeof(*req));
	req->apex = apex;
	req->primary = (const struct sockaddr *)&f->addr;
	req->primary_len = sizeof(f->addr);
	req->current = current;
	req->check_soa = current != NULL;
	req->ixfr = current != NULL;
	req->timeout_ms = 3000;
}

/* "127.0.0.1#PORT: " + rest, for comparing res.error. */
static void expect_error(const struct fake *f, const struct xfr_pull_result *res,
			 const char *rest)
{
	char want[300];
	snprintf(want, sizeof(want), "127.0.0.1#%u: %s",
		 (unsigned)ntohs(f->addr.sin_port), rest);
	assert_string_equal(res->error, want);
}

/* What a test changes in the request make_req() makes. */
struct pull_opts {
	bool no_soa_check;
	const struct dns_tsig_key *key;
	uint64_t max_size;
};

/*
 * One pull against a fake primary configured by cfg, for the current
 * version cur (NULL: none), with the request make_req() makes changed by
 * o (NULL: as made). Returns what xfr_pull() returned; f is stopped and
 * holds what the primary saw.
 */
static int pull_once(struct fake *f, const struct fake_cfg *cfg,
		     const struct zone *cur, const struct pull_opts *o,
		     struct xfr_pull_result *res)
{
	struct xfr_pull_req req;
	fake_start(f, cfg);
	make_req(&req, f, cur);
	if (o != NULL) {
		req.check_soa = req.check_soa && !o->no_soa_check;
		req.key = o->key;
		req.max_size = o->max_size;
	}
	int ret = xfr_pull(&req, res);
	fake_stop(f);
	return ret;
}

/* The queries the primary saw over UDP and over TCP, and the type of the
 * first over TCP (when tcp > 0). */
static void expect_seen(const struct fake *f, unsigned udp, unsigned tcp,
			uint16_t tcp_qtype)
{
	assert_int_equal(f->udp_queries, udp);
	assert_int_equal(f->tcp_queries, tcp);
	if (tcp > 0)
		assert_int_equal(f->tcp_qtypes[0], tcp_qtype);
}

/* ---- Canned streams ------------------------------------------------------ */

#define ZONE5 "@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.5\n"

static const char *const axfr5[] = {
	SOA("5") "@ NS ns\nns A 192.0.2.53\n",
	"www A 192.0.2.5\n" SOA("5"),
	NULL,
};

/* 1 → 2: www moves. */
static const char *const ixfr2[] = {
	SOA("2") SOA("1") "www A 192.0.2.1\n" SOA("2") "www A 192.0.2.2\n",
	SOA("2"),
	NULL,
};

/* Removes a record we do not have: unusable, AXFR instead. */
static const char *const ixfr_bad[] = {
	SOA("5") SOA("1") "www A 192.0.2.99\n" SOA("5") SOA("5"),
	NULL,
};

/* Only the primary's SOA, newer than ours: not a usable answer. */
static const char *const ixfr_soa_only[] = { SOA("5"), NULL };

/* ---- Tests ----------------------------------------------------------------- */

static void soa_uptodate(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	struct fake f;
	struct xfr_pull_result res;
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 1,
							   .axfr = axfr5 },
				   cur, NULL, &res), 0);
	assert_int_equal(res.kind, XFR_IN_UPTODATE);
	assert_int_equal(res.qtype, DNS_TYPE_SOA);
	assert_int_equal(res.serial, 1);
	assert_null(res.zone);
	expect_seen(&f, 1, 0, 0);
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

static void soa_truncated_then_tcp(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	struct fake f;
	struct xfr_pull_result res;
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 1,
							   .soa_tc = true },
				   cur, NULL, &res), 0);
	assert_int_equal(res.kind, XFR_IN_UPTODATE);
	assert_int_equal(res.serial, 1);
	expect_seen(&f, 1, 1, DNS_TYPE_SOA);
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

static void axfr_success(void **state)
{
	(void)state;
	struct fake f;
	struct xfr_pull_result res;
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 5,
							   .axfr = axfr5 },
				   NULL, NULL, &res), 0);
	assert_int_equal(res.kind, XFR_IN_FULL);
	assert_int_equal(res.qtype, DNS_TYPE_AXFR);
	assert_int_equal(res.serial, 5);
	assert_int_equal(res.messages, 2);
	assert_int_equal(res.records, 5);
	assert_true(res.bytes > 100);
	assert_false(res.fell_back);
	assert_string_equal(res.error, "");
	assert_non_null(res.zone);
	assert_int_equal(res.zone->serial, 5);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.5"));
	/* No current version: no SOA check, straight to AXFR. */
	expect_seen(&f, 0, 1, DNS_TYPE_AXFR);
	xfr_pull_result_clear(&res);
}

/* An expired zone's placeholder is no version: straight to AXFR, though
 * make_req() asks for the SOA check and IXFR as for any current one. */
static void placeholder_current(void **state)
{
	(void)state;
	struct zone *ph = NULL;
	assert_int_equal(zone_new_servfail(apex, &ph), 0);
	struct fake f;
	struct xfr_pull_result res;
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 5,
							   .axfr = axfr5 },
				   ph, NULL, &res), 0);
	assert_int_equal(res.kind, XFR_IN_FULL);
	assert_int_equal(res.qtype, DNS_TYPE_AXFR);
	assert_int_equal(res.zone->serial, 5);
	expect_seen(&f, 0, 1, DNS_TYPE_AXFR);
	xfr_pull_result_clear(&res);
	zone_free(ph);
}

static void ixfr_success(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	struct fake f;
	struct xfr_pull_result res;
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 2,
							   .ixfr = ixfr2 },
				   cur, NULL, &res), 0);
	assert_int_equal(res.kind, XFR_IN_DIFFS);
	assert_int_equal(res.qtype, DNS_TYPE_IXFR);
	assert_int_equal(res.serial, 2);
	assert_int_equal(res.messages, 2);
	assert_int_equal(res.diff_count, 1);
	assert_int_equal(res.diffs[0]->from, 1);
	assert_int_equal(res.diffs[0]->to, 2);
	assert_int_equal(res.zone->serial, 2);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.2"));
	assert_false(res.fell_back);
	expect_seen(&f, 1, 1, DNS_TYPE_IXFR);
	assert_int_equal(f.ixfr_serial, 1);
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

static void ixfr_uptodate_without_soa_check(void **state)
{
	(void)state;
	static const char *const just_soa[] = { SOA("1"), NULL };
	struct zone *cur = xt_zone(CURRENT);
	struct fake f;
	struct xfr_pull_result res;
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 1,
							   .ixfr = just_soa },
				   cur, &(struct pull_opts){ .no_soa_check = true },
				   &res), 0);
	assert_int_equal(res.kind, XFR_IN_UPTODATE);
	assert_int_equal(res.qtype, DNS_TYPE_IXFR);
	assert_null(res.zone);
	assert_int_equal(f.udp_queries, 0);
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

static void ixfr_fallback(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	const struct {
		uint16_t rcode;
		const char *const *ixfr;
		bool falls_back;
		const char *error;	/* after the address */
	} cases[] = {
		{ DNS_RCODE_NOTIMP, NULL, true, "IXFR: message 1: NOTIMP" },
		{ DNS_RCODE_REFUSED, NULL, true, "IXFR: message 1: REFUSED" },
		{ DNS_RCODE_FORMERR, NULL, true, "IXFR: message 1: FORMERR" },
		{ 0, ixfr_bad, true, NULL },
		{ 0, ixfr_soa_only, true, "IXFR: message 1: IXFR answered with "
		  "a newer SOA (serial 5) only" },
		{ DNS_RCODE_SERVFAIL, NULL, false, "IXFR: message 1: SERVFAIL" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;
		struct xfr_pull_result res;
		int ret = pull_once(&f, &(struct fake_cfg){
					.soa_serial = 5,
					.ixfr_rcode = cases[i].rcode,
					.ixfr = cases[i].ixfr,
					.axfr = axfr5 }, cur, NULL, &res);
		if (cases[i].falls_back) {
			assert_int_equal(ret, 0);
			assert_true(res.fell_back);
			assert_int_equal(res.kind, XFR_IN_FULL);
			assert_int_equal(res.qtype, DNS_TYPE_AXFR);
			assert_int_equal(res.zone->serial, 5);
			assert_int_equal(f.tcp_queries, 2);
			assert_int_equal(f.tcp_qtypes[0], DNS_TYPE_IXFR);
			assert_int_equal(f.tcp_qtypes[1], DNS_TYPE_AXFR);
		} else {
			assert_int_equal(ret, ANYDNS_EREFUSED);
			assert_false(res.fell_back);
			assert_null(res.zone);
			assert_int_equal(f.tcp_queries, 1);
		}
		/* Why IXFR failed stays for the log. */
		if (cases[i].error != NULL)
			expect_error(&f, &res, cases[i].error);
		else
			assert_non_null(strstr(res.error, ": IXFR: "));
		xfr_pull_result_clear(&res);
	}
	zone_free(cur);
}

/* Streams that fail, each with its error; a current version (IXFR) when
 * the case has one. An IXFR cut short is a connection problem: no AXFR
 * after it. A size limit counts the octets of every message. */
static void broken_streams(void **state)
{
	(void)state;
	static const char *const no_end[] = {
		SOA("5") "@ NS ns\nns A 192.0.2.53\n", "www A 192.0.2.5\n", NULL,
	};
	const struct {
		struct fake_cfg cfg;
		bool current;
		uint64_t max_size;
		int ret;
		const char *error;
	} cases[] = {
		{ { .axfr = axfr5, .cut = true }, false, 0, ANYDNS_EXFR,
		  "AXFR: connection closed inside message 2" },
		{ { .axfr = no_end }, false, 0, ANYDNS_EXFR,
		  "AXFR: connection closed after 2 messages, before the end "
		  "of the transfer" },
		{ { .axfr_rcode = DNS_RCODE_REFUSED }, false, 0, ANYDNS_EREFUSED,
		  "AXFR: message 1: REFUSED" },
		{ { .soa_serial = 2, .ixfr = ixfr2, .axfr = axfr5, .cut = true },
		  true, 0, ANYDNS_EXFR,
		  "IXFR: connection closed inside message 2" },
		{ { .axfr = axfr5 }, false, 120, ANYDNS_ETOOBIG,
		  "AXFR: message 2: over the limit of 120 octets" },
	};
	struct zone *cur = xt_zone(CURRENT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;
		struct xfr_pull_result res;
		assert_int_equal(pull_once(&f, &cases[i].cfg,
					   cases[i].current ? cur : NULL,
					   &(struct pull_opts){
						.max_size = cases[i].max_size },
					   &res), cases[i].ret);
		assert_null(res.zone);
		assert_false(res.fell_back);
		expect_error(&f, &res, cases[i].error);
		assert_int_equal(f.tcp_queries, 1);
		xfr_pull_result_clear(&res);
	}
	zone_free(cur);
}

static void timeouts(void **state)
{
	(void)state;
	struct zone *cur = xt_zone(CURRENT);
	for (int tcp = 0; tcp < 2; tcp++) {
		struct fake f;
		fake_start(&f, &(struct fake_cfg){ .udp_silent = true,
						   .tcp_silent = true,
						   .axfr = axfr5 });
		struct xfr_pull_req req;
		struct xfr_pull_result res;
		make_req(&req, &f, tcp ? NULL : cur);
		req.timeout_ms = 300;
		uint64_t t0 = mono_ms();
		assert_int_equal(xfr_pull(&req, &res), -ETIMEDOUT);
		uint64_t took = mono_ms() - t0;
		assert_true(took >= 290 && took < 2000);
		expect_error(&f, &res, tcp ? "AXFR: timed out waiting for message 1"
					   : "SOA: timed out");
		fake_stop(&f);
		xfr_pull_result_clear(&res);
	}
	zone_free(cur);
}

static void connection_refused(void **state)
{
	(void)state;
	struct sockaddr_in a;
	loopback(&a, free_port());
	struct xfr_pull_req req = {
		.apex = apex, .primary = (struct sockaddr *)&a,
		.primary_len = sizeof(a), .timeout_ms = 1000,
	};
	struct xfr_pull_result res;
	assert_int_equal(xfr_pull(&req, &res), -ECONNREFUSED);
	char want[100];
	snprintf(want, sizeof(want), "127.0.0.1#%u: AXFR: Connection refused",
		 (unsigned)ntohs(a.sin_port));
	assert_string_equal(res.error, want);
	xfr_pull_result_clear(&res);
}

static void tsig(void **state)
{
	(void)state;
	struct dns_tsig_key key, other;
	char err[128];
	assert_int_equal(dns_tsig_key_init(&key, "xfr-key.", "hmac-sha256",
					   SECRET, err, sizeof(err)), 0);
	assert_int_equal(dns_tsig_key_init(&other, "xfr-key.", "hmac-sha256",
					   OTHER_SECRET, err, sizeof(err)), 0);
	struct zone *cur = xt_zone(CURRENT);
	const struct pull_opts keyed = { .key = &key };
	const struct pull_opts keyed_no_soa = { .key = &key,
						.no_soa_check = true };
	struct fake f;
	struct xfr_pull_result res;

	/* Signed all the way: SOA, IXFR (two messages). */
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .soa_serial = 2,
							   .ixfr = ixfr2,
							   .key = &key },
				   cur, &keyed, &res), 0);
	assert_int_equal(res.kind, XFR_IN_DIFFS);
	assert_int_equal(res.zone->serial, 2);
	assert_int_equal(f.signed_requests, 2);
	xfr_pull_result_clear(&res);

	/* AXFR signed. */
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .axfr = axfr5,
							   .key = &key },
				   NULL, &keyed, &res), 0);
	assert_int_equal(res.zone->serial, 5);
	assert_int_equal(f.signed_requests, 1);
	xfr_pull_result_clear(&res);

	/* The primary has another secret: it answers NOTAUTH, BADSIG. */
	const struct fake_cfg other_secret = { .soa_serial = 2, .ixfr = ixfr2,
					       .axfr = axfr5, .key = &other };
	assert_int_equal(pull_once(&f, &other_secret, cur, &keyed, &res),
			 ANYDNS_EBADSIG);
	expect_error(&f, &res, "SOA: TSIG BADSIG");
	xfr_pull_result_clear(&res);
	/* Without the SOA check it is the IXFR that fails, with no AXFR
	 * after it: AXFR would meet the same key. */
	assert_int_equal(pull_once(&f, &other_secret, cur, &keyed_no_soa, &res),
			 ANYDNS_EBADSIG);
	expect_error(&f, &res, "IXFR: message 1: TSIG BADSIG");
	assert_false(res.fell_back);
	assert_int_equal(f.tcp_queries, 1);
	xfr_pull_result_clear(&res);

	/* A primary that does not sign: our key expects it to. */
	assert_int_equal(pull_once(&f, &(struct fake_cfg){ .axfr = axfr5 },
				   NULL, &keyed, &res), ANYDNS_ENOTSIG);
	expect_error(&f, &res, "AXFR: message 1: TSIG missing");
	xfr_pull_result_clear(&res);
	zone_free(cur);
}

/* ---- Interop with Knot DNS ----------------------------------------------- */

struct knot {
	char dir[64];
	char conf[128], sock[128], zonefile[128];
	uint16_t port;
	pid_t pid;
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * The zone at serial: big enough (TXT records of 200 octets) that Knot
 * sends AXFR in several messages; version 2 moves www, drops old, adds new
 * and changes one TXT.
 */
static void knot_write_zone(const struct knot *k, unsigned serial,
			    unsigned version)
{
	FILE *f = fopen(k->zonefile, "w");
	assert_non_null(f);
	fprintf(f, "$ORIGIN example.\n$TTL 3600\n"
		"@ SOA ns hostmaster %u 3600 900 604800 300\n"
		"@ NS ns\n@ NS ns.other.example.org.\n"
		"@ MX 10 mail\nns A 192.0.2.53\nmail A 192.0.2.25\n"
		"alias CNAME www\n_sip._tcp SRV 0 5 5060 www\n", serial);
	fprintf(f, "www A %s\n", version == 1 ? "192.0.2.1" : "192.0.2.2");
	fprintf(f, "%s AAAA 2001:db8::%u\n", version == 1 ? "old" : "new",
		version);
	for (unsigned i = 0; i < 600; i++) {
		fprintf(f, "t%u TXT \"", i);
		for (unsigned j = 0; j < 200; j++)
			fputc('a' + (int)((i + j + (i == 7 ? version : 0)) % 26), f);
		fprintf(f, "\"\n");
	}
	assert_int_equal(fclose(f), 0);
}

static void knot_start(struct knot *k)
{
	strcpy(k->dir, "/tmp/anydns-knot-XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	snprintf(k->conf, sizeof(k->conf), "%s/knot.conf", k->dir);
	snprintf(k->sock, sizeof(k->sock), "%s/knot.sock", k->dir);
	snprintf(k->zonefile, sizeof(k->zonefile), "%s/example.zone", k->dir);
	k->port = free_port();
	knot_write_zone(k, 1, 1);
	FILE *f = fopen(k->conf, "w");
	assert_non_null(f);
	fprintf(f,
		"server:\n"
		"    rundir: \"%s\"\n"
		"    pidfile: \"%s/knot.pid\"\n"
		"%s"
		"    listen: 127.0.0.1@%u\n"
		"    udp-workers: 1\n"
		"    tcp-workers: 1\n"
		"    background-workers: 1\n"
		"log:\n"
		"  - target: stderr\n"
		"    any: warning\n"
		"key:\n"
		"  - id: xfr-key.\n"
		"    algorithm: hmac-sha256\n"
		"    secret: %s\n"
		"acl:\n"
		"  - id: xfr\n"
		"    address: 127.0.0.1\n"
		"    key: xfr-key.\n"
		"    action: transfer\n"
		"database:\n"
		"    storage: \"%s\"\n"
		"control:\n"
		"    listen: \"%s\"\n"
		"template:\n"
		"  - id: default\n"
		"    storage: \"%s\"\n"
		"    zonefile-sync: -1\n"
		"    zonefile-load: difference-no-serial\n"
		"    journal-content: all\n"
		"    acl: xfr\n"
		"zone:\n"
		"  - domain: example.\n"
		"    file: \"%s\"\n",
		k->dir, k->dir, geteuid() == 0 ? "    user: \"root:root\"\n" : "",
		(unsigned)k->port, SECRET, k->dir, k->sock, k->dir, k->zonefile);
	assert_int_equal(fclose(f), 0);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		execl(KNOTD, "knotd", "-c", k->conf, (char *)NULL);
		_exit(127);
	}
}

static void knot_stop(struct knot *k)
{
	if (k->dir[0] == '\0')
		return;
	if (k->pid > 0) {
		kill(k->pid, SIGTERM);
		waitpid(k->pid, NULL, 0);
		k->pid = 0;
	}
	nftw(k->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	k->dir[0] = '\0';
}

/* The knotd of knot_interop is stopped here even when an assertion
 * ends the test early. */
static int knot_setup(void **state)
{
	*state = calloc(1, sizeof(struct knot));
	return *state != NULL ? 0 : -1;
}

static int knot_teardown(void **state)
{
	knot_stop(*state);
	free(*state);
	return 0;
}

/* Waits until knotd accepts TCP on its port; fails the test when it
 * exits (a configuration error, printed on stderr) or takes over 15 s. */
static void knot_wait_up(struct knot *k)
{
	struct sockaddr_in a;
	loopback(&a, k->port);
	uint64_t deadline = mono_ms() + 15000;
	for (;;) {
		int st;
		if (waitpid(k->pid, &st, WNOHANG) == k->pid) {
			k->pid = 0;
			fail_msg("knotd exited with status %d", st);
		}
		int s = socket(AF_INET, SOCK_STREAM, 0);
		int ret = connect(s, (struct sockaddr *)&a, sizeof(a));
		close(s);
		if (ret == 0)
			return;
		if (mono_ms() > deadline)
			fail_msg("knotd does not listen on port %u", (unsigned)k->port);
		usleep(50 * 1000);
	}
}

static int knotc_reload(const struct knot *k)
{
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execl(KNOTC, "knotc", "-s", k->sock, "zone-reload", "example.",
		      (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Pulls until something other than a connection error or an up-to-date
 * answer comes back, for at most 15 s (Knot starting or reloading). */
static int pull_until(const struct xfr_pull_req *req, struct xfr_pull_result *res,
		      bool want_change)
{
	uint64_t deadline = mono_ms() + 15000;
	for (;;) {
		int ret = xfr_pull(req, res);
		bool again = want_change ?
			     ret == 0 && res->kind == XFR_IN_UPTODATE :
			     ret == -ECONNREFUSED || ret == ANYDNS_EREFUSED;
		if (!again || mono_ms() > deadline)
			return ret;
		xfr_pull_result_clear(res);
		usleep(100 * 1000);
	}
}

static void knot_interop(void **state)
{
	struct knot *k = *state;
	if (access(KNOTD, X_OK) != 0 || access(KNOTC, X_OK) != 0)
		skip();
	struct dns_tsig_key key;
	char err[128];
	assert_int_equal(dns_tsig_key_init(&key, "xfr-key.", "hmac-sha256",
					   SECRET, err, sizeof(err)), 0);
	knot_start(k);
	knot_wait_up(k);
	struct sockaddr_in a;
	loopback(&a, k->port);
	struct xfr_pull_req req = {
		.apex = apex, .primary = (struct sockaddr *)&a,
		.primary_len = sizeof(a), .key = &key, .timeout_ms = 5000,
		.max_size = 64 << 20,
	};
	struct xfr_pull_result res, res2, res3;

	/* AXFR of version 1, several messages, every one TSIG-checked. */
	int ret = pull_until(&req, &res, false);
	if (ret != 0)
		print_error("knot AXFR: %s\n", res.error);
	assert_int_equal(ret, 0);
	assert_int_equal(res.kind, XFR_IN_FULL);
	assert_true(res.messages > 1);
	assert_int_equal(res.zone->rr_count, 610);
	assert_true(xt_has_a(res.zone, "www.example.", "192.0.2.1"));
	uint32_t s1 = res.zone->serial;
	print_message("knot AXFR: serial %u, %u messages, %llu records\n",
		      (unsigned)s1, res.messages, (unsigned long long)res.records);

	/* Version 2 in the file; Knot makes the difference and its serial. */
	knot_write_zone(k, 1, 2);
	assert_int_equal(knotc_reload(k), 0);
	req.current = res.zone;
	req.check_soa = true;
	req.ixfr = true;
	ret = pull_until(&req, &res2, true);
	if (ret != 0)
		print_error("knot IXFR: %s\n", res2.error);
	assert_int_equal(ret, 0);
	assert_false(res2.fell_back);
	assert_int_equal(res2.kind, XFR_IN_DIFFS);
	assert_int_equal(res2.qtype, DNS_TYPE_IXFR);
	assert_true(zone_serial_newer(res2.serial, s1));
	assert_int_equal(res2.diff_count, 1);
	assert_int_equal(res2.diffs[0]->from, s1);
	assert_int_equal(res2.zone->serial, res2.serial);
	assert_true(xt_has_a(res2.zone, "www.example.", "192.0.2.2"));
	assert_false(xt_has_a(res2.zone, "www.example.", "192.0.2.1"));
	print_message("knot IXFR: %u → %u, %u messages, %llu records\n",
		      (unsigned)s1, (unsigned)res2.serial, res2.messages,
		      (unsigned long long)res2.records);

	/* The same version by AXFR: the diffs applied give the same zone. */
	req.current = NULL;
	req.check_soa = false;
	req.ixfr = false;
	assert_int_equal(xfr_pull(&req, &res3), 0);
	assert_int_equal(res3.zone->serial, res2.zone->serial);
	struct zone_diff *d = NULL;
	assert_int_equal(zone_diff_compute(res2.zone, res3.zone, &d), 0);
	assert_int_equal(d->removed, 1);	/* the SOAs only */
	assert_int_equal(d->added, 1);
	zone_diff_unref(d);

	/* IXFR from a serial Knot's journal does not hold: AXFR-style. */
	struct zone *old = NULL;
	assert_int_equal(zone_with_serial(res.zone, 0, &old), 0);
	struct xfr_pull_result res5;
	req.current = old;
	req.ixfr = true;
	ret = xfr_pull(&req, &res5);
	if (ret != 0)
		print_error("knot AXFR-style IXFR: %s\n", res5.error);
	assert_int_equal(ret, 0);
	assert_int_equal(res5.kind, XFR_IN_FULL);
	assert_int_equal(res5.qtype, DNS_TYPE_IXFR);
	assert_false(res5.fell_back);
	assert_int_equal(res5.zone->serial, res2.serial);
	assert_int_equal(res5.zone->rr_count, 610);
	print_message("knot AXFR-style IXFR: %u messages, %llu records\n",
		      res5.messages, (unsigned long long)res5.records);
	xfr_pull_result_clear(&res5);
	zone_free(old);
	req.current = NULL;
	req.ixfr = false;

	/* A key Knot does not know: BADKEY, unsigned. */
	struct dns_tsig_key unknown;
	assert_int_equal(dns_tsig_key_init(&unknown, "nobody.", "hmac-sha256",
					   SECRET, err, sizeof(err)), 0);
	struct xfr_pull_result res4;
	req.key = &unknown;
	ret = xfr_pull(&req, &res4);
	print_message("knot with an unknown key: %s\n", res4.error);
	assert_int_equal(ret, ANYDNS_EBADKEY);
	xfr_pull_result_clear(&res4);

	knot_stop(k);
	xfr_pull_result_clear(&res);
	xfr_pull_result_clear(&res2);
	xfr_pull_result_clear(&res3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(soa_uptodate),
		cmocka_unit_test(soa_truncated_then_tcp),
		cmocka_unit_test(axfr_success),
		cmocka_unit_test(placeholder_current),
		cmocka_unit_test(ixfr_success),
		cmocka_unit_test(ixfr_uptodate_without_soa_check),
		cmocka_unit_test(ixfr_fallback),
		cmocka_unit_test(broken_streams),
		cmocka_unit_test(timeouts),
		cmocka_unit_test(connection_refused),
		cmocka_unit_test(tsig),
		cmocka_unit_test_setup_teardown(knot_interop, knot_setup,
						knot_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
