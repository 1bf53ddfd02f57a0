/*
 * Fuzz target: TSIG-signed messages through dns_tsig_find(),
 * dns_tsig_verify_request() and dns_tsig_verify_response() (src/dns/
 * tsig.c). The input is a stream of messages each framed by a two-octet
 * length, as on TCP. The first is also taken as a request to a server
 * holding the key, whose answer (signed, or unsigned for BADKEY/BADSIG) is
 * then written; every message goes in order to a client that signed a
 * fixed request at a fixed time, as the messages of one transfer. Any
 * crash or sanitizer report, or a result outside the documented codes,
 * fails. Seeds are answers our own server signed for that request.
 */
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

#define FUZZ_NOW 1700000000ULL

static struct dns_tsig_key key;
static struct dns_tsig_ctx client;	/* after signing the request */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[128];
	uint8_t qname[DNS_NAME_MAXLEN], buf[512];
	size_t len;
	struct dns_writer w;

	if (dns_tsig_key_init(&key, "fuzz.key.", "hmac-sha256",
			      "ZnV6ei1rZXktc2VjcmV0LWZvci1hbnlkbnMtdHNpZyE=", err,
			      sizeof(err)) != 0 ||
	    dns_name_from_str(qname, &len, "example.", NULL) != 0)
		abort();
	dns_writer_init(&w, buf, sizeof(buf));
	if (dns_writer_question(&w, qname, DNS_TYPE_AXFR, DNS_CLASS_IN) != 0)
		abort();
	len = dns_writer_finish(&w, 0x1234, 0);
	dns_tsig_ctx_init(&client, &key);
	if (dns_tsig_sign(&client, buf, &len, sizeof(buf), FUZZ_NOW) != 0)
		abort();
	return 0;
}

static bool known_result(int ret)
{
	return ret == 0 || ret == ANYDNS_ENOTSIG || ret == ANYDNS_EBADKEY ||
	       ret == ANYDNS_EBADSIG || ret == ANYDNS_EBADTIME ||
	       ret == ANYDNS_EMALF;
}

/* The first message as a request to a server that holds the key. */
static void as_request(const uint8_t *msg, size_t len)
{
	long off = dns_tsig_find(msg, len);
	if (off < 0 || (size_t)off >= len)
		return;
	if (off == 0)
		return;
	struct dns_tsig_ctx srv;
	dns_tsig_ctx_init(&srv, NULL);
	int ret = dns_tsig_verify_request(&srv, &key, 1, msg, len, (size_t)off,
					  FUZZ_NOW);
	if (!known_result(ret) || ret == ANYDNS_ENOTSIG)
		__builtin_trap();
	if (ret != ANYDNS_EMALF) {
		uint8_t out[DNS_HEADER_LEN + DNS_TSIG_MAXLEN];
		size_t olen = DNS_HEADER_LEN;
		memcpy(out, msg, DNS_HEADER_LEN);
		memset(out + 4, 0, 8);
		if (dns_tsig_sign(&srv, out, &olen, sizeof(out), FUZZ_NOW) != 0 ||
		    dns_tsig_find(out, olen) != DNS_HEADER_LEN)
			__builtin_trap();
	}
	dns_tsig_ctx_clear(&srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long off = dns_tsig_find(data, size);
	if (off > 0 && (size_t)off >= size)
		__builtin_trap();

	struct dns_tsig_ctx ctx = client;
	size_t pos = 0;
	bool first = true;
	while (size - pos >= 2) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			break;
		/* A copy of exactly len octets, so reading past is seen. */
		uint8_t *msg = malloc(len ? len : 1);
		if (msg == NULL)
			break;
		memcpy(msg, data + pos, len);
		pos += len;
		if (first)
			as_request(msg, len);
		first = false;
		int ret = dns_tsig_verify_response(&ctx, msg, len, FUZZ_NOW);
		free(msg);
		if (!known_result(ret))
			__builtin_trap();
		(void)dns_tsig_stream_done(&ctx);
		if (ret != 0)
			break;
	}
	dns_tsig_ctx_clear(&ctx);
	return 0;
}
