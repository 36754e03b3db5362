/*
 * The web chat's front door in the supervisor: which TCP connections the
 * pool may hold (per peer address and in total, counted from accept()),
 * which WebSocket connections are admitted (per client address and in
 * total), the token
 * buckets every web chat request takes from (per session and per client
 * address), and the audit row plus counter for every denial.
 *
 * Called by the router for conn.open/conn.close and before each web chat
 * handler spends anything; by main.c's sweep timer.  The client address
 * is decided here, never by the worker: X-Forwarded-For is believed only
 * when the peer is a configured trusted proxy (the walk is policy/xff.c).
 * It never logs a token or message text, and addresses only at
 * log_debug.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrkey.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "ratelimit.h"
#include "role.h"
#include "store.h"
#include "sup.h"
#include "xff.h"
#include "xmalloc.h"

#define ADMIT_BUCKETS	4096	/* hash buckets of both tables */
/* Retry-After for a connection over its address's cap: a guess. */
#define ADMIT_RETRY_MS	5000

_Static_assert(XFF_ADDR_MAX == IPC_ADDR_MAX,
    "policy/xff.c cuts addresses as the wire does");

/* One admitted WebSocket connection of one worker incarnation. */
struct aconn {
	struct aconn	*next;
	struct worker	*w;
	uint64_t	 gen;
	uint64_t	 conn;
	struct acount	*ac;
};

/* Admitted connections per client (its addrkey: IPv6 per /64). */
struct acount {
	struct acount	*next;
	unsigned	 n;
	char		 key[RL_KEY_MAX];	/* policy/addrkey.c */
};

static void	admit_insert(struct aconn **, struct worker *, uint64_t,
		    struct acount *);

static struct aconn	*conn_tab[ADMIT_BUCKETS];
static struct acount	*addr_tab[ADMIT_BUCKETS];
static unsigned		 nconns;
/*
 * The same two tables for TCP connections (peer.open/peer.close): the
 * webchat workers share one listening socket, so only here can one
 * peer's connections be counted over the whole pool.
 */
static struct aconn	*tcp_tab[ADMIT_BUCKETS];
static struct acount	*peer_tab[ADMIT_BUCKETS];
static unsigned		 ntcp;
static struct ratelimit	*rl_session;
static struct ratelimit	*rl_address;

static size_t
admit_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h % ADMIT_BUCKETS);
}

static size_t
admit_conn_hash(const struct worker *w, uint64_t conn)
{
	uint64_t v = conn ^ (uint64_t)(uintptr_t)w;

	return admit_hash((const char *)&v, sizeof(v));
}

/* (Re)build the buckets from the config; a reload starts them full. */
void
admit_init(void)
{
	const struct cfg_policy *p = &sup->conf->policy;
	struct rl_rate r;

	ratelimit_free(rl_session);
	ratelimit_free(rl_address);
	r.per = p->session_rate.per;
	r.period_ms = p->session_rate.period_ms;
	r.burst = p->session_rate.burst;
	rl_session = ratelimit_new(&r, p->buckets_max);
	r.per = p->address_rate.per;
	r.period_ms = p->address_rate.period_ms;
	r.burst = p->address_rate.burst;
	rl_address = ratelimit_new(&r, p->buckets_max);
}

/* 1 if the peer is a configured trusted proxy (policy/xff.c decides). */
static int
admit_trusted(const char *peer)
{
	const struct cfg_policy *p = &sup->conf->policy;

	return xff_trusted(peer, p->trusted_proxies, p->trusted_proxies_count);
}

/* The client, from policy/xff.c: the walk is a pure function there. */
static void
admit_client(struct ipc_str peer, struct ipc_str forwarded, char *out,
    size_t outlen)
{
	const struct cfg_policy *p = &sup->conf->policy;

	(void)xff_client(peer.p, peer.len, forwarded.p, forwarded.len,
	    p->trusted_proxies, p->trusted_proxies_count, out, outlen);
}

static struct aconn *
admit_lookup(struct aconn **tab, struct worker *w, uint64_t conn)
{
	struct aconn *a;

	for (a = tab[admit_conn_hash(w, conn)]; a != NULL; a = a->next)
		if (a->w == w && a->gen == w->gen && a->conn == conn)
			return a;
	return NULL;
}

static struct aconn *
admit_find(struct worker *w, uint64_t conn)
{
	return admit_lookup(conn_tab, w, conn);
}

