/*
 * Serving zone transfers and NOTIFY on the DNS workers: one call turns an
 * AXFR, IXFR or NOTIFY request into every response message, built from
 * the published snapshot into one buffer the transport then streams.
 *
 * Implements: RFC 5936 §2.2 (AXFR response: the question in the first
 * message, SOA first and last, every record of the zone once), §4.2 (TCP
 * only: over UDP NOTIMP, as the answer layer says and Knot DNS answers);
 * RFC 1995 §2 (the client's SOA in the authority section, a SOA-only
 * answer when it is current or over UDP), §4 (difference sequences, and
 * the AXFR-style answer when the history does not reach back); RFC 1996
 * §3.7 and §3.11 (NOTIFY: its SOA, only from configured sources, the
 * response echoing it); RFC 8945 §5.2 and §5.3 (verifying the request,
 * signing every message, the unsigned BADSIG/BADKEY error responses of
 * §5.3.2); RFC 9103 §9 (access by address and key); RFC 6891 §6.1.3
 * (BADVERS) and RFC 5936 §2.2.5 (one OPT, in the first message).
 *
 * Access follows the order a client can reason about: a source no ACL
 * entry holds is REFUSED; an allowed source whose TSIG fails, or that
 * signed with no key (or another key) than its entries require, is
 * answered NOTAUTH with the TSIG error (no TSIG record at all when the
 * request was unsigned: there is nothing to echo); only then does an
 * expired zone answer SERVFAIL (as Knot DNS orders its checks).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "xfr/internal.h"

#define XFR_DEFAULT_MESSAGE 16384
/* Room for the framing and the largest message, kept free in out->buf
 * before each message is started, so a record too big for the configured
 * message size can still go alone in a message of the largest size. */
#define XFR_MSG_ROOM (2 + DNS_MSG_MAXLEN)

enum serve_kind {
	KIND_AXFR,
	KIND_IXFR,
	KIND_NOTIFY,
};

/* One request being answered. */
struct serve {
	const struct xfr_policy *pol;
	const struct dns_query *q;
	const struct sockaddr *from;
	bool tcp;
	uint64_t now;
	struct xfr_out *out;
	const struct xfr_zone_policy *zp;
	enum serve_kind kind;
	const char *kind_str;
	char from_str[XFR_ADDR_STRLEN];
	char zone_str[DNS_NAME_STRLEN];

	/* TSIG: whether responses carry a TSIG (the request was signed and
	 * verified, or failed with an error to report in one). */
	struct dns_tsig_ctx tsig;
	bool sign;

	/* The message being written. */
	struct dns_writer w;
	bool open;
	bool first;		/* no message finished yet */
	size_t limit;		/* configured message size */
	uint16_t flags;		/* header flags but RCODE */
	uint16_t rcode;		/* 12 bits */
};

/* ---- output ------------------------------------------------------------- */

static int out_room(struct xfr_out *out, size_t need)
{
	if (out->cap - out->len >= need)
		return 0;
	size_t cap = out->cap > 0 ? out->cap : 4 * XFR_MSG_ROOM;
	while (cap - out->len < need)
		cap *= 2;
	uint8_t *buf = realloc(out->buf, cap);
	if (buf == NULL)
		return ANYDNS_ENOMEM;
	out->buf = buf;
	out->cap = cap;
	return 0;
}

static size_t frame_len(const struct serve *s)
{
	return s->tcp ? 2 : 0;
}

/* Starts a message at the end of out->buf: question in the first one,
 * room held back for the OPT (first message) and the TSIG. */
