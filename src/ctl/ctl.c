/*
 * The control thread: its libuv loop, the signals it answers (SIGHUP
 * reloads zones; SIGTERM and SIGINT drain the anycast networks, then
 * stop), the zone loader that builds each new zone set with the views of
 * the networks that serve some zones and publishes it with one pointer
 * swap (zone_snapshot_publish(): RCU, the old set is freed after a grace
 * period, so workers never wait), and the dispatch of control requests. Everything here runs
 * on the loop's thread; the HTTP thread only reads what ctl->lock guards.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/internal.h"
#include "lib/log.h"

/* ---- zones -------------------------------------------------------------- */

static bool failed_state(enum zone_reload_state s)
{
	return s == ZONE_RELOAD_FAILED_KEPT || s == ZONE_RELOAD_FAILED_ABSENT;
}

static void log_zone(const struct zone_reload_status *z)
{
	char name[DNS_NAME_STRLEN];
	dns_name_to_str(name, z->name);
	switch (z->state) {
	case ZONE_RELOAD_LOADED:
		log_info("zone %s: serial %u loaded from %s", name, z->serial,
			 z->file);
		break;
	case ZONE_RELOAD_UNCHANGED:
		log_debug("zone %s: %s unchanged, serial %u", name, z->file,
			  z->serial);
		break;
	case ZONE_RELOAD_FAILED_KEPT:
		log_warn("zone %s: not reloaded, serial %u keeps serving: %s",
			 name, z->serial, z->error);
		break;
	case ZONE_RELOAD_FAILED_ABSENT:
		log_err("zone %s: not loaded, not served: %s", name, z->error);
		break;
	case ZONE_RELOAD_SKIPPED:
		break;
	}
}

int ctl_reload(struct ctl *ctl, const uint8_t *only, size_t *failed)
{
	size_t n = ctl->nzones;
	struct zone_reload_status *st = calloc(n ? n : 1, sizeof(*st));
	struct zone_reload_status *own = calloc(ctl->nsources ? ctl->nsources : 1,
						sizeof(*own));
	int ret = ANYDNS_ENOMEM;
	if (st == NULL || own == NULL)
		goto fail;
	/* A secondary zone is not read from a file: `reload ZONE` asks its
	 * primary instead. */
	if (only != NULL) {
		for (size_t i = 0; i < n; i++) {
			if (ctl_repl_is_secondary(ctl, i) &&
			    dns_name_equal(ctl->conf->zones[i].name, only)) {
				ctl_repl_refresh(ctl, only);
				free(st);
				free(own);
				*failed = 0;
				return 0;
			}
		}
	}
	/* The control thread is the only writer of the snapshot: it reads its
	 * own pointer without a read-side lock. */
	const struct zone_set *cur = zone_snapshot_read(ctl->snap);
	struct zone_set *next = NULL;
	ret = zone_reload(cur, ctl->sources, ctl->nsources, only, &next, own);
	if (ret == 0)
		ret = ctl_repl_prepare(ctl, cur, &next, own);
	/* Every set published carries the networks' views of it. */
	if (ret == 0 && ctl->nviews > 0) {
		ret = zone_set_views(next, ctl->views, ctl->nviews);
		if (ret != 0)
			zone_set_free(next);
	}
	if (ret != 0)
		goto fail;
	zone_snapshot_publish(ctl->snap, next);

	/* Secondary zones keep the status their pulls give them. */
	pthread_mutex_lock(&ctl->lock);
	for (size_t i = 0; i < n; i++)
		st[i] = ctl->status[i];
	pthread_mutex_unlock(&ctl->lock);
	for (size_t k = 0; k < ctl->nsources; k++)
		st[ctl->source_zone[k]] = own[k];
	free(own);
	own = NULL;

	/* Counted apart: secondary zones, which a reload does not read (their
	 * state is their pulls'; one waiting for its first transfer has not
	 * failed). */
	size_t counts[ZONE_RELOAD_SKIPPED + 1] = { 0 }, served = 0, bad = 0;
	size_t secondaries = 0;
	for (size_t i = 0; i < n; i++) {
		served += st[i].serving;
		if (ctl_repl_is_secondary(ctl, i)) {
			secondaries++;
			continue;
		}
		/* A zone not looked at keeps what the last reload said. */
		if (st[i].state == ZONE_RELOAD_SKIPPED)
			st[i] = ctl->status[i];
		else
			log_zone(&st[i]);
		counts[st[i].state]++;
		if (only == NULL || dns_name_equal(st[i].name, only))
			bad += failed_state(st[i].state);
	}
	log_notice("zones: %zu served of %zu configured: %zu loaded, "
		   "%zu unchanged, %zu failed, %zu secondary", served, n,
		   counts[ZONE_RELOAD_LOADED], counts[ZONE_RELOAD_UNCHANGED],
		   counts[ZONE_RELOAD_FAILED_KEPT] +
		   counts[ZONE_RELOAD_FAILED_ABSENT], secondaries);

	pthread_mutex_lock(&ctl->lock);
	struct zone_reload_status *old = ctl->status;
	ctl->status = st;
	ctl->reloads++;
	ctl->load_failures += bad;
	pthread_mutex_unlock(&ctl->lock);
	free(old);
	*failed = bad;
	ctl_repl_published(ctl);
	return 0;
fail:
	free(st);
	free(own);
	return ret;
}

