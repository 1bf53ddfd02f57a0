/*
 * Unit tests for the server's transfer path (src/server/transfer.c and
 * the transfer sending of tcp.c): with a transfer policy, an AXFR of a
 * zone of several megabytes (RFC 5936) streams whole over TCP to a client
 * that reads slowly, past the idle timeout, while other clients' queries
 * over UDP and TCP are answered by the same single worker meanwhile; a
 * query pipelined behind the transfer is answered after it; NOTIFY over
 * UDP (RFC 1996) is acknowledged and reaches the on_notify callback, or
 * is refused; AXFR over UDP gets NOTIMP and IXFR over UDP the SOA; the
 * counters of transfers and NOTIFYs. Runs once per UDP backend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "server_test.h"

#define BIG_RECORDS 40000
#define BIG_ZONE "/tmp/anydns-test-server-xfr.zone"

static char big_zone_path[64];

/* What on_notify() heard. */
static pthread_mutex_t heard_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned heard_count;
static struct xfr_notify_event heard;
static void *heard_arg;

static void on_notify(void *arg, const struct xfr_notify_event *ev)
{
	pthread_mutex_lock(&heard_lock);
	heard = *ev;
	heard_arg = arg;
	heard_count++;
	pthread_mutex_unlock(&heard_lock);
}

static unsigned heard_n(void)
{
	pthread_mutex_lock(&heard_lock);
	unsigned n = heard_count;
	pthread_mutex_unlock(&heard_lock);
	return n;
}

/* A zone of BIG_RECORDS TXT records of ~120 octets: several megabytes. */
static void write_big_zone(void)
{
	snprintf(big_zone_path, sizeof(big_zone_path), "%s.%ld", BIG_ZONE,
		 (long)getpid());
	FILE *f = fopen(big_zone_path, "w");
	assert_non_null(f);
	fprintf(f, "$ORIGIN example.com.\n$TTL 3600\n"
		"@ SOA ns1 hostmaster 2024010101 7200 900 1209600 300\n"
		"@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n");
	for (unsigned i = 0; i < BIG_RECORDS; i++)
		fprintf(f, "r%u TXT \"%0120u\"\n", i, i);
	assert_int_equal(fclose(f), 0);
}

struct xenv {
	struct st_env e;
	struct xfr_acl transfer[2];
	struct xfr_acl notify[1];
	struct xfr_zone_policy zone;
	struct xfr_policy pol;
	int notify_arg;
};

static struct xfr_acl acl(int family, const char *ip, unsigned plen)
{
	struct xfr_acl a;
	memset(&a, 0, sizeof(a));
	a.family = (sa_family_t)family;
	inet_pton(family, ip, a.addr);
	a.prefix_len = (uint8_t)plen;
	return a;
}

static int setup(void **state)
{
	struct xenv *x = calloc(1, sizeof(*x));
	if (x == NULL || st_env_init(&x->e) != 0)
		return -1;
	x->transfer[0] = acl(AF_INET, "127.0.0.0", 8);
	x->transfer[1] = acl(AF_INET6, "::1", 128);
	x->notify[0] = acl(AF_INET, "127.0.0.1", 32);
	size_t len;
	dns_name_from_str(x->zone.apex, &len, "example.com.", NULL);
	x->zone.transfer = x->transfer;
	x->zone.transfer_count = 2;
	x->zone.notify = x->notify;
	x->zone.notify_count = 1;
	x->pol.zones = &x->zone;
	x->pol.zone_count = 1;
	x->e.conf.xfr = &x->pol;
	x->e.conf.on_notify = on_notify;
	x->e.conf.notify_arg = &x->notify_arg;
	/* One worker: whatever it serves meanwhile, it serves while the
	 * transfer is under way on the same thread. */
	x->e.conf.workers = 1;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct xenv *x = *state;
	st_env_fini(&x->e);
	free(x);
	return 0;
}

/* The zone the server serves (only the test thread publishes). */
static const struct zone *served(const struct xenv *x)
{
	return x->e.snap.current->zones[0];
}

/* Walks one message's answer records: adds their count to *records,
 * notes whether the first is a SOA, and whether the last is. */
