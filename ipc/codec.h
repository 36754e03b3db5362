/*
 * Encoding and strict decoding of IPC frames against the catalogue: the
 * root parent's messages in a fixed binary form, the others in msgpack
 * (codec.c says why).
 */
#ifndef WX_IPC_CODEC_H
#define WX_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

/* Why a frame was rejected; ipc_strerror() names each for logs. */
enum ipc_err {
	IPC_OK = 0,
	IPC_E_SHORT,		/* truncated frame */
	IPC_E_SHAPE,		/* not [type, req_id, body-map] (nor, in
				   the parent, the fixed form) */
	IPC_E_TYPE,		/* unknown type, or one of the other form */
	IPC_E_KEY,		/* unknown, missing or repeated key */
	IPC_E_VALUE,		/* value of the wrong type, bool not 0/1 */
	IPC_E_LENGTH,		/* string or list over its limit */
	IPC_E_UTF8,		/* string not valid UTF-8, or holds NUL */
	IPC_E_TRAILING,		/* bytes left after the frame */
	IPC_E_SIZE,		/* frame larger than IPC_FRAME_MAX */
	IPC_E_MAX
};

/*
 * The first byte of a frame of the root parent's list, in its fixed
 * form (codec_bin.c): a byte msgpack never uses, so no frame can be
 * read as both forms.
 */
#define IPC_BIN_MARK	0xc1

struct ipc_msginfo {
	uint32_t	 type;
	const char	*name;		/* wire name, for logs */
	int		 roles;		/* who may send it */
	int		 flags;		/* MSG_* */
};

/*
 * Every process but the root parent, at start: the hub's, the workers'
 * and the operator's messages too (catalogue.c), and their msgpack
 * form.  Until then only the parent's are known, in their fixed form:
 * a msgpack frame is IPC_E_SHAPE, any other type IPC_E_TYPE.
 */
void		 ipc_catalogue_all(void);

const struct ipc_msginfo *ipc_msginfo(uint32_t type);
const char	*ipc_type_name(uint32_t type);
const char	*ipc_strerror(enum ipc_err);

/*
 * Decode one frame, of the form its first byte says; a type is accepted
 * in its own form only.  On success m's strings point into buf, which
 * must outlive every use of m.  m->fd is set to -1.
 */
enum ipc_err	 ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m);

/*
 * Encode a frame, in its type's form, into out (at least IPC_FRAME_MAX
 * bytes).  body points to the struct of the type's schema.  Returns the
 * length, or 0 when the frame would exceed IPC_FRAME_MAX or a field
 * breaks its limit.
 */
size_t		 ipc_encode(uint32_t type, uint64_t req_id, const void *body,
		    uint8_t *out, size_t outlen);

/* Helpers for callers holding C strings. */
struct ipc_str	 ipc_s(const char *);
char		*ipc_strdup(struct ipc_str);
int		 ipc_streq(struct ipc_str, const char *);
int		 ipc_utf8_valid(const char *, size_t);
/* A log line as a "log" body; -1 (drop it) when it is not UTF-8. */
int		 ipc_log_body(struct ipc_body_log *, int level, const char *);

#endif
