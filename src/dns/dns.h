/*
 * src/dns — the DNS wire format: domain names, RR type descriptors, query
 * parsing and response writing with name compression.
 *
 * Implements: RFC 1035 §2.3.4 (size limits), §3.1 (names), §4.1 (message
 * format), §4.1.4 (compression); RFC 3597 §4 (which RDATA names may be
 * compressed); RFC 4034 §6.1 and §6.2 (canonical order and form); RFC 6891
 * (EDNS0 OPT: payload size, extended RCODE, version, DO); RFC 5001 (NSID);
 * RFC 7828 (edns-tcp-keepalive); RFC 9619 (QDCOUNT must be 1).
 *
 * Nothing here allocates: every function writes into caller-provided
 * buffers. Errors are the negative codes of lib/errcode.h.
 */
#ifndef ANYDNS_DNS_DNS_H
#define ANYDNS_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/errcode.h"
#include "lib/wire.h"

#define DNS_NAME_MAXLEN 255		/* wire form, root label included */
#define DNS_LABEL_MAXLEN 63
#define DNS_NAME_MAXLABELS 128		/* root included */
#define DNS_NAME_STRLEN (DNS_NAME_MAXLEN * 4 + 1)	/* "\\DDD" each octet, NUL */
#define DNS_HEADER_LEN 12
#define DNS_UDP_MIN_PAYLOAD 512
#define DNS_EDNS_DEFAULT_PAYLOAD 1232
#define DNS_MSG_MAXLEN 65535

/* Header flag bits, in the 16-bit word after the ID. */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_Z  0x0040
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags) & 0xf)

enum dns_opcode {
	DNS_OPCODE_QUERY = 0,
	DNS_OPCODE_IQUERY = 1,
	DNS_OPCODE_STATUS = 2,
	DNS_OPCODE_NOTIFY = 4,
	DNS_OPCODE_UPDATE = 5,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6,
	DNS_RCODE_YXRRSET = 7,
	DNS_RCODE_NXRRSET = 8,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_NOTZONE = 10,
	DNS_RCODE_BADVERS = 16,	/* extended: needs OPT */
};

enum dns_class {
	DNS_CLASS_IN = 1,
	DNS_CLASS_CH = 3,
	DNS_CLASS_HS = 4,
	DNS_CLASS_NONE = 254,
	DNS_CLASS_ANY = 255,
};

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_MD = 3,
	DNS_TYPE_MF = 4,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_MB = 7,
	DNS_TYPE_MG = 8,
	DNS_TYPE_MR = 9,
	DNS_TYPE_NULL = 10,
	DNS_TYPE_WKS = 11,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_HINFO = 13,
	DNS_TYPE_MINFO = 14,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_RP = 17,
	DNS_TYPE_AFSDB = 18,
	DNS_TYPE_X25 = 19,
	DNS_TYPE_ISDN = 20,
	DNS_TYPE_RT = 21,
	DNS_TYPE_NSAP = 22,
	DNS_TYPE_NSAP_PTR = 23,
	DNS_TYPE_SIG = 24,
	DNS_TYPE_KEY = 25,
	DNS_TYPE_PX = 26,
	DNS_TYPE_GPOS = 27,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_LOC = 29,
	DNS_TYPE_NXT = 30,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_NAPTR = 35,
	DNS_TYPE_KX = 36,
	DNS_TYPE_CERT = 37,
	DNS_TYPE_A6 = 38,
	DNS_TYPE_DNAME = 39,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_APL = 42,
	DNS_TYPE_DS = 43,
	DNS_TYPE_SSHFP = 44,
	DNS_TYPE_IPSECKEY = 45,
	DNS_TYPE_RRSIG = 46,
	DNS_TYPE_NSEC = 47,
	DNS_TYPE_DNSKEY = 48,
	DNS_TYPE_DHCID = 49,
	DNS_TYPE_NSEC3 = 50,
	DNS_TYPE_NSEC3PARAM = 51,
	DNS_TYPE_TLSA = 52,
	DNS_TYPE_SMIMEA = 53,
	DNS_TYPE_HIP = 55,
	DNS_TYPE_CDS = 59,
	DNS_TYPE_CDNSKEY = 60,
	DNS_TYPE_OPENPGPKEY = 61,
	DNS_TYPE_CSYNC = 62,
	DNS_TYPE_ZONEMD = 63,
	DNS_TYPE_SVCB = 64,
	DNS_TYPE_HTTPS = 65,
	DNS_TYPE_SPF = 99,
	DNS_TYPE_NID = 104,
	DNS_TYPE_L32 = 105,
	DNS_TYPE_L64 = 106,
	DNS_TYPE_LP = 107,
	DNS_TYPE_EUI48 = 108,
	DNS_TYPE_EUI64 = 109,
	DNS_TYPE_TKEY = 249,
	DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_MAILB = 253,
	DNS_TYPE_MAILA = 254,
	DNS_TYPE_ANY = 255,
	DNS_TYPE_URI = 256,
	DNS_TYPE_CAA = 257,
};

