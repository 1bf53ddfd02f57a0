/*
 * The journal of one zone: the difference sequences of RFC 1995 §4 that
 * led to its recent versions, kept in one file so that IXFR can be served
 * after a restart. A diff is appended and fsync'd before the version it
 * leads to is served or announced; at start-up the file is read back,
 * every record checked in full (the file is outside input: it may be torn
 * by a crash or damaged on disk), and whatever follows the last good
 * record is cut off with a warning.
 *
 * File format, every integer in network byte order:
 *
 *   header    "ANYDNSJ1"      8  magic
 *             version         2  1
 *             apex length     1  L, 1 to 255
 *             apex            L  the zone apex, lowercase wire form
 *             checksum        4  CRC-32C of the octets above
 *
 *   records, one per diff, oldest first:
 *             magic           4  "JREC"
 *             length          4  of the whole record, magic to checksum
 *             from serial     4
 *             to serial       4
 *             removed count   4  records removed, the old SOA included
 *             added count     4  records added, the new SOA included
 *             added offset    4  where in data the first added record is
 *             data            n  the diff's records as struct zone_diff
 *                                holds them: owner (lowercase, never
 *                                compressed), type, class, TTL, RDLENGTH,
 *                                RDATA; the removed ones, then the added
 *             checksum        4  CRC-32C of the record's octets above
 *
 * CRC-32C is the Castagnoli CRC of RFC 3720 §12.1 (B.4): polynomial
 * 0x1EDC6F41, reflected, initial value and final XOR all ones.
 *
 * A record is accepted only if it is whole, its checksum matches, its data
 * holds exactly the records counted (each with a valid lowercase
 * uncompressed owner at or below the apex, class IN, RDATA well formed
 * for its type, RDLENGTH within the record), the added part starts at the
 * added offset, the first removed and the first added records are the
 * apex SOAs carrying the from and to serials and no other record is an
 * SOA, and its from serial is the previous record's to. The first record
 * that is not ends the valid prefix: a later one cannot be applied
 * without it. A file shorter than the header whose octets begin it (one
 * torn while being created) is an empty journal; any other header is
 * another zone's or another format's, and the file is left alone.
 *
 * When the file grows past max_size, the newest diffs that fit in half of
 * it (at least the newest one) are written to PATH.tmp, which is fsync'd
 * and renamed over the journal, and the directory fsync'd: a crash leaves
 * either file whole (and a PATH.tmp, removed at the next open). A
 * max_size of 0 means no limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "zone/zone.h"

#define JOURNAL_MAGIC "ANYDNSJ1"
#define JOURNAL_MAGIC_LEN 8
#define JOURNAL_VERSION 1u
#define HEADER_FIXED (JOURNAL_MAGIC_LEN + 2 + 1)	/* before the apex */
#define HEADER_MAX (HEADER_FIXED + DNS_NAME_MAXLEN + 4)
#define REC_MAGIC 0x4a524543u				/* "JREC" */
#define REC_HEAD 28					/* magic to added offset */
#define REC_OVERHEAD (REC_HEAD + 4)			/* and the checksum */

struct zone_journal {
	char *path;
	int fd;
	uint8_t apex[DNS_NAME_MAXLEN];	/* lowercase */
	size_t apex_len;
	char zone[DNS_NAME_STRLEN];	/* presentation form, for logs */
	uint8_t header[HEADER_MAX];
	size_t header_len;
	size_t max_size;		/* 0: no limit */
	size_t size;			/* of the file: header, whole records */
	struct zone_diff **diffs;	/* oldest first; a reference each */
	size_t count, cap;
};

/* ---- CRC-32C ------------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	uint32_t c = 0xffffffffu;
	while (n-- > 0)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* ---- Reading ------------------------------------------------------------- */

/*
 * Length of the uncompressed wire name at p (at most avail octets), or 0
 * when there is none: a label type other than 0 (a compression pointer
 * included), a name over 255 octets, one running past avail, or, with
 * lower, an uppercase letter.
 */
