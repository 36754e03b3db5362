/*
 * IPC wire I/O (one socketpair end).  Owns the receive path (datagram size, truncation,
 * stray fds) and the bounded send queue; it knows nothing of roles, which
 * the supervisor checks against the catalogue.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "wire.h"
#include "log.h"
#include "xmalloc.h"

/* Frames handled per wakeup, so one chatty process cannot starve others. */
#define CHAN_BURST	64

struct qframe {
	struct qframe	*next;
	int		 fd;
	size_t		 len;
	uint8_t		 data[];
};

struct wire {
	int		 fd;
	struct event	*rev;
	struct event	*wev;
	struct qframe	*qhead;
	struct qframe	**qtail;
	size_t		 qlen;
	size_t		 qmax;
	int		 fd_ok;		/* accept SCM_RIGHTS at all */
	int		 pace;		/* read nothing while our queue is high */
	int		 paused;	/* reading stopped for that */
	int		 failed;	/* wire_fail(): never read again */
	int		 busy;		/* inside a callback */
	int		 dead;		/* freed while busy */
	wire_msg_fn	 msgcb;
	wire_err_fn	 errcb;
	void		*arg;
};

/* Decoded strings borrow from here until the callback returns. */
static uint8_t	rbuf[IPC_FRAME_MAX + 1];
/*
 * Where a frame is encoded before it is sent or queued, here and by the
 * control socket's framing and the blocking send (wire_stream.c,
 * wire_blocking.c): each encodes and hands the bytes on before it
 * returns, so one buffer serves them all, and a process touches the
 * pages of its largest frame once.
 */
uint8_t		ipc_wbuf[IPC_FRAME_MAX];

static void	wire_read(evutil_socket_t, short, void *);
static void	wire_write(evutil_socket_t, short, void *);
static void	wire_fail(struct wire *, enum wire_ev, const char *);
static int	wire_queue(struct wire *, uint32_t, uint64_t, const void *,
		    int, int);

struct wire *
wire_new(struct event_base *base, int fd, size_t qmax, wire_msg_fn msgcb,
    wire_err_fn errcb, void *arg)
{
	struct wire *c;

	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->qmax = qmax;
	c->qtail = &c->qhead;
	c->msgcb = msgcb;
	c->errcb = errcb;
	c->arg = arg;
	c->fd_ok = 1;
	evutil_make_socket_nonblocking(fd);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, wire_read, c);
	c->wev = event_new(base, fd, EV_WRITE, wire_write, c);
	if (c->rev == NULL || c->wev == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->rev, NULL);
	return c;
}

static void
wire_destroy(struct wire *c)
{
	struct qframe *q;

	event_free(c->rev);
	event_free(c->wev);
	while ((q = c->qhead) != NULL) {
		c->qhead = q->next;
		if (q->fd != -1)
			close(q->fd);
		free(q);
	}
	close(c->fd);
	free(c);
}

/*
 * Pace the other end: read none of its frames while our queue to it is
 * half full, again once it is down to a quarter.  Its requests then
 * wait in its own queue, which answers its clients "busy", instead of
 * their replies outgrowing ours, which would end it.  Only for an end
 * that always reads (a worker, seen from the hub): if both ends paced,
 * two full queues would each wait for the other.
 */
void
wire_set_pace(struct wire *c, int on)
{
	c->pace = on;
}

void
wire_free(struct wire *c)
{
	if (c == NULL)
		return;
	if (c->busy) {
		/* The read loop frees it once the callback returns. */
		c->dead = 1;
		event_del(c->rev);
		event_del(c->wev);
		return;
	}
	wire_destroy(c);
}

size_t
wire_queued(const struct wire *c)
{
	return c->qlen;
}

/* A process that may not pass fds gets every one closed and is failed. */
void
wire_set_fd_ok(struct wire *c, int ok)
{
	c->fd_ok = ok;
}

int
ipc_send_raw(int fd, const uint8_t *buf, size_t len, int pass)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cmsg;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &pass, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void
wire_write(evutil_socket_t fd, short ev, void *arg)
{
	struct wire *c = arg;
	struct qframe *q;

	(void)fd;
	(void)ev;
	while ((q = c->qhead) != NULL) {
		if (ipc_send_raw(c->fd, q->data, q->len, q->fd) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS) {
				event_add(c->wev, NULL);
				return;
			}
			/* The read side reports the dead process. */
			log_debug("%s: sendmsg: %s", __func__, strerror(errno));
			return;
		}
		c->qhead = q->next;
		if (c->qhead == NULL)
			c->qtail = &c->qhead;
		c->qlen--;
		if (q->fd != -1)
			close(q->fd);
		free(q);
		if (c->paused && c->qlen <= c->qmax / 4 && !c->failed) {
			c->paused = 0;
			event_add(c->rev, NULL);
		}
	}
}

/*
 * Send now if nothing is queued, else queue.  A full queue returns -1:
 * the caller decides whether the other end is too slow to keep.  A passed fd
 * is owned by the wire from here on.
 */
int
wire_send_fd(struct wire *c, uint32_t type, uint64_t req_id,
    const void *body, int fd)
{
	return wire_queue(c, type, req_id, body, fd, 0);
}

/*
 * A frame the other side is owed: the close of a place it counts for
 * us, the pong of its one ping.  Queued past qmax, as dropping it would
 * cost a place for good or the sender itself; each answers one thing
 * the other side did, and those are bounded there.
 */
