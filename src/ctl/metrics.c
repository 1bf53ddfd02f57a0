/*
 * The /metrics page: Prometheus text exposition format 0.0.4, each metric
 * with its HELP and TYPE lines, names per the Prometheus conventions
 * (anydns_ prefix, base units, _total for counters, _seconds for times,
 * _info for build information). The server's counters keep the names
 * src/server gives them (server_stats_each()), so `anydnsc stats` and
 * /metrics agree; the daemon's own gauges are added here. Every metric is
 * documented in docs/operations.md.
 */
#include <inttypes.h>
#include <string.h>

#include "ctl/internal.h"

/* HELP of the server's counters, by the names server_stats_each() gives. */
static const struct {
	const char *name;
	const char *help;
} server_help[] = {
	{ "anydns_queries_total",
	  "DNS messages received, by transport." },
	{ "anydns_responses_total",
	  "DNS responses sent, by RCODE." },
	{ "anydns_queries_by_type_total",
	  "DNS messages received with a readable question, by QTYPE." },
	{ "anydns_truncated_total",
	  "Responses sent with TC set, for the client to retry over TCP." },
	{ "anydns_dropped_total",
	  "DNS messages received and not answered." },
	{ "anydns_malformed_total",
	  "Messages answered FORMERR because they did not parse, and TCP "
	  "messages with broken framing." },
	{ "anydns_send_failed_total",
	  "Responses the kernel did not take for sending." },
	{ "anydns_tcp_connections_total",
	  "TCP connection events: accepted, closed, refused over a limit, "
	  "closed after the idle timeout." },
	{ "anydns_xfr_out_total",
	  "Zone transfers (AXFR, IXFR) served to secondaries." },
	{ "anydns_notify_in_total",
	  "NOTIFY messages accepted from primaries." },
	{ "anydns_packet_cache_lookups_total",
	  "UDP queries looked up in the packet cache: answered from it "
	  "(hit) or not (miss)." },
};

void ctl_write_label(FILE *f, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n') {
			fputs("\\n", f);
			continue;
		}
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		fputc(*p, f);
	}
}

static void header(FILE *f, const char *name, const char *type,
		   const char *help)
{
	if (help != NULL)
		fprintf(f, "# HELP %s %s\n", name, help);
	fprintf(f, "# TYPE %s %s\n", name, type);
}

struct sample_ctx {
	FILE *f;
	const char *last;	/* metric whose header was written last */
};

static void server_sample(void *arg, const char *name, const char *label,
			  const char *label_value, uint64_t value)
{
	struct sample_ctx *s = arg;
	if (s->last == NULL || strcmp(s->last, name) != 0) {
		const char *help = NULL;
		for (size_t i = 0; i < sizeof(server_help) / sizeof(server_help[0]); i++)
			if (strcmp(server_help[i].name, name) == 0)
				help = server_help[i].help;
		header(s->f, name, "counter", help);
		s->last = name;
	}
	if (label != NULL) {
		fprintf(s->f, "%s{%s=\"", name, label);
		ctl_write_label(s->f, label_value);
		fprintf(s->f, "\"} %" PRIu64 "\n", value);
	} else {
		fprintf(s->f, "%s %" PRIu64 "\n", name, value);
	}
}

/* One labeled sample per zone served; per configured zone for ZV_FAILED,
 * which is about zones that may have nothing served. */
enum zone_value { ZV_SERIAL, ZV_LOADED, ZV_FAILED };

static void zone_samples(FILE *f, const struct ctl_view *v, const char *name,
			 enum zone_value what)
{
	char zname[DNS_NAME_STRLEN];
	for (size_t i = 0; i < v->zone_count; i++) {
		const struct zone_reload_status *z = &v->zones[i];
		bool bad = z->state == ZONE_RELOAD_FAILED_KEPT ||
			   z->state == ZONE_RELOAD_FAILED_ABSENT;
		if (what != ZV_FAILED && !z->serving)
			continue;
		dns_name_to_str(zname, z->name);
		fprintf(f, "%s{zone=\"", name);
		ctl_write_label(f, zname);
		fputs("\"} ", f);
		switch (what) {
		case ZV_SERIAL:
			fprintf(f, "%" PRIu32 "\n", z->serial);
			break;
		case ZV_LOADED:
			fprintf(f, "%lld\n", (long long)z->loaded_at);
			break;
		case ZV_FAILED:
			fprintf(f, "%d\n", bad ? 1 : 0);
			break;
		}
	}
}

/* The replication metric families, one sample per zone they apply to. */
enum repl_value {
	RV_PRIMARY_SERIAL, RV_LAG, RV_LAST_TRANSFER, RV_TRANSFERS,
	RV_FAILURES, RV_EXPIRED, RV_NOTIFIES, RV_NOTIFIES_LOST, RV_JOURNAL,
};

static const struct {
	enum repl_value what;
	const char *name, *type, *help;
	bool secondary_only;
} repl_metrics[] = {
	{ RV_PRIMARY_SERIAL, "anydns_zone_primary_serial", "gauge",
	  "The newest serial of the zone known at its primary (secondary "
	  "zones, once known).", true },
	{ RV_LAG, "anydns_zone_lag_seconds", "gauge",
	  "How long the zone has lagged its primary's newest serial; 0 when "
	  "current (secondary zones).", true },
	{ RV_LAST_TRANSFER, "anydns_zone_last_transfer_timestamp_seconds",
	  "gauge", "When the last transfer into the zone ended, in seconds "
	  "since the Unix epoch; 0: none since the start.", true },
	{ RV_TRANSFERS, "anydns_zone_transfers_total", "counter",
	  "Transfers (IXFR or AXFR) into the zone.", true },
	{ RV_FAILURES, "anydns_zone_transfer_failures_total", "counter",
	  "Pulls of the zone from its primaries that failed.", true },
	{ RV_EXPIRED, "anydns_zone_expired", "gauge",
	  "1 while the zone is expired and answered SERVFAIL, else 0.", true },
	{ RV_NOTIFIES, "anydns_zone_notifies_sent_total", "counter",
	  "NOTIFY messages sent for the zone, retries included.", false },
	{ RV_NOTIFIES_LOST, "anydns_zone_notifies_unanswered_total",
	  "counter", "NOTIFYs given up after every retry.", false },
	{ RV_JOURNAL, "anydns_zone_journal_bytes", "gauge",
	  "Size of the zone's journal file.", false },
};

