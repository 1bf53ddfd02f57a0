/*
 * DNS over UDP (RFC 1035 §4.2.1) in batches: one recvmmsg() fills up to a
 * batch of messages, each is parsed and answered into its own slot under
 * one RCU read-side section, and one sendmmsg() returns the responses.
 * Every buffer, iovec and control message is allocated once per worker, so
 * the query path costs two system calls per batch and no allocation. This
 * is the fallback of the io_uring path (udp_uring.c); both answer each
 * datagram through server_udp_answer(), so they count and choose views
 * alike.
 *
 * A reply leaves from the address its query was sent to: the destination
 * of every datagram comes with it as IP_PKTINFO or IPV6_PKTINFO and goes
 * back as the source of the reply (ipi_spec_dst, ipi6_addr; ip(7), ipv6(7),
 * RFC 3542 §6). Without it a socket bound to a wildcard address on a host
 * with several anycast addresses would answer from whichever address the
 * route prefers, and resolvers drop such replies. The same destination
 * picks the view of the zone set the query is answered from, when anycast
 * networks serve only some of the zones (server_view_of()).
 *
 * With a transfer policy, NOTIFY and the AXFR/IXFR queries that come over
 * UDP go to src/xfr (transfer.c) instead: a NOTIFY acknowledgement, our
 * SOA alone for IXFR (RFC 1995 §2), NOTIMP for AXFR (RFC 5936 §4.2).
 *
 * Before any of that, a worker with a packet cache (cache.c) looks the
 * datagram up there: a query whose octets after the ID were answered
 * before, for the same view of the zone set now published, gets a copy of
 * that response with its own ID, counted as the original was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "server/internal.h"

int server_udp_batch_init(struct server_udp_batch *b, unsigned size,
			  size_t tx_cap)
{
	memset(b, 0, sizeof(*b));
	b->size = size;
	/* Slots start on cache lines so neighbours do not share one. */
	b->tx_cap = (tx_cap + SERVER_CACHELINE - 1) &
		    ~(size_t)(SERVER_CACHELINE - 1);
	b->rx_buf = aligned_alloc(SERVER_CACHELINE,
				  (size_t)size * SERVER_QUERY_MAX);
	b->tx_buf = aligned_alloc(SERVER_CACHELINE, (size_t)size * b->tx_cap);
	b->rx = calloc(size, sizeof(*b->rx));
	b->rx_iov = calloc(size, sizeof(*b->rx_iov));
	b->peer = calloc(size, sizeof(*b->peer));
	b->rx_ctl = calloc(size, sizeof(*b->rx_ctl));
	b->tx = calloc(size, sizeof(*b->tx));
	b->tx_iov = calloc(size, sizeof(*b->tx_iov));
	b->tx_ctl = calloc(size, sizeof(*b->tx_ctl));
	if (b->rx_buf == NULL || b->tx_buf == NULL || b->rx == NULL ||
	    b->rx_iov == NULL || b->peer == NULL || b->rx_ctl == NULL ||
	    b->tx == NULL || b->tx_iov == NULL || b->tx_ctl == NULL) {
		server_udp_batch_free(b);
		return ANYDNS_ENOMEM;
	}
	for (unsigned i = 0; i < size; i++) {
		b->rx_iov[i].iov_base = b->rx_buf +
					(size_t)i * SERVER_QUERY_MAX;
		b->rx_iov[i].iov_len = SERVER_QUERY_MAX;
		struct msghdr *h = &b->rx[i].msg_hdr;
		h->msg_name = &b->peer[i];
		h->msg_namelen = sizeof(b->peer[i]);
		h->msg_iov = &b->rx_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = &b->rx_ctl[i];
		h->msg_controllen = sizeof(b->rx_ctl[i]);

		h = &b->tx[i].msg_hdr;
		h->msg_iov = &b->tx_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = &b->tx_ctl[i];
	}
	return 0;
}

void server_udp_batch_free(struct server_udp_batch *b)
{
	free(b->rx_buf);
	free(b->tx_buf);
	free(b->rx);
	free(b->rx_iov);
	free(b->peer);
	free(b->rx_ctl);
	free(b->tx);
	free(b->tx_iov);
	free(b->tx_ctl);
	memset(b, 0, sizeof(*b));
}

/* The destination address of a datagram, from its IP_PKTINFO or
 * IPV6_PKTINFO: what picks the view of the zones it is answered from. */
struct udp_dst {
	int family;		/* 0: the datagram carried none */
	uint8_t addr[16];
};

/*
 * Writes into ctl the control message that makes the reply leave from the
 * destination address of a query whose ancillary data is control (len
 * octets), and that address into dst; returns the message's length, 0 if
 * the query carried none (then the kernel picks the source as for any
 * socket).
 */
