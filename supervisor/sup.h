/*
 * Supervisor-wide state, and the interfaces of the root parent's files.
 * Two processes keep a struct sup and a struct worker per worker, each
 * filling in its own part:
 *
 *   the root parent: main.c (setup, signals), conf_fetch.c (the
 *   configuration reader's plan, plan.h), reload.c (the workers the
 *   plan wants), spawn.c (birth), reap.c (death and backoff),
 *   parent_hub.c (the hub's process and the narrow requests it may
 *   make); it holds no struct config, links no config*.c, and
 *   includes this header only;
 *
 *   the hub, unprivileged and sandboxed, whose files declare the rest
 *   to each other in hub.h;
 *
 *   the configuration reader, one-shot and sandboxed: conf_reader.c
 *   and the configuration code (config*.c, kinds_want.c).
 *
 * The hub's and the reader's entry points and sandboxes are entry.h's.
 *
 * The parent keeps a worker for the process, the hub for the socket
 * and what flows through it.
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
#define W_F_PAUSED	0x80	/* parent: the hub paused it; not started */

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
	uint64_t		 rss_kb;	/* hub: its process figures, as */
	uint64_t		 pss_kb;	/* it said them (sup_figures) */
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
	char			 exe[4096];	/* wxgate-child: what spawn runs */
	char			 exe_hub[4096];	/* wxgate-hub: the hub's */
	char			 exe_hub_pg[4096]; /* wxgate-hub-pg: with libpq */
	char			 exe_light[4096]; /* wxgate-light: K_F_LIGHT's */
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

/* main.c */
void		 sup_stop(void);
int		 sup_listen_open(const char *);
int		 sup_ids(const struct plan *, int hub, uid_t *, gid_t *);

/* listener.c: the callback accounts' and metrics' listening sockets */
int		 listener_prepare(const struct plan *);
void		 listener_abort(void);
void		 listener_commit(const struct plan *);
int		 listener_fd(const char *kind, const char *id);
const char	*listener_addr(const char *kind, const char *id);

/* notify.c: systemd's readiness and watchdog (sd_notify protocol) */
void		 notify_init(void);
void		 notify_send(const char *);
void		 notify_ready(void);
void		 notify_reloading(void);

/* reload.c: the workers the configuration wants */
void		 reload_spawn_all(void);
void		 reload_config(void);

/* spawn.c; worktab.c: the table's lookups and names */
struct worker	*spawn_new(const char *kind, const char *id, int role,
		    const char *conf);
int		 spawn_worker(struct worker *);
void		 spawn_shutdown(struct worker *);
struct worker	*spawn_find_pid(pid_t);
void		 spawn_restart(struct worker *);
const char	*spawn_prog(const char *kind);
void		 spawn_exec(const char *exe, int fd, const char *spec, uid_t,
		    gid_t, int strict, const char *store)
		    __attribute__((noreturn));
const char	*worker_state_name(enum w_state);

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
void		 reap_cause(int status, int64_t syscall, const char *why,
		    char *, size_t);
unsigned	 reap_deaths(struct timespec *, unsigned *);

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
int		 parent_hub_is(pid_t);
void		 parent_hub_waited(void);
int		 control_open(const char *path);
int		 parent_store_own(const char *store, uid_t, gid_t);

#endif
