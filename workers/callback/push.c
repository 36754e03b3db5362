/*
 * Late replies by the API (shared/protocols/wecom.md D.4): the rows no
 * held request took (turn.c) wait in the worker's outbound queue
 * (workers/outq.c) and go one at a time, in order, as OA's
 * message/custom/send or WeCom's message/send, each ending in one
 * delivery.ack or delivery.fail.  The hub chunked them to the kind's
 * 2048 bytes (supervisor/kinds.c).  A stale token (40001, 40014, 42001)
 * is fetched again and the send retried once; a closed window (45015),
 * a missing permission (48001) and the like are final: "rejected" with
 * the platform's code, which `wxgatectl outbox` shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "callback.h"
#include "log.h"
#include "outq.h"
#include "xmalloc.h"

#define PUSH_QUEUE_MAX		1024
#define PUSH_FULL_RETRY_MS	10000
/* -1 system busy, 45009 and 45033 rates: try again a minute on. */
#define PUSH_BUSY_RETRY_MS	60000
/* One refetch of the token per row (D.1: "retry the call once"). */
#define PUSH_TOKEN_TRIES	1

static struct {
	struct outq	 oq;
	struct event	*timer;
	char		*tok;		/* the token this send used */
	int		 busy;		/* a token fetch or a call is out */
} ps;

static void	push_kick(void);
static void	push_token(const char *, const char *, void *);
static void	push_done(long, const char *, const char *, size_t,
	    const char *, void *);
static void	push_timer(evutil_socket_t, short, void *);

int
push_init(void)
{
	outq_init(&ps.oq, cb.wecom ? "wecom_app" : "wechat_mp",
	    PUSH_QUEUE_MAX);
	ps.timer = evtimer_new(cb.base, push_timer, NULL);
	return ps.timer == NULL ? -1 : 0;
}

int
push_outbound(const struct ipc_msg *m)
{
	if (outq_put(&ps.oq, &m->b.outbound, PUSH_FULL_RETRY_MS) == 1)
		push_kick();
	return 0;
}

static void
push_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	push_kick();
}

/* From the loop, not from inside an answer's callback. */
static void
push_later(void)
{
	struct timeval tv = { 0, 0 };

	evtimer_add(ps.timer, &tv);
}

static void
push_kick(void)
{
	struct outq_item *o;

	if (ps.busy || ps.oq.cur != NULL || TAILQ_EMPTY(&ps.oq.q) ||
	    cb.draining)
		return;
	o = outq_take(&ps.oq);
	log_debug("callback %s: sending %llu to %s", cb.account,
	    (unsigned long long)o->id, o->peer);
	ps.busy = 1;
	token_get(push_token, NULL);
}

