/*
 * Configuration: etc/wxgate.yaml -> struct config, see wxgate.yaml(5).
 *
 * Called by the supervisor only, at start, on SIGHUP and for wxgated -n.
 * Workers never see the whole file: config_slice_*() hands each one the
 * JSON of its own part.  This file must never repair a bad value; it
 * refuses the file and says where, so the running configuration stays.
 *
 * libcyaml checks the shape (types, unknown and repeated keys) against
 * the schema below.  Every number then passes one table of
 * { name, default, min, max }, as Postfix's CONFIG_INT_TABLE, and the
 * cross-field rules follow.  libcyaml reports problems only through its
 * log callback, so that callback keeps the message and the backtrace, and
 * a second pass over the text with libyaml finds the line of a key.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <jansson.h>
#include <yaml.h>

#include "config.h"
#include "ipc_msg.h"
#include "log.h"
#include "ratelimit.h"
#include "role.h"
#include "xmalloc.h"

/* A config file is a page of text; anything bigger is a mistake. */
#define CFG_FILE_MAX		(1024 * 1024)
/* Paths in the file; the control socket has a tighter limit below. */
#define CFG_PATH_MAX		1024
/* "[v6 address]:port" never needs more. */
#define CFG_LISTEN_MAX		64
#define CFG_NAME_MAX		32
/*
 * Schema cap for short words (names, types, levels); generous so that
 * the checks below, not libcyaml, explain what is wrong.
 */
#define CFG_WORD_MAX		255
/* Key paths nest three deep; deeper input is not ours to locate. */
#define CFG_DEPTH_MAX		16
#define CFG_KEYPATH_MAX		256
/* A system prompt is a page or two; more belongs in the agent. */
#define CFG_PROMPT_MAX		16384
#define CFG_URL_MAX		1024
#define CFG_HEADER_MAX		1024
#define CFG_ARG_MAX		1024
/* API keys are tens of bytes; a file bigger than this is not a key. */
#define CFG_KEY_MAX		4096

#define CFG_DEFAULT_STATE_DIR	"./run"
#define CFG_DEFAULT_LISTEN	"127.0.0.1:8080"
#define CFG_DEFAULT_AGENT	"default"
#define CFG_DEFAULT_TYPE	"echo"
#define CFG_DEFAULT_LEVEL	"info"
#define CFG_DEFAULT_USER	"nobody"
#define CFG_DEFAULT_GROUP	"nogroup"

/*
 * What libcyaml fills in.  Numbers are pointers so that an absent key
 * (NULL) differs from 0; sub-mappings are embedded so one offsetof()
 * reaches any number from the top.
 */
struct raw_log {
	char		*level;
	bool		 syslog;
};

struct raw_supervisor {
	uint32_t	*heartbeat_ms;
	uint32_t	*heartbeat_timeout_ms;
	uint32_t	*restart_min_ms;
	uint32_t	*restart_max_ms;
	uint32_t	*crashloop_count;
	uint32_t	*crashloop_window_s;
	uint32_t	*shutdown_grace_ms;
	uint32_t	*queue_max;
	uint32_t	*backlog_max;
	uint32_t	*wal_checkpoint_bytes;
	uint32_t	*wal_max_bytes;
};

struct raw_webchat {
	char		*listen;
	char		*public_url;
	uint32_t	*workers;
	char		*agent;
	uint32_t	*max_frame;
	uint32_t	*max_text;
	uint32_t	*max_header;
	uint32_t	*max_conns;
	uint32_t	*history_limit;
	uint32_t	*idle_timeout_s;
	uint32_t	*deadline_s;
	uint32_t	*head_timeout_s;
	uint32_t	*frame_timeout_s;
	uint32_t	*max_out_total;
};

struct raw_sandbox {
	char		*user;
	char		*group;
	bool		 strict;
};

struct raw_rate {
	char		*rate;
	uint32_t	*burst;
};

struct raw_roles {
	char		**webchat;
	unsigned	 webchat_count;
};

struct raw_ratelimit {
	struct raw_rate	 session;
	struct raw_rate	 address;
	uint32_t	*buckets_max;
};

struct raw_sessions {
	bool		*anonymous;
	uint32_t	*idle_ttl_s;
	uint32_t	*absolute_ttl_s;
};

struct raw_policy {
	struct raw_roles	 roles;
	struct raw_ratelimit	 ratelimit;
	uint32_t		*conns_per_address;
	uint32_t		*conns_total;
	uint32_t		*tcp_conns_per_peer;
	uint32_t		*tcp_conns_per_proxy;
	uint32_t		*tcp_conns_total;
	char			**trusted_proxies;
	unsigned		 trusted_proxies_count;
	struct raw_sessions	 sessions;
	uint32_t		*audit_max_rows;
	uint32_t		*audit_max_age_days;
};

struct raw_echo {
	uint32_t	*chunks;
	uint32_t	*delay_ms;
};

struct raw_openai {
	char		*url;
	char		*model;
	char		*api_key_file;
	char		*api_key_env;
	double		*temperature;
	uint32_t	*max_tokens;
	uint32_t	*timeout_s;
	bool		*stream;
	char		**headers;
	unsigned	 headers_count;
};

struct raw_command {
	char		**argv;
	unsigned	 argv_count;
	uint32_t	*timeout_s;
};

struct raw_agent {
	char			*name;
	char			*type;
	char			*system_prompt;
	uint32_t		*max_inflight;
	uint32_t		*max_queued;
	uint32_t		*client_share_pct;
	struct raw_echo		 echo;
	struct raw_openai	 openai;
	struct raw_command	 command;
};

struct raw_wechat {
	char		*login_url;
	char		*base_url;
	char		*bot_agent;
	char		*token_file;
	uint32_t	*poll_timeout_ms;
	uint32_t	*send_gap_ms;
	uint32_t	*timeout_s;
};

struct raw_chan_limits {
	struct raw_rate	 peer;
	struct raw_rate	 account;
};

struct raw_channel {
	char			*name;
	char			*type;
	char			*agent;
	char			*dm_policy;
	char			**allow_from;
	unsigned		 allow_from_count;
	uint32_t		*text_chunk_limit;
	uint32_t		*history_limit;
	uint32_t		*pairing_ttl_s;
	uint32_t		*deadline_s;
	uint32_t		*backlog_max;
	struct raw_chan_limits	 ratelimit;
	struct raw_wechat	 wechat;
};

struct raw_config {
	char			*state_dir;
	char			*store;
	char			*control;
	struct raw_log		 log;
	struct raw_supervisor	 supervisor;
	struct raw_webchat	 webchat;
	struct raw_sandbox	 sandbox;
	struct raw_policy	 policy;
	struct raw_agent	*agents;
	unsigned		 agents_count;
	struct raw_channel	*channels;
	unsigned		 channels_count;
};

/* One number: where libcyaml put it, where it goes, and its bounds. */
struct cfg_num {
	const char	*name;
	size_t		 raw;	/* offset of its uint32_t * */
	size_t		 out;		/* offset of the uint32_t */
	uint32_t	 def;
	uint32_t	 min;
	uint32_t	 max;
};

#define SUP(f)	offsetof(struct raw_config, supervisor.f), \
		offsetof(struct config, supervisor.f)
#define WEB(f)	offsetof(struct raw_config, webchat.f), \
		offsetof(struct config, webchat.f)
#define POL(f)	offsetof(struct raw_config, policy.f), \
		offsetof(struct config, policy.f)
#define POL2(f, o) offsetof(struct raw_config, policy.f), \
		offsetof(struct config, policy.o)
#define ECHO(f, o) offsetof(struct raw_agent, echo.f), \
		offsetof(struct cfg_agent, o)
#define OAI(f, o) offsetof(struct raw_agent, openai.f), \
		offsetof(struct cfg_agent, o)
#define CMD(f, o) offsetof(struct raw_agent, command.f), \
		offsetof(struct cfg_agent, o)
#define AGT(f)	offsetof(struct raw_agent, f), \
		offsetof(struct cfg_agent, f)
#define CHN(f, o) offsetof(struct raw_channel, f), \
		offsetof(struct cfg_channel, o)

