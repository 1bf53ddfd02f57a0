/*
 * What the control socket and /metrics say about the anycast side, from a
 * struct ctl_anycast_view: the `bgp` body (sessions, their state and
 * counters, and each route: announced to whom, with which attributes, and
 * why, or withdrawn and why), the `networks` body (each network's state,
 * addresses, routes and checks) and the anycast metrics in the Prometheus
 * text format. Like reply.c: one fact per line, `key=value`, free text in
 * double quotes; prefixes as RFC 4632 / RFC 4291 text; communities as
 * RFC 1997 "AS:VALUE" and RFC 8092 "A:B:C". No I/O but to f.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "ctl/internal.h"

static void put_prefix(FILE *f, const struct bgp_prefix *p)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(p->family == AF_INET ? AF_INET : AF_INET6, &p->addr, a,
		  sizeof(a));
	fprintf(f, "%s/%u", a, p->len);
}

static void put_sockaddr(FILE *f, const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
	}
	fprintf(f, "%s@%u", a, port);
}

/* Free text in double quotes, '"' and '\' escaped: one line, parseable. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('"', f);
}

/* Time since since_ms, from the copy's clock: "12.3s". */
static void put_age(FILE *f, uint64_t now, uint64_t since_ms)
{
	uint64_t ms = now > since_ms ? now - since_ms : 0;
	fprintf(f, "%" PRIu64 ".%" PRIu64 "s", ms / 1000, ms % 1000 / 100);
}

static void put_attrs(FILE *f, const struct bgp_route *r)
{
	fprintf(f, " prepend=%u communities=", r->prepend);
	if (r->community_count == 0)
		fputc('-', f);
	for (size_t i = 0; i < r->community_count; i++)
		fprintf(f, "%s%u:%u", i > 0 ? "," : "", r->communities[i] >> 16,
			r->communities[i] & 0xffff);
	fputs(" large-communities=", f);
	if (r->large_community_count == 0)
		fputc('-', f);
	for (size_t i = 0; i < r->large_community_count; i++)
		fprintf(f, "%s%u:%u:%u", i > 0 ? "," : "",
			r->large_communities[i].global,
			r->large_communities[i].local1,
			r->large_communities[i].local2);
}

/* ---- bgp ------------------------------------------------------------------- */

/* The peers an announced route of family goes to: those with an
 * established session that carry the family. */
static void put_receivers(FILE *f, const struct ctl_anycast_view *a,
			  sa_family_t family)
{
	size_t n = 0;
	fputs(" to=", f);
	for (size_t i = 0; i < a->peer_count; i++) {
		const struct bgp_peer_status *p = &a->peers[i];
		if (p->state != BGP_STATE_ESTABLISHED ||
		    !a->peer_families[i][family == AF_INET ? 0 : 1])
			continue;
		fprintf(f, "%s%s", n++ > 0 ? "," : "", p->name);
	}
	if (n == 0)
		fputc('-', f);
}

