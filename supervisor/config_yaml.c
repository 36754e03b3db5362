/*
 * Reading etc/wxgate.yaml into the raw_* structs of config_int.h.
 *
 * Called by config_load() only, and by the builders for the line of a
 * key.  It checks shape and spelling, never values: what a number may
 * be is for the slice files, which refuse through cfg_error().
 *
 * libcyaml checks the shape (types, unknown and repeated keys) against
 * the schema below.  libcyaml reports problems only through its log
 * callback, so that callback keeps the message and the backtrace, and a
 * second pass over the text with libyaml finds the line of a key.  The
 * same pass, run first, lints what libcyaml reads too loosely.
 */

#include <sys/stat.h>

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
#include <yaml.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "log.h"
#include "xmalloc.h"

/* A config file is a page of text; anything bigger is a mistake. */
#define CFG_FILE_MAX		(1024 * 1024)
/* Paths in the file; the control socket has a tighter limit in config.c. */
#define CFG_PATH_MAX		1024
/*
 * Schema cap for short words (names, types, levels); generous so that
 * the slice files' checks, not libcyaml, explain what is wrong.
 */
#define CFG_WORD_MAX		255
/* Key paths nest three deep; deeper input is not ours to locate. */
#define CFG_DEPTH_MAX		16
/* A system prompt is a page or two; more belongs in the agent. */
#define CFG_PROMPT_MAX		16384
#define CFG_URL_MAX		1024
#define CFG_HEADER_MAX		1024
#define CFG_ARG_MAX		1024
/*
 * A schedule's strings are bounded by schedule_check(), which says
 * what is wrong in its own words; the schema only keeps a limit.
 */
#define CFG_SCHED_STR_MAX	1024
/* A schedule's targets in the file, where the check allows 16. */
#define CFG_SCHED_TO_MAX	1024

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

/*
 * The page's texts: generous caps, so that config_webchat.c's checks say
 * what the limit is; suggestions likewise past the 4 it allows.
 */
#define CFG_PAGE_STR_MAX	4096
#define CFG_PAGE_LIST_MAX	64

static const cyaml_schema_value_t page_text_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CFG_PAGE_STR_MAX),
};

