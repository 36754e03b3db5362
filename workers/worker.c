/*
 * The worker side of wxgated (re-executed as "wxgated -x kind:id").
 *
 * Owns the life of every worker process: the blocking read of its config,
 * the sandbox call, the channel to the supervisor, heartbeats, shutdown
 * and the log hook.  It must never act on a frame the catalogue does not
 * route to it; anything surprising from the supervisor is fatal, and the
 * supervisor restarts us.
 */
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <msgpack.h>

#include "clock.h"
#include "wire.h"
#include "wire_blocking.h"
#include "codec.h"
#include "log.h"
#include "sandbox.h"
#include "worker.h"
#include "xmalloc.h"

/* Frames queued to the supervisor before we consider ourselves stuck. */
#define WORKER_QUEUE_MAX	4096
/* How often a worker says its memory figures: smaps_rollup walks the
 * page tables, so every few seconds, not with every heartbeat. */
#define WORKER_FIGURES_MS	5000


static struct {
	const struct wk_kind	*kind;
	struct event_base	*base;
	struct wire		*wire;
	char			 name[IPC_NAME_MAX + 1];
	int			 in_hook;
	int			 draining;
	pid_t			 ppid;		/* before the sandbox hides it */
	uid_t			 conf_uid;	/* who read sup.config */
	int			 crypto;	/* 1 ready, -1 never wanted */
	int			 figfd;		/* /proc/self/smaps_rollup */
	struct timespec		 figures_at;
} wk;

static uint8_t	cfgbuf[IPC_FRAME_MAX + 1];

static void	worker_log_hook(int, const char *);
static void	worker_dispatch(struct wire *, struct ipc_msg *, void *);
static void	worker_wire_error(struct wire *, enum wire_ev, const char *,
		    void *);
static int	worker_ping(const struct ipc_msg *);
static void	worker_config(const char *, size_t);
static void	worker_openssl_init(void);
static int	worker_shutdown(const struct ipc_msg *);
static int	worker_resync(const struct ipc_msg *);
#ifdef WX_TEST_HOOKS
static int	worker_test(const struct ipc_msg *);
static int	worker_test_forbidden(struct ipc_str);
#endif

/* Frames every kind accepts; the kind's own table comes second. */
static const struct wk_handler common_handlers[] = {
	{ IPC_SUP_PING,		worker_ping },
	{ IPC_SUP_SHUTDOWN,	worker_shutdown },
	{ IPC_SUP_RESYNC,	worker_resync },
#ifdef WX_TEST_HOOKS
	{ IPC_SUP_TEST,		worker_test },
#endif
	{ 0,			NULL }
};

