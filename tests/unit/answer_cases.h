/*
 * The runner of the answer tests' case files (tests/unit/data/answer/
 * cases.txt and respond.txt, whose format the top of cases.txt describes),
 * shared by tests/unit/test_answer_*.c as static inline functions like
 * answer_test.h, whose query builder and response decoder it drives.
 */
#ifndef ANYDNS_TESTS_UNIT_ANSWER_CASES_H
#define ANYDNS_TESTS_UNIT_ANSWER_CASES_H

#include "answer_test.h"

/* ---- Case files ----------------------------------------------------------- */

struct at_case {
	unsigned line;			/* of the query line */
	char query[1024];
	char expect[512];
	char rr[4][AT_MAX_RR][AT_LINE];	/* expected records (no OPT) */
	unsigned n[4];
	bool edns_given;		/* an "edns" line was there */
	char edns[512];			/* its text after "edns " */
};

/* Collapses runs of blanks into one space and trims both ends. */
static inline void at_squeeze(char *s)
{
	char *d = s;
	bool blank = true;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (!blank)
				*d++ = ' ';
			blank = true;
		} else {
			*d++ = *p;
			blank = false;
		}
	}
	if (d > s && d[-1] == ' ')
		d--;
	*d = '\0';
}

/*
 * The expected OPT: the defaults (our payload, the RCODE's upper bits,
 * version 0, DO as asked, no options) changed by the keys of an "edns"
 * line: payload=N ercode=N do=N, and the options in the order they must
 * come: nsid=HEX keepalive=N expire=N ede=N. NULL on a bad key.
 */
static inline const char *at_expected_opt(char *dst, size_t cap,
					  const struct at_query *q,
					  uint16_t rcode, const char *keys)
{
	unsigned long payload = q->conf.udp_max_payload, ercode = rcode >> 4;
	unsigned long dobit = q->do_bit;
	char opts[512] = "", buf[512];
	snprintf(buf, sizeof(buf), "%s", keys);
	char *save = NULL;
	for (char *k = strtok_r(buf, " ", &save); k != NULL;
	     k = strtok_r(NULL, " ", &save)) {
		if (strncmp(k, "payload=", 8) == 0 &&
		    at_parse_uint(k + 8, UINT16_MAX, &payload))
			continue;
		if (strncmp(k, "ercode=", 7) == 0 && at_parse_uint(k + 7, 255, &ercode))
			continue;
		if (strncmp(k, "do=", 3) == 0 && at_parse_uint(k + 3, 1, &dobit))
			continue;
		if (strncmp(k, "nsid=", 5) == 0 || strncmp(k, "keepalive=", 10) == 0 ||
		    strncmp(k, "expire=", 7) == 0 || strncmp(k, "ede=", 4) == 0 ||
		    strncmp(k, "opt", 3) == 0) {
			at_cat(opts, sizeof(opts), " %s", k);
			continue;
		}
		return NULL;
	}
	dst[0] = '\0';
	at_cat(dst, cap, "payload=%lu ercode=%lu version=0 do=%lu%s", payload,
	       ercode, dobit, opts);
	return dst;
}

static inline bool at_rcode_from_str(const char *s, uint16_t *rcode)
{
	for (unsigned v = 0; v < 4096; v++) {
		char buf[16];
		if (strcmp(dns_rcode_to_str((uint16_t)v, buf), s) == 0) {
			*rcode = (uint16_t)v;
			return true;
		}
	}
	return false;
}

/*
 * Runs one case; returns true when the response is as expected, otherwise
 * prints every difference (with the response as it came) to stderr.
 */
static inline bool at_case_run(const struct zone_set *zones, const char *file,
			       const struct at_case *cs, uint8_t *out,
			       struct at_resp *r)
{
	static const char *const sec[4] = { "question", "answer", "authority",
					    "additional" };
	struct at_query q;
	struct answer_result res;
	char why[2048] = "";
	const char *problem = at_query_build(&q, cs->query);
	if (problem != NULL) {
		fprintf(stderr, "%s:%u: %s\n", file, cs->line, problem);
		return false;
	}

