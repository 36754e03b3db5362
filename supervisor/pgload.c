/*
 * Loads into the working set (pgload.h).  The statement is a UNION ALL
 * of one branch a table, each row as row_to_json: column names come
 * with the values, bigint as a JSON number, bytea as "\x.." text, NULL
 * as null.  The columns are taken in the working set's order
 * (store_absorb checks it), which is the description's in both
 * (test_schema_pg).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "pgload.h"
#include "pgpool.h"
#include "store.h"
#include "xmalloc.h"

#define PGLOAD_COLS_MAX	64

/*
 * An account: its conversations and what hangs off them, bounded in
 * time.  An account lives for years and its history stays in the
 * truth, where operators read it; a node needs only what it works on:
 * each conversation's newest PGLOAD_MSGS messages (an agent's history
 * is at most 100 of them, and a platform's replays of a message come
 * within minutes), every message not answered, every reply queued,
 * each person's newest PGLOAD_ENDED replies that ended (the replies
 * counted since their newest message, SC_OUTBOX_TURN, and those sent
 * on its context, OUTBOX_SPENT: 10 at most), and what those rows
 * refer to.
 *
 * And only of the people who wrote lately: a conversation is warm
 * when its person wrote within PGLOAD_WARM_S, or it has a message not
 * answered or a reply queued.  The others come cold, their session row
 * alone (and marked so, 'cold' rows: store_cold.c), and their history
 * is read when they write again (PGLOAD_CONV, hub_pg_warm.c).  Three
 * days is past the platforms' reply windows (wechat-ilink.md: 24 h,
 * 48 h at most seen), so a cold person's old replies count against no
 * budget.  What grows with the account is then one row per person who
 * ever wrote, and the history of those who write now.
 */
#define PGLOAD_MSGS	"256"
#define PGLOAD_ENDED	"64"
#define PGLOAD_WARM_S	"259200"
_Static_assert(MSG_ANSWERED == 3, "load_account's state < 3");
static const char load_account[] =
    "WITH s AS (SELECT id, peer, last_seen FROM sessions"
    " WHERE account = $1),"
    " w AS (SELECT id, peer FROM s WHERE last_seen >="
    " extract(epoch FROM now())::bigint - " PGLOAD_WARM_S
    " OR EXISTS (SELECT 1 FROM messages q WHERE q.session_id = s.id"
    " AND q.state < 3) OR EXISTS (SELECT 1 FROM outbox r"
    " WHERE r.account = $1 AND r.peer = s.peer AND r.state = 'queued')),"
    " o AS (SELECT id FROM (SELECT id, state, row_number() OVER"
    " (PARTITION BY peer ORDER BY id DESC) AS n FROM outbox"
    " WHERE account = $1 AND peer IN (SELECT peer FROM w)) x"
    " WHERE state = 'queued' OR n <= " PGLOAD_ENDED
    " UNION SELECT id FROM outbox WHERE account = $1"
    " AND state = 'queued'),"
    " m AS (SELECT id FROM (SELECT id, state, row_number() OVER"
    " (PARTITION BY session_id ORDER BY id DESC) AS n FROM messages"
    " WHERE session_id IN (SELECT id FROM w)) x"
    " WHERE n <= " PGLOAD_MSGS " OR state < 3"
    " UNION SELECT r.msg_id FROM outbox r JOIN messages q"
    " ON q.id = r.msg_id WHERE r.id IN (SELECT id FROM o)"
    " AND q.session_id IN (SELECT id FROM s))"
    " SELECT 'invitations', row_to_json(t)::text FROM invitations t"
    " WHERE id = (SELECT invitation FROM accounts WHERE name = $1)"
    " UNION ALL SELECT 'accounts', row_to_json(t)::text FROM accounts t"
    " WHERE name = $1"
    " UNION ALL SELECT 'sessions', row_to_json(t)::text FROM sessions t"
    " WHERE account = $1"
    " UNION ALL SELECT 'messages', row_to_json(t)::text FROM messages t"
    " WHERE id IN (SELECT id FROM m)"
    " UNION ALL SELECT 'attachments', row_to_json(t)::text FROM"
    " attachments t WHERE id IN (SELECT attachment_id FROM outbox"
    " WHERE id IN (SELECT id FROM o))"
    " UNION ALL SELECT 'outbox', row_to_json(t)::text FROM outbox t"
    " WHERE id IN (SELECT id FROM o)"
    " UNION ALL SELECT 'media', row_to_json(t)::text FROM media t"
    " WHERE account = $1 AND msg_id IN (SELECT id FROM m)"
    " UNION ALL SELECT 'peers', row_to_json(t)::text FROM peers t"
    " WHERE account = $1"
    " UNION ALL SELECT 'kv', row_to_json(t)::text FROM kv t"
    " WHERE account = $1"
    " UNION ALL SELECT 'pairings', row_to_json(t)::text FROM pairings t"
    " WHERE account = $1"
    " UNION ALL SELECT 'account_pauses', row_to_json(t)::text FROM"
    " account_pauses t WHERE account = $1"
    " UNION ALL SELECT 'cold', json_build_object('id', id, 'account', $1::text)::text"
    " FROM s"
    " WHERE id NOT IN (SELECT id FROM w)";

