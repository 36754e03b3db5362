/*
 * The store's schema at SCHEMA_BASE, written once (schema.h).  The text
 * is SQL both backends read alike, with a few words that each says its
 * own way:
 *
 *   @ID      a row id that new rows get by themselves
 *   @SEQID   the same, never handed out twice (SQLite's AUTOINCREMENT;
 *            PostgreSQL's identity never reuses one)
 *   @INT     a 64-bit integer (times, ids, counts, 0/1 flags)
 *   @BLOB    bytes
 *   @NOROWID SQLite's WITHOUT ROWID, for tables keyed by text
 *   @FK(..)  a reference to a table made later: inline for SQLite, which
 *            resolves it when used; PostgreSQL adds it in an @PG step
 *   @DEFER   after a reference: PostgreSQL checks it at commit (its
 *            cascades still act at once), since a turn shipped from
 *            SQLite comes ordered by table, not by time (pgapply.h)
 *   @PG ..;  a statement for PostgreSQL only
 *
 * Columns are in the order SQLite's migrations left them, so that
 * test_schema can hold the two to each other.  Times are Unix seconds.
 * store_migrate.c says why each column and index exists.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "schema.h"
#include "xmalloc.h"

static const char schema_base[] =
	"CREATE TABLE sessions ("
	" id @ID,"
	" token_hash @BLOB UNIQUE CHECK (token_hash IS NULL OR"
	" length(token_hash) = 32),"
	" created @INT NOT NULL,"
	" last_seen @INT NOT NULL,"
	" expires @INT,"
	" anonymous @INT NOT NULL DEFAULT 1,"
	" account TEXT,"
	" peer TEXT,"
	" share_id @INT @FK(share_links(id) ON DELETE CASCADE),"
	" context_from @INT NOT NULL DEFAULT 0,"
	" model TEXT,"
	" UNIQUE (account, peer));"

	"CREATE TABLE messages ("
	" id @ID,"
	" session_id @INT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE"
	" @DEFER,"
	" client_msg_id TEXT,"
	" account TEXT,"
	" channel_msg_id TEXT,"
	" sender TEXT,"
	" text TEXT NOT NULL,"
	" state @INT NOT NULL CHECK (state IN (1, 2, 3)),"
	" reply TEXT,"
	" created @INT NOT NULL,"
	" answered @INT,"
	" reply_ctx TEXT,"
	" error TEXT,"
	" command @INT NOT NULL DEFAULT 0,"
	" seq @INT,"
	" CHECK ((state = 3) = (reply IS NOT NULL)),"
	" UNIQUE (session_id, client_msg_id),"
	" UNIQUE (account, channel_msg_id));"
	"CREATE INDEX messages_history ON messages (session_id, state, id);"
	"CREATE INDEX messages_pending ON messages (id) WHERE state < 3;"
	"CREATE INDEX messages_backlog ON messages (account, state, id)"
	" WHERE state < 3;"
	"CREATE INDEX messages_sender_ctx ON messages (account, sender, id)"
	" WHERE reply_ctx <> '';"

	"CREATE TABLE pairings ("
	" id @ID,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" code TEXT NOT NULL UNIQUE,"
	" created @INT NOT NULL,"
	" expires @INT NOT NULL,"
	" UNIQUE (account, peer));"

	"CREATE TABLE peers ("
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" display TEXT,"
	" allowed @INT NOT NULL DEFAULT 0,"
	" approved @INT,"
	" first_seen @INT NOT NULL,"
	" last_seen @INT NOT NULL,"
	" PRIMARY KEY (account, peer))@NOROWID;"

	"CREATE TABLE kv ("
	" account TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" value TEXT,"
	" updated @INT NOT NULL,"
	" PRIMARY KEY (account, key))@NOROWID;"

	"CREATE TABLE audit ("
	" id @ID,"
	" time @INT NOT NULL,"
	" role TEXT NOT NULL,"
	" worker TEXT,"
	" session @INT,"
	" method TEXT,"
	" detail TEXT);"
	"CREATE INDEX audit_time ON audit (time);"

	"CREATE TABLE share_links ("
	" id @ID,"
	" token_hash @BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	" session_id @INT REFERENCES sessions(id) ON DELETE CASCADE @DEFER,"
	" mode TEXT NOT NULL CHECK (mode IN ('read', 'continue', 'visitor')"
	" AND (session_id IS NULL) = (mode = 'visitor')),"
	" created @INT NOT NULL,"
	" expires @INT,"
	" revoked @INT);"
	"@PG ALTER TABLE sessions ADD FOREIGN KEY (share_id)"
	" REFERENCES share_links(id) ON DELETE CASCADE @DEFER;"
	"CREATE INDEX sessions_share ON sessions (share_id)"
	" WHERE share_id IS NOT NULL;"
	"CREATE INDEX share_links_session ON share_links (session_id);"

	"CREATE TABLE attachments ("
	" id @ID,"
	" name TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('file', 'image')),"
	" size @INT NOT NULL,"
	" sha256 @BLOB NOT NULL CHECK (length(sha256) = 32),"
	" data @BLOB NOT NULL,"
	" created @INT NOT NULL);"

	"CREATE TABLE schedules ("
	" id @ID,"
	" name TEXT NOT NULL UNIQUE,"
	" cron TEXT,"
	" every TEXT,"
	" tz TEXT NOT NULL,"
	" agent TEXT,"
	" body TEXT NOT NULL,"
	" targets TEXT NOT NULL,"
	" hold @INT NOT NULL DEFAULT 0,"
	" catch_up TEXT NOT NULL CHECK (catch_up IN ('latest', 'none')),"
	" paused @INT NOT NULL DEFAULT 0,"
	" from_config @INT NOT NULL DEFAULT 0,"
	" last_slot @INT NOT NULL,"
	" next_run @INT,"
	" created @INT NOT NULL,"
	" owner TEXT,"
	" sealed @INT NOT NULL DEFAULT 0,"
	" CHECK ((cron IS NULL) <> (every IS NULL)));"
	"CREATE INDEX schedules_due ON schedules (next_run)"
	" WHERE paused = 0 AND next_run IS NOT NULL;"

	"CREATE TABLE schedule_runs ("
	" id @ID,"
	" schedule_id @INT REFERENCES schedules(id) ON DELETE SET NULL"
	" @DEFER,"
	" name TEXT NOT NULL,"
	" slot @INT NOT NULL,"
	" manual @INT NOT NULL DEFAULT 0,"
	" started @INT NOT NULL,"
	" msg_id @INT REFERENCES messages(id) ON DELETE SET NULL @DEFER,"
	" agent_done @INT,"
	" state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),"
	" error TEXT,"
	" finished @INT);"
	"CREATE UNIQUE INDEX schedule_runs_slot ON schedule_runs"
	" (schedule_id, slot) WHERE manual = 0;"
	"CREATE INDEX schedule_runs_name ON schedule_runs (name, id);"
	"CREATE INDEX schedule_runs_msg ON schedule_runs (msg_id)"
	" WHERE msg_id IS NOT NULL;"
	"CREATE INDEX schedule_runs_running ON schedule_runs (id)"
	" WHERE state = 'running';"

	"CREATE TABLE run_targets ("
	" run_id @INT NOT NULL REFERENCES schedule_runs(id) ON DELETE CASCADE"
	" @DEFER,"
	" seq @INT NOT NULL,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed',"
	" 'undeliverable')),"
	" detail TEXT,"
	" PRIMARY KEY (run_id, seq));"
	"CREATE INDEX run_targets_queued ON run_targets (run_id)"
	" WHERE state = 'queued';"

	"CREATE TABLE outbox ("
	" id @SEQID,"
	" account TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" msg_id @INT REFERENCES messages(id) ON DELETE SET NULL @DEFER,"
	" seq @INT NOT NULL DEFAULT 0,"
	" body TEXT NOT NULL,"
	" reply_ctx TEXT,"
	" created @INT NOT NULL,"
	" attempts @INT NOT NULL DEFAULT 0,"
	" key_gen @INT NOT NULL DEFAULT 0,"
	" next_try @INT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',"
	" 'sent', 'failed', 'undeliverable')),"
	" detail TEXT,"
	" finished @INT,"
	" run_id @INT,"
	" hold_until @INT,"
	" attachment_id @INT REFERENCES attachments(id) @DEFER);"
	"CREATE INDEX outbox_due ON outbox (account, next_try)"
	" WHERE state = 'queued';"
	"CREATE INDEX outbox_finished ON outbox (finished)"
	" WHERE state <> 'queued';"
	"CREATE INDEX outbox_peer ON outbox (account, peer, id)"
	" WHERE state = 'queued';"
	"CREATE INDEX outbox_run ON outbox (run_id) WHERE run_id IS NOT NULL;"
	"CREATE INDEX outbox_held ON outbox (account, peer)"
	" WHERE hold_until IS NOT NULL AND state = 'queued';"
	"CREATE INDEX outbox_attachment ON outbox (attachment_id)"
	" WHERE attachment_id IS NOT NULL;"
	"CREATE INDEX outbox_msg ON outbox (msg_id);"
	"CREATE INDEX outbox_peer_created ON outbox (account, peer, created);"

	"CREATE TABLE media ("
	" id @ID,"
	" account TEXT NOT NULL,"
	" msg_id @INT NOT NULL REFERENCES messages(id) ON DELETE CASCADE"
	" @DEFER,"
	" seq @INT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('image', 'file', 'voice',"
	" 'video')),"
	" name TEXT NOT NULL,"
	" size @INT NOT NULL CHECK (size > 0),"
	" sha256 @BLOB NOT NULL CHECK (length(sha256) = 32),"
	" data @BLOB NOT NULL,"
	" created @INT NOT NULL,"
	" UNIQUE (msg_id, seq));"
	"CREATE INDEX media_created ON media (created);"

	"CREATE TABLE relay_tokens ("
	" id @ID,"
	" agent TEXT NOT NULL,"
	" hash @BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" created @INT NOT NULL,"
	" last_used @INT,"
	" revoked @INT);"

	"CREATE TABLE invitations ("
	" id @ID,"
	" token_hash @BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	" template TEXT NOT NULL,"
	" created @INT NOT NULL,"
	" expires @INT NOT NULL,"
	" uses_left @INT NOT NULL CHECK (uses_left >= 0),"
	" used @INT NOT NULL DEFAULT 0,"
	" revoked @INT);"

	"CREATE TABLE accounts ("
	" name TEXT PRIMARY KEY,"
	" kind TEXT NOT NULL CHECK (kind IN ('wechat')),"
	" template TEXT NOT NULL,"
	" invitation @INT REFERENCES invitations(id) ON DELETE SET NULL"
	" @DEFER,"
	" owner TEXT,"
	" created @INT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending', 'active'))"
	" DEFAULT 'pending',"
	" CHECK ((state = 'active') = (owner IS NOT NULL)))@NOROWID;"
	"CREATE INDEX accounts_invitation ON accounts (invitation);"

	"CREATE TABLE console_links ("
	" id @ID,"
	" hash @BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" operator TEXT NOT NULL,"
	" created @INT NOT NULL,"
	" expires @INT NOT NULL);"

	"CREATE TABLE console_sessions ("
	" id @ID,"
	" hash @BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" operator TEXT NOT NULL,"
	" created @INT NOT NULL,"
	" last_seen @INT NOT NULL);"

	"CREATE TABLE account_pauses ("
	" account TEXT PRIMARY KEY,"
	" operator TEXT,"
	" paused @INT NOT NULL);"

	"CREATE TABLE console_threads ("
	" id @ID,"
	" session_id @INT NOT NULL UNIQUE REFERENCES sessions(id)"
	" ON DELETE CASCADE @DEFER,"
	" agent TEXT NOT NULL,"
	" operator TEXT NOT NULL,"
	" parent_id @INT REFERENCES console_threads(id) ON DELETE SET NULL"
	" @DEFER,"
	" parent_msg @INT,"
	" created @INT NOT NULL,"
	" e2e @INT NOT NULL DEFAULT 0);"
	"CREATE INDEX console_threads_parent ON console_threads (parent_id);"

	"CREATE TABLE e2e_keys ("
	" owner TEXT PRIMARY KEY,"
	" record TEXT NOT NULL,"
	" updated @INT NOT NULL);"

	/* Row ids: each nextval is the first of a node's block (pgids.c). */
	"@PG CREATE SEQUENCE row_ids INCREMENT BY " SCHEMA_ID_BLOCK_S ";";

