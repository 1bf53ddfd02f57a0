/*
 * src/ctl — the control thread of anydnsd: one libuv loop that owns the
 * zone loader and every way an operator reaches the running daemon. SIGHUP
 * and `anydnsc reload` reload zones (src/zone's zone_reload(): unchanged
 * files are shared, a zone that fails keeps its old version); SIGTERM and
 * SIGINT stop it; a UNIX control socket speaks a one-line protocol; an
 * optional HTTP listener (libmicrohttpd, its own thread) serves Prometheus
 * text on /metrics. The DNS workers of src/server never wait for any of
 * this: they read the zone snapshot under RCU and count in their own
 * counters, which are summed on read.
 *
 * Control protocol (docs/operations.md): the client connects, sends one
 * line `status`, `zones`, `stats`, `reload [ZONE]`, `bgp`, `networks`,
 * `drain [NETWORK]` or `undrain [NETWORK]`; the daemon answers a first
 * line `ok` or `error: message`, then a body, and closes.
 *
 * Also here: the process-level OS specifics of the daemon (privileges,
 * descriptor limit, PID file), so main() stays a list of steps.
 */
#ifndef ANYDNS_CTL_CTL_H
#define ANYDNS_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "bgp/bgp.h"
#include "conf/conf.h"
#include "health/health.h"
#include "pop/pop.h"
#include "server/server.h"
#include "zone/zone.h"

/* ---- The request line -------------------------------------------------- */

/* The longest request line read, its newline included. */
#define CTL_REQUEST_MAX 1100

enum ctl_command {
	CTL_STATUS = 0,
	CTL_ZONES,
	CTL_STATS,
	CTL_RELOAD,
	CTL_BGP,		/* sessions and what is announced to whom, why */
	CTL_NETWORKS,		/* each anycast network and its checks */
	CTL_DRAIN,		/* `drain [NETWORK]` */
	CTL_UNDRAIN,		/* `undrain [NETWORK]` */
};

/* The longest network name (letters, digits, '-', '_', '.'). */
#define CTL_NETWORK_MAX 63

struct ctl_request {
	enum ctl_command command;
	bool has_zone;			/* `reload ZONE` */
	uint8_t zone[DNS_NAME_MAXLEN];	/* wire form, as written */
	bool has_network;		/* `drain NETWORK`, `undrain NETWORK` */
	char network[CTL_NETWORK_MAX + 1];
};

/*
 * Parses one request: a command word and, for reload only, an optional
 * zone name (final dot optional), for drain and undrain an optional
 * network name, separated by spaces or tabs. The line may
 * end in "\n" or "\r\n"; anything after the first newline is an error, and
 * so is any other control character or non-ASCII octet. Returns 0 and
 * fills *req, or ANYDNS_ESYNTAX with a one-line reason in err (which the
 * daemon sends back as "error: reason").
 */
int ctl_request_parse(const void *line, size_t len, struct ctl_request *req,
		      char *err, size_t errlen);

/* ---- What replies and metrics show ---------------------------------------
 * One consistent view of the daemon, assembled by the control thread (or by
 * the HTTP thread under the control thread's lock) and turned into text by
 * the writers below, which do no I/O but to f and hold no state.
 */
/* The anycast side as `bgp`, `networks` and the metrics show it: copies
 * taken on the control thread, all at one moment. */
struct ctl_anycast_view {
	uint32_t local_as;		/* 0: no BGP speaker */
	struct in_addr router_id;
	uint64_t now_ms;		/* monotonic ms (uv_hrtime) of the copy */
	bool stopping;			/* draining before the daemon stops */
	const struct bgp_peer_status *peers;
	const bool (*peer_families)[2];	/* per peer: sends IPv4, IPv6 */
	size_t peer_count;
	const struct pop_network_status *networks;
	size_t network_count;
	const struct health_status *checks;	/* every network's, in order */
	const size_t *check_network;	/* the network of each check */
	size_t check_count;
};

/* How one configured zone replicates, as `zones` and the metrics show it
 * (a copy taken on the control thread). */
