/*
 * The anycast side of the control thread: from the configuration it
 * builds the views of the zone set (one per network that serves some of
 * the zones), the BGP speaker (src/bgp) with its peers and listener, and
 * the PoP (src/pop) with each network's health checks (src/health): a DNS
 * probe per address, the zones check answered here from the zone loader's
 * status, and the optional command. It starts them once the DNS workers
 * answer, keeps a copy of their status for the HTTP thread, turns `drain`
 * and `undrain` requests into calls to the PoP, and runs the stop: drain
 * and withdraw every network (GRACEFUL_SHUTDOWN, RFC 8326), let the
 * withdrawals leave, remove the addresses, then close the BGP sessions
 * with a CEASE (RFC 4486 Administrative Shutdown).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/internal.h"
#include "lib/log.h"

/* How often the copy for /metrics is taken. */
#define REFRESH_MS 500

struct ctl_anycast {
	struct ctl *ctl;
	struct bgp_speaker *sp;
	struct pop *pop;
	bool pop_stopped;
	bool sp_stop_asked;
	bool sp_stopped;
	void (*done)(struct ctl *ctl);
	uv_timer_t refresh;
	bool refresh_open;

	/* The copy the HTTP thread reads, under ctl->lock; the arrays have
	 * room for every peer, network and check, so a copy never
	 * allocates. */
	struct ctl_anycast_view view;
	struct bgp_peer_status *peers;
	bool (*families)[2];
	size_t max_peers;
	struct pop_network_status *nets;
	size_t max_nets;
	struct health_status *checks;
	size_t *check_net;
	size_t max_checks;
};

/* ---- views of the zone set ------------------------------------------------ */

int ctl_views_init(struct ctl *ctl)
{
	const struct conf *c = ctl->conf;
	size_t names = 0, views = 0;
	ctl->network_view = calloc(c->networks_count ? c->networks_count : 1,
				   sizeof(*ctl->network_view));
	ctl->zone_checks = calloc(c->networks_count ? c->networks_count : 1,
				  sizeof(*ctl->zone_checks));
	if (ctl->network_view == NULL || ctl->zone_checks == NULL)
		return ANYDNS_ENOMEM;
	for (size_t i = 0; i < c->networks_count; i++) {
		ctl->zone_checks[i].ctl = ctl;
		ctl->zone_checks[i].max_lag_ms =
			c->networks[i].checks.zones_max_lag_ms;
	}
	for (size_t i = 0; i < c->networks_count; i++) {
		ctl->network_view[i] = ZONE_VIEW_ALL;
		if (c->networks[i].zones_count > 0) {
			views++;
			names += c->networks[i].zones_count;
		}
	}
	if (views == 0)
		return 0;
	ctl->views = calloc(views, sizeof(*ctl->views));
	ctl->view_names = calloc(names, sizeof(*ctl->view_names));
	if (ctl->views == NULL || ctl->view_names == NULL)
		return ANYDNS_ENOMEM;
	size_t at = 0;
	for (size_t i = 0; i < c->networks_count; i++) {
		const struct conf_network *n = &c->networks[i];
		if (n->zones_count == 0)
			continue;
		struct zone_view_def *d = &ctl->views[ctl->nviews];
		d->apexes = &ctl->view_names[at];
		d->count = n->zones_count;
		for (size_t z = 0; z < n->zones_count; z++)
			ctl->view_names[at++] = n->zones[z];
		ctl->network_view[i] = (uint32_t)ctl->nviews++;
	}
	return 0;
}

void ctl_views_free(struct ctl *ctl)
{
	free(ctl->views);
	free(ctl->view_names);
	free(ctl->network_view);
	free(ctl->zone_checks);
	ctl->zone_checks = NULL;
	ctl->views = NULL;
	ctl->view_names = NULL;
	ctl->network_view = NULL;
	ctl->nviews = 0;
}

