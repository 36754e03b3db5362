/*
 * Unit tests for workers/wechat/ilink_media.c (media items, aes_key in
 * both encodings, quotes, the upload URL) and ilink_cdn.c (AES-128-ECB
 * with PKCS#7 both ways, bounded; the CDN's headers), on vectors made
 * with the openssl command line; and the outbound media requests and
 * getuploadurl's answer (ilink.c, ilink_parse.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "wechat/ilink.h"
#include "wechat/ilink_media.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

/* §6.1's key, and its two wire encodings (printf %s KEY | base64, and
 * printf %s KEY | xxd -r -p | base64). */
#define KEY_HEX		"3f2a9c41d07e5b86a1c4e9f0275d8b13"
#define KEY_B64HEX	"M2YyYTljNDFkMDdlNWI4NmExYzRlOWYwMjc1ZDhiMTM="
#define KEY_B64RAW	"PyqcQdB+W4ahxOnwJ12LEw=="

static const uint8_t key[16] = {
	0x3f, 0x2a, 0x9c, 0x41, 0xd0, 0x7e, 0x5b, 0x86,
	0xa1, 0xc4, 0xe9, 0xf0, 0x27, 0x5d, 0x8b, 0x13
};

/*
 * Made with
 *   printf 'wxgate media vector: thirty-three' |
 *       openssl enc -aes-128-ecb -K 3f2a9c41d07e5b86a1c4e9f0275d8b13 \
 *       -nosalt | xxd -p -c 64
 * (33 bytes: three blocks, the last with 15 bytes of padding), and the
 * note's own: "hello", and 16 zero bytes (a whole block of padding).
 */
static const char vec33_plain[] = "wxgate media vector: thirty-three";
static const char vec33_hex[] =
    "828742b0e20869739c9f9bef20b05892d2c1d1f830ed9563e0fa2367aeedd248"
    "7ae89141d7357b5b43dbb29372c32919";
static const char hello_hex[] = "263dedd4baeba7c35edcaaad7d82ff78";
static const char zero16_hex[] =
    "ecdfa6e8b1c83f0202d7e9e05b4d214fb5265aaf3081324122d3cf7918ad059b";

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t i, n = strlen(h) / 2;
	unsigned int b;

	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(h + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

static void
test_decrypt_vectors(void **state)
{
	uint8_t buf[64], zero[16];
	size_t n, plain;

	(void)state;
	n = unhex(vec33_hex, buf);
	assert_int_equal(n, 48);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 48, 1024, &plain),
	    ILINK_CDN_OK);
	assert_int_equal(plain, 33);
	assert_memory_equal(buf, vec33_plain, 33);

	n = unhex(hello_hex, buf);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 0, 1024, &plain),
	    ILINK_CDN_OK);
	assert_int_equal(plain, 5);
	assert_memory_equal(buf, "hello", 5);

	memset(zero, 0, sizeof(zero));
	n = unhex(zero16_hex, buf);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 32, 16, &plain),
	    ILINK_CDN_OK);
	assert_int_equal(plain, 16);
	assert_memory_equal(buf, zero, 16);
}

static void
test_decrypt_refusals(void **state)
{
	uint8_t buf[64], other[16];
	size_t n, plain;

	(void)state;
	/* Larger than declared. */
	n = unhex(vec33_hex, buf);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 32, 1024, &plain),
	    ILINK_CDN_DECLARED);
	/* Not whole blocks; nothing at all. */
	n = unhex(vec33_hex, buf);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n - 1, 0, 1024, &plain),
	    ILINK_CDN_BLOCK);
	assert_int_equal(ilink_cdn_decrypt(key, buf, 0, 0, 1024, &plain),
	    ILINK_CDN_EMPTY);
	/* Over the cap: 33 bytes do not fit 32. */
	n = unhex(vec33_hex, buf);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 0, 32, &plain),
	    ILINK_CDN_CAP);
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 0, 20, &plain),
	    ILINK_CDN_CAP);
	/* A tampered last block: its padding is garbage. */
	n = unhex(vec33_hex, buf);
	buf[n - 1] ^= 0x01;
	assert_int_equal(ilink_cdn_decrypt(key, buf, n, 0, 1024, &plain),
	    ILINK_CDN_PAD);
	assert_int_equal(plain, 0);
	/* The wrong key. */
	memcpy(other, key, sizeof(other));
	other[0] ^= 0x80;
	n = unhex(hello_hex, buf);
	assert_int_equal(ilink_cdn_decrypt(other, buf, n, 0, 1024, &plain),
	    ILINK_CDN_PAD);
	/* The limits a download runs under. */
	assert_int_equal(ilink_cdn_limit(0, 100, 1), 112);
	assert_int_equal(ilink_cdn_limit(0, 96, 1), 112);
	assert_int_equal(ilink_cdn_limit(48, 100, 1), 48);
	assert_int_equal(ilink_cdn_limit(0, 100, 0), 100);
	assert_int_equal(ilink_cdn_plain(10, 0, 100), ILINK_CDN_OK);
	assert_int_equal(ilink_cdn_plain(10, 9, 100), ILINK_CDN_DECLARED);
	assert_int_equal(ilink_cdn_plain(10, 0, 9), ILINK_CDN_CAP);
	assert_int_equal(ilink_cdn_plain(0, 0, 9), ILINK_CDN_EMPTY);
}

