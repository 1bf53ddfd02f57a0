/*
 * The announce policy of one anycast network as an explicit state machine:
 * states WITHDRAWN, ANNOUNCED, DRAINING and DRAINED; events HEALTHY,
 * UNHEALTHY, DRAIN, UNDRAIN, DRAIN_DONE and STOP; one function switching
 * on the state then the event; one change_state() that logs from → to and
 * why and counts. Transitions send typed records to the BGP speaker: an
 * announcement of every route of the network with its attributes
 * (prepend, communities, large communities: RFC 4271 §5.1.2, RFC 1997,
 * RFC 8092), the same with GRACEFUL_SHUTDOWN (RFC 8326 §3: 65535:0, so
 * receivers lower the preference and move traffic before the withdrawal),
 * or a withdrawal.
 *
 * A network is announced only while the PoP is ready (zones loaded) and
 * running, and every one of its checks is up. An unhealthy network is
 * withdrawn at once, even in the middle of a drain: a route to a service
 * that does not answer costs queries, a drain is only a courtesy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "pop/internal.h"

const char *pop_net_state_name(enum pop_net_state s)
{
	switch (s) {
	case POP_NET_WITHDRAWN: return "withdrawn";
	case POP_NET_ANNOUNCED: return "announced";
	case POP_NET_DRAINING: return "draining";
	case POP_NET_DRAINED: return "drained";
	}
	return "?";
}

const char *pop_net_event_name(enum pop_net_event ev)
{
	switch (ev) {
	case POP_EV_HEALTHY: return "healthy";
	case POP_EV_UNHEALTHY: return "unhealthy";
	case POP_EV_DRAIN: return "drain";
	case POP_EV_UNDRAIN: return "undrain";
	case POP_EV_DRAIN_DONE: return "drain-done";
	case POP_EV_STOP: return "stop";
	}
	return "?";
}

static void set_reason(struct pop_net *n, const char *fmt, va_list ap)
{
	vsnprintf(n->reason, sizeof(n->reason), fmt, ap);
}

static void change_state(struct pop_net *n, enum pop_net_state to,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void change_state(struct pop_net *n, enum pop_net_state to,
			 const char *fmt, ...)
{
	enum pop_net_state from = n->state;
	va_list ap;
	va_start(ap, fmt);
	set_reason(n, fmt, ap);
	va_end(ap);
	n->state = to;
	n->since_ms = uv_now(n->pop->loop);
	n->changes++;
	log_notice("network %s: %s -> %s: %s", n->conf.name,
		   pop_net_state_name(from), pop_net_state_name(to), n->reason);
}

/* The reason changes without a change of state (why it stays withdrawn). */
static void note(struct pop_net *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct pop_net *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_reason(n, fmt, ap);
	va_end(ap);
}

/* ---- records to the speaker ---------------------------------------------- */

static void route_attrs(const struct pop_net *n, bool gshut,
			struct bgp_route *r)
{
	memset(r, 0, sizeof(*r));
	r->prepend = n->conf.prepend;
	r->community_count = n->conf.community_count;
	memcpy(r->communities, n->conf.communities,
	       n->conf.community_count * sizeof(r->communities[0]));
	r->large_community_count = n->conf.large_community_count;
	memcpy(r->large_communities, n->conf.large_communities,
	       n->conf.large_community_count * sizeof(r->large_communities[0]));
	if (!gshut)
		return;
	for (size_t i = 0; i < r->community_count; i++)
		if (r->communities[i] == BGP_COMMUNITY_GRACEFUL_SHUTDOWN)
			return;
	/* pop_new() keeps a slot free for it. */
	r->communities[r->community_count++] = BGP_COMMUNITY_GRACEFUL_SHUTDOWN;
}

static void announce(struct pop_net *n, bool gshut)
{
	struct bgp_route r;
	char text[64];
	n->gshut = gshut;
	if (n->pop->sp == NULL)
		return;
	route_attrs(n, gshut, &r);
	for (size_t i = 0; i < n->route_count; i++) {
		r.prefix = n->routes[i];
		int ret = bgp_announce(n->pop->sp, &r);
		if (ret != 0) {
			pop_prefix_text(&r.prefix, text, sizeof(text));
			log_err("network %s: cannot announce %s: %s",
				n->conf.name, text, anydns_strerror(ret));
		}
	}
}

static void withdraw(struct pop_net *n)
{
	char text[64];
	n->gshut = false;
	if (n->pop->sp == NULL)
		return;
	for (size_t i = 0; i < n->route_count; i++) {
		int ret = bgp_withdraw(n->pop->sp, &n->routes[i]);
		if (ret != 0 && ret != ANYDNS_ENOENT) {
			pop_prefix_text(&n->routes[i], text, sizeof(text));
			log_err("network %s: cannot withdraw %s: %s",
				n->conf.name, text, anydns_strerror(ret));
		}
	}
}

