/*
 * The schedule: and schedules: slices of the configuration, see
 * wxgate.yaml(5), SCHEDULES: the daemon's bounds on schedules and the
 * schedules the file declares.
 *
 * Called by cfg_build() in config.c, after the agents and channels
 * that schedules name.  Each definition passes schedule_check(), the
 * rule a wxgatectl schedule passes in the hub, so the file cannot
 * declare what the control socket would refuse.  This file only turns
 * the YAML keys into that definition and the check's field into a key
 * path with its line; it judges nothing the check judges.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "hub.h"
#include "store.h"
#include "xmalloc.h"

#define SCH(f)	offsetof(struct raw_config, schedule.f), \
		offsetof(struct config, schedule.f)

/* Applied by cfg_build() before any slice, as one with the top level's. */
const struct cfg_num cfg_schedule_nums[] = {
	/*
	 * Each run in flight holds an agent request and a run row; the
	 * rest wait for a free place, so a burst of slots is spread out.
	 */
	{ "schedule.runs_max",		SCH(runs_max),
	    4, 1, 64 },
	/* A run's agent answer: past a day a briefing is stale. */
	{ "schedule.deadline_s",	SCH(deadline_s),
	    300, 10, 86400 },
	/* Run history is rows on disk, pruned by age and by count. */
	{ "schedule.history_days",	SCH(history_days),
	    30, 1, 3650 },
	{ "schedule.history_max",	SCH(history_max),
	    1000, 10, 100000 },
	/* The file's and wxgatectl's together: rows the timer scans. */
	{ "schedule.schedules_max",	SCH(schedules_max),
	    1000, 1, CFG_SCHEDULES_MAX },
	{ NULL,				0, 0, 0, 0, 0 }
};

/* In enum cron_catchup order (policy/cron.h). */
static const char *const cfg_catch_ups[] = { "latest", "none" };

static int	 cfg_schedule_one(struct cfg_ctx *, const struct config *,
		    const struct raw_schedule *, unsigned,
		    struct cfg_schedule *);
static int	 cfg_schedule_body(struct cfg_ctx *,
		    const struct raw_schedule *, unsigned,
		    struct cfg_schedule *);
static int	 cfg_schedule_to(struct cfg_ctx *,
		    const struct raw_schedule *, const char *,
		    struct cfg_schedule *);
static int	 cfg_schedule_hold(const char *, int64_t *);
static void	 cfg_schedule_error(struct cfg_ctx *, unsigned,
		    const char *);

int
cfg_schedule_build(struct cfg_ctx *ctx, const struct raw_config *raw,
    struct config *conf)
{
	char msg[CFG_ERR_MAX], field[CFG_KEYPATH_MAX];
	unsigned i, j;

	if (raw->schedule.notify != NULL) {
		conf->schedule.notify = xstrdup(raw->schedule.notify);
		if (schedule_check_target(conf, conf->schedule.notify, msg,
		    sizeof(msg)) == -1) {
			cfg_error(ctx, "schedule.notify", "%s", msg);
			return -1;
		}
	}
	/* The store may hold wxgatectl's too: the file alone must fit. */
	if (raw->schedules_count > conf->schedule.schedules_max) {
		cfg_error(ctx, "schedules", "%u schedules, over "
		    "schedule.schedules_max (%u)", raw->schedules_count,
		    conf->schedule.schedules_max);
		return -1;
	}
	if (raw->schedules_count == 0)
		return 0;
	conf->schedules = xcalloc(raw->schedules_count,
	    sizeof(*conf->schedules));
	for (i = 0; i < raw->schedules_count; i++) {
		/* Count as we go so config_free sees each one. */
		conf->schedules_count = i + 1;
		if (cfg_schedule_one(ctx, conf, &raw->schedules[i], i,
		    &conf->schedules[i]) == -1)
			return -1;
		for (j = 0; j < i; j++) {
			if (strcmp(conf->schedules[j].name,
			    conf->schedules[i].name) != 0)
				continue;
			snprintf(field, sizeof(field), "schedules[%u].name", i);
			cfg_error(ctx, field, "duplicate schedule name \"%s\" "
			    "(also schedules[%u])", conf->schedules[i].name, j);
			return -1;
		}
	}
	return 0;
}

