/*
 * Unit tests for sup.resync in the agent worker (workers/agent/agent.c
 * with the echo and command backends): every request in flight is
 * dropped without a frame, a new hub may reuse the old ids, a drain
 * ends, and a late line of the command program for an aborted request
 * never answers the new request that reuses its hub id.  worker.c is
 * replaced by the stubs below; the openai backend by a name.
 */
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "agent/agent.h"
#include "sandbox.h"
#include "worker.h"

#define FRAMES_MAX	256

struct frame {
	uint32_t	 type;
	uint64_t	 req_id;
	char		 text[128];
};

static struct frame	 frames[FRAMES_MAX];
static size_t		 nframes;
static int		 drained;
static struct event_base *base;
static struct ipc_msg	 msg;

/* What worker.c would give the kind. */
int
worker_send(uint32_t type, uint64_t req_id, const void *body)
{
	const struct ipc_body_text *t = body;
	struct frame *f;

	assert_true(nframes < FRAMES_MAX);
	f = &frames[nframes++];
	f->type = type;
	f->req_id = req_id;
	f->text[0] = '\0';
	if (type == IPC_AGENT_DELTA)
		snprintf(f->text, sizeof(f->text), "%.*s", (int)t->text.len,
		    t->text.p);
	return 0;
}

/* Files (agent.file) are not what this test sends. */
int
worker_send_fd(uint32_t type, uint64_t req_id, const void *body, int fd)
{
	close(fd);
	return worker_send(type, req_id, body);
}

/* The hub keeps up: deltas are never held. */
int
worker_room(void)
{
	return 1;
}

struct event_base *
worker_base(void)
{
	return base;
}

void
worker_drained(void)
{
	drained++;
}

void
worker_crypto_skip(void)
{
}

void
sandbox_keep_fd(int fd)
{
	(void)fd;
}

int
sandbox_seccomp_child(void)
{
	return 0;
}

/* Only its name is looked at when another backend is configured. */
const struct agent_backend agent_openai = {
	"openai", "agent-openai", NULL, NULL, NULL, NULL, NULL
};
const struct agent_backend agent_relay = {
	"relay", "agent-relay", NULL, NULL, NULL, NULL, NULL
};

static int
handle(uint32_t type, uint64_t req_id, const char *text)
{
	const struct wk_handler *h;

	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	msg.req_id = req_id;
	msg.fd = -1;
	if (type == IPC_AGENT_REQUEST) {
		msg.b.agent_request.session = 1;
		msg.b.agent_request.turns.n = 1;
		msg.b.agent_request.turns.v[0].role = IPC_S("user");
		msg.b.agent_request.turns.v[0].text.p = text;
		msg.b.agent_request.turns.v[0].text.len = strlen(text);
	}
	for (h = wk_agent.handlers; h->fn != NULL; h++)
		if (h->type == type)
			return h->fn(&msg);
	fail_msg("no handler for %u", type);
	return -1;
}

static void
setup_kind(const char *conf)
{
	json_t *j = json_loads(conf, 0, NULL);

	assert_non_null(j);
	assert_int_equal(wk_agent.pre_sandbox(j), 0);
	json_decref(j);
	assert_int_equal(wk_agent.post_sandbox(base), 0);
	nframes = 0;
	drained = 0;
}

/* Run the loop for ms, or until the last frame is agent.done. */
static void
run_for(long ms)
{
	struct timeval tv = { 0, 10 * 1000 };
	long spent;

	for (spent = 0; spent < ms; spent += 10) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		if (nframes > 0 && frames[nframes - 1].type == IPC_AGENT_DONE)
			return;
	}
}

