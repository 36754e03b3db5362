/*
 * libFuzzer harness for workers/net/cdisp.c: the input is a
 * Content-Disposition value as a media host might send it.  Whatever
 * it is, a name that comes out is 1..CDISP_NAME_MAX bytes of UTF-8
 * with no control byte, no "/" or "\", and is not "." or ".."; a
 * refusal leaves the name empty and has a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/cdisp.h"

/* A little past the parser's own bound, so the refusal is reached. */
#define FUZZER_MAXLEN	(CDISP_VALUE_MAX + 64)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Well-formed UTF-8, checked apart from the parser's own reading. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		need = s[i] >= 0xf0 ? 3 : s[i] >= 0xe0 ? 2 : 1;
		if (s[i] < 0xc2 || s[i] > 0xf4 || n - i <= need)
			return 0;
		cp = s[i] & (0x3f >> need);
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 &&
		    cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 ||
		    cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[CDISP_NAME_MAX + 1];
	enum cdisp_err e;
	size_t n, i;

	if (size > FUZZER_MAXLEN)
		return 0;
	memset(out, 'x', sizeof(out));
	e = cdisp_filename((const char *)data, size, out);
	if (cdisp_strerror(e) == NULL || strnlen(out, sizeof(out)) ==
	    sizeof(out))
		abort();
	n = strlen(out);
	if (e != CDISP_OK) {
		if (n != 0)
			abort();
		return 0;
	}
	if (n == 0 || n > CDISP_NAME_MAX || strcmp(out, ".") == 0 ||
	    strcmp(out, "..") == 0 || !utf8_ok((unsigned char *)out, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '/' || out[i] == '\\')
			abort();
	return 0;
}
