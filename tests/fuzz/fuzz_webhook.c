/*
 * libFuzzer harness for workers/wecom_webhook/hook_proto.c: arbitrary
 * bytes as a robot's answer (hook_parse), as an upload_media answer
 * (hook_parse_upload), as an attachment (hook_image_body) and, as a
 * string, as the text and target of a message (hook_body) and as a
 * file's name (hook_file_name).  An answer's verdict must match its
 * errcode and its message must be short, NUL-free; an upload that is
 * ok has a media_id that makes a file body; a body that is made must be
 * JSON within the type's byte limit; a name has no quote or control.
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

static void
check_json(char *s)
{
	json_error_t err;
	json_t *o;

	if (s == NULL)
		return;
	if ((o = json_loads(s, 0, &err)) == NULL)
		abort();
	json_decref(o);
	free(s);
}

static void
check_upload(const uint8_t *data, size_t len)
{
	char id[HOOK_MEDIA_ID_MAX + 1];
	struct hook_answer a;
	size_t n;

	memset(id, 'x', sizeof(id));
	if (hook_parse_upload((const char *)data, len, &a, id) != HOOK_SENT) {
		if (id[0] != '\0')
			abort();
		return;
	}
	if (a.errcode != 0 || (n = strnlen(id, sizeof(id))) == 0 ||
	    n > HOOK_MEDIA_ID_MAX || strcspn(id, "\"\\ ") != n)
		abort();
	check_json(hook_file_body(id));
}

static void
check_attachment(const uint8_t *data, size_t len)
{
	char *s;

	if ((s = hook_image_body(data, len)) == NULL)
		return;
	if (hook_image_kind(data, len) == HOOK_IMG_NONE)
		abort();
	check_json(s);
}

static void
check_name(const char *s)
{
	char out[HOOK_FILENAME_MAX + 1];
	size_t i, n;

	hook_file_name(s, out, sizeof(out));
	if ((n = strlen(out)) == 0 || n > HOOK_FILENAME_MAX)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < ' ' || out[i] == '"' ||
		    out[i] == '\\' || out[i] == '/')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hook_answer a;
	enum hook_verdict v;
	char *s, *nl;

	if (len > FUZZER_MAXLEN)
		return 0;
	check_upload(data, len);
	check_attachment(data, len);
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
	check_name(s);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		check_body(HOOK_TEXT, s, nl + 1);
		check_body(HOOK_MARKDOWN, s, nl + 1);
	} else
		check_body(HOOK_TEXT, "@all", s);
	free(s);
	return 0;
}
