/*
 * Helpers shared by the files of src/dns; not part of its door (dns.h).
 */
#ifndef ANYDNS_DNS_INTERNAL_H
#define ANYDNS_DNS_INTERNAL_H

#include "dns/dns.h"

/* Skips an uncompressed wire name at the cursor (RFC 1035 §3.1 limits);
 * false if there is none. */
bool dns_skip_name(struct wire_ctx *c);

#endif
