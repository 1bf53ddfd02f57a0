/*
 * The DNS probe's messages, without I/O: the query (RFC 1035 §4.1 with an
 * RFC 6891 OPT record) and the judge of its reply. A reply passes when it
 * answers our ID and question with the expected RCODE and, when asked
 * for, holds an answer record of the name and type asked whose RDATA reads
 * as the expected text. RDATA is turned into the presentation form an
 * operator writes in the configuration: RFC 1035 §5.1 for the common
 * types (addresses, absolute names, quoted <character-string>s), RFC 3597
 * §5 "\# LEN HEX" for the rest. Every octet of the reply is read through
 * the wire cursor; names may be compressed anywhere (RFC 1035 §4.1.4).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "health/internal.h"

#define PROBE_PAYLOAD 1232

size_t health_probe_query(uint8_t *buf, size_t cap, uint16_t id,
			  const uint8_t *qname, uint16_t qtype)
{
	struct dns_writer w;
	struct dns_opt_out opt;
	if (cap < DNS_HEADER_LEN)
		return 0;
	memset(&opt, 0, sizeof(opt));
	opt.payload = PROBE_PAYLOAD;
	dns_writer_init(&w, buf, cap);
	if (dns_writer_question(&w, qname, qtype, DNS_CLASS_IN) != 0 ||
	    dns_writer_opt(&w, &opt) != 0)
		return 0;
	return dns_writer_finish(&w, id, 0);
}

/* ---- presentation form of RDATA ----------------------------------------- */

struct text {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	if (t->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->full = true;
		return;
	}
	t->len += (size_t)n;
}

static void put_name(struct text *t, struct wire_ctx *c)
{
	uint8_t name[DNS_NAME_MAXLEN];
	char str[DNS_NAME_STRLEN];
	size_t len;
	if (dns_name_read(c, name, &len) != 0)
		return;	/* the cursor holds the error */
	dns_name_to_str(str, name);
	put(t, "%s%s", t->len > 0 ? " " : "", str);
}

/* A <character-string> in quotes; '"' and '\' escaped, octets outside
 * printable ASCII as \DDD (RFC 1035 §5.1). */
static void put_string(struct text *t, struct wire_ctx *c)
{
	uint8_t n = wire_read_u8(c);
	const uint8_t *s = wire_take(c, n);
	if (s == NULL)
		return;
	put(t, "%s\"", t->len > 0 ? " " : "");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			put(t, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] > 0x7e)
			put(t, "\\%03u", s[i]);
		else
			put(t, "%c", s[i]);
	}
	put(t, "\"");
}

static void put_u16(struct text *t, struct wire_ctx *c)
{
	unsigned v = wire_read_u16(c);
	put(t, "%s%u", t->len > 0 ? " " : "", v);
}

static void put_u32(struct text *t, struct wire_ctx *c)
{
	uint32_t v = wire_read_u32(c);
	put(t, "%s%" PRIu32, t->len > 0 ? " " : "", v);
}

int health_rdata_text(struct wire_ctx *c, uint16_t type, uint16_t rdlen,
		      char *buf, size_t cap)
{
	struct text t = { buf, cap, 0, cap == 0 };
	char addr[INET6_ADDRSTRLEN];
	if (cap > 0)
		buf[0] = '\0';
	if (!wire_need(c, rdlen))
		return ANYDNS_EMALF;
	/* The RDATA alone: names inside may point back into the message,
	 * but nothing may be read past the RDATA. */
	struct wire_ctx r = *c;
	r.end = c->pos + rdlen;
	switch (type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t n = type == DNS_TYPE_A ? 4 : 16;
		uint8_t a[16];
		wire_read(&r, a, n);
		if (r.err == 0 && inet_ntop(type == DNS_TYPE_A ? AF_INET :
					    AF_INET6, a, addr, sizeof(addr)))
			put(&t, "%s", addr);
		break;
	}
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
	case DNS_TYPE_DNAME:
		put_name(&t, &r);
		break;
	case DNS_TYPE_MX:
	case DNS_TYPE_KX:
	case DNS_TYPE_AFSDB:
	case DNS_TYPE_RT:
		put_u16(&t, &r);
		put_name(&t, &r);
		break;
	case DNS_TYPE_SOA:
		put_name(&t, &r);
		put_name(&t, &r);
		for (int i = 0; i < 5; i++)
			put_u32(&t, &r);
		break;
	case DNS_TYPE_SRV:
		put_u16(&t, &r);
		put_u16(&t, &r);
		put_u16(&t, &r);
		put_name(&t, &r);
		break;
	case DNS_TYPE_TXT:
	case DNS_TYPE_SPF:
		if (rdlen == 0)
			wire_fail(&r, ANYDNS_ETRUNC);
		while (wire_avail(&r) > 0)
			put_string(&t, &r);
		break;
	default:
		put(&t, "\\# %u", rdlen);
		if (rdlen > 0)
			put(&t, " ");
		for (uint16_t i = 0; i < rdlen; i++)
			put(&t, "%02x", wire_read_u8(&r));
		break;
	}
	/* The fields must fill the RDATA exactly. */
	if (r.err != 0 || r.pos != r.end)
		return ANYDNS_EMALF;
	wire_skip(c, rdlen);
	return t.full ? ANYDNS_ESPACE : 0;
}

