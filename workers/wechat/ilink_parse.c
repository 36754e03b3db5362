/*
 * iLink responses: getupdates (§3.3), get_bot_qrcode (§3.1),
 * get_qrcode_status (§3.2) and the bare ret/errcode of sendmessage
 * (§3.4), each a pure function of (bytes, len) that returns a struct or
 * an error.  The bytes come from the network: every field is checked
 * for type and length, strings are cut to the IPC limits here, and
 * unknown fields are ignored (§0: the server changes without notice).
 * Callers clear the struct after any result.  Fuzzed by
 * tests/fuzz/fuzz_ilink.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ilink.h"
#include "ilink_media.h"
#include "xmalloc.h"

/* §4.2's values, indexed by enum ilink_qr_state. */
static const char *const qr_names[] = {
	"wait", "scaned", "need_verifycode", "verify_code_blocked",
	"expired", "scaned_but_redirect", "binded_redirect", "confirmed"
};

/* §8.1: uint64 ids that jansson's signed json_int_t cannot hold. */
static const char *const id_keys[] = { "message_id", "msg_id", "svr_id" };

/* A QR polling handle is 32 hex characters; anything far longer is not. */
#define QRCODE_MAX		256
/* A DNS name. */
#define HOST_MAX		253
/* A server hint longer than an hour is not a long poll. */
#define LONGPOLL_HINT_MAX	(3600L * 1000)

static json_t	*ilink_load(const char *, size_t);
static int	 ilink_str(json_t *, const char *, size_t, char **);

/* Is body[s, e) one of id_keys? */
static int
ilink_is_id_key(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(id_keys) / sizeof(id_keys[0]); i++)
		if (strlen(id_keys[i]) == len &&
		    memcmp(id_keys[i], s, len) == 0)
			return 1;
	return 0;
}

/*
 * Rewrite bare numbers after the keys in id_keys into strings, as the
 * official client does before JSON.parse, so 17504133366464211000 keeps
 * every digit.  A small lexer tracks strings and escapes, so the text of
 * a message that merely mentions "msg_id": 1 is left alone.  Each
 * rewrite adds two bytes and needs at least ten ("msg_id":1), so the
 * output fits in len * 6 / 5 plus a little.  Invalid JSON is copied
 * through for jansson to refuse.
 */
char *
ilink_quote_ids(const char *b, size_t len, size_t *outlen)
{
	char *out = xmalloc(len + len / 5 + 16);
	size_t i = 0, o = 0, start = 0;
	int in_str = 0, pending = 0;	/* 1: saw the key; 2: and ':' */
	char c;

	while (i < len) {
		c = b[i];
		if (in_str) {
			out[o++] = b[i++];
			if (c == '\\' && i < len)
				out[o++] = b[i++];
			else if (c == '"') {
				in_str = 0;
				pending = ilink_is_id_key(b + start,
				    i - 1 - start);
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			out[o++] = b[i++];
			continue;
		}
		if (pending == 2 && (c == '-' || (c >= '0' && c <= '9'))) {
			out[o++] = '"';
			while (i < len && ((b[i] >= '0' && b[i] <= '9') ||
			    b[i] == '-' || b[i] == '+' || b[i] == '.' ||
			    b[i] == 'e' || b[i] == 'E'))
				out[o++] = b[i++];
			out[o++] = '"';
			pending = 0;
			continue;
		}
		pending = pending == 1 && c == ':' ? 2 : 0;
		if (c == '"') {
			in_str = 1;
			start = i + 1;
		}
		out[o++] = b[i++];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* The top level of every response is an object. */
static json_t *
ilink_load(const char *body, size_t len)
{
	json_t *root;
	size_t qlen;
	char *q;

	q = ilink_quote_ids(body, len, &qlen);
	/* \u0000 would fail the whole batch: accept it, cut at it below. */
	root = json_loadb(q, qlen, JSON_ALLOW_NUL, NULL);
	free(q);
	if (root != NULL && !json_is_object(root)) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

/*
 * A string field: 0 absent or null, 1 copied to *out (maybe ""), -1 of
 * another type, longer than max or holding NUL.
 */
static int
ilink_str(json_t *o, const char *key, size_t max, char **out)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t len;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max || memchr(s, '\0', len) != NULL)
		return -1;
	*out = xstrndup(s, len);
	return 1;
}

/* A number where the note says int; anything else counts as absent. */
static long long
ilink_int(json_t *v)
{
	double d;

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v)) {
		d = json_real_value(v);
		return d > -1e15 && d < 1e15 ? (long long)d : -1;
	}
	return 0;
}

