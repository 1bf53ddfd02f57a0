/*
 * The hysteresis of a health check as one explicit state machine: states
 * INIT, UP, DOWN and HELD; events PASS, FAIL and HOLD_EXPIRED; one
 * function that switches on the state then the event, and one
 * change_state() that logs from → to and why and counts the change.
 *
 * rise passes in a row bring a check up, fall failures in a row bring it
 * down. Once a check went down from up, it stays down for hold_down_ms
 * even if it passes meanwhile (HELD: "would be up"), so a check that
 * flaps cannot flap the route it guards more than once per hold-down.
 * Going down is never delayed: announcing a route to a dead service costs
 * queries, keeping a healthy one withdrawn a little longer costs nothing.
 * The first verdict after start (from INIT) is not held either, so a
 * restarted PoP is announced as soon as it passes rise probes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "health/internal.h"
#include "lib/log.h"

const char *health_state_name(enum health_state state)
{
	switch (state) {
	case HEALTH_INIT: return "init";
	case HEALTH_UP: return "up";
	case HEALTH_DOWN: return "down";
	case HEALTH_HELD: return "held";
	}
	return "?";
}

const char *health_event_name(enum health_event ev)
{
	switch (ev) {
	case HEALTH_EV_PASS: return "pass";
	case HEALTH_EV_FAIL: return "fail";
	case HEALTH_EV_HOLD_EXPIRED: return "hold-expired";
	}
	return "?";
}

void health_fsm_init(struct health_fsm *f, const char *name,
		     const struct health_timing *t, uint64_t now)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->state = HEALTH_INIT;
	f->rise = t->rise > 0 ? t->rise : 1;
	f->fall = t->fall > 0 ? t->fall : 1;
	f->hold_down_ms = t->hold_down_ms;
	f->since_ms = now;
	snprintf(f->reason, sizeof(f->reason), "not checked yet");
}

static void change_state(struct health_fsm *f, enum health_state to,
			 uint64_t now, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void change_state(struct health_fsm *f, enum health_state to,
			 uint64_t now, const char *fmt, ...)
{
	enum health_state from = f->state;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	f->state = to;
	f->since_ms = now;
	f->changes++;
	/* Up and down move routes: operators want them by default. */
	enum log_level lvl = to == HEALTH_UP || to == HEALTH_DOWN ?
			     LOG_LVL_NOTICE : LOG_LVL_INFO;
	log_msg(lvl, "health %s: %s -> %s: %s", f->name,
		health_state_name(from), health_state_name(to), f->reason);
	if (f->changed != NULL)
		f->changed(f, from, to, f->reason);
}

static void count(struct health_fsm *f, enum health_event ev)
{
	if (ev == HEALTH_EV_PASS) {
		f->total_passes++;
		f->fails = 0;
		if (f->passes < UINT16_MAX)
			f->passes++;
	} else if (ev == HEALTH_EV_FAIL) {
		f->total_failures++;
		f->passes = 0;
		if (f->fails < UINT16_MAX)
			f->fails++;
	}
}

static void go_down(struct health_fsm *f, uint64_t now, const char *why)
{
	if (f->state == HEALTH_UP) {
		f->down_at_ms = now;
		f->hold = true;
	} else if (f->state == HEALTH_INIT) {
		f->hold = false;
	}
	change_state(f, HEALTH_DOWN, now, "%u failure%s in a row: %s",
		     f->fails, f->fails > 1 ? "s" : "", why);
}

/* Enough passes from DOWN: up, or held until the hold-down is over. */
static void rise_from_down(struct health_fsm *f, uint64_t now, const char *why)
{
	uint64_t until = f->down_at_ms + f->hold_down_ms;
	if (!f->hold || now >= until) {
		change_state(f, HEALTH_UP, now, "%u passes in a row: %s",
			     f->passes, why);
		return;
	}
	f->hold_until_ms = until;
	change_state(f, HEALTH_HELD, now, "%u passes in a row, held down "
		     "for %" PRIu64 "ms more", f->passes, until - now);
}

void health_fsm_event(struct health_fsm *f, enum health_event ev,
		      uint64_t now, const char *why)
{
	count(f, ev);
	switch (f->state) {
	case HEALTH_INIT:
		switch (ev) {
		case HEALTH_EV_PASS:
			if (f->passes >= f->rise)
				change_state(f, HEALTH_UP, now, "%u pass%s in "
					     "a row: %s", f->passes,
					     f->passes > 1 ? "es" : "", why);
			break;
		case HEALTH_EV_FAIL:
			if (f->fails >= f->fall)
				go_down(f, now, why);
			break;
		case HEALTH_EV_HOLD_EXPIRED:
			break;
		}
		break;
	case HEALTH_UP:
		switch (ev) {
		case HEALTH_EV_PASS:
		case HEALTH_EV_HOLD_EXPIRED:
			break;
		case HEALTH_EV_FAIL:
			if (f->fails >= f->fall)
				go_down(f, now, why);
			break;
		}
		break;
	case HEALTH_DOWN:
		switch (ev) {
		case HEALTH_EV_PASS:
			if (f->passes >= f->rise)
				rise_from_down(f, now, why);
			break;
		case HEALTH_EV_FAIL:
		case HEALTH_EV_HOLD_EXPIRED:
			break;
		}
		break;
	case HEALTH_HELD:
		switch (ev) {
		case HEALTH_EV_PASS:
			/* A late hold timer must not keep it down longer. */
			if (now >= f->hold_until_ms)
				change_state(f, HEALTH_UP, now, "hold-down over, "
					     "%u passes in a row", f->passes);
			break;
		case HEALTH_EV_FAIL:
			/* It no longer passes rise times in a row: plain
			 * down again, still counted from the same fall. */
			change_state(f, HEALTH_DOWN, now, "failed while held "
				     "down: %s", why);
			break;
		case HEALTH_EV_HOLD_EXPIRED:
			if (now >= f->hold_until_ms)
				change_state(f, HEALTH_UP, now, "hold-down over, "
					     "%u passes in a row", f->passes);
			break;
		}
		break;
	}
}
