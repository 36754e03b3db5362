/*
 * The console: block of the configuration, see wxgate.yaml(5),
 * CONSOLE: where the operator console listens, who may log in to it
 * and for how long.  The parent binds the address (listener.c) and
 * hands it to the console worker (workers/console/); the hub reads the
 * operators and the lifetimes (supervisor/console.c).
 *
 * Loopback only in this version: the console has no TLS yet, and a
 * session cookie sent in clear over a network is anyone's.  tls_cert
 * and tls_key are recognised so that a file naming them gets that
 * reason rather than "unknown key".  There are no default
 * credentials: without operators there is nobody a login link can
 * name, so a listen address with no operator is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "xmalloc.h"

/* A login link outlives a typo, not a coffee break. */
#define CFG_CONSOLE_LINK_MAX_S	3600

static int	cfg_console_lifetimes(struct cfg_ctx *,
		    const struct raw_console *, struct cfg_console *);
static int	cfg_console_operators(struct cfg_ctx *,
		    const struct raw_console *, struct cfg_console *);
static int	cfg_console_clash(struct cfg_ctx *, const struct config *,
		    const char *);

int
cfg_console_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	const struct raw_console *rc = &raw->console;
	struct cfg_console *cc = &conf->console;
	const char *l = rc->listen;

	if (cfg_console_lifetimes(ctx, rc, cc) == -1 ||
	    cfg_console_operators(ctx, rc, cc) == -1)
		return -1;
	if (l == NULL) {
		if (rc->tls_cert != NULL || rc->tls_key != NULL) {
			cfg_error(ctx, "console.tls_cert", "set without "
			    "console.listen");
			return -1;
		}
		return 0;
	}
	if (cfg_check_listen(l) == -1) {
		cfg_error(ctx, "console.listen", "must be IPv4:port or "
		    "[IPv6]:port (\"%s\")", l);
		return -1;
	}
	if (rc->tls_cert != NULL || rc->tls_key != NULL) {
		cfg_error(ctx, "console.tls_cert", "TLS is not supported by "
		    "this version of the console: listen on loopback and "
		    "reach it through an SSH tunnel");
		return -1;
	}
	if (!cfg_metrics_loopback(l)) {
		cfg_error(ctx, "console.listen", "%s is not a loopback "
		    "address (127.0.0.0/8 or [::1]): the console has no TLS, "
		    "and its session cookie must not cross a network", l);
		return -1;
	}
	if (cc->operators_count == 0) {
		cfg_error(ctx, "console.operators", "none: nobody could log "
		    "in (there are no default credentials)");
		return -1;
	}
	if (cfg_console_clash(ctx, conf, l) == -1)
		return -1;
	cc->listen = xstrdup(l);
	return 0;
}

static int
cfg_console_lifetimes(struct cfg_ctx *ctx, const struct raw_console *rc,
    struct cfg_console *cc)
{
	cc->idle_timeout_s = rc->idle_timeout_s != NULL ?
	    *rc->idle_timeout_s : CFG_CONSOLE_IDLE_S;
	cc->session_max_s = rc->session_max_s != NULL ?
	    *rc->session_max_s : CFG_CONSOLE_MAX_S;
	cc->link_ttl_s = rc->link_ttl_s != NULL ?
	    *rc->link_ttl_s : CFG_CONSOLE_LINK_S;
	if (cc->idle_timeout_s == 0 || cc->session_max_s == 0 ||
	    cc->link_ttl_s == 0) {
		cfg_error(ctx, "console", "idle_timeout_s, session_max_s and "
		    "link_ttl_s must be at least 1");
		return -1;
	}
	if (cc->idle_timeout_s > cc->session_max_s) {
		cfg_error(ctx, "console.idle_timeout_s", "%u exceeds "
		    "session_max_s (%u)", cc->idle_timeout_s,
		    cc->session_max_s);
		return -1;
	}
	if (cc->link_ttl_s > CFG_CONSOLE_LINK_MAX_S) {
		cfg_error(ctx, "console.link_ttl_s", "%u is over %d: a login "
		    "link is for now, not for later", cc->link_ttl_s,
		    CFG_CONSOLE_LINK_MAX_S);
		return -1;
	}
	return 0;
}

static int
cfg_console_operators(struct cfg_ctx *ctx, const struct raw_console *rc,
    struct cfg_console *cc)
{
	const struct raw_operator *ro;
	unsigned i, j;
	const char *s;

	if (rc->operators_count == 0)
		return 0;
	cc->operators = xcalloc(rc->operators_count, sizeof(*cc->operators));
	for (i = 0; i < rc->operators_count; i++) {
		ro = &rc->operators[i];
		if (ro->name == NULL || cfg_check_name(ro->name) == -1) {
			cfg_error(ctx, "console.operators", "entry %u: name "
			    "must be letters, digits, '-' or '_'", i);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(rc->operators[j].name, ro->name) == 0) {
				cfg_error(ctx, "console.operators", "\"%s\" "
				    "twice", ro->name);
				return -1;
			}
		s = ro->scope != NULL ? ro->scope : "viewer";
		if (strcmp(s, "admin") != 0 && strcmp(s, "viewer") != 0) {
			cfg_error(ctx, "console.operators", "%s: scope must "
			    "be admin or viewer (\"%s\")", ro->name, s);
			return -1;
		}
		cc->operators[i].name = xstrdup(ro->name);
		cc->operators[i].admin = strcmp(s, "admin") == 0;
		cc->operators_count++;
	}
	return 0;
}

/* listener.c shares one socket per address: two users would be one. */
static int
cfg_console_clash(struct cfg_ctx *ctx, const struct config *conf,
    const char *l)
{
	unsigned i;

	if (strcmp(l, conf->webchat.listen) == 0 ||
	    (conf->metrics_listen != NULL &&
	    strcmp(l, conf->metrics_listen) == 0)) {
		cfg_error(ctx, "console.listen", "%s is already webchat's or "
		    "metrics'", l);
		return -1;
	}
	for (i = 0; i < conf->channels_count; i++)
		if (conf->channels[i].cb_listen != NULL &&
		    strcmp(conf->channels[i].cb_listen, l) == 0) {
			cfg_error(ctx, "console.listen", "%s is also "
			    "channels[%u]'s", l, i);
			return -1;
		}
	for (i = 0; i < conf->agents_count; i++)
		if (conf->agents[i].relay_listen != NULL &&
		    strcmp(conf->agents[i].relay_listen, l) == 0) {
			cfg_error(ctx, "console.listen", "%s is also agent "
			    "%s's", l, conf->agents[i].name);
			return -1;
		}
	return 0;
}

void
cfg_console_free(struct cfg_console *cc)
{
	unsigned i;

	for (i = 0; i < cc->operators_count; i++)
		free(cc->operators[i].name);
	free(cc->operators);
	free(cc->listen);
	memset(cc, 0, sizeof(*cc));
}

const struct cfg_operator *
config_operator(const struct config *conf, const char *name)
{
	unsigned i;

	for (i = 0; i < conf->console.operators_count; i++)
		if (strcmp(conf->console.operators[i].name, name) == 0)
			return &conf->console.operators[i];
	return NULL;
}

/*
 * The worker's slice names its address only: sessions, operators and
 * lifetimes are the hub's.  A reload that moves the address changes
 * the slice, so reload.c restarts the worker on the new socket.
 */
char *
config_slice_console(const struct config *conf)
{
	char *s;

	xasprintf(&s, "{\"listen\":\"%s\"}", conf->console.listen);
	return s;
}
