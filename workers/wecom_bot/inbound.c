/*
 * What WeCom users say to the bot, on its way to the hub (protocols/
 * wecom.md A.5.3, A.5.4): each aibot_msg_callback becomes one
 * inbound.message, or inbound.media when attachments came with it;
 * enter_chat is answered here with the configured welcome, since it
 * must go within 5 s (A.11) and needs no agent.
 *
 * Conversations are keyed by account, chat and user: a group message
 * goes up with its chat as the group and its user as the peer, and
 * says whether it names the bot ("@bot_name", cut from the text); the
 * hub's group_policy and require_mention decide, as for every kind.
 *
 * Messages go up in the order they came.  One with attachments waits
 * for them (attach.c: fetched, failed or past their deadline) and the
 * ones behind it wait too; IN_FETCH_MAX fetch at once, IN_PEND_MAX
 * wait in all.  WeCom may deliver a callback twice: msgids seen lately
 * are dropped (the hub dedupes too, on the same id).  A message sent
 * up waits here, its attachments' memfd with it, until its
 * inbound.ack; sup.resync sends those again under the same req_id.
 * "retry" (the store failed) and "busy" (its backlog is full) mean the
 * hub did not take it, and WeCom will not send it again: it goes again
 * from here, later and later, IN_RETRY_MAX times at most.
 */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "../media.h"	/* workers/media.h: the wk_media */
#include "wecom.h"
#include "worker.h"
#include "xmalloc.h"

/* msgids remembered for the dedupe: far more than 10 min of chat. */
#define IN_SEEN_MAX	1024
/* Messages sent up but not acked; past this they are not kept. */
#define IN_WAIT_MAX	64
/*
 * Messages not sent up yet, behind one whose attachments are coming
 * (at most attach.c's AT_MSG_MS after each came, so a stalled media
 * host holds them about that long); past it a new message is
 * dropped, counted.
 */
#define IN_PEND_MAX	32
/* Messages fetching at once: each may hold its cap twice meanwhile. */
#define IN_FETCH_MAX	4
/*
 * A message the hub could not take goes again after 1, 2, 4 ... s, at
 * most IN_RETRY_CAP_S apart: about five minutes in all, the time a
 * full backlog is given to drain, then it is dropped, logged.
 */
#define IN_RETRY_MAX	10
#define IN_RETRY_CAP_S	60

enum in_state {
	IN_NEW,		/* attachments not asked for yet */
	IN_FETCHING,
	IN_READY	/* may go when the ones before it went */
};

struct in_msg {
	uint64_t	 req;
	uint64_t	 gen;			/* link_gen() it came in */
	uint64_t	 came;			/* clock_mono_ms() */
	char		 cb_req[WCF_ID_MAX + 1];	/* the callback's */
	char		*peer;
	char		*group;			/* "" in a single chat */
	int		 mentioned;
	char		*msgid;
	char		*text;
	size_t		 textlen;
	char		*ctx;
	enum in_state	 state;
	unsigned int	 tries;		/* sent again after retry or busy */
	struct event	*again;
	struct wcf_att	 att[WCF_ATT_MAX];
	size_t		 natt;
	struct wk_media	 media;
};

static char		 in_seen[IN_SEEN_MAX][WCF_ID_MAX + 1];
static size_t		 in_nseen;
static struct in_msg	*in_pend[IN_PEND_MAX];
static size_t		 in_npend;
static struct in_msg	*in_wait[IN_WAIT_MAX];
static size_t		 in_nwait;
static uint64_t		 in_next = 1;

static int	in_seen_before(const char *);
static void	in_mark_seen(const char *);
static struct in_msg *in_msg_new(struct wcf_in *, const char *);
static void	in_msg_free(struct in_msg *);
static void	in_pump(void);
static void	in_fetched(void *);
static void	in_go(struct in_msg *);
static int	in_send(struct in_msg *);
static int	in_refused(struct in_msg *, struct ipc_str);
static void	in_again(evutil_socket_t, short, void *);

static int
in_seen_before(const char *msgid)
{
	size_t i, n = in_nseen < IN_SEEN_MAX ? in_nseen : IN_SEEN_MAX;

	for (i = 0; i < n; i++)
		if (strcmp(in_seen[i], msgid) == 0)
			return 1;
	return 0;
}

/*
 * Only a message taken is seen: one dropped for want of room may come
 * again (WeCom delivers a callback again) and is then taken.
 */
static void
in_mark_seen(const char *msgid)
{
	snprintf(in_seen[in_nseen++ % IN_SEEN_MAX], WCF_ID_MAX + 1, "%s",
	    msgid);
}

