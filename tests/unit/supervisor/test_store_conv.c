/*
 * Unit tests for supervisor/store_conv.c and store_conv_media.c, the
 * console's thread view: a conversation's messages and the rows written
 * to the peer first, paged from the newest by a (created, sent, id)
 * cursor so that ties in time lose and repeat nothing, the /new that
 * reset the context marked; a session's account and peer; a message's
 * parts with no more than their first bytes, and one part's bytes only
 * when within the caller's bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "sniff.h"
#include "store.h"
#include "store_fx.h"

#define NOW	1700000000

struct page {
	int64_t			 id[8];
	int			 sent[8];
	int			 reset[8];
	char			 text[8][16];
	int			 n;
	struct store_conv_at	 last;
};

static int
page_msg(const struct store_conv_msg *m, void *arg)
{
	struct page *pg = arg;

	assert_true(pg->n < 8);
	pg->id[pg->n] = m->id;
	pg->sent[pg->n] = m->sent;
	pg->reset[pg->n] = m->reset;
	snprintf(pg->text[pg->n], sizeof(pg->text[0]), "%s",
	    m->sent ? m->reply : m->text);
	pg->n++;
	pg->last.created = m->created;
	pg->last.sent = m->sent;
	pg->last.id = m->id;
	return 0;
}

static int64_t
peer_says(struct store *s, int64_t session, const char *msgid,
    const char *text, int64_t at)
{
	struct store_chan_msg cm = { session, "alice", msgid, "bob", text, "" };
	int64_t id;

	assert_int_equal(store_chan_msg_accept(s, &cm, at, &id), 0);
	return id;
}

static void
page_read(struct store *s, int64_t session, const struct store_conv_at *at,
    struct page *pg)
{
	memset(pg, 0, sizeof(*pg));
	assert_int_equal(store_conv_messages(s, session, at, 2, page_msg, pg),
	    0);
}

/* Newest first: m4, the row sent first (o1, a tie with m3), m3, m2, m1. */
static void
test_messages_paged_by_cursor(void **state)
{
	struct store_fx *fx = *state;
	struct page pg;
	struct store_conv_at at;
	char acct[16], peer[16];
	int64_t session, m1, m2, m3, m4, o1;

	assert_int_equal(store_chan_session(fx->s, "alice", "bob", NOW,
	    &session), 0);
	m1 = peer_says(fx->s, session, "p1", "first", NOW);
	m2 = peer_says(fx->s, session, "p2", "/new", NOW);
	assert_int_equal(store_msg_command(fx->s, m2, "a new conversation",
	    NOW), 0);
	assert_int_equal(store_new_context(fx->s, session, m2), 0);
	m3 = peer_says(fx->s, session, "p3", "third", NOW + 1);
	assert_int_equal(store_outbox_add(fx->s, "alice", "bob", 0, 0,
	    "operator", "", NOW + 1, &o1), 0);
	m4 = peer_says(fx->s, session, "p4", "fourth", NOW + 2);
	assert_int_equal(store_flush(fx->s), 0);

	page_read(fx->s, session, NULL, &pg);
	assert_int_equal(pg.n, 2);
	assert_int_equal(pg.id[0], m4);
	assert_int_equal(pg.id[1], o1);
	assert_int_equal(pg.sent[1], 1);
	assert_string_equal(pg.text[1], "operator");
	at = pg.last;
	page_read(fx->s, session, &at, &pg);
	assert_int_equal(pg.n, 2);
	assert_int_equal(pg.id[0], m3);
	assert_int_equal(pg.sent[0], 0);
	assert_int_equal(pg.id[1], m2);
	assert_int_equal(pg.reset[0], 0);
	assert_int_equal(pg.reset[1], 1);
	assert_string_equal(pg.text[1], "/new");
	at = pg.last;
	page_read(fx->s, session, &at, &pg);
	assert_int_equal(pg.n, 1);
	assert_int_equal(pg.id[0], m1);
	assert_int_equal(pg.reset[0], 0);
	at = pg.last;
	page_read(fx->s, session, &at, &pg);
	assert_int_equal(pg.n, 0);

	assert_int_equal(store_conv_peer(fx->s, session, acct, sizeof(acct),
	    peer, sizeof(peer)), 0);
	assert_string_equal(acct, "alice");
	assert_string_equal(peer, "bob");
	assert_int_equal(store_conv_peer(fx->s, session + 100, acct,
	    sizeof(acct), peer, sizeof(peer)), 1);
}

