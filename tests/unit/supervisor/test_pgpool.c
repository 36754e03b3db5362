/*
 * supervisor/pgpool.c against a real PostgreSQL that tests/pgserver.sh
 * starts (WXGATE_PG_DSN, WXGATE_PG_PASSWORD_FILE; WXGATE_PG_STOP and
 * WXGATE_PG_START for the outage).  Each answer is counted by status;
 * the loop runs until the answers expected are in, or a generous bound
 * that only a hang reaches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "pg_fx.h"
#include "pgpool.h"

#define HANG_MS		30000

enum { S_ADD, S_DIV, S_SLEEP, S_ISNULL, S_ONE };

static const struct pgp_stmt stmts[] = {
	[S_ADD] = { "add", "SELECT $1::int + 1", 1 },
	[S_DIV] = { "div", "SELECT 1 / $1::int", 1 },
	[S_SLEEP] = { "sleep", "SELECT pg_sleep($1::float8)", 1 },
	[S_ISNULL] = { "isnull", "SELECT $1::text IS NULL", 1 },
	[S_ONE] = { "one", "SELECT 1", 0 },
};

struct tally {
	unsigned	 n[PGP_CLOSED + 1];
	unsigned	 answers;
	char		 value[64];
	char		 err[256];
};

static struct event_base *base;
static char password[128];
static char dsn[256];
static char logged[64][LOG_LINE_MAX];
static unsigned nlogged;

static void
hook(int level, const char *line)
{
	(void)level;
	if (nlogged < 64)
		snprintf(logged[nlogged++], LOG_LINE_MAX, "%s", line);
}

static void
done(enum pgp_status s, const PGresult *res, const char *err, void *arg)
{
	struct tally *t = arg;

	t->n[s]++;
	t->answers++;
	if (s == PGP_OK && PQntuples(res) > 0)
		snprintf(t->value, sizeof(t->value), "%s",
		    PQgetvalue(res, 0, 0));
	if (err != NULL)
		snprintf(t->err, sizeof(t->err), "%s", err);
}

static void
stop_loop(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_base_loopbreak(base);
}

/* Runs the loop until t has want answers; fails on the hang bound. */
static void
wait_answers(struct tally *t, unsigned want)
{
	struct event *tick = event_new(base, -1, EV_PERSIST, stop_loop, NULL);
	struct timeval tv = { 0, 20000 };
	uint64_t hang = clock_mono_ms() + HANG_MS;

	event_add(tick, &tv);
	while (t->answers < want) {
		assert_true(clock_mono_ms() < hang);
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(tick);
}

/* Runs the loop for about ms, for reconnections to happen. */
static void
spin(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Runs the loop until n connections are up. */
static void
wait_ready(struct pgpool *p, unsigned n)
{
	uint64_t hang = clock_mono_ms() + HANG_MS;

	while (pgpool_ready(p) < n) {
		assert_true(clock_mono_ms() < hang);
		spin(20);
	}
}

static struct pgpool *
pool(unsigned conns, unsigned queue_max, unsigned deadline_ms,
    const char *pw)
{
	struct pgpool_conf c = {
		.conninfo = dsn,
		.password = pw,
		.conns = conns,
		.queue_max = queue_max,
		.deadline_ms = deadline_ms,
		.stmts = stmts,
		.nstmts = sizeof(stmts) / sizeof(stmts[0]),
	};

	return pgpool_new(base, &c);
}

static void
query(struct pgpool *p, unsigned stmt, const char *arg, struct tally *t)
{
	const char *params[1] = { arg };

	assert_int_equal(pgpool_query(p, stmt, stmts[stmt].nparams, params,
	    done, t), 0);
}

static int
setup(void **state)
{
	(void)state;
	if (pg_fx_env(dsn, sizeof(dsn), password, sizeof(password)) == -1)
		return -1;
	base = event_base_new();
	log_init(1, 0);
	log_sethook(hook);
	return base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	event_base_free(base);
	return 0;
}

static void
test_answers_rows_and_errors(void **state)
{
	struct pgpool *p = pool(2, 8, 5000, password);
	struct tally t = { 0 };

	(void)state;
	query(p, S_ADD, "41", &t);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_OK], 1);
	assert_string_equal(t.value, "42");

	/* A parameter left NULL is SQL's NULL, not "". */
	memset(&t, 0, sizeof(t));
	query(p, S_ISNULL, NULL, &t);
	wait_answers(&t, 1);
	assert_string_equal(t.value, "t");

	/* The server's refusal says its SQLSTATE; the pool goes on. */
	memset(&t, 0, sizeof(t));
	query(p, S_DIV, "0", &t);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_ERROR], 1);
	assert_non_null(strstr(t.err, "22012"));
	memset(&t, 0, sizeof(t));
	query(p, S_ADD, "1", &t);
	wait_answers(&t, 1);
	assert_string_equal(t.value, "2");
	wait_ready(p, 2);

	/* A wrong statement or parameter count is the caller's error. */
	assert_int_equal(pgpool_query(p, 99, 0, NULL, done, &t), -1);
	assert_int_equal(pgpool_query(p, S_ADD, 0, NULL, done, &t), -1);
	pgpool_free(p);
}

