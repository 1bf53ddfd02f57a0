/*
 * UPDATE messages (RFC 4271 §4.3, attributes §5.1): writing our routes and
 * reading the peer's. We write ORIGIN, AS_PATH (one AS_SEQUENCE of our AS
 * repeated for prepending, §5.1.2; 4-octet or 2-octet with AS_TRANS and an
 * AS4_PATH, RFC 6793 §4.2.2), NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF (iBGP
 * only, §5.1.5), COMMUNITIES (RFC 1997), LARGE_COMMUNITY (RFC 8092) and, for
 * IPv6, MP_REACH_NLRI / MP_UNREACH_NLRI with a 16-octet global next hop
 * (RFC 4760 §3-4, RFC 2545 §3), in ascending type order (§5), plus the
 * End-of-RIB markers of RFC 4724 §2.
 *
 * Reading validates the whole message with the wire cursor and classifies
 * every problem twice: the NOTIFICATION code/subcode of §6.3 (kept for logs
 * and for the cases that still reset), and the action of RFC 7606:
 * session reset for unparsable lengths (§4 of 7606 when the NLRI cannot be
 * located), bad NLRI (7606 §5.3, 3/10), repeated MP_REACH/MP_UNREACH (§3 g)
 * and malformed MP attributes (RFC 4760 §7, 3/9), an unrecognised
 * well-known attribute (3/2, which 7606 leaves to RFC 4271); treat-as-
 * withdraw for attribute framing (7606 §4), missing well-known attributes
 * (§3 d), bad ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES,
 * LARGE_COMMUNITY and flag conflicts of those (§3 c, §7); attribute discard
 * for ATOMIC_AGGREGATE, AGGREGATOR, AS4_* (§7.6, §7.7, RFC 6793 §6) and
 * repeated attributes (§3 g). An error that would treat-as-withdraw an
 * UPDATE carrying no NLRI resets the session, as BIRD reads 7606 §5.2: the
 * missing NLRI may be the damage itself.
 */
#include <string.h>

#include "bgp/internal.h"
#include "lib/wire.h"

/* ---- writing ------------------------------------------------------------ */

static void write_header(struct wire_wctx *w)
{
	for (int i = 0; i < 16; i++)
		wire_write_u8(w, 0xff);
	wire_write_u16(w, 0);
	wire_write_u8(w, BGP_MSG_UPDATE);
}

static int finish(struct wire_wctx *w)
{
	if (w->err != 0)
		return w->err;
	size_t len = wire_wlen(w);
	if (len > BGP_MSG_MAX)
		return ANYDNS_ESPACE;
	wire_put_u16(w->base + 16, (uint16_t)len);
	return (int)len;
}

static size_t prefix_octets(uint8_t len)
{
	return (len + 7u) / 8u;
}

static void write_prefix(struct wire_wctx *w, const struct bgp_prefix *p)
{
	wire_write_u8(w, p->len);
	wire_write(w, &p->addr, prefix_octets(p->len));
}

static void attr_header(struct wire_wctx *w, uint8_t flags, uint8_t type,
			size_t len)
{
	if (len > 255) {
		wire_write_u8(w, flags | BGP_FLAG_EXTLEN);
		wire_write_u8(w, type);
		wire_write_u16(w, (uint16_t)len);
	} else {
		wire_write_u8(w, flags);
		wire_write_u8(w, type);
		wire_write_u8(w, (uint8_t)len);
	}
}

/* count copies of as in AS_SEQUENCE segments of at most 255 ASNs (§5.1.2:
 * a new segment when one would overflow). */
static void write_as_segments(struct wire_wctx *w, uint32_t as, size_t count,
			      bool four)
{
	while (count > 0) {
		size_t n = count > 255 ? 255 : count;
		wire_write_u8(w, BGP_AS_SEQUENCE);
		wire_write_u8(w, (uint8_t)n);
		for (size_t i = 0; i < n; i++) {
			if (four)
				wire_write_u32(w, as);
			else
				wire_write_u16(w, (uint16_t)as);
		}
		count -= n;
	}
}

