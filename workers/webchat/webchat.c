/*
 * The webchat worker kind: the public chat pool.  It owns the listener on
 * the socket the supervisor bound, the table of browser connections, the
 * table of requests pending at the supervisor, and the IPC handlers that
 * turn supervisor replies and events into WebSocket frames.
 *
 * Everything arriving here is hostile: http.c, ws.c and rpc.c check the
 * bytes; this file only routes what they accept.  It holds no session
 * state of its own (the supervisor maps a connection to its session and
 * decides every policy), and it never logs message text or tokens above
 * log_debug.  It is the only file of the kind that talks to worker.c.
 *
 * So a new hub (sup.resync) knows none of our connections: each is
 * closed, a WebSocket with 1012, and the page reconnects, is admitted,
 * resumes its session and re-sends what was not answered.  The
 * listener stays.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>

#include "codec.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "qr.h"
#include "rpc.h"
#include "sha.h"
#include "worker.h"
#include "ws.h"
#include "xmalloc.h"

#define WC_HASH			1024	/* buckets of both tables */
#define WC_PENDING_MAX		32	/* requests in flight per connection */
#define WC_PENDING_RETRY_MS	1000	/* ... the wait told past it */
#define WC_LINGER_S		5	/* to drain a closing connection */
#define WC_ACCEPT_PAUSE_S	1	/* accept pause after EMFILE */
/*
 * peer.open frames awaiting a verdict.  Accepting stops above it, so a
 * burst of connections cannot queue more verdicts than the supervisor's
 * per-worker queue (supervisor.queue_max, at least 16... default 1024)
 * holds; the supervisor kills a worker whose queue overflows.
 */
#define WC_PEER_PENDING_MAX	256
/* Answers queued on one HTTP connection before we stop reading its heads. */
#define WC_HTTP_OUT_MAX		(256 * 1024)
/* Bytes of a refused connection's request read and dropped before close. */
#define WC_REFUSE_DRAIN		16384

enum conn_state {
	C_PEER,		/* accepted, awaiting peer.verdict; nothing read */
	C_HTTP,		/* reading request heads */
	C_ADMIT,	/* upgrade asked, awaiting the supervisor's verdict */
	C_SHARE,	/* GET /s/<id> or /bind/<token>, awaiting the answer */
	C_WS,		/* WebSocket */
	C_CLOSING	/* response queued, then drain and close */
};

struct pending {
	uint64_t		 req_id;
	uint64_t		 conn;
	enum rpc_method		 method;
	json_t			*id;		/* the browser's id, a ref */
	LIST_ENTRY(pending)	 hash;
	TAILQ_ENTRY(pending)	 by_conn;
};
TAILQ_HEAD(pendingq, pending);

/*
 * A request head being parsed: about 4.5 KiB of fixed buffers, so it is
 * allocated by the head's first byte and freed once the head is answered.
 * Connections waiting for their next head or holding a WebSocket keep
 * none of it; what later states need (the accept key) is copied out.
 */
struct conn_head {
	struct http_parse	 hp;
	struct http_req		 req;
};

struct conn {
	uint64_t		 id;
	enum conn_state		 state;
	struct bufferevent	*bev;
	struct event		*timer;
	time_t			 last;		/* monotonic seconds */
	time_t			 started;	/* waiting for the current head */
	time_t			 frame_at;	/* WS frame or message begun */
	char			 addr[IPC_ADDR_MAX + 1];
	struct conn_head	*head;		/* in C_HTTP, a head begun */
	struct ws		*ws;
	struct pendingq		 pending;
	size_t			 npending;
	int			 dead;		/* free at top level */
	int			 shut;		/* SHUT_WR done, lingering */
	int			 opened;	/* conn.open sent: close it */
	int			 peered;	/* peer.open admitted: close it */
	int			 backlog;	/* reading paused, output full */
	struct evbuffer_cb_entry *out_cb;	/* counts wc_out_bytes */
	char			 accept[WS_ACCEPT_LEN + 1];	/* in C_ADMIT */
	int			 share_qr;	/* in C_SHARE: qr.svg asked */
	int			 bind;		/* in C_SHARE: a /bind/ page */
	LIST_ENTRY(conn)	 hash;
};
LIST_HEAD(connlist, conn);
LIST_HEAD(pendlist, pending);

/* A config key: Postfix CONFIG_INT_TABLE style, every number bounded. */
struct wc_confkey {
	const char	*name;
	json_int_t	 def;
	json_int_t	 min;
	json_int_t	 max;
	size_t		*var;
};

typedef int (*wc_sendfn)(struct conn *, const struct rpc_req *, uint64_t);

static int	webchat_pre_sandbox(json_t *);
static int	webchat_post_sandbox(struct event_base *);
static void	webchat_shutdown(void);
static void	webchat_resync(void);
static void	conn_resync(struct conn *);
static int	webchat_listen_fd(const struct ipc_msg *);
static int	webchat_session_ok(const struct ipc_msg *);
static int	webchat_rpc_error(const struct ipc_msg *);
static int	webchat_chat_accepted(const struct ipc_msg *);
static int	webchat_history(const struct ipc_msg *);
static int	webchat_chat_delta(const struct ipc_msg *);
static int	webchat_chat_done(const struct ipc_msg *);
static int	webchat_chat_error(const struct ipc_msg *);
static int	webchat_conn_verdict(const struct ipc_msg *);
static int	webchat_share_status(const struct ipc_msg *);
static int	webchat_share_ok(const struct ipc_msg *);
static int	webchat_bind_status(const struct ipc_msg *);
static int	webchat_bind_state(const struct ipc_msg *);
static int	webchat_peer_verdict(const struct ipc_msg *);
static void	webchat_listen_update(void);
static void	webchat_shed(struct conn *);

static void	webchat_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	webchat_accept_error(struct evconnlistener *, void *);
static void	webchat_accept_resume(evutil_socket_t, short, void *);
static void	webchat_reject(evutil_socket_t, unsigned long long);
static void	webchat_busy(evutil_socket_t, unsigned long long);

static struct conn *conn_new(evutil_socket_t, struct sockaddr *, int);
static struct conn *conn_find(uint64_t);
static void	conn_free(struct conn *);
static void	conn_reap(struct conn *);
static void	conn_read(struct bufferevent *, void *);
static void	conn_write(struct bufferevent *, void *);
static void	conn_event(struct bufferevent *, short, void *);
static void	conn_timer(evutil_socket_t, short, void *);
static void	conn_arm(struct conn *);
static void	conn_out_count(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);
static void	conn_refuse_now(struct conn *, uint64_t);
static void	conn_http(struct conn *);
static void	conn_head_free(struct conn *);
static int	conn_route(struct conn *);
static const char *conn_log_path(const char *, char *, size_t);
static void	conn_upgrade(struct conn *);
static void	conn_share(struct conn *, const char *);
static void	conn_bind(struct conn *, const char *);
static void	conn_admitted(struct conn *);
static void	conn_refuse(struct conn *, int, uint64_t);
static void	conn_respond(struct conn *, int, const char *, const void *,
		    size_t, int);
static void	conn_close_after(struct conn *);
static time_t	conn_left(struct conn *, time_t);
static void	conn_frame_track(struct conn *);
static void	conn_ws_input(struct conn *);
static void	conn_send(struct conn *, char *);
static void	conn_error(struct conn *, json_t *, const char *,
		    const char *);
