/*
 * Unit tests for ipc/codec.c and its two forms: round trips for every
 * body shape, and the strict rejections of STYLE.md section 4
 * (unknown/missing/repeated keys, wrong types, over-long strings, bad
 * UTF-8, trailing bytes) in msgpack (codec_mp.c); in the fixed binary
 * form of the parent's messages (codec_bin.c) every type round-trips,
 * every field breaks every way it can, and the bytes are pinned.  Each
 * type is refused in the other form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "codec.h"
#include "codec_int.h"

static uint8_t	buf[IPC_FRAME_MAX];

/* Hand-made frames, to say things the encoder refuses to say. */
struct raw {
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
};

static void
raw_begin(struct raw *r, uint64_t type, uint32_t nkeys)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
	msgpack_pack_array(&r->pk, 3);
	msgpack_pack_uint64(&r->pk, type);
	msgpack_pack_uint64(&r->pk, 7);
	msgpack_pack_map(&r->pk, nkeys);
}

static void
raw_str(struct raw *r, const char *s, size_t len)
{
	msgpack_pack_str(&r->pk, len);
	msgpack_pack_str_body(&r->pk, s, len);
}

static void
raw_key(struct raw *r, const char *k)
{
	raw_str(r, k, strlen(k));
}

static enum ipc_err
raw_decode(struct raw *r, struct ipc_msg *m)
{
	enum ipc_err e;

	e = ipc_decode((const uint8_t *)r->sb.data, r->sb.size, m);
	return e;
}

static void
test_roundtrip_chat_send(void **state)
{
	struct ipc_body_chat_send b = { 42, IPC_S("u-9f2"), IPC_S("hi 你好") };
	struct ipc_msg m;
	size_t len;

	(void)state;
	len = ipc_encode(IPC_CHAT_SEND, 17, &b, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.type, IPC_CHAT_SEND);
	assert_int_equal(m.req_id, 17);
	assert_int_equal(m.fd, -1);
	assert_int_equal(m.b.chat_send.conn, 42);
	assert_true(ipc_streq(m.b.chat_send.client_msg_id, "u-9f2"));
	assert_true(ipc_streq(m.b.chat_send.text, "hi 你好"));
	/* Borrowed: the string points into the frame buffer. */
	assert_true((const uint8_t *)m.b.chat_send.text.p > buf &&
	    (const uint8_t *)m.b.chat_send.text.p < buf + len);
}

/*
 * An optional string left out is {NULL, 0}: it encodes as "" (found by
 * UBSan in the webchat worker: memcpy from NULL).
 */
static void
test_roundtrip_null_string(void **state)
{
	struct ipc_body_share_open b = { 7, IPC_S("::1"), IPC_S("ab12"),
	    { NULL, 0 } };
	struct ipc_msg m;
	size_t len;

	(void)state;
	len = ipc_encode(IPC_SHARE_OPEN, 3, &b, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.share_open.visitor.len, 0);
	assert_true(ipc_streq(m.b.share_open.token, "ab12"));
}

static void
test_roundtrip_turns_and_bool(void **state)
{
	static struct ipc_body_agent_request b;
	struct ipc_body_chat_done d = { 1, IPC_S("c"), IPC_S(""), 1, 0 };
	struct ipc_msg m;
	size_t len, i;

	(void)state;
	b.session = 99;
	b.turns.n = IPC_TURNS_MAX;
	for (i = 0; i < b.turns.n; i++) {
		b.turns.v[i].role = i % 2 ? IPC_S("assistant") : IPC_S("user");
		b.turns.v[i].text = IPC_S("t");
	}
	len = ipc_encode(IPC_AGENT_REQUEST, 5, &b, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.agent_request.turns.n, IPC_TURNS_MAX);
	assert_true(ipc_streq(m.b.agent_request.turns.v[1].role, "assistant"));

	len = ipc_encode(IPC_CHAT_DONE, 0, &d, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.chat_done.replayed, 1);
	assert_int_equal(m.b.chat_done.aborted, 0);
	assert_int_equal(m.b.chat_done.text.len, 0);

	d.replayed = 0;
	d.aborted = 1;
	len = ipc_encode(IPC_CHAT_DONE, 0, &d, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.chat_done.replayed, 0);
	assert_int_equal(m.b.chat_done.aborted, 1);
}