int
wire_send_owed(struct wire *c, uint32_t type, uint64_t req_id,
    const void *body)
{
	return wire_queue(c, type, req_id, body, -1, 1);
}

static int
wire_queue(struct wire *c, uint32_t type, uint64_t req_id, const void *body,
    int fd, int over)
{
	struct qframe *q;
	size_t len;

	if ((len = ipc_encode(type, req_id, body, ipc_wbuf,
	    sizeof(ipc_wbuf))) == 0) {
		log_warnx("%s: cannot encode %s", __func__,
		    ipc_type_name(type));
		goto fail;
	}
	if (c->qhead == NULL) {
		if (ipc_send_raw(c->fd, ipc_wbuf, len, fd) == 0) {
			if (fd != -1)
				close(fd);
			return 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOBUFS)
			goto fail;
	}
	if (c->qlen >= c->qmax && !over)
		goto fail;
	q = xmalloc(sizeof(*q) + len);
	q->next = NULL;
	q->fd = fd;
	q->len = len;
	memcpy(q->data, ipc_wbuf, len);
	*c->qtail = q;
	c->qtail = &q->next;
	c->qlen++;
	event_add(c->wev, NULL);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

int
wire_send(struct wire *c, uint32_t type, uint64_t req_id, const void *body)
{
	return wire_send_fd(c, type, req_id, body, -1);
}

/*
 * Receive one datagram.  Returns its length, 0 on EOF, -1 on error with
 * errno set, or -2 for a violation with *why set.
 */
static ssize_t
recv_frame(int fd, uint8_t *buf, size_t buflen, int *rfd, const char **why)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cmsg;
	ssize_t n;
	int fds[4];
	size_t nfd, i;

	*rfd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = buflen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	/*
	 * A peer that died with our frames unread (a worker its sandbox
	 * killed) is reported once, before the frames it sent first (its
	 * sandbox.violation): read on for those, then its EOF.
	 */
	if ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == ECONNRESET)
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n == -1)
		return -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > 4)
			nfd = 4;
		memcpy(fds, CMSG_DATA(cmsg), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (*rfd == -1 && i == 0)
				*rfd = fds[i];
			else {
				close(fds[i]);
				*why = "more than one fd in a frame";
			}
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		*why = "oversized frame";
		goto bad;
	}
	if ((size_t)n > IPC_FRAME_MAX) {
		*why = "oversized frame";
		goto bad;
	}
	if (*why != NULL)
		goto bad;
	return n;
bad:
	if (*rfd != -1) {
		close(*rfd);
		*rfd = -1;
	}
	return -2;
}

static void
wire_read(evutil_socket_t fd, short ev, void *arg)
{
	struct wire *c = arg;
	const struct ipc_msginfo *mi;
	struct ipc_msg m;
	const char *why;
	enum ipc_err e;
	ssize_t n;
	int i, rfd;

	(void)fd;
	(void)ev;
	c->busy = 1;
	for (i = 0; i < CHAN_BURST && !c->dead; i++) {
		if (c->pace && c->qlen >= c->qmax / 2) {
			c->paused = 1;
			event_del(c->rev);
			break;
		}
		why = NULL;
		n = recv_frame(c->fd, rbuf, sizeof(rbuf), &rfd, &why);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			wire_fail(c, WIRE_IOERR, strerror(errno));
			break;
		}
		if (n == 0) {
			wire_fail(c, WIRE_EOF, "the other end closed");
			break;
		}
		if (n == -2) {
			wire_fail(c, WIRE_VIOLATION, why);
			break;
		}
		if ((e = ipc_decode(rbuf, (size_t)n, &m)) != IPC_OK) {
			if (rfd != -1)
				close(rfd);
			wire_fail(c, WIRE_VIOLATION, ipc_strerror(e));
			break;
		}
		mi = ipc_msginfo(m.type);
		if (rfd != -1 && (!(mi->flags & MSG_FD) || !c->fd_ok)) {
			close(rfd);
			wire_fail(c, WIRE_VIOLATION, "unexpected fd");
			break;
		}
		if (rfd == -1 && (mi->flags & MSG_FD)) {
			wire_fail(c, WIRE_VIOLATION, "fd missing");
			break;
		}
		m.fd = rfd;
		c->msgcb(c, &m, c->arg);
	}
	c->busy = 0;
	if (c->dead)
		wire_destroy(c);
}

/* After one error the wire reads nothing more: the other end is done. */
static void
wire_fail(struct wire *c, enum wire_ev ev, const char *why)
{
	c->failed = 1;
	event_del(c->rev);
	c->errcb(c, ev, why, c->arg);
}

int
ipc_recv_blocking(int fd, uint8_t *buf, size_t buflen, struct ipc_msg *m,
    enum ipc_err *err)
{
	const char *why = NULL;
	ssize_t n;
	int rfd;

	*err = IPC_OK;
	do {
		n = recv_frame(fd, buf, buflen, &rfd, &why);
	} while (n == -1 && errno == EINTR);
	if (n <= 0) {
		*err = n == -2 ? IPC_E_SIZE : IPC_E_SHORT;
		return -1;
	}
	if ((*err = ipc_decode(buf, (size_t)n, m)) != IPC_OK) {
		if (rfd != -1)
			close(rfd);
		return -1;
	}
	m->fd = rfd;
	return 0;
}
