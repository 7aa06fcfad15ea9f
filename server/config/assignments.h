/* Role assignments made through the HTTP API, kept apart from the
 * operator's inventory file so that file is never rewritten.
 *
 * They live in STATE/assignments.json (grid.state), one record per MAC:
 *   {"assignments": [{"mac": "52:54:00:00:00:99", "role": "cpu",
 *                     "name": "m-525400000099", "arch": "amd64",
 *                     "firmware": "bios", "set_ms": 1700000000000}, ...]}
 * and the loader merges them over the parsed file on every load (start-up,
 * SIGHUP, `gridbootd check`):
 *   - a MAC the file already lists keeps its name, address and plan9.ini
 *     but takes the assigned role (and that role's kernel and boot method
 *     unless the machine sets its own);
 *   - any other MAC becomes a new machine with the given name, no fixed
 *     address (it keeps a pool lease), and the arch/firmware seen in its
 *     DHCP option 93 when it was assigned.
 * A record that no longer fits the inventory (its role was removed, its
 * name is now taken, the role's kernel is for another arch) is skipped
 * with a warning; the operator's file always wins over a stale record. */
#ifndef GRIDBOOT_ASSIGNMENTS_H
#define GRIDBOOT_ASSIGNMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inventory.h"

/* Called by the loader (loader.h) on a parsed, valid inventory. True
 * when the store had any assignment (the indexes must then be rebuilt). */
bool assignments_merge(struct inventory *inv);

/* Checks that role can be given to mac in inv; fills arch/firmware for a
 * machine the file does not list from client_arch (DHCP option 93, -1 if
 * unknown). Returns false and says why otherwise. */
bool assignments_check(const struct inventory *inv, const uint8_t mac[6],
    const char *role, const char *name, int client_arch,
    enum arch *arch, enum firmware *fw, char *why, size_t whycap);

/* Read-modify-write of STATE/assignments.json (atomic rename). */
int assignments_store(const char *statedir, const uint8_t mac[6], const char *role,
    const char *name, enum arch arch, enum firmware fw);
/* With a shared store (core/store.h, docs/scale.md): every change is
 * also written to table t, which assignments_take reads back on the
 * other instances (r: one record from t); true when it changed the local
 * file, and the caller then reloads. */
struct store_tab;
struct store_rec;
void assignments_share(struct store_tab *t);
bool assignments_take(const char *statedir, const struct store_rec *r);
/* False while the shared store is away: role changes are refused (503)
 * then, as a change only this instance knew would be undone later. */
bool assignments_may_change(void);
/* Returns 1 if removed, 0 if there was none, -1 on a write error. */
int assignments_remove(const char *statedir, const uint8_t mac[6]);


/* The inventory a full load would give after the role change for mac
 * just stored, derived from inv without reading the file: work in
 * proportion to the change (a copy of the machine table aside). NULL when
 * only a full load can say (see assignments.c); the caller then reloads. */
struct inventory *assignments_derive(const struct inventory *inv, const uint8_t mac[6]);

/* Whether the machine would still get a plan9.ini within Plan 9's limits
 * with that role (why[] says what is wrong when not). */
bool assignments_fits(const struct inventory *inv, const uint8_t mac[6], const char *role,
    const char *name, enum arch arch, enum firmware fw, char *why, size_t cap);

/* A role change as the API and the 9P grid tree make it: checked as
 * above, stored, logged and put on the machine's timeline ("through
 * VIA"). 0, or 409 (the role does not fit the machine), 422 (no such
 * role, or a plan9.ini that would not boot) or 500 (the store), with why.
 * The caller then asks for a reload (daemon_request_reload). */
int assignments_apply(const struct inventory *inv, const uint8_t mac[6], const char *role,
    const char *name, int client_arch, const char *via, char *why, size_t whycap);

#endif
