/*
 * Configuration: etc/wxgate.yaml -> struct config, see wxgate.yaml(5).
 *
 * Called by the supervisor only, at start, on SIGHUP and for wxgated -n.
 * Workers never see the whole file: config_slice_*() hands each one the
 * JSON of its own part.  This file must never repair a bad value; it
 * refuses the file and says where, so the running configuration stays.
 *
 * config_yaml.c reads the text against the libcyaml schema.  Every
 * number then passes one table of { name, default, min, max }, as
 * Postfix's CONFIG_INT_TABLE, and cfg_build() hands each slice to its
 * own file (config_webchat.c, config_agent.c, config_channel.c,
 * config_policy.c, config_schedule.c) in a fixed order, so that the first error reported
 * in a file with several stays the same.  The supervisor, log and
 * sandbox keys are few and are read here.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf_file.h"
#include "config.h"
#include "config_int.h"
#include "log.h"
#include "xmalloc.h"

#define CFG_DEFAULT_STATE_DIR	"./run"
#define CFG_DEFAULT_LEVEL	"info"
#define CFG_DEFAULT_USER	"nobody"
#define CFG_DEFAULT_GROUP	"nogroup"
/* The hub gets a uid of its own: no worker may signal or trace it. */
#define CFG_DEFAULT_HUB_USER	"wxgate"
#define CFG_DEFAULT_HUB_GROUP	"wxgate"

#define SUP(f)	offsetof(struct raw_config, supervisor.f), \
		offsetof(struct config, supervisor.f)

static const struct cfg_num cfg_supervisor_nums[] = {
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
	{ NULL,				   0, 0, 0, 0, 0 }
};

/* The top level's tables, applied in this order before anything else. */
const struct cfg_num *const cfg_top_nums[] = {
	cfg_supervisor_nums,
	cfg_webchat_nums,
	cfg_policy_nums,
	cfg_schedule_nums,
	cfg_media_nums,
	cfg_bind_nums,
	cfg_cluster_nums,
	NULL
};

static const char *const cfg_log_levels[] = { "warn", "info", "debug" };

static int	 cfg_build(struct cfg_ctx *, const struct raw_config *,
		    struct config *);
static int	 cfg_supervisor(struct cfg_ctx *,
		    const struct cfg_supervisor *);
static int	 cfg_paths(struct cfg_ctx *, const struct raw_config *,
		    struct config *);

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *conf;
	char *text = NULL;
	size_t len;

	if (errlen > 0)
		err[0] = '\0';
	if (conf_file_text(path, &text, &len, err, errlen) == -1)
		return NULL;
	conf = config_parse(path, text, len, 0, err, errlen);
	free(text);
	return conf;
}

/*
 * The file's text, as read by the parent: the hub gets it over its link
 * and parses it with CFG_F_HUB, which names secrets and programs without
 * reading them (the hub can reach neither, and needs neither).
 */
struct config *
config_parse(const char *path, const char *text, size_t len, int flags,
    char *err, size_t errlen)
{
	static const struct raw_config empty;
	struct cfg_ctx ctx;
	struct raw_config *raw = NULL;
	struct config *conf = NULL;

	if (errlen > 0)
		err[0] = '\0';
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.text = text;
	ctx.len = len;
	ctx.err = err;
	ctx.errlen = errlen;
	ctx.flags = flags;

	if (cfg_yaml_lint(&ctx) == -1 || cfg_yaml_parse(&ctx, &raw) == -1)
		goto out;

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(path);
	conf->text = xmalloc(len + 1);
	memcpy(conf->text, text, len);
	conf->text[len] = '\0';
	conf->textlen = len;
	/* An empty document loads as nothing at all: all defaults. */
	if (cfg_build(&ctx, raw != NULL ? raw : &empty, conf) == -1) {
		config_free(conf);
		conf = NULL;
	}
 out:
	cfg_yaml_free(raw);
	return conf;
}

void
config_free(struct config *conf)
{
	unsigned i;

	if (conf == NULL)
		return;
	cfg_schedule_free(conf);
	cfg_bind_free(conf);
	for (i = 0; i < conf->agents_count; i++)
		cfg_agent_free(&conf->agents[i]);
	free(conf->agents);
	for (i = 0; i < conf->channels_count; i++)
		cfg_channel_free(&conf->channels[i]);
	free(conf->channels);
	for (i = 0; i < conf->policy.trusted_proxies_count; i++)
		free(conf->policy.trusted_proxies[i]);
	free(conf->policy.trusted_proxies);
	cfg_webchat_free(&conf->webchat);
	free(conf->metrics_listen);
	cfg_console_free(&conf->console);
	free(conf->sandbox.user);
	free(conf->sandbox.group);
	free(conf->sandbox.hub_user);
	free(conf->sandbox.hub_group);
	free(conf->log_level);
	free(conf->control);
	free(conf->store);
	free(conf->store_uri);
	free(conf->node);
	xfree_secret(conf->cluster.password);
	free(conf->state_dir);
	free(conf->text);
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
	for (i = 0; i < conf->rt_count; i++)
		if (strcmp(conf->rt_channels[i]->name, name) == 0)
			return conf->rt_channels[i];
	return NULL;
}

