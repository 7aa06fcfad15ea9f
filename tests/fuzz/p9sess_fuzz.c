/* libFuzzer target: whole 9P sessions. The input is a backend choice byte
 * and then frames, each as len[2] (little-endian) and the frame without its
 * size[4], which is added here (p9_fuzz covers lying size fields). Every
 * frame goes to one session over either an export of a small temporary
 * tree (with a writable subdirectory, emptied after each input) or a tiny
 * synthetic tree. Every reply must be a well-formed frame no larger than
 * msize whose size field counts what the glue would send. Build and run
 * with `make fuzz-p9sess`. */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p9/p9_export.h"
#include "p9/p9_srv.h"
#include "p9/p9_synth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct p9_export *exp9;
static struct p9_synth *synth;
static char top[64], wdir[128];
static uint8_t frame[70000];

static size_t
gen_text(void *arg, char *buf, size_t cap)
{
	(void)arg;
	return (size_t)snprintf(buf, cap, "terminal\n");
}

static int
take_write(void *arg, const char *d, size_t len, char *err, size_t errcap)
{
	(void)arg;
	if (len > 0 && d[0] == 'c')
		return 0;
	snprintf(err, errcap, "role must be cpu or terminal");
	return -1;
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			abort();
		close(fd);
	}
}

static void
cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

static void
setup(void)
{
	char p[160], e[256];
	static const char *const writable[] = { "w", NULL };

	strcpy(top, "/tmp/p9sess-fuzz.XXXXXX");
	if (mkdtemp(top) == NULL)
		abort();
	atexit(cleanup);
	snprintf(p, sizeof p, "%s/d", top);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/d/a", top);
	put(p, "hello\n");
	snprintf(p, sizeof p, "%s/d/lib", top);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/d/lib/namespace", top);
	put(p, "mount -aC #s/boot /root $rootspec\n");
	snprintf(wdir, sizeof wdir, "%s/d/w", top);
	mkdir(wdir, 0755);
	snprintf(p, sizeof p, "%s/d/out", top);
	if (symlink("/etc", p) < 0)
		abort();
	snprintf(p, sizeof p, "%s/d", top);
	struct p9_export_opts o = { .dir = p, .writable = writable };
	exp9 = p9_export_new(&o, e, sizeof e);
	if (exp9 == NULL)
		abort();
	synth = p9_synth_new(NULL);
	struct p9_synth_node *m = p9_synth_mkdir(synth, p9_synth_root(synth), "machines");
	p9_synth_mkfile(synth, m, "role", 0644, gen_text, take_write, NULL);
	p9_synth_mkfile(synth, p9_synth_root(synth), "version", 0444, gen_text, NULL, NULL);
}

/* Empties fd's tree (what the input created under w/). */
static void
wipe(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			continue;
		int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (sub >= 0) {
			fchmod(sub, 0755);
			wipe(sub);
		}
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static void
check_reply(const struct p9_session *s, const struct p9_reply *r)
{
	if (r->len < P9_HDRSZ || r->len > p9_session_msize(s))
		__builtin_trap();
	uint32_t size = (uint32_t)r->data[0] | (uint32_t)r->data[1] << 8 |
	    (uint32_t)r->data[2] << 16 | (uint32_t)r->data[3] << 24;
	if (size != r->len + (r->fd >= 0 ? r->fd_len : 0))
		__builtin_trap();
	if (!(r->data[4] & 1))          /* R-messages are odd */
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (exp9 == NULL)
		setup();
	if (size < 1)
		return 0;
	bool use_synth = data[0] & 1;
	struct p9_session *s = use_synth ? p9_session_new(&p9_synth_backend, synth, 4096 + 24)
	    : p9_session_new(&p9_export_backend, exp9, 4096 + 24);
	if (data[0] & 2)
		p9_session_set_zero_copy(s, 1);
	size_t i = 1;
	while (i + 2 <= size) {
		size_t len = (size_t)data[i] | (size_t)data[i + 1] << 8;
		i += 2;
		if (len > size - i)
			len = size - i;
		size_t n = len + 4;
		frame[0] = (uint8_t)n;
		frame[1] = (uint8_t)(n >> 8);
		frame[2] = frame[3] = 0;
		memcpy(frame + 4, data + i, len);
		i += len;
		struct p9_reply r;
		if (p9_session_handle(s, frame, n, &r))
			check_reply(s, &r);
		else if (n >= P9_HDRSZ)
			__builtin_trap();
	}
	p9_session_free(s);
	if (!use_synth)
		wipe(open(wdir, O_RDONLY | O_DIRECTORY));
	return 0;
}
