/*
 * The parsed configuration (etc/wxgate.yaml, see wxgate.yaml(5)).
 * Parsed by the configuration reader (conf_reader.c) and the hub, never
 * by the root parent, which gets the reader's plan (plan.h); workers
 * get a JSON slice of their own part through sup.config, never the
 * whole file.
 */
#ifndef WX_CONFIG_H
#define WX_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

#define CFG_AGENTS_MAX		32
#define CFG_HEADERS_MAX		16	/* extra HTTP headers per agent */
#define CFG_MODELS_MAX		16	/* models a conversation may pick */
#define CFG_ARGV_MAX		32	/* words of a command agent */
#define CFG_ERR_MAX		512

struct cfg_supervisor {
	uint32_t	 heartbeat_ms;		/* ping period */
	uint32_t	 heartbeat_timeout_ms;	/* no pong by then: SIGKILL */
	uint32_t	 restart_min_ms;	/* first restart delay */
	uint32_t	 restart_max_ms;	/* backoff ceiling */
	uint32_t	 crashloop_count;	/* this many deaths ... */
	uint32_t	 crashloop_window_s;	/* ... within this: failed */
	uint32_t	 shutdown_grace_ms;	/* SIGTERM drain, then SIGKILL */
	uint32_t	 queue_max;		/* frames queued per worker */
	uint32_t	 backlog_max;		/* platform messages waiting */
	uint32_t	 wal_checkpoint_bytes;	/* checkpoint the WAL past this */
	uint32_t	 wal_max_bytes;		/* truncate it past this */
};

/*
 * webchat.page: how the public page presents itself (served to it as
 * /page.json).  Absent strings are NULL and the page keeps its own.
 */
#define CFG_PAGE_SUGGESTIONS_MAX	4	/* buttons fit one phone row */

struct cfg_page {
	char		*title;			/* document title */
	char		*agent_name;		/* header, assistant label */
	char		*welcome;		/* first bubble, not stored */
	char		*suggestions[CFG_PAGE_SUGGESTIONS_MAX];
	unsigned	 suggestions_count;
	char		*accent;		/* "#rrggbb": white on it */
	char		*footer;		/* privacy note */
	char		*lang;			/* "zh", "en" or NULL */
	char		*avatar;		/* its image's bytes, or NULL */
	size_t		 avatarlen;
};

struct cfg_webchat {
	char		*listen;		/* "127.0.0.1:8080", "[::1]:8080" */
	char		*public_url;		/* share links: "<this>/s/<id>" */
	uint32_t	 workers;		/* pool size */
	char		*agent;			/* agent name */
	uint32_t	 max_frame;		/* WebSocket message bytes */
	uint32_t	 max_text;		/* chat.send text bytes */
	uint32_t	 max_header;		/* HTTP request head bytes */
	uint32_t	 max_conns;		/* per worker */
	uint32_t	 history_limit;		/* turns sent to the agent */
	uint32_t	 idle_timeout_s;	/* idle connection close */
	uint32_t	 deadline_s;		/* a chat.send's whole life */
	uint32_t	 head_timeout_s;	/* accept to whole request head */
	uint32_t	 frame_timeout_s;	/* a frame's, a message's bytes */
	uint32_t	 max_out_total;		/* unsent bytes, whole worker */
	struct cfg_page	 page;
};

#define CFG_METHODS_MAX		32	/* names in policy.roles.webchat */
#define CFG_PROXIES_MAX		16	/* policy.trusted_proxies */

/* A token bucket: "N/s", "N/min" or "N/hour" and a burst. */
struct cfg_rate {
	uint64_t	 per;			/* tokens ... */
	uint64_t	 period_ms;		/* ... per this many ms */
	uint32_t	 burst;
};

struct cfg_policy {
	int		 webchat_narrowed;	/* roles.webchat was given */
	uint32_t	 webchat_methods[CFG_METHODS_MAX];	/* types */
	unsigned	 webchat_methods_count;
	/* Chat commands each surface may use (role_command_bit). */
	uint32_t	 webchat_commands;
	uint32_t	 channel_commands;
	uint32_t	 console_commands;	/* the console's Chat */
	struct cfg_rate	 session_rate;		/* per web chat session */
	struct cfg_rate	 address_rate;		/* per client address */
	uint32_t	 buckets_max;		/* buckets kept per kind */
	uint32_t	 conns_per_address;	/* WebSockets at once */
	uint32_t	 conns_total;		/* over the whole pool */
	uint32_t	 tcp_conns_per_peer;	/* TCP, from accept() */
	uint32_t	 tcp_conns_per_proxy;	/* the same, a trusted proxy */
	uint32_t	 tcp_conns_total;	/* TCP over the whole pool */
	char		**trusted_proxies;	/* X-Forwarded-For from these */
	unsigned	 trusted_proxies_count;
	int		 anonymous;		/* public sessions on */
	uint32_t	 idle_ttl_s;		/* anonymous session idle */
	uint32_t	 absolute_ttl_s;	/* anonymous session age */
	uint32_t	 audit_max_rows;	/* audit rows kept */
	uint32_t	 audit_max_age_days;	/* and for how long */
};

