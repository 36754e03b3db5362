/*
 * The outbound side of the wechat worker: outbound.message frames wait
 * in a bounded queue and go out one at a time as sendmessage (§3.4),
 * at least send_gap_ms apart (§7.2: bursts get the bot throttled for an
 * hour), through the queue every channel worker keeps (outq.c): each
 * ends in exactly one delivery.ack or delivery.fail.  A new hub
 * (sup.resync) re-sends every row it finds unanswered in its store, with
 * the same key, among them those we hold still, queued or in flight:
 * each is sent and answered once, and its answer serves both copies.
 *
 * outbound.file rows (an agent's reply's files, wxgatectl send --file)
 * wait in the same queue, so they follow the reply's text in order: the
 * hub's sealed memfd is checked on arrival and held; at its turn
 * upload.c reads it once, encrypts it and puts it on the CDN, and one
 * sendmessage shows it as an image item or a file item (§5.6, §6.2;
 * audio is a file, §6.4), with the row's context token and client_id
 * as a text row has, answered as one.  The upload is paced with its
 * message: both run within one turn of the gap.  Every row, text or
 * file, is held to its context token's budget (budget.c).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/queue.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "codec.h"
#include "ilink.h"
#include "ilink_media.h"
#include "log.h"
#include "media.h"
#include "outq.h"
#include "wechat.h"
#include "worker.h"
#include "xmalloc.h"

/* Queued sends; past this the supervisor is told to try later. */
#define SEND_QUEUE_MAX		1024
#define SEND_FULL_RETRY_MS	10000
/* §7.2: one delayed retry of at least 3 s after -2. */
#define SEND_REFUSED_RETRY_MS	3000
/* Attachments held at once, each an open memfd until its turn. */
#define SEND_FILES_MAX		16
/* ipc_msg.h: an outbound.file's memfd cannot shrink or grow. */

static struct {
	struct outq		 oq;
	struct wcall		*call;
	struct event		*timer;
	uint64_t		 next_ms;	/* monotonic: not before */
} sd;

static void	send_done(struct wcall *, void *);
static void	send_timer(evutil_socket_t, short, void *);
static void	send_upload(struct outq_item *);
static void	send_uploaded(enum upload_res, const char *, void *);
static void	send_post(struct outq_item *, char *);

int
send_init(struct event_base *base)
{
	outq_init(&sd.oq, "wechat", SEND_QUEUE_MAX);
	sd.oq.files_max = SEND_FILES_MAX;
	/*
	 * The gap holds across our restarts too: a predecessor may have
	 * sent just before it died, and it left us no note of when.
	 */
	sd.next_ms = clock_mono_ms() + (uint64_t)wc.send_gap_ms;
	sd.timer = evtimer_new(base, send_timer, NULL);
	return sd.timer == NULL ? -1 : 0;
}

int
send_outbound(const struct ipc_msg *m)
{
	const struct ipc_body_outbound *b = &m->b.outbound;

	if (login_running()) {
		outq_fail(b->id, "retry", "not logged in",
		    WECHAT_LOGIN_RETRY_MS);
		return 0;
	}
	if (outq_put(&sd.oq, b, SEND_FULL_RETRY_MS) == 1)
		send_kick();
	return 0;
}

