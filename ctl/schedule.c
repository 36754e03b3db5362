/*
 * wxgatectl schedule: the operator's side of schedules (issue #15).
 * It turns options into one schedule.add frame, names into the other
 * schedule.* requests, and prints the ctl.schedule, ctl.run and
 * ctl.run_target rows that come back.  It checks only the shape of a
 * request (which options, how many targets, the lengths the codec
 * takes); cron syntax, zones, channels and agents are wxgated's to
 * judge, and its ctl.result says what is wrong.
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "ctl.h"

/*
 * Targets of one schedule.  With the codec's bounds on a channel name
 * and a peer, sixteen lines always fit the targets field.
 */
#define SCHED_TO_MAX	16
#if SCHED_TO_MAX * (IPC_NAME_MAX + 1 + IPC_PEER_MAX + 1) > IPC_TARGETS_MAX
#error "SCHED_TO_MAX targets do not fit IPC_TARGETS_MAX"
#endif

static int	schedule_add(int, int, char **);
static int	schedule_list(int, int, char **);
static int	schedule_show(int, int, char **);
static int	schedule_run(int, int, char **);
static int	schedule_pause(int, int, char **);
static int	schedule_resume(int, int, char **);
static int	schedule_remove(int, int, char **);
static int	schedule_history(int, int, char **);

static const struct subcmd schedule_cmds[] = {
	{ "add",	schedule_add },
	{ "list",	schedule_list },
	{ "show",	schedule_show },
	{ "run",	schedule_run },
	{ "pause",	schedule_pause },
	{ "resume",	schedule_resume },
	{ "remove",	schedule_remove },
	{ "history",	schedule_history },
};

/* The options of schedule add; each takes one value. */
enum add_opt {
	O_CRON, O_EVERY, O_TZ, O_TEXT, O_AGENT, O_PROMPT, O_TO, O_HOLD,
	O_CATCHUP, O_MAX
};

/* max: the field's bound in the codec, so a long value is named here. */
static const struct {
	const char	*flag;
	size_t		 max;
} add_opts[O_MAX] = {
	[O_CRON] =	{ "--cron",	IPC_CRON_MAX },
	[O_EVERY] =	{ "--every",	IPC_NAME_MAX },
	[O_TZ] =	{ "--tz",	IPC_NAME_MAX },
	[O_TEXT] =	{ "--text",	IPC_TEXT_MAX },
	[O_AGENT] =	{ "--agent",	IPC_NAME_MAX },
	[O_PROMPT] =	{ "--prompt",	IPC_TEXT_MAX },
	[O_TO] =	{ "--to",	IPC_NAME_MAX + 1 + IPC_PEER_MAX },
	[O_HOLD] =	{ "--hold-until-contact", IPC_NAME_MAX },
	[O_CATCHUP] =	{ "--catch-up",	IPC_NAME_MAX },
};

/* What schedule add was given: one value per option, --to repeated. */
struct add_args {
	const char	*v[O_MAX];
	const char	*to[SCHED_TO_MAX];
	int		 nto;
};

/* Schedules schedule show printed. */
static int	nshown;

int
cmd_schedule(int fd, int argc, char **argv)
{
	return subcmd_run(schedule_cmds, sizeof(schedule_cmds) /
	    sizeof(schedule_cmds[0]), fd, argc, argv);
}

static int
add_bad(const char *flag, const char *val, const char *why)
{
	fprintf(stderr, "wxgatectl: %s%s%s: %s\n", flag, val ? " " : "",
	    val ? val : "", why);
	return EX_USAGE;
}

/* "channel:target", the channel not empty; the target is wxgated's. */
static int
add_to_check(const char *to)
{
	const char *colon;

	if ((colon = strchr(to, ':')) == NULL || colon == to)
		return add_bad("--to", to, "not channel:target");
	if ((size_t)(colon - to) > IPC_NAME_MAX)
		return add_bad("--to", to, "channel name too long");
	if (strlen(colon + 1) > IPC_PEER_MAX)
		return add_bad("--to", to, "target too long");
	/* The targets travel one per line. */
	if (strchr(to, '\n') != NULL)
		return add_bad("--to", to, "holds a newline");
	return 0;
}

