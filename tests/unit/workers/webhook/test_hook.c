/*
 * The webhook's wire (workers/wecom_webhook/hook_proto.c) against
 * protocols/wecom.md part B: request bodies by type and their byte
 * limits (B.3, B.7), what each errcode means (B.5), the URL and key;
 * attachments: image bodies (base64, md5 of the raw bytes, JPG/PNG by
 * magic, 2 MB), file bodies, upload_media answers (B.4) and the name
 * a multipart part carries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "wecom_webhook/hook.h"
#include "xmalloc.h"

static json_t *
body(enum hook_msgtype t, const char *target, const char *text)
{
	json_error_t err;
	json_t *o;
	char *s;

	if ((s = hook_body(t, target, text)) == NULL)
		return NULL;
	o = json_loads(s, 0, &err);
	free(s);
	assert_non_null(o);
	return o;
}

static void
test_text_and_mentions(void **state)
{
	json_t *o, *ml;

	(void)state;
	o = body(HOOK_TEXT, "group", "Deploy finished");
	assert_string_equal(json_string_value(json_object_get(o, "msgtype")),
	    "text");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "text"), "content")), "Deploy finished");
	/* No target mentions nobody: no list at all. */
	assert_null(json_object_get(json_object_get(o, "text"),
	    "mentioned_list"));
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);

	o = body(HOOK_TEXT, "@all", "all hands");
	ml = json_object_get(json_object_get(o, "text"), "mentioned_list");
	assert_int_equal(json_array_size(ml), 1);
	assert_string_equal(json_string_value(json_array_get(ml, 0)), "@all");
	json_decref(o);

	/* Empty ids between commas are skipped, not sent. */
	o = body(HOOK_TEXT, "@zhangsan,,lisi,", "you two");
	ml = json_object_get(json_object_get(o, "text"), "mentioned_list");
	assert_int_equal(json_array_size(ml), 2);
	assert_string_equal(json_string_value(json_array_get(ml, 1)), "lisi");
	json_decref(o);
}

static void
test_markdown(void **state)
{
	json_t *o;

	(void)state;
	o = body(HOOK_MARKDOWN, "@all", "## build\n>green");
	assert_string_equal(json_string_value(json_object_get(o, "msgtype")),
	    "markdown");
	/* Mentions are <@id> in markdown's own text, never a list. */
	assert_int_equal(json_object_size(json_object_get(o, "markdown")), 1);
	json_decref(o);
}

/* B.7: limits count bytes of UTF-8, not characters. */
static void
test_byte_limits(void **state)
{
	char text[HOOK_MARKDOWN_BYTES + 2];
	json_t *o;

	(void)state;
	memset(text, 'a', sizeof(text));
	text[HOOK_TEXT_BYTES] = '\0';
	assert_non_null(o = body(HOOK_TEXT, "g", text));
	json_decref(o);
	text[HOOK_TEXT_BYTES] = 'a';
	text[HOOK_TEXT_BYTES + 1] = '\0';
	assert_null(hook_body(HOOK_TEXT, "g", text));
	assert_non_null(o = body(HOOK_MARKDOWN, "g", text));
	json_decref(o);
	memset(text, 'a', sizeof(text));
	text[HOOK_MARKDOWN_BYTES] = '\0';
	assert_non_null(o = body(HOOK_MARKDOWN, "g", text));
	json_decref(o);
	text[HOOK_MARKDOWN_BYTES] = 'a';
	text[HOOK_MARKDOWN_BYTES + 1] = '\0';
	assert_null(hook_body(HOOK_MARKDOWN, "g", text));
	/* Not UTF-8, or nothing: never sent. */
	assert_null(hook_body(HOOK_TEXT, "g", "\xc3("));
	assert_null(hook_body(HOOK_TEXT, "g", ""));
}

/* B.5: each answer's meaning. */
static void
test_answers(void **state)
{
	static const struct {
		const char		*body;
		enum hook_verdict	 v;
		long long		 code;
		const char		*msg;
	} t[] = {
		{ "{\"errcode\":0,\"errmsg\":\"ok\"}", HOOK_SENT, 0, "ok" },
		{ "{\"errcode\":45009,\"errmsg\":\"api freq out of limit, "
		  "hint: [1], from ip: 203.0.113.7\"}", HOOK_RATE, 45009,
		  "api freq out of limit" },
		{ "{\"errcode\":-1,\"errmsg\":\"system busy\"}", HOOK_BUSY, -1,
		  "system busy" },
		{ "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}",
		  HOOK_REJECTED, 93000, "invalid webhook url" },
		{ "{\"errcode\":40058}", HOOK_REJECTED, 40058, "" },
		{ "{\"errmsg\":\"ok\"}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":\"0\"}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":0,\"errcode\":1}", HOOK_GARBLED, 0, "" },
		{ "<html>502</html>", HOOK_GARBLED, 0, "" },
		{ "", HOOK_GARBLED, 0, "" },
	};
	struct hook_answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(hook_parse(t[i].body, strlen(t[i].body), &a),
		    t[i].v);
		assert_int_equal(a.errcode, t[i].code);
		assert_string_equal(a.errmsg, t[i].msg);
	}
	assert_string_equal(hook_verdict_name(HOOK_RATE),
	    "rate limited (45009)");
}

