/*
 * The store's commit, both backends (issue #18): a loop turn's writes,
 * K new messages of one session, committed as one transaction, N times.
 *
 *   SQLite:      the real store (store_msg_accept K times, store_flush),
 *                WAL with synchronous = NORMAL, as wxgated runs it
 *   PostgreSQL:  the same rows in the schema.c tables, as one pgpool
 *                batch (one round trip), with synchronous_commit on
 *                (each commit waits for its WAL flush) and off (the
 *                nearer match to SQLite's NORMAL: a crash of the server
 *                machine may lose the last commits, never corrupt)
 *
 * Prints "store_commit.BACKEND.METRIC value unit" lines.  Run by
 * tests/bench/run_store.sh, which starts the PostgreSQL (with fsync on).
 *   bench_store_commit [-n commits] [-k rows per commit]
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "pgpool.h"
#include "schema.h"
#include "store.h"

static struct event_base *base;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, uint64_t *us, unsigned n, uint64_t total_us,
    unsigned k)
{
	qsort(us, n, sizeof(us[0]), cmp_u64);
	printf("store_commit.%s.p50 %.3f ms\n", name, us[n / 2] / 1000.0);
	printf("store_commit.%s.p99 %.3f ms\n", name,
	    us[(n * 99) / 100] / 1000.0);
	printf("store_commit.%s.max %.3f ms\n", name, us[n - 1] / 1000.0);
	printf("store_commit.%s.rows_per_s %.0f rows/s\n", name,
	    (double)n * k * 1e6 / (double)total_us);
}

static void
bench_sqlite(unsigned n, unsigned k, uint64_t *us)
{
	char path[] = "/tmp/wxbench-store.XXXXXX", db[64], err[256], cmid[32];
	uint8_t hash[STORE_HASH_LEN] = { 1 };
	struct store *s;
	int64_t session, id;
	uint64_t t0, all;
	unsigned i, j;

	if (mkdtemp(path) == NULL)
		exit(1);
	snprintf(db, sizeof(db), "%s/store.db", path);
	if ((s = store_open(db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s\n", err);
		exit(1);
	}
	if (store_session_create(s, hash, 1, 0, &session) == -1 ||
	    store_flush(s) == -1)
		exit(1);
	all = now_us();
	for (i = 0; i < n; i++) {
		t0 = now_us();
		for (j = 0; j < k; j++) {
			snprintf(cmid, sizeof(cmid), "m%u.%u", i, j);
			if (store_msg_accept(s, session, cmid, "hello", 1,
			    &id) == -1)
				exit(1);
		}
		if (store_flush(s) == -1 || store_wal_check(s) == -1)
			exit(1);
		us[i] = now_us() - t0;
	}
	report("sqlite", us, n, now_us() - all, k);
	store_close(s);
	snprintf(err, sizeof(err), "rm -rf %s", path);
	if (system(err) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

struct answer {
	int		 done;
	enum pgp_status	 st;
	char		 err[256];
};

static void
answered(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct answer *a = arg;

	(void)res;
	a->done = 1;
	a->st = st;
	snprintf(a->err, sizeof(a->err), "%s", err ? err : "");
}

static void
bench_pg(const char *name, const char *sync, unsigned n, unsigned k,
    uint64_t *us, const char *dsn, const char *pw)
{
	static const struct pgp_stmt st[] = {
		{ "msg", "INSERT INTO messages (session_id, client_msg_id,"
		    " text, state, created) VALUES (1, $1, 'hello', 1, 1)", 1 },
	};
	char setup[128], cmid[256][32];
	const char *params[256][1];
	struct pgp_q q[256];
	struct pgpool_conf c = { .conninfo = dsn, .password = pw,
	    .conns = 1, .queue_max = 4, .deadline_ms = 10000,
	    .stmts = st, .nstmts = 1, .setup = setup };
	struct pgpool *p;
	struct answer a;
	uint64_t t0, all;
	unsigned i, j;

	snprintf(setup, sizeof(setup), "SET synchronous_commit = %s", sync);
	p = pgpool_new(base, &c);
	all = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++) {
			snprintf(cmid[j], sizeof(cmid[j]), "%s.%u.%u", name,
			    i, j);
			params[j][0] = cmid[j];
			q[j].stmt = 0;
			q[j].nparams = 1;
			q[j].params = params[j];
			q[j].sql = NULL;
		}
		memset(&a, 0, sizeof(a));
		t0 = now_us();
		if (pgpool_batch(p, q, k, answered, &a) == -1)
			exit(1);
		while (!a.done)
			event_base_loop(base, EVLOOP_ONCE);
		us[i] = now_us() - t0;
		if (a.st != PGP_OK) {
			fprintf(stderr, "pg: %s %s\n", pgp_status_name(a.st),
			    a.err);
			exit(1);
		}
		/* The first commit also waited for the connection. */
		if (i == 0)
			all = now_us();
	}
	us[0] = us[1];
	report(name, us, n, now_us() - all, k);
	pgpool_free(p);
}

/* The description's tables in a fresh schema, and one session. */
static void
pg_schema(const char *dsn, const char *pw)
{
	char conn[512], *sql = schema_sql(SCHEMA_PG);
	PGconn *pg;
	PGresult *r;

	snprintf(conn, sizeof(conn), "%s password=%s", dsn, pw);
	pg = PQconnectdb(conn);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "pg: %s", PQerrorMessage(pg));
		exit(1);
	}
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pg schema: %s", PQresultErrorMessage(r));
		exit(1);
	}
	PQclear(r);
	PQclear(PQexec(pg, "INSERT INTO sessions (created, last_seen)"
	    " VALUES (1, 1)"));
	PQfinish(pg);
	free(sql);
}

int
main(int argc, char *argv[])
{
	unsigned n = 2000, k = 1;
	const char *dsn = getenv("WXGATE_PG_DSN");
	const char *pwfile = getenv("WXGATE_PG_PASSWORD_FILE");
	char pw[128] = "";
	uint64_t *us;
	FILE *f;
	int ch;

	while ((ch = getopt(argc, argv, "n:k:")) != -1) {
		switch (ch) {
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'k':
			k = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_store_commit [-n commits]"
			    " [-k rows]\n");
			return 2;
		}
	}
	if (n < 100 || k < 1 || k > 256) {
		fprintf(stderr, "-n 100 or more, -k 1 to 256\n");
		return 2;
	}
	log_init(0, 0);
	if ((us = calloc(n, sizeof(*us))) == NULL ||
	    (base = event_base_new()) == NULL)
		return 1;
	printf("# store commit bench: %u commits of %u rows, %ld cpus\n", n,
	    k, sysconf(_SC_NPROCESSORS_ONLN));
	bench_sqlite(n, k, us);
	if (dsn == NULL || pwfile == NULL || (f = fopen(pwfile, "r")) ==
	    NULL || fgets(pw, sizeof(pw), f) == NULL) {
		fprintf(stderr, "no PostgreSQL: run me under tests/pgserver.sh"
		    " run (tests/bench/run_store.sh)\n");
		return 1;
	}
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	pg_schema(dsn, pw);
	bench_pg("pg_sync", "on", n, k, us, dsn, pw);
	bench_pg("pg_async", "off", n, k, us, dsn, pw);
	event_base_free(base);
	free(us);
	return 0;
}
