/*
 * Fuzz target: a zone transfer's response stream through the pulling
 * side's parser (src/xfr/in.c): xfr_in_feed() for every message, then
 * xfr_in_finish() when the stream says it is complete (which builds the
 * zone, or applies the IXFR differences to a current version).
 *
 * Input: one octet choosing the transfer (even: AXFR; odd: IXFR from the
 * fixed version below, serial 1: example. SOA, NS ns, ns A 192.0.2.53,
 * www A 192.0.2.1), then messages each behind a 2-octet length as on TCP.
 * The request ID is taken from the first message, so inputs need not
 * guess it; no TSIG. A result must be a zone with the stream's serial.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/wire.h"
#include "xfr/xfr.h"

static const uint8_t apex[] = "\x07" "example";
static struct zone *current;

static void add(struct zone_builder *b, const uint8_t *owner, uint16_t type,
		const uint8_t *rdata, uint16_t rdlen)
{
	if (zone_builder_add(b, owner, type, 3600, rdata, rdlen, NULL, 0) != 0)
		abort();
}

static void build_current(void)
{
	static const uint8_t ns[] = "\x02" "ns" "\x07" "example";
	static const uint8_t www[] = "\x03" "www" "\x07" "example";
	static const uint8_t soa[] =
		"\x02" "ns" "\x07" "example" "\x00"
		"\x0a" "hostmaster" "\x07" "example" "\x00"
		"\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x03\x84"
		"\x00\x09\x3a\x80" "\x00\x00\x01\x2c";
	struct zone_builder *b = zone_builder_new(apex, NULL, NULL);
	if (b == NULL)
		abort();
	add(b, apex, DNS_TYPE_SOA, soa, sizeof(soa) - 1);
	add(b, apex, DNS_TYPE_NS, ns, sizeof(ns));
	add(b, ns, DNS_TYPE_A, (const uint8_t *)"\xc0\x00\x02\x35", 4);
	add(b, www, DNS_TYPE_A, (const uint8_t *)"\xc0\x00\x02\x01", 4);
	if (zone_builder_finish(b, &current) != 0 || current->serial != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (current == NULL)
		build_current();
	if (size < 3 || size > 1 << 20)
		return 0;
	uint16_t qtype = (data[0] & 1) ? DNS_TYPE_IXFR : DNS_TYPE_AXFR;
	struct wire_ctx c;
	wire_init(&c, data + 1, size - 1);
	/* The ID: the first two octets of the first message, if any. */
	uint16_t id = size >= 5 ? wire_get_u16(data + 3) : 0;

	struct xfr_in *x;
	if (xfr_in_new(apex, qtype, current, id, NULL, 1 << 20, &x) != 0)
		return 0;
	int ret = 0;
	while (ret == 0 && wire_avail(&c) >= 2) {
		uint16_t len = wire_read_u16(&c);
		const uint8_t *msg = wire_take(&c, len);
		if (msg == NULL)
			break;
		ret = xfr_in_feed(x, msg, len, 0);
		/* Errors stick; the message text is always a string. */
		if (ret < 0 && (xfr_in_error(x)[0] == '\0' ||
				xfr_in_feed(x, msg, len, 0) != ret))
			__builtin_trap();
	}
	if (ret != 1) {
		xfr_in_free(x);
		return 0;
	}
	struct xfr_pull_result res;
	memset(&res, 0, sizeof(res));
	if (xfr_in_finish(x, &res) == 0) {
		if (res.kind != XFR_IN_UPTODATE &&
		    (res.zone == NULL || res.zone->serial != res.serial))
			__builtin_trap();
		if (res.kind == XFR_IN_DIFFS &&
		    (res.diff_count == 0 || res.diffs[0]->from != 1 ||
		     res.diffs[res.diff_count - 1]->to != res.serial))
			__builtin_trap();
	}
	xfr_pull_result_clear(&res);
	return 0;
}