/* inbound.media: [kind, name, size] parts, bounded, never size 0. */
static void
raw_media(struct raw *r, uint32_t nparts, uint32_t width, uint64_t size,
    const char *kind)
{
	uint32_t i;

	raw_begin(r, IPC_INBOUND_MEDIA, 7);
	raw_key(r, "peer");
	raw_key(r, "p");
	raw_key(r, "msg_id");
	raw_key(r, "m");
	raw_key(r, "text");
	raw_key(r, "");
	raw_key(r, "group");
	raw_key(r, "");
	raw_key(r, "mentioned");
	msgpack_pack_false(&r->pk);
	raw_key(r, "reply_ctx");
	raw_key(r, "");
	raw_key(r, "parts");
	msgpack_pack_array(&r->pk, nparts);
	for (i = 0; i < nparts; i++) {
		msgpack_pack_array(&r->pk, width);
		raw_key(r, kind);
		raw_key(r, "a.jpg");
		if (width > 2)
			msgpack_pack_uint64(&r->pk, size);
	}
}

static void
test_inbound_media_parts(void **state)
{
	static struct ipc_body_inbound b;
	struct ipc_msg m;
	struct raw r;
	size_t len, i;

	(void)state;
	b.peer = IPC_S("u");
	b.msg_id = IPC_S("1");
	b.parts.n = IPC_PARTS_MAX;
	for (i = 0; i < b.parts.n; i++) {
		b.parts.v[i].kind = IPC_S("image");
		b.parts.v[i].name = IPC_S("");
		b.parts.v[i].size = i + 1;
	}
	len = ipc_encode(IPC_INBOUND_MEDIA, 3, &b, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.inbound.parts.n, IPC_PARTS_MAX);
	assert_int_equal(m.b.inbound.parts.v[7].size, 8);
	assert_true(ipc_streq(m.b.inbound.parts.v[0].kind, "image"));
	assert_true(ipc_msginfo(IPC_INBOUND_MEDIA)->flags & MSG_FD);
	/* inbound.message has no parts key, and decodes none. */
	b.parts.n = 0;
	len = ipc_encode(IPC_INBOUND, 3, &b, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.inbound.parts.n, 0);
	/* Nor may inbound.media be sent without one, or with size 0. */
	assert_int_equal(ipc_encode(IPC_INBOUND_MEDIA, 3, &b, buf,
	    sizeof(buf)), 0);
	b.parts.n = 1;
	b.parts.v[0].size = 0;
	assert_int_equal(ipc_encode(IPC_INBOUND_MEDIA, 3, &b, buf,
	    sizeof(buf)), 0);

	raw_media(&r, 1, 3, 10, "file");
	assert_int_equal(raw_decode(&r, &m), IPC_OK);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, 0, 3, 10, "file");
	assert_int_equal(raw_decode(&r, &m), IPC_E_LENGTH);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, IPC_PARTS_MAX + 1, 3, 10, "file");
	assert_int_equal(raw_decode(&r, &m), IPC_E_LENGTH);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, 1, 2, 10, "file");
	assert_int_equal(raw_decode(&r, &m), IPC_E_SHAPE);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, 1, 3, 0, "file");
	assert_int_equal(raw_decode(&r, &m), IPC_E_VALUE);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, 1, 3, (uint64_t)IPC_FILE_MAX + 1, "file");
	assert_int_equal(raw_decode(&r, &m), IPC_E_LENGTH);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, 1, 3, 10, "");
	assert_int_equal(raw_decode(&r, &m), IPC_E_VALUE);
	msgpack_sbuffer_destroy(&r.sb);
	raw_media(&r, 1, 3, 10, "a-kind-name-over-16");
	assert_int_equal(raw_decode(&r, &m), IPC_E_LENGTH);
	msgpack_sbuffer_destroy(&r.sb);
}