static int
in_send(struct in_msg *m)
{
	struct ipc_body_inbound b;

	memset(&b, 0, sizeof(b));
	b.peer = ipc_s(m->peer);
	b.msg_id = ipc_s(m->msgid);
	b.text.p = m->text;
	b.text.len = m->textlen;
	b.group = ipc_s(m->group);
	b.mentioned = m->mentioned;
	b.reply_ctx = ipc_s(m->ctx);
	return wk_media_send(&m->media, m->req, &b);
}

void
inbound_msg(struct wcf_in *in)
{
	char ctx[WCF_CTX_MAX];
	struct in_msg *m;

	if (in_seen_before(in->msgid)) {
		log_info("wecom %s: callback %s again; dropped", wb.account,
		    in->msgid);
		return;
	}
	if (strlen(in->userid) > IPC_PEER_MAX ||
	    (in->group && strlen(in->chatid) > IPC_PEER_MAX) ||
	    wcf_ctx_encode(ctx, sizeof(ctx), in->req_id, in->group ?
	    in->chatid : in->userid, in->group) == -1 ||
	    in->textlen > IPC_TEXT_MAX) {
		wb.bad_frames++;
		log_warnx("wecom %s: callback %s does not fit a message; "
		    "dropped", wb.account, in->msgid);
		return;
	}
	if (in_npend == IN_PEND_MAX) {
		wb.inbound_dropped++;
		log_warnx("wecom %s: callback %s dropped: %d messages wait "
		    "for attachments; %llu dropped", wb.account, in->msgid,
		    IN_PEND_MAX, (unsigned long long)wb.inbound_dropped);
		return;
	}
	if (in->att_over > 0) {
		wb.media_failed += in->att_over;
		log_warnx("wecom %s: message %s: %zu attachments past the "
		    "%d a message carries not fetched; %llu attachments "
		    "failed", wb.account, in->msgid, in->att_over,
		    WCF_ATT_MAX, (unsigned long long)wb.media_failed);
	}
	in_mark_seen(in->msgid);
	m = in_msg_new(in, ctx);
	in_pend[in_npend++] = m;
	in_pump();
}

/* The message, its text and attachments taken from in. */
static struct in_msg *
in_msg_new(struct wcf_in *in, const char *ctx)
{
	struct in_msg *m;

	m = xcalloc(1, sizeof(*m));
	m->req = in_next++;
	m->gen = link_gen();
	m->came = clock_mono_ms();
	snprintf(m->cb_req, sizeof(m->cb_req), "%s", in->req_id);
	m->peer = xstrdup(in->userid);
	m->group = xstrdup(in->group ? in->chatid : "");
	/* A group message says whether it names the bot when it goes. */
	m->mentioned = !in->group;
	m->msgid = xstrdup(in->msgid);
	m->text = in->text;
	m->textlen = in->textlen;
	in->text = NULL;
	in->textlen = 0;
	m->ctx = xstrdup(ctx);
	memcpy(m->att, in->att, in->natt * sizeof(in->att[0]));
	m->natt = in->natt;
	memset(in->att, 0, sizeof(in->att));
	in->natt = 0;
	wk_media_init(&m->media, wb.media_max);
	m->state = m->natt > 0 ? IN_NEW : IN_READY;
	return m;
}

static void
in_msg_free(struct in_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->natt; i++)
		wcf_att_free(&m->att[i]);
	wk_media_clear(&m->media);
	if (m->again != NULL)
		event_free(m->again);
	free(m->peer);
	free(m->group);
	free(m->msgid);
	free(m->text);
	free(m->ctx);
	free(m);
}

/*
 * Fetches started for the first IN_FETCH_MAX messages that need them,
 * then every ready message at the head sent up.
 */
static void
in_pump(void)
{
	struct in_msg *m;
	size_t i, busy = 0;

	for (i = 0; i < in_npend; i++)
		if (in_pend[i]->state == IN_FETCHING)
			busy++;
	for (i = 0; i < in_npend && busy < IN_FETCH_MAX; i++) {
		m = in_pend[i];
		if (m->state != IN_NEW)
			continue;
		m->state = IN_FETCHING;
		if (attach_start(m->att, m->natt, &m->media, m->msgid,
		    m->came, in_fetched, m) == NULL)
			m->state = IN_READY;
		else
			busy++;
	}
	while (in_npend > 0 && in_pend[0]->state == IN_READY) {
		m = in_pend[0];
		memmove(&in_pend[0], &in_pend[1],
		    (in_npend - 1) * sizeof(in_pend[0]));
		in_npend--;
		in_go(m);
	}
}

