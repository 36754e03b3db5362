/*
 * WeCom AI bot frames (protocols/wecom.md A.3-A.6): the parser of what
 * the server pushes and the builders of what the worker sends.
 *
 * Called by link.c (every text frame off the socket), inbound.c,
 * reply.c and upload.c.  Pure: no socket, no event, no IPC, no log; the caller
 * decides what a refused frame costs.  It rejects rather than
 * repairs, with one exception the spec demands: the raw control bytes
 * the server may leave inside strings are dropped before parsing
 * (A.11), as the official SDK does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "frame.h"
#include "xmalloc.h"

/*
 * Notes standing for an attachment the agent does not get: one in a
 * quote, or one the worker could not fetch (wcf_notes_drop).
 */
#define NOTE_IMAGE	"[image]"
#define NOTE_FILE	"[file]"
#define NOTE_VIDEO	"[video]"
/* A mixed message of more parts than this is not a chat message. */
#define WCF_ITEMS_MAX	64

struct tbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 over;
};

static char	*wcf_strip(const char *, size_t, size_t *);
static int	 wcf_id(json_t *, const char *, char *, int);
static int	 wcf_ack(json_t *, struct wcf_in *);
static int	 wcf_token(json_t *, const char *, char *, size_t);
static void	 wcf_word(json_t *, const char *, char *);
static int	 wcf_message(json_t *, struct wcf_in *);
static int	 wcf_event(json_t *, struct wcf_in *);
static int	 wcf_content(json_t *, const char *, struct tbuf *, int,
		    struct wcf_in *);
static void	 wcf_att_add(struct wcf_in *, json_t *, const char *,
		    size_t, size_t);
static int	 wcf_url_ok(const char *, size_t);
static void	 tb_add(struct tbuf *, const char *, size_t);
static char	*wcf_dump(json_t *);

static const char *const wcf_errs[] = {
	"ok",
	"too large",
	"not a JSON object",
	"a field missing or of the wrong type",
	"a bad id"
};

const char *
wcf_strerror(int e)
{
	if (e < 0 || (size_t)e >= sizeof(wcf_errs) / sizeof(wcf_errs[0]))
		return "unknown";
	return wcf_errs[e];
}

/* 1..WCF_ID_MAX bytes of printable ASCII without spaces. */
int
wcf_id_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > WCF_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return 0;
	return 1;
}

/*
 * The server may put raw 0x00-0x08 and 0x0b-0x1f inside strings
 * (A.11); jansson refuses them, the SDK deletes them.  Tab and line
 * feed stay.
 */
static char *
wcf_strip(const char *buf, size_t len, size_t *outlen)
{
	char *o = xmalloc(len + 1);
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)buf[i];
		if (c < 0x20 && c != '\t' && c != '\n')
			continue;
		o[n++] = (char)c;
	}
	o[n] = '\0';
	*outlen = n;
	return o;
}

int
wcf_parse(const char *buf, size_t len, struct wcf_in *in)
{
	json_error_t jerr;
	json_t *root, *hdr, *v;
	const char *cmd;
	char *clean;
	size_t clen;
	int rv;

	memset(in, 0, sizeof(*in));
	if (len > WCF_FRAME_MAX)
		return WCF_E_BIG;
	clean = wcf_strip(buf, len, &clen);
	root = json_loadb(clean, clen, JSON_REJECT_DUPLICATES, &jerr);
	free(clean);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return WCF_E_JSON;
	}
	rv = WCF_E_SHAPE;
	if ((hdr = json_object_get(root, "headers")) == NULL ||
	    !json_is_object(hdr))
		goto out;
	if ((rv = wcf_id(hdr, "req_id", in->req_id, 1)) != WCF_OK)
		goto out;
	rv = WCF_E_SHAPE;
	v = json_object_get(root, "cmd");
	if (v == NULL) {
		in->kind = WCF_ACK;
		rv = wcf_ack(root, in);
		goto out;
	}
	if (!json_is_string(v))
		goto out;
	cmd = json_string_value(v);
	if (strcmp(cmd, "aibot_msg_callback") == 0) {
		in->kind = WCF_MSG;
		rv = wcf_message(json_object_get(root, "body"), in);
	} else if (strcmp(cmd, "aibot_event_callback") == 0) {
		in->kind = WCF_EVENT;
		rv = wcf_event(json_object_get(root, "body"), in);
	} else {
		in->kind = WCF_UNKNOWN;
		wcf_word(root, "cmd", in->cmd);
		rv = WCF_OK;
	}
