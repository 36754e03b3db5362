/*
 * Unit tests for the schedule core: policy/cron.c (syntax, errors
 * naming the field), policy/cron_next.c (next fire in a zone, the DST
 * rule across Europe/Berlin's 2027 changes), policy/cron_tz.c (zone
 * names) and policy/cron_due.c (catch-up after downtime).
 *
 * Expected instants were derived once with Python's zoneinfo and are
 * written here as constants, each with its wall time; nothing here runs
 * Python.  Berlin 2027: spring forward 2027-03-28 02:00 CET -> 03:00
 * CEST (01:00Z), fall back 2027-10-31 03:00 CEST -> 02:00 CET (01:00Z).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"
#include "log.h"

#define NONE	CRON_NEVER

static void	test_parse(void **);
static void	test_macros(void **);
static void	test_errors(void **);
static void	test_every_parse(void **);
static void	test_tz(void **);
static void	test_next_table(void **);
static void	test_spring_once(void **);
static void	test_fall_once(void **);
static void	test_wild_follows_clock(void **);
static void	test_every_dst(void **);
static void	test_due(void **);
static void	test_tz_restored(void **);

static void
test_parse(void **state)
{
	struct cron c, d;
	char err[CRON_ERR_MAX];

	(void)state;
	assert_int_equal(cron_parse("*/15 * * * *", &c, err, sizeof(err)), 0);
	assert_true(c.minute == (1ULL | 1ULL << 15 | 1ULL << 30 | 1ULL << 45));
	assert_int_equal(c.hour, 0xffffff);
	assert_int_equal(c.dom, 0xfffffffe);
	assert_int_equal(c.month, 0x1ffe);
	assert_int_equal(c.dow, 0x7f);
	assert_int_equal(c.flags, CRON_F_MIN_STAR | CRON_F_HOUR_STAR |
	    CRON_F_DOM_STAR | CRON_F_DOW_STAR);

	assert_int_equal(cron_parse("0 9 * * 1-5", &c, err, sizeof(err)), 0);
	assert_true(c.minute == 1);
	assert_int_equal(c.hour, 1u << 9);
	assert_int_equal(c.dow, 0x3e);
	assert_int_equal(c.flags, CRON_F_DOM_STAR);

	/* Ranges with steps, lists, surrounding blanks. */
	assert_int_equal(cron_parse("  10-30/10,59 0-23/6 1,15 */3 *\t",
	    &c, err, sizeof(err)), 0);
	assert_true(c.minute == (1ULL << 10 | 1ULL << 20 | 1ULL << 30 |
	    1ULL << 59));
	assert_int_equal(c.hour, 1u | 1u << 6 | 1u << 12 | 1u << 18);
	assert_int_equal(c.dom, 1u << 1 | 1u << 15);
	assert_int_equal(c.month, 1u << 1 | 1u << 4 | 1u << 7 | 1u << 10);

	/* Names, any case, in lists and ranges; 7 and 0 are Sunday. */
	assert_int_equal(cron_parse("0 12 * JAN,jul Mon-FRI", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.month, 1u << 1 | 1u << 7);
	assert_int_equal(c.dow, 0x3e);
	assert_int_equal(cron_parse("0 0 * * 7", &c, err, sizeof(err)), 0);
	assert_int_equal(cron_parse("0 0 * * sun", &d, err, sizeof(err)), 0);
	assert_int_equal(c.dow, 1);
	assert_int_equal(d.dow, 1);
	assert_int_equal(cron_parse("0 0 * * 5-7", &c, err, sizeof(err)), 0);
	assert_int_equal(c.dow, 1u | 1u << 5 | 1u << 6);
	assert_int_equal(cron_parse("0 0 * * 0-7", &c, err, sizeof(err)), 0);
	assert_int_equal(c.dow, 0x7f);
}

