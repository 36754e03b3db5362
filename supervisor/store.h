/*
 * The SQLite store, owned by the supervisor alone (workers never see it).
 * WAL mode, schema migrations at open, file mode 0600.
 *
 * Writes of one event-loop turn share one transaction (group commit):
 * every writer calls store_touch(), which opens a transaction if none is
 * open; the supervisor calls store_flush() once per loop turn to commit.
 */
#ifndef WX_STORE_H
#define WX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

#define STORE_HASH_LEN	32	/* SHA-256 of a session token */

struct store;

enum msg_state {
	MSG_NONE = 0,		/* not in the store */
	MSG_ACCEPTED = 1,	/* stored, no agent request yet */
	MSG_ANSWERING = 2,	/* agent request running */
	MSG_ANSWERED = 3	/* reply stored */
};

/*
 * Change capture (store_capture.c), for a store that is the working set
 * of a node whose shared truth is PostgreSQL (docs/architecture.md):
 * every row a committed turn changed, as the row's key and its values.
 */
enum store_op { STORE_OP_INSERT, STORE_OP_UPDATE, STORE_OP_DELETE };
enum store_vkind { STORE_V_NONE, STORE_V_NULL, STORE_V_INT, STORE_V_TEXT,
	STORE_V_BLOB };

struct store_val {
	enum store_vkind kind;		/* NONE: not part of this change */
	int64_t		 i;
	const void	*p;		/* TEXT (not NUL-ended), BLOB */
	size_t		 len;
};

struct store_change {
	enum store_op	 op;
	const char	*table;
	unsigned	 ncol;
	const char *const *col;		/* the table's column names */
	const unsigned char *pk;	/* 1: a column of its primary key */
	const struct store_val *key;	/* the row's key before the change */
	const struct store_val *val;	/* new values; NONE: unchanged */
	const char	*account;	/* whose row, or NULL */
};

/* -1 stops the walk. */
typedef int	(*store_change_fn)(const struct store_change *, void *);

struct store	*store_open(const char *path, char *err, size_t errlen);
void		 store_close(struct store *);
int		 store_schema_version(struct store *);
void		 store_touch(struct store *);
void		 store_read_begin(struct store *);
void		 store_read_end(struct store *);
int		 store_flush(struct store *);
int		 store_dirty(struct store *);
void		 store_rollback(struct store *);
/*
 * Row ids from [first, first + count) for every new row from now on,
 * after the block in use (two at most: the caller asks for the next
 * when few are left).  Without any, SQLite picks ids as alone on its
 * node; once given, an insert with none left fails.
 */
void		 store_ids(struct store *, int64_t first, int64_t count);
int64_t		 store_ids_left(struct store *);
/* Was this row made here, under one of the latest blocks?  1 alone. */
int		 store_ids_mine(struct store *, int64_t id);
/*
 * Drop the blocks below the working set's newest message, so that what
 * this node writes next sorts after it (history is in id order, and a
 * visitor's session may come from a node with a newer block).  The ids
 * left: 0, and the caller must have a new block before an insert.
 */
int64_t		 store_ids_past_messages(struct store *);
/* Start recording the changes of every table: 0, or -1 logged. */
int		 store_capture(struct store *);
/*
 * After a successful store_flush(): fn for each row changed since the
 * last call, grouped by table in the order the tables were first
 * written, and the record starts anew.  0, or -1 (fn's, or logged).
 */
int		 store_capture_take(struct store *, store_change_fn, void *);
/*
 * Every row of every table of the store, each as an insert of the whole
 * row (key and values alike), table by table in the order of their
 * names; SQLite's own tables are left out.  It only reads.  0, or -1
 * (fn's, or logged).
 */
int		 store_dump(struct store *, store_change_fn, void *);
/*
 * A row of the shared truth into this working set, in this turn's
 * transaction: upserted by its key, not recorded for shipping.  col:
 * the table's columns in order; val: PostgreSQL's text form of each
 * (bytes as \x hex), NULL for NULL.  References are checked at the
 * commit.  0, or -1 logged.
 */
int		 store_absorb(struct store *, const char *table, unsigned ncol,
		    const char *const *col, const char *const *val);
/* An account's rows out of this working set, unrecorded: 0, or -1. */
int		 store_forget(struct store *, const char *account);
/*
 * A conversation of an account taken over whose history stayed in the
 * truth (store_cold.c): marked by the load, woken by a message into
 * it, which then waits until store_cold_done(warmed) after its history
 * was read.  wanted: up to max woken ones, each marked asked, or -1.
 */
int		 store_cold_add(struct store *, int64_t session,
		    const char *account);
int		 store_cold_wake(struct store *, int64_t session);
int		 store_cold_wanted(struct store *, int64_t *ids, int max);
int		 store_cold_done(struct store *, int64_t session, int warmed);
/* The same for the schedules' rows (a cluster's "@schedules" lease). */
int		 store_forget_schedules(struct store *);
/* A queued outbox row whose insert will never ship: never to be sent. */
int		 store_forget_outbox(struct store *, int64_t id);
/*
 * store_sched_pg.c, for schedules in a cluster (hub_pg_sched.c): is
 * outbox row id here (1, 0 not, -1 error); the queued rows of runs
 * after id, up to max, each as (id, account, peer): the count, or -1.
 */
