/*
 * The cut of a streamed answer into blocks (block.h).  A blank line
 * ends a paragraph only once the next one has begun: until then more
 * newlines may follow, and a block must not end in the middle of them
 * (the next would start with white space).  A line that begins with
 * ``` opens or closes a fence; its blank lines are code, not breaks.
 * The text is read as it streams, a delta at a time and each byte
 * once, so neither a long answer nor many small deltas cost more than
 * one read of it, and a mark split over two deltas is still seen.
 */
#include <stddef.h>
#include <string.h>

#include "block.h"

void
block_scan_init(struct block_scan *b)
{
	memset(b, 0, sizeof(*b));
}

size_t
block_scan(struct block_scan *b, const char *s, size_t len, size_t min)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++, b->pos++) {
		c = s[i];
		if (((unsigned char)c & 0xc0) == 0x80)
			continue;	/* inside a UTF-8 sequence */
		b->cps++;
		if (c == '\n') {
			b->nl++;
			b->midline = 0;
			b->ticks = 0;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			if (b->ticks > 0)
				b->ticks = -1;
			continue;
		}
		/* c begins a paragraph after a blank line. */
		if (b->nl >= 2 && !b->fence && b->cps - 1 >= min)
			b->best = b->pos;
		b->nl = 0;
		if (!b->midline) {
			b->midline = 1;
			b->ticks = c == '`' ? 1 : -1;
		} else if (b->ticks > 0 && c == '`')
			b->ticks++;
		else
			b->ticks = -1;
		if (b->ticks == 3) {
			b->fence = !b->fence;
			b->ticks = -1;
		}
	}
	return b->best;
}

size_t
block_cut(const char *s, size_t len, size_t min)
{
	struct block_scan b;

	block_scan_init(&b);
	return block_scan(&b, s, len, min);
}