/*
 * One entry into s, then through schedule_check() as the store would
 * hold it.  s's strings are set before anything can fail, so that
 * cfg_schedule_free() never meets a half-built entry.
 */
static int
cfg_schedule_one(struct cfg_ctx *ctx, const struct config *conf,
    const struct raw_schedule *rs, unsigned idx, struct cfg_schedule *s)
{
	char prefix[32], field[CFG_KEYPATH_MAX], msg[CFG_ERR_MAX];
	struct store_sched def;
	int64_t hold = 0;
	int v;

	snprintf(prefix, sizeof(prefix), "schedules[%u].", idx);
	s->name = xstrdup(rs->name != NULL ? rs->name : "");
	s->cron = rs->cron != NULL ? xstrdup(rs->cron) : NULL;
	s->every = rs->every != NULL ? xstrdup(rs->every) : NULL;
	s->tz = xstrdup(rs->tz != NULL ? rs->tz : "UTC");
	if (cfg_schedule_body(ctx, rs, idx, s) == -1 ||
	    cfg_schedule_to(ctx, rs, prefix, s) == -1)
		return -1;
	snprintf(field, sizeof(field), "%shold_until_contact", prefix);
	if (rs->hold_until_contact != NULL &&
	    cfg_schedule_hold(rs->hold_until_contact, &hold) == -1) {
		cfg_error(ctx, field, "\"%s\" is not a duration (0, 30m, "
		    "24h, 7d)", rs->hold_until_contact);
		return -1;
	}
	snprintf(field, sizeof(field), "%scatch_up", prefix);
	if ((v = cfg_check_word(ctx, field, "catch_up", rs->catch_up != NULL ?
	    rs->catch_up : "latest", cfg_catch_ups,
	    NITEMS(cfg_catch_ups))) == -1)
		return -1;
	s->catch_up_none = v == 1;

	memset(&def, 0, sizeof(def));
	def.name = s->name;
	def.cron = s->cron;
	def.every = s->every;
	def.tz = s->tz;
	def.agent = s->agent;
	def.body = s->text;
	def.targets = s->targets;
	def.hold = hold;
	def.catch_up_none = s->catch_up_none;
	if (schedule_check(conf, &def, msg, sizeof(msg)) == -1) {
		cfg_schedule_error(ctx, idx, msg);
		return -1;
	}
	/* In range now: at most SCHED_HOLD_MAX, a week. */
	s->hold_s = (uint32_t)hold;
	return 0;
}

/*
 * text alone, or agent and prompt: what is sent, or what is asked.
 * Errors go through cfg_schedule_error(): the key they name may be
 * absent, and then the entry's line is the one to show.
 */
static int
cfg_schedule_body(struct cfg_ctx *ctx, const struct raw_schedule *rs,
    unsigned idx, struct cfg_schedule *s)
{
	char msg[CFG_ERR_MAX];

	if (rs->text != NULL) {
		s->text = xstrdup(rs->text);
		if (rs->agent == NULL && rs->prompt == NULL)
			return 0;
		snprintf(msg, sizeof(msg), "%s: give text, or agent and "
		    "prompt, not both", rs->agent != NULL ? "agent" : "prompt");
	} else if (rs->agent == NULL && rs->prompt == NULL)
		snprintf(msg, sizeof(msg), "text: give text, or agent and "
		    "prompt");
	/* An empty agent would read as a fixed text in the store. */
	else if (rs->agent == NULL || rs->agent[0] == '\0')
		snprintf(msg, sizeof(msg), "agent: a prompt needs an agent "
		    "to answer it");
	else if (rs->prompt == NULL)
		snprintf(msg, sizeof(msg), "prompt: agent %.64s needs a "
		    "prompt", rs->agent);
	else {
		s->agent = xstrdup(rs->agent);
		s->text = xstrdup(rs->prompt);
		return 0;
	}
	cfg_schedule_error(ctx, idx, msg);
	return -1;
}