static int
add_parse(int argc, char **argv, struct add_args *a)
{
	const char *val;
	size_t len;
	int i, o;

	for (i = 0; i < argc; i++) {
		for (o = 0; o < O_MAX; o++)
			if (strcmp(argv[i], add_opts[o].flag) == 0)
				break;
		if (o == O_MAX)
			return add_bad(argv[i], NULL, "unknown option");
		if (i + 1 == argc)
			return add_bad(argv[i], NULL, "needs a value");
		val = argv[++i];
		len = strlen(val);
		if (len == 0 || len > add_opts[o].max) {
			fprintf(stderr, "wxgatectl: %s: empty or longer than "
			    "%zu bytes\n", add_opts[o].flag, add_opts[o].max);
			return EX_USAGE;
		}
		if (o == O_TO) {
			if (a->nto == SCHED_TO_MAX) {
				fprintf(stderr, "wxgatectl: --to: at most %d\n",
				    SCHED_TO_MAX);
				return EX_USAGE;
			}
			if (add_to_check(val) != 0)
				return EX_USAGE;
			a->to[a->nto++] = val;
		} else if (a->v[o] != NULL)
			return add_bad(add_opts[o].flag, NULL, "given twice");
		else
			a->v[o] = val;
	}
	return 0;
}

static int
add_need(const char *what)
{
	fprintf(stderr, "wxgatectl: schedule add: give %s\n", what);
	return EX_USAGE;
}

/* The combinations; wxgated checks the values themselves. */
static int
add_check(const struct add_args *a)
{
	const char *const *v = a->v;

	if ((v[O_CRON] == NULL) == (v[O_EVERY] == NULL))
		return add_need("either --cron or --every");
	if (v[O_TZ] != NULL && v[O_CRON] == NULL)
		return add_bad("--tz", NULL, "goes with --cron");
	if ((v[O_TEXT] == NULL) == (v[O_AGENT] == NULL && v[O_PROMPT] == NULL))
		return add_need("either --text or --agent with --prompt");
	if (v[O_TEXT] == NULL && (v[O_AGENT] == NULL || v[O_PROMPT] == NULL))
		return add_bad(v[O_AGENT] == NULL ? "--prompt" : "--agent",
		    NULL, v[O_AGENT] == NULL ? "needs --agent" :
		    "needs --prompt");
	if (a->nto == 0)
		return add_need("at least one --to channel:target");
	if (v[O_CATCHUP] != NULL && strcmp(v[O_CATCHUP], "latest") != 0 &&
	    strcmp(v[O_CATCHUP], "none") != 0)
		return add_bad("--catch-up", v[O_CATCHUP],
		    "not latest or none");
	return 0;
}

static struct ipc_str
add_str(const char *s)
{
	return ipc_s(s != NULL ? s : "");
}

/*
 * schedule add NAME: the options checked, the targets joined one per
 * line, and wxgated's answer printed.
 */
static int
schedule_add(int fd, int argc, char **argv)
{
	struct ipc_body_sched_def b;
	struct add_args a;
	struct ipc_msg m;
	static char targets[IPC_TARGETS_MAX + 1];
	long long hold = 0;
	size_t off = 0;
	int i, rv;

	if (argc < 1 || argv[0][0] == '-' || strlen(argv[0]) > IPC_NAME_MAX)
		usage();
	memset(&a, 0, sizeof(a));
	if ((rv = add_parse(argc - 1, argv + 1, &a)) != 0 ||
	    (rv = add_check(&a)) != 0)
		return rv;
	/* parse_ttl's durations, or 0 as if not given; the codec's bound. */
	if (a.v[O_HOLD] != NULL && strcmp(a.v[O_HOLD], "0") != 0 &&
	    ((hold = parse_ttl(a.v[O_HOLD])) == -1 || hold > INT32_MAX))
		return add_bad("--hold-until-contact", a.v[O_HOLD],
		    "not a time such as 90s, 30m, 24h or 2d");
	for (i = 0; i < a.nto; i++)
		off += (size_t)snprintf(targets + off, sizeof(targets) - off,
		    "%s%s", i > 0 ? "\n" : "", a.to[i]);
	b.name = ipc_s(argv[0]);
	b.cron = add_str(a.v[O_CRON]);
	b.every = add_str(a.v[O_EVERY]);
	b.tz = add_str(a.v[O_TZ]);
	b.agent = add_str(a.v[O_AGENT]);
	b.text = add_str(a.v[O_TEXT] != NULL ? a.v[O_TEXT] : a.v[O_PROMPT]);
	b.targets = ipc_s(targets);
	b.hold_s = (uint64_t)hold;
	b.catch_up = add_str(a.v[O_CATCHUP] != NULL ? a.v[O_CATCHUP] :
	    "latest");
	ctl_send(fd, IPC_CTL_SCHED_ADD, &b);
	return ctl_result(fd, &m, 0);
}

