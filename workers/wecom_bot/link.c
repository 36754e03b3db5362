/*
 * The WeCom AI bot's session on its long connection (protocols/
 * wecom.md A.4, A.5.1, A.5.2, A.9): aibot_subscribe first, the
 * application ping every heartbeat, the connection declared dead after
 * two pings without an ack, reconnects with jittered exponential
 * backoff counted from the last good subscribe, a separate slower
 * backoff for refused credentials, and disconnected_event parking the
 * account (another connection took the bot over; fighting it would
 * displace each other forever, A.5.4).
 *
 * Every text frame from the server comes through link_text(): parsed
 * by frame.c, then routed: callbacks to inbound.c, acks of ours to
 * whoever is waiting (subscribe, ping, upload.c, reply.c).  A frame
 * that is not JSON, has a cmd we do not know or is too large is logged
 * and counted, never fatal: the server is not ours to crash on.
 *
 * The state the operator sees is put in the account's state (key
 * "status"): connecting, subscribed, replaced, auth_failed <code>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "net/wsclient.h"
#include "wecom.h"
#include "worker.h"
#include "xmalloc.h"

/* The SDK has no subscribe timer; other clients wait 10 s (A.9). */
#define LINK_SUBSCRIBE_MS	10000
/* Pings un-acked before the connection is declared dead (A.9). */
#define LINK_PINGS_MISSED	2
/* Reconnect: 1 s x 2^(n-1), at most 30 s (A.9). */
#define LINK_RETRY_MIN_MS	1000
#define LINK_RETRY_MAX_MS	30000
/* Refused credentials: minutes, not seconds (A.8 853000, A.9). */
#define LINK_AUTH_MIN_MS	30000
#define LINK_AUTH_MAX_MS	(60 * 60 * 1000)

enum link_state {
	LINK_DOWN,		/* waiting to reconnect */
	LINK_OPENING,		/* TCP, TLS, upgrade */
	LINK_SUBSCRIBING,	/* aibot_subscribe sent */
	LINK_READY,
	LINK_PARKED		/* replaced, or stopped */
};

static struct {
	enum link_state	 state;
	struct event	*retry;
	struct event	*beat;
	struct event	*sub_wait;
	int		 failures;	/* since the last good subscribe */
	int		 auth_failures;
	int		 missed;	/* pings without an ack */
	uint64_t	 gen;		/* good subscribes so far */
	char		 sub_req[WCF_ID_MAX + 1];
	char		 ping_req[WCF_ID_MAX + 1];
} lk;

static void	link_open(void);
static void	link_text(const char *, size_t);
static void	link_closed(const char *);
static void	link_down(const char *, int auth);
static void	link_retry_cb(evutil_socket_t, short, void *);
static void	link_beat_cb(evutil_socket_t, short, void *);
static void	link_sub_wait_cb(evutil_socket_t, short, void *);
static void	link_ack(const struct wcf_in *);
static void	link_event(const struct wcf_in *);
static long	link_backoff(int n, long min, long max);
static void	link_timer(struct event *, long ms);

static const struct wsclient_cb link_cb = {
	link_open, link_text, link_closed
};

int
link_init(struct event_base *base)
{
	if ((lk.retry = evtimer_new(base, link_retry_cb, NULL)) == NULL ||
	    (lk.beat = evtimer_new(base, link_beat_cb, NULL)) == NULL ||
	    (lk.sub_wait = evtimer_new(base, link_sub_wait_cb, NULL)) == NULL)
		return -1;
	return wsc_post_sandbox(base, &link_cb);
}

void
link_start(void)
{
	lk.state = LINK_OPENING;
	wk_state_put("status", "connecting");
	if (wsc_connect() == -1)
		link_down("cannot start a connection", 0);
}

/* Shutdown: no more frames, no reconnect. */
void
link_stop(void)
{
	evtimer_del(lk.retry);
	evtimer_del(lk.beat);
	evtimer_del(lk.sub_wait);
	wsc_close();
	if (lk.state == LINK_READY) {
		reply_link_down();
		upload_link_down();
	}
	lk.state = LINK_PARKED;
}

int
link_ready(void)
{
	return lk.state == LINK_READY;
}

/* Which subscribe we are in: a callback's req_id lives only in it. */
uint64_t
link_gen(void)
{
	return lk.gen;
}

int
link_send(const char *frame)
{
	if (lk.state != LINK_READY && lk.state != LINK_SUBSCRIBING)
		return -1;
	return wsc_send(frame, strlen(frame));
}

static void
link_timer(struct event *ev, long ms)
{
	struct timeval tv = clock_tv(ms);

	evtimer_add(ev, &tv);
}

/* The upgrade is done: the subscribe must be the first frame (A.4). */
static void
link_open(void)
{
	char *f;

	wecom_req_id("aibot_subscribe", lk.sub_req, sizeof(lk.sub_req));
	if ((f = wcf_subscribe(lk.sub_req, wb.bot_id, wb.secret)) == NULL) {
		link_down("cannot build the subscribe frame", 0);
		return;
	}
	lk.state = LINK_SUBSCRIBING;
	if (wsc_send(f, strlen(f)) == -1) {
		freezero(f, strlen(f));
		link_down("cannot send the subscribe frame", 0);
		return;
	}
	freezero(f, strlen(f));		/* it holds the secret */
	link_timer(lk.sub_wait, LINK_SUBSCRIBE_MS);
}

