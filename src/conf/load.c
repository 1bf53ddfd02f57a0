/*
 * The YAML loader: reads libyaml's event stream (YAML 1.1) and fills a
 * struct conf by looking every key up in the schema table. A key is found
 * among the children of the section it appears in; its value is parsed by
 * the row's type into the row's field. When a record (the whole file, or
 * one zone) ends, unwritten options get their defaults in table order,
 * required ones are checked, and the sections' finish hooks run. The first
 * error stops the load and is reported as "file:line:column: message"
 * (1-based, as editors count); nothing is returned unless everything
 * passed. Aliases are refused, so a small file cannot expand into a large
 * configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "conf/internal.h"
#include "lib/errcode.h"

/* A configuration is a few kilobytes; anything near this is a mistake. */
#define CONF_FILE_MAX (16u << 20)

struct loader {
	yaml_parser_t parser;
	const char *data;	/* the whole input */
	size_t len;
	yaml_event_t ev;	/* the current event, when have_ev */
	bool have_ev;
	const char *name;	/* file name for messages */
	const char *basedir;	/* for relative paths; NULL: keep them */
	char *err;
	size_t errlen;
};

/* One record being filled: the whole struct conf, or one record of a
 * CONF_T_RECORDS list. set and mark are indexed by row. */
struct scope {
	const struct conf_row *record;	/* NULL: struct conf */
	void *rec;
	yaml_mark_t start;
	bool *set;		/* the key was written in this record */
	yaml_mark_t *mark;	/* where the key was written */
};

struct conf_check {
	struct loader *ld;
	struct scope *sc;
	const struct conf_row *section;
};

/* ---- errors ------------------------------------------------------------- */

static int vfail(struct loader *ld, yaml_mark_t mark, const char *fmt,
		 va_list ap)
{
	if (ld->errlen == 0)
		return ANYDNS_ECONFIG;
	int n = snprintf(ld->err, ld->errlen, "%s:%zu:%zu: ", ld->name,
			 mark.line + 1, mark.column + 1);
	if (n >= 0 && (size_t)n < ld->errlen)
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	return ANYDNS_ECONFIG;
}

static int fail(struct loader *ld, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = vfail(ld, mark, fmt, ap);
	va_end(ap);
	return ret;
}

static int fail_nomem(struct loader *ld)
{
	snprintf(ld->err, ld->errlen, "%s: out of memory", ld->name);
	return ANYDNS_ENOMEM;
}

/* The reader reports bad octets by offset: it runs ahead of the scanner,
 * whose mark is still behind. Columns count characters, as libyaml's
 * marks do, so UTF-8 continuation octets are skipped. */
