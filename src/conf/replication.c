/*
 * The checks of the replication options (zones' primaries, notify and
 * transfer settings; replication.keys and key-files) that one value alone
 * cannot make, and the list of every TSIG key the daemon knows. Keys are
 * checked here, when the configuration is read, so `anydnsd -n` reports a
 * bad secret or a key file that does not parse, and a zone naming a key
 * nobody defined, before a daemon starts with them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/errcode.h"

static uint16_t port_of(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

/* Addresses written without a port talk DNS on 53. */
static void default_port_53(struct conf_addr *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (port_of(&addrs[i]) != 0)
			continue;
		if (addrs[i].ss.ss_family == AF_INET)
			((struct sockaddr_in *)&addrs[i].ss)->sin_port = htons(53);
		else
			((struct sockaddr_in6 *)&addrs[i].ss)->sin6_port = htons(53);
	}
}

int conf_finish_zone(struct conf_check *chk, void *rec)
{
	struct conf_zone *z = rec;

	default_port_53(z->primaries, z->primaries_count);
	default_port_53(z->notify, z->notify_count);
	if (z->primaries_count == 0 && z->file == NULL)
		return conf_check_fail(chk, "zones.file", "required for a zone "
				       "of our own (a secondary zone has "
				       "primaries)");
	if (z->primaries_count == 0 && z->primary_key != NULL)
		return conf_check_fail(chk, "zones.primary-key", "the zone has "
				       "no primaries");
	if (z->refresh_min_ms > z->refresh_max_ms)
		return conf_check_fail(chk, "zones.refresh-min", "longer than "
				       "refresh-max");
	return 0;
}

int conf_finish_key(struct conf_check *chk, void *rec)
{
	const struct conf_key *k = rec;
	struct dns_tsig_key key;
	char err[256];

	if (dns_tsig_key_init(&key, k->name,
			      dns_tsig_alg_name((enum dns_tsig_alg)(k->algorithm + 1)),
			      k->secret, err, sizeof(err)) != 0)
		return conf_check_fail(chk, "replication.keys.secret",
				       "key '%s': %s", k->name, err);
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int ret = 0;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb = ncap <= (1u << 24) ? realloc(buf, ncap) : NULL;
			if (nb == NULL) {
				ret = ANYDNS_ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				ret = ANYDNS_EIO;
			break;
		}
	}
	fclose(f);
	if (ret != 0) {
		free(buf);
		return ret;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int add_keys(struct dns_tsig_key **all, size_t *n,
		    const struct dns_tsig_key *more, size_t m, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < m; i++) {
		if (dns_tsig_key_find(*all, *n, more[i].name) != NULL) {
			char name[DNS_NAME_STRLEN];
			dns_name_to_str(name, more[i].name);
			snprintf(err, errlen, "key '%s' is defined twice", name);
			return ANYDNS_EEXIST;
		}
		struct dns_tsig_key *grown = realloc(*all, (*n + 1) *
						     sizeof(**all));
		if (grown == NULL)
			return ANYDNS_ENOMEM;
		*all = grown;
		(*all)[(*n)++] = more[i];
	}
	return 0;
}

int conf_tsig_keys(const struct conf *conf, struct dns_tsig_key **keys,
		   size_t *n, char *err, size_t errlen)
{
	const struct conf_replication *r = &conf->replication;
	struct dns_tsig_key *all = NULL;
	size_t count = 0;
	int ret = 0;

	for (size_t i = 0; i < r->keys_count && ret == 0; i++) {
		const struct conf_key *k = &r->keys[i];
		struct dns_tsig_key key;
		char why[256];
		ret = dns_tsig_key_init(&key, k->name,
					dns_tsig_alg_name((enum dns_tsig_alg)
							  (k->algorithm + 1)),
					k->secret, why, sizeof(why));
		if (ret != 0)
			snprintf(err, errlen, "key '%s': %s", k->name, why);
		else
			ret = add_keys(&all, &count, &key, 1, err, errlen);
	}
	for (size_t i = 0; i < r->key_files_count && ret == 0; i++) {
		const char *path = r->key_files[i];
		char *text = NULL;
		size_t len = 0;
		struct dns_tsig_key *more = NULL;
		size_t m = 0;
		ret = read_file(path, &text, &len);
		if (ret != 0) {
			snprintf(err, errlen, "%s: %s", path,
				 anydns_strerror(ret));
			break;
		}
		ret = dns_tsig_keys_parse(text, len, path, &more, &m, err,
					  errlen);
		free(text);
		if (ret == 0)
			ret = add_keys(&all, &count, more, m, err, errlen);
		free(more);
	}
	if (ret != 0) {
		free(all);
		return ret;
	}
	*keys = all;
	*n = count;
	return 0;
}

static int check_key_ref(struct conf_check *chk, const char *option,
			 const char *name, const struct conf_zone *z,
			 const struct dns_tsig_key *keys, size_t n)
{
	uint8_t wire[DNS_NAME_MAXLEN];
	size_t len;
	char zone[DNS_NAME_STRLEN];

	if (name == NULL)
		return 0;
	if (dns_name_from_str(wire, &len, name, NULL) == 0 &&
	    dns_tsig_key_find(keys, n, wire) != NULL)
		return 0;
	dns_name_to_str(zone, z->name);
	return conf_check_fail(chk, option, "zone '%s': no key '%s' in "
			       "replication.keys or key-files", zone, name);
}

int conf_finish_replication(struct conf_check *chk, void *rec)
{
	struct conf *c = rec;
	struct dns_tsig_key *keys = NULL;
	size_t n = 0;
	char err[512];
	int ret = conf_tsig_keys(c, &keys, &n, err, sizeof(err));

	if (ret == ANYDNS_ENOMEM)
		return ret;
	if (ret != 0)
		return conf_check_fail(chk, c->replication.key_files_count > 0 ?
				       "replication.key-files" :
				       "replication.keys", "%s", err);
	for (size_t i = 0; i < c->zones_count && ret == 0; i++) {
		const struct conf_zone *z = &c->zones[i];
		ret = check_key_ref(chk, "zones.primary-key", z->primary_key,
				    z, keys, n);
		if (ret == 0)
			ret = check_key_ref(chk, "zones.notify-key",
					    z->notify_key, z, keys, n);
		if (ret == 0)
			ret = check_key_ref(chk, "zones.transfer-key",
					    z->transfer_key, z, keys, n);
	}
	free(keys);
	if (ret != 0)
		return ret;

	/* A secondary without a file keeps its copy in the storage. */
	for (size_t i = 0; i < c->zones_count; i++) {
		struct conf_zone *z = &c->zones[i];
		char name[DNS_NAME_STRLEN];
		if (z->file != NULL)
			continue;
		dns_name_to_str(name, z->name);
		size_t need = strlen(c->replication.storage) + strlen(name) + 8;
		z->file = malloc(need);
		if (z->file == NULL)
			return ANYDNS_ENOMEM;
		snprintf(z->file, need, "%s/%szone", c->replication.storage,
			 name);
	}
	return 0;
}
