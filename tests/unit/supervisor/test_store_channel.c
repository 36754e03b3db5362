/*
 * Unit tests for supervisor/store_channel.c: channel conversations,
 * platform-id dedupe, the outbox's leases and retries, worker state,
 * the audit listing, and attachments (supervisor/store_attach.c).  Each test gets its own store file.
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
#ifdef STORE_FX_PG
/*
 * test_store_channel_pg: the same cases, the store's commits also
 * shipped to PostgreSQL and every table compared at teardown.
 */
#include "store_pg_fx.h"

static int
pg_setup(void **state)
{
	struct store_fx *fx;

	if (store_pg_fx_begin() == -1 || store_fx_setup(state) == -1)
		return -1;
	fx = *state;
	return store_capture(fx->s);
}

static int
pg_teardown(void **state)
{
	struct store_fx *fx = *state;

	store_pg_fx_close(fx->s);
	fx->s = NULL;
	return store_fx_teardown(state);
}

#define store_flush		store_pg_fx_flush
#define store_fx_setup		pg_setup
#define store_fx_teardown	pg_teardown
#endif

#define NOW	1700000000

/* Rows an outbox lease handed out, flattened to "id:peer:body:ctx;". */
struct sent {
	char		 out[1024];
	int		 n;
};

static void
sent_cb(const struct store_outbox_row *r, void *arg)
{
	struct sent *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%lld:%s:%s:%s:%d;",
	    (long long)r->id, r->peer, r->body, r->reply_ctx, r->key_gen);
	c->n++;
}

static void
test_conversations(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m;
	int64_t a, b, again, id, id2;
	char *acct, *peer, *ctx;

	assert_int_equal(store_chan_session(fx->s, "alice", "u1", NOW, &a), 0);
	assert_int_equal(store_chan_session(fx->s, "alice", "u2", NOW, &b), 0);
	assert_int_equal(store_chan_session(fx->s, "alice", "u1", NOW + 5,
	    &again), 0);
	assert_true(a != b);
	assert_int_equal(a, again);
	assert_int_equal(store_chan_of(fx->s, b, &acct, &peer), 0);
	assert_string_equal(acct, "alice");
	assert_string_equal(peer, "u2");
	free(acct);
	free(peer);

	/* A web chat session is not a channel conversation. */
	assert_int_equal(store_chan_of(fx->s, b + 100, &acct, &peer), 1);

	memset(&m, 0, sizeof(m));
	m.session = a;
	m.account = "alice";
	m.msgid = "7504133366464211000";
	m.peer = "u1";
	m.text = "hello";
	m.reply_ctx = "CTX1";
	assert_int_equal(store_chan_msg_seen(fx->s, "alice", m.msgid), 0);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &id), 0);
	assert_int_equal(store_chan_msg_seen(fx->s, "alice", m.msgid), 1);
	/* The same id at another account is another message. */
	assert_int_equal(store_chan_msg_seen(fx->s, "bob", m.msgid), 0);
	/* A redelivery cannot be stored twice. */
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &id2), -1);
	ctx = store_chan_msg_ctx(fx->s, id);
	assert_string_equal(ctx, "CTX1");
	free(ctx);
	ctx = store_chan_msg_ctx(fx->s, id + 100);
	assert_string_equal(ctx, "");
	free(ctx);
}

