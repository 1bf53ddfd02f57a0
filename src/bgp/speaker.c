/*
 * The speaker: the typed calls of bgp.h, the peers, and a small RIB-out
 * (prefix → the attributes policy chose). A session that comes up gets
 * every route of the families it negotiated and then End-of-RIB for each
 * of them (RFC 4724 §2); an announce or withdraw goes out to every
 * Established peer at once, one UPDATE per route, with no batching delay
 * (RFC 4271 §9.2.1.1 MinRouteAdvertisementIntervalTimer is a SHOULD for
 * routes learned from peers; ours are originated and failover speed is
 * the point); a ROUTE-REFRESH (RFC 2918 §4) re-sends the routes of its
 * family. NEXT_HOP (§5.1.3) is the session's own local address of the
 * route's family, or the configured next hop when the session runs over
 * the other family (without one that family is not announced there, as
 * BIRD refuses to invent one).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgp/internal.h"

void bgp_peer_conf_init(struct bgp_peer_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->hold_time = 90;
	c->connect_retry = 5;
	c->ipv4_unicast = true;
	c->ipv6_unicast = true;
}

uint64_t bgp_now_ms(const struct bgp_speaker *sp)
{
	(void)sp;
	return uv_hrtime() / 1000000u;
}

double bgp_random(struct bgp_speaker *sp)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	uint64_t x = sp->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sp->rng = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

int bgp_speaker_new(uv_loop_t *loop, uint32_t local_as, uint32_t router_id,
		    struct bgp_speaker **out)
{
	if (loop == NULL || local_as == 0 || router_id == 0)
		return ANYDNS_EINVAL;
	struct bgp_speaker *sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return ANYDNS_ENOMEM;
	sp->loop = loop;
	sp->local_as = local_as;
	sp->router_id = ntohl(router_id);
	sp->io = &bgp_tcp_io;
	sp->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
	*out = sp;
	return 0;
}

void bgp_speaker_on_state(struct bgp_speaker *sp, bgp_state_cb cb, void *arg)
{
	sp->state_cb = cb;
	sp->state_arg = arg;
}

void bgp_speaker_handle_closed(struct bgp_speaker *sp)
{
	sp->handles--;
	if (sp->stopping && sp->handles == 0 && sp->stop_done != NULL) {
		void (*done)(void *) = sp->stop_done;
		sp->stop_done = NULL;
		done(sp->stop_arg);
	}
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
			      16) == 0;
	return false;
}

struct bgp_peer *bgp_speaker_find_peer(struct bgp_speaker *sp,
				       const struct sockaddr *addr)
{
	for (size_t i = 0; i < sp->peer_count; i++)
		if (same_addr(addr, &sp->peers[i]->conf.remote))
			return sp->peers[i];
	return NULL;
}

int bgp_speaker_add_peer(struct bgp_speaker *sp, const struct bgp_peer_conf *c)
{
	sa_family_t fam = c->remote.ss_family;
	if ((fam != AF_INET && fam != AF_INET6) || c->remote_as == 0 ||
	    c->hold_time == 1 || c->hold_time == 2 ||
	    (!c->ipv4_unicast && !c->ipv6_unicast) ||
	    strnlen(c->md5_password, sizeof(c->md5_password)) >=
	    sizeof(c->md5_password) ||
	    (c->local.ss_family != 0 && c->local.ss_family != fam))
		return ANYDNS_EINVAL;
	if (bgp_speaker_find_peer(sp, (const struct sockaddr *)&c->remote) != NULL)
		return ANYDNS_EEXIST;
	struct bgp_peer **peers = realloc(sp->peers,
					  (sp->peer_count + 1) * sizeof(*peers));
	if (peers == NULL)
		return ANYDNS_ENOMEM;
	sp->peers = peers;
	struct bgp_peer *p = malloc(sizeof(*p));
	if (p == NULL)
		return ANYDNS_ENOMEM;
	bgp_peer_init(p, sp, c);
	struct bgp_peer_conf *pc = &p->conf;
	pc->name[sizeof(pc->name) - 1] = '\0';
	if (pc->name[0] == '\0')
		bgp_addr_str(&pc->remote, pc->name, sizeof(pc->name));
	in_port_t *port = fam == AF_INET ?
		&((struct sockaddr_in *)(void *)&pc->remote)->sin_port :
		&((struct sockaddr_in6 *)(void *)&pc->remote)->sin6_port;
	if (*port == 0)
		*port = htons(BGP_PORT);
	sp->peers[sp->peer_count++] = p;
	for (size_t i = 0; i < sp->listener_count; i++) {
		int ret = bgp_listener_add_key(sp->listeners[i], p);
		if (ret != 0)
			log_peer_err(p, "cannot set its TCP MD5 key on a "
				     "listener: %s", anydns_strerror(ret));
	}
	if (sp->started)
		bgp_fsm(p, BGP_EV_MANUAL_START, NULL);
	return 0;
}

int bgp_speaker_listen(struct bgp_speaker *sp, const struct sockaddr *addr)
{
	if (sp->listener_count == BGP_MAX_LISTENERS)
		return ANYDNS_ERANGE;
	struct bgp_listener *l;
	int ret = bgp_listener_open(sp, addr, &l);
	if (ret != 0)
		return ret;
	sp->listeners[sp->listener_count++] = l;
	return 0;
}

int bgp_speaker_start(struct bgp_speaker *sp)
{
	sp->started = true;
	for (size_t i = 0; i < sp->peer_count; i++)
		bgp_fsm(sp->peers[i], BGP_EV_MANUAL_START, NULL);
	return 0;
}

void bgp_speaker_stop(struct bgp_speaker *sp, void (*done)(void *arg),
		      void *arg)
{
	if (sp->stopping) {
		/* Stopped or stopping already: only the callback is new. */
		if (sp->handles == 0)
			done(arg);
		else {
			sp->stop_done = done;
			sp->stop_arg = arg;
		}
		return;
	}
	sp->stopping = true;
	sp->started = false;
	sp->stop_done = done;
	sp->stop_arg = arg;
	for (size_t i = 0; i < sp->peer_count; i++) {
		bgp_fsm(sp->peers[i], BGP_EV_MANUAL_STOP, NULL);
		bgp_peer_close(sp->peers[i]);
	}
	for (size_t i = 0; i < sp->listener_count; i++)
		bgp_listener_close(sp->listeners[i]);
	sp->listener_count = 0;
	if (sp->handles == 0 && sp->stop_done != NULL) {
		sp->stop_done = NULL;
		done(arg);
	}
}

