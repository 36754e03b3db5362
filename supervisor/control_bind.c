/*
 * wxgatectl bind and channels: binding invitations (create, list,
 * revoke) and the channel accounts, the file's and the bound ones
 * (list, remove).  Called from control.c's table.
 *
 * An invitation's token goes back once, inside its link, and is then
 * forgotten: the store keeps its SHA-256.  Removing an account is for
 * bound ones only: the file's are the file's to change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>

#include "account.h"
#include "codec.h"
#include "config.h"
#include "control_int.h"
#include "hub.h"
#include "invite.h"
#include "log.h"
#include "store.h"
#include "wire_stream.h"
#include "xmalloc.h"

/* Without --ttl an invitation lives a day; --uses, one binding. */
#define BIND_TTL_DEFAULT	86400
#define BIND_USES_MAX		10000

/* The link a person opens, beside share links' /s/. */
static void
bind_url(char *buf, size_t len, const char *tok)
{
	snprintf(buf, len, "%s/bind/%s", sup->conf->webchat.public_url, tok);
}

int
ctl_bind_create(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_body_bind_create *b = &m->b.bind_create;
	char tok[INVITE_TOKEN_LEN + 1], url[IPC_URL_MAX + 1];
	char tmpl[IPC_NAME_MAX + 1], msg[IPC_MESSAGE_MAX];
	uint8_t hash[INVITE_HASH_LEN];
	int64_t id, now = sup_now();
	uint64_t ttl, uses;

	snprintf(tmpl, sizeof(tmpl), "%.*s", (int)b->tmpl.len, b->tmpl.p);
	ttl = b->ttl_s > 0 ? b->ttl_s : BIND_TTL_DEFAULT;
	uses = b->uses > 0 ? b->uses : 1;
	if (config_template(sup->conf, tmpl) == NULL) {
		snprintf(msg, sizeof(msg), "no template \"%s\" in "
		    "bind_templates", tmpl);
		ctl_result(c, m->req_id, 0, msg);
		return 0;
	}
	if (ttl < sup->conf->bind.ttl_min_s) {
		snprintf(msg, sizeof(msg), "--ttl is shorter than "
		    "bind.ttl_min_s (%u s)", sup->conf->bind.ttl_min_s);
		ctl_result(c, m->req_id, 0, msg);
		return 0;
	}
	if (uses > BIND_USES_MAX) {
		ctl_result(c, m->req_id, 0, "--uses is at most 10000");
		return 0;
	}
	if (invite_token_new(tok, hash) == -1 ||
	    store_invite_create(sup->store, hash, tmpl, now,
	    now + (int64_t)ttl, (int64_t)uses, &id) == -1) {
		explicit_bzero(tok, sizeof(tok));
		ctl_result(c, m->req_id, 0, "cannot create an invitation");
		return 0;
	}
	log_info("operator (uid %d) creates binding invitation %lld "
	    "(template %s, %llu use%s)", (int)c->uid, (long long)id, tmpl,
	    (unsigned long long)uses, uses == 1 ? "" : "s");
	bind_url(url, sizeof(url), tok);
	explicit_bzero(tok, sizeof(tok));
	ctl_result_stored(c, m->req_id, url,
	    "the invitation could not be stored");
	explicit_bzero(url, sizeof(url));
	return 0;
}

static int
ctl_invite_row(const struct store_invite_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_invite_row b;

	b.id = (uint64_t)r->id;
	b.tmpl = ipc_s(r->tmpl);
	ctl_fit(&b.tmpl, IPC_NAME_MAX);
	b.created = r->created > 0 ? (uint64_t)r->created : 0;
	b.expires = r->expires > 0 ? (uint64_t)r->expires : 0;
	b.uses_left = r->uses_left > 0 ? (uint64_t)r->uses_left : 0;
	b.used = r->used > 0 ? (uint64_t)r->used : 0;
	b.revoked = r->revoked > 0 ? (uint64_t)r->revoked : 0;
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_INVITE,
	    cw->req_id, &b);
	return 0;
}

int
ctl_bind_list(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };

	return ctl_walk_end(&cw, store_invite_list(sup->store, ctl_invite_row,
	    &cw));
}

int
ctl_bind_revoke(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_str *id = &m->b.name.name;

	switch (account_invite_revoke(id->p, id->len)) {
	case 0:
		log_info("operator (uid %d) revokes binding invitation %.*s",
		    (int)c->uid, (int)id->len, id->p);
		ctl_result(c, m->req_id, 1, "revoked");
		break;
	case 1:
		ctl_result(c, m->req_id, 0, "no such live invitation");
		break;
	case 2:
		ctl_result(c, m->req_id, 0, "an invitation is named by its "
		    "number (bind list)");
		break;
	default:
		ctl_result(c, m->req_id, 0, "store error");
		break;
	}
	return 0;
}

static void
ctl_channel_put(const struct channel_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_channel_row b;

	b.name = ipc_s(r->name);
	b.kind = ipc_s(r->kind);
	b.source = ipc_s(r->source);
	b.tmpl = ipc_s(r->tmpl);
	b.state = ipc_s(r->state);
	b.owner = ipc_s(r->owner);
	ctl_fit(&b.owner, IPC_PEER_MAX);
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_CHANNEL,
	    cw->req_id, &b);
}

int
ctl_channels(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };

	channel_list(ctl_channel_put, &cw);
	return ctl_walk_end(&cw, 0);
}

int
ctl_channel_remove(struct ctl_client *c, struct ipc_msg *m)
{
	char name[IPC_NAME_MAX + 1], msg[IPC_MESSAGE_MAX];

	snprintf(name, sizeof(name), "%.*s", (int)m->b.name.name.len,
	    m->b.name.name.p);
	if (!account_is(name)) {
		if (hub_pg_leased(name) &&
		    config_channel(sup->conf, name) == NULL)
			snprintf(msg, sizeof(msg), "%s runs on another node "
			    "of the cluster (wxgatectl cluster shows which): "
			    "remove it there", name);
		else if (config_channel(sup->conf, name) != NULL)
			snprintf(msg, sizeof(msg), "%s is in the configuration "
			    "file: remove it there and reload", name);
		else
			snprintf(msg, sizeof(msg), "no channel account %s",
			    name);
		ctl_result(c, m->req_id, 0, msg);
		return 0;
	}
	log_info("operator (uid %d) removes account %s", (int)c->uid, name);
	if (account_remove(name, "removed by the operator") == -1) {
		ctl_result(c, m->req_id, 0, "store error");
		return 0;
	}
	ctl_result(c, m->req_id, 1, "removed; its data is deleted");
	return 0;
}
