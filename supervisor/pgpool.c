/*
 * The PostgreSQL connection pool (pgpool.h).  Every connection is a
 * small state machine on its socket:
 *
 *   WAIT --timer--> CONNECT --PQconnectPoll ok--> SETUP (the caller's
 *   schema, if any) --> PREPARE (one PQsendPrepare per statement)
 *   --> IDLE <--> RUN (one request)
 *
 * and any failure goes back to WAIT with a doubling backoff.  One timer
 * a connection serves each state: the backoff, the deadline to connect,
 * the running request's deadline.  The queue is FIFO and every request
 * has the same deadline length, so its head expires first and one timer
 * serves it.  Answers that cannot come from the server (busy, timed out
 * while queued) are delivered from the loop, never inside pgpool_query,
 * so that no caller is re-entered.
 *
 * The server is told the deadline as well (statement_timeout), so a
 * request we gave up on does not keep running there.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "pgpool.h"
#include "xmalloc.h"

#define PGPOOL_CONNECT_MS	5000
#define PGPOOL_BACKOFF_MIN_MS	100
#define PGPOOL_BACKOFF_MAX_MS	5000

enum pgc_state {
	PGC_WAIT, PGC_CONNECT, PGC_SETUP, PGC_PREPARE, PGC_IDLE, PGC_RUN
};

/* A request is one statement, or several in one transaction: in
 * pipeline mode up to one Sync, which makes them an implicit
 * transaction that one round trip commits, and that the first error
 * rolls back whole. */
struct pgreq_q {
	unsigned	 stmt;
	unsigned	 nparams;
	const char	**params;
	const char	*sql;
};

struct pgreq {
	TAILQ_ENTRY(pgreq) entry;
	unsigned	 nq;
	struct pgreq_q	*q;		/* q, params and strings: one block */
	pgp_done_fn	 done;
	void		*arg;
	uint64_t	 deadline;	/* clock_mono_ms */
	enum pgp_status	 status;	/* of an answer made in the loop */
};
TAILQ_HEAD(pgreqs, pgreq);

struct pgconn {
	struct pgpool	*pool;
	unsigned	 idx;
	PGconn		*pg;
	enum pgc_state	 state;
	int		 fd;
	struct event	*io;
	struct event	*timer;
	unsigned	 prepared;
	unsigned	 backoff_ms;
	int		 logged;	/* its failure said once until it is up */
	struct pgreq	*req;
	PGresult	*res;		/* the result to answer with */
	int		 pipe;		/* in pipeline mode */
	unsigned	 ended;		/* statements of the batch ended */
	unsigned	 res_q;		/* the statement res is of */
};

struct pgpool {
	struct event_base *base;
	char		*conninfo;
	char		*password;
	const char	*setup;
	char		 options[64];
	unsigned	 nconns;
	unsigned	 queue_max;
	unsigned	 deadline_ms;
	const struct pgp_stmt *stmts;
	unsigned	 nstmts;
	struct pgconn	 conns[PGPOOL_CONNS_MAX];
	struct pgreqs	 queue;
	unsigned	 nqueued;
	struct event	*qtimer;
	struct pgreqs	 answers;	/* made in pgpool_query, given here */
	struct event	*later;
};

static void	pgc_io(evutil_socket_t, short, void *);
static void	pgc_timer(evutil_socket_t, short, void *);
static void	pgc_fail(struct pgconn *, const char *);
static void	pgc_take(struct pgconn *);
static void	pgp_arm_queue(struct pgpool *);