struct ctl_zone_repl {
	bool secondary;			/* pulled from primaries */
	bool primary_serial_known;	/* from a NOTIFY or a SOA answer */
	uint32_t primary_serial;
	double lag;			/* seconds behind the primary */
	time_t last_transfer;		/* wall clock; 0: none since start */
	time_t last_check;		/* last answer from a primary; 0 */
	bool last_ok;			/* the last pull's outcome */
	char last_result[160];		/* "IXFR 3 -> 5 from ..." or the error */
	uint64_t transfers;		/* transfers into this zone */
	uint64_t failures;		/* pulls that failed */
	bool expired;			/* answered SERVFAIL */
	uint64_t notifies_sent;		/* NOTIFYs sent (primary side) */
	uint64_t notifies_unanswered;	/* given up after every retry */
	uint64_t journal_size;		/* octets; 0: no journal */
};

struct ctl_view {
	const char *version;		/* ANYDNS_VERSION */
	time_t started;			/* wall clock at start */
	double uptime;			/* seconds, monotonic */
	unsigned workers;
	const struct conf_addr *listen;
	size_t listen_count;
	const struct server_stats *stats;	/* NULL: no server yet */
	/* One entry per configured zone, in configuration order, as the last
	 * load or reload left it. */
	const struct zone_reload_status *zones;
	size_t zone_count;
	/* nzones entries beside zones, or NULL. */
	const struct ctl_zone_repl *repl;
	uint64_t reloads;		/* reloads run, the start-up load too */
	uint64_t load_failures;		/* zone loads that failed */
	/* NULL: neither anycast networks nor BGP are configured. */
	const struct ctl_anycast_view *anycast;
};

/* status body: `key: value` lines (version, uptime, workers, listen, zones). */
void ctl_write_status(FILE *f, const struct ctl_view *v);

/* One line per zone: `NAME serial=N state=S loaded=TIME file=PATH`, then
 * ` error=TEXT` when the last load failed; for a secondary zone also
 * ` role=secondary primary-serial=N lag=SECONDS last-transfer=TIME
 * result=TEXT`; `-` for what is not known. */
void ctl_write_zones(FILE *f, const struct ctl_view *v);

/* The server's counters (server_stats_format()) and one
 * `anydns_zone_serial{zone="NAME"} N` line per zone served. */
void ctl_write_stats(FILE *f, const struct ctl_view *v);

/* Prometheus text exposition format 0.0.4 with HELP and TYPE lines; every
 * metric is listed in docs/operations.md. */
void ctl_write_metrics(FILE *f, const struct ctl_view *v);

/* bgp body: `local-as`, `router-id`, one `peer NAME: key=value...` line
 * per peer (state, how long, counters, last error), then one `route
 * PREFIX: ...` line per route announced (its network, attributes, the
 * peers it goes to and why) and one `withdrawn PREFIX: ...` line per route
 * of a network not announced, with why. */
void ctl_write_bgp(FILE *f, const struct ctl_view *v);

/* networks body: per network a `network NAME: key=value...` line, then
 * indented `address`, `route` and `check` lines. */
void ctl_write_networks(FILE *f, const struct ctl_view *v);

/* ---- The control thread ------------------------------------------------- */
struct ctl;

/*
 * Sets up the loop and its signal handlers (SIGHUP, SIGTERM, SIGINT; SIGPIPE
 * is ignored), for the zones of conf published through snap. Nothing is
 * loaded or bound yet. conf and snap are not owned and must outlive ctl.
 * Returns 0 with *out owned by the caller (ctl_free()), ANYDNS_ENOMEM, or a
 * libuv failure as ANYDNS_EIO (logged).
 */
int ctl_new(const struct conf *conf, struct zone_snapshot *snap,
	    struct ctl **out);

/*
 * Loads every configured zone and publishes the set: the start-up load.
 * A zone that fails is logged with its "file:line: message" and not served;
 * that is not an error here. Returns 0 or ANYDNS_ENOMEM.
 */
int ctl_load_zones(struct ctl *ctl);

