/*
 * The benches' WebSocket client (wsc.h): bench_roundtrip and bench_c10k
 * each keep their own load loop and message handling, and share the
 * bytes of one connection here.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "wsc.h"

#define WSC_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_HEAD_MAX	4096		/* the server's 101 response */
#define WSC_IN_START	2048		/* an input buffer, grown... */
#define WSC_MSG_MAX	(1024 * 1024)	/* ...up to one message this large */

const char	*wsc_prog = "bench";

void
wsc_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", wsc_prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

double
wsc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Masks, keys and jitter need not be secret; xorshift is enough. */
uint32_t
wsc_rnd32(void)
{
	static uint32_t x;

	if (x == 0)
		x = (uint32_t)getpid() ^ (uint32_t)wsc_now_ms() ^ 0x9e3779b9U;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

int
wsc_connect(struct wsc *c, const void *src, const void *dst, int timeout_s)
{
	struct timeval tv = { timeout_s, 0 };
	int one = 1;

	memset(c, 0, sizeof(*c));
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src != NULL && bind(c->fd, src, sizeof(struct sockaddr_in)) == -1)
		return -1;
	if (connect(c->fd, dst, sizeof(struct sockaddr_in)) == -1)
		return -1;
	c->incap = WSC_IN_START;
	if ((c->in = malloc(c->incap)) == NULL)
		wsc_die("out of memory");
	return 0;
}

/* Blocking: send the upgrade request, check the 101 and its accept key. */
int
wsc_upgrade(struct wsc *c, const char *host, int port, const char *agent)
{
	unsigned char raw[16], md[EVP_MAX_MD_SIZE];
	char key[32], want[64], req[512], cat[128], *end, *acc;
	unsigned int mdlen;
	size_t i;
	int len;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)wsc_rnd32();
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	snprintf(cat, sizeof(cat), "%s%s", key, WSC_GUID);
	if (EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)want, md, (int)mdlen);

	len = snprintf(req, sizeof(req),
	    "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\nUser-Agent: %s\r\n\r\n",
	    host, port, key, agent);
	if (len < 0 || (size_t)len >= sizeof(req) ||
	    write(c->fd, req, (size_t)len) != len)
		return -1;
	c->inlen = 0;
	for (;;) {
		if (wsc_input(c) <= 0 || c->inlen >= WSC_HEAD_MAX)
			return -1;
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
	for (acc += 21; *acc == ' '; acc++)
		;
	if (strncmp(acc, want, strlen(want)) != 0)
		return -1;
	/* Frames sent right after the head stay in the buffer. */
	end += 4;
	c->inlen -= (size_t)(end - (char *)c->in);
	memmove(c->in, end, c->inlen);
	return 0;
}

/* Append one masked frame to the output (RFC 6455 5.2). */
int
wsc_queue(struct wsc *c, int opcode, const void *data, size_t len)
{
	const unsigned char *d = data;
	unsigned char *o, mask[4];
	uint32_t m = wsc_rnd32();
	size_t need = c->outlen + len + 14, i, hl = 0;

	if (need > c->outcap) {
		if ((o = realloc(c->out, need * 2)) == NULL)
			wsc_die("out of memory");
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

/* Write what the socket takes: 0 when all out, 1 if some left, -1. */
int
wsc_flush(struct wsc *c)
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

/* Read what is there, growing the buffer: bytes, 0 on EOF, -1. */
int
wsc_input(struct wsc *c)
{
	ssize_t n;

	if (c->inlen + 1 >= c->incap) {
		if (c->incap >= WSC_MSG_MAX + 16)
			return -1;
		c->incap *= 2;
		if ((c->in = realloc(c->in, c->incap)) == NULL)
			wsc_die("out of memory");
	}
	do
		n = read(c->fd, c->in + c->inlen, c->incap - 1 - c->inlen);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		c->inlen += (size_t)n;
	return (int)n;
}

/*
 * Consume every whole frame in the input buffer, handing each whole
 * text message to fn.  -1 on a protocol error (*why says which, the
 * server's close among them) or when fn returns -1 (*why NULL).
 */
int
wsc_frames(struct wsc *c, wsc_msg_fn fn, void *arg, const char **why)
{
	unsigned char *b;
	uint64_t len;
	size_t hl, off = 0;
	int fin, op, i, rv = 0;

	*why = NULL;
	while (c->inlen - off >= 2) {
		b = c->in + off;
		fin = b[0] & 0x80;
		op = b[0] & 0x0f;
		if (b[1] & 0x80) {
			*why = "masked server frame";
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
		if (len > WSC_MSG_MAX) {
			*why = "frame too large";
			return -1;
		}
		if (c->inlen - off < hl + len)
			break;
		off += hl + (size_t)len;
		switch (op) {
		case 0x0:	/* continuation */
		case 0x1:	/* text */
			if (c->msglen + len > WSC_MSG_MAX) {
				*why = "message too large";
				return -1;
			}
			if ((c->msg = realloc(c->msg, c->msglen + len + 1)) ==
			    NULL)
				wsc_die("out of memory");
			memcpy(c->msg + c->msglen, b + hl, (size_t)len);
			c->msglen += (size_t)len;
			if (!fin)
				break;
			c->msg[c->msglen] = '\0';
			c->msglen = 0;
			if (fn(arg, (char *)c->msg) == -1)
				rv = -1;
			break;
		case 0x8:	/* close */
			*why = "server closed";
			return -1;
		case 0x9:	/* ping */
			if (wsc_queue(c, 0xa, b + hl, (size_t)len) == -1)
				return -1;
			break;
		case 0xa:	/* pong */
			break;
		default:
			*why = "unexpected opcode";
			return -1;
		}
		if (rv == -1)
			return -1;
	}
	c->inlen -= off;
	memmove(c->in, c->in + off, c->inlen);
	return 0;
}

/* A close frame (1000) if the socket takes it, then the socket. */
void
wsc_close(struct wsc *c)
{
	static const unsigned char code[2] = { 0x03, 0xe8 };

	if (c->fd == -1)
		return;
	if (wsc_queue(c, 0x8, code, sizeof(code)) == 0)
		(void)wsc_flush(c);
	close(c->fd);
	c->fd = -1;
}

int
wsc_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank percentile of a sorted array. */
double
wsc_pct(const double *v, size_t n, double p)
{
	size_t r;

	if (n == 0)
		return 0;
	r = (size_t)ceil(p / 100.0 * (double)n);
	return v[(r < 1 ? 1 : r) - 1];
}
