/*
 * stream_mode block (a wechat account, wxgate.yaml(5)): while the agent
 * streams, each run of finished paragraphs past block_min_chars
 * (block.c finds the cut) is queued at once as the next outbox rows of
 * the message, and the rest of the answer at agent.done.  The outbox
 * sends one part of a message at a time, in queue order, the next only
 * after the one before ended (store_channel.c OUTBOX_DUE_ROWS), so the
 * parts arrive in order across retries and worker restarts.  A block
 * joins the loop turn's transaction like any row; a turn whose commit
 * fails takes its blocks back, and what they held goes with the next.
 *
 * iLink takes about 10 bot messages per user message (one context
 * token, wechat-ilink.md 7.2, ret=-2).  Before a block the rows that
 * spend the peer's newest token are counted (store_outbox_turn); with
 * BLOCK_RESERVE or fewer left, no more blocks: the rest is merged into
 * the final part.  Each delta is read once as it comes (block_scan),
 * and compared once with what an earlier try queued; the reply is
 * copied out only where a block is cut.
 *
 * When the same message is asked again (its agent restarted, or the
 * hub did and put it back in the backlog), what an earlier try queued
 * stays queued or sent: it is kept (blk_prev, from the store after a
 * hub restart) and not sent twice.  If the new answer starts with it,
 * blocks go on from there and the end sends only the rest; if it does
 * not, no more blocks go and the end sends the new answer whole (the
 * person has read the start of the earlier one: they get a complete
 * answer, not a mixture of two).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "areq.h"
#include "block.h"
#include "config.h"
#include "hub.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "log.h"
#include "router_int.h"
#include "store.h"
#include "xmalloc.h"

/* Messages of a context token kept for the final part(s). */
#define BLOCK_RESERVE	2

static char	*block_copy(struct areq *, size_t, size_t);
static void	 block_rescan(struct areq *, size_t);

static const struct cfg_channel *
block_channel(const struct areq *r)
{
	const struct cfg_channel *cc;

	if (r->origin != AREQ_CHANNEL ||
	    (cc = config_channel(sup->conf, r->account)) == NULL ||
	    !cc->stream_block)
		return NULL;
	return cc;
}

/* A turn's blocks are queued once it commits, or given back. */
static void
block_commit_cb(struct durable *d, int ok)
{
	const struct cfg_channel *cc;
	struct areq *r = areq_find((uint64_t)d->id);

	if (r == NULL)
		return;
	if (ok) {
		if ((size_t)d->session > r->blk_ok) {
			r->blk_ok = (size_t)d->session;
			r->blk_ok_rows = (int)d->req_id;
		}
		return;
	}
	log_info("channel %s: blocks of message %lld lost with a failed "
	    "commit go with the next", r->account, (long long)r->msg_id);
	r->blk_off = r->blk_ok;
	r->blk_rows = r->blk_ok_rows;
	if ((cc = block_channel(r)) != NULL)
		block_rescan(r, cc->block_min_chars);
}

/*
 * Room on the peer's context token for one more block, the final
 * part's kept aside?
 */
static int
block_room(const struct cfg_channel *cc, const struct areq *r)
{
	const struct kind_caps *caps = kinds_caps(cc->type);
	int used;

	if (caps == NULL || caps->turn_max == 0)
		return 1;
	if ((used = store_outbox_turn(sup->store, r->account, r->peer)) == -1)
		return 0;
	return used + BLOCK_RESERVE < (int)caps->turn_max;
}

/* reply[off..off+len), copied out: NUL-terminated, for the caller. */
static char *
block_copy(struct areq *r, size_t off, size_t len)
{
	struct evbuffer_ptr ptr;
	char *t = xmalloc(len + 1);

	if (evbuffer_ptr_set(r->reply, &ptr, off, EVBUFFER_PTR_SET) == -1 ||
	    evbuffer_copyout_from(r->reply, &ptr, t, len) != (ssize_t)len)
		fatalx("%s: evbuffer_copyout_from", __func__);
	t[len] = '\0';
	return t;
}

/* The scan starts again at blk_off and reads what is there. */
static void
block_rescan(struct areq *r, size_t min)
{
	size_t len = evbuffer_get_length(r->reply) - r->blk_off;
	char *t = block_copy(r, r->blk_off, len);

	block_scan_init(&r->blk_scan);
	block_scan(&r->blk_scan, t, len, min);
	free(t);
}