static void
test_outbox(void **state)
{
	struct store_fx *fx = *state;
	struct store_retry rt = { NOW, 0, 5, 3600, 0 };
	struct store_outbox_state os;
	struct sent c;
	int64_t delay, id;

	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 0, "one",
	    "C", NOW, NULL), 0);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 1, "two",
	    "", NOW, NULL), 0);
	assert_int_equal(store_outbox_add(fx->s, "bob", "u9", 0, 0, "other",
	    "", NOW, NULL), 0);

	/* Oldest first, up to the limit; only this account's. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW, NOW + 120,
	    1, sent_cb, &c), 1);
	assert_string_equal(c.out, "1:u1:one:C:0;");
	/* The reply's next part waits for the one before it to end. */
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW, NOW + 120,
	    8, sent_cb, &c), 0);
	/* Leased rows are not due again until the lease ends. */
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 119,
	    NOW + 240, 8, sent_cb, &c), 0);

	/* Acks are per account: bob cannot end alice's row. */
	assert_int_equal(store_outbox_ack(fx->s, "bob", 1, NOW), 1);
	assert_int_equal(store_outbox_ack(fx->s, "alice", 1, NOW + 1), 0);
	assert_int_equal(store_outbox_ack(fx->s, "alice", 1, NOW + 2), 1);
	assert_int_equal(store_outbox_count(fx->s, "alice"), 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW, NOW + 120,
	    8, sent_cb, &c), 1);
	assert_string_equal(c.out, "2:u1:two::0;");
	/* Sent stays for the operator, its reply token gone. */
	assert_int_equal(store_outbox_get(fx->s, 1, &os), 0);
	assert_string_equal(os.account, "alice");
	assert_string_equal(os.peer, "u1");
	assert_string_equal(os.state, "sent");
	assert_string_equal(os.detail, "");
	assert_int_equal(os.finished, NOW + 1);
	store_outbox_state_free(&os);
	assert_int_equal(store_outbox_get(fx->s, 99, &os), 1);

	/* Retries back off: 5 s, then 10 s, never before the platform's. */
	assert_int_equal(store_outbox_retry(fx->s, "alice", 2, &rt, &delay),
	    1);
	assert_int_equal(delay, 5);
	assert_int_equal(store_outbox_retry(fx->s, "alice", 2, &rt, &delay),
	    2);
	assert_int_equal(delay, 10);
	/* Surely refused: the next send of it goes under a new key. */
	rt.after_s = 60;
	rt.new_key = 1;
	assert_int_equal(store_outbox_retry(fx->s, "alice", 2, &rt, &delay),
	    3);
	assert_int_equal(delay, 60);
	assert_int_equal(store_outbox_retry(fx->s, "alice", 99, &rt, &delay),
	    0);

	/*
	 * A new worker: leased rows come back at once, a row waiting out
	 * a retry keeps its delay.
	 */
	assert_int_equal(store_outbox_lease(fx->s, "bob", NOW, NOW + 120, 8,
	    sent_cb, &c), 1);
	assert_int_equal(store_outbox_release(fx->s, "bob", NOW + 1), 0);
	assert_int_equal(store_outbox_release(fx->s, "alice", NOW + 1), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "bob", NOW + 1, NOW + 120,
	    8, sent_cb, &c), 1);
	assert_string_equal(c.out, "3:u9:other::0;");
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 1,
	    NOW + 120, 8, sent_cb, &c), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 60,
	    NOW + 120, 8, sent_cb, &c), 1);
	assert_string_equal(c.out, "2:u1:two::1;");

	/* Failed for good: ended with why, never due again, never acked. */
	assert_int_equal(store_outbox_finish(fx->s, "bob", 2, OUTBOX_FAILED,
	    "no", NOW), 1);
	assert_int_equal(store_outbox_finish(fx->s, "alice", 2, OUTBOX_FAILED,
	    "errcode 93000", NOW + 70), 0);
	assert_int_equal(store_outbox_ack(fx->s, "alice", 2, NOW + 71), 1);
	assert_int_equal(store_outbox_retry(fx->s, "alice", 2, &rt, &delay),
	    0);
	assert_int_equal(store_outbox_release(fx->s, "alice", NOW + 1000), 0);
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 1000,
	    NOW + 2000, 8, sent_cb, &c), 0);
	assert_int_equal(store_outbox_count(fx->s, "alice"), 0);
	assert_int_equal(store_outbox_get(fx->s, 2, &os), 0);
	assert_string_equal(os.state, "failed");
	assert_string_equal(os.detail, "errcode 93000");
	store_outbox_state_free(&os);

	/*
	 * Pruning takes finished rows by age, then beyond the newest keep;
	 * a queued row (bob's 3) is never pruned.
	 */
	assert_int_equal(store_outbox_prune(fx->s, NOW + 2, 10), 1);
	assert_int_equal(store_outbox_get(fx->s, 1, &os), 1);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 0, "four",
	    "", NOW, &id), 0);
	assert_int_equal(id, 4);
	assert_int_equal(store_outbox_ack(fx->s, "alice", 4, NOW + 80), 0);
	assert_int_equal(store_outbox_prune(fx->s, 0, 1), 1);
	assert_int_equal(store_outbox_get(fx->s, 2, &os), 1);
	assert_int_equal(store_outbox_get(fx->s, 4, &os), 0);
	store_outbox_state_free(&os);
	assert_int_equal(store_outbox_prune(fx->s, NOW + 1000, 0), 1);
	assert_int_equal(store_outbox_count(fx->s, "bob"), 1);
}

/*
 * Order within a reply: its parts go one at a time, oldest first, even
 * when one is retried; another reply (to the same peer or another) is
 * not held up by it.
 */
