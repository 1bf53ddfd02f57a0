/*
 * TSIG: transaction signatures with HMAC-SHA256/384/512 over OpenSSL's
 * EVP_MAC, and the BIND key files that hold their secrets. Implements
 * RFC 8945 §4.2 (the TSIG RR: owner the key name, class ANY, TTL 0, names
 * never compressed on output), §4.3 (what is digested for a request, a
 * response and the later messages of a stream), §5.1 (signing requests),
 * §5.2 (a server's checks in order: key, MAC, time; §5.2.2.1 MAC sizes),
 * §5.3 (signing responses; §5.3.1 streams with up to 99 unsigned messages
 * in a row; §5.3.2 unsigned BADKEY/BADSIG and signed BADTIME errors), §5.4
 * (a client's checks of responses) and §6 (algorithm names). Secrets are
 * Base64 with padding (RFC 4648 §4).
 *
 * MAC sizes (§5.2.2.1): a MAC longer than the hash, or shorter than both
 * 10 octets and half the hash, is malformed (FORMERR); a MAC truncated
 * within those bounds is accepted and compared on its own length, and the
 * truncated MAC is what chains into the next message. We always sign with
 * the full MAC, so we never need BADTRUNC.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"

/* RFC 8945 §5.3.1: a signed message at least every 100 messages. */
#define TSIG_MAX_UNSIGNED_RUN 99
/* RFC 8945 §5.2.2.1: a truncated MAC keeps at least 10 octets. */
#define TSIG_MIN_TRUNC 10
/* Time Signed is a 48-bit number of seconds. */
#define TSIG_TIME_MASK 0xffffffffffffULL
/* Octets of the TSIG RDATA besides the algorithm name, MAC and other
 * data: time (6), fudge, MAC size, original ID, error, other length. */
#define TSIG_RDATA_FIXED 16
/* The algorithm name DNS_TSIG_MAXLEN leaves room for. No registered
 * algorithm name is longer (hmac-md5.sig-alg.reg.int. has 26 octets). */
#define TSIG_ALG_NAME_MAX 30
/* Owner type, class, TTL and RDLENGTH of any RR. */
#define RR_FIXED 10

struct tsig_alg_info {
	enum dns_tsig_alg alg;
	const char *name;	/* presentation, without the final dot */
	char digest[8];		/* OpenSSL's digest name */
	size_t mac_len;		/* full output of the HMAC */
	uint8_t wire[13];	/* the name in wire form (RFC 8945 §6) */
};

static const struct tsig_alg_info algs[] = {
	{ DNS_TSIG_HMAC_SHA256, "hmac-sha256", "SHA256", 32, "\013hmac-sha256" },
	{ DNS_TSIG_HMAC_SHA384, "hmac-sha384", "SHA384", 48, "\013hmac-sha384" },
	{ DNS_TSIG_HMAC_SHA512, "hmac-sha512", "SHA512", 64, "\013hmac-sha512" },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

static const struct tsig_alg_info *alg_info(enum dns_tsig_alg alg)
{
	for (size_t i = 0; i < NALGS; i++)
		if (algs[i].alg == alg)
			return &algs[i];
	return NULL;
}

const char *dns_tsig_alg_name(enum dns_tsig_alg alg)
{
	const struct tsig_alg_info *a = alg_info(alg);
	return a != NULL ? a->name : "unknown";
}

int dns_tsig_alg_from_str(const char *s, enum dns_tsig_alg *alg)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i < NALGS; i++) {
		if (strlen(algs[i].name) == len &&
		    strncasecmp(s, algs[i].name, len) == 0) {
			*alg = algs[i].alg;
			return 0;
		}
	}
	return ANYDNS_ENOENT;
}

/* ---- Keys ---------------------------------------------------------------- */

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Base64 of RFC 4648 §4, padded to a multiple of 4 as tsig-keygen writes
 * it. EVP_DecodeBlock() alone would accept stray whitespace and count the
 * padding as zero octets; checking the text first gives exact lengths and
 * readable reasons.
 */
static int secret_decode(struct dns_tsig_key *key, const char *s, char *why,
			 size_t whylen)
{
	size_t n = strlen(s);
	size_t pad = 0;

	if (n == 0) {
		snprintf(why, whylen, "empty secret");
		return ANYDNS_ESYNTAX;
	}
	if (n % 4 != 0) {
		snprintf(why, whylen, "bad secret: Base64 length %zu is not a "
			 "multiple of 4", n);
		return ANYDNS_ESYNTAX;
	}
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++) {
		if (b64_value(s[i]) < 0) {
			snprintf(why, whylen, "bad secret: %s at offset %zu",
				 s[i] == '=' ? "misplaced padding" :
				 "invalid Base64 character", i);
			return ANYDNS_ESYNTAX;
		}
	}
	size_t dlen = n / 4 * 3 - pad;
	if (dlen > DNS_TSIG_SECRET_MAX) {
		snprintf(why, whylen, "secret longer than %d octets",
			 DNS_TSIG_SECRET_MAX);
		return ANYDNS_ESYNTAX;
	}
	uint8_t tmp[DNS_TSIG_SECRET_MAX + 3];
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) !=
	    (int)(n / 4 * 3)) {
		snprintf(why, whylen, "bad secret: not Base64");
		return ANYDNS_ESYNTAX;
	}
	memcpy(key->secret, tmp, dlen);
	key->secret_len = dlen;
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

