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
static const struct field f_seq[] = {
	FLD(seq, seq, FT_U64, UINT64_MAX, 0),
};
static const struct field f_log[] = {
	FLD(log, level, FT_U64, 2, 0),
	FLD(log, text, FT_STR, IPC_LOG_MAX, 0),
};
static const struct field f_violation[] = {
	FLD(violation, syscall, FT_U64, 4095, 0),
};
static const struct field f_store_secret[] = {
	FLD(store_secret, secret, FT_STR, IPC_STORE_SECRET_MAX, F_NONEMPTY),
};
static const struct field f_text[] = {
	FLD(text, text, FT_STR, IPC_REPLY_MAX, 0),
};
static const struct field f_config[] = {
	FLD(config, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(config, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(config, index, FT_U64, UINT32_MAX, 0),
	FLD(config, verbose, FT_U64, 2, 0),
	FLD(config, conf, FT_STR, IPC_CONF_MAX, 0),
};
static const struct field f_hub_worker[] = {
	FLD(hub_worker, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_worker, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_worker, id, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_worker, role, FT_U64, ROLE_CONSOLE, 0),
	FLD(hub_worker, gen, FT_U64, UINT64_MAX, 0),
	FLD(hub_worker, pid, FT_U64, UINT32_MAX, 0),
	FLD(hub_worker, state, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_worker, uptime_ms, FT_U64, UINT64_MAX, 0),
	FLD(hub_worker, restarts, FT_U64, UINT64_MAX, 0),
	FLD(hub_worker, last_exit, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(hub_worker, seccomp_kills, FT_U64, UINT64_MAX, 0),
	FLD(hub_worker, resync, FT_BOOL, 0, 0),
};
static const struct field f_hub_ref[] = {
	FLD(hub_ref, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_ref, gen, FT_U64, UINT64_MAX, 0),
	FLD(hub_ref, why, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(hub_ref, syscall, FT_U64, 4096, 0),
};
static const struct field f_hub_config[] = {
	FLD(hub_config, part, FT_STR, IPC_CONFPART_MAX, 0),
	FLD(hub_config, last, FT_BOOL, 0, 0),
	FLD(hub_config, verbose, FT_U64, 2, 0),
};
static const struct field f_hub_spawn[] = {
	FLD(hub_spawn, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_spawn, id, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(hub_spawn, conf, FT_STR, IPC_CONF_MAX, F_NONEMPTY),
};
static const struct field f_conf_text[] = {
	FLD(conf_text, path, FT_STR, IPC_PATH_MAX, F_NONEMPTY),
	FLD(conf_text, part, FT_STR, IPC_CONFPART_MAX, 0),
	FLD(conf_text, last, FT_BOOL, 0, 0),
	FLD(conf_text, verbose, FT_U64, 2, 0),
};
static const struct field f_conf_file[] = {
	FLD(conf_file, what, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_file, path, FT_STR, IPC_PATH_MAX, F_NONEMPTY),
};
static const struct field f_conf_file_data[] = {
	FLD(conf_file_data, ok, FT_BOOL, 0, 0),
	FLD(conf_file_data, binary, FT_BOOL, 0, 0),
	FLD(conf_file_data, data, FT_STR, IPC_PUBFILE_MAX, F_BYTES),
	FLD(conf_file_data, why, FT_STR, IPC_CONFERR_MAX, 0),
};
static const struct field f_conf_plan[] = {
	FLD(conf_plan, state_dir, FT_STR, IPC_PATH_MAX, F_NONEMPTY),
	FLD(conf_plan, store, FT_STR, IPC_PATH_MAX, F_NONEMPTY),
	FLD(conf_plan, control, FT_STR, IPC_PATH_MAX, F_NONEMPTY),
	FLD(conf_plan, log_level, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_plan, log_syslog, FT_BOOL, 0, 0),
	FLD(conf_plan, user, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_plan, group, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_plan, hub_user, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_plan, hub_group, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_plan, strict, FT_BOOL, 0, 0),
	FLD(conf_plan, zygote, FT_BOOL, 0, 0),
	FLD(conf_plan, webchat_listen, FT_STR, IPC_ADDR_MAX, F_NONEMPTY),
	FLD(conf_plan, metrics_listen, FT_STR, IPC_ADDR_MAX, 0),
	FLD(conf_plan, store_pg, FT_BOOL, 0, 0),
	FLD(conf_plan, store_secret, FT_STR, IPC_STORE_SECRET_MAX, 0),
	FLD(conf_plan, workers, FT_U64, 4096, 0),
	FLD(conf_plan, heartbeat_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_plan, heartbeat_timeout_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_plan, restart_min_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_plan, restart_max_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_plan, crashloop_count, FT_U64, UINT32_MAX, 0),
	FLD(conf_plan, crashloop_window_s, FT_U64, UINT32_MAX, 0),
	FLD(conf_plan, shutdown_grace_ms, FT_U64, UINT32_MAX, 0),
};
static const struct field f_conf_worker[] = {
	FLD(conf_worker, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_worker, id, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(conf_worker, conf, FT_STR, IPC_CONF_MAX, 0),
	FLD(conf_worker, listen, FT_STR, IPC_ADDR_MAX, 0),
};
static const struct field f_conf_done[] = {
	FLD(conf_done, ok, FT_BOOL, 0, 0),
	FLD(conf_done, error, FT_STR, IPC_CONFERR_MAX, 0),
};

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
