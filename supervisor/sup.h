/*
 * Supervisor-wide state and the interfaces between its files.  Two
 * processes share them, each filling in its own part of struct sup:
 *
 *   the root parent: main.c (setup, signals), conf_fetch.c (the
 *   configuration reader's plan, plan.h), reload.c (the workers the
 *   plan wants), spawn.c (birth), reap.c (death and backoff),
 *   parent_hub.c (the hub's process and the narrow requests it may
 *   make); it holds no struct config and links no config*.c;
 *
 *   the configuration reader, one-shot and sandboxed: conf_reader.c
 *   and the configuration code (config*.c, kinds_want.c);
 *
 *   the hub, unprivileged and sandboxed: hub.c (its life), hub_link.c
 *   (what the parent tells it, what it asks), heartbeat.c (worker
 *   liveness), router*.c (what workers ask for), control.c
 *   (wxgatectl), the store and the policy.
 *
 * Both keep a struct worker per worker: the parent for the process, the
 * hub for the socket and what flows through it.
 */
#ifndef WX_SUP_H
#define WX_SUP_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "ipc_msg.h"

#ifndef TAILQ_FOREACH_SAFE	/* glibc's sys/queue.h predates it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct wire;
struct config;
struct plan;
struct event;
struct event_base;
struct store;

enum w_state {
	W_STARTING,	/* forked, no ready yet */
	W_RUNNING,	/* ready received */
	W_BACKOFF,	/* dead, restart timer armed */
	W_FAILED,	/* crash loop: parked until an operator restarts it */
	W_STOPPING,	/* sup.shutdown sent, waiting for exit */
	W_STOPPED	/* exited on purpose */
};

#define W_F_HELLO	0x01	/* hello received */
#define W_F_REMOVE	0x02	/* forget it once it has exited */
#define W_F_RESPAWN	0x04	/* operator restart: respawn at once */
#define W_F_RUNTIME	0x08	/* an account the hub started: no slice kept */
#define W_F_REAPED	0x10	/* dead of SIGSYS, waiting for the syscall */
#define W_F_RESYNC	0x20	/* hub: taken over, "resynced" not yet said */
#define W_F_WANTED	0x40	/* parent: the reloaded file has it */

#define W_DEATHS_MAX	64	/* crash-loop window history */

struct worker {
	TAILQ_ENTRY(worker)	 entry;
	char			 name[IPC_NAME_MAX + 1];	/* webchat.0 */
	char			 kind[IPC_NAME_MAX + 1];	/* webchat */
	char			 id[IPC_NAME_MAX + 1];		/* 0, default */
	int			 role;
	char			*conf;		/* JSON slice it was given */
	pid_t			 pid;
	uint64_t		 gen;		/* incarnation, bumped per spawn */
	struct wire		*wire;
	int			 flags;
	enum w_state		 state;
	struct timespec		 started;
	uint64_t		 restarts;
	char			 last_exit[128];
	char			 kill_why[96];
	uint64_t		 msgs_in;
	uint64_t		 msgs_out;
	uint64_t		 seccomp_kills;
	int64_t			 violation;	/* syscall it trapped on, or -1 */
	uint64_t		 ping_seq;
	uint64_t		 pong_seq;	/* last ping answered */
	struct timespec		 last_seen;	/* spawn or last pong */
	uint32_t		 backoff_ms;
	struct timespec		 deaths[W_DEATHS_MAX];
	unsigned		 ndeaths;
	struct event		*restart_ev;
	struct event		*grace_ev;	/* parent: drain deadline */
	struct event		*held_ev;	/* parent: see W_F_REAPED */
	int			 held_status;
	int			 hubfd;		/* parent: the hub's end */
	char			 pstate[16];	/* hub: the parent's word */
	uint64_t		 rss_kb;	/* process figures, read by the */
	uint64_t		 pss_kb;	/* parent, shown by the hub */
	struct timespec		 figures_at;	/* parent: when last read */
};

TAILQ_HEAD(workerlist, worker);

