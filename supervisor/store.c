/*
 * The SQLite store: opening (file mode, pragmas), the cached statements,
 * group commit and the queries behind store.h.  Called by the supervisor
 * only; a worker never holds the database.  Schema and migrations live in
 * store_migrate.c.
 *
 * Every value reaches SQLite through a bound parameter of a statement
 * prepared at open; no SQL text is ever built from data.  An SQLite
 * error is returned as -1 and logged, never fatal: the supervisor decides
 * what a failed write means for the request in hand.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

/* A failing disk fails every write: log it this often, with a count. */
#define STORE_ERR_LOG_MS	60000

enum store_stmt {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_SESSION_CREATE,
	ST_SESSION_FIND,
	ST_SESSION_SEEN,
	ST_SESSION_EXPIRED,
	ST_SESSION_DELETE,
	ST_AUDIT,
	ST_MSG_LOOKUP,
	ST_MSG_ACCEPT,
	ST_MSG_ACCEPT_TAKEN,
	ST_MSG_ANSWER,
	ST_MSG_COMMAND,
	ST_HISTORY,
	ST_CONTEXT,
	ST_NEW_CONTEXT,
	ST_MODEL_GET,
	ST_MODEL_SET,
	ST_SESSION_EXISTS,
	ST_SHARE_CREATE,
	ST_SHARE_FIND,
	ST_SHARE_LIST,
	ST_SHARE_MATCH,
	ST_SHARE_REVOKE,
	ST_PAIRING_CREATE,
	ST_PAIRING_LIST,
	ST_PAIRING_FIND,
	ST_PAIRING_DELETE,
	ST_PEER_ALLOW,
	ST_PEER_ALLOWED,
	ST_MSG_TOP,
	ST_MAX
};

