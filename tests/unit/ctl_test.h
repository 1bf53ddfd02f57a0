/*
 * What the ctl tests (tests/unit/test_ctl_*.c) share, as static inline
 * functions because every .c file beside the tests is linked into every
 * test: one fixed view of a daemon (three zones: one loaded, one whose
 * reload failed with its old version serving and a name that needs
 * escaping, one that never loaded; distinct counter values) and a helper
 * that compares what a writer produced with a file of expected text.
 */
#ifndef ANYDNS_TESTS_UNIT_CTL_TEST_H
#define ANYDNS_TESTS_UNIT_CTL_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#define CT_DATA "tests/unit/data/ctl/"

struct ct_fixture {
	struct ctl_view view;
	struct server_stats stats;
	struct conf_addr listen[2];
	struct zone_reload_status zones[3];
	uint8_t names[3][DNS_NAME_MAXLEN];
};

static inline void ct_name(uint8_t *dst, const char *s)
{
	size_t len;
	assert_int_equal(dns_name_from_str(dst, &len, s, NULL), 0);
}

static inline void ct_fixture_init(struct ct_fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	struct server_stats *st = &fx->stats;
	for (int i = 0; i < SERVER_TRANSPORT_COUNT; i++)
		st->queries[i] = 1 + (uint64_t)i;
	for (int i = 0; i < SERVER_RCODE_SLOTS; i++)
		st->rcodes[i] = 100 + (uint64_t)i;
	for (int i = 0; i < SERVER_QT_COUNT; i++)
		st->qtypes[i] = 200 + (uint64_t)i;
	st->truncated = 300;
	st->dropped = 301;
	st->malformed = 302;
	st->send_failed = UINT64_MAX;
	st->tcp_accepted = 400;
	st->tcp_closed = 401;
	st->tcp_refused = 402;
	st->tcp_timeout = 403;
	st->xfr_out = 404;
	st->notify_in = 405;
	st->cache_hits = 406;
	st->cache_misses = 407;

	struct sockaddr_in *sin = (struct sockaddr_in *)&fx->listen[0].ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53);
	inet_pton(AF_INET, "192.0.2.53", &sin->sin_addr);
	fx->listen[0].len = sizeof(*sin);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&fx->listen[1].ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(5353);
	inet_pton(AF_INET6, "2001:db8::53", &sin6->sin6_addr);
	fx->listen[1].len = sizeof(*sin6);

	ct_name(fx->names[0], "example.com.");
	ct_name(fx->names[1], "we\\\"ird\\\\.test.");
	ct_name(fx->names[2], "absent.test.");
	struct zone_reload_status *z = fx->zones;
	z[0] = (struct zone_reload_status){
		.name = fx->names[0], .file = "/srv/zones/example.com.zone",
		.state = ZONE_RELOAD_LOADED, .serving = true,
		.serial = 2024010101, .loaded_at = 1700000000 };
	z[1] = (struct zone_reload_status){
		.name = fx->names[1], .file = "/srv/zones/weird.zone",
		.state = ZONE_RELOAD_FAILED_KEPT, .serving = true,
		.serial = 7, .loaded_at = 1699999000 };
	snprintf(z[1].error, sizeof(z[1].error),
		 "/srv/zones/weird.zone:12: invalid IPv4 address");
	z[2] = (struct zone_reload_status){
		.name = fx->names[2], .file = "/srv/zones/absent.zone",
		.state = ZONE_RELOAD_FAILED_ABSENT };
	snprintf(z[2].error, sizeof(z[2].error), "cannot open "
		 "/srv/zones/absent.zone: No such file or directory");

	fx->view = (struct ctl_view){
		.version = "0.1.0", .started = 1699998000, .uptime = 12.5,
		.workers = 4, .listen = fx->listen, .listen_count = 2,
		.stats = &fx->stats, .zones = fx->zones, .zone_count = 3,
		.reloads = 3, .load_failures = 2 };
}

typedef void (*ct_writer)(FILE *f, const struct ctl_view *v);

/* Runs the writer into memory; the caller frees the text. */
static inline char *ct_write(ct_writer write, const struct ctl_view *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	write(f, v);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static inline char *ct_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, out);
	fclose(f);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* The writer's text must be the file's, octet for octet. */
static inline void ct_expect(ct_writer write, const struct ctl_view *v,
			     const char *file)
{
	char *got = ct_write(write, v);
	char *want = ct_read_file(file);
	if (strcmp(got, want) != 0) {
		size_t i = 0;
		while (got[i] == want[i])
			i++;
		fail_msg("%s differs at octet %zu:\n--- got from there:\n%.200s\n"
			 "--- want from there:\n%.200s", file, i, got + i, want + i);
	}
	free(got);
	free(want);
}

#endif
