/*
 * The store's write-ahead log is a queue too: every commit appends to
 * it, and only a checkpoint lets SQLite start it over.  This file keeps
 * it bounded and measures what commits and checkpoints cost.  Called by
 * the supervisor right after a commit (store_wal_check) and by the
 * control socket (store_wal_stats); it never opens a transaction.
 *
 * SQLite's wal hook tells us, after each commit, how many frames the WAL
 * holds; that is cheaper than a stat(2) per loop turn.  Past
 * ckpt_bytes the checkpointer thread (store_ckpt.c) is asked for a
 * PASSIVE checkpoint, which then runs beside the event loop.  The supervisor is
 * the only writer, so with no reader it completes and the next commit
 * rewrites the WAL from its start: the file stops growing.  A reader
 * (an operator's sqlite3 shell, a backup) can hold a PASSIVE checkpoint
 * back; past max_bytes a TRUNCATE checkpoint waits briefly for it and
 * cuts the file to zero.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <inttypes.h>
#include <stdint.h>
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

/*
 * How long a TRUNCATE checkpoint waits for a reader.  The event loop
 * is blocked meanwhile, so far less than STORE_BUSY_MS; a reader that
 * stays gets the checkpoint retried after STORE_WAL_BACKOFF_MS.
 */
#define STORE_WAL_BUSY_MS	100
/* How long it waits for the checkpointer thread, the same idea. */
#define STORE_WAL_IDLE_MS	500
#define STORE_WAL_BACKOFF_MS	1000
/* A WAL frame is a page plus its 24-byte header; the file has 32 more. */
#define STORE_WAL_FRAME_HDR	24
#define STORE_WAL_HDR		32
/* Defaults until the supervisor applies its configuration. */
#define STORE_WAL_CKPT_DEF	(4ULL * 1024 * 1024)
#define STORE_WAL_MAX_DEF	(64ULL * 1024 * 1024)

static int	store_wal_commit_hook(void *);
static int	store_wal_hook(void *, sqlite3 *, const char *, int);
static uint64_t	store_lat_pct(const struct store_lat *, unsigned);
static int	store_wal_ckpt(struct store *, int);

void
store_lat_add(struct store_lat *l, uint64_t us)
{
	unsigned e = 0, idx;

	if (us < 4)
		idx = (unsigned)us;
	else {
		while ((us >> (e + 1)) != 0)
			e++;
		idx = 4 * (e - 1) + (unsigned)((us >> (e - 2)) & 3);
	}
	if (idx >= STORE_LAT_BUCKETS)
		idx = STORE_LAT_BUCKETS - 1;
	l->n[idx]++;
	l->count++;
}

/* The upper edge of the bucket holding the pct-th percentile, or 0. */
static uint64_t
store_lat_pct(const struct store_lat *l, unsigned pct)
{
	uint64_t want, seen = 0;
	unsigned i, e;

	if (l->count == 0)
		return 0;
	want = (l->count * pct + 99) / 100;
	for (i = 0; i < STORE_LAT_BUCKETS; i++) {
		seen += l->n[i];
		if (seen >= want)
			break;
	}
	if (i >= STORE_LAT_BUCKETS)
		i = STORE_LAT_BUCKETS - 1;
	if (i < 4)
		return i;
	e = i / 4 + 1;
	return ((uint64_t)(4 + i % 4) << (e - 2)) + (1ULL << (e - 2)) - 1;
}

/* Called as COMMIT starts; a non-zero return would turn it into ROLLBACK. */
static int
store_wal_commit_hook(void *arg)
{
	struct store *s = arg;

	clock_gettime(CLOCK_MONOTONIC, &s->wal.commit_start);
	s->wal.timing = 1;
	return 0;
}

/* Called once the commit's frames are in the WAL. */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;
	uint64_t us;

	(void)db;
	(void)name;
	s->wal.frames = frames < 0 ? 0 : (uint32_t)frames;
	s->wal.commits++;
	if (s->wal.timing) {
		us = clock_us_since(&s->wal.commit_start);
		store_lat_add(&s->wal.commit, us);
		mx_observe(&s->wal.commit_all, us);
		s->wal.timing = 0;
	}
	return SQLITE_OK;
}

