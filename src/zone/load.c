/*
 * Master-file loading (RFC 1035 §5) with libzscanner, which handles the
 * syntax: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE (relative names resolved
 * against the including file's directory) and the RFC 3597 §5 generic
 * RDATA form. libzscanner has no $GENERATE (a BIND extension); it is
 * expanded here, see the comment above on_error(). Records go into a zone
 * builder; every problem is logged as "file:line: message" with the zone
 * named, the first error is kept for the caller, and any error means no
 * zone at all.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libzscanner/scanner.h>

#include "lib/log.h"
#include "zone/zone.h"

#define LOAD_DEFAULT_TTL 3600
/* A file that is not a zone at all fails on every line: stop early. */
#define LOAD_MAX_ERRORS 100

struct load_ctx {
	struct zone_builder *b;
	const char *path;
	const char *zone;	/* presentation form, for logs */
	char *errbuf;
	size_t errlen;
	unsigned long errors;	/* every error, whoever found it */
	unsigned long syntax_errors;
	int fatal;		/* ANYDNS_ENOMEM once the builder broke */
};

/* Logs one problem naming the zone; keeps the first error's text. */
static void load_report(void *arg, const char *file, unsigned long line,
			bool is_error, const char *msg)
{
	struct load_ctx *ctx = arg;
	if (file == NULL)
		file = ctx->path;
	char at[32] = "";
	if (line > 0)
		snprintf(at, sizeof(at), ":%lu", line);
	if (!is_error) {
		log_warn("zone %s: %s%s: %s", ctx->zone, file, at, msg);
		return;
	}
	if (ctx->errors++ == LOAD_MAX_ERRORS) {
		log_err("zone %s: too many errors, giving up", ctx->zone);
		return;
	}
	if (ctx->errors > LOAD_MAX_ERRORS)
		return;
	log_err("zone %s: %s%s: %s", ctx->zone, file, at, msg);
	if (ctx->errors == 1 && ctx->errbuf != NULL && ctx->errlen > 0)
		snprintf(ctx->errbuf, ctx->errlen, "%s%s: %s", file, at, msg);
}

static bool must_stop(const struct load_ctx *ctx)
{
	return ctx->fatal != 0 || ctx->errors > LOAD_MAX_ERRORS;
}

static void class_name(char *buf, size_t len, uint16_t rclass)
{
	switch (rclass) {
	case DNS_CLASS_CH:
		snprintf(buf, len, "CH");
		break;
	case DNS_CLASS_HS:
		snprintf(buf, len, "HS");
		break;
	default:
		snprintf(buf, len, "CLASS%u", rclass);
		break;
	}
}

static void add_record(struct load_ctx *ctx, zs_scanner_t *s,
		       const char *file, unsigned long line)
{
	/* libzscanner 3 parses class IN only (see foreign_class()); this
	 * guards against one that parses more. */
	if (s->r_class != DNS_CLASS_IN) {
		char cls[16], msg[64];
		class_name(cls, sizeof(cls), s->r_class);
		snprintf(msg, sizeof(msg), "class %s record, only IN is served",
			 cls);
		load_report(ctx, file, line, true, msg);
		return;
	}
	int ret = zone_builder_add(ctx->b, s->r_owner, s->r_type, s->r_ttl,
				   s->r_data, (uint16_t)s->r_data_length,
				   file, line);
	if (ret != 0) {
		ctx->fatal = ret;
		s->state = ZS_STATE_STOP;
	}
}

static void on_record(zs_scanner_t *s)
{
	struct load_ctx *ctx = s->process.data;
	/* $INCLUDE runs a nested scanner: stopping it alone would let the
	 * including file go on, so every scanner checks. */
	if (must_stop(ctx)) {
		s->state = ZS_STATE_STOP;
		return;
	}
	add_record(ctx, s, s->file.name, s->line_counter);
}

/* ---- $GENERATE --------------------------------------------------------------
 * BIND's "$GENERATE range lhs [ttl] [class] type rhs": for each value of
 * range (start-stop[/step]) the rest of the line is emitted with "$"
 * replaced by the value and "${offset[,width[,base]]}" by the value plus
 * offset, zero-padded to width, in base d, o, x or X; "\$" and "$$" stand
 * for a literal "$". (BIND's nibble bases n and N are not supported.) The
 * emitted lines are parsed by a second scanner and their records
 * attributed to the directive's line.
 */
#define GEN_MAX_COUNT (1u << 20)	/* values per directive */
#define GEN_BATCH (64 * 1024)		/* octets of text per parse */

