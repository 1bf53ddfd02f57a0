/*
 * Unit tests for src/server/tcp.c: DNS over TCP (RFC 1035 §4.2.2, RFC
 * 7766) through a running server on 127.0.0.1 and ::1 — single queries,
 * 50 pipelined queries on one connection, a query written in pieces, the
 * idle timeout, the per-client limit, the query limit, edns-tcp-keepalive
 * (RFC 7828), bad framing, a half-closed client, a client that does not
 * read its answers while another one is served, and the view of the zones
 * picked by the address a connection was accepted on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server_test.h"

static bool in_netns;

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

/* One query on a new connection; checks the answer against the engine. */
static void check_single(struct st_env *e, const char *ip, uint16_t qtype)
{
	static uint8_t resp[DNS_MSG_MAXLEN], want[DNS_MSG_MAXLEN];
	uint8_t q[512], frame[600];
	size_t qlen = st_query(q, 0x5151, "www.example.com.", qtype, true, false);
	int fd = st_tcp_client(ip, e->port);
	assert_true(fd >= 0);
	assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q, qlen)), 0);
	ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	size_t wlen = st_expected(e, q, qlen, ANSWER_TCP, want, sizeof(want));
	assert_int_equal(n, (ssize_t)wlen);
	assert_memory_equal(resp, want, wlen);
	assert_int_equal(st_id(resp), 0x5151);
	assert_int_equal(DNS_RCODE(st_flags(resp)), DNS_RCODE_NOERROR);
	assert_int_equal(st_count(resp, DNS_SECTION_ANSWER), 1);
}

static void test_tcp_single(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	check_single(e, "127.0.0.1", DNS_TYPE_A);
	check_single(e, "::1", DNS_TYPE_AAAA);

	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 2);
	assert_int_equal(st.queries[SERVER_TCP4], 1);
	assert_int_equal(st.queries[SERVER_TCP6], 1);
	assert_int_equal(st.queries[SERVER_UDP4] + st.queries[SERVER_UDP6], 0);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 2);
	assert_int_equal(st.tcp_accepted, 2);
	assert_int_equal(st.tcp_closed, 2);
	assert_int_equal(st.tcp_timeout + st.tcp_refused, 0);
}

/* The big TXT RRset comes whole over TCP, where UDP truncates it. */
static void test_tcp_large_answer(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	static uint8_t resp[DNS_MSG_MAXLEN], want[DNS_MSG_MAXLEN];
	uint8_t q[512], frame[600];
	size_t qlen = st_query(q, 99, "big.example.com.", DNS_TYPE_TXT, false,
			       false);
	int fd = st_tcp_client("127.0.0.1", e->port);
	assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q, qlen)), 0);
	ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	size_t wlen = st_expected(e, q, qlen, ANSWER_TCP, want, sizeof(want));
	assert_true(wlen > 20000);
	assert_int_equal(n, (ssize_t)wlen);
	assert_memory_equal(resp, want, wlen);
	assert_int_equal(st_count(resp, DNS_SECTION_ANSWER), 100);
	assert_false(st_flags(resp) & DNS_FLAG_TC);
}

static void test_tcp_pipeline(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	enum { N = 50 };
	static const char *const names[] = { "www.example.com.",
					     "nope.example.com.",
					     "ns1.example.com." };
	static const uint16_t rcodes[] = { DNS_RCODE_NOERROR,
					   DNS_RCODE_NXDOMAIN,
					   DNS_RCODE_NOERROR };
	uint8_t frames[N * 64];
	size_t flen = 0;
	for (unsigned i = 0; i < N; i++) {
		uint8_t q[64];
		size_t qlen = st_query(q, (uint16_t)(2000 + i), names[i % 3],
				       DNS_TYPE_A, i % 2 == 0, false);
		flen = st_frame(frames, flen, q, qlen);
	}
	int fd = st_tcp_client("::1", e->port);
	assert_true(fd >= 0);
	assert_int_equal(st_write_all(fd, frames, flen), 0);
	bool seen[N] = { false };
	for (unsigned i = 0; i < N; i++) {
		uint8_t resp[2048];
		ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
		assert_true(n >= DNS_HEADER_LEN);
		unsigned id = st_id(resp);
		assert_true(id >= 2000 && id < 2000 + N);
		assert_false(seen[id - 2000]);
		seen[id - 2000] = true;
		assert_int_equal(DNS_RCODE(st_flags(resp)),
				 rcodes[(id - 2000) % 3]);
	}
	/* The connection stays open for more. */
	assert_false(st_readable(fd, 50));
	close(fd);

	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 1);
	assert_int_equal(st.queries[SERVER_TCP6], N);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 33);
	assert_int_equal(st.rcodes[DNS_RCODE_NXDOMAIN], 17);
	assert_int_equal(st.tcp_accepted, 1);
	assert_int_equal(st.tcp_closed, 1);
}