int ctl_server_views(const struct ctl *ctl, struct server_view_addr **out,
		     size_t *n)
{
	const struct conf *c = ctl->conf;
	size_t count = 0;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < c->networks_count; i++)
		if (ctl->network_view[i] != ZONE_VIEW_ALL)
			count += c->networks[i].prefixes_count;
	if (count == 0)
		return 0;
	struct server_view_addr *va = calloc(count, sizeof(*va));
	if (va == NULL)
		return ANYDNS_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < c->networks_count; i++) {
		const struct conf_network *net = &c->networks[i];
		if (ctl->network_view[i] == ZONE_VIEW_ALL)
			continue;
		for (size_t p = 0; p < net->prefixes_count; p++) {
			const struct conf_prefix *pf = &net->prefixes[p];
			va[k].family = pf->family;
			va[k].prefix_len = pf->len;
			memcpy(va[k].addr, &pf->addr, pf->family == AF_INET ?
			       4 : 16);
			va[k].view = ctl->network_view[i];
			k++;
		}
	}
	*out = va;
	*n = count;
	return 0;
}

/* ---- the zones check --------------------------------------------------------- */

/* Why zone i fails the zones check of a network allowing max_lag_ms of
 * lag (0: not checked), or NULL when it passes. */
static const char *zone_fails(struct ctl *ctl, size_t i, uint32_t max_lag_ms,
			      char *why, size_t whylen)
{
	char name[DNS_NAME_STRLEN];
	dns_name_to_str(name, ctl->status[i].name);
	if (!ctl->status[i].serving) {
		snprintf(why, whylen, "zone %.200s is not loaded%s%.200s", name,
			 ctl->status[i].error[0] != '\0' ? ": " : "",
			 ctl->status[i].error);
		return why;
	}
	double lag = ctl_repl_lag(ctl, i);
	if (max_lag_ms > 0 && lag * 1000.0 > (double)max_lag_ms) {
		snprintf(why, whylen, "zone %.200s lags its primary by %.1fs "
			 "(limit %.1fs)", name, lag, max_lag_ms / 1000.0);
		return why;
	}
	return NULL;
}

bool ctl_zones_ok(void *arg, const uint8_t *const *apexes, size_t n,
		  char *why, size_t whylen)
{
	const struct ctl_zone_check *zc = arg;
	struct ctl *ctl = zc->ctl;
	/* A zone of our own whose reload failed still serves its previous
	 * version and passes; a secondary passes while it is not expired
	 * and, when the network sets a limit, does not lag too long. */
	if (n == 0) {
		for (size_t i = 0; i < ctl->nzones; i++)
			if (zone_fails(ctl, i, zc->max_lag_ms, why, whylen))
				return false;
		snprintf(why, whylen, "%zu zone%s loaded", ctl->nzones,
			 ctl->nzones == 1 ? "" : "s");
		return true;
	}
	for (size_t z = 0; z < n; z++) {
		size_t i = 0;
		while (i < ctl->nzones &&
		       !dns_name_equal(ctl->status[i].name, apexes[z]))
			i++;
		if (i == ctl->nzones) {
			char name[DNS_NAME_STRLEN];
			dns_name_to_str(name, apexes[z]);
			snprintf(why, whylen, "zone %.200s is not configured",
				 name);
			return false;
		}
		if (zone_fails(ctl, i, zc->max_lag_ms, why, whylen))
			return false;
	}
	snprintf(why, whylen, "%zu zone%s loaded", n, n == 1 ? "" : "s");
	return true;
}

/* ---- building -------------------------------------------------------------------- */

static void prefix_from_conf(const struct conf_prefix *c, struct bgp_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = c->family;
	p->len = c->len;
	memcpy(&p->addr, &c->addr, c->family == AF_INET ? 4 : 16);
}

/* The port the daemon answers the address on: that of the first listen
 * entry that is the address itself or the wildcard of its family. */
