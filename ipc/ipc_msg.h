/*
 * The IPC message catalogue: the only place a message number is born.
 *
 * Every frame between processes (and wxgatectl and the control socket)
 * is [type, req_id, body], body's fields fixed per type by the schemas
 * of ipc/catalogue*.c: a msgpack array with a map, or for the root
 * parent's list a fixed binary form (ipc/codec_bin.c).  Numbers are
 * stable, never reused, and grouped by sending role.  Bump IPC_VERSION
 * with every change: a worker whose version differs stops, no haggling.
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

/* Bodies, one per schema name in the catalogue. */
struct ipc_body_hello		{ uint64_t version; struct ipc_str kind; };
/* KiB, as smaps_rollup says them; bounded by IPC_FIGURE_MAX. */
#define IPC_FIGURE_MAX		((uint64_t)1 << 40)
struct ipc_body_figures		{ uint64_t rss_kb; uint64_t pss_kb; };
struct ipc_body_conn_addr	{ uint64_t conn; struct ipc_str addr; };
struct ipc_body_resume		{ uint64_t conn; struct ipc_str addr;
				  struct ipc_str token; };
struct ipc_body_chat_send	{ uint64_t conn; struct ipc_str client_msg_id;
				  struct ipc_str text; };
struct ipc_body_history_req	{ uint64_t conn; uint64_t limit; };
struct ipc_body_conn		{ uint64_t conn; };
struct ipc_body_chat_abort	{ uint64_t conn; struct ipc_str client_msg_id; };
/* A browser method the worker does not serve: the supervisor names it. */
struct ipc_body_rpc_call	{ uint64_t conn; struct ipc_str method; };
/* forwarded: the X-Forwarded-For header as sent, "" when absent. */
struct ipc_body_conn_open	{ uint64_t conn; struct ipc_str peer;
				  struct ipc_str forwarded; };
/* retry_after_ms: 0 unless code is rate_limited and upstream said when. */
struct ipc_body_agent_error	{ struct ipc_str code;
				  struct ipc_str message;
				  uint64_t retry_after_ms; };
struct ipc_body_name		{ struct ipc_str name; };
/*
 * A file the agent's reply carries (its bytes from the reply itself,
 * never fetched or opened for it): a sealed memfd of exactly size
 * bytes; kind "image" or "file".  It goes after the reply's text.
 */
struct ipc_body_agent_file	{ struct ipc_str name; struct ipc_str kind;
				  uint64_t size; };
/* A schedule's name, or "" for all of them. */
struct ipc_body_sched_name	{ struct ipc_str name; };
struct ipc_body_ctl_test	{ struct ipc_str name; struct ipc_str action; };
/*
 * One worker for `wxgatectl status`.  platform: a channel account's
 * connection as its worker last put it (state key "status": "subscribed",
 * "auth_failed 853000"), "" for other workers or none put yet.
 */
struct ipc_body_ctl_worker	{ struct ipc_str name; struct ipc_str kind;
				  uint64_t pid; struct ipc_str state;
				  uint64_t uptime_ms; uint64_t restarts;
				  struct ipc_str last_exit;
				  uint64_t msgs_in; uint64_t msgs_out;
				  uint64_t seccomp_kills;
				  struct ipc_str platform; };
struct ipc_body_result		{ int ok; struct ipc_str message; };
struct ipc_body_test		{ struct ipc_str action; };
struct ipc_body_session_ok	{ uint64_t conn; struct ipc_str token;
				  int resumed; };
struct ipc_body_rpc_error	{ uint64_t conn; struct ipc_str code;
				  struct ipc_str message;
				  uint64_t retry_after_ms; };
/* status: 0 admits the WebSocket, else the HTTP status to answer. */
struct ipc_body_conn_verdict	{ uint64_t conn; uint64_t status;
				  uint64_t retry_after_ms; };
struct ipc_body_chat_accepted	{ uint64_t conn; struct ipc_str client_msg_id;
				  struct ipc_str status; };
struct ipc_body_chat_delta	{ uint64_t conn; struct ipc_str client_msg_id;
				  struct ipc_str text; };
struct ipc_body_chat_done	{ uint64_t conn; struct ipc_str client_msg_id;
				  struct ipc_str text; int replayed;
				  int aborted; };