static const cyaml_schema_field_t page_fields[] = {
	STR("title", struct raw_page, title, CFG_PAGE_STR_MAX),
	STR("agent_name", struct raw_page, agent_name, CFG_PAGE_STR_MAX),
	STR("welcome", struct raw_page, welcome, CFG_PAGE_STR_MAX),
	CYAML_FIELD_SEQUENCE("suggestions", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_page, suggestions,
	    &page_text_entry, 0, CFG_PAGE_LIST_MAX),
	STR("accent", struct raw_page, accent, CFG_PAGE_STR_MAX),
	STR("footer", struct raw_page, footer, CFG_PAGE_STR_MAX),
	STR("lang", struct raw_page, lang, CFG_PAGE_STR_MAX),
	STR("avatar", struct raw_page, avatar, CFG_PATH_MAX),
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
	CYAML_FIELD_MAPPING("page", CYAML_FLAG_OPTIONAL, struct raw_webchat,
	    page, page_fields),
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

static const cyaml_schema_field_t commands_fields[] = {
	CYAML_FIELD_SEQUENCE("webchat", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_commands, webchat, &method_entry,
	    0, CFG_METHODS_MAX),
	CYAML_FIELD_SEQUENCE("channel", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_commands, channel, &method_entry,
	    0, CFG_METHODS_MAX),
	CYAML_FIELD_SEQUENCE("console", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_commands, console, &method_entry,
	    0, CFG_METHODS_MAX),
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
	CYAML_FIELD_MAPPING("commands", CYAML_FLAG_OPTIONAL,
	    struct raw_policy, commands, commands_fields),
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
	STR("hub_user", struct raw_sandbox, hub_user, CFG_WORD_MAX),
	STR("hub_group", struct raw_sandbox, hub_group, CFG_WORD_MAX),
	CYAML_FIELD_BOOL("strict", CYAML_FLAG_OPTIONAL, struct raw_sandbox,
	    strict),
	/* A string, checked as a boolean below: absent means true. */
	STR("zygote", struct raw_sandbox, zygote, CFG_WORD_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t echo_fields[] = {
	NUM("chunks", struct raw_echo, chunks),
	NUM("delay_ms", struct raw_echo, delay_ms),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t word_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, CFG_WORD_MAX),
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
	CYAML_FIELD_BOOL_PTR("vision", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_openai, vision),
	CYAML_FIELD_SEQUENCE("models", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_openai, models, &word_entry, 1,
	    CFG_MODELS_MAX),
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

static const cyaml_schema_field_t relay_fields[] = {
	STR("listen", struct raw_relay, listen, CFG_LISTEN_MAX),
	CYAML_FIELD_BOOL("e2e", CYAML_FLAG_OPTIONAL, struct raw_relay, e2e),
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
	CYAML_FIELD_MAPPING("relay", CYAML_FLAG_OPTIONAL, struct raw_agent,
	    relay, relay_fields),
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
	STR("cdn_url", struct raw_wechat, cdn_url, CFG_URL_MAX),
	STR("bot_agent", struct raw_wechat, bot_agent, CFG_WORD_MAX),
	STR("token_file", struct raw_wechat, token_file, CFG_PATH_MAX),
	NUM("poll_timeout_ms", struct raw_wechat, poll_timeout_ms),
	NUM("send_gap_ms", struct raw_wechat, send_gap_ms),
	NUM("timeout_s", struct raw_wechat, timeout_s),
	STR("stream_mode", struct raw_wechat, stream_mode, CFG_WORD_MAX),
	NUM("block_min_chars", struct raw_wechat, block_min_chars),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t webhook_fields[] = {
	STR("url", struct raw_webhook, url, CFG_URL_MAX),
	STR("key_file", struct raw_webhook, key_file, CFG_PATH_MAX),
	STR("msgtype", struct raw_webhook, msgtype, CFG_WORD_MAX),
	NUM("rate_max", struct raw_webhook, rate_max),
	NUM("rate_window_s", struct raw_webhook, rate_window_s),
	NUM("timeout_s", struct raw_webhook, timeout_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t wecom_bot_fields[] = {
	STR("url", struct raw_wecom_bot, url, CFG_URL_MAX),
	STR("bot_id", struct raw_wecom_bot, bot_id, CFG_WORD_MAX),
	STR("bot_name", struct raw_wecom_bot, bot_name, CFG_WORD_MAX),
	/* One WeCom message: 20480 bytes (protocols/wecom.md A.10). */
	STR("welcome", struct raw_wecom_bot, welcome, 20480),
	STR("secret_file", struct raw_wecom_bot, secret_file, CFG_PATH_MAX),
	STR("secret_env", struct raw_wecom_bot, secret_env, CFG_WORD_MAX),
	NUM("stream_interval_ms", struct raw_wecom_bot, stream_interval_ms),
	NUM("heartbeat_ms", struct raw_wecom_bot, heartbeat_ms),
	NUM("ack_timeout_ms", struct raw_wecom_bot, ack_timeout_ms),
	CYAML_FIELD_END
};

/* C.1: an Official Account's callback (config_callback.c). */
static const cyaml_schema_field_t wechat_mp_fields[] = {
	STR("app_id", struct raw_callback, app_id, CFG_WORD_MAX),
	STR("token_file", struct raw_callback, token_file, CFG_PATH_MAX),
	STR("encoding_aes_key_file", struct raw_callback,
	    encoding_aes_key_file, CFG_PATH_MAX),
	STR("secret_file", struct raw_callback, secret_file, CFG_PATH_MAX),
	STR("listen", struct raw_callback, listen, CFG_LISTEN_MAX),
	STR("api_url", struct raw_callback, api_url, CFG_URL_MAX),
	STR("mode", struct raw_callback, mode, CFG_WORD_MAX),
	/* One passive reply: 2048 bytes is what gateways send (D.4). */
	STR("welcome", struct raw_callback, welcome, 2048),
	NUM("reply_budget_ms", struct raw_callback, reply_budget_ms),
	NUM("body_max", struct raw_callback, body_max),
	NUM("timeout_s", struct raw_callback, timeout_s),
	CYAML_FIELD_END
};

/* C.1: a WeCom self-built app's callback. */
static const cyaml_schema_field_t wecom_app_fields[] = {
	STR("corp_id", struct raw_callback, corp_id, CFG_WORD_MAX),
	NUM("agent_id", struct raw_callback, agent_id),
	STR("token_file", struct raw_callback, token_file, CFG_PATH_MAX),
	STR("encoding_aes_key_file", struct raw_callback,
	    encoding_aes_key_file, CFG_PATH_MAX),
	STR("secret_file", struct raw_callback, secret_file, CFG_PATH_MAX),
	STR("listen", struct raw_callback, listen, CFG_LISTEN_MAX),
	STR("api_url", struct raw_callback, api_url, CFG_URL_MAX),
	STR("welcome", struct raw_callback, welcome, 2048),
	NUM("reply_budget_ms", struct raw_callback, reply_budget_ms),
	NUM("body_max", struct raw_callback, body_max),
	NUM("timeout_s", struct raw_callback, timeout_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t channel_fields[] = {
	STR("name", struct raw_channel, name, CFG_WORD_MAX),
	STR("type", struct raw_channel, type, CFG_WORD_MAX),
	STR("agent", struct raw_channel, agent, CFG_WORD_MAX),
	STR("node", struct raw_channel, node, CFG_WORD_MAX),
	STR("dm_policy", struct raw_channel, dm_policy, CFG_WORD_MAX),
	CYAML_FIELD_SEQUENCE("allow_from", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_channel, allow_from, &peer_entry,
	    0, CFG_ALLOW_MAX),
	STR("group_policy", struct raw_channel, group_policy, CFG_WORD_MAX),
	CYAML_FIELD_SEQUENCE("groups", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_channel, groups, &peer_entry,
	    0, CFG_ALLOW_MAX),
	CYAML_FIELD_BOOL_PTR("require_mention", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_channel, require_mention),
	CYAML_FIELD_SEQUENCE("groups_without_mention", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_channel, groups_without_mention,
	    &peer_entry, 0, CFG_ALLOW_MAX),
	NUM("text_chunk_limit", struct raw_channel, text_chunk_limit),
	NUM("history_limit", struct raw_channel, history_limit),
	NUM("pairing_ttl_s", struct raw_channel, pairing_ttl_s),
	NUM("deadline_s", struct raw_channel, deadline_s),
	NUM("backlog_max", struct raw_channel, backlog_max),
	CYAML_FIELD_MAPPING("ratelimit", CYAML_FLAG_OPTIONAL,
	    struct raw_channel, ratelimit, chan_limits_fields),
	CYAML_FIELD_MAPPING("wechat", CYAML_FLAG_OPTIONAL, struct raw_channel,
	    wechat, wechat_fields),
	CYAML_FIELD_MAPPING("wecom_webhook", CYAML_FLAG_OPTIONAL,
	    struct raw_channel, wecom_webhook, webhook_fields),
	CYAML_FIELD_MAPPING("wecom_bot", CYAML_FLAG_OPTIONAL,
	    struct raw_channel, wecom_bot, wecom_bot_fields),
	CYAML_FIELD_MAPPING("wechat_mp", CYAML_FLAG_OPTIONAL,
	    struct raw_channel, wechat_mp, wechat_mp_fields),
	CYAML_FIELD_MAPPING("wecom_app", CYAML_FLAG_OPTIONAL,
	    struct raw_channel, wecom_app, wecom_app_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t channel_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_channel,
	    channel_fields),
};

static const cyaml_schema_field_t metrics_fields[] = {
	STR("listen", struct raw_metrics, listen, CFG_LISTEN_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t operator_fields[] = {
	STR("name", struct raw_operator, name, CFG_WORD_MAX),
	STR("scope", struct raw_operator, scope, CFG_WORD_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t operator_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_operator,
	    operator_fields),
};

static const cyaml_schema_field_t console_fields[] = {
	STR("listen", struct raw_console, listen, CFG_LISTEN_MAX),
	STR("public_url", struct raw_console, public_url, CFG_URL_MAX),
	STR("tls_cert", struct raw_console, tls_cert, CFG_PATH_MAX),
	STR("tls_key", struct raw_console, tls_key, CFG_PATH_MAX),
	CYAML_FIELD_SEQUENCE("operators", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_console, operators,
	    &operator_schema, 0, CFG_OPERATORS_MAX),
	NUM("idle_timeout_s", struct raw_console, idle_timeout_s),
	NUM("session_max_s", struct raw_console, session_max_s),
	NUM("link_ttl_s", struct raw_console, link_ttl_s),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t bind_fields[] = {
	NUM("pending_max", struct raw_bind, pending_max),
	NUM("ttl_min_s", struct raw_bind, ttl_min_s),
	NUM("login_timeout_s", struct raw_bind, login_timeout_s),
	CYAML_FIELD_END
};

/*
 * A template is a wechat channel entry without type, token or group
 * settings (a bound bot is one person's), and its account cap.
 */
#define TPL(k, m)	STR(k, struct raw_template, ch.m, CFG_WORD_MAX)
#define TPLN(k, m)	NUM(k, struct raw_template, ch.m)
static const cyaml_schema_field_t template_fields[] = {
	TPL("name", name),
	TPL("agent", agent),
	TPL("dm_policy", dm_policy),
	CYAML_FIELD_SEQUENCE("allow_from", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_template, ch.allow_from,
	    &peer_entry, 0, CFG_ALLOW_MAX),
	TPLN("text_chunk_limit", text_chunk_limit),
	TPLN("history_limit", history_limit),
	TPLN("pairing_ttl_s", pairing_ttl_s),
	TPLN("deadline_s", deadline_s),
	TPLN("backlog_max", backlog_max),
	CYAML_FIELD_MAPPING("ratelimit", CYAML_FLAG_OPTIONAL,
	    struct raw_template, ch.ratelimit, chan_limits_fields),
	CYAML_FIELD_MAPPING("wechat", CYAML_FLAG_OPTIONAL,
	    struct raw_template, ch.wechat, wechat_fields),
	NUM("max_accounts", struct raw_template, max_accounts),
	CYAML_FIELD_END
};
#undef TPL
#undef TPLN

static const cyaml_schema_value_t template_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_template,
	    template_fields),
};

static const cyaml_schema_field_t media_fields[] = {
	NUM("max_bytes", struct raw_media, max_bytes),
	NUM("retention_days", struct raw_media, retention_days),
	NUM("stored_max_bytes", struct raw_media, stored_max_bytes),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t sched_limits_fields[] = {
	NUM("runs_max", struct raw_sched_limits, runs_max),
	NUM("deadline_s", struct raw_sched_limits, deadline_s),
	NUM("history_days", struct raw_sched_limits, history_days),
	NUM("history_max", struct raw_sched_limits, history_max),
	NUM("schedules_max", struct raw_sched_limits, schedules_max),
	STR("notify", struct raw_sched_limits, notify, CFG_SCHED_STR_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t target_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CFG_SCHED_STR_MAX),
};

static const cyaml_schema_field_t schedule_fields[] = {
	STR("name", struct raw_schedule, name, CFG_WORD_MAX),
	STR("cron", struct raw_schedule, cron, CFG_SCHED_STR_MAX),
	STR("every", struct raw_schedule, every, CFG_SCHED_STR_MAX),
	STR("tz", struct raw_schedule, tz, CFG_SCHED_STR_MAX),
	/* The file's own cap: the check counts what a channel carries. */
	STR("text", struct raw_schedule, text, CFG_FILE_MAX),
	STR("agent", struct raw_schedule, agent, CFG_WORD_MAX),
	STR("prompt", struct raw_schedule, prompt, CFG_FILE_MAX),
	CYAML_FIELD_SEQUENCE("to", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    struct raw_schedule, to, &target_entry, 0, CFG_SCHED_TO_MAX),
	STR("hold_until_contact", struct raw_schedule, hold_until_contact,
	    CFG_WORD_MAX),
	STR("catch_up", struct raw_schedule, catch_up, CFG_WORD_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t schedule_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_schedule,
	    schedule_fields),
};

static const cyaml_schema_field_t cluster_fields[] = {
	NUM("pool", struct raw_cluster, pool),
	NUM("lease_ttl_ms", struct raw_cluster, lease_ttl_ms),
	STR("password_file", struct raw_cluster, password_file, CFG_PATH_MAX),
	STR("password_env", struct raw_cluster, password_env, CFG_WORD_MAX),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t top_fields[] = {
	STR("state_dir", struct raw_config, state_dir, CFG_PATH_MAX),
	STR("store", struct raw_config, store, CFG_PATH_MAX),
	STR("node", struct raw_config, node, CFG_WORD_MAX),
	CYAML_FIELD_MAPPING("cluster", CYAML_FLAG_OPTIONAL, struct raw_config,
	    cluster, cluster_fields),
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
	CYAML_FIELD_MAPPING("schedule", CYAML_FLAG_OPTIONAL,
	    struct raw_config, schedule, sched_limits_fields),
	CYAML_FIELD_MAPPING("metrics", CYAML_FLAG_OPTIONAL,
	    struct raw_config, metrics, metrics_fields),
	CYAML_FIELD_MAPPING("media", CYAML_FLAG_OPTIONAL,
	    struct raw_config, media, media_fields),
	CYAML_FIELD_MAPPING("console", CYAML_FLAG_OPTIONAL,
	    struct raw_config, console, console_fields),
	CYAML_FIELD_MAPPING("bind", CYAML_FLAG_OPTIONAL,
	    struct raw_config, bind, bind_fields),
	CYAML_FIELD_SEQUENCE("bind_templates", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_config, bind_templates,
	    &template_schema, 0, CFG_TEMPLATES_MAX),
	CYAML_FIELD_SEQUENCE("schedules", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct raw_config, schedules,
	    &schedule_schema, 0, CFG_SCHEDULES_MAX),
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

static void	 cfg_yaml_setup(cyaml_config_t *, struct cyaml_report *);
static void	 cfg_cyaml_log(cyaml_log_t, void *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static void	 cfg_cyaml_error(struct cfg_ctx *, struct cyaml_report *,
		    cyaml_err_t);
static int	 cfg_walk(struct cfg_ctx *, const char *);
static int	 cfg_lint_scalar(struct cfg_ctx *, const char *, const char *,
		    int);
static int	 cfg_in_table(const struct cfg_num *, const char *);

/*
 * Syntax and number spelling, checked before libcyaml reads the file so
 * that their lines are exact.
 */
int
cfg_yaml_lint(struct cfg_ctx *ctx)
{
	return cfg_walk(ctx, NULL);
}

/*
 * The raw_config of ctx's text, NULL for an empty document; on failure
 * -1 with ctx->err set.  Free it with cfg_yaml_free().
 */
int
cfg_yaml_parse(struct cfg_ctx *ctx, struct raw_config **rawp)
{
	struct cyaml_report report;
	cyaml_config_t ycfg;
	struct raw_config *raw = NULL;
	cyaml_err_t rc;

	cfg_yaml_setup(&ycfg, &report);
	rc = cyaml_load_data((const uint8_t *)ctx->text, ctx->len, &ycfg,
	    &top_schema, (cyaml_data_t **)&raw, NULL);
	if (rc != CYAML_OK) {
		cfg_cyaml_error(ctx, &report, rc);
		cfg_yaml_free(raw);
		return -1;
	}
	*rawp = raw;
	return 0;
}

void
cfg_yaml_free(struct raw_config *raw)
{
	struct cyaml_report report;
	cyaml_config_t ycfg;

	if (raw == NULL)
		return;
	cfg_yaml_setup(&ycfg, &report);
	cyaml_free(&ycfg, &top_schema, raw, 0);
}

static void
cfg_yaml_setup(cyaml_config_t *ycfg, struct cyaml_report *report)
{
	memset(report, 0, sizeof(*report));
	memset(ycfg, 0, sizeof(*ycfg));
	ycfg->log_fn = cfg_cyaml_log;
	ycfg->log_ctx = report;
	ycfg->mem_fn = cyaml_mem;
	ycfg->log_level = CYAML_LOG_ERROR;
	/*
	 * Unknown keys stay errors: a misspelt limit must not silently
	 * fall back to its default.  Aliases buy nothing in a config and
	 * let a few lines expand into a large tree.
	 */
	ycfg->flags = CYAML_CFG_NO_ALIAS;
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

	line = keypath[0] != '\0' ? cfg_yaml_locate(ctx, keypath) :
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

/* The line (1-based) of key path want, 0 if absent. */
int
cfg_yaml_locate(struct cfg_ctx *ctx, const char *want)
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
	const struct cfg_num *table;
	const char *key = path;
	size_t i, n = strlen(v);
	int is_num = 0;

	for (i = 0; cfg_top_nums[i] != NULL; i++)
		if (cfg_in_table(cfg_top_nums[i], key))
			is_num = 1;
	/* In a list entry, the key after "agents[N]." or "channels[N]." */
	table = strncmp(path, "agents[", 7) == 0 ? cfg_agent_nums :
	    strncmp(path, "channels[", 9) == 0 ? cfg_channel_nums : NULL;
	if (strncmp(path, "bind_templates[", 15) == 0)
		table = cfg_channel_nums;
	if (table != NULL && (key = strstr(path, "].")) != NULL) {
		key += 2;
		if (cfg_in_table(table, key) ||
		    (table == cfg_channel_nums &&
		    cfg_in_table(cfg_template_nums, key)))
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
	    strcmp(path, "sandbox.zygote") == 0 ||
	    strcmp(path, "policy.sessions.anonymous") == 0 ||
	    (key != NULL && (strcmp(key, "openai.stream") == 0 ||
	    strcmp(key, "openai.vision") == 0 ||
	    strcmp(key, "require_mention") == 0))) &&
	    strcmp(v, "true") != 0 &&
	    strcmp(v, "false") != 0) {
		cfg_error_at(ctx, line, path, "\"%s\" is not true or false",
		    v);
		return -1;
	}
	return 0;
}

static int
cfg_in_table(const struct cfg_num *tab, const char *key)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(key, tab->name) == 0)
			return 1;
	return 0;
}