struct cfg_sandbox {
	char		*user;			/* workers run as this user ... */
	char		*group;			/* ... and group, when root */
	char		*hub_user;		/* the hub runs as these */
	char		*hub_group;
	int		 strict;		/* every layer or no start */
	int		 zygote;		/* fork accounts from one */
};

struct cfg_agent {
	char		*name;
	char		*type;			/* echo, openai, command */
	char		*system_prompt;		/* first turn; NULL: none */
	uint32_t	 max_inflight;		/* requests with the worker */
	uint32_t	 max_queued;		/* web chat ones waiting */
	uint32_t	 client_share_pct;	/* % one address/session holds */
	uint32_t	 echo_chunks;		/* deltas per echo reply */
	uint32_t	 echo_delay_ms;		/* between deltas */
	/* type openai */
	char		*url;			/* .../v1/chat/completions */
	char		*model;
	/* What /model may pick, model among them; none: model alone. */
	char		**models;
	unsigned	 models_count;
	char		*api_key;		/* secret: only in this slice */
	double		 temperature;		/* < 0: not sent */
	uint32_t	 max_tokens;		/* 0: not sent */
	uint32_t	 timeout_s;		/* stall / connect timeout */
	int		 stream;		/* ask for SSE */
	int		 vision;		/* images as content parts */
	char		**headers;		/* "Name: value" */
	unsigned	 headers_count;
	/* type command */
	char		**argv;			/* argv[0] an absolute path */
	unsigned	 argv_count;
	uint32_t	 cmd_timeout_s;		/* per request */
	/* type relay: where relays connect (config_relay.c) */
	char		*relay_listen;
	/* console threads with it are end-to-end encrypted (docs/e2e.md) */
	int		 relay_e2e;
};

/*
 * A thousand accounts per box (issue #13).  Each costs the root parent
 * one descriptor (its copy of the hub's end, parent_hub.c) and the hub
 * one (its socket), within the hub's RLIMIT_NOFILE of 4096
 * (sandbox/rlimit.c); main.c raises the parent's soft limit to fit.
 */
#define CFG_CHANNELS_MAX	1000
#define CFG_ALLOW_MAX		256	/* allow_from entries */

/* One platform account, served by the worker "<type>.<name>". */
struct cfg_channel {
	char		*name;
	char		*type;			/* a channel kind, kinds.c */
	char		*agent;
	char		*node;			/* pinned there; NULL: any */
	enum dm_policy	 dm_policy;		/* policy/dm.h */
	char		**allow_from;		/* peer ids, "*" anyone */
	unsigned	 allow_from_count;
	enum group_policy group_policy;		/* policy/dm.h */
	char		**groups;		/* chat ids, "*" any */
	unsigned	 groups_count;
	int		 group_mention;		/* groups: only when @'d */
	char		**mention_free;		/* groups_without_mention */
	unsigned	 mention_free_count;
	uint32_t	 text_chunk_limit;	/* characters per message */
	uint32_t	 history_limit;		/* turns sent to the agent */
	uint32_t	 pairing_ttl_s;		/* a pairing code's life */
	uint32_t	 deadline_s;		/* a message's whole life */
	uint32_t	 backlog_max;		/* unanswered, durable */
	struct cfg_rate	 peer_rate;		/* per account and sender */
	struct cfg_rate	 account_rate;		/* the platform's quota */
	/* type wechat (iLink) */
	char		*login_url;
	char		*base_url;		/* "": the one saved at login */
	char		*cdn_url;		/* inbound media's CDN */
	char		*bot_agent;
	char		*token;			/* secret; NULL: QR login */
	uint32_t	 poll_timeout_ms;
	uint32_t	 send_gap_ms;
	uint32_t	 timeout_s;
	int		 stream_block;		/* stream_mode: block */
	uint32_t	 block_min_chars;	/* a block's least */
	/* type wecom_webhook (a WeCom group robot) */
	char		*hook_url;		/* the API's base */
	char		*hook_key;		/* secret; NULL in the hub */
	char		*hook_msgtype;		/* text, markdown */
	uint32_t	 hook_rate_max;		/* sends per window */
	uint32_t	 hook_rate_window_s;
	uint32_t	 hook_timeout_s;
	/* type wecom_bot (WeCom AI bot, long connection) */
	char		*ws_url;
	char		*bot_id;
	char		*bot_name;		/* "": any group message */
	char		*welcome;		/* "": no welcome */
	char		*secret;		/* NULL: not read (the hub) */
	uint32_t	 stream_interval_ms;
	uint32_t	 heartbeat_ms;
	uint32_t	 ack_timeout_ms;
	/* types wechat_mp, wecom_app (HTTP callbacks, config_callback.c) */
	char		*cb_id;			/* AppID or CorpID */
	uint32_t	 cb_agent_id;		/* wecom_app's AgentId */
	char		*cb_token;		/* secret; NULL in the hub */
	char		*cb_aes_key;		/* secret: 43 characters */
	char		*cb_secret;		/* secret; NULL: passive only */
	char		*cb_listen;		/* opened by the parent */
	char		*cb_api_url;
	char		*cb_welcome;		/* "": none */
	int		 cb_plain;		/* wechat_mp mode: plain */
	uint32_t	 cb_budget_ms;		/* reply_budget_ms */
	uint32_t	 cb_body_max;
	uint32_t	 cb_timeout_s;
};

