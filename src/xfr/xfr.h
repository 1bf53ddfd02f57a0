/*
 * src/xfr — zone transfers and NOTIFY, the serving side (on the DNS
 * workers, from the published snapshot) and the pulling side (a secondary
 * asking its primary, in blocking calls the control thread runs on its
 * thread pool).
 *
 * Implements: RFC 5936 (AXFR: TCP only, several messages, SOA first and
 * last, §2.2 and §4.2), RFC 1995 (IXFR: difference sequences §4, AXFR-style
 * answer when the history does not reach back, SOA-only answer when the
 * client is current or over UDP §2), RFC 1996 (NOTIFY: §3.7 the SOA in the
 * answer section, §3.11 only from configured masters, §4.7 the slave asks
 * the SOA), RFC 8945 (TSIG on requests, responses and every message of a
 * transfer; §5.3.2 error responses), RFC 9103 §9 for access control by
 * address and key.
 *
 * Access control: a zone's transfer and notify ACLs are lists of entries
 * (prefix, optional key); a request is allowed when one entry's prefix
 * holds its source and that entry's key, if any, signed it. A request
 * from an allowed address but with the wrong or no key is answered
 * NOTAUTH with the TSIG error; from no allowed address, REFUSED.
 */
#ifndef ANYDNS_XFR_XFR_H
#define ANYDNS_XFR_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "zone/zone.h"

/* ---- Policy --------------------------------------------------------------
 * Built once by the control thread from the configuration and read by the
 * workers for the life of the server (never changed while it runs).
 */
struct xfr_acl {
	sa_family_t family;		/* AF_INET or AF_INET6 */
	uint8_t prefix_len;
	uint8_t addr[16];		/* network order; IPv4 in addr[0..3] */
	const struct dns_tsig_key *key;	/* NULL: no TSIG required */
};

struct xfr_zone_policy {
	uint8_t apex[DNS_NAME_MAXLEN];	/* lowercase wire form */
	const struct xfr_acl *transfer;	/* who may AXFR/IXFR; none: nobody */
	size_t transfer_count;
	const struct xfr_acl *notify;	/* who may NOTIFY us; none: nobody */
	size_t notify_count;
	/* IXFR chains longer than this are sent condensed into one
	 * difference (0: never). */
	uint32_t condense_after;
	/* Largest message of a transfer, 512..65535 (16384 by default). */
	uint16_t message_size;
};

struct xfr_policy {
	const struct dns_tsig_key *keys;	/* every key, for TSIG lookup */
	size_t key_count;
	const struct xfr_zone_policy *zones;	/* sorted by apex, memcmp */
	size_t zone_count;
};

/* The policy of the zone with exactly this lowercase apex, or NULL. */
const struct xfr_zone_policy *xfr_policy_find(const struct xfr_policy *p,
					      const uint8_t *lapex);

/* Whether an ACL entry's prefix holds sa (AF_INET, AF_INET6, and IPv4
 * mapped in IPv6 compared as IPv4). */
bool xfr_acl_match_addr(const struct xfr_acl *acl, const struct sockaddr *sa);

/* ---- Serving (DNS workers) ---------------------------------------------- */

/* Whether the xfr layer answers q rather than the answer layer: AXFR and
 * IXFR queries, and NOTIFY messages. */
static inline bool xfr_handles(const struct dns_query *q)
{
	if (q->opcode == DNS_OPCODE_NOTIFY)
		return q->has_question;
	return q->opcode == DNS_OPCODE_QUERY && q->has_question &&
	       (q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR);
}

/* The response messages of one request, ready to send. */
struct xfr_out {
	uint8_t *buf;		/* malloc'd; xfr_out_free() */
	size_t len;
	size_t cap;
	bool framed;		/* TCP: each message behind its 2-octet length */
	unsigned messages;
	uint64_t records;
	uint16_t rcode;		/* of the first message */
};

void xfr_out_free(struct xfr_out *out);

/* A NOTIFY accepted from an allowed source: what the control thread
 * hears (it then asks the primary for the SOA). */
struct xfr_notify_event {
	uint8_t apex[DNS_NAME_MAXLEN];	/* lowercase wire form */
	bool has_serial;		/* the NOTIFY carried the SOA */
	uint32_t serial;
	struct sockaddr_storage from;
};

/*
 * Answers q (for which xfr_handles() is true), received over TCP (tcp) or
 * UDP from `from`, from the zones in set, under the read lock the caller
 * holds. out (zeroed by the caller) gets every response message: the
 * whole AXFR or IXFR, each message TSIG-signed when the request was; a
 * SOA-only IXFR answer over UDP (or when the client is current); the
 * NOTIFY response. Refusals are answered too: REFUSED (zone not ours or
 * source not allowed), NOTAUTH with TSIG error BADKEY/BADSIG/BADTIME,
 * NOTIMP (AXFR over UDP, as Knot DNS), FORMERR (an IXFR without the
 * client's SOA in authority),
 * SERVFAIL (zone expired). Every transfer and refusal is logged once at
 * info level. now: wall clock seconds (TSIG).
 * Returns 1 when the request was an accepted NOTIFY (*ev filled: tell the
 * control thread), 0 when out holds the answer, ANYDNS_ENOMEM (out empty:
 * drop, or close the connection).
 */
int xfr_serve(const struct xfr_policy *pol, const struct zone_set *set,
	      const struct dns_query *q, const struct sockaddr *from, bool tcp,
	      uint64_t now, struct xfr_out *out, struct xfr_notify_event *ev);

/* ---- NOTIFY to secondaries (control thread) ------------------------------ */