/* The length and the message arrive in pieces, in separate segments. */
static void test_tcp_split_writes(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	uint8_t q[512], frames[1200], resp[2048];
	size_t qlen = st_query(q, 0x0a0a, "www.example.com.", DNS_TYPE_A, true,
			       false);
	size_t flen = st_frame(frames, 0, q, qlen);
	qlen = st_query(q, 0x0b0b, "ns1.example.com.", DNS_TYPE_A, false, false);
	flen = st_frame(frames, flen, q, qlen);
	int fd = st_tcp_client("127.0.0.1", e->port);
	assert_true(fd >= 0);
	/* 1 octet of length, the other, 5 octets, the rest of the first
	 * message with the first octet of the second length, the rest. */
	size_t first = 2 + wire_get_u16(frames);
	size_t cuts[] = { 1, 2, 7, first + 1, flen };
	size_t off = 0;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		assert_int_equal(st_write_all(fd, frames + off, cuts[i] - off), 0);
		off = cuts[i];
		if (off < first)
			assert_false(st_readable(fd, 30));	/* no answer yet */
		else
			st_sleep_ms(30);
	}
	ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(st_id(resp), 0x0a0a);
	n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(st_id(resp), 0x0b0b);
	assert_int_equal(DNS_RCODE(st_flags(resp)), DNS_RCODE_NOERROR);
	close(fd);
}

static void test_tcp_idle_timeout(void **state)
{
	struct st_env *e = *state;
	e->conf.tcp_idle_timeout_ms = 300;
	assert_int_equal(st_env_start(e), 0);
	uint64_t start = st_now_ms();
	int silent = st_tcp_client("127.0.0.1", e->port);
	assert_true(silent >= 0);
	/* A connection that queries is timed from its last answer. */
	int busy = st_tcp_client("::1", e->port);
	assert_true(busy >= 0);
	for (int i = 0; i < 3; i++) {
		uint8_t q[512], frame[600], resp[512];
		st_sleep_ms(150);
		if (i == 0)	/* 150 ms: not yet */
			assert_false(st_readable(silent, 0));
		size_t qlen = st_query(q, (uint16_t)i, "www.example.com.",
				       DNS_TYPE_A, false, false);
		assert_int_equal(st_write_all(busy, frame,
					      st_frame(frame, 0, q, qlen)), 0);
		assert_true(st_tcp_recv(busy, resp, sizeof(resp), ST_WAIT_MS) > 0);
	}
	/* 450 ms: the silent one is gone, the busy one answered just now. */
	assert_true(st_tcp_closed(silent, 0));
	assert_false(st_readable(busy, 50));
	assert_true(st_tcp_closed(busy, ST_WAIT_MS));
	uint64_t took = st_now_ms() - start;
	assert_true(took >= 700 && took < 2000);
	close(silent);
	close(busy);

	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_timeout == 2);
	assert_int_equal(st.tcp_timeout, 2);
	assert_int_equal(st.tcp_closed, 2);
	assert_int_equal(st.tcp_accepted, 2);
}

static void test_tcp_per_client_limit(void **state)
{
	struct st_env *e = *state;
	enum { LIMIT = 4 };
	e->conf.tcp_max_per_client = LIMIT;
	assert_int_equal(st_env_start(e), 0);
	int fds[LIMIT];
	uint8_t q[512], frame[600], resp[512];
	size_t qlen = st_query(q, 1, "www.example.com.", DNS_TYPE_A, false, false);
	size_t flen = st_frame(frame, 0, q, qlen);
	/* Each answered, so each is accepted before the next connects. */
	for (int i = 0; i < LIMIT; i++) {
		fds[i] = st_tcp_client("127.0.0.1", e->port);
		assert_true(fds[i] >= 0);
		assert_int_equal(st_write_all(fds[i], frame, flen), 0);
		assert_true(st_tcp_recv(fds[i], resp, sizeof(resp), ST_WAIT_MS) > 0);
	}
	int over = st_tcp_client("127.0.0.1", e->port);
	assert_true(over >= 0);
	assert_true(st_tcp_closed(over, ST_WAIT_MS));
	close(over);
	/* Another client address is not affected. */
	int other = st_tcp_client("::1", e->port);
	assert_int_equal(st_write_all(other, frame, flen), 0);
	assert_true(st_tcp_recv(other, resp, sizeof(resp), ST_WAIT_MS) > 0);
	close(other);
	/* The first ones still work; once one closes, a place is free. */
	assert_int_equal(st_write_all(fds[0], frame, flen), 0);
	assert_true(st_tcp_recv(fds[0], resp, sizeof(resp), ST_WAIT_MS) > 0);
	close(fds[0]);
	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 2);
	int again = st_tcp_client("127.0.0.1", e->port);
	assert_int_equal(st_write_all(again, frame, flen), 0);
	assert_true(st_tcp_recv(again, resp, sizeof(resp), ST_WAIT_MS) > 0);
	close(again);
	for (int i = 1; i < LIMIT; i++)
		close(fds[i]);

	ST_WAIT_STATS(e->srv, st, st.tcp_closed == LIMIT + 2);
	assert_int_equal(st.tcp_refused, 1);
	assert_int_equal(st.tcp_accepted, LIMIT + 2);
	assert_int_equal(st.tcp_closed, LIMIT + 2);
}

