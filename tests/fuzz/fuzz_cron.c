/*
 * libFuzzer harness for policy/cron.c and cron_next.c: arbitrary text
 * as a cron expression and as an `every` interval (the first byte picks
 * which).  Checks what the config checker and the hub's timer rely on:
 * a refusal always says why, in a NUL-terminated message that fits the
 * buffer; a parsed expression has bits only inside each field's range
 * and at least one in each; its next fire from a fixed time, in UTC,
 * is after that time or CRON_NEVER, and the fire after that is later
 * still; an interval lies within its bounds and its next fire is one
 * interval on the grid.  A slow input is a hang, which libFuzzer's
 * -timeout reports: the search's bound must hold for any expression.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

/* An expression is at most CRON_EXPR_MAX; a little more tests that. */
#define FUZZER_MAXLEN	(CRON_EXPR_MAX + 16)
/* 2027-01-01 00:00:00Z, a Friday. */
#define FUZZ_FROM	((time_t)1798761600)

static const struct {
	const char	*tz;
	time_t		 from;
} froms[4] = {
	{ "UTC",		FUZZ_FROM },
	{ "Europe/Berlin",	1806193800 },	/* 03-28 01:30 CET */
	{ "Europe/Berlin",	1824942000 },	/* 10-31 02:20 CEST */
	{ "Europe/Berlin",	1824945600 },	/* 10-31 02:20 CET */
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_err(int rv, const char *err)
{
	if (rv != -1)
		abort();
	if (memchr(err, '\0', CRON_ERR_MAX) == NULL || err[0] == '\0')
		abort();
}

static void
check_expr(const struct cron *c, int which)
{
	const char *tz = froms[which].tz;
	time_t from = froms[which].from, next, again;

	if (c->kind != CRON_EXPR)
		abort();
	if ((c->minute >> 60) != 0 || (c->hour >> 24) != 0 ||
	    (c->dom & 1) != 0 || (c->month & ~0x1ffeu) != 0 ||
	    (c->dow & 0x80) != 0)
		abort();
	if (c->minute == 0 || c->hour == 0 || c->dom == 0 || c->month == 0 ||
	    c->dow == 0)
		abort();
	if (cron_next(c, tz, from, &next) != 0)
		abort();
	if (next == CRON_NEVER)
		return;
	/* Whole minutes: Berlin's offsets and changes are whole hours. */
	if (next <= from ||
	    next > from + (time_t)CRON_HORIZON_DAYS * 86400 ||
	    next % 60 != 0)
		abort();
	if (cron_next(c, tz, next, &again) != 0 ||
	    (again != CRON_NEVER && again <= next))
		abort();
}

static void
check_every(const struct cron *c)
{
	time_t next;

	if (c->kind != CRON_EVERY || c->every < CRON_EVERY_MIN ||
	    c->every > CRON_EVERY_MAX || c->every % 60 != 0)
		abort();
	if (cron_next(c, NULL, FUZZ_FROM, &next) != 0 || next <= FUZZ_FROM ||
	    next > FUZZ_FROM + c->every || next % c->every != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[FUZZER_MAXLEN + 1], err[CRON_ERR_MAX];
	struct cron c;
	int rv;

	if (size < 1 || size > FUZZER_MAXLEN + 1)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(err, 0, sizeof(err));
	if (data[0] & 1) {
		rv = cron_every_parse(text, &c, err, sizeof(err));
		if (rv == 0)
			check_every(&c);
		else
			check_err(rv, err);
	} else {
		rv = cron_parse(text, &c, err, sizeof(err));
		if (rv == 0)
			check_expr(&c, (data[0] >> 1) & 3);
		else
			check_err(rv, err);
	}
	return 0;
}
