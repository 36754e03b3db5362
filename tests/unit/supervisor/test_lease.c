/*
 * supervisor/lease.c: several nodes (each a struct leases with its own
 * connection, in this one process and loop) against a real PostgreSQL
 * (tests/pgserver.sh).  The callbacks keep the table of which node runs
 * each account's "worker", and fail the test the moment a node starts
 * one that another still runs: the property leases exist for.  A
 * node's death is leases_free (no lease given back); a partition is a
 * TCP proxy in front of the database that stops passing bytes.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "lease.h"
#include "log.h"
#include "pg_fx.h"
#include "pgpool.h"

#define HANG_MS		60000
#define NACC		20
#define NNODE		4
#define TTL_MS		1500
#define RENEW_MS	400
#define MARGIN_MS	300

struct node {
	int		 id;		/* 1.. */
	char		 name[16];
	struct leases	*l;
	int		 cut;		/* behind the proxy */
};

static struct event_base *base;
static char password[128];
static char dsn[256];
static struct node nodes[NNODE];
static int owner[NACC];			/* node id running it, 0 none */
static int64_t token_of[NACC];
static unsigned takes[NACC];

/* The proxy: connections through it stop moving while cut. */
static struct evconnlistener *proxy;
static int proxy_port, pg_port, proxy_cut;
static struct bufferevent *pipes[64];
static unsigned npipes;

static int
acct_idx(const char *account)
{
	int i = atoi(account + 4);

	assert_true(i >= 0 && i < NACC);
	return i;
}

static void
on_lease(enum lease_ev ev, const char *account, int64_t token, void *arg)
{
	struct node *n = arg;
	int i = acct_idx(account);

	switch (ev) {
	case LEASE_HELD:
		/* Never two workers for one account. */
		if (owner[i] != 0)
			fail_msg("%s: node %d took it while node %d runs it",
			    account, n->id, owner[i]);
		assert_true(token >= token_of[i]);
		owner[i] = n->id;
		token_of[i] = token;
		takes[i]++;
		break;
	case LEASE_LOST:
		if (owner[i] == n->id)
			owner[i] = 0;
		break;
	case LEASE_GIVE:
		assert_int_equal(owner[i], n->id);
		owner[i] = 0;		/* its worker stopped */
		leases_given(n->l, account);
		break;
	}
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_base_loopbreak(base);
}

static void
spin(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static unsigned
owned_by(int id)
{
	unsigned i, k = 0;

	for (i = 0; i < NACC; i++)
		k += owner[i] == id;
	return k;
}

/* Every account runs, on the nodes given, max - min <= 1 among them. */
static int
balanced(const int *ids, unsigned nids, unsigned accounts)
{
	unsigned i, lo = NACC, hi = 0, sum = 0;

	for (i = 0; i < nids; i++) {
		unsigned k = owned_by(ids[i]);

		lo = k < lo ? k : lo;
		hi = k > hi ? k : hi;
		sum += k;
	}
	return sum == accounts && hi - lo <= 1;
}

#define WAIT_UNTIL(cond) do {						\
	uint64_t hang_ = clock_mono_ms() + HANG_MS;			\
	struct event *t_ = event_new(base, -1, EV_PERSIST, tick_cb,	\
	    NULL);							\
	struct timeval tv_ = { 0, 20000 };				\
	event_add(t_, &tv_);						\
	while (!(cond)) {						\
		if (clock_mono_ms() >= hang_)				\
			fail_msg("never: %s", #cond);			\
		event_base_loop(base, EVLOOP_ONCE);			\
	}								\
	event_free(t_);							\
} while (0)

static void
node_start(int id, const char *const *pins)
{
	struct node *n = &nodes[id - 1];
	char conninfo[320];
	struct pgpool_conf db = { .password = password, .deadline_ms = 1000 };
	struct lease_conf lc = { .ttl_ms = TTL_MS, .renew_ms = RENEW_MS,
	    .margin_ms = MARGIN_MS };
	char account[16];
	int i;

	n->id = id;
	snprintf(n->name, sizeof(n->name), "node%d", id);
	if (n->cut)
		snprintf(conninfo, sizeof(conninfo), "%s port=%d", dsn,
		    proxy_port);
	else
		snprintf(conninfo, sizeof(conninfo), "%s", dsn);
	db.conninfo = conninfo;
	lc.node = n->name;
	n->l = leases_new(base, &db, &lc, on_lease, n);
	for (i = 0; i < NACC; i++) {
		snprintf(account, sizeof(account), "acct%02d", i);
		assert_int_equal(leases_want(n->l, account,
		    pins ? pins[i] : NULL), 0);
	}
}

/* The node dies: its workers with it, its leases left to lapse. */
static void
node_kill(int id)
{
	unsigned i;

	leases_free(nodes[id - 1].l);
	nodes[id - 1].l = NULL;
	for (i = 0; i < NACC; i++)
		if (owner[i] == id)
			owner[i] = 0;
}

static void
pipe_read(struct bufferevent *bev, void *arg)
{
	struct bufferevent *other = arg;

	if (!proxy_cut)
		bufferevent_read_buffer(bev, bufferevent_get_output(other));
}

static void
pipe_event(struct bufferevent *bev, short what, void *arg)
{
	struct bufferevent *other = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		bufferevent_disable(bev, EV_READ | EV_WRITE);
		bufferevent_disable(other, EV_READ | EV_WRITE);
		shutdown(bufferevent_getfd(other), SHUT_RDWR);
	}
}