struct sup {
	struct event_base	*base;
	struct config		*conf;		/* hub: the parsed file */
	struct plan		*plan;		/* parent: the reader's plan */
	const char		*conf_path;
	struct store		*store;
	struct workerlist	 workers;
	int			 listen_fd;
	char			*listen_addr;
	char			 exe[4096];
	int			 verbose;
	int			 stopping;
	uid_t			 sb_uid;	/* workers drop to these */
	gid_t			 sb_gid;
	uid_t			 hub_uid;	/* the hub drops to these */
	gid_t			 hub_gid;
	int			 control_fd;	/* parent: bound, listening */
	int			 hub;		/* this process is the hub */
	int			 exit_status;	/* parent: main's return */
	int			 sandbox_log;	/* --sandbox-log */
	struct event		*turn_ev;	/* end-of-turn flush */
	struct event		*grace_ev;
};

extern struct sup	*sup;

/* One figure for wxgatectl stats: name, value. */
typedef void	(*stat_fn)(const char *, uint64_t, void *);

/* admit.c (what it keeps on a connection's record: router_int.h) */
void		 admit_init(void);
void		 admit_deny(struct worker *, int64_t session, const char *method,
		    const char *detail);
int		 admit_conn_open(struct worker *,
		    const struct ipc_body_conn_open *, uint64_t *retry_ms);
const char	*admit_conn_client(struct worker *, uint64_t conn);
unsigned	 admit_conns(void);
uint64_t	 admit_http(struct ipc_str peer, struct ipc_str forwarded);
void		 admit_sweep(void);
int		 admit_peer_open(struct worker *,
		    const struct ipc_body_conn_addr *, uint64_t *retry_ms);
int		 sup_peer_open(struct worker *, struct ipc_msg *);
int		 sup_peer_close(struct worker *, struct ipc_msg *);

/* main.c */
void		 sup_stop(void);
void		 sup_turn(void);
int64_t		 sup_now(void);
#ifdef WX_TEST_HOOKS
/* sup_now() is time(NULL) + offset from now on. */
void		 sup_clock_set(int64_t offset);
#endif
uint64_t	 timespec_ms_since(const struct timespec *);
int		 sup_listen_open(const char *);
int		 sup_sandbox_ids(const struct plan *, uid_t *, gid_t *);
int		 sup_hub_ids(const struct plan *, uid_t *, gid_t *);

/* listener.c: the callback accounts' and metrics' listening sockets */
int		 listener_prepare(const struct plan *);
void		 listener_abort(void);
void		 listener_commit(const struct plan *);
int		 listener_fd(const char *kind, const char *id);
const char	*listener_addr(const char *kind, const char *id);
/* router_relay.c: close the relays of agent's revoked token id. */
void		 router_relay_revoked(const char *agent, int64_t id);

/* notify.c: systemd's readiness and watchdog (sd_notify protocol) */
void		 notify_init(void);
void		 notify_send(const char *);
void		 notify_ready(void);
void		 notify_reloading(void);

/* reload.c: the workers the configuration wants */
void		 reload_spawn_all(void);
void		 reload_config(void);

/* spawn.c */
struct worker	*spawn_new(const char *kind, const char *id, int role,
		    const char *conf);
int		 spawn_worker(struct worker *);
void		 spawn_shutdown(struct worker *);
struct worker	*spawn_find(const char *name);
void		 spawn_restart(struct worker *);
void		 spawn_exec(int fd, char *const argv[]) __attribute__((noreturn));
void		 spawn_creds(uid_t, gid_t, char *, size_t);

/* zygote.c */
void		 zygote_init(void);
pid_t		 zygote_fork(const struct worker *, int);
int		 zygote_died(pid_t, int);
void		 zygote_stop(void);

/* reap.c */
void		 reap_init(void);
void		 reap_kill(struct worker *, const char *why);
void		 reap_stopped(void);
void		 reap_syscall(struct worker *, int64_t);
const char	*reap_signame(int);