static void	conn_ws_text(void *, const char *, size_t);
static void	conn_ws_error(void *, const char *, const char *);

static struct pending *pending_take(uint64_t, uint64_t);
static void	pending_free(struct conn *, struct pending *);
static void	webchat_reply(uint64_t, uint64_t, json_t *, const char *,
		    const char *, uint64_t);
static void	webchat_event(uint64_t, const char *, json_t *);

static int	send_session_open(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_session_resume(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_chat_send(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_chat_history(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_chat_abort(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_rpc_call(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_share_open(struct conn *, const struct rpc_req *,
		    uint64_t);
static int	send_bind_start(struct conn *, const struct rpc_req *,
		    uint64_t);

static time_t	mono_now(void);

static size_t	wc_max_frame;
static size_t	wc_max_text;
static size_t	wc_max_header;
static size_t	wc_max_conns;
static size_t	wc_idle_timeout;
static size_t	wc_head_timeout;
static size_t	wc_frame_timeout;
static size_t	wc_max_out_total;

static const struct wc_confkey wc_conf[] = {
	/* supervisor/config_webchat.c's ranges, checked again here. */
	{ "max_frame",		65536,	1024,	1024 * 1024,	&wc_max_frame },
	{ "max_text",		16384,	1,	IPC_TEXT_MAX,	&wc_max_text },
	{ "max_header",		8192,	1024,	65536,	&wc_max_header },
	{ "max_conns",		1024,	1,	65536,		&wc_max_conns },
	{ "idle_timeout_s",	300,	5,	86400,	&wc_idle_timeout },
	{ "head_timeout_s",	20,	1,	300,	&wc_head_timeout },
	{ "frame_timeout_s",	20,	1,	300,	&wc_frame_timeout },
	{ "max_out_total",	64 * 1024 * 1024, 1024 * 1024,
	    1024 * 1024 * 1024,	&wc_max_out_total },
	{ NULL,			0,	0,	0,		NULL }
};

static const struct wk_handler webchat_handlers[] = {
	{ IPC_SUP_LISTEN_FD,	webchat_listen_fd },
	{ IPC_SESSION_OK,	webchat_session_ok },
	{ IPC_RPC_ERROR,	webchat_rpc_error },
	{ IPC_CHAT_ACCEPTED,	webchat_chat_accepted },
	{ IPC_HISTORY,		webchat_history },
	{ IPC_CHAT_DELTA,	webchat_chat_delta },
	{ IPC_CHAT_DONE,	webchat_chat_done },
	{ IPC_CHAT_ERROR,	webchat_chat_error },
	{ IPC_CONN_VERDICT,	webchat_conn_verdict },
	{ IPC_SHARE_STATUS,	webchat_share_status },
	{ IPC_SHARE_OK,		webchat_share_ok },
	{ IPC_BIND_STATUS,	webchat_bind_status },
	{ IPC_BIND_STATE,	webchat_bind_state },
	{ IPC_PEER_VERDICT,	webchat_peer_verdict },
	{ 0,			NULL }
};

/* Indexed by enum rpc_method. */
static const wc_sendfn wc_senders[RPC_M_MAX] = {
	[RPC_M_SESSION_OPEN] =		send_session_open,
	[RPC_M_SESSION_RESUME] =	send_session_resume,
	[RPC_M_CHAT_SEND] =		send_chat_send,
	[RPC_M_CHAT_HISTORY] =		send_chat_history,
	[RPC_M_CHAT_ABORT] =		send_chat_abort,
	[RPC_M_SHARE_OPEN] =		send_share_open,
	[RPC_M_BIND_START] =		send_bind_start,
	[RPC_M_OTHER] =			send_rpc_call,
};

static const struct ws_cb wc_ws_cb = {
	.text = conn_ws_text,
	.error = conn_ws_error,
};

const struct wk_kind wk_webchat = {
	"webchat", ROLE_WEBCHAT, WK_F_NONET,
	webchat_pre_sandbox, webchat_post_sandbox, webchat_shutdown,
	webchat_resync, webchat_handlers, NULL, NULL, NULL
};

static struct event_base	*wc_base;
static struct evconnlistener	*wc_listener;
static struct event		*wc_accept_ev;
static struct connlist		 wc_conns[WC_HASH];
static struct pendlist		 wc_pending[WC_HASH];
static size_t			 wc_nconns;
static size_t			 wc_npeer;	/* peer.open in flight */
static size_t			 wc_out_bytes;	/* unsent, all conns */
static int			 wc_paused;	/* EMFILE back-off */
static uint64_t			 wc_next_conn = 1;
static uint64_t			 wc_next_req = 1;
static int			 wc_stopping;
static int			 wc_resynced;	/* a hub took over once */

/* Sent without a bufferevent: an overloaded worker spends nothing on it. */
static const char wc_busy_fmt[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 5\r\nRetry-After: %llu\r\nConnection: close\r\n\r\n"
    "busy\n";

static int
webchat_pre_sandbox(json_t *conf)
{
	const struct wc_confkey *k;
	const char *key;
	json_t *v;
	long long n;
	size_t i;

	if (conf != NULL && !json_is_object(conf)) {
		log_warnx("%s: config is not an object", __func__);
		return -1;
	}
	/* An unknown key is a typo or a version skew: refuse both. */
	if (conf != NULL) {
		json_object_foreach(conf, key, v) {
			if (strcmp(key, "page") == 0 ||
			    strcmp(key, "avatar") == 0)
				continue;	/* page.c's */
			for (k = wc_conf; k->name != NULL; k++)
				if (strcmp(k->name, key) == 0)
					break;
			if (k->name == NULL) {
				log_warnx("%s: unknown key %s", __func__, key);
				return -1;
			}
		}
	}
	for (k = wc_conf; k->name != NULL; k++) {
		if (wk_conf_int(conf, k->name, k->def, k->min, k->max,
		    &n) == -1)
			return -1;
		*k->var = (size_t)n;
	}
	if (wc_max_text > wc_max_frame) {
		log_warnx("%s: max_text above max_frame", __func__);
		return -1;
	}
	if (page_config(conf != NULL ? json_object_get(conf, "page") : NULL,
	    conf != NULL ? json_object_get(conf, "avatar") : NULL) == -1)
		return -1;
	for (i = 0; i < WC_HASH; i++) {
		LIST_INIT(&wc_conns[i]);
		LIST_INIT(&wc_pending[i]);
	}
	return 0;
}

static int
webchat_post_sandbox(struct event_base *base)
{
	wc_base = base;
	wc_accept_ev = evtimer_new(base, webchat_accept_resume, NULL);
	if (wc_accept_ev == NULL) {
		log_warnx("%s: evtimer_new", __func__);
		return -1;
	}
	return 0;
}

/* Stop accepting, then close every connection as well as we can now. */
static void
webchat_shutdown(void)
{
	struct conn *c;
	struct evbuffer *out;
	size_t i;

	wc_stopping = 1;
	if (wc_listener != NULL) {
		evconnlistener_free(wc_listener);
		wc_listener = NULL;
	}
	if (wc_accept_ev != NULL) {
		event_free(wc_accept_ev);
		wc_accept_ev = NULL;
	}
	/*
	 * worker.c may exit as soon as this returns, so the close frames
	 * are written synchronously, once, without waiting for the peer.
	 */
	for (i = 0; i < WC_HASH; i++) {
		while ((c = LIST_FIRST(&wc_conns[i])) != NULL) {
			if (c->ws != NULL)
				(void)ws_close(c->ws, WS_CLOSE_GOING_AWAY);
			out = bufferevent_get_output(c->bev);
			if (evbuffer_get_length(out) > 0)
				(void)evbuffer_write(out,
				    bufferevent_getfd(c->bev));
			conn_free(c);
		}
	}
}

/*
 * Every connection goes: the new hub has admitted none, bound none to a
 * session and holds none of their requests.  Its replies to frames the
 * old hub left unread find nothing pending and are dropped.
 */
static void
webchat_resync(void)
{
	struct conn *c, *next;
	size_t i, n = 0;

	wc_resynced = 1;
	if (wc_stopping)
		return;
	for (i = 0; i < WC_HASH; i++)
		for (c = LIST_FIRST(&wc_conns[i]); c != NULL; c = next) {
			/* conn_resync() frees at most c itself. */
			next = LIST_NEXT(c, hash);
			conn_resync(c);
			n++;
		}
	log_info("%s: %zu connection%s closed for the new hub", __func__, n,
	    n == 1 ? "" : "s");
}

/*
 * One connection, by state.  Its close frames still go to the new hub:
 * one it never knew is ignored, and one whose peer.open or conn.open it
 * read late from the socket is counted down again.
 */
static void
conn_resync(struct conn *c)
{
	struct pending *p;
	int opened;

	while ((p = TAILQ_FIRST(&c->pending)) != NULL)
		pending_free(c, p);
	switch (c->state) {
	case C_WS:
		/* The page takes 1012 as any drop and reconnects soon. */
		if (!c->dead && ws_close(c->ws, WS_CLOSE_RESTART) == 0) {
			conn_close_after(c);
			return;
		}
		break;
	case C_HTTP:
		/* What is written goes out, then FIN; no head is read. */
		if (!c->dead) {
			conn_close_after(c);
			return;
		}
		break;
	case C_CLOSING:
		/* Closing already; only its requests had to go. */
		if (!c->dead)
			return;
		break;
	case C_PEER:
		/*
		 * A 503 rather than a reset, which a client cannot tell
		 * from a crash.  Should the new hub read its peer.open
		 * late: undone.
		 */
		webchat_busy(bufferevent_getfd(c->bev), 1);
		c->peered = 1;
		break;
	case C_ADMIT:
	case C_SHARE:
		/*
		 * The verdict or status would never come: try again.  Its
		 * conn.close still goes, as for any other state.
		 */
		if (!c->dead) {
			opened = c->opened;
			bufferevent_enable(c->bev, EV_READ);
			conn_refuse(c, 503, 1000);
			c->opened = opened;
			return;
		}
		break;
	}
	conn_free(c);
}

static int
webchat_listen_fd(const struct ipc_msg *m)
{
	if (m->fd == -1) {
		log_warnx("%s: no fd", __func__);
		return -1;
	}
	/* The same bound socket, from a new hub: keep the one we have. */
	if (wc_listener != NULL && wc_resynced && !wc_stopping) {
		log_info("%s: listening already; the new fd is closed",
		    __func__);
		close(m->fd);
		return 0;
	}
	if (wc_listener != NULL || wc_stopping || wc_base == NULL) {
		log_warnx("%s: unexpected listen fd", __func__);
		close(m->fd);
		return -1;
	}
	if (evutil_make_socket_nonblocking(m->fd) == -1) {
		log_warn("%s: nonblocking", __func__);
		close(m->fd);
		return -1;
	}
	/*
	 * Several workers accept on this one socket; a lost race is
	 * EAGAIN.  Not SO_REUSEPORT with a socket each: the kernel hashes
	 * each connection to one socket's queue, so a full worker could not
	 * hand its share to the others, and a killed worker's queue would
	 * be dropped with every connection in it.  A full worker instead
	 * stops accepting here (webchat_listen_update()).
	 */
	wc_listener = evconnlistener_new(wc_base, webchat_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, m->fd);
	if (wc_listener == NULL) {
		log_warnx("%s: evconnlistener_new", __func__);
		close(m->fd);
		return -1;
	}
	evconnlistener_set_error_cb(wc_listener, webchat_accept_error);
	webchat_listen_update();
	log_debug("%s: accepting on fd %d", __func__, m->fd);
	return 0;
}

static void
webchat_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)l;
	(void)arg;
	/* Only in the batch that filled us: the listener is off by now. */
	if (wc_nconns >= wc_max_conns) {
		webchat_reject(fd, 5);
		return;
	}
	(void)conn_new(fd, sa, salen);
	webchat_listen_update();
}

/*
 * Accept only with room for one more connection and for one more
 * verdict.  A full worker leaves the shared queue to the other workers;
 * when every one is full, connections wait in the kernel's queue, which
 * policy.tcp_conns_total is meant to keep from happening.
 */
static void
webchat_listen_update(void)
{
	if (wc_listener == NULL)
		return;
	if (!wc_paused && wc_nconns < wc_max_conns &&
	    wc_npeer < WC_PEER_PENDING_MAX)
		evconnlistener_enable(wc_listener);
	else
		evconnlistener_disable(wc_listener);
}

/*
 * One best-effort answer and close, with no bufferevent.  Whatever the
 * client already sent is read first: closing with unread input sends a
 * reset, which can destroy the 503 before the client reads it.  The
 * socket is fresh, so the answer fits its send buffer.
 */
static void
webchat_reject(evutil_socket_t fd, unsigned long long retry_s)
{
	webchat_busy(fd, retry_s);
	close(fd);
}

static void
webchat_busy(evutil_socket_t fd, unsigned long long retry_s)
{
	char buf[512];
	size_t n;
	ssize_t r;
	int len;

	for (n = 0; n < WC_REFUSE_DRAIN; n += (size_t)r)
		if ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
			break;
	len = snprintf(buf, sizeof(buf), wc_busy_fmt, retry_s);
	if (len > 0 && (size_t)len < sizeof(buf))
		(void)send(fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(fd, SHUT_WR);
}

static void
webchat_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval tv = { WC_ACCEPT_PAUSE_S, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (e == EAGAIN || e == EINTR || e == ECONNABORTED)
		return;
	/*
	 * Out of fds: the pending connection stays queued and the listener
	 * would fire again at once.  Pause instead of spinning.
	 */
	log_warnx("%s: accept: %s", __func__, strerror(e));
	(void)l;
	wc_paused = 1;
	webchat_listen_update();
	evtimer_add(wc_accept_ev, &tv);
}

static void
webchat_accept_resume(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	wc_paused = 0;
	webchat_listen_update();
}

static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct conn *
conn_new(evutil_socket_t fd, struct sockaddr *sa, int salen)
{
	struct conn *c;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct ipc_body_conn_addr b;

	c = xcalloc(1, sizeof(*c));
	c->id = wc_next_conn++;
	c->state = C_PEER;
	/* The head deadline runs from here, not from a first byte. */
	c->last = c->started = mono_now();
	TAILQ_INIT(&c->pending);
	(void)salen;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, c->addr, sizeof(c->addr));
		break;
	case AF_INET6:
		sin6 = (struct sockaddr_in6 *)sa;
		/* A v4 client on a dual-stack socket is logged as v4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12],
			    c->addr, sizeof(c->addr));
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, c->addr,
			    sizeof(c->addr));
		break;
	default:
		/*
		 * Not an IP peer.  X-Forwarded-For travels to the
		 * supervisor, which believes it only from trusted_proxies.
		 */
		memcpy(c->addr, "local", sizeof("local"));
		break;
	}

	c->bev = bufferevent_socket_new(wc_base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(wc_base, conn_timer, c);
	if (c->bev == NULL || c->timer == NULL) {
		log_warnx("%s: out of event memory", __func__);
		if (c->bev == NULL)
			close(fd);
		else
			bufferevent_free(c->bev);
		if (c->timer != NULL)
			event_free(c->timer);
		free(c);
		return NULL;
	}
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev),
	    conn_out_count, c);
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	/* Nothing is read until the supervisor has counted this peer. */
	bufferevent_enable(c->bev, EV_WRITE);
	LIST_INSERT_HEAD(&wc_conns[c->id % WC_HASH], c, hash);
	wc_nconns++;
	conn_arm(c);
	log_debug("%s: conn %" PRIu64 " from %s", __func__, c->id, c->addr);
	b.conn = c->id;
	b.addr = ipc_s(c->addr);
	wc_npeer++;
	if (worker_send(IPC_PEER_OPEN, 0, &b) == -1) {
		conn_refuse_now(c, 5000);
		return NULL;
	}
	return c;
}

static struct conn *
conn_find(uint64_t id)
{
	struct conn *c;

	LIST_FOREACH(c, &wc_conns[id % WC_HASH], hash)
		if (c->id == id)
			return c;
	return NULL;
}

static void
conn_free(struct conn *c)
{
	struct pending *p;
	struct ipc_body_conn body;

	if (c == NULL)
		return;
	log_debug("%s: conn %" PRIu64, __func__, c->id);
	/*
	 * The supervisor counts what conn.open admitted; tell it, even
	 * with the queue full (a stalled hub, and clients that filled it
	 * with requests): a close lost there is a place lost for good.
	 */
	if (c->opened) {
		body.conn = c->id;
		if (worker_send_owed(IPC_CONN_CLOSE, 0, &body) == -1)
			log_warnx("%s: conn.close not sent", __func__);
	}
	if (c->peered) {
		body.conn = c->id;
		if (worker_send_owed(IPC_PEER_CLOSE, 0, &body) == -1)
			log_warnx("%s: peer.close not sent", __func__);
	}
	if (c->state == C_PEER)
		wc_npeer--;
	while ((p = TAILQ_FIRST(&c->pending)) != NULL)
		pending_free(c, p);
	LIST_REMOVE(c, hash);
	wc_nconns--;
	/* What is still unsent leaves our count with the buffer. */
	wc_out_bytes -= evbuffer_get_length(bufferevent_get_output(c->bev));
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	conn_head_free(c);
	ws_free(c->ws);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
	webchat_listen_update();
}

/*
 * Over the pool's or this peer's TCP cap, or no verdict to be had: a fast
 * 503 on the bare socket, then close.  It never costs a lingering slot,
 * so refused connections cannot fill the worker either.
 */
static void
conn_refuse_now(struct conn *c, uint64_t retry_ms)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	unsigned long long secs = (retry_ms + 999) / 1000;

	log_debug("%s: conn %" PRIu64 " refused at accept", __func__, c->id);
	c->peered = 0;
	/* The bufferevent owns the fd and closes it in conn_free(). */
	webchat_busy(fd, secs > 0 ? secs : 1);
	conn_free(c);
}

static int
webchat_peer_verdict(const struct ipc_msg *m)
{
	const struct ipc_body_conn_verdict *v = &m->b.conn_verdict;
	struct conn *c;

	if ((c = conn_find(v->conn)) == NULL || c->state != C_PEER) {
		log_debug("%s: verdict for gone conn %" PRIu64, __func__,
		    v->conn);
		return 0;
	}
	if (v->status != 0) {
		conn_refuse_now(c, v->retry_after_ms);
		return 0;
	}
	wc_npeer--;
	c->peered = 1;
	c->state = C_HTTP;
	bufferevent_enable(c->bev, EV_READ);
	conn_arm(c);
	webchat_listen_update();
	return 0;
}

/* Every change to an output buffer, so wc_out_bytes is always exact. */
static void
conn_out_count(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)buf;
	(void)arg;
	wc_out_bytes += info->n_added;
	wc_out_bytes -= info->n_deleted;
}

/*
 * Over max_out_total: drop the connections with the largest backlog
 * first, until the rest fit.  The biggest backlog is the slowest reader
 * or the one a flood of output targets; refusing new output instead
 * would punish whoever is written to next, usually a healthy page.
 * Others are freed now; self is marked for its caller to reap.
 */
static void
webchat_shed(struct conn *self)
{
	struct conn *c, *big;
	size_t i, len, blen, doomed = 0;

	while (wc_out_bytes - doomed > wc_max_out_total) {
		big = NULL;
		blen = 0;
		for (i = 0; i < WC_HASH; i++)
			LIST_FOREACH(c, &wc_conns[i], hash) {
				if (c->dead)
					continue;
				len = evbuffer_get_length(
				    bufferevent_get_output(c->bev));
				if (len > blen) {
					big = c;
					blen = len;
				}
			}
		if (big == NULL)
			return;
		/* Rare and one line per drop: worth seeing at info. */
		log_info("%s: conn %" PRIu64 " dropped with %zu bytes "
		    "unsent, over max_out_total", __func__, big->id, blen);
		if (big == self) {
			big->dead = 1;
			doomed += blen;
		} else
			conn_free(big);
	}
}

/* Callbacks from ws.c may not free; they mark, and the top level reaps. */
static void
conn_reap(struct conn *c)
{
	if (c->dead)
		conn_free(c);
}

/*
 * Seconds left before this connection's deadline.  A request head is
 * due head_timeout_s after accept() or after the previous response, so
 * neither silence nor bytes trickling in (slowloris) hold a slot longer;
 * a WebSocket frame, or a message sent in fragments, is due
 * frame_timeout_s after its first byte, as trickling frame bytes (or
 * fragments) would otherwise count as activity forever.
 */
static time_t
conn_left(struct conn *c, time_t now)
{
	time_t idle, frame;

	switch (c->state) {
	case C_CLOSING:
		return WC_LINGER_S;
	case C_PEER:
	case C_HTTP:
		return (time_t)wc_head_timeout - (now - c->started);
	case C_WS:
		idle = (time_t)wc_idle_timeout - (now - c->last);
		if (c->frame_at == 0)
			return idle;
		frame = (time_t)wc_frame_timeout - (now - c->frame_at);
		return frame < idle ? frame : idle;
	default:
		return (time_t)wc_idle_timeout - (now - c->last);
	}
}

static void
conn_arm(struct conn *c)
{
	struct timeval tv = { 0, 0 };
	time_t limit;

	limit = conn_left(c, mono_now());
	tv.tv_sec = limit > 0 ? limit : 0;
	evtimer_add(c->timer, &tv);
}

static void
conn_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->state == C_CLOSING || conn_left(c, mono_now()) <= 0) {
		log_debug("%s: conn %" PRIu64 " timed out", __func__, c->id);
		/* Part of a head came: say why.  Silence gets silence. */
		if (c->state == C_HTTP && c->head != NULL &&
		    c->head->hp.nread > 0) {
			conn_respond(c, 408, "text/plain", NULL, 0,
			    HTTP_R_CLOSE);
			return;
		}
		if (c->state == C_WS && c->frame_at != 0 &&
		    ws_close(c->ws, WS_CLOSE_POLICY) == 0) {
			conn_close_after(c);
			return;
		}
		/* An idle page learns why with a close frame, then lingers. */
		if (c->state == C_WS &&
		    ws_close(c->ws, WS_CLOSE_GOING_AWAY) == 0) {
			conn_close_after(c);
			return;
		}
		/*
		 * No peer.verdict in time: the hub is slow, not the client,
		 * who gets a 503.  The hub may yet read our peer.open and
		 * count a place; peer.close gives it back (one it never
		 * counted is ignored), else it is held for our lifetime.
		 */
		if (c->state == C_PEER) {
			webchat_busy(bufferevent_getfd(c->bev), 1);
			c->peered = 1;
		}
		conn_free(c);
		return;
	}
	conn_arm(c);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->last = mono_now();
	switch (c->state) {
	case C_HTTP:
		conn_http(c);
		break;
	case C_WS:
		conn_ws_input(c);
		break;
	case C_PEER:
	case C_ADMIT:
	case C_SHARE:
		/* Reading is off until the verdict; nothing to do. */
		break;
	case C_CLOSING:
		/* Lingering: read and drop so our reply is not reset. */
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	}
	conn_reap(c);
}