static yaml_mark_t offset_mark(const struct loader *ld, size_t offset)
{
	yaml_mark_t m = { 0 };
	for (size_t i = 0; i < offset && i < ld->len; i++) {
		unsigned char c = (unsigned char)ld->data[i];
		if (c == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80) {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

static int syntax_error(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	if (p->error == YAML_MEMORY_ERROR)
		return fail_nomem(ld);
	const char *problem = p->problem != NULL ? p->problem : "unknown error";
	if (p->error == YAML_READER_ERROR)
		return fail(ld, offset_mark(ld, p->problem_offset),
			    "YAML syntax error: %s", problem);
	if (p->context != NULL && p->context_mark.index != p->problem_mark.index)
		return fail(ld, p->problem_mark, "YAML syntax error: %s %s "
			    "(at %zu:%zu)", problem, p->context,
			    p->context_mark.line + 1, p->context_mark.column + 1);
	if (p->context != NULL)
		return fail(ld, p->problem_mark, "YAML syntax error: %s %s",
			    problem, p->context);
	return fail(ld, p->problem_mark, "YAML syntax error: %s", problem);
}

/* ---- events ------------------------------------------------------------- */

static int ev_next(struct loader *ld)
{
	if (ld->have_ev) {
		yaml_event_delete(&ld->ev);
		ld->have_ev = false;
	}
	if (!yaml_parser_parse(&ld->parser, &ld->ev))
		return syntax_error(ld);
	ld->have_ev = true;
	if (ld->ev.type == YAML_ALIAS_EVENT)
		return fail(ld, ld->ev.start_mark, "YAML aliases are not supported");
	return 0;
}

static bool ev_is_null(const yaml_event_t *ev)
{
	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* What the current event holds, for "expected X, got Y". */
static const char *ev_what(const yaml_event_t *ev, char *buf, size_t cap)
{
	char shown[64];

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		if (ev_is_null(ev))
			return "null";
		snprintf(buf, cap, "'%s'", conf_show((const char *)ev->data.scalar.value,
						     ev->data.scalar.length,
						     shown, sizeof(shown)));
		return buf;
	default:
		return "something else";
	}
}

/* item: the event is one item of a list option, so a list is not an
 * alternative to offer. */
static int wrong_type(struct loader *ld, const struct conf_row *r, bool item)
{
	char noun[128], what[80];
	conf_type_noun(r, item, noun, sizeof(noun));
	const char *hint = "";
	if (r->type == CONF_T_STR && ev_is_null(&ld->ev))
		hint = " (write \"\" for an empty string)";
	return fail(ld, ld->ev.start_mark, "%s: expected %s, got %s%s", r->name,
		    noun, ev_what(&ld->ev, what, sizeof(what)), hint);
}

/* ---- unknown keys ------------------------------------------------------- */

/* Edit distance with adjacent transpositions (optimal string alignment),
 * ASCII case ignored; keys are short, so the table fits on the stack. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	enum { MAXK = 40 };
	size_t d[MAXK + 1][MAXK + 1];
	if (la > MAXK || lb > MAXK)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
			size_t best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) &&
			    (a[i - 2] | 0x20) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static int unknown_key(struct loader *ld, const struct conf_row *parent)
{
	const char *key = (const char *)ld->ev.data.scalar.value;
	size_t klen = ld->ev.data.scalar.length;
	char shown[64];
	const struct conf_row *best = NULL;
	size_t best_d = SIZE_MAX;
	char known[512];
	size_t n = 0;

	known[0] = '\0';
	for (size_t i = 0; i < conf_rows_count; i++) {
		const struct conf_row *r = &conf_rows[i];
		if (conf_row_parent(r) != parent)
			continue;
		const char *k = conf_row_key(r);
		size_t d = distance(key, klen, k, strlen(k));
		if (d < best_d) {
			best_d = d;
			best = r;
		}
		int w = snprintf(known + n, sizeof(known) - n, "%s%s",
				 n > 0 ? ", " : "", k);
		if (w > 0 && (size_t)w < sizeof(known) - n)
			n += (size_t)w;
	}
	/* A suggestion is worth making for a slip of a character or two,
	 * not for an unrelated word. */
	size_t blen = best != NULL ? strlen(conf_row_key(best)) : 0;
	size_t limit = blen <= 4 ? 1 : 2;
	if (best != NULL && best_d <= limit)
		return fail(ld, ld->ev.start_mark, "unknown key '%s' (did you "
			    "mean '%s'?)", conf_show(key, klen, shown, sizeof(shown)),
			    conf_row_key(best));
	return fail(ld, ld->ev.start_mark, "unknown key '%s' (known keys%s%s: "
		    "%s)", conf_show(key, klen, shown, sizeof(shown)),
		    parent != NULL ? " of " : "",
		    parent != NULL ? parent->name : "", known);
}

/* ---- values ------------------------------------------------------------- */

static int parse_text(struct loader *ld, const struct conf_row *r,
		      const char *text, size_t len, yaml_mark_t mark, void *dst)
{
	char msg[256];
	int ret = conf_value_parse(r, text, len, ld->basedir, dst, msg, sizeof(msg));
	if (ret == ANYDNS_ENOMEM)
		return fail_nomem(ld);
	if (ret != 0)
		return fail(ld, mark, "%s: %s", r->name, msg);
	return 0;
}

/* Appends one item to a list option; the list in rec is kept current so
 * that conf_free() releases it if a later item fails. */
static int list_append(struct loader *ld, const struct conf_row *r, void *rec,
		       size_t *cap, const char *text, size_t len,
		       yaml_mark_t mark)
{
	void *items;
	size_t count;
	conf_list_get(r, rec, &items, &count);
	if (count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *n = realloc(items, ncap * r->size);
		if (n == NULL)
			return fail_nomem(ld);
		items = n;
		*cap = ncap;
		conf_list_set(r, rec, items, count);
	}
	void *item = (char *)items + count * r->size;
	memset(item, 0, r->size);
	int ret = parse_text(ld, r, text, len, mark, item);
	if (ret == 0)
		conf_list_set(r, rec, items, count + 1);
	return ret;
}

/* A list option: a sequence of scalars, or one scalar for a one-item list. */
static int parse_list(struct loader *ld, struct scope *sc,
		      const struct conf_row *r)
{
	size_t cap = 0;
	int ret;

	if (ld->ev.type == YAML_SCALAR_EVENT && !ev_is_null(&ld->ev))
		return list_append(ld, r, sc->rec, &cap,
				   (const char *)ld->ev.data.scalar.value,
				   ld->ev.data.scalar.length, ld->ev.start_mark);
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return wrong_type(ld, r, false);
	while ((ret = ev_next(ld)) == 0) {
		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (ld->ev.type != YAML_SCALAR_EVENT || ev_is_null(&ld->ev))
			return wrong_type(ld, r, true);
		ret = list_append(ld, r, sc->rec, &cap,
				  (const char *)ld->ev.data.scalar.value,
				  ld->ev.data.scalar.length, ld->ev.start_mark);
		if (ret != 0)
			return ret;
	}
	return ret;
}

static int parse_option(struct loader *ld, struct scope *sc,
			const struct conf_row *r)
{
	if (r->flags & CONF_LIST)
		return parse_list(ld, sc, r);
	if (ld->ev.type != YAML_SCALAR_EVENT)
		return wrong_type(ld, r, false);
	if (ev_is_null(&ld->ev)) {
		if (r->flags & CONF_OPTIONAL)
			return 0;	/* written as unset: no default */
		return wrong_type(ld, r, false);
	}
	return parse_text(ld, r, (const char *)ld->ev.data.scalar.value,
			  ld->ev.data.scalar.length, ld->ev.start_mark,
			  conf_row_field(r, sc->rec));
}

/* ---- records ------------------------------------------------------------ */

static int parse_map(struct loader *ld, struct scope *sc,
		     const struct conf_row *section);

static int scope_init(struct loader *ld, struct scope *sc,
		      const struct conf_row *record, void *rec, yaml_mark_t start)
{
	sc->record = record;
	sc->rec = rec;
	sc->start = start;
	sc->set = calloc(conf_rows_count, sizeof(*sc->set));
	sc->mark = calloc(conf_rows_count, sizeof(*sc->mark));
	if (sc->set == NULL || sc->mark == NULL)
		return fail_nomem(ld);
	return 0;
}

static void scope_fini(struct scope *sc)
{
	free(sc->set);
	free(sc->mark);
}

/* Unwritten options of the record get their defaults, in table order so a
 * computed default can use an earlier row's value. */
static int apply_defaults(struct loader *ld, struct scope *sc)
{
	char buf[256];
	int ret;

	for (size_t i = 0; i < conf_rows_count; i++) {
		const struct conf_row *r = &conf_rows[i];
		if (!conf_row_is_option(r) || sc->set[i] ||
		    conf_row_record(r) != sc->record)
			continue;
		if (r->flags & CONF_REQUIRED) {
			if (sc->record != NULL)
				return fail(ld, sc->start, "%s without '%s'",
					    sc->record->item, conf_row_key(r));
			return fail(ld, sc->start, "missing '%s'", r->name);
		}
		const char *def = r->def_fn != NULL ?
				  r->def_fn(sc->rec, buf, sizeof(buf)) : r->def;
		if (def == NULL)
			continue;
		if (!(r->flags & CONF_LIST)) {
			ret = parse_text(ld, r, def, strlen(def), sc->start,
					 conf_row_field(r, sc->rec));
			if (ret != 0)
				return ret;
			continue;
		}
		size_t cap = 0;
		for (const char *p = def; *p != '\0';) {
			size_t len = strcspn(p, " ");
			if (len > 0) {
				ret = list_append(ld, r, sc->rec, &cap, p, len,
						  sc->start);
				if (ret != 0)
					return ret;
			}
			p += len + (p[len] == ' ');
		}
	}
	return 0;
}

static int finish_record(struct loader *ld, struct scope *sc)
{
	int ret = apply_defaults(ld, sc);
	for (size_t i = 0; ret == 0 && i < conf_rows_count; i++) {
		const struct conf_row *r = &conf_rows[i];
		if (r->type != CONF_T_SECTION || r->finish == NULL ||
		    conf_row_record(r) != sc->record)
			continue;
		struct conf_check chk = { ld, sc, r };
		ret = r->finish(&chk, sc->rec);
	}
	if (ret == 0 && sc->record != NULL && sc->record->finish != NULL) {
		struct conf_check chk = { ld, sc, sc->record };
		ret = sc->record->finish(&chk, sc->rec);
	}
	return ret;
}

/*
 * The keys of the records read so far, so a repeated zone is found in
 * constant time however many there are: open addressing over record
 * indexes (plus one; 0 is an empty slot), at most half full.
 */
struct keyset {
	size_t *slot;
	size_t cap;		/* a power of two, or 0 */
};

static const void *record_key(const struct conf_row *records,
			      const struct conf_row *key, const void *items,
			      size_t i)
{
	return (const char *)items + i * records->size + key->offset;
}

/* Slot of record i's key: the empty slot to take, or the slot of an
 * earlier record with an equal key. */
static size_t keyset_probe(const struct keyset *ks, const struct conf_row *records,
			   const struct conf_row *key, const void *items,
			   size_t i)
{
	const void *v = record_key(records, key, items, i);
	size_t mask = ks->cap - 1;
	size_t at = (size_t)conf_value_hash(key, v) & mask;
	while (ks->slot[at] != 0 &&
	       !conf_value_equal(key, record_key(records, key, items,
						 ks->slot[at] - 1), v))
		at = (at + 1) & mask;
	return at;
}

/* Adds record i (records 0..i-1 are in); *dup gets the index of an
 * earlier record with the same key, or SIZE_MAX. */
static int keyset_add(struct keyset *ks, const struct conf_row *records,
		      const struct conf_row *key, const void *items, size_t i,
		      size_t *dup)
{
	if ((i + 1) * 2 > ks->cap) {
		struct keyset grown = { NULL, ks->cap ? ks->cap * 2 : 16 };
		grown.slot = calloc(grown.cap, sizeof(*grown.slot));
		if (grown.slot == NULL)
			return ANYDNS_ENOMEM;
		for (size_t j = 0; j < i; j++)
			grown.slot[keyset_probe(&grown, records, key, items, j)] = j + 1;
		free(ks->slot);
		*ks = grown;
	}
	size_t at = keyset_probe(ks, records, key, items, i);
	*dup = ks->slot[at] != 0 ? ks->slot[at] - 1 : SIZE_MAX;
	if (ks->slot[at] == 0)
		ks->slot[at] = i + 1;
	return 0;
}

/* One record: a mapping of r's children, then its defaults and checks. */
static int parse_record(struct loader *ld, const struct conf_row *r, void *rec,
			yaml_mark_t *key_at, const struct conf_row *key)
{
	struct scope sc;
	int ret = scope_init(ld, &sc, r, rec, ld->ev.start_mark);
	if (ret == 0)
		ret = parse_map(ld, &sc, r);
	if (ret == 0)
		ret = finish_record(ld, &sc);
	if (ret == 0 && key != NULL) {
		size_t k = conf_row_index(key);
		*key_at = sc.set[k] ? sc.mark[k] : sc.start;
	}
	scope_fini(&sc);
	return ret;
}

/* A list of records. The key option must differ between records; its
 * position is kept to name both when it does not. */
static int parse_records(struct loader *ld, struct scope *sc,
			 const struct conf_row *r)
{
	const struct conf_row *key = r->key != NULL ?
		conf_row_child(r, r->key, strlen(r->key)) : NULL;
	struct keyset seen = { NULL, 0 };
	yaml_mark_t *where = NULL;
	size_t cap = 0;
	int ret;

	if (ev_is_null(&ld->ev))
		return 0;
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return wrong_type(ld, r, false);
	while ((ret = ev_next(ld)) == 0) {
		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ld->ev.type != YAML_MAPPING_START_EVENT) {
			char what[80];
			ret = fail(ld, ld->ev.start_mark, "%s: each %s is a "
				   "mapping, got %s", r->name, r->item,
				   ev_what(&ld->ev, what, sizeof(what)));
			break;
		}
		void *items;
		size_t count;
		conf_list_get(r, sc->rec, &items, &count);
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *n = realloc(items, ncap * r->size);
			yaml_mark_t *nw = realloc(where, ncap * sizeof(*where));
			if (n != NULL)
				conf_list_set(r, sc->rec, n, count);
			if (nw != NULL)
				where = nw;
			if (n == NULL || nw == NULL) {
				ret = fail_nomem(ld);
				break;
			}
			items = n;
			cap = ncap;
		}
		void *rec = (char *)items + count * r->size;
		memset(rec, 0, r->size);
		conf_list_set(r, sc->rec, items, count + 1);

		ret = parse_record(ld, r, rec, &where[count], key);
		if (ret != 0)
			break;
		if (key == NULL)
			continue;
		size_t dup;
		ret = keyset_add(&seen, r, key, items, count, &dup);
		if (ret != 0) {
			ret = fail_nomem(ld);
		} else if (dup != SIZE_MAX) {
			char text[DNS_NAME_STRLEN];
			conf_value_text(key, conf_row_field(key, rec), text,
					sizeof(text));
			ret = fail(ld, where[count], "duplicate %s '%s' (first "
				   "at %zu:%zu)", r->item, text,
				   where[dup].line + 1, where[dup].column + 1);
		}
		if (ret != 0)
			break;
	}
	free(seen.slot);
	free(where);
	return ret;
}

