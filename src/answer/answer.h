/*
 * src/answer — the authoritative answer algorithm. One function turns a
 * parsed query and the current zone set into a response in a caller-owned
 * buffer. It does no I/O, takes no lock and allocates nothing: UDP, TCP and
 * any later fast path are thin backends around it.
 *
 * Implements: RFC 1034 §4.3.2 (the algorithm), RFC 4592 (wildcards),
 * RFC 6672 (DNAME), RFC 2308 (negative answers), RFC 9471 (glue), RFC 4035
 * §3.1.4.1 (DS from the parent side), RFC 8482 (minimal ANY), RFC 6891
 * (EDNS responses, BADVERS), RFC 5001 (NSID), RFC 4892 (CHAOS identity),
 * RFC 9619 (QDCOUNT), RFC 2181 §9 (TC and whole RRsets).
 */
#ifndef ANYDNS_ANSWER_ANSWER_H
#define ANYDNS_ANSWER_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "zone/zone.h"

/* Server identity and limits; read-only while queries are answered. */
struct answer_conf {
	/* TXT for id.server. and hostname.bind. (CH); NULL: REFUSED. */
	const char *identity;
	/* TXT for version.server. and version.bind. (CH); NULL: REFUSED. */
	const char *version;
	/* NSID option data (RFC 5001); NULL: no NSID. */
	const uint8_t *nsid;
	uint16_t nsid_len;
	/* Largest UDP response we send with EDNS, and our advertised payload
	 * size (default DNS_EDNS_DEFAULT_PAYLOAD, at least 512). */
	uint16_t udp_max_payload;
	/* edns-tcp-keepalive timeout we advertise over TCP, in 100 ms units;
	 * 0: not advertised. */
	uint16_t tcp_keepalive;
};

/* Fills conf with the defaults: no identity, no version, no NSID,
 * 1232-octet payload, no keepalive. */
void answer_conf_init(struct answer_conf *conf);

enum answer_transport {
	ANSWER_UDP = 0,
	ANSWER_TCP = 1,
};

/* What was answered, for counters. */
struct answer_result {
	size_t len;		/* response length; 0: drop, send nothing */
	uint16_t rcode;		/* 12-bit RCODE of the response */
	bool truncated;		/* TC was set */
};

/*
 * Answers one query. parse_rc is what dns_query_parse() returned for q
 * (0, ANYDNS_EMALF: FORMERR, ANYDNS_EDROP: nothing is sent). zones may be
 * NULL (nothing served). out must hold out_cap octets; out_cap at least
 * DNS_MSG_MAXLEN for TCP, at least udp_max_payload for UDP.
 */
void answer_query(const struct answer_conf *conf, const struct zone_set *zones,
		  const struct dns_query *q, int parse_rc,
		  enum answer_transport transport, uint8_t *out, size_t out_cap,
		  struct answer_result *res);

/* dns_query_parse() then answer_query(), for callers with raw packets. */
void answer_packet(const struct answer_conf *conf, const struct zone_set *zones,
		   const uint8_t *pkt, size_t len, enum answer_transport transport,
		   uint8_t *out, size_t out_cap, struct answer_result *res);

#endif
