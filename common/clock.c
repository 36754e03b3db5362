/* The one monotonic clock reading every process uses (clock.h). */
#include <time.h>

#include "clock.h"

uint64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Microseconds on the monotonic clock since t; 0 if t is later. */
uint64_t
clock_us_since(const struct timespec *t)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - t->tv_sec) * 1000000 +
	    (now.tv_nsec - t->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

/* Milliseconds since t, for uptimes and ages. */
uint64_t
timespec_ms_since(const struct timespec *t)
{
	return clock_us_since(t) / 1000;
}

/* A libevent timeout of ms milliseconds. */
struct timeval
clock_tv(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}
