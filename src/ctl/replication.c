/*
 * Zone replication on the control thread: both roles of anydnsd.
 *
 * Our own zones (read from files) are primaries: when a reload finds a
 * zone changed, the change gets a serial under the zone's serial policy,
 * its difference is appended to the zone's journal and fsync'd, the new
 * version carries the journal as its history (so workers answer IXFR from
 * it), and only then is it published and announced with NOTIFY (RFC 1996
 * §3.5: retried until answered, or notify-retries times).
 *
 * Secondary zones (with primaries) are pulled: at the start, on the SOA
 * refresh timer (retry after a failure), on a NOTIFY (RFC 1996 §3.11, from
 * the primaries only, checked by the workers with the zone's ACL) and on
 * `anydnsc reload ZONE`. A pull runs on libuv's thread pool (src/xfr's
 * blocking xfr_pull(): SOA, IXFR, AXFR fallback) while the loop goes on;
 * its result is published here with one pointer swap, then stored as the
 * zone's local copy (written beside and renamed over), which a restarted
 * PoP serves at once. A zone not refreshed for its SOA expire time is
 * replaced by a placeholder answered SERVFAIL (RFC 1034 §4.3.5) and fails
 * the zones health check, as does one lagging its primary too long.
 *
 * Lag: the primary's newest serial is learnt from NOTIFYs and SOA answers;
 * a zone lags from the moment a newer serial is known until it arrives.
 * After a restart, until a primary answers, the lag is the age of the
 * stored copy's last confirmation (its modification time, touched each
 * time a SOA check finds it current).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/internal.h"
#include "lib/log.h"
#include "xfr/xfr.h"

/* NOTIFYs accepted by workers and not yet taken by the loop; more are
 * dropped (the refresh timer still catches the change). */
#define NOTIFY_QUEUE_MAX 1024
#define DEFAULT_MESSAGE_SIZE 16384

struct repl_zone;

/* A NOTIFY to one secondary of one zone. */
struct repl_target {
	struct repl_zone *rz;
	const struct conf_addr *to;
	uv_udp_t udp;
	uv_timer_t timer;
	bool handles;		/* udp and timer initialised */
	bool busy;		/* waiting for the answer */
	unsigned tries;
	uint16_t id;
	uint8_t msg[1024];
	size_t len;
	uint8_t rbuf[4096];
	struct dns_tsig_ctx tsig;
};

struct repl_zone {
	struct ctl *ctl;
	size_t index;			/* among the configured zones */
	const struct conf_zone *cz;
	uint8_t apex[DNS_NAME_MAXLEN];	/* lowercase */
	char name[DNS_NAME_STRLEN];
	bool secondary;
	const struct dns_tsig_key *primary_key;
	const struct dns_tsig_key *notify_key;
	struct zone_journal *journal;
	/* The stored copy of the version served: a secondary's file; for a
	 * zone of ours with a journal, storage/NAME.zone (the version the
	 * journal leads to, its serial policy applied); else NULL. */
	char *copy;
	uint32_t stored_serial;		/* of the copy written last */
	bool stored;

	/* NOTIFY to the zone's secondaries. */
	struct repl_target *targets;
	size_t ntargets;
	bool told;
	uint32_t told_serial;

	/* Secondary: pulls and timers. */
	uv_timer_t refresh;
	uv_timer_t expire;
	bool timers;
	bool started;		/* the first pull was scheduled */
	bool pulling;
	bool again;		/* pull again when this one ends */
	bool again_soa;
	/* The SOA timers of the last version served (ms), kept when it
	 * expires; until one is known, short defaults. */
	uint64_t refresh_ms, retry_ms, expire_ms;
	/* Written under ctl->lock (the HTTP thread computes the lag). */
	bool reached;		/* a primary answered since the start */
	time_t confirmed_at;	/* wall clock: last known current */
	uint64_t newer_since;	/* monotonic ms a newer serial is known; 0 */
};

struct ctl_repl {
	struct dns_tsig_key *keys;
	size_t nkeys;
	struct xfr_acl *acls;
	struct xfr_zone_policy *pol;
	struct xfr_policy policy;
	struct repl_zone *zones;	/* nzones */

	uv_async_t async;
	bool async_ready;
	pthread_mutex_t qlock;
	struct xfr_notify_event *queue;
	size_t qlen;

