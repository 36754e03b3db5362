/*
 * Allocation that never returns NULL: running out of memory is fatal,
 * as in tmux and Postfix, so callers need no error path for it.
 */
#ifndef WX_XMALLOC_H
#define WX_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
/* xreallocarray.c: not linked by root's wxgated, which grows no array. */
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 freezero(void *, size_t);
void	 xfree_secret(char *);

/* jansson's blocks wiped on free (jsonalloc.c); json_t without jansson.h. */
struct json_t;
void	 jsonalloc_init(void);
char	*jsonalloc_dumps(const struct json_t *, size_t);
char	*jsonalloc_take(struct json_t *);

#endif
