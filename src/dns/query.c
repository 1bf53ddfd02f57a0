/*
 * Parsing of query messages on the hot path: the header and question of
 * RFC 1035 §4.1.1-§4.1.2 (exactly one question, RFC 9619), a walk over the
 * other sections that checks every record's framing (RFC 1035 §4.1.3), the
 * EDNS OPT record of RFC 6891 §6.1 (one at most, root owner, additional
 * section only) with its NSID (RFC 5001 §2.1) and edns-tcp-keepalive
 * (RFC 7828 §3.2.1) options, and the rule that a TSIG record comes last
 * (RFC 8945 §5.1). Nothing is copied but the question name.
 */
#include "dns/dns.h"

/* RFC 6891 §6.1.3: the DO bit in the low 16 bits of the OPT TTL. */
#define EDNS_DO_BIT 0x8000u

/* Reads the options in the RDATA of an OPT record into q. */
static int parse_edns_options(struct dns_query *q, const uint8_t *rdata,
			      uint16_t rdlen)
{
	struct wire_ctx c;
	wire_init(&c, rdata, rdlen);

	while (wire_avail(&c) > 0) {
		uint16_t code = wire_read_u16(&c);
		uint16_t len = wire_read_u16(&c);
		wire_skip(&c, len);
		if (c.err != 0)
			return ANYDNS_EMALF;
		switch (code) {
		case DNS_EDNS_NSID:
			/* A query's NSID must be empty (RFC 5001 §2.1), but
			 * tolerate data and take it as a request anyway. */
			q->edns_nsid = true;
			break;
		case DNS_EDNS_TCP_KEEPALIVE:
			/* RFC 7828 §3.2.1: a client sends no timeout. */
			if (len != 0)
				return ANYDNS_EMALF;
			q->edns_keepalive = true;
			break;
		case DNS_EDNS_EXPIRE:
			/* RFC 7314 §2: empty in a query; data is ignored. */
			q->edns_expire = true;
			break;
		default:		/* RFC 6891 §6.1.2: ignore the unknown */
			break;
		}
	}
	return 0;
}

/*
 * has_edns is set as soon as the OPT record itself is acceptable, so that
 * a FORMERR for bad options can still carry an OPT of its own.
 */
static int parse_opt(struct dns_query *q, uint16_t rclass, uint32_t ttl,
		     const uint8_t *rdata, uint16_t rdlen)
{
	q->has_edns = true;
	/* RFC 6891 §6.2.3: values below 512 are treated as 512. */
	q->edns_payload = rclass < DNS_UDP_MIN_PAYLOAD ? DNS_UDP_MIN_PAYLOAD : rclass;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_do = (ttl & EDNS_DO_BIT) != 0;
	return parse_edns_options(q, rdata, rdlen);
}

/* Walks the answer, authority and additional sections. */
static int parse_records(struct wire_ctx *c, struct dns_query *q)
{
	unsigned an = q->ancount, ns = q->nscount;
	unsigned total = an + ns + q->arcount;
	uint8_t owner[DNS_NAME_MAXLEN];

	for (unsigned i = 0; i < total; i++) {
		size_t rr_off = wire_offset(c);
		bool additional = i >= an + ns;
		bool root;
		size_t owner_len;

		/* Nearly every record in a query is an OPT owned by the root:
		 * skip the copy for it. */
		if (wire_avail(c) > 0 && *c->pos == 0) {
			wire_skip(c, 1);
			root = true;
		} else {
			if (dns_name_read(c, owner, &owner_len) != 0)
				return ANYDNS_EMALF;
			root = owner_len == 1;
		}
		uint16_t type = wire_read_u16(c);
		uint16_t rclass = wire_read_u16(c);
		uint32_t ttl = wire_read_u32(c);
		uint16_t rdlen = wire_read_u16(c);
		const uint8_t *rdata = wire_take(c, rdlen);
		if (c->err != 0)
			return ANYDNS_EMALF;

		if (type == DNS_TYPE_OPT) {
			/* RFC 6891 §6.1.1: one, in additional, owned by root.
			 * With two, neither is the message's OPT: the FORMERR
			 * goes without one (as Knot DNS answers). */
			if (additional && q->has_edns) {
				q->has_edns = false;
				return ANYDNS_EMALF;
			}
			if (!additional || !root)
				return ANYDNS_EMALF;
			int ret = parse_opt(q, rclass, ttl, rdata, rdlen);
			if (ret != 0)
				return ret;
		} else if (type == DNS_TYPE_TSIG) {
			if (!additional || i != total - 1)
				return ANYDNS_EMALF;
			q->tsig_offset = rr_off;
		}
	}
	return 0;
}

int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	struct wire_ctx c;
	int ret;

	/* Not a memset: the two name buffers would double the cost. */
	q->wire = pkt;
	q->wire_len = len;
	q->id = 0;
	q->flags = 0;
	q->opcode = 0;
	q->qdcount = q->ancount = q->nscount = q->arcount = 0;
	q->has_question = false;
	q->qname_len = 0;
	q->qtype = q->qclass = 0;
	q->has_edns = false;
	q->edns_version = 0;
	q->edns_payload = 0;
	q->edns_do = false;
	q->edns_nsid = false;
	q->edns_keepalive = false;
	q->edns_expire = false;
	q->tsig_offset = 0;

	if (len < DNS_HEADER_LEN)
		return ANYDNS_EDROP;
	wire_init(&c, pkt, len);
	q->id = wire_read_u16(&c);
	q->flags = wire_read_u16(&c);
	q->opcode = (uint8_t)DNS_OPCODE(q->flags);
	q->qdcount = wire_read_u16(&c);
	q->ancount = wire_read_u16(&c);
	q->nscount = wire_read_u16(&c);
	q->arcount = wire_read_u16(&c);
	if (q->flags & DNS_FLAG_QR)
		return ANYDNS_EDROP;
	if (q->qdcount != 1)
		return ANYDNS_EMALF;

	if (dns_name_read(&c, q->qname, &q->qname_len) != 0)
		return ANYDNS_EMALF;
	q->qtype = wire_read_u16(&c);
	q->qclass = wire_read_u16(&c);
	if (c.err != 0)
		return ANYDNS_EMALF;
	dns_name_copy_lower(q->qname_lower, q->qname);
	q->has_question = true;

	ret = parse_records(&c, q);
	if (ret != 0)
		return ret;
	if (wire_avail(&c) != 0)
		return ANYDNS_EMALF;
	return 0;
}