out:
	json_decref(root);
	if (rv != WCF_OK)
		wcf_in_free(in);
	return rv;
}

void
wcf_in_free(struct wcf_in *in)
{
	size_t i;

	free(in->text);
	in->text = NULL;
	in->textlen = 0;
	for (i = 0; i < in->natt; i++)
		wcf_att_free(&in->att[i]);
	in->natt = 0;
}

void
wcf_att_free(struct wcf_att *a)
{
	free(a->url);
	free(a->name);
	/* The key opens the file: not left in freed memory. */
	memset(a, 0, sizeof(*a));
}

/*
 * An answer to one of ours: errcode (absent is 0), and the ids an
 * upload step's answer carries in its body (A.5.8); other acks have no
 * body, or one we do not read.
 */
static int
wcf_ack(json_t *root, struct wcf_in *in)
{
	json_t *v, *body;
	int rv;

	v = json_object_get(root, "errcode");
	if (v != NULL && !json_is_integer(v))
		return WCF_E_SHAPE;
	in->errcode = v != NULL ? (long long)json_integer_value(v) : 0;
	body = json_object_get(root, "body");
	if (body == NULL || json_is_null(body))
		return WCF_OK;
	if (!json_is_object(body))
		return WCF_E_SHAPE;
	if ((rv = wcf_token(body, "upload_id", in->upload_id,
	    sizeof(in->upload_id))) != WCF_OK)
		return rv;
	return wcf_token(body, "media_id", in->media_id,
	    sizeof(in->media_id));
}

/* An optional id of up to size - 1 bytes, as wcf_id checks them. */
static int
wcf_token(json_t *o, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t i, len;

	out[0] = '\0';
	if (v == NULL)
		return WCF_OK;
	if (!json_is_string(v))
		return WCF_E_SHAPE;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len >= size)
		return WCF_E_ID;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return WCF_E_ID;
	memcpy(out, s, len);
	out[len] = '\0';
	return WCF_OK;
}

/* An id field: required or "" when absent. */
static int
wcf_id(json_t *o, const char *key, char *out, int required)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t len;

	out[0] = '\0';
	if (v == NULL)
		return required ? WCF_E_SHAPE : WCF_OK;
	if (!json_is_string(v))
		return WCF_E_SHAPE;
	s = json_string_value(v);
	len = json_string_length(v);
	if (!wcf_id_ok(s, len))
		return WCF_E_ID;
	memcpy(out, s, len);
	out[len] = '\0';
	return WCF_OK;
}

/* A short word for logs: cut, and "" unless it is a printable id. */
static void
wcf_word(json_t *o, const char *key, char *out)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	out[0] = '\0';
	if (!json_is_string(v))
		return;
	len = json_string_length(v);
	if (len > WCF_WORD_MAX)
		len = WCF_WORD_MAX;
	if (!wcf_id_ok(json_string_value(v), len))
		return;
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
}

/* What every callback body carries: who, where and its msgid. */
static int
wcf_common(json_t *body, struct wcf_in *in)
{
	json_t *from, *ct;
	int rv;

	if (!json_is_object(body))
		return WCF_E_SHAPE;
	if ((rv = wcf_id(body, "msgid", in->msgid, 1)) != WCF_OK)
		return rv;
	from = json_object_get(body, "from");
	if (!json_is_object(from))
		return WCF_E_SHAPE;
	if ((rv = wcf_id(from, "userid", in->userid, 1)) != WCF_OK)
		return rv;
	if ((rv = wcf_id(body, "chatid", in->chatid, 0)) != WCF_OK)
		return rv;
	ct = json_object_get(body, "chattype");
	if (ct != NULL && !json_is_string(ct))
		return WCF_E_SHAPE;
	in->group = ct != NULL && strcmp(json_string_value(ct), "group") == 0;
	/* A group's replies go to the chat: without its id, none can. */
	if (in->group && in->chatid[0] == '\0')
		return WCF_E_SHAPE;
	wcf_word(body, "msgtype", in->msgtype);
	return WCF_OK;
}

