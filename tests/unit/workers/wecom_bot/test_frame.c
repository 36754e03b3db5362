/*
 * Unit tests for workers/wecom_bot/frame.c: the frames of
 * protocols/wecom.md Part A parsed from the note's own examples (A.3,
 * A.5.3, A.5.4), the attachments a message lists and what a fetched
 * one leaves of the text, the raw control bytes of A.11, the refusals, the
 * builders checked field by field, the mention, the reply context and
 * the UTF-8 cut of A.6 #7; the upload steps of A.5.8 (their answers'
 * ids, the frames, a chunk's base64 at the full 512 KiB) and the media
 * message as an answer and as a push.
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
#include <openssl/evp.h>

#include "wecom_bot/frame.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

/* A.5.3, the first example, verbatim. */
static const char group_msg[] =
    "{\"cmd\":\"aibot_msg_callback\",\"headers\":{\"req_id\":"
    "\"Rq0x7f3a9c00example\"},\n \"body\":{\"msgid\":\"MSGID-EXAMPLE-0001\","
    "\"aibotid\":\"aibEXAMPLEbot0001\",\"chatid\":\"wrEXAMPLEgroup01\",\n"
    "  \"chattype\":\"group\",\"from\":{\"userid\":\"zhangsan\"},"
    "\"create_time\":1731000100,\n  \"response_url\":\"https://qyapi.weixin"
    ".qq.com/cgi-bin/aibot/response?response_code=EXAMPLE\",\n  \"msgtype\":"
    "\"text\",\"text\":{\"content\":\"@Helper summarise the thread\"},\n"
    "  \"quote\":{\"msgtype\":\"text\",\"text\":{\"content\":\"earlier "
    "message\"}}}}";

/* A.5.3, the second example (mixed text and image). */
static const char mixed_msg[] =
    "{\"cmd\":\"aibot_msg_callback\",\"headers\":{\"req_id\":"
    "\"Rq0x7f3a9c01example\"},\n \"body\":{\"msgid\":\"MSGID-EXAMPLE-0002\","
    "\"aibotid\":\"aibEXAMPLEbot0001\",\"chattype\":\"single\",\n  \"from\":"
    "{\"userid\":\"lisi\"},\"msgtype\":\"mixed\",\"mixed\":{\"msg_item\":[\n"
    "   {\"msgtype\":\"text\",\"text\":{\"content\":\"what is in this "
    "picture?\"}},\n   {\"msgtype\":\"image\",\"image\":{\"url\":"
    "\"https://example.invalid/enc-blob\",\"aeskey\":"
    "\"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\"}}]}}}";

static void
test_message_examples(void **state)
{
	struct wcf_in in;

	(void)state;
	assert_int_equal(wcf_parse(S(group_msg), &in), WCF_OK);
	assert_int_equal(in.kind, WCF_MSG);
	assert_string_equal(in.req_id, "Rq0x7f3a9c00example");
	assert_string_equal(in.msgid, "MSGID-EXAMPLE-0001");
	assert_string_equal(in.userid, "zhangsan");
	assert_string_equal(in.chatid, "wrEXAMPLEgroup01");
	assert_int_equal(in.group, 1);
	/* The quote first, as quoted lines; the mention stays (A.5.3). */
	assert_string_equal(in.text, "> earlier message\n\n"
	    "@Helper summarise the thread");
	assert_int_equal(in.textlen, strlen(in.text));
	wcf_in_free(&in);

	assert_int_equal(wcf_parse(S(mixed_msg), &in), WCF_OK);
	assert_int_equal(in.group, 0);
	assert_string_equal(in.chatid, "");
	assert_string_equal(in.text, "what is in this picture?\n[image]");
	/* The image is the message's own: listed, its note found. */
	assert_int_equal(in.natt, 1);
	assert_string_equal(in.att[0].kind, "image");
	assert_string_equal(in.att[0].url, "https://example.invalid/enc-blob");
	assert_string_equal(in.att[0].aeskey,
	    "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=");
	assert_null(in.att[0].name);
	assert_int_equal(in.att[0].note_off, 25);
	assert_int_equal(in.att[0].note_len, 7);
	wcf_in_free(&in);
}

#define MSG_HEAD	"{\"cmd\":\"aibot_msg_callback\",\"headers\":" \
	"{\"req_id\":\"r1\"},\"body\":{\"msgid\":\"m1\",\"chattype\":" \
	"\"single\",\"from\":{\"userid\":\"u\"},"

