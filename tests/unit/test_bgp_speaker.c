/*
 * Unit tests for src/bgp/speaker.c (and the TCP transport under it): two
 * speakers on one libuv loop talking over loopback (127.0.0.1 and
 * 127.0.0.2, ports picked free at run time). Covered: sessions coming up
 * (both active, so connections collide; one passive), hold time
 * negotiation, the routes and End-of-RIB sent on establishment, announce
 * and withdraw with every attribute, IPv6 routes over an IPv4 session with
 * a configured next hop, route refresh, flushed() with a peer that stops
 * reading, TCP MD5 with the same and with different keys, refusal of an
 * unknown address, and stop with Cease. Also the prefix text forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/internal.h"

#define MAX_UPDATES 64

struct side {
	struct bgp_speaker *sp;
	const char *addr;
	uint16_t port;
	uint32_t as;
	/* what this side received, from the update hook */
	unsigned updates, eor4, eor6, announced, withdrawn;
	struct bgp_update last;
	unsigned established;
};

struct fx {
	uv_loop_t loop;
	uv_timer_t tick;
	struct side a, b;
};

static uint16_t free_port(const char *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, addr, &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t len = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	return ntohs(sin.sin_port);
}

static void sockaddr_of(const char *addr, uint16_t port,
			struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, addr, &sin->sin_addr);
}

static void on_update(void *arg, const struct bgp_peer *p,
		      const struct bgp_update *u)
{
	(void)p;
	struct side *s = arg;
	s->updates++;
	s->announced += u->announced;
	s->withdrawn += u->withdrawn;
	if (u->eor && u->eor_family == AF_INET)
		s->eor4++;
	if (u->eor && u->eor_family == AF_INET6)
		s->eor6++;
	if (u->announced > 0 || u->withdrawn > 0)
		s->last = *u;
}

