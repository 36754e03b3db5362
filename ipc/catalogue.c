/*
 * The messages between the hub, the workers and wxgatectl
 * (IPC_HUB_MESSAGES in ipc/ipc_msg.h), and their bodies' schemas.
 * Every process but the root parent adds them to its codec at start
 * (ipc_catalogue_all); the parent's own are catalogue_parent.c's.
 */
#include <stddef.h>
#include <stdint.h>

#include "codec_int.h"

static const struct field f_hello[] = {
	FLD(hello, version, FT_U64, UINT32_MAX, 0),
	FLD(hello, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
};
static const struct field f_figures[] = {
	FLD(figures, rss_kb, FT_U64, IPC_FIGURE_MAX, 0),
	FLD(figures, pss_kb, FT_U64, IPC_FIGURE_MAX, 0),
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
	FLD(agent_request, e2e, FT_STR, IPC_E2E_MAX, 0),
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
	FLD(agent_request, e2e, FT_STR, IPC_E2E_MAX, 0),
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
	FLD(outbound, spent, FT_U64, UINT32_MAX, 0),
};
static const struct field f_outbound_file[] = {
	FLD(outbound_file, id, FT_U64, INT64_MAX, 0),
	FLD(outbound_file, key, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(outbound_file, peer, FT_STR, IPC_PEER_MAX, F_NONEMPTY),
	FLD(outbound_file, name, FT_STR, IPC_FILENAME_MAX, F_NONEMPTY),
	FLD(outbound_file, kind, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(outbound_file, size, FT_U64, IPC_FILE_MAX, 0),
	FLD(outbound_file, reply_ctx, FT_STR, IPC_CTX_MAX, 0),
	FLD(outbound_file, spent, FT_U64, UINT32_MAX, 0),
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
static const struct field f_console_login[] = {
	FLD(console_login, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_login, addr, FT_STR, IPC_NAME_MAX, 0),
	FLD(console_login, token, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
};
static const struct field f_console_get[] = {
	FLD(console_get, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_get, session, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
	FLD(console_get, page, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(console_get, query, FT_STR, IPC_CONSOLE_QUERY_MAX, 0),
};
static const struct field f_console_post[] = {
	FLD(console_post, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_post, session, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
	FLD(console_post, csrf, FT_STR, IPC_CONSOLE_TOKEN_MAX, 0),
	FLD(console_post, action, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(console_post, arg, FT_STR, IPC_NAME_MAX, 0),
	FLD(console_post, peer, FT_STR, IPC_PEER_MAX, 0),
	FLD(console_post, text, FT_STR, IPC_TEXT_MAX, 0),
};
static const struct field f_console_answer[] = {
	FLD(console_answer, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_answer, status, FT_U64, 599, 0),
	FLD(console_answer, cookie, FT_STR, IPC_MESSAGE_MAX, 0),
	FLD(console_answer, location, FT_STR, IPC_URL_MAX, 0),
	FLD(console_answer, body, FT_STR, IPC_CONSOLE_BODY_MAX, 0),
};
static const struct field f_console_media[] = {
	FLD(console_media, conn, FT_U64, UINT64_MAX, 0),
	FLD(console_media, ctype, FT_STR, IPC_NAME_MAX, F_NONEMPTY),
	FLD(console_media, disposition, FT_STR, IPC_CONSOLE_DISP_MAX, 0),
	FLD(console_media, data, FT_STR, IPC_CONSOLE_MEDIA_MAX, F_BYTES),
};

SCHEMA(hello) SCHEMA(figures) SCHEMA(conn_addr) SCHEMA(resume) SCHEMA(chat_send)
SCHEMA(history_req) SCHEMA(conn) SCHEMA(chat_abort) SCHEMA(rpc_call)
SCHEMA(conn_open) SCHEMA(agent_error) SCHEMA(name) SCHEMA(ctl_test)
SCHEMA(ctl_worker) SCHEMA(result) SCHEMA(test) SCHEMA(session_ok)
SCHEMA(rpc_error) SCHEMA(chat_accepted) SCHEMA(chat_delta)
SCHEMA(chat_done) SCHEMA(chat_error) SCHEMA(history)
SCHEMA(conn_verdict) SCHEMA(agent_request) SCHEMA(agent_request_media)
SCHEMA(agent_file) SCHEMA(share_check) SCHEMA(share_status)
SCHEMA(share_ok) SCHEMA(share_create) SCHEMA(share_row)
SCHEMA(pairing_row) SCHEMA(relay_auth) SCHEMA(relay_verdict)
SCHEMA(relay_row) SCHEMA(bind_create) SCHEMA(invite_row)
SCHEMA(channel_row) SCHEMA(bind_status) SCHEMA(bind_start)
SCHEMA(bind_state) SCHEMA(share_open) SCHEMA(inbound)
SCHEMA(inbound_media) SCHEMA(inbound_ack) SCHEMA(outbound)
SCHEMA(progress) SCHEMA(delivery) SCHEMA(delivery_fail) SCHEMA(state)
SCHEMA(state_value) SCHEMA(login) SCHEMA(login_req) SCHEMA(audit_row)
SCHEMA(ctl_send) SCHEMA(send_file) SCHEMA(outbound_file)
SCHEMA(delivery_row) SCHEMA(sched_name) SCHEMA(sched_def)
SCHEMA(sched_row) SCHEMA(run_row) SCHEMA(run_target)
SCHEMA(console_login) SCHEMA(console_get) SCHEMA(console_post)
SCHEMA(console_answer) SCHEMA(console_media)

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
