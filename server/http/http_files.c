/* Files from a tree: the kernel tree (/files/, grid.files) and the web page
 * (grid.web). Each request opens its file beneath the tree's directory
 * with openat2(RESOLVE_BENEATH), so "..", absolute paths and symlinks that
 * lead out are refused by the kernel itself; only regular files are served.
 * The descriptor goes to MHD, which sends it with sendfile and closes it.
 *
 * HTTP caching and partial transfers: a strong ETag from size, mtime and
 * inode, Last-Modified, If-None-Match / If-Modified-Since (304), and one
 * byte range (Range: bytes=a-b, a-, -n) with If-Range; several ranges are
 * answered with the whole file, which RFC 9110 allows.
 *
 * Small files (iPXE scripts, plan9.ini templates, the web page) are served
 * from memory: the whole response, headers included, is built once and
 * queued again for each request, checked against the file at most once a
 * second (as fileroot's descriptors are). A response is reference counted
 * by MHD, so an entry replaced while connections still send it stays
 * alive until they are done. Bounded: SMALL_SLOTS files of at most
 * SMALL_MAX bytes each. */
#include "core/fileroot.h"
#include "http/http.h"
#include "core/events.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"

#define SMALL_MAX (64 * 1024)
#define SMALL_SLOTS 64
#define SMALL_FRESH_MS 1000

struct small_file {
	char *path;                 /* NULL: a free slot */
	uint32_t hash;
	bool is_web;
	struct MHD_Response *resp;  /* 200, the whole file, every header */
	char etag[80];
	time_t mtime;
	uint64_t size;
	uint64_t checked_ms;        /* monotonic: the file last matched */
	uint64_t used_ms;
};

struct http_small {
	struct small_file v[SMALL_SLOTS];
};

static bool
has_dotdot(const char *p)
{
	for (;;) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return true;
		if ((p = strchr(p, '/')) == NULL)
			return false;
		p++;
	}
}

