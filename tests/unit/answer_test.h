/*
 * What the answer tests (tests/unit/test_answer_*.c) share, as static
 * inline functions because every .c file beside the tests is linked into
 * every test: the zones of tests/unit/data/answer/ as one zone set, a query
 * builder driven by the options of a case line, a decoder that reads a
 * response with the wire cursor and dns_name_read() and prints every record
 * in presentation form; answer_cases.h runs the case files with them.
 *
 * Every response is also checked for what holds for all of them: it parses
 * to its last octet with the counts of its header, echoes the ID and
 * opcode, carries at most one OPT and a TSIG only as its last record,
 * agrees with struct answer_result, stays within the UDP size limit of RFC
 * 1035 §4.2.1 and RFC 6891 §6.2.5, and leaves the buffer beyond that limit
 * untouched.
 */
#ifndef ANYDNS_TESTS_UNIT_ANSWER_TEST_H
#define ANYDNS_TESTS_UNIT_ANSWER_TEST_H

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer/answer.h"
#include "lib/log.h"
#include "zone/zone.h"

#define AT_DATA "tests/unit/data/answer/"
#define AT_MAX_RR 128		/* records per section a response may hold */
#define AT_LINE 1600		/* one record in presentation form */
#define AT_POISON 0xa5		/* fills the output buffer before each answer */

/* The configuration every case starts from ("@bare" drops it). */
#define AT_IDENTITY "ns1.anydns.test"
#define AT_VERSION "anydns-test 1.0"
#define AT_NSID "pop-a"
#define AT_KEEPALIVE 300

/* The TSIG a "+tsig=KEY" query carries (RFC 8945 §4.2), MAC not checked. */
#define AT_TSIG_ALG "hmac-sha256."
#define AT_TSIG_TIME 1600000000u
#define AT_TSIG_FUDGE 300

/* ---- Zones -------------------------------------------------------------- */

static inline struct zone_set *at_zones_load(void)
{
	static const char *const files[][2] = {
		{ "example.", AT_DATA "example.zone" },
		{ "sub.example.", AT_DATA "sub.example.zone" },
		{ "signed.test.", AT_DATA "signed.test.zone" },
	};
	enum { N = sizeof(files) / sizeof(files[0]) };
	struct zone *zones[N];
	for (size_t i = 0; i < N; i++) {
		uint8_t origin[DNS_NAME_MAXLEN];
		size_t len;
		char err[256] = "";
		assert_int_equal(dns_name_from_str(origin, &len, files[i][0], NULL), 0);
		if (zone_load_file(origin, files[i][1], &zones[i], err, sizeof(err)) != 0)
			fail_msg("cannot load %s (run from the repository root): %s",
				 files[i][1], err);
	}
	struct zone_set *set = NULL;
	assert_int_equal(zone_set_new(zones, N, &set), 0);
	return set;
}

/* ---- Queries ------------------------------------------------------------ */

struct at_query {
	uint8_t msg[4096];
	size_t len;
	enum answer_transport transport;
	struct answer_conf conf;
	bool no_zones;		/* "@nozones": answer with a NULL zone set */

	/* What the response must echo or honour. */
	uint16_t id;
	uint8_t opcode;
	bool edns;		/* an OPT was sent */
	bool do_bit;
	uint16_t bufsize;
	uint8_t qname[DNS_NAME_MAXLEN];
	size_t qname_len;
	uint16_t qtype, qclass;
};

static inline bool at_parse_uint(const char *s, unsigned long max,
				 unsigned long *v)
{
	char *end;
	if (*s == '\0')
		return false;
	*v = strtoul(s, &end, 0);
	return *end == '\0' && *v <= max;
}

/* Hex digits to octets; false on odd length or a non-hex digit. */
static inline bool at_unhex(uint8_t *dst, size_t cap, size_t *n, const char *hex)
{
	*n = 0;
	for (const char *p = hex; *p != '\0'; p += 2) {
		unsigned v;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    sscanf(p, "%2x", &v) != 1 || *n == cap)
			return false;
		dst[(*n)++] = (uint8_t)v;
	}
	return true;
}

