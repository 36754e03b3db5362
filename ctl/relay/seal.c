/*
 * A sealed console thread on the relay's side (docs/e2e.md): the
 * request's e2e object says whose key, which thread, and each turn's
 * number, or for a sealed schedule's run which schedule and slot (its
 * prompt opened as the schedule's, its answer sealed as the run's); the
 * key, wrapped under the operator's passphrase, comes with it, and the
 * passphrase is in this relay's own config.  Every sealed
 * turn is opened with its thread, sender and number as associated data,
 * so a turn the server moved, reordered or altered fails the request
 * instead of reaching the model.  The answer is gathered and sealed
 * whole: a sealed thread's reply is not streamed (a delta would show its
 * length as it grows, and every piece would need its own number).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "e2e.h"
#include "ipc_msg.h"
#include "log.h"
#include "relay.h"
#include "xmalloc.h"

/*
 * The most answer one sealed reply holds: sealed and base64'd with the
 * message it answers (at most IPC_TEXT_MAX), it still fits the console's
 * answer (IPC_CONSOLE_BODY_MAX); past it the reply is cut and says so.
 */
#define SEAL_REPLY_MAX	(56 * 1024)
#define SEAL_CUT_NOTE	"\n\n[cut: longer than one sealed reply may be]"

struct seal {
	char		 thread[32];	/* or the schedule's id */
	char		 run[64];	/* a run's "<schedule>@<slot>", or "" */
	uint64_t	 seq;		/* the message answered */
	uint8_t		 dk[E2E_KEY_LEN];
	char		**plain;	/* the opened turns, wiped after start */
	size_t		 nplain;
	char		*reply;
	size_t		 len;
	int		 cut;
};

/* The last key unwrapped: scrypt is meant to be slow. */
static struct {
	const char	*pass;
	char		*record;
	char		 owner[128];
	uint8_t		 dk[E2E_KEY_LEN];
} sk;

void
seal_init(const struct rconf *c)
{
	sk.pass = c->e2e_pass;
}

static int
seal_key(const char *owner, const char *record, uint8_t dk[E2E_KEY_LEN],
    const char **why)
{
	struct e2e_record rec;

	if (sk.record != NULL && strcmp(sk.record, record) == 0 &&
	    strcmp(sk.owner, owner) == 0) {
		memcpy(dk, sk.dk, E2E_KEY_LEN);
		return 0;
	}
	if (e2e_record_parse(record, strlen(record), &rec) == -1) {
		*why = "the end-to-end key record is not valid";
		return -1;
	}
	if (strlen(owner) >= sizeof(sk.owner) ||
	    e2e_record_unwrap(&rec, sk.pass, strlen(sk.pass), owner,
	    dk) == -1) {
		/*
		 * A new passphrase wraps the same data key: the key opened
		 * before stays good until this relay restarts, when its
		 * config must hold the new passphrase.
		 */
		if (sk.record != NULL && strcmp(sk.owner, owner) == 0) {
			log_warnx("operator %s has a new passphrase: keeping "
			    "the key opened before; put the new one in "
			    "e2e.passphrase_file before a restart", owner);
			free(sk.record);
			sk.record = xstrdup(record);
			memcpy(dk, sk.dk, E2E_KEY_LEN);
			return 0;
		}
		*why = "this relay's passphrase does not open the operator's "
		    "key";
		return -1;
	}
	free(sk.record);
	sk.record = xstrdup(record);
	snprintf(sk.owner, sizeof(sk.owner), "%s", owner);
	memcpy(sk.dk, dk, E2E_KEY_LEN);
	log_info("unwrapped the end-to-end key of operator %s", owner);
	return 0;
}

/* The role's sender in the associated data; system turns are plain. */
static const char *
seal_sender(const struct ipc_turn *t)
{
	if (t->role.len == 4 && memcmp(t->role.p, "user", 4) == 0)
		return "operator";
	if (t->role.len == 9 && memcmp(t->role.p, "assistant", 9) == 0)
		return "agent";
	return NULL;
}

static int
seal_turns(struct seal *s, json_t *nums, const char *owner,
    struct ipc_body_agent_request *b, const char **why)
{
	char aad[E2E_AAD_MAX], *text;
	const char *sender, *w;
	size_t i, len;
	json_int_t n, last = 0;
	int answered = 1;

