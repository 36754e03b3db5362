/*
 * The relay backend: this agent's requests go to relays that dialled in
 * (relay_conn.c), each to the ready relay with the fewest, and their
 * delta/done/error frames come back as agent.delta/done/error.
 *
 * - No relay ready when a request comes: agent.error agent_offline at
 *   once; the hub tells a browser, and keeps a platform message stored
 *   until agent.online (sent when a relay is welcomed).
 * - A relay lost with requests: each starts over (agent.restart, so the
 *   hub forgets what came) on another relay, or waits here for one; the
 *   hub's deadline bounds the wait (agent.abort, then timeout).
 * - A request is answered once: frames for a request that went to
 *   another relay or was aborted are dropped; frames for one a relay
 *   was never given, more than RELAY_DELTAS_MAX deltas or IPC_REPLY_MAX
 *   bytes for one request end that relay's connection.
 *
 * It never sees who a relay is: the hub checks each hello's token.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "codec.h"
#include "log.h"
#include "relay.h"
#include "relay_frame.h"
#include "worker.h"
#include "xmalloc.h"

/* Delta frames one request may take: past it the relay floods. */
#define RELAY_DELTAS_MAX	8192

struct relay_req {
	TAILQ_ENTRY(relay_req)	 entry;		/* all, in arrival order */
	struct agent_req	*r;
	struct relay_conn	*conn;		/* NULL: waits for a relay */
	char			*frame;		/* the request, to resend */
	size_t			 bytes;		/* of deltas from conn */
	unsigned		 deltas;
	int			 spoke;		/* a delta went to the hub */
	int			 over;		/* done or error: no abort */
};

static TAILQ_HEAD(, relay_req)	 rreqs = TAILQ_HEAD_INITIALIZER(rreqs);
static char			 agent_name[IPC_NAME_MAX + 1];

static int	relay_init(json_t *);
static int	relay_start(struct agent_req *,
		    const struct ipc_body_agent_request *);
static void	relay_cancel(struct agent_req *);
static int	relay_msg(const struct ipc_msg *);
static void	relay_assign(struct relay_req *, struct relay_conn *);

const struct agent_backend agent_relay = {
	"relay", "agent-relay", relay_init, NULL, relay_start, relay_cancel,
	relay_msg
};

static int
relay_init(json_t *conf)
{
	const char *l = wk_conf_str(conf, "listen", "");
	const char *n = wk_conf_str(conf, "name", "");

	snprintf(agent_name, sizeof(agent_name), "%s", n != NULL ? n : "");
	log_info("relay: waiting for relays on %s", l != NULL ? l : "?");
	return 0;
}

static int
relay_start(struct agent_req *r, const struct ipc_body_agent_request *b)
{
	struct relay_conn *c;
	struct relay_req *rr;

	if ((c = relay_conn_pick()) == NULL) {
		agent_error(r, "agent_offline", "no relay is connected");
		return 0;
	}
	rr = xcalloc(1, sizeof(*rr));
	rr->r = r;
	if ((rr->frame = relay_frame_request(r->id, b)) == NULL) {
		free(rr);
		return -1;
	}
	r->priv = rr;
	TAILQ_INSERT_TAIL(&rreqs, rr, entry);
	relay_assign(rr, c);
	return 0;
}

static void
relay_assign(struct relay_req *rr, struct relay_conn *c)
{
	rr->conn = c;
	rr->bytes = 0;
	rr->deltas = 0;
	relay_conn_load(c, 1);
	relay_conn_send(c, xstrdup(rr->frame));
}

/* Leaving the relay it was on: that relay's late frames are dropped. */
static void
relay_unassign(struct relay_req *rr)
{
	if (rr->conn == NULL)
		return;
	relay_conn_load(rr->conn, -1);
	relay_conn_gone(rr->conn, rr->r->id);
	rr->conn = NULL;
}

static void
relay_cancel(struct agent_req *r)
{
	struct relay_req *rr = r->priv;

	if (rr == NULL)
		return;
	/* Aborted by the hub: the relay may stop working on it. */
	if (rr->conn != NULL && !rr->over)
		relay_conn_send(rr->conn, relay_frame_abort(r->id));
	relay_unassign(rr);
	TAILQ_REMOVE(&rreqs, rr, entry);
	free(rr->frame);
	free(rr);
	r->priv = NULL;
}

