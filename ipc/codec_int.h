/*
 * The codec's tables, shared by its engine (codec.c), its two forms
 * (codec_bin.c, codec_mp.c) and the two catalogues: catalogue_parent.c,
 * the messages of the root parent, the only ones its codec knows;
 * catalogue.c, the rest, which every other process adds
 * (ipc_catalogue_all).  The root parent includes this, so msgpack.h
 * stays out of it: the msgpack form's own header is codec_mp.h.
 */
#ifndef WX_IPC_CODEC_INT_H
#define WX_IPC_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

enum ftype { FT_U64, FT_STR, FT_BOOL, FT_TURNS, FT_PARTS };

#define F_NONEMPTY	0x01
#define F_BYTES		0x02	/* FT_STR of any bytes, not UTF-8 text */

struct field {
	const char	*key;
	enum ftype	 type;
	uint64_t	 max;	/* value max for FT_U64, length max otherwise */
	size_t		 off;
	int		 flags;
};

struct schema {
	const struct field	*f;
	size_t			 n;
};

#define FLD(st, k, t, mx, fl) \
	{ #k, t, mx, offsetof(struct ipc_body_##st, k), fl }
#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
#define SCHEMA(b)	static const struct schema s_##b = { f_##b, NFIELDS(f_##b) };

struct msgdef {
	struct ipc_msginfo	 info;
	const struct schema	*schema;
};

struct ipc_catalogue;

/*
 * A frame form: the parent's list is codec_bin.c's fixed encoding, the
 * hub's list codec_mp.c's msgpack, which only the processes that add
 * the hub's catalogue link (the root parent has no msgpack at all).
 * decode: m is zeroed, its fd -1 and len within IPC_FRAME_MAX already.
 */
struct ipc_form {
	enum ipc_err	(*decode)(const struct ipc_catalogue *,
			    const uint8_t *, size_t, struct ipc_msg *);
	size_t		(*encode)(const struct msgdef *, uint64_t,
			    const void *, uint8_t *, size_t);
};

struct ipc_catalogue {
	const struct msgdef	*defs;
	size_t			 n;
	const struct ipc_form	*form;
};

extern const struct ipc_catalogue ipc_catalogue_parent;
/* The parent's bodies that other messages have too. */
extern const struct schema s_empty, s_seq, s_text;

extern const struct ipc_form ipc_form_bin;
extern const struct ipc_form ipc_form_mp;

void		ipc_catalogue_add(const struct ipc_catalogue *);
/* A type of this catalogue, or NULL. */
const struct msgdef *ipc_msgdef_in(const struct ipc_catalogue *, uint32_t);
int		ipc_field_fits(const struct field *, const void *body);
enum ipc_err	ipc_str_check(const struct field *, struct ipc_str);

#endif
