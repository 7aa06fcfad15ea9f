/* Small helpers shared by every module: allocation that never returns NULL,
 * bounded string copies, clocks. */
#ifndef GRIDBOOT_UTIL_H
#define GRIDBOOT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define nelem(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

void *emalloc(size_t n);
void *ecalloc(size_t n, size_t size);
void *erealloc(void *p, size_t n);
/* Touches every page of p[0..n) once, so the buffers a burst of packets
 * lands in are mapped before it comes: the first turn of a fresh daemon
 * otherwise pays a page fault per datagram slot (about 1 ms for DHCP's
 * 64 receive slots in a VM), in the latency of the first clients. */
void prefault(void *p, size_t n);
char *estrdup(const char *s);
char *esprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies at most cap-1 bytes and always terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t cap);
/* Makes s safe for one log line or a JSON string, in place: control
 * characters (newlines included) and bytes that are not well-formed UTF-8
 * become '?'. Returns s. */
char *str_sanitize(char *s);
/* Renames a file that could not be read as what it should be to
 * PATH.corrupt-SECONDS, where an operator finds it, before a fresh one is
 * written in its place. Returns the new name (free it), or NULL (errno). */
char *move_aside(const char *path);
bool str_has_prefix(const char *s, const char *prefix);

uint64_t mono_ms(void);    /* monotonic clock, milliseconds */
uint64_t mono_us(void);    /* ... microseconds */
int64_t wall_ms(void);     /* wall clock, milliseconds since the epoch */
int64_t wall_ns(void);     /* ... nanoseconds (file times: 9P mtime/atime) */

/* MAC and IPv4 text forms. IPv4 addresses are kept in host byte order. */
bool mac_parse(const char *s, uint8_t mac[6]);
void mac_format(const uint8_t mac[6], char out[18]);   /* 52:54:00:00:00:11 */
void mac_hex(const uint8_t mac[6], char out[13]);      /* 525400000011 */
bool ip_parse(const char *s, uint32_t *ip);
void ip_format(uint32_t ip, char out[16]);
bool cidr_parse(const char *s, uint32_t *net, int *prefix);
uint32_t prefix_mask(int prefix);
/* IPv6: 16 bytes in network order; text as inet_ntop writes it. */
bool ip6_parse(const char *s, uint8_t ip[16]);
void ip6_format(const uint8_t ip[16], char out[46]);
/* "fd99::/64": the network with no host bits set, prefix 0..128. */
bool cidr6_parse(const char *s, uint8_t net[16], int *prefix);
bool ip6_in(const uint8_t ip[16], const uint8_t net[16], int prefix);
bool ip6_zero(const uint8_t ip[16]);
/* One hex digit's value, or -1. Inline: the auth codecs and their fuzz
 * target use it without linking the rest of this file. */
static inline int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
/* Hex bytes "00:01:ab" or "0001ab" (DUIDs); the length, or -1. */
int hex_bytes_parse(const char *s, uint8_t *out, size_t cap);
void hex_bytes_format(const uint8_t *b, size_t n, char *out, size_t cap);

/* Writes data to path atomically: temp file, fsync, rename, fsync dir.
 * Run as root in a directory another user owns (the state directory of a
 * daemon with grid.user), the new file is given to that owner by
 * descriptor before the rename, never chowned later by path. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* The same with the new file's mode (0600 for secrets: the temp file is
 * created with it, never wider, even for a moment). */
int write_file_atomic_mode(const char *path, const void *data, size_t len, int mode);
/* The number in the temporary names (PATH.tmp.N): getpid() unless set; a
 * helper process (the auth module's key process) writes under the
 * daemon's, so one daemon's leftovers have one name. */
void write_file_tmp_id(int id);
/* Reads a whole small file; NULL with errno set on failure. */
char *read_file(const char *path, size_t *len, size_t max);
/* The same from an open descriptor, which it closes in every case. */
char *read_fd_close(int fd, size_t *len, size_t max);

/* Files in the state directory, which grid.user owns: whoever runs as
 * that user can plant anything there, and root reads and chowns those
 * files (start-up before the drop, gridbootd passwd). state_open opens one
 * by descriptor and accepts only a regular file with one link,
 * owned by us or (when we are root) by the directory's owner; it never
 * follows a symbolic link (O_NOFOLLOW) and never blocks on a FIFO
 * (O_NONBLOCK, then fstat). A refusal sets errno to ELOOP (a link),
 * ENODEV (not a regular file), EMLINK (another name) or EPERM (a
 * stranger's file); state_strerror says which in words. */
int state_open(const char *path, int flags);      /* O_RDONLY, O_WRONLY (| O_APPEND) */
char *read_state_file(const char *path, size_t *len, size_t max);
const char *state_strerror(int err);
int mkdir_p(const char *path, int mode);

/* Text built by appending, growing as needed; p is malloc'd (or NULL while
 * empty) and NUL-terminated, len its length. */
struct strbuf {
	char *p;
	size_t len, cap;
};
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
