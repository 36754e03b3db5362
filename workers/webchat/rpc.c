/*
 * JSON request frames from the browser: rpc_parse() turns the bytes of one
 * WebSocket text message into a struct rpc_req or an error code, and the
 * rpc_reply_*() and rpc_event() formatters build what goes back.
 *
 * Called by webchat.c for every frame and by tests/fuzz/fuzz_webchat_rpc.c.
 * It is a pure function of (bytes, len): it must never touch a socket,
 * the IPC channel or global state, and must never log the text or token
 * it parses.  Anything not exactly the documented shape is rejected:
 * unknown keys, duplicate keys, wrong types and over-long fields.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rpc.h"
#include "xmalloc.h"

struct rpc_methodinfo {
	const char	*name;
	enum rpc_method	 method;
	enum rpc_err	(*params)(json_t *, size_t, struct rpc_req *);
};

static int		 rpc_depth_ok(const char *, size_t);
static enum rpc_err	 rpc_fail(struct rpc_req *, enum rpc_err,
			    const char *, ...)
			    __attribute__((format(printf, 3, 4)));
static int		 rpc_charset_ok(const char *, size_t, const char *);
static enum rpc_err	 rpc_only_keys(json_t *, const char *const *,
			    struct rpc_req *);
static enum rpc_err	 rpc_p_none(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_p_resume(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_p_share(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_p_bind(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_p_send(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_p_history(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_p_abort(json_t *, size_t, struct rpc_req *);
static enum rpc_err	 rpc_msgid(json_t *, struct rpc_req *);

/* Characters of a client_msg_id: safe in logs and in the store's keys. */
static const char rpc_msgid_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
/* Characters of a method name passed on to the supervisor. */
static const char rpc_method_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
/* Tokens are hex today; allow base64url and base64 too, nothing else. */
static const char rpc_token_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-+/=";

static const struct rpc_methodinfo rpc_methods[] = {
	{ "session.open",	RPC_M_SESSION_OPEN,	rpc_p_none },
	{ "session.resume",	RPC_M_SESSION_RESUME,	rpc_p_resume },
	{ "chat.send",		RPC_M_CHAT_SEND,	rpc_p_send },
	{ "chat.history",	RPC_M_CHAT_HISTORY,	rpc_p_history },
	{ "chat.abort",		RPC_M_CHAT_ABORT,	rpc_p_abort },
	{ "share.open",		RPC_M_SHARE_OPEN,	rpc_p_share },
	{ "bind.start",		RPC_M_BIND_START,	rpc_p_bind },
	{ NULL,			RPC_M_NONE,		NULL }
};

static const char *const rpc_codes[RPC_E_MAX] = {
	[RPC_OK] =		"ok",
	[RPC_E_BAD_JSON] =	"bad_json",
	[RPC_E_BAD_REQUEST] =	"bad_request",
	[RPC_E_UNKNOWN_METHOD] = "unknown_method",
	[RPC_E_TOO_LARGE] =	"too_large",
	[RPC_E_BAD_UTF8] =	"bad_utf8",
	[RPC_E_BINARY] =	"binary_unsupported",
	[RPC_E_BUSY] =		"busy",
};

static const char *const rpc_top_keys[] = { "id", "method", "params", NULL };

const char *
rpc_code(enum rpc_err e)
{
	if ((unsigned int)e >= RPC_E_MAX)
		return "internal";
	return rpc_codes[e];
}

const char *
rpc_method_name(enum rpc_method m)
{
	const struct rpc_methodinfo *mi;

	for (mi = rpc_methods; mi->name != NULL; mi++)
		if (mi->method == m)
			return mi->name;
	return "none";
}

void
rpc_req_clear(struct rpc_req *r)
{
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

enum rpc_err
rpc_parse(const char *buf, size_t len, size_t max_text, struct rpc_req *r)
{
	const struct rpc_methodinfo *mi;
	json_error_t jerr;
	json_t *id, *method, *params;
	const char *name;
	enum rpc_err e;

	memset(r, 0, sizeof(*r));
	r->limit = RPC_HISTORY_DEFAULT;

	/*
	 * jansson recurses once per level up to its own limit of 2048;
	 * bound nesting here first so a frame of brackets costs nothing.
	 */
	if (!rpc_depth_ok(buf, len))
		return rpc_fail(r, RPC_E_BAD_JSON, "nesting too deep");
	r->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->root == NULL)
		return rpc_fail(r, RPC_E_BAD_JSON, "invalid JSON");
	if (!json_is_object(r->root))
		return rpc_fail(r, RPC_E_BAD_REQUEST,
		    "request is not an object");

	id = json_object_get(r->root, "id");
	if (id == NULL)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "id: missing");
	if (json_is_string(id)) {
		if (json_string_length(id) == 0 ||
		    json_string_length(id) > RPC_ID_MAX)
			return rpc_fail(r, RPC_E_BAD_REQUEST,
			    "id: 1 to %d bytes", RPC_ID_MAX);
	} else if (!json_is_integer(id))
		return rpc_fail(r, RPC_E_BAD_REQUEST,
		    "id: must be a string or an integer");
	r->id = id;

	if ((e = rpc_only_keys(r->root, rpc_top_keys, r)) != RPC_OK)
		return e;

	method = json_object_get(r->root, "method");
	if (method == NULL || !json_is_string(method))
		return rpc_fail(r, RPC_E_BAD_REQUEST, "method: missing string");
	name = json_string_value(method);
	for (mi = rpc_methods; mi->name != NULL; mi++)
		if (strlen(mi->name) == json_string_length(method) &&
		    strcmp(mi->name, name) == 0)
			break;
	if (mi->name == NULL) {
		/* Another role's method is the supervisor's to name. */
		if (json_string_length(method) > 0 &&
		    json_string_length(method) <= RPC_METHOD_MAX &&
		    rpc_charset_ok(name, json_string_length(method),
		    rpc_method_chars)) {
			r->mname = name;
			r->mname_len = json_string_length(method);
		}
		return rpc_fail(r, RPC_E_UNKNOWN_METHOD, "unknown method");
	}
	r->method = mi->method;

	/* A method without arguments may omit params altogether. */
	params = json_object_get(r->root, "params");
	if (params != NULL && !json_is_object(params))
		return rpc_fail(r, RPC_E_BAD_REQUEST,
		    "params: must be an object");
	return mi->params(params, max_text, r);
}

