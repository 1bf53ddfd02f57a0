/*
 * Applying a chain of diffs to a version of a zone (RFC 1995 §4: each
 * difference sequence deletes, then adds, and the deletions must find
 * their records), and condensing a chain into one diff with the same
 * effect, so that a long history answers IXFR as one short difference
 * sequence (as RFC 1995 §5 allows a server to do).
 *
 * Both follow every record the chain touches in a hash table keyed by
 * owner, type and canonical RDATA (RFC 4034 §6.2): whether it was there
 * before the chain, whether it is there after it, and with which TTL and
 * octets. Applying then feeds the builder those records and every record
 * of the base the chain left alone, so a one-record diff to a big zone
 * costs one build of the zone, and the result passes the same semantic
 * checks as a zone loaded from a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/hash.h"
#include "zone/internal.h"

struct change {
	const uint8_t *owner;		/* lowercase, in a diff */
	const uint8_t *canon;		/* canonical RDATA: a diff or mem */
	const uint8_t *base_rr;		/* apply: the base's record, or NULL */
	const uint8_t *orig;		/* condense: RDATA before the chain */
	const uint8_t *cur;		/* RDATA now */
	uint64_t hash;
	uint32_t orig_ttl, cur_ttl;
	uint16_t type, rdlen;		/* rdlen: of all forms alike */
	uint8_t owner_len;
	bool was_present;		/* before the chain */
	bool present;			/* now */
};

struct changes {
	struct change *v;
	size_t n, cap;
	uint32_t *table;		/* index + 1; 0 is empty */
	size_t mask;
	struct arena mem;		/* canonical copies */
	bool broken;			/* out of memory */
	uint8_t scratch[ZONE_RDATA_MAX];	/* canonical form of the key */
	uint8_t scratch2[ZONE_RDATA_MAX];	/* of a base record */
};

static struct changes *changes_new(void)
{
	struct changes *ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	arena_init(&ch->mem, 0);
	ch->mask = 255;
	ch->table = calloc(ch->mask + 1, sizeof(*ch->table));
	if (ch->table == NULL) {
		free(ch);
		return NULL;
	}
	return ch;
}

static void changes_free(struct changes *ch)
{
	if (ch == NULL)
		return;
	arena_free(&ch->mem);
	free(ch->v);
	free(ch->table);
	free(ch);
}

static bool table_grow(struct changes *ch)
{
	size_t mask = ch->mask * 2 + 1;
	uint32_t *t = calloc(mask + 1, sizeof(*t));
	if (t == NULL)
		return false;
	for (size_t k = 0; k < ch->n; k++) {
		size_t s = ch->v[k].hash & mask;
		while (t[s] != 0)
			s = (s + 1) & mask;
		t[s] = (uint32_t)k + 1;
	}
	free(ch->table);
	ch->table = t;
	ch->mask = mask;
	return true;
}

/*
 * The change of rr's record, created if new (*created set) with canon
 * copied to mem when it lies in scratch. NULL when out of memory.
 */
