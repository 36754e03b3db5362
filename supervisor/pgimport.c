/*
 * The import of a lone node's store into a new cluster (pgimport.h),
 * run by wxgate-import by hand with the node stopped.  Blocking libpq:
 * an offline tool has no event loop to keep.
 *
 * It never writes the node's file: it copies it (and its -wal, which
 * holds what the last run committed but did not fold back) into a
 * private temporary folder and opens the copy, which store_open brings
 * to the latest schema.  In PostgreSQL, one transaction: the schema as
 * a node makes it (pgsetup.c), a refusal unless every table is empty,
 * each row through pgapply as a node ships it, and the row_ids
 * sequence moved past the highest id copied.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "pgapply.h"
#include "pgimport.h"
#include "pgsetup.h"
#include "schema.h"
#include "store.h"
#include "xmalloc.h"

/* The tables named in a refusal: enough to see why. */
#define IMPORT_NAMED_MAX	8

struct copy {
	PGconn		*conn;
	struct pgapply	*pa;
	char		*table;		/* the last row's */
	uint64_t	 rows;
	unsigned	 tables;	/* with a row */
	int64_t		 max_id;
};

/* src into dst, a new file of ours; 0, or -1 logged. */
static int
import_copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, ret = -1;

	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("%s", src);
		return -1;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		log_warn("%s", dst);
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			log_warn("%s", dst);
			goto out;
		}
	if (n == -1)
		log_warn("%s", src);
	else
		ret = 0;
 out:
	close(in);
	if (close(out) == -1 && ret == 0) {
		log_warn("%s", dst);
		ret = -1;
	}
	return ret;
}

/* The node's file and its -wal, if any, as dir/store.db. */
static int
import_copy_store(const char *old, const char *dir, char *path, size_t len)
{
	char *src, *dst;
	int ret = 0;

	snprintf(path, len, "%s/store.db", dir);
	if (import_copy_file(old, path) == -1)
		return -1;
	xasprintf(&src, "%s-wal", old);
	xasprintf(&dst, "%s-wal", path);
	if (access(src, F_OK) == 0 && import_copy_file(src, dst) == -1)
		ret = -1;
	free(src);
	free(dst);
	return ret;
}

static void
import_clean(const char *dir)
{
	static const char *const tails[] = { "", "-wal", "-shm",
	    "-journal" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		xasprintf(&p, "%s/store.db%s", dir, tails[i]);
		if (unlink(p) == -1 && errno != ENOENT)
			log_warn("%s", p);
		free(p);
	}
	if (rmdir(dir) == -1)
		log_warn("%s", dir);
}

/* A statement without parameters that must succeed; 0, or -1 logged. */
static int
import_exec(PGconn *conn, const char *what, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int ret = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_warnx("%s: %s", what, PQresultErrorMessage(r));
		ret = -1;
	}
	PQclear(r);
	return ret;
}

/*
 * Every table of the cluster's (the store's, and the nodes' and leases'
 * once a node ran) must be empty: an id, a lease token or a node's
 * name copied over a live cluster's would collide with its own.
 */