static void
proxy_accept(struct evconnlistener *lst, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent *in, *out;
	struct sockaddr_in to = { .sin_family = AF_INET };

	(void)lst;
	(void)sa;
	(void)salen;
	(void)arg;
	to.sin_port = htons((uint16_t)pg_port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	out = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	assert_true(npipes + 2 <= sizeof(pipes) / sizeof(pipes[0]));
	pipes[npipes++] = in;
	pipes[npipes++] = out;
	bufferevent_setcb(in, pipe_read, NULL, pipe_event, out);
	bufferevent_setcb(out, pipe_read, NULL, pipe_event, in);
	bufferevent_enable(in, EV_READ | EV_WRITE);
	bufferevent_enable(out, EV_READ | EV_WRITE);
	bufferevent_socket_connect(out, (struct sockaddr *)&to, sizeof(to));
}

/* While cut nothing moves; healed, what waited moves on. */
static void
proxy_set(int cut)
{
	unsigned i;

	proxy_cut = cut;
	for (i = 0; i < npipes && !cut; i++)
		pipe_read(pipes[i], pipes[i ^ 1]);
}

static void
sql(const char *stmt)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "PGOPTIONS='-c client_min_messages=warning' "
	    "PGPASSWORD=%s psql -qX '%s' -c '%s' "
	    ">/dev/null", password, dsn, stmt);
	assert_int_equal(system(cmd), 0);
}

/* Fails unless the query's one value is want. */
static void
sql_count(const char *stmt, int want)
{
	char cmd[1024], line[64] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "PGPASSWORD=%s psql -qXAt '%s' -c '%s'",
	    password, dsn, stmt);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	pclose(f);
	assert_int_equal(atoi(line), want);
}

static int
setup(void **state)
{
	const char *p;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	(void)state;
	if (pg_fx_env(dsn, sizeof(dsn), password, sizeof(password)) == -1 ||
	    (p = strstr(dsn, "port=")) == NULL)
		return -1;
	pg_port = atoi(p + 5);
	if ((base = event_base_new()) == NULL)
		return -1;
	log_init(getenv("WXGATE_TEST_VERBOSE") ? 2 : 0, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	proxy = evconnlistener_new_bind(base, proxy_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (proxy == NULL || getsockname(evconnlistener_get_fd(proxy),
	    (struct sockaddr *)&sin, &len) == -1)
		return -1;
	proxy_port = ntohs(sin.sin_port);
	return 0;
}

static int
teardown(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < NNODE; i++)
		leases_free(nodes[i].l);
	for (i = 0; i < npipes; i++)
		bufferevent_free(pipes[i]);
	evconnlistener_free(proxy);
	event_base_free(base);
	return 0;
}

/* Each test starts with no node, no lease and no table. */
static int
fresh(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < NNODE; i++) {
		if (nodes[i].l != NULL)
			leases_free(nodes[i].l);
		memset(&nodes[i], 0, sizeof(nodes[i]));
	}
	memset(owner, 0, sizeof(owner));
	memset(token_of, 0, sizeof(token_of));
	memset(takes, 0, sizeof(takes));
	proxy_set(0);
	sql("DROP TABLE IF EXISTS nodes, leases, fenced");
	return 0;
}

static void
test_share(void **state)
{
	(void)state;
	assert_int_equal(lease_share(20, 3), 7);
	assert_int_equal(lease_share(20, 2), 10);
	assert_int_equal(lease_share(20, 1), 20);
	assert_int_equal(lease_share(0, 3), 0);
	assert_int_equal(lease_share(5, 0), 5);
}

/* A fenced batch for account i as node id with token: 1 written, 0
 * refused by the fence (and nothing written), -1 any other answer. */
static int
fenced_write(struct pgpool *fp, unsigned i, int id, int64_t token)
{
	char acct[16], node[16], tok[24];
	const char *fence[3] = { acct, node, tok }, *write[2] = { acct, node };
	struct pgp_q b[2] = { { 0, 3, fence, NULL },
	    { 1, 2, write, NULL } };
	int rc;

	snprintf(acct, sizeof(acct), "acct%02u", i);
	snprintf(node, sizeof(node), "node%d", id);
	snprintf(tok, sizeof(tok), "%lld", (long long)token);
	rc = pg_fx_fenced(base, fp, b, 2);
	assert_true(rc != -1);
	return rc;
}

