/*
 * `wxgatectl relay token create|list|revoke` (relay.token_*): the
 * pairing tokens a relay agent's relays say hello with.  A token is made
 * here, shown to the operator once in ctl.result and forgotten; the
 * store keeps its SHA-256 (store_relay.c).  Revoking one also closes
 * the relays connected with it (relay.revoke to the agent's worker).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>

#include "codec.h"
#include "config.h"
#include "control_int.h"
#include "hub.h"
#include "log.h"
#include "relaytok.h"
#include "store.h"
#include "wire_stream.h"

static int	ctl_relay_row(const struct store_relay_row *, void *);

int
ctl_relay_create(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_str *n = &m->b.name.name;
	char agent[IPC_NAME_MAX + 1], tok[RELAYTOK_LEN + 1];
	uint8_t hash[RELAYTOK_HASH_LEN];
	int64_t id;

	snprintf(agent, sizeof(agent), "%.*s", (int)n->len, n->p);
	if (config_relay_agent(sup->conf, agent) == NULL) {
		ctl_result(c, m->req_id, 0, "no relay agent of that name");
		return 0;
	}
	if (relaytok_new(tok, hash) == -1 ||
	    store_relay_create(sup->store, agent, hash, sup_now(), &id) == -1) {
		explicit_bzero(tok, sizeof(tok));
		ctl_result(c, m->req_id, 0, "cannot create a token");
		return 0;
	}
	log_info("operator (uid %d) creates relay token %lld for agent %s",
	    (int)c->uid, (long long)id, agent);
	ctl_result(c, m->req_id, 1, tok);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}

static int
ctl_relay_row(const struct store_relay_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_relay_row b;

	b.id = (uint64_t)r->id;
	b.agent = ipc_s(r->agent);
	b.created = r->created > 0 ? (uint64_t)r->created : 0;
	b.last_used = r->last_used > 0 ? (uint64_t)r->last_used : 0;
	b.revoked = r->revoked > 0 ? (uint64_t)r->revoked : 0;
	ipc_stream_put(bufferevent_get_output(cw->c->bev),
	    IPC_CTL_RELAY_TOKEN, cw->req_id, &b);
	return 0;
}

int
ctl_relay_list(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };

	return ctl_walk_end(&cw, store_relay_list(sup->store, ctl_relay_row,
	    &cw));
}

/* ID is the number `relay token list` shows. */
int
ctl_relay_revoke(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_str *n = &m->b.name.name;
	char buf[24], agent[IPC_NAME_MAX + 1], *end;
	long long id;
	int rv;

	snprintf(buf, sizeof(buf), "%.*s", (int)n->len, n->p);
	id = strtoll(buf, &end, 10);
	if (n->len == 0 || n->len >= sizeof(buf) || *end != '\0' || id <= 0) {
		ctl_result(c, m->req_id, 0, "a token id is a number");
		return 0;
	}
	rv = store_relay_revoke(sup->store, id, sup_now(), agent,
	    sizeof(agent));
	if (rv != 0) {
		ctl_result(c, m->req_id, 0, rv == 1 ? "no such token" :
		    "store error");
		return 0;
	}
	log_info("operator (uid %d) revokes relay token %lld", (int)c->uid,
	    id);
	router_relay_revoked(agent, id);
	ctl_result(c, m->req_id, 1, "revoked");
	return 0;
}
