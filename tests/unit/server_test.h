/*
 * What the server tests (tests/unit/test_server_*.c) share, as static
 * inline functions because every .c file beside the tests is linked into
 * every test: a private network namespace when the test may make one (so
 * that wildcard binds and extra loopback addresses stay inside it), a free
 * port, the zone of tests/unit/data/server/ published through a snapshot,
 * a server on 127.0.0.1 and ::1, and small DNS clients over UDP and TCP
 * (RFC 1035 §4.2.2 framing) with timeouts so that a failing test ends.
 * The tests that start servers run once per UDP backend (recvmmsg, then
 * io_uring): st_udp_io_pick().
 */
#ifndef ANYDNS_TESTS_UNIT_SERVER_TEST_H
#define ANYDNS_TESTS_UNIT_SERVER_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "server/server.h"

#define ST_DATA "tests/unit/data/server/"
#define ST_WAIT_MS 3000		/* longest wait for anything expected */
#define ST_V6_EXTRA "fd00::53"	/* added to lo in the private namespace */

static inline uint64_t st_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void st_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/*
 * Moves the process into a network namespace of its own with lo up and
 * ST_V6_EXTRA on it. Must run before any thread starts. Returns false when
 * not permitted; the tests then use the host's loopback and skip what needs
 * the namespace.
 */
static inline bool st_enter_netns(void)
{
	if (unshare(CLONE_NEWNET) != 0 &&
	    unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
		return false;
	bool ok = false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || fd6 < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		goto out;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		goto out;
	/* struct in6_ifreq of linux/ipv6.h, which clashes with glibc's. */
	struct {
		struct in6_addr addr;
		uint32_t prefixlen;
		int ifindex;
	} req;
	memset(&req, 0, sizeof(req));
	inet_pton(AF_INET6, ST_V6_EXTRA, &req.addr);
	req.prefixlen = 128;
	req.ifindex = (int)if_nametoindex("lo");
	ok = ioctl(fd6, SIOCSIFADDR, &req) == 0;
out:
	if (fd >= 0)
		close(fd);
	if (fd6 >= 0)
		close(fd6);
	return ok;
}

static inline int st_addr(struct sockaddr_storage *ss, const char *ip,
			  uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

static inline socklen_t st_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					  sizeof(struct sockaddr_in6);
}

/* A port free for UDP and TCP on 127.0.0.1 and ::1 (checked without
 * SO_REUSEPORT, so no socket of another program holds it). 0 if none. */
static inline uint16_t st_free_port(void)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		int fds[4] = { -1, -1, -1, -1 };
		static const char *const ips[4] = { "127.0.0.1", "127.0.0.1",
						    "::1", "::1" };
		static const int types[4] = { SOCK_STREAM, SOCK_DGRAM,
					      SOCK_STREAM, SOCK_DGRAM };
		uint16_t port = 0;
		bool ok = true;
		for (int i = 0; ok && i < 4; i++) {
			struct sockaddr_storage ss;
			st_addr(&ss, ips[i], port);
			fds[i] = socket(ss.ss_family, types[i] | SOCK_CLOEXEC, 0);
			if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&ss,
					       st_addr_len(&ss)) != 0) {
				ok = false;
				break;
			}
			if (i == 0) {
				socklen_t len = sizeof(ss);
				getsockname(fds[0], (struct sockaddr *)&ss, &len);
				port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			}
		}
		for (int i = 0; i < 4; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (ok)
			return port;
	}
	return 0;
}

/* ---- the UDP backends -------------------------------------------------- */

/* The backend of the servers st_env_init() configures in this run. */
static enum server_udp_io st_udp_io = SERVER_UDP_IO_MMSG;

#define ST_UDP_IO_RUNS 2

/* Whether this kernel gives a process the io_uring the server asks for
 * (Linux 6.1 flags; not turned off by sysctl or seccomp). */
static inline bool st_uring_available(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	long fd = syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		return false;
	close((int)fd);
	return true;
}