static size_t name_check(const uint8_t *p, size_t avail, bool lower)
{
	size_t n = 0;
	for (;;) {
		if (n >= avail)
			return 0;
		uint8_t l = p[n];
		if (l > DNS_LABEL_MAXLEN || n + 1 + l > DNS_NAME_MAXLEN ||
		    n + 1 + l > avail)
			return 0;
		if (l == 0)
			return n + 1;
		for (size_t i = n + 1; lower && i <= n + l; i++)
			if (p[i] >= 'A' && p[i] <= 'Z')
				return 0;
		n += 1 + (size_t)l;
	}
}

static size_t header_make(uint8_t *h, const uint8_t *lapex, size_t apex_len)
{
	memcpy(h, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN);
	wire_put_u16(h + JOURNAL_MAGIC_LEN, JOURNAL_VERSION);
	h[JOURNAL_MAGIC_LEN + 2] = (uint8_t)apex_len;
	memcpy(h + HEADER_FIXED, lapex, apex_len);
	wire_put_u32(h + HEADER_FIXED + apex_len,
		     crc32c(h, HEADER_FIXED + apex_len));
	return HEADER_FIXED + apex_len + 4;
}

/* Why data, whose first octets differ from the header h expected, is not
 * our journal. */
static void header_mismatch(const uint8_t *data, size_t len, const uint8_t *h,
			    size_t hlen, char *why, size_t whylen)
{
	size_t m = 0;
	while (m < len && m < hlen && data[m] == h[m])
		m++;
	if (m < JOURNAL_MAGIC_LEN) {
		snprintf(why, whylen, "not an anydns journal");
	} else if (m < HEADER_FIXED - 1) {
		if (len >= HEADER_FIXED - 1)
			snprintf(why, whylen, "format version %u, expected %u",
				 (unsigned)wire_get_u16(data + JOURNAL_MAGIC_LEN),
				 JOURNAL_VERSION);
		else
			snprintf(why, whylen, "unknown format version");
	} else if (m < hlen - 4) {
		size_t l = data[HEADER_FIXED - 1];
		size_t n = len > HEADER_FIXED ? len - HEADER_FIXED : 0;
		if (n > l)
			n = l;
		char other[DNS_NAME_STRLEN];
		if (l > 0 && name_check(data + HEADER_FIXED, n, false) == l) {
			dns_name_to_str(other, data + HEADER_FIXED);
			snprintf(why, whylen, "a journal of zone %s", other);
		} else {
			snprintf(why, whylen, "a journal of another zone");
		}
	} else {
		snprintf(why, whylen, "header checksum mismatch");
	}
}

/* One record as read from a journal image. */
struct jrec {
	uint32_t from, to, removed, added, added_at;
	const uint8_t *data;
	size_t len;		/* of data */
	size_t total;		/* of the whole record */
};

/*
 * Checks the records of a diff (data[0..len)) against its counts, added
 * offset and serials. NULL when they agree, else what is wrong.
 */
