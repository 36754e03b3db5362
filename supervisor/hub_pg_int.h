/*
 * Between hub_pg.c and the files of wxgate-hub-pg alone that lean on
 * its pool and its ships (hub_pg_visit.c).
 */
#ifndef WX_HUB_PG_INT_H
#define WX_HUB_PG_INT_H

#include <stdint.h>

struct pgpool;

struct pgpool	*hub_pg_pool(void);
/* The last ship queued (0: none yet); ships go in order. */
uint64_t	 hub_pg_ship_last(void);
/* Has every ship up to this one committed, or been given up? */
int		 hub_pg_shipped(uint64_t);
/* Ships done: loads that waited for them may go (hub_pg_visit.c). */
void		 hub_pg_visit_run(void);

#endif