static void
test_outbox_order(void **state)
{
	struct store_fx *fx = *state;
	struct store_retry rt = { NOW, 0, 5, 3600, 0 };
	struct sent c;
	int64_t delay;

	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 0, "a1",
	    "", NOW, NULL), 0);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 1, "a2",
	    "", NOW, NULL), 0);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u2", 0, 0, "b1",
	    "", NOW, NULL), 0);
	/* A later notice to u1: a reply of its own. */
	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 0, "c1",
	    "", NOW + 1, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 1,
	    NOW + 120, 8, sent_cb, &c), 3);
	assert_string_equal(c.out, "1:u1:a1::0;3:u2:b1::0;4:u1:c1::0;");
	/* a1 fails and waits 5 s: a2 waits behind it all that time. */
	assert_int_equal(store_outbox_retry(fx->s, "alice", 1, &rt, &delay),
	    1);
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 4,
	    NOW + 120, 8, sent_cb, &c), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 5,
	    NOW + 120, 8, sent_cb, &c), 1);
	assert_string_equal(c.out, "1:u1:a1::0;");
	/* Failed for good ends it too: then a2 may go. */
	assert_int_equal(store_outbox_finish(fx->s, "alice", 1, OUTBOX_FAILED,
	    "no", NOW + 6), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 6,
	    NOW + 120, 8, sent_cb, &c), 1);
	assert_string_equal(c.out, "2:u1:a2::0;");
}

/* u1's conversation with alice, and its first message (m1, CTX1) as m
 * would store it. */
static void
alice_says(struct store_fx *fx, struct store_chan_msg *m)
{
	int64_t sess;

	assert_int_equal(store_chan_session(fx->s, "alice", "u1", NOW, &sess),
	    0);
	memset(m, 0, sizeof(*m));
	m->session = sess;
	m->account = "alice";
	m->peer = "u1";
	m->text = "one";
	m->msgid = "m1";
	m->reply_ctx = "CTX1";
}

/* iLink's rule (1.4): a reply rides on the peer's newest token. */
static void
test_outbox_latest_ctx(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m;
	struct sent c;
	int64_t id1, id2;

	alice_says(fx, &m);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &id1), 0);
	m.msgid = "m2";
	m.reply_ctx = "CTX2";
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &id2), 0);
	/* Another account's newer token is not this one's. */
	m.account = "bob";
	m.msgid = "m3";
	m.reply_ctx = "CTX-BOB";
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &id2), 0);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", id1, 0,
	    "answer one", "CTX1", NOW, NULL), 0);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u9", 0, 0,
	    "a notice", "CTX9", NOW, NULL), 0);
	/* Rows from `below` up are not in a cluster's truth yet: held. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW,
	    NOW + 120, 8, 1, 2, sent_cb, &c), 1);
	assert_string_equal(c.out, "1:u1:answer one:CTX2:0;");
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW,
	    NOW + 120, 8, 1, 1, sent_cb, &c), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW,
	    NOW + 120, 8, 1, INT64_MAX, sent_cb, &c), 1);
	assert_string_equal(c.out, "2:u9:a notice:CTX9:0;");
	/* Past the lease both come again, each with its context. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW + 120,
	    NOW + 200, 8, 1, INT64_MAX, sent_cb, &c), 2);
	assert_string_equal(c.out, "1:u1:answer one:CTX2:0;2:u9:a notice:"
	    "CTX9:0;");
	/* Without the rule, each row keeps its own. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 200,
	    NOW + 320, 8, sent_cb, &c), 2);
	assert_string_equal(c.out, "1:u1:answer one:CTX1:0;2:u9:a notice:"
	    "CTX9:0;");
}

/* Rows leased, each as "id:spent;". */
static void
spent_cb(const struct store_outbox_row *r, void *arg)
{
	struct sent *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%lld:%d;",
	    (long long)r->id, r->spent);
	c->n++;
}

/*
 * §7.2: with each row, the messages its context carried so far: rows
 * sent that went out with it, whoever sent them, and not those that
 * went with the context before, even acked in the same second.
 */