/*
 * Sets the backend of run i (0: recvmmsg/sendmmsg, 1: io_uring) and
 * returns its name for the test group, or NULL when that run is left
 * out: ANYDNS_TEST_UDP_IO=mmsg or =uring keeps only that one, and the
 * io_uring run needs a kernel that allows it (a line then says so).
 */
static inline const char *st_udp_io_pick(int i)
{
	static const char *const names[ST_UDP_IO_RUNS] = { "mmsg", "uring" };
	static const enum server_udp_io modes[ST_UDP_IO_RUNS] = {
		SERVER_UDP_IO_MMSG, SERVER_UDP_IO_URING,
	};
	const char *only = getenv("ANYDNS_TEST_UDP_IO");
	if (only != NULL && only[0] != '\0' && strcmp(only, names[i]) != 0)
		return NULL;
	if (modes[i] == SERVER_UDP_IO_URING && !st_uring_available()) {
		printf("[ SKIPPED  ] every test with udp-io uring: io_uring "
		       "is not available here\n");
		return NULL;
	}
	st_udp_io = modes[i];
	printf("[ UDP I/O  ] %s\n", names[i]);
	fflush(stdout);
	return names[i];
}

/* ---- the served zone and the server ------------------------------------ */

struct st_env {
	struct zone_snapshot snap;
	struct server_conf conf;
	struct sockaddr_storage listen[4];
	const char *ips[4];
	size_t nips;
	uint16_t port;
	struct server *srv;
};

static inline int st_load_zone(const char *file, struct zone **out)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	size_t len;
	char err[256];
	if (dns_name_from_str(origin, &len, "example.com.", NULL) != 0)
		return -1;
	int ret = zone_load_file(origin, file, out, err, sizeof(err));
	if (ret != 0)
		fprintf(stderr, "%s: %s\n", file, err);
	return ret;
}

/* Publishes the zone of file as the only zone of e's snapshot. */
static inline int st_publish(struct st_env *e, const char *file)
{
	struct zone *z;
	struct zone_set *set;
	if (st_load_zone(file, &z) != 0)
		return -1;
	if (zone_set_new(&z, 1, &set) != 0) {
		zone_free(z);
		return -1;
	}
	zone_snapshot_publish(&e->snap, set);
	return 0;
}

/*
 * Views for the anycast-network tests: the zone of file published with
 * view 0 holding no zone and view 1 holding it, and the server told that
 * 127.0.0.2 and fd00::/8 (ST_V6_EXTRA) get view 0, 127.0.0.0/8 and ::1
 * view 1; any other address gets the whole set.
 */
static inline int st_publish_views(struct st_env *e, const char *file,
				   struct server_view_addr *va)
{
	static const char *const nets[4][2] = {
		{ "127.0.0.0", "8" }, { "127.0.0.2", "32" },
		{ "fd00::", "8" }, { "::1", "128" },
	};
	static const uint32_t view_of[4] = { 1, 0, 0, 1 };
	struct zone *z;
	struct zone_set *set;
	uint8_t other[DNS_NAME_MAXLEN], apex[DNS_NAME_MAXLEN];
	size_t len;
	if (st_load_zone(file, &z) != 0)
		return -1;
	if (zone_set_new(&z, 1, &set) != 0) {
		zone_free(z);
		return -1;
	}
	dns_name_from_str(other, &len, "other.example.", NULL);
	dns_name_from_str(apex, &len, "example.com.", NULL);
	const uint8_t *v0[] = { other }, *v1[] = { apex };
	struct zone_view_def defs[] = { { v0, 1 }, { v1, 1 } };
	if (zone_set_views(set, defs, 2) != 0) {
		zone_set_free(set);
		return -1;
	}
	zone_snapshot_publish(&e->snap, set);
	for (int i = 0; i < 4; i++) {
		memset(&va[i], 0, sizeof(va[i]));
		va[i].family = strchr(nets[i][0], ':') != NULL ? AF_INET6 : AF_INET;
		inet_pton(va[i].family, nets[i][0], va[i].addr);
		va[i].prefix_len = (uint8_t)atoi(nets[i][1]);
		va[i].view = view_of[i];
	}
	e->conf.views = va;
	e->conf.view_count = 4;
	return 0;
}

