/*
 * What the configuration's files share: config.c the entry points and
 * the top-level build, config_yaml.c the file's shape and its reading,
 * one file per slice kind (config_webchat.c, config_agent.c,
 * config_channel.c, config_policy.c, config_schedule.c), config_check.c
 * the value checks and config_secret.c the key files.  Nothing outside
 * supervisor/config*.c includes it.
 */
#ifndef WX_CONFIG_INT_H
#define WX_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

/* "[v6 address]:port" never needs more. */
#define CFG_LISTEN_MAX		64
#define CFG_NAME_MAX		32
/* "agents[31].openai.headers[15]" and the like, with room to spare. */
#define CFG_KEYPATH_MAX		256
/* API keys are tens of bytes; a file bigger than this is not a key. */
#define CFG_KEY_MAX		4096

#define CFG_DEFAULT_AGENT	"default"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

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

struct raw_page {
	char		*title;
	char		*agent_name;
	char		*welcome;
	char		**suggestions;
	unsigned	 suggestions_count;
	char		*accent;
	char		*footer;
	char		*lang;
	char		*avatar;
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
	struct raw_page	 page;
};

struct raw_sandbox {
	char		*user;
	char		*group;
	char		*hub_user;
	char		*hub_group;
	bool		 strict;
	char		*zygote;
};

struct raw_rate {
	char		*rate;
	uint32_t	*burst;
};

struct raw_roles {
	char		**webchat;
	unsigned	 webchat_count;
};

/* policy.commands: the chat commands each surface may use. */
struct raw_commands {
	char		**webchat;
	unsigned	 webchat_count;
	char		**channel;
	unsigned	 channel_count;
	char		**console;
	unsigned	 console_count;
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
	struct raw_commands	 commands;
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
	bool		*vision;
	char		**models;
	unsigned	 models_count;
	char		**headers;
	unsigned	 headers_count;
};

struct raw_command {
	char		**argv;
	unsigned	 argv_count;
	uint32_t	*timeout_s;
};

struct raw_relay {
	char		*listen;
	bool		 e2e;
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
	struct raw_relay	 relay;
};

struct raw_wechat {
	char		*login_url;
	char		*base_url;
	char		*cdn_url;
	char		*bot_agent;
	char		*token_file;
	uint32_t	*poll_timeout_ms;
	uint32_t	*send_gap_ms;
	uint32_t	*timeout_s;
	char		*stream_mode;
	uint32_t	*block_min_chars;
};

struct raw_webhook {
	char		*url;
	char		*key_file;
	char		*msgtype;
	uint32_t	*rate_max;
	uint32_t	*rate_window_s;
	uint32_t	*timeout_s;
};

struct raw_wecom_bot {
	char		*url;
	char		*bot_id;
	char		*bot_name;
	char		*welcome;
	char		*secret_file;
	char		*secret_env;
	uint32_t	*stream_interval_ms;
	uint32_t	*heartbeat_ms;
	uint32_t	*ack_timeout_ms;
};

/*
 * wechat_mp: and wecom_app: (config_callback.c): one struct for both
 * blocks; each block's schema names only its own keys.
 */
struct raw_callback {
	char		*app_id;		/* wechat_mp */
	char		*corp_id;		/* wecom_app */
	uint32_t	*agent_id;		/* wecom_app */
	char		*token_file;
	char		*encoding_aes_key_file;
	char		*secret_file;
	char		*listen;
	char		*api_url;
	char		*mode;			/* wechat_mp: safe, plain */
	char		*welcome;
	uint32_t	*reply_budget_ms;
	uint32_t	*body_max;
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
	char			*node;
	char			*dm_policy;
	char			**allow_from;
	unsigned		 allow_from_count;
	char			*group_policy;
	char			**groups;
	unsigned		 groups_count;
	bool			*require_mention;
	char			**groups_without_mention;
	unsigned		 groups_without_mention_count;
	uint32_t		*text_chunk_limit;
	uint32_t		*history_limit;
	uint32_t		*pairing_ttl_s;
	uint32_t		*deadline_s;
	uint32_t		*backlog_max;
	struct raw_chan_limits	 ratelimit;
	struct raw_wechat	 wechat;
	struct raw_webhook	 wecom_webhook;
	struct raw_wecom_bot	 wecom_bot;
	struct raw_callback	 wechat_mp;
	struct raw_callback	 wecom_app;
};