static void
test_outbox_spent(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m;
	struct sent c;
	int64_t msg, row[5];
	char want[128];
	int i;

	alice_says(fx, &m);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 0,
		    "part", "CTX1", NOW, &row[i]), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW,
	    NOW + 120, 8, 1, INT64_MAX, spent_cb, &c), 4);
	snprintf(want, sizeof(want), "%lld:0;%lld:0;%lld:0;%lld:0;",
	    (long long)row[0], (long long)row[1], (long long)row[2],
	    (long long)row[3]);
	assert_string_equal(c.out, want);
	assert_int_equal(store_outbox_ack(fx->s, "alice", row[0], NOW), 0);
	assert_int_equal(store_outbox_ack(fx->s, "alice", row[1], NOW), 0);
	/* A new worker takes the rest: two spent already. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW + 120,
	    NOW + 240, 8, 1, INT64_MAX, spent_cb, &c), 2);
	snprintf(want, sizeof(want), "%lld:2;%lld:2;", (long long)row[2],
	    (long long)row[3]);
	assert_string_equal(c.out, want);
	/* The person writes again; a row handed out before is acked. */
	m.msgid = "m2";
	m.reply_ctx = "CTX2";
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	assert_int_equal(store_outbox_ack(fx->s, "alice", row[2], NOW), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW + 240,
	    NOW + 360, 8, 1, INT64_MAX, spent_cb, &c), 1);
	snprintf(want, sizeof(want), "%lld:0;", (long long)row[3]);
	assert_string_equal(c.out, want);
	assert_int_equal(store_outbox_ack(fx->s, "alice", row[3], NOW), 0);
	assert_int_equal(store_outbox_add(fx->s, "alice", "u1", 0, 0, "more",
	    "", NOW, &row[4]), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease_ctx(fx->s, "alice", NOW,
	    NOW + 120, 8, 1, INT64_MAX, spent_cb, &c), 1);
	snprintf(want, sizeof(want), "%lld:1;", (long long)row[4]);
	assert_string_equal(c.out, want);
	/* Without the rule nothing is counted. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "alice", NOW + 120,
	    NOW + 240, 8, spent_cb, &c), 1);
	snprintf(want, sizeof(want), "%lld:0;", (long long)row[4]);
	assert_string_equal(c.out, want);
}

static void
test_kv(void **state)
{
	struct store_fx *fx = *state;
	char *v;

	assert_int_equal(store_kv_get(fx->s, "alice", "cursor", &v), 1);
	assert_int_equal(store_kv_put(fx->s, "alice", "cursor", "abc", NOW),
	    0);
	assert_int_equal(store_kv_put(fx->s, "alice", "cursor", "def", NOW),
	    0);
	assert_int_equal(store_kv_get(fx->s, "alice", "cursor", &v), 0);
	assert_string_equal(v, "def");
	free(v);
	/* One account's state is not another's. */
	assert_int_equal(store_kv_get(fx->s, "bob", "cursor", &v), 1);
	assert_int_equal(store_kv_put(fx->s, "alice", "cursor", "", NOW), 0);
	assert_int_equal(store_kv_get(fx->s, "alice", "cursor", &v), 1);
}

static void
test_pairing_live(void **state)
{
	struct store_fx *fx = *state;

	assert_int_equal(store_pairing_live(fx->s, "alice", "u1", NOW), 0);
	assert_int_equal(store_pairing_create(fx->s, "alice", "u1",
	    "ABCD2345", NOW, NOW + 60), 0);
	assert_int_equal(store_pairing_live(fx->s, "alice", "u1", NOW + 59),
	    1);
	assert_int_equal(store_pairing_live(fx->s, "alice", "u1", NOW + 60),
	    0);
	assert_int_equal(store_pairing_live(fx->s, "bob", "u1", NOW), 0);
	assert_int_equal(store_peer_allowed(fx->s, "alice", "u1"), 0);
	assert_int_equal(store_peer_allow(fx->s, "alice", "u1", NOW), 0);
	assert_int_equal(store_peer_allowed(fx->s, "alice", "u1"), 1);
	assert_int_equal(store_peer_allowed(fx->s, "bob", "u1"), 0);
}

struct arows {
	char	 out[512];
	int	 stop_after;
	int	 calls;
};

static int
audit_cb(const struct store_audit_row *r, void *arg)
{
	struct arows *a = arg;
	size_t n = strlen(a->out);

	snprintf(a->out + n, sizeof(a->out) - n, "%lld:%s:%s:%lld:%s;",
	    (long long)(r->time - NOW), r->role,
	    r->worker != NULL ? r->worker : "-", (long long)r->session,
	    r->method != NULL ? r->method : "-");
	return ++a->calls == a->stop_after ? -1 : 0;
}

static void
test_audit_list(void **state)
{
	struct store_fx *fx = *state;
	struct arows a;
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(store_audit(fx->s, NOW + i, "webchat",
		    "webchat.0", i, "share.create", "x"), 0);
	/* The newest three, oldest first. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_audit_list(fx->s, 3, audit_cb, &a), 0);
	assert_string_equal(a.out, "2:webchat:webchat.0:2:share.create;"
	    "3:webchat:webchat.0:3:share.create;"
	    "4:webchat:webchat.0:4:share.create;");
	memset(&a, 0, sizeof(a));
	a.stop_after = 1;
	assert_int_equal(store_audit_list(fx->s, 3, audit_cb, &a), 0);
	assert_int_equal(a.calls, 1);
}

/* Schedules (store_sched.c): names, due order, the run lock. */
struct sched_seen {
	char		 out[512];
};

static void
sched_cb(const struct store_sched *sc, void *arg)
{
	struct sched_seen *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%s@%lld;", sc->name,
	    (long long)sc->next_run);
}