int ctl_load_zones(struct ctl *ctl)
{
	size_t failed;
	return ctl_reload(ctl, NULL, &failed);
}

/* ---- views and requests ------------------------------------------------- */

void ctl_view_fill(struct ctl *ctl, struct ctl_view *v,
		   struct server_stats *stats)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	memset(v, 0, sizeof(*v));
	v->version = ANYDNS_VERSION;
	v->started = ctl->started;
	v->uptime = (double)(now.tv_sec - ctl->started_mono.tv_sec) +
		    (double)(now.tv_nsec - ctl->started_mono.tv_nsec) / 1e9;
	v->listen = ctl->conf->server.listen;
	v->listen_count = ctl->conf->server.listen_count;
	const struct server *srv = __atomic_load_n(&ctl->srv, __ATOMIC_ACQUIRE);
	if (srv != NULL) {
		v->workers = server_workers(srv);
		server_stats(srv, stats);
		v->stats = stats;
	}
	v->zones = ctl->status;
	v->zone_count = ctl->nzones;
	if (ctl->repl_status != NULL) {
		for (size_t i = 0; i < ctl->nzones; i++)
			ctl->repl_status[i].lag = ctl_repl_lag(ctl, i);
		v->repl = ctl->repl_status;
	}
	v->reloads = ctl->reloads;
	v->load_failures = ctl->load_failures;
	v->anycast = ctl_anycast_view(ctl);
}

static void handle_reload(struct ctl *ctl, const struct ctl_request *req,
			  FILE *f)
{
	char name[DNS_NAME_STRLEN] = "";
	if (req->has_zone) {
		dns_name_to_str(name, req->zone);
		log_notice("control: reloading zone %s", name);
	} else {
		log_notice("control: reloading zones");
	}
	size_t failed = 0;
	int ret = ctl_reload(ctl, req->has_zone ? req->zone : NULL, &failed);
	if (ret == ANYDNS_ENOENT) {
		fprintf(f, "error: zone %s is not configured\n", name);
		return;
	}
	if (ret != 0) {
		fprintf(f, "error: reload failed: %s\n", anydns_strerror(ret));
		return;
	}
	struct server_stats stats;
	struct ctl_view v;
	ctl_view_fill(ctl, &v, &stats);
	if (req->has_zone) {
		/* Only the zone asked for: the others were not looked at. */
		size_t i = 0;
		while (i < v.zone_count && !dns_name_equal(v.zones[i].name,
							   req->zone))
			i++;
		v.zones += i;
		v.zone_count = i < v.zone_count ? 1 : 0;
	}
	if (failed > 0)
		fprintf(f, "error: %zu zone%s failed to load; what was served "
			"before keeps serving\n", failed, failed > 1 ? "s" : "");
	else
		fputs("ok\n", f);
	ctl_write_zones(f, &v);
}

