/*
 * The store: line and the cluster: block of the configuration, see
 * wxgate.yaml(5), STORE and CLUSTER.  A path is SQLite, this node's
 * alone; a postgresql:// URI is the store every node of a cluster
 * shares, and then node: names this one and the SQLite file under
 * state_dir is only its working set (supervisor/hub_pg.c).
 *
 * The URI is checked here rather than left to libpq, because the hub
 * that dials it is sandboxed: it resolves no names and reads no file
 * but the CA certificates, so a host name or a password file would
 * fail there, late, with an error far from the line that caused it.
 * A password never rides in the URI (it would be logged and shown by
 * ps): it comes from password_file or password_env.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "xmalloc.h"

#define CLU(f)	offsetof(struct raw_config, cluster.f), \
		offsetof(struct config, cluster.f)

#define STORE_URI_MAX	1024
#define STORE_CA_DIR	"/etc/ssl/certs/"

const struct cfg_num cfg_cluster_nums[] = {
	/* A node commits one batch at a time; more is for the loads. */
	{ "cluster.pool",		CLU(pool),		2, 1, 16 },
	/*
	 * How long a dead node's accounts stay silent.  Below 3 s a
	 * busy database's slow answer would cost a healthy node its
	 * accounts.
	 */
	{ "cluster.lease_ttl_ms",	CLU(lease_ttl_ms),	15000, 3000,
	    600000 },
	{ NULL, 0, 0, 0, 0, 0 }
};

int
cfg_store_is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

/* A numeric IPv4 address or a bracketed IPv6 one, then :port or not. */
static int
store_host_ok(const char *h, size_t len)
{
	char buf[64];
	unsigned char a[16];
	const char *end;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, h, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		if ((end = strchr(buf, ']')) == NULL)
			return 0;
		buf[end - buf] = '\0';
		return inet_pton(AF_INET6, buf + 1, a) == 1 &&
		    (end[1] == '\0' || end[1] == ':');
	}
	if ((end = strchr(buf, ':')) != NULL)
		buf[end - buf] = '\0';
	return inet_pton(AF_INET, buf, a) == 1;
}

/* Parameters the sandboxed hub cannot honour, or that carry secrets. */
static const char *
store_param_bad(const char *q)
{
	static const char *const refused[] = { "password", "passfile",
	    "host", "service", "sslkey", "sslcert", "sslpassword" };
	const char *p, *eq;
	size_t i, n;

	for (p = q; p != NULL && *p != '\0'; p = strchr(p, '&'),
	    p = p != NULL ? p + 1 : NULL) {
		eq = strchr(p, '=');
		n = eq != NULL ? (size_t)(eq - p) : strcspn(p, "&");
		for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (strlen(refused[i]) == n &&
			    strncmp(p, refused[i], n) == 0)
				return refused[i];
		if (n == 11 && strncmp(p, "sslrootcert", 11) == 0 &&
		    (eq == NULL || strncmp(eq + 1, STORE_CA_DIR,
		    strlen(STORE_CA_DIR)) != 0 ||
		    strstr(eq + 1, "/..") != NULL))
			return "sslrootcert";
	}
	return NULL;
}

