/*
 * The direct-message and group policy of a channel account.  The hub
 * asks dm_decide() for every direct message from a sender, and
 * dm_group_decide() for every group chat's, before anything is stored
 * or an agent is asked; nothing a worker sends can widen either.
 *
 * Pairing codes are 8 characters from a 31-symbol alphabet without the
 * look-alikes (about 39 bits): enough that guessing a pending code from
 * another account's sender is hopeless within its hour, short enough to
 * read out over a phone.  A code is not a secret the store must hide:
 * the sender shows it to the operator.
 */
#include <sys/types.h>
#include <sys/random.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dm.h"
#include "log.h"

enum dm_verdict
dm_decide(enum dm_policy policy, char *const *allow_from, size_t nallow,
    const char *peer, int approved)
{
	size_t i;

	switch (policy) {
	case DM_POLICY_OPEN:
		return DM_ACCEPT;
	case DM_POLICY_DISABLED:
		return DM_DENY;
	case DM_POLICY_PAIRING:
	case DM_POLICY_ALLOWLIST:
		break;
	}
	if (approved)
		return DM_ACCEPT;
	for (i = 0; i < nallow; i++)
		if (strcmp(allow_from[i], "*") == 0 ||
		    strcmp(allow_from[i], peer) == 0)
			return DM_ACCEPT;
	return policy == DM_POLICY_PAIRING ? DM_PAIR : DM_DENY;
}

enum dm_verdict
dm_group_decide(enum group_policy policy, char *const *groups,
    size_t ngroups, const char *chat)
{
	size_t i;

	switch (policy) {
	case GROUP_POLICY_OPEN:
		return DM_ACCEPT;
	case GROUP_POLICY_DISABLED:
		return DM_DENY;
	case GROUP_POLICY_ALLOWLIST:
		break;
	}
	for (i = 0; i < ngroups; i++)
		if (strcmp(groups[i], "*") == 0 || strcmp(groups[i], chat) == 0)
			return DM_ACCEPT;
	return DM_DENY;
}

int
pairing_code_new(char *buf, size_t len)
{
	static const char alpha[] = PAIRING_ALPHABET;
	const unsigned n = sizeof(alpha) - 1;
	/* The largest multiple of n below 256: no modulo bias. */
	const unsigned lim = 256 - 256 % n;
	uint8_t r[64];
	size_t i, got = 0;

	if (len < PAIRING_CODE_LEN + 1)
		return -1;
	while (got < PAIRING_CODE_LEN) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			log_warn("%s: getrandom", __func__);
			return -1;
		}
		for (i = 0; i < sizeof(r) && got < PAIRING_CODE_LEN; i++)
			if (r[i] < lim)
				buf[got++] = alpha[r[i] % n];
	}
	buf[got] = '\0';
	return 0;
}

int
pairing_code_valid(const char *s)
{
	size_t len = strlen(s);

	return len == PAIRING_CODE_LEN &&
	    strspn(s, PAIRING_ALPHABET) == PAIRING_CODE_LEN;
}
