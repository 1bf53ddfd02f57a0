/*
 * Unit tests for the configuration schema and everything driven by it
 * (src/conf/): the table's own consistency, loading good files to exact
 * values, rejecting every kind of bad input with the exact
 * "file:line:column: message" (tests/unit/data/conf/bad-*.yaml, the
 * expected error in the first line), the value types one by one
 * (tests/unit/data/conf/values.txt), conf_print() round trips, and the
 * generated reference: every option is in it and docs/configuration.md is
 * current.
 *
 * Modes besides the tests: `--markdown` writes the reference to stdout
 * (regenerates docs/configuration.md); `--print FILE` loads FILE and
 * prints the normalised configuration, or the error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/internal.h"

#define DATA_DIR "tests/unit/data/conf/"
#define DOC_FILE "docs/configuration.md"

/* ---- helpers ------------------------------------------------------------ */

static void load_ok(const char *path, struct conf *c)
{
	char err[512];
	int ret = conf_load(path, c, err, sizeof(err));
	if (ret != 0)
		fail_msg("%s: %d: %s", path, ret, err);
}

static char *slurp(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	rewind(f);
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		if (got == 0)
			break;
		n += got;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *print_to_string(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	conf_print(f, c);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void addr_is(const struct conf_addr *a, int family, const char *text,
		    uint16_t port)
{
	char got[INET6_ADDRSTRLEN];
	assert_int_equal(a->ss.ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;
		assert_int_equal(a->len, sizeof(*sin));
		inet_ntop(AF_INET, &sin->sin_addr, got, sizeof(got));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
		assert_int_equal(a->len, sizeof(*sin6));
		inet_ntop(AF_INET6, &sin6->sin6_addr, got, sizeof(got));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_string_equal(got, text);
}

/* Absolute form of a path relative to the data directory. */
static void data_path(char *out, size_t cap, const char *rel)
{
	char dir[PATH_MAX];
	assert_non_null(realpath(DATA_DIR, dir));
	snprintf(out, cap, "%s/%s", dir, rel);
}

/* ---- the table ---------------------------------------------------------- */

static void table_is_consistent(void **state)
{
	(void)state;
	size_t options = 0;
	for (size_t i = 0; i < conf_rows_count; i++) {
		const struct conf_row *r = &conf_rows[i];
		assert_non_null(r->name);
		assert_non_null(r->doc);
		assert_true(strlen(r->doc) > 20);
		/* Keys are lowercase words joined by '-'. */
		for (const char *p = conf_row_key(r); *p != '\0'; p++)
			assert_true((*p >= 'a' && *p <= 'z') ||
				    (*p >= '0' && *p <= '9') || *p == '-');
		assert_ptr_equal(conf_row_find(r->name, strlen(r->name)), r);
		const struct conf_row *parent = conf_row_parent(r);
		if (strchr(r->name, '.') != NULL) {
			assert_non_null(parent);
			assert_true(parent < r);
			assert_false(conf_row_is_option(parent));
		}
		if (!conf_row_is_option(r)) {
			if (r->type == CONF_T_RECORDS) {
				assert_true(r->size > 0);
				assert_non_null(r->item);
				if (r->key != NULL)
					assert_non_null(conf_row_child(r, r->key,
								       strlen(r->key)));
			}
			continue;
		}
		options++;
		/* A row has one source of default, or says why it has none. */
		assert_false(r->def != NULL && r->def_fn != NULL);
		assert_true(r->def_fn == NULL || r->def_doc != NULL);
		if (r->def == NULL && r->def_fn == NULL)
			assert_true(r->flags & (CONF_OPTIONAL | CONF_REQUIRED));
		/* The field can hold every value the bounds allow. */
		switch (r->type) {
		case CONF_T_INT:
		case CONF_T_DURATION:
		case CONF_T_SIZE:
			assert_true(r->min <= r->max);
			assert_true(r->size == 1 || r->size == 2 ||
				    r->size == 4 || r->size == 8);
			if (r->size < 8) {
				int64_t top = r->min < 0 ?
					(INT64_C(1) << (r->size * 8 - 1)) - 1 :
					(INT64_C(1) << (r->size * 8)) - 1;
				assert_true(r->max <= top);
				assert_true(r->min >= (r->min < 0 ? -top - 1 : 0));
			}
			break;
		case CONF_T_STR:
		case CONF_T_PATH:
			assert_int_equal(r->size, sizeof(char *));
			break;
		case CONF_T_BOOL:
			assert_int_equal(r->size, sizeof(bool));
			break;
		case CONF_T_ENUM:
			assert_int_equal(r->size, sizeof(int));
			assert_non_null(r->names);
			break;
		case CONF_T_ADDR:
			assert_int_equal(r->size, sizeof(struct conf_addr));
			break;
		case CONF_T_NAME:
			assert_int_equal(r->size, DNS_NAME_MAXLEN);
			break;
		case CONF_T_PREFIX:
			assert_int_equal(r->size, sizeof(struct conf_prefix));
			break;
		case CONF_T_COMMUNITY:
			assert_int_equal(r->size, sizeof(uint32_t));
			break;
		case CONF_T_LCOMMUNITY:
			assert_int_equal(r->size,
					 sizeof(struct conf_large_community));
			break;
		case CONF_T_RRTYPE:
			assert_int_equal(r->size, sizeof(uint16_t));
			break;
		default:
			fail_msg("%s: not an option type", r->name);
		}
	}
	assert_int_equal(options, 81);
}

/* ---- good files --------------------------------------------------------- */

static void load_full(void **state)
{
	(void)state;
	struct conf c;
	char want[PATH_MAX + 64];
	load_ok(DATA_DIR "good-full.yaml", &c);

	data_path(want, sizeof(want), "good-full.yaml");
	assert_string_equal(c.file, want);
	assert_string_equal(c.server.identity, "ns1.ams.example.net");
	assert_string_equal(c.server.version, "");
	assert_string_equal(c.server.nsid, "ams-1");
	assert_int_equal(c.server.listen_count, 3);
	addr_is(&c.server.listen[0], AF_INET, "192.0.2.53", 5300);
	addr_is(&c.server.listen[1], AF_INET6, "2001:db8::53", 5353);
	addr_is(&c.server.listen[2], AF_INET, "127.0.0.1", 53);
	assert_int_equal(c.server.port, 5300);
	assert_int_equal(c.server.workers, 2);
	assert_int_equal(c.server.udp_io, CONF_UDP_IO_MMSG);
	assert_int_equal(c.server.udp_max_payload, 1400);
	assert_int_equal(c.server.tcp_max_clients, 1000);
	assert_int_equal(c.server.tcp_max_per_client, 10);
	assert_int_equal(c.server.tcp_idle_timeout_ms, 60000);
	assert_int_equal(c.server.tcp_keepalive_ms, 2500);
	assert_string_equal(c.server.user, "anydns");
	assert_string_equal(c.server.pidfile, "/run/anydns/anydnsd.pid");
	data_path(want, sizeof(want), "run/anydnsd.sock");
	assert_string_equal(c.control.socket, want);
	addr_is(&c.http.listen, AF_INET6, "::1", 9153);
	assert_int_equal(c.log.level, LOG_LVL_DEBUG);

	assert_int_equal(c.zones_count, 2);
	assert_memory_equal(c.zones[0].name, "\007example\003com", 13);
	data_path(want, sizeof(want), "zones/example.com.zone");
	assert_string_equal(c.zones[0].file, want);
	/* Case is kept as written. */
	assert_memory_equal(c.zones[1].name, "\007Example\003NET", 13);
	assert_string_equal(c.zones[1].file, "/var/lib/anydns/example.net.zone");

	assert_int_equal(c.bgp.local_as, 4200000001u);
	addr_is(&c.bgp.router_id, AF_INET, "192.0.2.254", 0);
	addr_is(&c.bgp.listen, AF_INET6, "::", 1179);
	assert_int_equal(c.bgp.drain_on_stop_ms, 2000);
	assert_int_equal(c.bgp.withdraw_grace_ms, 250);
	assert_int_equal(c.bgp.peers_count, 2);
	const struct conf_bgp_peer *p = &c.bgp.peers[0];
	assert_string_equal(p->name, "transit-a");
	addr_is(&p->address, AF_INET, "192.0.2.100", 0);
	assert_int_equal(p->remote_as, 64501);
	assert_int_equal(p->port, 1790);
	assert_true(p->passive);
	assert_int_equal(p->hold_time_ms, 9000);
	assert_int_equal(p->connect_retry_ms, 2000);
	assert_string_equal(p->md5_password, "s3cret pass");
	addr_is(&p->source_address, AF_INET, "192.0.2.99", 0);
	assert_true(p->ipv4);
	assert_false(p->ipv6);
	assert_int_equal(p->next_hop_v4.len, 0);
	addr_is(&p->next_hop_v6, AF_INET6, "2001:db8::99", 0);
	p = &c.bgp.peers[1];
	assert_string_equal(p->name, "ix.rs-1");
	addr_is(&p->address, AF_INET6, "2001:db8:ffff::1", 0);
	assert_int_equal(p->remote_as, 64502);
	assert_int_equal(p->port, 179);
	assert_false(p->passive);
	assert_int_equal(p->hold_time_ms, 90000);
	assert_int_equal(p->connect_retry_ms, 5000);
	assert_null(p->md5_password);
	assert_int_equal(p->source_address.len, 0);
	assert_true(p->ipv4 && p->ipv6);
	addr_is(&p->next_hop_v4, AF_INET, "192.0.2.99", 0);
	assert_int_equal(p->next_hop_v6.len, 0);

	assert_int_equal(c.health.interval_ms, 200);
	assert_int_equal(c.health.timeout_ms, 150);
	assert_int_equal(c.health.rise, 4);
	assert_int_equal(c.health.fall, 3);
	assert_int_equal(c.health.hold_down_ms, 10000);

	assert_int_equal(c.networks_count, 2);
	const struct conf_network *n = &c.networks[0];
	assert_string_equal(n->name, "global");
	assert_int_equal(n->prefixes_count, 2);
	assert_int_equal(n->prefixes[0].family, AF_INET);
	assert_int_equal(n->prefixes[0].len, 32);
	assert_int_equal(ntohl(n->prefixes[0].addr.v4.s_addr), 0xc0000201);
	assert_int_equal(n->prefixes[1].family, AF_INET6);
	assert_int_equal(n->prefixes[1].len, 128);
	assert_int_equal(n->prefixes[1].addr.v6.s6_addr[15], 0x53);
	assert_int_equal(n->zones_count, 0);
	assert_string_equal(n->interface, "dummy0");
	assert_int_equal(n->prepend, 2);
	assert_int_equal(n->communities_count, 2);
	assert_int_equal(n->communities[0], (64500u << 16) | 1);
	assert_int_equal(n->communities[1], (65000u << 16) | 65535);
	assert_int_equal(n->large_communities_count, 1);
	assert_int_equal(n->large_communities[0].global, 4200000001u);
	assert_int_equal(n->large_communities[0].local1, 1);
	assert_int_equal(n->large_communities[0].local2, 2);
	assert_int_equal(n->drain_time_ms, 30000);
	assert_false(n->checks.zones);
	assert_string_equal(n->checks.command, "/usr/local/bin/pop-ok --quick");
	assert_int_equal(n->checks.command_interval_ms, 5000);
	assert_int_equal(n->checks.command_timeout_ms, 2000);
	assert_true(n->checks.dns.enabled);
	assert_string_equal(n->checks.dns.name, "www.example.com");
	assert_int_equal(n->checks.dns.type, DNS_TYPE_AAAA);
	assert_int_equal(n->checks.dns.expect_rcode, DNS_RCODE_NXDOMAIN);
	assert_string_equal(n->checks.dns.expect_rdata, "2001:db8::80");
	n = &c.networks[1];
	assert_string_equal(n->name, "eu");
	assert_int_equal(n->prefixes_count, 1);
	assert_int_equal(n->prefixes[0].len, 24);
	assert_int_equal(ntohl(n->prefixes[0].addr.v4.s_addr), 0xc6336435);
	assert_int_equal(n->zones_count, 1);
	assert_memory_equal(n->zones[0], "\007example\003NET", 13);
	assert_string_equal(n->interface, "lo");
	assert_int_equal(n->prepend, 0);
	assert_int_equal(n->communities_count, 0);
	assert_int_equal(n->large_communities_count, 0);
	assert_int_equal(n->drain_time_ms, 5000);
	assert_true(n->checks.zones);
	assert_null(n->checks.command);
	assert_int_equal(n->checks.command_interval_ms, 1000);
	assert_int_equal(n->checks.command_timeout_ms, 1000);
	assert_false(n->checks.dns.enabled);
	assert_null(n->checks.dns.name);
	assert_int_equal(n->checks.dns.type, DNS_TYPE_SOA);
	assert_int_equal(n->checks.dns.expect_rcode, DNS_RCODE_NOERROR);
	assert_null(n->checks.dns.expect_rdata);

	struct conf_answer_values av;
	conf_answer_values(&c, &av);
	assert_string_equal(av.identity, "ns1.ams.example.net");
	assert_null(av.version);
	assert_int_equal(av.nsid_len, 5);
	assert_memory_equal(av.nsid, "ams-1", 5);
	assert_int_equal(av.udp_max_payload, 1400);
	assert_int_equal(av.tcp_keepalive, 25);
	conf_free(&c);
	assert_null(c.server.identity);
	assert_null(c.zones);
	assert_int_equal(c.zones_count, 0);
}

static void load_defaults(void **state)
{
	(void)state;
	struct conf c;
	char host[256] = "";
	load_ok(DATA_DIR "good-minimal.yaml", &c);

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	assert_string_equal(c.server.identity, host);
	assert_string_equal(c.server.version, "anydns " ANYDNS_VERSION);
	assert_string_equal(c.server.nsid, host);
	assert_int_equal(c.server.listen_count, 2);
	addr_is(&c.server.listen[0], AF_INET, "0.0.0.0", 53);
	addr_is(&c.server.listen[1], AF_INET6, "::", 53);
	assert_int_equal(c.server.port, 53);
	assert_int_equal(c.server.workers, 0);
	assert_int_equal(c.server.udp_io, CONF_UDP_IO_AUTO);
	assert_int_equal(c.server.udp_max_payload, 1232);
	assert_int_equal(c.server.tcp_max_clients, 4096);
	assert_int_equal(c.server.tcp_max_per_client, 64);
	assert_int_equal(c.server.tcp_idle_timeout_ms, 10000);
	assert_int_equal(c.server.tcp_keepalive_ms, 10000);
	assert_null(c.server.user);
	assert_null(c.server.pidfile);
	assert_string_equal(c.control.socket, "/run/anydns/anydnsd.sock");
	assert_int_equal(c.http.listen.len, 0);
	assert_int_equal(c.log.level, LOG_LVL_INFO);
	assert_int_equal(c.zones_count, 0);
	assert_null(c.zones);
	assert_int_equal(c.bgp.local_as, 0);
	assert_int_equal(c.bgp.router_id.len, 0);
	assert_int_equal(c.bgp.listen.len, 0);
	assert_int_equal(c.bgp.peers_count, 0);
	assert_int_equal(c.bgp.drain_on_stop_ms, 5000);
	assert_int_equal(c.bgp.withdraw_grace_ms, 500);
	assert_int_equal(c.health.interval_ms, 100);
	assert_int_equal(c.health.timeout_ms, 50);
	assert_int_equal(c.health.rise, 3);
	assert_int_equal(c.health.fall, 2);
	assert_int_equal(c.health.hold_down_ms, 5000);
	assert_int_equal(c.networks_count, 0);
	assert_null(c.networks);

	struct conf_answer_values av;
	conf_answer_values(&c, &av);
	assert_string_equal(av.identity, host);
	assert_string_equal(av.version, "anydns " ANYDNS_VERSION);
	assert_int_equal(av.nsid_len, strlen(host));
	assert_int_equal(av.udp_max_payload, 1232);
	assert_int_equal(av.tcp_keepalive, 100);
	conf_free(&c);
}

static void load_flow(void **state)
{
	(void)state;
	struct conf c;
	char want[PATH_MAX + 64];
	load_ok(DATA_DIR "good-flow.yaml", &c);

	assert_int_equal(c.server.listen_count, 1);
	addr_is(&c.server.listen[0], AF_INET6, "::1", 8053);
	assert_int_equal(c.server.tcp_idle_timeout_ms, 90000);
	assert_int_equal(c.server.tcp_keepalive_ms, 0);
	assert_null(c.server.user);
	assert_null(c.server.pidfile);
	assert_int_equal(c.http.listen.len, 0);
	assert_int_equal(c.log.level, LOG_LVL_WARN);
	assert_int_equal(c.zones_count, 2);
	/* "a\.b" is one label holding a dot; \065 is 'A'. */
	assert_memory_equal(c.zones[0].name, "\003a.b\007example", 13);
	data_path(want, sizeof(want), "z/a.zone");
	assert_string_equal(c.zones[0].file, want);
	assert_memory_equal(c.zones[1].name, "\001A\007example", 11);
	data_path(want, sizeof(want), "../up.zone");
	assert_string_equal(c.zones[1].file, want);

	struct conf_answer_values av;
	conf_answer_values(&c, &av);
	assert_int_equal(av.tcp_keepalive, 0);
	conf_free(&c);
}

/* An identity, version and NSID written as "" turn the answers off. */
static void answer_values_disabled(void **state)
{
	(void)state;
	static const char text[] =
		"server: {identity: \"\", version: \"\", nsid: \"\"}\n";
	struct conf c;
	char err[256];
	assert_int_equal(conf_load_buffer(text, strlen(text), "mem", NULL, &c,
					  err, sizeof(err)), 0);
	struct conf_answer_values av;
	conf_answer_values(&c, &av);
	assert_null(av.identity);
	assert_null(av.version);
	assert_null(av.nsid);
	assert_int_equal(av.nsid_len, 0);
	conf_free(&c);

	/* The NSID follows an identity written after it. */
	static const char text2[] = "server: {version: v, identity: pop-7}\n";
	assert_int_equal(conf_load_buffer(text2, strlen(text2), "mem", NULL, &c,
					  err, sizeof(err)), 0);
	assert_string_equal(c.server.nsid, "pop-7");
	assert_string_equal(c.server.version, "v");
	conf_free(&c);
}

/* ---- bad files ---------------------------------------------------------- */

static void bad_files(void **state)
{
	(void)state;
	glob_t g;
	unsigned cases = 0;
	assert_int_equal(glob(DATA_DIR "bad-*.yaml", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		char line[512], want[1024], err[1024];
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "# expect: ", 10) != 0)
			fail_msg("%s: the first line must be '# expect: ...'", path);
		snprintf(want, sizeof(want), "%s:%s", path, line + 10);

		/* All or nothing: a failed load leaves conf as it was. */
		struct conf c, before;
		memset(&c, 0x5a, sizeof(c));
		memcpy(&before, &c, sizeof(c));
		int ret = conf_load(path, &c, err, sizeof(err));
		if (ret != ANYDNS_ECONFIG)
			fail_msg("%s: returned %d, want ANYDNS_ECONFIG", path, ret);
		if (strcmp(err, want) != 0)
			fail_msg("%s:\n  got  '%s'\n  want '%s'", path, err, want);
		assert_memory_equal(&c, &before, sizeof(c));
		cases++;
	}
	globfree(&g);
	assert_int_equal(cases, 80);
}

/* What a data file cannot hold: no bytes at all, a NUL, bad UTF-8, a
 * missing file, and messages cut to a short buffer. */
static void bad_buffers(void **state)
{
	(void)state;
	struct conf c;
	char err[256];

	assert_int_equal(conf_load_buffer("", 0, "empty", NULL, &c, err,
					  sizeof(err)), ANYDNS_ECONFIG);
	assert_string_equal(err, "empty:1:1: no configuration in the file");

	static const char nul[] = "server:\n  identity: a\0b\n";
	assert_int_equal(conf_load_buffer(nul, sizeof(nul) - 1, "nul", NULL, &c,
					  err, sizeof(err)), ANYDNS_ECONFIG);
	assert_string_equal(err, "nul:2:14: YAML syntax error: control "
			    "characters are not allowed");

	static const char utf8[] = "server:\n  identity: \xc3\x28\n";
	assert_int_equal(conf_load_buffer(utf8, sizeof(utf8) - 1, "utf8", NULL,
					  &c, err, sizeof(err)), ANYDNS_ECONFIG);
	assert_string_equal(err, "utf8:2:14: YAML syntax error: invalid "
			    "trailing UTF-8 octet");

	assert_int_equal(conf_load(DATA_DIR "no-such-file.yaml", &c, err,
				   sizeof(err)), -ENOENT);
	assert_string_equal(err, DATA_DIR "no-such-file.yaml: No such file "
			    "or directory");
	assert_int_equal(conf_load(DATA_DIR, &c, err, sizeof(err)), -EISDIR);

	char small[16];
	static const char bad[] = "sever: 1\n";
	assert_int_equal(conf_load_buffer(bad, sizeof(bad) - 1, "file.yaml",
					  NULL, &c, small, sizeof(small)),
			 ANYDNS_ECONFIG);
	assert_string_equal(small, "file.yaml:1:1: ");
	assert_int_equal(conf_load_buffer(bad, sizeof(bad) - 1, "file.yaml",
					  NULL, &c, small, 0), ANYDNS_ECONFIG);
}

/* Zone names are checked for repeats through a hash table that grows as
 * zones are read: a repeat is found however far apart, case-blind, with
 * both positions. */
static void many_zones(void **state)
{
	(void)state;
	size_t cap = 64 * 3000, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "zones:\n");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "  - {name: z%d.example, file: z%d}\n", i, i);
	struct conf c;
	char err[256];
	assert_int_equal(conf_load_buffer(text, n, "many", NULL, &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.zones_count, 2000);
	assert_memory_equal(c.zones[1999].name, "\005z1999\007example", 15);
	assert_string_equal(c.zones[1999].file, "z1999");
	conf_free(&c);

	n += (size_t)snprintf(text + n, cap - n, "  - {file: again, name: Z17.EXAMPLE.}\n");
	assert_int_equal(conf_load_buffer(text, n, "many", NULL, &c, err,
					  sizeof(err)), ANYDNS_ECONFIG);
	assert_string_equal(err, "many:2002:19: duplicate zone 'Z17.EXAMPLE.' "
			    "(first at 19:6)");
	free(text);
}

/* Strings that YAML would refuse or fold if written as they are come
 * back from conf_print() escaped, and load to the same octets. */
static void print_escapes(void **state)
{
	(void)state;
	static const char text[] =
		"server: {identity: \"a\\u2028b\\x85c\\x80d\\ufeffe \xc3\xbc\\\"\\\\\", "
		"version: \"\\t\\r\\n\"}\n";
	static const char want_id[] = "a\xe2\x80\xa8" "b\xc2\x85" "c\xc2\x80"
		"d\xef\xbb\xbf" "e \xc3\xbc\"\\";
	struct conf a, b;
	char err[256];
	assert_int_equal(conf_load_buffer(text, sizeof(text) - 1, "esc", NULL,
					  &a, err, sizeof(err)), 0);
	assert_string_equal(a.server.identity, want_id);
	assert_string_equal(a.server.version, "\t\r\n");
	char *out = print_to_string(&a);
	assert_non_null(strstr(out, "  identity: \"a\\u2028b\\x85c\\x80d\\ufeffe "
				    "\xc3\xbc\\\"\\\\\"\n"));
	assert_non_null(strstr(out, "  version: \"\\x09\\x0d\\x0a\"\n"));
	assert_int_equal(conf_load_buffer(out, strlen(out), "printed", NULL, &b,
					  err, sizeof(err)), 0);
	assert_string_equal(b.server.identity, want_id);
	assert_true(conf_equal(&a, &b));
	free(out);
	conf_free(&a);
	conf_free(&b);
}

/* ---- one value of each type -------------------------------------------- */

/*
 * values.txt: "OPTION INPUT => NORMALISED" or "OPTION INPUT => !message";
 * INPUT is the text between the first space and " => ". Options name real
 * rows; "bool" is a stand-in boolean row with no validator.
 */
static void values_table(void **state)
{
	(void)state;
	static const struct conf_row bool_row = {
		.name = "bool", .type = CONF_T_BOOL, .size = sizeof(bool),
	};
	FILE *f = fopen(DATA_DIR "values.txt", "r");
	assert_non_null(f);
	char line[1024];
	unsigned cases = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *sp = strchr(line, ' ');
		char *arrow = strstr(line, " => ");
		assert_non_null(sp);
		assert_non_null(arrow);
		*sp = '\0';
		*arrow = '\0';
		const char *input = sp + 1, *want = arrow + 4;
		const struct conf_row *r = strcmp(line, "bool") == 0 ? &bool_row :
			conf_row_find(line, strlen(line));
		if (r == NULL)
			fail_msg("values.txt: no option %s", line);

		union {
			char buf[512];
			struct conf_addr addr;
			char *str;
		} v;
		char msg[256], text[512];
		memset(&v, 0, sizeof(v));
		int ret = conf_value_parse(r, input, strlen(input), "/base", &v,
					   msg, sizeof(msg));
		if (want[0] == '!') {
			if (ret != -1)
				fail_msg("%s '%s': accepted, want '%s'", line,
					 input, want + 1);
			if (strcmp(msg, want + 1) != 0)
				fail_msg("%s '%s':\n  got  '%s'\n  want '%s'",
					 line, input, msg, want + 1);
		} else {
			if (ret != 0)
				fail_msg("%s '%s': %s", line, input, msg);
			conf_value_text(r, &v, text, sizeof(text));
			if (strcmp(text, want) != 0)
				fail_msg("%s '%s': got '%s', want '%s'", line,
					 input, text, want);
			/* The normalised text reads back to the same value. */
			union { char buf[512]; char *str; } back;
			memset(&back, 0, sizeof(back));
			assert_int_equal(conf_value_parse(r, text, strlen(text),
							  NULL, &back, msg,
							  sizeof(msg)), 0);
			assert_true(conf_value_equal(r, &v, &back));
			conf_value_free(r, &back);
			conf_value_free(r, &v);
		}
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 163);
}

