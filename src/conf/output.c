/*
 * Everything that walks a loaded configuration or the schema without
 * reading YAML: the normalised YAML of conf_print() (what `anydnsd -n`
 * shows, and what conf_load() reads back to an equal conf), conf_equal(),
 * conf_free() and the Markdown reference of
 * docs/configuration.md. Each is one recursive walk over the rows, so a
 * new row appears in all of them without a change here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

/* Every row whose parent is parent, in table order. */
#define FOR_CHILDREN(r, parent) \
	for (const struct conf_row *r = conf_rows; r < conf_rows + conf_rows_count; r++) \
		if (conf_row_parent(r) == (parent))

/* ---- conf_print --------------------------------------------------------- */

struct printer {
	FILE *f;
	bool dash;	/* the next line starts a list item: "- " */
};

static void line_start(struct printer *p, int indent)
{
	if (p->dash)
		fprintf(p->f, "%*s- ", indent - 2, "");
	else
		fprintf(p->f, "%*s", indent, "");
	p->dash = false;
}

static bool has_children(const struct conf_row *parent)
{
	FOR_CHILDREN(r, parent)
		return true;
	return false;
}

static void print_map(struct printer *p, const struct conf_row *parent,
		      const void *rec, int indent)
{
	FOR_CHILDREN(r, parent) {
		void *items;
		size_t count;

		line_start(p, indent);
		fprintf(p->f, "%s:", conf_row_key(r));
		if (r->type == CONF_T_SECTION) {
			if (!has_children(r)) {
				fputs(" {}\n", p->f);
				continue;
			}
			fputc('\n', p->f);
			print_map(p, r, rec, indent + 2);
		} else if (r->type == CONF_T_RECORDS) {
			conf_list_get(r, rec, &items, &count);
			fputs(count == 0 ? " []\n" : "\n", p->f);
			for (size_t i = 0; i < count; i++) {
				p->dash = true;
				print_map(p, r, (char *)items + i * r->size,
					  indent + 4);
				if (p->dash) {
					line_start(p, indent + 4);
					fputs("{}\n", p->f);
				}
			}
		} else if (r->flags & CONF_LIST) {
			conf_list_get(r, rec, &items, &count);
			fputs(count == 0 ? " []\n" : "\n", p->f);
			for (size_t i = 0; i < count; i++) {
				fprintf(p->f, "%*s- ", indent + 2, "");
				conf_value_yaml(p->f, r, (char *)items + i * r->size);
				fputc('\n', p->f);
			}
		} else {
			fputc(' ', p->f);
			conf_value_yaml(p->f, r, (const char *)rec + r->offset);
			fputc('\n', p->f);
		}
	}
}

void conf_print(FILE *f, const struct conf *conf)
{
	struct printer p = { f, false };
	print_map(&p, NULL, conf, 0);
}

/* ---- conf_equal --------------------------------------------------------- */

static bool equal_map(const struct conf_row *parent, const void *a,
		      const void *b)
{
	FOR_CHILDREN(r, parent) {
		void *ia, *ib;
		size_t na, nb;

		if (r->type == CONF_T_SECTION) {
			if (!equal_map(r, a, b))
				return false;
			continue;
		}
		if (r->type != CONF_T_RECORDS && !(r->flags & CONF_LIST)) {
			if (!conf_value_equal(r, (const char *)a + r->offset,
					      (const char *)b + r->offset))
				return false;
			continue;
		}
		conf_list_get(r, a, &ia, &na);
		conf_list_get(r, b, &ib, &nb);
		if (na != nb)
			return false;
		for (size_t i = 0; i < na; i++) {
			const char *x = (const char *)ia + i * r->size;
			const char *y = (const char *)ib + i * r->size;
			if (r->type == CONF_T_RECORDS ? !equal_map(r, x, y)
						      : !conf_value_equal(r, x, y))
				return false;
		}
	}
	return true;
}

bool conf_equal(const struct conf *a, const struct conf *b)
{
	return equal_map(NULL, a, b);
}

/* ---- conf_free ---------------------------------------------------------- */

static void free_map(const struct conf_row *parent, void *rec)
{
	FOR_CHILDREN(r, parent) {
		void *items;
		size_t count;

		if (r->type == CONF_T_SECTION) {
			free_map(r, rec);
			continue;
		}
		if (r->type != CONF_T_RECORDS && !(r->flags & CONF_LIST)) {
			conf_value_free(r, conf_row_field(r, rec));
			continue;
		}
		conf_list_get(r, rec, &items, &count);
		for (size_t i = 0; i < count; i++) {
			char *item = (char *)items + i * r->size;
			if (r->type == CONF_T_RECORDS)
				free_map(r, item);
			else
				conf_value_free(r, item);
		}
		free(items);
		conf_list_set(r, rec, NULL, 0);
	}
}

