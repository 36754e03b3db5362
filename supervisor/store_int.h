/*
 * Private interface between store.c (queries, group commit) and
 * store_migrate.c (schema versions).  Nothing outside supervisor/store*.c
 * and their unit tests includes this file.
 */
#ifndef WX_STORE_INT_H
#define WX_STORE_INT_H

#include <stddef.h>

#include <sqlite3.h>

/* The newest schema this code knows; a database beyond it is refused. */
#define STORE_SCHEMA_VERSION	1

/* PRAGMA user_version of db, or -1 with a warning. */
int	store_user_version(sqlite3 *db);
/*
 * 0 if this code can use db's schema, now or after store_migrate();
 * -1 with a reason in err for a newer or unreadable one.  Called before
 * anything, even a pragma, writes to the file.
 */
int	store_schema_check(sqlite3 *db, char *err, size_t errlen);
/*
 * Bring db to STORE_SCHEMA_VERSION in one transaction.  0 on success;
 * -1 with a reason in err (and nothing changed) otherwise.
 */
int	store_migrate(sqlite3 *db, char *err, size_t errlen);

#endif
