/*
 * Schema versions of the store and the migrations between them.
 * Called once by store_open(), before any statement is prepared.
 *
 * The version lives in PRAGMA user_version.  Migrations run in order, all
 * in one transaction with the version bump, so a crash mid-way leaves the
 * old schema intact.  A database newer than this code is refused, never
 * downgraded: an older wxgated must not guess at columns it does not know.
 * A migration, once released, is never edited; a change is a new entry.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "schema.h"
#include "store_int.h"

struct store_migration {
	int		 version;
	const char	*sql;
};

/*
 * Version 1.  Times are Unix seconds.  Conventions:
 * - a message row is one turn: the user's text and, once answered, the
 *   whole reply, so a reply can only be stored once (the CHECK ties the
 *   reply to MSG_ANSWERED = 3, and state values mirror enum msg_state);
 * - (session_id, client_msg_id) dedupes webchat resends, and
 *   (account, channel_msg_id) dedupes platform redeliveries; NULLs are
 *   distinct in a UNIQUE index, so each applies only to its own kind;
 * - audit rows outlive sessions and workers, so they hold plain values,
 *   not foreign keys.
 */
static const char schema_v1[] =
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	/* SHA-256 of the bearer token; NULL for channel conversations. */
	" token_hash BLOB UNIQUE CHECK (token_hash IS NULL OR"
	"  length(token_hash) = 32),"
	" created INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" expires INTEGER,"
	" anonymous INTEGER NOT NULL DEFAULT 1,"
	/* A channel conversation is found by account and peer (or group). */
	" account TEXT,"
	" peer TEXT,"
	" UNIQUE (account, peer));"

	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id)"
	"  ON DELETE CASCADE,"
	" client_msg_id TEXT,"
	" account TEXT,"
	" channel_msg_id TEXT,"
	" sender TEXT,"
	" text TEXT NOT NULL,"
	" state INTEGER NOT NULL CHECK (state IN (1, 2, 3)),"
	" reply TEXT,"
	" created INTEGER NOT NULL,"
	" answered INTEGER,"
	" CHECK ((state = 3) = (reply IS NOT NULL)),"
	" UNIQUE (session_id, client_msg_id),"
	" UNIQUE (account, channel_msg_id));"
	/* History reads answered turns of one session by id. */
	"CREATE INDEX messages_history ON messages (session_id, state, id);"
	/* Restart recovery scans only what is unanswered. */
	"CREATE INDEX messages_pending ON messages (id) WHERE state < 3;"

	/* One row per outbound chunk, deleted on delivery.ack. */
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" msg_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,"
	" seq INTEGER NOT NULL DEFAULT 0,"
	" body TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL);"
	"CREATE INDEX outbox_due ON outbox (account, next_try);"

	/* Like sessions, only the hash of a share token is kept. */
	"CREATE TABLE share_links ("
	" id INTEGER PRIMARY KEY,"
	" token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	" session_id INTEGER NOT NULL REFERENCES sessions(id)"
	"  ON DELETE CASCADE,"
	" mode TEXT NOT NULL CHECK (mode IN ('read', 'continue')),"
	" created INTEGER NOT NULL,"
	" expires INTEGER,"
	" revoked INTEGER);"

	/* A one-time code for an unknown sender, awaiting the operator. */
	"CREATE TABLE pairings ("
	" id INTEGER PRIMARY KEY,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" code TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" UNIQUE (account, peer));"

	/* Senders known per account and whether the DM policy admits them. */
	"CREATE TABLE peers ("
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" display TEXT,"
	" allowed INTEGER NOT NULL DEFAULT 0,"
	" approved INTEGER,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" PRIMARY KEY (account, peer)) WITHOUT ROWID;"

	/* Per-account channel state: long-poll cursors, refreshed tokens. */
	"CREATE TABLE kv ("
	" account TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" value BLOB,"
	" updated INTEGER NOT NULL,"
	" PRIMARY KEY (account, key)) WITHOUT ROWID;"

	"CREATE TABLE schedules ("
	" id INTEGER PRIMARY KEY,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" spec TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" next_run INTEGER NOT NULL,"
	" enabled INTEGER NOT NULL DEFAULT 1,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX schedules_due ON schedules (next_run) WHERE enabled;"

	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" role TEXT NOT NULL,"
	" worker TEXT,"
	" session INTEGER,"
	" method TEXT,"
	" detail TEXT);"
	"CREATE INDEX audit_time ON audit (time);";

