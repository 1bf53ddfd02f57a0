/*
 * What the files of src/bgp share and nothing else sees: the message codes
 * and decoded forms of RFC 4271 §4 (msg.c, update.c), the peer with its
 * state machine of §8 (fsm.c), the connection and the seam between the
 * state machine and the sockets (transport.c; the FSM tests replace it),
 * and the speaker with its RIB-out (speaker.c).
 */
#ifndef ANYDNS_BGP_INTERNAL_H
#define ANYDNS_BGP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bgp/bgp.h"
#include "lib/log.h"

/* ---- message format (RFC 4271 §4) ------------------------------------- */

#define BGP_HEADER_LEN 19
#define BGP_MSG_MAX 4096		/* no extended messages (RFC 8654) */
#define BGP_OPEN_MIN 29
#define BGP_UPDATE_MIN 23
#define BGP_NOTIFICATION_MIN 21
#define BGP_ROUTE_REFRESH_LEN 23	/* RFC 2918 §3 */
#define BGP_VERSION 4
#define BGP_AS_TRANS 23456		/* RFC 6793 §9 */
#define BGP_AFI_IPV4 1
#define BGP_AFI_IPV6 2
#define BGP_SAFI_UNICAST 1

enum bgp_msg_type {
	BGP_MSG_OPEN = 1,
	BGP_MSG_UPDATE = 2,
	BGP_MSG_NOTIFICATION = 3,
	BGP_MSG_KEEPALIVE = 4,
	BGP_MSG_ROUTE_REFRESH = 5,	/* RFC 2918 */
};

/* NOTIFICATION error codes (§4.5) and their subcodes. */
enum bgp_err_code {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
};

enum {	/* Message Header Error (§6.1) */
	BGP_HDR_NOT_SYNC = 1,
	BGP_HDR_BAD_LEN = 2,
	BGP_HDR_BAD_TYPE = 3,
};

enum {	/* OPEN Message Error (§6.2, RFC 5492 §5) */
	BGP_OPEN_UNSPECIFIC = 0,
	BGP_OPEN_BAD_VERSION = 1,
	BGP_OPEN_BAD_PEER_AS = 2,
	BGP_OPEN_BAD_ID = 3,
	BGP_OPEN_BAD_PARAM = 4,
	BGP_OPEN_BAD_HOLD = 6,
	BGP_OPEN_BAD_CAPABILITY = 7,
};

enum {	/* UPDATE Message Error (§6.3) */
	BGP_UPD_ATTR_LIST = 1,
	BGP_UPD_UNKNOWN_WELL_KNOWN = 2,
	BGP_UPD_MISSING_WELL_KNOWN = 3,
	BGP_UPD_FLAGS = 4,
	BGP_UPD_LENGTH = 5,
	BGP_UPD_ORIGIN = 6,
	BGP_UPD_NEXT_HOP = 8,
	BGP_UPD_OPTIONAL = 9,
	BGP_UPD_NETWORK = 10,
	BGP_UPD_AS_PATH = 11,
};

enum {	/* Finite State Machine Error (RFC 6608 §4) */
	BGP_FSM_UNSPECIFIC = 0,
	BGP_FSM_IN_OPENSENT = 1,
	BGP_FSM_IN_OPENCONFIRM = 2,
	BGP_FSM_IN_ESTABLISHED = 3,
};

enum {	/* Cease (RFC 4486 §4) */
	BGP_CEASE_ADMIN_SHUTDOWN = 2,
	BGP_CEASE_COLLISION = 7,
};

/* Path attribute type codes and flags (§4.3, §5). */
enum {
	BGP_ATTR_ORIGIN = 1,
	BGP_ATTR_AS_PATH = 2,
	BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5,
	BGP_ATTR_ATOMIC_AGGREGATE = 6,
	BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8,	/* RFC 1997 */
	BGP_ATTR_ORIGINATOR_ID = 9,	/* RFC 4456 */
	BGP_ATTR_CLUSTER_LIST = 10,
	BGP_ATTR_MP_REACH = 14,		/* RFC 4760 */
	BGP_ATTR_MP_UNREACH = 15,
	BGP_ATTR_EXT_COMMUNITIES = 16,	/* RFC 4360 */
	BGP_ATTR_AS4_PATH = 17,		/* RFC 6793 */
	BGP_ATTR_AS4_AGGREGATOR = 18,
	BGP_ATTR_LARGE_COMMUNITY = 32,	/* RFC 8092 */
};

