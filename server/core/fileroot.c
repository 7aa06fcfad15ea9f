/* fileroot: safe, cached access to the static tree (see fileroot.h). */
#include "core/fileroot.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CACHE_SLOTS 64
#define CACHE_TTL_MS 1000
#define MAX_RELPATH 1024

struct fileroot {
	char *dir;
	int dirfd;                      /* O_PATH, -1 until the directory exists */
	struct evloop *loop;
	struct ev_timer expire;
	struct rootfile *cache[CACHE_SLOTS];
	int ncache;
};

static void expire_cb(void *arg);
static int root_fd(struct fileroot *r);

struct fileroot *
fileroot_new(const char *dir, struct evloop *loop)
{
	struct fileroot *r = ecalloc(1, sizeof *r);

	r->dir = estrdup(dir);
	r->dirfd = -1;
	r->loop = loop;
	ev_timer_init(&r->expire, expire_cb, r);
	(void)root_fd(r);       /* open now, so the descriptor count is steady */
	return r;
}

static void
file_free(struct rootfile *f)
{
	close(f->fd);
	free(f->path);
	free(f);
}

void
fileroot_release(struct rootfile *f)
{
	if (f == NULL)
		return;
	if (--f->refs == 0 && !f->cached)
		file_free(f);
}

/* Takes slot i out of the cache; the file lives on while referenced. */
static void
uncache(struct fileroot *r, int i)
{
	struct rootfile *f = r->cache[i];

	r->cache[i] = r->cache[--r->ncache];
	f->cached = false;
	if (f->refs == 0)
		file_free(f);
}

void
fileroot_free(struct fileroot *r)
{
	if (r == NULL)
		return;
	while (r->ncache > 0)
		uncache(r, 0);
	if (r->loop)
		ev_timer_stop(r->loop, &r->expire);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->dir);
	free(r);
}

const char *
fileroot_dir(const struct fileroot *r)
{
	return r->dir;
}

int
fileroot_cached(const struct fileroot *r)
{
	return r->ncache;
}

static void
expire_old(struct fileroot *r, uint64_t now)
{
	for (int i = r->ncache - 1; i >= 0; i--)
		if (now - r->cache[i]->opened_ms >= CACHE_TTL_MS)
			uncache(r, i);
}

static void
expire_cb(void *arg)
{
	struct fileroot *r = arg;

	expire_old(r, mono_ms());
	if (r->ncache > 0)
		ev_timer_arm(r->loop, &r->expire, CACHE_TTL_MS);
}

static int
root_fd(struct fileroot *r)
{
	if (r->dirfd < 0) {
		r->dirfd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (r->dirfd < 0)
			log_debug("fileroot: %s: %s", r->dir, strerror(errno));
	}
	return r->dirfd;
}

/* openat2 beneath dirfd; EAGAIN means the kernel saw a rename race it could
 * not rule out, so it is worth a couple of retries. */
static int
open_beneath(int dirfd, const char *path, uint64_t flags)
{
	/* openat2 refuses O_PATH mixed with anything but a few flags. */
	struct open_how how = {
		.flags = flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	for (int i = 0; i < 3; i++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

static int
map_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return -ENOENT;
	case EXDEV:         /* would leave the root */
	case ELOOP:         /* symlink loop or magic link */
	case EACCES:
	case EPERM:
	case EISDIR:
		return -EACCES;
	case ENAMETOOLONG:
	case EMFILE:
	case ENFILE:
		return -e;
	default:
		return -EIO;
	}
}

/* Opens and checks one file; the O_PATH probe first means a device or FIFO
 * that someone dropped into the tree is never really opened. */
int
fileroot_open_regular(int dirfd, const char *path, struct stat *st)
{
	int probe = open_beneath(dirfd, path, O_PATH);

	if (probe < 0)
		return map_errno(errno);
	if (fstat(probe, st) < 0 || !S_ISREG(st->st_mode)) {
		close(probe);
		return -EACCES;
	}
	close(probe);
	int fd = open_beneath(dirfd, path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return map_errno(errno);
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

static void
cache_add(struct fileroot *r, struct rootfile *f, uint64_t now)
{
	if (r->ncache == CACHE_SLOTS)
		expire_old(r, now);
	/* Still full of fresh files: evict the oldest idle one, if any. */
	if (r->ncache == CACHE_SLOTS) {
		int victim = -1;
		for (int i = 0; i < r->ncache; i++)
			if (r->cache[i]->refs == 0 &&
			    (victim < 0 || r->cache[i]->opened_ms < r->cache[victim]->opened_ms))
				victim = i;
		if (victim < 0)
			return;         /* every slot busy: this file goes uncached */
		uncache(r, victim);
	}
	f->cached = true;
	r->cache[r->ncache++] = f;
	if (r->loop && !ev_timer_armed(&r->expire))
		ev_timer_arm(r->loop, &r->expire, CACHE_TTL_MS);
}

int
fileroot_open(struct fileroot *r, const char *relpath, struct rootfile **out)
{
	uint64_t now = mono_ms();
	struct stat st;
	int fd;

	*out = NULL;
	while (*relpath == '/')
		relpath++;
	if (*relpath == '\0')
		return -ENOENT;
	if (strlen(relpath) > MAX_RELPATH)
		return -ENAMETOOLONG;
	for (int i = 0; i < r->ncache; i++) {
		struct rootfile *f = r->cache[i];
		if (now - f->opened_ms < CACHE_TTL_MS && strcmp(f->path, relpath) == 0) {
			f->refs++;
			*out = f;
			return 0;
		}
	}
	if (root_fd(r) < 0)
		return -ENOENT;
	fd = fileroot_open_regular(r->dirfd, relpath, &st);
	if (fd < 0)
		return fd;
	struct rootfile *f = ecalloc(1, sizeof *f);
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	f->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	f->path = estrdup(relpath);
	f->refs = 1;
	f->opened_ms = now;
	cache_add(r, f, now);
	*out = f;
	return 0;
}