/* A web chat's session has no account or peer: not a conversation. */
static void
test_web_chat_is_no_conversation(void **state)
{
	struct store_fx *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	char acct[16], peer[16];
	int64_t session;

	memset(h, 7, sizeof(h));
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &session), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_conv_peer(fx->s, session, acct, sizeof(acct),
	    peer, sizeof(peer)), 1);
}

struct parts {
	unsigned	 seq[4];
	uint64_t	 size[4];
	size_t		 headlen[4];
	uint8_t		 head[4][16];
	char		 name[4][16];
	int		 n;
};

static int
parts_add(const struct store_conv_part *p, void *arg)
{
	struct parts *ps = arg;

	assert_true(ps->n < 4);
	ps->seq[ps->n] = p->seq;
	ps->size[ps->n] = p->size;
	ps->headlen[ps->n] = p->headlen;
	memcpy(ps->head[ps->n], p->head, p->headlen);
	snprintf(ps->name[ps->n], sizeof(ps->name[0]), "%s", p->name);
	ps->n++;
	return 0;
}

static void
part_add(struct store *s, int64_t msg, unsigned seq, const char *kind,
    const char *name, const uint8_t *data, size_t size)
{
	struct store_media m = { "alice", msg, seq, kind, name, data, size,
	    { 0 } };

	assert_int_equal(store_media_add(s, &m, NOW), 0);
}

static void
test_parts_heads_and_one_part_bounded(void **state)
{
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
	    '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 1, 2, 3 };
	struct store_fx *fx = *state;
	struct parts ps;
	uint8_t big[100], *data;
	uint64_t size;
	char name[8];
	int64_t session, msg;

	memset(big, 'x', sizeof(big));
	assert_int_equal(store_chan_session(fx->s, "alice", "bob", NOW,
	    &session), 0);
	msg = peer_says(fx->s, session, "p1", "look", NOW);
	part_add(fx->s, msg, 2, "file", "big.bin", big, sizeof(big));
	part_add(fx->s, msg, 0, "image", "", png, sizeof(png));
	part_add(fx->s, msg, 1, "file", "a-long-name.txt",
	    (const uint8_t *)"ab", 2);
	assert_int_equal(store_flush(fx->s), 0);

	/* In order, at most max, each with its first bytes and no more. */
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_conv_parts(fx->s, msg, 2, parts_add, &ps), 0);
	assert_int_equal(ps.n, 2);
	assert_int_equal(ps.seq[0], 0);
	assert_int_equal(ps.size[0], sizeof(png));
	assert_int_equal(ps.headlen[0], sizeof(((struct store_conv_part *)0)
	    ->head));
	assert_memory_equal(ps.head[0], png, ps.headlen[0]);
	assert_string_equal(sniff_image(ps.head[0], ps.headlen[0]),
	    "image/png");
	assert_int_equal(ps.seq[1], 1);
	assert_int_equal(ps.headlen[1], 2);
	assert_memory_equal(ps.head[1], "ab", 2);
	assert_string_equal(ps.name[1], "a-long-name.txt");
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_conv_parts(fx->s, msg + 1, 8, parts_add, &ps),
	    0);
	assert_int_equal(ps.n, 0);

	/* Within the bound: the bytes, and the name cut to fit. */
	assert_int_equal(store_conv_part_take(fx->s, msg, 1, 2, &data, &size,
	    name, sizeof(name)), 0);
	assert_int_equal(size, 2);
	assert_memory_equal(data, "ab", 2);
	assert_string_equal(name, "a-long-");
	free(data);
	/* Over it by one: nothing read; no such part: 1. */
	assert_int_equal(store_conv_part_take(fx->s, msg, 2, sizeof(big) - 1,
	    &data, &size, name, sizeof(name)), 2);
	assert_null(data);
	assert_int_equal(store_conv_part_take(fx->s, msg, 2, sizeof(big),
	    &data, &size, name, sizeof(name)), 0);
	assert_int_equal(size, sizeof(big));
	free(data);
	assert_int_equal(store_conv_part_take(fx->s, msg, 3, 1000, &data,
	    &size, name, sizeof(name)), 1);
	assert_int_equal(store_conv_part_take(fx->s, msg + 1, 0, 1000, &data,
	    &size, name, sizeof(name)), 1);
	assert_null(data);
}

