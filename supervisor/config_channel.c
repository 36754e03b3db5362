/*
 * The channels: slice of the configuration, see wxgate.yaml(5): one
 * platform account per entry, with its type's settings (wechat,
 * wecom_bot; wecom_webhook and the callbacks in files of their own).  The
 * types and their text limits are the channel rows of kinds.c.
 *
 * Called by cfg_build() in config.c, and by the supervisor for
 * config_slice_channel() when it spawns a channel worker.  A token is
 * read here and leaves the supervisor only in its own account's slice.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "log.h"
#include "xmalloc.h"

#define CHN(f, o) offsetof(struct raw_channel, f), \
		offsetof(struct cfg_channel, o)

/* Inside each channels[] entry. */
const struct cfg_num cfg_channel_nums[] = {
	/* First: its default and maximum are the type's (kinds.c). */
	{ "text_chunk_limit",	CHN(text_chunk_limit, text_chunk_limit),
	    0, 100, 0 },
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
	/* stream_mode block: the host's coalescing is 200 (7.1). */
	{ "wechat.block_min_chars", CHN(wechat.block_min_chars,
	    block_min_chars),
	    200, 1, 4000 },
	/* B.6: 20 a minute; a shorter window is for tests. */
	{ "wecom_webhook.rate_max", CHN(wecom_webhook.rate_max,
	    hook_rate_max),
	    20, 1, 1000 },
	{ "wecom_webhook.rate_window_s", CHN(wecom_webhook.rate_window_s,
	    hook_rate_window_s),
	    60, 1, 3600 },
	{ "wecom_webhook.timeout_s", CHN(wecom_webhook.timeout_s,
	    hook_timeout_s),
	    15, 1, 600 },
	/*
	 * WeCom acks a stream frame in 0.24-0.46 s (protocols/wecom.md
	 * A.6 #3): faster refreshes only queue; a bubble refreshed less
	 * than every 4 min may expire (A.6 #5).
	 */
	{ "wecom_bot.stream_interval_ms", CHN(wecom_bot.stream_interval_ms,
	    stream_interval_ms),
	    500, 100, 240000 },
	/* 30 s is the SDK's (A.9); shorter only for tests. */
	{ "wecom_bot.heartbeat_ms", CHN(wecom_bot.heartbeat_ms,
	    heartbeat_ms),
	    30000, 500, 120000 },
	/* The SDK releases the next frame of a req_id after 5 s (A.3). */
	{ "wecom_bot.ack_timeout_ms", CHN(wecom_bot.ack_timeout_ms,
	    ack_timeout_ms),
	    5000, 200, 60000 },
	{ NULL,			0, 0, 0, 0, 0 },
};

#define CHN_NUMS	(sizeof(cfg_channel_nums) / sizeof(cfg_channel_nums[0]))
#define CHN_TYPES_MAX	16	/* channel kinds an error message names */
/* In enum dm_policy order (policy/dm.h). */
static const char *const cfg_dm_policies[] = {
	"pairing", "allowlist", "open", "disabled"
};
/* In enum group_policy order. */
static const char *const cfg_group_policies[] = {
	"disabled", "allowlist", "open"
};
/* wechat.stream_mode: the answer at the end, or by paragraphs. */
static const char *const cfg_stream_modes[] = { "off", "block" };

static const struct kind_caps *cfg_channel_type(struct cfg_ctx *,
		    const char *, const char *);
static int	 cfg_channel_wechat(struct cfg_ctx *, const struct raw_wechat *,
		    const char *, struct cfg_channel *);
static int	 cfg_channel_wecom_bot(struct cfg_ctx *,
		    const struct raw_wecom_bot *, const char *,
		    struct cfg_channel *);
static int	 cfg_ws_url(const char *);
static int	 cfg_channel_mention_free(struct cfg_ctx *,
		    const struct raw_channel *, const char *,
		    struct cfg_channel *);

/* node: the one node of a cluster that may run the account. */
static int
cfg_channel_pin(struct cfg_ctx *ctx, const struct raw_channel *rc,
    const char *prefix, const struct config *conf, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];

	if (rc->node == NULL)
		return 0;
	snprintf(field, sizeof(field), "%snode", prefix);
	if (!conf->store_pg) {
		cfg_error(ctx, field, "a pin to a node needs a postgresql:// "
		    "store");
		return -1;
	}
	if (cfg_node_name(ctx, field, rc->node) == -1)
		return -1;
	c->node = xstrdup(rc->node);
	return 0;
}

