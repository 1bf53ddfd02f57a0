/*
 * Zone sets and the published snapshot. A set is immutable once built: the
 * zones in canonical apex order (RFC 4034 §6.1) plus a hash index on apex
 * names, so finding the zone of a query name (the longest matching apex,
 * RFC 1034 §4.3.2 step 2) costs one hash lookup per label and no scan.
 * Sets reach worker threads only through the RCU-published snapshot: the
 * control thread swaps the pointer and frees the old set after a grace
 * period; zones are shared between sets by reference count. Every
 * published set gets a generation number of its own, so that what was
 * derived from one set (cached answers) can tell it is out of date.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "zone/zone.h"

static int apex_cmp(const void *pa, const void *pb)
{
	const struct zone *a = *(struct zone *const *)pa;
	const struct zone *b = *(struct zone *const *)pb;
	return dns_name_cmp_canonical(a->apex_name, b->apex_name);
}

static struct zone *set_lookup(const struct zone_set *set,
			       const uint8_t *lname, size_t len)
{
	if (set->count == 0)
		return NULL;
	size_t s = hash_bytes(lname, len) & set->table_mask;
	for (struct zone *z; (z = set->table[s]) != NULL;
	     s = (s + 1) & set->table_mask)
		if (z->apex_len == len && memcmp(z->apex_name, lname, len) == 0)
			return z;
	return NULL;
}

int zone_set_new(struct zone *const *zones, size_t n, struct zone_set **out)
{
	size_t slots = 2;
	while (slots < 2 * n)
		slots *= 2;
	struct zone_set *set = calloc(1, sizeof(*set));
	if (set == NULL)
		return ANYDNS_ENOMEM;
	set->zones = calloc(n ? n : 1, sizeof(*set->zones));
	set->table = calloc(slots, sizeof(*set->table));
	if (set->zones == NULL || set->table == NULL) {
		free(set->zones);
		free(set->table);
		free(set);
		return ANYDNS_ENOMEM;
	}
	set->table_mask = slots - 1;
	if (n > 0)
		memcpy(set->zones, zones, n * sizeof(*zones));
	qsort(set->zones, n, sizeof(*set->zones), apex_cmp);
	for (size_t i = 0; i < n; i++) {
		struct zone *z = set->zones[i];
		if (set_lookup(set, z->apex_name, z->apex_len) != NULL) {
			free(set->zones);
			free(set->table);
			free(set);
			return ANYDNS_EEXIST;
		}
		size_t s = hash_bytes(z->apex_name, z->apex_len) & set->table_mask;
		while (set->table[s] != NULL)
			s = (s + 1) & set->table_mask;
		set->table[s] = z;
		set->count++;
	}
	for (size_t i = 0; i < n; i++)
		set->zones[i]->refs++;
	*out = set;
	return 0;
}

static void views_free(struct zone_set **views, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zone_set_free(views[i]);
	free(views);
}

int zone_set_views(struct zone_set *set, const struct zone_view_def *defs,
		   size_t n)
{
	struct zone_set **views = calloc(n ? n : 1, sizeof(*views));
	struct zone **pick = calloc(set->count ? set->count : 1, sizeof(*pick));
	uint8_t lower[DNS_NAME_MAXLEN];
	size_t built = 0;
	int ret = ANYDNS_ENOMEM;
	if (views == NULL || pick == NULL)
		goto fail;
	for (; built < n; built++) {
		size_t k = 0;
		for (size_t j = 0; j < defs[built].count; j++) {
			size_t len = dns_name_copy_lower(lower,
							 defs[built].apexes[j]);
			struct zone *z = set_lookup(set, lower, len);
			bool dup = false;
			for (size_t m = 0; z != NULL && m < k; m++)
				dup |= pick[m] == z;
			if (z != NULL && !dup && k < set->count)
				pick[k++] = z;
		}
		ret = zone_set_new(pick, k, &views[built]);
		if (ret != 0)
			goto fail;
	}
	free(pick);
	views_free(set->views, set->view_count);
	set->views = views;
	set->view_count = n;
	return 0;
fail:
	free(pick);
	if (views != NULL)
		views_free(views, built);
	return ret;
}

void zone_set_free(struct zone_set *set)
{
	if (set == NULL)
		return;
	/* The views first: they hold references to the same zones. */
	views_free(set->views, set->view_count);
	for (size_t i = 0; i < set->count; i++) {
		struct zone *z = set->zones[i];
		if (z->refs == 0) {
			/* A broken invariant; leaking beats a double free. */
			log_err("zone %s: reference count underflow", z->name_str);
			continue;
		}
		if (--z->refs == 0)
			zone_free(z);
	}
	free(set->zones);
	free(set->table);
	free(set);
}

const struct zone *zone_set_find(const struct zone_set *set,
				 const uint8_t *lname)
{
	size_t len = dns_name_len(lname);
	for (;;) {
		const struct zone *z = set_lookup(set, lname, len);
		if (z != NULL || lname[0] == 0)
			return z;
		len -= (size_t)lname[0] + 1;
		lname += lname[0] + 1;
	}
}

struct zone *zone_set_get(const struct zone_set *set, const uint8_t *lapex)
{
	return set_lookup(set, lapex, dns_name_len(lapex));
}

/* Generations of published sets, process-wide: several snapshots may
 * exist (tests), and a number must never come back. Atomic for that
 * reason only; publishing is otherwise single-threaded. */
static _Atomic uint64_t generation_last;

/* Numbers set and its views before readers can see them: the RCU
 * publication that follows orders these stores before the pointer. */
static void set_generation(struct zone_set *set)
{
	uint64_t g = atomic_fetch_add(&generation_last, 1) + 1;
	set->generation = g;
	for (size_t i = 0; i < set->view_count; i++)
		set->views[i]->generation = g;
}

int zone_snapshot_init(struct zone_snapshot *snap)
{
	struct zone_set *empty;
	int ret = zone_set_new(NULL, 0, &empty);
	if (ret != 0)
		return ret;
	set_generation(empty);
	rcu_assign_pointer(snap->current, empty);
	return 0;
}

const struct zone_set *zone_snapshot_read(const struct zone_snapshot *snap)
{
	return rcu_dereference(snap->current);
}

void zone_snapshot_publish(struct zone_snapshot *snap, struct zone_set *next)
{
	set_generation(next);
	struct zone_set *old = rcu_xchg_pointer(&snap->current, next);
	synchronize_rcu();
	zone_set_free(old);
}

void zone_snapshot_destroy(struct zone_snapshot *snap)
{
	zone_set_free(snap->current);
	snap->current = NULL;
}
