/*
 * Upgrading a store that holds rows, not only an empty one: a file
 * made by every older schema version in turn (store_migrate_to), filled
 * through plain SQL with what a running wxgated of that version would
 * have written (a web chat turn answered and one waiting, a platform
 * message waiting with its outbound row, a share link, a channel's
 * cursor, an audit row), is opened by this code, which migrates it to
 * STORE_SCHEMA_VERSION; each row is then found again through the
 * store's own functions, and SQLite's integrity and foreign key checks
 * pass.  A migration that rebuilds a table (share_links and outbox at
 * version 2, the outbox again at 4) must carry every row across.
 */
#include <sys/stat.h>

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

#define NOW	1700000000

/* The columns of version 1, which every later version still has. */
static const char fill_sql[] =
	"INSERT INTO sessions (id, token_hash, created, last_seen, expires,"
	" anonymous) VALUES (1, zeroblob(32), 1700000000, 1700000000, NULL,"
	" 1);"
	"INSERT INTO sessions (id, token_hash, created, last_seen, anonymous,"
	" account, peer) VALUES (2, NULL, 1700000000, 1700000000, 0,"
	" 'alice', 'bob');"
	"INSERT INTO messages (id, session_id, client_msg_id, text, state,"
	" reply, created, answered) VALUES (1, 1, 'u-1', 'hi', 3,"
	" 'hello there', 1700000000, 1700000001);"
	"INSERT INTO messages (id, session_id, client_msg_id, text, state,"
	" created) VALUES (2, 1, 'u-2', 'still there?', 1, 1700000002);"
	"INSERT INTO messages (id, session_id, account, channel_msg_id,"
	" sender, text, state, created) VALUES (3, 2, 'alice', 'p-1', 'bob',"
	" 'from the platform', 1, 1700000003);"
	"INSERT INTO outbox (account, peer, msg_id, seq, body, created,"
	" next_try) VALUES ('alice', 'bob', NULL, 0, 'a notice', 1700000004,"
	" 1700000004);"
	"INSERT INTO share_links (token_hash, session_id, mode, created)"
	" VALUES (x'00000000000000000000000000000000"
	"00000000000000000000000000000007', 1, 'read',"
	" 1700000005);"
	"INSERT INTO kv (account, key, value, updated) VALUES ('alice',"
	" 'cursor', 'c-42', 1700000006);"
	"INSERT INTO audit (time, role, worker, method, detail) VALUES"
	" (1700000007, 'webchat', 'webchat.0', 'chat.send', 'ok');";

struct taken {
	int	 n;
	char	 text[64];
	char	 account[16];
};

static void
take_cb(const struct store_backlog_row *r, void *arg)
{
	struct taken *t = arg;

	t->n++;
	snprintf(t->text, sizeof(t->text), "%s", r->text);
	snprintf(t->account, sizeof(t->account), "%s", r->account);
}

static void
lease_cb(const struct store_outbox_row *r, void *arg)
{
	struct taken *t = arg;

	t->n++;
	snprintf(t->text, sizeof(t->text), "%s", r->body);
}

static int64_t
one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *
text1(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* A store file at schema version `from`, holding fill_sql's rows. */
static void
make_old(const char *path, int from)
{
	char err[256];
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(store_migrate_to(db, from, err, sizeof(err)), 0);
	assert_int_equal(store_user_version(db), from);
	if (sqlite3_exec(db, fill_sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("version %d: %s", from, sqlite3_errmsg(db));
	sqlite3_close(db);
	/* As the hub leaves it: store_open() would warn and fix it. */
	assert_int_equal(chmod(path, 0600), 0);
}

static void
check_upgraded(const char *path, int from)
{
	uint8_t h[STORE_HASH_LEN];
	struct taken t;
	struct store *s;
	enum msg_state ms;
	char err[256], buf[64], *v;
	int64_t id, link, sess;
	int ro;
	sqlite3 *db;

	s = store_open(path, err, sizeof(err));
	if (s == NULL)
		fail_msg("from version %d: %s", from, err);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);

	/* The web chat turns: one answered, one waiting for its agent. */
	v = NULL;
	assert_int_equal(store_msg_lookup(s, 1, "u-1", &ms, &id, &v), 0);
	assert_int_equal(ms, MSG_ANSWERED);
	assert_int_equal(id, 1);
	assert_non_null(v);
	assert_string_equal(v, "hello there");
	free(v);
	assert_int_equal(store_msg_lookup(s, 1, "u-2", &ms, &id, NULL), 0);
	assert_int_equal(ms, MSG_ACCEPTED);
	memset(h, 0, sizeof(h));
	assert_int_equal(store_session_find(s, h, NOW + 10, 3600, &sess), 0);
	assert_int_equal(sess, 1);

	/* The platform's message is the account's backlog still. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_backlog_take(s, "alice", 8, take_cb, &t), 1);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.text, "from the platform");

	/* The notice is queued and due. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_outbox_lease(s, "alice", NOW + 10, NOW + 130,
	    8, lease_cb, &t), 1);
	assert_string_equal(t.text, "a notice");

	/* The share link, the channel's cursor. */
	memset(h, 0, sizeof(h));
	h[STORE_HASH_LEN - 1] = 7;
	assert_int_equal(store_share_find(s, h, NOW + 10, &link, &sess, &ro),
	    0);
	assert_int_equal(sess, 1);
	assert_int_equal(ro, 1);
	v = NULL;
	assert_int_equal(store_kv_get(s, "alice", "cursor", &v), 0);
	assert_string_equal(v, "c-42");
	free(v);
	assert_int_equal(store_flush(s), 0);
	store_close(s);

	/* Nothing lost or dangling, by SQLite's own checks. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_string_equal(text1(db, "PRAGMA integrity_check", buf,
	    sizeof(buf)), "ok");
	assert_int_equal(one(db, "SELECT count(*) FROM"
	    " pragma_foreign_key_check"), 0);
	assert_int_equal(one(db, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(one(db, "SELECT count(*) FROM audit"), 1);
	sqlite3_close(db);
}

static void
test_upgrade_from_every_version(void **state)
{
	char path[64], side[80];
	const char *suffix[] = { "", "-wal", "-shm" };
	int from, fd;
	size_t i;

	(void)state;
	for (from = 1; from < STORE_SCHEMA_VERSION; from++) {
		snprintf(path, sizeof(path), "/tmp/wxupgrade.XXXXXX");
		assert_true((fd = mkstemp(path)) != -1);
		close(fd);
		unlink(path);
		make_old(path, from);
		check_upgraded(path, from);
		for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
			snprintf(side, sizeof(side), "%s%s", path, suffix[i]);
			unlink(side);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_from_every_version),
	};

	log_init(0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
