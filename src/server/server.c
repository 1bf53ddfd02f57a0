/*
 * The server's lifecycle and the workers' event loop. server_start() checks
 * the configuration, binds every socket of every worker before any thread
 * runs (so the caller can drop privileges right after), then starts one
 * thread per worker. A worker waits in epoll_wait() on its UDP sockets,
 * its TCP listening sockets, its connections and the stop eventfd, with a
 * timeout set by the nearest TCP idle deadline (RFC 7766 §6.2.3); with
 * io_uring (udp_uring.c) it waits in io_uring_enter() instead, and the
 * epoll set, without the UDP sockets, is one of the things the ring
 * watches. Stopping makes the eventfd readable for every worker at once;
 * no signal is used, and workers block all signals so the daemon's thread
 * gets them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/log.h"
#include "server/internal.h"

void server_conf_init(struct server_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->udp_batch = 64;
	conf->udp_rcvbuf = 4u << 20;
	conf->udp_io = SERVER_UDP_IO_AUTO;
	conf->tcp_max_conns = 4096;
	conf->tcp_max_per_client = 64;
	conf->tcp_idle_timeout_ms = 10000;
	conf->tcp_keepalive_ms = SERVER_KEEPALIVE_IDLE;
	conf->packet_cache = 16u << 20;
	answer_conf_init(&conf->answer);
}

static bool listen_addr_valid(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port != 0;
	if (a->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)a)->sin6_port != 0;
	return false;
}

static int conf_check(const struct server_conf *conf)
{
	const char *why = NULL;
	if (conf->listen == NULL || conf->listen_count == 0)
		why = "no listen address";
	else if (conf->zones == NULL)
		why = "no zone snapshot";
	else if (conf->workers > SERVER_MAX_WORKERS)
		why = "too many workers";
	else if (conf->udp_batch == 0 || conf->udp_batch > SERVER_MAX_BATCH)
		why = "UDP batch size out of range";
	else if (conf->udp_io != SERVER_UDP_IO_AUTO &&
		 conf->udp_io != SERVER_UDP_IO_URING &&
		 conf->udp_io != SERVER_UDP_IO_MMSG)
		why = "unknown UDP I/O method";
	else if (conf->tcp_max_conns == 0)
		why = "TCP connection limit is 0";
	else if (conf->tcp_idle_timeout_ms == 0)
		why = "TCP idle timeout is 0";
	else if (conf->tcp_keepalive_ms != SERVER_KEEPALIVE_IDLE &&
		 conf->tcp_keepalive_ms > conf->tcp_idle_timeout_ms)
		why = "edns-tcp-keepalive above the idle timeout";
	else if (conf->answer.udp_max_payload < DNS_UDP_MIN_PAYLOAD)
		why = "UDP payload below 512";
	else if (conf->packet_cache != 0 &&
		 conf->packet_cache < SERVER_CACHE_MIN)
		why = "packet cache below 64 KiB";
	for (size_t i = 0; why == NULL && i < conf->listen_count; i++)
		if (!listen_addr_valid(&conf->listen[i]))
			why = "listen address not IPv4/IPv6 with a port";
	if (why == NULL && conf->view_count > SERVER_MAX_VIEW_ADDRS)
		why = "too many view addresses";
	for (size_t i = 0; why == NULL && i < conf->view_count; i++) {
		const struct server_view_addr *v = &conf->views[i];
		if ((v->family != AF_INET && v->family != AF_INET6) ||
		    v->prefix_len > (v->family == AF_INET ? 32 : 128))
			why = "view address not an IPv4/IPv6 prefix";
	}
	if (why == NULL)
		return 0;
	log_err("server: invalid configuration: %s", why);
	return ANYDNS_EINVAL;
}

/* The keepalive to advertise, in the 100 ms units of RFC 7828 §3.1. */
static uint16_t keepalive_units(const struct server_conf *conf)
{
	uint32_t ms = conf->tcp_keepalive_ms == SERVER_KEEPALIVE_IDLE ?
		conf->tcp_idle_timeout_ms : conf->tcp_keepalive_ms;
	uint32_t units = ms / 100;
	return units > UINT16_MAX ? UINT16_MAX : (uint16_t)units;
}

/* ---- workers ------------------------------------------------------------ */

static int epoll_add(int epfd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

static void worker_free(struct server_worker *w)
{
	if (w == NULL)
		return;
	server_tcp_fini(w);
	server_cache_free(w->cache);
	/* The ring first: it holds the UDP sockets and the epoll set too. */
	server_uring_free(w->uring);
	for (size_t i = 0; i < w->nsocks; i++) {
		if (w->udp[i].fd >= 0)
			close(w->udp[i].fd);
		if (w->tcp[i].fd >= 0)
			close(w->tcp[i].fd);
	}
	free(w->udp);
	free(w->tcp);
	server_udp_batch_free(&w->batch);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w);
}

/* Gives w an io_uring for its UDP sockets when the configuration wants
 * one and the kernel allows it; else w keeps to recvmmsg/sendmmsg. */
