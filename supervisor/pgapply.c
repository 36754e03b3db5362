/*
 * Store changes as PostgreSQL statements (pgapply.h).  Names come from
 * the store's own schema, never from a peer, and are quoted all the
 * same; values go as text parameters, bytes in bytea's hex form.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "log.h"
#include "pgapply.h"
#include "xmalloc.h"

struct pgapply {
	struct pgp_q	*q;
	char		**sql;
	char		***params;	/* PGPOOL_PARAMS_MAX each */
	unsigned	 n;
	unsigned	 cap;
};

struct sqlbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
sb_put(struct sqlbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_put(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			fatalx("%s: vsnprintf", __func__);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	b->len += (size_t)n;
}

struct pgapply *
pgapply_new(void)
{
	return xcalloc(1, sizeof(struct pgapply));
}

void
pgapply_reset(struct pgapply *a)
{
	unsigned i, j;

	for (i = 0; i < a->n; i++) {
		free(a->sql[i]);
		for (j = 0; j < a->q[i].nparams; j++)
			free(a->params[i][j]);
	}
	a->n = 0;
}

void
pgapply_free(struct pgapply *a)
{
	unsigned i;

	if (a == NULL)
		return;
	pgapply_reset(a);
	for (i = 0; i < a->cap; i++)
		free(a->params[i]);
	free(a->params);
	free(a->sql);
	free(a->q);
	free(a);
}

/* A value as PostgreSQL's text input for its column; NULL for NULL. */
static char *
pa_text(const struct store_val *v)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = v->p;
	char *s;
	size_t i;

	switch (v->kind) {
	case STORE_V_INT:
		xasprintf(&s, "%" PRId64, v->i);
		return s;
	case STORE_V_TEXT:
		return xstrndup(v->p, v->len);
	case STORE_V_BLOB:
		s = xmalloc(2 * v->len + 3);
		s[0] = '\\';
		s[1] = 'x';
		for (i = 0; i < v->len; i++) {
			s[2 + 2 * i] = hex[p[i] >> 4];
			s[3 + 2 * i] = hex[p[i] & 15];
		}
		s[2 + 2 * v->len] = '\0';
		return s;
	default:
		return NULL;
	}
}

/* $n for v, as the statement's next parameter; -1 past the bound. */
static int
pa_param(struct pgapply *a, const struct store_val *v)
{
	unsigned i = a->n;

	if (a->q[i].nparams == PGPOOL_PARAMS_MAX)
		return -1;
	a->params[i][a->q[i].nparams] = pa_text(v);
	return (int)++a->q[i].nparams;
}

/* WHERE key = the old key; -1 past the parameters' bound. */
static int
pa_where(struct pgapply *a, struct sqlbuf *b, const struct store_change *c)
{
	unsigned i;
	int n, first = 1;

	sb_put(b, " WHERE");
	for (i = 0; i < c->ncol; i++) {
		if (!c->pk[i])
			continue;
		if ((n = pa_param(a, &c->key[i])) == -1)
			return -1;
		sb_put(b, "%s \"%s\" = $%d", first ? "" : " AND", c->col[i], n);
		first = 0;
	}
	return 0;
}

/* An upsert of the whole row (store_upsert_sql's $1..$n in order). */
static int
pa_insert(struct pgapply *a, struct sqlbuf *b, const struct store_change *c)
{
	char *sql;
	unsigned i;

	for (i = 0; i < c->ncol; i++)
		if (pa_param(a, &c->val[i]) == -1)
			return -1;
	sql = store_upsert_sql(c->table, c->ncol, c->col, c->pk);
	sb_put(b, "%s", sql);
	free(sql);
	return 0;
}

/*
 * An outbox row's end: an update moving its state away from 'queued'.
 * Such a row is never queued again, so, applied only where the row is
 * still queued, it may go whoever holds the account (hub_pg.c).
 */
int
pgapply_is_end(const struct store_change *c)
{
	unsigned i;

	if (c->op != STORE_OP_UPDATE || strcmp(c->table, "outbox") != 0)
		return 0;
	for (i = 0; i < c->ncol; i++)
		if (strcmp(c->col[i], "state") == 0)
			return c->val[i].kind == STORE_V_TEXT &&
			    (c->val[i].len != 6 ||
			    memcmp(c->val[i].p, "queued", 6) != 0);
	return 0;
}

/*
 * An invitation's use is spent in PostgreSQL itself, by one conditional
 * statement before the binding's turn (hub_pg_spend.c): the working
 * set's counts are a copy and never ship, or two nodes spending the
 * last use would both write uses_left = 0.
 */