/* chat.abort, agent.abort and agent.error with its retry hint. */
static void
test_roundtrip_abort_and_error(void **state)
{
	struct ipc_body_chat_abort a = { 7, IPC_S("u-1") };
	struct ipc_body_agent_error e = { IPC_S("rate_limited"),
	    IPC_S("slow down"), 2000 };
	struct ipc_body_empty eb = { 0 };
	struct ipc_msg m;
	size_t len;

	(void)state;
	len = ipc_encode(IPC_CHAT_ABORT, 3, &a, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.type, IPC_CHAT_ABORT);
	assert_int_equal(m.b.chat_abort.conn, 7);
	assert_true(ipc_streq(m.b.chat_abort.client_msg_id, "u-1"));
	assert_int_equal(ipc_msginfo(IPC_CHAT_ABORT)->roles, ROLE_WEBCHAT);

	len = ipc_encode(IPC_AGENT_ABORT, 42, &eb, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.req_id, 42);
	assert_int_equal(ipc_msginfo(IPC_AGENT_ABORT)->roles, ROLE_SUP);

	len = ipc_encode(IPC_AGENT_ERROR, 42, &e, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_true(ipc_streq(m.b.agent_error.code, "rate_limited"));
	assert_int_equal(m.b.agent_error.retry_after_ms, 2000);

	/* An empty client_msg_id and an absurd retry hint are refused. */
	a.client_msg_id = IPC_S("");
	assert_int_equal(ipc_encode(IPC_CHAT_ABORT, 3, &a, buf, sizeof(buf)),
	    0);
	e.retry_after_ms = IPC_RETRY_AFTER_MAX + 1;
	assert_int_equal(ipc_encode(IPC_AGENT_ERROR, 42, &e, buf,
	    sizeof(buf)), 0);
}

static void
test_encode_refuses_limits(void **state)
{
	static char big[IPC_TEXT_MAX + 2];
	struct ipc_body_chat_send b = { 1, IPC_S("x"), { big, sizeof(big) - 1 } };
	struct ipc_body_chat_send empty = { 1, IPC_S(""), IPC_S("t") };
	struct ipc_body_log lg = { 3, IPC_S("x") };

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(ipc_encode(IPC_CHAT_SEND, 1, &b, buf, sizeof(buf)),
	    0);
	/* F_NONEMPTY and value ranges hold on the way out too. */
	assert_int_equal(ipc_encode(IPC_CHAT_SEND, 1, &empty, buf,
	    sizeof(buf)), 0);
	assert_int_equal(ipc_encode(IPC_LOG, 1, &lg, buf, sizeof(buf)), 0);
	assert_int_equal(ipc_encode(4242, 1, &lg, buf, sizeof(buf)), 0);
}

static void
test_reject_unknown_type(void **state)
{
	struct raw r;
	struct ipc_msg m;

	(void)state;
	raw_begin(&r, 4242, 0);
	assert_int_equal(raw_decode(&r, &m), IPC_E_TYPE);
	msgpack_sbuffer_destroy(&r.sb);
}

static void
test_reject_keys(void **state)
{
	struct raw r;
	struct ipc_msg m;

	(void)state;
	/* missing key */
	raw_begin(&r, IPC_CONN_CLOSE, 0);
	assert_int_equal(raw_decode(&r, &m), IPC_E_KEY);
	msgpack_sbuffer_destroy(&r.sb);
	/* unknown key */
	raw_begin(&r, IPC_CONN_CLOSE, 1);
	raw_key(&r, "cone");
	msgpack_pack_uint64(&r.pk, 1);
	assert_int_equal(raw_decode(&r, &m), IPC_E_KEY);
	msgpack_sbuffer_destroy(&r.sb);
	/* repeated key standing in for a missing one */
	raw_begin(&r, IPC_SESSION_OPEN, 2);
	raw_key(&r, "conn");
	msgpack_pack_uint64(&r.pk, 1);
	raw_key(&r, "conn");
	msgpack_pack_uint64(&r.pk, 2);
	assert_int_equal(raw_decode(&r, &m), IPC_E_KEY);
	msgpack_sbuffer_destroy(&r.sb);
	/* extra key */
	raw_begin(&r, IPC_CONN_CLOSE, 2);
	raw_key(&r, "conn");
	msgpack_pack_uint64(&r.pk, 1);
	raw_key(&r, "more");
	msgpack_pack_uint64(&r.pk, 2);
	assert_int_equal(raw_decode(&r, &m), IPC_E_KEY);
	msgpack_sbuffer_destroy(&r.sb);
}

static void
test_reject_values(void **state)
{
	struct raw r;
	struct ipc_msg m;
	char s[IPC_MSGID_MAX + 1];

	(void)state;
	/* negative integer where a u64 belongs */
	raw_begin(&r, IPC_CONN_CLOSE, 1);
	raw_key(&r, "conn");
	msgpack_pack_int64(&r.pk, -1);
	assert_int_equal(raw_decode(&r, &m), IPC_E_VALUE);
	msgpack_sbuffer_destroy(&r.sb);
	/* string where a u64 belongs */
	raw_begin(&r, IPC_CONN_CLOSE, 1);
	raw_key(&r, "conn");
	raw_key(&r, "1");
	assert_int_equal(raw_decode(&r, &m), IPC_E_VALUE);
	msgpack_sbuffer_destroy(&r.sb);
	/* over-long client_msg_id */
	memset(s, 'a', sizeof(s));
	raw_begin(&r, IPC_CHAT_SEND, 3);
	raw_key(&r, "conn");
	msgpack_pack_uint64(&r.pk, 1);
	raw_key(&r, "client_msg_id");
	raw_str(&r, s, sizeof(s));
	raw_key(&r, "text");
	raw_key(&r, "hi");
	assert_int_equal(raw_decode(&r, &m), IPC_E_LENGTH);
	msgpack_sbuffer_destroy(&r.sb);
	/* value above the field's range (limit 0..IPC_TURNS_MAX) */
	raw_begin(&r, IPC_CHAT_HISTORY, 2);
	raw_key(&r, "conn");
	msgpack_pack_uint64(&r.pk, 1);
	raw_key(&r, "limit");
	msgpack_pack_uint64(&r.pk, IPC_TURNS_MAX + 1);
	assert_int_equal(raw_decode(&r, &m), IPC_E_LENGTH);
	msgpack_sbuffer_destroy(&r.sb);
}

static void
test_reject_utf8(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf",		/* overlong '/' */
		"\xed\xa0\x80",		/* surrogate */
		"\xf4\x90\x80\x80",	/* above U+10FFFF */
		"\xe4\xbd",		/* truncated */
		"\xff",
	};
	struct raw r;
	struct ipc_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_begin(&r, IPC_AGENT_DELTA, 1);
		raw_key(&r, "text");
		raw_str(&r, bad[i], strlen(bad[i]));
		assert_int_equal(raw_decode(&r, &m), IPC_E_UTF8);
		msgpack_sbuffer_destroy(&r.sb);
	}
	/* An embedded NUL is refused too. */
	raw_begin(&r, IPC_AGENT_DELTA, 1);
	raw_key(&r, "text");
	raw_str(&r, "a\0b", 3);
	assert_int_equal(raw_decode(&r, &m), IPC_E_UTF8);
	msgpack_sbuffer_destroy(&r.sb);
	assert_true(ipc_utf8_valid("\xf0\x9f\x98\x80 ok", 7));
}

