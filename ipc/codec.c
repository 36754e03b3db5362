/*
 * IPC codec: msgpack frames <-> struct ipc_msg, checked against the
 * catalogue in ipc_msg.h and the per-body schemas below.
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
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "codec.h"
#include "xmalloc.h"

enum ftype { FT_U64, FT_STR, FT_BOOL, FT_TURNS, FT_PARTS };

#define F_NONEMPTY	0x01

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

#define TURN_ROLE_MAX	16
#define SCHEMA_FIELDS_MAX 16	/* bitmask of seen keys */

#define FLD(st, k, t, mx, fl) \
	{ #k, t, mx, offsetof(struct ipc_body_##st, k), fl }

static const struct field f_empty[] = { { NULL, FT_U64, 0, 0, 0 } };
static const struct field f_hello[] = {
	FLD(hello, version, FT_U64, UINT32_MAX, 0),
	FLD(hello, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
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
static const struct field f_conn_addr[] = {
	FLD(conn_addr, conn, FT_U64, UINT64_MAX, 0),
	FLD(conn_addr, addr, FT_STR, IPC_ADDR_MAX, 0),
};
static const struct field f_resume[] = {
	FLD(resume, conn, FT_U64, UINT64_MAX, 0),
	FLD(resume, addr, FT_STR, IPC_ADDR_MAX, 0),
	FLD(resume, token, FT_STR, IPC_TOKEN_MAX, F_NONEMPTY),
};
static const struct field f_chat_send[] = {
	FLD(chat_send, conn, FT_U64, UINT64_MAX, 0),
	FLD(chat_send, client_msg_id, FT_STR, IPC_MSGID_MAX, F_NONEMPTY),
	FLD(chat_send, text, FT_STR, IPC_TEXT_MAX, F_NONEMPTY),
};
static const struct field f_history_req[] = {
	FLD(history_req, conn, FT_U64, UINT64_MAX, 0),
	FLD(history_req, limit, FT_U64, IPC_TURNS_MAX, 0),
};
static const struct field f_conn[] = {
	FLD(conn, conn, FT_U64, UINT64_MAX, 0),
};
static const struct field f_text[] = {
	FLD(text, text, FT_STR, IPC_REPLY_MAX, 0),
};
static const struct field f_chat_abort[] = {
	FLD(chat_abort, conn, FT_U64, UINT64_MAX, 0),
	FLD(chat_abort, client_msg_id, FT_STR, IPC_MSGID_MAX, F_NONEMPTY),
};
static const struct field f_rpc_call[] = {
	FLD(rpc_call, conn, FT_U64, UINT64_MAX, 0),
	FLD(rpc_call, method, FT_STR, IPC_METHOD_MAX, F_NONEMPTY),
};
static const struct field f_conn_open[] = {
	FLD(conn_open, conn, FT_U64, UINT64_MAX, 0),
	FLD(conn_open, peer, FT_STR, IPC_ADDR_MAX, F_NONEMPTY),
	FLD(conn_open, forwarded, FT_STR, IPC_FORWARDED_MAX, 0),
};
static const struct field f_agent_error[] = {
	FLD(agent_error, code, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(agent_error, message, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(agent_error, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_name[] = {
	FLD(name, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_sched_name[] = {
	FLD(sched_name, name, FT_STR, IPC_NAME_MAX, 0),
};
static const struct field f_ctl_test[] = {
	FLD(ctl_test, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(ctl_test, action, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_ctl_worker[] = {
	FLD(ctl_worker, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(ctl_worker, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(ctl_worker, pid, FT_U64, UINT32_MAX, 0),
	FLD(ctl_worker, state, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(ctl_worker, uptime_ms, FT_U64, UINT64_MAX, 0),
	FLD(ctl_worker, restarts, FT_U64, UINT64_MAX, 0),
	FLD(ctl_worker, last_exit, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(ctl_worker, msgs_in, FT_U64, UINT64_MAX, 0),
	FLD(ctl_worker, msgs_out, FT_U64, UINT64_MAX, 0),
	FLD(ctl_worker, seccomp_kills, FT_U64, UINT64_MAX, 0),
	FLD(ctl_worker, platform, FT_STR, IPC_MESSAGE_MAX, 0),
};
static const struct field f_result[] = {
	FLD(result, ok, FT_BOOL, 0, 0),
	FLD(result, message, FT_STR, IPC_MESSAGE_MAX, 0),
};
static const struct field f_config[] = {
	FLD(config, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(config, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(config, index, FT_U64, UINT32_MAX, 0),
	FLD(config, verbose, FT_U64, 2, 0),
	FLD(config, conf, FT_STR, IPC_CONF_MAX, 0),
};
static const struct field f_test[] = {
	FLD(test, action, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_session_ok[] = {
	FLD(session_ok, conn, FT_U64, UINT64_MAX, 0),
	FLD(session_ok, token, FT_STR, IPC_TOKEN_MAX, 0),
	FLD(session_ok, resumed, FT_BOOL, 0, 0),
};
static const struct field f_rpc_error[] = {
	FLD(rpc_error, conn, FT_U64, UINT64_MAX, 0),
	FLD(rpc_error, code, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(rpc_error, message, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(rpc_error, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_conn_verdict[] = {
	FLD(conn_verdict, conn, FT_U64, UINT64_MAX, 0),
	FLD(conn_verdict, status, FT_U64, 599, 0),
	FLD(conn_verdict, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_chat_accepted[] = {
	FLD(chat_accepted, conn, FT_U64, UINT64_MAX, 0),
	FLD(chat_accepted, client_msg_id, FT_STR, IPC_MSGID_MAX, F_NONEMPTY),
	FLD(chat_accepted, status, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_chat_delta[] = {
	FLD(chat_delta, conn, FT_U64, UINT64_MAX, 0),
	FLD(chat_delta, client_msg_id, FT_STR, IPC_MSGID_MAX, F_NONEMPTY),
	FLD(chat_delta, text, FT_STR, IPC_REPLY_MAX, 0),
};
static const struct field f_chat_done[] = {
	FLD(chat_done, conn, FT_U64, UINT64_MAX, 0),
	FLD(chat_done, client_msg_id, FT_STR, IPC_MSGID_MAX, F_NONEMPTY),
	FLD(chat_done, text, FT_STR, IPC_REPLY_MAX, 0),
	FLD(chat_done, replayed, FT_BOOL, 0, 0),
	FLD(chat_done, aborted, FT_BOOL, 0, 0),
};
static const struct field f_chat_error[] = {
	FLD(chat_error, conn, FT_U64, UINT64_MAX, 0),
	FLD(chat_error, client_msg_id, FT_STR, IPC_MSGID_MAX, F_NONEMPTY),
	FLD(chat_error, code, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(chat_error, message, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(chat_error, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_history[] = {
	FLD(history, conn, FT_U64, UINT64_MAX, 0),
	FLD(history, turns, FT_TURNS, IPC_TURNS_MAX, 0),
};
static const struct field f_agent_request[] = {
	FLD(agent_request, session, FT_U64, UINT64_MAX, 0),
	FLD(agent_request, turns, FT_TURNS, IPC_TURNS_MAX, F_NONEMPTY),
	FLD(agent_request, model, FT_STR, IPC_MODEL_MAX, 0),
};
static const struct field f_agent_file[] = {
	FLD(agent_file, name, FT_STR, IPC_FILENAME_MAX, F_NONEMPTY),
	FLD(agent_file, kind, FT_STR, IPC_PARTKIND_MAX, F_NONEMPTY),
	FLD(agent_file, size, FT_U64, IPC_FILE_MAX, 0),
};
static const struct field f_agent_request_media[] = {
	FLD(agent_request, session, FT_U64, UINT64_MAX, 0),
	FLD(agent_request, turns, FT_TURNS, IPC_TURNS_MAX, F_NONEMPTY),
	FLD(agent_request, model, FT_STR, IPC_MODEL_MAX, 0),
	FLD(agent_request, parts, FT_PARTS, IPC_PARTS_MAX, F_NONEMPTY),
};
static const struct field f_share_check[] = {
	FLD(share_check, conn, FT_U64, UINT64_MAX, 0),
	FLD(share_check, id, FT_STR, IPC_TOKEN_MAX, F_NONEMPTY),
	FLD(share_check, peer, FT_STR, IPC_ADDR_MAX, F_NONEMPTY),
	FLD(share_check, forwarded, FT_STR, IPC_FORWARDED_MAX, 0),
};
static const struct field f_bind_status[] = {
	FLD(bind_status, conn, FT_U64, UINT64_MAX, 0),
	FLD(bind_status, status, FT_U64, 599, 0),
	FLD(bind_status, why, FT_STR, IPC_NAME_MAX, 0),
	FLD(bind_status, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_bind_start[] = {
	FLD(bind_start, conn, FT_U64, UINT64_MAX, 0),
	FLD(bind_start, token, FT_STR, IPC_TOKEN_MAX, F_NONEMPTY),
};
static const struct field f_bind_state[] = {
	FLD(bind_state, conn, FT_U64, UINT64_MAX, 0),
	FLD(bind_state, state, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(bind_state, url, FT_STR, IPC_URL_MAX, 0),
};
static const struct field f_share_status[] = {
	FLD(share_status, conn, FT_U64, UINT64_MAX, 0),
	FLD(share_status, status, FT_U64, 599, 0),
	FLD(share_status, read_only, FT_BOOL, 0, 0),
	FLD(share_status, url, FT_STR, IPC_URL_MAX, 0),
	FLD(share_status, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_share_open[] = {
	FLD(share_open, conn, FT_U64, UINT64_MAX, 0),
	FLD(share_open, addr, FT_STR, IPC_ADDR_MAX, 0),
	FLD(share_open, token, FT_STR, IPC_TOKEN_MAX, F_NONEMPTY),
	FLD(share_open, visitor, FT_STR, IPC_TOKEN_MAX, 0),
};
static const struct field f_share_ok[] = {
	FLD(share_ok, conn, FT_U64, UINT64_MAX, 0),
	FLD(share_ok, read_only, FT_BOOL, 0, 0),
	FLD(share_ok, token, FT_STR, IPC_TOKEN_MAX, 0),
};
static const struct field f_inbound[] = {
	FLD(inbound, peer, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(inbound, msg_id, FT_STR, IPC_CHANID_MAX, F_NONEMPTY),
	FLD(inbound, text, FT_STR, IPC_TEXT_MAX, 0),
	FLD(inbound, group, FT_STR, IPC_PEER_MAX, 0),
	FLD(inbound, mentioned, FT_BOOL, 0, 0),
	FLD(inbound, reply_ctx, FT_STR, IPC_CTX_MAX, 0),
};
static const struct field f_inbound_media[] = {
	FLD(inbound, peer, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(inbound, msg_id, FT_STR, IPC_CHANID_MAX, F_NONEMPTY),
	FLD(inbound, text, FT_STR, IPC_TEXT_MAX, 0),
	FLD(inbound, group, FT_STR, IPC_PEER_MAX, 0),
	FLD(inbound, mentioned, FT_BOOL, 0, 0),
	FLD(inbound, reply_ctx, FT_STR, IPC_CTX_MAX, 0),
	FLD(inbound, parts, FT_PARTS, IPC_PARTS_MAX, F_NONEMPTY),
};
static const struct field f_inbound_ack[] = {
	FLD(inbound_ack, status, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_outbound[] = {
	FLD(outbound, id, FT_U64, INT64_MAX, 0),
	FLD(outbound, key, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(outbound, peer, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(outbound, text, FT_STR, IPC_TEXT_MAX, F_NONEMPTY),
	FLD(outbound, reply_ctx, FT_STR, IPC_CTX_MAX, 0),
	FLD(outbound, more, FT_BOOL, 0, 0),
};
static const struct field f_outbound_file[] = {
	FLD(outbound_file, id, FT_U64, INT64_MAX, 0),
	FLD(outbound_file, key, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(outbound_file, peer, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(outbound_file, name, FT_STR, IPC_FILENAME_MAX, F_NONEMPTY),
	FLD(outbound_file, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(outbound_file, size, FT_U64, IPC_FILE_MAX, 0),
	FLD(outbound_file, reply_ctx, FT_STR, IPC_CTX_MAX, 0),
};
static const struct field f_progress[] = {
	FLD(progress, peer, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(progress, text, FT_STR, IPC_TEXT_MAX, F_NONEMPTY),
	FLD(progress, reply_ctx, FT_STR, IPC_CTX_MAX, F_NONEMPTY),
};
static const struct field f_delivery[] = {
	FLD(delivery, id, FT_U64, INT64_MAX, 0),
};
static const struct field f_delivery_fail[] = {
	FLD(delivery_fail, id, FT_U64, INT64_MAX, 0),
	FLD(delivery_fail, code, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(delivery_fail, message, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(delivery_fail, retry_after_ms, FT_U64, IPC_RETRY_AFTER_MAX, 0),
};
static const struct field f_state[] = {
	FLD(state, key, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(state, value, FT_STR, IPC_STATE_MAX, 0),
};
static const struct field f_state_value[] = {
	FLD(state_value, key, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(state_value, value, FT_STR, IPC_STATE_MAX, 0),
	FLD(state_value, found, FT_BOOL, 0, 0),
};
static const struct field f_login[] = {
	FLD(login, status, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(login, url, FT_STR, IPC_URL_MAX, 0),
};
static const struct field f_login_req[] = {
	FLD(login_req, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(login_req, code, FT_STR, IPC_NAME_MAX, 0),
};
static const struct field f_audit_row[] = {
	FLD(audit_row, time, FT_U64, INT64_MAX, 0),
	FLD(audit_row, role, FT_STR, IPC_NAME_MAX, 0),
	FLD(audit_row, worker, FT_STR, IPC_NAME_MAX, 0),
	FLD(audit_row, session, FT_U64, INT64_MAX, 0),
	FLD(audit_row, method, FT_STR, IPC_METHOD_MAX, 0),
	FLD(audit_row, detail, FT_STR, IPC_MESSAGE_MAX, 0),
};
static const struct field f_share_create[] = {
	FLD(share_create, ttl_s, FT_U64, UINT32_MAX, 0),
	FLD(share_create, read_only, FT_BOOL, 0, 0),
	FLD(share_create, session, FT_U64, INT64_MAX, 0),
};
static const struct field f_share_row[] = {
	FLD(share_row, hash, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(share_row, created, FT_U64, INT64_MAX, 0),
	FLD(share_row, expires, FT_U64, INT64_MAX, 0),
	FLD(share_row, read_only, FT_BOOL, 0, 0),
	FLD(share_row, session, FT_U64, INT64_MAX, 0),
	FLD(share_row, revoked, FT_U64, INT64_MAX, 0),
};
static const struct field f_relay_auth[] = {
	FLD(relay_auth, conn, FT_U64, UINT64_MAX, 0),
	FLD(relay_auth, token, FT_STR, IPC_TOKEN_MAX, 0),
};
static const struct field f_relay_verdict[] = {
	FLD(relay_verdict, conn, FT_U64, UINT64_MAX, 0),
	FLD(relay_verdict, ok, FT_BOOL, 0, 0),
	FLD(relay_verdict, token_id, FT_U64, INT64_MAX, 0),
};
static const struct field f_relay_row[] = {
	FLD(relay_row, id, FT_U64, INT64_MAX, 0),
	FLD(relay_row, agent, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(relay_row, created, FT_U64, INT64_MAX, 0),
	FLD(relay_row, last_used, FT_U64, INT64_MAX, 0),
	FLD(relay_row, revoked, FT_U64, INT64_MAX, 0),
};
static const struct field f_bind_create[] = {
	FLD(bind_create, tmpl, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(bind_create, ttl_s, FT_U64, UINT32_MAX, 0),
	FLD(bind_create, uses, FT_U64, UINT32_MAX, 0),
};
static const struct field f_invite_row[] = {
	FLD(invite_row, id, FT_U64, INT64_MAX, 0),
	FLD(invite_row, tmpl, FT_STR, IPC_NAME_MAX, 0),
	FLD(invite_row, created, FT_U64, INT64_MAX, 0),
	FLD(invite_row, expires, FT_U64, INT64_MAX, 0),
	FLD(invite_row, uses_left, FT_U64, INT64_MAX, 0),
	FLD(invite_row, used, FT_U64, INT64_MAX, 0),
	FLD(invite_row, revoked, FT_U64, INT64_MAX, 0),
};
static const struct field f_channel_row[] = {
	FLD(channel_row, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(channel_row, kind, FT_STR, IPC_NAME_MAX, 0),
	FLD(channel_row, source, FT_STR, IPC_NAME_MAX, 0),
	FLD(channel_row, tmpl, FT_STR, IPC_NAME_MAX, 0),
	FLD(channel_row, state, FT_STR, IPC_NAME_MAX, 0),
	FLD(channel_row, owner, FT_STR, IPC_PEER_MAX, 0),
};
static const struct field f_pairing_row[] = {
	FLD(pairing_row, code, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(pairing_row, account, FT_STR, IPC_NAME_MAX, 0),
	FLD(pairing_row, peer, FT_STR, IPC_PEER_MAX, 0),
	FLD(pairing_row, created, FT_U64, INT64_MAX, 0),
	FLD(pairing_row, expires, FT_U64, INT64_MAX, 0),
};

static const struct field f_ctl_send[] = {
	FLD(ctl_send, channel, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(ctl_send, target, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(ctl_send, text, FT_STR, IPC_TEXT_MAX, F_NONEMPTY),
};
static const struct field f_send_file[] = {
	FLD(send_file, channel, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(send_file, target, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(send_file, name, FT_STR, IPC_FILENAME_MAX, F_NONEMPTY),
	FLD(send_file, kind, FT_STR, IPC_NAME_MAX, 0),
};
static const struct field f_delivery_row[] = {
	FLD(delivery_row, id, FT_U64, INT64_MAX, 0),
	FLD(delivery_row, channel, FT_STR, IPC_NAME_MAX, 0),
	FLD(delivery_row, target, FT_STR, IPC_PEER_MAX, 0),
	FLD(delivery_row, state, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(delivery_row, detail, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(delivery_row, attempts, FT_U64, INT64_MAX, 0),
	FLD(delivery_row, created, FT_U64, INT64_MAX, 0),
	FLD(delivery_row, finished, FT_U64, INT64_MAX, 0),
};
/* A definition's fields, in a schedule.add or inside a ctl.schedule. */
#define SCHED_DEF(st, pre) \
	{ "name", FT_STR, IPC_NAME_MAX, \
	    offsetof(struct ipc_body_##st, pre name), F_NONEMPTY }, \
	{ "cron", FT_STR, IPC_CRON_MAX, \
	    offsetof(struct ipc_body_##st, pre cron), 0 }, \
	{ "every", FT_STR, IPC_NAME_MAX, \
	    offsetof(struct ipc_body_##st, pre every), 0 }, \
	{ "tz", FT_STR, IPC_NAME_MAX, \
	    offsetof(struct ipc_body_##st, pre tz), 0 }, \
	{ "agent", FT_STR, IPC_NAME_MAX, \
	    offsetof(struct ipc_body_##st, pre agent), 0 }, \
	{ "text", FT_STR, IPC_TEXT_MAX, \
	    offsetof(struct ipc_body_##st, pre text), F_NONEMPTY }, \
	{ "targets", FT_STR, IPC_TARGETS_MAX, \
	    offsetof(struct ipc_body_##st, pre targets), F_NONEMPTY }, \
	{ "hold_s", FT_U64, INT32_MAX, \
	    offsetof(struct ipc_body_##st, pre hold_s), 0 }, \
	{ "catch_up", FT_STR, IPC_NAME_MAX, \
	    offsetof(struct ipc_body_##st, pre catch_up), F_NONEMPTY }
static const struct field f_sched_def[] = {
	SCHED_DEF(sched_def, ),
};
static const struct field f_sched_row[] = {
	SCHED_DEF(sched_row, def.),
	FLD(sched_row, paused, FT_BOOL, 0, 0),
	FLD(sched_row, from_config, FT_BOOL, 0, 0),
	FLD(sched_row, next_run, FT_U64, INT64_MAX, 0),
	FLD(sched_row, last_run, FT_U64, INT64_MAX, 0),
	FLD(sched_row, last_state, FT_STR, IPC_NAME_MAX, 0),
};
#undef SCHED_DEF
static const struct field f_run_row[] = {
	FLD(run_row, id, FT_U64, INT64_MAX, 0),
	FLD(run_row, name, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(run_row, slot, FT_U64, INT64_MAX, 0),
	FLD(run_row, manual, FT_BOOL, 0, 0),
	FLD(run_row, started, FT_U64, INT64_MAX, 0),
	FLD(run_row, agent_done, FT_U64, INT64_MAX, 0),
	FLD(run_row, state, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(run_row, error, FT_STR, IPC_MESSAGE_MAX, 0),
};
static const struct field f_run_target[] = {
	FLD(run_target, run, FT_U64, INT64_MAX, 0),
	FLD(run_target, channel, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(run_target, target, FT_STR, IPC_PEER_MAX, 0),
	FLD(run_target, state, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(run_target, detail, FT_STR, IPC_MESSAGE_MAX, 0),
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
	FLD(hub_worker, rss_kb, FT_U64, UINT64_MAX, 0),
	FLD(hub_worker, pss_kb, FT_U64, UINT64_MAX, 0),
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
	FLD(conf_file_data, data, FT_STR, IPC_SECRET_MAX, 0),
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
	FLD(conf_plan, workers, FT_U64, 4096, 0),
};
static const struct field f_conf_supervisor[] = {
	FLD(conf_supervisor, heartbeat_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_supervisor, heartbeat_timeout_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_supervisor, restart_min_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_supervisor, restart_max_ms, FT_U64, UINT32_MAX, 0),
	FLD(conf_supervisor, crashloop_count, FT_U64, UINT32_MAX, 0),
	FLD(conf_supervisor, crashloop_window_s, FT_U64, UINT32_MAX, 0),
	FLD(conf_supervisor, shutdown_grace_ms, FT_U64, UINT32_MAX, 0),
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

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct schema s_empty = { f_empty, 0 };
static const struct field f_console_login[] = {
	FLD(console_login, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_login, addr, FT_STR, IPC_NAME_MAX, 0),
	FLD(console_login, token, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
};
static const struct field f_console_get[] = {
	FLD(console_get, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_get, session, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
	FLD(console_get, page, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_console_post[] = {
	FLD(console_post, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_post, session, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
	FLD(console_post, csrf, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
	FLD(console_post, action, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(console_post, arg, FT_STR, IPC_NAME_MAX, 0),
	FLD(console_post, peer, FT_STR, IPC_PEER_MAX, 0),
};
static const struct field f_console_answer[] = {
	FLD(console_answer, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_answer, status, FT_U64, 599, 0),
	FLD(console_answer, cookie, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(console_answer, location, FT_STR, IPC_URL_MAX, 0),
	FLD(console_answer, body, FT_STR, IPC_CONSOLE_BODY_MAX, 0),
};

#define SCHEMA(b)	static const struct schema s_##b = { f_##b, NFIELDS(f_##b) };
SCHEMA(hello) SCHEMA(seq) SCHEMA(log) SCHEMA(violation) SCHEMA(conn_addr) SCHEMA(resume)
SCHEMA(chat_send) SCHEMA(history_req) SCHEMA(conn) SCHEMA(text)
SCHEMA(chat_abort) SCHEMA(rpc_call) SCHEMA(conn_open) SCHEMA(agent_error) SCHEMA(name) SCHEMA(ctl_test) SCHEMA(ctl_worker)
SCHEMA(result) SCHEMA(config) SCHEMA(test) SCHEMA(session_ok)
SCHEMA(rpc_error) SCHEMA(chat_accepted) SCHEMA(chat_delta)
SCHEMA(chat_done) SCHEMA(chat_error) SCHEMA(history) SCHEMA(conn_verdict)
SCHEMA(agent_request) SCHEMA(agent_request_media) SCHEMA(agent_file) SCHEMA(share_check) SCHEMA(share_status)
SCHEMA(share_ok) SCHEMA(share_create) SCHEMA(share_row) SCHEMA(pairing_row)
SCHEMA(relay_auth) SCHEMA(relay_verdict) SCHEMA(relay_row)
SCHEMA(bind_create) SCHEMA(invite_row) SCHEMA(channel_row)
SCHEMA(bind_status) SCHEMA(bind_start) SCHEMA(bind_state)
SCHEMA(share_open) SCHEMA(inbound) SCHEMA(inbound_media) SCHEMA(inbound_ack) SCHEMA(outbound)
SCHEMA(progress)
SCHEMA(delivery) SCHEMA(delivery_fail) SCHEMA(state) SCHEMA(state_value)
SCHEMA(login) SCHEMA(login_req) SCHEMA(audit_row) SCHEMA(ctl_send)
SCHEMA(send_file) SCHEMA(outbound_file)
SCHEMA(delivery_row) SCHEMA(sched_name) SCHEMA(sched_def) SCHEMA(sched_row) SCHEMA(run_row)
SCHEMA(run_target)
SCHEMA(hub_worker) SCHEMA(hub_ref) SCHEMA(hub_config) SCHEMA(hub_spawn)
SCHEMA(conf_text) SCHEMA(conf_file) SCHEMA(conf_file_data) SCHEMA(conf_plan)
SCHEMA(conf_supervisor) SCHEMA(conf_worker) SCHEMA(conf_done)
SCHEMA(console_login) SCHEMA(console_get) SCHEMA(console_post)
SCHEMA(console_answer)
#undef SCHEMA

struct msgdef {
	struct ipc_msginfo	 info;
	const struct schema	*schema;
};

/*
 * Never called: a number born twice in the catalogue is a duplicate
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

static const struct msgdef msgdefs[] = {
#define X(n, num, wire, roles, flags, body) \
	{ { IPC_##n, wire, roles, flags }, &s_##body },
	IPC_MESSAGES(X)
#undef X
};

static const char *const errstr[IPC_E_MAX] = {
	[IPC_OK] = "ok",
	[IPC_E_SHORT] = "truncated frame",
	[IPC_E_SHAPE] = "frame is not [type, req_id, body]",
	[IPC_E_TYPE] = "unknown message type",
	[IPC_E_KEY] = "unknown, missing or repeated key",
	[IPC_E_VALUE] = "value of the wrong type",
	[IPC_E_LENGTH] = "field over its limit",
	[IPC_E_UTF8] = "string is not valid UTF-8",
	[IPC_E_TRAILING] = "bytes after the frame",
	[IPC_E_SIZE] = "frame larger than IPC_FRAME_MAX",
};

static const struct msgdef *
msgdef_find(uint32_t type)
{
	size_t i;

	for (i = 0; i < NFIELDS(msgdefs); i++) {
		if (msgdefs[i].info.type != type)
			continue;
#ifndef WX_TEST_HOOKS
		/* Test hooks do not exist in production builds. */
		if (msgdefs[i].info.flags & MSG_TESTHOOK)
			return NULL;
#endif
		return &msgdefs[i];
	}
	return NULL;
}

const struct ipc_msginfo *
ipc_msginfo(uint32_t type)
{
	const struct msgdef *d = msgdef_find(type);

	return d == NULL ? NULL : &d->info;
}

const char *
ipc_type_name(uint32_t type)
{
	const struct msgdef *d = msgdef_find(type);

	return d == NULL ? "unknown" : d->info.name;
}

const char *
ipc_strerror(enum ipc_err e)
{
	if (e < 0 || e >= IPC_E_MAX)
		return "unknown error";
	return errstr[e];
}

/*
 * UTF-8 as RFC 3629 defines it: no overlongs, no surrogates, nothing
 * above U+10FFFF.  NUL is refused too, so every string can be handed to
 * C APIs and SQLite as text.
 */
int
ipc_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned char c;
	size_t need, i;
	uint32_t cp, min;

	while (p < end) {
		c = *p++;
		if (c == 0)
			return 0;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else
			return 0;
		if ((size_t)(end - p) < need)
			return 0;
		for (i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		p += need;
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/* Decoding cursor: every read checks what is left first. */
struct cur {
	const uint8_t	*p;
	const uint8_t	*end;
};

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
static enum ipc_err
get_container(struct cur *c, int map, uint32_t *n)
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

static enum ipc_err
get_u64(struct cur *c, uint64_t *v)
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

static enum ipc_err
get_str(struct cur *c, struct ipc_str *s, uint64_t max)
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
	if (!ipc_utf8_valid((const char *)b, len))
		return IPC_E_UTF8;
	s->p = (const char *)b;
	s->len = len;
	return IPC_OK;
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

/* turns: an array of [role, text] pairs. */
static enum ipc_err
get_turns(struct cur *c, struct ipc_turns *t, uint64_t max)
{
	enum ipc_err e;
	uint32_t n, pair, i;

	if ((e = get_container(c, 0, &n)) != IPC_OK)
		return e;
	if (n > max)
		return IPC_E_LENGTH;
	for (i = 0; i < n; i++) {
		if ((e = get_container(c, 0, &pair)) != IPC_OK)
			return e;
		if (pair != 2)
			return IPC_E_SHAPE;
		if ((e = get_str(c, &t->v[i].role, TURN_ROLE_MAX)) != IPC_OK ||
		    (e = get_str(c, &t->v[i].text, IPC_REPLY_MAX)) != IPC_OK)
			return e;
		if (t->v[i].role.len == 0)
			return IPC_E_VALUE;
	}
	t->n = n;
	return IPC_OK;
}

/* parts: an array of [kind, name, size] triples, no size 0. */
static enum ipc_err
get_parts(struct cur *c, struct ipc_parts *t, uint64_t max)
{
	enum ipc_err e;
	uint32_t n, three, i;
	uint64_t size;

	if ((e = get_container(c, 0, &n)) != IPC_OK)
		return e;
	if (n > max)
		return IPC_E_LENGTH;
	for (i = 0; i < n; i++) {
		if ((e = get_container(c, 0, &three)) != IPC_OK)
			return e;
		if (three != 3)
			return IPC_E_SHAPE;
		if ((e = get_str(c, &t->v[i].kind, IPC_PARTKIND_MAX)) !=
		    IPC_OK ||
		    (e = get_str(c, &t->v[i].name, IPC_FILENAME_MAX)) !=
		    IPC_OK ||
		    (e = get_u64(c, &size)) != IPC_OK)
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

static enum ipc_err
get_field(struct cur *c, const struct field *f, void *body)
{
	char *at = (char *)body + f->off;
	struct ipc_str *s;
	enum ipc_err e;
	uint64_t v;

	switch (f->type) {
	case FT_U64:
		if ((e = get_u64(c, &v)) != IPC_OK)
			return e;
		if (v > f->max)
			return IPC_E_LENGTH;
		memcpy(at, &v, sizeof(v));
		return IPC_OK;
	case FT_STR:
		s = (struct ipc_str *)(void *)at;
		if ((e = get_str(c, s, f->max)) != IPC_OK)
			return e;
		if ((f->flags & F_NONEMPTY) && s->len == 0)
			return IPC_E_LENGTH;
		return IPC_OK;
	case FT_BOOL:
		return get_bool(c, (int *)(void *)at);
	case FT_TURNS:
		if ((e = get_turns(c, (struct ipc_turns *)(void *)at,
		    f->max)) != IPC_OK)
			return e;
		if ((f->flags & F_NONEMPTY) &&
		    ((struct ipc_turns *)(void *)at)->n == 0)
			return IPC_E_LENGTH;
		return IPC_OK;
	case FT_PARTS:
		if ((e = get_parts(c, (struct ipc_parts *)(void *)at,
		    f->max)) != IPC_OK)
			return e;
		if ((f->flags & F_NONEMPTY) &&
		    ((struct ipc_parts *)(void *)at)->n == 0)
			return IPC_E_LENGTH;
		return IPC_OK;
	}
	return IPC_E_VALUE;
}

enum ipc_err
ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m)
{
	const struct msgdef *d;
	const struct schema *sc;
	struct cur c = { buf, buf + len };
	struct ipc_str key;
	enum ipc_err e;
	uint64_t type, seen = 0;
	uint32_t n, nkeys, i, j;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (len > IPC_FRAME_MAX)
		return IPC_E_SIZE;
	if ((e = get_container(&c, 0, &n)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	if (n != 3)
		return IPC_E_SHAPE;
	if ((e = get_u64(&c, &type)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	if (type > UINT32_MAX || (d = msgdef_find((uint32_t)type)) == NULL)
		return IPC_E_TYPE;
	m->type = (uint32_t)type;
	if ((e = get_u64(&c, &m->req_id)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	if ((e = get_container(&c, 1, &nkeys)) != IPC_OK)
		return e == IPC_E_VALUE ? IPC_E_SHAPE : e;
	sc = d->schema;
	if (nkeys != sc->n)
		return IPC_E_KEY;
	for (i = 0; i < nkeys; i++) {
		if ((e = get_str(&c, &key, IPC_NAME_MAX)) != IPC_OK)
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

static int
put_str(msgpack_packer *pk, struct ipc_str s)
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
	const struct ipc_turns *t;
	const struct ipc_parts *pa;
	struct ipc_str s;
	uint64_t v;
	size_t i;
	int b;

	if (put_str(pk, ipc_s(f->key)) != 0)
		return -1;
	switch (f->type) {
	case FT_U64:
		memcpy(&v, at, sizeof(v));
		if (v > f->max)
			return -1;
		return msgpack_pack_uint64(pk, v);
	case FT_STR:
		memcpy(&s, at, sizeof(s));
		if (s.len > f->max || (s.len > 0 && s.p == NULL) ||
		    ((f->flags & F_NONEMPTY) && s.len == 0))
			return -1;
		return put_str(pk, s);
	case FT_BOOL:
		memcpy(&b, at, sizeof(b));
		return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
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
			    put_str(pk, t->v[i].role) != 0 ||
			    put_str(pk, t->v[i].text) != 0)
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
			    put_str(pk, pa->v[i].kind) != 0 ||
			    put_str(pk, pa->v[i].name) != 0 ||
			    msgpack_pack_uint64(pk, pa->v[i].size) != 0)
				return -1;
		}
		return 0;
	}
	return -1;
}

size_t
ipc_encode(uint32_t type, uint64_t req_id, const void *body, uint8_t *out,
    size_t outlen)
{
	const struct msgdef *d;
	struct sink sk = { out, 0, outlen < IPC_FRAME_MAX ?
	    outlen : IPC_FRAME_MAX };
	msgpack_packer pk;
	size_t i;

	if ((d = msgdef_find(type)) == NULL)
		return 0;
	msgpack_packer_init(&pk, &sk, sink_write);
	if (msgpack_pack_array(&pk, 3) != 0 ||
	    msgpack_pack_uint32(&pk, type) != 0 ||
	    msgpack_pack_uint64(&pk, req_id) != 0 ||
	    msgpack_pack_map(&pk, d->schema->n) != 0)
		return 0;
	for (i = 0; i < d->schema->n; i++)
		if (put_field(&pk, &d->schema->f[i], body) != 0)
			return 0;
	return sk.len;
}

struct ipc_str
ipc_s(const char *s)
{
	struct ipc_str r = { s, s == NULL ? 0 : strlen(s) };

	return r;
}

char *
ipc_strdup(struct ipc_str s)
{
	return xstrndup(s.len ? s.p : "", s.len);
}

int
ipc_streq(struct ipc_str s, const char *c)
{
	size_t n = strlen(c);

	return s.len == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

int
ipc_log_body(struct ipc_body_log *b, int level, const char *line)
{
	b->level = (uint64_t)level;
	b->text.p = line;
	b->text.len = strnlen(line, IPC_LOG_MAX);
	return ipc_utf8_valid(b->text.p, b->text.len) ? 0 : -1;
}
