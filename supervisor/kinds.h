/*
 * The kinds of worker the parent starts, one row each (kinds.c): the
 * web chat pool, the agents and each channel type.  A row says which
 * instances a configuration wants and, for a channel kind, what its
 * platform and worker can do.
 *
 * The root parent reads names, roles and socket flags; the hub
 * (channel.c) and the configuration's checks read capabilities.  The
 * instances a configuration wants and their slices (keys and tokens)
 * are computed by the configuration reader (kinds_want.c).  The worker
 * side of a kind (handlers, seccomp profile) is its row in
 * workers/kinds_all.c (and, for K_F_LIGHT, kinds_light.c).
 */
#ifndef WX_KINDS_H
#define WX_KINDS_H

#include <stddef.h>
#include <stdint.h>

/* What a channel kind does beyond text replies. */
#define KC_MEDIA	0x01	/* images, files, voice */
#define KC_TYPING	0x02	/* a "typing..." indicator */
#define KC_STREAM	0x04	/* one message that grows with the answer */
#define KC_PROACTIVE	0x08	/* may write first, not only reply */
/* A peer's context lets a kind that may not write first reply this
 * long (channel.c; hub_pg_sched.c for a run queued on another node). */
#define CH_CONTEXT_S	(24 * 3600)
/* Replies carry the peer's newest reply context, not their message's. */
#define KC_LATEST_CTX	0x10

struct kind_caps {
	uint32_t	 text_max;	/* code points one message holds */
	uint32_t	 text_chunk;	/* text_chunk_limit by default */
	int		 flags;		/* KC_* */
	uint32_t	 bytes_max;	/* UTF-8 bytes, when it counts those */
	uint32_t	 turn_max;	/* messages per reply context, 0 any */
};

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
	const char		 *name;		/* worker kind, worker.c */
	int			  role;		/* ROLE_* */
	int			  flags;	/* K_F_* */
	const struct kind_caps	 *caps;		/* channel kinds' limits */
};

/* In start order: agents before the workers that send them work. */
const struct kind	*kinds_all(size_t *n);
const struct kind	*kinds_find(const char *name);
#define KINDS_ID_MAX	32
int			 kinds_id_ok(const char *id);
/* A channel type's capabilities; NULL when it is no channel kind. */
const struct kind_caps	*kinds_caps(const char *type);

/*
 * kinds_want.c, the configuration reader's: every instance conf wants,
 * kind by kind in start order, each in a stable order, with its slice
 * (the callee owns it: xfree_secret) and its own listening address or
 * NULL.  kinds_want_has: does kind have a row there (a test's check)?
 */
struct config;
typedef void	(*kind_want_fn)(const struct kind *, const char *id,
		    char *slice, const char *listen, void *arg);
void			 kinds_want(const struct config *, kind_want_fn,
			    void *);
int			 kinds_want_has(const char *kind);

#endif
