/*
 * Progress of channel answers, for kinds that stream (KC_STREAM, a
 * WeCom AI bot's bubble): while an agent answers a platform message,
 * the account's worker gets outbound.progress frames with the whole
 * answer so far, and refreshes the message's open bubble with them.
 * router_agent.c calls progress_note() on each agent.delta and
 * progress_forget() when the request ends.
 *
 * This is best effort on top of the outbox, never instead of it: the
 * final text still goes through channel_reply() and the durable
 * outbox, exactly once, through restarts.  A progress frame is not
 * stored, acked or resent; one lost with a worker or a hub leaves a
 * bubble behind for a while, and the outbox row still finishes it.
 * So nothing here may hold up or fail a request: no worker, no room
 * in its queue, or no reply context, and the frame is simply skipped.
 *
 * Pacing (pace.c): one frame per PROGRESS_MS per request at most,
 * always the newest text, one timer and never more than one frame
 * waiting, so a fast agent cannot flood the worker's queue.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "areq.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "log.h"
#include "pace.h"
#include "wire.h"

/*
 * WeCom acks a refresh in 0.24-0.46 s (protocols/wecom.md A.6 #3) and
 * the worker spaces a bubble's frames by stream_interval_ms (500 by
 * default); half that here keeps the worker fed with fresh text
 * without giving it more frames than it can use.
 */
#define PROGRESS_MS	250

static void	progress_cb(evutil_socket_t, short, void *);
static const struct cfg_channel *progress_channel(const struct areq *);
static struct worker *progress_worker(const struct cfg_channel *,
		    const struct areq *);
static size_t	progress_cap(const struct cfg_channel *, const char *,
		    size_t);

/* The request's channel, if its kind streams; else NULL. */
static const struct cfg_channel *
progress_channel(const struct areq *r)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;

	if (r->origin != AREQ_CHANNEL || r->ctx == NULL ||
	    (cc = config_channel(sup->conf, r->account)) == NULL ||
	    (caps = kinds_caps(cc->type)) == NULL ||
	    !(caps->flags & KC_STREAM))
		return NULL;
	return cc;
}

/*
 * The account's worker, when it can take a frame that nobody needs:
 * running, and its queue under half full, so replies and acks always
 * find room before progress does.
 */
static struct worker *
progress_worker(const struct cfg_channel *cc, const struct areq *r)
{
	/* Too long for a worker's name: then no worker is found. */
	char name[2 * IPC_NAME_MAX + 2];
	struct worker *w;

	snprintf(name, sizeof(name), "%s.%s", cc->type, r->account);
	if ((w = spawn_find(name)) == NULL || w->state != W_RUNNING ||
	    w->wire == NULL ||
	    wire_queued(w->wire) >= sup->conf->supervisor.queue_max / 2)
		return NULL;
	return w;
}

/*
 * How much of the answer a refresh may show: the frame's limit, and
 * half of the account's first chunk.  channel.c cuts the final answer
 * into rows of text_chunk_limit code points (bytes_max bytes), never
 * shorter than half of that window; the first row finishes the bubble.
 * Showing no more than half keeps every refresh a prefix of that last
 * frame: the bubble only grows, as WeCom readers expect (A.6 #2).
 */
static size_t
progress_cap(const struct cfg_channel *cc, const char *text, size_t len)
{
	const struct kind_caps *caps = kinds_caps(cc->type);
	size_t bytes = IPC_TEXT_MAX;

	if (caps != NULL && caps->bytes_max > 0 && caps->bytes_max / 2 < bytes)
		bytes = caps->bytes_max / 2;
	return pace_cut(text, len, cc->text_chunk_limit / 2, bytes);
}

/* An agent.delta added to r's answer: a refresh, when its turn comes. */
void
progress_note(struct areq *r)
{
	struct timeval tv;
	uint64_t wait;

	if (r->done || progress_channel(r) == NULL)
		return;
	if (r->pace_ev == NULL &&
	    (r->pace_ev = evtimer_new(sup->base, progress_cb, r)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	wait = pace_note(&r->pace, clock_mono_ms(), PROGRESS_MS);
	/* Armed already: it sends the newest text when it fires. */
	if (evtimer_pending(r->pace_ev, NULL))
		return;
	/*
	 * Even "now" waits for the timer: the deltas read in this loop
	 * turn go out together.
	 */
	tv = clock_tv(wait);
	evtimer_add(r->pace_ev, &tv);
}

static void
progress_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 0, PROGRESS_MS * 1000 };
	struct ipc_body_progress b;
	const struct cfg_channel *cc;
	struct areq *r = arg;
	struct worker *w;
	size_t len;

	(void)fd;
	(void)ev;
	/* Answered: the outbox row finishes the bubble. */
	if (r->done || (cc = progress_channel(r)) == NULL) {
		r->pace.pending = 0;
		return;
	}
	len = evbuffer_get_length(r->reply);
	b.text.p = (const char *)evbuffer_pullup(r->reply, -1);
	b.text.len = progress_cap(cc, b.text.p, len);
	if (!pace_take(&r->pace, b.text.len))
		return;
	if ((w = progress_worker(cc, r)) == NULL) {
		/* Busy or away: the newest text again, later. */
		evtimer_add(r->pace_ev, &tv);
		return;
	}
	b.peer = ipc_s(r->peer);
	b.reply_ctx = ipc_s(r->ctx);
	if (b.peer.len == 0 || b.peer.len > IPC_PEER_MAX ||
	    b.reply_ctx.len > IPC_CTX_MAX) {
		r->pace.pending = 0;
		return;
	}
	if (router_send(w, IPC_OUTBOUND_PROGRESS, 0, &b) == 0)
		pace_sent(&r->pace, clock_mono_ms(), b.text.len);
	else
		r->pace.pending = 0;
}

/* r is about to be freed. */
void
progress_forget(struct areq *r)
{
	if (r->pace_ev != NULL)
		event_free(r->pace_ev);
	r->pace_ev = NULL;
}
