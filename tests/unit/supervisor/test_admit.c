/*
 * Unit tests for the web chat connection record (supervisor/admit.c's
 * counts on router_bind.c's one table): whichever close comes first,
 * peer.close, conn.close or the worker's death, each place is given back
 * once and the record freed once, with its binding and route.  The
 * store and the router's senders are stubs; the caps are small so a
 * place given back twice or never shows in the next verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "hub.h"
#include "router_int.h"
#include "store.h"

static struct config	 conf;
static struct sup	 sup_state;
struct sup		*sup = &sup_state;

/* What the stubs saw. */
static int	 seen_writes;		/* store_session_seen */
static int64_t	 seen_session;

/* The store and the router, as far as admit.c and router_bind.c reach. */
int
store_session_seen(struct store *s, int64_t id, int64_t now)
{
	(void)s;
	(void)now;
	seen_writes++;
	seen_session = id;
	return 0;
}

int
store_session_expired(struct store *s, int64_t now, int64_t idle_s,
    int64_t *ids, size_t max)
{
	(void)s, (void)now, (void)idle_s, (void)ids, (void)max;
	return 0;
}

int
store_session_delete(struct store *s, int64_t id)
{
	(void)s, (void)id;
	return 0;
}

int
store_share_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t *link, int64_t *session, int *read_only)
{
	(void)s, (void)hash, (void)now, (void)link, (void)session;
	(void)read_only;
	return 1;
}

int
store_audit(struct store *s, int64_t now, const char *role,
    const char *worker, int64_t session, const char *method,
    const char *detail)
{
	(void)s, (void)now, (void)role, (void)worker, (void)session;
	(void)method, (void)detail;
	return 0;
}

int
areq_session_busy(int64_t session, int writing)
{
	(void)session, (void)writing;
	return 0;
}

void
rpc_error(struct worker *w, struct ipc_msg *m, uint64_t conn,
    const char *code, const char *message)
{
	(void)w, (void)m, (void)conn, (void)code, (void)message;
}

int
router_send(struct worker *w, uint32_t type, uint64_t req_id,
    const void *body)
{
	(void)w, (void)type, (void)req_id, (void)body;
	return 0;
}

size_t
router_hash(uint64_t v)
{
	return (size_t)(v % RT_BUCKETS);
}

void
sup_turn(void)
{
}

/* On a cluster: the buckets' spending is counted for the database. */
static int cluster;

int
hub_pg_on(void)
{
	return cluster;
}

int64_t
sup_now(void)
{
	return 1700000000;
}

static struct worker	w1, w2;

/* Caps of one connection per address and two in all, both kinds. */
static int
setup(void **state)
{
	struct cfg_policy *p = &conf.policy;

	(void)state;
	memset(&conf, 0, sizeof(conf));
	p->session_rate.per = p->address_rate.per = 1000;
	p->session_rate.period_ms = p->address_rate.period_ms = 1000;
	p->session_rate.burst = p->address_rate.burst = 1000;
	p->buckets_max = 64;
	p->conns_per_address = 1;
	p->conns_total = 2;
	p->tcp_conns_per_peer = 1;
	p->tcp_conns_per_proxy = 2;
	p->tcp_conns_total = 2;
	sup->conf = &conf;
	admit_init();
	snprintf(w1.name, sizeof(w1.name), "webchat.0");
	snprintf(w2.name, sizeof(w2.name), "webchat.1");
	w1.gen = w2.gen = 1;
	seen_writes = 0;
	seen_session = 0;
	return 0;
}

/* Every test leaves nothing behind: a record left over would show. */
static int
teardown(void **state)
{
	(void)state;
	conn_worker_down(&w1);
	conn_worker_down(&w2);
	return 0;
}

static int
peer_open(struct worker *w, uint64_t conn, const char *addr)
{
	struct ipc_body_conn_addr b = { conn, { addr, strlen(addr) } };
	uint64_t retry;

	return admit_peer_open(w, &b, &retry);
}

