/*
 * The exposition leaves the hub in parts of whole lines: to wxgatectl
 * as ctl.text (control.c), to the loopback HTTP listener's worker
 * (workers/metrics/) as metrics.text then metrics.done.  That worker
 * holds the socket a scraper reaches, so the root parent never parses
 * a scraper's bytes and the hub never sees them: it only gets
 * metrics.get, which has no body.
 *
 * A scrape renders the whole exposition once; its parts go on the
 * worker's queue only when they all fit (supervisor.queue_max frames),
 * else the worker is told "done" with nothing and answers 503: a queue
 * the metrics filled would be a worker killed for overflow.
 */
#include <string.h>

#include <event2/buffer.h>

#include "config.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "wire.h"

/* Far below IPC_REPLY_MAX, the bound of a text field. */
#define MX_PART_MAX	(64 * 1024)

/* The next part of p[0, len): whole lines, unless one line fills it. */
static size_t
mx_cut(const char *p, size_t len, size_t part_max)
{
	const char *nl;
	size_t n = len < part_max ? len : part_max;

	if (n < len && (nl = memrchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p) + 1;
	return n;
}

/*
 * Render, then hand fn each part (mx_cut).  -1, with fn never called,
 * when it would take more than max_parts parts.
 */
int
metrics_parts(size_t part_max, size_t max_parts, mx_part_fn fn, void *arg)
{
	struct evbuffer *b;
	const char *p;
	size_t len, off, n, parts;

	if ((b = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	metrics_render(b);
	len = evbuffer_get_length(b);
	p = (const char *)evbuffer_pullup(b, -1);
	/* Whole lines can leave a part short: count the cuts first. */
	for (parts = 0, off = 0; off < len; parts++)
		off += mx_cut(p + off, len - off, part_max);
	if (parts <= max_parts)
		for (off = 0; off < len; off += n) {
			n = mx_cut(p + off, len - off, part_max);
			fn(p + off, n, arg);
		}
	evbuffer_free(b);
	return parts <= max_parts ? 0 : -1;
}

struct mx_scrape {
	struct worker	*w;
	uint64_t	 req_id;
};

static void
metrics_serve_part(const char *p, size_t len, void *arg)
{
	struct mx_scrape *sc = arg;
	struct ipc_body_text t;

	t.text.p = p;
	t.text.len = len;
	router_send(sc->w, IPC_METRICS_TEXT, sc->req_id, &t);
}

/* metrics.get: the parts, then done (alone when they would not fit). */
int
metrics_serve(struct worker *w, struct ipc_msg *m)
{
	struct mx_scrape sc = { w, m->req_id };
	size_t room, queued;

	if (w->wire == NULL)
		return 0;
	queued = wire_queued(w->wire);
	room = sup->conf->supervisor.queue_max > queued + 1 ?
	    sup->conf->supervisor.queue_max - queued - 1 : 0;
	if (metrics_parts(MX_PART_MAX, room, metrics_serve_part, &sc) == -1)
		log_warnx("worker %s: the exposition does not fit its queue "
		    "(supervisor.queue_max); answered empty", w->name);
	router_send(w, IPC_METRICS_DONE, m->req_id,
	    &(struct ipc_body_empty){ 0 });
	return 0;
}