static struct change *change_get(struct changes *ch,
				 const struct zone_diff_rr *rr, bool *created)
{
	const uint8_t *canon = zone_rdata_canon(rr->type, rr->rdata,
						rr->rdlen, ch->scratch);
	size_t olen = dns_name_len(rr->owner);
	uint64_t h = hash_bytes(rr->owner, olen) ^
		     (hash_bytes(canon, rr->rdlen) + rr->type) *
		     UINT64_C(0x9e3779b97f4a7c15);
	size_t s = h & ch->mask;
	for (uint32_t k; (k = ch->table[s]) != 0; s = (s + 1) & ch->mask) {
		struct change *c = &ch->v[k - 1];
		if (c->hash == h && c->type == rr->type &&
		    c->rdlen == rr->rdlen && c->owner_len == olen &&
		    memcmp(c->owner, rr->owner, olen) == 0 &&
		    (rr->rdlen == 0 || memcmp(c->canon, canon, rr->rdlen) == 0)) {
			*created = false;
			return c;
		}
	}
	if (ch->n >= UINT32_MAX - 1)
		goto nomem;
	if (ch->n == ch->cap) {
		size_t cap = ch->cap ? ch->cap * 2 : 64;
		struct change *v = realloc(ch->v, cap * sizeof(*v));
		if (v == NULL)
			goto nomem;
		ch->v = v;
		ch->cap = cap;
	}
	if ((ch->n + 1) * 2 > ch->mask) {
		if (!table_grow(ch))
			goto nomem;
		for (s = h & ch->mask; ch->table[s] != 0; s = (s + 1) & ch->mask)
			;
	}
	if (canon == ch->scratch) {
		canon = arena_memdup(&ch->mem, canon, rr->rdlen);
		if (canon == NULL)
			goto nomem;
	}
	struct change *c = &ch->v[ch->n];
	*c = (struct change){ .owner = rr->owner, .canon = canon,
			      .hash = h, .type = rr->type, .rdlen = rr->rdlen,
			      .owner_len = (uint8_t)olen };
	ch->table[s] = (uint32_t)++ch->n;
	*created = true;
	return c;
nomem:
	ch->broken = true;
	return NULL;
}

/* ---- Applying ------------------------------------------------------------ */

/* The record of c in base (its length prefix), or NULL. */
static const uint8_t *base_find(struct changes *ch, const struct zone *base,
				const struct change *c)
{
	const struct zone_node *n = zone_find(base, c->owner, c->owner_len);
	const struct zone_rrset *rs = n ? zone_node_rrset(n, c->type) : NULL;
	if (rs == NULL)
		return NULL;
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &len)) {
		if (len != c->rdlen)
			continue;
		const uint8_t *canon = zone_rdata_canon(c->type, rd, len,
							ch->scratch2);
		if (len == 0 || memcmp(canon, c->canon, len) == 0)
			return rd - 2;
	}
	return NULL;
}

static void rr_error(char *err, size_t errlen, const struct zone_diff *d,
		     const struct zone_diff_rr *rr, const char *what)
{
	char name[DNS_NAME_STRLEN], tbuf[16];
	dns_name_to_str(name, rr->owner);
	snprintf(err, errlen, "diff %u -> %u: %s %s %s", d->from, d->to, what,
		 name, dns_rrtype_to_str(rr->type, tbuf));
}

/* Follows every record of d; ANYDNS_EXFR with err on a record removed
 * that is not there or added that is. */
static int track_apply(struct changes *ch, const struct zone *base,
		       const struct zone_diff *d, char *err, size_t errlen)
{
	const uint8_t *pos = d->data, *end = d->data + d->len;
	const uint8_t *added_from = d->data + d->added_at;
	struct zone_diff_rr rr;
	for (const uint8_t *at = pos; zone_diff_rr_next(&pos, end, &rr);
	     at = pos) {
		bool added = at >= added_from, created;
		struct change *c = change_get(ch, &rr, &created);
		if (c == NULL)
			return ANYDNS_ENOMEM;
		if (created) {
			c->base_rr = base_find(ch, base, c);
			c->present = c->base_rr != NULL;
		}
		if (added == c->present) {
			rr_error(err, errlen, d, &rr, added
				 ? "added record already in the zone:"
				 : "removed record not in the zone:");
			return ANYDNS_EXFR;
		}
		c->present = added;
		c->cur = rr.rdata;
		c->cur_ttl = rr.ttl;
	}
	return 0;
}

static int ptr_cmp(const void *pa, const void *pb)
{
	uintptr_t a = (uintptr_t)*(const uint8_t *const *)pa;
	uintptr_t b = (uintptr_t)*(const uint8_t *const *)pb;
	return a < b ? -1 : a > b;
}

/* Feeds the result to b: the records present after the chain first (so a
 * new TTL wins over the base's for a partly changed RRset), then every
 * base record the chain did not touch. */