static const char *const store_sql[ST_MAX] = {
	/* IMMEDIATE: fail at BEGIN, not at the first write, if locked. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	/* Takes no lock until the first read: store_read_begin(). */
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_SESSION_CREATE] =
	    "INSERT INTO sessions (id, token_hash, created, last_seen, expires,"
	    " anonymous, share_id) VALUES (wx_id(), ?1, ?2, ?2, ?3, 1, ?4)",
	/*
	 * Expired (absolute, or idle for ?3 seconds) reads as 1.  ?4 is the
	 * share link a visitor session belongs to, NULL for the plain page:
	 * a token only opens the door it was issued at.
	 */
	[ST_SESSION_FIND] =
	    "SELECT id, (expires IS NOT NULL AND expires <= ?2) OR"
	    " (anonymous = 1 AND last_seen + ?3 <= ?2)"
	    " FROM sessions WHERE token_hash = ?1 AND share_id IS ?4",
	[ST_SESSION_SEEN] =
	    "UPDATE sessions SET last_seen = ?2 WHERE id = ?1",
	[ST_SESSION_EXPIRED] =
	    "SELECT id FROM sessions WHERE anonymous = 1"
	    " AND token_hash IS NOT NULL"
	    " AND ((expires IS NOT NULL AND expires <= ?1)"
	    " OR last_seen + ?2 <= ?1) ORDER BY id LIMIT ?3",
	/* Its messages go with it (ON DELETE CASCADE). */
	[ST_SESSION_DELETE] =
	    "DELETE FROM sessions WHERE id = ?1",
	[ST_AUDIT] =
	    "INSERT INTO audit (id, time, role, worker, session, method,"
	    " detail) VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MSG_LOOKUP] =
	    "SELECT id, state, reply FROM messages"
	    " WHERE session_id = ?1 AND client_msg_id = ?2",
	[ST_MSG_ACCEPT] =
	    "INSERT INTO messages (id, session_id, client_msg_id, text, state,"
	    " created) VALUES (wx_id(), ?1, ?2, ?3, 1, ?4)",
	/*
	 * The web chat's message goes to its agent's queue in the same
	 * turn: inserted MSG_ANSWERING at once, where an insert and
	 * store_msg_take() updated the row's state, its three indexes and
	 * its CHECK a second time (7.8 against 4.3 us a message).
	 */
	[ST_MSG_ACCEPT_TAKEN] =
	    "INSERT INTO messages (id, session_id, client_msg_id, text, state,"
	    " created) VALUES (wx_id(), ?1, ?2, ?3, 2, ?4)",
	[ST_MSG_ANSWER] =
	    "UPDATE messages SET state = 3, reply = ?2, answered = ?3"
	    " WHERE id = ?1 AND state IN (1, 2)",
	/* A chat command's answer (command.c): never the agent's context. */
	[ST_MSG_COMMAND] =
	    "UPDATE messages SET state = 3, reply = ?2, answered = ?3,"
	    " command = 1 WHERE id = ?1 AND state IN (1, 2)",
	/*
	 * The newest limit turns before ?2, newest first: store_turns()
	 * puts them back in order, for an outer ORDER BY made SQLite copy
	 * them into a temporary B-tree and sort them, which cost more than
	 * the search itself.
	 */
	[ST_HISTORY] =
	    "SELECT text, reply, coalesce(seq, 0) FROM messages"
	    " WHERE session_id = ?1 AND state = 3 AND id < ?2"
	    " ORDER BY id DESC LIMIT ?3",
	/* The same for the agent: since the last /new, no commands. */
	[ST_CONTEXT] =
	    "SELECT text, reply, coalesce(seq, 0) FROM messages"
	    " WHERE session_id = ?1 AND state = 3 AND id < ?2 AND command = 0"
	    " AND id > (SELECT context_from FROM sessions WHERE id = ?1)"
	    " ORDER BY id DESC LIMIT ?3",
	[ST_NEW_CONTEXT] =
	    "UPDATE sessions SET context_from = ?2 WHERE id = ?1",
	[ST_MODEL_GET] =
	    "SELECT coalesce(model, '') FROM sessions WHERE id = ?1",
	[ST_MODEL_SET] =
	    "UPDATE sessions SET model = nullif(?2, '') WHERE id = ?1",
	[ST_SESSION_EXISTS] =
	    "SELECT 1 FROM sessions WHERE id = ?1",
	[ST_SHARE_CREATE] =
	    "INSERT INTO share_links (id, token_hash, session_id, mode,"
	    " created, expires) VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5)",
	/* Revoked or past expires reads as 1. */
	[ST_SHARE_FIND] =
	    "SELECT id, session_id, mode = 'read', revoked IS NOT NULL OR"
	    " (expires IS NOT NULL AND expires <= ?2)"
	    " FROM share_links WHERE token_hash = ?1",
	/* session_id NULL (per visitor) reads as 0. */
	[ST_SHARE_LIST] =
	    "SELECT lower(hex(token_hash)), created, expires, mode = 'read',"
	    " coalesce(session_id, 0), revoked FROM share_links ORDER BY id",
	/* ?1 is checked to be lowercase hex: no LIKE wildcards reach here. */
	[ST_SHARE_MATCH] =
	    "SELECT id FROM share_links"
	    " WHERE substr(lower(hex(token_hash)), 1, length(?1)) = ?1"
	    " LIMIT 2",
	[ST_SHARE_REVOKE] =
	    "UPDATE share_links SET revoked = ?2"
	    " WHERE id = ?1 AND revoked IS NULL",
	/* A sender asking again gets a new code; the old one is void. */
	[ST_PAIRING_CREATE] =
	    "INSERT INTO pairings (id, account, peer, code, created, expires)"
	    " VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5) ON CONFLICT (account, peer) DO"
	    " UPDATE SET code = excluded.code, created = excluded.created,"
	    " expires = excluded.expires",
	[ST_PAIRING_LIST] =
	    "SELECT code, account, peer, created, expires FROM pairings"
	    " ORDER BY id",
	[ST_PAIRING_FIND] =
	    "SELECT id, account, peer, expires <= ?2 FROM pairings"
	    " WHERE code = ?1",
	[ST_PAIRING_DELETE] =
	    "DELETE FROM pairings WHERE id = ?1",
	[ST_PEER_ALLOW] =
	    "INSERT INTO peers (account, peer, allowed, approved, first_seen,"
	    " last_seen) VALUES (?1, ?2, 1, ?3, ?3, ?3)"
	    " ON CONFLICT (account, peer) DO UPDATE SET allowed = 1,"
	    " approved = excluded.approved",
	[ST_PEER_ALLOWED] =
	    "SELECT allowed FROM peers WHERE account = ?1 AND peer = ?2",
	/* The newest message's id (store_ids_past_messages). */
	[ST_MSG_TOP] = "SELECT max(id) FROM messages",
};


static void	 store_id_fn(sqlite3_context *, int, sqlite3_value **);
static void	 store_seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 store_file(const char *, char *, size_t);
static void	 store_file_private(const char *, const char *);
static int	 store_pragmas(sqlite3 *, char *, size_t);
static sqlite3_stmt *store_stmt(struct store *, enum store_stmt);
static void	 store_turns_free(struct store_turnbuf *);

static void
store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Create the database file 0600, or check and repair an existing one.
 * The descriptor is closed again before SQLite opens the file: closing
 * any descriptor of a file drops every POSIX lock this process holds on
 * it, including SQLite's.
 */
static int
store_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		store_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		store_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		store_seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	/*
	 * A file someone else owns, or one with a second name elsewhere,
	 * could be read or swapped behind the supervisor's back.
	 */
	if (sb.st_uid != geteuid()) {
		store_seterr(err, errlen, "%s: owned by uid %u, not %u", path,
		    (unsigned)sb.st_uid, (unsigned)geteuid());
		goto fail;
	}
	if (sb.st_nlink != 1) {
		store_seterr(err, errlen, "%s: has %lu links", path,
		    (unsigned long)sb.st_nlink);
		goto fail;
	}
	if ((sb.st_mode & 07777) != 0600) {
		log_warnx("%s: %s: mode %04o, setting 0600", __func__, path,
		    (unsigned)(sb.st_mode & 07777));
		if (fchmod(fd, 0600) == -1) {
			store_seterr(err, errlen, "%s: chmod: %s", path,
			    strerror(errno));
			goto fail;
		}
	}
	close(fd);
	return 0;

 fail:
	close(fd);
	return -1;
}

