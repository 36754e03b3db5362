/*
 * Round-trip benchmark of the web chat: N WebSocket clients each open a
 * session and send M chat.send messages, each after the previous one's
 * chat.done (closed loop), optionally paced to a total offered rate.
 * The latency from send to the first chat.delta and to chat.done is
 * measured per message.  The RSS of the wxgated processes is read from
 * /proc before and after the load.
 *
 * Output is one "metric value unit" line each, for scripts to pick up.
 * The exit status is 1 when any message failed or timed out.
 *
 * The client side of RFC 6455 is written out here (handshake, masked
 * frames out, unmasked frames in, 16 and 64 bit lengths) so the bench
 * shares no code with the server it measures.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#define BR_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define BR_IOBUF	(2 * 65536 + 16) /* read buffer: a max_frame frame fits */
#define BR_MAX_MSG	(1024 * 1024)	/* largest server message */
#define BR_MAX_PIDS	64
#define BR_SETUP_S	10		/* handshake and session.open */

enum cl_state {
	CL_IDLE,	/* may send the next message */
	CL_WAIT,	/* a message is in flight */
	CL_DONE,	/* all sent and answered, or failed */
};

struct client {
	int		 fd;
	int		 idx;
	enum cl_state	 state;
	int		 sent;		/* messages sent */
	int		 seq;		/* of the message in flight */
	double		 t_send;	/* monotonic ms */
	int		 got_delta;
	int		 got_ack;
	unsigned char	*in;		/* raw bytes read */
	size_t		 inlen;
	unsigned char	*msg;		/* reassembled fragments */
	size_t		 msglen;
	unsigned char	*out;		/* bytes not yet written */
	size_t		 outlen;
	size_t		 outcap;
};

struct proc {
	pid_t		 pid;
	char		 name[64];
	double		 idle_kib;
	double		 loaded_kib;
};

static void	usage(void) __attribute__((__noreturn__));
static double	now_ms(void);
static uint32_t	rnd32(void);
static void	die(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2), __noreturn__));

static int	cl_connect(struct client *, const struct sockaddr_in *);
static int	cl_handshake(struct client *, const char *, int);
static int	cl_queue_frame(struct client *, int, const void *, size_t);
static int	cl_flush(struct client *);
static int	cl_read(struct client *);
static int	cl_frames(struct client *);
static int	cl_message(struct client *, const char *);
static int	cl_send_rpc(struct client *, int, const char *,
		    const char *);
static int	cl_open_session(struct client *);
static void	cl_fail(struct client *, const char *);
static void	cl_close(struct client *);

static void	load_run(void);
static int	dcmp(const void *, const void *);
static double	pct(const double *, size_t, double);
static void	print_lat(const char *, double *, size_t);

static void	proc_add(pid_t);
static void	proc_children(pid_t);
static void	proc_name(pid_t, char *, size_t);
static double	proc_rss_kib(pid_t);
static double	proc_pss_kib(pid_t);
static void	proc_print_pss(void);
static void	proc_sample(int);
static void	proc_print(const char *, int);

static struct client	*clients;
static int		 nclients = 1;
static int		 nmsgs = 100;
static double		 rate;		/* total msg/s, 0 for unpaced */
static double		 timeout_ms = 10000;
static const char	*text = "hello, bench";
static const char	*host = "127.0.0.1";
static int		 port;

static double		*lat_done;
static double		*lat_delta;
static size_t		 ndone, ndelta;
static size_t		 nerrors, ntimeouts, nnodelta;
static double		 t_first, t_last;

static struct proc	 procs[BR_MAX_PIDS];
static int		 nprocs;

