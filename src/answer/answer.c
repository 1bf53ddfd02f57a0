/*
 * The authoritative answer algorithm of RFC 1034 §4.3.2 over an immutable
 * zone set: zone selection (DS from the parent side, RFC 4035 §3.1.4.1),
 * zone cuts and referrals with glue (RFC 9471), CNAME chains inside the
 * zone, DNAME substitution (RFC 6672 §3.2, YXDOMAIN on overflow), wildcard
 * synthesis from the closest encloser (RFC 4592 §3.3), negative answers
 * with the SOA and TTL of RFC 2308 §3 and §5, additional-section address
 * records for NS, MX and SRV targets, and minimal ANY (RFC 8482 §4.1).
 *
 * Every RRset is written whole or not at all; an RRset of the answer or
 * authority section that does not fit sets TC (RFC 2181 §9), one of the
 * additional section is left out, except in-domain glue (RFC 9471 §3).
 * Names are looked up lowercased; names are written with the case they
 * have in the query or the zone.
 */
#include <string.h>

#include "answer/answer.h"
#include "answer/internal.h"

/* Outcome of looking up one name inside a zone. */
enum lookup_state {
	LOOKUP_HIT,		/* records written to the answer section */
	LOOKUP_NODATA,		/* the name exists, the type does not */
	LOOKUP_NXDOMAIN,	/* the name does not exist */
	LOOKUP_DELEG,		/* the name is at or below a zone cut */
	LOOKUP_FOLLOW,		/* a CNAME was written: go on with its target */
	LOOKUP_YXDOMAIN,	/* DNAME substitution overflowed */
	LOOKUP_STOP,		/* TC set or chain ended: write nothing more */
};


void answer_conf_init(struct answer_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->udp_max_payload = DNS_EDNS_DEFAULT_PAYLOAD;
}

/* Writes a whole RRset with the given owner; on overflow drops it and
 * reports ANYDNS_ESPACE. */
int answer_put_rrset(struct answer_ctx *ctx, enum dns_section sec,
		     const uint8_t *owner, const struct zone_rrset *rs)
{
	struct dns_writer_mark m;
	dns_writer_mark(&ctx->w, &m);
	struct zone_rr_iter it;
	zone_rr_iter_init(&it, rs);
	const uint8_t *rdata;
	uint16_t len;
	while (zone_rr_next(&it, &rdata, &len)) {
		int ret = dns_writer_rr(&ctx->w, sec, owner, rs->type,
					DNS_CLASS_IN, rs->ttl, rdata, len);
		if (ret != 0) {
			dns_writer_rollback(&ctx->w, &m);
			return ret;
		}
	}
	return 0;
}

/* An answer or authority RRset that must be there: TC when it is not. */
static bool put_required(struct answer_ctx *ctx, enum dns_section sec,
			 const uint8_t *owner, const struct zone_rrset *rs)
{
	if (answer_put_rrset(ctx, sec, owner, rs) != 0) {
		ctx->truncated = true;
		return false;
	}
	return true;
}

/* Remembers names whose address records belong in the additional section
 * (RFC 1035 §3.3.9, §3.3.11; RFC 2782; RFC 9460 §4.1): the NS, MX, SRV,
 * SVCB and HTTPS targets of an RRset just written. */
static void note_additional(struct answer_ctx *ctx, const struct zone_rrset *rs)
{
	size_t skip;
	switch (rs->type) {
	case DNS_TYPE_NS:
		skip = 0;
		break;
	case DNS_TYPE_MX:
	case DNS_TYPE_SVCB:
	case DNS_TYPE_HTTPS:
		skip = 2;
		break;
	case DNS_TYPE_SRV:
		skip = 6;
		break;
	default:
		return;
	}
	struct zone_rr_iter it;
	zone_rr_iter_init(&it, rs);
	const uint8_t *rdata;
	uint16_t len;
	while (zone_rr_next(&it, &rdata, &len)) {
		/* A root target names no host (RFC 7505, RFC 9460 §2.5). */
		if (len <= skip || rdata[skip] == 0 ||
		    ctx->addl_n == ANSWER_ADDL_MAX)
			continue;
		ctx->addl[ctx->addl_n].name = rdata + skip;
		ctx->addl[ctx->addl_n].type = rs->type;
		ctx->addl_n++;
	}
}

/* The zone's SOA in the authority section, with the negative-caching TTL
 * of RFC 2308 §5: the smaller of the SOA's TTL and its MINIMUM field. */
