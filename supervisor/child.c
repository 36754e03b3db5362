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
 * the specs are the workers') drops root first too, and tries every
 * kind's sandbox as the user that kind runs as.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
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
 * One set of ids: root takes only the drop, as each of those processes
 * does first (sandbox_drop, with the hub's spec for the hub: its
 * directory is entered as root), and the layers are tried as that user
 * (check.c): the hub's, or every worker kind's and the reader's
 * (child_check.c).
 */
static int
child_check_as(const struct sandbox_spec *hub, const struct sandbox_conf *sc)
{
	static const struct sandbox_spec none = { .kind = "check" };
	struct sandbox_report r;
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		sandbox_drop(hub != NULL ? hub : &none, sc, &r);
		_exit(hub != NULL ? sandbox_check(hub, 1, sc, &r) :
		    check_kinds(sc, &r));
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* The workers' ids; the hub's its own (hubcreds), or theirs without. */
static int
child_check_sandbox(const char *creds, const char *hubcreds, const char *dir)
{
	struct sandbox_conf sc, hc;
	struct sandbox_spec hub;
	char tmp[64];
	int rv;

	if (creds == NULL || dir == NULL ||
	    sandbox_conf_parse(creds, &sc) == -1 ||
	    (hubcreds != NULL && sandbox_conf_parse(hubcreds, &hc) == -1))
		usage();
	printf("running as uid %u%s\n", (unsigned)geteuid(),
	    geteuid() == 0 ? " (root: workers drop privileges)" : "");
	printf("%-8s %-13s %-14s %s\n", "KIND", "LAYER", "STATE", "DETAIL");
	rv = child_check_as(NULL, &sc);
	hub_spec(&hub, dir);
	sandbox_check_standin(&hub, tmp, sizeof(tmp));
	rv |= child_check_as(&hub, hubcreds != NULL ? &hc : &sc);
	if (tmp[0] != '\0')
		rmdir(tmp);
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
