/*
 * wxgate-light: the workers of the kinds that need neither OpenSSL,
 * SQLite nor YAML (kinds_light.c), started by the root parent as
 * wxgate-child starts the others, with the same -x and -u.  A program
 * of its own because a process maps every library its program links:
 * the web chat pool and the agents were paying about 4 MiB of RSS each
 * for SQLite, OpenSSL and the rest, which they never call (issue #17).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: wxgate-light -x kind:name -u creds [-dv]\n"
	    "(started by wxgated, not by hand)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL, *creds = NULL;
	int ch, verbose = LOG_LVL_INFO;

	while ((ch = getopt(argc, argv, "dvu:x:")) != -1) {
		switch (ch) {
		case 'd':
		case 'v':
			verbose = LOG_LVL_DEBUG;
			break;
		case 'u':
			creds = optarg;
			break;
		case 'x':
			spec = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || spec == NULL)
		usage();
	if (strncmp(spec, "zygote:", 7) == 0)
		return zygote_main(spec, creds, verbose);
	return worker_main(spec, creds, verbose);
}
