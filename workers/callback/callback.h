/*
 * The callback channel worker (kinds wechat_mp and wecom_app, one
 * worker per account): what its files share.  callback.c is the kind
 * (config, frames from the hub), conn.c the HTTP side of the listener
 * the parent bound for the account, req.c what one request means
 * (shared/protocols/wecom.md C.5, C.6), turn.c the messages in flight
 * and their passive replies, seen.c the replay and retry tables,
 * api.c, token.c and push.c the platform's API for late replies (D.1,
 * D.4), download.c for a user's images, voice and videos (D.5), with
 * videourl.c for the URL an Official Account answers for a video.
 */
#ifndef WX_CALLBACK_H
#define WX_CALLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"
#include "wxcrypt.h"
#include "xmlmsg.h"

struct event_base;
struct conn;

/*
 * C.9: a nonce is unique for two hours; a clock check of +-5 min on the
 * timestamp keeps the nonce table's reach to what it remembers.
 */
#define CB_TS_WINDOW_S		300

struct ratelimit;

struct cb_conf {
	char			*account;
	int			 wecom;		/* wecom_app, else wechat_mp */
	int			 plain;		/* OA plain mode */
	char			*id;		/* AppID or CorpID */
	long long		 agent_id;
	char			*token;		/* callback Token */
	struct wxcrypt_key	 key;
	char			*secret;	/* NULL: passive replies only */
	char			*api_url;
	char			*welcome;
	uint64_t		 budget_ms;
	size_t			 body_max;
	long			 timeout_s;
	uint64_t		 media_max;	/* media.max_bytes */
	/* Per address (conn.c): policy.* of the web chat's front door. */
	char			**proxies;	/* trusted_proxies */
	size_t			 nproxies;
	long long		 conns_per_peer;
	long long		 conns_per_proxy;
	struct ratelimit	*rl_addr;
	struct event_base	*base;
	int			 draining;
};

extern struct cb_conf	cb;

/* conn.c */
int	conn_listen(int fd);
void	conn_stop(void);
/* Answer c and close it; body may be NULL for an empty 200. */
void	conn_reply(struct conn *, int status, const char *ctype,
	    const char *body, size_t len);

/* req.c: a complete request (method, query, body) on c. */
void	req_handle(struct conn *, unsigned method, const char *query,
	    const char *body, size_t len);

/* turn.c */
void	turn_init(void);
/* A verified message: answer c now, or hold it for the reply. */
void	turn_message(struct conn *, const struct xmlmsg *);
/* c went away before its answer (the platform gave up, or we stop). */
void	turn_conn_gone(struct conn *);
int	turn_inbound_ack(const struct ipc_msg *);
/* An outbound.message: 1 when it went as a passive reply. */
int	turn_outbound(const struct ipc_body_outbound *);
void	turn_resync(void);
void	turn_stop(void);

/* seen.c: nonces (replays) and what each one carried. */
#define SEEN_OK		0
#define SEEN_REPLAY	-1
int	seen_nonce(const char *nonce, const char *ts, const char *what,
	    size_t len);

/* push.c */
int	push_init(void);
int	push_outbound(const struct ipc_msg *);
void	push_stop(void);

/* download.c: a user's image, voice or video (D.5) into a wk_media. */
struct wk_media;
struct download;
/* why NULL: the part was added. */
typedef void	(*download_fn)(const char *why, void *arg);
struct download *download_start(const char *kind, const char *media_id,
		    struct wk_media *, download_fn, void *arg);
/* The turn went away: fn is not called, the bytes are dropped. */
void	download_cancel(struct download *);

/* token.c: the access token, fetched once for every waiting caller. */
typedef void	(*token_fn)(const char *token, const char *err, void *arg);
void	token_get(token_fn, void *arg);
/* The platform said tok is stale: the next token_get() fetches anew. */
void	token_stale(const char *tok);
void	token_stop(void);

/*
 * api.c: one HTTPS call to the platform, its JSON answer.  ctype is the
 * answer's Content-Type, "" when it had none.
 */
typedef void	(*api_fn)(long status, const char *ctype, const char *body,
		    size_t len, const char *err, void *arg);
/* What a JSON answer of the API may take. */
#define API_ANSWER_MAX	16384
int	api_call(const char *url, const char *json, size_t max, api_fn,
	    void *arg);
/* A GET within ms (> 0) rather than timeout_s: a video_url (D.5). */
int	api_get(const char *url, size_t max, long ms, api_fn, void *arg);
/* errcode and errmsg of an answer; -1 when it is not JSON with one. */
int	api_errcode(const char *body, size_t len, long long *code,
	    char *msg, size_t msglen);

#endif