int		 store_outbox_has(struct store *, int64_t id);
typedef void	(*store_run_row_fn)(int64_t id, const char *account,
		    const char *peer, void *);
int		 store_run_rows_queued(struct store *, int64_t after,
		    unsigned max, store_run_row_fn, void *);
/*
 * "INSERT ... VALUES ($1..$n) ON CONFLICT (key) DO UPDATE SET" every
 * other column: the one upsert both databases read (SQLite numbers
 * $1..$n in order); the caller frees it.
 */
char		*store_upsert_sql(const char *table, unsigned ncol,
		    const char *const *col, const unsigned char *pk);
/*
 * Fold the WAL into the database: by the checkpointer thread when there
 * is one (0), else here (frames copied); -1 on error.
 */
int		 store_checkpoint(struct store *);

/*
 * The write-ahead log's bounds (store_wal.c): past ckpt bytes a PASSIVE
 * checkpoint follows a commit, past max bytes a TRUNCATE one.
 */
void		 store_wal_limits(struct store *, uint64_t ckpt, uint64_t max);
/*
 * Call right after a successful store_flush(): checkpoints if the WAL
 * is past its bounds.  1 the WAL is all in the database, 0 not (or not
 * due), -1 error.
 */
int		 store_wal_check(struct store *);
/* Until the checkpointer thread is idle (tests). */
void		 store_ckpt_wait(struct store *);

struct store_stats {
	uint64_t	 db_bytes;	/* file sizes now */
	uint64_t	 wal_bytes;
	uint64_t	 wal_frames;	/* frames not yet checkpointed */
	uint64_t	 commits;	/* since open */
	uint64_t	 checkpoints;
	uint64_t	 truncates;
	/* Since the previous store_wal_stats() call: */
	uint64_t	 window_commits;
	uint64_t	 commit_p50_us;
	uint64_t	 commit_p99_us;
	uint64_t	 commit_max_us;
	uint64_t	 window_checkpoints;
	uint64_t	 ckpt_p50_us;
	uint64_t	 ckpt_p99_us;
	uint64_t	 ckpt_max_us;
};
/* Sizes and counts; latencies since the last call, which starts anew. */
void		 store_wal_stats(struct store *, struct store_stats *);
/* Sizes and counts only, and the commit times since open (metrics.h). */
struct mx_hist;
void		 store_wal_sizes(struct store *, struct store_stats *,
		    struct mx_hist *);

/* Sessions: only the token's hash is kept.  expires: absolute, 0 none. */
int	store_session_create(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, int64_t expires, int64_t *id);
/*
 * 0 found (last_seen updated), 1 not found, 2 expired (past expires, or
 * anonymous and unseen for idle_s seconds), -1 error.
 */
int	store_session_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, int64_t idle_s, int64_t *id);
int	store_session_seen(struct store *, int64_t id, int64_t now);
/* Up to max expired anonymous sessions' ids into ids; count or -1. */
int	store_session_expired(struct store *, int64_t now, int64_t idle_s,
	    int64_t *ids, size_t max);
/* The session and, by cascade, its messages. */
int	store_session_delete(struct store *, int64_t id);

/* One audit row; NULL strings and session <= 0 are stored as NULL. */
int	store_audit(struct store *, int64_t now, const char *role,
	    const char *worker, int64_t session, const char *method,
	    const char *detail);

/*
 * Dedupe on (session, client_msg_id).  lookup: 0 found, 1 not found,
 * -1 error; *reply is set (caller frees) when the state is MSG_ANSWERED.
 */
int	store_msg_lookup(struct store *, int64_t session, const char *cmid,
	    enum msg_state *state, int64_t *msg_id, char **reply);
/* Insert the user's message as MSG_ACCEPTED; -1 on error or duplicate. */
int	store_msg_accept(struct store *, int64_t session, const char *cmid,
	    const char *text, int64_t now, int64_t *msg_id);
/* The same, already MSG_ANSWERING: as store_msg_accept + store_msg_take. */
int	store_msg_accept_taken(struct store *, int64_t session,
	    const char *cmid, const char *text, int64_t now, int64_t *msg_id);
/* Store the whole reply once and mark the message MSG_ANSWERED. */
int	store_msg_answer(struct store *, int64_t msg_id, const char *reply,
	    int64_t now);

/*
 * Up to limit most recent answered turns of a session, oldest first,
 * each as a user turn then an assistant turn; before_msg_id excludes
 * that message and newer (0: none excluded).
 */
/* seq: a sealed message's number in its console thread, else 0. */
typedef int	(*store_turn_fn)(const char *role, const char *text,
		    int64_t seq, void *);
int	store_history(struct store *, int64_t session, unsigned limit,
	    int64_t before_msg_id, store_turn_fn, void *arg);
/* The same for the agent: since the last /new, commands left out. */
int	store_context(struct store *, int64_t session, unsigned limit,
	    int64_t before_msg_id, store_turn_fn, void *arg);
/* A chat command's message answered by wxgate (command.c). */
int	store_msg_command(struct store *, int64_t msg_id, const char *reply,
	    int64_t now);
/* /new: the agent's context of session starts after msg_id. */
int	store_new_context(struct store *, int64_t session, int64_t msg_id);
/* /model: what the session picked ("" the default; caller frees). */
char	*store_session_model(struct store *, int64_t session);
int	store_session_set_model(struct store *, int64_t session,
	    const char *model);

