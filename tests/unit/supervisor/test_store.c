/*
 * Unit tests for supervisor/store.c and store_migrate.c.  Each test gets
 * its own temporary directory.  What the supervisor's connection has
 * committed is checked from a second, plain sqlite3 connection, the way
 * an operator's backup or a restarted supervisor would see the file.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "store_fx.h"
#ifdef STORE_FX_PG
/*
 * test_store_pg: the same cases, each store's commits also shipped to
 * PostgreSQL and every table compared when the store is closed.
 */
#include "store_pg_fx.h"
#define store_open	store_pg_fx_open
#define store_flush	store_pg_fx_flush
#define store_close	store_pg_fx_close
#endif

#define NOW	1700000000

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct store	*s;
};

/* Collected turns or pending rows, flattened to "role:text" lines. */
struct collect {
	char		 out[1024];
	int		 calls;
	int		 stop_after;	/* return 7 on this call; 0: never */
};

static int	nwarn;
static char	lastwarn[LOG_LINE_MAX];

static void	log_capture(int, const char *);
static int	setup(void **);
static int	teardown(void **);
static void	side_path(const struct fixture *, const char *, char *,
		    size_t);
static int64_t	peek(const struct fixture *, const char *, int64_t);
static void	hash_of(uint8_t [STORE_HASH_LEN], int);
static int	turn_cb(const char *, const char *, int64_t, void *);
static void	history(struct store *, int64_t, unsigned, int64_t,
		    struct collect *);

static void	test_open_creates(void **);
static void	test_open_fixes_mode(void **);
static void	test_open_refuses_symlink(void **);
static void	test_reopen(void **);
static void	test_newer_refused(void **);
static void	test_session(void **);
static void	test_dedupe(void **);
static void	test_dedupe_per_session(void **);
static void	test_accept_unknown_session(void **);
static void	test_history(void **);
static void	test_history_stop(void **);
static void	test_history_long(void **);
static void	test_read_txn(void **);
static void	test_accept_taken(void **);
static void	test_group_commit(void **);
static void	test_share(void **);
static void	test_share_revoke(void **);
static int	share_cb(const struct store_share_row *, void *);
static void	test_pairing(void **);
static void	test_pairing_deny_expired(void **);
static int	pairing_cb(const struct store_pairing_row *, void *);
static void	test_audit_prune(void **);
static void	test_wal_bounded(void **);
static void	test_backlog_indexed(void **);

/* Warnings are counted so a test can see that a refusal said why. */
static void
log_capture(int level, const char *line)
{
	if (level != LOG_LVL_WARN)
		return;
	nwarn++;
	snprintf(lastwarn, sizeof(lastwarn), "%s", line);
}

static int
setup(void **state)
{
	struct fixture *fx;

	fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/wxstore.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	nwarn = 0;
	lastwarn[0] = '\0';
	*state = fx;
#ifdef STORE_FX_PG
	if (store_pg_fx_begin() == -1)
		return -1;
#endif
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	store_close(fx->s);
	unlink(fx->path);
	side_path(fx, "-wal", p, sizeof(p));
	unlink(p);
	side_path(fx, "-shm", p, sizeof(p));
	unlink(p);
	side_path(fx, "-journal", p, sizeof(p));
	unlink(p);
	snprintf(p, sizeof(p), "%s/link.db", fx->dir);
	unlink(p);
	if (rmdir(fx->dir) == -1)
		fprintf(stderr, "teardown: %s left behind\n", fx->dir);
	free(fx);
	return 0;
}

static void
side_path(const struct fixture *fx, const char *suffix, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s%s", fx->path, suffix);
}

/*
 * One integer from a second connection, opened fresh each time so it
 * sees exactly what is committed now.  ?1 is bound to arg.
 */
static int64_t
peek(const struct fixture *fx, const char *sql, int64_t arg)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_bind_parameter_count(st) > 0)
		assert_int_equal(sqlite3_bind_int64(st, 1, arg), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return v;
}

static void
hash_of(uint8_t h[STORE_HASH_LEN], int seed)
{
	memset(h, seed, STORE_HASH_LEN);
	h[0] = 0xa5;
}

static int
turn_cb(const char *role, const char *text, int64_t seq, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->out);

	(void)seq;
	snprintf(c->out + n, sizeof(c->out) - n, "%s:%s;", role, text);
	if (++c->calls == c->stop_after)
		return 7;
	return 0;
}

static void
history(struct store *s, int64_t session, unsigned limit, int64_t before,
    struct collect *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(store_history(s, session, limit, before, turn_cb, c),
	    0);
}

static void
test_open_creates(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	char err[256], p[160];
	sqlite3 *db;
	sqlite3_stmt *st;
	mode_t omask;

	/* Even a careless umask must not widen the files. */
	omask = umask(0);
	fx->s = store_open(fx->path, err, sizeof(err));
	assert_int_equal(umask(omask), 0);
	assert_non_null(fx->s);

	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	side_path(fx, "-wal", p, sizeof(p));
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
	side_path(fx, "-shm", p, sizeof(p));
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);

	assert_int_equal(store_schema_version(fx->s), STORE_SCHEMA_VERSION);

	/* WAL is a property of the file, so a second connection sees it. */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	assert_int_equal(peek(fx, "SELECT count(*) FROM sqlite_schema"
	    " WHERE type = 'table' AND name IN ('sessions', 'messages',"
	    " 'outbox', 'share_links', 'pairings', 'peers', 'kv',"
	    " 'schedules', 'audit')", 0), 9);
}

