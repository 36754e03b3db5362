/*
 * Replies to WeCom (protocols/wecom.md A.3, A.5.5, A.5.6, A.5.9, A.6,
 * A.8): outbound.message rows from the hub become frames, in lanes.
 *
 * A lane is one callback's req_id: its stream bubble (one stream id,
 * each frame the whole text so far, the last with finish: true), or
 * its welcome.  One more lane carries the pushes (aibot_send_msg
 * markdown).  Each lane has at most one frame in flight: the next
 * leaves on the ack, an error ack, or ack_timeout_ms (A.3), and a
 * bubble's frames are stream_interval_ms apart at least (A.6 #3).
 *
 * A row is acked to the hub (delivery.ack) when every frame it became
 * is acked.  Its first 20480 bytes finish the bubble; the rest are
 * pushed (A.6 #7).  When the bubble cannot take it (no bubble: the
 * message came before a restart or a reconnect, whose req_id is gone;
 * 846605, 846608) the text is pushed instead.  Throttle and conflict
 * errors are retried as A.8 says; what still fails goes back to the
 * hub as delivery.fail, which retries the row later.  A connection
 * lost with a frame in flight sends it again as a push: the outcome is
 * unknown, and the hub's rows are at-least-once too.
 *
 * A bubble opens "thinking" (a zero-width frame).  While the agent
 * answers, the hub sends outbound.progress frames with the answer so
 * far; each one refreshes the bubble (the whole text so far, A.6 #2).
 * They are best effort: not acked to the hub, dropped for a bubble
 * that is unknown (a restart, a reconnect) or finished, and never more
 * than one waits in a lane, holding the newest text.  The row that
 * follows (outbound.message) finishes the bubble with the final text
 * and replaces a refresh still waiting, so a lost progress frame costs
 * nothing but freshness.  A bubble waiting longer than
 * LANE_KEEPALIVE_MS is refreshed, with the text it shows, so it does
 * not expire.
 *
 * A welcome must reach WeCom within 5 s of its enter_chat (A.5.6,
 * A.9): it has a lane of its own and goes at once, but a retry after
 * an error ack, or a connection lost meanwhile, could make it late.  It
 * is sent only while WELCOME_MS have not passed since the event came;
 * otherwise it is dropped, logged and counted (welcomes_dropped), never
 * sent late, and a welcome whose connection is gone is dropped the
 * same way, as its req_id went with it.
 *
 * The callbacks whose messages were stored are remembered (SEEN_MAX,
 * with the connection and the time each came), so upload.c may answer
 * one with an image or a file (reply_may_answer): only on the
 * connection it came on, within the window, when its bubble has ended
 * and nothing of reply.c's is left on its req_id, and never after
 * WeCom refused that req_id.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "wecom.h"
#include "worker.h"
#include "xmalloc.h"

/* A stream is writable about 6 min; refresh within 4 (A.6 #5). */
#define LANE_KEEPALIVE_MS	(180 * 1000)
/*
 * Open bubbles; past it a new message gets none (logged) and its answer
 * is pushed: an open bubble is never dropped, as it would spin until
 * WeCom expires it (A.6 #4).  Each keeps at most two copies of one
 * bubble of progress text (the newest, and the refresh waiting to go:
 * WCF_CONTENT_MAX each), 10 MiB in all.
 */
#define LANES_MAX		256
/* Rows held at once: the hub leases 8 (channel.c CH_INFLIGHT). */
#define ROWS_MAX		64
/*
 * WeCom takes a welcome within 5 s of enter_chat (A.9); the event's way
 * here and the frame's way back come out of those, so half a second is
 * kept for them.
 */
#define WELCOME_MS		4500
/*
 * Callbacks remembered for upload.c's answers, about 100 a minute over
 * its 5-minute window; past it the oldest is forgotten, and a file for
 * it goes as a push, which is shown all the same.
 */
#define SEEN_MAX		512
/* Visible to nobody: the bubble shows WeCom's "thinking" (A.6 #2). */
#define PLACEHOLDER		"\xe2\x80\x8b"

enum fkind { F_STREAM, F_FINISH, F_PUSH, F_WELCOME };
enum tmode { T_NONE, T_ACK, T_DELAY, T_KEEPALIVE };

