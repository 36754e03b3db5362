/*
 * A frame sent with no loop to queue it: a process's first frames
 * before its loop exists, and its last (a fatal error's log frame).
 * The hub, the configuration reader, a zygote and a worker send so;
 * the root parent never does (its frames go through a wire, or are
 * encoded by the caller and sent with ipc_send_raw).
 */
#ifndef WX_IPC_WIRE_BLOCKING_H
#define WX_IPC_WIRE_BLOCKING_H

#include <stdint.h>

int		 ipc_send_blocking(int fd, uint32_t type, uint64_t req_id,
		    const void *body);

#endif