/* After the agents, which each channel's agent must name. */
int
cfg_channel_build(struct cfg_ctx *ctx, const struct raw_config *raw,
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
		if (cfg_channel_one(ctx, &raw->channels[i], prefix,
		    &conf->channels[i]) == -1)
			return -1;
		if (cfg_channel_pin(ctx, &raw->channels[i], prefix, conf,
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
	return cfg_callback_listens(ctx, conf);
}

/* A list of ids (allow_from, groups), copied, counted as it grows. */
static void
cfg_channel_list(char *const *in, unsigned n, char ***out, unsigned *count)
{
	unsigned i;

	if (n > 0)
		*out = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++) {
		(*out)[i] = xstrdup(in[i]);
		*count = i + 1;
	}
}

int
cfg_channel_one(struct cfg_ctx *ctx, const struct raw_channel *rc,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];
	struct cfg_num nums[CHN_NUMS];
	const struct kind_caps *caps;
	int v;

	snprintf(field, sizeof(field), "%sname", prefix);
	if (rc->name == NULL || cfg_check_name(rc->name) == -1) {
		cfg_error(ctx, field, "must be 1..%d characters of a-z, 0-9, "
		    "_ and -", CFG_NAME_MAX);
		return -1;
	}
	c->name = xstrdup(rc->name);
	c->type = xstrdup(rc->type != NULL ? rc->type : "");
	if ((caps = cfg_channel_type(ctx, prefix, c->type)) == NULL)
		return -1;
	c->agent = xstrdup(rc->agent != NULL ? rc->agent : CFG_DEFAULT_AGENT);
	snprintf(field, sizeof(field), "%sdm_policy", prefix);
	if ((v = cfg_check_word(ctx, field, "policy", rc->dm_policy != NULL ?
	    rc->dm_policy : "pairing", cfg_dm_policies,
	    NITEMS(cfg_dm_policies))) == -1)
		return -1;
	c->dm_policy = (enum dm_policy)v;
	cfg_channel_list(rc->allow_from, rc->allow_from_count, &c->allow_from,
	    &c->allow_from_count);
	/* Off unless asked: a bot added to a stranger's group stays mute. */
	snprintf(field, sizeof(field), "%sgroup_policy", prefix);
	if ((v = cfg_check_word(ctx, field, "policy", rc->group_policy !=
	    NULL ? rc->group_policy : "disabled", cfg_group_policies,
	    NITEMS(cfg_group_policies))) == -1)
		return -1;
	c->group_policy = (enum group_policy)v;
	c->group_mention = rc->require_mention != NULL ?
	    *rc->require_mention : 1;
	cfg_channel_list(rc->groups, rc->groups_count, &c->groups,
	    &c->groups_count);
	if (cfg_channel_mention_free(ctx, rc, prefix, c) == -1)
		return -1;
	/* One platform message holds so much: the chunk is at most that. */
	memcpy(nums, cfg_channel_nums, sizeof(nums));
	nums[0].def = caps->text_chunk;
	nums[0].max = caps->text_max;
	if (cfg_numbers(ctx, nums, rc, c, prefix) == -1)
		return -1;
	snprintf(field, sizeof(field), "%sratelimit.peer.rate", prefix);
	if (cfg_policy_rate(ctx, field, rc->ratelimit.peer.rate, "10/min",
	    &c->peer_rate) == -1)
		return -1;
	snprintf(field, sizeof(field), "%sratelimit.account.rate", prefix);
	if (cfg_policy_rate(ctx, field, rc->ratelimit.account.rate, "60/min",
	    &c->account_rate) == -1)
		return -1;
	if (cfg_channel_wechat(ctx, &rc->wechat, prefix, c) == -1 ||
	    cfg_channel_webhook(ctx, &rc->wecom_webhook, prefix, c) == -1 ||
	    cfg_channel_callback(ctx, rc, prefix, c) == -1)
		return -1;
	return cfg_channel_wecom_bot(ctx, &rc->wecom_bot, prefix, c);
}

/* Would group_policy and groups let chat in (policy/dm.c's rule)? */
static int
cfg_channel_group_ok(const struct cfg_channel *c, const char *chat)
{
	unsigned i;

	if (c->group_policy == GROUP_POLICY_OPEN)
		return 1;
	if (c->group_policy == GROUP_POLICY_DISABLED)
		return 0;
	for (i = 0; i < c->groups_count; i++)
		if (strcmp(c->groups[i], "*") == 0 ||
		    strcmp(c->groups[i], chat) == 0)
			return 1;
	return 0;
}

/*
 * groups_without_mention: chats where every message is answered though
 * require_mention holds for the others.  Each must be a chat the
 * policy lets in; a name that could never match (a typo, "*", a chat
 * the policy shuts out, a list while require_mention is off) is an
 * error, not a silent no-op.  Length and count are the schema's.
 */
