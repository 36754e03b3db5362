/*
 * libFuzzer harness for supervisor/pgload.c's rows: arbitrary bytes as
 * "table\njson", the way a PostgreSQL answer (the network's bytes, when
 * a lease is taken or a session comes from another node) reaches
 * pgload_row and store_absorb.  Each input runs in a transaction that
 * is rolled back.  Beyond not crashing: a kv row that is taken is then
 * read back with the value it carried.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "pgload.h"
#include "store.h"

#define FUZZER_MAXLEN	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct store *s;

static void
open_store(void)
{
	char dir[] = "/tmp/wxfuzz.XXXXXX", path[64], err[256];

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/store.db", dir);
	log_init(0, 0);
	if ((s = store_open(path, err, sizeof(err))) == NULL)
		abort();
}

/* A kv row that was taken holds what its JSON said. */
static void
check_kv(const char *json)
{
	json_t *o = json_loads(json, 0, NULL);
	const char *acct, *key, *val;
	char *got = NULL;

	acct = json_string_value(json_object_get(o, "account"));
	key = json_string_value(json_object_get(o, "key"));
	val = json_string_value(json_object_get(o, "value"));
	if (acct != NULL && key != NULL && val != NULL) {
		if (store_kv_get(s, acct, key, &got) != 0 ||
		    strcmp(got, val) != 0)
			abort();
		free(got);
	}
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[FUZZER_MAXLEN + 1], *json;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (s == NULL)
		open_store();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((json = strchr(buf, '\n')) == NULL)
		return 0;
	*json++ = '\0';
	if (pgload_row(s, buf, json) == 0 && strcmp(buf, "kv") == 0)
		check_kv(json);
	store_rollback(s);
	return 0;
}
