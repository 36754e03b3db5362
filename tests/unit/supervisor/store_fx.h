/*
 * The cmocka fixture of the store's unit tests (store_fx.c): a fresh
 * store file per test, removed with its WAL and shared memory after.
 */
#ifndef WX_TEST_STORE_FX_H
#define WX_TEST_STORE_FX_H

struct store;

struct store_fx {
	char		 path[64];
	struct store	*s;
};

int	store_fx_setup(void **state);
int	store_fx_teardown(void **state);

#endif
