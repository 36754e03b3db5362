/*
 * The IPC message catalogue: the only place a message number is born.
 *
 * Every frame between processes (and wxgatectl and the control socket)
 * is [type, req_id, body]: a msgpack array with a map, or for the root
 * parent's list a fixed binary form (ipc/codec_bin.c); body's rows,
 * IPC_BODY_x, make both its struct and its schema (ipc/catalogue*.c).
 * Numbers are stable, never reused, and grouped by sending role.  Bump
 * IPC_VERSION with every change: a worker of another version stops.
 *
 * req_id: a request from a worker carries an id the worker chose; the
 * supervisor's reply (session.ok, rpc.error, chat.accepted,
 * chat.history_result) echoes it.  Events (chat.delta/done/error) carry
 * req_id 0 and name the connection and client_msg_id instead.  For the
 * agent role req_id is the supervisor's request id, echoed by every
 * agent.delta/done/error of that request; agent.abort names it too, and
 * the agent drops that request without answering (the supervisor has
 * already finished it).
 */
#ifndef WX_IPC_MSG_H
#define WX_IPC_MSG_H

#include "ipc_parent.h"

/* The root parent stops here: the rest is the other processes'. */
#ifndef IPC_PARENT_ONLY

/*
 * The version every hello carries, and the limits of the messages
 * only the hub, the workers and wxgatectl speak (the parent's own are
 * ipc_parent.h's).
 */
#define IPC_VERSION		33

#define IPC_TOKEN_MAX		64	/* session tokens (32 hex today) */
#define IPC_MSGID_MAX		64	/* client_msg_id */
#define IPC_TEXT_MAX		(32 * 1024)	/* one user message */
#define IPC_TURNS_MAX		256	/* turns in agent.request/history */
#define IPC_MODEL_MAX		128	/* a model a conversation picked */
#define IPC_METHOD_MAX		64	/* a browser method name */
#define IPC_URL_MAX		256	/* a share link's URL */
#define IPC_PEER_MAX		256	/* a channel's sender id */
#define IPC_CHANID_MAX		128	/* a platform's message id */
#define IPC_CTX_MAX		1024	/* a platform's opaque reply context */
#define IPC_STATE_MAX		(8 * 1024)	/* one channel state value */
/* X-Forwarded-For as received; longer chains are cut by the worker. */
#define IPC_FORWARDED_MAX	512
/* An attachment's bytes (the webhook's file cap) and its name. */
#define IPC_FILE_MAX		(20 * 1024 * 1024)
#define IPC_FILENAME_MAX	255
/* Attachments in one inbound.media; their kinds' longest name. */
#define IPC_PARTS_MAX		8
#define IPC_PARTKIND_MAX	16
/* A schedule's targets, "channel:target" lines; its cron expression. */
#define IPC_TARGETS_MAX		(8 * 1024)
#define IPC_CRON_MAX		256
/* A day: a longer Retry-After is a broken upstream, not advice. */
#define IPC_RETRY_AFTER_MAX	(24ULL * 3600 * 1000)

