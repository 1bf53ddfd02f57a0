/*
 * Fuzz target: BGP message parsing (src/bgp/msg.c, update.c) and the state
 * machine that consumes it (src/bgp/fsm.c). The first input octet picks
 * the session context (bit 0: 4-octet AS, bit 1: IPv4, bit 2: IPv6) and the
 * mode (bit 3): one message through bgp_msg_decode() and the OPEN checks,
 * or the rest of the input as a TCP byte stream, framed as the transport
 * frames it and fed to a peer in OpenSent through a transport that records
 * nothing. A route decoded without error is written again with our own
 * encoder and must decode to the same prefix; anything else that goes
 * wrong is a crash or a sanitizer report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/internal.h"
#include "lib/log.h"

static uv_loop_t loop;
static struct bgp_speaker *sp;

#define MAX_CONNS 64
static struct bgp_conn *conns[MAX_CONNS];
static size_t nconns;

static int fz_connect(struct bgp_peer *p)
{
	if (nconns == MAX_CONNS)
		return ANYDNS_ENOMEM;
	struct bgp_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ANYDNS_ENOMEM;
	c->peer = p;
	c->outgoing = true;
	c->local.ss_family = AF_INET;
	c->remote = p->conf.remote;
	conns[nconns++] = c;
	p->conn = c;
	return 0;
}

static int fz_send(struct bgp_conn *c, const uint8_t *buf, size_t len)
{
	(void)buf;
	c->tx_queued += len;
	c->tx_done += len;
	return 0;
}

static void fz_close(struct bgp_conn *c)
{
	(void)c;	/* freed after the input: the FSM may still look */
}

static const struct bgp_io_ops fz_io = {
	.connect = fz_connect,
	.send = fz_send,
	.close = fz_close,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_SILENT);
	uv_loop_init(&loop);
	if (bgp_speaker_new(&loop, 64496, htonl(0xc0000201), &sp) != 0)
		abort();
	sp->io = &fz_io;
	struct bgp_peer_conf c;
	bgp_peer_conf_init(&c);
	struct sockaddr_in *r = (struct sockaddr_in *)&c.remote;
	r->sin_family = AF_INET;
	r->sin_addr.s_addr = htonl(0xc0000202);
	c.remote_as = 64497;
	if (bgp_speaker_add_peer(sp, &c) != 0)
		abort();
	struct bgp_route route;
	memset(&route, 0, sizeof(route));
	if (bgp_prefix_from_str("192.0.2.53/32", &route.prefix) != 0 ||
	    bgp_announce(sp, &route) != 0)
		abort();
	return 0;
}

/* A route we decoded must survive our own encoder. */
static void re_encode(const struct bgp_update *u, const struct bgp_decode_ctx *ctx)
{
	if (u->kept_announced == 0)
		return;
	struct bgp_route r;
	memset(&r, 0, sizeof(r));
	r.prefix = u->announced_prefix[0];
	if ((r.prefix.family == AF_INET && !ctx->ipv4) ||
	    (r.prefix.family == AF_INET6 && !ctx->ipv6))
		return;
	r.has_med = u->has_med;
	r.med = u->med;
	r.community_count = (uint8_t)u->community_count;
	memcpy(r.communities, u->communities, sizeof(r.communities));
	r.large_community_count = (uint8_t)u->large_community_count;
	memcpy(r.large_communities, u->large_communities,
	       sizeof(r.large_communities));
	struct bgp_attr_ctx a = { .local_as = 64496, .as4 = ctx->as4 };
	a.next_hop_v4.s_addr = htonl(0xc0000201);
	a.next_hop_v6.s6_addr[0] = 0x20;
	a.next_hop_v6.s6_addr[15] = 1;
	static uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_announce(buf, sizeof(buf), &a, &r);
	if (len < 0)
		abort();
	static struct bgp_msg m;
	if (bgp_msg_decode(buf, (size_t)len, ctx, &m) != 0 ||
	    m.action != BGP_ACT_NONE || m.u.update.announced != 1 ||
	    m.u.update.announced_prefix[0].len != r.prefix.len ||
	    memcmp(&m.u.update.announced_prefix[0].addr, &r.prefix.addr,
		   sizeof(r.prefix.addr)) != 0)
		abort();
}

static void one_message(const uint8_t *data, size_t size,
			const struct bgp_decode_ctx *ctx)
{
	static struct bgp_msg m;
	int ret = bgp_msg_decode(data, size, ctx, &m);
	if (ret != 0) {
		if (m.action != BGP_ACT_RESET || m.err.code == 0)
			abort();
		return;
	}
	if (m.type == BGP_MSG_OPEN) {
		struct bgp_open_policy pol = { 64496, 0xc0000201, 64497,
					       true, true };
		struct bgp_notify err;
		struct bgp_params params;
		if (bgp_open_check(&m.u.open, &pol, &err) == 0) {
			bgp_open_negotiate(&m.u.open, &m.u.open, &params);
			if (params.hold_time != 0 && params.hold_time < 3)
				abort();
		}
	}
	if (m.type == BGP_MSG_UPDATE && m.action == BGP_ACT_NONE)
		re_encode(&m.u.update, ctx);
}

/* The input as a stream on a session in OpenSent, framed like the TCP
 * transport frames it. */
static void stream(const uint8_t *data, size_t size)
{
	struct bgp_peer *p = sp->peers[0];
	bgp_fsm(p, BGP_EV_MANUAL_START, NULL);
	bgp_fsm(p, BGP_EV_TCP_CR_ACKED, NULL);
	size_t off = 0;
	while (p->conn != NULL && size - off >= BGP_HEADER_LEN) {
		struct bgp_conn *c = p->conn;
		size_t len;
		struct bgp_notify err;
		if (bgp_msg_frame(data + off, size - off, &len, &err) != 0) {
			bgp_conn_header_error(c, &err);
			break;
		}
		if (size - off < len)
			break;
		if (!bgp_conn_input(c, data + off, len))
			break;
		off += len;
	}
	bgp_fsm(p, BGP_EV_MANUAL_STOP, NULL);
	for (size_t i = 0; i < nconns; i++)
		free(conns[i]);
	nconns = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct bgp_decode_ctx ctx = {
		.as4 = data[0] & 1,
		.ipv4 = (data[0] & 2) != 0,
		.ipv6 = (data[0] & 4) != 0,
	};
	if (data[0] & 8)
		stream(data + 1, size - 1);
	else
		one_message(data + 1, size - 1, &ctx);
	return 0;
}
