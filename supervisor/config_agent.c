/*
 * The agents: slice of the configuration, see wxgate.yaml(5): each
 * entry with its backend's settings (echo, openai, command; relay's
 * are config_relay.c's).
 *
 * Called by cfg_build() in config.c, and by the supervisor for
 * config_slice_agent() when it spawns an agent worker.  An API key is
 * read here and leaves the supervisor only in its own agent's slice.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "log.h"
#include "xmalloc.h"

#define CFG_DEFAULT_TYPE	"echo"

#define ECHO(f, o) offsetof(struct raw_agent, echo.f), \
		offsetof(struct cfg_agent, o)
#define OAI(f, o) offsetof(struct raw_agent, openai.f), \
		offsetof(struct cfg_agent, o)
#define CMD(f, o) offsetof(struct raw_agent, command.f), \
		offsetof(struct cfg_agent, o)
#define AGT(f)	offsetof(struct raw_agent, f), \
		offsetof(struct cfg_agent, f)

/* Inside each agents[] entry; config_yaml.c lints these as numbers. */
const struct cfg_num cfg_agent_nums[] = {
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
	{ NULL,			0, 0,				0, 0, 0 },
};

static const char *const cfg_agent_types[] = { "echo", "openai", "command",
    "relay" };

static int	 cfg_agent_one(struct cfg_ctx *, const struct raw_agent *,
		    unsigned, struct cfg_agent *);
static int	 cfg_agent_openai(struct cfg_ctx *, const struct raw_agent *,
		    const char *, struct cfg_agent *);
static int	 cfg_agent_command(struct cfg_ctx *, const struct raw_agent *,
		    const char *, struct cfg_agent *);

