/*
 * The getupdates loop of the wechat worker (§3.3): one long poll at a
 * time, each message of a batch handed to the supervisor as
 * inbound.message, and the batch's cursor stored (state.put) only once
 * every message is acknowledged by inbound.ack.  A worker that dies
 * before that re-polls the old cursor in its next life and the
 * supervisor dedupes: nothing is lost.  Polling waits for acks, never
 * for agent replies (§8.10).  After sup.resync the messages still
 * waiting go to the new hub again under the same req_ids: it dedupes
 * by message id, and a second ack of one is expected, not an error.
 *
 * A message with attachments goes as inbound.media once inmedia.c has
 * them (downloads run on the loop, a few at once); messages go to the
 * supervisor in the batch's order, so a photo is not overtaken by the
 * question about it.  Each keeps its memfd until its own ack: a resync
 * sends it again from there.  A "retry" or "busy" ack re-polls the
 * batch (the cursor stays); the memfd of that message is carried over
 * to the next batch, and the message, if it comes again under the same
 * id, goes from it without a second download.
 *
 * The memfds waiting for acks are bounded in bytes, POLL_HELD_MAX(): a
 * message's downloads start, in the batch's order, only when what is
 * held plus a media_max_bytes for each message downloading leaves room
 * for one more.  Past it the batch waits for acks to free some; the
 * next getupdates waits for the batch as always, so the cursor stays
 * and nothing is lost.  A message is let start when nothing is held,
 * so a bound under one message's worth still lets the batch through.
 * A message acked "retry" or "busy" is no longer awaited: its memfd,
 * kept for the next try, stops counting, or the batch could wait for
 * acks that will not come; what is kept so has a bound of its own, the
 * same, past which a memfd is closed and downloaded again next time.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "codec.h"
#include "ilink.h"
#include "log.h"
#include "media.h"
#include "wechat.h"
#include "worker.h"
#include "xmalloc.h"

/* §8.9: past the server's own deadline, so its answer is not cut off. */
#define POLL_MARGIN_MS	5000
/* A server hint is believed within these bounds. */
#define POLL_HINT_MIN_MS	1000
#define POLL_HINT_MAX_MS	120000
/*
 * A poll that brings nothing is a long poll the server should have
 * held; one answered sooner than this (a proxy, a server in trouble)
 * is not asked again before it, or we would ask thousands a second.
 */
#define POLL_EMPTY_MIN_MS	1000
/* Our inbound.message req_ids; state.get uses small numbers. */
#define POLL_REQ_FIRST	1000
/*
 * Bytes of attachments in memfds the hub has not acked: two messages'
 * worth, enough that one downloads while the one before it is acked.
 */
#define POLL_HELD_MAX()	(2 * wc.media_max)

static struct {
	int			 running;	/* logged in, not stopped */
	struct wcall		*call;
	struct event		*timer;
	int			 failures;
	long			 hint_ms;
	uint64_t		 sent_ms;	/* the poll in flight went */
	/* The batch being acknowledged. */
	struct ilink_updates	 batch;
	unsigned char		*acked;
	size_t			 waiting;
	uint64_t		 first_req;
	uint64_t		 next_req;
	int			 forget;	/* do not store its cursor */
	int			 again;	/* the supervisor said retry */
	/* req_ids below it went out before a resync: acked twice, maybe. */
	uint64_t		 resync_below;
	/* Per message of the batch: its attachments and its text. */
	struct poll_msg {
		struct inmedia	*in;		/* until its ack */
		char		*text;		/* with the notes */
		int		 ready;		/* downloads done */
		int		 again;		/* acked retry or busy */
	}			*pm;
	size_t			 next_fetch;	/* messages before it started */
	size_t			 next_send;	/* messages before it went */
	uint64_t		 reserved;	/* for the ones downloading */
	uint64_t		 kept;		/* of those acked again */
	int			 full_logged;	/* the batch waited for room */
	/* What the last batch's retried messages had: for this one. */
	struct poll_carry {
		char		*msg_id;
		struct inmedia	*in;
	}			 carry[ILINK_MSGS_MAX];
	size_t			 ncarry;
} pl;