static inline bool at_class_from_str(const char *s, uint16_t *rclass)
{
	static const struct { const char *name; uint16_t value; } classes[] = {
		{ "IN", DNS_CLASS_IN }, { "CH", DNS_CLASS_CH }, { "HS", DNS_CLASS_HS },
		{ "NONE", DNS_CLASS_NONE }, { "ANY", DNS_CLASS_ANY },
	};
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (strcmp(s, classes[i].name) == 0) {
			*rclass = classes[i].value;
			return true;
		}
	}
	unsigned long v;
	if (strncmp(s, "CLASS", 5) != 0 || !at_parse_uint(s + 5, UINT16_MAX, &v))
		return false;
	*rclass = (uint16_t)v;
	return true;
}

static inline const char *at_class_to_str(uint16_t rclass, char buf[16])
{
	switch (rclass) {
	case DNS_CLASS_IN:
		return "IN";
	case DNS_CLASS_CH:
		return "CH";
	case DNS_CLASS_HS:
		return "HS";
	case DNS_CLASS_NONE:
		return "NONE";
	case DNS_CLASS_ANY:
		return "ANY";
	default:
		snprintf(buf, 16, "CLASS%u", (unsigned)rclass);
		return buf;
	}
}

/* One EDNS option of a query: code, then its data. */
static inline void at_put_option(struct wire_wctx *w, uint16_t code,
				 const uint8_t *data, uint16_t len)
{
	wire_write_u16(w, code);
	wire_write_u16(w, len);
	wire_write(w, data, len);
}

/*
 * Builds the query of a case line: "NAME TYPE [option...]". Options:
 *   +noedns +dnssec +bufsize=N +ednsver=N +nsid +expire +keepalive
 *   +ednsopt=CODE[:HEX] +badopt (keepalive with a timeout: malformed)
 *   +twoopt (two OPT records) +tcp +rd +cd +ad +qr opcode=N class=C id=N
 *   +qd=N (QDCOUNT, the question written N times) +tsig=KEYNAME
 *   +badtsig=KEYNAME (a TSIG whose RDATA ends after 2 octets of time)
 *   +trailing (3 octets after the last record) +len=N (cut the message)
 *   @bare (answer_conf_init() only) @payload=N @keepalive=N @nozones
 * Returns NULL, or the text of the first problem.
 */
