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
 * line `status`, `zones`, `stats`, `reload` or `reload ZONE`; the daemon
 * answers a first line `ok` or `error: message`, then a body, and closes.
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

#include "conf/conf.h"
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
};

struct ctl_request {
	enum ctl_command command;
	bool has_zone;			/* `reload ZONE` */
	uint8_t zone[DNS_NAME_MAXLEN];	/* wire form, as written */
};

/*
 * Parses one request: a command word and, for reload only, an optional
 * zone name (final dot optional), separated by spaces or tabs. The line may
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
	uint64_t reloads;		/* reloads run, the start-up load too */
	uint64_t load_failures;		/* zone loads that failed */
};

/* status body: `key: value` lines (version, uptime, workers, listen, zones). */
void ctl_write_status(FILE *f, const struct ctl_view *v);

/* One line per zone: `NAME serial=N state=S loaded=TIME file=PATH`, then
 * ` error=TEXT` when the last load failed; `-` for what is not known. */
void ctl_write_zones(FILE *f, const struct ctl_view *v);

/* The server's counters (server_stats_format()) and one
 * `anydns_zone_serial{zone="NAME"} N` line per zone served. */
void ctl_write_stats(FILE *f, const struct ctl_view *v);

/* Prometheus text exposition format 0.0.4 with HELP and TYPE lines; every
 * metric is listed in docs/operations.md. */
void ctl_write_metrics(FILE *f, const struct ctl_view *v);

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
 * Runs the loop until SIGTERM or SIGINT: then stops accepting (closes the
 * control socket and its file, stops the HTTP listener), closes client
 * connections and returns 0. The caller then stops the server.
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
 * only group, then checks root cannot be regained. Nothing to do when the
 * process already runs as uid and gid. Errors (logged): a system error
 * (typically -EPERM when not started as root).
 */
int ctl_drop_privileges(const char *user, uid_t uid, gid_t gid);

/* Writes the process ID and a newline to path (mode 0644). Returns 0 or a
 * system error (logged). */
int ctl_pidfile_write(const char *path);

#endif
