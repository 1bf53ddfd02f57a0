/*
 * DNS over UDP (RFC 1035 §4.2.1) through one io_uring per worker, so that
 * receiving and sending cost the worker one system call per wakeup, not
 * one per step: on a virtual machine every entry into the kernel is dear,
 * and a server that waits in epoll_wait(), then calls recvmmsg() and
 * sendmmsg(), spends more time crossing into the kernel than answering.
 *
 * Each UDP socket has a multishot receive (IORING_OP_RECVMSG with
 * IORING_RECV_MULTISHOT) that takes its buffers from a ring of provided
 * buffers: datagrams arrive as completions without a call. Each is
 * answered through server_udp_answer() — the one path udp.c uses too, so
 * counters and views behave alike — into a reply slot of the worker, and
 * sent by an IORING_OP_SENDMSG request carrying the peer's address and an
 * IP_PKTINFO / IPV6_PKTINFO control message, so the reply leaves from the
 * address the query was sent to (ip(7), ipv6(7), RFC 3542 §6). The
 * receive buffer goes back to the ring as soon as the query is answered.
 * Then one io_uring_submit_and_wait() both submits every reply and sleeps
 * until the next completion.
 *
 * TCP and the stop event stay in the worker's epoll set (tcp.c). The ring
 * polls the epoll descriptor itself, so the same io_uring_enter() also
 * wakes for them; the worker then takes the events with a non-blocking
 * epoll_wait(). The poll is one-shot and armed again after every
 * epoll_wait(): arming checks the epoll set's ready list, so a connection
 * left readable (level-triggered, nothing new arrived) still wakes the
 * worker, which a multishot poll, woken only by new events, would miss.
 * TCP idle timeouts (RFC 7766 §6.2.3) bound the wait.
 *
 * The ring is created disabled by server_start() and enabled by the
 * worker's thread, the only one that submits to it (SINGLE_ISSUER); its
 * completion work runs only when that thread enters the kernel to wait
 * (DEFER_TASKRUN), which batches it and needs Linux 6.1.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/log.h"
#include "server/internal.h"

/* What a completion is about: the kind in the high half of user_data, a
 * socket or slot index in the low half. */
enum uring_op {
	URING_RECV = 1,		/* multishot receive on w->udp[index] */
	URING_SEND,		/* the reply in tx slot index */
	URING_EPOLL,		/* the worker's epoll set is readable */
};

#define URING_BGID 0		/* the one group of provided buffers */
#define URING_MIN_BUFS 16
#define URING_MAX_BUFS 4096

/*
 * A receive buffer holds struct io_uring_recvmsg_out, the peer's address
 * in URING_NAMELEN octets, the control messages in URING_CTLLEN, then the
 * datagram. The address room is rounded up to 8 so the control messages
 * that follow are aligned as struct cmsghdr must be.
 */
#define URING_NAMELEN ((sizeof(union server_addr) + 7) & ~(size_t)7)
#define URING_CTLLEN sizeof(union server_cmsg)
#define URING_HDRLEN (sizeof(struct io_uring_recvmsg_out) + URING_NAMELEN + \
		      URING_CTLLEN)
#define URING_BUFLEN ((URING_HDRLEN + SERVER_QUERY_MAX + SERVER_CACHELINE - \
		       1) & ~(size_t)(SERVER_CACHELINE - 1))

/* A reply in flight: what its SENDMSG request points to, which must stay
 * put until the request completes. */
struct uring_tx {
	struct msghdr msg;
	struct iovec iov;
	union server_addr peer;
	union server_cmsg ctl;
};

struct server_uring {
	struct io_uring ring;
	bool ring_ok;			/* ring set up: io_uring_queue_exit() */
	bool ring_fd_registered;	/* by the worker's thread */
	bool error_logged;		/* one receive error logged per worker */
	struct msghdr rx_msg;		/* what a receive fills in a buffer */

