/*
 * The msgpack form's internals, shared by its cursor and packer
 * (codec_mp.c) and the list fields (codec_list.c).  Only the hub's
 * list is msgpack, so the root parent includes none of this and links
 * no msgpack-c.
 */
#ifndef WX_IPC_CODEC_MP_H
#define WX_IPC_CODEC_MP_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "codec_int.h"

/* Decoding cursor: every read checks what is left first. */
struct cur {
	const uint8_t	*p;
	const uint8_t	*end;
};

/* The list fields (FT_TURNS, FT_PARTS), in codec_list.c. */
enum ipc_err	codec_list_get(struct cur *, const struct field *, void *);
int		codec_list_put(msgpack_packer *, const struct field *,
		    const void *);

/* The cursor's readers and the packer's string, for codec_list.c. */
enum ipc_err	cur_container(struct cur *, int map, uint32_t *);
enum ipc_err	cur_u64(struct cur *, uint64_t *);
enum ipc_err	cur_str(struct cur *, struct ipc_str *, uint64_t max);
int		pack_str(msgpack_packer *, struct ipc_str);

#endif