static const char *diff_check(const uint8_t *data, size_t len,
			      uint32_t removed, uint32_t added, size_t added_at,
			      uint32_t from, uint32_t to, const uint8_t *lapex)
{
	if (removed == 0 || added == 0)
		return "a diff without its two SOA records";
	uint64_t total = (uint64_t)removed + added, i = 0;
	struct wire_ctx c;
	wire_init(&c, data, len);
	while (wire_avail(&c) > 0) {
		if (i == total)
			return "more records than counted";
		if (i == removed && wire_offset(&c) != added_at)
			return "added records not at the added offset";
		size_t nlen = name_check(c.pos, wire_avail(&c), true);
		if (nlen == 0)
			return "malformed or uppercase owner name";
		const uint8_t *owner = wire_take(&c, nlen);
		uint16_t type = wire_read_u16(&c);
		uint16_t rclass = wire_read_u16(&c);
		(void)wire_read_u32(&c);
		uint16_t rdlen = wire_read_u16(&c);
		const uint8_t *rdata = wire_take(&c, rdlen);
		if (c.err != 0)
			return "record runs past the data";
		if (rclass != DNS_CLASS_IN)
			return "record of a class other than IN";
		if (!dns_name_is_subdomain(owner, lapex))
			return "record outside the zone";
		if (dns_rdata_check(type, rdata, rdlen) != 0)
			return "malformed RDATA";
		bool soa_place = i == 0 || i == removed;
		if (soa_place && type != DNS_TYPE_SOA)
			return "removed or added records not led by an SOA";
		if (!soa_place && type == DNS_TYPE_SOA)
			return "an SOA among the removed or added records";
		if (soa_place) {
			if (!dns_name_equal(owner, lapex))
				return "SOA not at the apex";
			/* RDATA checked: the 20 fixed octets end it. */
			uint32_t serial = wire_get_u32(rdata + rdlen - 20);
			if (serial != (i == 0 ? from : to))
				return "SOA serial differs from the record's";
		}
		i++;
	}
	if (i != total)
		return "fewer records than counted";
	return NULL;
}

/* Reads the record at p (avail octets left in the image) into r: NULL, or
 * why there is no good record there. */
static const char *record_read(const uint8_t *p, size_t avail,
			       const uint8_t *lapex, struct jrec *r)
{
	struct wire_ctx c;
	wire_init(&c, p, avail);
	uint32_t magic = wire_read_u32(&c);
	uint32_t total = wire_read_u32(&c);
	if (c.err != 0)
		return "truncated record";
	if (magic != REC_MAGIC)
		return "bad record magic";
	if (total < REC_OVERHEAD)
		return "bad record length";
	if (total > avail)
		return "truncated record";
	if (crc32c(p, total - 4) != wire_get_u32(p + total - 4))
		return "checksum mismatch";
	r->from = wire_read_u32(&c);
	r->to = wire_read_u32(&c);
	r->removed = wire_read_u32(&c);
	r->added = wire_read_u32(&c);
	r->added_at = wire_read_u32(&c);
	r->len = total - REC_OVERHEAD;
	r->data = wire_take(&c, r->len);
	r->total = total;
	if (c.err != 0)
		return "truncated record";
	return diff_check(r->data, r->len, r->removed, r->added, r->added_at,
			  r->from, r->to, lapex);
}

static int diffs_reserve(struct zone_journal *j)
{
	if (j->count < j->cap)
		return 0;
	size_t cap = j->cap ? j->cap * 2 : 16;
	struct zone_diff **d = realloc(j->diffs, cap * sizeof(*d));
	if (d == NULL)
		return ANYDNS_ENOMEM;
	j->diffs = d;
	j->cap = cap;
	return 0;
}

static int keep_record(struct zone_journal *j, const struct jrec *r)
{
	if (diffs_reserve(j) != 0)
		return ANYDNS_ENOMEM;
	/* A zone_diff is always one malloc'd block: the struct immediately
	 * followed by its data (d->data == (const uint8_t *)(d + 1)), freed
	 * by one free(d) at the last zone_diff_unref() (diff.c). Every
	 * maker of diffs (its builder, condense, this reader) keeps to it. */
	struct zone_diff *d = malloc(sizeof(*d) + r->len);
	if (d == NULL)
		return ANYDNS_ENOMEM;
	memcpy(d + 1, r->data, r->len);
	d->from = r->from;
	d->to = r->to;
	d->removed = r->removed;
	d->added = r->added;
	d->data = (const uint8_t *)(d + 1);
	d->len = r->len;
	d->added_at = r->added_at;
	d->refs = 1;
	j->diffs[j->count++] = d;
	return 0;
}

/* What reading a journal image found. */
struct jread {
	size_t valid;		/* length of the well-formed prefix */
	const char *why;	/* why reading stopped early, or NULL */
	char reason[DNS_NAME_STRLEN + 64];	/* for ANYDNS_EJOURNAL */
};

