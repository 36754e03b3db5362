/*
 * The store's working set shipped to PostgreSQL (store_capture.c,
 * pgapply.c) against a real server (tests/pgserver.sh): turns of real
 * store calls (web chat and channel messages, replies, failures, the
 * outbox, a worker's state, share links, pairings, media, deletions
 * that cascade, a message written before its session in one turn), each
 * committed in SQLite, captured and applied as one PostgreSQL batch.
 * Afterwards every table holds the same rows in both, value for value.
 * An invitation's counts are the exception: spent in PostgreSQL by its
 * own statement, never shipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "clock.h"
#include "lite_rows.h"
#include "log.h"
#include "pg_fx.h"
#include "pgapply.h"
#include "pgids.h"
#include "pgload.h"
#include "pgpool.h"
#include "pgsetup.h"
#include "schema.h"
#include "session.h"
#include "store.h"
#include "store_int.h"

static struct event_base *base;
static struct store *st;
static struct pgpool *pool;
static struct pgapply *apply;
static PGconn *pg;
static char dir[] = "/tmp/wxship.XXXXXX";
static unsigned shipped;
/* The first row id of each node's block (pgids.c). */
static int64_t a_ids = -2, b_ids = -2;
static int64_t web_session, chan_session;

/* Commit the turn in SQLite, then ship it as one batch. */
static void
turn(void)
{
	const struct pgp_q *q;
	enum pgp_status ps;
	char err[512];
	unsigned n;

	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_capture_take(st, pgapply_add, apply), 0);
	q = pgapply_batch(apply, &n);
	assert_true(n > 0);
	if ((ps = pg_fx_batch(base, pool, q, n, err, sizeof(err))) != PGP_OK)
		fail_msg("ship: %s %s", pgp_status_name(ps), err);
	shipped += n;
	pgapply_reset(apply);
}

static void
hash_of(uint8_t h[STORE_HASH_LEN], int seed)
{
	memset(h, seed, STORE_HASH_LEN);
}

static void
workload(void)
{
	uint8_t h[STORE_HASH_LEN];
	int64_t web, web2, chan, m[4], cm, ob, id;
	struct store_chan_msg msg = { 0, "a1", "wx-1", "p1", "hi there", "ctx1" };
	static const uint8_t bytes[] = { 0, 1, 2, 0xff, 0x5c, 0x78 };
	struct store_media md = { "a1", 0, 0, "image", "a.png", bytes,
	    sizeof(bytes), { 0 } };

	/* 1: a visitor and three messages, an audit row. */
	store_touch(st);
	hash_of(h, 1);
	assert_int_equal(store_session_create(st, h, 100, 0, &web), 0);
	assert_int_equal(store_msg_accept(st, web, "c1", "one", 101, &m[0]),
	    0);
	assert_int_equal(store_msg_accept(st, web, "c2", "two", 102, &m[1]),
	    0);
	assert_int_equal(store_msg_accept(st, web, "c3", "three", 103,
	    &m[2]), 0);
	assert_int_equal(store_audit(st, 104, "webchat", "webchat.0", web,
	    "chat.send", "ok"), 0);
	turn();

	/* 2: replies and a failure; a channel conversation, its message
	 * and the reply's outbox row; the worker's cursor. */
	store_touch(st);
	assert_int_equal(store_msg_take(st, m[0]), 0);
	assert_int_equal(store_msg_answer(st, m[0], "reply one", 110), 0);
	assert_int_equal(store_msg_fail(st, m[1], "timeout", 111), 0);
	assert_int_equal(store_kv_put(st, "a1", "cursor", "buf-1", 112), 0);
	assert_int_equal(store_chan_session(st, "a1", "p1", 113, &chan), 0);
	msg.session = chan;
	assert_int_equal(store_chan_msg_accept(st, &msg, 114, &cm), 0);
	assert_int_equal(store_outbox_add(st, "a1", "p1", cm, 0, "hello back",
	    "ctx1", 115, &ob), 0);
	turn();

	/* 3: a share link, a pairing and its approval, the cursor moves,
	 * the outbox row is delivered. */
	store_touch(st);
	hash_of(h, 2);
	assert_int_equal(store_share_create(st, h, web, 1, 120, 0), 0);
	assert_int_equal(store_pairing_create(st, "a1", "p2", "CODE42", 121,
	    999), 0);
	assert_int_equal(store_pairing_approve(st, "CODE42", 122), 0);
	assert_int_equal(store_kv_put(st, "a1", "cursor", "buf-2", 123), 0);
	assert_int_equal(store_outbox_ack(st, "a1", ob, 124), 0);
	turn();

	/* 4: a part of the channel message (bytes), and the visitor's
	 * session goes: its messages and link with it. */
	store_touch(st);
	md.msg_id = cm;
	assert_int_equal(store_media_add(st, &md, 130), 0);
	assert_int_equal(store_session_delete(st, web), 0);
	turn();

	/* 5: messages first, then a new session and its message: the
	 * changeset puts messages before sessions. */
	store_touch(st);
	msg.msgid = "wx-2";
	msg.text = "again";
	assert_int_equal(store_chan_msg_accept(st, &msg, 140, &id), 0);
	hash_of(h, 3);
	assert_int_equal(store_session_create(st, h, 141, 0, &web2), 0);
	assert_int_equal(store_msg_accept(st, web2, "d1", "new", 142, &m[3]),
	    0);
	assert_int_equal(store_kv_put(st, "a1", "cursor", "", 143), 0);
	assert_int_equal(store_kv_put(st, "a1", "token", "tok-9", 144), 0);
	turn();
	web_session = web2;
	chan_session = chan;
}

