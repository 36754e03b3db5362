/*
 * A parser of server-sent events (WHATWG HTML, "Server-sent events",
 * the event stream interpretation) reduced to what an OpenAI-compatible
 * stream needs: data fields joined per event; comments, event, id and
 * retry fields and unknown fields ignored as the standard says.
 *
 * Called by openai.c with each piece libcurl hands it, and by the fuzz
 * harness.  A pure function of (state, bytes): it never touches the
 * network, the IPC channel or a global, and never logs what it parses.
 * Memory is bounded by SSE_LINE_MAX + SSE_DATA_MAX per stream and grows
 * only as far as the input needs; past a bound it fails rather than
 * truncates.
 */
#include <stdlib.h>
#include <string.h>

#include "sse.h"
#include "xmalloc.h"

/* First allocation of a buffer; it doubles up to its bound. */
#define SSE_BUF_MIN	256

static const char *const sse_errs[] = {
	[SSE_OK] = "ok",
	[SSE_E_LINE] = "line too long",
	[SSE_E_DATA] = "event too large",
	[SSE_E_STOP] = "stopped",
};

static int		 sse_grow(char **, size_t *, size_t, size_t);
static enum sse_err	 sse_line(struct sse *, sse_event_fn, void *);

void
sse_init(struct sse *s)
{
	memset(s, 0, sizeof(*s));
}

void
sse_clear(struct sse *s)
{
	free(s->line);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

const char *
sse_strerror(enum sse_err e)
{
	if ((unsigned)e >= sizeof(sse_errs) / sizeof(sse_errs[0]))
		return "unknown";
	return sse_errs[e];
}

int
sse_pending(const struct sse *s)
{
	return s->llen > 0 || s->has_data;
}

/* Room for need bytes plus a NUL, never past max + 1. */
static int
sse_grow(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t ncap;

	if (need > max)
		return -1;
	if (need + 1 <= *cap)
		return 0;
	ncap = *cap ? *cap : SSE_BUF_MIN;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > max + 1)
		ncap = max + 1;
	*buf = xreallocarray(*buf, ncap, 1);
	*cap = ncap;
	return 0;
}

/* One complete line in s->line (without its end). */
static enum sse_err
sse_line(struct sse *s, sse_event_fn fn, void *arg)
{
	const char *colon, *val;
	size_t flen, vlen;
	int rv;

	if (s->llen == 0) {
		/* Blank line: dispatch, dropping the data's last LF. */
		if (!s->has_data)
			return SSE_OK;
		if (s->dlen > 0)
			s->dlen--;
		if (sse_grow(&s->data, &s->dcap, s->dlen, SSE_DATA_MAX) == -1)
			return SSE_E_DATA;
		s->data[s->dlen] = '\0';
		s->events++;
		rv = fn(s->data, s->dlen, arg);
		s->dlen = 0;
		s->has_data = 0;
		return rv != 0 ? SSE_E_STOP : SSE_OK;
	}
	if (s->line[0] == ':')
		return SSE_OK;
	if ((colon = memchr(s->line, ':', s->llen)) != NULL) {
		flen = (size_t)(colon - s->line);
		val = colon + 1;
		vlen = s->llen - flen - 1;
		if (vlen > 0 && *val == ' ') {
			val++;
			vlen--;
		}
	} else {
		flen = s->llen;
		val = "";
		vlen = 0;
	}
	if (flen != 4 || memcmp(s->line, "data", 4) != 0)
		return SSE_OK;
	if (sse_grow(&s->data, &s->dcap, s->dlen + vlen + 1,
	    SSE_DATA_MAX) == -1)
		return SSE_E_DATA;
	memcpy(s->data + s->dlen, val, vlen);
	s->dlen += vlen;
	s->data[s->dlen++] = '\n';
	s->has_data = 1;
	return SSE_OK;
}

enum sse_err
sse_feed(struct sse *s, const char *buf, size_t len, sse_event_fn fn,
    void *arg)
{
	enum sse_err e;
	size_t i = 0, run;
	char c;

	/* A UTF-8 byte-order mark may open the stream, split or not. */
	while (!s->started && i < len) {
		if ((unsigned char)buf[i] == "\xef\xbb\xbf"[s->llen]) {
			s->llen++;
			i++;
			if (s->llen == 3) {
				s->llen = 0;
				s->started = 1;
			}
			continue;
		}
		/* Not a BOM after all: those bytes were the line's start. */
		s->started = 1;
		if (s->llen > 0) {
			run = s->llen;
			s->llen = 0;
			if (sse_grow(&s->line, &s->lcap, run,
			    SSE_LINE_MAX) == -1)
				return SSE_E_LINE;
			memcpy(s->line, "\xef\xbb\xbf", run);
			s->llen = run;
		}
	}
	while (i < len) {
		c = buf[i];
		if (c == '\n' && s->after_cr) {
			s->after_cr = 0;
			i++;
			continue;
		}
		s->after_cr = 0;
		if (c == '\r' || c == '\n') {
			s->after_cr = c == '\r';
			i++;
			e = sse_line(s, fn, arg);
			s->llen = 0;
			if (e != SSE_OK)
				return e;
			continue;
		}
		/* Copy the run up to the next line end in one go. */
		for (run = i; run < len && buf[run] != '\r' && buf[run] != '\n';
		    run++)
			;
		if (sse_grow(&s->line, &s->lcap, s->llen + (run - i),
		    SSE_LINE_MAX) == -1)
			return SSE_E_LINE;
		memcpy(s->line + s->llen, buf + i, run - i);
		s->llen += run - i;
		i = run;
	}
	return SSE_OK;
}