	s->plain = xcalloc(b->turns.n, sizeof(char *));
	for (i = 0; i < b->turns.n; i++) {
		n = json_integer_value(json_array_get(nums, i));
		sender = seal_sender(&b->turns.v[i]);
		if (n == 0 && sender == NULL)
			continue;	/* the system prompt */
		if (n <= 0 || sender == NULL) {
			*why = "a turn of a sealed thread is not numbered";
			return -1;
		}
		/*
		 * In order: each message after the last, each reply to the
		 * message before it (the first turn may be a reply whose
		 * message did not fit).  Numbers may skip, as a message that
		 * failed is not in the history; they never go back.
		 */
		if (strcmp(sender, "operator") == 0 ? n <= last || !answered :
		    last != 0 && (n != last || answered)) {
			*why = "the turns of a sealed thread are out of order";
			return -1;
		}
		last = n;
		answered = strcmp(sender, "agent") == 0;
		/* A reply that failed has no text to open. */
		if (answered && b->turns.v[i].text.len == 0)
			continue;
		if (e2e_aad(aad, sizeof(aad), "msg", s->thread, sender,
		    (uint64_t)n) == -1) {
			*why = "a turn of a sealed thread is not numbered";
			return -1;
		}
		if (e2e_envelope_open(s->dk, aad, b->turns.v[i].text.p,
		    b->turns.v[i].text.len, &text, &len, &w) == -1) {
			log_warnx("sealed thread %s of %s: turn %zu (%s %lld): "
			    "%s", s->thread, owner, i, sender, (long long)n, w);
			*why = w;
			return -1;
		}
		s->plain[s->nplain++] = text;
		b->turns.v[i].text.p = text;
		b->turns.v[i].text.len = len;
		/* The reply answers the newest message, with its number. */
		if (strcmp(sender, "operator") == 0)
			s->seq = (uint64_t)n;
	}
	/* The newest turn is the message to answer. */
	return s->seq > 0 && !answered ? 0 : -1;
}

/*
 * A sealed schedule's run: no history, one prompt sealed for the
 * schedule as "sched|<id>|operator|0", the last turn, after the system
 * prompt if any.  Anything else is not what the hub would send.
 */
static int
seal_prompt(struct seal *s, json_t *nums, const char *owner,
    struct ipc_body_agent_request *b, const char **why)
{
	char aad[E2E_AAD_MAX], *text;
	const char *w, *sender;
	size_t i, n = b->turns.n, len;

	for (i = 0; i < n; i++) {
		sender = seal_sender(&b->turns.v[i]);
		if (!json_is_integer(json_array_get(nums, i)) ||
		    json_integer_value(json_array_get(nums, i)) != 0 ||
		    (i + 1 < n ? sender != NULL : sender == NULL ||
		    strcmp(sender, "operator") != 0)) {
			*why = "a sealed schedule's run is not its prompt "
			    "alone";
			return -1;
		}
	}
	i = n - 1;
	if (n == 0 || e2e_aad(aad, sizeof(aad), "sched", s->thread,
	    "operator", 0) == -1)
		return -1;
	if (e2e_envelope_open(s->dk, aad, b->turns.v[i].text.p,
	    b->turns.v[i].text.len, &text, &len, &w) == -1) {
		log_warnx("sealed schedule %s of %s: the prompt: %s",
		    s->thread, owner, w);
		*why = w;
		return -1;
	}
	s->plain = xcalloc(1, sizeof(char *));
	s->plain[s->nplain++] = text;
	b->turns.v[i].text.p = text;
	b->turns.v[i].text.len = len;
	return 0;
}

/* A number as the hub writes one: digits, no sign, no leading zero. */
static int
seal_digits(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n < 20 && s[n] == '\0' && (s[0] != '0' || n == 1);
}

/*
 * The request's e2e object, of either form (docs/relay-protocol.md):
 * a console thread's {"owner", "thread", "key", "seq"}, or a sealed
 * schedule's run, {"owner", "key", "kind": "sched", "schedule", "slot",
 * "seq"}.  0 with s's scope set, or -1.
 */
