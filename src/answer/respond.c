/*
 * The message level of answering: the response header and flags (RFC 1035
 * §4.1.1), the size limit per transport (RFC 1035 §4.2.1, RFC 6891 §6.2.5),
 * FORMERR for malformed queries (RFC 9619 for QDCOUNT), NOTIMP for opcodes
 * other than QUERY, BADVERS for EDNS versions above 0 (RFC 6891 §6.1.3),
 * the OPT record with NSID (RFC 5001) and edns-tcp-keepalive (RFC 7828),
 * the CHAOS identity names (RFC 4892), and REFUSED for other classes. The
 * zone part of the algorithm is in answer.c.
 */
#include <string.h>

#include "answer/answer.h"
#include "answer/internal.h"

/* RFC 4892 §2 and the BIND convention: the names a CHAOS TXT query may ask. */
static const uint8_t ch_id_server[] = "\x02id\x06server";
static const uint8_t ch_hostname_bind[] = "\x08hostname\x04" "bind";
static const uint8_t ch_version_server[] = "\x07version\x06server";
static const uint8_t ch_version_bind[] = "\x07version\x04" "bind";

/* The largest response this query may get over transport. */
static size_t response_limit(const struct answer_conf *conf,
			     const struct dns_query *q, bool edns,
			     enum answer_transport transport, size_t out_cap)
{
	size_t limit;
	if (transport == ANSWER_TCP) {
		limit = DNS_MSG_MAXLEN;
	} else if (edns) {
		limit = q->edns_payload < conf->udp_max_payload ?
			q->edns_payload : conf->udp_max_payload;
		if (limit < DNS_UDP_MIN_PAYLOAD)
			limit = DNS_UDP_MIN_PAYLOAD;
	} else {
		limit = DNS_UDP_MIN_PAYLOAD;
	}
	return limit < out_cap ? limit : out_cap;
}

/* TXT RDATA of text, split into character-strings of at most 255 octets. */
static size_t txt_rdata(uint8_t *dst, size_t cap, const char *text)
{
	size_t n = strlen(text), off = 0;
	do {
		size_t chunk = n > 255 ? 255 : n;
		if (off + 1 + chunk > cap)
			break;
		dst[off++] = (uint8_t)chunk;
		memcpy(dst + off, text, chunk);
		off += chunk;
		text += chunk;
		n -= chunk;
	} while (n > 0);
	return off;
}

/* CHAOS class: TXT for the identity and version names, REFUSED otherwise. */
static void answer_chaos(struct answer_ctx *ctx)
{
	const struct dns_query *q = ctx->q;
	const char *text = NULL;
	if (dns_name_equal(q->qname_lower, ch_id_server) ||
	    dns_name_equal(q->qname_lower, ch_hostname_bind))
		text = ctx->conf->identity;
	else if (dns_name_equal(q->qname_lower, ch_version_server) ||
		 dns_name_equal(q->qname_lower, ch_version_bind))
		text = ctx->conf->version;
	if (text == NULL ||
	    (q->qtype != DNS_TYPE_TXT && q->qtype != DNS_TYPE_ANY)) {
		ctx->rcode = DNS_RCODE_REFUSED;
		return;
	}
	uint8_t rdata[1024];
	size_t len = txt_rdata(rdata, sizeof(rdata), text);
	ctx->flags |= DNS_FLAG_AA;
	if (dns_writer_rr(&ctx->w, DNS_SECTION_ANSWER, q->qname, DNS_TYPE_TXT,
			  DNS_CLASS_CH, 0, rdata, (uint16_t)len) != 0)
		ctx->truncated = true;
}

