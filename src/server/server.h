/*
 * src/server — the sockets and DNS worker threads of the daemon. Every
 * worker owns, for each listen address, its own SO_REUSEPORT UDP socket
 * (served in recvmmsg/sendmmsg batches, replies leaving from the address
 * the query arrived on) and its own TCP listening socket with the
 * connections it accepted, all in one epoll set. Workers answer through
 * answer_query() from the zone snapshot read under RCU, count what they do
 * in per-worker counters, and take no lock on the query path.
 *
 * Zone transfers and NOTIFY (when a transfer policy is given) are answered
 * by src/xfr on the same workers: a transfer is built whole under the RCU
 * read lock and then streamed to its connection like any slow answer.
 *
 * Implements: RFC 1035 §4.2.1 and §4.2.2 (UDP and TCP transport), RFC 7766
 * (DNS over TCP: pipelining, answers in any order they are ready, idle
 * timeouts §6.2.3, connection limits §6.2.2), RFC 7828 (edns-tcp-keepalive
 * advertised), RFC 3542 §6 and ip(7) IP_PKTINFO (reply source address,
 * and the destination that picks a network's view of the zones).
 */
#ifndef ANYDNS_SERVER_SERVER_H
#define ANYDNS_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "answer/answer.h"
#include "xfr/xfr.h"
#include "zone/zone.h"

/* How a worker's UDP sockets are served. */
enum server_udp_io {
	/* io_uring where the kernel allows it (Linux 6.1 and later, not
	 * disabled by kernel.io_uring_disabled or a seccomp filter), else
	 * recvmmsg/sendmmsg. */
	SERVER_UDP_IO_AUTO = 0,
	/* io_uring or nothing: server_start() fails without it. A multishot
	 * receive per socket into a ring of provided buffers, answers sent
	 * by SENDMSG requests, one io_uring_enter() per wakeup for receiving
	 * and sending alike. */
	SERVER_UDP_IO_URING,
	/* recvmmsg/sendmmsg batches after epoll readiness. */
	SERVER_UDP_IO_MMSG,
};

/* The largest query message read whole, over UDP and TCP. A longer UDP
 * datagram is dropped; a longer TCP message closes the connection. */
#define SERVER_QUERY_MAX 4096

/* The edns-tcp-keepalive value that means "advertise the idle timeout". */
#define SERVER_KEEPALIVE_IDLE UINT32_MAX

/*
 * An address (or prefix) whose queries are answered from one view of the
 * zone set (zone_set_view()): the addresses of an anycast network that
 * serves some of the zones only. A query is matched by the address it was
 * sent to (IP_PKTINFO / IPV6_PKTINFO over UDP, the accepted socket's own
 * address over TCP), the longest prefix winning; an address in no entry
 * is answered from the whole set.
 */
struct server_view_addr {
	sa_family_t family;		/* AF_INET or AF_INET6 */
	uint8_t prefix_len;		/* 32 or 128 for one address */
	uint8_t addr[16];		/* network order; IPv4 in addr[0..3] */
	uint32_t view;			/* index into zone_set.views */
};

/* The most entries a server takes (a lookup scans them all). */
#define SERVER_MAX_VIEW_ADDRS 256

struct server_conf {
	/* Addresses to listen on, UDP and TCP each: struct sockaddr_in or
	 * sockaddr_in6 in a sockaddr_storage, with the port. Wildcard
	 * addresses (0.0.0.0, ::) are allowed: replies still leave from the
	 * address each query was sent to. The port must not be 0 (every
	 * worker binds its own sockets to one port). Copied by
	 * server_start(). */
	const struct sockaddr_storage *listen;
	size_t listen_count;

	unsigned workers;		/* 0: one per online CPU */
	unsigned udp_batch;		/* per recvmmsg, 1..1024 (64); with
					 * io_uring, twice this many receive
					 * buffers (a power of two) */
	enum server_udp_io udp_io;	/* (SERVER_UDP_IO_AUTO) */
	unsigned udp_rcvbuf;		/* SO_RCVBUF wanted, octets, beyond
					 * net.core.rmem_max only with
					 * CAP_NET_ADMIN; 0: system's (4 MiB) */
	bool freebind;			/* IP_FREEBIND: bind before addresses
					 * are up (anycast set up later) */