/*
 * The durable backlog (store_backlog.c).  Rows in MSG_ACCEPTED with no
 * error wait for an agent; account NULL names the web chat's.  take:
 * up to limit oldest rows, each marked MSG_ANSWERING before fn sees it
 * (the strings are borrowed); the count or -1.
 */
struct store_backlog_row {
	int64_t	 id;
	int64_t	 session;
	char	*cmid;		/* "" for a platform message */
	char	*text;
	int64_t	 created;
	char	*account;	/* the conversation's; "" for web chat */
	char	*peer;
	char	*ctx;		/* the platform's reply context, or "" */
};
typedef void	(*store_backlog_fn)(const struct store_backlog_row *, void *);
int	store_backlog_take(struct store *, const char *account, unsigned limit,
	    store_backlog_fn fn, void *arg);
/* Unanswered platform messages of one account (NULL: of all). */
int	store_backlog_count(struct store *, const char *account, int64_t *n);
struct store_expired {
	int64_t	 msg_id;
	int64_t	 session;
	int	 told;		/* the client was told an error already */
	char	 cmid[IPC_MSGID_MAX + 1];	/* web chat's, else "" */
};
/* Unanswered messages created before `before`; count or -1. */
int	store_backlog_expired(struct store *, const char *account,
	    int64_t before, struct store_expired *, size_t max);
/* Into memory (MSG_ANSWERING), clearing an error the client was told. */
int	store_msg_take(struct store *, int64_t msg_id);
/* Final: answered with no reply, for this reason ("timeout"). */
int	store_msg_fail(struct store *, int64_t msg_id, const char *code,
	    int64_t now);
/* Back to MSG_ACCEPTED, the client told why: a resend tries again. */
int	store_msg_told(struct store *, int64_t msg_id, const char *code);
/* 0 and the error (caller frees), 1 none, -1 store error. */
int	store_msg_error(struct store *, int64_t msg_id, char **code);
/* At start: what was in memory waits in the backlog again; count. */
int	store_msg_requeue_all(struct store *);
int	store_msg_requeue_account(struct store *, const char *account);
/* A taken message waits in the backlog again (agent_offline). */
int	store_msg_untake(struct store *, int64_t msg_id);


/*
 * Share links.  Only the SHA-256 of a link's secret is kept, as with
 * session tokens.  A link names an existing session the operator chose,
 * or none: then each visitor gets a fresh one (store_visitor_create).
 */
struct store_share_row {
	char		 hash[STORE_HASH_LEN * 2 + 1];	/* lowercase hex */
	int64_t		 created;
	int64_t		 expires;	/* 0 none */
	int		 read_only;
	int64_t		 session;
	int64_t		 revoked;	/* when, 0 live */
};
typedef int	(*store_share_fn)(const struct store_share_row *, void *);

/*
 * A visitor's own session under a per-visitor share link (link is the
 * link's row id): like store_session_create/find, but only ever found
 * through that link.
 */
int	store_visitor_create(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t link, int64_t now, int64_t expires, int64_t *id);
int	store_visitor_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t link, int64_t now, int64_t idle_s, int64_t *id);
/* 1 exists, 0 not, -1 error. */
int	store_session_exists(struct store *, int64_t id);
/* expires: absolute, 0 none.  session 0: a fresh one per visitor. */
int	store_share_create(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t session, int read_only, int64_t now, int64_t expires);
/*
 * 0 live, 1 not found, 2 revoked or expired, -1 error.  *link is the
 * row id, *session 0 for a per-visitor link.
 */
int	store_share_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, int64_t *link, int64_t *session, int *read_only);
/* Every link, oldest first; fn returning -1 stops the walk. */
int	store_share_list(struct store *, store_share_fn, void *arg);
/*
 * Revoke the one link whose hash starts with hexprefix (lowercase hex):
 * 0 done (or already revoked), 1 none, 2 ambiguous, -1 error.
 */
int	store_share_revoke(struct store *, const char *hexprefix,
	    int64_t now);

/*
 * Relay agents' pairing tokens (store_relay.c): the SHA-256 of each,
 * the agent it opens, and when it was made, last used and revoked.
 */
struct store_relay_row {
	int64_t		 id;
	char		 agent[64 + 1];
	int64_t		 created;
	int64_t		 last_used;	/* 0 never */
	int64_t		 revoked;	/* 0 live */
};
typedef int	(*store_relay_fn)(const struct store_relay_row *, void *);

int	store_relay_create(struct store *, const char *agent,
	    const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t *id);
/* 0 live, 1 unknown, 2 revoked, -1 error; *id and agent filled. */
int	store_relay_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t *id, char *agent, size_t agentlen);
int	store_relay_used(struct store *, int64_t id, int64_t now);
/* Every token, oldest first; fn returning -1 stops the walk. */
int	store_relay_list(struct store *, store_relay_fn, void *arg);
/*
 * Revoke token id (a second revoke keeps the first time): 0 done, with
 * its agent, 1 no such token, -1 error.
 */
int	store_relay_revoke(struct store *, int64_t id, int64_t now,
	    char *agent, size_t agentlen);

/*
 * The operator console's login links and sessions (store_console.c),
 * by the SHA-256 of their secrets.  link_take deletes the link it
 * finds: 0 taken (operator copied), 1 none, 2 expired, -1 error.
 */