static int feed_result(struct zone_builder *b, const struct changes *ch,
		       const struct zone *base)
{
	const uint8_t **skip = malloc((ch->n ? ch->n : 1) * sizeof(*skip));
	size_t nskip = 0;
	int ret = ANYDNS_ENOMEM;
	if (skip == NULL)
		return ret;
	for (size_t k = 0; k < ch->n; k++) {
		const struct change *c = &ch->v[k];
		if (c->base_rr != NULL)
			skip[nskip++] = c->base_rr;
		if (!c->present)
			continue;
		ret = zone_builder_add(b, c->owner, c->type, c->cur_ttl, c->cur,
				       c->rdlen, NULL, 0);
		if (ret != 0)
			goto out;
	}
	qsort(skip, nskip, sizeof(*skip), ptr_cmp);
	for (size_t i = 0; i < base->node_count; i++) {
		const struct zone_node *n = base->nodes[i];
		for (uint16_t r = 0; r < n->rrset_count; r++) {
			const struct zone_rrset *rs = &n->rrsets[r];
			struct zone_rr_iter it;
			const uint8_t *rd;
			uint16_t len;
			zone_rr_iter_init(&it, rs);
			while (zone_rr_next(&it, &rd, &len)) {
				const uint8_t *at = rd - 2;
				if (nskip > 0 &&
				    bsearch(&at, skip, nskip, sizeof(*skip),
					    ptr_cmp) != NULL)
					continue;
				ret = zone_builder_add(b, n->name, rs->type,
						       rs->ttl, rd, len, NULL, 0);
				if (ret != 0)
					goto out;
			}
		}
	}
	ret = 0;
out:
	free(skip);
	return ret;
}

int zone_diff_apply(const struct zone *base,
		    struct zone_diff *const *chain, size_t n,
		    struct zone **out, char *err, size_t errlen)
{
	char dummy[1];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (base->soa == NULL) {
		snprintf(err, errlen, "no version to apply a diff to");
		return ANYDNS_EXFR;
	}
	uint32_t serial = base->serial;
	for (size_t k = 0; k < n; k++) {
		if (chain[k]->from != serial) {
			snprintf(err, errlen, "diff %u -> %u does not follow "
				 "serial %u", chain[k]->from, chain[k]->to,
				 serial);
			return ANYDNS_EXFR;
		}
		serial = chain[k]->to;
	}

	struct zone_first_error fe = { .msg = "" };
	struct zone_builder *b = NULL;
	struct changes *ch = changes_new();
	int ret = ANYDNS_ENOMEM;
	if (ch == NULL)
		goto out;
	for (size_t k = 0; k < n; k++) {
		ret = track_apply(ch, base, chain[k], err, errlen);
		if (ret != 0)
			goto out;
	}
	ret = ANYDNS_ENOMEM;
	b = zone_builder_new(base->apex_name, zone_keep_first_error, &fe);
	if (b == NULL)
		goto out;
	ret = feed_result(b, ch, base);
	if (ret != 0)
		goto out;
	struct zone *z = NULL;
	ret = zone_builder_finish(b, &z);
	b = NULL;
	if (ret == ANYDNS_EZONE || ret == ANYDNS_ENOSOA) {
		snprintf(err, errlen, "serial %u: %s", serial,
			 fe.msg[0] ? fe.msg : anydns_strerror(ret));
		ret = ANYDNS_EZONE;
		goto out;
	}
	if (ret != 0)
		goto out;
	if (z->serial != serial) {
		/* The SOAs in the diffs disagree with their serials. */
		snprintf(err, errlen, "result has serial %u, not %u", z->serial,
			 serial);
		zone_free(z);
		ret = ANYDNS_EXFR;
		goto out;
	}
	*out = z;
out:
	zone_builder_free(b);
	changes_free(ch);
	return ret;
}