static const struct cfg_num cfg_nums[] = {
	/* Below 50 ms the pings are the load; a minute is already blind. */
	{ "supervisor.heartbeat_ms",	   SUP(heartbeat_ms),
	    1000, 50, 60000 },
	/* Must also exceed heartbeat_ms, checked below. */
	{ "supervisor.heartbeat_timeout_ms", SUP(heartbeat_timeout_ms),
	    3000, 100, 600000 },
	{ "supervisor.restart_min_ms",	   SUP(restart_min_ms),
	    100, 10, 60000 },
	/* An hour: past that a worker is better parked as failed. */
	{ "supervisor.restart_max_ms",	   SUP(restart_max_ms),
	    30000, 100, 3600000 },
	{ "supervisor.crashloop_count",	   SUP(crashloop_count),
	    10, 1, 1000 },
	{ "supervisor.crashloop_window_s", SUP(crashloop_window_s),
	    60, 1, 86400 },
	/* 0 sends SIGKILL at once; five minutes is a hung drain. */
	{ "supervisor.shutdown_grace_ms",  SUP(shutdown_grace_ms),
	    5000, 0, 300000 },
	/* A bound on memory per worker, not a tuning knob. */
	{ "supervisor.queue_max",	   SUP(queue_max),
	    1024, 16, 1048576 },
	/*
	 * Unanswered platform messages over every account: rows on disk,
	 * not memory, but a bot a day behind serves nobody well.
	 */
	{ "supervisor.backlog_max",	   SUP(backlog_max),
	    100000, 1, 10000000 },
	/*
	 * The store's WAL is checkpointed past this many bytes.  Smaller
	 * means more checkpoints (each syncs the database); 64 KiB is a
	 * few commits, and past 1 GiB the WAL index itself costs memory.
	 */
	{ "supervisor.wal_checkpoint_bytes", SUP(wal_checkpoint_bytes),
	    4194304, 65536, 1073741824 },
	/*
	 * Past this (a reader held checkpoints back) the WAL is truncated,
	 * briefly blocking the supervisor; must exceed the above.
	 */
	{ "supervisor.wal_max_bytes",	   SUP(wal_max_bytes),
	    67108864, 131072, 2147483647 },
	{ "webchat.workers",		   WEB(workers),
	    2, 1, 64 },
	/* One WebSocket message is buffered whole; a megabyte at most. */
	{ "webchat.max_frame",		   WEB(max_frame),
	    65536, 1024, 1048576 },
	/* Also at most max_frame; 32 KiB keeps agent prompts bounded. */
	{ "webchat.max_text",		   WEB(max_text),
	    16384, 1, 32768 },
	{ "webchat.max_header",		   WEB(max_header),
	    8192, 1024, 65536 },
	{ "webchat.max_conns",		   WEB(max_conns),
	    1024, 1, 65536 },
	/* Each turn is context the agent pays for. */
	{ "webchat.history_limit",	   WEB(history_limit),
	    20, 0, 100 },
	{ "webchat.idle_timeout_s",	   WEB(idle_timeout_s),
	    300, 5, 86400 },
	/* A visitor waits with the page open; past an hour nobody does. */
	{ "webchat.deadline_s",		   WEB(deadline_s),
	    120, 1, 3600 },
	/*
	 * From accept(), so a silent connection is as short-lived as a
	 * slow one; a real browser sends its head within a round trip.
	 */
	{ "webchat.head_timeout_s",	   WEB(head_timeout_s),
	    20, 1, 300 },
	/* A frame's bytes trickling in do not count as activity. */
	{ "webchat.frame_timeout_s",	   WEB(frame_timeout_s),
	    20, 1, 300 },
	/*
	 * Unsent output of all of a worker's connections: a thousand slow
	 * readers at ws.h's 1 MiB each would otherwise hold a gigabyte.
	 */
	{ "webchat.max_out_total",	   WEB(max_out_total),
	    64 * 1024 * 1024, 1024 * 1024, 1024 * 1024 * 1024 },
	/* Enough for a person typing; a script is held to it. */
	{ "policy.ratelimit.session.burst", POL2(ratelimit.session.burst,
	    session_rate.burst),
	    30, 1, 1000000 },
	/* Many people may share one NAT address. */
	{ "policy.ratelimit.address.burst", POL2(ratelimit.address.burst,
	    address_rate.burst),
	    300, 1, 1000000 },
	/* Each bucket is about 150 bytes; the default bounds 10 MB. */
	{ "policy.ratelimit.buckets_max",  POL2(ratelimit.buckets_max,
	    buckets_max),
	    65536, 16, 4194304 },
	/* Tabs of one browser, or a school behind one NAT address. */
	{ "policy.conns_per_address",	   POL(conns_per_address),
	    256, 1, 65536 },
	{ "policy.conns_total",		   POL(conns_total),
	    4096, 1, 4194304 },
	/*
	 * Counted from accept(), before a byte is read, so idle sockets
	 * from one address cannot fill the pool; the same NAT allowance
	 * as conns_per_address, as without a proxy the peer is the client.
	 */
	{ "policy.tcp_conns_per_peer",	   POL(tcp_conns_per_peer),
	    256, 1, 65536 },
	/* A proxy carries many clients; conns_per_address still splits them. */
	{ "policy.tcp_conns_per_proxy",	   POL(tcp_conns_per_proxy),
	    2048, 1, 4194304 },
	/*
	 * Below workers * max_conns, so the pool answers 503 before a full
	 * worker stops accepting and clients queue unanswered.
	 */
	{ "policy.tcp_conns_total",	   POL(tcp_conns_total),
	    2000, 1, 4194304 },
	/* A second is for tests; past a year a session is not anonymous. */
	{ "policy.sessions.idle_ttl_s",	   POL2(sessions.idle_ttl_s,
	    idle_ttl_s),
	    1800, 1, 31536000 },
	{ "policy.sessions.absolute_ttl_s", POL2(sessions.absolute_ttl_s,
	    absolute_ttl_s),
	    86400, 1, 31536000 },
	/*
	 * Audit rows are a few hundred bytes: the default bounds the table
	 * at tens of MB.  Fewer than 100 would hide an attack in progress;
	 * a hundred million is past what `wxgatectl audit` can page.
	 */
	{ "policy.audit_max_rows",	   POL(audit_max_rows),
	    100000, 100, 100000000 },
	/* A day at least, to be read the morning after; ten years at most. */
	{ "policy.audit_max_age_days",	   POL(audit_max_age_days),
	    90, 1, 3650 },
};

/* The same, inside each agents[] entry. */
static const struct cfg_num cfg_agent_nums[] = {
	/*
	 * Far below the agent worker's own 4096; twice it must also fit
	 * the worker's send queue (requests plus aborts), checked below.
	 */
	{ "max_inflight",	AGT(max_inflight),		64, 1, 1024 },
	/* Web chat requests waiting in memory; past it: busy. */
	{ "max_queued",		AGT(max_queued),		256, 0, 65536 },
	/*
	 * Percent of max_inflight + max_queued one client address or
	 * session may hold: a fifth leaves room for four more.
	 */
	{ "client_share_pct",	AGT(client_share_pct),		20, 1, 100 },
	{ "echo.chunks",	ECHO(chunks, echo_chunks),     4, 1, 64 },
	{ "echo.delay_ms",	ECHO(delay_ms, echo_delay_ms), 20, 0, 10000 },
	/* 0 leaves it to the model; a million is past every context. */
	{ "openai.max_tokens",	OAI(max_tokens, max_tokens),   0, 0, 1000000 },
	/* Silence this long (or a connect this slow) is a timeout. */
	{ "openai.timeout_s",	OAI(timeout_s, timeout_s),     60, 1, 3600 },
	{ "command.timeout_s",	CMD(timeout_s, cmd_timeout_s), 60, 1, 3600 },
};

/* The same, inside each channels[] entry. */
static const struct cfg_num cfg_channel_nums[] = {
	/* iLink drops long texts (protocols/wechat-ilink.md 7.2). */
	{ "text_chunk_limit",	CHN(text_chunk_limit, text_chunk_limit),
	    2000, 100, 4000 },
	{ "history_limit",	CHN(history_limit, history_limit),
	    20, 0, 100 },
	/* Long enough to reach the operator; a week is stale. */
	{ "pairing_ttl_s",	CHN(pairing_ttl_s, pairing_ttl_s),
	    3600, 60, 604800 },
	/* Longer than the web chat's: nobody holds a page open here. */
	{ "deadline_s",		CHN(deadline_s, deadline_s),
	    900, 1, 604800 },
	/* Past it the platform cursor stops: the platform keeps the rest. */
	{ "backlog_max",	CHN(backlog_max, backlog_max),
	    10000, 1, 10000000 },
	{ "ratelimit.peer.burst", CHN(ratelimit.peer.burst, peer_rate.burst),
	    5, 1, 1000000 },
	{ "ratelimit.account.burst", CHN(ratelimit.account.burst,
	    account_rate.burst),
	    20, 1, 1000000 },
	/* The server holds a poll about 35 s; it may suggest its own. */
	{ "wechat.poll_timeout_ms", CHN(wechat.poll_timeout_ms,
	    poll_timeout_ms),
	    35000, 1000, 120000 },
	/* Three sends within a second tripped iLink's burst throttle. */
	{ "wechat.send_gap_ms",	CHN(wechat.send_gap_ms, send_gap_ms),
	    1500, 0, 60000 },
	{ "wechat.timeout_s",	CHN(wechat.timeout_s, timeout_s),
	    15, 1, 600 },
};

static const char *const cfg_agent_types[] = { "echo", "openai", "command" };
static const char *const cfg_channel_types[] = { "wechat" };
/* In enum dm_policy order (policy/dm.h). */
static const char *const cfg_dm_policies[] = {
	"pairing", "allowlist", "open", "disabled"
};
static const char *const cfg_log_levels[] = { "warn", "info", "debug" };

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
/* libyaml counts lines from 0, editors from 1. */
#define LINE_OF(ev)	((int)(ev).start_mark.line + 1)

/* The libcyaml schema, innermost first. */
#define STR(k, s, m, max) CYAML_FIELD_STRING_PTR(k, \
	CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, s, m, 0, max)
#define NUM(k, s, m) CYAML_FIELD_UINT_PTR(k, \
	CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, s, m)

static const cyaml_schema_field_t log_fields[] = {
	STR("level", struct raw_log, level, CFG_WORD_MAX),
	CYAML_FIELD_BOOL("syslog", CYAML_FLAG_OPTIONAL, struct raw_log,
	    syslog),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t supervisor_fields[] = {
	NUM("heartbeat_ms", struct raw_supervisor, heartbeat_ms),
	NUM("heartbeat_timeout_ms", struct raw_supervisor,
	    heartbeat_timeout_ms),
	NUM("restart_min_ms", struct raw_supervisor, restart_min_ms),
	NUM("restart_max_ms", struct raw_supervisor, restart_max_ms),
	NUM("crashloop_count", struct raw_supervisor, crashloop_count),
	NUM("crashloop_window_s", struct raw_supervisor, crashloop_window_s),
	NUM("shutdown_grace_ms", struct raw_supervisor, shutdown_grace_ms),
	NUM("queue_max", struct raw_supervisor, queue_max),
	NUM("backlog_max", struct raw_supervisor, backlog_max),
	NUM("wal_checkpoint_bytes", struct raw_supervisor,
	    wal_checkpoint_bytes),
	NUM("wal_max_bytes", struct raw_supervisor, wal_max_bytes),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t webchat_fields[] = {
	STR("listen", struct raw_webchat, listen, CFG_LISTEN_MAX),
	STR("public_url", struct raw_webchat, public_url, CFG_URL_MAX),
	NUM("workers", struct raw_webchat, workers),
	STR("agent", struct raw_webchat, agent, CFG_WORD_MAX),
	NUM("max_frame", struct raw_webchat, max_frame),
	NUM("max_text", struct raw_webchat, max_text),
	NUM("max_header", struct raw_webchat, max_header),
	NUM("max_conns", struct raw_webchat, max_conns),
	NUM("history_limit", struct raw_webchat, history_limit),
	NUM("idle_timeout_s", struct raw_webchat, idle_timeout_s),
	NUM("deadline_s", struct raw_webchat, deadline_s),
	NUM("head_timeout_s", struct raw_webchat, head_timeout_s),
	NUM("frame_timeout_s", struct raw_webchat, frame_timeout_s),
	NUM("max_out_total", struct raw_webchat, max_out_total),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t method_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, CFG_WORD_MAX),
};

static const cyaml_schema_value_t proxy_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, CFG_LISTEN_MAX),
};