/* One connection, two places in the queue: a fourth request is busy,
 * at once and from the loop, and the others all run. */
static void
test_full_queue_is_busy(void **state)
{
	struct pgpool *p = pool(1, 2, 10000, password);
	struct tally t = { 0 };

	(void)state;
	wait_ready(p, 1);
	query(p, S_SLEEP, "0.2", &t);
	query(p, S_SLEEP, "0.2", &t);
	query(p, S_SLEEP, "0.2", &t);
	query(p, S_SLEEP, "0.2", &t);
	assert_int_equal(t.answers, 0);		/* never from the call */
	wait_answers(&t, 4);
	assert_int_equal(t.n[PGP_OK], 3);
	assert_int_equal(t.n[PGP_BUSY], 1);
	assert_int_equal(pgpool_queued(p), 0);
	pgpool_free(p);
}

/* Past its deadline a request is answered timeout, running or queued,
 * and the connection serves again. */
static void
test_deadline_answers_timeout(void **state)
{
	struct pgpool *p = pool(1, 4, 300, password);
	struct tally t = { 0 };

	(void)state;
	wait_ready(p, 1);
	query(p, S_SLEEP, "5", &t);
	query(p, S_SLEEP, "5", &t);
	wait_answers(&t, 2);
	assert_int_equal(t.n[PGP_TIMEOUT], 2);
	memset(&t, 0, sizeof(t));
	do {
		t.answers = 0;
		query(p, S_ADD, "6", &t);
		wait_answers(&t, 1);
	} while (t.n[PGP_OK] == 0 && t.n[PGP_TIMEOUT] + t.n[PGP_DOWN] < 20);
	assert_string_equal(t.value, "7");
	pgpool_free(p);
}

/* A wrong password: nothing connects, requests time out, and no log
 * line carries the password. */
static void
test_bad_password_is_never_logged(void **state)
{
	const char *pw = "not-the-password-7c1e";
	struct pgpool *p = pool(1, 4, 500, pw);
	struct tally t = { 0 };
	unsigned i;

	(void)state;
	nlogged = 0;
	query(p, S_ONE, NULL, &t);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_TIMEOUT], 1);
	assert_int_equal(pgpool_ready(p), 0);
	assert_true(nlogged > 0);
	for (i = 0; i < nlogged; i++) {
		assert_null(strstr(logged[i], pw));
		assert_null(strstr(logged[i], password));
	}
	assert_non_null(strstr(logged[0], "password"));
	pgpool_free(p);
}

/* The server stops: requests are answered (down, timeout or busy),
 * never left waiting; it starts again and the pool comes back. */
static void
test_outage_and_recovery(void **state)
{
	struct pgpool *p = pool(2, 4, 400, password);
	struct tally t = { 0 };
	unsigned i, rounds = 0;

	(void)state;
	query(p, S_ONE, NULL, &t);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_OK], 1);
	assert_int_equal(system(getenv("WXGATE_PG_STOP")), 0);
	memset(&t, 0, sizeof(t));
	for (i = 0; i < 10; i++)
		query(p, S_ONE, NULL, &t);
	wait_answers(&t, 10);
	assert_int_equal(t.n[PGP_OK], 0);
	assert_int_equal(t.n[PGP_DOWN] + t.n[PGP_TIMEOUT] + t.n[PGP_BUSY],
	    10);
	assert_true(t.n[PGP_BUSY] > 0);		/* 2 + 4 fit, no more */
	assert_int_equal(pgpool_ready(p), 0);
	assert_int_equal(system(getenv("WXGATE_PG_START")), 0);
	memset(&t, 0, sizeof(t));
	while (t.n[PGP_OK] == 0) {
		assert_true(rounds++ < 100);
		query(p, S_ADD, "9", &t);
		wait_answers(&t, rounds);
		if (t.n[PGP_OK] == 0)
			spin(100);
	}
	assert_string_equal(t.value, "10");
	pgpool_free(p);
}

/* The setup runs on each connection before its statements are
 * prepared, so they may name what it makes; a failing one keeps the
 * connection from serving and says why. */