static char *
lite_rows_of(struct store *db, const char *table, const char *where)
{
	return lite_rows_where(db, table, where);
}

static char *
lite_rows(const char *table)
{
	return lite_rows_where(st, table, "1");
}

static char *
pg_rows(const char *table)
{
	return pg_rows_text(pg, st, table);
}

static void
got_ids(int64_t first, void *arg)
{
	*(int64_t *)arg = first;
}

static int
setup(void **state)
{
	char conn[512], path[64], err[256], *sql;
	static char d[256], pw[128];
	struct pgpool_conf pc = { .conns = 1, .queue_max = 4,
	    .deadline_ms = 10000 };
	PGresult *r;

	(void)state;
	if (pg_fx_env(d, sizeof(d), pw, sizeof(pw)) == -1)
		return -1;
	log_init(0, 0);
	snprintf(conn, sizeof(conn), "%s password=%s", d, pw);
	pg = PQconnectdb(conn);
	if (PQstatus(pg) != CONNECTION_OK)
		return -1;
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	sql = pgsetup_sql();	/* the steps after SCHEMA_BASE too */
	r = PQexec(pg, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "schema: %s", PQresultErrorMessage(r));
		return -1;
	}
	PQclear(r);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/store.db", dir);
	if ((st = store_open(path, err, sizeof(err))) == NULL ||
	    store_capture(st) == -1)
		return -1;
	base = event_base_new();
	pc.conninfo = d;
	pc.password = pw;
	pool = pgpool_new(base, &pc);
	apply = pgapply_new();
	/* This node's row ids, a block of the shared sequence. */
	if (pgids_fetch(pool, st, got_ids, &a_ids) == -1)
		return -1;
	while (a_ids == -2)
		event_base_loop(base, EVLOOP_ONCE);
	return a_ids > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	pgapply_free(apply);
	pgpool_free(pool);
	store_close(st);
	event_base_free(base);
	PQfinish(pg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_every_table_holds_the_same_rows(void **state)
{
	sqlite3_stmt *s;
	unsigned tables = 0, nonempty = 0;

	(void)state;
	workload();
	assert_int_equal(sqlite3_prepare_v2(st->db, "SELECT name FROM"
	    " sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	    " ORDER BY name", -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		char *a = lite_rows(t), *b = pg_rows(t);

		if (strcmp(a, b) != 0)
			fail_msg("table %s:\nSQLite:\n%s\nPostgreSQL:\n%s", t,
			    a, b);
		tables++;
		nonempty += a[0] != '\0';
		if (getenv("WXGATE_TEST_VERBOSE"))
			fprintf(stderr, "%s:\n%s", t, a);
		free(a);
		free(b);
	}
	sqlite3_finalize(s);
	assert_int_equal(tables, 21);
	/* Every new row took its id from the node's block. */
	assert_int_equal(sqlite3_prepare_v2(st->db, "SELECT m.name FROM"
	    " sqlite_master m, pragma_table_info(m.name) c WHERE m.type ="
	    " 'table' AND c.name = 'id' AND c.pk = 1", -1, &s, NULL),
	    SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		char q[160];
		PGresult *r;

		snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\" WHERE id"
		    " NOT BETWEEN %lld AND %lld", sqlite3_column_text(s, 0),
		    (long long)a_ids, (long long)a_ids + SCHEMA_ID_BLOCK - 1);
		r = PQexec(pg, q);
		assert_string_equal(PQgetvalue(r, 0, 0), "0");
		PQclear(r);
	}
	sqlite3_finalize(s);
	/* audit, kv, media, messages, outbox, peers, sessions; pairings
	 * and share_links had rows that went again */
	assert_true(nonempty >= 7);
	assert_true(shipped >= 20);
}

static void
loaded(int64_t rows, void *arg)
{
	*(int64_t *)arg = rows;
}

/* The turns of a channel conversation, as store_history gives them. */
static int
turn_line(const char *role, const char *text, int64_t seq, void *arg)
{
	char **out = arg;
	char *n;

	(void)seq;
	if (asprintf(&n, "%s%s: %s\n", *out, role, text) < 0)
		return -1;
	free(*out);
	*out = n;
	return 0;
}

static char *
history(struct store *db, int64_t session)
{
	char *out = strdup("");

	assert_int_equal(store_history(db, session, 50, 0, turn_line, &out),
	    0);
	return out;
}

/* Wait, to the test's bound, for a load to answer; its rows. */
static int64_t
load_wait(int64_t *rows)
{
	uint64_t hang = clock_mono_ms() + 30000;

	while (*rows == -2) {
		assert_true(clock_mono_ms() < hang);
		event_base_loop(base, EVLOOP_ONCE);
	}
	return *rows;
}

/* The truth seeded, then a new node's store with the account read in,
 * as a takeover's. */
static struct store *
took_over(const char *seed, const char *file, const char *account)
{
	char path[64], err[256];
	struct store *nb;
	int64_t rows = -2;
	PGresult *r = PQexec(pg, seed);

	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_non_null(nb = store_open(path, err, sizeof(err)));
	assert_int_equal(pgload_account(pool, nb, account, loaded, &rows), 0);
	assert_true(load_wait(&rows) > 0);
	assert_int_equal(store_flush(nb), 0);
	return nb;
}

/*
 * Another node's working set takes the account over (the lease moved)
 * and a visitor's session (the balancer sent the visitor elsewhere):
 * one read each, and then its store answers as the first node's does.
 */
static void
test_another_node_loads_what_it_takes_over(void **state)
{
	char path[64], err[256], where[64], *a, *b, *v = NULL;
	char hex[2 * SESSION_HASH_LEN + 1], idtext[24];
	enum pgload_by by;
	struct store *nb;
	int64_t rows = -2, id;
	uint64_t hang = clock_mono_ms() + 30000;
	uint8_t h[STORE_HASH_LEN];
	static const char *const account_tables[][2] = {
		{ "sessions", "account = 'a1'" },
		{ "messages", "session_id IN (SELECT id FROM sessions WHERE"
		    " account = 'a1')" },
		{ "outbox", "account = 'a1'" },
		{ "media", "account = 'a1'" },
		{ "peers", "account = 'a1'" },
		{ "kv", "account = 'a1'" },
	};
	unsigned i;

	(void)state;
	snprintf(path, sizeof(path), "%s/b.db", dir);
	assert_non_null(nb = store_open(path, err, sizeof(err)));
	assert_int_equal(pgload_account(pool, nb, "a1", loaded, &rows), 0);
	while (rows == -2) {
		assert_true(clock_mono_ms() < hang);
		event_base_loop(base, EVLOOP_ONCE);
	}
	/* 1 session, 2 messages, an outbox row, a part, a peer, a key */
	assert_int_equal(rows, 7);
	assert_int_equal(store_flush(nb), 0);
	for (i = 0; i < sizeof(account_tables) / sizeof(account_tables[0]);
	    i++) {
		a = lite_rows_of(st, account_tables[i][0],
		    account_tables[i][1]);
		b = lite_rows_of(nb, account_tables[i][0],
		    account_tables[i][1]);
		if (strcmp(a, b) != 0)
			fail_msg("%s:\nfirst node:\n%s\nsecond:\n%s",
			    account_tables[i][0], a, b);
		assert_true(a[0] != '\0');
		free(a);
		free(b);
	}
	/* Its store finds the conversation, its turns and the worker's
	 * state where the first node left them. */
	assert_int_equal(store_chan_session(nb, "a1", "p1", 200, &id), 0);
	assert_int_equal(id, chan_session);
	a = history(st, chan_session);
	b = history(nb, chan_session);
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(store_kv_get(nb, "a1", "token", &v), 0);
	assert_string_equal(v, "tok-9");
	free(v);
	assert_int_equal(store_kv_get(nb, "a1", "cursor", &v), 1);
	assert_int_equal(store_chan_msg_seen(nb, "a1", "wx-2"), 1);

	/* It goes on where the first stopped: its new rows take its own
	 * ids, and reach the shared truth beside the first node's. */
	{
		struct store *a_st = st;
		struct store_chan_msg msg = { chan_session, "a1", "wx-3", "p1",
		    "on node b", "" };
		char *count;
		PGresult *r;

		assert_int_equal(pgids_fetch(pool, nb, got_ids, &b_ids), 0);
		while (b_ids == -2)
			event_base_loop(base, EVLOOP_ONCE);
		/* Another block of the one sequence: no id of a's. */
		assert_true(b_ids >= a_ids + SCHEMA_ID_BLOCK);
		assert_int_equal(store_capture(nb), 0);
		store_touch(nb);
		assert_int_equal(store_chan_msg_accept(nb, &msg, 210, &id), 0);
		assert_int_equal(id, b_ids);
		st = nb;	/* turn() ships st's */
		turn();
		st = a_st;
		r = PQexec(pg, "SELECT count(DISTINCT id) FROM messages WHERE"
		    " account = 'a1'");
		count = PQgetvalue(r, 0, 0);
		assert_string_equal(count, "3");
		PQclear(r);
	}

	/* The visitor's session, by its token's hash, then by its id. */
	hash_of(h, 3);
	session_hash_hex(h, hex);
	snprintf(idtext, sizeof(idtext), "%lld", (long long)web_session);
	for (by = PGLOAD_ID; by <= PGLOAD_TOKEN; by++) {
		rows = -2;
		assert_int_equal(pgload_session(pool, nb, by,
		    by == PGLOAD_ID ? idtext : hex, NULL, loaded, &rows), 0);
		while (rows == -2) {
			assert_true(clock_mono_ms() < hang);
			event_base_loop(base, EVLOOP_ONCE);
		}
		/* The session and its message. */
		assert_int_equal(rows, 2);
	}
	assert_int_equal(store_flush(nb), 0);
	assert_int_equal(store_session_find(nb, h, 300, 3600, &id), 0);
	assert_int_equal(id, web_session);
	snprintf(where, sizeof(where), "session_id = %lld",
	    (long long)web_session);
	a = lite_rows_of(st, "messages", where);
	b = lite_rows_of(nb, "messages", where);
	assert_true(a[0] != '\0');
	assert_string_equal(a, b);
	free(a);
	free(b);

	/* One message read again, after its answer came elsewhere. */
	{
		char q[256], mid[24];
		PGresult *r;

		snprintf(q, sizeof(q), "SELECT min(id) FROM messages WHERE"
		    " session_id = %lld", (long long)web_session);
		r = PQexec(pg, q);
		assert_int_equal(PQntuples(r), 1);
		snprintf(mid, sizeof(mid), "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		snprintf(q, sizeof(q), "UPDATE messages SET state = 3,"
		    " reply = 'told elsewhere' WHERE id = %s", mid);
		r = PQexec(pg, q);
		assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
		PQclear(r);
		rows = -2;
		assert_int_equal(pgload_session(pool, nb, PGLOAD_MSG, mid,
		    NULL, loaded, &rows), 0);
		while (rows == -2) {
			assert_true(clock_mono_ms() < hang);
			event_base_loop(base, EVLOOP_ONCE);
		}
		assert_int_equal(rows, 1);
		assert_int_equal(store_flush(nb), 0);
		a = lite_rows_of(nb, "messages", where);
		assert_non_null(strstr(a, "told elsewhere"));
		free(a);
	}
	store_close(nb);
}

/* One number of the working set's. */
static long long
lite_count(struct store *db, const char *sql)
{
	sqlite3_stmt *s;
	long long n;

	assert_int_equal(sqlite3_prepare_v2(db->db, sql, -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/*
 * An account with a long past: a node taking it reads each
 * conversation's newest 256 messages, what is not answered, what a
 * queued reply refers to, and each person's newest 64 ended replies,
 * not everything the account ever said.
 */
static void
test_an_account_is_read_bounded_in_time(void **state)
{
	struct store *nb;
	const char *seed;

	(void)state;
	/* Ids far above the blocks the other tests took. */
	seed = "BEGIN;"
	    "INSERT INTO sessions (id, created, last_seen, anonymous, account,"
	    " peer) VALUES (900000000, 1, 1, 0, 'old', 'p1');"
	    "INSERT INTO messages (id, session_id, account, channel_msg_id,"
	    " sender, text, state, reply, created, answered)"
	    " SELECT 900000000 + g, 900000000, 'old', 'wx-' || g, 'p1',"
	    " 'm' || g, 3, 'r' || g, g, g FROM generate_series(1, 400) g;"
	    /* The oldest but one, never answered. */
	    "UPDATE messages SET state = 1, reply = NULL, answered = NULL"
	    " WHERE id = 900000002;"
	    "INSERT INTO outbox (id, account, peer, msg_id, body, created,"
	    " next_try, state, finished) SELECT 900001000 + g, 'old', 'p1',"
	    " 900000300 + g, 'r', g, g, 'sent', g"
	    " FROM generate_series(1, 100) g;"
	    /* The oldest message's reply, queued (its row the oldest). */
	    "INSERT INTO outbox (id, account, peer, msg_id, body, created,"
	    " next_try) VALUES (900000999, 'old', 'p1', 900000001, 'r1', 1,"
	    " 1);"
	    "COMMIT;";
	nb = took_over(seed, "old.db", "old");
	/* 256 newest, the unanswered one, the queued reply's. */
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM messages"),
	    258);
	assert_int_equal(lite_count(nb, "SELECT min(id) FROM messages"
	    " WHERE id > 900000002"), 900000400 - 255);
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM messages"
	    " WHERE id IN (900000001, 900000002)"), 2);
	/* 64 newest ended replies, and the queued one. */
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM outbox"
	    " WHERE state = 'sent'"), 64);
	assert_int_equal(lite_count(nb, "SELECT min(id) FROM outbox"
	    " WHERE state = 'sent'"), 900001100 - 63);
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM outbox"
	    " WHERE state = 'queued'"), 1);
	/* Every ended reply loaded refers to a message loaded: their
	 * messages are among the newest. */
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM outbox o"
	    " WHERE msg_id NOT IN (SELECT id FROM messages)"), 0);
	store_close(nb);
}

