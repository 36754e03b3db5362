/*
 * The root parent's codec (ipc/catalogue_parent.c) before any process
 * adds the rest (ipc_catalogue_all): its own messages round-trip in
 * their fixed form, msgpack is no form it reads, and every other type
 * is refused before its body is read, both ways.  Linked without
 * tests/unit/ipc_all.c, so nothing adds them early.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

static uint8_t	buf[IPC_FRAME_MAX];

/* pong {seq: 1} in msgpack, the form every frame had before. */
static const uint8_t mp_pong[] = { 0x93, 0x66, 0x07, 0x81, 0xa3, 's', 'e',
    'q', 0x01 };

static void
test_parent_then_all(void **state)
{
	struct ipc_body_hub_ref ref = { .name = IPC_S("webchat.0"),
	    .gen = 3, .why = IPC_S("") };
	struct ipc_body_chat_send cs = { .conn = 1,
	    .client_msg_id = IPC_S("m1"), .text = IPC_S("hi") };
	struct ipc_msg m;
	size_t n;

	(void)state;
	/* The parent's own: hub.kill from the hub. */
	n = ipc_encode(IPC_HUB_KILL, 0, &ref, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_decode(buf, n, &m), IPC_OK);
	assert_int_equal(m.type, IPC_HUB_KILL);
	assert_true(ipc_streq(m.b.hub_ref.name, "webchat.0"));
	assert_non_null(ipc_msginfo(IPC_LOG));
	assert_int_equal(buf[0], 0xc1);
	/* msgpack is not read at all, nor a frame of neither form. */
	assert_int_equal(ipc_decode(mp_pong, sizeof(mp_pong), &m),
	    IPC_E_SHAPE);
	assert_int_equal(ipc_decode((const uint8_t *)"\x00", 1, &m),
	    IPC_E_SHAPE);

	/* A web chat message: unknown to the parent, not encoded... */
	assert_null(ipc_msginfo(IPC_CHAT_SEND));
	assert_string_equal(ipc_type_name(IPC_CHAT_SEND), "unknown");
	assert_int_equal(ipc_encode(IPC_CHAT_SEND, 1, &cs, buf, sizeof(buf)),
	    0);

	/* ... nor decoded, once another process has made the frame. */
	ipc_catalogue_all();
	n = ipc_encode(IPC_CHAT_SEND, 1, &cs, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_decode(buf, n, &m), IPC_OK);
	assert_non_null(ipc_msginfo(IPC_CHAT_SEND));
	/* Now msgpack is read, but pong is the fixed form's alone. */
	assert_int_equal(ipc_decode(mp_pong, sizeof(mp_pong), &m),
	    IPC_E_TYPE);
	n = ipc_encode(IPC_HUB_KILL, 0, &ref, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[0], 0xc1);
	assert_int_equal(ipc_decode(buf, n, &m), IPC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_then_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