/* Frames read: drop on error, linger once the close handshake is over. */
static void
conn_ws_input(struct conn *c)
{
	if (ws_read(c->ws) == -1)
		c->dead = 1;
	else if (ws_finished(c->ws))
		conn_close_after(c);
	else
		conn_frame_track(c);
}

/* Start or stop the frame deadline as a frame is begun or completed. */
static void
conn_frame_track(struct conn *c)
{
	if (!ws_partial(c->ws))
		c->frame_at = 0;
	else if (c->frame_at == 0) {
		c->frame_at = mono_now();
		conn_arm(c);
	}
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	/* Output drained: read the heads we stopped at (conn_http()). */
	if (c->state == C_HTTP && c->backlog) {
		c->backlog = 0;
		bufferevent_enable(bev, EV_READ);
		conn_http(c);
		conn_reap(c);
		return;
	}
	if (c->state != C_CLOSING || c->shut)
		return;
	/*
	 * Everything is written: send FIN, then keep reading until the
	 * peer closes or WC_LINGER_S passes, as a close with unread input
	 * would reset the connection and could lose the reply.
	 */
	(void)shutdown(bufferevent_getfd(bev), SHUT_WR);
	c->shut = 1;
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		log_debug("%s: conn %" PRIu64 " %s", __func__, c->id,
		    (what & BEV_EVENT_EOF) ? "eof" : "error");
		conn_free(c);
	}
}

