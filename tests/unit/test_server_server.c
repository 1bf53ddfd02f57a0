/*
 * Unit tests for src/server/server.c: configuration checks and defaults,
 * errors that leave nothing open, one worker per CPU, a prompt stop with
 * connections open, a new zone set published while the server runs (RCU),
 * counters that add up to the traffic sent over all four transports, and
 * the choice of UDP backend: an io_uring per worker when asked for, and
 * recvmmsg when the kernel refuses io_uring (a seccomp filter stands in
 * for an old kernel) unless io_uring was required.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "server_test.h"

static int setup(void **state)
{
	struct st_env *e = malloc(sizeof(*e));
	if (e == NULL || st_env_init(e) != 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct st_env *e = *state;
	st_env_fini(e);
	free(e);
	return 0;
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* The io_uring instances this process has open. */
static int open_rings(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char path[300], target[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, "anon_inode:[io_uring]") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void test_conf_defaults(void **state)
{
	(void)state;
	struct server_conf c;
	server_conf_init(&c);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.udp_batch, 64);
	assert_int_equal(c.udp_io, SERVER_UDP_IO_AUTO);
	assert_int_equal(c.tcp_max_conns, 4096);
	assert_int_equal(c.tcp_max_per_client, 64);
	assert_int_equal(c.tcp_idle_timeout_ms, 10000);
	assert_int_equal(c.tcp_max_queries, 0);
	assert_int_equal(c.tcp_keepalive_ms, SERVER_KEEPALIVE_IDLE);
	assert_int_equal(c.answer.udp_max_payload, DNS_EDNS_DEFAULT_PAYLOAD);
	assert_null(c.listen);
	assert_null(c.zones);
}

static void test_conf_invalid(void **state)
{
	struct st_env *e = *state;
	struct sockaddr_storage ss[2];
	st_addr(&ss[0], "127.0.0.1", 5300);
	st_addr(&ss[1], "::1", 0);
	struct server *srv = NULL;
	log_set_level(LOG_LVL_SILENT);

	struct server_conf c = e->conf;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);	/* none */
	c.listen = ss;
	c.listen_count = 2;				/* port 0 */
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.listen_count = 1;
	c.zones = NULL;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c = e->conf;
	c.listen = ss;
	c.listen_count = 1;
	c.udp_batch = 0;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.udp_batch = 1025;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.udp_batch = 64;
	c.udp_io = (enum server_udp_io)(SERVER_UDP_IO_MMSG + 1);
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.udp_io = SERVER_UDP_IO_AUTO;
	c.tcp_idle_timeout_ms = 1000;
	c.tcp_keepalive_ms = 1100;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.tcp_keepalive_ms = 1000;
	c.answer.udp_max_payload = 511;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.answer.udp_max_payload = 512;
	c.tcp_max_conns = 0;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	c.tcp_max_conns = 1;
	c.tcp_idle_timeout_ms = 0;
	c.tcp_keepalive_ms = 0;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	ss[1].ss_family = AF_UNIX;
	c = e->conf;
	c.listen = ss;
	c.listen_count = 2;
	assert_int_equal(server_start(&c, &srv), ANYDNS_EINVAL);
	assert_null(srv);
	log_set_level(LOG_LVL_WARN);
}

/* A bind that fails leaves nothing open and no thread running. */
static void test_bind_error(void **state)
{
	struct st_env *e = *state;
	int before = open_fds();
	struct sockaddr_storage ss[2];
	uint16_t port = st_free_port();
	st_addr(&ss[0], "127.0.0.1", port);
	st_addr(&ss[1], "192.0.2.1", port);	/* not on this host */
	struct server_conf c = e->conf;
	c.listen = ss;
	c.listen_count = 2;
	struct server *srv = NULL;
	log_set_level(LOG_LVL_SILENT);
	assert_int_equal(server_start(&c, &srv), -EADDRNOTAVAIL);
	log_set_level(LOG_LVL_WARN);
	assert_null(srv);
	assert_int_equal(open_fds(), before);

	/* A port another socket holds without SO_REUSEPORT. */
	int holder = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(holder, (struct sockaddr *)&ss[0],
			      sizeof(struct sockaddr_in)), 0);
	c.listen_count = 1;
	log_set_level(LOG_LVL_SILENT);
	assert_int_equal(server_start(&c, &srv), -EADDRINUSE);
	log_set_level(LOG_LVL_WARN);
	close(holder);
	assert_int_equal(open_fds(), before);
}

