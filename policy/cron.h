/*
 * Schedules (issue #15): a 5-field cron expression read in an IANA time
 * zone, or an interval (`every: 30m`), and what to run after downtime.
 * Pure but for the zone: time is always an argument, nothing here reads
 * a clock, logs or allocates.  The hub's timer (phase 2) calls
 * cron_due() when a schedule's next fire comes round.
 *
 * The DST rule is pinned in cron_next.c's opening comment and in
 * docs/architecture.md ("Schedules").
 */
#ifndef WX_CRON_H
#define WX_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CRON_EXPR_MAX	256	/* bytes of an expression, NUL excluded */
#define CRON_ERR_MAX	128	/* an error buffer this size holds any */
#define CRON_EVERY_MIN	60	/* seconds: the hub's timer has minutes */
#define CRON_EVERY_MAX	(366 * 86400)	/* past that, not "every" */
#define CRON_TZ_MAX	64	/* bytes of a zone name, NUL excluded */
#define CRON_HORIZON_DAYS (5 * 366)	/* how far cron_next() looks */
/* No fire time: the expression never matches within the horizon. */
#define CRON_NEVER	((time_t)-1)
/*
 * The latest instant cron_next() accepts as `after`: year 3000, far
 * past anything a schedule means, near enough that adding the horizon
 * never overflows and localtime_r() never fails.
 */
#define CRON_AFTER_MAX	((time_t)32503680000LL)

/* Vixie's flags: which fields began with '*' (see cron_next.c). */
#define CRON_F_MIN_STAR		0x01
#define CRON_F_HOUR_STAR	0x02
#define CRON_F_DOM_STAR		0x04
#define CRON_F_DOW_STAR		0x08

enum cron_kind {
	CRON_EXPR,		/* the bitmasks below, in a time zone */
	CRON_EVERY,		/* anchor + k * every seconds, zone-blind */
};

/* What a schedule does about slots it missed while the hub was down. */
enum cron_catchup {
	CRON_CATCHUP_LATEST,	/* run once, for the latest missed slot */
	CRON_CATCHUP_NONE,	/* skip them all, wait for the next */
};

struct cron {
	enum cron_kind	 kind;
	uint64_t	 minute;	/* bit n: minute n, 0-59 */
	uint32_t	 hour;		/* 0-23 */
	uint32_t	 dom;		/* 1-31 */
	uint16_t	 month;		/* 1-12 */
	uint8_t		 dow;		/* 0-6, Sunday 0 */
	uint8_t		 flags;		/* CRON_F_* */
	int64_t		 every;		/* CRON_EVERY: seconds */
	time_t		 anchor;	/* CRON_EVERY: a slot; 0 by default */
};

/*
 * "m h dom mon dow" or "@hourly", "@daily" ("@midnight"), "@weekly",
 * "@monthly", "@yearly" ("@annually").  0 or -1 with err naming the
 * field and the problem ("minute: 60 is out of range 0-59").
 */
int	cron_parse(const char *expr, struct cron *, char *err,
	    size_t errlen);
/* "30m", "2h", "1d": at least CRON_EVERY_MIN; 0 or -1 with err. */
int	cron_every_parse(const char *s, struct cron *, char *err,
	    size_t errlen);
/*
 * An IANA zone name naming a TZif file under the system's zoneinfo:
 * relative, no "." or ".." component; 0 or -1 with err.
 */
int	cron_tz_check(const char *tz, char *err, size_t errlen);
/*
 * Where cron_tz_check() reads a zone file's first bytes: fn(path,
 * magic) is 0 with the four read from a regular file, 1 if it is not
 * one, -1 if there is none; NULL: the file itself.  The configuration
 * reader keeps no directory and asks the root parent (conf_reader.c).
 */
void	cron_tz_peek(int (*fn)(const char *path, char magic[4]));
/*
 * The first fire strictly after `after` (0..CRON_AFTER_MAX), in zone tz
 * (ignored by CRON_EVERY): 0 with *next set, CRON_NEVER if none within
 * CRON_HORIZON_DAYS; -1 if tz or after is unusable (cron_tz_check()
 * says why).  Sets TZ for the call and puts it back: see cron_tz.c.
 */
int	cron_next(const struct cron *, const char *tz, time_t after,
	    time_t *next);
/*
 * After a fire was missed or came due: last is the last slot run (or
 * the schedule's creation), now the clock.  *run is the one slot to run
 * now or CRON_NEVER, *next the slot after now (or CRON_NEVER).  Never
 * more than one run, whatever the downtime; a slot at or before last is
 * never run again, so a clock set back repeats nothing.  0 or -1.
 */
int	cron_due(const struct cron *, const char *tz, enum cron_catchup,
	    time_t last, time_t now, time_t *run, time_t *next);

#endif
