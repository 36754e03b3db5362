/*
 * IPC codec: frames <-> struct ipc_msg, checked against the catalogue
 * in ipc_msg.h and the per-body schemas of the catalogues this process
 * knows (codec_int.h).
 *
 * Each type has one form.  The root parent's list is a fixed binary
 * encoding (codec_bin.c), so root reads no msgpack and links none; the
 * hub's list is msgpack (codec_mp.c), which only the processes that
 * add that list link.  The first byte tells them apart (IPC_BIN_MARK,
 * a byte msgpack never uses); a type in the other form is refused as
 * unknown to it.  Both decoders allocate nothing and reject rather
 * than repair.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "xmalloc.h"

static const char *const errstr[IPC_E_MAX] = {
	[IPC_OK] = "ok",
	[IPC_E_SHORT] = "truncated frame",
	[IPC_E_SHAPE] = "frame is not [type, req_id, body]",
	[IPC_E_TYPE] = "unknown message type",
	[IPC_E_KEY] = "unknown, missing or repeated key",
	[IPC_E_VALUE] = "value of the wrong type",
	[IPC_E_LENGTH] = "field over its limit",
	[IPC_E_UTF8] = "string is not valid UTF-8",
	[IPC_E_TRAILING] = "bytes after the frame",
	[IPC_E_SIZE] = "frame larger than IPC_FRAME_MAX",
};

/* The hub's and workers' messages, once ipc_catalogue_all() adds them. */
static const struct ipc_catalogue *hub_catalogue;

#ifndef IPC_PARENT_ONLY
/* Never in the parent: its codec knows its own list and form alone. */
void
ipc_catalogue_add(const struct ipc_catalogue *c)
{
	hub_catalogue = c;
}
#endif

const struct msgdef *
ipc_msgdef_in(const struct ipc_catalogue *c, uint32_t type)
{
	size_t i;

	for (i = 0; c != NULL && i < c->n; i++) {
		if (c->defs[i].info.type != type)
			continue;
#ifndef WX_TEST_HOOKS
		/* Test hooks do not exist in production builds. */
		if (c->defs[i].info.flags & MSG_TESTHOOK)
			return NULL;
#endif
		return &c->defs[i];
	}
	return NULL;
}

/* The catalogue that has type, or NULL. */
static const struct ipc_catalogue *
catalogue_of(uint32_t type, const struct msgdef **d)
{
	if ((*d = ipc_msgdef_in(&ipc_catalogue_parent, type)) != NULL)
		return &ipc_catalogue_parent;
	if ((*d = ipc_msgdef_in(hub_catalogue, type)) != NULL)
		return hub_catalogue;
	return NULL;
}

const struct ipc_msginfo *
ipc_msginfo(uint32_t type)
{
	const struct msgdef *d;

	return catalogue_of(type, &d) == NULL ? NULL : &d->info;
}

const char *
ipc_type_name(uint32_t type)
{
	const struct msgdef *d;

	return catalogue_of(type, &d) == NULL ? "unknown" : d->info.name;
}

const char *
ipc_strerror(enum ipc_err e)
{
	if (e < 0 || e >= IPC_E_MAX)
		return "unknown error";
	return errstr[e];
}

/*
 * UTF-8 as RFC 3629 defines it: no overlongs, no surrogates, nothing
 * above U+10FFFF.  NUL is refused too, so every string can be handed to
 * C APIs and SQLite as text.
 */
int
ipc_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned char c;
	size_t need, i;
	uint32_t cp, min;

	while (p < end) {
		c = *p++;
		if (c == 0)
			return 0;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else
			return 0;
		if ((size_t)(end - p) < need)
			return 0;
		for (i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		p += need;
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/*
 * A field's limits, one rule for both forms: what an encoder may write
 * (a u64 within its max; a string within its max, with bytes behind
 * it, and not empty where F_NONEMPTY), and what a string a decoder read
 * must be (UTF-8 text unless F_BYTES; not empty where F_NONEMPTY).  A
 * decoder checks the length against the max itself, before it takes
 * the bytes.
 */
int
ipc_field_fits(const struct field *f, const void *body)
{
	const char *at = (const char *)body + f->off;
	struct ipc_str s;
	uint64_t v;

	switch (f->type) {
	case FT_U64:
		memcpy(&v, at, sizeof(v));
		return v <= f->max;
	case FT_STR:
		memcpy(&s, at, sizeof(s));
		return s.len <= f->max && (s.len == 0 || s.p != NULL) &&
		    (s.len > 0 || !(f->flags & F_NONEMPTY));
	default:
		return 1;	/* a bool; lists check their own */
	}
}

enum ipc_err
ipc_str_check(const struct field *f, struct ipc_str s)
{
	if (!(f->flags & F_BYTES) && !ipc_utf8_valid(s.p, s.len))
		return IPC_E_UTF8;
	if ((f->flags & F_NONEMPTY) && s.len == 0)
		return IPC_E_LENGTH;
	return IPC_OK;
}

enum ipc_err
ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m)
{
	const struct ipc_catalogue *c;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (len > IPC_FRAME_MAX)
		return IPC_E_SIZE;
	if (len == 0)
		return IPC_E_SHORT;
	c = buf[0] == IPC_BIN_MARK ? &ipc_catalogue_parent : hub_catalogue;
	/* Not the fixed form, and no other known: the root parent. */
	if (c == NULL)
		return IPC_E_SHAPE;
	return c->form->decode(c, buf, len, m);
}

size_t
ipc_encode(uint32_t type, uint64_t req_id, const void *body, uint8_t *out,
    size_t outlen)
{
	const struct ipc_catalogue *c;
	const struct msgdef *d;

	if ((c = catalogue_of(type, &d)) == NULL)
		return 0;
	if (outlen > IPC_FRAME_MAX)
		outlen = IPC_FRAME_MAX;
	return c->form->encode(d, req_id, body, out, outlen);
}

struct ipc_str
ipc_s(const char *s)
{
	struct ipc_str r = { s, s == NULL ? 0 : strlen(s) };

	return r;
}

char *
ipc_strdup(struct ipc_str s)
{
	return xstrndup(s.len ? s.p : "", s.len);
}

int
ipc_streq(struct ipc_str s, const char *c)
{
	size_t n = strlen(c);

	return s.len == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

int
ipc_log_body(struct ipc_body_log *b, int level, const char *line)
{
	b->level = (uint64_t)level;
	b->text.p = line;
	b->text.len = strnlen(line, IPC_LOG_MAX);
	return ipc_utf8_valid(b->text.p, b->text.len) ? 0 : -1;
}