static int
seal_form(json_t *e2e, struct seal *s, const char **owner, json_t **key,
    json_t **nums)
{
	const char *thread, *kind, *sched, *slot;

	if (json_object_get(e2e, "kind") == NULL) {
		if (json_unpack(e2e, "{s:s, s:s, s:o, s:o !}", "owner", owner,
		    "thread", &thread, "key", key, "seq", nums) != 0 ||
		    strlen(thread) >= sizeof(s->thread))
			return -1;
		snprintf(s->thread, sizeof(s->thread), "%s", thread);
		return 0;
	}
	if (json_unpack(e2e, "{s:s, s:o, s:s, s:s, s:s, s:o !}", "owner",
	    owner, "key", key, "kind", &kind, "schedule", &sched, "slot",
	    &slot, "seq", nums) != 0 || strcmp(kind, "sched") != 0 ||
	    !seal_digits(sched) || !seal_digits(slot))
		return -1;
	snprintf(s->thread, sizeof(s->thread), "%s", sched);
	snprintf(s->run, sizeof(s->run), "%s@%s", sched, slot);
	return 0;
}

struct seal *
seal_open(json_t *e2e, struct ipc_body_agent_request *b, const char **why)
{
	struct seal *s;
	json_t *nums, *key;
	const char *owner, *record;

	*why = NULL;
	if (e2e == NULL)
		return NULL;
	*why = "the request's e2e object is not valid";
	s = xcalloc(1, sizeof(*s));
	/* key is null when the operator has none (any more). */
	if (seal_form(e2e, s, &owner, &key, &nums) == -1 ||
	    !json_is_array(nums) || json_array_size(nums) != b->turns.n ||
	    (!json_is_null(key) && !json_is_string(key))) {
		free(s);
		return NULL;
	}
	record = json_string_value(key);
	if (sk.pass == NULL || record == NULL) {
		*why = sk.pass == NULL ? "this relay has no end-to-end "
		    "passphrase (e2e.passphrase_file)" : "the operator has no "
		    "end-to-end key";
		free(s);
		return NULL;
	}
	*why = NULL;
	if (seal_key(owner, record, s->dk, why) == -1 ||
	    (s->run[0] != '\0' ? seal_prompt(s, nums, owner, b, why) :
	    seal_turns(s, nums, owner, b, why)) == -1) {
		if (*why == NULL)
			*why = s->run[0] != '\0' ? "a sealed schedule's run "
			    "without its prompt" : "a sealed thread's request "
			    "without a message";
		seal_free(s);
		return NULL;
	}
	return s;
}

void
seal_wipe_turns(struct seal *s)
{
	size_t i;

	for (i = 0; i < s->nplain; i++)
		freezero(s->plain[i], strlen(s->plain[i]));
	free(s->plain);
	s->plain = NULL;
	s->nplain = 0;
}

void
seal_add(struct seal *s, const char *text, size_t len)
{
	size_t room = SEAL_REPLY_MAX - s->len;

	if (s->cut)
		return;
	if (len > room) {
		/* At a whole UTF-8 character. */
		while (room > 0 && ((unsigned char)text[room] & 0xc0) == 0x80)
			room--;
		len = room;
		s->cut = 1;
	}
	s->reply = xreallocarray(s->reply, 1, s->len + len +
	    sizeof(SEAL_CUT_NOTE));
	memcpy(s->reply + s->len, text, len);
	s->len += len;
}

/* The whole answer as one envelope (the caller frees), or NULL. */
char *
seal_close(struct seal *s)
{
	char aad[E2E_AAD_MAX];

	if (s->cut) {
		memcpy(s->reply + s->len, SEAL_CUT_NOTE,
		    sizeof(SEAL_CUT_NOTE) - 1);
		s->len += sizeof(SEAL_CUT_NOTE) - 1;
	}
	/* A run's answer is its summary, bound to the run's slot. */
	if (e2e_aad(aad, sizeof(aad), s->run[0] != '\0' ? "run" : "msg",
	    s->run[0] != '\0' ? s->run : s->thread, "agent", s->seq) == -1)
		return NULL;
	return e2e_envelope_seal(s->dk, aad, s->reply != NULL ? s->reply : "",
	    s->len);
}

void
seal_free(struct seal *s)
{
	if (s == NULL)
		return;
	seal_wipe_turns(s);
	if (s->reply != NULL)
		freezero(s->reply, s->len);
	explicit_bzero(s->dk, sizeof(s->dk));
	free(s);
}