struct gen_ctx {
	struct load_ctx *load;
	const char *file;
	unsigned long line;
	bool failed;
};

struct gen_text {
	char *p;
	size_t len, cap;
};

static bool text_put(struct gen_text *t, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : GEN_BATCH + 1024;
		while (cap < t->len + n)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (p == NULL)
			return false;
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	return true;
}

static void gen_report(struct gen_ctx *g, const char *msg)
{
	char text[160];
	snprintf(text, sizeof(text), "$GENERATE: %s", msg);
	g->load->syntax_errors++;
	g->failed = true;
	load_report(g->load, g->file, g->line, true, text);
}

static void gen_record(zs_scanner_t *ss)
{
	struct gen_ctx *g = ss->process.data;
	if (must_stop(g->load)) {
		ss->state = ZS_STATE_STOP;
		return;
	}
	add_record(g->load, ss, g->file, g->line);
}

static void gen_error(zs_scanner_t *ss)
{
	struct gen_ctx *g = ss->process.data;
	gen_report(g, zs_strerror(ss->error.code));
	/* One broken template fails every line alike. */
	ss->state = ZS_STATE_STOP;
}

/* Parses an unsigned decimal at *p (at most max); false if none. */
static bool parse_num(const char **p, const char *end, uint64_t max,
		      uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > max)
			return false;
	}
	if (q == *p)
		return false;
	*p = q;
	*out = v;
	return true;
}

/* Appends the template with value substituted; an error text or NULL. */
static const char *gen_line(struct gen_text *t, const char *tp, size_t tlen,
			    uint64_t value)
{
	const char *p = tp, *end = tp + tlen;
	while (p < end) {
		const char *run = p;
		while (p < end && *p != '$' && *p != '\\')
			p++;
		if (!text_put(t, run, (size_t)(p - run)))
			return "out of memory";
		if (p == end)
			break;
		if (*p == '\\') {
			/* An escape and what it escapes are copied as they are. */
			size_t n = p + 1 < end ? 2 : 1;
			if (!text_put(t, p, n))
				return "out of memory";
			p += n;
			continue;
		}
		p++;
		if (p < end && *p == '$') {
			/* "$$", BIND's older spelling of a literal "$". */
			if (!text_put(t, "\\$", 2))
				return "out of memory";
			p++;
			continue;
		}
		int64_t offset = 0;
		uint64_t width = 0;
		char base = 'd';
		if (p < end && *p == '{') {
			p++;
			bool neg = p < end && *p == '-';
			if (p < end && (*p == '-' || *p == '+'))
				p++;
			uint64_t off;
			if (!parse_num(&p, end, UINT32_MAX, &off))
				return "bad offset in ${...}";
			offset = neg ? -(int64_t)off : (int64_t)off;
			if (p < end && *p == ',') {
				p++;
				if (!parse_num(&p, end, 255, &width))
					return "bad width in ${...}";
				if (p < end && *p == ',') {
					p++;
					if (p == end || strchr("doxX", *p) == NULL)
						return "bad base in ${...} (d, o, x or X)";
					base = *p++;
				}
			}
			if (p == end || *p != '}')
				return "unterminated ${...}";
			p++;
		}
		int64_t v = (int64_t)value + offset;
		if (v < 0)
			return "negative value";
		char num[300];
		const char *fmt = base == 'o' ? "%0*llo" : base == 'x' ? "%0*llx" :
				  base == 'X' ? "%0*llX" : "%0*llu";
		int n = snprintf(num, sizeof(num), fmt, (int)width,
				 (unsigned long long)v);
		if (!text_put(t, num, (size_t)n))
			return "out of memory";
	}
	return text_put(t, "\n", 1) ? NULL : "out of memory";
}

/* Parses the emitted lines with a scanner set like the one that met the
 * directive (origin, default TTL and class). */
static void gen_parse(struct gen_ctx *g, zs_scanner_t *ss,
		      const zs_scanner_t *s, struct gen_text *t)
{
	char origin[DNS_NAME_STRLEN];
	dns_name_to_str(origin, s->zone_origin);
	if (zs_init(ss, origin, s->default_class, s->default_ttl) != 0 ||
	    zs_set_input_string(ss, t->p, t->len) != 0 ||
	    zs_set_processing(ss, gen_record, gen_error, g) != 0) {
		gen_report(g, zs_strerror(ss->error.code));
	} else if (zs_parse_all(ss) != 0 && !g->failed &&
		   g->load->fatal == 0 && !must_stop(g->load)) {
		gen_report(g, zs_strerror(ss->error.code));
	}
	zs_deinit(ss);
	t->len = 0;
}