	unsigned jobs;			/* thread-pool work under way */
	bool closing;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void zone_unref(struct zone *z)
{
	if (z != NULL && --z->refs == 0)
		zone_free(z);
}

/* The served version of apex in the published set (not a placeholder),
 * or NULL. */
static struct zone *served(struct ctl *ctl, const uint8_t *apex)
{
	struct zone *z = zone_set_get(zone_snapshot_read(ctl->snap), apex);
	return z != NULL && !z->servfail ? z : NULL;
}

/* SOA refresh, retry and expire of z, in ms (RFC 1035 §3.3.13); left
 * as they are when z has no SOA. */
static void soa_timers(const struct zone *z, uint64_t *refresh,
		       uint64_t *retry, uint64_t *expire)
{
	if (z == NULL || z->soa == NULL || z->soa->count == 0)
		return;
	const uint8_t *p = z->soa->rdata + 2;
	uint16_t len = (uint16_t)((z->soa->rdata[0] << 8) | z->soa->rdata[1]);
	size_t mname = dns_name_len(p);
	size_t rname = dns_name_len(p + mname);
	size_t at = mname + rname;
	if (at + 20 > len)
		return;
	const uint8_t *t = p + at + 4;
	*refresh = 1000ull * ((uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 |
			      (uint32_t)t[2] << 8 | t[3]);
	*retry = 1000ull * ((uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
			    (uint32_t)t[6] << 8 | t[7]);
	*expire = 1000ull * ((uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 |
			     (uint32_t)t[10] << 8 | t[11]);
}

static uint64_t clamp_refresh(const struct repl_zone *rz, uint64_t ms)
{
	if (ms < rz->cz->refresh_min_ms)
		return rz->cz->refresh_min_ms;
	if (ms > rz->cz->refresh_max_ms)
		return rz->cz->refresh_max_ms;
	return ms;
}

static void set_result(struct repl_zone *rz, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_result(struct repl_zone *rz, bool ok, const char *fmt, ...)
{
	struct ctl *ctl = rz->ctl;
	va_list ap;
	pthread_mutex_lock(&ctl->lock);
	struct ctl_zone_repl *s = &ctl->repl_status[rz->index];
	s->last_ok = ok;
	s->last_check = time(NULL);
	va_start(ap, fmt);
	vsnprintf(s->last_result, sizeof(s->last_result), fmt, ap);
	va_end(ap);
	if (!ok)
		s->failures++;
	pthread_mutex_unlock(&ctl->lock);
}

/* ---- publishing one zone -------------------------------------------------- */

/* Publishes a set where z (refs 0, owned: freed on failure) replaces the
 * version of its apex. */
static int publish_zone(struct ctl *ctl, struct zone *z)
{
	const struct zone_set *cur = zone_snapshot_read(ctl->snap);
	struct zone **arr = calloc(cur->count + 1, sizeof(*arr));
	struct zone_set *next = NULL;
	size_t n = 0;
	int ret = ANYDNS_ENOMEM;

	if (arr == NULL)
		goto fail;
	for (size_t i = 0; i < cur->count; i++)
		if (!dns_name_equal(cur->zones[i]->apex_name, z->apex_name))
			arr[n++] = cur->zones[i];
	arr[n++] = z;
	ret = zone_set_new(arr, n, &next);
	free(arr);
	if (ret != 0)
		goto fail;
	if (ctl->nviews > 0 &&
	    (ret = zone_set_views(next, ctl->views, ctl->nviews)) != 0) {
		zone_set_free(next);	/* frees z too */
		return ret;
	}
	zone_snapshot_publish(ctl->snap, next);
	return 0;
fail:
	if (z->refs == 0)
		zone_free(z);
	return ret;
}

/* The status line of configured zone i after a version of it was
 * published (or not: z NULL and why). */
static void zone_status(struct ctl *ctl, size_t i, const struct zone *z,
			enum zone_reload_state state, const char *why)
{
	pthread_mutex_lock(&ctl->lock);
	struct zone_reload_status *st = &ctl->status[i];
	st->state = state;
	st->serving = z != NULL && !z->servfail;
	st->serial = st->serving ? z->serial : 0;
	st->loaded_at = st->serving ? z->loaded_at : 0;
	snprintf(st->error, sizeof(st->error), "%s", why != NULL ? why : "");
	pthread_mutex_unlock(&ctl->lock);
}

/* ---- NOTIFY to secondaries (RFC 1996 §3.5-§3.7) --------------------------- */

static void notify_send(struct repl_target *t);

static void notify_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct repl_target *t = h->data;
	(void)suggested;
	buf->base = (char *)t->rbuf;
	buf->len = sizeof(t->rbuf);
}

static void notify_done(struct repl_target *t)
{
	t->busy = false;
	uv_timer_stop(&t->timer);
	dns_tsig_ctx_clear(&t->tsig);
}

static void notify_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct repl_target *t = h->data;
	char addr[80];
	uint16_t rcode = 0;
	(void)flags;
	if (nread <= 0 || from == NULL || !t->busy)
		return;
	int ret = xfr_notify_reply_check(t->msg, t->len,
					 (const uint8_t *)buf->base,
					 (size_t)nread, &t->tsig,
					 (uint64_t)time(NULL), &rcode);
	if (ret == ANYDNS_EDROP)
		return;
	ctl_addr_text(t->to, addr, sizeof(addr));
	if (ret == 0) {
		log_debug("zone %s: NOTIFY to %s answered", t->rz->name, addr);
	} else if (ret == ANYDNS_EREFUSED) {
		char rc[16];
		log_warn("zone %s: NOTIFY to %s answered %s", t->rz->name,
			 addr, dns_rcode_to_str(rcode, rc));
	} else {
		log_warn("zone %s: NOTIFY to %s: %s", t->rz->name, addr,
			 anydns_strerror(ret));
	}
	notify_done(t);
}

static void notify_timeout(uv_timer_t *h)
{
	struct repl_target *t = h->data;
	struct ctl *ctl = t->rz->ctl;
	if (t->tries <= ctl->conf->replication.notify_retries) {
		notify_send(t);
		return;
	}
	char addr[80];
	ctl_addr_text(t->to, addr, sizeof(addr));
	log_warn("zone %s: NOTIFY to %s unanswered after %u tries",
		 t->rz->name, addr, t->tries);
	pthread_mutex_lock(&ctl->lock);
	ctl->repl_status[t->rz->index].notifies_unanswered++;
	pthread_mutex_unlock(&ctl->lock);
	notify_done(t);
}

static int notify_open(struct repl_target *t)
{
	struct ctl *ctl = t->rz->ctl;
	struct sockaddr_storage any = { 0 };
	int err = uv_udp_init(&ctl->loop, &t->udp);
	if (err != 0)
		return err;
	t->udp.data = t;
	uv_timer_init(&ctl->loop, &t->timer);
	t->timer.data = t;
	t->handles = true;
	any.ss_family = t->to->ss.ss_family;
	err = uv_udp_bind(&t->udp, (const struct sockaddr *)&any, 0);
	if (err == 0)
		err = uv_udp_recv_start(&t->udp, notify_alloc, notify_recv);
	return err;
}

/* (Re)sends the NOTIFY for the version served now. */
static void notify_send(struct repl_target *t)
{
	struct repl_zone *rz = t->rz;
	struct ctl *ctl = rz->ctl;
	char addr[80];
	const struct zone *z = served(ctl, rz->apex);

	ctl_addr_text(t->to, addr, sizeof(addr));
	if (z == NULL) {
		notify_done(t);
		return;
	}
	if (!t->handles) {
		int err = notify_open(t);
		if (err != 0) {
			log_warn("zone %s: NOTIFY to %s: %s", rz->name, addr,
				 uv_strerror(err));
			return;
		}
	}
	dns_tsig_ctx_clear(&t->tsig);
	dns_tsig_ctx_init(&t->tsig, rz->notify_key);
	if (getrandom(&t->id, sizeof(t->id), 0) != sizeof(t->id))
		t->id = (uint16_t)mono_ms();
	if (xfr_notify_build(z, t->id, &t->tsig, (uint64_t)time(NULL), t->msg,
			     sizeof(t->msg), &t->len) != 0) {
		log_err("zone %s: cannot build a NOTIFY", rz->name);
		notify_done(t);
		return;
	}
	uv_buf_t buf = uv_buf_init((char *)t->msg, (unsigned)t->len);
	int err = uv_udp_try_send(&t->udp, &buf, 1,
				  (const struct sockaddr *)&t->to->ss);
	t->tries++;
	t->busy = true;
	if (err < 0)
		log_warn("zone %s: NOTIFY to %s: %s", rz->name, addr,
			 uv_strerror(err));
	else
		log_debug("zone %s: NOTIFY serial %u to %s (try %u)", rz->name,
			  z->serial, addr, t->tries);
	pthread_mutex_lock(&ctl->lock);
	ctl->repl_status[rz->index].notifies_sent++;
	pthread_mutex_unlock(&ctl->lock);
	uv_timer_start(&t->timer, notify_timeout,
		       ctl->conf->replication.notify_timeout_ms, 0);
}

static void notify_all(struct repl_zone *rz, uint32_t serial)
{
	rz->told = true;
	rz->told_serial = serial;
	for (size_t i = 0; i < rz->ntargets; i++) {
		rz->targets[i].tries = 0;
		notify_send(&rz->targets[i]);
	}
}

/* ---- pulling (secondary zones) -------------------------------------------- */

struct pull_job {
	uv_work_t req;
	struct repl_zone *rz;
	struct zone *current;		/* a reference, or NULL */
	bool check_soa;
	int ret;
	struct xfr_pull_result res;
	char primary[80];		/* the one that answered, or the last */
	uint64_t started;
};

static void pull_start(struct repl_zone *rz, bool check_soa);

static void pull_work(uv_work_t *req)
{
	struct pull_job *job = req->data;
	const struct conf_zone *cz = job->rz->cz;
	char err[sizeof(job->res.error)] = "";

	job->ret = ANYDNS_EINVAL;
	for (size_t i = 0; i < cz->primaries_count; i++) {
		struct xfr_pull_req r = {
			.apex = job->rz->apex,
			.primary = (const struct sockaddr *)&cz->primaries[i].ss,
			.primary_len = cz->primaries[i].len,
			.key = job->rz->primary_key,
			.current = job->current,
			.check_soa = job->check_soa,
			.ixfr = true,
			.timeout_ms = job->rz->ctl->conf->replication.transfer_timeout_ms,
			.max_size = cz->transfer_max_size,
		};
		ctl_addr_text(&cz->primaries[i], job->primary,
			      sizeof(job->primary));
		xfr_pull_result_clear(&job->res);
		job->ret = xfr_pull(&r, &job->res);
		if (job->ret == 0)
			return;
		snprintf(err, sizeof(err), "%s", job->res.error);
	}
	snprintf(job->res.error, sizeof(job->res.error), "%s", err);
}

/* The stored copy: written beside and renamed over, off the loop. */
struct store_job {
	uv_work_t req;
	struct repl_zone *rz;
	struct zone *z;			/* a reference */
	int ret;
	char err[256];
};

/* Creates the directories leading to path (the storage directory of a
 * first start, or a directory a configured file names). */
static void make_parents(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST)
			return;
		*p = '/';
	}
}

static void store_work(uv_work_t *req)
{
	struct store_job *job = req->data;
	make_parents(job->rz->copy);
	job->ret = zone_write_file(job->z, job->rz->copy, job->err,
				   sizeof(job->err));
}

static void store_done(uv_work_t *req, int status)
{
	struct store_job *job = req->data;
	struct ctl *ctl = job->rz->ctl;
	(void)status;
	ctl->repl->jobs--;
	if (job->ret != 0)
		log_err("zone %s: cannot store %s: %s", job->rz->name,
			job->rz->copy, job->err);
	else
		log_debug("zone %s: serial %u stored in %s", job->rz->name,
			  job->z->serial, job->rz->copy);
	zone_unref(job->z);
	free(job);
}

static void store_start(struct repl_zone *rz, struct zone *z)
{
	struct ctl *ctl = rz->ctl;
	struct store_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		log_err("zone %s: cannot store a copy: out of memory", rz->name);
		return;
	}
	job->rz = rz;
	job->z = z;
	z->refs++;
	rz->stored = true;
	rz->stored_serial = z->serial;
	job->req.data = job;
	if (uv_queue_work(&ctl->loop, &job->req, store_work, store_done) != 0) {
		zone_unref(z);
		free(job);
		return;
	}
	ctl->repl->jobs++;
}