static int worker_udp_io(struct server_worker *w)
{
	const struct server_conf *conf = &w->srv->conf;
	if (conf->udp_io == SERVER_UDP_IO_MMSG)
		return 0;
	int ret = server_uring_new(w, conf->udp_batch, &w->uring);
	if (ret == 0)
		return 0;
	if (conf->udp_io == SERVER_UDP_IO_URING) {
		log_err("server: worker %u: cannot set up io_uring: %s", w->id,
			anydns_strerror(ret));
		return ret;
	}
	/* Said once, unless the workers end up serving UDP differently. */
	if (w->id == 0 || w->srv->workers[0]->uring != NULL)
		log_notice("server: worker %u: io_uring not available (%s), "
			   "UDP uses recvmmsg/sendmmsg", w->id,
			   anydns_strerror(ret));
	return 0;
}

/* Adds w's UDP sockets to its epoll set, for the recvmmsg path. */
static int worker_epoll_udp(struct server_worker *w)
{
	int ret = 0;
	if (w->batch.size == 0)
		ret = server_udp_batch_init(&w->batch, w->srv->conf.udp_batch,
					    w->srv->conf.answer.udp_max_payload);
	for (size_t i = 0; ret == 0 && i < w->nsocks; i++)
		ret = epoll_add(w->epfd, w->udp[i].fd, &w->udp[i]);
	return ret;
}

/* Creates worker id with its epoll set and every socket bound. */
static int worker_new(struct server *srv, unsigned id,
		      struct server_worker **out)
{
	const struct server_conf *conf = &srv->conf;
	struct server_worker *w = aligned_alloc(SERVER_CACHELINE, sizeof(*w));
	if (w == NULL)
		return ANYDNS_ENOMEM;
	memset(w, 0, sizeof(*w));
	w->srv = srv;
	w->id = id;
	w->epfd = -1;
	w->spare_fd = -1;
	w->zones = conf->zones;
	w->views = srv->views;
	w->nviews = conf->view_count;
	w->answer = conf->answer;
	w->answer.tcp_keepalive = keepalive_units(conf);
	w->idle_ms = conf->tcp_idle_timeout_ms;
	w->max_queries = conf->tcp_max_queries;
	w->stop_tag.kind = SERVER_EV_STOP;

	int ret = ANYDNS_ENOMEM;
	size_t n = conf->listen_count;
	w->udp = malloc(n * sizeof(*w->udp));
	w->tcp = malloc(n * sizeof(*w->tcp));
	if (w->udp == NULL || w->tcp == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++)
		w->udp[i].fd = w->tcp[i].fd = -1;
	w->nsocks = n;

	ret = server_tcp_init(w);
	if (ret == 0 && conf->packet_cache > 0)
		ret = server_cache_new(conf->packet_cache, &w->cache);
	if (ret != 0)
		goto fail;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = epoll_add(w->epfd, srv->stop_fd, &w->stop_tag);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		const struct sockaddr_storage *a = &srv->listen[i];
		bool v4 = a->ss_family == AF_INET;
		w->udp[i].tag.kind = SERVER_EV_UDP;
		w->udp[i].tag.transport = v4 ? SERVER_UDP4 : SERVER_UDP6;
		w->tcp[i].tag.kind = SERVER_EV_LISTEN;
		w->tcp[i].tag.transport = v4 ? SERVER_TCP4 : SERVER_TCP6;
		ret = server_socket_open(conf, a, SOCK_DGRAM, &w->udp[i].fd);
		if (ret == 0)
			ret = server_socket_open(conf, a, SOCK_STREAM,
						 &w->tcp[i].fd);
		if (ret == 0)
			ret = epoll_add(w->epfd, w->tcp[i].fd, &w->tcp[i]);
	}
	/* The ring watches the UDP sockets itself: they stay out of the
	 * epoll set, which would wake it for every datagram. */
	if (ret == 0)
		ret = worker_udp_io(w);
	if (ret == 0 && w->uring == NULL)
		ret = worker_epoll_udp(w);
	if (ret != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	worker_free(w);
	return ret;
}

bool server_worker_events(struct server_worker *w,
			  const struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		struct server_ev_tag *tag = ev[i].data.ptr;
		switch (tag->kind) {
		case SERVER_EV_STOP:
			return false;
		case SERVER_EV_UDP:
			server_udp_serve(w, (struct server_sock *)tag);
			break;
		case SERVER_EV_LISTEN:
			server_tcp_accept(w, (struct server_sock *)tag);
			break;
		case SERVER_EV_CONN:
			server_tcp_event(w, (struct server_conn *)tag);
			break;
		}
	}
	return true;
}

void server_worker_epoll_loop(struct server_worker *w)
{
	struct epoll_event ev[SERVER_EPOLL_EVENTS];
	int timeout = -1;
	for (;;) {
		int n = epoll_wait(w->epfd, ev, SERVER_EPOLL_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("server: worker %u: epoll_wait: %s", w->id,
				anydns_strerror(-errno));
			return;
		}
		w->now = server_now_ms();
		if (!server_worker_events(w, ev, n))
			return;
		timeout = server_tcp_expire(w);
	}
}

