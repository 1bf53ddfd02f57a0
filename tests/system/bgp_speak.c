/*
 * anydns-bgp-speak: the BGP speaker of src/bgp alone on its own libuv loop,
 * configured from the command line and driven by a line protocol on stdin.
 * The interop tests (tests/system/test_bgp_interop.py) run it against BIRD
 * and FRR; it is also handy by hand. State changes and command results go
 * to stdout, one line each; logs go to stderr. Run with --help.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bgp/bgp.h"
#include "lib/log.h"

#define MAX_PEERS 16

static const char usage[] =
"usage: anydns-bgp-speak --local-as N --router-id A.B.C.D [options]\n"
"\n"
"  --local-as N             our AS number (1..4294967295)\n"
"  --router-id A.B.C.D      our BGP identifier\n"
"  --peer ADDR,AS[,OPT...]  an upstream router; options:\n"
"        md5=PASSWORD       TCP MD5 signature (RFC 2385)\n"
"        passive            only accept its connection\n"
"        hold=N             hold time we propose (0 or >= 3; default 90)\n"
"        retry=N            first ConnectRetry delay in seconds (default 5)\n"
"        port=N             its port (default 179)\n"
"        local=ADDR         our source address\n"
"        name=NAME          name in logs and status (default ADDR)\n"
"        nh4=ADDR, nh6=ADDR next hop for the other family's routes\n"
"        ipv4=0, ipv6=0     do not negotiate that family\n"
"  --listen ADDR[,port=N]   accept peers' connections there (default 179)\n"
"  --announce PREFIX[,OPT...]  a route from the start; options:\n"
"        prepend=N  community=A:B  large=A:B:C  med=N\n"
"        (community and large may repeat)\n"
"  --log-level LEVEL        error, warning, notice, info (default), debug\n"
"  --help                   this text\n"
"\n"
"Commands on stdin, one per line; each is answered with \"ok\" or\n"
"\"error TEXT\":\n"
"  announce PREFIX [prepend=N] [community=A:B]... [large=A:B:C]... [med=N]\n"
"  withdraw PREFIX\n"
"  status     one \"peer NAME key=value...\" line per peer, then \"ok\"\n"
"  routes     one \"route PREFIX\" line per announced prefix, then \"ok\"\n"
"  flushed    \"flushed yes\" or \"flushed no\" (bgp_speaker_flushed())\n"
"  quit       stop every session (Cease) and exit\n"
"stdout also gets \"state NAME FROM TO\" for every session state change.\n";

struct app {
	uv_loop_t *loop;
	struct bgp_speaker *sp;
	uv_pipe_t in_pipe;
	uv_tty_t in_tty;
	uv_stream_t *in;
	uv_signal_t sigterm, sigint;
	char line[4096];
	size_t line_len;
	bool quitting;
};

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	if (*s == '\0' || *s == '-')
		return false;
	unsigned long long x = strtoull(s, &end, 10);
	if (*end != '\0' || x > 0xffffffffull)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return true;
	}
	return false;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* One route option "key=value" into r; false when unknown or bad. */
static bool route_option(struct bgp_route *r, const char *opt)
{
	uint32_t a, b, c;
	char tail;
	if (strncmp(opt, "prepend=", 8) == 0 && parse_u32(opt + 8, &a) && a <= 255) {
		r->prepend = (uint8_t)a;
		return true;
	}
	if (strncmp(opt, "med=", 4) == 0 && parse_u32(opt + 4, &a)) {
		r->has_med = true;
		r->med = a;
		return true;
	}
	if (sscanf(opt, "community=%u:%u%c", &a, &b, &tail) == 2 &&
	    a <= 0xffff && b <= 0xffff &&
	    r->community_count < BGP_MAX_COMMUNITIES) {
		r->communities[r->community_count++] = a << 16 | b;
		return true;
	}
	if (sscanf(opt, "large=%u:%u:%u%c", &a, &b, &c, &tail) == 3 &&
	    r->large_community_count < BGP_MAX_LARGE_COMMUNITIES) {
		struct bgp_large_community *lc =
			&r->large_communities[r->large_community_count++];
		lc->global = a;
		lc->local1 = b;
		lc->local2 = c;
		return true;
	}
	return false;
}

