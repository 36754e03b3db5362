/*
 * The messages between the hub, the workers and wxgatectl
 * (IPC_HUB_MESSAGES in ipc/ipc_msg.h), and their bodies' schemas,
 * made from the same rows as the bodies' structs (IPC_BODY_name), as
 * catalogue_parent.c makes the parent's.  Every process but the root
 * parent adds them to its codec at start (ipc_catalogue_all).
 */
#include <stddef.h>
#include <stdint.h>

#include "codec_int.h"

/*
 * The schemas, from the rows of ipc_msg.h.  A PARTS row is left out of
 * the body's own schema: its _media one has it, the rows whole.
 */
#define FIELD(b, k, t, max, flags)	FLD(b, k, FT_##t, max, flags),
#define WIRE(b, k, t, max, flags)	WIRE_##t(b, k, t, max, flags)
#define WIRE_U64	FIELD
#define WIRE_BOOL	FIELD
#define WIRE_STR	FIELD
#define WIRE_TURNS	FIELD
#define WIRE_PARTS(b, k, t, max, flags)
#define FIELDS(b)	static const struct field f_##b[] = { IPC_BODY_##b(WIRE) };
IPC_HUB_BODY_NAMES(FIELDS)
static const struct field f_inbound_media[] = { IPC_BODY_inbound(FIELD) };
static const struct field f_agent_request_media[] = {
	IPC_BODY_agent_request(FIELD)
};
/* ctl.schedule: its definition's fields (at def), then its own. */
#define DEF_FIELD(b, k, t, max, flags) \
	{ #k, FT_##t, max, offsetof(struct ipc_body_sched_row, def.k), flags },
static const struct field f_sched_row[] = {
	IPC_BODY_sched_def(DEF_FIELD)
	IPC_BODY_sched_row(WIRE)
};

IPC_HUB_BODY_NAMES(SCHEMA)
SCHEMA(inbound_media) SCHEMA(agent_request_media) SCHEMA(sched_row)

/*
 * Never called: a number born twice in either list is a duplicate
 * case label here, which the compiler refuses.
 */
static void __attribute__((unused))
catalogue_unique(uint32_t type)
{
	switch (type) {
#define X(n, num, wire, roles, flags, body)	case num:
	IPC_MESSAGES(X)
#undef X
		break;
	}
}

static const struct msgdef defs[] = {
#define X(n, num, wire, roles, flags, body) \
	{ { IPC_##n, wire, roles, flags }, &s_##body },
	IPC_HUB_MESSAGES(X)
#undef X
};

/* Their form is msgpack (codec_mp.c), lists and all. */
static const struct ipc_catalogue hub_catalogue = { defs, NFIELDS(defs),
    &ipc_form_mp };

void
ipc_catalogue_all(void)
{
	ipc_catalogue_add(&hub_catalogue);
}