static void test_workers_per_cpu(void **state)
{
	struct st_env *e = *state;
	e->conf.workers = 0;
	assert_int_equal(st_env_start(e), 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(server_workers(e->srv), (unsigned)cpus);
}

/* Stopping takes milliseconds, with an idle connection open (whose
 * timeout is 10 s) and a query stream going on. */
static void test_stop_prompt(void **state)
{
	struct st_env *e = *state;
	int before = open_fds();
	assert_int_equal(st_env_start(e), 0);
	int idle = st_tcp_client("127.0.0.1", e->port);
	int udp = st_udp_client("::1", e->port);
	assert_true(idle >= 0 && udp >= 0);
	uint8_t q[512], resp[512];
	size_t qlen = st_query(q, 1, "www.example.com.", DNS_TYPE_A, false, false);
	assert_int_equal(send(udp, q, qlen, 0), (ssize_t)qlen);
	assert_true(st_udp_recv(udp, resp, sizeof(resp), ST_WAIT_MS) > 0);
	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_accepted == 1);

	uint64_t start = st_now_ms();
	server_stop(e->srv);
	e->srv = NULL;
	uint64_t took = st_now_ms() - start;
	assert_true(took < 200);
	assert_true(st_tcp_closed(idle, 100));
	close(idle);
	close(udp);
	assert_int_equal(open_fds(), before);
}

/* The server answers from the set published last. */
static void test_zone_publish(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("127.0.0.1", e->port);
	int tcp = st_tcp_client("::1", e->port);
	uint8_t q[512], frame[600], resp[512];
	size_t qlen = st_query(q, 5, "www.example.com.", DNS_TYPE_A, false, false);
	size_t flen = st_frame(frame, 0, q, qlen);
	static const uint8_t v1[4] = { 192, 0, 2, 1 }, v2[4] = { 192, 0, 2, 2 };

	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n > 4);
	assert_memory_equal(resp + n - 4, v1, 4);
	assert_int_equal(st_write_all(tcp, frame, flen), 0);
	n = st_tcp_recv(tcp, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n > 4);
	assert_memory_equal(resp + n - 4, v1, 4);

	/* Returns once no worker can still read the old set. */
	assert_int_equal(st_publish(e, ST_DATA "example-v2.zone"), 0);

	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n > 4);
	assert_memory_equal(resp + n - 4, v2, 4);
	assert_int_equal(st_write_all(tcp, frame, flen), 0);
	n = st_tcp_recv(tcp, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n > 4);
	assert_memory_equal(resp + n - 4, v2, 4);
	close(fd);
	close(tcp);
}

static void send_udp(const char *ip, uint16_t port, unsigned count,
		     const char *name, uint16_t qtype)
{
	int fd = st_udp_client(ip, port);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < count; i++) {
		uint8_t q[512], resp[512];
		size_t qlen = st_query(q, (uint16_t)i, name, qtype, true, false);
		assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
		assert_true(st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS) > 0);
	}
	close(fd);
}

static void send_tcp(const char *ip, uint16_t port, unsigned count,
		     const char *name, uint16_t qtype)
{
	int fd = st_tcp_client(ip, port);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < count; i++) {
		uint8_t q[512], frame[600], resp[512];
		size_t qlen = st_query(q, (uint16_t)i, name, qtype, false, false);
		assert_int_equal(st_write_all(fd, frame,
					      st_frame(frame, 0, q, qlen)), 0);
		assert_true(st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS) > 0);
	}
	close(fd);
}