/* ---- drains --------------------------------------------------------------- */

static void on_drain_timer(uv_timer_t *t)
{
	struct pop_net *n = t->data;
	pop_net_fsm(n, POP_EV_DRAIN_DONE, "drain time over");
}

/* Announced → draining for ms (0: withdrawn at once). */
static void start_drain(struct pop_net *n, uint32_t ms, const char *why)
{
	if (ms == 0) {
		withdraw(n);
		change_state(n, POP_NET_DRAINED, "%s, withdrawn (no drain time)",
			     why);
		return;
	}
	announce(n, true);
	uv_timer_start(&n->drain_timer, on_drain_timer, ms, 0);
	change_state(n, POP_NET_DRAINING, "%s: announced with 65535:0, "
		     "withdrawn in %ums", why, ms);
}

/* Back from a drain: announced if healthy, else withdrawn. */
static void end_drain(struct pop_net *n, const char *why)
{
	uv_timer_stop(&n->drain_timer);
	if (n->healthy && n->pop->ready) {
		announce(n, false);
		change_state(n, POP_NET_ANNOUNCED, "%s", why);
	} else {
		if (n->state == POP_NET_DRAINING)
			withdraw(n);
		change_state(n, POP_NET_WITHDRAWN, "%s; not healthy", why);
	}
}

/* ---- the machine ------------------------------------------------------------ */

void pop_net_fsm(struct pop_net *n, enum pop_net_event ev, const char *why)
{
	struct pop *pop = n->pop;
	bool running = pop->phase == POP_RUNNING;

	log_debug("network %s: %s in state %s: %s", n->conf.name,
		  pop_net_event_name(ev), pop_net_state_name(n->state), why);
	switch (n->state) {
	case POP_NET_WITHDRAWN:
		switch (ev) {
		case POP_EV_HEALTHY:
			if (!running)
				break;
			if (!pop->ready) {
				note(n, "zones not loaded yet");
				break;
			}
			announce(n, false);
			change_state(n, POP_NET_ANNOUNCED, "%s", why);
			break;
		case POP_EV_UNHEALTHY:
			note(n, "%s", why);
			break;
		case POP_EV_DRAIN:
			change_state(n, POP_NET_DRAINED, "%s (was not "
				     "announced)", why);
			break;
		case POP_EV_UNDRAIN:
		case POP_EV_DRAIN_DONE:
		case POP_EV_STOP:
			break;
		}
		break;
	case POP_NET_ANNOUNCED:
		switch (ev) {
		case POP_EV_HEALTHY:
		case POP_EV_UNDRAIN:
		case POP_EV_DRAIN_DONE:
			break;
		case POP_EV_UNHEALTHY:
			withdraw(n);
			change_state(n, POP_NET_WITHDRAWN, "%s", why);
			break;
		case POP_EV_DRAIN:
			start_drain(n, n->conf.drain_ms, why);
			break;
		case POP_EV_STOP:
			start_drain(n, pop->stop_drain_ms, why);
			break;
		}
		break;
	case POP_NET_DRAINING:
		switch (ev) {
		case POP_EV_HEALTHY:
		case POP_EV_DRAIN:
			break;
		case POP_EV_UNHEALTHY:
			uv_timer_stop(&n->drain_timer);
			withdraw(n);
			change_state(n, POP_NET_DRAINED, "withdrawn before the "
				     "drain time: %s", why);
			break;
		case POP_EV_UNDRAIN:
			end_drain(n, why);
			break;
		case POP_EV_DRAIN_DONE:
			withdraw(n);
			change_state(n, POP_NET_DRAINED, "%s, withdrawn", why);
			break;
		case POP_EV_STOP:
			/* A stop with a shorter drain does not wait for the
			 * longer one under way. */
			if (uv_timer_get_due_in(&n->drain_timer) >
			    pop->stop_drain_ms) {
				if (pop->stop_drain_ms == 0) {
					uv_timer_stop(&n->drain_timer);
					withdraw(n);
					change_state(n, POP_NET_DRAINED, "%s, "
						     "withdrawn", why);
				} else {
					uv_timer_start(&n->drain_timer,
						       on_drain_timer,
						       pop->stop_drain_ms, 0);
				}
			}
			break;
		}
		break;
	case POP_NET_DRAINED:
		switch (ev) {
		case POP_EV_UNDRAIN:
			if (running)
				end_drain(n, why);
			break;
		case POP_EV_UNHEALTHY:
		case POP_EV_HEALTHY:
		case POP_EV_DRAIN:
		case POP_EV_DRAIN_DONE:
		case POP_EV_STOP:
			break;
		}
		break;
	}
	pop_stop_progress(pop);
}

void pop_net_health(struct pop_net *n, bool healthy, const char *why)
{
	n->healthy = healthy;
	pop_net_fsm(n, healthy ? POP_EV_HEALTHY : POP_EV_UNHEALTHY, why);
}
