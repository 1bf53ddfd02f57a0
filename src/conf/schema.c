/*
 * The schema: one row per option of anydnsd's configuration, with its type,
 * default, bounds, validator and description. Everything else in src/conf
 * (the YAML loader, its messages, conf_print(), conf_equal(), conf_free()
 * and docs/configuration.md) walks these rows, so adding an option is a
 * field in struct conf and one row here. The defaults follow RFC 6891 §6.2.5
 * and the DNS Flag Day 2020 advice (1232-octet UDP payload), RFC 7766 §6.2.3
 * (TCP idle timeouts) and RFC 7828 (edns-tcp-keepalive in 100 ms units).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/internal.h"

/* ---- computed defaults -------------------------------------------------- */

static const char *default_hostname(const void *rec, char *buf, size_t cap)
{
	(void)rec;
	if (gethostname(buf, cap) != 0 || memchr(buf, '\0', cap) == NULL)
		return "localhost";
	return buf;
}

static const char *default_nsid(const void *rec, char *buf, size_t cap)
{
	(void)buf;
	(void)cap;
	const struct conf *c = rec;
	return c->server.identity != NULL ? c->server.identity : "";
}

/* ---- validators --------------------------------------------------------- */

/* The advertised timeout travels in units of 100 ms (RFC 7828 §3.1). */
static int check_keepalive(const void *value, char *msg, size_t cap)
{
	uint32_t ms;
	memcpy(&ms, value, sizeof(ms));
	if (ms % 100 != 0) {
		snprintf(msg, cap, "%ums is not a multiple of 100ms "
			 "(the option counts in units of 100ms)", ms);
		return -1;
	}
	return 0;
}

/* Below 64 KiB a packet cache would hold a handful of answers. */
static int check_packet_cache(const void *value, char *msg, size_t cap)
{
	uint64_t size;
	memcpy(&size, value, sizeof(size));
	if (size != 0 && size < 64 * 1024) {
		snprintf(msg, cap, "%llu octets is below the 64k a packet "
			 "cache needs (0 turns it off)",
			 (unsigned long long)size);
		return -1;
	}
	return 0;
}

/* sockaddr_un holds the path with its terminating NUL. */
static int check_socket_path(const void *value, char *msg, size_t cap)
{
	const char *path;
	memcpy(&path, value, sizeof(path));
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	char shown[64];
	if (strlen(path) > max) {
		snprintf(msg, cap, "'%s' is longer than the %zu octets a "
			 "Unix socket path may have",
			 conf_show(path, strlen(path), shown, sizeof(shown)), max);
		return -1;
	}
	return 0;
}

/* The name is looked up only when privileges are dropped; here we refuse
 * what can never be a user name, so the mistake shows at load time. */
