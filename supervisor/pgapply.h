/*
 * A turn's changes (store_capture_take) as one PostgreSQL transaction:
 * each change becomes a statement, keyed by the row's primary key, for
 * pgpool_batch (docs/architecture.md, "Several nodes on PostgreSQL").
 *
 *   insert  INSERT ... ON CONFLICT (key) DO UPDATE SET every column,
 *           so that shipping a turn again changes nothing
 *   update  UPDATE ... SET the changed columns WHERE key = the old key
 *           (and, for an outbox row's end, the row still queued); an
 *           invitation's uses_left and used are left out, spent in
 *           PostgreSQL itself (hub_pg_spend.c)
 *   delete  DELETE ... WHERE key = the old key
 *
 * A cascade SQLite ran is shipped too, and finds its rows already gone
 * or set by PostgreSQL's own: the two schemas are one (schema.c), and
 * PostgreSQL's foreign keys are checked at commit, since a changeset
 * is ordered by table, not by time.
 */
#ifndef WX_PGAPPLY_H
#define WX_PGAPPLY_H

#include <stdint.h>

#include "pgpool.h"
#include "store.h"

struct pgapply;

struct pgapply	*pgapply_new(void);
void		 pgapply_free(struct pgapply *);
/* Empty again, for the next turn. */
void		 pgapply_reset(struct pgapply *);
/*
 * First in a batch for a leased account: the batch commits only while
 * that lease is node's with token (LEASE_FENCE_SQL).  -1 when full.
 */
int		 pgapply_fence(struct pgapply *, const char *account,
		    const char *node, int64_t token);
/* An outbox row's end (sent, failed): applied only to a queued row. */
int		 pgapply_is_end(const struct store_change *);
/* An update of nothing that ships (an invitation's counts): no statement. */
int		 pgapply_skips(const struct store_change *);
/* A store_change_fn (arg: the pgapply): -1 when the batch is full. */
int		 pgapply_add(const struct store_change *, void *);
/* The statements so far; valid until the next add or reset. */
const struct pgp_q *pgapply_batch(const struct pgapply *, unsigned *n);

#endif
