/* Logging to stderr (foreground) or syslog, with levels and rate limits.
 * Per-packet messages belong at debug level or behind a ratelimit: a flood
 * of bad packets must cost less to log than to receive. */
#ifndef GRIDBOOT_LOG_H
#define GRIDBOOT_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "core/limiter.h"

void log_init(const char *ident, bool to_stderr, int level);
/* With syslog, copy warnings and errors to stderr too (serve, until it
 * has detached: where syslog is absent a failed start must still say why). */
void log_also_stderr(bool on);
int log_level_parse(const char *name);   /* "debug", "info", ...; -1 if unknown */
void logmsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) logmsg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) logmsg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) logmsg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) logmsg(LOG_DEBUG, __VA_ARGS__)

/* One per call site: at most `burst` messages per second (a fixed window
 * of core/limiter.h), then a count of what was suppressed once the second
 * is over. */
struct ratelimit {
	struct lim_window w;
	unsigned suppressed;
};
#define RATELIMIT_BURST 5
void log_limited(struct ratelimit *rl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
