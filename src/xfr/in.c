/*
 * The parser of a zone transfer's response stream, the secondary's side:
 * the messages of one AXFR or IXFR, fed as they arrive, each checked
 * (RFC 5936 §2.2: ID, QR, opcode, question, RCODE; RFC 8945 §5.3.1: TSIG on
 * every message through the caller's context, the last one signed) and its
 * answer records turned into either a whole zone (RFC 5936 §2.2: SOA
 * first, every record, the same SOA last and nothing after it; RFC 1995
 * §4: an IXFR answered AXFR-style) or the difference sequences of RFC 1995
 * §4 (old SOA, records removed, new SOA, records added; consecutive from
 * the serial we have; ended by the primary's SOA), or the single SOA of an
 * IXFR answer telling us we are current (RFC 1995 §2).
 *
 * Every octet is outside input: messages are read through wire cursors, a
 * whole message is walked once for its structure before any record of it
 * is used, and names inside RDATA are decompressed by their type's layout
 * (RFC 3597 §4: receivers decompress the RFC 1035 types and should
 * decompress RP, AFSDB, RT, PX, NAPTR, SRV...; every name field of a known
 * layout is read that way, which only accepts more well-formed input).
 * The total size and the record count are bounded by max_size.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wire.h"
#include "xfr/internal.h"

#define ERRLEN 256
#define RR_FIXED_LEN 10		/* type, class, TTL, RDLENGTH */
#define MIN_RR_LEN 11		/* root owner + RR_FIXED_LEN */
#define SOA_FIXED_LEN 20	/* serial, refresh, retry, expire, minimum */
#define SOA_RDATA_MAX (2 * DNS_NAME_MAXLEN + SOA_FIXED_LEN)

enum in_state {
	ST_FIRST = 0,	/* waiting for the opening SOA */
	ST_SECOND,	/* IXFR: the next record tells which form this is */
	ST_FULL,	/* every record into the builder until the closing SOA */
	ST_REMOVED,	/* IXFR: records the difference being read removes */
	ST_ADDED,	/* IXFR: records it adds */
	ST_DONE,	/* the closing SOA was read */
	ST_FAILED,
};

struct xfr_in {
	uint8_t apex[DNS_NAME_MAXLEN];
	uint16_t qtype;
	const struct zone *current;
	uint16_t id;
	struct dns_tsig_ctx *ctx;
	uint64_t max_size;		/* 0: none */
	uint64_t max_records;		/* 0: none */

	enum in_state state;
	enum xfr_in_kind kind;
	int err;			/* the error once failed */
	uint16_t rcode;
	uint32_t serial;		/* the primary's, from the opening SOA */
	unsigned messages;
	uint64_t bytes;
	uint64_t records;

	/* FULL: the whole zone, and the first error its builder reported. */
	struct zone_builder *builder;
	char build_error[ERRLEN];

	/* DIFFS: the difference being read and those finished before it. */
	struct zone_diff_builder *diff;
	uint32_t diff_from, diff_to;
	struct zone_diff **diffs;
	size_t diff_count, diff_cap;

	/* IXFR: the opening SOA, kept until the next record tells whether
	 * it belongs to a whole zone. */
	uint32_t soa_ttl;
	uint16_t soa_len;
	uint8_t soa_rdata[SOA_RDATA_MAX];

	char error[ERRLEN];
	uint8_t owner[DNS_NAME_MAXLEN];	/* of the record being read */
	uint8_t rdata[UINT16_MAX];	/* its RDATA, names decompressed */
};

/* ---- Errors ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(struct xfr_in *x, int err, const char *fmt, ...)
{
	int n = snprintf(x->error, sizeof(x->error), "message %u: ",
			 x->messages);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->error + n, sizeof(x->error) - (size_t)n, fmt, ap);
	va_end(ap);
	x->state = ST_FAILED;
	x->err = err;
	return err;
}

/* "www.example. A" for error messages. */
static const char *rr_str(char *buf, size_t cap, const uint8_t *owner,
			  uint16_t type)
{
	char name[DNS_NAME_STRLEN], tb[16];
	dns_name_to_str(name, owner);
	snprintf(buf, cap, "%s %s", name, dns_rrtype_to_str(type, tb));
	return buf;
}

static void on_report(void *arg, const char *file, unsigned long line,
		      bool is_error, const char *msg)
{
	struct xfr_in *x = arg;
	(void)file;
	(void)line;
	/* Warnings (a TTL differing inside an RRset) do not fail a
	 * transfer; the first error is what the caller reports. */
	if (is_error && x->build_error[0] == '\0')
		snprintf(x->build_error, sizeof(x->build_error), "%s", msg);
}

