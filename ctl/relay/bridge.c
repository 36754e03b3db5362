/*
 * The relay protocol on the client side (docs/relay-protocol.md): hello
 * with the token, then each request to the configured backend and its
 * deltas, done or error back; abort cancels; ping is answered pong.
 *
 * The backends are wxgated's own agent backends, linked here: this file
 * gives them what an agent worker would (agent_delta, agent_done,
 * agent_error, agent_req_find, worker_base), so a relay answers exactly
 * as a local openai or command agent does.  A file a command's answer
 * carries (agent.file) has no frame in the protocol: it is dropped with
 * a warning.  Requests die with their connection: wxgated gives them to
 * another relay, or to this one once it is back.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "agent/agent.h"
#include "log.h"
#include "relay.h"
#include "sandbox.h"
#include "worker.h"
#include "xmalloc.h"

/* Requests at once; wxgated's max_inflight for the agent is the real bound. */
#define BR_REQS_MAX	1024
/* Ids as wxgated sends them: JSON integers that stay exact. */
#define BR_ID_MAX	((1ULL << 53) - 1)

static const struct agent_backend *const backends[] = {
	&agent_openai,
	&agent_command,
};

/* A request, and the seal of a sealed thread's (seal.c), or NULL. */
struct br_req {
	struct agent_req	 r;
	struct seal		*seal;
};

/* A sealed answer goes in deltas of at most this (the protocol's 64 KiB). */
#define BR_DELTA_MAX	(60 * 1024)

static struct {
	struct event_base		*base;
	const struct agent_backend	*backend;
	const struct rconf		*conf;
	TAILQ_HEAD(, agent_req)		 reqs;
	unsigned			 nreqs;
	int				 welcomed;
	int				 refused;
} br = { .reqs = TAILQ_HEAD_INITIALIZER(br.reqs) };

static void	br_send(json_t *);
static void	br_end(struct agent_req *);
static void	br_request(json_t *);
static void	br_abort(json_t *);

int
bridge_init(struct event_base *base, const struct rconf *conf)
{
	size_t i;

	br.base = base;
	br.conf = conf;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->type, conf->type) == 0)
			br.backend = backends[i];
	if (br.backend == NULL) {
		log_warnx("%s: backend type %s is not openai or command",
		    __func__, conf->type);
		return -1;
	}
	if (br.backend->init(conf->backend) == -1)
		return -1;
	seal_init(conf);
	if (br.backend->post_sandbox != NULL &&
	    br.backend->post_sandbox() == -1)
		return -1;
	return 0;
}

/* Its connection is open: say who we are. */
void
bridge_open(void)
{
	br.welcomed = 0;
	br.refused = 0;
	br_send(json_pack("{s:s, s:s, s:i}", "type", "hello", "token",
	    br.conf->token, "version", 1));
}

int
bridge_welcomed(void)
{
	return br.welcomed;
}

int
bridge_refused(void)
{
	return br.refused;
}

void
bridge_lost(void)
{
	struct agent_req *r;

	if (br.nreqs > 0)
		log_info("%s: %u request%s dropped with the connection",
		    __func__, br.nreqs, br.nreqs == 1 ? "" : "s");
	while ((r = TAILQ_FIRST(&br.reqs)) != NULL)
		br_end(r);
	br.welcomed = 0;
}

