#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
oom(void)
{
	fputs("gridbootd: out of memory\n", stderr);
	abort();
}

void *
emalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
ecalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
erealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void
prefault(void *p, size_t n)
{
	volatile uint8_t *b = p;

	/* A write: a read would map the shared zero page and fault again on
	 * the first store. */
	for (size_t i = 0; i < n; i += 4096)
		b[i] = b[i];
	if (n)
		b[n - 1] = b[n - 1];
}

char *
estrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		oom();
	return p;
}

char *
esprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

size_t
str_copy(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);

	if (cap > 0) {
		size_t m = n < cap - 1 ? n : cap - 1;
		memcpy(dst, src, m);
		dst[m] = '\0';
	}
	return n;
}

bool
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Accepts 52:54:00:00:00:11, 52-54-00-00-00-11 and 525400000011. */
bool
mac_parse(const char *s, uint8_t mac[6])
{
	size_t len = strlen(s);
	int step;

	if (len == 17 && (s[2] == ':' || s[2] == '-'))
		step = 3;
	else if (len == 12)
		step = 2;
	else
		return false;
	for (int i = 0; i < 6; i++) {
		const char *p = s + i * step;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			return false;
		if (step == 3 && i < 5 && p[2] != s[2])
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void
mac_format(const uint8_t mac[6], char out[18])
{
	static const char hex[] = "0123456789abcdef";

	/* By hand: these three run several times per DHCP exchange (the
	 * decision, the timeline, the journal), where snprintf's parsing
	 * of its format was a measurable share of the daemon's CPU. */
	for (int i = 0; i < 6; i++) {
		out[3 * i] = hex[mac[i] >> 4];
		out[3 * i + 1] = hex[mac[i] & 15];
		out[3 * i + 2] = i < 5 ? ':' : '\0';
	}
}

void
mac_hex(const uint8_t mac[6], char out[13])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[12] = '\0';
}

bool
ip_parse(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

void
ip_format(uint32_t ip, char out[16])
{
	char *p = out;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned b = (ip >> shift) & 0xff;
		if (b >= 100)
			*p++ = (char)('0' + b / 100);
		if (b >= 10)
			*p++ = (char)('0' + b / 10 % 10);
		*p++ = (char)('0' + b % 10);
		*p++ = shift ? '.' : '\0';
	}
}

uint32_t
prefix_mask(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

bool
cidr_parse(const char *s, uint32_t *net, int *prefix)
{
	char buf[32], *slash, *end;
	long p;

	if (str_copy(buf, s, sizeof buf) >= sizeof buf)
		return false;
	slash = strchr(buf, '/');
	if (slash == NULL)
		return false;
	*slash++ = '\0';
	errno = 0;
	p = strtol(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || p < 0 || p > 32)
		return false;
	if (!ip_parse(buf, net))
		return false;
	*prefix = (int)p;
	return (*net & ~prefix_mask(*prefix)) == 0;
}

bool
ip6_parse(const char *s, uint8_t ip[16])
{
	return inet_pton(AF_INET6, s, ip) == 1;
}

void
ip6_format(const uint8_t ip[16], char out[46])
{
	if (inet_ntop(AF_INET6, ip, out, 46) == NULL)
		str_copy(out, "?", 46);
}

bool
ip6_in(const uint8_t ip[16], const uint8_t net[16], int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (memcmp(ip, net, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (ip[full] & m) == (net[full] & m);
}

bool
ip6_zero(const uint8_t ip[16])
{
	static const uint8_t z[16];
	return memcmp(ip, z, 16) == 0;
}

bool
cidr6_parse(const char *s, uint8_t net[16], int *prefix)
{
	char buf[64], *slash, *end;
	long p;

	if (str_copy(buf, s, sizeof buf) >= sizeof buf || (slash = strchr(buf, '/')) == NULL)
		return false;
	*slash++ = '\0';
	p = strtol(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || p < 0 || p > 128 || !ip6_parse(buf, net))
		return false;
	*prefix = (int)p;
	/* No host bits: the address equals its own network. */
	uint8_t masked[16] = { 0 };
	memcpy(masked, net, (size_t)(p / 8));
	if (p % 8)
		masked[p / 8] = (uint8_t)(net[p / 8] & (0xff << (8 - p % 8)));
	return memcmp(masked, net, 16) == 0;
}

int
hex_bytes_parse(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		if (*s == ':' || *s == '-') {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || n == cap)
			return -1;
		char h[3] = { s[0], s[1], 0 };
		out[n++] = (uint8_t)strtoul(h, NULL, 16);
		s += 2;
	}
	return (int)n;
}

void
hex_bytes_format(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return;
	for (size_t i = 0; i < n && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? ":" : "", b[i]);
	out[o] = '\0';
}

static int
fsync_dir_of(const char *path)
{
	char *copy = estrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	int rc = -1;

	free(copy);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	return rc;
}

int
write_file_atomic(const char *path, const void *data, size_t len)
{
	return write_file_atomic_mode(path, data, len, 0640);
}

/* Root writing into a directory another user owns: that user's file, by
 * descriptor (the temporary nobody else can have opened), so that the
 * daemon, once it runs as that user, can still rewrite it. */
static int
give_to_dir_owner(int fd, const char *path)
{
	char *copy;
	struct stat st;
	int rc;

	if (geteuid() != 0)
		return 0;
	copy = estrdup(path);
	rc = stat(dirname(copy), &st);
	free(copy);
	if (rc < 0)
		return -1;
	if (st.st_uid == 0)
		return 0;
	return fchown(fd, st.st_uid, st.st_gid);
}

static int tmp_id;      /* 0: getpid() */

void
write_file_tmp_id(int id)
{
	tmp_id = id;
}

int
write_file_atomic_mode(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = esprintf("%s.tmp.%d", path, tmp_id ? tmp_id : (int)getpid());
	const uint8_t *p = data;
	int fd, saved;

	/* The directory may be grid.user's (the state directory) while we
	 * are still root: never open what someone left at the temporary's
	 * name. O_EXCL | O_NOFOLLOW creates a new file or fails; a leftover
	 * (a crash, or a planted symbolic or hard link) is unlinked, which
	 * removes the name, never its target, and the create is tried once
	 * more. rename() then replaces path itself, a link there included. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 || give_to_dir_owner(fd, path) < 0)
		goto fail_fd;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	fsync_dir_of(path);
	return 0;
fail_fd:
	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
fail:
	saved = errno;
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

char *
read_file(const char *path, size_t *lenp, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? NULL : read_fd_close(fd, lenp, max);
}

/* The owner a state file may have besides us: the directory's, when we
 * are root (the files of grid.user). (uid_t)-1 for none. */
static uid_t
dir_owner(const char *path)
{
	char *copy;
	struct stat st;
	int rc;

	if (geteuid() != 0)
		return (uid_t)-1;
	copy = estrdup(path);
	rc = stat(dirname(copy), &st);
	free(copy);
	return rc == 0 ? st.st_uid : (uid_t)-1;
}

int
state_open(const char *path, int flags)
{
	int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int e = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = ENODEV;
	else if (st.st_nlink != 1)
		e = EMLINK;
	else if (st.st_uid != geteuid() && st.st_uid != dir_owner(path))
		e = EPERM;
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *
state_strerror(int err)
{
	switch (err) {
	case ELOOP: return "a symbolic link (refused: a state file is never followed)";
	case ENODEV: return "not a regular file (refused)";
	case EMLINK: return "has another link (refused)";
	case EPERM: return "owned by another user (refused)";
	}
	return strerror(err);
}

char *
read_fd_close(int fd, size_t *lenp, size_t max)
{
	size_t len = 0, cap = 4096;
	char *buf;

	buf = emalloc(cap + 1);
	for (;;) {
		ssize_t n;
		if (len == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = erealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

char *
read_state_file(const char *path, size_t *lenp, size_t max)
{
	int fd = state_open(path, O_RDONLY);

	return fd < 0 ? NULL : read_fd_close(fd, lenp, max);
}

int
mkdir_p(const char *path, int mode)
{
	char *copy = estrdup(path);
	int rc = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(copy, (mode_t)mode) < 0 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(copy);
	return rc;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
		    (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

char *
str_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
	return s;
}

char *
move_aside(const char *path)
{
	char *to = esprintf("%s.corrupt-%lld", path, (long long)(wall_ms() / 1000));

	if (rename(path, to) < 0) {
		int e = errno;
		free(to);
		errno = e;
		return NULL;
	}
	fsync_dir_of(to);
	return to;
}

void
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 256;
		b->p = erealloc(b->p, b->cap);
	}
	b->len += (size_t)n;
}