static void
test_sched(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m;
	struct store_sched sc, got;
	struct sched_seen c;
	int64_t id, run, when, msg;
	char *name;

	memset(&sc, 0, sizeof(sc));
	sc.name = "morning";
	sc.cron = "0 8 * * *";
	sc.tz = "Europe/Berlin";
	sc.body = "hello";
	sc.targets = "hook:group";
	sc.last_slot = NOW;
	sc.next_run = NOW + 60;
	sc.created = NOW;
	assert_int_equal(store_sched_add(fx->s, &sc, &id), 0);
	/* A name is taken once; nothing half-made. */
	assert_int_equal(store_sched_add(fx->s, &sc, NULL), 1);
	sc.name = "later";
	sc.cron = NULL;
	sc.every = "30m";
	sc.next_run = NOW + 600;
	assert_int_equal(store_sched_add(fx->s, &sc, NULL), 0);

	assert_int_equal(store_sched_soonest(fx->s, &when), 0);
	assert_int_equal(when, NOW + 60);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_sched_due(fx->s, NOW + 59, 8, sched_cb, &c), 0);
	assert_int_equal(store_sched_due(fx->s, NOW + 600, 8, sched_cb, &c),
	    2);
	assert_string_equal(c.out, "morning@1700000060;later@1700000600;");
	/* Paused: not due, and not the soonest. */
	assert_int_equal(store_sched_pause(fx->s, "morning", 1), 0);
	assert_int_equal(store_sched_pause(fx->s, "nobody", 1), 1);
	assert_int_equal(store_sched_soonest(fx->s, &when), 0);
	assert_int_equal(when, NOW + 600);

	/* The run row is the lock: a slot runs once, manual runs any time. */
	assert_int_equal(store_sched_get(fx->s, "morning", &got), 0);
	assert_string_equal(got.tz, "Europe/Berlin");
	assert_null(got.every);
	assert_int_equal(got.paused, 1);
	assert_int_equal(store_run_start(fx->s, &got, NOW + 60, 0, NOW + 61,
	    &run), 0);
	assert_int_equal(store_run_start(fx->s, &got, NOW + 60, 0, NOW + 62,
	    &id), 1);
	assert_int_equal(store_run_start(fx->s, &got, NOW + 60, 1, NOW + 62,
	    &id), 0);
	assert_int_equal(store_runs_running(fx->s), 2);
	/* The prompt is a message of the schedule's own conversation. */
	m.account = "@sched.default";
	m.msgid = NULL;
	m.peer = "morning";
	m.text = "hello";
	m.reply_ctx = "";
	assert_int_equal(store_chan_session(fx->s, m.account, m.peer, NOW,
	    &m.session), 0);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	assert_int_equal(store_run_prompt(fx->s, run, msg), 0);
	assert_int_equal(store_run_of_msg(fx->s, msg, &id, &name), 0);
	assert_int_equal(id, run);
	assert_string_equal(name, "morning");
	free(name);
	assert_int_equal(store_run_end(fx->s, run, RUN_DONE, NULL, NOW + 70,
	    NOW + 70), 0);
	assert_int_equal(store_run_of_msg(fx->s, msg, &id, &name), 1);
	assert_int_equal(store_runs_running(fx->s), 1);
	store_sched_free(&got);

	/* Removing a schedule keeps its history. */
	assert_int_equal(store_sched_remove(fx->s, "morning"), 0);
	assert_int_equal(store_sched_get(fx->s, "morning", &got), 1);
}

/*
 * A sealed schedule (store_sched_e2e.c, docs/e2e.md): only its owner
 * sets the prompt, a run of it says its schedule and slot, and its
 * answer is read back whole for the page.
 */
