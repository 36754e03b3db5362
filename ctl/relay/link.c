/*
 * wxgate-relay's connection to wxgated: DNS (evdns, the system's
 * resolv.conf), TCP, TLS for wss:// (bufferevent_openssl, peer and host
 * name verified against ca_file), the RFC 6455 upgrade (the WeCom bot's
 * pure handshake.c) and frames (wslay, which answers pings).  One
 * connection at a time; link_connect() ends in open() or closed().
 *
 * Bounds: LK_OPEN_MS to be upgraded, LK_MSG_MAX a message, LK_OUT_MAX
 * unsent bytes; a connection silent for LK_IDLE_MS (the server pings
 * every 15 s) is closed, and we ping it every LK_PING_MS ourselves.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

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
#include <wslay/wslay.h>

#include "clock.h"
#include "log.h"
#include "relay.h"
#include "wecom_bot/handshake.h"
#include "xmalloc.h"

#define LK_OPEN_MS	10000
#define LK_MSG_MAX	(1024 * 1024)	/* a request: turns of a conversation */
#define LK_OUT_MAX	(4 * 1024 * 1024)
#define LK_PING_MS	20000
#define LK_IDLE_MS	60000

enum lk_state { LK_IDLE, LK_DIALING, LK_UPGRADING, LK_OPEN };

static struct {
	struct wsh_url		 url;
	SSL_CTX			*tls;
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct link_cb	*cb;
	enum lk_state		 state;
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ws;
	struct event		*timer;
	char			 key[WSH_KEY_LEN + 1];
	int			 in_recv;
	uint64_t		 last_rx;
} lk;

static void	lk_event_cb(struct bufferevent *, short, void *);
static void	lk_read_cb(struct bufferevent *, void *);
static void	lk_timer_cb(evutil_socket_t, short, void *);
static void	lk_fail(const char *);
static void	lk_upgrade(void);
static void	lk_frames(void);
static ssize_t	lk_ws_recv(wslay_event_context_ptr, uint8_t *, size_t, int,
		    void *);
static ssize_t	lk_ws_send(wslay_event_context_ptr, const uint8_t *, size_t,
		    int, void *);
static int	lk_ws_mask(wslay_event_context_ptr, uint8_t *, size_t,
		    void *);
static void	lk_ws_msg(wslay_event_context_ptr,
		    const struct wslay_event_on_msg_recv_arg *, void *);

static const struct wslay_event_callbacks lk_ws_callbacks = {
	.recv_callback = lk_ws_recv,
	.send_callback = lk_ws_send,
	.genmask_callback = lk_ws_mask,
	.on_msg_recv_callback = lk_ws_msg,
};

static void
lk_arm(long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(lk.timer, &tv);
}