static void
test_setup_comes_first(void **state)
{
	const struct pgp_stmt st[] = {
		{ "count", "SELECT count(*) FROM pool_setup", 0 },
	};
	struct pgpool_conf c = {
		.conninfo = dsn, .password = password,
		.conns = 2, .queue_max = 4, .deadline_ms = 5000,
		.stmts = st, .nstmts = 1,
		.setup = "BEGIN; SELECT pg_advisory_xact_lock(1);"
		    " CREATE TABLE IF NOT EXISTS pool_setup (x int); COMMIT;",
	};
	struct pgpool *p = pgpool_new(base, &c);
	struct tally t = { 0 };
	unsigned i;

	(void)state;
	assert_int_equal(pgpool_query(p, 0, 0, NULL, done, &t), 0);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_OK], 1);
	assert_string_equal(t.value, "0");
	wait_ready(p, 2);
	pgpool_free(p);

	c.setup = "SELECT 1; SELECT * FROM no_such_table;";
	c.conns = 1;
	c.deadline_ms = 500;
	nlogged = 0;
	p = pgpool_new(base, &c);
	memset(&t, 0, sizeof(t));
	assert_int_equal(pgpool_query(p, 0, 0, NULL, done, &t), 0);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_TIMEOUT], 1);
	assert_int_equal(pgpool_ready(p), 0);
	for (i = 0; i < nlogged; i++)
		if (strstr(logged[i], "setup") &&
		    strstr(logged[i], "no_such_table"))
			break;
	assert_true(i < nlogged);
	pgpool_free(p);
}

/*
 * A batch is one transaction in one round trip: it sees its own writes
 * and commits whole; the first statement that fails rolls back the
 * others and is named; one cut off by its deadline leaves nothing.
 */
static void
test_batch_commits_whole_or_not_at_all(void **state)
{
	const struct pgp_stmt st[] = {
		{ "ins", "INSERT INTO pool_batch VALUES ($1::int)", 1 },
		{ "count", "SELECT count(*) FROM pool_batch", 0 },
		{ "sleep", "SELECT pg_sleep($1::float8)", 1 },
	};
	struct pgpool_conf c = {
		.conninfo = dsn, .password = password,
		.conns = 1, .queue_max = 4, .deadline_ms = 2000,
		.stmts = st, .nstmts = 3,
		.setup = "BEGIN; SELECT pg_advisory_xact_lock(1);"
		    " CREATE TABLE IF NOT EXISTS pool_batch (id int PRIMARY KEY);"
		    " COMMIT;",
	};
	struct pgpool *p = pgpool_new(base, &c);
	const char *one[] = { "1" }, *two[] = { "2" }, *three[] = { "3" };
	const char *five[] = { "5" }, *long_sleep[] = { "5" };
	struct pgp_q ok[] = { { 0, 1, one, NULL }, { 0, 1, two, NULL },
	    { 1, 0, NULL, NULL } };
	struct pgp_q dup[] = { { 0, 1, three, NULL }, { 0, 1, one, NULL },
	    { 1, 0, NULL, NULL } };
	struct pgp_q slow[] = { { 0, 1, five, NULL },
	    { 2, 1, long_sleep, NULL } };
	struct pgp_q bad[] = { { 0, 0, NULL, NULL } };
	struct tally t = { 0 };

	(void)state;
	assert_int_equal(pgpool_batch(p, ok, 0, done, &t), -1);
	assert_int_equal(pgpool_batch(p, bad, 1, done, &t), -1);
	assert_int_equal(pgpool_batch(p, ok, 3, done, &t), 0);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_OK], 1);
	assert_string_equal(t.value, "2");

	memset(&t, 0, sizeof(t));
	assert_int_equal(pgpool_batch(p, dup, 3, done, &t), 0);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_ERROR], 1);
	assert_non_null(strstr(t.err, "statement 2: 23505"));

	memset(&t, 0, sizeof(t));
	assert_int_equal(pgpool_batch(p, slow, 2, done, &t), 0);
	wait_answers(&t, 1);
	assert_int_equal(t.n[PGP_TIMEOUT], 1);

	/* Only the first batch's two rows: 3 and 5 were rolled back. */
	memset(&t, 0, sizeof(t));
	do {
		t.answers = 0;
		assert_int_equal(pgpool_query(p, 1, 0, NULL, done, &t), 0);
		wait_answers(&t, 1);
	} while (t.n[PGP_OK] == 0 && t.n[PGP_TIMEOUT] + t.n[PGP_DOWN] < 20);
	assert_string_equal(t.value, "2");
	pgpool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_rows_and_errors),
		cmocka_unit_test(test_full_queue_is_busy),
		cmocka_unit_test(test_deadline_answers_timeout),
		cmocka_unit_test(test_bad_password_is_never_logged),
		cmocka_unit_test(test_setup_comes_first),
		cmocka_unit_test(test_batch_commits_whole_or_not_at_all),
		cmocka_unit_test(test_outage_and_recovery),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