/*
 * Reads the journal image data[0..len) of the zone whose header is h
 * (hlen octets; lapex the apex in it). With keep, every good diff is
 * added to keep's list. Returns the number of good diffs, ANYDNS_EJOURNAL
 * (r->reason says why) or ANYDNS_ENOMEM. An image shorter than the header
 * but a prefix of it (an empty file, a header torn while created) has no
 * diffs and a valid length of 0.
 */
static long journal_read(const uint8_t *data, size_t len, const uint8_t *h,
			 size_t hlen, const uint8_t *lapex,
			 struct zone_journal *keep, struct jread *r)
{
	r->valid = 0;
	r->why = NULL;
	r->reason[0] = '\0';
	size_t n = len < hlen ? len : hlen;
	if (n > 0 && memcmp(data, h, n) != 0) {
		header_mismatch(data, len, h, hlen, r->reason,
				sizeof(r->reason));
		return ANYDNS_EJOURNAL;
	}
	if (len < hlen) {
		if (len > 0)
			r->why = "truncated header";
		return 0;
	}
	size_t off = hlen;
	long count = 0;
	uint32_t prev_to = 0;
	while (off < len) {
		struct jrec rec = { 0 };
		const char *why = record_read(data + off, len - off, lapex, &rec);
		if (why == NULL && count > 0 && rec.from != prev_to)
			why = "serial does not follow the previous record's";
		if (why != NULL) {
			r->why = why;
			break;
		}
		if (keep != NULL && keep_record(keep, &rec) != 0)
			return ANYDNS_ENOMEM;
		prev_to = rec.to;
		off += rec.total;
		count++;
	}
	r->valid = off;
	return count;
}

long zone_journal_parse(const uint8_t *data, size_t len, const uint8_t *apex,
			size_t *valid)
{
	uint8_t lapex[DNS_NAME_MAXLEN], h[HEADER_MAX];
	size_t apex_len = dns_name_copy_lower(lapex, apex);
	size_t hlen = header_make(h, lapex, apex_len);
	struct jread r;
	long n = journal_read(data, len, h, hlen, lapex, NULL, &r);
	if (valid != NULL)
		*valid = r.valid;
	return n;
}

/* ---- Files --------------------------------------------------------------- */

static int pwrite_all(int fd, const uint8_t *p, size_t len, size_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return ANYDNS_EIO;
		p += n;
		len -= (size_t)n;
		off += (size_t)n;
	}
	return 0;
}

/* The whole file into *out (malloc'd). */
static int read_all(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return ANYDNS_EINVAL;
	size_t size = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(size > 0 ? size : 1);
	if (buf == NULL)
		return ANYDNS_ENOMEM;
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int ret = -errno;
			free(buf);
			return ret;
		}
		if (n == 0)
			break;	/* shrunk meanwhile: read what is there */
		got += (size_t)n;
	}
	*out = buf;
	*len = got;
	return 0;
}

static void journal_free(struct zone_journal *j)
{
	for (size_t i = 0; i < j->count; i++)
		zone_diff_unref(j->diffs[i]);
	free(j->diffs);
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}

static size_t record_size(const struct zone_diff *d)
{
	return REC_OVERHEAD + d->len;
}

/* Writes d's record at p (record_size(d) octets). */
static void record_encode(uint8_t *p, const struct zone_diff *d)
{
	size_t total = record_size(d);
	wire_put_u32(p, REC_MAGIC);
	wire_put_u32(p + 4, (uint32_t)total);
	wire_put_u32(p + 8, d->from);
	wire_put_u32(p + 12, d->to);
	wire_put_u32(p + 16, d->removed);
	wire_put_u32(p + 20, d->added);
	wire_put_u32(p + 24, (uint32_t)d->added_at);
	memcpy(p + REC_HEAD, d->data, d->len);
	wire_put_u32(p + total - 4, crc32c(p, total - 4));
}

/* Makes the file hold the header alone, durably; a file just created
 * needs its directory entry synced too. */
