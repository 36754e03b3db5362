/*
 * The kinds of worker the parent starts, one row each (kinds.c): the
 * web chat pool, the agents and each channel type, with the role and
 * sockets the root parent starts each with.
 *
 * What a channel kind's platform can take is kinds_caps.h's (the hub
 * and the configuration's checks read it), the instances a
 * configuration wants and their slices (keys and tokens) kinds_want.h's
 * (the configuration reader computes them).  The worker side of a kind
 * (handlers, seccomp profile) is its row in workers/kinds_all.c (and,
 * for K_F_LIGHT, kinds_light.c).
 */
#ifndef WX_KINDS_H
#define WX_KINDS_H

#include <stddef.h>

#define K_F_LISTEN	0x01	/* gets the public listening socket */
/* gets its account's own listening socket (listener.c) */
#define K_F_OWN_LISTEN	0x02
/* gets its own listening socket when its config names one (relay) */
#define K_F_MAY_LISTEN	0x04
/* one per account, forked from the kind's zygote (sandbox.zygote) */
#define K_F_ZYGOTE	0x08
/*
 * runs in wxgate-light, which links no OpenSSL, SQLite or YAML
 * (workers/kinds_light.c has the same kinds)
 */
#define K_F_LIGHT	0x10

struct kind {
	const char	*name;		/* worker kind, worker.c */
	int		 role;		/* ROLE_* */
	int		 flags;		/* K_F_* */
};

/*
 * In start order: agents before the workers that send them work; a row
 * with a NULL name ends it.  The parent finds a row by name
 * (kinds_find); the configuration walks them all (kinds_all, in
 * kinds_want.c: root's wxgated does not link it).
 */
extern const struct kind kinds_table[];
const struct kind	*kinds_all(size_t *n);
const struct kind	*kinds_find(const char *name);
#define KINDS_ID_MAX	32
int			 kinds_id_ok(const char *id);

#endif