/* Sections of a message, in wire order; index into count arrays. */
enum dns_section {
	DNS_SECTION_QUESTION = 0,
	DNS_SECTION_ANSWER = 1,
	DNS_SECTION_AUTHORITY = 2,
	DNS_SECTION_ADDITIONAL = 3,
};

/* EDNS option codes we act on (RFC 6891 registry). */
enum dns_edns_option {
	DNS_EDNS_NSID = 3,
	DNS_EDNS_EXPIRE = 9,		/* RFC 7314 */
	DNS_EDNS_TCP_KEEPALIVE = 11,
	DNS_EDNS_EDE = 15,		/* RFC 8914 */
};

/* TSIG error codes (RFC 8945 §3). */
enum dns_tsig_error {
	DNS_TSIG_BADSIG = 16,
	DNS_TSIG_BADKEY = 17,
	DNS_TSIG_BADTIME = 18,
	DNS_TSIG_BADTRUNC = 22,
};

/* Extended DNS Error info-codes we send (RFC 8914 §4). */
enum dns_ede_code {
	DNS_EDE_NOT_AUTHORITATIVE = 20,
};

/* ---- Names -------------------------------------------------------------
 * A name is kept in uncompressed wire form: length-prefixed labels ending
 * with the root label (a zero octet); at most DNS_NAME_MAXLEN octets. All
 * functions below that take a name require a valid one (as produced by the
 * parsers here); comparisons are ASCII case-insensitive.
 */

/* Length in octets of a valid wire name, root label included. */
size_t dns_name_len(const uint8_t *name);

/* Number of labels, not counting the root label ("." has 0). */
unsigned dns_name_labels(const uint8_t *name);

/* Lowercases the ASCII letters of name in place. */
void dns_name_lower(uint8_t *name);

/* Copies a valid name into dst (at least DNS_NAME_MAXLEN), lowercased;
 * returns its length. */
size_t dns_name_copy_lower(uint8_t *dst, const uint8_t *name);

bool dns_name_equal(const uint8_t *a, const uint8_t *b);

/* True when name is parent or lies below it. */
bool dns_name_is_subdomain(const uint8_t *name, const uint8_t *parent);

/* The name with its first label removed; NULL for the root. Points into
 * name. */
const uint8_t *dns_name_parent(const uint8_t *name);

/* True when the first label is exactly "*". */
bool dns_name_is_wildcard(const uint8_t *name);

/* Canonical DNS name order of RFC 4034 §6.1: <0, 0, >0. */
int dns_name_cmp_canonical(const uint8_t *a, const uint8_t *b);

/*
 * Presentation form to wire form. Accepts "\X" and "\DDD" escapes, the
 * single "." for the root, and a trailing dot. A name without a trailing
 * dot is relative: origin (a wire name, or NULL for the root) is appended.
 * Writes at most DNS_NAME_MAXLEN octets into dst; *len gets the length.
 * Errors: ANYDNS_ELABEL (empty or >63-octet label), ANYDNS_ENAME (>255),
 * ANYDNS_ESYNTAX (bad escape).
 */
