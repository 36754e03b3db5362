/*
 * The WebSocket client core (wsclient.h): one connection's life from
 * the dial to the close, with a single timer that is the connect
 * deadline until the upgrade and the keepalive after it.  It never
 * reads a message's content: text goes to the owner whole, bounded by
 * msg_max.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdint.h>
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

#include "clock.h"
#include "log.h"
#include "net/resolv.h"
#include "net/wsclient.h"
#include "wecom_bot/handshake.h"
#include "xmalloc.h"

enum wsclient_state { WS_IDLE, WS_DIALING, WS_UPGRADING, WS_OPEN };

struct wsclient {
	struct wsclient_conf	 conf;
	char			*tag;
	struct wsh_url		 url;
	SSL_CTX			*tls;
	struct net_ns		 ns;	/* sandboxed: read before the sandbox */
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct wsclient_cb *cb;
	enum wsclient_state	 state;
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ws;
	struct event		*timer;
	char			 key[WSH_KEY_LEN + 1];
	int			 in_recv;
	uint64_t		 last_rx;
};

static void	ws_event_cb(struct bufferevent *, short, void *);
static void	ws_read_cb(struct bufferevent *, void *);
static void	ws_timer_cb(evutil_socket_t, short, void *);
static void	ws_fail(struct wsclient *, const char *);
static void	ws_upgrade(struct wsclient *);
static void	ws_frames(struct wsclient *);
static ssize_t	ws_recv(wslay_event_context_ptr, uint8_t *, size_t, int,
		    void *);
static ssize_t	ws_send(wslay_event_context_ptr, const uint8_t *, size_t,
		    int, void *);
static int	ws_mask(wslay_event_context_ptr, uint8_t *, size_t, void *);
static void	ws_msg(wslay_event_context_ptr,
		    const struct wslay_event_on_msg_recv_arg *, void *);

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv,
	.send_callback = ws_send,
	.genmask_callback = ws_mask,
	.on_msg_recv_callback = ws_msg,
};

static void
ws_arm(struct wsclient *c, long ms)
{
	struct timeval tv = clock_tv(ms);

	evtimer_add(c->timer, &tv);
}

/* Nothing here needs the network: a sandboxed worker calls it first. */
struct wsclient *
wsclient_new(const struct wsclient_conf *conf)
{
	struct wsclient *c;
	const char *tag = conf->tag != NULL ? conf->tag : "";

	c = xcalloc(1, sizeof(*c));
	c->conf = *conf;
	c->tag = xstrdup(tag);
	if (wsh_url_parse(conf->url, &c->url) == -1) {
		log_warnx("%s%s: not a ws:// or wss:// URL", tag, conf->url);
		goto bad;
	}
	if (c->url.tls) {
		if ((c->tls = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_set_min_proto_version(c->tls,
		    TLS1_2_VERSION) != 1 ||
		    SSL_CTX_load_verify_locations(c->tls, conf->ca_file,
		    NULL) != 1) {
			log_warnx("%sTLS context or CA file %s unusable", tag,
			    conf->ca_file);
			goto bad;
		}
		SSL_CTX_set_verify(c->tls, SSL_VERIFY_PEER, NULL);
	}
	if (conf->sandboxed && net_ns_read(&c->ns) == -1)
		goto bad;
	return c;
 bad:
	if (c->tls != NULL)
		SSL_CTX_free(c->tls);
	free(c->tag);
	free(c);
	return NULL;
}

int
wsclient_start(struct wsclient *c, struct event_base *base,
    const struct wsclient_cb *cb)
{
	c->base = base;
	c->cb = cb;
	if ((c->timer = evtimer_new(base, ws_timer_cb, c)) == NULL)
		return -1;
	/* Sandboxed, resolv.conf is gone: the servers read before it. */
	if ((c->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE |
	    (c->conf.sandboxed ? 0 : EVDNS_BASE_INITIALIZE_NAMESERVERS))) ==
	    NULL)
		return -1;
	if (c->conf.sandboxed)
		(void)net_ns_add(c->dns, &c->ns);
	return 0;
}

