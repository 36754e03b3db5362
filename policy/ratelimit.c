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
 * it loses nothing, and a new key takes an expired bucket's place before
 * a live one's.  When every bucket is live the least recently used goes,
 * and the new key inherits its level rather than a full burst: tokens
 * move between keys but are never made, so a client rotating through
 * more than max_keys keys gets no more than max_keys buckets' worth.  A
 * fresh full bucket would hand that client a burst per key; an empty one
 * would wrong a newcomer more than needed, since the oldest bucket is
 * the one that has had longest to refill.  The price is paid only under
 * pressure: then a newcomer may start short, which beats letting the
 * table mint tokens.
 *
 * The hash table follows the keys, not the bound: it starts at
 * RL_SLOTS_MIN slots, doubles when the keys outnumber its slots and
 * halves when expiry leaves them under a quarter, never past the power
 * of two at max_keys.  A channel account makes two tables of 4096 keys
 * and most see a handful of senders: a thousand accounts each holding
 * 64 KiB of empty slots was most of what an account cost the hub.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "xmalloc.h"

#define RL_SLOTS_MIN	16	/* of the hash table, at least */

struct rl_bucket {
	TAILQ_ENTRY(rl_bucket)	 lru;		/* oldest first */
	TAILQ_ENTRY(rl_bucket)	 spend;		/* spent > 0, tracked */
	struct rl_bucket	*next;		/* hash chain */
	uint64_t		 level;		/* see above */
	uint64_t		 last_ms;	/* of the last refill */
	uint32_t		 spent;		/* taken, not yet said */
	char			 key[RL_KEY_MAX];
};
TAILQ_HEAD(rl_lru, rl_bucket);

struct ratelimit {
	struct rl_rate		 rate;
	uint64_t		 cap;		/* burst * period_ms */
	uint64_t		 fill_ms;	/* empty to full */
	size_t			 max;
	size_t			 n;
	size_t			 nhash;		/* a power of two */
	size_t			 nhash_max;	/* the one at max */
	struct rl_bucket	**hash;
	struct rl_lru		 lru;
	int			 track;		/* count what is spent */
	struct rl_lru		 spends;	/* buckets with spent > 0 */
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
static void	rl_refill(const struct ratelimit *, struct rl_bucket *,
		    uint64_t);
static void	rl_unlink(struct ratelimit *, struct rl_bucket *);
static void	rl_room(struct ratelimit *, uint64_t, uint64_t *, uint64_t *);
static void	rl_resize(struct ratelimit *, size_t);
static struct rl_bucket *rl_get(struct ratelimit *, const char *,
		    uint64_t);

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
	rl->nhash_max = RL_SLOTS_MIN;
	while (rl->nhash_max < rl->max)
		rl->nhash_max *= 2;
	rl->nhash = RL_SLOTS_MIN;
	rl->hash = xcalloc(rl->nhash, sizeof(*rl->hash));
	TAILQ_INIT(&rl->lru);
	TAILQ_INIT(&rl->spends);
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
	return (size_t)(ratelimit_hash(key) & (rl->nhash - 1));
}

/* FNV-1a, 64 bits. */
uint64_t
ratelimit_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
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
	/* Its count is lost with it: idle long enough, or displaced. */
	if (b->spent > 0)
		TAILQ_REMOVE(&rl->spends, b, spend);
	free(b);
	rl->n--;
}

/* The ms until the bucket holds a token. */
static uint64_t
rl_wait(const struct ratelimit *rl, const struct rl_bucket *b)
{
	return (rl->rate.period_ms - b->level + rl->rate.per - 1) /
	    rl->rate.per;
}

/* A clock that went back refills nothing. */
static void
rl_refill(const struct ratelimit *rl, struct rl_bucket *b, uint64_t now_ms)
{
	uint64_t elapsed;

	if (now_ms <= b->last_ms)
		return;
	elapsed = now_ms - b->last_ms;
	if (elapsed >= rl->fill_ms)
		b->level = rl->cap;
	else if ((b->level += elapsed * rl->rate.per) > rl->cap)
		b->level = rl->cap;
	b->last_ms = now_ms;
}

/*
 * Make room for a new bucket and say what it starts with: full in a free
 * or expired place, else the level of the live bucket it displaces.
 */
static void
rl_room(struct ratelimit *rl, uint64_t now_ms, uint64_t *level,
    uint64_t *last_ms)
{
	struct rl_bucket *old;

	*level = rl->cap;
	*last_ms = now_ms;
	if (rl->n < rl->max)
		return;
	ratelimit_expire(rl, now_ms);
	if (rl->n < rl->max)
		return;
	old = TAILQ_FIRST(&rl->lru);
	rl_refill(rl, old, now_ms);
	*level = old->level;
	/* The clock went back: keep its last_ms, or those ms refill twice. */
	if (old->last_ms > now_ms)
		*last_ms = old->last_ms;
	rl_unlink(rl, old);
}