static void
test_open_fixes_mode(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	char err[256], p[160];
	int fd;

	fd = open(fx->path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd != -1);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	side_path(fx, "-wal", p, sizeof(p));
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd != -1);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
	assert_true(nwarn >= 2);
}

static void
test_open_refuses_symlink(void **state)
{
	struct fixture *fx = *state;
	char err[256], link[160];

	snprintf(link, sizeof(link), "%s/link.db", fx->dir);
	assert_int_equal(symlink(fx->path, link), 0);
	err[0] = '\0';
	assert_null(store_open(link, err, sizeof(err)));
	assert_true(err[0] != '\0');
	/* Nothing was created through the link. */
	assert_int_equal(access(fx->path, F_OK), -1);
}

static void
test_reopen(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256], *reply;
	int64_t sid, sid2, mid, mid2;
	enum msg_state ms;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &sid), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "u-1", "hi", NOW,
	    &mid), 0);
	assert_int_equal(store_flush(fx->s), 0);
	store_close(fx->s);

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	assert_int_equal(store_schema_version(fx->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_session_find(fx->s, h, NOW + 1, 86400,
	    &sid2), 0);
	assert_int_equal(sid2, sid);
	assert_int_equal(store_msg_lookup(fx->s, sid, "u-1", &ms, &mid2,
	    &reply), 0);
	assert_int_equal(ms, MSG_ACCEPTED);
	assert_int_equal(mid2, mid);
	assert_null(reply);
}

static void
test_newer_refused(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	sqlite3 *db;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	err[0] = '\0';
	assert_null(store_open(fx->path, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "99"));
	/* Refused means untouched: no downgrade, no half schema. */
	assert_int_equal(peek(fx, "PRAGMA user_version", 0), 99);
	assert_int_equal(peek(fx, "SELECT count(*) FROM sqlite_schema", 0),
	    0);
	assert_int_equal(peek(fx, "SELECT journal_mode = 'delete'"
	    " FROM pragma_journal_mode", 0), 1);
}

static void
test_session(void **state)
{
	struct fixture *fx = *state;
	uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	char err[256];
	int64_t a, b, found;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h1, 1);
	hash_of(h2, 2);
	/* The first ends at NOW + 100, the second lives until idle. */
	assert_int_equal(store_session_create(fx->s, h1, NOW, NOW + 100, &a),
	    0);
	assert_int_equal(store_session_create(fx->s, h2, NOW, 0, &b), 0);
	assert_true(a != b);

	found = -5;
	assert_int_equal(store_session_find(fx->s, h1, NOW + 60, 86400,
	    &found), 0);
	assert_int_equal(found, a);
	assert_int_equal(store_session_find(fx->s, h2, NOW + 60, 86400,
	    &found), 0);
	assert_int_equal(found, b);

	hash_of(h2, 3);
	found = -5;
	assert_int_equal(store_session_find(fx->s, h2, NOW, 86400, &found), 1);
	assert_int_equal(found, -5);

	/* One token, one session. */
	nwarn = 0;
	assert_int_equal(store_session_create(fx->s, h1, NOW, 0, &b), -1);
	assert_int_equal(nwarn, 1);

	/* find counts as a visit. */
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT last_seen FROM sessions"
	    " WHERE id = ?1", a), NOW + 60);
	assert_int_equal(peek(fx, "SELECT created FROM sessions"
	    " WHERE id = ?1", a), NOW);

	/* An expired session reads as expired, not as found. */
	assert_int_equal(store_session_find(fx->s, h1, NOW + 99, 86400,
	    &found), 0);
	assert_int_equal(store_session_find(fx->s, h1, NOW + 100, 86400,
	    &found), 2);
	/* Idle for idle_s seconds since last_seen (NOW + 99): expired too. */
	hash_of(h2, 2);
	assert_int_equal(store_session_find(fx->s, h2, NOW + 160, 100,
	    &found), 2);
}

