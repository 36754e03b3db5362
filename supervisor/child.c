/*
 * wxgate-child: the processes the root parent starts by -x but the hub
 * (wxgate-hub, hubmain.c) and the light kinds (wxgate-light): the
 * configuration reader, a kind's zygote and each worker.  A binary
 * of its own (like OpenSSH's sshd-session), so that root's wxgated maps
 * none of what they link (SQLite, OpenSSL, jansson, YAML) and links
 * none of their code; argv[0] stays "wxgated", so ps reads as before.
 *
 * Each entry point drops root first (sandbox_drop) and only then reads
 * what it is given.  --check-sandbox (the parent's, run here because
 * the specs are the workers') tries every kind's sandbox as root would.
 */
#include <sys/types.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "log.h"
#include "sandbox.h"
#include "sup.h"
#include "worker.h"
#include "xmalloc.h"

/* The hub's state; its files share the parent's struct (sup.h). */
struct sup	*sup;

static void	usage(void) __attribute__((noreturn));
static int	child_check_sandbox(const char *, const char *, const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: wxgate-child -x kind:name -u creds [-dv]\n"
	    "       wxgate-child --check-sandbox -u creds [-U creds] "
	    "-s dir\n(started by wxgated, not by hand)\n");
	exit(2);
}

/*
 * Every kind's spec with the workers' ids; the hub's with its own
 * (hubcreds), or the workers' when there is no user for it.
 */
static int
child_check_sandbox(const char *creds, const char *hubcreds, const char *dir)
{
	const struct wk_kind *const *kinds;
	struct sandbox_spec *specs;
	struct sandbox_conf *confs, sc, hc;
	size_t i, nkinds;
	int rv;

	if (creds == NULL || dir == NULL ||
	    sandbox_conf_parse(creds, &sc) == -1 ||
	    (hubcreds != NULL && sandbox_conf_parse(hubcreds, &hc) == -1))
		usage();
	kinds = worker_kinds(&nkinds);
	specs = xcalloc(nkinds + 2, sizeof(*specs));
	confs = xcalloc(nkinds + 2, sizeof(*confs));
	for (i = 0; i < nkinds + 2; i++)
		confs[i] = sc;
	for (i = 0; i < nkinds; i++)
		worker_spec(kinds[i], &specs[i]);
	hub_spec(&specs[nkinds], dir);
	if (hubcreds != NULL)
		confs[nkinds] = hc;
	reader_spec(&specs[nkinds + 1]);
	rv = sandbox_check(specs, confs, nkinds + 2);
	free(confs);
	free(specs);
	return rv;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check-sandbox",	no_argument,	NULL,	'C' },
		{ NULL,			0,		NULL,	0 }
	};
	const char *spec = NULL, *creds = NULL, *hubcreds = NULL;
	const char *store = NULL;
	int ch, check = 0, verbose = LOG_LVL_INFO;

	while ((ch = getopt_long(argc, argv, "dvs:u:U:x:", longopts,
	    NULL)) != -1) {
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
		case 'U':
			hubcreds = optarg;
			break;
		case 'x':
			spec = optarg;
			break;
		case 'C':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check) {
		log_init(verbose, 0);
		log_procinit("wxgated");
		return child_check_sandbox(creds, hubcreds, store);
	}
	if (spec == NULL)
		usage();
	if (strncmp(spec, "zygote:", 7) == 0)
		return zygote_main(spec, creds, verbose);
	if (strncmp(spec, "conf:", 5) == 0)
		return reader_main(spec, creds, verbose);
	return worker_main(spec, creds, verbose);
}
