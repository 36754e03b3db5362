/*
 * The WebSocket client under the WeCom AI bot's long connection: DNS
 * (evdns, nameservers read before the sandbox), TCP, TLS for wss://
 * (bufferevent_openssl, the CA bundle loaded before the sandbox, the
 * host name checked), the upgrade (handshake.c) and RFC 6455 frames
 * (wslay, which reassembles messages and answers pings).
 *
 * Called by link.c: one connection at a time; wsc_connect() ends in
 * open() or closed(), and a connection that is neither open nor closed
 * after WSC_OPEN_MS is closed.  It never reads a frame's content: text
 * messages go to link.c whole, bounded by WSC_MSG_MAX.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "handshake.h"
#include "log.h"
#include "net/resolv.h"
#include "wecom.h"
#include "xmalloc.h"

/* TCP, TLS and the upgrade together; the SDK's own wait is 10 s. */
#define WSC_OPEN_MS	10000
/* One text message from the server (A.2 allows 1 MiB out; in, less). */
#define WSC_MSG_MAX	WCF_FRAME_MAX
/* Unsent bytes before the connection is given up as stuck. */
#define WSC_OUT_MAX	(4 * 1024 * 1024)
#define WSC_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"

enum wsc_state { WSC_IDLE, WSC_DIALING, WSC_UPGRADING, WSC_OPEN };

static struct {
	struct wsh_url		 url;
	SSL_CTX			*tls;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct net_ns		 ns;	/* read before the sandbox */
	const struct wsc_cb	*cb;
	enum wsc_state		 state;
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ws;
	struct event		*deadline;
	char			 key[WSH_KEY_LEN + 1];
	int			 in_recv;
} wsc;

static void	wsc_event_cb(struct bufferevent *, short, void *);
static void	wsc_read_cb(struct bufferevent *, void *);
static void	wsc_deadline_cb(evutil_socket_t, short, void *);
static void	wsc_fail(const char *);
static void	wsc_upgrade(void);
static void	wsc_frames(void);
static ssize_t	wsc_ws_recv(wslay_event_context_ptr, uint8_t *, size_t, int,
		    void *);
static ssize_t	wsc_ws_send(wslay_event_context_ptr, const uint8_t *, size_t,
		    int, void *);
static int	wsc_ws_mask(wslay_event_context_ptr, uint8_t *, size_t, void *);
static void	wsc_ws_msg(wslay_event_context_ptr,
		    const struct wslay_event_on_msg_recv_arg *, void *);

static const struct wslay_event_callbacks wsc_ws_callbacks = {
	.recv_callback = wsc_ws_recv,
	.send_callback = wsc_ws_send,
	.genmask_callback = wsc_ws_mask,
	.on_msg_recv_callback = wsc_ws_msg,
};

/*
 * Before the sandbox: the URL, the TLS context with the CA bundle in
 * memory, and resolv.conf's nameservers (workers/net/resolv.c).
 */
