/*
 * Messages for the project-wide error codes of errcode.h.
 */
#include <string.h>

#include "lib/errcode.h"

static const char *const own_messages[] = {
	[ANYDNS_EMALF - ANYDNS_ERRBASE] = "malformed data",
	[ANYDNS_ETRUNC - ANYDNS_ERRBASE] = "data truncated",
	[ANYDNS_ETRAIL - ANYDNS_ERRBASE] = "trailing data",
	[ANYDNS_ELABEL - ANYDNS_ERRBASE] = "label too long",
	[ANYDNS_ENAME - ANYDNS_ERRBASE] = "name too long",
	[ANYDNS_ECOMPR - ANYDNS_ERRBASE] = "bad compression pointer",
	[ANYDNS_ESPACE - ANYDNS_ERRBASE] = "not enough space",
	[ANYDNS_EDROP - ANYDNS_ERRBASE] = "message dropped",
	[ANYDNS_ESYNTAX - ANYDNS_ERRBASE] = "syntax error",
	[ANYDNS_EZONE - ANYDNS_ERRBASE] = "zone check failed",
	[ANYDNS_ENOSOA - ANYDNS_ERRBASE] = "no SOA at the zone apex",
	[ANYDNS_EOUTZONE - ANYDNS_ERRBASE] = "record outside the zone",
	[ANYDNS_ECONFIG - ANYDNS_ERRBASE] = "invalid configuration",
	[ANYDNS_EBADSIG - ANYDNS_ERRBASE] = "TSIG signature does not verify",
	[ANYDNS_EBADKEY - ANYDNS_ERRBASE] = "TSIG key unknown or not allowed",
	[ANYDNS_EBADTIME - ANYDNS_ERRBASE] = "TSIG time outside the allowed fudge",
	[ANYDNS_ENOTSIG - ANYDNS_ERRBASE] = "TSIG signature missing",
	[ANYDNS_EXFR - ANYDNS_ERRBASE] = "malformed zone transfer",
	[ANYDNS_EREFUSED - ANYDNS_ERRBASE] = "refused by the peer",
	[ANYDNS_ETOOBIG - ANYDNS_ERRBASE] = "over the size limit",
	[ANYDNS_EJOURNAL - ANYDNS_ERRBASE] = "journal does not reach that serial",
};

const char *anydns_strerror(int code)
{
	if (code == 0)
		return "success";
	/* Own codes count up from ANYDNS_ERRBASE towards ANYDNS_ERRLAST. */
	if (code >= ANYDNS_ERRBASE && code < ANYDNS_ERRLAST) {
		const char *m = own_messages[code - ANYDNS_ERRBASE];
		return m != NULL ? m : "unknown error";
	}
	if (code < 0 && code > -4096)	/* the errno range */
		return strerror(-code);
	return "unknown error";
}