static void
test_dedupe(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256], *reply;
	int64_t sid, mid, mid2, dup;
	enum msg_state ms;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &sid), 0);

	reply = (char *)1;
	assert_int_equal(store_msg_lookup(fx->s, sid, "u-9f2", &ms, &mid,
	    &reply), 1);
	assert_int_equal(ms, MSG_NONE);
	assert_null(reply);

	assert_int_equal(store_msg_accept(fx->s, sid, "u-9f2", "hi", NOW,
	    &mid), 0);
	nwarn = 0;
	dup = -5;
	assert_int_equal(store_msg_accept(fx->s, sid, "u-9f2", "hi again",
	    NOW, &dup), -1);
	assert_int_equal(dup, -5);
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(lastwarn, "UNIQUE"));

	assert_int_equal(store_msg_lookup(fx->s, sid, "u-9f2", &ms, &mid2,
	    &reply), 0);
	assert_int_equal(ms, MSG_ACCEPTED);
	assert_int_equal(mid2, mid);
	assert_null(reply);

	/* The answer ends a turn, and only once. */
	assert_int_equal(store_msg_answer(fx->s, mid, "hello there", NOW + 2),
	    0);
	assert_int_equal(store_msg_lookup(fx->s, sid, "u-9f2", &ms, &mid2,
	    &reply), 0);
	assert_int_equal(ms, MSG_ANSWERED);
	assert_int_equal(mid2, mid);
	assert_non_null(reply);
	assert_string_equal(reply, "hello there");
	free(reply);

	assert_int_equal(store_msg_answer(fx->s, mid, "second", NOW + 3), -1);
	assert_int_equal(store_msg_lookup(fx->s, sid, "u-9f2", &ms, NULL,
	    &reply), 0);
	assert_string_equal(reply, "hello there");
	free(reply);

	/* Unknown message ids are refused, not silently ignored. */
	assert_int_equal(store_msg_answer(fx->s, mid + 100, "x", NOW), -1);
}

static void
test_dedupe_per_session(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256], *reply;
	int64_t s1, s2, m1, m2, mid;
	enum msg_state ms;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &s1), 0);
	hash_of(h, 2);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &s2), 0);

	assert_int_equal(store_msg_accept(fx->s, s1, "c-1", "one", NOW, &m1),
	    0);
	assert_int_equal(store_msg_accept(fx->s, s2, "c-1", "two", NOW, &m2),
	    0);
	assert_true(m1 != m2);
	assert_int_equal(store_msg_answer(fx->s, m1, "r1", NOW), 0);

	assert_int_equal(store_msg_lookup(fx->s, s2, "c-1", &ms, &mid,
	    &reply), 0);
	assert_int_equal(ms, MSG_ACCEPTED);
	assert_int_equal(mid, m2);
	assert_null(reply);
	assert_int_equal(store_msg_lookup(fx->s, s1, "c-1", &ms, &mid,
	    &reply), 0);
	assert_int_equal(ms, MSG_ANSWERED);
	assert_int_equal(mid, m1);
	assert_string_equal(reply, "r1");
	free(reply);
}

static void
test_accept_unknown_session(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	int64_t mid;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	/* foreign_keys is on: a message needs its session. */
	assert_int_equal(store_msg_accept(fx->s, 4242, "c-1", "x", NOW, &mid),
	    -1);
	assert_int_equal(store_msg_accept(fx->s, 1, NULL, "x", NOW, &mid), -1);
	assert_int_equal(store_msg_accept(fx->s, 1, "c", NULL, NOW, &mid), -1);
}

static void
test_history(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256], cmid[16], text[16];
	int64_t a, b, m[6], other;
	struct collect c;
	int i;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &a), 0);
	hash_of(h, 2);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &b), 0);

	/* a: m1..m5 interleaved with b's; m3 stays unanswered. */
	for (i = 1; i <= 5; i++) {
		snprintf(cmid, sizeof(cmid), "c-%d", i);
		snprintf(text, sizeof(text), "q%d", i);
		assert_int_equal(store_msg_accept(fx->s, a, cmid, text, NOW + i,
		    &m[i]), 0);
		assert_int_equal(store_msg_accept(fx->s, b, cmid, "other",
		    NOW + i, &other), 0);
		assert_int_equal(store_msg_answer(fx->s, other, "noise",
		    NOW + i), 0);
		if (i == 3)
			continue;
		snprintf(text, sizeof(text), "r%d", i);
		assert_int_equal(store_msg_answer(fx->s, m[i], text, NOW + i),
		    0);
	}

	history(fx->s, a, 10, 0, &c);
	assert_string_equal(c.out, "user:q1;assistant:r1;user:q2;"
	    "assistant:r2;user:q4;assistant:r4;user:q5;assistant:r5;");
	history(fx->s, a, 2, 0, &c);
	assert_string_equal(c.out,
	    "user:q4;assistant:r4;user:q5;assistant:r5;");
	history(fx->s, a, 10, m[4], &c);
	assert_string_equal(c.out,
	    "user:q1;assistant:r1;user:q2;assistant:r2;");
	history(fx->s, a, 1, m[4], &c);
	assert_string_equal(c.out, "user:q2;assistant:r2;");
	/* Unanswered m3 is skipped, not counted against the limit. */
	history(fx->s, a, 1, m[5], &c);
	assert_string_equal(c.out, "user:q4;assistant:r4;");
	history(fx->s, a, 10, m[1], &c);
	assert_string_equal(c.out, "");
	history(fx->s, a, 0, 0, &c);
	assert_string_equal(c.out, "");
	assert_int_equal(c.calls, 0);
	history(fx->s, 9999, 10, 0, &c);
	assert_string_equal(c.out, "");

	/* Still right once committed and read outside the transaction. */
	assert_int_equal(store_flush(fx->s), 0);
	history(fx->s, b, 2, 0, &c);
	assert_string_equal(c.out, "user:other;assistant:noise;"
	    "user:other;assistant:noise;");
}

