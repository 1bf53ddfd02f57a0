/*
 * BGP over TCP (RFC 4271 §8: the TCP events 14-18) on libuv: outgoing
 * connections, the listener that accepts configured peers only (an
 * unknown address is closed at once, §8.2.1.1), framing of the byte
 * stream into messages (§4.1) and output buffering that never blocks.
 * TCP MD5 signatures (RFC 2385) are set with TCP_MD5SIG on a socket we
 * create ourselves before connect(), and on each listening socket per
 * peer address, before libuv takes the socket over (uv_tcp_open): the only
 * Linux-specific part of the speaker.
 *
 * Output first tries the socket directly; what it does not take waits in
 * one buffer while the previous remainder is being written, so messages
 * keep their order, nothing blocks, and a slow peer holds only its own
 * memory (bounded in practice by the hold timer). Closing a connection
 * first lets queued output (a NOTIFICATION) leave, for at most
 * BGP_LINGER_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/internal.h"

#define BGP_LINGER_MS 2000
#define BGP_LISTEN_BACKLOG 16

struct bgp_tcp {
	struct bgp_conn c;		/* first: a bgp_conn is a bgp_tcp */
	struct bgp_speaker *sp;
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	uv_timer_t linger;
	bool linger_used;
	bool writing;			/* wbuf is with uv_write() */
	bool closing;			/* handed back: close when drained */
	bool closed;			/* uv_close() called */
	unsigned open_handles;
	uint8_t *wbuf;			/* being written */
	size_t wlen;
	uint8_t *pbuf;			/* waiting for wbuf */
	size_t plen, pcap;
	size_t rlen;
	uint8_t rbuf[2 * BGP_MSG_MAX];
};

struct bgp_listener {
	struct bgp_speaker *sp;
	uv_tcp_t tcp;
	int fd;
	struct sockaddr_storage addr;
};