static inline const char *at_query_build(struct at_query *q, const char *spec)
{
	static char err[128];
	char buf[1024];
	if (strlen(spec) >= sizeof(buf))
		return "query line too long";
	strcpy(buf, spec);

	memset(q, 0, sizeof(*q));
	q->transport = ANSWER_UDP;
	answer_conf_init(&q->conf);
	q->conf.identity = AT_IDENTITY;
	q->conf.version = AT_VERSION;
	q->conf.nsid = (const uint8_t *)AT_NSID;
	q->conf.nsid_len = sizeof(AT_NSID) - 1;
	q->conf.tcp_keepalive = AT_KEEPALIVE;
	q->id = 4660;
	q->edns = true;
	q->bufsize = DNS_EDNS_DEFAULT_PAYLOAD;
	q->qclass = DNS_CLASS_IN;

	char *save = NULL;
	const char *name = strtok_r(buf, " \t", &save);
	const char *type = strtok_r(NULL, " \t", &save);
	if (name == NULL || type == NULL)
		return "query needs a name and a type";
	if (dns_name_from_str(q->qname, &q->qname_len, name, NULL) != 0)
		return "bad query name";
	if (dns_rrtype_from_str(type, &q->qtype) != 0)
		return "bad query type";

	uint16_t flags = 0;
	unsigned long qd = 1, version = 0, cut = 0;
	bool nsid = false, expire = false, keepalive = false, badopt = false;
	bool twoopt = false, trailing = false, has_cut = false;
	uint16_t optcode = 0;
	uint8_t optdata[256];
	size_t optlen = 0;
	bool has_opt = false;
	const char *tsig = NULL;
	bool badtsig = false;
	for (char *o = strtok_r(NULL, " \t", &save); o != NULL;
	     o = strtok_r(NULL, " \t", &save)) {
		unsigned long v;
		if (strcmp(o, "+noedns") == 0) {
			q->edns = false;
		} else if (strcmp(o, "+dnssec") == 0) {
			q->do_bit = true;
		} else if (strncmp(o, "+bufsize=", 9) == 0 &&
			   at_parse_uint(o + 9, UINT16_MAX, &v)) {
			q->bufsize = (uint16_t)v;
		} else if (strncmp(o, "+ednsver=", 9) == 0 &&
			   at_parse_uint(o + 9, 255, &v)) {
			version = v;
		} else if (strcmp(o, "+nsid") == 0) {
			nsid = true;
		} else if (strcmp(o, "+expire") == 0) {
			expire = true;
		} else if (strcmp(o, "+keepalive") == 0) {
			keepalive = true;
		} else if (strcmp(o, "+badopt") == 0) {
			badopt = true;
		} else if (strncmp(o, "+ednsopt=", 9) == 0) {
			char *colon = strchr(o + 9, ':');
			if (colon != NULL)
				*colon = '\0';
			if (!at_parse_uint(o + 9, UINT16_MAX, &v) ||
			    (colon != NULL &&
			     !at_unhex(optdata, sizeof(optdata), &optlen, colon + 1)))
				return "bad +ednsopt";
			optcode = (uint16_t)v;
			has_opt = true;
		} else if (strcmp(o, "+twoopt") == 0) {
			twoopt = true;
		} else if (strcmp(o, "+tcp") == 0) {
			q->transport = ANSWER_TCP;
		} else if (strcmp(o, "+rd") == 0) {
			flags |= DNS_FLAG_RD;
		} else if (strcmp(o, "+cd") == 0) {
			flags |= DNS_FLAG_CD;
		} else if (strcmp(o, "+ad") == 0) {
			flags |= DNS_FLAG_AD;
		} else if (strcmp(o, "+qr") == 0) {
			flags |= DNS_FLAG_QR;
		} else if (strncmp(o, "opcode=", 7) == 0 &&
			   at_parse_uint(o + 7, 15, &v)) {
			q->opcode = (uint8_t)v;
		} else if (strncmp(o, "class=", 6) == 0 &&
			   at_class_from_str(o + 6, &q->qclass)) {
			continue;
		} else if (strncmp(o, "id=", 3) == 0 &&
			   at_parse_uint(o + 3, UINT16_MAX, &v)) {
			q->id = (uint16_t)v;
		} else if (strncmp(o, "+qd=", 4) == 0 && at_parse_uint(o + 4, 3, &v)) {
			qd = v;
		} else if (strncmp(o, "+tsig=", 6) == 0) {
			tsig = o + 6;
		} else if (strncmp(o, "+badtsig=", 9) == 0) {
			tsig = o + 9;
			badtsig = true;
		} else if (strcmp(o, "+trailing") == 0) {
			trailing = true;
		} else if (strncmp(o, "+len=", 5) == 0 &&
			   at_parse_uint(o + 5, sizeof(q->msg), &v)) {
			cut = v;
			has_cut = true;
		} else if (strcmp(o, "@bare") == 0) {
			answer_conf_init(&q->conf);
		} else if (strncmp(o, "@payload=", 9) == 0 &&
			   at_parse_uint(o + 9, UINT16_MAX, &v)) {
			q->conf.udp_max_payload = (uint16_t)v;
		} else if (strncmp(o, "@keepalive=", 11) == 0 &&
			   at_parse_uint(o + 11, UINT16_MAX, &v)) {
			q->conf.tcp_keepalive = (uint16_t)v;
		} else if (strcmp(o, "@nozones") == 0) {
			q->no_zones = true;
		} else {
			snprintf(err, sizeof(err), "unknown query option %s", o);
			return err;
		}
	}

	struct wire_wctx w;
	wire_winit(&w, q->msg, sizeof(q->msg));
	unsigned arcount = (q->edns ? 1u + twoopt : 0u) + (tsig != NULL);
	wire_write_u16(&w, q->id);
	wire_write_u16(&w, (uint16_t)(flags | q->opcode << 11));
	wire_write_u16(&w, (uint16_t)qd);
	wire_write_u16(&w, 0);
	wire_write_u16(&w, 0);
	wire_write_u16(&w, (uint16_t)arcount);
	for (unsigned long i = 0; i < qd; i++) {
		wire_write(&w, q->qname, q->qname_len);
		wire_write_u16(&w, q->qtype);
		wire_write_u16(&w, q->qclass);
	}
	for (unsigned i = 0; q->edns && i < 1u + twoopt; i++) {
		uint8_t rdata[512];
		struct wire_wctx o;
		wire_winit(&o, rdata, sizeof(rdata));
		static const uint8_t timeout[2] = { 0, 100 };
		if (nsid)
			at_put_option(&o, DNS_EDNS_NSID, NULL, 0);
		if (expire)
			at_put_option(&o, DNS_EDNS_EXPIRE, NULL, 0);
		if (keepalive)
			at_put_option(&o, DNS_EDNS_TCP_KEEPALIVE, NULL, 0);
		if (badopt)
			at_put_option(&o, DNS_EDNS_TCP_KEEPALIVE, timeout, 2);
		if (has_opt)
			at_put_option(&o, optcode, optdata, (uint16_t)optlen);
		wire_write_u8(&w, 0);
		wire_write_u16(&w, DNS_TYPE_OPT);
		wire_write_u16(&w, q->bufsize);
		wire_write_u32(&w, (uint32_t)version << 16 | (q->do_bit ? 0x8000u : 0));
		wire_write_u16(&w, (uint16_t)wire_wlen(&o));
		wire_write(&w, rdata, wire_wlen(&o));
	}
	if (tsig != NULL) {
		uint8_t key[DNS_NAME_MAXLEN], alg[DNS_NAME_MAXLEN];
		size_t klen, alen;
		if (dns_name_from_str(key, &klen, tsig, NULL) != 0 ||
		    dns_name_from_str(alg, &alen, AT_TSIG_ALG, NULL) != 0)
			return "bad +tsig key name";
		wire_write(&w, key, klen);
		wire_write_u16(&w, DNS_TYPE_TSIG);
		wire_write_u16(&w, DNS_CLASS_ANY);
		wire_write_u32(&w, 0);
		uint8_t rdata[DNS_NAME_MAXLEN + 64];
		struct wire_wctx t;
		wire_winit(&t, rdata, sizeof(rdata));
		wire_write(&t, alg, alen);
		wire_write_u16(&t, 0);			/* time, high 16 bits */
		wire_write_u32(&t, AT_TSIG_TIME);
		wire_write_u16(&t, AT_TSIG_FUDGE);
		wire_write_u16(&t, 32);			/* MAC size */
		for (int i = 0; i < 32; i++)
			wire_write_u8(&t, 0xab);
		wire_write_u16(&t, q->id);		/* original ID */
		wire_write_u16(&t, 0);			/* error */
		wire_write_u16(&t, 0);			/* other len */
		/* "+badtsig": the RDATA ends inside the time field. */
		size_t rdlen = badtsig ? alen + 4 : wire_wlen(&t);
		wire_write_u16(&w, (uint16_t)rdlen);
		wire_write(&w, rdata, rdlen);
	}
	if (trailing)
		wire_write(&w, "\x01\x02\x03", 3);
	if (w.err != 0)
		return "query does not fit";
	q->len = wire_wlen(&w);
	if (has_cut) {
		if (cut > q->len)
			return "+len beyond the message";
		q->len = cut;
	}
	return NULL;
}