static int
wcf_event(json_t *body, struct wcf_in *in)
{
	json_t *ev;
	int rv;

	if ((rv = wcf_common(body, in)) != WCF_OK)
		return rv;
	ev = json_object_get(body, "event");
	if (!json_is_object(ev) || !json_is_string(json_object_get(ev,
	    "eventtype")))
		return WCF_E_SHAPE;
	wcf_word(ev, "eventtype", in->eventtype);
	return WCF_OK;
}

/*
 * The message as one text: a quote first, as "> " lines (the agent
 * sees what was answered), then the message.  Each attachment is a
 * short note, and the message's own (not the quote's) are listed in
 * in->att with where their note is, for the worker to fetch.
 */
static int
wcf_message(json_t *body, struct wcf_in *in)
{
	struct tbuf tb = { NULL, 0, 0, 0 };
	struct tbuf q = { NULL, 0, 0, 0 };
	json_t *quote;
	size_t i, start;
	int rv;

	if ((rv = wcf_common(body, in)) != WCF_OK)
		return rv;
	if (in->msgtype[0] == '\0')
		return WCF_E_SHAPE;
	quote = json_object_get(body, "quote");
	if (quote != NULL) {
		if (!json_is_object(quote) ||
		    (rv = wcf_content(quote, NULL, &q, 1, NULL)) != WCF_OK)
			goto fail;
		for (i = 0, start = 0; i <= q.len; i++) {
			if (i < q.len && q.p[i] != '\n')
				continue;
			tb_add(&tb, "> ", 2);
			tb_add(&tb, q.p + start, i - start);
			tb_add(&tb, "\n", 1);
			start = i + 1;
		}
		tb_add(&tb, "\n", 1);
	}
	if ((rv = wcf_content(body, in->msgtype, &tb, 0, in)) != WCF_OK)
		goto fail;
	if (tb.over || q.over) {
		rv = WCF_E_BIG;
		goto fail;
	}
	free(q.p);
	in->text = tb.p != NULL ? tb.p : xstrdup("");
	in->textlen = tb.len;
	return WCF_OK;
fail:
	free(q.p);
	free(tb.p);
	return rv;
}