int dns_name_from_str(uint8_t *dst, size_t *len, const char *str,
		      const uint8_t *origin);

/*
 * Wire form to presentation form with a trailing dot, escaping "." "\\"
 * "\"" "(" ")" ";" "@" "$" and space as "\X", other non-printables as
 * "\DDD". dst must hold DNS_NAME_STRLEN octets. Returns the string length.
 */
size_t dns_name_to_str(char *dst, const uint8_t *name);

/*
 * Reads a possibly compressed name at the cursor into dst (at least
 * DNS_NAME_MAXLEN octets), case preserved, and advances the cursor past it
 * (past the first pointer if any). Pointers are followed through c->base
 * and must point strictly backwards from the pointer itself, which rules
 * out loops and forward references. On error the cursor is failed with:
 * ANYDNS_ETRUNC, ANYDNS_ELABEL (label type 0x40/0x80), ANYDNS_ENAME,
 * ANYDNS_ECOMPR; the same code is returned. *len gets the length.
 */
int dns_name_read(struct wire_ctx *c, uint8_t *dst, size_t *len);

/* ---- RR types ----------------------------------------------------------
 * A descriptor says how RDATA of a type is laid out, so names in it can be
 * found (for compression, canonical form and additional processing). Types
 * without a descriptor are opaque (RFC 3597).
 */
enum dns_rdata_field {
	DNS_RDF_END = 0,
	DNS_RDF_CNAME,		/* domain name, compressible (RFC 3597 §4) */
	DNS_RDF_NAME,		/* domain name, never compressed */
	DNS_RDF_FIXED,		/* fixed number of octets (len) */
	DNS_RDF_STRING,		/* <character-string>: length octet + data */
	DNS_RDF_REST,		/* everything up to the end of RDATA */
};

struct dns_rdata_block {
	uint8_t field;		/* enum dns_rdata_field */
	uint8_t len;		/* octets for DNS_RDF_FIXED */
};

struct dns_rrtype_desc {
	const char *name;	/* mnemonic, e.g. "AAAA" */
	struct dns_rdata_block blocks[8];	/* ends with DNS_RDF_END */
	bool lower_in_canonical;	/* names lowercased in RFC 4034 §6.2 form */
};

/* Descriptor of type, or NULL if unknown (opaque RDATA). */
const struct dns_rrtype_desc *dns_rrtype_desc(uint16_t type);

/* Mnemonic of type, or "TYPE123" (RFC 3597 §5) written into buf. */
const char *dns_rrtype_to_str(uint16_t type, char buf[16]);

/* "AAAA", "aaaa", "TYPE28" → 28. ANYDNS_EINVAL when unknown. */
int dns_rrtype_from_str(const char *s, uint16_t *type);

/* Mnemonic of rcode ("NOERROR", "RCODE23") written into buf. */
const char *dns_rcode_to_str(uint16_t rcode, char buf[16]);

/*
 * Checks that rdata of the given type is well formed: every name in it is
 * a valid uncompressed wire name and every fixed field fits exactly.
 * Opaque types are always valid. Returns 0 or ANYDNS_EMALF.
 */
int dns_rdata_check(uint16_t type, const uint8_t *rdata, size_t len);

/*
 * Calls fn for every domain name inside rdata of the given type, with its
 * offset inside rdata and whether it may be compressed. Stops at the first
 * malformed field. Returns 0 or ANYDNS_EMALF.
 */
typedef void (*dns_rdata_name_fn)(const uint8_t *name, size_t offset,
				  bool compressible, void *arg);
int dns_rdata_names(uint16_t type, const uint8_t *rdata, size_t len,
		    dns_rdata_name_fn fn, void *arg);

/* ---- Queries ----------------------------------------------------------- */

struct dns_query {
	const uint8_t *wire;	/* the message as received (not owned) */
	size_t wire_len;

	uint16_t id;
	uint16_t flags;		/* the header word after the ID, as received */
	uint8_t opcode;
	uint16_t qdcount, ancount, nscount, arcount;