/* Parse and answer request heads, several when pipelined. */
static void
conn_http(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	enum http_result r;
	size_t avail, used;
	const char *p;

	while (c->state == C_HTTP && !c->dead &&
	    (avail = evbuffer_get_length(in)) > 0) {
		/*
		 * A client that pipelines requests and reads no answers would
		 * grow our output without bound: stop until it has read.
		 */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    WC_HTTP_OUT_MAX) {
			c->backlog = 1;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		/* Pull up at most one head's worth: each byte is fed once. */
		if (avail > wc_max_header + 1)
			avail = wc_max_header + 1;
		if ((p = (const char *)evbuffer_pullup(in, avail)) == NULL) {
			c->dead = 1;
			return;
		}
		if (c->head == NULL) {
			c->head = xcalloc(1, sizeof(*c->head));
			http_parse_init(&c->head->hp, &c->head->req,
			    wc_max_header);
		}
		r = http_parse_feed(&c->head->hp, p, avail, &used);
		evbuffer_drain(in, used);
		switch (r) {
		case HTTP_MORE:
			conn_arm(c);
			break;
		case HTTP_ERROR:
			log_debug("%s: conn %" PRIu64 " bad request: %d",
			    __func__, c->id, c->head->hp.status);
			conn_respond(c, c->head->hp.status, "text/plain", NULL,
			    0, HTTP_R_CLOSE);
			break;
		case HTTP_DONE:
			if (conn_route(c) == 0) {
				/* Keep-alive: the next head is due from now. */
				c->started = mono_now();
				conn_arm(c);
			}
			break;
		}
		/* Answered (or handed to the hub): the next head starts anew. */
		if (r != HTTP_MORE)
			conn_head_free(c);
	}
}

