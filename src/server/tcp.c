/*
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766). Each worker accepts on its own
 * listening sockets and owns the connections it accepted in its epoll set,
 * non-blocking throughout. Pipelined queries (RFC 7766 §6.2.1.1) are read
 * in bulk and answered in order; the answers of one read leave in one
 * send(). When a client does not read (a full socket buffer), what is left
 * moves to a backlog buffer and the connection stops being read until it
 * drains, so a slow reader holds its own memory and never the worker.
 *
 * Limits (RFC 7766 §6.2.2, §10): connections in all, per client address
 * (IPv6 clients per /64, which one host holds whole), queries per
 * connection; over a limit a connection is closed at once. The idle
 * timeout of §6.2.3 covers every connection that makes no progress
 * (completes no query, takes no answer); since all share one timeout, a
 * list kept in deadline order by moving a connection to its tail on
 * progress is the whole timer wheel. A message whose length cannot be a
 * query we serve (shorter than a header, longer than SERVER_QUERY_MAX)
 * closes the connection: the stream cannot be trusted after it. The local
 * address a connection was accepted on picks the view of the zone set its
 * queries are answered from (server_view_of()).
 *
 * A zone transfer (RFC 5936 §4.2, RFC 1995) is built whole by src/xfr
 * and sent from its own buffer: what the socket does not take stays with
 * the connection, which then waits for EPOLLOUT like any backlog, so a
 * transfer of many megabytes never blocks the worker. Queries pipelined
 * behind it wait until it has left; the answers before it go first. Each
 * octet the client takes counts as progress, so a transfer to a reader
 * that keeps up is never cut by the idle timeout, and one to a client
 * that stops reading is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "server/internal.h"

/* ---- limits ------------------------------------------------------------- */

/* The counter slot of a client: its IPv4 address, or its IPv6 /64. Slots
 * are hashed with the process seed, so which clients share a slot (and a
 * limit) cannot be aimed at from outside. */
static uint32_t client_slot(const union server_addr *peer)
{
	uint64_t h;
	if (peer->sa.sa_family == AF_INET)
		h = hash_bytes(&peer->sin.sin_addr, 4);
	else
		h = hash_bytes(&peer->sin6.sin6_addr, 8);
	return (uint32_t)(h & (SERVER_CLIENT_SLOTS - 1));
}

/* Takes a place for one more connection of the client in slot; false when
 * a limit is reached. */
static bool limits_take(struct server *srv, uint32_t slot)
{
	unsigned total = atomic_fetch_add_explicit(&srv->tcp_open, 1,
						   memory_order_relaxed);
	if (total >= srv->conf.tcp_max_conns)
		goto full;
	if (srv->conf.tcp_max_per_client == 0)
		return true;
	unsigned mine = atomic_fetch_add_explicit(&srv->client_count[slot], 1,
						  memory_order_relaxed);
	if (mine < srv->conf.tcp_max_per_client)
		return true;
	atomic_fetch_sub_explicit(&srv->client_count[slot], 1,
				  memory_order_relaxed);
full:
	atomic_fetch_sub_explicit(&srv->tcp_open, 1, memory_order_relaxed);
	return false;
}

static void limits_release(struct server *srv, uint32_t slot)
{
	if (srv->conf.tcp_max_per_client > 0)
		atomic_fetch_sub_explicit(&srv->client_count[slot], 1,
					  memory_order_relaxed);
	atomic_fetch_sub_explicit(&srv->tcp_open, 1, memory_order_relaxed);
}

/* ---- the deadline list -------------------------------------------------- */

static void timer_unlink(struct server_worker *w, struct server_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->timer_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		w->timer_tail = c->prev;
	c->prev = c->next = NULL;
}

static void timer_append(struct server_worker *w, struct server_conn *c)
{
	c->prev = w->timer_tail;
	c->next = NULL;
	if (w->timer_tail != NULL)
		w->timer_tail->next = c;
	else
		w->timer_head = c;
	w->timer_tail = c;
}

/* The connection made progress: its idle timeout starts again. */
static void conn_touch(struct server_worker *w, struct server_conn *c)
{
	c->deadline = w->now + w->idle_ms;
	if (w->timer_tail != c) {
		timer_unlink(w, c);
		timer_append(w, c);
	}
}

/* ---- pools -------------------------------------------------------------- */

static uint8_t *backlog_get(struct server_worker *w)
{
	struct server_backlog_buf *b = w->free_backlog;
	if (b != NULL) {
		w->free_backlog = b->next;
		return (uint8_t *)b;
	}
	if (w->backlog_count >= SERVER_TCP_BACKLOG_MAX)
		return NULL;
	uint8_t *buf = malloc(SERVER_TCP_TX_CAP);
	if (buf != NULL)
		w->backlog_count++;
	return buf;
}