static void
test_aes_key(void **state)
{
	enum ilink_keyenc enc;
	uint8_t k[16];

	(void)state;
	assert_int_equal(ilink_aes_key(S(KEY_B64HEX), k, &enc), 0);
	assert_int_equal(enc, ILINK_KEY_B64HEX);
	assert_memory_equal(k, key, 16);
	assert_int_equal(ilink_aes_key(S(KEY_B64RAW), k, &enc), 0);
	assert_int_equal(enc, ILINK_KEY_B64RAW);
	assert_memory_equal(k, key, 16);
	/* Neither: the bare hex, 24 bytes, 32 bytes that are not hex. */
	assert_int_equal(ilink_aes_key(S(KEY_HEX), k, &enc), -1);
	assert_int_equal(ilink_aes_key(S("YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4"),
	    k, &enc), -1);
	assert_int_equal(ilink_aes_key(S(
	    "enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6eno="), k, &enc), -1);
	/* URL-safe alphabet, missing padding, stray bits, a NUL. */
	assert_int_equal(ilink_aes_key(S("PyqcQdB-W4ahxOnwJ12LEw=="), k, &enc),
	    -1);
	assert_int_equal(ilink_aes_key(S("PyqcQdB+W4ahxOnwJ12LEw"), k, &enc),
	    -1);
	assert_int_equal(ilink_aes_key(S("PyqcQdB+W4ahxOnwJ12LEx=="), k, &enc),
	    -1);
	assert_int_equal(ilink_aes_key("PyqcQdB+\0W4ahxOnwJ12LE==", 24, k,
	    &enc), -1);
	assert_int_equal(ilink_aes_key(S(""), k, &enc), -1);
}

static void
parse(const char *json, struct ilink_mlist *m)
{
	assert_int_equal(ilink_media_parse(json, strlen(json), m), 0);
}

static void
test_items(void **state)
{
	struct ilink_mlist m;
	const char *why;
	char *u;

	(void)state;
	parse("{\"item_list\":["
	    "{\"type\":1,\"text_item\":{\"text\":\"look\"}},"
	    "{\"type\":2,\"image_item\":{\"aeskey\":\"" KEY_HEX "\","
	    "\"media\":{\"encrypt_query_param\":\"a b/c=d\","
	    "\"aes_key\":\"garbage\"},\"mid_size\":4096}},"
	    "{\"type\":4,\"file_item\":{\"media\":{\"full_url\":"
	    "\"https://novac2c.cdn.weixin.qq.com/c2c/download?x=1\","
	    "\"aes_key\":\"" KEY_B64RAW "\"},\"file_name\":\"r.pdf\","
	    "\"len\":\"33\"}},"
	    "{\"type\":3,\"voice_item\":{\"media\":{\"encrypt_query_param\":"
	    "\"q\",\"aes_key\":\"" KEY_B64HEX "\"},\"text\":\"hi\","
	    "\"size\":100}},"
	    "{\"type\":5,\"video_item\":{\"media\":{\"encrypt_query_param\":"
	    "\"v\",\"aes_key\":\"" KEY_B64HEX "\"},\"video_size\":64}}"
	    "]}", &m);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.ok, 4);
	assert_null(m.quote);
	/* The image's own hex key wins over a broken media.aes_key. */
	assert_int_equal(m.v[0].kind, ILINK_MK_IMAGE);
	assert_int_equal(m.v[0].keyenc, ILINK_KEY_HEX);
	assert_memory_equal(m.v[0].key, key, 16);
	assert_int_equal(m.v[0].limit, 4096);
	assert_null(m.v[0].name);
	u = ilink_media_url("http://127.0.0.1:9/c2c/", &m.v[0], &why);
	assert_string_equal(u, "http://127.0.0.1:9/c2c/download?"
	    "encrypted_query_param=a%20b%2Fc%3Dd");
	free(u);
	/* A file: its len is plaintext, the bound its padded size. */
	assert_int_equal(m.v[1].kind, ILINK_MK_FILE);
	assert_int_equal(m.v[1].keyenc, ILINK_KEY_B64RAW);
	assert_string_equal(m.v[1].name, "r.pdf");
	assert_int_equal(m.v[1].limit, 48);
	u = ilink_media_url("http://127.0.0.1:9/c2c", &m.v[1], &why);
	assert_string_equal(u,
	    "https://novac2c.cdn.weixin.qq.com/c2c/download?x=1");
	free(u);
	assert_int_equal(m.v[2].kind, ILINK_MK_VOICE);
	assert_int_equal(m.v[2].keyenc, ILINK_KEY_B64HEX);
	assert_int_equal(m.v[2].limit, 112);
	assert_int_equal(m.v[3].kind, ILINK_MK_VIDEO);
	assert_int_equal(m.v[3].limit, 64);
	ilink_mlist_clear(&m);
}

