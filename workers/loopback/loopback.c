/*
 * A test-only channel kind (built with --enable-test-hooks only): a
 * platform account whose "platform" is the test itself.  `wxgatectl
 * test loopback.NAME say:PEER:TEXT` makes a user PEER write TEXT; each
 * outbound.message is logged as "loopback NAME: to PEER: TEXT" and
 * acknowledged.  It proves the channel interface: adding a kind is this
 * folder, its row in worker.c's kind table and in the channel types of
 * config_channel.c, and nothing in the router or channel.c.
 */
#ifdef WX_TEST_HOOKS
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

static char	*lb_account;
static uint64_t	 lb_next = 1;

static int	lb_pre_sandbox(json_t *);
static int	lb_inbound_ack(const struct ipc_msg *);
static int	lb_outbound(const struct ipc_msg *);
static int	lb_test(struct ipc_str);
static const char *lb_profile(void);

static const struct wk_handler lb_handlers[] = {
	{ IPC_INBOUND_ACK,	lb_inbound_ack },
	{ IPC_OUTBOUND,		lb_outbound },
	{ 0,			NULL }
};

const struct wk_kind wk_loopback = {
	"loopback", ROLE_CHANNEL, WK_F_NONET,
	lb_pre_sandbox, NULL, NULL, NULL, lb_handlers, lb_profile, lb_test
};

static int
lb_pre_sandbox(json_t *conf)
{
	const char *a = wk_conf_str(conf, "account", NULL);

	if (a == NULL || *a == '\0')
		return -1;
	lb_account = xstrdup(a);
	return 0;
}

/* It dials nothing: the agent's allowlist (the event loop) is enough. */
static const char *
lb_profile(void)
{
	return "agent";
}

static int
lb_inbound_ack(const struct ipc_msg *m)
{
	log_info("loopback %s: inbound %llu: %.*s", lb_account,
	    (unsigned long long)m->req_id, (int)m->b.inbound_ack.status.len,
	    m->b.inbound_ack.status.p);
	return 0;
}

static int
lb_outbound(const struct ipc_msg *m)
{
	const struct ipc_body_outbound *o = &m->b.outbound;
	struct ipc_body_delivery d = { o->id };

	log_info("loopback %s: to %.*s: %.*s", lb_account, (int)o->peer.len,
	    o->peer.p, (int)o->text.len, o->text.p);
	return worker_send(IPC_DELIVERY_ACK, 0, &d);
}

/* "say:PEER:TEXT": PEER writes TEXT to the account. */
static int
lb_test(struct ipc_str a)
{
	struct ipc_body_inbound in;
	const char *colon;
	char id[32];

	if (a.len < 5 || memcmp(a.p, "say:", 4) != 0 ||
	    (colon = memchr(a.p + 4, ':', a.len - 4)) == NULL)
		return -1;
	memset(&in, 0, sizeof(in));
	in.peer.p = a.p + 4;
	in.peer.len = (size_t)(colon - in.peer.p);
	in.text.p = colon + 1;
	in.text.len = a.len - (size_t)(colon + 1 - a.p);
	snprintf(id, sizeof(id), "lb-%llu", (unsigned long long)lb_next);
	in.msg_id = ipc_s(id);
	in.group = IPC_S("");
	in.reply_ctx = IPC_S("");
	return worker_send(IPC_INBOUND, lb_next++, &in) == -1 ? -1 : 0;
}
#endif
