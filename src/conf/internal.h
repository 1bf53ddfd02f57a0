/*
 * Shared by the files of src/conf only: the shape of a schema row, the value
 * types and the helpers that walk the table. The table itself is in
 * schema.c; types.c parses and prints one value of each type; load.c reads
 * YAML into a struct conf; output.c prints, compares, documents and frees
 * by walking the same rows.
 */
#ifndef ANYDNS_CONF_INTERNAL_H
#define ANYDNS_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"

enum conf_type {
	CONF_T_SECTION,		/* a mapping of options; stores nothing itself */
	CONF_T_RECORDS,		/* a list of mappings, each one record */
	CONF_T_STR,		/* char *, owned */
	CONF_T_BOOL,		/* bool */
	CONF_T_INT,		/* unsigned (or signed if min < 0) of size 1..8 */
	CONF_T_DURATION,	/* integer field, milliseconds: "300ms", "10s" */
	CONF_T_SIZE,		/* integer field, octets: "1232", "64k" */
	CONF_T_ENUM,		/* int: index into names */
	CONF_T_ADDR,		/* struct conf_addr: "ADDR" or "ADDR@PORT" */
	CONF_T_NAME,		/* uint8_t[DNS_NAME_MAXLEN], wire form */
	CONF_T_PATH,		/* char *, owned; relative: from the file's dir */
	CONF_T_PREFIX,		/* struct conf_prefix: "ADDR/LEN" */
	CONF_T_COMMUNITY,	/* uint32_t: "AS:VALUE" (RFC 1997) */
	CONF_T_LCOMMUNITY,	/* struct conf_large_community: "A:B:C" */
	CONF_T_RRTYPE,		/* uint16_t: "AAAA", "TYPE65534" */
};

enum conf_flag {
	CONF_LIST = 1u << 0,	/* a list of values: field is a pointer to
				 * the items, count_offset the size_t count */
	CONF_OPTIONAL = 1u << 1,	/* may stay unset (null in YAML) */
	CONF_REQUIRED = 1u << 2,	/* no default: must be written */
	CONF_PORT = 1u << 3,	/* ADDR: the port must be written */
};

struct conf_check;

/*
 * One row of the schema: an option, a section (mapping) or a list of
 * records. Rows are named by dotted path; a row's parent is the row named
 * by its path minus the last component and comes before it in the table.
 * Offsets are into struct conf, or into the record type of the nearest
 * CONF_T_RECORDS ancestor.
 */
struct conf_row {
	const char *name;
	enum conf_type type;
	unsigned flags;		/* enum conf_flag */
	size_t offset;		/* of the field (the items pointer for lists) */
	size_t size;		/* of the field, or of one item or record */
	size_t count_offset;	/* CONF_LIST and CONF_T_RECORDS: the count */

	/* Default in the option's own text form (lists: items separated by
	 * spaces); NULL: none. def_fn, when set, computes it instead from
	 * the record after every earlier row got its value, and def_doc says
	 * in words what it is. */
	const char *def;
	const char *(*def_fn)(const void *rec, char *buf, size_t cap);
	const char *def_doc;

	/* INT, DURATION (ms), SIZE: bounds of the value; STR: of the length. */
	int64_t min, max;
	const char *const *names;	/* ENUM: value i is names[i] */

	/* Extra check of one parsed value (each item of a list); writes a
	 * message and returns -1 to reject it. */
	int (*validate)(const void *value, char *msg, size_t cap);
	/* SECTION and RECORDS: runs when the enclosing record is complete
	 * (defaults applied): cross-option checks and derived values. */
	int (*finish)(struct conf_check *chk, void *rec);

	const char *key;	/* RECORDS: child option unique across records */
	const char *item;	/* RECORDS: what one record is called */
	const char *doc;	/* one paragraph for docs/configuration.md */
};

#define CONF_FIELD(rec_type, member) \
	.offset = offsetof(rec_type, member), \
	.size = sizeof(((rec_type *)0)->member)

#define CONF_LIST_FIELD(rec_type, member, count_member) \
	.offset = offsetof(rec_type, member), \
	.size = sizeof(*((rec_type *)0)->member), \
	.count_offset = offsetof(rec_type, count_member)

extern const struct conf_row conf_rows[];
extern const size_t conf_rows_count;

/* ---- rows.c: walking the table ------------------------------------------ */

