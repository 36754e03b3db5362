/*
 * The nonces of signed requests, for replays (shared/protocols/
 * wecom.md C.9): a nonce is unique for two hours, so one that comes
 * again with another message (its plaintext: the ciphertext changes
 * with every encryption) is a replay of a captured signature and is
 * refused.  The same nonce with the same message is the platform
 * sending its request again, and passes (turn.c treats it as a retry).
 * req.c refuses timestamps older than CB_TS_WINDOW_S, so a nonce need
 * only be remembered that long, and twice that covers clocks either
 * side.  Only signed requests reach here: a forger cannot fill it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "callback.h"
#include "log.h"

/*
 * A ring: the platform sends a few messages a second at most per
 * account; 4096 in ten minutes is seven a second.  Past that the
 * oldest is forgotten early, and its timestamp is nearly stale anyway.
 */
#define SEEN_MAX	4096
#define SEEN_TTL_S	(2 * CB_TS_WINDOW_S)

struct seen {
	char		 nonce[WXC_NONCE_MAX + 1];
	time_t		 at;
	unsigned char	 md[32];	/* SHA-256 of what it signed */
};

static struct seen	ring[SEEN_MAX];
static size_t		head;

int
seen_nonce(const char *nonce, const char *ts, const char *what, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	time_t now = time(NULL);
	size_t i;

	(void)ts;
	if (EVP_Digest(what, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(ring[0].md))
		fatalx("%s: sha256", __func__);
	for (i = 0; i < SEEN_MAX; i++) {
		if (ring[i].at == 0 || now - ring[i].at > SEEN_TTL_S ||
		    strcmp(ring[i].nonce, nonce) != 0)
			continue;
		if (memcmp(ring[i].md, md, mdlen) != 0)
			return SEEN_REPLAY;
		return SEEN_OK;
	}
	snprintf(ring[head].nonce, sizeof(ring[head].nonce), "%s", nonce);
	ring[head].at = now;
	memcpy(ring[head].md, md, mdlen);
	head = (head + 1) % SEEN_MAX;
	return SEEN_OK;
}
