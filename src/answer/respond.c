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
	if (text == NULL || q->qtype != DNS_TYPE_TXT) {
		ctx->rcode = DNS_RCODE_REFUSED;
		return;
	}
	uint8_t rdata[1024];
	size_t len = txt_rdata(rdata, sizeof(rdata), text);
	/* Not AA: this is not zone data (Knot DNS and BIND agree). */
	if (dns_writer_rr(&ctx->w, DNS_SECTION_ANSWER, q->qname, DNS_TYPE_TXT,
			  DNS_CLASS_CH, 0, rdata, (uint16_t)len) != 0)
		ctx->truncated = true;
}

/* Answers a well-formed QUERY. */
static void answer_question(struct answer_ctx *ctx, const struct zone_set *zones,
			    enum answer_transport transport)
{
	const struct dns_query *q = ctx->q;
	switch (q->qtype) {
	case 0:
		/* Type 0 is reserved (RFC 6895 §3.1). */
		ctx->rcode = DNS_RCODE_NOTIMP;
		return;
	case DNS_TYPE_AXFR:
		/* RFC 5936 §4.2: AXFR is TCP only. Transfers themselves are
		 * served by src/xfr; one that reaches here is not allowed. */
		ctx->rcode = transport == ANSWER_UDP ? DNS_RCODE_NOTIMP :
						       DNS_RCODE_NOTAUTH;
		return;
	case DNS_TYPE_IXFR:
		ctx->rcode = DNS_RCODE_NOTAUTH;
		return;
	default:
		break;
	}
	switch (q->qclass) {
	case DNS_CLASS_IN:
	case DNS_CLASS_ANY:	/* our zones are all class IN */
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

/*
 * The TSIG record of a query signed with a key we do not have: RFC 8945
 * §5.2.2 answers NOTAUTH with an unsigned TSIG (§5.3.2) that names the key
 * and algorithm, echoes the time, and carries error BADKEY and no MAC.
 * Returns the RDATA length written into rdata, or 0 if the TSIG is broken.
 */
static size_t tsig_badkey(const struct dns_query *q, uint8_t *key,
			  uint8_t *rdata, size_t cap)
{
	struct wire_ctx c;
	size_t klen, alen;
	uint8_t alg[DNS_NAME_MAXLEN];
	wire_init(&c, q->wire, q->wire_len);
	wire_seek(&c, q->tsig_offset);
	dns_name_read(&c, key, &klen);
	wire_skip(&c, 10);	/* type, class, TTL, RDLENGTH */
	dns_name_read(&c, alg, &alen);
	const uint8_t *time_fudge = wire_take(&c, 8);	/* time 48, fudge 16 */
	wire_skip(&c, wire_read_u16(&c));		/* MAC */
	uint16_t orig_id = wire_read_u16(&c);
	if (c.err != 0 || alen + 16 > cap)
		return 0;
	struct wire_wctx w;
	wire_winit(&w, rdata, cap);
	wire_write(&w, alg, alen);
	wire_write(&w, time_fudge, 8);
	wire_write_u16(&w, 0);			/* MAC size */
	wire_write_u16(&w, orig_id);
	wire_write_u16(&w, DNS_TSIG_BADKEY);
	wire_write_u16(&w, 0);			/* other len */
	return w.err ? 0 : wire_wlen(&w);
}

/* Opcodes with a meaning for us; others get NOTIMP (RFC 1035 §4.1.1). */
static bool opcode_known(uint8_t opcode)
{
	return opcode == DNS_OPCODE_QUERY || opcode == DNS_OPCODE_NOTIFY ||
	       opcode == DNS_OPCODE_UPDATE;
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
	ctx.zone = NULL;
	ctx.rcode = DNS_RCODE_NOERROR;
	ctx.truncated = false;
	ctx.addl_n = 0;
	ctx.referral_cut = NULL;
	ctx.chain_n = 0;
	ctx.chain_end = false;
	ctx.next = NULL;
	ctx.synth_n = 0;
	ctx.dname_n = 0;
	ctx.not_authoritative = false;
	ctx.expire_set = false;
	ctx.expire = 0;
	/* RD is copied (RFC 1035 §4.1.1); CD means nothing to an
	 * authoritative server and is not echoed, as Knot DNS does. */
	ctx.flags = DNS_FLAG_QR | (uint16_t)(q->opcode << 11) |
		    (q->flags & DNS_FLAG_RD);
	/* An OPT that parsed is answered with one even when something else
	 * in the message is malformed (RFC 6891 §7). */
	bool edns = q->has_edns;
	dns_writer_init(&ctx.w, out, response_limit(conf, q, edns, transport, out_cap));

	/* A TSIG we cannot verify: we hold no keys yet (src/xfr will). One
	 * we cannot even read makes the message corrupt (RFC 8945 §5.2). */
	uint8_t tsig_key[DNS_NAME_MAXLEN], tsig_rdata[DNS_NAME_MAXLEN + 16];
	size_t tsig_len = 0;
	bool tsig_bad = false;
	if (parse_rc == 0 && q->tsig_offset != 0) {
		tsig_len = tsig_badkey(q, tsig_key, tsig_rdata, sizeof(tsig_rdata));
		tsig_bad = tsig_len == 0;
	}

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

	/* The question first: it always fits in 512 octets. */
	if (q->has_question &&
	    dns_writer_question(&ctx.w, q->qname, q->qtype, q->qclass) != 0)
		ctx.truncated = true;	/* not reached: the limit is >= 512 */

	/* Then room for the OPT (with EXPIRE if it may come) and a TSIG. An
	 * EDE goes only into REFUSED answers, which have room to spare. If
	 * even that does not fit (names near 255 octets in 512), the client
	 * gets TC and asks again over TCP. */
	if (edns && q->edns_expire && q->qtype == DNS_TYPE_SOA)
		opt.expire = true;
	size_t reserve = edns ? dns_opt_size(&opt) : 0;
	opt.expire = false;
	if (tsig_len > 0)
		reserve += dns_name_len(tsig_key) + 10 + tsig_len;
	bool room = dns_writer_reserve(&ctx.w, reserve) == 0;

	if (!opcode_known(q->opcode)) {
		ctx.rcode = DNS_RCODE_NOTIMP;
	} else if (parse_rc != 0 || tsig_bad) {
		ctx.rcode = DNS_RCODE_FORMERR;
	} else if (edns && q->edns_version > 0) {
		ctx.rcode = DNS_RCODE_BADVERS;
	} else if (tsig_len > 0) {
		ctx.rcode = DNS_RCODE_NOTAUTH;
	} else if (q->opcode != DNS_OPCODE_QUERY) {
		/* NOTIFY and UPDATE from nobody we accept them from. */
		ctx.rcode = DNS_RCODE_NOTAUTH;
	} else if (!room) {
		ctx.truncated = true;
	} else {
		answer_question(&ctx, zones, transport);
	}

	dns_writer_reserve(&ctx.w, 0);
	if (edns) {
		opt.ext_rcode = (uint8_t)(ctx.rcode >> 4);
		if (ctx.expire_set && q->edns_expire) {
			opt.expire = true;
			opt.expire_value = ctx.expire;
		}
		if (ctx.not_authoritative) {
			opt.ede = true;
			opt.ede_code = DNS_EDE_NOT_AUTHORITATIVE;
		}
		if (dns_writer_opt(&ctx.w, &opt) != 0)
			ctx.truncated = true;
	}
	if (tsig_len > 0 &&
	    dns_writer_rr(&ctx.w, DNS_SECTION_ADDITIONAL, tsig_key, DNS_TYPE_TSIG,
			  DNS_CLASS_ANY, 0, tsig_rdata, (uint16_t)tsig_len) != 0)
		ctx.truncated = true;
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
