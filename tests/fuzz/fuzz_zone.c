/*
 * Fuzz target: a master file through zone_load_file() (libzscanner, the
 * builder and every semantic check) for origin "example.". The input is
 * handed over as an in-memory file. Inputs with $INCLUDE are skipped: that
 * directive reads the file system, which is not the input under test.
 * A zone that loads must also answer lookups of its own names.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "zone/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = "\x07" "example";
	log_set_level(LOG_LVL_SILENT);
	if (size > 1 << 20)
		return 0;
	for (size_t i = 0; i + 8 <= size; i++)
		if (data[i] == '$' && strncasecmp((const char *)data + i, "$include", 8) == 0)
			return 0;
	int fd = memfd_create("fuzz-zone", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct zone *z = NULL;
	char err[512];
	if (zone_load_file(origin, path, &z, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < z->node_count; i++) {
			const struct zone_node *n = z->nodes[i];
			if (zone_find(z, n->name, n->name_len) != n ||
			    zone_closest_encloser(z, n->name) != n)
				__builtin_trap();
		}
		zone_free(z);
	}
	close(fd);
	return 0;
}