/*
 * A.5.3's media objects: image, file (with its name), voice (audio
 * only when a url comes), video; a quote's attachments are notes only;
 * what cannot be fetched is still listed, to fail and be counted.
 */
static void
test_attachments(void **state)
{
	struct wcf_in in;
	char many[4096];
	size_t i, n;

	(void)state;
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"file\","
	    "\"file\":{\"url\":\"http://127.0.0.1:9/f\",\"aeskey\":\"k\","
	    "\"filename\":\"a b.pdf\"},\"quote\":{\"msgtype\":\"image\","
	    "\"image\":{\"url\":\"http://127.0.0.1:9/q\",\"aeskey\":\"k\"}}}}"),
	    &in), WCF_OK);
	assert_string_equal(in.text, "> [image]\n\n[file] a b.pdf");
	assert_int_equal(in.natt, 1);
	assert_string_equal(in.att[0].kind, "file");
	assert_string_equal(in.att[0].url, "http://127.0.0.1:9/f");
	assert_string_equal(in.att[0].aeskey, "k");
	assert_string_equal(in.att[0].name, "a b.pdf");
	assert_int_equal(in.att[0].note_off, 11);
	assert_int_equal(in.att[0].note_len, 14);
	wcf_in_free(&in);

	/* Not http(s), a space, a name with a control byte: left out. */
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"file\","
	    "\"file\":{\"url\":\"file:///etc/passwd\",\"filename\":"
	    "\"a\\tb\"}}}"), &in), WCF_OK);
	assert_int_equal(in.natt, 1);
	assert_null(in.att[0].url);
	assert_null(in.att[0].name);
	assert_string_equal(in.att[0].aeskey, "");
	wcf_in_free(&in);
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"video\","
	    "\"video\":{\"url\":\"https://x/a b\"}}}"), &in), WCF_OK);
	assert_int_equal(in.natt, 1);
	assert_string_equal(in.att[0].kind, "video");
	assert_null(in.att[0].url);
	wcf_in_free(&in);

	/* Voice: the transcript; a part only when audio is named. */
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"voice\","
	    "\"voice\":{\"content\":\"hi\"}}}"), &in), WCF_OK);
	assert_int_equal(in.natt, 0);
	wcf_in_free(&in);
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"voice\","
	    "\"voice\":{\"content\":\"hi\",\"url\":\"https://x/v\","
	    "\"aeskey\":\"k\"}}}"), &in), WCF_OK);
	assert_string_equal(in.text, "hi");
	assert_int_equal(in.natt, 1);
	assert_string_equal(in.att[0].kind, "voice");
	assert_int_equal(in.att[0].note_len, 0);
	wcf_in_free(&in);

	/* More images than one inbound.media carries: counted over. */
	n = (size_t)snprintf(many, sizeof(many), "%s", MSG_HEAD
	    "\"msgtype\":\"mixed\",\"mixed\":{\"msg_item\":[");
	for (i = 0; i < WCF_ATT_MAX + 2; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s{\"msgtype\":"
		    "\"image\",\"image\":{\"url\":\"https://x/%zu\"}}",
		    i > 0 ? "," : "", i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "]}}}");
	assert_int_equal(wcf_parse(many, n, &in), WCF_OK);
	assert_int_equal(in.natt, WCF_ATT_MAX);
	assert_int_equal(in.att_over, 2);
	assert_string_equal(in.att[7].url, "https://x/7");
	assert_int_equal(in.att[7].note_off, 7 * 8);
	wcf_in_free(&in);
	assert_int_equal(in.natt, 0);
}

