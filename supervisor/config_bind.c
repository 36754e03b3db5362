/*
 * Self-service binding in the configuration, see wxgate.yaml(5), BIND:
 * the bind: block (how many logins may be in progress, an invitation's
 * shortest life) and bind_templates:, what an account made from an
 * invitation is given: its agent, DM policy and limits, as a channels:
 * entry of type wechat without a name or a token.
 *
 * Called by cfg_build() in config.c after the channels.  The hub keeps
 * the bound accounts themselves (config_rt.c): each is a copy of its
 * template under its own name, so the channel layer finds it as it
 * finds the file's accounts (config_channel).  Never reads a secret: a
 * bound account logs in by QR code and keeps its token in the store.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "log.h"
#include "xmalloc.h"

#define BND(f)	offsetof(struct raw_config, bind.f), \
		offsetof(struct config, bind.f)

const struct cfg_num cfg_bind_nums[] = {
	/* Each pending login is a worker polling iLink for its QR code. */
	{ "bind.pending_max",		BND(pending_max),
	    16, 1, 256 },
	/* A link that dies within seconds is a test's; a minute is use. */
	{ "bind.ttl_min_s",		BND(ttl_min_s),
	    60, 1, 86400 },
	/* iLink refreshes its QR code; a page left open is not a login. */
	{ "bind.login_timeout_s",	BND(login_timeout_s),
	    600, 5, 3600 },
	{ NULL,				0, 0, 0, 0, 0 }
};

/* Inside each bind_templates[] entry, beside the channel's numbers. */
const struct cfg_num cfg_template_nums[] = {
	/* Every account is a process: the box's ceiling is the cap. */
	{ "max_accounts",	offsetof(struct raw_template, max_accounts),
	    offsetof(struct cfg_template, max_accounts),
	    100, 1, CFG_CHANNELS_MAX },
	{ NULL,			0, 0, 0, 0, 0 }
};

static int	 cfg_template_one(struct cfg_ctx *,
		    const struct raw_template *, const char *,
		    struct cfg_template *);

int
cfg_bind_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	char prefix[40], field[CFG_KEYPATH_MAX];
	unsigned i, j;

	if (raw->bind_templates_count == 0)
		return 0;
	conf->templates = xcalloc(raw->bind_templates_count,
	    sizeof(*conf->templates));
	for (i = 0; i < raw->bind_templates_count; i++) {
		conf->templates_count = i + 1;
		snprintf(prefix, sizeof(prefix), "bind_templates[%u].", i);
		if (cfg_template_one(ctx, &raw->bind_templates[i], prefix,
		    &conf->templates[i]) == -1)
			return -1;
		if (config_agent(conf, conf->templates[i].chan.agent) ==
		    NULL) {
			snprintf(field, sizeof(field), "%sagent", prefix);
			cfg_error(ctx, field, "no agent named \"%s\"",
			    conf->templates[i].chan.agent);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(conf->templates[j].name,
			    conf->templates[i].name) != 0)
				continue;
			snprintf(field, sizeof(field), "%sname", prefix);
			cfg_error(ctx, field, "duplicate template name \"%s\" "
			    "(also bind_templates[%u])",
			    conf->templates[i].name, j);
			return -1;
		}
	}
	return 0;
}

/*
 * A template is a wechat channel entry checked by the channel's own
 * code (config_channel.c), so its errors name the same fields.
 */
static int
cfg_template_one(struct cfg_ctx *ctx, const struct raw_template *rt,
    const char *prefix, struct cfg_template *t)
{
	char field[CFG_KEYPATH_MAX];
	struct raw_channel rc = rt->ch;

	snprintf(field, sizeof(field), "%sname", prefix);
	if (rc.name == NULL || cfg_check_name(rc.name) == -1) {
		cfg_error(ctx, field, "must be 1..%d characters of a-z, 0-9, "
		    "_ and -", CFG_NAME_MAX);
		return -1;
	}
	t->name = xstrdup(rc.name);
	if (rc.wechat.token_file != NULL) {
		snprintf(field, sizeof(field), "%swechat.token_file", prefix);
		cfg_error(ctx, field, "a bound account logs in by QR code: "
		    "a template has no token");
		return -1;
	}
	rc.type = (char *)"wechat";
	if (cfg_channel_one(ctx, &rc, prefix, &t->chan) == -1 ||
	    cfg_numbers(ctx, cfg_template_nums, rt, t, prefix) == -1)
		return -1;
	return 0;
}

void
cfg_bind_free(struct config *conf)
{
	unsigned i;

	for (i = 0; i < conf->templates_count; i++) {
		free(conf->templates[i].name);
		cfg_channel_free(&conf->templates[i].chan);
	}
	free(conf->templates);
	for (i = 0; i < conf->rt_count; i++) {
		cfg_channel_free(conf->rt_channels[i]);
		free(conf->rt_channels[i]);
	}
	free(conf->rt_channels);
}

const struct cfg_template *
config_template(const struct config *conf, const char *name)
{
	unsigned i;

	for (i = 0; i < conf->templates_count; i++)
		if (strcmp(conf->templates[i].name, name) == 0)
			return &conf->templates[i];
	return NULL;
}