static void put_negative_soa(struct answer_ctx *ctx, const struct zone *z)
{
	struct zone_rrset soa = *z->soa;
	uint16_t len = wire_get_u16(soa.rdata);
	if (len >= 4) {
		uint32_t minimum = wire_get_u32(soa.rdata + 2 + len - 4);
		if (minimum < soa.ttl)
			soa.ttl = minimum;
	}
	put_required(ctx, DNS_SECTION_AUTHORITY, z->apex_name, &soa);
}

/* The topmost zone cut at or above node (excluding the apex), or NULL. */
static const struct zone_node *topmost_cut(const struct zone_node *node)
{
	if (!(node->flags & (ZONE_NODE_DELEG | ZONE_NODE_NONAUTH)))
		return NULL;
	const struct zone_node *cut = NULL;
	for (const struct zone_node *n = node; n != NULL; n = n->parent)
		if (n->flags & ZONE_NODE_DELEG)
			cut = n;
	return cut;
}

/* A zone carries DNSSEC data when its apex has signatures (RFC 4035 §2);
 * DNSSEC records are added to answers only for such zones. */
static bool zone_is_signed(const struct zone *z)
{
	return zone_node_rrset(z->apex, DNS_TYPE_RRSIG) != NULL;
}

/* A referral: the cut's NS in authority, and its glue. Not authoritative. */
static enum lookup_state put_referral(struct answer_ctx *ctx,
				      const struct zone_node *cut)
{
	const struct zone_rrset *ns = zone_node_rrset(cut, DNS_TYPE_NS);
	if (!put_required(ctx, DNS_SECTION_AUTHORITY, cut->name, ns))
		return LOOKUP_STOP;
	if (ctx->q->edns_do && zone_is_signed(ctx->zone)) {
		const struct zone_rrset *ds = zone_node_rrset(cut, DNS_TYPE_DS);
		if (ds != NULL &&
		    !put_required(ctx, DNS_SECTION_AUTHORITY, cut->name, ds))
			return LOOKUP_STOP;
	}
	ctx->referral_cut = cut;
	note_additional(ctx, ns);
	return LOOKUP_DELEG;
}

/* RFC 8482 §4.1: ANY is answered with one RRset of the name instead of
 * all of them: the one of the lowest type, as Knot DNS picks. */
static const struct zone_rrset *any_pick(const struct zone_node *node)
{
	return node->rrset_count > 0 ? &node->rrsets[0] : NULL;
}

/*
 * Answers qtype at node (the name, or the wildcard that covers it), writing
 * records under owner. A CNAME is written and followed unless asked for.
 */
static enum lookup_state answer_at_node(struct answer_ctx *ctx,
					const struct zone_node *node,
					const uint8_t *owner)
{
	uint16_t qtype = ctx->q->qtype;
	const struct zone_rrset *rs;
	if (qtype == DNS_TYPE_ANY) {
		rs = any_pick(node);
		if (rs == NULL)
			return LOOKUP_NODATA;
		if (!put_required(ctx, DNS_SECTION_ANSWER, owner, rs))
			return LOOKUP_STOP;
		note_additional(ctx, rs);
		return LOOKUP_HIT;
	}
	rs = zone_node_rrset(node, qtype);
	if (rs != NULL) {
		if (!put_required(ctx, DNS_SECTION_ANSWER, owner, rs))
			return LOOKUP_STOP;
		note_additional(ctx, rs);
		return LOOKUP_HIT;
	}
	/* An RRSIG query asks for the signatures at this very name (RFC
	 * 4035 §3.1.1 has them travel with their RRsets), so it does not
	 * follow the alias; Knot DNS answers it the same way. */
	if ((node->flags & ZONE_NODE_CNAME) && qtype != DNS_TYPE_RRSIG) {
		if (ctx->chain_end)
			return LOOKUP_HIT;
		rs = zone_node_rrset(node, DNS_TYPE_CNAME);
		if (!put_required(ctx, DNS_SECTION_ANSWER, owner, rs))
			return LOOKUP_STOP;
		ctx->next = rs->rdata + 2;
		return LOOKUP_FOLLOW;
	}
	return LOOKUP_NODATA;
}

/*
 * RFC 6672 §3.2: the DNAME at dnode (a proper ancestor of name) rewrites
 * name; the DNAME and the synthesized CNAME go to the answer section and
 * the new name is followed.
 */