/* After the supervisor's numbers, whose queue_max bounds max_inflight. */
int
cfg_agent_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	static const struct raw_agent implicit;
	char field[CFG_KEYPATH_MAX];
	unsigned i, j;

	/* No agents key: the built-in echo agent, so a bare file runs. */
	if (raw->agents == NULL || raw->agents_count == 0) {
		conf->agents = xcalloc(1, sizeof(*conf->agents));
		conf->agents_count = 1;
		if (cfg_agent_one(ctx, &implicit, 0, &conf->agents[0]) == -1)
			return -1;
	} else {
		conf->agents = xcalloc(raw->agents_count,
		    sizeof(*conf->agents));
		for (i = 0; i < raw->agents_count; i++) {
			/* Count as we go so config_free sees each one. */
			conf->agents_count = i + 1;
			if (cfg_agent_one(ctx, &raw->agents[i], i,
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
	return 0;
}

static int
cfg_agent_one(struct cfg_ctx *ctx, const struct raw_agent *ra,
    unsigned i, struct cfg_agent *a)
{
	char prefix[32], field[CFG_KEYPATH_MAX];

	snprintf(prefix, sizeof(prefix), "agents[%u].", i);
	a->name = xstrdup(ra->name != NULL ? ra->name : CFG_DEFAULT_AGENT);
	a->type = xstrdup(ra->type != NULL ? ra->type : CFG_DEFAULT_TYPE);
	if (cfg_check_name(a->name) == -1) {
		snprintf(field, sizeof(field), "%sname", prefix);
		cfg_error(ctx, field, "\"%s\" is not 1..%d characters of "
		    "a-z, 0-9, _ and -", a->name, CFG_NAME_MAX);
		return -1;
	}
	snprintf(field, sizeof(field), "%stype", prefix);
	if (cfg_check_word(ctx, field, "agent type", a->type,
	    cfg_agent_types, NITEMS(cfg_agent_types)) == -1)
		return -1;
	if (cfg_numbers(ctx, cfg_agent_nums, ra, a, prefix) == -1)
		return -1;
	if (ra->system_prompt != NULL && ra->system_prompt[0] != '\0')
		a->system_prompt = xstrdup(ra->system_prompt);
	a->temperature = -1;
	if (cfg_agent_openai(ctx, ra, prefix, a) == -1 ||
	    cfg_agent_command(ctx, ra, prefix, a) == -1 ||
	    cfg_agent_relay(ctx, ra, prefix, a) == -1)
		return -1;
	return 0;
}


/* Settings of one type under another type are a mistake; say so. */
static int
cfg_agent_openai(struct cfg_ctx *ctx, const struct raw_agent *ra,
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
	    ro->timeout_s != NULL || ro->stream != NULL || ro->headers != NULL ||
	    ro->vision != NULL || ro->models != NULL;
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
	for (i = 0; i < ro->models_count; i++)
		if (strcmp(ro->models[i], ro->model) == 0)
			break;
	if (ro->models_count > 0 && i == ro->models_count) {
		snprintf(field, sizeof(field), "%sopenai.models", prefix);
		cfg_error(ctx, field, "must list openai.model (%s) too",
		    ro->model);
		return -1;
	}
	if (ro->models_count > 0)
		a->models = xcalloc(ro->models_count, sizeof(char *));
	for (i = 0; i < ro->models_count; i++) {
		if (strcspn(ro->models[i], " \t\r\n\"\\") !=
		    strlen(ro->models[i]) ||
		    strlen(ro->models[i]) > IPC_MODEL_MAX) {
			snprintf(field, sizeof(field), "%sopenai.models[%u]",
			    prefix, i);
			cfg_error(ctx, field, "a model name is one word of at "
			    "most %d bytes", IPC_MODEL_MAX);
			return -1;
		}
		a->models[i] = xstrdup(ro->models[i]);
		a->models_count = i + 1;
	}
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
	a->vision = ro->vision != NULL ? *ro->vision : 0;
	if (ro->api_key_file != NULL && ro->api_key_env != NULL) {
		snprintf(field, sizeof(field), "%sopenai.api_key_env", prefix);
		cfg_error(ctx, field, "give api_key_file or api_key_env, "
		    "not both");
		return -1;
	}
	if (ctx->flags & CFG_F_HUB) {
		/* Named, not read: the key is for the agent worker only. */
	} else if (ro->api_key_file != NULL) {
		snprintf(field, sizeof(field), "%sopenai.api_key_file", prefix);
		if (cfg_secret_read(ctx, field, ro->api_key_file,
		    &a->api_key) == -1)
			return -1;
	} else if (ro->api_key_env != NULL) {
		snprintf(field, sizeof(field), "%sopenai.api_key_env", prefix);
		if ((v = getenv(ro->api_key_env)) == NULL || *v == '\0') {
			cfg_error(ctx, field, "environment variable %s is "
			    "not set", ro->api_key_env);
			return -1;
		}
		if (strlen(v) > CFG_KEY_MAX || !cfg_secret_ok(v)) {
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

int
config_agent_has_model(const struct cfg_agent *a, const char *model)
{
	unsigned i;

	for (i = 0; a != NULL && model != NULL && i < a->models_count; i++)
		if (strcmp(a->models[i], model) == 0)
			return 1;
	return 0;
}

static int
cfg_agent_command(struct cfg_ctx *ctx, const struct raw_agent *ra,
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
	if (!(ctx->flags & CFG_F_HUB) &&
	    cfg_exec_check(ctx, field, rc->argv[0]) == -1)
		return -1;
	a->argv = xcalloc(rc->argv_count, sizeof(char *));
	for (i = 0; i < rc->argv_count; i++) {
		a->argv[i] = xstrdup(rc->argv[i]);
		a->argv_count = i + 1;
	}
	return 0;
}


void
cfg_agent_free(struct cfg_agent *a)
{
	unsigned i;

	free(a->name);
	free(a->type);
	free(a->system_prompt);
	free(a->url);
	free(a->model);
	for (i = 0; i < a->models_count; i++)
		free(a->models[i]);
	free(a->models);
	xfree_secret(a->api_key);
	/* Extra headers carry keys too ("api-key: ...", Azure's spelling). */
	for (i = 0; i < a->headers_count; i++)
		xfree_secret(a->headers[i]);
	free(a->headers);
	for (i = 0; i < a->argv_count; i++)
		free(a->argv[i]);
	free(a->argv);
	free(a->relay_listen);
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
		l = json_array();
		for (i = 0; i < a->models_count; i++)
			json_array_append_new(l, json_string(a->models[i]));
		json_object_set_new(o, "models", l);
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
	} else if (strcmp(a->type, "relay") == 0)
		json_object_set_new(o, "listen", json_string(a->relay_listen));
	return cfg_dumps(o);
}
