/*
 * The syntax of schedules, and nothing else: a cron expression into
 * bitmasks, an `every` interval into seconds.  Called when the
 * configuration is checked (phase 2), so every error names the field
 * and what is wrong with it; the text comes from the operator's file,
 * and is rejected rather than repaired.
 *
 * The expression is Vixie cron's: "*", numbers, ranges "a-b", steps
 * "* /n" and "a-b/n" (the space only keeps this comment open), lists of
 * those; month and weekday names (three letters, any case) wherever a
 * number may stand, ranges included (Vixie allows them only alone);
 * day-of-week 7 is Sunday, as 0 is.  "a/n" without a range is refused:
 * crons differ on what it means.
 * Which fields begin with '*' is kept (CRON_F_*): Vixie's day rule and
 * the DST rule depend on it (cron_next.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "cron_int.h"

#define CRON_NUM_DIGITS	2	/* no field goes past 59 */
#define CRON_FIELDS	5
#define CRON_QUOTE_MAX	16	/* bytes of the input an error quotes */

enum cron_field { F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW };

static const struct cron_range {
	const char	 *name;		/* in errors */
	int		  lo;
	int		  hi;
	const char *const *names;	/* names for lo, lo+1, ... or NULL */
	int		  nnames;
} cron_ranges[CRON_FIELDS] = {
	{ "minute",	  0, 59, NULL, 0 },
	{ "hour",	  0, 23, NULL, 0 },
	{ "day-of-month", 1, 31, NULL, 0 },
	{ "month",	  1, 12, (const char *const []){ "jan", "feb", "mar",
	    "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" },
	    12 },
	/* 7 is also Sunday: it has no name of its own, "sun" is 0. */
	{ "day-of-week",  0, 7, (const char *const []){ "sun", "mon", "tue",
	    "wed", "thu", "fri", "sat" }, 7 },
};

static const struct {
	const char	*name;
	const char	*expr;
} cron_macros[] = {
	{ "@yearly",	"0 0 1 1 *" },
	{ "@annually",	"0 0 1 1 *" },
	{ "@monthly",	"0 0 1 * *" },
	{ "@weekly",	"0 0 * * 0" },
	{ "@daily",	"0 0 * * *" },
	{ "@midnight",	"0 0 * * *" },
	{ "@hourly",	"0 * * * *" },
};

static const struct {
	char		 unit;
	int64_t		 secs;
} cron_units[] = {
	{ 'm',	60 },
	{ 'h',	3600 },
	{ 'd',	86400 },
};

static int	cron_show(size_t);
static int	cron_value(const struct cron_range *, const char **, int *,
		    char *, size_t);
static int	cron_item(const struct cron_range *, const char *,
		    const char *, uint64_t *, char *, size_t);
static int	cron_field(enum cron_field, const char *, const char *,
		    struct cron *, char *, size_t);
static int	cron_fields(const char *, struct cron *, char *, size_t);

/* How much of the operator's text an error quotes: enough to find it. */
static int
cron_show(size_t len)
{
	return len > CRON_QUOTE_MAX ? CRON_QUOTE_MAX : (int)len;
}

int
cron_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A number or a name at *p, range-checked; *p moves past it. */
static int
cron_value(const struct cron_range *r, const char **p, int *v, char *err,
    size_t errlen)
{
	const char *s = *p;
	int i, n = 0, nd = 0;

	if (r->names != NULL && isalpha((unsigned char)*s)) {
		for (i = 0; i < r->nnames; i++) {
			if (strncasecmp(s, r->names[i], 3) == 0 &&
			    !isalpha((unsigned char)s[3])) {
				*v = r->lo + i;
				*p = s + 3;
				return 0;
			}
		}
		return cron_err(err, errlen, "%s: unknown name \"%.*s\"",
		    r->name, cron_show(strcspn(s, ",-/ \t")), s);
	}
	for (; isdigit((unsigned char)*s); s++) {
		if (++nd > CRON_NUM_DIGITS)
			return cron_err(err, errlen, "%s: number too long",
			    r->name);
		n = n * 10 + (*s - '0');
	}
	if (nd == 0)
		return cron_err(err, errlen,
		    "%s: expected a number at \"%.*s\"", r->name,
		    cron_show(strcspn(s, ", \t")), s);
	if (n < r->lo || n > r->hi)
		return cron_err(err, errlen, "%s: %d is out of range %d-%d",
		    r->name, n, r->lo, r->hi);
	*v = n;
	*p = s;
	return 0;
}