#define BGP_FLAG_OPTIONAL 0x80
#define BGP_FLAG_TRANSITIVE 0x40
#define BGP_FLAG_PARTIAL 0x20
#define BGP_FLAG_EXTLEN 0x10

#define BGP_ORIGIN_IGP 0
#define BGP_AS_SET 1
#define BGP_AS_SEQUENCE 2

/* Capability codes (RFC 5492 and the RFCs named). */
enum {
	BGP_CAP_MP = 1,			/* RFC 4760 §8 */
	BGP_CAP_ROUTE_REFRESH = 2,	/* RFC 2918 §2 */
	BGP_CAP_AS4 = 65,		/* RFC 6793 §3 */
};

/* ---- decoded messages --------------------------------------------------- */

/*
 * How a receiver deals with one problem of a message, weakest first (RFC
 * 7606 §2). When several apply, the strongest wins (§3 h).
 */
enum bgp_action {
	BGP_ACT_NONE = 0,
	BGP_ACT_DISCARD,	/* the attribute is ignored, the rest stands */
	BGP_ACT_WITHDRAW,	/* treat-as-withdraw: the NLRI are withdrawn */
	BGP_ACT_RESET,		/* NOTIFICATION and the session closes */
};

#define BGP_NOTIFY_DATA_MAX (BGP_MSG_MAX - BGP_NOTIFICATION_MIN)

/* A NOTIFICATION's content, received or to send (§4.5). */
struct bgp_notify {
	uint8_t code, subcode;
	uint16_t data_len;
	uint8_t data[BGP_NOTIFY_DATA_MAX];
};

/* An OPEN and the capabilities it carries (§4.2, RFC 5492). */
struct bgp_open {
	uint8_t version;
	uint16_t my_as;
	uint16_t hold_time;
	uint32_t bgp_id;		/* host order */
	bool cap_as4;
	uint32_t as4;
	bool cap_mp;			/* any MP capability was present */
	bool mp_ipv4, mp_ipv6;		/* unicast of each family */
	bool cap_route_refresh;
	uint16_t caps_ignored;		/* unknown capabilities seen */
};

/* What a session allows, fixed by the two OPENs. */
struct bgp_params {
	uint16_t hold_time;		/* negotiated, seconds */
	uint16_t keepalive_time;	/* seconds; 0 with hold 0 */
	uint32_t remote_id;		/* host order */
	uint32_t remote_as;
	bool as4;			/* both sides sent capability 65 */
	bool ipv4, ipv6;		/* unicast families both support */
	bool route_refresh;		/* the peer may send ROUTE-REFRESH */
};

/* How to read an UPDATE of this session. */
struct bgp_decode_ctx {
	bool as4;			/* AS numbers of 4 octets in AS_PATH */
	bool ipv4, ipv6;		/* families negotiated; MP for others
					 * is ignored */
};

#define BGP_KEEP_PREFIXES 16
#define BGP_KEEP_ASNS 512

/*
 * An UPDATE as read. Routes are dropped after counting, so only the first
 * BGP_KEEP_PREFIXES prefixes of each kind and the first attributes are kept,
 * for logs and tests; the counts are complete.
 */
struct bgp_update {
	uint32_t withdrawn, announced;	/* prefixes, both families */
	bool eor;			/* End-of-RIB (RFC 4724 §2) */
	sa_family_t eor_family;
	uint8_t kept_withdrawn, kept_announced;
	struct bgp_prefix withdrawn_prefix[BGP_KEEP_PREFIXES];
	struct bgp_prefix announced_prefix[BGP_KEEP_PREFIXES];
	bool has_origin, has_as_path, has_next_hop, has_mp_reach;
	uint8_t origin;
	uint16_t as_path_len;		/* ASNs of all segments */
	uint32_t as_path[BGP_KEEP_ASNS];
	uint16_t as4_path_len;
	uint32_t as4_path[BGP_KEEP_ASNS];
	struct in_addr next_hop;
	struct in6_addr mp_next_hop;
	bool has_med;
	uint32_t med;
	bool has_local_pref;
	uint32_t local_pref;
	uint16_t community_count;
	uint32_t communities[BGP_MAX_COMMUNITIES];
	uint16_t large_community_count;
	struct bgp_large_community large_communities[BGP_MAX_LARGE_COMMUNITIES];
};

