/*
 * Reading the workers' counters: summing them without a lock (each is
 * written by its worker alone and read here with relaxed atomic loads) and
 * naming them for the metrics endpoint and the control socket, where they
 * become Prometheus samples. Response codes are named as in the IANA DNS
 * RCODE registry (RFC 6895 §2.3), query types by their mnemonics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "server/internal.h"

/* The sum below walks the counters as one array. */
_Static_assert(sizeof(struct server_stats) % sizeof(uint64_t) == 0,
	       "struct server_stats holds uint64_t counters only");

void server_stats(const struct server *srv, struct server_stats *out)
{
	enum { N = sizeof(struct server_stats) / sizeof(uint64_t) };
	uint64_t sum[N];
	memset(sum, 0, sizeof(sum));
	for (unsigned i = 0; i < srv->nworkers; i++) {
		const uint64_t *c = (const uint64_t *)&srv->workers[i]->stats;
		for (size_t k = 0; k < N; k++)
			sum[k] += __atomic_load_n(&c[k], __ATOMIC_RELAXED);
	}
	memcpy(out, sum, sizeof(*out));
}

static const char *const transport_names[SERVER_TRANSPORT_COUNT] = {
	[SERVER_UDP4] = "udp4",
	[SERVER_UDP6] = "udp6",
	[SERVER_TCP4] = "tcp4",
	[SERVER_TCP6] = "tcp6",
};

static const char *const qtype_names[SERVER_QT_COUNT] = {
	[SERVER_QT_A] = "A",
	[SERVER_QT_NS] = "NS",
	[SERVER_QT_CNAME] = "CNAME",
	[SERVER_QT_SOA] = "SOA",
	[SERVER_QT_PTR] = "PTR",
	[SERVER_QT_MX] = "MX",
	[SERVER_QT_TXT] = "TXT",
	[SERVER_QT_AAAA] = "AAAA",
	[SERVER_QT_SRV] = "SRV",
	[SERVER_QT_DS] = "DS",
	[SERVER_QT_DNSKEY] = "DNSKEY",
	[SERVER_QT_HTTPS] = "HTTPS",
	[SERVER_QT_CAA] = "CAA",
	[SERVER_QT_ANY] = "ANY",
	[SERVER_QT_AXFR] = "AXFR",
	[SERVER_QT_IXFR] = "IXFR",
	[SERVER_QT_OTHER] = "other",
};

void server_stats_each(const struct server_stats *st, server_stats_fn fn,
		       void *arg)
{
	for (unsigned i = 0; i < SERVER_TRANSPORT_COUNT; i++)
		fn(arg, "anydns_queries_total", "transport",
		   transport_names[i], st->queries[i]);
	for (unsigned i = 0; i < SERVER_RCODE_SLOTS; i++) {
		char buf[16];
		const char *name = i == SERVER_RCODE_OTHER ? "other" :
			dns_rcode_to_str((uint16_t)i, buf);
		fn(arg, "anydns_responses_total", "rcode", name, st->rcodes[i]);
	}
	for (unsigned i = 0; i < SERVER_QT_COUNT; i++)
		fn(arg, "anydns_queries_by_type_total", "qtype",
		   qtype_names[i], st->qtypes[i]);
	fn(arg, "anydns_truncated_total", NULL, NULL, st->truncated);
	fn(arg, "anydns_dropped_total", NULL, NULL, st->dropped);
	fn(arg, "anydns_malformed_total", NULL, NULL, st->malformed);
	fn(arg, "anydns_send_failed_total", NULL, NULL, st->send_failed);
	fn(arg, "anydns_tcp_connections_total", "event", "accepted",
	   st->tcp_accepted);
	fn(arg, "anydns_tcp_connections_total", "event", "closed",
	   st->tcp_closed);
	fn(arg, "anydns_tcp_connections_total", "event", "refused",
	   st->tcp_refused);
	fn(arg, "anydns_tcp_connections_total", "event", "timeout",
	   st->tcp_timeout);
	fn(arg, "anydns_xfr_out_total", NULL, NULL, st->xfr_out);
	fn(arg, "anydns_notify_in_total", NULL, NULL, st->notify_in);
	fn(arg, "anydns_packet_cache_lookups_total", "result", "hit",
	   st->cache_hits);
	fn(arg, "anydns_packet_cache_lookups_total", "result", "miss",
	   st->cache_misses);
}

struct format_ctx {
	char *buf;
	size_t len;
	size_t need;
};

static void format_line(void *arg, const char *name, const char *label,
			const char *label_value, uint64_t value)
{
	struct format_ctx *f = arg;
	char *dst = f->need < f->len ? f->buf + f->need : NULL;
	size_t room = f->need < f->len ? f->len - f->need : 0;
	int n;
	if (label != NULL)
		n = snprintf(dst, room, "%s{%s=\"%s\"} %" PRIu64 "\n", name,
			     label, label_value, value);
	else
		n = snprintf(dst, room, "%s %" PRIu64 "\n", name, value);
	if (n > 0)
		f->need += (size_t)n;
}

size_t server_stats_format(const struct server_stats *st, char *buf,
			   size_t len)
{
	struct format_ctx f = { .buf = buf, .len = len, .need = 0 };
	if (len > 0)
		buf[0] = '\0';
	server_stats_each(st, format_line, &f);
	return f.need;
}
