/*
 * The console's thread view: one conversation of the Conversations
 * page (a channel session, named by its id), its messages both ways a
 * page at a time, the newest page first and each oldest first, with
 * the reply's delivery state, the /new that reset the agent's context,
 * and each message's stored attachments (store_conv_media.c): kind,
 * name, size, the image type its first bytes say (sniff.c, never the
 * sender's name or kind) and whether /api/media can carry it
 * (console_media.c).  The worker sends "session before" after the
 * page's name; before is "-" for the newest page, else the "older"
 * cursor the last answer gave.
 *
 * Texts are JSON-escaped here and set as textContent by the page.  The
 * answer is bounded by messages, parts, each text's bytes and its own
 * bytes, escapes included; what is left out is on the older pages.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "hub.h"
#include "sniff.h"
#include "store.h"

/* Messages a page holds: a screenful or two on a phone. */
#define THREAD_MSGS		20
/* A message's attachments listed; WeChat sends nine photos at most. */
#define THREAD_PARTS		16
/* A text, a reply or a part's name: a page, not a document. */
#define THREAD_CUT		2048
#define THREAD_NAME_CUT		128
/* The page's JSON, leaving room for the object around it. */
#define THREAD_BYTES		(IPC_CONSOLE_BODY_MAX - 1024)
/* A cursor: three decimals and two dots. */
#define THREAD_AT_MAX		64

struct thread_page {
	json_t			*msgs;		/* oldest first */
	json_t			*parts;		/* the message being read */
	size_t			 bytes;
	unsigned		 rows;		/* seen, shown or not */
	int			 more;		/* an older page exists */
	int			 err;
	struct store_conv_at	 oldest;	/* of those shown */
};

static int
thread_part(const struct store_conv_part *p, void *arg)
{
	struct thread_page *pg = arg;
	const char *img = sniff_image(p->head, p->headlen);

	json_array_append_new(pg->parts, json_pack("{s:I, s:s, s:o, s:I, "
	    "s:s?, s:b}", "seq", (json_int_t)p->seq, "kind", p->kind, "name",
	    console_cut(p->name, THREAD_NAME_CUT), "size", (json_int_t)p->size,
	    "image", img, "fits", p->size <= IPC_CONSOLE_MEDIA_MAX));
	return 0;
}

/* A message's parts; rows written first (sent) are outbox rows: none. */
static json_t *
thread_parts(struct thread_page *pg, const struct store_conv_msg *cm)
{
	pg->parts = json_array();
	if (!cm->sent && store_conv_parts(sup->store, cm->id, THREAD_PARTS,
	    thread_part, pg) == -1) {
		json_decref(pg->parts);
		return NULL;
	}
	return pg->parts;
}

static int
thread_msg(const struct store_conv_msg *cm, void *arg)
{
	struct thread_page *pg = arg;
	json_t *o, *parts;

	/* One row more than a page: it only says there is an older one. */
	if (++pg->rows > THREAD_MSGS) {
		pg->more = 1;
		return -1;
	}
	if ((parts = thread_parts(pg, cm)) == NULL) {
		pg->err = 1;
		return -1;
	}
	o = json_pack("{s:I, s:I, s:o?, s:s?, s:o, s:o?, s:s?, s:b, s:b, "
	    "s:o}", "id", (json_int_t)cm->id, "time", (json_int_t)cm->created,
	    "answered", cm->answered != 0 ? json_integer(cm->answered) : NULL,
	    "sender", cm->sender, "text", console_text(cm->text, THREAD_CUT),
	    "reply", cm->reply != NULL ? console_text(cm->reply, THREAD_CUT) :
	    NULL, "delivery", cm->delivery, "sent", cm->sent, "reset",
	    cm->reset, "parts", parts);
	/* Not UTF-8 (a platform's bytes): no JSON, and no gap either. */
	if (o != NULL && !console_fits(&pg->bytes, THREAD_BYTES, o)) {
		json_decref(o);
		pg->more = 1;
		return -1;
	}
	if (o != NULL)
		json_array_insert_new(pg->msgs, 0, o);
	pg->oldest.created = cm->created;
	pg->oldest.sent = cm->sent;
	pg->oldest.id = cm->id;
	return 0;
}

/* A decimal of at most 18 digits (no sign, no overflow): -1 if not. */
static int
thread_num(const char *s, int64_t *v)
{
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	*v = strtoll(s, NULL, 10);
	return 0;
}

/* "session before", before "-" or "created.sent.id": -1 if not. */
static int
thread_query(char *q, int64_t *session, struct store_conv_at *at,
    int *have_at)
{
	char *f[2], *c, *s;
	int64_t sent;
	int i;

	for (i = 0; i < 2; i++)
		if ((f[i] = strsep(&q, " ")) == NULL)
			return -1;
	if (q != NULL || thread_num(f[0], session) == -1 || *session <= 0)
		return -1;
	*have_at = strcmp(f[1], "-") != 0;
	if (!*have_at)
		return 0;
	q = f[1];
	if ((c = strsep(&q, ".")) == NULL || (s = strsep(&q, ".")) == NULL ||
	    q == NULL || thread_num(c, &at->created) == -1 ||
	    thread_num(s, &sent) == -1 || sent > 1 ||
	    thread_num(q, &at->id) == -1)
		return -1;
	at->sent = (int)sent;
	return 0;
}

/* The status, and the answer's body (an error's when not 200). */
int
console_page_thread(const char *query, const char *text, json_t **body)
{
	struct thread_page pg;
	struct store_conv_at at;
	char q[IPC_NAME_MAX + 1], acct[IPC_NAME_MAX + 1];
	char peer[IPC_PEER_MAX + 1], older[THREAD_AT_MAX];
	int64_t session;
	int have_at, rv;

	memset(&pg, 0, sizeof(pg));
	snprintf(q, sizeof(q), "%s", query != NULL ? query : "");
	if (text[0] != '\0' ||
	    thread_query(q, &session, &at, &have_at) == -1) {
		*body = console_error("session or cursor is not valid");
		return 400;
	}
	if ((rv = store_conv_peer(sup->store, session, acct, sizeof(acct),
	    peer, sizeof(peer))) != 0) {
		*body = console_error(rv == 1 ? "no such conversation" :
		    "store error");
		return rv == 1 ? 404 : 503;
	}
	pg.msgs = json_array();
	if (store_conv_messages(sup->store, session, have_at ? &at : NULL,
	    THREAD_MSGS + 1, thread_msg, &pg) == -1 || pg.err) {
		json_decref(pg.msgs);
		*body = console_error("store error");
		return 503;
	}
	snprintf(older, sizeof(older), "%" PRId64 ".%d.%" PRId64,
	    pg.oldest.created, pg.oldest.sent, pg.oldest.id);
	*body = json_pack("{s:I, s:s, s:s, s:o, s:s?}", "session",
	    (json_int_t)session, "account", acct, "peer", peer, "messages",
	    pg.msgs, "older", pg.more && pg.rows > 1 ? older : NULL);
	if (*body == NULL) {
		*body = console_error("this conversation's names are not "
		    "UTF-8");
		return 500;
	}
	return 200;
}
