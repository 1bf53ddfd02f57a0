/*
 * Writing responses: the header and question of RFC 1035 §4.1.1-§4.1.2,
 * resource records with name compression (§4.1.4) applied to owner names
 * and to the RDATA names RFC 3597 §4 allows (the DNS_RDF_CNAME fields of
 * the type descriptors), and the EDNS OPT record of RFC 6891 §6.1.2-§6.1.3
 * with the NSID (RFC 5001 §2.3) and edns-tcp-keepalive (RFC 7828 §3.3.2)
 * options. A record that does not fit leaves the message as it was.
 *
 * Compression is case-insensitive: a name may point to an earlier name
 * that differs only in case (the owner of an answer points to the question
 * as the client spelled it, which RFC 4343 §4 permits and resolvers doing
 * 0x20 randomisation expect). The table w->compr holds the offset of every
 * label written out in full, so any suffix of an earlier name can be found.
 */
#include <string.h>

#include "dns/dns.h"
#include "dns/internal.h"

#define COMPR_PTR 0xc0
#define COMPR_MAX_OFFSET 0x3fff
#define RR_FIXED_LEN 10		/* type, class, TTL, RDLENGTH */
#define OPT_FIXED_LEN 11	/* root owner + RR_FIXED_LEN */
#define OPTION_HEADER_LEN 4
#define EDNS_DO_BIT 0x8000u

static inline uint8_t lower(uint8_t c)
{
	return (unsigned)(c - 'A') < 26u ? (uint8_t)(c + ('a' - 'A')) : c;
}

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t limit)
{
	if (limit > DNS_MSG_MAXLEN)
		limit = DNS_MSG_MAXLEN;
	w->buf = buf;
	w->limit = limit;
	w->len = DNS_HEADER_LEN;
	w->reserved = 0;
	memset(w->count, 0, sizeof(w->count));
	w->compr_n = 0;
	memset(buf, 0, DNS_HEADER_LEN);
}

int dns_writer_reserve(struct dns_writer *w, size_t n)
{
	size_t total = w->limit + w->reserved;
	if (n > total - w->len)
		return ANYDNS_ESPACE;
	w->limit = total - n;
	w->reserved = n;
	return 0;
}

/*
 * True when the name written at off (its labels, possibly ending in a
 * pointer into earlier output) equals name, ignoring ASCII case. Our own
 * pointers always point backwards, so the walk ends.
 */
static bool match_at(const uint8_t *buf, size_t off, const uint8_t *name)
{
	for (;;) {
		uint8_t l = buf[off];
		if ((l & COMPR_PTR) == COMPR_PTR) {
			off = (size_t)(l & 0x3f) << 8 | buf[off + 1];
			continue;
		}
		if (l != *name)
			return false;
		if (l == 0)
			return true;
		for (unsigned i = 1; i <= l; i++) {
			uint8_t a = buf[off + i], b = name[i];
			if (a != b && lower(a) != lower(b))
				return false;
		}
		off += 1 + (size_t)l;
		name += 1 + (size_t)l;
	}
}

/*
 * Finds the longest suffix of name already in the message. Returns the
 * length of the part before it (the octets to write out) and sets *ptr to
 * where the suffix is; without a match, returns the length without the
 * root and sets *ptr to 0.
 */
static size_t find_suffix(const struct dns_writer *w, const uint8_t *name,
			  size_t *ptr)
{
	const uint8_t *s = name;
	for (; *s != 0; s += 1 + *s) {
		for (unsigned i = 0; i < w->compr_n; i++) {
			/* The table holds label starts, never pointers: a
			 * different length octet rules the entry out. */
			if (w->buf[w->compr[i]] != *s)
				continue;
			if (match_at(w->buf, w->compr[i], s)) {
				*ptr = w->compr[i];
				return (size_t)(s - name);
			}
		}
	}
	*ptr = 0;
	return (size_t)(s - name);
}

