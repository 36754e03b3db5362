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

#endif