static struct acount *
admit_count_in(struct acount **tab, const char *key)
{
	struct acount *ac;
	size_t h = admit_hash(key, strlen(key));

	for (ac = tab[h]; ac != NULL; ac = ac->next)
		if (strcmp(ac->key, key) == 0)
			return ac;
	ac = xcalloc(1, sizeof(*ac));
	snprintf(ac->key, sizeof(ac->key), "%s", key);
	ac->next = tab[h];
	tab[h] = ac;
	return ac;
}

static void
admit_uncount(struct acount **tab, struct acount *ac)
{
	struct acount **pp;

	if (--ac->n > 0)
		return;
	for (pp = &tab[admit_hash(ac->key, strlen(ac->key))];
	    *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ac) {
			*pp = ac->next;
			free(ac);
			return;
		}
	}
}

void
admit_deny(struct worker *w, int64_t session, const char *method,
    const char *detail)
{
	role_deny(w->role);
	log_info("denied: %s %s: %s (%s; %llu for this role)", w->name,
	    role_name(w->role), method, detail,
	    (unsigned long long)role_denied(w->role));
	if (store_audit(sup->store, sup_now(), role_name(w->role), w->name,
	    session, method, detail) == -1)
		log_warnx("%s: audit row not written", __func__);
	/* Committed at the end of this turn, even if nothing else runs. */
	sup_turn();
}

/*
 * conn.open: 0 admits; else the HTTP status for the worker to answer,
 * with *retry_ms for its Retry-After.
 */
int
admit_conn_open(struct worker *w, const struct ipc_body_conn_open *b,
    uint64_t *retry_ms)
{
	const struct cfg_policy *p = &sup->conf->policy;
	char addr[IPC_ADDR_MAX + 1], key[RL_KEY_MAX];
	struct acount *ac;

	*retry_ms = 0;
	if (admit_find(w, b->conn) != NULL)
		return -1;
	admit_client(b->peer, b->forwarded, addr, sizeof(addr));
	addrkey_format(key, sizeof(key), addr);
	if ((*retry_ms = ratelimit_take(rl_address, key, clock_mono_ms())) > 0)
		return 429;
	if (nconns >= p->conns_total) {
		*retry_ms = ADMIT_RETRY_MS;
		return 503;
	}
	/* Counted per client as the buckets see one: an IPv6 /64. */
	ac = admit_count_in(addr_tab, key);
	if (ac->n >= p->conns_per_address) {
		log_debug("%s: %s over %u connections", __func__, addr,
		    p->conns_per_address);
		*retry_ms = ADMIT_RETRY_MS;
		return 429;
	}
	admit_insert(conn_tab, w, b->conn, ac);
	nconns++;
	return 0;
}

/* Remember one counted connection; its count goes up with it. */
static void
admit_insert(struct aconn **tab, struct worker *w, uint64_t conn,
    struct acount *ac)
{
	struct aconn *a;
	size_t h;

	ac->n++;
	a = xcalloc(1, sizeof(*a));
	a->w = w;
	a->gen = w->gen;
	a->conn = conn;
	a->ac = ac;
	h = admit_conn_hash(w, conn);
	a->next = tab[h];
	tab[h] = a;
}

