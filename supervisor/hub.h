/*
 * What the hub's files declare to each other: its life and link to
 * the parent, admission, heartbeats, the routers and their handler
 * tables, channels, durable turns, the agents' queue, share links,
 * schedules and the control socket.  The root parent includes sup.h
 * alone: none of this is its code.
 */
#ifndef WX_HUB_H
#define WX_HUB_H

#include "sup.h"

struct sandbox_spec;
struct durable_head;

/* One figure for wxgatectl stats: name, value. */
typedef void	(*stat_fn)(const char *, uint64_t, void *);

/* admit.c (what it keeps on a connection's record: router_int.h) */
void		 admit_init(void);
/* Tokens taken from a web chat bucket here, for the cluster's count. */
struct admit_spend {
	const char	*key;
	unsigned	 n;
	double		 per_s;		/* its refill, tokens a second */
	double		 burst;
};
size_t		 admit_spent(size_t max,
		    void (*)(const struct admit_spend *, void *), void *);
void		 admit_level(const char *key, double tokens);
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

/* hub.c, hub_link.c: the hub's life and its link to the parent */
/* The hub's wall clock (the store's times, schedules). */
int64_t		 sup_now(void);
#ifdef WX_TEST_HOOKS
/* sup_now() is time(NULL) + offset from now on. */
void		 sup_clock_set(int64_t offset);
#endif
int		 hub_config(struct ipc_msg *);
int		 hub_shutdown(struct ipc_msg *);
void		 hub_test(struct ipc_str action);
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
/* One flush at the end of this loop turn (group commit). */
void		 sup_turn(void);
/* The worker of this name in the hub's table, from the parent's frames. */
struct worker	*spawn_find(const char *name);

/*
 * hub_pg.c (wxgate-hub-pg) or hub_nopg.c (wxgate-hub): the store
 * shared by the nodes of a cluster, behind this node's working set.
 */
int		 hub_pg_on(void);
void		 hub_pg_spec(struct sandbox_spec *);
int		 hub_pg_secret(struct ipc_msg *);
void		 hub_pg_start(void);
/*
 * Is the shared store too far behind for a new turn?  Judged once per
 * turn, after its commit (hub_pg_judge), so that a handler told so and
 * the commit of its turn agree.
 */
int		 hub_pg_full(void);
void		 hub_pg_judge(void);
void		 hub_pg_refused(void);
/* After a commit: 1 the claims wait for the ship, 0 settle them now. */
int		 hub_pg_ship(struct durable_head *, int wrote);
/* May the account's worker run on this node? */
int		 hub_pg_holds(const char *account);
/* A leased account (the file's or a bound one) this node knows of. */
int		 hub_pg_leased(const char *account);
/*
 * A new outbox row goes to the platform only once it is in the shared
 * store: had this node died after the send and before the ship, the
 * node taking the account over would ask again and answer twice.
 * Rows below this id may go; INT64_MAX: all.
 */
int64_t		 hub_pg_outbox_below(void);
void		 hub_pg_worker_gone(const char *account);
/*
 * wxgatectl cluster (hub_pg_ctl.c): the nodes and leases, read from
 * the shared store, go to control client `client` as ctl.text lines
 * and a result (ctl_cluster_answer).  wxgatectl drain: every lease of
 * this node is handed over, and none taken; the count held.  Both -1
 * on a node alone (hub_nopg.c) or, the first, with too much waiting.
 */
int		 hub_pg_cluster(uint64_t client, uint64_t req_id);
int		 hub_pg_drain(unsigned *held);
/*
 * Schedules in a cluster (hub_pg_sched.c): only the node that holds
 * the "@schedules" lease runs them and changes them.  here: this node
 * runs them now (always, alone); 0 with err naming the node that does.
 */