/*
 * Turns longer than store_turns()'s first buffer, so that it grows
 * between rows: every text arrives whole and in order, and neither
 * statement sorts (the newest come first and are handed out backwards).
 */
static int
long_cb(const char *role, const char *text, int64_t seq, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->out), len = strlen(text);

	(void)seq;
	/* Its length and its first and last byte stand for the text. */
	snprintf(c->out + n, sizeof(c->out) - n, "%s:%zu%c%c;", role, len,
	    len > 0 ? text[0] : '-', len > 0 ? text[len - 1] : '-');
	c->calls++;
	return 0;
}

static void
test_history_long(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256], cmid[16], q[3001], r[5001];
	int64_t a, m;
	struct collect c;
	int i, j;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &a), 0);
	for (i = 0; i < 3; i++) {
		snprintf(cmid, sizeof(cmid), "c-%d", i);
		memset(q, 'a' + i, sizeof(q) - 1);
		q[sizeof(q) - 1] = '\0';
		q[sizeof(q) - 2] = 'x' + i;
		memset(r, 'A' + i, sizeof(r) - 1);
		r[sizeof(r) - 1] = '\0';
		assert_int_equal(store_msg_accept(fx->s, a, cmid, q, NOW, &m),
		    0);
		assert_int_equal(store_msg_answer(fx->s, m, r, NOW), 0);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_history(fx->s, a, 2, 0, long_cb, &c), 0);
	assert_string_equal(c.out, "user:3000by;assistant:5000BB;"
	    "user:3000cz;assistant:5000CC;");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_context(fx->s, a, 10, 0, long_cb, &c), 0);
	assert_int_equal(c.calls, 6);
	assert_string_equal(c.out, "user:3000ax;assistant:5000AA;"
	    "user:3000by;assistant:5000BB;user:3000cz;assistant:5000CC;");
	for (j = 0; j < STORE_STMT_MAX && fx->s->st[j] != NULL; j++)
		assert_int_equal(sqlite3_stmt_status(fx->s->st[j],
		    SQLITE_STMTSTATUS_SORT, 0), 0);
}

/*
 * store_read_begin(): the reads after a commit share one transaction,
 * which leaves nothing for store_flush() to commit; a write in between
 * ends it and joins the turn's group as any write does.
 */
static void
test_read_txn(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256];
	int64_t sid, m;
	enum msg_state ms;
	struct collect c;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &sid), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "1", "q1", NOW, &m), 0);
	assert_int_equal(store_msg_answer(fx->s, m, "r1", NOW), 0);
	assert_int_equal(store_flush(fx->s), 0);

	/* Reads only: nothing to commit once it ends. */
	store_read_begin(fx->s);
	store_read_begin(fx->s);			/* nests harmlessly */
	history(fx->s, sid, 10, 0, &c);
	assert_string_equal(c.out, "user:q1;assistant:r1;");
	assert_int_equal(store_msg_lookup(fx->s, sid, "1", &ms, NULL, NULL),
	    0);
	assert_int_equal(ms, MSG_ANSWERED);
	store_read_end(fx->s);
	assert_false(store_dirty(fx->s));
	store_read_end(fx->s);				/* a second end: no-op */

	/* A write ends the reading and takes the write lock. */
	store_read_begin(fx->s);
	history(fx->s, sid, 10, 0, &c);
	assert_int_equal(store_msg_accept(fx->s, sid, "2", "q2", NOW, &m), 0);
	store_read_end(fx->s);			/* leaves the write open */
	assert_true(store_dirty(fx->s));
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 1);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 2);

	/* Inside a write transaction it reads that transaction. */
	assert_int_equal(store_msg_answer(fx->s, m, "r2", NOW), 0);
	store_read_begin(fx->s);
	history(fx->s, sid, 10, 0, &c);
	assert_string_equal(c.out,
	    "user:q1;assistant:r1;user:q2;assistant:r2;");
	store_read_end(fx->s);
	assert_true(store_dirty(fx->s));
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages"
	    " WHERE state = 3", 0), 2);
}

/* The web chat's insert: as accept then take, in one statement. */
static void
test_accept_taken(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256];
	int64_t sid, m1, m2, id;
	enum msg_state ms;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &sid), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "1", "q1", NOW, &m1), 0);
	assert_int_equal(store_msg_take(fx->s, m1), 0);
	assert_int_equal(store_msg_accept_taken(fx->s, sid, "2", "q2", NOW,
	    &m2), 0);
	assert_true(m2 > m1);
	assert_int_equal(store_msg_lookup(fx->s, sid, "2", &ms, &id, NULL),
	    0);
	assert_int_equal(ms, MSG_ANSWERING);
	assert_int_equal(id, m2);
	assert_int_equal(store_flush(fx->s), 0);
	/* Both rows read the same. */
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages"
	    " WHERE state = 2 AND error IS NULL AND reply IS NULL", 0), 2);
	/* A resend is a duplicate, as for store_msg_accept. */
	assert_int_equal(store_msg_accept_taken(fx->s, sid, "2", "q2", NOW,
	    NULL), -1);
	assert_int_equal(store_msg_accept_taken(fx->s, sid, NULL, "q", NOW,
	    NULL), -1);
	store_rollback(fx->s);
	assert_int_equal(store_msg_answer(fx->s, m2, "r2", NOW), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_msg_lookup(fx->s, sid, "2", &ms, NULL, NULL),
	    0);
	assert_int_equal(ms, MSG_ANSWERED);
}

