/*
 * src/pop — the point of presence: its anycast networks, each a set of
 * prefixes announced and withdrawn together, and the wiring from their
 * health checks (src/health) to the BGP speaker (src/bgp). A network is
 * announced to every peer while all of its checks are up, withdrawn when
 * one is not, and nothing at all is announced before the zones are loaded.
 * Planned maintenance drains a network: its routes are announced again
 * with the GRACEFUL_SHUTDOWN community (RFC 8326, 65535:0) so routers move
 * traffic away while DNS is still answered, then withdrawn after the drain
 * time. Each network's addresses are put on an interface (lo or a dummy)
 * through netlink, and removed only when the daemon stops, after their
 * routes were withdrawn, the withdrawals left for every peer and a grace
 * time passed: an address never goes while a router may still send
 * queries to it.
 *
 * pop talks to the speaker only through typed calls that copy what they
 * are given (bgp_announce(), bgp_withdraw(), bgp_speaker_flushed()), on
 * the control thread's loop. Which zones a network serves is not pop's
 * business at run time: the daemon gives each network's addresses a view
 * of the zone set (zone_set_views(), server_conf.views).
 */
#ifndef ANYDNS_POP_POP_H
#define ANYDNS_POP_POP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bgp/bgp.h"
#include "health/health.h"
#include "lib/errcode.h"

#define POP_NAME_MAX 64
#define POP_MAX_ADDRS 64
#define POP_TEXT_MAX 224

/* One anycast network, as the daemon configures it. */
struct pop_network_conf {
	char name[POP_NAME_MAX];
	char interface[IF_NAMESIZE];	/* where the addresses go */
	/* Each address with its prefix length as written: the address is
	 * put on the interface with that length; the route announced is the
	 * prefix with the host bits cleared (one route for addresses that
	 * share it). */
	struct bgp_prefix addrs[POP_MAX_ADDRS];
	size_t addr_count;
	uint8_t prepend;
	uint8_t community_count;	/* at most BGP_MAX_COMMUNITIES - 1 */
	uint32_t communities[BGP_MAX_COMMUNITIES];
	uint8_t large_community_count;
	struct bgp_large_community large_communities[BGP_MAX_LARGE_COMMUNITIES];
	uint32_t drain_ms;		/* `drain`: GRACEFUL_SHUTDOWN this long */
	/* Its checks; copied by pop_new() (health_check_new() copies what
	 * they point to; zones_arg must outlive the pop). */
	const struct health_check_conf *checks;
	size_t check_count;
};

struct pop_conf {
	const struct pop_network_conf *networks;
	size_t network_count;
	/* pop_stop(): after the withdrawals left for every peer, the
	 * addresses stay this long. */
	uint32_t withdraw_grace_ms;
	/* pop_stop(): longest wait for the withdrawals to leave (a peer that
	 * does not read); the addresses go after it in any case. */
	uint32_t flush_wait_ms;
};

/* Fills c with no network, 500 ms grace and a 3 s flush wait. */
void pop_conf_init(struct pop_conf *c);

/* The announce state of a network: the states of its policy machine. */
enum pop_net_state {
	POP_NET_WITHDRAWN = 0,	/* not announced: a check is not up, or the
				 * zones are not loaded yet */
	POP_NET_ANNOUNCED,	/* announced to every peer */
	POP_NET_DRAINING,	/* announced with 65535:0 until the drain
				 * time is over */
	POP_NET_DRAINED,	/* withdrawn by the operator (or the stop) */
};

/* "withdrawn", "announced", "draining", "drained". */
const char *pop_net_state_name(enum pop_net_state s);

struct pop;

/*
 * A PoP on loop for the networks of conf (copied), announcing through sp,
 * which must outlive it; sp NULL: no BGP (states are kept, nothing is
 * sent). Every network starts WITHDRAWN with its checks created but not
 * started. *out is owned by the caller: pop_free(). Errors: ANYDNS_EINVAL
 * (a network without addresses, a check that health_check_new() refuses,
 * too many communities), ANYDNS_EEXIST (two networks with one name),
 * ANYDNS_ENOMEM.
 */
