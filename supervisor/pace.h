/*
 * Pacing of best-effort progress frames, one struct pace per agent
 * request (router_progress.c keeps them): at most one frame per
 * interval, always the newest text, never more than one waiting.
 * Pure bookkeeping: the caller passes the clock and does the sending,
 * so tests/unit/supervisor/test_pace.c drives it directly.
 */
#ifndef WX_PACE_H
#define WX_PACE_H

#include <stddef.h>
#include <stdint.h>

struct pace {
	uint64_t	 last;		/* clock of the last frame sent */
	size_t		 shown;		/* bytes of text that frame carried */
	int		 sent;		/* any frame sent yet */
	int		 pending;	/* newer text waits for a frame */
};

/* Newer text is there: the milliseconds until it may go (0: now). */
uint64_t	 pace_note(struct pace *, uint64_t now, uint64_t interval);
/*
 * The wait is over: may a frame with len bytes of text go?  1 yes (the
 * caller sends it, then calls pace_sent); 0 nothing new to show, and
 * nothing waits any more.
 */
int		 pace_take(struct pace *, size_t len);
void		 pace_sent(struct pace *, uint64_t now, size_t len);
/*
 * The byte length of the longest prefix of s[0..len) with at most cps
 * code points and at most bytes bytes, ending on a character boundary.
 */
size_t		 pace_cut(const char *s, size_t len, size_t cps,
		    size_t bytes);

#endif
