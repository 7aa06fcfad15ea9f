/* The auth module's subcommands: passwd (a user's key into the key
 * file), users (who is in it, no secrets) and nvram (the host owner's
 * nvram image for a cpu server's disk). */
#include "auth/auth.h"
#include "boot/nvram.h"
#include "config/inventory.h"
#include "core/errlist.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

static const char usage_passwd[] =
    "usage: gridbootd passwd -c FILE USER\n"
    "Sets USER's key in the key file the inventory FILE names (grid.keys,\n"
    "default STATE/keys; made 0600 if missing). The password is read from the\n"
    "terminal without echo (twice), or as one line of stdin when that is not\n"
    "a terminal. Only the derived keys are stored: the AES key (dp9ik), and\n"
    "the DES key too when grid.auth_des is on. A running daemon reads the file\n"
    "again on SIGHUP.\n";
static const char usage_users[] =
    "usage: gridbootd users -c FILE\n"
    "Lists the users of the key file the inventory FILE names, the keys each\n"
    "has (aes, des) and the users each may speak for (grid.speaksfor). No key\n"
    "is printed.\n";
static const char usage_nvram[] =
    "usage: gridbootd nvram -c FILE MACHINE -o OUT\n"
    "Writes the nvram image (512 bytes, 9front's Nvrsafe) with the host owner's\n"
    "authid (grid.authid), authdom and keys for the cpu server MACHINE (a name\n"
    "or MAC of the inventory FILE) to OUT: a new file (mode 0600), or a disk\n"
    "partition such as /dev/sdb2 to be that machine's nvram. See docs/auth.md.\n";

