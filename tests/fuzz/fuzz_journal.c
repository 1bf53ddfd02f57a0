/*
 * Fuzz target: a journal image through zone_journal_parse() for the zone
 * "example.", the reader zone_journal_open() runs on whatever file it
 * finds at start-up. When the image holds diffs it is also opened as a
 * file (a memfd): open must keep as many diffs and cut the file to the
 * valid length, every diff must walk with zone_diff_rr_next() to exactly
 * its removed + added records, and appending the diffs to a new journal
 * must rebuild the valid prefix octet for octet. Each input is tried a
 * second time with every checksum made right, so that the checks of a
 * record's content are reached by more than the odd lucky input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "zone/zone.h"

/* The header of a journal of "example.": magic, version, apex length,
 * apex, checksum. */
#define HLEN (8 + 2 + 1 + 9 + 4)

static const uint8_t apex[] = "\x07" "example";

/* A memfd holding data[0..len), or -1. */
static int memfile(const uint8_t *data, size_t len, char *path, size_t cap)
{
	int fd = memfd_create("fuzz-journal", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

static void check_diff(const struct zone_diff *d)
{
	const uint8_t *pos = d->data, *end = d->data + d->len;
	struct zone_diff_rr rr;
	uint64_t n = 0;
	while (zone_diff_rr_next(&pos, end, &rr)) {
		if (n == d->removed && rr.owner != d->data + d->added_at)
			__builtin_trap();
		if ((n == 0 || n == d->removed) != (rr.type == DNS_TYPE_SOA))
			__builtin_trap();
		n++;
	}
	if (pos != end || n != (uint64_t)d->removed + d->added)
		__builtin_trap();
}

/* Appending diffs to a journal holding the header alone writes image. */
static void check_rebuild(struct zone_diff *const *diffs, size_t n,
			  const uint8_t *image, size_t len)
{
	char path[64];
	int fd = memfile(image, HLEN, path, sizeof(path));
	if (fd < 0)
		return;
	struct zone_journal *j = NULL;
	if (zone_journal_open(path, apex, SIZE_MAX, &j, NULL, 0) == 0) {
		for (size_t i = 0; i < n; i++)
			if (zone_journal_append(j, diffs[i]) != 0)
				__builtin_trap();
		uint8_t *back = malloc(len);
		if (back != NULL) {
			if (zone_journal_size(j) != len ||
			    pread(fd, back, len, 0) != (ssize_t)len ||
			    memcmp(back, image, len) != 0)
				__builtin_trap();
			free(back);
		}
		zone_journal_close(j);
	}
	close(fd);
}

/* CRC-32C (RFC 3720 §12.1) bit by bit: the journal's own is not public. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Rewrites the header's checksum and every record's, following the
 * length fields while they stay inside the image. */
static void fix_checksums(uint8_t *p, size_t len)
{
	if (len < HLEN)
		return;
	put32(p + HLEN - 4, crc32c(p, HLEN - 4));
	for (size_t off = HLEN; len - off >= 32;) {
		uint32_t total = ((uint32_t)p[off + 4] << 24) |
				 ((uint32_t)p[off + 5] << 16) |
				 ((uint32_t)p[off + 6] << 8) | p[off + 7];
		if (total < 32 || total > len - off)
			break;
		put32(p + off + total - 4, crc32c(p + off, total - 4));
		off += total;
	}
}

static void one(const uint8_t *data, size_t size)
{
	size_t valid = SIZE_MAX;
	long n = zone_journal_parse(data, size, apex, &valid);
	if (n == ANYDNS_EJOURNAL)
		return;
	if (n < 0 || valid > size || (n > 0 && valid < HLEN))
		__builtin_trap();
	if (n == 0)
		return;

	char path[64];
	int fd = memfile(data, size, path, sizeof(path));
	if (fd < 0)
		return;
	struct zone_journal *j = NULL;
	if (zone_journal_open(path, apex, SIZE_MAX, &j, NULL, 0) == 0) {
		size_t m;
		struct zone_diff *const *diffs = zone_journal_diffs(j, &m);
		if (m != (size_t)n || zone_journal_size(j) != valid ||
		    lseek(fd, 0, SEEK_END) != (off_t)valid)
			__builtin_trap();
		for (size_t i = 0; i < m; i++)
			check_diff(diffs[i]);
		check_rebuild(diffs, m, data, valid);
		zone_journal_close(j);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_LVL_SILENT);
	if (size > 1 << 20)
		return 0;
	one(data, size);
	uint8_t *fixed = malloc(size > 0 ? size : 1);
	if (fixed == NULL)
		return 0;
	if (size > 0)
		memcpy(fixed, data, size);
	fix_checksums(fixed, size);
	one(fixed, size);
	free(fixed);
	return 0;
}
