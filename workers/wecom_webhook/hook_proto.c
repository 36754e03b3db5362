/*
 * The webhook's wire (protocols/wecom.md part B), with no I/O: request
 * bodies, and what an answer means.  B.2: every answer is HTTP 200 with
 * {"errcode": N, "errmsg": "..."}; only errcode says whether the robot
 * took the message.  Attachments (B.3 image, B.4 upload_media and file)
 * are bytes in memory here: hook.c reads them and owns the transfer.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

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
	return jsonalloc_take(o);
}

/* The answer as JSON, bounded; NULL when it is not one. */
static json_t *
hook_load(const char *body, size_t len)
{
	json_error_t err;
	json_t *o;

	if (len > HOOK_BODY_MAX || (o = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, &err)) == NULL)
		return NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static enum hook_verdict
hook_verdict_of(json_t *o, struct hook_answer *a)
{
	json_t *code, *msg;
	const char *s;
	size_t n;

	code = json_object_get(o, "errcode");
	msg = json_object_get(o, "errmsg");
	if (!json_is_integer(code))
		return HOOK_GARBLED;
	a->errcode = json_integer_value(code);
	if ((s = json_string_value(msg)) != NULL) {
		/* B.5: ", hint: [...], from ip: ..." is for Tencent. */
		n = strcspn(s, ",");
		snprintf(a->errmsg, sizeof(a->errmsg), "%.*s", (int)n, s);
	}
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

enum hook_verdict
hook_parse(const char *body, size_t len, struct hook_answer *a)
{
	enum hook_verdict v;
	json_t *o;

	memset(a, 0, sizeof(*a));
	if ((o = hook_load(body, len)) == NULL)
		return HOOK_GARBLED;
	v = hook_verdict_of(o, a);
	json_decref(o);
	return v;
}

/* A media_id goes back into a JSON body: printable ASCII, no quotes. */
static int
hook_media_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > HOOK_MEDIA_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
	return 1;
}

enum hook_verdict
hook_parse_upload(const char *body, size_t len, struct hook_answer *a,
    char media_id[HOOK_MEDIA_ID_MAX + 1])
{
	enum hook_verdict v;
	const char *id, *type;
	json_t *o;

	memset(a, 0, sizeof(*a));
	media_id[0] = '\0';
	if ((o = hook_load(body, len)) == NULL)
		return HOOK_GARBLED;
	if ((v = hook_verdict_of(o, a)) == HOOK_SENT) {
		id = json_string_value(json_object_get(o, "media_id"));
		type = json_string_value(json_object_get(o, "type"));
		/* B.4: the id is for what we uploaded, a file. */
		if (id == NULL || !hook_media_id_ok(id, strlen(id)) ||
		    (type != NULL && strcmp(type, "file") != 0))
			v = HOOK_GARBLED;
		else
			memcpy(media_id, id, strlen(id) + 1);
	}
	json_decref(o);
	return v;
}

enum hook_image
hook_image_kind(const uint8_t *p, size_t n)
{
	static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };

	/* SOI, then a marker: FF D8 FF. */
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return HOOK_IMG_JPEG;
	if (n >= sizeof(png) && memcmp(p, png, sizeof(png)) == 0)
		return HOOK_IMG_PNG;
	return HOOK_IMG_NONE;
}

int
hook_md5_hex(const uint8_t *p, size_t n, char hex[2 * 16 + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;

	if (EVP_Digest(p, n, md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen != 16)
		return -1;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

char *
hook_base64(const uint8_t *p, size_t n)
{
	size_t out = 4 * ((n + 2) / 3);
	char *s;

	/* EVP_EncodeBlock counts in int; attachments are far below. */
	if (n > INT_MAX / 2)
		return NULL;
	s = xmalloc(out + 1);
	if (EVP_EncodeBlock((unsigned char *)s, p, (int)n) != (int)out) {
		free(s);
		return NULL;
	}
	s[out] = '\0';
	return s;
}

/*
 * Written out, not through jansson: base64 and hex need no escaping,
 * and a 2 MB image would otherwise be copied twice more.
 */
char *
hook_image_body(const uint8_t *p, size_t n)
{
	char md5[2 * 16 + 1], *b64, *s;

	if (n > HOOK_IMAGE_MAX || hook_image_kind(p, n) == HOOK_IMG_NONE ||
	    hook_md5_hex(p, n, md5) == -1 || (b64 = hook_base64(p, n)) == NULL)
		return NULL;
	xasprintf(&s, "{\"msgtype\":\"image\",\"image\":{\"base64\":\"%s\","
	    "\"md5\":\"%s\"}}", b64, md5);
	free(b64);
	return s;
}

void
hook_file_name(const char *name, char *out, size_t outlen)
{
	size_t i, n = strlen(name);
	unsigned char c;

	if (n > outlen - 1) {
		n = outlen - 1;
		/* Back to the lead byte of a sequence the cut splits. */
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		c = (unsigned char)name[i];
		out[i] = c < ' ' || c == 0x7f || c == '"' || c == '\\' ||
		    c == '/' ? '_' : (char)c;
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, outlen, "file");
}

char *
hook_file_body(const char *media_id)
{
	json_t *o;

	if (!hook_media_id_ok(media_id, strlen(media_id)) ||
	    (o = json_pack("{s:s, s:{s:s}}", "msgtype", "file", "file",
	    "media_id", media_id)) == NULL)
		return NULL;
	return jsonalloc_take(o);
}

int
hook_key_ok(const char *k)
{
	size_t n = strlen(k);

	return n > 0 && n <= HOOK_KEY_MAX && strspn(k,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

static char *
hook_url_of(const char *base, const char *path, const char *key,
    const char *tail)
{
	size_t n = strlen(base);
	char *u;

	/* "https://host/" and "https://host" name the same robot API. */
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n + strlen(key) > HOOK_URL_MAX)
		return NULL;
	xasprintf(&u, "%.*s/cgi-bin/webhook/%s?key=%s%s", (int)n, base, path,
	    key, tail);
	return u;
}

char *
hook_url(const char *base, const char *key)
{
	return hook_url_of(base, "send", key, "");
}

char *
hook_upload_url(const char *base, const char *key)
{
	return hook_url_of(base, "upload_media", key, "&type=file");
}
