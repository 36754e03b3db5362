/*
 * The directories a kind keeps inside its empty root (nsdirs.c, used by
 * ns.c): opened before the root is replaced, bound back at their own
 * absolute paths before pivot_root.
 */
#ifndef WX_NSDIRS_H
#define WX_NSDIRS_H

#include <stddef.h>

#include "sandbox.h"

#define NSDIRS_MAX	9		/* rw_dir and eight read-only ones */

struct nsdir {
	const char	*path;
	int		 fd;		/* O_PATH until bound, then -1 */
	int		 ro;
};

struct nsdirs {
	struct nsdir	 d[NSDIRS_MAX];
	size_t		 n;
	size_t		 nro;
};

/*
 * Both -1 with the reason in why.  rwfrom: what to open for rw_dir
 * (/proc/self/cwd when it is the working directory), NULL for its path.
 */
int	nsdirs_open(const struct sandbox_spec *, const char *rwfrom,
	    struct nsdirs *, char *, size_t);
int	nsdirs_bind(struct nsdirs *, const char *root, char *, size_t);
void	nsdirs_close(struct nsdirs *);

#endif
