/*
 * Fuzz target: a control request line through ctl_request_parse(), the
 * parser of what local clients send to anydnsd's control socket. A line
 * that parses names a known command, and a zone only for reload, in
 * valid wire form; a line that does not gets a one-line reason (it goes
 * back to the client as "error: reason").
 */
#include <stdint.h>
#include <string.h>

#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req;
	char err[256];
	if (ctl_request_parse(data, size, &req, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || strchr(err, '\n') != NULL)
			__builtin_trap();
		return 0;
	}
	if (req.command > CTL_RELOAD)
		__builtin_trap();
	if (req.has_zone && (req.command != CTL_RELOAD ||
			     dns_name_len(req.zone) > DNS_NAME_MAXLEN))
		__builtin_trap();
	return 0;
}