/* Line number line (from 1) of the scanner's input and its length. The
 * input is the whole file, mapped; a directive line is short. */
static const char *input_line(const zs_scanner_t *s, uint64_t line,
			      size_t *len)
{
	const char *p = s->input.start, *end = s->input.end;
	if (p == NULL || end == NULL || line == 0)
		return NULL;
	for (uint64_t l = 1; l < line; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return NULL;
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl != NULL ? nl : end) - p);
	return p;
}

/* Expands the $GENERATE directive on the scanner's current line; false if
 * the line holds no such directive. */
static bool expand_generate(struct load_ctx *ctx, zs_scanner_t *s)
{
	size_t len;
	const char *p = input_line(s, s->line_counter, &len);
	if (p == NULL || len < 10 || strncasecmp(p, "$GENERATE", 9) != 0 ||
	    (p[9] != ' ' && p[9] != '\t'))
		return false;
	const char *end = p + len;
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	p += 9;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;

	struct gen_ctx g = { .load = ctx, .file = s->file.name,
			     .line = s->line_counter };
	uint64_t first, last, step = 1;
	bool ok = parse_num(&p, end, INT32_MAX, &first) && p < end &&
		  *p++ == '-' && parse_num(&p, end, INT32_MAX, &last);
	if (ok && p < end && *p == '/') {
		p++;
		ok = parse_num(&p, end, INT32_MAX, &step) && step > 0;
	}
	if (!ok || first > last || p == end || (*p != ' ' && *p != '\t')) {
		gen_report(&g, "bad range, expected start-stop[/step]");
		return true;
	}
	if ((last - first) / step >= GEN_MAX_COUNT) {
		gen_report(&g, "range too large");
		return true;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end) {
		gen_report(&g, "missing template");
		return true;
	}

	struct gen_text t = { 0 };
	zs_scanner_t *ss = malloc(sizeof(*ss));
	if (ss == NULL) {
		ctx->fatal = ANYDNS_ENOMEM;
		return true;
	}
	for (uint64_t v = first; v <= last && !g.failed && !must_stop(ctx);
	     v += step) {
		const char *err = gen_line(&t, p, (size_t)(end - p), v);
		if (err != NULL) {
			gen_report(&g, err);
			break;
		}
		if (t.len >= GEN_BATCH || v + step > last)
			gen_parse(&g, ss, s, &t);
	}
	free(ss);
	free(t.p);
	return true;
}

/* libzscanner knows class IN only and calls a record of another class one
 * of an unsupported type; the line says whether a class was the cause.
 * The owner, if the line has one, is skipped: it could read "ch". */
static bool foreign_class(const zs_scanner_t *s, char *cls, size_t clen)
{
	size_t len;
	const char *p = input_line(s, s->line_counter, &len);
	if (p == NULL)
		return false;
	const char *end = p + len;
	bool owner = p < end && *p != ' ' && *p != '\t';
	while (p < end && *p != ';' && *p != '"' && *p != '(') {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *tok = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != ';' &&
		       *p != '"' && *p != '(')
			p++;
		size_t n = (size_t)(p - tok);
		if (owner) {
			owner = false;
			continue;
		}
		bool numeric = n > 5 && strncasecmp(tok, "CLASS", 5) == 0 &&
			       strspn(tok + 5, "0123456789") == n - 5;
		if (n == 0 || n >= clen ||
		    (!numeric && !(n == 2 && (strncasecmp(tok, "CH", 2) == 0 ||
					      strncasecmp(tok, "HS", 2) == 0 ||
					      strncasecmp(tok, "CS", 2) == 0)) &&
		     !(n == 3 && strncasecmp(tok, "ANY", 3) == 0) &&
		     !(n == 4 && strncasecmp(tok, "NONE", 4) == 0)))
			continue;
		for (size_t i = 0; i < n; i++)
			cls[i] = (char)toupper((unsigned char)tok[i]);
		cls[n] = '\0';
		return true;
	}
	return false;
}

/*
 * libzscanner stops at a directive it does not know. When that directive
 * is $GENERATE, it is expanded here and the scanner told to go on: the
 * error is uncounted and no longer fatal, after which it skips to the
 * next line (libzscanner 3.x behaviour, covered by test_zone_load).
 */
