/*
 * The bodies of the control protocol's replies: status, zones and stats,
 * written from a struct ctl_view. Lines are meant for an operator's eyes
 * and for grep: one fact per line, `key: value` or `key=value`, names in
 * presentation form (RFC 1035 §5.1), times in UTC as RFC 3339 timestamps.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/internal.h"

static void write_time(FILE *f, time_t t)
{
	struct tm tm;
	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		fputs("-", f);
		return;
	}
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fputs(buf, f);
}

void ctl_addr_text(const struct conf_addr *a, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		port = ntohs(sin->sin_port);
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, len, "%s@%u", text, port);
}

static bool failed(const struct zone_reload_status *z)
{
	return z->state == ZONE_RELOAD_FAILED_KEPT ||
	       z->state == ZONE_RELOAD_FAILED_ABSENT;
}

void ctl_write_status(FILE *f, const struct ctl_view *v)
{
	size_t served = 0, bad = 0;
	for (size_t i = 0; i < v->zone_count; i++) {
		served += v->zones[i].serving;
		bad += failed(&v->zones[i]);
	}
	fprintf(f, "version: %s\n", v->version);
	fputs("started: ", f);
	write_time(f, v->started);
	fprintf(f, "\nuptime: %.0fs\n", v->uptime);
	fprintf(f, "workers: %u\n", v->workers);
	for (size_t i = 0; i < v->listen_count; i++) {
		char text[64];
		ctl_addr_text(&v->listen[i], text, sizeof(text));
		fprintf(f, "listen: %s\n", text);
	}
	fprintf(f, "zones: %zu served, %zu failed, %zu configured\n", served,
		bad, v->zone_count);
	fprintf(f, "reloads: %" PRIu64 "\n", v->reloads);
}

void ctl_write_zones(FILE *f, const struct ctl_view *v)
{
	char name[DNS_NAME_STRLEN];
	for (size_t i = 0; i < v->zone_count; i++) {
		const struct zone_reload_status *z = &v->zones[i];
		dns_name_to_str(name, z->name);
		fprintf(f, "%s serial=", name);
		if (z->serving)
			fprintf(f, "%" PRIu32, z->serial);
		else
			fputs("-", f);
		fprintf(f, " state=%s loaded=", zone_reload_state_str(z->state));
		write_time(f, z->serving ? z->loaded_at : 0);
		fprintf(f, " file=%s", z->file);
		if (v->repl != NULL && v->repl[i].secondary) {
			const struct ctl_zone_repl *r = &v->repl[i];
			fputs(" role=secondary primary-serial=", f);
			if (r->primary_serial_known)
				fprintf(f, "%" PRIu32, r->primary_serial);
			else
				fputs("-", f);
			fprintf(f, " lag=%.1f last-transfer=", r->lag);
			write_time(f, r->last_transfer);
			fprintf(f, " transfers=%" PRIu64 " failures=%" PRIu64,
				r->transfers, r->failures);
			if (r->expired)
				fputs(" expired=yes", f);
			if (r->last_result[0] != '\0')
				fprintf(f, " result=%s", r->last_result);
		} else if (v->repl != NULL && v->repl[i].journal_size > 0) {
			fprintf(f, " role=primary journal=%" PRIu64,
				v->repl[i].journal_size);
		}
		if (z->error[0] != '\0')
			fprintf(f, " error=%s", z->error);
		fputc('\n', f);
	}
}

void ctl_write_stats(FILE *f, const struct ctl_view *v)
{
	if (v->stats != NULL) {
		char buf[8192];
		size_t need = server_stats_format(v->stats, buf, sizeof(buf));
		if (need < sizeof(buf)) {
			fputs(buf, f);
		} else {
			char *big = malloc(need + 1);
			if (big != NULL) {
				server_stats_format(v->stats, big, need + 1);
				fputs(big, f);
			}
			free(big);
		}
	}
	char name[DNS_NAME_STRLEN];
	for (size_t i = 0; i < v->zone_count; i++) {
		const struct zone_reload_status *z = &v->zones[i];
		if (!z->serving)
			continue;
		dns_name_to_str(name, z->name);
		fputs("anydns_zone_serial{zone=\"", f);
		ctl_write_label(f, name);
		fprintf(f, "\"} %" PRIu32 "\n", z->serial);
	}
}