/* Answers a well-formed message with a question. */
static void answer_question(struct answer_ctx *ctx, const struct zone_set *zones,
			    enum answer_transport transport)
{
	const struct dns_query *q = ctx->q;
	if (q->opcode != DNS_OPCODE_QUERY) {
		ctx->rcode = DNS_RCODE_NOTIMP;
		return;
	}
	switch (q->qtype) {
	case DNS_TYPE_AXFR:
	case DNS_TYPE_IXFR:
		/* Transfers are served by src/xfr over TCP only. */
		ctx->rcode = transport == ANSWER_UDP ? DNS_RCODE_FORMERR :
						       DNS_RCODE_REFUSED;
		return;
	case DNS_TYPE_OPT:
	case DNS_TYPE_TSIG:
	case DNS_TYPE_TKEY:
		ctx->rcode = DNS_RCODE_FORMERR;
		return;
	case DNS_TYPE_MAILA:
	case DNS_TYPE_MAILB:
		ctx->rcode = DNS_RCODE_NOTIMP;
		return;
	default:
		break;
	}
	switch (q->qclass) {
	case DNS_CLASS_IN:
		answer_in_zone(ctx, zones);
		break;
	case DNS_CLASS_CH:
		answer_chaos(ctx);
		break;
	default:
		ctx->rcode = DNS_RCODE_REFUSED;
		break;
	}
}

void answer_query(const struct answer_conf *conf, const struct zone_set *zones,
		  const struct dns_query *q, int parse_rc,
		  enum answer_transport transport, uint8_t *out, size_t out_cap,
		  struct answer_result *res)
{
	memset(res, 0, sizeof(*res));
	if (parse_rc == ANYDNS_EDROP || out_cap < DNS_HEADER_LEN)
		return;

	struct answer_ctx ctx;
	ctx.conf = conf;
	ctx.q = q;
	ctx.rcode = DNS_RCODE_NOERROR;
	ctx.truncated = false;
	ctx.addl_n = 0;
	ctx.referral_cut = NULL;
	ctx.chain_n = 0;
	ctx.next = NULL;
	ctx.synth_n = 0;
	ctx.flags = DNS_FLAG_QR | (uint16_t)(q->opcode << 11) |
		    (q->flags & (DNS_FLAG_RD | DNS_FLAG_CD));
	bool edns = parse_rc == 0 && q->has_edns;
	dns_writer_init(&ctx.w, out, response_limit(conf, q, edns, transport, out_cap));

	struct dns_opt_out opt = {
		.payload = conf->udp_max_payload,
		.do_bit = q->edns_do,
	};
	if (edns && q->edns_nsid && conf->nsid != NULL) {
		opt.nsid = conf->nsid;
		opt.nsid_len = conf->nsid_len;
	}
	if (edns && transport == ANSWER_TCP && q->edns_keepalive &&
	    conf->tcp_keepalive > 0) {
		opt.keepalive = true;
		opt.keepalive_timeout = conf->tcp_keepalive;
	}
	if (edns && dns_writer_reserve(&ctx.w, dns_opt_size(&opt)) != 0)
		edns = false;

	if (q->has_question &&
	    dns_writer_question(&ctx.w, q->qname, q->qtype, q->qclass) != 0) {
		/* Cannot happen with a valid question and >= 512 octets. */
		ctx.rcode = DNS_RCODE_SERVFAIL;
	} else if (parse_rc != 0) {
		ctx.rcode = DNS_RCODE_FORMERR;
	} else if (edns && q->edns_version > 0) {
		ctx.rcode = DNS_RCODE_BADVERS;
	} else {
		answer_question(&ctx, zones, transport);
	}

	if (edns) {
		dns_writer_reserve(&ctx.w, 0);
		opt.ext_rcode = (uint8_t)(ctx.rcode >> 4);
		if (dns_writer_opt(&ctx.w, &opt) != 0)
			ctx.truncated = true;
	}
	if (ctx.truncated)
		ctx.flags |= DNS_FLAG_TC;
	ctx.flags |= ctx.rcode & 0xf;
	res->len = dns_writer_finish(&ctx.w, q->id, ctx.flags);
	res->rcode = ctx.rcode;
	res->truncated = ctx.truncated;
}

void answer_packet(const struct answer_conf *conf, const struct zone_set *zones,
		   const uint8_t *pkt, size_t len, enum answer_transport transport,
		   uint8_t *out, size_t out_cap, struct answer_result *res)
{
	struct dns_query q;
	int rc = dns_query_parse(pkt, len, &q);
	answer_query(conf, zones, &q, rc, transport, out, out_cap, res);
}
