/*
 * The PoP's lifecycle: building the networks and their checks, putting
 * their addresses on the interfaces, starting the checks, turning check
 * changes into the policy's HEALTHY and UNHEALTHY events, drain and undrain
 * requests, status, and the stop sequence that makes sure an address is
 * never removed while a router may still send queries to it:
 *
 *   drain every announced network (GRACEFUL_SHUTDOWN, RFC 8326) → withdraw
 *   → wait until the speaker says the withdrawals left for every peer
 *     (bgp_speaker_flushed(); at most flush_wait_ms) → wait the grace time
 *   → remove the addresses the PoP added → done.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "pop/internal.h"

#define FLUSH_POLL_MS 10

void pop_conf_init(struct pop_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->withdraw_grace_ms = 500;
	c->flush_wait_ms = 3000;
}

void pop_prefix_text(const struct bgp_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(p->family == AF_INET ? AF_INET : AF_INET6, &p->addr, a,
		  sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

/* The route of an address: its prefix with the host bits cleared. */
static void prefix_of(const struct bgp_prefix *a, struct bgp_prefix *r)
{
	*r = *a;
	uint8_t *b = a->family == AF_INET ? (uint8_t *)&r->addr.v4 :
					    (uint8_t *)&r->addr.v6;
	size_t octets = a->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < octets; i++) {
		unsigned keep = a->len >= (i + 1) * 8 ? 8 :
				a->len > i * 8 ? a->len - i * 8 : 0;
		b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static bool prefix_equal(const struct bgp_prefix *a, const struct bgp_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(&a->addr, &b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* ---- health → policy ------------------------------------------------------ */

/* Every check up: healthy; otherwise why names the first that is not. */
static bool net_healthy(const struct pop_net *n, char *why, size_t len)
{
	for (size_t i = 0; i < n->check_count; i++) {
		struct health_status st;
		health_check_status(n->checks[i].hc, &st);
		if (st.state == HEALTH_UP)
			continue;
		if (st.state == HEALTH_INIT)
			snprintf(why, len, "check %.60s: no verdict yet", st.name);
		else
			snprintf(why, len, "check %.60s is %s: %.120s", st.name,
				 health_state_name(st.state), st.reason);
		return false;
	}
	snprintf(why, len, "%s%zu check%s up", n->check_count > 1 ? "all " : "",
		 n->check_count, n->check_count == 1 ? "" : "s");
	return true;
}

static void evaluate(struct pop_net *n)
{
	char why[POP_TEXT_MAX];
	bool healthy = net_healthy(n, why, sizeof(why));
	pop_net_health(n, healthy, why);
}

static void on_check_change(void *arg, struct health_check *hc,
			    enum health_state from, enum health_state to,
			    const char *reason)
{
	struct pop_check *pc = arg;
	(void)hc;
	(void)from;
	(void)to;
	(void)reason;
	if (pc->net->pop->phase == POP_RUNNING)
		evaluate(pc->net);
}

/* ---- building ---------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
	struct pop *pop = h->data;
	if (--pop->open_handles > 0)
		return;
	free(pop->nets);
	free(pop);
}

static int net_init(struct pop *pop, struct pop_net *n, size_t index,
		    const struct pop_network_conf *c)
{
	n->pop = pop;
	n->index = index;
	n->conf = *c;
	n->conf.checks = NULL;
	n->conf.check_count = 0;
	n->conf.name[sizeof(n->conf.name) - 1] = '\0';
	n->conf.interface[sizeof(n->conf.interface) - 1] = '\0';
	n->state = POP_NET_WITHDRAWN;
	snprintf(n->reason, sizeof(n->reason), "not checked yet");
	if (c->addr_count == 0 || c->addr_count > POP_MAX_ADDRS ||
	    c->community_count >= BGP_MAX_COMMUNITIES ||
	    c->large_community_count > BGP_MAX_LARGE_COMMUNITIES) {
		log_err("network %s: invalid configuration", c->name);
		return ANYDNS_EINVAL;
	}
	for (size_t i = 0; i < c->addr_count; i++) {
		const struct bgp_prefix *a = &c->addrs[i];
		if ((a->family != AF_INET && a->family != AF_INET6) ||
		    a->len > (a->family == AF_INET ? 32 : 128)) {
			log_err("network %s: invalid address", c->name);
			return ANYDNS_EINVAL;
		}
		struct bgp_prefix r;
		prefix_of(a, &r);
		size_t j = 0;
		while (j < n->route_count && !prefix_equal(&n->routes[j], &r))
			j++;
		if (j == n->route_count)
			n->routes[n->route_count++] = r;
	}
	n->since_ms = uv_now(pop->loop);
	uv_timer_init(pop->loop, &n->drain_timer);
	n->drain_timer.data = n;
	return 0;
}

static int net_checks(struct pop_net *n, const struct pop_network_conf *c)
{
	if (c->check_count == 0)
		return 0;
	n->checks = calloc(c->check_count, sizeof(*n->checks));
	if (n->checks == NULL)
		return ANYDNS_ENOMEM;
	for (size_t i = 0; i < c->check_count; i++) {
		struct pop_check *pc = &n->checks[i];
		pc->net = n;
		int ret = health_check_new(n->pop->loop, &c->checks[i],
					   on_check_change, pc, &pc->hc);
		if (ret != 0) {
			log_err("network %s: check %s: %s", c->name,
				c->checks[i].name, anydns_strerror(ret));
			return ret;
		}
		n->check_count++;
	}
	return 0;
}

int pop_new(uv_loop_t *loop, struct bgp_speaker *sp,
	    const struct pop_conf *conf, struct pop **out)
{
	int ret = ANYDNS_ENOMEM;
	struct pop *pop = calloc(1, sizeof(*pop));
	if (pop == NULL)
		return ANYDNS_ENOMEM;
	pop->loop = loop;
	pop->sp = sp;
	pop->conf = *conf;
	pop->conf.networks = NULL;
	pop->nets = calloc(conf->network_count ? conf->network_count : 1,
			   sizeof(*pop->nets));
	if (pop->nets == NULL) {
		free(pop);
		return ANYDNS_ENOMEM;
	}
	uv_timer_init(loop, &pop->stop_timer);
	pop->stop_timer.data = pop;
	pop->open_handles = 1;

	for (size_t i = 0; i < conf->network_count; i++) {
		const struct pop_network_conf *c = &conf->networks[i];
		for (size_t j = 0; j < i; j++) {
			if (strcmp(conf->networks[j].name, c->name) == 0) {
				log_err("network %s: configured twice", c->name);
				ret = ANYDNS_EEXIST;
				goto fail;
			}
		}
		struct pop_net *n = &pop->nets[i];
		ret = net_init(pop, n, i, c);
		if (ret != 0)
			goto fail;
		pop->count++;
		pop->open_handles++;	/* its drain timer */
		ret = net_checks(n, c);
		if (ret != 0)
			goto fail;
	}
	*out = pop;
	return 0;
fail:
	pop_free(pop);
	return ret;
}

/* ---- addresses ----------------------------------------------------------------- */

int pop_addresses_ensure(struct pop *pop)
{
	int first = 0;
	char text[64];
	for (size_t i = 0; i < pop->count; i++) {
		struct pop_net *n = &pop->nets[i];
		for (size_t a = 0; a < n->conf.addr_count; a++) {
			if (n->addr_present[a])
				continue;
			bool added = false;
			int ret = pop_netlink_addr_add(n->conf.interface,
						       &n->conf.addrs[a], &added);
			pop_prefix_text(&n->conf.addrs[a], text, sizeof(text));
			if (ret != 0) {
				log_err("network %s: cannot add %s to %s: %s",
					n->conf.name, text, n->conf.interface,
					ret == ANYDNS_ENOENT ? "no such interface" :
					anydns_strerror(ret));
				if (first == 0)
					first = ret;
				continue;
			}
			n->addr_present[a] = true;
			n->addr_added[a] = added;
			log_info("network %s: %s %s %s", n->conf.name, text,
				 added ? "added to" : "already on",
				 n->conf.interface);
		}
	}
	return first;
}

static void remove_addresses(struct pop *pop)
{
	char text[64];
	for (size_t i = 0; i < pop->count; i++) {
		struct pop_net *n = &pop->nets[i];
		for (size_t a = 0; a < n->conf.addr_count; a++) {
			if (!n->addr_added[a])
				continue;
			pop_prefix_text(&n->conf.addrs[a], text, sizeof(text));
			int ret = pop_netlink_addr_del(n->conf.interface,
						       &n->conf.addrs[a]);
			if (ret != 0) {
				log_err("network %s: cannot remove %s from %s: "
					"%s", n->conf.name, text,
					n->conf.interface, anydns_strerror(ret));
				continue;
			}
			n->addr_added[a] = false;
			n->addr_present[a] = false;
			log_info("network %s: %s removed from %s", n->conf.name,
				 text, n->conf.interface);
		}
	}
}

/* ---- running ------------------------------------------------------------------- */

int pop_start(struct pop *pop)
{
	for (size_t i = 0; i < pop->count; i++) {
		struct pop_net *n = &pop->nets[i];
		for (size_t c = 0; c < n->check_count; c++) {
			int ret = health_check_start(n->checks[c].hc);
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}

void pop_zones_loaded(struct pop *pop)
{
	if (pop->ready)
		return;
	pop->ready = true;
	log_info("zones loaded: networks are announced once their checks "
		 "are up");
	for (size_t i = 0; i < pop->count && pop->phase == POP_RUNNING; i++)
		evaluate(&pop->nets[i]);
}

static struct pop_net *find(struct pop *pop, const char *name)
{
	for (size_t i = 0; i < pop->count; i++)
		if (strcmp(pop->nets[i].conf.name, name) == 0)
			return &pop->nets[i];
	return NULL;
}

static int each(struct pop *pop, const char *network, enum pop_net_event ev,
		const char *why)
{
	if (pop->phase != POP_RUNNING)
		return ANYDNS_EAGAIN;
	if (network != NULL) {
		struct pop_net *n = find(pop, network);
		if (n == NULL)
			return ANYDNS_ENOENT;
		pop_net_fsm(n, ev, why);
		return 0;
	}
	for (size_t i = 0; i < pop->count; i++)
		pop_net_fsm(&pop->nets[i], ev, why);
	return 0;
}

int pop_drain(struct pop *pop, const char *network)
{
	return each(pop, network, POP_EV_DRAIN, "drained by the operator");
}

int pop_undrain(struct pop *pop, const char *network)
{
	return each(pop, network, POP_EV_UNDRAIN, "undrained by the operator");
}

/* ---- stopping -------------------------------------------------------------------- */

static void finish_stop(struct pop *pop)
{
	remove_addresses(pop);
	pop->phase = POP_STOPPED;
	log_notice("anycast: stopped");
	if (pop->done != NULL)
		pop->done(pop->done_arg);
}

static void on_grace(uv_timer_t *t)
{
	finish_stop(t->data);
}

static void on_flush_poll(uv_timer_t *t)
{
	struct pop *pop = t->data;
	bool flushed = pop->sp == NULL || bgp_speaker_flushed(pop->sp);
	if (!flushed && uv_now(pop->loop) < pop->flush_deadline)
		return;
	if (!flushed)
		log_warn("anycast: withdrawals not sent to every peer within "
			 "%ums; removing the addresses anyway",
			 pop->conf.flush_wait_ms);
	uv_timer_stop(&pop->stop_timer);
	pop->phase = POP_STOP_GRACE;
	log_info("anycast: withdrawals sent; addresses stay %ums more",
		 pop->conf.withdraw_grace_ms);
	uv_timer_start(&pop->stop_timer, on_grace, pop->conf.withdraw_grace_ms,
		       0);
}

void pop_stop_progress(struct pop *pop)
{
	if (pop->phase != POP_STOP_DRAINING)
		return;
	for (size_t i = 0; i < pop->count; i++)
		if (pop->nets[i].state == POP_NET_ANNOUNCED ||
		    pop->nets[i].state == POP_NET_DRAINING)
			return;
	pop->phase = POP_STOP_FLUSHING;
	pop->flush_deadline = uv_now(pop->loop) + pop->conf.flush_wait_ms;
	/* At once, then every few milliseconds: usually the UPDATEs left
	 * with the call that withdrew them. */
	uv_timer_start(&pop->stop_timer, on_flush_poll, 0, FLUSH_POLL_MS);
}

void pop_stop(struct pop *pop, uint32_t drain_ms, void (*done)(void *arg),
	      void *arg)
{
	if (pop->phase != POP_RUNNING)
		return;
	pop->done = done;
	pop->done_arg = arg;
	pop->stop_drain_ms = drain_ms;
	pop->phase = POP_STOP_DRAINING;
	log_notice("anycast: stopping: networks drain for %ums, then are "
		   "withdrawn", drain_ms);
	for (size_t i = 0; i < pop->count; i++) {
		struct pop_net *n = &pop->nets[i];
		for (size_t c = 0; c < n->check_count; c++)
			health_check_stop(n->checks[c].hc);
		pop_net_fsm(n, POP_EV_STOP, "stopping");
	}
	pop_stop_progress(pop);
}

bool pop_stopping(const struct pop *pop)
{
	return pop->phase != POP_RUNNING && pop->phase != POP_STOPPED;
}

void pop_free(struct pop *pop)
{
	if (pop == NULL || pop->freeing)
		return;
	pop->freeing = true;
	for (size_t i = 0; i < pop->count; i++) {
		struct pop_net *n = &pop->nets[i];
		for (size_t c = 0; c < n->check_count; c++)
			health_check_free(n->checks[c].hc);
		free(n->checks);
		n->checks = NULL;
		n->check_count = 0;
		n->drain_timer.data = pop;
		uv_close((uv_handle_t *)&n->drain_timer, on_handle_closed);
	}
	uv_close((uv_handle_t *)&pop->stop_timer, on_handle_closed);
}

/* ---- status ------------------------------------------------------------------------ */

size_t pop_network_status(const struct pop *pop, struct pop_network_status *out,
			  size_t max)
{
	for (size_t i = 0; i < pop->count && i < max; i++) {
		const struct pop_net *n = &pop->nets[i];
		struct pop_network_status *s = &out[i];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", n->conf.name);
		snprintf(s->interface, sizeof(s->interface), "%s",
			 n->conf.interface);
		s->state = n->state;
		s->healthy = n->healthy && pop->ready;
		s->since_ms = n->since_ms;
		s->changes = n->changes;
		snprintf(s->reason, sizeof(s->reason), "%s", n->reason);
		s->addr_count = n->conf.addr_count;
		memcpy(s->addrs, n->conf.addrs, sizeof(s->addrs));
		memcpy(s->addr_present, n->addr_present, sizeof(s->addr_present));
		memcpy(s->addr_added, n->addr_added, sizeof(s->addr_added));
		s->announced = n->state == POP_NET_ANNOUNCED ||
			       n->state == POP_NET_DRAINING;
		s->route_count = n->route_count;
		memcpy(s->routes, n->routes, sizeof(s->routes));
		struct bgp_route *r = &s->attrs;
		r->prepend = n->conf.prepend;
		r->community_count = n->conf.community_count;
		memcpy(r->communities, n->conf.communities, sizeof(r->communities));
		bool listed = false;
		for (size_t c = 0; c < r->community_count; c++)
			listed |= r->communities[c] ==
				  BGP_COMMUNITY_GRACEFUL_SHUTDOWN;
		if (n->gshut && !listed)
			r->communities[r->community_count++] =
				BGP_COMMUNITY_GRACEFUL_SHUTDOWN;
		r->large_community_count = n->conf.large_community_count;
		memcpy(r->large_communities, n->conf.large_communities,
		       sizeof(r->large_communities));
		s->check_count = n->check_count;
		s->drain_ms = n->conf.drain_ms;
	}
	return pop->count;
}

size_t pop_check_status(const struct pop *pop, size_t i,
			struct health_status *out, size_t max)
{
	if (i >= pop->count)
		return 0;
	const struct pop_net *n = &pop->nets[i];
	for (size_t c = 0; c < n->check_count && c < max; c++)
		health_check_status(n->checks[c].hc, &out[c]);
	return n->check_count;
}