/* What a fetched part leaves of the text, and what a failed one. */
static void
test_notes_drop(void **state)
{
	struct wcf_in in;
	size_t len;

	(void)state;
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"mixed\","
	    "\"mixed\":{\"msg_item\":[{\"msgtype\":\"image\",\"image\":{}},"
	    "{\"msgtype\":\"text\",\"text\":{\"content\":\"look\"}},"
	    "{\"msgtype\":\"image\",\"image\":{}},"
	    "{\"msgtype\":\"image\",\"image\":{}}]}}}"), &in), WCF_OK);
	assert_string_equal(in.text, "[image]\nlook\n[image]\n[image]");
	assert_int_equal(in.natt, 3);
	/* None fetched: all stay. */
	len = in.textlen;
	wcf_notes_drop(in.text, &len, in.att, in.natt);
	assert_int_equal(len, in.textlen);
	/* The first and the last: their line breaks go with them. */
	in.att[0].ok = in.att[2].ok = 1;
	wcf_notes_drop(in.text, &len, in.att, in.natt);
	assert_string_equal(in.text, "look\n[image]");
	assert_int_equal(len, strlen(in.text));
	wcf_in_free(&in);

	/* A photo alone, fetched: the text is empty, the part says it. */
	assert_int_equal(wcf_parse(S(MSG_HEAD "\"msgtype\":\"image\","
	    "\"image\":{}}}"), &in), WCF_OK);
	in.att[0].ok = 1;
	len = in.textlen;
	wcf_notes_drop(in.text, &len, in.att, in.natt);
	assert_int_equal(len, 0);
	assert_string_equal(in.text, "");
	wcf_in_free(&in);

	/* A span past the text (a caller's slip) is left alone. */
	{
		char t[] = "ab";
		struct wcf_att a;

		memset(&a, 0, sizeof(a));
		a.ok = 1;
		a.note_off = 1;
		a.note_len = 5;
		len = 2;
		wcf_notes_drop(t, &len, &a, 1);
		assert_int_equal(len, 2);
		assert_string_equal(t, "ab");
	}
}

static void
test_event_and_ack(void **state)
{
	struct wcf_in in;
	static const char ev[] =
	    "{\"cmd\":\"aibot_event_callback\",\"headers\":{\"req_id\":"
	    "\"Rq0x7f3a9c04example\"},\n \"body\":{\"msgid\":"
	    "\"MSGID-EXAMPLE-0004\",\"create_time\":1731000250,\"aibotid\":"
	    "\"aibEXAMPLEbot0001\",\n  \"from\":{\"userid\":\"lisi\"},"
	    "\"msgtype\":\"event\",\"event\":{\"eventtype\":"
	    "\"disconnected_event\"}}}";
	static const char ack[] = "{\"headers\":{\"req_id\":"
	    "\"aibot_send_msg_1731000000000_3fa9c1d2\"},\"errcode\":0,"
	    "\"errmsg\":\"ok\"}";
	static const char err[] = "{\"headers\":{\"req_id\":\"x\"},"
	    "\"errcode\":846605,\"errmsg\":\"invalid req_id hint: [x]\"}";

	(void)state;
	assert_int_equal(wcf_parse(S(ev), &in), WCF_OK);
	assert_int_equal(in.kind, WCF_EVENT);
	assert_string_equal(in.eventtype, "disconnected_event");
	assert_null(in.text);
	assert_int_equal(wcf_parse(S(ack), &in), WCF_OK);
	assert_int_equal(in.kind, WCF_ACK);
	assert_string_equal(in.req_id, "aibot_send_msg_1731000000000_3fa9c1d2");
	assert_int_equal(in.errcode, 0);
	/* The number decides, never the text (A.8). */
	assert_int_equal(wcf_parse(S(err), &in), WCF_OK);
	assert_int_equal(in.errcode, WCF_ERR_REQ_ID);
	assert_int_equal(wcf_parse(S("{\"cmd\":\"aibot_future\",\"headers\":"
	    "{\"req_id\":\"r\"}}"), &in), WCF_OK);
	assert_int_equal(in.kind, WCF_UNKNOWN);
	assert_string_equal(in.cmd, "aibot_future");
}

/*
 * A.11: raw 0x00-0x08 and 0x0b-0x1f in strings go; tab and LF stay
 * (JSON allows them between tokens only).
 */
static void
test_control_bytes(void **state)
{
	static const char raw[] = "{\"cmd\":\"aibot_msg_callback\",\"headers\":"
	    "{\"req_id\":\"r1\"},\"body\":{\"msgid\":\"m1\",\"chattype\":"
	    "\"single\",\"from\":{\"userid\":\"u\"},\"msgtype\":\"voice\",\t\n"
	    "\"voice\":{\"content\":\"a\x01\x1f\rb\\nc\"}}}";
	struct wcf_in in;

	(void)state;
	assert_int_equal(wcf_parse(raw, sizeof(raw) - 1, &in), WCF_OK);
	assert_string_equal(in.text, "ab\nc");
	wcf_in_free(&in);
	/* A NUL byte too: it is one of them. */
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"a\0b\"}}"),
	    &in), WCF_OK);
	assert_string_equal(in.req_id, "ab");
}

