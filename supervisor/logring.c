/*
 * The hub's ring of its latest log lines (logring.h): LOGRING_LINES at
 * most, LOGRING_BYTES of text at most, the oldest dropped first.  Lines
 * come only through log_emit(), so the configured level has already
 * dropped what is not logged; the ring never asks for more.  A worker's
 * line is kept as its own text under its name, which sup_log() says
 * just before it relays the line (router.c); every other line is the
 * hub's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "logring.h"
#include "xmalloc.h"

/*
 * A console page polls every few seconds: a thousand lines is minutes
 * of a busy debug log, enough to see what just happened, and the page
 * never shows more.
 */
#define LOGRING_LINES	1000
/*
 * Lines may be LOG_LINE_MAX each; the bytes keep a debug flood of long
 * lines to a quarter of a megabyte of the hub's memory.
 */
#define LOGRING_BYTES	(256 * 1024)

static struct {
	struct logring_line	 lines[LOGRING_LINES];
	size_t			 first;	/* oldest */
	size_t			 n;
	size_t			 bytes;
	uint64_t		 seq;
	const char		*wname;	/* logring_worker()'s, one line */
	const char		*wtext;
	size_t			 wlen;
} ring;

void
logring_worker(const char *name, const char *text, size_t len)
{
	ring.wname = name;
	ring.wtext = text;
	ring.wlen = len;
}

static void
logring_drop(void)
{
	struct logring_line *l = &ring.lines[ring.first];

	ring.bytes -= strlen(l->text) + strlen(l->worker);
	free(l->text);
	free(l->worker);
	memset(l, 0, sizeof(*l));
	ring.first = (ring.first + 1) % LOGRING_LINES;
	ring.n--;
}

void
logring_add(int level, const char *line)
{
	struct logring_line *l;
	struct timespec now;
	char *text, *worker;
	size_t len;

	if (ring.wname != NULL) {
		text = xstrndup(ring.wtext, ring.wlen);
		worker = xstrdup(ring.wname);
		ring.wname = NULL;
	} else {
		text = xstrdup(line);
		worker = xstrdup("hub");
	}
	len = strlen(text) + strlen(worker);
	while (ring.n > 0 && (ring.n == LOGRING_LINES ||
	    ring.bytes + len > LOGRING_BYTES))
		logring_drop();
	clock_gettime(CLOCK_REALTIME, &now);
	l = &ring.lines[(ring.first + ring.n) % LOGRING_LINES];
	l->seq = ++ring.seq;
	l->time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	l->level = level;
	l->worker = worker;
	l->text = text;
	ring.n++;
	ring.bytes += len;
}

uint64_t
logring_last(void)
{
	return ring.seq;
}

uint64_t
logring_first(void)
{
	return ring.n > 0 ? ring.lines[ring.first].seq : 0;
}

void
logring_walk(uint64_t since, int (*fn)(const struct logring_line *, void *),
    void *arg)
{
	const struct logring_line *l;
	size_t i;

	for (i = ring.n; i > 0; i--) {
		l = &ring.lines[(ring.first + i - 1) % LOGRING_LINES];
		if (l->seq <= since || fn(l, arg) != 0)
			break;
	}
}

void
logring_free(void)
{
	while (ring.n > 0)
		logring_drop();
}