static void
test_item_errors(void **state)
{
	struct ilink_mlist m;
	const char *why;

	(void)state;
	parse("{\"item_list\":["
	    "{\"type\":9,\"sticker_item\":{}},"
	    "{\"type\":2,\"image_item\":{\"media\":{\"aes_key\":\""
	    KEY_B64RAW "\"}}},"
	    "{\"type\":4,\"file_item\":{\"media\":{\"encrypt_query_param\":"
	    "\"q\",\"aes_key\":\"" KEY_HEX "\"}}},"
	    "{\"type\":3,\"voice_item\":{\"media\":{\"encrypt_query_param\":"
	    "\"q\"}}},"
	    "{\"type\":5,\"video_item\":\"no\"},"
	    "{\"type\":4,\"file_item\":{\"media\":{\"encrypt_query_param\":"
	    "\"q\",\"aes_key\":\"" KEY_B64RAW "\"},\"len\":\"12x\"}},"
	    "{\"type\":2,\"image_item\":{\"media\":{\"encrypt_query_param\":"
	    "\"q\"}}},"
	    "{\"type\":2,\"image_item\":{\"media\":{\"full_url\":"
	    "\"https://evil.example/x\"}}}"
	    "]}", &m);
	assert_int_equal(m.n, 8);
	assert_int_equal(m.v[0].err, ILINK_M_TYPE);
	assert_int_equal(m.v[1].err, ILINK_M_NOURL);
	assert_int_equal(m.v[2].err, ILINK_M_KEY);
	assert_int_equal(m.v[3].err, ILINK_M_NOKEY);
	assert_int_equal(m.v[4].err, ILINK_M_SHAPE);
	assert_int_equal(m.v[5].err, ILINK_M_SHAPE);
	/* An image without a key comes in clear (§6.1). */
	assert_int_equal(m.v[6].err, ILINK_M_OK);
	assert_int_equal(m.v[6].keyenc, ILINK_KEY_NONE);
	/* §8.21: a full_url elsewhere is refused when it is used. */
	assert_int_equal(m.v[7].err, ILINK_M_OK);
	assert_null(ilink_media_url("https://novac2c.cdn.weixin.qq.com/c2c",
	    &m.v[7], &why));
	assert_string_equal(why,
	    "full_url not on the CDN host or under weixin.qq.com");
	assert_int_equal(m.ok, 2);
	assert_string_equal(ilink_merr_name(m.v[2].err),
	    "aes_key in neither encoding");
	ilink_mlist_clear(&m);
}