static int
store_uri(struct cfg_ctx *ctx, const char *uri)
{
	const char *auth, *end, *at, *bad;
	size_t i;

	if (strlen(uri) > STORE_URI_MAX) {
		cfg_error(ctx, "store", "the URI is longer than %d bytes",
		    STORE_URI_MAX);
		return -1;
	}
	for (i = 0; uri[i] != '\0'; i++)
		if (!isprint((unsigned char)uri[i]) || uri[i] == ' ') {
			cfg_error(ctx, "store", "the URI holds a space or "
			    "a control character");
			return -1;
		}
	auth = strstr(uri, "://") + 3;
	end = auth + strcspn(auth, "/?");
	if ((at = memchr(auth, '@', end - auth)) != NULL) {
		if (memchr(auth, ':', at - auth) != NULL) {
			cfg_error(ctx, "store", "a password in the URI "
			    "would be logged and shown by ps: use "
			    "cluster.password_file or cluster.password_env");
			return -1;
		}
		auth = at + 1;
	}
	if (!store_host_ok(auth, end - auth)) {
		cfg_error(ctx, "store", "the host must be an IP address "
		    "(and :port): the hub resolves no names");
		return -1;
	}
	if ((bad = store_param_bad(strchr(end, '?') != NULL ?
	    strchr(end, '?') + 1 : NULL)) != NULL) {
		cfg_error(ctx, "store", "%s= is refused: %s", bad,
		    strcmp(bad, "sslrootcert") == 0 ? "the hub reads "
		    "certificates under " STORE_CA_DIR " only" :
		    strncmp(bad, "pass", 4) == 0 ? "the password comes from "
		    "cluster.password_file or cluster.password_env" :
		    "the sandboxed hub cannot use it");
		return -1;
	}
	return 0;
}

/* A node's name (node:, and a channel's pin). */
int
cfg_node_name(struct cfg_ctx *ctx, const char *field, const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > 63 || !(islower((unsigned char)n[0]) ||
	    isdigit((unsigned char)n[0]))) {
		cfg_error(ctx, field, "must be 1 to 63 characters starting "
		    "with a-z or 0-9");
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)n[i]) &&
		    !isdigit((unsigned char)n[i]) && n[i] != '-' &&
		    n[i] != '_') {
			cfg_error(ctx, field, "\"%s\": a-z, 0-9, - and _ "
			    "only", n);
			return -1;
		}
	return 0;
}

/* The root parent's reader has the file or the environment; the hub not. */
static int
store_password(struct cfg_ctx *ctx, const struct raw_cluster *rc,
    struct config *conf)
{
	const char *v;

	if (rc->password_file != NULL && rc->password_env != NULL) {
		cfg_error(ctx, "cluster.password_env", "password_file is "
		    "also set: one of the two");
		return -1;
	}
	if (ctx->flags & CFG_F_HUB)
		return 0;
	if (rc->password_file != NULL)
		return cfg_secret_read(ctx, "cluster.password_file",
		    rc->password_file, &conf->cluster.password);
	if (rc->password_env == NULL)
		return 0;
	if ((v = getenv(rc->password_env)) == NULL || v[0] == '\0' ||
	    strlen(v) > STORE_URI_MAX) {
		cfg_error(ctx, "cluster.password_env", "$%s is unset, empty "
		    "or longer than %d bytes", rc->password_env,
		    STORE_URI_MAX);
		return -1;
	}
	conf->cluster.password = xstrdup(v);
	return 0;
}

int
cfg_store_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	const struct raw_cluster *rc = &raw->cluster;

	if (raw->store == NULL || !cfg_store_is_uri(raw->store)) {
		if (raw->node != NULL) {
			cfg_error(ctx, "node", "a cluster needs a "
			    "postgresql:// store");
			return -1;
		}
		if (rc->pool != NULL || rc->lease_ttl_ms != NULL ||
		    rc->password_file != NULL || rc->password_env != NULL) {
			cfg_error(ctx, "cluster", "a cluster needs a "
			    "postgresql:// store");
			return -1;
		}
		return 0;
	}
	if (store_uri(ctx, raw->store) == -1)
		return -1;
	if (raw->node == NULL) {
		cfg_error(ctx, "store", "a postgresql store is shared: "
		    "node: must name this node");
		return -1;
	}
	if (cfg_node_name(ctx, "node", raw->node) == -1)
		return -1;
	/* Bound accounts (bind_templates:) are leased like the file's
	 * (hub_pg_bound.c), so they are welcome here too. */
	conf->store_pg = 1;
	conf->store_uri = xstrdup(raw->store);
	conf->node = xstrdup(raw->node);
	free(conf->store);
	xasprintf(&conf->store, "%s/node.db", conf->state_dir);
	return store_password(ctx, rc, conf);
}