static void
usage(void)
{
	fprintf(stderr, "usage: bench_roundtrip [-c clients] [-n messages] "
	    "[-r rate] [-t timeout_s]\n"
	    "\t[-T text] [-h host] [-p pid] [-S supervisor_pid] port\n");
	exit(2);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_roundtrip: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Masks and keys need not be secret; xorshift is enough. */
static uint32_t
rnd32(void)
{
	static uint32_t x;

	if (x == 0)
		x = (uint32_t)getpid() ^ (uint32_t)now_ms() ^ 0x9e3779b9U;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static int
cl_connect(struct client *c, const struct sockaddr_in *sin)
{
	struct timeval tv = { BR_SETUP_S, 0 };
	int one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		return -1;
	c->in = malloc(BR_IOBUF);
	if (c->in == NULL)
		return -1;
	return 0;
}

/* Blocking: send the upgrade request, check the 101 and its accept key. */
static int
cl_handshake(struct client *c, const char *h, int p)
{
	unsigned char raw[16], md[EVP_MAX_MD_SIZE];
	char key[32], want[64], req[512], cat[128];
	unsigned int mdlen;
	char *end, *acc;
	ssize_t n;
	size_t i;
	int len;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)rnd32();
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	snprintf(cat, sizeof(cat), "%s%s", key, BR_GUID);
	if (EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)want, md, (int)mdlen);

	len = snprintf(req, sizeof(req),
	    "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", h, p, key);
	if (write(c->fd, req, (size_t)len) != len)
		return -1;
	c->inlen = 0;
	for (;;) {
		if (c->inlen >= BR_IOBUF - 1)
			return -1;
		n = read(c->fd, c->in + c->inlen, BR_IOBUF - 1 - c->inlen);
		if (n <= 0)
			return -1;
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		if ((end = strstr((char *)c->in, "\r\n\r\n")) != NULL)
			break;
	}
	if (strncmp((char *)c->in, "HTTP/1.1 101", 12) != 0)
		return -1;
	*end = '\0';
	for (acc = (char *)c->in; (acc = strchr(acc, '\n')) != NULL; ) {
		acc++;
		if (strncasecmp(acc, "Sec-WebSocket-Accept:", 21) == 0)
			break;
	}
	if (acc == NULL)
		return -1;
	acc += 21;
	while (*acc == ' ')
		acc++;
	if (strncmp(acc, want, strlen(want)) != 0)
		return -1;
	/* Frames sent right after the head stay in the buffer. */
	end += 4;
	c->inlen -= (size_t)(end - (char *)c->in);
	memmove(c->in, end, c->inlen);
	return 0;
}

/* Append one masked frame to the output (RFC 6455 5.2). */
static int
cl_queue_frame(struct client *c, int opcode, const void *data, size_t len)
{
	const unsigned char *d = data;
	unsigned char *o;
	uint32_t m = rnd32();
	unsigned char mask[4];
	size_t need = c->outlen + len + 14, i, hl = 0;

	if (need > c->outcap) {
		if ((o = realloc(c->out, need * 2)) == NULL)
			return -1;
		c->out = o;
		c->outcap = need * 2;
	}
	o = c->out + c->outlen;
	memcpy(mask, &m, 4);
	o[hl++] = 0x80 | (unsigned char)opcode;
	if (len < 126)
		o[hl++] = 0x80 | (unsigned char)len;
	else if (len <= 0xffff) {
		o[hl++] = 0x80 | 126;
		o[hl++] = (unsigned char)(len >> 8);
		o[hl++] = (unsigned char)len;
	} else {
		o[hl++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			o[hl++] = (unsigned char)((uint64_t)len >>
			    (56 - 8 * i));
	}
	memcpy(o + hl, mask, 4);
	hl += 4;
	for (i = 0; i < len; i++)
		o[hl + i] = d[i] ^ mask[i & 3];
	c->outlen += hl + len;
	return 0;
}

/* Write what the socket takes; 0 when all out, 1 if some left, -1. */
static int
cl_flush(struct client *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		c->outlen -= (size_t)n;
		memmove(c->out, c->out + n, c->outlen);
	}
	return 0;
}

static int
cl_send_rpc(struct client *c, int id, const char *method, const char *params)
{
	char buf[8192];
	int len;

	len = snprintf(buf, sizeof(buf),
	    "{\"id\":%d,\"method\":\"%s\",\"params\":%s}", id, method, params);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return -1;
	if (cl_queue_frame(c, 1, buf, (size_t)len) == -1)
		return -1;
	return cl_flush(c) == -1 ? -1 : 0;
}

/* Blocking: session.open, and wait for its reply. */
static int
cl_open_session(struct client *c)
{
	c->state = CL_WAIT;
	c->seq = -1;
	if (cl_send_rpc(c, 1, "session.open", "{}") == -1)
		return -1;
	while (c->state == CL_WAIT) {
		if (cl_frames(c) == -1)
			return -1;
		if (c->state != CL_WAIT)
			break;
		if (cl_read(c) <= 0)
			return -1;
	}
	return c->state == CL_IDLE ? 0 : -1;
}

