/*
 * Share links as an operator names them, for the two places an operator
 * acts on one: the control socket (`wxgatectl share revoke`, control.c)
 * and the console (console_write.c).  `share list` and the console show
 * SHARE_PREFIX hex digits of a link's hash; the operator may give back
 * that prefix or the link's secret (from its URL), and both mean the
 * same link here.  Both make links here too; opening them is
 * router_share.c's.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
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

/*
 * A share link to session (to continue it or, read-only, to show it), or
 * to none: then every visitor starts a conversation of their own.  A
 * read-only link to nothing would show an empty page, so it is refused.
 * The secret goes back once, inside url, and is then forgotten; the
 * store keeps its SHA-256 as it does for session tokens.  0, or -1 and
 * why.
 */
int
share_create(int64_t session, int read_only, uint64_t ttl_s, char *url,
    size_t urllen, const char **why)
{
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();
	int rv;

	if (session > 0) {
		if ((rv = store_session_exists(sup->store, session)) != 1) {
			*why = rv == 0 ? "no such session" : "store error";
			return -1;
		}
	} else if (read_only) {
		*why = "a read-only link shows an existing conversation: "
		    "name it with --session";
		return -1;
	}
	if (session_token_new(tok, hash) == -1 ||
	    store_share_create(sup->store, hash, session, read_only, now,
	    ttl_s > 0 ? now + (int64_t)ttl_s : 0) == -1) {
		explicit_bzero(tok, sizeof(tok));
		*why = "cannot create a share link";
		return -1;
	}
	router_share_url(url, urllen, tok, strlen(tok));
	explicit_bzero(tok, sizeof(tok));
	return 0;
}