struct schema_word {
	const char	*word;
	const char	*say[2];	/* by enum schema_dialect */
};

static const struct schema_word schema_words[] = {
	{ "@SEQID", { "INTEGER PRIMARY KEY AUTOINCREMENT",
	    "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" } },
	{ "@ID", { "INTEGER PRIMARY KEY",
	    "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" } },
	{ "@INT", { "INTEGER", "BIGINT" } },
	{ "@BLOB", { "BLOB", "BYTEA" } },
	{ "@NOROWID", { " WITHOUT ROWID", "" } },
	{ "@DEFER", { "", "DEFERRABLE INITIALLY DEFERRED" } },
};

/* The ")" closing the "(" at s[-1], or NULL. */
static const char *
schema_close(const char *s)
{
	int depth = 1;

	for (; *s != '\0'; s++) {
		if (*s == '(')
			depth++;
		else if (*s == ')' && --depth == 0)
			return s;
	}
	return NULL;
}

/*
 * The versions after SCHEMA_BASE, each written once in the
 * description's words, run by both backends (store_migrate.c,
 * pgsetup.c) in order; the list ends at its sentinel.
 *
 * 18: outbox.ctx_msg, the message whose reply context the row was last
 * handed to its worker with (a KC_LATEST_CTX kind's; NULL for the
 * rest), so that the rows a context carried are counted exactly
 * (store_channel.c OUTBOX_SPENT) across worker and hub restarts and a
 * takeover.  No foreign key: it only counts, and a message gone takes
 * nothing with it.  Its index finds the few rows of one context
 * before every lease instead of walking all the peer's rows.
 *
 * 19: messages_history by (session_id, id), without state.  With state
 * in its key, answering a message moved its entry, so every answer
 * wrote one more index page: 1.5 of the 10.6 WAL frames a web chat
 * round trip wrote (docs/architecture.md, "The history index").  Its
 * readers look a session's rows up by id, newest or oldest first (the
 * agent's context, chat.history, a console thread), and skip the
 * session's few unanswered rows as they read; a console thread's
 * messages, which want every state in id order, no longer sort.  It
 * replaces an index, so nodes of version 18 read and write as before.
 *
 * 20: no messages_pending.  It held the unanswered messages by id, as
 * messages_backlog holds them by account; SQLite planned every query
 * of store*.c (test_store_plans.py) on the backlog's, and each message
 * still went into both and out of both: 2 of the 9.1 WAL frames a web
 * chat round trip wrote.  A query for unanswered rows without an
 * account (PostgreSQL's, pgload.c) reads the backlog's whole partial
 * index, which holds only those rows.
 */
