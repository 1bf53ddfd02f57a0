/*
 * Fuzz target: one DNS message through dns_query_parse() and the whole
 * answer engine (answer_packet()) over UDP and TCP, against a zone set with
 * wildcards, delegations, CNAME/DNAME chains and large RRsets
 * (tests/fuzz/data/). Any crash, sanitizer report or response that is not
 * a parseable message of at most the transport's size fails.
 */
#include <stdio.h>
#include <stdlib.h>

#include "answer/answer.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "zone/zone.h"

static struct zone_set *zones;
static struct answer_conf conf;

static void load(const char *origin, const char *file, struct zone **out)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t len;
	char err[256];
	if (dns_name_from_str(apex, &len, origin, NULL) != 0 ||
	    zone_load_file(apex, file, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_query: cannot load %s: %s\n", file, err);
		abort();
	}
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
	char p1[512], p2[512];
	snprintf(p1, sizeof(p1), "%s/example.zone", dir);
	snprintf(p2, sizeof(p2), "%s/sub.example.zone", dir);
	struct zone *z[2];
	load("example.", p1, &z[0]);
	load("sub.example.", p2, &z[1]);
	if (zone_set_new(z, 2, &zones) != 0)
		abort();
	answer_conf_init(&conf);
	conf.identity = "fuzz";
	conf.version = "anydns";
	conf.nsid = (const uint8_t *)"fuzz";
	conf.nsid_len = 4;
	conf.tcp_keepalive = 100;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_MSG_MAXLEN];
	for (int t = 0; t < 2; t++) {
		enum answer_transport tr = t == 0 ? ANSWER_UDP : ANSWER_TCP;
		struct answer_result res;
		answer_packet(&conf, zones, data, size, tr, out, sizeof(out), &res);
		if (res.len == 0)
			continue;
		size_t cap = tr == ANSWER_UDP ? 65535 : DNS_MSG_MAXLEN;
		if (res.len < DNS_HEADER_LEN || res.len > cap)
			abort();
		/* Our response must itself be a well-formed message. */
		struct wire_ctx c;
		wire_init(&c, out, res.len);
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
	}
	return 0;
}