	/* The expect line. */
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", cs->expect);
	bool drop = false, has_len = false;
	uint16_t rcode = 0, flags = 0;
	unsigned long count[4] = { 1, 0, 0, 0 }, len = 0;
	unsigned seen = 0;
	char *save = NULL;
	for (char *k = strtok_r(buf, " ", &save); k != NULL;
	     k = strtok_r(NULL, " ", &save)) {
		if (strcmp(k, "drop") == 0) {
			drop = true;
			continue;
		}
		char *v = strtok_r(NULL, " ", &save);
		bool ok = false;
		if (v == NULL) {
			ok = false;
		} else if (strcmp(k, "rcode") == 0) {
			ok = at_rcode_from_str(v, &rcode);
			seen |= 1;
		} else if (strcmp(k, "flags") == 0) {
			ok = at_flags_from_str(v, &flags);
			seen |= 2;
		} else if (strcmp(k, "len") == 0) {
			ok = at_parse_uint(v, DNS_MSG_MAXLEN, &len);
			has_len = true;
		} else {
			int s = 0;
			while (s < 4 && strcmp(k, sec[s]) != 0)
				s++;
			ok = s < 4 && at_parse_uint(v, UINT16_MAX, &count[s]);
			if (s > 0)
				seen |= 1u << (s + 1);
		}
		if (!ok) {
			fprintf(stderr, "%s:%u: bad expect line: %s\n", file,
				cs->line, cs->expect);
			return false;
		}
	}
	if (!drop && seen != 0x1f) {
		fprintf(stderr, "%s:%u: expect needs rcode, flags, answer, authority, additional\n",
			file, cs->line);
		return false;
	}

	problem = at_answer(zones, &q, out, &res, r);
	if (problem != NULL) {
		fprintf(stderr, "%s:%u: %s\n  query %s\n", file, cs->line,
			problem, cs->query);
		return false;
	}
	if (drop || res.len == 0) {
		if (drop && res.len == 0)
			return true;
		fprintf(stderr, "%s:%u: %s\n  query %s\n", file, cs->line,
			drop ? "answered, expected no response" :
			       "no response, expected one", cs->query);
		if (!drop)
			return false;
		at_resp_print(stderr, r);
		return false;
	}

	char rbuf[16], rbuf2[16], f1[64], f2[64];
	if (at_resp_rcode(r) != rcode)
		at_cat(why, sizeof(why), "  rcode: got %s, want %s\n",
		       dns_rcode_to_str(at_resp_rcode(r), rbuf),
		       dns_rcode_to_str(rcode, rbuf2));
	if ((r->flags & AT_FLAG_MASK) != flags) {
		at_flags_str(f1, sizeof(f1), r->flags & AT_FLAG_MASK);
		at_flags_str(f2, sizeof(f2), flags);
		at_cat(why, sizeof(why), "  flags: got %s, want %s\n", f1, f2);
	}
	for (int s = 0; s < 4; s++)
		if (r->count[s] != count[s])
			at_cat(why, sizeof(why), "  %s count: got %u, want %lu\n",
			       sec[s], r->count[s], count[s]);
	if (has_len && r->len != len)
		at_cat(why, sizeof(why), "  length: got %zu, want %lu\n", r->len, len);
	if (r->count[0] == 1 &&
	    (r->qname_len != q.qname_len ||
	     memcmp(r->qname, q.qname, q.qname_len) != 0 ||
	     r->qtype != q.qtype || r->qclass != q.qclass))
		at_cat(why, sizeof(why), "  question not echoed octet for octet\n");
	for (int s = 1; s < 4; s++) {
		unsigned n = r->n[s] > cs->n[s] ? r->n[s] : cs->n[s], shown = 0;
		for (unsigned i = 0; i < n; i++) {
			const char *got = i < r->n[s] ? r->rr[s][i] : "(none)";
			const char *want = i < cs->n[s] ? cs->rr[s][i] : "(none)";
			if (strcmp(got, want) == 0)
				continue;
			if (shown++ == 4) {
				at_cat(why, sizeof(why), "  %s: more differences\n", sec[s]);
				break;
			}
			at_cat(why, sizeof(why), "  %s %u:\n    got  %s\n    want %s\n",
			       sec[s], i + 1, got, want);
		}
	}
	bool want_opt = cs->edns_given ? strcmp(cs->edns, "none") != 0 : q.edns;
	if (want_opt != r->has_opt) {
		at_cat(why, sizeof(why), "  OPT: got %s, want %s\n",
		       r->has_opt ? "one" : "none", want_opt ? "one" : "none");
	} else if (want_opt) {
		char opt[512];
		if (at_expected_opt(opt, sizeof(opt), &q, rcode,
				    cs->edns_given ? cs->edns : "") == NULL) {
			fprintf(stderr, "%s:%u: bad edns line\n", file, cs->line);
			return false;
		}
		if (strcmp(opt, r->opt) != 0)
			at_cat(why, sizeof(why), "  OPT:\n    got  %s\n    want %s\n",
			       r->opt, opt);
	}
	if (why[0] == '\0')
		return true;
	fprintf(stderr, "%s:%u: query %s\n%s  response:\n", file, cs->line,
		cs->query, why);
	at_resp_print(stderr, r);
	return false;
}