/* The current event starts a mapping whose keys are children of section
 * (NULL: the top level); reads it up to its end. */
static int parse_map(struct loader *ld, struct scope *sc,
		     const struct conf_row *section)
{
	int ret;

	while ((ret = ev_next(ld)) == 0) {
		if (ld->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (ld->ev.type != YAML_SCALAR_EVENT)
			return fail(ld, ld->ev.start_mark, "a key must be a "
				    "plain word, not a list or mapping");
		const struct conf_row *r = conf_row_child(section,
			(const char *)ld->ev.data.scalar.value,
			ld->ev.data.scalar.length);
		if (r == NULL)
			return unknown_key(ld, section);
		size_t i = conf_row_index(r);
		if (sc->set[i])
			return fail(ld, ld->ev.start_mark, "duplicate key '%s' "
				    "(first at %zu:%zu)", conf_row_key(r),
				    sc->mark[i].line + 1, sc->mark[i].column + 1);
		sc->set[i] = true;
		sc->mark[i] = ld->ev.start_mark;

		ret = ev_next(ld);
		if (ret != 0)
			return ret;
		switch (r->type) {
		case CONF_T_SECTION:
			if (ev_is_null(&ld->ev))
				break;	/* every option commented out */
			if (ld->ev.type != YAML_MAPPING_START_EVENT)
				return wrong_type(ld, r, false);
			ret = parse_map(ld, sc, r);
			break;
		case CONF_T_RECORDS:
			ret = parse_records(ld, sc, r);
			break;
		default:
			ret = parse_option(ld, sc, r);
			break;
		}
		if (ret != 0)
			return ret;
	}
	return ret;
}

/* The stream holds exactly one document whose root is a mapping. */
static int parse_stream(struct loader *ld, struct scope *root)
{
	int ret = ev_next(ld);	/* stream start */
	if (ret == 0)
		ret = ev_next(ld);
	if (ret != 0)
		return ret;
	if (ld->ev.type == YAML_STREAM_END_EVENT)
		return fail(ld, ld->ev.start_mark, "no configuration in the file");
	ret = ev_next(ld);	/* after document start: the root */
	if (ret != 0)
		return ret;
	if (ev_is_null(&ld->ev))
		return fail(ld, ld->ev.start_mark, "no configuration in the file");
	if (ld->ev.type != YAML_MAPPING_START_EVENT) {
		char what[80];
		return fail(ld, ld->ev.start_mark, "expected a mapping of "
			    "sections (server:, zones:, ...), got %s",
			    ev_what(&ld->ev, what, sizeof(what)));
	}
	ret = parse_map(ld, root, NULL);
	if (ret == 0)
		ret = ev_next(ld);	/* document end */
	if (ret == 0)
		ret = ev_next(ld);
	if (ret == 0 && ld->ev.type != YAML_STREAM_END_EVENT)
		return fail(ld, ld->ev.start_mark, "a second YAML document; "
			    "the file must hold one");
	return ret;
}

int conf_load_buffer(const char *data, size_t len, const char *name,
		     const char *basedir, struct conf *conf, char *errbuf,
		     size_t errlen)
{
	static const char no_mem[] = "out of memory";
	struct conf c;
	struct loader ld = { .data = data, .len = len, .name = name,
			     .basedir = basedir, .err = errbuf, .errlen = errlen };
	struct scope root = { 0 };
	yaml_mark_t start = { 0 };
	int ret;

	memset(&c, 0, sizeof(c));
	if (errlen > 0)
		errbuf[0] = '\0';
	if (!yaml_parser_initialize(&ld.parser)) {
		snprintf(errbuf, errlen, "%s: %s", name, no_mem);
		return ANYDNS_ENOMEM;
	}
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)data, len);
	ret = scope_init(&ld, &root, NULL, &c, start);
	if (ret == 0)
		ret = parse_stream(&ld, &root);
	if (ret == 0)
		ret = finish_record(&ld, &root);

	scope_fini(&root);
	if (ld.have_ev)
		yaml_event_delete(&ld.ev);
	yaml_parser_delete(&ld.parser);
	if (ret != 0) {
		conf_free(&c);
		return ret;
	}
	*conf = c;
	return 0;
}