void bgp_speaker_free(struct bgp_speaker *sp)
{
	if (sp == NULL)
		return;
	for (size_t i = 0; i < sp->peer_count; i++)
		free(sp->peers[i]);
	free(sp->peers);
	free(sp->routes);
	free(sp);
}

/* ---- the RIB-out -------------------------------------------------------- */

static bool prefix_valid(const struct bgp_prefix *p)
{
	size_t octets;
	if (p->family == AF_INET && p->len <= 32)
		octets = 4;
	else if (p->family == AF_INET6 && p->len <= 128)
		octets = 16;
	else
		return false;
	const uint8_t *a = (const uint8_t *)&p->addr;
	for (size_t bit = p->len; bit < octets * 8; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

static bool prefix_equal(const struct bgp_prefix *a, const struct bgp_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(&a->addr, &b->addr,
		      a->family == AF_INET ? 4 : 16) == 0;
}

static ssize_t route_find(const struct bgp_speaker *sp,
			  const struct bgp_prefix *p)
{
	for (size_t i = 0; i < sp->route_count; i++)
		if (prefix_equal(&sp->routes[i].prefix, p))
			return (ssize_t)i;
	return -1;
}

static bool peer_sends(const struct bgp_peer *p, sa_family_t family)
{
	if (p->state != BGP_STATE_ESTABLISHED)
		return false;
	return family == AF_INET ? p->send_ipv4 : p->send_ipv6;
}

static void mark_flush(struct bgp_peer *p)
{
	p->flush_pending = true;
	p->flush_session = p->session_id;
	p->flush_mark = p->conn->tx_queued;
}

static void send_route(struct bgp_peer *p, const struct bgp_route *r)
{
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), &p->attr, r);
	if (len < 0) {
		char text[64];
		bgp_prefix_to_str(&r->prefix, text, sizeof(text));
		log_peer_err(p, "cannot encode %s: %s", text,
			     anydns_strerror(len));
		return;
	}
	bgp_peer_send(p, buf, (size_t)len);
}

static void send_withdraw(struct bgp_peer *p, const struct bgp_prefix *pf)
{
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_withdraw(buf, sizeof(buf), pf);
	if (len > 0)
		bgp_peer_send(p, buf, (size_t)len);
}

