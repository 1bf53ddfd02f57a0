/*
 * The transfer policy as the workers read it: finding a zone's policy by
 * apex, matching a request's source against an ACL entry's prefix (RFC
 * 9103 §9 access control by address), and freeing a finished answer; and
 * the form addresses take in the module's logs and error reasons.
 *
 * Zone order: xfr_policy.zones is sorted by memcmp() of the lowercase wire
 * apex over min(length of both) octets. Wire names are prefix-free (each
 * label says its length and the root label ends the name), so two names
 * that agree over the shorter length are the same name, and that order is
 * a total order; a policy built with qsort() over memcmp() of the zero
 * padded apex arrays sorts the same way.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfr/internal.h"

static int apex_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t la = dns_name_len(a), lb = dns_name_len(b);
	return memcmp(a, b, la < lb ? la : lb);
}

const struct xfr_zone_policy *xfr_policy_find(const struct xfr_policy *p,
					      const uint8_t *lapex)
{
	if (p == NULL)
		return NULL;
	size_t lo = 0, hi = p->zone_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = apex_cmp(p->zones[mid].apex, lapex);
		if (c == 0)
			return &p->zones[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether the first bits of a and b agree. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a[full] & mask) == (b[full] & mask);
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				      0xff, 0xff };

bool xfr_acl_match_addr(const struct xfr_acl *acl, const struct sockaddr *sa)
{
	const uint8_t *addr;
	sa_family_t family;

	if (acl == NULL || sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		addr = (const uint8_t *)&sin->sin_addr;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)sa;
		addr = sin6->sin6_addr.s6_addr;
		family = AF_INET6;
		/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d:
		 * an IPv4 entry must still hold them. */
		if (acl->family == AF_INET &&
		    memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
			addr += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	if (family != acl->family)
		return false;
	unsigned max = family == AF_INET ? 32 : 128;
	unsigned bits = acl->prefix_len > max ? max : acl->prefix_len;
	return prefix_match(addr, acl->addr, bits);
}

void xfr_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, len, "%s#%u", ip, port);
}

void xfr_out_free(struct xfr_out *out)
{
	if (out == NULL)
		return;
	free(out->buf);
	memset(out, 0, sizeof(*out));
}