static void repl_samples(FILE *f, const struct ctl_view *v)
{
	char zname[DNS_NAME_STRLEN];
	if (v->repl == NULL)
		return;
	for (size_t m = 0; m < sizeof(repl_metrics) / sizeof(repl_metrics[0]); m++) {
		header(f, repl_metrics[m].name, repl_metrics[m].type,
		       repl_metrics[m].help);
		for (size_t i = 0; i < v->zone_count; i++) {
			const struct ctl_zone_repl *r = &v->repl[i];
			if (repl_metrics[m].secondary_only && !r->secondary)
				continue;
			if (repl_metrics[m].what == RV_PRIMARY_SERIAL &&
			    !r->primary_serial_known)
				continue;
			dns_name_to_str(zname, v->zones[i].name);
			fprintf(f, "%s{zone=\"", repl_metrics[m].name);
			ctl_write_label(f, zname);
			fputs("\"} ", f);
			switch (repl_metrics[m].what) {
			case RV_PRIMARY_SERIAL:
				fprintf(f, "%" PRIu32 "\n", r->primary_serial);
				break;
			case RV_LAG:
				fprintf(f, "%.3f\n", r->lag);
				break;
			case RV_LAST_TRANSFER:
				fprintf(f, "%lld\n", (long long)r->last_transfer);
				break;
			case RV_TRANSFERS:
				fprintf(f, "%" PRIu64 "\n", r->transfers);
				break;
			case RV_FAILURES:
				fprintf(f, "%" PRIu64 "\n", r->failures);
				break;
			case RV_EXPIRED:
				fprintf(f, "%d\n", r->expired ? 1 : 0);
				break;
			case RV_NOTIFIES:
				fprintf(f, "%" PRIu64 "\n", r->notifies_sent);
				break;
			case RV_NOTIFIES_LOST:
				fprintf(f, "%" PRIu64 "\n",
					r->notifies_unanswered);
				break;
			case RV_JOURNAL:
				fprintf(f, "%" PRIu64 "\n", r->journal_size);
				break;
			}
		}
	}
}

void ctl_write_metrics(FILE *f, const struct ctl_view *v)
{
	size_t served = 0, bad = 0;
	for (size_t i = 0; i < v->zone_count; i++) {
		served += v->zones[i].serving;
		bad += v->zones[i].state == ZONE_RELOAD_FAILED_KEPT ||
		       v->zones[i].state == ZONE_RELOAD_FAILED_ABSENT;
	}

	header(f, "anydns_build_info", "gauge",
	       "The version of anydns running; always 1.");
	fputs("anydns_build_info{version=\"", f);
	ctl_write_label(f, v->version);
	fputs("\"} 1\n", f);
	header(f, "anydns_start_time_seconds", "gauge",
	       "When the daemon started, in seconds since the Unix epoch.");
	fprintf(f, "anydns_start_time_seconds %lld\n", (long long)v->started);
	header(f, "anydns_uptime_seconds", "gauge",
	       "Seconds since the daemon started.");
	fprintf(f, "anydns_uptime_seconds %.3f\n", v->uptime);
	header(f, "anydns_workers", "gauge", "DNS worker threads serving.");
	fprintf(f, "anydns_workers %u\n", v->workers);

	if (v->stats != NULL) {
		struct sample_ctx s = { .f = f };
		server_stats_each(v->stats, server_sample, &s);
	}

	header(f, "anydns_zones", "gauge", "Zones being served.");
	fprintf(f, "anydns_zones %zu\n", served);
	header(f, "anydns_zones_configured", "gauge",
	       "Zones in the configuration.");
	fprintf(f, "anydns_zones_configured %zu\n", v->zone_count);
	header(f, "anydns_zones_failed", "gauge",
	       "Configured zones whose last load failed (an older version "
	       "or nothing is served).");
	fprintf(f, "anydns_zones_failed %zu\n", bad);
	header(f, "anydns_zone_serial", "gauge",
	       "SOA serial of the version of the zone being served.");
	zone_samples(f, v, "anydns_zone_serial", ZV_SERIAL);
	header(f, "anydns_zone_loaded_timestamp_seconds", "gauge",
	       "When the version of the zone being served was read, in "
	       "seconds since the Unix epoch.");
	zone_samples(f, v, "anydns_zone_loaded_timestamp_seconds", ZV_LOADED);
	header(f, "anydns_zone_load_failed", "gauge",
	       "1 when the last attempt to load the zone failed, else 0.");
	zone_samples(f, v, "anydns_zone_load_failed", ZV_FAILED);
	header(f, "anydns_reloads_total", "counter",
	       "Zone reloads run, the start-up load included.");
	fprintf(f, "anydns_reloads_total %" PRIu64 "\n", v->reloads);
	header(f, "anydns_zone_load_failures_total", "counter",
	       "Zone loads that failed, at start-up or at a reload.");
	fprintf(f, "anydns_zone_load_failures_total %" PRIu64 "\n",
		v->load_failures);
	repl_samples(f, v);
	if (v->anycast != NULL)
		ctl_write_anycast_metrics(f, v->anycast);
}
