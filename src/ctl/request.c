/*
 * The control protocol's request line: a command word and, for `reload`,
 * an optional zone name in presentation form (RFC 1035 §5.1, final dot
 * optional), for `drain` and `undrain` an optional network name. It
 * arrives from a local client, which is still outside input: every octet
 * is read through the wire cursor, the line is bounded, and each
 * rejection says why in one line the client shows to its operator.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "lib/wire.h"

/* Words in a valid request: the command and at most one argument. */
#define MAX_WORDS 2
#define WORD_MAX (DNS_NAME_STRLEN)

struct words {
	char text[MAX_WORDS][WORD_MAX];
	size_t count;
};

enum arg_kind {
	ARG_NONE = 0,
	ARG_ZONE,		/* a domain name */
	ARG_NETWORK,		/* a network's name */
};

static const struct {
	const char *name;
	enum ctl_command command;
	enum arg_kind arg;
} commands[] = {
	{ "status", CTL_STATUS, ARG_NONE },
	{ "zones", CTL_ZONES, ARG_NONE },
	{ "stats", CTL_STATS, ARG_NONE },
	{ "reload", CTL_RELOAD, ARG_ZONE },
	{ "bgp", CTL_BGP, ARG_NONE },
	{ "networks", CTL_NETWORKS, ARG_NONE },
	{ "drain", CTL_DRAIN, ARG_NETWORK },
	{ "undrain", CTL_UNDRAIN, ARG_NETWORK },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ANYDNS_ESYNTAX;
}

/* A word as shown in a message: cut, so a reply stays one short line. */
static const char *shown(const char *word, char *buf, size_t len)
{
	snprintf(buf, len, "%.32s%s", word, strlen(word) > 32 ? "..." : "");
	return buf;
}

/* Splits the line into words; the newline (with a "\r" before it) may only
 * end the line. */
static int split(struct wire_ctx *c, struct words *w, char *err,
		 size_t errlen)
{
	size_t len = 0;
	bool in_word = false;
	memset(w, 0, sizeof(*w));
	while (wire_avail(c) > 0) {
		uint8_t ch = wire_read_u8(c);
		if (ch == '\r' && wire_avail(c) > 0 && c->pos[0] == '\n')
			ch = wire_read_u8(c);
		if (ch == '\n') {
			if (wire_avail(c) > 0)
				return fail(err, errlen, "more than one line");
			break;
		}
		if (ch == ' ' || ch == '\t') {
			in_word = false;
			continue;
		}
		if (ch < 0x20 || ch >= 0x7f)
			return fail(err, errlen, "%s in the request",
				    ch >= 0x7f ? "non-ASCII octet" :
				    "control character");
		if (!in_word) {
			if (w->count == MAX_WORDS)
				return fail(err, errlen, "too many words");
			w->count++;
			len = 0;
			in_word = true;
		}
		if (len + 1 >= WORD_MAX)
			return fail(err, errlen, "word too long");
		w->text[w->count - 1][len++] = (char)ch;
	}
	return 0;
}

int ctl_request_parse(const void *line, size_t len, struct ctl_request *req,
		      char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > CTL_REQUEST_MAX)
		return fail(err, errlen, "request longer than %d octets",
			    CTL_REQUEST_MAX);
	struct wire_ctx c;
	struct words w;
	wire_init(&c, line, len);
	int ret = split(&c, &w, err, errlen);
	if (ret != 0)
		return ret;
	if (w.count == 0)
		return fail(err, errlen, "empty request");

	size_t i = 0, n = sizeof(commands) / sizeof(commands[0]);
	while (i < n && strcmp(commands[i].name, w.text[0]) != 0)
		i++;
	char buf[40];
	if (i == n)
		return fail(err, errlen, "unknown command '%s' (status, zones, "
			    "stats, reload [ZONE], bgp, networks, drain "
			    "[NETWORK], undrain [NETWORK])",
			    shown(w.text[0], buf, sizeof(buf)));
	memset(req, 0, sizeof(*req));
	req->command = commands[i].command;
	if (w.count == 1)
		return 0;
	if (commands[i].arg == ARG_NONE)
		return fail(err, errlen, "'%s' takes no argument",
			    commands[i].name);
	if (commands[i].arg == ARG_NETWORK) {
		size_t nlen = strlen(w.text[1]);
		bool ok = nlen <= CTL_NETWORK_MAX;
		for (size_t k = 0; ok && k < nlen; k++) {
			char ch = w.text[1][k];
			ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
			     ch == '.';
		}
		if (!ok)
			return fail(err, errlen, "'%s' is not a network name",
				    shown(w.text[1], buf, sizeof(buf)));
		memcpy(req->network, w.text[1], nlen + 1);
		req->has_network = true;
		return 0;
	}
	size_t zlen;
	if (dns_name_from_str(req->zone, &zlen, w.text[1], NULL) != 0)
		return fail(err, errlen, "'%s' is not a domain name",
			    shown(w.text[1], buf, sizeof(buf)));
	req->has_zone = true;
	return 0;
}