static void
test_reject_shape_and_trailing(void **state)
{
	struct ipc_body_conn b = { 1 };
	struct ipc_msg m;
	size_t len, i;
	/* map32 header claiming 2^32-1 entries in 5 bytes */
	static const uint8_t huge[] = { 0x93, 0xcc, 0xcc, 0x00, 0xdf, 0xff,
	    0xff, 0xff, 0xff };
	static const uint8_t notarray[] = { 0x81, 0xa1, 'a', 0x01 };

	(void)state;
	len = ipc_encode(IPC_CONN_CLOSE, 1, &b, buf, sizeof(buf));
	assert_true(len > 0);
	buf[len] = 0xc0;
	assert_int_equal(ipc_decode(buf, len + 1, &m), IPC_E_TRAILING);
	/* every truncation is refused without reading past the end */
	for (i = 0; i < len; i++)
		assert_int_not_equal(ipc_decode(buf, i, &m), IPC_OK);
	assert_int_not_equal(ipc_decode(huge, sizeof(huge), &m), IPC_OK);
	assert_int_equal(ipc_decode(notarray, sizeof(notarray), &m),
	    IPC_E_SHAPE);
	assert_int_equal(ipc_decode(buf, IPC_FRAME_MAX + 1, &m), IPC_E_SIZE);
}

static void
test_catalogue(void **state)
{
	const struct ipc_msginfo *mi;

	(void)state;
	mi = ipc_msginfo(IPC_CHAT_SEND);
	assert_non_null(mi);
	assert_string_equal(mi->name, "chat.send");
	assert_int_equal(mi->roles, ROLE_WEBCHAT);
	assert_true(ipc_msginfo(IPC_SUP_LISTEN_FD)->flags & MSG_FD);
	assert_null(ipc_msginfo(4242));
	assert_string_equal(ipc_type_name(4242), "unknown");
	assert_string_equal(ipc_strerror(IPC_E_UTF8),
	    "string is not valid UTF-8");
}

