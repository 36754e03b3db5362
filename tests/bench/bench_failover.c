/*
 * Failover at the lease layer (issue #18): three nodes (struct leases,
 * each with its own connection, in this one process) share twenty
 * accounts on one PostgreSQL; one node dies (its leases left to lapse,
 * as a SIGKILL leaves them) and the time until every one of its accounts
 * is held by another node is measured, rounds times, a different node
 * each round, the dead one restarted and the share balanced in between.
 * It is the floor under a real takeover, which adds the dead process's
 * detection nowhere (leases lapse by the database's clock) but adds the
 * account's load and its worker's start.
 *
 * Prints "failover.METRIC value unit" lines.  Run by
 * tests/bench/run_failover.sh, which starts the PostgreSQL.
 *   bench_failover [-t ttl_ms] [-r rounds]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "lease.h"
#include "log.h"
#include "pgpool.h"

#define NACC	20
#define NNODE	3

static struct event_base *base;
static struct leases *node[NNODE];
static int owner[NACC];		/* node + 1, 0 none */
static char dsn[256], pw[128];
static unsigned ttl_ms = LEASE_TTL_MS;

static void
on_lease(enum lease_ev ev, const char *account, int64_t token, void *arg)
{
	int n = (int)(intptr_t)arg, i = atoi(account + 4);

	(void)token;
	switch (ev) {
	case LEASE_HELD:
		if (owner[i] != 0) {
			fprintf(stderr, "%s: two nodes\n", account);
			exit(1);
		}
		owner[i] = n + 1;
		break;
	case LEASE_LOST:
		if (owner[i] == n + 1)
			owner[i] = 0;
		break;
	case LEASE_GIVE:
		owner[i] = 0;
		leases_given(node[n], account);
		break;
	}
}

static void
start(int n)
{
	struct pgpool_conf db = { .conninfo = dsn, .password = pw,
	    .deadline_ms = 2000 };
	struct lease_conf lc = { .ttl_ms = ttl_ms };
	char name[16], account[16];
	int i;

	snprintf(name, sizeof(name), "node%d", n);
	lc.node = name;
	node[n] = leases_new(base, &db, &lc, on_lease, (void *)(intptr_t)n);
	for (i = 0; i < NACC; i++) {
		snprintf(account, sizeof(account), "acct%02d", i);
		leases_want(node[n], account, NULL);
	}
}

static unsigned
held_by(int n)
{
	unsigned i, k = 0;

	for (i = 0; i < NACC; i++)
		k += owner[i] == n + 1;
	return k;
}

static int
balanced(void)
{
	unsigned lo = NACC, hi = 0, sum = 0;
	int n;

	for (n = 0; n < NNODE; n++) {
		unsigned k = held_by(n);

		lo = k < lo ? k : lo;
		hi = k > hi ? k : hi;
		sum += k;
	}
	return sum == NACC && hi - lo <= 1;
}

static int
all_held(void)
{
	unsigned i;

	for (i = 0; i < NACC; i++)
		if (owner[i] == 0)
			return 0;
	return 1;
}

static void
tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_base_loopbreak(base);
}

/* The loop, until cond or the bound (which fails the bench). */
static void
until(int (*cond)(void), uint64_t bound_ms)
{
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 5000 };
	uint64_t end = clock_mono_ms() + bound_ms;

	event_add(t, &tv);
	while (!cond()) {
		if (clock_mono_ms() > end) {
			fprintf(stderr, "bench: no convergence\n");
			exit(1);
		}
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(t);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	const char *d = getenv("WXGATE_PG_DSN");
	const char *pwf = getenv("WXGATE_PG_PASSWORD_FILE");
	uint64_t took[16], t0;
	unsigned rounds = 3, r, i;
	FILE *f;
	int ch, n;

	while ((ch = getopt(argc, argv, "t:r:")) != -1) {
		switch (ch) {
		case 't':
			ttl_ms = (unsigned)atoi(optarg);
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_failover [-t ttl_ms]"
			    " [-r rounds]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 16 || ttl_ms < 300) {
		fprintf(stderr, "-r 1 to 16, -t 300 or more\n");
		return 2;
	}
	if (d == NULL || pwf == NULL || (f = fopen(pwf, "r")) == NULL ||
	    fgets(pw, sizeof(pw), f) == NULL) {
		fprintf(stderr, "no PostgreSQL: run me under tests/pgserver.sh"
		    " run (tests/bench/run_failover.sh)\n");
		return 1;
	}
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	snprintf(dsn, sizeof(dsn), "%s", d);
	log_init(0, 0);
	if ((base = event_base_new()) == NULL)
		return 1;
	printf("# failover bench: %d nodes, %d accounts, ttl %u ms, %u"
	    " rounds\n", NNODE, NACC, ttl_ms, rounds);
	for (n = 0; n < NNODE; n++)
		start(n);
	until(balanced, 10 * (uint64_t)ttl_ms);
	for (r = 0; r < rounds; r++) {
		n = (int)(r % NNODE);
		leases_free(node[n]);
		node[n] = NULL;
		t0 = clock_mono_ms();
		for (i = 0; i < NACC; i++)
			if (owner[i] == n + 1)
				owner[i] = 0;
		until(all_held, 10 * (uint64_t)ttl_ms);
		took[r] = clock_mono_ms() - t0;
		start(n);
		until(balanced, 10 * (uint64_t)ttl_ms);
	}
	qsort(took, rounds, sizeof(took[0]), cmp_u64);
	printf("failover.ttl %u ms\n", ttl_ms);
	printf("failover.lease_takeover_p50 %llu ms\n",
	    (unsigned long long)took[rounds / 2]);
	printf("failover.lease_takeover_max %llu ms\n",
	    (unsigned long long)took[rounds - 1]);
	for (n = 0; n < NNODE; n++)
		leases_free(node[n]);
	event_base_free(base);
	return 0;
}
