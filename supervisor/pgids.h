/*
 * Row id blocks for a node's working set (store_ids): each block is one
 * nextval of PostgreSQL's row_ids sequence, which steps by
 * SCHEMA_ID_BLOCK, so no two nodes, nor two fetches, share an id.  The
 * hub asks for the next block while half of the last is left, so an
 * insert waits on nothing; when the database is away that long, inserts
 * fail and their turns are refused (busy) instead of taking an id some
 * other node may hold.
 */
#ifndef WX_PGIDS_H
#define WX_PGIDS_H

#include <stdint.h>

struct pgpool;
struct store;

/* Done: the first id of the block given to the store, or -1 (logged). */
typedef void	(*pgids_fn)(int64_t first, void *);

/* Ask for a block now. */
int	pgids_fetch(struct pgpool *, struct store *, pgids_fn, void *);
/* Whether the store should have its next block asked for. */
int	pgids_low(struct store *);

#endif
