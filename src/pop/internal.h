/*
 * What the files of src/pop share: the runtime state of the PoP and of
 * each network, the announce policy's state machine (policy.c), the
 * lifecycle and stop sequence (pop.c) and the one file of operating-system
 * specifics, netlink (netlink.c).
 */
#ifndef ANYDNS_POP_INTERNAL_H
#define ANYDNS_POP_INTERNAL_H

#include "pop/pop.h"

/* ---- policy.c: one network's announce state machine ------------------ */

enum pop_net_event {
	POP_EV_HEALTHY = 0,	/* every check up (and the zones loaded) */
	POP_EV_UNHEALTHY,	/* a check is not up */
	POP_EV_DRAIN,		/* the operator drains the network */
	POP_EV_UNDRAIN,		/* the operator ends the drain */
	POP_EV_DRAIN_DONE,	/* the drain time is over */
	POP_EV_STOP,		/* the PoP stops: drain, then withdraw */
};

const char *pop_net_event_name(enum pop_net_event ev);

struct pop;
struct pop_net;

/* A check of a network, the argument of its change callback. */
struct pop_check {
	struct pop_net *net;
	struct health_check *hc;
};

struct pop_net {
	struct pop *pop;
	size_t index;
	struct pop_network_conf conf;	/* conf.checks is not kept */
	enum pop_net_state state;
	uint64_t since_ms;
	uint64_t changes;
	char reason[POP_TEXT_MAX];
	bool healthy;			/* as last told */
	/* The routes: the distinct prefixes of the addresses. */
	struct bgp_prefix routes[POP_MAX_ADDRS];
	size_t route_count;
	bool gshut;			/* announced with 65535:0 */
	bool addr_present[POP_MAX_ADDRS];
	bool addr_added[POP_MAX_ADDRS];
	struct pop_check *checks;
	size_t check_count;
	uv_timer_t drain_timer;
};

/* The stop sequence, in order. */
enum pop_phase {
	POP_RUNNING = 0,
	POP_STOP_DRAINING,	/* networks drain, then are withdrawn */
	POP_STOP_FLUSHING,	/* waiting for bgp_speaker_flushed() */
	POP_STOP_GRACE,		/* withdraw_grace_ms before the addresses go */
	POP_STOPPED,
};

struct pop {
	uv_loop_t *loop;
	struct bgp_speaker *sp;		/* NULL: no BGP */
	struct pop_conf conf;		/* conf.networks is not kept */
	struct pop_net *nets;
	size_t count;
	bool ready;			/* the zones are loaded */
	enum pop_phase phase;
	uint32_t stop_drain_ms;
	uint64_t flush_deadline;
	uv_timer_t stop_timer;
	void (*done)(void *arg);
	void *done_arg;
	int open_handles;
	bool freeing;
};

/*
 * Feeds one event to the network's machine; why says what caused it (a
 * check's reason, "drained by the operator"). Sends the typed records the
 * transition calls for to the speaker (announce, announce with 65535:0,
 * withdraw) and logs and counts every change of state.
 */
void pop_net_fsm(struct pop_net *n, enum pop_net_event ev, const char *why);

/* The network's checks say healthy or not (why: the first check not up,
 * or "all N checks up"): the event for the machine. */
void pop_net_health(struct pop_net *n, bool healthy, const char *why);

/* pop.c: moves the stop sequence on once no network is announced. */
void pop_stop_progress(struct pop *pop);

/* pop.c: "192.0.2.1/32", "2001:db8::53/128" for logs. (Written here
 * rather than taken from src/bgp, so the policy's only calls into the
 * speaker are the typed records and bgp_speaker_flushed().) */
void pop_prefix_text(const struct bgp_prefix *p, char *buf, size_t len);

/* ---- netlink.c: addresses on interfaces (rtnetlink(7), libmnl) --------- */

/*
 * Puts address a (with its prefix length) on interface ifname: IPv6 with
 * IFA_F_NODAD, so it is usable at once and never "tentative". *added is
 * false when the address was there already. Errors: ANYDNS_ENOENT (no such
 * interface), a system error as -errno (-EPERM without CAP_NET_ADMIN).
 */
int pop_netlink_addr_add(const char *ifname, const struct bgp_prefix *a,
			 bool *added);

/* Removes it; an address already gone is not an error. */
int pop_netlink_addr_del(const char *ifname, const struct bgp_prefix *a);

#endif