void bgp_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const void *src = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	if ((ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
	    inet_ntop(ss->ss_family, src, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s", a);
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

/* RFC 2385 via Linux TCP_MD5SIG: the key for segments to and from addr. */
static int md5_set(int fd, const struct sockaddr_storage *addr,
		   const char *password)
{
	struct tcp_md5sig sig;
	memset(&sig, 0, sizeof(sig));
	memcpy(&sig.tcpm_addr, addr, addr_len(addr));
	size_t len = strlen(password);
	if (len > TCP_MD5SIG_MAXKEYLEN)
		return ANYDNS_EINVAL;
	sig.tcpm_keylen = (uint16_t)len;
	memcpy(sig.tcpm_key, password, len);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0)
		return -errno;
	return 0;
}

/* ---- closing ------------------------------------------------------------- */

static void tcp_handle_closed(uv_handle_t *h)
{
	struct bgp_tcp *t = h->data;
	struct bgp_speaker *sp = t->sp;
	if (--t->open_handles == 0) {
		free(t->wbuf);
		free(t->pbuf);
		free(t);
	}
	bgp_speaker_handle_closed(sp);
}

static void tcp_close_now(struct bgp_tcp *t)
{
	if (t->closed)
		return;
	t->closed = true;
	uv_close((uv_handle_t *)&t->tcp, tcp_handle_closed);
	if (t->linger_used)
		uv_close((uv_handle_t *)&t->linger, tcp_handle_closed);
}

static void on_linger(uv_timer_t *timer)
{
	tcp_close_now(timer->data);
}

static void tcp_close(struct bgp_conn *c)
{
	struct bgp_tcp *t = (struct bgp_tcp *)c;
	if (t->closing)
		return;
	t->closing = true;
	c->peer = NULL;
	uv_read_stop((uv_stream_t *)&t->tcp);
	if (!t->writing) {
		tcp_close_now(t);
		return;
	}
	/* Let a queued NOTIFICATION leave, but not forever. */
	uv_timer_init(t->sp->loop, &t->linger);
	t->linger.data = t;
	t->linger_used = true;
	t->open_handles++;
	t->sp->handles++;
	uv_timer_start(&t->linger, on_linger, BGP_LINGER_MS, 0);
}

static struct bgp_tcp *tcp_new(struct bgp_speaker *sp)
{
	struct bgp_tcp *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->sp = sp;
	if (uv_tcp_init(sp->loop, &t->tcp) != 0) {
		free(t);
		return NULL;
	}
	t->tcp.data = t;
	t->open_handles = 1;
	sp->handles++;
	return t;
}

/* ---- output -------------------------------------------------------------- */

static void start_write(struct bgp_tcp *t);

static void on_write(uv_write_t *req, int status)
{
	struct bgp_tcp *t = req->data;
	t->writing = false;
	free(t->wbuf);
	t->wbuf = NULL;
	if (status < 0) {
		if (status != UV_ECANCELED && t->c.peer != NULL)
			bgp_conn_failed(&t->c, uv_strerror(status));
		if (t->closing)
			tcp_close_now(t);
		return;
	}
	t->c.tx_done += t->wlen;
	t->wlen = 0;
	if (t->plen > 0) {
		start_write(t);
		return;
	}
	if (t->closing)
		tcp_close_now(t);
}

/* Hands the pending buffer to uv_write(). */
static void start_write(struct bgp_tcp *t)
{
	t->wbuf = t->pbuf;
	t->wlen = t->plen;
	t->pbuf = NULL;
	t->plen = t->pcap = 0;
	uv_buf_t b = uv_buf_init((char *)t->wbuf, (unsigned)t->wlen);
	t->wreq.data = t;
	int ret = uv_write(&t->wreq, (uv_stream_t *)&t->tcp, &b, 1, on_write);
	if (ret != 0) {
		/* Called from inside the FSM: the read side reports the dead
		 * socket (EOF or reset) on its own, so only drop the data. */
		free(t->wbuf);
		t->wbuf = NULL;
		t->wlen = 0;
		log_debug("bgp: write failed: %s", uv_strerror(ret));
		return;
	}
	t->writing = true;
}

static int pend(struct bgp_tcp *t, const uint8_t *buf, size_t len)
{
	if (t->plen + len > t->pcap) {
		size_t cap = t->pcap ? t->pcap : 4096;
		while (cap < t->plen + len)
			cap *= 2;
		uint8_t *nb = realloc(t->pbuf, cap);
		if (nb == NULL)
			return ANYDNS_ENOMEM;
		t->pbuf = nb;
		t->pcap = cap;
	}
	memcpy(t->pbuf + t->plen, buf, len);
	t->plen += len;
	return 0;
}

static int tcp_send(struct bgp_conn *c, const uint8_t *buf, size_t len)
{
	struct bgp_tcp *t = (struct bgp_tcp *)c;
	if (t->closing || t->closed)
		return ANYDNS_EIO;
	c->tx_queued += len;
	if (t->writing)
		return pend(t, buf, len);
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int n = uv_try_write((uv_stream_t *)&t->tcp, &b, 1);
	if (n == (int)len) {
		c->tx_done += len;
		return 0;
	}
	/* A hard error is reported by uv_write() through on_write(), after
	 * this call returns, so the FSM never re-enters itself. */
	size_t done = n > 0 ? (size_t)n : 0;
	c->tx_done += done;
	int ret = pend(t, buf + done, len - done);
	if (ret != 0)
		return ret;
	start_write(t);
	return 0;
}

/* ---- input --------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct bgp_tcp *t = h->data;
	*buf = uv_buf_init((char *)t->rbuf + t->rlen,
			   (unsigned)(sizeof(t->rbuf) - t->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct bgp_tcp *t = s->data;
	if (nread == 0 || t->c.peer == NULL)
		return;
	if (nread < 0) {
		uv_read_stop(s);
		bgp_conn_failed(&t->c, nread == UV_EOF ? "closed by the peer" :
				uv_strerror((int)nread));
		return;
	}
	t->rlen += (size_t)nread;
	size_t off = 0;
	while (t->rlen - off >= BGP_HEADER_LEN) {
		size_t len;
		struct bgp_notify err;
		if (bgp_msg_frame(t->rbuf + off, t->rlen - off, &len, &err) != 0) {
			uv_read_stop(s);
			bgp_conn_header_error(&t->c, &err);
			return;
		}
		if (t->rlen - off < len)
			break;
		if (!bgp_conn_input(&t->c, t->rbuf + off, len))
			return;
		off += len;
	}
	memmove(t->rbuf, t->rbuf + off, t->rlen - off);
	t->rlen -= off;
}

static int start_reading(struct bgp_tcp *t)
{
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	if (uv_tcp_getsockname(&t->tcp, (struct sockaddr *)&ss, &n) == 0)
		t->c.local = ss;
	n = sizeof(ss);
	if (uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss, &n) == 0)
		t->c.remote = ss;
	uv_tcp_nodelay(&t->tcp, 1);
	return uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
}

int bgp_tcp_pause(struct bgp_conn *c, bool pause)
{
	struct bgp_tcp *t = (struct bgp_tcp *)c;
	if (t->closing)
		return ANYDNS_EIO;
	if (pause)
		return uv_read_stop((uv_stream_t *)&t->tcp);
	return uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
}

/* ---- connecting ---------------------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
	struct bgp_tcp *t = req->data;
	struct bgp_peer *p = t->c.peer;
	if (p == NULL || t->closing)
		return;
	if (status == 0)
		status = start_reading(t);
	if (status != 0) {
		bgp_conn_failed(&t->c, uv_strerror(status));
		return;
	}
	log_peer_debug(p, "TCP connection up");
	bgp_fsm(p, BGP_EV_TCP_CR_ACKED, NULL);
}

static int tcp_connect(struct bgp_peer *p)
{
	struct bgp_speaker *sp = p->sp;
	const struct bgp_peer_conf *c = &p->conf;
	int fd = socket(c->remote.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	int ret = 0;
	if (c->md5_password[0] != '\0') {
		ret = md5_set(fd, &c->remote, c->md5_password);
		if (ret != 0)
			goto fail_fd;
	}
	if (c->local.ss_family != 0) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&c->local,
			 addr_len(&c->local)) != 0) {
			ret = -errno;
			goto fail_fd;
		}
	}
	struct bgp_tcp *t = tcp_new(sp);
	if (t == NULL) {
		ret = ANYDNS_ENOMEM;
		goto fail_fd;
	}
	ret = uv_tcp_open(&t->tcp, fd);
	if (ret != 0) {
		close(fd);
		goto fail_handle;
	}
	t->c.peer = p;
	t->c.outgoing = true;
	t->creq.data = t;
	ret = uv_tcp_connect(&t->creq, &t->tcp,
			     (const struct sockaddr *)&c->remote, on_connect);
	if (ret != 0)
		goto fail_handle;
	p->conn = &t->c;
	return 0;
fail_handle:
	t->c.peer = NULL;
	tcp_close_now(t);
	return ret;
fail_fd:
	close(fd);
	return ret;
}

const struct bgp_io_ops bgp_tcp_io = {
	.connect = tcp_connect,
	.send = tcp_send,
	.close = tcp_close,
};

/* ---- listening ----------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	struct bgp_listener *l = server->data;
	if (status < 0) {
		log_warn("bgp: accept failed: %s", uv_strerror(status));
		return;
	}
	struct bgp_tcp *t = tcp_new(l->sp);
	if (t == NULL)
		return;
	if (uv_accept(server, (uv_stream_t *)&t->tcp) != 0) {
		tcp_close_now(t);
		return;
	}
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	struct bgp_peer *p = NULL;
	if (uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss, &n) == 0)
		p = bgp_speaker_find_peer(l->sp, (struct sockaddr *)&ss);
	if (p == NULL || l->sp->stopping) {
		/* §8.2.1.1: only configured peers; Tcp_CR_Invalid. */
		char addr[64];
		bgp_addr_str(&ss, addr, sizeof(addr));
		log_info("bgp: connection from %s refused: not a configured "
			 "peer", addr);
		tcp_close_now(t);
		return;
	}
	if (start_reading(t) != 0) {
		tcp_close_now(t);
		return;
	}
	bgp_peer_accept(p, &t->c);
}

