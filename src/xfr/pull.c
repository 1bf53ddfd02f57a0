/*
 * One pull of a zone from one primary, blocking (the control thread runs
 * it on its thread pool): the SOA query of RFC 1996 §4.7 / RFC 1034 §4.3.5
 * over UDP, again over TCP when truncated (RFC 7766 §5), then an IXFR over
 * TCP carrying our SOA in the authority section (RFC 1995 §3), or an AXFR
 * (RFC 5936 §4.1), every request signed and every answer verified with
 * TSIG when a key is set (RFC 8945 §5.3). Responses go through the stream
 * parser of in.c. IXFR falls back to AXFR on a new connection when the
 * primary refuses it (NOTIMP, REFUSED, FORMERR: RFC 1995 §2 leaves IXFR
 * optional) or sends a stream we cannot use; TSIG failures, timeouts and
 * connection errors do not fall back, since AXFR would meet them too.
 *
 * Every step waits at most timeout_ms: the connect, each UDP reply, each
 * message of a stream (its length and body together), so a primary that
 * trickles octets cannot hold a thread longer than that per message.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/wire.h"
#include "xfr/internal.h"

/* Header, question, our SOA in authority (two names and 20 octets of
 * RDATA at most), a TSIG. */
#define QUERY_CAP (DNS_HEADER_LEN + (DNS_NAME_MAXLEN + 4) + \
		   (3 * DNS_NAME_MAXLEN + 10 + 20) + DNS_TSIG_MAXLEN)

struct pull {
	const struct xfr_pull_req *req;
	struct xfr_pull_result *res;
	char where[XFR_ADDR_STRLEN];		/* "192.0.2.1#53" */
	const char *step;			/* "SOA", "IXFR", "AXFR" */
	uint8_t *buf;				/* one message, UINT16_MAX */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct pull *p, int err, const char *fmt, ...)
{
	char *e = p->res->error;
	size_t cap = sizeof(p->res->error);
	int n = snprintf(e, cap, "%s: %s: ", p->where, p->step);
	if (n < 0 || (size_t)n >= cap)
		return err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_now(void)
{
	return (uint64_t)time(NULL);
}

/* Waits until fd is ready for events or the deadline (monotonic ms)
 * passes: 0, -ETIMEDOUT, or a system error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		uint64_t left = deadline - now;
		int n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int random_id(uint16_t *id)
{
	ssize_t n;
	do
		n = getrandom(id, sizeof(*id), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*id) ? 0 : (n < 0 ? -errno : ANYDNS_EIO);
}

/*
 * A query for the apex with qtype (SOA, IXFR, AXFR) into buf: class IN, RD
 * clear; IXFR carries current's SOA in the authority section (RFC 1995
 * §3). Signed when ctx has a key. Returns 0 with *len or ANYDNS_ESPACE.
 */
static int build_query(const struct xfr_pull_req *req, uint16_t qtype,
		       uint16_t id, struct dns_tsig_ctx *ctx, uint8_t *buf,
		       size_t cap, size_t *len)
{
	struct dns_writer w;
	dns_writer_init(&w, buf, cap - DNS_TSIG_MAXLEN);
	int ret = dns_writer_question(&w, req->apex, qtype, DNS_CLASS_IN);
	if (ret == 0 && qtype == DNS_TYPE_IXFR) {
		const struct zone *z = req->current;
		const uint8_t *rdata;
		uint16_t rdlen;
		if (!xfr_soa_rdata(z, &rdata, &rdlen))
			return ANYDNS_EINVAL;
		ret = dns_writer_rr(&w, DNS_SECTION_AUTHORITY, z->apex_name,
				    DNS_TYPE_SOA, DNS_CLASS_IN, z->soa->ttl,
				    rdata, rdlen);
	}
	if (ret != 0)
		return ret;
	*len = dns_writer_finish(&w, id, 0);
	if (ctx != NULL && ctx->key != NULL)
		return dns_tsig_sign(ctx, buf, len, cap, wall_now());
	return 0;
}

/* A new ID and the query for qtype under it, in q (QUERY_CAP octets):
 * 0, or an error with the reason set. */
static int start_query(struct pull *p, uint16_t qtype, struct dns_tsig_ctx *ctx,
		       uint8_t *q, size_t *qlen, uint16_t *id)
{
	int ret = random_id(id);
	if (ret != 0)
		return fail(p, ret, "getrandom: %s", strerror(-ret));
	ret = build_query(p->req, qtype, *id, ctx, q, QUERY_CAP, qlen);
	if (ret != 0)
		return fail(p, ret, "cannot build the query");
	return 0;
}

/* ---- TCP ------------------------------------------------------------- */

/* A connected TCP socket to the primary (non-blocking), or an error. */
static int tcp_connect(struct pull *p, int *fdp)
{
	const struct xfr_pull_req *req = p->req;
	int fd = socket(req->primary->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(p, -errno, "socket: %s", strerror(errno));
	int ret = 0;
	if (connect(fd, req->primary, req->primary_len) != 0) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			goto fail;
		}
		ret = wait_fd(fd, POLLOUT, now_ms() + req->timeout_ms);
		if (ret == 0) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
				ret = -errno;
			else if (soerr != 0)
				ret = -soerr;
		}
		if (ret != 0)
			goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	if (ret == -ETIMEDOUT)
		return fail(p, ret, "connect: timed out");
	return fail(p, ret, "%s", strerror(-ret));
}

