/*
 * The value types of the configuration: reading one value from its text,
 * writing it back as text and as YAML, comparing, freeing and describing
 * it. Every function switches on the row's type, so a new type is a case
 * in each of them, and a new option of an old type needs nothing here.
 * Addresses are RFC 4291 §2.2 / inet_pton() text; domain names are RFC
 * 1035 §5.1 presentation form (through dns_name_from_str()).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/internal.h"
#include "dns/dns.h"
#include "lib/errcode.h"
#include "lib/hash.h"

/* Durations are written with one unit; the largest that divides the value
 * exactly is used on output. */
static const struct {
	const char *suffix;
	int64_t ms;
} duration_units[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	{ "ms", 1 },
};

#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* ---- small helpers ------------------------------------------------------ */

const char *conf_show(const char *text, size_t len, char *buf, size_t cap)
{
	size_t n = 0, max = cap - 4;
	if (max > 48)
		max = 48;
	for (size_t i = 0; i < len && n < max; i++) {
		unsigned char c = (unsigned char)text[i];
		buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (len > max) {
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;	/* do not cut a UTF-8 sequence */
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool is_signed(const struct conf_row *r)
{
	return r->min < 0;
}

static int64_t int_load(const struct conf_row *r, const void *v)
{
	bool sig = is_signed(r);
	switch (r->size) {
	case 1:
		return sig ? (int64_t)*(const int8_t *)v : (int64_t)*(const uint8_t *)v;
	case 2:
		return sig ? (int64_t)*(const int16_t *)v : (int64_t)*(const uint16_t *)v;
	case 4:
		return sig ? (int64_t)*(const int32_t *)v : (int64_t)*(const uint32_t *)v;
	default:
		return *(const int64_t *)v;
	}
}

/* The bounds of the row keep v inside the field's range (the schema test
 * checks every row), so the narrowing casts below never lose bits. */
static void int_store(const struct conf_row *r, void *v, int64_t x)
{
	switch (r->size) {
	case 1:
		if (is_signed(r))
			*(int8_t *)v = (int8_t)x;
		else
			*(uint8_t *)v = (uint8_t)x;
		break;
	case 2:
		if (is_signed(r))
			*(int16_t *)v = (int16_t)x;
		else
			*(uint16_t *)v = (uint16_t)x;
		break;
	case 4:
		if (is_signed(r))
			*(int32_t *)v = (int32_t)x;
		else
			*(uint32_t *)v = (uint32_t)x;
		break;
	default:
		*(int64_t *)v = x;
		break;
	}
}

/* Decimal digits with an optional '-'; *end gets the first other char. */
static bool parse_decimal(const char *s, size_t len, int64_t *out, size_t *used)
{
	size_t i = 0;
	bool neg = false;
	int64_t v = 0;
	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	size_t start = i;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		int d = s[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (i == start)
		return false;
	*out = neg ? -v : v;
	*used = i;
	return true;
}

static void duration_text(int64_t ms, char *buf, size_t cap)
{
	if (ms == 0) {
		snprintf(buf, cap, "0s");
		return;
	}
	for (size_t i = 0; i < N_DURATION_UNITS; i++) {
		if (ms % duration_units[i].ms == 0) {
			snprintf(buf, cap, "%" PRId64 "%s",
				 ms / duration_units[i].ms,
				 duration_units[i].suffix);
			return;
		}
	}
}

static void bounds_text(const struct conf_row *r, int64_t v, char *buf,
			size_t cap)
{
	if (r->type == CONF_T_DURATION)
		duration_text(v, buf, cap);
	else
		snprintf(buf, cap, "%" PRId64, v);
}

/* ---- parsers, one per type ---------------------------------------------- */

static int parse_int(const struct conf_row *r, const char *s, size_t len,
		     int64_t *out, char *msg, size_t cap)
{
	char shown[64];
	size_t used = 0;
	int64_t v = 0;

	if (!parse_decimal(s, len, &v, &used)) {
		snprintf(msg, cap, "'%s' is not %s", conf_show(s, len, shown, sizeof(shown)),
			 r->type == CONF_T_DURATION ? "a duration (a number "
			 "with ms, s, m, h or d)" : r->type == CONF_T_SIZE ?
			 "a size (a number, optionally with k, m or g)" :
			 "an integer");
		return -1;
	}
	if (r->type == CONF_T_DURATION) {
		int64_t unit = 1000;	/* a bare number is seconds */
		if (used < len) {
			unit = 0;
			for (size_t i = 0; i < N_DURATION_UNITS; i++)
				if (strlen(duration_units[i].suffix) == len - used &&
				    memcmp(duration_units[i].suffix, s + used,
					   len - used) == 0)
					unit = duration_units[i].ms;
		}
		if (unit == 0 || (v != 0 && (v > INT64_MAX / unit ||
					     v < INT64_MIN / unit))) {
			snprintf(msg, cap, "'%s' is not a duration (a number "
				 "with ms, s, m, h or d)",
				 conf_show(s, len, shown, sizeof(shown)));
			return -1;
		}
		v *= unit;
	} else if (r->type == CONF_T_SIZE) {
		int shift = 0;
		if (used + 1 == len) {
			switch (s[used]) {
			case 'k': case 'K': shift = 10; break;
			case 'm': case 'M': shift = 20; break;
			case 'g': case 'G': shift = 30; break;
			default: shift = -1; break;
			}
		} else if (used != len) {
			shift = -1;
		}
		if (shift < 0 || v < 0 || v > (INT64_MAX >> shift)) {
			snprintf(msg, cap, "'%s' is not a size (a number, "
				 "optionally with k, m or g)",
				 conf_show(s, len, shown, sizeof(shown)));
			return -1;
		}
		v <<= shift;
	} else if (used != len) {
		snprintf(msg, cap, "'%s' is not an integer",
			 conf_show(s, len, shown, sizeof(shown)));
		return -1;
	}
	if (v < r->min || v > r->max) {
		char val[32], lo[32], hi[32];
		bounds_text(r, v, val, sizeof(val));
		bounds_text(r, r->min, lo, sizeof(lo));
		bounds_text(r, r->max, hi, sizeof(hi));
		snprintf(msg, cap, "%s is out of range (%s to %s)", val, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_bool(const char *s, size_t len, bool *out, char *msg,
		      size_t cap)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char shown[64];
	for (size_t i = 0; i < 3; i++) {
		if (strlen(yes[i]) == len && strncasecmp(s, yes[i], len) == 0) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == len && strncasecmp(s, no[i], len) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(msg, cap, "'%s' is not true or false",
		 conf_show(s, len, shown, sizeof(shown)));
	return -1;
}

static int parse_enum(const struct conf_row *r, const char *s, size_t len,
		      int *out, char *msg, size_t cap)
{
	char shown[64];
	for (int i = 0; r->names[i] != NULL; i++) {
		if (strlen(r->names[i]) == len &&
		    strncasecmp(s, r->names[i], len) == 0) {
			*out = i;
			return 0;
		}
	}
	int n = snprintf(msg, cap, "'%s' is not one of ",
			 conf_show(s, len, shown, sizeof(shown)));
	for (int i = 0; r->names[i] != NULL && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(msg + n, cap - (size_t)n, "%s%s",
			      i > 0 ? ", " : "", r->names[i]);
	return -1;
}

static int parse_addr(const struct conf_row *r, const char *s, size_t len,
		      struct conf_addr *a, char *msg, size_t cap)
{
	char shown[64], host[INET6_ADDRSTRLEN + 1];
	const char *at = NULL;
	int64_t port = 0;

	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == '@') {
			at = s + i - 1;
			break;
		}
	}
	size_t hlen = at != NULL ? (size_t)(at - s) : len;
	if (at != NULL) {
		size_t used = 0;
		size_t plen = len - hlen - 1;
		if (!parse_decimal(at + 1, plen, &port, &used) || used != plen ||
		    port < 1 || port > 65535) {
			snprintf(msg, cap, "bad port in '%s' (1 to 65535)",
				 conf_show(s, len, shown, sizeof(shown)));
			return -1;
		}
	} else if (r->flags & CONF_PORT) {
		snprintf(msg, cap, "'%s' needs a port (ADDR@PORT)",
			 conf_show(s, len, shown, sizeof(shown)));
		return -1;
	}

	memset(a, 0, sizeof(*a));
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	if (hlen < sizeof(host)) {
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			a->len = sizeof(*sin);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
			a->len = sizeof(*sin6);
			return 0;
		}
	}
	memset(a, 0, sizeof(*a));
	snprintf(msg, cap, "'%s' is not an IPv4 or IPv6 address",
		 conf_show(s, hlen, shown, sizeof(shown)));
	return -1;
}

static int parse_name(const char *s, size_t len, uint8_t *dst, char *msg,
		      size_t cap)
{
	char shown[64], str[DNS_NAME_STRLEN];
	size_t wlen = 0;
	int ret = ANYDNS_ENAME;

	if (len == 0) {
		ret = ANYDNS_ELABEL;
	} else if (len < sizeof(str)) {
		memcpy(str, s, len);
		str[len] = '\0';
		ret = dns_name_from_str(dst, &wlen, str, NULL);
	}
	if (ret == 0)
		return 0;
	snprintf(msg, cap, "'%s' is not a domain name (%s)",
		 conf_show(s, len, shown, sizeof(shown)),
		 ret == ANYDNS_ELABEL ? "empty label, or a label over 63 octets" :
		 ret == ANYDNS_ENAME ? "longer than 255 octets" :
		 "bad escape");
	return -1;
}

static int parse_path(const char *s, size_t len, const char *basedir,
		      char **out, char *msg, size_t cap)
{
	char shown[64];
	if (len == 0) {
		snprintf(msg, cap, "the path is empty");
		return -1;
	}
	size_t blen = 0;
	if (basedir != NULL && s[0] != '/') {
		while (len >= 2 && s[0] == '.' && s[1] == '/') {
			s += 2;
			len -= 2;
			while (len > 0 && s[0] == '/') {
				s++;
				len--;
			}
		}
		blen = strlen(basedir);
	}
	size_t total = blen + (blen > 0 && len > 0 ? 1 : 0) + len;
	if (total >= PATH_MAX) {
		snprintf(msg, cap, "'%s' is longer than %d octets",
			 conf_show(s, len, shown, sizeof(shown)), PATH_MAX - 1);
		return -1;
	}
	char *p = malloc(total + 1);
	if (p == NULL)
		return ANYDNS_ENOMEM;
	memcpy(p, basedir != NULL ? basedir : "", blen);
	if (blen > 0 && len > 0)
		p[blen] = '/';
	memcpy(p + total - len, s, len);
	p[total] = '\0';
	*out = p;
	return 0;
}

static int parse_str(const struct conf_row *r, const char *s, size_t len,
		     char **out, char *msg, size_t cap)
{
	char shown[64];
	if ((int64_t)len < r->min || (int64_t)len > r->max) {
		if (len == 0)
			snprintf(msg, cap, "must not be empty");
		else
			snprintf(msg, cap, "'%s' is longer than %" PRId64
				 " octets", conf_show(s, len, shown, sizeof(shown)),
				 r->max);
		return -1;
	}
	char *p = malloc(len + 1);
	if (p == NULL)
		return ANYDNS_ENOMEM;
	memcpy(p, s, len);
	p[len] = '\0';
	*out = p;
	return 0;
}

/* Unsigned decimal fields separated by ':' ("65000:1", "64500:1:2"),
 * each at most max; false unless there are exactly n. */
static bool parse_fields(const char *s, size_t len, uint32_t *out, size_t n,
			 int64_t max)
{
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		size_t used;
		if (at >= len || s[at] == '-' ||
		    !parse_decimal(s + at, len - at, &v, &used) || v > max)
			return false;
		out[i] = (uint32_t)v;
		at += used;
		if (i + 1 < n) {
			if (at >= len || s[at] != ':')
				return false;
			at++;
		}
	}
	return at == len;
}

static int parse_prefix(const char *s, size_t len, struct conf_prefix *p,
			char *msg, size_t cap)
{
	char shown[64], host[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(s, '/', len);
	size_t hlen = slash != NULL ? (size_t)(slash - s) : len;
	int64_t bits = -1;
	size_t used = 0;

	memset(p, 0, sizeof(*p));
	if (slash == NULL) {
		snprintf(msg, cap, "'%s' needs a prefix length (ADDR/LEN)",
			 conf_show(s, len, shown, sizeof(shown)));
		return -1;
	}
	size_t llen = len - hlen - 1;
	if (llen == 0 || slash[1] == '-' ||
	    !parse_decimal(slash + 1, llen, &bits, &used) || used != llen)
		bits = -1;
	if (hlen < sizeof(host)) {
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &p->addr.v4) == 1)
			p->family = AF_INET;
		else if (inet_pton(AF_INET6, host, &p->addr.v6) == 1)
			p->family = AF_INET6;
	}
	if (p->family == 0) {
		snprintf(msg, cap, "'%s' is not an IPv4 or IPv6 address",
			 conf_show(s, hlen, shown, sizeof(shown)));
		return -1;
	}
	int64_t max = p->family == AF_INET ? 32 : 128;
	if (bits < 0 || bits > max) {
		snprintf(msg, cap, "bad prefix length in '%s' (0 to %d)",
			 conf_show(s, len, shown, sizeof(shown)), (int)max);
		memset(p, 0, sizeof(*p));
		return -1;
	}
	p->len = (uint8_t)bits;
	return 0;
}

static int parse_rrtype(const char *s, size_t len, uint16_t *type, char *msg,
			size_t cap)
{
	char shown[64], buf[32];
	if (len > 0 && len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (dns_rrtype_from_str(buf, type) == 0)
			return 0;
	}
	snprintf(msg, cap, "'%s' is not an RR type (a mnemonic such as AAAA, "
		 "or TYPEnnn)", conf_show(s, len, shown, sizeof(shown)));
	return -1;
}

int conf_value_parse(const struct conf_row *r, const char *text, size_t len,
		     const char *basedir, void *dst, char *msg, size_t cap)
{
	int ret = -1;
	int64_t v = 0;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(msg, cap, "the value contains a NUL character");
		return -1;
	}
	switch (r->type) {
	case CONF_T_STR:
		ret = parse_str(r, text, len, (char **)dst, msg, cap);
		break;
	case CONF_T_PATH:
		ret = parse_path(text, len, basedir, (char **)dst, msg, cap);
		break;
	case CONF_T_BOOL:
		ret = parse_bool(text, len, (bool *)dst, msg, cap);
		break;
	case CONF_T_INT:
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		ret = parse_int(r, text, len, &v, msg, cap);
		if (ret == 0)
			int_store(r, dst, v);
		break;
	case CONF_T_ENUM:
		ret = parse_enum(r, text, len, (int *)dst, msg, cap);
		break;
	case CONF_T_ADDR:
		ret = parse_addr(r, text, len, dst, msg, cap);
		break;
	case CONF_T_NAME:
		ret = parse_name(text, len, dst, msg, cap);
		break;
	case CONF_T_PREFIX:
		ret = parse_prefix(text, len, dst, msg, cap);
		break;
	case CONF_T_COMMUNITY: {
		uint32_t f[2];
		if (!parse_fields(text, len, f, 2, UINT16_MAX)) {
			char shown[64];
			snprintf(msg, cap, "'%s' is not a community (AS:VALUE, "
				 "each 0 to 65535)",
				 conf_show(text, len, shown, sizeof(shown)));
			break;
		}
		uint32_t c = f[0] << 16 | f[1];
		memcpy(dst, &c, sizeof(c));
		ret = 0;
		break;
	}
	case CONF_T_LCOMMUNITY: {
		uint32_t f[3];
		if (!parse_fields(text, len, f, 3, UINT32_MAX)) {
			char shown[64];
			snprintf(msg, cap, "'%s' is not a large community "
				 "(GLOBAL:LOCAL1:LOCAL2, each 0 to 4294967295)",
				 conf_show(text, len, shown, sizeof(shown)));
			break;
		}
		struct conf_large_community lc = { f[0], f[1], f[2] };
		memcpy(dst, &lc, sizeof(lc));
		ret = 0;
		break;
	}
	case CONF_T_RRTYPE:
		ret = parse_rrtype(text, len, dst, msg, cap);
		break;
	case CONF_T_SECTION:
	case CONF_T_RECORDS:
		snprintf(msg, cap, "a section has no value of its own");
		break;
	}
	if (ret == 0 && r->validate != NULL && r->validate(dst, msg, cap) != 0) {
		conf_value_free(r, dst);
		ret = -1;
	}
	return ret;
}

/* ---- output ------------------------------------------------------------- */

void conf_value_text(const struct conf_row *r, const void *v, char *buf,
		     size_t cap)
{
	const char *s;
	char host[INET6_ADDRSTRLEN], name[DNS_NAME_STRLEN];
	const struct conf_addr *a = v;
	int idx;

	buf[0] = '\0';
	switch (r->type) {
	case CONF_T_STR:
	case CONF_T_PATH:
		memcpy(&s, v, sizeof(s));
		snprintf(buf, cap, "%s", s != NULL ? s : "");
		break;
	case CONF_T_BOOL:
		snprintf(buf, cap, "%s", *(const bool *)v ? "true" : "false");
		break;
	case CONF_T_INT:
	case CONF_T_SIZE:
		snprintf(buf, cap, "%" PRId64, int_load(r, v));
		break;
	case CONF_T_DURATION:
		duration_text(int_load(r, v), buf, cap);
		break;
	case CONF_T_ENUM:
		memcpy(&idx, v, sizeof(idx));
		for (int i = 0; r->names[i] != NULL; i++)
			if (i == idx)
				snprintf(buf, cap, "%s", r->names[i]);
		break;
	case CONF_T_ADDR:
		if (a->len == 0)
			break;
		if (a->ss.ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)&a->ss;
			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
			idx = ntohs(sin->sin_port);
		} else {
			const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
			idx = ntohs(sin6->sin6_port);
		}
		if (idx != 0)
			snprintf(buf, cap, "%s@%d", host, idx);
		else
			snprintf(buf, cap, "%s", host);
		break;
	case CONF_T_NAME:
		dns_name_to_str(name, v);
		snprintf(buf, cap, "%s", name);
		break;
	case CONF_T_PREFIX: {
		const struct conf_prefix *p = v;
		if (p->family == 0)
			break;
		inet_ntop(p->family, &p->addr, host, sizeof(host));
		snprintf(buf, cap, "%s/%u", host, p->len);
		break;
	}
	case CONF_T_COMMUNITY: {
		uint32_t c;
		memcpy(&c, v, sizeof(c));
		snprintf(buf, cap, "%u:%u", c >> 16, c & 0xffff);
		break;
	}
	case CONF_T_LCOMMUNITY: {
		struct conf_large_community lc;
		memcpy(&lc, v, sizeof(lc));
		snprintf(buf, cap, "%u:%u:%u", lc.global, lc.local1, lc.local2);
		break;
	}
	case CONF_T_RRTYPE: {
		uint16_t t;
		char tb[16];
		memcpy(&t, v, sizeof(t));
		snprintf(buf, cap, "%s", dns_rrtype_to_str(t, tb));
		break;
	}
	case CONF_T_SECTION:
	case CONF_T_RECORDS:
		break;
	}
}

/* Length of the UTF-8 sequence at s and its code point; 0 if s does not
 * start a valid one (the octet is then written as it is). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (n == 0 || s[0] > 0xf4)
		return 0;
	uint32_t v = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

/* Characters a YAML reader refuses in a document (YAML 1.1 §5.1) or folds
 * inside a quoted scalar (the line breaks of §5.4); the byte-order mark
 * too, so no reader takes it for an encoding mark. */
static bool yaml_needs_escape(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0xd800 && cp <= 0xdfff) ||
	       cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

/* A YAML double-quoted scalar: '"', '\' and the characters above are
 * escaped; everything else (most of UTF-8) stands as itself. */
static void yaml_quoted(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	while (*s != '\0') {
		uint32_t cp;
		size_t n = utf8_next(s, &cp);
		if (n == 0) {
			fputc(*s++, f);
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp <= 0xff && yaml_needs_escape(cp))
			fprintf(f, "\\x%02x", (unsigned)cp);
		else if (yaml_needs_escape(cp))
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(s, 1, n, f);
		s += n;
	}
	fputc('"', f);
}

void conf_value_yaml(FILE *f, const struct conf_row *r, const void *v)
{
	char buf[DNS_NAME_STRLEN + 8];
	const char *s;

	if (!conf_value_is_set(r, v)) {
		fputs("~", f);
		return;
	}
	switch (r->type) {
	case CONF_T_STR:
	case CONF_T_PATH:
		memcpy(&s, v, sizeof(s));
		yaml_quoted(f, s);
		break;
	case CONF_T_ADDR:
	case CONF_T_NAME:
	case CONF_T_PREFIX:
	case CONF_T_COMMUNITY:
	case CONF_T_LCOMMUNITY:
		/* Quoted: "::1/128" would not be a plain scalar, and YAML 1.1
		 * readers take "65000:1" for a base-60 integer. */
		conf_value_text(r, v, buf, sizeof(buf));
		yaml_quoted(f, buf);
		break;
	default:
		conf_value_text(r, v, buf, sizeof(buf));
		fputs(buf, f);
		break;
	}
}

bool conf_value_equal(const struct conf_row *r, const void *a, const void *b)
{
	const char *sa, *sb;
	const struct conf_addr *aa = a, *ab = b;

	switch (r->type) {
	case CONF_T_STR:
	case CONF_T_PATH:
		memcpy(&sa, a, sizeof(sa));
		memcpy(&sb, b, sizeof(sb));
		if (sa == NULL || sb == NULL)
			return sa == sb;
		return strcmp(sa, sb) == 0;
	case CONF_T_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case CONF_T_INT:
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		return int_load(r, a) == int_load(r, b);
	case CONF_T_ENUM:
		return memcmp(a, b, sizeof(int)) == 0;
	case CONF_T_ADDR:
		return aa->len == ab->len && memcmp(&aa->ss, &ab->ss, aa->len) == 0;
	case CONF_T_NAME:
		return dns_name_equal(a, b);
	case CONF_T_PREFIX: {
		const struct conf_prefix *pa = a, *pb = b;
		return pa->family == pb->family && pa->len == pb->len &&
		       memcmp(&pa->addr, &pb->addr, pa->family == AF_INET ?
			      sizeof(pa->addr.v4) : sizeof(pa->addr.v6)) == 0;
	}
	case CONF_T_COMMUNITY:
		return memcmp(a, b, sizeof(uint32_t)) == 0;
	case CONF_T_LCOMMUNITY:
		return memcmp(a, b, sizeof(struct conf_large_community)) == 0;
	case CONF_T_RRTYPE:
		return memcmp(a, b, sizeof(uint16_t)) == 0;
	case CONF_T_SECTION:
	case CONF_T_RECORDS:
		break;
	}
	return true;
}

/* Names hash lowercased and everything else by its text, which keeps
 * equal values (conf_value_equal()) on equal hashes. */
uint64_t conf_value_hash(const struct conf_row *r, const void *v)
{
	uint8_t lower[DNS_NAME_MAXLEN];
	char text[DNS_NAME_STRLEN + 8];
	const char *s;

	switch (r->type) {
	case CONF_T_NAME:
		return hash_bytes(lower, dns_name_copy_lower(lower, v));
	case CONF_T_STR:
	case CONF_T_PATH:
		memcpy(&s, v, sizeof(s));
		return s != NULL ? hash_bytes(s, strlen(s)) : 0;
	default:
		conf_value_text(r, v, text, sizeof(text));
		return hash_bytes(text, strlen(text));
	}
}

bool conf_value_is_set(const struct conf_row *r, const void *v)
{
	const char *s;
	switch (r->type) {
	case CONF_T_STR:
	case CONF_T_PATH:
		memcpy(&s, v, sizeof(s));
		return s != NULL;
	case CONF_T_ADDR:
		return ((const struct conf_addr *)v)->len != 0;
	case CONF_T_PREFIX:
		return ((const struct conf_prefix *)v)->family != 0;
	default:
		return true;
	}
}

void conf_value_free(const struct conf_row *r, void *v)
{
	char *s;
	if (r->type == CONF_T_STR || r->type == CONF_T_PATH) {
		memcpy(&s, v, sizeof(s));
		free(s);
		s = NULL;
		memcpy(v, &s, sizeof(s));
	}
}

/* ---- words for people --------------------------------------------------- */

void conf_value_describe(const struct conf_row *r, char *buf, size_t cap)
{
	char lo[32], hi[32];
	int n = 0;

	if (r->flags & CONF_LIST)
		n = snprintf(buf, cap, "list of: ");
	if (n < 0 || (size_t)n >= cap)
		return;
	buf += n;
	cap -= (size_t)n;
	bounds_text(r, r->min, lo, sizeof(lo));
	bounds_text(r, r->max, hi, sizeof(hi));
	switch (r->type) {
	case CONF_T_STR:
		if (r->min > 0)
			snprintf(buf, cap, "string, %s to %s octets", lo, hi);
		else
			snprintf(buf, cap, "string, at most %s octets", hi);
		break;
	case CONF_T_BOOL:
		snprintf(buf, cap, "boolean: true or false");
		break;
	case CONF_T_INT:
		snprintf(buf, cap, "integer, %s to %s", lo, hi);
		break;
	case CONF_T_DURATION:
		snprintf(buf, cap, "duration, %s to %s", lo, hi);
		break;
	case CONF_T_SIZE:
		snprintf(buf, cap, "size in octets, %s to %s", lo, hi);
		break;
	case CONF_T_ENUM:
		n = snprintf(buf, cap, "one of");
		for (int i = 0; r->names[i] != NULL && n >= 0 && (size_t)n < cap; i++)
			n += snprintf(buf + n, cap - (size_t)n, "%s `%s`",
				      i > 0 ? "," : "", r->names[i]);
		break;
	case CONF_T_ADDR:
		snprintf(buf, cap, (r->flags & CONF_PORT) ?
			 "IP address and port, `ADDR@PORT`" :
			 "IP address, `ADDR` or `ADDR@PORT`");
		break;
	case CONF_T_NAME:
		snprintf(buf, cap, "domain name");
		break;
	case CONF_T_PATH:
		snprintf(buf, cap, "file path");
		break;
	case CONF_T_PREFIX:
		snprintf(buf, cap, "IP prefix, `ADDR/LEN`");
		break;
	case CONF_T_COMMUNITY:
		snprintf(buf, cap, "BGP community, `AS:VALUE`");
		break;
	case CONF_T_LCOMMUNITY:
		snprintf(buf, cap, "BGP large community, "
			 "`GLOBAL:LOCAL1:LOCAL2`");
		break;
	case CONF_T_RRTYPE:
		snprintf(buf, cap, "RR type");
		break;
	case CONF_T_SECTION:
		snprintf(buf, cap, "section");
		break;
	case CONF_T_RECORDS:
		snprintf(buf, cap, "list of mappings");
		break;
	}
}

void conf_type_noun(const struct conf_row *r, bool item, char *buf, size_t cap)
{
	static const char *const nouns[] = {
		[CONF_T_SECTION] = "a mapping",
		[CONF_T_RECORDS] = "a list of mappings",
		[CONF_T_STR] = "a string",
		[CONF_T_BOOL] = "true or false",
		[CONF_T_INT] = "an integer",
		[CONF_T_DURATION] = "a duration",
		[CONF_T_SIZE] = "a size",
		[CONF_T_ENUM] = "one of the names",
		[CONF_T_ADDR] = "an IP address",
		[CONF_T_NAME] = "a domain name",
		[CONF_T_PATH] = "a path",
		[CONF_T_PREFIX] = "an IP prefix",
		[CONF_T_COMMUNITY] = "a BGP community",
		[CONF_T_LCOMMUNITY] = "a BGP large community",
		[CONF_T_RRTYPE] = "an RR type",
	};
	if (r->type == CONF_T_ENUM) {
		int n = snprintf(buf, cap, "one of ");
		for (int i = 0; r->names[i] != NULL && n >= 0 && (size_t)n < cap; i++)
			n += snprintf(buf + n, cap - (size_t)n, "%s%s",
				      i > 0 ? ", " : "", r->names[i]);
		return;
	}
	snprintf(buf, cap, "%s%s", nouns[r->type],
		 (r->flags & CONF_LIST) && !item ? " or a list of them" : "");
}