/*
 * A schedule row nests its definition; listing all schedules names
 * none, while a removal must name one.
 */
static void
test_schedule_bodies(void **state)
{
	struct ipc_body_sched_row r;
	struct ipc_body_sched_name all = { IPC_S("") };
	struct ipc_body_name none = { IPC_S("") };
	struct ipc_msg m;
	size_t len;

	(void)state;
	len = ipc_encode(IPC_CTL_SCHED_LIST, 3, &all, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_int_equal(m.b.sched_name.name.len, 0);
	assert_int_equal(ipc_encode(IPC_CTL_SCHED_REMOVE, 3, &none, buf,
	    sizeof(buf)), 0);

	memset(&r, 0, sizeof(r));
	r.def.name = IPC_S("morning");
	r.def.cron = IPC_S("0 8 * * 1-5");
	r.def.every = IPC_S("");
	r.def.tz = IPC_S("Europe/Berlin");
	r.def.agent = IPC_S("default");
	r.def.text = IPC_S("brief me");
	r.def.targets = IPC_S("hook:group\nwx:u1");
	r.def.hold_s = 86400;
	r.def.catch_up = IPC_S("latest");
	r.paused = 1;
	r.next_run = 1700000000;
	r.last_state = IPC_S("done");
	len = ipc_encode(IPC_CTL_SCHEDULE, 4, &r, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
	assert_true(ipc_streq(m.b.sched_row.def.tz, "Europe/Berlin"));
	assert_true(ipc_streq(m.b.sched_row.def.targets, "hook:group\nwx:u1"));
	assert_int_equal(m.b.sched_row.def.hold_s, 86400);
	assert_int_equal(m.b.sched_row.paused, 1);
	assert_int_equal(m.b.sched_row.from_config, 0);
	assert_int_equal(m.b.sched_row.next_run, 1700000000);
}

/* Hand-made binary frames (codec_bin.c), to say what the encoder won't. */
struct bin {
	uint8_t	b[IPC_FRAME_MAX + 16];
	size_t	len;
};

static void
bin_le(struct bin *w, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, v >>= 8)
		w->b[w->len++] = v & 0xff;
}

static void
bin_begin(struct bin *w, uint32_t type, uint64_t req_id)
{
	w->len = 0;
	bin_le(w, 0xc1, 1);
	bin_le(w, type, 4);
	bin_le(w, req_id, 8);
}

static void
bin_str(struct bin *w, const char *s, size_t len)
{
	bin_le(w, len, 4);
	memcpy(w->b + w->len, s, len);
	w->len += len;
}

/*
 * Decode from an exact-size heap copy, so ASan sees any overread; m's
 * strings are gone when it returns.
 */
static enum ipc_err
decode_exact(const uint8_t *p, size_t len, struct ipc_msg *m)
{
	uint8_t *copy;
	enum ipc_err e;

	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, p, len);
	e = ipc_decode(copy, len, m);
	free(copy);
	return e;
}

/* How bin_make breaks field k, and what the decoder must say to it. */
enum mut { M_NONE, M_LONG, M_UTF8, M_NUL, M_EMPTY, M_OVER, M_BOOL2,
    M_MAX };
static const enum ipc_err mut_err[M_MAX] = {
	[M_NONE] = IPC_OK, [M_LONG] = IPC_E_LENGTH, [M_UTF8] = IPC_E_UTF8,
	[M_NUL] = IPC_E_UTF8, [M_EMPTY] = IPC_E_LENGTH,
	[M_OVER] = IPC_E_LENGTH, [M_BOOL2] = IPC_E_VALUE,
};

static char	fill[IPC_FRAME_MAX];

