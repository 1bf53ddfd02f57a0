/*
 * Unit tests for health checks at run time (src/health/check.c and
 * command.c) on a real libuv loop: a DNS probe against a small responder
 * on 127.0.0.1 in this process (answers, REFUSED, silence, wrong RDATA, a
 * closed port), a zones check whose callback the test answers, and
 * commands that pass, fail, and run out of time (killed and reaped). Each
 * test waits for the state changes it expects, with a deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health/internal.h"
#include "lib/log.h"

/* ---- a responder ---------------------------------------------------------- */

enum mode { ANSWER, ANSWER_OTHER, REFUSE, SILENT };

struct responder {
	uv_udp_t udp;
	enum mode mode;
	unsigned queries;
	struct sockaddr_in addr;
};

static void on_sent(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(suggested);
	buf->len = buf->base != NULL ? suggested : 0;
}

static void on_query(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		     const struct sockaddr *from, unsigned flags)
{
	struct responder *r = h->data;
	struct dns_query q;
	(void)flags;
	if (n <= 0 || from == NULL ||
	    dns_query_parse((const uint8_t *)buf->base, (size_t)n, &q) != 0) {
		free(buf->base);
		return;
	}
	r->queries++;
	free(buf->base);
	if (r->mode == SILENT)
		return;
	uv_udp_send_t *req = malloc(sizeof(*req) + 512);
	uint8_t *out = (uint8_t *)(req + 1);
	struct dns_writer w;
	static const uint8_t a80[] = { 192, 0, 2, 80 }, a9[] = { 192, 0, 2, 9 };
	dns_writer_init(&w, out, 512);
	dns_writer_question(&w, q.qname, q.qtype, q.qclass);
	uint16_t fl = DNS_FLAG_QR | DNS_FLAG_AA;
	if (r->mode == REFUSE)
		fl |= DNS_RCODE_REFUSED;
	else
		dns_writer_rr(&w, DNS_SECTION_ANSWER, q.qname, DNS_TYPE_A,
			      DNS_CLASS_IN, 60, r->mode == ANSWER ? a80 : a9, 4);
	size_t len = dns_writer_finish(&w, q.id, fl);
	uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
	uv_udp_send(req, h, &b, 1, from, on_sent);
}

static void responder_start(uv_loop_t *loop, struct responder *r)
{
	memset(r, 0, sizeof(*r));
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", 0, &a);
	assert_int_equal(uv_udp_init(loop, &r->udp), 0);
	r->udp.data = r;
	assert_int_equal(uv_udp_bind(&r->udp, (struct sockaddr *)&a, 0), 0);
	int len = sizeof(r->addr);
	assert_int_equal(uv_udp_getsockname(&r->udp, (struct sockaddr *)&r->addr,
					    &len), 0);
	assert_int_equal(uv_udp_recv_start(&r->udp, on_alloc, on_query), 0);
}

/* ---- watching a check ------------------------------------------------------ */

struct watch {
	unsigned changes;
	enum health_state state;
	char reason[HEALTH_TEXT_MAX];
	enum health_state seq[32];
};

static void on_change(void *arg, struct health_check *hc,
		      enum health_state from, enum health_state to,
		      const char *reason)
{
	struct watch *w = arg;
	assert_int_equal(health_check_state(hc), to);
	assert_int_equal(w->state, from);
	if (w->changes < 32)
		w->seq[w->changes] = to;
	w->changes++;
	w->state = to;
	snprintf(w->reason, sizeof(w->reason), "%s", reason);
}

