/*
 * wxgated: the root parent.  The hub, the configuration reader and the
 * workers it starts are another program, wxgate-child (child.c), so
 * that root links and maps none of their code.
 *
 * The parent reads its configuration file's bytes and has a sandboxed
 * configuration reader parse them (conf_fetch.c, conf_reader.c), binds
 * the public listening socket and the control socket, and starts,
 * watches and restarts the hub and the workers by the reader's plan.
 * It parses nothing else: no YAML, no network bytes, no rows, no
 * worker frames (those go to the hub), only the reader's plan and the
 * hub's few requests (parent_hub.c).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "plan.h"
#include "sandbox_conf.h"
#include "sup.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define WXGATED_CONF	SYSCONFDIR "/wxgate/wxgate.yaml"
/*
 * Descriptors the parent may need: one per worker (its copy of the
 * hub's end of the socket, parent_hub.c) for the most workers a file can
 * ask for (every channel, agent and web chat worker), and room for the
 * rest: listening and control sockets, the hub's link, the event loop,
 * a spawn's socketpair and /proc reads.
 */
#define SUP_NOFILE_WANT	(PLAN_WORKERS_MAX + 64)
struct sup	*sup;

static void	usage(void) __attribute__((noreturn));
static int	sup_check_sandbox(void);
static void	sup_abspath(char **);
static void	sup_signal(evutil_socket_t, short, void *);
static void	sup_nofile(void);

/*
 * The specs are the workers', so wxgate-child tries them: with the
 * workers' ids, and the hub with its own when its user exists (without
 * a configuration, the default's).
 */
static int
sup_check_sandbox(void)
{
	struct sandbox_conf sc = { sup->sb_uid, sup->sb_gid, 0, 0 };
	struct sandbox_conf hc = { sup->hub_uid, sup->hub_gid, 0, 0 };
	char creds[SB_CONF_ARG_MAX], hubcreds[SB_CONF_ARG_MAX];
	char dir[PATH_MAX];
	char *argv[] = { "wxgated", "--check-sandbox", "-u", creds, "-s", dir,
	    NULL, NULL, NULL };

	sandbox_conf_format(&sc, creds, sizeof(creds));
	if (sup->plan != NULL) {
		sup_abspath(&sup->plan->store);
		snprintf(dir, sizeof(dir), "%s", sup->plan->store);
		snprintf(dir, sizeof(dir), "%s", dirname(dir));
	} else
		snprintf(dir, sizeof(dir), "/var/lib/wxgate");
	if (sup->hub_uid != 0) {
		sandbox_conf_format(&hc, hubcreds, sizeof(hubcreds));
		argv[6] = "-U";
		argv[7] = hubcreds;
	}
	fflush(NULL);
	execv(sup->exe, argv);
	log_warn("%s", sup->exe);
	return 1;
}

/* A program beside wxgated (a build tree), else where it installs. */
static void
sup_prog_path(char *buf, size_t len, const char *name)
{
	char self[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	snprintf(buf, len, "%s/%s", dirname(self), name);
	if (access(buf, X_OK) == 0)
		return;
	snprintf(buf, len, "%s/%s", PKGLIBEXECDIR, name);
	if (access(buf, X_OK) == -1)
		fatal("%s", buf);
}

static void
usage(void)
{
	fprintf(stderr, "usage: wxgated [-dnOv] [-f file] [--sandbox-log]\n"
	    "       wxgated --check-sandbox [-f file]\n");
	exit(2);
}

/*
 * The ids workers (hub 0) or the hub (hub 1) drop to: the hub has a
 * user of its own, so that no worker (nobody) can signal it, trace it
 * or open its store.  Only root can drop; otherwise both keep our ids
 * and the uid layer is reported off.
 */
int
sup_ids(const struct plan *c, int hub, uid_t *uid, gid_t *gid)
{
	const char *user = hub ? c->hub_user : c->user;
	const char *group = hub ? c->hub_group : c->group;
	const char *key = hub ? "sandbox.hub_" : "sandbox.";
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("%suser: no such user \"%s\"%s%s%s", key, user,
		    hub ? " (create it: useradd --system --user-group "
		    "--no-create-home --shell /usr/sbin/nologin " : "",
		    hub ? user : "", hub ? ")" : "");
		return -1;
	}
	if ((gr = getgrnam(group)) == NULL) {
		log_warnx("%sgroup: no such group \"%s\"", key, group);
		return -1;
	}
	if (pw->pw_uid == 0 || gr->gr_gid == 0 ||
	    (hub && pw->pw_uid == sup->sb_uid)) {
		log_warnx("%suser %s, group %s: %s", key, user, group, hub ?
		    "the hub needs a uid of its own, neither root nor the "
		    "workers'" : "workers may not run as root");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = gr->gr_gid;
	return 0;
}

/* The hub runs elsewhere (an empty root): it gets absolute paths. */
static void
sup_abspath(char **p)
{
	char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX], *a;

	/* Its directory exists by now; realpath drops "." and "..". */
	snprintf(dir, sizeof(dir), "%s", *p);
	snprintf(base, sizeof(base), "%s", *p);
	if (realpath(dirname(dir), real) == NULL)
		fatal("%s", *p);
	xasprintf(&a, "%s/%s", strcmp(real, "/") == 0 ? "" : real,
	    basename(base));
	free(*p);
	*p = a;
}

