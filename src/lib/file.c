/*
 * The steps of replacing a file durably that every writer shares (file.h):
 * the name beside the file, and the sync of its directory entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/errcode.h"
#include "lib/file.h"

char *file_tmp_path(const char *path)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(".tmp"));
	if (tmp != NULL) {
		memcpy(tmp, path, plen);
		memcpy(tmp + plen, ".tmp", sizeof(".tmp"));
	}
	return tmp;
}

int file_fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") :
		    strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return ANYDNS_ENOMEM;
	int ret = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		ret = -errno;
	else if (fsync(fd) != 0 && errno != EINVAL)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}
