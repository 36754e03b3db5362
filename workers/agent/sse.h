/*
 * Server-sent events (the text/event-stream of OpenAI-compatible
 * streaming): bytes in, one callback per complete event's data out.
 * Used by openai.c and tests/fuzz/fuzz_sse.c; no I/O, no globals.
 */
#ifndef WX_SSE_H
#define WX_SSE_H

#include <stddef.h>

/* One line (field and value) and one event's joined data lines. */
#define SSE_LINE_MAX	(64 * 1024)
#define SSE_DATA_MAX	(64 * 1024)

enum sse_err {
	SSE_OK = 0,
	SSE_E_LINE,		/* a line longer than SSE_LINE_MAX */
	SSE_E_DATA,		/* an event's data over SSE_DATA_MAX */
	SSE_E_STOP		/* the callback asked to stop */
};

struct sse {
	char	*line;		/* the unfinished line, grown on demand */
	size_t	 llen;
	size_t	 lcap;
	char	*data;		/* data lines of the current event */
	size_t	 dlen;
	size_t	 dcap;
	int	 has_data;	/* a data field was seen (maybe empty) */
	int	 after_cr;	/* last byte was CR: an LF now is no line */
	int	 started;	/* past a leading byte-order mark */
	size_t	 events;	/* dispatched so far */
};

/* data is NUL-terminated at len, borrowed until the callback returns. */
typedef int	(*sse_event_fn)(const char *data, size_t len, void *arg);

void		 sse_init(struct sse *);
void		 sse_clear(struct sse *);
/* Feed bytes; a nonzero callback return stops with SSE_E_STOP. */
enum sse_err	 sse_feed(struct sse *, const char *, size_t, sse_event_fn,
		    void *);
/* At end of stream: 1 if an event or line was left unfinished. */
int		 sse_pending(const struct sse *);
const char	*sse_strerror(enum sse_err);

#endif
