/*
 * libFuzzer harness for workers/wecom_webhook/hook_proto.c: arbitrary
 * bytes as a robot's answer (hook_parse) and, as a string, as the text
 * and target of a message (hook_body).  An answer's verdict must match
 * its errcode and its message must be short, NUL-free; a body that is
 * made must be JSON within the type's byte limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wecom_webhook/hook.h"

#define FUZZER_MAXLEN	(32 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_body(enum hook_msgtype t, const char *target, const char *text)
{
	json_error_t err;
	json_t *o;
	char *s;

	if ((s = hook_body(t, target, text)) == NULL)
		return;
	if (strlen(text) > (t == HOOK_TEXT ? HOOK_TEXT_BYTES :
	    HOOK_MARKDOWN_BYTES) || (o = json_loads(s, 0, &err)) == NULL)
		abort();
	json_decref(o);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hook_answer a;
	enum hook_verdict v;
	char *s, *nl;

	if (len > FUZZER_MAXLEN)
		return 0;
	v = hook_parse((const char *)data, len, &a);
	if (memchr(a.errmsg, '\0', sizeof(a.errmsg)) == NULL)
		abort();
	switch (v) {
	case HOOK_SENT:
		if (a.errcode != 0)
			abort();
		break;
	case HOOK_RATE:
		if (a.errcode != 45009)
			abort();
		break;
	case HOOK_BUSY:
		if (a.errcode != -1)
			abort();
		break;
	case HOOK_REJECTED:
		if (a.errcode == 0 || a.errcode == -1 || a.errcode == 45009)
			abort();
		break;
	case HOOK_GARBLED:
		break;
	}
	/* "target\ntext": the first line names whom, the rest is said. */
	s = malloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		check_body(HOOK_TEXT, s, nl + 1);
		check_body(HOOK_MARKDOWN, s, nl + 1);
	} else
		check_body(HOOK_TEXT, "@all", s);
	free(s);
	return 0;
}