/* -c FILE, then operands from *argi. -1 to go on, else an exit code. */
static int
opts(int argc, char **argv, const char *usage, const char **config, const char **out, int *argi)
{
	int ch;

	*config = "/etc/gridboot/gridboot.cfg";
	optind = 1;
	while ((ch = getopt(argc, argv, out ? "hc:o:" : "hc:")) != -1) {
		switch (ch) {
		case 'c':
			*config = optarg;
			break;
		case 'o':
			*out = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	*argi = optind;
	return -1;
}

static struct inventory *
load_inv(inventory_load_fn *load, const char *config)
{
	struct errlist errs = { 0 };
	struct inventory *inv = load(config, &errs);

	if (inv == NULL) {
		errlist_print(&errs, stderr);
		fprintf(stderr, "%s: %zu error%s\n", config, errs.n, errs.n == 1 ? "" : "s");
	}
	errlist_free(&errs);
	return inv;
}

/* One line into buf, without its newline; false at EOF or on error. */
static bool
read_line(FILE *f, char *buf, size_t cap)
{
	if (fgets(buf, (int)cap, f) == NULL)
		return false;
	buf[strcspn(buf, "\r\n")] = 0;
	return true;
}

static bool
ask_password(const char *user, char *pw, size_t cap)
{
	struct termios t, quiet;
	char again[256];
	bool ok;

	if (!isatty(STDIN_FILENO)) {
		if (!read_line(stdin, pw, cap)) {
			fprintf(stderr, "gridbootd: passwd: no password on stdin\n");
			return false;
		}
		return true;
	}
	if (tcgetattr(STDIN_FILENO, &t) < 0)
		return false;
	quiet = t;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fprintf(stderr, "password for %s: ", user);
	ok = read_line(stdin, pw, cap);
	fprintf(stderr, "\nagain: ");
	ok = ok && read_line(stdin, again, sizeof again);
	fprintf(stderr, "\n");
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	if (ok && strcmp(pw, again) != 0) {
		fprintf(stderr, "gridbootd: passwd: the two passwords differ\n");
		ok = false;
	}
	OPENSSL_cleanse(again, sizeof again);
	return ok;
}

/* Run as root for a daemon that drops to grid.user (which owns the state
 * directory after its first start): the key file and keyseed go to the
 * directory's owner, so a reload can still read them. The key file was
 * given by descriptor before its rename (write_file_atomic_mode); keyseed,
 * kept as it was, is opened again by descriptor: that user may have
 * swapped it for a link while we waited for the password, and a chown by
 * path would then hand them whatever the link names. */
static void
give_to_dir_owner(const char *path)
{
	char *copy = estrdup(path), *dir = dirname(copy), *seed = esprintf("%s/keyseed", dir);
	struct stat st, fst;
	int fd;

	if (geteuid() == 0 && stat(dir, &st) == 0 && st.st_uid != 0) {
		if ((fd = state_open(seed, O_RDONLY)) < 0)
			fprintf(stderr, "gridbootd: passwd: warning: %s: %s\n", seed, state_strerror(errno));
		else {
			if (fstat(fd, &fst) == 0 && fst.st_uid != st.st_uid &&
			    fchown(fd, st.st_uid, st.st_gid) < 0)
				fprintf(stderr, "gridbootd: passwd: warning: %s: chown to the state's owner: %s\n",
				    seed, strerror(errno));
			close(fd);
		}
	}
	free(seed);
	free(copy);
}

int
auth_cmd_passwd(int argc, char **argv, inventory_load_fn *load)
{
	const char *config, *user;
	char pw[256], line[256], err[256];
	int argi, rc = opts(argc, argv, usage_passwd, &config, NULL, &argi);
	struct auth_keyfile kf;
	uint8_t secret[32];

	if (rc >= 0)
		return rc;
	if (argi != argc - 1) {
		fputs(usage_passwd, stderr);
		return 2;
	}
	user = argv[argi];
	if (*user == 0 || strlen(user) > 27 || strpbrk(user, " \t#\n") != NULL) {
		fprintf(stderr, "gridbootd: passwd: %s: not a Plan 9 user name (at most 27 bytes, "
		    "no blanks)\n", user);
		return 2;
	}
	struct inventory *inv = load_inv(load, config);
	if (inv == NULL)
		return 1;
	const char *path = inv->grid.keys;
	rc = 1;
	if (access(path, F_OK) == 0) {
		/* its mode and its lines first, before a password is asked */
		if (!auth_keys_read(path, &kf, err, sizeof err)) {
			fprintf(stderr, "gridbootd: passwd: %s\n", err);
			goto out;
		}
		authkey_free(&kf);
	} else {
		char *copy = estrdup(path);
		int mk = mkdir_p(dirname(copy), 0700);
		free(copy);
		if (mk < 0) {
			fprintf(stderr, "gridbootd: passwd: %s: %s\n", path, strerror(errno));
			goto out;
		}
	}
	if (!auth_secret(path, true, secret, err, sizeof err)) {
		fprintf(stderr, "gridbootd: passwd: %s\n", err);
		goto out;
	}
	if (!ask_password(user, pw, sizeof pw))
		goto out;
	bool ok = authkey_line(line, sizeof line, user, pw, inv->grid.auth_des);
	OPENSSL_cleanse(pw, sizeof pw);
	if (!ok) {
		fprintf(stderr, "gridbootd: passwd: cannot derive the keys\n");
		goto out;
	}
	if (!auth_keys_update(path, user, line, secret, NULL, err, sizeof err)) {
		OPENSSL_cleanse(line, sizeof line);
		fprintf(stderr, "gridbootd: passwd: %s\n", err);
		goto out;
	}
	OPENSSL_cleanse(line, sizeof line);
	give_to_dir_owner(path);
	printf("%s: key for %s set (%s)\n", path, user, inv->grid.auth_des ? "aes, des" : "aes");
	rc = 0;
out:
	OPENSSL_cleanse(secret, sizeof secret);
	inv_unref(inv);
	return rc;
}

static void
print_speaksfor(const struct grid *g, const char *user)
{
	for (int i = 0; i < g->nspeaksfor; i++) {
		if (strcmp(g->speaksfor[i].host, user) != 0)
			continue;
		printf("  speaks for:");
		for (int k = 0; k < g->speaksfor[i].nusers; k++)
			printf(" %s", g->speaksfor[i].users[k]);
	}
}

int
auth_cmd_users(int argc, char **argv, inventory_load_fn *load)
{
	const char *config, *user;
	char err[256];
	int argi, rc = opts(argc, argv, usage_users, &config, NULL, &argi);
	struct auth_keyfile kf;
	bool has_des;

	if (rc >= 0)
		return rc;
	if (argi != argc) {
		fputs(usage_users, stderr);
		return 2;
	}
	struct inventory *inv = load_inv(load, config);
	if (inv == NULL)
		return 1;
	if (!auth_keys_read(inv->grid.keys, &kf, err, sizeof err)) {
		fprintf(stderr, "gridbootd: users: %s\n", err);
		inv_unref(inv);
		return 1;
	}
	const struct grid *g = &inv->grid;
	for (size_t i = 0; authkey_entry(&kf, i, &user, &has_des); i++) {
		printf("%s keys: %s", user, has_des ? "aes,des" : "aes");
		if (strcmp(user, g->authid) == 0)
			printf("  host owner");
		print_speaksfor(g, user);
		printf("\n");
	}
	for (int i = 0; i < g->nspeaksfor; i++) {
		uint8_t aes[AUTH_AESKEYLEN], des[AUTH_DESKEYLEN];
		if (!authkey_lookup(&kf, g->speaksfor[i].host, aes, des, &has_des))
			printf("%s keys: none (grid.speaksfor line %d names it; it cannot log in)\n",
			    g->speaksfor[i].host, g->speaksfor[i].line);
		OPENSSL_cleanse(aes, sizeof aes);
		OPENSSL_cleanse(des, sizeof des);
	}
	if (!authkey_lookup(&kf, g->authid, (uint8_t[AUTH_AESKEYLEN]){ 0 },
	    (uint8_t[AUTH_DESKEYLEN]){ 0 }, &has_des))
		printf("warning: no key for the host owner %s: rcpu and nvram need one\n", g->authid);
	authkey_free(&kf);
	inv_unref(inv);
	return 0;
}

/* A new regular file (0600, atomically), or an existing device or
 * partition written in place at offset 0. */
static int
write_image(const char *out, const uint8_t *img, size_t n)
{
	struct stat st;

	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		int fd = open(out, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		ssize_t w = pwrite(fd, img, n, 0);
		int e = errno;
		if (w == (ssize_t)n && fsync(fd) == 0) {
			close(fd);
			return 0;
		}
		close(fd);
		errno = w < 0 ? e : EIO;
		return -1;
	}
	return write_file_atomic_mode(out, img, n, 0600);
}

int
auth_cmd_nvram(int argc, char **argv, inventory_load_fn *load)
{
	const char *config, *out = NULL;
	char err[256];
	int argi, rc = opts(argc, argv, usage_nvram, &config, &out, &argi);
	struct auth_keyfile kf;
	uint8_t img[NVRAM_LEN];

	if (rc >= 0)
		return rc;
	if (argi != argc - 1 || out == NULL) {
		fputs(usage_nvram, stderr);
		return 2;
	}
	struct inventory *inv = load_inv(load, config);
	if (inv == NULL)
		return 1;
	rc = 1;
	const struct machine *m = inv_machine_lookup(inv, argv[argi]);
	if (m == NULL) {
		fprintf(stderr, "gridbootd: nvram: %s: no machine with that name or MAC in %s\n",
		    argv[argi], config);
		goto out;
	}
	if (!auth_keys_read(inv->grid.keys, &kf, err, sizeof err)) {
		fprintf(stderr, "gridbootd: nvram: %s\n", err);
		goto out;
	}
	bool ok = auth_nvram_from(&kf, inv, img);
	authkey_free(&kf);
	if (!ok) {
		fprintf(stderr, "gridbootd: nvram: no key for the host owner %s in %s "
		    "(gridbootd passwd -c %s %s)\n", inv->grid.authid, inv->grid.keys, config,
		    inv->grid.authid);
		goto out;
	}
	if (write_image(out, img, sizeof img) < 0) {
		fprintf(stderr, "gridbootd: nvram: %s: %s\n", out, strerror(errno));
		goto out;
	}
	bool des = false;
	for (int i = 0; i < 7; i++)
		des |= img[i] != 0;
	printf("%s: nvram for %s: host owner %s@%s, %s\n", out, m->name, inv->grid.authid,
	    inv->grid.authdom, des ? "aes and des keys" : "aes key (p9sk1 off)");
	rc = 0;
out:
	OPENSSL_cleanse(img, sizeof img);
	inv_unref(inv);
	return rc;
}
