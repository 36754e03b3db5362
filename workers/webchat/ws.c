/*
 * WebSocket server side: the RFC 6455 opening handshake and the glue
 * between wslay and one connection's input and output evbuffers.
 *
 * webchat.c calls ws_read() when input arrives and ws_send_text() for
 * replies and events; ws.c calls back with whole text messages and with
 * errors to report.  It must never touch a socket, an event or the IPC
 * channel, so it runs unchanged under cmocka and libFuzzer.
 *
 * wslay runs in no-buffering mode and this file assembles data messages
 * itself, for two reasons: the size limit is checked on each frame header
 * before any payload is stored, and a too_large or bad_utf8 error frame
 * can be sent before the close, which wslay's own checks do not allow.
 *
 * An idle WebSocket holds no wslay context: one carries two 4 KiB
 * buffers (its frame reader's input, its writer's output), which at ten
 * thousand idle pages would be most of the worker.  A context is made
 * when bytes arrive or a message is to be sent, and freed (ws_release())
 * once no frame is half read, no fragmented message is being assembled,
 * nothing is queued and no close has begun, so there is no state of
 * wslay's left to lose.  This was chosen over a frame reader of our own,
 * which could keep a header-sized state while idle: wslay stays the one
 * parser of frames (UTF-8 checks, control frames, masking), and the price
 * is an allocation pair per burst of frames, small next to its reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <http_parser.h>
#include <wslay/wslay.h>

#include "b64.h"
#include "codec.h"
#include "http.h"
#include "sha.h"
#include "ws.h"
#include "xmalloc.h"

/* RFC 6455 section 1.3: the GUID appended to Sec-WebSocket-Key. */
#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN	24	/* base64 of 16 random bytes */
/*
 * In no-buffering mode wslay applies its limit per frame and before our
 * frame-start callback runs, so at max_msg it would close 1009 without
 * the too_large frame.  It gets a backstop far above any max_msg; the
 * real limit is ws_frame_start()'s, on the whole message.
 */
#define WS_FRAME_BACKSTOP	((uint64_t)1 << 32)

struct ws {
	wslay_event_context_ptr	 ctx;
	struct evbuffer		*in;
	struct evbuffer		*out;
	const struct ws_cb	*cb;
	void			*arg;
	size_t			 max_msg;
	uint8_t			 op;		/* data message in progress */
	int			 ctrl;		/* current frame is control */
	int			 in_frame;	/* inside a data frame */
	int			 fin;		/* it ends its message */
	size_t			 len;		/* message bytes so far */
	size_t			 frame_end;	/* len at the frame's end */
	char			*buf;
	size_t			 cap;
	int			 failed;	/* our close is queued */
	int			 in_recv;	/* inside wslay_event_recv */
	int			 raw_ok;	/* error frame bypasses wslay */
	uint64_t		 fed;		/* bytes given to wslay */
	uint64_t		 framed;	/* bytes of frames it finished */
	uint64_t		 cur_frame;	/* header + payload of this one */
};

static ssize_t	ws_recv_cb(wslay_event_context_ptr, uint8_t *, size_t, int,
		    void *);
static ssize_t	ws_send_cb(wslay_event_context_ptr, const uint8_t *, size_t,
		    int, void *);
static void	ws_frame_start(wslay_event_context_ptr,
		    const struct wslay_event_on_frame_recv_start_arg *, void *);
static void	ws_frame_chunk(wslay_event_context_ptr,
		    const struct wslay_event_on_frame_recv_chunk_arg *, void *);
static void	ws_frame_end(wslay_event_context_ptr, void *);
static void	ws_fail(struct ws *, const char *, const char *, uint16_t);
static void	ws_raw_text(struct ws *, const char *, size_t);
static int	ws_flush(struct ws *);
static int	ws_ctx(struct ws *);
static void	ws_release(struct ws *);
static uint64_t	ws_frame_size(uint64_t);

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.on_frame_recv_start_callback = ws_frame_start,
	.on_frame_recv_chunk_callback = ws_frame_chunk,
	.on_frame_recv_end_callback = ws_frame_end,
};

