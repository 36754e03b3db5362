/*
 * Milliseconds on the monotonic clock: for timeouts, deadlines and token
 * buckets, which must not jump when the wall clock is set.
 */
#ifndef WX_CLOCK_H
#define WX_CLOCK_H

#include <sys/time.h>

#include <stdint.h>

struct timespec;

uint64_t	clock_mono_ms(void);
uint64_t	clock_us_since(const struct timespec *);
uint64_t	timespec_ms_since(const struct timespec *);
struct timeval	clock_tv(uint64_t ms);

#endif
