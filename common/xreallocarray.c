/*
 * xreallocarray: xmalloc.c's growing of an array, dying on overflow or
 * OOM.  Apart from xmalloc.c since only the hub, the configuration
 * reader, the workers and the tools grow arrays: root's wxgated links
 * xmalloc.c and never calls it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "xmalloc.h"

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		fatalx("xreallocarray: zero size");
	if (nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", nmemb, size);
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		fatal("xreallocarray: allocating %zu * %zu bytes",
		    nmemb, size);
	return p;
}
