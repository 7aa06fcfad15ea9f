/* The one bounds-checked reader for untrusted bytes, and its writer twin.
 *
 * Every get checks the remaining length; a short read sets a sticky error
 * and returns zero, so a parser reads a whole structure and checks rd.err
 * once at the end (the libnpfs habit). Sub-readers confine a parser to one
 * option's declared length. Nothing here allocates. */
#ifndef GRIDBOOT_BUF_H
#define GRIDBOOT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	const uint8_t *end;
	bool err;
};

static inline struct rd
rd_make(const void *data, size_t len)
{
	struct rd r = { (const uint8_t *)data, (const uint8_t *)data + len, false };
	return r;
}

static inline size_t
rd_left(const struct rd *r)
{
	return r->err ? 0 : (size_t)(r->end - r->p);
}

static inline bool
rd_need(struct rd *r, size_t n)
{
	if (r->err || (size_t)(r->end - r->p) < n) {
		r->err = true;
		return false;
	}
	return true;
}

static inline uint8_t
rd_u8(struct rd *r)
{
	if (!rd_need(r, 1))
		return 0;
	return *r->p++;
}

static inline uint16_t
rd_be16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	uint16_t v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return v;
}

static inline uint32_t
rd_be32(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static inline uint16_t
rd_le16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	uint16_t v = (uint16_t)(r->p[1] << 8 | r->p[0]);
	r->p += 2;
	return v;
}

static inline uint32_t
rd_le32(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	uint32_t v = (uint32_t)r->p[3] << 24 | (uint32_t)r->p[2] << 16 |
	    (uint32_t)r->p[1] << 8 | r->p[0];
	r->p += 4;
	return v;
}

static inline uint64_t
rd_le64(struct rd *r)
{
	uint64_t lo = rd_le32(r);
	uint64_t hi = rd_le32(r);
	return hi << 32 | lo;
}

/* Returns a pointer to the next n bytes, or NULL (and the sticky error). */
static inline const uint8_t *
rd_bytes(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return NULL;
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

static inline void
rd_skip(struct rd *r, size_t n)
{
	(void)rd_bytes(r, n);
}

/* A reader over the next n bytes; the parent moves past them. A short
 * parent yields a sub-reader that is already in error. */
static inline struct rd
rd_sub(struct rd *r, size_t n)
{
	const uint8_t *p = rd_bytes(r, n);
	struct rd s = { p, p ? p + n : NULL, p == NULL };
	return s;
}

/* A NUL-terminated string that must end inside the buffer. Returns it (the
 * bytes stay in the packet) and its length, or NULL with the error set. */
static inline const char *
rd_cstr(struct rd *r, size_t *lenp)
{
	if (r->err)
		return NULL;
	const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
	if (nul == NULL) {
		r->err = true;
		return NULL;
	}
	const char *s = (const char *)r->p;
	if (lenp)
		*lenp = (size_t)(nul - r->p);
	r->p = nul + 1;
	return s;
}

struct wr {
	uint8_t *start;
	uint8_t *p;
	uint8_t *end;
	bool err;
};

static inline struct wr
wr_make(void *buf, size_t cap)
{
	struct wr w = { buf, buf, (uint8_t *)buf + cap, false };
	return w;
}

static inline size_t
wr_len(const struct wr *w)
{
	return (size_t)(w->p - w->start);
}

static inline size_t
wr_room(const struct wr *w)
{
	return w->err ? 0 : (size_t)(w->end - w->p);
}

static inline uint8_t *
wr_reserve(struct wr *w, size_t n)
{
	if (w->err || (size_t)(w->end - w->p) < n) {
		w->err = true;
		return NULL;
	}
	uint8_t *p = w->p;
	w->p += n;
	return p;
}

static inline void
wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_reserve(w, 1);
	if (p)
		p[0] = v;
}

static inline void
wr_be16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_reserve(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void
wr_be32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_reserve(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void
wr_le16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_reserve(w, 2);
	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

static inline void
wr_le32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_reserve(w, 4);
	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		p[3] = (uint8_t)(v >> 24);
	}
}

static inline void
wr_le64(struct wr *w, uint64_t v)
{
	wr_le32(w, (uint32_t)v);
	wr_le32(w, (uint32_t)(v >> 32));
}

static inline void
wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_reserve(w, n);
	if (p && n)
		memcpy(p, src, n);
}

/* Writes s with its terminating NUL. */
static inline void
wr_cstr(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s) + 1);
}

#endif