/* The `schedule:` block: the daemon's bounds on schedules. */
struct raw_sched_limits {
	uint32_t	*runs_max;
	uint32_t	*deadline_s;
	uint32_t	*history_days;
	uint32_t	*history_max;
	uint32_t	*schedules_max;
	char		*notify;
};

/* One `schedules:` entry; prompt is the text of an agent schedule. */
struct raw_schedule {
	char		*name;
	char		*cron;
	char		*every;
	char		*tz;
	char		*text;
	char		*agent;
	char		*prompt;
	char		**to;
	unsigned	 to_count;
	char		*hold_until_contact;
	char		*catch_up;
};

/* The `media:` block. */
struct raw_media {
	uint32_t	*max_bytes;
	uint32_t	*retention_days;
	uint32_t	*stored_max_bytes;
};

/* The `metrics:` block. */
struct raw_metrics {
	char		*listen;
};

/* The `console:` block and one of its operators. */
struct raw_operator {
	char		*name;
	char		*scope;
};
struct raw_console {
	char			*listen;
	char			*public_url;
	char			*tls_cert;
	char			*tls_key;
	struct raw_operator	*operators;
	unsigned		 operators_count;
	uint32_t		*idle_timeout_s;
	uint32_t		*session_max_s;
	uint32_t		*link_ttl_s;
};

/* The `bind:` block and one `bind_templates:` entry (config_bind.c). */
struct raw_bind {
	uint32_t	*pending_max;
	uint32_t	*ttl_min_s;
	uint32_t	*login_timeout_s;
};

struct raw_template {
	struct raw_channel	 ch;	/* first: channel offsets hold */
	uint32_t		*max_accounts;
};

/* The `cluster:` block: how this node shares a PostgreSQL store. */
struct raw_cluster {
	uint32_t	*pool;
	uint32_t	*lease_ttl_ms;
	char		*password_file;
	char		*password_env;
};

struct raw_config {
	char			*state_dir;
	char			*store;
	char			*control;
	char			*node;
	struct raw_cluster	 cluster;
	struct raw_log		 log;
	struct raw_supervisor	 supervisor;
	struct raw_webchat	 webchat;
	struct raw_sandbox	 sandbox;
	struct raw_policy	 policy;
	struct raw_agent	*agents;
	unsigned		 agents_count;
	struct raw_channel	*channels;
	unsigned		 channels_count;
	struct raw_sched_limits	 schedule;
	struct raw_schedule	*schedules;
	unsigned		 schedules_count;
	struct raw_media	 media;
	struct raw_metrics	 metrics;
	struct raw_console	 console;
	struct raw_bind		 bind;
	struct raw_template	*bind_templates;
	unsigned		 bind_templates_count;
};

/*
 * One number: where libcyaml put it, where it goes, and its bounds.
 * A table ends with a row whose name is NULL, so that one file can
 * hand its table to another without a count beside it.
 */
struct cfg_num {
	const char	*name;
	size_t		 raw;	/* offset of its uint32_t * */
	size_t		 out;		/* offset of the uint32_t */
	uint32_t	 def;
	uint32_t	 min;
	uint32_t	 max;
};

/* One load in progress: the text and where errors go. */
struct cfg_ctx {
	const char	*path;
	const char	*text;
	size_t		 len;
	char		*err;
	size_t		 errlen;
	int		 flags;		/* CFG_F_* */
};