/* "0 8 * * 1-5 Europe/Berlin" or "every 30m". */
static void
sched_when(const struct ipc_body_sched_def *d, char *out, size_t len)
{
	if (d->cron.len > 0)
		snprintf(out, len, "%.*s %.*s", (int)d->cron.len, d->cron.p,
		    d->tz.len > 0 ? (int)d->tz.len : 3,
		    d->tz.len > 0 ? d->tz.p : "UTC");
	else
		snprintf(out, len, "every %.*s", (int)d->every.len,
		    d->every.p);
}

/* One word, so the columns split on blanks: text or agent:NAME. */
static void
sched_what(const struct ipc_body_sched_def *d, char *out, size_t len)
{
	if (d->agent.len == 0)
		snprintf(out, len, "text");
	else
		snprintf(out, len, "agent:%.*s", (int)d->agent.len,
		    d->agent.p);
}

static void
sched_flags(const struct ipc_body_sched_row *r, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", r->paused ? "paused" : "",
	    r->paused && r->from_config ? "," : "",
	    r->from_config ? "config" : "");
	if (out[0] == '\0')
		snprintf(out, len, "-");
}

static void
sched_list_row(const struct ipc_msg *m)
{
	const struct ipc_body_sched_row *r = &m->b.sched_row;
	char next[32], last[32], flags[16], what[IPC_NAME_MAX + 8];
	char when[IPC_CRON_MAX + IPC_NAME_MAX + 8];

	fmt_time(r->paused ? 0 : r->next_run, next, sizeof(next));
	fmt_time(r->last_run, last, sizeof(last));
	sched_flags(r, flags, sizeof(flags));
	sched_what(&r->def, what, sizeof(what));
	sched_when(&r->def, when, sizeof(when));
	/* WHEN has spaces: it goes last, so columns stay split. */
	printf("%-16.*s %-20s %-20s %-9.*s %-13s %-16s  %s\n",
	    (int)r->def.name.len, r->def.name.p, next, last,
	    r->last_run && r->last_state.len ? (int)r->last_state.len : 1,
	    r->last_run && r->last_state.len ? r->last_state.p : "-", flags,
	    what, when);
}

/* Every schedule; one name is schedule show's. */
static int
schedule_list(int fd, int argc, char **argv)
{
	struct ipc_body_sched_name b;

	(void)argv;
	if (argc != 0)
		usage();
	b.name = IPC_S("");
	ctl_send(fd, IPC_CTL_SCHED_LIST, &b);
	printf("%-16s %-20s %-20s %-9s %-13s %-16s  %s\n", "NAME", "NEXT",
	    "LAST", "STATE", "FLAGS", "WHAT", "WHEN");
	return ctl_rows(fd, IPC_CTL_SCHEDULE, sched_list_row);
}

/* A duration in its largest whole unit: 86400 is 1d, 90 is 90s. */
static void
fmt_dur(uint64_t s, char *out, size_t len)
{
	if (s == 0)
		snprintf(out, len, "0");
	else if (s % 86400 == 0)
		snprintf(out, len, "%llud", (unsigned long long)s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, len, "%lluh", (unsigned long long)s / 3600);
	else if (s % 60 == 0)
		snprintf(out, len, "%llum", (unsigned long long)s / 60);
	else
		snprintf(out, len, "%llus", (unsigned long long)s);
}

/* key: value, a value's later lines indented so keys stay first. */
static void
show_str(const char *key, struct ipc_str v)
{
	const char *p = v.p, *end = v.p + v.len, *nl;

	printf("%s: ", key);
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		printf("%.*s\n  ", (int)(nl - p), p);
		p = nl + 1;
	}
	printf("%.*s\n", (int)(end - p), p);
}

/* One target line each, as they were added. */
static void
show_targets(struct ipc_str t)
{
	const char *p = t.p, *end = t.p + t.len, *nl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		printf("target: %.*s\n", (int)(nl - p), p);
		p = nl + 1;
	}
}