static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
    '\n' };

static void
test_image_kind(void **state)
{
	static const uint8_t jpg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10 };
	static const uint8_t gif[] = "GIF89a....";
	static const uint8_t bmp[] = "BM......";

	(void)state;
	assert_int_equal(hook_image_kind(jpg, sizeof(jpg)), HOOK_IMG_JPEG);
	assert_int_equal(hook_image_kind(png_magic, 8), HOOK_IMG_PNG);
	assert_int_equal(hook_image_kind(gif, sizeof(gif) - 1),
	    HOOK_IMG_NONE);
	assert_int_equal(hook_image_kind(bmp, sizeof(bmp) - 1),
	    HOOK_IMG_NONE);
	/* Cut magic is no magic. */
	assert_int_equal(hook_image_kind(jpg, 2), HOOK_IMG_NONE);
	assert_int_equal(hook_image_kind(png_magic, 7), HOOK_IMG_NONE);
	assert_int_equal(hook_image_kind(NULL, 0), HOOK_IMG_NONE);
}

/* RFC 1321 and RFC 4648 test vectors. */
static void
test_md5_base64(void **state)
{
	static const struct {
		const char	*in;
		const char	*b64;
	} t[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char hex[33], *s;
	size_t i;

	(void)state;
	assert_int_equal(hook_md5_hex((const uint8_t *)"", 0, hex), 0);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(hook_md5_hex((const uint8_t *)"abc", 3, hex), 0);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = hook_base64((const uint8_t *)t[i].in, strlen(t[i].in));
		assert_string_equal(s, t[i].b64);
		free(s);
	}
}

static uint8_t *
png_of(size_t n)
{
	uint8_t *p = xmalloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	memcpy(p, png_magic, sizeof(png_magic));
	return p;
}

/* B.3: the image as base64, its md5 of the raw bytes, nothing else. */
static void
test_image_body(void **state)
{
	unsigned char dec[64];
	const char *b64, *md5;
	char hex[33], *s;
	json_error_t err;
	json_t *o, *im;
	uint8_t *p;
	int n;

	(void)state;
	p = png_of(40);
	s = hook_image_body(p, 40);
	assert_non_null(s);
	o = json_loads(s, 0, &err);
	free(s);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 2);
	assert_string_equal(json_string_value(json_object_get(o, "msgtype")),
	    "image");
	im = json_object_get(o, "image");
	assert_int_equal(json_object_size(im), 2);
	b64 = json_string_value(json_object_get(im, "base64"));
	md5 = json_string_value(json_object_get(im, "md5"));
	assert_non_null(b64);
	assert_non_null(md5);
	n = EVP_DecodeBlock(dec, (const unsigned char *)b64,
	    (int)strlen(b64));
	/* EVP_DecodeBlock counts padding as bytes: 40 = 13 * 3 + 1. */
	assert_int_equal(n, 42);
	assert_memory_equal(dec, p, 40);
	assert_int_equal(hook_md5_hex(p, 40, hex), 0);
	assert_string_equal(md5, hex);
	json_decref(o);
	/* Not a JPG or PNG: no image body (hook.c sends it as a file). */
	p[1] = 'X';
	assert_null(hook_image_body(p, 40));
	free(p);

	/* 2 MB is the last size that goes as an image. */
	p = png_of(HOOK_IMAGE_MAX + 1);
	assert_null(hook_image_body(p, HOOK_IMAGE_MAX + 1));
	assert_non_null(s = hook_image_body(p, HOOK_IMAGE_MAX));
	assert_true(strlen(s) > 4 * (HOOK_IMAGE_MAX / 3));
	free(s);
	free(p);
}

static void
test_file_body(void **state)
{
	json_error_t err;
	json_t *o;
	char *s, id[HOOK_MEDIA_ID_MAX + 2];

	(void)state;
	s = hook_file_body("1G6nEXAMPLEmediaId");
	assert_string_equal(s,
	    "{\"msgtype\":\"file\",\"file\":{\"media_id\":"
	    "\"1G6nEXAMPLEmediaId\"}}");
	o = json_loads(s, 0, &err);
	assert_non_null(o);
	json_decref(o);
	free(s);
	assert_null(hook_file_body(""));
	assert_null(hook_file_body("a\"b"));
	assert_null(hook_file_body("a b"));
	assert_null(hook_file_body("\xe4\xb8\xad"));
	memset(id, 'a', sizeof(id));
	id[HOOK_MEDIA_ID_MAX] = '\0';
	assert_non_null(s = hook_file_body(id));
	free(s);
	id[HOOK_MEDIA_ID_MAX] = 'a';
	id[HOOK_MEDIA_ID_MAX + 1] = '\0';
	assert_null(hook_file_body(id));
}

