/*
 * The fixed binary form of IPC frames: the root parent's list
 * (catalogue_parent.c).  Every process uses it for those types, so
 * root reads and writes its frames without msgpack.  A frame is
 *
 *	IPC_BIN_MARK (0xc1), u32 type, u64 req_id, then each field of
 *	the type's schema in order: FT_U64 as a u64, FT_BOOL as one byte
 *	0 or 1, FT_STR as a u32 length and its bytes
 *
 * with every integer little-endian.  Fields are checked as the msgpack
 * form checks them (value and length maxima, F_NONEMPTY, UTF-8 and no
 * NUL unless F_BYTES); a short frame, a type not of this list, a bool
 * other than 0 or 1 and bytes after the last field are refused.
 * Nothing is allocated: strings borrow from the frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec_int.h"

/* Reading: every read checks what is left first. */
struct bcur {
	const uint8_t	*p;
	const uint8_t	*end;
};

/* Writing into a fixed buffer: overflowing it fails the encode. */
struct bout {
	uint8_t	*buf;
	size_t	 len;
	size_t	 cap;
};

static enum ipc_err	bin_decode(const struct ipc_catalogue *,
			    const uint8_t *, size_t, struct ipc_msg *);
static size_t		bin_encode(const struct msgdef *, uint64_t,
			    const void *, uint8_t *, size_t);

const struct ipc_form ipc_form_bin = { bin_decode, bin_encode };

/* An n-byte (at most 8) little-endian integer. */
static int
bin_get(struct bcur *c, size_t n, uint64_t *v)
{
	size_t i;

	if ((size_t)(c->end - c->p) < n)
		return -1;
	*v = 0;
	for (i = n; i > 0; i--)
		*v = (*v << 8) | c->p[i - 1];
	c->p += n;
	return 0;
}

static enum ipc_err
bin_get_str(struct bcur *c, const struct field *f, struct ipc_str *s)
{
	uint64_t len;

	if (bin_get(c, 4, &len) == -1)
		return IPC_E_SHORT;
	if (len > f->max)
		return IPC_E_LENGTH;
	if (len > (uint64_t)(c->end - c->p))
		return IPC_E_SHORT;
	s->p = (const char *)c->p;
	s->len = len;
	c->p += len;
	return ipc_str_check(f, *s);
}

static enum ipc_err
bin_get_field(struct bcur *c, const struct field *f, void *body)
{
	char *at = (char *)body + f->off;
	uint64_t v;

	switch (f->type) {
	case FT_U64:
		if (bin_get(c, 8, &v) == -1)
			return IPC_E_SHORT;
		if (v > f->max)
			return IPC_E_LENGTH;
		memcpy(at, &v, sizeof(v));
		return IPC_OK;
	case FT_BOOL:
		if (bin_get(c, 1, &v) == -1)
			return IPC_E_SHORT;
		if (v > 1)
			return IPC_E_VALUE;
		*(int *)(void *)at = (int)v;
		return IPC_OK;
	case FT_STR:
		return bin_get_str(c, f, (struct ipc_str *)(void *)at);
	case FT_TURNS:
	case FT_PARTS:
		/* The parent's bodies have no lists (codec_list.c). */
		break;
	}
	return IPC_E_VALUE;
}

/* A frame that starts with IPC_BIN_MARK; codec.c has checked its size. */
static enum ipc_err
bin_decode(const struct ipc_catalogue *cat, const uint8_t *buf, size_t len,
    struct ipc_msg *m)
{
	struct bcur c = { buf + 1, buf + len };
	const struct msgdef *d;
	enum ipc_err e;
	uint64_t type;
	size_t i;

	if (bin_get(&c, 4, &type) == -1)
		return IPC_E_SHORT;
	if ((d = ipc_msgdef_in(cat, (uint32_t)type)) == NULL)
		return IPC_E_TYPE;
	m->type = (uint32_t)type;
	if (bin_get(&c, 8, &m->req_id) == -1)
		return IPC_E_SHORT;
	for (i = 0; i < d->schema->n; i++)
		if ((e = bin_get_field(&c, &d->schema->f[i], &m->b)) != IPC_OK)
			return e;
	if (c.p != c.end)
		return IPC_E_TRAILING;
	return IPC_OK;
}

static int
bin_put(struct bout *o, const void *p, size_t n)
{
	if (n > o->cap - o->len)
		return -1;
	/* An absent optional string is {NULL, 0}: memcpy(x, NULL, 0) is UB. */
	if (n > 0)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

static int
bin_put_le(struct bout *o, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++, v >>= 8)
		b[i] = v & 0xff;
	return bin_put(o, b, n);
}

static int
bin_put_field(struct bout *o, const struct field *f, const void *body)
{
	const char *at = (const char *)body + f->off;
	struct ipc_str s;
	uint64_t v;
	int b;

	if (!ipc_field_fits(f, body))
		return -1;
	switch (f->type) {
	case FT_U64:
		memcpy(&v, at, sizeof(v));
		return bin_put_le(o, v, 8);
	case FT_BOOL:
		memcpy(&b, at, sizeof(b));
		return bin_put_le(o, b != 0, 1);
	case FT_STR:
		memcpy(&s, at, sizeof(s));
		/*
		 * Every max is far below 4 GiB; were one not, the bytes
		 * would overflow IPC_FRAME_MAX and fail the encode anyway.
		 */
		if (bin_put_le(o, s.len, 4) == -1)
			return -1;
		return bin_put(o, s.p, s.len);
	case FT_TURNS:
	case FT_PARTS:
		break;
	}
	return -1;
}

/* outlen is within IPC_FRAME_MAX already (codec.c). */
static size_t
bin_encode(const struct msgdef *d, uint64_t req_id, const void *body,
    uint8_t *out, size_t outlen)
{
	struct bout o = { out, 0, outlen };
	size_t i;

	if (bin_put_le(&o, IPC_BIN_MARK, 1) == -1 ||
	    bin_put_le(&o, d->info.type, 4) == -1 ||
	    bin_put_le(&o, req_id, 8) == -1)
		return 0;
	for (i = 0; i < d->schema->n; i++)
		if (bin_put_field(&o, &d->schema->f[i], body) == -1)
			return 0;
	return o.len;
}