/* Read what is there; bytes read, 0 on EOF, -1 on error or EAGAIN. */
static int
cl_read(struct client *c)
{
	ssize_t n;

	if (c->inlen == BR_IOBUF)
		return -1;
	do
		n = read(c->fd, c->in + c->inlen, BR_IOBUF - c->inlen);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		c->inlen += (size_t)n;
	return (int)n;
}

/* Consume every whole frame in the input buffer. */
static int
cl_frames(struct client *c)
{
	unsigned char *b;
	uint64_t len;
	size_t hl, off = 0;
	int fin, op, i;

	while (c->inlen - off >= 2) {
		b = c->in + off;
		fin = b[0] & 0x80;
		op = b[0] & 0x0f;
		if (b[1] & 0x80) {
			cl_fail(c, "masked server frame");
			return -1;
		}
		len = b[1] & 0x7f;
		hl = 2;
		if (len == 126) {
			if (c->inlen - off < 4)
				break;
			len = (uint64_t)b[2] << 8 | b[3];
			hl = 4;
		} else if (len == 127) {
			if (c->inlen - off < 10)
				break;
			for (len = 0, i = 0; i < 8; i++)
				len = len << 8 | b[2 + i];
			hl = 10;
		}
		if (len > BR_MAX_MSG || hl + len > BR_IOBUF) {
			cl_fail(c, "frame too large");
			return -1;
		}
		if (c->inlen - off < hl + len)
			break;
		off += hl + (size_t)len;
		switch (op) {
		case 0x0:	/* continuation */
		case 0x1:	/* text */
			if (c->msglen + len > BR_MAX_MSG) {
				cl_fail(c, "message too large");
				return -1;
			}
			if ((c->msg = realloc(c->msg, c->msglen + len + 1)) ==
			    NULL)
				die("out of memory");
			memcpy(c->msg + c->msglen, b + hl, (size_t)len);
			c->msglen += (size_t)len;
			if (!fin)
				break;
			c->msg[c->msglen] = '\0';
			c->msglen = 0;
			if (cl_message(c, (char *)c->msg) == -1)
				return -1;
			break;
		case 0x8:	/* close */
			cl_fail(c, "server closed");
			return -1;
		case 0x9:	/* ping */
			if (cl_queue_frame(c, 0xa, b + hl, (size_t)len) == -1)
				return -1;
			break;
		case 0xa:	/* pong */
			break;
		default:
			cl_fail(c, "unexpected opcode");
			return -1;
		}
	}
	c->inlen -= off;
	memmove(c->in, c->in + off, c->inlen);
	return 0;
}

/* One whole server message: a reply or an event. */
static int
cl_message(struct client *c, const char *buf)
{
	char want[64];
	json_t *j, *v;
	json_error_t err;
	const char *ev, *id;
	double t = now_ms();

	if ((j = json_loads(buf, 0, &err)) == NULL) {
		cl_fail(c, "bad json from server");
		return -1;
	}
	snprintf(want, sizeof(want), "c%d-%d", c->idx, c->seq);
	if ((v = json_object_get(j, "id")) != NULL) {
		/* A reply: session.open is id 1, chat.send id 2 + seq. */
		if (!json_is_true(json_object_get(j, "ok"))) {
			fprintf(stderr, "client %d: error reply: %s\n",
			    c->idx, buf);
			json_decref(j);
			cl_fail(c, NULL);
			return -1;
		}
		if (c->seq == -1 && json_integer_value(v) == 1)
			c->state = CL_IDLE;
		else
			c->got_ack = 1;
		json_decref(j);
		return 0;
	}
	ev = json_string_value(json_object_get(j, "event"));
	id = json_string_value(json_object_get(j, "client_msg_id"));
	if (ev == NULL || id == NULL || strcmp(id, want) != 0 ||
	    c->state != CL_WAIT) {
		fprintf(stderr, "client %d: unexpected: %s\n", c->idx, buf);
		json_decref(j);
		cl_fail(c, NULL);
		return -1;
	}
	if (strcmp(ev, "chat.delta") == 0) {
		if (!c->got_delta) {
			lat_delta[ndelta++] = t - c->t_send;
			c->got_delta = 1;
		}
	} else if (strcmp(ev, "chat.done") == 0) {
		/* The reply must come first; a missing delta is counted. */
		if (!c->got_ack) {
			fprintf(stderr, "client %d: done before the reply\n",
			    c->idx);
			nerrors++;
		}
		if (!c->got_delta && nnodelta++ == 0)
			fprintf(stderr, "client %d: done without a delta\n",
			    c->idx);
		lat_done[ndone++] = t - c->t_send;
		t_last = t;
		c->state = c->sent < nmsgs ? CL_IDLE : CL_DONE;
	} else {
		fprintf(stderr, "client %d: %s\n", c->idx, buf);
		json_decref(j);
		cl_fail(c, NULL);
		return -1;
	}
	json_decref(j);
	return 0;
}