static void backlog_put(struct server_worker *w, uint8_t *buf)
{
	struct server_backlog_buf *b = (struct server_backlog_buf *)(void *)buf;
	b->next = w->free_backlog;
	w->free_backlog = b;
}

static struct server_conn *conn_get(struct server_worker *w)
{
	struct server_conn *c = w->free_conns;
	if (c != NULL) {
		w->free_conns = c->next;
		w->free_count--;
		return c;
	}
	return malloc(sizeof(*c));
}

static void conn_put(struct server_worker *w, struct server_conn *c)
{
	if (w->free_count >= SERVER_CONN_SPARE) {
		free(c);
		return;
	}
	c->next = w->free_conns;
	w->free_conns = c;
	w->free_count++;
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct server_worker *w, struct server_conn *c,
		       bool timed_out)
{
	/* Counted before close() so that a client seeing the end of the
	 * stream sees the counters that explain it. */
	if (timed_out)
		server_stat_inc(&w->stats.tcp_timeout);
	server_stat_inc(&w->stats.tcp_closed);
	close(c->fd);	/* also leaves the epoll set */
	limits_release(w->srv, c->client_slot);
	if (c->backlog != NULL)
		backlog_put(w, c->backlog);
	free(c->xfr_buf);
	c->xfr_buf = NULL;
	timer_unlink(w, c);
	w->open_count--;
	conn_put(w, c);
}

/* Arms EPOLLIN (reading) or EPOLLOUT (draining the backlog). */
static int conn_want(struct server_worker *w, struct server_conn *c,
		     bool reading)
{
	if (c->reading == reading)
		return 0;
	struct epoll_event ev = {
		.events = reading ? EPOLLIN : EPOLLOUT,
		.data.ptr = c,
	};
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return -errno;
	c->reading = reading;
	return 0;
}

/*
 * Sends buf from *off to len as far as the socket takes it now, moving
 * *off; any octet taken is progress. Returns 0 (all sent), 1 (the socket
 * is full), or an error (the connection must close).
 */
static int send_some(struct server_worker *w, struct server_conn *c,
		     const uint8_t *buf, size_t *off, size_t len)
{
	while (*off < len) {
		ssize_t n = send(c->fd, buf + *off, len - *off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			*off += (size_t)n;
			conn_touch(w, c);
			/* A short write means the socket buffer is full; one
			 * more send() would only say EAGAIN. */
			if (*off < len)
				return 1;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return 1;
		} else {
			return n < 0 ? -errno : ANYDNS_EIO;
		}
	}
	return 0;
}

/*
 * Sends len octets of buf, keeping in the connection's backlog what the
 * socket does not take now. Returns 0 (all sent), 1 (some kept), or an
 * error (the connection must close).
 */
static int conn_send(struct server_worker *w, struct server_conn *c,
		     const uint8_t *buf, size_t len)
{
	size_t off = 0;
	int ret = send_some(w, c, buf, &off, len);
	if (ret <= 0)
		return ret;
	c->backlog = backlog_get(w);
	if (c->backlog == NULL)
		return ANYDNS_ENOMEM;
	memcpy(c->backlog, buf + off, len - off);
	c->backlog_off = 0;
	c->backlog_len = len - off;
	return 1;
}

/* Sends what is left of the transfer in c->xfr_buf: 0 when all of it
 * has gone (the buffer is freed), 1 when some is left, or an error. */
static int xfr_drain(struct server_worker *w, struct server_conn *c)
{
	int ret = send_some(w, c, c->xfr_buf, &c->xfr_off, c->xfr_len);
	if (ret != 0)
		return ret;
	free(c->xfr_buf);
	c->xfr_buf = NULL;
	return 0;
}

/* Starts sending a transfer's messages, taking out's buffer: 0 when all
 * of it went at once, 1 when the connection keeps the rest, or an
 * error. */
static int xfr_send(struct server_worker *w, struct server_conn *c,
		    struct xfr_out *out)
{
	c->xfr_buf = out->buf;
	c->xfr_off = 0;
	c->xfr_len = out->len;
	out->buf = NULL;
	xfr_out_free(out);
	return xfr_drain(w, c);
}

/* Sends what the backlog holds, then what is left of a transfer: 0 when
 * both are empty, 1 when some is left, or an error. */