void ctl_write_bgp(FILE *f, const struct ctl_view *v)
{
	const struct ctl_anycast_view *a = v->anycast;
	char rid[INET_ADDRSTRLEN];
	if (a == NULL || a->local_as == 0) {
		fputs("local-as: 0 (no BGP speaker: nothing is announced)\n", f);
		if (a == NULL)
			return;
	} else {
		inet_ntop(AF_INET, &a->router_id, rid, sizeof(rid));
		fprintf(f, "local-as: %" PRIu32 "\nrouter-id: %s\n", a->local_as,
			rid);
	}
	fprintf(f, "stopping: %s\n", a->stopping ? "yes" : "no");
	for (size_t i = 0; i < a->peer_count; i++) {
		const struct bgp_peer_status *p = &a->peers[i];
		fprintf(f, "peer %s: address=", p->name);
		put_sockaddr(f, &p->remote);
		fprintf(f, " remote-as=%" PRIu32 " state=%s since=", p->remote_as,
			bgp_state_name(p->state));
		put_age(f, a->now_ms, p->state_since_ms);
		fprintf(f, " established=%" PRIu64 " hold-time=%u messages-in=%"
			PRIu64 " messages-out=%" PRIu64 " updates-in=%" PRIu64
			" updates-out=%" PRIu64 " prefixes-announced=%" PRIu32
			" prefixes-received=%" PRIu64 " last-error=",
			p->established_count, p->hold_time, p->msgs_in,
			p->msgs_out, p->updates_in, p->updates_out,
			p->prefixes_announced, p->prefixes_received);
		if (p->last_error[0] == '\0' && p->last_error_code == 0)
			fputc('-', f);
		else
			put_quoted(f, p->last_error);
		if (p->last_error_code != 0)
			fprintf(f, " notification=%u/%u-%s", p->last_error_code,
				p->last_error_subcode,
				p->last_error_sent ? "sent" : "received");
		fputc('\n', f);
	}
	for (size_t i = 0; i < a->network_count; i++) {
		const struct pop_network_status *n = &a->networks[i];
		for (size_t r = 0; r < n->route_count; r++) {
			fputs(n->announced ? "route " : "withdrawn ", f);
			put_prefix(f, &n->routes[r]);
			fprintf(f, ": network=%s state=%s", n->name,
				pop_net_state_name(n->state));
			if (n->announced) {
				put_attrs(f, &n->attrs);
				put_receivers(f, a, n->routes[r].family);
			}
			fputs(" why=", f);
			put_quoted(f, n->reason);
			fputc('\n', f);
		}
	}
}

/* ---- networks ------------------------------------------------------------------ */

void ctl_write_networks(FILE *f, const struct ctl_view *v)
{
	const struct ctl_anycast_view *a = v->anycast;
	if (a == NULL)
		return;
	size_t c = 0;
	for (size_t i = 0; i < a->network_count; i++) {
		const struct pop_network_status *n = &a->networks[i];
		fprintf(f, "network %s: state=%s healthy=%s since=", n->name,
			pop_net_state_name(n->state), n->healthy ? "yes" : "no");
		put_age(f, a->now_ms, n->since_ms);
		fprintf(f, " changes=%" PRIu64 " interface=%s drain-time=%ums "
			"why=", n->changes, n->interface, n->drain_ms);
		put_quoted(f, n->reason);
		fputc('\n', f);
		for (size_t k = 0; k < n->addr_count; k++) {
			fputs("  address ", f);
			put_prefix(f, &n->addrs[k]);
			if (!n->addr_present[k])
				fputs(": missing\n", f);
			else
				fprintf(f, ": on %s, %s\n", n->interface,
					n->addr_added[k] ? "added by anydnsd" :
					"there before");
		}
		for (size_t r = 0; r < n->route_count; r++) {
			fputs("  route ", f);
			put_prefix(f, &n->routes[r]);
			fputs(n->announced ? ": announced" : ": withdrawn", f);
			put_attrs(f, &n->attrs);
			fputc('\n', f);
		}
		for (; c < a->check_count && a->check_network[c] == i; c++) {
			const struct health_status *h = &a->checks[c];
			fprintf(f, "  check %s: kind=%s state=%s since=", h->name,
				health_kind_name(h->kind),
				health_state_name(h->state));
			put_age(f, a->now_ms, h->since_ms);
			fprintf(f, " changes=%" PRIu64 " passes=%" PRIu64
				" failures=%" PRIu64 " why=", h->changes,
				h->passes, h->failures);
			put_quoted(f, h->reason);
			fputs(" last=", f);
			put_quoted(f, h->last);
			fputc('\n', f);
		}
	}
}

/* ---- metrics -------------------------------------------------------------------- */

static void header(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"... */
static void sample_start(FILE *f, const char *name, const char *label,
			 const char *value)
{
	fprintf(f, "%s{%s=\"", name, label);
	ctl_write_label(f, value);
	fputc('"', f);
}

static void label(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",%s=\"", name);
	ctl_write_label(f, value);
	fputc('"', f);
}

static const enum pop_net_state net_states[] = {
	POP_NET_WITHDRAWN, POP_NET_ANNOUNCED, POP_NET_DRAINING, POP_NET_DRAINED,
};
static const enum health_state check_states[] = {
	HEALTH_INIT, HEALTH_UP, HEALTH_DOWN, HEALTH_HELD,
};
static const enum bgp_state bgp_states[] = {
	BGP_STATE_IDLE, BGP_STATE_CONNECT, BGP_STATE_ACTIVE,
	BGP_STATE_OPENSENT, BGP_STATE_OPENCONFIRM, BGP_STATE_ESTABLISHED,
};

