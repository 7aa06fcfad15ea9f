/* Plan 9 ownership tags and the permission check (see p9_owner.h). */
#include "p9/p9_owner.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

/* ---- tags ---- */

/* One name of the tag: non-empty, fits, and free of the separators and
 * of bytes a name never has. */
static bool
take_name(const char *s, size_t len, char dst[P9_UNAMEMAX])
{
	if (len == 0 || len >= P9_UNAMEMAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == ':' || s[i] == ',' || s[i] == '/')
			return false;
	memcpy(dst, s, len);
	dst[len] = 0;
	return true;
}

bool
p9_owner_parse(const char *text, size_t len, struct p9_owner *o)
{
	char *f[3];
	const char *p = text, *end = text + len;
	size_t n[3];

	for (int i = 0; i < 3; i++) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		if ((c == NULL) != (i == 2))
			return false;
		if (c == NULL)
			c = end;
		f[i] = (char *)p;
		n[i] = (size_t)(c - p);
		p = c + 1;
	}
	return take_name(f[0], n[0], o->uid) && take_name(f[1], n[1], o->gid) &&
	    take_name(f[2], n[2], o->muid);
}

static bool
owner_from_attr(ssize_t len, const char *buf, struct p9_owner *o)
{
	return len > 0 && p9_owner_parse(buf, (size_t)len, o);
}

/* The magic link names the inode itself, so an O_PATH descriptor works
 * (fgetxattr does not take one) and no path can be swapped meanwhile. */
bool
p9_owner_get(int fd, struct p9_owner *o)
{
	char p[64], buf[3 * P9_UNAMEMAX];

	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	return owner_from_attr(getxattr(p, P9_OWNER_XATTR, buf, sizeof buf), buf, o);
}

/* name is one component the caller just lstat'ed as a directory or regular
 * file; lgetxattr does not follow a symlink swapped in since. */
bool
p9_owner_getat(int dirfd, const char *name, struct p9_owner *o)
{
	char p[64 + 256], buf[3 * P9_UNAMEMAX];

	if (snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof p)
		return false;
	return owner_from_attr(lgetxattr(p, P9_OWNER_XATTR, buf, sizeof buf), buf, o);
}

int
p9_owner_set(int fd, const struct p9_owner *o)
{
	char p[64], buf[3 * P9_UNAMEMAX + 3];
	int n = snprintf(buf, sizeof buf, "%s:%s:%s", o->uid, o->gid, o->muid);

	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	return setxattr(p, P9_OWNER_XATTR, buf, (size_t)n, 0) < 0 ? -errno : 0;
}

/* ---- /adm/users ---- */

struct p9_group {
	char *name, *leader;            /* leader "" : every member leads */
	char **members;
	size_t nmembers;
};

struct p9_users {
	struct p9_group *v;
	size_t n;
};

static void
group_free(struct p9_group *g)
{
	free(g->name);
	free(g->leader);
	for (size_t i = 0; i < g->nmembers; i++)
		free(g->members[i]);
	free(g->members);
}

/* "id:name:leader:members"; false for anything else. */
static bool
parse_group(char *line, struct p9_group *g)
{
	char *f[4], *save = line;
	struct p9_owner scratch;

	for (int i = 0; i < 4; i++) {
		char *c = strchr(save, ':');
		if ((c == NULL) != (i == 3))
			return false;
		if (c)
			*c = 0;
		f[i] = save;
		save = c ? c + 1 : NULL;
	}
	if (!take_name(f[1], strlen(f[1]), scratch.uid) ||
	    (f[2][0] && !take_name(f[2], strlen(f[2]), scratch.gid)))
		return false;
	*g = (struct p9_group){ estrdup(f[1]), estrdup(f[2]), NULL, 0 };
	for (char *m = f[3]; *m;) {
		char *comma = strchr(m, ',');
		size_t len = comma ? (size_t)(comma - m) : strlen(m);
		if (len > 0 && take_name(m, len, scratch.muid)) {
			g->members = erealloc(g->members, (g->nmembers + 1) * sizeof *g->members);
			g->members[g->nmembers++] = estrdup(scratch.muid);
		}
		m += len + (comma ? 1 : 0);
	}
	return true;
}

struct p9_users *
p9_users_parse(const char *text, size_t len, int *bad)
{
	struct p9_users *u = ecalloc(1, sizeof *u);
	const char *p = text, *end = text + len;

	if (bad)
		*bad = 0;
	while (p < end && u->n < P9_USERS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = ecalloc(1, n + 1);
		memcpy(line, p, n);
		p += n + (nl ? 1 : 0);
		if (line[0] == 0 || line[0] == '#') {
			free(line);
			continue;
		}
		u->v = erealloc(u->v, (u->n + 1) * sizeof *u->v);
		if (parse_group(line, &u->v[u->n]))
			u->n++;
		else if (bad)
			(*bad)++;
		free(line);
	}
	return u;
}

void
p9_users_free(struct p9_users *u)
{
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->n; i++)
		group_free(&u->v[i]);
	free(u->v);
	free(u);
}

static const struct p9_group *
group_named(const struct p9_users *u, const char *name)
{
	for (size_t i = 0; u && i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

static bool
listed(const struct p9_group *g, const char *user)
{
	for (size_t i = 0; i < g->nmembers; i++)
		if (strcmp(g->members[i], user) == 0)
			return true;
	return false;
}

bool
p9_users_member(const struct p9_users *u, const char *user, const char *group)
{
	if (strcmp(user, group) == 0)
		return true;
	const struct p9_group *g = group_named(u, group);
	return g && (strcmp(g->leader, user) == 0 || listed(g, user));
}

bool
p9_users_leader(const struct p9_users *u, const char *user, const char *group)
{
	const struct p9_group *g = group_named(u, group);

	if (g == NULL || g->leader[0] == 0)
		return p9_users_member(u, user, group);
	return strcmp(g->leader, user) == 0;
}

bool
p9_may(const struct p9_users *u, const char *user, const struct p9_owner *o,
    uint32_t perm, int want)
{
	uint32_t bits = perm & 7;

	if (strcmp(user, "none") != 0) {
		if (strcmp(user, o->uid) == 0)
			bits |= (perm >> 6) & 7;
		if (p9_users_member(u, user, o->gid))
			bits |= (perm >> 3) & 7;
	}
	return ((uint32_t)want & ~bits) == 0;
}