int
link_init(struct event_base *base, const struct rconf *c,
    const struct link_cb *cb)
{
	if (wsh_url_parse(c->server, &lk.url) == -1) {
		log_warnx("server %s: not a ws:// or wss:// URL", c->server);
		return -1;
	}
	if (lk.url.tls) {
		if ((lk.tls = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_set_min_proto_version(lk.tls,
		    TLS1_2_VERSION) != 1 ||
		    SSL_CTX_load_verify_locations(lk.tls, c->ca_file,
		    NULL) != 1) {
			log_warnx("TLS context or CA file %s unusable",
			    c->ca_file);
			return -1;
		}
		SSL_CTX_set_verify(lk.tls, SSL_VERIFY_PEER, NULL);
	}
	lk.base = base;
	lk.cb = cb;
	if ((lk.timer = evtimer_new(base, lk_timer_cb, NULL)) == NULL ||
	    (lk.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		return -1;
	return 0;
}

int
link_connect(void)
{
	SSL *ssl;

	if (lk.state != LK_IDLE)
		link_close();
	if (lk.url.tls) {
		if ((ssl = SSL_new(lk.tls)) == NULL)
			return -1;
		/* SNI, and the name the certificate must carry. */
		if (SSL_set_tlsext_host_name(ssl, lk.url.host) != 1 ||
		    SSL_set1_host(ssl, lk.url.host) != 1) {
			SSL_free(ssl);
			return -1;
		}
		lk.bev = bufferevent_openssl_socket_new(lk.base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		lk.bev = bufferevent_socket_new(lk.base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (lk.bev == NULL)
		return -1;
	bufferevent_setcb(lk.bev, lk_read_cb, NULL, lk_event_cb, NULL);
	bufferevent_enable(lk.bev, EV_READ | EV_WRITE);
	lk.state = LK_DIALING;
	lk_arm(LK_OPEN_MS);
	if (bufferevent_socket_connect_hostname(lk.bev, lk.dns, AF_UNSPEC,
	    lk.url.host, (int)strtol(lk.url.port, NULL, 10)) == -1) {
		link_close();
		return -1;
	}
	return 0;
}

/* Drop the connection now, without a callback. */
void
link_close(void)
{
	if (lk.in_recv) {
		/* Inside wslay: lk_frames() frees it on the way out. */
		lk.state = LK_IDLE;
		return;
	}
	evtimer_del(lk.timer);
	if (lk.ws != NULL)
		wslay_event_context_free(lk.ws);
	lk.ws = NULL;
	if (lk.bev != NULL)
		bufferevent_free(lk.bev);
	lk.bev = NULL;
	lk.state = LK_IDLE;
}

int
link_send(const char *s, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)s,
	    len };

	if (lk.state != LK_OPEN || wslay_event_queue_msg(lk.ws, &m) != 0)
		return -1;
	if (!lk.in_recv && wslay_event_send(lk.ws) != 0) {
		lk_fail("cannot write");
		return -1;
	}
	return 0;
}

static void
lk_fail(const char *why)
{
	if (lk.state == LK_IDLE)
		return;
	link_close();
	lk.cb->closed(why);
}

/* Before open: the deadline.  After: keepalive. */
static void
lk_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct wslay_event_msg m = { WSLAY_PING, NULL, 0 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (lk.state != LK_OPEN) {
		lk_fail("no WebSocket within the connect deadline");
		return;
	}
	if (clock_mono_ms() - lk.last_rx > LK_IDLE_MS) {
		lk_fail("the server went silent");
		return;
	}
	if (wslay_event_queue_msg(lk.ws, &m) != 0 ||
	    wslay_event_send(lk.ws) != 0) {
		lk_fail("cannot write");
		return;
	}
	lk_arm(LK_PING_MS);
}

static void
lk_event_cb(struct bufferevent *bev, short what, void *arg)
{
	char req[WSH_HOST_MAX + WSH_PATH_MAX + 256];
	unsigned char raw[16];
	unsigned long e;
	int one = 1;

	(void)arg;
	if (what & BEV_EVENT_CONNECTED) {
		/* Small frames each way: no Nagle wait on any of them. */
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
		if (RAND_bytes(raw, sizeof(raw)) != 1 ||
		    EVP_EncodeBlock((unsigned char *)lk.key, raw,
		    sizeof(raw)) != WSH_KEY_LEN ||
		    wsh_request(&lk.url, lk.key, req, sizeof(req)) == -1) {
			lk_fail("cannot build the upgrade request");
			return;
		}
		lk.state = LK_UPGRADING;
		bufferevent_write(bev, req, strlen(req));
		return;
	}
	if (what & BEV_EVENT_EOF)
		lk_fail("closed by the server");
	else if (what & BEV_EVENT_ERROR) {
		if (lk.url.tls && (e = bufferevent_get_openssl_error(bev)) != 0)
			log_warnx("TLS: %s", ERR_reason_error_string(e));
		else if (bufferevent_socket_get_dns_error(bev) != 0)
			log_warnx("DNS: %s", evutil_gai_strerror(
			    bufferevent_socket_get_dns_error(bev)));
		lk_fail("connection error");
	}
}

static void
lk_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)arg;
	lk.last_rx = clock_mono_ms();
	if (lk.state == LK_UPGRADING)
		lk_upgrade();
	if (lk.state == LK_OPEN)
		lk_frames();
}

/* The 101 answer; what follows its blank line is already frames. */
static void
lk_upgrade(void)
{
	struct evbuffer *in = bufferevent_get_input(lk.bev);
	struct evbuffer_ptr p;
	char head[WSH_HEAD_MAX + 1];
	const char *why;
	size_t len;

	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) > WSH_HEAD_MAX)
			lk_fail("upgrade answer too long");
		return;
	}
	len = (size_t)p.pos + 4;
	if (len > WSH_HEAD_MAX) {
		lk_fail("upgrade answer too long");
		return;
	}
	evbuffer_remove(in, head, len);
	head[len] = '\0';
	if (wsh_check(head, len, lk.key, &why) == -1) {
		log_warnx("upgrade refused: %s", why);
		lk_fail("upgrade refused");
		return;
	}
	if (wslay_event_context_client_init(&lk.ws, &lk_ws_callbacks,
	    NULL) != 0) {
		lk_fail("wslay");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(lk.ws, LK_MSG_MAX);
	evtimer_del(lk.timer);
	lk.state = LK_OPEN;
	lk_arm(LK_PING_MS);
	lk.cb->open();
}

static void
lk_frames(void)
{
	int rv;

	lk.in_recv = 1;
	rv = wslay_event_recv(lk.ws);
	if (rv == 0 && lk.state == LK_OPEN)
		rv = wslay_event_send(lk.ws);
	lk.in_recv = 0;
	if (lk.state != LK_OPEN) {
		/* Closed by bridge.c inside wslay. */
		lk.state = LK_OPEN;
		link_close();
		lk.cb->closed("a frame that is not the protocol");
		return;
	}
	if (rv != 0)
		lk_fail("bad WebSocket framing or a message too large");
	else if (!wslay_event_want_read(lk.ws) &&
	    !wslay_event_want_write(lk.ws))
		lk_fail("closed by the server (close frame)");
}

static ssize_t
lk_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	int n;

	(void)flags;
	(void)arg;
	n = evbuffer_remove(bufferevent_get_input(lk.bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
lk_ws_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct evbuffer *out = bufferevent_get_output(lk.bev);

	(void)flags;
	(void)arg;
	if (evbuffer_get_length(out) > LK_OUT_MAX ||
	    evbuffer_add(out, buf, len) == -1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int
lk_ws_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *arg)
{
	(void)arg;
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void
lk_ws_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	(void)ctx;
	(void)arg;
	if (m->opcode == WSLAY_TEXT_FRAME)
		lk.cb->text((const char *)m->msg, m->msg_length);
	else if (m->opcode == WSLAY_CONNECTION_CLOSE)
		log_info("the server closed the connection (%u)",
		    (unsigned)m->status_code);
}