static int msg_open(struct serve *s)
{
	struct xfr_out *out = s->out;
	int ret = out_room(out, XFR_MSG_ROOM);
	if (ret != 0)
		return ret;
	dns_writer_init(&s->w, out->buf + out->len + frame_len(s), s->limit);
	s->open = true;
	if (s->first) {
		if (dns_writer_question(&s->w, s->q->qname, s->q->qtype,
					s->q->qclass) != 0)
			return ANYDNS_ESPACE;
		/* The writer compresses regardless of case: names in the
		 * zone must not point into the question as the client
		 * spelled it, or RDATA would arrive in the client's case. */
		s->w.compr_n = 0;
	}
	/* The TSIG as the request named key and algorithm, with the
	 * longest MAC and BADTIME's other data: DNS_TSIG_MAXLEN allows for
	 * 255-octet names, too much for a 512-octet UDP answer. */
	size_t reserve = !s->sign ? 0 :
		dns_name_len(s->tsig.key_name) + 10 +
		dns_name_len(s->tsig.alg_name) + 16 + DNS_TSIG_MAC_MAX + 6;
	if (s->first && s->q->has_edns) {
		struct dns_opt_out opt = { .payload = DNS_EDNS_DEFAULT_PAYLOAD };
		reserve += dns_opt_size(&opt);
	}
	return dns_writer_reserve(&s->w, reserve);
}

/* Finishes the open message: OPT, header, TSIG, framing. */
static int msg_close(struct serve *s)
{
	struct xfr_out *out = s->out;
	dns_writer_reserve(&s->w, 0);
	if (s->first && s->q->has_edns) {
		struct dns_opt_out opt = {
			.payload = DNS_EDNS_DEFAULT_PAYLOAD,
			.ext_rcode = (uint8_t)(s->rcode >> 4),
			.do_bit = s->q->edns_do,
		};
		if (dns_writer_opt(&s->w, &opt) != 0)
			return ANYDNS_ESPACE;
	}
	size_t len = dns_writer_finish(&s->w, s->q->id,
				       (uint16_t)(s->flags | (s->rcode & 0xf)));
	if (s->sign) {
		/* The reserve guaranteed the room up to the writer's full
		 * limit; a record raised to the largest size has it too. */
		size_t cap = s->w.limit + s->w.reserved;
		int ret = dns_tsig_sign(&s->tsig, s->w.buf, &len, cap, s->now);
		if (ret != 0)
			return ret;
	}
	if (s->tcp)
		wire_put_u16(out->buf + out->len, (uint16_t)len);
	out->len += frame_len(s) + len;
	if (out->messages == 0)
		out->rcode = s->rcode;
	out->messages++;
	s->open = false;
	s->first = false;
	return 0;
}

/* Appends one answer record, closing the message and starting another
 * when it is full. */
static int put_rr(struct serve *s, const uint8_t *owner, uint16_t type,
		  uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	int ret;
	if (!s->open && (ret = msg_open(s)) != 0)
		return ret;
	ret = dns_writer_rr(&s->w, DNS_SECTION_ANSWER, owner, type,
			    DNS_CLASS_IN, ttl, rdata, rdlen);
	if (ret == ANYDNS_ESPACE && s->w.count[DNS_SECTION_ANSWER] > 0) {
		if ((ret = msg_close(s)) != 0 || (ret = msg_open(s)) != 0)
			return ret;
		ret = dns_writer_rr(&s->w, DNS_SECTION_ANSWER, owner, type,
				    DNS_CLASS_IN, ttl, rdata, rdlen);
	}
	if (ret == ANYDNS_ESPACE) {
		/* Alone in a message and still too big for the configured
		 * size: RFC 5936 §2.2 lets a message be as large as 65535,
		 * and the buffer has room for that. */
		s->w.limit = DNS_MSG_MAXLEN - s->w.reserved;
		ret = dns_writer_rr(&s->w, DNS_SECTION_ANSWER, owner, type,
				    DNS_CLASS_IN, ttl, rdata, rdlen);
		if (ret == 0) {
			s->out->records++;
			return msg_close(s);	/* nothing more beside it */
		}
	}
	if (ret == 0)
		s->out->records++;
	return ret;
}

static int put_soa(struct serve *s, const struct zone *z)
{
	const uint8_t *rdata;
	uint16_t rdlen;
	if (!xfr_soa_rdata(z, &rdata, &rdlen))
		return ANYDNS_EINVAL;
	return put_rr(s, z->apex_name, DNS_TYPE_SOA, z->soa->ttl, rdata,
		      rdlen);
}

/* A response of one message with no records but the question (and OPT,
 * TSIG): errors, and the NOTIFY acknowledgement. */