	unsigned tcp_max_conns;		/* all workers together (4096) */
	/* Per client address, IPv6 per /64; 0: no limit (64). Counted in a
	 * table hashed with lib/hash.h's seed (call hash_seed_init() first),
	 * where two clients rarely share a count. */
	unsigned tcp_max_per_client;
	/* RFC 7766 §6.2.3 (10000), > 0: a connection is closed when it has
	 * neither completed a query nor had answer octets taken by the
	 * kernel for this long, so a client that stops reading is closed
	 * too. */
	unsigned tcp_idle_timeout_ms;
	unsigned tcp_max_queries;	/* per connection; 0: unlimited */
	/* edns-tcp-keepalive timeout advertised (RFC 7828), in ms, rounded
	 * down to 100 ms units; 0: not advertised; at most the idle timeout.
	 * Overrides answer.tcp_keepalive. (SERVER_KEEPALIVE_IDLE) */
	uint32_t tcp_keepalive_ms;

	/*
	 * The packet cache of each worker, in octets (16 MiB); 0: none. A
	 * UDP query whose octets after the ID, sent to the same view, were
	 * answered before from the zone set now published is answered by
	 * copying that response (src/server/cache.c): no parsing, no zone
	 * lookup. Allocated at start, touched only as it fills. At least
	 * 64 KiB when not 0.
	 */
	size_t packet_cache;

	/* How to answer; copied by server_start(), but the strings and NSID
	 * it points to must outlive the server. */
	struct answer_conf answer;
	/* The published zone set; not owned, must outlive the server. */
	const struct zone_snapshot *zones;
	/* Addresses answered from a view of it; copied by server_start().
	 * None: every query is answered from the whole set. */
	const struct server_view_addr *views;
	size_t view_count;

	/* Zone transfers and NOTIFY (src/xfr): AXFR, IXFR and NOTIFY
	 * messages are answered by xfr_serve() under this policy, which must
	 * outlive the server. NULL: the xfr layer is off and answer_query()
	 * answers them as it does any query (NOTAUTH, NOTIMP). */
	const struct xfr_policy *xfr;
	/* Called on the worker thread for every NOTIFY accepted (the ACL and
	 * TSIG passed), after the response is built; must be thread-safe
	 * and quick (the control thread implements it: queue and wake).
	 * NULL: accepted NOTIFYs are only answered. */
	void (*on_notify)(void *arg, const struct xfr_notify_event *ev);
	void *notify_arg;
};

/* Fills conf with the defaults above: no listen address, answer_conf_init()
 * answering, no zones. */
void server_conf_init(struct server_conf *conf);

/* ---- Counters -------------------------------------------------------------
 * Every message received counts once in queries[]; it then either gets a
 * response (counted in rcodes[] by the RCODE sent) or is dropped (dropped).
 * malformed counts the messages answered with FORMERR because they did not
 * parse, and the TCP messages whose framing was bad (those are dropped and
 * the connection closed). qtypes[] counts the messages that had a readable
 * question. send_failed counts responses the kernel did not take.
 * xfr_out counts the AXFR and IXFR requests answered NOERROR (each whole
 * transfer once, whatever its messages, a SOA-only IXFR answer included)
 * and notify_in the NOTIFY messages accepted and passed on. A response
 * from the packet cache counts in all of these exactly as the one it is a
 * copy of did; cache_hits counts those responses, cache_misses the other
 * UDP messages looked up in the cache (none when it is off).
 */
enum server_transport {
	SERVER_UDP4 = 0,
	SERVER_UDP6,
	SERVER_TCP4,
	SERVER_TCP6,
	SERVER_TRANSPORT_COUNT,
};

