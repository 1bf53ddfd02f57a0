/*
 * Small pieces several files of src/zone share and nothing else sees:
 * where SERIAL sits in SOA RDATA (RFC 1035 §3.3.13: after MNAME and RNAME)
 * for serial.c and diff.c, and the builder report callback that keeps the
 * first error, for the files that rebuild a zone from one they already
 * had (serial.c, diff_apply.c); and for the files that make and read
 * diffs (diff.c, diff_apply.c), growing a diff's two sections and RDATA
 * in canonical form (RFC 4034 §6.2) and order (§6.3).
 */
#ifndef ANYDNS_ZONE_INTERNAL_H
#define ANYDNS_ZONE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zone/zone.h"

/* Offset of SERIAL in SOA RDATA whose names are uncompressed (a built
 * zone's, a diff's), or 0 when the RDATA is too short to hold it. */
static inline size_t zone_soa_serial_offset(const uint8_t *rdata, size_t len)
{
	size_t off = 0;
	for (int names = 0; names < 2; names++) {
		while (off < len && rdata[off] != 0)
			off += (size_t)rdata[off] + 1;
		off++;
	}
	return off + 20 <= len ? off : 0;
}

/* The first error a builder reported ("" while none): the arg of
 * zone_keep_first_error(). */
struct zone_first_error {
	char msg[160];
};

/* A zone_builder report callback (arg: struct zone_first_error) keeping
 * the first error; warnings are dropped. */
static inline void zone_keep_first_error(void *arg, const char *file,
					 unsigned long line, bool is_error,
					 const char *msg)
{
	struct zone_first_error *fe = arg;
	(void)file;
	(void)line;
	if (is_error && fe->msg[0] == '\0')
		snprintf(fe->msg, sizeof(fe->msg), "%s", msg);
}

/* ---- diffs (diff.c, diff_apply.c) ---- */
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
