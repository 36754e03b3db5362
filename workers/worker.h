/*
 * The worker side of wxgated: what every worker kind gets from
 * workers/worker.c (the re-executed "wxgated -x kind:index" process).
 *
 * Life of a worker: sandbox_drop (as root: the uid drop, nothing read
 * but argv) -> read sup.config (blocking) -> kind->pre_sandbox(conf), as
 * the sandbox user -> sandbox_confine(kind) -> send hello ->
 * kind->post_sandbox(base) -> send ready -> event loop.  A kind whose
 * workers come from a zygote (zygote.c) is forked after the uid drop
 * instead of exec'd, and goes on from sup.config.  worker.c answers
 * sup.ping, sup.shutdown and sup.resync itself and hands every other
 * supervisor frame to the kind's table.
 */
#ifndef WX_WORKER_H
#define WX_WORKER_H

#include <sys/types.h>

#include <stdint.h>

#include <jansson.h>

#include "ipc_msg.h"
#include "sandbox.h"

struct sandbox_spec;

struct event_base;

/* Handlers get frames whose strings are borrowed until they return. */
struct wk_handler {
	uint32_t	  type;
	int		(*fn)(const struct ipc_msg *);
};

#define WK_F_THREADS	0x01	/* needs threads: keep RLIMIT_NPROC */
#define WK_F_NONET	0x02	/* gets no network of its own */
#define WK_F_DRAINS	0x04	/* calls worker_drained() after shutdown */

struct wk_kind {
	const char		 *name;		/* "webchat", "agent" */
	int			  role;		/* ROLE_* */
	int			  flags;	/* WK_F_* */
	/*
	 * Before the sandbox, as the sandbox user already: read conf (a
	 * JSON object), open files, start helpers.
	 */
	int			(*pre_sandbox)(json_t *conf);
	/* In the sandbox, before the loop runs. */
	int			(*post_sandbox)(struct event_base *);
	/* sup.shutdown: stop taking new work; worker.c exits after. */
	void			(*shutdown)(void);
	/*
	 * sup.resync: a new hub took over: drop what the old one was
	 * asked, say again what the new one must know.  The socket is the
	 * same, so frames the old hub never read may still reach the new
	 * one, and answers to them may come back: a kind tolerates a
	 * second answer to what it asked before the resync.  May be NULL.
	 */
	void			(*resync)(void);
	const struct wk_handler	 *handlers;	/* ends with { 0, NULL } */
	/*
	 * The seccomp profile's name, asked after pre_sandbox (a kind
	 * whose config picks what it does, as the agent's backend does);
	 * NULL: the kind's name.
	 */
	const char		*(*profile)(void);
	/*
	 * Test builds only: a kind's own `wxgatectl test` actions; 0 when
	 * it took the action, -1 when it is not one of its own.
	 */
	int			(*test)(struct ipc_str action);
	/*
	 * In the kind's zygote, before any fork: what every worker of the
	 * kind loads alike (no secret, nothing of one account), shared by
	 * all of them afterwards.  May be NULL.
	 */
	int			(*zygote_init)(void);
};

extern const struct wk_kind	wk_webchat;
extern const struct wk_kind	wk_agent;
extern const struct wk_kind	wk_wechat;
extern const struct wk_kind	wk_wecom_webhook;
extern const struct wk_kind	wk_wecom_bot;
extern const struct wk_kind	wk_wechat_mp;
extern const struct wk_kind	wk_wecom_app;
extern const struct wk_kind	wk_metrics;
extern const struct wk_kind	wk_console;
#ifdef WX_TEST_HOOKS
extern const struct wk_kind	wk_loopback;
#endif

const struct wk_kind	*worker_kind_find(const char *);
/*
 * The kinds this program runs and how it readies OpenSSL, one file per
 * program: kinds_all.c (wxgate-child: every kind) or kinds_light.c
 * (wxgate-light: the kinds that need neither OpenSSL nor SQLite).
 */
const struct wk_kind *const *worker_kinds(size_t *);
void			 worker_crypto_init(void);
void		 worker_spec(const struct wk_kind *, struct sandbox_spec *);

/*
 * The config slice (conf.c): an integer in [min, max] or def when the
 * key is absent (-1 and a warning otherwise); a string, def when absent
 * and NULL when present but not a string.
 */
int		 wk_conf_int(json_t *, const char *key, long long def,
		    long long min, long long max, long long *out);
const char	*wk_conf_str(json_t *, const char *key, const char *def);
/*
 * A channel worker's state.put (state.c), remembered: wk_state_resay()
 * tells a new hub (sup.resync) the last value of each key again.
 */
void		 wk_state_put(const char *key, const char *value);
void		 wk_state_resay(void);
/* What a worker's start carries from the uid drop to its confinement. */
struct worker_start {
	struct sandbox_conf	 sbconf;
	struct sandbox_spec	 sbspec;
	struct sandbox_report	 report;
};

void			 worker_begin(const char *spec, const char *creds,
			    int verbose, struct worker_start *, int zygote);
int			 worker_run(const char *spec, struct worker_start *);
void			 worker_reparented(pid_t);
int			 zygote_main(const char *spec, const char *creds,
			    int verbose);
int			 worker_main(const char *spec, const char *creds,
			    int verbose);

/* Send a frame to the supervisor; -1 when the queue is full. */
int			 worker_send(uint32_t type, uint64_t req_id,
			    const void *body);
/* One the hub is owed (a close, a pong): queued even when full. */
int			 worker_send_owed(uint32_t type, uint64_t req_id,
			    const void *body);
/*
 * Room for a frame that could wait (a delta): the queue to the
 * supervisor is less than a quarter full.
 */
int			 worker_room(void);
/* A MSG_FD frame; fd is the frame's from here on, closed on failure. */
int			 worker_send_fd(uint32_t type, uint64_t req_id,
			    const void *body, int fd);
struct event_base	*worker_base(void);
/* After sup.shutdown, a kind calls this once nothing is in flight. */
void			 worker_drained(void);
/* From pre_sandbox: this process never uses OpenSSL (worker.c). */
void			 worker_crypto_skip(void);
const char		*worker_name(void);

#endif
