/*
 * wxgate-relay's connection to wxgated: the shared WebSocket client
 * (workers/net/wsclient.c) with the system's resolv.conf, ca_file for
 * wss:// and a keepalive of our own.  One connection at a time;
 * link_connect() ends in open() or closed().
 *
 * Bounds: LK_OPEN_MS to be upgraded, LK_MSG_MAX a message, LK_OUT_MAX
 * unsent bytes; a connection silent for LK_IDLE_MS (the server pings
 * every 15 s) is closed, and we ping it every LK_PING_MS ourselves.
 */
#include "log.h"
#include "net/wsclient.h"
#include "relay.h"

#define LK_OPEN_MS	10000
#define LK_MSG_MAX	(1024 * 1024)	/* a request: turns of a conversation */
#define LK_OUT_MAX	(4 * 1024 * 1024)
#define LK_PING_MS	20000
#define LK_IDLE_MS	60000

static struct wsclient	*lk;

static void
lk_other(const struct wslay_event_on_msg_recv_arg *m)
{
	if (m->opcode == WSLAY_CONNECTION_CLOSE)
		log_info("the server closed the connection (%u)",
		    (unsigned)m->status_code);
}

int
link_init(struct event_base *base, const struct rconf *c,
    const struct wsclient_cb *cb)
{
	struct wsclient_conf wc = {
		.url = c->server,
		.ca_file = c->ca_file,
		.msg_max = LK_MSG_MAX,
		.out_max = LK_OUT_MAX,
		.open_ms = LK_OPEN_MS,
		.ping_ms = LK_PING_MS,
		.idle_ms = LK_IDLE_MS,
		/* Small frames each way: no Nagle wait on any of them. */
		.nodelay = 1,
		/* bridge.c closes on a frame it cannot take. */
		.closed_inside = "a frame that is not the protocol",
		.other = lk_other,
	};

	if ((lk = wsclient_new(&wc)) == NULL)
		return -1;
	return wsclient_start(lk, base, cb);
}

int
link_connect(void)
{
	return wsclient_connect(lk);
}

/* Drop the connection now, without a callback. */
void
link_close(void)
{
	wsclient_close(lk);
}

int
link_send(const char *s, size_t len)
{
	return wsclient_send(lk, s, len);
}