static void on_state(void *arg, const char *peer, enum bgp_state from,
		     enum bgp_state to)
{
	(void)peer;
	(void)from;
	struct side *s = arg;
	if (to == BGP_STATE_ESTABLISHED)
		s->established++;
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

static void side_init(struct fx *f, struct side *s, const char *addr,
		      uint32_t as, const char *id)
{
	s->addr = addr;
	s->as = as;
	s->port = free_port(addr);
	struct in_addr rid;
	inet_pton(AF_INET, id, &rid);
	assert_int_equal(bgp_speaker_new(&f->loop, as, rid.s_addr, &s->sp), 0);
	s->sp->update_hook = on_update;
	s->sp->update_arg = s;
	bgp_speaker_on_state(s->sp, on_state, s);
	struct sockaddr_storage ss;
	sockaddr_of(addr, s->port, &ss);
	assert_int_equal(bgp_speaker_listen(s->sp, (struct sockaddr *)&ss), 0);
}

/* me's peer is other. */
static void peer_conf(const struct side *me, const struct side *other,
		      struct bgp_peer_conf *c)
{
	bgp_peer_conf_init(c);
	snprintf(c->name, sizeof(c->name), "%s", other->addr);
	sockaddr_of(other->addr, other->port, &c->remote);
	sockaddr_of(me->addr, 0, &c->local);
	c->remote_as = other->as;
	c->connect_retry = 1;
	c->hold_time = 9;
}

static int setup(void **state)
{
	/* BGP_TEST_LOG=debug shows what the speakers do. */
	const char *lvl = getenv("BGP_TEST_LOG");
	log_set_level(lvl != NULL ? (enum log_level)log_level_from_str(lvl) :
				    LOG_LVL_SILENT);
	struct fx *f = calloc(1, sizeof(*f));
	uv_loop_init(&f->loop);
	uv_timer_init(&f->loop, &f->tick);
	uv_timer_start(&f->tick, on_tick, 10, 10);
	side_init(f, &f->a, "127.0.0.1", 64496, "192.0.2.1");
	side_init(f, &f->b, "127.0.0.2", 64497, "192.0.2.2");
	*state = f;
	return 0;
}

static void stopped(void *arg)
{
	(*(int *)arg)++;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int done = 0;
	bgp_speaker_stop(f->a.sp, stopped, &done);
	bgp_speaker_stop(f->b.sp, stopped, &done);
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(done, 2);
	bgp_speaker_free(f->a.sp);
	bgp_speaker_free(f->b.sp);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* Runs the loop until pred(f) or ms pass; returns pred(f). */
static bool run_until(struct fx *f, bool (*pred)(struct fx *), uint64_t ms)
{
	uint64_t end = uv_hrtime() / 1000000 + ms;
	while (!pred(f) && uv_hrtime() / 1000000 < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	return pred(f);
}

static struct bgp_peer *peer_of(struct side *s)
{
	return s->sp->peers[0];
}

static bool both_up(struct fx *f)
{
	return peer_of(&f->a)->state == BGP_STATE_ESTABLISHED &&
	       peer_of(&f->b)->state == BGP_STATE_ESTABLISHED;
}

static void add_peers(struct fx *f, bool a_passive)
{
	struct bgp_peer_conf c;
	peer_conf(&f->a, &f->b, &c);
	c.passive = a_passive;
	inet_pton(AF_INET6, "2001:db8::a", &c.next_hop_v6);
	assert_int_equal(bgp_speaker_add_peer(f->a.sp, &c), 0);
	assert_int_equal(bgp_speaker_add_peer(f->a.sp, &c), ANYDNS_EEXIST);
	peer_conf(&f->b, &f->a, &c);
	c.hold_time = 30;
	assert_int_equal(bgp_speaker_add_peer(f->b.sp, &c), 0);
}

static void establish(struct fx *f, bool a_passive)
{
	add_peers(f, a_passive);
	bgp_speaker_start(f->a.sp);
	bgp_speaker_start(f->b.sp);
	assert_true(run_until(f, both_up, 8000));
}

static struct bgp_route route(const char *prefix)
{
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(bgp_prefix_from_str(prefix, &r.prefix), 0);
	return r;
}

/* ---- tests ----------------------------------------------------------------- */

static bool eors_seen(struct fx *f)
{
	return f->a.eor4 == 1 && f->a.eor6 == 1 && f->b.eor4 == 1 &&
	       f->b.eor6 == 1;
}

static void sessions_come_up(void **state)
{
	struct fx *f = *state;
	struct bgp_route r = route("192.0.2.53/32");
	assert_int_equal(bgp_announce(f->a.sp, &r), 0);
	/* Both sides connect: the collision of §6.8 settles on one
	 * connection. */
	establish(f, false);
	assert_true(run_until(f, eors_seen, 3000));
	struct bgp_peer_status st;
	assert_int_equal(bgp_speaker_status(f->a.sp, &st, 1), 1);
	assert_int_equal(st.state, BGP_STATE_ESTABLISHED);
	assert_int_equal(st.hold_time, 9);	/* the smaller of 9 and 30 */
	assert_int_equal(st.remote_as, 64497);
	assert_int_equal(st.prefixes_announced, 1);
	assert_int_equal(f->a.established, 1);
	assert_int_equal(f->b.established, 1);
	/* The route came before End-of-RIB, with our AS and next hop. */
	assert_int_equal(f->b.announced, 1);
	assert_int_equal(f->b.last.as_path_len, 1);
	assert_int_equal(f->b.last.as_path[0], 64496);
	assert_memory_equal(&f->b.last.next_hop, "\x7f\x00\x00\x01", 4);
	assert_int_equal(f->a.announced, 0);
	assert_int_equal(bgp_speaker_status(f->b.sp, &st, 1), 1);
	assert_int_equal(st.prefixes_received, 1);
	assert_int_equal(st.prefixes_announced, 0);
}

static bool b_has_two(struct fx *f)
{
	return f->b.announced >= 2;
}

static bool b_withdrawn(struct fx *f)
{
	return f->b.withdrawn >= 1;
}

static void announce_and_withdraw(void **state)
{
	struct fx *f = *state;
	establish(f, true);
	struct bgp_route r = route("192.0.2.53/32");
	r.prepend = 2;
	r.has_med = true;
	r.med = 77;
	r.community_count = 2;
	r.communities[0] = 64496u << 16 | 53;
	r.communities[1] = BGP_COMMUNITY_GRACEFUL_SHUTDOWN;
	r.large_community_count = 1;
	r.large_communities[0] = (struct bgp_large_community){ 64496, 1, 2 };
	assert_int_equal(bgp_announce(f->a.sp, &r), 0);
	/* IPv6 over this IPv4 session: the configured next hop. */
	struct bgp_route r6 = route("2001:db8::53/128");
	assert_int_equal(bgp_announce(f->a.sp, &r6), 0);
	assert_true(run_until(f, b_has_two, 3000));
	assert_true(bgp_speaker_flushed(f->a.sp));
	const struct bgp_update *u = &f->b.last;
	assert_int_equal(u->announced_prefix[0].family, AF_INET6);
	struct in6_addr nh;
	inet_pton(AF_INET6, "2001:db8::a", &nh);
	assert_memory_equal(&u->mp_next_hop, &nh, 16);

	/* Replace the IPv4 route: one UPDATE with the new attributes. */
	r.prepend = 0;
	r.community_count = 0;
	unsigned before = f->b.updates;
	assert_int_equal(bgp_announce(f->a.sp, &r), 0);
	assert_true(run_until(f, b_has_two, 100));
	uint64_t end = uv_hrtime() / 1000000 + 2000;
	while (f->b.updates == before && uv_hrtime() / 1000000 < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->b.updates, before + 1);
	assert_int_equal(f->b.last.as_path_len, 1);
	assert_int_equal(f->b.last.community_count, 0);
	assert_true(f->b.last.has_med);
	assert_int_equal(f->b.last.med, 77);
	assert_int_equal(f->b.last.large_community_count, 1);
	assert_int_equal(f->b.last.large_communities[0].local2, 2);

	struct bgp_route out[4];
	assert_int_equal(bgp_speaker_routes(f->a.sp, out, 4), 2);

	assert_int_equal(bgp_withdraw(f->a.sp, &r.prefix), 0);
	assert_true(run_until(f, b_withdrawn, 3000));
	assert_int_equal(f->b.last.withdrawn_prefix[0].len, 32);
	assert_int_equal(bgp_speaker_routes(f->a.sp, out, 4), 1);
	assert_int_equal(bgp_withdraw(f->a.sp, &r.prefix), ANYDNS_ENOENT);
}

static bool b_refreshed(struct fx *f)
{
	return f->b.announced >= 2;
}

static void route_refresh_resends(void **state)
{
	struct fx *f = *state;
	struct bgp_route r = route("192.0.2.53/32");
	bgp_announce(f->a.sp, &r);
	establish(f, false);
	assert_true(run_until(f, eors_seen, 3000));
	assert_int_equal(f->b.announced, 1);
	uint8_t buf[32];
	int len = bgp_msg_write_route_refresh(buf, sizeof(buf), 1, 1);
	assert_int_equal(bgp_peer_send(peer_of(&f->b), buf, (size_t)len), 0);
	assert_true(run_until(f, b_refreshed, 3000));
	assert_int_equal(f->b.eor4, 1);	/* plain RFC 2918: no new EoR */
}

static bool a_not_flushed_seen;

static bool a_flushed(struct fx *f)
{
	return bgp_speaker_flushed(f->a.sp);
}

static void flushed_waits_for_the_socket(void **state)
{
	struct fx *f = *state;
	establish(f, false);
	assert_true(run_until(f, eors_seen, 3000));
	/* B stops reading: A's UPDATEs pile up in the socket, then in the
	 * speaker's own buffer, without blocking anything. */
	assert_int_equal(bgp_tcp_pause(peer_of(&f->b)->conn, true), 0);
	struct bgp_route r = route("10.0.0.0/32");
	r.prepend = 255;
	r.community_count = BGP_MAX_COMMUNITIES;
	r.large_community_count = BGP_MAX_LARGE_COMMUNITIES;
	unsigned sent = 0;
	a_not_flushed_seen = false;
	for (unsigned i = 0; i < 20000 && !a_not_flushed_seen; i++) {
		r.prefix.addr.v4.s_addr = htonl(0x0a000000u + i);
		assert_int_equal(bgp_announce(f->a.sp, &r), 0);
		sent++;
		if (!bgp_speaker_flushed(f->a.sp))
			a_not_flushed_seen = true;
	}
	assert_true(a_not_flushed_seen);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_false(bgp_speaker_flushed(f->a.sp));
	assert_int_equal(bgp_tcp_pause(peer_of(&f->b)->conn, false), 0);
	assert_true(run_until(f, a_flushed, 10000));
	uint64_t end = uv_hrtime() / 1000000 + 5000;
	while (f->b.announced < sent && uv_hrtime() / 1000000 < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->b.announced, sent);
	assert_true(both_up(f));
}

static bool a_stopped_b_idle(struct fx *f)
{
	return peer_of(&f->b)->state != BGP_STATE_ESTABLISHED;
}

static void stop_sends_cease(void **state)
{
	struct fx *f = *state;
	establish(f, false);
	int done = 0;
	bgp_speaker_stop(f->a.sp, stopped, &done);
	assert_true(run_until(f, a_stopped_b_idle, 3000));
	struct bgp_peer_status st;
	bgp_speaker_status(f->b.sp, &st, 1);
	assert_int_equal(st.last_error_code, 6);
	assert_int_equal(st.last_error_subcode, 2);
	assert_false(st.last_error_sent);
	uint64_t end = uv_hrtime() / 1000000 + 3000;
	while (done == 0 && uv_hrtime() / 1000000 < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(done, 1);
	/* The fixture stops A again: harmless. */
}

static void md5(struct fx *f, const char *pa, const char *pb)
{
	struct bgp_peer_conf c;
	peer_conf(&f->a, &f->b, &c);
	snprintf(c.md5_password, sizeof(c.md5_password), "%s", pa);
	assert_int_equal(bgp_speaker_add_peer(f->a.sp, &c), 0);
	peer_conf(&f->b, &f->a, &c);
	snprintf(c.md5_password, sizeof(c.md5_password), "%s", pb);
	c.passive = true;
	assert_int_equal(bgp_speaker_add_peer(f->b.sp, &c), 0);
	bgp_speaker_start(f->a.sp);
	bgp_speaker_start(f->b.sp);
}

static void md5_same_key(void **state)
{
	struct fx *f = *state;
	md5(f, "s3cret-key", "s3cret-key");
	assert_true(run_until(f, both_up, 8000));
}

static void md5_different_keys(void **state)
{
	struct fx *f = *state;
	md5(f, "s3cret-key", "other-key");
	/* RFC 2385: unsigned or wrongly signed segments are dropped; the
	 * session never starts. */
	assert_false(run_until(f, both_up, 2500));
	assert_true(peer_of(&f->b)->state == BGP_STATE_ACTIVE);
	assert_true(peer_of(&f->a)->state == BGP_STATE_CONNECT ||
		    peer_of(&f->a)->state == BGP_STATE_ACTIVE);
}

static void unknown_address_refused(void **state)
{
	struct fx *f = *state;
	add_peers(f, true);
	bgp_speaker_start(f->a.sp);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage src, dst;
	sockaddr_of("127.0.0.3", 0, &src);
	sockaddr_of(f->a.addr, f->a.port, &dst);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(struct sockaddr_in)), 0);
	connect(fd, (struct sockaddr *)&dst, sizeof(struct sockaddr_in));
	/* Accepted by the kernel, then closed by the speaker at once. */
	char c;
	ssize_t n = -1;
	uint64_t end = uv_hrtime() / 1000000 + 2000;
	while (uv_hrtime() / 1000000 < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		n = recv(fd, &c, 1, 0);
		if (n >= 0 || (errno != EAGAIN && errno != ENOTCONN))
			break;
		usleep(5000);
	}
	assert_int_equal(n, 0);
	close(fd);
	assert_int_equal(peer_of(&f->a)->state, BGP_STATE_ACTIVE);
}

static void bad_arguments(void **state)
{
	struct fx *f = *state;
	struct bgp_peer_conf c;
	peer_conf(&f->a, &f->b, &c);
	c.hold_time = 2;
	assert_int_equal(bgp_speaker_add_peer(f->a.sp, &c), ANYDNS_EINVAL);
	peer_conf(&f->a, &f->b, &c);
	c.remote_as = 0;
	assert_int_equal(bgp_speaker_add_peer(f->a.sp, &c), ANYDNS_EINVAL);
	peer_conf(&f->a, &f->b, &c);
	c.ipv4_unicast = c.ipv6_unicast = false;
	assert_int_equal(bgp_speaker_add_peer(f->a.sp, &c), ANYDNS_EINVAL);
	struct bgp_route r = route("192.0.2.0/24");
	r.prefix.len = 22;	/* 192.0.2.0/22 has host bits set */
	assert_int_equal(bgp_announce(f->a.sp, &r), ANYDNS_EINVAL);
	struct bgp_speaker *sp;
	assert_int_equal(bgp_speaker_new(&f->loop, 0, 1, &sp), ANYDNS_EINVAL);
}

static void prefix_text(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "192.0.2.53/32", "192.0.2.53/32" },
		{ "192.0.2.53", "192.0.2.53/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "198.51.100.0/23", "198.51.100.0/23" },
		{ "2001:db8::53/128", "2001:db8::53/128" },
		{ "2001:db8::53", "2001:db8::53/128" },
		{ "2001:DB8:0::/32", "2001:db8::/32" },
		{ "::/0", "::/0" },
	};
	static const char *const bad[] = {
		"", "/32", "192.0.2.53/33", "192.0.2.1/24", "192.0.2.0/",
		"192.0.2.0/2x", "192.0.2.0/-1", "2001:db8::1/64",
		"2001:db8::/129", "example", "192.0.2.0/0024", "300.0.0.0/8",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct bgp_prefix p;
		char buf[64];
		if (bgp_prefix_from_str(ok[i].in, &p) != 0)
			fail_msg("%s refused", ok[i].in);
		assert_int_equal(bgp_prefix_to_str(&p, buf, sizeof(buf)),
				 strlen(ok[i].out));
		assert_string_equal(buf, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bgp_prefix p;
		if (bgp_prefix_from_str(bad[i], &p) != ANYDNS_EINVAL)
			fail_msg("%s accepted", bad[i]);
	}
	assert_string_equal(bgp_state_name(BGP_STATE_OPENCONFIRM), "OpenConfirm");
	assert_string_equal(bgp_state_name((enum bgp_state)42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sessions_come_up, setup, teardown),
		cmocka_unit_test_setup_teardown(announce_and_withdraw, setup, teardown),
		cmocka_unit_test_setup_teardown(route_refresh_resends, setup, teardown),
		cmocka_unit_test_setup_teardown(flushed_waits_for_the_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stop_sends_cease, setup, teardown),
		cmocka_unit_test_setup_teardown(md5_same_key, setup, teardown),
		cmocka_unit_test_setup_teardown(md5_different_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_address_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
		cmocka_unit_test(prefix_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
