/*
 * The media items and quotes of an inbound iLink message (§5.2, §5.4,
 * §6.1): for each image, voice, file and video item, where the CDN
 * keeps it, its AES key in whichever of its two encodings it came, its
 * declared size and its name; and the quoted message as "> " lines of
 * context for the agent.  Pure: called by ilink_parse.c on each
 * message, fuzzed by tests/fuzz/fuzz_ilink_media.c.  It never logs: a
 * bad item is marked with why, and the worker (inmedia.c) says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "hex.h"
#include "ilink.h"
#include "ilink_media.h"
#include "xmalloc.h"

/* §5.2's item types. */
#define TYPE_TEXT		1
#define TYPE_IMAGE		2
#define TYPE_VOICE		3
#define TYPE_FILE		4
#define TYPE_VIDEO		5
#define TYPE_TOOL_START		11
#define TYPE_TOOL_RESULT	12

/* Which container holds each kind, and how its size is declared. */
static const struct {
	long long		 type;
	enum ilink_mkind	 kind;
	const char		*container;
	const char		*name;		/* for logs and parts */
	const char		*placeholder;	/* §5.3, in quotes */
} kinds[] = {
	{ TYPE_IMAGE,	ILINK_MK_IMAGE,	"image_item",	"image", "[图片]" },
	{ TYPE_VOICE,	ILINK_MK_VOICE,	"voice_item",	"voice", "[语音]" },
	{ TYPE_FILE,	ILINK_MK_FILE,	"file_item",	"file",	"[文件]" },
	{ TYPE_VIDEO,	ILINK_MK_VIDEO,	"video_item",	"video", "[视频]" },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* A declared size past this is no size: far beyond any cap of ours. */
#define SIZE_MAX_DECLARED	(1ULL << 40)

/* 32 hex characters to 16 bytes; -1 on anything else. */
static int
hex_key(const char *s, size_t len, uint8_t key[ILINK_KEY_LEN])
{
	size_t i;
	int hi, lo;

	if (len != 2 * ILINK_KEY_LEN)
		return -1;
	for (i = 0; i < ILINK_KEY_LEN; i++) {
		if ((hi = hex_digit((unsigned char)s[2 * i])) == -1 ||
		    (lo = hex_digit((unsigned char)s[2 * i + 1])) == -1)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * §6.1: the inbound media.aes_key is base64 of the 16 key bytes, or of
 * the key's 32 hex characters (what the official client sends), told
 * apart by the decoded length.  Anything else is no key.
 */
int
ilink_aes_key(const char *s, size_t len, uint8_t key[ILINK_KEY_LEN],
    enum ilink_keyenc *enc)
{
	uint8_t buf[2 * ILINK_KEY_LEN];
	int n, rv = -1;

	/* §8.3: the standard alphabet, not the URL-safe one. */
	n = b64_decode(s, len, 0, buf, sizeof(buf));
	if (n == ILINK_KEY_LEN) {
		memcpy(key, buf, ILINK_KEY_LEN);
		*enc = ILINK_KEY_B64RAW;
		rv = 0;
	} else if (n == 2 * ILINK_KEY_LEN &&
	    hex_key((const char *)buf, sizeof(buf), key) == 0) {
		*enc = ILINK_KEY_B64HEX;
		rv = 0;
	}
	explicit_bzero(buf, sizeof(buf));
	return rv;
}

/*
 * A string field: 0 absent, null or "", 1 copied, -1 of another type,
 * longer than max or holding a NUL.
 */
static int
str_of(json_t *o, const char *key, size_t max, char **out)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	len = json_string_length(v);
	if (len == 0)
		return 0;
	if (len > max || memchr(json_string_value(v), '\0', len) != NULL)
		return -1;
	*out = xstrndup(json_string_value(v), len);
	return 1;
}

/* The longest prefix of s[0, len) within max bytes, on a UTF-8 boundary. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/*
 * A declared size, in bytes: a JSON integer, or (file_item.len, §8.18)
 * a string of decimal digits.  0 absent; -1 anything else.
 */
static int
size_of(json_t *v, uint64_t *out)
{
	const char *s;
	uint64_t n = 0;
	size_t i, len;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 ||
		    (uint64_t)json_integer_value(v) > SIZE_MAX_DECLARED)
			return -1;
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	/* 2^40 has 13 digits: more is no size, and would overflow. */
	if (len == 0 || len > 13)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*out = n > SIZE_MAX_DECLARED ? 0 : n;
	return n > SIZE_MAX_DECLARED ? -1 : 0;
}

/* A plaintext of n bytes is this long encrypted (§6.1: always padded). */
static uint64_t
padded(uint64_t n)
{
	return (n / 16 + 1) * 16;
}

/*
 * The ciphertext bound an item declares (0: none).  §6.2 has image
 * mid_size and video_size count ciphertext, file_item.len plaintext;
 * voice's size is only observed, so it is read as plaintext, which
 * bounds a ciphertext size too.  An image may declare an HD size as
 * well, and which copy the CDN serves is not written down: the larger.
 */
static int
item_limit(json_t *c, enum ilink_mkind kind, uint64_t *limit)
{
	uint64_t a, b;

	switch (kind) {
	case ILINK_MK_IMAGE:
		if (size_of(json_object_get(c, "mid_size"), &a) == -1 ||
		    size_of(json_object_get(c, "hd_size"), &b) == -1)
			return -1;
		*limit = a > b ? a : b;
		return 0;
	case ILINK_MK_VIDEO:
		return size_of(json_object_get(c, "video_size"), limit);
	case ILINK_MK_FILE:
		a = 0;
		if (size_of(json_object_get(c, "len"), &a) == -1)
			return -1;
		*limit = a > 0 ? padded(a) : 0;
		return 0;
	case ILINK_MK_VOICE:
		a = 0;
		if (size_of(json_object_get(c, "size"), &a) == -1)
			return -1;
		*limit = a > 0 ? padded(a) : 0;
		return 0;
	default:
		return -1;
	}
}

/*
 * §6.1: an image's own aeskey (hex) comes first; else media.aes_key.
 * An image with no key at all comes in clear; the other kinds without
 * one are skipped, as the official client does.
 */
static enum ilink_merr
item_key(json_t *c, json_t *media, struct ilink_media *m)
{
	json_t *v;

	v = json_object_get(c, "aeskey");
	if (m->kind == ILINK_MK_IMAGE && v != NULL && !json_is_null(v) &&
	    !(json_is_string(v) && json_string_length(v) == 0)) {
		if (!json_is_string(v) || hex_key(json_string_value(v),
		    json_string_length(v), m->key) == -1)
			return ILINK_M_KEY;
		m->keyenc = ILINK_KEY_HEX;
		return ILINK_M_OK;
	}
	v = json_object_get(media, "aes_key");
	if (v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0))
		return m->kind == ILINK_MK_IMAGE ? ILINK_M_OK : ILINK_M_NOKEY;
	if (!json_is_string(v) || ilink_aes_key(json_string_value(v),
	    json_string_length(v), m->key, &m->keyenc) == -1)
		return ILINK_M_KEY;
	return ILINK_M_OK;
}

