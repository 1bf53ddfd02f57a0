/*
 * RR type descriptors: the mnemonic of every type anydns knows and the
 * layout of its RDATA, so that the names inside RDATA can be found for
 * compression (RFC 3597 §4: only the RFC 1035 types NS, MD, MF, CNAME, SOA,
 * MB, MG, MR, PTR, MINFO and MX), for canonical form (RFC 4034 §6.2 as
 * amended by RFC 6840 §5.1) and for checks of RDATA received from outside.
 * Also the mnemonics of RCODEs (IANA "DNS RCODEs" registry) and the
 * "TYPEnnn" form of RFC 3597 §5.
 *
 * Every type of enum dns_type has a descriptor. Types whose RDATA holds no
 * name and has no fixed part worth checking (TXT, NULL, OPT, the meta
 * types...) have a REST-only layout: their RDATA is opaque, exactly as for
 * a type without a descriptor. Types whose names may sit at a variable
 * place (A6, HIP, IPSECKEY) are opaque too: none of their names is ever
 * compressed, and RFC 4034 §6.2 lowercasing of A6 is not done (A6 is
 * historic, RFC 6563).
 */
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/internal.h"

#define FIX(n) { DNS_RDF_FIXED, (n) }
#define CNAME { DNS_RDF_CNAME, 0 }
#define NAME { DNS_RDF_NAME, 0 }
#define STR { DNS_RDF_STRING, 0 }
#define REST { DNS_RDF_REST, 0 }
/* The block list ends with zeroed blocks, that is DNS_RDF_END. */
#define T(type, mnemonic, lower, ...) \
	[type] = { (mnemonic), { __VA_ARGS__ }, (lower) }

#define TYPE_TABLE_SIZE (DNS_TYPE_CAA + 1)

