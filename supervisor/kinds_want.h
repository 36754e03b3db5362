/*
 * kinds_want.c, the configuration reader's: every instance conf wants,
 * kind by kind in start order, each in a stable order, with its slice
 * (the callee owns it: xfree_secret) and its own listening address or
 * NULL.  kinds_want_has: does kind have a row there (a test's check)?
 */
#ifndef WX_KINDS_WANT_H
#define WX_KINDS_WANT_H

struct config;
struct kind;

typedef void	(*kind_want_fn)(const struct kind *, const char *id,
		    char *slice, const char *listen, void *arg);
void		 kinds_want(const struct config *, kind_want_fn, void *);
int		 kinds_want_has(const char *kind);

#endif
