/*
 * The console: block of the configuration, see wxgate.yaml(5),
 * CONSOLE: where the operator console listens, who may log in to it
 * and for how long.  The parent binds the address (listener.c) and
 * hands it to the console worker (workers/console/); the hub reads the
 * operators and the lifetimes (supervisor/console.c).
 *
 * Plain HTTP on loopback only: a session cookie sent in clear over a
 * network is anyone's.  Any other address needs tls_cert and tls_key
 * (loopback may have them too).  Root reads both (the key with a
 * secret's checks, conf_file.c), and the pair is tried here, so that a
 * wrong key fails the start or reload with its reason rather than the
 * console's worker at its first handshake.  There are no default
 * credentials: without operators there is nobody a login link can
 * name, so a listen address with no operator is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "xmalloc.h"

/*
 * A certificate chain: a leaf and its intermediates fit in a few KiB;
 * with the key they must fit the worker's slice (IPC_CONF_MAX).
 */
#define CFG_CONSOLE_CERT_MAX	(24 * 1024)

/* A login link outlives a typo, not a coffee break. */
#define CFG_CONSOLE_LINK_MAX_S	3600

static int	cfg_console_lifetimes(struct cfg_ctx *,
		    const struct raw_console *, struct cfg_console *);
static int	cfg_console_operators(struct cfg_ctx *,
		    const struct raw_console *, struct cfg_console *);
static int	cfg_console_tls(struct cfg_ctx *, const struct raw_console *,
		    struct cfg_console *);
static int	cfg_console_clash(struct cfg_ctx *, const struct config *,
		    const char *);
static int	cfg_console_url(struct cfg_ctx *, const struct raw_console *,
		    struct cfg_console *);

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
		if (rc->tls_cert != NULL || rc->tls_key != NULL ||
		    rc->public_url != NULL) {
			cfg_error(ctx, rc->public_url != NULL ?
			    "console.public_url" : "console.tls_cert", "set "
			    "without console.listen");
			return -1;
		}
		return 0;
	}
	if (cfg_check_listen(l) == -1) {
		cfg_error(ctx, "console.listen", "must be IPv4:port or "
		    "[IPv6]:port (\"%s\")", l);
		return -1;
	}
	if (cfg_console_tls(ctx, rc, cc) == -1)
		return -1;
	if (!cc->tls && !cfg_metrics_loopback(l)) {
		cfg_error(ctx, "console.listen", "%s is not a loopback "
		    "address (127.0.0.0/8 or [::1]): set console.tls_cert and "
		    "console.tls_key, since a session cookie must not cross a "
		    "network in clear, or listen on loopback and use an SSH "
		    "tunnel", l);
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
	return cfg_console_url(ctx, rc, cc);
}

/*
 * Where an operator's browser reaches the console, for the login links
 * wxgatectl prints: by default the listen address, which for 0.0.0.0
 * or behind a name is not one.  Its scheme is the console's own, so a
 * link never sends the token in clear to a console that serves TLS, nor
 * asks TLS of one that does not.
 */
static int
cfg_console_url(struct cfg_ctx *ctx, const struct raw_console *rc,
    struct cfg_console *cc)
{
	const char *u = rc->public_url, *want = cc->tls ? "https://" :
	    "http://";

	if (u == NULL) {
		xasprintf(&cc->public_url, "%s%s", want, cc->listen);
		return 0;
	}
	if (cfg_check_url(u, 0) == -1 || strncmp(u, want, strlen(want)) != 0 ||
	    u[strlen(u) - 1] == '/' || strlen(u) > IPC_URL_MAX - 80) {
		cfg_error(ctx, "console.public_url", "must be an %s URL "
		    "without a trailing /, at most %d bytes (the console %s)",
		    want, IPC_URL_MAX - 80, cc->tls ? "serves TLS" :
		    "has no tls_cert");
		return -1;
	}
	cc->public_url = xstrdup(u);
	return 0;
}

/* Both or neither; a pair OpenSSL takes, the key the certificate's. */
static int
cfg_console_tls(struct cfg_ctx *ctx, const struct raw_console *rc,
    struct cfg_console *cc)
{
	char err[CFG_ERR_MAX];

	if (rc->tls_cert == NULL && rc->tls_key == NULL)
		return 0;
	if (rc->tls_cert == NULL || rc->tls_key == NULL) {
		cfg_error(ctx, rc->tls_cert == NULL ? "console.tls_cert" :
		    "console.tls_key", "missing: tls_cert and tls_key go "
		    "together");
		return -1;
	}
	cc->tls = 1;
	/* The hub only says https: the worker has the pair. */
	if (ctx->flags & CFG_F_HUB)
		return 0;
	if (cfg_public_read(ctx, "console.tls_cert", rc->tls_cert,
	    CFG_CONSOLE_CERT_MAX, &cc->tls_cert, &cc->tls_certlen) == -1 ||
	    cfg_secret_bytes(ctx, "console.tls_key", rc->tls_key,
	    &cc->tls_key, &cc->tls_keylen) == -1)
		return -1;
	if (cfg_tls_pair(cc->tls_cert, cc->tls_certlen, cc->tls_key,
	    cc->tls_keylen, err, sizeof(err)) == -1) {
		cfg_error(ctx, "console.tls_cert", "%s and %s: %s",
		    rc->tls_cert, rc->tls_key, err);
		return -1;
	}
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
	free(cc->public_url);
	free(cc->tls_cert);
	if (cc->tls_key != NULL)
		freezero(cc->tls_key, cc->tls_keylen);
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
 * The worker's slice names its address, and with TLS the certificate
 * chain and the key (a secret: the slice is wiped like an agent's, see
 * cfg_dumps).  Sessions, operators and lifetimes are the hub's.  A
 * reload that moves the address or changes the pair changes the slice,
 * so reload.c restarts the worker on the new socket.
 */
char *
config_slice_console(const struct config *conf)
{
	const struct cfg_console *cc = &conf->console;
	json_t *o;

	o = json_pack("{s:s}", "listen", cc->listen);
	if (o != NULL && cc->tls_cert != NULL) {
		json_object_set_new(o, "tls_cert",
		    json_stringn(cc->tls_cert, cc->tls_certlen));
		json_object_set_new(o, "tls_key",
		    json_stringn(cc->tls_key, cc->tls_keylen));
	}
	return cfg_dumps(o);
}
