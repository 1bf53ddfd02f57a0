/*
 * BGP messages other than UPDATE: the header (RFC 4271 §4.1) and its
 * errors (§6.1), OPEN (§4.2) with the Capabilities parameter (RFC 5492),
 * the extended parameter length of RFC 9072, and the capabilities we use:
 * multiprotocol IPv4/IPv6 unicast (RFC 4760 §8), route refresh (RFC 2918
 * §2) and 4-octet AS numbers (RFC 6793 §3, AS_TRANS in My AS); its errors
 * (§6.2, RFC 5492 §5, RFC 6286 §2.2 for the identifier); KEEPALIVE (§4.4),
 * NOTIFICATION (§4.5, with the subcodes of RFC 4486 and RFC 6608), and
 * ROUTE-REFRESH (RFC 2918 §3). Every read goes through the wire cursor; a
 * problem becomes the NOTIFICATION that names it. Where the RFCs leave the
 * choice open we do what OpenBGPD and BIRD do: an Optional Parameters
 * length that disagrees with the message is OPEN error 2/0, a recognised
 * capability of the wrong length is 2/0 too (§6.2 "recognized but
 * malformed"), unknown capabilities are ignored (RFC 5492 §3).
 */
#include <string.h>

#include "bgp/internal.h"
#include "lib/wire.h"

void bgp_notify_set(struct bgp_notify *n, uint8_t code, uint8_t subcode,
		    const void *data, size_t len)
{
	n->code = code;
	n->subcode = subcode;
	if (len > sizeof(n->data))
		len = sizeof(n->data);
	n->data_len = (uint16_t)len;
	if (len > 0)
		memcpy(n->data, data, len);
}

static void notify_u16(struct bgp_notify *n, uint8_t code, uint8_t subcode,
		       uint16_t v)
{
	uint8_t d[2];
	wire_put_u16(d, v);
	bgp_notify_set(n, code, subcode, d, 2);
}

/* ---- header ------------------------------------------------------------- */

int bgp_msg_frame(const uint8_t *buf, size_t avail, size_t *msg_len,
		  struct bgp_notify *err)
{
	struct wire_ctx w;
	wire_init(&w, buf, avail);
	const uint8_t *marker = wire_take(&w, 16);
	uint16_t len = wire_read_u16(&w);
	uint8_t type = wire_read_u8(&w);
	if (w.err != 0) {
		/* Callers frame only once the header is whole. */
		bgp_notify_set(err, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, NULL, 0);
		return ANYDNS_EMALF;
	}
	for (int i = 0; i < 16; i++) {
		if (marker[i] != 0xff) {
			bgp_notify_set(err, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC,
				       NULL, 0);
			return ANYDNS_EMALF;
		}
	}
	if (len < BGP_HEADER_LEN || len > BGP_MSG_MAX)
		goto bad_len;
	switch (type) {
	case BGP_MSG_OPEN:
		if (len < BGP_OPEN_MIN)
			goto bad_len;
		break;
	case BGP_MSG_UPDATE:
		if (len < BGP_UPDATE_MIN)
			goto bad_len;
		break;
	case BGP_MSG_NOTIFICATION:
		if (len < BGP_NOTIFICATION_MIN)
			goto bad_len;
		break;
	case BGP_MSG_KEEPALIVE:
		if (len != BGP_HEADER_LEN)
			goto bad_len;
		break;
	case BGP_MSG_ROUTE_REFRESH:
		if (len != BGP_ROUTE_REFRESH_LEN)
			goto bad_len;
		break;
	default:
		bgp_notify_set(err, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &type, 1);
		return ANYDNS_EMALF;
	}
	*msg_len = len;
	return 0;
bad_len:
	notify_u16(err, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, len);
	return ANYDNS_EMALF;
}