/* One string field of a sub-object: obj.key.field. */
static const char *
wcf_sub(json_t *o, const char *key, const char *field, size_t *len)
{
	json_t *s = json_object_get(o, key), *v;

	if (!json_is_object(s) || !json_is_string(v = json_object_get(s,
	    field)))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

/*
 * The content of a message or quote o of type type (NULL: o's own
 * msgtype).  in_quote: an unknown type is a note, not an error.  att:
 * where the attachments go (NULL in a quote: those were the user's
 * earlier message, delivered then).
 */
static int
wcf_content(json_t *o, const char *type, struct tbuf *tb, int in_quote,
    struct wcf_in *att)
{
	json_t *items, *it, *tv;
	const char *s;
	size_t i, len, off = tb->len;

	if (type == NULL) {
		tv = json_object_get(o, "msgtype");
		if (!json_is_string(tv))
			return WCF_E_SHAPE;
		type = json_string_value(tv);
	}
	if (strcmp(type, "text") == 0 || strcmp(type, "voice") == 0) {
		/* voice: WeCom's transcript; no audio comes (A.7 #6). */
		if ((s = wcf_sub(o, type, "content", &len)) == NULL)
			return WCF_E_SHAPE;
		tb_add(tb, s, len);
		/* Audio only if the frame names some: nothing to fetch. */
		if (att != NULL && strcmp(type, "voice") == 0 &&
		    wcf_sub(o, type, "url", &len) != NULL)
			wcf_att_add(att, o, type, off, 0);
	} else if (strcmp(type, "mixed") == 0) {
		tv = json_object_get(o, "mixed");
		items = json_is_object(tv) ? json_object_get(tv, "msg_item") :
		    NULL;
		if (!json_is_array(items) || json_array_size(items) >
		    WCF_ITEMS_MAX)
			return WCF_E_SHAPE;
		json_array_foreach(items, i, it) {
			if (!json_is_object(it))
				return WCF_E_SHAPE;
			if (i > 0)
				tb_add(tb, "\n", 1);
			if (wcf_content(it, NULL, tb, 1, att) != WCF_OK)
				return WCF_E_SHAPE;
		}
	} else if (strcmp(type, "image") == 0) {
		tb_add(tb, NOTE_IMAGE, sizeof(NOTE_IMAGE) - 1);
		if (att != NULL)
			wcf_att_add(att, o, type, off, tb->len - off);
	} else if (strcmp(type, "file") == 0) {
		tb_add(tb, NOTE_FILE, sizeof(NOTE_FILE) - 1);
		if ((s = wcf_sub(o, "file", "filename", &len)) != NULL &&
		    len > 0 && memchr(s, '\n', len) == NULL) {
			tb_add(tb, " ", 1);
			tb_add(tb, s, len);
		}
		if (att != NULL)
			wcf_att_add(att, o, type, off, tb->len - off);
	} else if (strcmp(type, "video") == 0) {
		tb_add(tb, NOTE_VIDEO, sizeof(NOTE_VIDEO) - 1);
		if (att != NULL)
			wcf_att_add(att, o, type, off, tb->len - off);
	} else if (in_quote)
		tb_add(tb, "[message]", 9);
	else
		return WCF_E_SHAPE;
	return WCF_OK;
}

/* A URL to GET: http(s), printable ASCII without spaces (A.7 #1). */
static int
wcf_url_ok(const char *s, size_t len)
{
	size_t i;

	if (len > WCF_URL_MAX || !((len > 8 && strncmp(s, "https://", 8) ==
	    0) || (len > 7 && strncmp(s, "http://", 7) == 0)))
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return 0;
	return 1;
}

/*
 * The attachment o.type names, its note text[off..off + len).  What
 * does not fit (no url, a bad one, an odd key or name) is left out
 * here and fails when fetched: the part is still counted and named.
 */
static void
wcf_att_add(struct wcf_in *in, json_t *o, const char *type, size_t off,
    size_t len)
{
	struct wcf_att *a;
	const char *s;
	size_t n, i;

	if (in->natt == WCF_ATT_MAX) {
		in->att_over++;
		return;
	}
	a = &in->att[in->natt++];
	snprintf(a->kind, sizeof(a->kind), "%s", type);
	a->note_off = off;
	a->note_len = len;
	if ((s = wcf_sub(o, type, "url", &n)) != NULL && wcf_url_ok(s, n))
		a->url = xstrdup(s);
	if ((s = wcf_sub(o, type, "aeskey", &n)) != NULL && n <= WCF_KEY_MAX &&
	    strlen(s) == n)
		memcpy(a->aeskey, s, n + 1);
	if ((s = wcf_sub(o, type, "filename", &n)) == NULL || n == 0 ||
	    n > WCF_NAME_MAX || strlen(s) != n)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return;
	a->name = xstrdup(s);
}

void
wcf_notes_drop(char *text, size_t *len, const struct wcf_att *att, size_t n)
{
	size_t i, off, cut;

	for (i = n; i-- > 0; ) {
		off = att[i].note_off;
		cut = att[i].note_len;
		if (!att[i].ok || cut == 0 || off > *len || cut > *len - off)
			continue;
		if (off > 0 && text[off - 1] == '\n') {
			off--;
			cut++;
		} else if (off + cut < *len && text[off + cut] == '\n')
			cut++;
		memmove(text + off, text + off + cut, *len - off - cut);
		*len -= cut;
		text[*len] = '\0';
	}
}

/* Appends, up to WCF_TEXT_MAX; past it the buffer is marked over. */
static void
tb_add(struct tbuf *tb, const char *s, size_t len)
{
	if (tb->over || len > WCF_TEXT_MAX - tb->len) {
		tb->over = 1;
		return;
	}
	if (tb->len + len + 1 > tb->cap) {
		tb->cap = tb->len + len + 1 < 256 ? 256 :
		    (tb->len + len + 1) * 2;
		tb->p = xreallocarray(tb->p, tb->cap, 1);
	}
	memcpy(tb->p + tb->len, s, len);
	tb->len += len;
	tb->p[tb->len] = '\0';
}

int
wcf_mention(char *text, size_t *len, const char *bot_name)
{
	char at[WCF_WORD_MAX * 4 + 2];
	size_t n, off, cut;
	char *p;

	if (bot_name == NULL || bot_name[0] == '\0')
		return 1;
	n = (size_t)snprintf(at, sizeof(at), "@%s", bot_name);
	if (n >= sizeof(at) || n > *len)
		return 0;
	for (p = text; (size_t)(p - text) + n <= *len; p++) {
		if (memcmp(p, at, n) != 0)
			continue;
		off = (size_t)(p - text);
		cut = n;
		/* The space WeCom puts after the name goes with it. */
		if (off + cut < *len && text[off + cut] == ' ')
			cut++;
		memmove(p, p + cut, *len - off - cut);
		*len -= cut;
		text[*len] = '\0';
		return 1;
	}
	return 0;
}

/* Frames out. */

/* Compact, and nothing larger than one frame may leave (A.11). */
static char *
wcf_dump(json_t *o)
{
	char *s;

	/* Not json_dumps: jansson's blocks are jsonalloc.c's, not free()'s. */
	s = jsonalloc_take(o);
	if (s != NULL && strlen(s) > WCF_FRAME_MAX) {
		free(s);
		return NULL;
	}
	return s;
}

char *
wcf_subscribe(const char *req_id, const char *bot_id, const char *secret)
{
	if (!wcf_id_ok(req_id, strlen(req_id)))
		return NULL;
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:s}}",
	    "cmd", "aibot_subscribe", "headers", "req_id", req_id,
	    "body", "bot_id", bot_id, "secret", secret));
}

