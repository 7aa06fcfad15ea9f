/* The network process's side of the key process (keyproc.h): starting
 * it, tagged sessions, requests sent without waiting (their replies come
 * back as events on the socketpair, in the loop) and the few calls that
 * wait (nvram images, 9P afids, reloads). */
#ifndef GRIDBOOT_KEYCLIENT_H
#define GRIDBOOT_KEYCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth/keymsg.h"
#include "auth/rcpu.h"
#include "core/evloop.h"

#define KC_SLOTS 1024           /* sessions at once (auth + rcpu + afid) */
#define KC_QUEUE 512            /* requests waiting for room in the pair */

struct keyclient;

/* A reply (KM_AREPLY, KM_RREPLY, or KM_REFUSED) for the tag's session. */
typedef void (*kc_reply_fn)(void *arg, uint32_t tag, const struct kmsg *m);
/* The key process is gone (why says how); nothing that needs a key works
 * any more. */
typedef void (*kc_dead_fn)(void *arg, const char *why);

/* Forks the key process for the key file at path (it becomes user, may be
 * NULL) and registers the pair with loop; replies with tag 0 (KM_LOADED,
 * the answer to kc_load) go to ctl(arg). NULL on failure, logged. */
struct keyclient *kc_start(struct evloop *loop, const char *path, const char *user,
    kc_dead_fn dead, kc_reply_fn ctl, void *arg);
/* Closes the pairs (the key process exits on EOF) and reaps it. */
void kc_stop(struct keyclient *kc);

/* A new session's tag (never 0), whose replies go to fn(arg); 0 when
 * every slot is taken. kc_close ends it: a reply still on its way is
 * dropped. */
uint32_t kc_open(struct keyclient *kc, kc_reply_fn fn, void *arg);
void kc_close(struct keyclient *kc, uint32_t tag);
/* Sends a request without waiting; -1 when the queue is full or the key
 * process is gone. */
int kc_send(struct keyclient *kc, uint32_t tag, uint8_t type, const void *body, size_t len);

/* Sends a request on the synchronous pair and waits (at most 5 s) for its
 * reply of type want into buf (KMSG_MAX bytes), m pointing into it. false
 * on a timeout, KM_REFUSED, or a dead key process (logged). */
bool kc_call(struct keyclient *kc, uint32_t tag, uint8_t type, const void *body, size_t len,
    uint8_t want, uint8_t *buf, struct kmsg *m);

/* Asks the key process to re-read the key file and keyseed; the answer
 * (KM_LOADED: ok[1] users[4] message) comes to ctl in the loop. -1: the
 * key process is gone or busy. */
int kc_load(struct keyclient *kc);

/* rcpu's server half before TLS, through the key process (synchronous).
 * sh is the network's rcpu without keys: its st and p9sk1 frame the next
 * step; user, why (into whybuf, 64 bytes) and, when want_secret, the
 * session secret arrive with RCPU_AUTHED. */
bool kc_rcpu_start(struct keyclient *kc, uint32_t tag, const char *authid, const char *dom,
    const char *offer, struct rcpu *sh, char *whybuf, struct rcpu_out *out);
enum rcpu_result kc_rcpu_input(struct keyclient *kc, uint32_t tag, struct rcpu *sh, char *whybuf,
    bool want_secret, const uint8_t *p, size_t n, struct rcpu_out *out);
/* A KM_RREPLY into sh and out (the async path's reader too). */
enum rcpu_result kc_rcpu_reply(const struct kmsg *m, struct rcpu *sh, char *whybuf,
    struct rcpu_out *out);

#endif
