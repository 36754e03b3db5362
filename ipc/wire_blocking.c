/*
 * ipc_send_blocking (wire_blocking.h), apart from wire.c so that the
 * root parent, which never sends so, links none of it.
 */
#include <stdint.h>

#include "codec.h"
#include "wire.h"
#include "wire_blocking.h"

int
ipc_send_blocking(int fd, uint32_t type, uint64_t req_id, const void *body)
{
	size_t len;

	if ((len = ipc_encode(type, req_id, body, ipc_wbuf,
	    sizeof(ipc_wbuf))) == 0)
		return -1;
	return ipc_send_raw(fd, ipc_wbuf, len, -1);
}
