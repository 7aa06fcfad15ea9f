/* fileroot: containment, regular files only, cache sharing and expiry,
 * files outliving their root. */
#include "core/fileroot.h"
#include "unit.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = esprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	free(p);
}

/* unit.h's CHECK evaluates its condition twice: open outside it. */
static int
try_open(struct fileroot *r, const char *path, struct rootfile **out)
{
	int rc = fileroot_open(r, path, out);
	return rc;
}

int
main(void)
{
	char tmpl[] = "/tmp/gridboot-fileroot.XXXXXX";
	char *top = mkdtemp(tmpl);
	char *root = esprintf("%s/root", top), *p;
	struct fileroot *r;
	struct rootfile *f, *g;
	char buf[16] = { 0 };
	int rc;

	mkdir(root, 0755);
	p = esprintf("%s/sub", root);
	mkdir(p, 0755);
	free(p);
	put(root, "k", "kernel");
	put(root, "sub/x", "x");
	put(top, "secret", "secret");
	p = esprintf("%s/out", root);
	rc = symlink("../secret", p);
	CHECK(rc == 0, "symlink out made");
	free(p);
	p = esprintf("%s/in", root);
	rc = symlink("sub/x", p);
	CHECK(rc == 0, "symlink in made");
	free(p);
	p = esprintf("%s/fifo", root);
	mkfifo(p, 0644);
	free(p);

	r = fileroot_new(root, NULL);
	rc = try_open(r, "k", &f);
	CHECK(rc == 0 && f->size == 6, "regular file opens");
	ssize_t n = pread(f->fd, buf, sizeof buf, 0);
	CHECK(n == 6 && strcmp(buf, "kernel") == 0, "pread");
	rc = try_open(r, "/k", &g);
	CHECK(rc == 0 && g == f, "leading / skipped, cached entry shared");
	CHECK(fileroot_cached(r) == 1, "one descriptor cached");
	fileroot_release(g);
	rc = try_open(r, "sub/../k", &g);
	CHECK(rc == 0, "dotdot inside the root is fine");
	fileroot_release(g);
	CHECK(fileroot_open(r, "../secret", &g) == -EACCES && g == NULL, "../ refused");
	CHECK(fileroot_open(r, "sub/../../secret", &g) == -EACCES, "a/../../ refused");
	CHECK(fileroot_open(r, "out", &g) == -EACCES, "symlink out refused");
	rc = try_open(r, "in", &g);
	CHECK(rc == 0 && g->size == 1, "symlink in followed");
	fileroot_release(g);
	CHECK(fileroot_open(r, "fifo", &g) == -EACCES, "FIFO refused without blocking");
	CHECK(fileroot_open(r, "sub", &g) == -EACCES, "directory refused");
	CHECK(fileroot_open(r, "nope", &g) == -ENOENT, "missing: ENOENT");
	CHECK(fileroot_open(r, "k/x", &g) == -ENOENT, "file as directory: ENOENT");
	CHECK(fileroot_open(r, "", &g) == -ENOENT, "empty: ENOENT");
	CHECK(fileroot_open(r, "/proc/self/root/etc/passwd", &g) == -ENOENT,
	    "absolute path is relative to the root");
	fileroot_free(r);
	/* f was still referenced: it outlives its root. */
	n = pread(f->fd, buf, 6, 0);
	CHECK(n == 6, "file outlives its fileroot");
	fileroot_release(f);

	p = esprintf("%s/nope", top);
	r = fileroot_new(p, NULL);
	CHECK(fileroot_open(r, "k", &g) == -ENOENT, "missing root: ENOENT");
	mkdir(p, 0755);
	put(p, "k", "late");
	rc = try_open(r, "k", &g);
	CHECK(rc == 0 && g->size == 4, "root created later is found");
	fileroot_release(g);
	fileroot_free(r);
	free(p);

	/* Expiry through the loop: idle descriptors are closed. */
	struct evloop *loop = ev_new();
	r = fileroot_new(root, loop);
	rc = try_open(r, "k", &f);
	CHECK(rc == 0, "open with a loop");
	fileroot_release(f);
	uint64_t until = mono_ms() + 3000;
	while (fileroot_cached(r) > 0 && mono_ms() < until)
		ev_run_once(loop, 100);
	CHECK(fileroot_cached(r) == 0, "idle descriptor closed after expiry");
	fileroot_free(r);
	ev_free(loop);

	p = esprintf("rm -rf %s", top);
	if (system(p) != 0)
		printf("# cleanup failed\n");
	free(p);
	free(root);
	return UNIT_DONE();
}