/* The file's name, cut at a NUL and to IPC_FILENAME_MAX. */
static void
item_name(json_t *c, struct ilink_media *m)
{
	json_t *v = json_object_get(c, "file_name");
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return;
	s = json_string_value(v);
	len = strnlen(s, json_string_length(v));
	len = utf8_cut(s, len, IPC_FILENAME_MAX);
	if (len > 0)
		m->name = xstrndup(s, len);
}

static enum ilink_merr
item_take(json_t *it, size_t k, struct ilink_media *m)
{
	json_t *c, *media;
	enum ilink_merr e;
	int ru, rq;

	m->kind = kinds[k].kind;
	c = json_object_get(it, kinds[k].container);
	if (!json_is_object(c))
		return ILINK_M_SHAPE;
	media = json_object_get(c, "media");
	if (media != NULL && !json_is_null(media) && !json_is_object(media))
		return ILINK_M_SHAPE;
	ru = str_of(media, "full_url", ILINK_QUERY_MAX, &m->url);
	rq = str_of(media, "encrypt_query_param", ILINK_QUERY_MAX, &m->query);
	if (ru == -1 || rq == -1)
		return ILINK_M_SHAPE;
	if (ru == 0 && rq == 0)
		return ILINK_M_NOURL;
	if ((e = item_key(c, media, m)) != ILINK_M_OK)
		return e;
	if (item_limit(c, m->kind, &m->limit) == -1)
		return ILINK_M_SHAPE;
	item_name(c, m);
	return ILINK_M_OK;
}

static void
media_free(struct ilink_media *m)
{
	xfree_secret(m->url);
	xfree_secret(m->query);
	free(m->name);
	explicit_bzero(m, sizeof(*m));
}

/* ---- quotes (§5.4) ------------------------------------------------ */