static bool probe_port(const struct conf *conf, const struct conf_prefix *p,
		       uint16_t *port)
{
	static const uint8_t zero[16];
	for (size_t i = 0; i < conf->server.listen_count; i++) {
		const struct sockaddr_storage *ss = &conf->server.listen[i].ss;
		if (ss->ss_family != p->family)
			continue;
		const void *a;
		uint16_t pt;
		if (ss->ss_family == AF_INET) {
			a = &((const struct sockaddr_in *)ss)->sin_addr;
			pt = ntohs(((const struct sockaddr_in *)ss)->sin_port);
		} else {
			a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
			pt = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
		}
		size_t len = p->family == AF_INET ? 4 : 16;
		if (memcmp(a, zero, len) == 0 || memcmp(a, &p->addr, len) == 0) {
			*port = pt;
			return true;
		}
	}
	*port = conf->server.port;
	return false;
}

static void timing_from_conf(const struct conf *conf, struct health_timing *t)
{
	t->interval_ms = conf->health.interval_ms;
	t->timeout_ms = conf->health.timeout_ms;
	t->rise = conf->health.rise;
	t->fall = conf->health.fall;
	t->hold_down_ms = conf->health.hold_down_ms;
}

static size_t check_count(const struct conf_network *n)
{
	return (n->checks.dns.enabled ? n->prefixes_count : 0) +
	       (n->checks.zones ? 1 : 0) + (n->checks.command != NULL ? 1 : 0);
}

/* The DNS probe of one address of network n. */
static int dns_check(struct ctl *ctl, const struct conf_network *n,
		     const struct conf_prefix *p, struct health_check_conf *hc)
{
	const struct conf *conf = ctl->conf;
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	size_t len;

	inet_ntop(p->family, &p->addr, addr, sizeof(addr));
	health_check_conf_init(hc);
	snprintf(hc->name, sizeof(hc->name), "%s/dns@%s", n->name, addr);
	timing_from_conf(conf, &hc->timing);
	if (!probe_port(conf, p, &port))
		log_warn("network %s: %s is not among server.listen: its DNS "
			 "probe asks port %u and will fail unless the daemon "
			 "answers there", n->name, addr, port);
	if (p->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&hc->target;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, &p->addr.v4, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hc->target;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, &p->addr.v6, 16);
	}
	if (n->checks.dns.name != NULL) {
		if (dns_name_from_str(hc->qname, &len, n->checks.dns.name,
				      NULL) != 0)
			return ANYDNS_EINVAL;	/* the schema checked it */
	} else {
		const uint8_t *apex = n->zones_count > 0 ? n->zones[0] :
				      conf->zones[0].name;
		memcpy(hc->qname, apex, dns_name_len(apex));
	}
	hc->qtype = n->checks.dns.type;
	hc->expect_rcode = (uint8_t)n->checks.dns.expect_rcode;
	hc->expect_rdata = n->checks.dns.expect_rdata;
	return 0;
}

/* One network's pop configuration and checks (checks: check_count(n)
 * entries, filled; the zone names they point to live in conf). */
