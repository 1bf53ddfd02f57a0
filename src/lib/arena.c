/*
 * Chunked bump allocator behind arena.h. Large requests get a chunk of their
 * own so a big RDATA blob does not waste the rest of a default chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"

#define ARENA_DEFAULT_CHUNK (64 * 1024)
#define ARENA_ALIGN 8

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
	a->allocated = 0;
}

static struct arena_chunk *chunk_new(struct arena *a, size_t size)
{
	struct arena_chunk *c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	a->allocated += sizeof(*c) + size;
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct arena_chunk *c = a->head;
	if (c != NULL && c->size - c->used >= size) {
		void *p = c->data + c->used;
		c->used += size;
		return p;
	}
	if (size > a->chunk_size / 4) {
		/* Oversized: own chunk, linked behind the current one. */
		struct arena_chunk *big = chunk_new(a, size);
		if (big == NULL)
			return NULL;
		big->used = size;
		if (c != NULL) {
			big->next = c->next;
			c->next = big;
		} else {
			big->next = NULL;
			a->head = big;
		}
		return big->data;
	}
	struct arena_chunk *n = chunk_new(a, a->chunk_size);
	if (n == NULL)
		return NULL;
	n->next = c;
	a->head = n;
	n->used = size;
	return n->data;
}

void *arena_memdup(struct arena *a, const void *src, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p != NULL && n > 0)
		memcpy(p, src, n);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *keep = NULL;
	struct arena_chunk *c = a->head;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		if (next == NULL && c->size == a->chunk_size) {
			keep = c;	/* the oldest chunk is kept */
		} else {
			a->allocated -= sizeof(*c) + c->size;
			free(c);
		}
		c = next;
	}
	if (keep != NULL) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->head = keep;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->allocated = 0;
}

size_t arena_size(const struct arena *a)
{
	return a->allocated;
}
