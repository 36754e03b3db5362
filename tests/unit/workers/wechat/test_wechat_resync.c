/*
 * Unit tests for sup.resync in the wechat worker's poll.c and send.c:
 * the batch's unacked messages go to a new hub again under the same
 * req_ids, an ack that comes twice after a resync is not fatal (one for
 * an id never issued still is), and an outbound row already queued or
 * in flight is sent and answered once.  HTTP (call.c, net/fetch.c),
 * wechat.c and worker.c are the stubs below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/fetch.h"
#include "wechat/wechat.h"
#include "worker.h"

#define FRAMES_MAX	64
#define CALLS_MAX	16

struct frame {
	uint32_t	 type;
	uint64_t	 req_id;
	uint64_t	 id;		/* delivery.ack / fail */
	char		 msg_id[64];
	char		 text[256];
};

struct wcall {
	char		 path[64];
	enum wcall_res	 res;
	const char	*body;
	wcall_fn	 fn;
	void		*arg;
	int		 done;
};

struct wechat		 wc;
static struct frame	 frames[FRAMES_MAX];
static size_t		 nframes;
static struct wcall	 calls[CALLS_MAX];
static size_t		 ncalls;
static char		 cursor_put[64];
static struct event_base *base;

int
worker_send(uint32_t type, uint64_t req_id, const void *body)
{
	const struct ipc_body_inbound *in = body;
	const struct ipc_body_delivery *d = body;
	const struct ipc_body_delivery_fail *f = body;
	struct frame *fr;

	assert_true(nframes < FRAMES_MAX);
	fr = &frames[nframes++];
	memset(fr, 0, sizeof(*fr));
	fr->type = type;
	fr->req_id = req_id;
	if (type == IPC_INBOUND) {
		snprintf(fr->msg_id, sizeof(fr->msg_id), "%.*s",
		    (int)in->msg_id.len, in->msg_id.p);
		snprintf(fr->text, sizeof(fr->text), "%.*s",
		    (int)in->text.len, in->text.p);
	}
	else if (type == IPC_DELIVERY_ACK)
		fr->id = d->id;
	else if (type == IPC_DELIVERY_FAIL)
		fr->id = f->id;
	return 0;
}

struct wcall *
wcall_post(const char *b, const char *path, const char *token, char *body,
    long timeout_ms, wcall_fn fn, void *arg)
{
	struct wcall *c;

	(void)b;
	(void)token;
	(void)timeout_ms;
	free(body);
	assert_true(ncalls < CALLS_MAX);
	c = &calls[ncalls++];
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fn = fn;
	c->arg = arg;
	return c;
}

struct wcall *
wcall_get(const char *url, long timeout_ms, wcall_fn fn, void *arg)
{
	(void)url;
	(void)timeout_ms;
	(void)fn;
	(void)arg;
	return NULL;
}

void
wcall_cancel(struct wcall *c)
{
	if (c != NULL)
		c->done = 1;
}

enum wcall_res
wcall_result(const struct wcall *c)
{
	return c->res;
}

const char *
wcall_body(const struct wcall *c, size_t *len)
{
	*len = strlen(c->body);
	return c->body;
}

long
wcall_status(const struct wcall *c)
{
	(void)c;
	return 200;
}

const char *
wcall_error(const struct wcall *c)
{
	(void)c;
	return "test";
}

/* Messages here carry no media: neither is reached. */
int
worker_send_fd(uint32_t type, uint64_t req_id, const void *body, int fd)
{
	(void)type;
	(void)req_id;
	(void)body;
	(void)fd;
	fail_msg("inbound.media without media");
	return -1;
}

CURL *
fetch_easy(void)
{
	return NULL;
}

int
fetch_add(CURL *e, const char *url, fetch_done_fn fn, void *arg)
{
	(void)e;
	(void)url;
	(void)fn;
	(void)arg;
	return -1;
}

void
fetch_drop(CURL *e)
{
	(void)e;
}

void
fetch_slist_free_secret(struct curl_slist *l)
{
	curl_slist_free_all(l);
}

void
wk_state_put(const char *key, const char *value)
{
	if (strcmp(key, "cursor") == 0)
		snprintf(cursor_put, sizeof(cursor_put), "%s", value);
}