#define IPC_HUB_MESSAGES(X)						\
	/* lifecycle: every worker */					\
	X(HELLO,	100, "hello",		ROLE_WORKER,	MSG_ONCE, hello)	\
	X(READY,	101, "ready",		ROLE_WORKER,	MSG_ONCE, empty)	\
	/* after sup.resync: what follows is for the new hub */		\
	X(RESYNCED,	105, "resynced",	ROLE_WORKER,	0,	empty)		\
	/* its own memory, which the parent may not read (heartbeat.c) */	\
	X(FIGURES,	106, "figures",		ROLE_WORKER,	0,	figures)	\
	/* webchat pool, on behalf of anonymous browser sessions */	\
	X(SESSION_OPEN,	200, "session.open",	ROLE_WEBCHAT,	0,	conn_addr)	\
	X(SESSION_RESUME, 201, "session.resume", ROLE_WEBCHAT,	0,	resume)		\
	X(CHAT_SEND,	202, "chat.send",	ROLE_WEBCHAT,	0,	chat_send)	\
	X(CHAT_HISTORY,	203, "chat.history",	ROLE_WEBCHAT,	0,	history_req)	\
	X(CONN_CLOSE,	204, "conn.close",	ROLE_WEBCHAT,	MSG_INTERNAL, conn)	\
	X(CHAT_ABORT,	205, "chat.abort",	ROLE_WEBCHAT,	0,	chat_abort)	\
	X(RPC_CALL,	206, "rpc.call",	ROLE_WEBCHAT,	MSG_INTERNAL, rpc_call)	\
	X(CONN_OPEN,	207, "conn.open",	ROLE_WEBCHAT,	MSG_INTERNAL, conn_open) \
	X(SHARE_CHECK,	208, "share.check",	ROLE_WEBCHAT,	MSG_INTERNAL, share_check) \
	X(SHARE_OPEN,	209, "share.open",	ROLE_WEBCHAT,	0,	share_open)	\
	/* a TCP connection accepted (before a byte is read), and closed */ \
	X(PEER_OPEN,	210, "peer.open",	ROLE_WEBCHAT,	MSG_INTERNAL, conn_addr) \
	X(PEER_CLOSE,	211, "peer.close",	ROLE_WEBCHAT,	MSG_INTERNAL, conn)	\
	/* GET /bind/<token>, and the page asking to start its login */	\
	X(BIND_CHECK,	212, "bind.check",	ROLE_WEBCHAT,	MSG_INTERNAL, share_check) \
	X(BIND_START,	213, "bind.start",	ROLE_WEBCHAT,	0,	bind_start)	\
	/* channel workers, one per platform account */			\
	X(INBOUND,	300, "inbound.message",	ROLE_CHANNEL,	0,	inbound)	\
	X(DELIVERY_ACK,	301, "delivery.ack",	ROLE_CHANNEL,	0,	delivery)	\
	X(DELIVERY_FAIL, 302, "delivery.fail",	ROLE_CHANNEL,	0,	delivery_fail)	\
	X(STATE_GET,	303, "state.get",	ROLE_CHANNEL,	0,	name)		\
	X(STATE_PUT,	304, "state.put",	ROLE_CHANNEL,	0,	state)		\
	X(LOGIN_QR,	305, "login.qr",	ROLE_CHANNEL,	0,	login)		\
	/* inbound.message with attachments: their bytes in the fd */	\
	X(INBOUND_MEDIA, 306, "inbound.media",	ROLE_CHANNEL,	MSG_FD,	inbound_media) \
	/* agent backends */						\
	X(AGENT_DELTA,	400, "agent.delta",	ROLE_AGENT,	0,	text)		\
	X(AGENT_DONE,	401, "agent.done",	ROLE_AGENT,	0,	empty)		\
	X(AGENT_ERROR,	402, "agent.error",	ROLE_AGENT,	0,	agent_error)	\
	/* a file the reply carries, before its agent.done */		\
	X(AGENT_FILE,	403, "agent.file",	ROLE_AGENT,	MSG_FD,	agent_file)	\
	/* a relay agent: the request goes to another relay, from scratch */ \
	X(AGENT_RESTART, 404, "agent.restart",	ROLE_AGENT,	0,	empty)		\
	/* a relay agent has a relay connected again: send it work */	\
	X(AGENT_ONLINE,	405, "agent.online",	ROLE_AGENT,	0,	empty)		\
	/* a relay's hello: is this pairing token live for this agent? */ \
	X(RELAY_AUTH,	406, "relay.auth",	ROLE_AGENT,	0,	relay_auth)	\
	/* the metrics worker, for one scrape (answered in parts) */	\
	X(METRICS_GET,	500, "metrics.get",	ROLE_METRICS,	0,	empty)		\
	/* operator, over the control socket */				\
	X(CTL_STATUS,	600, "ctl.status",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_RESTART,	601, "ctl.restart",	ROLE_OPERATOR,	0,	name)		\
	X(CTL_STOP,	602, "ctl.stop",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_TEST,	603, "ctl.test",	ROLE_OPERATOR,	MSG_TESTHOOK, ctl_test)	\
	X(CTL_SHARE_CREATE, 604, "share.create", ROLE_OPERATOR, 0, share_create) \
	X(CTL_SHARE_LIST, 605, "share.list", ROLE_OPERATOR,	0,	empty)		\
	X(CTL_SHARE_REVOKE, 606, "share.revoke", ROLE_OPERATOR, 0,	name)		\
	X(CTL_PAIRING_LIST, 607, "pairing.list", ROLE_OPERATOR, 0,	empty)		\
	X(CTL_PAIRING_APPROVE, 608, "pairing.approve", ROLE_OPERATOR, 0, name)	\
	X(CTL_PAIRING_DENY, 609, "pairing.deny", ROLE_OPERATOR, 0,	name)		\
	X(CTL_AUDIT_LIST, 610, "audit.list",	ROLE_OPERATOR,	0,	seq)		\
	X(CTL_LOGIN,	611, "login.show",	ROLE_OPERATOR,	0,	login_req)	\
	X(CTL_STATS,	612, "ctl.stats",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_SEND,	613, "ctl.send",	ROLE_OPERATOR,	0,	ctl_send)	\
	X(CTL_OUTBOX,	614, "outbox.show",	ROLE_OPERATOR,	0,	seq)		\
	X(CTL_SCHED_ADD, 615, "schedule.add",	ROLE_OPERATOR,	0,	sched_def)	\
	X(CTL_SCHED_LIST, 616, "schedule.list",	ROLE_OPERATOR,	0,	sched_name)		\
	X(CTL_SCHED_RUN, 617, "schedule.run",	ROLE_OPERATOR,	0,	name)		\
	X(CTL_SCHED_PAUSE, 618, "schedule.pause", ROLE_OPERATOR, 0,	name)		\
	X(CTL_SCHED_RESUME, 619, "schedule.resume", ROLE_OPERATOR, 0,	name)		\
	X(CTL_SCHED_REMOVE, 620, "schedule.remove", ROLE_OPERATOR, 0,	name)		\
	X(CTL_SCHED_HISTORY, 621, "schedule.history", ROLE_OPERATOR, 0, sched_name)	\
	X(CTL_SEND_FILE, 622, "ctl.send_file",	ROLE_OPERATOR,	MSG_FD,	send_file)	\
	X(CTL_METRICS,	623, "ctl.metrics",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_RELAY_CREATE, 624, "relay.token_create", ROLE_OPERATOR, 0, name)	\
	X(CTL_RELAY_LIST, 625, "relay.token_list", ROLE_OPERATOR, 0,	empty)		\
	X(CTL_RELAY_REVOKE, 626, "relay.token_revoke", ROLE_OPERATOR, 0, name)	\
	/* binding invitations and the accounts made from them */	\
	X(CTL_BIND_CREATE, 627, "bind.create",	ROLE_OPERATOR,	0,	bind_create)	\
	X(CTL_BIND_LIST, 628, "bind.list",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_BIND_REVOKE, 629, "bind.revoke",	ROLE_OPERATOR,	0,	name)		\
	X(CTL_CHANNELS,	630, "channels.list",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_CHANNEL_REMOVE, 631, "channels.remove", ROLE_OPERATOR, 0,	name)		\
	/* supervisor to operator */					\
	X(CTL_WORKER,	700, "ctl.worker",	ROLE_SUP,	0,	ctl_worker)	\
	X(CTL_RESULT,	701, "ctl.result",	ROLE_SUP,	0,	result)		\
	X(CTL_SHARE,	702, "ctl.share",	ROLE_SUP,	0,	share_row)	\
	X(CTL_PAIRING,	703, "ctl.pairing",	ROLE_SUP,	0,	pairing_row)	\
	X(CTL_AUDIT,	704, "ctl.audit",	ROLE_SUP,	0,	audit_row)	\
	X(CTL_STAT,	705, "ctl.stat",	ROLE_SUP,	0,	name)		\
	X(CTL_DELIVERY,	706, "ctl.delivery",	ROLE_SUP,	0,	delivery_row)	\
	X(CTL_SCHEDULE,	707, "ctl.schedule",	ROLE_SUP,	0,	sched_row)	\
	X(CTL_RUN,	708, "ctl.run",		ROLE_SUP,	0,	run_row)	\
	X(CTL_RUN_TARGET, 709, "ctl.run_target", ROLE_SUP,	0,	run_target)	\
	/* a part of a long text (ctl.metrics' exposition), whole lines */ \
	X(CTL_TEXT,	710, "ctl.text",	ROLE_SUP,	0,	text)		\
	X(CTL_RELAY_TOKEN, 711, "ctl.relay_token", ROLE_SUP,	0,	relay_row)	\
	X(CTL_INVITE,	712, "ctl.invite",	ROLE_SUP,	0,	invite_row)	\
	X(CTL_CHANNEL,	713, "ctl.channel",	ROLE_SUP,	0,	channel_row)	\
	/* supervisor to worker */					\
	X(SUP_TEST,	804, "sup.test",	ROLE_SUP,	MSG_TESTHOOK, test)	\
	/* a new hub took over: say again what it cannot know */	\
	X(SUP_RESYNC,	805, "sup.resync",	ROLE_SUP,	0,	empty)		\
	X(SESSION_OK,	810, "session.ok",	ROLE_SUP,	0,	session_ok)	\
	X(RPC_ERROR,	811, "rpc.error",	ROLE_SUP,	0,	rpc_error)	\
	X(CHAT_ACCEPTED, 812, "chat.accepted",	ROLE_SUP,	0,	chat_accepted)	\
	X(CHAT_DELTA,	813, "chat.delta",	ROLE_SUP,	0,	chat_delta)	\
	X(CHAT_DONE,	814, "chat.done",	ROLE_SUP,	0,	chat_done)	\
	X(CHAT_ERROR,	815, "chat.error",	ROLE_SUP,	0,	chat_error)	\
	X(HISTORY,	816, "chat.history_result", ROLE_SUP,	0,	history)	\
	X(CONN_VERDICT,	817, "conn.verdict",	ROLE_SUP,	0,	conn_verdict)	\
	X(SHARE_STATUS,	818, "share.status",	ROLE_SUP,	0,	share_status)	\
	X(SHARE_OK,	819, "share.ok",	ROLE_SUP,	0,	share_ok)	\
	X(INBOUND_ACK,	820, "inbound.ack",	ROLE_SUP,	0,	inbound_ack)	\
	X(OUTBOUND,	821, "outbound.message", ROLE_SUP,	0,	outbound)	\
	X(STATE_VALUE,	822, "state.value",	ROLE_SUP,	0,	state_value)	\
	X(LOGIN_CODE,	823, "login.code",	ROLE_SUP,	0,	name)		\
	/* not durable: a streaming kind's answer so far, best effort */ \
	X(OUTBOUND_PROGRESS, 824, "outbound.progress", ROLE_SUP, 0,	progress)	\
	X(OUTBOUND_FILE, 825, "outbound.file",	ROLE_SUP,	MSG_FD,	outbound_file)	\
	/* metrics.get's answer: whole lines, then metrics.done */	\
	X(METRICS_TEXT,	826, "metrics.text",	ROLE_SUP,	0,	text)		\
	X(METRICS_DONE,	827, "metrics.done",	ROLE_SUP,	0,	empty)		\
	X(BIND_STATUS,	828, "bind.status",	ROLE_SUP,	0,	bind_status)	\
	X(BIND_STATE,	829, "bind.state",	ROLE_SUP,	0,	bind_state)	\
	X(AGENT_REQUEST, 850, "agent.request",	ROLE_SUP,	0,	agent_request)	\
	X(AGENT_ABORT,	851, "agent.abort",	ROLE_SUP,	0,	empty)		\
	X(PEER_VERDICT,	852, "peer.verdict",	ROLE_SUP,	0,	conn_verdict)	\
	/* agent.request with the message's attachments in the fd */	\
	X(AGENT_REQUEST_MEDIA, 853, "agent.request_media", ROLE_SUP, MSG_FD, agent_request_media) \
	/* relay.auth's answer; relay.revoke: close that token's relays */ \
	X(RELAY_VERDICT, 854, "relay.verdict",	ROLE_SUP,	0,	relay_verdict)	\
	X(RELAY_REVOKE,	855, "relay.revoke",	ROLE_SUP,	0,	seq)		\
	/* the operator console's worker, for one browser request each */ \
	X(CONSOLE_LOGIN, 1000, "console.login",	ROLE_CONSOLE,	0,	console_login)	\
	X(CONSOLE_GET,	1001, "console.get",	ROLE_CONSOLE,	0,	console_get)	\
	X(CONSOLE_POST,	1002, "console.post",	ROLE_CONSOLE,	0,	console_post)	\
	/* the hub's answer to one of them */				\
	X(CONSOLE_ANSWER, 1020, "console.answer", ROLE_SUP,	0,	console_answer)	\
	/* the hub's answer to /api/media: a stored part's bytes */	\
	X(CONSOLE_MEDIA, 1021, "console.media",	ROLE_SUP,	0,	console_media)	\
	/* operator: an account paused (its worker stopped) or resumed */ \
	X(CTL_ACCOUNT_PAUSE, 1003, "account.pause", ROLE_OPERATOR, 0,	name)		\
	X(CTL_ACCOUNT_RESUME, 1004, "account.resume", ROLE_OPERATOR, 0, name)		\
	/* operator, over the control socket: a login link; end sessions */ \
	X(CTL_CONSOLE_URL, 1040, "console.url",	ROLE_OPERATOR,	0,	name)		\
	X(CTL_CONSOLE_REVOKE, 1041, "console.revoke_all", ROLE_OPERATOR, 0, empty) \
	/* operator: a cluster's nodes and leases; this node's handed over */ \
	X(CTL_CLUSTER,	1042, "cluster.show",	ROLE_OPERATOR,	0,	empty)		\
	X(CTL_DRAIN,	1043, "cluster.drain",	ROLE_OPERATOR,	0,	empty)

