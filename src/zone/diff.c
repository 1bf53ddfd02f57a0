/*
 * Differences between versions of a zone, in the form IXFR sends them
 * (RFC 1995 §4): the records removed, the old SOA first, then the records
 * added, the new SOA first: made record by record (a transfer, the
 * journal) or computed from two versions; and a zone's history, the chain
 * of diffs that led to it. Applying and condensing are in diff_apply.c.
 *
 * Records are compared as RFC 4034 §6.2-6.3 does: owner, type and the
 * canonical form of the RDATA (names lowercased for the types that ask
 * for it), which is also what the builder treats as duplicates. A record
 * whose RDATA only changed case is removed and added again, so a diff
 * carries the exact octets of the new version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/wire.h"
#include "zone/internal.h"


/* ---- Records in diff form ------------------------------------------------ */

bool zone_diff_rr_next(const uint8_t **pos, const uint8_t *end,
		       struct zone_diff_rr *rr)
{
	const uint8_t *p = *pos;
	if (p >= end)
		return false;
	size_t olen = dns_name_len(p);
	/* The data is trusted; the bound only keeps a bad caller in it. */
	if ((size_t)(end - p) < olen + 10)
		return false;
	rr->owner = p;
	rr->type = wire_get_u16(p + olen);
	rr->ttl = wire_get_u32(p + olen + 4);
	rr->rdlen = wire_get_u16(p + olen + 8);
	rr->rdata = p + olen + 10;
	if ((size_t)(end - rr->rdata) < rr->rdlen)
		return false;
	*pos = rr->rdata + rr->rdlen;
	return true;
}

void zone_diff_ref(struct zone_diff *d)
{
	d->refs++;
}

void zone_diff_unref(struct zone_diff *d)
{
	if (d == NULL)
		return;
	if (d->refs == 0) {
		/* A broken invariant; leaking beats a double free. */
		log_err("diff %u -> %u: reference count underflow", d->from,
			d->to);
		return;
	}
	if (--d->refs == 0)
		free(d);
}

/* ---- Growing a diff (diff_internal.h) ------------------------------------ */

static bool buf_reserve(struct zone_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			return false;
		cap *= 2;
	}
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

void zone_sections_init(struct zone_sections *s)
{
	memset(s, 0, sizeof(*s));
	if (!buf_reserve(&s->rem, sizeof(struct zone_diff)))
		s->broken = true;
	else
		s->rem.len = sizeof(struct zone_diff);
}

void zone_sections_free(struct zone_sections *s)
{
	free(s->rem.p);
	free(s->add.p);
	s->rem.p = NULL;
	s->add.p = NULL;
}

void zone_sections_put(struct zone_sections *s, bool added,
		       const uint8_t *owner, size_t owner_len, uint16_t type,
		       uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	struct zone_buf *b = added ? &s->add : &s->rem;
	if (s->broken || !buf_reserve(b, owner_len + 10 + (size_t)rdlen)) {
		s->broken = true;
		return;
	}
	uint8_t *p = b->p + b->len;
	memcpy(p, owner, owner_len);
	p += owner_len;
	wire_put_u16(p, type);
	wire_put_u16(p + 2, DNS_CLASS_IN);
	wire_put_u32(p + 4, ttl);
	wire_put_u16(p + 8, rdlen);
	if (rdlen > 0)
		memcpy(p + 10, rdata, rdlen);
	b->len += owner_len + 10 + (size_t)rdlen;
	if (added)
		s->added++;
	else
		s->removed++;
}

void zone_sections_put_rr(struct zone_sections *s, bool added,
			  const struct zone_diff_rr *rr)
{
	zone_sections_put(s, added, rr->owner, dns_name_len(rr->owner),
			  rr->type, rr->ttl, rr->rdata, rr->rdlen);
}

