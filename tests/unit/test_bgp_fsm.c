/*
 * Unit tests for src/bgp/fsm.c: the RFC 4271 §8 state machine driven by
 * events, without sockets. A recording transport stands in for TCP; the
 * timers are real libuv timers on a loop that never runs, so each test
 * reads what was armed (uv_timer_get_due_in) and fires the expiry event
 * itself. Covered: every state against the main events, hold time
 * negotiation, hold timer expiry (NOTIFICATION 4/0), collision detection
 * (§6.8) both ways, the exponential back-off with its jitter, End-of-RIB
 * and the flushed() report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/internal.h"
#include "lib/wire.h"

/* ---- a transport that records -------------------------------------------- */

#define MAX_SENT 256
#define MAX_CONNS 64

struct sent {
	struct bgp_conn *conn;
	uint8_t type;
	size_t len;
	uint8_t buf[BGP_MSG_MAX];
};

static struct {
	struct sent sent[MAX_SENT];
	size_t nsent;
	struct bgp_conn *conns[MAX_CONNS];
	bool closed[MAX_CONNS];
	size_t nconns;
	unsigned connects;
	int connect_ret;
} io;

static struct bgp_conn *new_conn(struct bgp_peer *p, bool outgoing)
{
	assert_true(io.nconns < MAX_CONNS);
	struct bgp_conn *c = calloc(1, sizeof(*c));
	c->peer = p;
	c->outgoing = outgoing;
	struct sockaddr_in *l = (struct sockaddr_in *)&c->local;
	l->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &l->sin_addr);
	c->remote = p->conf.remote;
	io.conns[io.nconns++] = c;
	return c;
}

static bool is_closed(const struct bgp_conn *c)
{
	for (size_t i = 0; i < io.nconns; i++)
		if (io.conns[i] == c)
			return io.closed[i];
	fail_msg("unknown connection");
	return false;
}

static int fake_connect(struct bgp_peer *p)
{
	io.connects++;
	if (io.connect_ret != 0)
		return io.connect_ret;
	p->conn = new_conn(p, true);
	return 0;
}

static int fake_send(struct bgp_conn *c, const uint8_t *buf, size_t len)
{
	assert_false(is_closed(c));
	assert_true(io.nsent < MAX_SENT);
	struct sent *s = &io.sent[io.nsent++];
	s->conn = c;
	s->type = buf[18];
	s->len = len;
	memcpy(s->buf, buf, len);
	c->tx_queued += len;
	return 0;
}

static void fake_close(struct bgp_conn *c)
{
	for (size_t i = 0; i < io.nconns; i++)
		if (io.conns[i] == c)
			io.closed[i] = true;
}

static const struct bgp_io_ops fake_io = {
	.connect = fake_connect,
	.send = fake_send,
	.close = fake_close,
};

/* ---- fixture -------------------------------------------------------------- */

struct fx {
	uv_loop_t loop;
	struct bgp_speaker *sp;
	struct bgp_peer *p;
	unsigned changes;
	enum bgp_state last_from, last_to;
};

static void on_state(void *arg, const char *peer, enum bgp_state from,
		     enum bgp_state to)
{
	struct fx *f = arg;
	assert_string_equal(peer, "upstream");
	f->changes++;
	f->last_from = from;
	f->last_to = to;
}

static int make(void **state, const char *router_id, bool passive)
{
	memset(&io, 0, sizeof(io));
	log_set_level(LOG_LVL_SILENT);
	struct fx *f = calloc(1, sizeof(*f));
	uv_loop_init(&f->loop);
	struct in_addr id;
	inet_pton(AF_INET, router_id, &id);
	assert_int_equal(bgp_speaker_new(&f->loop, 64496, id.s_addr, &f->sp), 0);
	f->sp->io = &fake_io;
	f->sp->rng = 12345;
	bgp_speaker_on_state(f->sp, on_state, f);
	struct bgp_peer_conf c;
	bgp_peer_conf_init(&c);
	snprintf(c.name, sizeof(c.name), "upstream");
	struct sockaddr_in *r = (struct sockaddr_in *)&c.remote;
	r->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.2", &r->sin_addr);
	c.remote_as = 64497;
	c.passive = passive;
	assert_int_equal(bgp_speaker_add_peer(f->sp, &c), 0);
	f->p = f->sp->peers[0];
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return make(state, "192.0.2.1", false);
}

static int setup_high_id(void **state)
{
	return make(state, "192.0.2.200", false);
}

static int setup_passive(void **state)
{
	return make(state, "192.0.2.1", true);
}

