/*
 * Share links as an operator names them, for the two places an operator
 * acts on one: the control socket (`wxgatectl share revoke`, control.c)
 * and the console (console_write.c).  `share list` and the console show
 * SHARE_PREFIX hex digits of a link's hash; the operator may give back
 * that prefix or the link's secret (from its URL), and both mean the
 * same link here.  Making links and opening them are control.c's and
 * router_share.c's.
 */
#include <stdio.h>
#include <string.h>

#include "hub.h"
#include "session.h"
#include "store.h"

/* A shorter prefix names too many links to be a deliberate choice. */
#define SHARE_PREFIX_MIN	6

/*
 * Revoke the link id names: its secret, or a prefix of its hash.  0
 * done (or revoked already), 1 none, 2 ambiguous, -1 store error.
 */
int
share_revoke(const char *id, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char want[SESSION_HASH_LEN * 2 + 1];
	uint8_t hash[SESSION_HASH_LEN];
	size_t i;
	int rv = 1;

	if (session_token_hash(id, len, hash) == 0) {
		for (i = 0; i < SESSION_HASH_LEN; i++) {
			want[2 * i] = hex[hash[i] >> 4];
			want[2 * i + 1] = hex[hash[i] & 0x0f];
		}
		want[SESSION_HASH_LEN * 2] = '\0';
		rv = store_share_revoke(sup->store, want, sup_now());
	}
	if (rv == 1 && len >= SHARE_PREFIX_MIN &&
	    len <= SESSION_HASH_LEN * 2) {
		snprintf(want, sizeof(want), "%.*s", (int)len, id);
		rv = store_share_revoke(sup->store, want, sup_now());
	}
	return rv;
}
