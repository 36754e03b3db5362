/*
 * The wechat channel worker: one process per personal-WeChat iLink
 * account.  Shared between its parts:
 *
 *   wechat.c	the kind: config, start-up state, IPC handlers, shutdown
 *   call.c	one iLink HTTP exchange over net/fetch.c
 *   poll.c	the getupdates loop and inbound.message / inbound.ack
 *   send.c	the outbound queue and sendmessage
 *   upload.c	an outbound attachment onto the CDN
 *   budget.c	the messages each context token has carried
 *   inmedia.c	an inbound message's attachments from the CDN
 *   typing.c	"typing..." while the agent answers
 *   login.c	the QR login state machine
 *   ilink.c, ilink_parse.c, ilink_media.c, ilink_cdn.c	the pure
 *		protocol
 *
 * Nothing here touches a file or a thread: it runs in the sandbox.
 */
#ifndef WX_WECHAT_H
#define WX_WECHAT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "ipc_msg.h"

struct event_base;

struct wechat {
	/* From the config slice. */
	char		*account;
	char		*login_url;	/* the fixed login host */
	char		*conf_base;	/* "": none configured */
	char		*bot_agent;
	char		*conf_token;	/* NULL: none configured */
	long		 poll_timeout_ms;
	long		 send_gap_ms;
	long		 timeout_s;
	char		*cdn_url;	/* §3.9's <cdn> */
	uint64_t	 media_max;	/* one message's attachments */

	/* Live state. */
	char		*token;		/* NULL: we must log in */
	char		*base;		/* API base for bot calls */
	char		*bot_id;	/* "" if unknown */
	char		*cursor;	/* last acked cursor or "" */
	int		 draining;
};

extern struct wechat	wc;

/* delivery.fail retry_after_ms while nobody has scanned a QR code. */
#define WECHAT_LOGIN_RETRY_MS	60000

/* One HTTP exchange; freed by call.c once its callback returns. */
struct wcall;
typedef void	(*wcall_fn)(struct wcall *, void *arg);

enum wcall_res {
	WCALL_OK,		/* 2xx; body may be empty */
	WCALL_TIMEOUT,		/* our own deadline passed */
	WCALL_NET,		/* DNS, TCP, TLS, a cut connection */
	WCALL_HTTP4XX,
	WCALL_HTTP5XX,		/* and any other non-2xx */
	WCALL_BIG		/* body over ILINK_BODY_MAX */
};

struct wcall	*wcall_post(const char *base, const char *path,
		    const char *token, char *body, long timeout_ms,
		    wcall_fn, void *arg);
struct wcall	*wcall_get(const char *url, long timeout_ms, wcall_fn,
		    void *arg);
void		 wcall_cancel(struct wcall *);
enum wcall_res	 wcall_result(const struct wcall *);
const char	*wcall_body(const struct wcall *, size_t *);
long		 wcall_status(const struct wcall *);
const char	*wcall_error(const struct wcall *);

/* wechat.c */
void		 wechat_set_token(const char *);
void		 wechat_set_base(const char *, int from_net);
void		 wechat_login_needed(void);
void		 wechat_logged_in(void);
void		 wechat_send_login_scan(const char *url);
uint32_t	 wechat_random(void);
long		 wechat_backoff_ms(int *failures);

/* poll.c */
int		 poll_init(struct event_base *);
void		 poll_start(void);
void		 poll_stop(void);
void		 poll_forget_cursor(void);
int		 poll_inbound_ack(const struct ipc_msg *);
void		 poll_resync(void);

/* inmedia.c */
struct inmedia;
struct ilink_mlist;
struct wk_media;
typedef void	(*inmedia_fn)(void *arg);
struct inmedia	*inmedia_new(const struct ilink_mlist *, const char *msg_id);
int		 inmedia_fetch(struct inmedia *, inmedia_fn, void *arg);
int		 inmedia_wants(const struct inmedia *);
uint64_t	 inmedia_held(void);
struct wk_media	*inmedia_parts(struct inmedia *);
const char	*inmedia_notes(const struct inmedia *);
void		 inmedia_keep(struct inmedia *);
void		 inmedia_free(struct inmedia *);

/* send.c */
int		 send_init(struct event_base *);
int		 send_outbound(const struct ipc_msg *);
int		 send_outbound_file(const struct ipc_msg *);
void		 send_kick(void);
void		 send_stop(void);
void		 send_fail_all(const char *why, uint64_t retry_after_ms);

/* upload.c */
struct outq_item;
struct ilink_up;
enum upload_res {
	UPLOAD_OK,
	UPLOAD_RETRY,		/* not sent: try again later */
	UPLOAD_REFUSED,		/* -2 (§7.2): later, under a new key */
	UPLOAD_REJECTED,	/* for good: too big, refused, off-host */
	UPLOAD_RELOGIN		/* the token is dead (-14) */
};
typedef void	(*upload_fn)(enum upload_res, const char *why, void *arg);
int		 upload_start(struct outq_item *, const char *to, upload_fn,
		    void *arg, enum upload_res *, const char **why);
const struct ilink_up *upload_info(void);
const char	*upload_param(void);
void		 upload_clear(void);
void		 upload_cancel(void);

/* budget.c: §7.2, bot messages per user message (context token). */
#define WECHAT_TURN_MAX	10
int		 budget_left(const char *peer, const char *ctx,
		    uint64_t spent);
void		 budget_note(const char *peer, const char *ctx);

/* typing.c */
int		 typing_init(struct event_base *);
void		 typing_start(const char *peer, const char *ctx);
void		 typing_stop(const char *peer);
void		 typing_clear(void);

/* login.c */
int		 login_init(struct event_base *);
void		 login_start(void);
void		 login_stop(void);
int		 login_running(void);
int		 login_code(const struct ipc_msg *);
void		 login_resync(void);

#endif
