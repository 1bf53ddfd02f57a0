/*
 * anydns-engine-serve: serves the answer engine on one address and port
 * over UDP and TCP (RFC 1035 §4.2, RFC 7766 framing) with a single-threaded
 * poll loop, for the conformance suite and the fuzz corpus checks. It is a
 * test tool, not the daemon: no reload, no limits beyond a fixed number of
 * TCP connections, one zone set loaded at start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "answer/answer.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "zone/zone.h"

#define MAX_ZONES 256
#define MAX_CONNS 64

struct tcp_conn {
	int fd;
	size_t have;			/* octets of in[] filled */
	uint8_t in[2 + DNS_MSG_MAXLEN];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: anydns-engine-serve --listen ADDR --port PORT --zone ORIGIN=FILE...\n"
		"Serves the anydns answer engine over UDP and TCP (test tool).\n\n"
		"  --listen ADDR          IPv4 or IPv6 address (default 127.0.0.1)\n"
		"  --port PORT            port (default 5353)\n"
		"  --zone ORIGIN=FILE     a zone to serve (repeatable)\n"
		"  --identity TEXT        id.server / hostname.bind answer\n"
		"  --version TEXT         version.server / version.bind answer\n"
		"  --nsid TEXT            NSID option value\n"
		"  --udp-max-payload N    largest UDP response with EDNS (default 1232)\n"
		"  -h, --help             this text\n"
		"Prints \"ready\" on stdout once listening; stops on SIGTERM.\n");
}

static int open_socket(const char *addr, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sl = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*sin6);
	} else {
		fprintf(stderr, "invalid address: %s\n", addr);
		return -1;
	}
	int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0)) {
		fprintf(stderr, "cannot listen on %s port %d: %s\n", addr, port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int load_zone(const char *spec, struct zone **out)
{
	char origin[DNS_NAME_STRLEN];
	const char *eq = strchr(spec, '=');
	if (eq == NULL || (size_t)(eq - spec) >= sizeof(origin)) {
		fprintf(stderr, "--zone wants ORIGIN=FILE: %s\n", spec);
		return -1;
	}
	memcpy(origin, spec, (size_t)(eq - spec));
	origin[eq - spec] = '\0';
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t len;
	if (dns_name_from_str(apex, &len, origin, NULL) != 0) {
		fprintf(stderr, "invalid zone name: %s\n", origin);
		return -1;
	}
	char err[512];
	int ret = zone_load_file(apex, eq + 1, out, err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "zone %s not loaded: %s\n", origin, err);
		return -1;
	}
	return 0;
}

static void serve_udp(int fd, const struct answer_conf *conf,
		      const struct zone_set *zones)
{
	uint8_t in[DNS_MSG_MAXLEN], out[DNS_MSG_MAXLEN];
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, in, sizeof(in), 0,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		struct answer_result res;
		answer_packet(conf, zones, in, (size_t)n, ANSWER_UDP, out,
			      sizeof(out), &res);
		if (res.len > 0)
			sendto(fd, out, res.len, 0, (struct sockaddr *)&from, fl);
	}
}

/* Reads what is there; answers every complete message. false: close. */
static bool serve_tcp(struct tcp_conn *c, const struct answer_conf *conf,
		      const struct zone_set *zones, uint8_t *out)
{
	ssize_t n = read(c->fd, c->in + c->have, sizeof(c->in) - c->have);
	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR);
	c->have += (size_t)n;
	while (c->have >= 2) {
		size_t mlen = wire_get_u16(c->in);
		if (c->have < 2 + mlen)
			break;
		struct answer_result res;
		answer_packet(conf, zones, c->in + 2, mlen, ANSWER_TCP, out + 2,
			      DNS_MSG_MAXLEN, &res);
		/* A message too short to be one ends the connection (RFC 7766
		 * §6.2.4 leaves it to the server; Knot DNS closes too). */
		if (mlen < DNS_HEADER_LEN)
			return false;
		if (res.len > 0) {
			wire_put_u16(out, (uint16_t)res.len);
			/* Test tool: a blocking write is good enough. */
			int fl = fcntl(c->fd, F_GETFL);
			fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
			ssize_t w = write(c->fd, out, 2 + res.len);
			fcntl(c->fd, F_SETFL, fl);
			if (w != (ssize_t)(2 + res.len))
				return false;
		}
		memmove(c->in, c->in + 2 + mlen, c->have - 2 - mlen);
		c->have -= 2 + mlen;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "zone", required_argument, NULL, 'z' },
		{ "identity", required_argument, NULL, 'i' },
		{ "version", required_argument, NULL, 'V' },
		{ "nsid", required_argument, NULL, 'n' },
		{ "udp-max-payload", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = "127.0.0.1";
	int port = 5353;
	struct answer_conf conf;
	answer_conf_init(&conf);
	struct zone *zones[MAX_ZONES];
	size_t nzones = 0;
	int rc = 1;
	int c;
	hash_seed_init();
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'z':
			if (nzones == MAX_ZONES || load_zone(optarg, &zones[nzones]) != 0)
				goto out;
			nzones++;
			break;
		case 'i':
			conf.identity = optarg;
			break;
		case 'V':
			conf.version = optarg;
			break;
		case 'n':
			conf.nsid = (const uint8_t *)optarg;
			conf.nsid_len = (uint16_t)strlen(optarg);
			break;
		case 'u':
			conf.udp_max_payload = (uint16_t)atoi(optarg);
			if (conf.udp_max_payload < DNS_UDP_MIN_PAYLOAD)
				conf.udp_max_payload = DNS_UDP_MIN_PAYLOAD;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}

	struct zone_set *set = NULL;
	if (zone_set_new(zones, nzones, &set) != 0) {
		fprintf(stderr, "cannot build the zone set (duplicate zone?)\n");
		goto out;
	}
	nzones = 0;	/* the set owns them now */

	int ufd = open_socket(addr, port, SOCK_DGRAM);
	int tfd = open_socket(addr, port, SOCK_STREAM);
	if (ufd < 0 || tfd < 0) {
		zone_set_free(set);
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);

	static struct tcp_conn conns[MAX_CONNS];
	static uint8_t out_buf[2 + DNS_MSG_MAXLEN];
	size_t nconns = 0;
	while (!stop_requested) {
		struct pollfd pfd[2 + MAX_CONNS];
		pfd[0] = (struct pollfd){ .fd = ufd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = tfd, .events = POLLIN };
		for (size_t i = 0; i < nconns; i++)
			pfd[2 + i] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (poll(pfd, 2 + nconns, 500) < 0)
			continue;
		if (pfd[0].revents & POLLIN)
			serve_udp(ufd, &conf, set);
		for (size_t i = nconns; i-- > 0;) {
			if (!(pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!serve_tcp(&conns[i], &conf, set, out_buf)) {
				close(conns[i].fd);
				conns[i].fd = conns[nconns - 1].fd;
				conns[i].have = conns[nconns - 1].have;
				memcpy(conns[i].in, conns[nconns - 1].in, conns[i].have);
				nconns--;
			}
		}
		if ((pfd[1].revents & POLLIN) && nconns < MAX_CONNS) {
			int fd = accept4(tfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0) {
				conns[nconns].fd = fd;
				conns[nconns].have = 0;
				nconns++;
			}
		}
	}
	for (size_t i = 0; i < nconns; i++)
		close(conns[i].fd);
	close(ufd);
	close(tfd);
	zone_set_free(set);
	rc = 0;
out:
	for (size_t i = 0; i < nzones; i++)
		zone_free(zones[i]);
	return rc;
}