static void
admit_unlink(struct aconn **tab, struct acount **counts, struct aconn *a)
{
	struct aconn **pp;

	for (pp = &tab[admit_conn_hash(a->w, a->conn)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	admit_uncount(counts, a->ac);
	free(a);
}

static void
admit_remove(struct aconn *a)
{
	admit_unlink(conn_tab, addr_tab, a);
	nconns--;
}

static void
admit_tcp_remove(struct aconn *a)
{
	admit_unlink(tcp_tab, peer_tab, a);
	ntcp--;
}

/*
 * peer.open: a TCP connection a worker has just accepted, before it read
 * a byte.  Counted per peer address as the buckets see one (an IPv6
 * /64), with a trusted proxy's larger cap, and over the pool.  0 admits;
 * else 503 with *retry_ms.  X-Forwarded-For is not known yet: the
 * per-client cap applies at conn.open, once the head names the client.
 */
int
admit_peer_open(struct worker *w, const struct ipc_body_conn_addr *b,
    uint64_t *retry_ms)
{
	const struct cfg_policy *p = &sup->conf->policy;
	char addr[IPC_ADDR_MAX + 1], key[RL_KEY_MAX];
	struct acount *ac;
	uint32_t cap;

	*retry_ms = 0;
	if (admit_lookup(tcp_tab, w, b->conn) != NULL)
		return -1;
	snprintf(addr, sizeof(addr), "%.*s", (int)b->addr.len, b->addr.p);
	cap = admit_trusted(addr) ? p->tcp_conns_per_proxy :
	    p->tcp_conns_per_peer;
	addrkey_format(key, sizeof(key), addr);
	if (ntcp >= p->tcp_conns_total) {
		log_debug("%s: pool at %u connections", __func__,
		    p->tcp_conns_total);
		*retry_ms = ADMIT_RETRY_MS;
		return 503;
	}
	ac = admit_count_in(peer_tab, key);
	if (ac->n >= cap) {
		log_debug("%s: %s over %u connections", __func__, addr, cap);
		*retry_ms = ADMIT_RETRY_MS;
		return 503;
	}
	admit_insert(tcp_tab, w, b->conn, ac);
	ntcp++;
	return 0;
}

void
admit_peer_close(struct worker *w, uint64_t conn)
{
	struct aconn *a;

	if ((a = admit_lookup(tcp_tab, w, conn)) != NULL)
		admit_tcp_remove(a);
}

/* Router handlers for peer.open and peer.close (router.c's table). */
int
sup_peer_open(struct worker *w, struct ipc_msg *m)
{
	struct ipc_body_conn_verdict v;
	int status;

	if ((status = admit_peer_open(w, &m->b.conn_addr,
	    &v.retry_after_ms)) == -1)
		return -1;
	v.conn = m->b.conn_addr.conn;
	v.status = (uint64_t)status;
	router_send(w, IPC_PEER_VERDICT, m->req_id, &v);
	return 0;
}

int
sup_peer_close(struct worker *w, struct ipc_msg *m)
{
	admit_peer_close(w, m->b.conn.conn);
	return 0;
}

void
admit_conn_close(struct worker *w, uint64_t conn)
{
	struct aconn *a;

	if ((a = admit_find(w, conn)) != NULL)
		admit_remove(a);
}

int
admit_known(struct worker *w, uint64_t conn)
{
	return admit_find(w, conn) != NULL;
}

/* The client a connection speaks for (its address key), or "". */
const char *
admit_conn_client(struct worker *w, uint64_t conn)
{
	struct aconn *a = admit_find(w, conn);

	return a != NULL ? a->ac->key : "";
}

void
admit_worker_down(struct worker *w)
{
	struct aconn *a, *next;
	size_t i;

	for (i = 0; i < ADMIT_BUCKETS; i++) {
		for (a = conn_tab[i]; a != NULL; a = next) {
			next = a->next;
			if (a->w == w)
				admit_remove(a);
		}
		for (a = tcp_tab[i]; a != NULL; a = next) {
			next = a->next;
			if (a->w == w)
				admit_tcp_remove(a);
		}
	}
}

/*
 * One web chat request on an admitted connection: a token from its
 * address's bucket and, once bound, from its session's.  0, or the ms
 * until the caller may try again.
 */
uint64_t
admit_request(struct worker *w, uint64_t conn, int64_t session)
{
	char key[RL_KEY_MAX];
	struct aconn *a;
	uint64_t now = clock_mono_ms(), wait;

	if (session > 0) {
		snprintf(key, sizeof(key), "s:%lld", (long long)session);
		if ((wait = ratelimit_take(rl_session, key, now)) > 0)
			return wait;
	}
	if ((a = admit_find(w, conn)) != NULL) {
		if ((wait = ratelimit_take(rl_address, a->ac->key, now)) > 0)
			return wait;
	}
	return 0;
}

/*
 * A plain HTTP request the supervisor answers (GET /s/<id>): a token
 * from the client's address bucket, as a WebSocket open takes.  0, or
 * the ms until the caller may try again.
 */
uint64_t
admit_http(struct ipc_str peer, struct ipc_str forwarded)
{
	char addr[IPC_ADDR_MAX + 1], key[RL_KEY_MAX];

	admit_client(peer, forwarded, addr, sizeof(addr));
	addrkey_format(key, sizeof(key), addr);
	return ratelimit_take(rl_address, key, clock_mono_ms());
}

/* Idle buckets are full buckets: dropping them costs nothing. */
void
admit_sweep(void)
{
	uint64_t now = clock_mono_ms();
	size_t n;

	n = ratelimit_expire(rl_session, now) + ratelimit_expire(rl_address,
	    now);
	if (n > 0)
		log_debug("%s: %zu idle buckets dropped", __func__, n);
}
