/*
 * The list fields of the IPC codec: turns (an agent's context) and parts
 * (a message's attachments).  Only the hub's and the workers' messages
 * have lists, and those are msgpack (codec_mp.c calls these), so the
 * root parent's codec is built without this file; its fixed form
 * (codec_bin.c) refuses a list field.
 */
#include <stdint.h>

#include "codec_mp.h"
#include "ipc_msg.h"

/* A turn's role: "user", "assistant", "system". */
#define TURN_ROLE_MAX	16

/* turns: an array of [role, text] pairs. */
static enum ipc_err
list_get_turns(struct cur *c, struct ipc_turns *t, uint64_t max)
{
	enum ipc_err e;
	uint32_t n, pair, i;

	if ((e = cur_container(c, 0, &n)) != IPC_OK)
		return e;
	if (n > max)
		return IPC_E_LENGTH;
	for (i = 0; i < n; i++) {
		if ((e = cur_container(c, 0, &pair)) != IPC_OK)
			return e;
		if (pair != 2)
			return IPC_E_SHAPE;
		if ((e = cur_str(c, &t->v[i].role, TURN_ROLE_MAX)) != IPC_OK ||
		    (e = cur_str(c, &t->v[i].text, IPC_REPLY_MAX)) != IPC_OK)
			return e;
		if (t->v[i].role.len == 0)
			return IPC_E_VALUE;
	}
	t->n = n;
	return IPC_OK;
}

/* parts: an array of [kind, name, size] triples, no size 0. */
static enum ipc_err
list_get_parts(struct cur *c, struct ipc_parts *t, uint64_t max)
{
	enum ipc_err e;
	uint32_t n, three, i;
	uint64_t size;

	if ((e = cur_container(c, 0, &n)) != IPC_OK)
		return e;
	if (n > max)
		return IPC_E_LENGTH;
	for (i = 0; i < n; i++) {
		if ((e = cur_container(c, 0, &three)) != IPC_OK)
			return e;
		if (three != 3)
			return IPC_E_SHAPE;
		if ((e = cur_str(c, &t->v[i].kind, IPC_PARTKIND_MAX)) !=
		    IPC_OK ||
		    (e = cur_str(c, &t->v[i].name, IPC_FILENAME_MAX)) !=
		    IPC_OK ||
		    (e = cur_u64(c, &size)) != IPC_OK)
			return e;
		if (t->v[i].kind.len == 0 || size == 0)
			return IPC_E_VALUE;
		if (size > IPC_FILE_MAX)
			return IPC_E_LENGTH;
		t->v[i].size = size;
	}
	t->n = n;
	return IPC_OK;
}

enum ipc_err
codec_list_get(struct cur *c, const struct field *f, void *body_at)
{
	enum ipc_err e;

	if (f->type == FT_TURNS) {
		if ((e = list_get_turns(c, body_at, f->max)) != IPC_OK)
			return e;
		if ((f->flags & F_NONEMPTY) &&
		    ((struct ipc_turns *)body_at)->n == 0)
			return IPC_E_LENGTH;
		return IPC_OK;
	}
	if ((e = list_get_parts(c, body_at, f->max)) != IPC_OK)
		return e;
	if ((f->flags & F_NONEMPTY) && ((struct ipc_parts *)body_at)->n == 0)
		return IPC_E_LENGTH;
	return IPC_OK;
}

int
codec_list_put(msgpack_packer *pk, const struct field *f, const void *at)
{
	const struct ipc_turns *t;
	const struct ipc_parts *pa;
	size_t i;

	switch (f->type) {
	case FT_TURNS:
		t = (const struct ipc_turns *)(const void *)at;
		if (t->n > f->max)
			return -1;
		if (msgpack_pack_array(pk, t->n) != 0)
			return -1;
		for (i = 0; i < t->n; i++) {
			if (msgpack_pack_array(pk, 2) != 0 ||
			    t->v[i].role.len > TURN_ROLE_MAX ||
			    t->v[i].text.len > IPC_REPLY_MAX ||
			    pack_str(pk, t->v[i].role) != 0 ||
			    pack_str(pk, t->v[i].text) != 0)
				return -1;
		}
		return 0;
	case FT_PARTS:
		pa = (const struct ipc_parts *)(const void *)at;
		if (pa->n > f->max || ((f->flags & F_NONEMPTY) && pa->n == 0))
			return -1;
		if (msgpack_pack_array(pk, pa->n) != 0)
			return -1;
		for (i = 0; i < pa->n; i++) {
			if (pa->v[i].kind.len == 0 ||
			    pa->v[i].kind.len > IPC_PARTKIND_MAX ||
			    pa->v[i].name.len > IPC_FILENAME_MAX ||
			    pa->v[i].size == 0 || pa->v[i].size > IPC_FILE_MAX ||
			    msgpack_pack_array(pk, 3) != 0 ||
			    pack_str(pk, pa->v[i].kind) != 0 ||
			    pack_str(pk, pa->v[i].name) != 0 ||
			    msgpack_pack_uint64(pk, pa->v[i].size) != 0)
				return -1;
		}
		return 0;
	default:
		return -1;
	}
}
