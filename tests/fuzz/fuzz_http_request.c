/*
 * libFuzzer harness for workers/webchat/http.c: arbitrary bytes as the
 * input of one keep-alive connection.  The first byte picks how the
 * bytes are split across reads (its low five bits mod 17; 0 = all at
 * once), so the incremental path is covered, and whether requests may
 * carry a body (bit 5), as the callback worker's do, and how large
 * (bits 6-7: 64 to 512 bytes, small so the bound is reached); heads are
 * parsed one after another as webchat.c does with pipelined requests.
 * Checks the parser's promises: it never claims more bytes than it was
 * given, a finished head has a rooted, NUL-terminated path and query,
 * and a body never passes its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "webchat/http.h"

/* Several heads at the largest max_header the config allows. */
#define FUZZER_MAXLEN	(128 * 1024)
#define FUZZ_MAX_HEADER	8192

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_parse hp;
	static struct http_req req;
	static char body[512];
	struct evbuffer *out;
	enum http_result r = HTTP_MORE;
	size_t step, off, n, used, body_max = 0;
	const char *buf;

	if (size < 1 || size > FUZZER_MAXLEN)
		return 0;
	step = (data[0] & 0x1f) % 17;
	if (data[0] & 0x20)
		body_max = (size_t)64 << (data[0] >> 6);
	buf = (const char *)data + 1;
	size--;
	if (step == 0)
		step = size;

	out = evbuffer_new();
	http_parse_init(&hp, &req, FUZZ_MAX_HEADER);
	if (body_max > 0)
		http_parse_body(&hp, body, body_max);
	off = 0;
	while (off < size) {
		n = size - off < step ? size - off : step;
		r = http_parse_feed(&hp, buf + off, n, &used);
		if (used > n)
			abort();
		if (r == HTTP_ERROR) {
			http_response(out, hp.status, "text/plain", NULL, 0,
			    HTTP_R_CLOSE);
			break;
		}
		off += used;
		if (r == HTTP_DONE) {
			if (req.path[0] != '/' ||
			    memchr(req.path, '\0', sizeof(req.path)) == NULL ||
			    memchr(req.query, '\0', sizeof(req.query)) == NULL ||
			    req.body_len > body_max)
				abort();
			(void)http_token_has(req.h_connection, "upgrade");
			(void)http_token_has(req.h_upgrade, "websocket");
			http_response(out, 404, "text/plain", "x", 1,
			    req.keep_alive ? 0 : HTTP_R_CLOSE);
			if (req.upgrade || !req.keep_alive)
				break;
			http_parse_init(&hp, &req, FUZZ_MAX_HEADER);
			if (body_max > 0)
				http_parse_body(&hp, body, body_max);
		}
	}
	evbuffer_free(out);
	return 0;
}
