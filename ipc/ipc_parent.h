/*
 * The root parent's part of the IPC catalogue (ipc_msg.h has the rest
 * and includes this): the roles and flags every process shares, the
 * messages the parent speaks, their bodies and the limits they and the
 * parent's files use (the other messages' are ipc_msg.h's, with the
 * version a hello carries).  The parent compiles
 * with IPC_PARENT_ONLY and sees nothing else, so none of its files can
 * so much as name another process's message; the hub, the workers and
 * wxgatectl see both, through ipc_msg.h.
 */
#ifndef WX_IPC_PARENT_H
#define WX_IPC_PARENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * One frame per SOCK_SEQPACKET datagram.  The default unix socket send
 * buffer (net.core.wmem_default, 212992) must hold a whole frame, so the
 * frame limit stays below it; anything larger is a violation.
 */
#define IPC_FRAME_MAX		(192 * 1024)
#define IPC_FD			3	/* the worker's end, fixed by spawn */

#define IPC_NAME_MAX		64	/* worker names, codes, ids */
#define IPC_ADDR_MAX		64	/* textual client address */
#define IPC_STORE_SECRET_MAX	1024	/* a shared store's password */
#define IPC_REPLY_MAX		(128 * 1024)	/* one whole agent reply */
#define IPC_MESSAGE_MAX		256	/* human error messages */
#define IPC_CONF_MAX		(32 * 1024)	/* a worker's config slice */
#define IPC_LOG_MAX		1024
/* The configuration file goes to the hub in parts of this size. */
#define IPC_CONFPART_MAX	(128 * 1024)
/* The configuration reader's frames (supervisor/conf_reader.c). */
#define IPC_PATH_MAX		4096	/* a path the configuration names */
#define IPC_CONFERR_MAX		512	/* its error (CFG_ERR_MAX) */
#define IPC_SECRET_MAX		4097	/* a secret file's bytes, and one */
#define IPC_PUBFILE_MAX		(48 * 1024)	/* a public one's (CONF_PUBLIC_MAX) */

/* Roles: fixed by the supervisor per channel, never sent by a peer. */
#define ROLE_SUP		0x01
#define ROLE_WEBCHAT		0x02
#define ROLE_CHANNEL		0x04
#define ROLE_AGENT		0x08
#define ROLE_OPERATOR		0x10
/* The root parent and the unprivileged hub, on the link between them. */
#define ROLE_PARENT		0x20
#define ROLE_HUB		0x40
/* The loopback /metrics listener: it may ask for the exposition only. */
#define ROLE_METRICS		0x80
/* The one-shot configuration reader, the root parent's child. */
#define ROLE_READER		0x100
/* A kind's template process, on its link to the root parent. */
#define ROLE_ZYGOTE		0x200
/*
 * The operator console's HTTP worker: it forwards a browser's cookie
 * and the hub decides who that is (supervisor/console.c).
 */
#define ROLE_CONSOLE		0x400
#define ROLE_WORKER		(ROLE_WEBCHAT | ROLE_CHANNEL | ROLE_AGENT | \
				 ROLE_METRICS | ROLE_CONSOLE)

/* Message flags. */
#define MSG_ONCE		0x01	/* at most once per worker life */
#define MSG_FD			0x02	/* carries one fd (SCM_RIGHTS) */
#define MSG_TESTHOOK		0x04	/* exists only with --enable-test-hooks */
/* Bookkeeping between worker and supervisor, not a method to grant. */
#define MSG_INTERNAL		0x08

/*
 * Two lists: the messages the root parent speaks (to the hub, the
 * configuration reader, a zygote, and a new worker's first frames),
 * and the rest, between the hub, the workers and wxgatectl.  The
 * parent's codec knows its own list only (codec.c, catalogue_parent.c),
 * so a frame of any other type is refused before its body is read.
 */
/*
 *      name            num  wire name              senders        flags     body
 */