static int write_header(struct zone_journal *j, bool created)
{
	if (ftruncate(j->fd, 0) != 0)
		return -errno;
	int ret = pwrite_all(j->fd, j->header, j->header_len, 0);
	if (ret == 0 && fsync(j->fd) != 0)
		ret = -errno;
	if (ret == 0 && created)
		ret = file_fsync_dir(j->path);
	if (ret == 0)
		j->size = j->header_len;
	return ret;
}

int zone_journal_open(const char *path, const uint8_t *apex, size_t max_size,
		      struct zone_journal **out, char *err, size_t errlen)
{
	char dummy[1];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	struct zone_journal *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return ANYDNS_ENOMEM;
	j->fd = -1;
	j->max_size = max_size;
	j->apex_len = dns_name_copy_lower(j->apex, apex);
	dns_name_to_str(j->zone, j->apex);
	j->header_len = header_make(j->header, j->apex, j->apex_len);
	j->path = strdup(path);
	if (j->path == NULL) {
		journal_free(j);
		return ANYDNS_ENOMEM;
	}

	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;
	j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open journal %s: %s", path,
			 anydns_strerror(ret));
		goto fail;
	}
	/* What a compaction cut short by a crash left: the journal itself
	 * is whole, the file beside it is of no use. */
	char *tmp = file_tmp_path(path);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	ret = read_all(j->fd, &buf, &len);
	if (ret == ANYDNS_EINVAL) {
		snprintf(err, errlen, "journal %s: not a regular file", path);
		ret = ANYDNS_EJOURNAL;
		goto fail;
	}
	if (ret != 0) {
		snprintf(err, errlen, "cannot read journal %s: %s", path,
			 anydns_strerror(ret));
		goto fail;
	}
	struct jread r;
	long n = journal_read(buf, len, j->header, j->header_len, j->apex, j,
			      &r);
	free(buf);
	if (n < 0) {
		ret = (int)n;
		if (ret == ANYDNS_EJOURNAL)
			snprintf(err, errlen, "journal %s for zone %s: %s",
				 path, j->zone, r.reason);
		else
			snprintf(err, errlen, "cannot read journal %s: %s",
				 path, anydns_strerror(ret));
		goto fail;
	}
	if (r.why != NULL)
		log_warn("journal %s: zone %s: %s, cut at offset %zu (%zu "
			 "octets dropped)", path, j->zone, r.why, r.valid,
			 len - r.valid);
	if (r.valid < j->header_len) {
		ret = write_header(j, len == 0);
	} else if (r.valid < len) {
		if (ftruncate(j->fd, (off_t)r.valid) != 0 || fsync(j->fd) != 0)
			ret = -errno;
		j->size = r.valid;
	} else {
		j->size = len;
	}
	if (ret != 0) {
		snprintf(err, errlen, "cannot write journal %s: %s", path,
			 anydns_strerror(ret));
		goto fail;
	}
	if (j->count > 0)
		log_debug("journal %s: zone %s: %zu diffs, serials %u to %u",
			  path, j->zone, j->count, j->diffs[0]->from,
			  j->diffs[j->count - 1]->to);
	*out = j;
	return 0;
fail:
	journal_free(j);
	return ret;
}

/*
 * Rewrites the journal with its newest diffs only: those that fit in half
 * of max_size with the header, at least the newest. The new file is made
 * beside and renamed over the old, so a crash leaves one or the other.
 */
