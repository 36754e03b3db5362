/*
 * The control socket's framing (wire_stream.h), apart from wire.c so
 * that the root parent, which has no control socket, links none of it.
 */
#include <stdint.h>

#include <event2/buffer.h>

#include "codec.h"
#include "wire.h"
#include "wire_stream.h"

int
ipc_stream_pull(struct evbuffer *in, uint8_t *out, size_t *len)
{
	uint8_t hdr[4];
	uint32_t n;

	if (evbuffer_get_length(in) < 4)
		return 0;
	evbuffer_copyout(in, hdr, 4);
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > IPC_FRAME_MAX)
		return -1;
	if (evbuffer_get_length(in) < 4 + (size_t)n)
		return 0;
	evbuffer_drain(in, 4);
	evbuffer_remove(in, out, n);
	*len = n;
	return 1;
}

int
ipc_stream_put(struct evbuffer *out, uint32_t type, uint64_t req_id,
    const void *body)
{
	uint8_t hdr[4];
	size_t len;

	if ((len = ipc_encode(type, req_id, body, ipc_wbuf,
	    sizeof(ipc_wbuf))) == 0)
		return -1;
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	if (evbuffer_add(out, hdr, 4) == -1 ||
	    evbuffer_add(out, ipc_wbuf, len) == -1)
		return -1;
	return 0;
}
