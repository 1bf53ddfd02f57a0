/*
 * Unit tests for the PoP (src/pop/pop.c and policy.c) against a test
 * double of the BGP speaker defined in this file (bgp_announce(),
 * bgp_withdraw() and bgp_speaker_flushed() record and answer what the
 * test says; the real speaker is not linked in): the sequence of typed
 * records for each change of a network's state; nothing announced before
 * the zones are loaded; a drain announcing with 65535:0 then withdrawing
 * after the drain time; undrain; a failure during a drain; health from
 * real zones checks; and the stop sequence, in a network namespace of the
 * test's own, where the address stays on lo until the withdrawals were
 * flushed and the grace time passed, and an address that was there before
 * is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "pop/internal.h"

/* ---- the BGP speaker's double -------------------------------------------- */

static struct {
	char log[64][160];
	size_t n;
	bool flushed;
	uint64_t at[64];	/* loop time of each record */
	uv_loop_t *loop;
} rec;

static int dummy_speaker;
#define SPEAKER ((struct bgp_speaker *)&dummy_speaker)

static void rec_reset(uv_loop_t *loop)
{
	memset(&rec, 0, sizeof(rec));
	rec.loop = loop;
	rec.flushed = true;
}

static void text_prefix(const struct bgp_prefix *p, char *buf, size_t len)
{
	pop_prefix_text(p, buf, len);
}

int bgp_announce(struct bgp_speaker *sp, const struct bgp_route *r)
{
	char p[64], line[160];
	int n;
	assert_ptr_equal(sp, SPEAKER);
	text_prefix(&r->prefix, p, sizeof(p));
	n = snprintf(line, sizeof(line), "announce %s prepend=%u", p, r->prepend);
	for (size_t i = 0; i < r->community_count; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%u:%u",
			      i == 0 ? " c=" : ",", r->communities[i] >> 16,
			      r->communities[i] & 0xffff);
	for (size_t i = 0; i < r->large_community_count; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%u:%u:%u",
			      i == 0 ? " lc=" : ",", r->large_communities[i].global,
			      r->large_communities[i].local1,
			      r->large_communities[i].local2);
	assert_true(rec.n < 64);
	rec.at[rec.n] = uv_now(rec.loop);
	snprintf(rec.log[rec.n++], sizeof(rec.log[0]), "%s", line);
	return 0;
}

int bgp_withdraw(struct bgp_speaker *sp, const struct bgp_prefix *p)
{
	char t[64];
	assert_ptr_equal(sp, SPEAKER);
	text_prefix(p, t, sizeof(t));
	assert_true(rec.n < 64);
	rec.at[rec.n] = uv_now(rec.loop);
	snprintf(rec.log[rec.n++], sizeof(rec.log[0]), "withdraw %s", t);
	return 0;
}

bool bgp_speaker_flushed(const struct bgp_speaker *sp)
{
	assert_ptr_equal(sp, SPEAKER);
	return rec.flushed;
}

/* The records since index from, joined by "; ". */
static const char *since(size_t from)
{
	static char out[4096];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = from; i < rec.n; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
				      i > from ? "; " : "", rec.log[i]);
	return out;
}

/* ---- helpers ------------------------------------------------------------------ */

static void addr(struct bgp_prefix *p, const char *a, unsigned len)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, a, &p->addr.v4) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, a, &p->addr.v6) == 1)
		p->family = AF_INET6;
	else
		fail_msg("bad address %s", a);
	p->len = (uint8_t)len;
}

static void network(struct pop_network_conf *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->interface, sizeof(c->interface), "lo");
	c->drain_ms = 60;
}