/*
 * A failed client stops: its message in flight and those it would still
 * have sent all count as errors.
 */
static void
cl_fail(struct client *c, const char *why)
{
	if (c->state == CL_DONE)
		return;
	if (why != NULL)
		fprintf(stderr, "client %d: %s\n", c->idx, why);
	nerrors += (size_t)(nmsgs - c->sent) + (c->state == CL_WAIT);
	c->state = CL_DONE;
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
cl_close(struct client *c)
{
	static const unsigned char code[2] = { 0x03, 0xe8 };	/* 1000 */

	if (c->fd == -1)
		return;
	if (cl_queue_frame(c, 0x8, code, sizeof(code)) == 0)
		(void)cl_flush(c);
	close(c->fd);
	c->fd = -1;
}

/* The send loop: poll every client, pace sends, check timeouts. */
static void
load_run(void)
{
	struct pollfd *pfd;
	struct client *c;
	char params[4096];
	double t, next_slot, slot;
	size_t total = (size_t)nclients * (size_t)nmsgs, issued = 0;
	int i, n, active, wait_ms, rr = 0, k;

	if ((pfd = calloc((size_t)nclients, sizeof(*pfd))) == NULL)
		die("out of memory");
	slot = rate > 0 ? 1000.0 / rate : 0;
	t_first = next_slot = now_ms();
	for (;;) {
		t = now_ms();
		/* Send: to every idle client, or one per rate slot. */
		for (k = 0; k < nclients && issued < total; k++) {
			c = &clients[(rr + k) % nclients];
			if (c->state != CL_IDLE || c->sent >= nmsgs)
				continue;
			if (slot > 0 && t < next_slot)
				break;
			c->seq = c->sent++;
			c->got_delta = c->got_ack = 0;
			c->state = CL_WAIT;
			snprintf(params, sizeof(params),
			    "{\"text\":\"%s %d\",\"client_msg_id\":\"c%d-%d\"}",
			    text, c->seq, c->idx, c->seq);
			c->t_send = now_ms();
			if (cl_send_rpc(c, 2 + c->seq, "chat.send",
			    params) == -1)
				cl_fail(c, "send failed");
			issued++;
			if (slot > 0) {
				next_slot += slot;
				rr = (rr + k + 1) % nclients;
				k = -1;
			}
		}
		active = 0;
		wait_ms = -1;
		for (i = 0; i < nclients; i++) {
			c = &clients[i];
			pfd[i].fd = -1;
			pfd[i].events = 0;
			pfd[i].revents = 0;
			if (c->state == CL_DONE)
				continue;
			active++;
			if (c->state == CL_WAIT &&
			    t - c->t_send > timeout_ms) {
				fprintf(stderr, "client %d: message %d timed "
				    "out\n", c->idx, c->seq);
				ntimeouts++;
				cl_fail(c, NULL);
				active--;
				continue;
			}
			pfd[i].fd = c->fd;
			pfd[i].events = POLLIN | (c->outlen ? POLLOUT : 0);
		}
		if (active == 0)
			break;
		if (slot > 0 && issued < total) {
			n = (int)ceil(next_slot - now_ms());
			wait_ms = n < 0 ? 0 : n;
		} else
			wait_ms = 100;
		n = poll(pfd, (nfds_t)nclients, wait_ms);
		if (n == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; n > 0 && i < nclients; i++) {
			c = &clients[i];
			if (pfd[i].revents == 0 || c->fd == -1)
				continue;
			if ((pfd[i].revents & POLLOUT) && cl_flush(c) == -1) {
				cl_fail(c, "write error");
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) {
				k = cl_read(c);
				if (k == 0 || (k == -1 && errno != EAGAIN)) {
					cl_fail(c, k == 0 ? "eof" :
					    "read error");
					continue;
				}
				if (cl_frames(c) == 0 && c->outlen > 0 &&
				    cl_flush(c) == -1)
					cl_fail(c, "write error");
			}
		}
	}
	free(pfd);
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank percentile of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	size_t r;

	if (n == 0)
		return 0;
	r = (size_t)ceil(p / 100.0 * (double)n);
	if (r < 1)
		r = 1;
	return v[r - 1];
}

static void
print_lat(const char *name, double *v, size_t n)
{
	double sum = 0;
	size_t i;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), dcmp);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("%s_min %.3f ms\n", name, v[0]);
	printf("%s_mean %.3f ms\n", name, sum / (double)n);
	printf("%s_p50 %.3f ms\n", name, pct(v, n, 50));
	printf("%s_p90 %.3f ms\n", name, pct(v, n, 90));
	printf("%s_p99 %.3f ms\n", name, pct(v, n, 99));
	printf("%s_p999 %.3f ms\n", name, pct(v, n, 99.9));
	printf("%s_max %.3f ms\n", name, v[n - 1]);
}

