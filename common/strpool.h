/*
 * Strings packed end to end in one buffer that grows by doubling, each
 * named by its offset: many short strings for one frame or one query
 * (a history's turns) at the cost of one allocation, not one each.
 */
#ifndef WX_STRPOOL_H
#define WX_STRPOOL_H

#include <stddef.h>

struct strpool {
	char		*buf;
	size_t		 cap;
	size_t		 used;
};

#define strpool_at(sp, off)	((sp)->buf + (off))

/* p's len bytes and a NUL after the last string: their offset.  The
 * first allocation is of first bytes at least. */
size_t	strpool_add(struct strpool *, const char *p, size_t len,
	    size_t first);
void	strpool_free(struct strpool *);

#endif