/* What a quoted item says: its text, a transcript or a placeholder. */
static const char *
quoted_text(json_t *item, size_t *len)
{
	long long type;
	json_t *v;
	size_t k;

	type = json_integer_value(json_object_get(item, "type"));
	if (type == TYPE_TEXT)
		v = json_object_get(json_object_get(item, "text_item"), "text");
	else if (type == TYPE_VOICE)
		v = json_object_get(json_object_get(item, "voice_item"),
		    "text");
	else
		v = NULL;
	if (json_is_string(v) && json_string_length(v) > 0) {
		*len = strnlen(json_string_value(v), json_string_length(v));
		return json_string_value(v);
	}
	for (k = 0; k < NKINDS; k++)
		if (kinds[k].type == type) {
			*len = strlen(kinds[k].placeholder);
			return kinds[k].placeholder;
		}
	*len = 0;
	return NULL;
}

/* Append s[0, len) to buf as lines each led by depth "> " marks. */
static void
quote_add(char **buf, size_t *blen, int depth, const char *s, size_t len)
{
	size_t i, need, o;
	int d;

	len = utf8_cut(s, len, ILINK_QUOTE_MAX);
	/* Each byte may start a line: marks, the byte, a newline. */
	need = *blen + (len + 1) * (2 * (size_t)depth + 2) + 1;
	*buf = xreallocarray(*buf, need, 1);
	o = *blen;
	for (i = 0; i <= len; i++) {
		if (i == 0 || s[i - 1] == '\n')
			for (d = 0; d < depth; d++) {
				(*buf)[o++] = '>';
				(*buf)[o++] = ' ';
			}
		if (i == len)
			break;
		(*buf)[o++] = s[i] == '\r' ? ' ' : s[i];
	}
	(*buf)[o++] = '\n';
	(*buf)[o] = '\0';
	*blen = o;
}

/* Two ids (message_item.msg_id) are the same message. */
static int
same_id(json_t *a, json_t *b)
{
	return a != NULL && b != NULL && json_is_string(a) &&
	    json_is_string(b) && json_string_length(a) > 0 &&
	    json_equal(a, b);
}

/*
 * §5.4: the first ref_msg of the items, and the quotes it quotes in
 * turn, as "> " lines (title, else the quoted item's own text).  A
 * chain past ILINK_REF_DEPTH or one that comes back to a message it
 * already quoted is refused whole: no quote rather than half of one.
 */
static void
quote_take(json_t *items, struct ilink_mlist *m)
{
	json_t *it, *ref = NULL, *qi, *seen[ILINK_REF_DEPTH + 1];
	const char *s;
	size_t i, j, len, blen = 0;
	char *buf = NULL;
	int depth;

	json_array_foreach(items, i, it)
		if (json_is_object(ref = json_object_get(it, "ref_msg")))
			break;
	if (!json_is_object(ref))
		return;
	for (depth = 1; json_is_object(ref); depth++) {
		if (depth > ILINK_REF_DEPTH) {
			m->quote_err = ILINK_M_REFDEPTH;
			free(buf);
			return;
		}
		qi = json_object_get(ref, "message_item");
		seen[depth - 1] = json_object_get(qi, "msg_id");
		for (j = 0; j + 1 < (size_t)depth; j++)
			if (same_id(seen[j], seen[depth - 1])) {
				m->quote_err = ILINK_M_REFLOOP;
				free(buf);
				return;
			}
		s = json_string_value(json_object_get(ref, "title"));
		len = s != NULL ? strnlen(s, json_string_length(
		    json_object_get(ref, "title"))) : 0;
		if (len == 0)
			s = quoted_text(qi, &len);
		if (s != NULL && len > 0)
			quote_add(&buf, &blen, depth, s, len);
		ref = json_object_get(qi, "ref_msg");
	}
	m->quote = buf;
}

/* ---- the list ----------------------------------------------------- */

