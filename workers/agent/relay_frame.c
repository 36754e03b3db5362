/*
 * Parsing a relay's frames and building wxgate's (docs/relay-protocol.md).
 * Called by relay.c for every WebSocket text message of a relay; fuzzed
 * by tests/fuzz/fuzz_relay_frame.c.  Strict as the IPC codec is: one
 * object, a known type, exactly its keys (no more, none missing, none
 * twice), each value of its type and within its bound.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relay_frame.h"
#include "xmalloc.h"

struct rf_key {
	const char	*name;
	int		 required;
};

/* Keys per type besides "type"; a type's table ends with NULL. */
static const struct {
	const char		*name;
	enum relay_ftype	 type;
	struct rf_key		 keys[4];
} rf_types[] = {
	{ "hello",	RF_HELLO,	{ { "token", 1 }, { "version", 1 },
	    { NULL, 0 } } },
	{ "delta",	RF_DELTA,	{ { "id", 1 }, { "text", 1 },
	    { NULL, 0 } } },
	{ "done",	RF_DONE,	{ { "id", 1 }, { NULL, 0 } } },
	{ "error",	RF_ERROR,	{ { "id", 1 }, { "code", 1 },
	    { "message", 0 }, { NULL, 0 } } },
	{ "ping",	RF_PING,	{ { NULL, 0 } } },
	{ "pong",	RF_PONG,	{ { NULL, 0 } } },
};

#define RF_NTYPES	(sizeof(rf_types) / sizeof(rf_types[0]))

static const char *const rf_errs[] = {
	[RF_OK] = "ok",
	[RF_E_JSON] = "not a JSON object",
	[RF_E_TYPE] = "unknown frame type",
	[RF_E_KEY] = "unknown or missing key",
	[RF_E_VALUE] = "value of the wrong type",
	[RF_E_SIZE] = "frame or field over its limit",
};

const char *
relay_frame_strerror(enum relay_ferr e)
{
	return (unsigned)e < sizeof(rf_errs) / sizeof(rf_errs[0]) ?
	    rf_errs[e] : "?";
}

void
relay_frame_clear(struct relay_frame *f)
{
	free(f->text);
	memset(f, 0, sizeof(*f));
}

/* Every key of o is "type" or one of t's, and t's required ones are. */
static enum relay_ferr
rf_keys(json_t *o, const struct rf_key *t)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		if (strcmp(k, "type") == 0)
			continue;
		for (i = 0; t[i].name != NULL; i++)
			if (strcmp(t[i].name, k) == 0)
				break;
		if (t[i].name == NULL)
			return RF_E_KEY;
	}
	for (i = 0; t[i].name != NULL; i++)
		if (t[i].required && json_object_get(o, t[i].name) == NULL)
			return RF_E_KEY;
	return RF_OK;
}

/* A string value of at most max bytes, without NUL, into out. */
static enum relay_ferr
rf_str(json_t *o, const char *key, char *out, size_t max)
{
	json_t *v;
	size_t len;

	if ((v = json_object_get(o, key)) == NULL) {
		out[0] = '\0';
		return RF_OK;
	}
	if (!json_is_string(v))
		return RF_E_VALUE;
	len = json_string_length(v);
	if (len > max)
		return RF_E_SIZE;
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return RF_E_VALUE;
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return RF_OK;
}

static enum relay_ferr
rf_uint(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return RF_E_VALUE;
	*out = (uint64_t)json_integer_value(v);
	return RF_OK;
}

