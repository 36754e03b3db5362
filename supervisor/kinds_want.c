/*
 * The instances a configuration wants of each kind (kinds.c), their
 * slices and their own listening addresses: what the configuration
 * reader (conf_reader.c) tells the root parent to start.  Slices hold
 * keys and tokens; the parent passes them on and never builds them.
 * The walk of kinds.c's rows (kinds_all) is here too: the parent only
 * finds a row by name.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ipc_msg.h"
#include "kinds.h"
#include "kinds_want.h"
#include "xmalloc.h"

struct kind_want {
	const char	*name;		/* a kinds.c row */
	void		(*each)(const struct kind *, const struct config *,
			    char *(*)(const struct config *,
			    const struct cfg_channel *), kind_want_fn, void *);
	/* Channel kinds: an account's slice. */
	char		*(*slice)(const struct config *,
			    const struct cfg_channel *);
};

static void	kinds_each_agent(const struct kind *, const struct config *,
		    char *(*)(const struct config *,
		    const struct cfg_channel *), kind_want_fn, void *);
static void	kinds_each_channel(const struct kind *,
		    const struct config *, char *(*)(const struct config *,
		    const struct cfg_channel *), kind_want_fn, void *);
static void	kinds_each_webchat(const struct kind *,
		    const struct config *, char *(*)(const struct config *,
		    const struct cfg_channel *), kind_want_fn, void *);
static void	kinds_each_metrics(const struct kind *,
		    const struct config *, char *(*)(const struct config *,
		    const struct cfg_channel *), kind_want_fn, void *);
static void	kinds_each_console(const struct kind *,
		    const struct config *, char *(*)(const struct config *,
		    const struct cfg_channel *), kind_want_fn, void *);

static const struct kind_want wants[] = {
	{ "agent",		kinds_each_agent,	NULL },
	{ "wechat",		kinds_each_channel,	config_slice_channel },
	{ "wecom_webhook",	kinds_each_channel,	config_slice_webhook },
	{ "wecom_bot",		kinds_each_channel,	config_slice_channel },
	{ "wechat_mp",		kinds_each_channel,	config_slice_callback },
	{ "wecom_app",		kinds_each_channel,	config_slice_callback },
#ifdef WX_TEST_HOOKS
	{ "loopback",		kinds_each_channel,	config_slice_channel },
#endif
	{ "webchat",		kinds_each_webchat,	NULL },
	{ "metrics",		kinds_each_metrics,	NULL },
	{ "console",		kinds_each_console,	NULL },
};

static const struct kind_want *
kinds_want_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
		if (strcmp(wants[i].name, name) == 0)
			return &wants[i];
	return NULL;
}

int
kinds_want_has(const char *kind)
{
	const struct kind_want *kw;
	const struct kind *k;

	if ((kw = kinds_want_find(kind)) == NULL ||
	    (k = kinds_find(kind)) == NULL)
		return 0;
	return k->role != ROLE_CHANNEL || kw->slice != NULL;
}

/* kinds.c's rows, in start order, and how many (its end row left out). */
const struct kind *
kinds_all(size_t *n)
{
	for (*n = 0; kinds_table[*n].name != NULL; (*n)++)
		;
	return kinds_table;
}

/* Each row in order: agents first, so work finds them attached. */
void
kinds_want(const struct config *conf, kind_want_fn fn, void *arg)
{
	const struct kind_want *kw;
	const struct kind *k;
	size_t i, n;

	k = kinds_all(&n);
	for (i = 0; i < n; i++)
		if ((kw = kinds_want_find(k[i].name)) != NULL)
			kw->each(&k[i], conf, kw->slice, fn, arg);
}

/* A relay agent listens on relay.listen (config_relay.c). */
static void
kinds_each_agent(const struct kind *k, const struct config *conf,
    char *(*slice)(const struct config *, const struct cfg_channel *),
    kind_want_fn fn, void *arg)
{
	unsigned i;

	(void)slice;
	for (i = 0; i < conf->agents_count; i++)
		fn(k, conf->agents[i].name,
		    config_slice_agent(conf, &conf->agents[i]),
		    conf->agents[i].relay_listen, arg);
}

/* The accounts of this row's type: "wechat.alice". */
static void
kinds_each_channel(const struct kind *k, const struct config *conf,
    char *(*slice)(const struct config *, const struct cfg_channel *),
    kind_want_fn fn, void *arg)
{
	unsigned i;

	for (i = 0; i < conf->channels_count; i++)
		if (strcmp(conf->channels[i].type, k->name) == 0)
			fn(k, conf->channels[i].name,
			    slice(conf, &conf->channels[i]),
			    conf->channels[i].cb_listen, arg);
}

/* The pool: "webchat.0" to "webchat.N-1", one slice for all. */
static void
kinds_each_webchat(const struct kind *k, const struct config *conf,
    char *(*slice)(const struct config *, const struct cfg_channel *),
    kind_want_fn fn, void *arg)
{
	char id[16];
	unsigned i;

	(void)slice;
	for (i = 0; i < conf->webchat.workers; i++) {
		snprintf(id, sizeof(id), "%u", i);
		fn(k, id, config_slice_webchat(conf), NULL, arg);
	}
}

/* "metrics.http", when metrics.listen names an address. */
static void
kinds_each_metrics(const struct kind *k, const struct config *conf,
    char *(*slice)(const struct config *, const struct cfg_channel *),
    kind_want_fn fn, void *arg)
{
	(void)slice;
	if (conf->metrics_listen != NULL)
		fn(k, "http", config_slice_metrics(conf),
		    conf->metrics_listen, arg);
}

/* "console.http", when console.listen names an address. */
static void
kinds_each_console(const struct kind *k, const struct config *conf,
    char *(*slice)(const struct config *, const struct cfg_channel *),
    kind_want_fn fn, void *arg)
{
	(void)slice;
	if (conf->console.listen != NULL)
		fn(k, "http", config_slice_console(conf),
		    conf->console.listen, arg);
}