static void
test_macros(void **state)
{
	static const struct {
		const char	*macro;
		const char	*expr;
	} t[] = {
		{ "@yearly",	"0 0 1 1 *" },
		{ "@annually",	"0 0 1 1 *" },
		{ "@monthly",	"0 0 1 * *" },
		{ "@weekly",	"0 0 * * 0" },
		{ "@daily",	"0 0 * * *" },
		{ "@midnight",	"0 0 * * *" },
		{ "@HOURLY",	"0 * * * *" },
	};
	struct cron a, b;
	char err[CRON_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(cron_parse(t[i].macro, &a, err, sizeof(err)),
		    0);
		assert_int_equal(cron_parse(t[i].expr, &b, err, sizeof(err)),
		    0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	assert_int_equal(cron_parse("@reboot", &a, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown schedule \"@reboot\"");
	assert_int_equal(cron_parse("@daily 1", &a, err, sizeof(err)), -1);
}

/* Each bad expression, and the error it must give: field first. */
static void
test_errors(void **state)
{
	static const struct {
		const char	*expr;
		const char	*err;
	} t[] = {
		{ "60 * * * *",	"minute: 60 is out of range 0-59" },
		{ "* 24 * * *",	"hour: 24 is out of range 0-23" },
		{ "* * 0 * *",	"day-of-month: 0 is out of range 1-31" },
		{ "* * * 13 *",	"month: 13 is out of range 1-12" },
		{ "* * * * 8",	"day-of-week: 8 is out of range 0-7" },
		{ "*/0 * * * *", "minute: step 0 is out of range 1-59" },
		{ "*/60 * * * *", "minute: step 60 is out of range 1-59" },
		{ "a-b * * * *", "minute: expected a number at \"a-b\"" },
		{ "a-b",	"minute: expected a number at \"a-b\"" },
		{ "* * * * *-1", "day-of-week: unexpected \"-1\"" },
		{ "5-1 * * * *", "minute: range 5-1 goes backwards" },
		{ "5/15 * * * *",
		    "minute: a step needs \"*\" or a range before it" },
		{ "1,,2 * * * *", "minute: empty list item" },
		{ "1, * * * *",	"minute: empty list item" },
		{ "* * * * fry", "day-of-week: unknown name \"fry\"" },
		{ "* * * janu *", "month: unknown name \"janu\"" },
		{ "* * * * jan", "day-of-week: unknown name \"jan\"" },
		{ "* * mon * *", "day-of-month: expected a number at \"mon\"" },
		{ "007 * * * *", "minute: number too long" },
		{ "*/ * * * *",	"minute: step is not a number" },
		{ "* * * *", "expected 5 fields (minute hour day-of-month "
		    "month day-of-week), got 4" },
		{ "* * * * * *", "expected 5 fields (minute hour day-of-month "
		    "month day-of-week), got 6" },
		{ "", "expected 5 fields (minute hour day-of-month "
		    "month day-of-week), got 0" },
	};
	struct cron c;
	char err[CRON_ERR_MAX], longexpr[CRON_EXPR_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(err, 0, sizeof(err));
		if (cron_parse(t[i].expr, &c, err, sizeof(err)) != -1)
			fail_msg("\"%s\" parsed", t[i].expr);
		if (strcmp(err, t[i].err) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", t[i].expr,
			    err, t[i].err);
	}
	memset(longexpr, ' ', sizeof(longexpr) - 1);
	longexpr[sizeof(longexpr) - 1] = '\0';
	memcpy(longexpr, "* * * * *", 9);
	assert_int_equal(cron_parse(longexpr, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "expression longer than 256 bytes");
	/* A short buffer is cut, never overrun; none at all is allowed. */
	assert_int_equal(cron_parse("60 * * * *", &c, err, 8), -1);
	assert_string_equal(err, "minute:");
	assert_int_equal(cron_parse("60 * * * *", &c, NULL, 0), -1);
}

static void
test_every_parse(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 secs;	/* -1: refused with err */
		const char	*err;
	} t[] = {
		{ "30m",	1800,	NULL },
		{ "1m",		60,	NULL },
		{ "2h",		7200,	NULL },
		{ "1d",		86400,	NULL },
		{ "366d",	366 * 86400, NULL },
		{ "367d",	-1,	"every: longer than 366d" },
		{ "99999999999999999999m", -1, "every: longer than 366d" },
		{ "0m",		-1,	"every: shorter than 1m" },
		{ "30s",	-1,
		    "every: seconds are not a unit, the minimum is 1m" },
		{ "m",		-1,
		    "every: expected a number and a unit (30m, 2h, 1d)" },
		{ "",		-1,
		    "every: expected a number and a unit (30m, 2h, 1d)" },
		{ "-5m",	-1,
		    "every: expected a number and a unit (30m, 2h, 1d)" },
		{ "30",		-1,
		    "every: unknown unit \"\" (m, h or d)" },
		{ "1h30m",	-1,
		    "every: unknown unit \"h30m\" (m, h or d)" },
		{ "30m ",	-1,
		    "every: unknown unit \"m \" (m, h or d)" },
		{ "10x",	-1,
		    "every: unknown unit \"x\" (m, h or d)" },
	};
	struct cron c;
	char err[CRON_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(err, 0, sizeof(err));
		if (t[i].secs > 0) {
			if (cron_every_parse(t[i].s, &c, err, sizeof(err)) != 0)
				fail_msg("\"%s\": %s", t[i].s, err);
			assert_int_equal(c.kind, CRON_EVERY);
			assert_int_equal(c.every, t[i].secs);
			assert_int_equal(c.anchor, 0);
			continue;
		}
		if (cron_every_parse(t[i].s, &c, err, sizeof(err)) != -1)
			fail_msg("\"%s\" parsed", t[i].s);
		if (strcmp(err, t[i].err) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", t[i].s, err,
			    t[i].err);
	}
}

static void
test_tz(void **state)
{
	static const char *const good[] = { "Europe/Berlin", "UTC",
	    "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Asia/Kolkata" };
	static const struct {
		const char	*tz;
		const char	*err;
	} bad[] = {
		{ "Mars/Olympus_Mons", "tz: unknown time zone "
		    "\"Mars/Olympus_Mons\" (not in /usr/share/zoneinfo)" },
		{ "", "tz: empty" },
		{ "/etc/localtime",
		    "tz: \"/etc/localtime\" is a path, not a zone name" },
		{ "Europe/../../../etc/passwd", "tz: \"Europe/../../../etc/"
		    "passwd\" is not a zone name (empty, \".\" or \"..\" "
		    "part)" },
		{ "../zoneinfo/UTC", "tz: \"../zoneinfo/UTC\" is not a zone "
		    "name (empty, \".\" or \"..\" part)" },
		{ "Europe//Berlin", "tz: \"Europe//Berlin\" is not a zone "
		    "name (empty, \".\" or \"..\" part)" },
		{ "Europe/", "tz: \"Europe/\" is not a zone "
		    "name (empty, \".\" or \"..\" part)" },
		{ "./UTC", "tz: \"./UTC\" is not a zone "
		    "name (empty, \".\" or \"..\" part)" },
		{ "Europe", "tz: \"Europe\" is not a time zone file" },
		{ "zone.tab", "tz: \"zone.tab\" is not a time zone file" },
		{ "CET-1CEST,M3.5.0,M10.5.0/3", "tz: \"CET-1CEST,M3.5.0,"
		    "M10.5.0/3\" is not a zone name (like Europe/Berlin)" },
		{ ":Europe/Berlin", "tz: \":Europe/Berlin\" is not a zone "
		    "name (like Europe/Berlin)" },
		{ "Europe/Berlin ", "tz: \"Europe/Berlin \" is not a zone "
		    "name (like Europe/Berlin)" },
	};
	struct cron c;
	char err[CRON_ERR_MAX];
	time_t next;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (cron_tz_check(good[i], err, sizeof(err)) != 0)
			fail_msg("%s: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 0, sizeof(err));
		if (cron_tz_check(bad[i].tz, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", bad[i].tz);
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].tz,
			    err, bad[i].err);
	}
	/* glibc would read an unknown zone as UTC: cron_next() refuses. */
	assert_int_equal(cron_parse("0 9 * * *", &c, err, sizeof(err)), 0);
	assert_int_equal(cron_next(&c, "Mars/Olympus_Mons", 1798761600,
	    &next), -1);
	assert_int_equal(cron_next(&c, "../../etc/passwd", 1798761600,
	    &next), -1);
	/* So does a time it cannot search from. */
	assert_int_equal(cron_next(&c, "UTC", -1, &next), -1);
	assert_int_equal(cron_next(&c, "UTC", CRON_AFTER_MAX + 1, &next),
	    -1);
}

/*
 * The table: expression, zone, after -> next fire.  Wall times are
 * Berlin's where the zone is, UTC's otherwise.
 */
static void
test_next_table(void **state)
{
	static const struct {
		const char	*expr;
		const char	*tz;
		time_t		 after;
		time_t		 next;
	} t[] = {
		/* 2027-01-01 00:07Z -> 00:15Z */
		{ "*/15 * * * *", "UTC", 1798762020, 1798762500 },
		/* 00:15Z itself -> 00:30Z: strictly after */
		{ "*/15 * * * *", "UTC", 1798762500, 1798763400 },
		/* Fri 2027-01-08 10:00 CET -> Mon 01-11 09:00 CET */
		{ "0 9 * * 1-5", "Europe/Berlin", 1799398800, 1799654400 },
		{ "0 9 * * mon-fri", "Europe/Berlin", 1799398800, 1799654400 },
		/* Sat 03-27 03:00 CET -> 03-28 03:00 CEST: the gap's end */
		{ "30 2 * * *", "Europe/Berlin", 1806112800, 1806195600 },
		/* ... and from there to 03-29 02:30 CEST, once */
		{ "30 2 * * *", "Europe/Berlin", 1806195600, 1806280200 },
		/* Sat 10-30 03:00 CEST -> 10-31 02:30 CEST, the first */
		{ "30 2 * * *", "Europe/Berlin", 1824858000, 1824942600 },
		/* ... then 11-01 02:30 CET, not 10-31 02:30 CET */
		{ "30 2 * * *", "Europe/Berlin", 1824942600, 1825032600 },
		/* 10-31 02:50 CEST (first pass) -> 02:00 CET, 10 min on */
		{ "*/15 * * * *", "Europe/Berlin", 1824943800, 1824944400 },
		/* OR rule, 2027-01-31 00:00Z -> Mon 02-01 (the 1st) */
		{ "0 0 1,15 * 5", "UTC", 1801353600, 1801440000 },
		/* -> Fri 02-05 -> Fri 02-12 -> Mon 02-15 (the 15th) */
		{ "0 0 1,15 * 5", "UTC", 1801440000, 1801785600 },
		{ "0 0 1,15 * 5", "UTC", 1801785600, 1802390400 },
		{ "0 0 1,15 * 5", "UTC", 1802390400, 1802649600 },
		{ "0 0 1,15 * fri", "UTC", 1802649600, 1802995200 },
		/* a '*' day field: AND, so Fridays only: 02-01 -> 02-05 */
		{ "0 0 * * 5", "UTC", 1801353600, 1801785600 },
		/* 2027-06-30 00:00Z -> Thu 07-01 12:00Z */
		{ "0 12 * JAN,jul Mon-FRI", "UTC", 1814313600, 1814443200 },
		/* 2027-01-01 (Fri) -> Sun 01-03, from 7 and from sun */
		{ "0 0 * * 7", "UTC", 1798761600, 1798934400 },
		{ "0 0 * * SUN", "UTC", 1798761600, 1798934400 },
		/* Feb 29: 2027-01-01 -> 2028-02-29 */
		{ "0 0 29 2 *", "UTC", 1798761600, 1835395200 },
		/* Feb 30 and 31 never come */
		{ "0 0 30 2 *", "UTC", 1798761600, NONE },
		{ "0 0 31 2,4,6,9,11 *", "Europe/Berlin", 1798761600, NONE },
		/* @yearly from 2027-01-01 00:00Z -> 2028-01-01 00:00Z */
		{ "@yearly", "UTC", 1798761600, 1830297600 },
	};
	struct cron c;
	char err[CRON_ERR_MAX];
	time_t next;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (cron_parse(t[i].expr, &c, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", t[i].expr, err);
		next = 0;
		if (cron_next(&c, t[i].tz, t[i].after, &next) != 0)
			fail_msg("\"%s\" %s: failed", t[i].expr, t[i].tz);
		if (next != t[i].next)
			fail_msg("\"%s\" %s after %lld: got %lld, want %lld",
			    t[i].expr, t[i].tz, (long long)t[i].after,
			    (long long)next, (long long)t[i].next);
	}
}

/* Every fire of expr in zone tz in (from, to], into out. */
static size_t
fires(const char *expr, const char *tz, time_t from, time_t to,
    time_t *out, size_t max)
{
	struct cron c;
	char err[CRON_ERR_MAX];
	time_t t = from, next;
	size_t n = 0;

	if (cron_parse(expr, &c, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", expr, err);
	for (;;) {
		assert_int_equal(cron_next(&c, tz, t, &next), 0);
		if (next == NONE || next > to)
			return n;
		assert_true(n < max);
		out[n++] = t = next;
	}
}

/*
 * 2027-03-27 00:00Z .. 03-29 23:59Z: fixed-time jobs in the skipped
 * hour run once, at 03:00 CEST (01:00Z), however many slots they had.
 */
static void
test_spring_once(void **state)
{
	time_t f[8];

	(void)state;
	/* 03-27 02:30 CET, 03-28 03:00 CEST, 03-29 02:30 CEST */
	assert_int_equal(fires("30 2 * * *", "Europe/Berlin", 1806105600,
	    1806364740, f, 8), 3);
	assert_int_equal(f[0], 1806111000);
	assert_int_equal(f[1], 1806195600);
	assert_int_equal(f[2], 1806280200);
	/* 02:00 and 02:30 both skipped: one run at 03:00 CEST */
	assert_int_equal(fires("0,30 2 * * *", "Europe/Berlin", 1806192000,
	    1806278399, f, 8), 1);
	assert_int_equal(f[0], 1806195600);
	/* 02:00 skipped, 03:00 real: still one run at 03:00 CEST */
	assert_int_equal(fires("0 2,3 * * *", "Europe/Berlin", 1806192000,
	    1806278399, f, 8), 1);
	assert_int_equal(f[0], 1806195600);
	/* 01:59 CET, just before the gap, is an ordinary minute */
	assert_int_equal(fires("59 1 * * *", "Europe/Berlin", 1806192000,
	    1806195600, f, 8), 1);
	assert_int_equal(f[0], 1806195540);
}

/* 2027-10-31: fixed-time jobs in the repeated hour run once, first. */
static void
test_fall_once(void **state)
{
	time_t f[8];

	(void)state;
	/* 10-30 02:30 CEST, 10-31 02:30 CEST, 11-01 02:30 CET */
	assert_int_equal(fires("30 2 * * *", "Europe/Berlin", 1824854400,
	    1825033000, f, 8), 3);
	assert_int_equal(f[0], 1824856200);
	assert_int_equal(f[1], 1824942600);
	assert_int_equal(f[2], 1825032600);
	/* 02:00 and 02:45 CEST, not again in CET; 03:00 CET after */
	assert_int_equal(fires("0,45 2,3 * * *", "Europe/Berlin", 1824940000,
	    1824948000, f, 8), 3);
	assert_int_equal(f[0], 1824940800);
	assert_int_equal(f[1], 1824943500);
	assert_int_equal(f[2], 1824948000);
}

/*
 * Wildcard jobs follow the wall clock: "* /15" and "0 *" keep their real
 * spacing through both changes (the skipped hour has no slots, the
 * repeated hour has its own), 2027-03-27 22:00Z .. 03-28 04:00Z and
 * 2027-10-30 22:00Z .. 10-31 04:00Z.
 */
static void
test_wild_follows_clock(void **state)
{
	static const time_t span[][2] = {
		{ 1806184800, 1806206400 },
		{ 1824933600, 1824955200 },
	};
	time_t f[64];
	size_t i, j, n;

	(void)state;
	for (i = 0; i < 2; i++) {
		n = fires("*/15 * * * *", "Europe/Berlin", span[i][0],
		    span[i][1], f, 64);
		assert_int_equal(n, 24);
		for (j = 0; j < n; j++)
			assert_int_equal(f[j], span[i][0] + 900 * (j + 1));
		n = fires("0 * * * *", "Europe/Berlin", span[i][0],
		    span[i][1], f, 64);
		assert_int_equal(n, 6);
		for (j = 0; j < n; j++)
			assert_int_equal(f[j], span[i][0] + 3600 * (j + 1));
	}
	/* Minute-starred, hour fixed: the skipped 2 o'clock never comes. */
	n = fires("*/30 2 * * *", "Europe/Berlin", 1806184800, 1806278399, f,
	    64);
	assert_int_equal(n, 0);
	/* ... and the repeated one comes twice: 4 runs, CEST then CET. */
	n = fires("*/30 2 * * *", "Europe/Berlin", 1824933600, 1824955200, f,
	    64);
	assert_int_equal(n, 4);
	assert_int_equal(f[0], 1824940800);
	assert_int_equal(f[1], 1824942600);
	assert_int_equal(f[2], 1824944400);
	assert_int_equal(f[3], 1824946200);
}

/* "every: 30m" counts seconds: 1800 apart through both changes. */
static void
test_every_dst(void **state)
{
	static const time_t from[] = { 1806184800, 1824933600 };
	struct cron c;
	char err[CRON_ERR_MAX];
	time_t t, next;
	size_t i, j;

	(void)state;
	assert_int_equal(cron_every_parse("30m", &c, err, sizeof(err)), 0);
	for (i = 0; i < 2; i++) {
		t = from[i] + 1;
		for (j = 0; j < 12; j++) {
			assert_int_equal(cron_next(&c, "Europe/Berlin", t,
			    &next), 0);
			assert_int_equal(next,
			    from[i] + 1800 * (time_t)(j + 1));
			t = next;
		}
	}
	/* The zone is not read: any name, even none, gives the same. */
	assert_int_equal(cron_next(&c, NULL, from[0], &next), 0);
	assert_int_equal(next, from[0] + 1800);
	/* An anchor moves the grid: 2h from 00:10Z. */
	assert_int_equal(cron_every_parse("2h", &c, err, sizeof(err)), 0);
	c.anchor = 1798762200;
	assert_int_equal(cron_next(&c, NULL, 1798761600, &next), 0);
	assert_int_equal(next, 1798762200);
	assert_int_equal(cron_next(&c, NULL, 1798762200, &next), 0);
	assert_int_equal(next, 1798762200 + 7200);
}

static void
due(const char *expr, enum cron_catchup cu, time_t last, time_t now,
    time_t want_run, time_t want_next)
{
	struct cron c;
	char err[CRON_ERR_MAX];
	time_t run = 0, next = 0;
	int rv;

	if (strncmp(expr, "every ", 6) == 0)
		rv = cron_every_parse(expr + 6, &c, err, sizeof(err));
	else
		rv = cron_parse(expr, &c, err, sizeof(err));
	if (rv != 0)
		fail_msg("\"%s\": %s", expr, err);
	assert_int_equal(cron_due(&c, "Europe/Berlin", cu, last, now, &run,
	    &next), 0);
	if (run != want_run || next != want_next)
		fail_msg("\"%s\" %lld..%lld: run %lld next %lld, want %lld "
		    "%lld", expr, (long long)last, (long long)now,
		    (long long)run, (long long)next, (long long)want_run,
		    (long long)want_next);
}

static void
test_due(void **state)
{
	(void)state;
	/*
	 * A missed night: last run 06-01 22:00 CEST, the hub back at
	 * 06-02 07:10.  latest: one run, for 07:00; then 07:30.
	 */
	due("*/30 * * * *", CRON_CATCHUP_LATEST, 1811880000, 1811913000,
	    1811912400, 1811914200);
	due("*/30 * * * *", CRON_CATCHUP_NONE, 1811880000, 1811913000,
	    NONE, 1811914200);
	due("every 30m", CRON_CATCHUP_LATEST, 1811880000, 1811913000,
	    1811912400, 1811914200);
	/* On time (5 s late): both run it. */
	due("*/30 * * * *", CRON_CATCHUP_NONE, 1811910600, 1811912405,
	    1811912400, 1811914200);
	due("*/30 * * * *", CRON_CATCHUP_LATEST, 1811910600, 1811912405,
	    1811912400, 1811914200);
	/* Not yet due: nothing, and the next slot. */
	due("*/30 * * * *", CRON_CATCHUP_LATEST, 1811912400, 1811913000,
	    NONE, 1811914200);
	/* Down over the spring night: the gap's run is the one. */
	due("30 2 * * *", CRON_CATCHUP_LATEST, 1806111000, 1806220800,
	    1806195600, 1806280200);
	/* A year of "* * * * *" missed: one run, for the last minute. */
	due("* * * * *", CRON_CATCHUP_LATEST, 1798761600, 1830297630,
	    1830297600, 1830297660);
	/* The clock went back an hour: nothing again, next after last. */
	due("*/30 * * * *", CRON_CATCHUP_LATEST, 1811912400, 1811908800,
	    NONE, 1811914200);
	/* Never: nothing to run, nothing next. */
	due("0 0 30 2 *", CRON_CATCHUP_LATEST, 1798761600, 1830297630,
	    NONE, NONE);
}

/* The caller's TZ survives a search, set or unset. */
static void
test_tz_restored(void **state)
{
	struct cron c;
	char err[CRON_ERR_MAX];
	time_t next;

	(void)state;
	assert_int_equal(cron_parse("0 9 * * *", &c, err, sizeof(err)), 0);
	assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
	assert_int_equal(cron_next(&c, "Europe/Berlin", 1798761600, &next),
	    0);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	assert_int_equal(unsetenv("TZ"), 0);
	assert_int_equal(cron_next(&c, "Europe/Berlin", 1798761600, &next),
	    0);
	assert_null(getenv("TZ"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_every_parse),
		cmocka_unit_test(test_tz),
		cmocka_unit_test(test_next_table),
		cmocka_unit_test(test_spring_once),
		cmocka_unit_test(test_fall_once),
		cmocka_unit_test(test_wild_follows_clock),
		cmocka_unit_test(test_every_dst),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_tz_restored),
	};

	log_init(0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