/* The row named name[0..len), or NULL. */
const struct conf_row *conf_row_find(const char *name, size_t len);

/* The row whose key is key[0..len) under parent (NULL: the top level). */
const struct conf_row *conf_row_child(const struct conf_row *parent,
				      const char *key, size_t len);

/* The last component of the row's name: its key in YAML. */
const char *conf_row_key(const struct conf_row *r);

/* The parent row (SECTION or RECORDS); NULL at the top level. */
const struct conf_row *conf_row_parent(const struct conf_row *r);

/* The nearest RECORDS ancestor, whose record holds r's field; NULL when
 * the field is in struct conf itself. */
const struct conf_row *conf_row_record(const struct conf_row *r);

static inline size_t conf_row_index(const struct conf_row *r)
{
	return (size_t)(r - conf_rows);
}

static inline bool conf_row_is_option(const struct conf_row *r)
{
	return r->type != CONF_T_SECTION && r->type != CONF_T_RECORDS;
}

static inline void *conf_row_field(const struct conf_row *r, void *rec)
{
	return (char *)rec + r->offset;
}

/*
 * The items pointer and count of a list option or of a RECORDS row. The
 * field is a typed pointer (struct conf_addr *, struct conf_zone *); it is
 * moved through memcpy as a void *, which POSIX makes safe by giving every
 * object pointer the same representation.
 */
static inline void conf_list_get(const struct conf_row *r, const void *rec,
				 void **items, size_t *count)
{
	memcpy(items, (const char *)rec + r->offset, sizeof(*items));
	memcpy(count, (const char *)rec + r->count_offset, sizeof(*count));
}

static inline void conf_list_set(const struct conf_row *r, void *rec,
				 void *items, size_t count)
{
	memcpy((char *)rec + r->offset, &items, sizeof(items));
	memcpy((char *)rec + r->count_offset, &count, sizeof(count));
}

/* ---- types.c: one value ------------------------------------------------- */

/*
 * Parses text[0..len) as one value of the row's type into dst (the field,
 * or one item of a list), checking bounds and the row's validator. Relative
 * paths are joined to basedir when it is not NULL. Returns 0, or -1 with a
 * message in msg (without the option's name); dst then owns nothing.
 * ANYDNS_ENOMEM when out of memory.
 */
int conf_value_parse(const struct conf_row *r, const char *text, size_t len,
		     const char *basedir, void *dst, char *msg, size_t cap);

/* Outside text for a message, in buf (cap at least 8): at most 48
 * characters then "...", control characters as '?', so the message stays
 * one readable line. */
const char *conf_show(const char *text, size_t len, char *buf, size_t cap);

/* The value as plain text (no YAML quoting), for messages; "" if unset. */
void conf_value_text(const struct conf_row *r, const void *v, char *buf,
		     size_t cap);

/* The value as YAML that conf_value_parse() reads back ("~" if unset). */
void conf_value_yaml(FILE *f, const struct conf_row *r, const void *v);

bool conf_value_equal(const struct conf_row *r, const void *a,
		      const void *b);

/* Equal values (conf_value_equal()) hash alike. */
uint64_t conf_value_hash(const struct conf_row *r, const void *v);

bool conf_value_is_set(const struct conf_row *r, const void *v);

/* Frees what the value owns and zeroes it. */
void conf_value_free(const struct conf_row *r, void *v);

/* What values of the row look like, for the docs ("duration, 1s to 1h"). */
void conf_value_describe(const struct conf_row *r, char *buf, size_t cap);

/* What a value of the row must be, for messages: "an integer"; item: what
 * one item of a list option must be. */
void conf_type_noun(const struct conf_row *r, bool item, char *buf,
		    size_t cap);

/* ---- replication.c: finish hooks of the replication options ------------- */

int conf_finish_zone(struct conf_check *chk, void *rec);
int conf_finish_key(struct conf_check *chk, void *rec);
int conf_finish_replication(struct conf_check *chk, void *rec);

/* ---- load.c: context of finish hooks ------------------------------------ */

/* True when the option (full name) was written in the record being
 * finished, rather than defaulted. */
bool conf_check_was_set(const struct conf_check *chk, const char *name);

/* Fails the load with "file:line:col: name: message", at the option if it
 * was written, else at its section. Returns ANYDNS_ECONFIG. */
int conf_check_fail(struct conf_check *chk, const char *name,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