/* ---- Life ------------------------------------------------------------ */

int xfr_in_new(const uint8_t *apex, uint16_t qtype, const struct zone *current,
	       uint16_t id, struct dns_tsig_ctx *ctx, uint64_t max_size,
	       struct xfr_in **out)
{
	*out = NULL;
	if (qtype != DNS_TYPE_AXFR && qtype != DNS_TYPE_IXFR)
		return ANYDNS_EINVAL;
	if (qtype == DNS_TYPE_IXFR && current == NULL)
		return ANYDNS_EINVAL;
	struct xfr_in *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return ANYDNS_ENOMEM;
	memcpy(x->apex, apex, dns_name_len(apex));
	x->qtype = qtype;
	x->current = qtype == DNS_TYPE_IXFR ? current : NULL;
	x->id = id;
	x->ctx = ctx;
	x->max_size = max_size;
	/* Each record takes at least MIN_RR_LEN octets on the wire; the
	 * bound also caps what an unbounded size would let memory grow to
	 * record by record when compression makes records small. */
	x->max_records = max_size / MIN_RR_LEN;
	x->state = ST_FIRST;
	x->kind = XFR_IN_FULL;
	*out = x;
	return 0;
}

void xfr_in_free(struct xfr_in *x)
{
	if (x == NULL)
		return;
	zone_builder_free(x->builder);
	zone_diff_builder_free(x->diff);
	for (size_t i = 0; i < x->diff_count; i++)
		zone_diff_unref(x->diffs[i]);
	free(x->diffs);
	free(x);
}

const char *xfr_in_error(const struct xfr_in *x)
{
	return x->error;
}

uint16_t xfr_in_rcode(const struct xfr_in *x)
{
	return x->rcode;
}

void xfr_pull_result_clear(struct xfr_pull_result *res)
{
	zone_free(res->zone);
	for (size_t i = 0; i < res->diff_count; i++)
		zone_diff_unref(res->diffs[i]);
	free(res->diffs);
	memset(res, 0, sizeof(*res));
}

/* ---- Records --------------------------------------------------------- */

static bool layout_has_names(const struct dns_rrtype_desc *d)
{
	if (d == NULL)
		return false;
	for (unsigned i = 0; i < 8 && d->blocks[i].field != DNS_RDF_END; i++)
		if (d->blocks[i].field == DNS_RDF_CNAME ||
		    d->blocks[i].field == DNS_RDF_NAME)
			return true;
	return false;
}

/*
 * Copies the rdlen octets of RDATA at c (a cursor over the whole message,
 * so compression pointers reach back into it) into x->rdata with every
 * name of the type's layout uncompressed. Advances c past the RDATA.
 * Returns 0 with *outlen, or ANYDNS_EMALF (layout not followed, a bad
 * name, or over 65535 octets once uncompressed).
 */
static int read_rdata(struct xfr_in *x, struct wire_ctx *c, uint16_t type,
		      uint16_t rdlen, uint16_t *outlen)
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (!wire_need(c, rdlen))
		return ANYDNS_EMALF;
	if (!layout_has_names(d)) {
		wire_read(c, x->rdata, rdlen);
		*outlen = rdlen;
		return 0;
	}

	struct wire_ctx r = *c;
	r.end = c->pos + rdlen;
	struct wire_wctx w;
	wire_winit(&w, x->rdata, sizeof(x->rdata));
	for (unsigned i = 0; i < 8 && d->blocks[i].field != DNS_RDF_END; i++) {
		const uint8_t *p;
		size_t n;
		switch (d->blocks[i].field) {
		case DNS_RDF_FIXED:
			n = d->blocks[i].len;
			break;
		case DNS_RDF_STRING:
			n = 1 + (size_t)(r.pos < r.end ? r.pos[0] : 0);
			break;
		case DNS_RDF_REST:
			n = wire_avail(&r);
			break;
		case DNS_RDF_CNAME:
		case DNS_RDF_NAME: {
			uint8_t name[DNS_NAME_MAXLEN];
			size_t nlen;
			if (dns_name_read(&r, name, &nlen) != 0)
				return ANYDNS_EMALF;
			wire_write(&w, name, nlen);
			continue;
		}
		default:
			return ANYDNS_EMALF;
		}
		p = wire_take(&r, n);
		if (p == NULL)
			return ANYDNS_EMALF;
		wire_write(&w, p, n);
	}
	if (r.err != 0 || r.pos != r.end || w.err != 0)
		return ANYDNS_EMALF;
	wire_skip(c, rdlen);
	*outlen = (uint16_t)wire_wlen(&w);
	return 0;
}