static void write_header(struct wire_wctx *w, uint8_t type)
{
	static const uint8_t marker[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	wire_write(w, marker, sizeof(marker));
	wire_write_u16(w, 0);	/* patched by finish() */
	wire_write_u8(w, type);
}

static int finish(struct wire_wctx *w)
{
	if (w->err != 0)
		return w->err;
	size_t len = wire_wlen(w);
	if (len > BGP_MSG_MAX)
		return ANYDNS_ESPACE;
	wire_put_u16(w->base + 16, (uint16_t)len);
	return (int)len;
}

/* ---- OPEN --------------------------------------------------------------- */

#define BGP_PARAM_CAPABILITIES 2
#define BGP_PARAM_EXTENDED 255	/* RFC 9072 §2 */

/* One capability (RFC 5492 §4); *bad set when a known one is malformed. */
static void open_capability(struct bgp_open *o, uint8_t code,
			    const uint8_t *val, uint8_t len, bool *bad)
{
	struct wire_ctx w;
	wire_init(&w, val, len);
	switch (code) {
	case BGP_CAP_MP: {
		if (len != 4) {
			*bad = true;
			return;
		}
		uint16_t afi = wire_read_u16(&w);
		wire_skip(&w, 1);	/* reserved */
		uint8_t safi = wire_read_u8(&w);
		o->cap_mp = true;
		if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST)
			o->mp_ipv4 = true;
		else if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST)
			o->mp_ipv6 = true;
		return;
	}
	case BGP_CAP_ROUTE_REFRESH:
		if (len != 0) {
			*bad = true;
			return;
		}
		o->cap_route_refresh = true;
		return;
	case BGP_CAP_AS4:
		if (len != 4) {
			*bad = true;
			return;
		}
		o->cap_as4 = true;
		o->as4 = wire_read_u32(&w);
		return;
	default:
		o->caps_ignored++;
		return;
	}
}

