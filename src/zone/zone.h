/*
 * src/zone — the zone model: immutable in-memory zones built from master
 * files (libzscanner) or record streams, their semantic checks, and the set
 * of served zones published to readers as one RCU snapshot.
 *
 * Implements: RFC 1035 §5 (master files, via libzscanner: $ORIGIN, $TTL,
 * $INCLUDE; BIND's $GENERATE, which libzscanner 3.2 lacks, is expanded by
 * load.c), RFC 3597 (unknown types), RFC 1034 §4.2.1 and
 * RFC 2181 §6 (SOA and NS at the apex, zone cuts, glue), RFC 2181 §10.1
 * (CNAME alone at its name), RFC 2181 §5.2 (one TTL per RRset), RFC 6672
 * §2.4 (no data below a DNAME, no CNAME beside it), RFC 4592 (wildcards and
 * empty non-terminals), RFC 4034 §6.1 (canonical order).
 *
 * A zone is immutable once built: every node, name and RDATA lives in the
 * zone's own arena and is freed with it. Readers on worker threads reach
 * zones only through a zone_set snapshot taken under rcu_read_lock().
 */
#ifndef ANYDNS_ZONE_ZONE_H
#define ANYDNS_ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "dns/dns.h"
#include "lib/arena.h"

/*
 * An RRset. rdata holds count records, each as a 2-octet length in network
 * order followed by that many octets of uncompressed wire RDATA; records
 * are in canonical RDATA order without duplicates.
 */
struct zone_history;

struct zone_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	const uint8_t *rdata;
};

/*
 * What identifies the content of a master file without reading it: a
 * reload reads a zone again only when one of these changed (an editor that
 * writes a new file changes the inode, one that writes in place changes
 * the size or the modification time). Files pulled in with $INCLUDE are
 * not covered: `anydnsc reload ZONE` reads a zone whatever its file says.
 */
struct zone_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* Iterates over the records of an RRset. */
struct zone_rr_iter {
	const uint8_t *pos;
	uint16_t left;
};

static inline void zone_rr_iter_init(struct zone_rr_iter *it,
				     const struct zone_rrset *rs)
{
	it->pos = rs->rdata;
	it->left = rs->count;
}

/* Next record's RDATA and length; false when done. */
static inline bool zone_rr_next(struct zone_rr_iter *it, const uint8_t **rdata,
				uint16_t *len)
{
	if (it->left == 0)
		return false;
	*len = (uint16_t)((it->pos[0] << 8) | it->pos[1]);
	*rdata = it->pos + 2;
	it->pos += 2 + *len;
	it->left--;
	return true;
}

enum zone_node_flag {
	ZONE_NODE_APEX = 1 << 0,	/* the zone apex */
	ZONE_NODE_DELEG = 1 << 1,	/* a zone cut: NS below the apex */
	ZONE_NODE_NONAUTH = 1 << 2,	/* strictly below a zone cut (glue) */
	ZONE_NODE_DNAME = 1 << 3,	/* owns a DNAME RRset */
	ZONE_NODE_CNAME = 1 << 4,	/* owns a CNAME RRset */
	ZONE_NODE_WILDCARD = 1 << 5,	/* first label is "*" */
};

/*
 * A name in the zone: one with records, or an empty non-terminal (no
 * RRsets, but descendants), which exists for the answer algorithm (RFC 4592
 * §2.2.2). Every node but the apex has its parent in the zone.
 */
struct zone_node {
	const uint8_t *name;		/* lowercase wire name */
	const struct zone_node *parent;	/* NULL at the apex */
	const struct zone_node *wildcard;	/* child "*" or NULL */
	const struct zone_rrset *rrsets;	/* sorted by type */
	uint32_t index;			/* position in canonical order */
	uint16_t rrset_count;
	uint16_t flags;			/* enum zone_node_flag */
	uint8_t name_len;
	uint8_t labels;			/* dns_name_labels(name) */
};

