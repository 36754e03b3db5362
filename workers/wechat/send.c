/*
 * The outbound side of the wechat worker: outbound.message frames wait
 * in a bounded queue and go out one at a time as sendmessage (§3.4),
 * at least send_gap_ms apart (§7.2: bursts get the bot throttled for an
 * hour).  Each ends in exactly one delivery.ack or delivery.fail; the
 * supervisor keeps the outbox row until then and re-sends what a dead
 * worker never answered.  A new hub (sup.resync) re-sends every row it
 * finds unanswered in its store, with the same key, among them those we
 * hold still, queued or in flight: each is sent and answered once, and
 * its answer serves the new hub's copy too.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "codec.h"
#include "ilink.h"
#include "log.h"
#include "wechat.h"
#include "worker.h"
#include "xmalloc.h"

/* Queued sends; past this the supervisor is told to try later. */
#define SEND_QUEUE_MAX		1024
#define SEND_FULL_RETRY_MS	10000
/* §7.2: one delayed retry of at least 3 s after -2. */
#define SEND_REFUSED_RETRY_MS	3000

struct out {
	TAILQ_ENTRY(out)	 entry;
	uint64_t		 id;
	char			*key;		/* the supervisor's, per row */
	char			*peer;
	char			*text;
	char			*ctx;
};

static struct {
	TAILQ_HEAD(, out)	 q;
	size_t			 n;
	struct out		*cur;		/* in flight */
	struct wcall		*call;
	struct event		*timer;
	uint64_t		 next_ms;	/* monotonic: not before */
} sd;

static void	send_done(struct wcall *, void *);
static void	send_timer(evutil_socket_t, short, void *);
static void	send_ack(uint64_t);
static void	send_fail(uint64_t, const char *, const char *, uint64_t);

int
send_init(struct event_base *base)
{
	TAILQ_INIT(&sd.q);
	sd.timer = evtimer_new(base, send_timer, NULL);
	return sd.timer == NULL ? -1 : 0;
}

static void
send_out_free(struct out *o)
{
	if (o == NULL)
		return;
	free(o->key);
	free(o->peer);
	free(o->text);
	xfree_secret(o->ctx);
	free(o);
}

/* The same row under the same key: one send, one answer, covers both. */
static int
send_same(const struct out *o, const struct ipc_body_outbound *b)
{
	return o != NULL && o->id == b->id && ipc_streq(b->key, o->key);
}

int
send_outbound(const struct ipc_msg *m)
{
	const struct ipc_body_outbound *b = &m->b.outbound;
	struct out *o;

	/*
	 * A row we hold, not answered yet (after a resync, or a lease the
	 * hub let run out): one send and its answer serve both copies.
	 */
	if (send_same(sd.cur, b)) {
		log_debug("wechat: message %llu is being sent already",
		    (unsigned long long)b->id);
		return 0;
	}
	TAILQ_FOREACH(o, &sd.q, entry)
		if (send_same(o, b)) {
			log_debug("wechat: message %llu is queued already",
			    (unsigned long long)b->id);
			return 0;
		}
	if (login_running()) {
		send_fail(b->id, "retry", "not logged in",
		    WECHAT_LOGIN_RETRY_MS);
		return 0;
	}
	if (sd.n >= SEND_QUEUE_MAX) {
		log_warnx("wechat: send queue full; message %llu refused for "
		    "now", (unsigned long long)b->id);
		send_fail(b->id, "retry", "send queue full",
		    SEND_FULL_RETRY_MS);
		return 0;
	}
	o = xcalloc(1, sizeof(*o));
	o->id = b->id;
	o->key = ipc_strdup(b->key);
	o->peer = ipc_strdup(b->peer);
	o->text = ipc_strdup(b->text);
	o->ctx = ipc_strdup(b->reply_ctx);
	TAILQ_INSERT_TAIL(&sd.q, o, entry);
	sd.n++;
	send_kick();
	return 0;
}

static void
send_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	send_kick();
}

/* Start the next send if one waits, we may speak and the gap is over. */
void
send_kick(void)
{
	char cid[ILINK_CLIENT_ID_LEN], *body;
	struct timeval tv;
	uint64_t now;
	struct out *o;

	if (sd.cur != NULL || TAILQ_EMPTY(&sd.q) || wc.token == NULL ||
	    login_running() || wc.draining)
		return;
	if ((now = clock_mono_ms()) < sd.next_ms) {
		tv.tv_sec = (time_t)((sd.next_ms - now) / 1000);
		tv.tv_usec = (suseconds_t)((sd.next_ms - now) % 1000 * 1000);
		evtimer_add(sd.timer, &tv);
		return;
	}
	o = TAILQ_FIRST(&sd.q);
	TAILQ_REMOVE(&sd.q, o, entry);
	sd.n--;
	sd.cur = o;
	ilink_client_id(o->key, cid, sizeof(cid));
	body = ilink_body_send(o->peer, o->text, o->ctx, cid, wc.bot_agent);
	log_debug("wechat: sending %llu to %s as %s",
	    (unsigned long long)o->id, o->peer, cid);
	sd.call = wcall_post(wc.base, "ilink/bot/sendmessage", wc.token, body,
	    wc.timeout_s * 1000, send_done, o);
	if (sd.call == NULL) {
		sd.cur = NULL;
		send_fail(o->id, "retry", "the request could not start", 0);
		send_out_free(o);
		/* The next one is tried from the loop, not in a recursion. */
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		evtimer_add(sd.timer, &tv);
	}
}