static void on_deadline(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until the check reaches state (true) or ms pass (false). */
static bool wait_state(uv_loop_t *loop, struct watch *w, enum health_state st,
		       unsigned ms)
{
	bool expired = false;
	uv_timer_t t;
	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, ms, 0);
	while (w->state != st && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return w->state == st;
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
	struct watch never = { .state = (enum health_state)99 };
	(void)wait_state(loop, &never, HEALTH_INIT, ms);
}

static void closing(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void fast(struct health_timing *t, uint16_t rise, uint16_t fall,
		 uint32_t hold)
{
	t->interval_ms = 20;
	t->timeout_ms = 10;
	t->rise = rise;
	t->fall = fall;
	t->hold_down_ms = hold;
}

static void dns_conf(struct health_check_conf *c, const struct responder *r)
{
	size_t len;
	health_check_conf_init(c);
	snprintf(c->name, sizeof(c->name), "test/dns@127.0.0.1");
	memcpy(&c->target, &r->addr, sizeof(r->addr));
	assert_int_equal(dns_name_from_str(c->qname, &len, "www.example.com.",
					   NULL), 0);
	c->qtype = DNS_TYPE_A;
}

/* ---- DNS probes ------------------------------------------------------------ */

static void dns_rise_fall_recover(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct responder r;
	struct health_check_conf c;
	struct health_check *hc;
	struct watch w = { 0 };
	uv_loop_init(&loop);
	responder_start(&loop, &r);
	dns_conf(&c, &r);
	fast(&c.timing, 2, 2, 0);
	c.expect_rdata = "192.0.2.80";
	assert_int_equal(health_check_new(&loop, &c, on_change, &w, &hc), 0);
	assert_int_equal(health_check_state(hc), HEALTH_INIT);
	assert_int_equal(health_check_start(hc), 0);

	assert_true(wait_state(&loop, &w, HEALTH_UP, 3000));
	assert_int_equal(w.changes, 1);
	assert_non_null(strstr(w.reason, "2 passes in a row: NOERROR, RDATA "
				  "192.0.2.80 in "));

	r.mode = SILENT;
	assert_true(wait_state(&loop, &w, HEALTH_DOWN, 3000));
	assert_string_equal(w.reason, "2 failures in a row: no answer within "
			    "10ms");
	r.mode = ANSWER_OTHER;
	assert_true(wait_state(&loop, &w, HEALTH_UP, 200) == false);
	struct health_status st;
	health_check_status(hc, &st);
	static const char other[] = "fail: RDATA 192.0.2.9, expected "
				    "192.0.2.80 in ";
	assert_true(strncmp(st.last, other, sizeof(other) - 1) == 0);
	r.mode = REFUSE;
	run_for(&loop, 100);
	health_check_status(hc, &st);
	assert_true(strncmp(st.last, "fail: REFUSED, expected NOERROR in ",
			    35) == 0);
	assert_int_equal(st.state, HEALTH_DOWN);
	r.mode = ANSWER;
	assert_true(wait_state(&loop, &w, HEALTH_UP, 3000));
	assert_int_equal(w.changes, 3);

	health_check_status(hc, &st);
	assert_string_equal(st.name, "test/dns@127.0.0.1");
	assert_int_equal(st.kind, HEALTH_DNS);
	assert_int_equal(st.changes, 3);
	assert_true(st.passes >= 4);
	assert_true(st.failures >= 2);
	assert_true(r.queries >= st.passes + st.failures - 1);

	health_check_free(hc);
	uv_close((uv_handle_t *)&r.udp, NULL);
	closing(&loop);
}

/* A closed port answers with ICMP: the round fails at once. */
static void dns_port_closed(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct responder r;
	struct health_check_conf c;
	struct health_check *hc;
	struct watch w = { 0 };
	uv_loop_init(&loop);
	responder_start(&loop, &r);
	dns_conf(&c, &r);
	uv_close((uv_handle_t *)&r.udp, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);	/* the port is free now */
	c.timing.interval_ms = 1000;
	c.timing.timeout_ms = 1000;
	c.timing.fall = 1;
	assert_int_equal(health_check_new(&loop, &c, on_change, &w, &hc), 0);
	assert_int_equal(health_check_start(hc), 0);
	/* Well before the one-second timeout. */
	assert_true(wait_state(&loop, &w, HEALTH_DOWN, 500));
	assert_string_equal(w.reason, "1 failure in a row: Connection refused");
	health_check_free(hc);
	closing(&loop);
}

/* Once down from up it stays down for the hold-down, then comes up by
 * itself on the hold timer. */
static void dns_hold_down(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct responder r;
	struct health_check_conf c;
	struct health_check *hc;
	struct watch w = { 0 };
	uv_loop_init(&loop);
	responder_start(&loop, &r);
	dns_conf(&c, &r);
	fast(&c.timing, 1, 1, 400);
	assert_int_equal(health_check_new(&loop, &c, on_change, &w, &hc), 0);
	assert_int_equal(health_check_start(hc), 0);
	assert_true(wait_state(&loop, &w, HEALTH_UP, 3000));
	r.mode = SILENT;
	assert_true(wait_state(&loop, &w, HEALTH_DOWN, 3000));
	uint64_t down = uv_now(&loop);
	r.mode = ANSWER;
	assert_true(wait_state(&loop, &w, HEALTH_HELD, 3000));
	assert_true(wait_state(&loop, &w, HEALTH_UP, 3000));
	assert_true(uv_now(&loop) - down >= 350);
	assert_int_equal(w.changes, 4);
	assert_int_equal(w.seq[2], HEALTH_HELD);
	assert_non_null(strstr(w.reason, "hold-down over"));
	health_check_free(hc);
	uv_close((uv_handle_t *)&r.udp, NULL);
	closing(&loop);
}

/* ---- zones -------------------------------------------------------------- */

struct zones_answer {
	bool ok;
	size_t asked_n;
	uint8_t first[DNS_NAME_MAXLEN];
};

static bool zones_fn(void *arg, const uint8_t *const *apexes, size_t n,
		     char *why, size_t whylen)
{
	struct zones_answer *z = arg;
	z->asked_n = n;
	if (n > 0)
		memcpy(z->first, apexes[0], dns_name_len(apexes[0]));
	if (!z->ok)
		snprintf(why, whylen, "zone example.com. not loaded");
	return z->ok;
}

static void zones_check(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct health_check_conf c;
	struct health_check *hc;
	struct watch w = { 0 };
	struct zones_answer z = { .ok = true };
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t len;
	const uint8_t *list[] = { apex };
	uv_loop_init(&loop);
	assert_int_equal(dns_name_from_str(apex, &len, "example.com.", NULL), 0);
	health_check_conf_init(&c);
	snprintf(c.name, sizeof(c.name), "test/zones");
	c.kind = HEALTH_ZONES;
	fast(&c.timing, 1, 1, 0);
	c.zones = list;
	c.zone_count = 1;
	c.zones_fn = zones_fn;
	c.zones_arg = &z;
	assert_int_equal(health_check_new(&loop, &c, on_change, &w, &hc), 0);
	apex[1] = 'X';	/* copied: the check keeps what it was given */
	assert_int_equal(health_check_start(hc), 0);
	assert_true(wait_state(&loop, &w, HEALTH_UP, 3000));
	assert_string_equal(w.reason, "1 pass in a row: zones loaded");
	assert_int_equal(z.asked_n, 1);
	assert_memory_equal(z.first, "\007example\003com", 13);
	z.ok = false;
	assert_true(wait_state(&loop, &w, HEALTH_DOWN, 3000));
	assert_string_equal(w.reason, "1 failure in a row: zone example.com. "
			    "not loaded");
	health_check_free(hc);
	closing(&loop);
}

/* ---- commands ------------------------------------------------------------- */

static struct health_check *command_check(uv_loop_t *loop, const char *cmd,
					  uint32_t timeout, struct watch *w)
{
	struct health_check_conf c;
	struct health_check *hc;
	health_check_conf_init(&c);
	snprintf(c.name, sizeof(c.name), "test/command");
	c.kind = HEALTH_COMMAND;
	c.timing.interval_ms = timeout < 100 ? 100 : timeout;
	c.timing.timeout_ms = timeout;
	c.timing.rise = 1;
	c.timing.fall = 1;
	c.command = cmd;
	assert_int_equal(health_check_new(loop, &c, on_change, w, &hc), 0);
	assert_int_equal(health_check_start(hc), 0);
	return hc;
}

static void command_pass_fail(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct watch w = { 0 }, w2 = { 0 };
	uv_loop_init(&loop);
	struct health_check *ok = command_check(&loop, "exit 0", 1000, &w);
	struct health_check *bad = command_check(&loop, "echo out; exit 3",
						 1000, &w2);
	assert_true(wait_state(&loop, &w, HEALTH_UP, 3000));
	assert_non_null(strstr(w.reason, "1 pass in a row: exit status 0 in "));
	assert_true(wait_state(&loop, &w2, HEALTH_DOWN, 3000));
	assert_non_null(strstr(w2.reason, "1 failure in a row: exit status 3 in "));
	health_check_free(ok);
	health_check_free(bad);
	closing(&loop);
}

/* A command that outlives its timeout is killed with its process group. */
static void command_timeout_kills(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct watch w = { 0 };
	char path[] = "/tmp/anydns-health-XXXXXX", cmd[256];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	/* The shell starts a child of its own and waits for it. */
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; wait", path);
	uv_loop_init(&loop);
	struct health_check *hc = command_check(&loop, cmd, 300, &w);
	assert_true(wait_state(&loop, &w, HEALTH_DOWN, 5000));
	assert_string_equal(w.reason, "1 failure in a row: no exit within "
			    "300ms, killed");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int child = 0;
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	unlink(path);
	/* The grandchild went with the group (a zombie at most until init
	 * reaps it, which kill(0) does not tell from gone; so wait). */
	bool gone = false;
	for (int i = 0; i < 100 && !gone; i++) {
		char st[64];
		snprintf(st, sizeof(st), "/proc/%d/stat", child);
		FILE *p = fopen(st, "r");
		if (p == NULL) {
			gone = true;
			break;
		}
		char line[256] = "";
		if (fgets(line, sizeof(line), p) != NULL &&
		    strstr(line, ") Z ") != NULL)
			gone = true;
		fclose(p);
		usleep(10000);
	}
	assert_true(gone);
	health_check_free(hc);
	closing(&loop);
}

/* Freeing a check with its command running kills and reaps it. */
static void command_free_while_running(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct watch w = { 0 };
	uv_loop_init(&loop);
	struct health_check *hc = command_check(&loop, "exec sleep 30", 5000,
						&w);
	run_for(&loop, 50);
	pid_t pid = hc->pid;
	assert_true(pid > 0);
	health_check_free(hc);
	closing(&loop);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(w.changes, 0);
}

static void bad_conf(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct health_check_conf c;
	struct health_check *hc = NULL;
	uv_loop_init(&loop);
	health_check_conf_init(&c);
	/* No target. */
	assert_int_equal(health_check_new(&loop, &c, NULL, NULL, &hc),
			 ANYDNS_EINVAL);
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.target;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53);
	c.timing.timeout_ms = c.timing.interval_ms + 1;
	assert_int_equal(health_check_new(&loop, &c, NULL, NULL, &hc),
			 ANYDNS_EINVAL);
	c.timing.timeout_ms = 10;
	c.timing.rise = 0;
	assert_int_equal(health_check_new(&loop, &c, NULL, NULL, &hc),
			 ANYDNS_EINVAL);
	c.timing.rise = 1;
	c.kind = HEALTH_COMMAND;
	assert_int_equal(health_check_new(&loop, &c, NULL, NULL, &hc),
			 ANYDNS_EINVAL);
	c.kind = HEALTH_ZONES;
	assert_int_equal(health_check_new(&loop, &c, NULL, NULL, &hc),
			 ANYDNS_EINVAL);
	assert_null(hc);
	assert_string_equal(health_kind_name(HEALTH_COMMAND), "command");
	assert_string_equal(health_state_name(HEALTH_HELD), "held");
	closing(&loop);
}

int main(void)
{
	log_set_level(LOG_LVL_SILENT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_rise_fall_recover),
		cmocka_unit_test(dns_port_closed),
		cmocka_unit_test(dns_hold_down),
		cmocka_unit_test(zones_check),
		cmocka_unit_test(command_pass_fail),
		cmocka_unit_test(command_timeout_kills),
		cmocka_unit_test(command_free_while_running),
		cmocka_unit_test(bad_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