/* "PREFIX" then options separated by any of seps. */
static int parse_route(char *s, const char *seps, struct bgp_route *r)
{
	memset(r, 0, sizeof(*r));
	char *save = NULL;
	char *tok = strtok_r(s, seps, &save);
	if (tok == NULL || bgp_prefix_from_str(tok, &r->prefix) != 0)
		return -1;
	while ((tok = strtok_r(NULL, seps, &save)) != NULL)
		if (!route_option(r, tok))
			return -1;
	return 0;
}

static int parse_peer(char *s, struct bgp_peer_conf *c)
{
	bgp_peer_conf_init(c);
	char *save = NULL;
	char *addr = strtok_r(s, ",", &save);
	char *as = strtok_r(NULL, ",", &save);
	if (addr == NULL || as == NULL || !parse_addr(addr, BGP_PORT, &c->remote) ||
	    !parse_u32(as, &c->remote_as))
		return -1;
	char *opt;
	uint32_t v;
	while ((opt = strtok_r(NULL, ",", &save)) != NULL) {
		if (strncmp(opt, "md5=", 4) == 0) {
			snprintf(c->md5_password, sizeof(c->md5_password), "%s",
				 opt + 4);
		} else if (strcmp(opt, "passive") == 0) {
			c->passive = true;
		} else if (strncmp(opt, "hold=", 5) == 0 &&
			   parse_u32(opt + 5, &v) && v <= 65535) {
			c->hold_time = (uint16_t)v;
		} else if (strncmp(opt, "retry=", 6) == 0 &&
			   parse_u32(opt + 6, &v) && v <= 65535) {
			c->connect_retry = (uint16_t)v;
		} else if (strncmp(opt, "port=", 5) == 0 &&
			   parse_u32(opt + 5, &v) && v <= 65535) {
			set_port(&c->remote, (uint16_t)v);
		} else if (strncmp(opt, "local=", 6) == 0 &&
			   parse_addr(opt + 6, 0, &c->local)) {
			continue;
		} else if (strncmp(opt, "name=", 5) == 0) {
			snprintf(c->name, sizeof(c->name), "%s", opt + 5);
		} else if (strncmp(opt, "nh4=", 4) == 0 &&
			   inet_pton(AF_INET, opt + 4, &c->next_hop_v4) == 1) {
			continue;
		} else if (strncmp(opt, "nh6=", 4) == 0 &&
			   inet_pton(AF_INET6, opt + 4, &c->next_hop_v6) == 1) {
			continue;
		} else if (strcmp(opt, "ipv4=0") == 0) {
			c->ipv4_unicast = false;
		} else if (strcmp(opt, "ipv6=0") == 0) {
			c->ipv6_unicast = false;
		} else {
			return -1;
		}
	}
	if (c->name[0] == '\0')
		snprintf(c->name, sizeof(c->name), "%s", addr);
	return 0;
}

static void on_state(void *arg, const char *peer, enum bgp_state from,
		     enum bgp_state to)
{
	(void)arg;
	out("state %s %s %s", peer, bgp_state_name(from), bgp_state_name(to));
}

static void print_status(struct app *a)
{
	struct bgp_peer_status st[MAX_PEERS];
	size_t n = bgp_speaker_status(a->sp, st, MAX_PEERS);
	for (size_t i = 0; i < n && i < MAX_PEERS; i++) {
		struct bgp_peer_status *s = &st[i];
		out("peer %s state=%s as=%u hold=%u established=%llu "
		    "msgs_in=%llu msgs_out=%llu updates_in=%llu updates_out=%llu "
		    "prefixes_received=%llu prefixes_announced=%u "
		    "last_error=%u/%u last_error_sent=%d last_error_text=\"%s\"",
		    s->name, bgp_state_name(s->state), s->remote_as, s->hold_time,
		    (unsigned long long)s->established_count,
		    (unsigned long long)s->msgs_in,
		    (unsigned long long)s->msgs_out,
		    (unsigned long long)s->updates_in,
		    (unsigned long long)s->updates_out,
		    (unsigned long long)s->prefixes_received,
		    s->prefixes_announced, s->last_error_code,
		    s->last_error_subcode, s->last_error_sent, s->last_error);
	}
}

