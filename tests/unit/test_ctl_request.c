/*
 * Unit tests for src/ctl/request.c: every request line of the table in
 * tests/unit/data/ctl/requests.txt gives exactly the command, zone or
 * error message listed; plus the bounds (request and word length) and a
 * NULL or short error buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#define TABLE "tests/unit/data/ctl/requests.txt"

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	fail_msg("bad hex digit '%c' in " TABLE, c);
	return 0;
}

/* Decodes the escapes of the table into out; returns the length. */
static size_t unescape(const char *in, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '\\') {
			out[n++] = in[i];
			continue;
		}
		assert_true(i + 1 < len);
		char e = in[++i];
		if (e == 'n')
			out[n++] = '\n';
		else if (e == 'r')
			out[n++] = '\r';
		else if (e == 't')
			out[n++] = '\t';
		else if (e == '\\')
			out[n++] = '\\';
		else if (e == 'x') {
			assert_true(i + 2 < len);
			out[n++] = (char)(hex(in[i + 1]) * 16 + hex(in[i + 2]));
			i += 2;
		} else
			fail_msg("bad escape \\%c in " TABLE, e);
	}
	return n;
}

static const char *const names[] = {
	[CTL_STATUS] = "status",
	[CTL_ZONES] = "zones",
	[CTL_STATS] = "stats",
	[CTL_RELOAD] = "reload",
	[CTL_BGP] = "bgp",
	[CTL_NETWORKS] = "networks",
	[CTL_DRAIN] = "drain",
	[CTL_UNDRAIN] = "undrain",
};

static void table(void **state)
{
	(void)state;
	FILE *f = fopen(TABLE, "r");
	assert_non_null(f);
	char line[512];
	int cases = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		char *sep = strstr(line, " | ");
		assert_non_null(sep);
		const char *want = sep + 3;
		/* The input ends at its last non-space before the separator. */
		size_t len = (size_t)(sep - line);
		while (len > 0 && line[len - 1] == ' ')
			len--;
		char in[512];
		size_t n = unescape(line, len, in);

		struct ctl_request req;
		char err[256] = "junk";
		char got[2 * DNS_NAME_STRLEN];
		if (ctl_request_parse(in, n, &req, err, sizeof(err)) == 0) {
			assert_string_equal(err, "");
			int k = snprintf(got, sizeof(got), "ok %s",
					 names[req.command]);
			if (req.has_zone) {
				char zone[DNS_NAME_STRLEN];
				dns_name_to_str(zone, req.zone);
				snprintf(got + k, sizeof(got) - (size_t)k, " %s", zone);
			}
			if (req.has_network)
				snprintf(got + k, sizeof(got) - (size_t)k, " %s",
					 req.network);
		} else {
			snprintf(got, sizeof(got), "error: %s", err);
		}
		if (strcmp(got, want) != 0)
			fail_msg("%s\n  want: %s\n  got:  %s", line, want, got);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 43);
}

static void bounds(void **state)
{
	(void)state;
	struct ctl_request req;
	char err[128];
	char big[CTL_REQUEST_MAX + 2];

	/* The longest name there is, in a request that just fits. */
	memset(big, 0, sizeof(big));
	size_t n = (size_t)snprintf(big, sizeof(big), "reload ");
	for (int i = 0; i < 4; i++) {
		memset(big + n, 'a', 63);
		n += 63;
		big[n++] = '.';
	}
	n--;	/* 4 labels of 63: 256 octets with the root, one too many */
	assert_int_equal(ctl_request_parse(big, n, &req, err, sizeof(err)),
			 ANYDNS_ESYNTAX);
	assert_string_equal(err, "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not "
			    "a domain name");
	n -= 2;	/* 61 octets in the last label: 254 + root = 255 */
	assert_int_equal(ctl_request_parse(big, n, &req, err, sizeof(err)), 0);
	assert_true(req.has_zone);
	assert_int_equal(dns_name_len(req.zone), 255);

	/* Trailing blanks up to the limit are still a request... */
	memset(big + n, ' ', CTL_REQUEST_MAX - n);
	assert_int_equal(ctl_request_parse(big, CTL_REQUEST_MAX, &req, err,
					   sizeof(err)), 0);
	/* ...one octet more is not. */
	big[CTL_REQUEST_MAX] = ' ';
	assert_int_equal(ctl_request_parse(big, CTL_REQUEST_MAX + 1, &req, err,
					   sizeof(err)), ANYDNS_ESYNTAX);
	assert_string_equal(err, "request longer than 1100 octets");

	/* A word longer than any name in presentation form. */
	memset(big, 'x', CTL_REQUEST_MAX);
	assert_int_equal(ctl_request_parse(big, CTL_REQUEST_MAX, &req, err,
					   sizeof(err)), ANYDNS_ESYNTAX);
	assert_string_equal(err, "word too long");
}

static void error_buffer(void **state)
{
	(void)state;
	struct ctl_request req;
	char err[8];
	assert_int_equal(ctl_request_parse("bogus", 5, &req, NULL, 0),
			 ANYDNS_ESYNTAX);
	assert_int_equal(ctl_request_parse("bogus", 5, &req, err, sizeof(err)),
			 ANYDNS_ESYNTAX);
	assert_string_equal(err, "unknown");
	/* NUL-free input with no terminator of its own is read by length. */
	assert_int_equal(ctl_request_parse("statusXYZ", 6, &req, err,
					   sizeof(err)), 0);
	assert_int_equal(req.command, CTL_STATUS);
	assert_false(req.has_zone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(bounds),
		cmocka_unit_test(error_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
