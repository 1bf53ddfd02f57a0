/*
 * What the files of src/health share: the hysteresis state machine
 * (fsm.c), which knows no clock but the times it is given, so tests drive
 * it with a fake one; the DNS probe's message builder and judge (probe.c),
 * which do no I/O; and the runtime structure of a check (check.c runs the
 * rounds on the loop, command.c spawns and reaps commands).
 */
#ifndef ANYDNS_HEALTH_INTERNAL_H
#define ANYDNS_HEALTH_INTERNAL_H

#include <sys/types.h>

#include "health/health.h"

/* ---- fsm.c: the hysteresis ----------------------------------------------- */

enum health_event {
	HEALTH_EV_PASS = 0,	/* a round passed */
	HEALTH_EV_FAIL,		/* a round failed (or timed out) */
	HEALTH_EV_HOLD_EXPIRED,	/* the hold-down time is over */
};

const char *health_event_name(enum health_event ev);

struct health_fsm;

/* Told of every change, after it is logged. */
typedef void (*health_fsm_changed_fn)(struct health_fsm *f,
				      enum health_state from,
				      enum health_state to, const char *why);

struct health_fsm {
	const char *name;		/* the check's, for logs */
	enum health_state state;
	uint16_t rise, fall;
	uint32_t hold_down_ms;
	uint16_t passes, fails;		/* consecutive, saturating */
	uint64_t since_ms;		/* time of the last change */
	uint64_t down_at_ms;		/* when it last went down from up */
	bool hold;			/* the last fall was from up: the
					 * hold-down applies */
	uint64_t hold_until_ms;		/* HELD: when it may come up */
	uint64_t changes;
	uint64_t total_passes, total_failures;
	char reason[HEALTH_TEXT_MAX];	/* of the last change */
	health_fsm_changed_fn changed;	/* may be NULL */
	void *arg;			/* for the owner of changed */
};

/* A machine in HEALTH_INIT at time now. */
void health_fsm_init(struct health_fsm *f, const char *name,
		     const struct health_timing *t, uint64_t now);

/*
 * Feeds one event at time now (milliseconds of any monotonic clock); why
 * is the result's own text ("timeout after 50ms"). Entering HEALTH_HELD
 * sets hold_until_ms: the owner then delivers HEALTH_EV_HOLD_EXPIRED at
 * that time (a PASS at or after it does the same).
 */
void health_fsm_event(struct health_fsm *f, enum health_event ev,
		      uint64_t now, const char *why);

/* ---- probe.c: the DNS probe's messages ----------------------------------- */

/* The probe's query: id, RD clear, one question (qname, qtype, IN) and an
 * OPT record (RFC 6891) offering 1232 octets so the answer needs no TCP.
 * Returns the length, or 0 when buf is too small. */
size_t health_probe_query(uint8_t *buf, size_t cap, uint16_t id,
			  const uint8_t *qname, uint16_t qtype);

/*
 * Judges a reply read from the probe's socket. Returns:
 *   0              it passes; why gets a summary ("NOERROR, 1 answer");
 *   ANYDNS_EAGAIN  not the reply to this query (other ID, not a response,
 *                  another question): keep waiting;
 *   ANYDNS_EMALF   a reply that does not parse, or fails: why says how
 *                  ("REFUSED, expected NOERROR", "RDATA 192.0.2.9, expected
 *                  192.0.2.80").
 * Every octet is read through the wire cursor.
 */
int health_probe_judge(const uint8_t *pkt, size_t len, uint16_t id,
		       const uint8_t *qname, uint16_t qtype,
		       uint8_t expect_rcode, const char *expect_rdata,
		       char *why, size_t whylen);

/*
 * Writes the presentation form of the RDATA of type at the cursor's
 * position, rdlen octets, into buf (RFC 1035 §5.1: addresses, absolute
 * names, <character-string>s in quotes; RFC 3597 §5 "\# LEN HEX" for types
 * without a form here). Names inside may be compressed: they are followed
 * through c->base. Returns 0, or ANYDNS_EMALF when the RDATA is bad for
 * its type, ANYDNS_ESPACE when buf is too small.
 */
int health_rdata_text(struct wire_ctx *c, uint16_t type, uint16_t rdlen,
		      char *buf, size_t cap);

/* ---- check.c and command.c: the runtime ---------------------------------- */

struct health_check {
	uv_loop_t *loop;
	struct health_check_conf conf;	/* strings below are own copies */
	char *expect_rdata;
	char *command;
	uint8_t (*zones)[DNS_NAME_MAXLEN];
	const uint8_t **zone_ptrs;
	struct health_fsm fsm;
	health_change_fn cb;
	void *arg;
	char last[HEALTH_TEXT_MAX];

	uv_timer_t round_timer;		/* one round per interval */
	uv_timer_t timeout_timer;	/* the round under way ran out */
	uv_timer_t hold_timer;		/* HELD → UP */
	int open_handles;		/* closed: freed at 0 */
	bool running;
	bool closing;

	/* HEALTH_DNS */
	int fd;				/* connected UDP socket, or -1 */
	uv_poll_t sock_poll;
	bool sock_polling;
	bool waiting;			/* a query is out */
	bool reconnect;			/* the last probe round failed */
	uint16_t id;
	uint64_t sent_ns;
	uint32_t rng;

	/* HEALTH_COMMAND */
	pid_t pid;			/* 0: none running */
	int pidfd;
	uv_poll_t child_poll;		/* on pidfd, while the child runs */
	bool child_open;		/* child_poll initialised, not closed */
	bool timed_out;
};

/* check.c: one result of the round under way. */
void health_check_result(struct health_check *hc, bool pass, const char *why);
/* check.c: the timeout timer's callback, for either kind of round. */
void health_check_on_timeout(uv_timer_t *t);
/* check.c: one of hc's handles is closed; the last one of a check being
 * freed frees it. */
void health_check_handle_closed(struct health_check *hc);

/* command.c */
void health_command_round(struct health_check *hc);
void health_command_timeout(struct health_check *hc);
/* Kills and reaps a command still running (stop, free). */
void health_command_abandon(struct health_check *hc);

#endif