static void	poll_send(void);
static void	poll_done(struct wcall *, void *);
static void	poll_fail(const char *);
static void	poll_batch(struct ilink_updates *);
static void	poll_inbound(size_t);
static void	poll_fetched(void *);
static void	poll_fetch_more(void);
static uint64_t	poll_held(void);
static void	poll_flush(void);
static struct inmedia *poll_carried(const char *);
static void	poll_carry_drop(void);
static void	poll_commit(void);
static void	poll_timer(evutil_socket_t, short, void *);

int
poll_init(struct event_base *base)
{
	pl.next_req = POLL_REQ_FIRST;
	pl.timer = evtimer_new(base, poll_timer, NULL);
	return pl.timer == NULL ? -1 : 0;
}

/* Logged in: poll, unless a batch still waits for its acks. */
void
poll_start(void)
{
	pl.running = 1;
	pl.failures = 0;
	pl.forget = 0;
	poll_send();
}

/*
 * Abort the long poll (§3.3 rule 8).  A batch waiting for acks stays:
 * its acks still come, and are still counted.
 */
void
poll_stop(void)
{
	pl.running = 0;
	wcall_cancel(pl.call);
	pl.call = NULL;
	evtimer_del(pl.timer);
}

/* A new bot binding: the old batch's cursor means nothing now (§8.8). */
void
poll_forget_cursor(void)
{
	pl.forget = 1;
}

static void
poll_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	poll_send();
}

static void
poll_send(void)
{
	long timeout;
	char *body;

	if (!pl.running || pl.call != NULL || pl.acked != NULL ||
	    evtimer_pending(pl.timer, NULL))
		return;
	timeout = (pl.hint_ms > 0 ? pl.hint_ms : wc.poll_timeout_ms) +
	    POLL_MARGIN_MS;
	body = ilink_body_updates(wc.cursor, wc.bot_agent);
	pl.sent_ms = clock_mono_ms();
	pl.call = wcall_post(wc.base, "ilink/bot/getupdates", wc.token, body,
	    timeout, poll_done, NULL);
	if (pl.call == NULL)
		poll_fail("the request could not start");
}

/* The next poll, ms from now. */
static void
poll_later(uint64_t ms)
{
	struct timeval tv;

	tv = clock_tv(ms);
	evtimer_add(pl.timer, &tv);
}

/* §3.3 rules 6 and 7: back off, and say why. */
static void
poll_fail(const char *why)
{
	long ms;

	ms = wechat_backoff_ms(&pl.failures);
	log_warnx("wechat: getupdates: %s; polling again in %ld s", why,
	    ms / 1000);
	poll_later((uint64_t)ms);
}

static void
poll_done(struct wcall *c, void *arg)
{
	struct ilink_updates u;
	enum ilink_err e;
	const char *body;
	size_t len;

	(void)arg;
	pl.call = NULL;
	switch (wcall_result(c)) {
	case WCALL_OK:
		break;
	case WCALL_TIMEOUT:
		/* §3.3 rule 2: a quiet poll; the cursor stays. */
		pl.failures = 0;
		poll_send();
		return;
	default:
		poll_fail(wcall_error(c));
		return;
	}
	body = wcall_body(c, &len);
	e = ilink_parse_updates(body, len, &u);
	if (e == ILINK_E_SESSION) {
		ilink_updates_clear(&u);
		pl.failures = 0;
		wechat_login_needed();
		return;
	}
	if (e != ILINK_OK) {
		log_warnx("wechat: getupdates: %s (ret %lld%s%s)",
		    ilink_strerror(e), u.ret.code, *u.ret.errmsg ? ", " : "",
		    u.ret.errmsg);
		ilink_updates_clear(&u);
		poll_fail(e == ILINK_E_TOOMANY ? "batch too large" :
		    "bad answer");
		return;
	}
	pl.failures = 0;
	if (u.timeout_ms > 0)
		pl.hint_ms = u.timeout_ms < POLL_HINT_MIN_MS ?
		    POLL_HINT_MIN_MS : u.timeout_ms > POLL_HINT_MAX_MS ?
		    POLL_HINT_MAX_MS : u.timeout_ms;
	poll_batch(&u);
}