/* The list, joined with '\n' as the store keeps it. */
static int
cfg_schedule_to(struct cfg_ctx *ctx, const struct raw_schedule *rs,
    const char *prefix, struct cfg_schedule *s)
{
	char field[CFG_KEYPATH_MAX];
	size_t len = 1, off = 0, n;
	unsigned i;

	for (i = 0; i < rs->to_count; i++) {
		/* A line break would turn one entry into two. */
		if (strchr(rs->to[i], '\n') != NULL) {
			snprintf(field, sizeof(field), "%sto[%u]", prefix, i);
			cfg_error(ctx, field, "must be one line");
			return -1;
		}
		len += strlen(rs->to[i]) + 1;
	}
	s->targets = xmalloc(len);
	s->targets[0] = '\0';
	for (i = 0; i < rs->to_count; i++) {
		n = strlen(rs->to[i]);
		if (i > 0)
			s->targets[off++] = '\n';
		memcpy(s->targets + off, rs->to[i], n);
		off += n;
		s->targets[off] = '\0';
	}
	return 0;
}

/*
 * "0", or a number and a unit as in `every:` (m, h, d).  The range is
 * schedule_check()'s; the digits are capped so the product cannot
 * overflow and still reads as too long there.
 */
static int
cfg_schedule_hold(const char *v, int64_t *hold)
{
	static const struct {
		char	 unit;
		int64_t	 secs;
	} units[] = { { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	const char *p;
	int64_t n = 0;
	size_t i;

	for (p = v; *p >= '0' && *p <= '9'; p++)
		if (n < 10000000)
			n = n * 10 + (*p - '0');
	if (p == v)
		return -1;
	if (*p == '\0') {
		*hold = 0;
		return n == 0 ? 0 : -1;
	}
	for (i = 0; i < NITEMS(units); i++) {
		if (p[0] == units[i].unit && p[1] == '\0') {
			*hold = n * units[i].secs;
			return 0;
		}
	}
	return -1;
}

/*
 * schedule_check()'s "field: problem" as the file's key path, at the
 * key's line, or the entry's when the key is absent (a default).
 */
static void
cfg_schedule_error(struct cfg_ctx *ctx, unsigned idx, const char *msg)
{
	char field[CFG_KEYPATH_MAX];
	const char *sep;
	int line;

	if ((sep = strstr(msg, ": ")) == NULL ||
	    strcspn(msg, " ") < (size_t)(sep - msg)) {
		snprintf(field, sizeof(field), "schedules[%u]", idx);
		cfg_error(ctx, field, "%s", msg);
		return;
	}
	snprintf(field, sizeof(field), "schedules[%u].%.*s", idx,
	    (int)(sep - msg), msg);
	if ((line = cfg_yaml_locate(ctx, field)) == 0) {
		snprintf(field, sizeof(field), "schedules[%u]", idx);
		line = cfg_yaml_locate(ctx, field);
		snprintf(field, sizeof(field), "schedules[%u].%.*s", idx,
		    (int)(sep - msg), msg);
	}
	cfg_error_at(ctx, line, field, "%s", sep + 2);
}

void
cfg_schedule_free(struct config *conf)
{
	struct cfg_schedule *s;
	unsigned i;

	for (i = 0; i < conf->schedules_count; i++) {
		s = &conf->schedules[i];
		free(s->name);
		free(s->cron);
		free(s->every);
		free(s->tz);
		free(s->agent);
		free(s->text);
		free(s->targets);
	}
	free(conf->schedules);
	free(conf->schedule.notify);
}