void
wechat_login_needed(void)
{
	fail_msg("login needed");
}

long
wechat_backoff_ms(int *failures)
{
	(*failures)++;
	return 2000;
}

int
login_running(void)
{
	return 0;
}

/* typing.c is a courtesy beside these, tested through the fake. */
void
typing_start(const char *peer, const char *ctx)
{
	(void)peer;
	(void)ctx;
}

void
typing_stop(const char *peer)
{
	(void)peer;
}

/* The call c answers with body. */
static void
answer(struct wcall *c, const char *body)
{
	assert_false(c->done);
	c->res = WCALL_OK;
	c->body = body;
	c->done = 1;
	c->fn(c, c->arg);
}

static int
ack(uint64_t req_id, const char *status)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_INBOUND_ACK;
	m.req_id = req_id;
	m.b.inbound_ack.status.p = status;
	m.b.inbound_ack.status.len = strlen(status);
	return poll_inbound_ack(&m);
}

#define MSG(id)								\
    "{\"seq\":1,\"message_id\":" id ","					\
    "\"from_user_id\":\"o9cq80_FAKE@im.wechat\","			\
    "\"to_user_id\":\"a1b2c3@im.bot\","				\
    "\"client_id\":\"c" id "\",\"create_time_ms\":1789124814621,"	\
    "\"message_type\":1,\"message_state\":2,"				\
    "\"context_token\":\"AARzJWAF\","					\
    "\"item_list\":[{\"type\":1,\"text_item\":{\"text\":\"hi\"}}]}"

static const char batch3[] =
    "{\"ret\":0,\"get_updates_buf\":\"CURSOR2\",\"msgs\":["
    MSG("101") "," MSG("102") "," MSG("103") "]}";

static void
test_poll_resync(void **state)
{
	size_t i;

	(void)state;
	wc.token = "token";
	wc.cursor = strdup("CURSOR1");
	wc.base = "https://example.invalid";
	wc.bot_agent = "wxgate/test";
	wc.poll_timeout_ms = 35000;
	assert_int_equal(poll_init(base), 0);
	poll_start();
	assert_int_equal(ncalls, 1);
	assert_string_equal(calls[0].path, "ilink/bot/getupdates");
	answer(&calls[0], batch3);
	assert_int_equal(nframes, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(frames[i].type, IPC_INBOUND);
		assert_int_equal(frames[i].req_id, 1000 + i);
	}
	assert_string_equal(frames[0].msg_id, "101");
	assert_int_equal(ack(1000, "accepted"), 0);

	/* The new hub gets the two unacked ones, under their own ids. */
	nframes = 0;
	poll_resync();
	assert_int_equal(nframes, 2);
	assert_int_equal(frames[0].req_id, 1001);
	assert_string_equal(frames[0].msg_id, "102");
	assert_int_equal(frames[1].req_id, 1002);
	assert_string_equal(frames[1].msg_id, "103");

	/* Each may be acked twice (the old frame and ours); no new poll. */
	assert_int_equal(ack(1001, "accepted"), 0);
	assert_int_equal(ack(1001, "duplicate"), 0);
	assert_int_equal(ack(1000, "duplicate"), 0);
	assert_int_equal(ncalls, 1);
	assert_string_equal(cursor_put, "");
	assert_int_equal(ack(1002, "duplicate"), 0);
	/* Committed once: the cursor moves, the next poll goes out. */
	assert_string_equal(cursor_put, "CURSOR2");
	assert_int_equal(ncalls, 2);
	assert_int_equal(ack(1002, "accepted"), 0);
	/* An id never issued is still the hub's bug. */
	assert_int_equal(ack(1003, "accepted"), -1);
	assert_int_equal(ack(999, "accepted"), -1);
	poll_stop();
}

/*
 * Attachments that cannot be had cost only themselves: the message
 * goes at once, as inbound.message, its text followed by a note for
 * each; the one after it keeps its place.
 */