static void
conn_head_free(struct conn *c)
{
	free(c->head);
	c->head = NULL;
}

/*
 * The path as it may be logged.  A share link's id is its secret: it is
 * never logged at any level, only the first 8 hex digits of its SHA-256,
 * enough to match log lines with each other, not to open the link.
 */
static const char *
conn_log_path(const char *path, char *out, size_t len)
{
	uint8_t md[SHA256_LEN];
	const char *end;
	size_t n, pre;

	/* An invitation's token is as secret as a share link's id. */
	if (strncmp(path, "/s/", 3) == 0)
		pre = 3;
	else if (strncmp(path, "/bind/", 6) == 0)
		pre = 6;
	else
		return path;
	n = strcspn(path + pre, "/");
	end = path + pre + n;
	sha256(path + pre, n, md);
	snprintf(out, len, "%.*s(link sha256 %02x%02x%02x%02x)%s",
	    (int)pre, path, md[0], md[1], md[2], md[3], end);
	return out;
}

/* 0 to read the next request on this connection, -1 when done with it. */
static int
conn_route(struct conn *c)
{
	const struct http_req *r = &c->head->req;
	const struct page_asset *a;
	int flags = r->keep_alive ? 0 : HTTP_R_CLOSE;
	char lp[128];

	log_debug("%s: conn %" PRIu64 " %s %s", __func__, c->id,
	    http_method_str(r->method), conn_log_path(r->path, lp,
	    sizeof(lp)));
	if (r->method != HTTP_GET) {
		conn_respond(c, 405, "text/plain", NULL, 0, HTTP_R_CLOSE);
		return -1;
	}
	if (strcmp(r->path, "/ws") == 0) {
		conn_upgrade(c);
		return -1;
	}
	/* After an Upgrade head the bytes that follow are not HTTP. */
	if (r->upgrade)
		flags = HTTP_R_CLOSE;
	if (strncmp(r->path, "/s/", 3) == 0) {
		conn_share(c, r->path + 3);
		return -1;
	}
	if (strncmp(r->path, "/bind/", 6) == 0) {
		conn_bind(c, r->path + 6);
		return -1;
	}
	if (strcmp(r->path, "/healthz") == 0)
		conn_respond(c, 200, "text/plain; charset=utf-8", "ok\n", 3,
		    flags);
	else if ((a = page_find(r->path)) != NULL)
		conn_respond(c, 200, a->ctype, a->data, *a->len, flags);
	else
		conn_respond(c, 404, "text/plain; charset=utf-8",
		    "not found\n", 10, flags);
	return c->state == C_HTTP ? 0 : -1;
}

