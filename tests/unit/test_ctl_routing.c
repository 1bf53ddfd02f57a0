/*
 * Unit tests for src/ctl/routing.c: what `anydnsc bgp`, `anydnsc networks`
 * and /metrics say about the anycast side, octet for octet, for a fixed
 * view (tests/unit/data/ctl/bgp.txt, networks.txt, metrics-anycast.txt):
 * two peers (one established over IPv4 without an IPv6 next hop, one
 * down after a NOTIFICATION), one network draining with 65535:0 and one
 * withdrawn by a failed check, with an address missing; the routes go to
 * the established peer for their family only. Plus: no BGP speaker, and
 * the whole metrics page well formed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_test.h"

struct rt_fixture {
	struct ct_fixture base;
	struct ctl_anycast_view any;
	struct bgp_peer_status peers[2];
	bool families[2][2];
	struct pop_network_status nets[2];
	struct health_status checks[3];
	size_t check_net[3];
};

static void prefix(struct bgp_prefix *p, const char *a, unsigned len)
{
	memset(p, 0, sizeof(*p));
	p->family = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(p->family, a, &p->addr), 1);
	p->len = (uint8_t)len;
}

static void rt_init(struct rt_fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	ct_fixture_init(&fx->base);
	struct ctl_anycast_view *a = &fx->any;
	a->local_as = 4200000001u;
	inet_pton(AF_INET, "192.0.2.254", &a->router_id);
	a->now_ms = 1000000;

	struct bgp_peer_status *p = &fx->peers[0];
	snprintf(p->name, sizeof(p->name), "transit-a");
	struct sockaddr_in *sin = (struct sockaddr_in *)&p->remote;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(179);
	inet_pton(AF_INET, "192.0.2.100", &sin->sin_addr);
	p->remote_as = 64501;
	p->state = BGP_STATE_ESTABLISHED;
	p->state_since_ms = 1000000 - 4000;	/* 4.0 s ago */
	p->established_count = 2;
	p->hold_time = 90;
	p->msgs_in = 10;
	p->msgs_out = 12;
	p->updates_in = 1;
	p->updates_out = 5;
	p->prefixes_announced = 1;
	p->prefixes_received = 3;
	fx->families[0][0] = true;	/* IPv4 session, no IPv6 next hop */

	p = &fx->peers[1];
	snprintf(p->name, sizeof(p->name), "ix.rs-1");
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->remote;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(1179);
	inet_pton(AF_INET6, "2001:db8:ffff::1", &sin6->sin6_addr);
	p->remote_as = 64502;
	p->state = BGP_STATE_ACTIVE;
	p->state_since_ms = 1000000 - 12345;
	p->last_error_code = 6;
	p->last_error_subcode = 2;
	p->last_error_sent = false;
	snprintf(p->last_error, sizeof(p->last_error),
		 "received \"Cease\" \\ Administrative Shutdown");
	fx->families[1][0] = fx->families[1][1] = true;

	struct pop_network_status *n = &fx->nets[0];
	snprintf(n->name, sizeof(n->name), "global");
	snprintf(n->interface, sizeof(n->interface), "lo");
	n->state = POP_NET_DRAINING;
	n->healthy = true;
	n->since_ms = 1000000 - 1500;
	n->changes = 3;
	snprintf(n->reason, sizeof(n->reason), "drained by the operator: "
		 "announced with 65535:0, withdrawn in 5000ms");
	n->addr_count = 2;
	prefix(&n->addrs[0], "192.0.2.1", 32);
	prefix(&n->addrs[1], "2001:db8::53", 128);
	n->addr_present[0] = n->addr_present[1] = true;
	n->addr_added[0] = true;
	n->announced = true;
	n->route_count = 2;
	n->routes[0] = n->addrs[0];
	n->routes[1] = n->addrs[1];
	n->attrs.prepend = 2;
	n->attrs.community_count = 2;
	n->attrs.communities[0] = 64500u << 16 | 1;
	n->attrs.communities[1] = BGP_COMMUNITY_GRACEFUL_SHUTDOWN;
	n->attrs.large_community_count = 1;
	n->attrs.large_communities[0] =
		(struct bgp_large_community){ 4200000001u, 1, 2 };
	n->check_count = 2;
	n->drain_ms = 5000;

	n = &fx->nets[1];
	snprintf(n->name, sizeof(n->name), "eu");
	snprintf(n->interface, sizeof(n->interface), "dummy0");
	n->state = POP_NET_WITHDRAWN;
	n->since_ms = 1000000 - 200;
	n->changes = 2;
	snprintf(n->reason, sizeof(n->reason), "check eu/dns@198.51.100.53 "
		 "is down: 2 failures in a row: no answer within 50ms");
	n->addr_count = 1;
	prefix(&n->addrs[0], "198.51.100.53", 24);
	n->route_count = 1;
	prefix(&n->routes[0], "198.51.100.0", 24);
	n->check_count = 1;
	n->drain_ms = 5000;

	struct health_status *h = &fx->checks[0];
	snprintf(h->name, sizeof(h->name), "global/dns@192.0.2.1");
	h->kind = HEALTH_DNS;
	h->state = HEALTH_UP;
	h->since_ms = 1000000 - 60000;
	h->changes = 1;
	h->passes = 600;
	snprintf(h->reason, sizeof(h->reason), "3 passes in a row: NOERROR, "
		 "1 answer in 0.21ms");
	snprintf(h->last, sizeof(h->last), "pass: NOERROR, 1 answer in 0.18ms");
	h = &fx->checks[1];
	snprintf(h->name, sizeof(h->name), "global/zones");
	h->kind = HEALTH_ZONES;
	h->state = HEALTH_UP;
	h->since_ms = 1000000 - 60000;
	h->changes = 1;
	h->passes = 600;
	snprintf(h->reason, sizeof(h->reason), "3 passes in a row: 1 zone "
		 "loaded");
	snprintf(h->last, sizeof(h->last), "pass: 1 zone loaded");
	h = &fx->checks[2];
	snprintf(h->name, sizeof(h->name), "eu/dns@198.51.100.53");
	h->kind = HEALTH_DNS;
	h->state = HEALTH_DOWN;
	h->since_ms = 1000000 - 200;
	h->changes = 2;
	h->passes = 590;
	h->failures = 12;
	snprintf(h->reason, sizeof(h->reason), "2 failures in a row: no answer "
		 "within 50ms");
	snprintf(h->last, sizeof(h->last), "fail: no answer within 50ms");
	fx->check_net[0] = fx->check_net[1] = 0;
	fx->check_net[2] = 1;

	a->peers = fx->peers;
	a->peer_families = (const bool (*)[2])fx->families;
	a->peer_count = 2;
	a->networks = fx->nets;
	a->network_count = 2;
	a->checks = fx->checks;
	a->check_network = fx->check_net;
	a->check_count = 3;
	fx->base.view.anycast = a;
}

