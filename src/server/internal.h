/*
 * What the files of src/server share and nothing else sees: the server and
 * worker structures, the epoll tags, the per-worker UDP batch (or io_uring)
 * and TCP connection state, and the inline counter updates of the query
 * path.
 * Layout matters here: a worker is aligned to 64 octets and its counters
 * open it, so no two workers (and nothing the reader of the counters
 * writes) share a cache line on the hot path.
 */
#ifndef ANYDNS_SERVER_INTERNAL_H
#define ANYDNS_SERVER_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <stdatomic.h>
#include <sys/uio.h>
#include <time.h>

#include "server/server.h"

#define SERVER_CACHELINE 64
#define SERVER_MAX_WORKERS 1024
#define SERVER_MAX_BATCH 1024
#define SERVER_EPOLL_EVENTS 64
/* Full UDP batches served per readiness before looking at other sockets:
 * bounds how long TCP and the stop event wait under a UDP flood. */
#define SERVER_UDP_ROUNDS 8
/* Connections accepted per readiness of one listening socket. */
#define SERVER_ACCEPT_BURST 64
/* Output gathered before one send(): room for the answers so far plus one
 * more of the largest size, which answer_query() needs over TCP. */
#define SERVER_TCP_TX_CAP (2 * (2 + DNS_MSG_MAXLEN))
/* Buffers for output a slow reader left unsent, per worker: beyond this a
 * connection that backs up is closed rather than buffered (memory bound:
 * this times SERVER_TCP_TX_CAP). */
#define SERVER_TCP_BACKLOG_MAX 256
/* Per-client connection counters shared by all workers (power of two). */
#define SERVER_CLIENT_SLOTS 65536
/* Closed connections kept for reuse per worker beyond those in use. */
#define SERVER_CONN_SPARE 256

/* What an epoll event's data.ptr points to starts with this tag. */
enum server_ev_kind {
	SERVER_EV_STOP = 1,
	SERVER_EV_UDP,
	SERVER_EV_LISTEN,
	SERVER_EV_CONN,
};

struct server_ev_tag {
	uint8_t kind;		/* enum server_ev_kind */
	uint8_t transport;	/* enum server_transport */
};

/* A socket of a worker: UDP or TCP listening, for one listen address. */
struct server_sock {
	struct server_ev_tag tag;
	int fd;
};

union server_addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
union server_cmsg {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

/* One worker's UDP batch: slot i of every array belongs to message i. */
struct server_udp_batch {
	unsigned size;
	size_t tx_cap;			/* room per response */
	uint8_t *rx_buf;		/* size * SERVER_QUERY_MAX */
	uint8_t *tx_buf;		/* size * tx_cap */
	struct mmsghdr *rx;
	struct iovec *rx_iov;
	union server_addr *peer;
	union server_cmsg *rx_ctl;
	struct mmsghdr *tx;
	struct iovec *tx_iov;
	union server_cmsg *tx_ctl;
};

/* A TCP connection; lives on the worker's timer list while open and on
 * its free list once closed. */
struct server_conn {
	struct server_ev_tag tag;
	bool reading;		/* EPOLLIN armed; else EPOLLOUT */
	bool eof;		/* the client sent FIN */
	bool last;		/* query limit reached: close once flushed */
	int fd;
	uint32_t client_slot;	/* index into server.client_count */
	uint32_t view;		/* of the zone set (its local address) */
	uint32_t queries;
	uint64_t deadline;	/* monotonic ms of the idle timeout */
	struct server_conn *prev, *next;
	uint8_t *backlog;	/* unsent output, or NULL */
	size_t backlog_off, backlog_len;
	/* A zone transfer being sent (malloc'd by xfr_serve(), megabytes
	 * perhaps), or NULL; queries after it wait until it has left. */
	uint8_t *xfr_buf;
	size_t xfr_off, xfr_len;
	union server_addr peer;	/* the client, for transfer ACLs */
	size_t in_len;
	uint8_t in[2 + SERVER_QUERY_MAX];
};

/* A free output buffer of SERVER_TCP_TX_CAP octets. */
struct server_backlog_buf {
	struct server_backlog_buf *next;
};

struct server;
struct server_uring;	/* udp_uring.c */
struct server_cache;	/* cache.c */

struct server_worker {
	/* Written by this worker only, read by server_stats(). */
	_Alignas(SERVER_CACHELINE) struct server_stats stats;

