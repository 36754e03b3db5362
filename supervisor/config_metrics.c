/*
 * The metrics: block of the configuration, see wxgate.yaml(5),
 * METRICS: where the loopback HTTP listener of the exposition is, if
 * anywhere.  The parent binds it (listener.c) and hands it to the
 * metrics worker (workers/metrics/); nothing else reads it.
 *
 * Loopback only: the exposition names every worker, channel and agent
 * and counts their traffic, and it has no authentication.  A scraper
 * on another machine goes through something the operator trusts (an
 * SSH tunnel, a local Prometheus agent, a proxy with TLS and a login).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "xmalloc.h"


int
cfg_metrics_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	const char *l = raw->metrics.listen;
	unsigned i;

	if (l == NULL)
		return 0;
	if (cfg_check_listen(l) == -1) {
		cfg_error(ctx, "metrics.listen", "must be IPv4:port or "
		    "[IPv6]:port (\"%s\")", l);
		return -1;
	}
	if (!cfg_metrics_loopback(l)) {
		cfg_error(ctx, "metrics.listen", "%s is not a loopback "
		    "address (127.0.0.0/8 or [::1]): the metrics carry no "
		    "authentication", l);
		return -1;
	}
	if (strcmp(l, conf->webchat.listen) == 0) {
		cfg_error(ctx, "metrics.listen", "%s is webchat.listen", l);
		return -1;
	}
	for (i = 0; i < conf->channels_count; i++)
		if (conf->channels[i].cb_listen != NULL &&
		    strcmp(conf->channels[i].cb_listen, l) == 0) {
			cfg_error(ctx, "metrics.listen", "%s is also "
			    "channels[%u]'s", l, i);
			return -1;
		}
	conf->metrics_listen = xstrdup(l);
	return 0;
}

/*
 * l passed cfg_check_listen(): a numeric host and a port.  The
 * console's check too (config_console.c).
 */
int
cfg_metrics_loopback(const char *l)
{
	char host[CFG_LISTEN_MAX + 1];
	struct in6_addr a6;
	struct in_addr a4;
	const char *end;

	if (l[0] == '[') {
		end = strstr(l, "]:");
		snprintf(host, sizeof(host), "%.*s", (int)(end - l - 1), l + 1);
		return inet_pton(AF_INET6, host, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	end = strrchr(l, ':');
	snprintf(host, sizeof(host), "%.*s", (int)(end - l), l);
	return inet_pton(AF_INET, host, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127;
}

/*
 * The worker's slice names its address: a reload that moves it changes
 * the slice, so reload.c restarts the worker on the new socket.
 */
char *
config_slice_metrics(const struct config *conf)
{
	char *s;

	xasprintf(&s, "{\"listen\":\"%s\"}", conf->metrics_listen);
	return s;
}
