/*
 * The packet cache of a worker: responses to UDP queries kept by the
 * query's octets, so that a query seen before is answered by one hash, one
 * comparison and one copy, without parsing it or walking the zones.
 *
 * Why this is safe: the answer layer is a function of the query message,
 * the zone set it answers from and the server's fixed configuration
 * (RFC 1034 §4.3.2 reads nothing else; RRsets go out in their stored
 * order, never rotated; nothing depends on the time or the client). The
 * key is therefore everything of the query but its ID (octet 2 to the
 * end: flags, counts, the question with its case, the OPT record with the
 * payload size and DO bit), plus the view the destination address picks;
 * the entry holds the generation of the zone set it was answered from
 * and is used only while that set is the one published. What the caller
 * (server_udp_answer()) stores excludes the rest: TSIG, transfers and
 * NOTIFY, the EDNS EXPIRE option, malformed and dropped messages.
 *
 * Layout: entries (a header, the key, the response) are written one after
 * the other into a ring of octets, the oldest overwritten first, so the
 * memory holds as many as their sizes allow: a 60-octet NXDOMAIN takes
 * less room than a 1,200-octet referral, and any response up to the UDP
 * limit can be kept. An index of 64-octet buckets, four ways each, maps
 * the key's hash to an entry's position in the ring. A position counts
 * octets written since the start (it never wraps), so whether the ring
 * has overwritten an entry since is plain arithmetic: it is intact while
 * fewer than the ring's size octets were written after its start. A
 * lookup reads one bucket line and the entry's lines, which follow each
 * other.
 *
 * The worker's thread alone uses its cache: no lock, no allocation after
 * server_cache_new(), whose memory the kernel hands out as it is first
 * written (large calloc()/malloc() blocks are fresh mappings).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "server/internal.h"

#define CACHE_WAYS 4
#define CACHE_ALIGN 16		/* entries start at multiples of this */
/* Longer queries (large options) are not kept: they are rare, and a bound
 * keeps one entry small beside the ring. */
#define CACHE_KEY_MAX 512
/* The share of the memory given to the index: one way per 128 octets,
 * about the size of a small entry. */
#define CACHE_INDEX_SHARE 8

struct cache_way {
	uint64_t hash;		/* of the key and view */
	uint64_t pos;		/* entry's position + 1; 0: empty */
};

struct cache_bucket {
	_Alignas(SERVER_CACHELINE) struct cache_way way[CACHE_WAYS];
};

_Static_assert(sizeof(struct cache_bucket) == SERVER_CACHELINE,
	       "a bucket is one cache line");

/* An entry in the ring: this header, the key, then the response. */
struct cache_entry {
	uint64_t generation;	/* of the zone set answered from */
	uint32_t view;
	uint16_t key_len;
	uint16_t resp_len;
	uint16_t qtype;		/* for the counters */
	uint16_t rcode;
	uint8_t truncated;
	uint8_t data[];
};

struct server_cache {
	struct cache_bucket *buckets;
	void *buckets_raw;	/* as calloc() returned it */
	size_t bucket_mask;
	uint8_t *ring;
	size_t ring_size;	/* a multiple of CACHE_ALIGN */
	uint64_t head;		/* octets ever written: the next position */
};

int server_cache_new(size_t size, struct server_cache **out)
{
	if (size < SERVER_CACHE_MIN)
		return ANYDNS_EINVAL;
	struct server_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ANYDNS_ENOMEM;
	size_t nbuckets = 1;
	while (nbuckets * 2 * sizeof(struct cache_bucket) <=
	       size / CACHE_INDEX_SHARE)
		nbuckets *= 2;
	c->bucket_mask = nbuckets - 1;
	c->ring_size = (size - nbuckets * sizeof(struct cache_bucket)) &
		       ~(size_t)(CACHE_ALIGN - 1);
	/* calloc() for memory left untouched until used: one bucket more,
	 * to start them on a cache line. */
	c->buckets_raw = calloc(nbuckets + 1, sizeof(struct cache_bucket));
	c->ring = malloc(c->ring_size);
	if (c->buckets_raw == NULL || c->ring == NULL) {
		server_cache_free(c);
		return ANYDNS_ENOMEM;
	}
	uintptr_t p = (uintptr_t)c->buckets_raw;
	p = (p + SERVER_CACHELINE - 1) & ~(uintptr_t)(SERVER_CACHELINE - 1);
	c->buckets = (struct cache_bucket *)p;
	*out = c;
	return 0;
}