enum server_qtype_slot {
	SERVER_QT_A = 0,
	SERVER_QT_NS,
	SERVER_QT_CNAME,
	SERVER_QT_SOA,
	SERVER_QT_PTR,
	SERVER_QT_MX,
	SERVER_QT_TXT,
	SERVER_QT_AAAA,
	SERVER_QT_SRV,
	SERVER_QT_DS,
	SERVER_QT_DNSKEY,
	SERVER_QT_HTTPS,
	SERVER_QT_CAA,
	SERVER_QT_ANY,
	SERVER_QT_AXFR,
	SERVER_QT_IXFR,
	SERVER_QT_OTHER,
	SERVER_QT_COUNT,
};

#define SERVER_RCODE_OTHER 24		/* slot for RCODEs above 23 */
#define SERVER_RCODE_SLOTS 25

struct server_stats {
	uint64_t queries[SERVER_TRANSPORT_COUNT];
	uint64_t rcodes[SERVER_RCODE_SLOTS];
	uint64_t qtypes[SERVER_QT_COUNT];
	uint64_t truncated;		/* responses sent with TC */
	uint64_t dropped;		/* messages not answered */
	uint64_t malformed;
	uint64_t send_failed;
	uint64_t tcp_accepted;
	uint64_t tcp_closed;		/* every accepted connection, once */
	uint64_t tcp_refused;		/* closed at once: over a limit */
	uint64_t tcp_timeout;		/* closed idle (also in tcp_closed) */
	uint64_t xfr_out;		/* transfers served */
	uint64_t notify_in;		/* NOTIFYs accepted */
	uint64_t cache_hits;		/* answered from the packet cache */
	uint64_t cache_misses;		/* looked up there, not found */
};

/* ---- Lifecycle ---------------------------------------------------------- */
struct server;

/*
 * Binds every socket first (so the caller may drop privileges afterwards),
 * then starts the workers; they serve until server_stop(). Workers register
 * with liburcu's default flavor (<urcu.h>, as src/zone publishes with) and
 * block every signal. RLIMIT_NOFILE should allow tcp_max_conns plus a few
 * sockets per worker (a warning is logged when it does not). *out is owned
 * by the caller (server_stop()). On error nothing is left open or running.
 * Errors: ANYDNS_EINVAL (no listen address, not IPv4/IPv6, port 0, a limit
 * out of range, keepalive above the idle timeout, udp_max_payload below
 * 512, no zones, a view address that is not IPv4/IPv6 or too long a
 * prefix, too many of them, an unknown udp_io, a packet cache neither 0
 * nor at least 64 KiB), ANYDNS_ENOMEM, or a
 * system error of socket()/bind()/listen()/epoll/pthread_create() as
 * -errno (-EADDRINUSE, -EACCES, -EADDRNOTAVAIL...), logged with the
 * address at fault; with SERVER_UDP_IO_URING also the error of setting
 * up the io_uring (-ENOSYS, -EPERM, -EINVAL on a kernel before 6.1...).
 */
int server_start(const struct server_conf *conf, struct server **out);

/* Wakes every worker, joins them, closes every socket and connection and
 * frees srv. Returns within a few milliseconds plus the time an answer in
 * progress takes. srv may be NULL. */
void server_stop(struct server *srv);

/* Number of worker threads running. */
unsigned server_workers(const struct server *srv);

/* Sums the counters of every worker into out. Lock-free and safe from any
 * thread while the server runs; each counter is exact as of some instant,
 * the set of them is not one snapshot. */
void server_stats(const struct server *srv, struct server_stats *out);

/*
 * Calls fn once per counter: the metric name ("anydns_queries_total"...),
 * a label name and value (NULL, NULL for an unlabeled counter) and the
 * value, in a fixed order. For the metrics endpoint and the control socket.
 */
typedef void (*server_stats_fn)(void *arg, const char *name,
				const char *label, const char *label_value,
				uint64_t value);
void server_stats_each(const struct server_stats *st, server_stats_fn fn,
		       void *arg);

/*
 * Writes every counter as one line `name{label="value"} N` (Prometheus text
 * samples, without HELP/TYPE lines) into buf, NUL-terminated. Returns the
 * length the whole text needs, like snprintf: the output is cut when that
 * is >= len.
 */
size_t server_stats_format(const struct server_stats *st, char *buf,
			   size_t len);

#endif