static void test_counters_add_up(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	send_udp("127.0.0.1", e->port, 10, "www.example.com.", DNS_TYPE_A);
	send_udp("::1", e->port, 7, "nope.example.com.", DNS_TYPE_AAAA);
	send_udp("::1", e->port, 2, "example.com.", DNS_TYPE_SOA);
	send_tcp("127.0.0.1", e->port, 3, "www.example.com.", DNS_TYPE_MX);
	send_tcp("127.0.0.1", e->port, 2, "example.com.", DNS_TYPE_NS);
	send_tcp("::1", e->port, 3, "www.example.com.", DNS_TYPE_AAAA);
	send_tcp("::1", e->port, 1, "www.example.com.", 4321);
	send_udp("127.0.0.1", e->port, 1, "example.com.", DNS_TYPE_AXFR);

	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 4);
	assert_int_equal(st.queries[SERVER_UDP4], 11);
	assert_int_equal(st.queries[SERVER_UDP6], 9);
	assert_int_equal(st.queries[SERVER_TCP4], 5);
	assert_int_equal(st.queries[SERVER_TCP6], 4);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 10 + 2 + 3 + 2 + 3 + 1);
	assert_int_equal(st.rcodes[DNS_RCODE_NXDOMAIN], 7);
	/* AXFR over UDP: whatever RCODE the engine gives it (src/answer
	 * decides), counted once under that RCODE. */
	uint8_t q[512], want[512];
	size_t qlen = st_query(q, 0, "example.com.", DNS_TYPE_AXFR, true, false);
	assert_true(st_expected(e, q, qlen, ANSWER_UDP, want, sizeof(want)) > 0);
	uint16_t axfr_rcode = DNS_RCODE(st_flags(want));
	assert_true(axfr_rcode != DNS_RCODE_NOERROR &&
		    axfr_rcode != DNS_RCODE_NXDOMAIN);
	assert_int_equal(st.rcodes[axfr_rcode], 1);
	assert_int_equal(st.qtypes[SERVER_QT_A], 10);
	assert_int_equal(st.qtypes[SERVER_QT_AAAA], 10);
	assert_int_equal(st.qtypes[SERVER_QT_SOA], 2);
	assert_int_equal(st.qtypes[SERVER_QT_MX], 3);
	assert_int_equal(st.qtypes[SERVER_QT_NS], 2);
	assert_int_equal(st.qtypes[SERVER_QT_AXFR], 1);
	assert_int_equal(st.qtypes[SERVER_QT_OTHER], 1);
	assert_int_equal(st.tcp_accepted, 4);
	assert_int_equal(st.tcp_closed, 4);
	assert_int_equal(st.truncated + st.dropped + st.malformed +
			 st.send_failed + st.tcp_refused + st.tcp_timeout, 0);

	uint64_t queries = 0, responses = 0, types = 0;
	for (int i = 0; i < SERVER_TRANSPORT_COUNT; i++)
		queries += st.queries[i];
	for (int i = 0; i < SERVER_RCODE_SLOTS; i++)
		responses += st.rcodes[i];
	for (int i = 0; i < SERVER_QT_COUNT; i++)
		types += st.qtypes[i];
	assert_int_equal(queries, 29);
	assert_int_equal(responses + st.dropped, queries);
	assert_int_equal(types, queries);
}

/* One ring per worker with io_uring, none with recvmmsg; both answer. */
static void test_udp_io_backend(void **state)
{
	struct st_env *e = *state;
	int before = open_rings();
	assert_int_equal(st_env_start(e), 0);
	assert_int_equal(open_rings() - before,
			 st_udp_io == SERVER_UDP_IO_URING ? 2 : 0);
	send_udp("127.0.0.1", e->port, 3, "www.example.com.", DNS_TYPE_A);
	send_udp("::1", e->port, 3, "www.example.com.", DNS_TYPE_A);
	server_stop(e->srv);
	e->srv = NULL;
	assert_int_equal(open_rings(), before);
}

/* What the child below checks; 0 when all holds. */
static int fallback_child(struct st_env *e)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 10;
	log_set_level(LOG_LVL_SILENT);
	e->conf.udp_io = SERVER_UDP_IO_URING;
	if (st_env_start(e) != -ENOSYS || e->srv != NULL)
		return 11;
	e->conf.udp_io = SERVER_UDP_IO_AUTO;
	if (st_env_start(e) != 0 || open_rings() != 0)
		return 12;
	uint8_t q[512], resp[512];
	size_t qlen = st_query(q, 42, "www.example.com.", DNS_TYPE_A, false,
			       false);
	int fd = st_udp_client("127.0.0.1", e->port);
	if (fd < 0 || send(fd, q, qlen, 0) != (ssize_t)qlen ||
	    st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS) < DNS_HEADER_LEN ||
	    st_id(resp) != 42)
		return 13;
	close(fd);
	server_stop(e->srv);
	e->srv = NULL;
	return 0;
}

/* Where io_uring_setup() fails, auto serves by recvmmsg and uring makes
 * server_start() fail with its error. In a child process, because a
 * seccomp filter cannot be removed. */
static void test_udp_io_fallback(void **state)
{
	struct st_env *e = *state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fallback_child(e));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	st_main_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test_setup_teardown(test_conf_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers_per_cpu, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_publish, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counters_add_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_io_backend, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_io_fallback, setup,
						teardown),
	};
	int failed = 0;
	for (int i = 0; i < ST_UDP_IO_RUNS; i++) {
		const char *name = st_udp_io_pick(i);
		if (name != NULL)
			failed += cmocka_run_group_tests_name(name, tests, NULL,
							      NULL);
	}
	return failed;
}
