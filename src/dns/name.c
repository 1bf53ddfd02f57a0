/*
 * Domain names in uncompressed wire form: measuring, comparing, converting
 * to and from presentation form, and reading possibly compressed names out
 * of a message. Implements RFC 1035 §2.3.4 (label and name size limits),
 * §3.1 (name wire form), §4.1.4 (compression pointers, read side), §5.1
 * (the "\X" and "\DDD" escapes of presentation form) and RFC 4034 §6.1
 * (canonical name order). Case-insensitivity is ASCII only (RFC 4343).
 */
#include <string.h>

#include "dns/dns.h"

/* Hops allowed while following pointers. The "strictly before the current
 * run" rule below already ends every chain; this only bounds the work if
 * that rule were ever relaxed. */
#define NAME_MAX_HOPS 128

static inline uint8_t lower(uint8_t c)
{
	return (unsigned)(c - 'A') < 26u ? (uint8_t)(c + ('a' - 'A')) : c;
}

size_t dns_name_len(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p != 0)
		p += 1 + *p;
	return (size_t)(p - name) + 1;
}

unsigned dns_name_labels(const uint8_t *name)
{
	unsigned n = 0;
	while (*name != 0) {
		name += 1 + *name;
		n++;
	}
	return n;
}

/* Length octets are at most 63, below 'A', so lowercasing every octet of
 * the name (length octets included) is the same as lowercasing the labels. */
void dns_name_lower(uint8_t *name)
{
	size_t len = dns_name_len(name);
	for (size_t i = 0; i < len; i++)
		name[i] = lower(name[i]);
}

size_t dns_name_copy_lower(uint8_t *dst, const uint8_t *name)
{
	size_t len = dns_name_len(name);
	for (size_t i = 0; i < len; i++)
		dst[i] = lower(name[i]);
	return len;
}

/* The same reasoning as in dns_name_lower(): two names are equal when their
 * octets are, after lowercasing. While the octets agree, both names have the
 * same shape, so b is never read past its own end. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b)
{
	size_t len = dns_name_len(a);
	for (size_t i = 0; i < len; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

bool dns_name_is_subdomain(const uint8_t *name, const uint8_t *parent)
{
	unsigned n = dns_name_labels(name);
	unsigned p = dns_name_labels(parent);
	if (n < p)
		return false;
	for (; n > p; n--)
		name += 1 + *name;
	return dns_name_equal(name, parent);
}

const uint8_t *dns_name_parent(const uint8_t *name)
{
	if (*name == 0)
		return NULL;
	return name + 1 + *name;
}

bool dns_name_is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

/* Offsets of the labels of name, leftmost first; returns their number. */
static unsigned label_offsets(const uint8_t *name, uint8_t off[DNS_NAME_MAXLABELS])
{
	unsigned n = 0;
	size_t pos = 0;
	while (name[pos] != 0 && n < DNS_NAME_MAXLABELS) {
		off[n++] = (uint8_t)pos;
		pos += 1 + name[pos];
	}
	return n;
}

static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	unsigned la = a[0], lb = b[0];
	unsigned n = la < lb ? la : lb;
	for (unsigned i = 1; i <= n; i++) {
		uint8_t ca = lower(a[i]), cb = lower(b[i]);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (la != lb)
		return la < lb ? -1 : 1;
	return 0;
}

