/*
 * The session state machine of RFC 4271 §8: one bgp_fsm() per peer that
 * switches on the state (§8.2.2) and then on the event (§8.1), one
 * change_state() that logs every transition with its reason, and the
 * timers of §10 (ConnectRetry, Hold, Keepalive, and the IdleHold of
 * §8.1.1 for automatic restarts) on the loop's monotonic clock. Hold time
 * negotiation (§4.2: the smaller of both, 0 or at least 3; keepalives at a
 * third, §4.4), collision detection (§6.8, with the Cease subcode of RFC
 * 4486), and the FSM error subcodes of RFC 6608.
 *
 * Choices where §8.2.1.5 leaves them to the implementation, as OpenBGPD
 * and BIRD make them: a failed connect() in Connect moves to Active and
 * waits for the ConnectRetryTimer there (listening meanwhile) instead of
 * going Idle; after a session error the peer rests in Idle for an
 * exponential back-off (ConnectRetry doubled per failure in a row, capped
 * at 120 s, with the 0.75-1.0 jitter of §10), and the count of failures
 * forgets a session that stayed up at least as long as its back-off; an
 * incoming connection while our own is pending or a session is being
 * opened becomes a collision candidate, resolved when its OPEN arrives and
 * sent our OPEN only if it is kept (DelayOpen, §8.1.1, on that connection
 * alone, so that the peer never resolves the same collision the other way
 * round); when the peer closes our side first, or our connect() fails, the
 * candidate carries on.
 * A header or OPEN error in Established is answered with its own code
 * rather than the generic FSM error of §8.2.2, and a NOTIFICATION received
 * in OpenSent is not answered with one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgp/internal.h"

const char *bgp_state_name(enum bgp_state s)
{
	static const char *const names[] = {
		[BGP_STATE_IDLE] = "Idle",
		[BGP_STATE_CONNECT] = "Connect",
		[BGP_STATE_ACTIVE] = "Active",
		[BGP_STATE_OPENSENT] = "OpenSent",
		[BGP_STATE_OPENCONFIRM] = "OpenConfirm",
		[BGP_STATE_ESTABLISHED] = "Established",
	};
	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[s];
}

const char *bgp_event_name(enum bgp_event ev)
{
	switch (ev) {
	case BGP_EV_MANUAL_START: return "ManualStart";
	case BGP_EV_MANUAL_STOP: return "ManualStop";
	case BGP_EV_AUTOMATIC_START: return "AutomaticStart";
	case BGP_EV_CONNECT_RETRY_EXPIRES: return "ConnectRetryTimer_Expires";
	case BGP_EV_HOLD_EXPIRES: return "HoldTimer_Expires";
	case BGP_EV_KEEPALIVE_EXPIRES: return "KeepaliveTimer_Expires";
	case BGP_EV_TCP_CONNECTION_VALID: return "TcpConnection_Valid";
	case BGP_EV_TCP_CR_INVALID: return "Tcp_CR_Invalid";
	case BGP_EV_TCP_CR_ACKED: return "Tcp_CR_Acked";
	case BGP_EV_TCP_CONFIRMED: return "TcpConnectionConfirmed";
	case BGP_EV_TCP_FAILS: return "TcpConnectionFails";
	case BGP_EV_OPEN: return "BGPOpen";
	case BGP_EV_HEADER_ERR: return "BGPHeaderErr";
	case BGP_EV_OPEN_ERR: return "BGPOpenMsgErr";
	case BGP_EV_OPEN_COLLISION_DUMP: return "OpenCollisionDump";
	case BGP_EV_NOTIF_VER_ERR: return "NotifMsgVerErr";
	case BGP_EV_NOTIF: return "NotifMsg";
	case BGP_EV_KEEPALIVE_MSG: return "KeepAliveMsg";
	case BGP_EV_UPDATE_MSG: return "UpdateMsg";
	case BGP_EV_UPDATE_ERR: return "UpdateMsgErr";
	case BGP_EV_ROUTE_REFRESH_MSG: return "RouteRefreshMsg";
	}
	return "?";
}

void bgp_log_peer(enum log_level level, const struct bgp_peer *p,
		  const char *fmt, ...)
{
	if (level > log_get_level())
		return;
	char text[1024];
	char addr[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	bgp_addr_str(&p->conf.remote, addr, sizeof(addr));
	log_msg(level, "bgp peer %s (%s): %s", p->conf.name, addr, text);
}

/* ---- timers ------------------------------------------------------------- */