/*
 * §3.0 and §7.2: what the answer means for this message, in the three
 * codes of delivery.fail.  "retry": not known to be delivered (a cut
 * connection, a timeout, HTTP 5xx, -14), so the supervisor re-sends
 * under the same key and the server drops a copy it did take (§3.4).
 * "refused": known not delivered (-2), so the supervisor re-sends
 * under a new key, since the server would drop the old one as seen.
 * "rejected": refused for good (HTTP 4xx, another ret).  An empty 200
 * is ambiguous (§8.2); a second copy costs the turn budget and shows
 * twice, so it counts as sent, with a warning.
 */
static int
send_judge(struct wcall *c, struct out *o)
{
	struct ilink_ret r;
	enum ilink_err e;
	const char *body;
	size_t len;
	char msg[64];

	switch (wcall_result(c)) {
	case WCALL_OK:
		break;
	case WCALL_HTTP4XX:
		send_fail(o->id, "rejected", wcall_error(c), 0);
		return 0;
	default:
		send_fail(o->id, "retry", wcall_error(c), 0);
		return 0;
	}
	body = wcall_body(c, &len);
	if (len == 0) {
		log_warnx("wechat: message %llu: empty answer; taken as sent",
		    (unsigned long long)o->id);
		send_ack(o->id);
		return 0;
	}
	switch ((e = ilink_parse_ret(body, len, &r))) {
	case ILINK_OK:
		send_ack(o->id);
		return 0;
	case ILINK_E_SESSION:
		send_fail(o->id, "retry", "session timeout", 0);
		return 1;
	case ILINK_E_RET:
		snprintf(msg, sizeof(msg), "ret %lld", r.code);
		if (r.code == ILINK_RET_REFUSED)
			send_fail(o->id, "refused", *r.errmsg ? r.errmsg :
			    msg, SEND_REFUSED_RETRY_MS);
		else
			send_fail(o->id, "rejected", *r.errmsg ? r.errmsg :
			    msg, 0);
		return 0;
	default:
		send_fail(o->id, "retry", ilink_strerror(e), 0);
		return 0;
	}
}

static void
send_done(struct wcall *c, void *arg)
{
	struct out *o = arg;
	int relogin;

	sd.call = NULL;
	sd.cur = NULL;
	relogin = send_judge(c, o);
	send_out_free(o);
	sd.next_ms = clock_mono_ms() + (uint64_t)wc.send_gap_ms;
	if (relogin)
		wechat_login_needed();
	else
		send_kick();
}

/* Everything queued (not the one in flight) goes back for later. */
void
send_fail_all(const char *why, uint64_t retry_after_ms)
{
	struct out *o;

	while ((o = TAILQ_FIRST(&sd.q)) != NULL) {
		TAILQ_REMOVE(&sd.q, o, entry);
		sd.n--;
		send_fail(o->id, "retry", why, retry_after_ms);
		send_out_free(o);
	}
}

/* Shutdown: abandon all; the supervisor re-sends unanswered rows. */
void
send_stop(void)
{
	struct out *o;

	wcall_cancel(sd.call);
	sd.call = NULL;
	send_out_free(sd.cur);
	sd.cur = NULL;
	while ((o = TAILQ_FIRST(&sd.q)) != NULL) {
		TAILQ_REMOVE(&sd.q, o, entry);
		send_out_free(o);
	}
	sd.n = 0;
	evtimer_del(sd.timer);
}

static void
send_ack(uint64_t id)
{
	struct ipc_body_delivery b = { id };

	log_debug("wechat: message %llu sent", (unsigned long long)id);
	if (worker_send(IPC_DELIVERY_ACK, 0, &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

static void
send_fail(uint64_t id, const char *code, const char *why, uint64_t retry_ms)
{
	struct ipc_body_delivery_fail b;

	log_info("wechat: message %llu not sent (%s): %s",
	    (unsigned long long)id, code, why);
	b.id = id;
	b.code = ipc_s(code);
	b.message = ipc_s(why);
	b.retry_after_ms = retry_ms;
	if (worker_send(IPC_DELIVERY_FAIL, 0, &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
}