/*
 * A valid handshake waits for the supervisor, which counts connections
 * per client address and decides whom X-Forwarded-For names.  Reading
 * stops meanwhile, so frames sent early wait in the socket.
 */
static void
conn_upgrade(struct conn *c)
{
	struct ipc_body_conn_open b;
	int status;

	if ((status = ws_handshake_check(&c->head->req, c->accept)) != 0) {
		log_debug("%s: conn %" PRIu64 " handshake refused: %d",
		    __func__, c->id, status);
		conn_respond(c, status, "text/plain", NULL, 0, HTTP_R_CLOSE);
		return;
	}
	b.conn = c->id;
	b.peer = ipc_s(c->addr);
	b.forwarded = ipc_s(c->head->req.h_forwarded);
	if (worker_send(IPC_CONN_OPEN, 0, &b) == -1) {
		conn_respond(c, 503, "text/plain", NULL, 0, HTTP_R_CLOSE);
		return;
	}
	c->opened = 1;
	c->state = C_ADMIT;
	bufferevent_disable(c->bev, EV_READ);
}

/*
 * GET /s/<id> and /s/<id>/qr.svg: only the supervisor knows whether a
 * link is live, so ask it and wait, as for an upgrade.  Anything not
 * shaped like a link id is answered here without asking.
 */
static void
conn_share(struct conn *c, const char *rest)
{
	struct ipc_body_share_check b;
	const char *slash;
	size_t len, i;

	slash = strchr(rest, '/');
	len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	c->share_qr = slash != NULL && strcmp(slash, "/qr.svg") == 0;
	for (i = 0; i < len; i++)
		if (!((rest[i] >= '0' && rest[i] <= '9') ||
		    (rest[i] >= 'a' && rest[i] <= 'f')))
			break;
	if (len == 0 || len > IPC_TOKEN_MAX || i != len ||
	    (slash != NULL && !c->share_qr)) {
		conn_respond(c, 404, "text/plain; charset=utf-8",
		    "not found\n", 10, HTTP_R_CLOSE);
		return;
	}
	b.conn = c->id;
	b.id.p = rest;
	b.id.len = len;
	b.peer = ipc_s(c->addr);
	b.forwarded = ipc_s(c->head->req.h_forwarded);
	if (worker_send(IPC_SHARE_CHECK, 0, &b) == -1) {
		conn_respond(c, 503, "text/plain", NULL, 0, HTTP_R_CLOSE);
		return;
	}
	c->state = C_SHARE;
	bufferevent_disable(c->bev, EV_READ);
}

static int
webchat_share_status(const struct ipc_msg *m)
{
	const struct ipc_body_share_status *st = &m->b.share_status;
	const struct page_asset *a;
	struct conn *c;
	char *url, *svg;

	if ((c = conn_find(st->conn)) == NULL || c->state != C_SHARE) {
		log_debug("%s: status for gone conn %" PRIu64, __func__,
		    st->conn);
		return 0;
	}
	bufferevent_enable(c->bev, EV_READ);
	c->state = C_HTTP;
	if (st->status == 200 && c->share_qr) {
		url = ipc_strdup(st->url);
		if ((svg = qr_svg(url)) == NULL)
			conn_respond(c, 500, "text/plain", NULL, 0,
			    HTTP_R_CLOSE);
		else
			conn_respond(c, 200, "image/svg+xml", svg,
			    strlen(svg), HTTP_R_CLOSE);
		free(svg);
		freezero(url, st->url.len + 1);
	} else if (st->status == 200 && (a = page_find("/")) != NULL)
		conn_respond(c, 200, a->ctype, a->data, *a->len, HTTP_R_CLOSE);
	else if (st->status == 410)
		conn_respond(c, 410, "text/html; charset=utf-8", page_gone,
		    strlen(page_gone), HTTP_R_CLOSE);
	else if (st->status == 404)
		conn_respond(c, 404, "text/plain; charset=utf-8",
		    "not found\n", 10, HTTP_R_CLOSE);
	else if (st->status == 429)
		conn_refuse(c, 429, st->retry_after_ms);
	else
		conn_respond(c, 503, "text/plain", NULL, 0, HTTP_R_CLOSE);
	conn_reap(c);
	return 0;
}

/*
 * GET /bind/<token>: an invitation's page.  Only the hub can tell a
 * live token (policy/invite.c checks its shape); anything that is not
 * a token's characters is answered here.
 */
static void
conn_bind(struct conn *c, const char *tok)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	struct ipc_body_share_check b;
	size_t len;

	len = strlen(tok);
	if (len == 0 || len > IPC_TOKEN_MAX || strspn(tok, chars) != len) {
		conn_respond(c, 404, "text/html; charset=utf-8",
		    page_bind_invalid, strlen(page_bind_invalid),
		    HTTP_R_CLOSE);
		return;
	}
	b.conn = c->id;
	b.id.p = tok;
	b.id.len = len;
	b.peer = ipc_s(c->addr);
	b.forwarded = ipc_s(c->head->req.h_forwarded);
	if (worker_send(IPC_BIND_CHECK, 0, &b) == -1) {
		conn_respond(c, 503, "text/plain", NULL, 0, HTTP_R_CLOSE);
		return;
	}
	c->state = C_SHARE;
	c->bind = 1;
	bufferevent_disable(c->bev, EV_READ);
}

/* Small pages that say what happened, never an error dump. */
static int
webchat_bind_status(const struct ipc_msg *m)
{
	const struct ipc_body_bind_status *st = &m->b.bind_status;
	const struct page_asset *a;
	const char *page;
	struct conn *c;

	if ((c = conn_find(st->conn)) == NULL || c->state != C_SHARE ||
	    !c->bind) {
		log_debug("%s: status for gone conn %" PRIu64, __func__,
		    st->conn);
		return 0;
	}
	bufferevent_enable(c->bev, EV_READ);
	c->state = C_HTTP;
	c->bind = 0;
	if (st->status == 200 && (a = page_find("/bind.html")) != NULL)
		conn_respond(c, 200, a->ctype, a->data, *a->len, HTTP_R_CLOSE);
	else if (st->status == 404 || st->status == 410) {
		page = st->status == 404 ? page_bind_invalid :
		    ipc_streq(st->why, "expired") ? page_bind_expired :
		    ipc_streq(st->why, "revoked") ? page_bind_revoked :
		    page_bind_used;
		conn_respond(c, (int)st->status, "text/html; charset=utf-8",
		    page, strlen(page), HTTP_R_CLOSE);
	} else if (st->status == 429)
		conn_refuse(c, 429, st->retry_after_ms);
	else
		conn_respond(c, 503, "text/plain", NULL, 0, HTTP_R_CLOSE);
	conn_reap(c);
	return 0;
}

/*
 * Where the page's login is: the answer to its bind.start, then events.
 * A QR code's URL is drawn here (common/qr.c), as a share link's is;
 * the page shows the SVG as an image.
 */