static void
test_sched_sealed(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m;
	struct store_sched sc, got;
	struct store_run_seal rs;
	int64_t id, plain, run, msg;
	char *reply;

	memset(&sc, 0, sizeof(sc));
	sc.name = "plain";
	sc.every = "1h";
	sc.tz = "UTC";
	sc.agent = "home";
	sc.body = "hello";
	sc.targets = "hook:group";
	sc.last_slot = sc.created = NOW;
	sc.next_run = NOW + 3600;
	assert_int_equal(store_sched_add(fx->s, &sc, &plain), 0);
	sc.name = "sealed";
	sc.body = sc.targets = "";
	sc.owner = "root-op";
	sc.sealed = 1;
	sc.paused = 1;
	assert_int_equal(store_sched_add(fx->s, &sc, &id), 0);
	assert_int_equal(store_sched_get_id(fx->s, id, &got), 0);
	assert_string_equal(got.name, "sealed");
	assert_string_equal(got.owner, "root-op");
	assert_int_equal(got.sealed, 1);
	assert_string_equal(got.body, "");
	store_sched_free(&got);
	assert_int_equal(store_sched_get_id(fx->s, id + 100, &got), 1);
	assert_int_equal(store_sched_get(fx->s, "plain", &got), 0);
	assert_null(got.owner);
	assert_int_equal(got.sealed, 0);
	store_sched_free(&got);

	/* Another operator's, a plain one, none: not set. */
	assert_int_equal(store_sched_seal(fx->s, id, "other", "{}"), 1);
	assert_int_equal(store_sched_seal(fx->s, plain, "root-op", "{}"), 1);
	assert_int_equal(store_sched_seal(fx->s, id + 100, "root-op", "{}"),
	    1);
	assert_int_equal(store_sched_seal(fx->s, id, "root-op", "{\"v\":1}"),
	    0);
	assert_int_equal(store_sched_get_id(fx->s, id, &got), 0);
	assert_string_equal(got.body, "{\"v\":1}");

	/* A run of it, and its answer. */
	assert_int_equal(store_run_start(fx->s, &got, NOW + 3600, 0,
	    NOW + 3601, &run), 0);
	memset(&m, 0, sizeof(m));
	m.account = "@sched:home";
	m.peer = "sealed";
	m.text = got.body;
	m.reply_ctx = "";
	assert_int_equal(store_chan_session(fx->s, m.account, m.peer, NOW,
	    &m.session), 0);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	assert_int_equal(store_run_prompt(fx->s, run, msg), 0);
	assert_int_equal(store_run_sealed(fx->s, msg, &rs), 0);
	assert_int_equal(rs.schedule, id);
	assert_int_equal(rs.slot, NOW + 3600);
	assert_string_equal(rs.owner, "root-op");
	free(rs.owner);
	assert_int_equal(store_run_sealed(fx->s, msg + 100, &rs), 1);
	assert_int_equal(store_run_reply(fx->s, id, run, &reply), 1);
	assert_int_equal(store_msg_answer(fx->s, msg, "{\"v\":2}", NOW + 3602),
	    0);
	/* Asked as another schedule's run: none. */
	assert_int_equal(store_run_reply(fx->s, plain, run, &reply), 1);
	assert_int_equal(store_run_reply(fx->s, id, run, &reply), 0);
	assert_string_equal(reply, "{\"v\":2}");
	free(reply);
	store_sched_free(&got);

	/* A plain schedule's run is not sealed. */
	assert_int_equal(store_sched_get(fx->s, "plain", &got), 0);
	assert_int_equal(store_run_start(fx->s, &got, NOW + 3600, 0,
	    NOW + 3601, &run), 0);
	m.peer = "plain";
	m.text = "hello";
	assert_int_equal(store_chan_session(fx->s, m.account, m.peer, NOW,
	    &m.session), 0);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	assert_int_equal(store_run_prompt(fx->s, run, msg), 0);
	assert_int_equal(store_run_sealed(fx->s, msg, &rs), 1);
	store_sched_free(&got);
}

struct hist {
	char		 out[512];
};

static void
hist_run(const struct store_run_row *r, void *arg)
{
	struct hist *h = arg;
	size_t n = strlen(h->out);

	snprintf(h->out + n, sizeof(h->out) - n, "run %s %s;", r->name,
	    r->state);
}

static void
hist_target(const struct store_run_target_row *t, void *arg)
{
	struct hist *h = arg;
	size_t n = strlen(h->out);

	snprintf(h->out + n, sizeof(h->out) - n, "%s:%s %s %s;", t->account,
	    t->peer, t->state, t->detail);
}

/*
 * A run's rows to a peer who must write first are held, not leased;
 * the peer's message releases them, and a hold that runs out ends them
 * undeliverable.  The targets settle from their rows.
 */
