/*
 * A channel account moving between two nodes, with every part of the
 * design for several nodes joined (docs/architecture.md), against a
 * real PostgreSQL (tests/pgserver.sh).  Each node is a working set
 * (SQLite store, capturing), a pool for its shipped turns, its leases
 * (their own connection) and its row id block.
 *
 *   node a takes the lease, loads the account, ships a fenced turn;
 *   node b starts and waits; node a dies with a turn not yet shipped;
 *   node b takes the lease (a higher token), loads what a shipped and
 *   ships its own turn; node a's late turn, shipped after, is refused
 *   by the fence and leaves nothing.
 *
 * In the end PostgreSQL holds a's shipped message and b's, not a's late
 * one, under distinct ids, and b's store holds the same.
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

#include "clock.h"
#include "lease.h"
#include "log.h"
#include "pg_fx.h"
#include "pgapply.h"
#include "pgids.h"
#include "pgload.h"
#include "pgpool.h"
#include "pgsetup.h"
#include "schema.h"
#include "store.h"

#define HANG_MS		60000
#define TTL_MS		1500

struct node {
	const char	*name;
	struct store	*store;
	struct pgpool	*pool;
	struct leases	*leases;
	int64_t		 token;		/* of a1's lease; 0 none */
	int		 loaded;	/* a1 is in the working set */
	int64_t		 ids;
};

static struct event_base *base;
static char dsn[256], pw[128], dir[] = "/tmp/wxtake.XXXXXX";
static struct node na = { "node-a", NULL, NULL, NULL, 0, 0, -2 };
static struct node nb = { "node-b", NULL, NULL, NULL, 0, 0, -2 };

static void
tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_base_loopbreak(base);
}

#define WAIT_UNTIL(cond) do {						\
	uint64_t hang_ = clock_mono_ms() + HANG_MS;			\
	struct event *t_ = event_new(base, -1, EV_PERSIST, tick, NULL);	\
	struct timeval tv_ = { 0, 10000 };				\
	event_add(t_, &tv_);						\
	while (!(cond)) {						\
		if (clock_mono_ms() >= hang_)				\
			fail_msg("never: %s", #cond);			\
		event_base_loop(base, EVLOOP_ONCE);			\
	}								\
	event_free(t_);							\
} while (0)

static void
loaded(int64_t rows, void *arg)
{
	struct node *n = arg;

	assert_true(rows >= 0);
	assert_int_equal(store_flush(n->store), 0);
	n->loaded = 1;
}

/* A lease held is loaded before anything of the account runs. */
static void
on_lease(enum lease_ev ev, const char *account, int64_t token, void *arg)
{
	struct node *n = arg;

	assert_string_equal(account, "a1");
	switch (ev) {
	case LEASE_HELD:
		n->token = token;
		assert_int_equal(pgload_account(n->pool, n->store, account,
		    loaded, n), 0);
		break;
	case LEASE_LOST:
	case LEASE_GIVE:
		n->token = 0;
		n->loaded = 0;
		if (ev == LEASE_GIVE)
			leases_given(n->leases, account);
		break;
	}
}

static void
got_ids(int64_t first, void *arg)
{
	*(int64_t *)arg = first;
}

static void
node_start(struct node *n, const char *file)
{
	char path[64], err[256];
	struct pgpool_conf pc = { .conninfo = dsn, .password = pw,
	    .conns = 1, .queue_max = 8, .deadline_ms = 5000 };
	struct lease_conf lc = { .ttl_ms = TTL_MS, .renew_ms = 400,
	    .margin_ms = 300 };

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_non_null(n->store = store_open(path, err, sizeof(err)));
	assert_int_equal(store_capture(n->store), 0);
	n->pool = pgpool_new(base, &pc);
	assert_int_equal(pgids_fetch(n->pool, n->store, got_ids, &n->ids), 0);
	WAIT_UNTIL(n->ids != -2);
	assert_true(n->ids > 0);
	lc.node = n->name;
	n->leases = leases_new(base, &pc, &lc, on_lease, n);
	assert_int_equal(leases_want(n->leases, "a1", NULL), 0);
}

/* n's committed turn, fenced by the token it had: 1 shipped, 0 refused
 * by the fence. */