static int answer_empty(struct serve *s, uint16_t rcode)
{
	s->rcode = rcode;
	int ret = msg_open(s);
	if (ret == 0 && s->open)
		ret = msg_close(s);
	return ret;
}

/* ---- logging ------------------------------------------------------------ */

/* A refusal, logged once: "zone Z: refused AXFR from A: why". */
static void log_refusal(const struct serve *s, const char *why)
{
	log_info("zone %s: refused %s from %s: %s", s->zone_str, s->kind_str,
		 s->from_str, why);
}

/* ---- access ------------------------------------------------------------- */

/* TSIG errors by name: 16 is BADSIG here, not the BADVERS of OPT. */
static const char *tsig_error_str(uint16_t error)
{
	switch (error) {
	case DNS_TSIG_BADSIG: return "BADSIG";
	case DNS_TSIG_BADKEY: return "BADKEY";
	case DNS_TSIG_BADTIME: return "BADTIME";
	default: return "error";
	}
}

static bool key_same(const struct dns_tsig_key *a, const struct dns_tsig_key *b)
{
	return a == b || (a->alg == b->alg && dns_name_equal(a->name, b->name));
}

/*
 * Checks the request against acl[0..n) and verifies its TSIG. Returns 0
 * when it is allowed (s->sign says whether responses are signed), or the
 * RCODE to refuse it with (s->sign then says whether that answer carries
 * a TSIG with the error in s->tsig).
 */
static uint16_t check_access(struct serve *s, const struct xfr_acl *acl,
			     size_t n)
{
	const struct dns_query *q = s->q;
	bool held = false;
	for (size_t i = 0; i < n && !held; i++)
		held = xfr_acl_match_addr(&acl[i], s->from);
	if (!held) {
		log_refusal(s, "not allowed");
		return DNS_RCODE_REFUSED;
	}

	const struct dns_tsig_key *key = NULL;
	if (q->tsig_offset != 0) {
		int ret = dns_tsig_verify_request(&s->tsig, s->pol->keys,
						  s->pol->key_count, q->wire,
						  q->wire_len, q->tsig_offset,
						  s->now);
		if (ret == ANYDNS_EMALF || (ret != 0 && s->tsig.error == 0)) {
			log_refusal(s, "malformed TSIG");
			return DNS_RCODE_FORMERR;
		}
		/* From here on every response carries a TSIG: signed, or
		 * with the error and no MAC (RFC 8945 §5.3.2). */
		s->sign = true;
		if (ret != 0) {
			log_info("zone %s: %s: TSIG %s from %s", s->zone_str,
				 s->kind_str, tsig_error_str(s->tsig.error),
				 s->from_str);
			return DNS_RCODE_NOTAUTH;
		}
		key = s->tsig.key;
	}

	for (size_t i = 0; i < n; i++) {
		if (!xfr_acl_match_addr(&acl[i], s->from))
			continue;
		if (acl[i].key == NULL ||
		    (key != NULL && key_same(acl[i].key, key)))
			return 0;
	}
	if (key != NULL) {
		/* A key we know but not one this source may use: BADKEY,
		 * answered without a MAC (§5.2.2 and §5.3.2). */
		s->tsig.error = DNS_TSIG_BADKEY;
		log_refusal(s, "TSIG key not allowed");
	} else {
		log_refusal(s, "TSIG required");
	}
	return DNS_RCODE_NOTAUTH;
}

/* ---- AXFR and IXFR ------------------------------------------------------ */

/* Every record of z once, SOA first and last, in canonical node order. */
static int put_zone(struct serve *s, const struct zone *z)
{
	int ret = put_soa(s, z);
	for (size_t i = 0; ret == 0 && i < z->node_count; i++) {
		const struct zone_node *node = z->nodes[i];
		for (uint16_t k = 0; ret == 0 && k < node->rrset_count; k++) {
			const struct zone_rrset *rs = &node->rrsets[k];
			if (rs->type == DNS_TYPE_SOA &&
			    (node->flags & ZONE_NODE_APEX))
				continue;
			struct zone_rr_iter it;
			const uint8_t *rdata;
			uint16_t rdlen;
			zone_rr_iter_init(&it, rs);
			while (ret == 0 && zone_rr_next(&it, &rdata, &rdlen))
				ret = put_rr(s, node->name, rs->type, rs->ttl,
					     rdata, rdlen);
		}
	}
	if (ret == 0)
		ret = put_soa(s, z);
	return ret;
}

