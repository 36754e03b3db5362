/*
 * The C side of end-to-end encryption (ctl/relay/e2e.c) timed: an
 * envelope sealed and opened at 1 KiB and 16 KiB, and a record
 * unwrapped at the default cost, which the relay pays once per start
 * (it keeps the key) and the browser once per page load.
 *
 *   bench_e2e [rounds]
 *
 * Output is one "metric value unit" line each, for scripts to pick up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e.h"
#include "xmalloc.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
messages(size_t size, int rounds)
{
	static const uint8_t key[E2E_KEY_LEN] = { 7 };
	const char *aad = "wxgate-e2e/1|msg|thread-1|agent|1", *why;
	char *text = xmalloc(size), *env[64], *back;
	double t0, seal_us, open_us;
	size_t len;
	int i, n;

	memset(text, 'z', size);
	seal_us = open_us = 0;
	for (n = 0; n < rounds; n += 64) {
		t0 = now_us();
		for (i = 0; i < 64; i++)
			if ((env[i] = e2e_envelope_seal(key, aad, text,
			    size)) == NULL)
				exit(1);
		seal_us += now_us() - t0;
		t0 = now_us();
		for (i = 0; i < 64; i++) {
			if (e2e_envelope_open(key, aad, env[i], strlen(env[i]),
			    &back, &len, &why) == -1 || len != size)
				exit(1);
			free(back);
		}
		open_us += now_us() - t0;
		for (i = 0; i < 64; i++)
			free(env[i]);
	}
	printf("e2e_seal_us_%zuk %.2f us\n", size / 1024, seal_us / n);
	printf("e2e_open_us_%zuk %.2f us\n", size / 1024, open_us / n);
	free(text);
}

int
main(int argc, char **argv)
{
	struct e2e_kdf cost = { E2E_COST_DEFAULT_N, E2E_COST_DEFAULT_R,
	    E2E_COST_DEFAULT_P, { 0 } };
	struct e2e_record rec;
	uint8_t dk[E2E_KEY_LEN] = { 1 }, back[E2E_KEY_LEN];
	double t0, dt, best = 0;
	int i, rounds = argc > 1 ? atoi(argv[1]) : 4096;

	jsonalloc_init();
	if (rounds < 64)
		rounds = 64;
	messages(1024, rounds);
	messages(16 * 1024, rounds);
	if (e2e_record_new("a passphrase", 12, "root-op", &cost, dk,
	    &rec) == -1)
		return 1;
	/* The best of three: the cost itself, not the machine's noise. */
	for (i = 0; i < 3; i++) {
		t0 = now_us();
		if (e2e_record_unwrap(&rec, "a passphrase", 12, "root-op",
		    back) == -1 || memcmp(back, dk, sizeof(dk)) != 0)
			return 1;
		dt = now_us() - t0;
		if (i == 0 || dt < best)
			best = dt;
	}
	printf("e2e_unwrap_default_ms %.1f ms\n", best / 1000);
	printf("e2e_default_cost_mib %llu MiB\n",
	    (unsigned long long)(128ULL * cost.r * cost.n >> 20));
	return 0;
}