static int key_set_name(struct dns_tsig_key *key, const char *name, char *why,
			size_t whylen)
{
	size_t len;
	int ret = dns_name_from_str(key->name, &len, name, NULL);
	if (ret != 0) {
		snprintf(why, whylen, "bad key name \"%.64s\": %s", name,
			 anydns_strerror(ret));
		return ANYDNS_ESYNTAX;
	}
	dns_name_lower(key->name);
	return 0;
}

static int key_set_alg(struct dns_tsig_key *key, const char *alg, char *why,
		       size_t whylen)
{
	if (dns_tsig_alg_from_str(alg, &key->alg) != 0) {
		snprintf(why, whylen, "unsupported algorithm \"%.64s\" (use "
			 "hmac-sha256, hmac-sha384 or hmac-sha512)", alg);
		return ANYDNS_ENOENT;
	}
	return 0;
}

int dns_tsig_key_init(struct dns_tsig_key *key, const char *name,
		      const char *alg, const char *secret_b64, char *err,
		      size_t errlen)
{
	int ret;

	memset(key, 0, sizeof(*key));
	if ((ret = key_set_name(key, name, err, errlen)) != 0 ||
	    (ret = key_set_alg(key, alg, err, errlen)) != 0 ||
	    (ret = secret_decode(key, secret_b64, err, errlen)) != 0)
		OPENSSL_cleanse(key, sizeof(*key));
	return ret;
}