/* The difference sequences of chain[0..n) between our SOA twice. */
static int put_diffs(struct serve *s, const struct zone *z,
		     struct zone_diff *const *chain, size_t n)
{
	int ret = put_soa(s, z);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		const uint8_t *pos = chain[i]->data;
		const uint8_t *end = pos + chain[i]->len;
		struct zone_diff_rr rr;
		while (ret == 0 && zone_diff_rr_next(&pos, end, &rr))
			ret = put_rr(s, rr.owner, rr.type, rr.ttl, rr.rdata,
				     rr.rdlen);
	}
	if (ret == 0)
		ret = put_soa(s, z);
	return ret;
}

/* A cursor on q's records: past the header and the question. */
static void records_start(const struct dns_query *q, struct wire_ctx *c)
{
	uint8_t name[DNS_NAME_MAXLEN];
	size_t len;

	wire_init(c, q->wire, q->wire_len);
	wire_skip(c, DNS_HEADER_LEN);
	dns_name_read(c, name, &len);
	wire_skip(c, 4);
}

/*
 * Reads the record at c (of an IXFR's authority or a NOTIFY's answer
 * section): 1 with its serial in *serial when it is the SOA of the
 * query's zone, 0 when it is another record (c is then past it), -1 when
 * it cannot be read.
 */
static int soa_serial_at(struct wire_ctx *c, const struct dns_query *q,
			 uint32_t *serial)
{
	uint8_t name[DNS_NAME_MAXLEN];
	size_t len;

	dns_name_read(c, name, &len);
	uint16_t type = wire_read_u16(c);
	wire_skip(c, 6);
	uint16_t rdlen = wire_read_u16(c);
	size_t rd_end = wire_offset(c) + rdlen;
	if (c->err != 0)
		return -1;
	if (type != DNS_TYPE_SOA || !dns_name_equal(name, q->qname_lower)) {
		wire_skip(c, rdlen);
		return 0;
	}
	/* MNAME and RNAME may be compressed in a query. */
	dns_name_read(c, name, &len);
	dns_name_read(c, name, &len);
	uint32_t v = wire_read_u32(c);
	if (c->err != 0 || wire_offset(c) + 16 != rd_end)
		return -1;
	*serial = v;
	return 1;
}

/*
 * The serial of the client's SOA in the authority section of an IXFR
 * (RFC 1995 §3), read through the cursor: its owner must be the zone's.
 * false when there is none or it cannot be read.
 */
static bool client_serial(const struct dns_query *q, uint32_t *serial)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t len;

	records_start(q, &c);
	for (unsigned i = 0; c.err == 0 && i < q->ancount; i++) {
		dns_name_read(&c, name, &len);
		wire_skip(&c, 8);
		wire_skip(&c, wire_read_u16(&c));
	}
	for (unsigned i = 0; c.err == 0 && i < q->nscount; i++) {
		int found = soa_serial_at(&c, q, serial);
		if (found != 0)
			return found > 0;
	}
	return false;
}

static void log_transfer(const struct serve *s, const struct zone *z,
			 const char *what)
{
	log_info("zone %s: %s to %s%s: %u messages, %llu records, serial %u",
		 s->zone_str, s->kind_str, s->from_str, what,
		 s->out->messages, (unsigned long long)s->out->records,
		 z->serial);
}

/* After the last record of a transfer (ret what putting it returned):
 * closes its last message and logs it. */
static int transfer_done(struct serve *s, const struct zone *z, int ret,
			 const char *what)
{
	if (ret == 0 && s->open)
		ret = msg_close(s);
	if (ret == 0)
		log_transfer(s, z, what);
	return ret;
}

static int serve_axfr(struct serve *s, const struct zone *z)
{
	return transfer_done(s, z, put_zone(s, z), "");
}

