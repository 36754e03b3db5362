/*
 * The cmocka fixture of the store's unit tests (store_fx.c): a fresh
 * store file per test, removed with its WAL and shared memory after.
 */
#ifndef WX_TEST_STORE_FX_H
#define WX_TEST_STORE_FX_H

#include <stdint.h>

struct store;

struct store_fx {
	char		 path[64];
	struct store	*s;
};

int	store_fx_setup(void **state);
int	store_fx_teardown(void **state);
/*
 * The SQLite VM steps every statement of s took since the last call:
 * the work a query did, which a test can bound where a time would be
 * flaky, to show that it does not grow with rows it should not touch.
 */
uint64_t store_fx_vm_steps(struct store *s);

#endif