static const struct dns_rrtype_desc types[TYPE_TABLE_SIZE] = {
	T(DNS_TYPE_A, "A", false, FIX(4)),
	T(DNS_TYPE_NS, "NS", true, CNAME),
	T(DNS_TYPE_MD, "MD", true, CNAME),
	T(DNS_TYPE_MF, "MF", true, CNAME),
	T(DNS_TYPE_CNAME, "CNAME", true, CNAME),
	/* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
	T(DNS_TYPE_SOA, "SOA", true, CNAME, CNAME, FIX(20)),
	T(DNS_TYPE_MB, "MB", true, CNAME),
	T(DNS_TYPE_MG, "MG", true, CNAME),
	T(DNS_TYPE_MR, "MR", true, CNAME),
	T(DNS_TYPE_NULL, "NULL", false, REST),
	/* Address, protocol, then the bit map. */
	T(DNS_TYPE_WKS, "WKS", false, FIX(5), REST),
	T(DNS_TYPE_PTR, "PTR", true, CNAME),
	T(DNS_TYPE_HINFO, "HINFO", false, STR, STR),
	T(DNS_TYPE_MINFO, "MINFO", true, CNAME, CNAME),
	T(DNS_TYPE_MX, "MX", true, FIX(2), CNAME),
	T(DNS_TYPE_TXT, "TXT", false, REST),
	T(DNS_TYPE_RP, "RP", true, NAME, NAME),
	T(DNS_TYPE_AFSDB, "AFSDB", true, FIX(2), NAME),
	T(DNS_TYPE_X25, "X25", false, STR),
	/* ISDN address and an optional subaddress. */
	T(DNS_TYPE_ISDN, "ISDN", false, STR, REST),
	T(DNS_TYPE_RT, "RT", true, FIX(2), NAME),
	T(DNS_TYPE_NSAP, "NSAP", false, REST),
	T(DNS_TYPE_NSAP_PTR, "NSAP-PTR", false, NAME),
	/* Type covered .. key tag: 18 octets, signer, signature. */
	T(DNS_TYPE_SIG, "SIG", true, FIX(18), NAME, REST),
	T(DNS_TYPE_KEY, "KEY", false, FIX(4), REST),
	T(DNS_TYPE_PX, "PX", true, FIX(2), NAME, NAME),
	T(DNS_TYPE_GPOS, "GPOS", false, STR, STR, STR),
	T(DNS_TYPE_AAAA, "AAAA", false, FIX(16)),
	/* Only version 0 is defined (16 octets); others stay opaque. */
	T(DNS_TYPE_LOC, "LOC", false, REST),
	T(DNS_TYPE_NXT, "NXT", true, NAME, REST),
	/* Priority, weight, port, target. */
	T(DNS_TYPE_SRV, "SRV", true, FIX(6), NAME),
	/* Order, preference, flags, services, regexp, replacement. */
	T(DNS_TYPE_NAPTR, "NAPTR", true, FIX(4), STR, STR, STR, NAME),
	T(DNS_TYPE_KX, "KX", true, FIX(2), NAME),
	T(DNS_TYPE_CERT, "CERT", false, FIX(5), REST),
	T(DNS_TYPE_A6, "A6", true, REST),
	T(DNS_TYPE_DNAME, "DNAME", true, NAME),
	T(DNS_TYPE_OPT, "OPT", false, REST),
	T(DNS_TYPE_APL, "APL", false, REST),
	T(DNS_TYPE_DS, "DS", false, FIX(4), REST),
	T(DNS_TYPE_SSHFP, "SSHFP", false, FIX(2), REST),
	/* The gateway's form depends on the gateway type: opaque. */
	T(DNS_TYPE_IPSECKEY, "IPSECKEY", false, FIX(3), REST),
	T(DNS_TYPE_RRSIG, "RRSIG", true, FIX(18), NAME, REST),
	/* RFC 6840 §5.1 took NSEC off the lowercasing list. */
	T(DNS_TYPE_NSEC, "NSEC", false, NAME, REST),
	T(DNS_TYPE_DNSKEY, "DNSKEY", false, FIX(4), REST),
	T(DNS_TYPE_DHCID, "DHCID", false, REST),
	/* Algorithm, flags, iterations; salt; next hashed owner; bit maps. */
	T(DNS_TYPE_NSEC3, "NSEC3", false, FIX(4), STR, STR, REST),
	T(DNS_TYPE_NSEC3PARAM, "NSEC3PARAM", false, FIX(4), STR),
	T(DNS_TYPE_TLSA, "TLSA", false, FIX(3), REST),
	T(DNS_TYPE_SMIMEA, "SMIMEA", false, FIX(3), REST),
	T(DNS_TYPE_HIP, "HIP", false, REST),
	T(DNS_TYPE_CDS, "CDS", false, FIX(4), REST),
	T(DNS_TYPE_CDNSKEY, "CDNSKEY", false, FIX(4), REST),
	T(DNS_TYPE_OPENPGPKEY, "OPENPGPKEY", false, REST),
	T(DNS_TYPE_CSYNC, "CSYNC", false, FIX(6), REST),
	T(DNS_TYPE_ZONEMD, "ZONEMD", false, FIX(6), REST),
	/* Priority, target (never compressed: RFC 9460 §2.2), parameters. */
	T(DNS_TYPE_SVCB, "SVCB", false, FIX(2), NAME, REST),
	T(DNS_TYPE_HTTPS, "HTTPS", false, FIX(2), NAME, REST),
	T(DNS_TYPE_SPF, "SPF", false, REST),
	T(DNS_TYPE_NID, "NID", false, FIX(10)),
	T(DNS_TYPE_L32, "L32", false, FIX(6)),
	T(DNS_TYPE_L64, "L64", false, FIX(10)),
	T(DNS_TYPE_LP, "LP", false, FIX(2), NAME),
	T(DNS_TYPE_EUI48, "EUI48", false, FIX(6)),
	T(DNS_TYPE_EUI64, "EUI64", false, FIX(8)),
	T(DNS_TYPE_TKEY, "TKEY", false, NAME, REST),
	T(DNS_TYPE_TSIG, "TSIG", false, NAME, REST),
	T(DNS_TYPE_IXFR, "IXFR", false, REST),
	T(DNS_TYPE_AXFR, "AXFR", false, REST),
	T(DNS_TYPE_MAILB, "MAILB", false, REST),
	T(DNS_TYPE_MAILA, "MAILA", false, REST),
	T(DNS_TYPE_ANY, "ANY", false, REST),
	T(DNS_TYPE_URI, "URI", false, FIX(4), REST),
	/* Flags, tag, value. */
	T(DNS_TYPE_CAA, "CAA", false, FIX(1), STR, REST),
};

