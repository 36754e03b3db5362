/*
 * The msgpack form of IPC frames, [type, req_id, {key: value}]: the
 * hub's list (catalogue.c), between the hub, the workers and
 * wxgatectl.  The root parent's list has its own fixed form
 * (codec_bin.c), so root links none of this and no msgpack-c.
 *
 * Encoding uses msgpack-c's packer into a fixed buffer.  Decoding reads
 * through a bounded cursor instead of msgpack-c's unpacker, because that
 * unpacker allocates container storage from the declared element count
 * before it has seen the elements: a 5-byte map32 header would ask for
 * gigabytes.  The cursor allocates nothing and rejects rather than
 * repairs: unknown, missing or repeated keys, wrong types, over-long
 * strings, invalid UTF-8 and trailing bytes all fail the frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "codec_mp.h"

#define SCHEMA_FIELDS_MAX 16	/* bitmask of seen keys */

static enum ipc_err	mp_decode(const struct ipc_catalogue *,
			    const uint8_t *, size_t, struct ipc_msg *);
static size_t		mp_encode(const struct msgdef *, uint64_t,
			    const void *, uint8_t *, size_t);

const struct ipc_form ipc_form_mp = { mp_decode, mp_encode };

static int
cur_take(struct cur *c, size_t n, const uint8_t **out)
{
	if ((size_t)(c->end - c->p) < n)
		return -1;
	*out = c->p;
	c->p += n;
	return 0;
}

