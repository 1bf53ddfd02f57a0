/*
 * State shared by the files of src/answer while one response is built;
 * not part of the module's public door (answer.h).
 */
#ifndef ANYDNS_ANSWER_INTERNAL_H
#define ANYDNS_ANSWER_INTERNAL_H

#include "answer/answer.h"

#define ANSWER_ADDL_MAX 64	/* targets noted for the additional section */
/* CNAME/DNAME records followed in one zone: the target of the last one is
 * still answered if it holds data, a longer chain is left for the client to
 * continue (the same shape as Knot DNS's). */
#define ANSWER_CHAIN_MAX 5

struct answer_ctx {
	const struct answer_conf *conf;
	const struct dns_query *q;
	const struct zone *zone;	/* the zone answering, once chosen */
	struct dns_writer w;
	uint16_t flags;		/* response header flags being built */
	uint16_t rcode;		/* 12-bit RCODE */
	bool truncated;

	/* Names whose A/AAAA go to the additional section (into RDATA),
	 * with the type of the record that named them. */
	struct {
		const uint8_t *name;
		uint16_t type;
	} addl[ANSWER_ADDL_MAX];
	unsigned addl_n;
	const struct zone_node *referral_cut;	/* set by a referral */

	/* The CNAME/DNAME chain: names visited, and the next one. */
	const uint8_t *chain[ANSWER_CHAIN_MAX + 1];
	unsigned chain_n;
	bool chain_end;		/* this step may not add another alias */
	const uint8_t *next;
	uint8_t synth[ANSWER_CHAIN_MAX][DNS_NAME_MAXLEN];	/* DNAME results */
	unsigned synth_n;
	const struct zone_node *dnames[ANSWER_CHAIN_MAX];	/* DNAMEs used */
	unsigned dname_n;

	/* EDNS data decided while answering. */
	bool not_authoritative;	/* REFUSED for want of a zone: EDE 20 */
	bool expire_set;	/* SOA EXPIRE for the EDNS EXPIRE option */
	uint32_t expire;
};

/* Answers a class IN QUERY from zones into ctx (answer.c). */
void answer_in_zone(struct answer_ctx *ctx, const struct zone_set *zones);

/* Writes rs whole under owner into sec, or nothing (ANYDNS_ESPACE). */
int answer_put_rrset(struct answer_ctx *ctx, enum dns_section sec,
		     const uint8_t *owner, const struct zone_rrset *rs);

#endif