int
ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
	uint8_t md[SHA1_LEN];
	char buf[WS_KEY_LEN + sizeof(WS_GUID)];

	if (len != WS_KEY_LEN)
		return -1;
	memcpy(buf, key, len);
	memcpy(buf + len, WS_GUID, sizeof(WS_GUID) - 1);
	sha1(buf, len + sizeof(WS_GUID) - 1, md);
	return b64_encode(md, sizeof(md), out) == WS_ACCEPT_LEN ? 0 : -1;
}

/*
 * Check an upgrade request; 0 and the accept value, or the HTTP status
 * to refuse it with.  Origin is not checked: the page keeps its session
 * token in localStorage, never in a cookie, so a foreign page opening
 * this socket gains nothing it could not get from any other client.
 */
int
ws_handshake_check(const struct http_req *r, char accept[WS_ACCEPT_LEN + 1])
{
	uint8_t raw[WS_KEY_LEN];
	size_t klen;

	if (r->method != HTTP_GET || r->major != 1 || r->minor < 1)
		return 400;
	if (!r->upgrade || !http_token_has(r->h_upgrade, "websocket") ||
	    !http_token_has(r->h_connection, "upgrade"))
		return 400;
	if (strcmp(r->h_ws_version, "13") != 0)
		return 426;
	/*
	 * The key must be base64 of exactly 16 bytes (RFC 6455 4.2.1); its
	 * unused last bits are not checked, as no client's are.
	 */
	klen = strlen(r->h_ws_key);
	if (klen != WS_KEY_LEN || b64_decode(r->h_ws_key, klen, B64_LAX_PAD,
	    raw, sizeof(raw)) != 16)
		return 400;
	if (ws_accept_key(r->h_ws_key, klen, accept) == -1)
		return 500;
	return 0;
}

void
ws_handshake_response(struct evbuffer *out, const char *accept)
{
	evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
}

struct ws *
ws_new(struct evbuffer *in, struct evbuffer *out, size_t max_msg,
    const struct ws_cb *cb, void *arg)
{
	struct ws *ws;

	ws = xcalloc(1, sizeof(*ws));
	ws->in = in;
	ws->out = out;
	ws->cb = cb;
	ws->arg = arg;
	ws->max_msg = max_msg;
	return ws;
}

/* The wslay context, made when needed; -1 when it cannot be. */
static int
ws_ctx(struct ws *ws)
{
	if (ws->ctx != NULL)
		return 0;
	if (wslay_event_context_server_init(&ws->ctx, &ws_callbacks,
	    ws) != 0) {
		ws->ctx = NULL;
		return -1;
	}
	wslay_event_config_set_no_buffering(ws->ctx, 1);
	wslay_event_config_set_max_recv_msg_length(ws->ctx,
	    WS_FRAME_BACKSTOP);
	return 0;
}

/*
 * Free the context and the message buffer when nothing depends on them:
 * no partial frame (its bytes are in wslay's reader), no fragmented
 * message (wslay checks continuations and UTF-8 across frames), nothing
 * queued, and both directions open (a close, ours or the peer's, is
 * wslay's state until the connection goes).  Never inside wslay.
 */
static void
ws_release(struct ws *ws)
{
	if (ws->in_recv || ws->failed || ws->in_frame || ws->op != 0 ||
	    ws->fed != ws->framed)
		return;
	free(ws->buf);
	ws->buf = NULL;
	ws->cap = 0;
	if (ws->ctx == NULL)
		return;
	if (!wslay_event_get_read_enabled(ws->ctx) ||
	    !wslay_event_get_write_enabled(ws->ctx) ||
	    wslay_event_get_close_received(ws->ctx) ||
	    wslay_event_get_close_sent(ws->ctx) ||
	    wslay_event_want_write(ws->ctx) ||
	    wslay_event_get_queued_msg_count(ws->ctx) != 0)
		return;
	wslay_event_context_free(ws->ctx);
	ws->ctx = NULL;
}

void
ws_free(struct ws *ws)
{
	if (ws == NULL)
		return;
	if (ws->ctx != NULL)
		wslay_event_context_free(ws->ctx);
	free(ws->buf);
	free(ws);
}

/*
 * Consume all input.  Returns -1 when the connection must be dropped now
 * (wslay failed or the peer reads too slowly), 0 otherwise; afterwards
 * ws_finished() says whether the close handshake is over.
 */
