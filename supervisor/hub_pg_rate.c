/*
 * The public chat's rate limits on a cluster (wxgate-hub-pg only,
 * issue #18): a visitor's requests may land on every node, so each
 * session's and each address's bucket is kept in the database, in the
 * ratelimits table, judged by the database's clock.
 *
 * No request waits for it.  Each node takes from its own copy of a
 * bucket (admit.c) and, every RATE_SYNC_MS, says in one statement what
 * it took per key since; the database adds the refill, takes the sum
 * and answers each key's level, which replaces the copy.  So a
 * bucket's level is every node's, a quarter of a second late: a
 * visitor spread over N nodes may get up to N bursts in the first
 * interval, and no more than the configured rate after, since the
 * level may fall to minus a burst (a debt the copies pay by staying
 * empty).  A key no node took from recently has no row: one that has
 * refilled is deleted by a sweep.
 *
 * The table is UNLOGGED: limits are not worth a WAL write per request,
 * and after a crash of the server every bucket starts full, as after a
 * restart of a node alone.  While the database does not answer, each
 * node keeps its own copy; what it took then is said once it answers,
 * or lost with a failed statement (its deadline: pgpool's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "hub.h"
#include "hub_pg_int.h"
#include "log.h"
#include "pgpool.h"

#define RATE_SYNC_MS	250
#define RATE_KEYS_MAX	2048	/* of one statement */
#define RATE_SWEEP_N	240	/* syncs between sweeps: a minute */
#define RATE_SEEN_MAX_S	"8192"	/* others' keys read by one sync */

static const char setup_lock[] = "SELECT pg_advisory_xact_lock(7417002)";
static const char setup_table[] =
    "CREATE UNLOGGED TABLE IF NOT EXISTS ratelimits (key text PRIMARY KEY,"
    " tokens float8 NOT NULL, at timestamptz NOT NULL,"
    " rate float8 NOT NULL, burst float8 NOT NULL)";
static const char setup_index[] =
    "CREATE INDEX IF NOT EXISTS ratelimits_at ON ratelimits (at)";

/*
 * One statement a sync: this node's takings go in, one row per key (a
 * new one starts full less what was taken, an old one refills for the
 * time since it was last said; excluded.tokens is burst less n, so n
 * is excluded.burst - excluded.tokens), and out come their levels, the
 * levels of keys other nodes said since this node's last sync ($5, the
 * database's clock then, with a second's overlap for statements that
 * committed late) refilled to now, and last the database's clock now
 * as a row without a key.
 */
static const char sync_sql[] =
    "WITH up AS (INSERT INTO ratelimits AS r (key, tokens, at, rate, burst)"
    " SELECT k, greatest(-b, b - n), now(), v, b FROM"
    " unnest($1::text[], $2::float8[], $3::float8[], $4::float8[])"
    " AS u(k, n, v, b)"
    " ON CONFLICT (key) DO UPDATE SET tokens = greatest(-excluded.burst,"
    " least(excluded.burst, r.tokens + excluded.rate *"
    " extract(epoch FROM now() - r.at)) -"
    " (excluded.burst - excluded.tokens)),"
    " at = now(), rate = excluded.rate, burst = excluded.burst"
    " RETURNING key, tokens)"
    " SELECT key, tokens FROM up"
    " UNION ALL (SELECT o.key, least(o.burst, o.tokens + o.rate *"
    " extract(epoch FROM now() - o.at)) FROM ratelimits o"
    " WHERE $5::float8 > 0"
    " AND o.at > to_timestamp($5::float8) - interval '1 second'"
    " AND NOT EXISTS (SELECT 1 FROM up WHERE up.key = o.key)"
    " LIMIT " RATE_SEEN_MAX_S ")"
    " UNION ALL SELECT NULL, extract(epoch FROM now())::float8";

static const char sweep_sql[] =
    "DELETE FROM ratelimits WHERE"
    " tokens + rate * extract(epoch FROM now() - at) >= burst";

static struct {
	struct event	*tick;
	int		 made;		/* the table exists */
	int		 asked;		/* a statement is under way */
	unsigned	 syncs;
	unsigned	 n;		/* keys in the statement so far */
	char		 last[32];	/* the database's clock at the last */
	struct evbuffer	*keys, *ns, *rates, *bursts;
} hr;