static void *worker_main(void *arg)
{
	struct server_worker *w = arg;
	rcu_register_thread();
	w->now = server_now_ms();
	if (w->uring == NULL) {
		server_worker_epoll_loop(w);
	} else if (!server_uring_loop(w)) {
		/* Serving UDP by epoll after all beats not serving it. */
		int ret = worker_epoll_udp(w);
		if (ret != 0)
			log_err("server: worker %u: cannot serve UDP: %s",
				w->id, anydns_strerror(ret));
		server_worker_epoll_loop(w);
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- the server --------------------------------------------------------- */

static void server_free(struct server *srv)
{
	if (srv->workers != NULL) {
		for (unsigned i = 0; i < srv->nworkers; i++)
			worker_free(srv->workers[i]);
		free(srv->workers);
	}
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	free(srv->client_count);
	free(srv->listen);
	free(srv->views);
	free(srv);
}

/* Wakes every worker and waits for those started. */
static void server_join(struct server *srv)
{
	uint64_t one = 1;
	if (write(srv->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_err("server: cannot wake the workers: %s",
			anydns_strerror(-errno));
	for (unsigned i = 0; i < srv->nworkers; i++) {
		struct server_worker *w = srv->workers[i];
		if (w != NULL && w->started) {
			pthread_join(w->thread, NULL);
			w->started = false;
		}
	}
}

/* Warns when the descriptor limit is below what the limits need: accept()
 * would then fail with EMFILE before tcp_max_conns is reached. */
static void check_nofile(const struct server *srv)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	rlim_t need = (rlim_t)srv->nworkers * (2 * srv->conf.listen_count + 2) +
		      srv->conf.tcp_max_conns + 64;
	if (rl.rlim_cur < need)
		log_warn("server: RLIMIT_NOFILE %llu is below the %llu "
			 "descriptors the TCP limit may need",
			 (unsigned long long)rl.rlim_cur,
			 (unsigned long long)need);
}

static int start_threads(struct server *srv)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int ret = 0;
	for (unsigned i = 0; i < srv->nworkers; i++) {
		struct server_worker *w = srv->workers[i];
		int err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err != 0) {
			log_err("server: cannot start worker %u: %s", i,
				anydns_strerror(-err));
			ret = -err;
			break;
		}
		w->started = true;
		char name[32];	/* the kernel keeps 15 characters */
		snprintf(name, sizeof(name), "anydns-dns%u", i);
		name[15] = '\0';
		pthread_setname_np(w->thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int server_start(const struct server_conf *conf, struct server **out)
{
	int ret = conf_check(conf);
	if (ret != 0)
		return ret;
	struct server *srv = aligned_alloc(SERVER_CACHELINE, sizeof(*srv));
	if (srv == NULL)
		return ANYDNS_ENOMEM;
	memset(srv, 0, sizeof(*srv));
	atomic_init(&srv->tcp_open, 0);
	srv->stop_fd = -1;
	srv->conf = *conf;

	ret = ANYDNS_ENOMEM;
	srv->listen = malloc(conf->listen_count * sizeof(*srv->listen));
	srv->client_count = calloc(SERVER_CLIENT_SLOTS,
				   sizeof(*srv->client_count));
	if (srv->listen == NULL || srv->client_count == NULL)
		goto fail;
	memcpy(srv->listen, conf->listen,
	       conf->listen_count * sizeof(*srv->listen));
	srv->conf.listen = srv->listen;
	if (conf->view_count > 0) {
		srv->views = malloc(conf->view_count * sizeof(*srv->views));
		if (srv->views == NULL)
			goto fail;
		memcpy(srv->views, conf->views,
		       conf->view_count * sizeof(*srv->views));
	}
	srv->conf.views = srv->views;

	srv->nworkers = conf->workers;
	if (srv->nworkers == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		srv->nworkers = cpus < 1 ? 1 : cpus > SERVER_MAX_WORKERS ?
			SERVER_MAX_WORKERS : (unsigned)cpus;
	}
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
	if (srv->workers == NULL)
		goto fail;
	for (unsigned i = 0; i < srv->nworkers; i++) {
		ret = worker_new(srv, i, &srv->workers[i]);
		if (ret != 0)
			goto fail;
	}
	check_nofile(srv);

	ret = start_threads(srv);
	if (ret != 0) {
		server_join(srv);
		goto fail;
	}
	log_info("server: %u workers on %zu addresses, UDP by %s",
		 srv->nworkers, conf->listen_count,
		 srv->workers[0]->uring != NULL ? "io_uring" :
						  "recvmmsg/sendmmsg");
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return ret;
}

void server_stop(struct server *srv)
{
	if (srv == NULL)
		return;
	server_join(srv);
	server_free(srv);
}

unsigned server_workers(const struct server *srv)
{
	return srv->nworkers;
}