static int
webchat_bind_state(const struct ipc_msg *m)
{
	const struct ipc_body_bind_state *b = &m->b.bind_state;
	json_t *f;
	char *url, *svg = NULL;

	f = json_pack("{s:o}", "state", rpc_strn(b->state.p, b->state.len));
	if (f == NULL)
		return -1;
	if (b->url.len > 0) {
		url = ipc_strdup(b->url);
		svg = qr_svg(url);
		free(url);
		if (svg == NULL) {
			json_decref(f);
			return 0;
		}
		json_object_set_new(f, "svg", json_string(svg));
		/* For a phone that cannot scan its own screen. */
		json_object_set_new(f, "url", rpc_strn(b->url.p, b->url.len));
		free(svg);
	}
	if (m->req_id != 0)
		webchat_reply(m->req_id, b->conn, f, NULL, NULL, 0);
	else
		webchat_event(b->conn, "bind.state", f);
	return 0;
}

static int
webchat_conn_verdict(const struct ipc_msg *m)
{
	const struct ipc_body_conn_verdict *v = &m->b.conn_verdict;
	struct conn *c;

	if ((c = conn_find(v->conn)) == NULL || c->state != C_ADMIT) {
		log_debug("%s: verdict for gone conn %" PRIu64, __func__,
		    v->conn);
		return 0;
	}
	bufferevent_enable(c->bev, EV_READ);
	if (v->status != 0)
		conn_refuse(c, (int)v->status, v->retry_after_ms);
	else
		conn_admitted(c);
	conn_reap(c);
	return 0;
}

/* Refused by policy: the status the supervisor chose, with when. */
static void
conn_refuse(struct conn *c, int status, uint64_t retry_ms)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	unsigned long long secs = (retry_ms + 999) / 1000;

	log_debug("%s: conn %" PRIu64 " refused: %d", __func__, c->id,
	    status);
	c->opened = 0;		/* never counted */
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 12\r\nRetry-After: %llu\r\n"
	    "Connection: close\r\n\r\ntry later.\r\n", status,
	    http_reason(status), secs > 0 ? secs : 1);
	conn_close_after(c);
}

static void
conn_admitted(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->ws = ws_new(in, bufferevent_get_output(c->bev), wc_max_frame,
	    &wc_ws_cb, c);
	if (c->ws == NULL) {
		conn_respond(c, 503, "text/plain", NULL, 0, HTTP_R_CLOSE);
		return;
	}
	ws_handshake_response(bufferevent_get_output(c->bev), c->accept);
	c->state = C_WS;
	conn_arm(c);
	log_debug("%s: conn %" PRIu64 " websocket", __func__, c->id);
	/*
	 * A client may send its first frames with the head, and may send
	 * no more: what they begin or close is dealt with as in
	 * conn_read(), or a half frame would wait for the idle deadline.
	 */
	if (evbuffer_get_length(in) > 0)
		conn_ws_input(c);
}

static void
conn_respond(struct conn *c, int status, const char *ctype,
    const void *body, size_t len, int flags)
{
	http_response(bufferevent_get_output(c->bev), status, ctype, body,
	    len, flags);
	if (flags & HTTP_R_CLOSE)
		conn_close_after(c);
	webchat_shed(c);
}