static size_t reply_pktinfo(const void *control, size_t len,
			    union server_cmsg *ctl, struct udp_dst *dst)
{
	struct msghdr rx = {
		.msg_control = (void *)control,
		.msg_controllen = len,
	};
	struct cmsghdr *out = &ctl->align;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&rx); cm != NULL;
	     cm = CMSG_NXTHDR(&rx, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, pi;
			memcpy(&in, CMSG_DATA(cm), sizeof(in));
			/* ipi_addr is the header's destination; ipi_spec_dst
			 * may be another local address (ip(7)). Interface 0:
			 * the route decides where the reply goes. */
			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst = in.ipi_addr;
			dst->family = AF_INET;
			memcpy(dst->addr, &in.ipi_addr, 4);
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo in, pi;
			memcpy(&in, CMSG_DATA(cm), sizeof(in));
			pi.ipi6_addr = in.ipi6_addr;
			dst->family = AF_INET6;
			memcpy(dst->addr, &in.ipi6_addr, 16);
			/* A link-local source only means something on its
			 * link; any other leaves the way the route says. */
			pi.ipi6_ifindex = IN6_IS_ADDR_LINKLOCAL(&in.ipi6_addr) ?
				in.ipi6_ifindex : 0;
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

/* A NOTIFY, or an AXFR/IXFR over UDP (answered NOTIMP or with our SOA):
 * one message from src/xfr, copied into the reply slot; one that does not
 * fit is dropped (the client retries, over TCP for IXFR). */
static size_t udp_xfr(struct server_worker *w, const struct zone_set *zones,
		      enum server_transport tr, const struct dns_query *q,
		      const struct server_udp_rx *rx, uint8_t *resp, size_t cap)
{
	union server_addr peer;
	struct xfr_out out = { 0 };
	size_t len = 0;
	/* Copied: an io_uring buffer holds the address unaligned. */
	memset(&peer, 0, sizeof(peer));
	memcpy(&peer, rx->peer, rx->peer_len < sizeof(peer) ? rx->peer_len :
							      sizeof(peer));
	if (server_xfr_answer(w, zones, q, &peer.sa, false, &out) == 0 &&
	    out.len <= cap) {
		memcpy(resp, out.buf, out.len);
		len = out.len;
	}
	struct answer_result res = server_xfr_result(&out, len);
	server_count(&w->stats, tr, q, 0, &res);
	xfr_out_free(&out);
	return len;
}

/*
 * Whether the answer res to q (parsed with result prc) may be served again
 * from the packet cache to a query with the same octets after the ID: a
 * well-formed QUERY answered by answer_query() alone. Left out: signed
 * queries (the TSIG of a response covers its own time and MAC), AXFR and
 * IXFR (src/xfr's when a transfer policy is set), the EDNS EXPIRE option
 * (RFC 7314: its value counts down on a secondary), malformed messages
 * (rarely repeated: cheaper not to keep them) and those not answered.
 */
static bool cacheable(const struct dns_query *q, int prc,
		      const struct answer_result *res)
{
	return prc == 0 && res->len > 0 && q->opcode == DNS_OPCODE_QUERY &&
	       q->tsig_offset == 0 && !q->edns_expire &&
	       q->qtype != DNS_TYPE_AXFR && q->qtype != DNS_TYPE_IXFR;
}

size_t server_udp_answer(struct server_worker *w, const struct zone_set *zones,
			 enum server_transport tr,
			 const struct server_udp_rx *rx, uint8_t *resp,
			 size_t cap, union server_cmsg *ctl, size_t *ctl_len)
{
	*ctl_len = 0;
	if (rx->truncated) {
		/* Longer than SERVER_QUERY_MAX: not a query we serve, and
		 * its end is lost. */
		server_stat_inc(&w->stats.queries[tr]);
		server_stat_inc(&w->stats.dropped);
		return 0;
	}
	struct dns_query q;
	struct answer_result res;
	struct udp_dst dst = { 0 };
	/* Written before it is known whether there will be a reply: the
	 * destination is needed first, to pick the zones. */
	*ctl_len = reply_pktinfo(rx->control, rx->controllen, ctl, &dst);
	uint32_t view = ZONE_VIEW_ALL;
	if (w->nviews > 0 && dst.family != 0)
		view = server_view_of(w->views, w->nviews, dst.family,
				      dst.addr);
	const struct zone_set *served = zone_set_view(zones, view);
	struct server_cache_probe probe;
	if (w->cache != NULL) {
		struct server_cache_hit hit;
		size_t n = server_cache_lookup(w->cache, zones->generation,
					       view, rx->msg, rx->len, resp,
					       cap, &probe, &hit);
		if (n > 0) {
			server_stat_inc(&w->stats.cache_hits);
			server_count_msg(&w->stats, tr, true, hit.qtype, 0,
					 &hit.res);
			return n;
		}
		server_stat_inc(&w->stats.cache_misses);
	}
	int prc = dns_query_parse(rx->msg, rx->len, &q);
	if (prc == 0 && w->srv->conf.xfr != NULL && xfr_handles(&q))
		return udp_xfr(w, served, tr, &q, rx, resp, cap);
	if (prc == 0 && w->srv->conf.xfr != NULL && q.tsig_offset != 0) {
		server_signed_answer(w, served, &q, ANSWER_UDP, resp, cap,
				     &res);
	} else {
		answer_query(&w->answer, served, &q, prc, ANSWER_UDP, resp,
			     cap, &res);
		if (w->cache != NULL && cacheable(&q, prc, &res)) {
			struct server_cache_hit kept = { .res = res,
							 .qtype = q.qtype };
			server_cache_store(w->cache, &probe, resp, &kept);
		}
	}
	server_count(&w->stats, tr, &q, prc, &res);
	return res.len;
}

/* Answers the n messages received; returns how many replies are ready in
 * tx[0..]. Also re-arms the receive slots used for the next recvmmsg(). */
static unsigned answer_batch(struct server_worker *w, enum server_transport tr,
			     unsigned n)
{
	struct server_udp_batch *b = &w->batch;
	unsigned ready = 0;
	rcu_read_lock();
	const struct zone_set *zones = zone_snapshot_read(w->zones);
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *rh = &b->rx[i].msg_hdr;
		uint8_t *resp = b->tx_buf + (size_t)ready * b->tx_cap;
		if (i + 1 < n)
			__builtin_prefetch(b->rx_iov[i + 1].iov_base);
		struct server_udp_rx rx = {
			.msg = b->rx_iov[i].iov_base,
			.len = b->rx[i].msg_len,
			.truncated = (rh->msg_flags & MSG_TRUNC) != 0,
			.control = rh->msg_control,
			.controllen = rh->msg_controllen,
			.peer = &b->peer[i],
			.peer_len = rh->msg_namelen,
		};
		size_t ctl_len;
		/* The control message goes into the slot of the next reply,
		 * which this one becomes if there is one. */
		size_t len = server_udp_answer(w, zones, tr, &rx, resp,
					       b->tx_cap, &b->tx_ctl[ready],
					       &ctl_len);
		if (len > 0) {
			struct msghdr *th = &b->tx[ready].msg_hdr;
			th->msg_name = &b->peer[i];
			th->msg_namelen = rh->msg_namelen;
			th->msg_controllen = ctl_len;
			b->tx_iov[ready].iov_base = resp;
			b->tx_iov[ready].iov_len = len;
			ready++;
		}
		rh->msg_namelen = sizeof(b->peer[i]);
		rh->msg_controllen = sizeof(b->rx_ctl[i]);
	}
	rcu_read_unlock();
	return ready;
}