static const char *const rcodes[] = {
	[DNS_RCODE_NOERROR] = "NOERROR",
	[DNS_RCODE_FORMERR] = "FORMERR",
	[DNS_RCODE_SERVFAIL] = "SERVFAIL",
	[DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
	[DNS_RCODE_NOTIMP] = "NOTIMP",
	[DNS_RCODE_REFUSED] = "REFUSED",
	[DNS_RCODE_YXDOMAIN] = "YXDOMAIN",
	[DNS_RCODE_YXRRSET] = "YXRRSET",
	[DNS_RCODE_NXRRSET] = "NXRRSET",
	[DNS_RCODE_NOTAUTH] = "NOTAUTH",
	[DNS_RCODE_NOTZONE] = "NOTZONE",
	[11] = "DSOTYPENI",
	[DNS_RCODE_BADVERS] = "BADVERS",
	[17] = "BADKEY",
	[18] = "BADTIME",
	[19] = "BADMODE",
	[20] = "BADNAME",
	[21] = "BADALG",
	[22] = "BADTRUNC",
	[23] = "BADCOOKIE",
};

const struct dns_rrtype_desc *dns_rrtype_desc(uint16_t type)
{
	if (type >= TYPE_TABLE_SIZE || types[type].name == NULL)
		return NULL;
	return &types[type];
}

const char *dns_rrtype_to_str(uint16_t type, char buf[16])
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (d != NULL)
		return d->name;
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}

static inline char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality; strcasecmp() would depend on the locale. */
static bool equal_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (upper(*a) != upper(*b))
			return false;
	return *a == *b;
}

int dns_rrtype_from_str(const char *s, uint16_t *type)
{
	for (unsigned t = 0; t < TYPE_TABLE_SIZE; t++) {
		if (types[t].name != NULL && equal_nocase(s, types[t].name)) {
			*type = (uint16_t)t;
			return 0;
		}
	}

	/* RFC 3597 §5: "TYPE" and a decimal number. */
	static const char prefix[] = "TYPE";
	for (unsigned i = 0; i < sizeof(prefix) - 1; i++)
		if (upper(s[i]) != prefix[i])
			return ANYDNS_EINVAL;
	s += sizeof(prefix) - 1;
	unsigned long v = 0;
	unsigned digits = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (++digits > 5)
			return ANYDNS_EINVAL;
	}
	if (digits == 0 || *s != '\0' || v > UINT16_MAX)
		return ANYDNS_EINVAL;
	*type = (uint16_t)v;
	return 0;
}

const char *dns_rcode_to_str(uint16_t rcode, char buf[16])
{
	if (rcode < sizeof(rcodes) / sizeof(rcodes[0]) && rcodes[rcode] != NULL)
		return rcodes[rcode];
	snprintf(buf, 16, "RCODE%u", (unsigned)rcode);
	return buf;
}

bool dns_skip_name(struct wire_ctx *c)
{
	size_t n = 0;
	for (;;) {
		uint8_t l = wire_read_u8(c);
		if (c->err != 0 || l > DNS_LABEL_MAXLEN)
			return false;
		n += 1 + (size_t)l;
		if (n > DNS_NAME_MAXLEN)
			return false;
		if (l == 0)
			return true;
		wire_skip(c, l);
	}
}

/* Walks the RDATA layout of d; calls fn (if any) for each name. */
static int rdata_walk(const struct dns_rrtype_desc *d, const uint8_t *rdata,
		      size_t len, dns_rdata_name_fn fn, void *arg)
{
	static const uint8_t empty[1];
	struct wire_ctx c;

	/* Empty RDATA may come as NULL; the cursor must not offset NULL. */
	wire_init(&c, rdata != NULL ? rdata : empty, len);
	for (const struct dns_rdata_block *b = d->blocks;
	     b < d->blocks + 8 && b->field != DNS_RDF_END; b++) {
		switch (b->field) {
		case DNS_RDF_FIXED:
			wire_skip(&c, b->len);
			break;
		case DNS_RDF_STRING:
			wire_skip(&c, wire_read_u8(&c));
			break;
		case DNS_RDF_REST:
			wire_skip(&c, wire_avail(&c));
			break;
		case DNS_RDF_CNAME:
		case DNS_RDF_NAME: {
			size_t off = wire_offset(&c);
			if (!dns_skip_name(&c))
				return ANYDNS_EMALF;
			if (fn != NULL)
				fn(rdata + off, off, b->field == DNS_RDF_CNAME, arg);
			break;
		}
		default:
			return ANYDNS_EMALF;
		}
		if (c.err != 0)
			return ANYDNS_EMALF;
	}
	if (wire_avail(&c) != 0)
		return ANYDNS_EMALF;
	return 0;
}

int dns_rdata_check(uint16_t type, const uint8_t *rdata, size_t len)
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (d == NULL)
		return 0;
	return rdata_walk(d, rdata, len, NULL, NULL);
}

int dns_rdata_names(uint16_t type, const uint8_t *rdata, size_t len,
		    dns_rdata_name_fn fn, void *arg)
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (d == NULL)
		return 0;
	return rdata_walk(d, rdata, len, fn, arg);
}