int bgp_listener_add_key(struct bgp_listener *l, const struct bgp_peer *p)
{
	if (p->conf.md5_password[0] == '\0' ||
	    p->conf.remote.ss_family != l->addr.ss_family)
		return 0;
	return md5_set(l->fd, &p->conf.remote, p->conf.md5_password);
}

static void listener_closed(uv_handle_t *h)
{
	struct bgp_listener *l = h->data;
	struct bgp_speaker *sp = l->sp;
	free(l);
	bgp_speaker_handle_closed(sp);
}

int bgp_listener_open(struct bgp_speaker *sp, const struct sockaddr *addr,
		      struct bgp_listener **out)
{
	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
		return ANYDNS_EINVAL;
	struct bgp_listener *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return ANYDNS_ENOMEM;
	l->sp = sp;
	memcpy(&l->addr, addr, addr->sa_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	int ret = 0;
	int one = 1;
	l->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, IPPROTO_TCP);
	if (l->fd < 0) {
		ret = -errno;
		goto fail;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* One family per socket: keys for IPv4 peers go on IPv4 sockets. */
	if (addr->sa_family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	for (size_t i = 0; i < sp->peer_count; i++) {
		ret = bgp_listener_add_key(l, sp->peers[i]);
		if (ret != 0)
			goto fail_fd;
	}
	if (bind(l->fd, addr, addr_len(&l->addr)) != 0 ||
	    listen(l->fd, BGP_LISTEN_BACKLOG) != 0) {
		ret = -errno;
		goto fail_fd;
	}
	ret = uv_tcp_init(sp->loop, &l->tcp);
	if (ret != 0)
		goto fail_fd;
	l->tcp.data = l;
	sp->handles++;
	ret = uv_tcp_open(&l->tcp, l->fd);
	if (ret != 0)
		close(l->fd);	/* not the handle's yet */
	else
		ret = uv_listen((uv_stream_t *)&l->tcp, BGP_LISTEN_BACKLOG,
				on_connection);
	if (ret != 0) {
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
		return ret;
	}
	*out = l;
	return 0;
fail_fd:
	close(l->fd);
fail:
	free(l);
	return ret;
}

void bgp_listener_close(struct bgp_listener *l)
{
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
}
