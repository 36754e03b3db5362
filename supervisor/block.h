/*
 * Where a streamed answer may be cut into messages (stream_mode block,
 * router_block.c keeps the rest): after a finished paragraph, never
 * inside a code fence.  Pure, so tests/unit/supervisor/test_block.c
 * drives it directly.
 */
#ifndef WX_BLOCK_H
#define WX_BLOCK_H

#include <stddef.h>

/* A block's text read so far, a delta at a time, each byte once. */
struct block_scan {
	size_t		 pos;		/* bytes read */
	size_t		 cps;		/* code points read */
	size_t		 nl;		/* newlines in the white space now */
	size_t		 best;		/* the cut found, or 0 */
	int		 fence;		/* inside ``` */
	int		 midline;	/* past the line's leading blanks */
	int		 ticks;		/* its leading backticks; -1 others */
};

/* All zero is a scan at its start. */
void		 block_scan_init(struct block_scan *);
/*
 * Read the next len bytes of a block's text.  Returns the byte length
 * of the longest prefix of all read so far that ends where a new
 * paragraph has begun (a blank line, then a character that is not
 * white space: the paragraph before it is finished) outside a ```
 * fence and that holds at least min code points; 0 when there is none
 * yet.
 */
size_t		 block_scan(struct block_scan *, const char *s, size_t len,
		    size_t min);
/* The same for a whole text at once. */
size_t		 block_cut(const char *s, size_t len, size_t min);

#endif
