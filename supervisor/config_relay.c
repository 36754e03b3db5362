/*
 * A relay agent's block of the configuration, see wxgate.yaml(5),
 * agents[].relay: the address its relays connect to.  The parent binds
 * it (listener.c) and hands it to that agent's worker
 * (workers/agent/relay*.c); nothing else reads it.
 *
 * No TLS here: the relay worker speaks plain WebSocket, as the web chat
 * speaks plain HTTP, and a public address goes behind a TLS proxy (or
 * stays on loopback or a VPN).  OpenSSL stays out of the sandboxed
 * process that parses strangers' bytes.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "xmalloc.h"

int
cfg_agent_relay(struct cfg_ctx *ctx, const struct raw_agent *ra,
    const char *prefix, struct cfg_agent *a)
{
	char field[CFG_KEYPATH_MAX];

	snprintf(field, sizeof(field), "%srelay", prefix);
	if (strcmp(a->type, "relay") != 0) {
		if (ra->relay.listen != NULL || ra->relay.e2e) {
			cfg_error(ctx, field, "only for type relay");
			return -1;
		}
		return 0;
	}
	snprintf(field, sizeof(field), "%srelay.listen", prefix);
	if (ra->relay.listen == NULL || cfg_check_listen(ra->relay.listen) ==
	    -1) {
		cfg_error(ctx, field, "must be IPv4:port or [IPv6]:port");
		return -1;
	}
	a->relay_listen = xstrdup(ra->relay.listen);
	a->relay_e2e = ra->relay.e2e;
	return 0;
}

/* After the channels and metrics: no two listeners share an address. */
int
cfg_relay_listens(struct cfg_ctx *ctx, const struct config *conf)
{
	char field[CFG_KEYPATH_MAX];
	const char *l;
	unsigned i, j;

	for (i = 0; i < conf->agents_count; i++) {
		if ((l = conf->agents[i].relay_listen) == NULL)
			continue;
		snprintf(field, sizeof(field), "agents[%u].relay.listen", i);
		if (strcmp(l, conf->webchat.listen) == 0 ||
		    (conf->metrics_listen != NULL &&
		    strcmp(l, conf->metrics_listen) == 0)) {
			cfg_error(ctx, field, "%s is already webchat.listen "
			    "or metrics.listen", l);
			return -1;
		}
		for (j = 0; j < conf->channels_count; j++)
			if (conf->channels[j].cb_listen != NULL &&
			    strcmp(conf->channels[j].cb_listen, l) == 0) {
				cfg_error(ctx, field, "%s is also "
				    "channels[%u]'s", l, j);
				return -1;
			}
		for (j = 0; j < i; j++)
			if (conf->agents[j].relay_listen != NULL &&
			    strcmp(conf->agents[j].relay_listen, l) == 0) {
				cfg_error(ctx, field, "%s is also "
				    "agents[%u]'s", l, j);
				return -1;
			}
	}
	return 0;
}

const struct cfg_agent *
config_relay_agent(const struct config *conf, const char *name)
{
	const struct cfg_agent *a;

	if ((a = config_agent(conf, name)) == NULL || a->relay_listen == NULL)
		return NULL;
	return a;
}
