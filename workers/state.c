/*
 * A channel worker's own state in the hub's store (state.put), with the
 * last value of each key remembered: after sup.resync the new hub is
 * told them again, as the old one may have died before storing them.
 * A value may be a secret (a bot token): wiped when replaced.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

/* Keys a kind puts (token, cursor, status...); more is a bug. */
#define WK_STATE_KEYS	8

static struct {
	char		*key;
	char		*value;
} said[WK_STATE_KEYS];

static void
wk_state_send(const char *key, const char *value)
{
	struct ipc_body_state b;

	b.key = ipc_s(key);
	b.value = ipc_s(value);
	if (worker_send(IPC_STATE_PUT, 0, &b) == -1)
		fatalx("%s: hub queue full", __func__);
}

void
wk_state_put(const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < WK_STATE_KEYS && said[i].key != NULL; i++)
		if (strcmp(said[i].key, key) == 0)
			break;
	if (i == WK_STATE_KEYS)
		fatalx("%s: more than %d state keys", __func__, WK_STATE_KEYS);
	if (said[i].key == NULL)
		said[i].key = xstrdup(key);
	xfree_secret(said[i].value);
	said[i].value = xstrdup(value);
	wk_state_send(key, value);
}

void
wk_state_resay(void)
{
	size_t i;

	for (i = 0; i < WK_STATE_KEYS && said[i].key != NULL; i++)
		wk_state_send(said[i].key, said[i].value);
}
