/*
 * Unit tests for src/server/udp.c: DNS over UDP (RFC 1035 §4.2.1) through
 * a running server on 127.0.0.1 and ::1 — answers byte for byte as the
 * engine makes them, FORMERR and dropped messages, truncation at 512
 * octets without EDNS, a burst of 100 queries, counters that match, and
 * (in a private network namespace) replies that leave from the address a
 * query was sent to when the server is bound to the wildcard address.
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

/* Sends one query to ip and checks the reply is the engine's answer. */
static void check_query(struct st_env *e, const char *ip, uint16_t id,
			const char *name, uint16_t qtype, bool edns,
			uint16_t rcode, uint16_t ancount)
{
	uint8_t q[512], resp[2048], want[2048];
	size_t qlen = st_query(q, id, name, qtype, edns, false);
	assert_true(qlen > 0);
	int fd = st_udp_client(ip, e->port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(st_id(resp), id);
	assert_true(st_flags(resp) & DNS_FLAG_QR);
	assert_int_equal(DNS_RCODE(st_flags(resp)), rcode);
	assert_int_equal(st_count(resp, DNS_SECTION_ANSWER), ancount);
	size_t wlen = st_expected(e, q, qlen, ANSWER_UDP, want, sizeof(want));
	assert_int_equal((size_t)n, wlen);
	assert_memory_equal(resp, want, wlen);
}

static void test_udp4_answer(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	check_query(e, "127.0.0.1", 0x1234, "www.example.com.", DNS_TYPE_A,
		    false, DNS_RCODE_NOERROR, 1);
	/* The A RDATA ends the message: the answer is the only record. */
	uint8_t q[512], resp[512];
	size_t qlen = st_query(q, 7, "WWW.Example.COM.", DNS_TYPE_A, false, false);
	int fd = st_udp_client("127.0.0.1", e->port);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	assert_true(n > 16);
	static const uint8_t addr[4] = { 192, 0, 2, 1 };
	assert_memory_equal(resp + n - 4, addr, 4);
	/* The question comes back with the case it was asked with. */
	assert_memory_equal(resp + DNS_HEADER_LEN, q + DNS_HEADER_LEN,
			    qlen - DNS_HEADER_LEN);

	check_query(e, "127.0.0.1", 0xfffe, "nope.example.com.", DNS_TYPE_A,
		    true, DNS_RCODE_NXDOMAIN, 0);
	check_query(e, "127.0.0.1", 3, "www.example.org.", DNS_TYPE_A,
		    false, DNS_RCODE_REFUSED, 0);

	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.queries[SERVER_UDP4], 4);
	assert_int_equal(st.queries[SERVER_UDP6], 0);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 2);
	assert_int_equal(st.rcodes[DNS_RCODE_NXDOMAIN], 1);
	assert_int_equal(st.rcodes[DNS_RCODE_REFUSED], 1);
	assert_int_equal(st.qtypes[SERVER_QT_A], 4);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.malformed, 0);
}

static void test_udp6_answer(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	check_query(e, "::1", 0xbeef, "www.example.com.", DNS_TYPE_AAAA,
		    true, DNS_RCODE_NOERROR, 1);
	uint8_t q[512], resp[512];
	size_t qlen = st_query(q, 9, "www.example.com.", DNS_TYPE_AAAA, false,
			       false);
	int fd = st_udp_client("::1", e->port);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	assert_true(n > 28);
	static const uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0, 1 };
	assert_memory_equal(resp + n - 16, addr, 16);

	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.queries[SERVER_UDP6], 2);
	assert_int_equal(st.queries[SERVER_UDP4], 0);
	assert_int_equal(st.qtypes[SERVER_QT_AAAA], 2);
}

static void test_udp_malformed_and_dropped(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("127.0.0.1", e->port);
	assert_true(fd >= 0);
	uint8_t q[512], resp[512];

	/* QDCOUNT 2 with one question: FORMERR (RFC 9619), ID kept. */
	size_t qlen = st_query(q, 0x4242, "www.example.com.", DNS_TYPE_A,
			       false, false);
	wire_put_u16(q + 4, 2);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(st_id(resp), 0x4242);
	assert_int_equal(DNS_RCODE(st_flags(resp)), DNS_RCODE_FORMERR);

	/* Shorter than a header, and a response (QR set): no reply. */
	assert_int_equal(send(fd, "\x12\x34\x01", 3, 0), 3);
	qlen = st_query(q, 0x4343, "www.example.com.", DNS_TYPE_A, false, false);
	wire_put_u16(q + 2, DNS_FLAG_QR);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	/* A datagram longer than SERVER_QUERY_MAX is dropped too. */
	static uint8_t huge[SERVER_QUERY_MAX + 100];
	st_query(huge, 0x4444, "www.example.com.", DNS_TYPE_A, false, false);
	assert_int_equal(send(fd, huge, sizeof(huge), 0), (ssize_t)sizeof(huge));
	/* A good query after them is answered, and is the next datagram. */
	qlen = st_query(q, 0x4545, "www.example.com.", DNS_TYPE_A, false, false);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(st_id(resp), 0x4545);
	assert_false(st_readable(fd, 100));
	close(fd);

	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.queries[SERVER_UDP4], 5);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.dropped, 3);
	assert_int_equal(st.rcodes[DNS_RCODE_FORMERR], 1);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 1);
}