static void
sup_signal(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", sup->conf_path);
		notify_reloading();
		reload_config();
		/* Ready again once the workers it changed are up. */
		notify_ready();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		sup_stop();
		break;
	}
}

/*
 * systemd's default soft RLIMIT_NOFILE is 1024, less than a thousand
 * accounts need: raise the soft limit toward the hard one, never the
 * hard one itself (that is the operator's LimitNOFILE).  Workers and the
 * hub set their own (sandbox/rlimit.c).
 */
static void
sup_nofile(void)
{
	struct rlimit rl;
	rlim_t old;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("%s: getrlimit", __func__);
		return;
	}
	if (rl.rlim_cur >= SUP_NOFILE_WANT)
		return;
	old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max < SUP_NOFILE_WANT ? rl.rlim_max :
	    SUP_NOFILE_WANT;
	if (rl.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("%s: setrlimit", __func__);
		return;
	}
	if (rl.rlim_cur < SUP_NOFILE_WANT)
		log_warnx("%s: RLIMIT_NOFILE is %ju (hard limit), fewer than "
		    "the %d descriptors %d accounts need; raise LimitNOFILE",
		    __func__, (uintmax_t)rl.rlim_cur, SUP_NOFILE_WANT,
		    PLAN_CHANNELS_MAX);
	else
		log_info("%s: RLIMIT_NOFILE soft limit raised from %ju to %ju",
		    __func__, (uintmax_t)old, (uintmax_t)rl.rlim_cur);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * The state directory, and the store in it the hub's uid's.  -O does
 * this alone and exits: wxgated.service runs it with full privileges
 * (ExecStartPre=+) so that the daemon needs no CAP_CHOWN, and makes
 * the directory itself (no StateDirectory=, which systemd would give
 * back to root, files and all, at every start).
 */