/* Copies a field of a case line, which must fit. */
static inline void at_copy(char *dst, size_t cap, const char *src,
			   const char *path, unsigned lineno)
{
	size_t n = strlen(src);
	if (n >= cap)
		fail_msg("%s:%u: line too long", path, lineno);
	memcpy(dst, src, n + 1);
}

/*
 * Runs every case of a case file: blocks that start with a "query" line,
 * then an "expect" line, then "answer", "authority", "additional" and
 * "edns" lines. Lines starting with "#" and blank lines are skipped.
 * Returns the number of cases and sets *failed to the number that failed.
 */
static inline unsigned at_run_file(const struct zone_set *zones,
				   const char *path, unsigned *failed)
{
	static const char *const sec[4] = { "question", "answer", "authority",
					    "additional" };
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	struct at_case *cs = calloc(1, sizeof(*cs));
	struct at_resp *r = calloc(1, sizeof(*r));
	uint8_t *out = malloc(DNS_MSG_MAXLEN);
	assert_non_null(cs);
	assert_non_null(r);
	assert_non_null(out);

	char line[4096];
	unsigned lineno = 0, cases = 0;
	bool open_case = false;
	*failed = 0;
	for (;;) {
		bool eof = fgets(line, sizeof(line), f) == NULL;
		if (!eof) {
			lineno++;
			if (strchr(line, '\n') == NULL && !feof(f))
				fail_msg("%s:%u: line too long", path, lineno);
			at_squeeze(line);
			if (line[0] == '\0' || line[0] == '#')
				continue;
		}
		if (eof || strncmp(line, "query ", 6) == 0) {
			if (open_case) {
				if (cs->expect[0] == '\0') {
					fprintf(stderr, "%s:%u: no expect line\n",
						path, cs->line);
					(*failed)++;
				} else if (!at_case_run(zones, path, cs, out, r)) {
					(*failed)++;
				}
				cases++;
			}
			if (eof)
				break;
			memset(cs->n, 0, sizeof(cs->n));
			cs->expect[0] = '\0';
			cs->edns_given = false;
			cs->line = lineno;
			at_copy(cs->query, sizeof(cs->query), line + 6, path, lineno);
			open_case = true;
			continue;
		}
		if (!open_case)
			fail_msg("%s:%u: line outside a case", path, lineno);
		if (strncmp(line, "expect ", 7) == 0) {
			at_copy(cs->expect, sizeof(cs->expect), line + 7, path, lineno);
			continue;
		}
		if (strncmp(line, "edns", 4) == 0 && (line[4] == ' ' || line[4] == '\0')) {
			cs->edns_given = true;
			at_copy(cs->edns, sizeof(cs->edns),
				line[4] == ' ' ? line + 5 : "", path, lineno);
			continue;
		}
		int s = 1;
		size_t klen = 0;
		for (; s < 4; s++) {
			klen = strlen(sec[s]);
			if (strncmp(line, sec[s], klen) == 0 && line[klen] == ' ')
				break;
		}
		if (s == 4)
			fail_msg("%s:%u: unknown line: %s", path, lineno, line);
		else if (cs->n[s] == AT_MAX_RR)
			fail_msg("%s:%u: too many records", path, lineno);
		else
			at_copy(cs->rr[s][cs->n[s]++], AT_LINE, line + klen + 1,
				path, lineno);
	}
	fclose(f);
	free(cs);
	free(r);
	free(out);
	return cases;
}

#endif