static int serve_ixfr(struct serve *s, const struct zone *z, uint32_t from)
{
	int ret;
	char what[96];

	/* Over UDP, or to a client as new as we are, our SOA alone (RFC 1995
	 * §2): a client behind gets it over UDP and asks again over TCP. */
	if (!s->tcp || !zone_serial_newer(z->serial, from)) {
		snprintf(what, sizeof(what), ", SOA only (from serial %u%s)",
			 from, s->tcp ? "" : ", UDP");
		return transfer_done(s, z, put_soa(s, z), what);
	}

	struct zone_diff *const *chain;
	size_t n;
	if (zone_history_chain(z, from, &chain, &n) != 0) {
		/* RFC 1995 §4: the whole zone when the history does not go
		 * back that far. */
		snprintf(what, sizeof(what), ", AXFR-style (no history from "
			 "serial %u)", from);
		return transfer_done(s, z, put_zone(s, z), what);
	}

	const struct xfr_zone_policy *zp = s->zp;
	struct zone_diff *condensed = NULL;
	/* Out of memory for condensing: the chain as it is serves too. */
	bool condense = zp->condense_after > 0 && n > zp->condense_after &&
			zone_diff_condense(chain, n, &condensed) == 0;
	if (condense)
		ret = put_diffs(s, z, &condensed, 1);
	else
		ret = put_diffs(s, z, chain, n);
	zone_diff_unref(condensed);
	snprintf(what, sizeof(what), " from serial %u (%zu changes%s)", from,
		 n, condense ? ", condensed" : "");
	return transfer_done(s, z, ret, what);
}

/* ---- NOTIFY ------------------------------------------------------------- */

/* The serial of the SOA a NOTIFY may carry in its answer section (RFC
 * 1996 §3.7); false when there is none to read. */
static bool notify_serial(const struct dns_query *q, uint32_t *serial)
{
	struct wire_ctx c;

	if (q->ancount == 0)
		return false;
	records_start(q, &c);
	return soa_serial_at(&c, q, serial) > 0;
}

static int serve_notify(struct serve *s, const struct xfr_zone_policy *zp,
			struct xfr_notify_event *ev)
{
	s->flags |= DNS_FLAG_AA;	/* as in RFC 1996 §4.7's example */
	int ret = answer_empty(s, DNS_RCODE_NOERROR);
	if (ret != 0)
		return ret;
	memset(ev, 0, sizeof(*ev));
	memcpy(ev->apex, zp->apex, dns_name_len(zp->apex));
	ev->has_serial = notify_serial(s->q, &ev->serial);
	size_t flen = s->from->sa_family == AF_INET6 ?
		sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(&ev->from, s->from, flen);
	if (ev->has_serial)
		log_info("zone %s: NOTIFY from %s, serial %u", s->zone_str,
			 s->from_str, ev->serial);
	else
		log_info("zone %s: NOTIFY from %s", s->zone_str, s->from_str);
	return 1;
}

/* ---- the entry point ---------------------------------------------------- */

static int serve_request(struct serve *s, const struct zone_set *set,
			 struct xfr_notify_event *ev)
{
	const struct dns_query *q = s->q;

	if (q->has_edns && q->edns_version > 0)
		return answer_empty(s, DNS_RCODE_BADVERS);
	if (s->kind == KIND_AXFR && !s->tcp) {
		/* RFC 5936 §4.2: TCP only. */
		log_refusal(s, "over UDP");
		return answer_empty(s, DNS_RCODE_NOTIMP);
	}
	if (s->kind == KIND_NOTIFY && q->qtype != DNS_TYPE_SOA) {
		log_refusal(s, "not for SOA");
		return answer_empty(s, DNS_RCODE_FORMERR);
	}

	const struct xfr_zone_policy *zp = xfr_policy_find(s->pol,
							   q->qname_lower);
	s->zp = zp;
	const struct zone *z = NULL;
	if (s->kind != KIND_NOTIFY && set != NULL)
		z = zone_set_get(set, q->qname_lower);
	if (q->qclass != DNS_CLASS_IN || zp == NULL ||
	    (s->kind != KIND_NOTIFY && z == NULL)) {
		log_refusal(s, "zone not served");
		return answer_empty(s, DNS_RCODE_REFUSED);
	}

