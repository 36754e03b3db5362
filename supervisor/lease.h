/*
 * Channel account leases across several nodes sharing one PostgreSQL
 * (issue #18): exactly one node runs an account's worker at a time.
 *
 * A lease is a row (account, node, token, expires) whose expiry is
 * judged by the database's clock; the owner renews it every renew_ms.
 * Taking a lease that lapsed raises its token, and every write made for
 * the account carries the token it was taken with (LEASE_FENCE_SQL), so
 * a node that lost the lease cannot write any more.  Fencing the database
 * does not stop a worker that polls or sends to the platform, so a node
 * also fences itself: a lease counts as held until the time its last
 * successful renewal was *sent*, plus ttl_ms, minus margin_ms, on this
 * node's monotonic clock; the database's expiry of that renewal can
 * only be later.  Past it, the node says LEASE_LOST and must stop the
 * account's worker at once.
 *
 * Placement: a node takes accounts up to its fair share, the accounts
 * it wants divided by the nodes alive (a node row renewed within ttl_ms
 * and not draining), rounded up, and gives back what is above it.  An
 * account pinned to a node is taken by that node only, whatever its
 * share.  Giving back is two steps: LEASE_GIVE asks the caller to stop
 * the worker, and only after leases_given() is the row let go, so the
 * next owner cannot start while this one runs.
 */
#ifndef WX_LEASE_H
#define WX_LEASE_H

#include <stdint.h>

struct event_base;
struct pgpool_conf;

#define LEASE_TTL_MS		15000	/* the default */
#define LEASE_NODE_MAX		63
#define LEASE_ACCOUNTS_MAX	4096

/*
 * The statement that fences a batch of writes for an account
 * (pgpool_batch): put first, with the account, this node and the token
 * it was given, it fails (SQLSTATE WX001) unless that lease is the
 * current one, and holds the lease row (FOR SHARE) until the batch
 * commits, so no take can pass it meanwhile; its failure rolls the
 * whole batch back.  lease.c's setup creates the function.
 */
#define LEASE_FENCE_SQL	"SELECT lease_fence($1, $2, $3::bigint)"

enum lease_ev {
	LEASE_HELD,	/* ours, with this token: start its worker */
	LEASE_LOST,	/* may no longer be ours: stop its worker now */
	LEASE_GIVE,	/* to hand over: stop its worker, then leases_given */
};

typedef void (*lease_fn)(enum lease_ev, const char *account,
		    int64_t token, void *arg);

struct lease_conf {
	const char	*node;		/* this node's name */
	unsigned	 ttl_ms;	/* 0: LEASE_TTL_MS */
	unsigned	 renew_ms;	/* 0: a third of ttl_ms */
	unsigned	 margin_ms;	/* 0: a fifth of ttl_ms */
};

struct leases;

/*
 * db: where and how to connect (conninfo, password, deadline); the
 * leases open a connection of their own, so that renewals never wait
 * behind the store's work.
 */
struct leases	*leases_new(struct event_base *, const struct pgpool_conf *db,
		    const struct lease_conf *, lease_fn, void *);
/* Frees without letting any lease go: they lapse (a node's death). */
void		 leases_free(struct leases *);
/*
 * An account this node may run; pin: the only node that may, or NULL.
 * A name that starts with LEASE_JOB_PREFIX is a job of one node that
 * has no worker ("@schedules"): outside the fair share, taken by any
 * node that finds it free, given back only on a drain.
 */
#define LEASE_JOB_PREFIX	'@'
int		 leases_want(struct leases *, const char *account,
		    const char *pin);
/*
 * No longer to run (a bound account removed): never taken again here;
 * held, it is given back (LEASE_GIVE, then leases_given).  Wanted
 * again, it is as new.
 */
void		 leases_unwant(struct leases *, const char *account);
/* After LEASE_GIVE: the account's worker has stopped. */
void		 leases_given(struct leases *, const char *account);
/* A write of ours was fenced: the lease is gone, its worker stops. */
void		 leases_lost(struct leases *, const char *account,
		    const char *why);
/* Give every lease back and take none (wxgatectl drain). */
void		 leases_drain(struct leases *);
/* Accounts this node holds now (jobs not counted). */
unsigned	 leases_held(const struct leases *);
/* Nodes alive and not draining at the last beat, this one included. */
unsigned	 leases_live(const struct leases *);
/* The fair share: wanted accounts over live nodes, rounded up. */
unsigned	 lease_share(unsigned accounts, unsigned nodes);

#endif
