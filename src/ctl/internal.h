/*
 * What the files of src/ctl share: the control thread's state and the
 * functions one file calls in another. Not part of the module's door
 * (ctl.h); nothing outside src/ctl includes it.
 *
 * Threads: everything in struct ctl belongs to the control thread (the
 * libuv loop), except what the HTTP thread reads under ctl->lock: status,
 * reloads and load_failures (the control thread writes them under the lock
 * too); srv, set once with an atomic store (the HTTP listener may start
 * before the server); conf, started and started_mono, which are set before
 * the HTTP thread starts and never change while it runs.
 */
#ifndef ANYDNS_CTL_INTERNAL_H
#define ANYDNS_CTL_INTERNAL_H

#include <pthread.h>
#include <uv.h>

#include "ctl/ctl.h"

/* Control clients served at once; more are closed on arrival. */
#define CTL_MAX_CLIENTS 32
/* A client that has not sent its request line by then is closed. */
#define CTL_CLIENT_TIMEOUT_MS 10000

struct MHD_Daemon;
struct ctl_client;
struct ctl_anycast;
struct ctl_repl;

struct ctl_zone_check {
	struct ctl *ctl;
	uint32_t max_lag_ms;		/* 0: lag not checked */
};

struct ctl {
	const struct conf *conf;
	struct zone_snapshot *snap;
	struct server *srv;

	/* The configured zones (nzones, in conf order); sources are those
	 * read from their files (nsources: not the secondary zones), and
	 * source_zone[k] is source k's index among the configured zones. */
	size_t nzones;
	struct zone_source *sources;
	size_t nsources;
	size_t *source_zone;

	/* Replication (replication.c); NULL until ctl_repl_init(). */
	struct ctl_repl *repl;
	struct ctl_zone_repl *repl_status;	/* nzones entries; lock */

	/* The views of every published zone set: one per network that serves
	 * some of the zones (anycast.c builds them from conf). */
	struct zone_view_def *views;
	size_t nviews;
	const uint8_t **view_names;	/* the apexes the views point to */
	uint32_t *network_view;		/* per network: its view, or
					 * ZONE_VIEW_ALL */

	/* Per network: what its zones check needs. */
	struct ctl_zone_check *zone_checks;

	/* The BGP speaker and the PoP; NULL when neither is configured. */
	struct ctl_anycast *anycast;

	pthread_mutex_t lock;
	struct zone_reload_status *status;	/* nzones entries; lock */
	uint64_t reloads;			/* lock */
	uint64_t load_failures;			/* lock */

	time_t started;
	struct timespec started_mono;

	uv_loop_t loop;
	bool loop_ready;
	uv_signal_t sig_hup, sig_term, sig_int;
	bool stopping;

	/* The control socket. */
	uv_pipe_t listener;
	bool listening;
	struct ctl_client *clients;
	unsigned nclients;

	struct MHD_Daemon *http;
};

/*
 * Reloads the configured zones (only: NULL for all, or one apex) and
 * publishes the result; logs each zone's outcome. The status of the zones
 * reloaded is left in ctl->status. *failed gets the number of zones that
 * failed to load. Returns 0, ANYDNS_ENOENT (only is not configured) or
 * ANYDNS_ENOMEM; in both cases nothing changed.
 */
int ctl_reload(struct ctl *ctl, const uint8_t *only, size_t *failed);

/* Fills v from ctl; stats receives the server's counters (v->stats is set
 * to it when a server runs). Off the control thread: with ctl->lock held. */
void ctl_view_fill(struct ctl *ctl, struct ctl_view *v,
		   struct server_stats *stats);

/* ---- replication.c: primaries, secondaries, NOTIFY ---------------------- */

/* Keys, the transfer policy and each zone's replication state (ctl_new()).
 * Errors are logged: ANYDNS_ENOMEM, ANYDNS_ECONFIG (a key file that no
 * longer parses). */
int ctl_repl_init(struct ctl *ctl);