int
ws_read(struct ws *ws)
{
	int r;

	if (ws_ctx(ws) == -1)
		return -1;
	ws->in_recv = 1;
	r = wslay_event_recv(ws->ctx);
	ws->in_recv = 0;
	if (r != 0)
		return -1;
	if (!ws->failed && !wslay_event_get_read_enabled(ws->ctx) &&
	    !wslay_event_get_close_received(ws->ctx)) {
		/*
		 * wslay refused the input and queued its own close.  Inside
		 * a text frame that can only be its UTF-8 check (1007); say
		 * so first.  Anything else is a framing error (1002).
		 */
		ws->failed = 1;
		if (ws->in_frame && ws->op == WSLAY_TEXT_FRAME) {
			ws->raw_ok = 1;
			ws->cb->error(ws->arg, "bad_utf8",
			    "text is not valid UTF-8");
			ws->raw_ok = 0;
		}
	}
	/* Whatever follows a close or an error is never read. */
	if (!wslay_event_get_read_enabled(ws->ctx))
		evbuffer_drain(ws->in, evbuffer_get_length(ws->in));
	if (ws_flush(ws) == -1)
		return -1;
	ws_release(ws);
	return 0;
}

/* Queue one text message; -1 when the peer is too slow to keep. */
int
ws_send_text(struct ws *ws, const char *s, size_t len)
{
	struct wslay_event_msg m;
	int r;

	if (evbuffer_get_length(ws->out) > WS_OUT_MAX)
		return -1;
	/*
	 * The frame explaining a close goes out raw: queued, it would wait
	 * behind the close (wslay sends control frames first), then never
	 * leave at all.
	 */
	if (ws->raw_ok) {
		ws_raw_text(ws, s, len);
		return 0;
	}
	if (ws_ctx(ws) == -1)
		return -1;
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)s;
	m.msg_length = len;
	r = wslay_event_queue_msg(ws->ctx, &m);
	if (r == WSLAY_ERR_NO_MORE_MSG)
		return 0;	/* closing: nothing more goes out */
	if (r != 0)
		return -1;
	if (ws->in_recv)
		return 0;	/* ws_read() flushes when wslay returns */
	if (ws_flush(ws) == -1)
		return -1;
	ws_release(ws);
	return 0;
}

int
ws_close(struct ws *ws, uint16_t code)
{
	int r;

	if (ws_ctx(ws) == -1)
		return -1;
	r = wslay_event_queue_close(ws->ctx, code, NULL, 0);
	if (r != 0 && r != WSLAY_ERR_NO_MORE_MSG)
		return -1;
	return ws_flush(ws);
}

/*
 * Is a frame or a fragmented message begun and not finished?  wslay takes
 * every byte we have and keeps partial frames to itself, so compare what
 * it was fed with the frames it reported whole.  Clients must mask (RFC
 * 6455 5.1; wslay's server context refuses unmasked frames), so each
 * header carries the 4-byte key.  A message's fragments may each arrive
 * whole and the last never: it holds a context and its buffer as a
 * partial frame does, so it is partial too.
 */
int
ws_partial(struct ws *ws)
{
	return ws->fed != ws->framed || ws->op != 0;
}

int
ws_idle(const struct ws *ws)
{
	return ws->ctx == NULL && ws->buf == NULL;
}

static uint64_t
ws_frame_size(uint64_t payload)
{
	uint64_t hdr = 2 + 4;

	if (payload > 0xffff)
		hdr += 8;
	else if (payload >= 126)
		hdr += 2;
	return hdr + payload;
}

/* Without a context nothing has begun to close. */
int
ws_finished(struct ws *ws)
{
	if (ws->ctx == NULL)
		return 0;
	return !wslay_event_want_read(ws->ctx) &&
	    !wslay_event_want_write(ws->ctx);
}

static int
ws_flush(struct ws *ws)
{
	if (wslay_event_send(ws->ctx) != 0)
		return -1;
	if (evbuffer_get_length(ws->out) > WS_OUT_MAX)
		return -1;
	return 0;
}

/*
 * Write one unmasked text frame straight to the output.  Safe only
 * between wslay_event_send() calls: ws_send_cb() always takes every byte,
 * so wslay is never left half way through a frame.
 */