struct ipc_body_chat_error	{ uint64_t conn; struct ipc_str client_msg_id;
				  struct ipc_str code;
				  struct ipc_str message;
				  uint64_t retry_after_ms; };
struct ipc_body_history		{ uint64_t conn; struct ipc_turns turns; };
/*
 * model: the one the conversation picked (/model), "" the default.
 * e2e: for a sealed console thread, what its relay needs to open the
 * turns (console_e2e_context(), docs/e2e.md), JSON; "" for the rest.
 */
#define IPC_E2E_MAX		(8 * 1024)
struct ipc_body_agent_request	{ uint64_t session; struct ipc_turns turns;
				  struct ipc_str model;
				  struct ipc_parts parts;
				  struct ipc_str e2e; };
/*
 * agent.request_media is an agent.request (m->b.agent_request) whose
 * last user turn came with attachments the agent's type can use: their
 * bytes are the frame's sealed memfd, back to back as parts says, the
 * way inbound.media brings them (the text already names each one).
 */
/* GET /s/<id>: is the share link live?  id is the link's secret. */
/* peer and forwarded as in conn.open: the request is charged to them. */
struct ipc_body_share_check	{ uint64_t conn; struct ipc_str id;
				  struct ipc_str peer;
				  struct ipc_str forwarded; };
/*
 * status: 200 live, 404 unknown, 410 expired or revoked, 429 over the
 * address's rate (retry_after_ms set); url to show.
 */
struct ipc_body_share_status	{ uint64_t conn; uint64_t status;
				  int read_only; struct ipc_str url;
				  uint64_t retry_after_ms; };
/*
 * bind.check (a share_check body): is the invitation token id live?
 * bind.status: 200 live, 404 not a token, 410 with why "expired",
 * "used" or "revoked", 429 past the address's bucket.
 */
struct ipc_body_bind_status	{ uint64_t conn; uint64_t status;
				  struct ipc_str why;
				  uint64_t retry_after_ms; };
/* bind.start: the page of invitation token asks for its QR login. */
struct ipc_body_bind_start	{ uint64_t conn; struct ipc_str token; };
/*
 * bind.state: where the login is (bindpage.c): "starting", "scan" with
 * the iLink URL to draw, "scanned", "confirmed", or how it ended
 * ("busy", "gone", "used", "full", "timeout", "failed").  With the
 * bind.start's req_id the first answer, with 0 an event.
 */
struct ipc_body_bind_state	{ uint64_t conn; struct ipc_str state;
				  struct ipc_str url; };
/*
 * share.open: token is the link's secret; visitor is the session token
 * the page got from an earlier share.ok of a per-visitor link ("" on the
 * first visit).  share.ok: token is a new visitor session token to keep,
 * "" when the page's own was resumed or the link names one session.
 */
struct ipc_body_share_open	{ uint64_t conn; struct ipc_str addr;
				  struct ipc_str token;
				  struct ipc_str visitor; };
struct ipc_body_share_ok	{ uint64_t conn; int read_only;
				  struct ipc_str token; };
/*
 * One message from a platform user to the worker's account (the account
 * is the worker's own, never a field).  group is "" for a direct
 * message; reply_ctx is the platform's opaque token a reply must carry
 * (iLink context_token), kept by the supervisor, handed back in
 * outbound.message.  The worker may forget it once inbound.ack came:
 * the message is stored or answered by then.
 */
struct ipc_body_inbound		{ struct ipc_str peer; struct ipc_str msg_id;
				  struct ipc_str text; struct ipc_str group;
				  int mentioned; struct ipc_str reply_ctx;
				  struct ipc_parts parts; };
/*
 * inbound.media is an inbound.message (the same body, in m->b.inbound)
 * whose parts are not empty: the frame's descriptor is a sealed memfd
 * holding the parts' bytes back to back, in order, and nothing more.
 * text may be "" (a photo alone); one message's parts together are at
 * most the account's media.max_bytes (IPC_FILE_MAX at most).
 */
/* status: accepted, duplicate, pairing, denied, limited, ignored. */
struct ipc_body_inbound_ack	{ struct ipc_str status; };
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
struct ipc_body_outbound	{ uint64_t id; struct ipc_str key;
				  struct ipc_str peer;
				  struct ipc_str text;
				  struct ipc_str reply_ctx; int more;
				  uint64_t spent; };