const char *
pgp_status_name(enum pgp_status s)
{
	static const char *const names[] = {
		[PGP_OK] = "ok", [PGP_ERROR] = "error", [PGP_BUSY] = "busy",
		[PGP_TIMEOUT] = "timeout", [PGP_DOWN] = "down",
		[PGP_CLOSED] = "closed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ?
	    names[s] : "?";
}

static void
pgp_answer(struct pgreq *r, enum pgp_status s, const PGresult *res,
    const char *err)
{
	r->done(s, res, err, r->arg);
	free(r);
}

static void
pgc_arm(struct pgconn *c, uint64_t ms)
{
	struct timeval tv = clock_tv(ms);

	evtimer_add(c->timer, &tv);
}

/* Wait for what on the connection's socket, which libpq may change
 * while it connects (one address after another). */
static void
pgc_watch(struct pgconn *c, short what)
{
	int fd = PQsocket(c->pg);

	if (fd == -1) {
		pgc_fail(c, "no socket");
		return;
	}
	event_del(c->io);
	event_assign(c->io, c->pool->base, fd, what, pgc_io, c);
	c->fd = fd;
	event_add(c->io, NULL);
}

/* Send what libpq holds; then wait to read, and to write if it could
 * not all go. */
static void
pgc_flush(struct pgconn *c)
{
	switch (PQflush(c->pg)) {
	case 0:
		pgc_watch(c, EV_READ);
		break;
	case 1:
		pgc_watch(c, EV_READ | EV_WRITE);
		break;
	default:
		pgc_fail(c, PQerrorMessage(c->pg));
		break;
	}
}

/* The server's notices (a shutdown's warning) go to our log, not to
 * libpq's stderr. */
static void
pgc_notice(void *arg, const char *msg)
{
	struct pgconn *c = arg;

	log_debug("pgpool: connection %u: %.*s", c->idx,
	    (int)strcspn(msg, "\n"), msg);
}

static void
pgc_open(struct pgconn *c)
{
	struct pgpool *p = c->pool;
	const char *keys[] = { "dbname", "password", "application_name",
	    "options", NULL };
	const char *vals[] = { p->conninfo, p->password, "wxgated",
	    p->options, NULL };

	/* A NULL value leaves the key to the conninfo or the defaults. */
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL) {
		pgc_fail(c, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	PQsetNoticeProcessor(c->pg, pgc_notice, c);
	c->state = PGC_CONNECT;
	pgc_arm(c, PGPOOL_CONNECT_MS);
	pgc_watch(c, EV_WRITE);
}

static void
pgc_prepare_next(struct pgconn *c)
{
	struct pgpool *p = c->pool;
	const struct pgp_stmt *s;

	if (c->prepared == p->nstmts) {
		evtimer_del(c->timer);
		c->state = PGC_IDLE;
		c->backoff_ms = 0;
		if (c->logged)
			log_info("pgpool: connection %u is up again", c->idx);
		c->logged = 0;
		pgc_watch(c, EV_READ);
		pgc_take(c);
		return;
	}
	s = &p->stmts[c->prepared];
	if (!PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL)) {
		pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	pgc_flush(c);
}

static void
pgc_connected(struct pgconn *c)
{
	if (PQsetnonblocking(c->pg, 1) == -1) {
		pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->prepared = 0;
	if (c->pool->setup == NULL) {
		c->state = PGC_PREPARE;
		pgc_prepare_next(c);
		return;
	}
	c->state = PGC_SETUP;
	if (!PQsendQuery(c->pg, c->pool->setup)) {
		pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	pgc_flush(c);
}

static int
pgp_failed(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY;
}

/* The server finished what was sent; c->res is what to answer. */
static void
pgc_finished(struct pgconn *c)
{
	PGresult *res = c->res;
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	struct pgreq *r = c->req;
	char err[512];

	c->res = NULL;
	if (c->state == PGC_SETUP) {
		if (res == NULL || pgp_failed(res)) {
			snprintf(err, sizeof(err), "setup: %s",
			    res ? PQresultErrorMessage(res) : "no result");
			PQclear(res);
			pgc_fail(c, err);
			return;
		}
		PQclear(res);
		c->state = PGC_PREPARE;
		pgc_prepare_next(c);
		return;
	}
	if (c->state == PGC_PREPARE) {
		if (st != PGRES_COMMAND_OK) {
			/* The statement is wrong: the caller's bug, and no
			 * connection will do better; say which. */
			snprintf(err, sizeof(err), "prepare %s: %s",
			    c->pool->stmts[c->prepared].name,
			    res ? PQresultErrorMessage(res) : "no result");
			PQclear(res);
			pgc_fail(c, err);
			return;
		}
		PQclear(res);
		c->prepared++;
		pgc_prepare_next(c);
		return;
	}
	c->req = NULL;
	c->state = PGC_IDLE;
	evtimer_del(c->timer);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		pgp_answer(r, PGP_OK, res, NULL);
	} else {
		const char *code = res ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		if (r->nq > 1)
			snprintf(err, sizeof(err), "statement %u: %s: %s",
			    c->res_q + 1, code ? code : "-",
			    res ? PQresultErrorMessage(res) : "no result");
		else
			snprintf(err, sizeof(err), "%s: %s", code ? code : "-",
			    res ? PQresultErrorMessage(res) : "no result");
		err[strcspn(err, "\n")] = '\0';
		/* query_canceled: the server's statement_timeout, the same
		 * deadline seen from there, may beat our timer. */
		pgp_answer(r, code && strcmp(code, "57014") == 0 ?
		    PGP_TIMEOUT : PGP_ERROR, res, err);
	}
	PQclear(res);
	pgc_watch(c, EV_READ);
	pgc_take(c);
}

static void
pgc_read(struct pgconn *c)
{
	PGresult *res;
	PGnotify *n;

	if (!PQconsumeInput(c->pg)) {
		pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (c->state == PGC_IDLE) {
		if (PQstatus(c->pg) == CONNECTION_BAD)
			pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	while (!PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) == NULL) {
			if (!c->pipe) {
				pgc_finished(c);
				return;
			}
			c->ended++;	/* one statement's results are in */
			continue;
		}
		if (c->pipe && PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			if (!PQexitPipelineMode(c->pg)) {
				pgc_fail(c, PQerrorMessage(c->pg));
				return;
			}
			c->pipe = 0;
			pgc_finished(c);
			return;
		}
		/* The first failure (what follows it in a batch is only
		 * "aborted"); else the last result. */
		if (c->res == NULL || (!pgp_failed(c->res))) {
			PQclear(c->res);
			c->res = res;
			c->res_q = c->ended;
		} else
			PQclear(res);
	}
	pgc_flush(c);
}

static void
pgc_io(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;

	(void)fd;
	switch (c->state) {
	case PGC_CONNECT:
		switch (PQconnectPoll(c->pg)) {
		case PGRES_POLLING_OK:
			pgc_connected(c);
			break;
		case PGRES_POLLING_READING:
			pgc_watch(c, EV_READ);
			break;
		case PGRES_POLLING_WRITING:
			pgc_watch(c, EV_WRITE);
			break;
		default:
			pgc_fail(c, PQerrorMessage(c->pg));
			break;
		}
		return;
	case PGC_SETUP:
	case PGC_PREPARE:
	case PGC_RUN:
	case PGC_IDLE:
		if (what & EV_WRITE) {
			pgc_flush(c);
			if (c->state == PGC_WAIT || !(what & EV_READ))
				return;
		}
		pgc_read(c);
		return;
	case PGC_WAIT:
		return;
	}
}

static void
pgc_send(struct pgconn *c, struct pgreq *r)
{
	uint64_t now = clock_mono_ms();

	const struct pgp_stmt *st = c->pool->stmts;
	unsigned i;
	int ok = 1;

	c->ended = 0;
	c->res_q = 0;
	if (r->nq > 1) {
		if ((ok = PQenterPipelineMode(c->pg)) != 0)
			c->pipe = 1;
	}
	for (i = 0; i < r->nq && ok; i++) {
		const struct pgreq_q *q = &r->q[i];

		if (q->sql != NULL)
			ok = PQsendQueryParams(c->pg, q->sql, (int)q->nparams,
			    NULL, q->params, NULL, NULL, 0);
		else
			ok = PQsendQueryPrepared(c->pg, st[q->stmt].name,
			    (int)q->nparams, q->params, NULL, NULL, 0);
	}
	if (c->pipe)
		ok = ok && PQpipelineSync(c->pg);
	if (!ok) {
		/* Not run: the server executes nothing of a message it did
		 * not get whole, nor commits without its Sync.  It waits
		 * for the next connection, at the head where it was. */
		TAILQ_INSERT_HEAD(&c->pool->queue, r, entry);
		if (c->pool->nqueued++ == 0)
			pgp_arm_queue(c->pool);
		pgc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->req = r;
	c->state = PGC_RUN;
	pgc_arm(c, r->deadline > now ? r->deadline - now : 0);
	pgc_flush(c);
}

static void
pgc_take(struct pgconn *c)
{
	struct pgpool *p = c->pool;
	struct pgreq *r;

	if (c->state != PGC_IDLE || (r = TAILQ_FIRST(&p->queue)) == NULL)
		return;
	TAILQ_REMOVE(&p->queue, r, entry);
	p->nqueued--;
	pgp_arm_queue(p);
	pgc_send(c, r);
}

/*
 * Close the connection and try again after the backoff.  A request it
 * was running is answered PGP_DOWN: it may have run.
 */
static void
pgc_fail(struct pgconn *c, const char *why)
{
	char line[512];
	struct pgreq *r = c->req;

	snprintf(line, sizeof(line), "%s", why ? why : "closed");
	line[strcspn(line, "\n")] = '\0';
	if (!c->logged)
		log_warnx("pgpool: connection %u: %s", c->idx, line);
	else
		log_debug("pgpool: connection %u: %s", c->idx, line);
	c->logged = 1;
	event_del(c->io);
	evtimer_del(c->timer);
	PQclear(c->res);
	c->res = NULL;
	PQfinish(c->pg);
	c->pg = NULL;
	c->req = NULL;
	c->pipe = 0;
	c->state = PGC_WAIT;
	c->backoff_ms = c->backoff_ms == 0 ? PGPOOL_BACKOFF_MIN_MS :
	    c->backoff_ms * 2;
	if (c->backoff_ms > PGPOOL_BACKOFF_MAX_MS)
		c->backoff_ms = PGPOOL_BACKOFF_MAX_MS;
	pgc_arm(c, c->backoff_ms);
	if (r != NULL)
		pgp_answer(r, PGP_DOWN, NULL, line);
}

static void
pgc_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *c = arg;
	struct pgreq *r;

	(void)fd;
	(void)what;
	switch (c->state) {
	case PGC_WAIT:
		pgc_open(c);
		break;
	case PGC_CONNECT:
	case PGC_SETUP:
	case PGC_PREPARE:
		pgc_fail(c, "no answer from the server in time");
		break;
	case PGC_RUN:
		/* Its outcome is unknown; the connection may be stuck on
		 * it, so it goes, and comes back at once. */
		r = c->req;
		c->req = NULL;
		pgc_fail(c, "a request ran past its deadline");
		c->backoff_ms = 0;
		evtimer_del(c->timer);
		pgc_arm(c, 0);
		pgp_answer(r, PGP_TIMEOUT, NULL, NULL);
		break;
	case PGC_IDLE:
		break;
	}
}

static void
pgp_later(evutil_socket_t fd, short what, void *arg)
{
	struct pgpool *p = arg;
	struct pgreq *r;
	unsigned i;

	(void)fd;
	(void)what;
	for (i = 0; i < p->nconns; i++)
		pgc_take(&p->conns[i]);
	while ((r = TAILQ_FIRST(&p->answers)) != NULL) {
		TAILQ_REMOVE(&p->answers, r, entry);
		pgp_answer(r, r->status, NULL, NULL);
	}
}

static void
pgp_queue_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pgpool *p = arg;
	struct pgreq *r;
	uint64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	while ((r = TAILQ_FIRST(&p->queue)) != NULL && r->deadline <= now) {
		TAILQ_REMOVE(&p->queue, r, entry);
		p->nqueued--;
		pgp_answer(r, PGP_TIMEOUT, NULL, NULL);
	}
	pgp_arm_queue(p);
}

static void
pgp_arm_queue(struct pgpool *p)
{
	struct pgreq *r = TAILQ_FIRST(&p->queue);
	uint64_t now = clock_mono_ms(), ms;
	struct timeval tv;

	if (r == NULL) {
		evtimer_del(p->qtimer);
		return;
	}
	ms = r->deadline > now ? r->deadline - now : 0;
	tv = clock_tv(ms);
	evtimer_add(p->qtimer, &tv);
}

struct pgpool *
pgpool_new(struct event_base *base, const struct pgpool_conf *conf)
{
	struct pgpool *p;
	unsigned i;

	if (conf->conns == 0 || conf->conns > PGPOOL_CONNS_MAX ||
	    conf->deadline_ms == 0 || conf->conninfo == NULL)
		fatalx("%s: bad configuration", __func__);
	p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->conninfo = xstrdup(conf->conninfo);
	p->password = conf->password ? xstrdup(conf->password) : NULL;
	p->setup = conf->setup;
	snprintf(p->options, sizeof(p->options),
	    "-c statement_timeout=%u", conf->deadline_ms);
	p->nconns = conf->conns;
	p->queue_max = conf->queue_max;
	p->deadline_ms = conf->deadline_ms;
	p->stmts = conf->stmts;
	p->nstmts = conf->nstmts;
	TAILQ_INIT(&p->queue);
	TAILQ_INIT(&p->answers);
	if ((p->qtimer = evtimer_new(base, pgp_queue_timer, p)) == NULL ||
	    (p->later = event_new(base, -1, 0, pgp_later, p)) == NULL)
		fatalx("%s: event_new", __func__);
	for (i = 0; i < p->nconns; i++) {
		struct pgconn *c = &p->conns[i];

		c->pool = p;
		c->idx = i;
		c->fd = -1;
		if ((c->io = event_new(base, -1, 0, pgc_io, c)) == NULL ||
		    (c->timer = evtimer_new(base, pgc_timer, c)) == NULL)
			fatalx("%s: event_new", __func__);
		pgc_open(c);
	}
	return p;
}

void
pgpool_free(struct pgpool *p)
{
	struct pgreq *r;
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nconns; i++) {
		struct pgconn *c = &p->conns[i];

		event_free(c->io);
		event_free(c->timer);
		PQclear(c->res);
		PQfinish(c->pg);
		if (c->req != NULL)
			pgp_answer(c->req, PGP_CLOSED, NULL, NULL);
	}
	while ((r = TAILQ_FIRST(&p->queue)) != NULL) {
		TAILQ_REMOVE(&p->queue, r, entry);
		pgp_answer(r, PGP_CLOSED, NULL, NULL);
	}
	while ((r = TAILQ_FIRST(&p->answers)) != NULL) {
		TAILQ_REMOVE(&p->answers, r, entry);
		pgp_answer(r, r->status, NULL, NULL);
	}
	event_free(p->qtimer);
	event_free(p->later);
	free(p->conninfo);
	xfree_secret(p->password);
	free(p);
}

int
pgpool_query(struct pgpool *p, unsigned stmt, unsigned nparams,
    const char *const *params, pgp_done_fn done, void *arg)
{
	struct pgp_q q = { stmt, nparams, params, NULL };

	return pgpool_batch(p, &q, 1, done, arg);
}

int
pgpool_batch(struct pgpool *p, const struct pgp_q *qs, unsigned n,
    pgp_done_fn done, void *arg)
{
	struct pgreq *r;
	size_t len = sizeof(*r), off, slen;
	unsigned i, j, idle, nparams = 0;
	const char **pv;

	if (n == 0 || n > PGPOOL_BATCH_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (qs[i].nparams > PGPOOL_PARAMS_MAX)
			return -1;
		if (qs[i].sql != NULL)
			len += strlen(qs[i].sql) + 1;
		else if (qs[i].stmt >= p->nstmts ||
		    (int)qs[i].nparams != p->stmts[qs[i].stmt].nparams)
			return -1;
		nparams += qs[i].nparams;
		for (j = 0; j < qs[i].nparams; j++)
			if (qs[i].params[j] != NULL)
				len += strlen(qs[i].params[j]) + 1;
	}
	len += n * sizeof(struct pgreq_q) + nparams * sizeof(char *);
	r = xcalloc(1, len);
	r->q = (struct pgreq_q *)(r + 1);
	pv = (const char **)(r->q + n);
	off = sizeof(*r) + n * sizeof(struct pgreq_q) +
	    nparams * sizeof(char *);
	for (i = 0; i < n; i++) {
		r->q[i].stmt = qs[i].stmt;
		r->q[i].nparams = qs[i].nparams;
		r->q[i].params = pv;
		if (qs[i].sql != NULL) {
			slen = strlen(qs[i].sql) + 1;
			memcpy((char *)r + off, qs[i].sql, slen);
			r->q[i].sql = (char *)r + off;
			off += slen;
		}
		for (j = 0; j < qs[i].nparams; j++, pv++) {
			if (qs[i].params[j] == NULL)
				continue;
			slen = strlen(qs[i].params[j]) + 1;
			memcpy((char *)r + off, qs[i].params[j], slen);
			*pv = (char *)r + off;
			off += slen;
		}
	}
	r->nq = n;
	r->done = done;
	r->arg = arg;
	r->deadline = clock_mono_ms() + p->deadline_ms;
	/* Sent from the loop: a send that fails answers at once. An
	 * idle connection will take one of these there. */
	event_active(p->later, 0, 0);
	idle = 0;
	for (i = 0; i < p->nconns; i++)
		idle += p->conns[i].state == PGC_IDLE;
	if (p->nqueued >= p->queue_max + idle) {
		r->status = PGP_BUSY;
		TAILQ_INSERT_TAIL(&p->answers, r, entry);
		return 0;
	}
	TAILQ_INSERT_TAIL(&p->queue, r, entry);
	if (p->nqueued++ == 0)
		pgp_arm_queue(p);
	return 0;
}

unsigned
pgpool_ready(const struct pgpool *p)
{
	unsigned i, n = 0;

	for (i = 0; i < p->nconns; i++)
		n += p->conns[i].state == PGC_IDLE ||
		    p->conns[i].state == PGC_RUN;
	return n;
}

unsigned
pgpool_queued(const struct pgpool *p)
{
	return p->nqueued;
}