static void
poll_log_drop(const struct ilink_msg *im)
{
	switch (im->drop) {
	case ILINK_DROP_GROUP:
		log_warnx("wechat: dropped a message with an unusable "
		    "group_id");
		break;
	case ILINK_DROP_BAD:
		log_warnx("wechat: dropped a malformed message");
		break;
	default:
		log_debug("wechat: dropped a message: %s",
		    ilink_drop_name(im->drop));
		break;
	}
}

/* Hand every kept message on; the batch owns u's memory from here. */
static void
poll_batch(struct ilink_updates *u)
{
	struct ilink_msg *im;
	size_t i;

	pl.batch = *u;
	pl.acked = xcalloc(u->n + 1, 1);
	pl.pm = xcalloc(u->n + 1, sizeof(*pl.pm));
	pl.next_fetch = pl.next_send = 0;
	pl.reserved = 0;
	pl.first_req = pl.next_req;
	pl.next_req += u->n;
	pl.waiting = 0;
	for (i = 0; i < pl.batch.n; i++) {
		im = &pl.batch.msgs[i];
		if (im->drop != ILINK_KEEP) {
			poll_log_drop(im);
			pl.acked[i] = 1;
			pl.pm[i].ready = 1;
			continue;
		}
		if (im->text_cut)
			log_info("wechat: message %s cut to %d bytes",
			    im->msg_id, IPC_TEXT_MAX);
		if (im->ctx_dropped)
			log_warnx("wechat: message %s: context token too long; "
			    "a reply may not arrive", im->msg_id);
		pl.waiting++;
		if ((pl.pm[i].in = poll_carried(im->msg_id)) != NULL) {
			pl.pm[i].ready = 1;
			continue;
		}
		pl.pm[i].in = inmedia_new(im->media, im->msg_id);
		if (!inmedia_wants(pl.pm[i].in))
			pl.pm[i].ready = 1;
	}
	/* Those that did not come again are the platform's to resend. */
	poll_carry_drop();
	poll_fetch_more();
	poll_flush();
	if (pl.waiting == 0)
		poll_commit();
}

/* The attachments a retried message had, if it is msg_id. */
static struct inmedia *
poll_carried(const char *msg_id)
{
	struct inmedia *in;
	size_t i;

	for (i = 0; i < pl.ncarry; i++)
		if (pl.carry[i].in != NULL &&
		    strcmp(pl.carry[i].msg_id, msg_id) == 0) {
			in = pl.carry[i].in;
			pl.carry[i].in = NULL;
			log_debug("wechat: message %s: its attachments kept "
			    "from the last try", msg_id);
			return in;
		}
	return NULL;
}

static void
poll_carry_drop(void)
{
	size_t i;

	for (i = 0; i < pl.ncarry; i++) {
		inmedia_free(pl.carry[i].in);
		free(pl.carry[i].msg_id);
	}
	pl.ncarry = 0;
}

/* Bytes in memfds sent and not acked, or waiting their turn to go. */
static uint64_t
poll_held(void)
{
	return inmedia_held() - pl.kept;
}

/*
 * Start the downloads of the next messages, in order, while the bytes
 * held and those downloading may take leave room under POLL_HELD_MAX().
 */
static void
poll_fetch_more(void)
{
	struct poll_msg *p;
	uint64_t busy;

	for (; pl.next_fetch < pl.batch.n; pl.next_fetch++) {
		p = &pl.pm[pl.next_fetch];
		if (p->ready)
			continue;
		busy = poll_held() + pl.reserved;
		if (busy > 0 && busy + wc.media_max > POLL_HELD_MAX()) {
			/* Waiting for a download is routine; for acks, not. */
			if (!pl.full_logged &&
			    poll_held() + wc.media_max > POLL_HELD_MAX()) {
				log_info("wechat: %llu bytes of attachments "
				    "wait for the hub's ack (at most %llu): "
				    "the next message waits for room",
				    (unsigned long long)poll_held(),
				    (unsigned long long)POLL_HELD_MAX());
				pl.full_logged = 1;
			}
			return;
		}
		pl.reserved += wc.media_max;
		if (inmedia_fetch(p->in, poll_fetched, p) == 0) {
			pl.reserved -= wc.media_max;
			p->ready = 1;
		}
	}
}