static int
ws_open(struct worker *w, uint64_t conn, const char *addr)
{
	struct ipc_body_conn_open b = { conn, { addr, strlen(addr) },
	    { "", 0 } };
	uint64_t retry;

	return admit_conn_open(w, &b, &retry);
}

static void
peer_close(struct worker *w, uint64_t conn)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.b.conn.conn = conn;
	assert_int_equal(sup_peer_close(w, &m), 0);
}

/* As router_chat.c's sup_conn_close. */
static void
ws_close(struct worker *w, uint64_t conn)
{
	struct binding *b;

	if ((b = conn_find(w, conn)) != NULL)
		conn_end(b, CONN_WS);
}

/*
 * A connection through to a bound session, as the worker opens one:
 * peer.open, conn.open, session.open.
 */
static struct binding *
open_bound(struct worker *w, uint64_t conn, const char *addr,
    int64_t session)
{
	struct binding *b;

	assert_int_equal(peer_open(w, conn, addr), 0);
	assert_int_equal(ws_open(w, conn, addr), 0);
	b = bind_set(w, conn, session);
	b->seen = sup_now();
	assert_ptr_equal(conn_find(w, conn), b);
	assert_ptr_equal(route_current(session), b);
	return b;
}

/* The session's binding and route are gone, its last_seen written. */
static void
assert_unbound(struct worker *w, uint64_t conn, int64_t session,
    int writes)
{
	assert_null(bind_find(w, conn));
	assert_null(route_current(session));
	assert_int_equal(bind_count(w), 0);
	assert_int_equal(seen_writes, writes);
	assert_int_equal(seen_session, session);
}

/*
 * Both pools are back to empty: each address takes one place again,
 * two addresses fill each total, and a third is refused.
 */
static void
assert_all_free(struct worker *w)
{
	assert_int_equal(peer_open(w, 901, "192.0.2.1"), 0);
	assert_int_equal(peer_open(w, 902, "192.0.2.2"), 0);
	assert_int_equal(peer_open(w, 903, "192.0.2.3"), 503);
	assert_int_equal(ws_open(w, 901, "192.0.2.1"), 0);
	assert_int_equal(ws_open(w, 902, "192.0.2.2"), 0);
	assert_int_equal(ws_open(w, 903, "192.0.2.3"), 503);
	ws_close(w, 901);
	ws_close(w, 902);
	peer_close(w, 901);
	peer_close(w, 902);
	assert_null(conn_find(w, 901));
	assert_null(conn_find(w, 902));
}

/* The worker's order: conn.close, then peer.close. */
static void
test_conn_close_then_peer_close(void **state)
{
	(void)state;
	open_bound(&w1, 7, "192.0.2.1", 42);
	ws_close(&w1, 7);
	/* The session's binding and route went with the WebSocket... */
	assert_unbound(&w1, 7, 42, 1);
	assert_string_equal(admit_conn_client(&w1, 7), "");
	/* ... the TCP place stays until peer.close. */
	assert_non_null(conn_find(&w1, 7));
	assert_int_equal(peer_open(&w1, 8, "192.0.2.1"), 503);
	peer_close(&w1, 7);
	assert_null(conn_find(&w1, 7));
	/* Late or repeated closes find nothing and give nothing back. */
	ws_close(&w1, 7);
	peer_close(&w1, 7);
	assert_int_equal(seen_writes, 1);
	assert_all_free(&w1);
}

/* peer.close first: the admission and the session wait for conn.close. */
static void
test_peer_close_then_conn_close(void **state)
{
	(void)state;
	open_bound(&w1, 7, "192.0.2.1", 42);
	peer_close(&w1, 7);
	assert_non_null(bind_find(&w1, 7));
	assert_ptr_equal(route_current(42), conn_find(&w1, 7));
	assert_string_equal(admit_conn_client(&w1, 7), "a:192.0.2.1");
	assert_int_equal(ws_open(&w1, 8, "192.0.2.1"), 429);
	ws_close(&w1, 7);
	assert_null(conn_find(&w1, 7));
	assert_unbound(&w1, 7, 42, 1);
	assert_all_free(&w1);
}