/* After tcp_max_queries answers the server closes; later queries on the
 * connection are not read. */
static void test_tcp_query_limit(void **state)
{
	struct st_env *e = *state;
	e->conf.tcp_max_queries = 3;
	assert_int_equal(st_env_start(e), 0);
	uint8_t frames[1024], resp[512];
	size_t flen = 0;
	for (int i = 0; i < 5; i++) {
		uint8_t q[64];
		size_t qlen = st_query(q, (uint16_t)(10 + i), "www.example.com.",
				       DNS_TYPE_A, false, false);
		flen = st_frame(frames, flen, q, qlen);
	}
	int fd = st_tcp_client("127.0.0.1", e->port);
	assert_int_equal(st_write_all(fd, frames, flen), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS) > 0);
		assert_int_equal(st_id(resp), 10 + i);
	}
	assert_true(st_tcp_closed(fd, ST_WAIT_MS));
	close(fd);
	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 1);
	assert_int_equal(st.queries[SERVER_TCP4], 3);
}

/* RFC 7828 §3.3.2: asked over TCP, the server gives its timeout in
 * 100 ms units. The option is the last 6 octets of the OPT record. */
static void test_tcp_keepalive(void **state)
{
	struct st_env *e = *state;
	e->conf.tcp_idle_timeout_ms = 2500;
	assert_int_equal(st_env_start(e), 0);
	uint8_t q[512], frame[600], resp[2048];
	size_t qlen = st_query(q, 3, "www.example.com.", DNS_TYPE_A, true, true);
	int fd = st_tcp_client("127.0.0.1", e->port);
	assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q, qlen)), 0);
	ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	assert_true(n > 6);
	static const uint8_t opt[6] = { 0, DNS_EDNS_TCP_KEEPALIVE, 0, 2, 0, 25 };
	assert_memory_equal(resp + n - 6, opt, 6);
}

static void test_tcp_keepalive_off(void **state)
{
	struct st_env *e = *state;
	e->conf.tcp_keepalive_ms = 0;
	assert_int_equal(st_env_start(e), 0);
	uint8_t q[512], frame[600], resp[2048], want[2048];
	size_t qlen = st_query(q, 3, "www.example.com.", DNS_TYPE_A, true, true);
	int fd = st_tcp_client("127.0.0.1", e->port);
	assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q, qlen)), 0);
	ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	e->conf.tcp_idle_timeout_ms = 0;	/* st_expected: no keepalive */
	size_t wlen = st_expected(e, q, qlen, ANSWER_TCP, want, sizeof(want));
	assert_int_equal(n, (ssize_t)wlen);
	assert_memory_equal(resp, want, wlen);
}

/* A length that cannot be a query ends the connection; answers to the
 * queries before it still come. */
static void test_tcp_bad_framing(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	static const size_t bad_lens[] = { 0, 5, SERVER_QUERY_MAX + 1 };
	for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
		uint8_t q[64], frames[256], resp[512];
		size_t qlen = st_query(q, 42, "www.example.com.", DNS_TYPE_A,
				       false, false);
		size_t flen = st_frame(frames, 0, q, qlen);
		wire_put_u16(frames + flen, (uint16_t)bad_lens[i]);
		memset(frames + flen + 2, 0, 20);
		flen += 22;
		int fd = st_tcp_client("::1", e->port);
		assert_int_equal(st_write_all(fd, frames, flen), 0);
		assert_true(st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS) > 0);
		assert_int_equal(st_id(resp), 42);
		assert_true(st_tcp_closed(fd, ST_WAIT_MS));
		close(fd);
	}
	struct server_stats st;
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 3);
	assert_int_equal(st.malformed, 3);
	assert_int_equal(st.dropped, 3);
	assert_int_equal(st.queries[SERVER_TCP6], 6);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 3);
}

/* A client may send its queries and shut its side down (RFC 7766 §6.2.4
 * lets it): the answers still come, then the end of the stream. */
