/*
 * What WeCom users say to the bot, on its way to the hub (protocols/
 * wecom.md A.5.3, A.5.4): each aibot_msg_callback becomes one
 * inbound.message; enter_chat is answered here with the configured
 * welcome, since it must go within 5 s (A.11) and needs no agent.
 *
 * Conversations are keyed by account, chat and user: a group message
 * goes up with its chat as the group and its user as the peer, and
 * says whether it names the bot ("@bot_name", cut from the text); the
 * hub's group_policy and require_mention decide, as for every kind.
 *
 * WeCom may deliver a callback twice: msgids seen lately are dropped
 * (the hub dedupes too, on the same id).  A message waits here until
 * its inbound.ack; sup.resync sends those again under the same req_id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "log.h"
#include "wecom.h"
#include "worker.h"
#include "xmalloc.h"

/* msgids remembered for the dedupe: far more than 10 min of chat. */
#define IN_SEEN_MAX	1024
/* Messages sent up but not acked; past this they are not kept. */
#define IN_WAIT_MAX	64

struct in_wait {
	uint64_t	 req;
	uint64_t	 gen;			/* link_gen() it came in */
	char		 cb_req[WCF_ID_MAX + 1];	/* the callback's */
	char		*peer;
	char		*group;			/* "" in a single chat */
	int		 mentioned;
	char		*msgid;
	char		*text;
	size_t		 textlen;
	char		*ctx;
};

static char		 in_seen[IN_SEEN_MAX][WCF_ID_MAX + 1];
static size_t		 in_nseen;
static struct in_wait	 in_wait[IN_WAIT_MAX];
static size_t		 in_nwait;
static uint64_t		 in_next = 1;

static int	in_seen_before(const char *);
static int	in_send(const struct in_wait *);
static void	in_wait_free(struct in_wait *);

static int
in_seen_before(const char *msgid)
{
	size_t i, n = in_nseen < IN_SEEN_MAX ? in_nseen : IN_SEEN_MAX;

	for (i = 0; i < n; i++)
		if (strcmp(in_seen[i], msgid) == 0)
			return 1;
	snprintf(in_seen[in_nseen++ % IN_SEEN_MAX], WCF_ID_MAX + 1, "%s",
	    msgid);
	return 0;
}

static int
in_send(const struct in_wait *w)
{
	struct ipc_body_inbound b;

	memset(&b, 0, sizeof(b));
	b.peer = ipc_s(w->peer);
	b.msg_id = ipc_s(w->msgid);
	b.text.p = w->text;
	b.text.len = w->textlen;
	b.group = ipc_s(w->group);
	b.mentioned = w->mentioned;
	b.reply_ctx = ipc_s(w->ctx);
	return worker_send(IPC_INBOUND, w->req, &b);
}

void
inbound_msg(struct wcf_in *in)
{
	char ctx[WCF_CTX_MAX];
	struct in_wait w;
	int mentioned = 1;

	if (in_seen_before(in->msgid)) {
		log_info("wecom %s: callback %s again; dropped", wb.account,
		    in->msgid);
		return;
	}
	if (in->group)
		mentioned = wcf_mention(in->text, &in->textlen, wb.bot_name);
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
	memset(&w, 0, sizeof(w));
	w.req = in_next++;
	w.gen = link_gen();
	snprintf(w.cb_req, sizeof(w.cb_req), "%s", in->req_id);
	w.peer = in->userid;
	w.group = in->group ? in->chatid : "";
	w.mentioned = mentioned;
	w.msgid = in->msgid;
	w.text = in->text;
	w.textlen = in->textlen;
	w.ctx = ctx;
	if (in_send(&w) == -1)
		fatalx("%s: supervisor queue full", __func__);
	if (in_nwait == IN_WAIT_MAX) {
		log_warnx("wecom %s: inbound %llu not kept for a resync",
		    wb.account, (unsigned long long)w.req);
		return;
	}
	w.peer = xstrdup(w.peer);
	w.group = xstrdup(w.group);
	w.msgid = xstrdup(in->msgid);
	w.text = xmalloc(in->textlen + 1);
	memcpy(w.text, in->text, in->textlen + 1);
	w.ctx = xstrdup(ctx);
	in_wait[in_nwait++] = w;
}

static void
in_wait_free(struct in_wait *w)
{
	free(w->peer);
	free(w->group);
	free(w->msgid);
	free(w->text);
	free(w->ctx);
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
	size_t i;

	for (i = 0; i < in_nwait; i++)
		if (in_wait[i].req == m->req_id)
			break;
	if (i == in_nwait)
		return 0;	/* a second answer after a resync */
	if (ipc_streq(st, "accepted") && in_wait[i].gen == link_gen() &&
	    link_ready())
		reply_open(in_wait[i].cb_req);
	else if (!ipc_streq(st, "accepted"))
		log_info("wecom %s: message %s: %.*s", wb.account,
		    in_wait[i].msgid, (int)st.len, st.p);
	in_wait_free(&in_wait[i]);
	memmove(&in_wait[i], &in_wait[i + 1],
	    (in_nwait - i - 1) * sizeof(in_wait[0]));
	in_nwait--;
	return 0;
}

/* A new hub: every message not yet acked, again, in order. */
void
inbound_resync(void)
{
	size_t i;

	for (i = 0; i < in_nwait; i++)
		if (in_send(&in_wait[i]) == -1)
			fatalx("%s: supervisor queue full", __func__);
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