static int diff_start(struct xfr_in *x, uint32_t from, uint32_t ttl,
		      const uint8_t *rdata, uint16_t rdlen)
{
	x->diff = zone_diff_builder_new();
	if (x->diff == NULL)
		return fail(x, ANYDNS_ENOMEM, "out of memory");
	x->diff_from = from;
	if (zone_diff_builder_add(x->diff, false, x->apex, DNS_TYPE_SOA, ttl,
				  rdata, rdlen) != 0)
		return fail(x, ANYDNS_ENOMEM, "out of memory");
	x->state = ST_REMOVED;
	return 0;
}

static int diff_end(struct xfr_in *x)
{
	if (x->diff_count == x->diff_cap) {
		size_t cap = x->diff_cap ? x->diff_cap * 2 : 8;
		struct zone_diff **nd = realloc(x->diffs, cap * sizeof(*nd));
		if (nd == NULL)
			return fail(x, ANYDNS_ENOMEM, "out of memory");
		x->diffs = nd;
		x->diff_cap = cap;
	}
	struct zone_diff *d = NULL;
	int ret = zone_diff_builder_finish(x->diff, &d);
	x->diff = NULL;
	if (ret == ANYDNS_ENOMEM)
		return fail(x, ret, "out of memory");
	if (ret != 0)
		return fail(x, ANYDNS_EXFR,
			    "IXFR: the difference from serial %" PRIu32
			    " to %" PRIu32 " is malformed", x->diff_from,
			    x->diff_to);
	x->diffs[x->diff_count++] = d;
	return 0;
}

static int builder_start(struct xfr_in *x)
{
	x->builder = zone_builder_new(x->apex, on_report, x);
	if (x->builder == NULL)
		return fail(x, ANYDNS_ENOMEM, "out of memory");
	x->kind = XFR_IN_FULL;
	x->state = ST_FULL;
	return 0;
}

static int builder_add(struct xfr_in *x, const uint8_t *owner, uint16_t type,
		       uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	if (zone_builder_add(x->builder, owner, type, ttl, rdata, rdlen, NULL,
			     0) != 0)
		return fail(x, ANYDNS_ENOMEM, "out of memory");
	return 0;
}

/* An IXFR turned out to carry the whole zone: the opening SOA is its
 * first record. */
static int full_from_ixfr(struct xfr_in *x)
{
	int ret = builder_start(x);
	if (ret == 0)
		ret = builder_add(x, x->apex, DNS_TYPE_SOA, x->soa_ttl,
				  x->soa_rdata, x->soa_len);
	return ret;
}

/*
 * One answer record of the stream, RDATA uncompressed: moves the state
 * machine of RFC 5936 §2.2 / RFC 1995 §4 one step.
 */