static int network_conf(struct ctl *ctl, const struct conf_network *n,
			struct pop_network_conf *pc,
			struct health_check_conf *checks,
			const uint8_t **zone_names)
{
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "%s", n->name);
	snprintf(pc->interface, sizeof(pc->interface), "%s", n->interface);
	if (n->prefixes_count > POP_MAX_ADDRS)
		return ANYDNS_EINVAL;
	for (size_t i = 0; i < n->prefixes_count; i++)
		prefix_from_conf(&n->prefixes[i], &pc->addrs[i]);
	pc->addr_count = n->prefixes_count;
	pc->prepend = n->prepend;
	pc->community_count = (uint8_t)n->communities_count;
	for (size_t i = 0; i < n->communities_count; i++)
		pc->communities[i] = n->communities[i];
	pc->large_community_count = (uint8_t)n->large_communities_count;
	for (size_t i = 0; i < n->large_communities_count; i++) {
		pc->large_communities[i].global = n->large_communities[i].global;
		pc->large_communities[i].local1 = n->large_communities[i].local1;
		pc->large_communities[i].local2 = n->large_communities[i].local2;
	}
	pc->drain_ms = n->drain_time_ms;

	size_t k = 0;
	if (n->checks.dns.enabled) {
		for (size_t i = 0; i < n->prefixes_count; i++) {
			int ret = dns_check(ctl, n, &n->prefixes[i], &checks[k++]);
			if (ret != 0)
				return ret;
		}
	}
	if (n->checks.zones) {
		struct health_check_conf *hc = &checks[k++];
		health_check_conf_init(hc);
		snprintf(hc->name, sizeof(hc->name), "%s/zones", n->name);
		hc->kind = HEALTH_ZONES;
		timing_from_conf(ctl->conf, &hc->timing);
		for (size_t z = 0; z < n->zones_count; z++)
			zone_names[z] = n->zones[z];
		hc->zones = zone_names;
		hc->zone_count = n->zones_count;
		hc->zones_fn = ctl_zones_ok;
		hc->zones_arg = &ctl->zone_checks[n - ctl->conf->networks];
	}
	if (n->checks.command != NULL) {
		struct health_check_conf *hc = &checks[k++];
		health_check_conf_init(hc);
		snprintf(hc->name, sizeof(hc->name), "%s/command", n->name);
		hc->kind = HEALTH_COMMAND;
		timing_from_conf(ctl->conf, &hc->timing);
		hc->timing.interval_ms = n->checks.command_interval_ms;
		hc->timing.timeout_ms = n->checks.command_timeout_ms;
		hc->command = n->checks.command;
	}
	pc->checks = checks;
	pc->check_count = k;
	return 0;
}

static int pop_setup(struct ctl_anycast *a)
{
	struct ctl *ctl = a->ctl;
	const struct conf *conf = ctl->conf;
	size_t nn = conf->networks_count, total = 0;
	for (size_t i = 0; i < nn; i++)
		total += check_count(&conf->networks[i]);

	int ret = ANYDNS_ENOMEM;
	struct pop_network_conf *nets = calloc(nn ? nn : 1, sizeof(*nets));
	struct health_check_conf *checks = calloc(total ? total : 1,
						  sizeof(*checks));
	const uint8_t **names = NULL;
	size_t nnames = 0;
	for (size_t i = 0; i < nn; i++)
		nnames += conf->networks[i].zones_count;
	names = calloc(nnames ? nnames : 1, sizeof(*names));
	if (nets == NULL || checks == NULL || names == NULL)
		goto out;
	size_t at = 0, zat = 0;
	for (size_t i = 0; i < nn; i++) {
		const struct conf_network *n = &conf->networks[i];
		ret = network_conf(ctl, n, &nets[i], &checks[at], &names[zat]);
		if (ret != 0)
			goto out;
		at += nets[i].check_count;
		zat += n->zones_count;
	}
	struct pop_conf pc;
	pop_conf_init(&pc);
	pc.networks = nets;
	pc.network_count = nn;
	pc.withdraw_grace_ms = conf->bgp.withdraw_grace_ms;
	ret = pop_new(&ctl->loop, a->sp, &pc, &a->pop);
	if (ret != 0)
		goto out;
	a->max_nets = nn;
	a->max_checks = total;
	a->nets = calloc(nn ? nn : 1, sizeof(*a->nets));
	a->checks = calloc(total ? total : 1, sizeof(*a->checks));
	a->check_net = calloc(total ? total : 1, sizeof(*a->check_net));
	ret = a->nets != NULL && a->checks != NULL && a->check_net != NULL ?
	      0 : ANYDNS_ENOMEM;
out:
	/* pop_new() and health_check_new() copied what they keep. */
	free(nets);
	free(checks);
	free(names);
	return ret;
}

static void on_bgp_state(void *arg, const char *peer, enum bgp_state from,
			 enum bgp_state to)
{
	struct ctl_anycast *a = arg;
	(void)peer;
	(void)from;
	(void)to;
	ctl_anycast_refresh(a->ctl);
}