static void
rate_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	int row, rows;

	(void)arg;
	if (st == PGP_CLOSED)
		return;
	hr.asked = 0;
	if (st != PGP_OK) {
		/* A refusal is ours (a statement wrong): said loudly. */
		if (st == PGP_ERROR)
			log_warnx("cluster: rate limits: %s", err ? err : "?");
		else
			log_debug("cluster: rate limits: %s%s%s",
			    pgp_status_name(st), err ? ": " : "",
			    err ? err : "");
		return;
	}
	if (!hr.made) {
		hr.made = 1;
		return;
	}
	rows = res != NULL ? PQntuples(res) : 0;
	for (row = 0; row < rows; row++) {
		if (PQgetisnull(res, row, 0))
			snprintf(hr.last, sizeof(hr.last), "%s",
			    PQgetvalue(res, row, 1));
		else
			admit_level(PQgetvalue(res, row, 0),
			    strtod(PQgetvalue(res, row, 1), NULL));
	}
}

/* An array element as text: quoted, so a key says itself whole. */
static void
rate_key(struct evbuffer *b, const char *key)
{
	evbuffer_add(b, hr.n > 0 ? ",\"" : "\"", hr.n > 0 ? 2 : 1);
	for (; *key != '\0'; key++) {
		if (*key == '"' || *key == '\\')
			evbuffer_add(b, "\\", 1);
		evbuffer_add(b, key, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
rate_num(struct evbuffer *b, double v)
{
	evbuffer_add_printf(b, hr.n > 0 ? ",%.17g" : "%.17g", v);
}

static void
rate_one(const struct admit_spend *sp, void *arg)
{
	(void)arg;
	rate_key(hr.keys, sp->key);
	rate_num(hr.ns, (double)sp->n);
	rate_num(hr.rates, sp->per_s);
	rate_num(hr.bursts, sp->burst);
	hr.n++;
}

/* The buffer as a NUL-ended array literal, emptied for the next. */
static char *
rate_array(struct evbuffer *b)
{
	evbuffer_add(b, "}", 2);
	return (char *)evbuffer_pullup(b, -1);
}

static void
rate_sync(void)
{
	struct pgp_q q = { 0, 5, NULL, sync_sql };
	const char *p[5];

	hr.n = 0;
	evbuffer_add(hr.keys, "{", 1);
	evbuffer_add(hr.ns, "{", 1);
	evbuffer_add(hr.rates, "{", 1);
	evbuffer_add(hr.bursts, "{", 1);
	/* Asked with nothing taken here too: to learn the others'. */
	(void)admit_spent(RATE_KEYS_MAX, rate_one, NULL);
	p[0] = rate_array(hr.keys);
	p[1] = rate_array(hr.ns);
	p[2] = rate_array(hr.rates);
	p[3] = rate_array(hr.bursts);
	p[4] = hr.last[0] != '\0' ? hr.last : "0";
	q.params = p;
	/* The pool copies the parameters as it queues them. */
	if (pgpool_batch(hub_pg_pool(), &q, 1, rate_done, NULL) == 0)
		hr.asked = 1;
	evbuffer_drain(hr.keys, evbuffer_get_length(hr.keys));
	evbuffer_drain(hr.ns, evbuffer_get_length(hr.ns));
	evbuffer_drain(hr.rates, evbuffer_get_length(hr.rates));
	evbuffer_drain(hr.bursts, evbuffer_get_length(hr.bursts));
}

static void
rate_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct pgp_q setup[3] = {
		{ 0, 0, NULL, setup_lock }, { 0, 0, NULL, setup_table },
		{ 0, 0, NULL, setup_index } };
	struct pgp_q sweep = { 0, 0, NULL, sweep_sql };

	(void)fd;
	(void)ev;
	(void)arg;
	/* While the store is behind, the counts wait in the buckets. */
	if (hr.asked || hub_pg_full())
		return;
	if (!hr.made) {
		if (pgpool_batch(hub_pg_pool(), setup, 3, rate_done,
		    NULL) == 0)
			hr.asked = 1;
		return;
	}
	if (++hr.syncs % RATE_SWEEP_N == 0) {
		if (pgpool_batch(hub_pg_pool(), &sweep, 1, rate_done,
		    NULL) == 0)
			hr.asked = 1;
		return;
	}
	rate_sync();
}

void
hub_pg_rate_start(void)
{
	struct timeval tv = { 0, RATE_SYNC_MS * 1000 };

	if ((hr.keys = evbuffer_new()) == NULL ||
	    (hr.ns = evbuffer_new()) == NULL ||
	    (hr.rates = evbuffer_new()) == NULL ||
	    (hr.bursts = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	if ((hr.tick = event_new(sup->base, -1, EV_PERSIST, rate_tick,
	    NULL)) == NULL || event_add(hr.tick, &tv) == -1)
		fatalx("%s: timer", __func__);
}
