/*
 * Small pieces several files of src/zone share and nothing else sees:
 * where SERIAL sits in SOA RDATA (RFC 1035 §3.3.13: after MNAME and RNAME)
 * for serial.c and diff.c, and the builder report callback that keeps the
 * first error, for the files that rebuild a zone from one they already
 * had (serial.c, diff_apply.c).
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

#endif
