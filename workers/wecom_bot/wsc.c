/*
 * The WebSocket client under the WeCom AI bot's long connection: the
 * shared client (workers/net/wsclient.c) with WeCom's bounds, the
 * system CA bundle and resolv.conf read before the sandbox.
 *
 * Called by link.c: one connection at a time; wsc_connect() ends in
 * open() or closed(), and a connection that is neither open nor closed
 * after WSC_OPEN_MS is closed.  Text messages go to link.c whole,
 * bounded by WSC_MSG_MAX.
 */
#include <stdio.h>

#include "log.h"
#include "net/wsclient.h"
#include "wecom.h"

/* TCP, TLS and the upgrade together; the SDK's own wait is 10 s. */
#define WSC_OPEN_MS	10000
/* One text message from the server (A.2 allows 1 MiB out; in, less). */
#define WSC_MSG_MAX	WCF_FRAME_MAX
/* Unsent bytes before the connection is given up as stuck. */
#define WSC_OUT_MAX	(4 * 1024 * 1024)
#define WSC_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"

static struct wsclient	*wsc;

/* Only text messages are the protocol: a binary one is counted. */
static void
wsc_other(const struct wslay_event_on_msg_recv_arg *m)
{
	if (m->opcode != WSLAY_BINARY_FRAME)
		return;
	wb.bad_frames++;
	log_warnx("wecom %s: a binary frame (%zu bytes) dropped; "
	    "%llu bad frames", wb.account, m->msg_length,
	    (unsigned long long)wb.bad_frames);
}

int
wsc_pre_sandbox(const char *url)
{
	char tag[256];
	struct wsclient_conf c = {
		.url = url,
		.ca_file = WSC_CA_FILE,
		.tag = tag,
		.msg_max = WSC_MSG_MAX,
		.out_max = WSC_OUT_MAX,
		.open_ms = WSC_OPEN_MS,
		.sandboxed = 1,
		.other = wsc_other,
	};

	(void)snprintf(tag, sizeof(tag), "wecom %s: ", wb.account);
	return (wsc = wsclient_new(&c)) == NULL ? -1 : 0;
}

int
wsc_post_sandbox(struct event_base *base, const struct wsclient_cb *cb)
{
	return wsclient_start(wsc, base, cb);
}

int
wsc_connect(void)
{
	return wsclient_connect(wsc);
}

void
wsc_close(void)
{
	wsclient_close(wsc);
}

int
wsc_send(const char *s, size_t len)
{
	return wsclient_send(wsc, s, len);
}