static void
test_refusals(void **state)
{
	struct wcf_in in;
	char *big;
	size_t n;

	(void)state;
	assert_int_equal(wcf_parse(S("not json"), &in), WCF_E_JSON);
	assert_int_equal(wcf_parse(S("[1]"), &in), WCF_E_JSON);
	assert_int_equal(wcf_parse(S("{}"), &in), WCF_E_SHAPE);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"a\","
	    "\"req_id\":\"b\"}}"), &in), WCF_E_JSON);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"\"}}"), &in),
	    WCF_E_ID);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"a b\"}}"),
	    &in), WCF_E_ID);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"a\"},"
	    "\"errcode\":\"0\"}"), &in), WCF_E_SHAPE);
	/* A group message without its chat cannot be answered. */
	assert_int_equal(wcf_parse(S("{\"cmd\":\"aibot_msg_callback\","
	    "\"headers\":{\"req_id\":\"r\"},\"body\":{\"msgid\":\"m\","
	    "\"chattype\":\"group\",\"from\":{\"userid\":\"u\"},\"msgtype\":"
	    "\"text\",\"text\":{\"content\":\"x\"}}}"), &in), WCF_E_SHAPE);
	/* An unknown message type is refused, not guessed at. */
	assert_int_equal(wcf_parse(S("{\"cmd\":\"aibot_msg_callback\","
	    "\"headers\":{\"req_id\":\"r\"},\"body\":{\"msgid\":\"m\","
	    "\"from\":{\"userid\":\"u\"},\"msgtype\":\"hologram\"}}"), &in),
	    WCF_E_SHAPE);
	/* Text past WCF_TEXT_MAX, and a frame past WCF_FRAME_MAX. */
	big = malloc(WCF_FRAME_MAX + 2);
	n = (size_t)snprintf(big, WCF_FRAME_MAX, "{\"cmd\":"
	    "\"aibot_msg_callback\",\"headers\":{\"req_id\":\"r\"},\"body\":"
	    "{\"msgid\":\"m\",\"from\":{\"userid\":\"u\"},\"msgtype\":\"text\","
	    "\"text\":{\"content\":\"");
	memset(big + n, 'A', WCF_TEXT_MAX + 1);
	n += WCF_TEXT_MAX + 1;
	memcpy(big + n, "\"}}}", 4);
	assert_int_equal(wcf_parse(big, n + 4, &in), WCF_E_BIG);
	assert_int_equal(wcf_parse(big, WCF_FRAME_MAX + 1, &in), WCF_E_BIG);
	free(big);
}

/* Each builder's frame, read back field by field. */
static json_t *
load(char *s)
{
	json_t *j;

	assert_non_null(s);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	free(s);
	return j;
}