	struct io_uring_buf_ring *br;	/* the provided buffers' ring */
	unsigned nbufs;			/* a power of two */
	uint8_t *bufs;			/* nbufs * URING_BUFLEN */
	unsigned returned;		/* buffers given back, not yet seen */

	/* Reply slots: ntx in the ring, and slot ntx for a reply sent
	 * directly when every other is in flight. */
	unsigned ntx;
	size_t tx_cap;			/* octets per reply */
	struct uring_tx *tx;		/* ntx + 1 */
	uint8_t *tx_buf;		/* (ntx + 1) * tx_cap */
	uint32_t *tx_free;		/* stack of free slots */
	unsigned tx_nfree;

	unsigned queued_sends;		/* SENDMSG requests not yet submitted */
	unsigned nsocks;
	bool *rearm;			/* per socket: receive ended */
	unsigned epfd_index;		/* registered file index of the epoll fd */
};

static uint64_t op_data(enum uring_op op, unsigned index)
{
	return (uint64_t)op << 32 | index;
}

static unsigned pow2_at_least(unsigned n)
{
	unsigned p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

void server_uring_free(struct server_uring *u)
{
	if (u == NULL)
		return;
	/* Closing the ring cancels the receives and the poll; the kernel
	 * writes no buffer after that. */
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	free(u->br);
	free(u->bufs);
	free(u->tx);
	free(u->tx_buf);
	free(u->tx_free);
	free(u->rearm);
	free(u);
}

/* The ring's buffers: allocated, registered, every one handed to the
 * kernel. */
static int setup_buffers(struct server_uring *u)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t psize = page > 0 ? (size_t)page : 4096;
	size_t size = (u->nbufs * sizeof(struct io_uring_buf) + psize - 1) &
		      ~(psize - 1);
	u->br = aligned_alloc(psize, size);
	u->bufs = aligned_alloc(SERVER_CACHELINE, u->nbufs * URING_BUFLEN);
	if (u->br == NULL || u->bufs == NULL)
		return ANYDNS_ENOMEM;
	memset(u->br, 0, size);
	io_uring_buf_ring_init(u->br);
	struct io_uring_buf_reg reg = {
		.ring_addr = (uintptr_t)u->br,
		.ring_entries = u->nbufs,
		.bgid = URING_BGID,
	};
	int ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (ret != 0)
		return ret;
	int mask = io_uring_buf_ring_mask(u->nbufs);
	for (unsigned i = 0; i < u->nbufs; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * URING_BUFLEN,
				      URING_BUFLEN, (unsigned short)i, mask,
				      (int)i);
	io_uring_buf_ring_advance(u->br, (int)u->nbufs);
	return 0;
}

static int setup_slots(struct server_uring *u)
{
	size_t n = (size_t)u->ntx + 1;
	u->tx = calloc(n, sizeof(*u->tx));
	u->tx_buf = aligned_alloc(SERVER_CACHELINE, n * u->tx_cap);
	u->tx_free = calloc(u->ntx, sizeof(*u->tx_free));
	if (u->tx == NULL || u->tx_buf == NULL || u->tx_free == NULL)
		return ANYDNS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct uring_tx *t = &u->tx[i];
		t->msg.msg_name = &t->peer;
		t->msg.msg_iov = &t->iov;
		t->msg.msg_iovlen = 1;
		t->msg.msg_control = &t->ctl;
		t->iov.iov_base = u->tx_buf + i * u->tx_cap;
	}
	/* Pushed so that slot 0 is taken first and the few slots a light
	 * load needs stay in the cache. */
	for (unsigned i = 0; i < u->ntx; i++)
		u->tx_free[i] = u->ntx - 1 - i;
	u->tx_nfree = u->ntx;
	return 0;
}