static int
sup_store_hand(void)
{
	if (mkdir_p(sup->plan->state_dir, 0700) == -1) {
		log_warn("state directory %s", sup->plan->state_dir);
		return -1;
	}
	sup_abspath(&sup->plan->store);
	if (geteuid() == 0 && parent_store_own(sup->plan->store,
	    sup->hub_uid, sup->hub_gid) == -1)
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",		no_argument,	NULL,	'h' },
		{ "check-sandbox",	no_argument,	NULL,	'C' },
		{ "sandbox-log",	no_argument,	NULL,	'L' },
		{ NULL,			0,		NULL,	0 }
	};
	const char *conffile = WXGATED_CONF;
	static struct sup s;
	static struct plan defaults;
	struct event *sigev[4];
	char err[PLAN_ERR_MAX];
	int ch, checkonly = 0, ownonly = 0, checksb = 0, sblog = 0, fset = 0;
	int verbose = -1, i;	/* -1: as the config says */
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	while ((ch = getopt_long(argc, argv, "df:nOv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
		case 'v':
			verbose = LOG_LVL_DEBUG;
			break;
		case 'f':
			conffile = optarg;
			fset = 1;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'O':
			ownonly = 1;
			break;
		case 'C':
			checksb = 1;
			break;
		case 'L':
			sblog = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(verbose < 0 ? LOG_LVL_INFO : verbose, 0);
	log_procinit("wxgated");
	sup = &s;
	TAILQ_INIT(&sup->workers);
	sup->conf_path = conffile;
	sup->control_fd = -1;
	sup->sandbox_log = sblog;
	sup->verbose = verbose < 0 ? LOG_LVL_INFO : verbose;
	sup_prog_path(sup->exe, sizeof(sup->exe), "wxgate-child");
	sup_prog_path(sup->exe_hub, sizeof(sup->exe_hub), "wxgate-hub");
	sup_prog_path(sup->exe_hub_pg, sizeof(sup->exe_hub_pg),
	    "wxgate-hub-pg");
	sup_prog_path(sup->exe_light, sizeof(sup->exe_light), "wxgate-light");
	/*
	 * The reader runs as the workers' user; which one the file says,
	 * so the first reading takes the default's (sandbox.user, group).
	 */
	defaults.user = "nobody";
	defaults.group = "nogroup";
	if (sup_ids(&defaults, 0, &sup->sb_uid, &sup->sb_gid) == -1)
		return 1;
	if (checksb && !fset && access(conffile, F_OK) == -1) {
		/* No config yet: check the defaults a first run would use. */
		defaults.hub_user = "wxgate";
		defaults.hub_group = "wxgate";
		if (sup_ids(&defaults, 1, &sup->hub_uid, &sup->hub_gid) == -1)
			sup->hub_uid = 0;
		return sup_check_sandbox();
	}
	if ((sup->plan = conf_fetch(conffile, sup->sb_uid, sup->sb_gid, 0,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "wxgated: %s\n", err);
		return 1;
	}
	if (sup_ids(sup->plan, 0, &sup->sb_uid, &sup->sb_gid) == -1 ||
	    sup_ids(sup->plan, 1, &sup->hub_uid, &sup->hub_gid) == -1)
		return 1;
	if (checkonly) {
		printf("configuration OK\n");
		return 0;
	}
	if (ownonly)
		return sup_store_hand() == -1;
	if (checksb)
		return sup_check_sandbox();
	if (sblog)
		log_warnx("--sandbox-log: seccomp violations are logged by "
		    "the kernel, not stopped; never use this in production");
	/* -d/-v win over the file; otherwise log.level decides. */
	if (verbose < 0)
		verbose = log_level_parse(sup->plan->log_level);
	sup->verbose = verbose;
	log_setverbose(verbose);
	if (sup->plan->log_syslog)
		log_init(log_getverbose(), 1);
	signal(SIGPIPE, SIG_IGN);
	sup_nofile();

	if (sup_store_hand() == -1)
		fatalx("store %s: cannot hand it to the hub (without "
		    "CAP_CHOWN, as under wxgated.service, \"wxgated -O\" does "
		    "it: the unit's ExecStartPre=+)", sup->plan->store);
	sup_abspath(&sup->plan->control);
	if ((sup->listen_fd = sup_listen_open(sup->plan->webchat_listen)) == -1)
		fatalx("cannot listen on %s", sup->plan->webchat_listen);
	if (listener_prepare(sup->plan) == -1)
		fatalx("cannot listen for every callback channel and metrics");
	listener_commit(sup->plan);
	if ((sup->control_fd = control_open(sup->plan->control)) == -1)
		fatalx("control socket %s", sup->plan->control);

	if ((sup->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 0; i < 3; i++) {
		sigev[i] = evsignal_new(sup->base, sigs[i], sup_signal, NULL);
		if (sigev[i] == NULL || event_add(sigev[i], NULL) == -1)
			fatalx("signal handlers");
	}
	notify_init();
	reap_init();
	zygote_init();
	parent_hub_start();
	reload_spawn_all();
	log_info("wxgated ready: web chat on http://%s/ (control %s)",
	    sup->plan->webchat_listen, sup->plan->control);

	event_base_dispatch(sup->base);

	unlink(sup->plan->control);
	log_info("stopped");
	return sup->exit_status;
}