/* ---- the judge ---------------------------------------------------------- */

static int fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	if (whylen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return ANYDNS_EMALF;
}

/* Addresses compare as addresses ("2001:db8:0::1" is "2001:db8::1");
 * TXT as written; everything else case-blind, a final dot optional. */
static bool rdata_matches(uint16_t type, const char *got, const char *want)
{
	uint8_t a[16], b[16];
	if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
		int af = type == DNS_TYPE_A ? AF_INET : AF_INET6;
		return inet_pton(af, got, a) == 1 && inet_pton(af, want, b) == 1 &&
		       memcmp(a, b, type == DNS_TYPE_A ? 4 : 16) == 0;
	}
	if (type == DNS_TYPE_TXT || type == DNS_TYPE_SPF)
		return strcmp(got, want) == 0;
	if (strcasecmp(got, want) == 0)
		return true;
	size_t gl = strlen(got), wl = strlen(want);
	return wl > 0 && gl == wl + 1 && got[gl - 1] == '.' &&
	       want[wl - 1] != '.' && strncasecmp(got, want, wl) == 0;
}

int health_probe_judge(const uint8_t *pkt, size_t len, uint16_t id,
		       const uint8_t *qname, uint16_t qtype,
		       uint8_t expect_rcode, const char *expect_rdata,
		       char *why, size_t whylen)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	char rc[16], want_rc[16], text[HEALTH_TEXT_MAX], first[64] = "";
	size_t nlen;

	wire_init(&c, pkt, len);
	uint16_t rid = wire_read_u16(&c);
	uint16_t flags = wire_read_u16(&c);
	uint16_t qd = wire_read_u16(&c), an = wire_read_u16(&c);
	wire_skip(&c, 4);	/* NSCOUNT, ARCOUNT */
	if (c.err != 0 || rid != id || !(flags & DNS_FLAG_QR))
		return ANYDNS_EAGAIN;
	if (qd != 1)
		return fail(why, whylen, "reply with %u questions", qd);
	dns_name_read(&c, name, &nlen);
	uint16_t type = wire_read_u16(&c);
	uint16_t qclass = wire_read_u16(&c);
	if (c.err != 0)
		return fail(why, whylen, "malformed reply (%zu octets)", len);
	if (!dns_name_equal(name, qname) || type != qtype ||
	    qclass != DNS_CLASS_IN)
		return ANYDNS_EAGAIN;

	uint8_t rcode = DNS_RCODE(flags);
	const char *rcs = dns_rcode_to_str(rcode, rc);
	if (rcode != expect_rcode)
		return fail(why, whylen, "%s, expected %s", rcs,
			    dns_rcode_to_str(expect_rcode, want_rc));
	if (expect_rdata == NULL) {
		snprintf(why, whylen, "%s, %u answer%s", rcs, an,
			 an == 1 ? "" : "s");
		return 0;
	}
	for (unsigned i = 0; i < an; i++) {
		dns_name_read(&c, name, &nlen);
		uint16_t rtype = wire_read_u16(&c);
		wire_skip(&c, 6);	/* class, TTL */
		uint16_t rdlen = wire_read_u16(&c);
		if (c.err != 0)
			break;
		if (!dns_name_equal(name, qname) || rtype != qtype) {
			wire_skip(&c, rdlen);
			continue;
		}
		int ret = health_rdata_text(&c, rtype, rdlen, text, sizeof(text));
		if (ret == ANYDNS_EMALF)
			return fail(why, whylen, "malformed RDATA in the answer");
		if (ret == 0 && rdata_matches(rtype, text, expect_rdata)) {
			snprintf(why, whylen, "%s, RDATA %.100s", rcs, text);
			return 0;
		}
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%.60s", text);
	}
	if (c.err != 0)
		return fail(why, whylen, "malformed answer section");
	if (first[0] == '\0')
		return fail(why, whylen, "%s, no answer record%s", rcs,
			    (flags & DNS_FLAG_TC) ? " (truncated)" : "");
	return fail(why, whylen, "RDATA %s, expected %.60s", first,
		    expect_rdata);
}
