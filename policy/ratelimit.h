/*
 * Token buckets keyed by a short string ("s:42", "a:192.0.2.1"), kept in
 * supervisor memory with a bound on their number.  Time is an argument,
 * never read here, so tests drive the clock.
 */
#ifndef WX_RATELIMIT_H
#define WX_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RL_KEY_MAX	96	/* bytes of a key, NUL included */
#define RL_RATE_MAX	1000000	/* tokens per period */
#define RL_BURST_MAX	1000000

struct rl_rate {
	uint64_t	 per;		/* tokens ... */
	uint64_t	 period_ms;	/* ... per this many ms */
	uint64_t	 burst;		/* bucket size */
};

struct ratelimit;

/* "N/s", "N/min" or "N/hour", N in 1..RL_RATE_MAX; 0 or -1. */
int		 ratelimit_parse(const char *, struct rl_rate *);
struct ratelimit *ratelimit_new(const struct rl_rate *, size_t max_keys);
void		 ratelimit_free(struct ratelimit *);
/* Take one token: 0 if taken, else the ms until one will be there. */
uint64_t	 ratelimit_take(struct ratelimit *, const char *key,
		    uint64_t now_ms);
/* The same answer, taking nothing (a cost paid only on failure). */
uint64_t	 ratelimit_wait(struct ratelimit *, const char *key,
		    uint64_t now_ms);
/*
 * A bucket shared with other processes (a cluster's nodes) whose level
 * is kept elsewhere: with track on, each token taken is counted, and
 * ratelimit_spent() says up to max keys' counts once each (zeroing
 * them); returns how many.  ratelimit_level() then sets a key's bucket
 * from the level kept elsewhere, in tokens, which may be below zero.
 */
void		 ratelimit_track(struct ratelimit *, int on);
size_t		 ratelimit_spent(struct ratelimit *, size_t max,
		    void (*)(const char *key, unsigned n, void *), void *);
void		 ratelimit_level(struct ratelimit *, const char *key,
		    double tokens, uint64_t now_ms);
/* Drop buckets idle long enough to be full again; returns how many. */
size_t		 ratelimit_expire(struct ratelimit *, uint64_t now_ms);
size_t		 ratelimit_count(const struct ratelimit *);
/* Slots of the hash table: it grows and shrinks with the keys. */
size_t		 ratelimit_slots(const struct ratelimit *);
/*
 * A 64-bit hash of s, for keys made from long untrusted ids (a channel's
 * sender) that would not fit RL_KEY_MAX: two ids sharing a bucket is the
 * worst a collision does.
 */
uint64_t	 ratelimit_hash(const char *s);

#endif