static int
cfg_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	size_t i;

	for (i = 0; cfg_top_nums[i] != NULL; i++)
		if (cfg_numbers(ctx, cfg_top_nums[i], raw, conf, "") == -1)
			return -1;
	if (cfg_supervisor(ctx, &conf->supervisor) == -1 ||
	    cfg_webchat_sizes(ctx, &conf->webchat) == -1 ||
	    cfg_paths(ctx, raw, conf) == -1 ||
	    cfg_store_build(ctx, raw, conf) == -1)
		return -1;

	conf->log_level = xstrdup(raw->log.level != NULL ? raw->log.level :
	    CFG_DEFAULT_LEVEL);
	if (cfg_check_word(ctx, "log.level", "level", conf->log_level,
	    cfg_log_levels, NITEMS(cfg_log_levels)) == -1)
		return -1;
	conf->log_syslog = raw->log.syslog ? 1 : 0;

	/* The user is resolved when workers start: it may come later. */
	conf->sandbox.user = xstrdup(raw->sandbox.user != NULL ?
	    raw->sandbox.user : CFG_DEFAULT_USER);
	conf->sandbox.group = xstrdup(raw->sandbox.group != NULL ?
	    raw->sandbox.group : CFG_DEFAULT_GROUP);
	conf->sandbox.hub_user = xstrdup(raw->sandbox.hub_user != NULL ?
	    raw->sandbox.hub_user : CFG_DEFAULT_HUB_USER);
	conf->sandbox.hub_group = xstrdup(raw->sandbox.hub_group != NULL ?
	    raw->sandbox.hub_group : CFG_DEFAULT_HUB_GROUP);
	conf->sandbox.strict = raw->sandbox.strict ? 1 : 0;
	conf->sandbox.zygote = raw->sandbox.zygote == NULL ||
	    strcmp(raw->sandbox.zygote, "true") == 0;

	if (cfg_webchat_build(ctx, &raw->webchat, &conf->webchat) == -1 ||
	    cfg_agent_build(ctx, raw, conf) == -1)
		return -1;
	/* A reference between slices, checked once both exist. */
	if (config_agent(conf, conf->webchat.agent) == NULL) {
		cfg_error(ctx, "webchat.agent", "no agent named \"%s\"",
		    conf->webchat.agent);
		return -1;
	}
	if (cfg_channel_build(ctx, raw, conf) == -1 ||
	    cfg_metrics_build(ctx, raw, conf) == -1 ||
	    cfg_console_build(ctx, raw, conf) == -1 ||
	    cfg_relay_listens(ctx, conf) == -1 ||
	    cfg_bind_build(ctx, raw, conf) == -1 ||
	    cfg_policy_build(ctx, &raw->policy, &conf->policy) == -1)
		return -1;
	/* Last: a schedule names agents and channels. */
	return cfg_schedule_build(ctx, raw, conf);
}

/* The supervisor's numbers against each other. */
static int
cfg_supervisor(struct cfg_ctx *ctx, const struct cfg_supervisor *s)
{
	if (s->heartbeat_timeout_ms <= s->heartbeat_ms) {
		cfg_error(ctx, "supervisor.heartbeat_timeout_ms",
		    "%u must exceed heartbeat_ms (%u)",
		    s->heartbeat_timeout_ms, s->heartbeat_ms);
		return -1;
	}
	if (s->restart_min_ms > s->restart_max_ms) {
		cfg_error(ctx, "supervisor.restart_min_ms",
		    "%u exceeds restart_max_ms (%u)",
		    s->restart_min_ms, s->restart_max_ms);
		return -1;
	}
	/* Truncating below the checkpoint size would defeat the checkpoint. */
	if (s->wal_max_bytes <= s->wal_checkpoint_bytes) {
		cfg_error(ctx, "supervisor.wal_max_bytes",
		    "%u must exceed wal_checkpoint_bytes (%u)",
		    s->wal_max_bytes, s->wal_checkpoint_bytes);
		return -1;
	}
	return 0;
}

/* Paths: empty means "here", which is never what was meant. */
static int
cfg_paths(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	struct sockaddr_un sun;

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
	if (raw->store != NULL && !cfg_store_is_uri(raw->store))
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
	return 0;
}

/* An error about key path field, at its line when the text has it. */
void
cfg_error(struct cfg_ctx *ctx, const char *field, const char *fmt, ...)
{
	char msg[CFG_ERR_MAX];
	va_list ap;
	int line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = field != NULL ? cfg_yaml_locate(ctx, field) : 0;
	cfg_error_at(ctx, line, field, "%s", msg);
}

void
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
int
cfg_numbers(struct cfg_ctx *ctx, const struct cfg_num *tab,
    const void *raw, void *out, const char *prefix)
{
	char field[CFG_KEYPATH_MAX];
	uint32_t *const *src, *dst;

	for (; tab->name != NULL; tab++) {
		src = (uint32_t *const *)((const char *)raw + tab->raw);
		dst = (uint32_t *)((char *)out + tab->out);
		if (*src == NULL) {
			*dst = tab->def;
			continue;
		}
		if (**src < tab->min || **src > tab->max) {
			snprintf(field, sizeof(field), "%s%s", prefix,
			    tab->name);
			cfg_error(ctx, field, "%u is out of range %u..%u",
			    **src, tab->min, tab->max);
			return -1;
		}
		*dst = **src;
	}
	return 0;
}

/* The JSON text of a slice; takes obj, even when it is NULL. */
char *
cfg_dumps(json_t *obj)
{
	char *s;

	/* json_pack fails only on OOM here: the formats are constant. */
	if (obj == NULL)
		fatalx("%s: json_pack failed", __func__);
	s = jsonalloc_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	if (s == NULL)
		fatalx("%s: json_dumps failed", __func__);
	return s;
}
