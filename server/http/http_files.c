/* Files from a tree: the kernel tree (/files/, grid.files) and the web page
 * (grid.web). Each request opens its file beneath the tree's directory
 * with openat2(RESOLVE_BENEATH), so "..", absolute paths and symlinks that
 * lead out are refused by the kernel itself; only regular files are served.
 * The descriptor goes to MHD, which sends it with sendfile and closes it.
 *
 * HTTP caching and partial transfers: a strong ETag from size, mtime and
 * inode, Last-Modified, If-None-Match / If-Modified-Since (304), and one
 * byte range (Range: bytes=a-b, a-, -n) with If-Range; several ranges are
 * answered with the whole file, which RFC 9110 allows. */
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

enum MHD_Result
http_files(struct MHD_Connection *c, struct http_req *r, int rootfd, const char *path,
    bool is_web)
{
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
	if ((fd = fileroot_open_regular(rootfd, path, &st)) < 0)
		return open_error(c, r, path, -fd);
	snprintf(etag, sizeof etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec,
	    (unsigned long long)st.st_ino);
	http_date(st.st_mtim.tv_sec, lm, sizeof lm);
	if (not_modified(c, etag, st.st_mtim.tv_sec)) {
		close(fd);
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
		return http_reply(c, r, 304, resp);
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
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
	if (resp == NULL) {
		close(fd);
		return http_error(c, r, 500, "cannot create a response");
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (status == 206)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	if (is_web)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	*r->h->bytes[r->route] += len;
	if (!is_web)
		note_download(r, c, path, off, (uint64_t)st.st_size);
	return http_reply(c, r, status, resp);
}