static size_t as_segments_len(size_t count, bool four)
{
	size_t segments = (count + 254) / 255;
	return segments * 2 + count * (four ? 4 : 2);
}

int bgp_msg_write_announce(uint8_t *buf, size_t cap,
			   const struct bgp_attr_ctx *ctx,
			   const struct bgp_route *r)
{
	const struct bgp_prefix *p = &r->prefix;
	bool v6 = p->family == AF_INET6;
	if ((p->family != AF_INET && !v6) || p->len > (v6 ? 128 : 32))
		return ANYDNS_EINVAL;
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w);
	wire_write_u16(&w, 0);			/* no withdrawn routes */
	uint8_t *attr_len = w.pos;
	wire_write_u16(&w, 0);
	uint8_t *attrs = w.pos;

	attr_header(&w, BGP_FLAG_TRANSITIVE, BGP_ATTR_ORIGIN, 1);
	wire_write_u8(&w, BGP_ORIGIN_IGP);

	/* §5.1.2: our AS (and prepends) to external peers, an empty AS_PATH
	 * to internal ones. A 2-octet peer gets AS_TRANS, with the real
	 * path in AS4_PATH below (RFC 6793 §4.2.2). */
	size_t count = ctx->ibgp ? 0 : 1u + r->prepend;
	bool trans = !ctx->as4 && ctx->local_as > 0xffff;
	attr_header(&w, BGP_FLAG_TRANSITIVE, BGP_ATTR_AS_PATH,
		    as_segments_len(count, ctx->as4));
	write_as_segments(&w, trans ? BGP_AS_TRANS : ctx->local_as, count,
			  ctx->as4);

	if (!v6) {
		attr_header(&w, BGP_FLAG_TRANSITIVE, BGP_ATTR_NEXT_HOP, 4);
		wire_write(&w, &ctx->next_hop_v4, 4);
	}
	if (r->has_med) {
		attr_header(&w, BGP_FLAG_OPTIONAL, BGP_ATTR_MED, 4);
		wire_write_u32(&w, r->med);
	}
	if (ctx->ibgp) {
		attr_header(&w, BGP_FLAG_TRANSITIVE, BGP_ATTR_LOCAL_PREF, 4);
		wire_write_u32(&w, 100);
	}
	size_t nc = r->community_count;
	if (nc > BGP_MAX_COMMUNITIES)
		return ANYDNS_EINVAL;
	if (nc > 0) {
		attr_header(&w, BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
			    BGP_ATTR_COMMUNITIES, nc * 4);
		for (size_t i = 0; i < nc; i++)
			wire_write_u32(&w, r->communities[i]);
	}
	if (v6) {
		/* RFC 2545 §3: the global address alone, 16 octets. */
		attr_header(&w, BGP_FLAG_OPTIONAL, BGP_ATTR_MP_REACH,
			    5 + 16 + 1 + prefix_octets(p->len));
		wire_write_u16(&w, BGP_AFI_IPV6);
		wire_write_u8(&w, BGP_SAFI_UNICAST);
		wire_write_u8(&w, 16);
		wire_write(&w, &ctx->next_hop_v6, 16);
		wire_write_u8(&w, 0);		/* reserved */
		write_prefix(&w, p);
	}
	if (trans && count > 0) {
		attr_header(&w, BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
			    BGP_ATTR_AS4_PATH, as_segments_len(count, true));
		write_as_segments(&w, ctx->local_as, count, true);
	}
	size_t nl = r->large_community_count;
	if (nl > BGP_MAX_LARGE_COMMUNITIES)
		return ANYDNS_EINVAL;
	if (nl > 0) {
		attr_header(&w, BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
			    BGP_ATTR_LARGE_COMMUNITY, nl * 12);
		for (size_t i = 0; i < nl; i++) {
			wire_write_u32(&w, r->large_communities[i].global);
			wire_write_u32(&w, r->large_communities[i].local1);
			wire_write_u32(&w, r->large_communities[i].local2);
		}
	}
	if (w.err != 0)
		return w.err;
	wire_put_u16(attr_len, (uint16_t)(w.pos - attrs));
	if (!v6)
		write_prefix(&w, p);
	return finish(&w);
}

