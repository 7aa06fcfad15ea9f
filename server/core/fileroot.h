/* The static tree under grid.files, shared by TFTP and HTTP.
 *
 * Every lookup resolves strictly beneath the root: openat2 with
 * RESOLVE_BENEATH (no "..", absolute path or symlink leaves the tree) and
 * RESOLVE_NO_MAGICLINKS, and only regular files are handed out (no devices,
 * FIFOs or directories). Opened files are kept in a small cache for a
 * second so that 50 machines booting the same kernel open it once; a file
 * replaced on disk is seen after at most that second. Unused descriptors
 * are closed once they expire, so an idle daemon holds none.
 *
 * A struct rootfile is reference counted: read it with pread(fd, ...),
 * then fileroot_release it. It stays valid after its fileroot is freed. */
#ifndef GRIDBOOT_FILEROOT_H
#define GRIDBOOT_FILEROOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/evloop.h"

struct rootfile {
	int fd;                 /* read-only, shared: use pread, never read/lseek */
	uint64_t size;
	int64_t mtime_ms;       /* wall clock */
	/* private */
	char *path;
	int refs;
	bool cached;
	uint64_t opened_ms;     /* monotonic */
};

struct fileroot;

/* dir is an absolute path; it need not exist yet (looked up again on each
 * request until it does). loop may be NULL (no expiry timer: the cache then
 * closes idle files only when it needs the slot). */
struct fileroot *fileroot_new(const char *dir, struct evloop *loop);
void fileroot_free(struct fileroot *r);
const char *fileroot_dir(const struct fileroot *r);

/* Opens relpath (leading '/' are skipped) beneath the root. Returns 0 and a
 * referenced file, or a negative errno: -ENOENT (no such file), -EACCES
 * (outside the root, a symlink escape, or not a regular file), -ENAMETOOLONG,
 * -EMFILE/-ENFILE, -EIO. */
int fileroot_open(struct fileroot *r, const char *relpath, struct rootfile **out);
void fileroot_release(struct rootfile *f);

/* How many descriptors the cache holds now (tests, metrics). */
int fileroot_cached(const struct fileroot *r);

/* The one safe open beneath a directory, for callers that need a
 * descriptor of their own (HTTP hands it to libmicrohttpd, which closes
 * it): openat2 RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS, regular files only.
 * Returns the fd, or -ENOENT, -EACCES (outside the root, not a regular
 * file), -ENAMETOOLONG, -EMFILE, -ENFILE, -EIO. */
int fileroot_open_regular(int dirfd, const char *path, struct stat *st);

#endif