int dns_name_cmp_canonical(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNS_NAME_MAXLABELS], ob[DNS_NAME_MAXLABELS];
	unsigned na = label_offsets(a, oa);
	unsigned nb = label_offsets(b, ob);

	while (na > 0 && nb > 0) {
		int r = label_cmp(a + oa[--na], b + ob[--nb]);
		if (r != 0)
			return r;
	}
	if (na != nb)
		return na < nb ? -1 : 1;
	return 0;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int dns_name_from_str(uint8_t *dst, size_t *len, const char *str,
		      const uint8_t *origin)
{
	size_t n = 0;		/* octets written */
	size_t lab = 0;		/* offset of the current label's length octet */
	const char *s = str;
	int ret = 0;

	*len = 0;
	if (s[0] == '.' && s[1] == '\0') {
		dst[0] = 0;
		*len = 1;
		return 0;
	}
	if (s[0] == '\0')
		return ANYDNS_ELABEL;

	dst[n++] = 0;
	for (;;) {
		char ch = *s;
		if (ch == '\0' || ch == '.') {
			if (n - lab - 1 == 0) {
				ret = ANYDNS_ELABEL;
				goto out;
			}
			dst[lab] = (uint8_t)(n - lab - 1);
			if (ch == '\0' || s[1] == '\0')
				break;
			s++;
			lab = n;
			/* Room for this length octet, one label octet and the
			 * root: a name that needs more is over 255 octets. */
			if (n + 2 >= DNS_NAME_MAXLEN) {
				ret = ANYDNS_ENAME;
				goto out;
			}
			dst[n++] = 0;
			continue;
		}

		uint8_t octet;
		if (ch == '\\') {
			if (is_digit(s[1])) {
				if (!is_digit(s[2]) || !is_digit(s[3])) {
					ret = ANYDNS_ESYNTAX;
					goto out;
				}
				unsigned v = (unsigned)(s[1] - '0') * 100 +
					     (unsigned)(s[2] - '0') * 10 +
					     (unsigned)(s[3] - '0');
				if (v > 255) {
					ret = ANYDNS_ESYNTAX;
					goto out;
				}
				octet = (uint8_t)v;
				s += 4;
			} else if (s[1] == '\0') {
				ret = ANYDNS_ESYNTAX;
				goto out;
			} else {
				octet = (uint8_t)s[1];
				s += 2;
			}
		} else {
			octet = (uint8_t)ch;
			s++;
		}
		if (n - lab - 1 == DNS_LABEL_MAXLEN) {
			ret = ANYDNS_ELABEL;
			goto out;
		}
		if (n + 1 >= DNS_NAME_MAXLEN) {	/* keep one octet for the root */
			ret = ANYDNS_ENAME;
			goto out;
		}
		dst[n++] = octet;
	}

	if (*s == '.') {		/* absolute: ends with the root label */
		dst[n++] = 0;
	} else if (origin == NULL) {
		dst[n++] = 0;
	} else {
		size_t olen = dns_name_len(origin);
		if (n + olen > DNS_NAME_MAXLEN) {
			ret = ANYDNS_ENAME;
			goto out;
		}
		memcpy(dst + n, origin, olen);
		n += olen;
	}
	*len = n;
out:
	return ret;
}

/* Characters with a meaning in zone files, written as "\X". */
static bool needs_backslash(uint8_t c)
{
	switch (c) {
	case '.': case '\\': case '"': case '(': case ')': case ';':
	case '@': case '$': case ' ':
		return true;
	default:
		return false;
	}
}

size_t dns_name_to_str(char *dst, const uint8_t *name)
{
	char *p = dst;

	if (*name == 0) {
		*p++ = '.';
		*p = '\0';
		return 1;
	}
	while (*name != 0) {
		unsigned l = *name++;
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = name[i];
			if (needs_backslash(c)) {
				*p++ = '\\';
				*p++ = (char)c;
			} else if (c < 0x21 || c > 0x7e) {
				*p++ = '\\';
				*p++ = (char)('0' + c / 100);
				*p++ = (char)('0' + c / 10 % 10);
				*p++ = (char)('0' + c % 10);
			} else {
				*p++ = (char)c;
			}
		}
		*p++ = '.';
		name += l;
	}
	*p = '\0';
	return (size_t)(p - dst);
}

/*
 * A pointer must point before the start of the run of labels it ends (the
 * name's own start, or the target of the previous pointer). That is
 * stricter than "before the pointer octet" and still accepts every name a
 * real encoder produces (it points at earlier names); it makes each hop go
 * strictly backwards, so no chain can loop.
 */
int dns_name_read(struct wire_ctx *c, uint8_t *dst, size_t *len)
{
	struct wire_ctx r = *c;
	size_t run_start = wire_offset(c);
	size_t n = 0;
	unsigned hops = 0;
	bool jumped = false;
	int ret;

	*len = 0;
	for (;;) {
		uint8_t l = wire_read_u8(&r);
		if (r.err != 0) {
			ret = r.err;
			goto fail;
		}
		if (l == 0)
			break;
		switch (l & 0xc0) {
		case 0x00: {
			/* The label, its length octet and the root must fit. */
			if (n + 1 + l + 1 > DNS_NAME_MAXLEN) {
				ret = ANYDNS_ENAME;
				goto fail;
			}
			const uint8_t *p = wire_take(&r, l);
			if (p == NULL) {
				ret = ANYDNS_ETRUNC;
				goto fail;
			}
			dst[n] = l;
			memcpy(dst + n + 1, p, l);
			n += 1 + (size_t)l;
			break;
		}
		case 0xc0: {
			size_t target = (size_t)(l & 0x3f) << 8;
			target |= wire_read_u8(&r);
			if (r.err != 0) {
				ret = r.err;
				goto fail;
			}
			if (target >= run_start || ++hops > NAME_MAX_HOPS) {
				ret = ANYDNS_ECOMPR;
				goto fail;
			}
			if (!jumped) {
				c->pos = r.pos;
				jumped = true;
			}
			run_start = target;
			wire_seek(&r, target);
			break;
		}
		default:		/* 0x40 (RFC 6891 extended), 0x80: unknown */
			ret = ANYDNS_ELABEL;
			goto fail;
		}
	}
	dst[n++] = 0;
	if (!jumped)
		c->pos = r.pos;
	*len = n;
	return 0;
fail:
	wire_fail(c, ret);
	return ret;
}
