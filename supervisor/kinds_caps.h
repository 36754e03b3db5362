/*
 * What a channel kind's platform can take (kinds_caps.c): text limits,
 * media, typing, streaming, writing first.  The hub (channel.c, the
 * routers) and the configuration's checks read it; the root parent
 * starts workers by kinds.h alone and never does.
 */
#ifndef WX_KINDS_CAPS_H
#define WX_KINDS_CAPS_H

#include <stdint.h>

/* What a channel kind does beyond text replies. */
#define KC_MEDIA	0x01	/* images, files, voice */
#define KC_TYPING	0x02	/* a "typing..." indicator */
#define KC_STREAM	0x04	/* one message that grows with the answer */
#define KC_PROACTIVE	0x08	/* may write first, not only reply */
/* A peer's context lets a kind that may not write first reply this
 * long (channel.c; hub_pg_sched.c for a run queued on another node). */
#define CH_CONTEXT_S	(24 * 3600)
/* Replies carry the peer's newest reply context, not their message's. */
#define KC_LATEST_CTX	0x10

struct kind_caps {
	uint32_t	 text_max;	/* code points one message holds */
	uint32_t	 text_chunk;	/* text_chunk_limit by default */
	int		 flags;		/* KC_* */
	uint32_t	 bytes_max;	/* UTF-8 bytes, when it counts those */
	uint32_t	 turn_max;	/* messages per reply context, 0 any */
};

/* A channel type's capabilities; NULL when it is no channel kind. */
const struct kind_caps	*kinds_caps(const char *type);

#endif
