/*
 * Bound accounts (account.c): wechat accounts made at run time from a
 * binding invitation, kept in the store rather than in the file.  The
 * hub's only; the parent starts and stops their workers on request.
 */
#ifndef WX_ACCOUNT_H
#define WX_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* The kind every bound account is (the store's CHECK says the same). */
#define ACCOUNT_KIND	"wechat"

/* Hub start, after the store opened: forget pending, start the active. */
void	 account_init(void);
/* A reload: nc gets the bound accounts whose template it still has. */
void	 account_reload(struct config *nc);
/*
 * A pending account from template tmpl for invitation inv, its worker
 * asked for; its name goes to name.  0, or -1 with why in err.
 */
int	 account_create(const char *tmpl, int64_t inv, char *name,
	    size_t namelen, char *err, size_t errlen);
/* The scanner confirmed: the use is spent, the account active.  0/-1. */
int	 account_activate(const char *name, const char *owner);
/* Stop its worker and delete it and its data; 0, 1 not bound, -1. */
int	 account_remove(const char *name, const char *why);
/*
 * /unbind from peer on account: the owner's first asks, the second
 * within ACCOUNT_UNBIND_MS removes it a moment later (the answer goes
 * out first).
 */
#define ACCOUNT_UNBIND_MS	60000
enum {
	ACCOUNT_UNBIND_NOT_BOUND,
	ACCOUNT_UNBIND_NOT_OWNER,
	ACCOUNT_UNBIND_ASK,
	ACCOUNT_UNBIND_DONE,
};
int	 account_unbind(const char *account, const char *peer);
/* Is name a bound account the hub knows (pending or active)? */
/* By its number as text: 0, 1 none live, 2 not a number, -1. */
int	 account_invite_revoke(const char *id, size_t len);
int	 account_is(const char *name);
int	 account_pending(const char *name);
/* Bound accounts, for channels list: fn per account. */
typedef void	(*account_fn)(const char *name, const char *tmpl,
		    const char *state, const char *owner, void *);
void	 account_each(account_fn, void *);
/*
 * A bound account's worker stopped and held (on), or started again, for
 * an operator's pause (pause.c): 0, or -1 for no such account.
 */
int	 account_hold(const char *name, int on);

/*
 * A cluster's lease of a bound account (hub_pg.c): taken and its rows
 * loaded, it is built from tmpl and started; lost or given, its worker
 * stops and this node forgets it (its rows stay in the truth).
 */
void	 account_lease_start(const char *name, const char *tmpl);
void	 account_lease_stop(const char *name);

#endif
