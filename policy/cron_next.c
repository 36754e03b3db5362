/*
 * When a schedule fires next: the search over wall-clock times in a
 * zone, and the DST rule.  cron_next() is the entry; cron_due.c runs
 * the same search under one zone change.  Never loops without bound:
 * walls are walked day by day for at most CRON_HORIZON_DAYS.
 *
 * The DST rule, pinned (cronie's behaviour is the reference, cron.c's
 * "medium" and "negative" wake-ups; also docs/architecture.md):
 *
 * - A job is a wildcard job if its minute or hour field begins with '*'
 *   ("* /15 * * * *", "0 * * * *", "@hourly"), else a fixed-time job
 *   ("30 2 * * *", "0,30 1-3 * * *"): Vixie's MIN_STAR and HR_STAR.
 * - Spring (a wall-clock hour is skipped): a fixed-time job whose local
 *   time falls in the gap runs once, at the first instant after it
 *   (Berlin 2027-03-28: "30 2 * * *" runs at 03:00 CEST); several slots
 *   in one gap are one run.  A wildcard job's slots in the gap do not
 *   exist and are skipped; the next wall-clock match runs.
 * - Autumn (a wall-clock hour is repeated): a fixed-time job runs once,
 *   at the first occurrence (02:30 CEST, not again at 02:30 CET); a
 *   wildcard job follows the wall clock and runs in both passes
 *   ("0 * * * *" runs at 02:00 CEST, 02:00 CET and 03:00 CET: hourly).
 * - `every:` schedules count elapsed seconds from their anchor and
 *   ignore the zone: "every: 30m" is 1800 s apart across any change.
 *
 * How: candidate walls are generated in wall-clock order by pure
 * calendar arithmetic (a wall time is held as seconds since the epoch
 * as if it were UTC, so gmtime_r() gives its fields).  Each candidate
 * is turned into 0, 1 or 2 instants by asking the zone for its offsets
 * near that wall (cron_probe): t is an instant of wall w when
 * t + offset(t) == w.  Around a backward change wall order is not time
 * order (in the first pass, 02:10 of the second pass is still to come),
 * so the walk starts that change's size before `after`'s wall and, once
 * a fire is found, goes on for that size past its wall.
 */
#include <stdint.h>
#include <time.h>

#include "cron.h"
#include "cron_int.h"

/*
 * The offsets near a wall are read at 6-hour steps from 18 h before to
 * 12 h after it: wide enough for any offset (-12 h .. +14 h), fine
 * enough that no zone since 1970 held an offset for less than a step.
 */
#define CRON_PROBE_STEP	(6 * 3600)
#define CRON_PROBES	6
#define CRON_PROBE_FIRST (-3)
/* An instant is within this of its wall: bounds the walk. */
#define CRON_OFF_MAX	(15 * 3600)

struct cron_offsets {
	long	o[CRON_PROBES];
	int	n;
	long	min;
	long	max;
};

static int	cron_probe(time_t, struct cron_offsets *);
static int	cron_wild(const struct cron *);
static int	cron_day(const struct cron *, time_t);
static int	cron_gap_end(time_t, const struct cron_offsets *, time_t *);
static int	cron_instants(const struct cron *, time_t, time_t[2], long *);
static time_t	cron_floor(time_t, long);
static int	cron_every(const struct cron *, time_t, time_t, time_t *);

/* The distinct offsets of the zone near wall w. */
static int
cron_probe(time_t w, struct cron_offsets *po)
{
	long off;
	int i, j;

	po->n = 0;
	for (i = 0; i < CRON_PROBES; i++) {
		if (cron_tz_offset(w + (time_t)(CRON_PROBE_FIRST + i) *
		    CRON_PROBE_STEP, &off) == -1)
			return -1;
		for (j = 0; j < po->n && po->o[j] != off; j++)
			;
		if (j < po->n)
			continue;
		po->o[po->n++] = off;
		if (po->n == 1 || off < po->min)
			po->min = off;
		if (po->n == 1 || off > po->max)
			po->max = off;
	}
	return 0;
}

static int
cron_wild(const struct cron *c)
{
	return (c->flags & (CRON_F_MIN_STAR | CRON_F_HOUR_STAR)) != 0;
}