struct bgp_msg {
	uint8_t type;
	uint16_t len;			/* whole message, header included */
	enum bgp_action action;		/* the strongest problem found */
	struct bgp_notify err;		/* its code and data when not NONE */
	const char *reason;		/* its text for logs; "" when NONE */
	union {
		struct bgp_open open;
		struct bgp_update update;
		struct bgp_notify notification;
		struct {
			uint16_t afi;
			uint8_t safi;
		} refresh;
	} u;
};

/* What OPEN checks beyond syntax need from the configuration. */
struct bgp_open_policy {
	uint32_t local_as, local_id, remote_as;
	bool ipv4, ipv6;		/* configured families */
};

/* What the path attributes of our routes depend on, per session. */
struct bgp_attr_ctx {
	uint32_t local_as;
	bool as4;
	bool ibgp;
	struct in_addr next_hop_v4;
	struct in6_addr next_hop_v6;
};

/* ---- msg.c -------------------------------------------------------------- */

/*
 * Checks the header at buf (avail >= BGP_HEADER_LEN octets): marker, length
 * (also per type, §6.1) and type. Returns 0 with *msg_len set, or
 * ANYDNS_EMALF with err set to the NOTIFICATION to send.
 */
int bgp_msg_frame(const uint8_t *buf, size_t avail, size_t *msg_len,
		  struct bgp_notify *err);

/*
 * Decodes one whole message of len octets (any octets: the fuzz target
 * calls it directly). Returns 0 when it may be processed (m->action may
 * still be DISCARD or WITHDRAW for an UPDATE), or ANYDNS_EMALF when the
 * session must be reset with m->err. Syntax only: see bgp_open_check().
 */
int bgp_msg_decode(const uint8_t *buf, size_t len,
		   const struct bgp_decode_ctx *ctx, struct bgp_msg *m);

/* The checks of a syntactically valid OPEN against our configuration
 * (§6.2, RFC 6286 §2.2, RFC 5492 §5). 0 or ANYDNS_EMALF with err set. */
int bgp_open_check(const struct bgp_open *o, const struct bgp_open_policy *p,
		   struct bgp_notify *err);

/* The session parameters from our OPEN and the peer's (§4.2 hold time,
 * RFC 4760 §8, RFC 6793 §3). */
void bgp_open_negotiate(const struct bgp_open *local,
			const struct bgp_open *remote, struct bgp_params *out);

/* Writers: each returns the message length or ANYDNS_ESPACE. */
int bgp_msg_write_open(uint8_t *buf, size_t cap, const struct bgp_open *o);
int bgp_msg_write_keepalive(uint8_t *buf, size_t cap);
int bgp_msg_write_notification(uint8_t *buf, size_t cap,
			       const struct bgp_notify *n);
int bgp_msg_write_route_refresh(uint8_t *buf, size_t cap, uint16_t afi,
				uint8_t safi);

/* "UPDATE Message Error / Malformed AS_PATH" (static strings). */
const char *bgp_err_code_name(uint8_t code);
const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode);

/* Fills n with code/subcode and up to len octets of data. */
void bgp_notify_set(struct bgp_notify *n, uint8_t code, uint8_t subcode,
		    const void *data, size_t len);

/* ---- update.c ----------------------------------------------------------- */

/* Decodes the body of an UPDATE (after the header); fills m->action,
 * m->err and m->u.update. Returns like bgp_msg_decode(). */
int bgp_update_decode(const uint8_t *body, size_t len,
		      const struct bgp_decode_ctx *ctx, struct bgp_msg *m);

/* An UPDATE announcing r with attributes for ctx. */
int bgp_msg_write_announce(uint8_t *buf, size_t cap,
			   const struct bgp_attr_ctx *ctx,
			   const struct bgp_route *r);
/* An UPDATE withdrawing p (Withdrawn Routes, or MP_UNREACH_NLRI). */
int bgp_msg_write_withdraw(uint8_t *buf, size_t cap,
			   const struct bgp_prefix *p);
/* End-of-RIB of a family (RFC 4724 §2). */
int bgp_msg_write_eor(uint8_t *buf, size_t cap, sa_family_t family);

/* ---- the state machine (fsm.c) ----------------------------------------- */