int		 hub_pg_sched_here(char *err, size_t errlen);
/*
 * The cluster's schedules for this node's operators, read from the
 * shared store (hub_pg_sched_read.c), where a node that does not run
 * them has none in its working set.  By PAGE: up to nsched definitions
 * by name (or the one named), each with its newest per runs and their
 * targets, through def, run and target as store_sched_list and
 * store_run_recent give them.  By HISTORY: the newest per runs (of
 * name, or all) as store_run_history gives them, after the definition
 * named if there is one.  By SEALED: the sealed schedule whose id is
 * id (none if it is not sealed) with its text, and its run whose id is
 * run_id (0: none) with its summary; target may be NULL.  Free text is
 * cut to no less than cut bytes, a sealed one's to whole.  Then
 * done(NULL, arg), or done(why, arg) if the store refused or did not
 * answer within deadline_ms.  0: done comes, once, later; -1: not
 * asked, too many are (hub_nopg.c: always, a node alone).
 */
struct store_sched;
struct store_run_row;
struct store_run_target_row;
enum hub_sched_by { HUB_SCHED_PAGE, HUB_SCHED_HISTORY, HUB_SCHED_SEALED };
struct hub_sched_read {
	enum hub_sched_by by;
	const char	 *name;		/* NULL: all */
	unsigned	  nsched;
	unsigned	  per;
	unsigned	  cut;
	unsigned	  whole;
	unsigned	  deadline_ms;
	void		(*def)(const struct store_sched *, void *);
	void		(*run)(const struct store_run_row *, void *);
	void		(*target)(const struct store_run_target_row *,
			    void *);
	void		(*done)(const char *why, void *);
	void		 *arg;
	int64_t		  id;		/* SEALED's */
	int64_t		  run_id;
};
int		 hub_pg_sched_read(const struct hub_sched_read *);
void		 ctl_cluster_answer(uint64_t client, uint64_t req_id,
		    const char *lines, const char *err);

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
void		 channel_kick_all(void);
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
int		 channel_send_limit(const char *account, const char *peer,
		    uint32_t *cps, uint32_t *bytes, char *err, size_t errlen);
void		 channel_sweep(void);
/*
 * pause.c: accounts an operator paused.  account_pause: 0, or 1 no such
 * account, 2 one waiting for its login or run by another node of the
 * cluster, -1 a store error, with why in err.
 */
void		 pause_init(void);
void		 pause_again(const char *name);
/* The account's rows came from the shared store: its pause with them. */
void		 pause_reload(const char *name);
int		 account_paused(const char *name);
int		 account_pause(const char *name, int on, const char *by,
		    char *err, size_t errlen);
void		 channel_failed(int64_t session, int64_t msg_id,
		    struct ipc_str code);
void		 channel_failure_text(char *, size_t, struct ipc_str code);
void		 channel_worker_ready(struct worker *);
void		 channel_worker_down(struct worker *);
/* The QR login URL an account's worker is showing, or NULL. */
const char	*channel_login_url(const char *account);
/* The number the phone shows, for the worker's login; 0 or -1. */
int		 channel_login_code(const char *account, struct ipc_str code);

/* channel_list.c: every account as an operator is shown it. */
struct channel_row {
	const char	*name;		/* all borrowed for the callback */
	const char	*kind;
	const char	*source;	/* "config" or "bound" */
	const char	*tmpl;		/* a bound one's template, else "" */
	const char	*state;
	const char	*owner;		/* a bound one's, else "" */
};
typedef void	(*channel_row_fn)(const struct channel_row *, void *);
void		 channel_list(channel_row_fn, void *);

/* durable.c: claims that wait for the turn's commit */
struct durable;
typedef void	(*durable_fn)(struct durable *, int ok);
typedef void	(*durable_late_fn)(struct durable *);
struct event;
struct durable {
	TAILQ_ENTRY(durable)	 entry;
	durable_fn		 fn;
	durable_late_fn		 late;	/* durable_due's, or NULL */
	struct event		*due;
	int			 told;	/* late ran: the client has an answer */
	char			 wname[IPC_NAME_MAX + 1];	/* to answer */
	uint64_t		 gen;		/* ... this incarnation */
	uint64_t		 req_id;
	uint64_t		 conn;
	int64_t			 id;		/* message, request, session */
	int64_t			 session;
	char			*str;		/* owned, freed after fn */
	char			*str2;
};
TAILQ_HEAD(durable_head, durable);
struct durable	*durable_after(durable_fn);
int		 durable_commit(void);
/* Run and free each claim of the list, in order. */
void		 durable_settle(struct durable_head *, int ok);
uint64_t	 durable_failures(int *now);
#ifdef WX_TEST_HOOKS
void		 durable_test_hold(int);
int		 durable_test_held(void);
#endif
/* The worker a claim answers, if that incarnation still runs. */
struct worker	*durable_worker(const struct durable *);
void		 durable_for(struct durable *, struct worker *,
		    uint64_t req_id, uint64_t conn);