static void
test_history_stop(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256];
	int64_t a, m;
	struct collect c;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &a), 0);
	assert_int_equal(store_msg_accept(fx->s, a, "1", "q1", NOW, &m), 0);
	assert_int_equal(store_msg_answer(fx->s, m, "r1", NOW), 0);
	assert_int_equal(store_msg_accept(fx->s, a, "2", "q2", NOW, &m), 0);
	assert_int_equal(store_msg_answer(fx->s, m, "r2", NOW), 0);

	memset(&c, 0, sizeof(c));
	c.stop_after = 3;
	assert_int_equal(store_history(fx->s, a, 10, 0, turn_cb, &c), 7);
	assert_int_equal(c.calls, 3);
	assert_string_equal(c.out, "user:q1;assistant:r1;user:q2;");

	/* The statement was reset: the next call starts over. */
	history(fx->s, a, 10, 0, &c);
	assert_int_equal(c.calls, 4);
}

static void
test_group_commit(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char err[256];
	int64_t sid, m1, m2, m3;
	enum msg_state ms;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	assert_int_equal(store_flush(fx->s), 0);	/* nothing open */

	store_touch(fx->s);
	store_touch(fx->s);				/* nests harmlessly */
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &sid), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "1", "a", NOW, &m1), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "2", "b", NOW, &m2), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "3", "c", NOW, &m3), 0);
	assert_int_equal(store_msg_answer(fx->s, m1, "ra", NOW), 0);

	/* Our own connection reads its uncommitted writes ... */
	assert_int_equal(store_msg_lookup(fx->s, sid, "1", &ms, NULL, NULL),
	    0);
	assert_int_equal(ms, MSG_ANSWERED);
	/* ... another sees none of them. */
	assert_int_equal(peek(fx, "SELECT count(*) FROM sessions", 0), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 0);

	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM sessions", 0), 1);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 3);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages"
	    " WHERE state = 3 AND reply = 'ra'", 0), 1);
	assert_int_equal(store_flush(fx->s), 0);

	/* A write without an explicit touch still joins a group. */
	assert_int_equal(store_msg_accept(fx->s, sid, "5", "e", NOW, NULL), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 3);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 4);

	/* A failed write leaves the rest of the group intact. */
	assert_int_equal(store_msg_accept(fx->s, sid, "4", "d", NOW, NULL), 0);
	assert_int_equal(store_msg_accept(fx->s, sid, "4", "d", NOW, NULL),
	    -1);
	assert_int_equal(store_msg_answer(fx->s, m3, "rc", NOW), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM messages", 0), 5);
	assert_int_equal(peek(fx, "SELECT state FROM messages WHERE id = ?1",
	    m3), MSG_ANSWERED);

	/* Close commits what the last loop turn wrote. */
	assert_int_equal(store_msg_answer(fx->s, m2, "rb", NOW), 0);
	store_close(fx->s);
	fx->s = NULL;
	assert_int_equal(peek(fx, "SELECT state FROM messages WHERE id = ?1",
	    m2), MSG_ANSWERED);
}

static int
share_cb(const struct store_share_row *r, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%.4s/%lld/%lld/%d/%lld/%d;",
	    r->hash, (long long)r->created - NOW, (long long)r->expires,
	    r->read_only, (long long)r->session, r->revoked != 0);
	return ++c->calls == c->stop_after ? -1 : 0;
}