/*
 * SQLite gives -wal and -shm the database file's mode when it creates
 * them, but one left over from an older, careless setup keeps its own.
 */
static void
store_file_private(const char *path, const char *suffix)
{
	struct stat sb;
	char *side;

	xasprintf(&side, "%s%s", path, suffix);
	if (lstat(side, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 077) != 0) {
		log_warnx("%s: %s: mode %04o, setting 0600", __func__, side,
		    (unsigned)(sb.st_mode & 07777));
		if (chmod(side, 0600) == -1)
			log_warn("%s: chmod %s", __func__, side);
	}
	free(side);
}

static int
store_pragmas(sqlite3 *db, char *err, size_t errlen)
{
	/* Each is fixed text; none takes data. */
	static const char *const pragmas[] = {
		/*
		 * Commits do not sync; only checkpoints do.  A power loss
		 * may lose the last commits, never corrupt the file, and
		 * clients re-send what they saw unacknowledged.
		 */
		"PRAGMA synchronous = NORMAL",
		/*
		 * Checkpoints (two fdatasyncs) run from store_wal_check()
		 * between group commits and store_checkpoint() on the
		 * supervisor's idle timer, never inside a commit where
		 * they would stall every client's message.
		 */
		"PRAGMA wal_autocheckpoint = 0",
		"PRAGMA foreign_keys = ON",
		/* Triggers in a tampered file call no risky functions. */
		"PRAGMA trusted_schema = OFF",
	};
	sqlite3_stmt *st;
	const char *mode;
	size_t i;
	int ok;

	/* The pragma answers with the mode in force, which may not be WAL. */
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		store_seterr(err, errlen, "cannot enable WAL: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++)
		if (sqlite3_exec(db, pragmas[i], NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto fail;
	return 0;

 fail:
	store_seterr(err, errlen, "%s", sqlite3_errmsg(db));
	return -1;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	mode_t omask;
	int i;

	store_seterr(err, errlen, "unknown error");
	/* Whatever SQLite creates beside the file is for us alone. */
	omask = umask(077);
	if (store_file(path, err, errlen) == -1)
		goto fail;
	store_file_private(path, "-wal");
	store_file_private(path, "-shm");

	/*
	 * No SQLITE_OPEN_CREATE: the file exists by now, with our mode.
	 * NOMUTEX: only the supervisor's one thread uses the handle.
	 */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "%s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	/* Refuse a newer schema before even journal_mode touches it. */
	if (sqlite3_busy_timeout(db, STORE_BUSY_MS) != SQLITE_OK ||
	    store_schema_check(db, err, errlen) == -1)
		goto fail;
	if (store_pragmas(db, err, errlen) == -1)
		goto fail;
	if (store_migrate(db, err, errlen) == -1)
		goto fail;
	if (store_cold_init(db) == -1) {
		store_seterr(err, errlen, "%s", sqlite3_errmsg(db));
		goto fail;
	}

	s = xcalloc(1, sizeof(*s));
	s->db = db;
	if (sqlite3_create_function_v2(db, "wx_id", 0, SQLITE_UTF8 |
	    SQLITE_DIRECTONLY, s, store_id_fn, NULL, NULL, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "wx_id: %s", sqlite3_errmsg(db));
		goto fail;
	}
	store_wal_init(s);
	if (store_ckpt_start(s) == -1)
		log_info("%s: checkpoints run in the event loop", __func__);
	for (i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			store_seterr(err, errlen, "prepare %d: %s", i,
			    sqlite3_errmsg(db));
			goto fail;
		}
	}
	umask(omask);
	return s;

 fail:
	if (s != NULL) {
		for (i = 0; i < ST_MAX; i++)
			sqlite3_finalize(s->st[i]);
		free(s);
	}
	sqlite3_close(db);
	umask(omask);
	return NULL;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	/* What this loop turn wrote was meant to last. */
	store_flush(s);
	store_capture_free(s);
	store_ckpt_stop(s);
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	for (i = 0; i < STORE_LAZY_MAX; i++)
		sqlite3_finalize(s->lazy[i]);
	store_turns_free(&s->turns);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
	free(s);
}

/*
 * wx_id(): the id of a new row.  Alone on its node, SQLite picks it (max
 * + 1); a node of several takes it from the block store_ids() gave, so
 * that no two nodes' rows share one; with none left the insert fails,
 * and its turn with it.
 */
static void
store_id_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store *s = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	if (!s->ids_on) {
		sqlite3_result_null(ctx);
		return;
	}
	if (s->id_next == s->id_end && s->id_next2 != s->id_end2) {
		s->id_next = s->id_next2;
		s->id_end = s->id_end2;
		s->id_next2 = s->id_end2 = 0;
	}
	if (s->id_next == s->id_end) {
		sqlite3_result_error(ctx, "no row ids left (the node's next"
		    " block has not come)", -1);
		return;
	}
	sqlite3_result_int64(ctx, s->id_next++);
}

void
store_ids(struct store *s, int64_t first, int64_t count)
{
	int64_t *b = s->id_blocks[s->id_nblocks++ % STORE_ID_BLOCKS];

	b[0] = first;
	b[1] = first + count;
	s->ids_on = 1;
	if (s->id_next == s->id_end) {
		s->id_next = first;
		s->id_end = first + count;
	} else {
		s->id_next2 = first;
		s->id_end2 = first + count;
	}
}

int64_t
store_ids_left(struct store *s)
{
	return (s->id_end - s->id_next) + (s->id_end2 - s->id_next2);
}

int
store_ids_mine(struct store *s, int64_t id)
{
	unsigned i, n;

	if (!s->ids_on)
		return 1;
	n = s->id_nblocks < STORE_ID_BLOCKS ? s->id_nblocks : STORE_ID_BLOCKS;
	for (i = 0; i < n; i++)
		if (id >= s->id_blocks[i][0] && id < s->id_blocks[i][1])
			return 1;
	return 0;
}

int64_t
store_ids_past_messages(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_MSG_TOP);
	int64_t top = 0;

	/* Blocks are whole and disjoint: one is all below the top or not. */
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_done(st);
		store_err(s, __func__);
		return 0;	/* a new block is above it all the same */
	}
	top = sqlite3_column_int64(st, 0);
	store_done(st);
	if (s->id_next <= top)
		s->id_next = s->id_end;
	if (s->id_next2 <= top)
		s->id_next2 = s->id_end2;
	return store_ids_left(s);
}