static const char batch_media[] =
    "{\"ret\":0,\"get_updates_buf\":\"CURSOR3\",\"msgs\":["
    "{\"message_id\":201,\"from_user_id\":\"o9cq80_FAKE@im.wechat\","
    "\"item_list\":[{\"type\":1,\"text_item\":{\"text\":\"see\"}},"
    "{\"type\":3,\"voice_item\":{\"media\":{\"encrypt_query_param\":"
    "\"q\"}}},{\"type\":2,\"image_item\":{\"media\":{"
    "\"encrypt_query_param\":\"q\"}}}]}," MSG("202") "]}";

static void
test_poll_media_notes(void **state)
{
	(void)state;
	wc.token = "token";
	wc.cdn_url = "http://127.0.0.1:9/c2c";
	wc.media_max = 1024 * 1024;
	nframes = 0;
	ncalls = 0;
	poll_start();
	assert_int_equal(ncalls, 1);
	answer(&calls[0], batch_media);
	assert_int_equal(nframes, 2);
	assert_int_equal(frames[0].type, IPC_INBOUND);
	assert_string_equal(frames[0].msg_id, "201");
	assert_string_equal(frames[0].text, "see\n"
	    "[attachment not received: voice, no aes_key]\n"
	    "[attachment not received: image, no transfer handle]");
	assert_string_equal(frames[1].msg_id, "202");
	assert_string_equal(frames[1].text, "hi");
	assert_int_equal(ack(frames[0].req_id, "accepted"), 0);
	assert_int_equal(ack(frames[1].req_id, "accepted"), 0);
	assert_string_equal(cursor_put, "CURSOR3");
	poll_stop();
}

/* Nothing waits: a resync says nothing, and strictness stays. */
static void
test_poll_resync_idle(void **state)
{
	(void)state;
	nframes = 0;
	poll_resync();
	assert_int_equal(nframes, 0);
	assert_int_equal(ack(1003, "accepted"), -1);
}

static int
outbound(uint64_t id, const char *key)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = IPC_OUTBOUND;
	m.b.outbound.id = id;
	m.b.outbound.key.p = key;
	m.b.outbound.key.len = strlen(key);
	m.b.outbound.peer = IPC_S("o9cq80_FAKE@im.wechat");
	m.b.outbound.text = IPC_S("hello");
	m.b.outbound.reply_ctx = IPC_S("AARzJWAF");
	return send_outbound(&m);
}

static void
test_send_duplicates(void **state)
{
	size_t first;

	(void)state;
	wc.token = "token";
	wc.send_gap_ms = 0;
	wc.timeout_s = 15;
	assert_int_equal(send_init(base), 0);
	nframes = 0;
	first = ncalls;
	assert_int_equal(outbound(1, "k-1"), 0);
	assert_int_equal(outbound(2, "k-2"), 0);
	assert_int_equal(ncalls, first + 1);
	assert_string_equal(calls[first].path, "ilink/bot/sendmessage");
	/* A new hub re-sends both: in flight and queued. */
	assert_int_equal(outbound(1, "k-1"), 0);
	assert_int_equal(outbound(2, "k-2"), 0);
	assert_int_equal(nframes, 0);
	assert_int_equal(ncalls, first + 1);
	answer(&calls[first], "{\"ret\":0}");
	assert_int_equal(ncalls, first + 2);
	answer(&calls[first + 1], "{\"ret\":0}");
	assert_int_equal(ncalls, first + 2);
	assert_int_equal(nframes, 2);
	assert_int_equal(frames[0].type, IPC_DELIVERY_ACK);
	assert_int_equal(frames[0].id, 1);
	assert_int_equal(frames[1].type, IPC_DELIVERY_ACK);
	assert_int_equal(frames[1].id, 2);
	/* Answered already: sent again, the key makes the platform drop it. */
	assert_int_equal(outbound(1, "k-1"), 0);
	assert_int_equal(ncalls, first + 3);
	answer(&calls[first + 2], "{\"ret\":0}");
	assert_int_equal(nframes, 3);
	assert_int_equal(frames[2].id, 1);
	send_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_resync),
		cmocka_unit_test(test_poll_resync_idle),
		cmocka_unit_test(test_poll_media_notes),
		cmocka_unit_test(test_send_duplicates),
	};

	if ((base = event_base_new()) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