/* One field by hand: valid, or broken as mut says; -1: mut can't apply. */
static int
bin_field(struct bin *w, const struct field *f, enum mut mut)
{
	switch (f->type) {
	case FT_U64:
		if (mut == M_OVER && f->max < UINT64_MAX)
			bin_le(w, f->max + 1, 8);
		else if (mut == M_NONE)
			bin_le(w, f->max < 5 ? f->max : 5, 8);
		else
			return -1;
		return 0;
	case FT_BOOL:
		if (mut != M_NONE && mut != M_BOOL2)
			return -1;
		bin_le(w, mut == M_BOOL2 ? 2 : 1, 1);
		return 0;
	case FT_STR:
		break;
	default:
		fail_msg("list field %s in the parent's list", f->key);
	}
	switch (mut) {
	case M_NONE:
		/* Any bytes where F_BYTES allows them, NUL too. */
		if (f->flags & F_BYTES)
			bin_str(w, "\0\xff", 2);
		else
			bin_str(w, "\xe4\xbd\xa0", 3);
		return 0;
	case M_LONG:
		memset(fill, 'a', f->max + 1);
		bin_str(w, fill, f->max + 1);
		return 0;
	case M_UTF8:
	case M_NUL:
		if (f->flags & F_BYTES)
			return -1;
		if (mut == M_UTF8)
			bin_str(w, "\xc0\xaf", 2);
		else
			bin_str(w, "a\0b", 3);
		return 0;
	case M_EMPTY:
		if (!(f->flags & F_NONEMPTY))
			return -1;
		bin_str(w, "", 0);
		return 0;
	default:
		return -1;
	}
}

/* A frame of d by hand, field k broken as mut says; -1: it can't be. */
static int
bin_make(struct bin *w, const struct msgdef *d, size_t k, enum mut mut)
{
	size_t i;

	bin_begin(w, d->info.type, 7);
	for (i = 0; i < d->schema->n; i++)
		if (bin_field(w, &d->schema->f[i], i == k ? mut : M_NONE) == -1)
			return -1;
	return 0;
}

/*
 * A body of d's schema: u64 at its max, bools 1 and strings at their
 * full length (hi), or 0, 0 and as short as allowed.
 */
static void
body_fill(const struct msgdef *d, union ipc_body *b, int hi)
{
	const struct field *f;
	struct ipc_str s;
	size_t i;
	int one = hi;

	memset(b, 0, sizeof(*b));
	memset(fill, 'z', sizeof(fill));
	for (i = 0; i < d->schema->n; i++) {
		f = &d->schema->f[i];
		switch (f->type) {
		case FT_U64:
			memcpy((char *)b + f->off, hi ? &f->max :
			    &(uint64_t){ 0 }, sizeof(uint64_t));
			break;
		case FT_BOOL:
			memcpy((char *)b + f->off, &one, sizeof(one));
			break;
		case FT_STR:
			s.p = fill;
			s.len = hi ? f->max : (f->flags & F_NONEMPTY) != 0;
			memcpy((char *)b + f->off, &s, sizeof(s));
			break;
		default:
			fail_msg("list field %s in the parent's list", f->key);
		}
	}
}

/* Each field of d the same in a and b (strings by content). */
static void
body_equal(const struct msgdef *d, const union ipc_body *a,
    const union ipc_body *b)
{
	const struct field *f;
	struct ipc_str sa, sb;
	size_t i;

	for (i = 0; i < d->schema->n; i++) {
		f = &d->schema->f[i];
		if (f->type != FT_STR) {
			assert_memory_equal((const char *)a + f->off,
			    (const char *)b + f->off, f->type == FT_U64 ?
			    sizeof(uint64_t) : sizeof(int));
			continue;
		}
		memcpy(&sa, (const char *)a + f->off, sizeof(sa));
		memcpy(&sb, (const char *)b + f->off, sizeof(sb));
		assert_int_equal(sa.len, sb.len);
		if (sa.len > 0)
			assert_memory_equal(sa.p, sb.p, sa.len);
	}
}

/*
 * Every message of the parent's list round-trips at both ends of every
 * field's range, and every cut of the frame is short, with no overread.
 */
