/*
 * Unit tests for lib/arena.h: alignment, growth past a chunk, oversized
 * allocations, reset keeping the first chunk, and the size it reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/hash.h"

static void aligned_and_distinct(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 1024);
	uint8_t *prev = NULL;
	for (size_t i = 1; i < 200; i++) {
		uint8_t *p = arena_alloc(&a, i);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
		memset(p, 0xab, i);	/* ASan checks the whole block is ours */
		assert_ptr_not_equal(p, prev);
		prev = p;
	}
	assert_true(arena_size(&a) > 1024);
	arena_free(&a);
	assert_int_equal(arena_size(&a), 0);
}

static void oversized_blocks(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 4096);
	uint8_t *small = arena_alloc(&a, 16);
	uint8_t *big = arena_alloc(&a, 100000);
	uint8_t *small2 = arena_alloc(&a, 16);
	assert_non_null(big);
	memset(big, 1, 100000);
	/* The big block did not end the current chunk: small ones continue
	 * right after each other. */
	assert_ptr_equal(small2, small + 16);
	const char text[] = "arena";
	char *dup = arena_memdup(&a, text, sizeof(text));
	assert_string_equal(dup, "arena");
	arena_free(&a);
}

static void reset_keeps_first_chunk(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 1024);
	for (int i = 0; i < 100; i++)
		assert_non_null(arena_alloc(&a, 100));
	arena_reset(&a);
	size_t kept = arena_size(&a);
	assert_true(kept > 0 && kept < 2048);
	assert_non_null(arena_alloc(&a, 100));
	assert_int_equal(arena_size(&a), kept);
	arena_free(&a);
}

static void hash_depends_on_every_octet(void **state)
{
	(void)state;
	uint8_t buf[37];
	memset(buf, 'x', sizeof(buf));
	uint64_t base = hash_bytes(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 1;
		assert_true(hash_bytes(buf, sizeof(buf)) != base);
		buf[i] ^= 1;
	}
	assert_true(hash_bytes(buf, 36) != base);
	assert_int_equal(hash_bytes(buf, sizeof(buf)), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aligned_and_distinct),
		cmocka_unit_test(oversized_blocks),
		cmocka_unit_test(reset_keeps_first_chunk),
		cmocka_unit_test(hash_depends_on_every_octet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