static const char *
content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".ipxe", "text/plain; charset=utf-8" },
		{ ".ini", "text/plain; charset=utf-8" },
		/* UEFI HTTP boot takes the type from this (UEFI 2.10 24.7.3),
		 * before it falls back to the name's extension. */
		{ ".efi", "application/efi" },
	};
	size_t n = strlen(path);

	for (size_t i = 0; i < nelem(types); i++) {
		size_t k = strlen(types[i].ext);
		if (n > k && strcmp(path + n - k, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Digits only, no sign, no overflow. */
static bool
parse_u64(const char *s, const char *end, uint64_t *v)
{
	*v = 0;
	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || *v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return true;
}

enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/* One range of a file of size bytes: [*off, *off + *len). Syntax it does
 * not take (several ranges, other units) means "send the whole file". */
static enum range_result
parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char *dash, *end;
	uint64_t a, b;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return RANGE_NONE;
	h += 6;
	end = h + strlen(h);
	if ((dash = strchr(h, '-')) == NULL)
		return RANGE_NONE;
	if (dash == h) {                        /* -n: the last n bytes */
		if (!parse_u64(dash + 1, end, &b))
			return RANGE_NONE;
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*len = MIN(b, size);
		*off = size - *len;
		return RANGE_OK;
	}
	if (!parse_u64(h, dash, &a))
		return RANGE_NONE;
	if (dash + 1 == end)
		b = size ? size - 1 : 0;
	else if (!parse_u64(dash + 1, end, &b) || b < a)
		return RANGE_NONE;
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	b = MIN(b, size - 1);
	*off = a;
	*len = b - a + 1;
	return RANGE_OK;
}

static void
http_date(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool
not_modified(struct MHD_Connection *c, const char *etag, time_t mtime)
{
	const char *inm = http_header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims = http_header(c, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	struct tm tm = { 0 };

	if (inm)
		return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
	if (ims && strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL)
		return mtime <= timegm(&tm);
	return false;
}

/* The client's User-Agent for the timeline: printable ASCII only, at most
 * 40 characters, "-" if none. It tells who fetched a file, e.g. OVMF's
 * HTTP boot ("UefiHttpBoot/1.0") from iPXE, on the same address. */
static void
user_agent(struct MHD_Connection *c, char out[41])
{
	const char *ua = http_header(c, MHD_HTTP_HEADER_USER_AGENT);
	size_t n = 0;

	for (; ua && ua[n] && n < 40; n++)
		out[n] = ua[n] >= 0x20 && ua[n] < 0x7f ? ua[n] : '?';
	out[n] = '\0';
	if (n == 0)
		str_copy(out, "-", 41);
}

/* One event per download, not per range request of it. A HEAD is named
 * as such: UEFI HTTP boot asks for the size with one before its GET. */
static void
note_download(const struct http_req *r, struct MHD_Connection *c, const char *path,
    uint64_t off, uint64_t size)
{
	uint8_t mac[6];
	char ua[41];

	if (off == 0 && http_client_mac(r->h, c, mac)) {
		user_agent(c, ua);
		events_emit(mac, EVK_HTTP, "%s /files/%s (%llu bytes, %s)", r->head ? "HEAD" : "GET",
		    path, (unsigned long long)size, ua);
	}
}

static enum MHD_Result
open_error(struct MHD_Connection *c, struct http_req *r, const char *path, int err)
{
	/* fileroot_open_regular's answers: see fileroot.h. */
	switch (err) {
	case ENOENT:
	case ENAMETOOLONG:
		return http_error(c, r, 404, "no file %s", path);
	case EACCES:
		return http_error(c, r, 403, "%s is outside the served tree or not a regular file", path);
	default:
		return http_error(c, r, 500, "%s: %s", path, strerror(err));
	}
}

static void
etag_of(const struct stat *st, char *out, size_t cap)
{
	snprintf(out, cap, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_size,
	    (unsigned long long)st->st_mtim.tv_sec * 1000000000ull + (unsigned long long)st->st_mtim.tv_nsec,
	    (unsigned long long)st->st_ino);
}

static void
small_drop(struct small_file *s)
{
	if (s->resp)
		MHD_destroy_response(s->resp);
	free(s->path);
	memset(s, 0, sizeof *s);
}

void
http_files_flush(struct http_state *h)
{
	if (h->small)
		for (int i = 0; i < SMALL_SLOTS; i++)
			small_drop(&h->small->v[i]);
}

static uint32_t
small_hash(const char *path, bool is_web)
{
	return fnv32(path, strlen(path)) ^ (is_web ? 0x9e3779b9u : 0);
}

/* The entry for path, if it still matches the file (looked at no more than
 * once a second); a stale one is dropped. */
static struct small_file *
small_get(struct http_state *h, int rootfd, const char *path, bool is_web)
{
	uint32_t hv = small_hash(path, is_web);
	uint64_t now = mono_ms();
	struct stat st;
	char etag[80];

	if (h->small == NULL)
		return NULL;
	for (int i = 0; i < SMALL_SLOTS; i++) {
		struct small_file *s = &h->small->v[i];
		if (s->path == NULL || s->hash != hv || s->is_web != is_web || strcmp(s->path, path) != 0)
			continue;
		if (now - s->checked_ms >= SMALL_FRESH_MS) {
			int fd = fileroot_open_regular(rootfd, path, &st);
			if (fd < 0) {
				small_drop(s);
				return NULL;
			}
			close(fd);
			etag_of(&st, etag, sizeof etag);
			if (strcmp(etag, s->etag) != 0) {
				small_drop(s);
				return NULL;
			}
			s->checked_ms = now;
		}
		s->used_ms = now;
		return s;
	}
	return NULL;
}

/* Keeps resp (its own reference) for path; the least recently used
 * entry makes room. */
static void
small_put(struct http_state *h, const char *path, bool is_web, struct MHD_Response *resp,
    const char *etag, time_t mtime, uint64_t size)
{
	struct small_file *s;

	if (h->small == NULL)
		h->small = ecalloc(1, sizeof *h->small);
	s = &h->small->v[0];
	for (int i = 0; i < SMALL_SLOTS; i++) {
		struct small_file *t = &h->small->v[i];
		if (t->path == NULL) {
			s = t;
			break;
		}
		if (t->used_ms < s->used_ms)
			s = t;
	}
	small_drop(s);
	s->path = estrdup(path);
	s->hash = small_hash(path, is_web);
	s->is_web = is_web;
	s->resp = resp;
	str_copy(s->etag, etag, sizeof s->etag);
	s->mtime = mtime;
	s->size = size;
	s->checked_ms = s->used_ms = mono_ms();
}

/* The whole file in memory, or NULL (too large, or it changed while read). */
static char *
read_small(int fd, uint64_t size)
{
	char *buf;
	size_t got = 0;

	if (size > SMALL_MAX)
		return NULL;
	buf = emalloc(size ? size : 1);
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	return buf;
}

static void
add_file_headers(struct MHD_Response *resp, const char *path, const char *etag,
    const char *lm, bool is_web)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (is_web)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
}

static enum MHD_Result
not_modified_reply(struct MHD_Connection *c, struct http_req *r, const char *etag)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	return http_reply(c, r, 304, resp);
}

/* A whole small file from memory: no open, no stat, one send. A range
 * asks for the descriptor path. */
static bool
serve_small(struct MHD_Connection *c, struct http_req *r, int rootfd, const char *path,
    bool is_web, enum MHD_Result *res)
{
	struct small_file *s;

	if (http_header(c, MHD_HTTP_HEADER_RANGE) != NULL ||
	    (s = small_get(r->h, rootfd, path, is_web)) == NULL)
		return false;
	(*r->h->m_small_hits)++;
	if (not_modified(c, s->etag, s->mtime)) {
		*res = not_modified_reply(c, r, s->etag);
		return true;
	}
	*r->h->bytes[r->route] += s->size;
	if (!is_web)
		note_download(r, c, path, 0, s->size);
	*res = http_reply_shared(c, r, 200, s->resp);
	return true;
}

enum MHD_Result
http_files(struct MHD_Connection *c, struct http_req *r, int rootfd, const char *path,
    bool is_web)
{
	enum MHD_Result res;
	struct stat st;
	char etag[80], lm[64], cr[96];
	uint64_t off = 0, len;
	unsigned status = 200;
	int fd;

	if (!is_web)
		r->route = RT_FILES;
	if (*path == '\0' || *path == '/' || has_dotdot(path))
		return http_error(c, r, 400, "bad path");
	if (rootfd < 0)
		return open_error(c, r, path, ENOENT);
	if (serve_small(c, r, rootfd, path, is_web, &res))
		return res;
	if ((fd = fileroot_open_regular(rootfd, path, &st)) < 0)
		return open_error(c, r, path, -fd);
	etag_of(&st, etag, sizeof etag);
	http_date(st.st_mtim.tv_sec, lm, sizeof lm);
	if (not_modified(c, etag, st.st_mtim.tv_sec)) {
		close(fd);
		return not_modified_reply(c, r, etag);
	}
	len = (uint64_t)st.st_size;
	const char *range = http_header(c, MHD_HTTP_HEADER_RANGE);
	const char *ifr = http_header(c, MHD_HTTP_HEADER_IF_RANGE);
	if (range && ifr && strcmp(ifr, etag) != 0 && strcmp(ifr, lm) != 0)
		range = NULL;       /* the client's copy is stale: send it all */
	switch (parse_range(range, (uint64_t)st.st_size, &off, &len)) {
	case RANGE_UNSATISFIABLE: {
		close(fd);
		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)st.st_size);
		json_t *j = json_pack("{s:s}", "error", "range not satisfiable");
		char *text = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text,
		    MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		(*r->h->rejected_input)++;
		return http_reply(c, r, 416, resp);
	}
	case RANGE_OK:
		status = 206;
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off,
		    (unsigned long long)(off + len - 1), (unsigned long long)st.st_size);
		break;
	case RANGE_NONE:
		off = 0;
		len = (uint64_t)st.st_size;
		break;
	}
	char *body = status == 200 ? read_small(fd, (uint64_t)st.st_size) : NULL;
	if (body) {
		close(fd);
		struct MHD_Response *resp = MHD_create_response_from_buffer((size_t)st.st_size, body,
		    MHD_RESPMEM_MUST_FREE);
		if (resp == NULL) {
			free(body);
			return http_error(c, r, 500, "cannot create a response");
		}
		add_file_headers(resp, path, etag, lm, is_web);
		small_put(r->h, path, is_web, resp, etag, st.st_mtim.tv_sec, (uint64_t)st.st_size);
		*r->h->bytes[r->route] += len;
		if (!is_web)
			note_download(r, c, path, 0, (uint64_t)st.st_size);
		return http_reply_shared(c, r, 200, resp);
	}
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
	if (resp == NULL) {
		close(fd);
		return http_error(c, r, 500, "cannot create a response");
	}
	add_file_headers(resp, path, etag, lm, is_web);
	if (status == 206)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	*r->h->bytes[r->route] += len;
	if (!is_web)
		note_download(r, c, path, off, (uint64_t)st.st_size);
	return http_reply(c, r, status, resp);
}