static void
took(const struct store_backlog_row *row, void *arg)
{
	*(int64_t *)arg = row->id;
}

/*
 * A person who has not written for days comes cold: their session row
 * without its history.  When they write again, their message waits
 * until the history is read (PGLOAD_CONV), then the backlog has it and
 * the agent would see every turn.
 */
static void
test_a_cold_conversation_is_read_when_its_person_writes(void **state)
{
	char key[24], *h;
	struct store *nb;
	int64_t rows = -2, id, got = 0, ids[4], first = -2;
	const char *seed;

	(void)state;
	seed = "BEGIN;"
	    "INSERT INTO sessions (id, created, last_seen, anonymous, account,"
	    " peer) VALUES (910000000, 1, 1, 0, 'cool', 'gone'),"
	    " (910000001, 1, extract(epoch FROM now())::bigint, 0, 'cool',"
	    " 'here');"
	    "INSERT INTO messages (id, session_id, account, channel_msg_id,"
	    " sender, text, state, reply, created, answered)"
	    " SELECT 910000000 + 10 * g + s, 910000000 + s, 'cool',"
	    " 'cw-' || s || '-' || g, CASE s WHEN 0 THEN 'gone' ELSE 'here'"
	    " END, 'm' || g, 3, 'r' || g, g, g"
	    " FROM generate_series(1, 5) g, generate_series(0, 1) s;"
	    "INSERT INTO outbox (id, account, peer, msg_id, body, created,"
	    " next_try, state, finished) SELECT 910001000 + g, 'cool', 'gone',"
	    " 910000000 + 10 * g, 'r', g, g, 'sent', g"
	    " FROM generate_series(1, 5) g;"
	    "COMMIT;";
	nb = took_over(seed, "cool.db", "cool");
	/* Both people; the history and replies of the one who wrote lately. */
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM sessions"), 2);
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM messages"
	    " WHERE session_id = 910000001"), 5);
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM messages"
	    " WHERE session_id = 910000000"), 0);
	assert_int_equal(lite_count(nb, "SELECT count(*) FROM outbox"), 0);
	/* Nothing wanted until the cold one writes. */
	assert_int_equal(store_cold_wanted(nb, ids, 4), 0);
	assert_int_equal(pgids_fetch(pool, nb, got_ids, &first), 0);
	while (first == -2)
		event_base_loop(base, EVLOOP_ONCE);
	{
		struct store_chan_msg msg = { 910000000, "cool", "cw-new",
		    "gone", "back again", "" };

		assert_int_equal(store_chan_msg_accept(nb, &msg, 300, &id),
		    0);
	}
	assert_int_equal(store_backlog_take(nb, "cool", 10, took, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(store_cold_wanted(nb, ids, 4), 1);
	assert_int_equal(ids[0], 910000000);
	/* Asked once: not handed out again while its read is under way. */
	assert_int_equal(store_cold_wanted(nb, ids, 4), 0);
	assert_int_equal(store_flush(nb), 0);
	snprintf(key, sizeof(key), "%d", 910000000);
	assert_int_equal(pgload_session(pool, nb, PGLOAD_CONV, key, NULL,
	    loaded, &rows), 0);
	assert_int_equal(load_wait(&rows), 5);
	assert_int_equal(store_cold_done(nb, 910000000, 1), 0);
	assert_int_equal(store_backlog_take(nb, "cool", 10, took, &got), 1);
	assert_int_equal(got, id);
	/* The turns before it, as the agent is given them. */
	h = history(nb, 910000000);
	assert_string_equal(h, "user: m1\nassistant: r1\nuser: m2\n"
	    "assistant: r2\nuser: m3\nassistant: r3\nuser: m4\n"
	    "assistant: r4\nuser: m5\nassistant: r5\n");
	free(h);
	assert_int_equal(store_flush(nb), 0);
	store_close(nb);
}

static char *
pg_one(const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	char *v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	v = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return v;
}

/*
 * A binding's use is taken in PostgreSQL by its own statement
 * (hub_pg_spend.c), here by hand: the activation's turn ships the
 * account going active and not the working set's counts, so the use
 * is spent there once; a revocation still ships.
 */
static void
test_an_invitations_counts_do_not_ship(void **state)
{
	const struct pgp_q *q;
	enum pgp_status ps;
	uint8_t h[STORE_HASH_LEN];
	char sql[160], err[512], *v;
	int64_t id;
	unsigned n, i;

	(void)state;
	store_touch(st);
	hash_of(h, 9);
	assert_int_equal(store_invite_create(st, h, "staff", 300, 99999, 2,
	    &id), 0);
	assert_int_equal(store_account_add(st, "b00000001", "wechat",
	    "staff", id, 301), 0);
	turn();

	snprintf(sql, sizeof(sql), "UPDATE invitations SET uses_left ="
	    " uses_left - 1, used = used + 1 WHERE id = %lld RETURNING"
	    " uses_left", (long long)id);
	free(pg_one(sql));
	store_touch(st);
	assert_int_equal(store_account_activate(st, "b00000001", "o1"), 0);
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_capture_take(st, pgapply_add, apply), 0);
	q = pgapply_batch(apply, &n);
	assert_int_equal(n, 1);		/* the account's, alone */
	for (i = 0; i < n; i++)
		assert_null(strstr(q[i].sql, "uses_left"));
	if ((ps = pg_fx_batch(base, pool, q, n, err, sizeof(err))) != PGP_OK)
		fail_msg("ship: %s %s", pgp_status_name(ps), err);
	pgapply_reset(apply);
	store_touch(st);
	assert_int_equal(store_invite_revoke(st, id, 302), 0);
	turn();

	snprintf(sql, sizeof(sql), "SELECT uses_left || ' ' || used || ' ' ||"
	    " coalesce(revoked, 0) FROM invitations WHERE id = %lld",
	    (long long)id);
	assert_string_equal(v = pg_one(sql), "1 1 302");
	free(v);
	assert_string_equal(v = pg_one("SELECT state FROM accounts WHERE"
	    " name = 'b00000001'"), "active");
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_table_holds_the_same_rows),
		cmocka_unit_test(test_another_node_loads_what_it_takes_over),
		cmocka_unit_test(test_an_account_is_read_bounded_in_time),
		cmocka_unit_test(
		    test_a_cold_conversation_is_read_when_its_person_writes),
		cmocka_unit_test(test_an_invitations_counts_do_not_ship),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