static int speaker_setup(struct ctl_anycast *a)
{
	const struct conf_bgp *b = &a->ctl->conf->bgp;
	uint32_t router_id =
		((const struct sockaddr_in *)&b->router_id.ss)->sin_addr.s_addr;
	int ret = bgp_speaker_new(&a->ctl->loop, b->local_as, router_id, &a->sp);
	if (ret != 0) {
		log_err("bgp: cannot create the speaker: %s",
			anydns_strerror(ret));
		return ret;
	}
	bgp_speaker_on_state(a->sp, on_bgp_state, a);
	for (size_t i = 0; i < b->peers_count; i++) {
		const struct conf_bgp_peer *p = &b->peers[i];
		struct bgp_peer_conf pc;
		bgp_peer_conf_init(&pc);
		snprintf(pc.name, sizeof(pc.name), "%s", p->name);
		memcpy(&pc.remote, &p->address.ss, sizeof(pc.remote));
		if (pc.remote.ss_family == AF_INET)
			((struct sockaddr_in *)&pc.remote)->sin_port =
				htons(p->port);
		else
			((struct sockaddr_in6 *)&pc.remote)->sin6_port =
				htons(p->port);
		if (p->source_address.len > 0)
			memcpy(&pc.local, &p->source_address.ss,
			       sizeof(pc.local));
		pc.remote_as = p->remote_as;
		pc.passive = p->passive;
		pc.hold_time = (uint16_t)(p->hold_time_ms / 1000);
		pc.connect_retry = (uint16_t)(p->connect_retry_ms / 1000);
		if (p->md5_password != NULL)
			snprintf(pc.md5_password, sizeof(pc.md5_password), "%s",
				 p->md5_password);
		pc.ipv4_unicast = p->ipv4;
		pc.ipv6_unicast = p->ipv6;
		if (p->next_hop_v4.len > 0)
			pc.next_hop_v4 = ((const struct sockaddr_in *)
					  &p->next_hop_v4.ss)->sin_addr;
		if (p->next_hop_v6.len > 0)
			pc.next_hop_v6 = ((const struct sockaddr_in6 *)
					  &p->next_hop_v6.ss)->sin6_addr;
		if (p->passive && b->listen.len == 0)
			log_warn("bgp: peer %s is passive but bgp.listen is not "
				 "set: it cannot connect", p->name);
		ret = bgp_speaker_add_peer(a->sp, &pc);
		if (ret != 0) {
			log_err("bgp: peer %s: %s", p->name, anydns_strerror(ret));
			return ret;
		}
	}
	if (b->listen.len > 0) {
		ret = bgp_speaker_listen(a->sp, (const struct sockaddr *)&b->listen.ss);
		if (ret != 0) {
			char text[64];
			ctl_addr_text(&b->listen, text, sizeof(text));
			log_err("bgp: cannot listen on %s: %s", text,
				anydns_strerror(ret));
			return ret;
		}
	}
	a->max_peers = b->peers_count;
	a->peers = calloc(b->peers_count ? b->peers_count : 1, sizeof(*a->peers));
	a->families = calloc(b->peers_count ? b->peers_count : 1,
			     sizeof(*a->families));
	return a->peers != NULL && a->families != NULL ? 0 : ANYDNS_ENOMEM;
}

int ctl_anycast_setup(struct ctl *ctl)
{
	const struct conf *conf = ctl->conf;
	if (conf->networks_count == 0 && conf->bgp.local_as == 0)
		return 0;
	struct ctl_anycast *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return ANYDNS_ENOMEM;
	a->ctl = ctl;
	a->view.local_as = conf->bgp.local_as;
	if (conf->bgp.router_id.len > 0)
		a->view.router_id =
			((const struct sockaddr_in *)&conf->bgp.router_id.ss)->sin_addr;
	uv_timer_init(&ctl->loop, &a->refresh);
	a->refresh.data = ctl;
	a->refresh_open = true;
	/* The HTTP thread may already look for it. */
	pthread_mutex_lock(&ctl->lock);
	ctl->anycast = a;
	pthread_mutex_unlock(&ctl->lock);

	int ret = 0;
	if (conf->bgp.local_as != 0)
		ret = speaker_setup(a);
	if (ret == 0)
		ret = pop_setup(a);
	if (ret == 0)
		ret = pop_addresses_ensure(a->pop);
	if (ret == 0)
		ctl_anycast_refresh(ctl);
	return ret;
}