#define IPC_MESSAGES(X)	IPC_PARENT_MESSAGES(X) IPC_HUB_MESSAGES(X)

enum ipc_type {
	IPC_NONE = 0,
#define X(n, num, wire, roles, flags, body)	IPC_##n = num,
	IPC_MESSAGES(X)
#undef X
};


struct ipc_turn {
	struct ipc_str	 role;		/* "user", "assistant", "system" */
	struct ipc_str	 text;
};

struct ipc_turns {
	size_t		 n;
	struct ipc_turn	 v[IPC_TURNS_MAX];
};

/*
 * One attachment of an inbound.media: kind "image", "file", "voice" or
 * "video"; name as the platform gave it ("" when none; the supervisor
 * makes it safe); size in bytes, never 0.
 */
struct ipc_part {
	struct ipc_str	 kind;
	struct ipc_str	 name;
	uint64_t	 size;
};

struct ipc_parts {
	size_t		 n;
	struct ipc_part	 v[IPC_PARTS_MAX];
};

/*
 * The bodies, each field written once as the parent's are (ipc_parent.h:
 * body, field, type, max, flags; a row's order is its order on the
 * wire): both the struct (below, IPC_BODY_STRUCT) and the schema
 * (catalogue.c) are made from the rows.  The hub's bodies add the list
 * types, TURNS a struct ipc_turns and PARTS a struct ipc_parts.  A
 * body's PARTS row is on the wire only in its _media schema, whose fd
 * holds the parts' bytes (inbound.media, agent.request_media).
 */