	uint16_t rcode = s->kind == KIND_NOTIFY ?
		check_access(s, zp->notify, zp->notify_count) :
		check_access(s, zp->transfer, zp->transfer_count);
	if (rcode != 0)
		return answer_empty(s, rcode);

	if (s->kind == KIND_NOTIFY)
		return serve_notify(s, zp, ev);

	if (z->servfail || z->soa == NULL) {
		log_refusal(s, "zone expired");
		return answer_empty(s, DNS_RCODE_SERVFAIL);
	}
	s->limit = zp->message_size >= DNS_UDP_MIN_PAYLOAD ?
		zp->message_size : XFR_DEFAULT_MESSAGE;
	if (!s->tcp) {
		/* The SOA-only answer: what the client takes, within what
		 * any server configuration sends. */
		s->limit = DNS_UDP_MIN_PAYLOAD;
		if (q->has_edns && q->edns_payload > s->limit)
			s->limit = q->edns_payload < DNS_EDNS_DEFAULT_PAYLOAD ?
				q->edns_payload : DNS_EDNS_DEFAULT_PAYLOAD;
	}
	s->flags |= DNS_FLAG_AA;
	if (s->kind == KIND_AXFR)
		return serve_axfr(s, z);

	uint32_t from;
	if (!client_serial(q, &from)) {
		s->flags &= (uint16_t)~DNS_FLAG_AA;
		log_refusal(s, "no SOA in authority");
		return answer_empty(s, DNS_RCODE_FORMERR);
	}
	return serve_ixfr(s, z, from);
}

int xfr_serve(const struct xfr_policy *pol, const struct zone_set *set,
	      const struct dns_query *q, const struct sockaddr *from, bool tcp,
	      uint64_t now, struct xfr_out *out, struct xfr_notify_event *ev)
{
	struct serve s;
	memset(&s, 0, sizeof(s));
	s.pol = pol;
	s.q = q;
	s.from = from;
	s.tcp = tcp;
	s.now = now;
	s.out = out;
	s.first = true;
	/* Errors and NOTIFY answers: one small message. */
	s.limit = tcp ? DNS_MSG_MAXLEN : DNS_UDP_MIN_PAYLOAD;
	if (q->opcode == DNS_OPCODE_NOTIFY) {
		s.kind = KIND_NOTIFY;
		s.kind_str = "NOTIFY";
	} else if (q->qtype == DNS_TYPE_IXFR) {
		s.kind = KIND_IXFR;
		s.kind_str = "IXFR";
	} else {
		s.kind = KIND_AXFR;
		s.kind_str = "AXFR";
	}
	/* RD is echoed (RFC 1035 §4.1.1), as the answer layer does. */
	s.flags = DNS_FLAG_QR | (uint16_t)(q->opcode << 11) |
		  (q->flags & DNS_FLAG_RD);
	xfr_addr_str(from, s.from_str, sizeof(s.from_str));
	dns_name_to_str(s.zone_str, q->qname_lower);
	dns_tsig_ctx_init(&s.tsig, NULL);
	out->framed = tcp;

	int ret = serve_request(&s, set, ev);
	if (ret < 0 && ret != ANYDNS_ENOMEM) {
		/* Not the client's fault (a record no message can hold, a
		 * signing failure): what was built goes, SERVFAIL instead,
		 * unsigned since the MAC chain is already spent. */
		log_warn("zone %s: %s to %s failed: %s", s.zone_str,
			 s.kind_str, s.from_str, anydns_strerror(ret));
		out->len = 0;
		out->messages = 0;
		out->records = 0;
		s.open = false;
		s.first = true;
		s.sign = false;
		s.limit = tcp ? DNS_MSG_MAXLEN : DNS_UDP_MIN_PAYLOAD;
		s.flags &= (uint16_t)~DNS_FLAG_AA;
		ret = answer_empty(&s, DNS_RCODE_SERVFAIL);
	}
	dns_tsig_ctx_clear(&s.tsig);
	if (ret < 0) {
		xfr_out_free(out);
		out->framed = tcp;
		return ANYDNS_ENOMEM;
	}
	return ret;
}
