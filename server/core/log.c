#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Process-wide by nature: where this process's log lines go and how many
 * pass, set once by log_init before anything logs, and read from every
 * thread that logs (the reload thread too). */
static bool log_stderr = true;
static bool log_tee;            /* syslog, and stderr too (until serve detaches) */
static int log_max = LOG_INFO;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error", [LOG_WARNING] = "warn", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void
log_init(const char *ident, bool to_stderr, int level)
{
	log_stderr = to_stderr;
	log_max = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_also_stderr(bool on)
{
	log_tee = on;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < nelem(level_names); i++)
		if (level_names[i] && strcmp(level_names[i], name) == 0)
			return (int)i;
	return -1;
}

static void
vlog(int level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_max)
		return;
	/* One message, one line: what a client sent (a TFTP path, an HTTP
	 * header) must not forge log lines or break them with bad UTF-8. */
	vsnprintf(msg, sizeof msg, fmt, ap);
	str_sanitize(msg);
	if (!log_stderr) {
		syslog(level, "%s", msg);
		if (log_tee && level <= LOG_WARNING)
			fprintf(stderr, "gridbootd: %s\n", msg);
		return;
	}
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	/* One line at a time: an inventory load in its thread logs too. */
	flockfile(stderr);
	fprintf(stderr, "%s.%03ld %s: ", stamp, ts.tv_nsec / 1000000,
	    level_names[level]);
	fputs(msg, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
logmsg(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void
log_limited(struct ratelimit *rl, int level, const char *fmt, ...)
{
	uint64_t now = mono_ms();
	va_list ap;

	if (rl->suppressed > 0 && now - rl->w.start >= 1000) {
		logmsg(level, "(%u similar messages suppressed)", rl->suppressed);
		rl->suppressed = 0;
	}
	if (!lim_window_take(&rl->w, RATELIMIT_BURST, 1000, now)) {
		rl->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
