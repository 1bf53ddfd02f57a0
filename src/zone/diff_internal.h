/*
 * Shared by the files of src/zone that make and read diffs (diff.c,
 * diff_apply.c) and by nothing else: growing a diff's two sections, and
 * RDATA in canonical form (RFC 4034 §6.2) and order (§6.3).
 */
#ifndef ANYDNS_ZONE_DIFF_INTERNAL_H
#define ANYDNS_ZONE_DIFF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

/* RDATA is at most this long: the size of a canonical-form scratch. */
#define ZONE_RDATA_MAX 65535

struct zone_buf {
	uint8_t *p;
	size_t len, cap;
};

/*
 * A diff being made: the removed records go after room for the struct
 * zone_diff, the added ones into a buffer of their own, so both can grow
 * in one pass; finishing appends the second to the first and turns the
 * block into the diff (one malloc'd block, as zone.h requires).
 */
struct zone_sections {
	struct zone_buf rem;	/* struct zone_diff, then removed records */
	struct zone_buf add;	/* added records */
	uint32_t removed, added;
	bool broken;		/* out of memory: only freeing is left */
};

void zone_sections_init(struct zone_sections *s);
/* Frees both buffers; safe to call twice. */
void zone_sections_free(struct zone_sections *s);
/* Appends one record (owner lowercase) to a section; sets broken when
 * out of memory. */
void zone_sections_put(struct zone_sections *s, bool added,
		       const uint8_t *owner, size_t owner_len, uint16_t type,
		       uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
void zone_sections_put_rr(struct zone_sections *s, bool added,
			  const struct zone_diff_rr *rr);
/* Makes the diff into *out (refs 1) and frees s either way. 0 or
 * ANYDNS_ENOMEM. */
int zone_sections_finish(struct zone_sections *s, uint32_t from, uint32_t to,
			 struct zone_diff **out);

/* The canonical form of rdata: rdata itself, or a copy with its names
 * lowercased in scratch (ZONE_RDATA_MAX octets). */
const uint8_t *zone_rdata_canon(uint16_t type, const uint8_t *rdata,
				uint16_t len, uint8_t *scratch);
/* Canonical RDATA order: octet by octet, a shorter prefix first. */
int zone_rdata_cmp(const uint8_t *a, uint16_t alen, const uint8_t *b,
		   uint16_t blen);

#endif