const struct wk_kind *
worker_kind_find(const char *name)
{
	const struct wk_kind *const *kinds;
	size_t i, n;

	kinds = worker_kinds(&n);
	for (i = 0; i < n; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

/*
 * What the sandbox needs to know of a kind.  Asked after pre_sandbox:
 * a kind whose config picks what it does (the agent's backend) names
 * its seccomp profile only then.
 */
void
worker_spec(const struct wk_kind *kind, struct sandbox_spec *spec)
{
	spec->kind = kind->name;
	spec->seccomp = kind->profile != NULL ? kind->profile() : NULL;
	spec->rw_dir = NULL;
	spec->ro_dirs = NULL;
	spec->flags = (kind->flags & WK_F_NONET ? SB_S_NONET : 0) |
	    (kind->flags & WK_F_THREADS ? SB_S_THREADS : 0);
}

struct event_base *
worker_base(void)
{
	return wk.base;
}

const char *
worker_name(void)
{
	return wk.name;
}

int
worker_send(uint32_t type, uint64_t req_id, const void *body)
{
	if (wk.wire == NULL)
		return ipc_send_blocking(IPC_FD, type, req_id, body);
	return wire_send(wk.wire, type, req_id, body);
}

int
worker_send_owed(uint32_t type, uint64_t req_id, const void *body)
{
	if (wk.wire == NULL)
		return ipc_send_blocking(IPC_FD, type, req_id, body);
	return wire_send_owed(wk.wire, type, req_id, body);
}

int
worker_room(void)
{
	return wk.wire == NULL || wire_queued(wk.wire) < WORKER_QUEUE_MAX / 4;
}

int
worker_send_fd(uint32_t type, uint64_t req_id, const void *body, int fd)
{
	if (wk.wire == NULL) {
		close(fd);
		return -1;
	}
	return wire_send_fd(wk.wire, type, req_id, body, fd);
}

/* Kinds call this once they have nothing left in flight after shutdown. */
void
worker_drained(void)
{
	if (wk.draining)
		event_base_loopexit(wk.base, NULL);
}

/* Every log line becomes a "log" frame; the supervisor adds who we are. */
static void
worker_log_hook(int level, const char *line)
{
	struct ipc_body_log b;

	if (wk.in_hook)
		return;
	wk.in_hook = 1;
	/* A line that is not UTF-8 is dropped rather than failing us. */
	if (ipc_log_body(&b, level, line) == 0)
		(void)worker_send(IPC_LOG, 0, &b);
	wk.in_hook = 0;
}

/* Once, unless the kind said it never needs it (worker_crypto_skip). */
static void
worker_openssl_init(void)
{
	if (wk.crypto != 0)
		return;
	wk.crypto = 1;
	worker_crypto_init();
}

/*
 * Its providers and config cost a worker about 2 MiB of RSS, so a
 * process that never hashes, encrypts or asks OpenSSL for randomness
 * says so in its pre_sandbox and goes without.
 */
void
worker_crypto_skip(void)
{
	if (wk.crypto == 0)
		wk.crypto = -1;
}

/*
 * Its own memory, every WORKER_FIGURES_MS with a heartbeat: the hub
 * sees no /proc, a root without CAP_SYS_PTRACE (the systemd unit's)
 * may not read another uid's smaps_rollup, and this process may read
 * its own through the fd it opened before its sandbox.
 */
static void
worker_figures(void)
{
	struct ipc_body_figures b = { 0, 0 };
	char buf[2048], *p;
	ssize_t n;

	if (wk.figfd <= 0 || (wk.figures_at.tv_sec != 0 &&
	    timespec_ms_since(&wk.figures_at) < WORKER_FIGURES_MS))
		return;
	clock_gettime(CLOCK_MONOTONIC, &wk.figures_at);
	/* A seq_file: read from 0, it is made again. */
	if ((n = pread(wk.figfd, buf, sizeof(buf) - 1, 0)) <= 0)
		return;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nRss:")) != NULL)
		b.rss_kb = strtoull(p + 5, NULL, 10);
	if ((p = strstr(buf, "\nPss:")) != NULL)
		b.pss_kb = strtoull(p + 5, NULL, 10);
	if (b.rss_kb > 0 && b.rss_kb < IPC_FIGURE_MAX &&
	    b.pss_kb < IPC_FIGURE_MAX)
		(void)worker_send(IPC_FIGURES, 0, &b);
}

static int
worker_ping(const struct ipc_msg *m)
{
	struct ipc_body_seq b = { m->b.seq.seq };

	/* A pong lost to a full queue would end us (the hub's stall). */
	if (worker_send_owed(IPC_PONG, 0, &b) == -1)
		return -1;
	worker_figures();
	return 0;
}

static int
worker_shutdown(const struct ipc_msg *m)
{
	(void)m;
	if (wk.draining)
		return 0;
	log_debug("%s: draining", __func__);
	wk.draining = 1;
	if (wk.kind->shutdown != NULL)
		wk.kind->shutdown();
	if (!(wk.kind->flags & WK_F_DRAINS)) {
		/* Give close frames and queued IPC one moment to leave. */
		struct timeval tv = { 0, 200 * 1000 };

		event_base_loopexit(wk.base, &tv);
	}
	return 0;
}

/*
 * The hub was restarted and kept our socket: the new one knows nothing
 * the old one was told or asked.  worker.c itself holds nothing of the
 * hub's (a ping is answered with its own seq); a drain the old hub
 * began goes on, as its shutdown cannot be taken back.  The kind does
 * the rest.
 */
static int
worker_resync(const struct ipc_msg *m)
{
	(void)m;
	log_info("the hub was restarted; telling the new one what it must "
	    "know%s", wk.draining ? " (still draining)" : "");
	/* Frames before this one spoke to the old hub: the new drops them. */
	if (worker_send(IPC_RESYNCED, 0, &(struct ipc_body_empty){ 0 }) == -1)
		return -1;
	if (wk.kind->resync != NULL)
		wk.kind->resync();
	return 0;
}

#ifdef WX_TEST_HOOKS
/*
 * Test-only misbehaviour, so tests can prove how the supervisor treats a
 * worker that breaks the protocol.  Absent from normal builds.
 */
static int
worker_test(const struct ipc_msg *m)
{
	static uint8_t big[IPC_FRAME_MAX + 512];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const struct ipc_str a = m->b.test.action;
	struct ipc_body_text t = { IPC_S("not mine") };

	log_warnx("%s: test hook: %.*s", __func__, (int)a.len, a.p);
	if (wk.kind->test != NULL && wk.kind->test(a) == 0)
		return 0;
	/* Neither form: no 0xc1 mark, and an array of 3 whose type is nil. */
	if (ipc_streq(a, "malformed")) {
		memcpy(big, "\x93\xc0\x00garbage", 10);
		return ipc_send_raw(IPC_FD, big, 10, -1);
	}
	if (ipc_streq(a, "unknown")) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 3);
		msgpack_pack_uint32(&pk, 4242);
		msgpack_pack_uint64(&pk, 0);
		msgpack_pack_map(&pk, 0);
		ipc_send_raw(IPC_FD, (uint8_t *)sb.data, sb.size, -1);
		msgpack_sbuffer_destroy(&sb);
		return 0;
	}
	if (ipc_streq(a, "oversized")) {
		memset(big, 0x90, sizeof(big));
		return ipc_send_raw(IPC_FD, big, sizeof(big), -1);
	}
	if (ipc_streq(a, "wrong_role"))
		return worker_send(IPC_AGENT_DELTA, 1, &t);
	/* An operator method straight from a worker: compromised. */
	if (ipc_streq(a, "wrong_role_operator"))
		return worker_send(IPC_CTL_STATUS, 1, &t);
	/* One of the hub's requests to the parent: there is no such path. */
	if (ipc_streq(a, "ask_parent"))
		return worker_send(IPC_HUB_STOP, 0,
		    &(struct ipc_body_empty){ 0 });
	if (ipc_streq(a, "hang")) {
		/*
		 * Stop answering heartbeats without exiting.  It blocks in
		 * epoll_wait on an empty set, which every seccomp profile
		 * allows (pause() is not, and would die of SIGSYS instead).
		 */
		struct epoll_event ev;
		int efd = epoll_create1(EPOLL_CLOEXEC);

		for (;;)
			if (efd == -1)
				pause();
			else
				(void)epoll_wait(efd, &ev, 1, -1);
	}
	if (ipc_streq(a, "crash"))
		abort();
	/* Issue #11: sup.config is never decoded as root. */
	if (ipc_streq(a, "config_uid")) {
		log_warnx("test hook: config read as uid %u",
		    (unsigned)wk.conf_uid);
		return 0;
	}
	return worker_test_forbidden(a);
}

