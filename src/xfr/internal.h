/*
 * What the files of src/xfr share and nothing else sees: the address and
 * TSIG failure forms their logs and error reasons use (serve.c, in.c,
 * pull.c), and the apex SOA's RDATA, which every message that carries our
 * SOA needs (serve.c, notify.c, pull.c).
 */
#ifndef ANYDNS_XFR_INTERNAL_H
#define ANYDNS_XFR_INTERNAL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "xfr/xfr.h"

/* "2001:db8::1#53": the longest address, '#', a port, the NUL. */
#define XFR_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/* "192.0.2.1#53" or "2001:db8::1#53" into buf (XFR_ADDR_STRLEN fits any);
 * "?#0" for NULL or another family. */
void xfr_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* A TSIG error of dns_tsig_verify_request() or _response() as a reason. */
static inline const char *xfr_tsig_reason(int err)
{
	switch (err) {
	case ANYDNS_EBADSIG:
		return "TSIG BADSIG";
	case ANYDNS_EBADKEY:
		return "TSIG BADKEY";
	case ANYDNS_EBADTIME:
		return "TSIG BADTIME";
	case ANYDNS_ENOTSIG:
		return "TSIG missing";
	default:
		return "TSIG malformed";
	}
}

/* The RDATA of z's apex SOA (z->soa not NULL): false when the RRset holds
 * no record. Points into z. */
static inline bool xfr_soa_rdata(const struct zone *z, const uint8_t **rdata,
				 uint16_t *rdlen)
{
	struct zone_rr_iter it;
	zone_rr_iter_init(&it, z->soa);
	return zone_rr_next(&it, rdata, rdlen);
}

#endif