/* ---- round trip --------------------------------------------------------- */

static void round_trip_one(const char *path)
{
	struct conf a, b;
	char err[512];
	load_ok(path, &a);
	char *first = print_to_string(&a);
	int ret = conf_load_buffer(first, strlen(first), "printed", NULL, &b,
				   err, sizeof(err));
	if (ret != 0)
		fail_msg("%s: printed form does not load: %s\n%s", path, err, first);
	if (!conf_equal(&a, &b))
		fail_msg("%s: printed form loads to other values:\n%s", path, first);
	/* conf_equal() is case-blind for names; the bytes must match too. */
	for (size_t i = 0; i < a.zones_count; i++)
		assert_memory_equal(a.zones[i].name, b.zones[i].name,
				    dns_name_len(a.zones[i].name));
	char *second = print_to_string(&b);
	assert_string_equal(first, second);
	free(first);
	free(second);
	conf_free(&a);
	conf_free(&b);
}

static void round_trip(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob(DATA_DIR "good-*.yaml", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 3);
	for (size_t i = 0; i < g.gl_pathc; i++)
		round_trip_one(g.gl_pathv[i]);
	globfree(&g);
	round_trip_one("examples/anydnsd.yaml");
	round_trip_one("examples/local.yaml");
	round_trip_one("examples/replication/primary.yaml");
	round_trip_one("examples/replication/pop.yaml");
}

