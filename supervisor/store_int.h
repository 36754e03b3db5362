/*
 * Private interface between store.c (queries, group commit) and
 * store_migrate.c (schema versions).  Nothing outside supervisor/store*.c
 * and their unit tests includes this file.
 */
#ifndef WX_STORE_INT_H
#define WX_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/*
 * Statements of the store's other files (store_channel.c), prepared on
 * first use into this array, each file owning a fixed range of it.
 */
#define STORE_LAZY_CHANNEL	0	/* store_channel.c: 0..31 */
#define STORE_LAZY_BACKLOG	32	/* store_backlog.c: 32..47 */
#define STORE_LAZY_MAX		48
#define STORE_STMT_MAX		64	/* store.c's own, prepared at open */

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[STORE_STMT_MAX];	/* store.c's, by enum */
	sqlite3_stmt	*lazy[STORE_LAZY_MAX];
	int		 poisoned;	/* an error since the last commit */
	uint64_t	 errs;		/* errors not yet logged */
	uint64_t	 err_logged;	/* clock_mono_ms() of the last log */
};

/* The statement in lazy slot i, prepared from sql if not yet. */
sqlite3_stmt	*store_lazy(struct store *, int i, const char *sql);
/* Reset and unbind after use; the error was reported by the caller. */
void		 store_done(sqlite3_stmt *);
/* Log sqlite's message for func; returns -1. */
int		 store_err(struct store *, const char *func);
/* A text column copied ("" for NULL); caller frees. */
char		*store_column_dup(sqlite3_stmt *, int col);
/* Bind v, or NULL when v is 0 (optional times and ids). */
int		 store_bind_opt(sqlite3_stmt *, int i, int64_t v);
/*
 * Bind ?1, ?2, ... in order: 't' a C string (NULL binds NULL), 'i' an
 * int64_t, 'o' an int64_t that is NULL when 0, 'h' a token hash
 * (STORE_HASH_LEN bytes).  SQLITE_OK or the error.
 */
int		 store_bindv(sqlite3_stmt *, const char *fmt, ...);
/*
 * Run a bound write (bound: what the binding returned): 0 done, -1 error
 * (reported for func).  The statement is reset either way.
 */
int		 store_exec(struct store *, sqlite3_stmt *, int bound,
		    const char *func);
/*
 * The first row of a bound read: 0 a row (the statement is left on it;
 * the caller reads columns, then store_done), 1 none, -1 error.
 */
int		 store_row(struct store *, sqlite3_stmt *, int bound,
		    const char *func);

/* The newest schema this code knows; a database beyond it is refused. */
#define STORE_SCHEMA_VERSION	3

/* PRAGMA user_version of db, or -1 with a warning. */
int	store_user_version(sqlite3 *db);
/*
 * 0 if this code can use db's schema, now or after store_migrate();
 * -1 with a reason in err for a newer or unreadable one.  Called before
 * anything, even a pragma, writes to the file.
 */
int	store_schema_check(sqlite3 *db, char *err, size_t errlen);
/*
 * Bring db to STORE_SCHEMA_VERSION in one transaction.  0 on success;
 * -1 with a reason in err (and nothing changed) otherwise.
 */
int	store_migrate(sqlite3 *db, char *err, size_t errlen);

#endif
