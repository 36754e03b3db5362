/*
 * What the shared truth (PostgreSQL) holds of one channel account, or
 * of one web chat session, brought into this node's working set (its
 * SQLite store): when a lease is taken, before the account's worker
 * starts, or when a visitor brings a session another node served
 * (docs/architecture.md, "Several nodes on PostgreSQL").
 *
 * One statement reads it all, so what is read is one snapshot: every
 * row of every table it touches, each as JSON tagged with its table,
 * rows that its rows refer to included (the account's invitation, the
 * outbox's attachments, a visitor's share link).  The rows are absorbed
 * in the caller's turn (store_absorb), and the answer says how many.
 */
#ifndef WX_PGLOAD_H
#define WX_PGLOAD_H

#include <stdint.h>

struct pgpool;
struct store;

/* rows: absorbed, or -1 (the database failed, or a row did not fit;
 * the turn should then be rolled back). */
typedef void	(*pgload_fn)(int64_t rows, void *arg);

int	pgload_account(struct pgpool *, struct store *, const char *account,
	    pgload_fn, void *);
/*
 * The schedules, for the node that takes the "@schedules" lease: held
 * is the accounts it runs, as an array literal ("{a,b}"), whose outbox
 * rows are not read.
 */
int	pgload_schedules(struct pgpool *, struct store *, const char *held,
	    pgload_fn, void *);
/*
 * A web chat session by its id (in decimal), by its token's hash (in
 * hex), or by a share link's hash (hex) and, for a link that gives each
 * visitor a session, the visitor's token hash (hex, or NULL): the link
 * and the session it names or the visitor's.  None found is 0 rows.
 * PGLOAD_MSG: one message by its id (decimal), of a session already
 * read, and its parts.  PGLOAD_INVITE: a binding invitation by its
 * token's hash (hex), made on any node.  PGLOAD_CONV: a cold channel
 * conversation's history by its session id (decimal), bounded as an
 * account's load is.
 */
enum pgload_by { PGLOAD_ID, PGLOAD_TOKEN, PGLOAD_SHARE, PGLOAD_MSG,
	PGLOAD_INVITE, PGLOAD_CONV };
int	pgload_session(struct pgpool *, struct store *, enum pgload_by,
	    const char *key, const char *key2, pgload_fn, void *);
/*
 * One row as the database sent it (row_to_json's object) into the
 * store: 0, or -1 on anything else (not an object, a value neither
 * null, integer nor string, a column missing, out of order or extra).
 */
int	pgload_row(struct store *, const char *table, const char *json);

#endif