/* The zone loaded and a configuration for 127.0.0.1 and ::1 with two
 * workers; the test adjusts e->conf and then calls st_env_start(). */
static inline int st_env_init(struct st_env *e)
{
	memset(e, 0, sizeof(*e));
	if (zone_snapshot_init(&e->snap) != 0 ||
	    st_publish(e, ST_DATA "example.zone") != 0)
		return -1;
	server_conf_init(&e->conf);
	e->conf.udp_io = st_udp_io;
	e->conf.workers = 2;
	e->conf.zones = &e->snap;
	e->ips[0] = "127.0.0.1";
	e->ips[1] = "::1";
	e->nips = 2;
	return 0;
}

static inline int st_env_start(struct st_env *e)
{
	int ret = -1;
	for (int attempt = 0; attempt < 10; attempt++) {
		e->port = st_free_port();
		if (e->port == 0)
			return -1;
		for (size_t i = 0; i < e->nips; i++)
			st_addr(&e->listen[i], e->ips[i], e->port);
		e->conf.listen = e->listen;
		e->conf.listen_count = e->nips;
		ret = server_start(&e->conf, &e->srv);
		if (ret != -EADDRINUSE)
			break;
	}
	return ret;
}

static inline void st_env_fini(struct st_env *e)
{
	server_stop(e->srv);
	e->srv = NULL;
	zone_snapshot_destroy(&e->snap);
}

/* The response the engine gives to query over transport, for comparing
 * with what the server sent. The test thread is the only publisher, so it
 * reads the snapshot without RCU. */
static inline size_t st_expected(const struct st_env *e, const uint8_t *query,
				 size_t len, enum answer_transport transport,
				 uint8_t *out, size_t cap)
{
	struct answer_result res;
	struct answer_conf conf = e->conf.answer;
	conf.tcp_keepalive = (uint16_t)(e->conf.tcp_idle_timeout_ms / 100);
	answer_packet(&conf, e->snap.current, query, len, transport, out, cap,
		      &res);
	return res.len;
}

/* Waits until the server's counters satisfy cond (an expression over st),
 * for at most ST_WAIT_MS. */
#define ST_WAIT_STATS(srv, st, cond)                                         \
	do {                                                                 \
		uint64_t until_ = st_now_ms() + ST_WAIT_MS;                  \
		for (;;) {                                                   \
			server_stats((srv), &(st));                          \
			if ((cond) || st_now_ms() > until_)                  \
				break;                                       \
			st_sleep_ms(2);                                      \
		}                                                            \
	} while (0)

/* ---- messages ---------------------------------------------------------- */

/* A query for name/qtype IN with ID id; EDNS with a 1232-octet payload if
 * edns, plus an empty edns-tcp-keepalive option if keepalive. */
static inline size_t st_query(uint8_t *buf, uint16_t id, const char *name,
			      uint16_t qtype, bool edns, bool keepalive)
{
	size_t nlen;
	memset(buf, 0, DNS_HEADER_LEN);
	wire_put_u16(buf, id);
	wire_put_u16(buf + 4, 1);
	wire_put_u16(buf + 10, edns ? 1 : 0);
	if (dns_name_from_str(buf + DNS_HEADER_LEN, &nlen, name, NULL) != 0)
		return 0;
	uint8_t *p = buf + DNS_HEADER_LEN + nlen;
	wire_put_u16(p, qtype);
	wire_put_u16(p + 2, DNS_CLASS_IN);
	p += 4;
	if (edns) {
		*p++ = 0;
		wire_put_u16(p, DNS_TYPE_OPT);
		wire_put_u16(p + 2, 1232);
		wire_put_u32(p + 4, 0);
		wire_put_u16(p + 8, keepalive ? 4 : 0);
		p += 10;
		if (keepalive) {
			wire_put_u16(p, DNS_EDNS_TCP_KEEPALIVE);
			wire_put_u16(p + 2, 0);
			p += 4;
		}
	}
	return (size_t)(p - buf);
}