void		 durable_due(struct durable *, uint64_t ms, durable_late_fn);
/*
 * A web chat session, from the shared store into the working set
 * (hub_pg_visit.c; hub_nopg.c answers 1), named by key: its id in
 * decimal, its token's hash in hex (session_hash_hex), or a share
 * link's hash in hex with the visitor's token hash (key2, or NULL);
 * or one message of a session read before, by its id in decimal; or a
 * binding invitation by its token's hash in hex (HUB_VISIT_INVITE);
 * or a cold channel conversation's history by its session id in
 * decimal (HUB_VISIT_CONV, hub_pg_warm.c).
 * 0: fn runs as tmpl's claim once the rows are committed, or at once
 * with ok 0 if they could not be had; 1: no shared store, go on now;
 * -1: too many loads waiting (busy).
 */
enum hub_visit { HUB_VISIT_ID, HUB_VISIT_TOKEN, HUB_VISIT_SHARE,
	HUB_VISIT_MSG, HUB_VISIT_INVITE, HUB_VISIT_CONV };
int		 hub_pg_visit(enum hub_visit, const char *key,
		    const char *key2, durable_fn fn,
		    const struct durable *tmpl);

/*
 * A binding invitation's use, taken in the shared store before the
 * binding commits (hub_pg_spend.c; hub_nopg.c answers 1): 0, fn
 * answers later with 0 (taken), 1 (none left: used up or revoked) or
 * -1 (no answer: busy), and the tag given; 1, no shared store, go on
 * now; -1, busy.  hub_pg_unspend gives a taken use back.
 */
typedef void	(*hub_spend_fn)(int, int64_t inv, const char *tag);
int		 hub_pg_spend(int64_t inv, const char *tag, hub_spend_fn);
void		 hub_pg_unspend(int64_t inv);

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
/* router_relay.c: close the relays of agent's revoked token id. */
void		 router_relay_revoked(const char *agent, int64_t id);

/*
 * share.c: a share link as the operator makes and names it.  Listings
 * show SHARE_PREFIX hex digits of its hash, enough to revoke it by;
 * share_revoke takes that or the link's secret: 0 done, 1 none,
 * 2 ambiguous, -1 store error.  share_create: 0, or -1 and why.
 */
#define SHARE_PREFIX	12
int		 share_revoke(const char *id, size_t len);
int		 share_create(int64_t session, int read_only, uint64_t ttl_s,
		    char *url, size_t urllen, const char **why);

/*
 * schedule.c: the hub's schedule timer and runs (issue #15).  init at
 * start and on reload (the file's schedules into the store); kick when
 * a definition changed; run_now and change for what an operator asks
 * (wxgatectl schedule run, pause, resume, remove; the console).
 */
struct store_sched;
void		 schedule_init(void);
void		 schedule_kick(void);
/* The timer stops (a cluster's schedules lease is no longer ours). */
void		 schedule_stop(void);
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
/* Room for one more schedule (schedule.schedules_max): 0, or -1, err. */
int		 schedule_room(char *err, size_t errlen);
/* sc's first slot after `after` (anchor: its creation); 0 never. */
int64_t		 schedule_next(const struct store_sched *, int64_t after);
/* Holds past their end, of the accounts this node runs: 1 if any. */
int		 schedule_expire_held(int64_t now);
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
void		 control_userns(int);
void		 control_close(void);

#endif