struct row {
	LIST_ENTRY(row)	 entry;
	uint64_t	 id;
	int		 pending;	/* frames not yet acked */
};

struct frame {
	TAILQ_ENTRY(frame) entry;
	enum fkind	 kind;
	struct row	*row;		/* NULL: no row (placeholder...) */
	char		*text;
	size_t		 len;
	char		 chatid[WCF_ID_MAX + 1];	/* F_PUSH */
	int		 group;
	int		 tries;		/* retries after error acks */
	struct timespec	 born;		/* F_WELCOME: its enter_chat came */
	char		 req_id[WCF_ID_MAX + 1];	/* as sent */
};
TAILQ_HEAD(frameq, frame);

struct lane {
	TAILQ_ENTRY(lane) entry;
	char		 key[WCF_ID_MAX + 1];	/* callback req_id */
	int		 push;		/* the push lane */
	uint64_t	 gen;		/* link_gen() it belongs to */
	char		 stream_id[WCF_ID_MAX + 1];
	int		 finished;	/* its last frame is queued */
	int		 dead;		/* its req_id takes no more */
	struct frameq	 q;
	struct frame	*inflight;
	struct event	*timer;
	enum tmode	 tmode;
	struct timespec	 last;		/* last frame sent */
	int		 sent;		/* any frame sent yet */
	char		*text;		/* newest progress, or NULL */
	size_t		 textlen;	/* at most WCF_CONTENT_MAX */
};

/* A stored message's callback: may an image or a file answer it? */
struct seen {
	char		 req_id[WCF_ID_MAX + 1];
	uint64_t	 gen;		/* link_gen() it came on */
	uint64_t	 came;		/* clock_mono_ms() */
	int		 dead;		/* refused (846605, 846608) */
};

static struct seen		seen[SEEN_MAX];
static size_t			seen_next;
static TAILQ_HEAD(, lane)	lanes = TAILQ_HEAD_INITIALIZER(lanes);
static LIST_HEAD(, row)		rows = LIST_HEAD_INITIALIZER(rows);
static size_t			nlanes, nrows;
static struct lane		*push_lane;
static struct event_base	*rp_base;

static struct lane	*lane_new(const char *key, int push);
static void		 lane_free(struct lane *);
static struct lane	*lane_find(const char *);
static void		 lane_kick(struct lane *);
static void		 lane_timer(struct lane *, enum tmode, long ms);
static void		 lane_timer_cb(evutil_socket_t, short, void *);
static void		 lane_to_push(struct lane *);
static void		 lane_idle(struct lane *);
static void		 lane_refresh(struct lane *, const char *, size_t);
static void		 lane_drop_refresh(struct lane *);
static struct frame	*frame_new(enum fkind, struct row *, const char *,
			    size_t);
static void		 frame_free(struct frame *);
static void		 frame_done(struct frame *);
static void		 frame_push(struct frame *);
static char		*frame_json(struct lane *, struct frame *);
static void		 frame_error(struct lane *, struct frame *, long long);
static void		 row_fail(struct row *, const char *code,
			    uint64_t retry_after_ms, long long err);
static long		 ms_since(const struct timespec *);
static void		 welcome_drop(const struct lane *,
			    const struct frame *, const char *);
static struct seen	*seen_find(const char *);

int
reply_init(struct event_base *base)
{
	rp_base = base;
	push_lane = lane_new("push", 1);
	return push_lane == NULL ? -1 : 0;
}

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