void
store_wal_init(struct store *s)
{
	sqlite3_stmt *st;

	memset(&s->wal, 0, sizeof(s->wal));
	s->wal.page_size = 4096;
	if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0) > 0)
			s->wal.page_size = (uint32_t)sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	/*
	 * Our own hook replaces SQLite's autocheckpoint (off anyway,
	 * store.c): checkpoints happen here, between group commits.
	 */
	sqlite3_commit_hook(s->db, store_wal_commit_hook, s);
	sqlite3_wal_hook(s->db, store_wal_hook, s);
	store_wal_limits(s, STORE_WAL_CKPT_DEF, STORE_WAL_MAX_DEF);
}

void
store_wal_limits(struct store *s, uint64_t ckpt, uint64_t max)
{
	char sql[64];
	uint64_t limit;

	s->wal.ckpt_bytes = ckpt;
	s->wal.max_bytes = max > ckpt ? max : ckpt;
	/*
	 * When SQLite starts the WAL over it cuts a file longer than this:
	 * a burst that grew it past three times the checkpoint size does
	 * not keep the disk.  Not smaller: the steady state, up to twice
	 * the checkpoint size (store_wal_check), would then truncate, and
	 * sync, in the loop on every cycle.  The number is ours, not
	 * data, and pragmas take no bound parameters.
	 */
	limit = ckpt * 3 < s->wal.max_bytes ? ckpt * 3 : s->wal.max_bytes;
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %" PRIu64,
	    limit);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		store_err(s, __func__);
}

/* One checkpoint of mode; 1 if the whole WAL is in the database. */
static int
store_wal_ckpt(struct store *s, int mode)
{
	struct timespec t0;
	int logged = 0, done = 0, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mode == SQLITE_CHECKPOINT_TRUNCATE)
		sqlite3_busy_timeout(s->db, STORE_WAL_BUSY_MS);
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, mode, &logged, &done);
	if (mode == SQLITE_CHECKPOINT_TRUNCATE)
		sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	store_lat_add(&s->wal.ckpt, clock_us_since(&t0));
	if (rc == SQLITE_BUSY) {
		/* A reader holds the log; it is not an error of ours. */
		log_debug("%s: busy (%d of %d frames)", __func__, done,
		    logged);
		return 0;
	}
	if (rc != SQLITE_OK) {
		store_err(s, __func__);
		return -1;
	}
	s->wal.checkpoints++;
	if (mode == SQLITE_CHECKPOINT_TRUNCATE)
		s->wal.truncates++;
	if (logged >= 0 && done >= logged) {
		/* The next commit starts the WAL over. */
		s->wal.frames = 0;
		return 1;
	}
	return 0;
}

/*
 * The frames appended while the checkpointer thread ran: few, so this
 * inline checkpoint is short, and it leaves the WAL whole in the
 * database, which lets the next commit start it over.
 */
int
store_wal_tail(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	return store_wal_ckpt(s, SQLITE_CHECKPOINT_PASSIVE);
}

/* The thread's checkpoint; what the WAL held then measures the load. */
static int
store_wal_ask(struct store *s)
{
	s->wal.asked_frames = s->wal.frames;
	return store_ckpt_ask(s);
}