/* One list item, [s, e): "*", "n", "a-b", each with an optional "/step". */
static int
cron_item(const struct cron_range *r, const char *s, const char *e,
    uint64_t *bits, char *err, size_t errlen)
{
	const char *p = s;
	int lo, hi, step = 1, v, ranged = 0;

	if (p == e)
		return cron_err(err, errlen, "%s: empty list item", r->name);
	if (*p == '*') {
		lo = r->lo;
		hi = r->hi;
		p++;
		ranged = 1;
	} else {
		if (cron_value(r, &p, &lo, err, errlen) == -1)
			return -1;
		hi = lo;
		if (p < e && *p == '-') {
			p++;
			if (cron_value(r, &p, &hi, err, errlen) == -1)
				return -1;
			if (hi < lo)
				return cron_err(err, errlen,
				    "%s: range %d-%d goes backwards",
				    r->name, lo, hi);
			ranged = 1;
		}
	}
	if (p < e && *p == '/') {
		if (!ranged)
			return cron_err(err, errlen,
			    "%s: a step needs \"*\" or a range before it",
			    r->name);
		p++;
		step = 0;
		for (v = 0; p < e && isdigit((unsigned char)*p); p++) {
			if (++v > CRON_NUM_DIGITS)
				return cron_err(err, errlen,
				    "%s: step too long", r->name);
			step = step * 10 + (*p - '0');
		}
		if (v == 0)
			return cron_err(err, errlen, "%s: step is not a number",
			    r->name);
		if (step < 1 || step > r->hi)
			return cron_err(err, errlen,
			    "%s: step %d is out of range 1-%d",
			    r->name, step, r->hi);
	}
	if (p != e)
		return cron_err(err, errlen, "%s: unexpected \"%.*s\"",
		    r->name, cron_show(e - p), p);
	for (v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

/* One whitespace-free field [s, e), a comma-separated list. */
static int
cron_field(enum cron_field f, const char *s, const char *e, struct cron *c,
    char *err, size_t errlen)
{
	const struct cron_range *r = &cron_ranges[f];
	const char *comma;
	uint64_t bits = 0;

	for (;;) {
		comma = memchr(s, ',', e - s);
		if (cron_item(r, s, comma != NULL ? comma : e, &bits, err,
		    errlen) == -1)
			return -1;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	if (f == F_DOW && (bits & (1ULL << 7)))
		bits = (bits & ~(1ULL << 7)) | 1;	/* 7 is Sunday */
	switch (f) {
	case F_MIN:
		c->minute = bits;
		break;
	case F_HOUR:
		c->hour = (uint32_t)bits;
		break;
	case F_DOM:
		c->dom = (uint32_t)bits;
		break;
	case F_MONTH:
		c->month = (uint16_t)bits;
		break;
	case F_DOW:
		c->dow = (uint8_t)bits;
		break;
	}
	return 0;
}

static int
cron_fields(const char *expr, struct cron *c, char *err, size_t errlen)
{
	static const uint8_t star[CRON_FIELDS] = { CRON_F_MIN_STAR,
	    CRON_F_HOUR_STAR, CRON_F_DOM_STAR, 0, CRON_F_DOW_STAR };
	const char *p = expr, *e;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		if (n < CRON_FIELDS) {
			if (*p == '*')
				c->flags |= star[n];
			if (cron_field(n, p, e, c, err, errlen) == -1)
				return -1;
		}
		n++;
		p = e;
	}
	if (n != CRON_FIELDS)
		return cron_err(err, errlen, "expected 5 fields (minute hour "
		    "day-of-month month day-of-week), got %d", n);
	return 0;
}

int
cron_parse(const char *expr, struct cron *c, char *err, size_t errlen)
{
	const char *p;
	size_t i, len;

	memset(c, 0, sizeof(*c));
	c->kind = CRON_EXPR;
	len = strnlen(expr, CRON_EXPR_MAX + 1);
	if (len > CRON_EXPR_MAX)
		return cron_err(err, errlen, "expression longer than %d bytes",
		    CRON_EXPR_MAX);
	for (p = expr; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '@') {
		len = strcspn(p, " \t");
		if (p[len + strspn(p + len, " \t")] != '\0')
			return cron_err(err, errlen,
			    "\"%.*s\" takes no fields after it",
			    cron_show(len), p);
		for (i = 0; i < sizeof(cron_macros) / sizeof(cron_macros[0]);
		    i++)
			if (strlen(cron_macros[i].name) == len &&
			    strncasecmp(p, cron_macros[i].name, len) == 0)
				return cron_fields(cron_macros[i].expr, c, err,
				    errlen);
		return cron_err(err, errlen, "unknown schedule \"%.*s\"",
		    cron_show(len), p);
	}
	return cron_fields(expr, c, err, errlen);
}

int
cron_every_parse(const char *s, struct cron *c, char *err, size_t errlen)
{
	const char *p;
	int64_t n = 0;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->kind = CRON_EVERY;
	for (p = s; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > CRON_EVERY_MAX / 60)
			return cron_err(err, errlen,
			    "every: longer than 366d");
	}
	if (p == s)
		return cron_err(err, errlen,
		    "every: expected a number and a unit (30m, 2h, 1d)");
	for (i = 0; i < sizeof(cron_units) / sizeof(cron_units[0]); i++) {
		if (p[0] != cron_units[i].unit || p[1] != '\0')
			continue;
		c->every = n * cron_units[i].secs;
		if (c->every < CRON_EVERY_MIN)
			return cron_err(err, errlen,
			    "every: shorter than 1m");
		if (c->every > CRON_EVERY_MAX)
			return cron_err(err, errlen,
			    "every: longer than 366d");
		return 0;
	}
	if (p[0] == 's' && p[1] == '\0')
		return cron_err(err, errlen,
		    "every: seconds are not a unit, the minimum is 1m");
	return cron_err(err, errlen, "every: unknown unit \"%.*s\" "
	    "(m, h or d)", cron_show(strlen(p)), p);
}
