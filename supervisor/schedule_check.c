/*
 * Whether a schedule's definition is one the hub can run against a
 * configuration: the one rule for a schedule from the file (checked by
 * config_schedule.c when the file loads, in the parent and the hub) and
 * one from wxgatectl schedule add (the hub, before the store sees it),
 * so that neither can hold what the other would refuse.
 *
 * A pure function of its arguments and the zoneinfo files: no hub
 * state, no store handle, no log, no allocation, so that the parent,
 * test_config and fuzz_config link it with the configuration's files.
 * Every error starts with the field it is about, named as the file
 * names it ("cron: ", "to[1]: "); config_schedule.c puts
 * "schedules[N]." before that.  What passes also fits the wire's
 * bounds on a definition (ipc/codec.c, SCHED_DEF), so a schedule from
 * the file can always be listed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cron.h"
#include "hub.h"
#include "ipc_msg.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "store.h"

/* As the configuration's other names: they show in logs and listings. */
#define SCHED_NAME_MAX		32
/* '.' too: "daily.report" reads better than "daily_report" in a list. */
#define SCHED_NAME_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789_.-"
/* One schedule, a few chats; more is a mailing list, not a reminder. */
#define SCHED_TARGETS_MAX	16
/*
 * A fixed text is cut into the channel's messages (channel.c,
 * chan_queue): text_chunk_limit code points, and bytes_max bytes where
 * the platform counts bytes.  A schedule may fill this many of them on
 * every target channel; a line break may end a message early, so a text
 * at the limit can take up to twice as many.  Past that it is a
 * document, and one run would hold a channel's rate limit for minutes.
 */
#define SCHED_TEXT_MSGS		16
/*
 * How long a message for a peer who must write first (iLink) may wait
 * for them: a week, after which a greeting is stale news.
 */
#define SCHED_HOLD_MAX		(7 * 86400)
/*
 * Seven bytes say a year ("527040m"); only leading zeros, which
 * cron_every_parse() accepts, make one longer, and the wire keeps 64.
 */
#define SCHED_EVERY_MAX		16
/* Of an operator's bad input, an error quotes at most this much. */
#define SCHED_QUOTE_MAX		64

static int	 sc_set(const char *);
static int	 sc_name(const char *, char *, size_t);
static int	 sc_when(const struct store_sched *, char *, size_t);
static int	 sc_targets(const struct config *, const char *, char *,
		    size_t);
static int	 sc_target(const struct config *, const char *, size_t,
		    char *, size_t);
static const struct cfg_channel *sc_channel(const struct config *,
		    const char *, size_t);
static int	 sc_text_fits(const struct config *,
		    const struct store_sched *, char *, size_t);
static int	 sc_sealed(const struct config *, const struct store_sched *,
		    char *, size_t);
static int	 sc_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

int
schedule_check(const struct config *conf, const struct store_sched *sc,
    char *err, size_t errlen)
{
	const char *body = sc->body != NULL ? sc->body : "";
	const char *tz, *field;
	int fixed = !sc_set(sc->agent);

	if (sc_name(sc->name, err, errlen) == -1 ||
	    sc_when(sc, err, errlen) == -1)
		return -1;
	tz = sc_set(sc->tz) ? sc->tz : "UTC";
	if (cron_tz_check(tz, err, errlen) == -1)
		return -1;
	if (sc->sealed)
		return sc_sealed(conf, sc, err, errlen);
	if (!fixed && config_agent(conf, sc->agent) == NULL)
		return sc_err(err, errlen, "agent: no agent named \"%.*s\"",
		    SCHED_QUOTE_MAX, sc->agent);
	/* The file's key: an agent is given a prompt, a peer a text. */
	field = fixed ? "text" : "prompt";
	if (body[strspn(body, " \t\r\n")] == '\0')
		return sc_err(err, errlen, "%s: must not be empty", field);
	if (sc_targets(conf, sc->targets, err, errlen) == -1)
		return -1;
	if (fixed && sc_text_fits(conf, sc, err, errlen) == -1)
		return -1;
	/*
	 * The wire's bound on a body (schedule.add, ctl.schedule), and a
	 * prompt goes to the agent as one message.
	 */
	if (strlen(body) > IPC_TEXT_MAX)
		return sc_err(err, errlen, "%s: %zu bytes, over the %d one "
		    "message may hold", field, strlen(body), IPC_TEXT_MAX);
	if (sc->hold < 0)
		return sc_err(err, errlen, "hold_until_contact: must not be "
		    "negative");
	if (sc->hold > SCHED_HOLD_MAX)
		return sc_err(err, errlen, "hold_until_contact: %lld "
		    "seconds, over 7d", (long long)sc->hold);
	return 0;
}

