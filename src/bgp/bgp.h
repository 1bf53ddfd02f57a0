/*
 * src/bgp — the BGP-4 speaker of a PoP: it announces the PoP's service
 * prefixes to its upstream routers and withdraws them on request. It learns
 * nothing: routes received from peers are parsed, counted and dropped.
 *
 * Implements: RFC 4271 (BGP-4: messages §4, UPDATE §4.3 and §5, errors §6,
 * the FSM §8, timers §10), RFC 5492 (capabilities), RFC 4760 (multiprotocol:
 * IPv4 and IPv6 unicast, MP_REACH/MP_UNREACH), RFC 6793 (4-octet AS),
 * RFC 2918 (route refresh), RFC 4724 §2 (End-of-RIB), RFC 1997 and RFC 8092
 * (communities, large communities), RFC 8326 (GRACEFUL_SHUTDOWN), RFC 7606
 * (revised error handling), RFC 2385 (TCP MD5 signatures).
 *
 * The speaker runs on the control thread's libuv loop and shares no mutable
 * state with the DNS side: other components talk to it only through the
 * typed calls below (announce, withdraw, status), which copy what they are
 * given. It could move to a process of its own behind the same calls.
 */
#ifndef ANYDNS_BGP_BGP_H
#define ANYDNS_BGP_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>

#include "lib/errcode.h"

#define BGP_PORT 179
#define BGP_MAX_COMMUNITIES 16
#define BGP_MAX_LARGE_COMMUNITIES 8
#define BGP_COMMUNITY_GRACEFUL_SHUTDOWN 0xFFFF0000u	/* 65535:0, RFC 8326 */

/* An IPv4 or IPv6 prefix. */
struct bgp_prefix {
	sa_family_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;			/* prefix length in bits */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

struct bgp_large_community {
	uint32_t global, local1, local2;
};

/*
 * A route to announce: the prefix and the path attributes that policy
 * decides. NEXT_HOP is the peer session's own local address (the PoP
 * itself), per address family.
 */
struct bgp_route {
	struct bgp_prefix prefix;
	uint8_t prepend;		/* extra copies of our AS in AS_PATH */
	bool has_med;
	uint32_t med;
	uint8_t community_count;
	uint32_t communities[BGP_MAX_COMMUNITIES];
	uint8_t large_community_count;
	struct bgp_large_community large_communities[BGP_MAX_LARGE_COMMUNITIES];
};

/* One upstream router. */
struct bgp_peer_conf {
	char name[64];			/* for logs and status */
	struct sockaddr_storage remote;	/* address and port (default 179) */
	struct sockaddr_storage local;	/* source address; family 0: any */
	uint32_t remote_as;
	bool passive;			/* only accept, never connect */
	uint16_t hold_time;		/* seconds we propose: 0 or >= 3 */
	uint16_t connect_retry;		/* seconds, first ConnectRetry delay */
	char md5_password[80];		/* TCP MD5 (RFC 2385); "" for none */
	bool ipv4_unicast;		/* negotiate and announce IPv4 */
	bool ipv6_unicast;		/* negotiate and announce IPv6 */
	struct in_addr next_hop_v4;	/* 0: the session's local address */
	struct in6_addr next_hop_v6;	/* ::: the session's local address */
};

/* Fills c with the defaults: port 179, hold 90 s, ConnectRetry 5 s, both
 * families, active. */
void bgp_peer_conf_init(struct bgp_peer_conf *c);

/* RFC 4271 §8.2.2 session states. */
enum bgp_state {
	BGP_STATE_IDLE = 0,
	BGP_STATE_CONNECT,
	BGP_STATE_ACTIVE,
	BGP_STATE_OPENSENT,
	BGP_STATE_OPENCONFIRM,
	BGP_STATE_ESTABLISHED,
};

const char *bgp_state_name(enum bgp_state s);

/* A peer's state for `anydnsc bgp` and metrics (copied out). */
struct bgp_peer_status {
	char name[64];
	struct sockaddr_storage remote;
	uint32_t remote_as;
	enum bgp_state state;
	uint64_t state_since_ms;	/* monotonic ms of the last change */
	uint64_t established_count;	/* times the session came up */
	uint16_t hold_time;		/* negotiated */
	uint64_t msgs_in, msgs_out;
	uint64_t updates_in, updates_out;
	uint64_t prefixes_received;	/* counted and dropped */
	uint32_t prefixes_announced;	/* currently sent to this peer */
	uint8_t last_error_code;	/* last NOTIFICATION sent or received */
	uint8_t last_error_subcode;
	bool last_error_sent;		/* true: we sent it */
	char last_error[128];		/* text of the last failure */
};

struct bgp_speaker;

/* Called when a peer's session state changes (on the loop's thread). */
typedef void (*bgp_state_cb)(void *arg, const char *peer, enum bgp_state from,
			     enum bgp_state to);

/*
 * A speaker with our AS and BGP identifier (router id, network order) on
 * loop. Owned by the caller: bgp_speaker_free() after stop has completed.
 */
int bgp_speaker_new(uv_loop_t *loop, uint32_t local_as, uint32_t router_id,
		    struct bgp_speaker **out);

/* Called on every session state change; optional. */
void bgp_speaker_on_state(struct bgp_speaker *sp, bgp_state_cb cb, void *arg);

/*
 * Adds a peer (copied). A passive listener on port listen_port (0: no
 * listener; peers then must be active) accepts connections from configured
 * peers only. Before bgp_speaker_start(). ANYDNS_EEXIST for a duplicate.
 */
int bgp_speaker_add_peer(struct bgp_speaker *sp, const struct bgp_peer_conf *c);
int bgp_speaker_listen(struct bgp_speaker *sp, const struct sockaddr *addr);

/* Starts every session (ManualStart, RFC 4271 §8.1.2). */
int bgp_speaker_start(struct bgp_speaker *sp);

/*
 * Announces r to every peer of its family now and on every later session
 * establishment (then followed by End-of-RIB). Announcing a prefix again
 * with other attributes replaces it (one UPDATE). Copies r.
 */
int bgp_announce(struct bgp_speaker *sp, const struct bgp_route *r);

/* Withdraws a prefix from every peer; ANYDNS_ENOENT if not announced. */
int bgp_withdraw(struct bgp_speaker *sp, const struct bgp_prefix *p);

/* True once every peer with a session that was Established when the last
 * announce/withdraw was made has been sent the UPDATE (the socket took it),
 * so a caller can remove an address only after its withdrawal left. */
bool bgp_speaker_flushed(const struct bgp_speaker *sp);

/* Copies out the status of up to max peers; returns how many there are. */
size_t bgp_speaker_status(const struct bgp_speaker *sp,
			  struct bgp_peer_status *out, size_t max);

/* Copies out the prefixes currently announced; returns how many. */
size_t bgp_speaker_routes(const struct bgp_speaker *sp, struct bgp_route *out,
			  size_t max);

/*
 * Stops every session with a CEASE NOTIFICATION (RFC 4486 subcode 2,
 * Administrative Shutdown) and closes the listener; done is called on the
 * loop when all sockets are closed.
 */
void bgp_speaker_stop(struct bgp_speaker *sp, void (*done)(void *arg),
		      void *arg);

/* Frees a stopped speaker. */
void bgp_speaker_free(struct bgp_speaker *sp);

/* Text forms for configs and logs: "192.0.2.1/32", "2001:db8::53/128". */
int bgp_prefix_from_str(const char *s, struct bgp_prefix *p);
size_t bgp_prefix_to_str(const struct bgp_prefix *p, char *buf, size_t len);

#endif
