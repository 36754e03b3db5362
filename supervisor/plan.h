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

struct plan_supervisor {
	uint32_t	 heartbeat_ms;
	uint32_t	 heartbeat_timeout_ms;
	uint32_t	 restart_min_ms;
	uint32_t	 restart_max_ms;
	uint32_t	 crashloop_count;
	uint32_t	 crashloop_window_s;
	uint32_t	 shutdown_grace_ms;
};

struct plan_sandbox {
	char		*user;		/* workers */
	char		*group;
	char		*hub_user;
	char		*hub_group;
	int		 strict;
	int		 zygote;	/* sandbox.zygote */
};

struct plan {
	char			*text;		/* the file, for the hub */
	size_t			 textlen;
	char			*state_dir;
	char			*store;
	char			*control;
	char			*log_level;
	int			 log_syslog;
	struct plan_supervisor	 supervisor;
	struct plan_sandbox	 sandbox;
	char			*webchat_listen;
	char			*metrics_listen;	/* NULL: none */
	int			 store_pg;	/* shared: wxgate-hub-pg */
	/*
	 * Its password, kept for the hub's restarts (the parent has no
	 * other copy of it); wiped with the plan.
	 */
	char			*store_secret;
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
