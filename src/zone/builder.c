/*
 * The zone builder: collects records in any order, runs the semantic checks
 * and freezes an immutable zone into one arena block. Implements RFC 1034
 * §4.2.1 and RFC 2181 §6 (SOA and NS at the apex, zone cuts, glue), RFC 2181
 * §5.2 (one TTL per RRset), §10.1 (CNAME alone at its name, except the
 * DNSSEC types of RFC 4035 §2.5), RFC 6672 §2.4 (DNAME), RFC 4592 §2.2.2 and
 * §4.2-4.3 (empty non-terminals, wildcards without NS or DNAME), RFC 4034
 * §6.1-6.3 (canonical name order, canonical RDATA form and order, which
 * also defines which records are duplicates) and RFC 6895 §3.1 (OPT and
 * meta-types never live in a zone).
 *
 * While building, nodes, RRsets and records sit in growable index-linked
 * arrays and names and RDATA in a bump pool, so adding a record costs one
 * hash lookup and no malloc of its own. The frozen zone is laid out in one
 * exactly sized block: zone, nodes, node index, hash table, RRsets, RDATA,
 * names; all builder memory is released afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sys/mman.h>

#include "lib/hash.h"
#include "lib/wire.h"
#include "zone/zone.h"

#define NONE UINT32_MAX
#define POOL_BLOCK (4 * 1024 * 1024)
/* Builders holding more than this hand their freed pages back to the
 * system right away: a big zone's transient state would otherwise stay
 * resident in the heap next to the frozen zone. */
#define TRIM_THRESHOLD (16 * 1024 * 1024)

/* Internal state bit kept beside the public node flags while checking. */
#define BELOW_DNAME (1u << 15)

struct brec {
	const uint8_t *rdata;	/* as given; canonical form follows if canon */
	uint32_t next;		/* next record of the RRset */
	uint16_t len;
	bool canon;		/* canonical form differs and is stored */
};

struct brrset {
	uint32_t next;		/* next RRset of the node, by ascending type */
	uint32_t head, tail;	/* record list */
	uint32_t count;
	uint32_t ttl;		/* of the first record */
	uint32_t line;		/* of the first record */
	uint32_t file;		/* index into files, or NONE */
	uint16_t type;
};

struct bnode {
	const uint8_t *name;	/* lowercase wire name, in the pool */
	uint32_t rrsets;	/* first RRset or NONE (empty non-terminal) */
	uint32_t parent;	/* set by add_empty_nonterminals() */
	uint8_t name_len;
};

struct zone_builder {
	uint8_t origin[DNS_NAME_MAXLEN];
	size_t origin_len;
	zone_report_fn report;
	void *arg;

	struct arena pool;	/* blocks of names and RDATA */
	uint8_t *pool_pos;
	size_t pool_left;

	struct bnode *nodes;
	uint32_t node_count, node_cap;
	/* Open addressing; a slot is the low 32 bits of the name's hash
	 * above the node index + 1 (0: empty), so probes and rehashing
	 * rarely touch the nodes. */
	uint64_t *table;
	size_t table_mask;
	uint32_t last_node;	/* records tend to come grouped by owner */

	struct brrset *rrsets;
	uint32_t rrset_count, rrset_cap;
	struct brec *recs;
	uint32_t rec_count, rec_cap;

	char **files;
	uint32_t file_count, file_cap;
	uint32_t last_file;

	size_t live_records;	/* not dropped as duplicates */
	size_t rdata_octets;	/* of those, 2 + RDLENGTH each */
	size_t name_octets;	/* of all nodes */

	size_t errors;
	bool broken;		/* out of memory: only freeing is left */
	uint8_t scratch[65535];	/* canonical form of the RDATA being added */
};

static void problem(struct zone_builder *b, const struct brrset *rs,
		   bool is_error, const char *msg)
{
	if (is_error)
		b->errors++;
	if (b->report == NULL)
		return;
	const char *file = NULL;
	unsigned long line = 0;
	if (rs != NULL) {
		file = rs->file == NONE ? NULL : b->files[rs->file];
		line = rs->line;
	}
	b->report(b->arg, file, line, is_error, msg);
}