static void
in_fetched(void *arg)
{
	struct in_msg *m = arg;

	m->state = IN_READY;
	in_pump();
}

/*
 * Up it goes, the notes of the parts that came cut from its text, and
 * it waits for its inbound.ack.
 */
static void
in_go(struct in_msg *m)
{
	size_t i;

	wcf_notes_drop(m->text, &m->textlen, m->att, m->natt);
	/* URLs and keys are of no use once fetched. */
	for (i = 0; i < m->natt; i++)
		wcf_att_free(&m->att[i]);
	m->natt = 0;
	if (m->group[0] != '\0')
		m->mentioned = wcf_mention(m->text, &m->textlen, wb.bot_name);
	if (in_send(m) == -1)
		fatalx("%s: supervisor queue full", __func__);
	if (in_nwait == IN_WAIT_MAX) {
		log_warnx("wecom %s: inbound %llu not kept for a resync",
		    wb.account, (unsigned long long)m->req);
		in_msg_free(m);
		return;
	}
	in_wait[in_nwait++] = m;
}

/*
 * Stored: the bubble opens now, a "thinking" frame while the agent
 * works.  Refused (denied, ignored, duplicate) no answer comes, and no
 * bubble may spin forever; a notice (pairing, limited) is pushed.
 */
int
inbound_ack(const struct ipc_msg *m)
{
	const struct ipc_str st = m->b.inbound_ack.status;
	struct in_msg *w;
	size_t i;

	for (i = 0; i < in_nwait; i++)
		if (in_wait[i]->req == m->req_id)
			break;
	if (i == in_nwait)
		return 0;	/* a second answer after a resync */
	w = in_wait[i];
	if (in_refused(w, st))
		return 0;
	if (ipc_streq(st, "accepted") && w->gen == link_gen() &&
	    link_ready())
		reply_open(w->cb_req, w->came);
	else if (!ipc_streq(st, "accepted"))
		log_info("wecom %s: message %s: %.*s", wb.account, w->msgid,
		    (int)st.len, st.p);
	/* Stored or refused: its memfd is the hub's copy's, or no one's. */
	in_msg_free(w);
	memmove(&in_wait[i], &in_wait[i + 1],
	    (in_nwait - i - 1) * sizeof(in_wait[0]));
	in_nwait--;
	return 0;
}

/*
 * Not taken: kept, its memfd too, to go again in a while (1).  Past
 * IN_RETRY_MAX it is dropped like any refused message (0).
 */
static int
in_refused(struct in_msg *w, struct ipc_str st)
{
	struct timeval tv;

	if (!ipc_streq(st, "retry") && !ipc_streq(st, "busy"))
		return 0;
	if (w->tries == IN_RETRY_MAX) {
		log_warnx("wecom %s: message %s: the hub said %.*s %u times; "
		    "dropped", wb.account, w->msgid, (int)st.len, st.p,
		    w->tries + 1);
		return 0;
	}
	if (w->again == NULL &&
	    (w->again = evtimer_new(worker_base(), in_again, w)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	memset(&tv, 0, sizeof(tv));
	tv.tv_sec = w->tries < 6 ? 1 << w->tries : IN_RETRY_CAP_S;
	if (tv.tv_sec > IN_RETRY_CAP_S)
		tv.tv_sec = IN_RETRY_CAP_S;
	w->tries++;
	log_info("wecom %s: message %s: the hub said %.*s; again in %lld s",
	    wb.account, w->msgid, (int)st.len, st.p, (long long)tv.tv_sec);
	evtimer_add(w->again, &tv);
	return 1;
}

static void
in_again(evutil_socket_t fd, short ev, void *arg)
{
	struct in_msg *w = arg;

	(void)fd;
	(void)ev;
	if (in_send(w) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

/*
 * A new hub: every message not yet acked, again, in order, the parts
 * from the same sealed memfd.  Those not sent up yet go when ready.
 */
void
inbound_resync(void)
{
	size_t i;

	for (i = 0; i < in_nwait; i++) {
		/* A retry due later goes now, once. */
		if (in_wait[i]->again != NULL)
			evtimer_del(in_wait[i]->again);
		if (in_send(in_wait[i]) == -1)
			fatalx("%s: supervisor queue full", __func__);
	}
}

void
inbound_event(const struct wcf_in *in)
{
	if (strcmp(in->eventtype, "enter_chat") == 0) {
		if (wb.welcome[0] != '\0')
			reply_welcome(in->req_id, wb.welcome);
		return;
	}
	/* Card clicks and feedback: nothing this worker sends asks. */
	log_debug("wecom %s: event %s ignored", wb.account, in->eventtype);
}