static void bgp_body(void **state)
{
	(void)state;
	struct rt_fixture fx;
	rt_init(&fx);
	ct_expect(ctl_write_bgp, &fx.base.view, CT_DATA "bgp.txt");
}

static void networks_body(void **state)
{
	(void)state;
	struct rt_fixture fx;
	rt_init(&fx);
	ct_expect(ctl_write_networks, &fx.base.view, CT_DATA "networks.txt");
}

/* Without a speaker: said so, and the routes still show why. */
static void bgp_without_speaker(void **state)
{
	(void)state;
	struct rt_fixture fx;
	rt_init(&fx);
	fx.any.local_as = 0;
	fx.any.peer_count = 0;
	char *got = ct_write(ctl_write_bgp, &fx.base.view);
	assert_non_null(strstr(got, "local-as: 0 (no BGP speaker: nothing is "
				    "announced)\nstopping: no\nroute 192.0.2.1/32: "));
	assert_non_null(strstr(got, " to=- why="));
	assert_null(strstr(got, "router-id"));
	free(got);
	fx.base.view.anycast = NULL;
	got = ct_write(ctl_write_bgp, &fx.base.view);
	assert_string_equal(got, "local-as: 0 (no BGP speaker: nothing is "
			    "announced)\n");
	free(got);
	got = ct_write(ctl_write_networks, &fx.base.view);
	assert_string_equal(got, "");
	free(got);
}

static void metrics(void **state)
{
	(void)state;
	struct rt_fixture fx;
	rt_init(&fx);
	/* A copy: GCC 12 takes the open_memstream() buffer for a local. */
	char *written = ct_write(ctl_write_metrics, &fx.base.view);
	char *page = strdup(written);
	free(written);
	assert_non_null(page);
	const char *at = strstr(page, "# HELP anydns_network_announced ");
	assert_non_null(at);
	/* The anycast metrics come last, after the daemon's own. */
	size_t off = (size_t)(at - page);
	char *want = ct_read_file(CT_DATA "metrics-anycast.txt");
	if (strcmp(page + off, want) != 0)
		fail_msg("metrics differ from %smetrics-anycast.txt:\n%s",
			 CT_DATA, page + off);
	free(want);

	/* Every sample has its TYPE first, and no TYPE repeats. */
	char typed[128][64];
	int ntyped = 0;
	for (char *line = strtok(page, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		char name[64];
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (sscanf(line, "# TYPE %63s", name) == 1) {
			for (int i = 0; i < ntyped; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(ntyped < 128);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			continue;
		}
		size_t n = strcspn(line, "{ ");
		bool found = false;
		for (int i = 0; i < ntyped; i++)
			found |= strlen(typed[i]) == n &&
				 strncmp(typed[i], line, n) == 0;
		if (!found)
			fail_msg("sample before its TYPE: %s", line);
	}
	free(page);
}

int main(int argc, char **argv)
{
	/* --write DIR: (re)writes the expected files there, for review. */
	if (argc == 3 && strcmp(argv[1], "--write") == 0) {
		struct rt_fixture fx;
		char path[512];
		rt_init(&fx);
		ct_writer writers[] = { ctl_write_bgp, ctl_write_networks,
					ctl_write_metrics };
		const char *names[] = { "bgp.txt", "networks.txt",
					"metrics-anycast-page.txt" };
		for (int i = 0; i < 3; i++) {
			char *t = ct_write(writers[i], &fx.base.view);
			snprintf(path, sizeof(path), "%s/%s", argv[2], names[i]);
			FILE *f = fopen(path, "w");
			fputs(t, f);
			fclose(f);
			free(t);
		}
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bgp_body),
		cmocka_unit_test(networks_body),
		cmocka_unit_test(bgp_without_speaker),
		cmocka_unit_test(metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
