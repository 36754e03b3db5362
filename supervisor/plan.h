/*
 * What the root parent knows of its configuration: the plan the
 * configuration reader (conf_reader.c) computed from the file, in the
 * sandbox, and sent back (conf_fetch.c).  The parent never holds a
 * struct config: it starts, restarts and listens by this.
 */
#ifndef WX_PLAN_H
#define WX_PLAN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

/*
 * Rows a plan may hold: every account, agent and web chat worker a file
 * may ask for (config.h's bounds; conf_reader.c checks they fit), and
 * the metrics worker.
 */
#define PLAN_CHANNELS_MAX	1000	/* CFG_CHANNELS_MAX */
#define PLAN_WORKERS_MAX	(PLAN_CHANNELS_MAX + 32 + 64 + 1)
/* An error line: the configuration's (CFG_ERR_MAX) or the reader's. */
#define PLAN_ERR_MAX		512

/* One wanted worker: kinds.c's row, the file's instance. */
struct plan_worker {
	char		 kind[IPC_NAME_MAX + 1];
	char		 id[IPC_NAME_MAX + 1];
	int		 role;		/* the parent's kind table says */
	int		 flags;		/* K_F_*, likewise */
	char		*slice;		/* JSON, secrets included */
	char		*listen;	/* its own address, or NULL */
};

/*
 * The plan's fields are the conf.plan frame's, owned: each a row of
 * IPC_BODY_conf_plan (ipc_parent.h), a string a char * (NULL for an
 * empty one), a number a uint32_t (every row's maximum fits one: the
 * assertions below), a bool an int.
 */
#define PLAN_CTYPE_U64		uint32_t
#define PLAN_CTYPE_BOOL		int
#define PLAN_CTYPE_STR		char *
#define PLAN_MEMBER(b, k, t, max, flags)	PLAN_CTYPE_##t k;

#define PLAN_FITS(b, k, t, max, flags) \
	_Static_assert((uint64_t)(max) <= UINT32_MAX, #k " outgrows the plan");
IPC_BODY_conf_plan(PLAN_FITS)

struct plan {
	char			*text;		/* the file, for the hub */
	size_t			 textlen;
	/*
	 * Among them the store's password (store_secret), kept for the
	 * hub's restarts (the parent has no other copy of it); every
	 * string is wiped with the plan.
	 */
	IPC_BODY_conf_plan(PLAN_MEMBER)
	struct plan_worker	*workers;	/* in start order */
	size_t			 nworkers;
};

/*
 * conf_fetch.c: read path, have a fresh reader parse it, return its
 * plan; NULL with err saying why (the configuration's own message, or
 * the reader's fate).  uid, gid and strict: the reader's sandbox.
 */
struct plan	*conf_fetch(const char *path, uid_t uid, gid_t gid, int strict,
		    char *err, size_t errlen);
void		 plan_free(struct plan *);
const struct plan_worker *plan_find(const struct plan *, const char *kind,
		    const char *id);

#endif
