/* Strings packed end to end in one growing buffer (strpool.h). */
#include <stdlib.h>
#include <string.h>

#include "strpool.h"
#include "xmalloc.h"

size_t
strpool_add(struct strpool *sp, const char *p, size_t len, size_t first)
{
	size_t at = sp->used;

	if (sp->cap - sp->used < len + 1) {
		while (sp->cap - sp->used < len + 1)
			sp->cap = sp->cap == 0 ? first : sp->cap * 2;
		sp->buf = xreallocarray(sp->buf, sp->cap, 1);
	}
	if (len > 0)
		memcpy(sp->buf + at, p, len);
	sp->buf[at + len] = '\0';
	sp->used += len + 1;
	return at;
}

void
strpool_free(struct strpool *sp)
{
	free(sp->buf);
	memset(sp, 0, sizeof(*sp));
}
