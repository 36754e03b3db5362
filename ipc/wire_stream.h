/*
 * The control socket's framing (a stream, not a wire): a 4-byte
 * big-endian length, then one frame.  The hub's control.c speaks it;
 * the root parent never does, so it links none of it.
 */
#ifndef WX_IPC_WIRE_STREAM_H
#define WX_IPC_WIRE_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* 1 and the frame in out, 0 for not yet whole, -1 for a bad length. */
int		 ipc_stream_pull(struct evbuffer *, uint8_t *out, size_t *len);
int		 ipc_stream_put(struct evbuffer *, uint32_t type,
		    uint64_t req_id, const void *body);

#endif
