/*
 * A small pool of PostgreSQL connections driven by the hub's event
 * loop (libpq's asynchronous API: no call here waits on the server).
 * Each connection prepares the caller's statements once, then runs one
 * request at a time; requests beyond the connections wait in a bounded
 * queue, and every request has a deadline from the moment it is asked.
 * The answer always comes through the callback, never from pgpool_query
 * itself, and exactly once:
 *
 *   PGP_OK       the statement ran; res holds its rows
 *   PGP_ERROR    the server refused it (err: its SQLSTATE and message);
 *                nothing was changed
 *   PGP_BUSY     the queue is full (asked again later, it may fit)
 *   PGP_TIMEOUT  its deadline passed: if it had been sent, its
 *                connection is closed and the outcome is unknown
 *   PGP_DOWN     its connection broke while it ran: outcome unknown
 *   PGP_CLOSED   the pool is being freed
 *
 * so writes made through it must be idempotent or fenced (lease.h).
 * A lost connection is opened again with a backoff; the others go on.
 */
#ifndef WX_PGPOOL_H
#define WX_PGPOOL_H

#include <stdint.h>

#include <libpq-fe.h>

struct event_base;

#define PGPOOL_CONNS_MAX	16
#define PGPOOL_PARAMS_MAX	32	/* of one statement */
#define PGPOOL_BATCH_MAX	8192	/* statements of one transaction */

enum pgp_status {
	PGP_OK,
	PGP_ERROR,
	PGP_BUSY,
	PGP_TIMEOUT,
	PGP_DOWN,
	PGP_CLOSED,
};

struct pgp_stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
};

struct pgpool_conf {
	const char	*conninfo;	/* libpq key=value or URI */
	const char	*password;	/* NULL: the conninfo's, or PGPASSFILE */
	unsigned	 conns;		/* 1..PGPOOL_CONNS_MAX */
	unsigned	 queue_max;	/* requests waiting for a connection */
	unsigned	 deadline_ms;	/* from pgpool_query to the answer */
	const struct pgp_stmt *stmts;
	unsigned	 nstmts;
	/* Run on every new connection before its statements are prepared
	 * (they may name what it creates): idempotent SQL, one or more
	 * statements.  NULL: none. */
	const char	*setup;
};

/* res is the pool's: valid during the call only, NULL when the server
 * gave none.  err: a line saying why (the server's SQLSTATE and text,
 * or the connection's failure), or NULL. */
typedef void (*pgp_done_fn)(enum pgp_status, const PGresult *res,
		    const char *err, void *arg);

struct pgpool;

struct pgpool	*pgpool_new(struct event_base *, const struct pgpool_conf *);
/* Frees the pool; every request still waiting is answered PGP_CLOSED. */
void		 pgpool_free(struct pgpool *);
/* Runs stmts[stmt] with params (NULL: SQL NULL, text format).  0: the
 * callback will answer; -1: stmt or nparams is wrong (no callback). */
int		 pgpool_query(struct pgpool *, unsigned stmt,
		    unsigned nparams, const char *const *params,
		    pgp_done_fn, void *);

struct pgp_q {
	unsigned		 stmt;
	unsigned		 nparams;
	const char *const	*params;
	const char		*sql;	/* non-NULL: this text, not stmt */
};

/*
 * Runs n statements as one transaction in one round trip (libpq's
 * pipeline mode, one Sync): all commit, or the first that fails rolls
 * them all back and is the answer's (err says which, from 1).  On
 * success res is the last statement's.  A statement given as text
 * (sql) is parsed by the server each time: for the ones made at run
 * time (pgapply.c).  Otherwise as pgpool_query.
 */
int		 pgpool_batch(struct pgpool *, const struct pgp_q *,
		    unsigned n, pgp_done_fn, void *);
/* Connections that are open and prepared. */
unsigned	 pgpool_ready(const struct pgpool *);
/* Requests waiting for a connection. */
unsigned	 pgpool_queued(const struct pgpool *);
const char	*pgp_status_name(enum pgp_status);

#endif
