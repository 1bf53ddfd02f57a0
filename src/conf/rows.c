/*
 * Walking the schema table: finding a row by its dotted name, its key, its
 * parent and the record its field lives in. The table is small (tens of
 * rows) and walked at load time only, so plain scans keep it obvious.
 */
#include <string.h>

#include "conf/internal.h"

const struct conf_row *conf_row_find(const char *name, size_t len)
{
	for (size_t i = 0; i < conf_rows_count; i++)
		if (strncmp(conf_rows[i].name, name, len) == 0 &&
		    conf_rows[i].name[len] == '\0')
			return &conf_rows[i];
	return NULL;
}

const struct conf_row *conf_row_child(const struct conf_row *parent,
				      const char *key, size_t len)
{
	for (size_t i = 0; i < conf_rows_count; i++) {
		const char *name = conf_rows[i].name;
		if (parent != NULL) {
			size_t plen = strlen(parent->name);
			if (strncmp(name, parent->name, plen) != 0 ||
			    name[plen] != '.')
				continue;
			name += plen + 1;
		}
		if (strncmp(name, key, len) == 0 && name[len] == '\0' &&
		    memchr(key, '.', len) == NULL)
			return &conf_rows[i];
	}
	return NULL;
}

const char *conf_row_key(const struct conf_row *r)
{
	const char *dot = strrchr(r->name, '.');
	return dot != NULL ? dot + 1 : r->name;
}

const struct conf_row *conf_row_parent(const struct conf_row *r)
{
	const char *dot = strrchr(r->name, '.');
	if (dot == NULL)
		return NULL;
	return conf_row_find(r->name, (size_t)(dot - r->name));
}

const struct conf_row *conf_row_record(const struct conf_row *r)
{
	for (const struct conf_row *p = conf_row_parent(r); p != NULL;
	     p = conf_row_parent(p))
		if (p->type == CONF_T_RECORDS)
			return p;
	return NULL;
}