/* The most a UDP response to q may take (RFC 1035 §4.2.1, RFC 6891 §6.2.3
 * and §6.2.5), from what the test sent rather than what the server parsed. */
static inline size_t at_udp_limit(const struct at_query *q)
{
	if (!q->edns)
		return DNS_UDP_MIN_PAYLOAD;
	size_t limit = q->bufsize < DNS_UDP_MIN_PAYLOAD ? DNS_UDP_MIN_PAYLOAD :
							  q->bufsize;
	if (limit > q->conf.udp_max_payload)
		limit = q->conf.udp_max_payload;
	return limit < DNS_UDP_MIN_PAYLOAD ? DNS_UDP_MIN_PAYLOAD : limit;
}

/* ---- Responses ---------------------------------------------------------- */

struct at_resp {
	uint16_t id, flags;
	uint16_t count[4];		/* as the header says */
	uint8_t qname[DNS_NAME_MAXLEN];	/* the first question */
	size_t qname_len;
	uint16_t qtype, qclass;
	/* Records other than the OPT, in presentation form, per section. */
	char rr[4][AT_MAX_RR][AT_LINE];
	unsigned n[4];
	bool has_opt;
	uint8_t opt_ercode;
	char opt[AT_LINE];		/* the OPT, as at_opt_str() writes it */
	bool tsig_seen;
	size_t len;
};