static const char *
str(json_t *j, const char *path)
{
	json_t *v = json_object_get(j, path);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
test_builders(void **state)
{
	json_t *j, *b, *st;

	(void)state;
	j = load(wcf_subscribe("aibot_subscribe_1_0a1b2c3d", "aibX", "s3"));
	assert_string_equal(str(j, "cmd"), "aibot_subscribe");
	assert_string_equal(str(json_object_get(j, "headers"), "req_id"),
	    "aibot_subscribe_1_0a1b2c3d");
	b = json_object_get(j, "body");
	/* "secret", not "bot_secret" (A.5.1). */
	assert_string_equal(str(b, "bot_id"), "aibX");
	assert_string_equal(str(b, "secret"), "s3");
	assert_int_equal(json_object_size(b), 2);
	json_decref(j);

	j = load(wcf_ping("ping_1_9e8d7c6b"));
	assert_string_equal(str(j, "cmd"), "ping");
	assert_null(json_object_get(j, "body"));
	json_decref(j);

	j = load(wcf_stream("Rq1", "stream_1_ab12cd34", S("partial"), 0));
	assert_string_equal(str(j, "cmd"), "aibot_respond_msg");
	assert_string_equal(str(json_object_get(j, "headers"), "req_id"),
	    "Rq1");
	b = json_object_get(j, "body");
	assert_string_equal(str(b, "msgtype"), "stream");
	st = json_object_get(b, "stream");
	assert_string_equal(str(st, "id"), "stream_1_ab12cd34");
	assert_string_equal(str(st, "content"), "partial");
	assert_true(json_is_false(json_object_get(st, "finish")));
	json_decref(j);

	j = load(wcf_welcome("Rq2", "Hi"));
	assert_string_equal(str(j, "cmd"), "aibot_respond_welcome_msg");
	b = json_object_get(j, "body");
	assert_string_equal(str(b, "msgtype"), "text");
	assert_string_equal(str(json_object_get(b, "text"), "content"), "Hi");
	json_decref(j);

	/* markdown, never text (40008); chat_type 2 for a group. */
	j = load(wcf_markdown("aibot_send_msg_1_55ee66ff", "wrG", 1,
	    S("**x**")));
	assert_string_equal(str(j, "cmd"), "aibot_send_msg");
	b = json_object_get(j, "body");
	assert_string_equal(str(b, "chatid"), "wrG");
	assert_int_equal(json_integer_value(json_object_get(b, "chat_type")),
	    2);
	assert_string_equal(str(b, "msgtype"), "markdown");
	assert_string_equal(str(json_object_get(b, "markdown"), "content"),
	    "**x**");
	json_decref(j);

	/* A push the bot starts does not know the chat's type: none. */
	j = load(wcf_markdown("aibot_send_msg_2_55ee66ff", "zhangsan", -1,
	    S("hi")));
	b = json_object_get(j, "body");
	assert_string_equal(str(b, "chatid"), "zhangsan");
	assert_null(json_object_get(b, "chat_type"));
	json_decref(j);

	/* Refused: bad ids, content over 20480 bytes. */
	assert_null(wcf_ping("a b"));
	assert_null(wcf_stream("", "s", S("x"), 1));
	assert_null(wcf_stream("r", "s", "x", WCF_CONTENT_MAX + 1, 1));
	assert_null(wcf_markdown("r", "", 0, S("x")));
}

/* A.5.8's answers: the example of finish, an init's upload_id. */
static void
test_upload_acks(void **state)
{
	struct wcf_in in;
	char big[WCF_MEDIA_ID_MAX + 200];
	int n;
	static const char fin[] = "{\"headers\":{\"req_id\":"
	    "\"aibot_upload_media_finish_1731000301500_33cc44dd\"},"
	    "\"errcode\":0,\"errmsg\":\"ok\",\n \"body\":{\"type\":\"file\","
	    "\"media_id\":\"3EXAMPLEmediaIdxxxxxxxx\",\"created_at\":"
	    "\"1731000301\"}}";

	(void)state;
	assert_int_equal(wcf_parse(S(fin), &in), WCF_OK);
	assert_int_equal(in.kind, WCF_ACK);
	assert_string_equal(in.media_id, "3EXAMPLEmediaIdxxxxxxxx");
	assert_string_equal(in.upload_id, "");
	/* created_at as a number too (A.12). */
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"i\"},"
	    "\"errcode\":0,\"body\":{\"upload_id\":\"UP-1\",\"created_at\":"
	    "1731000301}}"), &in), WCF_OK);
	assert_string_equal(in.upload_id, "UP-1");
	assert_string_equal(in.media_id, "");
	/* A null body is none; an ack without one has no ids. */
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"i\"},"
	    "\"errcode\":0,\"body\":null}"), &in), WCF_OK);
	assert_string_equal(in.upload_id, "");
	/* Refused: a body not an object, ids of the wrong type or shape. */
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"i\"},"
	    "\"body\":[1]}"), &in), WCF_E_SHAPE);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"i\"},"
	    "\"body\":{\"upload_id\":7}}"), &in), WCF_E_SHAPE);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"i\"},"
	    "\"body\":{\"media_id\":\"a b\"}}"), &in), WCF_E_ID);
	assert_int_equal(wcf_parse(S("{\"headers\":{\"req_id\":\"i\"},"
	    "\"body\":{\"media_id\":\"\"}}"), &in), WCF_E_ID);
	n = snprintf(big, sizeof(big), "{\"headers\":{\"req_id\":\"i\"},"
	    "\"body\":{\"upload_id\":\"%0*d\"}}", WCF_MEDIA_ID_MAX + 1, 1);
	assert_int_equal(wcf_parse(big, (size_t)n, &in), WCF_E_ID);
	n = snprintf(big, sizeof(big), "{\"headers\":{\"req_id\":\"i\"},"
	    "\"body\":{\"upload_id\":\"%0*d\"}}", WCF_MEDIA_ID_MAX, 1);
	assert_int_equal(wcf_parse(big, (size_t)n, &in), WCF_OK);
	assert_int_equal(strlen(in.upload_id), WCF_MEDIA_ID_MAX);
}