/* config.c */
extern const struct cfg_num *const cfg_top_nums[];
void		 cfg_error(struct cfg_ctx *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 cfg_error_at(struct cfg_ctx *, int, const char *,
		    const char *, ...)
		    __attribute__((format(printf, 4, 5)));
int		 cfg_numbers(struct cfg_ctx *, const struct cfg_num *,
		    const void *, void *, const char *);
char		*cfg_dumps(json_t *);

/* config_yaml.c */
int		 cfg_yaml_lint(struct cfg_ctx *);
int		 cfg_yaml_parse(struct cfg_ctx *, struct raw_config **);
void		 cfg_yaml_free(struct raw_config *);
int		 cfg_yaml_locate(struct cfg_ctx *, const char *);

/* config_webchat.c */
extern const struct cfg_num cfg_webchat_nums[];
int		 cfg_webchat_sizes(struct cfg_ctx *,
		    const struct cfg_webchat *);
int		 cfg_webchat_build(struct cfg_ctx *, const struct raw_webchat *,
		    struct cfg_webchat *);
void		 cfg_webchat_free(struct cfg_webchat *);

/* config_agent.c */
extern const struct cfg_num cfg_agent_nums[];
extern const struct cfg_num cfg_channel_nums[];
int		 cfg_agent_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
void		 cfg_agent_free(struct cfg_agent *);

/* config_channel.c */
int		 cfg_channel_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
void		 cfg_channel_free(struct cfg_channel *);
/* config_webhook.c: a wecom_webhook account's settings. */
int		 cfg_channel_webhook(struct cfg_ctx *, const struct raw_webhook *,
		    const char *, struct cfg_channel *);
void		 cfg_channel_webhook_free(struct cfg_channel *);
/* config_callback.c: a wechat_mp or wecom_app account's settings. */
int		 cfg_channel_callback(struct cfg_ctx *, const struct raw_channel *,
		    const char *, struct cfg_channel *);
int		 cfg_callback_listens(struct cfg_ctx *, const struct config *);
void		 cfg_channel_callback_free(struct cfg_channel *);
/* config_webchat.c: "IPv4:port" or "[IPv6]:port". */
int		 cfg_check_listen(const char *);
int		 cfg_store_is_uri(const char *);
int		 cfg_node_name(struct cfg_ctx *, const char *field,
		    const char *name);
int		 cfg_store_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
extern const struct cfg_num cfg_cluster_nums[];
int		 cfg_metrics_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
int		 cfg_metrics_loopback(const char *);
int		 cfg_console_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
void		 cfg_console_free(struct cfg_console *);
/* config_relay.c */
int		 cfg_agent_relay(struct cfg_ctx *, const struct raw_agent *,
		    const char *prefix, struct cfg_agent *);
int		 cfg_relay_listens(struct cfg_ctx *, const struct config *);

/* config_policy.c */
extern const struct cfg_num cfg_policy_nums[];
int		 cfg_policy_build(struct cfg_ctx *, const struct raw_policy *,
		    struct cfg_policy *);
int		 cfg_policy_rate(struct cfg_ctx *, const char *, const char *,
		    const char *, struct cfg_rate *);

/*
 * config_schedule.c: built after the channels, which targets name.
 * CFG_SCHEDULES_MAX is schedule.schedules_max's ceiling and the
 * schema's bound on the list.
 */
#define CFG_SCHEDULES_MAX	10000
extern const struct cfg_num cfg_schedule_nums[];
extern const struct cfg_num cfg_media_nums[];
int		 cfg_schedule_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
void		 cfg_schedule_free(struct config *);

/* config_bind.c: bind: and bind_templates:, after the agents. */
#define CFG_TEMPLATES_MAX	32
extern const struct cfg_num cfg_bind_nums[];
extern const struct cfg_num cfg_template_nums[];
int		 cfg_bind_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
void		 cfg_bind_free(struct config *);
int		 cfg_channel_one(struct cfg_ctx *, const struct raw_channel *,
		    const char *, struct cfg_channel *);

/* config_check.c */
int		 cfg_check_name(const char *);
int		 cfg_check_url(const char *, int);
int		 cfg_check_word(struct cfg_ctx *, const char *field,
		    const char *what, const char *, const char *const *,
		    size_t);
void		 cfg_check_known(char *, size_t, const char *const *, size_t);

/* config_secret.c */
int		 cfg_secret_read(struct cfg_ctx *, const char *, const char *,
		    char **);
int		 cfg_secret_ok(const char *);
int		 cfg_secret_bytes(struct cfg_ctx *, const char *, const char *,
		    char **, size_t *);
int		 cfg_public_read(struct cfg_ctx *, const char *, const char *,
		    size_t, char **, size_t *);
int		 cfg_exec_check(struct cfg_ctx *, const char *, const char *);

/* config_tls.c */
int		 cfg_tls_pair(const char *, size_t, const char *, size_t,
		    char *, size_t);

#endif