/* The stored copy was just confirmed current: say so in its mtime. */
static void touch_copy(const struct repl_zone *rz)
{
	if (utimensat(AT_FDCWD, rz->copy, NULL, 0) != 0 && errno != ENOENT)
		log_debug("zone %s: cannot touch %s", rz->name, rz->copy);
}

static void on_expire(uv_timer_t *h);

static void expire_restart(struct repl_zone *rz, uint64_t after_ms)
{
	uv_timer_stop(&rz->expire);
	uv_timer_start(&rz->expire, on_expire, after_ms, 0);
}

static void on_expire(uv_timer_t *h)
{
	struct repl_zone *rz = h->data;
	struct ctl *ctl = rz->ctl;
	struct zone *ph = NULL;
	char why[200];

	if (served(ctl, rz->apex) == NULL)
		return;
	if (zone_new_servfail(rz->apex, &ph) != 0 || publish_zone(ctl, ph) != 0) {
		log_err("zone %s: cannot mark it expired", rz->name);
		return;
	}
	snprintf(why, sizeof(why), "expired: no primary answered for the "
		 "SOA expire time");
	log_err("zone %s: %s; answered SERVFAIL until a transfer succeeds",
		rz->name, why);
	zone_status(ctl, rz->index, NULL, ZONE_RELOAD_FAILED_ABSENT, why);
	pthread_mutex_lock(&ctl->lock);
	ctl->repl_status[rz->index].expired = true;
	pthread_mutex_unlock(&ctl->lock);
}

static void on_refresh(uv_timer_t *h)
{
	pull_start(h->data, true);
}

/* The primary answered with serial (a transfer when transferred): how far
 * behind we are. */
static void learn_serial(struct repl_zone *rz, uint32_t serial,
			 bool transferred)
{
	struct ctl *ctl = rz->ctl;
	const struct zone *z = served(ctl, rz->apex);
	pthread_mutex_lock(&ctl->lock);
	struct ctl_zone_repl *s = &ctl->repl_status[rz->index];
	s->primary_serial_known = true;
	s->primary_serial = serial;
	rz->reached = true;
	if (!transferred && (z == NULL || zone_serial_newer(serial, z->serial))) {
		if (rz->newer_since == 0)
			rz->newer_since = mono_ms();
	}
	pthread_mutex_unlock(&ctl->lock);
}