/* A worker's death ends its connections, not another worker's. */
static void
test_worker_down(void **state)
{
	(void)state;
	conf.policy.tcp_conns_total = 3;
	open_bound(&w1, 7, "192.0.2.1", 42);
	assert_int_equal(peer_open(&w1, 9, "192.0.2.9"), 0);
	open_bound(&w2, 7, "192.0.2.2", 43);
	/* The same conn id on two workers is two records. */
	assert_ptr_not_equal(conn_find(&w1, 7), conn_find(&w2, 7));
	conn_worker_down(&w1);
	assert_null(conn_find(&w1, 7));
	assert_null(conn_find(&w1, 9));
	assert_unbound(&w1, 7, 42, 1);
	assert_ptr_equal(route_current(43), conn_find(&w2, 7));
	/* Its late closes find nothing. */
	ws_close(&w1, 7);
	peer_close(&w1, 7);
	conn_worker_down(&w2);
	assert_unbound(&w2, 7, 43, 2);
	conf.policy.tcp_conns_total = 2;
	assert_all_free(&w1);
}

/* A record from an older incarnation is never found, and still freed. */
static void
test_generation(void **state)
{
	(void)state;
	open_bound(&w1, 7, "192.0.2.1", 42);
	w1.gen++;
	assert_null(conn_find(&w1, 7));
	assert_null(bind_find(&w1, 7));
	peer_close(&w1, 7);
	conn_worker_down(&w1);
	assert_null(route_current(42));
	assert_all_free(&w1);
}

/* A second open of either kind is the worker's mistake: -1. */
static void
test_open_twice(void **state)
{
	(void)state;
	assert_int_equal(peer_open(&w1, 7, "192.0.2.1"), 0);
	assert_int_equal(peer_open(&w1, 7, "192.0.2.2"), -1);
	assert_int_equal(ws_open(&w1, 7, "192.0.2.1"), 0);
	assert_int_equal(ws_open(&w1, 7, "192.0.2.2"), -1);
	ws_close(&w1, 7);
	peer_close(&w1, 7);
	assert_all_free(&w1);
}

/* A refused conn.open makes no record, and leaves a TCP one as it was. */
static void
test_refused(void **state)
{
	(void)state;
	assert_int_equal(ws_open(&w1, 1, "192.0.2.1"), 0);
	assert_int_equal(ws_open(&w1, 2, "192.0.2.1"), 429);
	assert_null(conn_find(&w1, 2));
	assert_int_equal(peer_open(&w1, 3, "192.0.2.1"), 0);
	assert_int_equal(ws_open(&w1, 3, "192.0.2.1"), 429);
	assert_non_null(conn_find(&w1, 3));
	assert_null(conn_find(&w1, 3)->client);
	ws_close(&w1, 1);
	peer_close(&w1, 3);
	assert_null(conn_find(&w1, 1));
	assert_null(conn_find(&w1, 3));
	assert_all_free(&w1);
}

/*
 * Unbinding (expiry, a revoked link, a failed commit) keeps the record:
 * the connection is still admitted and its client still charged.
 */
static void
test_unbind_keeps_admission(void **state)
{
	struct binding *b;

	(void)state;
	b = open_bound(&w1, 7, "192.0.2.1", 42);
	bind_remove(b);
	assert_unbound(&w1, 7, 42, 1);
	b = conn_find(&w1, 7);
	assert_non_null(b);
	assert_int_equal(b->session, 0);
	assert_string_equal(admit_conn_client(&w1, 7), "a:192.0.2.1");
	assert_int_equal(admit_request(b), 0);
	/* Bound again, then rebound: one route, to the new session. */
	bind_set(&w1, 7, 43);
	bind_set(&w1, 7, 44);
	assert_null(route_current(43));
	assert_ptr_equal(route_current(44), b);
	assert_int_equal(bind_count(&w1), 1);
	ws_close(&w1, 7);
	peer_close(&w1, 7);
	assert_null(conn_find(&w1, 7));
	assert_all_free(&w1);
}

