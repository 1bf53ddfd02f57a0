/*
 * What the transfer tests (test_xfr_in.c, test_xfr_pull.c) share, as
 * static inline functions because every .c file beside the tests is
 * linked into every test: records of the zone example. given as
 * master-file text (parsed with libzscanner, so cases stay readable),
 * written into a message's answer section as a primary writes them (the
 * dns writer compresses the names in RDATA) or built into a zone, and the
 * look-up of an A record in a zone. Included after <cmocka.h>.
 *
 * xt_parse() and xt_put_answers() use no cmocka assert and no static
 * storage: the fake primary of test_xfr_pull.c calls them in its thread.
 */
#ifndef ANYDNS_TESTS_UNIT_XFR_TEST_H
#define ANYDNS_TESTS_UNIT_XFR_TEST_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include "dns/dns.h"
#include "zone/zone.h"

#define XT_ORIGIN "example."
#define XT_MAX_RRS 32

struct xt_rr {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[512];
};

struct xt_rrs {
	struct xt_rr rr[XT_MAX_RRS];
	unsigned n;
	int errors;	/* bad text, too many records, RDATA too long */
};

static inline void xt_on_record(zs_scanner_t *s)
{
	struct xt_rrs *t = s->process.data;
	if (t->n == XT_MAX_RRS || s->r_data_length > sizeof(t->rr[0].rdata)) {
		t->errors++;
		return;
	}
	struct xt_rr *r = &t->rr[t->n++];
	memcpy(r->owner, s->r_owner, s->r_owner_length);
	r->type = s->r_type;
	r->rclass = s->r_class;
	r->ttl = s->r_ttl;
	r->rdlen = (uint16_t)s->r_data_length;
	memcpy(r->rdata, s->r_data, s->r_data_length);
}

static inline void xt_on_error(zs_scanner_t *s)
{
	struct xt_rrs *t = s->process.data;
	fprintf(stderr, "zone text line %lu: %s\n",
		(unsigned long)s->line_counter, zs_strerror(s->error.code));
	t->errors++;
}

/* The records of text (origin example., TTL 3600) into *t: 0, or -1 when
 * any of them cannot be read or kept. */
static inline int xt_parse(const char *text, struct xt_rrs *t)
{
	zs_scanner_t *s = malloc(sizeof(*s));
	memset(t, 0, sizeof(*t));
	if (s == NULL || zs_init(s, XT_ORIGIN, DNS_CLASS_IN, 3600) != 0) {
		free(s);
		return -1;
	}
	if (zs_set_input_string(s, text, strlen(text)) != 0 ||
	    zs_set_processing(s, xt_on_record, xt_on_error, t) != 0)
		t->errors++;
	else
		zs_parse_all(s);
	zs_deinit(s);
	free(s);
	return t->errors == 0 ? 0 : -1;
}

/* The records of text (NULL: none) appended to w's answer section: 0, or
 * -1 when the text does not parse (nothing written) or a record does not
 * fit (the others are written). */
static inline int xt_put_answers(struct dns_writer *w, const char *text)
{
	struct xt_rrs *t = malloc(sizeof(*t));
	int ret = -1;
	if (t != NULL && xt_parse(text != NULL ? text : "", t) == 0) {
		ret = 0;
		for (unsigned i = 0; i < t->n; i++)
			if (dns_writer_rr(w, DNS_SECTION_ANSWER, t->rr[i].owner,
					  t->rr[i].type, t->rr[i].rclass,
					  t->rr[i].ttl, t->rr[i].rdata,
					  t->rr[i].rdlen) != 0)
				ret = -1;
	}
	free(t);
	return ret;
}

/* A zone of example. from text; fails the test when it does not build. */
static inline struct zone *xt_zone(const char *text)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t len;
	struct xt_rrs *t = malloc(sizeof(*t));
	assert_non_null(t);
	assert_int_equal(dns_name_from_str(apex, &len, XT_ORIGIN, NULL), 0);
	assert_int_equal(xt_parse(text, t), 0);
	struct zone_builder *b = zone_builder_new(apex, NULL, NULL);
	assert_non_null(b);
	for (unsigned i = 0; i < t->n; i++)
		assert_int_equal(zone_builder_add(b, t->rr[i].owner,
						  t->rr[i].type, t->rr[i].ttl,
						  t->rr[i].rdata, t->rr[i].rdlen,
						  NULL, 0), 0);
	free(t);
	struct zone *z = NULL;
	assert_int_equal(zone_builder_finish(b, &z), 0);
	return z;
}

/* Whether z has the A record name (presentation form) → addr (dotted). */
static inline bool xt_has_a(const struct zone *z, const char *name,
			    const char *addr)
{
	uint8_t n[DNS_NAME_MAXLEN];
	size_t len;
	assert_int_equal(dns_name_from_str(n, &len, name, NULL), 0);
	const struct zone_node *node = zone_find(z, n, len);
	const struct zone_rrset *rs =
		node != NULL ? zone_node_rrset(node, DNS_TYPE_A) : NULL;
	if (rs == NULL)
		return false;
	uint8_t want[4];
	assert_int_equal(inet_pton(AF_INET, addr, want), 1);
	struct zone_rr_iter it;
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rr_iter_init(&it, rs);
	while (zone_rr_next(&it, &rd, &rdlen))
		if (rdlen == 4 && memcmp(rd, want, 4) == 0)
			return true;
	return false;
}

#endif