static void scan_answers(const uint8_t *m, size_t len, uint64_t *records,
			 bool *first_soa, bool *last_soa)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t nl;
	wire_init(&c, m, len);
	wire_skip(&c, 4);
	uint16_t qd = wire_read_u16(&c), an = wire_read_u16(&c);
	wire_skip(&c, 4);
	for (unsigned i = 0; i < qd; i++) {
		dns_name_read(&c, name, &nl);
		wire_skip(&c, 4);
	}
	for (unsigned i = 0; i < an; i++) {
		dns_name_read(&c, name, &nl);
		uint16_t type = wire_read_u16(&c);
		wire_skip(&c, 6);
		wire_skip(&c, wire_read_u16(&c));
		if (*records == 0)
			*first_soa = type == DNS_TYPE_SOA;
		*last_soa = type == DNS_TYPE_SOA;
		(*records)++;
	}
	assert_int_equal(c.err, 0);
}

/* Reads an AXFR stream to its closing SOA, pausing pause_ms after each
 * message; returns its octets and checks its shape against z. */
static uint64_t read_axfr(int fd, const struct zone *z, uint16_t id,
			  unsigned pause_ms)
{
	static uint8_t m[DNS_MSG_MAXLEN];
	uint64_t records = 0, octets = 0;
	unsigned messages = 0;
	bool first_soa = false, last_soa = false;
	for (;;) {
		ssize_t n = st_tcp_recv(fd, m, sizeof(m), ST_WAIT_MS);
		assert_true(n >= DNS_HEADER_LEN);
		assert_int_equal(st_id(m), id);
		assert_int_equal(DNS_RCODE(st_flags(m)), DNS_RCODE_NOERROR);
		assert_true(n <= 16384);
		octets += (uint64_t)n + 2;
		messages++;
		scan_answers(m, (size_t)n, &records, &first_soa, &last_soa);
		if (records > 1 && last_soa)
			break;
		if (pause_ms > 0)
			st_sleep_ms(pause_ms);
	}
	assert_true(first_soa);
	assert_int_equal(records, z->rr_count + 1);
	assert_true(messages > 100);
	return octets;
}

/* One A query over UDP answered within a bound. */
static void quick_udp(struct xenv *x, uint16_t id)
{
	uint8_t q[512], r[2048];
	size_t qlen = st_query(q, id, "www.example.com.", DNS_TYPE_A, true,
			       false);
	int fd = st_udp_client("127.0.0.1", x->e.port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	ssize_t n = st_udp_recv(fd, r, sizeof(r), 1000);
	close(fd);
	assert_true(n > DNS_HEADER_LEN);
	assert_int_equal(st_id(r), id);
	assert_int_equal(st_count(r, DNS_SECTION_ANSWER), 1);
}

static void test_axfr_big_stream(void **state)
{
	struct xenv *x = *state;
	assert_int_equal(st_publish(&x->e, big_zone_path), 0);
	/* Short, so that a transfer longer than it must keep its
	 * connection by the progress it makes. */
	x->e.conf.tcp_idle_timeout_ms = 1000;
	x->e.conf.tcp_keepalive_ms = 0;
	assert_int_equal(st_env_start(&x->e), 0);
	const struct zone *z = served(x);

	uint8_t q[512], frame[1200];
	size_t qlen = st_query(q, 0x0a0a, "example.com.", DNS_TYPE_AXFR, false,
			       false);
	size_t flen = st_frame(frame, 0, q, qlen);
	/* A query pipelined behind the transfer waits for it. */
	uint8_t q2[512];
	size_t q2len = st_query(q2, 0x0b0b, "www.example.com.", DNS_TYPE_A,
				false, false);
	flen = st_frame(frame, flen, q2, q2len);
	int fd = st_tcp_client("127.0.0.1", x->e.port);
	assert_true(fd >= 0);
	/* A small receive buffer keeps most of the zone on the server's
	 * side while this client is not reading. */
	int small = 16384;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(st_write_all(fd, frame, flen), 0);

	/* Not reading yet: the worker goes on answering others. */
	st_sleep_ms(100);
	uint64_t t0 = st_now_ms();
	for (uint16_t i = 0; i < 20; i++)
		quick_udp(x, (uint16_t)(0x100 + i));
	int other = st_tcp_client("127.0.0.1", x->e.port);
	assert_true(other >= 0);
	uint8_t r[DNS_MSG_MAXLEN];
	size_t olen = st_frame(frame, 0, q2, q2len);
	assert_int_equal(st_write_all(other, frame, olen), 0);
	assert_true(st_tcp_recv(other, r, sizeof(r), 1000) > DNS_HEADER_LEN);
	assert_int_equal(st_id(r), 0x0b0b);
	close(other);
	assert_true(st_now_ms() - t0 < 2000);

	/* Now the whole stream, read slowly: 4 ms after each of its
	 * 300-odd messages makes it last longer than the idle timeout. */
	t0 = st_now_ms();
	uint64_t octets = read_axfr(fd, z, 0x0a0a, 4);
	assert_true(octets > 4u * 1024 * 1024);
	assert_true(st_now_ms() - t0 > 1000);
	/* Then the query that waited behind it. */
	ssize_t n = st_tcp_recv(fd, r, sizeof(r), ST_WAIT_MS);
	assert_true(n > DNS_HEADER_LEN);
	assert_int_equal(st_id(r), 0x0b0b);
	assert_int_equal(st_count(r, DNS_SECTION_ANSWER), 1);
	close(fd);

	struct server_stats st;
	ST_WAIT_STATS(x->e.srv, st, st.tcp_closed == 2);
	assert_int_equal(st.xfr_out, 1);
	assert_int_equal(st.qtypes[SERVER_QT_AXFR], 1);
	assert_int_equal(st.queries[SERVER_TCP4], 3);
	assert_int_equal(st.queries[SERVER_UDP4], 20);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 23);
	assert_int_equal(st.tcp_timeout, 0);
	assert_int_equal(st.notify_in, 0);
}