int
schedule_check_target(const struct config *conf, const char *s, char *err,
    size_t errlen)
{
	return sc_target(conf, s, strlen(s), err, errlen);
}

/*
 * A sealed schedule (docs/e2e.md): its agent is a relay with e2e, the
 * only one that can open its prompt, and it has no targets, since a
 * platform would get the ciphertext.  Its prompt is an envelope the
 * console checks (console_e2e_sched.c), and "" until the page sets it.
 */
static int
sc_sealed(const struct config *conf, const struct store_sched *sc,
    char *err, size_t errlen)
{
	const struct cfg_agent *ca;

	if (!sc_set(sc->agent) || (ca = config_agent(conf, sc->agent)) ==
	    NULL)
		return sc_err(err, errlen, "agent: no agent named \"%.*s\"",
		    SCHED_QUOTE_MAX, sc->agent != NULL ? sc->agent : "");
	if (!ca->relay_e2e)
		return sc_err(err, errlen, "agent: %s is not end-to-end "
		    "(a relay with relay.e2e)", ca->name);
	if (sc_set(sc->targets))
		return sc_err(err, errlen, "to: a sealed schedule has no "
		    "targets (a platform would get ciphertext)");
	/* As a sealed message in a thread: the envelope is the message. */
	if (sc->body != NULL && strlen(sc->body) > IPC_TEXT_MAX)
		return sc_err(err, errlen, "prompt: %zu bytes sealed, over "
		    "the %d one message may hold", strlen(sc->body),
		    IPC_TEXT_MAX);
	return 0;
}

/* A string field from the file or the wire: NULL and "" are unset. */
static int
sc_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
sc_name(const char *name, char *err, size_t errlen)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n < 1 || n > SCHED_NAME_MAX ||
	    strspn(name, SCHED_NAME_CHARS) != n)
		return sc_err(err, errlen, "name: must be 1..%d characters "
		    "of a-z, 0-9, _, . and -", SCHED_NAME_MAX);
	return 0;
}

/* Exactly one of cron and every, in the syntax of policy/cron.c. */
static int
sc_when(const struct store_sched *sc, char *err, size_t errlen)
{
	char cerr[CRON_ERR_MAX];
	struct cron c;

	if (sc_set(sc->cron) && sc_set(sc->every))
		return sc_err(err, errlen, "cron: give cron or every, not "
		    "both");
	if (sc_set(sc->cron)) {
		if (cron_parse(sc->cron, &c, cerr, sizeof(cerr)) == -1)
			return sc_err(err, errlen, "cron: %s", cerr);
		return 0;
	}
	if (sc_set(sc->every)) {
		if (strlen(sc->every) > SCHED_EVERY_MAX)
			return sc_err(err, errlen, "every: longer than %d "
			    "bytes", SCHED_EVERY_MAX);
		/* Its errors already begin "every: ". */
		return cron_every_parse(sc->every, &c, err, errlen);
	}
	return sc_err(err, errlen, "cron: give cron (\"0 8 * * 1-5\") or "
	    "every (\"30m\")");
}

