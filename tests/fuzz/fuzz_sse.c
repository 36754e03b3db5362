/*
 * libFuzzer harness for workers/agent/sse.c: arbitrary bytes as an
 * event stream, fed whole and again cut at every position the first
 * byte chooses.  Both feedings must yield the same events and the same
 * error: how libcurl splits the body must never change the meaning.
 * Every event is bounded by SSE_DATA_MAX and NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sse.h"

/* Past two full lines the fuzzer learns nothing new. */
#define FUZZER_MAXLEN	(2 * SSE_LINE_MAX + 16)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct tally {
	size_t		 n;
	uint64_t	 sum;
};

static int
count(const char *data, size_t len, void *arg)
{
	struct tally *t = arg;
	size_t i;

	if (len > SSE_DATA_MAX || data[len] != '\0')
		abort();
	t->n++;
	for (i = 0; i < len; i++)
		t->sum = t->sum * 31 + (unsigned char)data[i];
	t->sum += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally a = { 0, 0 }, b = { 0, 0 };
	struct sse s;
	enum sse_err e1, e2 = SSE_OK;
	size_t step, off, n;

	if (size == 0 || size > FUZZER_MAXLEN)
		return 0;
	step = (size_t)data[0] + 1;
	data++;
	size--;

	sse_init(&s);
	e1 = sse_feed(&s, (const char *)data, size, count, &a);
	sse_clear(&s);

	sse_init(&s);
	for (off = 0; off < size && e2 == SSE_OK; off += n) {
		n = size - off < step ? size - off : step;
		e2 = sse_feed(&s, (const char *)data + off, n, count, &b);
	}
	(void)sse_pending(&s);
	sse_clear(&s);
	if (e1 != e2 || a.n != b.n || a.sum != b.sum)
		abort();
	return 0;
}