static int
ship(struct node *n, int64_t token)
{
	struct pgapply *a = pgapply_new();
	const struct pgp_q *q;
	unsigned k;
	int rc;

	assert_int_equal(store_flush(n->store), 0);
	assert_int_equal(pgapply_fence(a, "a1", n->name, token), 0);
	assert_int_equal(store_capture_take(n->store, pgapply_add, a), 0);
	q = pgapply_batch(a, &k);
	assert_true(k >= 1);
	rc = pg_fx_fenced(base, n->pool, q, k);
	pgapply_free(a);
	assert_true(rc != -1);
	return rc;
}

/* One inbound message of a1's peer p1, as its worker would store it. */
static void
inbound(struct node *n, const char *msgid, const char *text)
{
	struct store_chan_msg m = { 0, "a1", msgid, "p1", text, "" };
	int64_t id;

	store_touch(n->store);
	assert_int_equal(store_chan_session(n->store, "a1", "p1", 1,
	    &m.session), 0);
	assert_int_equal(store_chan_msg_accept(n->store, &m, 2, &id), 0);
}

static char *
pg_texts(void)
{
	char conn[512], *out = calloc(1, 1);
	size_t len = 0;
	PGconn *pg;
	PGresult *r;
	int i;

	snprintf(conn, sizeof(conn), "%s password=%s", dsn, pw);
	pg = PQconnectdb(conn);
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	r = PQexec(pg, "SELECT text FROM messages WHERE account = 'a1'"
	    " ORDER BY channel_msg_id");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(r); i++) {
		const char *v = PQgetvalue(r, i, 0);

		out = realloc(out, len + strlen(v) + 2);
		len += (size_t)sprintf(out + len, "%s\n", v);
	}
	PQclear(r);
	PQfinish(pg);
	return out;
}

static int
setup(void **state)
{
	char conn[512], *sql;
	PGconn *pg;
	PGresult *r;

	(void)state;
	if (pg_fx_env(dsn, sizeof(dsn), pw, sizeof(pw)) == -1 ||
	    mkdtemp(dir) == NULL)
		return -1;
	log_init(0, 0);
	snprintf(conn, sizeof(conn), "%s password=%s", dsn, pw);
	pg = PQconnectdb(conn);
	if (PQstatus(pg) != CONNECTION_OK)
		return -1;
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	sql = pgsetup_sql();	/* the steps after SCHEMA_BASE too */
	r = PQexec(pg, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return -1;
	PQclear(r);
	PQfinish(pg);
	return (base = event_base_new()) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[64];

	(void)state;
	leases_free(nb.leases);
	pgpool_free(na.pool);
	pgpool_free(nb.pool);
	store_close(na.store);
	store_close(nb.store);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_an_account_moves_and_the_old_node_is_fenced(void **state)
{
	int64_t first, waiting;
	char *texts;

	(void)state;
	node_start(&na, "a.db");
	WAIT_UNTIL(na.token > 0 && na.loaded);
	first = na.token;
	inbound(&na, "m1", "shipped by a");
	assert_int_equal(ship(&na, na.token), 1);

	node_start(&nb, "b.db");
	/* One account, two nodes: a keeps it while it lives. */
	WAIT_UNTIL(leases_held(nb.leases) == 0 && nb.ids > 0);

	/* a dies (as SIGKILL leaves it: its lease to lapse) with a turn
	 * committed in its store and not yet shipped. */
	leases_free(na.leases);
	na.leases = NULL;
	inbound(&na, "m2", "late from a");
	assert_int_equal(store_flush(na.store), 0);

	WAIT_UNTIL(nb.token > 0 && nb.loaded);
	assert_true(nb.token > first);
	/* b has what a shipped, found where a's worker left it. */
	assert_int_equal(store_chan_msg_seen(nb.store, "a1", "m1"), 1);
	assert_int_equal(store_chan_msg_seen(nb.store, "a1", "m2"), 0);
	inbound(&nb, "m3", "from b");
	assert_int_equal(ship(&nb, nb.token), 1);

	/* a's late turn comes too late: its token is not the lease's. */
	assert_int_equal(ship(&na, first), 0);

	texts = pg_texts();
	assert_string_equal(texts, "shipped by a\nfrom b\n");
	free(texts);
	/* b's agent has both to answer, and nothing of a's late turn. */
	assert_int_equal(store_backlog_count(nb.store, "a1", &waiting), 0);
	assert_int_equal(waiting, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_an_account_moves_and_the_old_node_is_fenced),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