/* 1..SCHED_TARGETS_MAX lines, each a target, none twice. */
static int
sc_targets(const struct config *conf, const char *targets, char *err,
    size_t errlen)
{
	char terr[CFG_ERR_MAX];
	const char *p, *e, *q, *f;
	size_t n, count = 1;
	unsigned i, j;

	if (!sc_set(targets))
		return sc_err(err, errlen, "to: give 1 to %d targets "
		    "(\"channel:target\")", SCHED_TARGETS_MAX);
	for (p = targets; (p = strchr(p, '\n')) != NULL; p++)
		count++;
	if (count > SCHED_TARGETS_MAX)
		return sc_err(err, errlen, "to: %zu targets, at most %d",
		    count, SCHED_TARGETS_MAX);
	for (p = targets, i = 0; ; p = e + 1, i++) {
		n = strcspn(p, "\n");
		e = p + n;
		if (sc_target(conf, p, n, terr, sizeof(terr)) == -1)
			return sc_err(err, errlen, "to[%u]: %s", i, terr);
		/* The same chat twice would get every message twice. */
		for (q = targets, j = 0; q < p; q = f + 1, j++) {
			f = q + strcspn(q, "\n");
			if ((size_t)(f - q) == n && memcmp(q, p, n) == 0)
				return sc_err(err, errlen, "to[%u]: given "
				    "twice (also to[%u])", i, j);
		}
		if (*e == '\0')
			break;
	}
	return 0;
}

/*
 * "channel:target" in s[0..n): a configured channel and a peer id the
 * store and the wire can hold.  What a target means is the channel
 * kind's (wxgate.yaml(5), SCHEDULES); the platform judges it.
 */
static int
sc_target(const struct config *conf, const char *s, size_t n, char *err,
    size_t errlen)
{
	const char *colon;
	size_t i, cn;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sc_err(err, errlen, "control character in "
			    "\"channel:target\"");
	if ((colon = memchr(s, ':', n)) == NULL)
		return sc_err(err, errlen, "\"%.*s\" is not \"channel:target\"",
		    (int)(n < SCHED_QUOTE_MAX ? n : SCHED_QUOTE_MAX), s);
	cn = (size_t)(colon - s);
	if (sc_channel(conf, s, cn) == NULL)
		return sc_err(err, errlen, "no channel named \"%.*s\"",
		    (int)(cn < SCHED_QUOTE_MAX ? cn : SCHED_QUOTE_MAX), s);
	if (n - cn - 1 == 0)
		return sc_err(err, errlen, "the target after \"%.*s:\" is "
		    "empty", (int)cn, s);
	if (n - cn - 1 > IPC_PEER_MAX)
		return sc_err(err, errlen, "the target is longer than %d "
		    "bytes", IPC_PEER_MAX);
	return 0;
}

/* The channel named s[0..n), not NUL-terminated. */
static const struct cfg_channel *
sc_channel(const struct config *conf, const char *s, size_t n)
{
	unsigned i;

	for (i = 0; i < conf->channels_count; i++)
		if (strlen(conf->channels[i].name) == n &&
		    memcmp(conf->channels[i].name, s, n) == 0)
			return &conf->channels[i];
	return NULL;
}

/*
 * A fixed text against each target's channel: SCHED_TEXT_MSGS of its
 * messages.  Targets are already checked, so each names a channel.
 */
static int
sc_text_fits(const struct config *conf, const struct store_sched *sc,
    char *err, size_t errlen)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;
	const char *p, *t;
	size_t bytes = strlen(sc->body), cps = 0;

	/* Code points: every byte but a UTF-8 continuation byte. */
	for (t = sc->body; *t != '\0'; t++)
		if (((unsigned char)*t & 0xc0) != 0x80)
			cps++;
	for (p = sc->targets; ; p++) {
		cc = sc_channel(conf, p, strcspn(p, ":"));
		caps = kinds_caps(cc->type);
		if (cps > (size_t)SCHED_TEXT_MSGS * cc->text_chunk_limit)
			return sc_err(err, errlen, "text: %zu characters, "
			    "over what channel %s carries (%d messages of "
			    "%u)", cps, cc->name, SCHED_TEXT_MSGS,
			    cc->text_chunk_limit);
		if (caps != NULL && caps->bytes_max > 0 &&
		    bytes > (size_t)SCHED_TEXT_MSGS * caps->bytes_max)
			return sc_err(err, errlen, "text: %zu bytes, over "
			    "what channel %s carries (%d messages of %u "
			    "bytes)", bytes, cc->name, SCHED_TEXT_MSGS,
			    caps->bytes_max);
		if ((p = strchr(p, '\n')) == NULL)
			break;
	}
	return 0;
}

static int
sc_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