static inline uint16_t st_id(const uint8_t *msg)
{
	return wire_get_u16(msg);
}

static inline uint16_t st_flags(const uint8_t *msg)
{
	return wire_get_u16(msg + 2);
}

static inline uint16_t st_count(const uint8_t *msg, enum dns_section sec)
{
	return wire_get_u16(msg + 4 + 2 * sec);
}

/* ---- clients ----------------------------------------------------------- */

/* A UDP socket connected to ip#port: it receives only what comes from
 * exactly that address, which is how resolvers check a reply's source. */
static inline int st_udp_client(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	if (st_addr(&ss, ip, port) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, st_addr_len(&ss)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Waits up to timeout_ms for fd to be readable. */
static inline bool st_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, timeout_ms) == 1;
}

/* One datagram, or -1 when none comes in time. */
static inline ssize_t st_udp_recv(int fd, uint8_t *buf, size_t cap,
				  int timeout_ms)
{
	if (!st_readable(fd, timeout_ms))
		return -1;
	return recv(fd, buf, cap, 0);
}

/* The same from the local address src (port chosen by the kernel). */
static inline int st_udp_client_from(const char *src, const char *ip,
				     uint16_t port)
{
	struct sockaddr_storage from, to;
	if (st_addr(&from, src, 0) != 0 || st_addr(&to, ip, port) != 0)
		return -1;
	int fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    (bind(fd, (struct sockaddr *)&from, st_addr_len(&from)) != 0 ||
	     connect(fd, (struct sockaddr *)&to, st_addr_len(&to)) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static inline int st_tcp_client(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	if (st_addr(&ss, ip, port) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, st_addr_len(&ss)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static inline int st_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Appends msg with its 2-octet length to buf; returns the new length. */
static inline size_t st_frame(uint8_t *buf, size_t off, const uint8_t *msg,
			      size_t len)
{
	wire_put_u16(buf + off, (uint16_t)len);
	memcpy(buf + off + 2, msg, len);
	return off + 2 + len;
}

/* Reads exactly n octets: n, 0 at a clean end of stream before any, -1 on
 * error, timeout or an end in the middle. */
static inline ssize_t st_read_full(int fd, uint8_t *buf, size_t n,
				   int timeout_ms)
{
	size_t have = 0;
	while (have < n) {
		if (!st_readable(fd, timeout_ms))
			return -1;
		ssize_t r = recv(fd, buf + have, n - have, 0);
		if (r == 0)
			return have == 0 ? 0 : -1;
		if (r < 0)
			return -1;
		have += (size_t)r;
	}
	return (ssize_t)n;
}

/* One framed message: its length, 0 at the end of the stream, -1 else. */
static inline ssize_t st_tcp_recv(int fd, uint8_t *buf, size_t cap,
				  int timeout_ms)
{
	uint8_t len[2];
	ssize_t r = st_read_full(fd, len, 2, timeout_ms);
	if (r <= 0)
		return r;
	size_t mlen = wire_get_u16(len);
	if (mlen == 0 || mlen > cap)
		return -1;
	return st_read_full(fd, buf, mlen, timeout_ms) == (ssize_t)mlen ?
		(ssize_t)mlen : -1;
}

/* True when the server ends the stream (FIN or RST) within timeout_ms,
 * with nothing else to read before. */
static inline bool st_tcp_closed(int fd, int timeout_ms)
{
	if (!st_readable(fd, timeout_ms))
		return false;
	uint8_t b;
	ssize_t r = recv(fd, &b, 1, 0);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* Common main(): seed, quiet logs, private namespace. */
static inline bool st_main_init(void)
{
	hash_seed_init();
	log_set_level(LOG_LVL_WARN);
	return st_enter_netns();
}

#endif