struct zone {
	const uint8_t *apex_name;	/* lowercase wire name */
	size_t apex_len;
	char name_str[DNS_NAME_STRLEN];	/* presentation form, for logs */
	const struct zone_node *apex;
	const struct zone_rrset *soa;
	uint32_t serial;

	const struct zone_node *const *nodes;	/* canonical order */
	size_t node_count;
	size_t rr_count;

	/* Exact-match index: open addressing over node pointers. */
	const struct zone_node **table;
	size_t table_mask;

	char *source;			/* file it was loaded from, or NULL */
	/* source as it was just before it was read (zone_reload() sets it);
	 * all zero when unknown, which never matches a file. */
	struct zone_file_id file_id;
	time_t loaded_at;
	unsigned refs;			/* zone sets holding it (control thread) */
	/* The changes that led to this version, oldest first, for IXFR; NULL
	 * when none are known. Set once with zone_set_history() before the
	 * zone is published; freed with the zone. */
	const struct zone_history *history;
	/* A placeholder for a zone we should serve but cannot (a secondary
	 * zone that expired or was never transferred): only apex_name,
	 * apex_len and name_str are set, and queries for it get SERVFAIL. */
	bool servfail;
	struct arena arena;
};

/* The RRset of type at node, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *node,
					 uint16_t type);

/* The node named by lname (lowercase wire name of length len), or NULL. */
const struct zone_node *zone_find(const struct zone *z, const uint8_t *lname,
				  size_t len);

/*
 * The deepest node that is lname or an ancestor of it (the closest encloser
 * of RFC 4592 §3.3.1, empty non-terminals included). lname must be at or
 * below the apex. Never NULL for such a name.
 */
const struct zone_node *zone_closest_encloser(const struct zone *z,
					      const uint8_t *lname);

/* The node before node in canonical order, wrapping around to the last
 * (for NSEC). */
const struct zone_node *zone_node_prev(const struct zone *z,
				       const struct zone_node *node);

/* ---- Building ------------------------------------------------------------
 * A builder collects records in any order, then zone_builder_finish() runs
 * the semantic checks and freezes an immutable zone. Used by the file
 * loader and, later, by zone transfers.
 */
struct zone_builder;

/*
 * Problems are reported through this callback as they are found, with the
 * file and line of the record at fault (file NULL and line 0 when the input
 * has no lines, as in a transfer). is_error false means a warning.
 */
typedef void (*zone_report_fn)(void *arg, const char *file, unsigned long line,
			       bool is_error, const char *msg);

/* origin: the apex, a wire name (copied). NULL on out of memory. */
struct zone_builder *zone_builder_new(const uint8_t *origin,
				      zone_report_fn report, void *arg);

/*
 * Adds one record (class IN). Out-of-zone owners and malformed RDATA are
 * reported and counted as errors; a duplicate record is dropped silently;
 * a TTL that differs within an RRset is reported as a warning and the
 * first TTL kept. Returns 0, or ANYDNS_ENOMEM (the builder is then unusable).
 */
int zone_builder_add(struct zone_builder *b, const uint8_t *owner,
		     uint16_t type, uint32_t ttl, const uint8_t *rdata,
		     uint16_t rdlen, const char *file, unsigned long line);

/*
 * Runs the semantic checks and, if neither they nor any earlier add found
 * an error, builds the zone into *out (owned by the caller: zone_free()).
 * Always frees the builder. Returns 0, ANYDNS_EZONE, ANYDNS_ENOSOA or
 * ANYDNS_ENOMEM.
 */
int zone_builder_finish(struct zone_builder *b, struct zone **out);

/* Frees a builder that will not be finished. */
void zone_builder_free(struct zone_builder *b);

/*
 * Loads a master file for origin (a wire name) with libzscanner. Every
 * problem is logged as "file:line: message" naming the zone; the first
 * error is also copied to errbuf (if not NULL). Nothing is half-loaded: on
 * any error *out is untouched and ANYDNS_ESYNTAX, ANYDNS_EZONE,
 * ANYDNS_ENOSOA, ANYDNS_ENOENT or ANYDNS_ENOMEM is returned.
 */