	/* The question; valid when has_question is true. */
	bool has_question;
	uint8_t qname[DNS_NAME_MAXLEN];		/* case as received */
	uint8_t qname_lower[DNS_NAME_MAXLEN];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;

	/* EDNS (RFC 6891); valid when has_edns is true. */
	bool has_edns;
	uint8_t edns_version;
	uint16_t edns_payload;	/* as advertised by the client */
	bool edns_do;		/* DNSSEC OK */
	bool edns_nsid;		/* NSID requested (RFC 5001) */
	bool edns_keepalive;	/* edns-tcp-keepalive present (RFC 7828) */
	bool edns_expire;	/* EDNS EXPIRE present (RFC 7314) */

	size_t tsig_offset;	/* offset of a TSIG RR, 0 if none */
};

/*
 * Parses a query message: header, exactly one question, the answer and
 * authority sections (validated, skipped) and the additional section (one
 * OPT at most, with owner the root; its options; a TSIG must come last).
 * Returns:
 *   0              a well-formed message; q is filled.
 *   ANYDNS_EDROP   not to be answered: shorter than a header, or QR set.
 *   ANYDNS_EMALF   to be answered with FORMERR: QDCOUNT != 1, bad name or
 *                  record, two OPT records, an OPT not in additional or not
 *                  owned by the root, malformed options, trailing octets.
 *                  q->has_question says whether the question was read.
 * An EDNS version above 0 is not a parse error (the answer layer replies
 * BADVERS). q keeps a pointer to pkt.
 */
int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

/* ---- TSIG (RFC 8945) -----------------------------------------------------
 * Transaction signatures with HMAC-SHA256/384/512 (OpenSSL libcrypto). A
 * struct dns_tsig_ctx follows one exchange: a request and its response, or
 * a request and every message of a zone transfer answering it (§5.3.1:
 * each signed message's MAC chains into the next; up to 99 unsigned
 * messages in a row are allowed between signed ones and are covered by the
 * next signed one). Keys are read from BIND's `key` statements (as
 * `tsig-keygen` writes them) or given as name, algorithm and Base64 secret.
 */
enum dns_tsig_alg {
	DNS_TSIG_HMAC_SHA256 = 1,
	DNS_TSIG_HMAC_SHA384,
	DNS_TSIG_HMAC_SHA512,
};

#define DNS_TSIG_SECRET_MAX 128		/* octets of a decoded secret */
#define DNS_TSIG_MAC_MAX 64		/* SHA-512 */
#define DNS_TSIG_FUDGE 300		/* seconds, RFC 8945 §10 */
/* Octets a TSIG RR can take at most (owner and algorithm names, fixed
 * fields, full MAC, 6 octets of other data): reserve this much before
 * signing. */
#define DNS_TSIG_MAXLEN (DNS_NAME_MAXLEN + 10 + 30 + 16 + DNS_TSIG_MAC_MAX + 6)

struct dns_tsig_key {
	uint8_t name[DNS_NAME_MAXLEN];	/* lowercase wire form */
	enum dns_tsig_alg alg;
	uint8_t secret[DNS_TSIG_SECRET_MAX];
	size_t secret_len;
};

/* "hmac-sha256", "hmac-sha384", "hmac-sha512". */
const char *dns_tsig_alg_name(enum dns_tsig_alg alg);

/* From a name as above (case-insensitive, a final dot allowed). 0 or
 * ANYDNS_ENOENT for an algorithm we do not support (hmac-md5, sha1...). */
int dns_tsig_alg_from_str(const char *s, enum dns_tsig_alg *alg);

/*
 * Fills key from a name (presentation form), an algorithm name and a
 * Base64 secret. Returns 0, or ANYDNS_ESYNTAX / ANYDNS_ENOENT with a
 * one-line reason in err.
 */
int dns_tsig_key_init(struct dns_tsig_key *key, const char *name,
		      const char *alg, const char *secret_b64, char *err,
		      size_t errlen);

