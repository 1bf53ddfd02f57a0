/*
 * Unit tests for src/bgp/msg.c and src/bgp/update.c: byte-exact OPEN and
 * UPDATE encodings written by hand from RFC 4271 §4.2-4.3, RFC 4760,
 * RFC 6793 and RFC 8092; encode→decode round trips; OPEN negotiation; and
 * the table of malformed messages in tests/unit/data/bgp/malformed.txt,
 * each with the NOTIFICATION (RFC 4271 §6) or the RFC 7606 action it must
 * get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit_data.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/internal.h"
#include "lib/wire.h"

#define DATA_DIR "tests/unit/data/bgp/"

static void assert_bytes(const uint8_t *got, size_t got_len, const char *hex)
{
	uint8_t want[BGP_MSG_MAX];
	size_t want_len = unhex(want, sizeof(want), hex);
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		char text[2 * BGP_MSG_MAX + 1];
		for (size_t i = 0; i < got_len && i < BGP_MSG_MAX; i++)
			sprintf(text + 2 * i, "%02x", got[i]);
		fail_msg("got  %s\nwant %s", text, hex);
	}
}

static const struct bgp_decode_ctx ctx_as4 = { .as4 = true, .ipv4 = true,
					       .ipv6 = true };

static struct bgp_prefix pfx(const char *s)
{
	struct bgp_prefix p;
	assert_int_equal(bgp_prefix_from_str(s, &p), 0);
	return p;
}

/* ---- byte-exact encodings ------------------------------------------------ */

#define MARKER "ffffffffffffffffffffffffffffffff"

static void open_exact(void **state)
{
	(void)state;
	struct bgp_open o = {
		.my_as = 64496, .hold_time = 90, .bgp_id = 0xc0000201,
		.mp_ipv4 = true, .mp_ipv6 = true, .cap_route_refresh = true,
		.cap_as4 = true, .as4 = 64496,
	};
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_open(buf, sizeof(buf), &o);
	/* §4.2: version 4, My AS, Hold Time, BGP Identifier, Opt Parm Len;
	 * one Capabilities parameter (RFC 5492 §4): MP IPv4/unicast and
	 * IPv6/unicast (RFC 4760 §8), route refresh (RFC 2918), 4-octet AS
	 * (RFC 6793 §3). */
	assert_bytes(buf, (size_t)len, MARKER "0033" "01"
		     "04" "fbf0" "005a" "c0000201" "16"
		     "02" "14"
		     "01" "04" "0001" "00" "01"
		     "01" "04" "0002" "00" "01"
		     "02" "00"
		     "41" "04" "0000fbf0");
}

static void update_exact_ipv4(void **state)
{
	(void)state;
	struct bgp_attr_ctx ctx = { .local_as = 64496, .as4 = true };
	inet_pton(AF_INET, "192.0.2.1", &ctx.next_hop_v4);
	struct bgp_route r = {
		.prefix = pfx("192.0.2.53/32"), .prepend = 1,
		.has_med = true, .med = 10,
		.community_count = 1, .communities = { 64496u << 16 | 53 },
		.large_community_count = 1,
		.large_communities = { { 64496, 1, 2 } },
	};
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), &ctx, &r);
	/* §4.3 with attributes in type order (§5): ORIGIN IGP, AS_PATH one
	 * AS_SEQUENCE of 64496 twice (one prepend), NEXT_HOP, MED (optional
	 * non-transitive), COMMUNITIES and LARGE_COMMUNITY (optional
	 * transitive), then the NLRI 192.0.2.53/32. */
	assert_bytes(buf, (size_t)len, MARKER "0051" "02"
		     "0000" "0035"
		     "40" "01" "01" "00"
		     "40" "02" "0a" "02" "02" "0000fbf0" "0000fbf0"
		     "40" "03" "04" "c0000201"
		     "80" "04" "04" "0000000a"
		     "c0" "08" "04" "fbf00035"
		     "c0" "20" "0c" "0000fbf0" "00000001" "00000002"
		     "20" "c0000235");
}