static const cyaml_schema_field_t roles_fields[] = {
	CYAML_FIELD_SEQUENCE("webchat", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_roles, webchat, &method_entry, 0,
	    CFG_METHODS_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t rate_fields[] = {
	STR("rate", struct raw_rate, rate, CFG_WORD_MAX),
	NUM("burst", struct raw_rate, burst),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t ratelimit_fields[] = {
	CYAML_FIELD_MAPPING("session", CYAML_FLAG_OPTIONAL,
	    struct raw_ratelimit, session, rate_fields),
	CYAML_FIELD_MAPPING("address", CYAML_FLAG_OPTIONAL,
	    struct raw_ratelimit, address, rate_fields),
	NUM("buckets_max", struct raw_ratelimit, buckets_max),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t sessions_fields[] = {
	CYAML_FIELD_BOOL_PTR("anonymous", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_sessions, anonymous),
	NUM("idle_ttl_s", struct raw_sessions, idle_ttl_s),
	NUM("absolute_ttl_s", struct raw_sessions, absolute_ttl_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t policy_fields[] = {
	CYAML_FIELD_MAPPING("roles", CYAML_FLAG_OPTIONAL, struct raw_policy,
	    roles, roles_fields),
	CYAML_FIELD_MAPPING("ratelimit", CYAML_FLAG_OPTIONAL,
	    struct raw_policy, ratelimit, ratelimit_fields),
	NUM("conns_per_address", struct raw_policy, conns_per_address),
	NUM("conns_total", struct raw_policy, conns_total),
	NUM("tcp_conns_per_peer", struct raw_policy, tcp_conns_per_peer),
	NUM("tcp_conns_per_proxy", struct raw_policy, tcp_conns_per_proxy),
	NUM("tcp_conns_total", struct raw_policy, tcp_conns_total),
	CYAML_FIELD_SEQUENCE("trusted_proxies", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_policy, trusted_proxies,
	    &proxy_entry, 0, CFG_PROXIES_MAX),
	CYAML_FIELD_MAPPING("sessions", CYAML_FLAG_OPTIONAL,
	    struct raw_policy, sessions, sessions_fields),
	NUM("audit_max_rows", struct raw_policy, audit_max_rows),
	NUM("audit_max_age_days", struct raw_policy, audit_max_age_days),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t sandbox_fields[] = {
	STR("user", struct raw_sandbox, user, CFG_WORD_MAX),
	STR("group", struct raw_sandbox, group, CFG_WORD_MAX),
	CYAML_FIELD_BOOL("strict", CYAML_FLAG_OPTIONAL, struct raw_sandbox,
	    strict),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t echo_fields[] = {
	NUM("chunks", struct raw_echo, chunks),
	NUM("delay_ms", struct raw_echo, delay_ms),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t header_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, CFG_HEADER_MAX),
};

static const cyaml_schema_value_t arg_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CFG_ARG_MAX),
};

static const cyaml_schema_field_t openai_fields[] = {
	STR("url", struct raw_openai, url, CFG_URL_MAX),
	STR("model", struct raw_openai, model, CFG_WORD_MAX),
	STR("api_key_file", struct raw_openai, api_key_file, CFG_PATH_MAX),
	STR("api_key_env", struct raw_openai, api_key_env, CFG_WORD_MAX),
	CYAML_FIELD_FLOAT_PTR("temperature",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct raw_openai,
	    temperature),
	NUM("max_tokens", struct raw_openai, max_tokens),
	NUM("timeout_s", struct raw_openai, timeout_s),
	CYAML_FIELD_BOOL_PTR("stream", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_openai, stream),
	CYAML_FIELD_SEQUENCE("headers", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_openai, headers, &header_entry, 0,
	    CFG_HEADERS_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t command_fields[] = {
	CYAML_FIELD_SEQUENCE("argv", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_command, argv, &arg_entry, 1,
	    CFG_ARGV_MAX),
	NUM("timeout_s", struct raw_command, timeout_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t agent_fields[] = {
	STR("name", struct raw_agent, name, CFG_WORD_MAX),
	STR("type", struct raw_agent, type, CFG_WORD_MAX),
	STR("system_prompt", struct raw_agent, system_prompt, CFG_PROMPT_MAX),
	NUM("max_inflight", struct raw_agent, max_inflight),
	NUM("max_queued", struct raw_agent, max_queued),
	NUM("client_share_pct", struct raw_agent, client_share_pct),
	CYAML_FIELD_MAPPING("echo", CYAML_FLAG_OPTIONAL, struct raw_agent,
	    echo, echo_fields),
	CYAML_FIELD_MAPPING("openai", CYAML_FLAG_OPTIONAL, struct raw_agent,
	    openai, openai_fields),
	CYAML_FIELD_MAPPING("command", CYAML_FLAG_OPTIONAL, struct raw_agent,
	    command, command_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t agent_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_agent, agent_fields),
};

static const cyaml_schema_value_t peer_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, IPC_PEER_MAX),
};

static const cyaml_schema_field_t chan_limits_fields[] = {
	CYAML_FIELD_MAPPING("peer", CYAML_FLAG_OPTIONAL,
	    struct raw_chan_limits, peer, rate_fields),
	CYAML_FIELD_MAPPING("account", CYAML_FLAG_OPTIONAL,
	    struct raw_chan_limits, account, rate_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t wechat_fields[] = {
	STR("login_url", struct raw_wechat, login_url, CFG_URL_MAX),
	STR("base_url", struct raw_wechat, base_url, CFG_URL_MAX),
	STR("bot_agent", struct raw_wechat, bot_agent, CFG_WORD_MAX),
	STR("token_file", struct raw_wechat, token_file, CFG_PATH_MAX),
	NUM("poll_timeout_ms", struct raw_wechat, poll_timeout_ms),
	NUM("send_gap_ms", struct raw_wechat, send_gap_ms),
	NUM("timeout_s", struct raw_wechat, timeout_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t channel_fields[] = {
	STR("name", struct raw_channel, name, CFG_WORD_MAX),
	STR("type", struct raw_channel, type, CFG_WORD_MAX),
	STR("agent", struct raw_channel, agent, CFG_WORD_MAX),
	STR("dm_policy", struct raw_channel, dm_policy, CFG_WORD_MAX),
	CYAML_FIELD_SEQUENCE("allow_from", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_channel, allow_from, &peer_entry,
	    0, CFG_ALLOW_MAX),
	NUM("text_chunk_limit", struct raw_channel, text_chunk_limit),
	NUM("history_limit", struct raw_channel, history_limit),
	NUM("pairing_ttl_s", struct raw_channel, pairing_ttl_s),
	NUM("deadline_s", struct raw_channel, deadline_s),
	NUM("backlog_max", struct raw_channel, backlog_max),
	CYAML_FIELD_MAPPING("ratelimit", CYAML_FLAG_OPTIONAL,
	    struct raw_channel, ratelimit, chan_limits_fields),
	CYAML_FIELD_MAPPING("wechat", CYAML_FLAG_OPTIONAL, struct raw_channel,
	    wechat, wechat_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t channel_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_channel,
	    channel_fields),
};

static const cyaml_schema_field_t top_fields[] = {
	STR("state_dir", struct raw_config, state_dir, CFG_PATH_MAX),
	STR("store", struct raw_config, store, CFG_PATH_MAX),
	STR("control", struct raw_config, control, CFG_PATH_MAX),
	CYAML_FIELD_MAPPING("log", CYAML_FLAG_OPTIONAL, struct raw_config,
	    log, log_fields),
	CYAML_FIELD_MAPPING("supervisor", CYAML_FLAG_OPTIONAL,
	    struct raw_config, supervisor, supervisor_fields),
	CYAML_FIELD_MAPPING("webchat", CYAML_FLAG_OPTIONAL, struct raw_config,
	    webchat, webchat_fields),
	CYAML_FIELD_MAPPING("sandbox", CYAML_FLAG_OPTIONAL, struct raw_config,
	    sandbox, sandbox_fields),
	CYAML_FIELD_MAPPING("policy", CYAML_FLAG_OPTIONAL, struct raw_config,
	    policy, policy_fields),
	CYAML_FIELD_SEQUENCE("agents", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct raw_config, agents, &agent_schema, 1, CFG_AGENTS_MAX),
	CYAML_FIELD_SEQUENCE("channels", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_config, channels, &channel_schema,
	    0, CFG_CHANNELS_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, top_fields),
};

/* What the libcyaml log callback keeps of one failed load. */
struct cyaml_report {
	char		 problem[256];
	/* Key path components, innermost first. */
	char		 comps[CFG_DEPTH_MAX][64];
	int		 ncomps;
	int		 levels;			/* backtrace lines */
	int		 line;
	int		 backtrace;
};

/* One load in progress: the text and where errors go. */
struct cfg_ctx {
	const char	*path;
	const char	*text;
	size_t		 len;
	char		*err;
	size_t		 errlen;
};

static int	 cfg_read(const char *, char **, size_t *, char *, size_t);
static void	 cfg_cyaml_log(cyaml_log_t, void *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static void	 cfg_cyaml_error(struct cfg_ctx *, struct cyaml_report *,
		    cyaml_err_t);
static int	 cfg_walk(struct cfg_ctx *, const char *);
static int	 cfg_locate(struct cfg_ctx *, const char *);
static int	 cfg_lint_scalar(struct cfg_ctx *, const char *, const char *,
		    int);
static void	 cfg_error(struct cfg_ctx *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 cfg_error_at(struct cfg_ctx *, int, const char *,
		    const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	 cfg_numbers(struct cfg_ctx *, const struct cfg_num *, size_t,
		    const void *, void *, const char *);
static int	 cfg_check_listen(const char *);
static int	 cfg_check_url(const char *, int);
static int	 cfg_check_name(const char *);
static int	 cfg_in_list(const char *, const char *const *, size_t);
static void	 cfg_list(char *, size_t, const char *const *, size_t);
static int	 cfg_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
static int	 cfg_build_agent(struct cfg_ctx *, const struct raw_agent *,
		    unsigned, struct cfg_agent *);
static char	*cfg_dumps(json_t *);
static int	 cfg_build_openai(struct cfg_ctx *, const struct raw_agent *,
		    const char *, struct cfg_agent *);
static int	 cfg_build_command(struct cfg_ctx *, const struct raw_agent *,
		    const char *, struct cfg_agent *);
static int	 cfg_read_key(struct cfg_ctx *, const char *, const char *,
		    char **);
static int	 cfg_key_ok(const char *);
static int	 cfg_build_policy(struct cfg_ctx *, const struct raw_policy *,
		    struct cfg_policy *);
static int	 cfg_rate(struct cfg_ctx *, const char *, const char *,
		    const char *, struct cfg_rate *);
static void	 cfg_agent_free(struct cfg_agent *);
static int	 cfg_build_channels(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
static int	 cfg_build_channel(struct cfg_ctx *, const struct raw_channel *,
		    const char *, struct cfg_channel *);
static int	 cfg_build_wechat(struct cfg_ctx *, const struct raw_wechat *,
		    const char *, struct cfg_channel *);
static void	 cfg_channel_free(struct cfg_channel *);

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	static const struct raw_config empty;
	struct cyaml_report report;
	cyaml_config_t ycfg;
	struct cfg_ctx ctx;
	struct raw_config *raw = NULL;
	struct config *conf = NULL;
	char *text = NULL;
	size_t len;
	cyaml_err_t rc;

	if (errlen > 0)
		err[0] = '\0';
	if (cfg_read(path, &text, &len, err, errlen) == -1)
		return NULL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.text = text;
	ctx.len = len;
	ctx.err = err;
	ctx.errlen = errlen;

	/* Syntax and number spelling first, so their lines are exact. */
	if (cfg_walk(&ctx, NULL) == -1)
		goto out;

	memset(&report, 0, sizeof(report));
	memset(&ycfg, 0, sizeof(ycfg));
	ycfg.log_fn = cfg_cyaml_log;
	ycfg.log_ctx = &report;
	ycfg.mem_fn = cyaml_mem;
	ycfg.log_level = CYAML_LOG_ERROR;
	/*
	 * Unknown keys stay errors: a misspelt limit must not silently
	 * fall back to its default.  Aliases buy nothing in a config and
	 * let a few lines expand into a large tree.
	 */
	ycfg.flags = CYAML_CFG_NO_ALIAS;

	rc = cyaml_load_data((const uint8_t *)text, len, &ycfg, &top_schema,
	    (cyaml_data_t **)&raw, NULL);
	if (rc != CYAML_OK) {
		cfg_cyaml_error(&ctx, &report, rc);
		goto out;
	}

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(path);
	/* An empty document loads as nothing at all: all defaults. */
	if (cfg_build(&ctx, raw != NULL ? raw : &empty, conf) == -1) {
		config_free(conf);
		conf = NULL;
	}
 out:
	if (raw != NULL)
		cyaml_free(&ycfg, &top_schema, raw, 0);
	free(text);
	return conf;
}

void
config_free(struct config *conf)
{
	unsigned i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->agents_count; i++)
		cfg_agent_free(&conf->agents[i]);
	free(conf->agents);
	for (i = 0; i < conf->channels_count; i++)
		cfg_channel_free(&conf->channels[i]);
	free(conf->channels);
	for (i = 0; i < conf->policy.trusted_proxies_count; i++)
		free(conf->policy.trusted_proxies[i]);
	free(conf->policy.trusted_proxies);
	free(conf->webchat.listen);
	free(conf->webchat.public_url);
	free(conf->webchat.agent);
	free(conf->sandbox.user);
	free(conf->sandbox.group);
	free(conf->log_level);
	free(conf->control);
	free(conf->store);
	free(conf->state_dir);
	free(conf->path);
	free(conf);
}

const struct cfg_agent *
config_agent(const struct config *conf, const char *name)
{
	unsigned i;

	for (i = 0; i < conf->agents_count; i++)
		if (strcmp(conf->agents[i].name, name) == 0)
			return &conf->agents[i];
	return NULL;
}

const struct cfg_channel *
config_channel(const struct config *conf, const char *name)
{
	unsigned i;

	for (i = 0; i < conf->channels_count; i++)
		if (strcmp(conf->channels[i].name, name) == 0)
			return &conf->channels[i];
	return NULL;
}

/*
 * A channel worker's slice: how to reach its platform and its token.
 * Who may talk to it, rates and the agent stay with the supervisor.
 */
char *
config_slice_channel(const struct config *conf, const struct cfg_channel *c)
{
	json_t *o;

	(void)conf;
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
	    "account", c->name,
	    "login_url", c->login_url,
	    "base_url", c->base_url,
	    "bot_agent", c->bot_agent,
	    "poll_timeout_ms", (json_int_t)c->poll_timeout_ms,
	    "send_gap_ms", (json_int_t)c->send_gap_ms,
	    "timeout_s", (json_int_t)c->timeout_s);
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	if (c->token != NULL)
		json_object_set_new(o, "token", json_string(c->token));
	return cfg_dumps(o);
}

char *
config_slice_webchat(const struct config *conf)
{
	const struct cfg_webchat *wc = &conf->webchat;

	/* Listen address, pool size and agent stay with the supervisor. */
	return cfg_dumps(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "max_frame", (json_int_t)wc->max_frame,
	    "max_text", (json_int_t)wc->max_text,
	    "max_header", (json_int_t)wc->max_header,
	    "max_conns", (json_int_t)wc->max_conns,
	    "idle_timeout_s", (json_int_t)wc->idle_timeout_s,
	    "head_timeout_s", (json_int_t)wc->head_timeout_s,
	    "frame_timeout_s", (json_int_t)wc->frame_timeout_s,
	    "max_out_total", (json_int_t)wc->max_out_total));
}

/*
 * The agent's own settings.  The API key appears here and nowhere else:
 * only this agent's worker receives it.  The system prompt stays with
 * the supervisor, which puts it first in every agent.request.
 */
char *
config_slice_agent(const struct config *conf, const struct cfg_agent *a)
{
	json_t *o, *l;
	unsigned i;

	(void)conf;
	o = json_pack("{s:s, s:s, s:I, s:I}",
	    "name", a->name,
	    "type", a->type,
	    "echo_chunks", (json_int_t)a->echo_chunks,
	    "echo_delay_ms", (json_int_t)a->echo_delay_ms);
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	if (strcmp(a->type, "openai") == 0) {
		json_object_set_new(o, "url", json_string(a->url));
		json_object_set_new(o, "model", json_string(a->model));
		if (a->api_key != NULL)
			json_object_set_new(o, "api_key",
			    json_string(a->api_key));
		if (a->temperature >= 0)
			json_object_set_new(o, "temperature",
			    json_real(a->temperature));
		json_object_set_new(o, "max_tokens",
		    json_integer(a->max_tokens));
		json_object_set_new(o, "timeout_s",
		    json_integer(a->timeout_s));
		json_object_set_new(o, "stream", json_boolean(a->stream));
		l = json_array();
		for (i = 0; i < a->headers_count; i++)
			json_array_append_new(l, json_string(a->headers[i]));
		json_object_set_new(o, "headers", l);
	} else if (strcmp(a->type, "command") == 0) {
		l = json_array();
		for (i = 0; i < a->argv_count; i++)
			json_array_append_new(l, json_string(a->argv[i]));
		json_object_set_new(o, "argv", l);
		json_object_set_new(o, "timeout_s",
		    json_integer(a->cmd_timeout_s));
	}
	return cfg_dumps(o);
}

static char *
cfg_dumps(json_t *obj)
{
	char *s;

	/* json_pack fails only on OOM here: the formats are constant. */
	if (obj == NULL)
		fatalx("%s: json_pack failed", __func__);
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	if (s == NULL)
		fatalx("%s: json_dumps failed", __func__);
	return s;
}

/*
 * Read the whole file ourselves rather than through cyaml_load_file:
 * that gives "cannot open" its errno, a size cap, and the text that
 * cfg_locate() scans for line numbers.
 */
static int
cfg_read(const char *path, char **textp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* A FIFO or a device could block or never end. */
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    S_ISDIR(st.st_mode) ? strerror(EISDIR) :
		    "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size > CFG_FILE_MAX) {
		snprintf(err, errlen, "%s: file is larger than %d bytes", path,
		    CFG_FILE_MAX);
		close(fd);
		return -1;
	}
	/* Read what fstat saw; a file growing meanwhile is cut there. */
	text = xmalloc(st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			close(fd);
			free(text);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	text[len] = '\0';
	*textp = text;
	*lenp = len;
	return 0;
}

/*
 * libcyaml writes one error as "Load: <problem>", "Load: Backtrace:",
 * then one "  in mapping field 'k' (line: L, column: C)" or
 * "  in sequence entry 'N' (line: L, column: C)" per level, innermost
 * first.  Keep the problem, the innermost line and the key path.
 */
static void
cfg_cyaml_log(cyaml_log_t level, void *arg, const char *fmt, va_list ap)
{
	struct cyaml_report *r = arg;
	char msg[512], comp[64];
	const char *p;
	size_t n;
	unsigned idx;
	int line;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strcspn(msg, "\n");
	msg[n] = '\0';

	p = msg;
	if (strncmp(p, "Load: ", 6) == 0)
		p += 6;
	if (strcmp(p, "Backtrace:") == 0) {
		r->backtrace = 1;
		return;
	}
	if (!r->backtrace) {
		/* The first problem is the cause; later ones are fallout. */
		if (r->problem[0] == '\0')
			snprintf(r->problem, sizeof(r->problem), "%.*s",
			    (int)sizeof(r->problem) - 1, p);
		return;
	}
	p += strspn(p, " ");
	comp[0] = '\0';
	if (sscanf(p, "in mapping field '%63[^']'", comp) == 1)
		;
	else if (sscanf(p, "in sequence entry '%u'", &idx) == 1) {
		/*
		 * libcyaml numbers an entry by the count read so far, so
		 * the one it is in is N - 1; an innermost entry line is
		 * about the list itself (too short, too long) and names
		 * no entry.
		 */
		if (r->levels > 0 && idx > 0)
			snprintf(comp, sizeof(comp), "[%u]", idx - 1);
	}
	r->levels++;
	if (comp[0] != '\0' && r->ncomps < CFG_DEPTH_MAX) {
		memcpy(r->comps[r->ncomps], comp, sizeof(comp));
		r->ncomps++;
	}
	if (r->line == 0 && (p = strstr(p, "(line: ")) != NULL &&
	    sscanf(p, "(line: %d", &line) == 1)
		r->line = line;
}

/*
 * Turn a libcyaml failure into "FILE:LINE: key.path: problem".  The
 * line libcyaml gives is where it stood (for an unknown key, the end of
 * the previous value), so the key's own line is preferred when found.
 */
static void
cfg_cyaml_error(struct cfg_ctx *ctx, struct cyaml_report *r, cyaml_err_t rc)
{
	/* libcyaml's words, and what the rest of its message is. */
	enum { R_NONE, R_KEY, R_VALUE };
	static const struct {
		const char	*prefix;
		const char	*say;
		int		 rest;
	} known[] = {
		{ "Unexpected key: ", "unknown key", R_KEY },
		{ "Mapping field already seen: ", "key given twice", R_KEY },
		{ "Missing required mapping field: ", "missing key", R_KEY },
		{ "Invalid UINT value: ", "not a valid number", R_VALUE },
		{ "Invalid uint64_t value: ", "not a valid number", R_VALUE },
		{ "Expecting MAPPING", "must be a mapping", R_NONE },
		{ "Expecting SEQUENCE", "must be a list", R_NONE },
		{ "Expecting UINT", "must be a number", R_NONE },
		{ "Expecting BOOL", "must be true or false", R_NONE },
		{ "Expecting STRING", "must be a string", R_NONE },
		{ "Insufficient entries", "must not be empty", R_NONE },
		{ "Excessive entries", "has too many entries", R_NONE },
		{ "STRING length > ", "is too long", R_NONE },
		{ "STRING length < ", "is too short", R_NONE },
	};
	char keypath[CFG_KEYPATH_MAX], problem[320];
	const char *say = NULL, *key = NULL, *val = "";
	size_t i, n;
	int line, c;

	/* Build the key path outermost first. */
	keypath[0] = '\0';
	for (c = r->ncomps - 1; c >= 0; c--) {
		n = strlen(keypath);
		snprintf(keypath + n, sizeof(keypath) - n, "%s%s",
		    (n > 0 && r->comps[c][0] != '[') ? "." : "", r->comps[c]);
	}

	for (i = 0; i < NITEMS(known); i++) {
		n = strlen(known[i].prefix);
		if (strncmp(r->problem, known[i].prefix, n) != 0)
			continue;
		say = known[i].say;
		if (known[i].rest == R_KEY)
			key = r->problem + n;
		else if (known[i].rest == R_VALUE)
			val = r->problem + n;
		break;
	}
	if (key != NULL) {
		n = strlen(keypath);
		/* "already seen" backtraces already end in the key. */
		if (strncmp(r->problem, "Mapping", 7) != 0 || n == 0)
			snprintf(keypath + n, sizeof(keypath) - n, "%s%s",
			    n > 0 ? "." : "", key);
	}
	if (say != NULL)
		snprintf(problem, sizeof(problem), "%s%s%s", say,
		    val[0] != '\0' ? ": " : "", val);
	else if (r->problem[0] != '\0')
		snprintf(problem, sizeof(problem), "%s", r->problem);
	else
		snprintf(problem, sizeof(problem), "%s", cyaml_strerror(rc));

	line = keypath[0] != '\0' ? cfg_locate(ctx, keypath) :
	    0;
	if (line == 0)
		line = r->line;
	cfg_error_at(ctx, line, keypath[0] != '\0' ? keypath : NULL, "%s",
	    problem);
}

/*
 * One pass over libyaml's events, keeping the key path of each node
 * ("webchat.workers", "agents[1].name").  With want set it returns the
 * line (1-based) of that key or entry, 0 if absent.  Without, it lints:
 * syntax errors get their line, and number and boolean scalars are
 * checked by cfg_lint_scalar(), because libcyaml reads "1.5" as 1,
 * "010" as 8 and "maybe" as a boolean; it returns -1 with ctx->err set.
 */
static int
cfg_walk(struct cfg_ctx *ctx, const char *want)
{
	struct {
		int		 seq;		/* else a mapping */
		int		 in_value;	/* key read, value next */
		unsigned	 idx;
		size_t		 base;	/* path length at start */
	} st[CFG_DEPTH_MAX];
	yaml_parser_t parser;
	yaml_event_t ev;
	char path[CFG_KEYPATH_MAX];
	size_t plen = 0, n;
	int depth = 0, line = 0, done = 0, lost = 0, rc = 0, ndocs = 0;
	int is_start;

	path[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		fatalx("%s: yaml_parser_initialize failed", __func__);
	yaml_parser_set_input_string(&parser,
	    (const unsigned char *)ctx->text, ctx->len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (want == NULL) {
				cfg_error_at(ctx,
				    (int)parser.problem_mark.line + 1,
				    NULL, "syntax error: %s",
				    parser.problem != NULL ? parser.problem :
				    "unknown");
				rc = -1;
			}
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		/* libcyaml would read the first and ignore the rest. */
		if (ev.type == YAML_DOCUMENT_START_EVENT && ndocs++ > 0 &&
		    want == NULL) {
			cfg_error_at(ctx, LINE_OF(ev), NULL,
			    "only one YAML document is allowed");
			rc = -1;
			done = 1;
		}
		/*
		 * Past CFG_DEPTH_MAX or after a non-scalar key the paths
		 * mean nothing; libcyaml refuses such input anyway, so
		 * only the syntax check goes on.
		 */
		if (lost)
			goto next;
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			is_start = ev.type == YAML_MAPPING_START_EVENT ||
			    ev.type == YAML_SEQUENCE_START_EVENT;
			if (depth > 0 && !st[depth - 1].seq &&
			    !st[depth - 1].in_value) {
				/* libcyaml trips over complex keys itself. */
				if (ev.type != YAML_SCALAR_EVENT) {
					lost = 1;
					if (want != NULL)
						break;
					cfg_error_at(ctx, LINE_OF(ev), NULL,
					    "keys must be plain words");
					rc = -1;
					done = 1;
					break;
				}
				n = snprintf(path + plen, sizeof(path) - plen,
				    "%s%s", plen > 0 ? "." : "",
				    (const char *)ev.data.scalar.value);
				if (n >= sizeof(path) - plen) {
					lost = 1;
					break;
				}
				plen += n;
				if (want != NULL && strcmp(path, want) == 0) {
					line = LINE_OF(ev);
					done = 1;
				}
				st[depth - 1].in_value = 1;
				break;
			}
			if (depth > 0 && st[depth - 1].seq) {
				n = snprintf(path + plen, sizeof(path) - plen,
				    "[%u]", st[depth - 1].idx++);
				if (n >= sizeof(path) - plen) {
					lost = 1;
					break;
				}
				plen += n;
				if (want != NULL && strcmp(path, want) == 0) {
					line = LINE_OF(ev);
					done = 1;
					break;
				}
			}
			if (is_start) {
				if (depth == CFG_DEPTH_MAX) {
					lost = 1;
					break;
				}
				st[depth].seq =
				    ev.type == YAML_SEQUENCE_START_EVENT;
				st[depth].in_value = 0;
				st[depth].idx = 0;
				st[depth].base = plen;
				depth++;
				break;
			}
			if (want == NULL && ev.type == YAML_SCALAR_EVENT &&
			    cfg_lint_scalar(ctx, path,
			    (const char *)ev.data.scalar.value,
			    LINE_OF(ev)) == -1) {
				rc = -1;
				done = 1;
				break;
			}
			/* A value: done with this key or entry. */
			if (depth > 0) {
				plen = st[depth - 1].base;
				path[plen] = '\0';
				st[depth - 1].in_value = 0;
			}
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth > 0)
				depth--;
			if (depth > 0) {
				plen = st[depth - 1].base;
				path[plen] = '\0';
				st[depth - 1].in_value = 0;
			}
			break;
		default:
			break;
		}
 next:
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return want != NULL ? line : rc;
}

static int
cfg_locate(struct cfg_ctx *ctx, const char *want)
{
	return cfg_walk(ctx, want);
}

/*
 * Numbers are plain decimal ("0" or no leading zero) and booleans are
 * true or false; the key path says which is which.
 */
static int
cfg_lint_scalar(struct cfg_ctx *ctx, const char *path, const char *v,
    int line)
{
	const char *key = path;
	size_t i, n = strlen(v);
	int is_num = 0;

	for (i = 0; i < NITEMS(cfg_nums); i++)
		if (strcmp(key, cfg_nums[i].name) == 0)
			is_num = 1;
	if (strncmp(key, "agents[", 7) == 0 &&
	    (key = strstr(key, "].")) != NULL) {
		key += 2;
		for (i = 0; i < NITEMS(cfg_agent_nums); i++)
			if (strcmp(key, cfg_agent_nums[i].name) == 0)
				is_num = 1;
	}
	if (is_num && (n == 0 || n > 10 || strspn(v, "0123456789") != n ||
	    (v[0] == '0' && n > 1))) {
		cfg_error_at(ctx, line, path, "\"%s\" is not a decimal number",
		    v);
		return -1;
	}
	if ((strcmp(path, "log.syslog") == 0 ||
	    strcmp(path, "sandbox.strict") == 0 ||
	    strcmp(path, "policy.sessions.anonymous") == 0 ||
	    (key != NULL && strcmp(key, "openai.stream") == 0)) &&
	    strcmp(v, "true") != 0 &&
	    strcmp(v, "false") != 0) {
		cfg_error_at(ctx, line, path, "\"%s\" is not true or false",
		    v);
		return -1;
	}
	return 0;
}

/* An error about key path field, at its line when the text has it. */
static void
cfg_error(struct cfg_ctx *ctx, const char *field, const char *fmt, ...)
{
	char msg[CFG_ERR_MAX];
	va_list ap;
	int line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = field != NULL ? cfg_locate(ctx, field) : 0;
	cfg_error_at(ctx, line, field, "%s", msg);
}

static void
cfg_error_at(struct cfg_ctx *ctx, int line, const char *field,
    const char *fmt, ...)
{
	char msg[CFG_ERR_MAX], where[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where[0] = '\0';
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	snprintf(ctx->err, ctx->errlen, "%s%s: %s%s%s", ctx->path, where,
	    field != NULL ? field : "", field != NULL ? ": " : "", msg);
}

/* Apply one table: default when absent, refuse when out of range. */
static int
cfg_numbers(struct cfg_ctx *ctx, const struct cfg_num *tab, size_t n,
    const void *raw, void *out, const char *prefix)
{
	char field[CFG_KEYPATH_MAX];
	uint32_t *const *src, *dst;
	size_t i;

	for (i = 0; i < n; i++) {
		src = (uint32_t *const *)((const char *)raw + tab[i].raw);
		dst = (uint32_t *)((char *)out + tab[i].out);
		if (*src == NULL) {
			*dst = tab[i].def;
			continue;
		}
		if (**src < tab[i].min || **src > tab[i].max) {
			snprintf(field, sizeof(field), "%s%s", prefix,
			    tab[i].name);
			cfg_error(ctx, field, "%u is out of range %u..%u",
			    **src, tab[i].min, tab[i].max);
			return -1;
		}
		*dst = **src;
	}
	return 0;
}

/*
 * "a.b.c.d:port" or "[v6]:port", port 1..65535, and nothing looser:
 * no host names (resolving is not the supervisor's business at load)
 * and no missing port.
 */
static int
cfg_check_listen(const char *s)
{
	char host[CFG_LISTEN_MAX + 1];
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon, *port;
	unsigned long p;
	size_t hlen;
	int af;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		hlen = colon - (s + 1);
		port = colon + 2;
		af = AF_INET6;
		s++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hlen = colon - s;
		port = colon + 1;
		af = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(af, host, af == AF_INET ? (void *)&a4 : (void *)&a6) != 1)
		return -1;
	/* Digits only: strtoul would take "+80", " 80" and "0x50". */
	if (port[0] == '\0' || strlen(port) > 5 ||
	    strspn(port, "0123456789") != strlen(port))
		return -1;
	p = strtoul(port, NULL, 10);
	if (p < 1 || p > 65535)
		return -1;
	return 0;
}

/* Names end up in logs, status lines and paths: keep them plain. */
static int
cfg_check_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > CFG_NAME_MAX)
		return -1;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return -1;
	return 0;
}

static int
cfg_in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* "a, b, c" for error messages. */
static void
cfg_list(char *buf, size_t len, const char *const *list, size_t n)
{
	size_t i, used;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "",
		    list[i]);
	}
}

static int
cfg_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	static const struct raw_agent implicit;
	struct sockaddr_un sun;
	char known[128], field[CFG_KEYPATH_MAX];
	unsigned i, j;

	if (cfg_numbers(ctx, cfg_nums, NITEMS(cfg_nums), raw, conf, "") == -1)
		return -1;
	if (conf->supervisor.heartbeat_timeout_ms <=
	    conf->supervisor.heartbeat_ms) {
		cfg_error(ctx, "supervisor.heartbeat_timeout_ms",
		    "%u must exceed heartbeat_ms (%u)",
		    conf->supervisor.heartbeat_timeout_ms,
		    conf->supervisor.heartbeat_ms);
		return -1;
	}
	if (conf->supervisor.restart_min_ms > conf->supervisor.restart_max_ms) {
		cfg_error(ctx, "supervisor.restart_min_ms",
		    "%u exceeds restart_max_ms (%u)",
		    conf->supervisor.restart_min_ms,
		    conf->supervisor.restart_max_ms);
		return -1;
	}
	/* Truncating below the checkpoint size would defeat the checkpoint. */
	if (conf->supervisor.wal_max_bytes <=
	    conf->supervisor.wal_checkpoint_bytes) {
		cfg_error(ctx, "supervisor.wal_max_bytes",
		    "%u must exceed wal_checkpoint_bytes (%u)",
		    conf->supervisor.wal_max_bytes,
		    conf->supervisor.wal_checkpoint_bytes);
		return -1;
	}
	/* A text that cannot fit in one frame could never be sent. */
	if (conf->webchat.max_text > conf->webchat.max_frame) {
		cfg_error(ctx, "webchat.max_text", "%u exceeds max_frame (%u)",
		    conf->webchat.max_text, conf->webchat.max_frame);
		return -1;
	}

	/* Paths: empty means "here", which is never what was meant. */
	if (raw->state_dir != NULL && raw->state_dir[0] == '\0') {
		cfg_error(ctx, "state_dir", "must not be empty");
		return -1;
	}
	conf->state_dir = xstrdup(raw->state_dir != NULL ? raw->state_dir :
	    CFG_DEFAULT_STATE_DIR);
	if (raw->store != NULL && raw->store[0] == '\0') {
		cfg_error(ctx, "store", "must not be empty");
		return -1;
	}
	if (raw->store != NULL)
		conf->store = xstrdup(raw->store);
	else
		xasprintf(&conf->store, "%s/wxgate.db", conf->state_dir);
	if (raw->control != NULL && raw->control[0] == '\0') {
		cfg_error(ctx, "control", "must not be empty");
		return -1;
	}
	if (raw->control != NULL)
		conf->control = xstrdup(raw->control);
	else
		xasprintf(&conf->control, "%s/control.sock", conf->state_dir);
	/* bind(2) would fail later, after the old socket was replaced. */
	if (strlen(conf->control) >= sizeof(sun.sun_path)) {
		cfg_error(ctx, "control", "path is longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}

	conf->log_level = xstrdup(raw->log.level != NULL ? raw->log.level :
	    CFG_DEFAULT_LEVEL);
	if (!cfg_in_list(conf->log_level, cfg_log_levels,
	    NITEMS(cfg_log_levels))) {
		cfg_list(known, sizeof(known), cfg_log_levels,
		    NITEMS(cfg_log_levels));
		cfg_error(ctx, "log.level", "unknown level \"%s\" (known: %s)",
		    conf->log_level, known);
		return -1;
	}
	conf->log_syslog = raw->log.syslog ? 1 : 0;

	/* The user is resolved when workers start: it may come later. */
	conf->sandbox.user = xstrdup(raw->sandbox.user != NULL ?
	    raw->sandbox.user : CFG_DEFAULT_USER);
	conf->sandbox.group = xstrdup(raw->sandbox.group != NULL ?
	    raw->sandbox.group : CFG_DEFAULT_GROUP);
	conf->sandbox.strict = raw->sandbox.strict ? 1 : 0;

	conf->webchat.listen = xstrdup(raw->webchat.listen != NULL ?
	    raw->webchat.listen : CFG_DEFAULT_LISTEN);
	if (cfg_check_listen(conf->webchat.listen) == -1) {
		cfg_error(ctx, "webchat.listen", "\"%s\" is not IPv4:port or "
		    "[IPv6]:port with port 1..65535", conf->webchat.listen);
		return -1;
	}
	conf->webchat.agent = xstrdup(raw->webchat.agent != NULL ?
	    raw->webchat.agent : CFG_DEFAULT_AGENT);
	/* Behind a proxy the listen address is not what people open. */
	if (raw->webchat.public_url == NULL)
		xasprintf(&conf->webchat.public_url, "http://%s",
		    conf->webchat.listen);
	else if (cfg_check_url(raw->webchat.public_url, 0) == -1 ||
	    raw->webchat.public_url[strlen(raw->webchat.public_url) - 1] ==
	    '/' || strlen(raw->webchat.public_url) > IPC_URL_MAX - 70) {
		cfg_error(ctx, "webchat.public_url", "must be an http:// or "
		    "https:// URL without a trailing /, at most %d bytes",
		    IPC_URL_MAX - 70);
		return -1;
	} else
		conf->webchat.public_url = xstrdup(raw->webchat.public_url);

	/* No agents key: the built-in echo agent, so a bare file runs. */
	if (raw->agents == NULL || raw->agents_count == 0) {
		conf->agents = xcalloc(1, sizeof(*conf->agents));
		conf->agents_count = 1;
		if (cfg_build_agent(ctx, &implicit, 0, &conf->agents[0]) == -1)
			return -1;
	} else {
		conf->agents = xcalloc(raw->agents_count,
		    sizeof(*conf->agents));
		for (i = 0; i < raw->agents_count; i++) {
			/* Count as we go so config_free sees each one. */
			conf->agents_count = i + 1;
			if (cfg_build_agent(ctx, &raw->agents[i], i,
			    &conf->agents[i]) == -1)
				return -1;
			for (j = 0; j < i; j++) {
				if (strcmp(conf->agents[j].name,
				    conf->agents[i].name) != 0)
					continue;
				snprintf(field, sizeof(field),
				    "agents[%u].name", i);
				cfg_error(ctx, field, "duplicate agent name "
				    "\"%s\" (also agents[%u])",
				    conf->agents[i].name, j);
				return -1;
			}
		}
	}

	/* The supervisor must never overflow an agent's queue itself. */
	for (i = 0; i < conf->agents_count; i++) {
		if (2 * conf->agents[i].max_inflight <=
		    conf->supervisor.queue_max)
			continue;
		snprintf(field, sizeof(field), "agents[%u].max_inflight", i);
		cfg_error(ctx, field, "%u is more than half of "
		    "supervisor.queue_max (%u)", conf->agents[i].max_inflight,
		    conf->supervisor.queue_max);
		return -1;
	}
	if (config_agent(conf, conf->webchat.agent) == NULL) {
		cfg_error(ctx, "webchat.agent", "no agent named \"%s\"",
		    conf->webchat.agent);
		return -1;
	}
	if (cfg_build_channels(ctx, raw, conf) == -1)
		return -1;
	return cfg_build_policy(ctx, &raw->policy, &conf->policy);
}

/*
 * policy: narrowing a role may only take away.  A name that belongs to
 * any other role (operator, channel, agent) is refused by name, so a
 * copied line cannot quietly hand the public chat an operator method.
 */
static int
cfg_build_policy(struct cfg_ctx *ctx, const struct raw_policy *rp,
    struct cfg_policy *p)
{
	struct in6_addr a6;
	struct in_addr a4;
	char field[CFG_KEYPATH_MAX];
	const char *name;
	uint32_t type;
	unsigned i;
	int role;

	if (rp->roles.webchat != NULL) {
		p->webchat_narrowed = 1;
		for (i = 0; i < rp->roles.webchat_count; i++) {
			name = rp->roles.webchat[i];
			snprintf(field, sizeof(field),
			    "policy.roles.webchat[%u]", i);
			role = role_of_method(name, strlen(name), &type);
			if (role == 0) {
				cfg_error(ctx, field, "unknown method \"%s\"",
				    name);
				return -1;
			}
			if (role != ROLE_WEBCHAT) {
				cfg_error(ctx, field, "\"%s\" is %s %s "
				    "method; webchat may not be granted it",
				    name, strchr("aeiou", role_name(role)[0]) ?
				    "an" : "a", role_name(role));
				return -1;
			}
			p->webchat_methods[p->webchat_methods_count++] = type;
		}
	}
	if (cfg_rate(ctx, "policy.ratelimit.session.rate",
	    rp->ratelimit.session.rate, "30/min", &p->session_rate) == -1 ||
	    cfg_rate(ctx, "policy.ratelimit.address.rate",
	    rp->ratelimit.address.rate, "600/min", &p->address_rate) == -1)
		return -1;
	p->trusted_proxies = xcalloc(rp->trusted_proxies_count + 1,
	    sizeof(char *));
	for (i = 0; i < rp->trusted_proxies_count; i++) {
		name = rp->trusted_proxies[i];
		/* Addresses only: the check is a string compare per request. */
		if (inet_pton(AF_INET, name, &a4) != 1 &&
		    inet_pton(AF_INET6, name, &a6) != 1) {
			snprintf(field, sizeof(field),
			    "policy.trusted_proxies[%u]", i);
			cfg_error(ctx, field, "\"%s\" is not an IPv4 or IPv6 "
			    "address", name);
			return -1;
		}
		p->trusted_proxies[i] = xstrdup(name);
		p->trusted_proxies_count = i + 1;
	}
	p->anonymous = rp->sessions.anonymous == NULL ||
	    *rp->sessions.anonymous;
	if (p->idle_ttl_s > p->absolute_ttl_s) {
		cfg_error(ctx, "policy.sessions.idle_ttl_s",
		    "%u exceeds absolute_ttl_s (%u)", p->idle_ttl_s,
		    p->absolute_ttl_s);
		return -1;
	}
	return 0;
}

static int
cfg_rate(struct cfg_ctx *ctx, const char *field, const char *v,
    const char *def, struct cfg_rate *out)
{
	struct rl_rate r;

	if (ratelimit_parse(v != NULL ? v : def, &r) == -1) {
		cfg_error(ctx, field, "\"%s\" is not N/s, N/min or N/hour "
		    "with N in 1..%d", v, RL_RATE_MAX);
		return -1;
	}
	out->per = r.per;
	out->period_ms = r.period_ms;
	return 0;
}

static int
cfg_build_agent(struct cfg_ctx *ctx, const struct raw_agent *ra,
    unsigned i, struct cfg_agent *a)
{
	char prefix[32], field[CFG_KEYPATH_MAX], known[128];

	snprintf(prefix, sizeof(prefix), "agents[%u].", i);
	a->name = xstrdup(ra->name != NULL ? ra->name : CFG_DEFAULT_AGENT);
	a->type = xstrdup(ra->type != NULL ? ra->type : CFG_DEFAULT_TYPE);
	if (cfg_check_name(a->name) == -1) {
		snprintf(field, sizeof(field), "%sname", prefix);
		cfg_error(ctx, field, "\"%s\" is not 1..%d characters of "
		    "a-z, 0-9, _ and -", a->name, CFG_NAME_MAX);
		return -1;
	}
	if (!cfg_in_list(a->type, cfg_agent_types, NITEMS(cfg_agent_types))) {
		cfg_list(known, sizeof(known), cfg_agent_types,
		    NITEMS(cfg_agent_types));
		snprintf(field, sizeof(field), "%stype", prefix);
		cfg_error(ctx, field, "unknown agent type \"%s\" (known: %s)",
		    a->type, known);
		return -1;
	}
	if (cfg_numbers(ctx, cfg_agent_nums, NITEMS(cfg_agent_nums), ra, a,
	    prefix) == -1)
		return -1;
	if (ra->system_prompt != NULL && ra->system_prompt[0] != '\0')
		a->system_prompt = xstrdup(ra->system_prompt);
	a->temperature = -1;
	if (cfg_build_openai(ctx, ra, prefix, a) == -1 ||
	    cfg_build_command(ctx, ra, prefix, a) == -1)
		return -1;
	return 0;
}

/*
 * An http(s) URL on one line.  https only, unless the host is this
 * machine: plain http to anywhere else would hand a bot token to the
 * network.
 */
static int
cfg_check_url(const char *u, int tls_unless_local)
{
	static const char *const local[] = {
		"http://127.0.0.1:", "http://127.0.0.1/", "http://[::1]:",
		"http://[::1]/", "http://localhost:", "http://localhost/"
	};
	size_t i;

	if (strcspn(u, " \t\r\n") != strlen(u))
		return -1;
	if (strncmp(u, "https://", 8) == 0 && u[8] != '\0')
		return 0;
	if (strncmp(u, "http://", 7) != 0 || u[7] == '\0')
		return -1;
	if (!tls_unless_local)
		return 0;
	for (i = 0; i < NITEMS(local); i++)
		if (strncmp(u, local[i], strlen(local[i])) == 0)
			return 0;
	return -1;
}

static int
cfg_build_channels(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	char prefix[32], field[CFG_KEYPATH_MAX];
	unsigned i, j;

	if (raw->channels_count == 0)
		return 0;
	conf->channels = xcalloc(raw->channels_count,
	    sizeof(*conf->channels));
	for (i = 0; i < raw->channels_count; i++) {
		/* Count as we go so config_free sees each one. */
		conf->channels_count = i + 1;
		snprintf(prefix, sizeof(prefix), "channels[%u].", i);
		if (cfg_build_channel(ctx, &raw->channels[i], prefix,
		    &conf->channels[i]) == -1)
			return -1;
		if (config_agent(conf, conf->channels[i].agent) == NULL) {
			snprintf(field, sizeof(field), "%sagent", prefix);
			cfg_error(ctx, field, "no agent named \"%s\"",
			    conf->channels[i].agent);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(conf->channels[j].name,
			    conf->channels[i].name) != 0)
				continue;
			snprintf(field, sizeof(field), "%sname", prefix);
			cfg_error(ctx, field, "duplicate channel name \"%s\" "
			    "(also channels[%u])", conf->channels[i].name, j);
			return -1;
		}
	}
	return 0;
}

static int
cfg_build_channel(struct cfg_ctx *ctx, const struct raw_channel *rc,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX], known[128];
	const char *dm;
	unsigned i;

	snprintf(field, sizeof(field), "%sname", prefix);
	if (rc->name == NULL || cfg_check_name(rc->name) == -1) {
		cfg_error(ctx, field, "must be 1..%d characters of a-z, 0-9, "
		    "_ and -", CFG_NAME_MAX);
		return -1;
	}
	c->name = xstrdup(rc->name);
	c->type = xstrdup(rc->type != NULL ? rc->type : "");
	if (!cfg_in_list(c->type, cfg_channel_types,
	    NITEMS(cfg_channel_types))) {
		cfg_list(known, sizeof(known), cfg_channel_types,
		    NITEMS(cfg_channel_types));
		snprintf(field, sizeof(field), "%stype", prefix);
		cfg_error(ctx, field, "unknown channel type \"%s\" (known: "
		    "%s)", c->type, known);
		return -1;
	}
	c->agent = xstrdup(rc->agent != NULL ? rc->agent : CFG_DEFAULT_AGENT);
	dm = rc->dm_policy != NULL ? rc->dm_policy : "pairing";
	for (i = 0; i < NITEMS(cfg_dm_policies); i++)
		if (strcmp(dm, cfg_dm_policies[i]) == 0)
			break;
	if (i == NITEMS(cfg_dm_policies)) {
		cfg_list(known, sizeof(known), cfg_dm_policies,
		    NITEMS(cfg_dm_policies));
		snprintf(field, sizeof(field), "%sdm_policy", prefix);
		cfg_error(ctx, field, "unknown policy \"%s\" (known: %s)", dm,
		    known);
		return -1;
	}
	c->dm_policy = (enum dm_policy)i;
	if (rc->allow_from_count > 0)
		c->allow_from = xcalloc(rc->allow_from_count, sizeof(char *));
	for (i = 0; i < rc->allow_from_count; i++) {
		c->allow_from[i] = xstrdup(rc->allow_from[i]);
		c->allow_from_count = i + 1;
	}
	if (cfg_numbers(ctx, cfg_channel_nums, NITEMS(cfg_channel_nums), rc,
	    c, prefix) == -1)
		return -1;
	snprintf(field, sizeof(field), "%sratelimit.peer.rate", prefix);
	if (cfg_rate(ctx, field, rc->ratelimit.peer.rate, "10/min",
	    &c->peer_rate) == -1)
		return -1;
	snprintf(field, sizeof(field), "%sratelimit.account.rate", prefix);
	if (cfg_rate(ctx, field, rc->ratelimit.account.rate, "60/min",
	    &c->account_rate) == -1)
		return -1;
	return cfg_build_wechat(ctx, &rc->wechat, prefix, c);
}

static int
cfg_build_wechat(struct cfg_ctx *ctx, const struct raw_wechat *rw,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];

	c->login_url = xstrdup(rw->login_url != NULL ? rw->login_url :
	    "https://ilinkai.weixin.qq.com");
	c->base_url = xstrdup(rw->base_url != NULL ? rw->base_url : "");
	c->bot_agent = xstrdup(rw->bot_agent != NULL ? rw->bot_agent :
	    "wxgate/" PACKAGE_VERSION);
	snprintf(field, sizeof(field), "%swechat.login_url", prefix);
	if (cfg_check_url(c->login_url, 1) == -1) {
		cfg_error(ctx, field, "must be an https:// URL (http:// only "
		    "to this host)");
		return -1;
	}
	snprintf(field, sizeof(field), "%swechat.base_url", prefix);
	if (c->base_url[0] != '\0' && cfg_check_url(c->base_url, 1) == -1) {
		cfg_error(ctx, field, "must be an https:// URL (http:// only "
		    "to this host)");
		return -1;
	}
	if (rw->token_file != NULL) {
		snprintf(field, sizeof(field), "%swechat.token_file", prefix);
		if (cfg_read_key(ctx, field, rw->token_file, &c->token) == -1)
			return -1;
	}
	return 0;
}

static void
cfg_channel_free(struct cfg_channel *c)
{
	unsigned i;

	free(c->name);
	free(c->type);
	free(c->agent);
	for (i = 0; i < c->allow_from_count; i++)
		free(c->allow_from[i]);
	free(c->allow_from);
	free(c->login_url);
	free(c->base_url);
	free(c->bot_agent);
	xfree_secret(c->token);
}

/* Settings of one type under another type are a mistake; say so. */
static int
cfg_build_openai(struct cfg_ctx *ctx, const struct raw_agent *ra,
    const char *prefix, struct cfg_agent *a)
{
	const struct raw_openai *ro = &ra->openai;
	char field[CFG_KEYPATH_MAX];
	const char *v;
	unsigned i;
	int given;

	given = ro->url != NULL || ro->model != NULL ||
	    ro->api_key_file != NULL || ro->api_key_env != NULL ||
	    ro->temperature != NULL || ro->max_tokens != NULL ||
	    ro->timeout_s != NULL || ro->stream != NULL || ro->headers != NULL;
	if (strcmp(a->type, "openai") != 0) {
		if (given) {
			snprintf(field, sizeof(field), "%sopenai", prefix);
			cfg_error(ctx, field, "only for type openai");
			return -1;
		}
		return 0;
	}
	/* http:// is for a model on this host or network (Ollama, vLLM). */
	if (ro->url == NULL || (strncmp(ro->url, "https://", 8) != 0 &&
	    strncmp(ro->url, "http://", 7) != 0) ||
	    strcspn(ro->url, " \t\r\n") != strlen(ro->url)) {
		snprintf(field, sizeof(field), "%sopenai.url", prefix);
		cfg_error(ctx, field, "must be an http:// or https:// URL");
		return -1;
	}
	if (ro->model == NULL || ro->model[0] == '\0') {
		snprintf(field, sizeof(field), "%sopenai.model", prefix);
		cfg_error(ctx, field, "must name the model");
		return -1;
	}
	a->url = xstrdup(ro->url);
	a->model = xstrdup(ro->model);
	if (ro->temperature != NULL) {
		if (!(*ro->temperature >= 0 && *ro->temperature <= 2)) {
			snprintf(field, sizeof(field), "%sopenai.temperature",
			    prefix);
			cfg_error(ctx, field, "must be 0..2");
			return -1;
		}
		a->temperature = *ro->temperature;
	}
	a->stream = ro->stream != NULL ? *ro->stream : 1;
	if (ro->api_key_file != NULL && ro->api_key_env != NULL) {
		snprintf(field, sizeof(field), "%sopenai.api_key_env", prefix);
		cfg_error(ctx, field, "give api_key_file or api_key_env, "
		    "not both");
		return -1;
	}
	if (ro->api_key_file != NULL) {
		snprintf(field, sizeof(field), "%sopenai.api_key_file", prefix);
		if (cfg_read_key(ctx, field, ro->api_key_file,
		    &a->api_key) == -1)
			return -1;
	} else if (ro->api_key_env != NULL) {
		snprintf(field, sizeof(field), "%sopenai.api_key_env", prefix);
		if ((v = getenv(ro->api_key_env)) == NULL || *v == '\0') {
			cfg_error(ctx, field, "environment variable %s is "
			    "not set", ro->api_key_env);
			return -1;
		}
		if (strlen(v) > CFG_KEY_MAX || !cfg_key_ok(v)) {
			cfg_error(ctx, field, "%s does not hold a key "
			    "(printable ASCII, no spaces)", ro->api_key_env);
			return -1;
		}
		a->api_key = xstrdup(v);
	}
	if (ro->headers_count > 0)
		a->headers = xcalloc(ro->headers_count, sizeof(char *));
	for (i = 0; i < ro->headers_count; i++) {
		v = ro->headers[i];
		/* "Name: value", and nothing that could start a new line. */
		if (strchr(v, ':') == NULL || v[0] == ':' ||
		    strcspn(v, "\r\n") != strlen(v) ||
		    strcspn(v, ": \t") != (size_t)(strchr(v, ':') - v)) {
			snprintf(field, sizeof(field), "%sopenai.headers[%u]",
			    prefix, i);
			cfg_error(ctx, field, "must be \"Name: value\" on one "
			    "line");
			return -1;
		}
		a->headers[i] = xstrdup(v);
		a->headers_count = i + 1;
	}
	return 0;
}

static int
cfg_build_command(struct cfg_ctx *ctx, const struct raw_agent *ra,
    const char *prefix, struct cfg_agent *a)
{
	const struct raw_command *rc = &ra->command;
	char field[CFG_KEYPATH_MAX];
	unsigned i;

	if (strcmp(a->type, "command") != 0) {
		if (rc->argv != NULL || rc->timeout_s != NULL) {
			snprintf(field, sizeof(field), "%scommand", prefix);
			cfg_error(ctx, field, "only for type command");
			return -1;
		}
		return 0;
	}
	snprintf(field, sizeof(field), "%scommand.argv", prefix);
	/* No PATH search: the program that runs is the one named. */
	if (rc->argv == NULL || rc->argv_count == 0 || rc->argv[0][0] != '/') {
		cfg_error(ctx, field, "must start with an absolute path");
		return -1;
	}
	if (access(rc->argv[0], X_OK) == -1) {
		cfg_error(ctx, field, "%s: %s", rc->argv[0], strerror(errno));
		return -1;
	}
	a->argv = xcalloc(rc->argv_count, sizeof(char *));
	for (i = 0; i < rc->argv_count; i++) {
		a->argv[i] = xstrdup(rc->argv[i]);
		a->argv_count = i + 1;
	}
	return 0;
}

/* Printable ASCII without spaces: it goes into an HTTP header line. */
static int
cfg_key_ok(const char *k)
{
	for (; *k != '\0'; k++)
		if (*k <= ' ' || *k > '~')
			return 0;
	return 1;
}

/*
 * The API key file: a regular file of ours (or root's) that neither group
 * nor others may read or write, as OpenBSD's check_file_secrecy().  One
 * line; surrounding white space is dropped.
 */
static int
cfg_read_key(struct cfg_ctx *ctx, const char *field, const char *path,
    char **keyp)
{
	char buf[CFG_KEY_MAX + 2];
	struct stat st;
	size_t len = 0, start = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		cfg_error(ctx, field, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cfg_error(ctx, field, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		cfg_error(ctx, field, "%s: owned by uid %u, not by us or root",
		    path, (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		cfg_error(ctx, field, "%s: group or others may access it "
		    "(chmod 600)", path);
		close(fd);
		return -1;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		buf[--len] = '\0';
	while (start < len && strchr(" \t", buf[start]) != NULL)
		start++;
	if (len - start == 0 || len - start > CFG_KEY_MAX ||
	    !cfg_key_ok(buf + start)) {
		explicit_bzero(buf, sizeof(buf));
		cfg_error(ctx, field, "%s does not hold one key (printable "
		    "ASCII, no spaces, at most %d bytes)", path, CFG_KEY_MAX);
		return -1;
	}
	*keyp = xstrdup(buf + start);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static void
cfg_agent_free(struct cfg_agent *a)
{
	unsigned i;

	free(a->name);
	free(a->type);
	free(a->system_prompt);
	free(a->url);
	free(a->model);
	xfree_secret(a->api_key);
	/* Extra headers carry keys too ("api-key: ...", Azure's spelling). */
	for (i = 0; i < a->headers_count; i++)
		xfree_secret(a->headers[i]);
	free(a->headers);
	for (i = 0; i < a->argv_count; i++)
		free(a->argv[i]);
	free(a->argv);
}