static int take_rr(struct xfr_in *x, const uint8_t *owner, uint16_t type,
		   uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
		   uint16_t rdlen)
{
	char rs[DNS_NAME_STRLEN + 24];
	int ret;

	if (x->state == ST_DONE)
		return fail(x, ANYDNS_EXFR, "%s after the closing SOA",
			    rr_str(rs, sizeof(rs), owner, type));
	x->records++;
	if (x->max_records != 0 && x->records > x->max_records)
		return fail(x, ANYDNS_ETOOBIG, "over %" PRIu64 " records",
			    x->max_records);
	if (rclass != DNS_CLASS_IN)
		return fail(x, ANYDNS_EXFR, "%s of class %u, not IN",
			    rr_str(rs, sizeof(rs), owner, type),
			    (unsigned)rclass);
	if (type == DNS_TYPE_OPT || (type >= 128 && type <= 255))
		return fail(x, ANYDNS_EXFR, "meta-type record %s in the answer",
			    rr_str(rs, sizeof(rs), owner, type));
	if (!dns_name_is_subdomain(owner, x->apex))
		return fail(x, ANYDNS_EXFR, "out-of-zone record %s",
			    rr_str(rs, sizeof(rs), owner, type));
	if (dns_rdata_check(type, rdata, rdlen) != 0)
		return fail(x, ANYDNS_EXFR, "malformed RDATA of %s",
			    rr_str(rs, sizeof(rs), owner, type));

	bool soa = type == DNS_TYPE_SOA;
	uint32_t serial = 0;
	if (soa) {
		if (!dns_name_equal(owner, x->apex))
			return fail(x, ANYDNS_EXFR, "SOA record %s not at the apex",
				    rr_str(rs, sizeof(rs), owner, type));
		/* The layout check above made the fixed part the last 20. */
		serial = wire_get_u32(rdata + rdlen - SOA_FIXED_LEN);
	}

	switch (x->state) {
	case ST_FIRST:
		if (!soa)
			return fail(x, ANYDNS_EXFR,
				    "the first record, %s, is not the zone's SOA",
				    rr_str(rs, sizeof(rs), owner, type));
		x->serial = serial;
		if (x->qtype == DNS_TYPE_AXFR) {
			ret = builder_start(x);
			if (ret == 0)
				ret = builder_add(x, owner, type, ttl, rdata,
						  rdlen);
			return ret;
		}
		x->soa_ttl = ttl;
		x->soa_len = rdlen;
		memcpy(x->soa_rdata, rdata, rdlen);
		x->state = ST_SECOND;
		return 0;

	case ST_SECOND:
		if (!soa || serial == x->serial) {
			/* RFC 1995 §4: anything but an SOA after the first
			 * means the whole zone follows. The primary's own
			 * serial again cannot open a difference (that would
			 * start where the primary already is), so it closes
			 * a whole zone made of its SOA alone. */
			ret = full_from_ixfr(x);
			if (ret != 0)
				return ret;
			if (soa) {
				x->state = ST_DONE;
				return 0;
			}
			return builder_add(x, owner, type, ttl, rdata, rdlen);
		}
		if (serial != x->current->serial)
			return fail(x, ANYDNS_EXFR,
				    "IXFR: the first difference starts at serial %"
				    PRIu32 ", ours is %" PRIu32, serial,
				    x->current->serial);
		x->kind = XFR_IN_DIFFS;
		return diff_start(x, serial, ttl, rdata, rdlen);

	case ST_FULL:
		if (!soa)
			return builder_add(x, owner, type, ttl, rdata, rdlen);
		if (serial != x->serial)
			return fail(x, ANYDNS_EXFR,
				    "SOA serial %" PRIu32 " inside a transfer of "
				    "serial %" PRIu32, serial, x->serial);
		x->state = ST_DONE;
		return 0;

	case ST_REMOVED:
		if (soa) {
			if (!zone_serial_newer(serial, x->diff_from))
				return fail(x, ANYDNS_EXFR,
					    "IXFR: a difference from serial %"
					    PRIu32 " to %" PRIu32 ", not newer",
					    x->diff_from, serial);
			x->diff_to = serial;
			x->state = ST_ADDED;
		}
		ret = zone_diff_builder_add(x->diff, soa, owner, type, ttl,
					    rdata, rdlen);
		if (ret != 0)
			return fail(x, ANYDNS_ENOMEM, "out of memory");
		return 0;

	case ST_ADDED:
		if (!soa) {
			ret = zone_diff_builder_add(x->diff, true, owner, type,
						    ttl, rdata, rdlen);
			if (ret != 0)
				return fail(x, ANYDNS_ENOMEM, "out of memory");
			return 0;
		}
		ret = diff_end(x);
		if (ret != 0)
			return ret;
		if (serial == x->serial) {
			if (x->diff_to != x->serial)
				return fail(x, ANYDNS_EXFR,
					    "IXFR: ends at serial %" PRIu32
					    " but its last difference leads to %"
					    PRIu32, x->serial, x->diff_to);
			x->state = ST_DONE;
			return 0;
		}
		if (serial != x->diff_to)
			return fail(x, ANYDNS_EXFR,
				    "IXFR: a difference starts at serial %" PRIu32
				    ", the previous one ended at %" PRIu32,
				    serial, x->diff_to);
		return diff_start(x, serial, ttl, rdata, rdlen);

	case ST_DONE:
	case ST_FAILED:
		break;
	}
	return fail(x, ANYDNS_EXFR, "internal state error");
}

/* ---- Messages -------------------------------------------------------- */

/* Skips one resource record at c; its type and TTL go to *type, *ttl. */
static void skip_rr(struct wire_ctx *c, uint16_t *type, uint32_t *ttl)
{
	uint8_t name[DNS_NAME_MAXLEN];
	size_t nlen;
	if (dns_name_read(c, name, &nlen) != 0)
		return;
	*type = wire_read_u16(c);
	(void)wire_read_u16(c);
	*ttl = wire_read_u32(c);
	wire_skip(c, wire_read_u16(c));
}