/*
 * Forbidden actions, to prove the sandbox stops each one.  A line saying
 * that one succeeded is what the sandbox tests look for to fail.
 */
static int
worker_test_forbidden(struct ipc_str a)
{
	struct sockaddr_in sin;
	char *const argv[] = { "sh", "-c", "true", NULL };
	int fd;

	if (ipc_streq(a, "execve")) {
		execve("/bin/sh", argv, NULL);
		log_warnx("test hook: execve returned: %s", strerror(errno));
	} else if (ipc_streq(a, "ptrace")) {
		if (ptrace(PTRACE_ATTACH, wk.ppid, NULL, NULL) == 0)
			log_warnx("test hook: FORBIDDEN ptrace succeeded");
		else
			log_warnx("test hook: ptrace: %s", strerror(errno));
	} else if (ipc_streq(a, "fork")) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid > 0)
			log_warnx("test hook: FORBIDDEN fork succeeded");
		else
			log_warnx("test hook: fork: %s", strerror(errno));
	} else if (ipc_streq(a, "open_shadow")) {
		if ((fd = open("/etc/shadow", O_RDONLY)) != -1) {
			log_warnx("test hook: FORBIDDEN open succeeded");
			close(fd);
		} else
			log_warnx("test hook: open /etc/shadow: %s",
			    strerror(errno));
	} else if (ipc_streq(a, "mount")) {
		if (mount("none", "/", "tmpfs", 0, NULL) == 0)
			log_warnx("test hook: FORBIDDEN mount succeeded");
		else
			log_warnx("test hook: mount: %s", strerror(errno));
	} else if (ipc_streq(a, "setuid")) {
		if (setuid(0) == 0)
			log_warnx("test hook: FORBIDDEN setuid(0) succeeded");
		else
			log_warnx("test hook: setuid: %s", strerror(errno));
	} else if (ipc_streq(a, "kill_parent")) {
		if (kill(wk.ppid, SIGTERM) == 0)
			log_warnx("test hook: FORBIDDEN kill succeeded");
		else
			log_warnx("test hook: kill: %s", strerror(errno));
	} else if (ipc_streq(a, "connect")) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
			log_warnx("test hook: socket: %s", strerror(errno));
			return 0;
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(9);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
		    errno == ECONNREFUSED)
			log_warnx("test hook: FORBIDDEN connect reached "
			    "127.0.0.1");
		else
			log_warnx("test hook: connect: %s", strerror(errno));
		close(fd);
	} else
		log_warnx("test hook: unknown action");
	return 0;
}
#endif