static void
test_too_many(void **state)
{
	struct ilink_mlist m;
	char buf[8192];
	size_t i, o;

	(void)state;
	o = (size_t)snprintf(buf, sizeof(buf), "{\"item_list\":[");
	for (i = 0; i < ILINK_ITEMS_MAX + 3; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{\"type\":"
		    "2,\"image_item\":{\"media\":{\"encrypt_query_param\":"
		    "\"q%zu\"}}}", i ? "," : "", i);
	snprintf(buf + o, sizeof(buf) - o, "]}");
	parse(buf, &m);
	assert_int_equal(m.n, ILINK_ITEMS_MAX);
	assert_int_equal(m.unread, 3);
	assert_int_equal(m.ok, IPC_PARTS_MAX);
	assert_int_equal(m.v[IPC_PARTS_MAX].err, ILINK_M_TOOMANY);
	ilink_mlist_clear(&m);
}

static void
test_quotes(void **state)
{
	struct ilink_mlist m;
	char buf[16384];
	size_t i, o;

	(void)state;
	parse("{\"item_list\":[{\"type\":1,\"text_item\":{\"text\":\"yes\"},"
	    "\"ref_msg\":{\"message_item\":{\"type\":1,\"msg_id\":1,"
	    "\"text_item\":{\"text\":\"two\\nlines\"},\"ref_msg\":{"
	    "\"title\":\"older\"}}}}]}", &m);
	assert_string_equal(m.quote, "> two\n> lines\n> > older\n");
	assert_int_equal(m.quote_err, ILINK_M_OK);
	ilink_mlist_clear(&m);
	/* A quoted photo reads as its placeholder. */
	parse("{\"item_list\":[{\"type\":1,\"text_item\":{\"text\":\"?\"},"
	    "\"ref_msg\":{\"message_item\":{\"type\":2}}}]}", &m);
	assert_string_equal(m.quote, "> [图片]\n");
	ilink_mlist_clear(&m);
	/* A quote that comes back to itself. */
	parse("{\"item_list\":[{\"type\":1,\"ref_msg\":{\"message_item\":"
	    "{\"type\":1,\"msg_id\":17504133366464211001,\"text_item\":"
	    "{\"text\":\"a\"},\"ref_msg\":{\"message_item\":{\"type\":1,"
	    "\"msg_id\":\"17504133366464211001\",\"text_item\":{\"text\":"
	    "\"a\"}}}}}}]}", &m);
	assert_null(m.quote);
	assert_int_equal(m.quote_err, ILINK_M_REFLOOP);
	ilink_mlist_clear(&m);
	/* Nested past the bound: refused, and quickly at any depth. */
	o = (size_t)snprintf(buf, sizeof(buf), "{\"item_list\":[{\"type\":1");
	for (i = 0; i < 200; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o,
		    ",\"ref_msg\":{\"message_item\":{\"type\":1");
	for (i = 0; i < 200; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "}}");
	snprintf(buf + o, sizeof(buf) - o, "}]}");
	parse(buf, &m);
	assert_null(m.quote);
	assert_int_equal(m.quote_err, ILINK_M_REFDEPTH);
	ilink_mlist_clear(&m);
}

/* ilink_parse_updates puts the quote before the text. */
static void
test_updates_quote(void **state)
{
	struct ilink_updates u;
	static const char body[] = "{\"ret\":0,\"msgs\":[{\"message_id\":5,"
	    "\"from_user_id\":\"a@im.wechat\",\"item_list\":[{\"type\":1,"
	    "\"text_item\":{\"text\":\"and this?\"},\"ref_msg\":{\"title\":"
	    "\"the plan\"}},{\"type\":2,\"image_item\":{\"media\":{"
	    "\"encrypt_query_param\":\"q\"}}}]}]}";

	(void)state;
	assert_int_equal(ilink_parse_updates(S(body), &u), ILINK_OK);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.msgs[0].text, "> the plan\nand this?");
	assert_non_null(u.msgs[0].media);
	assert_int_equal(u.msgs[0].media->ok, 1);
	ilink_updates_clear(&u);
}

static void
test_encrypt_vectors(void **state)
{
	static const struct { const char *plain; size_t len; const char *ct; }
	    v[] = {
		{ "hello", 5, hello_hex },
		{ "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, zero16_hex },
		{ vec33_plain, sizeof(vec33_plain) - 1, vec33_hex },
	};
	uint8_t buf[64], want[64];
	size_t i, n, out;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memcpy(buf, v[i].plain, v[i].len);
		n = unhex(v[i].ct, want);
		assert_int_equal(ilink_cdn_padded(v[i].len), n);
		assert_int_equal(ilink_cdn_encrypt(key, buf, v[i].len,
		    sizeof(buf), &out), ILINK_CDN_OK);
		assert_int_equal(out, n);
		assert_memory_equal(buf, want, n);
	}
	/* No room for the padding block: refused, nothing claimed. */
	assert_int_equal(ilink_cdn_encrypt(key, buf, 16, 31, &out),
	    ILINK_CDN_CAP);
	assert_int_equal(out, 0);
	assert_int_equal(ilink_cdn_padded(0), 16);
}