int
store_schema_version(struct store *s)
{
	return store_user_version(s->db);
}

/*
 * The connection itself says whether a transaction is open: SQLite may
 * roll one back on its own (SQLITE_FULL, SQLITE_IOERR), and a flag of our
 * own would then lie.
 */
void
store_touch(struct store *s)
{
	sqlite3_stmt *st;

	/* A write ends a read transaction: it must begin IMMEDIATE. */
	store_read_end(s);
	if (!sqlite3_get_autocommit(s->db))
		return;
	st = store_stmt(s, ST_BEGIN);
	/*
	 * Not fatal: without the transaction each write commits on its
	 * own, slower but just as correct; the next touch tries again.
	 */
	if (sqlite3_step(st) != SQLITE_DONE)
		store_err(s, __func__);
	store_done(st);
}

/*
 * One read transaction for the reads that follow a commit (the agent
 * requests' context, the outbox): alone, each SELECT is a transaction
 * of its own, whose begin and end lock and unlock a slot of the -shm
 * file (two fcntl(2) calls) and read the WAL index header again.  A
 * write in between ends it first (store_touch).  Not fatal: without it
 * each read is its own transaction, as before.
 */
void
store_read_begin(struct store *s)
{
	sqlite3_stmt *st;

	if (s->reading || !sqlite3_get_autocommit(s->db))
		return;
	st = store_stmt(s, ST_BEGIN_READ);
	if (sqlite3_step(st) == SQLITE_DONE)
		s->reading = 1;
	else
		log_debug("%s: %s", __func__, sqlite3_errmsg(s->db));
	store_done(st);
}

/* It only read: COMMIT just lets the snapshot go. */
void
store_read_end(struct store *s)
{
	sqlite3_stmt *st;

	if (!s->reading)
		return;
	s->reading = 0;
	if (sqlite3_get_autocommit(s->db))
		return;
	st = store_stmt(s, ST_COMMIT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_done(st);
		log_debug("%s: %s", __func__, sqlite3_errmsg(s->db));
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	store_done(st);
}

#ifdef WX_TEST_HOOKS
/* While set, every commit fails as on a full disk. */
static int	store_commit_fails;

void
store_test_fail_commits(int on)
{
	store_commit_fails = on;
}
#endif

/* Is there anything for store_flush() to commit (or fail)? */
int
store_dirty(struct store *s)
{
	return s->poisoned || !sqlite3_get_autocommit(s->db);
}

int
store_flush(struct store *s)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (s->poisoned) {
		s->poisoned = 0;
		return -1;
	}
	if (sqlite3_get_autocommit(s->db))
		return 0;
#ifdef WX_TEST_HOOKS
	if (store_commit_fails) {
		log_warnx("%s: test hook: commit fails", __func__);
		return -1;
	}
#endif
	st = store_stmt(s, ST_COMMIT);
	/* On failure the transaction stays open and the next flush retries. */
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_err(s, __func__);
	store_done(st);
	return rc;
}

/*
 * After a failed commit: SQLite may or may not have rolled back on its
 * own (SQLITE_FULL, SQLITE_IOERR); either way the turn's writes are
 * gone, so the next writer starts a clean transaction.
 */
