/*
 * The zone loader of the control thread: from the set being served and the
 * configured (apex, file) list it builds the next set, reading again only
 * the master files (RFC 1035 §5) whose identity changed and sharing every
 * other zone by reference. A zone whose file fails to load keeps serving
 * its previous version: a reload never takes data away because of a typo,
 * it reports the error and waits for the next one. Serial numbers are
 * compared with RFC 1982 arithmetic only to warn that secondaries would
 * not see a change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "zone/zone.h"

const char *zone_reload_state_str(enum zone_reload_state state)
{
	switch (state) {
	case ZONE_RELOAD_LOADED:
		return "loaded";
	case ZONE_RELOAD_UNCHANGED:
		return "unchanged";
	case ZONE_RELOAD_FAILED_KEPT:
		return "failed-kept-old";
	case ZONE_RELOAD_FAILED_ABSENT:
		return "failed-absent";
	case ZONE_RELOAD_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

/* False when the file cannot be looked at; the load then says why. */
static bool file_id_get(const char *path, struct zone_file_id *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	return true;
}

static bool file_id_equal(const struct zone_file_id *a,
			  const struct zone_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static bool unchanged(const struct zone *old, const char *path,
		      const struct zone_file_id *id)
{
	return old->source != NULL && strcmp(old->source, path) == 0 &&
	       file_id_equal(&old->file_id, id);
}

/* A changed file with a serial that did not grow (RFC 1982 §3.2) is served,
 * but secondaries and caches keyed on the serial would miss the change. */
static void check_serial(const struct zone *old, const struct zone *z)
{
	/* A SERVFAIL placeholder has no serial to compare with. */
	if (old == NULL || old->servfail)
		return;
	int32_t diff = (int32_t)(z->serial - old->serial);
	if (diff == 0)
		log_warn("zone %s: file changed but serial %u did not",
			 z->name_str, z->serial);
	else if (diff < 0)
		log_warn("zone %s: serial went back from %u to %u",
			 z->name_str, old->serial, z->serial);
}

static void status_serving(struct zone_reload_status *st, const struct zone *z)
{
	st->serving = true;
	st->serial = z->serial;
	st->loaded_at = z->loaded_at;
}

/* Reads one source into *out, or leaves *out NULL and fills st->error. */
static int load_one(const struct zone_source *src, const struct zone *old,
		    bool force, struct zone_reload_status *st,
		    struct zone **out)
{
	struct zone_file_id id;
	*out = NULL;
	bool same = file_id_get(src->file, &id) && old != NULL &&
		    unchanged(old, src->file, &id);
	if (same && !force) {
		st->state = ZONE_RELOAD_UNCHANGED;
		return 0;
	}
	/* The identity is taken before reading: a write racing with the read
	 * leaves a newer identity on disk and the next reload reads it. */
	struct zone *z = NULL;
	int ret = zone_load_file(src->name, src->file, &z, st->error,
				 sizeof(st->error));
	if (ret == ANYDNS_ENOMEM)
		return ret;
	if (ret != 0) {
		if (st->error[0] == '\0')
			snprintf(st->error, sizeof(st->error), "%s: %s",
				 src->file, anydns_strerror(ret));
		st->state = old != NULL ? ZONE_RELOAD_FAILED_KEPT
					: ZONE_RELOAD_FAILED_ABSENT;
		return 0;
	}
	z->file_id = id;
	if (!same)
		check_serial(old, z);
	st->state = ZONE_RELOAD_LOADED;
	*out = z;
	return 0;
}

int zone_reload(const struct zone_set *current,
		const struct zone_source *sources, size_t n,
		const uint8_t *only, struct zone_set **out,
		struct zone_reload_status *status)
{
	uint8_t lonly[DNS_NAME_MAXLEN];
	uint8_t lname[DNS_NAME_MAXLEN];
	struct zone **next = calloc(n ? n : 1, sizeof(*next));
	bool *fresh = calloc(n ? n : 1, sizeof(*fresh));
	size_t count = 0;
	int ret = ANYDNS_ENOMEM;
	if (next == NULL || fresh == NULL)
		goto out;

	if (only != NULL) {
		dns_name_copy_lower(lonly, only);
		ret = ANYDNS_ENOENT;
		for (size_t i = 0; i < n; i++) {
			dns_name_copy_lower(lname, sources[i].name);
			if (dns_name_equal(lname, lonly))
				ret = 0;
		}
		if (ret != 0)
			goto out;
	}

	for (size_t i = 0; i < n; i++) {
		const struct zone_source *src = &sources[i];
		struct zone_reload_status *st = &status[i];
		memset(st, 0, sizeof(*st));
		st->name = src->name;
		st->file = src->file;
		dns_name_copy_lower(lname, src->name);
		struct zone *old = current != NULL ? zone_set_get(current, lname)
						   : NULL;
		struct zone *z = NULL;
		if (only != NULL && !dns_name_equal(lname, lonly)) {
			st->state = ZONE_RELOAD_SKIPPED;
		} else {
			ret = load_one(src, old, only != NULL, st, &z);
			if (ret != 0)
				goto out;
		}
		if (z != NULL) {
			fresh[count] = true;
		} else {
			z = old;
		}
		if (z == NULL)
			continue;
		status_serving(st, z);
		next[count++] = z;
	}
	ret = zone_set_new(next, count, out);
out:
	if (ret != 0)
		for (size_t i = 0; i < count; i++)
			if (fresh[i])
				zone_free(next[i]);
	free(next);
	free(fresh);
	return ret;
}