#define IPC_PARENT_MESSAGES(X)						\
	/* heartbeats and logs reach the parent from the hub and reader */ \
	X(PONG,		102, "pong",		ROLE_WORKER | ROLE_HUB, 0, seq)	\
	X(LOG,		103, "log",		ROLE_WORKER | ROLE_HUB | ROLE_READER, 0, log) \
	X(VIOLATION,	104, "sandbox.violation", ROLE_WORKER | ROLE_HUB | ROLE_READER, 0, violation) \
	/* a new worker's first frames, written by the parent at spawn */ \
	X(SUP_CONFIG,	800, "sup.config",	ROLE_SUP,	MSG_ONCE, config)	\
	X(SUP_LISTEN_FD, 802, "sup.listen_fd",	ROLE_SUP,	MSG_FD,	empty)		\
	/* root parent to hub: a heartbeat, and stop */			\
	X(SUP_PING,	801, "sup.ping",	ROLE_SUP | ROLE_PARENT, 0, seq)	\
	X(SUP_SHUTDOWN,	803, "sup.shutdown",	ROLE_SUP | ROLE_PARENT, 0, empty)	\
	/* root parent to hub */					\
	X(HUB_CONFIG,	900, "hub.config",	ROLE_PARENT,	0,	hub_config)	\
	X(HUB_ATTACH,	901, "hub.attach",	ROLE_PARENT,	MSG_FD,	hub_worker)	\
	X(HUB_WORKER,	902, "hub.worker",	ROLE_PARENT,	0,	hub_worker)	\
	X(HUB_DETACH,	903, "hub.detach",	ROLE_PARENT,	0,	hub_ref)	\
	X(HUB_CONTROL_FD, 904, "hub.control_fd", ROLE_PARENT,	MSG_FD,	empty)		\
	X(HUB_DRAIN,	905, "hub.drain",	ROLE_PARENT,	0,	hub_ref)	\
	/* the shared store's password, before the configuration */	\
	X(HUB_STORE_SECRET, 906, "hub.store_secret", ROLE_PARENT, 0,	store_secret)	\
	/* hub to root parent: the narrow requests */			\
	X(HUB_KILL,	950, "hub.kill",	ROLE_HUB,	0,	hub_ref)	\
	X(HUB_UP,	951, "hub.up",		ROLE_HUB,	0,	hub_ref)	\
	X(HUB_RESTART,	952, "hub.restart",	ROLE_HUB,	0,	hub_ref)	\
	X(HUB_STOP,	953, "hub.stop",	ROLE_HUB,	0,	empty)		\
	X(HUB_SPAWN,	954, "hub.spawn",	ROLE_HUB,	0,	hub_spawn)	\
	X(HUB_UNSPAWN,	955, "hub.unspawn",	ROLE_HUB,	0,	hub_ref)	\
	X(HUB_VIOLATION, 956, "hub.violation",	ROLE_HUB,	0,	hub_ref) \
	/* a channel worker of the file an operator paused, or resumed */ \
	X(HUB_PAUSE,	957, "hub.pause",	ROLE_HUB,	0,	hub_ref)	\
	X(HUB_RESUME,	958, "hub.resume",	ROLE_HUB,	0,	hub_ref)	\
	/* root parent and a kind's zygote: fork one with this socket */ \
	X(ZYGOTE_FORK,	990, "zygote.fork",	ROLE_PARENT,	MSG_FD | MSG_INTERNAL, text) \
	X(ZYGOTE_PID,	991, "zygote.pid",	ROLE_ZYGOTE,	MSG_INTERNAL, seq) \
	/* configuration reader to root parent (conf_reader.c) */	\
	X(CONF_DONE,	993, "conf.done",	ROLE_READER,	MSG_INTERNAL, conf_done) \
	X(CONF_WORKER,	994, "conf.worker",	ROLE_READER,	MSG_INTERNAL, conf_worker) \
	X(CONF_PLAN,	996, "conf.plan",	ROLE_READER,	MSG_INTERNAL, conf_plan) \
	X(CONF_FILE,	997, "conf.file",	ROLE_READER,	MSG_INTERNAL, conf_file) \
	/* root parent to configuration reader (conf_fetch.c) */	\
	X(CONF_FILE_DATA, 998, "conf.file_data", ROLE_PARENT,	0,	conf_file_data)	\
	X(CONF_TEXT,	999, "conf.text",	ROLE_PARENT,	0,	conf_text)

/* A string field, borrowed from the receive buffer; never NUL-terminated. */
struct ipc_str {
	const char	*p;
	size_t		 len;
};
#define IPC_S(lit)	((struct ipc_str){ (lit), sizeof(lit) - 1 })