static void on_error(zs_scanner_t *s)
{
	struct load_ctx *ctx = s->process.data;
	if (s->error.code == ZS_BAD_DIRECTIVE && expand_generate(ctx, s)) {
		s->error.counter--;
		s->error.fatal = false;
		if (must_stop(ctx))
			s->state = ZS_STATE_STOP;
		return;
	}
	char cls[16];
	if (s->error.code == ZS_UNSUPPORTED_TYPE &&
	    foreign_class(s, cls, sizeof(cls))) {
		char msg[64];
		snprintf(msg, sizeof(msg), "class %s record, only IN is served",
			 cls);
		load_report(ctx, s->file.name, s->line_counter, true, msg);
	} else {
		ctx->syntax_errors++;
		load_report(ctx, s->file.name, s->line_counter, true,
			    zs_strerror(s->error.code));
	}
	if (must_stop(ctx))
		s->state = ZS_STATE_STOP;
}

/* The file must exist and be a regular file: libzscanner only says
 * "file open error", the operator wants the reason. */
static int check_file(struct load_ctx *ctx)
{
	char reason[128];
	int fd = open(ctx->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, sizeof(reason), "%s", anydns_strerror(-errno));
	} else {
		struct stat st;
		bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		close(fd);
		if (ok)
			return 0;
		snprintf(reason, sizeof(reason), "not a regular file");
	}
	log_err("zone %s: cannot open %s: %s", ctx->zone, ctx->path, reason);
	if (ctx->errbuf != NULL && ctx->errlen > 0)
		snprintf(ctx->errbuf, ctx->errlen, "cannot open %s: %s",
			 ctx->path, reason);
	return ANYDNS_ENOENT;
}

int zone_load_file(const uint8_t *origin, const char *path, struct zone **out,
		   char *errbuf, size_t errlen)
{
	char zone_str[DNS_NAME_STRLEN];
	dns_name_to_str(zone_str, origin);
	struct load_ctx ctx = { .path = path, .zone = zone_str,
				.errbuf = errbuf, .errlen = errlen };
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	int ret = check_file(&ctx);
	if (ret != 0)
		return ret;

	struct zone *z = NULL;
	zs_scanner_t *s = malloc(sizeof(*s));
	ctx.b = zone_builder_new(origin, load_report, &ctx);
	if (s == NULL || ctx.b == NULL) {
		free(s);
		zone_builder_free(ctx.b);
		return ANYDNS_ENOMEM;
	}
	if (zs_init(s, zone_str, DNS_CLASS_IN, LOAD_DEFAULT_TTL) != 0) {
		load_report(&ctx, NULL, 0, true, zs_strerror(s->error.code));
		zs_deinit(s);
		ret = ANYDNS_ESYNTAX;
		goto out;
	}
	if (zs_set_input_file(s, path) != 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot open %s: %s", path,
			 zs_strerror(s->error.code));
		log_err("zone %s: %s", zone_str, msg);
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "%s", msg);
		zs_deinit(s);
		ret = ANYDNS_ENOENT;
		goto out;
	}
	zs_set_processing(s, on_record, on_error, &ctx);
	if (zs_parse_all(s) != 0 && ctx.errors == 0 && ctx.fatal == 0) {
		/* Failed without telling the error callback. */
		ctx.syntax_errors++;
		load_report(&ctx, s->file.name, s->line_counter, true,
			    zs_strerror(s->error.code));
	}
	zs_deinit(s);

	/* Semantic checks make sense unless records went missing for syntax
	 * or the parse was cut short. */
	if (ctx.fatal != 0)
		ret = ctx.fatal;
	else if (ctx.syntax_errors > 0)
		ret = ANYDNS_ESYNTAX;
	else if (must_stop(&ctx))
		ret = ANYDNS_EZONE;
	if (ret != 0)
		goto out;
	ret = zone_builder_finish(ctx.b, &z);
	ctx.b = NULL;
	if (ret == 0 && ctx.errors > 0) {
		/* Errors the builder did not see: records of other classes. */
		zone_free(z);
		ret = ANYDNS_EZONE;
	}
	if (ret != 0)
		goto out;
	z->source = strdup(path);
	if (z->source == NULL) {
		zone_free(z);
		ret = ANYDNS_ENOMEM;
		goto out;
	}
	log_debug("zone %s: loaded %s, serial %u, %zu records", zone_str, path,
		  z->serial, z->rr_count);
	*out = z;
out:
	free(s);
	zone_builder_free(ctx.b);
	return ret;
}
