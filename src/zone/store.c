/*
 * The stored copy of a zone: what a secondary serves from after a restart
 * until its primary answers. The zone is written as a master file (RFC
 * 1035 §5) that zone_load_file() reads back equal whatever its types:
 * every record on one line with its absolute owner name, TTL and class,
 * its type as TYPEnnn and its RDATA in the generic form of RFC 3597 §5
 * ("\# length hex"), the apex SOA first. TYPEnnn rather than mnemonics
 * because libzscanner 3 does not know every type a transfer can bring
 * (MD, WKS, NXT, A6, HIP...) and reads any type number in generic form.
 *
 * The file is written as PATH.tmp in the same directory, fsync'd, renamed
 * over PATH and the directory fsync'd: after a crash PATH is the old copy
 * or the new one, never a mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libzscanner/scanner.h>

#include "lib/file.h"
#include "zone/zone.h"

/* A line: owner, TTL, class, type, "\# 65535 " and the hex with a space
 * every WORD octets. */
#define WORD 32
#define LINE_CAP (DNS_NAME_STRLEN + 64 + 2 * 65535 + 65535 / WORD + 2)

/*
 * Whether libzscanner reads "\# 0" for type: it does for types it does
 * not know but not for the ones it does (libzscanner 3.2: "invalid
 * number"), and empty RDATA has no other form. Asked of libzscanner
 * itself, so a version that learns a type stays right.
 */
static bool empty_rdata_readable(uint16_t type)
{
	char text[64];
	int n = snprintf(text, sizeof(text), ". 0 IN TYPE%u \\# 0\n", type);
	zs_scanner_t *s = malloc(sizeof(*s));
	bool ok = false;
	if (s == NULL)
		return false;
	if (zs_init(s, ".", DNS_CLASS_IN, 0) == 0 &&
	    zs_set_input_string(s, text, (size_t)n) == 0)
		ok = zs_parse_record(s) == 0 && s->state == ZS_STATE_DATA &&
		     s->r_data_length == 0;
	zs_deinit(s);
	free(s);
	return ok;
}

static size_t put_hex(char *p, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *start = p;
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && i % WORD == 0)
			*p++ = ' ';
		*p++ = digits[data[i] >> 4];
		*p++ = digits[data[i] & 0xf];
	}
	return (size_t)(p - start);
}

struct writer {
	FILE *f;
	char *line;
	const char *zone;	/* presentation form, for errors */
	char *err;
	size_t errlen;
};

/* Writes the records of rs owned by owner (presentation form). 0, -errno
 * or ANYDNS_EINVAL with a reason in w->err. */
static int write_rrset(struct writer *w, const char *owner,
		       const struct zone_rrset *rs)
{
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t len;
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &len)) {
		if (len == 0 && !empty_rdata_readable(rs->type)) {
			char type[16];
			snprintf(w->err, w->errlen, "zone %s: %s %s has empty "
				 "RDATA, which libzscanner cannot read back",
				 w->zone, owner, dns_rrtype_to_str(rs->type, type));
			return ANYDNS_EINVAL;
		}
		int n = snprintf(w->line, LINE_CAP, "%s %u IN TYPE%u \\# %u%s",
				 owner, rs->ttl, rs->type, len, len > 0 ? " " : "");
		size_t l = (size_t)n + put_hex(w->line + n, rd, len);
		w->line[l++] = '\n';
		if (fwrite(w->line, 1, l, w->f) != l)
			return errno != 0 ? -errno : ANYDNS_EIO;
	}
	return 0;
}

static int write_zone(struct writer *w, const struct zone *z)
{
	char owner[DNS_NAME_STRLEN];
	errno = 0;
	if (fprintf(w->f, "; zone %s, serial %u: the copy anydns stored, every "
		    "record in the\n; generic form of RFC 3597 section 5\n"
		    "$ORIGIN .\n", w->zone, z->serial) < 0)
		return errno != 0 ? -errno : ANYDNS_EIO;
	dns_name_to_str(owner, z->apex_name);
	int ret = write_rrset(w, owner, z->soa);
	for (size_t i = 0; ret == 0 && i < z->node_count; i++) {
		const struct zone_node *n = z->nodes[i];
		if (n->rrset_count == 0)
			continue;
		dns_name_to_str(owner, n->name);
		for (size_t k = 0; ret == 0 && k < n->rrset_count; k++)
			if (&n->rrsets[k] != z->soa)
				ret = write_rrset(w, owner, &n->rrsets[k]);
	}
	return ret;
}

int zone_write_file(const struct zone *z, const char *path, char *err,
		    size_t errlen)
{
	char dummy[1];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (z->servfail || z->soa == NULL) {
		snprintf(err, errlen, "zone %s has no data to write",
			 z->name_str);
		return ANYDNS_EINVAL;
	}
	struct writer w = { .zone = z->name_str, .err = err, .errlen = errlen };
	char *tmp = file_tmp_path(path);
	w.line = malloc(LINE_CAP);
	int ret = 0, fd = -1;
	bool renamed = false;
	if (tmp == NULL || w.line == NULL) {
		ret = ANYDNS_ENOMEM;
		snprintf(err, errlen, "cannot write %s: %s", path,
			 anydns_strerror(ret));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		w.f = fdopen(fd, "w");
	if (w.f == NULL) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 anydns_strerror(ret));
		goto out;
	}
	fd = -1;	/* the stream owns it now */
	/* Fewer, larger writes for a zone of millions of lines. */
	setvbuf(w.f, NULL, _IOFBF, 1 << 16);
	ret = write_zone(&w, z);
	if (ret == 0 && fflush(w.f) != 0)
		ret = -errno;
	if (ret == 0 && fsync(fileno(w.f)) != 0)
		ret = -errno;
	if (fclose(w.f) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot write %s: %s", tmp,
				 anydns_strerror(ret));
		goto out;
	}
	renamed = true;
	ret = file_fsync_dir(path);
	if (ret != 0)
		snprintf(err, errlen, "%s written, but its directory not "
			 "synced: %s", path, anydns_strerror(ret));
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL && !renamed)
		unlink(tmp);
	free(tmp);
	free(w.line);
	return ret;
}