static void on_refresh(uv_timer_t *t)
{
	ctl_anycast_refresh(t->data);
}

int ctl_anycast_start(struct ctl *ctl)
{
	struct ctl_anycast *a = ctl->anycast;
	if (a == NULL)
		return 0;
	const struct conf *conf = ctl->conf;
	int ret = 0;
	if (a->sp != NULL)
		ret = bgp_speaker_start(a->sp);
	if (ret == 0)
		ret = pop_start(a->pop);
	if (ret != 0) {
		log_err("anycast: cannot start: %s", anydns_strerror(ret));
		return ret;
	}
	/* The start-up load is done (ctl_load_zones() ran before). */
	pop_zones_loaded(a->pop);
	uv_timer_start(&a->refresh, on_refresh, REFRESH_MS, REFRESH_MS);
	ctl_anycast_refresh(ctl);
	if (a->sp != NULL)
		log_notice("anycast: %zu network%s, BGP as AS%u with %zu peer%s",
			   conf->networks_count,
			   conf->networks_count == 1 ? "" : "s",
			   conf->bgp.local_as, conf->bgp.peers_count,
			   conf->bgp.peers_count == 1 ? "" : "s");
	else
		log_notice("anycast: %zu network%s, no BGP (bgp.local-as is 0)",
			   conf->networks_count,
			   conf->networks_count == 1 ? "" : "s");
	return 0;
}

/* ---- status ---------------------------------------------------------------------- */

void ctl_anycast_refresh(struct ctl *ctl)
{
	struct ctl_anycast *a = ctl->anycast;
	if (a == NULL)
		return;
	const struct conf_bgp *b = &ctl->conf->bgp;
	pthread_mutex_lock(&ctl->lock);
	struct ctl_anycast_view *v = &a->view;
	v->now_ms = uv_hrtime() / 1000000u;
	v->stopping = a->pop != NULL && pop_stopping(a->pop);
	v->peers = a->peers;
	v->peer_families = (const bool (*)[2])a->families;
	v->peer_count = 0;
	if (a->sp != NULL && !a->sp_stopped) {
		size_t n = bgp_speaker_status(a->sp, a->peers, a->max_peers);
		v->peer_count = n < a->max_peers ? n : a->max_peers;
	}
	/* A family goes to a peer that negotiates it and has a next hop of
	 * that family: the session's own address or a configured one. */
	for (size_t i = 0; i < v->peer_count; i++) {
		a->families[i][0] = a->families[i][1] = false;
		for (size_t j = 0; j < b->peers_count; j++) {
			const struct conf_bgp_peer *p = &b->peers[j];
			if (strcmp(p->name, a->peers[i].name) != 0)
				continue;
			sa_family_t over = p->address.ss.ss_family;
			a->families[i][0] = p->ipv4 && (over == AF_INET ||
							p->next_hop_v4.len > 0);
			a->families[i][1] = p->ipv6 && (over == AF_INET6 ||
							p->next_hop_v6.len > 0);
		}
	}
	v->networks = a->nets;
	v->network_count = 0;
	v->checks = a->checks;
	v->check_network = a->check_net;
	v->check_count = 0;
	if (a->pop != NULL) {
		size_t n = pop_network_status(a->pop, a->nets, a->max_nets);
		v->network_count = n < a->max_nets ? n : a->max_nets;
		size_t k = 0;
		for (size_t i = 0; i < v->network_count; i++) {
			size_t got = pop_check_status(a->pop, i, a->checks + k,
						      a->max_checks - k);
			if (got > a->max_checks - k)
				got = a->max_checks - k;
			for (size_t j = 0; j < got; j++)
				a->check_net[k + j] = i;
			k += got;
		}
		v->check_count = k;
	}
	pthread_mutex_unlock(&ctl->lock);
}

