/*
 * Unit tests for the PoP's netlink calls (src/pop/netlink.c), inside a
 * network namespace of this test process's own (unshare(CLONE_NEWNET)):
 * an IPv4 and an IPv6 address put on lo are seen by getifaddrs() with
 * their prefix length, the IPv6 one without duplicate address detection;
 * putting one there again says it was there; removing it twice is fine;
 * an unknown interface is ANYDNS_ENOENT. Needs root (CAP_SYS_ADMIN for
 * the namespace); skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_addr.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "pop/internal.h"

static bool have_ns;

static void prefix(struct bgp_prefix *p, const char *addr, unsigned len)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, &p->addr.v4) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &p->addr.v6) == 1)
		p->family = AF_INET6;
	else
		fail_msg("bad address %s", addr);
	p->len = (uint8_t)len;
}

static unsigned mask_len(const struct sockaddr *m)
{
	const uint8_t *b;
	size_t n;
	if (m->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)m)->sin_addr;
		n = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)m)->sin6_addr;
		n = 16;
	}
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += (unsigned)__builtin_popcount(b[i]);
	return bits;
}

/* The prefix length of addr on ifname, or -1 when it is not there. */
static int on_interface(const char *ifname, const char *addr)
{
	struct ifaddrs *all, *i;
	char text[INET6_ADDRSTRLEN];
	int found = -1;
	assert_int_equal(getifaddrs(&all), 0);
	for (i = all; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, ifname) != 0)
			continue;
		int fam = i->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		const void *a = fam == AF_INET ?
			(const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		inet_ntop(fam, a, text, sizeof(text));
		if (strcmp(text, addr) == 0)
			found = (int)mask_len(i->ifa_netmask);
	}
	freeifaddrs(all);
	return found;
}

/* The flags of an IPv6 address in /proc/net/if_inet6 (hex), or -1. */
static int inet6_flags(const char *hex32)
{
	FILE *f = fopen("/proc/net/if_inet6", "r");
	char addr[40], name[32];
	unsigned idx, plen, scope, flags;
	int found = -1;
	assert_non_null(f);
	while (fscanf(f, "%39s %x %x %x %x %31s", addr, &idx, &plen, &scope,
		      &flags, name) == 6)
		if (strcmp(addr, hex32) == 0)
			found = (int)flags;
	fclose(f);
	return found;
}

static void add_remove_v4(void **state)
{
	(void)state;
	if (!have_ns)
		skip();
	struct bgp_prefix p;
	bool added = false;
	prefix(&p, "192.0.2.1", 32);
	assert_int_equal(on_interface("lo", "192.0.2.1"), -1);
	assert_int_equal(pop_netlink_addr_add("lo", &p, &added), 0);
	assert_true(added);
	assert_int_equal(on_interface("lo", "192.0.2.1"), 32);
	/* Again: there already, not ours to remove later. */
	assert_int_equal(pop_netlink_addr_add("lo", &p, &added), 0);
	assert_false(added);
	assert_int_equal(pop_netlink_addr_del("lo", &p), 0);
	assert_int_equal(on_interface("lo", "192.0.2.1"), -1);
	assert_int_equal(pop_netlink_addr_del("lo", &p), 0);

	/* The address keeps its length: a /24 with host bits. */
	prefix(&p, "198.51.100.53", 24);
	assert_int_equal(pop_netlink_addr_add("lo", &p, &added), 0);
	assert_true(added);
	assert_int_equal(on_interface("lo", "198.51.100.53"), 24);
	assert_int_equal(pop_netlink_addr_del("lo", &p), 0);
	assert_int_equal(on_interface("lo", "198.51.100.53"), -1);
}

static void add_remove_v6(void **state)
{
	(void)state;
	if (!have_ns)
		skip();
	struct bgp_prefix p;
	bool added = false;
	prefix(&p, "2001:db8::53", 128);
	assert_int_equal(pop_netlink_addr_add("lo", &p, &added), 0);
	assert_true(added);
	assert_int_equal(on_interface("lo", "2001:db8::53"), 128);
	int flags = inet6_flags("20010db8000000000000000000000053");
	assert_true(flags >= 0);
	assert_true(flags & IFA_F_NODAD);
	assert_false(flags & IFA_F_TENTATIVE);
	assert_int_equal(pop_netlink_addr_add("lo", &p, &added), 0);
	assert_false(added);
	assert_int_equal(pop_netlink_addr_del("lo", &p), 0);
	assert_int_equal(on_interface("lo", "2001:db8::53"), -1);
	assert_int_equal(pop_netlink_addr_del("lo", &p), 0);
}

static void unknown_interface(void **state)
{
	(void)state;
	if (!have_ns)
		skip();
	struct bgp_prefix p;
	bool added = true;
	prefix(&p, "192.0.2.1", 32);
	assert_int_equal(pop_netlink_addr_add("anydns-none0", &p, &added),
			 ANYDNS_ENOENT);
	assert_false(added);
	p.family = AF_UNIX;
	assert_int_equal(pop_netlink_addr_add("lo", &p, &added), ANYDNS_EINVAL);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	/* Everything below happens in a namespace that dies with us. */
	have_ns = unshare(CLONE_NEWNET) == 0;
	if (!have_ns)
		fprintf(stderr, "test_pop_netlink: unshare(CLONE_NEWNET): %s; "
			"skipping (needs root)\n", strerror(errno));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_remove_v4),
		cmocka_unit_test(add_remove_v6),
		cmocka_unit_test(unknown_interface),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