#define IPC_CTYPE_TURNS		struct ipc_turns
#define IPC_CTYPE_PARTS		struct ipc_parts

#define IPC_BODY_hello(F) \
	F(hello, version, U64, UINT32_MAX, 0) \
	F(hello, kind, STR, IPC_NAME_MAX, F_NONEMPTY)
/* KiB, as smaps_rollup says them; bounded by IPC_FIGURE_MAX. */
#define IPC_FIGURE_MAX		((uint64_t)1 << 40)
#define IPC_BODY_figures(F) \
	F(figures, rss_kb, U64, IPC_FIGURE_MAX, 0) \
	F(figures, pss_kb, U64, IPC_FIGURE_MAX, 0)
#define IPC_BODY_conn_addr(F) \
	F(conn_addr, conn, U64, UINT64_MAX, 0) \
	F(conn_addr, addr, STR, IPC_ADDR_MAX, 0)
#define IPC_BODY_resume(F) \
	F(resume, conn, U64, UINT64_MAX, 0) \
	F(resume, addr, STR, IPC_ADDR_MAX, 0) \
	F(resume, token, STR, IPC_TOKEN_MAX, F_NONEMPTY)
#define IPC_BODY_chat_send(F) \
	F(chat_send, conn, U64, UINT64_MAX, 0) \
	F(chat_send, client_msg_id, STR, IPC_MSGID_MAX, F_NONEMPTY) \
	F(chat_send, text, STR, IPC_TEXT_MAX, F_NONEMPTY)
#define IPC_BODY_history_req(F) \
	F(history_req, conn, U64, UINT64_MAX, 0) \
	F(history_req, limit, U64, IPC_TURNS_MAX, 0)
#define IPC_BODY_conn(F) \
	F(conn, conn, U64, UINT64_MAX, 0)
#define IPC_BODY_chat_abort(F) \
	F(chat_abort, conn, U64, UINT64_MAX, 0) \
	F(chat_abort, client_msg_id, STR, IPC_MSGID_MAX, F_NONEMPTY)
/* A browser method the worker does not serve: the supervisor names it. */
#define IPC_BODY_rpc_call(F) \
	F(rpc_call, conn, U64, UINT64_MAX, 0) \
	F(rpc_call, method, STR, IPC_METHOD_MAX, F_NONEMPTY)
/* forwarded: the X-Forwarded-For header as sent, "" when absent. */
#define IPC_BODY_conn_open(F) \
	F(conn_open, conn, U64, UINT64_MAX, 0) \
	F(conn_open, peer, STR, IPC_ADDR_MAX, F_NONEMPTY) \
	F(conn_open, forwarded, STR, IPC_FORWARDED_MAX, 0)