/* A client that stops reading in the middle is closed by the idle
 * timeout, and the transfer's memory goes with it. */
static void test_axfr_reader_stops(void **state)
{
	struct xenv *x = *state;
	assert_int_equal(st_publish(&x->e, big_zone_path), 0);
	x->e.conf.tcp_idle_timeout_ms = 300;
	x->e.conf.tcp_keepalive_ms = 0;
	assert_int_equal(st_env_start(&x->e), 0);
	uint8_t q[512], frame[600], r[DNS_MSG_MAXLEN];
	size_t qlen = st_query(q, 7, "example.com.", DNS_TYPE_AXFR, false,
			       false);
	int fd = st_tcp_client("::1", x->e.port);
	assert_true(fd >= 0);
	int small = 16384;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q, qlen)),
			 0);
	assert_true(st_tcp_recv(fd, r, sizeof(r), ST_WAIT_MS) > DNS_HEADER_LEN);
	struct server_stats st;
	ST_WAIT_STATS(x->e.srv, st, st.tcp_timeout == 1);
	assert_int_equal(st.tcp_timeout, 1);
	assert_int_equal(st.xfr_out, 1);
	close(fd);
}

/* Sends msg over UDP from 127.0.0.1 or ::1 and returns the reply. */
static ssize_t udp_exchange(struct xenv *x, const char *ip, const uint8_t *msg,
			    size_t len, uint8_t *r, size_t cap)
{
	int fd = st_udp_client(ip, x->e.port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, msg, len, 0), (ssize_t)len);
	ssize_t n = st_udp_recv(fd, r, cap, ST_WAIT_MS);
	close(fd);
	return n;
}

