/*
 * A health check's life on the control thread's libuv loop: a round timer
 * (the first round at once, then one per interval), a timeout timer for
 * the round under way and the hold-down timer of the hysteresis. A DNS
 * probe keeps one connected UDP socket (RFC 1035 §4.2.1) to its target,
 * so an ICMP port unreachable fails the round at once instead of at the
 * timeout, and a fresh random ID per round tells a late reply from the
 * awaited one; a zones check asks its callback; a command check is in
 * command.c. Every result goes through health_fsm_event() (fsm.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "health/internal.h"
#include "lib/log.h"

const char *health_kind_name(enum health_kind kind)
{
	switch (kind) {
	case HEALTH_DNS: return "dns";
	case HEALTH_ZONES: return "zones";
	case HEALTH_COMMAND: return "command";
	}
	return "?";
}

void health_timing_init(struct health_timing *t)
{
	t->interval_ms = 100;
	t->timeout_ms = 50;
	t->rise = 3;
	t->fall = 2;
	t->hold_down_ms = 5000;
}

void health_check_conf_init(struct health_check_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = HEALTH_DNS;
	health_timing_init(&c->timing);
	c->expect_rcode = DNS_RCODE_NOERROR;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- results ------------------------------------------------------------ */

static void on_hold(uv_timer_t *t);

static void on_fsm_changed(struct health_fsm *f, enum health_state from,
			   enum health_state to, const char *why)
{
	struct health_check *hc = f->arg;
	uv_timer_stop(&hc->hold_timer);
	if (to == HEALTH_HELD) {
		uint64_t now = uv_now(hc->loop);
		uint64_t wait = f->hold_until_ms > now ? f->hold_until_ms - now : 0;
		uv_timer_start(&hc->hold_timer, on_hold, wait, 0);
	}
	if (hc->cb != NULL && hc->running)
		hc->cb(hc->arg, hc, from, to, why);
}

void health_check_result(struct health_check *hc, bool pass, const char *why)
{
	uv_timer_stop(&hc->timeout_timer);
	hc->reconnect = !pass;
	snprintf(hc->last, sizeof(hc->last), "%s: %.150s",
		 pass ? "pass" : "fail", why);
	if (!pass)
		log_debug("health %s: failed: %s", hc->conf.name, why);
	health_fsm_event(&hc->fsm, pass ? HEALTH_EV_PASS : HEALTH_EV_FAIL,
			 uv_now(hc->loop), why);
}

static void on_hold(uv_timer_t *t)
{
	struct health_check *hc = t->data;
	health_fsm_event(&hc->fsm, HEALTH_EV_HOLD_EXPIRED, uv_now(hc->loop),
			 "hold-down over");
}

/* ---- the DNS probe -------------------------------------------------------- */

static uint16_t next_id(struct health_check *hc)
{
	/* xorshift32: IDs need not be secret here (the socket is connected
	 * to our own address), only different from round to round. */
	uint32_t x = hc->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	hc->rng = x;
	return (uint16_t)(x >> 8);
}

static void on_sock(uv_poll_t *p, int status, int events);

/*
 * The probe's socket lives as long as the check: errors a connected UDP
 * socket reports (ECONNREFUSED from an ICMP port unreachable, ENETUNREACH)
 * are per datagram and leave it usable. Only a socket that could not be
 * created or connected is tried again at the next round.
 *
 * A connected socket keeps the route it was connected with. An IPv6
 * anycast address put on lo a moment before has only the main table's
 * reject route until its local route appears, and the socket would keep
 * that reject route for good. So after a failed round the socket is
 * connected again, which looks the route up afresh.
 */
static int sock_open(struct health_check *hc)
{
	const struct sockaddr_storage *t = &hc->conf.target;
	socklen_t len = t->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						  sizeof(struct sockaddr_in6);
	if (hc->fd >= 0)
		return 0;
	int fd = socket(t->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)t, len) != 0) {
		int ret = -errno;
		close(fd);
		return ret;
	}
	if (uv_poll_init(hc->loop, &hc->sock_poll, fd) != 0) {
		close(fd);
		return ANYDNS_EIO;
	}
	hc->sock_poll.data = hc;
	hc->open_handles++;
	hc->fd = fd;
	return 0;
}

static int sock_watch(struct health_check *hc)
{
	if (hc->sock_polling)
		return 0;
	if (uv_poll_start(&hc->sock_poll, UV_READABLE, on_sock) != 0)
		return ANYDNS_EIO;
	hc->sock_polling = true;
	return 0;
}

