/*
 * One WebSocket client connection at a time over a bufferevent: DNS
 * (evdns), TCP, TLS for wss:// (peer and host name verified), the
 * RFC 6455 upgrade (wecom_bot/handshake.c) and frames (wslay, which
 * reassembles messages and answers pings).  Shared by the WeCom bot's
 * long connection (wecom_bot/wsc.c) and wxgate-relay's link to wxgated
 * (ctl/relay/link.c); what differs between them is the conf below.
 */
#ifndef WX_NET_WSCLIENT_H
#define WX_NET_WSCLIENT_H

#include <stddef.h>

#include <wslay/wslay.h>

struct event_base;
struct wsclient;

struct wsclient_conf {
	const char	*url;		/* ws:// or wss:// */
	const char	*ca_file;	/* wss: the CA bundle */
	const char	*tag;		/* log prefix, e.g. "wecom acct: " */
	size_t		 msg_max;	/* one message in */
	size_t		 out_max;	/* unsent bytes before giving up */
	long		 open_ms;	/* TCP, TLS and the upgrade together */
	long		 ping_ms;	/* 0: no keepalive of our own */
	long		 idle_ms;	/* with ping_ms: silence that closes */
	int		 nodelay;	/* TCP_NODELAY once connected */
	int		 sandboxed;	/* resolv.conf read in wsclient_new() */
	/* Given to closed() when the owner closed inside text(); NULL: none. */
	const char	*closed_inside;
	/* Messages that are not text (pings are wslay's); may be NULL. */
	void		(*other)(const struct wslay_event_on_msg_recv_arg *);
};

struct wsclient_cb {
	void	(*open)(void);
	void	(*text)(const char *, size_t);
	/* Closed by the peer or an error; not after wsclient_close(). */
	void	(*closed)(const char *why);
};

/* Before the sandbox: the URL, the CA bundle and maybe resolv.conf. */
struct wsclient	*wsclient_new(const struct wsclient_conf *);
int		 wsclient_start(struct wsclient *, struct event_base *,
		    const struct wsclient_cb *);
/* Ends in open() or closed(). */
int		 wsclient_connect(struct wsclient *);
/* Drop the connection now, without a callback. */
void		 wsclient_close(struct wsclient *);
int		 wsclient_send(struct wsclient *, const char *, size_t);

#endif