struct store_console_session {
	int64_t		 id;
	char		 operator[64 + 1];
	int64_t		 created;
	int64_t		 last_seen;
};
int	store_console_link_create(struct store *,
	    const uint8_t hash[STORE_HASH_LEN], const char *operator,
	    int64_t now, int64_t expires);
int	store_console_link_take(struct store *,
	    const uint8_t hash[STORE_HASH_LEN], int64_t now, char *operator,
	    size_t operatorlen);
int	store_console_session_create(struct store *,
	    const uint8_t hash[STORE_HASH_LEN], const char *operator,
	    int64_t now);
/* 0 found, 1 none, -1 error. */
int	store_console_session_find(struct store *,
	    const uint8_t hash[STORE_HASH_LEN],
	    struct store_console_session *);
int	store_console_session_seen(struct store *, int64_t id, int64_t now);
int	store_console_session_delete(struct store *, int64_t id);
/*
 * Senders allowed to talk to an account (pairing approved, allowlist
 * or owner), at most max of them, for the console; fn's strings are
 * borrowed.  revoke: 0 done, 1 not allowed anyway, -1 error.
 */
typedef int	(*store_allowed_fn)(const char *account, const char *peer,
		    int64_t approved, void *);
int	store_console_allowed(struct store *, unsigned max, store_allowed_fn,
	    void *);
int	store_console_peer_revoke(struct store *, const char *account,
	    const char *peer);
/*
 * Channel conversations, newest first, at most max, whose peer and
 * whose messages' text contain the lower-case peer and text (NULL: any);
 * a conversation's newest max messages with the state of the reply's
 * last outbox row (NULL: none left).  fn's strings are borrowed; -1 from
 * fn stops the walk.  0 or -1.
 */
struct store_conv {
	int64_t		 session_id;
	const char	*account;
	const char	*peer;
	int64_t		 last;		/* the newest message's created */
	int64_t		 count;
};
struct store_conv_msg {
	int64_t		 id;
	int64_t		 created;
	int64_t		 answered;	/* 0: not yet */
	const char	*sender;
	const char	*text;
	const char	*reply;		/* NULL: not answered */
	const char	*delivery;
	int		 sent;		/* written first: reply is its text */
	int		 reset;		/* a /new: the agent's context restarts */
};
/* Where a page of messages ended: the next page is older than this. */
struct store_conv_at {
	int64_t		 created;
	int		 sent;
	int64_t		 id;
};
typedef int	(*store_conv_fn)(const struct store_conv *, void *);
typedef int	(*store_conv_msg_fn)(const struct store_conv_msg *, void *);
int	store_conv_list(struct store *, const char *peer, const char *text,
	    unsigned max, store_conv_fn, void *);
int	store_conv_messages(struct store *, int64_t session_id,
	    const struct store_conv_at *before, unsigned max,
	    store_conv_msg_fn, void *);
/* A channel session's account and peer: 0, 1 when none, or -1. */
int	store_conv_peer(struct store *, int64_t session_id, char *account,
	    size_t asize, char *peer, size_t psize);
/*
 * store_conv_media.c: a message's parts in order, at most max, each
 * with its first SNIFF_HEAD bytes (fewer when shorter) and no more;
 * one part's bytes when they are at most max bytes.
 */
struct store_conv_part {
	unsigned	 seq;
	const char	*kind;
	const char	*name;
	uint64_t	 size;
	uint8_t		 head[16];	/* SNIFF_HEAD of them, or fewer */
	size_t		 headlen;
};
typedef int	(*store_conv_part_fn)(const struct store_conv_part *, void *);
int	store_conv_parts(struct store *, int64_t msg_id, unsigned max,
	    store_conv_part_fn, void *);
/*
 * 0 with the part's bytes (xmalloc'd, *size of them) and its name
 * copied; 1 when there is no such part; 2 when it is over max bytes
 * (nothing read); -1 on a store error.
 */
int	store_conv_part_take(struct store *, int64_t msg_id, unsigned seq,
	    uint64_t max, uint8_t **data, uint64_t *size, char *name,
	    size_t namesize);
/*
 * store_pause.c: an account paused (by whom; kept if it was already)
 * or no longer; the paused ones by name.  0 or -1.
 */
typedef int	(*store_pause_fn)(const char *account, void *);
int	store_pause_set(struct store *, const char *account, const char *by,
	    int64_t now);
int	store_pause_clear(struct store *, const char *account);
int	store_pause_list(struct store *, store_pause_fn, void *);

/*
 * The console's chat threads (store_cchat.c).  create: a new thread
 * with agent for operator; branch: a new thread of msg_id's agent
 * holding copies of its thread's answered messages up to msg_id (0, 1
 * msg_id is not an answered message of a thread, -1); find: 0, 1 none,
 * -1.  A sealed (e2e) thread has no branches.  list: the newest max
 * threads; messages: a thread's session's messages after since, oldest
 * first, at most max.  fn's strings are borrowed; -1 from fn stops the
 * walk.  seq_next: the number a sealed thread's next message takes;
 * seq_set and seq: a message's (0: none); both -1 on error.
 */