int bgp_msg_write_withdraw(uint8_t *buf, size_t cap,
			   const struct bgp_prefix *p)
{
	bool v6 = p->family == AF_INET6;
	if ((p->family != AF_INET && !v6) || p->len > (v6 ? 128 : 32))
		return ANYDNS_EINVAL;
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w);
	if (!v6) {
		wire_write_u16(&w, (uint16_t)(1 + prefix_octets(p->len)));
		write_prefix(&w, p);
		wire_write_u16(&w, 0);
		return finish(&w);
	}
	size_t alen = 3 + 1 + prefix_octets(p->len);
	wire_write_u16(&w, 0);
	wire_write_u16(&w, (uint16_t)(3 + alen));
	attr_header(&w, BGP_FLAG_OPTIONAL, BGP_ATTR_MP_UNREACH, alen);
	wire_write_u16(&w, BGP_AFI_IPV6);
	wire_write_u8(&w, BGP_SAFI_UNICAST);
	write_prefix(&w, p);
	return finish(&w);
}

int bgp_msg_write_eor(uint8_t *buf, size_t cap, sa_family_t family)
{
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w);
	wire_write_u16(&w, 0);
	if (family == AF_INET) {
		wire_write_u16(&w, 0);
		return finish(&w);
	}
	if (family != AF_INET6)
		return ANYDNS_EINVAL;
	wire_write_u16(&w, 6);
	attr_header(&w, BGP_FLAG_OPTIONAL, BGP_ATTR_MP_UNREACH, 3);
	wire_write_u16(&w, BGP_AFI_IPV6);
	wire_write_u8(&w, BGP_SAFI_UNICAST);
	return finish(&w);
}

/* ---- reading ------------------------------------------------------------ */

struct upd_state {
	const struct bgp_decode_ctx *ctx;
	struct bgp_msg *m;
	struct bgp_update *u;
	uint8_t seen[32];		/* attribute codes met, a bit each */
	bool ipv4_nlri;			/* the NLRI field has prefixes */
	bool mp_reach_nlri;		/* MP_REACH_NLRI has prefixes */
	bool mp_unreach_seen;
	bool mp_unreach_empty;		/* ... with no prefixes */
	sa_family_t mp_unreach_family;
	uint32_t mp_announced;		/* prefixes in MP_REACH_NLRI */
};

/* Records a problem; the first one of the strongest action is reported
 * (RFC 7606 §3 h). data is the offending attribute, or what §6.3 names. */
static void problem(struct upd_state *s, enum bgp_action act, uint8_t subcode,
		    const uint8_t *data, size_t len, const char *reason)
{
	struct bgp_msg *m = s->m;
	if (act <= m->action)
		return;
	m->action = act;
	m->reason = reason;
	bgp_notify_set(&m->err, BGP_ERR_UPDATE, subcode, data, len);
}

/* Reads the prefixes of one field (§4.3 <length, prefix>); false on a
 * syntax error: a length beyond the family's or a prefix past the end. */
