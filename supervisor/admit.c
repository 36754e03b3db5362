/*
 * The web chat's front door in the hub: which TCP connections the pool
 * may hold (per peer address and in total, counted from accept()),
 * which WebSocket connections are admitted (per client address and in
 * total), the token buckets every web chat request takes from (per
 * session and per client address), and the audit row plus counter for
 * every denial.
 *
 * Here are the counts per address key and the totals; which of them a
 * connection holds a place in is kept on its one record (struct
 * binding, router_bind.c), which conn_end() hands back to
 * admit_release() as it closes.  The client's key is that record's
 * client count's key, so the buckets and agentq.c's fair share see the
 * client conn.open decided.
 *
 * Called by the router for peer.open/peer.close and conn.open, and
 * before each web chat handler spends anything; by the sweep timer.
 * The client address is decided here, never by the worker:
 * X-Forwarded-For is believed only when the peer is a configured
 * trusted proxy (the walk is policy/xff.c).  It never logs a token or
 * message text, and addresses only at log_debug.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrkey.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "ratelimit.h"
#include "role.h"
#include "router_int.h"
#include "store.h"
#include "xff.h"
#include "xmalloc.h"

#define ADMIT_BUCKETS	4096	/* hash buckets of each count table */
/* Retry-After for a connection over its address's cap: a guess. */
#define ADMIT_RETRY_MS	5000

_Static_assert(XFF_ADDR_MAX == IPC_ADDR_MAX,
    "policy/xff.c cuts addresses as the wire does");

/* Connections holding a place per address key (IPv6 per /64). */
struct acount {
	struct acount	*next;
	unsigned	 n;
	char		 key[RL_KEY_MAX];	/* policy/addrkey.c */
};

/* One cap's counts: per address key, and over the whole pool. */
struct acap {
	struct acount	*tab[ADMIT_BUCKETS];
	unsigned	 total;
};

/*
 * WebSockets admitted by conn.open, per client; TCP connections from
 * peer.open, per peer.  The webchat workers share one listening socket,
 * so only here can one peer's connections be counted over the pool.
 */
static struct acap	ws_cap;
static struct acap	tcp_cap;
static struct ratelimit	*rl_session;
static struct ratelimit	*rl_address;

static size_t
admit_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h % ADMIT_BUCKETS);
}

static struct ratelimit *
admit_buckets(const struct cfg_rate *c, size_t max)
{
	struct rl_rate r;

	r.per = c->per;
	r.period_ms = c->period_ms;
	r.burst = c->burst;
	return ratelimit_new(&r, max);
}

/*
 * (Re)build the buckets from the config; a reload starts them full.
 * In a cluster a visitor may reach every node, so a session's and an
 * address's buckets are kept in the database (hub_pg_rate.c): each
 * node takes from its own copy, so no request waits on the database,
 * and says what it took a few times a second; the database's level,
 * all nodes' takings counted, then replaces the copy.
 */
void
admit_init(void)
{
	const struct cfg_policy *p = &sup->conf->policy;

	ratelimit_free(rl_session);
	ratelimit_free(rl_address);
	rl_session = admit_buckets(&p->session_rate, p->buckets_max);
	rl_address = admit_buckets(&p->address_rate, p->buckets_max);
	ratelimit_track(rl_session, hub_pg_on());
	ratelimit_track(rl_address, hub_pg_on());
}

struct spent_arg {
	void	(*fn)(const struct admit_spend *, void *);
	void	*arg;
	const struct cfg_rate *rate;
};

static void
spent_one(const char *key, unsigned n, void *arg)
{
	struct spent_arg *sa = arg;
	struct admit_spend sp;

	sp.key = key;
	sp.n = n;
	sp.per_s = (double)sa->rate->per * 1000.0 /
	    (double)sa->rate->period_ms;
	sp.burst = (double)(sa->rate->burst > 0 ? sa->rate->burst : 1);
	sa->fn(&sp, sa->arg);
}

size_t
admit_spent(size_t max, void (*fn)(const struct admit_spend *, void *),
    void *arg)
{
	const struct cfg_policy *p = &sup->conf->policy;
	struct spent_arg sa = { fn, arg, &p->session_rate };
	size_t n;

	n = ratelimit_spent(rl_session, max, spent_one, &sa);
	sa.rate = &p->address_rate;
	return n + ratelimit_spent(rl_address, max - n, spent_one, &sa);
}