int server_uring_new(struct server_worker *w, unsigned batch,
		     struct server_uring **out)
{
	struct server_uring *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return ANYDNS_ENOMEM;
	int ret = ANYDNS_ENOMEM;
	unsigned nbufs = pow2_at_least(2 * batch);
	u->nbufs = nbufs < URING_MIN_BUFS ? URING_MIN_BUFS :
		   nbufs > URING_MAX_BUFS ? URING_MAX_BUFS : nbufs;
	/* A pass over the completions answers at most one query per
	 * buffer while the replies of the pass before (at most as many)
	 * may not be seen free yet: twice as many slots never run out. */
	u->ntx = 2 * u->nbufs;
	u->tx_cap = (w->answer.udp_max_payload + SERVER_CACHELINE - 1) &
		    ~(size_t)(SERVER_CACHELINE - 1);
	u->nsocks = (unsigned)w->nsocks;
	u->rearm = calloc(w->nsocks, sizeof(*u->rearm));
	if (u->rearm == NULL)
		goto fail;

	/* Every completion must find room: a receive per buffer, a reply
	 * per slot, an end per socket, the poll. */
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER |
		  IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
		  IORING_SETUP_CQSIZE;
	p.cq_entries = pow2_at_least(u->nbufs + u->ntx + u->nsocks + 2);
	ret = io_uring_queue_init_params(pow2_at_least(u->nbufs + u->nsocks +
						       2), &u->ring, &p);
	if (ret != 0)
		goto fail;
	u->ring_ok = true;
	if (!(p.features & IORING_FEAT_EXT_ARG)) {
		ret = ANYDNS_EINVAL;	/* no wait with a timeout: before 5.11 */
		goto fail;
	}

	/* Registered descriptors spare a file lookup per request. */
	int *fds = malloc((w->nsocks + 1) * sizeof(*fds));
	if (fds == NULL) {
		ret = ANYDNS_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < w->nsocks; i++)
		fds[i] = w->udp[i].fd;
	fds[w->nsocks] = w->epfd;
	u->epfd_index = (unsigned)w->nsocks;
	ret = io_uring_register_files(&u->ring, fds, (unsigned)w->nsocks + 1);
	free(fds);
	if (ret == 0)
		ret = setup_buffers(u);
	if (ret == 0)
		ret = setup_slots(u);
	if (ret != 0)
		goto fail;

	u->rx_msg.msg_namelen = URING_NAMELEN;
	u->rx_msg.msg_controllen = URING_CTLLEN;
	*out = u;
	return 0;
fail:
	server_uring_free(u);
	return ret;
}

/* ---- requests ----------------------------------------------------------- */

/* An entry of the submission queue; when the queue is full, what it
 * holds is submitted first. NULL only if that fails too. */
static struct io_uring_sqe *get_sqe(struct server_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe != NULL)
		return sqe;
	/* The replies complete within the call: their completions are
	 * among those the current pass goes on to read. */
	io_uring_submit(&u->ring);
	u->queued_sends = 0;
	return io_uring_get_sqe(&u->ring);
}

static void arm_recv(struct server_uring *u, unsigned sock)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (sqe == NULL) {
		u->rearm[sock] = true;	/* tried again after the next wait */
		return;
	}
	io_uring_prep_recvmsg_multishot(sqe, (int)sock, &u->rx_msg, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = URING_BGID;
	io_uring_sqe_set_data64(sqe, op_data(URING_RECV, sock));
	u->rearm[sock] = false;
}

static bool arm_epoll(struct server_uring *u)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (sqe == NULL)
		return false;
	io_uring_prep_poll_add(sqe, (int)u->epfd_index, POLLIN);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, op_data(URING_EPOLL, 0));
	return true;
}

/* ---- completions -------------------------------------------------------- */

/* Answers the datagram received on socket sock into buf (len octets as
 * the kernel wrote them, header first) and queues the reply. */
