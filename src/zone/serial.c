/*
 * Zone serial numbers: RFC 1982 serial arithmetic (§3.2, with the pairs
 * it leaves undefined treated as "not newer"), the policies that give a
 * changed primary zone a serial newer than the one served (RFC 1912 §2.2's
 * YYYYMMDDnn among them), a copy of a zone under another serial, and the
 * SERVFAIL placeholder of a zone that should be served but has no data.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/wire.h"
#include "zone/internal.h"

bool zone_serial_newer(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2: a > b when a - b, modulo 2^32, lies in (0, 2^31).
	 * At exactly 2^31 the comparison is undefined, so neither is newer. */
	uint32_t d = a - b;
	return d != 0 && d < UINT32_C(0x80000000);
}

/* candidate when it is newer than old, else old + 1: whatever the clock
 * says, the result is always newer than old. */
static uint32_t at_least_next(uint32_t candidate, uint32_t old)
{
	return zone_serial_newer(candidate, old) ? candidate : old + 1;
}

uint32_t zone_serial_next(enum zone_serial_policy policy, uint32_t old,
			  time_t now)
{
	switch (policy) {
	case ZONE_SERIAL_KEEP:
		return old;
	case ZONE_SERIAL_INCREMENT:
		return old + 1;
	case ZONE_SERIAL_UNIXTIME:
		/* A clock behind the served serial (or a serial that was
		 * never a time) falls back to + 1. Past 2106 the time wraps
		 * like any serial. */
		return at_least_next((uint32_t)now, old);
	case ZONE_SERIAL_DATESERIAL: {
		struct tm tm;
		if (gmtime_r(&now, &tm) == NULL || tm.tm_year + 1900 < 0)
			return old + 1;
		uint64_t date = (uint64_t)(tm.tm_year + 1900) * 10000 +
				(uint64_t)(tm.tm_mon + 1) * 100 +
				(uint64_t)tm.tm_mday;
		/* More than 99 changes on one day run into the next day's
		 * numbers: old + 1 wins until the calendar catches up. */
		if (date * 100 > UINT32_MAX)
			return old + 1;
		return at_least_next((uint32_t)(date * 100), old);
	}
	}
	return old + 1;
}

int zone_with_serial(const struct zone *z, uint32_t serial, struct zone **out)
{
	if (z->servfail || z->soa == NULL)
		return ANYDNS_EINVAL;
	struct zone_first_error fe = { .msg = "" };
	struct zone_builder *b = zone_builder_new(z->apex_name,
						  zone_keep_first_error, &fe);
	if (b == NULL)
		return ANYDNS_ENOMEM;
	uint8_t soa[65535];
	int ret;
	for (size_t i = 0; i < z->node_count; i++) {
		const struct zone_node *n = z->nodes[i];
		for (uint16_t r = 0; r < n->rrset_count; r++) {
			const struct zone_rrset *rs = &n->rrsets[r];
			struct zone_rr_iter it;
			const uint8_t *rd;
			uint16_t len;
			zone_rr_iter_init(&it, rs);
			while (zone_rr_next(&it, &rd, &len)) {
				if (rs == z->soa) {
					size_t off = zone_soa_serial_offset(rd, len);
					memcpy(soa, rd, len);
					if (off != 0)
						wire_put_u32(soa + off, serial);
					rd = soa;
				}
				ret = zone_builder_add(b, n->name, rs->type,
						       rs->ttl, rd, len, NULL, 0);
				if (ret != 0) {
					zone_builder_free(b);
					return ret;
				}
			}
		}
	}
	struct zone *c = NULL;
	ret = zone_builder_finish(b, &c);
	if (ret != 0)
		return ret;	/* only ENOMEM: z passed these checks */
	if (z->source != NULL) {
		c->source = strdup(z->source);
		if (c->source == NULL) {
			zone_free(c);
			return ANYDNS_ENOMEM;
		}
	}
	c->file_id = z->file_id;
	c->loaded_at = z->loaded_at;
	*out = c;
	return 0;
}

int zone_new_servfail(const uint8_t *apex, struct zone **out)
{
	/* The zone, then an empty exact-match table of one slot, so that a
	 * lookup that forgets to check servfail finds nothing rather than
	 * crashing, then the name; in one chunk of just that size. */
	size_t len = dns_name_len(apex);
	size_t table_off = (sizeof(struct zone) + 7) & ~(size_t)7;
	size_t name_off = table_off + sizeof(struct zone_node *);
	struct arena a;
	arena_init(&a, name_off + len);
	uint8_t *block = arena_alloc(&a, name_off + len);
	if (block == NULL)
		return ANYDNS_ENOMEM;
	memset(block, 0, name_off);
	struct zone *z = (struct zone *)block;
	uint8_t *name = block + name_off;
	z->apex_len = dns_name_copy_lower(name, apex);
	z->apex_name = name;
	dns_name_to_str(z->name_str, name);
	z->table = (const struct zone_node **)(block + table_off);
	z->table_mask = 0;
	z->servfail = true;
	z->arena = a;
	*out = z;
	return 0;
}