static void stopped(void *arg)
{
	*(bool *)arg = true;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	bool done = false;
	bgp_speaker_stop(f->sp, stopped, &done);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(done);
	bgp_speaker_free(f->sp);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	for (size_t i = 0; i < io.nconns; i++)
		free(io.conns[i]);
	free(f);
	return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

static const struct sent *last_sent(void)
{
	assert_true(io.nsent > 0);
	return &io.sent[io.nsent - 1];
}

static void assert_notification(const struct sent *s, uint8_t code,
				uint8_t subcode)
{
	assert_int_equal(s->type, BGP_MSG_NOTIFICATION);
	if (s->buf[19] != code || s->buf[20] != subcode)
		fail_msg("NOTIFICATION %u/%u, want %u/%u", s->buf[19], s->buf[20],
			 code, subcode);
}

static uint64_t due(uv_timer_t *t)
{
	assert_true(uv_is_active((uv_handle_t *)t));
	return uv_timer_get_due_in(t);
}

static void assert_due_between(uv_timer_t *t, uint64_t lo, uint64_t hi)
{
	uint64_t d = due(t);
	if (d < lo || d > hi)
		fail_msg("timer due in %llu ms, want %llu..%llu",
			 (unsigned long long)d, (unsigned long long)lo,
			 (unsigned long long)hi);
}

static bool active(uv_timer_t *t)
{
	return uv_is_active((uv_handle_t *)t);
}

static void feed(struct bgp_conn *c, const uint8_t *buf, int len)
{
	assert_true(len > 0);
	bgp_conn_input(c, buf, (size_t)len);
}

static void feed_open_id(struct bgp_conn *c, uint16_t hold, uint32_t id)
{
	struct bgp_open o = {
		.my_as = 64497, .hold_time = hold, .bgp_id = id,
		.mp_ipv4 = true, .mp_ipv6 = true, .cap_route_refresh = true,
		.cap_as4 = true, .as4 = 64497,
	};
	uint8_t buf[BGP_MSG_MAX];
	feed(c, buf, bgp_msg_write_open(buf, sizeof(buf), &o));
}

static void feed_open(struct bgp_conn *c, uint16_t hold)
{
	feed_open_id(c, hold, 0xc0000202);	/* 192.0.2.2 */
}

static void feed_keepalive(struct bgp_conn *c)
{
	uint8_t buf[BGP_HEADER_LEN];
	feed(c, buf, bgp_msg_write_keepalive(buf, sizeof(buf)));
}

static void feed_notification(struct bgp_conn *c, uint8_t code, uint8_t sub)
{
	struct bgp_notify n;
	bgp_notify_set(&n, code, sub, NULL, 0);
	uint8_t buf[64];
	feed(c, buf, bgp_msg_write_notification(buf, sizeof(buf), &n));
}

static void feed_update(struct bgp_conn *c, const char *prefix)
{
	struct bgp_attr_ctx a = { .local_as = 64497, .as4 = true };
	inet_pton(AF_INET, "192.0.2.2", &a.next_hop_v4);
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(bgp_prefix_from_str(prefix, &r.prefix), 0);
	uint8_t buf[BGP_MSG_MAX];
	feed(c, buf, bgp_msg_write_announce(buf, sizeof(buf), &a, &r));
}

/* Idle → Connect → OpenSent. */
static void to_opensent(struct fx *f)
{
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	assert_int_equal(f->p->state, BGP_STATE_CONNECT);
	bgp_fsm(f->p, BGP_EV_TCP_CR_ACKED, NULL);
	assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
}

static void to_openconfirm(struct fx *f, uint16_t hold)
{
	to_opensent(f);
	feed_open(f->p->conn, hold);
	assert_int_equal(f->p->state, BGP_STATE_OPENCONFIRM);
}

static void to_established(struct fx *f)
{
	to_openconfirm(f, 90);
	feed_keepalive(f->p->conn);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
}

/* ---- Idle ------------------------------------------------------------------ */

static void idle_ignores_events(void **state)
{
	struct fx *f = *state;
	static const enum bgp_event evs[] = {
		BGP_EV_CONNECT_RETRY_EXPIRES, BGP_EV_HOLD_EXPIRES,
		BGP_EV_KEEPALIVE_EXPIRES, BGP_EV_TCP_CR_ACKED,
		BGP_EV_TCP_FAILS, BGP_EV_KEEPALIVE_MSG, BGP_EV_NOTIF,
		BGP_EV_MANUAL_STOP, BGP_EV_AUTOMATIC_START,
	};
	static struct bgp_msg m;
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		bgp_fsm(f->p, evs[i], &m);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_int_equal(io.nsent, 0);
	assert_int_equal(io.connects, 0);
	assert_int_equal(f->changes, 0);
	/* §8.2.2 Idle refuses connections. */
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	assert_true(is_closed(in));
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void manual_start_connects(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	assert_int_equal(f->p->state, BGP_STATE_CONNECT);
	assert_int_equal(io.connects, 1);
	assert_non_null(f->p->conn);
	/* ConnectRetry 5 s, jittered down by at most a quarter (§10). */
	assert_due_between(&f->p->connect_retry, 3750, 5000);
	assert_int_equal(f->changes, 1);
	assert_int_equal(f->last_from, BGP_STATE_IDLE);
	assert_int_equal(f->last_to, BGP_STATE_CONNECT);
	/* A second start changes nothing. */
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	assert_int_equal(io.connects, 1);
}

static void passive_waits_in_active(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	assert_int_equal(f->p->state, BGP_STATE_ACTIVE);
	assert_int_equal(io.connects, 0);
	assert_false(active(&f->p->connect_retry));
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
	assert_ptr_equal(f->p->conn, in);
	assert_int_equal(last_sent()->type, BGP_MSG_OPEN);
	assert_ptr_equal(last_sent()->conn, in);
}

/* ---- Connect and Active ----------------------------------------------------- */

static void connect_success_sends_open(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	assert_int_equal(io.nsent, 1);
	const struct sent *s = last_sent();
	assert_int_equal(s->type, BGP_MSG_OPEN);
	/* Our OPEN: version 4, AS 64496, hold 90, id 192.0.2.1. */
	assert_int_equal(s->buf[19], 4);
	assert_int_equal(wire_get_u16(s->buf + 20), 64496);
	assert_int_equal(wire_get_u16(s->buf + 22), 90);
	assert_int_equal(wire_get_u32(s->buf + 24), 0xc0000201);
	assert_false(active(&f->p->connect_retry));
	/* §8.2.2: a large hold time (4 minutes) until the OPEN arrives. */
	assert_int_equal(due(&f->p->hold), 240000);
}

static void connect_failure_waits_in_active(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	struct bgp_conn *first = f->p->conn;
	bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	assert_int_equal(f->p->state, BGP_STATE_ACTIVE);
	assert_true(is_closed(first));
	assert_null(f->p->conn);
	assert_true(active(&f->p->connect_retry));
	/* The retry: doubled delay, a new connection (§8.2.2 Active). */
	bgp_fsm(f->p, BGP_EV_CONNECT_RETRY_EXPIRES, NULL);
	assert_int_equal(f->p->state, BGP_STATE_CONNECT);
	assert_int_equal(io.connects, 2);
	assert_int_equal(f->p->failures, 1);
	assert_due_between(&f->p->connect_retry, 7500, 10000);
	/* Still nothing after the timer in Connect: drop, retry, double. */
	struct bgp_conn *second = f->p->conn;
	bgp_fsm(f->p, BGP_EV_CONNECT_RETRY_EXPIRES, NULL);
	assert_int_equal(f->p->state, BGP_STATE_CONNECT);
	assert_true(is_closed(second));
	assert_int_equal(io.connects, 3);
	assert_due_between(&f->p->connect_retry, 15000, 20000);
	assert_int_equal(io.nsent, 0);
}

static void connect_refused_at_once(void **state)
{
	struct fx *f = *state;
	io.connect_ret = ANYDNS_EINVAL;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	assert_int_equal(f->p->state, BGP_STATE_ACTIVE);
	assert_true(active(&f->p->connect_retry));
}

static void incoming_while_connecting(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	struct bgp_conn *out = f->p->conn;
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	/* Our attempt stays; the peer's connection waits, without our OPEN
	 * yet. */
	assert_int_equal(f->p->state, BGP_STATE_CONNECT);
	assert_false(is_closed(out));
	assert_ptr_equal(f->p->collide, in);
	assert_int_equal(io.nsent, 0);
	assert_int_equal(due(&f->p->collide_hold), 240000);
	/* Its OPEN arrives first: no collision with a connection still in
	 * Connect (§6.8); the peer's connection carries the session. */
	feed_open(in, 90);
	assert_int_equal(io.nsent, 2);
	assert_int_equal(io.sent[0].type, BGP_MSG_OPEN);
	assert_ptr_equal(io.sent[0].conn, in);
	assert_true(is_closed(out));
	assert_ptr_equal(f->p->conn, in);
	assert_null(f->p->collide);
	assert_false(active(&f->p->connect_retry));
	assert_int_equal(f->p->state, BGP_STATE_OPENCONFIRM);
	assert_int_equal(last_sent()->type, BGP_MSG_KEEPALIVE);
}

static void incoming_then_connect_fails(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	struct bgp_conn *out = f->p->conn;
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	assert_true(is_closed(out));
	assert_ptr_equal(f->p->conn, in);
	assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
	assert_int_equal(due(&f->p->hold), 240000);
	assert_int_equal(last_sent()->type, BGP_MSG_OPEN);
	assert_ptr_equal(last_sent()->conn, in);
	/* Active (nothing pending): the peer's connection is taken at once. */
	bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	assert_int_equal(f->p->state, BGP_STATE_ACTIVE);
	struct bgp_conn *in2 = new_conn(f->p, false);
	bgp_peer_accept(f->p, in2);
	assert_ptr_equal(f->p->conn, in2);
	assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
}

static void connect_stop_and_other_events(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	bgp_fsm(f->p, BGP_EV_MANUAL_STOP, NULL);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_false(active(&f->p->connect_retry));
	assert_false(active(&f->p->idle_hold));
	assert_int_equal(io.nsent, 0);
	/* §8.2.2 Connect: an event without meaning there → Idle. */
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	bgp_fsm(f->p, BGP_EV_HOLD_EXPIRES, NULL);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_true(active(&f->p->idle_hold));
}

/* ---- OpenSent ----------------------------------------------------------------- */

static void opensent_open_negotiates_hold(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	feed_open(f->p->conn, 30);
	assert_int_equal(f->p->state, BGP_STATE_OPENCONFIRM);
	assert_int_equal(last_sent()->type, BGP_MSG_KEEPALIVE);
	/* §4.2: the smaller hold time; keepalives at a third (§4.4). */
	assert_int_equal(f->p->params.hold_time, 30);
	assert_int_equal(due(&f->p->hold), 30000);
	assert_int_equal(due(&f->p->keepalive), 10000);
	assert_true(f->p->params.as4);
	assert_true(f->p->params.ipv4);
	assert_true(f->p->params.ipv6);
}

static void opensent_hold_zero(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	feed_open(f->p->conn, 0);
	assert_int_equal(f->p->state, BGP_STATE_OPENCONFIRM);
	assert_int_equal(f->p->params.hold_time, 0);
	assert_false(active(&f->p->hold));
	assert_false(active(&f->p->keepalive));
	feed_keepalive(f->p->conn);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
	assert_false(active(&f->p->hold));
	assert_false(active(&f->p->keepalive));
}

static void opensent_bad_open(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	struct bgp_conn *c = f->p->conn;
	/* Version 3: NOTIFICATION 2/1 with our version as data (§6.2). */
	uint8_t buf[BGP_OPEN_MIN];
	memset(buf, 0xff, 16);
	wire_put_u16(buf + 16, BGP_OPEN_MIN);
	buf[18] = BGP_MSG_OPEN;
	uint8_t body[] = { 3, 0xfb, 0xf1, 0, 90, 192, 0, 2, 2, 0 };
	memcpy(buf + 19, body, sizeof(body));
	feed(c, buf, sizeof(buf));
	assert_notification(last_sent(), 2, 1);
	assert_int_equal(last_sent()->len, 23);
	assert_int_equal(wire_get_u16(last_sent()->buf + 21), 4);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_true(is_closed(c));
	assert_true(active(&f->p->idle_hold));
	assert_int_equal(f->p->st.last_error_code, 2);
	assert_true(f->p->st.last_error_sent);
}

static void opensent_wrong_as(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	f->p->conf.remote_as = 65000;
	feed_open(f->p->conn, 90);
	assert_notification(last_sent(), 2, 2);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void opensent_unexpected(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	feed_keepalive(f->p->conn);
	/* RFC 6608: Receive Unexpected Message in OpenSent. */
	assert_notification(last_sent(), 5, 1);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);

	bgp_fsm(f->p, BGP_EV_AUTOMATIC_START, NULL);
	bgp_fsm(f->p, BGP_EV_TCP_CR_ACKED, NULL);
	feed_update(f->p->conn, "198.51.100.0/24");
	assert_notification(last_sent(), 5, 1);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void opensent_hold_expires(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	bgp_fsm(f->p, BGP_EV_HOLD_EXPIRES, NULL);
	assert_notification(last_sent(), 4, 0);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void opensent_tcp_fails(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	struct bgp_conn *c = f->p->conn;
	bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	/* §8.2.2 OpenSent: back to Active with the ConnectRetryTimer. */
	assert_int_equal(f->p->state, BGP_STATE_ACTIVE);
	assert_true(is_closed(c));
	assert_true(active(&f->p->connect_retry));
	assert_false(active(&f->p->hold));
}

static void opensent_header_error(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	struct bgp_notify err;
	bgp_notify_set(&err, 1, 1, NULL, 0);
	bgp_conn_header_error(f->p->conn, &err);
	assert_notification(last_sent(), 1, 1);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void opensent_manual_stop(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	bgp_fsm(f->p, BGP_EV_MANUAL_STOP, NULL);
	/* RFC 4486: Cease / Administrative Shutdown; no restart. */
	assert_notification(last_sent(), 6, 2);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_false(active(&f->p->idle_hold));
	assert_false(f->p->started);
}

static void opensent_notification(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	size_t n = io.nsent;
	feed_notification(f->p->conn, 2, 2);
	/* Not answered; the peer's reason is kept as the last error. */
	assert_int_equal(io.nsent, n);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_false(f->p->st.last_error_sent);
	assert_int_equal(f->p->st.last_error_code, 2);
	assert_int_equal(f->p->st.last_error_subcode, 2);
	/* A version error is event 24: the same. */
	bgp_fsm(f->p, BGP_EV_AUTOMATIC_START, NULL);
	bgp_fsm(f->p, BGP_EV_TCP_CR_ACKED, NULL);
	n = io.nsent;
	feed_notification(f->p->conn, 2, 1);
	assert_int_equal(io.nsent, n);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

/* ---- OpenConfirm ------------------------------------------------------------- */

static void openconfirm_events(void **state)
{
	struct fx *f = *state;
	to_openconfirm(f, 90);
	size_t n = io.nsent;
	bgp_fsm(f->p, BGP_EV_KEEPALIVE_EXPIRES, NULL);
	assert_int_equal(io.nsent, n + 1);
	assert_int_equal(last_sent()->type, BGP_MSG_KEEPALIVE);
	assert_int_equal(due(&f->p->keepalive), 30000);
	/* A second OPEN on the same connection: RFC 6608 subcode 2. */
	feed_open(f->p->conn, 90);
	assert_notification(last_sent(), 5, 2);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void openconfirm_hold_expires(void **state)
{
	struct fx *f = *state;
	to_openconfirm(f, 90);
	bgp_fsm(f->p, BGP_EV_HOLD_EXPIRES, NULL);
	assert_notification(last_sent(), 4, 0);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void openconfirm_update_is_error(void **state)
{
	struct fx *f = *state;
	to_openconfirm(f, 90);
	feed_update(f->p->conn, "198.51.100.0/24");
	assert_notification(last_sent(), 5, 2);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void openconfirm_notification(void **state)
{
	struct fx *f = *state;
	to_openconfirm(f, 90);
	size_t n = io.nsent;
	feed_notification(f->p->conn, 6, 4);
	assert_int_equal(io.nsent, n);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_int_equal(f->p->st.last_error_code, 6);
	assert_int_equal(f->p->st.last_error_subcode, 4);
	assert_false(f->p->st.last_error_sent);
	assert_true(active(&f->p->idle_hold));
}

/* ---- Established --------------------------------------------------------------- */

static void established_sends_rib_and_eor(void **state)
{
	struct fx *f = *state;
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(bgp_prefix_from_str("192.0.2.53/32", &r.prefix), 0);
	assert_int_equal(bgp_announce(f->sp, &r), 0);
	assert_int_equal(bgp_prefix_from_str("2001:db8::53/128", &r.prefix), 0);
	assert_int_equal(bgp_announce(f->sp, &r), 0);
	assert_int_equal(io.nsent, 0);	/* no session yet */
	to_established(f);
	assert_int_equal(f->p->st.established_count, 1);
	/* OPEN, KEEPALIVE, the IPv4 route, End-of-RIB IPv4 and IPv6; the
	 * IPv6 route is not sent: an IPv4 session without an IPv6 next hop. */
	assert_int_equal(io.nsent, 5);
	static struct bgp_msg m;
	assert_int_equal(bgp_msg_decode(io.sent[2].buf, io.sent[2].len,
					&(struct bgp_decode_ctx){ true, true, true },
					&m), 0);
	assert_int_equal(m.u.update.announced, 1);
	assert_memory_equal(&m.u.update.next_hop, "\xc0\x00\x02\x01", 4);
	assert_int_equal(m.u.update.as_path_len, 1);
	assert_int_equal(m.u.update.as_path[0], 64496);
	for (int i = 3; i < 5; i++) {
		assert_int_equal(bgp_msg_decode(io.sent[i].buf, io.sent[i].len,
						&(struct bgp_decode_ctx){ true, true, true },
						&m), 0);
		assert_true(m.u.update.eor);
		assert_int_equal(m.u.update.eor_family, i == 3 ? AF_INET : AF_INET6);
	}
	struct bgp_peer_status st;
	assert_int_equal(bgp_speaker_status(f->sp, &st, 1), 1);
	assert_int_equal(st.state, BGP_STATE_ESTABLISHED);
	assert_int_equal(st.prefixes_announced, 1);
	assert_int_equal(st.hold_time, 90);
	assert_int_equal(st.updates_out, 3);
	assert_int_equal(st.msgs_out, 5);
	assert_int_equal(st.msgs_in, 2);
	assert_string_equal(st.name, "upstream");
}

static void established_messages(void **state)
{
	struct fx *f = *state;
	to_established(f);
	struct bgp_conn *c = f->p->conn;
	/* Keepalives and UPDATEs restart the hold timer; received routes
	 * are counted and dropped. */
	feed_update(c, "198.51.100.0/24");
	feed_update(c, "203.0.113.0/24");
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
	assert_int_equal(f->p->st.prefixes_received, 2);
	assert_int_equal(f->p->st.updates_in, 2);
	feed_keepalive(c);
	assert_int_equal(due(&f->p->hold), 90000);
	/* Sending a KEEPALIVE or an UPDATE restarts our KeepaliveTimer. */
	bgp_fsm(f->p, BGP_EV_KEEPALIVE_EXPIRES, NULL);
	assert_int_equal(last_sent()->type, BGP_MSG_KEEPALIVE);
	assert_int_equal(due(&f->p->keepalive), 30000);
	/* RFC 7606: a bad ORIGIN withdraws, the session stays. */
	uint8_t buf[BGP_MSG_MAX];
	struct bgp_attr_ctx a = { .local_as = 64497, .as4 = true };
	inet_pton(AF_INET, "192.0.2.2", &a.next_hop_v4);
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	bgp_prefix_from_str("198.51.100.0/24", &r.prefix);
	int len = bgp_msg_write_announce(buf, sizeof(buf), &a, &r);
	buf[19 + 4 + 3] = 7;	/* ORIGIN value */
	size_t n = io.nsent;
	feed(c, buf, len);
	assert_int_equal(io.nsent, n);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
	assert_int_equal(f->p->st.prefixes_received, 2);
	/* An unrecognized well-known attribute resets (§6.3, 3/2). */
	buf[19 + 4] = 0x40;
	buf[19 + 4 + 1] = 99;
	feed(c, buf, len);
	assert_notification(last_sent(), 3, 2);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
}

static void established_hold_expires(void **state)
{
	struct fx *f = *state;
	to_established(f);
	struct bgp_conn *c = f->p->conn;
	bgp_fsm(f->p, BGP_EV_HOLD_EXPIRES, NULL);
	/* §6.5: Hold Timer Expired, code 4, subcode 0. */
	assert_notification(last_sent(), 4, 0);
	assert_int_equal(last_sent()->len, BGP_NOTIFICATION_MIN);
	assert_ptr_equal(last_sent()->conn, c);
	assert_true(is_closed(c));
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_int_equal(f->last_from, BGP_STATE_ESTABLISHED);
	assert_false(active(&f->p->hold));
	assert_false(active(&f->p->keepalive));
	assert_due_between(&f->p->idle_hold, 3750, 5000);
}

static void established_route_refresh(void **state)
{
	struct fx *f = *state;
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	bgp_prefix_from_str("192.0.2.53/32", &r.prefix);
	bgp_announce(f->sp, &r);
	to_established(f);
	size_t n = io.nsent;
	uint8_t buf[32];
	feed(f->p->conn, buf, bgp_msg_write_route_refresh(buf, sizeof(buf), 1, 1));
	assert_int_equal(io.nsent, n + 1);
	assert_int_equal(last_sent()->type, BGP_MSG_UPDATE);
	/* RFC 2918 §4: a family not negotiated is ignored. */
	feed(f->p->conn, buf, bgp_msg_write_route_refresh(buf, sizeof(buf), 25, 70));
	assert_int_equal(io.nsent, n + 1);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
}

static void established_other_events(void **state)
{
	struct fx *f = *state;
	to_established(f);
	feed_open(f->p->conn, 90);
	assert_notification(last_sent(), 5, 3);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);

	bgp_fsm(f->p, BGP_EV_AUTOMATIC_START, NULL);
	bgp_fsm(f->p, BGP_EV_TCP_CR_ACKED, NULL);
	feed_open(f->p->conn, 90);
	feed_keepalive(f->p->conn);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
	assert_int_equal(f->p->st.established_count, 2);
	bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_true(active(&f->p->idle_hold));

	bgp_fsm(f->p, BGP_EV_AUTOMATIC_START, NULL);
	bgp_fsm(f->p, BGP_EV_TCP_CR_ACKED, NULL);
	feed_open(f->p->conn, 90);
	feed_keepalive(f->p->conn);
	bgp_fsm(f->p, BGP_EV_MANUAL_STOP, NULL);
	assert_notification(last_sent(), 6, 2);
	assert_int_equal(f->p->state, BGP_STATE_IDLE);
	assert_false(active(&f->p->idle_hold));
}

static void announce_withdraw_flushed(void **state)
{
	struct fx *f = *state;
	to_established(f);
	struct bgp_conn *c = f->p->conn;
	c->tx_done = c->tx_queued;
	assert_true(bgp_speaker_flushed(f->sp));
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	bgp_prefix_from_str("192.0.2.53/32", &r.prefix);
	r.prepend = 2;
	size_t n = io.nsent;
	assert_int_equal(bgp_announce(f->sp, &r), 0);
	assert_int_equal(io.nsent, n + 1);
	assert_false(bgp_speaker_flushed(f->sp));
	c->tx_done = c->tx_queued;
	assert_true(bgp_speaker_flushed(f->sp));
	assert_int_equal(bgp_withdraw(f->sp, &r.prefix), 0);
	assert_int_equal(io.nsent, n + 2);
	static struct bgp_msg m;
	assert_int_equal(bgp_msg_decode(last_sent()->buf, last_sent()->len,
					&(struct bgp_decode_ctx){ true, true, true },
					&m), 0);
	assert_int_equal(m.u.update.withdrawn, 1);
	assert_false(bgp_speaker_flushed(f->sp));
	assert_int_equal(bgp_withdraw(f->sp, &r.prefix), ANYDNS_ENOENT);
	/* A session that dies takes the routes with it: flushed. */
	bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	assert_true(bgp_speaker_flushed(f->sp));
}

/* ---- collisions (§6.8) ------------------------------------------------------- */

static void collision_peer_higher(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	struct bgp_conn *out = f->p->conn;
	struct bgp_conn *in = new_conn(f->p, false);
	size_t n = io.nsent;
	bgp_peer_accept(f->p, in);
	assert_ptr_equal(f->p->collide, in);
	assert_int_equal(io.nsent, n);	/* our OPEN waits for its OPEN */
	/* The peer (192.0.2.2) is higher than us (192.0.2.1): its
	 * connection stays, ours gets Cease / Connection Collision. */
	feed_open(out, 90);
	assert_int_equal(f->p->state, BGP_STATE_OPENCONFIRM);
	feed_open(in, 90);
	assert_true(is_closed(out));
	assert_false(is_closed(in));
	assert_ptr_equal(f->p->conn, in);
	assert_null(f->p->collide);
	assert_int_equal(io.sent[io.nsent - 2].type, BGP_MSG_OPEN);
	assert_ptr_equal(io.sent[io.nsent - 2].conn, in);
	bool ceased = false;
	for (size_t i = 0; i < io.nsent; i++)
		if (io.sent[i].conn == out && io.sent[i].type == BGP_MSG_NOTIFICATION &&
		    io.sent[i].buf[19] == 6 && io.sent[i].buf[20] == 7)
			ceased = true;
	assert_true(ceased);
	assert_int_equal(f->p->state, BGP_STATE_OPENCONFIRM);
	assert_int_equal(last_sent()->type, BGP_MSG_KEEPALIVE);
	assert_ptr_equal(last_sent()->conn, in);
	feed_keepalive(in);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
}

static void collision_we_are_higher(void **state)
{
	struct fx *f = *state;	/* we are 192.0.2.200 */
	to_opensent(f);
	struct bgp_conn *out = f->p->conn;
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	feed_open(in, 90);
	/* Ours (initiated by the higher id) stays; the other one never got
	 * our OPEN, only the Cease. */
	assert_notification(last_sent(), 6, 7);
	assert_ptr_equal(last_sent()->conn, in);
	for (size_t i = 0; i + 1 < io.nsent; i++)
		assert_ptr_not_equal(io.sent[i].conn, in);
	assert_true(is_closed(in));
	assert_false(is_closed(out));
	assert_ptr_equal(f->p->conn, out);
	assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
	feed_open(out, 90);
	feed_keepalive(out);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
}

static void collision_with_established(void **state)
{
	struct fx *f = *state;
	to_established(f);
	struct bgp_conn *out = f->p->conn;
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	feed_open(in, 90);
	/* §6.8: a collision with an Established session closes the new
	 * connection, whatever the identifiers. */
	assert_notification(last_sent(), 6, 7);
	assert_true(is_closed(in));
	assert_false(is_closed(out));
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
}

static void collision_peer_closes_first(void **state)
{
	struct fx *f = *state;
	to_opensent(f);
	struct bgp_conn *out = f->p->conn;
	struct bgp_conn *in = new_conn(f->p, false);
	bgp_peer_accept(f->p, in);
	/* The peer resolved first and closed our connection: carry on
	 * with its own, which already has our OPEN. */
	feed_notification(out, 6, 7);
	assert_true(is_closed(out));
	assert_ptr_equal(f->p->conn, in);
	assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
	feed_open(in, 90);
	feed_keepalive(in);
	assert_int_equal(f->p->state, BGP_STATE_ESTABLISHED);
	/* A third connection while one is pending or up is refused. */
	struct bgp_conn *third = new_conn(f->p, false);
	struct bgp_conn *fourth = new_conn(f->p, false);
	bgp_peer_accept(f->p, third);
	bgp_peer_accept(f->p, fourth);
	assert_true(is_closed(fourth));
	assert_false(is_closed(third));
}

/* ---- every state against the main events ---------------------------------- */

enum sent_kind { NONE, OPEN, KA, UPD, NOTIF };

struct cell {
	enum bgp_state from;
	enum bgp_event ev;
	enum bgp_state to;
	enum sent_kind sent;
	uint8_t code, subcode;		/* of NOTIF */
};

#define I BGP_STATE_IDLE
#define C BGP_STATE_CONNECT
#define A BGP_STATE_ACTIVE
#define S BGP_STATE_OPENSENT
#define O BGP_STATE_OPENCONFIRM
#define E BGP_STATE_ESTABLISHED

/* RFC 4271 §8.2.2 with the choices named in fsm.c: Connect falls back to
 * Active on a failed connection, a NOTIFICATION is never answered, and
 * the unexpected-message subcodes are those of RFC 6608. */
static const struct cell matrix[] = {
	{ I, BGP_EV_MANUAL_START, C, NONE, 0, 0 },
	{ I, BGP_EV_MANUAL_STOP, I, NONE, 0, 0 },
	{ I, BGP_EV_CONNECT_RETRY_EXPIRES, I, NONE, 0, 0 },
	{ I, BGP_EV_HOLD_EXPIRES, I, NONE, 0, 0 },
	{ I, BGP_EV_KEEPALIVE_EXPIRES, I, NONE, 0, 0 },
	{ I, BGP_EV_TCP_CR_ACKED, I, NONE, 0, 0 },
	{ I, BGP_EV_TCP_FAILS, I, NONE, 0, 0 },
	{ I, BGP_EV_KEEPALIVE_MSG, I, NONE, 0, 0 },
	{ I, BGP_EV_UPDATE_MSG, I, NONE, 0, 0 },
	{ I, BGP_EV_NOTIF, I, NONE, 0, 0 },

	{ C, BGP_EV_MANUAL_START, C, NONE, 0, 0 },
	{ C, BGP_EV_MANUAL_STOP, I, NONE, 0, 0 },
	{ C, BGP_EV_CONNECT_RETRY_EXPIRES, C, NONE, 0, 0 },
	{ C, BGP_EV_HOLD_EXPIRES, I, NONE, 0, 0 },
	{ C, BGP_EV_KEEPALIVE_EXPIRES, I, NONE, 0, 0 },
	{ C, BGP_EV_TCP_CR_ACKED, S, OPEN, 0, 0 },
	{ C, BGP_EV_TCP_FAILS, A, NONE, 0, 0 },
	{ C, BGP_EV_KEEPALIVE_MSG, I, NONE, 0, 0 },
	{ C, BGP_EV_UPDATE_MSG, I, NONE, 0, 0 },
	{ C, BGP_EV_NOTIF, I, NONE, 0, 0 },

	{ A, BGP_EV_MANUAL_START, A, NONE, 0, 0 },
	{ A, BGP_EV_MANUAL_STOP, I, NONE, 0, 0 },
	{ A, BGP_EV_CONNECT_RETRY_EXPIRES, C, NONE, 0, 0 },
	{ A, BGP_EV_HOLD_EXPIRES, I, NONE, 0, 0 },
	{ A, BGP_EV_KEEPALIVE_EXPIRES, I, NONE, 0, 0 },
	{ A, BGP_EV_TCP_CR_ACKED, A, NONE, 0, 0 },
	{ A, BGP_EV_TCP_FAILS, A, NONE, 0, 0 },
	{ A, BGP_EV_KEEPALIVE_MSG, I, NONE, 0, 0 },
	{ A, BGP_EV_UPDATE_MSG, I, NONE, 0, 0 },
	{ A, BGP_EV_NOTIF, I, NONE, 0, 0 },

	{ S, BGP_EV_MANUAL_START, S, NONE, 0, 0 },
	{ S, BGP_EV_MANUAL_STOP, I, NOTIF, 6, 2 },
	{ S, BGP_EV_CONNECT_RETRY_EXPIRES, I, NOTIF, 5, 1 },
	{ S, BGP_EV_HOLD_EXPIRES, I, NOTIF, 4, 0 },
	{ S, BGP_EV_KEEPALIVE_EXPIRES, I, NOTIF, 5, 1 },
	{ S, BGP_EV_TCP_CR_ACKED, S, NONE, 0, 0 },
	{ S, BGP_EV_TCP_FAILS, A, NONE, 0, 0 },
	{ S, BGP_EV_KEEPALIVE_MSG, I, NOTIF, 5, 1 },
	{ S, BGP_EV_UPDATE_MSG, I, NOTIF, 5, 1 },
	{ S, BGP_EV_NOTIF, I, NONE, 0, 0 },

	{ O, BGP_EV_MANUAL_START, O, NONE, 0, 0 },
	{ O, BGP_EV_MANUAL_STOP, I, NOTIF, 6, 2 },
	{ O, BGP_EV_CONNECT_RETRY_EXPIRES, I, NOTIF, 5, 2 },
	{ O, BGP_EV_HOLD_EXPIRES, I, NOTIF, 4, 0 },
	{ O, BGP_EV_KEEPALIVE_EXPIRES, O, KA, 0, 0 },
	{ O, BGP_EV_TCP_CR_ACKED, O, NONE, 0, 0 },
	{ O, BGP_EV_TCP_FAILS, I, NONE, 0, 0 },
	{ O, BGP_EV_KEEPALIVE_MSG, E, UPD, 0, 0 },	/* End-of-RIB */
	{ O, BGP_EV_UPDATE_MSG, I, NOTIF, 5, 2 },
	{ O, BGP_EV_NOTIF, I, NONE, 0, 0 },

	{ E, BGP_EV_MANUAL_START, E, NONE, 0, 0 },
	{ E, BGP_EV_MANUAL_STOP, I, NOTIF, 6, 2 },
	{ E, BGP_EV_CONNECT_RETRY_EXPIRES, I, NOTIF, 5, 3 },
	{ E, BGP_EV_HOLD_EXPIRES, I, NOTIF, 4, 0 },
	{ E, BGP_EV_KEEPALIVE_EXPIRES, E, KA, 0, 0 },
	{ E, BGP_EV_TCP_CR_ACKED, E, NONE, 0, 0 },
	{ E, BGP_EV_TCP_FAILS, I, NONE, 0, 0 },
	{ E, BGP_EV_KEEPALIVE_MSG, E, NONE, 0, 0 },
	{ E, BGP_EV_UPDATE_MSG, E, NONE, 0, 0 },
	{ E, BGP_EV_NOTIF, I, NONE, 0, 0 },
};

#undef I
#undef C
#undef A
#undef S
#undef O
#undef E

static void reach(struct fx *f, enum bgp_state s)
{
	if (s == BGP_STATE_IDLE)
		return;
	if (s == BGP_STATE_ACTIVE) {
		bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
		bgp_fsm(f->p, BGP_EV_TCP_FAILS, NULL);
	} else if (s == BGP_STATE_CONNECT) {
		bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	} else if (s == BGP_STATE_OPENSENT) {
		to_opensent(f);
	} else if (s == BGP_STATE_OPENCONFIRM) {
		to_openconfirm(f, 90);
	} else {
		to_established(f);
	}
	assert_int_equal(f->p->state, s);
}

static void state_event_matrix(void **state)
{
	(void)state;
	static struct bgp_msg m;
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		const struct cell *c = &matrix[i];
		void *st;
		setup(&st);
		struct fx *f = st;
		reach(f, c->from);
		size_t n = io.nsent;
		memset(&m, 0, sizeof(m));
		m.type = c->ev == BGP_EV_UPDATE_MSG ? BGP_MSG_UPDATE :
			 c->ev == BGP_EV_NOTIF ? BGP_MSG_NOTIFICATION :
			 BGP_MSG_KEEPALIVE;
		m.reason = "";
		if (c->ev == BGP_EV_NOTIF)
			bgp_notify_set(&m.u.notification, 6, 3, NULL, 0);
		bgp_fsm(f->p, c->ev, &m);
		if (f->p->state != c->to)
			fail_msg("%s + %s: %s, want %s", bgp_state_name(c->from),
				 bgp_event_name(c->ev), bgp_state_name(f->p->state),
				 bgp_state_name(c->to));
		bool sent_one = io.nsent > n;
		const struct sent *s = sent_one ? &io.sent[n] : NULL;
		switch (c->sent) {
		case NONE:
			if (sent_one)
				fail_msg("%s + %s: sent type %u", bgp_state_name(c->from),
					 bgp_event_name(c->ev), s->type);
			break;
		case OPEN:
		case KA:
		case UPD:
			assert_true(sent_one);
			assert_int_equal(s->type, c->sent == OPEN ? BGP_MSG_OPEN :
					 c->sent == KA ? BGP_MSG_KEEPALIVE :
					 BGP_MSG_UPDATE);
			break;
		case NOTIF:
			if (!sent_one)
				fail_msg("%s + %s: no NOTIFICATION",
					 bgp_state_name(c->from), bgp_event_name(c->ev));
			assert_notification(s, c->code, c->subcode);
			break;
		}
		teardown(&st);
	}
}

/* ---- back-off ------------------------------------------------------------------- */

static void backoff_sequence(void **state)
{
	struct fx *f = *state;
	static const uint64_t want[] = { 5000, 10000, 20000, 40000, 80000,
					 120000, 120000 };
	for (uint32_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
		assert_int_equal(bgp_backoff_ms(f->p, n), want[n]);
	f->p->conf.connect_retry = 200;
	assert_int_equal(bgp_backoff_ms(f->p, 0), 200000);
	assert_int_equal(bgp_backoff_ms(f->p, 5), 200000);
	f->p->conf.connect_retry = 1;
	assert_int_equal(bgp_backoff_ms(f->p, 3), 8000);
}

static void backoff_grows_after_failures(void **state)
{
	struct fx *f = *state;
	bgp_fsm(f->p, BGP_EV_MANUAL_START, NULL);
	uint64_t lo_sum = 0;
	/* Sessions that fail in OpenSent again and again: each restart
	 * waits twice as long, jittered by up to a quarter, capped. */
	for (uint32_t i = 0; i < 8; i++) {
		bgp_fsm(f->p, BGP_EV_TCP_CR_ACKED, NULL);
		assert_int_equal(f->p->state, BGP_STATE_OPENSENT);
		bgp_fsm(f->p, BGP_EV_HOLD_EXPIRES, NULL);
		assert_int_equal(f->p->state, BGP_STATE_IDLE);
		uint64_t nominal = bgp_backoff_ms(f->p, i);
		assert_due_between(&f->p->idle_hold, nominal - nominal / 4, nominal);
		lo_sum += nominal - due(&f->p->idle_hold);
		assert_int_equal(f->p->failures, i + 1);
		bgp_fsm(f->p, BGP_EV_AUTOMATIC_START, NULL);
		assert_int_equal(f->p->state, BGP_STATE_CONNECT);
	}
	/* The jitter is not always zero. */
	assert_true(lo_sum > 0);
	/* A session that comes up and stays long enough clears the count
	 * when it goes down; a ManualStop clears it too. */
	bgp_fsm(f->p, BGP_EV_MANUAL_STOP, NULL);
	assert_int_equal(f->p->failures, 0);
	assert_false(active(&f->p->idle_hold));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(idle_ignores_events, setup, teardown),
		cmocka_unit_test_setup_teardown(manual_start_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(passive_waits_in_active, setup_passive,
						teardown),
		cmocka_unit_test_setup_teardown(connect_success_sends_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(connect_failure_waits_in_active,
						setup, teardown),
		cmocka_unit_test_setup_teardown(connect_refused_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(incoming_while_connecting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(incoming_then_connect_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(connect_stop_and_other_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(opensent_open_negotiates_hold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(opensent_hold_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_bad_open, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_wrong_as, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_unexpected, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_hold_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_tcp_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_header_error, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_manual_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(opensent_notification, setup, teardown),
		cmocka_unit_test_setup_teardown(openconfirm_events, setup, teardown),
		cmocka_unit_test_setup_teardown(openconfirm_hold_expires, setup,
						teardown),
		cmocka_unit_test_setup_teardown(openconfirm_update_is_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(openconfirm_notification, setup,
						teardown),
		cmocka_unit_test_setup_teardown(established_sends_rib_and_eor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(established_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(established_hold_expires, setup,
						teardown),
		cmocka_unit_test_setup_teardown(established_route_refresh, setup,
						teardown),
		cmocka_unit_test_setup_teardown(established_other_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(announce_withdraw_flushed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(collision_peer_higher, setup, teardown),
		cmocka_unit_test_setup_teardown(collision_we_are_higher, setup_high_id,
						teardown),
		cmocka_unit_test_setup_teardown(collision_with_established, setup,
						teardown),
		cmocka_unit_test_setup_teardown(collision_peer_closes_first, setup,
						teardown),
		cmocka_unit_test(state_event_matrix),
		cmocka_unit_test_setup_teardown(backoff_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(backoff_grows_after_failures, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
