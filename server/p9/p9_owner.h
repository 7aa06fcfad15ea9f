/* Plan 9 ownership for an exported host tree: who owns each file, its
 * group and its last modifier, kept on disk beside the file, and the
 * owner/group/other check that Plan 9's file servers (cwfs, hjfs) make.
 *
 * On disk: one extended attribute, "user.plan9", holding "uid:gid:muid"
 * (QEMU's security_model=mapped-xattr keeps its mapping the same way).
 * ':' cannot appear in a Plan 9 user name (/adm/users uses it as its
 * separator), so the value splits one way. A file without it is
 * "untagged": the export shows it as before (p9_export.h) and the checks
 * use those names.
 *
 * Groups: the export's own /adm/users, lines "id:name:leader:members"
 * (members comma-separated), as in Plan 9. A user is in group G when the
 * user is G, G's leader, or listed among G's members. The file is re-read
 * when it changes (p9_users_refresh looks at most once a second).
 *
 * The check, as cwfs's: the other bits always apply; the owner's when the
 * user owns the file; the group's when the user is in the file's group.
 * "none" is never anyone but other, whatever a file's tag says. */
#ifndef GRIDBOOT_P9_OWNER_H
#define GRIDBOOT_P9_OWNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "p9/p9_srv.h"

#define P9_OWNER_XATTR "user.plan9"

struct p9_owner {
	char uid[P9_UNAMEMAX], gid[P9_UNAMEMAX], muid[P9_UNAMEMAX];
};

/* What access asks for, as Plan 9's permission bits for "other". */
enum { P9_MAY_EXEC = 1, P9_MAY_WRITE = 2, P9_MAY_READ = 4 };

/* The tag of the file at fd (an O_PATH descriptor is enough): true and *o,
 * or false when the file has none (or it is malformed: logged by the
 * caller's fallback, never trusted). */
bool p9_owner_get(int fd, struct p9_owner *o);
/* The same for name in the directory dirfd (listings). */
bool p9_owner_getat(int dirfd, const char *name, struct p9_owner *o);
/* Tags the file at fd; 0 or -errno (-ENOTSUP where the filesystem keeps
 * no user attributes). */
int p9_owner_set(int fd, const struct p9_owner *o);
/* "uid:gid:muid" back into *o; false unless exactly three names that fit. */
bool p9_owner_parse(const char *text, size_t len, struct p9_owner *o);

/* /adm/users, parsed. */
struct p9_users;
/* Parses the text of an /adm/users file: bad lines are skipped (counted
 * in *bad when bad is not NULL), at most P9_USERS_MAX groups. */
#define P9_USERS_MAX 4096
struct p9_users *p9_users_parse(const char *text, size_t len, int *bad);
void p9_users_free(struct p9_users *u);
bool p9_users_member(const struct p9_users *u, const char *user, const char *group);
bool p9_users_leader(const struct p9_users *u, const char *user, const char *group);

/* May user have want (P9_MAY_*) on a file of owner o and permission bits
 * perm (0777)? u may be NULL (no /adm/users: each user is only their own
 * group). */
bool p9_may(const struct p9_users *u, const char *user, const struct p9_owner *o,
    uint32_t perm, int want);

#endif