static const struct schema_step schema_step_list[] = {
	{ 18, "ALTER TABLE outbox ADD COLUMN ctx_msg @INT;"
	    "CREATE INDEX outbox_ctx ON outbox (ctx_msg)"
	    " WHERE ctx_msg IS NOT NULL;" },
	{ 19, "DROP INDEX messages_history;"
	    "CREATE INDEX messages_history ON messages (session_id, id);" },
	{ 20, "DROP INDEX messages_pending;" },
	{ 0, NULL }
};

const struct schema_step *
schema_steps(unsigned *n)
{
	*n = sizeof(schema_step_list) / sizeof(schema_step_list[0]) - 1;
	return schema_step_list;
}

char *
schema_sql(enum schema_dialect d)
{
	return schema_render(d, schema_base);
}

char *
schema_render(enum schema_dialect d, const char *text)
{
	size_t cap = strlen(text) * 2 + 64, len = 0, n, i;
	char *out = xmalloc(cap);
	const char *s = text, *end;

	while (*s != '\0') {
		const char *put = s;

		n = 1;
		if (*s == '@') {
			for (i = 0; i < sizeof(schema_words) /
			    sizeof(schema_words[0]); i++) {
				if (strncmp(s, schema_words[i].word,
				    strlen(schema_words[i].word)) == 0)
					break;
			}
			if (i < sizeof(schema_words) / sizeof(schema_words[0])) {
				put = schema_words[i].say[d];
				n = strlen(put);
				s += strlen(schema_words[i].word);
			} else if (strncmp(s, "@FK(", 4) == 0) {
				if ((end = schema_close(s + 4)) == NULL)
					fatalx("%s: @FK( unclosed", __func__);
				/* SQLite: "REFERENCES ..."; PostgreSQL: none */
				put = "REFERENCES ";
				n = d == SCHEMA_SQLITE ? strlen(put) : 0;
				if (len + n + (size_t)(end - s) + 1 > cap)
					out = xreallocarray(out, cap *= 2, 1);
				memcpy(out + len, put, n);
				len += n;
				if (d == SCHEMA_SQLITE) {
					memcpy(out + len, s + 4,
					    (size_t)(end - s - 4));
					len += (size_t)(end - s - 4);
				}
				s = end + 1;
				continue;
			} else if (strncmp(s, "@PG ", 4) == 0) {
				/* PostgreSQL reads on, its words said as
				 * ever; SQLite skips the statement. */
				if ((end = strchr(s, ';')) == NULL)
					fatalx("%s: @PG unended", __func__);
				s = d == SCHEMA_PG ? s + 4 : end + 1;
				continue;
			} else
				fatalx("%s: unknown word at %.12s", __func__, s);
		} else
			s++;
		if (len + n + 1 > cap)
			out = xreallocarray(out, cap *= 2, 1);
		memcpy(out + len, put, n);
		len += n;
	}
	out[len] = '\0';
	return out;
}