static void
test_upload_builders(void **state)
{
	static const char md5[] = "0123456789abcdef0123456789abcdef";
	json_t *j, *b, *m;
	uint8_t *raw;
	unsigned char *dec;
	size_t i, len;
	int n;

	(void)state;
	/* A.5.8's init example, field by field. */
	j = load(wcf_upload_init("aibot_upload_media_init_1_11aa22bb", "file",
	    "report.pdf", 1200000, 3, md5));
	assert_string_equal(str(j, "cmd"), "aibot_upload_media_init");
	b = json_object_get(j, "body");
	assert_int_equal(json_object_size(b), 5);
	assert_string_equal(str(b, "type"), "file");
	assert_string_equal(str(b, "filename"), "report.pdf");
	assert_int_equal(json_integer_value(json_object_get(b, "total_size")),
	    1200000);
	assert_int_equal(json_integer_value(json_object_get(b,
	    "total_chunks")), 3);
	assert_string_equal(str(b, "md5"), md5);
	json_decref(j);
	/* More bytes than the chunks hold, no chunks, too many: none. */
	assert_null(wcf_upload_init("r", "file", "x", 3 * WCF_CHUNK_MAX + 1,
	    3, md5));
	assert_null(wcf_upload_init("r", "file", "x", 1, 0, md5));
	assert_null(wcf_upload_init("r", "file", "x", 1, WCF_CHUNKS_MAX + 1,
	    md5));
	assert_null(wcf_upload_init("r", "file", "x", 0, 1, md5));
	assert_null(wcf_upload_init("r", "file", "", 1, 1, md5));

	/* A whole chunk: standard base64 of 512 KiB, a number index. */
	len = WCF_CHUNK_MAX;
	raw = malloc(len);
	for (i = 0; i < len; i++)
		raw[i] = (uint8_t)(i * 31 + 7);
	j = load(wcf_upload_chunk("aibot_upload_media_chunk_1_0", "UP-1", 2,
	    raw, len));
	assert_string_equal(str(j, "cmd"), "aibot_upload_media_chunk");
	b = json_object_get(j, "body");
	assert_int_equal(json_object_size(b), 3);
	assert_string_equal(str(b, "upload_id"), "UP-1");
	assert_true(json_is_integer(json_object_get(b, "chunk_index")));
	assert_int_equal(json_integer_value(json_object_get(b,
	    "chunk_index")), 2);
	dec = malloc(len + 3);
	n = EVP_DecodeBlock(dec, (const unsigned char *)str(b, "base64_data"),
	    (int)strlen(str(b, "base64_data")));
	/* 512 KiB is not a multiple of 3: one '=' counted as a byte. */
	assert_int_equal(n, (int)len + 1);
	assert_memory_equal(dec, raw, len);
	free(dec);
	json_decref(j);
	assert_null(wcf_upload_chunk("r", "UP-1", 0, raw, len + 1));
	assert_null(wcf_upload_chunk("r", "UP-1", 0, raw, 0));
	assert_null(wcf_upload_chunk("r", "", 0, raw, 1));
	assert_null(wcf_upload_chunk("r", "UP-1", WCF_CHUNKS_MAX, raw, 1));
	free(raw);

	j = load(wcf_upload_finish("aibot_upload_media_finish_1_0", "UP-1"));
	assert_string_equal(str(j, "cmd"), "aibot_upload_media_finish");
	assert_string_equal(str(json_object_get(j, "body"), "upload_id"),
	    "UP-1");
	json_decref(j);

	/* The answer to a message: its req_id, no chat (A.5.5). */
	j = load(wcf_media("Rq1", NULL, 0, "image", "MID"));
	assert_string_equal(str(j, "cmd"), "aibot_respond_msg");
	assert_string_equal(str(json_object_get(j, "headers"), "req_id"),
	    "Rq1");
	b = json_object_get(j, "body");
	assert_int_equal(json_object_size(b), 2);
	assert_string_equal(str(b, "msgtype"), "image");
	assert_string_equal(str(json_object_get(b, "image"), "media_id"),
	    "MID");
	json_decref(j);
	/* A push (A.5.9): a group's chat_type 2, or none when unknown. */
	j = load(wcf_media("aibot_send_msg_1_0", "wrG", 1, "file", "MID"));
	assert_string_equal(str(j, "cmd"), "aibot_send_msg");
	b = json_object_get(j, "body");
	assert_string_equal(str(b, "chatid"), "wrG");
	assert_int_equal(json_integer_value(json_object_get(b, "chat_type")),
	    2);
	assert_string_equal(str(b, "msgtype"), "file");
	m = json_object_get(b, "file");
	assert_string_equal(str(m, "media_id"), "MID");
	json_decref(j);
	j = load(wcf_media("aibot_send_msg_2_0", "zhangsan", -1, "file",
	    "MID"));
	assert_null(json_object_get(json_object_get(j, "body"), "chat_type"));
	json_decref(j);
	assert_null(wcf_media("r", NULL, 0, "voice", "MID"));
	assert_null(wcf_media("r", "u", 0, "file", ""));
	assert_null(wcf_media("r", "a b", 0, "file", "MID"));
}