/*
 * A schedule declared in the file (issue #15); read-only from wxgatectl.
 * Exactly one of cron and every; agent NULL: text is sent as it is,
 * else text is the agent's prompt.  targets: "channel:target" lines.
 */
struct cfg_schedule {
	char		*name;
	char		*cron;			/* NULL, or 5 fields / @daily */
	char		*every;			/* NULL, or "30m" */
	char		*tz;			/* IANA zone; "UTC" by default */
	char		*agent;
	char		*text;
	char		*targets;		/* joined with '\n' */
	uint32_t	 hold_s;		/* hold_until_contact; 0 none */
	int		 catch_up_none;		/* catch_up: none */
};

/* The daemon's bounds on schedules (the `schedule:` block). */
struct cfg_sched_limits {
	uint32_t	 runs_max;		/* runs in flight at once */
	uint32_t	 deadline_s;		/* a run's agent answer */
	uint32_t	 history_days;		/* runs kept this long ... */
	uint32_t	 history_max;		/* ... and at most this many */
	uint32_t	 schedules_max;		/* definitions, file + CLI */
	char		*notify;		/* "channel:target" or NULL */
};

/*
 * Attachments people send to channel accounts (the `media:` block):
 * what one message may carry, and the store's media area.
 */
struct cfg_media {
	uint32_t	 max_bytes;		/* one message's parts */
	uint32_t	 retention_days;	/* kept this long ... */
	uint32_t	 stored_max_bytes;	/* ... in at most this */
};

/*
 * Self-service binding (the `bind:` block and `bind_templates:`): what a
 * wechat account made from an invitation is given.  chan is a channel
 * entry with no name and no token (the account logs in by QR code);
 * each bound account gets a copy under its own name (config_rt_add).
 */
struct cfg_bind {
	uint32_t	 pending_max;		/* logins in progress at once */
	uint32_t	 ttl_min_s;		/* an invitation's shortest life */
	uint32_t	 login_timeout_s;	/* a pending login's whole life */
};

struct cfg_template {
	char			*name;
	uint32_t		 max_accounts;	/* bound accounts, at most */
	struct cfg_channel	 chan;
};

/*
 * The operator console (config_console.c): listen NULL when there is
 * none.  Scope per operator: admin may write, viewer only reads.
 */
#define CFG_OPERATORS_MAX	32
#define CFG_CONSOLE_IDLE_S	1800
#define CFG_CONSOLE_MAX_S	(12 * 3600)
#define CFG_CONSOLE_LINK_S	300
struct cfg_operator {
	char		*name;
	int		 admin;
};
struct cfg_console {
	char			*listen;
	char			*public_url;	/* login links: "<this>/login?.." */
	int			 tls;		/* 0: plain HTTP */
	char			*tls_cert;	/* PEM; NULL in the hub's copy */
	size_t			 tls_certlen;
	char			*tls_key;	/* PEM; a secret */
	size_t			 tls_keylen;
	struct cfg_operator	*operators;
	unsigned		 operators_count;
	uint32_t		 idle_timeout_s;
	uint32_t		 session_max_s;
	uint32_t		 link_ttl_s;
};

