/*
 * Who may talk to a channel account in direct messages, and the
 * one-time codes that let an unknown sender ask the operator.
 */
#ifndef WX_DM_H
#define WX_DM_H

#include <stddef.h>

/* An account's dm_policy (wxgate.yaml(5)); the order is the config's. */
enum dm_policy {
	DM_POLICY_PAIRING,	/* unknown senders get a code to approve */
	DM_POLICY_ALLOWLIST,	/* allow_from and approved senders only */
	DM_POLICY_OPEN,		/* anyone */
	DM_POLICY_DISABLED,	/* no one */
};

/* An account's group_policy: which group chats it answers in. */
enum group_policy {
	GROUP_POLICY_DISABLED,	/* none: group messages are ignored */
	GROUP_POLICY_ALLOWLIST,	/* the chats in groups only */
	GROUP_POLICY_OPEN,	/* any chat the platform delivers */
};

enum dm_verdict {
	DM_ACCEPT,		/* hand the message to the agent */
	DM_PAIR,		/* answer with a pairing code */
	DM_DENY,		/* drop it, audited */
};

#define PAIRING_CODE_LEN	8	/* characters, from PAIRING_ALPHABET */
/* No 0/O, 1/I/L: the sender reads it out to the operator. */
#define PAIRING_ALPHABET	"ABCDEFGHJKMNPQRSTUVWXYZ23456789"

/*
 * allow_from holds peer ids and "*" (anyone); approved says the store
 * marks the sender allowed (an approved pairing, the account's owner).
 */
enum dm_verdict	 dm_decide(enum dm_policy, char *const *allow_from,
		    size_t nallow, const char *peer, int approved);
/*
 * A group chat's message: DM_ACCEPT or DM_DENY (never a pairing code: a
 * group is let in by the operator's list, not by a member).  groups
 * holds chat ids and "*".
 */
enum dm_verdict	 dm_group_decide(enum group_policy, char *const *groups,
		    size_t ngroups, const char *chat);
/* A fresh code into buf (at least PAIRING_CODE_LEN + 1); 0 or -1. */
int		 pairing_code_new(char *buf, size_t len);
/* 1 if s is shaped like a code (what `pairing approve` accepts). */
int		 pairing_code_valid(const char *s);

#endif