/* The longest prefix of s[0, len) within max bytes, on a UTF-8 boundary. */
static size_t
ilink_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* §3.0: missing ret means success; errcode is checked as well (§8.2). */
static enum ilink_err
ilink_ret_take(json_t *root, struct ilink_ret *r)
{
	long long ret, errcode;
	json_t *m;
	size_t len;

	ret = ilink_int(json_object_get(root, "ret"));
	errcode = ilink_int(json_object_get(root, "errcode"));
	r->code = ret != 0 ? ret : errcode;
	m = json_object_get(root, "errmsg");
	if (json_is_string(m)) {
		len = strnlen(json_string_value(m), json_string_length(m));
		len = ilink_utf8_cut(json_string_value(m), len,
		    IPC_MESSAGE_MAX);
		memcpy(r->errmsg, json_string_value(m), len);
		r->errmsg[len] = '\0';
	}
	if (ret == ILINK_RET_SESSION || errcode == ILINK_RET_SESSION) {
		r->code = ILINK_RET_SESSION;
		return ILINK_E_SESSION;
	}
	return r->code != 0 ? ILINK_E_RET : ILINK_OK;
}

enum ilink_err
ilink_parse_ret(const char *body, size_t len, struct ilink_ret *r)
{
	enum ilink_err e;
	json_t *root;

	memset(r, 0, sizeof(*r));
	if ((root = ilink_load(body, len)) == NULL)
		return ILINK_E_JSON;
	e = ilink_ret_take(root, r);
	json_decref(root);
	return e;
}

/*
 * §3.6: the ticket counts only with ret 0; it goes back in a JSON
 * string, so it must be printable, without NUL, within our bound.
 */
enum ilink_err
ilink_parse_ticket(const char *body, size_t len, struct ilink_ret *r,
    char **ticket)
{
	enum ilink_err e;
	const char *s;
	json_t *root;
	size_t n, i;

	*ticket = NULL;
	memset(r, 0, sizeof(*r));
	if ((root = ilink_load(body, len)) == NULL)
		return ILINK_E_JSON;
	if ((e = ilink_ret_take(root, r)) != ILINK_OK) {
		json_decref(root);
		return e;
	}
	s = json_string_value(json_object_get(root, "typing_ticket"));
	n = s != NULL ? json_string_length(json_object_get(root,
	    "typing_ticket")) : 0;
	for (i = 0; i < n && s[i] > ' ' && s[i] < 0x7f; i++)
		;
	if (n == 0 || n > ILINK_TICKET_MAX || i != n) {
		json_decref(root);
		return ILINK_E_SHAPE;
	}
	*ticket = xstrndup(s, n);
	json_decref(root);
	return ILINK_OK;
}

/* A usable id: a non-empty string within the IPC limit, or an integer. */
static int
ilink_id_of(json_t *v, char **out)
{
	char buf[32];
	const char *s;
	size_t len;

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		*out = xstrdup(buf);
		return 1;
	}
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > IPC_CHANID_MAX || memchr(s, '\0', len) != NULL)
		return 0;
	*out = xstrndup(s, len);
	return 1;
}