static void update_exact_ipv6(void **state)
{
	(void)state;
	struct bgp_attr_ctx ctx = { .local_as = 64496, .as4 = true };
	inet_pton(AF_INET6, "2001:db8::1", &ctx.next_hop_v6);
	struct bgp_route r = { .prefix = pfx("2001:db8::53/128") };
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), &ctx, &r);
	/* RFC 4760 §3: no NEXT_HOP; MP_REACH_NLRI with AFI 2, SAFI 1, a
	 * 16-octet global next hop (RFC 2545 §3), a reserved octet, NLRI. */
	assert_bytes(buf, (size_t)len, MARKER "004d" "02"
		     "0000" "0036"
		     "40" "01" "01" "00"
		     "40" "02" "06" "02" "01" "0000fbf0"
		     "80" "0e" "26" "0002" "01" "10"
		     "20010db8000000000000000000000001" "00"
		     "80" "20010db8000000000000000000000053");
}

static void update_exact_as_trans(void **state)
{
	(void)state;
	/* RFC 6793 §4.2.2: to a 2-octet speaker a 4-octet AS is AS_TRANS in
	 * AS_PATH and the real path goes in AS4_PATH (type 17). */
	struct bgp_attr_ctx ctx = { .local_as = 4200000000u, .as4 = false };
	inet_pton(AF_INET, "192.0.2.1", &ctx.next_hop_v4);
	struct bgp_route r = { .prefix = pfx("192.0.2.53/32") };
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), &ctx, &r);
	assert_bytes(buf, (size_t)len, MARKER "0037" "02"
		     "0000" "001b"
		     "40" "01" "01" "00"
		     "40" "02" "04" "02" "01" "5ba0"
		     "40" "03" "04" "c0000201"
		     "c0" "11" "06" "02" "01" "fa56ea00"
		     "20" "c0000235");
}

static void withdraw_and_eor_exact(void **state)
{
	(void)state;
	uint8_t buf[BGP_MSG_MAX];
	struct bgp_prefix v4 = pfx("192.0.2.53/32");
	struct bgp_prefix v6 = pfx("2001:db8::53/128");
	int len = bgp_msg_write_withdraw(buf, sizeof(buf), &v4);
	assert_bytes(buf, (size_t)len, MARKER "001c" "02" "0005" "20c0000235" "0000");
	len = bgp_msg_write_withdraw(buf, sizeof(buf), &v6);
	assert_bytes(buf, (size_t)len, MARKER "002e" "02" "0000" "0017"
		     "80" "0f" "14" "0002" "01"
		     "80" "20010db8000000000000000000000053");
	/* RFC 4724 §2: the empty UPDATE, and an empty MP_UNREACH_NLRI. */
	len = bgp_msg_write_eor(buf, sizeof(buf), AF_INET);
	assert_bytes(buf, (size_t)len, MARKER "0017" "02" "0000" "0000");
	len = bgp_msg_write_eor(buf, sizeof(buf), AF_INET6);
	assert_bytes(buf, (size_t)len, MARKER "001d" "02" "0000" "0006"
		     "80" "0f" "03" "0002" "01");
	len = bgp_msg_write_keepalive(buf, sizeof(buf));
	assert_bytes(buf, (size_t)len, MARKER "0013" "04");
	len = bgp_msg_write_route_refresh(buf, sizeof(buf), 2, 1);
	assert_bytes(buf, (size_t)len, MARKER "0017" "05" "0002" "00" "01");
	struct bgp_notify n;
	bgp_notify_set(&n, 6, 2, NULL, 0);
	len = bgp_msg_write_notification(buf, sizeof(buf), &n);
	assert_bytes(buf, (size_t)len, MARKER "0015" "03" "06" "02");
}

/* ---- round trips ---------------------------------------------------------- */