static void
worker_dispatch(struct wire *c, struct ipc_msg *m, void *arg)
{
	const struct wk_handler *h;
	const struct ipc_msginfo *mi = ipc_msginfo(m->type);

	(void)c;
	(void)arg;
	if (!(mi->roles & ROLE_SUP))
		fatalx("%s: supervisor sent %s, which only workers send",
		    __func__, mi->name);
	for (h = common_handlers; h->fn != NULL; h++)
		if (h->type == m->type)
			goto found;
	for (h = wk.kind->handlers; h->fn != NULL; h++)
		if (h->type == m->type)
			goto found;
	fatalx("%s: %s: unexpected %s", __func__, wk.kind->name, mi->name);
found:
	if (h->fn(m) == -1)
		fatalx("%s: %s failed", __func__, mi->name);
}

static void
worker_wire_error(struct wire *c, enum wire_ev ev, const char *why,
    void *arg)
{
	(void)c;
	(void)arg;
	/* The supervisor went away: nothing left to serve. */
	if (ev == WIRE_EOF)
		_exit(0);
	fatalx("worker wire: %s", why);
}

/*
 * The sup.config frame, read as the unprivileged user: checked against
 * the kind argv named, its slice parsed and handed to pre_sandbox.
 */
static void
worker_config(const char *spec, size_t kindlen)
{
	struct ipc_msg m;
	enum ipc_err err;
	json_error_t jerr;
	json_t *conf;

	/* The config frame comes first, before anything else can. */
	wk.conf_uid = geteuid();
	if (ipc_recv_blocking(IPC_FD, cfgbuf, sizeof(cfgbuf), &m, &err) == -1)
		fatalx("reading config: %s", ipc_strerror(err));
	if (m.type != IPC_SUP_CONFIG)
		fatalx("expected sup.config, got %s", ipc_type_name(m.type));
	snprintf(wk.name, sizeof(wk.name), "%.*s",
	    (int)m.b.config.name.len, m.b.config.name.p);
	log_procinit(wk.name);
	log_setverbose((int)m.b.config.verbose);
	if (!ipc_streq(m.b.config.kind, "") &&
	    (kindlen != m.b.config.kind.len ||
	    memcmp(spec, m.b.config.kind.p, kindlen) != 0))
		fatalx("config is for kind %.*s, not %s",
		    (int)m.b.config.kind.len, m.b.config.kind.p, spec);
	conf = json_loadb(m.b.config.conf.p, m.b.config.conf.len, 0, &jerr);
	if (conf == NULL || !json_is_object(conf))
		fatalx("config slice is not a JSON object: %s", jerr.text);
	if (wk.kind->pre_sandbox != NULL && wk.kind->pre_sandbox(conf) == -1)
		fatalx("%s: pre-sandbox setup failed", wk.kind->name);
	json_decref(conf);
	worker_openssl_init();
}

