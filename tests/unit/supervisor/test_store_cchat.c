/*
 * Unit tests for supervisor/store_cchat.c: the console's chat threads.
 * A thread holds its messages as any chat does; a branch copies its
 * parent's answered messages up to one of them, with the model picked;
 * the web chat's sweep never takes a thread's session; only an answered
 * message of a thread is a point to branch from.  A sealed thread
 * (docs/e2e.md) numbers its messages, gives the agent's context their
 * numbers, has no branches; store_e2e.c keeps each operator's record.
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
#include "store.h"
#include "store_fx.h"

#define NOW	1700000000

struct seen {
	int64_t		 id[8];
	char		 text[8][32];
	char		 reply[8][32];
	int		 state[8];
	int		 n;
};

static int
seen_msg(const struct store_cchat_msg *m, void *arg)
{
	struct seen *sn = arg;

	sn->id[sn->n] = m->id;
	snprintf(sn->text[sn->n], sizeof(sn->text[0]), "%s", m->text);
	snprintf(sn->reply[sn->n], sizeof(sn->reply[0]), "%s",
	    m->reply != NULL ? m->reply : "-");
	sn->state[sn->n] = m->state;
	sn->n++;
	return 0;
}

static int
seen_thread(const struct store_cchat *t, void *arg)
{
	struct seen *sn = arg;

	sn->id[sn->n] = t->id;
	snprintf(sn->text[sn->n], sizeof(sn->text[0]), "%s",
	    t->last_text != NULL ? t->last_text : "-");
	sn->state[sn->n] = (int)t->count;
	sn->n++;
	return 0;
}

/* A message in the thread's session, answered unless reply is NULL. */
static int64_t
say(struct store *s, int64_t session, const char *cmid, const char *text,
    const char *reply)
{
	int64_t id;

	assert_int_equal(store_msg_accept(s, session, cmid, text, NOW, &id),
	    0);
	if (reply != NULL)
		assert_int_equal(store_msg_answer(s, id, reply, NOW), 0);
	return id;
}

static void
test_thread_branch_and_list(void **state)
{
	struct store_fx *fx = *state;
	struct store_cchat t, b;
	struct seen sn;
	int64_t tid, bid, m1, m2, m3, ids[4];
	char *model;

	assert_int_equal(store_cchat_create(fx->s, "default", "root-op", 0, NOW,
	    &tid), 0);
	assert_int_equal(store_cchat_find(fx->s, tid, &t), 0);
	assert_string_equal(t.agent, "default");
	assert_string_equal(t.operator, "root-op");
	assert_int_equal(t.parent_id, 0);
	assert_int_equal(t.e2e, 0);
	m1 = say(fx->s, t.session_id, "c1", "one", "r1");
	m2 = say(fx->s, t.session_id, "c2", "two", "r2");
	m3 = say(fx->s, t.session_id, "c3", "three", NULL);
	assert_int_equal(store_session_set_model(fx->s, t.session_id, "large"),
	    0);
	assert_int_equal(store_flush(fx->s), 0);

	/* Not answered, or no such message: nothing to branch from. */
	assert_int_equal(store_cchat_branch(fx->s, m3, "root-op", NOW, &bid),
	    1);
	assert_int_equal(store_cchat_branch(fx->s, m3 + 100, "root-op", NOW,
	    &bid), 1);
	assert_int_equal(store_cchat_branch(fx->s, m2, "root-op", NOW, &bid),
	    0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_cchat_find(fx->s, bid, &b), 0);
	assert_int_equal(b.parent_id, tid);
	assert_int_equal(b.parent_msg, m2);
	assert_string_equal(b.agent, "default");
	assert_true(b.session_id != t.session_id);
	model = store_session_model(fx->s, b.session_id);
	assert_string_equal(model, "large");
	free(model);

	memset(&sn, 0, sizeof(sn));
	assert_int_equal(store_cchat_messages(fx->s, b.session_id, 0, 10,
	    seen_msg, &sn), 0);
	assert_int_equal(sn.n, 2);
	assert_string_equal(sn.text[0], "one");
	assert_string_equal(sn.reply[0], "r1");
	assert_string_equal(sn.text[1], "two");
	assert_string_equal(sn.reply[1], "r2");
	/* Copies, not the parent's rows. */
	assert_true(sn.id[0] > m3);

	/* The parent's, after its first: oldest first, unanswered too. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(store_cchat_messages(fx->s, t.session_id, m1, 10,
	    seen_msg, &sn), 0);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.id[0], m2);
	assert_int_equal(sn.state[1], MSG_ACCEPTED);
	assert_string_equal(sn.reply[1], "-");

	/* Newest first, named by their newest message. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(store_cchat_list(fx->s, 10, seen_thread, &sn), 0);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.id[0], bid);
	assert_string_equal(sn.text[0], "two");
	assert_int_equal(sn.state[0], 2);
	assert_int_equal(sn.id[1], tid);
	assert_string_equal(sn.text[1], "three");
	assert_int_equal(sn.state[1], 3);

	/* The web chat's sweep never takes a thread, however old. */
	assert_int_equal(store_session_expired(fx->s, NOW + 100000000, 1, ids,
	    4), 0);
	assert_int_equal(store_cchat_find(fx->s, tid + 100, &t), 1);
}

