/*
 * The hub's bound accounts in its struct config (issue #13): each a
 * copy of its template under its own name (config_rt_add), kept in
 * rt_channels so config_channel() finds it as it finds the file's, and
 * freed with the config (cfg_bind_free).  Called by account.c, and by
 * the agent queues and channel.c through config_channels() and
 * config_channel_at().  The hub's only: the root parent never holds a
 * bound account, so this is not root code.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "xmalloc.h"

static char	*cfg_dup(const char *);
static char	**cfg_dup_list(char *const *, unsigned);
static void	 cfg_channel_copy(struct cfg_channel *,
		    const struct cfg_channel *, const char *);

/* NULL stays NULL: a copy keeps what the original left unset. */
static char *
cfg_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static char **
cfg_dup_list(char *const *in, unsigned n)
{
	char **out;
	unsigned i;

	if (n == 0)
		return NULL;
	out = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(in[i]);
	return out;
}

/*
 * A bound account is its template under its own name:
 * every string its own copy, so cfg_channel_free() frees either.
 * Templates hold no secrets; none is copied.
 */
static void
cfg_channel_copy(struct cfg_channel *c, const struct cfg_channel *t,
    const char *name)
{
	*c = *t;
	c->name = xstrdup(name);
	c->type = cfg_dup(t->type);
	c->agent = cfg_dup(t->agent);
	c->allow_from = cfg_dup_list(t->allow_from, t->allow_from_count);
	c->groups = cfg_dup_list(t->groups, t->groups_count);
	c->mention_free = cfg_dup_list(t->mention_free,
	    t->mention_free_count);
	c->login_url = cfg_dup(t->login_url);
	c->base_url = cfg_dup(t->base_url);
	c->cdn_url = cfg_dup(t->cdn_url);
	c->bot_agent = cfg_dup(t->bot_agent);
	c->token = NULL;
	c->hook_url = cfg_dup(t->hook_url);
	c->hook_key = NULL;
	c->hook_msgtype = cfg_dup(t->hook_msgtype);
	c->ws_url = cfg_dup(t->ws_url);
	c->bot_id = cfg_dup(t->bot_id);
	c->bot_name = cfg_dup(t->bot_name);
	c->welcome = cfg_dup(t->welcome);
	c->secret = NULL;
	c->cb_id = cfg_dup(t->cb_id);
	c->cb_token = NULL;
	c->cb_aes_key = NULL;
	c->cb_secret = NULL;
	c->cb_listen = cfg_dup(t->cb_listen);
	c->cb_api_url = cfg_dup(t->cb_api_url);
	c->cb_welcome = cfg_dup(t->cb_welcome);
}

/*
 * The hub's record of a bound account.  The caller bounds the count
 * (CFG_CHANNELS_MAX with the file's); the name is the store's.
 */
const struct cfg_channel *
config_rt_add(struct config *conf, const struct cfg_template *t,
    const char *name)
{
	struct cfg_channel *c;

	if (config_channel(conf, name) != NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	cfg_channel_copy(c, &t->chan, name);
	conf->rt_channels = xreallocarray(conf->rt_channels,
	    conf->rt_count + 1, sizeof(*conf->rt_channels));
	conf->rt_channels[conf->rt_count++] = c;
	return c;
}

void
config_rt_remove(struct config *conf, const char *name)
{
	unsigned i;

	for (i = 0; i < conf->rt_count; i++) {
		if (strcmp(conf->rt_channels[i]->name, name) != 0)
			continue;
		cfg_channel_free(conf->rt_channels[i]);
		free(conf->rt_channels[i]);
		conf->rt_channels[i] = conf->rt_channels[--conf->rt_count];
		return;
	}
}

int
config_rt_is(const struct config *conf, const char *name)
{
	unsigned i;

	for (i = 0; i < conf->rt_count; i++)
		if (strcmp(conf->rt_channels[i]->name, name) == 0)
			return 1;
	return 0;
}

unsigned
config_channels(const struct config *conf)
{
	return conf->channels_count + conf->rt_count;
}

const struct cfg_channel *
config_channel_at(const struct config *conf, unsigned i)
{
	if (i < conf->channels_count)
		return &conf->channels[i];
	return conf->rt_channels[i - conf->channels_count];
}