static int conn_drain(struct server_worker *w, struct server_conn *c)
{
	if (c->backlog == NULL)
		return c->xfr_buf != NULL ? xfr_drain(w, c) : 0;
	int ret = send_some(w, c, c->backlog, &c->backlog_off, c->backlog_len);
	if (ret != 0)
		return ret;
	backlog_put(w, c->backlog);
	c->backlog = NULL;
	return c->xfr_buf != NULL ? xfr_drain(w, c) : 0;
}

/*
 * Answers every complete query in the input buffer, in order, and sends
 * the answers; then decides what the connection waits for next, or closes
 * it. Stops early when the client does not take the answers.
 */
static void conn_serve(struct server_worker *w, struct server_conn *c)
{
	enum server_transport tr = c->tag.transport;
	uint8_t *tx = w->tx;
	size_t done = 0;	/* octets of the queries answered */
	size_t txlen = 0;	/* octets of answers gathered in tx */
	bool bad_frame = false;
	int ret = 0;
	struct wire_ctx cur;
	wire_init(&cur, c->in, c->in_len);

	rcu_read_lock();
	const struct zone_set *zones = zone_set_view(
		zone_snapshot_read(w->zones), c->view);
	while (!c->last && wire_avail(&cur) >= 2) {
		size_t mlen = wire_read_u16(&cur);
		if (mlen < DNS_HEADER_LEN || mlen > SERVER_QUERY_MAX) {
			bad_frame = true;
			break;
		}
		const uint8_t *msg = wire_take(&cur, mlen);
		if (msg == NULL)
			break;	/* the rest of it has not arrived yet */
		if (SERVER_TCP_TX_CAP - txlen < 2 + DNS_MSG_MAXLEN) {
			ret = conn_send(w, c, tx, txlen);
			txlen = 0;
			if (ret != 0)
				break;	/* this query waits in the buffer */
		}
		struct dns_query q;
		struct answer_result res;
		int prc = dns_query_parse(msg, mlen, &q);
		if (prc == 0 && w->srv->conf.xfr != NULL && xfr_handles(&q)) {
			/* The answers before it leave first: a transfer is
			 * sent from its own buffer. */
			if (txlen > 0) {
				ret = conn_send(w, c, tx, txlen);
				txlen = 0;
				if (ret != 0)
					break;	/* it waits in the buffer */
			}
			struct xfr_out out = { 0 };
			ret = server_xfr_answer(w, zones, &q, &c->peer.sa, true,
						&out);
			res = server_xfr_result(&out, out.len);
			server_count(&w->stats, tr, &q, prc, &res);
			done = wire_offset(&cur);
			if (w->max_queries > 0 && ++c->queries >= w->max_queries)
				c->last = true;
			/* Out of memory: the client gets no answer and would
			 * wait for one; closing tells it at once. */
			if (ret == 0)
				ret = xfr_send(w, c, &out);
			if (ret != 0)
				break;
			continue;
		}
		if (prc == 0 && w->srv->conf.xfr != NULL && q.tsig_offset != 0)
			server_signed_answer(w, zones, &q, ANSWER_TCP,
					     tx + txlen + 2, DNS_MSG_MAXLEN,
					     &res);
		else
			answer_query(&w->answer, zones, &q, prc, ANSWER_TCP,
				     tx + txlen + 2, DNS_MSG_MAXLEN, &res);
		server_count(&w->stats, tr, &q, prc, &res);
		if (res.len > 0) {
			wire_put_u16(tx + txlen, (uint16_t)res.len);
			txlen += 2 + res.len;
		}
		done = wire_offset(&cur);
		if (w->max_queries > 0 && ++c->queries >= w->max_queries)
			c->last = true;
	}
	rcu_read_unlock();

	if (done > 0) {
		/* Progress is a whole query: a client dribbling octets does
		 * not hold its connection open. */
		conn_touch(w, c);
		c->in_len -= done;
		memmove(c->in, c->in + done, c->in_len);
	}
	if (ret == 0 && txlen > 0)
		ret = conn_send(w, c, tx, txlen);
	if (bad_frame) {
		server_stat_inc(&w->stats.queries[tr]);
		server_stat_inc(&w->stats.malformed);
		server_stat_inc(&w->stats.dropped);
		goto close;
	}
	if (ret < 0)
		goto close;
	if (ret == 1) {
		if (conn_want(w, c, false) != 0)
			goto close;
		return;
	}
	/* Everything answered is sent. After the client's FIN no query can
	 * complete; after the last allowed query none may follow. */
	if (c->eof || c->last)
		goto close;
	if (conn_want(w, c, true) != 0)
		goto close;
	return;
close:
	conn_close(w, c, false);
}