static void
test_bin_roundtrip_all(void **state)
{
	static union ipc_body b;
	const struct msgdef *d;
	struct ipc_msg m;
	size_t i, n, len;
	int hi;

	(void)state;
	assert_true(ipc_catalogue_parent.n >= 30);
	for (i = 0; i < ipc_catalogue_parent.n; i++) {
		d = &ipc_catalogue_parent.defs[i];
		for (hi = 0; hi <= 1; hi++) {
			body_fill(d, &b, hi);
			len = ipc_encode(d->info.type, UINT64_MAX - i, &b, buf,
			    sizeof(buf));
			assert_true(len >= 13);
			assert_int_equal(buf[0], 0xc1);
			assert_int_equal(ipc_decode(buf, len, &m), IPC_OK);
			assert_int_equal(m.type, d->info.type);
			assert_int_equal(m.req_id, UINT64_MAX - i);
			assert_int_equal(m.fd, -1);
			body_equal(d, &b, &m.b);
		}
		/* Any cut of the short one is short; a byte more, trailing. */
		body_fill(d, &b, 0);
		len = ipc_encode(d->info.type, 1, &b, buf, sizeof(buf));
		for (n = 0; n < len; n++)
			assert_int_equal(decode_exact(buf, n, &m), IPC_E_SHORT);
		buf[len] = 0;
		assert_int_equal(decode_exact(buf, len + 1, &m),
		    IPC_E_TRAILING);
	}
}

/*
 * Every field of every parent message broken every way that applies to
 * it, by hand: each refused with its error.  The unbroken frame is
 * exactly what the encoder writes for what it decodes to.
 */
static void
test_bin_reject_fields(void **state)
{
	static struct bin w;
	const struct msgdef *d;
	struct ipc_msg m;
	size_t i, k, len, tried = 0;
	enum mut mut;

	(void)state;
	for (i = 0; i < ipc_catalogue_parent.n; i++) {
		d = &ipc_catalogue_parent.defs[i];
		assert_int_equal(bin_make(&w, d, 0, M_NONE), 0);
		assert_int_equal(ipc_decode(w.b, w.len, &m), IPC_OK);
		len = ipc_encode(m.type, m.req_id, &m.b, buf, sizeof(buf));
		assert_int_equal(len, w.len);
		assert_memory_equal(buf, w.b, len);
		for (k = 0; k < d->schema->n; k++)
			for (mut = M_LONG; mut < M_MAX; mut++) {
				if (bin_make(&w, d, k, mut) == -1)
					continue;
				assert_int_equal(decode_exact(w.b, w.len, &m),
				    mut_err[mut]);
				tried++;
			}
	}
	/* Each mutation met some field: none was skipped everywhere. */
	assert_true(tried > 100);
}

/* What the encoder refuses to write in the binary form. */
static void
test_bin_encode_refuses(void **state)
{
	static union ipc_body b;
	const struct msgdef *d;
	const struct field *f;
	struct ipc_str s;
	uint64_t v;
	size_t i, k;

	(void)state;
	for (i = 0; i < ipc_catalogue_parent.n; i++) {
		d = &ipc_catalogue_parent.defs[i];
		for (k = 0; k < d->schema->n; k++) {
			f = &d->schema->f[k];
			body_fill(d, &b, 0);
			if (f->type == FT_U64 && f->max < UINT64_MAX) {
				v = f->max + 1;
				memcpy((char *)&b + f->off, &v, sizeof(v));
			} else if (f->type == FT_STR) {
				s.p = fill;
				s.len = f->max + 1;
				memcpy((char *)&b + f->off, &s, sizeof(s));
			} else
				continue;
			assert_int_equal(ipc_encode(d->info.type, 1, &b, buf,
			    sizeof(buf)), 0);
			if (f->type == FT_STR && (f->flags & F_NONEMPTY)) {
				s.len = 0;
				memcpy((char *)&b + f->off, &s, sizeof(s));
				assert_int_equal(ipc_encode(d->info.type, 1,
				    &b, buf, sizeof(buf)), 0);
			}
		}
	}
	/* Nor past a short buffer. */
	body_fill(&ipc_catalogue_parent.defs[0], &b, 0);
	assert_int_equal(ipc_encode(ipc_catalogue_parent.defs[0].info.type,
	    1, &b, buf, 12), 0);
}