int bgp_announce(struct bgp_speaker *sp, const struct bgp_route *r)
{
	if (!prefix_valid(&r->prefix) ||
	    r->community_count > BGP_MAX_COMMUNITIES ||
	    r->large_community_count > BGP_MAX_LARGE_COMMUNITIES)
		return ANYDNS_EINVAL;
	ssize_t i = route_find(sp, &r->prefix);
	if (i < 0) {
		if (sp->route_count == sp->route_cap) {
			size_t cap = sp->route_cap ? sp->route_cap * 2 : 8;
			struct bgp_route *nr = realloc(sp->routes,
						       cap * sizeof(*nr));
			if (nr == NULL)
				return ANYDNS_ENOMEM;
			sp->routes = nr;
			sp->route_cap = cap;
		}
		i = (ssize_t)sp->route_count++;
	}
	sp->routes[i] = *r;
	for (size_t k = 0; k < sp->peer_count; k++) {
		struct bgp_peer *p = sp->peers[k];
		if (!peer_sends(p, r->prefix.family))
			continue;
		send_route(p, r);
		mark_flush(p);
	}
	return 0;
}

int bgp_withdraw(struct bgp_speaker *sp, const struct bgp_prefix *pf)
{
	ssize_t i = route_find(sp, pf);
	if (i < 0)
		return ANYDNS_ENOENT;
	struct bgp_prefix copy = *pf;
	memmove(&sp->routes[i], &sp->routes[i + 1],
		(sp->route_count - (size_t)i - 1) * sizeof(sp->routes[0]));
	sp->route_count--;
	for (size_t k = 0; k < sp->peer_count; k++) {
		struct bgp_peer *p = sp->peers[k];
		if (!peer_sends(p, copy.family))
			continue;
		send_withdraw(p, &copy);
		mark_flush(p);
	}
	return 0;
}

bool bgp_speaker_flushed(const struct bgp_speaker *sp)
{
	for (size_t k = 0; k < sp->peer_count; k++) {
		const struct bgp_peer *p = sp->peers[k];
		/* A session that went down took the routes with it. */
		if (!p->flush_pending || p->conn == NULL ||
		    p->state != BGP_STATE_ESTABLISHED ||
		    p->session_id != p->flush_session)
			continue;
		if (p->conn->tx_done < p->flush_mark)
			return false;
	}
	return true;
}

static uint32_t routes_sent(const struct bgp_speaker *sp,
			    const struct bgp_peer *p)
{
	uint32_t n = 0;
	for (size_t i = 0; i < sp->route_count; i++)
		if (peer_sends(p, sp->routes[i].prefix.family))
			n++;
	return n;
}

size_t bgp_speaker_status(const struct bgp_speaker *sp,
			  struct bgp_peer_status *out, size_t max)
{
	for (size_t i = 0; i < sp->peer_count && i < max; i++) {
		const struct bgp_peer *p = sp->peers[i];
		struct bgp_peer_status *s = &out[i];
		*s = p->st;
		memcpy(s->name, p->conf.name, sizeof(s->name));
		s->remote = p->conf.remote;
		s->remote_as = p->conf.remote_as;
		s->state = p->state;
		s->state_since_ms = p->state_since_ms;
		s->hold_time = p->state >= BGP_STATE_OPENCONFIRM ?
			       p->params.hold_time : 0;
		s->prefixes_announced = routes_sent(sp, p);
	}
	return sp->peer_count;
}

size_t bgp_speaker_routes(const struct bgp_speaker *sp, struct bgp_route *out,
			  size_t max)
{
	for (size_t i = 0; i < sp->route_count && i < max; i++)
		out[i] = sp->routes[i];
	return sp->route_count;
}

/* ---- sessions ------------------------------------------------------------ */

/* §5.1.3: the address we reach the peer from, per family; a configured
 * next hop wins. */
static void choose_next_hops(struct bgp_peer *p, bool *have4, bool *have6)
{
	const struct sockaddr_storage *l = &p->conn->local;
	struct bgp_attr_ctx *a = &p->attr;
	*have4 = *have6 = false;
	if (l->ss_family == AF_INET) {
		a->next_hop_v4 = ((const struct sockaddr_in *)(const void *)l)->sin_addr;
		*have4 = true;
	} else if (l->ss_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)(const void *)l)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(&a->next_hop_v4, &a6->s6_addr[12], 4);
			*have4 = true;
		} else {
			a->next_hop_v6 = *a6;
			*have6 = true;
		}
	}
	if (p->conf.next_hop_v4.s_addr != 0) {
		a->next_hop_v4 = p->conf.next_hop_v4;
		*have4 = true;
	}
	if (!IN6_IS_ADDR_UNSPECIFIED(&p->conf.next_hop_v6)) {
		a->next_hop_v6 = p->conf.next_hop_v6;
		*have6 = true;
	}
}

