/*
 * The root parent's messages (IPC_PARENT_MESSAGES in ipc_msg.h): what
 * it says to and hears from the hub, the configuration reader and a
 * kind's zygote, and a new worker's first frames.  Its codec knows
 * these and no other, so the root process never reads the body of a
 * message it has no business with.
 */
#include <stddef.h>
#include <stdint.h>

#include "codec_int.h"

static const struct field f_empty[] = { { NULL, FT_U64, 0, 0, 0 } };
/* The schemas, from the rows of ipc_parent.h. */
#define FIELD(b, k, t, max, flags)	FLD(b, k, FT_##t, max, flags),
#define FIELDS(b)	static const struct field f_##b[] = { IPC_BODY_##b(FIELD) };
IPC_PARENT_BODY_NAMES(FIELDS)

const struct schema s_empty = { f_empty, 0 };
const struct schema s_seq = { f_seq, NFIELDS(f_seq) };
const struct schema s_text = { f_text, NFIELDS(f_text) };
SCHEMA(log) SCHEMA(violation) SCHEMA(config) SCHEMA(hub_worker)
SCHEMA(hub_ref) SCHEMA(hub_config) SCHEMA(hub_spawn) SCHEMA(conf_text)
SCHEMA(conf_file) SCHEMA(conf_file_data) SCHEMA(conf_plan)
SCHEMA(conf_worker) SCHEMA(conf_done)
SCHEMA(store_secret)

static const struct msgdef defs[] = {
#define X(n, num, wire, roles, flags, body) \
	{ { IPC_##n, wire, roles, flags }, &s_##body },
	IPC_PARENT_MESSAGES(X)
#undef X
};

/* Their form is fixed binary (codec_bin.c): root reads no msgpack. */
const struct ipc_catalogue ipc_catalogue_parent = { defs, NFIELDS(defs),
    &ipc_form_bin };