static void open_round_trip(void **state)
{
	(void)state;
	struct bgp_open o = {
		.my_as = 23456, .hold_time = 3, .bgp_id = 0x0a000001,
		.mp_ipv6 = true, .cap_route_refresh = true, .cap_as4 = true,
		.as4 = 4200000000u,
	};
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_open(buf, sizeof(buf), &o);
	assert_true(len > 0);
	struct bgp_msg m;
	assert_int_equal(bgp_msg_decode(buf, (size_t)len, &ctx_as4, &m), 0);
	assert_int_equal(m.type, BGP_MSG_OPEN);
	assert_int_equal(m.u.open.version, 4);
	assert_int_equal(m.u.open.my_as, 23456);
	assert_int_equal(m.u.open.hold_time, 3);
	assert_int_equal(m.u.open.bgp_id, 0x0a000001);
	assert_true(m.u.open.cap_mp);
	assert_false(m.u.open.mp_ipv4);
	assert_true(m.u.open.mp_ipv6);
	assert_true(m.u.open.cap_route_refresh);
	assert_true(m.u.open.cap_as4);
	assert_int_equal(m.u.open.as4, 4200000000u);
	assert_int_equal(m.u.open.caps_ignored, 0);
}

static void update_round_trip_one(const struct bgp_attr_ctx *actx,
				  const struct bgp_decode_ctx *dctx,
				  const struct bgp_route *r)
{
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), actx, r);
	assert_true(len > 0);
	struct bgp_msg m;
	assert_int_equal(bgp_msg_decode(buf, (size_t)len, dctx, &m), 0);
	assert_int_equal(m.action, BGP_ACT_NONE);
	const struct bgp_update *u = &m.u.update;
	assert_int_equal(u->announced, 1);
	assert_int_equal(u->withdrawn, 0);
	assert_false(u->eor);
	assert_int_equal(u->announced_prefix[0].family, r->prefix.family);
	assert_int_equal(u->announced_prefix[0].len, r->prefix.len);
	assert_memory_equal(&u->announced_prefix[0].addr, &r->prefix.addr,
			    r->prefix.family == AF_INET ? 4 : 16);
	assert_true(u->has_origin);
	assert_int_equal(u->origin, 0);
	size_t count = actx->ibgp ? 0 : 1u + r->prepend;
	assert_int_equal(u->as_path_len, count);
	uint32_t as = (!actx->as4 && actx->local_as > 0xffff) ? BGP_AS_TRANS :
							      actx->local_as;
	for (size_t i = 0; i < count; i++)
		assert_int_equal(u->as_path[i], as);
	if (!actx->as4 && actx->local_as > 0xffff) {
		assert_int_equal(u->as4_path_len, count);
		for (size_t i = 0; i < count; i++)
			assert_int_equal(u->as4_path[i], actx->local_as);
	} else {
		assert_int_equal(u->as4_path_len, 0);
	}
	if (r->prefix.family == AF_INET) {
		assert_true(u->has_next_hop);
		assert_memory_equal(&u->next_hop, &actx->next_hop_v4, 4);
		assert_false(u->has_mp_reach);
	} else {
		assert_false(u->has_next_hop);
		assert_true(u->has_mp_reach);
		assert_memory_equal(&u->mp_next_hop, &actx->next_hop_v6, 16);
	}
	assert_int_equal(u->has_med, r->has_med);
	if (r->has_med)
		assert_int_equal(u->med, r->med);
	assert_int_equal(u->has_local_pref, actx->ibgp);
	assert_int_equal(u->community_count, r->community_count);
	for (size_t i = 0; i < r->community_count; i++)
		assert_int_equal(u->communities[i], r->communities[i]);
	assert_int_equal(u->large_community_count, r->large_community_count);
	for (size_t i = 0; i < r->large_community_count; i++) {
		assert_int_equal(u->large_communities[i].global,
				 r->large_communities[i].global);
		assert_int_equal(u->large_communities[i].local1,
				 r->large_communities[i].local1);
		assert_int_equal(u->large_communities[i].local2,
				 r->large_communities[i].local2);
	}
}