/* The Optional Parameters field; fills err on a problem. */
static int open_params(struct wire_ctx *w, struct bgp_open *o,
		       struct bgp_notify *err)
{
	size_t param_len = wire_read_u8(w);
	bool extended = false;
	/* RFC 9072 §2: Opt Parm Len 255 then a "type" of 255 announce 2-octet
	 * lengths for the field and for each parameter. */
	if (param_len == 255 && wire_avail(w) >= 1 && *w->pos == BGP_PARAM_EXTENDED) {
		wire_skip(w, 1);
		param_len = wire_read_u16(w);
		extended = true;
	}
	if (w->err != 0 || param_len != wire_avail(w))
		goto malformed;
	while (wire_avail(w) > 0) {
		uint8_t type = wire_read_u8(w);
		size_t len = extended ? wire_read_u16(w) : wire_read_u8(w);
		const uint8_t *val = wire_take(w, len);
		if (w->err != 0)
			goto malformed;
		if (type != BGP_PARAM_CAPABILITIES) {
			bgp_notify_set(err, BGP_ERR_OPEN, BGP_OPEN_BAD_PARAM,
				       NULL, 0);
			return ANYDNS_EMALF;
		}
		struct wire_ctx c;
		wire_init(&c, val, len);
		bool bad = false;
		while (wire_avail(&c) > 0 && !bad) {
			uint8_t code = wire_read_u8(&c);
			uint8_t clen = wire_read_u8(&c);
			const uint8_t *cval = wire_take(&c, clen);
			if (c.err != 0)
				goto malformed;
			open_capability(o, code, cval, clen, &bad);
		}
		if (bad)
			goto malformed;
	}
	return 0;
malformed:
	bgp_notify_set(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
	return ANYDNS_EMALF;
}

static int open_decode(const uint8_t *body, size_t len, struct bgp_msg *m)
{
	struct bgp_open *o = &m->u.open;
	struct wire_ctx w;
	memset(o, 0, sizeof(*o));
	wire_init(&w, body, len);
	o->version = wire_read_u8(&w);
	o->my_as = wire_read_u16(&w);
	o->hold_time = wire_read_u16(&w);
	o->bgp_id = wire_read_u32(&w);
	if (w.err != 0) {
		bgp_notify_set(&m->err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
		m->reason = "OPEN shorter than its fixed part";
		return ANYDNS_EMALF;
	}
	/* §6.2: the data is the version we support (the only one, 4). */
	if (o->version != BGP_VERSION) {
		notify_u16(&m->err, BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION,
			   BGP_VERSION);
		m->reason = "unsupported BGP version";
		return ANYDNS_EMALF;
	}
	if (o->hold_time == 1 || o->hold_time == 2) {
		bgp_notify_set(&m->err, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, NULL, 0);
		m->reason = "hold time of 1 or 2 seconds";
		return ANYDNS_EMALF;
	}
	/* RFC 6286 §2.2: any non-zero value is a valid identifier. */
	if (o->bgp_id == 0) {
		bgp_notify_set(&m->err, BGP_ERR_OPEN, BGP_OPEN_BAD_ID, NULL, 0);
		m->reason = "BGP identifier 0";
		return ANYDNS_EMALF;
	}
	if (open_params(&w, o, &m->err) != 0) {
		m->reason = m->err.subcode == BGP_OPEN_BAD_PARAM ?
			    "unsupported optional parameter" :
			    "malformed optional parameters";
		return ANYDNS_EMALF;
	}
	return 0;
}

/* Our MP capabilities, also the data of an Unsupported Capability error. */
static void write_mp_caps(struct wire_wctx *w, bool ipv4, bool ipv6)
{
	if (ipv4) {
		wire_write_u8(w, BGP_CAP_MP);
		wire_write_u8(w, 4);
		wire_write_u16(w, BGP_AFI_IPV4);
		wire_write_u8(w, 0);
		wire_write_u8(w, BGP_SAFI_UNICAST);
	}
	if (ipv6) {
		wire_write_u8(w, BGP_CAP_MP);
		wire_write_u8(w, 4);
		wire_write_u16(w, BGP_AFI_IPV6);
		wire_write_u8(w, 0);
		wire_write_u8(w, BGP_SAFI_UNICAST);
	}
}

int bgp_msg_write_open(uint8_t *buf, size_t cap, const struct bgp_open *o)
{
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w, BGP_MSG_OPEN);
	wire_write_u8(&w, BGP_VERSION);
	/* RFC 6793 §4.2.1: an AS that does not fit 2 octets is AS_TRANS. */
	wire_write_u16(&w, o->my_as);
	wire_write_u16(&w, o->hold_time);
	wire_write_u32(&w, o->bgp_id);
	uint8_t *opt_len = w.pos;
	wire_write_u8(&w, 0);
	uint8_t *param = w.pos;
	wire_write_u8(&w, BGP_PARAM_CAPABILITIES);
	wire_write_u8(&w, 0);
	write_mp_caps(&w, o->mp_ipv4, o->mp_ipv6);
	if (o->cap_route_refresh) {
		wire_write_u8(&w, BGP_CAP_ROUTE_REFRESH);
		wire_write_u8(&w, 0);
	}
	if (o->cap_as4) {
		wire_write_u8(&w, BGP_CAP_AS4);
		wire_write_u8(&w, 4);
		wire_write_u32(&w, o->as4);
	}
	if (w.err != 0)
		return w.err;
	size_t plen = (size_t)(w.pos - param);
	param[1] = (uint8_t)(plen - 2);
	*opt_len = (uint8_t)plen;
	return finish(&w);
}

int bgp_open_check(const struct bgp_open *o, const struct bgp_open_policy *p,
		   struct bgp_notify *err)
{
	uint32_t as = o->cap_as4 ? o->as4 : o->my_as;
	/* RFC 7607 §2: AS 0 is never acceptable. */
	if (as == 0 || as != p->remote_as) {
		bgp_notify_set(err, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0);
		return ANYDNS_EMALF;
	}
	/* RFC 6286 §2.2: the same identifier as ours only matters inside an
	 * AS. */
	if (p->remote_as == p->local_as && o->bgp_id == p->local_id) {
		bgp_notify_set(err, BGP_ERR_OPEN, BGP_OPEN_BAD_ID, NULL, 0);
		return ANYDNS_EMALF;
	}
	/* RFC 4760 §8: a speaker without MP capabilities does IPv4 unicast
	 * only. Without a family in common the session has no purpose: name
	 * the capabilities we need (RFC 5492 §5). */
	bool v4 = p->ipv4 && (!o->cap_mp || o->mp_ipv4);
	bool v6 = p->ipv6 && o->cap_mp && o->mp_ipv6;
	if (!v4 && !v6) {
		uint8_t data[16];
		struct wire_wctx w;
		wire_winit(&w, data, sizeof(data));
		write_mp_caps(&w, p->ipv4, p->ipv6);
		bgp_notify_set(err, BGP_ERR_OPEN, BGP_OPEN_BAD_CAPABILITY, data,
			       wire_wlen(&w));
		return ANYDNS_EMALF;
	}
	return 0;
}

void bgp_open_negotiate(const struct bgp_open *local,
			const struct bgp_open *remote, struct bgp_params *out)
{
	memset(out, 0, sizeof(*out));
	out->hold_time = local->hold_time < remote->hold_time ?
			 local->hold_time : remote->hold_time;
	/* §4.4 and §10: a third of the hold time, never more than once a
	 * second. */
	if (out->hold_time > 0) {
		out->keepalive_time = out->hold_time / 3;
		if (out->keepalive_time == 0)
			out->keepalive_time = 1;
	}
	out->remote_id = remote->bgp_id;
	out->remote_as = remote->cap_as4 ? remote->as4 : remote->my_as;
	out->as4 = local->cap_as4 && remote->cap_as4;
	out->ipv4 = local->mp_ipv4 && (!remote->cap_mp || remote->mp_ipv4);
	out->ipv6 = local->mp_ipv6 && remote->cap_mp && remote->mp_ipv6;
	out->route_refresh = remote->cap_route_refresh;
}

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ---------------------------- */

int bgp_msg_write_keepalive(uint8_t *buf, size_t cap)
{
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w, BGP_MSG_KEEPALIVE);
	return finish(&w);
}