/* Sends tx[0..n); a reply the kernel refuses is skipped and counted. */
static void send_batch(struct server_worker *w, int fd, unsigned n)
{
	struct server_udp_batch *b = &w->batch;
	unsigned done = 0;
	while (done < n) {
		int sent = sendmmsg(fd, b->tx + done, n - done, 0);
		if (sent > 0) {
			done += (unsigned)sent;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			/* The socket's send queue is full: a UDP server
			 * drops rather than waits. */
			for (; done < n; done++)
				server_stat_inc(&w->stats.send_failed);
			return;
		}
		/* The first remaining reply failed alone (unreachable
		 * peer, firewall): the others may still go. */
		server_stat_inc(&w->stats.send_failed);
		done++;
	}
}

void server_udp_serve(struct server_worker *w, struct server_sock *s)
{
	struct server_udp_batch *b = &w->batch;
	enum server_transport tr = s->tag.transport;
	for (unsigned round = 0; round < SERVER_UDP_ROUNDS; round++) {
		int n = recvmmsg(s->fd, b->rx, b->size, 0, NULL);
		if (n <= 0)
			return;	/* EAGAIN: drained; errors: the next wakeup */
		unsigned ready = answer_batch(w, tr, (unsigned)n);
		if (ready > 0)
			send_batch(w, s->fd, ready);
		/* A short batch means the queue is empty: back to epoll
		 * rather than one more recvmmsg() that returns EAGAIN. */
		if ((unsigned)n < b->size)
			return;
	}
}