static bool read_prefixes(const uint8_t *p, size_t len, sa_family_t family,
			  struct bgp_update *u, bool withdrawn, uint32_t *count)
{
	struct wire_ctx w;
	wire_init(&w, p, len);
	unsigned max = family == AF_INET6 ? 128 : 32;
	while (wire_avail(&w) > 0) {
		uint8_t bits = wire_read_u8(&w);
		if (bits > max)
			return false;
		size_t n = prefix_octets(bits);
		const uint8_t *addr = wire_take(&w, n);
		if (w.err != 0)
			return false;
		struct bgp_prefix pf;
		memset(&pf, 0, sizeof(pf));
		pf.family = family;
		pf.len = bits;
		memcpy(&pf.addr, addr, n);
		/* §4.3: trailing bits are irrelevant; keep them zero. */
		if (bits % 8 != 0)
			((uint8_t *)&pf.addr)[n - 1] &= (uint8_t)(0xff << (8 - bits % 8));
		(*count)++;
		if (withdrawn) {
			u->withdrawn++;
			if (u->kept_withdrawn < BGP_KEEP_PREFIXES)
				u->withdrawn_prefix[u->kept_withdrawn++] = pf;
		} else {
			u->announced++;
			if (u->kept_announced < BGP_KEEP_PREFIXES)
				u->announced_prefix[u->kept_announced++] = pf;
		}
	}
	return true;
}

/* Checks AS_PATH or AS4_PATH segments (§4.3 b, RFC 7606 §7.2) and keeps
 * their ASNs; false when malformed. */
static bool read_as_path(const uint8_t *p, size_t len, bool four,
			 uint32_t *asns, uint16_t *count)
{
	struct wire_ctx w;
	wire_init(&w, p, len);
	*count = 0;
	while (wire_avail(&w) > 0) {
		uint8_t type = wire_read_u8(&w);
		uint8_t n = wire_read_u8(&w);
		/* 1 AS_SET, 2 AS_SEQUENCE, 3-4 confederation (RFC 5065). */
		if (w.err != 0 || type < 1 || type > 4 || n == 0)
			return false;
		for (unsigned i = 0; i < n; i++) {
			uint32_t as = four ? wire_read_u32(&w) : wire_read_u16(&w);
			if (*count < BGP_KEEP_ASNS)
				asns[(*count)++] = as;
		}
		if (w.err != 0)
			return false;
	}
	return true;
}

/* §6.3: a NEXT_HOP must be a valid unicast host address (syntax only:
 * loopback and private addresses are semantic matters, §6.3 b). */
static bool next_hop_valid(const uint8_t *a)
{
	if (a[0] == 0)				/* "this network" */
		return false;
	if (a[0] >= 224)			/* multicast, class E, broadcast */
		return false;
	return true;
}

static sa_family_t afi_family(uint16_t afi, uint8_t safi,
			      const struct bgp_decode_ctx *ctx)
{
	if (safi != BGP_SAFI_UNICAST)
		return 0;
	if (afi == BGP_AFI_IPV4 && ctx->ipv4)
		return AF_INET;
	if (afi == BGP_AFI_IPV6 && ctx->ipv6)
		return AF_INET6;
	return 0;
}

static void mp_reach(struct upd_state *s, const uint8_t *attr, size_t alen,
		     const uint8_t *val, size_t len)
{
	struct wire_ctx w;
	wire_init(&w, val, len);
	uint16_t afi = wire_read_u16(&w);
	uint8_t safi = wire_read_u8(&w);
	uint8_t nh_len = wire_read_u8(&w);
	const uint8_t *nh = wire_take(&w, nh_len);
	wire_skip(&w, 1);			/* reserved */
	if (w.err != 0) {
		problem(s, BGP_ACT_RESET, BGP_UPD_OPTIONAL, attr, alen,
			"MP_REACH_NLRI shorter than its fields");
		return;
	}
	sa_family_t family = afi_family(afi, safi, s->ctx);
	if (family == 0) {
		/* RFC 4760 §6: a family we did not negotiate; we keep nothing
		 * anyway, so its routes are ignored rather than fought. */
		problem(s, BGP_ACT_DISCARD, BGP_UPD_OPTIONAL, attr, alen,
			"MP_REACH_NLRI of a family not negotiated, ignored");
		return;
	}
	/* RFC 7606 §7.11: a next hop length that the family does not allow
	 * leaves the NLRI unlocatable: reset. */
	bool nh_ok = family == AF_INET6 ? (nh_len == 16 || nh_len == 32) :
					  nh_len == 4;
	if (!nh_ok) {
		problem(s, BGP_ACT_RESET, BGP_UPD_OPTIONAL, attr, alen,
			"MP_REACH_NLRI next hop of a wrong length");
		return;
	}
	s->u->has_mp_reach = true;
	if (family == AF_INET6)
		memcpy(&s->u->mp_next_hop, nh, 16);
	size_t nlri_len = wire_avail(&w);
	if (!read_prefixes(wire_take(&w, nlri_len), nlri_len, family, s->u,
			   false, &s->mp_announced)) {
		problem(s, BGP_ACT_RESET, BGP_UPD_OPTIONAL, attr, alen,
			"invalid prefix in MP_REACH_NLRI");
		return;
	}
	s->mp_reach_nlri = s->mp_announced > 0;
}

