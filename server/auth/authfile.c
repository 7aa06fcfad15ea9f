/* Changing one user's line of the key file (auth.h): `gridbootd passwd`
 * and AuthPass on the running daemon both go through here. */
#include "auth/auth.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* The file's text without user's line (comments and others kept). */
static char *
without_user(const char *text, const char *user)
{
	size_t n = strlen(text), o = 0, ul = strlen(user);
	char *out = emalloc(n + 2);
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		const char *p = line + strspn(line, " \t");
		bool mine = strncmp(p, user, ul) == 0 && (p[ul] == ' ' || p[ul] == '\t');
		if (!mine) {
			memcpy(out + o, line, len);
			o += len;
			if (!end)
				out[o++] = '\n';
		}
		line += len;
	}
	out[o] = 0;
	return out;
}

static void
wipe_free(char *s, size_t n)
{
	if (s) {
		OPENSSL_cleanse(s, n);
		free(s);
	}
}

/* The key file's directory, locked against another writer (the daemon
 * and the subcommand); -1 when it cannot be opened. */
static int
lock_dir(const char *path)
{
	char *copy = estrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	free(copy);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

bool
auth_keys_update(const char *path, const char *user, const char *line,
    const uint8_t secret[32], struct auth_keyfile *kf, char *err, size_t errlen)
{
	struct auth_keyfile tmp;
	size_t n = 0;
	char *old = NULL, *rest, *text, why[160];
	bool ok = false;
	int lk = lock_dir(path);

	if (lk < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	if ((old = read_state_file(path, &n, 4 << 20)) == NULL && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, state_strerror(errno));
		close(lk);
		return false;
	}
	rest = without_user(old ? old : "", user);
	text = esprintf("%s%s", rest, line);
	wipe_free(rest, strlen(rest));
	if (!authkey_load(kf ? kf : &tmp, text, secret, why, sizeof why)) {
		snprintf(err, errlen, "%s: the new file would not load: %s", path, why);
	} else if (write_file_atomic_mode(path, text, strlen(text), 0600) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		authkey_free(kf ? kf : &tmp);
	} else {
		ok = true;
		if (!kf)
			authkey_free(&tmp);
	}
	wipe_free(text, strlen(text));
	wipe_free(old, n);
	close(lk);
	return ok;
}