static void
test_mention(void **state)
{
	char t[64];
	size_t len;

	(void)state;
	snprintf(t, sizeof(t), "@Helper summarise");
	len = strlen(t);
	assert_int_equal(wcf_mention(t, &len, "Helper"), 1);
	assert_string_equal(t, "summarise");
	assert_int_equal(len, 9);
	snprintf(t, sizeof(t), "hey @Helper");
	len = strlen(t);
	assert_int_equal(wcf_mention(t, &len, "Helper"), 1);
	assert_string_equal(t, "hey ");
	snprintf(t, sizeof(t), "no mention");
	len = strlen(t);
	assert_int_equal(wcf_mention(t, &len, "Helper"), 0);
	assert_string_equal(t, "no mention");
	/* No name configured: WeCom sends groups only mentions. */
	assert_int_equal(wcf_mention(t, &len, ""), 1);
}

static void
test_ctx(void **state)
{
	char ctx[WCF_CTX_MAX], req[WCF_ID_MAX + 1], chat[WCF_ID_MAX + 1];
	int group;

	(void)state;
	assert_int_equal(wcf_ctx_encode(ctx, sizeof(ctx), "Rq0x1", "wrG", 1),
	    0);
	assert_string_equal(ctx, "2 wrG Rq0x1");
	assert_int_equal(wcf_ctx_decode(ctx, strlen(ctx), req, chat, &group),
	    0);
	assert_string_equal(req, "Rq0x1");
	assert_string_equal(chat, "wrG");
	assert_int_equal(group, 1);
	assert_int_equal(wcf_ctx_decode(S("1 lisi"), req, chat, &group), -1);
	assert_int_equal(wcf_ctx_decode(S("3 a b"), req, chat, &group), -1);
	assert_int_equal(wcf_ctx_decode(S("1 a b c"), req, chat, &group), -1);
	assert_int_equal(wcf_ctx_encode(ctx, sizeof(ctx), "a b", "c", 0), -1);
}

/* A.6 #7: cut on a character boundary, never inside one. */
static void
test_utf8_cut(void **state)
{
	static const char s[] = "ab\xe4\xbd\xa0\xe5\xa5\xbd";	/* ab你好 */

	(void)state;
	assert_int_equal(wcf_utf8_cut(S(s), 100), 8);
	assert_int_equal(wcf_utf8_cut(S(s), 8), 8);
	assert_int_equal(wcf_utf8_cut(S(s), 7), 5);
	assert_int_equal(wcf_utf8_cut(S(s), 5), 5);
	assert_int_equal(wcf_utf8_cut(S(s), 4), 2);
	assert_int_equal(wcf_utf8_cut(S(s), 2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_examples),
		cmocka_unit_test(test_attachments),
		cmocka_unit_test(test_notes_drop),
		cmocka_unit_test(test_event_and_ack),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_upload_acks),
		cmocka_unit_test(test_upload_builders),
		cmocka_unit_test(test_mention),
		cmocka_unit_test(test_ctx),
		cmocka_unit_test(test_utf8_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