static enum lookup_state answer_dname(struct answer_ctx *ctx,
				      const struct zone_node *dnode,
				      const uint8_t *owner, size_t owner_len)
{
	if (ctx->chain_end)
		return LOOKUP_HIT;
	/* A DNAME met again in the chain is written once; each step still
	 * gets its own synthesized CNAME (the chain limit ends a loop). */
	bool written = false;
	for (unsigned i = 0; i < ctx->dname_n && !written; i++)
		written = ctx->dnames[i] == dnode;
	const struct zone_rrset *dname = zone_node_rrset(dnode, DNS_TYPE_DNAME);
	if (!written) {
		ctx->dnames[ctx->dname_n++] = dnode;
		if (!put_required(ctx, DNS_SECTION_ANSWER, dnode->name, dname))
			return LOOKUP_STOP;
	}
	uint16_t tlen = wire_get_u16(dname->rdata);
	const uint8_t *target = dname->rdata + 2;
	size_t prefix = owner_len - dnode->name_len;
	if (prefix + tlen > DNS_NAME_MAXLEN)
		return LOOKUP_YXDOMAIN;
	uint8_t *syn = ctx->synth[ctx->synth_n++];
	memcpy(syn, owner, prefix);
	memcpy(syn + prefix, target, tlen);
	if (dns_writer_rr(&ctx->w, DNS_SECTION_ANSWER, owner, DNS_TYPE_CNAME,
			  DNS_CLASS_IN, dname->ttl, syn,
			  (uint16_t)(prefix + tlen)) != 0) {
		ctx->truncated = true;
		return LOOKUP_STOP;
	}
	ctx->next = syn;
	return LOOKUP_FOLLOW;
}

/*
 * One step of the algorithm for name (owner: as it is written) inside z.
 * first is true for the query name itself; later steps follow CNAMEs.
 */
static enum lookup_state lookup(struct answer_ctx *ctx, const struct zone *z,
				const uint8_t *owner, bool first)
{
	uint8_t lname[DNS_NAME_MAXLEN];
	size_t len = dns_name_copy_lower(lname, owner);
	const struct zone_node *ce = zone_closest_encloser(z, lname);
	bool exact = ce->name_len == len;

	const struct zone_node *cut = topmost_cut(ce);
	if (cut != NULL) {
		bool ds_at_cut = first && ctx->q->qtype == DNS_TYPE_DS &&
				 exact && cut == ce;
		if (!ds_at_cut)
			return put_referral(ctx, cut);
		/* DS at the cut is the parent's own data (RFC 4035 §2.4). */
		const struct zone_rrset *ds = zone_node_rrset(ce, DNS_TYPE_DS);
		if (ds == NULL)
			return LOOKUP_NODATA;
		return put_required(ctx, DNS_SECTION_ANSWER, owner, ds) ?
		       LOOKUP_HIT : LOOKUP_STOP;
	}
	if (!exact && (ce->flags & ZONE_NODE_DNAME))
		return answer_dname(ctx, ce, owner, len);
	if (exact)
		return answer_at_node(ctx, ce, owner);
	if (ce->wildcard != NULL)
		return answer_at_node(ctx, ce->wildcard, owner);
	return LOOKUP_NXDOMAIN;
}

/* True when name was already a step of this chain (a CNAME loop). */
static bool chain_seen(const struct answer_ctx *ctx, const uint8_t *name)
{
	for (unsigned i = 0; i < ctx->chain_n; i++)
		if (dns_name_equal(ctx->chain[i], name))
			return true;
	return false;
}

/* The node whose data answers for lname: the name itself, or the wildcard
 * that covers it in authoritative data (RFC 4592 §3.3.1). */
static const struct zone_node *find_covering(const struct zone *z,
					     const uint8_t *lname, size_t len)
{
	const struct zone_node *node = zone_find(z, lname, len);
	if (node != NULL)
		return node;
	const struct zone_node *ce = zone_closest_encloser(z, lname);
	if (ce->wildcard == NULL ||
	    (ce->flags & (ZONE_NODE_DELEG | ZONE_NODE_NONAUTH)))
		return NULL;
	return ce->wildcard;
}

/* Writes the additional section: address records of the noted targets that
 * the zone holds (and a SVCB/HTTPS target's own RRset of that type, RFC
 * 9460 §4.1). Glue inside the delegated domain must fit (RFC 9471 §3);
 * anything else is left out when it does not. */