int
wsclient_connect(struct wsclient *c)
{
	SSL *ssl;

	if (c->state != WS_IDLE)
		wsclient_close(c);
	if (c->url.tls) {
		if ((ssl = SSL_new(c->tls)) == NULL)
			return -1;
		/* SNI, and the name the certificate must carry. */
		if (SSL_set_tlsext_host_name(ssl, c->url.host) != 1 ||
		    SSL_set1_host(ssl, c->url.host) != 1) {
			SSL_free(ssl);
			return -1;
		}
		c->bev = bufferevent_openssl_socket_new(c->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		c->bev = bufferevent_socket_new(c->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return -1;
	bufferevent_setcb(c->bev, ws_read_cb, NULL, ws_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = WS_DIALING;
	ws_arm(c, c->conf.open_ms);
	if (bufferevent_socket_connect_hostname(c->bev, c->dns, AF_UNSPEC,
	    c->url.host, (int)strtol(c->url.port, NULL, 10)) == -1) {
		wsclient_close(c);
		return -1;
	}
	return 0;
}

void
wsclient_close(struct wsclient *c)
{
	if (c->in_recv) {
		/* Inside wslay: ws_frames() frees it on the way out. */
		c->state = WS_IDLE;
		return;
	}
	evtimer_del(c->timer);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->state = WS_IDLE;
}

int
wsclient_send(struct wsclient *c, const char *s, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)s,
	    len };

	if (c->state != WS_OPEN || wslay_event_queue_msg(c->ws, &m) != 0)
		return -1;
	/* Inside wslay, ws_frames() sends it on the way out. */
	if (!c->in_recv && wslay_event_send(c->ws) != 0) {
		ws_fail(c, "cannot write");
		return -1;
	}
	return 0;
}

static void
ws_fail(struct wsclient *c, const char *why)
{
	if (c->state == WS_IDLE)
		return;
	wsclient_close(c);
	c->cb->closed(why);
}

/* Before open: the deadline.  After: keepalive, if the conf asks. */
static void
ws_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct wsclient *c = arg;
	struct wslay_event_msg m = { WSLAY_PING, NULL, 0 };

	(void)fd;
	(void)ev;
	if (c->state != WS_OPEN) {
		ws_fail(c, "no WebSocket within the connect deadline");
		return;
	}
	if (clock_mono_ms() - c->last_rx > (uint64_t)c->conf.idle_ms) {
		ws_fail(c, "the server went silent");
		return;
	}
	if (wslay_event_queue_msg(c->ws, &m) != 0 ||
	    wslay_event_send(c->ws) != 0) {
		ws_fail(c, "cannot write");
		return;
	}
	ws_arm(c, c->conf.ping_ms);
}

static void
ws_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct wsclient *c = arg;
	char req[WSH_HOST_MAX + WSH_PATH_MAX + 256];
	unsigned char raw[16];
	unsigned long e;
	int one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		/* Small frames each way: no Nagle wait on any of them. */
		if (c->conf.nodelay)
			(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
			    TCP_NODELAY, &one, sizeof(one));
		if (RAND_bytes(raw, sizeof(raw)) != 1 ||
		    EVP_EncodeBlock((unsigned char *)c->key, raw,
		    sizeof(raw)) != WSH_KEY_LEN ||
		    wsh_request(&c->url, c->key, req, sizeof(req)) == -1) {
			ws_fail(c, "cannot build the upgrade request");
			return;
		}
		c->state = WS_UPGRADING;
		bufferevent_write(bev, req, strlen(req));
		return;
	}
	if (what & BEV_EVENT_EOF)
		ws_fail(c, "closed by the server");
	else if (what & BEV_EVENT_ERROR) {
		if (c->url.tls && (e = bufferevent_get_openssl_error(bev)) != 0)
			log_warnx("%sTLS: %s", c->tag,
			    ERR_reason_error_string(e));
		else if (bufferevent_socket_get_dns_error(bev) != 0)
			log_warnx("%sDNS: %s", c->tag, evutil_gai_strerror(
			    bufferevent_socket_get_dns_error(bev)));
		ws_fail(c, "connection error");
	}
}

static void
ws_read_cb(struct bufferevent *bev, void *arg)
{
	struct wsclient *c = arg;

	(void)bev;
	c->last_rx = clock_mono_ms();
	if (c->state == WS_UPGRADING)
		ws_upgrade(c);
	if (c->state == WS_OPEN)
		ws_frames(c);
}

/* The 101 answer; what follows its blank line is already frames. */
static void
ws_upgrade(struct wsclient *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr p;
	char head[WSH_HEAD_MAX + 1];
	const char *why;
	size_t len;

	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) > WSH_HEAD_MAX)
			ws_fail(c, "upgrade answer too long");
		return;
	}
	len = (size_t)p.pos + 4;
	if (len > WSH_HEAD_MAX) {
		ws_fail(c, "upgrade answer too long");
		return;
	}
	evbuffer_remove(in, head, len);
	head[len] = '\0';
	if (wsh_check(head, len, c->key, &why) == -1) {
		log_warnx("%supgrade refused: %s", c->tag, why);
		ws_fail(c, "upgrade refused");
		return;
	}
	if (wslay_event_context_client_init(&c->ws, &ws_callbacks, c) != 0) {
		ws_fail(c, "wslay");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, c->conf.msg_max);
	evtimer_del(c->timer);
	c->state = WS_OPEN;
	if (c->conf.ping_ms > 0)
		ws_arm(c, c->conf.ping_ms);
	c->cb->open();
}

static void
ws_frames(struct wsclient *c)
{
	int rv;

	c->in_recv = 1;
	rv = wslay_event_recv(c->ws);
	if (rv == 0 && c->state == WS_OPEN)
		rv = wslay_event_send(c->ws);
	c->in_recv = 0;
	if (c->state != WS_OPEN) {
		/* Closed by the owner inside wslay. */
		c->state = WS_OPEN;
		wsclient_close(c);
		if (c->conf.closed_inside != NULL)
			c->cb->closed(c->conf.closed_inside);
		return;
	}
	if (rv != 0)
		ws_fail(c, "bad WebSocket framing or a message too large");
	else if (!wslay_event_want_read(c->ws) &&
	    !wslay_event_want_write(c->ws))
		ws_fail(c, "closed by the server (close frame)");
}

static ssize_t
ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *arg)
{
	struct wsclient *c = arg;
	int n;

	(void)flags;
	n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

/* Bounded: a peer that stops reading cannot make us buffer forever. */
static ssize_t
ws_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct wsclient *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	(void)flags;
	if (evbuffer_get_length(out) > c->conf.out_max ||
	    evbuffer_add(out, buf, len) == -1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* A client's frames are masked with unpredictable keys (RFC 6455 5.3). */
static int
ws_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

/* Pings are answered by wslay; text is the owner's protocol. */
static void
ws_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct wsclient *c = arg;

	(void)ctx;
	if (m->opcode == WSLAY_TEXT_FRAME)
		c->cb->text((const char *)m->msg, m->msg_length);
	else if (c->conf.other != NULL)
		c->conf.other(m);
}