static void update_round_trip(void **state)
{
	(void)state;
	struct bgp_attr_ctx a4 = { .local_as = 64496, .as4 = true };
	inet_pton(AF_INET, "192.0.2.1", &a4.next_hop_v4);
	inet_pton(AF_INET6, "2001:db8::1", &a4.next_hop_v6);
	struct bgp_decode_ctx d2 = { .as4 = false, .ipv4 = true, .ipv6 = true };

	struct bgp_route r = { .prefix = pfx("192.0.2.53/32") };
	update_round_trip_one(&a4, &ctx_as4, &r);

	/* Every attribute at its largest: 255 prepends make 256 ASNs, two
	 * AS_SEQUENCE segments and an extended-length AS_PATH. */
	r.prepend = 255;
	r.has_med = true;
	r.med = 0xffffffffu;
	r.community_count = BGP_MAX_COMMUNITIES;
	for (unsigned i = 0; i < BGP_MAX_COMMUNITIES; i++)
		r.communities[i] = 0xfbf00000u + i;
	r.communities[0] = BGP_COMMUNITY_GRACEFUL_SHUTDOWN;
	r.large_community_count = BGP_MAX_LARGE_COMMUNITIES;
	for (unsigned i = 0; i < BGP_MAX_LARGE_COMMUNITIES; i++)
		r.large_communities[i] = (struct bgp_large_community){
			4200000000u, i, 0xffffffffu - i };
	update_round_trip_one(&a4, &ctx_as4, &r);

	r.prefix = pfx("2001:db8:53::/48");
	update_round_trip_one(&a4, &ctx_as4, &r);
	r.prefix = pfx("0.0.0.0/0");
	update_round_trip_one(&a4, &ctx_as4, &r);
	r.prefix = pfx("198.51.100.0/23");
	r.prepend = 3;
	update_round_trip_one(&a4, &ctx_as4, &r);

	/* A 2-octet session: our 4-octet AS is AS_TRANS plus AS4_PATH. */
	struct bgp_attr_ctx a2 = a4;
	a2.as4 = false;
	a2.local_as = 4200000000u;
	update_round_trip_one(&a2, &d2, &r);
	a2.local_as = 64496;
	update_round_trip_one(&a2, &d2, &r);

	/* iBGP: empty AS_PATH and LOCAL_PREF (§5.1.2 b, §5.1.5). */
	struct bgp_attr_ctx ai = a4;
	ai.ibgp = true;
	update_round_trip_one(&ai, &ctx_as4, &r);
}

static void withdraw_round_trip(void **state)
{
	(void)state;
	const char *prefixes[] = {
		"192.0.2.53/32", "2001:db8::53/128", "10.0.0.0/8", "::/0",
		"2001:db8:1:2::/63",
	};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		struct bgp_prefix p = pfx(prefixes[i]);
		uint8_t buf[BGP_MSG_MAX];
		int len = bgp_msg_write_withdraw(buf, sizeof(buf), &p);
		assert_true(len > 0);
		struct bgp_msg m;
		assert_int_equal(bgp_msg_decode(buf, (size_t)len, &ctx_as4, &m), 0);
		assert_int_equal(m.action, BGP_ACT_NONE);
		assert_int_equal(m.u.update.withdrawn, 1);
		assert_int_equal(m.u.update.announced, 0);
		assert_false(m.u.update.eor);
		assert_int_equal(m.u.update.withdrawn_prefix[0].len, p.len);
		assert_memory_equal(&m.u.update.withdrawn_prefix[0].addr, &p.addr,
				    p.family == AF_INET ? 4 : 16);
	}
	for (int f = 0; f < 2; f++) {
		sa_family_t family = f == 0 ? AF_INET : AF_INET6;
		uint8_t buf[64];
		int len = bgp_msg_write_eor(buf, sizeof(buf), family);
		struct bgp_msg m;
		assert_int_equal(bgp_msg_decode(buf, (size_t)len, &ctx_as4, &m), 0);
		assert_true(m.u.update.eor);
		assert_int_equal(m.u.update.eor_family, family);
	}
}

