/*
 * Fuzz target: a BIND key file through dns_tsig_keys_parse() (the lexer
 * with its comments and strings, the key statements, names, algorithms and
 * Base64 secrets). An error must come with a "file:line: reason" message;
 * keys that parse must be valid, and printed back in the same format
 * (names in presentation form, secrets re-encoded) they must parse to the
 * same keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dns/dns.h"

static bool same_keys(const struct dns_tsig_key *a, size_t na,
		      const struct dns_tsig_key *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (!dns_name_equal(a[i].name, b[i].name) || a[i].alg != b[i].alg ||
		    a[i].secret_len != b[i].secret_len ||
		    memcmp(a[i].secret, b[i].secret, a[i].secret_len) != 0)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_tsig_key *keys = NULL, *again = NULL;
	size_t n = 0, n2 = 0;
	char err[256];

	if (size > 1 << 16)
		return 0;
	int ret = dns_tsig_keys_parse((const char *)data, size, "fuzz", &keys, &n,
				      err, sizeof(err));
	if (ret != 0) {
		if (keys != NULL || n != 0 || strncmp(err, "fuzz:", 5) != 0)
			__builtin_trap();
		return 0;
	}

	/* Each key: a name of at most 255 octets, lowercase; a secret. */
	size_t cap = 64 + n * (DNS_NAME_STRLEN + 300);
	char *text = malloc(cap);
	if (text == NULL)
		goto out;
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char name[DNS_NAME_STRLEN];
		unsigned char b64[DNS_TSIG_SECRET_MAX * 2];
		if (dns_name_len(keys[i].name) > DNS_NAME_MAXLEN ||
		    keys[i].secret_len == 0 ||
		    keys[i].secret_len > DNS_TSIG_SECRET_MAX)
			__builtin_trap();
		for (size_t j = 0; j < dns_name_len(keys[i].name); j++)
			if (keys[i].name[j] >= 'A' && keys[i].name[j] <= 'Z')
				__builtin_trap();
		dns_name_to_str(name, keys[i].name);
		EVP_EncodeBlock(b64, keys[i].secret, (int)keys[i].secret_len);
		len += (size_t)snprintf(text + len, cap - len,
					"key \"%s\" {\n\talgorithm %s;\n"
					"\tsecret \"%s\";\n};\n", name,
					dns_tsig_alg_name(keys[i].alg), b64);
	}
	ret = dns_tsig_keys_parse(text, len, "printed", &again, &n2, err,
				  sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "printed keys do not parse: %s\n%s", err, text);
		__builtin_trap();
	}
	if (!same_keys(keys, n, again, n2))
		__builtin_trap();
	free(again);
	free(text);
out:
	free(keys);
	return 0;
}
