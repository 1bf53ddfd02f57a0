/*
 * Unit tests for the hysteresis of health checks (src/health/fsm.c),
 * driven by synthetic results and a fake clock: the scenarios of
 * tests/unit/data/health/fsm.txt (rise, fall, the hold-down, flapping
 * suppressed, timeouts as failures) with the state after every event and
 * the number of changes, and the callback that reports each change with
 * its from, to and reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/internal.h"
#include "lib/log.h"

#define DATA "tests/unit/data/health/fsm.txt"

static enum health_state state_from(const char *s)
{
	static const enum health_state all[] = {
		HEALTH_INIT, HEALTH_UP, HEALTH_DOWN, HEALTH_HELD,
	};
	for (size_t i = 0; i < 4; i++)
		if (strcmp(health_state_name(all[i]), s) == 0)
			return all[i];
	fail_msg("unknown state '%s'", s);
	return HEALTH_INIT;
}

static enum health_event event_from(const char *s)
{
	if (strcmp(s, "pass") == 0)
		return HEALTH_EV_PASS;
	if (strcmp(s, "fail") == 0)
		return HEALTH_EV_FAIL;
	if (strcmp(s, "hold") == 0)
		return HEALTH_EV_HOLD_EXPIRED;
	fail_msg("unknown event '%s'", s);
	return HEALTH_EV_PASS;
}

/* Counts the callbacks and checks each one describes a real change. */
struct seen {
	unsigned calls;
	enum health_state last_from, last_to;
	char last_why[HEALTH_TEXT_MAX];
};

static void on_changed(struct health_fsm *f, enum health_state from,
		       enum health_state to, const char *why)
{
	struct seen *s = f->arg;
	assert_int_not_equal(from, to);
	assert_int_equal(f->state, to);
	s->calls++;
	s->last_from = from;
	s->last_to = to;
	snprintf(s->last_why, sizeof(s->last_why), "%s", why);
}

static void scenarios(void **state)
{
	(void)state;
	FILE *f = fopen(DATA, "r");
	assert_non_null(f);
	char line[256], name[64] = "";
	struct health_fsm fsm;
	struct seen seen;
	unsigned scen = 0, steps = 0, lineno = 0;
	bool open = false;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		unsigned rise, fall, changes;
		uint32_t hold;
		uint64_t t;
		char ev[16], st[16];
		if (sscanf(line, "scenario %63s %u %u %" SCNu32, name, &rise,
			   &fall, &hold) == 4) {
			assert_false(open);
			struct health_timing tm = { 100, 50, (uint16_t)rise,
						    (uint16_t)fall, hold };
			health_fsm_init(&fsm, name, &tm, 0);
			memset(&seen, 0, sizeof(seen));
			fsm.changed = on_changed;
			fsm.arg = &seen;
			open = true;
			scen++;
		} else if (sscanf(line, "%" SCNu64 " %15s => %15s", &t, ev,
				  st) == 3) {
			assert_true(open);
			health_fsm_event(&fsm, event_from(ev), t, "result");
			if (fsm.state != state_from(st))
				fail_msg("%s line %u: after %s at %" PRIu64
					 ": %s, want %s", name, lineno, ev, t,
					 health_state_name(fsm.state), st);
			steps++;
		} else if (sscanf(line, "changes %u", &changes) == 1) {
			assert_true(open);
			if (fsm.changes != changes)
				fail_msg("%s: %" PRIu64 " changes, want %u",
					 name, fsm.changes, changes);
			assert_int_equal(seen.calls, changes);
			open = false;
		} else {
			fail_msg("%s:%u: cannot read '%s'", DATA, lineno, line);
		}
	}
	fclose(f);
	assert_false(open);
	assert_int_equal(scen, 10);
	assert_int_equal(steps, 70);
}

/* The reasons say what happened, with the result that tipped it. */
static void reasons(void **state)
{
	(void)state;
	struct health_fsm fsm;
	struct seen seen;
	struct health_timing tm = { 100, 50, 2, 2, 1000 };
	memset(&seen, 0, sizeof(seen));
	health_fsm_init(&fsm, "test/dns", &tm, 0);
	fsm.changed = on_changed;
	fsm.arg = &seen;
	assert_string_equal(fsm.reason, "not checked yet");

	health_fsm_event(&fsm, HEALTH_EV_PASS, 0, "NOERROR");
	health_fsm_event(&fsm, HEALTH_EV_PASS, 100, "NOERROR, 1 answer");
	assert_string_equal(seen.last_why, "2 passes in a row: NOERROR, 1 answer");
	assert_int_equal(seen.last_from, HEALTH_INIT);
	assert_int_equal(seen.last_to, HEALTH_UP);
	assert_int_equal(fsm.since_ms, 100);

	health_fsm_event(&fsm, HEALTH_EV_FAIL, 200, "no answer within 50ms");
	health_fsm_event(&fsm, HEALTH_EV_FAIL, 300, "no answer within 50ms");
	assert_string_equal(fsm.reason, "2 failures in a row: no answer "
			    "within 50ms");
	assert_int_equal(seen.last_to, HEALTH_DOWN);
	assert_int_equal(fsm.down_at_ms, 300);

	health_fsm_event(&fsm, HEALTH_EV_PASS, 400, "ok");
	health_fsm_event(&fsm, HEALTH_EV_PASS, 500, "ok");
	assert_int_equal(fsm.state, HEALTH_HELD);
	assert_int_equal(fsm.hold_until_ms, 1300);
	assert_string_equal(fsm.reason, "2 passes in a row, held down for "
			    "800ms more");
	health_fsm_event(&fsm, HEALTH_EV_FAIL, 600, "REFUSED, expected NOERROR");
	assert_string_equal(fsm.reason, "failed while held down: REFUSED, "
			    "expected NOERROR");
	assert_int_equal(fsm.total_passes, 4);
	assert_int_equal(fsm.total_failures, 3);
	assert_int_equal(fsm.changes, 4);
	assert_int_equal(seen.calls, 4);
}

/* Counters saturate instead of wrapping back below rise or fall. */
static void counters_saturate(void **state)
{
	(void)state;
	struct health_fsm fsm;
	struct health_timing tm = { 100, 50, 1, 65535, 0 };
	health_fsm_init(&fsm, "sat", &tm, 0);
	health_fsm_event(&fsm, HEALTH_EV_PASS, 0, "ok");
	assert_int_equal(fsm.state, HEALTH_UP);
	for (uint64_t i = 1; i <= 70000; i++)
		health_fsm_event(&fsm, HEALTH_EV_FAIL, i, "bad");
	assert_int_equal(fsm.fails, 65535);
	assert_int_equal(fsm.state, HEALTH_DOWN);
	assert_int_equal(fsm.changes, 2);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scenarios),
		cmocka_unit_test(reasons),
		cmocka_unit_test(counters_saturate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