/*
 * Version 2.
 * - A share link without a session of its own ("visitor" mode) gives
 *   every visitor a fresh session, tied to the link by sessions.share_id
 *   so that revoking the link ends them and session.resume (the plain
 *   page) cannot reach them.  SQLite cannot relax a NOT NULL or a CHECK
 *   in place, hence the copy.
 * - messages.reply_ctx and outbox.reply_ctx: the platform's opaque reply
 *   token (iLink's context_token) that the answer to a channel message
 *   must carry: kept with the message until it is answered, then with
 *   each outbound chunk (notices have no message row).
 * - outbox ids never repeat and key_gen counts sure refusals: the two
 *   make a row's send key (supervisor/channel.c).
 */
static const char schema_v2[] =
	"CREATE TABLE share_links_v2 ("
	" id INTEGER PRIMARY KEY,"
	" token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	/* NULL: a fresh session per visitor (mode 'visitor'). */
	" session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,"
	" mode TEXT NOT NULL CHECK (mode IN ('read', 'continue', 'visitor')"
	"  AND (session_id IS NULL) = (mode = 'visitor')),"
	" created INTEGER NOT NULL,"
	" expires INTEGER,"
	" revoked INTEGER);"
	"INSERT INTO share_links_v2 SELECT id, token_hash, session_id, mode,"
	" created, expires, revoked FROM share_links;"
	"DROP TABLE share_links;"
	"ALTER TABLE share_links_v2 RENAME TO share_links;"
	"ALTER TABLE sessions ADD COLUMN share_id INTEGER"
	" REFERENCES share_links(id) ON DELETE CASCADE;"
	"CREATE INDEX sessions_share ON sessions (share_id)"
	" WHERE share_id IS NOT NULL;"
	"ALTER TABLE messages ADD COLUMN reply_ctx TEXT;"
	/*
	 * An outbox id is part of the row's send key (the platform's
	 * idempotency key): AUTOINCREMENT, so an id is never reused after
	 * its row is delivered and deleted.
	 */
	"CREATE TABLE outbox_v2 ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" msg_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,"
	" seq INTEGER NOT NULL DEFAULT 0,"
	" body TEXT NOT NULL,"
	" reply_ctx TEXT,"
	" created INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	/* Bumped when the platform surely refused a row: a new send key. */
	" key_gen INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL);"
	"INSERT INTO outbox_v2 (id, account, peer, msg_id, seq, body, created,"
	" attempts, next_try) SELECT id, account, peer, msg_id, seq, body,"
	" created, attempts, next_try FROM outbox;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v2 RENAME TO outbox;"
	"CREATE INDEX outbox_due ON outbox (account, next_try);";

/*
 * Version 3: admission and deadlines.  A message that ends without a
 * reply keeps why in `error` ("timeout"): answered (state 3) when it is
 * final, or accepted (state 1) when the web chat client was told and a
 * resend may try again.  State 1 with no error is the durable backlog
 * the agents are fed from, oldest first, per account (NULL: web chat).
 */
static const char schema_v3[] =
	"ALTER TABLE messages ADD COLUMN error TEXT;"
	/* Only unanswered rows: the index stays as small as the backlog. */
	"CREATE INDEX messages_backlog ON messages (account, state, id)"
	" WHERE state < 3;";

/*
 * Version 4: delivery states.  An outbox row is no longer deleted when
 * it is delivered: it ends sent, failed or undeliverable (with why in
 * detail) and stays for the operator until pruned by age and count.
 * Only queued rows are work, so the due index covers those alone; the
 * parts of one reply go one at a time, oldest first (outbox_peer).
 */
static const char schema_v4[] =
	"ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'queued'"
	" CHECK (state IN ('queued', 'sent', 'failed', 'undeliverable'));"
	"ALTER TABLE outbox ADD COLUMN detail TEXT;"
	"ALTER TABLE outbox ADD COLUMN finished INTEGER;"
	"DROP INDEX outbox_due;"
	"CREATE INDEX outbox_due ON outbox (account, next_try)"
	" WHERE state = 'queued';"
	"CREATE INDEX outbox_finished ON outbox (finished)"
	" WHERE state <> 'queued';"
	/* A reply's earlier parts still queued: the next waits (in order). */
	"CREATE INDEX outbox_peer ON outbox (account, peer, id)"
	" WHERE state = 'queued';"
	/* A peer's newest reply context (channel kinds with KC_LATEST_CTX). */
	"CREATE INDEX messages_sender_ctx ON messages (account, sender, id)"
	" WHERE reply_ctx <> '';";

