/*
 * libFuzzer harness for workers/webchat/ws.c: arbitrary bytes as what a
 * browser sends after the 101 response.  The first byte picks how the
 * bytes are split across reads (0 = all at once), and its top bit has an
 * event sent between reads, as the hub's replies come.  Split reads and
 * those sends make ws.c free and remake its wslay context between bursts
 * (ws_release()).  Callbacks answer the
 * way webchat.c does, with ws_send_text() from inside wslay's receive
 * loop, so the glue's re-entrancy and error paths run as in production.
 * Checks that every text message handed up respects the size limit and
 * is valid UTF-8, and that a half-read frame is never let go.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "codec.h"
#include "webchat/ws.h"

/* A few messages at FUZZ_MAX_MSG, and then some framing. */
#define FUZZER_MAXLEN	(16 * 1024)
#define FUZZ_MAX_MSG	1024

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ws	*fuzz_ws;

static void
on_text(void *arg, const char *s, size_t len)
{
	(void)arg;
	if (len > FUZZ_MAX_MSG || !ipc_utf8_valid(s, len))
		abort();
	(void)ws_send_text(fuzz_ws, s, len);
}

static void
on_error(void *arg, const char *code, const char *message)
{
	(void)arg;
	(void)message;
	(void)ws_send_text(fuzz_ws, code, strlen(code));
}

static const struct ws_cb fuzz_cb = { on_text, on_error };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in, *out;
	size_t step, off, n;
	int events;

	if (size < 1 || size > FUZZER_MAXLEN)
		return 0;
	events = data[0] & 0x80;
	step = (data[0] & 0x7f) % 9;
	data++;
	size--;
	if (step == 0)
		step = size;
	in = evbuffer_new();
	out = evbuffer_new();
	if ((fuzz_ws = ws_new(in, out, FUZZ_MAX_MSG, &fuzz_cb, NULL)) == NULL)
		abort();
	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		evbuffer_add(in, data + off, n);
		if (ws_read(fuzz_ws) == -1 || ws_finished(fuzz_ws))
			break;
		if (ws_idle(fuzz_ws) && ws_partial(fuzz_ws))
			abort();
		if (events && ws_send_text(fuzz_ws, "{}", 2) == -1)
			break;
		/* Like a reader that keeps up: drop what was "sent". */
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	ws_free(fuzz_ws);
	fuzz_ws = NULL;
	evbuffer_free(in);
	evbuffer_free(out);
	return 0;
}