int bgp_msg_write_notification(uint8_t *buf, size_t cap,
			       const struct bgp_notify *n)
{
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w, BGP_MSG_NOTIFICATION);
	wire_write_u8(&w, n->code);
	wire_write_u8(&w, n->subcode);
	wire_write(&w, n->data, n->data_len);
	return finish(&w);
}

int bgp_msg_write_route_refresh(uint8_t *buf, size_t cap, uint16_t afi,
				uint8_t safi)
{
	struct wire_wctx w;
	wire_winit(&w, buf, cap);
	write_header(&w, BGP_MSG_ROUTE_REFRESH);
	wire_write_u16(&w, afi);
	wire_write_u8(&w, 0);
	wire_write_u8(&w, safi);
	return finish(&w);
}

static void notification_decode(const uint8_t *body, size_t len,
				struct bgp_notify *n)
{
	struct wire_ctx w;
	wire_init(&w, body, len);
	n->code = wire_read_u8(&w);
	n->subcode = wire_read_u8(&w);
	size_t dlen = wire_avail(&w);
	bgp_notify_set(n, n->code, n->subcode, wire_take(&w, dlen), dlen);
}

/* ---- one message -------------------------------------------------------- */

int bgp_msg_decode(const uint8_t *buf, size_t len,
		   const struct bgp_decode_ctx *ctx, struct bgp_msg *m)
{
	m->type = 0;
	m->len = 0;
	m->action = BGP_ACT_NONE;
	m->reason = "";
	m->err.code = m->err.subcode = 0;
	m->err.data_len = 0;
	size_t msg_len;
	if (len < BGP_HEADER_LEN) {
		/* A stream reader never calls us this short; a fuzzer does. */
		bgp_notify_set(&m->err, BGP_ERR_HEADER, BGP_HDR_BAD_LEN, NULL, 0);
		goto reset_header;
	}
	if (bgp_msg_frame(buf, len, &msg_len, &m->err) != 0)
		goto reset_header;
	if (msg_len != len) {
		/* The reader hands over exactly one framed message. */
		notify_u16(&m->err, BGP_ERR_HEADER, BGP_HDR_BAD_LEN,
			   (uint16_t)msg_len);
		goto reset_header;
	}
	m->type = buf[18];
	m->len = (uint16_t)len;
	const uint8_t *body = buf + BGP_HEADER_LEN;
	size_t body_len = len - BGP_HEADER_LEN;
	int ret = 0;
	switch (m->type) {
	case BGP_MSG_OPEN:
		ret = open_decode(body, body_len, m);
		break;
	case BGP_MSG_UPDATE:
		return bgp_update_decode(body, body_len, ctx, m);
	case BGP_MSG_NOTIFICATION:
		notification_decode(body, body_len, &m->u.notification);
		break;
	case BGP_MSG_KEEPALIVE:
		break;
	case BGP_MSG_ROUTE_REFRESH: {
		struct wire_ctx w;
		wire_init(&w, body, body_len);
		m->u.refresh.afi = wire_read_u16(&w);
		wire_skip(&w, 1);
		m->u.refresh.safi = wire_read_u8(&w);
		break;
	}
	}
	if (ret != 0)
		m->action = BGP_ACT_RESET;
	return ret;
reset_header:
	m->action = BGP_ACT_RESET;
	m->reason = "bad message header";
	return ANYDNS_EMALF;
}