void
store_rollback(struct store *s)
{
	s->poisoned = 0;
	if (!sqlite3_get_autocommit(s->db) &&
	    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		store_err(s, __func__);
	store_capture_discard(s);
}

/*
 * Move the WAL into the database.  PASSIVE never waits for readers; the
 * supervisor is the only connection, so it completes unless a commit is
 * pending, in which case the next call does it.
 */
int
store_checkpoint(struct store *s)
{
	int logged = 0, done = 0;

	if (!sqlite3_get_autocommit(s->db))
		return 0;
	if (store_ckpt_ask(s) == 0)
		return 0;
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &logged, &done) != SQLITE_OK)
		return store_err(s, __func__);
	return done;
}

static sqlite3_stmt *
store_stmt(struct store *s, enum store_stmt which)
{
	/* Every statement is prepared at open or store_open failed. */
	if (which >= ST_MAX || s->st[which] == NULL)
		fatalx("%s: no statement %d", __func__, (int)which);
	return s->st[which];
}

_Static_assert(ST_MAX <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

static int	store_vbindv(sqlite3_stmt *, const char *, va_list);

int
store_bindv(sqlite3_stmt *st, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = store_vbindv(st, fmt, ap);
	va_end(ap);
	return rc;
}

static int
store_vbindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	const char *t;
	int i, rc = SQLITE_OK;

	for (i = 1; rc == SQLITE_OK && fmt[i - 1] != '\0'; i++) {
		switch (fmt[i - 1]) {
		case 't':
			t = va_arg(ap, const char *);
			rc = sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'o':
			rc = store_bind_opt(st, i, va_arg(ap, int64_t));
			break;
		case 'h':
			rc = sqlite3_bind_blob(st, i, va_arg(ap, const uint8_t *),
			    STORE_HASH_LEN, SQLITE_TRANSIENT);
			break;
		default:
			fatalx("%s: bad format %c", __func__, fmt[i - 1]);
		}
	}
	return rc;
}

sqlite3_stmt *
store_lazy(struct store *s, int i, const char *sql)
{
	if (i < 0 || i >= STORE_LAZY_MAX)
		fatalx("%s: no slot %d", __func__, i);
	/* The SQL is ours and fixed: failing to prepare it is a bug. */
	if (s->lazy[i] == NULL && sqlite3_prepare_v3(s->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &s->lazy[i], NULL) != SQLITE_OK)
		fatalx("%s: %s: %s", __func__, sql, sqlite3_errmsg(s->db));
	return s->lazy[i];
}

int
store_exec(struct store *s, sqlite3_stmt *st, int bound, const char *func)
{
	int rc = 0;

	if (bound != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = store_err(s, func);
	store_done(st);
	return rc;
}

int
store_write(struct store *s, sqlite3_stmt *st, const char *func,
    const char *fmt, ...)
{
	va_list ap;
	int bound;

	store_touch(s);
	va_start(ap, fmt);
	bound = store_vbindv(st, fmt, ap);
	va_end(ap);
	return store_exec(s, st, bound, func);
}

int
store_row(struct store *s, sqlite3_stmt *st, int bound, const char *func)
{
	int rc;

	if (bound != SQLITE_OK) {
		store_done(st);
		return store_err(s, func);
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		return 0;
	store_done(st);
	return rc == SQLITE_DONE ? 1 : store_err(s, func);
}

/* Ready for the next use; the error, if any, was reported by step. */
void
store_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * Any error but a constraint (a duplicate the caller handles) poisons
 * the turn: SQLite may have rolled the whole transaction back on its
 * own, so the turn must not be reported committed.  A failing disk
 * fails every write: one line per STORE_ERR_LOG_MS, with a count.
 */
int
store_err(struct store *s, const char *func)
{
	uint64_t now = clock_mono_ms();

	if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_CONSTRAINT)
		s->poisoned = 1;
	s->errs++;
	if (s->err_logged == 0 || now - s->err_logged >= STORE_ERR_LOG_MS) {
		log_warnx("%s: %s (%llu store errors in the last minute)",
		    func, sqlite3_errmsg(s->db), (unsigned long long)s->errs);
		s->errs = 0;
		s->err_logged = now;
	}
	return -1;
}

char *
store_column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *p;

	if ((p = sqlite3_column_text(st, col)) == NULL)
		return xstrdup("");
	return xstrdup((const char *)p);
}

int
store_rows_end(struct store *s, sqlite3_stmt *st, int rc, const char *func)
{
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(s, func);
	return 0;
}

void
store_column_copy(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *p;

	p = sqlite3_column_text(st, col);
	snprintf(buf, size, "%s", p != NULL ? (const char *)p : "");
}

/* A NULL for 0: optional integer columns (expiry, share link). */
int
store_bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	return v > 0 ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

int
store_session_create(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t expires, int64_t *id)
{
	return store_visitor_create(s, hash, 0, now, expires, id);
}