void server_tcp_event(struct server_worker *w, struct server_conn *c)
{
	if (!c->reading) {
		/* EPOLLOUT, or an error that send() will report. */
		int ret = conn_drain(w, c);
		if (ret < 0)
			conn_close(w, c, false);
		else if (ret == 0)
			conn_serve(w, c);	/* queries left waiting */
		return;
	}
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
			 0);
	if (n > 0) {
		c->in_len += (size_t)n;
	} else if (n == 0) {
		c->eof = true;
	} else if (errno == EAGAIN || errno == EINTR) {
		return;
	} else {
		conn_close(w, c, false);
		return;
	}
	conn_serve(w, c);
}

/* ---- accepting ---------------------------------------------------------- */

/* Out of file descriptors the listening socket stays readable and epoll
 * would spin: give up the spare descriptor, accept, close, take it back. */
static void shed_one(struct server_worker *w, struct server_sock *s)
{
	if (w->spare_fd < 0)
		return;
	close(w->spare_fd);
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		server_stat_inc(&w->stats.tcp_refused);
	}
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* The view of the zones a connection's queries get: by the local address
 * the client connected to (a wildcard listener accepts for every address
 * of the host). One getsockname() per connection, only with views. */
static uint32_t conn_view(const struct server_worker *w, int fd)
{
	union server_addr local;
	socklen_t len = sizeof(local);
	if (w->nviews == 0 || getsockname(fd, &local.sa, &len) != 0)
		return ZONE_VIEW_ALL;
	if (local.sa.sa_family == AF_INET)
		return server_view_of(w->views, w->nviews, AF_INET,
				      &local.sin.sin_addr);
	return server_view_of(w->views, w->nviews, AF_INET6,
			      &local.sin6.sin6_addr);
}

void server_tcp_accept(struct server_worker *w, struct server_sock *s)
{
	for (unsigned i = 0; i < SERVER_ACCEPT_BURST; i++) {
		union server_addr peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(s->fd, &peer.sa, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("server: worker %u: out of file "
					 "descriptors, refusing TCP", w->id);
				shed_one(w, s);
			}
			return;
		}
		uint32_t slot = client_slot(&peer);
		if (!limits_take(w->srv, slot)) {
			server_stat_inc(&w->stats.tcp_refused);
			close(fd);
			continue;
		}
		struct server_conn *c = conn_get(w);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (c == NULL ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			if (c != NULL)
				conn_put(w, c);
			limits_release(w->srv, slot);
			server_stat_inc(&w->stats.tcp_refused);
			close(fd);
			continue;
		}
		c->tag.kind = SERVER_EV_CONN;
		c->tag.transport = s->tag.transport;
		c->reading = true;
		c->eof = false;
		c->last = false;
		c->fd = fd;
		c->client_slot = slot;
		c->view = conn_view(w, fd);
		c->queries = 0;
		c->backlog = NULL;
		c->backlog_off = c->backlog_len = 0;
		c->xfr_buf = NULL;
		c->xfr_off = c->xfr_len = 0;
		c->peer = peer;
		c->in_len = 0;
		c->prev = c->next = NULL;
		c->deadline = w->now + w->idle_ms;
		timer_append(w, c);
		w->open_count++;
		server_stat_inc(&w->stats.tcp_accepted);
	}
}

/* ---- timeouts and lifecycle --------------------------------------------- */

int server_tcp_expire(struct server_worker *w)
{
	while (w->timer_head != NULL && w->timer_head->deadline <= w->now)
		conn_close(w, w->timer_head, true);
	if (w->timer_head == NULL)
		return -1;
	uint64_t left = w->timer_head->deadline - w->now;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int server_tcp_init(struct server_worker *w)
{
	w->tx = malloc(SERVER_TCP_TX_CAP);
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (w->tx == NULL)
		return ANYDNS_ENOMEM;
	if (w->spare_fd < 0)
		return -errno;
	return 0;
}

void server_tcp_fini(struct server_worker *w)
{
	while (w->timer_head != NULL)
		conn_close(w, w->timer_head, false);
	while (w->free_conns != NULL) {
		struct server_conn *c = w->free_conns;
		w->free_conns = c->next;
		free(c);
	}
	w->free_count = 0;
	while (w->free_backlog != NULL) {
		struct server_backlog_buf *b = w->free_backlog;
		w->free_backlog = b->next;
		free(b);
	}
	w->backlog_count = 0;
	free(w->tx);
	w->tx = NULL;
	if (w->spare_fd >= 0)
		close(w->spare_fd);
	w->spare_fd = -1;
}