static int
cfg_channel_mention_free(struct cfg_ctx *ctx, const struct raw_channel *rc,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];
	const char *id, *p;
	unsigned i, j;

	if (rc->groups_without_mention_count > 0 && !c->group_mention) {
		snprintf(field, sizeof(field), "%sgroups_without_mention",
		    prefix);
		cfg_error(ctx, field, "has no effect while require_mention "
		    "is false");
		return -1;
	}
	for (i = 0; i < rc->groups_without_mention_count; i++) {
		id = rc->groups_without_mention[i];
		snprintf(field, sizeof(field), "%sgroups_without_mention[%u]",
		    prefix, i);
		for (p = id; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				break;
		if (*id == '\0' || *p != '\0' || strcmp(id, "*") == 0) {
			cfg_error(ctx, field, "must be one chat id (no "
			    "spaces or control characters; for every group "
			    "set require_mention: false)");
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(rc->groups_without_mention[j], id) == 0) {
				cfg_error(ctx, field, "\"%s\" is listed twice "
				    "(also [%u])", id, j);
				return -1;
			}
		if (!cfg_channel_group_ok(c, id)) {
			cfg_error(ctx, field, "\"%s\" is not a group that "
			    "group_policy and groups allow", id);
			return -1;
		}
	}
	cfg_channel_list(rc->groups_without_mention,
	    rc->groups_without_mention_count, &c->mention_free,
	    &c->mention_free_count);
	return 0;
}

/*
 * Must a group message in chat (len bytes, not NUL-terminated) name
 * the bot to be answered?  chan_inbound() asks, for every kind.
 */
int
config_group_mention(const struct cfg_channel *c, const char *chat,
    size_t len)
{
	unsigned i;

	if (!c->group_mention)
		return 0;
	for (i = 0; i < c->mention_free_count; i++)
		if (strlen(c->mention_free[i]) == len &&
		    memcmp(c->mention_free[i], chat, len) == 0)
			return 0;
	return 1;
}

/* The type's capabilities, or an error naming the known types. */
static const struct kind_caps *
cfg_channel_type(struct cfg_ctx *ctx, const char *prefix, const char *type)
{
	const char *names[CHN_TYPES_MAX];
	char field[CFG_KEYPATH_MAX], known[128];
	const struct kind_caps *caps;
	const struct kind *k;
	size_t i, nk, n = 0;

	if ((caps = kinds_caps(type)) != NULL)
		return caps;
	k = kinds_all(&nk);
	for (i = 0; i < nk && n < CHN_TYPES_MAX; i++)
		if (k[i].role == ROLE_CHANNEL)
			names[n++] = k[i].name;
	cfg_check_known(known, sizeof(known), names, n);
	snprintf(field, sizeof(field), "%stype", prefix);
	cfg_error(ctx, field, "unknown channel type \"%s\" (known: %s)", type,
	    known);
	return NULL;
}

static int
cfg_channel_wechat(struct cfg_ctx *ctx, const struct raw_wechat *rw,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];
	int v;

	snprintf(field, sizeof(field), "%swechat.stream_mode", prefix);
	if ((v = cfg_check_word(ctx, field, "mode", rw->stream_mode != NULL ?
	    rw->stream_mode : "off", cfg_stream_modes,
	    NITEMS(cfg_stream_modes))) == -1)
		return -1;
	c->stream_block = v == 1 && strcmp(c->type, "wechat") == 0;
	c->login_url = xstrdup(rw->login_url != NULL ? rw->login_url :
	    "https://ilinkai.weixin.qq.com");
	c->base_url = xstrdup(rw->base_url != NULL ? rw->base_url : "");
	c->cdn_url = xstrdup(rw->cdn_url != NULL ? rw->cdn_url :
	    "https://novac2c.cdn.weixin.qq.com/c2c");
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
	/* The media keys come with the URLs: no clear text either. */
	snprintf(field, sizeof(field), "%swechat.cdn_url", prefix);
	if (cfg_check_url(c->cdn_url, 1) == -1) {
		cfg_error(ctx, field, "must be an https:// URL (http:// only "
		    "to this host)");
		return -1;
	}
	if (rw->token_file != NULL && !(ctx->flags & CFG_F_HUB)) {
		snprintf(field, sizeof(field), "%swechat.token_file", prefix);
		if (cfg_secret_read(ctx, field, rw->token_file,
		    &c->token) == -1)
			return -1;
	}
	return 0;
}

/*
 * A ws(s) URL is checked as the http(s) URL it upgrades: wss, or ws to
 * this host only (the tests' fake), since the secret crosses it.
 */
static int
cfg_ws_url(const char *u)
{
	char buf[1100];

	if (strncmp(u, "wss://", 6) == 0)
		snprintf(buf, sizeof(buf), "https://%s", u + 6);
	else if (strncmp(u, "ws://", 5) == 0)
		snprintf(buf, sizeof(buf), "http://%s", u + 5);
	else
		return -1;
	return cfg_check_url(buf, 1);
}