static void pull_done(uv_work_t *req, int status)
{
	struct pull_job *job = req->data;
	struct repl_zone *rz = job->rz;
	struct ctl *ctl = rz->ctl;
	struct xfr_pull_result *res = &job->res;
	const char *kind = res->qtype == DNS_TYPE_IXFR ? "IXFR" : "AXFR";
	(void)status;

	ctl->repl->jobs--;
	rz->pulling = false;
	if (ctl->repl->closing || ctl->stopping)
		goto out;

	uint64_t took = mono_ms() - job->started;
	const struct zone *now_served = served(ctl, rz->apex);
	soa_timers(now_served, &rz->refresh_ms, &rz->retry_ms, &rz->expire_ms);
	if (res->has_serial)
		learn_serial(rz, res->serial, job->ret == 0);
	if (job->ret != 0) {
		log_warn("zone %s: pull failed: %s", rz->name, res->error);
		set_result(rz, false, "%s", res->error);
		uv_timer_start(&rz->refresh, on_refresh,
			       clamp_refresh(rz, rz->retry_ms), 0);
		goto again;
	}
	struct ctl_zone_repl *s = &ctl->repl_status[rz->index];

	if (res->kind == XFR_IN_UPTODATE) {
		pthread_mutex_lock(&ctl->lock);
		if (now_served != NULL &&
		    !zone_serial_newer(res->serial, now_served->serial)) {
			rz->newer_since = 0;
			rz->confirmed_at = time(NULL);
		}
		pthread_mutex_unlock(&ctl->lock);
		touch_copy(rz);
		set_result(rz, true, "up to date: serial %u at %s", res->serial,
			   job->primary);
		log_debug("zone %s: serial %u is current at %s", rz->name,
			  res->serial, job->primary);
	} else {
		struct zone *z = res->zone;
		res->zone = NULL;
		uint32_t from = now_served != NULL ? now_served->serial : 0;
		bool had = now_served != NULL;
		z->loaded_at = time(NULL);
		int ret = publish_zone(ctl, z);
		if (ret != 0) {
			log_err("zone %s: cannot publish serial %u: %s",
				rz->name, res->serial, anydns_strerror(ret));
			set_result(rz, false, "publish failed: %s",
				   anydns_strerror(ret));
			uv_timer_start(&rz->refresh, on_refresh,
				       clamp_refresh(rz, rz->retry_ms), 0);
			goto again;
		}
		now_served = z;
		soa_timers(z, &rz->refresh_ms, &rz->retry_ms, &rz->expire_ms);
		zone_status(ctl, rz->index, z, ZONE_RELOAD_LOADED, NULL);
		pthread_mutex_lock(&ctl->lock);
		s->transfers++;
		s->last_transfer = time(NULL);
		s->expired = false;
		rz->confirmed_at = time(NULL);
		if (!zone_serial_newer(s->primary_serial, z->serial))
			rz->newer_since = 0;
		pthread_mutex_unlock(&ctl->lock);
		if (res->kind == XFR_IN_DIFFS)
			set_result(rz, true, "%s %u -> %u from %s: %zu changes, "
				   "%" PRIu64 " ms", kind, from, z->serial,
				   job->primary, res->diff_count, took);
		else
			set_result(rz, true, "%s%s serial %u from %s: %" PRIu64
				   " records, %" PRIu64 " ms", kind,
				   res->fell_back ? " (IXFR failed)" : "",
				   z->serial, job->primary, res->records, took);
		if (had)
			log_info("zone %s: %s from %s: serial %u -> %u, %"
				 PRIu64 " records, %" PRIu64 " octets, %" PRIu64
				 " ms%s", rz->name, kind, job->primary, from,
				 z->serial, res->records, res->bytes, took,
				 res->fell_back ? " (after IXFR failed)" : "");
		else
			log_info("zone %s: %s from %s: serial %u, %" PRIu64
				 " records, %" PRIu64 " ms", rz->name, kind,
				 job->primary, z->serial, res->records, took);
		store_start(rz, z);
		if (rz->ntargets > 0)
			notify_all(rz, z->serial);
	}
	expire_restart(rz, rz->expire_ms);
	uv_timer_start(&rz->refresh, on_refresh,
		       clamp_refresh(rz, rz->refresh_ms), 0);
again:
	if (rz->again) {
		rz->again = false;
		pull_start(rz, rz->again_soa);
	}
out:
	xfr_pull_result_clear(res);
	zone_unref(job->current);
	free(job);
}

static void pull_start(struct repl_zone *rz, bool check_soa)
{
	struct ctl *ctl = rz->ctl;
	if (ctl->repl->closing || ctl->stopping)
		return;
	if (rz->pulling) {
		/* A change announced while a pull runs: pull again after,
		 * asking the SOA if any of the requests wanted it. */
		rz->again_soa = rz->again ? (rz->again_soa || check_soa) : check_soa;
		rz->again = true;
		return;
	}
	struct pull_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		log_err("zone %s: cannot pull: out of memory", rz->name);
		return;
	}
	uv_timer_stop(&rz->refresh);
	job->rz = rz;
	job->current = served(ctl, rz->apex);
	if (job->current != NULL)
		job->current->refs++;
	job->check_soa = check_soa && job->current != NULL;
	job->started = mono_ms();
	job->req.data = job;
	if (uv_queue_work(&ctl->loop, &job->req, pull_work, pull_done) != 0) {
		zone_unref(job->current);
		free(job);
		uv_timer_start(&rz->refresh, on_refresh, rz->cz->refresh_min_ms, 0);
		return;
	}
	ctl->repl->jobs++;
	rz->pulling = true;
}

/* ---- NOTIFY from primaries (from the workers) ----------------------------- */

static void on_notify(void *arg, const struct xfr_notify_event *ev)
{
	struct ctl *ctl = arg;
	struct ctl_repl *r = ctl->repl;
	pthread_mutex_lock(&r->qlock);
	bool queued = r->qlen < NOTIFY_QUEUE_MAX;
	if (queued)
		r->queue[r->qlen++] = *ev;
	pthread_mutex_unlock(&r->qlock);
	if (queued)
		uv_async_send(&r->async);
}

