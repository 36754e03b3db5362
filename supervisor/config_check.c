/*
 * Checks on single values that more than one slice of the configuration
 * makes: names, URLs and words from a fixed list.
 *
 * Called by the config_*.c builders only.  Each check is a pure function
 * of its string; the caller words the error, since only it knows the key.
 */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "kinds.h"

_Static_assert(CFG_NAME_MAX == KINDS_ID_MAX,
    "a name the file may give is one the root parent takes");

/* Names end up in logs, status lines and paths: keep them plain. */
int
cfg_check_name(const char *s)
{
	return kinds_id_ok(s) ? 0 : -1;
}

/*
 * An http(s) URL on one line.  https only, unless the host is this
 * machine: plain http to anywhere else would hand a bot token to the
 * network.
 */
int
cfg_check_url(const char *u, int tls_unless_local)
{
	static const char *const local[] = {
		"http://127.0.0.1:", "http://127.0.0.1/", "http://[::1]:",
		"http://[::1]/", "http://localhost:", "http://localhost/"
	};
	size_t i;

	if (strcspn(u, " \t\r\n") != strlen(u))
		return -1;
	if (strncmp(u, "https://", 8) == 0 && u[8] != '\0')
		return 0;
	if (strncmp(u, "http://", 7) != 0 || u[7] == '\0')
		return -1;
	if (!tls_unless_local)
		return 0;
	for (i = 0; i < NITEMS(local); i++)
		if (strncmp(u, local[i], strlen(local[i])) == 0)
			return 0;
	return -1;
}

/*
 * s must be one of list: its index, or -1 with "unknown WHAT "s"
 * (known: a, b, c)" said of field.
 */
int
cfg_check_word(struct cfg_ctx *ctx, const char *field, const char *what,
    const char *s, const char *const *list, size_t n)
{
	char known[256];
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return (int)i;
	cfg_check_known(known, sizeof(known), list, n);
	cfg_error(ctx, field, "unknown %s \"%s\" (known: %s)", what, s, known);
	return -1;
}

/* "a, b, c" for error messages. */
void
cfg_check_known(char *buf, size_t len, const char *const *list, size_t n)
{
	size_t i, used;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "",
		    list[i]);
	}
}