void server_cache_free(struct server_cache *c)
{
	if (c == NULL)
		return;
	free(c->buckets_raw);
	free(c->ring);
	free(c);
}

/* The entry a way points to, or NULL when empty or overwritten since. */
static struct cache_entry *way_entry(const struct server_cache *c,
				     const struct cache_way *way)
{
	if (way->pos == 0 || c->head - (way->pos - 1) > c->ring_size)
		return NULL;
	return (struct cache_entry *)(void *)(c->ring +
					      (way->pos - 1) % c->ring_size);
}

static uint64_t key_hash(const uint8_t *key, size_t len, uint32_t view)
{
	return hash_bytes(key, len) + view * 0x9e3779b97f4a7c15ULL;
}

size_t server_cache_lookup(struct server_cache *c, uint64_t generation,
			   uint32_t view, const uint8_t *msg, size_t len,
			   uint8_t *resp, size_t cap,
			   struct server_cache_probe *probe,
			   struct server_cache_hit *hit)
{
	probe->key = NULL;
	/* Shorter than a header: dropped, never stored. */
	if (len < DNS_HEADER_LEN || len - 2 > CACHE_KEY_MAX)
		return 0;
	const uint8_t *key = msg + 2;
	size_t key_len = len - 2;
	uint64_t h = key_hash(key, key_len, view);
	const struct cache_bucket *b = &c->buckets[h & c->bucket_mask];
	for (unsigned i = 0; i < CACHE_WAYS; i++) {
		if (b->way[i].hash != h)
			continue;
		const struct cache_entry *e = way_entry(c, &b->way[i]);
		if (e == NULL || e->generation != generation ||
		    e->view != view || e->key_len != key_len ||
		    e->resp_len > cap || memcmp(e->data, key, key_len) != 0)
			continue;
		memcpy(resp, e->data + key_len, e->resp_len);
		resp[0] = msg[0];	/* the ID of this query */
		resp[1] = msg[1];
		hit->qtype = e->qtype;
		hit->res.len = e->resp_len;
		hit->res.rcode = e->rcode;
		hit->res.truncated = e->truncated != 0;
		return e->resp_len;
	}
	probe->key = key;
	probe->key_len = key_len;
	probe->hash = h;
	probe->generation = generation;
	probe->view = view;
	return 0;
}

/* The way of b to store an entry for hash h in: the one that holds h
 * already (an older answer to the same query), else an empty or
 * overwritten one, else the one written longest ago. */
static struct cache_way *way_pick(const struct server_cache *c,
				  struct cache_bucket *b, uint64_t h)
{
	struct cache_way *free_way = NULL, *oldest = &b->way[0];
	for (unsigned i = 0; i < CACHE_WAYS; i++) {
		struct cache_way *way = &b->way[i];
		if (way->hash == h && way->pos != 0)
			return way;
		if (free_way == NULL && way_entry(c, way) == NULL)
			free_way = way;
		if (way->pos < oldest->pos)
			oldest = way;
	}
	return free_way != NULL ? free_way : oldest;
}

void server_cache_store(struct server_cache *c,
			const struct server_cache_probe *probe,
			const uint8_t *resp, const struct server_cache_hit *hit)
{
	size_t resp_len = hit->res.len;
	if (probe->key == NULL || resp_len < DNS_HEADER_LEN)
		return;
	size_t need = (sizeof(struct cache_entry) + probe->key_len + resp_len +
		       CACHE_ALIGN - 1) & ~(size_t)(CACHE_ALIGN - 1);
	/* One entry never takes more than a quarter of the ring. */
	if (need > c->ring_size / 4)
		return;
	size_t off = c->head % c->ring_size;
	if (off + need > c->ring_size) {
		/* Entries are contiguous: skip the end of the ring. */
		c->head += c->ring_size - off;
		off = 0;
	}
	struct cache_way *way = way_pick(c, &c->buckets[probe->hash &
							c->bucket_mask],
					 probe->hash);
	struct cache_entry *e = (struct cache_entry *)(void *)(c->ring + off);
	e->generation = probe->generation;
	e->view = probe->view;
	e->key_len = (uint16_t)probe->key_len;
	e->resp_len = (uint16_t)resp_len;
	e->qtype = hit->qtype;
	e->rcode = hit->res.rcode;
	e->truncated = hit->res.truncated;
	memcpy(e->data, probe->key, probe->key_len);
	memcpy(e->data + probe->key_len, resp, resp_len);
	way->hash = probe->hash;
	way->pos = c->head + 1;
	c->head += need;
}
