/*
 * What the router's files share (router.c the gate and lifecycle,
 * router_bind.c the web chat's connections, their bindings and routes,
 * router_chat.c the web chat's requests, router_await.c its messages
 * another node answers, router_share.c share links, router_agent.c
 * agent requests and their relay).  Nothing outside supervisor/router*.c
 * includes it but admit.c, which keeps its counts on the same
 * connection record.
 */
#ifndef WX_ROUTER_INT_H
#define WX_ROUTER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"
#include "session.h"
#include "strpool.h"

struct acount;
struct agentq;
struct areq;
struct areq_from;
struct ipc_turns;
struct worker;

#define RT_BUCKETS	4096	/* hash buckets of each table */

/*
 * One web chat connection as the hub knows it: the only record kept per
 * connection (router_bind.c explains its life).  admit.c fills in what
 * it was counted in, router_bind.c the session it is bound to.  It keeps
 * the name binding: to the router it is where a session's stream goes.
 */
struct binding {
	struct binding	*next;		/* conn hash chain */
	struct worker	*w;
	uint64_t	 gen;
	uint64_t	 conn;
	/* admit.c: a count it holds a place in, or NULL */
	struct acount	*tcp;		/* its peer's, from peer.open */
	struct acount	*client;	/* its client's, from conn.open */
	/* router_bind.c: all 0 while it is bound to no session */
	int64_t		 session;
	int64_t		 seen;		/* last request, sup_now() */
	int64_t		 expires;	/* absolute end, 0 none */
	int		 read_only;	/* by a read-only share link */
	int		 shared;	/* bound by share.open: recheck */
	uint8_t		 share_hash[SESSION_HASH_LEN];
};

/*
 * History turns gathered from the store for one frame.  Their strings
 * share one buffer (an agent request's context is 40 of them), so they
 * are offsets into it: turnbuf_role() and turnbuf_text() read them.
 */
struct turnbuf {
	struct strpool	  sp;		/* the strings */
	size_t		 *role;		/* offsets into sp */
	size_t		 *text;
	int64_t		 *seq;		/* store_turn_fn's */
	size_t		  n;
	size_t		  cap;
};
#define turnbuf_role(tb, i)	strpool_at(&(tb)->sp, (tb)->role[i])
#define turnbuf_text(tb, i)	strpool_at(&(tb)->sp, (tb)->text[i])

/* router.c */
/* unavailable's retry_after: a full disk is not fixed in a second. */
#define RT_STORE_RETRY_MS	5000
/*
 * How long chat.send waits for its turn to be stored before the client
 * hears busy: a cluster's ship lands in milliseconds when the database
 * is well, and SHIP_DEADLINE_MS (10 s) is one batch's worst; past that
 * the database is down and the page had better ask again than wait.
 */
#define RT_ACCEPT_DUE_MS	10000
size_t		 router_hash(uint64_t);
void		 rpc_error(struct worker *, struct ipc_msg *, uint64_t conn,
		    const char *code, const char *message);
void		 rpc_error_retry(struct worker *, struct ipc_msg *,
		    uint64_t conn, const char *code, const char *message,
		    uint64_t retry_ms);
void		 rpc_error_id(struct worker *, uint64_t req_id, uint64_t conn,
		    const char *code, const char *message, uint64_t retry_ms);
void		 rpc_unavailable(struct worker *, uint64_t req_id,
		    uint64_t conn);
void		 rpc_store_busy(struct worker *, uint64_t req_id,
		    uint64_t conn);

/* What a connection's end gives back (conn_end, admit_release). */
#define CONN_TCP	0x01	/* peer.close: its TCP place */
#define CONN_WS		0x02	/* conn.close: its admission and session */

/* admit.c: the counts on a connection's record */
void		 admit_release(struct binding *, int parts);
uint64_t	 admit_request(const struct binding *);

/* router_bind.c */
struct binding	*conn_find(struct worker *, uint64_t conn);
struct binding	*conn_get(struct worker *, uint64_t conn);
void		 conn_end(struct binding *, int parts);
void		 conn_worker_down(struct worker *);
struct binding	*bind_find(struct worker *, uint64_t conn);
struct binding	*bind_set(struct worker *, uint64_t conn, int64_t session);
void		 bind_remove(struct binding *);
int		 bind_count(struct worker *);
int		 bind_room(struct worker *, uint64_t conn);
int		 conn_open(struct worker *, uint64_t conn);
struct binding	*bind_live(struct worker *, struct ipc_msg *, uint64_t conn);
void		 route_set(int64_t session, struct binding *);
struct binding	*route_current(int64_t session);

/* router_chat.c: the web chat role's handlers */
int		 sup_session_open(struct worker *, struct ipc_msg *);
int		 sup_session_resume(struct worker *, struct ipc_msg *);
int		 sup_chat_send(struct worker *, struct ipc_msg *);
int		 sup_chat_history(struct worker *, struct ipc_msg *);
int		 sup_conn_close(struct worker *, struct ipc_msg *);
int		 sup_chat_abort(struct worker *, struct ipc_msg *);
int		 sup_rpc_call(struct worker *, struct ipc_msg *);
int		 sup_conn_open(struct worker *, struct ipc_msg *);
void		 send_done(struct binding *, const char *cmid,
		    const char *text, size_t len, int replayed, int aborted);
void		 router_count_error(const char *code);
void		 router_count_message(void);
void		 send_error(struct binding *, const char *cmid,
		    const char *code, const char *message, uint64_t retry_ms);
const char	*error_message(const char *code);
void		 send_answer(struct binding *, const char *cmid,
		    const char *reply, const char *err);

/* router_await.c: 0 awaited (told when answered), -1 too many */
int		 router_await(int64_t session, int64_t msg_id,
		    const char *cmid);

/* router_share.c */
int		 sup_share_check(struct worker *, struct ipc_msg *);
int		 sup_share_open(struct worker *, struct ipc_msg *);

/* router_agent.c: the agent role's handlers and the requests */
int		 sup_agent_delta(struct worker *, struct ipc_msg *);
int		 sup_agent_done(struct worker *, struct ipc_msg *);
int		 sup_agent_error(struct worker *, struct ipc_msg *);
int		 sup_agent_restart(struct worker *, struct ipc_msg *);
int		 sup_agent_online(struct worker *, struct ipc_msg *);
/* router_relay.c */
int		 sup_relay_auth(struct worker *, struct ipc_msg *);
struct areq	*areq_find(uint64_t id);
struct areq	*areq_find_msg(int64_t msg_id);
struct areq	*areq_find_cmid(int64_t session, struct ipc_str cmid);
int		 areq_session_busy(int64_t session, int writing);
struct areq	*areq_new(struct agentq *, const struct areq_from *,
		    const char *text, int pending);
void		 areq_from_webchat(struct areq_from *, struct binding *,
		    int64_t msg_id, const char *cmid);
void		 areq_webchat(struct agentq *, struct binding *,
		    int64_t msg_id, struct ipc_str cmid, const char *text);
void		 areq_free(struct areq *);
void		 areq_worker_down(struct worker *);
int		 turnbuf_add(const char *role, const char *text, int64_t,
		    void *);
void		 turnbuf_free(struct turnbuf *);
size_t		 turns_fit(struct turnbuf *, struct ipc_turns *,
		    size_t reserve, size_t max_turns);

#endif