/* conf_equal() sees a change in any single option. */
static void equal_detects_changes(void **state)
{
	(void)state;
	struct conf a, b;
	load_ok(DATA_DIR "good-full.yaml", &a);
	load_ok(DATA_DIR "good-full.yaml", &b);
	assert_true(conf_equal(&a, &b));
	b.server.tcp_keepalive_ms = 2600;
	assert_false(conf_equal(&a, &b));
	b.server.tcp_keepalive_ms = a.server.tcp_keepalive_ms;
	b.server.user[0] = 'b';
	assert_false(conf_equal(&a, &b));
	b.server.user[0] = 'a';
	b.zones[1].name[1] = 'x';
	assert_false(conf_equal(&a, &b));
	b.zones[1].name[1] = 'E';
	b.zones_count = 1;
	assert_false(conf_equal(&a, &b));
	b.zones_count = 2;
	((struct sockaddr_in *)&b.server.listen[2].ss)->sin_port = htons(54);
	assert_false(conf_equal(&a, &b));
	((struct sockaddr_in *)&b.server.listen[2].ss)->sin_port = htons(53);
	b.log.level = LOG_LVL_INFO;
	assert_false(conf_equal(&a, &b));
	b.log.level = LOG_LVL_DEBUG;
	b.server.udp_io = CONF_UDP_IO_AUTO;
	assert_false(conf_equal(&a, &b));
	b.server.udp_io = CONF_UDP_IO_MMSG;
	assert_true(conf_equal(&a, &b));
	conf_free(&a);
	conf_free(&b);
}