/*
 * What the node that runs schedules needs ("@schedules" taken): every
 * definition, run and target (runs are pruned: schedule.history_max),
 * the conversations prompts are asked in with their messages still to
 * answer and those runs name, and the outbox rows of runs not yet
 * settled for accounts other than $1's (this node's: its own are
 * newer here).
 */
static const char load_schedules[] =
    "SELECT 'schedules', row_to_json(t)::text FROM schedules t"
    " UNION ALL SELECT 'schedule_runs', row_to_json(t)::text FROM"
    " schedule_runs t"
    " UNION ALL SELECT 'run_targets', row_to_json(t)::text FROM"
    " run_targets t"
    " UNION ALL SELECT 'sessions', row_to_json(t)::text FROM sessions t"
    " WHERE left(account, 7) = '@sched:'"
    " UNION ALL SELECT 'messages', row_to_json(t)::text FROM messages t"
    " WHERE session_id IN (SELECT id FROM sessions"
    " WHERE left(account, 7) = '@sched:')"
    " AND (state < 3 OR id IN (SELECT msg_id FROM schedule_runs))"
    " UNION ALL SELECT 'outbox', row_to_json(t)::text FROM outbox t"
    " WHERE run_id IN (SELECT run_id FROM run_targets"
    " WHERE state = 'queued') AND account <> ALL($1::text[])";

/*
 * A web chat session: its link (a visitor's, or links to it), its
 * messages and their parts.  BY is the WHERE naming the session, LINKS
 * one more share link to read (a per-visitor link, whose row names no
 * session).
 */
#define LOAD_SESSION(by, links) \
    "WITH s AS (SELECT id, share_id FROM sessions WHERE " by ")" \
    " SELECT 'share_links', row_to_json(t)::text FROM share_links t" \
    " WHERE id IN (SELECT share_id FROM s)" \
    " OR session_id IN (SELECT id FROM s)" links \
    " UNION ALL SELECT 'sessions', row_to_json(t)::text FROM sessions t" \
    " WHERE id IN (SELECT id FROM s)" \
    " UNION ALL SELECT 'messages', row_to_json(t)::text FROM messages t" \
    " WHERE session_id IN (SELECT id FROM s)" \
    " UNION ALL SELECT 'media', row_to_json(t)::text FROM media t" \
    " WHERE msg_id IN (SELECT id FROM messages WHERE session_id IN" \
    " (SELECT id FROM s))"
static const char *const load_session[] = {
	[PGLOAD_ID] = LOAD_SESSION("id = $1::bigint", ""),
	[PGLOAD_TOKEN] = LOAD_SESSION("token_hash = decode($1, 'hex')", ""),
	/* The link's own session, or this visitor's of a visitor link. */
	[PGLOAD_SHARE] = LOAD_SESSION("id = (SELECT session_id FROM"
	    " share_links WHERE token_hash = decode($1, 'hex'))"
	    " OR (token_hash = decode($2, 'hex') AND share_id ="
	    " (SELECT id FROM share_links WHERE token_hash ="
	    " decode($1, 'hex')))", " OR token_hash = decode($1, 'hex')"),
	/* One message of a session here already, and its parts: what
	 * an awaited message's answer changed (router_await.c). */
	[PGLOAD_MSG] = "SELECT 'messages', row_to_json(t)::text FROM"
	    " messages t WHERE id = $1::bigint"
	    " UNION ALL SELECT 'media', row_to_json(t)::text FROM media t"
	    " WHERE msg_id = $1::bigint",
	/* A cold conversation's history, bounded as an account's is. */
	[PGLOAD_CONV] = "WITH m AS (SELECT id FROM (SELECT id, state,"
	    " row_number() OVER (ORDER BY id DESC) AS n FROM messages"
	    " WHERE session_id = $1::bigint) x"
	    " WHERE n <= " PGLOAD_MSGS " OR state < 3)"
	    " SELECT 'messages', row_to_json(t)::text FROM messages t"
	    " WHERE id IN (SELECT id FROM m)"
	    " UNION ALL SELECT 'media', row_to_json(t)::text FROM media t"
	    " WHERE msg_id IN (SELECT id FROM m)",
	/* A binding invitation, made on whichever node (bindpage.c). */
	[PGLOAD_INVITE] = "SELECT 'invitations', row_to_json(t)::text FROM"
	    " invitations t WHERE token_hash = decode($1, 'hex')",
};