void ctl_handle_request(struct ctl *ctl, const char *line, size_t len,
			FILE *f)
{
	struct ctl_request req;
	char err[256];
	if (ctl_request_parse(line, len, &req, err, sizeof(err)) != 0) {
		log_info("control: request refused: %s", err);
		fprintf(f, "error: %s\n", err);
		return;
	}
	switch (req.command) {
	case CTL_RELOAD:
		handle_reload(ctl, &req, f);
		return;
	case CTL_DRAIN:
	case CTL_UNDRAIN:
		ctl_anycast_drain(ctl, req.command == CTL_DRAIN,
				  req.has_network ? req.network : NULL, f);
		return;
	default:
		break;
	}
	struct server_stats stats;
	struct ctl_view v;
	ctl_anycast_refresh(ctl);
	ctl_view_fill(ctl, &v, &stats);
	fputs("ok\n", f);
	switch (req.command) {
	case CTL_STATUS:
		ctl_write_status(f, &v);
		break;
	case CTL_ZONES:
		ctl_write_zones(f, &v);
		break;
	case CTL_STATS:
		ctl_write_stats(f, &v);
		break;
	case CTL_BGP:
		ctl_write_bgp(f, &v);
		break;
	case CTL_NETWORKS:
		ctl_write_networks(f, &v);
		break;
	case CTL_RELOAD:
	case CTL_DRAIN:
	case CTL_UNDRAIN:
		break;
	}
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Stops accepting: HTTP listener, control socket and its clients. */
static void close_listeners(struct ctl *ctl)
{
	ctl_http_stop(ctl);
	ctl_socket_close(ctl);
}

/* The last step of a stop: nothing keeps the loop running any more. */
static void finish_stop(struct ctl *ctl)
{
	close_listeners(ctl);
	ctl_repl_quiet(ctl);
	/* The watchers stay: a second signal while the server stops is caught
	 * and ignored instead of killing the process half-way. They no longer
	 * keep the loop running. */
	uv_unref((uv_handle_t *)&ctl->sig_hup);
	uv_unref((uv_handle_t *)&ctl->sig_term);
	uv_unref((uv_handle_t *)&ctl->sig_int);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct ctl *ctl = h->data;
	if (ctl->stopping)
		return;
	if (signum == SIGHUP) {
		log_notice("reloading zones on SIGHUP");
		size_t failed;
		int ret = ctl_reload(ctl, NULL, &failed);
		if (ret != 0)
			log_err("reload failed: %s", anydns_strerror(ret));
		return;
	}
	log_notice("stopping on %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	ctl->stopping = true;
	/* The networks drain and are withdrawn first, while DNS is answered
	 * and the control socket still tells how far it got. */
	ctl_anycast_stop(ctl, finish_stop);
}

static int start_signal(struct ctl *ctl, uv_signal_t *h, int signum)
{
	int ret = uv_signal_init(&ctl->loop, h);
	if (ret == 0) {
		h->data = ctl;
		ret = uv_signal_start(h, on_signal, signum);
	}
	if (ret != 0)
		log_err("control: cannot handle signal %d: %s", signum,
			uv_strerror(ret));
	return ret;
}

int ctl_new(const struct conf *conf, struct zone_snapshot *snap,
	    struct ctl **out)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return ANYDNS_ENOMEM;
	ctl->conf = conf;
	ctl->snap = snap;
	ctl->nzones = conf->zones_count;
	ctl->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &ctl->started_mono);
	pthread_mutex_init(&ctl->lock, NULL);

	int ret = ANYDNS_ENOMEM;
	size_t n = ctl->nzones ? ctl->nzones : 1;
	ctl->sources = calloc(n, sizeof(*ctl->sources));
	ctl->source_zone = calloc(n, sizeof(*ctl->source_zone));
	ctl->status = calloc(n, sizeof(*ctl->status));
	if (ctl->sources == NULL || ctl->source_zone == NULL ||
	    ctl->status == NULL)
		goto fail;
	if (ctl_views_init(ctl) != 0)
		goto fail;
	for (size_t i = 0; i < ctl->nzones; i++) {
		if (conf->zones[i].primaries_count == 0) {
			size_t k = ctl->nsources++;
			ctl->sources[k].name = conf->zones[i].name;
			ctl->sources[k].file = conf->zones[i].file;
			ctl->source_zone[k] = i;
		}
		ctl->status[i].name = conf->zones[i].name;
		ctl->status[i].file = conf->zones[i].file;
		ctl->status[i].state = ZONE_RELOAD_FAILED_ABSENT;
	}

	ret = ANYDNS_EIO;
	int err = uv_loop_init(&ctl->loop);
	if (err != 0) {
		log_err("control: cannot start the event loop: %s",
			uv_strerror(err));
		goto fail;
	}
	ctl->loop_ready = true;
	/* A control client that goes away before its reply is written must
	 * not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (start_signal(ctl, &ctl->sig_hup, SIGHUP) != 0 ||
	    start_signal(ctl, &ctl->sig_term, SIGTERM) != 0 ||
	    start_signal(ctl, &ctl->sig_int, SIGINT) != 0)
		goto fail;
	if ((ret = ctl_repl_init(ctl)) != 0)
		goto fail;
	*out = ctl;
	return 0;
fail:
	ctl_free(ctl);
	return ret;
}

void ctl_set_server(struct ctl *ctl, struct server *srv)
{
	/* The HTTP thread may already be serving. */
	__atomic_store_n(&ctl->srv, srv, __ATOMIC_RELEASE);
}

