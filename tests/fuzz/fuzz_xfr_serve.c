/*
 * Fuzz target: one DNS message through dns_query_parse() and, when it is a
 * transfer request or a NOTIFY, through xfr_serve() over UDP and TCP, as a
 * DNS worker runs it: AXFR, IXFR (the client's SOA read from the
 * authority section, answered from a history of two changes, condensed or
 * not, or AXFR-style), NOTIFY (the SOA in the answer section), TSIG
 * verification against one key. The first input octet picks the source
 * address (allowed without key, allowed with the key, not allowed) and the
 * condensing threshold; the rest is the message. Every message of the
 * answer must parse back and the answer must fit its framing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/wire.h"
#include "xfr/xfr.h"

static struct zone_set *zones;
static struct dns_tsig_key key;
static struct xfr_acl acls[3];
static struct xfr_zone_policy pol_zones[2];
static struct xfr_policy policy;

static void load(const char *origin, const char *file, struct zone **out)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t len;
	char err[256];
	if (dns_name_from_str(apex, &len, origin, NULL) != 0 ||
	    zone_load_file(apex, file, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_xfr_serve: cannot load %s: %s\n", file, err);
		abort();
	}
}

/* Two more versions of z (serials + 1 and + 2), the last with the history
 * of both changes. */
static struct zone *with_history(struct zone *z0)
{
	struct zone *v[3] = { z0, NULL, NULL };
	struct zone_diff *d[2];
	for (int i = 1; i < 3; i++) {
		if (zone_with_serial(v[i - 1], v[i - 1]->serial + 1, &v[i]) != 0 ||
		    zone_diff_compute(v[i - 1], v[i], &d[i - 1]) != 0)
			abort();
	}
	if (zone_set_history(v[2], d, 2) != 0)
		abort();
	zone_diff_unref(d[0]);
	zone_diff_unref(d[1]);
	zone_free(v[0]);
	zone_free(v[1]);
	return v[2];
}

static void acl(struct xfr_acl *a, const char *addr, const struct dns_tsig_key *k)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->prefix_len = 32;
	inet_pton(AF_INET, addr, a->addr);
	a->key = k;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_SILENT);
	const char *dir = getenv("FUZZ_DATA");
	if (dir == NULL)
		dir = "tests/fuzz/data";
	char p1[512], p2[512], err[256];
	snprintf(p1, sizeof(p1), "%s/example.zone", dir);
	snprintf(p2, sizeof(p2), "%s/sub.example.zone", dir);
	struct zone *z[2];
	load("example.", p1, &z[0]);
	load("sub.example.", p2, &z[1]);
	z[0] = with_history(z[0]);
	if (zone_set_new(z, 2, &zones) != 0)
		abort();
	if (dns_tsig_key_init(&key, "fuzz.key.", "hmac-sha256",
			      "Bs9nIY2mk5G1dGeyRjQmCyCUTGJt7DRYHgSD9Km5sGM=",
			      err, sizeof(err)) != 0)
		abort();
	acl(&acls[0], "192.0.2.1", NULL);
	acl(&acls[1], "192.0.2.2", &key);
	acl(&acls[2], "192.0.2.3", NULL);
	/* Policies sorted by apex (memcmp of the wire form). */
	dns_name_copy_lower(pol_zones[0].apex, z[0]->apex_name);
	dns_name_copy_lower(pol_zones[1].apex, z[1]->apex_name);
	if (memcmp(pol_zones[0].apex, pol_zones[1].apex, DNS_NAME_MAXLEN) > 0) {
		struct xfr_zone_policy t = pol_zones[0];
		pol_zones[0] = pol_zones[1];
		pol_zones[1] = t;
	}
	for (int i = 0; i < 2; i++) {
		pol_zones[i].transfer = acls;
		pol_zones[i].transfer_count = 2;
		pol_zones[i].notify = acls + 1;
		pol_zones[i].notify_count = 2;
		pol_zones[i].message_size = 1024;
	}
	policy.keys = &key;
	policy.key_count = 1;
	policy.zones = pol_zones;
	policy.zone_count = 2;
	return 0;
}

/* Every message of out parses back: header, sections, nothing after. */
static void check_out(const struct xfr_out *out, bool tcp)
{
	size_t at = 0;
	unsigned messages = 0;
	while (at < out->len) {
		size_t len = out->len - at;
		if (tcp) {
			if (len < 2)
				abort();
			len = (size_t)(out->buf[at] << 8 | out->buf[at + 1]);
			at += 2;
			if (len > out->len - at)
				abort();
		}
		struct wire_ctx c;
		wire_init(&c, out->buf + at, len);
		wire_skip(&c, 4);
		unsigned qd = wire_read_u16(&c);
		unsigned rrs = wire_read_u16(&c);
		rrs += wire_read_u16(&c);
		rrs += wire_read_u16(&c);
		uint8_t name[DNS_NAME_MAXLEN];
		size_t nl;
		for (unsigned i = 0; i < qd && c.err == 0; i++) {
			dns_name_read(&c, name, &nl);
			wire_skip(&c, 4);
		}
		for (unsigned i = 0; i < rrs && c.err == 0; i++) {
			dns_name_read(&c, name, &nl);
			wire_skip(&c, 8);
			wire_skip(&c, wire_read_u16(&c));
		}
		if (c.err != 0 || wire_avail(&c) != 0)
			abort();
		at += len;
		messages++;
		if (!tcp && at != out->len)
			abort();
	}
	if (messages != out->messages)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char *const sources[] = { "192.0.2.1", "192.0.2.2",
					       "198.51.100.9" };
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, sources[data[0] % 3], &from.sin_addr);
	pol_zones[0].condense_after = pol_zones[1].condense_after =
		(data[0] >> 2) & 1;

	struct dns_query q;
	if (dns_query_parse(data + 1, size - 1, &q) != 0 || !xfr_handles(&q))
		return 0;
	for (int t = 0; t < 2; t++) {
		struct xfr_out out = { 0 };
		struct xfr_notify_event ev;
		int ret = xfr_serve(&policy, zones, &q,
				    (const struct sockaddr *)&from, t == 1,
				    1700000000, &out, &ev);
		if (ret < 0 && ret != ANYDNS_ENOMEM)
			abort();
		if (ret == 1 && ev.apex[0] == 0 && q.qname_lower[0] != 0)
			abort();
		check_out(&out, t == 1);
		xfr_out_free(&out);
	}
	return 0;
}