uint64_t bgp_backoff_ms(const struct bgp_peer *p, uint32_t n)
{
	uint64_t base = (p->conf.connect_retry > 0 ? p->conf.connect_retry : 1) *
			1000ull;
	uint64_t cap = BGP_BACKOFF_CAP_S * 1000ull;
	if (base > cap)
		cap = base;
	uint64_t d = base;
	for (uint32_t i = 0; i < n && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

/* §10: timers are jittered down by up to a quarter so peers that fail
 * together do not retry in lockstep. */
static uint64_t jitter(struct bgp_peer *p, uint64_t ms)
{
	return ms - (uint64_t)(bgp_random(p->sp) * (double)(ms / 4 + 1));
}

static void on_connect_retry(uv_timer_t *t)
{
	bgp_fsm(t->data, BGP_EV_CONNECT_RETRY_EXPIRES, NULL);
}

static void on_hold(uv_timer_t *t)
{
	bgp_fsm(t->data, BGP_EV_HOLD_EXPIRES, NULL);
}

static void on_keepalive(uv_timer_t *t)
{
	bgp_fsm(t->data, BGP_EV_KEEPALIVE_EXPIRES, NULL);
}

static void on_idle_hold(uv_timer_t *t)
{
	bgp_fsm(t->data, BGP_EV_AUTOMATIC_START, NULL);
}

static void collide_drop(struct bgp_peer *p, const struct bgp_notify *n,
			 const char *why);

static void on_collide_hold(uv_timer_t *t)
{
	struct bgp_peer *p = t->data;
	struct bgp_notify n;
	bgp_notify_set(&n, BGP_ERR_HOLD, 0, NULL, 0);
	collide_drop(p, &n, "no OPEN on the second connection");
}

static void timer_closed(uv_handle_t *h)
{
	struct bgp_peer *p = h->data;
	bgp_speaker_handle_closed(p->sp);
}

int bgp_peer_init(struct bgp_peer *p, struct bgp_speaker *sp,
		  const struct bgp_peer_conf *c)
{
	memset(p, 0, sizeof(*p));
	p->sp = sp;
	p->conf = *c;
	p->state = BGP_STATE_IDLE;
	p->state_since_ms = bgp_now_ms(sp);
	uv_timer_t *timers[] = {
		&p->connect_retry, &p->hold, &p->keepalive, &p->idle_hold,
		&p->collide_hold,
	};
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		uv_timer_init(sp->loop, timers[i]);
		timers[i]->data = p;
		sp->handles++;
	}
	return 0;
}

void bgp_peer_close(struct bgp_peer *p)
{
	uv_timer_t *timers[] = {
		&p->connect_retry, &p->hold, &p->keepalive, &p->idle_hold,
		&p->collide_hold,
	};
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
		uv_close((uv_handle_t *)timers[i], timer_closed);
}

static void timer_start_s(uv_timer_t *t, void (*cb)(uv_timer_t *), uint64_t s)
{
	uv_timer_start(t, cb, s * 1000, 0);
}

static void restart_hold(struct bgp_peer *p)
{
	if (p->params.hold_time > 0)
		timer_start_s(&p->hold, on_hold, p->params.hold_time);
}

static void restart_keepalive(struct bgp_peer *p)
{
	if (p->params.keepalive_time > 0)
		timer_start_s(&p->keepalive, on_keepalive,
			      p->params.keepalive_time);
}

/* ---- sending ------------------------------------------------------------ */

int bgp_peer_send(struct bgp_peer *p, const uint8_t *buf, size_t len)
{
	if (p->conn == NULL)
		return ANYDNS_EAGAIN;
	int ret = p->sp->io->send(p->conn, buf, len);
	if (ret != 0)
		return ret;
	p->st.msgs_out++;
	uint8_t type = buf[18];
	if (type == BGP_MSG_UPDATE)
		p->st.updates_out++;
	if ((type == BGP_MSG_UPDATE || type == BGP_MSG_KEEPALIVE) &&
	    p->state == BGP_STATE_ESTABLISHED)
		restart_keepalive(p);
	return 0;
}

static void send_keepalive(struct bgp_peer *p)
{
	uint8_t buf[BGP_HEADER_LEN];
	int len = bgp_msg_write_keepalive(buf, sizeof(buf));
	if (len > 0)
		bgp_peer_send(p, buf, (size_t)len);
}

static void note_error(struct bgp_peer *p, const struct bgp_notify *n,
		       bool sent, const char *why)
{
	p->st.last_error_code = n->code;
	p->st.last_error_subcode = n->subcode;
	p->st.last_error_sent = sent;
	snprintf(p->st.last_error, sizeof(p->st.last_error), "%s %u/%u %s / %s%s%s",
		 sent ? "sent" : "received", n->code, n->subcode,
		 bgp_err_code_name(n->code),
		 bgp_err_subcode_name(n->code, n->subcode),
		 why[0] != '\0' ? ": " : "", why);
}

static void send_notification_on(struct bgp_peer *p, struct bgp_conn *c,
				 const struct bgp_notify *n, const char *why)
{
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_notification(buf, sizeof(buf), n);
	if (len > 0 && c != NULL && p->sp->io->send(c, buf, (size_t)len) == 0)
		p->st.msgs_out++;
	note_error(p, n, true, why);
	/* A collision is routine, not a problem. */
	bool routine = n->code == BGP_ERR_CEASE &&
		       n->subcode == BGP_CEASE_COLLISION;
	bgp_log_peer(routine ? LOG_LVL_INFO : LOG_LVL_WARN, p,
		     "sent NOTIFICATION %u/%u (%s / %s)%s%s", n->code,
		     n->subcode, bgp_err_code_name(n->code),
		     bgp_err_subcode_name(n->code, n->subcode),
		     why[0] != '\0' ? ": " : "", why);
}

static void send_open(struct bgp_peer *p, struct bgp_conn *c)
{
	struct bgp_open *o = &p->local_open;
	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	o->my_as = p->sp->local_as > 0xffff ? BGP_AS_TRANS :
					      (uint16_t)p->sp->local_as;
	o->hold_time = p->conf.hold_time;
	o->bgp_id = p->sp->router_id;
	o->cap_mp = true;
	o->mp_ipv4 = p->conf.ipv4_unicast;
	o->mp_ipv6 = p->conf.ipv6_unicast;
	o->cap_route_refresh = true;
	o->cap_as4 = true;
	o->as4 = p->sp->local_as;
	uint8_t buf[BGP_MSG_MAX];
	int len = bgp_msg_write_open(buf, sizeof(buf), o);
	if (len > 0 && p->sp->io->send(c, buf, (size_t)len) == 0)
		p->st.msgs_out++;
}

/* ---- state changes ------------------------------------------------------ */

static void change_state(struct bgp_peer *p, enum bgp_state to, const char *why)
{
	enum bgp_state from = p->state;
	if (from == to)
		return;
	p->state = to;
	p->state_since_ms = bgp_now_ms(p->sp);
	enum log_level lvl = (to == BGP_STATE_ESTABLISHED ||
			      from == BGP_STATE_ESTABLISHED) ?
			     LOG_LVL_NOTICE : LOG_LVL_INFO;
	bgp_log_peer(lvl, p, "%s -> %s (%s)", bgp_state_name(from),
		     bgp_state_name(to), why);
	if (p->sp->state_cb != NULL)
		p->sp->state_cb(p->sp->state_arg, p->conf.name, from, to);
}

static void drop_conn(struct bgp_peer *p, struct bgp_conn **slot)
{
	struct bgp_conn *c = *slot;
	if (c == NULL)
		return;
	*slot = NULL;
	c->peer = NULL;
	p->sp->io->close(c);
}

static void collide_drop(struct bgp_peer *p, const struct bgp_notify *n,
			 const char *why)
{
	if (p->collide == NULL)
		return;
	if (n != NULL)
		send_notification_on(p, p->collide, n, why);
	else
		log_peer_info(p, "second connection closed: %s", why);
	uv_timer_stop(&p->collide_hold);
	drop_conn(p, &p->collide);
}

/* Makes the collision candidate the session's connection, sending it our
 * OPEN now (see bgp_peer_accept()): the session is in OpenSent (again). */
static void collide_promote(struct bgp_peer *p, const char *why)
{
	send_open(p, p->collide);
	uv_timer_stop(&p->connect_retry);
	uv_timer_stop(&p->hold);
	uv_timer_stop(&p->keepalive);
	drop_conn(p, &p->conn);
	p->conn = p->collide;
	p->collide = NULL;
	uv_timer_stop(&p->collide_hold);
	memset(&p->params, 0, sizeof(p->params));
	timer_start_s(&p->hold, on_hold, BGP_OPEN_HOLD_S);
	if (p->state != BGP_STATE_OPENSENT)
		change_state(p, BGP_STATE_OPENSENT, why);
	else
		log_peer_info(p, "%s", why);
}

/*
 * Back to Idle. An error (error=true) counts towards the back-off and,
 * while the peer is started, arms the IdleHoldTimer for the automatic
 * restart; ManualStop does neither.
 */
static void go_idle(struct bgp_peer *p, bool error, const char *why)
{
	bool was_up = p->state == BGP_STATE_ESTABLISHED;
	uint64_t uptime = bgp_now_ms(p->sp) - p->state_since_ms;
	uv_timer_stop(&p->connect_retry);
	uv_timer_stop(&p->hold);
	uv_timer_stop(&p->keepalive);
	uv_timer_stop(&p->idle_hold);
	collide_drop(p, NULL, "session closed");
	drop_conn(p, &p->conn);
	drop_conn(p, &p->incoming);
	if (was_up) {
		bgp_speaker_session_down(p);
		/* A session that held as long as its back-off was no flap. */
		if (uptime >= bgp_backoff_ms(p, p->failures))
			p->failures = 0;
	}
	p->send_ipv4 = p->send_ipv6 = false;
	change_state(p, BGP_STATE_IDLE, why);
	if (error && p->started) {
		uint64_t ms = jitter(p, bgp_backoff_ms(p, p->failures));
		p->failures++;
		uv_timer_start(&p->idle_hold, on_idle_hold, ms, 0);
		log_peer_info(p, "restart in %.1f s (failure %u in a row)",
			      (double)ms / 1000.0, p->failures);
	}
}

/* A session error: NOTIFICATION n (if any) then Idle, unless a collision
 * candidate can carry the session on. */
static void session_error(struct bgp_peer *p, const struct bgp_notify *n,
			  const char *why)
{
	if (n != NULL)
		send_notification_on(p, p->conn, n, why);
	if (p->collide != NULL && (p->state == BGP_STATE_OPENSENT ||
				   p->state == BGP_STATE_OPENCONFIRM)) {
		char text[192];
		snprintf(text, sizeof(text), "%s; continuing on the second "
			 "connection", why);
		collide_promote(p, text);
		return;
	}
	go_idle(p, true, why);
}

/* §8.2.2 ManualStop with a session open: Cease/Administrative Shutdown
 * (RFC 4486 §4), then Idle without counting it as a failure. */
static void manual_stop(struct bgp_peer *p)
{
	struct bgp_notify n;
	bgp_notify_set(&n, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, NULL, 0);
	send_notification_on(p, p->conn, &n, "stopped");
	p->started = false;
	p->failures = 0;
	go_idle(p, false, "stopped");
}

static void fsm_error(struct bgp_peer *p, enum bgp_event ev)
{
	static const uint8_t sub[] = {
		[BGP_STATE_OPENSENT] = BGP_FSM_IN_OPENSENT,
		[BGP_STATE_OPENCONFIRM] = BGP_FSM_IN_OPENCONFIRM,
		[BGP_STATE_ESTABLISHED] = BGP_FSM_IN_ESTABLISHED,
	};
	struct bgp_notify n;
	uint8_t subcode = p->state < sizeof(sub) ? sub[p->state] : 0;
	bgp_notify_set(&n, BGP_ERR_FSM, subcode, NULL, 0);
	char why[96];
	snprintf(why, sizeof(why), "unexpected %s in %s", bgp_event_name(ev),
		 bgp_state_name(p->state));
	session_error(p, &n, why);
}

/* Starts (or retries) the outgoing connection; a passive peer only
 * listens, in Active. */
static void start_connecting(struct bgp_peer *p, const char *why)
{
	if (p->conf.passive) {
		change_state(p, BGP_STATE_ACTIVE, why);
		return;
	}
	uint64_t ms = jitter(p, bgp_backoff_ms(p, p->failures));
	uv_timer_start(&p->connect_retry, on_connect_retry, ms, 0);
	drop_conn(p, &p->conn);
	int ret = p->sp->io->connect(p);
	if (ret != 0) {
		log_peer_warn(p, "cannot connect: %s", anydns_strerror(ret));
		change_state(p, BGP_STATE_ACTIVE, "connect() failed");
		return;
	}
	change_state(p, BGP_STATE_CONNECT, why);
}

/* The connection is up (§8.2.2 Connect/Active with events 16/17). */
static void connection_up(struct bgp_peer *p, const char *why)
{
	uv_timer_stop(&p->connect_retry);
	memset(&p->params, 0, sizeof(p->params));
	send_open(p, p->conn);
	timer_start_s(&p->hold, on_hold, BGP_OPEN_HOLD_S);
	change_state(p, BGP_STATE_OPENSENT, why);
}

static void open_received(struct bgp_peer *p, const struct bgp_msg *m)
{
	bgp_open_negotiate(&p->local_open, &m->u.open, &p->params);
	uv_timer_stop(&p->hold);
	restart_hold(p);
	send_keepalive(p);
	restart_keepalive(p);
	log_peer_info(p, "OPEN: AS %u, id %u.%u.%u.%u, hold %u s%s%s%s%s",
		      p->params.remote_as, p->params.remote_id >> 24,
		      (p->params.remote_id >> 16) & 0xff,
		      (p->params.remote_id >> 8) & 0xff,
		      p->params.remote_id & 0xff, p->params.hold_time,
		      p->params.ipv4 ? ", IPv4" : "", p->params.ipv6 ? ", IPv6" : "",
		      p->params.as4 ? ", 4-octet AS" : "",
		      p->params.route_refresh ? ", route refresh" : "");
	change_state(p, BGP_STATE_OPENCONFIRM, "received OPEN");
}

static void update_received(struct bgp_peer *p, const struct bgp_msg *m)
{
	const struct bgp_update *u = &m->u.update;
	p->st.updates_in++;
	switch (m->action) {
	case BGP_ACT_WITHDRAW:
		/* RFC 7606 §2: the routes count as withdrawn, the session
		 * stays. */
		log_peer_warn(p, "UPDATE treated as withdraw (%u prefixes): "
			      "%s (%u/%u)", u->announced, m->reason,
			      m->err.code, m->err.subcode);
		break;
	case BGP_ACT_DISCARD:
		log_peer_info(p, "UPDATE attribute ignored: %s", m->reason);
		p->st.prefixes_received += u->announced;
		break;
	default:
		p->st.prefixes_received += u->announced;
		break;
	}
	if (u->eor)
		log_peer_debug(p, "End-of-RIB for %s",
			       u->eor_family == AF_INET6 ? "IPv6" : "IPv4");
	if (p->sp->update_hook != NULL)
		p->sp->update_hook(p->sp->update_arg, p, u);
}

static void notification_received(struct bgp_peer *p, const struct bgp_msg *m)
{
	const struct bgp_notify *n = &m->u.notification;
	note_error(p, n, false, "");
	log_peer_warn(p, "received NOTIFICATION %u/%u (%s / %s), %u octets "
		      "of data", n->code, n->subcode, bgp_err_code_name(n->code),
		      bgp_err_subcode_name(n->code, n->subcode), n->data_len);
}

/* ---- the state machine -------------------------------------------------- */

void bgp_fsm(struct bgp_peer *p, enum bgp_event ev, const struct bgp_msg *m)
{
	log_peer_debug(p, "%s in %s", bgp_event_name(ev),
		       bgp_state_name(p->state));
	switch (p->state) {
	case BGP_STATE_IDLE:
		switch (ev) {
		case BGP_EV_MANUAL_START:
			p->started = true;
			p->failures = 0;
			start_connecting(p, "started");
			break;
		case BGP_EV_AUTOMATIC_START:
			if (p->started)
				start_connecting(p, "automatic restart");
			break;
		case BGP_EV_MANUAL_STOP:
			p->started = false;
			p->failures = 0;
			uv_timer_stop(&p->idle_hold);
			break;
		case BGP_EV_TCP_CONFIRMED:
			/* §8.2.2 Idle: refuse every connection. */
			log_peer_info(p, "connection refused: session idle");
			drop_conn(p, &p->incoming);
			break;
		default:
			break;	/* §8.2.2: other events are ignored */
		}
		break;

	case BGP_STATE_CONNECT:
	case BGP_STATE_ACTIVE:
		switch (ev) {
		case BGP_EV_MANUAL_START:
		case BGP_EV_AUTOMATIC_START:
			break;
		case BGP_EV_MANUAL_STOP:
			p->started = false;
			p->failures = 0;
			go_idle(p, false, "stopped");
			break;
		case BGP_EV_CONNECT_RETRY_EXPIRES:
			p->failures++;
			start_connecting(p, "ConnectRetry timer expired");
			break;
		case BGP_EV_TCP_CR_ACKED:
			if (p->state == BGP_STATE_CONNECT && p->conn != NULL)
				connection_up(p, "connected");
			break;
		case BGP_EV_TCP_CONFIRMED:
			/* The peer reached us first: use its connection and
			 * abandon our attempt. */
			drop_conn(p, &p->conn);
			p->conn = p->incoming;
			p->incoming = NULL;
			if (p->conn != NULL)
				connection_up(p, "accepted connection");
			break;
		case BGP_EV_TCP_FAILS:
			if (p->collide != NULL) {
				collide_promote(p, "connection failed; using "
						"the peer's connection");
				break;
			}
			/* Wait for the ConnectRetryTimer, listening. */
			drop_conn(p, &p->conn);
			change_state(p, BGP_STATE_ACTIVE, "connection failed");
			break;
		default:
			/* §8.2.2 Connect, Active: other events → Idle. */
			go_idle(p, true, bgp_event_name(ev));
			break;
		}
		break;

	case BGP_STATE_OPENSENT:
		switch (ev) {
		case BGP_EV_MANUAL_START:
		case BGP_EV_AUTOMATIC_START:
			break;
		case BGP_EV_MANUAL_STOP:
			manual_stop(p);
			break;
		case BGP_EV_HOLD_EXPIRES: {
			struct bgp_notify n;
			bgp_notify_set(&n, BGP_ERR_HOLD, 0, NULL, 0);
			session_error(p, &n, "no OPEN within the hold time");
			break;
		}
		case BGP_EV_TCP_CR_ACKED:
		case BGP_EV_TCP_CONFIRMED:
			/* §8.2.2: a second connection; bgp_peer_accept()
			 * handles it as a collision. */
			break;
		case BGP_EV_TCP_FAILS:
			if (p->collide != NULL) {
				session_error(p, NULL, "connection failed");
				break;
			}
			/* §8.2.2 OpenSent: back to Active, retrying later. */
			drop_conn(p, &p->conn);
			uv_timer_stop(&p->hold);
			p->failures++;
			if (!p->conf.passive)
				uv_timer_start(&p->connect_retry, on_connect_retry,
					       jitter(p, bgp_backoff_ms(p, p->failures)),
					       0);
			change_state(p, BGP_STATE_ACTIVE, "connection failed");
			break;
		case BGP_EV_OPEN:
			open_received(p, m);
			break;
		case BGP_EV_HEADER_ERR:
		case BGP_EV_OPEN_ERR:
			session_error(p, &m->err, m->reason);
			break;
		case BGP_EV_OPEN_COLLISION_DUMP: {
			struct bgp_notify n;
			bgp_notify_set(&n, BGP_ERR_CEASE, BGP_CEASE_COLLISION,
				       NULL, 0);
			session_error(p, &n, "connection collision");
			break;
		}
		case BGP_EV_NOTIF_VER_ERR:
			notification_received(p, m);
			session_error(p, NULL, "peer rejected our version");
			break;
		case BGP_EV_NOTIF:
			/* §8.2.2 lists NotifMsg among the FSM errors here;
			 * like OpenBGPD and BIRD we do not answer a closing
			 * peer, and keep its reason as the last error. */
			notification_received(p, m);
			session_error(p, NULL, "peer sent NOTIFICATION");
			break;
		default:
			fsm_error(p, ev);
			break;
		}
		break;

	case BGP_STATE_OPENCONFIRM:
	case BGP_STATE_ESTABLISHED: {
		bool up = p->state == BGP_STATE_ESTABLISHED;
		switch (ev) {
		case BGP_EV_MANUAL_START:
		case BGP_EV_AUTOMATIC_START:
			break;
		case BGP_EV_MANUAL_STOP:
			manual_stop(p);
			break;
		case BGP_EV_HOLD_EXPIRES: {
			struct bgp_notify n;
			bgp_notify_set(&n, BGP_ERR_HOLD, 0, NULL, 0);
			session_error(p, &n, "hold timer expired");
			break;
		}
		case BGP_EV_KEEPALIVE_EXPIRES:
			send_keepalive(p);
			restart_keepalive(p);
			break;
		case BGP_EV_TCP_CR_ACKED:
		case BGP_EV_TCP_CONFIRMED:
			break;	/* handled by bgp_peer_accept() */
		case BGP_EV_TCP_FAILS:
			session_error(p, NULL, "connection closed");
			break;
		case BGP_EV_NOTIF:
		case BGP_EV_NOTIF_VER_ERR:
			notification_received(p, m);
			session_error(p, NULL, "peer sent NOTIFICATION");
			break;
		case BGP_EV_HEADER_ERR:
		case BGP_EV_OPEN_ERR:
			session_error(p, &m->err, m->reason);
			break;
		case BGP_EV_OPEN_COLLISION_DUMP: {
			struct bgp_notify n;
			bgp_notify_set(&n, BGP_ERR_CEASE, BGP_CEASE_COLLISION,
				       NULL, 0);
			session_error(p, &n, "connection collision");
			break;
		}
		case BGP_EV_KEEPALIVE_MSG:
			restart_hold(p);
			if (!up) {
				p->session_id++;
				p->st.established_count++;
				change_state(p, BGP_STATE_ESTABLISHED,
					     "received KEEPALIVE");
				bgp_speaker_session_up(p);
			}
			break;
		case BGP_EV_UPDATE_MSG:
			if (!up) {
				fsm_error(p, ev);
				break;
			}
			restart_hold(p);
			update_received(p, m);
			break;
		case BGP_EV_UPDATE_ERR:
			if (!up) {
				fsm_error(p, ev);
				break;
			}
			p->st.updates_in++;
			session_error(p, &m->err, m->reason);
			break;
		case BGP_EV_ROUTE_REFRESH_MSG:
			if (!up) {
				fsm_error(p, ev);
				break;
			}
			restart_hold(p);
			bgp_speaker_route_refresh(p, m->u.refresh.afi,
						  m->u.refresh.safi);
			break;
		default:
			fsm_error(p, ev);
			break;
		}
		break;
	}
	}
}

/* ---- connections -------------------------------------------------------- */

/* §6.8: the connection initiated by the speaker with the higher BGP
 * identifier survives; a collision with an Established session closes the
 * new connection. */
static void collide_resolve(struct bgp_peer *p, struct bgp_msg *m)
{
	struct bgp_notify cease;
	bgp_notify_set(&cease, BGP_ERR_CEASE, BGP_CEASE_COLLISION, NULL, 0);
	if (p->state == BGP_STATE_CONNECT || p->state == BGP_STATE_ACTIVE) {
		/* §6.8: no collision with a connection still being set up;
		 * the peer's connection is ready, ours is not. */
		collide_promote(p, "the peer's connection is ready first");
		bgp_fsm(p, BGP_EV_OPEN, m);
		return;
	}
	bool new_by_peer = !p->collide->outgoing;
	bool old_by_peer = p->conn == NULL || !p->conn->outgoing;
	bool peer_higher = m->u.open.bgp_id > p->sp->router_id;
	if (p->state == BGP_STATE_ESTABLISHED || new_by_peer == old_by_peer ||
	    new_by_peer != peer_higher) {
		collide_drop(p, &cease, "connection collision: kept the "
			     "existing connection");
		return;
	}
	send_notification_on(p, p->conn, &cease, "connection collision: "
			     "kept the connection the peer initiated");
	collide_promote(p, "connection collision resolved");
	bgp_fsm(p, BGP_EV_OPEN, m);
}

static void collide_input(struct bgp_peer *p, struct bgp_msg *m, int ret)
{
	if (ret != 0) {
		collide_drop(p, &m->err, m->reason);
		return;
	}
	if (m->type != BGP_MSG_OPEN) {
		struct bgp_notify n;
		bgp_notify_set(&n, BGP_ERR_FSM, BGP_FSM_IN_OPENSENT, NULL, 0);
		if (m->type == BGP_MSG_NOTIFICATION) {
			notification_received(p, m);
			collide_drop(p, NULL, "peer sent NOTIFICATION");
			return;
		}
		collide_drop(p, &n, "unexpected message on the second connection");
		return;
	}
	struct bgp_open_policy pol = {
		.local_as = p->sp->local_as,
		.local_id = p->sp->router_id,
		.remote_as = p->conf.remote_as,
		.ipv4 = p->conf.ipv4_unicast,
		.ipv6 = p->conf.ipv6_unicast,
	};
	if (bgp_open_check(&m->u.open, &pol, &m->err) != 0) {
		collide_drop(p, &m->err, "OPEN rejected");
		return;
	}
	collide_resolve(p, m);
}

void bgp_peer_accept(struct bgp_peer *p, struct bgp_conn *c)
{
	c->peer = p;
	c->outgoing = false;
	/* While our own connection is pending (Connect), the peer's becomes
	 * a candidate rather than replacing it: if both sides dropped their
	 * attempt for the other's, neither connection would be left. */
	switch (p->state) {
	case BGP_STATE_IDLE:
	case BGP_STATE_ACTIVE:
		drop_conn(p, &p->incoming);
		p->incoming = c;
		bgp_fsm(p, BGP_EV_TCP_CONFIRMED, NULL);
		return;
	default:
		break;
	}
	if (p->collide != NULL) {
		log_peer_info(p, "third connection refused");
		c->peer = NULL;
		p->sp->io->close(c);
		return;
	}
	/* §6.8: a second connection; its OPEN decides which one stays. Ours
	 * waits until then (the DelayOpen of §8.1.1 for this connection
	 * only): a peer that has not seen our OPEN on it cannot resolve the
	 * collision on its own, against what we decide. */
	log_peer_info(p, "second connection from the peer in %s",
		      bgp_state_name(p->state));
	p->collide = c;
	timer_start_s(&p->collide_hold, on_collide_hold, BGP_OPEN_HOLD_S);
}

bool bgp_conn_input(struct bgp_conn *c, const uint8_t *buf, size_t len)
{
	struct bgp_peer *p = c->peer;
	if (p == NULL)
		return false;
	struct bgp_decode_ctx ctx = {
		.as4 = p->params.as4,
		.ipv4 = p->params.ipv4,
		.ipv6 = p->params.ipv6,
	};
	static struct bgp_msg m;	/* large; the loop runs one at a time */
	p->st.msgs_in++;
	int ret = bgp_msg_decode(buf, len, &ctx, &m);
	if (c == p->collide) {
		collide_input(p, &m, ret);
		return c->peer != NULL;
	}
	if (c != p->conn)
		return false;
	enum bgp_event ev;
	if (ret != 0) {
		ev = m.type == BGP_MSG_OPEN ? BGP_EV_OPEN_ERR :
		     m.type == BGP_MSG_UPDATE ? BGP_EV_UPDATE_ERR :
						BGP_EV_HEADER_ERR;
	} else {
		switch (m.type) {
		case BGP_MSG_OPEN: {
			struct bgp_open_policy pol = {
				.local_as = p->sp->local_as,
				.local_id = p->sp->router_id,
				.remote_as = p->conf.remote_as,
				.ipv4 = p->conf.ipv4_unicast,
				.ipv6 = p->conf.ipv6_unicast,
			};
			ev = BGP_EV_OPEN;
			if (bgp_open_check(&m.u.open, &pol, &m.err) != 0) {
				m.action = BGP_ACT_RESET;
				m.reason = "OPEN rejected";
				ev = BGP_EV_OPEN_ERR;
			}
			break;
		}
		case BGP_MSG_UPDATE:
			ev = BGP_EV_UPDATE_MSG;
			break;
		case BGP_MSG_NOTIFICATION:
			ev = (m.u.notification.code == BGP_ERR_OPEN &&
			      m.u.notification.subcode == BGP_OPEN_BAD_VERSION) ?
			     BGP_EV_NOTIF_VER_ERR : BGP_EV_NOTIF;
			break;
		case BGP_MSG_KEEPALIVE:
			ev = BGP_EV_KEEPALIVE_MSG;
			break;
		default:
			ev = BGP_EV_ROUTE_REFRESH_MSG;
			break;
		}
	}
	bgp_fsm(p, ev, &m);
	return c->peer != NULL;
}

void bgp_conn_header_error(struct bgp_conn *c, const struct bgp_notify *err)
{
	struct bgp_peer *p = c->peer;
	if (p == NULL)
		return;
	static struct bgp_msg m;
	m.type = 0;
	m.action = BGP_ACT_RESET;
	m.err = *err;
	m.reason = "bad message header";
	if (c == p->collide) {
		collide_drop(p, &m.err, m.reason);
		return;
	}
	if (c == p->conn)
		bgp_fsm(p, BGP_EV_HEADER_ERR, &m);
}

void bgp_conn_failed(struct bgp_conn *c, const char *why)
{
	struct bgp_peer *p = c->peer;
	if (p == NULL)
		return;
	if (c == p->collide) {
		collide_drop(p, NULL, why);
		return;
	}
	if (c != p->conn)
		return;
	snprintf(p->st.last_error, sizeof(p->st.last_error), "%s", why);
	log_peer_info(p, "connection: %s", why);
	bgp_fsm(p, BGP_EV_TCP_FAILS, NULL);
}