/* Writes name compressed against earlier names and registers its labels. */
static int write_name(struct dns_writer *w, const uint8_t *name)
{
	size_t ptr;
	size_t prefix = find_suffix(w, name, &ptr);
	size_t need = prefix + (ptr != 0 ? 2 : 1);
	if (need > w->limit - w->len)
		return ANYDNS_ESPACE;

	uint8_t *p = w->buf + w->len;
	memcpy(p, name, prefix);
	for (size_t off = 0; off < prefix; off += 1 + (size_t)name[off]) {
		size_t at = w->len + off;
		if (at > COMPR_MAX_OFFSET || w->compr_n == DNS_COMPR_MAX)
			break;
		w->compr[w->compr_n++] = (uint16_t)at;
	}
	if (ptr != 0) {
		p[prefix] = (uint8_t)(COMPR_PTR | ptr >> 8);
		p[prefix + 1] = (uint8_t)ptr;
	} else {
		p[prefix] = 0;
	}
	w->len += need;
	return 0;
}

static int write_raw(struct dns_writer *w, const void *src, size_t n)
{
	if (n > w->limit - w->len)
		return ANYDNS_ESPACE;
	if (n > 0)
		memcpy(w->buf + w->len, src, n);
	w->len += n;
	return 0;
}

int dns_writer_question(struct dns_writer *w, const uint8_t *qname,
			uint16_t qtype, uint16_t qclass)
{
	size_t start = w->len;
	unsigned compr_n = w->compr_n;

	if (write_name(w, qname) != 0 || w->limit - w->len < 4)
		goto nospace;
	wire_put_u16(w->buf + w->len, qtype);
	wire_put_u16(w->buf + w->len + 2, qclass);
	w->len += 4;
	w->count[DNS_SECTION_QUESTION]++;
	return 0;
nospace:
	w->len = start;
	w->compr_n = compr_n;
	return ANYDNS_ESPACE;
}

static bool has_compressible(const struct dns_rrtype_desc *d)
{
	if (d == NULL)
		return false;
	for (unsigned i = 0; i < 8 && d->blocks[i].field != DNS_RDF_END; i++)
		if (d->blocks[i].field == DNS_RDF_CNAME)
			return true;
	return false;
}

/*
 * Writes RDATA of a type with compressible names. Octets between those
 * names are copied in runs. ANYDNS_EMALF if rdata does not follow the
 * layout (the caller then writes it as it is), ANYDNS_ESPACE if it does
 * not fit.
 */
static int write_rdata_compressed(struct dns_writer *w,
				  const struct dns_rrtype_desc *d,
				  const uint8_t *rdata, uint16_t rdlen)
{
	struct wire_ctx c;
	const uint8_t *run = rdata;	/* start of octets not yet copied */
	int ret;

	wire_init(&c, rdata, rdlen);
	for (unsigned i = 0; i < 8 && d->blocks[i].field != DNS_RDF_END; i++) {
		const uint8_t *at = c.pos;
		switch (d->blocks[i].field) {
		case DNS_RDF_FIXED:
			wire_skip(&c, d->blocks[i].len);
			break;
		case DNS_RDF_STRING:
			wire_skip(&c, wire_read_u8(&c));
			break;
		case DNS_RDF_REST:
			wire_skip(&c, wire_avail(&c));
			break;
		case DNS_RDF_NAME:
			if (!dns_skip_name(&c))
				return ANYDNS_EMALF;
			break;
		case DNS_RDF_CNAME:
			if (!dns_skip_name(&c))
				return ANYDNS_EMALF;
			ret = write_raw(w, run, (size_t)(at - run));
			if (ret == 0)
				ret = write_name(w, at);
			if (ret != 0)
				return ret;
			run = c.pos;
			break;
		default:
			return ANYDNS_EMALF;
		}
		if (c.err != 0)
			return ANYDNS_EMALF;
	}
	if (wire_avail(&c) != 0)
		return ANYDNS_EMALF;
	return write_raw(w, run, (size_t)(c.pos - run));
}

int dns_writer_rr(struct dns_writer *w, enum dns_section section,
		  const uint8_t *owner, uint16_t type, uint16_t rclass,
		  uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t start = w->len;
	unsigned compr_n = w->compr_n;

	if (write_name(w, owner) != 0 || w->limit - w->len < RR_FIXED_LEN)
		goto nospace;
	uint8_t *p = w->buf + w->len;
	wire_put_u16(p, type);
	wire_put_u16(p + 2, rclass);
	wire_put_u32(p + 4, ttl);
	w->len += RR_FIXED_LEN;

	size_t rdstart = w->len;
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (rdlen > 0 && has_compressible(d)) {
		unsigned rd_compr_n = w->compr_n;
		int ret = write_rdata_compressed(w, d, rdata, rdlen);
		if (ret == ANYDNS_EMALF) {
			/* Not what the layout says: send it as it is. */
			w->len = rdstart;
			w->compr_n = rd_compr_n;
			ret = write_raw(w, rdata, rdlen);
		}
		if (ret != 0)
			goto nospace;
	} else if (write_raw(w, rdata, rdlen) != 0) {
		goto nospace;
	}
	wire_put_u16(p + 8, (uint16_t)(w->len - rdstart));
	w->count[section]++;
	return 0;
nospace:
	w->len = start;
	w->compr_n = compr_n;
	return ANYDNS_ESPACE;
}

