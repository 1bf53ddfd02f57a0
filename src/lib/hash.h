/*
 * Non-cryptographic hashing for in-memory tables (zone nodes, zone sets).
 * Keys come from outside (query names), so tables are seeded per process to
 * make collision flooding impractical.
 */
#ifndef ANYDNS_LIB_HASH_H
#define ANYDNS_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Process-wide random seed, set once at startup (hash_seed_init()). */
extern uint64_t hash_seed;

void hash_seed_init(void);

uint64_t hash_bytes(const void *data, size_t len);

#endif
