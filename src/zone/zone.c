/*
 * Lookups in a frozen zone: an RRset at a node, a node by exact name, the
 * closest encloser of RFC 4592 §3.3.1 (empty non-terminals included, as
 * RFC 4592 §2.2.2 requires), the canonical predecessor of RFC 4034 §6.1
 * for NSEC, and freeing. Everything here is read-only and safe on worker
 * threads.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "zone/zone.h"

const struct zone_rrset *zone_node_rrset(const struct zone_node *node,
					 uint16_t type)
{
	const struct zone_rrset *rs = node->rrsets;
	size_t lo = 0, hi = node->rrset_count;
	/* A node rarely holds more than a handful of types. */
	if (hi <= 8) {
		for (; lo < hi && rs[lo].type <= type; lo++)
			if (rs[lo].type == type)
				return &rs[lo];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs[mid].type == type)
			return &rs[mid];
		if (rs[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct zone_node *zone_find(const struct zone *z, const uint8_t *lname,
				  size_t len)
{
	size_t s = hash_bytes(lname, len) & z->table_mask;
	/* The table is at most half full, so an empty slot ends every probe. */
	for (const struct zone_node *n; (n = z->table[s]) != NULL;
	     s = (s + 1) & z->table_mask)
		if (n->name_len == len && memcmp(n->name, lname, len) == 0)
			return n;
	return NULL;
}

const struct zone_node *zone_closest_encloser(const struct zone *z,
					      const uint8_t *lname)
{
	size_t len = dns_name_len(lname);
	while (len >= z->apex_len) {
		const struct zone_node *n = zone_find(z, lname, len);
		if (n != NULL)
			return n;
		if (lname[0] == 0)
			break;
		len -= (size_t)lname[0] + 1;
		lname += lname[0] + 1;
	}
	return NULL;
}

const struct zone_node *zone_node_prev(const struct zone *z,
				       const struct zone_node *node)
{
	size_t i = node->index == 0 ? z->node_count : node->index;
	return z->nodes[i - 1];
}

void zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	free(z->source);
	if (z->history != NULL) {
		/* zone_set_history() allocates it as one block: the struct,
		 * then its array. */
		struct zone_history *h = (struct zone_history *)z->history;
		for (size_t i = 0; i < h->count; i++)
			zone_diff_unref(h->diffs[i]);
		free(h);
	}
	/* The zone itself lives in its arena: free from a copy. */
	struct arena a = z->arena;
	arena_free(&a);
}