static void
test_md5(void **state)
{
	char hex[33];

	(void)state;
	/* §3.5's example rawfilemd5 is that of "hello". */
	assert_int_equal(ilink_cdn_md5((const uint8_t *)"hello", 5, hex), 0);
	assert_string_equal(hex, "5d41402abc4b2a76b9719d911017c592");
	assert_int_equal(ilink_cdn_md5((const uint8_t *)vec33_plain,
	    sizeof(vec33_plain) - 1, hex), 0);
	assert_string_equal(hex, "d94cc0a0dcea5fc0ddd393ebb7c85984");
}

static void
test_cdn_header(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(ilink_cdn_header(S("X-Encrypted-Param: a+b/=\r\n"),
	    "x-encrypted-param", out, sizeof(out)), 1);
	assert_string_equal(out, "a+b/=");
	assert_int_equal(ilink_cdn_header(S("x-encrypted-param:\tq \r\n"),
	    "x-encrypted-param", out, sizeof(out)), 1);
	assert_string_equal(out, "q");
	/* Another header, or a name that only starts the same. */
	assert_int_equal(ilink_cdn_header(S("Content-Length: 0\r\n"),
	    "x-encrypted-param", out, sizeof(out)), 0);
	assert_int_equal(ilink_cdn_header(S("x-encrypted-params: q\r\n"),
	    "x-encrypted-param", out, sizeof(out)), 0);
	assert_int_equal(ilink_cdn_header(S("x-encrypted-param"),
	    "x-encrypted-param", out, sizeof(out)), 0);
	/* Empty, too long for out, a control byte: refused. */
	assert_int_equal(ilink_cdn_header(S("x-encrypted-param:  \r\n"),
	    "x-encrypted-param", out, sizeof(out)), -1);
	assert_int_equal(ilink_cdn_header(S("x-encrypted-param: 12345678\r\n"),
	    "x-encrypted-param", out, sizeof(out)), -1);
	assert_int_equal(ilink_cdn_header(S("x-encrypted-param: a\x01" "b\r\n"),
	    "x-encrypted-param", out, sizeof(out)), -1);
}

static void
test_upload_url(void **state)
{
	static const char cdn[] = "https://novac2c.cdn.weixin.qq.com/c2c/";
	const char *why;
	char *u;

	(void)state;
	u = ilink_upload_url(cdn, NULL, "a+b/=", "00ff", &why);
	assert_non_null(u);
	assert_string_equal(u, "https://novac2c.cdn.weixin.qq.com/c2c/upload"
	    "?encrypted_query_param=a%2Bb%2F%3D&filekey=00ff");
	free(u);
	/* upload_full_url wins, held to the CDN's host (§8.21). */
	u = ilink_upload_url(cdn, "https://novac2c.cdn.weixin.qq.com/c2c/"
	    "upload?x=1", "p", "00ff", &why);
	assert_non_null(u);
	assert_string_equal(u, "https://novac2c.cdn.weixin.qq.com/c2c/"
	    "upload?x=1");
	free(u);
	assert_null(ilink_upload_url(cdn, "https://evil.example/upload", "p",
	    "00ff", &why));
	assert_non_null(strstr(why, "upload_full_url"));
	assert_null(ilink_upload_url(cdn, "http://novac2c.cdn.weixin.qq.com/"
	    "c2c/upload", NULL, "00ff", &why));
	assert_null(ilink_upload_url(cdn, NULL, NULL, "00ff", &why));
}

static void
test_parse_uploadurl(void **state)
{
	struct ilink_ret r;
	char *full, *param;

	(void)state;
	assert_int_equal(ilink_parse_uploadurl(S("{\"upload_full_url\":"
	    "\"https://c/u\",\"upload_param\":\"P\",\"thumb_upload_param\":"
	    "\"\"}"), &r, &full, &param), ILINK_OK);
	assert_string_equal(full, "https://c/u");
	assert_string_equal(param, "P");
	free(full);
	free(param);
	assert_int_equal(ilink_parse_uploadurl(S("{\"ret\":0,\"upload_param\":"
	    "\"P\",\"upload_full_url\":\"\"}"), &r, &full, &param), ILINK_OK);
	assert_null(full);
	assert_string_equal(param, "P");
	free(param);
	/* Neither, a wrong type, ret, -14, not JSON: nothing kept. */
	assert_int_equal(ilink_parse_uploadurl(S("{\"ret\":0}"), &r, &full,
	    &param), ILINK_E_SHAPE);
	assert_null(full);
	assert_null(param);
	assert_int_equal(ilink_parse_uploadurl(S("{\"upload_param\":7,"
	    "\"upload_full_url\":\"https://c/u\"}"), &r, &full, &param),
	    ILINK_E_SHAPE);
	assert_null(full);
	assert_int_equal(ilink_parse_uploadurl(S("{\"ret\":-1,\"errmsg\":"
	    "\"busy\",\"upload_param\":\"P\"}"), &r, &full, &param),
	    ILINK_E_RET);
	assert_int_equal(r.code, -1);
	assert_string_equal(r.errmsg, "busy");
	assert_null(param);
	assert_int_equal(ilink_parse_uploadurl(S("{\"errcode\":-14}"), &r,
	    &full, &param), ILINK_E_SESSION);
	assert_int_equal(ilink_parse_uploadurl(S("[1]"), &r, &full, &param),
	    ILINK_E_JSON);
}

