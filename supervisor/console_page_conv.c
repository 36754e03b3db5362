/*
 * The console's Conversations page: each channel account's peers,
 * newest first, with their newest messages (the peer's text and the
 * agent's reply) and the reply's delivery state in the words `wxgatectl
 * outbox` prints (queued, sent, failed, undeliverable; none once the
 * outbox pruned the rows), the rows written first among them ("sent"),
 * and for each conversation the characters an admin may write into it
 * as the bot ("send", 0 where the channel only answers).  The worker
 * sends the peer searched for after the page's name ("-" for none), a
 * plain lower-case word, and the text searched for as console.get's
 * free text (any language, up to IPC_CONSOLE_QUERY_MAX bytes), both
 * found as substrings (store_conv.c).  Taking a conversation over is
 * console_send.c's.
 *
 * A peer's text is JSON-escaped here and set as textContent by the
 * page.  The answer is bounded by conversations, by messages in each,
 * by each text's bytes (cut at a whole UTF-8 character) and by its
 * bytes, escapes included; "more" says conversations were left out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "hub.h"
#include "store.h"

/* Conversations one answer lists, and messages of each. */
#define CONSOLE_CONV_MAX	50
#define CONSOLE_CONV_MSGS	10
/* A message's text or reply: a screenful, not a document. */
#define CONSOLE_CONV_CUT	512
/* The list's JSON, leaving room for the page around it. */
#define CONSOLE_CONV_BYTES	(IPC_CONSOLE_BODY_MAX - 1024)

struct conv_page {
	json_t		*list;
	json_t		*msgs;		/* the conversation being read */
	size_t		 bytes;
	int		 more;
	int		 err;
};

static int
conv_page_msg(const struct store_conv_msg *cm, void *arg)
{
	struct conv_page *pg = arg;

	/* Newest first from the store; oldest first on the page. */
	json_array_insert_new(pg->msgs, 0, json_pack("{s:I, s:I, s:o?, s:s?, "
	    "s:o, s:o?, s:s?, s:b}", "id", (json_int_t)cm->id, "time",
	    (json_int_t)cm->created, "answered", cm->answered != 0 ?
	    json_integer(cm->answered) : NULL, "sender", cm->sender, "text",
	    console_text(cm->text, CONSOLE_CONV_CUT), "reply", cm->reply != NULL ?
	    console_text(cm->reply, CONSOLE_CONV_CUT) : NULL, "delivery",
	    cm->delivery, "sent", cm->sent));
	return 0;
}

static int
conv_page_conv(const struct store_conv *c, void *arg)
{
	struct conv_page *pg = arg;
	char err[256];
	uint32_t cps, bytes;
	json_t *o;

	pg->msgs = json_array();
	if (store_conv_messages(sup->store, c->session_id, NULL,
	    CONSOLE_CONV_MSGS, conv_page_msg, pg) == -1) {
		json_decref(pg->msgs);
		pg->err = 1;
		return -1;
	}
	/* What the take-over may write there (console_send.c); 0: none. */
	if (channel_send_limit(c->account, c->peer, &cps, &bytes, err,
	    sizeof(err)) != 0)
		cps = 0;
	/* session: what the thread view asks for (console_page_thread.c). */
	o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:o, s:I}", "session",
	    (json_int_t)c->session_id, "account", c->account, "peer", c->peer,
	    "last", (json_int_t)c->last, "count", (json_int_t)c->count,
	    "messages", pg->msgs, "send", (json_int_t)cps);
	/* A name that is not UTF-8 makes no JSON; the CLI still shows it. */
	if (o == NULL)
		return 0;
	if (console_take(pg->list, CONSOLE_CONV_MAX, &pg->bytes,
	    CONSOLE_CONV_BYTES, o) == -1) {
		pg->more = 1;
		return -1;
	}
	return 0;
}

/* "peer": a word or "-".  -1 on anything else. */
static int
conv_page_query(char *q, const char **peer)
{
	if (q[0] == '\0' || strchr(q, ' ') != NULL)
		return -1;
	*peer = strcmp(q, "-") == 0 ? NULL : q;
	return 0;
}

/*
 * The status, and the answer's body (an error's when not 200).  The
 * text is found as the store finds it: lower() folds ASCII only, so
 * the words are folded alike here; other scripts match as they are.
 */
int
console_page_conversations(const char *query, const char *text,
    json_t **body)
{
	struct conv_page pg = { NULL, NULL, 0, 0, 0 };
	char q[IPC_NAME_MAX + 1], t[IPC_CONSOLE_QUERY_MAX + 1];
	const char *peer;
	size_t i;

	snprintf(q, sizeof(q), "%s", query != NULL ? query : "-");
	if (conv_page_query(q, &peer) == -1) {
		*body = console_error("peer is not valid");
		return 400;
	}
	snprintf(t, sizeof(t), "%s", text);
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] >= 'A' && t[i] <= 'Z')
			t[i] += 'a' - 'A';
	pg.list = json_array();
	/* One more than shown: the last one only says there are more. */
	if (store_conv_list(sup->store, peer, t[0] != '\0' ? t : NULL,
	    CONSOLE_CONV_MAX + 1, conv_page_conv, &pg) == -1 || pg.err) {
		json_decref(pg.list);
		*body = console_error("store error");
		return 503;
	}
	*body = json_pack("{s:o, s:b}", "conversations", pg.list, "more",
	    pg.more);
	return 200;
}