static struct lane *
lane_new(const char *key, int push)
{
	struct lane *l;

	if (!push && nlanes >= LANES_MAX) {
		log_info("wecom %s: too many open replies; %s is answered "
		    "without a bubble", wb.account, key);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	snprintf(l->key, sizeof(l->key), "%s", key);
	l->push = push;
	l->gen = link_gen();
	TAILQ_INIT(&l->q);
	if ((l->timer = evtimer_new(rp_base, lane_timer_cb, l)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	TAILQ_INSERT_TAIL(&lanes, l, entry);
	if (!push)
		nlanes++;
	return l;
}

static void
lane_free(struct lane *l)
{
	struct frame *f;

	while ((f = TAILQ_FIRST(&l->q)) != NULL) {
		TAILQ_REMOVE(&l->q, f, entry);
		frame_free(f);
	}
	if (l->inflight != NULL)
		frame_free(l->inflight);
	free(l->text);
	event_free(l->timer);
	TAILQ_REMOVE(&lanes, l, entry);
	if (!l->push)
		nlanes--;
	free(l);
}

static struct lane *
lane_find(const char *key)
{
	struct lane *l;

	TAILQ_FOREACH(l, &lanes, entry)
		if (!l->push && strcmp(l->key, key) == 0)
			return l;
	return NULL;
}

static struct frame *
frame_new(enum fkind kind, struct row *r, const char *text, size_t len)
{
	struct frame *f = xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->row = r;
	f->text = xmalloc(len + 1);
	memcpy(f->text, text, len);
	f->text[len] = '\0';
	f->len = len;
	return f;
}

static void
frame_free(struct frame *f)
{
	free(f->text);
	free(f);
}

/* The message was stored: its bubble opens, "thinking". */
void
reply_open(const char *req_id, uint64_t came)
{
	struct frame *f;
	struct lane *l;
	struct seen *s;
	struct timespec t;

	if ((s = seen_find(req_id)) == NULL) {
		s = &seen[seen_next];
		seen_next = (seen_next + 1) % SEEN_MAX;
	}
	snprintf(s->req_id, sizeof(s->req_id), "%s", req_id);
	s->gen = link_gen();
	s->came = came;
	s->dead = 0;
	if (lane_find(req_id) != NULL || (l = lane_new(req_id, 0)) == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &t);
	/* The SDK's form: stream_<ms>_<8 hex> (A.6 #1). */
	snprintf(l->stream_id, sizeof(l->stream_id), "stream_%lld_%08x",
	    (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000,
	    wecom_random());
	/* Not inside TAILQ_INSERT_TAIL: it evaluates its element twice. */
	f = frame_new(F_STREAM, NULL, PLACEHOLDER, sizeof(PLACEHOLDER) - 1);
	TAILQ_INSERT_TAIL(&l->q, f, entry);
	lane_kick(l);
}

void
reply_welcome(const char *req_id, const char *text)
{
	struct frame *f;
	struct lane *l;

	if (lane_find(req_id) != NULL) {
		log_info("wecom %s: enter_chat %s again; one welcome",
		    wb.account, req_id);
		return;
	}
	if ((l = lane_new(req_id, 0)) == NULL) {
		wb.welcomes_dropped++;
		log_warnx("wecom %s: welcome for %s dropped: no lane free; "
		    "%llu dropped", wb.account, req_id,
		    (unsigned long long)wb.welcomes_dropped);
		return;
	}
	l->finished = 1;
	f = frame_new(F_WELCOME, NULL, text, strlen(text));
	clock_gettime(CLOCK_MONOTONIC, &f->born);
	TAILQ_INSERT_TAIL(&l->q, f, entry);
	lane_kick(l);
}

static struct seen *
seen_find(const char *req_id)
{
	size_t i;

	for (i = 0; i < SEEN_MAX; i++)
		if (seen[i].req_id[0] != '\0' &&
		    strcmp(seen[i].req_id, req_id) == 0)
			return &seen[i];
	return NULL;
}

/*
 * May req_id carry one more frame, an answer, now: a stored message's
 * callback on this connection, less than window_ms old, not refused,
 * and no lane of ours on it (its bubble finished and acked), so the
 * frame is the only one in flight on it (A.3).
 */
int
reply_may_answer(const char *req_id, uint64_t window_ms)
{
	struct seen *s;

	if (lane_find(req_id) != NULL || (s = seen_find(req_id)) == NULL)
		return 0;
	return !s->dead && s->gen == link_gen() &&
	    clock_mono_ms() - s->came < window_ms;
}

/* WeCom refused req_id (846605, 846608): it takes nothing more. */
void
reply_refused(const char *req_id)
{
	struct seen *s;

	if ((s = seen_find(req_id)) != NULL)
		s->dead = 1;
}

/* A welcome that cannot go in time: said, counted; the caller frees. */
static void
welcome_drop(const struct lane *l, const struct frame *f, const char *why)
{
	wb.welcomes_dropped++;
	log_warnx("wecom %s: welcome for %s dropped %ld ms after its "
	    "enter_chat, never sent late (WeCom takes it within 5 s): %s; "
	    "%llu dropped", wb.account, l->key, ms_since(&f->born), why,
	    (unsigned long long)wb.welcomes_dropped);
}

/* A frame of a bubble that cannot take it any more: pushed instead. */
static void
frame_push(struct frame *f)
{
	if (f->kind == F_STREAM || f->kind == F_WELCOME || f->row == NULL) {
		/* A placeholder or a welcome: nothing to deliver. */
		frame_done(f);
		return;
	}
	f->kind = F_PUSH;
	f->tries = 0;
	TAILQ_INSERT_TAIL(&push_lane->q, f, entry);
}

/* Every frame of the bubble that carries text goes as a push. */
static void
lane_to_push(struct lane *l)
{
	struct frame *f;

	l->dead = 1;
	reply_refused(l->key);
	while ((f = TAILQ_FIRST(&l->q)) != NULL) {
		TAILQ_REMOVE(&l->q, f, entry);
		if (f->kind == F_WELCOME) {
			/* Its req_id is the old connection's. */
			welcome_drop(l, f, "the connection it came on is gone");
			frame_free(f);
			continue;
		}
		frame_push(f);
	}
	lane_kick(push_lane);
}

int
reply_outbound(const struct ipc_msg *m)
{
	const struct ipc_body_outbound *o = &m->b.outbound;
	struct ipc_body_delivery_fail df;
	char req_id[WCF_ID_MAX + 1], chatid[WCF_ID_MAX + 1];
	struct frame *f;
	struct lane *l;
	struct row *r;
	size_t off, n;
	int group;

	LIST_FOREACH(r, &rows, entry)
		if (r->id == o->id)
			return 0;	/* leased again by a new hub */
	memset(&df, 0, sizeof(df));
	df.id = o->id;
	/*
	 * No context: the hub starts the conversation (wxgatectl send, a
	 * schedule), to the user or group id the operator named; a push.
	 */
	if (o->reply_ctx.len == 0 && o->peer.len <= WCF_ID_MAX &&
	    wcf_id_ok(o->peer.p, o->peer.len)) {
		req_id[0] = '\0';
		memcpy(chatid, o->peer.p, o->peer.len);
		chatid[o->peer.len] = '\0';
		group = -1;
	} else if (wcf_ctx_decode(o->reply_ctx.p, o->reply_ctx.len, req_id,
	    chatid, &group) == -1) {
		df.code = IPC_S("rejected");
		df.message = IPC_S("no WeCom reply context, and the target "
		    "is not a user or chat id");
		return worker_send(IPC_DELIVERY_FAIL, 0, &df);
	}
	if (nrows >= ROWS_MAX) {
		df.code = IPC_S("retry");
		df.message = IPC_S("too many rows in flight");
		return worker_send(IPC_DELIVERY_FAIL, 0, &df);
	}
	r = xcalloc(1, sizeof(*r));
	r->id = o->id;
	LIST_INSERT_HEAD(&rows, r, entry);
	nrows++;
	l = req_id[0] != '\0' ? lane_find(req_id) : NULL;
	if (l != NULL && (l->finished || l->dead || l->gen != link_gen()))
		l = NULL;
	for (off = 0; off < o->text.len; off += n) {
		n = wcf_utf8_cut(o->text.p + off, o->text.len - off,
		    WCF_CONTENT_MAX);
		if (n == 0)
			break;	/* not UTF-8 at a cut: the hub's text is */
		r->pending++;
		/* Every frame knows where to push, should its bubble fail. */
		f = frame_new(l != NULL ? F_FINISH : F_PUSH, r, o->text.p + off,
		    n);
		snprintf(f->chatid, sizeof(f->chatid), "%s", chatid);
		f->group = group;
		if (l != NULL) {
			/*
			 * The whole text: a refresh still waiting says less,
			 * and the placeholder goes.
			 */
			lane_drop_refresh(l);
			TAILQ_INSERT_TAIL(&l->q, f, entry);
			l->finished = 1;
			lane_kick(l);
			l = NULL;
			continue;
		}
		TAILQ_INSERT_TAIL(&push_lane->q, f, entry);
	}
	if (r->pending == 0) {
		r->pending = 1;
		row_fail(r, "rejected", 0, 0);
		return 0;
	}
	lane_kick(push_lane);
	return 0;
}

/*
 * The answer so far to one message: its bubble shows it, when the
 * lane's turn comes.  Anything odd about it is no error (the row that
 * follows is what counts): it is dropped, at debug.
 */
int
reply_progress(const struct ipc_msg *m)
{
	const struct ipc_body_progress *p = &m->b.progress;
	char req_id[WCF_ID_MAX + 1], chatid[WCF_ID_MAX + 1];
	struct lane *l;
	size_t n;
	int group;

	if (wcf_ctx_decode(p->reply_ctx.p, p->reply_ctx.len, req_id, chatid,
	    &group) == -1) {
		log_debug("wecom %s: progress without a WeCom reply context",
		    wb.account);
		return 0;
	}
	if ((l = lane_find(req_id)) == NULL || l->finished || l->dead ||
	    l->gen != link_gen()) {
		log_debug("wecom %s: progress for %s: no open bubble",
		    wb.account, req_id);
		return 0;
	}
	/* One bubble's worth; the row that finishes it says the rest. */
	n = wcf_utf8_cut(p->text.p, p->text.len, WCF_CONTENT_MAX);
	/* Not more than it shows: a bubble never takes text back. */
	if (n <= l->textlen) {
		log_debug("wecom %s: progress for %s adds nothing", wb.account,
		    req_id);
		return 0;
	}
	lane_refresh(l, p->text.p, n);
	return 0;
}

/*
 * Keep text as the lane's newest and queue one refresh with it, or
 * update the refresh already waiting: a lane never holds more than one,
 * however fast the hub sends.
 */
static void
lane_refresh(struct lane *l, const char *text, size_t len)
{
	struct frame *f;

	free(l->text);
	l->text = xmalloc(len + 1);
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	l->textlen = len;
	TAILQ_FOREACH(f, &l->q, entry)
		if (f->kind == F_STREAM && f->row == NULL)
			break;
	if (f != NULL) {
		free(f->text);
		f->text = xmalloc(len + 1);
		memcpy(f->text, text, len + 1);
		f->len = len;
	} else {
		f = frame_new(F_STREAM, NULL, text, len);
		TAILQ_INSERT_TAIL(&l->q, f, entry);
	}
	/* A keepalive's timer would only delay it. */
	if (l->tmode == T_KEEPALIVE) {
		evtimer_del(l->timer);
		l->tmode = T_NONE;
	}
	lane_kick(l);
}

/* The final text is here: refreshes still waiting would say less. */
static void
lane_drop_refresh(struct lane *l)
{
	struct frame *f, *next;

	for (f = TAILQ_FIRST(&l->q); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (f->kind == F_STREAM && f->row == NULL) {
			TAILQ_REMOVE(&l->q, f, entry);
			frame_free(f);
		}
	}
}

static char *
frame_json(struct lane *l, struct frame *f)
{
	switch (f->kind) {
	case F_STREAM:
	case F_FINISH:
		snprintf(f->req_id, sizeof(f->req_id), "%s", l->key);
		return wcf_stream(l->key, l->stream_id, f->text, f->len,
		    f->kind == F_FINISH);
	case F_WELCOME:
		snprintf(f->req_id, sizeof(f->req_id), "%s", l->key);
		return wcf_welcome(l->key, f->text);
	case F_PUSH:
		wecom_req_id("aibot_send_msg", f->req_id, sizeof(f->req_id));
		return wcf_markdown(f->req_id, f->chatid, f->group, f->text,
		    f->len);
	}
	return NULL;
}

/* Send the lane's next frame if it may go now. */
static void
lane_kick(struct lane *l)
{
	struct frame *f;
	char *json;
	long wait;

	if (l->inflight != NULL || l->tmode == T_DELAY || !link_ready())
		return;
	if (!l->push && l->gen != link_gen()) {
		lane_to_push(l);
		lane_free(l);
		return;
	}
	if ((f = TAILQ_FIRST(&l->q)) == NULL) {
		lane_idle(l);
		return;
	}
	if (f->kind == F_WELCOME && ms_since(&f->born) > WELCOME_MS) {
		TAILQ_REMOVE(&l->q, f, entry);
		welcome_drop(l, f, "it waited too long");
		frame_free(f);
		lane_kick(l);
		return;
	}
	/* Refreshes of one bubble are spaced (A.6 #3); a welcome is none. */
	if (!l->push && l->sent && f->kind != F_WELCOME &&
	    (wait = wb.stream_ms - ms_since(&l->last)) > 0) {
		lane_timer(l, T_DELAY, wait);
		return;
	}
	TAILQ_REMOVE(&l->q, f, entry);
	if ((json = frame_json(l, f)) == NULL || link_send(json) == -1) {
		free(json);
		if (json == NULL && f->row != NULL) {
			row_fail(f->row, "rejected", 0, 0);
			frame_free(f);
		} else
			TAILQ_INSERT_HEAD(&l->q, f, entry);
		return;
	}
	free(json);
	l->inflight = f;
	l->sent = 1;
	clock_gettime(CLOCK_MONOTONIC, &l->last);
	lane_timer(l, T_ACK, wb.ack_ms);
}

/* Nothing queued: a finished bubble is done; an open one kept alive. */
static void
lane_idle(struct lane *l)
{
	if (l->push)
		return;
	if (l->finished || l->dead) {
		lane_free(l);
		return;
	}
	if (l->tmode == T_NONE)
		lane_timer(l, T_KEEPALIVE, LANE_KEEPALIVE_MS);
}

static void
lane_timer(struct lane *l, enum tmode mode, long ms)
{
	struct timeval tv = clock_tv(ms);

	l->tmode = mode;
	evtimer_add(l->timer, &tv);
}

static void
lane_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lane *l = arg;
	struct frame *f;
	enum tmode mode = l->tmode;

	(void)fd;
	(void)ev;
	l->tmode = T_NONE;
	switch (mode) {
	case T_ACK:
		/*
		 * No ack is no proof it was not shown (A.11): counted as
		 * delivered, and the lane moves on, as the SDK does.
		 */
		f = l->inflight;
		l->inflight = NULL;
		log_warnx("wecom %s: no ack for %s within %ld ms; taken as "
		    "delivered", wb.account, f->req_id, wb.ack_ms);
		frame_done(f);
		break;
	case T_KEEPALIVE:
		/* What the bubble shows already, so it stays. */
		if (!l->finished && !l->dead && TAILQ_EMPTY(&l->q)) {
			if (l->text != NULL)
				f = frame_new(F_STREAM, NULL, l->text,
				    l->textlen);
			else
				f = frame_new(F_STREAM, NULL, PLACEHOLDER,
				    sizeof(PLACEHOLDER) - 1);
			TAILQ_INSERT_TAIL(&l->q, f, entry);
		}
		break;
	case T_DELAY:
	case T_NONE:
		break;
	}
	lane_kick(l);
}

/* An ack of one of our reply frames; 0 if none waits for it. */
int
reply_ack(const char *req_id, long long err)
{
	struct lane *l;
	struct frame *f;

	TAILQ_FOREACH(l, &lanes, entry)
		if (l->inflight != NULL && strcmp(l->inflight->req_id,
		    req_id) == 0)
			break;
	if (l == NULL)
		return 0;
	f = l->inflight;
	l->inflight = NULL;
	evtimer_del(l->timer);
	l->tmode = T_NONE;
	if (err == 0)
		frame_done(f);
	else
		frame_error(l, f, err);
	lane_kick(l);
	lane_kick(push_lane);
	return 1;
}

static void
frame_done(struct frame *f)
{
	struct ipc_body_delivery d;
	struct row *r = f->row;

	frame_free(f);
	if (r == NULL || --r->pending > 0)
		return;
	d.id = r->id;
	if (worker_send(IPC_DELIVERY_ACK, 0, &d) == -1)
		fatalx("%s: supervisor queue full", __func__);
	LIST_REMOVE(r, entry);
	nrows--;
	free(r);
}

/* What A.8 says to do with each error on a frame of ours. */
static void
frame_error(struct lane *l, struct frame *f, long long err)
{
	long delay = -1;

	log_warnx("wecom %s: frame %s refused with %lld", wb.account,
	    f->req_id, err);
	switch (err) {
	case WCF_ERR_REQ_ID:
	case WCF_ERR_EXPIRED:
		if (!l->push) {
			/* This req_id takes no more: the rest is pushed. */
			frame_push(f);
			lane_to_push(l);
			return;
		}
		break;
	case WCF_ERR_CONFLICT:
		if (f->tries < 3)
			delay = 150L << f->tries;
		break;
	case WCF_ERR_FREQ:
	case WCF_ERR_CONCURRENCY:
		if (f->tries < 1)
			delay = 2000;
		break;
	case WCF_ERR_BUSY:
		if (f->tries < 3)
			delay = 1000L << f->tries;
		break;
	default:
		break;
	}
	if (delay > 0 && f->kind == F_WELCOME &&
	    ms_since(&f->born) + delay > WELCOME_MS) {
		welcome_drop(l, f, "its retry would be late");
		frame_free(f);
		return;
	}
	if (delay > 0) {
		f->tries++;
		TAILQ_INSERT_HEAD(&l->q, f, entry);
		lane_timer(l, T_DELAY, delay);
		return;
	}
	if (!l->push && f->row != NULL) {
		/* The bubble refused it for good: a push may still go. */
		frame_push(f);
		lane_to_push(l);
		return;
	}
	if (f->row != NULL) {
		if (err == WCF_ERR_FREQ || err == WCF_ERR_CONCURRENCY ||
		    err == WCF_ERR_BUSY || err == WCF_ERR_CONFLICT)
			row_fail(f->row, "retry", 60000, err);
		else
			row_fail(f->row, "rejected", 0, err);
	}
	frame_free(f);
}

/* The row goes back to the hub; its other frames are not sent. */
static void
row_fail(struct row *r, const char *code, uint64_t retry_after_ms,
    long long err)
{
	struct ipc_body_delivery_fail df;
	struct frame *f, *next;
	struct lane *l;
	char msg[64];

	TAILQ_FOREACH(l, &lanes, entry)
		for (f = TAILQ_FIRST(&l->q); f != NULL; f = next) {
			next = TAILQ_NEXT(f, entry);
			if (f->row != r)
				continue;
			TAILQ_REMOVE(&l->q, f, entry);
			frame_free(f);
		}
	/* A frame still in flight finds no row when its ack comes. */
	TAILQ_FOREACH(l, &lanes, entry)
		if (l->inflight != NULL && l->inflight->row == r)
			l->inflight->row = NULL;
	snprintf(msg, sizeof(msg), "WeCom errcode %lld", err);
	memset(&df, 0, sizeof(df));
	df.id = r->id;
	df.code = ipc_s(code);
	df.message = ipc_s(msg);
	df.retry_after_ms = retry_after_ms;
	if (worker_send(IPC_DELIVERY_FAIL, 0, &df) == -1)
		fatalx("%s: supervisor queue full", __func__);
	LIST_REMOVE(r, entry);
	nrows--;
	free(r);
}

/*
 * The connection is gone: every bubble's req_id with it.  What they
 * still had to say, and a frame in flight whose fate is unknown, is
 * pushed once a new connection is up.
 */
void
reply_link_down(void)
{
	struct lane *l, *next;
	struct frame *f;

	for (l = TAILQ_FIRST(&lanes); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		evtimer_del(l->timer);
		l->tmode = T_NONE;
		f = l->inflight;
		l->inflight = NULL;
		if (l->push) {
			if (f != NULL)
				TAILQ_INSERT_HEAD(&l->q, f, entry);
			continue;
		}
		if (f != NULL)
			frame_push(f);
		lane_to_push(l);
		lane_free(l);
	}
}

void
reply_link_up(void)
{
	lane_kick(push_lane);
}