int
store_wal_check(struct store *s)
{
	struct timespec now;
	uint64_t bytes;
	int rc;

	/* A checkpoint cannot run inside a transaction; the next call will. */
	if (!sqlite3_get_autocommit(s->db) || s->wal.frames == 0)
		return 0;
	bytes = (uint64_t)s->wal.frames * (s->wal.page_size +
	    STORE_WAL_FRAME_HDR) + STORE_WAL_HDR;
	/*
	 * The thread finished, and commits appended frames meanwhile.
	 * The inline tail copies them and lets the next commit start the
	 * WAL over, but its fsyncs stall every reply in the loop for a
	 * few ms: at 1,000 messages/s, about every 130 ms, which was
	 * r1000's p99.  Under such a load the thread's next pass catches
	 * up and ends at a quiet moment, and the next commit starts the
	 * WAL over then; so it gets that pass.  Only a load that appended
	 * a quarter of a checkpoint's worth during the pass, or a WAL
	 * past twice the checkpoint size, gets the tail: the thread would
	 * not catch up, and the bound matters more than the stall there.
	 * Fewer frames than when it was asked: the WAL started over after
	 * the pass, which caught up; only the size checks below apply.
	 */
	if (store_ckpt_finished(s) && bytes < s->wal.max_bytes &&
	    s->wal.frames >= s->wal.asked_frames) {
		if (bytes < 2 * s->wal.ckpt_bytes &&
		    (uint64_t)(s->wal.frames - s->wal.asked_frames) *
		    (s->wal.page_size + STORE_WAL_FRAME_HDR) <
		    s->wal.ckpt_bytes / 4 && store_wal_ask(s) == 0)
			return 0;
		return store_wal_tail(s);
	}
	if (bytes < s->wal.ckpt_bytes)
		return 0;
	/* The checkpointer thread's fsyncs do not stall the event loop. */
	if (bytes < s->wal.max_bytes)
		return store_wal_ask(s) == 0 ? 0 :
		    store_wal_ckpt(s, SQLITE_CHECKPOINT_PASSIVE);
	/*
	 * Past the bound: the loop waits (no more commits meanwhile) for
	 * our own thread's checkpoint, which would make the TRUNCATE busy,
	 * as the TRUNCATE waits for a reader.  On a starved machine the
	 * thread can take longer than the commits that fill the WAL; only
	 * this wait holds the bound then.  Still busy: the next commit
	 * tries again, without the backoff that is for another reader.
	 */
	if (store_ckpt_idle(s, STORE_WAL_IDLE_MS) == -1)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < s->wal.truncate_after.tv_sec ||
	    (now.tv_sec == s->wal.truncate_after.tv_sec &&
	    now.tv_nsec < s->wal.truncate_after.tv_nsec))
		return store_wal_ask(s) == 0 ? 0 :
		    store_wal_ckpt(s, SQLITE_CHECKPOINT_PASSIVE);
	if ((rc = store_wal_ckpt(s, SQLITE_CHECKPOINT_TRUNCATE)) == 0) {
		log_warnx("%s: the WAL holds %" PRIu64 " bytes, past %" PRIu64
		    ", and a reader keeps it from being truncated", __func__,
		    bytes, s->wal.max_bytes);
		now.tv_sec += STORE_WAL_BACKOFF_MS / 1000;
		now.tv_nsec += (STORE_WAL_BACKOFF_MS % 1000) * 1000000L;
		if (now.tv_nsec >= 1000000000L) {
			now.tv_sec++;
			now.tv_nsec -= 1000000000L;
		}
		s->wal.truncate_after = now;
	}
	return rc;
}

/* The files' sizes and the counts since open; no window is touched. */
static void
store_wal_counts(struct store *s, struct store_stats *st)
{
	const char *db;
	struct stat sb;
	char *side;

	memset(st, 0, sizeof(*st));
	if ((db = sqlite3_db_filename(s->db, "main")) != NULL) {
		if (stat(db, &sb) == 0)
			st->db_bytes = (uint64_t)sb.st_size;
		xasprintf(&side, "%s-wal", db);
		if (stat(side, &sb) == 0)
			st->wal_bytes = (uint64_t)sb.st_size;
		free(side);
	}
	st->wal_frames = s->wal.frames;
	st->commits = s->wal.commits;
	st->checkpoints = s->wal.checkpoints;
	st->truncates = s->wal.truncates;
}

/* For metrics: the counts and every commit's time since open. */
void
store_wal_sizes(struct store *s, struct store_stats *st,
    struct mx_hist *commits)
{
	store_wal_counts(s, st);
	*commits = s->wal.commit_all;
}

void
store_wal_stats(struct store *s, struct store_stats *st)
{
	store_ckpt_take(s, &s->wal.checkpoints, &s->wal.ckpt);
	store_wal_counts(s, st);
	st->window_commits = s->wal.commit.count;
	st->commit_p50_us = store_lat_pct(&s->wal.commit, 50);
	st->commit_p99_us = store_lat_pct(&s->wal.commit, 99);
	st->commit_max_us = store_lat_pct(&s->wal.commit, 100);
	st->window_checkpoints = s->wal.ckpt.count;
	st->ckpt_p50_us = store_lat_pct(&s->wal.ckpt, 50);
	st->ckpt_p99_us = store_lat_pct(&s->wal.ckpt, 99);
	st->ckpt_max_us = store_lat_pct(&s->wal.ckpt, 100);
	/* Each call reports the window since the one before. */
	memset(&s->wal.commit, 0, sizeof(s->wal.commit));
	memset(&s->wal.ckpt, 0, sizeof(s->wal.ckpt));
}
