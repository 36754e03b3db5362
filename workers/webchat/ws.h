/*
 * WebSocket for the webchat worker: the RFC 6455 handshake and a wslay
 * server context reading from and writing to a pair of evbuffers.  No
 * sockets and no IPC, so tests and fuzzers drive it with plain buffers.
 */
#ifndef WX_WEBCHAT_WS_H
#define WX_WEBCHAT_WS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct http_req;
struct ws;

#define WS_ACCEPT_LEN	28		/* base64 of a SHA-1 */
#define WS_OUT_MAX	(1024 * 1024)	/* unsent bytes before we give up */

#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_BAD_DATA	1007
#define WS_CLOSE_POLICY		1008	/* e.g. a frame sent too slowly */
#define WS_CLOSE_TOO_BIG	1009
#define WS_CLOSE_RESTART	1012	/* service restart: come back soon */

struct ws_cb {
	/* One whole text message, checked UTF-8 without NUL. */
	void	(*text)(void *arg, const char *, size_t);
	/* Something to tell the peer with an error frame (rpc_code names). */
	void	(*error)(void *arg, const char *code, const char *message);
};

int		 ws_accept_key(const char *key, size_t len,
		    char out[WS_ACCEPT_LEN + 1]);
int		 ws_handshake_check(const struct http_req *,
		    char accept[WS_ACCEPT_LEN + 1]);
void		 ws_handshake_response(struct evbuffer *, const char *accept);

struct ws	*ws_new(struct evbuffer *in, struct evbuffer *out,
		    size_t max_msg, const struct ws_cb *, void *arg);
void		 ws_free(struct ws *);
int		 ws_read(struct ws *);
int		 ws_send_text(struct ws *, const char *, size_t);
int		 ws_close(struct ws *, uint16_t code);
int		 ws_finished(struct ws *);
int		 ws_partial(struct ws *);
/* No wslay context and no message buffer held: only struct ws. */
int		 ws_idle(const struct ws *);

#endif