/* retry_after_ms: 0 unless code is rate_limited and upstream said when. */
#define IPC_BODY_agent_error(F) \
	F(agent_error, code, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(agent_error, message, STR, IPC_MESSAGE_MAX, 0) \
	F(agent_error, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
#define IPC_BODY_name(F) \
	F(name, name, STR, IPC_NAME_MAX, F_NONEMPTY)
/*
 * A file the agent's reply carries (its bytes from the reply itself,
 * never fetched or opened for it): a sealed memfd of exactly size
 * bytes; kind "image" or "file".  It goes after the reply's text.
 */
#define IPC_BODY_agent_file(F) \
	F(agent_file, name, STR, IPC_FILENAME_MAX, F_NONEMPTY) \
	F(agent_file, kind, STR, IPC_PARTKIND_MAX, F_NONEMPTY) \
	F(agent_file, size, U64, IPC_FILE_MAX, 0)
/* A schedule's name, or "" for all of them. */
#define IPC_BODY_sched_name(F) \
	F(sched_name, name, STR, IPC_NAME_MAX, 0)
#define IPC_BODY_ctl_test(F) \
	F(ctl_test, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(ctl_test, action, STR, IPC_NAME_MAX, F_NONEMPTY)
/*
 * One worker for `wxgatectl status`.  platform: a channel account's
 * connection as its worker last put it (state key "status": "subscribed",
 * "auth_failed 853000"), "" for other workers or none put yet.
 */
#define IPC_BODY_ctl_worker(F) \
	F(ctl_worker, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(ctl_worker, kind, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(ctl_worker, pid, U64, UINT32_MAX, 0) \
	F(ctl_worker, state, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(ctl_worker, uptime_ms, U64, UINT64_MAX, 0) \
	F(ctl_worker, restarts, U64, UINT64_MAX, 0) \
	F(ctl_worker, last_exit, STR, IPC_MESSAGE_MAX, 0) \
	F(ctl_worker, msgs_in, U64, UINT64_MAX, 0) \
	F(ctl_worker, msgs_out, U64, UINT64_MAX, 0) \
	F(ctl_worker, seccomp_kills, U64, UINT64_MAX, 0) \
	F(ctl_worker, platform, STR, IPC_MESSAGE_MAX, 0)
#define IPC_BODY_result(F) \
	F(result, ok, BOOL, 0, 0) \
	F(result, message, STR, IPC_MESSAGE_MAX, 0)
#define IPC_BODY_test(F) \
	F(test, action, STR, IPC_NAME_MAX, F_NONEMPTY)
#define IPC_BODY_session_ok(F) \
	F(session_ok, conn, U64, UINT64_MAX, 0) \
	F(session_ok, token, STR, IPC_TOKEN_MAX, 0) \
	F(session_ok, resumed, BOOL, 0, 0)
#define IPC_BODY_rpc_error(F) \
	F(rpc_error, conn, U64, UINT64_MAX, 0) \
	F(rpc_error, code, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(rpc_error, message, STR, IPC_MESSAGE_MAX, 0) \
	F(rpc_error, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
/* status: 0 admits the WebSocket, else the HTTP status to answer. */
#define IPC_BODY_conn_verdict(F) \
	F(conn_verdict, conn, U64, UINT64_MAX, 0) \
	F(conn_verdict, status, U64, 599, 0) \
	F(conn_verdict, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
#define IPC_BODY_chat_accepted(F) \
	F(chat_accepted, conn, U64, UINT64_MAX, 0) \
	F(chat_accepted, client_msg_id, STR, IPC_MSGID_MAX, F_NONEMPTY) \
	F(chat_accepted, status, STR, IPC_NAME_MAX, F_NONEMPTY)
#define IPC_BODY_chat_delta(F) \
	F(chat_delta, conn, U64, UINT64_MAX, 0) \
	F(chat_delta, client_msg_id, STR, IPC_MSGID_MAX, F_NONEMPTY) \
	F(chat_delta, text, STR, IPC_REPLY_MAX, 0)
#define IPC_BODY_chat_done(F) \
	F(chat_done, conn, U64, UINT64_MAX, 0) \
	F(chat_done, client_msg_id, STR, IPC_MSGID_MAX, F_NONEMPTY) \
	F(chat_done, text, STR, IPC_REPLY_MAX, 0) \
	F(chat_done, replayed, BOOL, 0, 0) \
	F(chat_done, aborted, BOOL, 0, 0)
#define IPC_BODY_chat_error(F) \
	F(chat_error, conn, U64, UINT64_MAX, 0) \
	F(chat_error, client_msg_id, STR, IPC_MSGID_MAX, F_NONEMPTY) \
	F(chat_error, code, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(chat_error, message, STR, IPC_MESSAGE_MAX, 0) \
	F(chat_error, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
#define IPC_BODY_history(F) \
	F(history, conn, U64, UINT64_MAX, 0) \
	F(history, turns, TURNS, IPC_TURNS_MAX, 0)
/*
 * model: the one the conversation picked (/model), "" the default.
 * e2e: for a sealed console thread, what its relay needs to open the
 * turns (console_e2e_context(), docs/e2e.md), JSON; "" for the rest.
 */
#define IPC_E2E_MAX		(8 * 1024)
#define IPC_BODY_agent_request(F) \
	F(agent_request, session, U64, UINT64_MAX, 0) \
	F(agent_request, turns, TURNS, IPC_TURNS_MAX, F_NONEMPTY) \
	F(agent_request, model, STR, IPC_MODEL_MAX, 0) \
	F(agent_request, parts, PARTS, IPC_PARTS_MAX, F_NONEMPTY) \
	F(agent_request, e2e, STR, IPC_E2E_MAX, 0)
/*
 * agent.request_media is an agent.request (m->b.agent_request) whose
 * last user turn came with attachments the agent's type can use: their
 * bytes are the frame's sealed memfd, back to back as parts says, the
 * way inbound.media brings them (the text already names each one).
 * parts is on the wire in agent.request_media only.
 */
/* GET /s/<id>: is the share link live?  id is the link's secret. */
/* peer and forwarded as in conn.open: the request is charged to them. */
#define IPC_BODY_share_check(F) \
	F(share_check, conn, U64, UINT64_MAX, 0) \
	F(share_check, id, STR, IPC_TOKEN_MAX, F_NONEMPTY) \
	F(share_check, peer, STR, IPC_ADDR_MAX, F_NONEMPTY) \
	F(share_check, forwarded, STR, IPC_FORWARDED_MAX, 0)
/*
 * status: 200 live, 404 unknown, 410 expired or revoked, 429 over the
 * address's rate (retry_after_ms set); url to show.
 */
#define IPC_BODY_share_status(F) \
	F(share_status, conn, U64, UINT64_MAX, 0) \
	F(share_status, status, U64, 599, 0) \
	F(share_status, read_only, BOOL, 0, 0) \
	F(share_status, url, STR, IPC_URL_MAX, 0) \
	F(share_status, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
/*
 * bind.check (a share_check body): is the invitation token id live?
 * bind.status: 200 live, 404 not a token, 410 with why "expired",
 * "used" or "revoked", 429 past the address's bucket.
 */
#define IPC_BODY_bind_status(F) \
	F(bind_status, conn, U64, UINT64_MAX, 0) \
	F(bind_status, status, U64, 599, 0) \
	F(bind_status, why, STR, IPC_NAME_MAX, 0) \
	F(bind_status, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
/* bind.start: the page of invitation token asks for its QR login. */
#define IPC_BODY_bind_start(F) \
	F(bind_start, conn, U64, UINT64_MAX, 0) \
	F(bind_start, token, STR, IPC_TOKEN_MAX, F_NONEMPTY)
/*
 * bind.state: where the login is (bindpage.c): "starting", "scan" with
 * the iLink URL to draw, "scanned", "confirmed", or how it ended
 * ("busy", "gone", "used", "full", "timeout", "failed").  With the
 * bind.start's req_id the first answer, with 0 an event.
 */
#define IPC_BODY_bind_state(F) \
	F(bind_state, conn, U64, UINT64_MAX, 0) \
	F(bind_state, state, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(bind_state, url, STR, IPC_URL_MAX, 0)
/*
 * share.open: token is the link's secret; visitor is the session token
 * the page got from an earlier share.ok of a per-visitor link ("" on the
 * first visit).  share.ok: token is a new visitor session token to keep,
 * "" when the page's own was resumed or the link names one session.
 */
#define IPC_BODY_share_open(F) \
	F(share_open, conn, U64, UINT64_MAX, 0) \
	F(share_open, addr, STR, IPC_ADDR_MAX, 0) \
	F(share_open, token, STR, IPC_TOKEN_MAX, F_NONEMPTY) \
	F(share_open, visitor, STR, IPC_TOKEN_MAX, 0)
#define IPC_BODY_share_ok(F) \
	F(share_ok, conn, U64, UINT64_MAX, 0) \
	F(share_ok, read_only, BOOL, 0, 0) \
	F(share_ok, token, STR, IPC_TOKEN_MAX, 0)
/*
 * One message from a platform user to the worker's account (the account
 * is the worker's own, never a field).  group is "" for a direct
 * message; reply_ctx is the platform's opaque token a reply must carry
 * (iLink context_token), kept by the supervisor, handed back in
 * outbound.message.  The worker may forget it once inbound.ack came:
 * the message is stored or answered by then.
 */
#define IPC_BODY_inbound(F) \
	F(inbound, peer, STR, IPC_PEER_MAX, F_NONEMPTY) \
	F(inbound, msg_id, STR, IPC_CHANID_MAX, F_NONEMPTY) \
	F(inbound, text, STR, IPC_TEXT_MAX, 0) \
	F(inbound, group, STR, IPC_PEER_MAX, 0) \
	F(inbound, mentioned, BOOL, 0, 0) \
	F(inbound, reply_ctx, STR, IPC_CTX_MAX, 0) \
	F(inbound, parts, PARTS, IPC_PARTS_MAX, F_NONEMPTY)
/*
 * inbound.media is an inbound.message (the same body, in m->b.inbound)
 * whose parts are not empty: the frame's descriptor is a sealed memfd
 * holding the parts' bytes back to back, in order, and nothing more.
 * text may be "" (a photo alone); one message's parts together are at
 * most the account's media.max_bytes (IPC_FILE_MAX at most).
 * parts is on the wire in inbound.media only.
 */
/* status: accepted, duplicate, pairing, denied, limited, ignored. */
#define IPC_BODY_inbound_ack(F) \
	F(inbound_ack, status, STR, IPC_NAME_MAX, F_NONEMPTY)
/*
 * id: the outbox row, acknowledged by delivery.ack or delivery.fail.
 * key: the same for every attempt at that row and unique across rows
 * and store resets: the platform's idempotency key where it has one
 * (iLink drops a second message with a client_id it has seen), so a row
 * resent after a crash between send and ack is not shown twice.
 * more: another part of the same answer follows (the agent still
 * writes, or a later chunk waits): a "typing..." stays on.
 * spent: for a kind with a budget per reply context (KC_LATEST_CTX),
 * the messages the store says reply_ctx carried already (rows acked
 * that were handed out with it, store_channel.c OUTBOX_SPENT), so that
 * a new worker, or one on another node, counts on from there and not
 * from 0; 0 for the rest.  It may lag what the worker counted itself
 * (rows not acked yet): the worker takes the larger.
 */
#define IPC_BODY_outbound(F) \
	F(outbound, id, U64, INT64_MAX, 0) \
	F(outbound, key, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(outbound, peer, STR, IPC_PEER_MAX, F_NONEMPTY) \
	F(outbound, text, STR, IPC_TEXT_MAX, F_NONEMPTY) \
	F(outbound, reply_ctx, STR, IPC_CTX_MAX, 0) \
	F(outbound, more, BOOL, 0, 0) \
	F(outbound, spent, U64, UINT32_MAX, 0)
/*
 * An attachment row of the outbox (KC_MEDIA kinds): its bytes are the
 * frame's descriptor, a sealed memfd of exactly size bytes, read from
 * offset 0; kind "file" or "image"; acked like outbound.message,
 * and spends its context's budget as one (spent).
 */
#define IPC_BODY_outbound_file(F) \
	F(outbound_file, id, U64, INT64_MAX, 0) \
	F(outbound_file, key, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(outbound_file, peer, STR, IPC_PEER_MAX, F_NONEMPTY) \
	F(outbound_file, name, STR, IPC_FILENAME_MAX, F_NONEMPTY) \
	F(outbound_file, kind, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(outbound_file, size, U64, IPC_FILE_MAX, 0) \
	F(outbound_file, reply_ctx, STR, IPC_CTX_MAX, 0) \
	F(outbound_file, spent, U64, UINT32_MAX, 0)
/*
 * The whole answer so far to the message reply_ctx came with, for a
 * kind that streams (KC_STREAM): the worker refreshes that message's
 * open bubble with it.  Nothing acks it and nothing resends it: the
 * outbound.message rows that follow carry the final text, so a lost
 * one only leaves a bubble less up to date for a while.
 */
#define IPC_BODY_progress(F) \
	F(progress, peer, STR, IPC_PEER_MAX, F_NONEMPTY) \
	F(progress, text, STR, IPC_TEXT_MAX, F_NONEMPTY) \
	F(progress, reply_ctx, STR, IPC_CTX_MAX, F_NONEMPTY)
#define IPC_BODY_delivery(F) \
	F(delivery, id, U64, INT64_MAX, 0)
/*
 * code: "retry" (not known to be delivered: try later with the same key,
 * after retry_after_ms if not 0), "refused" (known not delivered: try
 * later with a new key, as a platform may remember a refused one) or
 * "rejected" (refused for good; dropped and logged).
 */
#define IPC_BODY_delivery_fail(F) \
	F(delivery_fail, id, U64, INT64_MAX, 0) \
	F(delivery_fail, code, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(delivery_fail, message, STR, IPC_MESSAGE_MAX, 0) \
	F(delivery_fail, retry_after_ms, U64, IPC_RETRY_AFTER_MAX, 0)
/* The worker's own account's key; value "" deletes it. */
#define IPC_BODY_state(F) \
	F(state, key, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(state, value, STR, IPC_STATE_MAX, 0)
#define IPC_BODY_state_value(F) \
	F(state_value, key, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(state_value, value, STR, IPC_STATE_MAX, 0) \
	F(state_value, found, BOOL, 0, 0)
/* status: "scan" with the URL to encode as a QR code, "done", "needed". */
#define IPC_BODY_login(F) \
	F(login, status, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(login, url, STR, IPC_URL_MAX, 0)
/*
 * wxgatectl login NAME [CODE]: show the channel's waiting QR code; a
 * code (the number the phone shows) goes to the worker as login.code.
 */
#define IPC_BODY_login_req(F) \
	F(login_req, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(login_req, code, STR, IPC_NAME_MAX, 0)
/* One denial for `wxgatectl audit`. */
#define IPC_BODY_audit_row(F) \
	F(audit_row, time, U64, INT64_MAX, 0) \
	F(audit_row, role, STR, IPC_NAME_MAX, 0) \
	F(audit_row, worker, STR, IPC_NAME_MAX, 0) \
	F(audit_row, session, U64, INT64_MAX, 0) \
	F(audit_row, method, STR, IPC_METHOD_MAX, 0) \
	F(audit_row, detail, STR, IPC_MESSAGE_MAX, 0)
/*
 * A relay's hello (workers/agent/relay*.c): conn is the worker's
 * connection number, token the pairing token as the relay sent it.
 * relay.verdict: ok, and the token's row id (0 when refused) so a
 * revocation can name the connections it ends (relay.revoke, seq = id).
 */
#define IPC_BODY_relay_auth(F) \
	F(relay_auth, conn, U64, UINT64_MAX, 0) \
	F(relay_auth, token, STR, IPC_TOKEN_MAX, 0)
#define IPC_BODY_relay_verdict(F) \
	F(relay_verdict, conn, U64, UINT64_MAX, 0) \
	F(relay_verdict, ok, BOOL, 0, 0) \
	F(relay_verdict, token_id, U64, INT64_MAX, 0)
/* One pairing token for `wxgatectl relay token list`: never the token. */
#define IPC_BODY_relay_row(F) \
	F(relay_row, id, U64, INT64_MAX, 0) \
	F(relay_row, agent, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(relay_row, created, U64, INT64_MAX, 0) \
	F(relay_row, last_used, U64, INT64_MAX, 0) \
	F(relay_row, revoked, U64, INT64_MAX, 0)
/* ttl_s 0: no expiry; session 0: a fresh session for the link. */
#define IPC_BODY_share_create(F) \
	F(share_create, ttl_s, U64, UINT32_MAX, 0) \
	F(share_create, read_only, BOOL, 0, 0) \
	F(share_create, session, U64, INT64_MAX, 0)
/* One link for the operator: never the secret, a prefix of its hash. */
#define IPC_BODY_share_row(F) \
	F(share_row, hash, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(share_row, created, U64, INT64_MAX, 0) \
	F(share_row, expires, U64, INT64_MAX, 0) \
	F(share_row, read_only, BOOL, 0, 0) \
	F(share_row, session, U64, INT64_MAX, 0) \
	F(share_row, revoked, U64, INT64_MAX, 0)
/*
 * wxgatectl bind create: an invitation to bind a wechat account with
 * the named template's settings, good for uses bindings within ttl_s.
 */
#define IPC_BODY_bind_create(F) \
	F(bind_create, tmpl, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(bind_create, ttl_s, U64, UINT32_MAX, 0) \
	F(bind_create, uses, U64, UINT32_MAX, 0)
/* One invitation for the operator: its id, never its token. */
#define IPC_BODY_invite_row(F) \
	F(invite_row, id, U64, INT64_MAX, 0) \
	F(invite_row, tmpl, STR, IPC_NAME_MAX, 0) \
	F(invite_row, created, U64, INT64_MAX, 0) \
	F(invite_row, expires, U64, INT64_MAX, 0) \
	F(invite_row, uses_left, U64, INT64_MAX, 0) \
	F(invite_row, used, U64, INT64_MAX, 0) \
	F(invite_row, revoked, U64, INT64_MAX, 0)
/*
 * One channel account: source "config" or "bound"; state the worker's
 * (running, login_required...) or the store's (pending) when it has no
 * worker; tmpl and owner "" for the file's.
 */
#define IPC_BODY_channel_row(F) \
	F(channel_row, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(channel_row, kind, STR, IPC_NAME_MAX, 0) \
	F(channel_row, source, STR, IPC_NAME_MAX, 0) \
	F(channel_row, tmpl, STR, IPC_NAME_MAX, 0) \
	F(channel_row, state, STR, IPC_NAME_MAX, 0) \
	F(channel_row, owner, STR, IPC_PEER_MAX, 0)
/*
 * wxgatectl send: text for target on the account named channel, through
 * the outbox like any reply.
 */
#define IPC_BODY_ctl_send(F) \
	F(ctl_send, channel, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(ctl_send, target, STR, IPC_PEER_MAX, F_NONEMPTY) \
	F(ctl_send, text, STR, IPC_TEXT_MAX, F_NONEMPTY)
/*
 * wxgatectl send --file: the file rides as the frame's descriptor,
 * opened by wxgatectl with the caller's rights; the daemon never opens
 * a path a client names.  name: what the recipient sees (the base name);
 * kind: "file", "image", or "" to let the daemon choose from the bytes.
 */
#define IPC_BODY_send_file(F) \
	F(send_file, channel, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(send_file, target, STR, IPC_PEER_MAX, F_NONEMPTY) \
	F(send_file, name, STR, IPC_FILENAME_MAX, F_NONEMPTY) \
	F(send_file, kind, STR, IPC_NAME_MAX, 0)
/*
 * One outbox row for the operator.  state: queued, sent, failed or
 * undeliverable; detail: why it failed (the platform's words), or "".
 */
#define IPC_BODY_delivery_row(F) \
	F(delivery_row, id, U64, INT64_MAX, 0) \
	F(delivery_row, channel, STR, IPC_NAME_MAX, 0) \
	F(delivery_row, target, STR, IPC_PEER_MAX, 0) \
	F(delivery_row, state, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(delivery_row, detail, STR, IPC_MESSAGE_MAX, 0) \
	F(delivery_row, attempts, U64, INT64_MAX, 0) \
	F(delivery_row, created, U64, INT64_MAX, 0) \
	F(delivery_row, finished, U64, INT64_MAX, 0)
/*
 * A schedule (issue #15).  Exactly one of cron ("m h dom mon dow" or
 * "@daily"...) and every ("30m") is set; tz an IANA zone ("" UTC).
 * agent "": text is sent as it is; otherwise text is the prompt and
 * the agent's answer is sent.  targets: one "channel:target" per line.
 * hold_s: how long a target that cannot be written to first (iLink)
 * waits for its peer to write again; 0 makes it undeliverable at once.
 * catch_up: "latest" or "none".
 */
#define IPC_BODY_sched_def(F) \
	F(sched_def, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(sched_def, cron, STR, IPC_CRON_MAX, 0) \
	F(sched_def, every, STR, IPC_NAME_MAX, 0) \
	F(sched_def, tz, STR, IPC_NAME_MAX, 0) \
	F(sched_def, agent, STR, IPC_NAME_MAX, 0) \
	F(sched_def, text, STR, IPC_TEXT_MAX, F_NONEMPTY) \
	F(sched_def, targets, STR, IPC_TARGETS_MAX, F_NONEMPTY) \
	F(sched_def, hold_s, U64, INT32_MAX, 0) \
	F(sched_def, catch_up, STR, IPC_NAME_MAX, F_NONEMPTY)
/*
 * One schedule for the operator: its definition, whether it came from
 * the configuration file (read-only here), and when it runs next (0
 * never, or paused) and ran last (0 never) with that run's state.
 * The definition is a member, def, which a row cannot say: the struct
 * is written by hand below; on the wire, the sched_def rows, then these.
 */
#define IPC_BODY_sched_row(F) \
	F(sched_row, paused, BOOL, 0, 0) \
	F(sched_row, from_config, BOOL, 0, 0) \
	F(sched_row, next_run, U64, INT64_MAX, 0) \
	F(sched_row, last_run, U64, INT64_MAX, 0) \
	F(sched_row, last_state, STR, IPC_NAME_MAX, 0)
/*
 * One run of a schedule.  slot: the time it was due (a manual run's is
 * when it was asked for); state: running, done or failed (error says
 * why).  Its targets follow as ctl.run_target rows.
 */
#define IPC_BODY_run_row(F) \
	F(run_row, id, U64, INT64_MAX, 0) \
	F(run_row, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(run_row, slot, U64, INT64_MAX, 0) \
	F(run_row, manual, BOOL, 0, 0) \
	F(run_row, started, U64, INT64_MAX, 0) \
	F(run_row, agent_done, U64, INT64_MAX, 0) \
	F(run_row, state, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(run_row, error, STR, IPC_MESSAGE_MAX, 0)
/* One target of run `run`: its delivery state, as ctl.delivery says. */
#define IPC_BODY_run_target(F) \
	F(run_target, run, U64, INT64_MAX, 0) \
	F(run_target, channel, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(run_target, target, STR, IPC_PEER_MAX, 0) \
	F(run_target, state, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(run_target, detail, STR, IPC_MESSAGE_MAX, 0)
/* One pending pairing code for the operator. */
#define IPC_BODY_pairing_row(F) \
	F(pairing_row, code, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(pairing_row, account, STR, IPC_NAME_MAX, 0) \
	F(pairing_row, peer, STR, IPC_PEER_MAX, 0) \
	F(pairing_row, created, U64, INT64_MAX, 0) \
	F(pairing_row, expires, U64, INT64_MAX, 0)


/*
 * The console worker's requests (workers/console/): conn names the
 * browser's connection; session is the cookie's value as sent ("" when
 * none), never a claim of who the operator is: the hub looks it up.
 */
#define IPC_CONSOLE_TOKEN_MAX	64
#define IPC_CONSOLE_BODY_MAX	(120 * 1024)
#define IPC_BODY_console_login(F) \
	F(console_login, conn, U64, UINT64_MAX, 0) \
	F(console_login, addr, STR, IPC_NAME_MAX, 0) \
	F(console_login, token, STR, IPC_CONSOLE_TOKEN_MAX, 0)
/*
 * query: a page's free text (a search in any language), UTF-8, at most
 * IPC_CONSOLE_QUERY_MAX bytes; "" when none.  The page's plain words
 * ride in page, after its name.
 */
#define IPC_CONSOLE_QUERY_MAX	256
#define IPC_BODY_console_get(F) \
	F(console_get, conn, U64, UINT64_MAX, 0) \
	F(console_get, session, STR, IPC_CONSOLE_TOKEN_MAX, 0) \
	F(console_get, page, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(console_get, query, STR, IPC_CONSOLE_QUERY_MAX, 0)
/*
 * arg: a pairing code or an account; peer: a sender, for peer.revoke;
 * text: the request's body as sent (a message to send), "" when none.
 */
#define IPC_BODY_console_post(F) \
	F(console_post, conn, U64, UINT64_MAX, 0) \
	F(console_post, session, STR, IPC_CONSOLE_TOKEN_MAX, 0) \
	F(console_post, csrf, STR, IPC_CONSOLE_TOKEN_MAX, 0) \
	F(console_post, action, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(console_post, arg, STR, IPC_NAME_MAX, 0) \
	F(console_post, peer, STR, IPC_PEER_MAX, 0) \
	F(console_post, text, STR, IPC_TEXT_MAX, 0)
/*
 * status: the HTTP status; cookie: a Set-Cookie value or ""; location:
 * a redirect's target or ""; body: JSON for the API routes, "" else.
 */
#define IPC_BODY_console_answer(F) \
	F(console_answer, conn, U64, UINT64_MAX, 0) \
	F(console_answer, status, U64, 599, 0) \
	F(console_answer, cookie, STR, IPC_MESSAGE_MAX, 0) \
	F(console_answer, location, STR, IPC_URL_MAX, 0) \
	F(console_answer, body, STR, IPC_CONSOLE_BODY_MAX, 0)
/*
 * One stored attachment's bytes, for a 200 to /api/media only (any
 * refusal is a console.answer).  ctype: the sniffed image type, or
 * application/octet-stream; disposition: a Content-Disposition value
 * the hub made of safe characters (sniff.c), "" for an image shown
 * inline.  The bytes are the part's, whatever they are, and bounded so
 * the frame's keys and headers fit IPC_FRAME_MAX.
 */
#define IPC_CONSOLE_MEDIA_MAX	(IPC_FRAME_MAX - 4096)
#define IPC_CONSOLE_DISP_MAX	1024
#define IPC_BODY_console_media(F) \
	F(console_media, conn, U64, UINT64_MAX, 0) \
	F(console_media, ctype, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(console_media, disposition, STR, IPC_CONSOLE_DISP_MAX, 0) \
	F(console_media, data, STR, IPC_CONSOLE_MEDIA_MAX, F_BYTES)

/*
 * The hub's bodies whose struct the rows make: all but sched_row, whose
 * def a row cannot say (its struct is written by hand, with its rows).
 */
#define IPC_HUB_BODY_NAMES(B) \
	B(hello) B(figures) B(conn_addr) B(resume) B(chat_send) \
	B(history_req) B(conn) B(chat_abort) B(rpc_call) B(conn_open) \
	B(agent_error) B(agent_file) B(name) B(ctl_test) B(ctl_worker) \
	B(result) B(test) B(session_ok) B(rpc_error) B(chat_accepted) \
	B(chat_delta) B(chat_done) B(chat_error) B(history) \
	B(conn_verdict) B(agent_request) B(share_check) B(share_status) \
	B(share_open) B(share_ok) B(bind_status) B(bind_start) \
	B(bind_state) B(inbound) B(inbound_ack) B(outbound) B(progress) \
	B(delivery) B(delivery_fail) B(state) B(state_value) B(login) \
	B(login_req) B(audit_row) B(share_create) B(share_row) \
	B(relay_auth) B(relay_verdict) B(relay_row) B(bind_create) \
	B(invite_row) B(channel_row) B(pairing_row) B(ctl_send) \
	B(send_file) B(outbound_file) B(delivery_row) B(sched_name) \
	B(sched_def) B(run_row) B(run_target) B(console_login) \
	B(console_get) B(console_post) B(console_answer) \
	B(console_media)

IPC_HUB_BODY_NAMES(IPC_BODY_STRUCT)
struct ipc_body_sched_row {
	struct ipc_body_sched_def	 def;
	IPC_BODY_sched_row(IPC_MEMBER)
};

union ipc_body {
	IPC_PARENT_BODIES
	IPC_HUB_BODY_NAMES(IPC_BODY_UNION_MEMBER)
	struct ipc_body_sched_row	sched_row;
};

/* A decoded frame.  Strings borrow from the buffer it was decoded from. */
struct ipc_msg {
	uint32_t	 type;
	uint64_t	 req_id;
	int		 fd;		/* -1 unless the type is MSG_FD */
	union ipc_body	 b;
};
#endif /* !IPC_PARENT_ONLY */

#endif