/*
 * Three nodes share twenty accounts 7/7/6; one is killed and the other
 * two take its accounts over once its leases lapse, with new tokens
 * that refuse the dead node's writes; it comes back and gets a fair
 * share again.  on_lease fails the test on any overlap throughout.
 */
static void
test_nodes_share_die_and_return(void **state)
{
	int three[] = { 1, 2, 3 }, two[] = { 1, 2 };
	struct pgpool *fp;
	const struct pgp_stmt st[] = {
		{ "fence", LEASE_FENCE_SQL, 3 },
		{ "write", "INSERT INTO fenced (account, node) VALUES ($1, $2)",
		    2 },
	};
	struct pgpool_conf pc = { .conninfo = dsn, .password = password,
	    .conns = 1, .queue_max = 4, .deadline_ms = 5000, .stmts = st,
	    .nstmts = 2,
	    .setup = "CREATE TABLE IF NOT EXISTS fenced (account text,"
	    " node text)" };
	int64_t old[NACC];
	int was[NACC];
	unsigned i, moved = 0;

	(void)state;
	node_start(1, NULL);
	node_start(2, NULL);
	node_start(3, NULL);
	WAIT_UNTIL(balanced(three, 3, NACC));
	assert_int_equal(leases_held(nodes[0].l) +
	    leases_held(nodes[1].l) + leases_held(nodes[2].l), NACC);

	memcpy(old, token_of, sizeof(old));
	memcpy(was, owner, sizeof(was));
	node_kill(3);
	WAIT_UNTIL(balanced(two, 2, NACC));
	for (i = 0; i < NACC; i++) {
		if (was[i] != 3)
			continue;
		moved++;
		assert_true(token_of[i] > old[i]);
	}
	assert_true(moved >= 6);

	/* The dead node's last token writes nothing; the owner's does. */
	fp = pgpool_new(base, &pc);
	for (i = 0; i < NACC && was[i] != 3; i++)
		;
	assert_int_equal(fenced_write(fp, i, 3, old[i]), 0);
	/* The owner's own older token is refused too. */
	assert_int_equal(fenced_write(fp, i, owner[i], token_of[i] - 1), 0);
	assert_int_equal(fenced_write(fp, i, owner[i], token_of[i]), 1);
	/* The fence is the batch's: the refused one left no row. */
	sql_count("SELECT count(*) FROM fenced", 1);
	pgpool_free(fp);

	node_start(3, NULL);
	WAIT_UNTIL(balanced(three, 3, NACC));
}

/* A drained node gives every lease back and takes none. */
static void
test_drain_hands_everything_over(void **state)
{
	int two[] = { 1, 2 };

	(void)state;
	node_start(1, NULL);
	node_start(2, NULL);
	WAIT_UNTIL(balanced(two, 2, NACC));
	leases_drain(nodes[0].l);
	WAIT_UNTIL(owned_by(2) == NACC);
	assert_int_equal(leases_held(nodes[0].l), 0);
	spin(3 * RENEW_MS);
	assert_int_equal(owned_by(1), 0);
}

/*
 * Node 1 reaches the database through the proxy, which stops passing
 * bytes: its renewals hang, it fences itself (LEASE_LOST) on its own
 * clock, and node 2 takes the accounts only after that, or on_lease
 * fails.  Healed, node 1 gets its share back.
 */
static void
test_partitioned_node_fences_itself(void **state)
{
	int two[] = { 1, 2 };
	unsigned i;

	(void)state;
	nodes[0].cut = 1;	/* behind the proxy */
	node_start(1, NULL);
	node_start(2, NULL);
	WAIT_UNTIL(balanced(two, 2, NACC));
	proxy_set(1);
	WAIT_UNTIL(owned_by(2) == NACC);
	assert_int_equal(leases_held(nodes[0].l), 0);
	proxy_set(0);
	WAIT_UNTIL(balanced(two, 2, NACC));
	for (i = 0; i < NACC; i++)
		assert_true(takes[i] >= 1);
}

/* A pinned account runs on its node only, even when that node is gone. */
static void
test_pinned_account_stays_home(void **state)
{
	const char *pins[NACC] = { "node2" };
	unsigned i;

	(void)state;
	node_start(1, pins);
	node_start(2, pins);
	WAIT_UNTIL(owned_by(1) + owned_by(2) == NACC);
	assert_int_equal(owner[0], 2);
	node_kill(2);
	WAIT_UNTIL(owned_by(1) == NACC - 1);
	spin(TTL_MS + 2 * RENEW_MS);
	assert_int_equal(owner[0], 0);
	for (i = 1; i < NACC; i++)
		assert_int_equal(owner[i], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share),
		cmocka_unit_test_setup(test_nodes_share_die_and_return, fresh),
		cmocka_unit_test_setup(test_drain_hands_everything_over,
		    fresh),
		cmocka_unit_test_setup(test_partitioned_node_fences_itself,
		    fresh),
		cmocka_unit_test_setup(test_pinned_account_stays_home, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