static void problem_type(struct zone_builder *b, const struct brrset *rs,
			const char *fmt)
{
	char tbuf[16], msg[96];
	snprintf(msg, sizeof(msg), fmt, dns_rrtype_to_str(rs->type, tbuf));
	problem(b, rs, true, msg);
}

/* Asks for huge pages under a large block about to be filled at random:
 * fewer page faults while building, fewer TLB misses while answering. */
static void want_huge_pages(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	enum { PAGE = 4096, HUGE = 2 * 1024 * 1024 };
	if (len < 2 * HUGE)
		return;
	uintptr_t start = ((uintptr_t)p + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)(PAGE - 1);
	(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

/* arr (of elem-sized items) grown beyond *cap, or NULL with arr intact. */
static void *grow(void *arr, uint32_t *cap, size_t elem)
{
	uint64_t ncap = *cap ? (uint64_t)*cap * 2 : 64;
	if (ncap > NONE - 1)
		ncap = NONE - 1;
	if (ncap <= *cap)
		return NULL;
	void *p = realloc(arr, (size_t)ncap * elem);
	if (p == NULL)
		return NULL;
	want_huge_pages(p, (size_t)ncap * elem);
	*cap = (uint32_t)ncap;
	return p;
}

/* n octets from the pool, unaligned: the builder keeps only byte strings. */
static uint8_t *pool_take(struct zone_builder *b, size_t n)
{
	if (n > b->pool_left) {
		size_t block = n > POOL_BLOCK ? n : POOL_BLOCK;
		b->pool_pos = arena_alloc(&b->pool, block);
		if (b->pool_pos == NULL) {
			b->pool_left = 0;
			return NULL;
		}
		want_huge_pages(b->pool_pos, block);
		b->pool_left = block;
	}
	uint8_t *p = b->pool_pos;
	b->pool_pos += n;
	b->pool_left -= n;
	return p;
}

struct zone_builder *zone_builder_new(const uint8_t *origin,
				      zone_report_fn report, void *arg)
{
	struct zone_builder *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->origin_len = dns_name_copy_lower(b->origin, origin);
	b->report = report;
	b->arg = arg;
	arena_init(&b->pool, 0);
	b->last_node = NONE;
	b->last_file = NONE;
	b->table_mask = 1023;
	b->table = calloc(b->table_mask + 1, sizeof(*b->table));
	if (b->table == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

void zone_builder_free(struct zone_builder *b)
{
	if (b == NULL)
		return;
	size_t held = arena_size(&b->pool) +
		      (size_t)b->node_cap * sizeof(*b->nodes) +
		      (size_t)b->rrset_cap * sizeof(*b->rrsets) +
		      (size_t)b->rec_cap * sizeof(*b->recs);
	arena_free(&b->pool);
	free(b->nodes);
	free(b->table);
	free(b->rrsets);
	free(b->recs);
	for (uint32_t i = 0; i < b->file_count; i++)
		free(b->files[i]);
	free(b->files);
	free(b);
#ifdef __GLIBC__
	if (held > TRIM_THRESHOLD)
		malloc_trim(0);
#else
	(void)held;
#endif
}

/* ---- Adding --------------------------------------------------------------- */

static uint32_t file_index(struct zone_builder *b, const char *file)
{
	if (file == NULL)
		return NONE;
	if (b->last_file != NONE && strcmp(b->files[b->last_file], file) == 0)
		return b->last_file;
	for (uint32_t i = 0; i < b->file_count; i++) {
		if (strcmp(b->files[i], file) == 0) {
			b->last_file = i;
			return i;
		}
	}
	if (b->file_count == b->file_cap) {
		char **files = grow(b->files, &b->file_cap, sizeof(*files));
		if (files == NULL)
			return NONE - 1;
		b->files = files;
	}
	char *copy = strdup(file);
	if (copy == NULL)
		return NONE - 1;
	b->files[b->file_count] = copy;
	b->last_file = b->file_count++;
	return b->last_file;
}

static int table_grow(struct zone_builder *b)
{
	size_t mask = b->table_mask * 2 + 1;
	uint64_t *t = calloc(mask + 1, sizeof(*t));
	if (t == NULL)
		return ANYDNS_ENOMEM;
	want_huge_pages(t, (mask + 1) * sizeof(*t));
	for (size_t i = 0; i <= b->table_mask; i++) {
		if (b->table[i] == 0)
			continue;
		size_t s = (b->table[i] >> 32) & mask;
		while (t[s] != 0)
			s = (s + 1) & mask;
		t[s] = b->table[i];
	}
	free(b->table);
	b->table = t;
	b->table_mask = mask;
	return 0;
}

/* The node of lname, created if absent; NONE when out of memory. A new
 * node keeps lname: it must live in the pool or be copied (copy set). */
static uint32_t node_get(struct zone_builder *b, const uint8_t *lname,
			 size_t len, bool copy)
{
	uint64_t tag = hash_bytes(lname, len) & UINT32_MAX;
	size_t s = tag & b->table_mask;
	for (; b->table[s] != 0; s = (s + 1) & b->table_mask) {
		if (b->table[s] >> 32 != tag)
			continue;
		uint32_t idx = (uint32_t)b->table[s] - 1;
		const struct bnode *n = &b->nodes[idx];
		if (n->name_len == len && memcmp(n->name, lname, len) == 0)
			return idx;
	}
	if (b->node_count == b->node_cap) {
		struct bnode *nodes = grow(b->nodes, &b->node_cap, sizeof(*nodes));
		if (nodes == NULL)
			goto nomem;
		b->nodes = nodes;
	}
	if (copy) {
		uint8_t *p = pool_take(b, len);
		if (p == NULL)
			goto nomem;
		memcpy(p, lname, len);
		lname = p;
	}
	uint32_t idx = b->node_count++;
	b->nodes[idx] = (struct bnode){ .name = lname, .rrsets = NONE,
					.parent = NONE, .name_len = (uint8_t)len };
	b->name_octets += len;
	b->table[s] = tag << 32 | (idx + 1);
	if ((size_t)b->node_count * 2 > b->table_mask && table_grow(b) != 0)
		goto nomem;
	return idx;
nomem:
	b->broken = true;
	return NONE;
}

static void lower_name_at(const uint8_t *name, size_t offset, bool compr,
			  void *arg)
{
	(void)name;
	(void)compr;
	dns_name_lower((uint8_t *)arg + offset);
}

/* Whether RDATA must be lowercased for its canonical form (RFC 4034 §6.2)
 * and differs from it; the lowercased copy is left in b->scratch. */
static bool needs_canon(struct zone_builder *b, uint16_t type,
			const uint8_t *rdata, uint16_t len)
{
	const struct dns_rrtype_desc *d = dns_rrtype_desc(type);
	if (d == NULL || !d->lower_in_canonical)
		return false;
	bool upper = false;
	for (uint16_t i = 0; i < len && !upper; i++)
		upper = rdata[i] >= 'A' && rdata[i] <= 'Z';
	if (!upper)
		return false;
	memcpy(b->scratch, rdata, len);
	if (dns_rdata_names(type, rdata, len, lower_name_at, b->scratch) != 0)
		return false;
	return memcmp(b->scratch, rdata, len) != 0;
}

/* RFC 6895 §3.1: OPT and the meta-types only appear in messages. */
static bool type_allowed(uint16_t type)
{
	return type != 0 && type != DNS_TYPE_OPT && (type < 128 || type > 255);
}

int zone_builder_add(struct zone_builder *b, const uint8_t *owner,
		     uint16_t type, uint32_t ttl, const uint8_t *rdata,
		     uint16_t rdlen, const char *file, unsigned long line)
{
	if (b->broken)
		return ANYDNS_ENOMEM;
	uint32_t fidx = file_index(b, file);
	if (fidx == NONE - 1)
		goto nomem;
	struct brrset where = { .file = fidx, .type = type,
				.line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line };
	if (!dns_name_is_subdomain(owner, b->origin)) {
		problem(b, &where, true, "record outside the zone");
		return 0;
	}
	if (!type_allowed(type)) {
		problem_type(b, &where, "type %s not allowed in a zone");
		return 0;
	}
	if (dns_rdata_check(type, rdata, rdlen) != 0) {
		problem(b, &where, true, "malformed RDATA");
		return 0;
	}

	uint8_t lname[DNS_NAME_MAXLEN];
	size_t len = dns_name_copy_lower(lname, owner);
	uint32_t ni = b->last_node;
	if (ni == NONE || b->nodes[ni].name_len != len ||
	    memcmp(b->nodes[ni].name, lname, len) != 0) {
		ni = node_get(b, lname, len, true);
		if (ni == NONE)
			goto nomem;
		b->last_node = ni;
	}

	/* The node's RRsets stay sorted by type; a node has few. */
	uint32_t prev = NONE, cur = b->nodes[ni].rrsets;
	while (cur != NONE && b->rrsets[cur].type < type) {
		prev = cur;
		cur = b->rrsets[cur].next;
	}
	struct brrset *rs;
	if (cur != NONE && b->rrsets[cur].type == type) {
		rs = &b->rrsets[cur];
		/* RRSIGs covering different types legitimately differ
		 * (RFC 4034 §3): they are no RRset in the RFC 2181 sense. */
		if (rs->ttl != ttl && type != DNS_TYPE_RRSIG) {
			char msg[64];
			snprintf(msg, sizeof(msg), "TTL mismatch, using %u",
				 rs->ttl);
			problem(b, &where, false, msg);
		}
	} else {
		if (b->rrset_count == b->rrset_cap) {
			struct brrset *r = grow(b->rrsets, &b->rrset_cap, sizeof(*r));
			if (r == NULL)
				goto nomem;
			b->rrsets = r;
		}
		uint32_t ri = b->rrset_count++;
		rs = &b->rrsets[ri];
		*rs = where;
		rs->ttl = ttl;
		rs->head = NONE;
		rs->tail = NONE;
		rs->count = 0;
		rs->next = cur;
		if (prev == NONE)
			b->nodes[ni].rrsets = ri;
		else
			b->rrsets[prev].next = ri;
	}

	bool canon = needs_canon(b, type, rdata, rdlen);
	uint8_t *copy = pool_take(b, canon ? 2 * (size_t)rdlen : rdlen);
	if (copy == NULL && rdlen > 0)
		goto nomem;
	if (rdlen > 0) {
		memcpy(copy, rdata, rdlen);
		if (canon)
			memcpy(copy + rdlen, b->scratch, rdlen);
	}
	if (b->rec_count == b->rec_cap) {
		struct brec *recs = grow(b->recs, &b->rec_cap, sizeof(*recs));
		if (recs == NULL)
			goto nomem;
		b->recs = recs;
	}
	uint32_t qi = b->rec_count++;
	b->recs[qi] = (struct brec){ .rdata = copy, .next = NONE, .len = rdlen,
				     .canon = canon };
	if (rs->tail == NONE)
		rs->head = qi;
	else
		b->recs[rs->tail].next = qi;
	rs->tail = qi;
	rs->count++;
	b->live_records++;
	b->rdata_octets += 2 + (size_t)rdlen;
	return 0;
nomem:
	b->broken = true;
	return ANYDNS_ENOMEM;
}

/* ---- Canonical order ------------------------------------------------------- */

static const uint8_t *rec_canon(const struct brec *r)
{
	return r->canon ? r->rdata + r->len : r->rdata;
}

/* RFC 4034 §6.3; equal records keep the order they were added in, so the
 * first of a set of duplicates is the one kept. */
static int rec_cmp(const void *pa, const void *pb)
{
	const struct brec *a = *(const struct brec *const *)pa;
	const struct brec *b = *(const struct brec *const *)pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(rec_canon(a), rec_canon(b), n) : 0;
	if (c != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a < b ? -1 : a > b;
}

static bool rec_same(const struct brec *a, const struct brec *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(rec_canon(a), rec_canon(b), a->len) == 0);
}

/* Sorts the records of every RRset and drops duplicates. */
static int sort_records(struct zone_builder *b)
{
	struct brec **v = NULL;
	uint32_t cap = 0;
	for (uint32_t i = 0; i < b->rrset_count; i++) {
		struct brrset *rs = &b->rrsets[i];
		if (rs->count < 2)
			continue;
		if (rs->count > cap) {
			struct brec **nv = realloc(v, rs->count * sizeof(*v));
			if (nv == NULL) {
				free(v);
				return ANYDNS_ENOMEM;
			}
			v = nv;
			cap = rs->count;
		}
		uint32_t n = 0;
		for (uint32_t r = rs->head; r != NONE; r = b->recs[r].next)
			v[n++] = &b->recs[r];
		qsort(v, n, sizeof(*v), rec_cmp);
		uint32_t kept = 1;
		rs->head = (uint32_t)(v[0] - b->recs);
		rs->tail = rs->head;
		for (uint32_t k = 1; k < n; k++) {
			if (rec_same(v[k], &b->recs[rs->tail])) {
				b->live_records--;
				b->rdata_octets -= 2 + (size_t)v[k]->len;
				continue;
			}
			uint32_t r = (uint32_t)(v[k] - b->recs);
			b->recs[rs->tail].next = r;
			rs->tail = r;
			kept++;
		}
		b->recs[rs->tail].next = NONE;
		rs->count = kept;
	}
	free(v);
	return 0;
}

/* Adds the apex and every missing ancestor between it and an owner as an
 * empty non-terminal (RFC 4592 §2.2.2), and links every node to its
 * parent on the way. Returns the apex or NONE when out of memory. */
static uint32_t add_empty_nonterminals(struct zone_builder *b)
{
	/* The origin is copied: it is not in the pool. */
	uint32_t apex = node_get(b, b->origin, b->origin_len, true);
	if (apex == NONE)
		return NONE;
	for (uint32_t i = 0; i < b->node_count; i++) {
		if (i == apex || b->nodes[i].parent != NONE)
			continue;
		uint32_t x = i;
		const uint8_t *name = b->nodes[i].name;
		size_t len = b->nodes[i].name_len;
		for (;;) {
			len -= (size_t)name[0] + 1;
			name += name[0] + 1;
			uint32_t before = b->node_count;
			/* A parent's name is a suffix of its child's. */
			uint32_t p = node_get(b, name, len, false);
			if (p == NONE)
				return NONE;
			b->nodes[x].parent = p;
			if (b->node_count == before || p == apex)
				break;	/* its ancestors are or will be done */
			x = p;
		}
	}
	return apex;
}

/* A child in the sort of siblings: the first octets of its first label
 * decide most comparisons without touching the name. */
struct kid {
	uint64_t key;
	const struct bnode *node;
};

static uint64_t label_key(const uint8_t *name)
{
	uint64_t k = 0;
	for (unsigned i = 0; i < 8; i++)
		k = k << 8 | (i < name[0] ? name[1 + i] : 0);
	return k;
}

/* First labels of two sibling names in RFC 4034 §6.1 order. Keys that
 * differ order the labels right (a label that ended sorts first, as its
 * padding is 0); equal keys need the labels themselves. */
static int kid_cmp(const void *pa, const void *pb)
{
	const struct kid *ka = pa, *kb = pb;
	if (ka->key != kb->key)
		return ka->key < kb->key ? -1 : 1;
	const uint8_t *a = ka->node->name, *b = kb->node->name;
	size_t n = a[0] < b[0] ? a[0] : b[0];
	int c = memcmp(a + 1, b + 1, n);
	if (c != 0)
		return c;
	return (int)a[0] - (int)b[0];
}

struct order {
	uint32_t *seq;		/* canonical position -> node */
	uint32_t *pos;		/* node -> canonical position */
	uint32_t *flags;	/* by node: zone_node_flag bits and BELOW_DNAME */
};

static void order_free(struct order *o)
{
	free(o->seq);
	free(o->pos);
	free(o->flags);
}

/*
 * Canonical order is a pre-order walk of the name tree with the children
 * of each node sorted by their first label, so only first labels are ever
 * compared.
 */
static int order_nodes(struct zone_builder *b, uint32_t apex, struct order *o)
{
	int ret = ANYDNS_ENOMEM;
	uint32_t n = b->node_count;
	uint32_t *start = calloc((size_t)n + 1, sizeof(*start));
	struct kid *kids = malloc((size_t)n * sizeof(*kids));
	o->seq = malloc((size_t)n * sizeof(*o->seq));
	o->pos = malloc((size_t)n * sizeof(*o->pos));
	o->flags = calloc(n, sizeof(*o->flags));
	if (start == NULL || kids == NULL || o->seq == NULL || o->pos == NULL ||
	    o->flags == NULL)
		goto out;

	for (uint32_t i = 0; i < n; i++)
		if (i != apex)
			start[b->nodes[i].parent + 1]++;
	for (uint32_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	/* Fill by running offsets kept in pos, reused here as a cursor. */
	memcpy(o->pos, start, (size_t)n * sizeof(*o->pos));
	for (uint32_t i = 0; i < n; i++) {
		if (i == apex)
			continue;
		struct kid *k = &kids[o->pos[b->nodes[i].parent]++];
		k->node = &b->nodes[i];
		k->key = label_key(b->nodes[i].name);
	}
	for (uint32_t i = 0; i < n; i++)
		if (start[i + 1] - start[i] > 1)
			qsort(kids + start[i], start[i + 1] - start[i],
			      sizeof(*kids), kid_cmp);

	/* Iterative pre-order walk; seq doubles as the stack from its end,
	 * which never overtakes the output written from its start. */
	uint32_t out_n = 0, top = n;
	o->seq[--top] = apex;
	while (top < n) {
		uint32_t x = o->seq[top++];
		o->pos[x] = out_n;
		o->seq[out_n++] = x;
		for (uint32_t k = start[x + 1]; k > start[x]; k--)
			o->seq[--top] = (uint32_t)(kids[k - 1].node - b->nodes);
	}
	ret = 0;
out:
	free(start);
	free(kids);
	return ret;
}

/* ---- Semantic checks ------------------------------------------------------- */

static bool glue_type(uint16_t t)
{
	return t == DNS_TYPE_A || t == DNS_TYPE_AAAA;
}

static bool cut_type(uint16_t t)
{
	return glue_type(t) || t == DNS_TYPE_NS || t == DNS_TYPE_DS ||
	       t == DNS_TYPE_RRSIG || t == DNS_TYPE_NSEC;
}

/* Checks one node, whose parent is already done, and sets its flags. */
static void check_node(struct zone_builder *b, struct order *o, uint32_t x,
		       bool *has_soa)
{
	const struct bnode *nd = &b->nodes[x];
	bool apex = nd->parent == NONE;
	uint32_t pf = apex ? 0 : o->flags[nd->parent];
	uint32_t f = 0;
	if (apex)
		f |= ZONE_NODE_APEX;
	if (pf & (ZONE_NODE_DELEG | ZONE_NODE_NONAUTH))
		f |= ZONE_NODE_NONAUTH;
	if (pf & (ZONE_NODE_DNAME | BELOW_DNAME))
		f |= BELOW_DNAME;
	if (dns_name_is_wildcard(nd->name))
		f |= ZONE_NODE_WILDCARD;

	const struct brrset *first = NULL, *cname = NULL, *dname = NULL,
			     *other = NULL, *ns = NULL, *soa = NULL;
	unsigned rrset_n = 0;
	for (uint32_t r = nd->rrsets; r != NONE; r = b->rrsets[r].next) {
		const struct brrset *rs = &b->rrsets[r];
		rrset_n++;
		if (first == NULL)
			first = rs;
		if (rs->count > UINT16_MAX)
			problem_type(b, rs, "more than 65535 %s records at a name");
		switch (rs->type) {
		case DNS_TYPE_CNAME:
			cname = rs;
			break;
		case DNS_TYPE_DNAME:
			dname = rs;
			break;
		case DNS_TYPE_RRSIG:
		case DNS_TYPE_NSEC:
			break;
		case DNS_TYPE_SOA:
			soa = rs;
			if (!apex)
				problem(b, rs, true, "SOA record not at the zone apex");
			else if (rs->count > 1)
				problem(b, rs, true, "more than one SOA record");
			other = other ? other : rs;
			break;
		case DNS_TYPE_DS:
			if (apex)
				problem(b, rs, true, "DS record at the zone apex");
			other = other ? other : rs;
			break;
		case DNS_TYPE_NS:
			ns = rs;
			other = other ? other : rs;
			break;
		default:
			other = other ? other : rs;
			break;
		}
	}
	if (rrset_n > UINT16_MAX)
		problem(b, first, true, "too many RRsets at a name");
	if (apex) {
		*has_soa = soa != NULL;
		if (soa == NULL)
			problem(b, NULL, true, "no SOA at the zone apex");
		if (ns == NULL)
			problem(b, soa, true, "no NS records at the zone apex");
	}

	if (cname != NULL) {
		f |= ZONE_NODE_CNAME;
		if (cname->count > 1)
			problem(b, cname, true, "more than one CNAME record");
		if (apex)
			problem(b, cname, true, "CNAME at the zone apex");
		else if (other != NULL)
			problem(b, cname, true, "CNAME and other data");
	}
	if (dname != NULL) {
		f |= ZONE_NODE_DNAME;
		if (dname->count > 1)
			problem(b, dname, true, "more than one DNAME record");
		if (cname != NULL)
			problem(b, dname, true, "DNAME and CNAME at the same name");
		if (f & ZONE_NODE_WILDCARD)
			problem(b, dname, true, "DNAME at a wildcard name");
	}
	if (ns != NULL && (f & ZONE_NODE_WILDCARD))
		problem(b, ns, true, "NS at a wildcard name");
	if (!apex && ns != NULL && !(f & ZONE_NODE_NONAUTH))
		f |= ZONE_NODE_DELEG;

	if ((f & BELOW_DNAME) && first != NULL) {
		problem(b, first, true, "record below a DNAME");
	} else if (f & (ZONE_NODE_DELEG | ZONE_NODE_NONAUTH)) {
		for (uint32_t r = nd->rrsets; r != NONE; r = b->rrsets[r].next) {
			uint16_t t = b->rrsets[r].type;
			if ((f & ZONE_NODE_DELEG) ? !cut_type(t) : !glue_type(t)) {
				problem(b, &b->rrsets[r], true,
				       "non-glue record below a delegation");
				break;
			}
		}
	}
	o->flags[x] = f;
}

/* ---- Freezing ------------------------------------------------------------ */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint32_t soa_serial(const struct zone_rrset *soa)
{
	struct wire_ctx c;
	uint8_t name[DNS_NAME_MAXLEN];
	size_t len;
	wire_init(&c, soa->rdata + 2, wire_get_u16(soa->rdata));
	dns_name_read(&c, name, &len);	/* MNAME */
	dns_name_read(&c, name, &len);	/* RNAME */
	return wire_read_u32(&c);
}

/*
 * Inserts the nodes into the exact-match table. The slots are spread over
 * a large table at random: each one is fetched a few nodes ahead, so the
 * memory waits overlap instead of adding up.
 */
static void fill_table(const struct zone_node **table, size_t mask,
		       const struct zone_node *zn, uint32_t n)
{
	enum { AHEAD = 16 };
	size_t slot[AHEAD];
	for (uint32_t k = 0; k < n + AHEAD; k++) {
		/* Node k - AHEAD goes in before node k takes its ring entry. */
		if (k >= AHEAD) {
			size_t s = slot[k % AHEAD];
			while (table[s] != NULL)
				s = (s + 1) & mask;
			table[s] = &zn[k - AHEAD];
		}
		if (k < n) {
			size_t s = hash_bytes(zn[k].name, zn[k].name_len) & mask;
			__builtin_prefetch(&table[s], 1);
			slot[k % AHEAD] = s;
		}
	}
}

static int freeze(struct zone_builder *b, const struct order *o,
		  struct zone **out)
{
	uint32_t n = b->node_count;
	/* Every RRset has a record left: only duplicates were dropped. */
	size_t rrsets = b->rrset_count, rdata = b->rdata_octets,
	       names = b->name_octets;
	size_t slots = 2;
	while (slots < 2 * (size_t)n)
		slots *= 2;

	size_t off_nodes = align8(sizeof(struct zone));
	size_t off_index = off_nodes + align8((size_t)n * sizeof(struct zone_node));
	size_t off_table = off_index + (size_t)n * sizeof(struct zone_node *);
	size_t off_rrsets = off_table + slots * sizeof(struct zone_node *);
	size_t off_rdata = off_rrsets + rrsets * sizeof(struct zone_rrset);
	size_t off_names = off_rdata + rdata;
	size_t total = off_names + names;

	struct arena a;
	arena_init(&a, 4096);
	uint8_t *block = arena_alloc(&a, total);
	if (block == NULL)
		return ANYDNS_ENOMEM;
	want_huge_pages(block, total);
	/* Nodes are written whole below; the rest must start zeroed. */
	memset(block, 0, off_nodes);
	memset(block + off_table, 0, off_rrsets - off_table);
	struct zone *z = (struct zone *)block;
	struct zone_node *zn = (struct zone_node *)(block + off_nodes);
	const struct zone_node **index = (const struct zone_node **)(block + off_index);
	const struct zone_node **table = (const struct zone_node **)(block + off_table);
	struct zone_rrset *zr = (struct zone_rrset *)(block + off_rrsets);
	uint8_t *rd = block + off_rdata;
	uint8_t *nm = block + off_names;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t x = o->seq[k];
		const struct bnode *bn = &b->nodes[x];
		struct zone_node *node = &zn[k];
		memcpy(nm, bn->name, bn->name_len);
		node->name = nm;
		nm += bn->name_len;
		node->name_len = bn->name_len;
		node->index = k;
		node->flags = (uint16_t)(o->flags[x] & 0xffff & ~BELOW_DNAME);
		node->wildcard = NULL;	/* a child "*" comes later */
		node->rrset_count = 0;
		if (bn->parent != NONE) {
			struct zone_node *p = &zn[o->pos[bn->parent]];
			node->parent = p;
			node->labels = (uint8_t)(p->labels + 1);
			if (node->flags & ZONE_NODE_WILDCARD)
				p->wildcard = node;
		} else {
			node->parent = NULL;
			node->labels = (uint8_t)dns_name_labels(bn->name);
		}
		node->rrsets = zr;
		for (uint32_t r = bn->rrsets; r != NONE; r = b->rrsets[r].next) {
			const struct brrset *rs = &b->rrsets[r];
			*zr = (struct zone_rrset){ .type = rs->type,
				.count = (uint16_t)rs->count, .ttl = rs->ttl,
				.rdata = rd };
			for (uint32_t q = rs->head; q != NONE; q = b->recs[q].next) {
				const struct brec *rec = &b->recs[q];
				wire_put_u16(rd, rec->len);
				if (rec->len > 0)
					memcpy(rd + 2, rec->rdata, rec->len);
				rd += 2 + (size_t)rec->len;
			}
			zr++;
			node->rrset_count++;
		}
		if (node->rrset_count == 0)
			node->rrsets = NULL;
		index[k] = node;
	}
	fill_table(table, slots - 1, zn, n);

	z->apex = &zn[0];
	z->apex_name = zn[0].name;
	z->apex_len = zn[0].name_len;
	dns_name_to_str(z->name_str, z->apex_name);
	z->soa = zone_node_rrset(z->apex, DNS_TYPE_SOA);
	z->serial = soa_serial(z->soa);
	z->nodes = index;
	z->node_count = n;
	z->rr_count = b->live_records;
	z->table = table;
	z->table_mask = slots - 1;
	z->source = NULL;
	z->loaded_at = time(NULL);
	z->refs = 0;
	z->arena = a;
	*out = z;
	return 0;
}

int zone_builder_finish(struct zone_builder *b, struct zone **out)
{
	struct order o = { 0 };
	int ret = ANYDNS_ENOMEM;
	if (b->broken)
		goto out;
	ret = sort_records(b);
	if (ret != 0)
		goto out;
	uint32_t apex = add_empty_nonterminals(b);
	ret = ANYDNS_ENOMEM;
	if (apex == NONE)
		goto out;
	ret = order_nodes(b, apex, &o);
	if (ret != 0)
		goto out;

	bool has_soa = false;
	for (uint32_t k = 0; k < b->node_count; k++)
		check_node(b, &o, o.seq[k], &has_soa);
	if (!has_soa)
		ret = ANYDNS_ENOSOA;
	else if (b->errors > 0)
		ret = ANYDNS_EZONE;
	else
		ret = freeze(b, &o, out);
out:
	order_free(&o);
	zone_builder_free(b);
	return ret;
}
