/* Power: gridbootd turns machines on and off and sets their next boot
 * through their BMCs (docs/power.md). The drivers (IPMI over LAN,
 * Redfish) block, so operations run in a small pool of threads with a
 * bounded queue; their results come back to the loop as an eventfd, and
 * there they become the machine's power state, a timeline event and
 * counters. Services (HTTP's API, the 9P grid tree) ask for operations
 * and read the state through this header, under the big lock. */
#ifndef GRIDBOOT_POWER_H
#define GRIDBOOT_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/module.h"

struct machine;

enum power_op { POP_STATUS, POP_ON, POP_OFF, POP_CYCLE, POP_PXE, POP_COUNT };
enum power_state { PST_UNKNOWN, PST_ON, PST_OFF };

extern const struct module power_module;

/* "status", "on", "off", "cycle", "pxe" */
const char *power_op_name(enum power_op op);
bool power_op_parse(const char *s, enum power_op *op);
const char *power_state_name(enum power_state s);

/* Queues op for m on behalf of who ("the API", "the grid tree (glenda)").
 * 0: accepted (its outcome goes to the timeline); else an HTTP status
 * with why: 404 the machine has no power driver, 409 an operation for it
 * is queued or running, 503 the queue is full or power is not running. */
int power_request(const struct machine *m, enum power_op op, const char *who,
    char *why, size_t cap);

/* What is known of a machine's power, for the API and the grid tree. */
struct power_view {
	const char *driver;         /* "ipmi", "redfish" */
	enum power_state state;
	int64_t checked_ms;         /* wall clock of the last answer, 0: none */
	bool busy;                  /* an operation is queued or running */
	enum power_op busy_op;
	bool has_last;              /* an operation (not a poll) has ended */
	enum power_op last_op;
	bool last_ok;
	int64_t last_ms;
	char last_error[200];       /* the last failure (poll or operation), "" */
};
/* false: m has no power driver. */
bool power_view(const struct machine *m, struct power_view *v);

#endif
