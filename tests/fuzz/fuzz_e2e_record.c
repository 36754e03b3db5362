/*
 * libFuzzer harness for ctl/relay/e2e_key.c's reader of wrapped-key
 * records: arbitrary bytes as a record from the server.  Whatever it
 * takes must have a cost e2e_derive would run and must come back the
 * same through e2e_record_format; it must not go past its bound.  The
 * record is never unwrapped here: scrypt would be all the time spent.
 *
 * jansson is not instrumented, so random bytes seldom get past it to
 * the checks of each field: an input whose first byte is below 8 is
 * also read as that field of a good record, the rest of it as its
 * value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "xmalloc.h"

#define FUZZER_MAXLEN	(E2E_RECORD_MAX + 16)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const names[] = { "v", "kdf", "n", "r", "p", "salt",
    "nonce", "wrapped" };
static const char *const good[] = { "1", "\"scrypt\"", "1024", "8", "1",
    "\"AAAAAAAAAAAAAAAAAAAAAA==\"", "\"AAAAAAAAAAAAAAAA\"",
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"" };

static void
one(const char *json, size_t size)
{
	struct e2e_record r, back;
	char *s;

	if (e2e_record_parse(json, size, &r) == -1)
		return;
	if (size > E2E_RECORD_MAX || !e2e_kdf_valid(&r.kdf))
		abort();
	/* Taken: written out and read again, it is the same record. */
	if ((s = e2e_record_format(&r)) == NULL ||
	    e2e_record_parse(s, strlen(s), &back) == -1 ||
	    memcmp(&r.kdf, &back.kdf, sizeof(r.kdf)) != 0 ||
	    memcmp(r.nonce, back.nonce, sizeof(r.nonce)) != 0 ||
	    memcmp(r.wrapped, back.wrapped, sizeof(r.wrapped)) != 0)
		abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char *buf, *p;
	size_t i;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (!init) {
		jsonalloc_init();
		init = 1;
	}
	one((const char *)data, size);
	if (size == 0 || data[0] >= 8)
		return 0;
	p = buf = xmalloc(FUZZER_MAXLEN + E2E_RECORD_MAX);
	*p++ = '{';
	for (i = 0; i < 8; i++) {
		p += sprintf(p, "%s\"%s\":", i > 0 ? "," : "", names[i]);
		if (i == data[0]) {
			memcpy(p, data + 1, size - 1);
			p += size - 1;
		} else
			p += sprintf(p, "%s", good[i]);
	}
	*p++ = '}';
	one(buf, (size_t)(p - buf));
	free(buf);
	return 0;
}