int
store_visitor_create(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t link, int64_t now, int64_t expires, int64_t *id)
{
	if (store_write(s, store_stmt(s, ST_SESSION_CREATE), __func__, "hioo",
	    hash, now, expires, link) == -1)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_session_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t idle_s, int64_t *id)
{
	return store_visitor_find(s, hash, 0, now, idle_s, id);
}

int
store_visitor_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t link, int64_t now, int64_t idle_s, int64_t *id)
{
	sqlite3_stmt *st;
	int64_t sid;
	int rc, expired;

	/* Finding a session marks it seen, which is a write. */
	store_touch(s);
	st = store_stmt(s, ST_SESSION_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "hiio", hash, now, idle_s,
	    link), __func__)) != 0)
		return rc;
	sid = sqlite3_column_int64(st, 0);
	expired = sqlite3_column_int(st, 1);
	store_done(st);
	if (expired)
		return 2;
	st = store_stmt(s, ST_SESSION_SEEN);
	if (store_exec(s, st, store_bindv(st, "ii", sid, now), __func__) == -1)
		return -1;
	if (id != NULL)
		*id = sid;
	return 0;
}

int
store_msg_lookup(struct store *s, int64_t session, const char *cmid,
    enum msg_state *state, int64_t *msg_id, char **reply)
{
	sqlite3_stmt *st;
	int rc, v;

	if (reply != NULL)
		*reply = NULL;
	if (state != NULL)
		*state = MSG_NONE;
	if (cmid == NULL) {
		log_warnx("%s: no client_msg_id", __func__);
		return -1;
	}
	st = store_stmt(s, ST_MSG_LOOKUP);
	if ((rc = store_row(s, st, store_bindv(st, "it", session, cmid),
	    __func__)) != 0)
		return rc;
	v = sqlite3_column_int(st, 1);
	/* The schema's CHECK admits only these; anything else is damage. */
	if (v != MSG_ACCEPTED && v != MSG_ANSWERING && v != MSG_ANSWERED) {
		log_warnx("%s: message %lld has state %d", __func__,
		    (long long)sqlite3_column_int64(st, 0), v);
		store_done(st);
		return -1;
	}
	if (state != NULL)
		*state = v;
	if (msg_id != NULL)
		*msg_id = sqlite3_column_int64(st, 0);
	if (reply != NULL && v == MSG_ANSWERED)
		*reply = store_column_dup(st, 2);
	store_done(st);
	return 0;
}

static int
store_msg_insert(struct store *s, enum store_stmt which, int64_t session,
    const char *cmid, const char *text, int64_t now, int64_t *msg_id)
{
	sqlite3_stmt *st;

	if (cmid == NULL || text == NULL) {
		log_warnx("%s: missing client_msg_id or text", __func__);
		return -1;
	}
	store_touch(s);
	st = store_stmt(s, which);
	/* A duplicate fails on UNIQUE (session_id, client_msg_id). */
	if (store_exec(s, st, store_bindv(st, "itti", session, cmid, text,
	    now), __func__) == -1)
		return -1;
	if (msg_id != NULL)
		*msg_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_msg_accept(struct store *s, int64_t session, const char *cmid,
    const char *text, int64_t now, int64_t *msg_id)
{
	return store_msg_insert(s, ST_MSG_ACCEPT, session, cmid, text, now,
	    msg_id);
}

int
store_msg_accept_taken(struct store *s, int64_t session, const char *cmid,
    const char *text, int64_t now, int64_t *msg_id)
{
	return store_msg_insert(s, ST_MSG_ACCEPT_TAKEN, session, cmid, text,
	    now, msg_id);
}

int
store_msg_answer(struct store *s, int64_t msg_id, const char *reply,
    int64_t now)
{
	if (reply == NULL) {
		log_warnx("%s: message %lld: no reply", __func__,
		    (long long)msg_id);
		return -1;
	}
	if (store_write(s, store_stmt(s, ST_MSG_ANSWER), __func__, "iti",
	    msg_id, reply, now) == -1)
		return -1;
	/* A second answer would overwrite the one the user already saw. */
	if (sqlite3_changes(s->db) != 1) {
		log_warnx("%s: message %lld unknown or already answered",
		    __func__, (long long)msg_id);
		return -1;
	}
	return 0;
}

/*
 * store_turns()'s buffer is kept for the next call up to this size: a
 * malloc of a page or more is where glibc consolidates its free lists,
 * and the context is read for every agent request.
 */
#define STORE_TURNS_KEEP	(64 * 1024)

/* Column col's text in t's pool: its offset. */
static size_t
turn_copy(sqlite3_stmt *st, int col, struct store_turnbuf *t)
{
	const char *p = (const char *)sqlite3_column_text(st, col);

	return strpool_add(&t->sp, p, p != NULL ?
	    (size_t)sqlite3_column_bytes(st, col) : 0, 4096);
}

/*
 * The strings passed to fn are borrowed until it returns, oldest turn
 * first.  The statement gives the newest first; its rows are copied
 * into one buffer and handed out backwards, so fn may call the store
 * (but not store_history or store_context: the buffer is in use).
 */
static int
store_turns(struct store *s, int which, int64_t session, unsigned limit,
    int64_t before_msg_id, store_turn_fn fn, void *arg)
{
	struct store_turnbuf *t = &s->turns;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc = SQLITE_DONE, ret = 0;

	if (limit == 0)
		return 0;
	if (before_msg_id <= 0)
		before_msg_id = INT64_MAX;
	t->sp.used = 0;		/* the last call's strings are done with */
	st = store_stmt(s, which);
	if (store_bindv(st, "iii", session, before_msg_id, (int64_t)limit) !=
	    SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == t->nrow) {
			t->nrow = t->nrow == 0 ? 32 : t->nrow * 2;
			t->row = xreallocarray(t->row, t->nrow,
			    sizeof(*t->row));
		}
		t->row[n].text = turn_copy(st, 0, t);
		t->row[n].reply = turn_copy(st, 1, t);
		t->row[n].seq = sqlite3_column_int64(st, 2);
		n++;
	}
	if (n < limit && rc != SQLITE_DONE)
		ret = store_err(s, __func__);
	store_done(st);
	while (ret == 0 && n > 0) {
		n--;
		if ((ret = fn("user", strpool_at(&t->sp, t->row[n].text),
		    t->row[n].seq, arg)) != 0)
			break;
		ret = fn("assistant", strpool_at(&t->sp, t->row[n].reply),
		    t->row[n].seq, arg);
	}
	if (t->sp.cap > STORE_TURNS_KEEP)
		store_turns_free(t);
	return ret;
}

