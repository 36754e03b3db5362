/*
 * One HTTP request per connection on a socket handed over with
 * sup.listen_fd (httpd.h).  Bounds: conn_max connections (the rest wait
 * in the kernel's queue), head_max bytes of head within read_ms (else
 * 408), wait_ms for whoever the kind asks, write_ms for the answer to
 * leave (else the connection is dropped).
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "httpd.h"
#include "ipc_msg.h"
#include "codec.h"
#include "log.h"
#include "xmalloc.h"

static void	httpd_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	httpd_read(struct bufferevent *, void *);
static void	httpd_write(struct bufferevent *, void *);
static void	httpd_event(struct bufferevent *, short, void *);
static void	httpd_timer(evutil_socket_t, short, void *);
static void	httpd_free(struct httpd_conn *);
static void	httpd_update(struct httpd *);

void
httpd_init(struct httpd *s, struct event_base *base)
{
	s->base = base;
	TAILQ_INIT(&s->conns);
}

/* sup.listen_fd, after sup.config, once per life: a second is a fault. */
int
httpd_listen_fd(struct httpd *s, const struct ipc_msg *m)
{
	if (m->fd == -1) {
		log_warnx("%s: %s: no fd", __func__, s->name);
		return -1;
	}
	if (s->base == NULL || s->listener != NULL || s->draining ||
	    evutil_make_socket_nonblocking(m->fd) == -1) {
		log_warnx("%s: %s: unexpected listen fd", __func__, s->name);
		close(m->fd);
		return -1;
	}
	s->listener = evconnlistener_new(s->base, httpd_accept, s,
	    LEV_OPT_CLOSE_ON_FREE, -1, m->fd);
	if (s->listener == NULL) {
		close(m->fd);
		return -1;
	}
	return 0;
}

/* Accept only with room: the rest wait in the kernel's queue. */
static void
httpd_update(struct httpd *s)
{
	if (s->listener == NULL)
		return;
	if (s->nconns >= s->conn_max || s->draining)
		evconnlistener_disable(s->listener);
	else
		evconnlistener_enable(s->listener);
}

static void
httpd_arm(struct event *ev, long ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	evtimer_add(ev, &tv);
}

static void
httpd_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct httpd *s = arg;
	struct httpd_conn *c;

	(void)l;
	if (s->nconns >= s->conn_max || s->draining) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->id = ++s->next_id;
	if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in))
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
		    c->addr, sizeof(c->addr));
	else if (sa->sa_family == AF_INET6 &&
	    salen >= (int)sizeof(struct sockaddr_in6))
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    c->addr, sizeof(c->addr));
	else
		snprintf(c->addr, sizeof(c->addr), "?");
	http_parse_init(&c->hp, &c->req, s->head_max);
	/* Allocated per connection: conn_max of them bound the memory. */
	if (s->body_max > 0) {
		c->body = xmalloc(s->body_max);
		http_parse_body(&c->hp, c->body, s->body_max);
	}
	if (s->tls != NULL)
		c->bev = s->tls_accept(s, fd);
	else
		c->bev = bufferevent_socket_new(s->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(s->base, httpd_timer, c);
	if (c->bev == NULL || c->timer == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_setcb(c->bev, httpd_read, httpd_write, httpd_event, c);
	bufferevent_enable(c->bev, EV_READ);
	httpd_arm(c->timer, s->read_ms);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->nconns++;
	httpd_update(s);
}

static void
httpd_read(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;
	enum http_result r;

	r = http_parse_evbuffer(&c->hp, bufferevent_get_input(bev));
	if (r == HTTP_MORE)
		return;
	bufferevent_disable(bev, EV_READ);
	evtimer_del(c->timer);
	if (r == HTTP_ERROR)
		httpd_reply(c, c->hp.status, NULL, NULL, NULL, 0);
	else
		c->srv->request(c);
}

/* The kind asked someone: the answer comes by httpd_reply(). */
void
httpd_wait(struct httpd_conn *c)
{
	c->state = HTTPD_WAITING;
	if (c->srv->wait_ms > 0)
		httpd_arm(c->timer, c->srv->wait_ms);
}

void
httpd_reply(struct httpd_conn *c, int status, const char *ctype,
    const char *extra, const void *body, size_t len)
{
	evtimer_del(c->timer);
	c->state = HTTPD_WRITING;
	if (c->req.method == HTTP_HEAD)
		len = 0;
	http_response_x(bufferevent_get_output(c->bev), status, ctype, extra,
	    body, len, HTTP_R_CLOSE | c->srv->flags);
	httpd_arm(c->timer, c->srv->write_ms);
}

static void
httpd_write(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;

	if (c->state == HTTPD_WRITING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		httpd_free(c);
}

/* A TLS handshake's end is an event too, and no reason to close. */
static void
httpd_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	httpd_free(arg);
}

/*
 * A slow head gets 408, a wait past its time the kind's answer, a slow
 * reader is dropped.
 */
static void
httpd_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct httpd_conn *c = arg;

	(void)fd;
	(void)ev;
	switch (c->state) {
	case HTTPD_READING:
		bufferevent_disable(c->bev, EV_READ);
		httpd_reply(c, 408, NULL, NULL, NULL, 0);
		break;
	case HTTPD_WAITING:
		c->srv->wait_timeout(c);
		break;
	case HTTPD_WRITING:
		httpd_free(c);
		break;
	}
}

static void
httpd_free(struct httpd_conn *c)
{
	struct httpd *s = c->srv;

	TAILQ_REMOVE(&s->conns, c, entry);
	s->nconns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	/* Its head may hold a session cookie, its body a message. */
	explicit_bzero(&c->req, sizeof(c->req));
	if (c->body != NULL)
		freezero(c->body, s->body_max);
	free(c);
	httpd_update(s);
}

/* sup.shutdown: no new connections; those open finish. */
void
httpd_drain(struct httpd *s)
{
	s->draining = 1;
	if (s->listener != NULL)
		evconnlistener_disable(s->listener);
}