static void notification_round_trip(void **state)
{
	(void)state;
	struct bgp_notify n;
	uint8_t data[] = { 0x40, 0x01, 0x01, 0x07 };
	bgp_notify_set(&n, 3, 6, data, sizeof(data));
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_notification(buf, sizeof(buf), &n);
	assert_int_equal(len, 25);
	struct bgp_msg m;
	assert_int_equal(bgp_msg_decode(buf, (size_t)len, &ctx_as4, &m), 0);
	assert_int_equal(m.type, BGP_MSG_NOTIFICATION);
	assert_int_equal(m.u.notification.code, 3);
	assert_int_equal(m.u.notification.subcode, 6);
	assert_int_equal(m.u.notification.data_len, 4);
	assert_memory_equal(m.u.notification.data, data, 4);

	len = bgp_msg_write_route_refresh(buf, sizeof(buf), 2, 1);
	assert_int_equal(bgp_msg_decode(buf, (size_t)len, &ctx_as4, &m), 0);
	assert_int_equal(m.type, BGP_MSG_ROUTE_REFRESH);
	assert_int_equal(m.u.refresh.afi, 2);
	assert_int_equal(m.u.refresh.safi, 1);

	assert_string_equal(bgp_err_code_name(3), "UPDATE Message Error");
	assert_string_equal(bgp_err_subcode_name(3, 11), "Malformed AS_PATH");
	assert_string_equal(bgp_err_subcode_name(6, 7),
			    "Connection Collision Resolution");
	assert_string_equal(bgp_err_subcode_name(2, 99), "unknown subcode");
	assert_string_equal(bgp_err_code_name(9), "unknown error code");
}

static void too_big_is_refused(void **state)
{
	(void)state;
	uint8_t buf[40];
	struct bgp_attr_ctx a = { .local_as = 64496, .as4 = true };
	struct bgp_route r = { .prefix = pfx("192.0.2.53/32") };
	assert_int_equal(bgp_msg_write_announce(buf, sizeof(buf), &a, &r),
			 ANYDNS_ESPACE);
	r.prefix.len = 33;
	uint8_t big[BGP_MSG_MAX];
	assert_int_equal(bgp_msg_write_announce(big, sizeof(big), &a, &r),
			 ANYDNS_EINVAL);
	r.prefix.len = 32;
	r.community_count = BGP_MAX_COMMUNITIES + 1;
	assert_int_equal(bgp_msg_write_announce(big, sizeof(big), &a, &r),
			 ANYDNS_EINVAL);
}

static void negotiation(void **state)
{
	(void)state;
	struct bgp_open local = { .hold_time = 90, .mp_ipv4 = true,
				  .mp_ipv6 = true, .cap_as4 = true,
				  .cap_route_refresh = true };
	struct bgp_open remote = { .my_as = 23456, .hold_time = 30,
				   .bgp_id = 7, .cap_mp = true, .mp_ipv6 = true,
				   .cap_as4 = true, .as4 = 4200000000u };
	struct bgp_params p;
	bgp_open_negotiate(&local, &remote, &p);
	assert_int_equal(p.hold_time, 30);
	assert_int_equal(p.keepalive_time, 10);
	assert_int_equal(p.remote_as, 4200000000u);
	assert_int_equal(p.remote_id, 7);
	assert_true(p.as4);
	assert_false(p.ipv4);	/* RFC 4760: MP caps present, no IPv4 */
	assert_true(p.ipv6);
	assert_false(p.route_refresh);

	/* No capabilities at all: IPv4 unicast, 2-octet AS. */
	struct bgp_open legacy = { .my_as = 64497, .hold_time = 0 };
	bgp_open_negotiate(&local, &legacy, &p);
	assert_int_equal(p.hold_time, 0);
	assert_int_equal(p.keepalive_time, 0);	/* §4.4: none with hold 0 */
	assert_true(p.ipv4);
	assert_false(p.ipv6);
	assert_false(p.as4);
	assert_int_equal(p.remote_as, 64497);

	/* Hold 3: keepalive every second, never more often (§4.4). */
	remote.hold_time = 3;
	bgp_open_negotiate(&local, &remote, &p);
	assert_int_equal(p.keepalive_time, 1);
	local.hold_time = 4;
	remote.hold_time = 100;
	bgp_open_negotiate(&local, &remote, &p);
	assert_int_equal(p.hold_time, 4);
	assert_int_equal(p.keepalive_time, 1);
}