/* parent_hub.c: the hub's process, from the parent */
void		 parent_hub_start(void);
int		 parent_hub_died(pid_t, int status);
void		 parent_hub_attach(struct worker *);
void		 parent_hub_worker(struct worker *);
void		 parent_hub_detach(struct worker *, const char *why);
void		 parent_hub_drain(struct worker *);
void		 parent_hub_config(void);
void		 parent_hub_stop(void);
int		 parent_hub_alive(void);
void		 parent_hub_waited(void);
int		 control_open(const char *path);
int		 parent_store_own(const char *store, uid_t, gid_t);

/* conf_reader.c: the configuration reader's life */
struct sandbox_spec;
int		 reader_main(const char *spec, const char *creds, int verbose);
void		 reader_spec(struct sandbox_spec *);

/* hub.c, hub_link.c: the hub's life and its link to the parent */
int		 hub_main(const char *spec, const char *creds,
		    const char *store, int verbose);
int		 hub_config(struct ipc_msg *);
int		 hub_shutdown(struct ipc_msg *);
void		 hub_test(struct ipc_str action);
struct sandbox_spec;
void		 hub_spec(struct sandbox_spec *, const char *dir);
struct wire;
void		 hub_link_set(struct wire *);
void		 hub_link_msg(struct wire *, struct ipc_msg *, void *);
void		 hub_kill(struct worker *, const char *why);
void		 hub_violation(struct worker *, const char *why);
void		 hub_overflow(struct worker *);
uint64_t	 hub_overflows(void);
void		 hub_worker_up(struct worker *);
void		 hub_worker_syscall(struct worker *, uint64_t);
void		 hub_request_restart(const char *name);
void		 hub_request_stop(void);
void		 hub_request(uint32_t type, const void *body);
int		 hub_request_spawn(const char *kind, const char *id,
		    const char *conf);
void		 hub_link_init(void);

/* heartbeat.c */
void		 heartbeat_init(void);
void		 heartbeat_pong(struct worker *, uint64_t seq);

/* A role's table of frame handlers (router.c, channel.c). */
#define H_FIRST		0x01	/* must be the first frame (hello) */
#define H_ONCE		0x02	/* once per incarnation */
#define H_EARLY		0x04	/* also before hello (pre-sandbox logs) */
#define H_LIMIT		0x08	/* a browser request: narrowing, buckets */

struct sup_handler {
	uint32_t	  type;
	int		  flags;
	/* -1: a bad frame, the worker is killed as misbehaving. */
	int		(*fn)(struct worker *, struct ipc_msg *);
};

/* channel.c: platform accounts (role channel) */
extern const struct sup_handler channel_handlers[];
/* console.c: the operator console's worker */
extern const struct sup_handler console_handlers[];
void		 channel_init(void);
void		 channel_flush(void);
void		 channel_stats(stat_fn, void *);
void		 channel_reply(const char *account, const char *peer,
		    const char *ctx, int64_t msg_id, const char *reply);
int		 channel_reply_part(const char *account, const char *peer,
		    const char *ctx, int64_t msg_id, const char *reply,
		    int seq);
/* A schedule run's text: the target's state, why in detail. */
const char	*channel_queue_run(const char *account, const char *peer,
		    const char *text, int64_t run, int64_t hold_s,
		    char *detail, size_t len);
struct store_attach;
int		 channel_reply_file(const char *account, const char *peer,
		    const char *ctx, int64_t msg_id, int seq,
		    const struct store_attach *);
int		 channel_send_file(const struct store_attach *, int64_t *id,
		    char *err, size_t errlen);
size_t		 channel_file_max(void);
int		 channel_send(const char *account, const char *target,
		    const char *text, int64_t *ids, int max, char *err,
		    size_t errlen);
void		 channel_sweep(void);
void		 channel_failed(int64_t session, int64_t msg_id,
		    struct ipc_str code);
void		 channel_failure_text(char *, size_t, struct ipc_str code);
void		 channel_worker_ready(struct worker *);
void		 channel_worker_down(struct worker *);
/* The QR login URL an account's worker is showing, or NULL. */
const char	*channel_login_url(const char *account);
/* The number the phone shows, for the worker's login; 0 or -1. */
int		 channel_login_code(const char *account, struct ipc_str code);