int zone_sections_finish(struct zone_sections *s, uint32_t from, uint32_t to,
			 struct zone_diff **out)
{
	int ret = ANYDNS_ENOMEM;
	if (s->broken || !buf_reserve(&s->rem, s->add.len))
		goto out;
	size_t added_at = s->rem.len - sizeof(struct zone_diff);
	if (s->add.len > 0)
		memcpy(s->rem.p + s->rem.len, s->add.p, s->add.len);
	s->rem.len += s->add.len;
	/* Give back what doubling left over: a diff may live long. */
	uint8_t *p = realloc(s->rem.p, s->rem.len);
	if (p != NULL)
		s->rem.p = p;
	struct zone_diff *d = (struct zone_diff *)s->rem.p;
	*d = (struct zone_diff){ .from = from, .to = to,
				 .removed = s->removed, .added = s->added,
				 .data = (const uint8_t *)(d + 1),
				 .len = s->rem.len - sizeof(*d),
				 .added_at = added_at, .refs = 1 };
	s->rem.p = NULL;
	*out = d;
	ret = 0;
out:
	zone_sections_free(s);
	return ret;
}

static uint32_t soa_serial(const uint8_t *rdata, size_t len)
{
	size_t off = zone_soa_serial_offset(rdata, len);
	return off != 0 ? wire_get_u32(rdata + off) : 0;
}

/* ---- The diff builder ---------------------------------------------------- */

struct zone_diff_builder {
	struct zone_sections s;
	uint32_t from, to;
	bool bad;		/* an SOA out of place or malformed */
};

struct zone_diff_builder *zone_diff_builder_new(void)
{
	struct zone_diff_builder *b = malloc(sizeof(*b));
	if (b == NULL)
		return NULL;
	zone_sections_init(&b->s);
	b->from = 0;
	b->to = 0;
	b->bad = false;
	if (b->s.broken) {
		zone_diff_builder_free(b);
		return NULL;
	}
	return b;
}

void zone_diff_builder_free(struct zone_diff_builder *b)
{
	if (b == NULL)
		return;
	zone_sections_free(&b->s);
	free(b);
}

int zone_diff_builder_add(struct zone_diff_builder *b, bool added,
			  const uint8_t *owner, uint16_t type, uint32_t ttl,
			  const uint8_t *rdata, uint16_t rdlen)
{
	if (b->s.broken)
		return ANYDNS_ENOMEM;
	if (!added && b->s.added > 0)
		return ANYDNS_EINVAL;
	/* The first record of each section is the SOA, and only that one. */
	bool first = added ? b->s.added == 0 : b->s.removed == 0;
	if (first != (type == DNS_TYPE_SOA)) {
		b->bad = true;
	} else if (first) {
		if (dns_rdata_check(DNS_TYPE_SOA, rdata, rdlen) != 0)
			b->bad = true;
		else if (added)
			b->to = soa_serial(rdata, rdlen);
		else
			b->from = soa_serial(rdata, rdlen);
	}
	uint8_t lname[DNS_NAME_MAXLEN];
	size_t len = dns_name_copy_lower(lname, owner);
	zone_sections_put(&b->s, added, lname, len, type, ttl, rdata, rdlen);
	return b->s.broken ? ANYDNS_ENOMEM : 0;
}

int zone_diff_builder_finish(struct zone_diff_builder *b,
			     struct zone_diff **out)
{
	int ret;
	if (b->s.broken)
		ret = ANYDNS_ENOMEM;
	else if (b->bad || b->s.removed == 0 || b->s.added == 0)
		ret = ANYDNS_EXFR;
	else
		ret = zone_sections_finish(&b->s, b->from, b->to, out);
	if (ret != 0)
		zone_sections_free(&b->s);
	free(b);
	return ret;
}

/* ---- Canonical RDATA ----------------------------------------------------- */

static void lower_name_at(const uint8_t *name, size_t offset, bool compr,
			  void *arg)
{
	(void)name;
	(void)compr;
	dns_name_lower((uint8_t *)arg + offset);
}

/* The canonical form of rdata (RFC 4034 §6.2): rdata itself, or its copy
 * with the names lowercased in scratch (ZONE_RDATA_MAX octets). */