void conf_free(struct conf *conf)
{
	free_map(NULL, conf);
	free(conf->file);
	memset(conf, 0, sizeof(*conf));
}

/* ---- docs/configuration.md ---------------------------------------------- */

static void doc_default(FILE *f, const struct conf_row *r)
{
	if (r->def_fn != NULL) {
		fputs(r->def_doc, f);
	} else if (r->def == NULL) {
		fputs((r->flags & CONF_REQUIRED) ? "none: required" : "not set", f);
	} else if (r->flags & CONF_LIST) {
		const char *p = r->def;
		if (*p == '\0')
			fputs("empty list", f);
		while (*p != '\0') {
			size_t len = strcspn(p, " ");
			fprintf(f, "`%.*s`%s", (int)len, p,
				p[len] == ' ' ? ", " : "");
			p += len + (p[len] == ' ');
		}
	} else if (r->def[0] == '\0') {
		fputs("`\"\"` (empty)", f);
	} else {
		fprintf(f, "`%s`", r->def);
	}
}

static const char doc_intro[] =
	"# anydnsd configuration reference\n"
	"\n"
	"<!-- Generated from the schema table in src/conf/schema.c by\n"
	"     `build/release/tests/unit/test_conf_schema --markdown`; do not edit\n"
	"     by hand: a unit test fails when this file and the table differ. -->\n"
	"\n"
	"anydnsd reads one YAML file. Its top level is a mapping of the sections\n"
	"below; every option has a type, and all but a few have a default, so a\n"
	"file needs only what differs from it. A key the daemon does not know, a\n"
	"value of the wrong type or out of range, a repeated key or zone is an\n"
	"error reported as `file:line:column: message`, and nothing of the file is\n"
	"used until all of it is valid.\n"
	"\n"
	"How values are written:\n"
	"\n"
	"- **duration**: a whole number with a unit, `ms`, `s`, `m`, `h` or `d`\n"
	"  (`300ms`, `10s`, `5m`); a bare number is seconds.\n"
	"- **size**: octets, optionally with `k`, `m` or `g` (times 1024): `1232`,\n"
	"  `64k`.\n"
	"- **IP address**: IPv4 or IPv6 text, with `@PORT` where a port is allowed:\n"
	"  `192.0.2.1`, `2001:db8::1@5353`.\n"
	"- **domain name**: presentation format (RFC 1035 §5.1, with `\\.` and\n"
	"  `\\DDD` escapes); the name is absolute whether or not it ends in a dot.\n"
	"- **file path**: a relative path is taken from the directory of the\n"
	"  configuration file.\n"
	"- **string**: any YAML scalar; `\"\"` is the empty string.\n"
	"- **list**: a YAML sequence, block or flow (`[a, b]`); one value alone is\n"
	"  a list of one.\n"
	"- An option marked *not set* by default may be written as `~` (null) to\n"
	"  leave it unset; a section with every option commented out may stay\n"
	"  empty.\n"
	"\n"
	"`anydnsd -n` prints the configuration it would run with: every option\n"
	"with its effective value, in the order of this page.\n";

static void doc_row(FILE *f, const struct conf_row *r)
{
	char type[256];
	conf_value_describe(r, type, sizeof(type));
	fprintf(f, "\n### `%s`\n\n", r->name);
	fprintf(f, "- type: %s\n- default: ", type);
	doc_default(f, r);
	fprintf(f, "\n\n%s\n", r->doc);
}

static void doc_section(FILE *f, const struct conf_row *section)
{
	fprintf(f, "\n## `%s`\n\n%s", section->name, section->doc);
	if (section->type == CONF_T_RECORDS)
		fprintf(f, " A list: each %s is a mapping of the keys below "
			"(written `%s.KEY` here and in messages).", section->item,
			section->name);
	fputc('\n', f);
	FOR_CHILDREN(r, section) {
		if (conf_row_is_option(r))
			doc_row(f, r);
	}
	FOR_CHILDREN(r, section) {
		if (!conf_row_is_option(r))
			doc_section(f, r);
	}
}

void conf_doc_markdown(FILE *f)
{
	char type[256];

	fputs(doc_intro, f);
	fputs("\n## Summary\n\n| option | type | default |\n|---|---|---|\n", f);
	for (size_t i = 0; i < conf_rows_count; i++) {
		const struct conf_row *r = &conf_rows[i];
		if (!conf_row_is_option(r))
			continue;
		conf_value_describe(r, type, sizeof(type));
		fprintf(f, "| [`%s`](#", r->name);
		for (const char *p = r->name; *p != '\0'; p++)
			if (*p != '.')
				fputc(*p, f);
		fprintf(f, ") | %s | ", type);
		doc_default(f, r);
		fputs(" |\n", f);
	}
	FOR_CHILDREN(r, NULL) {
		if (conf_row_is_option(r))
			doc_row(f, r);
		else
			doc_section(f, r);
	}
}
