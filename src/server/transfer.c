/*
 * The workers' door to src/xfr: AXFR, IXFR (RFC 5936, RFC 1995) and
 * NOTIFY (RFC 1996) messages go to xfr_serve() instead of the answer
 * layer when the server has a transfer policy, from the same zone set
 * (the view the query's destination picks) under the same RCU read-side
 * section. Here the wall clock is read for TSIG (RFC 8945 §5.2.3), the
 * counters of transfers and NOTIFYs are kept, and an accepted NOTIFY is
 * handed to the control thread's callback.
 *
 * Other signed queries, above all the SOA query a secondary sends before
 * IXFR (RFC 1995 §4, RFC 1996 §4.7), are verified with the policy's keys
 * (RFC 8945 §5.2) and answered as the same query unsigned, then signed
 * (§5.3); one that fails gets NOTAUTH with the TSIG error (§5.3.2).
 */
#include <string.h>
#include <time.h>

#include "server/internal.h"

int server_xfr_answer(struct server_worker *w, const struct zone_set *zones,
		      const struct dns_query *q, const struct sockaddr *peer,
		      bool tcp, struct xfr_out *out)
{
	const struct server_conf *conf = &w->srv->conf;
	struct xfr_notify_event ev;
	int ret = xfr_serve(conf->xfr, zones, q, peer, tcp,
			    (uint64_t)time(NULL), out, &ev);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		server_stat_inc(&w->stats.notify_in);
		if (conf->on_notify != NULL)
			conf->on_notify(conf->notify_arg, &ev);
	} else if (q->opcode == DNS_OPCODE_QUERY &&
		   out->rcode == DNS_RCODE_NOERROR) {
		server_stat_inc(&w->stats.xfr_out);
	}
	return 0;
}

/* Octets the TSIG answering ctx's request can take at most: owner and
 * algorithm as the request named them, the fixed fields, the longest MAC
 * and the other data of a BADTIME. */
static size_t tsig_room(const struct dns_tsig_ctx *ctx)
{
	return dns_name_len(ctx->key_name) + 10 +
	       dns_name_len(ctx->alg_name) + 16 + DNS_TSIG_MAC_MAX + 6;
}

/* NOTAUTH with the TSIG error of ctx (RFC 8945 §5.3.2): the question and
 * a TSIG, unsigned for BADSIG and BADKEY, signed for BADTIME. */
static size_t tsig_error_answer(const struct dns_query *q,
				struct dns_tsig_ctx *ctx, uint64_t now,
				uint8_t *out, size_t cap,
				struct answer_result *res)
{
	struct dns_writer w;
	if (cap > DNS_MSG_MAXLEN)
		cap = DNS_MSG_MAXLEN;
	dns_writer_init(&w, out, cap);
	if (dns_writer_reserve(&w, tsig_room(ctx)) != 0 ||
	    dns_writer_question(&w, q->qname, q->qtype, q->qclass) != 0)
		return 0;
	dns_writer_reserve(&w, 0);
	uint16_t flags = DNS_FLAG_QR | (uint16_t)(q->opcode << 11) |
			 (q->flags & DNS_FLAG_RD) | DNS_RCODE_NOTAUTH;
	size_t len = dns_writer_finish(&w, q->id, flags);
	if (dns_tsig_sign(ctx, out, &len, cap, now) != 0)
		return 0;
	res->len = len;
	res->rcode = DNS_RCODE_NOTAUTH;
	return len;
}

size_t server_signed_answer(struct server_worker *w,
			    const struct zone_set *zones,
			    const struct dns_query *q,
			    enum answer_transport transport, uint8_t *out,
			    size_t cap, struct answer_result *res)
{
	const struct xfr_policy *pol = w->srv->conf.xfr;
	uint64_t now = (uint64_t)time(NULL);
	struct dns_tsig_ctx ctx;
	dns_tsig_ctx_init(&ctx, NULL);
	memset(res, 0, sizeof(*res));

	int ret = dns_tsig_verify_request(&ctx, pol->keys, pol->key_count,
					  q->wire, q->wire_len, q->tsig_offset,
					  now);
	if (ret != 0) {
		if (ctx.error != 0)
			tsig_error_answer(q, &ctx, now, out, cap, res);
		else	/* unreadable: the answer layer says FORMERR */
			answer_query(&w->answer, zones, q, 0, transport, out,
				     cap, res);
		dns_tsig_ctx_clear(&ctx);
		return res->len;
	}

	/* The size the answer may take, less the TSIG that ends it. */
	size_t limit = DNS_MSG_MAXLEN;
	if (transport == ANSWER_UDP) {
		limit = DNS_UDP_MIN_PAYLOAD;
		if (q->has_edns && q->edns_payload > limit)
			limit = q->edns_payload < w->answer.udp_max_payload ?
				q->edns_payload : w->answer.udp_max_payload;
	}
	if (limit > cap)
		limit = cap;
	size_t room = tsig_room(&ctx);
	/* Answered as the same query unsigned: the answer layer would
	 * otherwise take the TSIG for one made with an unknown key. */
	struct dns_query uq = *q;
	uq.tsig_offset = 0;
	answer_query(&w->answer, zones, &uq, 0, transport, out,
		     limit > room + DNS_HEADER_LEN ? limit - room :
						      DNS_HEADER_LEN,
		     res);
	size_t len = res->len;
	if (len > 0 && dns_tsig_sign(&ctx, out, &len, limit, now) == 0)
		res->len = len;
	else
		res->len = 0;
	dns_tsig_ctx_clear(&ctx);
	return res->len;
}
