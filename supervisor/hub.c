/*
 * The hub: the store, the router, policy, admission, channel delivery
 * and the control socket, in a process of its own that the root parent
 * re-executes ("wxgated -x hub:main") and that drops to its own uid,
 * into an empty root holding only the store's directory, under Landlock
 * and a seccomp allowlist before it reads a byte of configuration.
 *
 * The parent hands it the configuration file's text (parsed here, in
 * the sandbox, without the secrets it names), the control socket and
 * one socket per worker.  If it dies the parent starts another and
 * hands it the same sockets: the workers never notice but for
 * sup.resync, and the store says what was unfinished.
 */
#include <sys/ptrace.h>
#include <sys/types.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "account.h"
#include "clock.h"
#include "codec.h"
#include "config.h"
#include "entry.h"
#include "hub.h"
#include "log.h"
#include "logring.h"
#include "sandbox.h"
#include "store.h"
#include "wire.h"
#include "wire_blocking.h"
#include "xmalloc.h"

/* How often the WAL is folded into the database, off the message path. */
#define CHECKPOINT_MS	2000
/*
 * The session sweep runs four times per idle TTL, so a session outlives
 * its TTL by a quarter at most, but never more often than each second
 * (it scans the sessions table) nor less often than each minute.
 */
#define SWEEP_MIN_S	1
#define SWEEP_MAX_S	60
/*
 * Audit retention deletes at most AUDIT_BATCH rows a run: a few ms of
 * the event loop and a small commit.  Runs come every AUDIT_PRUNE_MS,
 * or after AUDIT_AGAIN_MS while a backlog remains (a flood of denials,
 * or a lowered limit), so 10000 rows a second drain at most.
 */
#define AUDIT_PRUNE_MS	10000
#define AUDIT_AGAIN_MS	100
#define AUDIT_BATCH	1000
/* The configuration file's limit (config_yaml.c), as parts arrive. */
#define HUB_CONF_MAX	(1024 * 1024)
/* Frames queued to the parent before the hub counts it as gone. */
#define HUB_PARENT_QUEUE	4096

static struct {
	struct wire	*parent;
	char		*store;		/* absolute, from the parent */
	char		*text;		/* configuration parts so far */
	size_t		 len;
	int		 in_hook;
	struct event	*sweep_ev;
	struct event	*audit_ev;
	struct event	*ckpt_ev;
} hub;

static void
hub_turn_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (sup->store == NULL)		/* closed: stopping */
		return;
	router_flush();
	durable_commit();
#ifdef WX_TEST_HOOKS
	/*
	 * Held: nothing is committed, so nothing may go to agents or
	 * platforms either, as while a real commit blocks the loop.
	 */
	if (durable_test_held())
		return;
#endif
	/* Now the chat.done of what that commit made final, in this turn. */
	router_flush();
	store_wal_check(sup->store);
	/* Only what is committed goes to agents and platforms. */
	store_read_begin(sup->store);
	agentq_pump();
	channel_flush();
	store_read_end(sup->store);
}

/* Ask for one flush at the end of this loop turn (group commit). */
void
sup_turn(void)
{
	if (sup->turn_ev != NULL &&
	    !event_pending(sup->turn_ev, EV_TIMEOUT, NULL))
		event_active(sup->turn_ev, EV_TIMEOUT, 1);
}

static void
hub_checkpoint_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	store_checkpoint(sup->store);
}

static void
hub_sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	router_sweep();
	channel_sweep();
	sup_turn();
}

static void
hub_sweep_arm(void)
{
	struct timeval tv = { 0, 0 };
	uint32_t s = sup->conf->policy.idle_ttl_s / 4;

	if (hub.sweep_ev == NULL && (hub.sweep_ev = event_new(sup->base, -1,
	    EV_PERSIST, hub_sweep_cb, NULL)) == NULL)
		fatalx("sweep timer");
	tv.tv_sec = s < SWEEP_MIN_S ? SWEEP_MIN_S : s > SWEEP_MAX_S ?
	    SWEEP_MAX_S : s;
	if (event_add(hub.sweep_ev, &tv) == -1)
		fatalx("sweep timer");
}

static void	hub_audit_cb(evutil_socket_t, short, void *);

static void
hub_audit_arm(unsigned ms)
{
	struct timeval tv = clock_tv(ms);

	if (hub.audit_ev == NULL && (hub.audit_ev = event_new(sup->base, -1,
	    0, hub_audit_cb, NULL)) == NULL)
		fatalx("audit timer");
	if (event_add(hub.audit_ev, &tv) == -1)
		fatalx("audit timer");
}

static void
hub_audit_cb(evutil_socket_t fd, short ev, void *arg)
{
	const struct cfg_policy *p = &sup->conf->policy;
	int n;

	(void)fd;
	(void)ev;
	(void)arg;
	n = store_audit_prune(sup->store, sup_now() -
	    (int64_t)p->audit_max_age_days * 86400, p->audit_max_rows,
	    AUDIT_BATCH);
	sup_turn();
	hub_audit_arm(n == AUDIT_BATCH ? AUDIT_AGAIN_MS : AUDIT_PRUNE_MS);
}