char *
wcf_ping(const char *req_id)
{
	if (!wcf_id_ok(req_id, strlen(req_id)))
		return NULL;
	return wcf_dump(json_pack("{s:s, s:{s:s}}", "cmd", "ping",
	    "headers", "req_id", req_id));
}

char *
wcf_stream(const char *req_id, const char *stream_id, const char *content,
    size_t len, int finish)
{
	if (!wcf_id_ok(req_id, strlen(req_id)) || len > WCF_CONTENT_MAX)
		return NULL;
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:{s:s, s:b, "
	    "s:s%}}}", "cmd", "aibot_respond_msg", "headers", "req_id",
	    req_id, "body", "msgtype", "stream", "stream", "id", stream_id,
	    "finish", finish, "content", content, len));
}

char *
wcf_welcome(const char *req_id, const char *text)
{
	if (!wcf_id_ok(req_id, strlen(req_id)) ||
	    strlen(text) > WCF_CONTENT_MAX)
		return NULL;
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:{s:s}}}",
	    "cmd", "aibot_respond_welcome_msg", "headers", "req_id", req_id,
	    "body", "msgtype", "text", "text", "content", text));
}

/*
 * aibot_send_msg takes markdown, not text (40008, A.5.9).  group < 0:
 * not known (a push the bot starts, to an id the operator gave), so
 * chat_type is left out and WeCom decides, as the SDK always does.
 */
char *
wcf_markdown(const char *req_id, const char *chatid, int group,
    const char *content, size_t len)
{
	if (!wcf_id_ok(req_id, strlen(req_id)) ||
	    !wcf_id_ok(chatid, strlen(chatid)) || len > WCF_CONTENT_MAX)
		return NULL;
	if (group < 0)
		return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:s, "
		    "s:{s:s%}}}", "cmd", "aibot_send_msg", "headers", "req_id",
		    req_id, "body", "chatid", chatid, "msgtype", "markdown",
		    "markdown", "content", content, len));
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:i, s:s, "
	    "s:{s:s%}}}", "cmd", "aibot_send_msg", "headers", "req_id",
	    req_id, "body", "chatid", chatid, "chat_type", group ? 2 : 1,
	    "msgtype", "markdown", "markdown", "content", content, len));
}

/* A.5.8: the first step; its answer carries the upload_id. */
char *
wcf_upload_init(const char *req_id, const char *type, const char *filename,
    uint64_t total_size, unsigned total_chunks, const char *md5)
{
	if (!wcf_id_ok(req_id, strlen(req_id)) || total_size == 0 ||
	    total_chunks == 0 || total_chunks > WCF_CHUNKS_MAX ||
	    total_size > (uint64_t)total_chunks * WCF_CHUNK_MAX ||
	    *filename == '\0' || strlen(md5) != 32)
		return NULL;
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:I, s:i, "
	    "s:s}}", "cmd", "aibot_upload_media_init", "headers", "req_id",
	    req_id, "body", "type", type, "filename", filename, "total_size",
	    (json_int_t)total_size, "total_chunks", (int)total_chunks, "md5",
	    md5));
}

