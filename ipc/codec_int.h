/*
 * The codec's tables, shared by its engine (codec.c) and the two
 * catalogues: catalogue_parent.c, the messages of the root parent, the
 * only ones its codec knows; catalogue.c, the rest, which every other
 * process adds (ipc_catalogue_all).
 */
#ifndef WX_IPC_CODEC_INT_H
#define WX_IPC_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

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

/* Decoding cursor: every read checks what is left first. */
struct cur {
	const uint8_t	*p;
	const uint8_t	*end;
};

/*
 * The list fields (FT_TURNS, FT_PARTS), in codec_list.c: only the
 * other processes' messages have them, so the parent's codec does not.
 */
struct ipc_lists {
	enum ipc_err	(*get)(struct cur *, const struct field *, void *);
	int		(*put)(msgpack_packer *, const struct field *,
			    const void *);
};

struct ipc_catalogue {
	const struct msgdef	*defs;
	size_t			 n;
	const struct ipc_lists	*lists;		/* or NULL */
};

extern const struct ipc_catalogue ipc_catalogue_parent;
/* The parent's bodies that other messages have too. */
extern const struct schema s_empty, s_seq, s_text;

extern const struct ipc_lists ipc_lists;

void		ipc_catalogue_add(const struct ipc_catalogue *);
/* The engine's readers and writer, for codec_list.c. */
enum ipc_err	cur_container(struct cur *, int map, uint32_t *);
enum ipc_err	cur_u64(struct cur *, uint64_t *);
enum ipc_err	cur_str(struct cur *, struct ipc_str *, uint64_t max);
int		pack_str(msgpack_packer *, struct ipc_str);

#endif
