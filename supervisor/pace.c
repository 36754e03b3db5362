/*
 * Pacing of best-effort progress frames (pace.h): when the next frame
 * of one request may go, and how much of a text it may show.  Called
 * by router_progress.c only; it never sends, allocates or reads a
 * clock, so a fast agent's deltas are coalesced by arithmetic alone.
 */
#include "pace.h"

uint64_t
pace_note(struct pace *p, uint64_t now, uint64_t interval)
{
	p->pending = 1;
	if (!p->sent || now < p->last || now - p->last >= interval)
		return 0;
	return interval - (now - p->last);
}

int
pace_take(struct pace *p, size_t len)
{
	/*
	 * Shorter or as long as what the bubble shows already: the agent
	 * started over, or the text is past the cap.  A refresh would
	 * take text back from the reader, or repeat it.
	 */
	if (!p->pending || len <= p->shown) {
		p->pending = 0;
		return 0;
	}
	return 1;
}

void
pace_sent(struct pace *p, uint64_t now, size_t len)
{
	p->last = now;
	p->shown = len;
	p->sent = 1;
	p->pending = 0;
}

size_t
pace_cut(const char *s, size_t len, size_t cps, size_t bytes)
{
	size_t i, n = 0, end = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		/* A boundary: s[0..i) is n whole characters. */
		if (i > bytes || n > cps)
			break;
		end = i;
		n++;
	}
	return end;
}
