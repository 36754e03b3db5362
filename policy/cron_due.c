/*
 * What a schedule runs when the hub gets to it: at most one slot, never
 * a burst, whatever the downtime.  The hub's timer (phase 2) calls
 * cron_due() with the last slot it ran and the clock; it stores *run as
 * the new last slot once the run is queued, and sleeps until *next.
 *
 * catch_up latest: the latest slot in (last, now] runs, once; the ones
 * before it are dropped.  catch_up none: that slot runs only if it is
 * on time, less than CRON_LATE_MAX old; a slot missed by more is
 * skipped like the rest.  Either way a slot at or before `last` never
 * runs, so a clock set back, or a hub restarted between queueing a run
 * and sleeping, repeats nothing.
 *
 * Finding the latest slot walks back from now in doubling windows,
 * not forward from last: a year's downtime of "* * * * *" would
 * otherwise be half a million searches.
 */
#include <time.h>

#include "cron.h"
#include "cron_int.h"

/*
 * A slot is on time for catch_up none when the hub reaches it within a
 * minute: the timer fires within milliseconds, a busy turn or a resumed
 * machine's first minute is still "now", a missed night is not.
 */
#define CRON_LATE_MAX	60
#define CRON_WINDOW_MIN	60	/* seconds: the first window back */

static int	cron_latest(const struct cron *, time_t, time_t, time_t *);

/* The latest slot in (last, now], or CRON_NEVER. */
static int
cron_latest(const struct cron *c, time_t last, time_t now, time_t *slot)
{
	time_t lo, win, s, t;

	for (win = CRON_WINDOW_MIN; ; win *= 2) {
		lo = now - win > last ? now - win : last;
		if (cron_search(c, lo, now, &s) == -1)
			return -1;
		if (s != CRON_NEVER)
			break;
		if (lo == last) {
			*slot = CRON_NEVER;
			return 0;
		}
	}
	/* At most the slots of two windows, each a search of its own. */
	for (;;) {
		if (cron_search(c, s, now, &t) == -1)
			return -1;
		if (t == CRON_NEVER)
			break;
		s = t;
	}
	*slot = s;
	return 0;
}

int
cron_due(const struct cron *c, const char *tz, enum cron_catchup catch_up,
    time_t last, time_t now, time_t *run, time_t *next)
{
	struct cron_tz sv;
	time_t slot, from = now > last ? now : last;
	int rv = -1;

	if (last < 0 || last > CRON_AFTER_MAX || now < 0 ||
	    now > CRON_AFTER_MAX)
		return -1;
	if (c->kind == CRON_EXPR && cron_tz_enter(tz, &sv) == -1)
		return -1;
	if (cron_latest(c, last, now, &slot) == -1)
		goto out;
	if (slot != CRON_NEVER && catch_up == CRON_CATCHUP_NONE &&
	    now - slot >= CRON_LATE_MAX)
		slot = CRON_NEVER;
	if (cron_search(c, from, from + (time_t)CRON_HORIZON_DAYS * 86400,
	    next) == -1)
		goto out;
	*run = slot;
	rv = 0;
 out:
	if (c->kind == CRON_EXPR)
		cron_tz_leave(&sv);
	return rv;
}