const struct ctl_anycast_view *ctl_anycast_view(const struct ctl *ctl)
{
	return ctl->anycast != NULL ? &ctl->anycast->view : NULL;
}

/* ---- drain and undrain ------------------------------------------------------------- */

void ctl_anycast_drain(struct ctl *ctl, bool drain, const char *network,
		       FILE *f)
{
	struct ctl_anycast *a = ctl->anycast;
	if (a == NULL || a->pop == NULL || ctl->conf->networks_count == 0) {
		fputs("error: no anycast networks are configured\n", f);
		return;
	}
	log_notice("control: %s %s", drain ? "draining" : "undraining",
		   network != NULL ? network : "every network");
	int ret = drain ? pop_drain(a->pop, network) : pop_undrain(a->pop, network);
	if (ret == ANYDNS_ENOENT) {
		fprintf(f, "error: no network named '%s'\n", network);
		return;
	}
	if (ret == ANYDNS_EAGAIN) {
		fputs("error: the daemon is stopping\n", f);
		return;
	}
	ctl_anycast_refresh(ctl);
	struct server_stats stats;
	struct ctl_view v;
	ctl_view_fill(ctl, &v, &stats);
	fputs("ok\n", f);
	ctl_write_networks(f, &v);
}

/* ---- stopping ------------------------------------------------------------------------ */

static void on_sp_stopped(void *arg)
{
	struct ctl_anycast *a = arg;
	a->sp_stopped = true;
	if (a->done == NULL)
		return;
	uv_timer_stop(&a->refresh);
	void (*done)(struct ctl *) = a->done;
	a->done = NULL;
	done(a->ctl);
}

static void on_pop_stopped(void *arg)
{
	struct ctl_anycast *a = arg;
	a->pop_stopped = true;
	ctl_anycast_refresh(a->ctl);
	if (a->done == NULL)
		return;
	if (a->sp == NULL) {
		on_sp_stopped(a);
		return;
	}
	log_info("bgp: closing the sessions");
	a->sp_stop_asked = true;
	bgp_speaker_stop(a->sp, on_sp_stopped, a);
}

void ctl_anycast_stop(struct ctl *ctl, void (*done)(struct ctl *ctl))
{
	struct ctl_anycast *a = ctl->anycast;
	if (a == NULL) {
		done(ctl);
		return;
	}
	a->done = done;
	pop_stop(a->pop, ctl->conf->bgp.drain_on_stop_ms, on_pop_stopped, a);
	ctl_anycast_refresh(ctl);
}

void ctl_anycast_free(struct ctl *ctl)
{
	struct ctl_anycast *a = ctl->anycast;
	if (a == NULL)
		return;
	/* Left over from a start that failed half-way, or from a stop that
	 * did not finish: withdraw (nothing was announced before the loop
	 * ran), remove the addresses, close the sessions. */
	a->done = NULL;
	if (a->pop != NULL && !a->pop_stopped && !pop_stopping(a->pop))
		pop_stop(a->pop, 0, on_pop_stopped, a);
	while (a->pop != NULL && !a->pop_stopped)
		uv_run(&ctl->loop, UV_RUN_ONCE);
	if (a->sp != NULL && !a->sp_stop_asked) {
		a->sp_stop_asked = true;
		bgp_speaker_stop(a->sp, on_sp_stopped, a);
	}
	while (a->sp != NULL && !a->sp_stopped)
		uv_run(&ctl->loop, UV_RUN_ONCE);

	pthread_mutex_lock(&ctl->lock);
	ctl->anycast = NULL;
	pthread_mutex_unlock(&ctl->lock);
	pop_free(a->pop);
	bgp_speaker_free(a->sp);
	uv_close((uv_handle_t *)&a->refresh, NULL);
	/* The loop must close the handles before a goes. */
	uv_run(&ctl->loop, UV_RUN_NOWAIT);
	free(a->peers);
	free(a->families);
	free(a->nets);
	free(a->checks);
	free(a->check_net);
	free(a);
}