static int
pa_spent_there(const struct store_change *c, unsigned i)
{
	return strcmp(c->table, "invitations") == 0 &&
	    (strcmp(c->col[i], "uses_left") == 0 ||
	    strcmp(c->col[i], "used") == 0);
}

int
pgapply_skips(const struct store_change *c)
{
	unsigned i;
	int spent = 0;

	if (c->op != STORE_OP_UPDATE)
		return 0;
	for (i = 0; i < c->ncol; i++) {
		if (c->val[i].kind == STORE_V_NONE)
			continue;
		if (!pa_spent_there(c, i))
			return 0;
		spent = 1;
	}
	return spent;
}

static int
pa_update(struct pgapply *a, struct sqlbuf *b, const struct store_change *c)
{
	unsigned i;
	int n, first = 1;

	sb_put(b, "UPDATE \"%s\" SET", c->table);
	for (i = 0; i < c->ncol; i++) {
		if (c->val[i].kind == STORE_V_NONE || pa_spent_there(c, i))
			continue;
		if ((n = pa_param(a, &c->val[i])) == -1)
			return -1;
		sb_put(b, "%s \"%s\" = $%d", first ? "" : ",", c->col[i], n);
		first = 0;
	}
	if (first)
		return -1;	/* a changeset's update changes something */
	if (pa_where(a, b, c) == -1)
		return -1;
	if (pgapply_is_end(c))
		sb_put(b, " AND \"state\" = 'queued'");
	return 0;
}

/* Room for the next statement, a->n's, cleared; -1 past the bound. */
static int
pa_slot(struct pgapply *a)
{
	unsigned i;

	if (a->n == PGPOOL_BATCH_MAX) {
		log_warnx("pgapply: a turn of more than %d changes",
		    PGPOOL_BATCH_MAX);
		return -1;
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->q = xreallocarray(a->q, a->cap, sizeof(*a->q));
		a->sql = xreallocarray(a->sql, a->cap, sizeof(*a->sql));
		a->params = xreallocarray(a->params, a->cap,
		    sizeof(*a->params));
		for (i = a->n; i < a->cap; i++)
			a->params[i] = xcalloc(PGPOOL_PARAMS_MAX,
			    sizeof(char *));
	}
	memset(&a->q[a->n], 0, sizeof(a->q[a->n]));
	return 0;
}

int
pgapply_add(const struct store_change *c, void *arg)
{
	struct pgapply *a = arg;
	struct sqlbuf b = { NULL, 0, 0 };
	unsigned i;
	int rc;

	if (pgapply_skips(c))
		return 0;
	if (pa_slot(a) == -1)
		return -1;
	b.cap = 256;
	b.s = xmalloc(b.cap);
	b.s[0] = '\0';
	switch (c->op) {
	case STORE_OP_INSERT:
		rc = pa_insert(a, &b, c);
		break;
	case STORE_OP_UPDATE:
		rc = pa_update(a, &b, c);
		break;
	default:
		sb_put(&b, "DELETE FROM \"%s\"", c->table);
		rc = pa_where(a, &b, c);
		break;
	}
	if (rc == -1) {
		log_warnx("pgapply: %s: a change past the statement's bounds",
		    c->table);
		for (i = 0; i < a->q[a->n].nparams; i++)
			free(a->params[a->n][i]);
		free(b.s);
		return -1;
	}
	a->sql[a->n] = b.s;
	a->q[a->n].sql = b.s;
	a->q[a->n].params = (const char *const *)a->params[a->n];
	a->n++;
	return 0;
}

int
pgapply_fence(struct pgapply *a, const char *account, const char *node,
    int64_t token)
{
	struct store_val v[3] = {
		{ STORE_V_TEXT, 0, account, strlen(account) },
		{ STORE_V_TEXT, 0, node, strlen(node) },
		{ STORE_V_INT, token, NULL, 0 },
	};
	unsigned i;

	if (pa_slot(a) == -1)
		return -1;
	for (i = 0; i < 3; i++)
		a->params[a->n][i] = pa_text(&v[i]);
	a->q[a->n].nparams = 3;
	a->q[a->n].params = (const char *const *)a->params[a->n];
	a->sql[a->n] = xstrdup(LEASE_FENCE_SQL);
	a->q[a->n].sql = a->sql[a->n];
	a->n++;
	return 0;
}

const struct pgp_q *
pgapply_batch(const struct pgapply *a, unsigned *n)
{
	*n = a->n;
	return a->q;
}