static void dns_round(struct health_check *hc)
{
	uint8_t q[DNS_NAME_MAXLEN + 64];
	char why[HEALTH_TEXT_MAX];

	if (hc->waiting) {
		/* A timeout as long as the interval: its round ends here. */
		hc->waiting = false;
		snprintf(why, sizeof(why), "no answer within %ums",
			 hc->conf.timing.timeout_ms);
		health_check_result(hc, false, why);
	}
	int ret = sock_open(hc);
	if (ret == 0 && hc->reconnect) {
		const struct sockaddr_storage *t = &hc->conf.target;
		socklen_t tlen = t->ss_family == AF_INET ?
			sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		if (connect(hc->fd, (const struct sockaddr *)t, tlen) != 0)
			ret = -errno;
	}
	if (ret == 0)
		ret = sock_watch(hc);
	if (ret != 0) {
		snprintf(why, sizeof(why), "cannot reach the address: %s",
			 anydns_strerror(ret));
		health_check_result(hc, false, why);
		return;
	}
	hc->id = next_id(hc);
	size_t len = health_probe_query(q, sizeof(q), hc->id, hc->conf.qname,
					hc->conf.qtype);
	ssize_t n = send(hc->fd, q, len, 0);
	if (n != (ssize_t)len) {
		snprintf(why, sizeof(why), "cannot send the query: %s",
			 n < 0 ? anydns_strerror(-errno) : "short send");
		health_check_result(hc, false, why);
		return;
	}
	hc->waiting = true;
	hc->sent_ns = mono_ns();
	uv_timer_start(&hc->timeout_timer, health_check_on_timeout,
		       hc->conf.timing.timeout_ms, 0);
}

static void on_sock(uv_poll_t *p, int status, int events)
{
	struct health_check *hc = p->data;
	uint8_t buf[4096];
	char why[HEALTH_TEXT_MAX], judged[HEALTH_TEXT_MAX];
	(void)events;
	(void)status;	/* a failed poll shows as a failed recv() */
	for (;;) {
		ssize_t n = recv(hc->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			/* ECONNREFUSED: nothing listens on the port. The
			 * error is consumed; anything queued behind it makes
			 * the socket readable again. */
			int err = -errno;
			if (hc->waiting) {
				hc->waiting = false;
				snprintf(why, sizeof(why), "%s",
					 anydns_strerror(err));
				health_check_result(hc, false, why);
			}
			return;
		}
		if (!hc->waiting)
			continue;	/* late: its round already failed */
		int ret = health_probe_judge(buf, (size_t)n, hc->id,
					     hc->conf.qname, hc->conf.qtype,
					     hc->conf.expect_rcode,
					     hc->expect_rdata, judged,
					     sizeof(judged));
		if (ret == ANYDNS_EAGAIN)
			continue;
		hc->waiting = false;
		double ms = (double)(mono_ns() - hc->sent_ns) / 1e6;
		snprintf(why, sizeof(why), "%.130s in %.2fms", judged, ms);
		health_check_result(hc, ret == 0, why);
	}
}

/* ---- rounds ------------------------------------------------------------- */

static void zones_round(struct health_check *hc)
{
	char why[HEALTH_TEXT_MAX] = "zones loaded";
	bool ok = hc->conf.zones_fn(hc->conf.zones_arg,
				    (const uint8_t *const *)hc->zone_ptrs,
				    hc->conf.zone_count, why, sizeof(why));
	health_check_result(hc, ok, why);
}

static void on_round(uv_timer_t *t)
{
	struct health_check *hc = t->data;
	switch (hc->conf.kind) {
	case HEALTH_DNS:
		dns_round(hc);
		break;
	case HEALTH_ZONES:
		zones_round(hc);
		break;
	case HEALTH_COMMAND:
		health_command_round(hc);
		break;
	}
}

void health_check_on_timeout(uv_timer_t *t)
{
	struct health_check *hc = t->data;
	char why[HEALTH_TEXT_MAX];
	if (hc->conf.kind == HEALTH_COMMAND) {
		health_command_timeout(hc);
		return;
	}
	if (!hc->waiting)
		return;
	hc->waiting = false;
	snprintf(why, sizeof(why), "no answer within %ums",
		 hc->conf.timing.timeout_ms);
	health_check_result(hc, false, why);
}

/* ---- lifecycle ---------------------------------------------------------- */

static char *dup_or_null(const char *s, bool *failed)
{
	if (s == NULL)
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*failed = true;
	return d;
}

static bool target_valid(const struct sockaddr_storage *t)
{
	if (t->ss_family == AF_INET)
		return ((const struct sockaddr_in *)t)->sin_port != 0;
	if (t->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)t)->sin6_port != 0;
	return false;
}

static void free_copies(struct health_check *hc)
{
	free(hc->expect_rdata);
	free(hc->command);
	free(hc->zones);
	free(hc->zone_ptrs);
}