int zone_load_file(const uint8_t *origin, const char *path, struct zone **out,
		   char *errbuf, size_t errlen);

/* Frees a zone that no zone set holds. */
void zone_free(struct zone *z);

/* ---- Versions: serials, differences, history, journal, stored copies -----
 * What replication (src/xfr, the control thread) needs from the zone
 * model. Implements: RFC 1982 (serial arithmetic), RFC 1995 §4 (the
 * difference sequences of IXFR, condensed when a chain is long).
 */

/* True when serial a is newer than b (RFC 1982 §3.2; undefined pairs are
 * not newer). */
bool zone_serial_newer(uint32_t a, uint32_t b);

/* How a new version of a primary zone gets its serial when its file
 * changed without a newer serial. */
enum zone_serial_policy {
	ZONE_SERIAL_KEEP = 0,		/* the file's serial: an unchanged
					 * serial with changed data is an error */
	ZONE_SERIAL_INCREMENT,		/* old + 1 */
	ZONE_SERIAL_UNIXTIME,		/* now in seconds, at least old + 1 */
	ZONE_SERIAL_DATESERIAL,		/* YYYYMMDDnn (UTC), at least old + 1 */
};

/* The serial after old under policy at time now (KEEP returns old).
 * Always newer than old for the other policies (RFC 1982 wrap-around). */
uint32_t zone_serial_next(enum zone_serial_policy policy, uint32_t old,
			  time_t now);

/* A copy of z with serial in its SOA, owned by the caller; its source,
 * file_id and loaded_at are copied, history is not. ANYDNS_ENOMEM. */
int zone_with_serial(const struct zone *z, uint32_t serial, struct zone **out);

/* A placeholder that answers SERVFAIL for apex (wire, any case), owned by
 * the caller (zone_free()). ANYDNS_ENOMEM. */
int zone_new_servfail(const uint8_t *apex, struct zone **out);

/*
 * The difference between two versions, in the order IXFR sends it (RFC
 * 1995 §4): the records removed, the old SOA first, then the records added,
 * the new SOA first. Each record in data is in wire form: owner (lowercase,
 * uncompressed), type, class (IN), TTL, RDLENGTH, RDATA. Immutable once
 * made, shared by reference count on the control thread (zone_diff_ref(),
 * zone_diff_unref()); readers on workers reach it through a published
 * zone's history. A diff is always one malloc'd block, the struct followed
 * by its data (data == (const uint8_t *)(d + 1)), freed by one free(d) at
 * the last zone_diff_unref(): the builder, the journal reader and
 * condense all allocate it that way.
 */
struct zone_diff {
	uint32_t from, to;		/* serials */
	uint32_t removed, added;	/* record counts, the SOAs included */
	const uint8_t *data;
	size_t len;
	size_t added_at;		/* offset in data of the first added */
	unsigned refs;
};

