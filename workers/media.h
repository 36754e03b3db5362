/*
 * Attachments a channel worker received (workers/media.c): their bytes
 * go to the supervisor in one sealed memfd with the inbound.media frame
 * that names them (ipc/ipc_msg.h), never through a file in a sandbox.
 *
 * A kind downloads and decrypts a message's parts, adds each here, and
 * sends the message with wk_media_send; it keeps the wk_media until
 * inbound.ack comes (a "retry" sends it again, from the same memfd) and
 * then calls wk_media_clear.  A part that does not fit is the caller's
 * counted, logged error: the message's text still goes.
 */
#ifndef WX_WK_MEDIA_H
#define WX_WK_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

struct wk_media {
	int		 fd;		/* -1 until the first part */
	size_t		 n;
	uint64_t	 total;
	uint64_t	 max;		/* media.max_bytes of the account */
	char		 kind[IPC_PARTS_MAX][IPC_PARTKIND_MAX + 1];
	char		 name[IPC_PARTS_MAX][IPC_FILENAME_MAX + 1];
	uint64_t	 size[IPC_PARTS_MAX];
};

/* max: the bytes one message may carry, at most IPC_FILE_MAX. */
void	 wk_media_init(struct wk_media *, uint64_t max);
/*
 * One part, its bytes copied into the memfd now.  kind is "image",
 * "file", "voice" or "video"; name may be NULL.  -1 with a reason in
 * *why ("too many parts", "over media.max_bytes", "empty", a system
 * error).  A failed write (out of memory) drops the parts added before
 * it too: the message then goes with its text alone.
 */
int	 wk_media_add(struct wk_media *, const char *kind, const char *name,
	    const void *data, size_t len, const char **why);
/*
 * The message: inbound.message when no part was added, else
 * inbound.media with the parts and a descriptor of the sealed memfd
 * (sealed at the first send).  b's parts are filled in here.  As
 * worker_send: -1 when the frame could not be queued.
 */
int	 wk_media_send(struct wk_media *, uint64_t req_id,
	    struct ipc_body_inbound *b);
/* After inbound.ack: the memfd closed, the parts forgotten. */
void	 wk_media_clear(struct wk_media *);

/*
 * An outbound.file's descriptor is what ipc_msg.h promises: a regular
 * file (a memfd) of exactly size bytes, sealed against shrinking and
 * growing.  0 when it is not: the hub broke the protocol.
 */
int	 wk_media_fd_ok(int fd, uint64_t size);

#endif