static void test_notify_udp(void **state)
{
	struct xenv *x = *state;
	assert_int_equal(st_env_start(&x->e), 0);
	const struct zone *z = served(x);
	uint8_t msg[1024], r[2048];
	size_t len;
	assert_int_equal(xfr_notify_build(z, 0x7777, NULL, 0, msg, sizeof(msg),
					  &len), 0);
	unsigned before = heard_n();
	ssize_t n = udp_exchange(x, "127.0.0.1", msg, len, r, sizeof(r));
	assert_true(n > DNS_HEADER_LEN);
	uint16_t rcode = 99;
	assert_int_equal(xfr_notify_reply_check(msg, len, r, (size_t)n, NULL, 0,
						&rcode), 0);
	assert_int_equal(st_flags(r), DNS_FLAG_QR | DNS_FLAG_AA |
					      (DNS_OPCODE_NOTIFY << 11));
	/* The callback ran before the reply left. */
	assert_int_equal(heard_n(), before + 1);
	pthread_mutex_lock(&heard_lock);
	struct xfr_notify_event ev = heard;
	void *arg = heard_arg;
	pthread_mutex_unlock(&heard_lock);
	assert_ptr_equal(arg, &x->notify_arg);
	assert_true(dns_name_equal(ev.apex, z->apex_name));
	assert_true(ev.has_serial);
	assert_int_equal(ev.serial, z->serial);
	assert_int_equal(ev.from.ss_family, AF_INET);

	/* From ::1, which may transfer but not notify: REFUSED, unheard. */
	n = udp_exchange(x, "::1", msg, len, r, sizeof(r));
	assert_true(n > DNS_HEADER_LEN);
	assert_int_equal(xfr_notify_reply_check(msg, len, r, (size_t)n, NULL, 0,
						&rcode), ANYDNS_EREFUSED);
	assert_int_equal(rcode, DNS_RCODE_REFUSED);
	assert_int_equal(heard_n(), before + 1);

	/* AXFR over UDP: NOTIMP; IXFR over UDP: our SOA alone. */
	uint8_t q[512];
	size_t qlen = st_query(q, 9, "example.com.", DNS_TYPE_AXFR, false,
			       false);
	n = udp_exchange(x, "127.0.0.1", q, qlen, r, sizeof(r));
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(DNS_RCODE(st_flags(r)), DNS_RCODE_NOTIMP);
	qlen = st_query(q, 10, "example.com.", DNS_TYPE_IXFR, false, false);
	/* The client's SOA in authority: copy the zone's own. */
	struct dns_writer w;
	dns_writer_init(&w, q, sizeof(q));
	assert_int_equal(dns_writer_question(&w, z->apex_name, DNS_TYPE_IXFR,
					     DNS_CLASS_IN), 0);
	struct zone_rr_iter it;
	const uint8_t *rd = NULL;
	uint16_t rdlen = 0;
	zone_rr_iter_init(&it, z->soa);
	assert_true(zone_rr_next(&it, &rd, &rdlen));
	assert_int_equal(dns_writer_rr(&w, DNS_SECTION_AUTHORITY, z->apex_name,
				       DNS_TYPE_SOA, DNS_CLASS_IN, 0, rd,
				       rdlen), 0);
	qlen = dns_writer_finish(&w, 10, 0);
	n = udp_exchange(x, "127.0.0.1", q, qlen, r, sizeof(r));
	assert_true(n > DNS_HEADER_LEN);
	assert_int_equal(DNS_RCODE(st_flags(r)), DNS_RCODE_NOERROR);
	assert_int_equal(st_count(r, DNS_SECTION_ANSWER), 1);

	struct server_stats st;
	ST_WAIT_STATS(x->e.srv, st, st.queries[SERVER_UDP4] == 3);
	assert_int_equal(st.notify_in, 1);
	assert_int_equal(st.xfr_out, 1);	/* the SOA-only IXFR */
	assert_int_equal(st.rcodes[DNS_RCODE_REFUSED], 1);
	assert_int_equal(st.rcodes[DNS_RCODE_NOTIMP], 1);
	assert_int_equal(st.rcodes[DNS_RCODE_NOERROR], 2);
}

/* A signed query that is no transfer (a secondary's SOA query before
 * IXFR): answered and signed with the key it came with; a bad MAC gets
 * NOTAUTH with an unsigned BADSIG. */