/*
 * Turns the set zone_reload() built from the zone files (*next, not
 * published) into the set to publish: a zone of our own that changed gets
 * its serial under its serial policy (or is refused, keeping its old
 * version: *st_own then says so), its difference journaled and its
 * history; the secondary zones are carried over from cur (at the start:
 * their stored copies, or a SERVFAIL placeholder). st_own: nsources
 * entries, one per source. Returns 0 with *next replaced, or
 * ANYDNS_ENOMEM with *next freed.
 */
int ctl_repl_prepare(struct ctl *ctl, const struct zone_set *cur,
		     struct zone_set **next, struct zone_reload_status *st_own);

/* After a set was published: NOTIFY the secondaries of every zone whose
 * serial they have not been told, and start the secondaries' first pulls. */
void ctl_repl_published(struct ctl *ctl);

/* `reload ZONE` for a secondary zone: asks its primary now. False when
 * apex names no secondary zone. */
bool ctl_repl_refresh(struct ctl *ctl, const uint8_t *apex);

/* Whether configured zone i is a secondary. */
bool ctl_repl_is_secondary(const struct ctl *ctl, size_t i);

/* Seconds configured zone i lags its primary (0 for our own zones). On the
 * loop, or under ctl->lock. */
double ctl_repl_lag(const struct ctl *ctl, size_t i);

/* At the stop: no more pulls, NOTIFYs or timers; nothing of replication
 * keeps the loop running but the pulls and stores under way. */
void ctl_repl_quiet(struct ctl *ctl);

/* Waits for the transfers and stored copies under way (running the loop
 * for them), then closes every handle of replication: the caller runs the
 * loop until they are closed, then calls ctl_repl_free(). */
void ctl_repl_close(struct ctl *ctl);

/* Frees what replication holds, once its handles are closed. NULL-safe. */
void ctl_repl_free(struct ctl *ctl);

/* ---- anycast.c: the BGP speaker, the PoP and their status -------------- */

/* Builds ctl->views from the configuration (ctl_new()). ANYDNS_ENOMEM. */
int ctl_views_init(struct ctl *ctl);
void ctl_views_free(struct ctl *ctl);

/* The zones health check's question, on the loop: every zone named (all
 * configured ones when n is 0) is served and, for a network with
 * checks.zones-max-lag, does not lag its primary longer. arg: the
 * network's struct ctl_zone_check. */
bool ctl_zones_ok(void *arg, const uint8_t *const *apexes, size_t n,
		  char *why, size_t whylen);

/* Copies the anycast status into the view the HTTP thread reads (under
 * ctl->lock). On the loop; nothing without an anycast side. */
void ctl_anycast_refresh(struct ctl *ctl);

/* The copy for a ctl_view (with ctl->lock held off the loop), or NULL. */
const struct ctl_anycast_view *ctl_anycast_view(const struct ctl *ctl);

/* SIGTERM: drains and withdraws the networks, stops the speaker, then
 * calls done(ctl) on the loop (at once without an anycast side). */
void ctl_anycast_stop(struct ctl *ctl, void (*done)(struct ctl *ctl));

/* drain or undrain (network NULL: all); writes the reply's first line and
 * body. */
void ctl_anycast_drain(struct ctl *ctl, bool drain, const char *network,
		       FILE *f);

/* Finishes what ctl_anycast_stop() did not (start-up failures) and frees
 * the anycast side; runs the loop to close its handles. */
void ctl_anycast_free(struct ctl *ctl);

/* routing.c: the anycast metrics (networks, checks, BGP sessions). */
void ctl_write_anycast_metrics(FILE *f, const struct ctl_anycast_view *a);

/* reply.c: ADDR@PORT, as the configuration writes it. */
void ctl_addr_text(const struct conf_addr *a, char *buf, size_t len);

/* metrics.c: a Prometheus label value with \\, " and newline escaped. */
void ctl_write_label(FILE *f, const char *value);

/* socket.c: the control socket and its clients. */
int ctl_socket_open(struct ctl *ctl, uid_t uid, gid_t gid);
void ctl_socket_close(struct ctl *ctl);

/* request handling, shared by the socket: writes the whole reply to f. */
void ctl_handle_request(struct ctl *ctl, const char *line, size_t len,
			FILE *f);

/* http.c: the /metrics listener. */
int ctl_http_start(struct ctl *ctl);
void ctl_http_stop(struct ctl *ctl);

#endif
