/*
 * anydnsc: the control client of anydnsd. It sends one request line over
 * the daemon's UNIX control socket (src/ctl, docs/operations.md), reads the
 * reply to EOF, prints its body on stdout and turns its first line into the
 * exit code: 0 for `ok`, 1 for `error: message` (the message on stderr), 2
 * when the daemon cannot be reached, the reply makes no sense or the
 * command line is wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/wire.h"

/* The default of the daemon's control.socket. */
#define DEFAULT_SOCKET "/run/anydns/anydnsd.sock"
/* A reload reads zone files before it answers: give it time. */
#define DEFAULT_TIMEOUT_S 300
/* Larger replies than this are cut (a stats or zones body is far below). */
#define REPLY_MAX (64u << 20)

enum exit_code {
	EXIT_OK = 0,
	EXIT_ERROR = 1,		/* the daemon answered "error:" */
	EXIT_NO_DAEMON = 2,	/* no daemon, no sensible reply, bad usage */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: anydnsc [-s SOCKET] [-t SECONDS] COMMAND\n"
		"Controls a running anydnsd over its control socket.\n\n"
		"Commands:\n"
		"  status         version, uptime, workers, listen addresses, "
		"zone count\n"
		"  zones          one line per zone: serial, state, file, load "
		"time, last error;\n"
		"                 secondaries: primary serial, lag, last "
		"transfer and its result\n"
		"  stats          query and response counters, zone serials\n"
		"  reload [ZONE]  read changed zone files again (ZONE: that one, "
		"always;\n"
		"                 a secondary zone: ask its primary now)\n"
		"  bgp            BGP sessions, and each route: to whom, and why\n"
		"  networks       each anycast network: state, addresses, routes, "
		"checks\n"
		"  drain [NET]    announce with GRACEFUL_SHUTDOWN, withdraw after "
		"the\n"
		"                 network's drain time (NET: that one, else all)\n"
		"  undrain [NET]  announce again if healthy\n\n"
		"Options:\n"
		"  -s, --socket PATH    control socket (default %s)\n"
		"  -t, --timeout SECS   longest wait for the reply (default %d)\n"
		"  -h, --help           this text\n\n"
		"Exit codes: 0 ok, 1 the daemon reported an error, 2 no daemon, "
		"no reply or bad usage.\n", DEFAULT_SOCKET, DEFAULT_TIMEOUT_S);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "anydnsc: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "anydnsc: cannot connect to the control socket "
			"%s: %s (is anydnsd running? -s names another socket)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads to EOF into a malloc'ed buffer; false on error or timeout. */
static bool read_reply(int fd, const char *path, int timeout_s, char **out,
		       size_t *outlen)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	long deadline = now_ms() + timeout_s * 1000L;
	while (buf != NULL) {
		long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "anydnsc: %s: %s\n", path, n == 0 ?
				"no reply in time" : strerror(errno));
			break;
		}
		if (len == cap) {
			char *bigger = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (bigger == NULL) {
				fprintf(stderr, "anydnsc: reply too large\n");
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "anydnsc: %s: %s\n", path, strerror(errno));
			break;
		}
		if (r == 0) {
			*out = buf;
			*outlen = len;
			return true;
		}
		len += (size_t)r;
	}
	free(buf);
	return false;
}

/* Splits the reply at its first newline, reading through the cursor. */
static int print_reply(const char *path, const char *reply, size_t len)
{
	struct wire_ctx c;
	wire_init(&c, reply, len);
	size_t first = 0;
	while (wire_avail(&c) > 0 && wire_read_u8(&c) != '\n')
		first++;
	const char *body = (const char *)c.pos;
	size_t body_len = wire_avail(&c);
	if (first == 2 && memcmp(reply, "ok", 2) == 0) {
		fwrite(body, 1, body_len, stdout);
		return EXIT_OK;
	}
	if (first > 7 && memcmp(reply, "error: ", 7) == 0) {
		fwrite(body, 1, body_len, stdout);
		fflush(stdout);
		fprintf(stderr, "anydnsc: %.*s\n", (int)(first - 7), reply + 7);
		return EXIT_ERROR;
	}
	fprintf(stderr, "anydnsc: %s: unexpected reply%s\n", path,
		len == 0 ? " (empty)" : "");
	return EXIT_NO_DAEMON;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_SOCKET;
	int timeout = DEFAULT_TIMEOUT_S;
	int opt;
	while ((opt = getopt_long(argc, argv, "+s:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			if (timeout <= 0 || timeout > 86400) {
				fprintf(stderr, "anydnsc: bad timeout '%s'\n", optarg);
				return EXIT_NO_DAEMON;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_NO_DAEMON;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_NO_DAEMON;
	}
	/* The daemon parses and judges the request: one place knows the
	 * protocol. Here the words are only joined into one line. */
	char line[1100];
	size_t len = 0;
	for (int i = optind; i < argc; i++) {
		int n = snprintf(line + len, sizeof(line) - len, "%s%s",
				 i > optind ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
			fprintf(stderr, "anydnsc: request too long\n");
			return EXIT_NO_DAEMON;
		}
		len += (size_t)n;
	}
	line[len++] = '\n';

	int fd = connect_to(path);
	if (fd < 0)
		return EXIT_NO_DAEMON;
	char *reply = NULL;
	size_t reply_len = 0;
	int code = EXIT_NO_DAEMON;
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		fprintf(stderr, "anydnsc: %s: %s\n", path, strerror(errno));
	else if (read_reply(fd, path, timeout, &reply, &reply_len))
		code = print_reply(path, reply, reply_len);
	free(reply);
	close(fd);
	return code;
}
