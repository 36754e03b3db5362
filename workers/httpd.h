/*
 * A listener of one HTTP request per connection, for the workers that
 * serve a socket the root parent bound for them (the metrics and the
 * console workers): accepting while there is room, the head read by
 * the web chat's bounded parser under a deadline, the answer written
 * under another, then the connection closed.  With a TLS context each
 * connection's handshake comes first, under the head's deadline.  What a request means is
 * the kind's: it gets each whole head, and answers at once or later.
 */
#ifndef WX_HTTPD_H
#define WX_HTTPD_H

#include <sys/queue.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "webchat/http.h"

struct event_base;
struct ipc_msg;
struct ssl_ctx_st;

/* Reading its head; the kind waits on someone; writing the answer. */
enum httpd_state { HTTPD_READING, HTTPD_WAITING, HTTPD_WRITING };

struct httpd;

struct httpd_conn {
	TAILQ_ENTRY(httpd_conn)	 entry;
	struct httpd		*srv;
	enum httpd_state	 state;
	uint64_t		 id;		/* 1, 2, ... in accept order */
	char			 addr[INET6_ADDRSTRLEN];
	struct bufferevent	*bev;
	struct event		*timer;
	struct http_parse	 hp;
	struct http_req		 req;
	char			*body;		/* body_max bytes, or NULL */
	const void		*route;		/* the kind's */
};

struct httpd {
	/* The kind's. */
	const char		*name;		/* for the log */
	size_t			 conn_max;
	size_t			 head_max;
	size_t			 body_max;	/* 0: a body is refused */
	long			 read_ms;	/* the head: then 408 */
	long			 wait_ms;	/* WAITING: then wait_timeout */
	long			 write_ms;	/* the answer: then dropped */
	int			 flags;		/* HTTP_R_* on every answer */
	struct ssl_ctx_st	*tls;		/* NULL: plain HTTP */
	/*
	 * With tls, an accepted socket's bufferevent.  The kind's, so
	 * that httpd.c links no OpenSSL: the light workers (wxgate-light)
	 * serve plain HTTP and map none of it.
	 */
	struct bufferevent	*(*tls_accept)(struct httpd *, int);
	/* A whole head: answer (httpd_reply) or wait (httpd_wait). */
	void			(*request)(struct httpd_conn *);
	/* wait_ms ran out: it must answer. */
	void			(*wait_timeout)(struct httpd_conn *);
	/* httpd.c's. */
	struct event_base	*base;
	struct evconnlistener	*listener;
	TAILQ_HEAD(, httpd_conn) conns;
	size_t			 nconns;
	uint64_t		 next_id;
	int			 draining;
};

void	httpd_init(struct httpd *, struct event_base *);
int	httpd_listen_fd(struct httpd *, const struct ipc_msg *);
void	httpd_wait(struct httpd_conn *);
void	httpd_reply(struct httpd_conn *, int status, const char *ctype,
	    const char *extra, const void *body, size_t len);
void	httpd_drain(struct httpd *);

#endif