static enum rpc_err
rpc_p_none(json_t *params, size_t max_text, struct rpc_req *r)
{
	static const char *const keys[] = { NULL };

	(void)max_text;
	if (params == NULL)
		return RPC_OK;
	return rpc_only_keys(params, keys, r);
}

/*
 * A token-shaped string parameter (session token, link id): 1..64
 * characters of the token alphabet.  An absent optional one leaves *p
 * NULL.
 */
static enum rpc_err
rpc_token_param(json_t *params, const char *key, int required,
    const char **p, size_t *len, struct rpc_req *r)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL && !required)
		return RPC_OK;
	if (v == NULL || !json_is_string(v))
		return rpc_fail(r, RPC_E_BAD_REQUEST, "%s: missing string",
		    key);
	*p = json_string_value(v);
	*len = json_string_length(v);
	if (*len == 0 || *len > RPC_TOKEN_MAX ||
	    !rpc_charset_ok(*p, *len, rpc_token_chars))
		return rpc_fail(r, RPC_E_BAD_REQUEST, "%s: malformed", key);
	return RPC_OK;
}

/* {key}: the one token a method takes, and nothing else. */
static enum rpc_err
rpc_p_one_token(json_t *params, const char *key, struct rpc_req *r)
{
	const char *const keys[] = { key, NULL };
	enum rpc_err e;

	if (params == NULL)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "params: missing");
	if ((e = rpc_only_keys(params, keys, r)) != RPC_OK)
		return e;
	return rpc_token_param(params, key, 1, &r->token, &r->token_len, r);
}

static enum rpc_err
rpc_p_resume(json_t *params, size_t max_text, struct rpc_req *r)
{
	(void)max_text;
	return rpc_p_one_token(params, "token", r);
}

/*
 * share.open {id, visitor?}: the link id from the page's path, hex
 * today, and the session token an earlier share.open of a per-visitor
 * link gave this page.
 */
static enum rpc_err
rpc_p_share(json_t *params, size_t max_text, struct rpc_req *r)
{
	static const char *const keys[] = { "id", "visitor", NULL };
	enum rpc_err e;

	(void)max_text;
	if (params == NULL)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "params: missing");
	if ((e = rpc_only_keys(params, keys, r)) != RPC_OK ||
	    (e = rpc_token_param(params, "id", 1, &r->token, &r->token_len,
	    r)) != RPC_OK)
		return e;
	return rpc_token_param(params, "visitor", 0, &r->visitor,
	    &r->visitor_len, r);
}

/* bind.start {id}: the invitation's token from the page's path. */
static enum rpc_err
rpc_p_bind(json_t *params, size_t max_text, struct rpc_req *r)
{
	(void)max_text;
	return rpc_p_one_token(params, "id", r);
}

static enum rpc_err
rpc_p_send(json_t *params, size_t max_text, struct rpc_req *r)
{
	static const char *const keys[] = { "text", "client_msg_id", NULL };
	json_t *v;
	enum rpc_err e;

	if (params == NULL)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "params: missing");
	if ((e = rpc_only_keys(params, keys, r)) != RPC_OK)
		return e;
	if ((e = rpc_msgid(params, r)) != RPC_OK)
		return e;

	v = json_object_get(params, "text");
	if (v == NULL || !json_is_string(v))
		return rpc_fail(r, RPC_E_BAD_REQUEST, "text: missing string");
	r->text = json_string_value(v);
	r->text_len = json_string_length(v);
	if (r->text_len == 0)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "text: empty");
	if (r->text_len > max_text)
		return rpc_fail(r, RPC_E_TOO_LARGE, "text: over %zu bytes",
		    max_text);
	return RPC_OK;
}

