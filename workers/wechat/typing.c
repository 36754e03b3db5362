/*
 * "Typing..." for the person waiting on the agent (§3.6, §3.7).  When
 * the hub accepts a peer's message for the agent, the peer sees the
 * bot typing: sendtyping status 1, again every TYPING_KEEPALIVE_MS,
 * until the answer is sent (status 2 then) or TYPING_MAX_MS have
 * passed, as the official client does.  It needs the peer's typing
 * ticket from getconfig, kept a random time within a day; without one
 * (getconfig failed: backoff from 2 s to an hour) typing is skipped.
 * Two failed starts in a row end a peer's keepalive.
 *
 * It is a courtesy: nothing here holds up a message or its answer, and
 * every call is bounded (one in flight per peer, TYPING_PEERS_MAX peers,
 * the least recently used idle one reused).  Tickets and context
 * tokens are secrets: wiped when dropped, never logged.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "ilink.h"
#include "log.h"
#include "wechat.h"
#include "xmalloc.h"

#define TYPING_PEERS_MAX	64
#define TYPING_KEEPALIVE_MS	5000
#define TYPING_MAX_MS		60000
#define TYPING_CALL_MS		10000
#define TYPING_TICKET_MS	(24ULL * 3600 * 1000)
#define TYPING_BACKOFF_MIN_MS	2000
#define TYPING_BACKOFF_MAX_MS	(3600ULL * 1000)
#define TYPING_FAILS_MAX	2

enum tcall { TC_NONE, TC_CONFIG, TC_ON, TC_OFF };

struct typer {
	char		*peer;		/* NULL: a free slot */
	char		*ctx;
	char		*ticket;
	uint64_t	 ticket_until;
	uint64_t	 backoff_until;
	uint64_t	 backoff_ms;
	uint64_t	 started;	/* 0: not typing */
	uint64_t	 used;
	int		 want;
	int		 shown;		/* status 1 was sent */
	int		 fails;
	enum tcall	 call;
	struct wcall	*wcall;
	struct event	*ev;
};

static struct typer	 ty[TYPING_PEERS_MAX];
static struct event_base *ty_base;

static void	typing_kick(struct typer *);
static void	typing_done(struct wcall *, void *);

int
typing_init(struct event_base *base)
{
	ty_base = base;
	return 0;
}

static void
typing_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	typing_kick(arg);
}

static void
typer_drop(struct typer *t)
{
	wcall_cancel(t->wcall);
	if (t->ev != NULL)
		event_free(t->ev);
	free(t->peer);
	xfree_secret(t->ctx);
	xfree_secret(t->ticket);
	memset(t, 0, sizeof(*t));
}

/* The peer's slot; a new one (the oldest idle reused) when asked. */
static struct typer *
typer_find(const char *peer, int make)
{
	struct typer *t, *free_slot = NULL, *old = NULL;
	size_t i;

	for (i = 0; i < TYPING_PEERS_MAX; i++) {
		t = &ty[i];
		if (t->peer == NULL) {
			if (free_slot == NULL)
				free_slot = t;
			continue;
		}
		if (strcmp(t->peer, peer) == 0)
			return t;
		if (!t->want && t->call == TC_NONE &&
		    (old == NULL || t->used < old->used))
			old = t;
	}
	if (!make)
		return NULL;
	if ((t = free_slot) == NULL && (t = old) != NULL)
		typer_drop(t);
	if (t == NULL)
		return NULL;	/* every slot busy typing: skip this one */
	t->peer = xstrdup(peer);
	if ((t->ev = evtimer_new(ty_base, typing_timer, t)) == NULL) {
		typer_drop(t);
		return NULL;
	}
	return t;
}

static void
typing_call(struct typer *t, enum tcall what)
{
	char *body;
	const char *path;

	if (what == TC_CONFIG) {
		body = ilink_body_getconfig(t->peer, t->ctx, wc.bot_agent);
		path = "ilink/bot/getconfig";
	} else {
		body = ilink_body_typing(t->peer, t->ticket, what == TC_ON ?
		    ILINK_TYPING_ON : ILINK_TYPING_OFF, wc.bot_agent);
		path = "ilink/bot/sendtyping";
	}
	t->wcall = wcall_post(wc.base, path, wc.token, body, TYPING_CALL_MS,
	    typing_done, t);
	t->call = t->wcall != NULL ? what : TC_NONE;
}

