/*
 * What the tests of the files src/zone writes (test_zone_journal.c,
 * test_zone_store.c) share, as static inline functions because every .c
 * file beside the tests is linked into every test: a scratch directory
 * that the group setup makes and the group teardown empties and removes,
 * paths in it, and whole files written and read back. Included after
 * <cmocka.h>.
 */
#ifndef ANYDNS_TESTS_UNIT_FILE_TEST_H
#define ANYDNS_TESTS_UNIT_FILE_TEST_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 512

/* The scratch directory, made by scratch_setup(). */
static char scratch_dir[] = "/tmp/anydns-unit-XXXXXX";

/* cmocka group setup: makes the scratch directory. */
static inline int scratch_setup(void **state)
{
	(void)state;
	return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

/* cmocka group teardown: removes everything made in the scratch
 * directory (files and the odd directory), then the directory. */
static inline int scratch_teardown(void **state)
{
	(void)state;
	DIR *d = opendir(scratch_dir);
	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[PATH_CAP];
		snprintf(p, sizeof(p), "%s/%s", scratch_dir, e->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	closedir(d);
	return rmdir(scratch_dir);
}

/* The path of name in the scratch directory into p (PATH_CAP octets). */
static inline void in_dir(char *p, const char *name)
{
	snprintf(p, PATH_CAP, "%s/%s", scratch_dir, name);
}

static inline void put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, NUL-terminated (free it); its length in *len unless
 * len is NULL. Fails the test when the file cannot be read. */
static inline void *get_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* Fails unless the file at path holds exactly the len octets of data. */
static inline void assert_file_holds(const char *path, const void *data,
				     size_t len)
{
	size_t got_len;
	void *got = get_file(path, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
}

static inline size_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static inline bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

#endif