/* Keys say their table: "s:" a session's, the rest an address's. */
void
admit_level(const char *key, double tokens)
{
	ratelimit_level(strncmp(key, "s:", 2) == 0 ? rl_session :
	    rl_address, key, tokens, clock_mono_ms());
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

/* The count of connections from key, or NULL while there are none. */
static struct acount *
acount_find(struct acap *cap, const char *key)
{
	struct acount *ac;

	for (ac = cap->tab[admit_hash(key)]; ac != NULL; ac = ac->next)
		if (strcmp(ac->key, key) == 0)
			return ac;
	return NULL;
}

/* One more connection from key: the count it now holds a place in. */
static struct acount *
acount_add(struct acap *cap, const char *key)
{
	struct acount *ac;
	size_t h;

	if ((ac = acount_find(cap, key)) == NULL) {
		ac = xcalloc(1, sizeof(*ac));
		snprintf(ac->key, sizeof(ac->key), "%s", key);
		h = admit_hash(key);
		ac->next = cap->tab[h];
		cap->tab[h] = ac;
	}
	ac->n++;
	cap->total++;
	return ac;
}

/* A place given back; a count at zero goes. */
static void
acount_drop(struct acap *cap, struct acount *ac)
{
	struct acount **pp;

	cap->total--;
	if (--ac->n > 0)
		return;
	for (pp = &cap->tab[admit_hash(ac->key)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == ac) {
			*pp = ac->next;
			free(ac);
			return;
		}
	}
}

/* Connections from key holding a place now. */
static unsigned
acount_n(struct acap *cap, const char *key)
{
	struct acount *ac = acount_find(cap, key);

	return ac != NULL ? ac->n : 0;
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
	struct binding *c;

	*retry_ms = 0;
	if ((c = conn_find(w, b->conn)) != NULL && c->client != NULL)
		return -1;
	admit_client(b->peer, b->forwarded, addr, sizeof(addr));
	addrkey_format(key, sizeof(key), addr);
	if ((*retry_ms = ratelimit_take(rl_address, key, clock_mono_ms())) > 0)
		return 429;
	if (ws_cap.total >= p->conns_total) {
		*retry_ms = ADMIT_RETRY_MS;
		return 503;
	}
	/* Counted per client as the buckets see one: an IPv6 /64. */
	if (acount_n(&ws_cap, key) >= p->conns_per_address) {
		log_debug("%s: %s over %u connections", __func__, addr,
		    p->conns_per_address);
		*retry_ms = ADMIT_RETRY_MS;
		return 429;
	}
	conn_get(w, b->conn)->client = acount_add(&ws_cap, key);
	return 0;
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
	struct binding *c;
	uint32_t cap;

	*retry_ms = 0;
	if ((c = conn_find(w, b->conn)) != NULL && c->tcp != NULL)
		return -1;
	snprintf(addr, sizeof(addr), "%.*s", (int)b->addr.len, b->addr.p);
	cap = admit_trusted(addr) ? p->tcp_conns_per_proxy :
	    p->tcp_conns_per_peer;
	addrkey_format(key, sizeof(key), addr);
	if (tcp_cap.total >= p->tcp_conns_total) {
		log_debug("%s: pool at %u connections", __func__,
		    p->tcp_conns_total);
		*retry_ms = ADMIT_RETRY_MS;
		return 503;
	}
	if (acount_n(&tcp_cap, key) >= cap) {
		log_debug("%s: %s over %u connections", __func__, addr, cap);
		*retry_ms = ADMIT_RETRY_MS;
		return 503;
	}
	conn_get(w, b->conn)->tcp = acount_add(&tcp_cap, key);
	return 0;
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
	struct binding *c;

	if ((c = conn_find(w, m->b.conn.conn)) != NULL)
		conn_end(c, CONN_TCP);
	return 0;
}

/* The places a closing connection held (conn_end), given back. */
void
admit_release(struct binding *c, int parts)
{
	if ((parts & CONN_TCP) && c->tcp != NULL) {
		acount_drop(&tcp_cap, c->tcp);
		c->tcp = NULL;
	}
	if ((parts & CONN_WS) && c->client != NULL) {
		acount_drop(&ws_cap, c->client);
		c->client = NULL;
	}
}

/* The client a connection speaks for (its address key), or "". */
/* WebSockets admitted now, over the pool: for metrics. */
unsigned
admit_conns(void)
{
	return ws_cap.total;
}

const char *
admit_conn_client(struct worker *w, uint64_t conn)
{
	struct binding *c = conn_find(w, conn);

	return c != NULL && c->client != NULL ? c->client->key : "";
}

/*
 * One web chat request on an admitted connection: a token from its
 * address's bucket and, once bound, from its session's.  0, or the ms
 * until the caller may try again.
 */
uint64_t
admit_request(const struct binding *c)
{
	char key[RL_KEY_MAX];
	uint64_t now = clock_mono_ms(), wait;

	if (c->session > 0) {
		snprintf(key, sizeof(key), "s:%lld", (long long)c->session);
		if ((wait = ratelimit_take(rl_session, key, now)) > 0)
			return wait;
	}
	if (c->client != NULL) {
		if ((wait = ratelimit_take(rl_address, c->client->key,
		    now)) > 0)
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
