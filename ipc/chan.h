/*
 * IPC channels: one SOCK_SEQPACKET socket, one frame per datagram,
 * non-blocking on a libevent loop with a bounded send queue.  Also the
 * length-prefixed framing used on the control socket (a stream).
 */
#ifndef WX_IPC_CHAN_H
#define WX_IPC_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct event_base;
struct evbuffer;
struct chan;

enum chan_ev {
	CHAN_EOF,		/* peer closed */
	CHAN_VIOLATION,		/* peer sent something invalid */
	CHAN_IOERR		/* the socket failed */
};

typedef void	(*chan_msg_fn)(struct chan *, struct ipc_msg *, void *);
typedef void	(*chan_err_fn)(struct chan *, enum chan_ev, const char *,
		    void *);

struct chan	*chan_new(struct event_base *, int fd, size_t qmax,
		    chan_msg_fn, chan_err_fn, void *arg);
void		 chan_free(struct chan *);
int		 chan_send(struct chan *, uint32_t type, uint64_t req_id,
		    const void *body);
int		 chan_send_fd(struct chan *, uint32_t type, uint64_t req_id,
		    const void *body, int fd);
size_t		 chan_queued(const struct chan *);
int		 chan_fd(const struct chan *);
void		 chan_set_fd_ok(struct chan *, int);

/* Blocking helpers for the moments before a loop exists. */
int		 ipc_send_raw(int fd, const uint8_t *buf, size_t len, int pass);
int		 ipc_send_blocking(int fd, uint32_t type, uint64_t req_id,
		    const void *body);
int		 ipc_recv_blocking(int fd, uint8_t *buf, size_t buflen,
		    struct ipc_msg *m, enum ipc_err *err);

/* Control socket framing: 4-byte big-endian length, then one frame. */
int		 ipc_stream_pull(struct evbuffer *, uint8_t *out, size_t *len);
int		 ipc_stream_put(struct evbuffer *, uint32_t type,
		    uint64_t req_id, const void *body);

#endif
