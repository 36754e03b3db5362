/*
 * wxgate-import (importmain.c, wxgate-import(8)): a store that was one
 * node's alone, on SQLite, copied into a new cluster's PostgreSQL, so
 * that the node's web chat sessions, share links, pairings, channel
 * state, schedules, audit and outbox go on in the cluster (issue #18).
 */
#ifndef WX_PGIMPORT_H
#define WX_PGIMPORT_H

struct pgimport {
	const char	*old;		/* the node's SQLite file: only read */
	const char	*uri;		/* postgresql://, no password in it */
	const char	*password;
	int		 dry_run;	/* everything, then ROLLBACK */
};

/*
 * The import, in one transaction: 0, or -1 with the reason logged and
 * nothing changed in the database.
 */
int	pgimport_run(const struct pgimport *);

#endif