static void mp_unreach(struct upd_state *s, const uint8_t *attr, size_t alen,
		       const uint8_t *val, size_t len)
{
	struct wire_ctx w;
	wire_init(&w, val, len);
	uint16_t afi = wire_read_u16(&w);
	uint8_t safi = wire_read_u8(&w);
	if (w.err != 0) {
		problem(s, BGP_ACT_RESET, BGP_UPD_OPTIONAL, attr, alen,
			"MP_UNREACH_NLRI shorter than its fields");
		return;
	}
	sa_family_t family = afi_family(afi, safi, s->ctx);
	if (family == 0) {
		problem(s, BGP_ACT_DISCARD, BGP_UPD_OPTIONAL, attr, alen,
			"MP_UNREACH_NLRI of a family not negotiated, ignored");
		return;
	}
	uint32_t n = 0;
	size_t nlri_len = wire_avail(&w);
	if (!read_prefixes(wire_take(&w, nlri_len), nlri_len, family, s->u,
			   true, &n)) {
		problem(s, BGP_ACT_RESET, BGP_UPD_OPTIONAL, attr, alen,
			"invalid prefix in MP_UNREACH_NLRI");
		return;
	}
	s->mp_unreach_seen = true;
	s->mp_unreach_empty = n == 0;
	s->mp_unreach_family = family;
}

/* Expected Optional/Transitive bits of the attributes we know, and what
 * a conflict costs (RFC 7606 §3 c and §7); code 0: unknown. */
struct attr_rule {
	uint8_t flags;
	uint8_t on_error;		/* enum bgp_action */
};

static const struct attr_rule attr_rules[256] = {
	[BGP_ATTR_ORIGIN] = { BGP_FLAG_TRANSITIVE, BGP_ACT_WITHDRAW },
	[BGP_ATTR_AS_PATH] = { BGP_FLAG_TRANSITIVE, BGP_ACT_WITHDRAW },
	[BGP_ATTR_NEXT_HOP] = { BGP_FLAG_TRANSITIVE, BGP_ACT_WITHDRAW },
	[BGP_ATTR_MED] = { BGP_FLAG_OPTIONAL, BGP_ACT_WITHDRAW },
	[BGP_ATTR_LOCAL_PREF] = { BGP_FLAG_TRANSITIVE, BGP_ACT_WITHDRAW },
	[BGP_ATTR_ATOMIC_AGGREGATE] = { BGP_FLAG_TRANSITIVE, BGP_ACT_DISCARD },
	[BGP_ATTR_AGGREGATOR] = { BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
				  BGP_ACT_DISCARD },
	[BGP_ATTR_COMMUNITIES] = { BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
				   BGP_ACT_WITHDRAW },
	[BGP_ATTR_ORIGINATOR_ID] = { BGP_FLAG_OPTIONAL, BGP_ACT_WITHDRAW },
	[BGP_ATTR_CLUSTER_LIST] = { BGP_FLAG_OPTIONAL, BGP_ACT_WITHDRAW },
	[BGP_ATTR_MP_REACH] = { BGP_FLAG_OPTIONAL, BGP_ACT_RESET },
	[BGP_ATTR_MP_UNREACH] = { BGP_FLAG_OPTIONAL, BGP_ACT_RESET },
	[BGP_ATTR_EXT_COMMUNITIES] = { BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
				       BGP_ACT_WITHDRAW },
	[BGP_ATTR_AS4_PATH] = { BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
				BGP_ACT_DISCARD },
	[BGP_ATTR_AS4_AGGREGATOR] = { BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
				      BGP_ACT_DISCARD },
	[BGP_ATTR_LARGE_COMMUNITY] = { BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE,
				       BGP_ACT_WITHDRAW },
};