const uint8_t *zone_rdata_canon(uint16_t type, const uint8_t *rdata,
				uint16_t len, uint8_t *scratch)
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (d == NULL || !d->lower_in_canonical)
		return rdata;
	bool upper = false;
	for (uint16_t i = 0; i < len && !upper; i++)
		upper = rdata[i] >= 'A' && rdata[i] <= 'Z';
	if (!upper)
		return rdata;
	memcpy(scratch, rdata, len);
	if (dns_rdata_names(type, rdata, len, lower_name_at, scratch) != 0)
		return rdata;
	return scratch;
}

/* RFC 4034 §6.3: octet by octet, a shorter prefix first; the order the
 * builder leaves every RRset in. */
int zone_rdata_cmp(const uint8_t *a, uint16_t alen, const uint8_t *b,
		   uint16_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c != 0)
		return c;
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}

/* ---- Computing ----------------------------------------------------------- */

struct compute {
	struct zone_sections s;
	uint8_t scratch_a[ZONE_RDATA_MAX], scratch_b[ZONE_RDATA_MAX];
};

static void put_rrset(struct compute *c, bool added,
		      const struct zone_node *n, const struct zone_rrset *rs)
{
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &len))
		zone_sections_put(&c->s, added, n->name, n->name_len, rs->type,
				  rs->ttl, rd, len);
}

/* Octets of an RRset's RDATA block. */
static size_t rrset_octets(const struct zone_rrset *rs)
{
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &len))
		;
	return (size_t)(it.pos - rs->rdata);
}

static void diff_rrset(struct compute *c, const struct zone_node *n,
		       const struct zone_rrset *a, const struct zone_rrset *b)
{
	/* RFC 2181 §5.2: one TTL per RRset, so a new TTL replaces it all. */
	if (a->ttl != b->ttl) {
		put_rrset(c, false, n, a);
		put_rrset(c, true, n, b);
		return;
	}
	size_t octets = rrset_octets(a);
	if (a->count == b->count && octets == rrset_octets(b) &&
	    memcmp(a->rdata, b->rdata, octets) == 0)
		return;
	struct zone_rr_iter ia, ib;
	const uint8_t *ra = NULL, *rb = NULL, *ca = NULL, *cb = NULL;
	uint16_t la = 0, lb = 0;
	zone_rr_iter_init(&ia, a);
	zone_rr_iter_init(&ib, b);
	bool more_a = zone_rr_next(&ia, &ra, &la);
	bool more_b = zone_rr_next(&ib, &rb, &lb);
	if (more_a)
		ca = zone_rdata_canon(a->type, ra, la, c->scratch_a);
	if (more_b)
		cb = zone_rdata_canon(b->type, rb, lb, c->scratch_b);
	while (more_a || more_b) {
		int cmp = !more_a ? 1
			: !more_b ? -1 : zone_rdata_cmp(ca, la, cb, lb);
		bool next_a = cmp <= 0, next_b = cmp >= 0;
		/* Equal canonical forms with other octets: a change of case. */
		if (cmp == 0 && memcmp(ra, rb, la) != 0) {
			cmp = -1;
			zone_sections_put(&c->s, true, n->name, n->name_len,
					  b->type, b->ttl, rb, lb);
		}
		if (cmp < 0)
			zone_sections_put(&c->s, false, n->name, n->name_len,
					  a->type, a->ttl, ra, la);
		else if (cmp > 0)
			zone_sections_put(&c->s, true, n->name, n->name_len,
					  b->type, b->ttl, rb, lb);
		if (next_a && (more_a = zone_rr_next(&ia, &ra, &la)))
			ca = zone_rdata_canon(a->type, ra, la, c->scratch_a);
		if (next_b && (more_b = zone_rr_next(&ib, &rb, &lb)))
			cb = zone_rdata_canon(b->type, rb, lb, c->scratch_b);
	}
}

/* The RRsets of one name in both versions (either may be NULL), merged
 * by type; the SOA is handled apart. */