#define STORE_CCHAT_NAME	65	/* an agent's or operator's name */
struct store_cchat {
	int64_t		 id;
	int64_t		 session_id;
	char		 agent[STORE_CCHAT_NAME];
	char		 operator[STORE_CCHAT_NAME];
	int64_t		 parent_id;	/* 0: none */
	int64_t		 parent_msg;
	int64_t		 created;
	int		 e2e;		/* sealed end to end (docs/e2e.md) */
	const char	*last_text;	/* list only; NULL: no message */
	int64_t		 count;		/* list only */
};
struct store_cchat_msg {
	int64_t		 id;
	const char	*text;
	int		 state;		/* enum msg_state */
	const char	*reply;		/* NULL: not answered */
	int64_t		 created;
	int64_t		 answered;
	const char	*error;		/* NULL: none */
	int		 command;
	int64_t		 seq;		/* a sealed message's number, or 0 */
};
typedef int	(*store_cchat_fn)(const struct store_cchat *, void *);
typedef int	(*store_cchat_msg_fn)(const struct store_cchat_msg *, void *);
int	store_cchat_create(struct store *, const char *agent,
	    const char *operator, int e2e, int64_t now, int64_t *thread);
int	store_cchat_branch(struct store *, int64_t msg_id,
	    const char *operator, int64_t now, int64_t *thread);
int	store_cchat_find(struct store *, int64_t thread, struct store_cchat *);
int	store_cchat_of_session(struct store *, int64_t session,
	    struct store_cchat *);
int64_t	store_cchat_seq_next(struct store *, int64_t session);
int	store_cchat_seq_set(struct store *, int64_t msg_id, int64_t seq);
int64_t	store_cchat_seq(struct store *, int64_t msg_id);
/*
 * End-to-end keys (store_e2e.c): an operator's data key as their
 * browser wrapped it (docs/e2e.md); the record is opaque here.  get:
 * 0 and a copy to free, 1 none, -1 error.
 */
#define STORE_E2E_RECORD_MAX	1024
int	store_e2e_key_get(struct store *, const char *owner, char **record);
int	store_e2e_key_set(struct store *, const char *owner,
	    const char *record, int64_t now);
int	store_cchat_list(struct store *, unsigned max, store_cchat_fn, void *);
int	store_cchat_messages(struct store *, int64_t session, int64_t since,
	    unsigned max, store_cchat_msg_fn, void *);
/* Every session and link ended; how many sessions, or -1. */
int	store_console_revoke_all(struct store *);
/* Sessions and links past their time go; how many sessions, or -1. */
int	store_console_expire(struct store *, int64_t now, int64_t idle_s,
	    int64_t max_s);

/*
 * Pairing: a one-time code for a sender a channel does not know yet,
 * awaiting the operator (wxgatectl pairing approve|deny CODE).  Codes
 * are not secrets to the store: the sender shows theirs to the operator.
 */
struct store_pairing_row {
	char		*code;		/* borrowed for the callback */
	char		*account;
	char		*peer;
	int64_t		 created;
	int64_t		 expires;
};
typedef int	(*store_pairing_fn)(const struct store_pairing_row *, void *);

/* A new code for (account, peer), replacing theirs; -1 if code is taken. */
int	store_pairing_create(struct store *, const char *account,
	    const char *peer, const char *code, int64_t now, int64_t expires);
/* Every pending code, oldest first; fn returning -1 stops the walk. */
int	store_pairing_list(struct store *, store_pairing_fn, void *arg);
/*
 * Spend the code.  approve: the sender becomes allowed in peers.
 * 0 done, 1 no such code, 2 expired (approve only; the code is gone
 * anyway), -1 error.
 */
int	store_pairing_approve(struct store *, const char *code, int64_t now);
int	store_pairing_deny(struct store *, const char *code, int64_t now);
/* Mark the sender allowed (pairing approved, or a channel's owner). */
int	store_peer_allow(struct store *, const char *account,
	    const char *peer, int64_t now);
/* 1 allowed, 0 not (or unknown), -1 error. */
int	store_peer_allowed(struct store *, const char *account,
	    const char *peer);

/*
 * Channels (store_channel.c).  A platform conversation is a session
 * keyed by (account, peer), without a token; its messages are deduped
 * by the platform's id per account.
 */
struct store_chan_msg {
	int64_t		 session;
	const char	*account;
	const char	*msgid;		/* the platform's message id */
	const char	*peer;
	const char	*text;
	const char	*reply_ctx;	/* "" none */
};

/* The conversation of (account, peer), found or made. */
int	store_chan_session(struct store *, const char *account,
	    const char *peer, int64_t now, int64_t *id);
/* 0 with copies the caller frees, 1 not a channel session, -1 error. */
int	store_chan_of(struct store *, int64_t session, char **account,
	    char **peer);
/* 1 seen before (a redelivery), 0 new, -1 error. */
int	store_chan_msg_seen(struct store *, const char *account,
	    const char *msgid);
int	store_chan_msg_accept(struct store *, const struct store_chan_msg *,
	    int64_t now, int64_t *id);
/* The reply token kept with a message ("" if none); caller frees. */
char	*store_chan_msg_ctx(struct store *, int64_t msg_id);

/* One outbound chunk, borrowed for the callback. */
struct store_outbox_row {
	int64_t		 id;
	char		*peer;
	char		*body;
	char		*reply_ctx;
	int		 attempts;
	int64_t		 created;
	int		 key_gen;	/* times surely refused */
	int64_t		 attachment;	/* its file (store_attach_get), or 0 */
	int		 more;		/* more of its answer follows */
	int64_t		 ctx_msg;	/* the message reply_ctx came with */
	int		 spent;		/* reply_ctx's messages so far */
};
typedef void	(*store_outbox_fn)(const struct store_outbox_row *, void *);

