/*
 * Replacing a file so that a crash leaves it whole: the new content goes
 * into PATH.tmp beside it (same directory, so same file system), which is
 * fsync'd and renamed over PATH (rename(2) is atomic), and then the
 * directory is fsync'd so that the rename itself reaches the disk. The
 * writing and the renaming stay with the caller (a stdio stream, a
 * descriptor kept open afterwards); these are the two steps every such
 * writer shares.
 */
#ifndef ANYDNS_LIB_FILE_H
#define ANYDNS_LIB_FILE_H

/* "PATH.tmp", malloc'd (the caller frees it), or NULL when out of memory. */
char *file_tmp_path(const char *path);

/*
 * fsyncs the directory holding path ("." when path has no '/'), so that a
 * file created or renamed there stays after a crash. File systems that
 * cannot sync a directory say EINVAL: nothing more can be done there, and
 * that counts as done. 0, ANYDNS_ENOMEM or -errno.
 */
int file_fsync_dir(const char *path);

#endif
