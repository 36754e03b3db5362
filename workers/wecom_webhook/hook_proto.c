/*
 * The webhook's wire (protocols/wecom.md part B), with no I/O: request
 * bodies, and what an answer means.  B.2: every answer is HTTP 200 with
 * {"errcode": N, "errmsg": "..."}; only errcode says whether the robot
 * took the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hook.h"
#include "xmalloc.h"

/* Mentioned user ids per message, and the length of one. */
#define HOOK_MENTIONS_MAX	32
#define HOOK_USERID_MAX		64
#define HOOK_URL_MAX		1024

static const char *const verdict_names[] = {
	[HOOK_SENT] = "sent",
	[HOOK_RATE] = "rate limited (45009)",
	[HOOK_BUSY] = "system busy (-1)",
	[HOOK_REJECTED] = "rejected",
	[HOOK_GARBLED] = "no errcode in the answer",
};

const char *
hook_verdict_name(enum hook_verdict v)
{
	return verdict_names[v];
}

/* "@all" or "@id,id,...": text.mentioned_list; NULL for anything else. */
static json_t *
hook_mentions(const char *target)
{
	char id[HOOK_USERID_MAX + 1];
	const char *p, *e;
	json_t *a;
	size_t n;

	if (target[0] != '@' || target[1] == '\0')
		return NULL;
	a = json_array();
	if (strcmp(target, "@all") == 0) {
		json_array_append_new(a, json_string("@all"));
		return a;
	}
	for (p = target + 1; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		if (n == 0 || n > HOOK_USERID_MAX ||
		    json_array_size(a) == HOOK_MENTIONS_MAX)
			continue;
		memcpy(id, p, n);
		id[n] = '\0';
		/* json_string refuses what is not UTF-8: no mention then. */
		json_array_append_new(a, json_string(id));
	}
	return a;
}

char *
hook_body(enum hook_msgtype t, const char *target, const char *text)
{
	size_t len = strlen(text);
	json_t *o, *m, *c;
	char *s;

	if (len == 0 || len > (t == HOOK_TEXT ? HOOK_TEXT_BYTES :
	    HOOK_MARKDOWN_BYTES) || (c = json_string(text)) == NULL)
		return NULL;
	m = json_object();
	json_object_set_new(m, "content", c);
	if (t == HOOK_TEXT) {
		if ((c = hook_mentions(target)) != NULL)
			json_object_set_new(m, "mentioned_list", c);
		o = json_pack("{s:s, s:o}", "msgtype", "text", "text", m);
	} else
		o = json_pack("{s:s, s:o}", "msgtype", "markdown",
		    "markdown", m);
	if (o == NULL)
		return NULL;
	s = jsonalloc_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

enum hook_verdict
hook_parse(const char *body, size_t len, struct hook_answer *a)
{
	json_t *o, *code, *msg;
	json_error_t err;
	const char *s;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (len > HOOK_BODY_MAX || (o = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, &err)) == NULL)
		return HOOK_GARBLED;
	code = json_object_get(o, "errcode");
	msg = json_object_get(o, "errmsg");
	if (!json_is_integer(code)) {
		json_decref(o);
		return HOOK_GARBLED;
	}
	a->errcode = json_integer_value(code);
	if ((s = json_string_value(msg)) != NULL) {
		/* B.5: ", hint: [...], from ip: ..." is for Tencent. */
		n = strcspn(s, ",");
		snprintf(a->errmsg, sizeof(a->errmsg), "%.*s", (int)n, s);
	}
	json_decref(o);
	switch (a->errcode) {
	case 0:
		return HOOK_SENT;
	case 45009:
		return HOOK_RATE;
	case -1:
		return HOOK_BUSY;
	default:
		return HOOK_REJECTED;
	}
}

int
hook_key_ok(const char *k)
{
	size_t n = strlen(k);

	return n > 0 && n <= HOOK_KEY_MAX && strspn(k,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

char *
hook_url(const char *base, const char *key)
{
	size_t n = strlen(base);
	char *u;

	/* "https://host/" and "https://host" name the same robot API. */
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n + strlen(key) > HOOK_URL_MAX)
		return NULL;
	xasprintf(&u, "%.*s/cgi-bin/webhook/send?key=%s", (int)n, base, key);
	return u;
}
