/*
 * Token buckets, and nothing else: the supervisor's router asks
 * ratelimit_take() before it spends anything on a request, and its sweep
 * calls ratelimit_expire().  This file never reads a clock, never logs a
 * key (keys may name a client address) and never decides what a key is.
 *
 * Arithmetic is in integers: a bucket holds `level` in units where one
 * token is period_ms units and each elapsed ms adds `per` units, so
 * "3/s" and "180/min" refill identically and nothing rounds.
 *
 * Memory is bounded by max_keys.  A bucket untouched for the time it
 * takes to refill from empty is full, the same as no bucket, so expiring
 * it loses nothing.  When the table is full of live buckets the least
 * recently used one goes; XXX that gives a client rotating through more
 * than max_keys keys a fresh burst, which a per-prefix bucket would close.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "xmalloc.h"

#define RL_HASH_MIN	64	/* buckets of the hash table, at least */

struct rl_bucket {
	TAILQ_ENTRY(rl_bucket)	 lru;		/* oldest first */
	struct rl_bucket	*next;		/* hash chain */
	uint64_t		 level;		/* see above */
	uint64_t		 last_ms;	/* of the last refill */
	char			 key[RL_KEY_MAX];
};
TAILQ_HEAD(rl_lru, rl_bucket);

struct ratelimit {
	struct rl_rate		 rate;
	uint64_t		 cap;		/* burst * period_ms */
	uint64_t		 fill_ms;	/* empty to full */
	size_t			 max;
	size_t			 n;
	size_t			 nhash;
	struct rl_bucket	**hash;
	struct rl_lru		 lru;
};

static const struct {
	const char	*unit;
	uint64_t	 ms;
} rl_units[] = {
	{ "s",		1000 },
	{ "min",	60 * 1000 },
	{ "hour",	3600 * 1000 },
};

static size_t	rl_hash(const struct ratelimit *, const char *);
static void	rl_unlink(struct ratelimit *, struct rl_bucket *);

int
ratelimit_parse(const char *s, struct rl_rate *r)
{
	const char *p;
	uint64_t n = 0;
	size_t i;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > RL_RATE_MAX)
			return -1;
	}
	if (p == s || n == 0 || *p != '/')
		return -1;
	p++;
	for (i = 0; i < sizeof(rl_units) / sizeof(rl_units[0]); i++) {
		if (strcmp(p, rl_units[i].unit) == 0) {
			r->per = n;
			r->period_ms = rl_units[i].ms;
			return 0;
		}
	}
	return -1;
}

struct ratelimit *
ratelimit_new(const struct rl_rate *rate, size_t max_keys)
{
	struct ratelimit *rl;

	rl = xcalloc(1, sizeof(*rl));
	rl->rate = *rate;
	if (rl->rate.burst == 0)
		rl->rate.burst = 1;
	rl->cap = rl->rate.burst * rl->rate.period_ms;
	rl->fill_ms = (rl->cap + rl->rate.per - 1) / rl->rate.per;
	rl->max = max_keys > 0 ? max_keys : 1;
	rl->nhash = RL_HASH_MIN;
	while (rl->nhash < rl->max)
		rl->nhash *= 2;
	rl->hash = xcalloc(rl->nhash, sizeof(*rl->hash));
	TAILQ_INIT(&rl->lru);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	struct rl_bucket *b;

	if (rl == NULL)
		return;
	while ((b = TAILQ_FIRST(&rl->lru)) != NULL)
		rl_unlink(rl, b);
	free(rl->hash);
	free(rl);
}

/* FNV-1a; keys come from our own formats, the chains stay short. */
static size_t
rl_hash(const struct ratelimit *rl, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h & (rl->nhash - 1));
}

static void
rl_unlink(struct ratelimit *rl, struct rl_bucket *b)
{
	struct rl_bucket **bp;

	for (bp = &rl->hash[rl_hash(rl, b->key)]; *bp != NULL;
	    bp = &(*bp)->next) {
		if (*bp == b) {
			*bp = b->next;
			break;
		}
	}
	TAILQ_REMOVE(&rl->lru, b, lru);
	free(b);
	rl->n--;
}

uint64_t
ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	struct rl_bucket *b;
	uint64_t elapsed, need = rl->rate.period_ms;
	size_t h = rl_hash(rl, key);

	for (b = rl->hash[h]; b != NULL; b = b->next)
		if (strcmp(b->key, key) == 0)
			break;
	if (b == NULL) {
		if (rl->n >= rl->max) {
			ratelimit_expire(rl, now_ms);
			if (rl->n >= rl->max)
				rl_unlink(rl, TAILQ_FIRST(&rl->lru));
		}
		b = xcalloc(1, sizeof(*b));
		/* A key too long is cut: ours never are, so it is a bug. */
		(void)snprintf(b->key, sizeof(b->key), "%s", key);
		b->level = rl->cap;
		b->last_ms = now_ms;
		b->next = rl->hash[h];
		rl->hash[h] = b;
		TAILQ_INSERT_TAIL(&rl->lru, b, lru);
		rl->n++;
	} else {
		TAILQ_REMOVE(&rl->lru, b, lru);
		TAILQ_INSERT_TAIL(&rl->lru, b, lru);
	}
	/* A clock that went back refills nothing. */
	if (now_ms > b->last_ms) {
		elapsed = now_ms - b->last_ms;
		if (elapsed >= rl->fill_ms)
			b->level = rl->cap;
		else if ((b->level += elapsed * rl->rate.per) > rl->cap)
			b->level = rl->cap;
		b->last_ms = now_ms;
	}
	if (b->level >= need) {
		b->level -= need;
		return 0;
	}
	return (need - b->level + rl->rate.per - 1) / rl->rate.per;
}

size_t
ratelimit_expire(struct ratelimit *rl, uint64_t now_ms)
{
	struct rl_bucket *b;
	size_t n = 0;

	while ((b = TAILQ_FIRST(&rl->lru)) != NULL &&
	    now_ms >= b->last_ms && now_ms - b->last_ms >= rl->fill_ms) {
		rl_unlink(rl, b);
		n++;
	}
	return n;
}

size_t
ratelimit_count(const struct ratelimit *rl)
{
	return rl->n;
}