static void
sched_show_row(const struct ipc_msg *m)
{
	const struct ipc_body_sched_row *r = &m->b.sched_row;
	const struct ipc_body_sched_def *d = &r->def;
	char t[32], hold[24];

	if (nshown++ > 0)
		printf("\n");
	show_str("name", d->name);
	if (d->cron.len > 0) {
		show_str("cron", d->cron);
		show_str("tz", d->tz.len > 0 ? d->tz : IPC_S("UTC"));
	} else
		show_str("every", d->every);
	if (d->agent.len > 0) {
		show_str("agent", d->agent);
		show_str("prompt", d->text);
	} else
		show_str("text", d->text);
	show_targets(d->targets);
	fmt_dur(d->hold_s, hold, sizeof(hold));
	printf("hold_until_contact: %s\n", hold);
	show_str("catch_up", d->catch_up);
	printf("paused: %s\n", r->paused ? "yes" : "no");
	/* A schedule from the configuration file is changed there. */
	printf("config: %s\n", r->from_config ? "yes" : "no");
	fmt_time(r->paused ? 0 : r->next_run, t, sizeof(t));
	printf("next: %s\n", t);
	fmt_time(r->last_run, t, sizeof(t));
	if (r->last_run == 0)
		printf("last: -\n");
	else
		printf("last: %s %.*s\n", t, (int)r->last_state.len,
		    r->last_state.p);
}

static int
schedule_show(int fd, int argc, char **argv)
{
	struct ipc_body_sched_name b;
	int rv;

	if (argc != 1 || argv[0][0] == '\0' || strlen(argv[0]) > IPC_NAME_MAX)
		usage();
	b.name = ipc_s(argv[0]);
	ctl_send(fd, IPC_CTL_SCHED_LIST, &b);
	if ((rv = ctl_rows(fd, IPC_CTL_SCHEDULE, sched_show_row)) != 0)
		return rv;
	if (nshown == 0) {
		fprintf(stderr, "wxgatectl: no schedule %s\n", argv[0]);
		return EX_REFUSED;
	}
	return 0;
}

static int
schedule_run(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_SCHED_RUN);
}

static int
schedule_pause(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_SCHED_PAUSE);
}

static int
schedule_resume(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_SCHED_RESUME);
}

static int
schedule_remove(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_SCHED_REMOVE);
}

/* "ID NAME SLOT STARTED AGENT-DONE STATE [manual][: error]" */
static void
run_print(const struct ipc_body_run_row *r)
{
	char slot[32], started[32], done[32];

	fmt_time(r->slot, slot, sizeof(slot));
	fmt_time(r->started, started, sizeof(started));
	fmt_time(r->agent_done, done, sizeof(done));
	printf("%llu %.*s %s %s %s %.*s%s%s%.*s\n", (unsigned long long)r->id,
	    (int)r->name.len, r->name.p, slot, started, done,
	    (int)r->state.len, r->state.p, r->manual ? " manual" : "",
	    r->error.len ? ": " : "", (int)r->error.len, r->error.p);
}

/* "  channel:target STATE[: detail]", as send and outbox print it. */
static void
run_target_print(const struct ipc_body_run_target *t)
{
	printf("  %.*s:%.*s %.*s%s%.*s\n", (int)t->channel.len, t->channel.p,
	    (int)t->target.len, t->target.p, (int)t->state.len, t->state.p,
	    t->detail.len ? ": " : "", (int)t->detail.len, t->detail.p);
}

/*
 * The runs of one schedule, or of all with no name: each ctl.run, then
 * the ctl.run_target rows of that run, until the closing ctl.result.
 */
static int
schedule_history(int fd, int argc, char **argv)
{
	struct ipc_body_sched_name b;
	struct ipc_msg m;
	uint64_t run = 0;
	int nruns = 0;

	if (argc > 1 || (argc == 1 && (argv[0][0] == '\0' ||
	    strlen(argv[0]) > IPC_NAME_MAX)))
		usage();
	b.name = argc == 1 ? ipc_s(argv[0]) : IPC_S("");
	ctl_send(fd, IPC_CTL_SCHED_HISTORY, &b);
	for (;;) {
		ctl_recv(fd, &m);
		if (m.type == IPC_CTL_RESULT)
			break;
		if (m.type == IPC_CTL_RUN) {
			run_print(&m.b.run_row);
			run = m.b.run_row.id;
			nruns++;
		} else if (m.type == IPC_CTL_RUN_TARGET && nruns > 0 &&
		    m.b.run_target.run == run)
			run_target_print(&m.b.run_target);
		else {
			fprintf(stderr, "wxgatectl: unexpected %s\n",
			    ipc_type_name(m.type));
			return EX_UNREACH;
		}
	}
	if (!m.b.result.ok) {
		fprintf(stderr, "wxgatectl: %.*s\n",
		    (int)m.b.result.message.len, m.b.result.message.p);
		return EX_REFUSED;
	}
	return 0;
}
