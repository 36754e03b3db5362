/*
 * The -u argument of a re-executed hub or worker: "uid:gid:strict:log_only",
 * four decimal numbers the root parent writes (creds_arg.c).  It is all
 * such a process reads before its uid drop, so it is parsed here, by hand
 * and strictly: digits only (strtoul alone would take spaces, signs and
 * "-1"), uid and gid below (uid_t)-1 (setresuid's "leave it"), flags 0
 * or 1.  The children's alone: the parent never parses one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

int
sandbox_conf_parse(const char *arg, struct sandbox_conf *sc)
{
	static const unsigned long max[4] = { UINT32_MAX - 1, UINT32_MAX - 1,
	    1, 1 };
	unsigned long v[4];
	const char *p = arg;
	char *end;
	int i;

	memset(sc, 0, sizeof(*sc));
	for (i = 0; i < 4; i++) {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (errno != 0 || v[i] > max[i] || *end != (i < 3 ? ':' : '\0'))
			return -1;
		p = end + 1;
	}
	sc->uid = (uid_t)v[0];
	sc->gid = (gid_t)v[1];
	sc->strict = v[2] != 0;
	sc->log_only = v[3] != 0;
	return 0;
}