/*
 * Builds a NOTIFY for z (its SOA in the answer section, RFC 1996 §3.7)
 * with id into buf, signed when ctx has a key (ctx initialised by the
 * caller with dns_tsig_ctx_init(); it then holds the request MAC to check
 * the reply). Returns 0 with *len, or ANYDNS_ESPACE.
 */
int xfr_notify_build(const struct zone *z, uint16_t id,
		     struct dns_tsig_ctx *ctx, uint64_t now, uint8_t *buf,
		     size_t cap, size_t *len);

/*
 * Checks a datagram received after sending the NOTIFY req: ANYDNS_EDROP
 * when it is no reply to it (ID, QR, opcode or question differ: ignore
 * and keep waiting); 0 when it acknowledges it (NOERROR, TSIG verified
 * when ctx has a key); ANYDNS_EREFUSED with *rcode set when the secondary
 * answered an error; a TSIG error code when the reply's TSIG fails.
 */
int xfr_notify_reply_check(const uint8_t *req, size_t reqlen,
			   const uint8_t *msg, size_t len,
			   struct dns_tsig_ctx *ctx, uint64_t now,
			   uint16_t *rcode);

/* ---- Pulling (secondary side; blocking, off the control loop) ----------- */

/*
 * The parser of one transfer's response stream (AXFR, or IXFR in either
 * form), fed message by message as they arrive. It checks each message
 * (ID, QR, opcode, question, RCODE, TSIG through ctx when given), bounds
 * the total size, and collects either the whole zone (a builder) or the
 * difference sequences (diffs, checked consecutive from current's serial).
 */
struct xfr_in;

enum xfr_in_kind {
	XFR_IN_UPTODATE = 0,		/* IXFR answered with the SOA only */
	XFR_IN_DIFFS,			/* IXFR difference sequences */
	XFR_IN_FULL,			/* AXFR, or IXFR answered AXFR-style */
};

/*
 * apex: the zone (wire, any case); qtype AXFR or IXFR; current: the
 * version we have (IXFR applies to it; its serial is what we asked from;
 * NULL for AXFR); id: the request's ID; ctx: verifies TSIG on every
 * message when not NULL; max_size: octets in all (0: no limit).
 * ANYDNS_ENOMEM.
 */
int xfr_in_new(const uint8_t *apex, uint16_t qtype, const struct zone *current,
	       uint16_t id, struct dns_tsig_ctx *ctx, uint64_t max_size,
	       struct xfr_in **out);

/*
 * One message of the stream. Returns 0 (more to come), 1 (the stream is
 * complete: call xfr_in_finish()), or an error with a one-line reason in
 * xfr_in_error(): ANYDNS_EXFR (malformed, out of zone, wrong sequence),
 * ANYDNS_EREFUSED (an error RCODE: xfr_in_rcode()), ANYDNS_ETOOBIG, a TSIG
 * error. After an error the parser accepts nothing more.
 */
int xfr_in_feed(struct xfr_in *x, const uint8_t *msg, size_t len,
		uint64_t now);

const char *xfr_in_error(const struct xfr_in *x);
uint16_t xfr_in_rcode(const struct xfr_in *x);

/* The outcome of a pull or of a finished parser. */
struct xfr_pull_result {
	enum xfr_in_kind kind;
	uint16_t qtype;			/* the transfer that succeeded */
	uint32_t serial;		/* the primary's serial, when has_serial */
	bool has_serial;		/* xfr_pull(): known, even when the
					 * transfer after the SOA failed */
	struct zone *zone;		/* the new version (DIFFS: applied to
					 * current; FULL: built); caller owns */
	struct zone_diff **diffs;	/* DIFFS: the chain, a reference each;
					 * malloc'd array */
	size_t diff_count;
	unsigned messages;
	uint64_t bytes;
	uint64_t records;
	bool fell_back;			/* IXFR failed; AXFR done instead */
	char error[256];		/* why the last attempt failed */
};

/* Frees what res holds (zone, diffs) and zeroes it. */
void xfr_pull_result_clear(struct xfr_pull_result *res);

/*
 * After xfr_in_feed() returned 1: the result (zone built or diffs applied
 * to current). Returns 0, or ANYDNS_EXFR / ANYDNS_EZONE (reason in
 * res->error) / ANYDNS_ENOMEM. The parser is freed either way.
 */
int xfr_in_finish(struct xfr_in *x, struct xfr_pull_result *res);
void xfr_in_free(struct xfr_in *x);

struct xfr_pull_req {
	const uint8_t *apex;		/* wire form */
	const struct sockaddr *primary;	/* address and port */
	socklen_t primary_len;
	const struct dns_tsig_key *key;	/* NULL: unsigned */
	const struct zone *current;	/* NULL: none yet, AXFR */
	bool check_soa;			/* ask the SOA first (UDP, TCP on TC)
					 * and stop when it is not newer */
	bool ixfr;			/* try IXFR before AXFR when current */
	uint32_t timeout_ms;		/* per step: connect, each read */
	uint64_t max_size;		/* octets of one transfer; 0: none */
};

/*
 * One pull from one primary, blocking: SOA query (when check_soa), then
 * IXFR over TCP when current and ixfr (falling back to AXFR when the
 * primary refuses IXFR or its stream fails), else AXFR. Returns 0 with
 * res filled (kind UPTODATE when the primary's serial is not newer, with
 * res->serial set), or an error with res->error saying what and where:
 * -ETIMEDOUT, -ECONNREFUSED and other system errors, ANYDNS_EREFUSED,
 * ANYDNS_EXFR, ANYDNS_ETOOBIG, ANYDNS_EZONE, TSIG errors, ANYDNS_ENOMEM;
 * res->has_serial then says whether the SOA answer told res->serial.
 * Thread-safe: touches nothing but its arguments (current is only read).
 */
int xfr_pull(const struct xfr_pull_req *req, struct xfr_pull_result *res);

#endif