/*
 * Parses the `key "NAME" { algorithm ALG; secret "BASE64"; };` statements
 * of a BIND key file (comments #, //, C-style allowed; other statements
 * are errors). *keys (malloc'd, the caller frees it) gets *n keys in file
 * order. Errors: ANYDNS_ESYNTAX or ANYDNS_ENOENT with "file:line: reason"
 * in err (file is the name used in messages), ANYDNS_EEXIST (one name
 * twice), ANYDNS_ENOMEM.
 */
int dns_tsig_keys_parse(const char *text, size_t len, const char *file,
			struct dns_tsig_key **keys, size_t *n, char *err,
			size_t errlen);

/* The key named name (wire, any case) in keys[0..n), or NULL. */
const struct dns_tsig_key *dns_tsig_key_find(const struct dns_tsig_key *keys,
					     size_t n, const uint8_t *name);

struct dns_tsig_ctx {
	const struct dns_tsig_key *key;	/* NULL until known */
	/* The key name and algorithm as the peer sent them: an error
	 * response names them even when the key is unknown (§5.3.2). */
	uint8_t key_name[DNS_NAME_MAXLEN];
	uint8_t alg_name[DNS_NAME_MAXLEN];
	uint8_t mac[DNS_TSIG_MAC_MAX];	/* the last MAC signed or verified */
	size_t mac_len;
	uint16_t orig_id;		/* original ID of the request */
	uint64_t time_signed;		/* of the last message verified */
	uint16_t error;			/* TSIG error to put in a response */
	unsigned messages;		/* messages signed or verified so far */
	unsigned unsigned_run;		/* unsigned messages since the last
					 * signed one (verifying a stream) */
	void *hmac;			/* running digest over unsigned ones */
};

/* Starts an exchange; key NULL on a server that has not seen the request. */
void dns_tsig_ctx_init(struct dns_tsig_ctx *ctx, const struct dns_tsig_key *key);

/* Frees what the context holds (not the key). */
void dns_tsig_ctx_clear(struct dns_tsig_ctx *ctx);

/*
 * Signs the complete message buf[0..*len) (header counts final, no TSIG
 * yet): appends a TSIG RR with time now and fudge DNS_TSIG_FUDGE, adds one
 * to ARCOUNT, grows *len. Which variables are digested depends on the
 * context: the first message of a client (a request) has no prior MAC; a
 * server's first response digests the request MAC verified into ctx; later
 * messages of a stream digest the previous MAC and the timers only
 * (§5.3.1). When ctx->error is BADSIG or BADKEY the TSIG is unsigned (MAC
 * size 0, §5.3.2); BADTIME signs and puts our time in other data.
 * Returns 0 or ANYDNS_ESPACE (buf unchanged).
 */
int dns_tsig_sign(struct dns_tsig_ctx *ctx, uint8_t *buf, size_t *len,
		  size_t cap, uint64_t now);

/*
 * Server side: verifies a request whose TSIG RR starts at tsig_offset (as
 * dns_query_parse() found it), looking its key up in keys[0..n). Returns 0
 * (ctx->key set, the request MAC kept for signing the response), or
 * ANYDNS_EBADKEY, ANYDNS_EBADSIG, ANYDNS_EBADTIME, ANYDNS_EMALF with
 * ctx->error set to the TSIG error the response carries (BADKEY, BADSIG,
 * BADTIME; 0 for EMALF, answered FORMERR) and key_name/alg_name copied.
 */
int dns_tsig_verify_request(struct dns_tsig_ctx *ctx,
			    const struct dns_tsig_key *keys, size_t n,
			    const uint8_t *msg, size_t len, size_t tsig_offset,
			    uint64_t now);

/*
 * Client side: verifies one response message to the request signed with
 * ctx (each message of a transfer in order). The TSIG RR, if any, must be
 * the last record; a message without one is accepted inside a stream when
 * fewer than 100 are unsigned in a row, and the next signed message covers
 * it; the first message must be signed. Returns 0, or ANYDNS_ENOTSIG,
 * ANYDNS_EBADKEY (other key or algorithm, or the server's TSIG error was
 * BADKEY), ANYDNS_EBADSIG, ANYDNS_EBADTIME, ANYDNS_EMALF.
 * dns_tsig_stream_done() then says whether the last message was signed
 * (a transfer must end with a signed message).
 */