static void test_signed_soa(void **state)
{
	struct xenv *x = *state;
	static struct dns_tsig_key key;
	char err[128];
	assert_int_equal(dns_tsig_key_init(&key, "xfr-key.", "hmac-sha256",
		"c2VjcmV0LW9mLXRoZS14ZnIta2V5LTAxMjM0NTY3ODk=", err,
		sizeof(err)), 0);
	x->pol.keys = &key;
	x->pol.key_count = 1;
	assert_int_equal(st_env_start(&x->e), 0);
	static const struct {
		const char *ip;
		bool tcp, edns, corrupt;
		uint16_t rcode;
	} cases[] = {
		{ "127.0.0.1", false, true, false, DNS_RCODE_NOERROR },
		{ "::1", false, false, false, DNS_RCODE_NOERROR },
		{ "127.0.0.1", true, false, false, DNS_RCODE_NOERROR },
		{ "127.0.0.1", false, true, true, DNS_RCODE_NOTAUTH },
		{ "::1", true, true, true, DNS_RCODE_NOTAUTH },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t q[1024], r[DNS_MSG_MAXLEN], frame[1100];
		size_t qlen = st_query(q, (uint16_t)(0x300 + i), "example.com.",
				       DNS_TYPE_SOA, cases[i].edns, false);
		struct dns_tsig_ctx ctx;
		dns_tsig_ctx_init(&ctx, &key);
		uint64_t now = (uint64_t)time(NULL);
		assert_int_equal(dns_tsig_sign(&ctx, q, &qlen, sizeof(q), now),
				 0);
		if (cases[i].corrupt)
			q[qlen - 10] ^= 1;
		ssize_t n;
		if (cases[i].tcp) {
			int fd = st_tcp_client(cases[i].ip, x->e.port);
			assert_true(fd >= 0);
			assert_int_equal(st_write_all(fd, frame,
				st_frame(frame, 0, q, qlen)), 0);
			n = st_tcp_recv(fd, r, sizeof(r), ST_WAIT_MS);
			close(fd);
		} else {
			n = udp_exchange(x, cases[i].ip, q, qlen, r, sizeof(r));
		}
		assert_true(n > DNS_HEADER_LEN);
		if (DNS_RCODE(st_flags(r)) != cases[i].rcode)
			fail_msg("case %zu: rcode %u", i, DNS_RCODE(st_flags(r)));
		if (cases[i].rcode == DNS_RCODE_NOERROR) {
			assert_int_equal(st_count(r, DNS_SECTION_ANSWER), 1);
			assert_true(st_flags(r) & DNS_FLAG_AA);
			assert_int_equal(dns_tsig_verify_response(&ctx, r,
						(size_t)n, now), 0);
		} else {
			assert_int_equal(dns_tsig_verify_response(&ctx, r,
						(size_t)n, now), ANYDNS_EBADSIG);
		}
		dns_tsig_ctx_clear(&ctx);
	}
}

/* Without a policy the xfr layer is off: answered as before. */
static void test_xfr_off(void **state)
{
	struct xenv *x = *state;
	x->e.conf.xfr = NULL;
	assert_int_equal(st_env_start(&x->e), 0);
	uint8_t q[512], frame[600], r[DNS_MSG_MAXLEN];
	size_t qlen = st_query(q, 3, "example.com.", DNS_TYPE_AXFR, false,
			       false);
	int fd = st_tcp_client("127.0.0.1", x->e.port);
	assert_true(fd >= 0);
	assert_int_equal(st_write_all(fd, frame, st_frame(frame, 0, q, qlen)),
			 0);
	assert_true(st_tcp_recv(fd, r, sizeof(r), ST_WAIT_MS) >= DNS_HEADER_LEN);
	assert_int_equal(DNS_RCODE(st_flags(r)), DNS_RCODE_NOTAUTH);
	close(fd);
	const struct zone *z = served(x);
	uint8_t msg[1024];
	size_t len;
	assert_int_equal(xfr_notify_build(z, 1, NULL, 0, msg, sizeof(msg),
					  &len), 0);
	unsigned before = heard_n();
	ssize_t n = udp_exchange(x, "127.0.0.1", msg, len, r, sizeof(r));
	assert_true(n >= DNS_HEADER_LEN);
	assert_int_equal(DNS_RCODE(st_flags(r)), DNS_RCODE_NOTAUTH);
	assert_int_equal(heard_n(), before);
}

int main(void)
{
	st_main_init();
	write_big_zone();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_axfr_big_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_axfr_reader_stops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notify_udp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signed_soa, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_xfr_off, setup, teardown),
	};
	int failed = 0;
	for (int i = 0; i < ST_UDP_IO_RUNS; i++) {
		const char *name = st_udp_io_pick(i);
		if (name != NULL)
			failed += cmocka_run_group_tests_name(name, tests, NULL,
							      NULL);
	}
	unlink(big_zone_path);
	return failed;
}