/* Vixie's day rule: both restricted, either matches; else both must. */
static int
cron_day(const struct cron *c, time_t dw)
{
	struct tm tm;
	int dom, dow;

	if (gmtime_r(&dw, &tm) == NULL)
		return 0;
	if (!(c->month & (1u << (tm.tm_mon + 1))))
		return 0;
	dom = (c->dom & (1u << tm.tm_mday)) != 0;
	dow = (c->dow & (1u << tm.tm_wday)) != 0;
	if (c->flags & (CRON_F_DOM_STAR | CRON_F_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

/*
 * Wall w is skipped: the first instant whose wall is past it, found by
 * bisection between w read with the largest offset near (before the
 * change) and with the smallest (after it).
 */
static int
cron_gap_end(time_t w, const struct cron_offsets *po, time_t *end)
{
	time_t lo = w - po->max, hi = w - po->min, mid;
	long off;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (cron_tz_offset(mid, &off) == -1)
			return -1;
		if (mid + off > w)
			hi = mid;
		else
			lo = mid;
	}
	*end = hi;
	return 0;
}

/*
 * The instants at which wall w fires under the DST rule, earliest
 * first: 0, 1 or 2 of them, or -1.  *spread is the size of any change
 * near w, how far wall order may stray from time order there.
 */
static int
cron_instants(const struct cron *c, time_t w, time_t t[2], long *spread)
{
	struct cron_offsets po;
	time_t cand;
	long off;
	int i, n = 0;

	if (cron_probe(w, &po) == -1)
		return -1;
	*spread = po.max - po.min;
	for (i = 0; i < po.n; i++) {
		cand = w - po.o[i];
		if (cron_tz_offset(cand, &off) == -1)
			return -1;
		if (off != po.o[i])
			continue;
		/* Two at most: no wall is passed three times in 30 hours. */
		if (n == 0)
			t[n++] = cand;
		else if (n == 1 && cand < t[0]) {
			t[1] = t[0];
			t[0] = cand;
			n++;
		} else if (n == 1)
			t[n++] = cand;
	}
	if (n == 0 && !cron_wild(c)) {
		if (cron_gap_end(w, &po, &t[0]) == -1)
			return -1;
		return 1;
	}
	if (n == 2 && !cron_wild(c))
		n = 1;
	return n;
}

/* t rounded down to a multiple of unit, negative t included. */
static time_t
cron_floor(time_t t, long unit)
{
	time_t q = t / unit;

	if (t % unit != 0 && t < 0)
		q--;
	return q * unit;
}

/* anchor + k * every, the first after `after`. */
static int
cron_every(const struct cron *c, time_t after, time_t until, time_t *next)
{
	time_t t;

	if (c->every < CRON_EVERY_MIN || c->every > CRON_EVERY_MAX ||
	    c->anchor < 0 || c->anchor > CRON_AFTER_MAX)
		return -1;
	if (after < c->anchor)
		t = c->anchor;
	else
		t = c->anchor + ((after - c->anchor) / c->every + 1) *
		    c->every;
	*next = t <= until ? t : CRON_NEVER;
	return 0;
}

int
cron_search(const struct cron *c, time_t after, time_t until, time_t *next)
{
	struct cron_offsets po;
	time_t best = CRON_NEVER, limit = 0, wstart, dw, w, t[2];
	long off, spread;
	int h, m, i, n;

	if (c->kind == CRON_EVERY)
		return cron_every(c, after, until, next);
	if (cron_tz_offset(after, &off) == -1 ||
	    cron_probe(after + off, &po) == -1)
		return -1;
	wstart = cron_floor(after + off - (po.max - po.min), 60);
	for (dw = cron_floor(wstart, 86400); dw - CRON_OFF_MAX <= until;
	    dw += 86400) {
		if (best != CRON_NEVER && dw > limit)
			break;
		if (!cron_day(c, dw))
			continue;
		for (h = 0; h < 24; h++) {
			if (!(c->hour & (1u << h)))
				continue;
			for (m = 0; m < 60; m++) {
				if (!(c->minute & (1ULL << m)))
					continue;
				w = dw + h * 3600 + m * 60;
				if (w < wstart)
					continue;
				if (best != CRON_NEVER && w > limit)
					goto out;
				if ((n = cron_instants(c, w, t, &spread)) == -1)
					return -1;
				for (i = 0; i < n; i++) {
					if (t[i] <= after || t[i] > until)
						continue;
					if (best != CRON_NEVER && t[i] >= best)
						continue;
					best = t[i];
					if (w + spread > limit)
						limit = w + spread;
				}
			}
		}
	}
 out:
	*next = best;
	return 0;
}

int
cron_next(const struct cron *c, const char *tz, time_t after, time_t *next)
{
	struct cron_tz sv;
	time_t until = after + (time_t)CRON_HORIZON_DAYS * 86400;
	int rv;

	if (after < 0 || after > CRON_AFTER_MAX)
		return -1;
	if (c->kind == CRON_EVERY)
		return cron_search(c, after, until, next);
	if (cron_tz_enter(tz, &sv) == -1)
		return -1;
	rv = cron_search(c, after, until, next);
	cron_tz_leave(&sv);
	return rv;
}
