/*
 * The operating-system specifics of the PoP, in one file: anycast
 * addresses put on and taken off an interface through rtnetlink (Linux
 * rtnetlink(7): RTM_NEWADDR and RTM_DELADDR with an ifaddrmsg, IFA_LOCAL
 * and IFA_ADDRESS for IPv4, IFA_ADDRESS and IFA_F_NODAD for IPv6 so the
 * address skips duplicate address detection, RFC 4862 §5.4, which an
 * anycast address would fail by design), using libmnl for the message
 * layout. Each call opens its own socket, sends one request with an
 * acknowledgement asked for, and reads the answer: a handful of calls at
 * start and stop, so nothing is kept open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "pop/internal.h"

static int addr_request(uint16_t type, const char *ifname,
			const struct bgp_prefix *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		return errno == ENODEV || errno == ENXIO ? ANYDNS_ENOENT : -errno;
	if (a->family != AF_INET && a->family != AF_INET6)
		return ANYDNS_EINVAL;

	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	uint32_t seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = seq;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	if (a->family == AF_INET) {
		mnl_attr_put(nlh, IFA_LOCAL, sizeof(a->addr.v4), &a->addr.v4);
		mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a->addr.v4), &a->addr.v4);
	} else {
		mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a->addr.v6), &a->addr.v6);
		if (type == RTM_NEWADDR) {
			ifa->ifa_flags = IFA_F_NODAD;
			mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		}
	}

	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -errno;
	int ret = 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	unsigned portid = mnl_socket_get_portid(nl);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		/* The acknowledgement is an NLMSG_ERROR with error 0;
		 * mnl_cb_run() turns a non-zero one into -1 and errno. */
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (r == MNL_CB_ERROR)
			ret = -errno;
		if (r <= MNL_CB_STOP)
			break;
	}
out:
	mnl_socket_close(nl);
	return ret;
}

int pop_netlink_addr_add(const char *ifname, const struct bgp_prefix *a,
			 bool *added)
{
	int ret = addr_request(RTM_NEWADDR, ifname, a);
	*added = ret == 0;
	return ret == -EEXIST ? 0 : ret;
}

int pop_netlink_addr_del(const char *ifname, const struct bgp_prefix *a)
{
	int ret = addr_request(RTM_DELADDR, ifname, a);
	/* IPv4 says EADDRNOTAVAIL for an address that is not there, IPv6
	 * ENOENT or ENODEV: gone is what was asked for. */
	if (ret == -EADDRNOTAVAIL || ret == -ENOENT || ret == -ENODEV)
		return 0;
	return ret;
}
