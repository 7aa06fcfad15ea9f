/* A small synthetic file tree as a 9P backend: in-memory directories and
 * files whose contents come from callbacks.
 *
 * Reading a file calls its read callback once, when the file is opened
 * (the Plan 9 habit for generated files: a read sequence sees one
 * consistent text); reads then serve that snapshot at any offset. Each
 * Twrite hands its bytes to the write callback (the offset is ignored: these
 * are control files), which may refuse with a human-readable reason that
 * 9P2000 clients see as the Rerror text. The tree cannot be changed over
 * 9P: create, remove and wstat are refused.
 *
 * Nodes live until p9_synth_free; build the tree first, free the sessions
 * before the tree. Used by the unit tests and the 9P session fuzzer only;
 * the grid tree (p9_grid.c) has its own nodes. */
#ifndef GRIDBOOT_P9_SYNTH_H
#define GRIDBOOT_P9_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "p9/p9_srv.h"

/* Writes the file's text into buf (at most cap bytes) and returns its full
 * length, as snprintf does; called again with a larger buffer when the
 * text did not fit (up to P9_SYNTH_MAXTEXT). */
typedef size_t p9_synth_read_fn(void *arg, char *buf, size_t cap);
/* Takes one write's bytes. Returns 0, or -1 with a reason in err. */
typedef int p9_synth_write_fn(void *arg, const char *data, size_t len, char *err,
    size_t errcap);

#define P9_SYNTH_MAXTEXT (1u << 20)

struct p9_synth;
struct p9_synth_node;

struct p9_synth *p9_synth_new(const char *owner);       /* NULL owner: "glenda" */
void p9_synth_free(struct p9_synth *t);
struct p9_synth_node *p9_synth_root(struct p9_synth *t);

/* Add a directory or file under parent; NULL when the name is taken, not a
 * valid name, or parent is not a directory. perm is 0444, 0644, 0200 ...;
 * a file without a write callback is read-only, one without a read
 * callback reads as empty. */
struct p9_synth_node *p9_synth_mkdir(struct p9_synth *t, struct p9_synth_node *parent,
    const char *name);
struct p9_synth_node *p9_synth_mkfile(struct p9_synth *t, struct p9_synth_node *parent,
    const char *name, uint32_t perm, p9_synth_read_fn *read, p9_synth_write_fn *write,
    void *arg);

/* The file's content changed: its qid.vers and mtime move on, so caching
 * clients read it again. */
void p9_synth_touch(struct p9_synth_node *n);

/* The backend; its ctx is the struct p9_synth. */
extern const struct p9_backend p9_synth_backend;

#endif
