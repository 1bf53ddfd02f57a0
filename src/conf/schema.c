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

/* ---- the table ---------------------------------------------------------- */

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
	{ .name = "server.udp-max-payload", .type = CONF_T_SIZE,
	  CONF_FIELD(struct conf, server.udp_max_payload),
	  .def = "1232", .min = 512, .max = 4096,
	  .doc = "The largest UDP response sent to an EDNS client and the "
		 "payload size advertised in our OPT record (RFC 6891 §6.2.5). "
		 "The default of 1232 avoids IP fragmentation on almost every "
		 "path; larger answers set TC and the client retries over "
		 "TCP." },
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

	{ .name = "zones", .type = CONF_T_RECORDS,
	  CONF_LIST_FIELD(struct conf, zones, zones_count),
	  .key = "name", .item = "zone",
	  .doc = "The zones served from master files. A zone name may "
		 "appear once." },
	{ .name = "zones.name", .type = CONF_T_NAME, .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_zone, name),
	  .doc = "The zone's apex, an absolute domain name (a final dot is "
		 "optional): `example.com`." },
	{ .name = "zones.file", .type = CONF_T_PATH, .flags = CONF_REQUIRED,
	  CONF_FIELD(struct conf_zone, file),
	  .doc = "The zone's master file (RFC 1035 §5). A relative path is "
		 "taken from the directory of the configuration file." },
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