static void
ws_raw_text(struct ws *ws, const char *s, size_t len)
{
	uint8_t hdr[10];
	size_t hlen, i;

	hdr[0] = 0x80 | WSLAY_TEXT_FRAME;
	if (len < 126) {
		hdr[1] = (uint8_t)len;
		hlen = 2;
	} else if (len <= 0xffff) {
		hdr[1] = 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		hlen = 4;
	} else {
		hdr[1] = 127;
		for (i = 0; i < 8; i++)
			hdr[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		hlen = 10;
	}
	evbuffer_add(ws->out, hdr, hlen);
	evbuffer_add(ws->out, s, len);
}

static void
ws_fail(struct ws *ws, const char *code, const char *message,
    uint16_t close_code)
{
	ws->failed = 1;
	ws->raw_ok = 1;
	ws->cb->error(ws->arg, code, message);
	ws->raw_ok = 0;
	(void)wslay_event_queue_close(ws->ctx, close_code, NULL, 0);
	wslay_event_shutdown_read(ws->ctx);
}

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *arg)
{
	struct ws *ws = arg;
	int n;

	(void)flags;
	n = evbuffer_remove(ws->in, buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	ws->fed += (uint64_t)n;
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct ws *ws = arg;

	(void)flags;
	if (evbuffer_add(ws->out, data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static void
ws_frame_start(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_start_arg *a, void *arg)
{
	struct ws *ws = arg;
	size_t need, ncap;

	(void)ctx;
	ws->cur_frame = ws_frame_size(a->payload_length);
	/* wslay buffers and answers control frames itself. */
	if (a->opcode & 0x08) {
		ws->ctrl = 1;
		return;
	}
	ws->ctrl = 0;
	if (ws->failed)
		return;
	if (a->opcode != WSLAY_CONTINUATION_FRAME) {
		ws->op = a->opcode;
		ws->len = 0;
	}
	ws->in_frame = 1;
	ws->fin = a->fin;
	if (a->payload_length > ws->max_msg - ws->len) {
		ws_fail(ws, "too_large", "message too large",
		    WS_CLOSE_TOO_BIG);
		return;
	}
	need = ws->len + (size_t)a->payload_length;
	ws->frame_end = need;
	/* Binary payload is counted, never stored: it is refused anyway. */
	if (ws->op != WSLAY_TEXT_FRAME || need <= ws->cap)
		return;
	ncap = ws->cap * 2;
	if (ncap < need)
		ncap = need;
	if (ncap > ws->max_msg)
		ncap = ws->max_msg;
	ws->buf = xreallocarray(ws->buf, 1, ncap);
	ws->cap = ncap;
}

static void
ws_frame_chunk(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_chunk_arg *a, void *arg)
{
	struct ws *ws = arg;

	(void)ctx;
	if (ws->ctrl || ws->failed)
		return;
	if (a->data_length > ws->frame_end - ws->len) {
		/* More payload than the header announced: wslay bug. */
		ws_fail(ws, "too_large", "frame overrun", WS_CLOSE_TOO_BIG);
		return;
	}
	if (ws->op == WSLAY_TEXT_FRAME && a->data_length > 0)
		memcpy(ws->buf + ws->len, a->data, a->data_length);
	ws->len += a->data_length;
}

static void
ws_frame_end(wslay_event_context_ptr ctx, void *arg)
{
	struct ws *ws = arg;
	const char *msg;
	uint8_t op;
	size_t len;

	(void)ctx;
	ws->framed += ws->cur_frame;
	ws->cur_frame = 0;
	if (ws->ctrl) {
		ws->ctrl = 0;
		return;
	}
	ws->in_frame = 0;
	if (ws->failed || !ws->fin)
		return;
	op = ws->op;
	len = ws->len;
	/* An empty message has no buffer; hand up "" rather than NULL. */
	msg = ws->buf != NULL ? ws->buf : "";
	ws->op = 0;
	ws->len = 0;
	if (op == WSLAY_BINARY_FRAME)
		ws->cb->error(ws->arg, "binary_unsupported",
		    "only text frames are accepted");
	else if (op == WSLAY_TEXT_FRAME) {
		/* wslay checks UTF-8 too, but allows NUL; IPC does not. */
		if (!ipc_utf8_valid(msg, len))
			ws_fail(ws, "bad_utf8", "text is not valid UTF-8",
			    WS_CLOSE_BAD_DATA);
		else
			ws->cb->text(ws->arg, msg, len);
	}
}