/* How this node shares a PostgreSQL store (config_store.c). */
struct cfg_cluster {
	uint32_t	 pool;		/* connections */
	uint32_t	 lease_ttl_ms;
	char		*password;	/* NULL: none, or the hub's copy */
};

struct config {
	char			*path;		/* file it came from */
	char			*text;		/* ... and its text, for the hub */
	size_t			 textlen;
	char			*state_dir;
	/*
	 * The SQLite path: the store, or with a PostgreSQL store
	 * (store_pg, config_store.c) this node's working set.
	 */
	char			*store;
	int			 store_pg;
	char			*store_uri;	/* postgresql://, no password */
	char			*node;		/* NULL: no cluster */
	struct cfg_cluster	 cluster;
	char			*control;	/* control socket path */
	char			*log_level;	/* warn, info, debug */
	int			 log_syslog;
	struct cfg_supervisor	 supervisor;
	struct cfg_webchat	 webchat;
	struct cfg_sandbox	 sandbox;
	struct cfg_policy	 policy;
	struct cfg_agent	*agents;
	unsigned		 agents_count;
	struct cfg_channel	*channels;
	unsigned		 channels_count;
	struct cfg_sched_limits	 schedule;
	struct cfg_schedule	*schedules;
	unsigned		 schedules_count;
	struct cfg_media	 media;
	char			*metrics_listen;	/* NULL: none */
	struct cfg_console	 console;		/* config_console.c */
	struct cfg_bind		 bind;
	struct cfg_template	*templates;
	unsigned		 templates_count;
	/*
	 * The hub's own: accounts bound at run time (the store's accounts
	 * table), each a copy of its template under its name.  Pointers,
	 * so an entry stays put while the list grows.
	 */
	struct cfg_channel	**rt_channels;
	unsigned		 rt_count;
};

/*
 * Load and validate; on failure returns NULL and err names the file, the
 * line where known and the field.  Relative paths in the file are taken
 * relative to the current directory.
 */
struct config	*config_load(const char *path, char *err, size_t errlen);
#define CFG_F_HUB	0x01	/* the hub's copy: secrets are not read */
struct config	*config_parse(const char *path, const char *text, size_t len,
		    int flags, char *err, size_t errlen);
void		 config_free(struct config *);
/*
 * Who reads the files the configuration names (secrets, a command's
 * program): conf_file_read() by default; the configuration reader
 * asks its parent (conf_reader.c).  NULL restores the default.
 */
typedef int	(*config_file_fn)(int what, const char *path, char *buf,
		    size_t bufsz, size_t *lenp, char *why, size_t whylen);
void		 config_file_hook(config_file_fn);
const struct cfg_agent *config_agent(const struct config *, const char *);
const struct cfg_channel *config_channel(const struct config *,
		    const char *);
/* Every account, the file's then the bound ones: i < config_channels. */
unsigned	 config_channels(const struct config *);
const struct cfg_channel *config_channel_at(const struct config *,
		    unsigned);
const struct cfg_template *config_template(const struct config *,
		    const char *);
/* A bound account from template t under name; the copy, or NULL. */
const struct cfg_channel *config_rt_add(struct config *,
		    const struct cfg_template *, const char *name);
void		 config_rt_remove(struct config *, const char *name);
/* Is name a bound account (not one of the file's)? */
int		 config_rt_is(const struct config *, const char *name);
int		 config_group_mention(const struct cfg_channel *,
		    const char *, size_t);
/* Is model one agent a lists for /model ("" never)? */
int		 config_agent_has_model(const struct cfg_agent *, const char *);
/* media.max_bytes, or less when the WAL's bound says so. */
uint32_t	 config_media_max(const struct config *);
/* JSON text of one agent's or the webchat's slice; caller frees. */
char		*config_slice_webchat(const struct config *);
char		*config_slice_agent(const struct config *,
		    const struct cfg_agent *);
char		*config_slice_channel(const struct config *,
		    const struct cfg_channel *);
char		*config_slice_webhook(const struct config *,
		    const struct cfg_channel *);
char		*config_slice_callback(const struct config *,
		    const struct cfg_channel *);
char		*config_slice_metrics(const struct config *);
char		*config_slice_console(const struct config *);
const struct cfg_operator *config_operator(const struct config *,
		    const char *);
/* The agent of this name if it is a relay agent, else NULL. */
const struct cfg_agent *config_relay_agent(const struct config *,
		    const char *);

#endif