static int
import_check_empty(PGconn *conn)
{
	char named[512] = "", *q, *id;
	PGresult *r, *e;
	size_t len;
	int i, busy = 0, ret = 0;

	r = PQexec(conn, "SELECT c.relname FROM pg_class c JOIN pg_namespace"
	    " n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
	    " AND c.relkind = 'r' AND c.relname <> 'wx_schema' ORDER BY 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warnx("tables: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	for (i = 0; i < PQntuples(r) && ret == 0; i++) {
		const char *t = PQgetvalue(r, i, 0);

		if ((id = PQescapeIdentifier(conn, t, strlen(t))) == NULL)
			fatalx("%s: PQescapeIdentifier", __func__);
		xasprintf(&q, "SELECT 1 FROM %s LIMIT 1", id);
		PQfreemem(id);
		e = PQexec(conn, q);
		free(q);
		if (PQresultStatus(e) != PGRES_TUPLES_OK) {
			log_warnx("%s: %s", t, PQresultErrorMessage(e));
			ret = -1;
		} else if (PQntuples(e) > 0 && busy++ < IMPORT_NAMED_MAX) {
			len = strlen(named);
			snprintf(named + len, sizeof(named) - len, "%s%s",
			    busy > 1 ? ", " : "", t);
		}
		PQclear(e);
	}
	PQclear(r);
	if (ret == 0 && busy > 0) {
		log_warnx("refused: the database holds a cluster's rows "
		    "already (%s%s): rows imported into it would collide "
		    "with its ids; import into a new, empty database, before "
		    "any node starts on it", named,
		    busy > IMPORT_NAMED_MAX ? ", ..." : "");
		ret = -1;
	}
	return ret;
}

/* A store_change_fn: one row, as the statement a node would ship. */
static int
import_row(const struct store_change *c, void *arg)
{
	struct copy *cp = arg;
	const struct pgp_q *q;
	PGresult *r;
	unsigned n, i;
	int ret = 0;

	pgapply_reset(cp->pa);
	if (pgapply_add(c, cp->pa) == -1)
		return -1;
	q = pgapply_batch(cp->pa, &n);
	for (i = 0; i < n && ret == 0; i++) {
		r = PQexecParams(cp->conn, q[i].sql, (int)q[i].nparams, NULL,
		    q[i].params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warnx("%s: a row: %s", c->table,
			    PQresultErrorMessage(r));
			ret = -1;
		}
		PQclear(r);
	}
	if (cp->table == NULL || strcmp(cp->table, c->table) != 0) {
		cp->tables++;
		free(cp->table);
		cp->table = xstrdup(c->table);
	}
	cp->rows++;
	/* Every table keyed by a row id names it "id" (schema.c). */
	for (i = 0; i < c->ncol; i++)
		if (strcmp(c->col[i], "id") == 0 &&
		    c->val[i].kind == STORE_V_INT && c->val[i].i > cp->max_id)
			cp->max_id = c->val[i].i;
	return ret;
}

/*
 * Each nextval of row_ids is the first of a node's block of
 * SCHEMA_ID_BLOCK ids (pgids.c): the next one must lie above every id
 * copied, so no node's new row takes an imported row's id.  Never
 * backwards, should the sequence be ahead already.
 */
static int
import_ids(PGconn *conn, int64_t max_id)
{
	char v[32];
	const char *p[1] = { v };
	PGresult *r;
	int ret = 0;

	snprintf(v, sizeof(v), "%" PRId64, max_id + 1);
	r = PQexecParams(conn, "SELECT setval('row_ids', GREATEST($1::bigint,"
	    " CASE WHEN is_called THEN last_value + " SCHEMA_ID_BLOCK_S
	    " ELSE last_value END), false) FROM row_ids", 1, NULL, p, NULL,
	    NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warnx("row_ids: %s", PQresultErrorMessage(r));
		ret = -1;
	} else
		log_debug("row_ids: the next block starts at %s",
		    PQgetvalue(r, 0, 0));
	PQclear(r);
	return ret;
}

/* Everything in PostgreSQL, from BEGIN to COMMIT or ROLLBACK. */
static int
import_txn(PGconn *conn, struct store *s, int dry_run)
{
	struct copy cp;
	char *setup;
	int rc;

	if (import_exec(conn, "begin", "BEGIN") == -1)
		return -1;
	setup = pgsetup_sql();
	rc = import_exec(conn, "the schema", setup);
	free(setup);
	if (rc == 0)
		rc = import_check_empty(conn);
	memset(&cp, 0, sizeof(cp));
	cp.conn = conn;
	cp.pa = pgapply_new();
	if (rc == 0 && (rc = store_dump(s, import_row, &cp)) == -1)
		log_warnx("the copy stopped; nothing is imported");
	pgapply_free(cp.pa);
	free(cp.table);
	if (rc == 0)
		rc = import_ids(conn, cp.max_id);
	if (rc == -1 || dry_run) {
		import_exec(conn, "rollback", "ROLLBACK");
		if (rc == 0)
			printf("dry run: %" PRIu64 " rows in %u tables, "
			    "rolled back\n", cp.rows, cp.tables);
		return rc;
	}
	/* The foreign keys are deferred (schema.c's @DEFER): checked
	 * here, whatever order the tables came in. */
	if (import_exec(conn, "commit", "COMMIT") == -1)
		return -1;
	printf("%" PRIu64 " rows in %u tables\n", cp.rows, cp.tables);
	return 0;
}

int
pgimport_run(const struct pgimport *im)
{
	static const char *const keys[] = { "dbname", "password",
	    "application_name", NULL };
	const char *vals[] = { im->uri, im->password, "wxgate-import", NULL };
	char dir[] = "/tmp/wxgate-import.XXXXXX", path[4096], err[256];
	const char *tmp = getenv("TMPDIR");
	struct store *s = NULL;
	PGconn *conn = NULL;
	char *d;
	int ret = -1;

	if (tmp != NULL && *tmp != '\0') {
		xasprintf(&d, "%s/wxgate-import.XXXXXX", tmp);
		if (strlen(d) >= sizeof(path) - 16)
			fatalx("TMPDIR is too long");
	} else
		d = xstrdup(dir);
	if (mkdtemp(d) == NULL) {
		log_warn("mkdtemp %s", d);
		free(d);
		return -1;
	}
	if (import_copy_store(im->old, d, path, sizeof(path)) == -1)
		goto out;
	if ((s = store_open(path, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s", im->old, err);
		goto out;
	}
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		log_warnx("the database: %s", conn != NULL ?
		    PQerrorMessage(conn) : "out of memory");
		goto out;
	}
	ret = import_txn(conn, s, im->dry_run);
 out:
	PQfinish(conn);
	store_close(s);
	import_clean(d);
	free(d);
	return ret;
}