static void test_tcp_half_close(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	uint8_t frames[1024], resp[512];
	size_t flen = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t q[64];
		size_t qlen = st_query(q, (uint16_t)(70 + i), "www.example.com.",
				       DNS_TYPE_A, false, false);
		flen = st_frame(frames, flen, q, qlen);
	}
	int fd = st_tcp_client("127.0.0.1", e->port);
	assert_int_equal(st_write_all(fd, frames, flen), 0);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	for (int i = 0; i < 4; i++) {
		assert_true(st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS) > 0);
		assert_int_equal(st_id(resp), 70 + i);
	}
	assert_true(st_tcp_closed(fd, ST_WAIT_MS));
	close(fd);
}

/* A client that asks for a lot and reads nothing fills its socket; the
 * server parks the rest and stops reading it, serves others meanwhile,
 * and delivers everything, in order, once the client reads. */
static void test_tcp_slow_reader(void **state)
{
	struct st_env *e = *state;
	e->conf.workers = 1;	/* the blocked connection shares the worker */
	assert_int_equal(st_env_start(e), 0);
	/* 1000 answers of 21 KB: more than the kernel buffers of both ends
	 * hold (tcp_wmem allows 4 MB), so the server must park output. */
	enum { N = 1000 };
	static uint8_t frames[N * 40];
	size_t flen = 0;
	for (unsigned i = 0; i < N; i++) {
		uint8_t q[64];
		size_t qlen = st_query(q, (uint16_t)i, "big.example.com.",
				       DNS_TYPE_TXT, false, false);
		flen = st_frame(frames, flen, q, qlen);
	}
	int slow = st_tcp_client("127.0.0.1", e->port);
	assert_true(slow >= 0);
	int rcvbuf = 65536;	/* fixed: no autotuning to megabytes */
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(st_write_all(slow, frames, flen), 0);
	st_sleep_ms(100);

	uint8_t q[64], frame[128], resp[512];
	size_t qlen = st_query(q, 0x7777, "www.example.com.", DNS_TYPE_A, false,
			       false);
	int other = st_tcp_client("::1", e->port);
	uint64_t start = st_now_ms();
	assert_int_equal(st_write_all(other, frame, st_frame(frame, 0, q, qlen)), 0);
	assert_true(st_tcp_recv(other, resp, sizeof(resp), ST_WAIT_MS) > 0);
	assert_int_equal(st_id(resp), 0x7777);
	assert_true(st_now_ms() - start < 500);
	close(other);

	struct server_stats st;
	server_stats(e->srv, &st);
	assert_true(st.queries[SERVER_TCP4] < N);	/* it stopped reading */

	static uint8_t big[DNS_MSG_MAXLEN];
	for (unsigned i = 0; i < N; i++) {
		ssize_t n = st_tcp_recv(slow, big, sizeof(big), ST_WAIT_MS);
		assert_true(n > 20000);
		assert_int_equal(st_id(big), i);
	}
	close(slow);
	ST_WAIT_STATS(e->srv, st, st.tcp_closed == 2);
	assert_int_equal(st.queries[SERVER_TCP4], N);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], N + 1);
	assert_int_equal(st.tcp_closed, 2);
}

/* Per-network zones over TCP: the address the connection was accepted
 * on picks the view; a view without the zone answers REFUSED. */
static void test_tcp_views(void **state)
{
	struct st_env *e = *state;
	struct server_view_addr va[4];
	if (!in_netns)
		skip();
	assert_int_equal(st_publish_views(e, ST_DATA "example.zone", va), 0);
	e->ips[0] = "0.0.0.0";
	e->ips[1] = "::";
	assert_int_equal(st_env_start(e), 0);
	static const struct {
		const char *dst;
		uint16_t rcode;
	} cases[] = {
		{ "127.0.0.1", DNS_RCODE_NOERROR },
		{ "127.0.0.2", DNS_RCODE_REFUSED },
		{ "::1", DNS_RCODE_NOERROR },
		{ ST_V6_EXTRA, DNS_RCODE_REFUSED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static uint8_t resp[DNS_MSG_MAXLEN];
		uint8_t q[512], frame[600];
		size_t qlen = st_query(q, (uint16_t)(900 + i), "www.example.com.",
				       DNS_TYPE_A, true, false);
		int fd = st_tcp_client(cases[i].dst, e->port);
		assert_true(fd >= 0);
		assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q,
								  qlen)), 0);
		ssize_t n = st_tcp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
		close(fd);
		assert_true(n >= DNS_HEADER_LEN);
		assert_int_equal(st_id(resp), 900 + i);
		if (DNS_RCODE(st_flags(resp)) != cases[i].rcode)
			fail_msg("%s: RCODE %u, want %u", cases[i].dst,
				 DNS_RCODE(st_flags(resp)), cases[i].rcode);
	}
}

int main(void)
{
	in_netns = st_main_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_large_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_split_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_idle_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_per_client_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_query_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_keepalive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_keepalive_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_bad_framing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_half_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_slow_reader, setup,
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