static inline void at_cat(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void at_cat(char *dst, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(dst);
	va_list ap;
	va_start(ap, fmt);
	if (used < cap)
		vsnprintf(dst + used, cap - used, fmt, ap);
	va_end(ap);
}

static inline void at_cat_hex(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		at_cat(dst, cap, "%02x", p[i]);
}

/* A name (possibly compressed) at the cursor, appended in presentation form. */
static inline bool at_cat_name(char *dst, size_t cap, struct wire_ctx *c,
			       bool lower)
{
	uint8_t name[DNS_NAME_MAXLEN];
	char str[DNS_NAME_STRLEN];
	size_t len;
	if (dns_name_read(c, name, &len) != 0)
		return false;
	if (lower)
		dns_name_lower(name);
	dns_name_to_str(str, name);
	at_cat(dst, cap, "%s", str);
	return true;
}

/*
 * RDATA in presentation form: A, AAAA, NS, CNAME, DNAME, PTR, MX, SOA, TXT,
 * SRV, DS, SVCB/HTTPS (priority, target, parameters in hex) and TSIG;
 * other types as RFC 3597 "\# LEN HEX". Names in RDATA keep the case they
 * have on the wire. msg is the whole message: names may point into it.
 */
static inline bool at_rdata_str(char *dst, size_t cap, const uint8_t *msg,
				size_t off, uint16_t rdlen, uint16_t type)
{
	struct wire_ctx c;
	wire_init(&c, msg, off + rdlen);
	wire_seek(&c, off);
	char addr[INET6_ADDRSTRLEN];
	switch (type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t n = type == DNS_TYPE_A ? 4 : 16;
		const uint8_t *p = wire_take(&c, n);
		if (p == NULL || inet_ntop(type == DNS_TYPE_A ? AF_INET : AF_INET6,
					   p, addr, sizeof(addr)) == NULL)
			return false;
		at_cat(dst, cap, "%s", addr);
		break;
	}
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_DNAME:
	case DNS_TYPE_PTR:
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		break;
	case DNS_TYPE_MX:
		at_cat(dst, cap, "%u ", wire_read_u16(&c));
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		break;
	case DNS_TYPE_SOA:
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		at_cat(dst, cap, " ");
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		for (int i = 0; i < 5; i++)
			at_cat(dst, cap, " %u", wire_read_u32(&c));
		break;
	case DNS_TYPE_TXT:
		while (wire_avail(&c) > 0) {
			uint8_t n = wire_read_u8(&c);
			const uint8_t *p = wire_take(&c, n);
			if (p == NULL)
				return false;
			at_cat(dst, cap, "%s\"", dst[0] != '\0' ? " " : "");
			for (unsigned i = 0; i < n; i++) {
				if (p[i] == '"' || p[i] == '\\')
					at_cat(dst, cap, "\\%c", p[i]);
				else if (p[i] < 0x20 || p[i] > 0x7e)
					at_cat(dst, cap, "\\%03u", p[i]);
				else
					at_cat(dst, cap, "%c", p[i]);
			}
			at_cat(dst, cap, "\"");
		}
		break;
	case DNS_TYPE_SRV: {
		uint16_t prio = wire_read_u16(&c), weight = wire_read_u16(&c);
		uint16_t port = wire_read_u16(&c);
		at_cat(dst, cap, "%u %u %u ", prio, weight, port);
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		break;
	}
	case DNS_TYPE_DS: {
		uint16_t tag = wire_read_u16(&c);
		uint8_t alg = wire_read_u8(&c), digest = wire_read_u8(&c);
		at_cat(dst, cap, "%u %u %u ", tag, alg, digest);
		size_t n = wire_avail(&c);
		at_cat_hex(dst, cap, wire_take(&c, n), n);
		break;
	}
	case DNS_TYPE_SVCB:
	case DNS_TYPE_HTTPS: {
		at_cat(dst, cap, "%u ", wire_read_u16(&c));
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		size_t n = wire_avail(&c);
		if (n > 0) {
			at_cat(dst, cap, " ");
			at_cat_hex(dst, cap, wire_take(&c, n), n);
		}
		break;
	}
	case DNS_TYPE_TSIG: {
		if (!at_cat_name(dst, cap, &c, false))
			return false;
		uint16_t hi = wire_read_u16(&c);
		uint32_t lo = wire_read_u32(&c);
		uint16_t fudge = wire_read_u16(&c), maclen = wire_read_u16(&c);
		at_cat(dst, cap, " %llu %u %u",
		       (unsigned long long)hi << 32 | lo, fudge, maclen);
		if (maclen > 0) {
			at_cat(dst, cap, " ");
			at_cat_hex(dst, cap, wire_take(&c, maclen), maclen);
		}
		uint16_t orig = wire_read_u16(&c), error = wire_read_u16(&c);
		uint16_t olen = wire_read_u16(&c);
		at_cat(dst, cap, " %u %u %u", orig, error, olen);
		if (olen > 0) {
			at_cat(dst, cap, " ");
			at_cat_hex(dst, cap, wire_take(&c, olen), olen);
		}
		break;
	}
	default:
		at_cat(dst, cap, "\\# %u", rdlen);
		if (rdlen > 0) {
			at_cat(dst, cap, " ");
			at_cat_hex(dst, cap, wire_take(&c, rdlen), rdlen);
		}
		break;
	}
	/* The RDATA must be read exactly. */
	return c.err == 0 && wire_offset(&c) == off + rdlen;
}

