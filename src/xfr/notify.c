/*
 * NOTIFY to secondaries (RFC 1996), the primary's side: building the
 * message and checking what comes back. The control thread sends it over
 * UDP and retries; this file does no I/O.
 *
 * Implements: RFC 1996 §3.3 and §3.7 (opcode NOTIFY, AA set, the question
 * the zone's apex SOA IN, the SOA in the answer section as a hint), §4.7
 * (the response echoes ID, opcode and question), RFC 8945 §5.1 and §5.3
 * (signing the request, verifying the response).
 */
#include <string.h>

#include "xfr/internal.h"

int xfr_notify_build(const struct zone *z, uint16_t id,
		     struct dns_tsig_ctx *ctx, uint64_t now, uint8_t *buf,
		     size_t cap, size_t *len)
{
	struct dns_writer w;
	const uint8_t *rdata;
	uint16_t rdlen;
	bool sign = ctx != NULL && ctx->key != NULL;

	/* A placeholder (an expired secondary) has no SOA to announce. */
	if (z->soa == NULL)
		return ANYDNS_EINVAL;
	if (cap < DNS_HEADER_LEN)
		return ANYDNS_ESPACE;
	if (cap > DNS_MSG_MAXLEN)
		cap = DNS_MSG_MAXLEN;
	dns_writer_init(&w, buf, cap);
	if (!xfr_soa_rdata(z, &rdata, &rdlen))
		return ANYDNS_EINVAL;
	if (dns_writer_question(&w, z->apex_name, DNS_TYPE_SOA,
				DNS_CLASS_IN) != 0 ||
	    (sign && dns_writer_reserve(&w, DNS_TSIG_MAXLEN) != 0) ||
	    dns_writer_rr(&w, DNS_SECTION_ANSWER, z->apex_name, DNS_TYPE_SOA,
			  DNS_CLASS_IN, z->soa->ttl, rdata, rdlen) != 0)
		return ANYDNS_ESPACE;
	dns_writer_reserve(&w, 0);
	size_t n = dns_writer_finish(&w, id, (uint16_t)(DNS_OPCODE_NOTIFY << 11 |
							DNS_FLAG_AA));
	if (sign) {
		int ret = dns_tsig_sign(ctx, buf, &n, cap, now);
		if (ret != 0)
			return ret;
	}
	*len = n;
	return 0;
}

/* The question of a message: name (case as sent), type, class. */
struct question {
	uint8_t name[DNS_NAME_MAXLEN];
	uint16_t type, qclass;
};

static bool read_question(const uint8_t *msg, size_t len, struct question *qu)
{
	struct wire_ctx c;
	size_t nlen;
	wire_init(&c, msg, len);
	wire_skip(&c, 4);
	uint16_t qdcount = wire_read_u16(&c);
	wire_skip(&c, 6);
	if (c.err != 0 || qdcount != 1)
		return false;
	dns_name_read(&c, qu->name, &nlen);
	qu->type = wire_read_u16(&c);
	qu->qclass = wire_read_u16(&c);
	return c.err == 0;
}

int xfr_notify_reply_check(const uint8_t *req, size_t reqlen,
			   const uint8_t *msg, size_t len,
			   struct dns_tsig_ctx *ctx, uint64_t now,
			   uint16_t *rcode)
{
	struct question a, b;
	if (reqlen < DNS_HEADER_LEN || len < DNS_HEADER_LEN)
		return ANYDNS_EDROP;
	uint16_t flags = wire_get_u16(msg + 2);
	if (wire_get_u16(msg) != wire_get_u16(req) ||
	    !(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != DNS_OPCODE_NOTIFY)
		return ANYDNS_EDROP;
	/* RFC 1996 §4.7: the response echoes the question. */
	if (!read_question(req, reqlen, &a) || !read_question(msg, len, &b) ||
	    !dns_name_equal(a.name, b.name) || a.type != b.type ||
	    a.qclass != b.qclass)
		return ANYDNS_EDROP;

	*rcode = DNS_RCODE(flags);
	if (ctx != NULL && ctx->key != NULL) {
		/* An unsigned error says no more than that the secondary
		 * would not take it (it may not have our key): report the
		 * RCODE rather than the missing signature. */
		long at = dns_tsig_find(msg, len);
		if (at < 0)
			return ANYDNS_EMALF;
		if (at > 0 || *rcode == DNS_RCODE_NOERROR) {
			int ret = dns_tsig_verify_response(ctx, msg, len, now);
			if (ret != 0)
				return ret;
		}
	}
	return *rcode == DNS_RCODE_NOERROR ? 0 : ANYDNS_EREFUSED;
}