static int send_all(int fd, const uint8_t *buf, size_t len, uint32_t timeout)
{
	uint64_t deadline = now_ms() + timeout;
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		int ret = wait_fd(fd, POLLOUT, deadline);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Sends one message behind its 2-octet length (RFC 1035 §4.2.2). */
static int tcp_send(struct pull *p, int fd, const uint8_t *msg, size_t len)
{
	uint8_t framed[QUERY_CAP + 2];
	wire_put_u16(framed, (uint16_t)len);
	memcpy(framed + 2, msg, len);
	int ret = send_all(fd, framed, len + 2, p->req->timeout_ms);
	if (ret == -ETIMEDOUT)
		return fail(p, ret, "send: timed out");
	if (ret != 0)
		return fail(p, ret, "send: %s", strerror(-ret));
	return 0;
}

/* Reads exactly len octets before the deadline: 0, 1 at a clean end of
 * stream before the first octet, ANYDNS_EXFR for one inside, or an error. */
static int read_full(int fd, uint8_t *buf, size_t len, uint64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return got == 0 ? 1 : ANYDNS_EXFR;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		int ret = wait_fd(fd, POLLIN, deadline);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/*
 * Reads one framed message into p->buf: 0 with *len, 1 when the primary
 * closed the connection between messages, or an error (reason set).
 */
static int tcp_recv(struct pull *p, int fd, size_t *len, unsigned seen)
{
	uint64_t deadline = now_ms() + p->req->timeout_ms;
	uint8_t hdr[2];
	int ret = read_full(fd, hdr, 2, deadline);
	if (ret == 1)
		return 1;
	if (ret == 0) {
		*len = wire_get_u16(hdr);
		ret = read_full(fd, p->buf, *len, deadline);
		if (ret == 1)
			ret = ANYDNS_EXFR;
	}
	if (ret == 0)
		return 0;
	if (ret == ANYDNS_EXFR)
		return fail(p, ret, "connection closed inside message %u",
			    seen + 1);
	if (ret == -ETIMEDOUT)
		return fail(p, ret, "timed out waiting for message %u",
			    seen + 1);
	return fail(p, ret, "receive: %s", strerror(-ret));
}

/* ---- The SOA query --------------------------------------------------- */

/*
 * Checks a reply to the SOA query (id) and reads the primary's serial.
 * ANYDNS_EDROP when it answers something else (keep waiting on UDP);
 * *truncated when TC is set (ask again over TCP; nothing else is read).
 */
static int soa_reply(struct pull *p, uint16_t id, struct dns_tsig_ctx *ctx,
		     const uint8_t *msg, size_t len, bool *truncated,
		     uint32_t *serial)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t nlen;
	char tb[16];

	wire_init(&c, msg, len);
	uint16_t rid = wire_read_u16(&c);
	uint16_t flags = wire_read_u16(&c);
	uint16_t qd = wire_read_u16(&c);
	uint16_t an = wire_read_u16(&c);
	wire_skip(&c, 4);
	if (c.err != 0 || rid != id || !(flags & DNS_FLAG_QR) ||
	    DNS_OPCODE(flags) != DNS_OPCODE_QUERY || qd != 1)
		return ANYDNS_EDROP;
	if (dns_name_read(&c, name, &nlen) != 0 ||
	    !dns_name_equal(name, p->req->apex) ||
	    wire_read_u16(&c) != DNS_TYPE_SOA ||
	    wire_read_u16(&c) != DNS_CLASS_IN || c.err != 0)
		return ANYDNS_EDROP;
	if (flags & DNS_FLAG_TC) {
		*truncated = true;
		return 0;
	}
	if (ctx != NULL) {
		int ret = dns_tsig_verify_response(ctx, msg, len, wall_now());
		if (ret != 0 && !(ret == ANYDNS_ENOTSIG && DNS_RCODE(flags)))
			return fail(p, ret, "%s", xfr_tsig_reason(ret));
	}
	if (DNS_RCODE(flags) != DNS_RCODE_NOERROR)
		return fail(p, ANYDNS_EREFUSED, "%s",
			    dns_rcode_to_str(DNS_RCODE(flags), tb));
	for (unsigned i = 0; i < an; i++) {
		if (dns_name_read(&c, name, &nlen) != 0)
			break;
		uint16_t type = wire_read_u16(&c);
		uint16_t rclass = wire_read_u16(&c);
		wire_skip(&c, 4);
		uint16_t rdlen = wire_read_u16(&c);
		if (c.err != 0 || !wire_need(&c, rdlen))
			break;
		if (type != DNS_TYPE_SOA || rclass != DNS_CLASS_IN ||
		    !dns_name_equal(name, p->req->apex)) {
			wire_skip(&c, rdlen);
			continue;
		}
		/* MNAME and RNAME may be compressed; the serial follows. */
		struct wire_ctx r = c;
		r.end = c.pos + rdlen;
		if (dns_name_read(&r, name, &nlen) != 0 ||
		    dns_name_read(&r, name, &nlen) != 0)
			break;
		*serial = wire_read_u32(&r);
		wire_skip(&r, 16);
		if (r.err != 0 || r.pos != r.end)
			break;
		return 0;
	}
	return fail(p, ANYDNS_EXFR, "no SOA for the zone in the answer");
}

static int soa_tcp(struct pull *p, uint32_t *serial)
{
	const struct xfr_pull_req *req = p->req;
	struct dns_tsig_ctx ctx;
	uint8_t q[QUERY_CAP];
	size_t qlen, len;
	uint16_t id;
	int fd = -1;
	bool tc = false;

	dns_tsig_ctx_init(&ctx, req->key);
	int ret = start_query(p, DNS_TYPE_SOA, &ctx, q, &qlen, &id);
	if (ret != 0)
		goto out;
	ret = tcp_connect(p, &fd);
	if (ret == 0)
		ret = tcp_send(p, fd, q, qlen);
	if (ret == 0)
		ret = tcp_recv(p, fd, &len, 0);
	if (ret == 1)
		ret = fail(p, ANYDNS_EXFR, "connection closed without a reply");
	if (ret != 0)
		goto out;
	ret = soa_reply(p, id, req->key ? &ctx : NULL, p->buf, len, &tc,
			serial);
	if (ret == ANYDNS_EDROP)
		ret = fail(p, ANYDNS_EXFR, "the reply does not match the query");
	else if (ret == 0 && tc)
		ret = fail(p, ANYDNS_EXFR, "truncated reply over TCP");
out:
	if (fd >= 0)
		close(fd);
	dns_tsig_ctx_clear(&ctx);
	return ret;
}

/* The primary's serial: over UDP, or over TCP when the reply is
 * truncated. */
static int soa_query(struct pull *p, uint32_t *serial)
{
	const struct xfr_pull_req *req = p->req;
	struct dns_tsig_ctx ctx;
	uint8_t q[QUERY_CAP];
	size_t qlen;
	uint16_t id;
	bool tc = false;
	int fd = -1;

	p->step = "SOA";
	dns_tsig_ctx_init(&ctx, req->key);
	int ret = start_query(p, DNS_TYPE_SOA, &ctx, q, &qlen, &id);
	if (ret != 0)
		goto out;
	fd = socket(req->primary->sa_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = fail(p, -errno, "socket: %s", strerror(errno));
		goto out;
	}
	/* Connected: the kernel drops datagrams from anyone else. */
	if (connect(fd, req->primary, req->primary_len) != 0 ||
	    send(fd, q, qlen, 0) != (ssize_t)qlen) {
		ret = fail(p, -errno, "%s", strerror(errno));
		goto out;
	}
	uint64_t deadline = now_ms() + req->timeout_ms;
	for (;;) {
		ret = wait_fd(fd, POLLIN, deadline);
		if (ret == -ETIMEDOUT) {
			ret = fail(p, ret, "timed out");
			goto out;
		}
		if (ret != 0) {
			ret = fail(p, ret, "%s", strerror(-ret));
			goto out;
		}
		ssize_t n = recv(fd, p->buf, UINT16_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = fail(p, -errno, "%s", strerror(errno));
			goto out;
		}
		ret = soa_reply(p, id, req->key ? &ctx : NULL, p->buf,
				(size_t)n, &tc, serial);
		if (ret != ANYDNS_EDROP)
			break;
	}
	if (ret == 0 && tc) {
		close(fd);
		fd = -1;
		ret = soa_tcp(p, serial);
	}
out:
	if (fd >= 0)
		close(fd);
	dns_tsig_ctx_clear(&ctx);
	return ret;
}

/* ---- Transfers ------------------------------------------------------- */

/*
 * One AXFR or IXFR on its own connection. *parsed is set when the error
 * came from the stream itself (the parser), which is what may make an
 * IXFR fall back; *rcode gets an error RCODE the primary answered.
 */
static int transfer(struct pull *p, uint16_t qtype, bool *parsed,
		    uint16_t *rcode)
{
	const struct xfr_pull_req *req = p->req;
	struct xfr_pull_result *res = p->res;
	struct dns_tsig_ctx ctx;
	struct xfr_in *x = NULL;
	uint8_t q[QUERY_CAP];
	size_t qlen, len;
	uint16_t id;
	int fd = -1;

	p->step = qtype == DNS_TYPE_IXFR ? "IXFR" : "AXFR";
	*parsed = false;
	*rcode = 0;
	res->messages = 0;
	res->bytes = 0;
	res->records = 0;
	dns_tsig_ctx_init(&ctx, req->key);
	int ret = start_query(p, qtype, &ctx, q, &qlen, &id);
	if (ret != 0)
		goto out;
	ret = xfr_in_new(req->apex, qtype, req->current, id,
			 req->key ? &ctx : NULL, req->max_size, &x);
	if (ret != 0) {
		ret = fail(p, ret, "%s", anydns_strerror(ret));
		goto out;
	}
	ret = tcp_connect(p, &fd);
	if (ret == 0)
		ret = tcp_send(p, fd, q, qlen);
	while (ret == 0) {
		ret = tcp_recv(p, fd, &len, res->messages);
		if (ret == 1) {
			ret = fail(p, ANYDNS_EXFR, "connection closed after %u "
				   "messages, before the end of the transfer",
				   res->messages);
			break;
		}
		if (ret != 0)
			break;
		res->messages++;
		res->bytes += len;
		ret = xfr_in_feed(x, p->buf, len, wall_now());
		if (ret < 0) {
			*parsed = true;
			*rcode = xfr_in_rcode(x);
			ret = fail(p, ret, "%s", xfr_in_error(x));
			break;
		}
		if (ret == 1) {
			ret = 0;
			break;
		}
	}
	if (ret != 0)
		goto out;
	close(fd);
	fd = -1;
	ret = xfr_in_finish(x, res);
	x = NULL;
	if (ret != 0) {
		char reason[sizeof(res->error)];
		memcpy(reason, res->error, sizeof(reason));
		*parsed = ret == ANYDNS_EXFR;
		ret = fail(p, ret, "%s", reason);
	}
out:
	if (fd >= 0)
		close(fd);
	xfr_in_free(x);
	dns_tsig_ctx_clear(&ctx);
	return ret;
}

/* Whether a failed IXFR is worth an AXFR: the primary does not do IXFR
 * (or not for us), or its stream cannot be used. */
static bool ixfr_falls_back(int ret, bool parsed, uint16_t rcode)
{
	if (!parsed)
		return false;
	if (ret == ANYDNS_EREFUSED)
		return rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_REFUSED ||
		       rcode == DNS_RCODE_FORMERR;
	return ret == ANYDNS_EXFR;
}

int xfr_pull(const struct xfr_pull_req *req, struct xfr_pull_result *res)
{
	struct pull p = { .req = req, .res = res, .step = "SOA" };
	int ret;

	memset(res, 0, sizeof(*res));
	xfr_addr_str(req->primary, p.where, sizeof(p.where));
	p.buf = malloc(UINT16_MAX);
	if (p.buf == NULL)
		return fail(&p, ANYDNS_ENOMEM, "out of memory");

	/* A placeholder (an expired zone) is no version to ask from. */
	const struct zone *cur = req->current;
	if (cur != NULL && (cur->servfail || cur->soa == NULL))
		cur = NULL;
	/* The SOA answer tells the primary's serial even when the transfer
	 * after it fails (the secondary then knows how far behind it is). */
	bool soa_known = false;
	uint32_t soa_serial = 0;
	if (req->check_soa && cur != NULL) {
		uint32_t serial = 0;
		ret = soa_query(&p, &serial);
		if (ret != 0)
			goto out;
		soa_known = true;
		soa_serial = serial;
		if (!zone_serial_newer(serial, cur->serial)) {
			res->kind = XFR_IN_UPTODATE;
			res->qtype = DNS_TYPE_SOA;
			res->serial = serial;
			goto out;
		}
	}

	/* Why IXFR failed when AXFR is done instead: res->error keeps it
	 * for the log unless AXFR fails too. */
	char why[sizeof(res->error)];
	bool fell_back = false;
	bool parsed;
	uint16_t rcode;
	if (cur != NULL && req->ixfr) {
		ret = transfer(&p, DNS_TYPE_IXFR, &parsed, &rcode);
		if (ret == 0 || !ixfr_falls_back(ret, parsed, rcode))
			goto out;
		memcpy(why, res->error, sizeof(why));
		xfr_pull_result_clear(res);
		fell_back = true;
	}
	ret = transfer(&p, DNS_TYPE_AXFR, &parsed, &rcode);
	res->fell_back = fell_back;
	if (ret == 0 && fell_back)
		memcpy(res->error, why, sizeof(why));
out:
	if (ret == 0) {
		res->has_serial = true;
	} else if (soa_known) {
		res->serial = soa_serial;
		res->has_serial = true;
	}
	free(p.buf);
	return ret;
}