/* ---- Condensing ---------------------------------------------------------- */

static void track_condense(struct changes *ch, const struct zone_diff *d)
{
	const uint8_t *pos = d->data, *end = d->data + d->len;
	const uint8_t *added_from = d->data + d->added_at;
	struct zone_diff_rr rr;
	for (const uint8_t *at = pos; zone_diff_rr_next(&pos, end, &rr);
	     at = pos) {
		if (rr.type == DNS_TYPE_SOA)
			continue;	/* only the outer two are kept */
		bool added = at >= added_from, created;
		struct change *c = change_get(ch, &rr, &created);
		if (c == NULL)
			return;		/* ch->broken is set */
		if (created) {
			/* The first touch tells what was there before. */
			c->was_present = !added;
			c->orig = rr.rdata;
			c->orig_ttl = rr.ttl;
		}
		/* A chain that removes a missing record (or adds one twice)
		 * is not consistent; the last word stands. */
		c->present = added;
		c->cur = rr.rdata;
		c->cur_ttl = rr.ttl;
	}
}

/* RFC 4034 §6.1 and §6.3 order: owner, type, canonical RDATA; the order
 * zone_diff_compute() writes. */
static int change_cmp(const void *pa, const void *pb)
{
	const struct change *a = *(const struct change *const *)pa;
	const struct change *b = *(const struct change *const *)pb;
	int c = dns_name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return zone_rdata_cmp(a->canon, a->rdlen, b->canon, b->rdlen);
}

static void put_change(struct zone_sections *s, bool added,
		       const struct change *c)
{
	zone_sections_put(s, added, c->owner, c->owner_len, c->type,
			  added ? c->cur_ttl : c->orig_ttl,
			  added ? c->cur : c->orig, c->rdlen);
}

int zone_diff_condense(struct zone_diff *const *chain, size_t n,
		       struct zone_diff **out)
{
	if (n == 0)
		return ANYDNS_EINVAL;
	struct changes *ch = changes_new();
	const struct change **order = NULL;
	struct zone_sections s;
	zone_sections_init(&s);
	int ret = ANYDNS_ENOMEM;
	if (ch == NULL || s.broken)
		goto fail;
	for (size_t k = 0; k < n && !ch->broken; k++)
		track_condense(ch, chain[k]);
	if (ch->broken)
		goto fail;
	order = malloc((ch->n ? ch->n : 1) * sizeof(*order));
	if (order == NULL)
		goto fail;
	size_t m = 0;
	for (size_t k = 0; k < ch->n; k++) {
		const struct change *c = &ch->v[k];
		/* Present before and after with the same TTL and octets:
		 * whatever happened between cancels out. */
		bool same = c->was_present == c->present &&
			    (!c->present ||
			     (c->orig_ttl == c->cur_ttl &&
			      (c->rdlen == 0 ||
			       memcmp(c->orig, c->cur, c->rdlen) == 0)));
		if (!same)
			order[m++] = c;
	}
	qsort(order, m, sizeof(*order), change_cmp);

	const uint8_t *pos = chain[0]->data;
	struct zone_diff_rr rr;
	if (zone_diff_rr_next(&pos, chain[0]->data + chain[0]->len, &rr))
		zone_sections_put_rr(&s, false, &rr);
	for (size_t k = 0; k < m; k++)
		if (order[k]->was_present)
			put_change(&s, false, order[k]);
	const struct zone_diff *last = chain[n - 1];
	pos = last->data + last->added_at;
	if (zone_diff_rr_next(&pos, last->data + last->len, &rr))
		zone_sections_put_rr(&s, true, &rr);
	for (size_t k = 0; k < m; k++)
		if (order[k]->present)
			put_change(&s, true, order[k]);
	free(order);
	changes_free(ch);
	return zone_sections_finish(&s, chain[0]->from, last->to, out);
fail:
	free(order);
	changes_free(ch);
	zone_sections_free(&s);
	return ret;
}

