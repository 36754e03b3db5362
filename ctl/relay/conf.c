/*
 * wxgate-relay's config file: one JSON object (jansson, no extra
 * library), see wxgate-relay(1):
 *
 *   { "server": "wss://gate.example/relay", "token_file": "/path",
 *     "ca_file": "/etc/ssl/certs/ca-certificates.crt",
 *     "backend": { "type": "openai", "url": "...", "model": "...",
 *                  "api_key_file": "/path" },
 *     "e2e": { "passphrase_file": "/path" } }
 *
 * The backend object is the slice an agent of that type gets in
 * wxgated (url, model, models, temperature, max_tokens, timeout_s,
 * stream, headers; or argv and timeout_s), with the API key read here
 * from a file or the environment.  A secret file readable by group or
 * others is refused; secrets are never logged and never on argv.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "relay.h"
#include "xmalloc.h"

#define RC_SECRET_MAX	4096	/* a token or an API key, and its newline */
#define RC_FILE_MAX	(64 * 1024)
#define RC_CA_DEFAULT	"/etc/ssl/certs/ca-certificates.crt"

/* The first line of a file only its owner may read. */
static char *
rc_secret(const char *path, const char *what)
{
	char buf[RC_SECRET_MAX + 1];
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s %s", what, path);
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || (sb.st_mode & (S_IRWXG | S_IRWXO))) {
		log_warnx("%s %s: readable by others (chmod 600 it)", what,
		    path);
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		log_warnx("%s %s: empty or unreadable", what, path);
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0' || strlen(buf) >= RC_SECRET_MAX) {
		log_warnx("%s %s: no secret on its first line", what, path);
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	return xstrdup(buf);
}

static const char *
rc_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* api_key_file or api_key_env become the slice's api_key. */
static int
rc_api_key(json_t *be)
{
	const char *f = rc_str(be, "api_key_file"), *e = rc_str(be,
	    "api_key_env"), *v;
	char *key = NULL;

	if (f != NULL && e != NULL) {
		log_warnx("backend: api_key_file or api_key_env, not both");
		return -1;
	}
	if (f != NULL && (key = rc_secret(f, "backend.api_key_file")) == NULL)
		return -1;
	if (e != NULL) {
		if ((v = getenv(e)) == NULL || *v == '\0') {
			log_warnx("backend.api_key_env: %s is not set", e);
			return -1;
		}
		key = xstrdup(v);
	}
	json_object_del(be, "api_key_file");
	json_object_del(be, "api_key_env");
	if (key != NULL) {
		json_object_set_new(be, "api_key", json_string(key));
		xfree_secret(key);
	}
	return 0;
}

int
rconf_load(const char *path, struct rconf *c)
{
	json_error_t jerr;
	json_t *o, *be;
	const char *v;

	memset(c, 0, sizeof(*c));
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		log_warnx("%s:%d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	if ((v = rc_str(o, "server")) == NULL || (strncmp(v, "ws://", 5) != 0 &&
	    strncmp(v, "wss://", 6) != 0)) {
		log_warnx("%s: server must be a ws:// or wss:// URL", path);
		goto bad;
	}
	c->server = xstrdup(v);
	c->ca_file = xstrdup((v = rc_str(o, "ca_file")) != NULL ? v :
	    RC_CA_DEFAULT);
	if ((v = rc_str(o, "token_file")) == NULL) {
		log_warnx("%s: token_file is required", path);
		goto bad;
	}
	if ((c->token = rc_secret(v, "token_file")) == NULL)
		goto bad;
	be = json_object_get(o, "backend");
	if (!json_is_object(be) || (v = rc_str(be, "type")) == NULL) {
		log_warnx("%s: backend must be an object with a type", path);
		goto bad;
	}
	c->type = xstrdup(v);
	c->backend = json_deep_copy(be);
	if (c->backend == NULL || rc_api_key(c->backend) == -1)
		goto bad;
	/* The passphrase of the console's sealed threads (docs/e2e.md). */
	if ((be = json_object_get(o, "e2e")) != NULL) {
		if (!json_is_object(be) || json_object_size(be) != 1 ||
		    (v = rc_str(be, "passphrase_file")) == NULL) {
			log_warnx("%s: e2e must be {\"passphrase_file\": "
			    "PATH}", path);
			goto bad;
		}
		if ((c->e2e_pass = rc_secret(v, "e2e.passphrase_file")) ==
		    NULL)
			goto bad;
	}
	/* wxgated's slices name the agent; a relay's has no name. */
	json_object_set_new(c->backend, "name", json_string("relay"));
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	rconf_free(c);
	return -1;
}

void
rconf_free(struct rconf *c)
{
	free(c->server);
	xfree_secret(c->token);
	free(c->ca_file);
	free(c->type);
	json_decref(c->backend);
	xfree_secret(c->e2e_pass);
	memset(c, 0, sizeof(*c));
}
