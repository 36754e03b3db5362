/*
 * wxgate-hub: the hub alone (hub.c), started by the root parent with
 * the same -x hub:NAME, -u and -s that wxgate-child would take.  A
 * program of its own so that the hub maps what the store, the router
 * and the console need and no more: none of the worker kinds' code and
 * no OpenSSL, whose hashes and random numbers it had used are
 * common/sha.c's and getrandom(2)'s (issue #17's idle footprint;
 * tests/unit/hub_needed.sh checks the program's libraries).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "entry.h"
#include "log.h"
#include "sup.h"

/* The hub's state; its files share the parent's struct (sup.h). */
struct sup	*sup;

static void	usage(void) __attribute__((noreturn));

/*
 * The hub parses its part with CFG_F_HUB, which tries no TLS pair (the
 * console's worker has it); defined here, config_tls.c and OpenSSL
 * stay out of this program.
 */
int
cfg_tls_pair(const char *cert, size_t certlen, const char *key,
    size_t keylen, char *err, size_t errlen)
{
	(void)cert, (void)certlen, (void)key, (void)keylen;
	snprintf(err, errlen, "the hub tries no TLS pair");
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: wxgate-hub -x hub:name -u creds -s store "
	    "[-dv]\n(started by wxgated, not by hand)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL, *creds = NULL, *store = NULL;
	int ch, verbose = LOG_LVL_INFO;

	while ((ch = getopt(argc, argv, "dvs:u:x:")) != -1) {
		switch (ch) {
		case 'd':
		case 'v':
			verbose = LOG_LVL_DEBUG;
			break;
		case 's':
			store = optarg;
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
	if (optind != argc || spec == NULL || strncmp(spec, "hub:", 4) != 0)
		usage();
	return hub_main(spec, creds, store, verbose);
}
