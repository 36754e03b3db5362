/*
 * libFuzzer harness for ctl/relay/e2e.c's envelope reader: arbitrary
 * bytes as an encrypted message from the server.  Nothing may come back
 * as text unless it was sealed under the key and the associated data,
 * which random bytes cannot be; so the reader must refuse every input,
 * within its bounds, and a sealed envelope must still open afterwards.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "xmalloc.h"

#define FUZZER_MAXLEN	(E2E_ENVELOPE_MAX + 16)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t key[E2E_KEY_LEN] = { 0x42 };
static const char aad[] = "wxgate-e2e/1|msg|thread-1|operator|1";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const char *why;
	char *text, *env;
	size_t len;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (!init) {
		jsonalloc_init();
		init = 1;
	}
	if (e2e_envelope_open(key, aad, (const char *)data, size, &text, &len,
	    &why) == 0)
		abort();		/* a forgery opened */
	if (text != NULL || why == NULL)
		abort();
	/* The reader is left able to read a real one. */
	if ((env = e2e_envelope_seal(key, aad, (const char *)data,
	    size < 64 ? size : 64)) == NULL)
		abort();
	if (e2e_envelope_open(key, aad, env, strlen(env), &text, &len,
	    &why) != 0 || len != (size < 64 ? size : 64) ||
	    memcmp(text, data, len) != 0)
		abort();
	free(text);
	free(env);
	return 0;
}