/* B.4: an upload's answer; ok means a media_id of a file. */
static void
test_upload_answers(void **state)
{
	static const struct {
		const char		*body;
		enum hook_verdict	 v;
		long long		 code;
		const char		*id;
	} t[] = {
		{ "{\"errcode\":0,\"errmsg\":\"ok\",\"type\":\"file\","
		  "\"media_id\":\"3a8asd892asd8asd\",\"created_at\":"
		  "\"1731000500\"}", HOOK_SENT, 0, "3a8asd892asd8asd" },
		/* type and created_at are not needed. */
		{ "{\"errcode\":0,\"media_id\":\"m-1_@x\"}", HOOK_SENT, 0,
		  "m-1_@x" },
		{ "{\"errcode\":0,\"errmsg\":\"ok\"}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":0,\"type\":\"voice\",\"media_id\":\"m\"}",
		  HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":0,\"media_id\":7}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":0,\"media_id\":\"\"}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":0,\"media_id\":\"a\\\"b\"}", HOOK_GARBLED,
		  0, "" },
		{ "{\"errcode\":0,\"media_id\":\"a\",\"media_id\":\"b\"}",
		  HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":40006,\"errmsg\":\"invalid file size\"}",
		  HOOK_REJECTED, 40006, "" },
		{ "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}",
		  HOOK_RATE, 45009, "" },
		{ "{\"errcode\":-1,\"errmsg\":\"system busy\"}", HOOK_BUSY, -1,
		  "" },
		{ "[0]", HOOK_GARBLED, 0, "" },
		{ "", HOOK_GARBLED, 0, "" },
	};
	char id[HOOK_MEDIA_ID_MAX + 1], body[HOOK_MEDIA_ID_MAX + 64];
	struct hook_answer a;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(hook_parse_upload(t[i].body,
		    strlen(t[i].body), &a, id), t[i].v);
		assert_int_equal(a.errcode, t[i].code);
		assert_string_equal(id, t[i].id);
	}
	/* An id past HOOK_MEDIA_ID_MAX is not one. */
	n = snprintf(body, sizeof(body), "{\"errcode\":0,\"media_id\":\"%0*d"
	    "\"}", HOOK_MEDIA_ID_MAX + 1, 0);
	assert_int_equal(hook_parse_upload(body, (size_t)n, &a, id),
	    HOOK_GARBLED);
	n = snprintf(body, sizeof(body), "{\"errcode\":0,\"media_id\":\"%0*d"
	    "\"}", HOOK_MEDIA_ID_MAX, 0);
	assert_int_equal(hook_parse_upload(body, (size_t)n, &a, id),
	    HOOK_SENT);
	assert_int_equal(strlen(id), HOOK_MEDIA_ID_MAX);
}

static void
test_file_name(void **state)
{
	char out[HOOK_FILENAME_MAX + 1], small[8];

	(void)state;
	hook_file_name("report.pdf", out, sizeof(out));
	assert_string_equal(out, "report.pdf");
	hook_file_name("a\"b\\c/d\r\ne\x7f.txt", out, sizeof(out));
	assert_string_equal(out, "a_b_c_d__e_.txt");
	hook_file_name("\xe6\x8a\xa5\xe5\x91\x8a.txt", out, sizeof(out));
	assert_string_equal(out, "\xe6\x8a\xa5\xe5\x91\x8a.txt");
	hook_file_name("", out, sizeof(out));
	assert_string_equal(out, "file");
	/* A cut keeps whole UTF-8 sequences: 7 bytes fit, 6 are whole. */
	hook_file_name("\xe6\x8a\xa5\xe5\x91\x8a\xe5\x91\x8a", small,
	    sizeof(small));
	assert_string_equal(small, "\xe6\x8a\xa5\xe5\x91\x8a");
	hook_file_name("abcdefghij", small, sizeof(small));
	assert_string_equal(small, "abcdefg");
}

static void
test_url_and_key(void **state)
{
	char *u;

	(void)state;
	u = hook_url("https://qyapi.weixin.qq.com/", "abc-123_X");
	assert_string_equal(u,
	    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123_X");
	free(u);
	u = hook_upload_url("http://127.0.0.1:8080", "abc-123_X");
	assert_string_equal(u, "http://127.0.0.1:8080/cgi-bin/webhook/"
	    "upload_media?key=abc-123_X&type=file");
	free(u);
	assert_true(hook_key_ok("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"));
	assert_false(hook_key_ok(""));
	assert_false(hook_key_ok("a&b=c"));
	assert_false(hook_key_ok("a b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_mentions),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_byte_limits),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_image_kind),
		cmocka_unit_test(test_md5_base64),
		cmocka_unit_test(test_image_body),
		cmocka_unit_test(test_file_body),
		cmocka_unit_test(test_upload_answers),
		cmocka_unit_test(test_file_name),
		cmocka_unit_test(test_url_and_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