static void on_deadline(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
	bool expired = false;
	uv_timer_t t;
	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, ms, 0);
	while (!expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* Runs the loop until *flag or ms pass. */
static bool run_until(uv_loop_t *loop, const bool *flag, unsigned ms)
{
	bool expired = false;
	uv_timer_t t;
	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, ms, 0);
	while (!*flag && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *flag;
}

static void closing(uv_loop_t *loop, struct pop *pop)
{
	pop_free(pop);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static enum pop_net_state state_of(struct pop *pop, size_t i, char *reason)
{
	struct pop_network_status st[4];
	assert_true(pop_network_status(pop, st, 4) > i);
	if (reason != NULL)
		snprintf(reason, POP_TEXT_MAX, "%s", st[i].reason);
	return st[i].state;
}

/* ---- policy ------------------------------------------------------------------ */

static struct pop *one_network(uv_loop_t *loop, struct pop_network_conf *nc,
			       struct bgp_speaker *sp)
{
	struct pop_conf pc;
	struct pop *pop;
	pop_conf_init(&pc);
	pc.networks = nc;
	pc.network_count = 1;
	pc.withdraw_grace_ms = 40;
	pc.flush_wait_ms = 2000;
	assert_int_equal(pop_new(loop, sp, &pc, &pop), 0);
	assert_int_equal(pop_start(pop), 0);
	return pop;
}

/* One network of four addresses (two share a /24): the records for each
 * change of its health, and nothing before the zones are loaded. */
static void policy_sequence(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct pop_network_conf nc;
	char why[POP_TEXT_MAX];
	uv_loop_init(&loop);
	rec_reset(&loop);
	network(&nc, "global");
	addr(&nc.addrs[0], "192.0.2.1", 32);
	addr(&nc.addrs[1], "198.51.100.53", 24);
	addr(&nc.addrs[2], "198.51.100.54", 24);
	addr(&nc.addrs[3], "2001:db8::53", 128);
	nc.addr_count = 4;
	nc.prepend = 2;
	nc.communities[0] = 64500u << 16 | 1;
	nc.community_count = 1;
	nc.large_communities[0] = (struct bgp_large_community){ 4200000001u, 1, 2 };
	nc.large_community_count = 1;
	struct pop *pop = one_network(&loop, &nc, SPEAKER);
	struct pop_net *n = &pop->nets[0];

	/* Healthy before the zones are loaded: nothing goes out. */
	pop_net_health(n, true, "all checks up");
	assert_int_equal(rec.n, 0);
	assert_int_equal(state_of(pop, 0, why), POP_NET_WITHDRAWN);
	assert_string_equal(why, "zones not loaded yet");

	/* No checks: healthy as soon as the zones are loaded. */
	pop_zones_loaded(pop);
	assert_string_equal(since(0),
		"announce 192.0.2.1/32 prepend=2 c=64500:1 lc=4200000001:1:2; "
		"announce 198.51.100.0/24 prepend=2 c=64500:1 lc=4200000001:1:2; "
		"announce 2001:db8::53/128 prepend=2 c=64500:1 lc=4200000001:1:2");
	assert_int_equal(state_of(pop, 0, why), POP_NET_ANNOUNCED);
	assert_string_equal(why, "0 checks up");

	size_t mark = rec.n;
	pop_net_health(n, true, "still fine");
	assert_int_equal(rec.n, mark);
	pop_net_health(n, false, "check global/dns is down: timeout");
	assert_string_equal(since(mark), "withdraw 192.0.2.1/32; "
			    "withdraw 198.51.100.0/24; withdraw 2001:db8::53/128");
	assert_int_equal(state_of(pop, 0, why), POP_NET_WITHDRAWN);
	assert_string_equal(why, "check global/dns is down: timeout");
	mark = rec.n;
	pop_net_health(n, false, "check global/dns is down: REFUSED");
	assert_int_equal(rec.n, mark);
	assert_int_equal(state_of(pop, 0, why), POP_NET_WITHDRAWN);
	assert_string_equal(why, "check global/dns is down: REFUSED");

	pop_net_health(n, true, "all 2 checks up");
	assert_int_equal(rec.n, mark + 3);
	assert_string_equal(rec.log[mark], "announce 192.0.2.1/32 prepend=2 "
			    "c=64500:1 lc=4200000001:1:2");

	struct pop_network_status st;
	assert_int_equal(pop_network_status(pop, &st, 1), 1);
	assert_string_equal(st.name, "global");
	assert_true(st.healthy);
	assert_int_equal(st.changes, 3);
	assert_true(st.announced);
	assert_int_equal(st.route_count, 3);
	assert_int_equal(st.attrs.prepend, 2);
	assert_int_equal(st.attrs.community_count, 1);
	closing(&loop, pop);
}

/* Drain: 65535:0 added, withdrawn after the drain time, nothing while
 * drained, undrain announces again without it. */
static void policy_drain(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct pop_network_conf nc;
	char why[POP_TEXT_MAX];
	uv_loop_init(&loop);
	rec_reset(&loop);
	network(&nc, "eu");
	addr(&nc.addrs[0], "192.0.2.1", 32);
	nc.addr_count = 1;
	nc.communities[0] = 64500u << 16 | 7;
	nc.community_count = 1;
	nc.drain_ms = 80;
	struct pop *pop = one_network(&loop, &nc, SPEAKER);
	struct pop_net *n = &pop->nets[0];
	pop_zones_loaded(pop);
	assert_int_equal(rec.n, 1);

	assert_int_equal(pop_drain(pop, "eu"), 0);
	assert_string_equal(since(1), "announce 192.0.2.1/32 prepend=0 "
			    "c=64500:7,65535:0");
	assert_int_equal(state_of(pop, 0, why), POP_NET_DRAINING);
	assert_string_equal(why, "drained by the operator: announced with "
			    "65535:0, withdrawn in 80ms");
	uint64_t t0 = rec.at[1];
	struct pop_network_status st;
	pop_network_status(pop, &st, 1);
	assert_int_equal(st.attrs.community_count, 2);
	assert_int_equal(st.attrs.communities[1], BGP_COMMUNITY_GRACEFUL_SHUTDOWN);

	/* Health that stays good changes nothing meanwhile. */
	pop_net_health(n, true, "ok");
	run_for(&loop, 40);
	assert_int_equal(rec.n, 2);
	run_for(&loop, 100);
	assert_string_equal(since(2), "withdraw 192.0.2.1/32");
	assert_true(rec.at[2] - t0 >= 75);
	assert_int_equal(state_of(pop, 0, why), POP_NET_DRAINED);
	assert_string_equal(why, "drain time over, withdrawn");

	/* Drained: health does not announce. */
	pop_net_health(n, false, "bad");
	pop_net_health(n, true, "good");
	assert_int_equal(rec.n, 3);

	assert_int_equal(pop_undrain(pop, NULL), 0);
	assert_string_equal(since(3), "announce 192.0.2.1/32 prepend=0 c=64500:7");
	assert_int_equal(state_of(pop, 0, why), POP_NET_ANNOUNCED);
	assert_string_equal(why, "undrained by the operator");

	/* Undrain in the middle of a drain: back without the community. */
	assert_int_equal(pop_drain(pop, NULL), 0);
	assert_int_equal(pop_undrain(pop, "eu"), 0);
	assert_string_equal(since(4), "announce 192.0.2.1/32 prepend=0 "
			    "c=64500:7,65535:0; announce 192.0.2.1/32 prepend=0 "
			    "c=64500:7");
	run_for(&loop, 120);
	assert_int_equal(rec.n, 6);	/* the drain timer was stopped */

	/* A failure during a drain withdraws at once. */
	assert_int_equal(pop_drain(pop, "eu"), 0);
	pop_net_health(n, false, "check eu/dns is down: timeout");
	assert_string_equal(since(6), "announce 192.0.2.1/32 prepend=0 "
			    "c=64500:7,65535:0; withdraw 192.0.2.1/32");
	assert_int_equal(state_of(pop, 0, why), POP_NET_DRAINED);
	assert_string_equal(why, "withdrawn before the drain time: check "
			    "eu/dns is down: timeout");
	/* Undrain while unhealthy: withdrawn, nothing to send. */
	assert_int_equal(pop_undrain(pop, "eu"), 0);
	assert_int_equal(rec.n, 8);
	assert_int_equal(state_of(pop, 0, why), POP_NET_WITHDRAWN);
	/* Drain while withdrawn: marked, so health does not announce it. */
	assert_int_equal(pop_drain(pop, "eu"), 0);
	assert_int_equal(state_of(pop, 0, NULL), POP_NET_DRAINED);
	pop_net_health(n, true, "good");
	assert_int_equal(rec.n, 8);

	assert_int_equal(pop_drain(pop, "nope"), ANYDNS_ENOENT);
	assert_int_equal(pop_undrain(pop, "nope"), ANYDNS_ENOENT);
	closing(&loop, pop);
}

/* Health from real checks: a zones check whose callback the test answers. */
static bool zones_ok;

static bool zones_fn(void *arg, const uint8_t *const *apexes, size_t n,
		     char *why, size_t whylen)
{
	(void)arg;
	(void)apexes;
	(void)n;
	if (!zones_ok)
		snprintf(why, whylen, "zone example.com. not loaded");
	return zones_ok;
}

static void health_drives_policy(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct pop_network_conf nc;
	struct health_check_conf hc;
	char why[POP_TEXT_MAX];
	uv_loop_init(&loop);
	rec_reset(&loop);
	network(&nc, "global");
	addr(&nc.addrs[0], "2001:db8::53", 128);
	nc.addr_count = 1;
	health_check_conf_init(&hc);
	snprintf(hc.name, sizeof(hc.name), "global/zones");
	hc.kind = HEALTH_ZONES;
	hc.timing = (struct health_timing){ 10, 10, 2, 1, 0 };
	hc.zones_fn = zones_fn;
	nc.checks = &hc;
	nc.check_count = 1;
	zones_ok = true;
	struct pop *pop = one_network(&loop, &nc, SPEAKER);
	run_for(&loop, 100);
	/* Up, but the zones are not loaded yet. */
	assert_int_equal(rec.n, 0);
	assert_int_equal(state_of(pop, 0, why), POP_NET_WITHDRAWN);
	assert_string_equal(why, "zones not loaded yet");
	pop_zones_loaded(pop);
	assert_string_equal(since(0), "announce 2001:db8::53/128 prepend=0");
	assert_int_equal(state_of(pop, 0, why), POP_NET_ANNOUNCED);
	assert_string_equal(why, "1 check up");

	zones_ok = false;
	run_for(&loop, 60);
	assert_string_equal(since(1), "withdraw 2001:db8::53/128");
	assert_int_equal(state_of(pop, 0, why), POP_NET_WITHDRAWN);
	assert_string_equal(why, "check global/zones is down: 1 failure in a "
			    "row: zone example.com. not loaded");
	struct health_status hs[2];
	assert_int_equal(pop_check_status(pop, 0, hs, 2), 1);
	assert_string_equal(hs[0].name, "global/zones");
	assert_int_equal(hs[0].state, HEALTH_DOWN);
	assert_int_equal(pop_check_status(pop, 1, hs, 2), 0);

	zones_ok = true;
	run_for(&loop, 100);
	assert_string_equal(since(2), "announce 2001:db8::53/128 prepend=0");
	closing(&loop, pop);
}

/* Without a speaker the states still move; nothing is sent anywhere. */
static void without_bgp(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct pop_network_conf nc;
	uv_loop_init(&loop);
	rec_reset(&loop);
	network(&nc, "solo");
	addr(&nc.addrs[0], "192.0.2.1", 32);
	nc.addr_count = 1;
	struct pop *pop = one_network(&loop, &nc, NULL);
	pop_zones_loaded(pop);
	assert_int_equal(state_of(pop, 0, NULL), POP_NET_ANNOUNCED);
	pop_net_health(&pop->nets[0], false, "bad");
	assert_int_equal(state_of(pop, 0, NULL), POP_NET_WITHDRAWN);
	assert_int_equal(rec.n, 0);
	closing(&loop, pop);
}

static void bad_configs(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct pop_conf pc;
	struct pop_network_conf nc[2];
	struct pop *pop = NULL;
	uv_loop_init(&loop);
	network(&nc[0], "a");
	network(&nc[1], "a");
	addr(&nc[0].addrs[0], "192.0.2.1", 32);
	addr(&nc[1].addrs[0], "192.0.2.2", 32);
	nc[0].addr_count = nc[1].addr_count = 1;
	pop_conf_init(&pc);
	pc.networks = nc;
	pc.network_count = 2;
	assert_int_equal(pop_new(&loop, NULL, &pc, &pop), ANYDNS_EEXIST);
	nc[1].name[0] = 'b';
	nc[1].addr_count = 0;
	assert_int_equal(pop_new(&loop, NULL, &pc, &pop), ANYDNS_EINVAL);
	nc[1].addr_count = 1;
	nc[1].community_count = BGP_MAX_COMMUNITIES;
	assert_int_equal(pop_new(&loop, NULL, &pc, &pop), ANYDNS_EINVAL);
	assert_null(pop);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- stopping, with real addresses ----------------------------------------- */

static bool have_ns;

static bool on_lo(const char *want)
{
	struct ifaddrs *all;
	char text[INET6_ADDRSTRLEN];
	bool found = false;
	assert_int_equal(getifaddrs(&all), 0);
	for (struct ifaddrs *i = all; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, "lo") != 0 ||
		    i->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			  text, sizeof(text));
		found |= strcmp(text, want) == 0;
	}
	freeifaddrs(all);
	return found;
}

static void on_stopped(void *arg)
{
	*(bool *)arg = true;
}

/* SIGTERM's sequence: drain, withdraw, wait for the flush and the grace,
 * then remove only the addresses the PoP added. */
static void stop_sequence(void **state)
{
	(void)state;
	if (!have_ns)
		skip();
	uv_loop_t loop;
	struct pop_network_conf nc;
	struct bgp_prefix pre;
	bool added, done = false;
	uv_loop_init(&loop);
	rec_reset(&loop);
	/* An address the operator put there before the daemon started. */
	addr(&pre, "192.0.2.9", 32);
	assert_int_equal(pop_netlink_addr_add("lo", &pre, &added), 0);
	assert_true(added);
	network(&nc, "global");
	addr(&nc.addrs[0], "192.0.2.1", 32);
	addr(&nc.addrs[1], "192.0.2.9", 32);
	nc.addr_count = 2;
	struct pop *pop = one_network(&loop, &nc, SPEAKER);
	assert_int_equal(pop_addresses_ensure(pop), 0);
	assert_true(on_lo("192.0.2.1"));
	struct pop_network_status st;
	pop_network_status(pop, &st, 1);
	assert_true(st.addr_present[0] && st.addr_added[0]);
	assert_true(st.addr_present[1] && !st.addr_added[1]);
	pop_zones_loaded(pop);
	assert_int_equal(rec.n, 2);

	rec.flushed = false;
	pop_stop(pop, 50, on_stopped, &done);
	assert_true(pop_stopping(pop));
	assert_int_equal(pop_drain(pop, NULL), ANYDNS_EAGAIN);
	assert_string_equal(since(2), "announce 192.0.2.1/32 prepend=0 "
			    "c=65535:0; announce 192.0.2.9/32 prepend=0 c=65535:0");
	run_for(&loop, 120);
	assert_string_equal(since(4), "withdraw 192.0.2.1/32; withdraw "
			    "192.0.2.9/32");
	assert_true(rec.at[4] - rec.at[2] >= 45);
	/* Withdrawn but not flushed: the address stays. */
	run_for(&loop, 150);
	assert_false(done);
	assert_true(on_lo("192.0.2.1"));
	rec.flushed = true;
	run_for(&loop, 20);
	/* Flushed; the grace time (40 ms) is not over yet. */
	assert_true(on_lo("192.0.2.1"));
	assert_true(run_until(&loop, &done, 1000));
	assert_false(on_lo("192.0.2.1"));
	assert_true(on_lo("192.0.2.9"));
	assert_false(pop_stopping(pop));
	assert_int_equal(rec.n, 6);
	assert_int_equal(pop_netlink_addr_del("lo", &pre), 0);
	closing(&loop, pop);
}

/* A speaker that never flushes holds the addresses flush_wait_ms at most. */
static void stop_flush_timeout(void **state)
{
	(void)state;
	if (!have_ns)
		skip();
	uv_loop_t loop;
	struct pop_conf pc;
	struct pop_network_conf nc;
	struct pop *pop;
	bool done = false;
	uv_loop_init(&loop);
	rec_reset(&loop);
	network(&nc, "global");
	addr(&nc.addrs[0], "192.0.2.1", 32);
	nc.addr_count = 1;
	pop_conf_init(&pc);
	pc.networks = &nc;
	pc.network_count = 1;
	pc.withdraw_grace_ms = 0;
	pc.flush_wait_ms = 100;
	assert_int_equal(pop_new(&loop, SPEAKER, &pc, &pop), 0);
	assert_int_equal(pop_addresses_ensure(pop), 0);
	pop_zones_loaded(pop);
	rec.flushed = false;
	uint64_t t0 = uv_now(&loop);
	pop_stop(pop, 0, on_stopped, &done);
	assert_string_equal(since(1), "withdraw 192.0.2.1/32");
	assert_true(on_lo("192.0.2.1"));
	assert_true(run_until(&loop, &done, 2000));
	assert_true(uv_now(&loop) - t0 >= 95);
	assert_false(on_lo("192.0.2.1"));
	closing(&loop, pop);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	have_ns = unshare(CLONE_NEWNET) == 0;
	if (!have_ns)
		fprintf(stderr, "test_pop_pop: unshare(CLONE_NEWNET): %s; the "
			"address tests are skipped (they need root)\n",
			strerror(errno));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_sequence),
		cmocka_unit_test(policy_drain),
		cmocka_unit_test(health_drives_policy),
		cmocka_unit_test(without_bgp),
		cmocka_unit_test(bad_configs),
		cmocka_unit_test(stop_sequence),
		cmocka_unit_test(stop_flush_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
