/*
 * The kind table: one row per kind of worker the parent starts, with
 * its role and sockets.  The root parent starts workers by it
 * (reload.c, spawn.c) and the configuration's channel types come from
 * it.  What a channel kind's platform can take is kinds_caps.c's, and
 * which instances a configuration wants of a kind, and their slices,
 * kinds_want.c's: the hub's and the configuration reader's, never the
 * parent's.
 *
 * Adding a channel kind: a folder under workers/, its row in
 * workers/worker.c's kinds[], a row here, in kinds_caps.c and in
 * kinds_want.c, and its tests.
 */
#include <string.h>

#include "ipc_msg.h"
#include "kinds.h"

/* Start order: agents before the workers that send them work. */
const struct kind kinds_table[] = {
	{ "agent",	ROLE_AGENT,	K_F_MAY_LISTEN | K_F_LIGHT },
	{ "wechat",	ROLE_CHANNEL,	K_F_ZYGOTE },
	{ "wecom_webhook", ROLE_CHANNEL, 0 },
	{ "wecom_bot",	ROLE_CHANNEL,	0 },
	/* One kind per type, one worker per account: workers/callback/. */
	{ "wechat_mp",	ROLE_CHANNEL,	K_F_OWN_LISTEN },
	{ "wecom_app",	ROLE_CHANNEL,	K_F_OWN_LISTEN },
#ifdef WX_TEST_HOOKS
	{ "loopback",	ROLE_CHANNEL,	0 },
#endif
	{ "webchat",	ROLE_WEBCHAT,	K_F_LISTEN | K_F_LIGHT },
	/* metrics.listen's worker: workers/metrics/. */
	{ "metrics",	ROLE_METRICS,	K_F_OWN_LISTEN | K_F_LIGHT },
	/* console.listen's worker: workers/console/. */
	{ "console",	ROLE_CONSOLE,	K_F_OWN_LISTEN },
	{ NULL,		0,		0 }
};

const struct kind *
kinds_find(const char *name)
{
	const struct kind *k;

	for (k = kinds_table; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/*
 * An instance's name (an agent's, an account's, "0", "http"): a-z, 0-9,
 * _ and -, at most KINDS_ID_MAX.  It becomes a worker name, a log
 * prefix and a store key, so root checks whoever sent it.
 */
int
kinds_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= KINDS_ID_MAX &&
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}
