/*
 * The -u argument of a re-executed hub or worker: "uid:gid:strict:log_only",
 * four decimal numbers, written by the root parent.  The child that reads
 * it parses it with creds_parse.c, which root's wxgated does not link.
 */
#include <stdio.h>

#include "sandbox_conf.h"

void
sandbox_conf_format(const struct sandbox_conf *sc, char *buf, size_t len)
{
	snprintf(buf, len, "%u:%u:%d:%d", (unsigned)sc->uid, (unsigned)sc->gid,
	    sc->strict != 0, sc->log_only != 0);
}