static void
test_sched_held(void **state)
{
	struct store_fx *fx = *state;
	struct store_sched sc;
	struct sent c;
	struct hist h;
	int64_t run, when;

	memset(&sc, 0, sizeof(sc));
	sc.name = "brief";
	sc.every = "1h";
	sc.tz = "UTC";
	sc.body = "b";
	sc.targets = "wx:u1\nwx:u2";
	sc.last_slot = NOW;
	sc.next_run = NOW;
	sc.created = NOW;
	assert_int_equal(store_sched_add(fx->s, &sc, &sc.id), 0);
	assert_int_equal(store_run_start(fx->s, &sc, NOW, 0, NOW, &run), 0);
	assert_int_equal(store_outbox_add_run(fx->s, "wx", "u1", 0, "held",
	    run, NOW + 100, NOW, NULL), 0);
	assert_int_equal(store_outbox_add_run(fx->s, "wx", "u2", 0, "expires",
	    run, NOW + 50, NOW, NULL), 0);
	assert_int_equal(store_run_target(fx->s, run, 0, "wx", "u1", "queued",
	    NULL), 0);
	assert_int_equal(store_run_target(fx->s, run, 1, "wx", "u2", "queued",
	    NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "wx", NOW + 10, NOW + 130,
	    8, sent_cb, &c), 0);

	/* u1 never wrote; then writes. */
	assert_int_equal(store_peer_contact(fx->s, "wx", "u1", &when), 1);
	assert_int_equal(store_outbox_unhold(fx->s, "wx", "u1", NOW + 20), 1);
	assert_int_equal(store_outbox_lease(fx->s, "wx", NOW + 20, NOW + 140,
	    8, sent_cb, &c), 1);
	assert_string_equal(c.out, "1:u1:held::0;");
	assert_int_equal(store_outbox_ack(fx->s, "wx", 1, NOW + 21), 0);

	/* u2's hold runs out: undeliverable, and never leased. */
	assert_int_equal(store_outbox_expire_held(fx->s, "wx", NOW + 49,
	    "x"), 0);
	/* Another account's holds are not this one's. */
	assert_int_equal(store_outbox_expire_held(fx->s, "other", NOW + 50,
	    "x"), 0);
	assert_int_equal(store_outbox_expire_held(fx->s, "wx", NOW + 50,
	    "no contact"), 1);
	assert_int_equal(store_outbox_lease(fx->s, "wx", NOW + 60, NOW + 180,
	    8, sent_cb, &c), 0);

	assert_int_equal(store_run_end(fx->s, run, RUN_DONE, NULL, 0,
	    NOW + 1), 0);
	assert_int_equal(store_run_settle(fx->s), 0);
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_run_history(fx->s, NULL, 10, hist_run,
	    hist_target, &h), 1);
	assert_string_equal(h.out, "run brief done;wx:u1 sent ;"
	    "wx:u2 undeliverable no contact;");
}

static void
recent_run(const struct store_run_row *r, void *arg)
{
	struct hist *h = arg;
	size_t n = strlen(h->out);

	snprintf(h->out + n, sizeof(h->out) - n, "%s@%lld %s%s%s;", r->name,
	    (long long)r->slot, r->state, r->reply != NULL ? " " : "",
	    r->reply != NULL ? r->reply : "");
}

/*
 * The console's schedules page in one query: the newest runs of each
 * of the first schedules by name, each with its targets, a sealed
 * one's with its answer; not a removed schedule's, nor one past the
 * page.
 */
static void
test_run_recent(void **state)
{
	struct store_fx *fx = *state;
	struct store_chan_msg m;
	struct store_sched sc;
	struct hist h;
	int64_t run, msg;
	int i;

	memset(&sc, 0, sizeof(sc));
	sc.every = "1h";
	sc.tz = "UTC";
	sc.body = "b";
	sc.targets = "wx:u1\nwx:u2";
	sc.last_slot = sc.next_run = sc.created = NOW;
	sc.name = "alpha";
	assert_int_equal(store_sched_add(fx->s, &sc, &sc.id), 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(store_run_start(fx->s, &sc, NOW + i, 0,
		    NOW + i, &run), 0);
		if (i >= 2)
			assert_int_equal(store_run_target(fx->s, run, 0, "wx",
			    "u1", "sent", NULL), 0);
		if (i == 3)
			assert_int_equal(store_run_target(fx->s, run, 1, "wx",
			    "u2", "failed", "gone"), 0);
		assert_int_equal(store_run_end(fx->s, run, RUN_DONE, NULL, 0,
		    NOW + i), 0);
	}
	sc.name = "gamma";
	assert_int_equal(store_sched_add(fx->s, &sc, &sc.id), 0);
	assert_int_equal(store_run_start(fx->s, &sc, NOW, 1, NOW, &run), 0);
	/* A removed schedule's runs keep its name, and are not listed. */
	sc.name = "aardvark";
	assert_int_equal(store_sched_add(fx->s, &sc, &sc.id), 0);
	assert_int_equal(store_run_start(fx->s, &sc, NOW, 1, NOW, &run), 0);
	assert_int_equal(store_sched_remove(fx->s, "aardvark"), 0);
	/* A sealed one's run, answered. */
	sc.name = "beta";
	sc.agent = "home";
	sc.body = "{\"v\":1}";
	sc.targets = "";
	sc.owner = "root-op";
	sc.sealed = 1;
	assert_int_equal(store_sched_add(fx->s, &sc, &sc.id), 0);
	assert_int_equal(store_run_start(fx->s, &sc, NOW + 7, 0, NOW + 7,
	    &run), 0);
	memset(&m, 0, sizeof(m));
	m.account = "@sched:home";
	m.peer = "beta";
	m.text = sc.body;
	m.reply_ctx = "";
	assert_int_equal(store_chan_session(fx->s, m.account, m.peer, NOW,
	    &m.session), 0);
	assert_int_equal(store_chan_msg_accept(fx->s, &m, NOW, &msg), 0);
	assert_int_equal(store_run_prompt(fx->s, run, msg), 0);
	assert_int_equal(store_msg_answer(fx->s, msg, "{\"v\":2}", NOW + 8),
	    0);

	memset(&h, 0, sizeof(h));
	assert_int_equal(store_run_recent(fx->s, 2, 2, recent_run,
	    hist_target, &h), 0);
	assert_string_equal(h.out, "alpha@1700000002 done;wx:u1 sent ;"
	    "alpha@1700000003 done;wx:u1 sent ;wx:u2 failed gone;"
	    "beta@1700000007 running {\"v\":2};");
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_run_recent(fx->s, 10, 5, recent_run,
	    hist_target, &h), 0);
	assert_string_equal(h.out, "alpha@1700000001 done;"
	    "alpha@1700000002 done;wx:u1 sent ;"
	    "alpha@1700000003 done;wx:u1 sent ;wx:u2 failed gone;"
	    "beta@1700000007 running {\"v\":2};gamma@1700000000 running;");
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_run_recent(fx->s, 0, 5, recent_run,
	    hist_target, &h), 0);
	assert_string_equal(h.out, "");
}

