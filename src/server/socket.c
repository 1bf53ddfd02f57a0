/*
 * Opening the listening sockets of the workers, with the Linux socket
 * options the server depends on: SO_REUSEPORT so that every worker owns a
 * socket per address and the kernel spreads flows across them, IP_PKTINFO
 * and IPV6_RECVPKTINFO (ip(7), RFC 3542 §6) so that a UDP reply can leave
 * from the address its query was sent to, IPV6_V6ONLY so that IPv4 and
 * IPv6 listeners on one port are separate sockets, path MTU discovery
 * turned off for UDP (DNS over UDP must not depend on forged ICMP "too
 * big", RFC 8900 §3), and TCP_NODELAY and TCP Fast Open for TCP (RFC 7766
 * §7: answers go out as soon as they are written).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "server/internal.h"

#define LISTEN_BACKLOG 1024
#define TFO_QUEUE 256

socklen_t server_addr_len(const struct sockaddr_storage *addr)
{
	return addr->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6);
}

void server_addr_str(const struct sockaddr *addr, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)addr;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s#%u", ip, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)addr;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]#%u", ip, ntohs(sin6->sin6_port));
	}
}

static int set_int(int fd, int level, int name, int value)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) != 0)
		return -errno;
	return 0;
}

/* The options a UDP socket needs; pktinfo is essential, the rest helps. */
static int setup_udp(const struct server_conf *conf, int fd, int family)
{
	int ret;
	if (family == AF_INET) {
		ret = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
		(void)set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER,
			      IP_PMTUDISC_OMIT);
	} else {
		ret = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		(void)set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
			      IPV6_PMTUDISC_OMIT);
	}
	if (ret != 0)
		return ret;
	if (conf->udp_rcvbuf > 0) {
		int size = conf->udp_rcvbuf > INT32_MAX / 2 ?
			INT32_MAX / 2 : (int)conf->udp_rcvbuf;
		/* FORCE passes net.core.rmem_max when we still hold
		 * CAP_NET_ADMIN; otherwise take what the limit allows. */
		if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, size) != 0)
			(void)set_int(fd, SOL_SOCKET, SO_RCVBUF, size);
	}
	return 0;
}

static int setup_tcp(int fd)
{
	int ret = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (ret != 0)
		return ret;
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux,
	 * which saves a setsockopt() per connection. */
	ret = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (ret != 0)
		return ret;
	/* Only effective where net.ipv4.tcp_fastopen allows it. */
	(void)set_int(fd, IPPROTO_TCP, TCP_FASTOPEN, TFO_QUEUE);
	return 0;
}

int server_socket_open(const struct server_conf *conf,
		       const struct sockaddr_storage *addr, int type, int *out)
{
	const char *what = type == SOCK_DGRAM ? "UDP" : "TCP";
	const char *step = "socket";
	int family = addr->ss_family;
	int ret;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	step = "SO_REUSEPORT";
	ret = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (ret == 0 && family == AF_INET6) {
		step = "IPV6_V6ONLY";
		ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	}
	if (ret == 0 && conf->freebind) {
		step = "IP_FREEBIND";
		ret = set_int(fd, IPPROTO_IP, IP_FREEBIND, 1);
	}
	if (ret == 0) {
		step = "socket options";
		ret = type == SOCK_DGRAM ? setup_udp(conf, fd, family) :
					   setup_tcp(fd);
	}
	if (ret != 0)
		goto fail;

	step = "bind";
	if (bind(fd, (const struct sockaddr *)addr,
		 server_addr_len(addr)) != 0) {
		ret = -errno;
		goto fail;
	}
	step = "listen";
	if (type == SOCK_STREAM && listen(fd, LISTEN_BACKLOG) != 0) {
		ret = -errno;
		goto fail;
	}
	*out = fd;
	return 0;
fail:;
	char name[INET6_ADDRSTRLEN + 16];
	server_addr_str((const struct sockaddr *)addr, name, sizeof(name));
	log_err("server: %s %s: %s failed: %s", what, name, step,
		anydns_strerror(ret));
	if (fd >= 0)
		close(fd);
	return ret;
}