/* Outcome of walking a message's structure before using any of it. */
struct msg_shape {
	uint16_t flags;
	uint16_t count[4];
	uint16_t ext_rcode;	/* from an OPT, shifted into place */
	bool has_question;
	uint8_t qname[DNS_NAME_MAXLEN];
	uint16_t qtype, qclass;
	size_t answer_at;	/* offset of the first answer record */
};

/* Reads the header and question and walks every record: the message
 * must end exactly after the last one. */
static int walk(const uint8_t *msg, size_t len, struct msg_shape *s)
{
	struct wire_ctx c;
	wire_init(&c, msg, len);
	(void)wire_read_u16(&c);
	s->flags = wire_read_u16(&c);
	for (int i = 0; i < 4; i++)
		s->count[i] = wire_read_u16(&c);
	s->ext_rcode = 0;
	s->has_question = false;
	if (s->count[DNS_SECTION_QUESTION] > 1)
		return ANYDNS_EMALF;
	if (s->count[DNS_SECTION_QUESTION] == 1) {
		size_t nlen;
		if (dns_name_read(&c, s->qname, &nlen) != 0)
			return ANYDNS_EMALF;
		s->qtype = wire_read_u16(&c);
		s->qclass = wire_read_u16(&c);
		s->has_question = true;
	}
	s->answer_at = wire_offset(&c);
	for (int sec = DNS_SECTION_ANSWER; sec <= DNS_SECTION_ADDITIONAL; sec++)
		for (unsigned i = 0; i < s->count[sec] && c.err == 0; i++) {
			uint16_t type = 0;
			uint32_t ttl = 0;
			skip_rr(&c, &type, &ttl);
			/* OPT: the upper 8 bits of the RCODE (RFC 6891
			 * §6.1.3); a TSIG RR and anything else in the
			 * additional section is no zone data. */
			if (sec == DNS_SECTION_ADDITIONAL &&
			    type == DNS_TYPE_OPT)
				s->ext_rcode = (uint16_t)((ttl >> 24) << 4);
		}
	if (c.err != 0 || wire_avail(&c) != 0)
		return ANYDNS_EMALF;
	return 0;
}