/* One attribute whose flags are right: its value. */
static void attr_value(struct upd_state *s, uint8_t type, const uint8_t *attr,
		       size_t alen, const uint8_t *val, size_t len)
{
	struct bgp_update *u = s->u;
	enum bgp_action act = attr_rules[type].on_error;
	struct wire_ctx w;
	wire_init(&w, val, len);
	switch (type) {
	case BGP_ATTR_ORIGIN:
		if (len != 1) {
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"ORIGIN of a wrong length");
			return;
		}
		u->origin = val[0];
		if (u->origin > 2) {
			problem(s, act, BGP_UPD_ORIGIN, attr, alen,
				"ORIGIN of an undefined value");
			return;
		}
		u->has_origin = true;
		return;
	case BGP_ATTR_AS_PATH:
		if (!read_as_path(val, len, s->ctx->as4, u->as_path,
				  &u->as_path_len)) {
			problem(s, act, BGP_UPD_AS_PATH, attr, alen,
				"malformed AS_PATH");
			return;
		}
		u->has_as_path = true;
		return;
	case BGP_ATTR_NEXT_HOP:
		if (len != 4) {
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"NEXT_HOP of a wrong length");
			return;
		}
		if (!next_hop_valid(val)) {
			problem(s, act, BGP_UPD_NEXT_HOP, attr, alen,
				"NEXT_HOP not a unicast host address");
			return;
		}
		memcpy(&u->next_hop, val, 4);
		u->has_next_hop = true;
		return;
	case BGP_ATTR_MED:
	case BGP_ATTR_LOCAL_PREF:
	case BGP_ATTR_ORIGINATOR_ID:
		if (len != 4) {
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"attribute of 4 octets with another length");
			return;
		}
		if (type == BGP_ATTR_MED) {
			u->has_med = true;
			u->med = wire_read_u32(&w);
		} else if (type == BGP_ATTR_LOCAL_PREF) {
			u->has_local_pref = true;
			u->local_pref = wire_read_u32(&w);
		}
		return;
	case BGP_ATTR_ATOMIC_AGGREGATE:
		if (len != 0)
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"ATOMIC_AGGREGATE not empty");
		return;
	case BGP_ATTR_AGGREGATOR:
		if (len != (s->ctx->as4 ? 8u : 6u))
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"AGGREGATOR of a wrong length");
		return;
	case BGP_ATTR_AS4_AGGREGATOR:
		if (len != 8)
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"AS4_AGGREGATOR of a wrong length");
		return;
	case BGP_ATTR_COMMUNITIES:
	case BGP_ATTR_CLUSTER_LIST:
		if (len == 0 || len % 4 != 0) {
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"list of 4-octet values with a bad length");
			return;
		}
		if (type == BGP_ATTR_COMMUNITIES) {
			for (size_t i = 0; i < len / 4; i++) {
				uint32_t c = wire_read_u32(&w);
				if (u->community_count < BGP_MAX_COMMUNITIES)
					u->communities[u->community_count++] = c;
			}
		}
		return;
	case BGP_ATTR_EXT_COMMUNITIES:
		if (len == 0 || len % 8 != 0)
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"EXTENDED_COMMUNITIES with a bad length");
		return;
	case BGP_ATTR_LARGE_COMMUNITY:
		if (len == 0 || len % 12 != 0) {
			problem(s, act, BGP_UPD_LENGTH, attr, alen,
				"LARGE_COMMUNITY with a bad length");
			return;
		}
		for (size_t i = 0; i < len / 12; i++) {
			struct bgp_large_community lc;
			lc.global = wire_read_u32(&w);
			lc.local1 = wire_read_u32(&w);
			lc.local2 = wire_read_u32(&w);
			if (u->large_community_count < BGP_MAX_LARGE_COMMUNITIES)
				u->large_communities[u->large_community_count++] = lc;
		}
		return;
	case BGP_ATTR_AS4_PATH:
		if (!read_as_path(val, len, true, u->as4_path, &u->as4_path_len))
			problem(s, act, BGP_UPD_OPTIONAL, attr, alen,
				"malformed AS4_PATH");
		return;
	case BGP_ATTR_MP_REACH:
		mp_reach(s, attr, alen, val, len);
		return;
	case BGP_ATTR_MP_UNREACH:
		mp_unreach(s, attr, alen, val, len);
		return;
	}
}