/*
 * Version 5: schedules (issue #15).  Version 1's schedules table was
 * never written to: it is replaced.
 * - A schedule is a definition and its position: the last slot it ran
 *   (or its creation) and the next it will; the hub's timer reads only
 *   next_run.  from_config: declared in the file, read-only from the CLI.
 * - A run row is the run's lock: (schedule, slot) is unique for timed
 *   runs, and it is written in the turn that queues the run's work (its
 *   agent prompt as a message, or its text as outbox rows), so a crash
 *   either did all of it or none.  A run keeps its name: history
 *   outlives a removed schedule.
 * - run_targets: one row per target of a run, its delivery state
 *   settled from its outbox rows (outbox.run_id), so the history keeps
 *   the outcome after the outbox has pruned them.
 * - outbox.hold_until: a row to a peer the platform will not let the
 *   bot write to first (iLink) waits for that peer's next message; it
 *   ends undeliverable if none comes by then.
 */
static const char schema_v5[] =
	"DROP INDEX schedules_due;"
	"DROP TABLE schedules;"
	"CREATE TABLE schedules ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	/* Exactly one of cron and every. */
	" cron TEXT,"
	" every TEXT,"
	" tz TEXT NOT NULL,"
	/* NULL: body is the text; otherwise the prompt to this agent. */
	" agent TEXT,"
	" body TEXT NOT NULL,"
	/* "channel:target" per line. */
	" targets TEXT NOT NULL,"
	" hold INTEGER NOT NULL DEFAULT 0,"
	" catch_up TEXT NOT NULL CHECK (catch_up IN ('latest', 'none')),"
	" paused INTEGER NOT NULL DEFAULT 0,"
	" from_config INTEGER NOT NULL DEFAULT 0,"
	" last_slot INTEGER NOT NULL,"
	/* NULL: never again (an expression that matches no date). */
	" next_run INTEGER,"
	" created INTEGER NOT NULL,"
	" CHECK ((cron IS NULL) <> (every IS NULL)));"
	"CREATE INDEX schedules_due ON schedules (next_run)"
	" WHERE paused = 0 AND next_run IS NOT NULL;"

	"CREATE TABLE schedule_runs ("
	" id INTEGER PRIMARY KEY,"
	" schedule_id INTEGER REFERENCES schedules(id) ON DELETE SET NULL,"
	" name TEXT NOT NULL,"
	" slot INTEGER NOT NULL,"
	" manual INTEGER NOT NULL DEFAULT 0,"
	" started INTEGER NOT NULL,"
	/* The agent's prompt, answered when the agent is done. */
	" msg_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,"
	" agent_done INTEGER,"
	" state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),"
	" error TEXT,"
	" finished INTEGER);"
	"CREATE UNIQUE INDEX schedule_runs_slot ON schedule_runs"
	" (schedule_id, slot) WHERE manual = 0;"
	"CREATE INDEX schedule_runs_name ON schedule_runs (name, id);"
	"CREATE INDEX schedule_runs_msg ON schedule_runs (msg_id)"
	" WHERE msg_id IS NOT NULL;"
	"CREATE INDEX schedule_runs_running ON schedule_runs (id)"
	" WHERE state = 'running';"

	"CREATE TABLE run_targets ("
	" run_id INTEGER NOT NULL REFERENCES schedule_runs(id)"
	"  ON DELETE CASCADE,"
	" seq INTEGER NOT NULL,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed',"
	"  'undeliverable')),"
	" detail TEXT,"
	" PRIMARY KEY (run_id, seq));"
	"CREATE INDEX run_targets_queued ON run_targets (run_id)"
	" WHERE state = 'queued';"

	"ALTER TABLE outbox ADD COLUMN run_id INTEGER;"
	"ALTER TABLE outbox ADD COLUMN hold_until INTEGER;"
	"CREATE INDEX outbox_run ON outbox (run_id) WHERE run_id IS NOT NULL;"
	"CREATE INDEX outbox_held ON outbox (account, peer)"
	" WHERE hold_until IS NOT NULL AND state = 'queued';";

/*
 * Version 6: attachments (wxgatectl send --file).  The bytes live in the
 * store, not in a file beside it, so a queued attachment is as durable
 * as its outbox row and goes with the same commit.  An outbox row with
 * an attachment has the file's name as its body.  A row's attachment
 * loses its bytes when the row ends (data X'') and goes when the outbox
 * prunes the last row naming it.
 */
