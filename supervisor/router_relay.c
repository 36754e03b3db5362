/*
 * Relay agents, the hub's side: a relay's hello comes as relay.auth from
 * its agent's worker, and is answered relay.verdict after the token's
 * SHA-256 is looked up (store_relay.c).  A token opens only the agent it
 * was made for.  Revocation tells the worker to close that token's
 * connections (relay.revoke).  The requests themselves are ordinary
 * agent requests (router_agent.c).
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "relaytok.h"
#include "router_int.h"
#include "store.h"

int
sup_relay_auth(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_relay_auth *a = &m->b.relay_auth;
	struct ipc_body_relay_verdict v;
	uint8_t hash[RELAYTOK_HASH_LEN];
	char agent[IPC_NAME_MAX + 1];
	const char *why = NULL;
	int64_t id = 0;
	int rv;

	if (config_relay_agent(sup->conf, w->id) == NULL) {
		log_warnx("%s: %s is no relay agent", __func__, w->name);
		return -1;
	}
	if (relaytok_hash(a->token.p, a->token.len, hash) == -1)
		why = "malformed token";
	else if ((rv = store_relay_find(sup->store, hash, &id, agent,
	    sizeof(agent))) == -1)
		why = "store error";
	else if (rv == 1)
		why = "unknown token";
	else if (rv == 2)
		why = "revoked token";
	else if (strcmp(agent, w->id) != 0)
		why = "a token of another agent";
	memset(&v, 0, sizeof(v));
	v.conn = a->conn;
	if (why != NULL) {
		/* The reason, never the token. */
		log_info("agent %s: relay refused: %s", w->id, why);
		store_audit(sup->store, sup_now(), "agent", w->name, 0,
		    "relay.auth", why);
	} else {
		v.ok = 1;
		v.token_id = (uint64_t)id;
		store_relay_used(sup->store, id, sup_now());
		log_info("agent %s: relay with token %lld accepted", w->id,
		    (long long)id);
	}
	router_send(w, IPC_RELAY_VERDICT, m->req_id, &v);
	return 0;
}

/* Token id of agent is revoked: its relays go now, not at their next hello. */
void
router_relay_revoked(const char *agent, int64_t id)
{
	struct ipc_body_seq b;
	char name[IPC_NAME_MAX + 8];
	struct worker *w;

	snprintf(name, sizeof(name), "agent.%s", agent);
	if ((w = spawn_find(name)) == NULL || w->wire == NULL)
		return;
	b.seq = (uint64_t)id;
	router_send(w, IPC_RELAY_REVOKE, 0, &b);
}
