/*
 * Unit tests for supervisor/store_bind.c: binding invitations (found by
 * their token's hash only, expired, used up, revoked), bound accounts
 * (a use spent once, with the account going active), and the deletion
 * of everything stored under an account's name.  Each test gets its own
 * store file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "store.h"
#include "store_fx.h"

#define NOW	1700000000

static void
hash_of(uint8_t h[STORE_HASH_LEN], int v)
{
	memset(h, v, STORE_HASH_LEN);
}

static int
find(struct store *s, int v, int64_t now, int64_t *id)
{
	uint8_t h[STORE_HASH_LEN];
	char *tmpl = NULL;
	int rv;

	hash_of(h, v);
	rv = store_invite_find(s, h, now, id, &tmpl);
	if (rv == INV_LIVE)
		assert_string_equal(tmpl, "staff");
	else
		assert_null(tmpl);
	free(tmpl);
	return rv;
}

static void
test_invitation_states(void **state)
{
	struct store_fx *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	int64_t id, got;

	hash_of(h, 1);
	assert_int_equal(store_invite_create(fx->s, h, "staff", NOW,
	    NOW + 60, 1, &id), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(find(fx->s, 1, NOW, &got), INV_LIVE);
	assert_int_equal(got, id);
	assert_int_equal(find(fx->s, 2, NOW, &got), INV_UNKNOWN);
	assert_int_equal(find(fx->s, 1, NOW + 60, &got), INV_EXPIRED);
	assert_int_equal(store_invite_revoke(fx->s, id, NOW), 0);
	assert_int_equal(store_invite_revoke(fx->s, id, NOW), 1);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(find(fx->s, 1, NOW, &got), INV_REVOKED);
	/* The same token twice is refused: one hash, one invitation. */
	assert_int_equal(store_invite_create(fx->s, h, "staff", NOW,
	    NOW + 60, 1, &id), -1);
	store_rollback(fx->s);
}

static void
test_a_use_is_spent_once(void **state)
{
	struct store_fx *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	int64_t id, got, n;

	hash_of(h, 3);
	assert_int_equal(store_invite_create(fx->s, h, "staff", NOW,
	    NOW + 60, 1, &id), 0);
	assert_int_equal(store_account_add(fx->s, "b00000001", "wechat",
	    "staff", id, NOW), 0);
	assert_int_equal(store_account_add(fx->s, "b00000002", "wechat",
	    "staff", id, NOW), 0);
	assert_int_equal(store_account_pending(fx->s, id, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_account_activate(fx->s, "b00000001",
	    "owner1"), 0);
	/* The last use is gone: the second stays pending. */
	assert_int_equal(store_account_activate(fx->s, "b00000002",
	    "owner2"), 1);
	/* And an active account is not activated again. */
	assert_int_equal(store_account_activate(fx->s, "b00000001",
	    "owner3"), 1);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(find(fx->s, 3, NOW, &got), INV_USED);
	assert_int_equal(store_account_count(fx->s, "staff", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_account_pending(fx->s, id, &n), 0);
	assert_int_equal(n, 1);
}

static int
list_cb(const struct store_account_row *r, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s:%s:%s:%s;", r->name, r->tmpl, r->state,
	    r->owner);
	return 0;
}

static void
test_delete_takes_everything(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m = { 0, "b00000009", "m1", "peer", "hello",
	    "" };
	char out[256] = "", *tmpl, *st, *owner, *v;
	int64_t sess, msg;

	assert_int_equal(store_account_add(fx->s, "b00000009", "wechat",
	    "staff", 0, NOW), 0);
	assert_int_equal(store_account_add(fx->s, "keep", "wechat", "staff", 0,
	    NOW), 0);
	assert_int_equal(store_kv_put(fx->s, "b00000009", "token", "secret",
	    NOW), 0);
	assert_int_equal(store_kv_put(fx->s, "keep", "token", "other", NOW),
	    0);
	assert_int_equal(store_peer_allow(fx->s, "b00000009", "peer", NOW),
	    0);
	assert_int_equal(store_chan_session(fx->s, "b00000009", "peer", NOW,
	    &sess), 0);
	m.session = sess;
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	assert_int_equal(store_outbox_add(fx->s, "b00000009", "peer", msg, 0,
	    "reply", "", NOW, NULL), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_account_list(fx->s, list_cb, out), 0);
	assert_string_equal(out, "b00000009:staff:pending:;keep:staff:"
	    "pending:;");
	assert_int_equal(store_account_delete(fx->s, "b00000009"), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_account_get(fx->s, "b00000009", &tmpl, &st,
	    &owner), 1);
	assert_int_equal(store_kv_get(fx->s, "b00000009", "token", &v), 1);
	assert_int_equal(store_peer_allowed(fx->s, "b00000009", "peer"), 0);
	assert_int_equal(store_outbox_count(fx->s, "b00000009"), 0);
	assert_int_equal(store_session_exists(fx->s, sess), 0);
	assert_int_equal(store_chan_msg_seen(fx->s, "b00000009", "m1"), 0);
	/* The other account is untouched. */
	assert_int_equal(store_kv_get(fx->s, "keep", "token", &v), 0);
	assert_string_equal(v, "other");
	free(v);
	assert_int_equal(store_account_get(fx->s, "keep", &tmpl, &st,
	    &owner), 0);
	assert_string_equal(tmpl, "staff");
	assert_string_equal(st, "pending");
	assert_string_equal(owner, "");
	free(tmpl);
	free(st);
	free(owner);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_invitation_states,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_a_use_is_spent_once,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_delete_takes_everything,
		    store_fx_setup, store_fx_teardown),
	};

	log_init(0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
