/*
 * One project-wide error enum. Every function that can fail returns 0 or one
 * of these negative codes; system errors keep their errno value (negated) so
 * strerror-style messages stay exact; protocol and data errors have their own
 * codes from -10000 up (far from any errno). anydns_strerror() names each.
 */
#ifndef ANYDNS_LIB_ERRCODE_H
#define ANYDNS_LIB_ERRCODE_H

#include <errno.h>

enum anydns_err {
	ANYDNS_EOK = 0,
	ANYDNS_ENOMEM = -ENOMEM,
	ANYDNS_EINVAL = -EINVAL,
	ANYDNS_ERANGE = -ERANGE,
	ANYDNS_ENOENT = -ENOENT,
	ANYDNS_EEXIST = -EEXIST,
	ANYDNS_EIO = -EIO,
	ANYDNS_EAGAIN = -EAGAIN,

	ANYDNS_ERRBASE = -10000,
	ANYDNS_EMALF = ANYDNS_ERRBASE,	/* malformed input */
	ANYDNS_ETRUNC,			/* input ends before the item does */
	ANYDNS_ETRAIL,			/* bytes left after the last item */
	ANYDNS_ELABEL,			/* label longer than 63 octets */
	ANYDNS_ENAME,			/* name longer than 255 octets */
	ANYDNS_ECOMPR,			/* bad compression pointer */
	ANYDNS_ESPACE,			/* output buffer too small */
	ANYDNS_EDROP,			/* message to be dropped, not answered */
	ANYDNS_ESYNTAX,			/* syntax error in a text format */
	ANYDNS_EZONE,			/* zone fails a semantic check */
	ANYDNS_ENOSOA,			/* zone has no SOA at its apex */
	ANYDNS_EOUTZONE,		/* record outside the zone */
	ANYDNS_ECONFIG,			/* invalid configuration */
	ANYDNS_EBADSIG,			/* TSIG MAC does not verify */
	ANYDNS_EBADKEY,			/* TSIG key unknown or not allowed */
	ANYDNS_EBADTIME,		/* TSIG time outside the fudge */
	ANYDNS_ENOTSIG,			/* TSIG expected but missing */
	ANYDNS_EXFR,			/* broken zone transfer stream */
	ANYDNS_EREFUSED,		/* the peer answered with an error RCODE */
	ANYDNS_ETOOBIG,			/* over a configured size limit */
	ANYDNS_EJOURNAL,		/* journal does not reach that serial */
	ANYDNS_ERRLAST,
};

/* A static string describing code (0 or negative); never NULL. */
const char *anydns_strerror(int code);

#endif