static void print_exact(void **state)
{
	(void)state;
	struct conf c;
	char want[2 * PATH_MAX + 4096], dir[PATH_MAX];
	load_ok(DATA_DIR "good-flow.yaml", &c);
	free(c.server.identity);
	free(c.server.nsid);
	c.server.identity = strdup("id \"q\" \\ \t");
	c.server.nsid = strdup("n");
	char *got = print_to_string(&c);
	assert_non_null(realpath(DATA_DIR, dir));
	snprintf(want, sizeof(want),
		 "server:\n"
		 "  identity: \"id \\\"q\\\" \\\\ \\x09\"\n"
		 "  version: \"anydns " ANYDNS_VERSION "\"\n"
		 "  nsid: \"n\"\n"
		 "  listen:\n"
		 "    - \"::1@8053\"\n"
		 "  port: 8053\n"
		 "  workers: 0\n"
		 "  udp-io: auto\n"
		 "  udp-max-payload: 1232\n"
		 "  packet-cache: 16777216\n"
		 "  tcp-max-clients: 4096\n"
		 "  tcp-max-per-client: 64\n"
		 "  tcp-idle-timeout: 90s\n"
		 "  tcp-keepalive: 0s\n"
		 "  user: ~\n"
		 "  pidfile: ~\n"
		 "control:\n"
		 "  socket: \"/run/anydns/anydnsd.sock\"\n"
		 "http:\n"
		 "  listen: ~\n"
		 "log:\n"
		 "  level: warning\n"
		 "zones:\n"
		 "  - name: \"a\\\\.b.example.\"\n"
		 "    file: \"%s/z/a.zone\"\n"
		 "    primaries: []\n"
		 "    primary-key: ~\n"
		 "    notify: []\n"
		 "    notify-key: ~\n"
		 "    allow-transfer: []\n"
		 "    transfer-key: ~\n"
		 "    serial-policy: increment\n"
		 "    journal-max-size: 16777216\n"
		 "    transfer-max-size: 0\n"
		 "    ixfr-condense-after: 100\n"
		 "    refresh-min: 2s\n"
		 "    refresh-max: 1d\n"
		 "  - name: \"A.example.\"\n"
		 "    file: \"%s/../up.zone\"\n"
		 "    primaries: []\n"
		 "    primary-key: ~\n"
		 "    notify: []\n"
		 "    notify-key: ~\n"
		 "    allow-transfer: []\n"
		 "    transfer-key: ~\n"
		 "    serial-policy: increment\n"
		 "    journal-max-size: 16777216\n"
		 "    transfer-max-size: 0\n"
		 "    ixfr-condense-after: 100\n"
		 "    refresh-min: 2s\n"
		 "    refresh-max: 1d\n"
		 "replication:\n"
		 "  storage: \"/var/lib/anydns\"\n"
		 "  keys: []\n"
		 "  key-files: []\n"
		 "  notify-timeout: 1s\n"
		 "  notify-retries: 5\n"
		 "  transfer-timeout: 10s\n"
		 "bgp:\n"
		 "  local-as: 0\n"
		 "  router-id: ~\n"
		 "  listen: ~\n"
		 "  drain-on-stop: 5s\n"
		 "  withdraw-grace: 500ms\n"
		 "  peers: []\n"
		 "health:\n"
		 "  interval: 100ms\n"
		 "  timeout: 50ms\n"
		 "  rise: 3\n"
		 "  fall: 2\n"
		 "  hold-down: 5s\n"
		 "networks: []\n", dir, dir);
	assert_string_equal(got, want);
	free(got);

	c.server.listen_count = 0;
	c.zones_count = 0;
	got = print_to_string(&c);
	assert_non_null(strstr(got, "\n  listen: []\n"));
	assert_non_null(strstr(got, "\nzones: []\n"));
	free(got);
	c.server.listen_count = 1;
	c.zones_count = 2;
	conf_free(&c);
}