static void stopped(void *arg)
{
	struct app *a = arg;
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	if (a->in != NULL)
		uv_close((uv_handle_t *)a->in, NULL);
}

static void quit(struct app *a)
{
	if (a->quitting)
		return;
	a->quitting = true;
	if (a->in != NULL)
		uv_read_stop(a->in);
	bgp_speaker_stop(a->sp, stopped, a);
}

static void command(struct app *a, char *line)
{
	char *save = NULL;
	char *cmd = strtok_r(line, " \t", &save);
	char *rest = save;
	if (cmd == NULL)
		return;
	if (strcmp(cmd, "announce") == 0) {
		struct bgp_route r;
		if (rest == NULL || parse_route(rest, " \t,", &r) != 0) {
			out("error bad route");
			return;
		}
		int ret = bgp_announce(a->sp, &r);
		if (ret != 0)
			out("error %s", anydns_strerror(ret));
		else
			out("ok");
	} else if (strcmp(cmd, "withdraw") == 0) {
		char *pfx = strtok_r(NULL, " \t", &save);
		struct bgp_prefix p;
		if (pfx == NULL || bgp_prefix_from_str(pfx, &p) != 0) {
			out("error bad prefix");
			return;
		}
		int ret = bgp_withdraw(a->sp, &p);
		if (ret != 0)
			out("error %s", anydns_strerror(ret));
		else
			out("ok");
	} else if (strcmp(cmd, "status") == 0) {
		print_status(a);
		out("ok");
	} else if (strcmp(cmd, "routes") == 0) {
		struct bgp_route r[256];
		size_t n = bgp_speaker_routes(a->sp, r, 256);
		for (size_t i = 0; i < n && i < 256; i++) {
			char text[64];
			bgp_prefix_to_str(&r[i].prefix, text, sizeof(text));
			out("route %s", text);
		}
		out("ok");
	} else if (strcmp(cmd, "flushed") == 0) {
		out("flushed %s", bgp_speaker_flushed(a->sp) ? "yes" : "no");
	} else if (strcmp(cmd, "quit") == 0) {
		out("ok");
		quit(a);
	} else {
		out("error unknown command %s", cmd);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct app *a = h->data;
	*buf = uv_buf_init(a->line + a->line_len,
			   (unsigned)(sizeof(a->line) - 1 - a->line_len));
}

static void on_stdin(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct app *a = s->data;
	if (nread < 0) {
		quit(a);
		return;
	}
	a->line_len += (size_t)nread;
	a->line[a->line_len] = '\0';
	char *start = a->line;
	char *nl;
	while (!a->quitting && (nl = strchr(start, '\n')) != NULL) {
		*nl = '\0';
		command(a, start);
		start = nl + 1;
	}
	size_t left = a->line_len - (size_t)(start - a->line);
	if (left == sizeof(a->line) - 1)
		left = 0;	/* a line too long: drop it */
	memmove(a->line, start, left);
	a->line_len = left;
}

static void on_signal(uv_signal_t *h, int sig)
{
	(void)sig;
	quit(h->data);
}

static int open_stdin(struct app *a)
{
	uv_handle_type t = uv_guess_handle(0);
	int ret;
	if (t == UV_TTY) {
		ret = uv_tty_init(a->loop, &a->in_tty, 0, 1);
		a->in = (uv_stream_t *)&a->in_tty;
	} else if (t == UV_NAMED_PIPE || t == UV_TCP) {
		ret = uv_pipe_init(a->loop, &a->in_pipe, 0);
		if (ret == 0)
			ret = uv_pipe_open(&a->in_pipe, 0);
		a->in = (uv_stream_t *)&a->in_pipe;
	} else {
		return 0;	/* a file or nothing: no commands */
	}
	if (ret != 0) {
		a->in = NULL;
		return ret;
	}
	a->in->data = a;
	return uv_read_start(a->in, on_alloc, on_stdin);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local-as", required_argument, NULL, 'a' },
		{ "router-id", required_argument, NULL, 'r' },
		{ "peer", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "announce", required_argument, NULL, 'A' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t local_as = 0;
	struct in_addr router_id = { 0 };
	struct bgp_peer_conf peers[MAX_PEERS];
	size_t npeers = 0;
	struct sockaddr_storage listens[8];
	size_t nlistens = 0;
	struct bgp_route routes[64];
	size_t nroutes = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (!parse_u32(optarg, &local_as) || local_as == 0)
				goto bad;
			break;
		case 'r':
			if (inet_pton(AF_INET, optarg, &router_id) != 1)
				goto bad;
			break;
		case 'p':
			if (npeers == MAX_PEERS || parse_peer(optarg, &peers[npeers]) != 0)
				goto bad;
			npeers++;
			break;
		case 'l': {
			char *save = NULL;
			char *addr = strtok_r(optarg, ",", &save);
			char *opt = strtok_r(NULL, ",", &save);
			uint32_t port = BGP_PORT;
			if (nlistens == 8 || addr == NULL ||
			    (opt != NULL && (strncmp(opt, "port=", 5) != 0 ||
					     !parse_u32(opt + 5, &port) || port > 65535)) ||
			    !parse_addr(addr, (uint16_t)port, &listens[nlistens]))
				goto bad;
			nlistens++;
			break;
		}
		case 'A':
			if (nroutes == 64 || parse_route(optarg, ",", &routes[nroutes]) != 0)
				goto bad;
			nroutes++;
			break;
		case 'L': {
			int lvl = log_level_from_str(optarg);
			if (lvl < 0)
				goto bad;
			log_set_level((enum log_level)lvl);
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (local_as == 0 || router_id.s_addr == 0 || optind != argc)
		goto bad;

	signal(SIGPIPE, SIG_IGN);
	struct app a;
	memset(&a, 0, sizeof(a));
	a.loop = uv_default_loop();
	int ret = bgp_speaker_new(a.loop, local_as, router_id.s_addr, &a.sp);
	if (ret != 0) {
		fprintf(stderr, "anydns-bgp-speak: %s\n", anydns_strerror(ret));
		return 1;
	}
	bgp_speaker_on_state(a.sp, on_state, &a);
	for (size_t i = 0; i < npeers; i++) {
		ret = bgp_speaker_add_peer(a.sp, &peers[i]);
		if (ret != 0) {
			fprintf(stderr, "anydns-bgp-speak: peer %s: %s\n",
				peers[i].name, anydns_strerror(ret));
			return 1;
		}
	}
	for (size_t i = 0; i < nlistens; i++) {
		ret = bgp_speaker_listen(a.sp, (struct sockaddr *)&listens[i]);
		if (ret != 0) {
			fprintf(stderr, "anydns-bgp-speak: listen: %s\n",
				anydns_strerror(ret));
			return 1;
		}
	}
	for (size_t i = 0; i < nroutes; i++) {
		ret = bgp_announce(a.sp, &routes[i]);
		if (ret != 0) {
			fprintf(stderr, "anydns-bgp-speak: announce: %s\n",
				anydns_strerror(ret));
			return 1;
		}
	}
	uv_signal_init(a.loop, &a.sigterm);
	uv_signal_init(a.loop, &a.sigint);
	a.sigterm.data = a.sigint.data = &a;
	uv_signal_start(&a.sigterm, on_signal, SIGTERM);
	uv_signal_start(&a.sigint, on_signal, SIGINT);
	ret = open_stdin(&a);
	if (ret != 0) {
		fprintf(stderr, "anydns-bgp-speak: stdin: %s\n", uv_strerror(ret));
		return 1;
	}
	bgp_speaker_start(a.sp);
	out("started");
	uv_run(a.loop, UV_RUN_DEFAULT);
	bgp_speaker_free(a.sp);
	uv_loop_close(a.loop);
	out("stopped");
	return 0;
bad:
	fputs(usage, stderr);
	return 2;
}