/*
 * The anycast side of conf, before server_start() (it needs the
 * privileges the daemon starts with): the BGP speaker with its peers and
 * its listener (bound now), and the PoP with every network's health checks
 * (not started); every network's addresses are put on their interfaces.
 * Nothing when conf has neither networks nor BGP. Errors are logged:
 * ANYDNS_EINVAL, ANYDNS_ENOMEM, or what bgp_speaker_listen() or
 * pop_addresses_ensure() returned.
 */
int ctl_anycast_setup(struct ctl *ctl);

/*
 * What server_conf.views needs for the networks that serve some of the
 * zones: one entry per address of such a network, with the number of its
 * view in the published zone sets. *out (NULL when *n is 0) is the
 * caller's to free once the server started. ANYDNS_ENOMEM.
 */
int ctl_server_views(const struct ctl *ctl, struct server_view_addr **out,
		     size_t *n);

/*
 * Once the DNS workers answer and the zones are loaded: starts the BGP
 * sessions and the health checks; each network is announced as soon as
 * its checks are up. SIGTERM then drains every network for
 * bgp.drain-on-stop, withdraws it and removes its addresses before
 * ctl_run() returns. Nothing when there is no anycast side.
 */
int ctl_anycast_start(struct ctl *ctl);

/*
 * What the DNS workers need for transfers and NOTIFY: sc->xfr (the access
 * policy of every zone, owned by ctl) and sc->on_notify with its arg (a
 * NOTIFY accepted by a worker reaches the control thread, which pulls the
 * zone). Call after ctl_load_zones().
 */
void ctl_server_replication(struct ctl *ctl, struct server_conf *sc);

/* The server whose counters and workers the control thread and the HTTP
 * listener report (until then they report none); not owned, and it must
 * run until ctl_free(). */
void ctl_set_server(struct ctl *ctl, struct server *srv);

/*
 * Creates the control socket (conf control.socket: a stale socket file is
 * replaced, a missing parent directory created, mode 0660) and, when conf
 * http.listen is set, starts the HTTP listener. Requests wait until
 * ctl_run(); /metrics is served at once. Called before privileges are
 * dropped, so both may use privileged paths and ports; uid and gid,
 * unless (uid_t)-1 and (gid_t)-1, become the owner of the socket and of a
 * directory created for it, so the daemon can still remove them later.
 * Errors (logged, naming the path or address): ANYDNS_EEXIST (the path is
 * not a socket, or another daemon answers on it), ANYDNS_ENOMEM, ANYDNS_EIO
 * (the HTTP listener did not start), or a system error as -errno.
 */
int ctl_listen(struct ctl *ctl, uid_t uid, gid_t gid);

/*
 * Runs the loop until SIGTERM or SIGINT: then drains and withdraws the
 * anycast networks (the control socket still answers meanwhile), stops
 * the BGP sessions, stops accepting (closes the control socket and its
 * file, stops the HTTP listener), closes client connections and returns
 * 0. The caller then stops the server.
 */
int ctl_run(struct ctl *ctl);

/* Stops accepting if ctl_run() did not, and frees everything ctl owns (not
 * the server, snapshot or conf); SIGHUP, SIGTERM and SIGINT are ignored from
 * then on, so the rest of the shutdown is not cut short. NULL is fine. */
void ctl_free(struct ctl *ctl);

/* ---- Process ------------------------------------------------------------ */

/* Raises the soft RLIMIT_NOFILE to the hard limit (logged when it fails). */
void ctl_raise_nofile(void);

/* The uid and primary gid of user. Returns 0, ANYDNS_ENOENT (no such user,
 * logged) or a system error. */
int ctl_user_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Switches the whole process (every thread) to uid and gid with gid as the
 * only group, then checks root cannot be regained. With net_admin, the
 * process keeps CAP_NET_ADMIN (and nothing else), so the anycast addresses
 * can be taken off their interface at the stop. Nothing to do when the
 * process already runs as uid and gid. Errors (logged): a system error
 * (typically -EPERM when not started as root).
 */
int ctl_drop_privileges(const char *user, uid_t uid, gid_t gid,
			bool net_admin);

/* Writes the process ID and a newline to path (mode 0644). Returns 0 or a
 * system error (logged). */
int ctl_pidfile_write(const char *path);

#endif