struct load {
	struct store	*store;
	pgload_fn	 fn;
	void		*arg;
	char		 what[96];
};

int
pgload_row(struct store *s, const char *table, const char *text)
{
	const char *col[PGLOAD_COLS_MAX];
	char *val[PGLOAD_COLS_MAX];
	json_error_t e;
	json_t *o, *v;
	const char *k;
	unsigned n = 0, i;
	int rc = -1;

	if ((o = json_loads(text, 0, &e)) == NULL || !json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	json_object_foreach(o, k, v) {
		if (n == PGLOAD_COLS_MAX)
			goto out;
		col[n] = k;
		if (json_is_null(v))
			val[n] = NULL;
		else if (json_is_integer(v))
			xasprintf(&val[n], "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
		else if (json_is_string(v))
			val[n] = xstrdup(json_string_value(v));
		else
			goto out;
		n++;
	}
	/* Not a table: a conversation that came without its history. */
	if (strcmp(table, "cold") == 0)
		rc = n == 2 && strcmp(col[0], "id") == 0 && val[0] != NULL &&
		    strcmp(col[1], "account") == 0 && val[1] != NULL ?
		    store_cold_add(s, strtoll(val[0], NULL, 10), val[1]) : -1;
	else
		rc = store_absorb(s, table, n, col, (const char *const *)val);
 out:
	for (i = 0; i < n; i++)
		free(val[i]);
	json_decref(o);
	return rc;
}

static void
load_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct load *l = arg;
	int64_t rows = -1;
	int i;

	if (st == PGP_OK) {
		for (i = 0; i < PQntuples(res); i++)
			if (pgload_row(l->store, PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 1)) == -1)
				break;
		if (i == PQntuples(res))
			rows = i;
		else
			log_warnx("pgload: %s: row %d of %s does not fit",
			    l->what, i, PQgetvalue(res, i, 0));
	} else if (st != PGP_CLOSED)
		log_warnx("pgload: %s: %s%s%s", l->what, pgp_status_name(st),
		    err ? ": " : "", err ? err : "");
	l->fn(rows, l->arg);
	free(l);
}

static int
pgload(struct pgpool *p, struct store *s, const char *sql, unsigned n,
    const char *const *params, const char *what, pgload_fn fn, void *arg)
{
	struct load *l = xcalloc(1, sizeof(*l));
	struct pgp_q q = { 0, n, params, sql };

	l->store = s;
	l->fn = fn;
	l->arg = arg;
	snprintf(l->what, sizeof(l->what), "%s", what);
	if (pgpool_batch(p, &q, 1, load_done, l) == -1) {
		free(l);
		return -1;
	}
	return 0;
}

int
pgload_account(struct pgpool *p, struct store *s, const char *account,
    pgload_fn fn, void *arg)
{
	char what[96];

	snprintf(what, sizeof(what), "account %s", account);
	return pgload(p, s, load_account, 1, &account, what, fn, arg);
}

int
pgload_schedules(struct pgpool *p, struct store *s, const char *held,
    pgload_fn fn, void *arg)
{
	return pgload(p, s, load_schedules, 1, &held, "the schedules", fn,
	    arg);
}

int
pgload_session(struct pgpool *p, struct store *s, enum pgload_by by,
    const char *key, const char *key2, pgload_fn fn, void *arg)
{
	const char *params[2] = { key, key2 != NULL ? key2 : "" };

	if ((unsigned)by >= sizeof(load_session) / sizeof(load_session[0]))
		fatalx("%s: by %d", __func__, (int)by);
	return pgload(p, s, load_session[by], by == PGLOAD_SHARE ? 2 : 1,
	    params, by == PGLOAD_ID || by == PGLOAD_MSG ||
	    by == PGLOAD_CONV ? key :
	    by == PGLOAD_INVITE ? "an invitation" : "a visitor's session",
	    fn, arg);
}