static int
conv_one(const struct store_conv *c, void *arg)
{
	struct store_conv *out = arg;

	out->session_id = c->session_id;
	out->last = c->last;
	out->count = c->count;
	return 0;
}

/*
 * What the outbox holds for others costs nothing here: with OTHERS rows
 * to another peer, each tied to a message of its own, a thread page,
 * the count of a peer's rows on its reply context, deleting a web chat
 * session (the expiry sweep's; the foreign keys look each of its
 * messages up in the outbox) and the conversations list take a few
 * hundred SQLite VM steps each, where walking the outbox or the
 * messages would take many thousands.
 */
#define OTHERS	2000
static void
test_outbox_rows_of_others_cost_nothing(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg cm = { 0, "alice", NULL, "carol", "hi", "CTX" };
	uint8_t h[STORE_HASH_LEN] = { 7 };
	struct store_conv conv;
	struct page pg;
	char msgid[32];
	int64_t bob, carol, web, id;
	int i;

	assert_int_equal(store_chan_session(fx->s, "alice", "bob", NOW, &bob),
	    0);
	assert_int_equal(store_chan_session(fx->s, "alice", "carol", NOW,
	    &carol), 0);
	cm.session = carol;
	for (i = 0; i < OTHERS; i++) {
		snprintf(msgid, sizeof(msgid), "c%d", i);
		cm.msgid = msgid;
		assert_int_equal(store_chan_msg_accept(fx->s, &cm, NOW, &id),
		    0);
		assert_int_equal(store_outbox_add(fx->s, "alice", "carol", id,
		    0, "yo", "CTX", NOW, NULL), 0);
	}
	for (i = 0; i < 4; i++) {
		snprintf(msgid, sizeof(msgid), "b%d", i);
		peer_says(fx->s, bob, msgid, "hello", NOW + i);
	}
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &web), 0);
	for (i = 0; i < 3; i++) {
		snprintf(msgid, sizeof(msgid), "w%d", i);
		assert_int_equal(store_msg_accept(fx->s, web, msgid, "hi", NOW,
		    &id), 0);
	}
	assert_int_equal(store_flush(fx->s), 0);

	store_fx_vm_steps(fx->s);
	page_read(fx->s, bob, NULL, &pg);
	assert_int_equal(pg.n, 2);
	assert_true(store_fx_vm_steps(fx->s) < 1000);
	assert_int_equal(store_outbox_turn(fx->s, "alice", "bob"), 0);
	assert_true(store_fx_vm_steps(fx->s) < 300);
	assert_int_equal(store_session_delete(fx->s, web), 0);
	assert_true(store_fx_vm_steps(fx->s) < 1000);
	assert_int_equal(store_flush(fx->s), 0);
	/* And the peer's rows still count: carol's are all queued. */
	assert_int_equal(store_outbox_turn(fx->s, "alice", "carol"), OTHERS);

	/*
	 * The conversations list (the console's, every 5 s) seeks each
	 * one's newest message and counts only those shown: bob's, whose
	 * newest is the newest, not carol's OTHERS.
	 */
	store_fx_vm_steps(fx->s);
	memset(&conv, 0, sizeof(conv));
	assert_int_equal(store_conv_list(fx->s, NULL, NULL, 1, conv_one,
	    &conv), 0);
	assert_true(store_fx_vm_steps(fx->s) < 300);
	assert_int_equal(conv.session_id, bob);
	assert_int_equal(conv.last, NOW + 3);
	assert_int_equal(conv.count, 4);
	assert_int_equal(store_conv_list(fx->s, "car", NULL, 1, conv_one,
	    &conv), 0);
	assert_int_equal(conv.session_id, carol);
	assert_int_equal(conv.last, NOW);
	assert_int_equal(conv.count, OTHERS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_messages_paged_by_cursor,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_web_chat_is_no_conversation,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_parts_heads_and_one_part_bounded,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_outbox_rows_of_others_cost_nothing,
		    store_fx_setup, store_fx_teardown),
	};

	log_init(0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