/* ---- the malformed table ----------------------------------------------- */

static void check_extra(const struct bgp_msg *m, const char *kv,
			const char *name)
{
	if (strncmp(kv, "data=", 5) == 0) {
		uint8_t want[BGP_MSG_MAX];
		size_t n = unhex(want, sizeof(want), kv + 5);
		if (m->err.data_len != n || memcmp(m->err.data, want, n) != 0)
			fail_msg("%s: data of %u octets differs from %s", name,
				 m->err.data_len, kv + 5);
	} else if (strncmp(kv, "ann=", 4) == 0) {
		if (m->u.update.announced != strtoul(kv + 4, NULL, 10))
			fail_msg("%s: %u announced, want %s", name,
				 m->u.update.announced, kv + 4);
	} else if (strncmp(kv, "wd=", 3) == 0) {
		if (m->u.update.withdrawn != strtoul(kv + 3, NULL, 10))
			fail_msg("%s: %u withdrawn, want %s", name,
				 m->u.update.withdrawn, kv + 3);
	} else {
		fail_msg("%s: unknown check %s", name, kv);
	}
}

static uint8_t kind_type(const char *kind)
{
	if (strcmp(kind, "open") == 0)
		return BGP_MSG_OPEN;
	if (strcmp(kind, "update") == 0)
		return BGP_MSG_UPDATE;
	if (strcmp(kind, "notification") == 0)
		return BGP_MSG_NOTIFICATION;
	if (strcmp(kind, "refresh") == 0)
		return BGP_MSG_ROUTE_REFRESH;
	fail_msg("unknown kind %s", kind);
	return 0;
}