static void put_additional(struct answer_ctx *ctx, const struct zone *z)
{
	for (unsigned i = 0; i < ctx->addl_n; i++) {
		const uint8_t *target = ctx->addl[i].name;
		if (!dns_name_is_subdomain(target, z->apex_name))
			continue;
		bool dup = false;
		for (unsigned j = 0; j < i && !dup; j++)
			dup = dns_name_equal(ctx->addl[j].name, target);
		if (dup)
			continue;
		uint8_t lname[DNS_NAME_MAXLEN];
		size_t len = dns_name_copy_lower(lname, target);
		const struct zone_node *node = find_covering(z, lname, len);
		if (node == NULL)
			continue;
		bool in_domain = ctx->referral_cut != NULL &&
			dns_name_is_subdomain(lname, ctx->referral_cut->name);
		uint16_t types[3] = { DNS_TYPE_A, DNS_TYPE_AAAA, 0 };
		if (ctx->addl[i].type == DNS_TYPE_SVCB ||
		    ctx->addl[i].type == DNS_TYPE_HTTPS)
			types[2] = ctx->addl[i].type;
		for (size_t t = 0; t < 3 && types[t] != 0; t++) {
			const struct zone_rrset *rs = zone_node_rrset(node, types[t]);
			if (rs == NULL)
				continue;
			if (answer_put_rrset(ctx, DNS_SECTION_ADDITIONAL,
					     target, rs) != 0 && in_domain) {
				ctx->truncated = true;
				return;
			}
		}
	}
}

/* Picks the zone for the query: DS is answered by the zone holding the
 * parent side of a cut when we serve it (RFC 4035 §3.1.4.1). */
static const struct zone *select_zone(const struct zone_set *zones,
				      const struct dns_query *q)
{
	if (zones == NULL)
		return NULL;
	if (q->qtype == DNS_TYPE_DS) {
		const uint8_t *parent = dns_name_parent(q->qname_lower);
		if (parent != NULL) {
			const struct zone *z = zone_set_find(zones, parent);
			if (z != NULL)
				return z;
		}
	}
	return zone_set_find(zones, q->qname_lower);
}

/* Answers a QUERY for class IN from the zones. */
void answer_in_zone(struct answer_ctx *ctx, const struct zone_set *zones)
{
	const struct zone *z = select_zone(zones, ctx->q);
	if (z == NULL) {
		ctx->rcode = DNS_RCODE_REFUSED;
		ctx->not_authoritative = true;
		return;
	}
	if (z->servfail) {
		/* A zone we should serve but hold no data for (an expired
		 * secondary): SERVFAIL, neither REFUSED nor an answer from
		 * the parent, so resolvers try another server. */
		ctx->rcode = DNS_RCODE_SERVFAIL;
		return;
	}
	ctx->flags |= DNS_FLAG_AA;

	ctx->zone = z;
	if (ctx->q->qtype == DNS_TYPE_SOA) {
		/* RFC 7314 §3: a primary reports the SOA EXPIRE field. */
		uint16_t len = wire_get_u16(z->soa->rdata);
		ctx->expire = wire_get_u32(z->soa->rdata + 2 + len - 8);
		ctx->expire_set = true;
	}

	const uint8_t *owner = ctx->q->qname;
	enum lookup_state st = LOOKUP_STOP;
	for (unsigned step = 0; step <= ANSWER_CHAIN_MAX; step++) {
		ctx->chain[ctx->chain_n++] = owner;
		ctx->chain_end = step == ANSWER_CHAIN_MAX;
		st = lookup(ctx, z, owner, step == 0);
		if (st != LOOKUP_FOLLOW)
			break;
		owner = ctx->next;
		/* A CNAME chain continues only inside this zone (as Knot DNS
		 * does): the client resolves what lies outside. */
		if (!dns_name_is_subdomain(owner, z->apex_name) ||
		    chain_seen(ctx, owner)) {
			st = LOOKUP_HIT;
			break;
		}
	}

	switch (st) {
	case LOOKUP_NXDOMAIN:
		ctx->rcode = DNS_RCODE_NXDOMAIN;
		put_negative_soa(ctx, z);
		break;
	case LOOKUP_NODATA:
		put_negative_soa(ctx, z);
		break;
	case LOOKUP_YXDOMAIN:
		ctx->rcode = DNS_RCODE_YXDOMAIN;
		break;
	case LOOKUP_DELEG:
		/* Only the first step can be a referral of the query itself:
		 * a chain that leads into a delegation stays authoritative
		 * for what it wrote. */
		if (ctx->chain_n == 1)
			ctx->flags &= (uint16_t)~DNS_FLAG_AA;
		break;
	case LOOKUP_HIT:
	case LOOKUP_FOLLOW:
	case LOOKUP_STOP:
		break;
	}
	if (!ctx->truncated)
		put_additional(ctx, z);
}