static int check_user(const void *value, char *msg, size_t cap)
{
	const char *user;
	char shown[64];
	memcpy(&user, value, sizeof(user));
	if (user[0] == '\0' || user[0] == '-' ||
	    strpbrk(user, " \t\n:/,") != NULL) {
		snprintf(msg, cap, "'%s' is not a user name",
			 conf_show(user, strlen(user), shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

/* Network and peer names appear in metric labels, logs and control
 * commands (`anydnsc drain NAME`): one word of safe characters. */
static int check_word(const void *value, char *msg, size_t cap)
{
	const char *w;
	char shown[64];
	memcpy(&w, value, sizeof(w));
	for (const char *p = w; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.')
			continue;
		snprintf(msg, cap, "'%s' may hold only letters, digits, '-', "
			 "'_' and '.'", conf_show(w, strlen(w), shown,
						  sizeof(shown)));
		return -1;
	}
	return 0;
}

static int check_ifname(const void *value, char *msg, size_t cap)
{
	const char *w;
	char shown[64];
	memcpy(&w, value, sizeof(w));
	if (strpbrk(w, "/: \t\n") != NULL || strcmp(w, ".") == 0 ||
	    strcmp(w, "..") == 0) {
		snprintf(msg, cap, "'%s' is not an interface name",
			 conf_show(w, strlen(w), shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

static uint16_t addr_port(const struct conf_addr *a);

/* Addresses whose port is another option (a BGP peer's `port`) or means
 * nothing (a source address). */
static int check_no_port(const void *value, char *msg, size_t cap)
{
	const struct conf_addr *a = value;
	if (addr_port(a) != 0) {
		snprintf(msg, cap, "write the address without a port");
		return -1;
	}
	return 0;
}

/* The BGP identifier is a 4-octet number written as an IPv4 address
 * (RFC 4271 §4.2, RFC 6286). */
static int check_router_id(const void *value, char *msg, size_t cap)
{
	const struct conf_addr *a = value;
	if (a->ss.ss_family != AF_INET ||
	    ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == 0) {
		snprintf(msg, cap, "a router ID is a non-zero IPv4 address");
		return -1;
	}
	return check_no_port(value, msg, cap);
}

static int check_v4_host(const void *value, char *msg, size_t cap)
{
	const struct conf_addr *a = value;
	if (a->ss.ss_family != AF_INET) {
		snprintf(msg, cap, "an IPv4 address is needed here");
		return -1;
	}
	return check_no_port(value, msg, cap);
}

static int check_v6_host(const void *value, char *msg, size_t cap)
{
	const struct conf_addr *a = value;
	if (a->ss.ss_family != AF_INET6) {
		snprintf(msg, cap, "an IPv6 address is needed here");
		return -1;
	}
	return check_no_port(value, msg, cap);
}

/* RFC 4271 §4.2: a Hold Time is 0 or at least 3 seconds, in seconds. */
static int check_hold_time(const void *value, char *msg, size_t cap)
{
	uint32_t ms;
	memcpy(&ms, value, sizeof(ms));
	if (ms % 1000 != 0 || (ms != 0 && ms < 3000)) {
		snprintf(msg, cap, "the hold time is 0 or a whole number of "
			 "seconds from 3s");
		return -1;
	}
	return 0;
}

static int check_seconds(const void *value, char *msg, size_t cap)
{
	uint32_t ms;
	memcpy(&ms, value, sizeof(ms));
	if (ms % 1000 != 0) {
		snprintf(msg, cap, "%ums is not a whole number of seconds", ms);
		return -1;
	}
	return 0;
}

static int check_probe_name(const void *value, char *msg, size_t cap)
{
	const char *s;
	uint8_t wire[DNS_NAME_MAXLEN];
	size_t len;
	char shown[64];
	memcpy(&s, value, sizeof(s));
	if (dns_name_from_str(wire, &len, s, NULL) != 0) {
		snprintf(msg, cap, "'%s' is not a domain name",
			 conf_show(s, strlen(s), shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

/* A probe asks one plain question: meta types have no answer to match. */
static int check_probe_type(const void *value, char *msg, size_t cap)
{
	uint16_t t;
	memcpy(&t, value, sizeof(t));
	if (t == DNS_TYPE_OPT || (t >= 128 && t <= 255)) {
		char tb[16];
		snprintf(msg, cap, "%s is a meta type; a probe asks for data",
			 dns_rrtype_to_str(t, tb));
		return -1;
	}
	return 0;
}

/* ---- cross-option checks ------------------------------------------------ */

static const struct conf_row *row(const char *name)
{
	return conf_row_find(name, strlen(name));
}

static void addr_set_port(struct conf_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

static uint16_t addr_port(const struct conf_addr *a)
{
	if (a->len == 0)
		return 0;
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

/* Listen entries written without a port (parsed with port 0, which is
 * never accepted when written) take server.port, wherever it appears. */
static int finish_server(struct conf_check *chk, void *rec)
{
	struct conf_server *s = &((struct conf *)rec)->server;

	for (size_t i = 0; i < s->listen_count; i++)
		if (addr_port(&s->listen[i]) == 0)
			addr_set_port(&s->listen[i], s->port);
	for (size_t i = 0; i < s->listen_count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (s->listen[i].len != s->listen[j].len ||
			    memcmp(&s->listen[i].ss, &s->listen[j].ss,
				   s->listen[i].len) != 0)
				continue;
			char text[64];
			conf_value_text(row("server.listen"),
					&s->listen[i], text, sizeof(text));
			return conf_check_fail(chk, "server.listen",
					       "'%s' is listed twice", text);
		}
	}
	if (s->tcp_max_per_client > s->tcp_max_clients) {
		const char *at = conf_check_was_set(chk, "server.tcp-max-per-client")
				 ? "server.tcp-max-per-client"
				 : "server.tcp-max-clients";
		return conf_check_fail(chk, at, "tcp-max-per-client (%u) is "
				       "larger than tcp-max-clients (%u)",
				       s->tcp_max_per_client, s->tcp_max_clients);
	}
	if (s->tcp_keepalive_ms > s->tcp_idle_timeout_ms) {
		const struct conf_row *ka = row("server.tcp-keepalive");
		char kt[32], it[32];
		conf_value_text(ka, &s->tcp_keepalive_ms, kt, sizeof(kt));
		conf_value_text(ka, &s->tcp_idle_timeout_ms, it, sizeof(it));
		const char *at = conf_check_was_set(chk, "server.tcp-keepalive")
				 ? "server.tcp-keepalive"
				 : "server.tcp-idle-timeout";
		return conf_check_fail(chk, at, "tcp-keepalive (%s) is longer "
				       "than tcp-idle-timeout (%s)", kt, it);
	}
	return 0;
}

static bool prefix_equal(const struct conf_prefix *a,
			 const struct conf_prefix *b)
{
	return a->family == b->family &&
	       memcmp(&a->addr, &b->addr, a->family == AF_INET ?
		      sizeof(a->addr.v4) : sizeof(a->addr.v6)) == 0;
}

static bool zone_configured(const struct conf *c, const uint8_t *name)
{
	for (size_t i = 0; i < c->zones_count; i++)
		if (dns_name_equal(c->zones[i].name, name))
			return true;
	return false;
}

/* BGP and the anycast networks, checked once the whole file is read: a
 * network may name zones written after it. */
static int finish_bgp(struct conf_check *chk, void *rec)
{
	struct conf *c = rec;
	struct conf_bgp *b = &c->bgp;
	char text[DNS_NAME_STRLEN];

	if (b->listen.len > 0 && addr_port(&b->listen) == 0)
		addr_set_port(&b->listen, 179);
	if (b->peers_count > 0 && b->local_as == 0)
		return conf_check_fail(chk, "bgp.local-as", "peers are "
				       "configured: local-as must be set");
	if (b->local_as != 0 && b->router_id.len == 0)
		return conf_check_fail(chk, "bgp.router-id", "required when "
				       "local-as is set");
	for (size_t i = 0; i < c->networks_count; i++) {
		const struct conf_network *n = &c->networks[i];
		for (size_t z = 0; z < n->zones_count; z++) {
			if (zone_configured(c, n->zones[z]))
				continue;
			dns_name_to_str(text, n->zones[z]);
			return conf_check_fail(chk, "networks", "network '%s' "
					       "serves zone '%s', which is not "
					       "in zones", n->name, text);
		}
		if (n->checks.dns.enabled && n->checks.dns.name == NULL &&
		    n->zones_count == 0 && c->zones_count == 0)
			return conf_check_fail(chk, "networks", "network '%s': "
					       "no zone for the DNS probe to ask "
					       "for; set checks.dns.name",
					       n->name);
		/* A query's destination picks the network's zones: an
		 * address in two networks would pick two sets. */
		for (size_t j = 0; j < i; j++) {
			const struct conf_network *m = &c->networks[j];
			for (size_t p = 0; p < n->prefixes_count; p++) {
				for (size_t q = 0; q < m->prefixes_count; q++) {
					if (!prefix_equal(&n->prefixes[p],
							  &m->prefixes[q]))
						continue;
					conf_value_text(row("networks.prefixes"),
							&n->prefixes[p], text,
							sizeof(text));
					return conf_check_fail(chk, "networks",
						"'%s' is in networks '%s' and "
						"'%s'", text, m->name, n->name);
				}
			}
		}
	}
	return 0;
}

static int finish_peer(struct conf_check *chk, void *rec)
{
	struct conf_bgp_peer *p = rec;
	if (!p->ipv4 && !p->ipv6)
		return conf_check_fail(chk, "bgp.peers.ipv6", "peer '%s' "
				       "carries neither IPv4 nor IPv6 routes",
				       p->name);
	if (p->source_address.len > 0 &&
	    p->source_address.ss.ss_family != p->address.ss.ss_family)
		return conf_check_fail(chk, "bgp.peers.source-address",
				       "peer '%s': not of the address family "
				       "of the peer's address", p->name);
	return 0;
}

static int finish_health(struct conf_check *chk, void *rec)
{
	struct conf_health *h = &((struct conf *)rec)->health;
	if (h->timeout_ms > h->interval_ms) {
		const char *at = conf_check_was_set(chk, "health.timeout") ?
				 "health.timeout" : "health.interval";
		return conf_check_fail(chk, at, "the timeout (%ums) is longer "
				       "than the interval (%ums)", h->timeout_ms,
				       h->interval_ms);
	}
	return 0;
}

static int finish_network(struct conf_check *chk, void *rec)
{
	struct conf_network *n = rec;
	/* Room for 65535:0 (RFC 8326) added while draining. */
	if (n->communities_count > 15)
		return conf_check_fail(chk, "networks.communities", "network "
				       "'%s': at most 15 communities",
				       n->name);
	if (n->large_communities_count > 8)
		return conf_check_fail(chk, "networks.large-communities",
				       "network '%s': at most 8 large "
				       "communities", n->name);
	if (n->prefixes_count > 64)
		return conf_check_fail(chk, "networks.prefixes", "network "
				       "'%s': at most 64 prefixes", n->name);
	for (size_t i = 0; i < n->prefixes_count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!prefix_equal(&n->prefixes[i], &n->prefixes[j]))
				continue;
			char text[64];
			conf_value_text(row("networks.prefixes"),
					&n->prefixes[i], text, sizeof(text));
			return conf_check_fail(chk, "networks.prefixes",
					       "'%s' repeats an address listed "
					       "before", text);
		}
	}
	if (n->checks.command_timeout_ms > n->checks.command_interval_ms)
		return conf_check_fail(chk, "networks.checks.command-timeout",
				       "network '%s': longer than "
				       "command-interval", n->name);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static const char *const rcode_names[] = {
	/* indexed by the RCODE itself (RFC 1035 §4.1.1, RFC 2136 §2.2) */
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", NULL,
};

static const char *const udp_io_names[] = {
	/* indexed by enum conf_udp_io */
	"auto", "uring", "mmsg", NULL,
};

static const char *const serial_policy_names[] = {
	/* indexed by enum conf_serial_policy */
	"keep", "increment", "unixtime", "dateserial", NULL,
};

static const char *const tsig_alg_names[] = {
	/* indexed by enum dns_tsig_alg - 1 */
	"hmac-sha256", "hmac-sha384", "hmac-sha512", NULL,
};

static const char *const log_levels[] = {
	/* indexed by enum log_level */
	"error", "warning", "notice", "info", "debug", NULL,
};

const struct conf_row conf_rows[] = {
	{ .name = "server", .type = CONF_T_SECTION, .finish = finish_server,
	  .doc = "How anydnsd answers DNS: its identity, where it listens, "
		 "how many threads serve, and the limits of UDP and TCP." },
	{ .name = "server.identity", .type = CONF_T_STR,
	  CONF_FIELD(struct conf, server.identity),
	  .def_fn = default_hostname, .def_doc = "the host name",
	  .min = 0, .max = 255,
	  .doc = "The text answered to CHAOS TXT queries for `id.server.` and "
		 "`hostname.bind.` (RFC 4892), so an operator can tell which "
		 "point of presence answered. An empty string disables it: "
		 "those queries are then refused." },
	{ .name = "server.version", .type = CONF_T_STR,
	  CONF_FIELD(struct conf, server.version),
	  .def = "anydns " ANYDNS_VERSION, .min = 0, .max = 255,
	  .doc = "The text answered to CHAOS TXT queries for `version.server.` "
		 "and `version.bind.`. An empty string disables it: those "
		 "queries are then refused." },
	{ .name = "server.nsid", .type = CONF_T_STR,
	  CONF_FIELD(struct conf, server.nsid),
	  .def_fn = default_nsid, .def_doc = "the value of `server.identity`",
	  .min = 0, .max = 255,
	  .doc = "The data of the NSID option (RFC 5001) added to responses "
		 "when a query asks for it: the way to tell anycast instances "
		 "apart from normal queries. An empty string disables NSID." },
	{ .name = "server.listen", .type = CONF_T_ADDR, .flags = CONF_LIST,
	  CONF_LIST_FIELD(struct conf, server.listen, server.listen_count),
	  .def = "0.0.0.0 ::",
	  .doc = "The addresses DNS is served on, over UDP and TCP: each "
		 "`ADDR` or `ADDR@PORT`, IPv4 or IPv6 (for example "
		 "`192.0.2.53`, `2001:db8::53@5353`). An entry without a port "
		 "takes `server.port`. A single address may be written "
		 "without the list." },
	{ .name = "server.port", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, server.port),
	  .def = "53", .min = 1, .max = 65535,
	  .doc = "The port of `server.listen` entries written without one." },
	{ .name = "server.workers", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, server.workers),
	  .def = "0", .min = 0, .max = 1024,
	  .doc = "The number of DNS worker threads, each with its own UDP "
		 "socket per address (SO_REUSEPORT). 0 starts one per CPU." },
	{ .name = "server.udp-io", .type = CONF_T_ENUM,
	  CONF_FIELD(struct conf, server.udp_io),
	  .def = "auto", .names = udp_io_names,
	  .doc = "How the workers receive and answer DNS over UDP. `uring`: "
		 "an io_uring per worker, where a multishot receive takes "
		 "datagrams into provided buffers and the replies are "
		 "submitted together, one system call per wakeup for both. "
		 "`mmsg`: epoll, then batches of `recvmmsg()` and "
		 "`sendmmsg()`. `auto`: io_uring where the kernel allows it "
		 "(Linux 6.1 or later, not turned off by "
		 "`kernel.io_uring_disabled` or a seccomp filter), `mmsg` "
		 "elsewhere. With `uring` the daemon does not start without "
		 "io_uring. TCP is served the same way in all three." },
	{ .name = "server.udp-max-payload", .type = CONF_T_SIZE,
	  CONF_FIELD(struct conf, server.udp_max_payload),
	  .def = "1232", .min = 512, .max = 4096,
	  .doc = "The largest UDP response sent to an EDNS client and the "
		 "payload size advertised in our OPT record (RFC 6891 §6.2.5). "
		 "The default of 1232 avoids IP fragmentation on almost every "
		 "path; larger answers set TC and the client retries over "
		 "TCP." },
	{ .name = "server.packet-cache", .type = CONF_T_SIZE,
	  CONF_FIELD(struct conf, server.packet_cache),
	  .def = "16M", .min = 0, .max = (int64_t)1 << 36,
	  .validate = check_packet_cache,
	  .doc = "Memory for each worker's cache of UDP responses. A query "
		 "whose octets after the ID were answered before, on the same "
		 "network, from the zones now served, gets a copy of that "
		 "response with its own ID, without the lookup. Any reload "
		 "that publishes zones makes the whole cache stale at once. "
		 "Not kept: signed (TSIG) queries, transfers and NOTIFY, "
		 "queries with the EDNS EXPIRE option, malformed ones. The "
		 "memory is taken from the system as the cache fills. 0 turns "
		 "it off; otherwise at least 64k." },
	{ .name = "server.tcp-max-clients", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, server.tcp_max_clients),
	  .def = "4096", .min = 1, .max = 1048576,
	  .doc = "The most TCP connections served at once, over all "
		 "addresses (RFC 7766 §6.2.2)." },
	{ .name = "server.tcp-max-per-client", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, server.tcp_max_per_client),
	  .def = "64", .min = 1, .max = 1048576,
	  .doc = "The most TCP connections one client address may hold open "
		 "at once, so one client cannot take every slot. At most "
		 "`server.tcp-max-clients`." },
	{ .name = "server.tcp-idle-timeout", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, server.tcp_idle_timeout_ms),
	  .def = "10s", .min = 100, .max = 3600 * 1000,
	  .doc = "How long a TCP connection may stay without a complete query "
		 "before it is closed (RFC 7766 §6.2.3)." },
	{ .name = "server.tcp-keepalive", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, server.tcp_keepalive_ms),
	  .def = "10s", .min = 0, .max = 3600 * 1000,
	  .validate = check_keepalive,
	  .doc = "The idle timeout advertised to TCP clients that send the "
		 "edns-tcp-keepalive option (RFC 7828), in steps of 100ms. "
		 "0 does not advertise one. At most "
		 "`server.tcp-idle-timeout`." },
	{ .name = "server.user", .type = CONF_T_STR, .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf, server.user),
	  .min = 1, .max = 64, .validate = check_user,
	  .doc = "The user anydnsd switches to once its sockets are bound, "
		 "dropping root. Not set: the daemon keeps the user it was "
		 "started as." },
	{ .name = "server.pidfile", .type = CONF_T_PATH, .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf, server.pidfile),
	  .doc = "A file the daemon writes its process ID to at start-up. Not "
		 "set: no PID file." },

	{ .name = "control", .type = CONF_T_SECTION,
	  .doc = "The local control socket `anydnsc` talks to." },
	{ .name = "control.socket", .type = CONF_T_PATH,
	  CONF_FIELD(struct conf, control.socket),
	  .def = "/run/anydns/anydnsd.sock", .validate = check_socket_path,
	  .doc = "The path of the Unix stream socket for control commands "
		 "(status, zones, stats, reload; see anydnsc). A missing "
		 "directory is created; a stale socket file is replaced." },

	{ .name = "http", .type = CONF_T_SECTION,
	  .doc = "The HTTP listener for metrics." },
	{ .name = "http.listen", .type = CONF_T_ADDR,
	  .flags = CONF_OPTIONAL | CONF_PORT,
	  CONF_FIELD(struct conf, http.listen),
	  .doc = "`ADDR@PORT` to serve `/metrics` on (Prometheus text "
		 "format). Not set: no HTTP listener." },

	{ .name = "log", .type = CONF_T_SECTION,
	  .doc = "Logging to standard error." },
	{ .name = "log.level", .type = CONF_T_ENUM,
	  CONF_FIELD(struct conf, log.level),
	  .def = "info", .names = log_levels,
	  .doc = "The least severe level logged: `info` logs errors, "
		 "warnings, notices and informational messages, and leaves "
		 "out `debug`." },

	{ .name = "zones", .type = CONF_T_RECORDS, .finish = conf_finish_zone,
	  CONF_LIST_FIELD(struct conf, zones, zones_count),
	  .key = "name", .item = "zone",
	  .doc = "The zones served: our own, read from master files, and "
		 "secondary zones, pulled from their primaries "
		 "(docs/replication.md). A zone name may appear once." },
	{ .name = "zones.name", .type = CONF_T_NAME, .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_zone, name),
	  .doc = "The zone's apex, an absolute domain name (a final dot is "
		 "optional): `example.com`." },
	{ .name = "zones.file", .type = CONF_T_PATH, .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_zone, file),
	  .def_doc = "required for a zone of our own; for a secondary, "
		     "`replication.storage`/NAME.zone",
	  .doc = "The zone's master file (RFC 1035 §5). A relative path is "
		 "taken from the directory of the configuration file. For a "
		 "secondary zone it is the stored copy: written (atomically) "
		 "after every transfer and served at start-up until the "
		 "primary is reached." },
	{ .name = "zones.primaries", .type = CONF_T_ADDR,
	  .flags = CONF_LIST | CONF_OPTIONAL,
	  CONF_LIST_FIELD(struct conf_zone, primaries, primaries_count),
	  .doc = "Makes the zone a secondary: the primaries it is pulled "
		 "from, `ADDR` or `ADDR@PORT` (53 when not written), asked "
		 "in order. NOTIFY is accepted from them (with "
		 "`primary-key` when set). Not set: the zone is ours." },
	{ .name = "zones.primary-key", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL, CONF_FIELD(struct conf_zone, primary_key),
	  .min = 1, .max = 255,
	  .doc = "A key of `replication.keys` or `replication.key-files`: "
		 "SOA queries and transfers to the primaries are signed with "
		 "it (TSIG, RFC 8945), their answers and their NOTIFYs must "
		 "be." },
	{ .name = "zones.notify", .type = CONF_T_ADDR,
	  .flags = CONF_LIST | CONF_OPTIONAL,
	  CONF_LIST_FIELD(struct conf_zone, notify, notify_count),
	  .doc = "Secondaries (`ADDR` or `ADDR@PORT`, port 53 when not "
		 "written) sent a NOTIFY (RFC 1996) each time the zone "
		 "changes, again after `replication.notify-timeout` until "
		 "they answer." },
	{ .name = "zones.notify-key", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL, CONF_FIELD(struct conf_zone, notify_key),
	  .min = 1, .max = 255,
	  .doc = "The key NOTIFYs are signed with. Not set: unsigned." },
	{ .name = "zones.allow-transfer", .type = CONF_T_PREFIX,
	  .flags = CONF_LIST | CONF_OPTIONAL,
	  CONF_LIST_FIELD(struct conf_zone, allow_transfer,
			  allow_transfer_count),
	  .doc = "Prefixes (`ADDR/LEN`) whose hosts may transfer the zone "
		 "(AXFR, IXFR). Not set: nobody may; others are REFUSED." },
	{ .name = "zones.transfer-key", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL, CONF_FIELD(struct conf_zone, transfer_key),
	  .min = 1, .max = 255,
	  .doc = "Transfers must also be signed with this key; an unsigned "
		 "or badly signed request is answered NOTAUTH with the TSIG "
		 "error." },
	{ .name = "zones.serial-policy", .type = CONF_T_ENUM,
	  CONF_FIELD(struct conf_zone, serial_policy),
	  .def = "increment", .names = serial_policy_names,
	  .doc = "What a zone of our own gets as serial when its file "
		 "changed but its serial is not newer: `increment` (the old "
		 "serial + 1), `unixtime` (the time in seconds), "
		 "`dateserial` (YYYYMMDDnn), each at least the old + 1; or "
		 "`keep`: such a file is refused and the old version keeps "
		 "serving." },
	{ .name = "zones.journal-max-size", .type = CONF_T_SIZE,
	  CONF_FIELD(struct conf_zone, journal_max_size),
	  .def = "16M", .min = 0, .max = (int64_t)1 << 40,
	  .doc = "The zone's journal of changes (in `replication.storage`), "
		 "which IXFR is served from: past this size its oldest "
		 "changes are dropped. 0: no journal (transfers are AXFR)." },
	{ .name = "zones.transfer-max-size", .type = CONF_T_SIZE,
	  CONF_FIELD(struct conf_zone, transfer_max_size),
	  .def = "0", .min = 0, .max = (int64_t)1 << 40,
	  .doc = "A secondary refuses a transfer larger than this (the old "
		 "version keeps serving). 0: no limit." },
	{ .name = "zones.ixfr-condense-after", .type = CONF_T_INT,
	  CONF_FIELD(struct conf_zone, ixfr_condense_after),
	  .def = "100", .min = 0, .max = 1000000,
	  .doc = "An IXFR spanning more changes than this is sent as one "
		 "condensed difference. 0: never." },
	{ .name = "zones.refresh-min", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_zone, refresh_min_ms),
	  .def = "2s", .min = 100, .max = 86400 * 1000,
	  .doc = "A secondary asks its primary for the SOA every SOA refresh "
		 "seconds (retry after a failure), but never more often than "
		 "this ..." },
	{ .name = "zones.refresh-max", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_zone, refresh_max_ms),
	  .def = "1d", .min = 100, .max = 7 * 86400 * 1000,
	  .doc = "... nor less often than this: SOA timers of a primary "
		 "set for another scale stay sane." },

	{ .name = "replication", .type = CONF_T_SECTION,
	  .finish = conf_finish_replication,
	  .doc = "What zone replication shares: where journals and stored "
		 "copies live, TSIG keys, NOTIFY and transfer timing "
		 "(docs/replication.md)." },
	{ .name = "replication.storage", .type = CONF_T_PATH,
	  CONF_FIELD(struct conf, replication.storage),
	  .def = "/var/lib/anydns",
	  .doc = "The directory of zone journals (NAME.journal) and of the "
		 "stored copies of secondary zones; created when missing." },
	{ .name = "replication.keys", .type = CONF_T_RECORDS,
	  .finish = conf_finish_key,
	  CONF_LIST_FIELD(struct conf, replication.keys,
			  replication.keys_count),
	  .key = "name", .item = "key",
	  .doc = "TSIG keys (RFC 8945) written here." },
	{ .name = "replication.keys.name", .type = CONF_T_STR,
	  .flags = CONF_REQUIRED, CONF_FIELD(struct conf_key, name),
	  .min = 1, .max = 255,
	  .doc = "The key's name, a domain name both ends know it by." },
	{ .name = "replication.keys.algorithm", .type = CONF_T_ENUM,
	  CONF_FIELD(struct conf_key, algorithm),
	  .def = "hmac-sha256", .names = tsig_alg_names,
	  .doc = "The HMAC algorithm of the key (RFC 8945 §6)." },
	{ .name = "replication.keys.secret", .type = CONF_T_STR,
	  .flags = CONF_REQUIRED, CONF_FIELD(struct conf_key, secret),
	  .min = 4, .max = 4096,
	  .doc = "The secret in Base64, as `tsig-keygen` prints it." },
	{ .name = "replication.key-files", .type = CONF_T_PATH,
	  .flags = CONF_LIST | CONF_OPTIONAL,
	  CONF_LIST_FIELD(struct conf, replication.key_files,
			  replication.key_files_count),
	  .doc = "Files of BIND `key` statements, as `tsig-keygen` writes "
		 "them; their keys join `keys`." },
	{ .name = "replication.notify-timeout", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, replication.notify_timeout_ms),
	  .def = "1s", .min = 10, .max = 600 * 1000,
	  .doc = "How long a NOTIFY waits for its answer before it is sent "
		 "again." },
	{ .name = "replication.notify-retries", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, replication.notify_retries),
	  .def = "5", .min = 0, .max = 100,
	  .doc = "How many times an unanswered NOTIFY is sent again." },
	{ .name = "replication.transfer-timeout", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, replication.transfer_timeout_ms),
	  .def = "10s", .min = 100, .max = 3600 * 1000,
	  .doc = "A pull from a primary fails when one step (connecting, "
		 "an answer, the next message of a transfer) takes longer." },

	{ .name = "bgp", .type = CONF_T_SECTION, .finish = finish_bgp,
	  .doc = "The BGP speaker that announces the anycast networks to the "
		 "upstream routers (docs/bgp.md). Without `local-as` there "
		 "is no speaker: networks still get their addresses and "
		 "their zones, and nothing is announced." },
	{ .name = "bgp.local-as", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, bgp.local_as),
	  .def = "0", .min = 0, .max = 4294967295,
	  .doc = "Our AS number (4-octet ASNs, RFC 6793, are fine). 0 turns "
		 "BGP off." },
	{ .name = "bgp.router-id", .type = CONF_T_ADDR, .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf, bgp.router_id),
	  .validate = check_router_id,
	  .doc = "The BGP identifier, written as an IPv4 address (RFC 4271 "
		 "§4.2); unique among the routers a peer talks to. Required "
		 "when `local-as` is set." },
	{ .name = "bgp.listen", .type = CONF_T_ADDR, .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf, bgp.listen),
	  .doc = "`ADDR` or `ADDR@PORT` (port 179 when not written) where "
		 "connections from configured peers are accepted. Not set: "
		 "the speaker only connects out, so no peer may be "
		 "`passive`." },
	{ .name = "bgp.drain-on-stop", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, bgp.drain_on_stop_ms),
	  .def = "5s", .min = 0, .max = 3600 * 1000,
	  .doc = "On SIGTERM every announced network is first drained for "
		 "this long (announced with the GRACEFUL_SHUTDOWN community, "
		 "RFC 8326, while DNS is still answered), then withdrawn, "
		 "and only then does the daemon stop. 0 withdraws at once." },
	{ .name = "bgp.withdraw-grace", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, bgp.withdraw_grace_ms),
	  .def = "500ms", .min = 0, .max = 60 * 1000,
	  .doc = "How long an anycast address stays on its interface after "
		 "the withdrawal of its route left for every peer, so the "
		 "routers have moved traffic away before the address (and "
		 "with it the answers) goes." },
	{ .name = "bgp.peers", .type = CONF_T_RECORDS, .finish = finish_peer,
	  CONF_LIST_FIELD(struct conf, bgp.peers, bgp.peers_count),
	  .key = "name", .item = "peer",
	  .doc = "The upstream routers: every announced network goes to "
		 "each of them. A name may appear once." },
	{ .name = "bgp.peers.name", .type = CONF_T_STR, .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_bgp_peer, name),
	  .min = 1, .max = 63, .validate = check_word,
	  .doc = "The peer's name in logs, metrics and `anydnsc bgp`: "
		 "letters, digits, `-`, `_` and `.`." },
	{ .name = "bgp.peers.address", .type = CONF_T_ADDR,
	  .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_bgp_peer, address),
	  .validate = check_no_port,
	  .doc = "The peer's IPv4 or IPv6 address, without a port." },
	{ .name = "bgp.peers.remote-as", .type = CONF_T_INT,
	  .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_bgp_peer, remote_as),
	  .min = 1, .max = 4294967295,
	  .doc = "The peer's AS number; the same as `local-as` makes an "
		 "internal (iBGP) session." },
	{ .name = "bgp.peers.port", .type = CONF_T_INT,
	  CONF_FIELD(struct conf_bgp_peer, port),
	  .def = "179", .min = 1, .max = 65535,
	  .doc = "The TCP port the peer listens on." },
	{ .name = "bgp.peers.passive", .type = CONF_T_BOOL,
	  CONF_FIELD(struct conf_bgp_peer, passive),
	  .def = "false",
	  .doc = "Only accept the peer's connection (on `bgp.listen`), "
		 "never connect to it." },
	{ .name = "bgp.peers.hold-time", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_bgp_peer, hold_time_ms),
	  .def = "90s", .min = 0, .max = 65535 * 1000,
	  .validate = check_hold_time,
	  .doc = "The Hold Time we propose (RFC 4271 §4.2), in whole "
		 "seconds: 0 (no keepalives) or at least 3s. The session "
		 "uses the smaller of ours and the peer's." },
	{ .name = "bgp.peers.connect-retry", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_bgp_peer, connect_retry_ms),
	  .def = "5s", .min = 1000, .max = 3600 * 1000,
	  .validate = check_seconds,
	  .doc = "The first ConnectRetry delay (RFC 4271 §8), in whole "
		 "seconds; it backs off after repeated failures." },
	{ .name = "bgp.peers.md5-password", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_bgp_peer, md5_password),
	  .min = 1, .max = 79,
	  .doc = "The TCP MD5 signature key shared with the peer (RFC 2385). "
		 "Not set: no signature." },
	{ .name = "bgp.peers.source-address", .type = CONF_T_ADDR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_bgp_peer, source_address),
	  .validate = check_no_port,
	  .doc = "The local address the session's connection comes from; "
		 "also the next hop of the routes sent. Not set: the "
		 "kernel's choice." },
	{ .name = "bgp.peers.ipv4", .type = CONF_T_BOOL,
	  CONF_FIELD(struct conf_bgp_peer, ipv4),
	  .def = "true",
	  .doc = "Negotiate IPv4 unicast (RFC 4760) and announce the IPv4 "
		 "prefixes to this peer." },
	{ .name = "bgp.peers.ipv6", .type = CONF_T_BOOL,
	  CONF_FIELD(struct conf_bgp_peer, ipv6),
	  .def = "true",
	  .doc = "Negotiate IPv6 unicast (RFC 4760) and announce the IPv6 "
		 "prefixes to this peer." },
	{ .name = "bgp.peers.next-hop-v4", .type = CONF_T_ADDR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_bgp_peer, next_hop_v4),
	  .validate = check_v4_host,
	  .doc = "The NEXT_HOP of IPv4 routes sent to this peer. Not set: "
		 "the session's local address, so a session over IPv6 sends "
		 "no IPv4 routes unless this is set." },
	{ .name = "bgp.peers.next-hop-v6", .type = CONF_T_ADDR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_bgp_peer, next_hop_v6),
	  .validate = check_v6_host,
	  .doc = "The next hop of IPv6 routes sent to this peer (RFC 4760 "
		 "MP_REACH_NLRI). Not set: the session's local address, so "
		 "a session over IPv4 sends no IPv6 routes unless this is "
		 "set." },

	{ .name = "health", .type = CONF_T_SECTION, .finish = finish_health,
	  .doc = "The defaults of every health check of the networks: how "
		 "often a check runs, how long it may take, and how many "
		 "results in a row change its state. The defaults withdraw "
		 "a network whose DNS service stops within about 250ms "
		 "(two failed probes)." },
	{ .name = "health.interval", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, health.interval_ms),
	  .def = "100ms", .min = 10, .max = 60 * 1000,
	  .doc = "How often each DNS probe and zones check runs." },
	{ .name = "health.timeout", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, health.timeout_ms),
	  .def = "50ms", .min = 1, .max = 60 * 1000,
	  .doc = "How long a DNS probe waits for its answer before it "
		 "counts as failed. The probe asks the daemon itself over "
		 "the host's own addresses, which answers in well under a "
		 "millisecond; at most `health.interval`." },
	{ .name = "health.rise", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, health.rise),
	  .def = "3", .min = 1, .max = 1000,
	  .doc = "Passes in a row that bring a check up." },
	{ .name = "health.fall", .type = CONF_T_INT,
	  CONF_FIELD(struct conf, health.fall),
	  .def = "2", .min = 1, .max = 1000,
	  .doc = "Failures in a row that bring a check down." },
	{ .name = "health.hold-down", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf, health.hold_down_ms),
	  .def = "5s", .min = 0, .max = 3600 * 1000,
	  .doc = "The least time a check stays down once it went down, "
		 "however well it passes meanwhile, so a flapping check "
		 "cannot flap the route. Going down is never delayed." },

	{ .name = "networks", .type = CONF_T_RECORDS, .finish = finish_network,
	  CONF_LIST_FIELD(struct conf, networks, networks_count),
	  .key = "name", .item = "network",
	  .doc = "The anycast networks of this PoP: prefixes announced and "
		 "withdrawn together, with the zones they serve and the "
		 "health checks that decide (docs/bgp.md). Each prefix's "
		 "address is put on the network's interface. A query sent to "
		 "a network's address for a zone the network does not serve "
		 "is REFUSED; addresses outside every network serve every "
		 "zone." },
	{ .name = "networks.name", .type = CONF_T_STR, .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_network, name),
	  .min = 1, .max = 63, .validate = check_word,
	  .doc = "The network's name in logs, metrics and `anydnsc drain "
		 "NAME`: letters, digits, `-`, `_` and `.`." },
	{ .name = "networks.prefixes", .type = CONF_T_PREFIX,
	  .flags = CONF_LIST | CONF_REQUIRED,
	  CONF_LIST_FIELD(struct conf_network, prefixes, prefixes_count),
	  .doc = "The prefixes announced, `ADDR/LEN`, IPv4 or IPv6: "
		 "`192.0.2.1/32`, `2001:db8::53/128`. The route is the prefix; "
		 "`ADDR` as written is put on the interface with that length "
		 "(`192.0.2.53/24` announces 192.0.2.0/24 and adds "
		 "192.0.2.53/24). An address may be in one network only." },
	{ .name = "networks.zones", .type = CONF_T_NAME,
	  .flags = CONF_LIST | CONF_OPTIONAL,
	  CONF_LIST_FIELD(struct conf_network, zones, zones_count),
	  .doc = "The zones this network serves, each one of `zones`. Not "
		 "set: every configured zone." },
	{ .name = "networks.interface", .type = CONF_T_STR,
	  CONF_FIELD(struct conf_network, interface),
	  .def = "lo", .min = 1, .max = 15, .validate = check_ifname,
	  .doc = "The interface the network's addresses are put on: `lo` "
		 "or a dummy interface. An address that was there before "
		 "the daemon started is left there when it stops." },
	{ .name = "networks.prepend", .type = CONF_T_INT,
	  CONF_FIELD(struct conf_network, prepend),
	  .def = "0", .min = 0, .max = 15,
	  .doc = "Extra copies of our AS in the AS_PATH of the network's "
		 "routes, to make this PoP less preferred." },
	{ .name = "networks.communities", .type = CONF_T_COMMUNITY,
	  .flags = CONF_LIST, .def = "",
	  CONF_LIST_FIELD(struct conf_network, communities, communities_count),
	  .doc = "Communities sent with the network's routes (RFC 1997), "
		 "`AS:VALUE`; at most 15." },
	{ .name = "networks.large-communities", .type = CONF_T_LCOMMUNITY,
	  .flags = CONF_LIST, .def = "",
	  CONF_LIST_FIELD(struct conf_network, large_communities,
			  large_communities_count),
	  .doc = "Large communities sent with the network's routes "
		 "(RFC 8092), `GLOBAL:LOCAL1:LOCAL2`; at most 8." },
	{ .name = "networks.drain-time", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_network, drain_time_ms),
	  .def = "5s", .min = 0, .max = 3600 * 1000,
	  .doc = "How long `anydnsc drain` keeps the network announced with "
		 "the GRACEFUL_SHUTDOWN community (65535:0, RFC 8326) before "
		 "it withdraws it; DNS is answered all along." },
	{ .name = "networks.checks", .type = CONF_T_SECTION,
	  .doc = "The health checks of the network. It is announced while "
		 "every one of them is up (and withdrawn when one is down); "
		 "timing comes from `health`." },
	{ .name = "networks.checks.zones", .type = CONF_T_BOOL,
	  CONF_FIELD(struct conf_network, checks.zones),
	  .def = "true",
	  .doc = "Check that every zone of the network is loaded and not "
		 "expired." },
	{ .name = "networks.checks.zones-max-lag", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_network, checks.zones_max_lag_ms),
	  .def = "0", .min = 0, .max = 7 * 86400 * 1000,
	  .doc = "With `zones`: the check also fails while a secondary zone "
		 "of the network lags its primary for longer than this: the "
		 "primary has a newer serial (from a NOTIFY or a SOA check) "
		 "that did not arrive here, or, after a restart, the stored "
		 "copy was last confirmed current longer ago and the primary "
		 "has not been reached yet. 0: lag is not checked." },
	{ .name = "networks.checks.command", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_network, checks.command),
	  .min = 1, .max = 4096,
	  .doc = "A command run with `/bin/sh -c` as a check: exit status 0 "
		 "passes, anything else (or running out of time, which "
		 "kills it) fails. Not set: no command." },
	{ .name = "networks.checks.command-interval", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_network, checks.command_interval_ms),
	  .def = "1s", .min = 100, .max = 3600 * 1000,
	  .doc = "How often the command runs." },
	{ .name = "networks.checks.command-timeout", .type = CONF_T_DURATION,
	  CONF_FIELD(struct conf_network, checks.command_timeout_ms),
	  .def = "1s", .min = 10, .max = 3600 * 1000,
	  .doc = "How long the command may run before it is killed and the "
		 "check counts as failed; at most `command-interval`." },
	{ .name = "networks.checks.dns", .type = CONF_T_SECTION,
	  .doc = "The DNS probe: a query over UDP to each of the network's "
		 "addresses, at the port the daemon serves it on." },
	{ .name = "networks.checks.dns.enabled", .type = CONF_T_BOOL,
	  CONF_FIELD(struct conf_network, checks.dns.enabled),
	  .def = "true",
	  .doc = "Whether the network has a DNS probe." },
	{ .name = "networks.checks.dns.name", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_network, checks.dns.name),
	  .min = 1, .max = DNS_NAME_STRLEN, .validate = check_probe_name,
	  .doc = "The name asked for. Not set: the apex of the network's "
		 "first zone (of the first configured zone when the network "
		 "lists none)." },
	{ .name = "networks.checks.dns.type", .type = CONF_T_RRTYPE,
	  CONF_FIELD(struct conf_network, checks.dns.type),
	  .def = "SOA", .validate = check_probe_type,
	  .doc = "The RR type asked for, as a mnemonic or `TYPEnnn`." },
	{ .name = "networks.checks.dns.expect-rcode", .type = CONF_T_ENUM,
	  CONF_FIELD(struct conf_network, checks.dns.expect_rcode),
	  .def = "NOERROR", .names = rcode_names,
	  .doc = "The RCODE the answer must have to pass." },
	{ .name = "networks.checks.dns.expect-rdata", .type = CONF_T_STR,
	  .flags = CONF_OPTIONAL,
	  CONF_FIELD(struct conf_network, checks.dns.expect_rdata),
	  .min = 1, .max = 1024,
	  .doc = "When set, the answer section must hold a record of the "
		 "name and type asked whose RDATA, in presentation form, is "
		 "this text (`192.0.2.80`, `\"text\"` for TXT; names "
		 "absolute, compared without regard to case; RFC 3597 "
		 "`\\# LEN HEX` for other types)." },
};

const size_t conf_rows_count = sizeof(conf_rows) / sizeof(conf_rows[0]);

/* ---- what the answer layer needs ------------------------------------------ */

static const char *or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

void conf_answer_values(const struct conf *conf, struct conf_answer_values *out)
{
	memset(out, 0, sizeof(*out));
	out->identity = or_null(conf->server.identity);
	out->version = or_null(conf->server.version);
	if (or_null(conf->server.nsid) != NULL) {
		out->nsid = (const uint8_t *)conf->server.nsid;
		out->nsid_len = (uint16_t)strlen(conf->server.nsid);
	}
	out->udp_max_payload = conf->server.udp_max_payload;
	out->tcp_keepalive = (uint16_t)(conf->server.tcp_keepalive_ms / 100);
}