static void test_udp_truncated(void **state)
{
	struct st_env *e = *state;
	assert_int_equal(st_env_start(e), 0);
	uint8_t q[512], resp[2048];
	size_t qlen = st_query(q, 77, "big.example.com.", DNS_TYPE_TXT, false,
			       false);
	int fd = st_udp_client("::1", e->port);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
	close(fd);
	assert_true(n >= DNS_HEADER_LEN && n <= DNS_UDP_MIN_PAYLOAD);
	assert_int_equal(st_id(resp), 77);
	assert_true(st_flags(resp) & DNS_FLAG_TC);

	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.truncated, 1);
	assert_int_equal(st.qtypes[SERVER_QT_TXT], 1);
}

static void test_udp_burst(void **state)
{
	struct st_env *e = *state;
	e->conf.udp_batch = 16;	/* several batches, one of them partial */
	assert_int_equal(st_env_start(e), 0);
	int fd = st_udp_client("127.0.0.1", e->port);
	assert_true(fd >= 0);
	enum { N = 100 };
	for (uint16_t i = 0; i < N; i++) {
		uint8_t q[512];
		size_t qlen = st_query(q, (uint16_t)(1000 + i), "www.example.com.",
				       i % 2 ? DNS_TYPE_A : DNS_TYPE_MX, i % 3 == 0,
				       false);
		assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	}
	bool seen[N] = { false };
	for (int i = 0; i < N; i++) {
		uint8_t resp[2048];
		ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
		assert_true(n >= DNS_HEADER_LEN);
		unsigned id = st_id(resp);
		assert_true(id >= 1000 && id < 1000 + N);
		assert_false(seen[id - 1000]);
		seen[id - 1000] = true;
		assert_int_equal(DNS_RCODE(st_flags(resp)), DNS_RCODE_NOERROR);
	}
	close(fd);

	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.queries[SERVER_UDP4], N);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], N);
	assert_int_equal(st.qtypes[SERVER_QT_A], N / 2);
	assert_int_equal(st.qtypes[SERVER_QT_MX], N / 2);
	assert_int_equal(st.dropped + st.send_failed, 0);
}

/* Bound to 0.0.0.0 and ::, the server must answer each query from the
 * address it was sent to, even where the route back to the client's
 * address would pick another source (a client on 127.0.0.1 asking
 * 127.0.0.2, on ::1 asking ST_V6_EXTRA, and the reverse). The connected
 * client sockets take nothing from any other source. */
static void test_udp_reply_source(void **state)
{
	struct st_env *e = *state;
	if (!in_netns)
		skip();
	e->ips[0] = "0.0.0.0";
	e->ips[1] = "::";
	assert_int_equal(st_env_start(e), 0);
	static const char *const dst[] = { "127.0.0.2", "127.0.0.1",
					   ST_V6_EXTRA, "::1" };
	static const char *const src[] = { "127.0.0.1", "127.0.0.2", "::1",
					   ST_V6_EXTRA };
	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		uint8_t q[512], resp[512];
		size_t qlen = st_query(q, (uint16_t)(500 + i), "www.example.com.",
				       DNS_TYPE_A, false, false);
		int fd = st_udp_client_from(src[i], dst[i], e->port);
		assert_true(fd >= 0);
		assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
		ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
		close(fd);
		assert_true(n >= DNS_HEADER_LEN);
		assert_int_equal(st_id(resp), 500 + i);
	}
	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.queries[SERVER_UDP4], 2);
	assert_int_equal(st.queries[SERVER_UDP6], 2);
	assert_int_equal(st.send_failed, 0);
}

/* Per-network zones: a query is answered from the view of the address it
 * was sent to (longest prefix), over IPv4 and IPv6, on wildcard sockets;
 * a view without the zone answers REFUSED. */
static void test_udp_views(void **state)
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
		{ "127.0.0.1", DNS_RCODE_NOERROR },	/* 127/8: view 1 */
		{ "127.0.0.2", DNS_RCODE_REFUSED },	/* /32 beats /8 */
		{ "127.0.0.3", DNS_RCODE_NOERROR },
		{ "::1", DNS_RCODE_NOERROR },
		{ ST_V6_EXTRA, DNS_RCODE_REFUSED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t q[512], resp[512];
		size_t qlen = st_query(q, (uint16_t)(700 + i), "www.example.com.",
				       DNS_TYPE_A, false, false);
		int fd = st_udp_client(cases[i].dst, e->port);
		assert_true(fd >= 0);
		assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
		ssize_t n = st_udp_recv(fd, resp, sizeof(resp), ST_WAIT_MS);
		close(fd);
		assert_true(n >= DNS_HEADER_LEN);
		assert_int_equal(st_id(resp), 700 + i);
		if (DNS_RCODE(st_flags(resp)) != cases[i].rcode)
			fail_msg("%s: RCODE %u, want %u", cases[i].dst,
				 DNS_RCODE(st_flags(resp)), cases[i].rcode);
		assert_int_equal(st_count(resp, DNS_SECTION_ANSWER),
				 cases[i].rcode == DNS_RCODE_NOERROR ? 1 : 0);
	}
	struct server_stats st;
	server_stats(e->srv, &st);
	assert_int_equal(st.rcodes[DNS_RCODE_REFUSED], 2);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 3);
}

int main(void)
{
	in_netns = st_main_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp4_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp6_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_malformed_and_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_reply_source, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_views, setup, teardown),
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