static const char schema_v6[] =
	"CREATE TABLE attachments ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('file', 'image')),"
	" size INTEGER NOT NULL,"
	" sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
	" data BLOB NOT NULL,"
	" created INTEGER NOT NULL);"
	"ALTER TABLE outbox ADD COLUMN attachment_id INTEGER"
	" REFERENCES attachments(id);"
	"CREATE INDEX outbox_attachment ON outbox (attachment_id)"
	" WHERE attachment_id IS NOT NULL;";

/*
 * Version 7: the media area (store_media.c), attachments people sent
 * to channel accounts, each with the message it came in and gone with
 * it.  Not the attachments table: that one is the outbox's, and its
 * kinds are what a worker can send.
 */
static const char schema_v7[] =
	"CREATE TABLE media ("
	" id INTEGER PRIMARY KEY,"
	" account TEXT NOT NULL,"
	" msg_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('image', 'file', 'voice',"
	"  'video')),"
	" name TEXT NOT NULL,"
	" size INTEGER NOT NULL CHECK (size > 0),"
	" sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
	" data BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" UNIQUE (msg_id, seq));"
	"CREATE INDEX media_created ON media (created);";

/*
 * Version 8: chat commands (command.c).  A session's agent context
 * starts after context_from (/new); a command's message and answer are
 * kept for the person's history but never given to the agent; model is
 * what /model picked (NULL: the agent's default).
 */
static const char schema_v8[] =
	"ALTER TABLE sessions ADD COLUMN context_from INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN command INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN model TEXT;";

/*
 * Version 9: the pairing tokens of relay agents (store_relay.c), one
 * agent each.  Only the token's SHA-256 is kept, as for session tokens
 * and share links; a revoked row stays so `relay token list` shows it.
 */
static const char schema_v9[] =
	"CREATE TABLE relay_tokens ("
	" id INTEGER PRIMARY KEY,"
	" agent TEXT NOT NULL,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" created INTEGER NOT NULL,"
	" last_used INTEGER,"
	" revoked INTEGER);";

/*
 * Version 10: self-service binding (store_bind.c).
 * - An invitation keeps only the SHA-256 of its token, as share links
 *   do; uses_left counts down as bindings complete, used counts up.
 * - accounts: channel accounts made at run time (not in the file),
 *   pending while their QR login runs, active once someone scanned it;
 *   owner is that person.  The name is the account's everywhere else
 *   (kv, peers, sessions, outbox), and deleting one deletes those.
 */
static const char schema_v10[] =
	"CREATE TABLE invitations ("
	" id INTEGER PRIMARY KEY,"
	" token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	" template TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" uses_left INTEGER NOT NULL CHECK (uses_left >= 0),"
	" used INTEGER NOT NULL DEFAULT 0,"
	" revoked INTEGER);"
	"CREATE TABLE accounts ("
	" name TEXT PRIMARY KEY,"
	" kind TEXT NOT NULL CHECK (kind IN ('wechat')),"
	" template TEXT NOT NULL,"
	" invitation INTEGER REFERENCES invitations(id) ON DELETE SET NULL,"
	" owner TEXT,"
	" created INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending', 'active'))"
	"  DEFAULT 'pending',"
	" CHECK ((state = 'active') = (owner IS NOT NULL))) WITHOUT ROWID;";

/*
 * Version 11: the operator console (store_console.c).  A login link
 * and a session are each kept as the SHA-256 of their secret only; a
 * link row is deleted as it is used, so it works once.
 */
static const char schema_v11[] =
	"CREATE TABLE console_links ("
	" id INTEGER PRIMARY KEY,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" operator TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE TABLE console_sessions ("
	" id INTEGER PRIMARY KEY,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" operator TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL);";

/*
 * Version 12: accounts an operator paused (store_pause.c), kept so a
 * paused account stays so across a restart.
 */
static const char schema_v12[] =
	"CREATE TABLE account_pauses ("
	" account TEXT PRIMARY KEY,"
	" operator TEXT,"
	" paused INTEGER NOT NULL);";

/*
 * Version 13: the console's Chat page (store_cchat.c).  A thread is a
 * session of its own (no token, no account: nothing sweeps it, nobody
 * else can open it) holding its messages as any chat's, so history,
 * /new, /model and the agent's context work as they do elsewhere; the
 * row says which agent it talks to, who opened it and the message of
 * another thread it branched from (the branch holds copies of the
 * messages up to there).
 */