static json_t *
item_of(char *body)
{
	json_t *root, *item;

	root = json_loads(body, 0, NULL);
	free(body);
	assert_non_null(root);
	item = json_array_get(json_object_get(json_object_get(root, "msg"),
	    "item_list"), 0);
	assert_non_null(item);
	json_incref(item);
	json_decref(root);
	return item;
}

static void
test_media_bodies(void **state)
{
	struct ilink_up u;
	json_t *o, *m;
	char *body;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.media_type = ILINK_UP_IMAGE;
	strcpy(u.filekey, "7d1e0c5b9a8f4e3d2c1b0a9f8e7d6c5b");
	strcpy(u.keyhex, KEY_HEX);
	strcpy(u.md5, "5d41402abc4b2a76b9719d911017c592");
	u.rawsize = 12345;
	u.filesize = ilink_cdn_padded(12345);
	/* §3.5's example, field for field. */
	body = ilink_body_uploadurl(&u, "o9@im.wechat", "wxgate/0.1");
	o = json_loads(body, 0, NULL);
	free(body);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "filekey")),
	    u.filekey);
	assert_int_equal(json_integer_value(json_object_get(o, "media_type")),
	    1);
	assert_string_equal(json_string_value(json_object_get(o,
	    "to_user_id")), "o9@im.wechat");
	assert_int_equal(json_integer_value(json_object_get(o, "rawsize")),
	    12345);
	assert_int_equal(json_integer_value(json_object_get(o, "filesize")),
	    12352);
	assert_string_equal(json_string_value(json_object_get(o,
	    "rawfilemd5")), u.md5);
	assert_true(json_is_true(json_object_get(o, "no_need_thumb")));
	assert_string_equal(json_string_value(json_object_get(o, "aeskey")),
	    KEY_HEX);
	assert_non_null(json_object_get(o, "base_info"));
	json_decref(o);

	/* §6.1: aes_key is base64 of the hex text; mid_size ciphertext. */
	o = item_of(ilink_body_send_media("o9@im.wechat", &u, "DL", "x.png",
	    "CTX", "wxgate:1-2", "wxgate/0.1"));
	assert_int_equal(json_integer_value(json_object_get(o, "type")), 2);
	m = json_object_get(json_object_get(o, "image_item"), "media");
	assert_string_equal(json_string_value(json_object_get(m,
	    "encrypt_query_param")), "DL");
	assert_string_equal(json_string_value(json_object_get(m, "aes_key")),
	    KEY_B64HEX);
	assert_int_equal(json_integer_value(json_object_get(m,
	    "encrypt_type")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "image_item"), "mid_size")), 12352);
	json_decref(o);

	/* A file: its name, and len the plaintext's size as a string. */
	u.media_type = ILINK_UP_FILE;
	o = item_of(ilink_body_send_media("o9@im.wechat", &u, "DL",
	    "report.pdf", "", "wxgate:1-3", "wxgate/0.1"));
	assert_int_equal(json_integer_value(json_object_get(o, "type")), 4);
	m = json_object_get(o, "file_item");
	assert_string_equal(json_string_value(json_object_get(m,
	    "file_name")), "report.pdf");
	assert_string_equal(json_string_value(json_object_get(m, "len")),
	    "12345");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(m, "media"), "aes_key")), KEY_B64HEX);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decrypt_vectors),
		cmocka_unit_test(test_decrypt_refusals),
		cmocka_unit_test(test_aes_key),
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_item_errors),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_updates_quote),
		cmocka_unit_test(test_encrypt_vectors),
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_cdn_header),
		cmocka_unit_test(test_upload_url),
		cmocka_unit_test(test_parse_uploadurl),
		cmocka_unit_test(test_media_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