static int compact(struct zone_journal *j)
{
	size_t keep_from = j->count - 1;
	size_t total = j->header_len + record_size(j->diffs[keep_from]);
	while (keep_from > 0 &&
	       total + record_size(j->diffs[keep_from - 1]) <= j->max_size / 2) {
		keep_from--;
		total += record_size(j->diffs[keep_from]);
	}
	if (keep_from == 0)
		return 0;

	int ret = 0, fd = -1;
	bool renamed = false;
	char *tmp = file_tmp_path(j->path);
	uint8_t *buf = malloc(total);
	if (tmp == NULL || buf == NULL) {
		ret = ANYDNS_ENOMEM;
		goto out;
	}
	memcpy(buf, j->header, j->header_len);
	for (size_t i = keep_from, off = j->header_len; i < j->count; i++) {
		record_encode(buf + off, j->diffs[i]);
		off += record_size(j->diffs[i]);
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = pwrite_all(fd, buf, total, 0);
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, j->path) != 0)
		ret = -errno;
	if (ret != 0)
		goto out;
	renamed = true;
	/* The rename is done: the file at path is the new one whatever the
	 * directory sync says, so the journal follows it. */
	ret = file_fsync_dir(j->path);
	close(j->fd);
	j->fd = fd;
	fd = -1;
	for (size_t i = 0; i < keep_from; i++)
		zone_diff_unref(j->diffs[i]);
	memmove(j->diffs, j->diffs + keep_from,
		(j->count - keep_from) * sizeof(*j->diffs));
	j->count -= keep_from;
	log_info("journal %s: zone %s: compacted from %zu to %zu octets, "
		 "%zu diffs dropped, serials %u to %u kept", j->path, j->zone,
		 j->size, total, keep_from, j->diffs[0]->from,
		 j->diffs[j->count - 1]->to);
	j->size = total;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL && !renamed)
		unlink(tmp);
	free(tmp);
	free(buf);
	return ret;
}

int zone_journal_append(struct zone_journal *j, struct zone_diff *d)
{
	if (j->count > 0 && d->from != j->diffs[j->count - 1]->to)
		return ANYDNS_EINVAL;
	/* A diff the next open would reject must not be written: it would
	 * cut off every later one too. */
	if (d->len > UINT32_MAX - REC_OVERHEAD || d->added_at > d->len ||
	    diff_check(d->data, d->len, d->removed, d->added, d->added_at,
		       d->from, d->to, j->apex) != NULL)
		return ANYDNS_EINVAL;
	if (diffs_reserve(j) != 0)
		return ANYDNS_ENOMEM;
	size_t rlen = record_size(d);
	uint8_t *buf = malloc(rlen);
	if (buf == NULL)
		return ANYDNS_ENOMEM;
	record_encode(buf, d);
	int ret = pwrite_all(j->fd, buf, rlen, j->size);
	if (ret == 0 && fdatasync(j->fd) != 0)
		ret = -errno;
	free(buf);
	if (ret != 0) {
		/* Cut back whatever part reached the file: the next record
		 * must follow the last whole one. */
		if (ftruncate(j->fd, (off_t)j->size) != 0)
			log_err("journal %s: zone %s: cannot cut back a failed "
				"append: %s", j->path, j->zone,
				anydns_strerror(-errno));
		return ret;
	}
	zone_diff_ref(d);
	j->diffs[j->count++] = d;
	j->size += rlen;
	if (j->max_size > 0 && j->size > j->max_size) {
		/* The diff is safe in the file either way; a journal that
		 * could not be compacted is only larger. */
		int c = compact(j);
		if (c != 0)
			log_warn("journal %s: zone %s: cannot compact: %s",
				 j->path, j->zone, anydns_strerror(c));
	}
	return 0;
}

int zone_journal_clear(struct zone_journal *j)
{
	if (ftruncate(j->fd, (off_t)j->header_len) != 0)
		return -errno;
	for (size_t i = 0; i < j->count; i++)
		zone_diff_unref(j->diffs[i]);
	j->count = 0;
	j->size = j->header_len;
	return fsync(j->fd) == 0 ? 0 : -errno;
}

struct zone_diff *const *zone_journal_diffs(const struct zone_journal *j,
					    size_t *n)
{
	*n = j->count;
	return j->diffs;
}

size_t zone_journal_size(const struct zone_journal *j)
{
	return j->size;
}

void zone_journal_close(struct zone_journal *j)
{
	if (j != NULL)
		journal_free(j);
}
