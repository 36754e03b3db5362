/*
 * IPC wires: one SOCK_SEQPACKET socket, one frame per datagram,
 * non-blocking on a libevent loop with a bounded send queue.  The
 * control socket's framing is wire_stream.h's, a send with no loop
 * wire_blocking.h's: the root parent uses neither.
 */
#ifndef WX_IPC_WIRE_H
#define WX_IPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct event_base;
struct wire;

enum wire_ev {
	WIRE_EOF,		/* the other end closed */
	WIRE_VIOLATION,		/* the other end sent something invalid */
	WIRE_IOERR		/* the socket failed */
};

typedef void	(*wire_msg_fn)(struct wire *, struct ipc_msg *, void *);
typedef void	(*wire_err_fn)(struct wire *, enum wire_ev, const char *,
		    void *);

struct wire	*wire_new(struct event_base *, int fd, size_t qmax,
		    wire_msg_fn, wire_err_fn, void *arg);
void		 wire_free(struct wire *);
int		 wire_send(struct wire *, uint32_t type, uint64_t req_id,
		    const void *body);
int		 wire_send_fd(struct wire *, uint32_t type, uint64_t req_id,
		    const void *body, int fd);
int		 wire_send_owed(struct wire *, uint32_t type,
		    uint64_t req_id, const void *body);
size_t		 wire_queued(const struct wire *);
void		 wire_set_fd_ok(struct wire *, int);
void		 wire_set_pace(struct wire *, int);

/* Blocking helpers for the moments before a loop exists. */
int		 ipc_send_raw(int fd, const uint8_t *buf, size_t len, int pass);

/* The one encode buffer of wire.c, wire_stream.c and wire_blocking.c. */
extern uint8_t	 ipc_wbuf[IPC_FRAME_MAX];
int		 ipc_recv_blocking(int fd, uint8_t *buf, size_t buflen,
		    struct ipc_msg *m, enum ipc_err *err);

#endif
