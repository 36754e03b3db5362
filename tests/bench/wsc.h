/*
 * The benches' WebSocket client, one connection's bytes: the client
 * side of RFC 6455 (upgrade, masked frames out, unmasked frames in, 16
 * and 64 bit lengths) written out here, so a bench shares no code with
 * the server it measures.  Blocking or not is the caller's choice.
 */
#ifndef WX_BENCH_WSC_H
#define WX_BENCH_WSC_H

#include <stddef.h>
#include <stdint.h>

struct wsc {
	int		 fd;
	unsigned char	*in;		/* raw bytes read */
	size_t		 inlen, incap;
	unsigned char	*msg;		/* fragments being reassembled */
	size_t		 msglen;
	unsigned char	*out;		/* bytes the socket did not take */
	size_t		 outlen, outcap;
};

/* One whole text message, NUL-terminated; -1 stops the frames. */
typedef int	(*wsc_msg_fn)(void *, const char *);

/* The program's name in die()'s messages. */
extern const char	*wsc_prog;

void	 wsc_die(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2), __noreturn__));
double	 wsc_now_ms(void);
uint32_t wsc_rnd32(void);

/* A blocking TCP connection from src (if not NULL), with timeouts. */
int	 wsc_connect(struct wsc *, const void *src, const void *dst,
	    int timeout_s);
int	 wsc_upgrade(struct wsc *, const char *host, int port,
	    const char *agent);
int	 wsc_queue(struct wsc *, int opcode, const void *, size_t);
int	 wsc_flush(struct wsc *);
int	 wsc_input(struct wsc *);
int	 wsc_frames(struct wsc *, wsc_msg_fn, void *, const char **why);
void	 wsc_close(struct wsc *);

/* Percentiles of a sorted sample. */
int	 wsc_dcmp(const void *, const void *);
double	 wsc_pct(const double *, size_t, double);

#endif