/*
 * The delta p[0..n) was added to the reply: queue the paragraphs it
 * finished, if enough.
 */
void
block_note(struct areq *r, const char *p, size_t n)
{
	const struct cfg_channel *cc;
	struct durable *d;
	size_t len, at, plen, k, cut;
	char *text;
	int q;

	if (r->blk_held || (cc = block_channel(r)) == NULL)
		return;
	len = evbuffer_get_length(r->reply);
	at = len - n;		/* where the delta begins */
	if (r->blk_prev != NULL) {
		/* Asked again: on only once it has said the same. */
		plen = strlen(r->blk_prev);
		k = (len < plen ? len : plen) - at;
		if (memcmp(p, r->blk_prev + at, k) != 0) {
			log_info("channel %s: message %lld asked again answers "
			    "otherwise; the answer goes whole at the end",
			    r->account, (long long)r->msg_id);
			r->blk_held = 1;
			return;
		}
		if (len < plen)
			return;
		r->blk_off = r->blk_ok = plen;
		free(r->blk_prev);
		r->blk_prev = NULL;
		block_scan_init(&r->blk_scan);
		p += k;
		n -= k;
	}
	if ((cut = block_scan(&r->blk_scan, p, n, cc->block_min_chars)) == 0)
		return;
	if (!block_room(cc, r)) {
		log_info("channel %s: message %lld: the context's message "
		    "budget runs low; the rest of the answer goes as one",
		    r->account, (long long)r->msg_id);
		r->blk_held = 1;
		return;
	}
	text = block_copy(r, r->blk_off, cut);
	q = channel_reply_part(r->account, r->peer, r->ctx, r->msg_id, text,
	    r->blk_rows);
	free(text);
	if (q == -1) {
		/* Some rows may be in: the end sends from here, held. */
		r->blk_held = 1;
		return;
	}
	r->blk_off += cut;
	r->blk_rows += q;
	block_rescan(r, cc->block_min_chars);
	d = durable_after(block_commit_cb);
	d->id = (int64_t)r->id;
	d->session = (int64_t)r->blk_off;
	d->req_id = (uint64_t)r->blk_rows;
}

/* The whole answer: where in it the final part(s) begin. */
size_t
block_end(struct areq *r, const char *answer)
{
	size_t plen;

	if (r->blk_prev == NULL)
		return r->blk_off <= strlen(answer) ? r->blk_off : 0;
	plen = strlen(r->blk_prev);
	if (strncmp(answer, r->blk_prev, plen) == 0)
		return plen;
	if (!r->blk_held)
		log_info("channel %s: message %lld asked again answers "
		    "otherwise; its answer goes whole", r->account,
		    (long long)r->msg_id);
	return 0;
}

/* The agent starts over: what went stays, kept to compare. */
void
block_restart(struct areq *r)
{
	if (r->blk_prev == NULL && r->blk_off > 0)
		r->blk_prev = block_copy(r, 0, r->blk_off);
	r->blk_off = r->blk_ok = 0;
	r->blk_held = 0;
	block_scan_init(&r->blk_scan);
}

/* Asked again after a hub restart: what the store says went before. */
void
block_resume(struct areq *r)
{
	char *text;
	int rows;

	if (block_channel(r) == NULL)
		return;
	if (store_outbox_parts(sup->store, r->account, r->msg_id, &text,
	    &rows) == -1) {
		/* Unknown: no blocks; the end may repeat what went. */
		r->blk_held = 1;
		return;
	}
	if (rows == 0 || text[0] == '\0') {
		free(text);
		return;
	}
	log_info("channel %s: message %lld asked again; %d part(s) of an "
	    "earlier answer went already", r->account, (long long)r->msg_id,
	    rows);
	r->blk_prev = text;
	r->blk_rows = r->blk_ok_rows = rows;
}

/* A notice replaces the answer: it goes whole, whatever went. */
void
block_drop(struct areq *r)
{
	block_forget(r);
	r->blk_off = r->blk_ok = 0;
	r->blk_held = 1;
}

void
block_forget(struct areq *r)
{
	free(r->blk_prev);
	r->blk_prev = NULL;
}
