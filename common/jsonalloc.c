/*
 * jansson's memory, wiped on free.  Config slices, API keys, bot and
 * context tokens pass through json_t strings, the parser's buffers and
 * object keys; jansson frees them with free(), leaving the bytes for the
 * next malloc() or a core.  Its free hook is told no length, so each
 * block carries one in a header ahead of it, padded to max_align_t so
 * the block keeps malloc()'s alignment.
 *
 * The hooks make json_dumps()' result unfit for free(): use
 * jsonalloc_dumps(), whose result free() and xfree_secret() take.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "xmalloc.h"

union ja_hdr {
	size_t		size;
	max_align_t	align;
};

static void	*ja_malloc(size_t);
static void	 ja_free(void *);

/* NULL on failure, as jansson expects: its callers fail soft. */
static void *
ja_malloc(size_t size)
{
	union ja_hdr *h;

	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->size = size;
	return h + 1;
}

static void
ja_free(void *p)
{
	union ja_hdr *h;

	if (p == NULL)
		return;
	h = (union ja_hdr *)p - 1;
	freezero(h, sizeof(*h) + h->size);
}

/*
 * Once per process, before its first JSON value: a block made by the
 * default malloc() has no header for ja_free() to read.
 */
void
jsonalloc_init(void)
{
	json_set_alloc_funcs(ja_malloc, ja_free);
}

/*
 * json_dumps() into one malloc()ed buffer: json_dumpb() measures, then
 * writes straight into it, so no growing copy of the text is left
 * behind whichever allocator jansson has.  NULL where json_dumps() fails.
 */
char *
jsonalloc_dumps(const json_t *j, size_t flags)
{
	size_t len;
	char *s;

	if ((len = json_dumpb(j, NULL, 0, flags)) == 0)
		return NULL;
	s = xmalloc(len + 1);
	/* Dumping allocates (its loop check, sorted keys): it may fail. */
	if (json_dumpb(j, s, len, flags) != len) {
		freezero(s, len);
		return NULL;
	}
	s[len] = '\0';
	return s;
}

/*
 * o compact, and o released: what every builder of a frame or a body
 * ends in.  NULL for a NULL o (a failed json_pack) or a failed dump.
 */
char *
jsonalloc_take(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = jsonalloc_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
