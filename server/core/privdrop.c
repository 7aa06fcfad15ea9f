/* Giving up root once the sockets are bound, as OpenBSD's daemons do:
 * with grid.user set, gridbootd runs as that user and keeps only the two
 * capabilities its own work needs after start-up:
 *   CAP_NET_BIND_SERVICE  a reload that moves HTTP or TFTP to a port < 1024
 *   CAP_NET_ADMIN         SIOCSARP, to unicast a reply to a client that
 *                         has no address yet (RFC 2131 4.1)
 * Not CAP_NET_RAW: the only raw socket (ICMPv6, the RA module's) is
 * opened at start, before this, and keeps working; and the only
 * SO_BINDTODEVICE (DHCP's sockets per grid.interfaces) happens at start;
 * a reload never reopens them (a port or interface change waits for a
 * restart). PR_SET_NO_NEW_PRIVS then keeps any exec from gaining more.
 * The state directory and what is in it are handed to the user first (the
 * lease journal, discovered.json and assignments.json are rewritten by
 * rename there), and so is the pidfile, which it empties at exit when its
 * directory does not let it remove the file. Supplementary groups are the
 * user's own (initgroups). Everything else gridbootd reads (the inventory, files,
 * templates, web) must be readable by the user: a reload that cannot read
 * the inventory keeps the old one and says why, as with any bad reload.
 * No libcap: two system calls do it. */
#include "core/privdrop.h"
#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int kept_caps[] = { CAP_NET_BIND_SERVICE, CAP_NET_ADMIN };

/* Hands one file in dfd to the user: opened without following a symlink,
 * and only a regular file with no other link, so a link planted in the
 * directory by an earlier, compromised run cannot point the chown at a
 * file of root's. fstat on the open descriptor leaves no race. */
static int
give_file(int dfd, const char *dir, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			return 0;       /* a symlink: not ours, left alone */
		log_err("grid.user: %s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    (st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0) {
		log_err("grid.user: %s/%s: %s", dir, name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The state directory and its plain files (one level: gridbootd makes no
 * subdirectories) become the user's. */
static int
give_state(const char *dir, uid_t uid, gid_t gid)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (dfd < 0 || fchown(dfd, uid, gid) < 0) {
		log_err("grid.user: %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		log_err("grid.user: %s: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		if (give_file(dirfd(d), dir, e->d_name, uid, gid) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

static int
keep_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof data);
	for (size_t i = 0; i < sizeof kept_caps / sizeof kept_caps[0]; i++) {
		int c = kept_caps[i];
		data[c / 32].permitted |= 1u << (c % 32);
		data[c / 32].effective |= 1u << (c % 32);
	}
	return (int)syscall(SYS_capset, &hdr, data);
}

int
privdrop(const char *user, const char *statedir, const char *pidfile)
{
	struct passwd *pw;

	if (user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_err("grid.user: %s: %s", user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		log_err("grid.user: only root can become %s", user);
		return -1;
	}
	/* pw is getpwnam's static buffer: keep the ids before other look-ups. */
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;

	if (give_state(statedir, uid, gid) < 0)
		return -1;
	/* The pidfile's directory is usually root's (/run): the user cannot
	 * remove the file at exit, so it may at least empty it. */
	if (pidfile && lchown(pidfile, uid, gid) < 0) {
		log_err("grid.user: %s: %s", pidfile, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    initgroups(user, gid) < 0 ||
	    setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0 ||
	    keep_caps() < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
		log_err("grid.user: becoming %s: %s", user, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("grid.user: no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* A core dump of a daemon that holds the API token stays off. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_info("running as %s (uid %u), keeping net_bind_service, net_admin",
	    user, (unsigned)uid);
	return 0;
}

/* Would uid (in groups) pass the permission bits of st for want (4 r, 1 x)? */
static bool
allowed(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups, unsigned want)
{
	unsigned bits = st->st_mode & 07;

	if (uid == 0)
		return true;
	if (st->st_uid == uid)
		bits = (st->st_mode >> 6) & 07;
	else
		for (int i = 0; i < ngroups; i++)
			if (groups[i] == st->st_gid) {
				bits = (st->st_mode >> 3) & 07;
				break;
			}
	return (bits & want) == want;
}

int
privdrop_can_read(const char *user, const char *path, bool isdir, char *why, size_t cap)
{
	struct passwd *pw = getpwnam(user);
	gid_t groups[64];
	int ngroups = (int)(sizeof groups / sizeof groups[0]);
	char prefix[PATH_MAX];
	struct stat st;

	if (pw == NULL || path[0] != '/' || strlen(path) >= sizeof prefix)
		return 0;       /* nothing to say: the caller checks these */
	uid_t uid = pw->pw_uid;         /* before getgrouplist's own look-ups */
	if (getgrouplist(user, pw->pw_gid, groups, &ngroups) < 0)
		ngroups = (int)(sizeof groups / sizeof groups[0]);
	/* Every directory on the way must let the user pass (x). */
	for (const char *p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		size_t n = (size_t)(p - path);
		memcpy(prefix, path, n);
		prefix[n] = '\0';
		if (stat(prefix, &st) == 0 && !allowed(&st, uid, groups, ngroups, 1)) {
			snprintf(why, cap, "%s (mode %03o, owner %u) does not let %s through",
			    prefix, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid, user);
			return -1;
		}
	}
	if (stat(path, &st) == 0 && !allowed(&st, uid, groups, ngroups, isdir ? 5 : 4)) {
		snprintf(why, cap, "%s (mode %03o, owner %u) is not readable by %s",
		    path, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid, user);
		return -1;
	}
	return 0;
}
