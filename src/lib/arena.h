/*
 * Region allocator: many small allocations freed as a whole. One arena per
 * zone snapshot (freed with the snapshot), one per worker reset for every
 * query. Not thread-safe: an arena has one owner.
 */
#ifndef ANYDNS_LIB_ARENA_H
#define ANYDNS_LIB_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;	/* current chunk, newest first */
	size_t chunk_size;		/* default size of a new chunk */
	size_t allocated;		/* bytes obtained from malloc */
};

/* chunk_size 0 picks a default (64 KiB). Allocates nothing yet. */
void arena_init(struct arena *a, size_t chunk_size);

/* size bytes aligned to 8; NULL when out of memory. Owned by the arena. */
void *arena_alloc(struct arena *a, size_t size);

/* Copy of n bytes of src inside the arena; NULL when out of memory. */
void *arena_memdup(struct arena *a, const void *src, size_t n);

/* Frees everything but the first chunk, which is kept for reuse. */
void arena_reset(struct arena *a);

/* Frees everything; the arena may be used again after arena_init(). */
void arena_free(struct arena *a);

/* Bytes held from the system, for memory metrics. */
size_t arena_size(const struct arena *a);

#endif