/* durable.c: claims that wait for the turn's commit */
struct durable;
typedef void	(*durable_fn)(struct durable *, int ok);
struct durable {
	TAILQ_ENTRY(durable)	 entry;
	durable_fn		 fn;
	char			 wname[IPC_NAME_MAX + 1];	/* to answer */
	uint64_t		 gen;		/* ... this incarnation */
	uint64_t		 req_id;
	uint64_t		 conn;
	int64_t			 id;		/* message, request, session */
	int64_t			 session;
	char			*str;		/* owned, freed after fn */
	char			*str2;
};
struct durable	*durable_after(durable_fn);
int		 durable_commit(void);
uint64_t	 durable_failures(int *now);
/* The worker a claim answers, if that incarnation still runs. */
struct worker	*durable_worker(const struct durable *);
void		 durable_for(struct durable *, struct worker *,
		    uint64_t req_id, uint64_t conn);

/* agentq.c: agent admission (the rest is in areq.h) */
void		 agentq_init(void);
void		 agentq_pump(void);
void		 agentq_stats(stat_fn, void *);

/* router.c: frames from workers, after the role check */
int		 router_send(struct worker *, uint32_t type, uint64_t req_id,
		    const void *body);
int		 router_send_fd(struct worker *, uint32_t type,
		    uint64_t req_id, const void *body, int fd);
void		 router_sweep(void);
void		 router_init(void);
void		 router_dispatch(struct worker *, struct ipc_msg *);
void		 router_worker_ready(struct worker *);
void		 router_worker_down(struct worker *);
void		 router_flush(void);
int		 router_stop_session(int64_t session);
int		 router_idle(void);
void		 router_share_url(char *, size_t, const char *, size_t);

/*
 * share.c: a share link as the operator names it.  Listings show
 * SHARE_PREFIX hex digits of its hash, enough to revoke it by;
 * share_revoke takes that or the link's secret: 0 done, 1 none,
 * 2 ambiguous, -1 store error.
 */
#define SHARE_PREFIX	12
int		 share_revoke(const char *id, size_t len);

/*
 * schedule.c: the hub's schedule timer and runs (issue #15).  init at
 * start and on reload (the file's schedules into the store); kick when
 * a definition changed; run_now and change for what an operator asks
 * (wxgatectl schedule run, pause, resume, remove; the console).
 */
struct store_sched;
void		 schedule_init(void);
void		 schedule_kick(void);
int		 schedule_run_now(const char *name, int64_t *run, char *err,
		    size_t errlen);
/* pause, resume, remove: 0, or -1 with err (none, from the file). */
enum sched_op { SCHED_PAUSE, SCHED_RESUME, SCHED_REMOVE };
struct schedule_op {
	const char	*verb;		/* a log's: "pauses" */
	const char	*done;		/* the operator's answer: "paused" */
};
extern const struct schedule_op schedule_ops[];
int		 schedule_change(const char *name, enum sched_op, char *err,
		    size_t errlen);
void		 schedule_stats(stat_fn, void *);
/* sc's first slot after `after` (anchor: its creation); 0 never. */
int64_t		 schedule_next(const struct store_sched *, int64_t after);
/* router_agent.c's: a run's agent answered (or failed, text NULL). */
void		 schedule_answer(int64_t msg_id, const char *text,
		    const char *error);
/* A run's prompt is a message of this account and the agent's name. */
#define SCHED_ACCOUNT	"@sched:"
/*
 * schedule_check.c: is this definition one the hub can run, against
 * the configuration c?  0, or -1 with err naming the field.
 */
int		 schedule_check(const struct config *,
		    const struct store_sched *, char *err, size_t errlen);
/*
 * One "channel:target" (a schedule's, or schedule.notify): 0, or -1
 * with err saying what is wrong, without a field.
 */
int		 schedule_check_target(const struct config *, const char *,
		    char *err, size_t errlen);

/* control.c */
int		 control_init(int fd);
void		 control_close(void);
const char	*worker_state_name(enum w_state);

#endif