static void send_family(struct bgp_peer *p, sa_family_t family)
{
	const struct bgp_speaker *sp = p->sp;
	for (size_t i = 0; i < sp->route_count; i++)
		if (sp->routes[i].prefix.family == family)
			send_route(p, &sp->routes[i]);
}

static void send_eor(struct bgp_peer *p, sa_family_t family)
{
	uint8_t buf[64];
	int len = bgp_msg_write_eor(buf, sizeof(buf), family);
	if (len > 0)
		bgp_peer_send(p, buf, (size_t)len);
}

void bgp_speaker_session_up(struct bgp_peer *p)
{
	bool have4, have6;
	memset(&p->attr, 0, sizeof(p->attr));
	p->attr.local_as = p->sp->local_as;
	p->attr.as4 = p->params.as4;
	p->attr.ibgp = p->conf.remote_as == p->sp->local_as;
	choose_next_hops(p, &have4, &have6);
	p->send_ipv4 = p->params.ipv4 && have4;
	p->send_ipv6 = p->params.ipv6 && have6;
	if (p->params.ipv4 && !have4)
		log_peer_warn(p, "IPv4 negotiated but not announced: the session "
			      "runs over IPv6 and no IPv4 next hop is configured");
	if (p->params.ipv6 && !have6)
		log_peer_warn(p, "IPv6 negotiated but not announced: the session "
			      "runs over IPv4 and no IPv6 next hop is configured");
	if (p->send_ipv4)
		send_family(p, AF_INET);
	if (p->send_ipv6)
		send_family(p, AF_INET6);
	if (p->params.ipv4)
		send_eor(p, AF_INET);
	if (p->params.ipv6)
		send_eor(p, AF_INET6);
	log_peer_info(p, "sent %u routes and End-of-RIB",
		      routes_sent(p->sp, p));
	mark_flush(p);
}

void bgp_speaker_session_down(struct bgp_peer *p)
{
	p->flush_pending = false;
	log_peer_info(p, "session down after %llu UPDATEs sent, %llu received",
		      (unsigned long long)p->st.updates_out,
		      (unsigned long long)p->st.updates_in);
}

void bgp_speaker_route_refresh(struct bgp_peer *p, uint16_t afi, uint8_t safi)
{
	sa_family_t family = 0;
	if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV4 && p->params.ipv4)
		family = AF_INET;
	else if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV6 &&
		 p->params.ipv6)
		family = AF_INET6;
	if (family == 0) {
		/* RFC 2918 §4: a family we did not advertise is ignored. */
		log_peer_info(p, "ROUTE-REFRESH for AFI %u SAFI %u ignored", afi,
			      safi);
		return;
	}
	log_peer_info(p, "ROUTE-REFRESH for %s: re-sending our routes",
		      family == AF_INET ? "IPv4" : "IPv6");
	if (family == AF_INET ? p->send_ipv4 : p->send_ipv6) {
		send_family(p, family);
		mark_flush(p);
	}
}

/* ---- text forms ---------------------------------------------------------- */

int bgp_prefix_from_str(const char *s, struct bgp_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		return ANYDNS_EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(p, 0, sizeof(*p));
	unsigned max;
	if (inet_pton(AF_INET, addr, &p->addr.v4) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, &p->addr.v6) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return ANYDNS_EINVAL;
	}
	unsigned len = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		if (*d == '\0' || strlen(d) > 3)
			return ANYDNS_EINVAL;
		len = 0;
		for (; *d != '\0'; d++) {
			if (*d < '0' || *d > '9')
				return ANYDNS_EINVAL;
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (len > max)
			return ANYDNS_EINVAL;
	}
	p->len = (uint8_t)len;
	return prefix_valid(p) ? 0 : ANYDNS_EINVAL;
}

size_t bgp_prefix_to_str(const struct bgp_prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	if (inet_ntop(p->family, &p->addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	int n = snprintf(buf, len, "%s/%u", addr, p->len);
	return n < 0 ? 0 : (size_t)n;
}