/* The Path Attributes field (§4.3, §6.3, RFC 7606 §3-4). */
static void read_attrs(struct upd_state *s, const uint8_t *p, size_t len)
{
	struct wire_ctx w;
	wire_init(&w, p, len);
	while (wire_avail(&w) > 0 && s->m->action != BGP_ACT_RESET) {
		const uint8_t *attr = w.pos;
		uint8_t flags = wire_read_u8(&w);
		uint8_t type = wire_read_u8(&w);
		size_t vlen = (flags & BGP_FLAG_EXTLEN) ? wire_read_u16(&w) :
							  wire_read_u8(&w);
		const uint8_t *val = wire_take(&w, vlen);
		if (w.err != 0) {
			/* RFC 7606 §4: the Total Attribute Length still
			 * locates the NLRI; nothing after this can be read. */
			problem(s, BGP_ACT_WITHDRAW, BGP_UPD_ATTR_LIST, NULL, 0,
				"attribute overruns the path attributes");
			return;
		}
		size_t alen = (size_t)(w.pos - attr);
		uint8_t bit = (uint8_t)(1u << (type % 8));
		if (s->seen[type / 8] & bit) {
			if (type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH)
				problem(s, BGP_ACT_RESET, BGP_UPD_ATTR_LIST, NULL, 0,
					"MP_REACH_NLRI or MP_UNREACH_NLRI twice");
			else
				problem(s, BGP_ACT_DISCARD, BGP_UPD_ATTR_LIST,
					NULL, 0, "attribute repeated, ignored");
			continue;
		}
		s->seen[type / 8] |= bit;
		const struct attr_rule *rule = &attr_rules[type];
		if (rule->on_error == BGP_ACT_NONE) {
			/* Unknown: optional ones are ignored (§5), an
			 * unknown well-known one is an error (§6.3). */
			if (!(flags & BGP_FLAG_OPTIONAL))
				problem(s, BGP_ACT_RESET,
					BGP_UPD_UNKNOWN_WELL_KNOWN, attr, alen,
					"unrecognized well-known attribute");
			continue;
		}
		uint8_t ot = BGP_FLAG_OPTIONAL | BGP_FLAG_TRANSITIVE;
		if ((flags & ot) != rule->flags) {
			problem(s, rule->on_error, BGP_UPD_FLAGS, attr, alen,
				"attribute flags conflict with its type");
			continue;
		}
		attr_value(s, type, attr, alen, val, vlen);
	}
}

static bool seen(const struct upd_state *s, uint8_t type)
{
	return s->seen[type / 8] & (1u << (type % 8));
}

