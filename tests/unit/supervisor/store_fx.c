/*
 * The store tests' fixture (store_fx.h): one per test, so no test sees
 * another's rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "store_fx.h"

int
store_fx_setup(void **state)
{
	struct store_fx *fx = calloc(1, sizeof(*fx));
	char err[256];
	int fd;

	if (fx == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "/tmp/wxstore.XXXXXX");
	if ((fd = mkstemp(fx->path)) == -1)
		return -1;
	close(fd);
	unlink(fx->path);
	if ((fx->s = store_open(fx->path, err, sizeof(err))) == NULL)
		return -1;
	*state = fx;
	return 0;
}

int
store_fx_teardown(void **state)
{
	struct store_fx *fx = *state;
	char p[96];

	store_close(fx->s);
	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	free(fx);
	return 0;
}

uint64_t
store_fx_vm_steps(struct store *s)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < STORE_STMT_MAX; i++)
		if (s->st[i] != NULL)
			n += sqlite3_stmt_status(s->st[i],
			    SQLITE_STMTSTATUS_VM_STEP, 1);
	for (i = 0; i < STORE_LAZY_MAX; i++)
		if (s->lazy[i] != NULL)
			n += sqlite3_stmt_status(s->lazy[i],
			    SQLITE_STMTSTATUS_VM_STEP, 1);
	return n;
}