/* The bytes themselves (golden): little-endian, in schema order. */
static void
test_bin_golden(void **state)
{
	static const uint8_t pong[] = { 0xc1, 0x66, 0, 0, 0,
	    0x07, 0, 0, 0, 0, 0, 0, 0,
	    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	static const uint8_t logf[] = { 0xc1, 0x67, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0,
	    0x02, 0, 0, 0, 0, 0, 0, 0,
	    0x02, 0, 0, 0, 'h', 'i' };
	static const uint8_t hubconf[] = { 0xc1, 0x84, 0x03, 0, 0,
	    0x01, 0x02, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0,
	    0x01,
	    0x02, 0, 0, 0, 0, 0, 0, 0 };
	struct ipc_body_seq sq = { 0x0102030405060708ULL };
	struct ipc_body_log lg = { 2, IPC_S("hi") };
	struct ipc_body_hub_config hc = { { NULL, 0 }, 7, 2 };
	struct ipc_msg m;
	size_t len;

	(void)state;
	len = ipc_encode(IPC_PONG, 7, &sq, buf, sizeof(buf));
	assert_int_equal(len, sizeof(pong));
	assert_memory_equal(buf, pong, len);
	len = ipc_encode(IPC_LOG, 0, &lg, buf, sizeof(buf));
	assert_int_equal(len, sizeof(logf));
	assert_memory_equal(buf, logf, len);
	/* Any true bool is 1 on the wire; an absent string is "". */
	len = ipc_encode(IPC_HUB_CONFIG, 0x201, &hc, buf, sizeof(buf));
	assert_int_equal(len, sizeof(hubconf));
	assert_memory_equal(buf, hubconf, len);
	assert_int_equal(ipc_decode(hubconf, sizeof(hubconf), &m), IPC_OK);
	assert_int_equal(m.b.hub_config.last, 1);
	assert_int_equal(m.b.hub_config.part.len, 0);
}

/* One form per type: each list refuses the other's. */
static void
test_one_form_per_type(void **state)
{
	static struct bin w;
	struct ipc_msg m;
	struct raw r;

	(void)state;
	/* A parent message as msgpack, as every one was before. */
	raw_begin(&r, IPC_LOG, 2);
	raw_key(&r, "level");
	msgpack_pack_uint64(&r.pk, 1);
	raw_key(&r, "text");
	raw_key(&r, "x");
	assert_int_equal(raw_decode(&r, &m), IPC_E_TYPE);
	msgpack_sbuffer_destroy(&r.sb);
	raw_begin(&r, IPC_SUP_SHUTDOWN, 0);
	assert_int_equal(raw_decode(&r, &m), IPC_E_TYPE);
	msgpack_sbuffer_destroy(&r.sb);
	/* A hub message in the parent's form, well made field by field. */
	bin_begin(&w, IPC_CHAT_SEND, 7);
	bin_le(&w, 1, 8);
	bin_str(&w, "m1", 2);
	bin_str(&w, "hi", 2);
	assert_int_equal(decode_exact(w.b, w.len, &m), IPC_E_TYPE);
	bin_begin(&w, IPC_AGENT_ABORT, 7);
	assert_int_equal(decode_exact(w.b, w.len, &m), IPC_E_TYPE);
	/* And a type of neither. */
	bin_begin(&w, 4242, 7);
	assert_int_equal(decode_exact(w.b, w.len, &m), IPC_E_TYPE);
	bin_begin(&w, UINT32_MAX, 7);
	assert_int_equal(decode_exact(w.b, w.len, &m), IPC_E_TYPE);
	/* A string's length past the frame, under its max: short. */
	bin_begin(&w, IPC_LOG, 7);
	bin_le(&w, 1, 8);
	bin_le(&w, 10, 4);
	assert_int_equal(decode_exact(w.b, w.len, &m), IPC_E_SHORT);
	/* Over IPC_FRAME_MAX, whatever its form. */
	assert_int_equal(ipc_decode(w.b, IPC_FRAME_MAX + 1, &m), IPC_E_SIZE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_chat_send),
		cmocka_unit_test(test_roundtrip_null_string),
		cmocka_unit_test(test_roundtrip_turns_and_bool),
		cmocka_unit_test(test_roundtrip_abort_and_error),
		cmocka_unit_test(test_encode_refuses_limits),
		cmocka_unit_test(test_reject_unknown_type),
		cmocka_unit_test(test_reject_keys),
		cmocka_unit_test(test_reject_values),
		cmocka_unit_test(test_reject_utf8),
		cmocka_unit_test(test_reject_shape_and_trailing),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_schedule_bodies),
		cmocka_unit_test(test_inbound_media_parts),
		cmocka_unit_test(test_bin_roundtrip_all),
		cmocka_unit_test(test_bin_reject_fields),
		cmocka_unit_test(test_bin_encode_refuses),
		cmocka_unit_test(test_bin_golden),
		cmocka_unit_test(test_one_form_per_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
