/* The key process: the one process that holds the key file, keyseed and
 * every user's keys (OpenBSD's privsep, 9front's keyfs). Forked by the
 * auth module at start (before the daemon drops root), it keeps only its
 * end of two socketpairs (keymsg.h): one the loop's requests come over
 * (the auth port, rcpu), answered in order, and one for the few calls the
 * network process makes synchronously (nvram images, 9P afids, reloads).
 * It closes every other descriptor, becomes grid.user with no
 * capabilities, no_new_privs, not dumpable, and installs a seccomp
 * allowlist; it dies with the daemon (PR_SET_PDEATHSIG, and EOF on a
 * pair). It never logs itself (syslog would want a socket): KM_LOG
 * messages carry its lines to the network process's log. */
#ifndef GRIDBOOT_KEYPROC_H
#define GRIDBOOT_KEYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keyproc;

/* The key process's state for the key file at path (not read yet). */
struct keyproc *keyproc_new(const char *path);
/* Reads the key file and keyseed; on failure the old keys stay. false
 * with a message in err. */
bool keyproc_load(struct keyproc *kp, char *err, size_t errlen);
/* Serves the descriptors (the pairs' ends) until one reports EOF: 0, or
 * -1 on an error of the pair. Unit tests run it over a socketpair. */
int keyproc_serve(struct keyproc *kp, const int *fds, int nfds);
/* Messages refused so far (garbage, truncated, oversized, out of turn). */
uint64_t keyproc_refused(const struct keyproc *kp);
void keyproc_free(struct keyproc *kp);

/* The spawned child (`gridbootd keyproc PATH USER PPID`, fds 3 and 4):
 * loads, confines itself (user may be empty: stays who it is, still
 * without capabilities), serves, exits. Never returns. ppid is the
 * daemon's pid: if it is gone already, the key process is not needed. */
void keyproc_main(const char *path, const char *user, int fd_async, int fd_sync, int ppid)
    __attribute__((noreturn));

#endif