/* ---- the reference ------------------------------------------------------ */

static char *markdown(size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_non_null(f);
	conf_doc_markdown(f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void doc_lists_every_option(void **state)
{
	(void)state;
	size_t len;
	char *md = markdown(&len);
	char want[256];
	for (size_t i = 0; i < conf_rows_count; i++) {
		const struct conf_row *r = &conf_rows[i];
		if (conf_row_is_option(r)) {
			snprintf(want, sizeof(want), "\n### `%s`\n", r->name);
			if (strstr(md, want) == NULL)
				fail_msg("no heading for %s", r->name);
			snprintf(want, sizeof(want), "| [`%s`](#", r->name);
			if (strstr(md, want) == NULL)
				fail_msg("%s is not in the summary", r->name);
		} else {
			snprintf(want, sizeof(want), "\n## `%s`\n", r->name);
			if (strstr(md, want) == NULL)
				fail_msg("no heading for section %s", r->name);
		}
		assert_non_null(strstr(md, r->doc));
	}
	assert_non_null(strstr(md, "- type: duration, 100ms to 1h\n"
				   "- default: `10s`\n"));
	assert_non_null(strstr(md, "- type: list of: IP address, `ADDR` or "
				   "`ADDR@PORT`\n- default: `0.0.0.0`, `::`\n"));
	assert_non_null(strstr(md, "- default: the host name\n"));
	assert_non_null(strstr(md, "- default: none: required\n"));

	/* The committed reference is what the table generates now. */
	FILE *f = fopen(DOC_FILE, "r");
	if (f == NULL)
		fail_msg("cannot open %s", DOC_FILE);
	size_t flen;
	char *file = slurp(f, &flen);
	fclose(f);
	if (flen != len || memcmp(file, md, len) != 0)
		fail_msg("%s is out of date: regenerate it with "
			 "build/release/tests/unit/test_conf_schema --markdown "
			 "> %s", DOC_FILE, DOC_FILE);
	free(file);
	free(md);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
		conf_doc_markdown(stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--print") == 0) {
		struct conf c;
		char err[1024];
		if (conf_load(argv[2], &c, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		conf_print(stdout, &c);
		conf_free(&c);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_consistent),
		cmocka_unit_test(load_full),
		cmocka_unit_test(load_defaults),
		cmocka_unit_test(load_flow),
		cmocka_unit_test(answer_values_disabled),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(bad_buffers),
		cmocka_unit_test(many_zones),
		cmocka_unit_test(print_escapes),
		cmocka_unit_test(values_table),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(equal_detects_changes),
		cmocka_unit_test(print_exact),
		cmocka_unit_test(doc_lists_every_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
