/*
 * The messages in flight and their passive replies (shared/protocols/
 * wecom.md C.9, D.2, D.3).  A verified message becomes a turn, keyed
 * by FromUserName and MsgId (events: FromUserName, CreateTime, Event
 * and EventKey), and goes to the hub once as inbound.message with a
 * hash of that key as msg_id and reply_ctx (TURN_ID_LEN).  Its request is held up to reply_budget_ms: an
 * outbound.message for that peer and reply_ctx arriving meanwhile is
 * the passive reply, written on every request of the turn still open
 * and acknowledged as sent.  At the budget the held requests get the
 * empty answer (OA "success", WeCom an empty 200) and later rows go by
 * the API (push.c).
 *
 * A POST of a known key is the platform retrying, never a new turn: it
 * joins a held turn, gets the passive reply again if one was written,
 * else the empty answer.  So one message is one agent run and no two
 * requests of it get two different answers.  A restarted worker knows
 * no turn: the retry is sent to the hub again with the same msg_id,
 * the hub answers "duplicate", and the reply comes from its outbox.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "callback.h"
#include "clock.h"
#include "codec.h"
#include "log.h"
#include "outq.h"
#include "../media.h"	/* workers/media.h: the wk_media */
#include "worker.h"
#include "xmalloc.h"

/*
 * Retries end about 15 s after the first POST (D.3); a turn is kept
 * twice that past its answer, and at most TURN_MAX at once: past that a
 * new message gets 503 and comes again.
 */
#define TURN_TTL_S	120
#define TURN_MAX	512
/*
 * What the agent reads of a message whose content is not passed on (an
 * image, a voice message or a video that could not be fetched: a
 * video's bytes come from media/get for a WeCom app and from the
 * video_url it answers for an Official Account, download.c), as
 * workers/wecom_bot/ notes them: the agent can at least say it cannot
 * see it.
 */
#define NOTE_IMAGE	"[image]"
#define NOTE_VOICE	"[voice]"
#define NOTE_VIDEO	"[video]"
#define NOTE_LOCATION	"[location]"
#define NOTE_LINK	"[link]"
/* The first POST and three retries (D.7: tolerate four). */
#define TURN_WAITERS	4
#define TURN_NONCE_LEN	16
/*
 * The msg_id and reply_ctx the hub sees: "cb" and 40 hex digits of the
 * key's SHA-256.  The hub dedups on (account, msg_id), and MsgIds of
 * different users have collided (D.2), events have none: the key holds
 * the sender.  The same message gives the same id after our restart.
 */
#define TURN_ID_LEN	42

enum turn_state {
	T_HOLD,		/* waiting for the reply, within the budget */
	T_EMPTY,	/* answered empty; a reply goes by the API */
	T_REPLIED	/* answered with reply */
};

struct turn {
	TAILQ_ENTRY(turn)	 entry;
	uint64_t		 req;		/* inbound.message's req_id */
	char			*key;
	char			*peer;		/* FromUserName */
	char			*us;		/* ToUserName: our id */
	char			 shown[IPC_MSGID_MAX + 1];	/* MsgId, logs */
	char			 id[TURN_ID_LEN + 1];	/* msg_id, reply_ctx */
	char			*text;		/* until inbound.ack */
	struct wk_media		*media;		/* a part, until inbound.ack */
	struct download		*dl;		/* the media on its way */
	const char		*note;		/* the text if it never comes */
	int			 unacked;	/* sent, no inbound.ack yet */
	enum turn_state		 state;
	char			*reply;		/* T_REPLIED: its content */
	struct conn		*wait[TURN_WAITERS];
	size_t			 nwait;
	struct event		*timer;
	time_t			 done;		/* answered at */
};

static TAILQ_HEAD(, turn)	 turns = TAILQ_HEAD_INITIALIZER(turns);
static size_t			 nturns;
static uint64_t			 next_req = 1;
/* Media that could not be had, each logged; the message went on. */
static uint64_t			 media_failed;

static const char *turn_media_kind(const struct xmlmsg *, const char *);
static void	turn_budget(evutil_socket_t, short, void *);
static void	turn_downloaded(const char *, void *);
static void	turn_answer(struct turn *, struct conn *);
static void	turn_empty_all(struct turn *);
static int	turn_send(struct turn *);
static void	turn_free(struct turn *);
static void	turn_arm(struct turn *);
static void	turn_fail_all(struct turn *);

void
turn_init(void)
{
}