int dns_tsig_verify_response(struct dns_tsig_ctx *ctx, const uint8_t *msg,
			     size_t len, uint64_t now);

/* True when no unsigned message follows the last verified signed one. */
bool dns_tsig_stream_done(const struct dns_tsig_ctx *ctx);

/*
 * The offset of the TSIG RR ending msg (the last record of the additional
 * section, type TSIG), 0 when there is none, or a negative error for a
 * message too malformed to tell. For replies (dns_query_parse() does this
 * for requests).
 */
long dns_tsig_find(const uint8_t *msg, size_t len);

/* ---- Responses -----------------------------------------------------------
 * A writer builds a message into a caller-owned buffer up to a size limit,
 * compressing owner names and the compressible names inside RDATA against
 * names already written. A record that does not fit is not written at all
 * (ANYDNS_ESPACE) and the message stays valid. Marks allow dropping a
 * partially written RRset.
 */
#define DNS_COMPR_MAX 64

struct dns_writer {
	uint8_t *buf;
	size_t limit;		/* current size limit (minus reserve) */
	size_t len;		/* octets written so far, header included */
	size_t reserved;	/* octets held back (for the OPT record) */
	uint16_t count[4];	/* records per section */
	uint16_t compr[DNS_COMPR_MAX];	/* offsets of written names */
	unsigned compr_n;
};

struct dns_writer_mark {
	size_t len;
	uint16_t count[4];
	unsigned compr_n;
};

/*
 * Starts a message in buf with room for limit octets (limit >= 12, at most
 * DNS_MSG_MAXLEN). The header is left zeroed until dns_writer_finish().
 */
void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t limit);

/* Holds back n octets from the limit (e.g. for the OPT record that is
 * written last); ANYDNS_ESPACE if fewer are left. Reserving 0 releases. */
int dns_writer_reserve(struct dns_writer *w, size_t n);

/* Writes the question; name is written as given (case preserved). */
int dns_writer_question(struct dns_writer *w, const uint8_t *qname,
			uint16_t qtype, uint16_t qclass);

/*
 * Appends one record to section (answer, authority or additional; records
 * must be written in section order). rdata is uncompressed wire RDATA;
 * compressible names in it (per the type's descriptor) are compressed.
 * Returns 0 or ANYDNS_ESPACE (nothing written).
 */
int dns_writer_rr(struct dns_writer *w, enum dns_section section,
		  const uint8_t *owner, uint16_t type, uint16_t rclass,
		  uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

void dns_writer_mark(const struct dns_writer *w, struct dns_writer_mark *m);
void dns_writer_rollback(struct dns_writer *w, const struct dns_writer_mark *m);

struct dns_opt_out {
	uint16_t payload;	/* our UDP payload size */
	uint8_t ext_rcode;	/* upper 8 bits of the 12-bit RCODE */
	bool do_bit;
	const uint8_t *nsid;	/* NSID option data, NULL for none */
	uint16_t nsid_len;
	bool keepalive;		/* add edns-tcp-keepalive */
	uint16_t keepalive_timeout;	/* units of 100 ms */
	bool expire;		/* add EDNS EXPIRE (RFC 7314) */
	uint32_t expire_value;	/* seconds */
	bool ede;		/* add an Extended DNS Error (RFC 8914) */
	uint16_t ede_code;	/* enum dns_ede_code */
};

/* Octets an OPT record with these options takes. */
size_t dns_opt_size(const struct dns_opt_out *opt);

/* Appends the OPT record to the additional section; uses the reserve if
 * needed. Returns 0 or ANYDNS_ESPACE. */
int dns_writer_opt(struct dns_writer *w, const struct dns_opt_out *opt);

/* Writes the header (id, flags, counts); returns the message length. */
size_t dns_writer_finish(struct dns_writer *w, uint16_t id, uint16_t flags);

#endif