static void
link_closed(const char *why)
{
	link_down(why, 0);
}

/*
 * The connection is gone (or we drop it): what was in flight on it is
 * reply.c's to settle, and we come back after the backoff.
 */
static void
link_down(const char *why, int auth)
{
	long ms;

	evtimer_del(lk.beat);
	evtimer_del(lk.sub_wait);
	wsc_close();
	if (lk.state == LINK_READY) {
		reply_link_down();
		upload_link_down();
	}
	if (lk.state == LINK_PARKED || wb.draining)
		return;
	lk.state = LINK_DOWN;
	if (auth)
		ms = link_backoff(++lk.auth_failures, LINK_AUTH_MIN_MS,
		    LINK_AUTH_MAX_MS);
	else
		ms = link_backoff(++lk.failures, LINK_RETRY_MIN_MS,
		    LINK_RETRY_MAX_MS);
	log_warnx("wecom %s: %s; connecting again in %ld ms", wb.account,
	    why, ms);
	link_timer(lk.retry, ms);
}

/* min x 2^(n-1) up to max, less up to a quarter: spreads a fleet. */
static long
link_backoff(int n, long min, long max)
{
	long ms = min;

	while (--n > 0 && ms < max)
		ms *= 2;
	if (ms > max)
		ms = max;
	return ms - (long)(wecom_random() % (uint32_t)(ms / 4 + 1));
}

static void
link_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	link_start();
}

static void
link_sub_wait_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	link_down("no answer to aibot_subscribe", 0);
}

/* Before each ping: two earlier ones un-acked is a dead link (A.9). */
static void
link_beat_cb(evutil_socket_t fd, short ev, void *arg)
{
	char *f;

	(void)fd;
	(void)ev;
	(void)arg;
	if (lk.missed >= LINK_PINGS_MISSED) {
		link_down("heartbeat: pings not acknowledged", 0);
		return;
	}
	wecom_req_id("ping", lk.ping_req, sizeof(lk.ping_req));
	if ((f = wcf_ping(lk.ping_req)) == NULL || link_send(f) == -1) {
		free(f);
		link_down("cannot send a ping", 0);
		return;
	}
	free(f);
	lk.missed++;
	link_timer(lk.beat, wb.heartbeat_ms);
}

static void
link_text(const char *buf, size_t len)
{
	struct wcf_in in;
	int rv;

	if ((rv = wcf_parse(buf, len, &in)) != WCF_OK) {
		wb.bad_frames++;
		log_warnx("wecom %s: a frame of %zu bytes dropped: %s; %llu "
		    "bad frames", wb.account, len, wcf_strerror(rv),
		    (unsigned long long)wb.bad_frames);
		return;
	}
	switch (in.kind) {
	case WCF_ACK:
		link_ack(&in);
		break;
	case WCF_MSG:
		if (lk.state == LINK_READY)
			inbound_msg(&in);
		break;
	case WCF_EVENT:
		if (lk.state == LINK_READY)
			link_event(&in);
		break;
	case WCF_UNKNOWN:
		wb.unknown_cmds++;
		log_warnx("wecom %s: unknown cmd \"%s\" dropped; %llu so far",
		    wb.account, in.cmd, (unsigned long long)wb.unknown_cmds);
		break;
	}
	wcf_in_free(&in);
}

static void
link_ack(const struct wcf_in *in)
{
	char code[32];

	if (lk.state == LINK_SUBSCRIBING && strcmp(in->req_id,
	    lk.sub_req) == 0) {
		evtimer_del(lk.sub_wait);
		if (in->errcode != 0) {
			/* The server leaves the socket open: we close (A.4). */
			snprintf(code, sizeof(code), "auth_failed %lld",
			    in->errcode);
			wk_state_put("status", code);
			log_warnx("wecom %s: aibot_subscribe refused with %lld: "
			    "check bot_id and the secret", wb.account,
			    in->errcode);
			link_down("subscribe refused", 1);
			return;
		}
		/* Counters reset on a good subscribe only (A.4). */
		lk.failures = lk.auth_failures = lk.missed = 0;
		lk.state = LINK_READY;
		lk.gen++;
		log_info("wecom %s: subscribed", wb.account);
		wk_state_put("status", "subscribed");
		link_timer(lk.beat, wb.heartbeat_ms);
		reply_link_up();
		upload_link_up();
		return;
	}
	if (lk.state == LINK_READY && strcmp(in->req_id, lk.ping_req) == 0) {
		lk.missed = 0;
		return;
	}
	if (lk.state == LINK_READY && (upload_ack(in) ||
	    reply_ack(in->req_id, in->errcode)))
		return;
	log_debug("wecom %s: an ack nobody waits for", wb.account);
}

static void
link_event(const struct wcf_in *in)
{
	if (strcmp(in->eventtype, "disconnected_event") == 0) {
		/* Loud: otherwise two instances kick each other silently. */
		log_warnx("wecom %s: another connection subscribed as this "
		    "bot; this one is parked as replaced (restart it with "
		    "wxgatectl restart wecom_bot.%s once the other is gone)",
		    wb.account, wb.account);
		evtimer_del(lk.beat);
		wsc_close();
		reply_link_down();
		upload_link_down();
		lk.state = LINK_PARKED;
		wk_state_put("status", "replaced");
		return;
	}
	inbound_event(in);
}