static int
cur_be(struct cur *c, size_t n, uint64_t *v)
{
	const uint8_t *b;
	size_t i;

	if (cur_take(c, n, &b) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = (*v << 8) | b[i];
	return 0;
}

static int
cur_peek(struct cur *c, uint8_t *tag)
{
	if (c->p >= c->end)
		return -1;
	*tag = *c->p;
	return 0;
}

/* Container header; the count may not exceed the bytes left. */
enum ipc_err
cur_container(struct cur *c, int map, uint32_t *n)
{
	uint8_t tag;
	uint64_t v;
	size_t minsz = map ? 2 : 1;

	if (cur_peek(c, &tag) == -1)
		return IPC_E_SHORT;
	c->p++;
	if (map && (tag & 0xf0) == 0x80)
		v = tag & 0x0f;
	else if (!map && (tag & 0xf0) == 0x90)
		v = tag & 0x0f;
	else if (tag == (map ? 0xde : 0xdc)) {
		if (cur_be(c, 2, &v) == -1)
			return IPC_E_SHORT;
	} else if (tag == (map ? 0xdf : 0xdd)) {
		if (cur_be(c, 4, &v) == -1)
			return IPC_E_SHORT;
	} else
		return IPC_E_VALUE;
	if (v > (uint64_t)(c->end - c->p) / minsz)
		return IPC_E_SHORT;
	*n = (uint32_t)v;
	return IPC_OK;
}

enum ipc_err
cur_u64(struct cur *c, uint64_t *v)
{
	uint8_t tag;

	if (cur_peek(c, &tag) == -1)
		return IPC_E_SHORT;
	c->p++;
	if (tag <= 0x7f) {
		*v = tag;
		return IPC_OK;
	}
	switch (tag) {
	case 0xcc:
		return cur_be(c, 1, v) == -1 ? IPC_E_SHORT : IPC_OK;
	case 0xcd:
		return cur_be(c, 2, v) == -1 ? IPC_E_SHORT : IPC_OK;
	case 0xce:
		return cur_be(c, 4, v) == -1 ? IPC_E_SHORT : IPC_OK;
	case 0xcf:
		return cur_be(c, 8, v) == -1 ? IPC_E_SHORT : IPC_OK;
	}
	return IPC_E_VALUE;
}

/* A msgpack str's bytes, as they are (F_BYTES: a file's, maybe binary). */
static enum ipc_err
cur_bytes(struct cur *c, struct ipc_str *s, uint64_t max)
{
	const uint8_t *b;
	uint8_t tag;
	uint64_t len;

	if (cur_peek(c, &tag) == -1)
		return IPC_E_SHORT;
	c->p++;
	if ((tag & 0xe0) == 0xa0)
		len = tag & 0x1f;
	else if (tag == 0xd9 || tag == 0xda || tag == 0xdb) {
		if (cur_be(c, (size_t)1 << (tag - 0xd9), &len) == -1)
			return IPC_E_SHORT;
	} else
		return IPC_E_VALUE;
	if (len > max)
		return IPC_E_LENGTH;
	if (cur_take(c, len, &b) == -1)
		return IPC_E_SHORT;
	s->p = (const char *)b;
	s->len = len;
	return IPC_OK;
}

enum ipc_err
cur_str(struct cur *c, struct ipc_str *s, uint64_t max)
{
	enum ipc_err e;

	if ((e = cur_bytes(c, s, max)) != IPC_OK)
		return e;
	return ipc_utf8_valid(s->p, s->len) ? IPC_OK : IPC_E_UTF8;
}

static enum ipc_err
get_bool(struct cur *c, int *v)
{
	uint8_t tag;

	if (cur_peek(c, &tag) == -1)
		return IPC_E_SHORT;
	if (tag != 0xc2 && tag != 0xc3)
		return IPC_E_VALUE;
	c->p++;
	*v = tag == 0xc3;
	return IPC_OK;
}

static enum ipc_err
get_field(struct cur *c, const struct field *f, void *body)
{
	char *at = (char *)body + f->off;
	struct ipc_str *s;
	enum ipc_err e;
	uint64_t v;

	switch (f->type) {
	case FT_U64:
		if ((e = cur_u64(c, &v)) != IPC_OK)
			return e;
		if (v > f->max)
			return IPC_E_LENGTH;
		memcpy(at, &v, sizeof(v));
		return IPC_OK;
	case FT_STR:
		s = (struct ipc_str *)(void *)at;
		if ((e = cur_bytes(c, s, f->max)) != IPC_OK)
			return e;
		return ipc_str_check(f, *s);
	case FT_BOOL:
		return get_bool(c, (int *)(void *)at);
	case FT_TURNS:
	case FT_PARTS:
		return codec_list_get(c, f, at);
	}
	return IPC_E_VALUE;
}

/* A frame of the hub's list (cat); codec.c has checked its size. */
static enum ipc_err
mp_decode(const struct ipc_catalogue *cat, const uint8_t *buf, size_t len,
    struct ipc_msg *m)
{
	const struct msgdef *d;
	const struct schema *sc;
	struct cur c = { buf, buf + len };
	struct ipc_str key;
	enum ipc_err e;
	uint64_t type, seen = 0;
	uint32_t n, nkeys, i, j;

	if ((e = cur_container(&c, 0, &n)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	if (n != 3)
		return IPC_E_SHAPE;
	if ((e = cur_u64(&c, &type)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	if (type > UINT32_MAX ||
	    (d = ipc_msgdef_in(cat, (uint32_t)type)) == NULL)
		return IPC_E_TYPE;
	m->type = (uint32_t)type;
	if ((e = cur_u64(&c, &m->req_id)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	if ((e = cur_container(&c, 1, &nkeys)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	sc = d->schema;
	if (nkeys != sc->n)
		return IPC_E_KEY;
	for (i = 0; i < nkeys; i++) {
		if ((e = cur_str(&c, &key, IPC_NAME_MAX)) != IPC_OK)
			return e == IPC_E_VALUE ? IPC_E_KEY : e;
		for (j = 0; j < sc->n; j++)
			if (ipc_streq(key, sc->f[j].key))
				break;
		if (j == sc->n || (seen & (1ULL << j)))
			return IPC_E_KEY;
		seen |= 1ULL << j;
		if ((e = get_field(&c, &sc->f[j], &m->b)) != IPC_OK)
			return e;
	}
	if (c.p != c.end)
		return IPC_E_TRAILING;
	return IPC_OK;
}

/* Packer sink: a fixed buffer; overflowing it fails the encode. */
struct sink {
	uint8_t	*buf;
	size_t	 len;
	size_t	 cap;
};

static int
sink_write(void *data, const char *buf, size_t len)
{
	struct sink *s = data;

	if (len > s->cap - s->len)
		return -1;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	return 0;
}

int
pack_str(msgpack_packer *pk, struct ipc_str s)
{
	if (msgpack_pack_str(pk, s.len) != 0)
		return -1;
	/* An absent optional string is {NULL, 0}: memcpy(x, NULL, 0) is UB. */
	if (s.len == 0)
		return 0;
	return msgpack_pack_str_body(pk, s.p, s.len);
}

static int
put_field(msgpack_packer *pk, const struct field *f, const void *body)
{
	const char *at = (const char *)body + f->off;
	struct ipc_str s;
	uint64_t v;
	int b;

	if (!ipc_field_fits(f, body) || pack_str(pk, ipc_s(f->key)) != 0)
		return -1;
	switch (f->type) {
	case FT_U64:
		memcpy(&v, at, sizeof(v));
		return msgpack_pack_uint64(pk, v);
	case FT_STR:
		memcpy(&s, at, sizeof(s));
		return pack_str(pk, s);
	case FT_BOOL:
		memcpy(&b, at, sizeof(b));
		return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	case FT_TURNS:
	case FT_PARTS:
		return codec_list_put(pk, f, at);
	}
	return -1;
}

/* outlen is within IPC_FRAME_MAX already (codec.c). */
static size_t
mp_encode(const struct msgdef *d, uint64_t req_id, const void *body,
    uint8_t *out, size_t outlen)
{
	struct sink sk = { out, 0, outlen };
	msgpack_packer pk;
	size_t i;

	msgpack_packer_init(&pk, &sk, sink_write);
	if (msgpack_pack_array(&pk, 3) != 0 ||
	    msgpack_pack_uint32(&pk, d->info.type) != 0 ||
	    msgpack_pack_uint64(&pk, req_id) != 0 ||
	    msgpack_pack_map(&pk, d->schema->n) != 0)
		return 0;
	for (i = 0; i < d->schema->n; i++)
		if (put_field(&pk, &d->schema->f[i], body) != 0)
			return 0;
	return sk.len;
}