static struct repl_zone *find_zone(struct ctl *ctl, const uint8_t *apex)
{
	for (size_t i = 0; i < ctl->nzones; i++)
		if (dns_name_equal(ctl->repl->zones[i].apex, apex))
			return &ctl->repl->zones[i];
	return NULL;
}

static void notify_arrived(struct ctl *ctl, const struct xfr_notify_event *ev)
{
	struct repl_zone *rz = find_zone(ctl, ev->apex);
	char name[DNS_NAME_STRLEN];
	if (rz == NULL || !rz->secondary) {
		dns_name_to_str(name, ev->apex);
		log_debug("NOTIFY for %s: not a secondary zone here", name);
		return;
	}
	const struct zone *z = served(ctl, rz->apex);
	if (!ev->has_serial) {
		log_info("zone %s: NOTIFY without serial: asking the primary",
			 rz->name);
		pull_start(rz, true);
		return;
	}
	pthread_mutex_lock(&ctl->lock);
	struct ctl_zone_repl *s = &ctl->repl_status[rz->index];
	s->primary_serial_known = true;
	s->primary_serial = ev->serial;
	bool newer = z == NULL || zone_serial_newer(ev->serial, z->serial);
	if (newer && rz->newer_since == 0)
		rz->newer_since = mono_ms();
	pthread_mutex_unlock(&ctl->lock);
	if (!newer) {
		log_debug("zone %s: NOTIFY serial %u, we have %u", rz->name,
			  ev->serial, z->serial);
		return;
	}
	log_info("zone %s: NOTIFY serial %u: pulling", rz->name, ev->serial);
	/* The NOTIFY told the serial: no need to ask it first. */
	pull_start(rz, false);
}

static void on_async(uv_async_t *h)
{
	struct ctl *ctl = h->data;
	struct ctl_repl *r = ctl->repl;
	struct xfr_notify_event batch[64];
	for (;;) {
		pthread_mutex_lock(&r->qlock);
		size_t n = r->qlen < 64 ? r->qlen : 64;
		memcpy(batch, r->queue, n * sizeof(*batch));
		memmove(r->queue, r->queue + n, (r->qlen - n) * sizeof(*batch));
		r->qlen -= n;
		pthread_mutex_unlock(&r->qlock);
		if (n == 0)
			return;
		for (size_t i = 0; i < n; i++)
			notify_arrived(ctl, &batch[i]);
	}
}

/* ---- set-up --------------------------------------------------------------- */

static const struct dns_tsig_key *key_named(const struct ctl_repl *r,
					    const char *name)
{
	uint8_t wire[DNS_NAME_MAXLEN];
	size_t len;
	if (name == NULL || dns_name_from_str(wire, &len, name, NULL) != 0)
		return NULL;
	return dns_tsig_key_find(r->keys, r->nkeys, wire);
}

static void acl_from_prefix(struct xfr_acl *a, const struct conf_prefix *p,
			    const struct dns_tsig_key *key)
{
	memset(a, 0, sizeof(*a));
	a->family = p->family;
	a->prefix_len = p->len;
	if (p->family == AF_INET)
		memcpy(a->addr, &p->addr.v4, 4);
	else
		memcpy(a->addr, &p->addr.v6, 16);
	a->key = key;
}

static void acl_from_addr(struct xfr_acl *a, const struct conf_addr *c,
			  const struct dns_tsig_key *key)
{
	memset(a, 0, sizeof(*a));
	a->family = c->ss.ss_family;
	if (a->family == AF_INET) {
		a->prefix_len = 32;
		memcpy(a->addr, &((const struct sockaddr_in *)&c->ss)->sin_addr, 4);
	} else {
		a->prefix_len = 128;
		memcpy(a->addr, &((const struct sockaddr_in6 *)&c->ss)->sin6_addr,
		       16);
	}
	a->key = key;
}

static int pol_cmp(const void *a, const void *b)
{
	const struct xfr_zone_policy *x = a, *y = b;
	return memcmp(x->apex, y->apex, DNS_NAME_MAXLEN);
}

static int build_policy(struct ctl *ctl)
{
	struct ctl_repl *r = ctl->repl;
	const struct conf *c = ctl->conf;
	size_t nacl = 0;
	for (size_t i = 0; i < c->zones_count; i++)
		nacl += c->zones[i].allow_transfer_count +
			c->zones[i].primaries_count;
	r->acls = calloc(nacl ? nacl : 1, sizeof(*r->acls));
	r->pol = calloc(c->zones_count ? c->zones_count : 1, sizeof(*r->pol));
	if (r->acls == NULL || r->pol == NULL)
		return ANYDNS_ENOMEM;
	struct xfr_acl *a = r->acls;
	for (size_t i = 0; i < c->zones_count; i++) {
		const struct conf_zone *cz = &c->zones[i];
		struct xfr_zone_policy *p = &r->pol[i];
		dns_name_copy_lower(p->apex, cz->name);
		p->transfer = a;
		p->transfer_count = cz->allow_transfer_count;
		for (size_t k = 0; k < cz->allow_transfer_count; k++)
			acl_from_prefix(a++, &cz->allow_transfer[k],
					key_named(r, cz->transfer_key));
		p->notify = a;
		p->notify_count = cz->primaries_count;
		for (size_t k = 0; k < cz->primaries_count; k++)
			acl_from_addr(a++, &cz->primaries[k],
				      key_named(r, cz->primary_key));
		p->condense_after = cz->ixfr_condense_after;
		p->message_size = DEFAULT_MESSAGE_SIZE;
	}
	qsort(r->pol, c->zones_count, sizeof(*r->pol), pol_cmp);
	r->policy.keys = r->keys;
	r->policy.key_count = r->nkeys;
	r->policy.zones = r->pol;
	r->policy.zone_count = c->zones_count;
	return 0;
}

/* The journal of one of our zones that others transfer. */
static int open_journal(struct ctl *ctl, struct repl_zone *rz)
{
	const struct conf *c = ctl->conf;
	const struct conf_zone *cz = rz->cz;
	char path[4096], err[256];
	if (rz->secondary || cz->journal_max_size == 0 ||
	    (cz->allow_transfer_count == 0 && cz->notify_count == 0))
		return 0;
	snprintf(path, sizeof(path), "%s/%szone", c->replication.storage,
		 rz->name);
	if ((rz->copy = strdup(path)) == NULL)
		return ANYDNS_ENOMEM;
	snprintf(path, sizeof(path), "%s/%sjournal", c->replication.storage,
		 rz->name);
	make_parents(path);
	int ret = zone_journal_open(path, rz->apex, cz->journal_max_size,
				    &rz->journal, err, sizeof(err));
	if (ret != 0)
		log_err("zone %s: journal %s: %s", rz->name, path, err);
	return ret;
}