/* RFC 4271 §8.1 events; values are the RFC's event numbers. */
enum bgp_event {
	BGP_EV_MANUAL_START = 1,
	BGP_EV_MANUAL_STOP = 2,
	BGP_EV_AUTOMATIC_START = 3,	/* the IdleHoldTimer ran out */
	BGP_EV_CONNECT_RETRY_EXPIRES = 9,
	BGP_EV_HOLD_EXPIRES = 10,
	BGP_EV_KEEPALIVE_EXPIRES = 11,
	BGP_EV_TCP_CONNECTION_VALID = 14,	/* checked by the listener */
	BGP_EV_TCP_CR_INVALID = 15,		/* closed by the listener */
	BGP_EV_TCP_CR_ACKED = 16,	/* our connect() completed */
	BGP_EV_TCP_CONFIRMED = 17,	/* an accepted connection is up */
	BGP_EV_TCP_FAILS = 18,
	BGP_EV_OPEN = 19,
	BGP_EV_HEADER_ERR = 21,
	BGP_EV_OPEN_ERR = 22,
	BGP_EV_OPEN_COLLISION_DUMP = 23,
	BGP_EV_NOTIF_VER_ERR = 24,
	BGP_EV_NOTIF = 25,
	BGP_EV_KEEPALIVE_MSG = 26,
	BGP_EV_UPDATE_MSG = 27,
	BGP_EV_UPDATE_ERR = 28,
	BGP_EV_ROUTE_REFRESH_MSG = 29,	/* RFC 2918; not numbered by 4271 */
};

const char *bgp_event_name(enum bgp_event ev);

/* Hold time while waiting for the peer's OPEN (§8.2.2: "a large value",
 * 4 minutes suggested). */
#define BGP_OPEN_HOLD_S 240
/* Back-off between connection attempts never exceeds this (§10
 * ConnectRetryTime), unless the configured first delay is larger. */
#define BGP_BACKOFF_CAP_S 120

/*
 * One TCP connection of a peer. The transport owns it (allocates and frees
 * it); the state machine holds a pointer while it is the session's or the
 * collision candidate's, and hands it back with io->close().
 */
struct bgp_conn {
	struct bgp_peer *peer;		/* NULL once handed back */
	bool outgoing;			/* we initiated it (§6.8) */
	struct sockaddr_storage local, remote;
	uint64_t tx_queued;		/* octets given to send() */
	uint64_t tx_done;		/* octets the socket took */
};

/*
 * The seam between the state machine and the sockets. transport.c is the
 * real one on libuv; the FSM tests plug in one that records.
 */
struct bgp_io_ops {
	/* Starts connecting p->conf.remote: sets p->conn and reports later
	 * with BGP_EV_TCP_CR_ACKED or BGP_EV_TCP_FAILS. */
	int (*connect)(struct bgp_peer *p);
	/* Queues len octets; never blocks; failures surface as
	 * BGP_EV_TCP_FAILS later. */
	int (*send)(struct bgp_conn *c, const uint8_t *buf, size_t len);
	/* Hands c back: sends what is queued (bounded wait), then closes. */
	void (*close)(struct bgp_conn *c);
};

extern const struct bgp_io_ops bgp_tcp_io;

struct bgp_peer {
	struct bgp_speaker *sp;
	struct bgp_peer_conf conf;
	enum bgp_state state;
	uint64_t state_since_ms;
	bool started;			/* ManualStart and no ManualStop */
	struct bgp_conn *conn;		/* the session's connection */
	struct bgp_conn *incoming;	/* for BGP_EV_TCP_CONFIRMED only */
	struct bgp_conn *collide;	/* a second connection (§6.8) */
	uint32_t failures;		/* in a row, for the back-off */
	uint64_t session_id;		/* counts Established sessions */
	struct bgp_open local_open;	/* what we sent on conn */
	struct bgp_params params;	/* valid from OpenConfirm on */
	bool send_ipv4, send_ipv6;	/* families we announce now */
	struct bgp_attr_ctx attr;	/* for our UPDATEs on this session */
	bool flush_pending;		/* see bgp_speaker_flushed() */
	uint64_t flush_session, flush_mark;
	uv_timer_t connect_retry, hold, keepalive, idle_hold, collide_hold;
	struct bgp_peer_status st;	/* counters and last error */
};

/* Drives p's state machine; msg is the decoded message of a message event
 * (NULL for the others). */
void bgp_fsm(struct bgp_peer *p, enum bgp_event ev, const struct bgp_msg *msg);

/* A connection the listener accepted from p's address (§8.2.2 events
 * 14/17): adopted, kept as collision candidate, or closed. */
void bgp_peer_accept(struct bgp_peer *p, struct bgp_conn *c);

/* One whole message (framed by bgp_msg_frame()) arrived on c. Returns
 * false when c was handed back meanwhile (stop reading it). */