int bgp_update_decode(const uint8_t *body, size_t len,
		      const struct bgp_decode_ctx *ctx, struct bgp_msg *m)
{
	struct bgp_update *u = &m->u.update;
	struct upd_state s;
	memset(u, 0, sizeof(*u));
	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.m = m;
	s.u = u;
	m->action = BGP_ACT_NONE;
	m->reason = "";

	struct wire_ctx w;
	wire_init(&w, body, len);
	uint16_t wd_len = wire_read_u16(&w);
	const uint8_t *wd = wire_take(&w, wd_len);
	uint16_t attr_len = wire_read_u16(&w);
	const uint8_t *attrs = wire_take(&w, attr_len);
	if (w.err != 0) {
		/* §6.3: the lengths exceed the message; nothing can be
		 * located, so no treat-as-withdraw either (RFC 7606 §4). */
		problem(&s, BGP_ACT_RESET, BGP_UPD_ATTR_LIST, NULL, 0,
			"withdrawn or attribute length beyond the message");
		return ANYDNS_EMALF;
	}
	size_t nlri_len = wire_avail(&w);
	const uint8_t *nlri = wire_take(&w, nlri_len);
	uint32_t n_wd = 0, n_nlri = 0;
	/* RFC 7606 §5.3: bad prefixes reset (we do not disable families). */
	if (!read_prefixes(wd, wd_len, AF_INET, u, true, &n_wd)) {
		problem(&s, BGP_ACT_RESET, BGP_UPD_NETWORK, NULL, 0,
			"invalid prefix in the withdrawn routes");
		return ANYDNS_EMALF;
	}
	if (!read_prefixes(nlri, nlri_len, AF_INET, u, false, &n_nlri)) {
		problem(&s, BGP_ACT_RESET, BGP_UPD_NETWORK, NULL, 0,
			"invalid prefix in the NLRI");
		return ANYDNS_EMALF;
	}
	s.ipv4_nlri = n_nlri > 0;
	read_attrs(&s, attrs, attr_len);
	if (m->action == BGP_ACT_RESET)
		return ANYDNS_EMALF;

	/* §5 and RFC 4760 §3: ORIGIN and AS_PATH with any NLRI, NEXT_HOP with
	 * IPv4 NLRI in the NLRI field; missing → treat-as-withdraw (7606 §3 d).
	 * The data is the missing type code (§6.3). */
	if (s.ipv4_nlri || s.mp_reach_nlri) {
		static const uint8_t need[] = {
			BGP_ATTR_ORIGIN, BGP_ATTR_AS_PATH, BGP_ATTR_NEXT_HOP,
		};
		for (size_t i = 0; i < sizeof(need); i++) {
			if (need[i] == BGP_ATTR_NEXT_HOP && !s.ipv4_nlri)
				continue;
			if (!seen(&s, need[i]))
				problem(&s, BGP_ACT_WITHDRAW,
					BGP_UPD_MISSING_WELL_KNOWN, &need[i], 1,
					"missing well-known attribute");
		}
	} else if (m->action == BGP_ACT_WITHDRAW) {
		m->action = BGP_ACT_RESET;
		m->reason = "malformed attribute in an UPDATE without NLRI";
		return ANYDNS_EMALF;
	}

	/* RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it, or with
	 * only an empty MP_UNREACH_NLRI. */
	if (len == 4) {
		u->eor = true;
		u->eor_family = AF_INET;
	} else if (wd_len == 0 && nlri_len == 0 && s.mp_unreach_seen &&
		   s.mp_unreach_empty && !s.mp_reach_nlri &&
		   !seen(&s, BGP_ATTR_MP_REACH) && !seen(&s, BGP_ATTR_ORIGIN) &&
		   !seen(&s, BGP_ATTR_AS_PATH)) {
		u->eor = true;
		u->eor_family = s.mp_unreach_family;
	}
	return 0;
}