static void serve_datagram(struct server_worker *w,
			   const struct zone_set *zones, unsigned sock,
			   uint8_t *buf, int len)
{
	struct server_uring *u = w->uring;
	struct io_uring_recvmsg_out *o =
		io_uring_recvmsg_validate(buf, len, &u->rx_msg);
	if (o == NULL)
		return;	/* the kernel always writes the header */
	uint8_t *name = io_uring_recvmsg_name(o);
	struct server_udp_rx rx = {
		.msg = io_uring_recvmsg_payload(o, &u->rx_msg),
		.len = io_uring_recvmsg_payload_length(o, len, &u->rx_msg),
		.truncated = (o->flags & MSG_TRUNC) != 0,
		.control = name + URING_NAMELEN,
		.controllen = o->controllen,
		.peer = name,
		.peer_len = o->namelen < URING_NAMELEN ? o->namelen :
						      URING_NAMELEN,
	};
	/* Every slot in flight (never expected, see server_uring_new()):
	 * the spare slot, sent at once. */
	bool direct = u->tx_nfree == 0;
	unsigned slot = direct ? u->ntx : u->tx_free[--u->tx_nfree];
	struct uring_tx *t = &u->tx[slot];
	size_t ctl_len;
	size_t n = server_udp_answer(w, zones, w->udp[sock].tag.transport,
				     &rx, t->iov.iov_base, u->tx_cap, &t->ctl,
				     &ctl_len);
	if (n == 0) {
		if (!direct)
			u->tx_free[u->tx_nfree++] = slot;
		return;
	}
	socklen_t namelen = o->namelen < sizeof(t->peer) ? o->namelen :
							   sizeof(t->peer);
	memcpy(&t->peer, name, namelen);
	t->msg.msg_namelen = namelen;
	t->msg.msg_controllen = ctl_len;
	t->iov.iov_len = n;

	struct io_uring_sqe *sqe = direct ? NULL : get_sqe(u);
	if (sqe == NULL) {
		/* A UDP server drops rather than waits, as sendmmsg() does
		 * on the other path. */
		if (sendmsg(w->udp[sock].fd, &t->msg, MSG_DONTWAIT) < 0)
			server_stat_inc(&w->stats.send_failed);
		if (!direct)
			u->tx_free[u->tx_nfree++] = slot;
		return;
	}
	/* MSG_DONTWAIT: a full socket buffer fails the request at once
	 * (counted as send_failed) instead of parking it, so every reply
	 * completes within the io_uring_enter() that submits it. */
	io_uring_prep_sendmsg(sqe, (int)sock, &t->msg, MSG_DONTWAIT);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, op_data(URING_SEND, slot));
	u->queued_sends++;
}

static void recv_done(struct server_worker *w, const struct zone_set *zones,
		      unsigned sock, const struct io_uring_cqe *cqe)
{
	struct server_uring *u = w->uring;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		u->rearm[sock] = true;
	if (cqe->res < 0) {
		/* -ENOBUFS: every buffer was taken; they are back once this
		 * pass has answered them, and the receive is armed again. */
		if (cqe->res != -ENOBUFS && !u->error_logged) {
			u->error_logged = true;
			log_warn("server: worker %u: UDP receive: %s", w->id,
				 anydns_strerror(cqe->res));
		}
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= u->nbufs)
		return;
	uint8_t *buf = u->bufs + (size_t)bid * URING_BUFLEN;
	serve_datagram(w, zones, sock, buf, cqe->res);
	io_uring_buf_ring_add(u->br, buf, URING_BUFLEN, (unsigned short)bid,
			      io_uring_buf_ring_mask(u->nbufs),
			      (int)u->returned++);
}

static void send_done(struct server_worker *w, unsigned slot,
		      const struct io_uring_cqe *cqe)
{
	struct server_uring *u = w->uring;
	if (cqe->res < 0)
		server_stat_inc(&w->stats.send_failed);
	if (slot < u->ntx)
		u->tx_free[u->tx_nfree++] = slot;
}

/*
 * Reads every completion there is: answers the datagrams under one RCU
 * read-side section, frees the slots of the replies sent, then gives the
 * buffers back and arms again the receives that ended. Returns true when
 * the epoll set became readable.
 */