/* ---- names -------------------------------------------------------------- */

const char *bgp_err_code_name(uint8_t code)
{
	static const char *const names[] = {
		[BGP_ERR_HEADER] = "Message Header Error",
		[BGP_ERR_OPEN] = "OPEN Message Error",
		[BGP_ERR_UPDATE] = "UPDATE Message Error",
		[BGP_ERR_HOLD] = "Hold Timer Expired",
		[BGP_ERR_FSM] = "Finite State Machine Error",
		[BGP_ERR_CEASE] = "Cease",
	};
	if (code >= sizeof(names) / sizeof(names[0]) || names[code] == NULL)
		return "unknown error code";
	return names[code];
}

const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode)
{
	static const char *const header[] = {
		"Unspecific", "Connection Not Synchronized",
		"Bad Message Length", "Bad Message Type",
	};
	static const char *const open[] = {
		"Unspecific", "Unsupported Version Number", "Bad Peer AS",
		"Bad BGP Identifier", "Unsupported Optional Parameter",
		"Deprecated", "Unacceptable Hold Time",
		"Unsupported Capability",
	};
	static const char *const update[] = {
		"Unspecific", "Malformed Attribute List",
		"Unrecognized Well-known Attribute",
		"Missing Well-known Attribute", "Attribute Flags Error",
		"Attribute Length Error", "Invalid ORIGIN Attribute",
		"Deprecated", "Invalid NEXT_HOP Attribute",
		"Optional Attribute Error", "Invalid Network Field",
		"Malformed AS_PATH",
	};
	static const char *const fsm[] = {
		"Unspecific", "Unexpected Message in OpenSent",
		"Unexpected Message in OpenConfirm",
		"Unexpected Message in Established",
	};
	static const char *const cease[] = {
		"Unspecific", "Maximum Number of Prefixes Reached",
		"Administrative Shutdown", "Peer De-configured",
		"Administrative Reset", "Connection Rejected",
		"Other Configuration Change",
		"Connection Collision Resolution", "Out of Resources",
	};
#define PICK(t) (subcode < sizeof(t) / sizeof(t[0]) ? t[subcode] : "unknown subcode")
	switch (code) {
	case BGP_ERR_HEADER:
		return PICK(header);
	case BGP_ERR_OPEN:
		return PICK(open);
	case BGP_ERR_UPDATE:
		return PICK(update);
	case BGP_ERR_FSM:
		return PICK(fsm);
	case BGP_ERR_CEASE:
		return PICK(cease);
	case BGP_ERR_HOLD:
		return subcode == 0 ? "Unspecific" : "unknown subcode";
	default:
		return "unknown subcode";
	}
#undef PICK
}