/* msg_id 0: a notice with no message behind it.  id: the row's, or NULL. */
int	store_outbox_add(struct store *, const char *account, const char *peer,
	    int64_t msg_id, int seq, const char *body, const char *reply_ctx,
	    int64_t now, int64_t *id);
/* Lease up to limit due rows until `until`; how many, or -1. */
int	store_outbox_lease(struct store *, const char *account, int64_t now,
	    int64_t until, unsigned limit, store_outbox_fn, void *arg);
/*
 * latest: each row with the newest reply context of its peer, and the
 * rows sent on that context so far (spent); below: rows with a smaller
 * id only (a cluster's rows not yet in its truth).
 */
int	store_outbox_lease_ctx(struct store *, const char *account,
	    int64_t now, int64_t until, unsigned limit, int latest,
	    int64_t below, store_outbox_fn, void *arg);
/* Delivered (state sent): 0 done, 1 no such queued row of account, -1. */
int	store_outbox_ack(struct store *, const char *account, int64_t id,
	    int64_t now);
/* The delivery states a row ends in; "queued" is the one it starts in. */
#define OUTBOX_QUEUED		"queued"
#define OUTBOX_SENT		"sent"
#define OUTBOX_FAILED		"failed"
#define OUTBOX_UNDELIVERABLE	"undeliverable"
/* Ended otherwise (failed, undeliverable, with why): as for ack. */
int	store_outbox_finish(struct store *, const char *account, int64_t id,
	    const char *state, const char *detail, int64_t now);
/* One row for the operator, whatever its state. */
struct store_outbox_state {
	int64_t		 id;
	char		*account;
	char		*peer;
	char		*state;
	char		*detail;	/* "" none */
	int		 attempts;
	int64_t		 created;
	int64_t		 finished;	/* 0 while queued */
};
/* 0 found (free it with store_outbox_state_free), 1 none, -1 error. */
int	store_outbox_get(struct store *, int64_t id,
	    struct store_outbox_state *);
void	store_outbox_state_free(struct store_outbox_state *);
/* Finished rows older than before, or beyond the newest keep: gone. */
int	store_outbox_prune(struct store *, int64_t before, unsigned keep);
/*
 * Not delivered: try again after base_s << (earlier attempts), at most
 * max_s, but not before after_s (the platform's word); new_key: under a
 * new send key (key_gen + 1).  Returns the attempts so far with *delay
 * set, 0 for no such row, -1 on error.
 */
struct store_retry {
	int64_t		 now;
	int64_t		 after_s;
	int64_t		 base_s;
	int64_t		 max_s;
	int		 new_key;
};
int	store_outbox_retry(struct store *, const char *account, int64_t id,
	    const struct store_retry *, int64_t *delay);
/* The account's worker holds nothing: its leased rows are due now. */
int	store_outbox_release(struct store *, const char *account,
	    int64_t now);
int	store_outbox_count(struct store *, const char *account);
/* stream_mode block: a message's rows so far; the peer's turn spent. */
int	store_outbox_parts(struct store *, const char *account,
	    int64_t msg_id, char **text, int *rows);
int	store_outbox_turn(struct store *, const char *account,
	    const char *peer);

/*
 * An attachment (store_attach.c): queued with its own outbox row, whose
 * body is the name.  For add, account and peer say where; get fills
 * name, kind, size and data (free with store_attach_free).
 */
struct store_attach {
	const char	*account;
	const char	*peer;
	/* A reply's file: its message, place and context; 0 for a send. */
	int64_t		 msg_id;
	int		 seq;
	const char	*reply_ctx;
	char		*name;
	char		*kind;		/* "file" or "image" */
	uint8_t		*data;
	size_t		 size;
	uint8_t		 sha256[STORE_HASH_LEN];
};
int	store_attach_add(struct store *, const struct store_attach *,
	    int64_t now, int64_t *outbox_id);
/* Bytes of attachments whose rows are still queued. */
int	store_attach_waiting(struct store *, uint64_t *bytes);
/* 0 found, 1 none (or its bytes already dropped), -1 error. */
int	store_attach_get(struct store *, int64_t id, struct store_attach *);
void	store_attach_free(struct store_attach *);
int	store_attach_drop(struct store *, int64_t outbox_id);

/*
 * One part of an inbound message, for the media area (store_media.c);
 * borrowed.  kind is image, file, voice or video.
 */
struct store_media {
	const char	*account;
	int64_t		 msg_id;	/* messages.id */
	unsigned	 seq;		/* its place in the message */
	const char	*kind;
	const char	*name;
	const uint8_t	*data;
	size_t		 size;
	uint8_t		 sha256[STORE_HASH_LEN];
};
int	store_media_add(struct store *, const struct store_media *,
	    int64_t now);
int	store_media_bytes(struct store *, uint64_t *bytes, uint64_t *rows);
/*
 * Room for need more bytes under cap, made by dropping answered
 * messages' parts oldest first: 0 there is, 1 there is not, -1 error.
 */
int	store_media_room(struct store *, uint64_t need, uint64_t cap);
/*
 * The parts of message msg_id in order, each borrowed for cb, which
 * returns non-zero to stop.  0, or -1 on a store error.
 */
