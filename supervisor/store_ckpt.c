/*
 * The checkpointer: one thread with its own connection to the store
 * that folds the write-ahead log into the database when store_wal.c
 * asks.  A checkpoint syncs the database (milliseconds on a real disk);
 * done in the event loop it stalled every visitor's reply each time the
 * WAL filled, so it runs here instead.  A PASSIVE checkpoint never
 * blocks the supervisor's writes: SQLite lets one writer append while
 * one checkpointer copies, and the next commit after a complete
 * checkpoint starts the WAL over.
 *
 * The thread touches nothing but its connection and the fields of
 * struct store_ckpt under its mutex; it blocks every signal, so they
 * all reach the event loop.  Without thread-safe SQLite (or if the
 * thread cannot start) store_wal.c checkpoints inline, as before.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

struct store_ckpt {
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	sqlite3		*db;		/* the thread's alone */
	int		 want;		/* asked, not yet begun */
	int		 running;
	int		 finished;	/* ran; store_wal.c has not seen it */
	int		 stop;
	/* Results, read by store_ckpt_take(). */
	uint64_t	 done;		/* checkpoints that ran */
	int		 failed;	/* an error to log, once */
	char		 why[128];
	struct store_lat lat;
};

static void *
store_ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;
	struct timespec t0;
	sigset_t all;
	int rc, logged, done;
	uint64_t us;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->want = 0;
		c->running = 1;
		pthread_mutex_unlock(&c->mu);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &logged, &done);
		us = clock_us_since(&t0);

		pthread_mutex_lock(&c->mu);
		c->running = 0;
		c->finished = 1;
		store_lat_add(&c->lat, us);
		/* BUSY: a reader holds the log; not an error of ours. */
		if (rc == SQLITE_OK)
			c->done++;
		else if (rc != SQLITE_BUSY && !c->failed) {
			c->failed = 1;
			snprintf(c->why, sizeof(c->why), "%s",
			    sqlite3_errmsg(c->db));
		}
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
store_ckpt_start(struct store *s)
{
	struct store_ckpt *c;
	pthread_condattr_t ca;
	const char *path;

	if (!sqlite3_threadsafe() ||
	    (path = sqlite3_db_filename(s->db, "main")) == NULL)
		return -1;
	c = xcalloc(1, sizeof(*c));
	/*
	 * A connection finds the WAL only when it first reads: until
	 * then a checkpoint on it is a silent no-op.  Hence the read: of
	 * the header's cookie, which does not parse the schema, for this
	 * connection runs no statement.  Nor does it want lookaside.
	 */
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_db_config(c->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0,
	    0) != SQLITE_OK ||
	    sqlite3_busy_timeout(c->db, 0) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA schema_version", NULL, NULL,
	    NULL) != SQLITE_OK) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(c->db));
		goto fail;
	}
	pthread_mutex_init(&c->mu, NULL);
	/* store_ckpt_idle() waits on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&c->thr, NULL, store_ckpt_main, c) != 0) {
		log_warn("%s: pthread_create", __func__);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		goto fail;
	}
	s->ckpt = c;
	return 0;
 fail:
	sqlite3_close(c->db);
	free(c);
	return -1;
}

/*
 * Ask for a checkpoint: 0 if one is asked for, running or finished and
 * not yet seen (store_ckpt_finished), -1 without a thread.
 */
int
store_ckpt_ask(struct store *s)
{
	struct store_ckpt *c = s->ckpt;

	if (c == NULL)
		return -1;
	pthread_mutex_lock(&c->mu);
	if (!c->running && !c->want && !c->finished) {
		c->want = 1;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/*
 * Wait at most ms for the thread to be idle: 0 once it is, -1 if it
 * still works.  A checkpoint of ours running beside a TRUNCATE one
 * would only make that one busy.
 */
int
store_ckpt_idle(struct store *s, unsigned ms)
{
	struct store_ckpt *c = s->ckpt;
	struct timespec until;
	int rv = 0;

	if (c == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while ((c->want || c->running) && rv == 0)
		rv = pthread_cond_timedwait(&c->cv, &c->mu, &until);
	rv = c->want || c->running ? -1 : 0;
	pthread_mutex_unlock(&c->mu);
	return rv;
}

/*
 * Did a checkpoint finish since the last call?  Under steady writes
 * it never copies the frames appended while it ran, and SQLite starts
 * the WAL over only after a checkpoint that left nothing behind: the
 * caller copies that short tail itself, between two commits.
 */
int
store_ckpt_finished(struct store *s)
{
	struct store_ckpt *c = s->ckpt;
	int f;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	f = c->finished;
	c->finished = 0;
	pthread_mutex_unlock(&c->mu);
	return f;
}

/*
 * What the thread did since the last call: checkpoints into *done,
 * their times merged into lat; an error is logged here, once.
 */
void
store_ckpt_take(struct store *s, uint64_t *done, struct store_lat *lat)
{
	struct store_ckpt *c = s->ckpt;
	unsigned i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	*done += c->done;
	c->done = 0;
	for (i = 0; i < STORE_LAT_BUCKETS; i++)
		lat->n[i] += c->lat.n[i];
	lat->count += c->lat.count;
	memset(&c->lat, 0, sizeof(c->lat));
	if (c->failed == 1) {
		c->failed = 2;
		log_warnx("store checkpointer: %s", c->why);
	}
	pthread_mutex_unlock(&c->mu);
}

/* Wait until no checkpoint is asked for or running (tests, close). */
void
store_ckpt_wait(struct store *s)
{
	struct store_ckpt *c = s->ckpt;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	while (c->want || c->running)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	if (store_ckpt_finished(s))
		store_wal_tail(s);
}

void
store_ckpt_stop(struct store *s)
{
	struct store_ckpt *c = s->ckpt;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thr, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
	s->ckpt = NULL;
}