int health_check_new(uv_loop_t *loop, const struct health_check_conf *conf,
		     health_change_fn cb, void *arg, struct health_check **out)
{
	const struct health_timing *t = &conf->timing;
	if (t->interval_ms == 0 || t->timeout_ms == 0 ||
	    t->timeout_ms > t->interval_ms || t->rise == 0 || t->fall == 0 ||
	    (conf->kind == HEALTH_DNS && !target_valid(&conf->target)) ||
	    (conf->kind == HEALTH_ZONES && conf->zones_fn == NULL) ||
	    (conf->kind == HEALTH_COMMAND &&
	     (conf->command == NULL || conf->command[0] == '\0')))
		return ANYDNS_EINVAL;

	struct health_check *hc = calloc(1, sizeof(*hc));
	if (hc == NULL)
		return ANYDNS_ENOMEM;
	bool nomem = false;
	hc->loop = loop;
	hc->conf = *conf;
	hc->conf.name[sizeof(hc->conf.name) - 1] = '\0';
	hc->expect_rdata = dup_or_null(conf->expect_rdata, &nomem);
	hc->command = dup_or_null(conf->command, &nomem);
	hc->conf.expect_rdata = hc->expect_rdata;
	hc->conf.command = hc->command;
	size_t nz = conf->kind == HEALTH_ZONES ? conf->zone_count : 0;
	if (nz > 0) {
		hc->zones = calloc(nz, sizeof(*hc->zones));
		hc->zone_ptrs = calloc(nz, sizeof(*hc->zone_ptrs));
		nomem |= hc->zones == NULL || hc->zone_ptrs == NULL;
		for (size_t i = 0; !nomem && i < nz; i++) {
			memcpy(hc->zones[i], conf->zones[i],
			       dns_name_len(conf->zones[i]));
			hc->zone_ptrs[i] = hc->zones[i];
		}
	}
	hc->conf.zones = NULL;
	hc->conf.zone_count = nz;
	if (nomem) {
		free_copies(hc);
		free(hc);
		return ANYDNS_ENOMEM;
	}
	hc->cb = cb;
	hc->arg = arg;
	hc->fd = -1;
	hc->pidfd = -1;
	if (getrandom(&hc->rng, sizeof(hc->rng), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(hc->rng))
		hc->rng = (uint32_t)mono_ns();
	hc->rng |= 1;	/* xorshift never leaves 0 */
	snprintf(hc->last, sizeof(hc->last), "no result yet");

	uv_timer_init(loop, &hc->round_timer);
	uv_timer_init(loop, &hc->timeout_timer);
	uv_timer_init(loop, &hc->hold_timer);
	hc->round_timer.data = hc->timeout_timer.data = hc->hold_timer.data = hc;
	hc->open_handles = 3;

	health_fsm_init(&hc->fsm, hc->conf.name, t, uv_now(loop));
	hc->fsm.changed = on_fsm_changed;
	hc->fsm.arg = hc;
	*out = hc;
	return 0;
}

int health_check_start(struct health_check *hc)
{
	if (hc->running || hc->closing)
		return 0;
	hc->running = true;
	uv_update_time(hc->loop);
	if (uv_timer_start(&hc->round_timer, on_round, 0,
			   hc->conf.timing.interval_ms) != 0)
		return ANYDNS_EIO;
	return 0;
}

void health_check_stop(struct health_check *hc)
{
	if (hc == NULL)
		return;
	hc->running = false;
	uv_timer_stop(&hc->round_timer);
	uv_timer_stop(&hc->timeout_timer);
	uv_timer_stop(&hc->hold_timer);
	hc->waiting = false;
	if (hc->sock_polling) {
		uv_poll_stop(&hc->sock_poll);
		hc->sock_polling = false;
	}
	health_command_abandon(hc);
}

void health_check_handle_closed(struct health_check *hc)
{
	if (--hc->open_handles > 0 || !hc->closing)
		return;
	free_copies(hc);
	free(hc);
}

static void on_closed(uv_handle_t *h)
{
	struct health_check *hc = h->data;
	/* libuv leaves a polled descriptor to its owner, to close once the
	 * handle is gone. */
	if (h == (uv_handle_t *)&hc->sock_poll && hc->fd >= 0) {
		close(hc->fd);
		hc->fd = -1;
	}
	health_check_handle_closed(hc);
}

void health_check_free(struct health_check *hc)
{
	if (hc == NULL || hc->closing)
		return;
	health_check_stop(hc);
	hc->closing = true;
	uv_close((uv_handle_t *)&hc->round_timer, on_closed);
	uv_close((uv_handle_t *)&hc->timeout_timer, on_closed);
	uv_close((uv_handle_t *)&hc->hold_timer, on_closed);
	if (hc->fd >= 0)
		uv_close((uv_handle_t *)&hc->sock_poll, on_closed);
}

/* ---- status ------------------------------------------------------------- */

void health_check_status(const struct health_check *hc,
			 struct health_status *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", hc->conf.name);
	out->kind = hc->conf.kind;
	out->state = hc->fsm.state;
	out->since_ms = hc->fsm.since_ms;
	out->changes = hc->fsm.changes;
	out->passes = hc->fsm.total_passes;
	out->failures = hc->fsm.total_failures;
	snprintf(out->reason, sizeof(out->reason), "%s", hc->fsm.reason);
	snprintf(out->last, sizeof(out->last), "%s", hc->last);
}

enum health_state health_check_state(const struct health_check *hc)
{
	return hc->fsm.state;
}

const char *health_check_name(const struct health_check *hc)
{
	return hc->conf.name;
}