static void
typing_later(struct typer *t, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000 * 1000) };

	evtimer_add(t->ev, &tv);
}

/* The next step for a peer, once nothing of it is in flight. */
static void
typing_kick(struct typer *t)
{
	uint64_t now = clock_mono_ms();

	if (t->call != TC_NONE || wc.token == NULL || wc.draining)
		return;
	if (t->want && now - t->started >= TYPING_MAX_MS)
		t->want = 0;
	if (!t->want) {
		/* Off once, and only if it was shown. */
		if (t->shown) {
			t->shown = 0;
			typing_call(t, TC_OFF);
		}
		evtimer_del(t->ev);
		return;
	}
	if (t->ticket == NULL || now >= t->ticket_until) {
		if (now >= t->backoff_until)
			typing_call(t, TC_CONFIG);
		return;		/* no ticket: no typing (§3.6) */
	}
	typing_call(t, TC_ON);
}

static void
typing_done(struct wcall *c, void *arg)
{
	struct typer *t = arg;
	enum tcall what = t->call;
	struct ilink_ret r;
	const char *body;
	char *ticket;
	size_t len;
	int ok;

	t->call = TC_NONE;
	t->wcall = NULL;
	body = wcall_body(c, &len);
	ok = wcall_result(c) == WCALL_OK;
	switch (what) {
	case TC_CONFIG:
		if (ok && ilink_parse_ticket(body, len, &r, &ticket) ==
		    ILINK_OK) {
			xfree_secret(t->ticket);
			t->ticket = ticket;
			/* A random moment within the day (§3.6). */
			t->ticket_until = clock_mono_ms() + 1 +
			    wechat_random() % TYPING_TICKET_MS;
			t->backoff_ms = 0;
			break;
		}
		t->backoff_ms = t->backoff_ms == 0 ? TYPING_BACKOFF_MIN_MS :
		    t->backoff_ms * 2;
		if (t->backoff_ms > TYPING_BACKOFF_MAX_MS)
			t->backoff_ms = TYPING_BACKOFF_MAX_MS;
		t->backoff_until = clock_mono_ms() + t->backoff_ms;
		log_debug("wechat: no typing ticket for a peer; again in "
		    "%llus", (unsigned long long)t->backoff_ms / 1000);
		return;
	case TC_ON:
		if (ok && ilink_parse_ret(body, len, &r) == ILINK_OK) {
			t->shown = 1;
			t->fails = 0;
		} else if (++t->fails >= TYPING_FAILS_MAX)
			t->want = 0;
		if (t->want) {
			typing_later(t, TYPING_KEEPALIVE_MS);
			return;
		}
		break;
	case TC_OFF:
	case TC_NONE:
		return;
	}
	typing_kick(t);
}

/* The hub took peer's message for the agent: show typing. */
void
typing_start(const char *peer, const char *ctx)
{
	struct typer *t;

	if (wc.token == NULL || (t = typer_find(peer, 1)) == NULL)
		return;
	if (ctx != NULL && ctx[0] != '\0') {
		xfree_secret(t->ctx);
		t->ctx = xstrdup(ctx);
	}
	t->used = clock_mono_ms();
	if (!t->want)
		t->started = t->used;
	t->want = 1;
	t->fails = 0;
	typing_kick(t);
}

/* Its answer went out: typing off. */
void
typing_stop(const char *peer)
{
	struct typer *t;

	if ((t = typer_find(peer, 0)) == NULL || !t->want)
		return;
	t->want = 0;
	evtimer_del(t->ev);
	typing_kick(t);
}

/* Logged out, or shutting down: every call dropped, every slot freed. */
void
typing_clear(void)
{
	size_t i;

	for (i = 0; i < TYPING_PEERS_MAX; i++)
		if (ty[i].peer != NULL)
			typer_drop(&ty[i]);
}