int	store_media_each(struct store *, int64_t msg_id,
	    int (*cb)(const struct store_media *, void *), void *);
/* Parts older than before: how many went, or -1. */
int	store_media_prune(struct store *, int64_t before);
int	store_attach_prune(struct store *);

/* A channel worker's own state: 0 found (caller frees), 1 none, -1. */
int	store_kv_get(struct store *, const char *account, const char *key,
	    char **value);
/* value "" deletes the key. */
int	store_kv_put(struct store *, const char *account, const char *key,
	    const char *value, int64_t now);
/* How many keys the account has besides key, or -1. */
int	store_kv_others(struct store *, const char *account, const char *key);

/* 1 a pairing code of (account, peer) is still live, 0 none, -1. */
int	store_pairing_live(struct store *, const char *account,
	    const char *peer, int64_t now);

#ifdef WX_TEST_HOOKS
/* The next n channel writes fail (wxgatectl test supervisor store_fail). */
void	store_test_fail_writes(int n);
/* Every commit fails while on (commit_fail_on / commit_fail_off). */
void	store_test_fail_commits(int on);
#endif

/*
 * Schedules (store_sched.c, issue #15).  A definition as stored; cron
 * or every is NULL, agent NULL for a fixed text (body), targets one
 * "channel:target" per line.  Strings owned (store_sched_free) when
 * the store returns one, borrowed when it is given one.
 */
struct store_sched {
	int64_t		 id;
	char		*name;
	char		*cron;
	char		*every;
	char		*tz;
	char		*agent;
	char		*body;
	char		*targets;
	int64_t		 hold;		/* seconds; 0 none */
	int		 catch_up_none;
	int		 paused;
	int		 from_config;
	int64_t		 last_slot;
	int64_t		 next_run;	/* 0: never */
	int64_t		 created;
	/*
	 * Sealed (docs/e2e.md): body is an envelope only owner's key opens
	 * ("" until the page sets it), and there are no targets.
	 */
	char		*owner;
	int		 sealed;
	/* store_sched_list(): the newest run, 0 and NULL if none */
	int64_t		 last_run;
	char		*last_state;
};
typedef void	(*store_sched_fn)(const struct store_sched *, void *);
/* 0 added, 1 the name is taken, -1 error. */
int	store_sched_add(struct store *, const struct store_sched *,
	    int64_t *id);
/* The definition only (a reload), position kept: 0, 1 none, -1. */
int	store_sched_redefine(struct store *, const struct store_sched *);
/* 0 found (caller frees with store_sched_free), 1 none, -1 error. */
int	store_sched_get(struct store *, const char *name, struct store_sched *);
void	store_sched_free(struct store_sched *);
/* By id: 0 found (store_sched_free), 1 none, -1 error. */
int	store_sched_get_id(struct store *, int64_t id, struct store_sched *);
/* A sealed schedule's prompt, by its owner only: 0, 1 none, -1. */
int	store_sched_seal(struct store *, int64_t id, const char *owner,
	    const char *envelope);
/* All (name NULL) or one, by name, each with its newest run. */
int	store_sched_list(struct store *, const char *name, store_sched_fn,
	    void *arg);
/* 0 done, 1 no such schedule, -1 error. */
int	store_sched_pause(struct store *, const char *name, int paused);
int	store_sched_remove(struct store *, const char *name);
/* Schedules from the configuration file not in names[0..n): gone. */
int	store_sched_forget(struct store *, char *const *names, size_t n);
/* Unpaused, due by now: up to limit, soonest first. */
int	store_sched_due(struct store *, int64_t now, unsigned limit,
	    store_sched_fn, void *arg);
/* The soonest next_run of an unpaused schedule: 0, 1 none, -1. */
int	store_sched_soonest(struct store *, int64_t *when);
int	store_sched_move(struct store *, int64_t id, int64_t last_slot,
	    int64_t next_run);
/*
 * The run's lock: a run row of schedule sc for slot (manual: asked for
 * now, no lock).  0 with *run, 1 that slot has run already, -1 error.
 */
int	store_run_start(struct store *, const struct store_sched *,
	    int64_t slot, int manual, int64_t now, int64_t *run);
int	store_run_prompt(struct store *, int64_t run, int64_t msg_id);
/* The running run waiting on msg_id's answer: 0, 1 none, -1. */
int	store_run_of_msg(struct store *, int64_t msg_id, int64_t *run,
	    char **name);
#define RUN_RUNNING	"running"
#define RUN_DONE	"done"
#define RUN_FAILED	"failed"
int	store_run_end(struct store *, int64_t run, const char *state,
	    const char *error, int64_t agent_done, int64_t now);
int	store_runs_running(struct store *);
/* A target of run, with the state it starts in (queued, or an end). */
int	store_run_target(struct store *, int64_t run, int seq,
	    const char *account, const char *peer, const char *state,
	    const char *detail);
