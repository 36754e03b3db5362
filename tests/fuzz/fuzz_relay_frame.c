/*
 * libFuzzer harness for workers/agent/relay_frame.c: arbitrary bytes as
 * one WebSocket message from a relay.  Whatever the parser accepts must
 * keep its bounds (a NUL-ended delta of at most RELAY_DELTA_MAX bytes
 * with no NUL inside, an id within RELAY_ID_MAX, NUL-ended fixed fields)
 * and leave nothing allocated once cleared.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/relay_frame.h"
#include "xmalloc.h"

/* A frame past the cap is refused unread; just past it is enough. */
#define FUZZER_MAXLEN	(RELAY_FRAME_MAX + 16)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct relay_frame f;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (!init) {
		jsonalloc_init();
		init = 1;
	}
	if (relay_frame_parse((const char *)data, size, &f) == RF_OK) {
		if (f.type < RF_HELLO || f.type > RF_PONG)
			abort();
		if (f.id > RELAY_ID_MAX)
			abort();
		if (f.type == RF_DELTA && (f.text == NULL ||
		    f.text_len > RELAY_DELTA_MAX ||
		    f.text[f.text_len] != '\0' ||
		    memchr(f.text, '\0', f.text_len) != NULL))
			abort();
		if (f.type != RF_DELTA && f.text != NULL)
			abort();
		if (strlen(f.token) > IPC_TOKEN_MAX ||
		    strlen(f.code) > IPC_NAME_MAX ||
		    strlen(f.message) > IPC_MESSAGE_MAX)
			abort();
		if (f.type == RF_ERROR && f.code[0] == '\0')
			abort();
	} else if (f.text != NULL)
		abort();
	relay_frame_clear(&f);
	return 0;
}