void dns_writer_mark(const struct dns_writer *w, struct dns_writer_mark *m)
{
	m->len = w->len;
	memcpy(m->count, w->count, sizeof(m->count));
	m->compr_n = w->compr_n;
}

void dns_writer_rollback(struct dns_writer *w, const struct dns_writer_mark *m)
{
	w->len = m->len;
	memcpy(w->count, m->count, sizeof(w->count));
	w->compr_n = m->compr_n;
}

size_t dns_opt_size(const struct dns_opt_out *opt)
{
	size_t n = OPT_FIXED_LEN;
	if (opt->nsid != NULL)
		n += OPTION_HEADER_LEN + (size_t)opt->nsid_len;
	if (opt->keepalive)
		n += OPTION_HEADER_LEN + 2;
	if (opt->expire)
		n += OPTION_HEADER_LEN + 4;
	if (opt->ede)
		n += OPTION_HEADER_LEN + 2;
	return n;
}

/*
 * The OPT record may take octets from the reserve; what it takes is no
 * longer reserved, so the limit never falls below the length.
 */
int dns_writer_opt(struct dns_writer *w, const struct dns_opt_out *opt)
{
	size_t total = w->limit + w->reserved;
	size_t n = dns_opt_size(opt);
	if (n > total - w->len || n - OPT_FIXED_LEN > UINT16_MAX)
		return ANYDNS_ESPACE;

	uint8_t *p = w->buf + w->len;
	uint32_t ttl = (uint32_t)opt->ext_rcode << 24;	/* version 0 */
	if (opt->do_bit)
		ttl |= EDNS_DO_BIT;
	p[0] = 0;
	wire_put_u16(p + 1, DNS_TYPE_OPT);
	wire_put_u16(p + 3, opt->payload);
	wire_put_u32(p + 5, ttl);
	wire_put_u16(p + 9, (uint16_t)(n - OPT_FIXED_LEN));
	p += OPT_FIXED_LEN;
	if (opt->nsid != NULL) {
		wire_put_u16(p, DNS_EDNS_NSID);
		wire_put_u16(p + 2, opt->nsid_len);
		if (opt->nsid_len > 0)
			memcpy(p + OPTION_HEADER_LEN, opt->nsid, opt->nsid_len);
		p += OPTION_HEADER_LEN + opt->nsid_len;
	}
	if (opt->keepalive) {
		wire_put_u16(p, DNS_EDNS_TCP_KEEPALIVE);
		wire_put_u16(p + 2, 2);
		wire_put_u16(p + 4, opt->keepalive_timeout);
		p += OPTION_HEADER_LEN + 2;
	}
	if (opt->expire) {
		wire_put_u16(p, DNS_EDNS_EXPIRE);
		wire_put_u16(p + 2, 4);
		wire_put_u32(p + 4, opt->expire_value);
		p += OPTION_HEADER_LEN + 4;
	}
	if (opt->ede) {
		/* RFC 8914 §2: INFO-CODE, and no EXTRA-TEXT. */
		wire_put_u16(p, DNS_EDNS_EDE);
		wire_put_u16(p + 2, 2);
		wire_put_u16(p + 4, opt->ede_code);
	}
	w->len += n;
	if (w->len > w->limit) {
		w->reserved = total - w->len;
		w->limit = w->len;
	}
	w->count[DNS_SECTION_ADDITIONAL]++;
	return 0;
}

size_t dns_writer_finish(struct dns_writer *w, uint16_t id, uint16_t flags)
{
	uint8_t *p = w->buf;
	wire_put_u16(p, id);
	wire_put_u16(p + 2, flags);
	for (unsigned i = 0; i < 4; i++)
		wire_put_u16(p + 4 + 2 * i, w->count[i]);
	return w->len;
}
