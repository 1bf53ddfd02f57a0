/*
 * Fuzz target: a configuration file through conf_load_buffer() (libyaml's
 * parser, the schema-driven loader and every validator). A file that loads
 * must print (conf_print()) to YAML that loads back to an equal
 * configuration and prints the same again: the round trip `anydnsd -n`
 * relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf a, b;
	char err[512];
	char *first = NULL, *second = NULL;
	size_t first_len = 0, second_len = 0;

	if (size > 1 << 20)
		return 0;
	if (conf_load_buffer((const char *)data, size, "fuzz", "/base", &a, err,
			     sizeof(err)) != 0)
		return 0;
	FILE *f = open_memstream(&first, &first_len);
	if (f == NULL)
		goto out_a;
	conf_print(f, &a);
	fclose(f);
	if (conf_load_buffer(first, first_len, "printed", "/base", &b, err,
			     sizeof(err)) != 0) {
		fprintf(stderr, "printed form does not load: %s\n%s", err, first);
		__builtin_trap();
	}
	if (!conf_equal(&a, &b))
		__builtin_trap();
	f = open_memstream(&second, &second_len);
	if (f != NULL) {
		conf_print(f, &b);
		fclose(f);
		if (second_len != first_len || memcmp(first, second, first_len) != 0)
			__builtin_trap();
	}
	free(second);
	conf_free(&b);
	free(first);
out_a:
	conf_free(&a);
	return 0;
}
