/*
 * The wecom_bot channel worker: one process per WeCom AI bot, on the
 * bot's WebSocket long connection (protocols/wecom.md Part A).  Shared
 * between its parts:
 *
 *   wecom_bot.c	the kind: config, IPC handlers, state, test hooks
 *   wsc.c		the WebSocket client: DNS, TCP, TLS, upgrade, wslay
 *   link.c		the session: subscribe, heartbeat, reconnect, routing
 *   inbound.c		callbacks to inbound.message (.media), in order;
 *			the welcome
 *   attach.c		a message's attachments fetched and decrypted
 *   reply.c		outbound.message and .progress to stream frames
 *			and pushes
 *   upload.c		outbound.file: uploaded (A.5.8), then sent as an
 *			image or file message
 *   frame.c, media.c, handshake.c	the pure protocol
 *
 * Nothing here touches a file or a thread: it runs in the sandbox.
 */
#ifndef WX_WECOM_H
#define WX_WECOM_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "ipc_msg.h"

struct event_base;
struct wk_media;

struct wecom {
	/* From the config slice. */
	char		*account;
	char		*url;
	char		*bot_id;
	char		*secret;
	char		*bot_name;	/* "": every group message is ours */
	char		*welcome;	/* "": none */
	long		 stream_ms;	/* between frames of one bubble */
	long		 heartbeat_ms;
	long		 ack_ms;	/* a frame's ack, before the next */
	int		 draining;
	/* Frames dropped, by reason: logged and counted, never fatal. */
	uint64_t	 bad_frames;
	uint64_t	 unknown_cmds;
	uint64_t	 welcomes_dropped;	/* too late to send */
	uint64_t	 media_parts;		/* attachments fetched */
	uint64_t	 media_failed;		/* and not, each logged */
	uint64_t	 inbound_dropped;	/* no room to wait in order */
	uint64_t	 media_max;		/* media_max_bytes */
};

extern struct wecom	wb;

/* wecom_bot.c */
uint32_t	 wecom_random(void);
void		 wecom_req_id(const char *prefix, char *out, size_t size);

/* wsc.c: one WebSocket client connection at a time. */
struct wsclient_cb;
int		 wsc_pre_sandbox(const char *url);
int		 wsc_post_sandbox(struct event_base *,
		    const struct wsclient_cb *);
int		 wsc_connect(void);
void		 wsc_close(void);
int		 wsc_send(const char *, size_t);

/* link.c */
int		 link_init(struct event_base *);
void		 link_start(void);
void		 link_stop(void);
int		 link_ready(void);
uint64_t	 link_gen(void);
int		 link_send(const char *frame);

/* attach.c: fn is called once, from the loop, when all parts ended. */
typedef void	(*attach_fn)(void *);
struct attach;
int		 attach_pre_sandbox(void);
int		 attach_post_sandbox(struct event_base *);
/*
 * since: clock_mono_ms() when the message came.  NULL: nothing to
 * wait for (every part failed at once, logged).
 */
struct attach	*attach_start(struct wcf_att *, size_t,
		    struct wk_media *, const char *msgid, uint64_t since,
		    attach_fn, void *);
#ifdef WX_TEST_HOOKS
void		 attach_test_deadline(uint64_t ms);
#endif

/* inbound.c */
void		 inbound_msg(struct wcf_in *);
void		 inbound_event(const struct wcf_in *);
int		 inbound_ack(const struct ipc_msg *);
void		 inbound_resync(void);

/* reply.c */
int		 reply_init(struct event_base *);
int		 reply_outbound(const struct ipc_msg *);
int		 reply_progress(const struct ipc_msg *);
void		 reply_open(const char *req_id, uint64_t came);
int		 reply_may_answer(const char *req_id, uint64_t window_ms);
void		 reply_refused(const char *req_id);
void		 reply_welcome(const char *req_id, const char *text);
int		 reply_ack(const char *req_id, long long errcode);
void		 reply_link_up(void);
void		 reply_link_down(void);

/* upload.c */
int		 upload_pre_sandbox(void);
int		 upload_init(struct event_base *);
int		 upload_outbound_file(const struct ipc_msg *);
int		 upload_ack(const struct wcf_in *);
void		 upload_link_up(void);
void		 upload_link_down(void);
void		 upload_stop(void);
#ifdef WX_TEST_HOOKS
void		 upload_test_max(uint64_t);
#endif

#endif