static void one_case(char *line)
{
	char *save = NULL;
	char *name = strtok_r(line, " \t", &save);
	char *expect = strtok_r(NULL, " \t", &save);
	char *ctxs = strtok_r(NULL, " \t", &save);
	char *kind = strtok_r(NULL, " \t", &save);
	char *hex = strtok_r(NULL, " \t", &save);
	if (hex == NULL)
		fail_msg("short line: %s", name);

	uint8_t msg[BGP_MSG_MAX + 64];
	size_t len;
	if (strcmp(kind, "raw") == 0) {
		len = unhex(msg, sizeof(msg), hex);
	} else {
		size_t body = unhex(msg + BGP_HEADER_LEN,
				    sizeof(msg) - BGP_HEADER_LEN, hex);
		memset(msg, 0xff, 16);
		len = BGP_HEADER_LEN + body;
		wire_put_u16(msg + 16, (uint16_t)len);
		msg[18] = kind_type(kind);
	}

	struct bgp_decode_ctx ctx = ctx_as4;
	if (strcmp(ctxs, "as2") == 0)
		ctx.as4 = false;
	else if (strcmp(ctxs, "v4only") == 0)
		ctx.ipv6 = false;
	struct bgp_open_policy pol = {
		.local_as = 64496, .local_id = 0xc0000201, .remote_as = 64497,
		.ipv4 = true, .ipv6 = true,
	};
	if (strcmp(ctxs, "ibgp") == 0)
		pol.remote_as = 64496;

	static struct bgp_msg m;
	int ret = bgp_msg_decode(msg, len, &ctx, &m);
	int check = 0;
	if (ret == 0 && m.type == BGP_MSG_OPEN)
		check = bgp_open_check(&m.u.open, &pol, &m.err);

	unsigned code = 0, sub = 0;
	char what[16] = "";
	if (sscanf(expect, "%15[a-z0-9]:%u/%u", what, &code, &sub) < 1)
		fail_msg("%s: bad expectation %s", name, expect);
	if (strcmp(what, "ok") == 0 || strcmp(what, "eor4") == 0 ||
	    strcmp(what, "eor6") == 0) {
		if (ret != 0 || check != 0 || m.action != BGP_ACT_NONE)
			fail_msg("%s: want %s, got action %d %u/%u (%s)", name,
				 expect, m.action, m.err.code, m.err.subcode,
				 m.reason);
		bool eor = what[0] == 'e';
		if (m.type == BGP_MSG_UPDATE && m.u.update.eor != eor)
			fail_msg("%s: End-of-RIB %d, want %d", name,
				 m.u.update.eor, eor);
		if (eor)
			assert_int_equal(m.u.update.eor_family,
					 what[3] == '4' ? AF_INET : AF_INET6);
	} else if (strcmp(what, "check") == 0) {
		if (ret != 0 || check == 0)
			fail_msg("%s: want the OPEN check to fail (decode %d)",
				 name, ret);
	} else {
		enum bgp_action want = strcmp(what, "reset") == 0 ? BGP_ACT_RESET :
				       strcmp(what, "withdraw") == 0 ? BGP_ACT_WITHDRAW :
				       BGP_ACT_DISCARD;
		if (m.action != want || (ret != 0) != (want == BGP_ACT_RESET))
			fail_msg("%s: want %s, got action %d ret %d %u/%u (%s)",
				 name, expect, m.action, ret, m.err.code,
				 m.err.subcode, m.reason);
	}
	if (strcmp(what, "ok") != 0 && what[0] != 'e' &&
	    (m.err.code != code || m.err.subcode != sub))
		fail_msg("%s: want %s, got %u/%u (%s)", name, expect,
			 m.err.code, m.err.subcode, m.reason);
	char *kv;
	while ((kv = strtok_r(NULL, " \t", &save)) != NULL)
		check_extra(&m, kv, name);
}

static void malformed_table(void **state)
{
	(void)state;
	FILE *f = fopen(DATA_DIR "malformed.txt", "r");
	if (f == NULL)
		fail_msg("cannot open malformed.txt (run from the repository root)");
	char line[8192];
	unsigned cases = 0;
	while (next_line(f, line, sizeof(line))) {
		one_case(line);
		cases++;
	}
	fclose(f);
	assert_true(cases >= 90);
	print_message("%u cases\n", cases);
}

/* Every prefix of every message shorter than a whole one decodes to an
 * error or a valid result, never a crash (the fuzz target does more). */
static void truncations(void **state)
{
	(void)state;
	struct bgp_attr_ctx a = { .local_as = 64496, .as4 = true };
	struct bgp_route r = { .prefix = pfx("2001:db8::53/128"), .prepend = 3,
			       .community_count = 2, .communities = { 1, 2 } };
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), &a, &r);
	static struct bgp_msg m;
	for (int cut = BGP_UPDATE_MIN; cut < len; cut++) {
		wire_put_u16(buf + 16, (uint16_t)cut);
		int ret = bgp_msg_decode(buf, (size_t)cut, &ctx_as4, &m);
		assert_true(ret != 0 || m.action != BGP_ACT_NONE ||
			    m.u.update.announced == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_exact),
		cmocka_unit_test(update_exact_ipv4),
		cmocka_unit_test(update_exact_ipv6),
		cmocka_unit_test(update_exact_as_trans),
		cmocka_unit_test(withdraw_and_eor_exact),
		cmocka_unit_test(open_round_trip),
		cmocka_unit_test(update_round_trip),
		cmocka_unit_test(withdraw_round_trip),
		cmocka_unit_test(notification_round_trip),
		cmocka_unit_test(too_big_is_refused),
		cmocka_unit_test(negotiation),
		cmocka_unit_test(malformed_table),
		cmocka_unit_test(truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