/* The options of an OPT RDATA, after the fixed fields, as key=value. */
static inline bool at_opt_str(char *dst, size_t cap, const uint8_t *rdata,
			      uint16_t rdlen)
{
	struct wire_ctx c;
	wire_init(&c, rdata, rdlen);
	while (wire_avail(&c) > 0) {
		uint16_t code = wire_read_u16(&c), len = wire_read_u16(&c);
		const uint8_t *p = wire_take(&c, len);
		if (c.err != 0)
			return false;
		if (code == DNS_EDNS_NSID) {
			at_cat(dst, cap, " nsid=");
			at_cat_hex(dst, cap, p, len);
		} else if (code == DNS_EDNS_TCP_KEEPALIVE && len == 2) {
			at_cat(dst, cap, " keepalive=%u", wire_get_u16(p));
		} else if (code == DNS_EDNS_EXPIRE && len == 4) {
			at_cat(dst, cap, " expire=%u", wire_get_u32(p));
		} else if (code == DNS_EDNS_EDE && len >= 2) {
			at_cat(dst, cap, " ede=%u", wire_get_u16(p));
			if (len > 2) {
				at_cat(dst, cap, ":");
				at_cat_hex(dst, cap, p + 2, len - 2u);
			}
		} else {
			at_cat(dst, cap, " opt%u=", code);
			at_cat_hex(dst, cap, p, len);
		}
	}
	return true;
}

/*
 * Decodes a response. Returns NULL or what is wrong with its form (the
 * checks that hold for every response, whatever the query).
 */