/*
 * An attachment row of the outbox (KC_MEDIA kinds): its bytes are the
 * frame's descriptor, a sealed memfd of exactly size bytes, read from
 * offset 0; kind "file" or "image"; acked like outbound.message,
 * and spends its context's budget as one (spent).
 */
struct ipc_body_outbound_file	{ uint64_t id; struct ipc_str key;
				  struct ipc_str peer; struct ipc_str name;
				  struct ipc_str kind; uint64_t size;
				  struct ipc_str reply_ctx; uint64_t spent; };
/*
 * The whole answer so far to the message reply_ctx came with, for a
 * kind that streams (KC_STREAM): the worker refreshes that message's
 * open bubble with it.  Nothing acks it and nothing resends it: the
 * outbound.message rows that follow carry the final text, so a lost
 * one only leaves a bubble less up to date for a while.
 */
struct ipc_body_progress	{ struct ipc_str peer; struct ipc_str text;
				  struct ipc_str reply_ctx; };
struct ipc_body_delivery	{ uint64_t id; };
/*
 * code: "retry" (not known to be delivered: try later with the same key,
 * after retry_after_ms if not 0), "refused" (known not delivered: try
 * later with a new key, as a platform may remember a refused one) or
 * "rejected" (refused for good; dropped and logged).
 */
struct ipc_body_delivery_fail	{ uint64_t id; struct ipc_str code;
				  struct ipc_str message;
				  uint64_t retry_after_ms; };
/* The worker's own account's key; value "" deletes it. */
struct ipc_body_state		{ struct ipc_str key; struct ipc_str value; };
struct ipc_body_state_value	{ struct ipc_str key; struct ipc_str value;
				  int found; };
/* status: "scan" with the URL to encode as a QR code, "done", "needed". */
struct ipc_body_login		{ struct ipc_str status; struct ipc_str url; };
/*
 * wxgatectl login NAME [CODE]: show the channel's waiting QR code; a
 * code (the number the phone shows) goes to the worker as login.code.
 */
struct ipc_body_login_req	{ struct ipc_str name; struct ipc_str code; };
/* One denial for `wxgatectl audit`. */
struct ipc_body_audit_row	{ uint64_t time; struct ipc_str role;
				  struct ipc_str worker; uint64_t session;
				  struct ipc_str method;
				  struct ipc_str detail; };
/*
 * A relay's hello (workers/agent/relay*.c): conn is the worker's
 * connection number, token the pairing token as the relay sent it.
 * relay.verdict: ok, and the token's row id (0 when refused) so a
 * revocation can name the connections it ends (relay.revoke, seq = id).
 */
struct ipc_body_relay_auth	{ uint64_t conn; struct ipc_str token; };
struct ipc_body_relay_verdict	{ uint64_t conn; int ok; uint64_t token_id; };
/* One pairing token for `wxgatectl relay token list`: never the token. */
struct ipc_body_relay_row	{ uint64_t id; struct ipc_str agent;
				  uint64_t created; uint64_t last_used;
				  uint64_t revoked; };
/* ttl_s 0: no expiry; session 0: a fresh session for the link. */
struct ipc_body_share_create	{ uint64_t ttl_s; int read_only;
				  uint64_t session; };
/* One link for the operator: never the secret, a prefix of its hash. */
struct ipc_body_share_row	{ struct ipc_str hash; uint64_t created;
				  uint64_t expires; int read_only;
				  uint64_t session; uint64_t revoked; };
/*
 * wxgatectl bind create: an invitation to bind a wechat account with
 * the named template's settings, good for uses bindings within ttl_s.
 */
struct ipc_body_bind_create	{ struct ipc_str tmpl; uint64_t ttl_s;
				  uint64_t uses; };
/* One invitation for the operator: its id, never its token. */
struct ipc_body_invite_row	{ uint64_t id; struct ipc_str tmpl;
				  uint64_t created; uint64_t expires;
				  uint64_t uses_left; uint64_t used;
				  uint64_t revoked; };
