/*
 * The files a configuration names, read the way root reads them: the
 * file itself, a secret file (an API key, a token, a TLS key), a public
 * one (a certificate chain, an avatar) and a command's program.  The root parent reads them for the configuration reader
 * (conf_fetch.c), which runs sandboxed and can open none of them; the
 * configuration code calls them through config_file_hook() so that a
 * test or wxgatectl-free build reads them in place.
 */
#ifndef WX_CONF_FILE_H
#define WX_CONF_FILE_H

#include <stddef.h>

#define CONF_FILE_MAX		(1024 * 1024)	/* the configuration */
#define CONF_SECRET_MAX		4097	/* CFG_KEY_MAX and one: too long */
#define CONF_PUBLIC_MAX		(48 * 1024)	/* a certificate chain, an image */

#define CONF_FILE_SECRET	1	/* read a secret file's bytes */
#define CONF_FILE_EXEC		2	/* may the program be run? */
#define CONF_FILE_PUBLIC	3	/* read a public file's bytes */

/*
 * The file's text, NUL-terminated; -1 with err naming the path and
 * why.
 */
int	 conf_file_text(const char *path, char **textp, size_t *lenp,
	    char *err, size_t errlen);
/*
 * what CONF_FILE_SECRET: up to bufsz - 1 bytes of a regular file owned
 * by us or root that neither group nor others may access, in buf, NUL
 * terminated, *lenp bytes.  CONF_FILE_PUBLIC: a regular file of any
 * owner and mode (a certificate, an image; maybe binary) of at most
 * bufsz - 1 bytes, in buf the same way.  CONF_FILE_EXEC: access(X_OK).
 * 0, or -1 with why naming the path (never the bytes).
 */
int	 conf_file_read(int what, const char *path, char *buf, size_t bufsz,
	    size_t *lenp, char *why, size_t whylen);

#endif