static void network_metrics(FILE *f, const struct ctl_anycast_view *a)
{
	header(f, "anydns_network_announced", "gauge", "1 while the network's "
	       "routes are announced (draining included), else 0.");
	for (size_t i = 0; i < a->network_count; i++) {
		sample_start(f, "anydns_network_announced", "network",
			     a->networks[i].name);
		fprintf(f, "} %d\n", a->networks[i].announced ? 1 : 0);
	}
	header(f, "anydns_network_healthy", "gauge", "1 while every check of "
	       "the network is up and the zones are loaded, else 0.");
	for (size_t i = 0; i < a->network_count; i++) {
		sample_start(f, "anydns_network_healthy", "network",
			     a->networks[i].name);
		fprintf(f, "} %d\n", a->networks[i].healthy ? 1 : 0);
	}
	header(f, "anydns_network_state", "gauge", "1 for the state the "
	       "network's announce policy is in, 0 for the others.");
	for (size_t i = 0; i < a->network_count; i++) {
		for (size_t s = 0; s < 4; s++) {
			sample_start(f, "anydns_network_state", "network",
				     a->networks[i].name);
			label(f, "state", pop_net_state_name(net_states[s]));
			fprintf(f, "} %d\n", a->networks[i].state == net_states[s]);
		}
	}
	header(f, "anydns_network_state_changes_total", "counter",
	       "Changes of the network's announce state.");
	for (size_t i = 0; i < a->network_count; i++) {
		sample_start(f, "anydns_network_state_changes_total", "network",
			     a->networks[i].name);
		fprintf(f, "} %" PRIu64 "\n", a->networks[i].changes);
	}
	header(f, "anydns_network_address_present", "gauge", "1 when the "
	       "address is on the network's interface, else 0.");
	for (size_t i = 0; i < a->network_count; i++) {
		const struct pop_network_status *n = &a->networks[i];
		for (size_t k = 0; k < n->addr_count; k++) {
			char text[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN];
			inet_ntop(n->addrs[k].family, &n->addrs[k].addr, ip,
				  sizeof(ip));
			snprintf(text, sizeof(text), "%s/%u", ip, n->addrs[k].len);
			sample_start(f, "anydns_network_address_present",
				     "network", n->name);
			label(f, "address", text);
			fprintf(f, "} %d\n", n->addr_present[k] ? 1 : 0);
		}
	}
}

static void check_sample(FILE *f, const struct ctl_anycast_view *a, size_t c,
			 const char *name)
{
	sample_start(f, name, "network", a->networks[a->check_network[c]].name);
	label(f, "check", a->checks[c].name);
}

static void check_metrics(FILE *f, const struct ctl_anycast_view *a)
{
	header(f, "anydns_health_check_up", "gauge",
	       "1 while the health check is up, else 0.");
	for (size_t c = 0; c < a->check_count; c++) {
		check_sample(f, a, c, "anydns_health_check_up");
		label(f, "kind", health_kind_name(a->checks[c].kind));
		fprintf(f, "} %d\n", a->checks[c].state == HEALTH_UP);
	}
	header(f, "anydns_health_check_state", "gauge", "1 for the state the "
	       "check's hysteresis is in, 0 for the others.");
	for (size_t c = 0; c < a->check_count; c++) {
		for (size_t s = 0; s < 4; s++) {
			check_sample(f, a, c, "anydns_health_check_state");
			label(f, "state", health_state_name(check_states[s]));
			fprintf(f, "} %d\n", a->checks[c].state == check_states[s]);
		}
	}
	header(f, "anydns_health_check_state_changes_total", "counter",
	       "Changes of the check's state (up, down, held).");
	for (size_t c = 0; c < a->check_count; c++) {
		check_sample(f, a, c, "anydns_health_check_state_changes_total");
		fprintf(f, "} %" PRIu64 "\n", a->checks[c].changes);
	}
	header(f, "anydns_health_check_results_total", "counter",
	       "Results of the check's rounds, passed or failed.");
	for (size_t c = 0; c < a->check_count; c++) {
		check_sample(f, a, c, "anydns_health_check_results_total");
		fprintf(f, ",result=\"pass\"} %" PRIu64 "\n", a->checks[c].passes);
		check_sample(f, a, c, "anydns_health_check_results_total");
		fprintf(f, ",result=\"fail\"} %" PRIu64 "\n",
			a->checks[c].failures);
	}
}

