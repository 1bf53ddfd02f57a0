/*
 * Fuzz target: a reply to the health checks' DNS probe through
 * health_probe_judge() (src/health/probe.c), asked for several types with
 * and without an expected RDATA, and the same octets as RDATA of each of
 * those types through health_rdata_text(). Any crash or sanitizer report,
 * a verdict other than pass / keep waiting / fail, or a reason that is not
 * a terminated string fails.
 */
#include <stdlib.h>
#include <string.h>

#include "health/internal.h"
#include "lib/log.h"

static uint8_t qname[DNS_NAME_MAXLEN];

static const uint16_t types[] = {
	DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_NS, DNS_TYPE_SOA, DNS_TYPE_MX,
	DNS_TYPE_TXT, DNS_TYPE_SRV, 65280,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	size_t len;
	log_set_level(LOG_LVL_SILENT);
	if (dns_name_from_str(qname, &len, "www.example.", NULL) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The reply's own ID, so the judge reads past the header. */
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	char why[HEALTH_TEXT_MAX], text[HEALTH_TEXT_MAX];
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (int e = 0; e < 2; e++) {
			why[0] = 'x';
			int ret = health_probe_judge(data, size, id, qname, types[t],
						     DNS_RCODE_NOERROR,
						     e ? "192.0.2.80" : NULL, why,
						     sizeof(why));
			if (ret != 0 && ret != ANYDNS_EAGAIN && ret != ANYDNS_EMALF)
				abort();
			if (ret != ANYDNS_EAGAIN &&
			    memchr(why, '\0', sizeof(why)) == NULL)
				abort();
		}
		struct wire_ctx c;
		wire_init(&c, data, size);
		uint16_t rdlen = size > 65535 ? 65535 : (uint16_t)size;
		int ret = health_rdata_text(&c, types[t], rdlen, text, sizeof(text));
		if (ret != 0 && ret != ANYDNS_EMALF && ret != ANYDNS_ESPACE)
			abort();
		if (memchr(text, '\0', sizeof(text)) == NULL)
			abort();
	}
	return 0;
}