void
ilink_media_take(json_t *items, struct ilink_mlist *m)
{
	struct ilink_media *md;
	long long type;
	json_t *it;
	size_t i, k, parts = 0;

	memset(m, 0, sizeof(*m));
	quote_take(items, m);
	json_array_foreach(items, i, it) {
		type = json_integer_value(json_object_get(it, "type"));
		if (type == TYPE_TEXT || type == TYPE_TOOL_START ||
		    type == TYPE_TOOL_RESULT)
			continue;
		if (m->n == ILINK_ITEMS_MAX) {
			m->unread++;
			continue;
		}
		md = &m->v[m->n++];
		for (k = 0; k < NKINDS; k++)
			if (kinds[k].type == type)
				break;
		if (k == NKINDS) {
			md->kind = ILINK_MK_OTHER;
			md->err = ILINK_M_TYPE;
			continue;
		}
		if ((md->err = item_take(it, k, md)) == ILINK_M_OK &&
		    ++parts > IPC_PARTS_MAX)
			md->err = ILINK_M_TOOMANY;
		if (md->err != ILINK_M_OK) {
			/* Keep only what a log line names. */
			xfree_secret(md->url);
			xfree_secret(md->query);
			free(md->name);
			md->url = md->query = md->name = NULL;
			explicit_bzero(md->key, sizeof(md->key));
		} else
			m->ok++;
	}
}

int
ilink_media_parse(const char *msg, size_t len, struct ilink_mlist *m)
{
	json_t *root;
	size_t qlen;
	char *q;

	memset(m, 0, sizeof(*m));
	q = ilink_quote_ids(msg, len, &qlen);
	root = json_loadb(q, qlen, JSON_ALLOW_NUL, NULL);
	free(q);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	ilink_media_take(json_object_get(root, "item_list"), m);
	json_decref(root);
	return 0;
}

void
ilink_mlist_clear(struct ilink_mlist *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		media_free(&m->v[i]);
	free(m->quote);
	memset(m, 0, sizeof(*m));
}

/* RFC 3986 unreserved bytes stay; every other byte is %XX. */
static void
pct_encode(const char *s, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			*out++ = (char)c;
		else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	*out = '\0';
}

/*
 * §3.9: full_url when the item has one, else <cdn>/download?
 * encrypted_query_param=<param>.  §8.21: a full_url comes from the
 * network, so its host must be the configured CDN's (which may be a
 * loopback http URL in tests) or one under weixin.qq.com over https.
 * NULL with why; the result holds a credential (xfree_secret it).
 */
char *
ilink_media_url(const char *cdn, const struct ilink_media *m,
    const char **why)
{
	size_t len;
	char *u;

	if (m->url != NULL) {
		if (ilink_host_allowed(m->url, cdn, why) == -1) {
			*why = "full_url not on the CDN host or under "
			    "weixin.qq.com";
			return NULL;
		}
		return xstrdup(m->url);
	}
	*why = "no encrypt_query_param";
	if (m->query == NULL)
		return NULL;
	len = strlen(cdn);
	while (len > 0 && cdn[len - 1] == '/')
		len--;
	u = xmalloc(len + sizeof("/download?encrypted_query_param=") +
	    3 * strlen(m->query));
	memcpy(u, cdn, len);
	memcpy(u + len, "/download?encrypted_query_param=",
	    sizeof("/download?encrypted_query_param="));
	pct_encode(m->query, u + strlen(u));
	return u;
}

/*
 * §3.5, §3.9: where an upload goes.  upload_full_url when the answer
 * has one, held to the CDN's host as a full_url is (§8.21); else the
 * URL built on cdn from upload_param and our filekey.  NULL with why.
 */
char *
ilink_upload_url(const char *cdn, const char *full_url, const char *param,
    const char *filekey, const char **why)
{
	size_t len;
	char *u;

	if (full_url != NULL) {
		if (ilink_host_allowed(full_url, cdn, why) == -1) {
			*why = "upload_full_url not on the CDN host or under "
			    "weixin.qq.com";
			return NULL;
		}
		return xstrdup(full_url);
	}
	*why = "neither upload_full_url nor upload_param";
	if (param == NULL)
		return NULL;
	len = strlen(cdn);
	while (len > 0 && cdn[len - 1] == '/')
		len--;
	u = xmalloc(len + sizeof("/upload?encrypted_query_param=&filekey=") +
	    3 * strlen(param) + 3 * strlen(filekey));
	memcpy(u, cdn, len);
	memcpy(u + len, "/upload?encrypted_query_param=",
	    sizeof("/upload?encrypted_query_param="));
	pct_encode(param, u + strlen(u));
	strcat(u, "&filekey=");
	pct_encode(filekey, u + strlen(u));
	return u;
}

const char *
ilink_mkind_name(enum ilink_mkind k)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "item";
}

const char *
ilink_merr_name(enum ilink_merr e)
{
	static const char *const names[] = {
		"ok", "unknown item type", "malformed item", "no URL",
		"no aes_key", "aes_key in neither encoding",
		"more attachments than one message carries",
		"quotes nested too deep", "a quote quoting itself"
	};

	return (size_t)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}