static uint64_t
ilink_fnv(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

/*
 * §5.5: message_id, else the first item msg_id, else client_id, else
 * seq, else a hash of sender, text and create_time_ms, so that a replay
 * of the same message still dedupes.
 */
static char *
ilink_msg_id(json_t *m, json_t *items, const struct ilink_msg *im)
{
	char buf[32], *id = NULL;
	json_t *it;
	size_t i;

	if (ilink_id_of(json_object_get(m, "message_id"), &id))
		return id;
	json_array_foreach(items, i, it)
		if (ilink_id_of(json_object_get(it, "msg_id"), &id))
			return id;
	if (ilink_id_of(json_object_get(m, "client_id"), &id) ||
	    ilink_id_of(json_object_get(m, "seq"), &id))
		return id;
	snprintf(buf, sizeof(buf), "%lld",
	    ilink_int(json_object_get(m, "create_time_ms")));
	snprintf(buf, sizeof(buf), "h:%016llx", (unsigned long long)
	    ilink_fnv(ilink_fnv(ilink_fnv(0xcbf29ce484222325ULL, im->peer),
	    im->text), buf));
	return xstrdup(buf);
}

/* What a user sees in place of media we do not fetch (§5.3). */
static const char *
ilink_placeholder(long long type)
{
	switch (type) {
	case 2:
		return "[图片]";
	case 3:
		return "[语音]";
	case 4:
		return "[文件]";
	case 5:
		return "[视频]";
	}
	return NULL;
}

/* A non-empty string at o.k1.k2, or NULL. */
static json_t *
ilink_text_at(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(json_object_get(o, k1), k2);

	return json_is_string(v) && json_string_length(v) > 0 ? v : NULL;
}

/*
 * §5.3: the first TEXT item, else the first voice transcript, else a
 * placeholder for the first media item.  Cut at a NUL (IPC text holds
 * none) and to IPC_TEXT_MAX on a UTF-8 boundary.
 */
static void
ilink_msg_text(json_t *items, struct ilink_msg *im)
{
	json_t *it, *text = NULL, *voice = NULL;
	const char *ph = NULL, *s;
	long long type;
	size_t i, len, cut;

	json_array_foreach(items, i, it) {
		type = ilink_int(json_object_get(it, "type"));
		if (type == 1 &&
		    (text = ilink_text_at(it, "text_item", "text")) != NULL)
			break;
		if (type == 3 && voice == NULL)
			voice = ilink_text_at(it, "voice_item", "text");
		if (ph == NULL)
			ph = ilink_placeholder(type);
	}
	if (text == NULL)
		text = voice;
	if (text != NULL) {
		s = json_string_value(text);
		len = strnlen(s, json_string_length(text));
		cut = ilink_utf8_cut(s, len, IPC_TEXT_MAX);
		im->text_cut = cut != json_string_length(text);
		if (cut > 0) {
			im->text = xstrndup(s, cut);
			return;
		}
	}
	if (ph != NULL)
		im->text = xstrdup(ph);
}

/* §5.4: the quote before what the user wrote, within IPC_TEXT_MAX. */
static void
ilink_msg_quote(struct ilink_msg *im)
{
	size_t q = strlen(im->media->quote), t = strlen(im->text), cut;
	char *s;

	s = xmalloc(q + t + 1);
	memcpy(s, im->media->quote, q);
	memcpy(s + q, im->text, t + 1);
	cut = ilink_utf8_cut(s, q + t, IPC_TEXT_MAX);
	if (cut < q + t) {
		s[cut] = '\0';
		im->text_cut = 1;
	}
	free(im->text);
	im->text = s;
}

static int
ilink_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

static void
ilink_msg_take(json_t *m, struct ilink_msg *im)
{
	json_t *items;
	char *group;
	int rv;

	im->drop = ILINK_DROP_BAD;
	if (!json_is_object(m) ||
	    ilink_str(m, "from_user_id", IPC_PEER_MAX, &im->peer) != 1 ||
	    im->peer[0] == '\0')
		return;
	im->drop = ILINK_DROP_ECHO;
	if (ilink_int(json_object_get(m, "message_type")) == 2 ||
	    ilink_suffix(im->peer, "@im.bot"))
		return;
	/*
	 * A group_id of the wrong type is no proof of a direct chat.  A
	 * group message goes up as one: the hub's group_policy decides
	 * (none are delivered today, 5.5), never a private reply.
	 */
	im->drop = ILINK_DROP_GROUP;
	rv = ilink_str(m, "group_id", IPC_PEER_MAX, &group);
	if (rv == -1 || (rv == 1 && (strchr(group, '/') != NULL ||
	    strlen(im->peer) + 1 + strlen(group) > IPC_PEER_MAX))) {
		free(group);
		return;
	}
	im->group = group != NULL ? group : xstrdup("");
	im->drop = ILINK_DROP_EMPTY;
	items = json_object_get(m, "item_list");
	ilink_msg_text(items, im);
	if (im->text == NULL)
		return;
	im->drop = ILINK_KEEP;
	im->msg_id = ilink_msg_id(m, items, im);
	im->media = xcalloc(1, sizeof(*im->media));
	ilink_media_take(items, im->media);
	if (im->media->quote != NULL)
		ilink_msg_quote(im);
	/* A reply without the token is unlikely to arrive, but still goes. */
	if (ilink_str(m, "context_token", IPC_CTX_MAX, &im->ctx) == -1)
		im->ctx_dropped = 1;
	if (im->ctx == NULL)
		im->ctx = xstrdup("");
}

enum ilink_err
ilink_parse_updates(const char *body, size_t len, struct ilink_updates *u)
{
	enum ilink_err e;
	json_t *root, *msgs, *v;
	size_t i;

	memset(u, 0, sizeof(*u));
	if ((root = ilink_load(body, len)) == NULL)
		return ILINK_E_JSON;
	if ((e = ilink_ret_take(root, &u->ret)) != ILINK_OK)
		goto out;
	e = ILINK_E_SHAPE;
	/* state.put must be able to keep the cursor. */
	if (ilink_str(root, "get_updates_buf", IPC_STATE_MAX,
	    &u->cursor) == -1)
		goto out;
	if (u->cursor != NULL && u->cursor[0] == '\0') {
		free(u->cursor);
		u->cursor = NULL;
	}
	v = json_object_get(root, "longpolling_timeout_ms");
	if (ilink_int(v) > 0)
		u->timeout_ms = ilink_int(v) < LONGPOLL_HINT_MAX ?
		    (long)ilink_int(v) : LONGPOLL_HINT_MAX;
	msgs = json_object_get(root, "msgs");
	if (msgs != NULL && !json_is_null(msgs) && !json_is_array(msgs))
		goto out;
	e = ILINK_E_TOOMANY;
	if (json_array_size(msgs) > ILINK_MSGS_MAX)
		goto out;
	u->n = json_array_size(msgs);
	u->msgs = xcalloc(u->n == 0 ? 1 : u->n, sizeof(*u->msgs));
	for (i = 0; i < u->n; i++)
		ilink_msg_take(json_array_get(msgs, i), &u->msgs[i]);
	e = ILINK_OK;
out:
	json_decref(root);
	return e;
}

void
ilink_updates_clear(struct ilink_updates *u)
{
	size_t i;

	for (i = 0; i < u->n && u->msgs != NULL; i++) {
		free(u->msgs[i].peer);
		free(u->msgs[i].msg_id);
		free(u->msgs[i].text);
		/* A context token lets anyone reply as us for a day. */
		xfree_secret(u->msgs[i].ctx);
		free(u->msgs[i].group);
		if (u->msgs[i].media != NULL)
			ilink_mlist_clear(u->msgs[i].media);
		free(u->msgs[i].media);
	}
	free(u->msgs);
	free(u->cursor);
	memset(u, 0, sizeof(*u));
}

enum ilink_err
ilink_parse_qrcode(const char *body, size_t len, struct ilink_qrcode *q)
{
	enum ilink_err e;
	json_t *root;

	memset(q, 0, sizeof(*q));
	if ((root = ilink_load(body, len)) == NULL)
		return ILINK_E_JSON;
	if ((e = ilink_ret_take(root, &q->ret)) == ILINK_OK &&
	    (ilink_str(root, "qrcode", QRCODE_MAX, &q->qrcode) != 1 ||
	    q->qrcode[0] == '\0' ||
	    ilink_str(root, "qrcode_img_content", IPC_URL_MAX, &q->url) != 1 ||
	    q->url[0] == '\0'))
		e = ILINK_E_SHAPE;
	json_decref(root);
	return e;
}

void
ilink_qrcode_clear(struct ilink_qrcode *q)
{
	xfree_secret(q->qrcode);
	free(q->url);
	memset(q, 0, sizeof(*q));
}

/* An optional string: absent and "" are NULL; the wrong type fails. */
static int
ilink_opt(json_t *o, const char *key, size_t max, char **out)
{
	if (ilink_str(o, key, max, out) == -1)
		return -1;
	if (*out != NULL && (*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/*
 * §3.5: the slot's URL, whole or as a parameter for <cdn>/upload; both
 * missing (or "") is an answer we cannot use.  Each is a credential
 * (§8.23): never logged.
 */
enum ilink_err
ilink_parse_uploadurl(const char *body, size_t len, struct ilink_ret *r,
    char **full_url, char **param)
{
	enum ilink_err e;
	json_t *root;

	*full_url = *param = NULL;
	memset(r, 0, sizeof(*r));
	if ((root = ilink_load(body, len)) == NULL)
		return ILINK_E_JSON;
	if ((e = ilink_ret_take(root, r)) == ILINK_OK &&
	    (ilink_opt(root, "upload_full_url", ILINK_MEDIA_URL_MAX,
	    full_url) == -1 || ilink_opt(root, "upload_param",
	    ILINK_QUERY_MAX, param) == -1 ||
	    (*full_url == NULL && *param == NULL)))
		e = ILINK_E_SHAPE;
	json_decref(root);
	if (e != ILINK_OK) {
		xfree_secret(*full_url);
		xfree_secret(*param);
		*full_url = *param = NULL;
	}
	return e;
}

/* A bare host name for scaned_but_redirect; anything else is ignored. */
static int
ilink_host_ok(const char *h)
{
	size_t i;

	for (i = 0; h[i] != '\0'; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.'))
			return 0;
	return i > 0;
}

static enum ilink_err
ilink_qr_confirmed(json_t *root, struct ilink_qrstatus *s)
{
	if (ilink_opt(root, "bot_token", ILINK_TOKEN_MAX, &s->bot_token) ||
	    ilink_opt(root, "ilink_bot_id", IPC_PEER_MAX, &s->bot_id) ||
	    ilink_opt(root, "baseurl", ILINK_URLLEN_MAX, &s->baseurl) ||
	    ilink_opt(root, "ilink_user_id", IPC_PEER_MAX, &s->user_id))
		return ILINK_E_SHAPE;
	/* §4.1: the official client fails a login without the bot id. */
	if (!ilink_token_ok(s->bot_token) || s->bot_id == NULL)
		return ILINK_E_SHAPE;
	return ILINK_OK;
}

enum ilink_err
ilink_parse_qrstatus(const char *body, size_t len, struct ilink_qrstatus *s)
{
	enum ilink_err e;
	json_t *root;
	const char *st;
	size_t i;

	memset(s, 0, sizeof(*s));
	if ((root = ilink_load(body, len)) == NULL)
		return ILINK_E_JSON;
	if ((e = ilink_ret_take(root, &s->ret)) != ILINK_OK)
		goto out;
	e = ILINK_E_SHAPE;
	if ((st = json_string_value(json_object_get(root, "status"))) == NULL)
		goto out;
	for (i = 0; i < sizeof(qr_names) / sizeof(qr_names[0]); i++)
		if (strcmp(st, qr_names[i]) == 0)
			break;
	if (i == sizeof(qr_names) / sizeof(qr_names[0]))
		goto out;
	s->state = (enum ilink_qr_state)i;
	e = ILINK_OK;
	if (s->state == ILINK_QR_CONFIRMED)
		e = ilink_qr_confirmed(root, s);
	else if (s->state == ILINK_QR_SCANED_REDIRECT &&
	    ilink_opt(root, "redirect_host", HOST_MAX,
	    &s->redirect_host) == 0 && s->redirect_host != NULL &&
	    !ilink_host_ok(s->redirect_host)) {
		free(s->redirect_host);
		s->redirect_host = NULL;
	}
out:
	json_decref(root);
	return e;
}

void
ilink_qrstatus_clear(struct ilink_qrstatus *s)
{
	xfree_secret(s->bot_token);
	free(s->bot_id);
	free(s->baseurl);
	free(s->user_id);
	free(s->redirect_host);
	memset(s, 0, sizeof(*s));
}

const char *
ilink_qr_state_name(enum ilink_qr_state st)
{
	return (size_t)st < sizeof(qr_names) / sizeof(qr_names[0]) ?
	    qr_names[st] : "?";
}

const char *
ilink_strerror(enum ilink_err e)
{
	static const char *const names[] = {
		"ok", "not a JSON object", "a field is missing or wrong",
		"session timeout (-14)", "refused", "too many messages"
	};

	return (size_t)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

const char *
ilink_drop_name(enum ilink_drop d)
{
	static const char *const names[] = {
		"kept", "malformed", "own echo", "bad group id", "empty"
	};

	return (size_t)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}