/* A trusted proxy's peers count against its larger TCP cap. */
static void
test_proxy_cap(void **state)
{
	char *proxies[] = { "10.0.0.1" };
	struct ipc_body_conn_open b = { 1, IPC_S("10.0.0.1"),
	    IPC_S("198.51.100.7") };
	uint64_t retry;

	(void)state;
	conf.policy.trusted_proxies = proxies;
	conf.policy.trusted_proxies_count = 1;
	assert_int_equal(peer_open(&w1, 1, "10.0.0.1"), 0);
	assert_int_equal(peer_open(&w1, 2, "10.0.0.1"), 0);
	assert_int_equal(admit_conn_open(&w1, &b, &retry), 0);
	/* The client behind the proxy is who the buckets charge. */
	assert_string_equal(admit_conn_client(&w1, 1), "a:198.51.100.7");
	conn_worker_down(&w1);
	conf.policy.trusted_proxies = NULL;
	conf.policy.trusted_proxies_count = 0;
	assert_all_free(&w1);
}

struct spent {
	char		 key[96];
	unsigned	 n;
	double		 burst;
};

static void
spent_cb(const struct admit_spend *sp, void *arg)
{
	struct spent *s = arg;

	snprintf(s->key, sizeof(s->key), "%s", sp->key);
	s->n = sp->n;
	s->burst = sp->burst;
}

/*
 * In a cluster a node takes from its own copy of a bucket and says
 * what it took; the database's level, every node's takings counted,
 * then replaces the copy, less what was taken here since.  Alone,
 * nothing is counted.
 */
static void
test_cluster_counts_the_spending(void **state)
{
	struct ipc_str peer = { "192.0.2.9", 9 }, fwd = { "", 0 };
	struct spent s;
	unsigned n;

	(void)state;
	assert_int_equal(admit_http(peer, fwd), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(admit_spent(10, spent_cb, &s), 0);
	/* A token an hour: none comes while the test runs. */
	conf.policy.address_rate.period_ms = 3600 * 1000;
	conf.policy.address_rate.per = 1;
	conf.policy.address_rate.burst = 10;
	cluster = 1;
	admit_init();
	for (n = 0; n < 5; n++)
		assert_int_equal(admit_http(peer, fwd), 0);
	assert_int_equal(admit_spent(10, spent_cb, &s), 1);
	assert_string_equal(s.key, "a:192.0.2.9");
	assert_int_equal(s.n, 5);
	assert_true(s.burst == 10);
	/* Said once: nothing more until more is taken. */
	assert_int_equal(admit_spent(10, spent_cb, &s), 0);
	assert_int_equal(admit_http(peer, fwd), 0);
	/* Other nodes took the rest: 1 left there, 1 taken here since. */
	admit_level("a:192.0.2.9", 2.0);
	assert_int_equal(admit_http(peer, fwd), 0);
	assert_true(admit_http(peer, fwd) > 0);
	/* A debt there is an empty bucket here. */
	admit_level("a:192.0.2.9", -50.0);
	assert_true(admit_http(peer, fwd) > 0);
	assert_int_equal(admit_spent(10, spent_cb, &s), 1);
	assert_int_equal(s.n, 2);
	/* A key new here, spent on other nodes: refused here at once. */
	admit_level("a:192.0.2.10", 0.5);
	peer.p = "192.0.2.10";
	peer.len = 10;
	assert_true(admit_http(peer, fwd) > 0);
	cluster = 0;
	admit_init();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_conn_close_then_peer_close, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_peer_close_then_conn_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_generation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_twice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_keeps_admission,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_cluster_counts_the_spending, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