static void diff_node(struct compute *c, const struct zone_node *a,
		      const struct zone_node *b)
{
	uint16_t na = a ? a->rrset_count : 0, nb = b ? b->rrset_count : 0;
	uint16_t i = 0, j = 0;
	while (i < na || j < nb) {
		const struct zone_rrset *ra = i < na ? &a->rrsets[i] : NULL;
		const struct zone_rrset *rb = j < nb ? &b->rrsets[j] : NULL;
		int cmp = ra == NULL ? 1 : rb == NULL ? -1
			: ra->type == rb->type ? 0 : ra->type < rb->type ? -1 : 1;
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			j++;
		uint16_t type = cmp <= 0 ? ra->type : rb->type;
		if (type == DNS_TYPE_SOA)
			continue;
		if (cmp < 0)
			put_rrset(c, false, a, ra);
		else if (cmp > 0)
			put_rrset(c, true, b, rb);
		else
			diff_rrset(c, a, ra, rb);
	}
}

static void put_soa(struct zone_sections *s, bool added, const struct zone *z)
{
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, z->soa);
	if (zone_rr_next(&it, &rd, &len))
		zone_sections_put(s, added, z->apex_name, z->apex_len,
				  DNS_TYPE_SOA, z->soa->ttl, rd, len);
}

int zone_diff_compute(const struct zone *old, const struct zone *new,
		      struct zone_diff **out)
{
	if (old->soa == NULL || new->soa == NULL)
		return ANYDNS_EINVAL;	/* a servfail placeholder */
	struct compute *c = malloc(sizeof(*c));
	if (c == NULL)
		return ANYDNS_ENOMEM;
	zone_sections_init(&c->s);
	put_soa(&c->s, false, old);
	put_soa(&c->s, true, new);
	/* Both node lists are in canonical order: one merge walk. */
	size_t i = 0, j = 0;
	while ((i < old->node_count || j < new->node_count) && !c->s.broken) {
		const struct zone_node *a = i < old->node_count ? old->nodes[i] : NULL;
		const struct zone_node *b = j < new->node_count ? new->nodes[j] : NULL;
		int cmp = a == NULL ? 1 : b == NULL ? -1
			: dns_name_cmp_canonical(a->name, b->name);
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			j++;
		diff_node(c, cmp <= 0 ? a : NULL, cmp >= 0 ? b : NULL);
	}
	int ret = zone_sections_finish(&c->s, old->serial, new->serial, out);
	free(c);
	return ret;
}

/* ---- History ------------------------------------------------------------- */

static void history_free(const struct zone_history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->count; i++)
		zone_diff_unref(h->diffs[i]);
	/* One block: the struct, then its array. */
	free((void *)h);
}

int zone_set_history(struct zone *z, struct zone_diff *const *diffs,
		     size_t n)
{
	if (n > 0 && diffs[n - 1]->to != z->serial)
		return ANYDNS_EINVAL;
	for (size_t i = 1; i < n; i++)
		if (diffs[i]->from != diffs[i - 1]->to)
			return ANYDNS_EINVAL;
	struct zone_history *h = NULL;
	if (n > 0) {
		if (n > (SIZE_MAX - sizeof(*h)) / sizeof(*h->diffs))
			return ANYDNS_ENOMEM;
		h = malloc(sizeof(*h) + n * sizeof(*h->diffs));
		if (h == NULL)
			return ANYDNS_ENOMEM;
		h->count = n;
		h->diffs = (struct zone_diff **)(h + 1);
		for (size_t i = 0; i < n; i++) {
			zone_diff_ref(diffs[i]);
			h->diffs[i] = diffs[i];
		}
	}
	history_free(z->history);
	z->history = h;
	return 0;
}

int zone_history_chain(const struct zone *z, uint32_t from,
		       struct zone_diff *const **chain, size_t *n)
{
	const struct zone_history *h = z->history;
	if (h == NULL || from == z->serial)
		return ANYDNS_EJOURNAL;
	/* From the newest: should serials ever repeat (a wrap-around of
	 * the whole space), the shortest chain is the right one. */
	for (size_t i = h->count; i-- > 0;) {
		if (h->diffs[i]->from == from) {
			*chain = &h->diffs[i];
			*n = h->count - i;
			return 0;
		}
	}
	return ANYDNS_EJOURNAL;
}
