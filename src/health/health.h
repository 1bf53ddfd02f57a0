/*
 * src/health — the health checks of a PoP's anycast networks, run on the
 * control thread's libuv loop: a DNS probe of the local service on one
 * anycast address (a UDP query, RFC 1035 §4.1, judged by its RCODE and,
 * optionally, the RDATA of its answer in RFC 1035 §5.1 / RFC 3597 §5
 * presentation form), the zones of a network loaded and not expired (asked
 * through a callback the daemon provides), or an external command (exit
 * status 0 passes; it is killed when it runs out of time).
 *
 * Every result goes through the check's hysteresis, one explicit state
 * machine (internal.h: rise passes in a row bring it up, fall failures in
 * a row bring it down, and once down it stays down for at least the
 * hold-down time, so a flapping check cannot flap a route; going down is
 * never delayed). Each change of state is logged with its reason, counted,
 * and reported to the owner's callback, which decides what it means for
 * routing (src/pop). Nothing here knows BGP.
 */
#ifndef ANYDNS_HEALTH_HEALTH_H
#define ANYDNS_HEALTH_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "dns/dns.h"
#include "lib/errcode.h"

#define HEALTH_NAME_MAX 96
#define HEALTH_TEXT_MAX 160

enum health_kind {
	HEALTH_DNS = 0,		/* a UDP query to an address of the service */
	HEALTH_ZONES,		/* the zones are loaded and not expired */
	HEALTH_COMMAND,		/* /bin/sh -c COMMAND exits with 0 */
};

/* "dns", "zones", "command". */
const char *health_kind_name(enum health_kind kind);

/* A check's verdict: the state of its hysteresis. Only UP is healthy. */
enum health_state {
	HEALTH_INIT = 0,	/* no verdict yet */
	HEALTH_UP,
	HEALTH_DOWN,
	HEALTH_HELD,		/* passing, kept down until the hold-down
				 * time since it went down has passed */
};

/* "init", "up", "down", "held". */
const char *health_state_name(enum health_state state);

/* How a check runs and judges; every field is used by every kind. */
struct health_timing {
	uint32_t interval_ms;	/* a new round this often (> 0) */
	uint32_t timeout_ms;	/* a round without a result by then fails;
				 * at most interval_ms */
	uint16_t rise;		/* passes in a row that bring it up (>= 1) */
	uint16_t fall;		/* failures in a row that bring it down */
	uint32_t hold_down_ms;	/* least time down before up again */
};

/* The defaults: 100 ms interval, 50 ms timeout, rise 3, fall 2, hold-down
 * 5 s. A stopped DNS service fails two probes 150 to 250 ms after it
 * stopped (the first probe after it stopped, then the next one, each
 * waiting 50 ms): the route goes well within 300 ms. */
void health_timing_init(struct health_timing *t);

/*
 * Asked every round by a HEALTH_ZONES check: true when every zone named
 * (n apexes in wire form; n == 0 means every configured zone) is loaded
 * and not expired; otherwise false with a one-line reason in why. Runs on
 * the loop's thread and must not block.
 */
typedef bool (*health_zones_fn)(void *arg, const uint8_t *const *apexes,
				size_t n, char *why, size_t whylen);

struct health_check_conf {
	char name[HEALTH_NAME_MAX];	/* for logs and status */
	enum health_kind kind;
	struct health_timing timing;

	/* HEALTH_DNS: the question is sent to target (address and port). */
	struct sockaddr_storage target;
	uint8_t qname[DNS_NAME_MAXLEN];	/* wire form */
	uint16_t qtype;
	uint8_t expect_rcode;
	/* Presentation form the RDATA of one answer record of qname and
	 * qtype must have; NULL: any answer with the RCODE passes. */
	const char *expect_rdata;

	/* HEALTH_ZONES */
	const uint8_t *const *zones;	/* apexes, wire form */
	size_t zone_count;		/* 0: every configured zone */
	health_zones_fn zones_fn;
	void *zones_arg;

	/* HEALTH_COMMAND: run by /bin/sh -c in its own process group, with
	 * stdin and stdout on /dev/null; killed (the group) at the timeout. */
	const char *command;
};

/* Fills c with no name, kind HEALTH_DNS, health_timing_init() and
 * NOERROR expected. */
void health_check_conf_init(struct health_check_conf *c);

struct health_check;

/* Called on the loop's thread when a check changes state, after the
 * change is logged; reason says why ("2 failures in a row: timeout"). */
typedef void (*health_change_fn)(void *arg, struct health_check *hc,
				 enum health_state from, enum health_state to,
				 const char *reason);

/*
 * A check on loop, in state HEALTH_INIT, not running yet. Everything in
 * conf is copied (strings and zone names too), but zones_arg must outlive
 * the check. *out is owned by the caller: health_check_free().
 * Errors: ANYDNS_EINVAL (timing out of bounds, a DNS target that is not
 * IPv4/IPv6 with a port, a command or zones callback missing),
 * ANYDNS_ENOMEM.
 */
int health_check_new(uv_loop_t *loop, const struct health_check_conf *conf,
		     health_change_fn cb, void *arg, struct health_check **out);

/* Starts the rounds: the first one at once, then one per interval. */
int health_check_start(struct health_check *hc);

/* Stops the rounds; a probe or command under way is abandoned (a command
 * is killed). The state stays as it was; no callback is made any more. */
void health_check_stop(struct health_check *hc);

/* Stops hc and frees it once its handles are closed (the loop must run
 * on to finish that). NULL is fine. */
void health_check_free(struct health_check *hc);

/* What `anydnsc networks` and the metrics show of a check. */
struct health_status {
	char name[HEALTH_NAME_MAX];
	enum health_kind kind;
	enum health_state state;
	uint64_t since_ms;		/* loop time (uv_now) of the last change */
	uint64_t changes;		/* state changes since it was created */
	uint64_t passes, failures;	/* results counted */
	char reason[HEALTH_TEXT_MAX];	/* why the last change happened */
	char last[HEALTH_TEXT_MAX];	/* the latest result */
};

void health_check_status(const struct health_check *hc,
			 struct health_status *out);

enum health_state health_check_state(const struct health_check *hc);
const char *health_check_name(const struct health_check *hc);

#endif