static bool completions(struct server_worker *w)
{
	struct server_uring *u = w->uring;
	const struct zone_set *zones = NULL;
	bool epoll_ready = false;
	unsigned head, seen = 0;
	struct io_uring_cqe *cqe;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		unsigned index = (unsigned)data;
		seen++;
		switch ((enum uring_op)(data >> 32)) {
		case URING_RECV:
			if (index >= u->nsocks)
				break;
			if (zones == NULL) {
				rcu_read_lock();
				zones = zone_snapshot_read(w->zones);
			}
			recv_done(w, zones, index, cqe);
			break;
		case URING_SEND:
			send_done(w, index, cqe);
			break;
		case URING_EPOLL:
			epoll_ready = true;
			break;
		}
	}
	io_uring_cq_advance(&u->ring, seen);
	if (zones != NULL)
		rcu_read_unlock();
	if (u->returned > 0) {
		io_uring_buf_ring_advance(u->br, (int)u->returned);
		u->returned = 0;
	}
	for (unsigned i = 0; i < u->nsocks; i++)
		if (u->rearm[i])
			arm_recv(u, i);
	return epoll_ready;
}

/* ---- the loop ----------------------------------------------------------- */

/*
 * Submits what is queued and waits until something more than the replies
 * just submitted has completed, or timeout_ms (-1: no limit) passed. The
 * replies complete within the call (MSG_DONTWAIT), so asking for one
 * completion more than them is asking for the next datagram, poll or
 * reply failure; a wait for just one would return at once for a reply.
 */
static int submit_and_wait(struct server_uring *u, int timeout_ms)
{
	unsigned want = u->queued_sends + 1;
	u->queued_sends = 0;
	if (timeout_ms < 0)
		return io_uring_submit_and_wait(&u->ring, want);
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	return io_uring_submit_and_wait_timeout(&u->ring, &cqe, want, &ts,
						NULL);
}

/* io_uring_enable_rings() is declared by liburing 2.3 but not exported
 * by Debian's library: the registration it stands for. On this thread,
 * which thereby becomes the ring's single issuer. */
static int enable_ring(struct server_uring *u)
{
	return io_uring_register((unsigned)u->ring.ring_fd,
				 IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

bool server_uring_loop(struct server_worker *w)
{
	struct server_uring *u = w->uring;
	int ret = enable_ring(u);
	if (ret != 0) {
		log_err("server: worker %u: cannot enable io_uring: %s", w->id,
			anydns_strerror(ret));
		return false;
	}
	/* Spares a descriptor lookup in every io_uring_enter(). */
	u->ring_fd_registered = io_uring_register_ring_fd(&u->ring) == 1;
	for (unsigned i = 0; i < u->nsocks; i++)
		arm_recv(u, i);
	bool epoll_armed = arm_epoll(u);
	int timeout = -1;
	for (;;) {
		ret = submit_and_wait(u, timeout);
		if (ret < 0 && ret != -EINTR && ret != -ETIME &&
		    ret != -EAGAIN && ret != -EBUSY) {
			log_err("server: worker %u: io_uring_enter: %s", w->id,
				anydns_strerror(ret));
			break;
		}
		w->now = server_now_ms();
		if (completions(w) || !epoll_armed) {
			struct epoll_event ev[SERVER_EPOLL_EVENTS];
			int n = epoll_wait(w->epfd, ev, SERVER_EPOLL_EVENTS, 0);
			if (n < 0 && errno != EINTR) {
				log_err("server: worker %u: epoll_wait: %s",
					w->id, anydns_strerror(-errno));
				break;
			}
			if (!server_worker_events(w, ev, n > 0 ? n : 0))
				break;
			epoll_armed = arm_epoll(u);
		}
		timeout = server_tcp_expire(w);
		if (!epoll_armed && (timeout < 0 || timeout > 10))
			timeout = 10;	/* look at the epoll set soon anyway */
	}
	if (u->ring_fd_registered) {
		io_uring_unregister_ring_fd(&u->ring);
		u->ring_fd_registered = false;
	}
	return true;
}