/* D.4: a text to one user; raw UTF-8, never \u escapes (D.6). */
static char *
push_body(const struct outq_item *o)
{
	json_t *j;
	char *s;

	if (cb.wecom)
		j = json_pack("{s:s, s:s, s:I, s:{s:s}}", "touser", o->peer,
		    "msgtype", "text", "agentid", (json_int_t)cb.agent_id,
		    "text", "content", o->text);
	else
		j = json_pack("{s:s, s:s, s:{s:s}}", "touser", o->peer,
		    "msgtype", "text", "text", "content", o->text);
	if (j == NULL || (s = jsonalloc_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("%s: json", __func__);
	json_decref(j);
	return s;
}

static void
push_token(const char *tok, const char *err, void *arg)
{
	char url[2048], *json;
	struct outq_item *o = ps.oq.cur;
	int rv;

	(void)arg;
	if (o == NULL) {
		/* Stopped while the token came. */
		ps.busy = 0;
		return;
	}
	if (tok == NULL) {
		ps.busy = 0;
		/* No secret is a setting, not a passing fault. */
		outq_failed(&ps.oq, cb.secret == NULL ? "rejected" : "retry",
		    err, cb.secret == NULL ? 0 : PUSH_BUSY_RETRY_MS);
		push_later();
		return;
	}
	if (o->text == NULL) {
		ps.busy = 0;
		outq_failed(&ps.oq, "rejected", "attachments are not sent "
		    "by this kind", 0);
		push_later();
		return;
	}
	free(ps.tok);
	ps.tok = xstrdup(tok);
	snprintf(url, sizeof(url), "%s/cgi-bin/message/%s?access_token=%s",
	    cb.api_url, cb.wecom ? "send" : "custom/send", tok);
	json = push_body(o);
	rv = api_call(url, json, API_ANSWER_MAX, push_done, NULL);
	explicit_bzero(url, sizeof(url));
	free(json);
	if (rv == -1) {
		ps.busy = 0;
		outq_failed(&ps.oq, "retry", "the request could not start",
		    0);
		push_later();
	}
}

/* D.1, D.4: what errcode means for this row. */
static void
push_judge(long long code, const char *msg)
{
	struct outq_item *o = ps.oq.cur;
	char why[200];

	snprintf(why, sizeof(why), "errcode %lld: %s", code, msg);
	switch (code) {
	case 0:
		log_debug("callback %s: %llu sent", cb.account,
		    (unsigned long long)o->id);
		outq_sent(&ps.oq);
		return;
	case 40001:
	case 40014:
	case 42001:
		token_stale(ps.tok);
		if (o->tries++ < PUSH_TOKEN_TRIES) {
			log_info("callback %s: token refused (%lld); "
			    "fetching another", cb.account, code);
			outq_putback(&ps.oq);
			return;
		}
		outq_failed(&ps.oq, "retry", why, 0);
		return;
	case -1:
	case 45009:
	case 45011:
	case 45033:
		outq_failed(&ps.oq, "retry", why, PUSH_BUSY_RETRY_MS);
		return;
	default:
		/* 45015 window closed, 45047 quota, 48001 no permission... */
		log_warnx("callback %s: send %llu refused: %s", cb.account,
		    (unsigned long long)o->id, why);
		outq_failed(&ps.oq, "rejected", why, 0);
		return;
	}
}

/*
 * D.4: WeCom answers 0 when some recipients were not reached and names
 * them (lower-cased) in invaliduser or unlicenseduser; ours is the only
 * one, so a name there means it was not delivered.
 */
static const char *
push_unreached(const char *body, size_t len)
{
	static char who[64];
	const char *s, *keys[] = { "invaliduser", "unlicenseduser" };
	json_t *o;
	size_t i;

	if (!cb.wecom || (o = json_loadb(body, len, 0, NULL)) == NULL)
		return NULL;
	for (i = 0; i < 2; i++)
		if ((s = json_string_value(json_object_get(o, keys[i]))) !=
		    NULL && *s != '\0') {
			snprintf(who, sizeof(who), "%s", keys[i]);
			json_decref(o);
			return who;
		}
	json_decref(o);
	return NULL;
}

static void
push_done(long status, const char *ctype, const char *body, size_t len,
    const char *err, void *arg)
{
	char msg[128], why[160];
	const char *who;
	long long code;

	(void)ctype;	/* the body is read as JSON whatever it says */
	(void)arg;
	ps.busy = 0;
	if (ps.oq.cur == NULL)
		return;
	if (err != NULL || status != 200) {
		if (err != NULL)
			snprintf(why, sizeof(why), "%s", err);
		else
			snprintf(why, sizeof(why), "HTTP %ld", status);
		outq_failed(&ps.oq, "retry", why, 0);
	} else if (api_errcode(body, len, &code, msg, sizeof(msg)) == -1)
		outq_failed(&ps.oq, "retry", "an answer without errcode", 0);
	else if (code == 0 && (who = push_unreached(body, len)) != NULL) {
		snprintf(why, sizeof(why), "errcode 0 but the user is in %s "
		    "(not visible to the app, or no licence)", who);
		log_warnx("callback %s: send %llu: %s", cb.account,
		    (unsigned long long)ps.oq.cur->id, why);
		outq_failed(&ps.oq, "rejected", why, 0);
	} else
		push_judge(code, msg);
	push_later();
}

/* Shutdown: the hub sends again what was not answered. */
void
push_stop(void)
{
	outq_clear(&ps.oq);
	evtimer_del(ps.timer);
	free(ps.tok);
	ps.tok = NULL;
}