/* key's bucket, made if it is new, as the most recently used. */
static struct rl_bucket *
rl_get(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	struct rl_bucket *b;
	uint64_t level, last_ms;
	size_t h = rl_hash(rl, key);

	for (b = rl->hash[h]; b != NULL; b = b->next)
		if (strcmp(b->key, key) == 0)
			break;
	if (b == NULL) {
		rl_room(rl, now_ms, &level, &last_ms);
		/* Making room may have shrunk the table. */
		h = rl_hash(rl, key);
		b = xcalloc(1, sizeof(*b));
		/* A key too long is cut: ours never are, so it is a bug. */
		(void)snprintf(b->key, sizeof(b->key), "%s", key);
		b->level = level;
		b->last_ms = last_ms;
		b->next = rl->hash[h];
		rl->hash[h] = b;
		TAILQ_INSERT_TAIL(&rl->lru, b, lru);
		if (++rl->n > rl->nhash && rl->nhash < rl->nhash_max)
			rl_resize(rl, rl->nhash * 2);
	} else {
		TAILQ_REMOVE(&rl->lru, b, lru);
		TAILQ_INSERT_TAIL(&rl->lru, b, lru);
	}
	return b;
}

uint64_t
ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	struct rl_bucket *b = rl_get(rl, key, now_ms);
	uint64_t need = rl->rate.period_ms;

	rl_refill(rl, b, now_ms);
	if (b->level >= need) {
		b->level -= need;
		if (rl->track && b->spent++ == 0)
			TAILQ_INSERT_TAIL(&rl->spends, b, spend);
		return 0;
	}
	return rl_wait(rl, b);
}

void
ratelimit_track(struct ratelimit *rl, int on)
{
	rl->track = on;
}

size_t
ratelimit_spent(struct ratelimit *rl, size_t max,
    void (*fn)(const char *, unsigned, void *), void *arg)
{
	struct rl_bucket *b;
	size_t n = 0;

	while (n < max && (b = TAILQ_FIRST(&rl->spends)) != NULL) {
		TAILQ_REMOVE(&rl->spends, b, spend);
		fn(b->key, b->spent, arg);
		b->spent = 0;
		n++;
	}
	return n;
}

/*
 * tokens is the level held elsewhere when this bucket's spending up to
 * the last ratelimit_spent() was counted there; what it has taken since
 * (spent) comes off.  A level below zero, a debt, is an empty bucket
 * here: it refills from now, so the debt is paid where it is kept.
 */
void
ratelimit_level(struct ratelimit *rl, const char *key, double tokens,
    uint64_t now_ms)
{
	struct rl_bucket *b;
	double left;

	for (b = rl->hash[rl_hash(rl, key)]; b != NULL; b = b->next)
		if (strcmp(b->key, key) == 0)
			break;
	/* New here and spent elsewhere: its first request here waits too. */
	if (b == NULL && !(tokens >= (double)rl->rate.burst))
		b = rl_get(rl, key, now_ms);
	if (b == NULL)
		return;
	left = tokens - (double)b->spent;
	if (!(left > 0))	/* NaN too */
		b->level = 0;
	else if (left >= (double)rl->rate.burst)
		b->level = rl->cap;
	else
		b->level = (uint64_t)(left * (double)rl->rate.period_ms);
	b->last_ms = now_ms;
}

uint64_t
ratelimit_wait(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	struct rl_bucket *b;

	for (b = rl->hash[rl_hash(rl, key)]; b != NULL; b = b->next)
		if (strcmp(b->key, key) == 0)
			break;
	if (b == NULL)
		return 0;	/* a new bucket starts with room */
	rl_refill(rl, b, now_ms);
	return b->level >= rl->rate.period_ms ? 0 : rl_wait(rl, b);
}

size_t
ratelimit_expire(struct ratelimit *rl, uint64_t now_ms)
{
	struct rl_bucket *b;
	size_t n = 0, ns;

	while ((b = TAILQ_FIRST(&rl->lru)) != NULL &&
	    now_ms >= b->last_ms && now_ms - b->last_ms >= rl->fill_ms) {
		rl_unlink(rl, b);
		n++;
	}
	ns = rl->nhash;
	while (ns > RL_SLOTS_MIN && rl->n < ns / 4)
		ns /= 2;
	if (ns != rl->nhash)
		rl_resize(rl, ns);
	return n;
}

/* Every bucket is on the LRU list: rechain them all into ns slots. */
static void
rl_resize(struct ratelimit *rl, size_t ns)
{
	struct rl_bucket *b;
	size_t h;

	free(rl->hash);
	rl->hash = xcalloc(ns, sizeof(*rl->hash));
	rl->nhash = ns;
	TAILQ_FOREACH(b, &rl->lru, lru) {
		h = rl_hash(rl, b->key);
		b->next = rl->hash[h];
		rl->hash[h] = b;
	}
}

size_t
ratelimit_count(const struct ratelimit *rl)
{
	return rl->n;
}

size_t
ratelimit_slots(const struct ratelimit *rl)
{
	return rl->nhash;
}