/*
 * The parent's bodies, one per schema name in its list.  Each field is
 * written once, with its type and limit, and both its C struct (here:
 * U64 a uint64_t, BOOL an int 0 or 1, STR a struct ipc_str) and the
 * codec's schema (catalogue_parent.c) are made from that, so the two
 * cannot disagree.  A row's order is its order in the fixed form.
 *
 *	  body, field, type, max, flags (F_NONEMPTY, F_BYTES: codec_int.h)
 */
#define IPC_BODY_seq(F) \
	F(seq, seq, U64, UINT64_MAX, 0)
#define IPC_BODY_log(F) \
	F(log, level, U64, 2, 0) \
	F(log, text, STR, IPC_LOG_MAX, 0)
#define IPC_BODY_violation(F) \
	F(violation, syscall, U64, 4095, 0)
#define IPC_BODY_text(F) \
	F(text, text, STR, IPC_REPLY_MAX, 0)
#define IPC_BODY_store_secret(F) \
	F(store_secret, secret, STR, IPC_STORE_SECRET_MAX, F_NONEMPTY)
#define IPC_BODY_config(F) \
	F(config, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(config, kind, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(config, index, U64, UINT32_MAX, 0) \
	F(config, verbose, U64, 2, 0) \
	F(config, conf, STR, IPC_CONF_MAX, 0)
/*
 * The parent's view of one worker, for the hub: who it is (fixed at its
 * socket's creation), its process and its record.  resync: the worker
 * served an earlier hub.  Its memory is its own to say (figures).
 */
#define IPC_BODY_hub_worker(F) \
	F(hub_worker, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_worker, kind, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_worker, id, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_worker, role, U64, ROLE_CONSOLE, 0) \
	F(hub_worker, gen, U64, UINT64_MAX, 0) \
	F(hub_worker, pid, U64, UINT32_MAX, 0) \
	F(hub_worker, state, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_worker, uptime_ms, U64, UINT64_MAX, 0) \
	F(hub_worker, restarts, U64, UINT64_MAX, 0) \
	F(hub_worker, last_exit, STR, IPC_MESSAGE_MAX, 0) \
	F(hub_worker, seccomp_kills, U64, UINT64_MAX, 0) \
	F(hub_worker, resync, BOOL, 0, 0)
/* One worker incarnation; why: a kill's reason; syscall: a violation's. */
#define IPC_BODY_hub_ref(F) \
	F(hub_ref, name, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_ref, gen, U64, UINT64_MAX, 0) \
	F(hub_ref, why, STR, IPC_MESSAGE_MAX, 0) \
	F(hub_ref, syscall, U64, 4096, 0)
/* The configuration file, in parts; last ends it. */
#define IPC_BODY_hub_config(F) \
	F(hub_config, part, STR, IPC_CONFPART_MAX, 0) \
	F(hub_config, last, BOOL, 0, 0) \
	F(hub_config, verbose, U64, 2, 0)
/*
 * Start an account the store holds: a channel worker of kind, named
 * kind.id, given conf (its slice, secrets included) once.
 */
#define IPC_BODY_hub_spawn(F) \
	F(hub_spawn, kind, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_spawn, id, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(hub_spawn, conf, STR, IPC_CONF_MAX, F_NONEMPTY)
/*
 * The configuration reader (conf_reader.c): the parent sends the file
 * as conf.text parts (path on each, last ends it); the reader may ask
 * for a file the configuration names (what "secret": its bytes, "exec":
 * may it run) and gets conf.file_data (ok, or why; binary: the bytes
 * were no text and are not sent).  Then the plan: conf.plan (with the
 * supervisor's timings), then `worker_rows` conf.worker rows (listen ""
 * none), then conf.done; or conf.done alone with ok 0 and the error.
 */
#define IPC_BODY_conf_text(F) \
	F(conf_text, path, STR, IPC_PATH_MAX, F_NONEMPTY) \
	F(conf_text, part, STR, IPC_CONFPART_MAX, 0) \
	F(conf_text, last, BOOL, 0, 0) \
	F(conf_text, verbose, U64, 2, 0)
#define IPC_BODY_conf_file(F) \
	F(conf_file, what, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_file, path, STR, IPC_PATH_MAX, F_NONEMPTY)
#define IPC_BODY_conf_file_data(F) \
	F(conf_file_data, ok, BOOL, 0, 0) \
	F(conf_file_data, binary, BOOL, 0, 0) \
	F(conf_file_data, data, STR, IPC_PUBFILE_MAX, F_BYTES) \
	F(conf_file_data, why, STR, IPC_CONFERR_MAX, 0)
#define IPC_BODY_conf_plan(F) \
	F(conf_plan, state_dir, STR, IPC_PATH_MAX, F_NONEMPTY) \
	F(conf_plan, store, STR, IPC_PATH_MAX, F_NONEMPTY) \
	F(conf_plan, control, STR, IPC_PATH_MAX, F_NONEMPTY) \
	F(conf_plan, log_level, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_plan, log_syslog, BOOL, 0, 0) \
	F(conf_plan, user, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_plan, group, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_plan, hub_user, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_plan, hub_group, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_plan, strict, BOOL, 0, 0) \
	F(conf_plan, zygote, BOOL, 0, 0) \
	F(conf_plan, webchat_listen, STR, IPC_ADDR_MAX, F_NONEMPTY) \
	F(conf_plan, metrics_listen, STR, IPC_ADDR_MAX, 0) \
	F(conf_plan, store_pg, BOOL, 0, 0) \
	F(conf_plan, store_secret, STR, IPC_STORE_SECRET_MAX, 0) \
	F(conf_plan, worker_rows, U64, 4096, 0) \
	F(conf_plan, heartbeat_ms, U64, UINT32_MAX, 0) \
	F(conf_plan, heartbeat_timeout_ms, U64, UINT32_MAX, 0) \
	F(conf_plan, restart_min_ms, U64, UINT32_MAX, 0) \
	F(conf_plan, restart_max_ms, U64, UINT32_MAX, 0) \
	F(conf_plan, crashloop_count, U64, UINT32_MAX, 0) \
	F(conf_plan, crashloop_window_s, U64, UINT32_MAX, 0) \
	F(conf_plan, shutdown_grace_ms, U64, UINT32_MAX, 0)
#define IPC_BODY_conf_worker(F) \
	F(conf_worker, kind, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_worker, id, STR, IPC_NAME_MAX, F_NONEMPTY) \
	F(conf_worker, conf, STR, IPC_CONF_MAX, 0) \
	F(conf_worker, listen, STR, IPC_ADDR_MAX, 0)
#define IPC_BODY_conf_done(F) \
	F(conf_done, ok, BOOL, 0, 0) \
	F(conf_done, error, STR, IPC_CONFERR_MAX, 0)

#define IPC_PARENT_BODY_NAMES(B) \
	B(seq) B(log) B(violation) B(text) B(store_secret) B(config) \
	B(hub_worker) B(hub_ref) B(hub_config) B(hub_spawn) B(conf_text) \
	B(conf_file) B(conf_file_data) B(conf_plan) B(conf_worker) B(conf_done)

#define IPC_CTYPE_U64		uint64_t
#define IPC_CTYPE_BOOL		int
#define IPC_CTYPE_STR		struct ipc_str
#define IPC_MEMBER(b, k, t, max, flags)	IPC_CTYPE_##t k;
#define IPC_BODY_STRUCT(b)	struct ipc_body_##b { IPC_BODY_##b(IPC_MEMBER) };
struct ipc_body_empty		{ int unused; };
IPC_PARENT_BODY_NAMES(IPC_BODY_STRUCT)

/* The parent's bodies, in every process's union. */
#define IPC_BODY_UNION_MEMBER(b)	struct ipc_body_##b b;
#define IPC_PARENT_BODIES \
	struct ipc_body_empty empty; \
	IPC_PARENT_BODY_NAMES(IPC_BODY_UNION_MEMBER)

#ifdef IPC_PARENT_ONLY
enum ipc_type {
	IPC_NONE = 0,
#define X(n, num, wire, roles, flags, body)	IPC_##n = num,
	IPC_PARENT_MESSAGES(X)
#undef X
};

union ipc_body {
	IPC_PARENT_BODIES
};
/* A decoded frame.  Strings borrow from the buffer it was decoded from. */
struct ipc_msg {
	uint32_t	 type;
	uint64_t	 req_id;
	int		 fd;		/* -1 unless the type is MSG_FD */
	union ipc_body	 b;
};
#endif

#endif