static void
test_share(void **state)
{
	struct fixture *fx = *state;
	uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN];
	uint8_t h4[STORE_HASH_LEN];
	struct collect c;
	char err[256];
	int64_t anon, sess, link, vis, found;
	int ro;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h1, 1);
	hash_of(h2, 2);
	hash_of(h3, 3);
	hash_of(h4, 4);

	assert_int_equal(store_session_create(fx->s, h3, NOW, 0, &anon), 0);
	assert_int_equal(store_session_expired(fx->s, NOW + 10 * 86400, 60,
	    &sess, 1), 1);
	assert_int_equal(sess, anon);

	/* h1: a fresh session per visitor; h2: anon's, read-only. */
	assert_int_equal(store_share_create(fx->s, h1, 0, 0, NOW, 0), 0);
	assert_int_equal(store_share_create(fx->s, h2, anon, 1, NOW,
	    NOW + 60), 0);
	/* One secret, one link. */
	nwarn = 0;
	assert_int_equal(store_share_create(fx->s, h1, 0, 0, NOW, 0), -1);
	assert_int_equal(nwarn, 1);
	/* A link names a session that exists. */
	assert_int_equal(store_share_create(fx->s, h3, anon + 100, 0, NOW, 0),
	    -1);

	sess = -5;
	assert_int_equal(store_share_find(fx->s, h1, NOW + 86400 * 365,
	    &link, &sess, &ro), 0);
	assert_int_equal(sess, 0);
	assert_int_equal(ro, 0);
	assert_true(link > 0);
	assert_int_equal(store_share_find(fx->s, h2, NOW + 59, &found, &sess,
	    &ro), 0);
	assert_int_equal(sess, anon);
	assert_int_equal(ro, 1);
	assert_int_equal(store_share_find(fx->s, h2, NOW + 60, &found, &sess,
	    &ro), 2);
	assert_int_equal(store_share_find(fx->s, h3, NOW, &found, &sess, &ro),
	    1);

	/* A visitor's session opens through its link and nowhere else. */
	assert_int_equal(store_visitor_create(fx->s, h4, link, NOW,
	    NOW + 86400, &vis), 0);
	assert_int_equal(store_visitor_find(fx->s, h4, link, NOW + 1, 86400,
	    &found), 0);
	assert_int_equal(found, vis);
	assert_int_equal(store_session_find(fx->s, h4, NOW + 1, 86400,
	    &found), 1);
	assert_int_equal(store_visitor_find(fx->s, h3, link, NOW + 1, 86400,
	    &found), 1);
	/* It is anonymous: the idle sweep takes it like any other. */
	assert_int_equal(store_visitor_find(fx->s, h4, link, NOW + 61, 60,
	    &found), 2);

	/* Only hashes are listed, oldest first; the walk can stop. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_share_list(fx->s, share_cb, &c), 0);
	assert_string_equal(c.out, "a501/0/0/0/0/0;a502/0/1700000060/1/1/0;");
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(store_share_list(fx->s, share_cb, &c), 0);
	assert_int_equal(c.calls, 1);

	/* Deleting the session takes its links along. */
	assert_int_equal(store_session_delete(fx->s, anon), 0);
	assert_int_equal(store_share_find(fx->s, h2, NOW, &found, &sess, &ro),
	    1);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM share_links", 0), 1);
}

static void
test_share_revoke(void **state)
{
	struct fixture *fx = *state;
	uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	char err[256];
	int64_t link, sess;
	int ro;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h1, 1);		/* a5 01 01 ... */
	hash_of(h2, 2);		/* a5 02 02 ... */
	assert_int_equal(store_share_create(fx->s, h1, 0, 0, NOW, 0), 0);
	assert_int_equal(store_share_create(fx->s, h2, 0, 0, NOW, 0), 0);

	assert_int_equal(store_share_revoke(fx->s, "a5", NOW + 1), 2);
	assert_int_equal(store_share_revoke(fx->s, "ff", NOW + 1), 1);
	/* Not hex, or a LIKE wildcard: names nothing. */
	assert_int_equal(store_share_revoke(fx->s, "a5%", NOW + 1), 1);
	assert_int_equal(store_share_revoke(fx->s, "A502", NOW + 1), 1);
	assert_int_equal(store_share_revoke(fx->s, "", NOW + 1), 1);
	assert_int_equal(store_share_find(fx->s, h2, NOW + 2, &link, &sess,
	    &ro), 0);

	assert_int_equal(store_share_revoke(fx->s, "a502", NOW + 1), 0);
	assert_int_equal(store_share_find(fx->s, h2, NOW + 2, &link, &sess,
	    &ro), 2);
	assert_int_equal(store_share_find(fx->s, h1, NOW + 2, &link, &sess,
	    &ro), 0);
	/* Again: already revoked, and the first time is kept. */
	assert_int_equal(store_share_revoke(fx->s, "a502", NOW + 9), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT revoked FROM share_links"
	    " WHERE id = ?1", 2), NOW + 1);
}

static int
pairing_cb(const struct store_pairing_row *r, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%s/%s/%s/%lld/%lld;",
	    r->code, r->account, r->peer, (long long)(r->created - NOW),
	    (long long)(r->expires - NOW));
	return ++c->calls == c->stop_after ? -1 : 0;
}