/* Leased attachment rows, as "id:attachment;". */
static void
att_cb(const struct store_outbox_row *r, void *arg)
{
	struct sent *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%lld:%s:%lld;",
	    (long long)r->id, r->body, (long long)r->attachment);
	c->n++;
}

static void
test_attach(void **state)
{
	struct store_fx *fx = *state;
	struct store_attach a, got;
	uint8_t data[] = "0123456789";
	uint64_t waiting;
	struct sent c;
	int64_t id1, id2;

	memset(&a, 0, sizeof(a));
	a.account = "hook";
	a.peer = "group";
	a.name = "a.txt";
	a.kind = "file";
	a.data = data;
	a.size = 10;
	memset(a.sha256, 0xab, sizeof(a.sha256));
	assert_int_equal(store_attach_add(fx->s, &a, NOW, &id1), 0);
	a.name = "b.png";
	a.kind = "image";
	a.size = 4;
	assert_int_equal(store_attach_add(fx->s, &a, NOW, &id2), 0);
	/* An empty file never gets in. */
	a.size = 0;
	assert_int_equal(store_attach_add(fx->s, &a, NOW, NULL), -1);
	assert_int_equal(store_flush(fx->s), 0);
	assert_int_equal(store_attach_waiting(fx->s, &waiting), 0);
	assert_int_equal(waiting, 14);

	/* Rows carry their attachment; the body is the name. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_outbox_lease(fx->s, "hook", NOW, NOW + 120,
	    8, att_cb, &c), 2);
	assert_string_equal(c.out, "1:a.txt:1;2:b.png:2;");
	assert_int_equal(store_attach_get(fx->s, 1, &got), 0);
	assert_string_equal(got.name, "a.txt");
	assert_string_equal(got.kind, "file");
	assert_int_equal(got.size, 10);
	assert_memory_equal(got.data, data, 10);
	store_attach_free(&got);
	assert_int_equal(store_attach_get(fx->s, 99, &got), 1);

	/* Sent: its bytes go at once, the waiting total with them. */
	assert_int_equal(store_outbox_ack(fx->s, "hook", id1, NOW + 1), 0);
	assert_int_equal(store_attach_get(fx->s, 1, &got), 1);
	assert_int_equal(store_attach_waiting(fx->s, &waiting), 0);
	assert_int_equal(waiting, 4);
	assert_int_equal(store_outbox_finish(fx->s, "hook", id2,
	    OUTBOX_FAILED, "no", NOW + 1), 0);
	assert_int_equal(store_attach_waiting(fx->s, &waiting), 0);
	assert_int_equal(waiting, 0);
	/* Pruned rows take their attachments along, in the same turn. */
	assert_int_equal(store_outbox_prune(fx->s, NOW + 1000, 0), 2);
	assert_int_equal(store_attach_prune(fx->s), 0);
	assert_int_equal(store_flush(fx->s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, store_fx_setup, \
	    store_fx_teardown)
		T(test_conversations),
		T(test_outbox),
		T(test_outbox_order),
		T(test_outbox_latest_ctx),
		T(test_outbox_spent),
		T(test_kv),
		T(test_pairing_live),
		T(test_audit_list),
		T(test_sched),
		T(test_sched_sealed),
		T(test_sched_held),
		T(test_run_recent),
		T(test_attach),
#undef T
	};

	log_init(0, 0);
#ifdef STORE_FX_PG
	return cmocka_run_group_tests(tests, store_pg_fx_connect,
	    store_pg_fx_disconnect);
#else
	return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