int xfr_in_feed(struct xfr_in *x, const uint8_t *msg, size_t len,
		uint64_t now)
{
	struct msg_shape s;
	char tb[16];
	int ret;

	if (x->state == ST_FAILED)
		return x->err;
	x->messages++;
	if (x->state == ST_DONE)
		return fail(x, ANYDNS_EXFR, "a message after the end of the "
			    "transfer");
	x->bytes += len;
	if (x->max_size != 0 && x->bytes > x->max_size)
		return fail(x, ANYDNS_ETOOBIG, "over the limit of %" PRIu64
			    " octets", x->max_size);
	if (len < DNS_HEADER_LEN)
		return fail(x, ANYDNS_EXFR, "shorter than a DNS header");
	uint16_t id = wire_get_u16(msg);
	uint16_t flags = wire_get_u16(msg + 2);
	if (id != x->id)
		return fail(x, ANYDNS_EXFR, "ID %u, the request's is %u",
			    (unsigned)id, (unsigned)x->id);
	if (!(flags & DNS_FLAG_QR))
		return fail(x, ANYDNS_EXFR, "not a response (QR clear)");

	bool unsigned_error = false;
	if (x->ctx != NULL) {
		ret = dns_tsig_verify_response(x->ctx, msg, len, now);
		/* A primary that refuses before it knows our key answers
		 * unsigned; its RCODE says more than "TSIG missing". */
		if (ret == ANYDNS_ENOTSIG && DNS_RCODE(flags) != 0)
			unsigned_error = true;
		else if (ret == ANYDNS_ENOMEM)
			return fail(x, ret, "out of memory");
		else if (ret != 0)
			return fail(x, ret, "%s", xfr_tsig_reason(ret));
	}

	if (walk(msg, len, &s) != 0)
		return fail(x, ANYDNS_EXFR, "malformed message");
	if (DNS_OPCODE(flags) != DNS_OPCODE_QUERY)
		return fail(x, ANYDNS_EXFR, "opcode %u, not QUERY",
			    (unsigned)DNS_OPCODE(flags));
	uint16_t rcode = (uint16_t)(s.ext_rcode | DNS_RCODE(flags));
	if (rcode != DNS_RCODE_NOERROR) {
		x->rcode = rcode;
		return fail(x, ANYDNS_EREFUSED, "%s%s",
			    dns_rcode_to_str(rcode, tb),
			    unsigned_error ? " (unsigned)" : "");
	}
	if (flags & DNS_FLAG_TC)
		return fail(x, ANYDNS_EXFR, "truncated (TC set)");
	if (s.has_question) {
		if (!dns_name_equal(s.qname, x->apex) ||
		    s.qtype != x->qtype || s.qclass != DNS_CLASS_IN)
			return fail(x, ANYDNS_EXFR, "the question differs from "
				    "the request's");
	} else if (x->messages == 1) {
		/* RFC 5936 §2.2.1: the first message copies the question. */
		return fail(x, ANYDNS_EXFR, "no question");
	}
	uint16_t ancount = s.count[DNS_SECTION_ANSWER];
	if (x->messages == 1 && ancount == 0)
		return fail(x, ANYDNS_EXFR, "no records");

	/* The structure is sound: take the answer records. */
	struct wire_ctx c;
	wire_init(&c, msg, len);
	wire_seek(&c, s.answer_at);
	for (unsigned i = 0; i < ancount; i++) {
		size_t nlen;
		uint16_t rdlen;
		if (dns_name_read(&c, x->owner, &nlen) != 0)
			return fail(x, ANYDNS_EXFR, "malformed message");
		uint16_t type = wire_read_u16(&c);
		uint16_t rclass = wire_read_u16(&c);
		uint32_t ttl = wire_read_u32(&c);
		uint16_t wire_rdlen = wire_read_u16(&c);
		if (c.err != 0)
			return fail(x, ANYDNS_EXFR, "malformed message");
		if (read_rdata(x, &c, type, wire_rdlen, &rdlen) != 0) {
			char rs[DNS_NAME_STRLEN + 24];
			return fail(x, ANYDNS_EXFR, "malformed RDATA of %s",
				    rr_str(rs, sizeof(rs), x->owner, type));
		}
		ret = take_rr(x, x->owner, type, rclass, ttl, x->rdata, rdlen);
		if (ret != 0)
			return ret;
	}

	if (x->state == ST_SECOND) {
		/* The first message held the SOA alone (RFC 1995 §2/§4). */
		if (zone_serial_newer(x->serial, x->current->serial))
			return fail(x, ANYDNS_EXFR, "IXFR answered with a newer "
				    "SOA (serial %" PRIu32 ") only", x->serial);
		x->kind = XFR_IN_UPTODATE;
		x->state = ST_DONE;
	}
	if (x->state != ST_DONE)
		return 0;
	if (x->ctx != NULL && !dns_tsig_stream_done(x->ctx))
		return fail(x, ANYDNS_ENOTSIG, "the last message is not signed");
	return 1;
}

/* ---- The result ------------------------------------------------------ */

int xfr_in_finish(struct xfr_in *x, struct xfr_pull_result *res)
{
	int ret = 0;

	res->kind = x->kind;
	res->qtype = x->qtype;
	res->serial = x->serial;
	res->messages = x->messages;
	res->bytes = x->bytes;
	res->records = x->records;
	if (x->state != ST_DONE) {
		ret = x->state == ST_FAILED ? x->err : ANYDNS_EXFR;
		snprintf(res->error, sizeof(res->error), "%s",
			 x->state == ST_FAILED ? x->error :
			 "the transfer is not complete");
		goto out;
	}

	switch (x->kind) {
	case XFR_IN_UPTODATE:
		break;
	case XFR_IN_FULL: {
		struct zone *z = NULL;
		ret = zone_builder_finish(x->builder, &z);
		x->builder = NULL;
		if (ret == ANYDNS_ENOMEM)
			break;
		if (ret != 0) {
			ret = ANYDNS_EZONE;
			snprintf(res->error, sizeof(res->error), "%s",
				 x->build_error[0] ? x->build_error :
				 "the zone fails its checks");
			break;
		}
		res->zone = z;
		break;
	}
	case XFR_IN_DIFFS: {
		struct zone *z = NULL;
		ret = zone_diff_apply(x->current, x->diffs, x->diff_count, &z,
				      res->error, sizeof(res->error));
		if (ret != 0)
			break;
		res->zone = z;
		res->diffs = x->diffs;
		res->diff_count = x->diff_count;
		x->diffs = NULL;
		x->diff_count = 0;
		break;
	}
	}
out:
	xfr_in_free(x);
	return ret;
}