int ctl_repl_init(struct ctl *ctl)
{
	char err[512];
	struct ctl_repl *r = calloc(1, sizeof(*r));
	size_t n = ctl->nzones ? ctl->nzones : 1;
	if (r == NULL)
		return ANYDNS_ENOMEM;
	ctl->repl = r;
	pthread_mutex_init(&r->qlock, NULL);
	r->zones = calloc(n, sizeof(*r->zones));
	r->queue = calloc(NOTIFY_QUEUE_MAX, sizeof(*r->queue));
	ctl->repl_status = calloc(n, sizeof(*ctl->repl_status));
	if (r->zones == NULL || r->queue == NULL || ctl->repl_status == NULL)
		return ANYDNS_ENOMEM;
	int ret = conf_tsig_keys(ctl->conf, &r->keys, &r->nkeys, err,
				 sizeof(err));
	if (ret != 0) {
		log_err("TSIG keys: %s", err);
		return ret;
	}
	if ((ret = build_policy(ctl)) != 0)
		return ret;
	for (size_t i = 0; i < ctl->nzones; i++) {
		struct repl_zone *rz = &r->zones[i];
		const struct conf_zone *cz = &ctl->conf->zones[i];
		rz->ctl = ctl;
		rz->index = i;
		rz->cz = cz;
		dns_name_copy_lower(rz->apex, cz->name);
		dns_name_to_str(rz->name, rz->apex);
		rz->secondary = cz->primaries_count > 0;
		if (rz->secondary && (rz->copy = strdup(cz->file)) == NULL)
			return ANYDNS_ENOMEM;
		rz->primary_key = key_named(r, cz->primary_key);
		/* Until a version tells its SOA timers: ask hourly, retry
		 * soon, never expire what was never there. */
		rz->refresh_ms = 3600 * 1000;
		rz->retry_ms = 10 * 1000;
		rz->expire_ms = (uint64_t)7 * 86400 * 1000;
		rz->notify_key = key_named(r, cz->notify_key);
		ctl->repl_status[i].secondary = rz->secondary;
		rz->targets = calloc(cz->notify_count ? cz->notify_count : 1,
				     sizeof(*rz->targets));
		if (rz->targets == NULL)
			return ANYDNS_ENOMEM;
		rz->ntargets = cz->notify_count;
		for (size_t k = 0; k < rz->ntargets; k++) {
			rz->targets[k].rz = rz;
			rz->targets[k].to = &cz->notify[k];
		}
		if (rz->secondary) {
			uv_timer_init(&ctl->loop, &rz->refresh);
			uv_timer_init(&ctl->loop, &rz->expire);
			rz->refresh.data = rz;
			rz->expire.data = rz;
			rz->timers = true;
		}
		if ((ret = open_journal(ctl, rz)) != 0)
			return ret;
	}
	if (uv_async_init(&ctl->loop, &r->async, on_async) != 0)
		return ANYDNS_EIO;
	r->async.data = ctl;
	r->async_ready = true;
	return 0;
}

void ctl_server_replication(struct ctl *ctl, struct server_conf *sc)
{
	sc->xfr = &ctl->repl->policy;
	sc->on_notify = on_notify;
	sc->notify_arg = ctl;
}

bool ctl_repl_is_secondary(const struct ctl *ctl, size_t i)
{
	return ctl->repl != NULL && ctl->repl->zones[i].secondary;
}

double ctl_repl_lag(const struct ctl *ctl, size_t i)
{
	const struct repl_zone *rz;
	if (ctl->repl == NULL || !(rz = &ctl->repl->zones[i])->secondary)
		return 0;
	if (rz->newer_since != 0)
		return (double)(mono_ms() - rz->newer_since) / 1000.0;
	if (!rz->reached) {
		/* Not confirmed since the start: as old as the copy's last
		 * confirmation, or as the daemon when there is no copy. */
		time_t since = rz->confirmed_at != 0 ? rz->confirmed_at :
			       ctl->started;
		double d = difftime(time(NULL), since);
		return d > 0 ? d : 0;
	}
	return 0;
}

bool ctl_repl_refresh(struct ctl *ctl, const uint8_t *apex)
{
	struct repl_zone *rz = find_zone(ctl, apex);
	if (rz == NULL || !rz->secondary)
		return false;
	log_notice("zone %s: asking the primary now", rz->name);
	pull_start(rz, true);
	return true;
}

/* ---- the sets published by reloads --------------------------------------- */

/* At the start, a secondary serves its stored copy, or SERVFAIL. */
static struct zone *initial_secondary(struct ctl *ctl, struct repl_zone *rz)
{
	struct zone *z = NULL;
	struct stat sb;
	char err[ZONE_RELOAD_ERRLEN] = "";
	const char *file = rz->copy;

	if (stat(file, &sb) == 0 &&
	    zone_load_file(rz->apex, file, &z, err, sizeof(err)) == 0) {
		z->loaded_at = sb.st_mtime;
		rz->confirmed_at = sb.st_mtime;
		log_info("zone %s: serial %u from the stored copy %s",
			 rz->name, z->serial, file);
		zone_status(ctl, rz->index, z, ZONE_RELOAD_LOADED, NULL);
		soa_timers(z, &rz->refresh_ms, &rz->retry_ms, &rz->expire_ms);
		uint64_t expire = rz->expire_ms;
		double age = difftime(time(NULL), sb.st_mtime) * 1000.0;
		if (age >= (double)expire) {
			log_warn("zone %s: the stored copy is older than the "
				 "SOA expire time: SERVFAIL until a transfer",
				 rz->name);
			zone_free(z);
			z = NULL;
		} else {
			uv_timer_start(&rz->expire, on_expire,
				       expire - (uint64_t)(age > 0 ? age : 0), 0);
			return z;
		}
	} else if (err[0] != '\0') {
		log_warn("zone %s: stored copy not usable: %s", rz->name, err);
	}
	if (zone_new_servfail(rz->apex, &z) != 0)
		return NULL;
	zone_status(ctl, rz->index, NULL, ZONE_RELOAD_FAILED_ABSENT,
		    "not transferred yet");
	return z;
}