/* sup.listen_fd, relay.verdict and relay.revoke (agent.c passes them). */
static int
relay_msg(const struct ipc_msg *m)
{
	const struct ipc_body_relay_verdict *v = &m->b.relay_verdict;
	struct relay_conn *c;

	switch (m->type) {
	case IPC_SUP_LISTEN_FD:
		if (m->fd == -1)
			return -1;
		return relay_conn_listen(m->fd);
	case IPC_RELAY_VERDICT:
		/* Gone meanwhile, or a verdict for an old hub's question. */
		if ((c = relay_conn_find(v->conn)) == NULL)
			return 0;
		if (!v->ok) {
			relay_conn_refuse(c);
			return 0;
		}
		relay_conn_welcome(c, v->token_id, agent_name);
		relay_up();
		return 0;
	case IPC_RELAY_REVOKE:
		relay_conn_revoke(m->b.seq.seq);
		return 0;
	}
	return -1;
}

void
relay_hello(struct relay_conn *c, const char *token)
{
	struct ipc_body_relay_auth b;

	b.conn = relay_conn_id(c);
	b.token = ipc_s(token);
	if (worker_send(IPC_RELAY_AUTH, 0, &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

/* A relay is welcomed: what waited goes out, and the hub may send more. */
void
relay_up(void)
{
	struct ipc_body_empty e = { 0 };
	struct relay_req *rr;
	struct relay_conn *c;

	TAILQ_FOREACH(rr, &rreqs, entry)
		if (rr->conn == NULL && (c = relay_conn_pick()) != NULL)
			relay_assign(rr, c);
	if (worker_send(IPC_AGENT_ONLINE, 0, &e) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

/* c is gone: its requests start over elsewhere, or wait for a relay. */
void
relay_lost(struct relay_conn *c)
{
	struct relay_conn *to;
	struct relay_req *rr;
	unsigned moved = 0, held = 0;

	TAILQ_FOREACH(rr, &rreqs, entry) {
		if (rr->conn != c)
			continue;
		relay_unassign(rr);
		if (rr->spoke)
			agent_restart(rr->r);
		rr->spoke = 0;
		if ((to = relay_conn_pick()) != NULL) {
			relay_assign(rr, to);
			moved++;
		} else
			held++;
	}
	if (moved + held > 0)
		log_info("relay connection %" PRIu64 " lost: %u request%s "
		    "redelivered, %u waiting for a relay", relay_conn_id(c),
		    moved, moved == 1 ? "" : "s", held);
}

/* Codes a relay may give; anything else is agent_failed. */
static const char *
relay_code(const char *code)
{
	static const char *const ok[] = { "rate_limited", "agent_failed",
	    "timeout", "too_long" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(code, ok[i]) == 0)
			return ok[i];
	return "agent_failed";
}

void
relay_result(struct relay_conn *c, const struct relay_frame *f)
{
	struct agent_req *r = agent_req_find(f->id);
	struct relay_req *rr = r != NULL ? r->priv : NULL;

	if (rr == NULL || rr->conn != c) {
		/* Taken from it (aborted, moved): late, not wrong. */
		if (relay_conn_was(c, f->id))
			return;
		relay_conn_violate(c, "a frame for a request it was not "
		    "given");
		return;
	}
	switch (f->type) {
	case RF_DELTA:
		rr->bytes += f->text_len;
		if (++rr->deltas > RELAY_DELTAS_MAX ||
		    rr->bytes > IPC_REPLY_MAX) {
			rr->over = 1;
			agent_error(r, "agent_failed", "the relay sent too "
			    "much");
			relay_conn_violate(c, "floods deltas");
			return;
		}
		if (f->text_len == 0)
			return;
		rr->spoke = 1;
		if (agent_delta(r, f->text, f->text_len) == -1)
			fatalx("%s: supervisor queue full", __func__);
		return;
	case RF_DONE:
		rr->over = 1;
		agent_done(r);
		return;
	case RF_ERROR:
		rr->over = 1;
		agent_error(r, relay_code(f->code), f->message[0] != '\0' ?
		    f->message : "the relay's agent failed");
		return;
	default:
		relay_conn_violate(c, "an unexpected frame");
	}
}