/* chat.abort: only the client_msg_id of the message being answered. */
static enum rpc_err
rpc_p_abort(json_t *params, size_t max_text, struct rpc_req *r)
{
	static const char *const keys[] = { "client_msg_id", NULL };
	enum rpc_err e;

	(void)max_text;
	if (params == NULL)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "params: missing");
	if ((e = rpc_only_keys(params, keys, r)) != RPC_OK)
		return e;
	return rpc_msgid(params, r);
}

static enum rpc_err
rpc_msgid(json_t *params, struct rpc_req *r)
{
	json_t *v;

	v = json_object_get(params, "client_msg_id");
	if (v == NULL || !json_is_string(v))
		return rpc_fail(r, RPC_E_BAD_REQUEST,
		    "client_msg_id: missing string");
	r->msgid = json_string_value(v);
	r->msgid_len = json_string_length(v);
	if (r->msgid_len == 0 || r->msgid_len > RPC_MSGID_MAX ||
	    !rpc_charset_ok(r->msgid, r->msgid_len, rpc_msgid_chars))
		return rpc_fail(r, RPC_E_BAD_REQUEST,
		    "client_msg_id: 1 to %d of [A-Za-z0-9_.:-]", RPC_MSGID_MAX);
	return RPC_OK;
}

static enum rpc_err
rpc_p_history(json_t *params, size_t max_text, struct rpc_req *r)
{
	static const char *const keys[] = { "limit", NULL };
	json_t *v;
	json_int_t n;
	enum rpc_err e;

	(void)max_text;
	if (params == NULL)
		return RPC_OK;
	if ((e = rpc_only_keys(params, keys, r)) != RPC_OK)
		return e;
	if ((v = json_object_get(params, "limit")) == NULL)
		return RPC_OK;
	if (!json_is_integer(v))
		return rpc_fail(r, RPC_E_BAD_REQUEST, "limit: not an integer");
	n = json_integer_value(v);
	if (n < 1 || n > RPC_HISTORY_MAX)
		return rpc_fail(r, RPC_E_BAD_REQUEST, "limit: 1 to %d",
		    RPC_HISTORY_MAX);
	r->limit = (uint64_t)n;
	return RPC_OK;
}

/* Reject keys outside the list: a typo must not pass as a default. */
static enum rpc_err
rpc_only_keys(json_t *obj, const char *const *keys, struct rpc_req *r)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(obj, k, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return rpc_fail(r, RPC_E_BAD_REQUEST, "unknown key");
	}
	return RPC_OK;
}

static int
rpc_charset_ok(const char *s, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Count bracket nesting outside strings.  This is not a JSON validator;
 * jansson is.  It only has to see every '[' and '{' that jansson would
 * recurse on, so it tracks strings and backslash escapes and nothing else.
 */
static int
rpc_depth_ok(const char *buf, size_t len)
{
	size_t i, depth = 0;
	int instr = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (esc)
				esc = 0;
			else if (buf[i] == '\\')
				esc = 1;
			else if (buf[i] == '"')
				instr = 0;
			continue;
		}
		switch (buf[i]) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > RPC_DEPTH_MAX)
				return 0;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		}
	}
	return 1;
}

static enum rpc_err
rpc_fail(struct rpc_req *r, enum rpc_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	return e;
}

json_t *
rpc_strn(const char *s, size_t len)
{
	json_t *v;

	/* IPC strings are checked UTF-8 already; never send a hole. */
	if ((v = json_stringn(s, len)) == NULL)
		v = json_string("");
	return v;
}

/* result is consumed; id is borrowed (NULL sends "id":null). */
char *
rpc_reply_ok(json_t *id, json_t *result)
{
	json_t *o;

	if (result == NULL)
		result = json_object();
	o = json_pack("{s:O,s:b,s:o}", "id", id != NULL ? id : json_null(),
	    "ok", 1, "result", result);
	return jsonalloc_take(o);
}

char *
rpc_reply_error(json_t *id, const char *code, const char *message)
{
	return rpc_reply_error_retry(id, code, message, 0);
}

char *
rpc_reply_error_retry(json_t *id, const char *code, const char *message,
    uint64_t retry_ms)
{
	json_t *o, *e;

	o = json_pack("{s:O,s:b,s:{s:s,s:s}}", "id",
	    id != NULL ? id : json_null(), "ok", 0, "error", "code", code,
	    "message", message != NULL ? message : "");
	if (o != NULL && retry_ms > 0 &&
	    (e = json_object_get(o, "error")) != NULL)
		json_object_set_new(e, "retry_after_ms",
		    json_integer((json_int_t)retry_ms));
	return jsonalloc_take(o);
}

/* fields is consumed: an object to which "event" is added. */
char *
rpc_event(const char *event, json_t *fields)
{
	json_t *o;

	if (fields == NULL)
		return NULL;
	o = json_object();
	if (json_object_set_new(o, "event", json_string(event)) == -1 ||
	    json_object_update(o, fields) == -1) {
		json_decref(o);
		json_decref(fields);
		return NULL;
	}
	json_decref(fields);
	return jsonalloc_take(o);
}
