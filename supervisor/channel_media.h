/*
 * Attachments of an inbound.media frame, as the hub reads them
 * (channel_media.c): one buffer, a part at a time, each with its hash.
 */
#ifndef WX_CHANNEL_MEDIA_H
#define WX_CHANNEL_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

struct chan_media {
	size_t		 n;
	uint8_t		*buf;		/* the parts back to back */
	size_t		 len;
	struct {
		const char	*kind;		/* static */
		char		*name;		/* made safe to show */
		size_t		 off;
		size_t		 size;
		uint8_t		 sha256[32];
	}		 v[IPC_PARTS_MAX];
};

/*
 * Check and read the worker's memfd (not closed here).  -1 with *why
 * when the worker broke the rules: it is then killed as compromised.
 */
int	 chan_media_read(struct chan_media *, int fd,
	    const struct ipc_parts *, uint64_t max, const char **why);
/* The message's text and a note per part; caller frees. */
char	*chan_media_text(const struct chan_media *, struct ipc_str text);
/* The parts into the media area, with the message msg_id: 0 or -1. */
int	 chan_media_store(const struct chan_media *, const char *account,
	    int64_t msg_id);
void	 chan_media_free(struct chan_media *);

/*
 * A worker's descriptor read whole, if it is a regular file sealed
 * against change, of exactly size bytes (at most IPC_FILE_MAX); NULL
 * with *why otherwise.
 */
uint8_t	*media_fd_read(int fd, uint64_t size, const char **why);
/* 1 if fd is sealed against shrinking, growing and writing. */
int	 media_fd_sealed(int fd);
/* A sealed fd's size bytes (media_fd_sealed), or NULL: short read. */
uint8_t	*media_fd_bytes(int fd, size_t size);
/* A sealed memfd holding exactly these bytes, or -1 (logged). */
int	 media_memfd(const uint8_t *, size_t);

/* Parts for an agent.request_media; strings point into the struct. */
struct media_out {
	struct ipc_parts	 parts;
	char			 kind[IPC_PARTS_MAX][IPC_PARTKIND_MAX + 1];
	char			 name[IPC_PARTS_MAX][IPC_FILENAME_MAX + 1];
};
/*
 * The stored parts of message msg_id (images only, or all), in order
 * and IPC_FILE_MAX at most together, as a sealed memfd; -1 and no parts
 * when it has none, or on failure.
 */
int	 media_for_agent(int64_t msg_id, int images, struct media_out *);

#endif