static void
test_pairing(void **state)
{
	struct fixture *fx = *state;
	struct collect c;
	char err[256];

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	assert_int_equal(store_pairing_create(fx->s, "wecom", "alice",
	    "AAAA11", NOW, NOW + 600), 0);
	assert_int_equal(store_pairing_create(fx->s, "wecom", "bob",
	    "BBBB22", NOW, NOW + 600), 0);
	/* Asking again replaces the code; the old one is void. */
	assert_int_equal(store_pairing_create(fx->s, "wecom", "alice",
	    "CCCC33", NOW + 5, NOW + 605), 0);
	/* A code names one sender. */
	nwarn = 0;
	assert_int_equal(store_pairing_create(fx->s, "mp", "carol",
	    "BBBB22", NOW, NOW + 600), -1);
	assert_int_equal(nwarn, 1);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_pairing_list(fx->s, pairing_cb, &c), 0);
	assert_string_equal(c.out,
	    "CCCC33/wecom/alice/5/605;BBBB22/wecom/bob/0/600;");
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(store_pairing_list(fx->s, pairing_cb, &c), 0);
	assert_int_equal(c.calls, 1);

	assert_int_equal(store_peer_allowed(fx->s, "wecom", "alice"), 0);
	assert_int_equal(store_pairing_approve(fx->s, "AAAA11", NOW + 10), 1);
	assert_int_equal(store_pairing_approve(fx->s, "CCCC33", NOW + 10), 0);
	assert_int_equal(store_peer_allowed(fx->s, "wecom", "alice"), 1);
	assert_int_equal(store_peer_allowed(fx->s, "mp", "alice"), 0);
	/* Spent. */
	assert_int_equal(store_pairing_approve(fx->s, "CCCC33", NOW + 11), 1);

	assert_int_equal(store_pairing_deny(fx->s, "BBBB22", NOW + 10), 0);
	assert_int_equal(store_peer_allowed(fx->s, "wecom", "bob"), 0);
	assert_int_equal(store_pairing_deny(fx->s, "BBBB22", NOW + 10), 1);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_pairing_list(fx->s, pairing_cb, &c), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT approved FROM peers"
	    " WHERE allowed = ?1", 1), NOW + 10);
}

static void
test_pairing_deny_expired(void **state)
{
	struct fixture *fx = *state;
	char err[256];

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	assert_int_equal(store_pairing_create(fx->s, "wecom", "dave",
	    "DDDD44", NOW, NOW + 60), 0);
	assert_int_equal(store_pairing_create(fx->s, "wecom", "erin",
	    "EEEE55", NOW, NOW + 60), 0);
	/* Too late to approve, and the code is gone. */
	assert_int_equal(store_pairing_approve(fx->s, "DDDD44", NOW + 60), 2);
	assert_int_equal(store_peer_allowed(fx->s, "wecom", "dave"), 0);
	assert_int_equal(store_pairing_approve(fx->s, "DDDD44", NOW + 1), 1);
	/* Denying an expired code just removes it. */
	assert_int_equal(store_pairing_deny(fx->s, "EEEE55", NOW + 99), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM pairings", 0), 0);
}

/* Retention deletes the oldest rows, by age then by count, a batch at most. */
static void
test_audit_prune(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	int i;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	/* 30 rows a day old, then 70 from now. */
	for (i = 0; i < 100; i++)
		assert_int_equal(store_audit(fx->s, i < 30 ? NOW - 86400 :
		    NOW, "webchat", "webchat.0", 0, "x", "y"), 0);
	assert_int_equal(store_flush(fx->s), 0);

	/* Age first, never more than the batch. */
	assert_int_equal(store_audit_prune(fx->s, NOW - 3600, 1000, 20), 20);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM audit", 0), 80);
	assert_int_equal(store_audit_prune(fx->s, NOW - 3600, 1000, 20), 10);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM audit WHERE time < ?1",
	    NOW - 3600), 0);

	/* Then the count: 70 left, keep 50, batch 15 then the rest. */
	assert_int_equal(store_audit_prune(fx->s, NOW - 3600, 50, 15), 15);
	assert_int_equal(store_audit_prune(fx->s, NOW - 3600, 50, 15), 5);
	assert_int_equal(store_audit_prune(fx->s, NOW - 3600, 50, 15), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(peek(fx, "SELECT count(*) FROM audit", 0), 50);
	/* The newest stayed. */
	assert_int_equal(peek(fx, "SELECT min(id) FROM audit", 0), 51);
}

/* Past the checkpoint size a commit is followed by a checkpoint. */
static void
test_wal_bounded(void **state)
{
	struct fixture *fx = *state;
	struct store_stats st;
	struct stat sb;
	char err[256], p[160], text[2048];
	int i;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	store_wal_limits(fx->s, 64 * 1024, 256 * 1024);
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (i = 0; i < 2000; i++) {
		assert_int_equal(store_audit(fx->s, NOW, "webchat", "w", 0,
		    "m", text), 0);
		if (i % 10 == 9) {
			assert_int_equal(store_flush(fx->s), 0);
			assert_int_not_equal(store_wal_check(fx->s), -1);
			/* The checkpointer thread, done before the next. */
			store_ckpt_wait(fx->s);
		}
	}
	side_path(fx, "-wal", p, sizeof(p));
	assert_int_equal(stat(p, &sb), 0);
	/* 4 MB went through the WAL; it never held much of it. */
	assert_true(sb.st_size <= 256 * 1024);
	store_wal_stats(fx->s, &st);
	assert_true(st.checkpoints > 0);
	assert_int_equal(st.window_commits, 200);
	assert_true(st.commit_p50_us <= st.commit_p99_us);
	assert_true(st.commit_p99_us <= st.commit_max_us);
	/* A second call starts a new window. */
	store_wal_stats(fx->s, &st);
	assert_int_equal(st.window_commits, 0);
}

static void
backlog_row(const struct store_backlog_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
}