/*
 * The WeCom AI bot (protocols/wecom.md Part A): its BotID and Secret
 * from the admin console.  The secret is read by the parent only, as
 * the wechat token is, from a file or the environment.
 */
static int
cfg_channel_wecom_bot(struct cfg_ctx *ctx, const struct raw_wecom_bot *rw,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];
	const char *v;

	c->ws_url = xstrdup(rw->url != NULL ? rw->url :
	    "wss://openws.work.weixin.qq.com");
	c->bot_id = xstrdup(rw->bot_id != NULL ? rw->bot_id : "");
	c->bot_name = xstrdup(rw->bot_name != NULL ? rw->bot_name : "");
	c->welcome = xstrdup(rw->welcome != NULL ? rw->welcome : "");
	if (strcmp(c->type, "wecom_bot") != 0)
		return 0;
	snprintf(field, sizeof(field), "%swecom_bot.url", prefix);
	if (cfg_ws_url(c->ws_url) == -1) {
		cfg_error(ctx, field, "must be a wss:// URL (ws:// only to "
		    "this host)");
		return -1;
	}
	snprintf(field, sizeof(field), "%swecom_bot.bot_id", prefix);
	if (c->bot_id[0] == '\0' || !cfg_secret_ok(c->bot_id)) {
		cfg_error(ctx, field, "the BotID from the admin console is "
		    "required (printable ASCII, no spaces)");
		return -1;
	}
	snprintf(field, sizeof(field), "%swecom_bot.secret_env", prefix);
	if ((rw->secret_file != NULL) == (rw->secret_env != NULL)) {
		cfg_error(ctx, field, "give secret_file or secret_env, one "
		    "of them");
		return -1;
	}
	if (ctx->flags & CFG_F_HUB) {
		/* Named, not read: the secret is for the worker only. */
	} else if (rw->secret_file != NULL) {
		snprintf(field, sizeof(field), "%swecom_bot.secret_file",
		    prefix);
		if (cfg_secret_read(ctx, field, rw->secret_file,
		    &c->secret) == -1)
			return -1;
	} else {
		if ((v = getenv(rw->secret_env)) == NULL || *v == '\0') {
			cfg_error(ctx, field, "environment variable %s is "
			    "not set", rw->secret_env);
			return -1;
		}
		if (strlen(v) > CFG_KEY_MAX || !cfg_secret_ok(v)) {
			cfg_error(ctx, field, "%s does not hold a secret "
			    "(printable ASCII, no spaces)", rw->secret_env);
			return -1;
		}
		c->secret = xstrdup(v);
	}
	return 0;
}

void
cfg_channel_free(struct cfg_channel *c)
{
	unsigned i;

	free(c->name);
	free(c->type);
	free(c->agent);
	free(c->node);
	for (i = 0; i < c->allow_from_count; i++)
		free(c->allow_from[i]);
	free(c->allow_from);
	for (i = 0; i < c->groups_count; i++)
		free(c->groups[i]);
	free(c->groups);
	for (i = 0; i < c->mention_free_count; i++)
		free(c->mention_free[i]);
	free(c->mention_free);
	free(c->login_url);
	free(c->base_url);
	free(c->cdn_url);
	free(c->bot_agent);
	xfree_secret(c->token);
	cfg_channel_webhook_free(c);
	cfg_channel_callback_free(c);
	free(c->ws_url);
	free(c->bot_id);
	free(c->bot_name);
	free(c->welcome);
	xfree_secret(c->secret);
}

/*
 * A channel worker's slice: how to reach its platform and its token.
 * Who may talk to it, rates and the agent stay with the supervisor.
 */
char *
config_slice_channel(const struct config *conf, const struct cfg_channel *c)
{
	json_t *o;

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
	json_object_set_new(o, "cdn_url", json_string(c->cdn_url));
	/* What the worker may download for one message, at most. */
	json_object_set_new(o, "media_max_bytes",
	    json_integer(config_media_max(conf)));
	if (strcmp(c->type, "wecom_bot") == 0 &&
	    json_object_set_new(o, "wecom_bot", json_pack(
	    "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s?}",
	    "url", c->ws_url, "bot_id", c->bot_id, "bot_name", c->bot_name,
	    "welcome", c->welcome,
	    "stream_interval_ms", (json_int_t)c->stream_interval_ms,
	    "heartbeat_ms", (json_int_t)c->heartbeat_ms,
	    "ack_timeout_ms", (json_int_t)c->ack_timeout_ms,
	    "secret", c->secret)) == -1)
		fatalx("%s: json_pack failed", __func__);
	return cfg_dumps(o);
}