static inline const char *at_resp_decode(struct at_resp *r, const uint8_t *msg,
					 size_t len)
{
	struct wire_ctx c;
	memset(r->n, 0, sizeof(r->n));
	r->has_opt = false;
	r->opt_ercode = 0;
	r->opt[0] = '\0';
	r->tsig_seen = false;
	r->qname_len = 0;
	r->len = len;

	wire_init(&c, msg, len);
	r->id = wire_read_u16(&c);
	r->flags = wire_read_u16(&c);
	for (int s = 0; s < 4; s++)
		r->count[s] = wire_read_u16(&c);
	if (c.err != 0)
		return "shorter than a header";
	for (unsigned i = 0; i < r->count[DNS_SECTION_QUESTION]; i++) {
		uint8_t name[DNS_NAME_MAXLEN];
		size_t nlen;
		if (dns_name_read(&c, name, &nlen) != 0)
			return "bad question name";
		uint16_t type = wire_read_u16(&c), rclass = wire_read_u16(&c);
		if (i == 0) {
			memcpy(r->qname, name, nlen);
			r->qname_len = nlen;
			r->qtype = type;
			r->qclass = rclass;
		}
	}
	for (int s = 1; s < 4; s++) {
		for (unsigned i = 0; i < r->count[s]; i++) {
			uint8_t owner[DNS_NAME_MAXLEN];
			char owner_str[DNS_NAME_STRLEN];
			size_t olen;
			if (r->tsig_seen)
				return "a record after the TSIG";
			if (dns_name_read(&c, owner, &olen) != 0)
				return "bad owner name";
			uint16_t type = wire_read_u16(&c);
			uint16_t rclass = wire_read_u16(&c);
			uint32_t ttl = wire_read_u32(&c);
			uint16_t rdlen = wire_read_u16(&c);
			size_t off = wire_offset(&c);
			const uint8_t *rdata = wire_take(&c, rdlen);
			if (c.err != 0)
				return "record runs past the message";
			if (type == DNS_TYPE_OPT) {
				if (s != DNS_SECTION_ADDITIONAL || olen != 1 || r->has_opt)
					return "OPT not alone, not in additional or not owned by the root";
				r->has_opt = true;
				r->opt_ercode = (uint8_t)(ttl >> 24);
				snprintf(r->opt, sizeof(r->opt),
					 "payload=%u ercode=%u version=%u do=%u",
					 rclass, ttl >> 24, (ttl >> 16) & 0xff,
					 (ttl >> 15) & 1);
				if (ttl & 0x7fff)
					at_cat(r->opt, sizeof(r->opt), " z=0x%x",
					       ttl & 0x7fff);
				if (!at_opt_str(r->opt, sizeof(r->opt), rdata, rdlen))
					return "bad OPT options";
				continue;
			}
			if (type == DNS_TYPE_TSIG) {
				if (s != DNS_SECTION_ADDITIONAL)
					return "TSIG outside additional";
				r->tsig_seen = true;
			}
			if (r->n[s] == AT_MAX_RR)
				return "too many records for the test";
			char *line = r->rr[s][r->n[s]++];
			char cbuf[16], tbuf[16];
			dns_name_lower(owner);
			dns_name_to_str(owner_str, owner);
			snprintf(line, AT_LINE, "%s %u ", owner_str, ttl);
			if (rclass != DNS_CLASS_IN)
				at_cat(line, AT_LINE, "%s ",
				       at_class_to_str(rclass, cbuf));
			at_cat(line, AT_LINE, "%s", dns_rrtype_to_str(type, tbuf));
			char rd[AT_LINE] = "";
			if (!at_rdata_str(rd, sizeof(rd), msg, off, rdlen, type))
				return "RDATA does not match its type";
			if (rd[0] != '\0')
				at_cat(line, AT_LINE, " %s", rd);
		}
	}
	if (wire_avail(&c) != 0)
		return "octets after the last record";
	return NULL;
}

/* The 12-bit RCODE of a decoded response. */
static inline uint16_t at_resp_rcode(const struct at_resp *r)
{
	return (uint16_t)(DNS_RCODE(r->flags) | r->opt_ercode << 4);
}