/* One record of a diff (pointers into its data). */
struct zone_diff_rr {
	const uint8_t *owner;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* Reads the record at *pos (within a diff's data, which is trusted),
 * advancing *pos; false at end. */
bool zone_diff_rr_next(const uint8_t **pos, const uint8_t *end,
		       struct zone_diff_rr *rr);

void zone_diff_ref(struct zone_diff *d);
/* Drops a reference, freeing d at zero. NULL is fine. */
void zone_diff_unref(struct zone_diff *d);

/* Collects a diff record by record: every removed record first (the old
 * SOA the first of them), then the added ones (the new SOA first). */
struct zone_diff_builder;

/* NULL on out of memory. */
struct zone_diff_builder *zone_diff_builder_new(void);

/* Adds one record (owner any case, stored lowercase). A removed record
 * after an added one is ANYDNS_EINVAL; ANYDNS_ENOMEM. */
int zone_diff_builder_add(struct zone_diff_builder *b, bool added,
			  const uint8_t *owner, uint16_t type, uint32_t ttl,
			  const uint8_t *rdata, uint16_t rdlen);

/*
 * Checks (the first removed and the first added records are SOAs, no
 * other SOA) and makes the diff, with refs 1, owned by the caller. Always
 * frees the builder. Returns 0, ANYDNS_EXFR or ANYDNS_ENOMEM.
 */
int zone_diff_builder_finish(struct zone_diff_builder *b,
			     struct zone_diff **out);
void zone_diff_builder_free(struct zone_diff_builder *b);

/*
 * The diff that turns old into new (both versions of one zone, any
 * serials), with refs 1. RRsets whose TTL changed are removed and added
 * whole. Returns 0 or ANYDNS_ENOMEM. (*out)->removed == 1 and
 * (*out)->added == 1 means only the SOA differs.
 */
int zone_diff_compute(const struct zone *old, const struct zone *new,
		      struct zone_diff **out);

/*
 * Applies chain[0..n) in order to base (chain[0]->from must be base's
 * serial, each diff's from the previous one's to) and builds the result
 * into *out (owned by the caller; source and file_id not set). A record
 * removed that is not there, or added that already is, is an error, as is
 * a result that fails the semantic checks. Returns 0, ANYDNS_EXFR or
 * ANYDNS_EZONE with a one-line reason in err, or ANYDNS_ENOMEM.
 */
int zone_diff_apply(const struct zone *base,
		    struct zone_diff *const *chain, size_t n,
		    struct zone **out, char *err, size_t errlen);

/*
 * One diff with the effect of chain[0..n) (consecutive serials): records
 * removed then added again (or added then removed) cancel out, so a long
 * chain answers IXFR as one short difference. refs 1, owned by the
 * caller. Returns 0 or ANYDNS_ENOMEM.
 */
int zone_diff_condense(struct zone_diff *const *chain, size_t n,
		       struct zone_diff **out);

/* The changes that led to one version: diffs with consecutive serials. */
struct zone_history {
	size_t count;
	struct zone_diff **diffs;	/* oldest first; a reference each */
};

/*
 * Gives z (not yet published) the history diffs[0..n), taking a reference
 * on each; the last diff's to must be z->serial (else ANYDNS_EINVAL).
 * ANYDNS_ENOMEM. n 0 clears it.
 */
int zone_set_history(struct zone *z, struct zone_diff *const *diffs,
		     size_t n);

/*
 * The part of z's history from serial from to z->serial: *chain points
 * into the history (valid as long as z is), *n diffs. Returns 0, or
 * ANYDNS_EJOURNAL when the history does not reach back to from (or from
 * is z->serial, or newer).
 */
int zone_history_chain(const struct zone *z, uint32_t from,
		       struct zone_diff *const **chain, size_t *n);

/*
 * The persistent journal of one zone: its diffs in one file, appended
 * and fsync'd before the version they lead to is served or announced,
 * read back at start-up. A record is written whole or, after a crash,
 * ignored and cut off at the next open (each has a length and a
 * checksum). When the file grows past max_size the oldest diffs are
 * dropped (the file rewritten beside and renamed over, then fsync'd) so
 * that it holds at most half of max_size.
 */
struct zone_journal;

/*
 * Opens (creating) the journal at path for apex (wire, any case) and reads
 * its diffs. A torn or corrupt tail is cut off with a warning; a file of
 * another zone or format is ANYDNS_EJOURNAL. err gets a one-line reason.
 * Returns 0 with *out owned by the caller, ANYDNS_EJOURNAL, ANYDNS_ENOMEM,
 * or a system error.
 */
int zone_journal_open(const char *path, const uint8_t *apex, size_t max_size,
		      struct zone_journal **out, char *err, size_t errlen);

/*
 * Appends d (d->from must be the last diff's to, unless the journal is
 * empty) and fsyncs; takes a reference on d. Compacts when over max_size.
 * Returns 0, ANYDNS_EINVAL (not consecutive: nothing written), or a
 * system error (nothing kept in memory; the file is cut back).
 */
int zone_journal_append(struct zone_journal *j, struct zone_diff *d);

/* Drops every diff (the file is emptied and fsync'd): the next version
 * does not follow from the last one journaled. 0 or a system error. */
int zone_journal_clear(struct zone_journal *j);

/* The diffs held, oldest first (valid until the next append, clear or
 * close). */
struct zone_diff *const *zone_journal_diffs(const struct zone_journal *j,
					    size_t *n);

/* The file size in octets. */
size_t zone_journal_size(const struct zone_journal *j);

/* Closes the file and drops the references. NULL is fine. */
void zone_journal_close(struct zone_journal *j);

/*
 * Parses a journal held in memory (the fuzz target; zone_journal_open()
 * uses the same reader): *valid gets the length of the well-formed
 * prefix. Returns the number of diffs read, or ANYDNS_EJOURNAL when the
 * header is not a journal of apex.
 */
long zone_journal_parse(const uint8_t *data, size_t len, const uint8_t *apex,
			size_t *valid);

/*
 * Writes z as a master file at path atomically (written beside, fsync'd,
 * renamed over, the directory fsync'd): every record in RFC 3597 generic
 * form with absolute owner names, so zone_load_file() reads it back equal
 * whatever its types. The stored copy a secondary serves from after a
 * restart. Returns 0 or a system error with a reason in err.
 */
int zone_write_file(const struct zone *z, const char *path, char *err,
		    size_t errlen);

/* ---- Zone sets and snapshots ---------------------------------------------
 * A zone set is the immutable collection of served zones that workers read.
 * The control thread builds a new set (sharing unchanged zones by
 * reference), publishes it with one pointer swap and frees the old one
 * after an RCU grace period.
 */
struct zone_set {
	size_t count;
	struct zone **zones;		/* sorted by canonical apex order */
	struct zone **table;		/* apex hash index */
	size_t table_mask;
	/* Views: subsets of these zones, each a set of its own sharing the
	 * zones by reference, served on some addresses only (the anycast
	 * networks that serve some of the zones, src/pop). Built by
	 * zone_set_views() before the set is published and freed with it;
	 * a view has no views. */
	struct zone_set **views;
	size_t view_count;
	/* Which publication this is: set by zone_snapshot_publish() (and
	 * zone_snapshot_init()) from a process-wide counter, never reused,
	 * on the set and its views alike; 0 until then. A cache of answers
	 * (src/server's packet cache) is valid only for the generation it
	 * was filled from: comparing set pointers would not do, since a
	 * freed set's address comes back for a later one. */
	uint64_t generation;
};

/*
 * A new set holding the n zones given: each gains a reference (zone->refs
 * counts the sets holding a zone; a zone is freed with the last set that
 * holds it, and a zone no set holds is freed by whoever built it). Two
 * zones with the same apex are ANYDNS_EEXIST. Returns 0 or an error; on
 * error no reference is taken. *out is owned by the caller.
 */
int zone_set_new(struct zone *const *zones, size_t n, struct zone_set **out);

/* Drops the set's references (freeing zones that reach zero) and the set.
 * Only on the control thread, after readers are gone. */
void zone_set_free(struct zone_set *set);

/* The zone whose apex is the longest suffix of lname, or NULL. */
const struct zone *zone_set_find(const struct zone_set *set,
				 const uint8_t *lname);

/* The zone with exactly this apex, or NULL. */
struct zone *zone_set_get(const struct zone_set *set, const uint8_t *lapex);

/* The zones of one view: apexes in wire form, any case. */
struct zone_view_def {
	const uint8_t *const *apexes;
	size_t count;
};

/*
 * Gives set the n views defined, replacing any it had: view i holds the
 * zones of set named by defs[i]; a name the set does not hold (a zone
 * that failed to load) is left out, so that view answers REFUSED for it.
 * Only on a set nobody reads yet (before zone_snapshot_publish()). Returns
 * 0, or ANYDNS_ENOMEM with set unchanged.
 */
int zone_set_views(struct zone_set *set, const struct zone_view_def *defs,
		   size_t n);

/* A view number that is no view: the whole set. */
#define ZONE_VIEW_ALL UINT32_MAX

/* The zones served for view (an index into set->views): that view, or the
 * whole set for ZONE_VIEW_ALL or a view the set does not have. For the
 * query path: no lock, no allocation. */
static inline const struct zone_set *zone_set_view(const struct zone_set *set,
						   uint32_t view)
{
	return view < set->view_count ? set->views[view] : set;
}

/*
 * The published snapshot slot. Readers (worker threads registered with
 * liburcu) call zone_snapshot_read() between rcu_read_lock() and
 * rcu_read_unlock(); the control thread alone calls publish.
 */
struct zone_snapshot {
	struct zone_set *current;
};

/* Starts with an empty set. Returns 0 or ANYDNS_ENOMEM. */
int zone_snapshot_init(struct zone_snapshot *snap);

const struct zone_set *zone_snapshot_read(const struct zone_snapshot *snap);

/* Gives next (and its views) the next generation, swaps it in (taking
 * ownership), waits for readers of the old set to finish, frees it. */
void zone_snapshot_publish(struct zone_snapshot *snap, struct zone_set *next);

/* Frees the current set; no reader may remain. */
void zone_snapshot_destroy(struct zone_snapshot *snap);

/* ---- Reloading -------------------------------------------------------------
 * The control thread's zone loader: from the set being served and the list
 * of configured zones it builds the next set to publish, reading only the
 * files that changed. A zone whose file fails to load keeps its previous
 * version serving, so a typo in one file never takes a zone down.
 */

/* One configured zone. */
struct zone_source {
	const uint8_t *name;		/* apex, wire form, any case */
	const char *file;		/* its master file */
};

enum zone_reload_state {
	ZONE_RELOAD_LOADED = 0,		/* read from its file: new or changed */
	ZONE_RELOAD_UNCHANGED,		/* file unchanged: served version kept */
	ZONE_RELOAD_FAILED_KEPT,	/* failed; the previous version serves */
	ZONE_RELOAD_FAILED_ABSENT,	/* failed; nothing served for the zone */
	ZONE_RELOAD_SKIPPED,		/* not looked at: one other zone was
					 * reloaded; current version kept */
};

/* "loaded", "unchanged", "failed-kept-old", "failed-absent", "skipped". */
const char *zone_reload_state_str(enum zone_reload_state state);

#define ZONE_RELOAD_ERRLEN 512

/* What a reload did with one configured zone. */
struct zone_reload_status {
	const uint8_t *name;		/* the source's name (not copied) */
	const char *file;		/* the source's file (not copied) */
	enum zone_reload_state state;
	bool serving;			/* the new set holds a version of it */
	uint32_t serial;		/* of the version served; 0 when none */
	time_t loaded_at;		/* when that version was read; 0: none */
	/* The first error of a failed load, "file:line: message" (as
	 * zone_load_file() reports it); "" otherwise. */
	char error[ZONE_RELOAD_ERRLEN];
};

/*
 * Builds the next zone set from current (the set being served; NULL when
 * nothing is) and the n configured sources:
 *  - a zone whose file is the one current's version was read from, with
 *    the same struct zone_file_id, is reused by reference (UNCHANGED);
 *  - any other is read with zone_load_file() (LOADED); when that fails the
 *    version in current, if any, is kept (FAILED_KEPT, else FAILED_ABSENT)
 *    and the error is in its status;
 *  - zones of current that no source names are left out.
 * only: NULL reloads every source; otherwise the apex (wire form, any case)
 * of the one zone to read, even when its file looks unchanged; the other
 * sources then keep what current has of them (SKIPPED).
 * status: n entries owned by the caller, filled in source order; they point
 * into sources, which must outlive them.
 * Returns 0 and *out, a new set owned by the caller (to publish, or to free
 * with zone_set_free()), whatever single zones failed: those failures are
 * in status, not in the return code. Errors, with current untouched and no
 * zone loaded kept: ANYDNS_ENOENT (only names no source), ANYDNS_EEXIST
 * (two sources with one apex), ANYDNS_ENOMEM.
 */
int zone_reload(const struct zone_set *current,
		const struct zone_source *sources, size_t n,
		const uint8_t *only, struct zone_set **out,
		struct zone_reload_status *status);

#endif