static void
proc_add(pid_t pid)
{
	int i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return;
	if (nprocs == BR_MAX_PIDS)
		die("too many processes");
	procs[nprocs].pid = pid;
	proc_name(pid, procs[nprocs].name, sizeof(procs[nprocs].name));
	nprocs++;
}

/* The supervisor and its children: the kernel's list, else a scan. */
static void
proc_children(pid_t sup)
{
	char path[300], line[512], *p, *e;
	FILE *f;
	DIR *d;
	struct dirent *de;
	long v, ppid;

	proc_add(sup);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)sup,
	    (int)sup);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			for (p = line; ; p = e) {
				v = strtol(p, &e, 10);
				if (e == p)
					break;
				proc_add((pid_t)v);
			}
			fclose(f);
			return;
		}
		fclose(f);
	}
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid: comm may hold spaces and parens. */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == sup)
			proc_add((pid_t)atol(de->d_name));
		fclose(f);
	}
	closedir(d);
}

/* "wxgated -x webchat:0" is webchat.0; the supervisor is wxgated. */
static void
proc_name(pid_t pid, char *name, size_t sz)
{
	char path[64], buf[512], *arg, *p;
	ssize_t n;
	int fd;

	snprintf(name, sz, "pid%d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strrchr(buf, '/');
	if (snprintf(name, sz, "%s", p != NULL ? p + 1 : buf) >= (int)sz)
		name[sz - 1] = '\0';
	for (arg = buf; arg < buf + n; arg += strlen(arg) + 1) {
		if (strcmp(arg, "-x") == 0 && arg + 3 < buf + n) {
			if (snprintf(name, sz, "%s", arg + 3) >= (int)sz)
				name[sz - 1] = '\0';
			if ((p = strchr(name, ':')) != NULL)
				*p = '.';
			return;
		}
	}
}

/* VmRSS in KiB, or -1 when the process is gone. */
static double
proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	double kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Pss in KiB: RSS counts the shared library pages every process maps
 * again, Pss divides them among the processes sharing them.
 */
static double
proc_pss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	double kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Pss: %lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void
proc_print_pss(void)
{
	double v, total = 0;
	int i;

	for (i = 0; i < nprocs; i++) {
		if ((v = proc_pss_kib(procs[i].pid)) < 0)
			continue;
		total += v;
		printf("pss_%s %.2f MiB\n", procs[i].name, v / 1024);
	}
	if (nprocs > 0)
		printf("pss_total %.2f MiB\n", total / 1024);
}

static void
proc_sample(int loaded)
{
	int i;

	for (i = 0; i < nprocs; i++) {
		if (loaded)
			procs[i].loaded_kib = proc_rss_kib(procs[i].pid);
		else
			procs[i].idle_kib = proc_rss_kib(procs[i].pid);
	}
}

/* One line per process and a total, in MiB; prefix "rss_" or longer. */
static void
proc_print(const char *prefix, int loaded)
{
	double v, total = 0;
	int i;

	if (nprocs == 0)
		return;
	for (i = 0; i < nprocs; i++) {
		v = loaded ? procs[i].loaded_kib : procs[i].idle_kib;
		if (v < 0) {
			printf("%s%s gone pid%d\n", prefix, procs[i].name,
			    (int)procs[i].pid);
			continue;
		}
		total += v;
		printf("%s%s %.2f MiB\n", prefix, procs[i].name, v / 1024);
	}
	printf("%stotal %.2f MiB\n", prefix, total / 1024);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	struct client *c;
	const char *errstr = NULL;
	double t0, open_ms, elapsed;
	pid_t sup = 0;
	int ch, i;

	while ((ch = getopt(argc, argv, "c:h:n:p:r:S:t:T:")) != -1) {
		switch (ch) {
		case 'c':
			nclients = atoi(optarg);
			if (nclients < 0 || nclients > 10000)
				errstr = "clients: 0 to 10000";
			break;
		case 'h':
			host = optarg;
			break;
		case 'n':
			nmsgs = atoi(optarg);
			if (nmsgs < 1 || nmsgs > 10000000)
				errstr = "messages: 1 to 10000000";
			break;
		case 'p':
			if (atoi(optarg) <= 0)
				errstr = "bad pid";
			else
				proc_add((pid_t)atoi(optarg));
			break;
		case 'r':
			rate = atof(optarg);
			if (rate < 0)
				errstr = "rate: not negative";
			break;
		case 'S':
			if ((sup = (pid_t)atoi(optarg)) <= 0)
				errstr = "bad supervisor pid";
			break;
		case 't':
			timeout_ms = atof(optarg) * 1000;
			if (timeout_ms <= 0)
				errstr = "timeout: positive seconds";
			break;
		case 'T':
			text = optarg;
			if (strlen(text) > 2048 || strpbrk(text, "\"\\") != NULL)
				errstr = "text: at most 2048 bytes, no \" or \\";
			break;
		default:
			usage();
		}
		if (errstr != NULL)
			die("%s", errstr);
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if ((port = atoi(argv[0])) <= 0 || port > 65535)
		die("bad port %s", argv[0]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		die("bad IPv4 address %s", host);
	signal(SIGPIPE, SIG_IGN);
	if (sup != 0)
		proc_children(sup);

	/* No clients: report the RSS alone. */
	proc_sample(0);
	if (nclients == 0) {
		proc_print("rss_", 0);
		proc_print_pss();
		return 0;
	}

	if ((clients = calloc((size_t)nclients, sizeof(*clients))) == NULL ||
	    (lat_done = calloc((size_t)nclients * (size_t)nmsgs,
	    sizeof(double))) == NULL ||
	    (lat_delta = calloc((size_t)nclients * (size_t)nmsgs,
	    sizeof(double))) == NULL)
		die("out of memory");
	t0 = now_ms();
	for (i = 0; i < nclients; i++) {
		c = &clients[i];
		c->idx = i;
		c->fd = -1;
		if (cl_connect(c, &sin) == -1 ||
		    cl_handshake(c, host, port) == -1 ||
		    cl_open_session(c) == -1)
			die("client %d: setup failed: %s", i,
			    errno ? strerror(errno) : "protocol");
		if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) |
		    O_NONBLOCK) == -1)
			die("fcntl: %s", strerror(errno));
	}
	open_ms = now_ms() - t0;

	load_run();

	proc_sample(1);
	elapsed = (t_last > t_first ? t_last - t_first : 0) / 1000;
	printf("clients %d count\n", nclients);
	printf("setup_per_client %.3f ms\n", open_ms / nclients);
	if (rate > 0)
		printf("offered_rate %.0f msg/s\n", rate);
	printf("messages %zu count\n", ndone);
	printf("errors %zu count\n", nerrors);
	printf("timeouts %zu count\n", ntimeouts);
	printf("done_without_delta %zu count\n", nnodelta);
	printf("duration %.3f s\n", elapsed);
	printf("throughput %.0f msg/s\n",
	    elapsed > 0 ? (double)ndone / elapsed : 0);
	print_lat("roundtrip", lat_done, ndone);
	print_lat("first_delta", lat_delta, ndelta);
	proc_print("rss_idle_", 0);
	proc_print("rss_loaded_", 1);
	fflush(stdout);

	for (i = 0; i < nclients; i++)
		cl_close(&clients[i]);
	return nerrors > 0 || ntimeouts > 0 ||
	    ndone != (size_t)nclients * (size_t)nmsgs ? 1 : 0;
}