static const struct { const char *name; uint16_t bit; } at_flag_names[] = {
	{ "qr", DNS_FLAG_QR }, { "aa", DNS_FLAG_AA }, { "tc", DNS_FLAG_TC },
	{ "rd", DNS_FLAG_RD }, { "ra", DNS_FLAG_RA }, { "z", DNS_FLAG_Z },
	{ "ad", DNS_FLAG_AD }, { "cd", DNS_FLAG_CD },
};

#define AT_FLAG_MASK 0x87f0	/* the header bits that are neither opcode nor rcode */

static inline void at_flags_str(char *dst, size_t cap, uint16_t flags)
{
	dst[0] = '\0';
	for (size_t i = 0; i < sizeof(at_flag_names) / sizeof(at_flag_names[0]); i++)
		if (flags & at_flag_names[i].bit)
			at_cat(dst, cap, "%s%s", dst[0] ? "," : "",
			       at_flag_names[i].name);
	if (dst[0] == '\0')
		at_cat(dst, cap, "-");
}

static inline bool at_flags_from_str(const char *s, uint16_t *flags)
{
	*flags = 0;
	if (strcmp(s, "-") == 0)
		return true;
	char buf[64];
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	char *save = NULL;
	for (char *f = strtok_r(buf, ",", &save); f != NULL;
	     f = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < sizeof(at_flag_names) / sizeof(at_flag_names[0]) &&
		       strcmp(f, at_flag_names[i].name) != 0)
			i++;
		if (i == sizeof(at_flag_names) / sizeof(at_flag_names[0]))
			return false;
		*flags |= at_flag_names[i].bit;
	}
	return true;
}

/* Prints a decoded response in the form of the case files. */
static inline void at_resp_print(FILE *f, const struct at_resp *r)
{
	static const char *const sec[4] = { "question", "answer", "authority",
					    "additional" };
	char rbuf[16], fl[64];
	at_flags_str(fl, sizeof(fl), r->flags & AT_FLAG_MASK);
	fprintf(f, "    expect rcode %s flags %s question %u answer %u authority %u additional %u len %zu\n",
		dns_rcode_to_str(at_resp_rcode(r), rbuf), fl,
		r->count[0], r->count[1], r->count[2], r->count[3], r->len);
	for (int s = 1; s < 4; s++)
		for (unsigned i = 0; i < r->n[s]; i++)
			fprintf(f, "    %s %s\n", sec[s], r->rr[s][i]);
	if (r->has_opt)
		fprintf(f, "    edns %s\n", r->opt);
}

/*
 * Answers q into out (DNS_MSG_MAXLEN octets, poisoned first) and checks
 * what holds for every response. Returns NULL or the problem; r is filled
 * when res->len > 0.
 */
static inline const char *at_answer(const struct zone_set *zones,
				    const struct at_query *q, uint8_t *out,
				    struct answer_result *res, struct at_resp *r)
{
	static char err[160];
	memset(out, AT_POISON, DNS_MSG_MAXLEN);
	answer_packet(&q->conf, q->no_zones ? NULL : zones, q->msg, q->len,
		      q->transport, out, DNS_MSG_MAXLEN, res);
	if (res->len == 0)
		return NULL;
	if (res->len < DNS_HEADER_LEN || res->len > DNS_MSG_MAXLEN)
		return "response length out of range";
	if (q->transport == ANSWER_UDP) {
		size_t limit = at_udp_limit(q);
		if (res->len > limit) {
			snprintf(err, sizeof(err), "UDP response of %zu octets over the limit %zu",
				 res->len, limit);
			return err;
		}
		for (size_t i = limit; i < DNS_MSG_MAXLEN; i++)
			if (out[i] != AT_POISON)
				return "octets written beyond the UDP limit";
	}
	const char *problem = at_resp_decode(r, out, res->len);
	if (problem != NULL)
		return problem;
	if (r->id != q->id)
		return "ID not echoed";
	if (DNS_OPCODE(r->flags) != q->opcode)
		return "opcode not echoed";
	if (res->rcode != at_resp_rcode(r))
		return "answer_result.rcode differs from the message";
	if (res->truncated != ((r->flags & DNS_FLAG_TC) != 0))
		return "answer_result.truncated differs from TC";
	return NULL;
}

#endif
