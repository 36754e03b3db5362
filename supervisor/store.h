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

#define STORE_HASH_LEN	32	/* SHA-256 of a session token */

struct store;

enum msg_state {
	MSG_NONE = 0,		/* not in the store */
	MSG_ACCEPTED = 1,	/* stored, no agent request yet */
	MSG_ANSWERING = 2,	/* agent request running */
	MSG_ANSWERED = 3	/* reply stored */
};

struct store	*store_open(const char *path, char *err, size_t errlen);
void		 store_close(struct store *);
int		 store_schema_version(struct store *);
void		 store_touch(struct store *);
int		 store_flush(struct store *);
/* Frames copied from the WAL into the database, or -1. */
int		 store_checkpoint(struct store *);

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
int	store_msg_set_state(struct store *, int64_t msg_id, enum msg_state);
/* Store the whole reply once and mark the message MSG_ANSWERED. */
int	store_msg_answer(struct store *, int64_t msg_id, const char *reply,
	    int64_t now);

/*
 * Up to limit most recent answered turns of a session, oldest first,
 * each as a user turn then an assistant turn; before_msg_id excludes
 * that message and newer (0: none excluded).
 */
typedef int	(*store_turn_fn)(const char *role, const char *text, void *);
int	store_history(struct store *, int64_t session, unsigned limit,
	    int64_t before_msg_id, store_turn_fn, void *arg);

/* Messages still MSG_ACCEPTED or MSG_ANSWERING, e.g. after a restart. */
typedef int	(*store_pending_fn)(int64_t msg_id, int64_t session,
		    const char *cmid, const char *text, void *);
int	store_pending(struct store *, store_pending_fn, void *arg);

/*
 * Share links.  Only the SHA-256 of a link's secret is kept, as with
 * session tokens.  A link names a session: its own (store_session_shared,
 * made with the link) or an existing one the operator chose.
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

/* A session with no token and no idle expiry, for a share link. */
int	store_session_shared(struct store *, int64_t now, int64_t *id);
/* 1 exists, 0 not, -1 error. */
int	store_session_exists(struct store *, int64_t id);
/* expires: absolute, 0 none. */
int	store_share_create(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t session, int read_only, int64_t now, int64_t expires);
/* 0 live, 1 not found, 2 revoked or expired, -1 error. */
int	store_share_find(struct store *, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, int64_t *session, int *read_only);
/* Every link, oldest first; fn returning -1 stops the walk. */
int	store_share_list(struct store *, store_share_fn, void *arg);
/*
 * Revoke the one link whose hash starts with hexprefix (lowercase hex):
 * 0 done (or already revoked), 1 none, 2 ambiguous, -1 error.
 */
int	store_share_revoke(struct store *, const char *hexprefix,
	    int64_t now);

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
/* 1 allowed, 0 not (or unknown), -1 error. */
int	store_peer_allowed(struct store *, const char *account,
	    const char *peer);

#endif
