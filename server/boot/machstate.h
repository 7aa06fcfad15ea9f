/* Each machine's state as the boot timeline shows it: booting (its last
 * step was DHCP, TFTP or HTTP), up (its kernel or the discovery image
 * spoke to us: 9P, auth, enroll), or nothing yet. Fed by an events
 * subscription, read by the API, the web page and the 9P grid tree.
 *
 * Only machines the grid knows are tracked (the predicate the daemon sets:
 * in the inventory or in the discovered store, itself capped), and a
 * reload drops the ones it no longer knows, so a host sending DHCP from
 * made-up MACs cannot grow the table. */
#ifndef GRIDBOOT_MACHSTATE_H
#define GRIDBOOT_MACHSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef bool machstate_known_fn(const uint8_t mac[6], void *arg);

void machstate_init(machstate_known_fn *known, void *arg);
void machstate_shutdown(void);
/* Drops machines no longer known (after a reload). */
void machstate_prune(void);
/* "booting", "up", or NULL when nothing was seen since the start; the
 * wall-clock time of its last event in *last_ms. */
const char *machstate_get(const uint8_t mac[6], int64_t *last_ms);
/* A machine's last boot as steps on its timeline: DHCP (its first DHCP
 * exchange), kernel (its last TFTP or HTTP fetch before the root), root
 * (its first 9P attach), up (the first sign of a running system: that
 * attach, an auth exchange, or the discovery image's enroll). A boot
 * starts with a DHCP exchange (or a fetch, where another server answers
 * DHCP) that follows a running system. 0: not seen. */
enum machstep { STEP_DHCP, STEP_KERNEL, STEP_ROOT, STEP_UP, STEP_COUNT };
void machstate_steps(const uint8_t mac[6], int64_t ms[STEP_COUNT]);
const char *machstate_step_name(enum machstep s);

/* Calls fn for each tracked machine with its state ("booting" or "up"):
 * work grows with the machines seen, not with the inventory. */
typedef void machstate_each_fn(const uint8_t mac[6], const char *state, void *arg);
void machstate_foreach(machstate_each_fn *fn, void *arg);

/* How many machines are tracked (for tests and metrics). */
size_t machstate_count(void);

#endif