int pop_new(uv_loop_t *loop, struct bgp_speaker *sp,
	    const struct pop_conf *conf, struct pop **out);

/*
 * Puts every network's addresses on their interfaces (netlink, needs
 * CAP_NET_ADMIN); an address already there is kept and will be left there
 * at the stop. Every failure is logged with the network, the address and
 * the interface; the first one is returned (ANYDNS_ENOENT: no such
 * interface; a system error as -errno, e.g. -EPERM), after trying the
 * others.
 */
int pop_addresses_ensure(struct pop *pop);

/* Starts every network's health checks. Nothing is announced until
 * pop_zones_loaded(). */
int pop_start(struct pop *pop);

/* The zones are loaded (the start-up load is done): from now on a network
 * is announced as soon as all its checks are up. */
void pop_zones_loaded(struct pop *pop);

/*
 * Drains the named network (NULL: every network): an announced network is
 * announced again with 65535:0 added and withdrawn after its drain time;
 * one not announced is simply marked drained, so it is not announced when
 * it becomes healthy. ANYDNS_ENOENT: no such network; ANYDNS_EAGAIN: the
 * PoP is stopping.
 */
int pop_drain(struct pop *pop, const char *network);

/* Ends a drain: the network is announced again (without 65535:0) if its
 * checks are up. A network not drained is left as it is. ANYDNS_ENOENT,
 * ANYDNS_EAGAIN as for pop_drain(). */
int pop_undrain(struct pop *pop, const char *network);

/*
 * Stops the PoP: the checks stop; every announced network is drained for
 * drain_ms (0: withdrawn at once) and withdrawn; once the speaker says the
 * withdrawals left (bgp_speaker_flushed(), or after flush_wait_ms) and
 * withdraw_grace_ms passed, the addresses pop_addresses_ensure() added are
 * removed; then done(arg) is called on the loop. DNS keeps being answered
 * all along: the caller stops the server afterwards.
 */
void pop_stop(struct pop *pop, uint32_t drain_ms, void (*done)(void *arg),
	      void *arg);

/* True between pop_stop() and its done call. */
bool pop_stopping(const struct pop *pop);

/* Frees pop (stopping its checks; nothing is withdrawn or removed: call
 * pop_stop() first for that). Its handles close on the loop, which must
 * run on. NULL is fine. */
void pop_free(struct pop *pop);

/* ---- status --------------------------------------------------------------- */

struct pop_network_status {
	char name[POP_NAME_MAX];
	char interface[IF_NAMESIZE];
	enum pop_net_state state;
	bool healthy;			/* every check up, zones loaded */
	uint64_t since_ms;		/* loop time of the last change */
	uint64_t changes;		/* state changes */
	char reason[POP_TEXT_MAX];	/* why it is in its state */
	size_t addr_count;
	struct bgp_prefix addrs[POP_MAX_ADDRS];
	bool addr_present[POP_MAX_ADDRS];	/* on the interface */
	bool addr_added[POP_MAX_ADDRS];		/* by us: removed at stop */
	/* The routes (one per distinct prefix), whether they are announced
	 * now, and the attributes they are (or would be) announced with
	 * (65535:0 added while draining; attrs.prefix unused). */
	bool announced;
	size_t route_count;
	struct bgp_prefix routes[POP_MAX_ADDRS];
	struct bgp_route attrs;
	size_t check_count;
	uint32_t drain_ms;
};

/* Copies out up to max networks, in configuration order; returns how many
 * there are. */
size_t pop_network_status(const struct pop *pop, struct pop_network_status *out,
			  size_t max);

/* The checks of network i (as numbered by pop_network_status()); returns
 * how many it has. */
size_t pop_check_status(const struct pop *pop, size_t i,
			struct health_status *out, size_t max);

#endif
