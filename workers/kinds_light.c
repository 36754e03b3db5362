/*
 * wxgate-light's kinds: the public web chat, the agents and the metrics
 * listener, which hash with common/sha.c, encode with common/b64.c and
 * serve plain HTTP, so that this program links no OpenSSL, SQLite or
 * YAML and each of these processes maps none of it (issue #17's idle
 * footprint; tests/unit/light_needed.sh checks the program's libraries).
 * An agent that dials loads libcurl, and its TLS, when it starts
 * (workers/net/curl_dl.c).
 */
#include <stddef.h>

#include "worker.h"

static const struct wk_kind *const kinds[] = {
	&wk_webchat,
	&wk_agent,
	&wk_metrics,
};

const struct wk_kind *const *
worker_kinds(size_t *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

/* Nothing here uses OpenSSL. */
void
worker_crypto_init(void)
{
}