static struct turn *
turn_find(const char *key)
{
	struct turn *t;

	TAILQ_FOREACH(t, &turns, entry)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

/* Room for one more: the expired go, then the oldest answered one. */
static int
turn_room(void)
{
	struct turn *t, *tt;
	time_t now = time(NULL);

	for (t = TAILQ_FIRST(&turns); t != NULL; t = tt) {
		tt = TAILQ_NEXT(t, entry);
		if (t->state != T_HOLD && now - t->done > TURN_TTL_S)
			turn_free(t);
	}
	if (nturns < TURN_MAX)
		return 0;
	TAILQ_FOREACH(t, &turns, entry)
		if (t->state != T_HOLD) {
			turn_free(t);
			return 0;
		}
	return -1;
}

static void
turn_note(const char *note, const char **text, size_t *textlen)
{
	*text = note;
	*textlen = strlen(note);
}

/*
 * A place or a link the person shared, as the agent reads it: what the
 * message says of it, on one line, in a buffer of ours (the text is
 * sent before the next message is looked at).
 */
static char	turn_buf[8192];

static const char *
turn_field(const struct xmlmsg_str *s)
{
	return s->p != NULL ? s->p : "";
}

static void
turn_place(const struct xmlmsg *m, const char **text, size_t *textlen)
{
	if (m->location_x.p == NULL || m->location_y.p == NULL) {
		turn_note(NOTE_LOCATION, text, textlen);
		return;
	}
	snprintf(turn_buf, sizeof(turn_buf), "[location: %s%s(%s, %s)]",
	    turn_field(&m->label), m->label.len > 0 ? " " : "",
	    m->location_x.p, m->location_y.p);
	*text = turn_buf;
	*textlen = strlen(turn_buf);
}

static void
turn_link(const struct xmlmsg *m, const char **text, size_t *textlen)
{
	if (m->url.p == NULL && m->title.p == NULL) {
		turn_note(NOTE_LINK, text, textlen);
		return;
	}
	snprintf(turn_buf, sizeof(turn_buf), "[link: %s%s%s%s%s]",
	    turn_field(&m->title), m->description.len > 0 ? " - " : "",
	    turn_field(&m->description), m->url.len > 0 ? " " : "",
	    turn_field(&m->url));
	*text = turn_buf;
	*textlen = strlen(turn_buf);
}

/* The key, and what the agent reads; text NULL: nothing to ask. */
static void
turn_what(const struct xmlmsg *m, char *key, size_t keylen, char *shown,
    const char **text, size_t *textlen, int *welcome)
{
	*text = NULL;
	*textlen = 0;
	*welcome = 0;
	if (m->msgid.p != NULL) {
		snprintf(key, keylen, "m\n%s\n%s", m->from.p, m->msgid.p);
		snprintf(shown, IPC_MSGID_MAX + 1, "%s", m->msgid.p);
	} else {
		snprintf(key, keylen, "e\n%s\n%lld\n%s\n%s\n%s", m->from.p,
		    (long long)m->createtime_n, m->event.p ? m->event.p : "",
		    m->eventkey.p ? m->eventkey.p : "",
		    m->agentid.p ? m->agentid.p : "");
		snprintf(shown, IPC_MSGID_MAX + 1, "ev:%lld:%s",
		    (long long)m->createtime_n, m->event.p ? m->event.p : "");
	}
	switch (m->type) {
	case XMLMSG_T_TEXT:
		*text = m->content.p;
		*textlen = m->content.len;
		break;
	case XMLMSG_T_VOICE:
		/* OA's transcript when the account turned it on (D.2). */
		if (m->recognition.p != NULL && m->recognition.len > 0) {
			*text = m->recognition.p;
			*textlen = m->recognition.len;
		}
		break;
	case XMLMSG_T_IMAGE:
		turn_note(NOTE_IMAGE, text, textlen);
		break;
	case XMLMSG_T_VIDEO:
	case XMLMSG_T_SHORTVIDEO:
		turn_note(NOTE_VIDEO, text, textlen);
		break;
	case XMLMSG_T_LOCATION:
		turn_place(m, text, textlen);
		break;
	case XMLMSG_T_LINK:
		turn_link(m, text, textlen);
		break;
	case XMLMSG_T_EVENT:
		if (m->ev == XMLMSG_EV_SUBSCRIBE)
			*welcome = 1;
		else if (m->ev == XMLMSG_EV_CLICK && m->eventkey.p != NULL &&
		    m->eventkey.len > 0) {
			/* A menu button's key reads as what the user said. */
			*text = m->eventkey.p;
			*textlen = m->eventkey.len;
		}
		break;
	default:
		break;
	}
}

/*
 * The part a message's MediaId names, for wk_media; NULL when there is
 * nothing to fetch (a voice message OA transcribed reads as its text).
 */
static const char *
turn_media_kind(const struct xmlmsg *m, const char *text)
{
	switch (m->type) {
	case XMLMSG_T_IMAGE:
		return "image";
	case XMLMSG_T_VOICE:
		return text == NULL ? "voice" : NULL;
	case XMLMSG_T_VIDEO:
	case XMLMSG_T_SHORTVIDEO:
		return "video";
	default:
		return NULL;
	}
}

static void
turn_id(const char *key, char out[TURN_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("%s: sha256", __func__);
	out[0] = 'c';
	out[1] = 'b';
	for (i = 0; i < (TURN_ID_LEN - 2) / 2; i++) {
		out[2 + 2 * i] = hex[md[i] >> 4];
		out[3 + 2 * i] = hex[md[i] & 0x0f];
	}
	out[TURN_ID_LEN] = '\0';
}

void
turn_message(struct conn *c, const struct xmlmsg *m)
{
	char key[XMLMSG_ID_MAX * 4 + 64];
	char msgid[IPC_MSGID_MAX + 1];
	const char *text, *kind;
	size_t textlen;
	struct turn *t;
	int welcome;

	/*
	 * The hub takes a frame with a string not UTF-8 for a
	 * compromised worker: a platform's odd bytes stop here.
	 */
	if (m->from.len == 0 || !ipc_utf8_valid(m->from.p, m->from.len) ||
	    (m->content.p != NULL &&
	    !ipc_utf8_valid(m->content.p, m->content.len)) ||
	    (m->eventkey.p != NULL &&
	    !ipc_utf8_valid(m->eventkey.p, m->eventkey.len)) ||
	    (m->recognition.p != NULL &&
	    !ipc_utf8_valid(m->recognition.p, m->recognition.len))) {
		log_warnx("callback %s: a message with no sender or not "
		    "UTF-8: 400", cb.account);
		conn_reply(c, 400, NULL, NULL, 0);
		return;
	}
	turn_what(m, key, sizeof(key), msgid, &text, &textlen, &welcome);
	if ((t = turn_find(key)) != NULL) {
		log_info("callback %s: %s from %s again: a retry",
		    cb.account, msgid, t->peer);
		if (t->state == T_HOLD && t->nwait < TURN_WAITERS)
			t->wait[t->nwait++] = c;
		else
			turn_answer(t, c);
		return;
	}
	if (turn_room() == -1) {
		log_warnx("callback %s: %d messages held: 503", cb.account,
		    TURN_MAX);
		conn_reply(c, 503, NULL, NULL, 0);
		return;
	}
	t = xcalloc(1, sizeof(*t));
	t->key = xstrdup(key);
	t->peer = xstrdup(m->from.p);
	t->us = xstrdup(m->to.p);
	memcpy(t->shown, msgid, sizeof(t->shown));
	turn_id(key, t->id);
	t->req = next_req++;
	if ((t->timer = evtimer_new(cb.base, turn_budget, t)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	TAILQ_INSERT_TAIL(&turns, t, entry);
	nturns++;
	t->wait[t->nwait++] = c;
	if (welcome && cb.welcome[0] != '\0') {
		t->state = T_REPLIED;
		t->reply = xstrdup(cb.welcome);
		t->done = time(NULL);
		turn_answer(t, c);
		t->nwait = 0;
		return;
	}
	/*
	 * An image, a video, or a voice message without OA's transcript,
	 * goes up with the message once it is here (D.5).
	 */
	if ((kind = turn_media_kind(m, text)) != NULL &&
	    m->mediaid.p != NULL && cb.secret != NULL) {
		t->text = xstrdup("");
		t->media = xcalloc(1, sizeof(*t->media));
		wk_media_init(t->media, cb.media_max);
		t->state = T_HOLD;
		turn_arm(t);
		/* turn_what() notes an image or a video, not a voice. */
		t->note = text != NULL ? text : NOTE_VOICE;
		t->dl = download_start(kind, m->mediaid.p, t->media,
		    turn_downloaded, t);
		return;
	}
	if (m->type == XMLMSG_T_VOICE && text == NULL)
		turn_note(NOTE_VOICE, &text, &textlen);
	if (text == NULL || textlen == 0 || textlen > IPC_TEXT_MAX) {
		log_info("callback %s: %s from %s: nothing for the agent "
		    "(type %d)", cb.account, msgid, t->peer, (int)m->type);
		turn_empty_all(t);
		return;
	}
	t->text = xstrndup(text, textlen);
	if (turn_send(t) == -1) {
		log_warnx("callback %s: the hub's queue is full: 503",
		    cb.account);
		conn_reply(c, 503, NULL, NULL, 0);
		t->nwait = 0;
		turn_free(t);
		return;
	}
	t->state = T_HOLD;
	turn_arm(t);
}

static void
turn_arm(struct turn *t)
{
	struct timeval tv;

	tv = clock_tv(cb.budget_ms);
	evtimer_add(t->timer, &tv);
}

/*
 * The part is in t->media, or could not be had: the message goes with
 * its note then, so the user still gets an answer.
 */
static void
turn_downloaded(const char *why, void *arg)
{
	struct turn *t = arg;

	t->dl = NULL;
	if (why != NULL) {
		media_failed++;
		log_warnx("callback %s: %s: media not fetched (%llu so far): "
		    "%s", cb.account, t->shown,
		    (unsigned long long)media_failed, why);
		wk_media_clear(t->media);
		free(t->media);
		t->media = NULL;
		free(t->text);
		t->text = xstrdup(t->note);
	}
	if (turn_send(t) == -1) {
		/* Not stored: held requests get 503, so it comes again. */
		log_warnx("callback %s: the hub's queue is full", cb.account);
		turn_fail_all(t);
	}
}

static int
turn_send(struct turn *t)
{
	struct ipc_body_inbound in;

	memset(&in, 0, sizeof(in));
	in.peer = ipc_s(t->peer);
	in.msg_id = ipc_s(t->id);
	in.text = ipc_s(t->text);
	in.group = IPC_S("");
	in.reply_ctx = ipc_s(t->id);
	log_debug("callback %s: inbound %llu from %s", cb.account,
	    (unsigned long long)t->req, t->peer);
	t->unacked = 1;
	if (t->media != NULL)
		return wk_media_send(t->media, t->req, &in);
	return worker_send(IPC_INBOUND, t->req, &in);
}

/*
 * Not stored by the hub: the platform must ask again, and its next POST
 * must find no turn, or it would be answered empty as a retry.
 */
static void
turn_fail_all(struct turn *t)
{
	size_t i;

	for (i = 0; i < t->nwait; i++)
		conn_reply(t->wait[i], 503, NULL, NULL, 0);
	t->nwait = 0;
	turn_free(t);
}

/* The budget is spent: every request held gets the empty answer. */
static void
turn_budget(evutil_socket_t fd, short ev, void *arg)
{
	struct turn *t = arg;

	(void)fd;
	(void)ev;
	if (t->state != T_HOLD)
		return;
	log_info("callback %s: %s: no reply within %llu ms; it goes by the "
	    "API", cb.account, t->shown, (unsigned long long)cb.budget_ms);
	turn_empty_all(t);
}

static void
turn_empty_all(struct turn *t)
{
	size_t i;

	t->state = T_EMPTY;
	t->done = time(NULL);
	evtimer_del(t->timer);
	for (i = 0; i < t->nwait; i++)
		turn_answer(t, t->wait[i]);
	t->nwait = 0;
}

/* A random nonce for our envelope: letters and digits. */
static void
turn_nonce(char *out, size_t len)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[TURN_NONCE_LEN];
	size_t i;

	if (len > sizeof(r) + 1 || RAND_bytes(r, (int)(len - 1)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	for (i = 0; i + 1 < len; i++)
		out[i] = al[r[i] % (sizeof(al) - 1)];
	out[len - 1] = '\0';
}

/*
 * D.3's text reply, in C.6's envelope unless OA's plain mode: NULL
 * when it cannot be written (the empty answer goes instead).
 */
static char *
turn_reply_body(const struct turn *t, size_t *len)
{
	char ts[32], nonce[TURN_NONCE_LEN + 1], sig[WXC_SIG_LEN + 1];
	char *xml, *enc = NULL, *out = NULL;
	size_t xlen;
	time_t now = time(NULL);

	if (xmlmsg_reply_text(t->peer, t->us, (int64_t)now, t->reply,
	    strlen(t->reply), &xml, &xlen) != XMLMSG_OK)
		return NULL;
	if (cb.plain) {
		*len = xlen;
		return xml;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	turn_nonce(nonce, sizeof(nonce));
	if (wxcrypt_encrypt(&cb.key, xml, xlen, cb.id, &enc) != WXC_OK ||
	    wxcrypt_signature(cb.token, ts, nonce, enc, sig) != WXC_OK ||
	    xmlmsg_reply_envelope(enc, sig, ts, nonce, &out, len) !=
	    XMLMSG_OK)
		out = NULL;
	freezero(xml, xlen);
	free(enc);
	return out;
}

/* What this turn answers one request with, by its state. */
static void
turn_answer(struct turn *t, struct conn *c)
{
	char *body;
	size_t len;

	if (t->state == T_REPLIED &&
	    (body = turn_reply_body(t, &len)) != NULL) {
		conn_reply(c, 200, "application/xml", body, len);
		free(body);
		return;
	}
	/* D.3: OA takes "success"; WeCom an empty 200. */
	if (cb.wecom)
		conn_reply(c, 200, NULL, NULL, 0);
	else
		conn_reply(c, 200, "text/plain", "success", 7);
}

void
turn_conn_gone(struct conn *c)
{
	struct turn *t;
	size_t i;

	TAILQ_FOREACH(t, &turns, entry)
		for (i = 0; i < t->nwait; i++)
			if (t->wait[i] == c) {
				t->wait[i] = t->wait[--t->nwait];
				return;
			}
}

/*
 * "accepted" and "duplicate" mean a reply will come; "pairing" and
 * "limited" bring a notice.  Only a message the hub drops has none to
 * wait for; one it did not store ("retry", "busy") must come again.
 */
int
turn_inbound_ack(const struct ipc_msg *m)
{
	const struct ipc_str *st = &m->b.inbound_ack.status;
	struct turn *t;

	TAILQ_FOREACH(t, &turns, entry)
		if (t->req == m->req_id)
			break;
	if (t == NULL)
		return 0;
	log_debug("callback %s: inbound %llu: %.*s", cb.account,
	    (unsigned long long)m->req_id, (int)st->len, st->p);
	/*
	 * Not stored (its store failed, or the backlog is full): the
	 * platform keeps a message only until it gets a 200, so none is
	 * given, and the platform's retry goes to the hub again.
	 */
	if (t->state != T_REPLIED && (ipc_streq(*st, "retry") ||
	    ipc_streq(*st, "busy"))) {
		log_info("callback %s: %s not taken by the hub (%.*s); "
		    "left for the platform to send again", cb.account,
		    t->shown, (int)st->len, st->p);
		turn_fail_all(t);
		return 0;
	}
	free(t->text);
	t->text = NULL;
	t->unacked = 0;
	if (t->media != NULL) {
		wk_media_clear(t->media);
		free(t->media);
		t->media = NULL;
	}
	if (t->state == T_HOLD && (ipc_streq(*st, "denied") ||
	    ipc_streq(*st, "ignored")))
		turn_empty_all(t);
	return 0;
}

int
turn_outbound(const struct ipc_body_outbound *o)
{
	struct turn *t;
	size_t i;

	TAILQ_FOREACH(t, &turns, entry)
		if (t->state == T_HOLD && t->nwait > 0 &&
		    ipc_streq(o->reply_ctx, t->id) &&
		    ipc_streq(o->peer, t->peer))
			break;
	if (t == NULL)
		return 0;
	t->reply = xstrndup(o->text.p, o->text.len);
	t->state = T_REPLIED;
	t->done = time(NULL);
	evtimer_del(t->timer);
	for (i = 0; i < t->nwait; i++)
		turn_answer(t, t->wait[i]);
	t->nwait = 0;
	log_info("callback %s: %s answered passively", cb.account, t->shown);
	/* Written to the platform's open request: that is the send. */
	outq_ack(o->id);
	return 1;
}

/* A new hub: what the old one never acknowledged, again. */
void
turn_resync(void)
{
	struct turn *t;

	TAILQ_FOREACH(t, &turns, entry)
		if (t->unacked && turn_send(t) == -1)
			fatalx("%s: the hub's queue is full", __func__);
}

static void
turn_free(struct turn *t)
{
	TAILQ_REMOVE(&turns, t, entry);
	nturns--;
	event_free(t->timer);
	download_cancel(t->dl);
	if (t->media != NULL) {
		wk_media_clear(t->media);
		free(t->media);
	}
	free(t->key);
	free(t->peer);
	free(t->us);
	free(t->text);
	free(t->reply);
	free(t);
}

/* Shutdown: whatever is held is answered empty, then forgotten. */
void
turn_stop(void)
{
	struct turn *t;

	while ((t = TAILQ_FIRST(&turns)) != NULL) {
		if (t->state == T_HOLD)
			turn_empty_all(t);
		turn_free(t);
	}
}