static const char schema_v13[] =
	"CREATE TABLE console_threads ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL UNIQUE REFERENCES sessions(id)"
	"  ON DELETE CASCADE,"
	" agent TEXT NOT NULL,"
	" operator TEXT NOT NULL,"
	" parent_id INTEGER REFERENCES console_threads(id)"
	"  ON DELETE SET NULL,"
	" parent_msg INTEGER,"
	" created INTEGER NOT NULL);";

/*
 * Version 14: end-to-end encrypted console threads (docs/e2e.md).  Each
 * operator's data key, wrapped under their passphrase (the server cannot
 * unwrap it); a thread says whether it is sealed; a sealed message's
 * number in its thread, which its associated data binds, so the server
 * can neither reorder nor move it unnoticed.
 */
static const char schema_v14[] =
	"CREATE TABLE e2e_keys ("
	" owner TEXT PRIMARY KEY,"
	" record TEXT NOT NULL,"
	" updated INTEGER NOT NULL);"
	"ALTER TABLE console_threads ADD COLUMN e2e INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN seq INTEGER;";

/*
 * Version 15: sealed schedules (docs/e2e.md).  The operator who made
 * one, whose key seals its prompt (body, an envelope) and its runs'
 * answers; a sealed schedule has no targets.
 */
static const char schema_v15[] =
	"ALTER TABLE schedules ADD COLUMN owner TEXT;"
	"ALTER TABLE schedules ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;";

/*
 * Version 16: indexes that the queries and the foreign keys assumed.
 * With foreign_keys on, deleting a message (a web chat session's, by
 * the expiry sweep's cascade) looks its id up in outbox.msg_id, and
 * deleting a session in share_links.session_id: without an index each
 * walked the whole table, per row deleted.  outbox.msg_id serves the
 * console's delivery column (store_conv.c) and a reply's parts too; a
 * peer's outbox rows by time, whatever their state, serve
 * store_outbox_turn before every block of a streamed reply, which
 * walked the whole outbox (up to CH_KEEP_ROWS finished rows and every
 * queued one).  The two small tables' keys are indexed alike.
 */
static const char schema_v16[] =
	"CREATE INDEX outbox_msg ON outbox (msg_id);"
	"CREATE INDEX outbox_peer_created ON outbox (account, peer, created);"
	"CREATE INDEX share_links_session ON share_links (session_id);"
	"CREATE INDEX console_threads_parent ON console_threads (parent_id);"
	"CREATE INDEX accounts_invitation ON accounts (invitation);";

/*
 * Version 17: kv.value is text.  Every value stored was (store_kv_put
 * binds a C string), but the column said BLOB, which SQLite lets hold
 * anything while PostgreSQL reads BLOB as bytea: shipped there, a
 * cursor became bytes (schema.c, test_store_ship_pg).  The table is
 * made again with its rows, the only way SQLite changes a column's
 * type; the values are unchanged.
 */
static const char schema_v17[] =
	"CREATE TABLE kv_v17 ("
	" account TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" value TEXT,"
	" updated INTEGER NOT NULL,"
	" PRIMARY KEY (account, key)) WITHOUT ROWID;"
	"INSERT INTO kv_v17 (account, key, value, updated)"
	" SELECT account, key, value, updated FROM kv;"
	"DROP TABLE kv;"
	"ALTER TABLE kv_v17 RENAME TO kv;";

/* In version order; the last entry is STORE_SCHEMA_VERSION. */
static const struct store_migration store_migrations[] = {
	{ 1,	schema_v1 },
	{ 2,	schema_v2 },
	{ 3,	schema_v3 },
	{ 4,	schema_v4 },
	{ 5,	schema_v5 },
	{ 6,	schema_v6 },
	{ 7,	schema_v7 },
	{ 8,	schema_v8 },
	{ 9,	schema_v9 },
	{ 10,	schema_v10 },
	{ 11,	schema_v11 },
	{ 12,	schema_v12 },
	{ 13,	schema_v13 },
	{ 14,	schema_v14 },
	{ 15,	schema_v15 },
	{ 16,	schema_v16 },
	{ 17,	schema_v17 },
};

#define NMIGRATIONS	(sizeof(store_migrations) / sizeof(store_migrations[0]))

static int	migrate_exec(sqlite3 *, const char *, char *, size_t);