/*
 * The backlog's queries (the sweep runs store_backlog_expired twice a
 * second) cost what the backlog holds, not what the store ever held:
 * with ANSWERED answered web chat messages and three waiting, each
 * takes a few hundred VM steps at most, where walking the answered
 * rows would take many thousands.
 */
#define ANSWERED	3000
static void
test_backlog_indexed(void **state)
{
	struct fixture *fx = *state;
	struct store_expired v[8];
	uint8_t h[STORE_HASH_LEN];
	char err[256], cmid[32];
	int64_t sid, mid;
	int i, n;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	hash_of(h, 1);
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &sid), 0);
	for (i = 0; i < ANSWERED + 3; i++) {
		snprintf(cmid, sizeof(cmid), "u-%d", i);
		assert_int_equal(store_msg_accept(fx->s, sid, cmid, "hi", NOW,
		    &mid), 0);
		if (i < ANSWERED)
			assert_int_equal(store_msg_answer(fx->s, mid, "hello",
			    NOW), 0);
	}
	/* No ANALYZE: the store never runs one, so neither does this. */
	assert_int_equal(store_flush(fx->s), 0);

	store_fx_vm_steps(fx->s);
	assert_int_equal(store_backlog_expired(fx->s, NULL, NOW + 1, v, 8),
	    3);
	assert_true(store_fx_vm_steps(fx->s) < 300);
	n = 0;
	assert_int_equal(store_backlog_take(fx->s, NULL, 8, backlog_row, &n),
	    3);
	assert_int_equal(n, 3);
	assert_true(store_fx_vm_steps(fx->s) < 600);
	assert_int_equal(store_msg_requeue_all(fx->s), 3);
	assert_true(store_fx_vm_steps(fx->s) < 300);
	assert_int_equal(store_flush(fx->s), 0);
}

/*
 * Row ids: SQLite's own until the node is given a block; then each new
 * row takes the block's next, the block after follows, and with none
 * left the insert fails (its turn is refused, never given an id another
 * node may hold).
 */
static void
test_row_ids_from_blocks(void **state)
{
	struct fixture *fx = *state;
	uint8_t h[STORE_HASH_LEN] = { 7 };
	char err[256];
	int64_t sess, id;

	fx->s = store_open(fx->path, err, sizeof(err));
	assert_non_null(fx->s);
	/* Alone, every row is this node's. */
	assert_int_equal(store_ids_mine(fx->s, 77), 1);
	store_touch(fx->s);
	assert_int_equal(store_session_create(fx->s, h, 1, 0, &sess), 0);
	assert_int_equal(sess, 1);
	store_ids(fx->s, 1000, 2);
	assert_int_equal(store_ids_left(fx->s), 2);
	assert_int_equal(store_msg_accept(fx->s, sess, "a", "x", 2, &id), 0);
	assert_int_equal(id, 1000);
	store_ids(fx->s, 5000, 10);	/* the next block, asked early */
	assert_int_equal(store_ids_left(fx->s), 11);
	assert_int_equal(store_msg_accept(fx->s, sess, "b", "x", 2, &id), 0);
	assert_int_equal(id, 1001);
	assert_int_equal(store_msg_accept(fx->s, sess, "c", "x", 2, &id), 0);
	assert_int_equal(id, 5000);
	assert_int_equal(store_flush(fx->s), 0);
	/* Rows of its blocks are its own; another node's are not. */
	assert_int_equal(store_ids_mine(fx->s, 1001), 1);
	assert_int_equal(store_ids_mine(fx->s, 5009), 1);
	assert_int_equal(store_ids_mine(fx->s, 1002), 0);
	assert_int_equal(store_ids_mine(fx->s, 5010), 0);
	assert_int_equal(store_ids_mine(fx->s, sess), 0);

	store_ids(fx->s, 9000, 0);	/* an empty block: none left */
	while (store_ids_left(fx->s) > 0)
		assert_int_equal(store_audit(fx->s, 3, "r", NULL, 0, NULL,
		    NULL), 0);
	assert_int_equal(store_msg_accept(fx->s, sess, "d", "x", 3, &id), -1);
	assert_int_equal(store_msg_lookup(fx->s, sess, "d", &(enum msg_state){
	    0 }, &id, NULL), 1);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_creates),
		T(test_open_fixes_mode),
		T(test_open_refuses_symlink),
		T(test_reopen),
		T(test_newer_refused),
		T(test_session),
		T(test_dedupe),
		T(test_dedupe_per_session),
		T(test_accept_unknown_session),
		T(test_history),
		T(test_history_stop),
		T(test_history_long),
		T(test_read_txn),
		T(test_accept_taken),
		T(test_group_commit),
		T(test_share),
		T(test_share_revoke),
		T(test_pairing),
		T(test_pairing_deny_expired),
		T(test_audit_prune),
		T(test_wal_bounded),
		T(test_backlog_indexed),
		T(test_row_ids_from_blocks),
	};
#undef T

	log_init(LOG_LVL_DEBUG, 0);
	log_sethook(log_capture);
#ifdef STORE_FX_PG
	return cmocka_run_group_tests(tests, store_pg_fx_connect,
	    store_pg_fx_disconnect);
#else
	return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
