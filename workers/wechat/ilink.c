/*
 * iLink requests: header values (§2), URLs and JSON bodies (§3) of the
 * calls the wechat worker makes.  Pure functions of their arguments;
 * randomness and clocks come from the caller so tests can pin them.
 * Responses are parsed in ilink_parse.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ilink.h"
#include "log.h"
#include "xmalloc.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* §2.3: "M.m.p" packed as 0x00MMmmpp; 0 for anything else. */
uint32_t
ilink_client_version(const char *v)
{
	unsigned long part[3];
	char *end;
	int i;

	for (i = 0; i < 3; i++) {
		if (*v < '0' || *v > '9')
			return 0;
		part[i] = strtoul(v, &end, 10);
		if (part[i] > 255 || *end != (i < 2 ? '.' : '\0'))
			return 0;
		v = end + (i < 2);
	}
	return (uint32_t)(part[0] << 16 | part[1] << 8 | part[2]);
}

/*
 * §2.2: base64 of the decimal text of n, not of its four bytes (one
 * third-party client gets that wrong).
 */
int
ilink_uin(uint32_t n, char *out, size_t outlen)
{
	char dec[11];
	size_t len, i, o = 0;
	uint32_t w;

	len = (size_t)snprintf(dec, sizeof(dec), "%u", n);
	if (outlen < (len + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i < len; i += 3) {
		w = (uint32_t)(unsigned char)dec[i] << 16;
		if (i + 1 < len)
			w |= (uint32_t)(unsigned char)dec[i + 1] << 8;
		if (i + 2 < len)
			w |= (uint32_t)(unsigned char)dec[i + 2];
		out[o++] = b64[w >> 18 & 63];
		out[o++] = b64[w >> 12 & 63];
		out[o++] = i + 1 < len ? b64[w >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64[w & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

/*
 * A token goes into a header line, so it must be one visible ASCII word:
 * anything else (CR, LF, a space, UTF-8) would be a header injection or a
 * corrupt store, and is refused rather than sent.
 */
int
ilink_token_ok(const char *t)
{
	size_t i;

	if (t == NULL || t[0] == '\0')
		return 0;
	for (i = 0; t[i] != '\0'; i++)
		if (i >= ILINK_TOKEN_MAX || t[i] <= ' ' || t[i] > '~')
			return 0;
	return 1;
}

/*
 * §2.1.  Authorization only with a usable token: never a bare "Bearer ".
 * Content-Type goes with the JSON class because libcurl would otherwise
 * say application/x-www-form-urlencoded.
 */
void
ilink_headers(struct ilink_hdrs *h, enum ilink_hkind kind, const char *token,
    uint32_t uin)
{
	char u[ILINK_UIN_LEN];

	memset(h, 0, sizeof(*h));
	if (kind == ILINK_H_JSON) {
		h->v[h->n++] = xstrdup("Content-Type: application/json");
		h->v[h->n++] = xstrdup("AuthorizationType: ilink_bot_token");
		if (ilink_token_ok(token))
			xasprintf(&h->v[h->n++], "Authorization: Bearer %s",
			    token);
		(void)ilink_uin(uin, u, sizeof(u));
		xasprintf(&h->v[h->n++], "X-WECHAT-UIN: %s", u);
	}
	h->v[h->n++] = xstrdup("iLink-App-Id: " ILINK_APP_ID);
	xasprintf(&h->v[h->n++], "iLink-App-ClientVersion: %u",
	    ilink_client_version(ILINK_CHANNEL_VERSION));
}

/* The Authorization line is a secret: wipe every line on the way out. */
void
ilink_headers_clear(struct ilink_hdrs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		xfree_secret(h->v[i]);
	memset(h, 0, sizeof(*h));
}

/*
 * §2.4, the official sanitizer's grammar: space-separated tokens
 * "Name/Version", each optionally followed by " (comment)".  The input
 * is cut into words at spaces, a "(...)" group counting as one word; a
 * group belongs to the token right before it.  A token that breaks the
 * grammar is dropped with its comment, and so is a valid token whose
 * comment does not (we reject rather than repair, and a comment-less
 * copy would say less than the operator meant).  Past
 * ILINK_BOT_AGENT_MAX bytes whole tokens go from the end.  With nothing
 * left the official client sends "OpenClaw"; we send fallback (wxgate's
 * own name and version), as a bot should not pass for another client.
 */
#define BA_NAME_MAX	32
#define BA_VERSION_MAX	32
#define BA_COMMENT_MAX	64

static int
ilink_ba_alnum(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

/* s[0, len) is "Name/Version"? */
static int
ilink_ba_product(const char *s, size_t len)
{
	size_t i, slash = len;

	for (i = 0; i < len && slash == len; i++)
		if (s[i] == '/')
			slash = i;
	if (slash == 0 || slash == len || slash > BA_NAME_MAX ||
	    len - slash - 1 == 0 || len - slash - 1 > BA_VERSION_MAX)
		return 0;
	for (i = 0; i < slash; i++)
		if (!ilink_ba_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return 0;
	for (i = slash + 1; i < len; i++)
		if (!ilink_ba_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '+' && s[i] != '-')
			return 0;
	return 1;
}

/* s[0, len) is "(comment)"? */
static int
ilink_ba_comment(const char *s, size_t len)
{
	size_t i;

	if (len < 3 || len - 2 > BA_COMMENT_MAX || s[0] != '(' ||
	    s[len - 1] != ')')
		return 0;
	for (i = 1; i < len - 1; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == '(' || s[i] == ')')
			return 0;
	return 1;
}

struct ilink_ba_out {
	char		*s;
	size_t		 len;
	size_t		 n;		/* tokens kept */
	int		 full;		/* past the bound: keep no more */
	int		 cut;		/* something was dropped */
};

/* Append a token and its comment (cmt NULL: none), if all of it fits. */
static void
ilink_ba_add(struct ilink_ba_out *o, const char *tok, size_t toklen,
    const char *cmt, size_t cmtlen)
{
	size_t need = (o->n > 0) + toklen + (cmt != NULL ? 1 + cmtlen : 0);

	if (tok == NULL)
		return;
	if (o->full || o->len + need > ILINK_BOT_AGENT_MAX) {
		o->full = o->cut = 1;
		return;
	}
	if (o->n++ > 0)
		o->s[o->len++] = ' ';
	memcpy(o->s + o->len, tok, toklen);
	o->len += toklen;
	if (cmt != NULL) {
		o->s[o->len++] = ' ';
		memcpy(o->s + o->len, cmt, cmtlen);
		o->len += cmtlen;
	}
}

/*
 * out (outlen > ILINK_BOT_AGENT_MAX) gets the sanitized value; the
 * answer says whether in was kept whole, cut, or replaced by fallback.
 */
enum ilink_ba
ilink_bot_agent(const char *in, const char *fallback, char *out,
    size_t outlen)
{
	struct ilink_ba_out o = { out, 0, 0, 0, 0 };
	const char *w, *tok = NULL;
	size_t wlen, toklen = 0;

	if (outlen <= ILINK_BOT_AGENT_MAX)
		fatalx("%s: output buffer too small", __func__);
	for (w = in;; w += wlen) {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			break;
		if (*w == '(') {
			/* A group runs to its ')', or to the end. */
			for (wlen = 1; w[wlen] != '\0' && w[wlen] != ')';)
				wlen++;
			wlen += w[wlen] == ')';
			if (tok != NULL && ilink_ba_comment(w, wlen))
				ilink_ba_add(&o, tok, toklen, w, wlen);
			else
				o.cut = 1;
			tok = NULL;
			continue;
		}
		for (wlen = 0; w[wlen] != '\0' && w[wlen] != ' ';)
			wlen++;
		ilink_ba_add(&o, tok, toklen, NULL, 0);
		tok = NULL;
		if (ilink_ba_product(w, wlen)) {
			tok = w;
			toklen = wlen;
		} else
			o.cut = 1;
	}
	ilink_ba_add(&o, tok, toklen, NULL, 0);
	out[o.len] = '\0';
	if (o.n == 0) {
		snprintf(out, outlen, "%s", fallback);
		return ILINK_BA_FALLBACK;
	}
	return o.cut || strcmp(out, in) != 0 ? ILINK_BA_CUT : ILINK_BA_SAME;
}

/*
 * §3.4: the server drops a message whose client_id it has seen.  The
 * supervisor's key is the same for every attempt at one outbox row, so
 * a row re-sent after a lost answer is not shown twice; once the server
 * has refused a row for certain (ret -2), the supervisor re-sends it
 * under a new key.
 */
void
ilink_client_id(const char *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "wxgate:%s", key);
}

/* §1.2: the base gets a trailing '/' and the path is appended to it. */
char *
ilink_url(const char *base, const char *path)
{
	size_t len = strlen(base);
	char *u;

	xasprintf(&u, "%s%s%s", base, len > 0 && base[len - 1] == '/' ?
	    "" : "/", path);
	return u;
}

/* Percent-encode s onto the end of u (RFC 3986 unreserved kept). */
static void
ilink_pct(char *u, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			u[(*o)++] = (char)c;
		else {
			u[(*o)++] = '%';
			u[(*o)++] = hex[c >> 4];
			u[(*o)++] = hex[c & 15];
		}
	}
	u[*o] = '\0';
}

/*
 * §3.2: the handle and the verification code (NULL: none) are
 * percent-encoded whatever they hold.
 */
char *
ilink_url_qrstatus(const char *base, const char *qrcode, const char *code)
{
	static const char path[] = "ilink/bot/get_qrcode_status?qrcode=";
	static const char vc[] = "&verify_code=";
	size_t blen = strlen(base), o, size;
	char *u;

	size = blen + 1 + sizeof(path) + strlen(qrcode) * 3 + sizeof(vc) +
	    (code != NULL ? strlen(code) * 3 : 0) + 1;
	u = xmalloc(size);
	o = (size_t)snprintf(u, size, "%s%s%s", base, blen > 0 &&
	    base[blen - 1] == '/' ? "" : "/", path);
	ilink_pct(u, &o, qrcode);
	if (code != NULL) {
		memcpy(u + o, vc, sizeof(vc));
		o += sizeof(vc) - 1;
		ilink_pct(u, &o, code);
	}
	return u;
}

/*
 * §4.2: the number the phone shows, as the operator typed it.  Digits
 * only, so a typo is caught here and not spent against the server's
 * limit of wrong codes (verify_code_blocked).
 */
int
ilink_verify_code_ok(const char *code)
{
	size_t i;

	for (i = 0; code[i] != '\0'; i++)
		if (i >= ILINK_VERIFY_CODE_MAX || code[i] < '0' ||
		    code[i] > '9')
			return 0;
	return i > 0;
}

/* Loopback names, the only hosts plain http may reach (tests). */
static int
ilink_host_loopback(const char *host)
{
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	return inet_pton(AF_INET, host, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127;
}

/*
 * https, or http to loopback only: a token must never cross a network
 * in clear.  No user part, no fragment.  why says what is wrong.
 */
int
ilink_url_allowed(const char *url, const char **why)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL;
	int rv = -1;

	*why = "not a URL";
	if ((u = curl_url()) == NULL)
		return -1;
	if (strlen(url) > ILINK_URLLEN_MAX ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	*why = "user names in the URL are not allowed";
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	*why = "only https (http only to a loopback address)";
	if (strcmp(scheme, "https") == 0 ||
	    (strcmp(scheme, "http") == 0 && ilink_host_loopback(host)))
		rv = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return rv;
}

/* The scheme and host of url, both owned by the caller (curl_free). */
static int
ilink_url_parts(const char *url, char **scheme, char **host)
{
	CURLU *u;
	int rv = -1;

	*scheme = *host = NULL;
	if ((u = curl_url()) == NULL)
		return -1;
	if (strlen(url) <= ILINK_URLLEN_MAX &&
	    curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK)
		rv = 0;
	curl_url_cleanup(u);
	if (rv == -1) {
		curl_free(*scheme);
		curl_free(*host);
		*scheme = *host = NULL;
	}
	return rv;
}

/*
 * May a URL a server response chose (the login's baseurl, §1.2; a
 * redirect_host, §3.2) receive our requests?  The bot token goes to the
 * API base, so a response must not be able to send it anywhere: only
 * https to the configured login host, weixin.qq.com or a host under
 * it.  The one exception is the test set-up, a login_url that is
 * itself plain http to a loopback host: then that same host, by http.
 * No IP literal passes unless it is that login host.  why says what is
 * wrong.
 */
int
ilink_host_allowed(const char *url, const char *login_url, const char **why)
{
	static const char dom[] = "weixin.qq.com";
	char *scheme = NULL, *host = NULL, *lscheme = NULL, *lhost = NULL;
	size_t hlen, dlen = sizeof(dom) - 1;
	int rv = -1, same;

	if (ilink_url_allowed(url, why) == -1)
		return -1;
	*why = "the configured login URL does not parse";
	if (ilink_url_parts(login_url, &lscheme, &lhost) == -1 ||
	    ilink_url_parts(url, &scheme, &host) == -1)
		goto out;
	hlen = strlen(host);
	same = strcasecmp(host, lhost) == 0;
	*why = "not the login host, weixin.qq.com or a host under it";
	if (strcmp(scheme, "https") == 0) {
		if (same || strcasecmp(host, dom) == 0 ||
		    (hlen > dlen + 1 && host[hlen - dlen - 1] == '.' &&
		    strcasecmp(host + hlen - dlen, dom) == 0))
			rv = 0;
	} else {
		*why = "plain http only to the login host, when that is a "
		    "loopback http URL (tests)";
		if (same && strcmp(lscheme, "http") == 0 &&
		    ilink_host_loopback(lhost))
			rv = 0;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(lscheme);
	curl_free(lhost);
	return rv;
}

static char *
ilink_dump(json_t *o)
{
	char *s = jsonalloc_take(o);

	if (s == NULL)
		fatalx("%s: jsonalloc_dumps", __func__);
	return s;
}

static json_t *
ilink_base_info(const char *bot_agent)
{
	return json_pack("{s:s, s:s}", "channel_version",
	    ILINK_CHANNEL_VERSION, "bot_agent", bot_agent);
}

/*
 * §3.1: we keep no list of older tokens, so the server never answers
 * binded_redirect for a token we dropped.
 */
char *
ilink_body_qrcode(void)
{
	return ilink_dump(json_pack("{s:[]}", "local_token_list"));
}

char *
ilink_body_updates(const char *cursor, const char *bot_agent)
{
	return ilink_dump(json_pack("{s:s, s:o}", "get_updates_buf", cursor,
	    "base_info", ilink_base_info(bot_agent)));
}

/* §3.4 and §8.14: exactly one TEXT item, the official field set. */
char *
ilink_body_getconfig(const char *peer, const char *ctx, const char *bot_agent)
{
	json_t *o;

	o = json_pack("{s:s, s:o}", "ilink_user_id", peer, "base_info",
	    ilink_base_info(bot_agent));
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	/* The official client sends the peer's latest token (§3.6). */
	if (ctx != NULL && ctx[0] != '\0')
		json_object_set_new(o, "context_token", json_string(ctx));
	return ilink_dump(o);
}

char *
ilink_body_notify(const char *bot_agent)
{
	return ilink_dump(json_pack("{s:o}", "base_info",
	    ilink_base_info(bot_agent)));
}

char *
ilink_body_typing(const char *peer, const char *ticket, int status,
    const char *bot_agent)
{
	return ilink_dump(json_pack("{s:s, s:s, s:i, s:o}", "ilink_user_id",
	    peer, "typing_ticket", ticket, "status", status, "base_info",
	    ilink_base_info(bot_agent)));
}

/* §3.4: one message of one item. */
static char *
ilink_body_msg(const char *peer, json_t *item, const char *ctx,
    const char *client_id, const char *bot_agent)
{
	json_t *msg;

	msg = json_pack("{s:s, s:s, s:s, s:i, s:i, s:[o]}",
	    "from_user_id", "", "to_user_id", peer, "client_id", client_id,
	    "message_type", 2, "message_state", 2, "item_list", item);
	if (msg == NULL)
		fatalx("%s: json_pack", __func__);
	if (ctx != NULL && ctx[0] != '\0')
		json_object_set_new(msg, "context_token", json_string(ctx));
	return ilink_dump(json_pack("{s:o, s:o}", "msg", msg, "base_info",
	    ilink_base_info(bot_agent)));
}

char *
ilink_body_send(const char *peer, const char *text, const char *ctx,
    const char *client_id, const char *bot_agent)
{
	json_t *item;

	if ((item = json_pack("{s:i, s:{s:s}}", "type", 1, "text_item",
	    "text", text)) == NULL)
		fatalx("%s: json_pack", __func__);
	return ilink_body_msg(peer, item, ctx, client_id, bot_agent);
}

/* §3.5: no thumbnail, as the official client. */
char *
ilink_body_uploadurl(const struct ilink_up *u, const char *peer,
    const char *bot_agent)
{
	json_t *o;

	o = json_pack("{s:s, s:i, s:s, s:I, s:s, s:I, s:b, s:s, s:o}",
	    "filekey", u->filekey, "media_type", u->media_type,
	    "to_user_id", peer, "rawsize", (json_int_t)u->rawsize,
	    "rawfilemd5", u->md5, "filesize", (json_int_t)u->filesize,
	    "no_need_thumb", 1, "aeskey", u->keyhex,
	    "base_info", ilink_base_info(bot_agent));
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	return ilink_dump(o);
}

/*
 * §5.6, §6.1, §6.2: media.aes_key is base64 of the hex text of the key
 * (base64 of the raw bytes shows as a grey box); an image's mid_size
 * is the ciphertext's size, a file's len the plaintext's, as a string.
 */
char *
ilink_body_send_media(const char *peer, const struct ilink_up *u,
    const char *param, const char *name, const char *ctx,
    const char *client_id, const char *bot_agent)
{
	unsigned char keyb64[4 * ((ILINK_HEX16_LEN - 1 + 2) / 3) + 1];
	char len[24];
	json_t *media, *item;
	char *body;

	if (EVP_EncodeBlock(keyb64, (const unsigned char *)u->keyhex,
	    (int)strlen(u->keyhex)) <= 0)
		fatalx("%s: EVP_EncodeBlock", __func__);
	media = json_pack("{s:s, s:s, s:i}", "encrypt_query_param", param,
	    "aes_key", (const char *)keyb64, "encrypt_type", 1);
	if (media == NULL)
		fatalx("%s: json_pack", __func__);
	if (u->media_type == ILINK_UP_IMAGE)
		item = json_pack("{s:i, s:{s:o, s:I}}", "type", 2,
		    "image_item", "media", media, "mid_size",
		    (json_int_t)u->filesize);
	else {
		snprintf(len, sizeof(len), "%llu",
		    (unsigned long long)u->rawsize);
		item = json_pack("{s:i, s:{s:o, s:s, s:s}}", "type", 4,
		    "file_item", "media", media, "file_name", name, "len",
		    len);
	}
	if (item == NULL)
		fatalx("%s: json_pack", __func__);
	body = ilink_body_msg(peer, item, ctx, client_id, bot_agent);
	explicit_bzero(keyb64, sizeof(keyb64));
	return body;
}