/*
 * Standard base64 of the chunk (A.5.8); chunk_index a number, 0-based,
 * as the SDK sends it (A.12).  At WCF_CHUNK_MAX the frame is about
 * 700 KB, within WCF_FRAME_MAX (A.2).
 */
char *
wcf_upload_chunk(const char *req_id, const char *upload_id, unsigned index,
    const uint8_t *raw, size_t len)
{
	unsigned char *b64;
	char *f;
	int n;

	if (!wcf_id_ok(req_id, strlen(req_id)) || *upload_id == '\0' ||
	    len == 0 || len > WCF_CHUNK_MAX || index >= WCF_CHUNKS_MAX)
		return NULL;
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	n = EVP_EncodeBlock(b64, raw, (int)len);
	f = wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:i, s:s%}}", "cmd",
	    "aibot_upload_media_chunk", "headers", "req_id", req_id, "body",
	    "upload_id", upload_id, "chunk_index", (int)index, "base64_data",
	    (const char *)b64, (size_t)n));
	free(b64);
	return f;
}

/* The last step; its answer carries the media_id. */
char *
wcf_upload_finish(const char *req_id, const char *upload_id)
{
	if (!wcf_id_ok(req_id, strlen(req_id)) || *upload_id == '\0')
		return NULL;
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s}}", "cmd",
	    "aibot_upload_media_finish", "headers", "req_id", req_id, "body",
	    "upload_id", upload_id));
}

char *
wcf_media(const char *req_id, const char *chatid, int group,
    const char *type, const char *media_id)
{
	if (!wcf_id_ok(req_id, strlen(req_id)) || *media_id == '\0' ||
	    (strcmp(type, "image") != 0 && strcmp(type, "file") != 0))
		return NULL;
	if (chatid == NULL)
		return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:{s:s}}}",
		    "cmd", "aibot_respond_msg", "headers", "req_id", req_id,
		    "body", "msgtype", type, type, "media_id", media_id));
	if (!wcf_id_ok(chatid, strlen(chatid)))
		return NULL;
	if (group < 0)
		return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:s, "
		    "s:{s:s}}}", "cmd", "aibot_send_msg", "headers", "req_id",
		    req_id, "body", "chatid", chatid, "msgtype", type, type,
		    "media_id", media_id));
	return wcf_dump(json_pack("{s:s, s:{s:s}, s:{s:s, s:i, s:s, "
	    "s:{s:s}}}", "cmd", "aibot_send_msg", "headers", "req_id",
	    req_id, "body", "chatid", chatid, "chat_type", group ? 2 : 1,
	    "msgtype", type, type, "media_id", media_id));
}

/* "<1|2> <chatid> <req_id>": ids never hold a space. */
int
wcf_ctx_encode(char *buf, size_t size, const char *req_id,
    const char *chatid, int group)
{
	int n;

	if (!wcf_id_ok(req_id, strlen(req_id)) ||
	    !wcf_id_ok(chatid, strlen(chatid)))
		return -1;
	n = snprintf(buf, size, "%c %s %s", group ? '2' : '1', chatid,
	    req_id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
wcf_ctx_decode(const char *s, size_t len, char *req_id, char *chatid,
    int *group)
{
	const char *sp;
	size_t clen, rlen;

	if (len < 5 || (s[0] != '1' && s[0] != '2') || s[1] != ' ')
		return -1;
	if ((sp = memchr(s + 2, ' ', len - 2)) == NULL)
		return -1;
	clen = (size_t)(sp - (s + 2));
	rlen = len - 2 - clen - 1;
	if (!wcf_id_ok(s + 2, clen) || !wcf_id_ok(sp + 1, rlen))
		return -1;
	memcpy(chatid, s + 2, clen);
	chatid[clen] = '\0';
	memcpy(req_id, sp + 1, rlen);
	req_id[rlen] = '\0';
	*group = s[0] == '2';
	return 0;
}

size_t
wcf_utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	/* Back over continuation bytes to the start of a character. */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}