const struct dns_tsig_key *dns_tsig_key_find(const struct dns_tsig_key *keys,
					     size_t n, const uint8_t *name)
{
	for (size_t i = 0; i < n; i++)
		if (dns_name_equal(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* ---- Key files ------------------------------------------------------------
 * The lexer knows BIND's comments (#, //, C-style), quoted strings (a
 * backslash keeps the next character, so "\"" stays inside; the text is
 * passed on raw, escapes and all, for the name parser) and unquoted words.
 * A comment starts only where a token could: inside an unquoted word "/"
 * and "#" are ordinary, so an unquoted Base64 secret with "//" stays whole.
 */

#define TOKEN_MAX 1024		/* a name of 255 octets as "\DDD" is 1020 */

enum tok_kind { TOK_EOF, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_SEMI };

struct token {
	enum tok_kind kind;
	unsigned line;
	char text[TOKEN_MAX + 1];
};

struct lexer {
	const char *p, *end;
	unsigned line;
	const char *file;
	char *err;
	size_t errlen;
};

static int lex_error(struct lexer *lx, unsigned line, int code,
		     const char *reason)
{
	snprintf(lx->err, lx->errlen, "%s:%u: %s", lx->file, line, reason);
	return code;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_delim(char c)
{
	return is_space(c) || c == '\n' || c == '{' || c == '}' || c == ';' ||
	       c == '"';
}

/* Control characters (NUL included) have no place in a key file. */
static bool is_bad_char(char c)
{
	unsigned char u = (unsigned char)c;
	return (u < 0x20 && !is_space(c) && c != '\n') || u == 0x7f;
}

static int bad_char(struct lexer *lx, char c)
{
	char reason[64];
	snprintf(reason, sizeof(reason), "unexpected character 0x%02x",
		 (unsigned char)c);
	return lex_error(lx, lx->line, ANYDNS_ESYNTAX, reason);
}

/* Skips white space and comments; an unterminated C comment is an error. */
static int lex_skip(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (is_space(c)) {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->end - lx->p > 1 &&
					lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->end - lx->p > 1 && lx->p[1] == '*') {
			unsigned start = lx->line;
			lx->p += 2;
			for (;;) {
				if (lx->end - lx->p < 2) {
					return lex_error(lx, start, ANYDNS_ESYNTAX,
							 "unterminated comment");
				}
				if (lx->p[0] == '*' && lx->p[1] == '/')
					break;
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p += 2;
		} else {
			break;
		}
	}
	return 0;
}

static int lex_next(struct lexer *lx, struct token *t)
{
	size_t n = 0;
	int ret = lex_skip(lx);
	if (ret != 0)
		return ret;

	t->text[0] = '\0';
	t->line = lx->line;
	if (lx->p == lx->end) {
		t->kind = TOK_EOF;
		return 0;
	}
	char c = *lx->p;
	if (c == '{' || c == '}' || c == ';') {
		t->kind = c == '{' ? TOK_LBRACE : c == '}' ? TOK_RBRACE : TOK_SEMI;
		t->text[0] = c;
		t->text[1] = '\0';
		lx->p++;
		return 0;
	}
	if (c == '"') {
		t->kind = TOK_STRING;
		lx->p++;
		for (;;) {
			if (lx->p == lx->end || *lx->p == '\n')
				return lex_error(lx, t->line, ANYDNS_ESYNTAX,
						 "unterminated string");
			c = *lx->p;
			if (c == '"')
				break;
			if (is_bad_char(c))
				return bad_char(lx, c);
			/* A backslash keeps the next character in the string,
			 * itself included, for the name parser's escapes. */
			size_t take = c == '\\' && lx->end - lx->p > 1 &&
				      lx->p[1] != '\n' ? 2 : 1;
			if (take == 2 && is_bad_char(lx->p[1]))
				return bad_char(lx, lx->p[1]);
			if (n + take > TOKEN_MAX)
				return lex_error(lx, t->line, ANYDNS_ESYNTAX,
						 "string too long");
			memcpy(t->text + n, lx->p, take);
			n += take;
			lx->p += take;
		}
		lx->p++;
		t->text[n] = '\0';
		return 0;
	}
	t->kind = TOK_WORD;
	while (lx->p < lx->end && !is_delim(*lx->p)) {
		if (is_bad_char(*lx->p))
			return bad_char(lx, *lx->p);
		if (n == TOKEN_MAX)
			return lex_error(lx, t->line, ANYDNS_ESYNTAX,
					 "word too long");
		t->text[n++] = *lx->p++;
	}
	t->text[n] = '\0';
	return 0;
}

static const char *tok_desc(const struct token *t, char *buf, size_t len)
{
	if (t->kind == TOK_EOF)
		return "end of file";
	snprintf(buf, len, "\"%.40s\"", t->text);
	return buf;
}

/* Reads the next token, which must be of the kind given. */
static int expect(struct lexer *lx, struct token *t, enum tok_kind kind,
		  const char *what)
{
	int ret = lex_next(lx, t);
	if (ret != 0)
		return ret;
	if (t->kind == kind || (kind == TOK_WORD && t->kind == TOK_STRING))
		return 0;
	char reason[128], d[48];
	snprintf(reason, sizeof(reason), "expected %s, got %s", what,
		 tok_desc(t, d, sizeof(d)));
	return lex_error(lx, t->line, ANYDNS_ESYNTAX, reason);
}

/* The clauses between the braces of one key statement; stops after the
 * closing brace, whose line it leaves in *close_line. */
static int parse_key_body(struct lexer *lx, struct token *t,
			  struct dns_tsig_key *key, unsigned *close_line)
{
	bool have_alg = false, have_secret = false;
	char reason[192], d[48];
	int ret;

	for (;;) {
		if ((ret = lex_next(lx, t)) != 0)
			return ret;
		if (t->kind == TOK_RBRACE)
			break;
		if (t->kind != TOK_WORD) {
			snprintf(reason, sizeof(reason), "expected \"algorithm\", "
				 "\"secret\" or \"}\", got %s",
				 tok_desc(t, d, sizeof(d)));
			return lex_error(lx, t->line, ANYDNS_ESYNTAX, reason);
		}
		bool is_alg = strcasecmp(t->text, "algorithm") == 0;
		if (!is_alg && strcasecmp(t->text, "secret") != 0) {
			snprintf(reason, sizeof(reason), "unknown key clause "
				 "\"%.40s\"", t->text);
			return lex_error(lx, t->line, ANYDNS_ESYNTAX, reason);
		}
		if (is_alg ? have_alg : have_secret) {
			snprintf(reason, sizeof(reason), "%s given twice",
				 is_alg ? "algorithm" : "secret");
			return lex_error(lx, t->line, ANYDNS_ESYNTAX, reason);
		}
		if ((ret = expect(lx, t, TOK_WORD, is_alg ? "an algorithm name" :
				  "a Base64 secret")) != 0)
			return ret;
		ret = is_alg ? key_set_alg(key, t->text, reason, sizeof(reason)) :
			       secret_decode(key, t->text, reason, sizeof(reason));
		if (ret != 0)
			return lex_error(lx, t->line, ret, reason);
		if (is_alg)
			have_alg = true;
		else
			have_secret = true;
		if ((ret = expect(lx, t, TOK_SEMI, "\";\"")) != 0)
			return ret;
	}
	*close_line = t->line;
	if (!have_alg || !have_secret) {
		snprintf(reason, sizeof(reason), "key has no %s",
			 !have_alg ? "algorithm" : "secret");
		return lex_error(lx, t->line, ANYDNS_ESYNTAX, reason);
	}
	return 0;
}

int dns_tsig_keys_parse(const char *text, size_t len, const char *file,
			struct dns_tsig_key **keys, size_t *n, char *err,
			size_t errlen)
{
	struct lexer lx = { text, text + len, 1, file, err, errlen };
	struct dns_tsig_key *arr = NULL;
	size_t count = 0, cap = 0;
	struct token *t = malloc(sizeof(*t));
	char reason[192], d[48];
	int ret = 0;

	*keys = NULL;
	*n = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (t == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		return ANYDNS_ENOMEM;
	}
	for (;;) {
		if ((ret = lex_next(&lx, t)) != 0)
			goto fail;
		if (t->kind == TOK_EOF)
			break;
		if (t->kind != TOK_WORD || strcasecmp(t->text, "key") != 0) {
			snprintf(reason, sizeof(reason), "expected a \"key\" "
				 "statement, got %s", tok_desc(t, d, sizeof(d)));
			ret = lex_error(&lx, t->line, ANYDNS_ESYNTAX, reason);
			goto fail;
		}
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct dns_tsig_key *na = realloc(arr, ncap * sizeof(*na));
			if (na == NULL) {
				ret = lex_error(&lx, t->line, ANYDNS_ENOMEM,
						"out of memory");
				goto fail;
			}
			arr = na;
			cap = ncap;
		}
		struct dns_tsig_key *key = &arr[count];
		memset(key, 0, sizeof(*key));
		if ((ret = expect(&lx, t, TOK_WORD, "a key name")) != 0)
			goto fail;
		if ((ret = key_set_name(key, t->text, reason, sizeof(reason))) != 0) {
			ret = lex_error(&lx, t->line, ret, reason);
			goto fail;
		}
		if (dns_tsig_key_find(arr, count, key->name) != NULL) {
			snprintf(reason, sizeof(reason), "key \"%.64s\" defined "
				 "twice", t->text);
			ret = lex_error(&lx, t->line, ANYDNS_EEXIST, reason);
			goto fail;
		}
		if ((ret = expect(&lx, t, TOK_LBRACE, "\"{\"")) != 0)
			goto fail;
		unsigned close_line;
		if ((ret = parse_key_body(&lx, t, key, &close_line)) != 0)
			goto fail;
		if ((ret = expect(&lx, t, TOK_SEMI, "\";\" after \"}\"")) != 0)
			goto fail;
		count++;
	}
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
	*keys = arr;
	*n = count;
	return 0;
fail:
	/* Secrets do not linger in freed memory. */
	if (arr != NULL)
		OPENSSL_cleanse(arr, cap * sizeof(*arr));
	free(arr);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
	return ret;
}

/* ---- HMAC ---------------------------------------------------------------- */

static EVP_MAC *hmac_impl;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

/* Fetched once for the process: a fetch takes a lock and searches the
 * provider tables. It is kept until exit. */
static void hmac_fetch(void)
{
	hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* A new HMAC computation with key, or NULL (no memory, unknown alg). */
static EVP_MAC_CTX *mac_new(const struct dns_tsig_key *key)
{
	const struct tsig_alg_info *a = alg_info(key->alg);
	if (a == NULL)
		return NULL;
	pthread_once(&hmac_once, hmac_fetch);
	if (hmac_impl == NULL)
		return NULL;
	EVP_MAC_CTX *m = EVP_MAC_CTX_new(hmac_impl);
	if (m == NULL)
		return NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)a->digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_init(m, key->secret, key->secret_len, params)) {
		EVP_MAC_CTX_free(m);
		return NULL;
	}
	return m;
}

static bool mac_put(EVP_MAC_CTX *m, const void *p, size_t n)
{
	return n == 0 || EVP_MAC_update(m, p, n) == 1;
}

static bool mac_put_u16(EVP_MAC_CTX *m, uint16_t v)
{
	uint8_t b[2];
	wire_put_u16(b, v);
	return mac_put(m, b, sizeof(b));
}

/* A MAC as a prior or request MAC is digested: size, then octets. */
static bool mac_put_prior(EVP_MAC_CTX *m, const uint8_t *mac, size_t len)
{
	return mac_put_u16(m, (uint16_t)len) && mac_put(m, mac, len);
}

/* RFC 8945 §4.3.1: the message as it was before the TSIG was added: the
 * original ID in place of the ID, ARCOUNT without the TSIG. */
static bool mac_put_message(EVP_MAC_CTX *m, const uint8_t *msg, size_t len,
			    uint16_t orig_id, uint16_t arcount)
{
	uint8_t hdr[DNS_HEADER_LEN];
	memcpy(hdr, msg, DNS_HEADER_LEN);
	wire_put_u16(hdr, orig_id);
	wire_put_u16(hdr + 10, arcount);
	return mac_put(m, hdr, sizeof(hdr)) &&
	       mac_put(m, msg + DNS_HEADER_LEN, len - DNS_HEADER_LEN);
}

static void put_time48(uint8_t b[6], uint64_t t)
{
	wire_put_u16(b, (uint16_t)(t >> 32));
	wire_put_u32(b + 2, (uint32_t)t);
}

/* RFC 8945 §4.3.3: the timers, all a later message of a stream digests. */
static bool mac_put_timers(EVP_MAC_CTX *m, uint64_t time_signed, uint16_t fudge)
{
	uint8_t b[8];
	put_time48(b, time_signed);
	wire_put_u16(b + 6, fudge);
	return mac_put(m, b, sizeof(b));
}

/* The TSIG variables of RFC 8945 §4.3.2, names in canonical form. */
struct tsig_vars {
	const uint8_t *key_name;	/* lowercase wire */
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *alg_name;	/* lowercase wire */
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
};

static bool mac_put_vars(EVP_MAC_CTX *m, const struct tsig_vars *v)
{
	uint8_t b[8];
	wire_put_u16(b, v->rclass);
	wire_put_u32(b + 2, v->ttl);
	if (!mac_put(m, v->key_name, dns_name_len(v->key_name)) ||
	    !mac_put(m, b, 6) ||
	    !mac_put(m, v->alg_name, dns_name_len(v->alg_name)) ||
	    !mac_put_timers(m, v->time_signed, v->fudge))
		return false;
	wire_put_u16(b, v->error);
	wire_put_u16(b + 2, v->other_len);
	return mac_put(m, b, 4) && mac_put(m, v->other, v->other_len);
}

static bool mac_final(EVP_MAC_CTX *m, uint8_t out[DNS_TSIG_MAC_MAX],
		      size_t *len)
{
	return EVP_MAC_final(m, out, len, DNS_TSIG_MAC_MAX) == 1;
}

/* ---- Contexts -------------------------------------------------------------
 * ctx->messages counts the messages of the exchange that were signed or
 * whose MAC verified: 0 before a client signs its request; 1 once the
 * request is signed (client) or verified (server); more for responses.
 * It picks the digest layout alike on both sides: no prior MAC for 0, the
 * request MAC and all variables for 1, the prior MAC and the timers after.
 */

void dns_tsig_ctx_init(struct dns_tsig_ctx *ctx, const struct dns_tsig_key *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	if (key != NULL) {
		dns_name_copy_lower(ctx->key_name, key->name);
		const struct tsig_alg_info *a = alg_info(key->alg);
		if (a != NULL)
			memcpy(ctx->alg_name, a->wire, sizeof(a->wire));
	}
}

static void running_free(struct dns_tsig_ctx *ctx)
{
	EVP_MAC_CTX_free(ctx->hmac);
	ctx->hmac = NULL;
}

void dns_tsig_ctx_clear(struct dns_tsig_ctx *ctx)
{
	running_free(ctx);
	OPENSSL_cleanse(ctx->mac, sizeof(ctx->mac));
	ctx->mac_len = 0;
}

/* ---- Signing --------------------------------------------------------------- */

int dns_tsig_sign(struct dns_tsig_ctx *ctx, uint8_t *buf, size_t *len,
		  size_t cap, uint64_t now)
{
	/* §5.3.2: errors about the key or the MAC go unsigned; a BADTIME
	 * answer is signed and carries our clock in Other Data. */
	bool unsigned_error = ctx->error == DNS_TSIG_BADSIG ||
			      ctx->error == DNS_TSIG_BADKEY;
	const struct tsig_alg_info *a = NULL;
	uint8_t other[6], mac[DNS_TSIG_MAC_MAX];
	size_t mac_len = 0;
	uint16_t other_len = 0;
	uint64_t time_signed = now & TSIG_TIME_MASK;
	int ret = 0;

	if (*len < DNS_HEADER_LEN || *len > cap)
		return ANYDNS_EINVAL;
	if (!unsigned_error) {
		if (ctx->key == NULL || (a = alg_info(ctx->key->alg)) == NULL)
			return ANYDNS_EINVAL;
		mac_len = a->mac_len;
	}
	uint16_t arcount = wire_get_u16(buf + 10);
	if (arcount == UINT16_MAX)
		return ANYDNS_ESPACE;
	if (ctx->error == DNS_TSIG_BADTIME) {
		/* The request's own time, so that a client whose clock is
		 * off still verifies the answer and learns ours. */
		put_time48(other, time_signed);
		other_len = sizeof(other);
		time_signed = ctx->time_signed;
	}
	if (ctx->messages == 0)		/* a client's request */
		ctx->orig_id = wire_get_u16(buf);

	size_t name_len = dns_name_len(ctx->key_name);
	size_t alg_len = dns_name_len(ctx->alg_name);
	size_t need = name_len + RR_FIXED + alg_len + TSIG_RDATA_FIXED +
		      mac_len + other_len;
	if (need > cap - *len || *len + need > DNS_MSG_MAXLEN)
		return ANYDNS_ESPACE;

	if (!unsigned_error) {
		EVP_MAC_CTX *m = mac_new(ctx->key);
		bool ok = m != NULL;
		if (ok && ctx->messages > 0)
			ok = mac_put_prior(m, ctx->mac, ctx->mac_len);
		ok = ok && mac_put_message(m, buf, *len, ctx->orig_id, arcount);
		if (ok && ctx->messages <= 1) {
			struct tsig_vars v = {
				ctx->key_name, DNS_CLASS_ANY, 0, ctx->alg_name,
				time_signed, DNS_TSIG_FUDGE, ctx->error,
				other_len, other,
			};
			ok = mac_put_vars(m, &v);
		} else if (ok) {
			ok = mac_put_timers(m, time_signed, DNS_TSIG_FUDGE);
		}
		ok = ok && mac_final(m, mac, &mac_len);
		EVP_MAC_CTX_free(m);
		if (!ok || mac_len != a->mac_len) {
			ret = ANYDNS_ENOMEM;
			goto out;
		}
	}

	struct wire_wctx w;
	wire_winit(&w, buf + *len, need);
	wire_write(&w, ctx->key_name, name_len);
	wire_write_u16(&w, DNS_TYPE_TSIG);
	wire_write_u16(&w, DNS_CLASS_ANY);
	wire_write_u32(&w, 0);
	wire_write_u16(&w, (uint16_t)(need - name_len - RR_FIXED));
	wire_write(&w, ctx->alg_name, alg_len);
	wire_write_u16(&w, (uint16_t)(time_signed >> 32));
	wire_write_u32(&w, (uint32_t)time_signed);
	wire_write_u16(&w, DNS_TSIG_FUDGE);
	wire_write_u16(&w, (uint16_t)mac_len);
	wire_write(&w, mac, mac_len);
	wire_write_u16(&w, ctx->orig_id);
	wire_write_u16(&w, ctx->error);
	wire_write_u16(&w, other_len);
	wire_write(&w, other, other_len);
	if (w.err != 0 || wire_wlen(&w) != need) {	/* need was miscounted */
		ret = ANYDNS_ESPACE;
		goto out;
	}
	wire_put_u16(buf + 10, (uint16_t)(arcount + 1));
	*len += need;
	if (!unsigned_error) {
		memcpy(ctx->mac, mac, mac_len);
		ctx->mac_len = mac_len;
		ctx->messages++;
	}
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}

/* ---- Reading ----------------------------------------------------------------- */

struct tsig_rr {
	uint8_t owner[DNS_NAME_MAXLEN];	/* lowercased */
	uint16_t rclass;
	uint32_t ttl;
	uint8_t alg[DNS_NAME_MAXLEN];	/* lowercased */
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t mac_len;
	const uint8_t *mac;
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
};

/*
 * Reads the TSIG RR at off, which must end msg. Names are read as any
 * name in a message (a compressed one is tolerated: what is digested is
 * the canonical form anyway). ANYDNS_EMALF for anything else.
 */
static int tsig_read(const uint8_t *msg, size_t len, size_t off,
		     struct tsig_rr *rr)
{
	struct wire_ctx c;
	size_t nlen;

	if (len < DNS_HEADER_LEN || off < DNS_HEADER_LEN || off >= len ||
	    wire_get_u16(msg + 10) == 0)
		return ANYDNS_EMALF;
	wire_init(&c, msg, len);
	wire_seek(&c, off);
	if (dns_name_read(&c, rr->owner, &nlen) != 0)
		return ANYDNS_EMALF;
	uint16_t type = wire_read_u16(&c);
	rr->rclass = wire_read_u16(&c);
	rr->ttl = wire_read_u32(&c);
	uint16_t rdlen = wire_read_u16(&c);
	if (c.err != 0 || type != DNS_TYPE_TSIG ||
	    rr->rclass != DNS_CLASS_ANY || rdlen != wire_avail(&c))
		return ANYDNS_EMALF;
	if (dns_name_read(&c, rr->alg, &nlen) != 0)
		return ANYDNS_EMALF;
	uint16_t hi = wire_read_u16(&c);
	rr->time_signed = (uint64_t)hi << 32 | wire_read_u32(&c);
	rr->fudge = wire_read_u16(&c);
	rr->mac_len = wire_read_u16(&c);
	rr->mac = wire_take(&c, rr->mac_len);
	rr->orig_id = wire_read_u16(&c);
	rr->error = wire_read_u16(&c);
	rr->other_len = wire_read_u16(&c);
	rr->other = wire_take(&c, rr->other_len);
	if (c.err != 0 || wire_avail(&c) != 0)
		return ANYDNS_EMALF;
	dns_name_lower(rr->owner);
	dns_name_lower(rr->alg);
	return 0;
}

/* RFC 8945 §5.2.2.1: a MAC longer than the hash, or shorter than both 10
 * octets and half the hash, is malformed. */
static bool mac_size_ok(const struct tsig_alg_info *a, size_t mac_len)
{
	size_t min = a->mac_len / 2 > TSIG_MIN_TRUNC ? a->mac_len / 2 :
		     TSIG_MIN_TRUNC;
	return mac_len <= a->mac_len && mac_len >= min;
}

static bool time_ok(uint64_t now, uint64_t time_signed, uint16_t fudge)
{
	uint64_t diff = now > time_signed ? now - time_signed : time_signed - now;
	return diff <= fudge;
}

/* Compares the MAC we compute with the one received, on the received
 * length (a permitted truncation), in constant time. */
static bool mac_matches(const uint8_t *mine, const struct tsig_rr *rr)
{
	return CRYPTO_memcmp(mine, rr->mac, rr->mac_len) == 0;
}

static void remember_mac(struct dns_tsig_ctx *ctx, const struct tsig_rr *rr)
{
	memcpy(ctx->mac, rr->mac, rr->mac_len);
	ctx->mac_len = rr->mac_len;
	ctx->time_signed = rr->time_signed;
	ctx->messages++;
}

static const struct tsig_alg_info *alg_by_wire(const uint8_t *name)
{
	for (size_t i = 0; i < NALGS; i++)
		if (dns_name_equal(algs[i].wire, name))
			return &algs[i];
	return NULL;
}

/* ---- Verifying -------------------------------------------------------------- */

int dns_tsig_verify_request(struct dns_tsig_ctx *ctx,
			    const struct dns_tsig_key *keys, size_t n,
			    const uint8_t *msg, size_t len, size_t tsig_offset,
			    uint64_t now)
{
	struct tsig_rr rr;
	uint8_t mac[DNS_TSIG_MAC_MAX];
	size_t mac_len;
	int ret;

	running_free(ctx);
	ctx->key = NULL;
	ctx->error = 0;
	ctx->messages = 0;
	ctx->unsigned_run = 0;
	ctx->mac_len = 0;
	/* An algorithm name no algorithm has is malformed rather than
	 * BADKEY: the error answer echoes it and must fit DNS_TSIG_MAXLEN. */
	if (tsig_read(msg, len, tsig_offset, &rr) != 0 ||
	    dns_name_len(rr.alg) > TSIG_ALG_NAME_MAX)
		return ANYDNS_EMALF;
	/* §5.3.2: even an error answer names the key and algorithm. */
	memcpy(ctx->key_name, rr.owner, dns_name_len(rr.owner));
	memcpy(ctx->alg_name, rr.alg, dns_name_len(rr.alg));
	ctx->orig_id = rr.orig_id;
	ctx->time_signed = rr.time_signed;

	/* §5.2.1: an unknown key, or a known one with another algorithm. */
	const struct dns_tsig_key *key = dns_tsig_key_find(keys, n, rr.owner);
	const struct tsig_alg_info *a = alg_by_wire(rr.alg);
	if (key == NULL || a == NULL || a->alg != key->alg) {
		ctx->error = DNS_TSIG_BADKEY;
		return ANYDNS_EBADKEY;
	}
	if (!mac_size_ok(a, rr.mac_len))
		return ANYDNS_EMALF;

	/* §5.2.2: the MAC. */
	EVP_MAC_CTX *m = mac_new(key);
	struct tsig_vars v = {
		rr.owner, rr.rclass, rr.ttl, rr.alg, rr.time_signed, rr.fudge,
		rr.error, rr.other_len, rr.other,
	};
	bool ok = m != NULL &&
		  mac_put_message(m, msg, tsig_offset, rr.orig_id,
				  (uint16_t)(wire_get_u16(msg + 10) - 1)) &&
		  mac_put_vars(m, &v) && mac_final(m, mac, &mac_len);
	EVP_MAC_CTX_free(m);
	if (!ok) {
		ret = ANYDNS_ENOMEM;
		goto out;
	}
	if (!mac_matches(mac, &rr)) {
		ctx->error = DNS_TSIG_BADSIG;
		ret = ANYDNS_EBADSIG;
		goto out;
	}
	ctx->key = key;
	remember_mac(ctx, &rr);

	/* §5.2.3: the time, only once the MAC holds (a forged request must
	 * not learn our clock from a BADTIME answer). */
	if (!time_ok(now, rr.time_signed, rr.fudge)) {
		ctx->error = DNS_TSIG_BADTIME;
		ret = ANYDNS_EBADTIME;
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}

/* §5.3.1: an unsigned message of a stream goes into the running digest,
 * which starts with the prior MAC. */
static int verify_unsigned(struct dns_tsig_ctx *ctx, const uint8_t *msg,
			   size_t len)
{
	if (ctx->messages < 2 || ctx->unsigned_run >= TSIG_MAX_UNSIGNED_RUN)
		return ANYDNS_ENOTSIG;
	if (ctx->hmac == NULL) {
		ctx->hmac = mac_new(ctx->key);
		if (ctx->hmac == NULL ||
		    !mac_put_prior(ctx->hmac, ctx->mac, ctx->mac_len)) {
			running_free(ctx);
			return ANYDNS_ENOMEM;
		}
	}
	if (!mac_put(ctx->hmac, msg, len))
		return ANYDNS_ENOMEM;
	ctx->unsigned_run++;
	return 0;
}

/* The server's TSIG error, for an answer that carries one. */
static int peer_error(uint16_t error)
{
	switch (error) {
	case DNS_TSIG_BADKEY:
		return ANYDNS_EBADKEY;
	case DNS_TSIG_BADTIME:
		return ANYDNS_EBADTIME;
	default:		/* BADSIG, BADTRUNC, codes we do not know */
		return ANYDNS_EBADSIG;
	}
}

int dns_tsig_verify_response(struct dns_tsig_ctx *ctx, const uint8_t *msg,
			     size_t len, uint64_t now)
{
	struct tsig_rr rr;
	uint8_t mac[DNS_TSIG_MAC_MAX];
	size_t mac_len;
	int ret;

	if (ctx->key == NULL || ctx->messages == 0)
		return ANYDNS_EINVAL;
	const struct tsig_alg_info *a = alg_info(ctx->key->alg);
	if (a == NULL)
		return ANYDNS_EINVAL;
	long off = dns_tsig_find(msg, len);
	if (off < 0)
		return ANYDNS_EMALF;
	if (off == 0)
		return verify_unsigned(ctx, msg, len);
	if (tsig_read(msg, len, (size_t)off, &rr) != 0)
		return ANYDNS_EMALF;

	/* §5.3.2: BADKEY and BADSIG come unsigned; nothing to verify. */
	if (rr.error != 0 && rr.mac_len == 0)
		return peer_error(rr.error);
	if (!dns_name_equal(rr.owner, ctx->key_name) ||
	    !dns_name_equal(rr.alg, ctx->alg_name))
		return ANYDNS_EBADKEY;
	if (!mac_size_ok(a, rr.mac_len))
		return ANYDNS_EMALF;

	/* The running digest if unsigned messages came before, which
	 * already holds the prior MAC. */
	EVP_MAC_CTX *m = ctx->hmac;
	ctx->hmac = NULL;
	bool ok = true;
	if (m == NULL) {
		m = mac_new(ctx->key);
		ok = m != NULL && mac_put_prior(m, ctx->mac, ctx->mac_len);
	}
	ok = ok && mac_put_message(m, msg, (size_t)off, rr.orig_id,
				   (uint16_t)(wire_get_u16(msg + 10) - 1));
	if (ok && ctx->messages == 1) {
		struct tsig_vars v = {
			rr.owner, rr.rclass, rr.ttl, rr.alg, rr.time_signed,
			rr.fudge, rr.error, rr.other_len, rr.other,
		};
		ok = mac_put_vars(m, &v);
	} else if (ok) {
		ok = mac_put_timers(m, rr.time_signed, rr.fudge);
	}
	ok = ok && mac_final(m, mac, &mac_len);
	EVP_MAC_CTX_free(m);
	if (!ok) {
		ret = ANYDNS_ENOMEM;
		goto out;
	}
	if (!mac_matches(mac, &rr)) {
		ret = ANYDNS_EBADSIG;
		goto out;
	}
	remember_mac(ctx, &rr);
	ctx->unsigned_run = 0;
	if (!time_ok(now, rr.time_signed, rr.fudge)) {
		ret = ANYDNS_EBADTIME;
		goto out;
	}
	ret = rr.error != 0 ? peer_error(rr.error) : 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}

bool dns_tsig_stream_done(const struct dns_tsig_ctx *ctx)
{
	return ctx->messages >= 2 && ctx->unsigned_run == 0;
}

/* ---- Finding ------------------------------------------------------------- */

long dns_tsig_find(const uint8_t *msg, size_t len)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t nlen;

	if (len < DNS_HEADER_LEN)
		return ANYDNS_EMALF;
	wire_init(&c, msg, len);
	wire_skip(&c, 4);
	unsigned qd = wire_read_u16(&c);
	unsigned rrs = wire_read_u16(&c);
	rrs += wire_read_u16(&c);
	rrs += wire_read_u16(&c);
	for (unsigned i = 0; i < qd; i++) {
		if (dns_name_read(&c, name, &nlen) != 0)
			return ANYDNS_EMALF;
		wire_skip(&c, 4);
	}
	size_t last = 0;
	bool last_is_tsig = false;
	for (unsigned i = 0; i < rrs; i++) {
		/* §5.1 (and §5.4): a TSIG anywhere but last is malformed. */
		if (last_is_tsig)
			return ANYDNS_EMALF;
		last = wire_offset(&c);
		if (dns_name_read(&c, name, &nlen) != 0)
			return ANYDNS_EMALF;
		last_is_tsig = wire_read_u16(&c) == DNS_TYPE_TSIG;
		wire_skip(&c, 6);
		wire_skip(&c, wire_read_u16(&c));
	}
	if (c.err != 0 || wire_avail(&c) != 0)
		return ANYDNS_EMALF;
	/* Only the additional section may hold it. */
	if (last_is_tsig && wire_get_u16(msg + 10) == 0)
		return ANYDNS_EMALF;
	return last_is_tsig ? (long)last : 0;
}