void
bridge_text(const char *s, size_t len)
{
	json_t *o;
	const char *t;

	if ((o = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    (t = json_string_value(json_object_get(o, "type"))) == NULL) {
		log_warnx("%s: a frame that is no protocol frame", __func__);
		json_decref(o);
		link_close();
		return;
	}
	if (strcmp(t, "request") == 0)
		br_request(o);
	else if (strcmp(t, "abort") == 0)
		br_abort(o);
	else if (strcmp(t, "ping") == 0)
		br_send(json_pack("{s:s}", "type", "pong"));
	else if (strcmp(t, "welcome") == 0) {
		br.welcomed = 1;
		log_info("welcomed by %s as agent %s", br.conf->server,
		    json_string_value(json_object_get(o, "agent")) != NULL ?
		    json_string_value(json_object_get(o, "agent")) : "?");
	} else if (strcmp(t, "refused") == 0) {
		br.refused = 1;
		log_warnx("the server refused the token");
	} else if (strcmp(t, "pong") != 0)
		log_debug("%s: frame %s ignored", __func__, t);
	json_decref(o);
}

static void
br_send(json_t *o)
{
	char *s;

	if (o == NULL || (s = jsonalloc_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: cannot build a frame", __func__);
	json_decref(o);
	/* A full or closed link drops it; the server's deadline notices. */
	(void)link_send(s, strlen(s));
	freezero(s, strlen(s));
}

static uint64_t
br_id(json_t *o)
{
	json_t *v = json_object_get(o, "id");

	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    (unsigned long long)json_integer_value(v) > BR_ID_MAX)
		return 0;
	return (uint64_t)json_integer_value(v);
}

/* The request's messages as the turns an agent backend reads. */
static int
br_turns(json_t *msgs, struct ipc_body_agent_request *b)
{
	json_t *m, *role, *content;
	size_t i;

	if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
	    json_array_size(msgs) > IPC_TURNS_MAX)
		return -1;
	json_array_foreach(msgs, i, m) {
		role = json_object_get(m, "role");
		content = json_object_get(m, "content");
		if (!json_is_string(role) || !json_is_string(content))
			return -1;
		b->turns.v[i].role.p = json_string_value(role);
		b->turns.v[i].role.len = json_string_length(role);
		b->turns.v[i].text.p = json_string_value(content);
		b->turns.v[i].text.len = json_string_length(content);
	}
	b->turns.n = json_array_size(msgs);
	return 0;
}

static void
br_request(json_t *o)
{
	static struct ipc_body_agent_request b;
	struct br_req *br_r;
	struct agent_req *r;
	struct seal *seal;
	const char *why;
	json_t *model;
	uint64_t id;

	memset(&b, 0, sizeof(b));
	if ((id = br_id(o)) == 0 || br_turns(json_object_get(o, "messages"),
	    &b) == -1 || agent_req_find(id) != NULL ||
	    br.nreqs >= BR_REQS_MAX) {
		log_warnx("%s: a request that cannot be taken", __func__);
		if (id != 0 && agent_req_find(id) == NULL)
			br_send(json_pack("{s:s, s:I, s:s, s:s}", "type",
			    "error", "id", (json_int_t)id, "code",
			    "agent_failed", "message", "bad request"));
		return;
	}
	if (json_is_string(model = json_object_get(o, "model"))) {
		b.model.p = json_string_value(model);
		b.model.len = json_string_length(model);
	}
	seal = seal_open(json_object_get(o, "e2e"), &b, &why);
	if (seal == NULL && why != NULL) {
		log_warnx("request %llu: %s", (unsigned long long)id, why);
		br_send(json_pack("{s:s, s:I, s:s, s:s}", "type", "error",
		    "id", (json_int_t)id, "code", "agent_failed", "message",
		    why));
		return;
	}
	br_r = xcalloc(1, sizeof(*br_r));
	br_r->seal = seal;
	r = &br_r->r;
	r->id = id;
	TAILQ_INSERT_TAIL(&br.reqs, r, entry);
	br.nreqs++;
	log_info("request %llu%s", (unsigned long long)id, seal != NULL ?
	    " (sealed)" : "");
	if (br.backend->start(r, &b) == -1)
		agent_error(r, "agent_failed", "the agent could not start");
	/* The backend copied what it needs: no plaintext stays behind. */
	if (seal != NULL)
		seal_wipe_turns(seal);
}

static struct seal *
br_seal(struct agent_req *r)
{
	return ((struct br_req *)r)->seal;
}

static void
br_abort(json_t *o)
{
	struct agent_req *r;

	if ((r = agent_req_find(br_id(o))) != NULL)
		br_end(r);
}

static void
br_end(struct agent_req *r)
{
	if (br.backend->cancel != NULL)
		br.backend->cancel(r);
	TAILQ_REMOVE(&br.reqs, r, entry);
	br.nreqs--;
	free(r->media);
	seal_free(br_seal(r));
	free(r);
}

/* What an agent worker gives its backends. */

struct agent_req *
agent_req_find(uint64_t id)
{
	struct agent_req *r;

	TAILQ_FOREACH(r, &br.reqs, entry)
		if (r->id == id)
			return r;
	return NULL;
}

int
agent_delta(struct agent_req *r, const char *text, size_t len)
{
	if (br_seal(r) != NULL)
		seal_add(br_seal(r), text, len);
	else
		br_send(json_pack("{s:s, s:I, s:s%}", "type", "delta", "id",
		    (json_int_t)r->id, "text", text, len));
	return 0;
}

/* A sealed answer, whole, in as many deltas as its size takes. */
static int
br_sealed(struct agent_req *r)
{
	char *env;
	size_t len, off, n;

	if ((env = seal_close(br_seal(r))) == NULL)
		return -1;
	len = strlen(env);
	for (off = 0; off < len; off += n) {
		n = len - off < BR_DELTA_MAX ? len - off : BR_DELTA_MAX;
		br_send(json_pack("{s:s, s:I, s:s%}", "type", "delta", "id",
		    (json_int_t)r->id, "text", env + off, n));
	}
	free(env);
	return 0;
}

void
agent_done(struct agent_req *r)
{
	if (br_seal(r) != NULL && br_sealed(r) == -1) {
		agent_error(r, "agent_failed", "the answer could not be "
		    "sealed");
		return;
	}
	br_send(json_pack("{s:s, s:I}", "type", "done", "id",
	    (json_int_t)r->id));
	br_end(r);
}

void
agent_error(struct agent_req *r, const char *code, const char *msg)
{
	agent_error_retry(r, code, msg, 0);
}

void
agent_error_retry(struct agent_req *r, const char *code, const char *msg,
    uint64_t retry_after_ms)
{
	(void)retry_after_ms;
	br_send(json_pack("{s:s, s:I, s:s, s:s}", "type", "error", "id",
	    (json_int_t)r->id, "code", code, "message", msg));
	br_end(r);
}

struct event_base *
worker_base(void)
{
	return br.base;
}

/* agent.file: not in the protocol (yet); the text still goes. */
int
worker_send_fd(uint32_t type, uint64_t req_id, const void *body, int fd)
{
	(void)type;
	(void)body;
	log_warnx("request %llu: a file in the answer is not relayed",
	    (unsigned long long)req_id);
	if (fd != -1)
		close(fd);
	return 0;
}

/* Nothing is closed behind a relay's back: it is no sandboxed worker. */
void
sandbox_keep_fd(int fd)
{
	(void)fd;
}

/*
 * A command backend's program runs with this user's rights: the relay
 * machine is the operator's own, and wxgated's interpreter allowlist is
 * the server's policy, not theirs.
 */
int
sandbox_seccomp_child(void)
{
	return 0;
}