/* Whether d changes nothing but the SOA serial: a file whose serial the
 * policy replaced, read again unchanged. */
static bool only_serial_differs(const struct zone_diff *d)
{
	struct zone_diff_rr a, b;
	const uint8_t *pa = d->data, *pb = d->data + d->added_at;
	if (d->removed != 1 || d->added != 1 ||
	    !zone_diff_rr_next(&pa, d->data + d->added_at, &a) ||
	    !zone_diff_rr_next(&pb, d->data + d->len, &b) ||
	    a.ttl != b.ttl || a.rdlen != b.rdlen)
		return false;
	/* SOA RDATA: MNAME, RNAME, then the serial (RFC 1035 §3.3.13). */
	size_t names = dns_name_len(a.rdata);
	names += dns_name_len(a.rdata + names);
	if (names + 20 != a.rdlen)
		return false;
	return memcmp(a.rdata, b.rdata, names) == 0 &&
	       memcmp(a.rdata + names + 4, b.rdata + names + 4, 16) == 0;
}

/* A reloaded zone of ours that changed: its serial, journal and history.
 * Returns the version to serve (znew, a copy of it with another serial,
 * or zold when the change is refused). */
static struct zone *primary_changed(struct repl_zone *rz, struct zone *zold,
				    struct zone *znew,
				    struct zone_reload_status *st)
{
	struct zone_diff *d = NULL;
	struct zone *z = znew;

	if (zone_diff_compute(zold, z, &d) != 0)
		return zold;
	if (!zone_serial_newer(z->serial, zold->serial)) {
		if (only_serial_differs(d)) {
			/* Read again, not changed: the served version (and
			 * the serial the policy gave it) stays. */
			zone_diff_unref(d);
			st->serial = zold->serial;
			return zold;
		}
		zone_diff_unref(d);
		d = NULL;
		if (rz->cz->serial_policy == CONF_SERIAL_KEEP) {
			st->state = ZONE_RELOAD_FAILED_KEPT;
			st->serial = zold->serial;
			st->loaded_at = zold->loaded_at;
			snprintf(st->error, sizeof(st->error), "%s: the zone "
				 "changed but serial %u is not newer than %u "
				 "(serial-policy keep)", rz->cz->file,
				 znew->serial, zold->serial);
			return zold;
		}
		uint32_t serial = zone_serial_next((enum zone_serial_policy)
						   rz->cz->serial_policy,
						   zold->serial, time(NULL));
		struct zone *copy = NULL;
		if (zone_with_serial(znew, serial, &copy) != 0 ||
		    zone_diff_compute(zold, copy, &d) != 0) {
			if (copy != NULL)
				zone_free(copy);
			return zold;
		}
		log_notice("zone %s: changed without a newer serial (%u): "
			   "serving it as serial %u", rz->name, znew->serial,
			   serial);
		z = copy;
		st->serial = serial;
	}
	if (rz->journal != NULL) {
		int ret = zone_journal_append(rz->journal, d);
		size_t n;
		struct zone_diff *const *diffs = zone_journal_diffs(rz->journal, &n);
		if (ret != 0) {
			log_err("zone %s: cannot journal serial %u: %s; "
				"transfers are AXFR until the next change",
				rz->name, z->serial, anydns_strerror(ret));
			zone_journal_clear(rz->journal);
		} else if (zone_set_history(z, diffs, n) != 0) {
			log_warn("zone %s: no IXFR history: out of memory",
				 rz->name);
		}
	}
	log_info("zone %s: serial %u -> %u: %u records removed, %u added",
		 rz->name, zold->serial, z->serial, d->removed - 1,
		 d->added - 1);
	zone_diff_unref(d);
	return z;
}

/* The version the journal led to before a restart: the stored copy, if
 * it is the journal's last serial. NULL when there is none. */
static struct zone *journaled_version(struct repl_zone *rz)
{
	size_t n;
	struct zone_diff *const *diffs = zone_journal_diffs(rz->journal, &n);
	struct zone *z = NULL;
	char err[ZONE_RELOAD_ERRLEN];
	struct stat sb;
	if (n == 0 || stat(rz->copy, &sb) != 0)
		return NULL;
	if (zone_load_file(rz->apex, rz->copy, &z, err, sizeof(err)) != 0) {
		log_warn("zone %s: stored copy not usable: %s", rz->name, err);
		return NULL;
	}
	if (z->serial != diffs[n - 1]->to) {
		log_warn("zone %s: the stored copy has serial %u, the journal "
			 "ends at %u: not used", rz->name, z->serial,
			 diffs[n - 1]->to);
		zone_free(z);
		return NULL;
	}
	z->loaded_at = sb.st_mtime;
	return z;
}

/*
 * At the start: the zone file is compared with the version served before
 * the restart (the stored copy the journal leads to), so a file changed
 * while the daemon was down is a change like any other and a serial the
 * policy gave is kept. Without that copy the journal goes on from the
 * file's version when it leads to it, or is cleared. Returns the version
 * to serve.
 */
static struct zone *primary_started(struct repl_zone *rz, struct zone *file,
				    struct zone_reload_status *st)
{
	size_t n;
	struct zone_diff *const *diffs;
	if (rz->journal == NULL)
		return file;
	struct zone *before = journaled_version(rz);
	if (before != NULL) {
		free(before->source);
		before->source = file->source != NULL ? strdup(file->source) : NULL;
		before->file_id = file->file_id;
		rz->stored = true;
		rz->stored_serial = before->serial;
		struct zone *z = primary_changed(rz, before, file, st);
		if (z == before) {
			/* Unchanged (or refused): the copy serves, with its
			 * history. */
			diffs = zone_journal_diffs(rz->journal, &n);
			zone_set_history(before, diffs, n);
			st->serial = before->serial;
		} else {
			zone_free(before);
		}
		zone_journal_diffs(rz->journal, &n);
		log_info("zone %s: journal of %zu changes up to serial %u",
			 rz->name, n, z->serial);
		return z;
	}
	diffs = zone_journal_diffs(rz->journal, &n);
	if (n == 0)
		return file;
	if (diffs[n - 1]->to == file->serial) {
		if (zone_set_history(file, diffs, n) == 0)
			log_info("zone %s: journal of %zu changes, serials %u "
				 "to %u", rz->name, n, diffs[0]->from,
				 diffs[n - 1]->to);
		return file;
	}
	log_notice("zone %s: the journal ends at serial %u, the file has %u: "
		   "journal cleared (IXFR starts again from here)", rz->name,
		   diffs[n - 1]->to, file->serial);
	zone_journal_clear(rz->journal);
	return file;
}