/* Reads the whole file; *data is NUL-terminated for the caller's ease. */
static int read_file(const char *path, char **data, size_t *len)
{
	int ret = 0;
	char *buf = NULL;
	struct stat st;
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	if (st.st_size > (off_t)CONF_FILE_MAX) {
		ret = ANYDNS_ERANGE;
		goto out;
	}
	size_t cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (buf == NULL) {
		ret = ANYDNS_ENOMEM;
		goto out;
	}
	/* The size may change under us (a file being written); read what
	 * is there, up to the buffer. */
	for (;;) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0 || have + (size_t)n == cap - 1) {
			have += (size_t)n;
			break;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	*data = buf;
	*len = have;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

int conf_load(const char *path, struct conf *conf, char *errbuf, size_t errlen)
{
	char *data = NULL, *abs = NULL, *dir = NULL;
	size_t len = 0;
	struct conf c;
	int ret;

	ret = read_file(path, &data, &len);
	if (ret != 0) {
		snprintf(errbuf, errlen, "%s: %s", path,
			 ret == ANYDNS_ERANGE ? "larger than 16 MiB" :
			 anydns_strerror(ret));
		goto out;
	}
	abs = realpath(path, NULL);
	dir = abs != NULL ? strdup(abs) : NULL;
	if (dir == NULL) {
		ret = abs == NULL && errno != ENOMEM ? -errno : ANYDNS_ENOMEM;
		snprintf(errbuf, errlen, "%s: %s", path, anydns_strerror(ret));
		goto out;
	}
	char *slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';	/* "/etc/x.yaml" -> "/etc" */

	ret = conf_load_buffer(data, len, path, dir, &c, errbuf, errlen);
	if (ret != 0)
		goto out;
	c.file = abs;
	abs = NULL;
	*conf = c;
out:
	free(data);
	free(abs);
	free(dir);
	return ret;
}

/* ---- finish hooks' view ------------------------------------------------- */

bool conf_check_was_set(const struct conf_check *chk, const char *name)
{
	const struct conf_row *r = conf_row_find(name, strlen(name));
	return r != NULL && chk->sc->set[conf_row_index(r)];
}

int conf_check_fail(struct conf_check *chk, const char *name,
		    const char *fmt, ...)
{
	const struct conf_row *r = conf_row_find(name, strlen(name));
	struct scope *sc = chk->sc;
	yaml_mark_t mark = sc->start;
	char msg[256];
	va_list ap;

	if (r != NULL && sc->set[conf_row_index(r)])
		mark = sc->mark[conf_row_index(r)];
	else if (chk->section->type == CONF_T_SECTION &&
		 sc->set[conf_row_index(chk->section)])
		mark = sc->mark[conf_row_index(chk->section)];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(chk->ld, mark, "%s: %s", name, msg);
}