int
store_user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc, v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(db));
		return -1;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		log_warnx("%s: %s", __func__, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

static int
migrate_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (errlen > 0)
		snprintf(err, errlen, "migration: %s",
		    msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * The steps after SCHEMA_BASE (schema.c), written once for both
 * backends, that db at version v has not had, up to target.
 */
static int
migrate_steps(sqlite3 *db, int v, int target, char *err, size_t errlen)
{
	const struct schema_step *st;
	char pragma[64], *sql;
	unsigned n, i;
	int rc;

	st = schema_steps(&n);
	for (i = 0; i < n; i++) {
		if (st[i].version <= v || st[i].version > target)
			continue;
		sql = schema_render(SCHEMA_SQLITE, st[i].sql);
		rc = migrate_exec(db, sql, err, errlen);
		free(sql);
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    st[i].version);
		if (rc == -1 || migrate_exec(db, pragma, err, errlen) == -1)
			return -1;
		log_info("store_migrate: schema version %d", st[i].version);
	}
	return 0;
}

/* 1 when db holds no table: a store made now, not one to upgrade. */
static int
migrate_empty(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1,
	    &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n == 0;
}

/*
 * A new store is made at the latest version from the one description
 * (schema.c), which test_schema holds equal to what the migrations
 * leave: no tables made to be rebuilt a few steps later.  Called in
 * the migration's transaction, which it ends.
 */
static int
migrate_new(sqlite3 *db, char *err, size_t errlen)
{
	char *sql = schema_sql(SCHEMA_SQLITE), pragma[64];
	int rc;

	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
	    SCHEMA_BASE);
	rc = migrate_exec(db, sql, err, errlen);
	free(sql);
	if (rc == -1 || migrate_exec(db, pragma, err, errlen) == -1 ||
	    migrate_steps(db, SCHEMA_BASE, STORE_SCHEMA_VERSION, err,
	    errlen) == -1 ||
	    migrate_exec(db, "COMMIT", err, errlen) == -1) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/* Named as the steps are: operators grep it. */
	log_info("store_migrate: schema version %d (a new store)",
	    STORE_SCHEMA_VERSION);
	return 0;
}

int
store_schema_check(sqlite3 *db, char *err, size_t errlen)
{
	int v;

	if ((v = store_user_version(db)) == -1) {
		if (errlen > 0)
			snprintf(err, errlen, "cannot read schema version: %s",
			    sqlite3_errmsg(db));
		return -1;
	}
	if (v > STORE_SCHEMA_VERSION) {
		if (errlen > 0)
			snprintf(err, errlen, "database schema version %d is "
			    "newer than this wxgated supports (%d); refusing "
			    "to open", v, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

int
store_migrate(sqlite3 *db, char *err, size_t errlen)
{
	return store_migrate_to(db, STORE_SCHEMA_VERSION, err, errlen);
}

int
store_migrate_to(sqlite3 *db, int target, char *err, size_t errlen)
{
	/* "PRAGMA user_version = " and an int. */
	char pragma[64];
	size_t i;
	int v = -1;

	if (store_schema_check(db, err, errlen) == -1)
		return -1;
	if (store_user_version(db) >= target)
		return 0;

	/*
	 * IMMEDIATE takes the write lock before the version is read again,
	 * so two openers cannot both run the same migration.
	 */
	if (migrate_exec(db, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	if (store_schema_check(db, err, errlen) == -1 ||
	    (v = store_user_version(db)) == -1) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (v == 0 && target == STORE_SCHEMA_VERSION && migrate_empty(db))
		return migrate_new(db, err, errlen);
	for (i = 0; i < NMIGRATIONS; i++) {
		if (store_migrations[i].version <= v ||
		    store_migrations[i].version > target)
			continue;
		if (migrate_exec(db, store_migrations[i].sql, err,
		    errlen) == -1)
			goto fail;
		/*
		 * A PRAGMA takes no bound parameters; the number comes from
		 * the table above, never from the database or a peer.
		 */
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    store_migrations[i].version);
		if (migrate_exec(db, pragma, err, errlen) == -1)
			goto fail;
		/* Named as before store_migrate_to() was: operators grep it. */
		log_info("store_migrate: schema version %d",
		    store_migrations[i].version);
	}
	if (migrate_steps(db, v, target, err, errlen) == -1)
		goto fail;
	if (migrate_exec(db, "COMMIT", err, errlen) == -1)
		goto fail;
	return 0;

 fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