/* The database and its journals, left by the hub before. */
static void
hub_store_unlink(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		if (unlink(p) == -1 && errno != ENOENT)
			fatal("working set %s", p);
	}
}

/* What follows the configuration, on start and on every reload. */
static void
hub_apply(void)
{
	const struct cfg_supervisor *c = &sup->conf->supervisor;

	admit_init();
	channel_init();
	pause_init();
	hub_sweep_arm();
	store_wal_limits(sup->store, c->wal_checkpoint_bytes,
	    c->wal_max_bytes);
	heartbeat_init();
}

static void
hub_start(void)
{
	struct timeval tv = clock_tv(CHECKPOINT_MS);
	char err[CFG_ERR_MAX];

	/* A node's working set starts empty: the truth is PostgreSQL's. */
	if (hub_pg_on())
		hub_store_unlink(hub.store);
	if ((sup->store = store_open(hub.store, err, sizeof(err))) == NULL)
		fatalx("store: %s", err);
	if ((sup->turn_ev = event_new(sup->base, -1, 0, hub_turn_cb,
	    NULL)) == NULL)
		fatalx("event_new");
	hub.ckpt_ev = event_new(sup->base, -1, EV_PERSIST, hub_checkpoint_cb,
	    NULL);
	if (hub.ckpt_ev == NULL || event_add(hub.ckpt_ev, &tv) == -1)
		fatalx("checkpoint timer");
	/* Before the channels: bound accounts are channels too. */
	account_init();
	hub_apply();
	/* Soon after start: a lowered limit takes effect at once. */
	hub_audit_arm(AUDIT_AGAIN_MS);
	router_init();
	/* After the agents' admissions: a run due now asks one. */
	schedule_init();
	if (hub_pg_on())
		hub_pg_start();
	log_info("hub ready: store %s", hub.store);
}

/* hub.config: the file's text in parts; the last one applies it. */
int
hub_config(struct ipc_msg *m)
{
	const struct ipc_body_hub_config *b = &m->b.hub_config;
	char err[CFG_ERR_MAX];
	struct config *nc, *oc;

	if (hub.len + b->part.len > HUB_CONF_MAX)
		return -1;
	hub.text = xreallocarray(hub.text, hub.len + b->part.len + 1, 1);
	memcpy(hub.text + hub.len, b->part.p, b->part.len);
	hub.len += b->part.len;
	hub.text[hub.len] = '\0';
	if (!b->last)
		return 0;
	log_setverbose((int)b->verbose);
	sup->verbose = (int)b->verbose;
	nc = config_parse("wxgate.yaml", hub.text, hub.len, CFG_F_HUB, err,
	    sizeof(err));
	free(hub.text);
	hub.text = NULL;
	hub.len = 0;
	if (nc == NULL) {
		/* The parent checked the same text: this is a broken hub. */
		log_warnx("hub: configuration: %s", err);
		return -1;
	}
	/* The paths that matter are the parent's, fixed at start. */
	free(nc->store);
	nc->store = xstrdup(hub.store);
	if (sup->conf == NULL) {
		sup->conf = nc;
		hub_start();
		return 0;
	}
	/* As the parent did before the split: re-initialise, then free. */
	oc = sup->conf;
	account_reload(nc);
	sup->conf = nc;
	hub_apply();
	agentq_init();
	schedule_init();
	config_free(oc);
	log_info("hub: configuration applied");
	return 0;
}

#ifdef WX_TEST_HOOKS
/*
 * wxgatectl test hub ACTION: "syscall" makes one that neither hub's
 * allowlist has (ptrace of the parent: wxgate-hub-pg may make sockets),
 * so tests see it die of SIGSYS and return; "crash" aborts.  A moment
 * later, so the operator's answer leaves.
 */
static void
hub_test_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	if (arg == NULL)
		abort();
	log_warnx("hub: test hook: ptrace(PTRACE_ATTACH)");
	if (ptrace(PTRACE_ATTACH, getppid(), NULL, NULL) == 0)
		log_warnx("hub: test hook: FORBIDDEN ptrace succeeded");
}

/*
 * "spawn_loopback", "spawn_agent", "unspawn_loopback": the narrow
 * request for accounts made at run time, as the binding code will use
 * it; the parent must refuse anything but a channel kind.
 */
void
hub_test(struct ipc_str action)
{
	struct timeval tv = { 0, 100 * 1000 };
	struct ipc_body_hub_ref b = { IPC_S("loopback.rt"), 0, IPC_S(""), 0 };

	if (ipc_streq(action, "syscall") || ipc_streq(action, "crash"))
		event_base_once(sup->base, -1, EV_TIMEOUT, hub_test_cb,
		    ipc_streq(action, "crash") ? NULL : sup, &tv);
	else if (ipc_streq(action, "spawn_loopback"))
		hub_request_spawn("loopback", "rt", "{\"account\":\"rt\"}");
	else if (ipc_streq(action, "spawn_agent"))
		hub_request_spawn("agent", "rt", "{\"type\":\"echo\"}");
	else if (ipc_streq(action, "unspawn_loopback"))
		hub_request(IPC_HUB_UNSPAWN, &b);
	else
		log_warnx("hub: test hook: unknown action");
}
#endif

