/*
 * The echo backend, the embedded default: it answers "echo: <last user
 * turn>" in several timed deltas, so streaming is exercised end to end
 * without any network.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agent.h"
#include "clock.h"
#include "codec.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

#define ECHO_PREFIX	"echo: "
#define ECHO_CHUNKS_MAX	64

struct echo {
	struct agent_req	*req;
	struct event		*ev;
	char			*text;
	size_t			 len;
	size_t			 off;
	size_t			 step;
};

static unsigned	echo_chunks = 4;
static unsigned	echo_delay_ms = 20;

static int	echo_init(json_t *);
static int	echo_start(struct agent_req *,
		    const struct ipc_body_agent_request *);
static void	echo_cancel(struct agent_req *);
static void	echo_tick(evutil_socket_t, short, void *);

const struct agent_backend agent_echo = {
	"echo", "agent", echo_init, NULL, echo_start, echo_cancel, NULL
};

static int
echo_init(json_t *conf)
{
	long long v;

	if (wk_conf_int(conf, "echo_chunks", echo_chunks, 1, ECHO_CHUNKS_MAX,
	    &v) == -1)
		return -1;
	echo_chunks = (unsigned)v;
	if (wk_conf_int(conf, "echo_delay_ms", echo_delay_ms, 0, 60000,
	    &v) == -1)
		return -1;
	echo_delay_ms = (unsigned)v;
	worker_crypto_skip();
	return 0;
}

/* Split points never cut a UTF-8 sequence: deltas must be valid text. */
static size_t
utf8_back(const char *s, size_t len, size_t at)
{
	while (at > 0 && at < len && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

static int
echo_start(struct agent_req *r, const struct ipc_body_agent_request *b)
{
	const struct ipc_turn *last = NULL;
	struct timeval tv = { 0, 0 };
	struct echo *e;
	size_t i, room;

	for (i = b->turns.n; i > 0; i--)
		if (ipc_streq(b->turns.v[i - 1].role, "user")) {
			last = &b->turns.v[i - 1];
			break;
		}
	if (last == NULL)
		return -1;
	e = xcalloc(1, sizeof(*e));
	e->req = r;
	room = IPC_REPLY_MAX - strlen(ECHO_PREFIX);
	e->len = strlen(ECHO_PREFIX) +
	    utf8_back(last->text.p, last->text.len,
	    last->text.len < room ? last->text.len : room);
	e->text = xmalloc(e->len + 1);
	memcpy(e->text, ECHO_PREFIX, strlen(ECHO_PREFIX));
	memcpy(e->text + strlen(ECHO_PREFIX), last->text.p,
	    e->len - strlen(ECHO_PREFIX));
	e->text[e->len] = '\0';
	e->step = (e->len + echo_chunks - 1) / echo_chunks;
	if (e->step == 0)
		e->step = 1;
	r->priv = e;
	e->ev = evtimer_new(worker_base(), echo_tick, e);
	evtimer_add(e->ev, &tv);
	return 0;
}

static void
echo_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct echo *e = arg;
	struct timeval tv;
	size_t end;

	(void)fd;
	(void)ev;
	end = e->off + e->step;
	if (end >= e->len)
		end = e->len;
	else
		end = utf8_back(e->text, e->len, end);
	if (end <= e->off)	/* a step shorter than one character */
		end = e->len;
	if (agent_delta(e->req, e->text + e->off, end - e->off) == -1)
		fatalx("%s: supervisor queue full", __func__);
	e->off = end;
	if (e->off >= e->len) {
		agent_done(e->req);	/* frees e via echo_cancel */
		return;
	}
	tv = clock_tv(echo_delay_ms);
	evtimer_add(e->ev, &tv);
}

static void
echo_cancel(struct agent_req *r)
{
	struct echo *e = r->priv;

	if (e == NULL)
		return;
	event_free(e->ev);
	free(e->text);
	free(e);
	r->priv = NULL;
}