int ctl_listen(struct ctl *ctl, uid_t uid, gid_t gid)
{
	int ret = ctl_socket_open(ctl, uid, gid);
	if (ret == 0 && ctl->conf->http.listen.len > 0)
		ret = ctl_http_start(ctl);
	if (ret != 0)
		close_listeners(ctl);
	return ret;
}

int ctl_run(struct ctl *ctl)
{
	if (!ctl->stopping)
		uv_run(&ctl->loop, UV_RUN_DEFAULT);
	ctl->stopping = true;
	close_listeners(ctl);
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

void ctl_free(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	if (ctl->loop_ready) {
		ctl->stopping = true;
		close_listeners(ctl);
		ctl_anycast_free(ctl);
		ctl_repl_close(ctl);
		/* Signal watchers never started are still initialised (or
		 * zeroed, which uv_is_closing() and uv_close() must not see). */
		uv_signal_t *sigs[] = { &ctl->sig_hup, &ctl->sig_term,
					&ctl->sig_int };
		for (size_t i = 0; i < 3; i++)
			if (sigs[i]->loop == &ctl->loop &&
			    !uv_is_closing((uv_handle_t *)sigs[i]))
				uv_close((uv_handle_t *)sigs[i], on_closed);
		uv_run(&ctl->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&ctl->loop) != 0)
			log_err("control: event loop closed with handles open");
		/* Closing the watchers restored the default actions: the rest
		 * of the shutdown must not be cut short by a second signal. */
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
	}
	ctl_repl_free(ctl);
	pthread_mutex_destroy(&ctl->lock);
	ctl_views_free(ctl);
	free(ctl->sources);
	free(ctl->source_zone);
	free(ctl->status);
	free(ctl->repl_status);
	free(ctl);
}