/* A message's downloads are over: it may go, after those before it. */
static void
poll_fetched(void *arg)
{
	struct poll_msg *p = arg;

	pl.reserved -= wc.media_max;
	p->ready = 1;
	poll_flush();
	poll_fetch_more();
}

/* Send, in the batch's order, every message whose downloads are done. */
static void
poll_flush(void)
{
	while (pl.next_send < pl.batch.n && pl.pm[pl.next_send].ready) {
		if (!pl.acked[pl.next_send])
			poll_inbound(pl.next_send);
		pl.next_send++;
	}
}

/*
 * The text the supervisor gets: the message's, then a note per
 * attachment that did not come, within IPC_TEXT_MAX.
 */
static const char *
poll_text(size_t i)
{
	struct poll_msg *p = &pl.pm[i];
	const char *notes = inmedia_notes(p->in);
	size_t t, n, cut;

	if (*notes == '\0')
		return pl.batch.msgs[i].text;
	if (p->text != NULL)
		return p->text;
	t = strlen(pl.batch.msgs[i].text);
	n = strlen(notes);
	p->text = xmalloc(t + n + 1);
	memcpy(p->text, pl.batch.msgs[i].text, t);
	memcpy(p->text + t, notes, n + 1);
	if (t + n > IPC_TEXT_MAX) {
		/* The notes are ASCII: a cut among them is a clean one. */
		cut = t < IPC_TEXT_MAX ? IPC_TEXT_MAX : t;
		p->text[cut] = '\0';
	}
	return p->text;
}