/* sup.shutdown from the parent: every worker has stopped. */
int
hub_shutdown(struct ipc_msg *m)
{
	(void)m;
	if (sup->store != NULL) {
		router_flush();
		durable_commit();
		store_close(sup->store);
		sup->store = NULL;
	}
	control_close();
	/*
	 * Break, not exit: with the store closed, no other callback of
	 * this turn may run (a checkpoint, sweep or audit timer that fell
	 * due with this frame would use it).
	 */
	event_base_loopbreak(sup->base);
	return 0;
}

/*
 * Every log line goes to the parent, which writes it; we hold no file.
 * The console's log page gets the same lines (logring.c).
 */
static void
hub_log_hook(int level, const char *line)
{
	struct ipc_body_log b;

	if (hub.in_hook)
		return;
	hub.in_hook = 1;
	logring_add(level, line);
	/* Before the loop (a fatal in the sandbox's set-up): blocking. */
	if (ipc_log_body(&b, level, line) == 0) {
		if (hub.parent != NULL)
			(void)wire_send(hub.parent, IPC_LOG, 0, &b);
		else
			(void)ipc_send_blocking(IPC_FD, IPC_LOG, 0, &b);
	}
	hub.in_hook = 0;
}

static void
hub_parent_err(struct wire *c, enum wire_ev ev, const char *why, void *arg)
{
	(void)c;
	(void)arg;
	/* The parent is gone: the workers die with it (PDEATHSIG). */
	if (ev == WIRE_EOF)
		_exit(0);
	hub.parent = NULL;
	fatalx("hub: parent link: %s", why);
}

#ifdef WX_TEST_HOOKS
/*
 * Seconds added to the wall clock (wxgatectl test supervisor clock:...),
 * so schedule tests need not wait for the hour to turn.  Only sup_now()
 * readers see it: the store's times and schedules move together.
 */
static int64_t	sup_clock_offset;

void
sup_clock_set(int64_t offset)
{
	sup_clock_offset = offset;
}
#endif

int64_t
sup_now(void)
{
#ifdef WX_TEST_HOOKS
	return (int64_t)time(NULL) + sup_clock_offset;
#else
	return (int64_t)time(NULL);
#endif
}

int
hub_main(const char *spec, const char *creds, const char *store,
    int verbose)
{
	static struct sup s;
	struct sandbox_conf sc;
	struct sandbox_report report;
	struct sandbox_spec sb;
	char dir[PATH_MAX], line[512];

	log_init(verbose, 0);
	log_procinit("hub");
	/* Every line to the parent, which writes it; we keep no stderr. */
	log_sethook(hub_log_hook);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (strcmp(spec, "hub:main") != 0 || creds == NULL || store == NULL ||
	    store[0] != '/')
		fatalx("hub: started without its arguments");
	/* Nothing else is read before the uid drop. */
	if (sandbox_conf_parse(creds, &sc) == -1)
		fatalx("hub: bad credentials \"%s\"", creds);
	snprintf(dir, sizeof(dir), "%s", store);
	hub_spec(&sb, dirname(dir));
	hub_pg_spec(&sb);
	/*
	 * Root ends here, as a worker's does: the store's directory is
	 * entered first (a path only root may walk still binds), and the
	 * namespaces are built in sandbox_confine, in a user namespace.
	 */
	sandbox_drop(&sb, &sc, &report);
	sup = &s;
	TAILQ_INIT(&sup->workers);
	sup->hub = 1;
	sup->control_fd = -1;
	hub.store = xstrdup(store);
	/* SQLite seeds its randomness while /dev/urandom is still there. */
	sqlite3_initialize();
	sqlite3_randomness(sizeof(line), line);
	sandbox_confine(&sb, &sc, &report);
	/* Peers outside it read as the overflow uid (control.c). */
	control_userns(report.on[SB_USERNS]);
	/* Slices the hub builds hold keys: jansson's blocks are wiped. */
	jsonalloc_init();
	ipc_catalogue_all();

	if ((sup->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	hub.parent = wire_new(sup->base, IPC_FD, HUB_PARENT_QUEUE,
	    hub_link_msg, hub_parent_err, NULL);
	/* The parent hands us worker sockets and the control socket. */
	wire_set_fd_ok(hub.parent, 1);
	hub_link_set(hub.parent);
	sandbox_summary(&report, line, sizeof(line));
	log_info("sandbox: %s", line);

	event_base_dispatch(sup->base);
	log_debug("hub: exiting");
	logring_free();
	return 0;
}