static void
conn_close_after(struct conn *c)
{
	c->state = C_CLOSING;
	conn_arm(c);
	/* Nothing left to write: the write callback would never run. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_write(c->bev, c);
}

/* Send a formatted frame (consumed); a stuck peer is dropped. */
static void
conn_send(struct conn *c, char *s)
{
	if (s == NULL) {
		log_warnx("%s: conn %" PRIu64 " frame not built", __func__,
		    c->id);
		return;
	}
	c->last = mono_now();
	if (c->ws == NULL || ws_send_text(c->ws, s, strlen(s)) == -1) {
		log_debug("%s: conn %" PRIu64 " too slow, dropped", __func__,
		    c->id);
		c->dead = 1;
	}
	free(s);
	webchat_shed(c);
}

static void
conn_error(struct conn *c, json_t *id, const char *code, const char *msg)
{
	conn_send(c, rpc_reply_error(id, code, msg));
}

static void
conn_ws_error(void *arg, const char *code, const char *message)
{
	conn_error(arg, NULL, code, message);
}

static void
conn_ws_text(void *arg, const char *buf, size_t len)
{
	struct conn *c = arg;
	struct rpc_req r;
	struct pending *p;
	enum rpc_err e;
	uint64_t req_id;

	if (c->dead)
		return;
	e = rpc_parse(buf, len, wc_max_text, &r);
	/* Not a method of ours: the supervisor says whose, and audits. */
	if (e == RPC_E_UNKNOWN_METHOD && r.mname != NULL) {
		r.method = RPC_M_OTHER;
		e = RPC_OK;
	}
	if (e != RPC_OK) {
		log_debug("%s: conn %" PRIu64 " %s: %s", __func__, c->id,
		    rpc_code(e), r.errmsg);
		conn_error(c, r.id, rpc_code(e), r.errmsg);
		goto out;
	}
	/* Full until the hub answers some: a second is a fair wait. */
	if (c->npending >= WC_PENDING_MAX) {
		conn_send(c, rpc_reply_error_retry(r.id, rpc_code(RPC_E_BUSY),
		    "too many requests in flight", WC_PENDING_RETRY_MS));
		goto out;
	}
	req_id = wc_next_req++;
	log_debug("%s: conn %" PRIu64 " %s req %" PRIu64, __func__, c->id,
	    rpc_method_name(r.method), req_id);
	if (wc_senders[r.method](c, &r, req_id) == -1) {
		conn_error(c, r.id, rpc_code(RPC_E_BUSY),
		    "server busy, retry");
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	p->req_id = req_id;
	p->conn = c->id;
	p->method = r.method;
	p->id = json_incref(r.id);
	LIST_INSERT_HEAD(&wc_pending[req_id % WC_HASH], p, hash);
	TAILQ_INSERT_TAIL(&c->pending, p, by_conn);
	c->npending++;
out:
	rpc_req_clear(&r);
}

static int
send_session_open(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_conn_addr b;

	(void)r;
	b.conn = c->id;
	b.addr = ipc_s(c->addr);
	return worker_send(IPC_SESSION_OPEN, req_id, &b);
}

static int
send_session_resume(struct conn *c, const struct rpc_req *r,
    uint64_t req_id)
{
	struct ipc_body_resume b;

	b.conn = c->id;
	b.addr = ipc_s(c->addr);
	b.token.p = r->token;
	b.token.len = r->token_len;
	return worker_send(IPC_SESSION_RESUME, req_id, &b);
}

static int
send_chat_send(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_chat_send b;

	b.conn = c->id;
	b.client_msg_id.p = r->msgid;
	b.client_msg_id.len = r->msgid_len;
	b.text.p = r->text;
	b.text.len = r->text_len;
	return worker_send(IPC_CHAT_SEND, req_id, &b);
}

static int
send_chat_history(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_history_req b;

	b.conn = c->id;
	b.limit = r->limit;
	return worker_send(IPC_CHAT_HISTORY, req_id, &b);
}

static int
send_chat_abort(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_chat_abort b;

	b.conn = c->id;
	b.client_msg_id.p = r->msgid;
	b.client_msg_id.len = r->msgid_len;
	return worker_send(IPC_CHAT_ABORT, req_id, &b);
}

static int
send_rpc_call(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_rpc_call b;

	b.conn = c->id;
	b.method.p = r->mname;
	b.method.len = r->mname_len;
	return worker_send(IPC_RPC_CALL, req_id, &b);
}

static int
send_share_open(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_share_open b;

	b.conn = c->id;
	b.addr = ipc_s(c->addr);
	b.token.p = r->token;
	b.token.len = r->token_len;
	b.visitor = r->visitor != NULL ?
	    (struct ipc_str){ r->visitor, r->visitor_len } : IPC_S("");
	return worker_send(IPC_SHARE_OPEN, req_id, &b);
}

static int
send_bind_start(struct conn *c, const struct rpc_req *r, uint64_t req_id)
{
	struct ipc_body_bind_start b;

	b.conn = c->id;
	b.token.p = r->token;
	b.token.len = r->token_len;
	return worker_send(IPC_BIND_START, req_id, &b);
}

/*
 * The pending request a reply answers, or NULL when its connection has
 * gone (pending_free() ran) and the reply is to be dropped.
 */
static struct pending *
pending_take(uint64_t req_id, uint64_t conn)
{
	struct pending *p;

	LIST_FOREACH(p, &wc_pending[req_id % WC_HASH], hash)
		if (p->req_id == req_id)
			break;
	if (p == NULL) {
		log_debug("%s: req %" PRIu64 " not pending (closed?)",
		    __func__, req_id);
		return NULL;
	}
	if (p->conn != conn) {
		/* The supervisor echoes what we sent; a mismatch is its bug. */
		log_warnx("%s: req %" PRIu64 " for conn %" PRIu64
		    " answered for %" PRIu64, __func__, req_id, p->conn, conn);
		return NULL;
	}
	return p;
}

static void
pending_free(struct conn *c, struct pending *p)
{
	LIST_REMOVE(p, hash);
	TAILQ_REMOVE(&c->pending, p, by_conn);
	c->npending--;
	json_decref(p->id);
	free(p);
}

/* Reply to the request named by req_id; result is consumed. */
static void
webchat_reply(uint64_t req_id, uint64_t conn, json_t *result,
    const char *code, const char *message, uint64_t retry_ms)
{
	struct pending *p;
	struct conn *c;

	if ((p = pending_take(req_id, conn)) == NULL ||
	    (c = conn_find(p->conn)) == NULL) {
		json_decref(result);
		return;
	}
	if (code != NULL) {
		json_decref(result);
		conn_send(c, rpc_reply_error_retry(p->id, code, message,
		    retry_ms));
	} else
		conn_send(c, rpc_reply_ok(p->id, result));
	pending_free(c, p);
	conn_reap(c);
}

static int
webchat_session_ok(const struct ipc_msg *m)
{
	const struct ipc_body_session_ok *b = &m->b.session_ok;
	json_t *res;

	if (b->resumed)
		res = json_pack("{s:b}", "resumed", 1);
	else
		res = json_pack("{s:o}", "token",
		    rpc_strn(b->token.p, b->token.len));
	webchat_reply(m->req_id, b->conn, res, NULL, NULL, 0);
	return 0;
}

static int
webchat_share_ok(const struct ipc_msg *m)
{
	const struct ipc_body_share_ok *b = &m->b.share_ok;

	json_t *res;

	res = json_pack("{s:b}", "read_only", b->read_only);
	/* A per-visitor link's new session: the page keeps the token. */
	if (res != NULL && b->token.len > 0)
		json_object_set_new(res, "token",
		    rpc_strn(b->token.p, b->token.len));
	webchat_reply(m->req_id, b->conn, res, NULL, NULL, 0);
	return 0;
}

static int
webchat_rpc_error(const struct ipc_msg *m)
{
	const struct ipc_body_rpc_error *b = &m->b.rpc_error;
	char *code, *message;

	code = ipc_strdup(b->code);
	message = ipc_strdup(b->message);
	webchat_reply(m->req_id, b->conn, NULL, code, message,
	    b->retry_after_ms);
	free(code);
	free(message);
	return 0;
}

static int
webchat_chat_accepted(const struct ipc_msg *m)
{
	const struct ipc_body_chat_accepted *b = &m->b.chat_accepted;
	json_t *res;

	res = json_pack("{s:o,s:o}",
	    "client_msg_id", rpc_strn(b->client_msg_id.p, b->client_msg_id.len),
	    "status", rpc_strn(b->status.p, b->status.len));
	webchat_reply(m->req_id, b->conn, res, NULL, NULL, 0);
	return 0;
}

static int
webchat_history(const struct ipc_msg *m)
{
	const struct ipc_body_history *b = &m->b.history;
	const struct ipc_turn *t;
	json_t *list;
	size_t i;

	list = json_array();
	for (i = 0; i < b->turns.n && i < IPC_TURNS_MAX; i++) {
		t = &b->turns.v[i];
		json_array_append_new(list, json_pack("{s:o,s:o}",
		    "role", rpc_strn(t->role.p, t->role.len),
		    "text", rpc_strn(t->text.p, t->text.len)));
	}
	webchat_reply(m->req_id, b->conn, json_pack("{s:o}", "messages",
	    list), NULL, NULL, 0);
	return 0;
}

/* Events name their connection; one that has gone is not an error. */
static void
webchat_event(uint64_t conn, const char *event, json_t *fields)
{
	struct conn *c;

	if ((c = conn_find(conn)) == NULL || c->state != C_WS) {
		log_debug("%s: %s for gone conn %" PRIu64, __func__, event,
		    conn);
		json_decref(fields);
		return;
	}
	conn_send(c, rpc_event(event, fields));
	conn_reap(c);
}

static int
webchat_chat_delta(const struct ipc_msg *m)
{
	const struct ipc_body_chat_delta *b = &m->b.chat_delta;

	webchat_event(b->conn, "chat.delta", json_pack("{s:o,s:o}",
	    "client_msg_id", rpc_strn(b->client_msg_id.p, b->client_msg_id.len),
	    "text", rpc_strn(b->text.p, b->text.len)));
	return 0;
}

static int
webchat_chat_done(const struct ipc_msg *m)
{
	const struct ipc_body_chat_done *b = &m->b.chat_done;

	webchat_event(b->conn, "chat.done", json_pack("{s:o,s:o,s:b,s:b}",
	    "client_msg_id", rpc_strn(b->client_msg_id.p, b->client_msg_id.len),
	    "text", rpc_strn(b->text.p, b->text.len),
	    "replayed", b->replayed, "aborted", b->aborted));
	return 0;
}

static int
webchat_chat_error(const struct ipc_msg *m)
{
	const struct ipc_body_chat_error *b = &m->b.chat_error;
	json_t *o;

	o = json_pack("{s:o,s:o,s:o}",
	    "client_msg_id", rpc_strn(b->client_msg_id.p, b->client_msg_id.len),
	    "code", rpc_strn(b->code.p, b->code.len),
	    "message", rpc_strn(b->message.p, b->message.len));
	/* Only rate_limited carries it: when the client may try again. */
	if (o != NULL && b->retry_after_ms > 0)
		json_object_set_new(o, "retry_after_ms",
		    json_integer((json_int_t)b->retry_after_ms));
	webchat_event(b->conn, "chat.error", o);
	return 0;
}