int ctl_repl_prepare(struct ctl *ctl, const struct zone_set *cur,
		     struct zone_set **next, struct zone_reload_status *st_own)
{
	struct zone_set *in = *next;
	struct zone **arr = calloc(in->count + ctl->nzones + 1, sizeof(*arr));
	size_t n = 0;
	int ret = ANYDNS_ENOMEM;

	if (arr == NULL)
		goto out;
	for (size_t i = 0; i < in->count; i++)
		arr[n++] = in->zones[i];
	for (size_t k = 0; k < ctl->nsources; k++) {
		struct repl_zone *rz = &ctl->repl->zones[ctl->source_zone[k]];
		struct zone_reload_status *st = &st_own[k];
		if (st->state != ZONE_RELOAD_LOADED)
			continue;
		size_t at = 0;
		while (at < n && !dns_name_equal(arr[at]->apex_name, rz->apex))
			at++;
		if (at == n)
			continue;
		struct zone *zold = cur != NULL ? zone_set_get(cur, rz->apex) : NULL;
		if (zold != NULL && zold->servfail)
			zold = NULL;
		if (zold == NULL) {
			arr[at] = primary_started(rz, arr[at], st);
			continue;
		}
		arr[at] = primary_changed(rz, zold, arr[at], st);
	}
	for (size_t i = 0; i < ctl->nzones; i++) {
		struct repl_zone *rz = &ctl->repl->zones[i];
		if (!rz->secondary)
			continue;
		struct zone *z = cur != NULL ? zone_set_get(cur, rz->apex) : NULL;
		if (z == NULL && (z = initial_secondary(ctl, rz)) == NULL)
			goto out;
		arr[n++] = z;
	}
	struct zone_set *out_set = NULL;
	ret = zone_set_new(arr, n, &out_set);
	if (ret != 0) {
		/* Zones nobody holds (new copies, first loads) go now. */
		for (size_t i = 0; i < n; i++)
			if (arr[i]->refs == 0)
				zone_free(arr[i]);
		goto out;
	}
	*next = out_set;
out:
	free(arr);
	zone_set_free(in);
	if (ret != 0)
		*next = NULL;
	return ret;
}

void ctl_repl_published(struct ctl *ctl)
{
	if (ctl->repl == NULL)
		return;
	pthread_mutex_lock(&ctl->lock);
	for (size_t i = 0; i < ctl->nzones; i++) {
		struct repl_zone *rz = &ctl->repl->zones[i];
		ctl->repl_status[i].journal_size =
			rz->journal != NULL ? zone_journal_size(rz->journal) : 0;
	}
	pthread_mutex_unlock(&ctl->lock);
	for (size_t i = 0; i < ctl->nzones; i++) {
		struct repl_zone *rz = &ctl->repl->zones[i];
		const struct zone *z = served(ctl, rz->apex);
		if (rz->secondary && !rz->started) {
			rz->started = true;
			uv_timer_start(&rz->refresh, on_refresh, 0, 0);
		}
		/* The version a journal leads to is stored, so a restart
		 * finds it (a secondary stores what it pulls). */
		if (!rz->secondary && rz->journal != NULL && z != NULL &&
		    (!rz->stored || rz->stored_serial != z->serial))
			store_start(rz, (struct zone *)z);
		if (rz->ntargets > 0 && z != NULL &&
		    (!rz->told || rz->told_serial != z->serial))
			notify_all(rz, z->serial);
	}
}

/* ---- the end -------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_closed);
}

void ctl_repl_quiet(struct ctl *ctl)
{
	struct ctl_repl *r = ctl->repl;
	if (r == NULL)
		return;
	r->closing = true;
	for (size_t i = 0; r->zones != NULL && i < ctl->nzones; i++) {
		struct repl_zone *rz = &r->zones[i];
		for (size_t k = 0; k < rz->ntargets; k++) {
			if (rz->targets[k].handles) {
				uv_udp_recv_stop(&rz->targets[k].udp);
				uv_timer_stop(&rz->targets[k].timer);
			}
		}
		if (rz->timers) {
			uv_timer_stop(&rz->refresh);
			uv_timer_stop(&rz->expire);
		}
	}
	if (r->async_ready)
		uv_unref((uv_handle_t *)&r->async);
}

void ctl_repl_close(struct ctl *ctl)
{
	struct ctl_repl *r = ctl->repl;
	if (r == NULL)
		return;
	r->closing = true;
	/* Pulls and stores under way finish (bounded by the transfer
	 * timeout); their results are dropped. */
	while (r->jobs > 0)
		uv_run(&ctl->loop, UV_RUN_ONCE);
	for (size_t i = 0; r->zones != NULL && i < ctl->nzones; i++) {
		struct repl_zone *rz = &r->zones[i];
		for (size_t k = 0; k < rz->ntargets; k++) {
			struct repl_target *t = &rz->targets[k];
			if (t->handles) {
				close_handle((uv_handle_t *)&t->udp);
				close_handle((uv_handle_t *)&t->timer);
			}
			dns_tsig_ctx_clear(&t->tsig);
		}
		if (rz->timers) {
			close_handle((uv_handle_t *)&rz->refresh);
			close_handle((uv_handle_t *)&rz->expire);
		}
	}
	if (r->async_ready)
		close_handle((uv_handle_t *)&r->async);
}

void ctl_repl_free(struct ctl *ctl)
{
	struct ctl_repl *r = ctl->repl;
	if (r == NULL)
		return;
	for (size_t i = 0; r->zones != NULL && i < ctl->nzones; i++) {
		zone_journal_close(r->zones[i].journal);
		free(r->zones[i].targets);
		free(r->zones[i].copy);
	}
	pthread_mutex_destroy(&r->qlock);
	free(r->zones);
	free(r->queue);
	free(r->keys);
	free(r->acls);
	free(r->pol);
	free(r);
	ctl->repl = NULL;
}