int
wsc_pre_sandbox(const char *url)
{
	if (wsh_url_parse(url, &wsc.url) == -1) {
		log_warnx("%s: bad URL", __func__);
		return -1;
	}
	if (wsc.url.tls) {
		if ((wsc.tls = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_set_min_proto_version(wsc.tls,
		    TLS1_2_VERSION) != 1 ||
		    SSL_CTX_load_verify_locations(wsc.tls, WSC_CA_FILE,
		    NULL) != 1) {
			log_warnx("%s: TLS context or %s unusable", __func__,
			    WSC_CA_FILE);
			return -1;
		}
		SSL_CTX_set_verify(wsc.tls, SSL_VERIFY_PEER, NULL);
	}
	return net_ns_read(&wsc.ns);
}

int
wsc_post_sandbox(struct event_base *base, const struct wsc_cb *cb)
{
	wsc.base = base;
	wsc.cb = cb;
	if ((wsc.deadline = evtimer_new(base, wsc_deadline_cb, NULL)) == NULL)
		return -1;
	if ((wsc.dns = evdns_base_new(base,
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		return -1;
	(void)net_ns_add(wsc.dns, &wsc.ns);
	return 0;
}

int
wsc_connect(void)
{
	struct timeval tv = { WSC_OPEN_MS / 1000, (WSC_OPEN_MS % 1000) * 1000 };
	SSL *ssl;

	if (wsc.state != WSC_IDLE)
		wsc_close();
	if (wsc.url.tls) {
		if ((ssl = SSL_new(wsc.tls)) == NULL)
			return -1;
		/* SNI and the name the certificate must carry (A.11). */
		if (SSL_set_tlsext_host_name(ssl, wsc.url.host) != 1 ||
		    SSL_set1_host(ssl, wsc.url.host) != 1) {
			SSL_free(ssl);
			return -1;
		}
		wsc.bev = bufferevent_openssl_socket_new(wsc.base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		wsc.bev = bufferevent_socket_new(wsc.base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (wsc.bev == NULL)
		return -1;
	bufferevent_setcb(wsc.bev, wsc_read_cb, NULL, wsc_event_cb, NULL);
	bufferevent_enable(wsc.bev, EV_READ | EV_WRITE);
	wsc.state = WSC_DIALING;
	evtimer_add(wsc.deadline, &tv);
	if (bufferevent_socket_connect_hostname(wsc.bev, wsc.dns, AF_UNSPEC,
	    wsc.url.host, (int)strtol(wsc.url.port, NULL, 10)) == -1) {
		wsc_close();
		return -1;
	}
	return 0;
}

/* Drop the connection now, without a callback. */
void
wsc_close(void)
{
	if (wsc.in_recv) {
		/* Inside wslay: wsc_frames() frees it on the way out. */
		wsc.state = WSC_IDLE;
		return;
	}
	evtimer_del(wsc.deadline);
	if (wsc.ws != NULL)
		wslay_event_context_free(wsc.ws);
	wsc.ws = NULL;
	if (wsc.bev != NULL)
		bufferevent_free(wsc.bev);
	wsc.bev = NULL;
	wsc.state = WSC_IDLE;
}

int
wsc_send(const char *s, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)s,
	    len };

	if (wsc.state != WSC_OPEN || wslay_event_queue_msg(wsc.ws, &m) != 0)
		return -1;
	if (!wsc.in_recv && wslay_event_send(wsc.ws) != 0) {
		wsc_fail("cannot write");
		return -1;
	}
	return 0;
}

static void
wsc_fail(const char *why)
{
	if (wsc.state == WSC_IDLE)
		return;
	wsc_close();
	wsc.cb->closed(why);
}

static void
wsc_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	wsc_fail("no WebSocket within the connect deadline");
}

static void
wsc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	char req[WSH_HOST_MAX + WSH_PATH_MAX + 256];
	unsigned char raw[16];
	unsigned long e;

	(void)arg;
	if (what & BEV_EVENT_CONNECTED) {
		if (RAND_bytes(raw, sizeof(raw)) != 1 ||
		    EVP_EncodeBlock((unsigned char *)wsc.key, raw,
		    sizeof(raw)) != WSH_KEY_LEN ||
		    wsh_request(&wsc.url, wsc.key, req, sizeof(req)) == -1) {
			wsc_fail("cannot build the upgrade request");
			return;
		}
		wsc.state = WSC_UPGRADING;
		bufferevent_write(bev, req, strlen(req));
		return;
	}
	if (what & BEV_EVENT_EOF)
		wsc_fail("closed by the server");
	else if (what & BEV_EVENT_ERROR) {
		if (wsc.url.tls && (e = bufferevent_get_openssl_error(bev))
		    != 0)
			log_warnx("wecom %s: TLS: %s", wb.account,
			    ERR_reason_error_string(e));
		else if (bufferevent_socket_get_dns_error(bev) != 0)
			log_warnx("wecom %s: DNS: %s", wb.account,
			    evutil_gai_strerror(
			    bufferevent_socket_get_dns_error(bev)));
		wsc_fail("connection error");
	}
}

static void
wsc_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)arg;
	if (wsc.state == WSC_UPGRADING)
		wsc_upgrade();
	if (wsc.state == WSC_OPEN)
		wsc_frames();
}

/* The 101 answer; what follows its blank line is already frames. */
static void
wsc_upgrade(void)
{
	struct evbuffer *in = bufferevent_get_input(wsc.bev);
	struct evbuffer_ptr p;
	struct wslay_event_callbacks cbs = wsc_ws_callbacks;
	char head[WSH_HEAD_MAX + 1];
	const char *why;
	size_t len;

	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) > WSH_HEAD_MAX)
			wsc_fail("upgrade answer too long");
		return;
	}
	len = (size_t)p.pos + 4;
	if (len > WSH_HEAD_MAX) {
		wsc_fail("upgrade answer too long");
		return;
	}
	evbuffer_remove(in, head, len);
	head[len] = '\0';
	if (wsh_check(head, len, wsc.key, &why) == -1) {
		log_warnx("wecom %s: upgrade refused: %s", wb.account, why);
		wsc_fail("upgrade refused");
		return;
	}
	if (wslay_event_context_client_init(&wsc.ws, &cbs, NULL) != 0) {
		wsc_fail("wslay");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(wsc.ws, WSC_MSG_MAX);
	evtimer_del(wsc.deadline);
	wsc.state = WSC_OPEN;
	wsc.cb->open();
}

static void
wsc_frames(void)
{
	int rv;

	wsc.in_recv = 1;
	rv = wslay_event_recv(wsc.ws);
	if (rv == 0 && wsc.state == WSC_OPEN)
		rv = wslay_event_send(wsc.ws);
	wsc.in_recv = 0;
	if (wsc.state != WSC_OPEN) {
		/* Closed by a callback (link.c) inside wslay. */
		wsc.state = WSC_OPEN;
		wsc_close();
		return;
	}
	if (rv != 0)
		wsc_fail("bad WebSocket framing or a message too large");
	else if (!wslay_event_want_read(wsc.ws) &&
	    !wslay_event_want_write(wsc.ws))
		wsc_fail("closed by the server (close frame)");
}

static ssize_t
wsc_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	int n;

	(void)flags;
	(void)arg;
	n = evbuffer_remove(bufferevent_get_input(wsc.bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
wsc_ws_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct evbuffer *out = bufferevent_get_output(wsc.bev);

	(void)flags;
	(void)arg;
	if (evbuffer_get_length(out) > WSC_OUT_MAX ||
	    evbuffer_add(out, buf, len) == -1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int
wsc_ws_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *arg)
{
	(void)arg;
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

/* Pings are answered by wslay; only text messages are the protocol. */
static void
wsc_ws_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	(void)ctx;
	(void)arg;
	if (m->opcode == WSLAY_TEXT_FRAME)
		wsc.cb->text((const char *)m->msg, m->msg_length);
	else if (m->opcode == WSLAY_BINARY_FRAME) {
		wb.bad_frames++;
		log_warnx("wecom %s: a binary frame (%zu bytes) dropped; "
		    "%llu bad frames", wb.account, m->msg_length,
		    (unsigned long long)wb.bad_frames);
	}
}
