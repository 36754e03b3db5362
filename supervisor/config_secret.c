/*
 * Secrets named by the configuration: an agent's API key file and a
 * channel's token file.
 *
 * Called by config_agent.c and config_channel.c while they build.  A
 * secret is never logged nor put into an error message; the buffer
 * that held it is wiped.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_file.h"
#include "config.h"
#include "config_int.h"
#include "xmalloc.h"

/*
 * How named files are read: in place (conf_file.c), or by the
 * configuration reader's parent (conf_reader.c sets its own).
 */
static config_file_fn	file_fn = conf_file_read;

void
config_file_hook(config_file_fn fn)
{
	file_fn = fn != NULL ? fn : conf_file_read;
}

/* May the command agent's program be run (root's access(X_OK))? */
int
cfg_exec_check(struct cfg_ctx *ctx, const char *field, const char *path)
{
	char why[CFG_ERR_MAX];
	size_t len;

	if (file_fn(CONF_FILE_EXEC, path, NULL, 0, &len, why,
	    sizeof(why)) == -1) {
		cfg_error(ctx, field, "%s", why);
		return -1;
	}
	return 0;
}

/*
 * The API key file: one line; surrounding white space is dropped.  Its
 * owner and mode are checked where it is read (conf_file.c).
 */
int
cfg_secret_read(struct cfg_ctx *ctx, const char *field, const char *path,
    char **keyp)
{
	char buf[CFG_KEY_MAX + 2], why[CFG_ERR_MAX];
	size_t len = 0, start = 0;

	if (file_fn(CONF_FILE_SECRET, path, buf, sizeof(buf), &len, why,
	    sizeof(why)) == -1) {
		explicit_bzero(buf, sizeof(buf));
		cfg_error(ctx, field, "%s", why);
		return -1;
	}
	buf[len] = '\0';
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		buf[--len] = '\0';
	while (start < len && strchr(" \t", buf[start]) != NULL)
		start++;
	if (len - start == 0 || len - start > CFG_KEY_MAX ||
	    strlen(buf + start) != len - start ||
	    !cfg_secret_ok(buf + start)) {
		explicit_bzero(buf, sizeof(buf));
		cfg_error(ctx, field, "%s does not hold one key (printable "
		    "ASCII, no spaces, at most %d bytes)", path, CFG_KEY_MAX);
		return -1;
	}
	*keyp = xstrdup(buf + start);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/*
 * A secret file's bytes as they are (a TLS key in PEM): not one line,
 * but no more than CONF_SECRET_MAX - 1 bytes and text.
 */
int
cfg_secret_bytes(struct cfg_ctx *ctx, const char *field, const char *path,
    char **datap, size_t *lenp)
{
	char buf[CONF_SECRET_MAX], why[CFG_ERR_MAX];
	size_t len = 0;

	if (file_fn(CONF_FILE_SECRET, path, buf, sizeof(buf), &len, why,
	    sizeof(why)) == -1) {
		explicit_bzero(buf, sizeof(buf));
		cfg_error(ctx, field, "%s", why);
		return -1;
	}
	if (len == 0 || len >= sizeof(buf) - 1 || strlen(buf) != len) {
		explicit_bzero(buf, sizeof(buf));
		cfg_error(ctx, field, "%s is empty, binary or larger than %zu "
		    "bytes", path, sizeof(buf) - 2);
		return -1;
	}
	*datap = xmalloc(len + 1);
	memcpy(*datap, buf, len + 1);
	*lenp = len;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/*
 * A public file the configuration names (a certificate chain, an
 * avatar): at most max bytes (CONF_PUBLIC_MAX at most), maybe binary,
 * in a fresh NUL-terminated buffer.
 */
int
cfg_public_read(struct cfg_ctx *ctx, const char *field, const char *path,
    size_t max, char **datap, size_t *lenp)
{
	char why[CFG_ERR_MAX], *buf;
	size_t len = 0;

	if (max > CONF_PUBLIC_MAX)
		max = CONF_PUBLIC_MAX;
	buf = xmalloc(max + 1);
	if (file_fn(CONF_FILE_PUBLIC, path, buf, max + 1, &len, why,
	    sizeof(why)) == -1) {
		free(buf);
		cfg_error(ctx, field, "%s", why);
		return -1;
	}
	*datap = buf;
	*lenp = len;
	return 0;
}

/* Printable ASCII without spaces: it goes into an HTTP header line. */
int
cfg_secret_ok(const char *k)
{
	for (; *k != '\0'; k++)
		if (*k <= ' ' || *k > '~')
			return 0;
	return 1;
}
