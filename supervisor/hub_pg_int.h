/*
 * Between hub_pg.c and the files of wxgate-hub-pg alone that lean on
 * its pool, its ships and its leases (hub_pg_visit.c, hub_pg_ctl.c).
 */
#ifndef WX_HUB_PG_INT_H
#define WX_HUB_PG_INT_H

#include <stdint.h>

#include "lease.h"

struct leases;
struct pgpool;
struct store_change;

/* The lease of the one node that runs schedules (hub_pg_sched.c). */
#define SCHED_LEASE	"@schedules"

struct pgpool	*hub_pg_pool(void);
struct leases	*hub_pg_leases(void);
/* An account this node holds: its worker's state, for the operator. */
const char	*hub_pg_worker_state(const char *account);
/* The last ship queued (0: none yet); ships go in order. */
uint64_t	 hub_pg_ship_last(void);
/* Has every ship up to this one committed, or been given up? */
int		 hub_pg_shipped(uint64_t);
/* Ships done: loads that waited for them may go (hub_pg_visit.c). */
void		 hub_pg_visit_run(void);
/* Each channel account this node runs now. */
void		 hub_pg_each_held(void (*)(const char *, void *), void *);

/* hub_pg_sched.c: schedules on one node of the cluster. */
void		 hub_pg_sched_start(void);
/* The schedules' lease moved (hub_pg.c keeps its token for fences). */
void		 hub_pg_sched_lease(enum lease_ev);
/* The account a change ships under: SCHED_LEASE for the scheduler's
 * rows, else its own (c->account). */
const char	*hub_pg_sched_owner(const struct store_change *);
/* For wxgatectl cluster: "loading" or "running". */
const char	*hub_pg_sched_state(void);

/* hub_pg_bound.c: bound accounts learnt from the truth, leased. */
void		 hub_pg_bound_start(void);
int		 hub_pg_bound_want(const char *name, const char *tmpl);
void		 hub_pg_bound_unwant(const char *name);

/* hub_pg_warm.c: a cold conversation's history, read when it is wanted. */
void		 hub_pg_warm_start(void);

/* hub_pg_rate.c: the public chat's buckets, kept in the database. */
void		 hub_pg_rate_start(void);

#endif