	_Alignas(SERVER_CACHELINE) struct server *srv;
	unsigned id;
	int epfd;
	pthread_t thread;
	bool started;
	struct answer_conf answer;	/* own copy, read-only */
	const struct zone_snapshot *zones;
	const struct server_view_addr *views;	/* the server's, read-only */
	size_t nviews;
	uint32_t idle_ms;
	uint32_t max_queries;

	struct server_ev_tag stop_tag;
	struct server_sock *udp;	/* one per listen address */
	struct server_sock *tcp;
	size_t nsocks;

	struct server_udp_batch batch;	/* recvmmsg path; else empty */
	struct server_uring *uring;	/* io_uring path; else NULL */
	struct server_cache *cache;	/* UDP answers; NULL: none */

	/* TCP: open connections in deadline order (they all share one
	 * timeout, so appending on activity keeps the list sorted). */
	struct server_conn *timer_head, *timer_tail;
	struct server_conn *free_conns;
	unsigned free_count, open_count;
	struct server_backlog_buf *free_backlog;
	unsigned backlog_count;	/* backlog buffers allocated */
	uint8_t *tx;		/* SERVER_TCP_TX_CAP octets */
	int spare_fd;		/* given up to shed a connection at EMFILE */
	uint64_t now;		/* monotonic ms at the last wakeup */
};

struct server {
	/* Open connections of all workers, on a line of its own. */
	_Alignas(SERVER_CACHELINE) atomic_uint tcp_open;
	_Alignas(SERVER_CACHELINE) struct server_conf conf;
	struct sockaddr_storage *listen;	/* own copy */
	struct server_view_addr *views;		/* own copy */
	unsigned nworkers;
	struct server_worker **workers;
	int stop_fd;			/* eventfd, readable once stopping */
	atomic_uint *client_count;	/* SERVER_CLIENT_SLOTS */
};

/* ---- socket.c --------------------------------------------------------- */
/* Opens, configures and binds a non-blocking UDP (type SOCK_DGRAM) or
 * listening TCP (SOCK_STREAM) socket for addr; logs the failing step. */
int server_socket_open(const struct server_conf *conf,
		       const struct sockaddr_storage *addr, int type, int *fd);
socklen_t server_addr_len(const struct sockaddr_storage *addr);
/* "192.0.2.1#53", "[2001:db8::1]#53" for logs. */
void server_addr_str(const struct sockaddr *addr, char *buf, size_t len);

/* ---- server.c --------------------------------------------------------- */
static inline uint64_t server_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Handles n events of the worker's epoll set; false once the stop event
 * is among them (the worker must return). */
bool server_worker_events(struct server_worker *w,
			  const struct epoll_event *ev, int n);
/* The epoll loop of a worker whose UDP sockets are in its epoll set. */
void server_worker_epoll_loop(struct server_worker *w);

/* ---- udp.c ------------------------------------------------------------ */
int server_udp_batch_init(struct server_udp_batch *b, unsigned size,
			  size_t tx_cap);
void server_udp_batch_free(struct server_udp_batch *b);
void server_udp_serve(struct server_worker *w, struct server_sock *s);

/* One datagram as received, by recvmmsg() or from an io_uring buffer. */
struct server_udp_rx {
	const uint8_t *msg;
	size_t len;		/* octets read */
	bool truncated;		/* MSG_TRUNC: longer than was read */
	const void *control;	/* its ancillary data (cmsghdr aligned) */
	size_t controllen;
	const void *peer;	/* the sender's address (maybe unaligned) */
	size_t peer_len;
};

/*
 * The one path from a received datagram to its response, for both UDP
 * backends: answers rx from zones (read by the caller under the RCU read
 * lock; the destination in rx's IP_PKTINFO / IPV6_PKTINFO may pick a view
 * of it) into resp (cap octets) and counts it in w's counters. Writes into
 * ctl the control message that makes the reply leave from that
 * destination, and its length into *ctl_len (0: none to send). Returns
 * the response's length; 0: nothing is to be sent.
 */
size_t server_udp_answer(struct server_worker *w, const struct zone_set *zones,
			 enum server_transport tr,
			 const struct server_udp_rx *rx, uint8_t *resp,
			 size_t cap, union server_cmsg *ctl, size_t *ctl_len);

/* ---- cache.c ------------------------------------------------------------
 * The packet cache of one worker (see cache.c): used by that worker's
 * thread only, so without a lock.
 */

/* A cache of size octets (index and entries together), owned by the
 * caller (server_cache_free()); its memory is reserved, not touched.
 * ANYDNS_EINVAL (size below SERVER_CACHE_MIN), ANYDNS_ENOMEM. */
#define SERVER_CACHE_MIN (64u << 10)
int server_cache_new(size_t size, struct server_cache **out);
void server_cache_free(struct server_cache *c);

/* A lookup that missed, kept for storing the answer made instead. */
struct server_cache_probe {
	const uint8_t *key;	/* the query after its ID (not owned) */
	size_t key_len;
	uint64_t hash;
	uint64_t generation;
	uint32_t view;
};

/* What a cached response counts as: its QTYPE, and what answer_query()
 * said of it when it was made (server_count_msg()). */
struct server_cache_hit {
	struct answer_result res;
	uint16_t qtype;
};

/*
 * Looks up the query msg (len octets, as received) for view of the zone
 * set of generation. A hit is copied into resp (cap octets) with msg's ID
 * and its length returned, *hit filled. 0: a miss, *probe filled for
 * server_cache_store().
 */
size_t server_cache_lookup(struct server_cache *c, uint64_t generation,
			   uint32_t view, const uint8_t *msg, size_t len,
			   uint8_t *resp, size_t cap,
			   struct server_cache_probe *probe,
			   struct server_cache_hit *hit);

/* Stores resp (hit->res.len octets), the answer to the query probe
 * missed, replacing the oldest entries when full. An entry too large for
 * the cache is not stored. Callers store only what is a function of the
 * query's octets, the view and the zone set (server_udp_answer()). */
void server_cache_store(struct server_cache *c,
			const struct server_cache_probe *probe,
			const uint8_t *resp,
			const struct server_cache_hit *hit);

/* ---- transfer.c --------------------------------------------------------- */
/*
 * Answers q (parsed; xfr_handles() true; the server has a transfer
 * policy) from zones through xfr_serve(), from peer over TCP or UDP, into
 * out (zeroed by the caller, freed by it with xfr_out_free()); counts a
 * transfer served or a NOTIFY accepted and passes the NOTIFY on. The
 * caller counts the message itself with server_count() (res from
 * server_xfr_result()). Returns 0, or ANYDNS_ENOMEM (out empty).
 */
int server_xfr_answer(struct server_worker *w, const struct zone_set *zones,
		      const struct dns_query *q, const struct sockaddr *peer,
		      bool tcp, struct xfr_out *out);

/*
 * Answers a signed query that is no transfer (q->tsig_offset != 0; the
 * server has a transfer policy, whose keys verify it) into out (cap
 * octets, as answer_query() wants them): the answer to the same query
 * unsigned, within the transport's limit with the TSIG that ends it, or
 * NOTAUTH with the TSIG error. res is filled; returns res->len.
 */
size_t server_signed_answer(struct server_worker *w,
			    const struct zone_set *zones,
			    const struct dns_query *q,
			    enum answer_transport transport, uint8_t *out,
			    size_t cap, struct answer_result *res);

/* What server_count() needs of an xfr answer: sent (len octets) or not. */
static inline struct answer_result server_xfr_result(const struct xfr_out *out,
						     size_t len)
{
	struct answer_result res = { .len = len, .rcode = out->rcode };
	return res;
}

/* ---- udp_uring.c -------------------------------------------------------- */
/* Sets up w's io_uring for its UDP sockets (w->udp[], already open): the
 * ring, its provided buffers and the reply slots, all allocated here; the
 * ring stays disabled until server_uring_loop() enables it on the
 * worker's own thread. Errors: those of io_uring_setup() and
 * io_uring_register() as -errno (-ENOSYS, -EPERM: not allowed here;
 * -EINVAL: a kernel before 6.1), ANYDNS_ENOMEM. */
int server_uring_new(struct server_worker *w, unsigned batch,
		     struct server_uring **out);
void server_uring_free(struct server_uring *u);
/* The worker's loop with io_uring: returns when the server stops, or
 * when the ring cannot run on this thread (false: the worker then serves
 * UDP by epoll after all). */
bool server_uring_loop(struct server_worker *w);

/* ---- tcp.c ------------------------------------------------------------ */
int server_tcp_init(struct server_worker *w);
void server_tcp_accept(struct server_worker *w, struct server_sock *s);
void server_tcp_event(struct server_worker *w, struct server_conn *c);
/* Closes the connections whose deadline passed; returns the ms until the
 * next deadline, or -1 when no connection is open. */
int server_tcp_expire(struct server_worker *w);
/* Closes every connection and frees the pools (worker exit). */
void server_tcp_fini(struct server_worker *w);

/* ---- views ---------------------------------------------------------------
 * Which view of the zone set a query's destination address gets: a scan
 * of the few anycast prefixes, longest match first, with no lock and no
 * allocation. Workers without views never call it.
 */
static inline bool server_prefix_has(const struct server_view_addr *v,
				     const uint8_t *addr)
{
	unsigned full = v->prefix_len / 8, rest = v->prefix_len % 8;
	if (memcmp(v->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return ((v->addr[full] ^ addr[full]) & mask) == 0;
}

/* family and addr (4 or 16 octets, network order): the destination. */
static inline uint32_t server_view_of(const struct server_view_addr *views,
				      size_t n, int family, const void *addr)
{
	uint32_t view = ZONE_VIEW_ALL;
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		const struct server_view_addr *v = &views[i];
		if (v->family == family && (int)v->prefix_len > best &&
		    server_prefix_has(v, addr)) {
			best = v->prefix_len;
			view = v->view;
		}
	}
	return view;
}

/* ---- counters ----------------------------------------------------------
 * Only the owning worker writes its counters, so a relaxed load and store
 * (plain moves on x86-64 and arm64, no lock prefix) keep every update
 * whole for the reader in server_stats() without a read-modify-write.
 */
static inline void server_stat_inc(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static inline unsigned server_qtype_slot(uint16_t qtype)
{
	switch (qtype) {
	case DNS_TYPE_A: return SERVER_QT_A;
	case DNS_TYPE_NS: return SERVER_QT_NS;
	case DNS_TYPE_CNAME: return SERVER_QT_CNAME;
	case DNS_TYPE_SOA: return SERVER_QT_SOA;
	case DNS_TYPE_PTR: return SERVER_QT_PTR;
	case DNS_TYPE_MX: return SERVER_QT_MX;
	case DNS_TYPE_TXT: return SERVER_QT_TXT;
	case DNS_TYPE_AAAA: return SERVER_QT_AAAA;
	case DNS_TYPE_SRV: return SERVER_QT_SRV;
	case DNS_TYPE_DS: return SERVER_QT_DS;
	case DNS_TYPE_DNSKEY: return SERVER_QT_DNSKEY;
	case DNS_TYPE_HTTPS: return SERVER_QT_HTTPS;
	case DNS_TYPE_CAA: return SERVER_QT_CAA;
	case DNS_TYPE_ANY: return SERVER_QT_ANY;
	case DNS_TYPE_AXFR: return SERVER_QT_AXFR;
	case DNS_TYPE_IXFR: return SERVER_QT_IXFR;
	default: return SERVER_QT_OTHER;
	}
}

/* Counts one message received over transport, parsed with result prc
 * (with a question of type qtype, if question) and answered (or not) as
 * res says. The packet cache counts its hits through this too, from what
 * it kept of the miss, so a hit counts exactly as a miss does. */
static inline void server_count_msg(struct server_stats *st,
				    enum server_transport transport,
				    bool question, uint16_t qtype, int prc,
				    const struct answer_result *res)
{
	server_stat_inc(&st->queries[transport]);
	if (question)
		server_stat_inc(&st->qtypes[server_qtype_slot(qtype)]);
	if (prc == ANYDNS_EMALF)
		server_stat_inc(&st->malformed);
	if (res->len == 0) {
		server_stat_inc(&st->dropped);
		return;
	}
	unsigned slot = res->rcode < SERVER_RCODE_OTHER ? res->rcode :
							  SERVER_RCODE_OTHER;
	server_stat_inc(&st->rcodes[slot]);
	if (res->truncated)
		server_stat_inc(&st->truncated);
}

/* The same for a message q parsed with result prc. */
static inline void server_count(struct server_stats *st,
				enum server_transport transport,
				const struct dns_query *q, int prc,
				const struct answer_result *res)
{
	bool question = prc != ANYDNS_EDROP && q->has_question;
	server_count_msg(st, transport, question, question ? q->qtype : 0, prc,
			 res);
}

#endif