static void
test_echo_resync(void **state)
{
	size_t mark, i;
	char all[128] = "";

	(void)state;
	setup_kind("{\"type\":\"echo\",\"echo_chunks\":4,"
	    "\"echo_delay_ms\":50}");
	assert_int_equal(handle(IPC_AGENT_REQUEST, 1, "first request"), 0);
	assert_int_equal(handle(IPC_AGENT_REQUEST, 2, "second request"), 0);
	/* The first chunk of each is due at once. */
	event_base_loop(base, EVLOOP_ONCE);
	assert_true(nframes >= 2);
	for (i = 0; i < nframes; i++)
		assert_int_equal(frames[i].type, IPC_AGENT_DELTA);

	mark = nframes;
	wk_agent.resync();
	assert_int_equal(nframes, mark);
	run_for(300);
	assert_int_equal(nframes, mark);
	assert_int_equal(drained, 0);

	/* The new hub's ids may be the old ones: not "already running". */
	assert_int_equal(handle(IPC_AGENT_REQUEST, 1, "again"), 0);
	run_for(2000);
	assert_true(nframes > mark + 1);
	for (i = mark; i < nframes; i++) {
		assert_int_equal(frames[i].req_id, 1);
		if (frames[i].type == IPC_AGENT_DELTA)
			snprintf(all + strlen(all), sizeof(all) - strlen(all),
			    "%s", frames[i].text);
	}
	assert_int_equal(frames[nframes - 1].type, IPC_AGENT_DONE);
	assert_string_equal(all, "echo: again");

	/* Resync with nothing in flight, twice: nothing to say. */
	mark = nframes;
	wk_agent.resync();
	wk_agent.resync();
	assert_int_equal(nframes, mark);
}

/* A drain the old hub began ends once resync has dropped the rest. */
static void
test_echo_resync_drain(void **state)
{
	(void)state;
	setup_kind("{\"type\":\"echo\",\"echo_chunks\":4,"
	    "\"echo_delay_ms\":50}");
	assert_int_equal(handle(IPC_AGENT_REQUEST, 5, "slow"), 0);
	wk_agent.shutdown();
	assert_int_equal(drained, 0);
	wk_agent.resync();
	assert_int_equal(drained, 1);
	assert_int_equal(nframes, 0);
}

/*
 * The program answers each request with "reply N", N counting requests,
 * and ignores aborts: its answer to the aborted first request comes
 * after the abort, when the new hub has reused the id.
 */
static const char cmd_script[] =
    "n=0; while read -r l; do "
    "id=${l#'{\"id\":'}; id=${id%%,*}; "
    "case $l in *'\"abort\"'*) continue;; esac; "
    "n=$((n+1)); "
    "printf '{\"id\":%s,\"delta\":\"reply %s\"}\\n{\"id\":%s,\"done\":true}\\n'"
    " \"$id\" \"$n\" \"$id\"; done";

static void
test_command_resync(void **state)
{
	json_t *j;
	size_t i;

	(void)state;
	if (access("/bin/sh", X_OK) == -1)
		skip();
	j = json_pack("{s:s, s:[s,s,s], s:i}", "type", "command", "argv",
	    "/bin/sh", "-c", cmd_script, "timeout_s", 5);
	assert_non_null(j);
	assert_int_equal(wk_agent.pre_sandbox(j), 0);
	json_decref(j);
	assert_int_equal(wk_agent.post_sandbox(base), 0);
	nframes = 0;
	drained = 0;

	assert_int_equal(handle(IPC_AGENT_REQUEST, 7, "old"), 0);
	wk_agent.resync();
	assert_int_equal(nframes, 0);
	assert_int_equal(handle(IPC_AGENT_REQUEST, 7, "new"), 0);
	run_for(3000);
	for (i = 0; i < nframes; i++)
		print_message("frame %zu: %u %llu %s\n", i, frames[i].type,
		    (unsigned long long)frames[i].req_id, frames[i].text);
	assert_int_equal(nframes, 2);
	assert_int_equal(frames[0].type, IPC_AGENT_DELTA);
	assert_int_equal(frames[0].req_id, 7);
	assert_string_equal(frames[0].text, "reply 2");
	assert_int_equal(frames[1].type, IPC_AGENT_DONE);
	assert_int_equal(frames[1].req_id, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_resync),
		cmocka_unit_test(test_echo_resync_drain),
		cmocka_unit_test(test_command_resync),
	};

	/* A worker has dropped root before pre_sandbox; the program too. */
	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(65534, 65534, 65534) == -1 ||
	    setresuid(65534, 65534, 65534) == -1))
		return 1;
	if ((base = event_base_new()) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