/* Anything else than ipc_msg.h says is the hub breaking the protocol. */
int
send_outbound_file(const struct ipc_msg *m)
{
	const struct ipc_body_outbound_file *b = &m->b.outbound_file;

	if ((!ipc_streq(b->kind, "file") && !ipc_streq(b->kind, "image")) ||
	    !wk_media_fd_ok(m->fd, b->size)) {
		log_warnx("wechat: outbound.file %llu: kind or fd not as "
		    "ipc_msg.h says", (unsigned long long)b->id);
		close(m->fd);
		return -1;
	}
	if (login_running()) {
		close(m->fd);
		outq_fail(b->id, "retry", "not logged in",
		    WECHAT_LOGIN_RETRY_MS);
		return 0;
	}
	/* The codec bounds size by IPC_FILE_MAX; iLink's bound is ours. */
	if (b->size > ILINK_UPLOAD_MAX) {
		close(m->fd);
		log_info("wechat: row %llu: %llu bytes, over %d",
		    (unsigned long long)b->id, (unsigned long long)b->size,
		    ILINK_UPLOAD_MAX);
		outq_fail(b->id, "rejected", "over the 100 MiB iLink moves "
		    "in one file", 0);
		return 0;
	}
	if (outq_put_file(&sd.oq, b, m->fd, SEND_FULL_RETRY_MS) == 1)
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

/*
 * Whom a row goes to: the peer, or for a group conversation ("chat/
 * sender", as the hub names it) the group, never the sender privately
 * (5.5).  Only "...@im.chatroom" is known to be a group's id.
 */
static const char *
send_to(const char *peer, char *buf, size_t len)
{
	const char *slash = strchr(peer, '/');
	size_t n;

	if (slash == NULL || (n = (size_t)(slash - peer)) >= len ||
	    n < sizeof("@im.chatroom") - 1 ||
	    memcmp(slash - (sizeof("@im.chatroom") - 1), "@im.chatroom",
	    sizeof("@im.chatroom") - 1) != 0)
		return peer;
	memcpy(buf, peer, n);
	buf[n] = '\0';
	return buf;
}

/* Start the next send if one waits, we may speak and the gap is over. */
void
send_kick(void)
{
	char cid[ILINK_CLIENT_ID_LEN], to[IPC_PEER_MAX + 1], *body;
	struct timeval tv;
	uint64_t now;
	struct outq_item *o;

	if (sd.oq.cur != NULL || TAILQ_EMPTY(&sd.oq.q) || wc.token == NULL ||
	    login_running() || wc.draining)
		return;
	if ((now = clock_mono_ms()) < sd.next_ms) {
		tv = clock_tv(sd.next_ms - now);
		evtimer_add(sd.timer, &tv);
		return;
	}
	/* §7.2: past its token's budget a row waits for the next token. */
	while ((o = outq_take(&sd.oq)) != NULL && !budget_left(o->peer,
	    o->ctx, o->spent))
		outq_failed(&sd.oq, "refused", "this conversation turn's "
		    "10 messages are spent; sent when the person writes again",
		    0);
	if (o == NULL)
		return;
	if (o->kind != NULL) {
		send_upload(o);
		return;
	}
	ilink_client_id(o->key, cid, sizeof(cid));
	body = ilink_body_send(send_to(o->peer, to, sizeof(to)), o->text,
	    o->ctx, cid, wc.bot_agent);
	log_debug("wechat: sending %llu to %s as %s",
	    (unsigned long long)o->id, o->peer, cid);
	send_post(o, body);
}

/* sendmessage for the row taken; a start that fails is tried later. */
static void
send_post(struct outq_item *o, char *body)
{
	struct timeval tv;

	sd.call = wcall_post(wc.base, "ilink/bot/sendmessage", wc.token, body,
	    wc.timeout_s * 1000, send_done, o);
	if (sd.call == NULL) {
		outq_failed(&sd.oq, "retry", "the request could not start", 0);
		/* The next one is tried from the loop, not in a recursion. */
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		evtimer_add(sd.timer, &tv);
	}
}

/* An attachment's turn: onto the CDN first (upload.c). */
static void
send_upload(struct outq_item *o)
{
	char to[IPC_PEER_MAX + 1];
	enum upload_res res;
	const char *why;
	struct timeval tv;

	if (upload_start(o, send_to(o->peer, to, sizeof(to)), send_uploaded,
	    o, &res, &why) == 0)
		return;
	outq_failed(&sd.oq, "retry", why, 0);
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(sd.timer, &tv);
}

/* The upload ended: the message that shows it, or the row's answer. */
static void
send_uploaded(enum upload_res res, const char *why, void *arg)
{
	struct outq_item *o = arg;
	char cid[ILINK_CLIENT_ID_LEN], to[IPC_PEER_MAX + 1], *body;

	switch (res) {
	case UPLOAD_OK:
		break;
	case UPLOAD_RELOGIN:
		outq_failed(&sd.oq, "retry", why, 0);
		wechat_login_needed();
		return;
	default:
		if (res == UPLOAD_REFUSED)
			outq_failed(&sd.oq, "refused", why,
			    SEND_REFUSED_RETRY_MS);
		else
			outq_failed(&sd.oq, res == UPLOAD_REJECTED ?
			    "rejected" : "retry", why, 0);
		sd.next_ms = clock_mono_ms() + (uint64_t)wc.send_gap_ms;
		send_kick();
		return;
	}
	ilink_client_id(o->key, cid, sizeof(cid));
	body = ilink_body_send_media(send_to(o->peer, to, sizeof(to)),
	    upload_info(), upload_param(), o->name, o->ctx, cid,
	    wc.bot_agent);
	upload_clear();
	log_debug("wechat: sending %llu (%s %s) to %s as %s",
	    (unsigned long long)o->id, o->kind, o->name, o->peer, cid);
	send_post(o, body);
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
send_judge(struct wcall *c, struct outq_item *o)
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
		outq_failed(&sd.oq, "rejected", wcall_error(c), 0);
		return 0;
	default:
		outq_failed(&sd.oq, "retry", wcall_error(c), 0);
		return 0;
	}
	body = wcall_body(c, &len);
	if (len == 0) {
		log_warnx("wechat: message %llu: empty answer; taken as sent",
		    (unsigned long long)o->id);
		budget_note(o->peer, o->ctx);
		outq_sent(&sd.oq);
		return 0;
	}
	switch ((e = ilink_parse_ret(body, len, &r))) {
	case ILINK_OK:
		/*
		 * An answer is out: no more "typing..." for its reader,
		 * unless more of it follows (the agent still writes).
		 */
		if (!o->more)
			typing_stop(o->peer);
		budget_note(o->peer, o->ctx);
		outq_sent(&sd.oq);
		return 0;
	case ILINK_E_SESSION:
		outq_failed(&sd.oq, "retry", "session timeout", 0);
		return 1;
	case ILINK_E_RET:
		snprintf(msg, sizeof(msg), "ret %lld", r.code);
		if (r.code == ILINK_RET_REFUSED)
			outq_failed(&sd.oq, "refused", *r.errmsg ? r.errmsg :
			    msg, SEND_REFUSED_RETRY_MS);
		else
			outq_failed(&sd.oq, "rejected", *r.errmsg ? r.errmsg :
			    msg, 0);
		return 0;
	default:
		outq_failed(&sd.oq, "retry", ilink_strerror(e), 0);
		return 0;
	}
}

static void
send_done(struct wcall *c, void *arg)
{
	struct outq_item *o = arg;
	int relogin;

	sd.call = NULL;
	relogin = send_judge(c, o);
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
	outq_fail_all(&sd.oq, why, retry_after_ms);
}

/* Shutdown: abandon all; the supervisor re-sends unanswered rows. */
void
send_stop(void)
{
	wcall_cancel(sd.call);
	sd.call = NULL;
	upload_cancel();
	outq_clear(&sd.oq);
	evtimer_del(sd.timer);
}