bool bgp_conn_input(struct bgp_conn *c, const uint8_t *buf, size_t len);

/* The header at the start of c's stream is bad: NOTIFICATION err. */
void bgp_conn_header_error(struct bgp_conn *c, const struct bgp_notify *err);

/* c failed or the peer closed it (§8.1.4 event 18). */
void bgp_conn_failed(struct bgp_conn *c, const char *why);

/* Sets up p's timers on the speaker's loop; bgp_peer_close() closes them
 * (sp->handles counts them). */
int bgp_peer_init(struct bgp_peer *p, struct bgp_speaker *sp,
		  const struct bgp_peer_conf *c);
void bgp_peer_close(struct bgp_peer *p);

/* Nominal back-off before attempt n+1 after n failures, without jitter. */
uint64_t bgp_backoff_ms(const struct bgp_peer *p, uint32_t n);

void bgp_log_peer(enum log_level level, const struct bgp_peer *p,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_peer_err(p, ...) bgp_log_peer(LOG_LVL_ERR, p, __VA_ARGS__)
#define log_peer_warn(p, ...) bgp_log_peer(LOG_LVL_WARN, p, __VA_ARGS__)
#define log_peer_notice(p, ...) bgp_log_peer(LOG_LVL_NOTICE, p, __VA_ARGS__)
#define log_peer_info(p, ...) bgp_log_peer(LOG_LVL_INFO, p, __VA_ARGS__)
#define log_peer_debug(p, ...) bgp_log_peer(LOG_LVL_DEBUG, p, __VA_ARGS__)

/* ---- the speaker (speaker.c) -------------------------------------------- */

#define BGP_MAX_LISTENERS 8

struct bgp_listener;

typedef void (*bgp_update_hook)(void *arg, const struct bgp_peer *p,
				const struct bgp_update *u);

struct bgp_speaker {
	uv_loop_t *loop;
	uint32_t local_as;
	uint32_t router_id;		/* host order */
	const struct bgp_io_ops *io;
	struct bgp_peer **peers;
	size_t peer_count;
	struct bgp_listener *listeners[BGP_MAX_LISTENERS];
	size_t listener_count;
	struct bgp_route *routes;	/* the RIB-out, in announce order */
	size_t route_count, route_cap;
	bgp_state_cb state_cb;
	void *state_arg;
	bgp_update_hook update_hook;	/* tests: every UPDATE received */
	void *update_arg;
	uint64_t rng;			/* jitter of the back-off */
	unsigned handles;		/* uv handles not yet closed */
	bool started, stopping;
	void (*stop_done)(void *arg);
	void *stop_arg;
};

/* Monotonic milliseconds of the loop. */
uint64_t bgp_now_ms(const struct bgp_speaker *sp);

/* A uniform random number in [0, 1) for jitter. */
double bgp_random(struct bgp_speaker *sp);

/* A uv handle of the speaker was closed (counts down for stop). */
void bgp_speaker_handle_closed(struct bgp_speaker *sp);

/* The peer whose configured address is addr (port ignored), or NULL. */
struct bgp_peer *bgp_speaker_find_peer(struct bgp_speaker *sp,
				       const struct sockaddr *addr);

/* Called by the FSM: the session came up (send the RIB-out and
 * End-of-RIB) or went down; the peer asked for a refresh. */
void bgp_speaker_session_up(struct bgp_peer *p);
void bgp_speaker_session_down(struct bgp_peer *p);
void bgp_speaker_route_refresh(struct bgp_peer *p, uint16_t afi,
			       uint8_t safi);

/* Sends one message on p's session and counts it; UPDATEs and KEEPALIVEs
 * restart the KeepaliveTimer (§8.2.2 Established). */
int bgp_peer_send(struct bgp_peer *p, const uint8_t *buf, size_t len);

/* transport.c: a listener on addr accepting the speaker's peers, with
 * the TCP MD5 keys of every peer; listener_add_key for peers added later. */
int bgp_listener_open(struct bgp_speaker *sp, const struct sockaddr *addr,
		      struct bgp_listener **out);
int bgp_listener_add_key(struct bgp_listener *l, const struct bgp_peer *p);
void bgp_listener_close(struct bgp_listener *l);

/* Stops (pause) or resumes reading c, a connection of bgp_tcp_io; the
 * speaker tests use it to make a peer that does not read. */
int bgp_tcp_pause(struct bgp_conn *c, bool pause);

/* Text of an address for logs: "192.0.2.1", "2001:db8::1". */
void bgp_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