static void
store_turns_free(struct store_turnbuf *t)
{
	strpool_free(&t->sp);
	free(t->row);
	memset(t, 0, sizeof(*t));
}

int
store_history(struct store *s, int64_t session, unsigned limit,
    int64_t before_msg_id, store_turn_fn fn, void *arg)
{
	return store_turns(s, ST_HISTORY, session, limit, before_msg_id, fn,
	    arg);
}

int
store_context(struct store *s, int64_t session, unsigned limit,
    int64_t before_msg_id, store_turn_fn fn, void *arg)
{
	return store_turns(s, ST_CONTEXT, session, limit, before_msg_id, fn,
	    arg);
}

int
store_msg_command(struct store *s, int64_t msg_id, const char *reply,
    int64_t now)
{
	return store_write(s, store_stmt(s, ST_MSG_COMMAND), __func__, "iti",
	    msg_id, reply, now);
}

int
store_new_context(struct store *s, int64_t session, int64_t msg_id)
{
	return store_write(s, store_stmt(s, ST_NEW_CONTEXT), __func__, "ii",
	    session, msg_id);
}

char *
store_session_model(struct store *s, int64_t session)
{
	sqlite3_stmt *st;
	char *m;

	st = store_stmt(s, ST_MODEL_GET);
	if (store_row(s, st, store_bindv(st, "i", session), __func__) != 0)
		return xstrdup("");
	m = store_column_dup(st, 0);
	store_done(st);
	return m;
}

int
store_session_set_model(struct store *s, int64_t session, const char *model)
{
	return store_write(s, store_stmt(s, ST_MODEL_SET), __func__, "it",
	    session, model);
}

int
store_session_seen(struct store *s, int64_t id, int64_t now)
{
	return store_write(s, store_stmt(s, ST_SESSION_SEEN), __func__, "ii",
	    id, now);
}

int
store_session_expired(struct store *s, int64_t now, int64_t idle_s,
    int64_t *ids, size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	st = store_stmt(s, ST_SESSION_EXPIRED);
	if (store_bindv(st, "iii", now, idle_s, (int64_t)max) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	if (n < max && rc != SQLITE_DONE) {
		store_done(st);
		return store_err(s, __func__);
	}
	store_done(st);
	return (int)n;
}

int
store_session_delete(struct store *s, int64_t id)
{
	return store_write(s, store_stmt(s, ST_SESSION_DELETE), __func__, "i",
	    id);
}

int
store_audit(struct store *s, int64_t now, const char *role,
    const char *worker, int64_t session, const char *method,
    const char *detail)
{
	return store_write(s, store_stmt(s, ST_AUDIT), __func__, "ittott", now,
	    role, worker, session > 0 ? session : 0, method, detail);
}

int
store_session_exists(struct store *s, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, ST_SESSION_EXISTS);
	if ((rc = store_row(s, st, store_bindv(st, "i", id), __func__)) != 0)
		return rc == 1 ? 0 : -1;
	store_done(st);
	return 1;
}

int
store_share_create(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t session, int read_only, int64_t now, int64_t expires)
{
	return store_write(s, store_stmt(s, ST_SHARE_CREATE), __func__,
	    "hotio", hash, session,
	    session == 0 ? "visitor" : read_only ? "read" : "continue", now,
	    expires);
}