/* Settle queued targets whose outbox rows have all ended. */
int	store_run_settle(struct store *);
/* Runs ended before `before`, or beyond the newest keep: gone. */
int	store_run_prune(struct store *, int64_t before, unsigned keep);
struct store_run_row {
	int64_t		 id;
	const char	*name;
	int64_t		 slot;
	int		 manual;
	int64_t		 started;
	int64_t		 agent_done;
	const char	*state;
	const char	*error;
	/* store_run_recent(): a sealed schedule's answer; NULL none (yet) */
	const char	*reply;
};
struct store_run_target_row {
	int64_t		 run;
	const char	*account;
	const char	*peer;
	const char	*state;
	const char	*detail;
};
typedef void	(*store_run_fn)(const struct store_run_row *, void *);
typedef void	(*store_run_target_fn)(const struct store_run_target_row *,
		    void *);
/* The newest limit runs (of name, or all), oldest first, each then its
 * targets. */
int	store_run_history(struct store *, const char *name, unsigned limit,
	    store_run_fn, store_run_target_fn, void *arg);
/*
 * The newest per runs of each of the first nsched schedules by name
 * (store_sched_list's order), in one query: by name, oldest first, each
 * then its targets, a sealed schedule's with its reply.  0 or -1.
 */
int	store_run_recent(struct store *, unsigned nsched, unsigned per,
	    store_run_fn, store_run_target_fn, void *arg);
/*
 * The run of a sealed schedule waiting on msg_id: 0 (owner to free),
 * 1 none or not sealed, -1 error.  reply: the stored answer of run, a
 * run of schedule (to free), 0, 1 none (yet, or not its run), -1.
 */
struct store_run_seal {
	int64_t		 schedule;
	int64_t		 slot;
	char		*owner;
};
int	store_run_sealed(struct store *, int64_t msg_id,
	    struct store_run_seal *);
int	store_run_reply(struct store *, int64_t schedule, int64_t run,
	    char **reply);
/* A run's text, queued as outbox rows of run (hold: until then, 0). */
int	store_outbox_add_run(struct store *, const char *account,
	    const char *peer, int seq, const char *body, int64_t run,
	    int64_t hold_until, int64_t now, int64_t *id);
/* The peer wrote: its held rows are due now.  Rows released, or -1. */
int	store_outbox_unhold(struct store *, const char *account,
	    const char *peer, int64_t now);
/* account's held past their time: undeliverable with why.  Rows ended,
 * or -1. */
int	store_outbox_expire_held(struct store *, const char *account,
	    int64_t now, const char *detail);
#define STORE_HOLD_ENDED	"the peer did not write again within " \
	"hold_until_contact"

/* The outbox's rows per delivery state (those it holds now): 0 or -1. */
typedef void	(*store_count_fn)(const char *, int64_t, void *);
int	store_outbox_states(struct store *, store_count_fn, void *arg);
/* When the peer last gave a reply context: 0 with *when, 1 never, -1. */
int	store_peer_contact(struct store *, const char *account,
	    const char *peer, int64_t *when);

/* One denial; strings borrowed for the callback, NULL where absent. */
struct store_audit_row {
	int64_t		 time;
	const char	*role;
	const char	*worker;
	int64_t		 session;
	const char	*method;
	const char	*detail;
};
typedef int	(*store_audit_fn)(const struct store_audit_row *, void *);
/* The newest limit rows, oldest first; fn returning -1 stops. */
int	store_audit_list(struct store *, unsigned limit, store_audit_fn,
	    void *arg);
/*
 * Retention (store_audit.c): delete at most batch rows older than
 * `before` or beyond the newest keep rows, oldest first, in the open
 * transaction.  Rows deleted (batch: call again soon), or -1.
 */
int	store_audit_prune(struct store *, int64_t before, uint32_t keep,
	    unsigned batch);

/*
 * Binding invitations and bound accounts (store_bind.c).  Only the
 * SHA-256 of an invitation's token is kept.
 */
enum {
	INV_LIVE = 0,
	INV_UNKNOWN,
	INV_EXPIRED,
	INV_USED,		/* no use left */
	INV_REVOKED,
};
struct store_invite_row {
	int64_t		 id;
	const char	*tmpl;		/* borrowed for the callback */
	int64_t		 created;
	int64_t		 expires;
	int64_t		 uses_left;
	int64_t		 used;
	int64_t		 revoked;	/* when, 0 live */
};
typedef int	(*store_invite_fn)(const struct store_invite_row *, void *);
int	store_invite_create(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    const char *tmpl, int64_t now, int64_t expires, int64_t uses,
	    int64_t *id);
int	store_invite_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, int64_t *id, char **tmpl);
int	store_invite_list(struct store *, store_invite_fn, void *arg);
int	store_invite_revoke(struct store *, int64_t id, int64_t now);

struct store_account_row {
	const char	*name;		/* all borrowed for the callback */
	const char	*kind;
	const char	*tmpl;
	const char	*owner;		/* "" while pending */
	const char	*state;		/* pending, active */
	int64_t		 created;
};
typedef int	(*store_account_fn)(const struct store_account_row *, void *);
/* invitation 0: none (made otherwise). */
int	store_account_add(struct store *, const char *name, const char *kind,
	    const char *tmpl, int64_t invitation, int64_t now);
int	store_account_activate(struct store *, const char *name,
	    const char *owner);
int	store_account_list(struct store *, store_account_fn, void *arg);
int	store_account_count(struct store *, const char *tmpl, int64_t *n);
int	store_account_pending(struct store *, int64_t invitation, int64_t *n);
int	store_account_get(struct store *, const char *name, char **tmpl,
	    char **state, char **owner);
int	store_account_delete(struct store *, const char *name);

#endif
