/*
 * Private interface between store.c (queries, group commit) and
 * store_migrate.c (schema versions).  Nothing outside supervisor/store*.c
 * and their unit tests includes this file.
 */
#ifndef WX_STORE_INT_H
#define WX_STORE_INT_H

#define STORE_ID_BLOCKS	64

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "metrics.h"
#include "schema.h"
#include "strpool.h"

/*
 * How long a statement waits on a lock held by another connection (an
 * operator's sqlite3 shell, a backup) before failing with SQLITE_BUSY.
 * Short, because the supervisor's event loop is blocked meanwhile.
 */
#define STORE_BUSY_MS	2000

/*
 * Statements of the store's other files (store_channel.c), prepared on
 * first use into this array, each file owning a fixed range of it.
 */
#define STORE_LAZY_CHANNEL	0	/* store_channel.c: 0..31 */
#define STORE_LAZY_BACKLOG	32	/* store_backlog.c: 32..47 */
#define STORE_LAZY_AUDIT	48	/* store_audit.c: 48..51 */
#define STORE_LAZY_SCHED	52	/* store_sched.c: 52..79 */
#define STORE_LAZY_ATTACH	80	/* store_attach.c: 80..87 */
#define STORE_LAZY_MEDIA	88	/* store_media.c: 88..95 */
#define STORE_LAZY_RELAY	96	/* store_relay.c: 96..103 */
#define STORE_LAZY_BIND		104	/* store_bind.c: 104..135 */
#define STORE_LAZY_CONSOLE	136	/* store_console.c: 136..151 */
#define STORE_LAZY_CONV		152	/* store_conv.c: 152..155 */
#define STORE_LAZY_PAUSE	156	/* store_pause.c: 156..159 */
#define STORE_LAZY_CCHAT	160	/* store_cchat.c: 160..171 */
#define STORE_LAZY_CONVMEDIA	172	/* store_conv_media.c: 172..175 */
#define STORE_LAZY_E2E		176	/* store_e2e.c: 176..179 */
#define STORE_LAZY_SCHED_E2E	180	/* store_sched_e2e.c: 180..183 */
#define STORE_LAZY_SCHED_PG	184	/* store_sched_pg.c: 184..187 */
#define STORE_LAZY_COLD		188	/* store_cold.c: 188..193 */
#define STORE_LAZY_MAX		194
#define STORE_STMT_MAX		64	/* store.c's own, prepared at open */

/*
 * Latency histogram (store_wal.c): four buckets per power of two of
 * microseconds, so a percentile is off by at most a fifth.
 */
#define STORE_LAT_BUCKETS	128

struct store_lat {
	uint32_t	 n[STORE_LAT_BUCKETS];
	uint64_t	 count;
};

/* The write-ahead log's bounds and what commits cost (store_wal.c). */
struct store_wal {
	uint64_t	 ckpt_bytes;	/* PASSIVE checkpoint past this */
	uint64_t	 max_bytes;	/* TRUNCATE past this */
	uint32_t	 frames;	/* in the WAL after the last commit */
	uint32_t	 asked_frames;	/* frames when the thread was asked */
	uint32_t	 page_size;
	int		 timing;	/* a commit is under way */
	struct timespec	 commit_start;
	struct timespec	 truncate_after; /* a busy TRUNCATE backs off */
	struct store_lat commit;	/* since store_wal_stats last ran */
	struct mx_hist	 commit_all;	/* since open, for metrics */
	struct store_lat ckpt;
	uint64_t	 commits;	/* since open */
	uint64_t	 checkpoints;
	uint64_t	 truncates;
};

/* store_turns()'s copies of a statement's rows, kept between calls. */
struct turnrow {
	size_t		 text;		/* offsets into sp */
	size_t		 reply;
	int64_t		 seq;
};

struct store_turnbuf {
	struct strpool	 sp;
	struct turnrow	*row;
	size_t		 nrow;
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[STORE_STMT_MAX];	/* store.c's, by enum */
	sqlite3_stmt	*lazy[STORE_LAZY_MAX];
	int		 poisoned;	/* an error since the last commit */
	int		 reading;	/* store_read_begin()'s, still open */
	struct store_turnbuf turns;
	uint64_t	 errs;		/* errors not yet logged */
	uint64_t	 err_logged;	/* clock_mono_ms() of the last log */
	struct store_wal wal;
	struct store_ckpt *ckpt;	/* the checkpointer thread, or NULL */
	struct store_cap *cap;		/* store_capture(), or NULL */
	/* Row ids (store_ids): the block in use and the one after it. */
	int		 ids_on;
	int64_t		 id_next, id_end;
	int64_t		 id_next2, id_end2;
	/* The latest blocks given (store_ids_mine), a ring. */
	int64_t		 id_blocks[STORE_ID_BLOCKS][2];
	unsigned	 id_nblocks;
};

/* store_capture.c: a failed turn's changes are not to be shipped. */
void		 store_capture_discard(struct store *);
void		 store_capture_free(struct store *);

/* Hook the WAL bookkeeping into a freshly opened store. */
void		 store_wal_init(struct store *);
void		 store_lat_add(struct store_lat *, uint64_t us);

/* The checkpointer thread (store_ckpt.c). */
struct store_ckpt;
int		 store_ckpt_start(struct store *);
int		 store_ckpt_ask(struct store *);
int		 store_ckpt_finished(struct store *);
int		 store_ckpt_idle(struct store *, unsigned ms);
/* The frames a finished checkpointer left, copied here (store_wal.c). */
int		 store_wal_tail(struct store *);
void		 store_ckpt_take(struct store *, uint64_t *done,
		    struct store_lat *);
void		 store_ckpt_stop(struct store *);

/* The statement in lazy slot i, prepared from sql if not yet. */
sqlite3_stmt	*store_lazy(struct store *, int i, const char *sql);
/* store_cold.c: the in-memory marks beside the file (store_open). */
int		 store_cold_init(sqlite3 *);
/* Reset and unbind after use; the error was reported by the caller. */
void		 store_done(sqlite3_stmt *);
/* Log sqlite's message for func; returns -1. */
int		 store_err(struct store *, const char *func);
/* A text column copied ("" for NULL); caller frees. */
char		*store_column_dup(sqlite3_stmt *, int col);
/* A text column into buf ("" for NULL), cut to size. */
void		 store_column_copy(sqlite3_stmt *, int col, char *buf,
		    size_t size);
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
 * A write in this turn's transaction (store_touch), bound as by
 * store_bindv: store_exec's answer.
 */
int		 store_write(struct store *, sqlite3_stmt *, const char *func,
		    const char *fmt, ...);
/*
 * After a walk of rows that stopped with step's rc (or a row the
 * callback refused): reset, and 0, or -1 reported for func.
 */
int		 store_rows_end(struct store *, sqlite3_stmt *, int rc,
		    const char *func);
/*
 * The first row of a bound read: 0 a row (the statement is left on it;
 * the caller reads columns, then store_done), 1 none, -1 error.
 */
int		 store_row(struct store *, sqlite3_stmt *, int bound,
		    const char *func);

/* The newest schema this code knows; a database beyond it is refused. */
#define STORE_SCHEMA_VERSION	SCHEMA_LATEST

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
/* The same, up to version target only: the upgrade tests' older stores. */
int	store_migrate_to(sqlite3 *db, int target, char *err, size_t errlen);

#endif