int
store_share_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t *link, int64_t *session, int *read_only)
{
	sqlite3_stmt *st;
	int rc, dead;

	st = store_stmt(s, ST_SHARE_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "hi", hash, now),
	    __func__)) != 0)
		return rc;
	*link = sqlite3_column_int64(st, 0);
	*session = sqlite3_column_int64(st, 1);	/* NULL reads as 0 */
	*read_only = sqlite3_column_int(st, 2);
	dead = sqlite3_column_int(st, 3);
	store_done(st);
	return dead ? 2 : 0;
}

int
store_share_list(struct store *s, store_share_fn fn, void *arg)
{
	struct store_share_row r;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, ST_SHARE_LIST);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		store_column_copy(st, 0, r.hash, sizeof(r.hash));
		r.created = sqlite3_column_int64(st, 1);
		r.expires = sqlite3_column_int64(st, 2);
		r.read_only = sqlite3_column_int(st, 3);
		r.session = sqlite3_column_int64(st, 4);
		r.revoked = sqlite3_column_int64(st, 5);
		if (fn(&r, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_share_revoke(struct store *s, const char *hexprefix, int64_t now)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc, n = 0;
	size_t i, len = strlen(hexprefix);

	/* Hex only, so the prefix cannot widen what it names. */
	if (len == 0 || len > STORE_HASH_LEN * 2)
		return 1;
	for (i = 0; i < len; i++)
		if (!((hexprefix[i] >= '0' && hexprefix[i] <= '9') ||
		    (hexprefix[i] >= 'a' && hexprefix[i] <= 'f')))
			return 1;
	st = store_stmt(s, ST_SHARE_MATCH);
	if (store_bindv(st, "t", hexprefix) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		n++;
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_err(s, __func__);
	if (n == 0)
		return 1;
	if (n > 1)
		return 2;
	return store_write(s, store_stmt(s, ST_SHARE_REVOKE), __func__, "ii",
	    id, now);
}

int
store_pairing_create(struct store *s, const char *account, const char *peer,
    const char *code, int64_t now, int64_t expires)
{
	return store_write(s, store_stmt(s, ST_PAIRING_CREATE), __func__,
	    "tttii", account, peer, code, now, expires);
}

int
store_pairing_list(struct store *s, store_pairing_fn fn, void *arg)
{
	struct store_pairing_row r;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, ST_PAIRING_LIST);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.code = store_column_dup(st, 0);
		r.account = store_column_dup(st, 1);
		r.peer = store_column_dup(st, 2);
		r.created = sqlite3_column_int64(st, 3);
		r.expires = sqlite3_column_int64(st, 4);
		rc = fn(&r, arg);
		free(r.code);
		free(r.account);
		free(r.peer);
		if (rc == -1) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return store_rows_end(s, st, rc, __func__);
}

/*
 * Approve or deny: the code is spent either way.  Approving marks the
 * sender allowed in peers; denying leaves peers as it was, so a denied
 * sender can ask again and the operator decides again.
 */
static int
store_pairing_decide(struct store *s, const char *code, int64_t now,
    int approve)
{
	sqlite3_stmt *st;
	char *account = NULL, *peer = NULL;
	int64_t id;
	int rc, expired;

	store_touch(s);
	st = store_stmt(s, ST_PAIRING_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "ti", code, now),
	    __func__)) != 0)
		return rc;
	id = sqlite3_column_int64(st, 0);
	account = store_column_dup(st, 1);
	peer = store_column_dup(st, 2);
	expired = sqlite3_column_int(st, 3);
	store_done(st);

	rc = expired ? 2 : 0;
	if (approve && !expired &&
	    (rc = store_peer_allow(s, account, peer, now)) == -1)
		goto out;
	st = store_stmt(s, ST_PAIRING_DELETE);
	if (store_exec(s, st, store_bindv(st, "i", id), __func__) == -1)
		rc = -1;
 out:
	free(account);
	free(peer);
	return rc;
}

int
store_pairing_approve(struct store *s, const char *code, int64_t now)
{
	return store_pairing_decide(s, code, now, 1);
}

int
store_pairing_deny(struct store *s, const char *code, int64_t now)
{
	int rc = store_pairing_decide(s, code, now, 0);

	/* An expired code denied is a code gone: what was asked. */
	return rc == 2 ? 0 : rc;
}

int
store_peer_allow(struct store *s, const char *account, const char *peer,
    int64_t now)
{
	return store_write(s, store_stmt(s, ST_PEER_ALLOW), __func__, "tti",
	    account, peer, now);
}

int
store_peer_allowed(struct store *s, const char *account, const char *peer)
{
	sqlite3_stmt *st;
	int rc, allowed = 0;

	st = store_stmt(s, ST_PEER_ALLOWED);
	if ((rc = store_row(s, st, store_bindv(st, "tt", account, peer),
	    __func__)) != 0)
		return rc == 1 ? 0 : -1;
	allowed = sqlite3_column_int(st, 0) != 0;
	store_done(st);
	return allowed;
}