/*
 * One channel account: source "config" or "bound"; state the worker's
 * (running, login_required...) or the store's (pending) when it has no
 * worker; tmpl and owner "" for the file's.
 */
struct ipc_body_channel_row	{ struct ipc_str name; struct ipc_str kind;
				  struct ipc_str source; struct ipc_str tmpl;
				  struct ipc_str state; struct ipc_str owner; };
/*
 * wxgatectl send: text for target on the account named channel, through
 * the outbox like any reply.
 */
struct ipc_body_ctl_send	{ struct ipc_str channel; struct ipc_str target;
				  struct ipc_str text; };
/*
 * wxgatectl send --file: the file rides as the frame's descriptor,
 * opened by wxgatectl with the caller's rights; the daemon never opens
 * a path a client names.  name: what the recipient sees (the base name);
 * kind: "file", "image", or "" to let the daemon choose from the bytes.
 */
struct ipc_body_send_file	{ struct ipc_str channel; struct ipc_str target;
				  struct ipc_str name; struct ipc_str kind; };
/*
 * One outbox row for the operator.  state: queued, sent, failed or
 * undeliverable; detail: why it failed (the platform's words), or "".
 */
struct ipc_body_delivery_row	{ uint64_t id; struct ipc_str channel;
				  struct ipc_str target; struct ipc_str state;
				  struct ipc_str detail; uint64_t attempts;
				  uint64_t created; uint64_t finished; };
/*
 * A schedule (issue #15).  Exactly one of cron ("m h dom mon dow" or
 * "@daily"...) and every ("30m") is set; tz an IANA zone ("" UTC).
 * agent "": text is sent as it is; otherwise text is the prompt and
 * the agent's answer is sent.  targets: one "channel:target" per line.
 * hold_s: how long a target that cannot be written to first (iLink)
 * waits for its peer to write again; 0 makes it undeliverable at once.
 * catch_up: "latest" or "none".
 */
struct ipc_body_sched_def	{ struct ipc_str name; struct ipc_str cron;
				  struct ipc_str every; struct ipc_str tz;
				  struct ipc_str agent; struct ipc_str text;
				  struct ipc_str targets; uint64_t hold_s;
				  struct ipc_str catch_up; };
/*
 * One schedule for the operator: its definition, whether it came from
 * the configuration file (read-only here), and when it runs next (0
 * never, or paused) and ran last (0 never) with that run's state.
 */
struct ipc_body_sched_row	{ struct ipc_body_sched_def def;
				  int paused; int from_config;
				  uint64_t next_run; uint64_t last_run;
				  struct ipc_str last_state; };
/*
 * One run of a schedule.  slot: the time it was due (a manual run's is
 * when it was asked for); state: running, done or failed (error says
 * why).  Its targets follow as ctl.run_target rows.
 */
struct ipc_body_run_row		{ uint64_t id; struct ipc_str name;
				  uint64_t slot; int manual; uint64_t started;
				  uint64_t agent_done; struct ipc_str state;
				  struct ipc_str error; };
/* One target of run `run`: its delivery state, as ctl.delivery says. */
struct ipc_body_run_target	{ uint64_t run; struct ipc_str channel;
				  struct ipc_str target; struct ipc_str state;
				  struct ipc_str detail; };
/* One pending pairing code for the operator. */
struct ipc_body_pairing_row	{ struct ipc_str code; struct ipc_str account;
				  struct ipc_str peer; uint64_t created;
				  uint64_t expires; };


/*
 * The console worker's requests (workers/console/): conn names the
 * browser's connection; session is the cookie's value as sent ("" when
 * none), never a claim of who the operator is: the hub looks it up.
 */
#define IPC_CONSOLE_TOKEN_MAX	64
#define IPC_CONSOLE_BODY_MAX	(120 * 1024)
struct ipc_body_console_login	{ uint64_t conn; struct ipc_str addr;
				  struct ipc_str token; };
/*
 * query: a page's free text (a search in any language), UTF-8, at most
 * IPC_CONSOLE_QUERY_MAX bytes; "" when none.  The page's plain words
 * ride in page, after its name.
 */
#define IPC_CONSOLE_QUERY_MAX	256
struct ipc_body_console_get	{ uint64_t conn; struct ipc_str session;
				  struct ipc_str page; struct ipc_str query; };