/* Message i of the batch as inbound.message, under its own req_id. */
static void
poll_inbound(size_t i)
{
	const struct ilink_msg *im = &pl.batch.msgs[i];
	struct ipc_body_inbound b;

	memset(&b, 0, sizeof(b));
	b.peer = ipc_s(im->peer);
	b.msg_id = ipc_s(im->msg_id);
	b.text = ipc_s(poll_text(i));
	/* iLink marks no mentions: a group needs require_mention off. */
	b.group = ipc_s(im->group != NULL ? im->group : "");
	b.mentioned = 0;
	b.reply_ctx = ipc_s(im->ctx);
	log_debug("wechat: inbound %s from %s (%llu bytes of attachments "
	    "held)", im->msg_id, im->peer,
	    (unsigned long long)poll_held());
	/* inbound.message, or inbound.media when parts came. */
	if (wk_media_send(inmedia_parts(pl.pm[i].in), pl.first_req + i,
	    &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

/*
 * A new hub: hand it every message of the batch it has not acked.  The
 * old hub may have stored some (it answers "duplicate"), and may not
 * have read others, which then reach the new hub twice: either way an
 * ack can come twice for an id issued before now.
 */
void
poll_resync(void)
{
	size_t i, n = 0;

	pl.resync_below = pl.next_req;
	if (pl.acked == NULL)
		return;
	/* Those not sent yet go when their downloads are done. */
	for (i = 0; i < pl.next_send; i++)
		if (!pl.acked[i]) {
			poll_inbound(i);
			n++;
		}
	if (n > 0)
		log_info("wechat: %zu message%s waiting for an ack sent again",
		    n, n == 1 ? "" : "s");
}

/* Every message is the supervisor's now: move the cursor, poll again. */
static void
poll_commit(void)
{
	const char *cur = pl.batch.cursor;
	int again = pl.again, empty = pl.batch.n == 0;
	uint64_t took;
	size_t i;

	/*
	 * §3.3 rule 3: only a non-empty cursor replaces the old one.  A
	 * message the supervisor could not store ("retry") keeps the old
	 * cursor: the batch comes again, and what was stored is a duplicate.
	 */
	if (cur != NULL && !pl.forget && !again &&
	    strcmp(cur, wc.cursor) != 0) {
		wk_state_put("cursor", cur);
		free(wc.cursor);
		wc.cursor = xstrdup(cur);
	}
	poll_carry_drop();
	for (i = 0; i < pl.batch.n; i++) {
		if (pl.pm[i].again && pl.pm[i].in != NULL &&
		    pl.ncarry < ILINK_MSGS_MAX) {
			inmedia_keep(pl.pm[i].in);
			pl.carry[pl.ncarry].in = pl.pm[i].in;
			pl.carry[pl.ncarry++].msg_id =
			    xstrdup(pl.batch.msgs[i].msg_id);
		} else
			inmedia_free(pl.pm[i].in);
		free(pl.pm[i].text);
	}
	free(pl.pm);
	pl.pm = NULL;
	ilink_updates_clear(&pl.batch);
	free(pl.acked);
	pl.acked = NULL;
	pl.full_logged = 0;
	pl.kept = 0;
	pl.forget = 0;
	pl.again = 0;
	took = clock_mono_ms() - pl.sent_ms;
	if (again)
		poll_fail("the supervisor could not take a message");
	else if (empty && took < POLL_EMPTY_MIN_MS)
		poll_later(POLL_EMPTY_MIN_MS - took);
	else
		poll_send();
}

/*
 * The statuses of inbound.ack: each but "retry" and "busy" means the
 * supervisor took the message; "retry" means it could not (its store
 * failed), "busy" that its backlog is full.  Either keeps the cursor.
 */
static const char *const ack_statuses[] = {
	"accepted", "duplicate", "pairing", "denied", "limited", "ignored",
	"retry", "busy"
};

int
poll_inbound_ack(const struct ipc_msg *m)
{
	uint64_t bytes;
	size_t i, idx = 0;

	if (pl.acked != NULL && m->req_id >= pl.first_req)
		idx = (size_t)(m->req_id - pl.first_req);
	if (pl.acked == NULL || m->req_id < pl.first_req ||
	    idx >= pl.next_send || pl.acked[idx]) {
		if (m->req_id >= POLL_REQ_FIRST &&
		    m->req_id < pl.resync_below) {
			log_debug("%s: ack %llu again, after a resync",
			    __func__, (unsigned long long)m->req_id);
			return 0;
		}
		log_warnx("%s: no message waits for ack %llu", __func__,
		    (unsigned long long)m->req_id);
		return wc.draining ? 0 : -1;
	}
	for (i = 0; i < sizeof(ack_statuses) / sizeof(ack_statuses[0]); i++)
		if (ipc_streq(m->b.inbound_ack.status, ack_statuses[i]))
			break;
	if (i == sizeof(ack_statuses) / sizeof(ack_statuses[0]))
		log_warnx("%s: unknown status %.*s, taken as accepted",
		    __func__, (int)m->b.inbound_ack.status.len,
		    m->b.inbound_ack.status.p);
	log_debug("wechat: message %s: %.*s", pl.batch.msgs[idx].msg_id,
	    (int)m->b.inbound_ack.status.len, m->b.inbound_ack.status.p);
	if (ipc_streq(m->b.inbound_ack.status, "retry") ||
	    ipc_streq(m->b.inbound_ack.status, "busy"))
		pl.again = pl.pm[idx].again = 1;
	/* The agent has it: the sender sees the bot typing (not in groups). */
	if (ipc_streq(m->b.inbound_ack.status, "accepted") &&
	    (pl.batch.msgs[idx].group == NULL ||
	    pl.batch.msgs[idx].group[0] == '\0'))
		typing_start(pl.batch.msgs[idx].peer, pl.batch.msgs[idx].ctx);
	pl.acked[idx] = 1;
	/* The supervisor has the bytes, or they wait for the next try. */
	if (pl.pm[idx].again && pl.pm[idx].in != NULL) {
		bytes = inmedia_parts(pl.pm[idx].in)->total;
		if (pl.kept + bytes <= POLL_HELD_MAX())
			pl.kept += bytes;
		else {
			log_info("wechat: message %s: attachments not kept "
			    "for the next try (%llu bytes kept already)",
			    pl.batch.msgs[idx].msg_id,
			    (unsigned long long)pl.kept);
			pl.pm[idx].again = 0;
		}
	}
	if (!pl.pm[idx].again) {
		inmedia_free(pl.pm[idx].in);
		pl.pm[idx].in = NULL;
	}
	if (--pl.waiting == 0)
		poll_commit();
	else
		poll_fetch_more();
	return 0;
}