/* A web chat session's message is no thread's: no branch. */
static void
test_no_branch_off_a_web_chat(void **state)
{
	struct store_fx *fx = *state;
	uint8_t h[STORE_HASH_LEN];
	int64_t session, m, bid;

	memset(h, 7, sizeof(h));
	assert_int_equal(store_session_create(fx->s, h, NOW, 0, &session), 0);
	m = say(fx->s, session, "w1", "hi", "hello");
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_cchat_branch(fx->s, m, "root-op", NOW, &bid),
	    1);
}

struct numbered {
	char		 out[256];
};

static int
numbered_turn(const char *role, const char *text, int64_t seq, void *arg)
{
	struct numbered *nb = arg;
	size_t n = strlen(nb->out);

	snprintf(nb->out + n, sizeof(nb->out) - n, "%s:%s:%lld;", role, text,
	    (long long)seq);
	return 0;
}

static void
test_sealed_thread(void **state)
{
	struct store_fx *fx = *state;
	struct store_cchat t, of;
	struct numbered nb;
	int64_t tid, m1, m2, m3, bid;
	char *rec;

	assert_int_equal(store_cchat_create(fx->s, "home", "root-op", 1, NOW,
	    &tid), 0);
	assert_int_equal(store_cchat_find(fx->s, tid, &t), 0);
	assert_int_equal(t.e2e, 1);
	assert_int_equal(store_cchat_of_session(fx->s, t.session_id, &of), 0);
	assert_int_equal(of.id, tid);
	assert_int_equal(of.e2e, 1);
	assert_int_equal(store_cchat_of_session(fx->s, t.session_id + 99,
	    &of), 1);

	/* Numbered from 1; a command is not sealed and takes none. */
	assert_int_equal(store_cchat_seq_next(fx->s, t.session_id), 1);
	m1 = say(fx->s, t.session_id, "c1", "E1", "R1");
	assert_int_equal(store_cchat_seq_set(fx->s, m1, 1), 0);
	m2 = say(fx->s, t.session_id, "c2", "/new", NULL);
	assert_int_equal(store_cchat_seq_next(fx->s, t.session_id), 2);
	m3 = say(fx->s, t.session_id, "c3", "E2", "R2");
	assert_int_equal(store_cchat_seq_set(fx->s, m3, 2), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_cchat_seq_next(fx->s, t.session_id), 3);
	assert_int_equal(store_cchat_seq(fx->s, m1), 1);
	assert_int_equal(store_cchat_seq(fx->s, m2), 0);
	assert_int_equal(store_cchat_seq(fx->s, m3), 2);

	/* The agent's context carries each turn's number. */
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(store_context(fx->s, t.session_id, 10, 0,
	    numbered_turn, &nb), 0);
	assert_string_equal(nb.out, "user:E1:1;assistant:R1:1;"
	    "user:E2:2;assistant:R2:2;");

	/* No branch off a sealed thread: its numbers bind its id. */
	assert_int_equal(store_cchat_branch(fx->s, m1, "root-op", NOW, &bid),
	    1);

	/* Each operator's record; a new passphrase replaces it. */
	assert_int_equal(store_e2e_key_get(fx->s, "root-op", &rec), 1);
	assert_null(rec);
	assert_int_equal(store_e2e_key_set(fx->s, "root-op", "{\"v\":1}",
	    NOW), 0);
	assert_int_equal(store_e2e_key_set(fx->s, "root-op", "{\"v\":2}",
	    NOW + 1), 0);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_e2e_key_get(fx->s, "root-op", &rec), 0);
	assert_string_equal(rec, "{\"v\":2}");
	free(rec);
	assert_int_equal(store_e2e_key_get(fx->s, "other", &rec), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thread_branch_and_list,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_branch_off_a_web_chat,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sealed_thread,
		    store_fx_setup, store_fx_teardown),
	};

	log_init(0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