/*
 * The part of a worker's start that is the same for every process of a
 * kind: argv read as root, then the uid dropped.  A zygote (zygote.c)
 * stops here and forks; a worker started by exec goes on at once.
 */
void
worker_begin(const char *spec, const char *creds, int verbose,
    struct worker_start *ws, int zygote)
{
	const char *colon;
	char kname[IPC_NAME_MAX + 1];

	log_init(verbose, 0);
	log_procinit(spec);
	jsonalloc_init();
	signal(SIGPIPE, SIG_IGN);
	/* A terminal's ^C or hangup is for the supervisor, which drains us. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* As root, nothing is read but argv: "kind:index" and -u. */
	if ((colon = strchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) >= sizeof(kname))
		fatalx("bad worker spec %s", spec);
	snprintf(kname, sizeof(kname), "%.*s", (int)(colon - spec), spec);
	if ((wk.kind = worker_kind_find(kname)) == NULL)
		fatalx("unknown worker kind %s", kname);
	if (creds == NULL || sandbox_conf_parse(creds, &ws->sbconf) == -1)
		fatalx("bad or missing credentials (-u)");
	wk.ppid = getppid();
	/*
	 * What fails from here on is logged through the supervisor; a
	 * zygote's socket is the parent's, which reads no log frames.
	 */
	if (!zygote)
		log_sethook(worker_log_hook);
	/* No kind code as root: the spec matters only to sandbox_confine. */
	memset(&ws->sbspec, 0, sizeof(ws->sbspec));
	sandbox_drop(&ws->sbspec, &ws->sbconf, &ws->report);
	ipc_catalogue_all();
	/* A zygote's children share what it set up; others wait for config. */
	if (zygote)
		worker_openssl_init();
}

/* The rest of a worker's life, as the sandbox user: config, confine, run. */
int
worker_run(const char *spec, struct worker_start *ws)
{
	struct ipc_body_hello hello;
	struct ipc_body_empty empty = { 0 };
	char line[512];

	log_sethook(worker_log_hook);
	/* The sandbox user, with the host's files still in sight. */
	worker_config(spec, strlen(wk.kind->name));
	/* After pre_sandbox: the agent's backend picks its profile. */
	worker_spec(wk.kind, &ws->sbspec);
	/* Its own figures stay readable in the empty root (worker_figures). */
	if ((wk.figfd = open("/proc/self/smaps_rollup", O_RDONLY |
	    O_CLOEXEC)) != -1)
		sandbox_keep_fd(wk.figfd);
	sandbox_confine(&ws->sbspec, &ws->sbconf, &ws->report);
	sandbox_summary(&ws->report, line, sizeof(line));
	log_info("sandbox: %s", line);

	if ((wk.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	wk.wire = wire_new(wk.base, IPC_FD, WORKER_QUEUE_MAX,
	    worker_dispatch, worker_wire_error, NULL);
	/* Only the supervisor may hand us fds, and only on MSG_FD types. */
	wire_set_fd_ok(wk.wire, 1);

	hello.version = IPC_VERSION;
	hello.kind = ipc_s(wk.kind->name);
	if (worker_send(IPC_HELLO, 0, &hello) == -1)
		fatalx("sending hello");
	if (wk.kind->post_sandbox != NULL &&
	    wk.kind->post_sandbox(wk.base) == -1)
		fatalx("%s: post-sandbox setup failed", wk.kind->name);
	if (worker_send(IPC_READY, 0, &empty) == -1)
		fatalx("sending ready");

	event_base_dispatch(wk.base);
	log_debug("exiting");
	return 0;
}

int
worker_main(const char *spec, const char *creds, int verbose)
{
	struct worker_start ws;

	worker_begin(spec, creds, verbose, &ws, 0);
	return worker_run(spec, &ws);
}

/* A zygote's child: its parent is now the root parent (CLONE_PARENT). */
void
worker_reparented(pid_t ppid)
{
	wk.ppid = ppid;
}