/*
 * arg: a pairing code or an account; peer: a sender, for peer.revoke;
 * text: the request's body as sent (a message to send), "" when none.
 */
struct ipc_body_console_post	{ uint64_t conn; struct ipc_str session;
				  struct ipc_str csrf; struct ipc_str action;
				  struct ipc_str arg; struct ipc_str peer;
				  struct ipc_str text; };
/*
 * status: the HTTP status; cookie: a Set-Cookie value or ""; location:
 * a redirect's target or ""; body: JSON for the API routes, "" else.
 */
struct ipc_body_console_answer	{ uint64_t conn; uint64_t status;
				  struct ipc_str cookie;
				  struct ipc_str location;
				  struct ipc_str body; };
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
struct ipc_body_console_media	{ uint64_t conn; struct ipc_str ctype;
				  struct ipc_str disposition;
				  struct ipc_str data; };

union ipc_body {
	IPC_PARENT_BODIES
	struct ipc_body_hello		hello;
	struct ipc_body_figures		figures;
	struct ipc_body_conn_addr	conn_addr;
	struct ipc_body_resume		resume;
	struct ipc_body_chat_send	chat_send;
	struct ipc_body_history_req	history_req;
	struct ipc_body_conn		conn;
	struct ipc_body_chat_abort	chat_abort;
	struct ipc_body_rpc_call	rpc_call;
	struct ipc_body_conn_open	conn_open;
	struct ipc_body_agent_error	agent_error;
	struct ipc_body_agent_file	agent_file;
	struct ipc_body_name		name;
	struct ipc_body_ctl_test	ctl_test;
	struct ipc_body_ctl_worker	ctl_worker;
	struct ipc_body_result		result;
	struct ipc_body_test		test;
	struct ipc_body_session_ok	session_ok;
	struct ipc_body_rpc_error	rpc_error;
	struct ipc_body_chat_accepted	chat_accepted;
	struct ipc_body_chat_delta	chat_delta;
	struct ipc_body_chat_done	chat_done;
	struct ipc_body_chat_error	chat_error;
	struct ipc_body_history		history;
	struct ipc_body_conn_verdict	conn_verdict;
	struct ipc_body_agent_request	agent_request;
	struct ipc_body_share_check	share_check;
	struct ipc_body_share_status	share_status;
	struct ipc_body_share_open	share_open;
	struct ipc_body_share_ok	share_ok;
	struct ipc_body_bind_status	bind_status;
	struct ipc_body_bind_start	bind_start;
	struct ipc_body_bind_state	bind_state;
	struct ipc_body_inbound		inbound;
	struct ipc_body_inbound_ack	inbound_ack;
	struct ipc_body_outbound	outbound;
	struct ipc_body_progress	progress;
	struct ipc_body_delivery	delivery;
	struct ipc_body_delivery_fail	delivery_fail;
	struct ipc_body_state		state;
	struct ipc_body_state_value	state_value;
	struct ipc_body_login		login;
	struct ipc_body_login_req	login_req;
	struct ipc_body_audit_row	audit_row;
	struct ipc_body_share_create	share_create;
	struct ipc_body_share_row	share_row;
	struct ipc_body_relay_auth	relay_auth;
	struct ipc_body_relay_verdict	relay_verdict;
	struct ipc_body_relay_row	relay_row;
	struct ipc_body_bind_create	bind_create;
	struct ipc_body_invite_row	invite_row;
	struct ipc_body_channel_row	channel_row;
	struct ipc_body_pairing_row	pairing_row;
	struct ipc_body_ctl_send	ctl_send;
	struct ipc_body_send_file	send_file;
	struct ipc_body_outbound_file	outbound_file;
	struct ipc_body_delivery_row	delivery_row;
	struct ipc_body_sched_name	sched_name;
	struct ipc_body_sched_def	sched_def;
	struct ipc_body_sched_row	sched_row;
	struct ipc_body_run_row		run_row;
	struct ipc_body_run_target	run_target;
	struct ipc_body_console_login	console_login;
	struct ipc_body_console_get	console_get;
	struct ipc_body_console_post	console_post;
	struct ipc_body_console_answer	console_answer;
	struct ipc_body_console_media	console_media;
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
