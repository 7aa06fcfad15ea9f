/* A host directory served over 9P (a p9_backend).
 *
 * Containment: every path is resolved from the export's directory fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
 * and ".." is taken off the fid's path by the server before resolving, so
 * neither "..", an absolute or planted symlink, nor a rename race reaches
 * outside. Symlinks are not served at all: a walk onto one is refused
 * ("permission denied") and listings leave them out, as they leave out
 * devices, FIFOs and sockets (only directories and regular files exist
 * here; a Plan 9 tree has nothing else).
 *
 * Writes: the export is read-only except beneath the writable prefixes,
 * paths relative to the export ("tmp", "usr/glenda"). Inside a prefix P a
 * client may create, remove, rename and wstat anything strictly below P,
 * and open for writing or truncate P itself when it is a file, each as
 * the file's Plan 9 permissions allow the attaching user (p9_owner.h:
 * owner, group from the export's adm/users, other; creating and removing
 * need write permission in the directory). The host's own permissions
 * still apply on top (the daemon's uid does the I/O).
 *
 * Ownership: a file's Plan 9 owner, group and muid are its user.plan9
 * attribute (p9_owner.h), set at create (the creator, the directory's
 * group) and at each open for writing (muid). An untagged file owned by
 * the daemon's own uid (or group) is shown as owned by the export's
 * `owner` (default "glenda"); others by the host user or group name
 * (getpwuid/getgrgid, cached), "none" when the id has no name. Why: a
 * tree unpacked by the daemon's user means nothing to a Plan 9 client by
 * its host name; the one Plan 9 user the tree is for keeps `ls -l`
 * sensible. The attaching uname is proved with grid.p9_auth and taken as
 * given without it. */
#ifndef GRIDBOOT_P9_EXPORT_H
#define GRIDBOOT_P9_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "p9/p9_srv.h"

/* A file gridboot generates, laid over the export at path (relative):
 * walks, stats, listings and reads see it instead of what the disk has
 * there; it cannot be written, removed or created over. make returns its
 * text (malloc'd, length in *len), called at each open and stat; version
 * is its qid.vers. */
struct p9_overlay {
	const char *path;
	char *(*make)(void *arg, size_t *len);
	uint32_t (*version)(void *arg);
	void *arg;
};

/* Open files: each open fid holds a descriptor, shared by the fids that
 * opened the same inode for the same access, so the count is of distinct
 * open files. One count for every export of the module: an open or create
 * that would need a descriptor beyond max (0: no cap) is refused with
 * ENFILE, "too many files open on this server (9P limit N)"; so is an
 * open when the process itself is out of descriptors. */
struct p9_fdcount {
	unsigned open, max;
	uint64_t *gauge;                        /* set to open, or NULL */
};

struct p9_export_opts {
	const char *dir;                        /* host directory */
	const char *const *writable;            /* NULL-terminated, or NULL */
	const char *owner;                      /* NULL: "glenda" */
	const struct p9_overlay *overlays;      /* generated files, or NULL */
	size_t noverlays;
	struct p9_fdcount *fds;                 /* NULL: counted nowhere, no cap */
};

struct p9_export;

/* Opens dir (it must exist). NULL with a reason in err when dir can't be
 * opened or a writable prefix is not a clean relative path (no "..", ".",
 * empty components). "" or "/" as a prefix makes the whole tree writable. */
struct p9_export *p9_export_new(const struct p9_export_opts *o, char *err, size_t errcap);
void p9_export_free(struct p9_export *x);

/* The backend; its ctx is the struct p9_export. Nodes stay valid across
 * p9_export_free only until clunked: free the sessions first. */
extern const struct p9_backend p9_export_backend;

#endif