/* A 32- or 64-bit counter of a peer's status, by offset and size. */
static uint64_t peer_value(const struct bgp_peer_status *ps, size_t off,
			   size_t size)
{
	const char *base = (const char *)ps;
	if (size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, base + off, sizeof(v));
		return v;
	}
	uint64_t v;
	memcpy(&v, base + off, sizeof(v));
	return v;
}

#define PEER_FIELD(m) offsetof(struct bgp_peer_status, m), \
	sizeof(((struct bgp_peer_status *)0)->m)

static void bgp_metrics(FILE *f, const struct ctl_anycast_view *a)
{
	header(f, "anydns_bgp_session_established", "gauge",
	       "1 while the session with the peer is Established, else 0.");
	for (size_t i = 0; i < a->peer_count; i++) {
		sample_start(f, "anydns_bgp_session_established", "peer",
			     a->peers[i].name);
		fprintf(f, "} %d\n", a->peers[i].state == BGP_STATE_ESTABLISHED);
	}
	header(f, "anydns_bgp_session_state", "gauge", "1 for the RFC 4271 "
	       "state the session with the peer is in, 0 for the others.");
	for (size_t i = 0; i < a->peer_count; i++) {
		for (size_t s = 0; s < 6; s++) {
			sample_start(f, "anydns_bgp_session_state", "peer",
				     a->peers[i].name);
			label(f, "state", bgp_state_name(bgp_states[s]));
			fprintf(f, "} %d\n", a->peers[i].state == bgp_states[s]);
		}
	}
	/* The per-peer counters, one family each; two offsets: by direction. */
	static const struct {
		const char *name, *type, *help;
		size_t in, size, out;	/* offsets in bgp_peer_status, the
					 * counters' size; out 0: no direction */
	} families[] = {
		{ "anydns_bgp_sessions_established_total", "counter",
		  "Times the session with the peer became Established.",
		  PEER_FIELD(established_count), 0 },
		{ "anydns_bgp_prefixes_announced", "gauge",
		  "Prefixes currently announced to the peer.",
		  PEER_FIELD(prefixes_announced), 0 },
		{ "anydns_bgp_prefixes_received_total", "counter",
		  "Prefixes the peer sent (counted and dropped).",
		  PEER_FIELD(prefixes_received), 0 },
		{ "anydns_bgp_messages_total", "counter",
		  "BGP messages exchanged with the peer, by direction.",
		  PEER_FIELD(msgs_in), offsetof(struct bgp_peer_status, msgs_out) },
		{ "anydns_bgp_updates_total", "counter",
		  "BGP UPDATE messages exchanged with the peer, by direction.",
		  PEER_FIELD(updates_in),
		  offsetof(struct bgp_peer_status, updates_out) },
	};
	for (size_t fam = 0; fam < sizeof(families) / sizeof(families[0]); fam++) {
		header(f, families[fam].name, families[fam].type,
		       families[fam].help);
		for (size_t i = 0; i < a->peer_count; i++) {
			const struct bgp_peer_status *ps = &a->peers[i];
			bool dir = families[fam].out != 0;
			for (int d = 0; d < (dir ? 2 : 1); d++) {
				size_t off = d == 0 ? families[fam].in :
						      families[fam].out;
				sample_start(f, families[fam].name, "peer",
					     ps->name);
				if (dir)
					fprintf(f, ",direction=\"%s\"",
						d == 0 ? "in" : "out");
				fprintf(f, "} %" PRIu64 "\n",
					peer_value(ps, off,
						   families[fam].size));
			}
		}
	}
}

void ctl_write_anycast_metrics(FILE *f, const struct ctl_anycast_view *a)
{
	network_metrics(f, a);
	check_metrics(f, a);
	if (a->local_as != 0)
		bgp_metrics(f, a);
}