static enum relay_ferr
rf_fields(json_t *o, struct relay_frame *f)
{
	enum relay_ferr e = RF_OK;
	json_t *v;

	switch (f->type) {
	case RF_HELLO:
		if ((e = rf_uint(o, "version", UINT32_MAX, &f->version)) != 0)
			return e;
		return rf_str(o, "token", f->token, IPC_TOKEN_MAX);
	case RF_DELTA:
		if ((e = rf_uint(o, "id", RELAY_ID_MAX, &f->id)) != 0)
			return e;
		v = json_object_get(o, "text");
		if (!json_is_string(v))
			return RF_E_VALUE;
		if ((f->text_len = json_string_length(v)) > RELAY_DELTA_MAX)
			return RF_E_SIZE;
		/* Deltas go to the hub as text: no NUL inside. */
		if (memchr(json_string_value(v), '\0', f->text_len) != NULL)
			return RF_E_VALUE;
		f->text = xmalloc(f->text_len + 1);
		memcpy(f->text, json_string_value(v), f->text_len);
		f->text[f->text_len] = '\0';
		return RF_OK;
	case RF_DONE:
		return rf_uint(o, "id", RELAY_ID_MAX, &f->id);
	case RF_ERROR:
		if ((e = rf_uint(o, "id", RELAY_ID_MAX, &f->id)) != 0 ||
		    (e = rf_str(o, "code", f->code, IPC_NAME_MAX)) != 0 ||
		    (e = rf_str(o, "message", f->message,
		    IPC_MESSAGE_MAX)) != 0)
			return e;
		return f->code[0] == '\0' ? RF_E_VALUE : RF_OK;
	case RF_PING:
	case RF_PONG:
		return RF_OK;
	}
	return RF_E_TYPE;
}

enum relay_ferr
relay_frame_parse(const char *buf, size_t len, struct relay_frame *f)
{
	json_error_t jerr;
	json_t *o, *t;
	enum relay_ferr e;
	size_t i;

	memset(f, 0, sizeof(f[0]));
	if (len > RELAY_FRAME_MAX)
		return RF_E_SIZE;
	/* Duplicate keys are refused, as the IPC codec refuses them. */
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return RF_E_JSON;
	}
	t = json_object_get(o, "type");
	for (i = 0; json_is_string(t) && i < RF_NTYPES; i++)
		if (strcmp(json_string_value(t), rf_types[i].name) == 0)
			break;
	if (!json_is_string(t) || i == RF_NTYPES) {
		json_decref(o);
		return RF_E_TYPE;
	}
	f->type = rf_types[i].type;
	if ((e = rf_keys(o, rf_types[i].keys)) == RF_OK)
		e = rf_fields(o, f);
	json_decref(o);
	if (e != RF_OK)
		relay_frame_clear(f);
	return e;
}

/* The turns as OpenAI-style messages; the hub put the system prompt first. */
char *
relay_frame_request(uint64_t id, const struct ipc_body_agent_request *b)
{
	json_t *o, *msgs, *m;
	size_t i;

	if ((msgs = json_array()) == NULL)
		return NULL;
	for (i = 0; i < b->turns.n; i++) {
		m = json_pack("{s:s%, s:s%}",
		    "role", b->turns.v[i].role.p, b->turns.v[i].role.len,
		    "content", b->turns.v[i].text.p, b->turns.v[i].text.len);
		if (m == NULL || json_array_append_new(msgs, m) == -1) {
			json_decref(msgs);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:I, s:o}", "type", "request", "id",
	    (json_int_t)id, "messages", msgs);
	if (o != NULL && b->model.len > 0)
		json_object_set_new(o, "model", json_stringn(b->model.p,
		    b->model.len));
	/* A sealed thread's: the hub built it, so it parses. */
	if (o != NULL && b->e2e.len > 0 && json_object_set_new(o, "e2e",
	    json_loadb(b->e2e.p, b->e2e.len, 0, NULL)) == -1) {
		json_decref(o);
		return NULL;
	}
	return jsonalloc_take(o);
}

char *
relay_frame_abort(uint64_t id)
{
	return jsonalloc_take(json_pack("{s:s, s:I}", "type", "abort", "id",
	    (json_int_t)id));
}

char *
relay_frame_welcome(const char *agent)
{
	return jsonalloc_take(json_pack("{s:s, s:i, s:s}", "type", "welcome",
	    "version", RELAY_VERSION, "agent", agent));
}

char *
relay_frame_simple(const char *type)
{
	return jsonalloc_take(json_pack("{s:s}", "type", type));
}
