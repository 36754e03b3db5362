/*
 * Between the schedule files: the search in a zone already entered
 * (cron_next.c) and the zone itself (cron_tz.c), so cron_due() can run
 * several searches under one TZ change.
 */
#ifndef WX_CRON_INT_H
#define WX_CRON_INT_H

#include <time.h>

#include "cron.h"

/*
 * The previous TZ, put back by cron_tz_leave().  A longer TZ than this
 * could not be put back, so cron_tz_enter() refuses to touch it.
 */
#define CRON_TZ_SAVE_MAX	256
struct cron_tz {
	int	 had;
	char	 old[CRON_TZ_SAVE_MAX];
};

#define CRON_ZONEINFO	"/usr/share/zoneinfo"

/* Make tz the zone of localtime_r(); 0 or -1 (nothing changed). */
/* A message into err (when errlen > 0); returns -1. */
int	cron_err(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	cron_tz_enter(const char *tz, struct cron_tz *);
void	cron_tz_leave(const struct cron_tz *);
/* The UTC offset at t in the entered zone; 0 or -1. */
int	cron_tz_offset(time_t t, long *off);
/*
 * The first fire in (after, until] in the entered zone, or CRON_NEVER;
 * -1 if the zone fails to answer.
 */
int	cron_search(const struct cron *, time_t after, time_t until,
	    time_t *next);

#endif
