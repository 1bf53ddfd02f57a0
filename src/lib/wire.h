/*
 * The one cursor type for all outside bytes (DNS messages, BGP messages,
 * transfer streams, probe replies). Reads are bounds-checked; the first
 * failure sticks in ctx->err and every later read yields zeros, so a parser
 * reads a whole structure and checks the error once at the end. A writer
 * cursor does the same for output buffers. All multi-octet values are in
 * network byte order.
 */
#ifndef ANYDNS_LIB_WIRE_H
#define ANYDNS_LIB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/errcode.h"

struct wire_ctx {
	const uint8_t *base;	/* start of the whole message */
	const uint8_t *pos;
	const uint8_t *end;
	int err;		/* 0 or the first error (ANYDNS_ETRUNC...) */
};

static inline void wire_init(struct wire_ctx *c, const void *buf, size_t len)
{
	c->base = buf;
	c->pos = c->base;
	c->end = c->base + len;
	c->err = 0;
}

static inline size_t wire_avail(const struct wire_ctx *c)
{
	return c->err ? 0 : (size_t)(c->end - c->pos);
}

static inline size_t wire_offset(const struct wire_ctx *c)
{
	return (size_t)(c->pos - c->base);
}

static inline void wire_fail(struct wire_ctx *c, int err)
{
	if (c->err == 0)
		c->err = err;
	c->pos = c->end;
}

/* True when n more octets can be read; otherwise marks the cursor failed. */
static inline bool wire_need(struct wire_ctx *c, size_t n)
{
	if (c->err || (size_t)(c->end - c->pos) < n) {
		wire_fail(c, ANYDNS_ETRUNC);
		return false;
	}
	return true;
}

static inline uint8_t wire_read_u8(struct wire_ctx *c)
{
	if (!wire_need(c, 1))
		return 0;
	return *c->pos++;
}

static inline uint16_t wire_read_u16(struct wire_ctx *c)
{
	if (!wire_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((c->pos[0] << 8) | c->pos[1]);
	c->pos += 2;
	return v;
}

static inline uint32_t wire_read_u32(struct wire_ctx *c)
{
	if (!wire_need(c, 4))
		return 0;
	uint32_t v = ((uint32_t)c->pos[0] << 24) | ((uint32_t)c->pos[1] << 16) |
		     ((uint32_t)c->pos[2] << 8) | c->pos[3];
	c->pos += 4;
	return v;
}

/* Copies n octets to dst, or zero-fills dst on a short read. */
static inline void wire_read(struct wire_ctx *c, void *dst, size_t n)
{
	if (!wire_need(c, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->pos, n);
	c->pos += n;
}

/* Returns a pointer to the next n octets and skips them; NULL on a short read. */
static inline const uint8_t *wire_take(struct wire_ctx *c, size_t n)
{
	if (!wire_need(c, n))
		return NULL;
	const uint8_t *p = c->pos;
	c->pos += n;
	return p;
}

static inline void wire_skip(struct wire_ctx *c, size_t n)
{
	(void)wire_take(c, n);
}

/* Moves to an absolute offset from base (used to follow pointers). */
static inline void wire_seek(struct wire_ctx *c, size_t off)
{
	if (c->err)
		return;
	if (off > (size_t)(c->end - c->base)) {
		wire_fail(c, ANYDNS_ETRUNC);
		return;
	}
	c->pos = c->base + off;
}

/* Writer cursor over a caller-owned buffer. */
struct wire_wctx {
	uint8_t *base;
	uint8_t *pos;
	uint8_t *end;
	int err;		/* 0 or ANYDNS_ESPACE */
};

static inline void wire_winit(struct wire_wctx *c, void *buf, size_t cap)
{
	c->base = buf;
	c->pos = c->base;
	c->end = c->base + cap;
	c->err = 0;
}

static inline size_t wire_wlen(const struct wire_wctx *c)
{
	return (size_t)(c->pos - c->base);
}

static inline bool wire_wneed(struct wire_wctx *c, size_t n)
{
	if (c->err || (size_t)(c->end - c->pos) < n) {
		c->err = ANYDNS_ESPACE;
		return false;
	}
	return true;
}

static inline void wire_write_u8(struct wire_wctx *c, uint8_t v)
{
	if (wire_wneed(c, 1))
		*c->pos++ = v;
}

static inline void wire_write_u16(struct wire_wctx *c, uint16_t v)
{
	if (!wire_wneed(c, 2))
		return;
	c->pos[0] = (uint8_t)(v >> 8);
	c->pos[1] = (uint8_t)v;
	c->pos += 2;
}

static inline void wire_write_u32(struct wire_wctx *c, uint32_t v)
{
	if (!wire_wneed(c, 4))
		return;
	c->pos[0] = (uint8_t)(v >> 24);
	c->pos[1] = (uint8_t)(v >> 16);
	c->pos[2] = (uint8_t)(v >> 8);
	c->pos[3] = (uint8_t)v;
	c->pos += 4;
}

static inline void wire_write(struct wire_wctx *c, const void *src, size_t n)
{
	if (!wire_wneed(c, n))
		return;
	if (n > 0)
		memcpy(c->pos, src, n);
	c->pos += n;
}

static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static inline void wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
