/*
 * Helpers for the data-driven unit tests: reading case files under
 * tests/unit/data/ and turning hex into octets. Included after <cmocka.h>;
 * static inline because every .c file beside the tests is linked into
 * every test.
 */
#ifndef ANYDNS_TESTS_UNIT_DATA_H
#define ANYDNS_TESTS_UNIT_DATA_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Hex digits to octets; "_" separates fields for the reader and is
 * skipped, a lone "-" is empty. Fails the test on bad input. */
static inline size_t unhex(uint8_t *dst, size_t cap, const char *hex)
{
	size_t n = 0;
	if (strcmp(hex, "-") == 0)
		return 0;
	for (const char *p = hex; *p != '\0';) {
		if (*p == '_') {
			p++;
			continue;
		}
		unsigned v;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			fail_msg("bad hex near \"%s\"", p);
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		assert_true(n < cap);
		dst[n++] = (uint8_t)v;
		p += 2;
	}
	return n;
}

/* Next data line of f without its newline, skipping comments and blanks. */
static inline bool next_line(FILE *f, char *line, size_t cap)
{
	while (fgets(line, (int)cap, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '#' && line[0] != '\0')
			return true;
	}
	return false;
}

static inline FILE *open_data(const char *name)
{
	FILE *f = fopen(name, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", name);
	return f;
}

#endif
