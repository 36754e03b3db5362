/*
 * One outbound attachment onto the iLink CDN (§3.5, §3.9, §6.2), for
 * send.c, which then sends the message that shows it.  The row's
 * sealed memfd is read once, whole, into one buffer of the ciphertext's
 * size; its MD5 is taken, it is encrypted there (AES-128-ECB, PKCS#7,
 * ilink_cdn.c) under a fresh random key, getuploadurl reserves a slot,
 * and the ciphertext is POSTed to the CDN, whose x-encrypted-param
 * header is what the message names.  One upload at a time: one
 * attachment's bytes in memory.
 *
 * Never logged: the key, the filekey, the upload URL or parameter, the
 * CDN's download parameter (§8.23); all are wiped when done.
 */
#include <sys/random.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ilink.h"
#include "ilink_media.h"
#include "log.h"
#include "net/fetch.h"
#include "outq.h"
#include "wechat.h"
#include "xmalloc.h"

/* §7.1: getuploadurl's client timeout. */
#define UPLOAD_API_TIMEOUT_MS	15000
/* §3.9: the official client sets none; hermes-agent's 120 s. */
#define UPLOAD_CDN_TIMEOUT_MS	120000

static struct {
	struct outq_item	*o;		/* NULL: none under way */
	upload_fn		 fn;
	void			*arg;
	struct wcall		*call;		/* getuploadurl */
	CURL			*easy;		/* the CDN POST */
	struct curl_slist	*hdrs;
	uint8_t			*buf;		/* plain, then encrypted */
	size_t			 cap;
	size_t			 len;
	struct ilink_up		 up;
	char			 param[ILINK_QUERY_MAX + 1];
	char			 cdn_err[ILINK_CDN_ERR_MAX + 1];
	size_t			 cdn_errlen;
	int			 bad_hdr;
} ud;

static void	upload_url_done(struct wcall *, void *);
static const char *upload_cut(char *);
static void	upload_cdn_done(CURL *, CURLcode, void *);
static void	upload_end(enum upload_res, const char *);

static void
upload_hex(const uint8_t *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * A reason for delivery.fail: at most IPC_MESSAGE_MAX bytes (the frame
 * refuses more), cut on a UTF-8 boundary (errmsg may be Chinese).
 */
static const char *
upload_cut(char *msg)
{
	size_t n = strlen(msg);

	if (n <= IPC_MESSAGE_MAX)
		return msg;
	n = IPC_MESSAGE_MAX;
	while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
		n--;
	msg[n] = '\0';
	return msg;
}

/* The row's bytes, from offset 0 whatever the offset the hub shares. */
static int
upload_read(struct outq_item *o)
{
	size_t off = 0;
	ssize_t n;

	ud.cap = (size_t)ilink_cdn_padded(o->size);
	ud.buf = xmalloc(ud.cap);
	while (off < o->size) {
		n = pread(o->fd, ud.buf + off, o->size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(o->fd);
	o->fd = -1;
	ud.len = off;
	return off == o->size ? 0 : -1;
}

/* Key, filekey, MD5, then the plaintext becomes ciphertext. */
static int
upload_seal(struct outq_item *o)
{
	uint8_t key[ILINK_KEY_LEN], fk[16];
	size_t clen;
	int rv;

	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key) ||
	    getrandom(fk, sizeof(fk), 0) != (ssize_t)sizeof(fk))
		fatal("%s: getrandom", __func__);
	memset(&ud.up, 0, sizeof(ud.up));
	ud.up.media_type = strcmp(o->kind, "image") == 0 ? ILINK_UP_IMAGE :
	    ILINK_UP_FILE;
	upload_hex(key, sizeof(key), ud.up.keyhex);
	upload_hex(fk, sizeof(fk), ud.up.filekey);
	ud.up.rawsize = ud.len;
	rv = ilink_cdn_md5(ud.buf, ud.len, ud.up.md5) == -1 ||
	    ilink_cdn_encrypt(key, ud.buf, ud.len, ud.cap, &clen) !=
	    ILINK_CDN_OK ? -1 : 0;
	explicit_bzero(key, sizeof(key));
	ud.len = clen;
	ud.up.filesize = clen;
	return rv;
}

/*
 * Start o's upload to `to'; fn(res, why, arg) from the loop once it
 * ends.  -1: it could not start, and *res and *why say how to fail the
 * row now.
 */
int
upload_start(struct outq_item *o, const char *to, upload_fn fn, void *arg,
    enum upload_res *res, const char **why)
{
	char *body;

	upload_cancel();
	*res = UPLOAD_RETRY;
	if (upload_read(o) == -1) {
		log_warnx("wechat: row %llu: read %zu of %llu bytes",
		    (unsigned long long)o->id, ud.len,
		    (unsigned long long)o->size);
		*why = "the attachment could not be read";
		upload_cancel();
		return -1;
	}
	if (upload_seal(o) == -1) {
		*why = "the attachment could not be encrypted";
		upload_cancel();
		return -1;
	}
	ud.o = o;
	ud.fn = fn;
	ud.arg = arg;
	body = ilink_body_uploadurl(&ud.up, to, wc.bot_agent);
	ud.call = wcall_post(wc.base, "ilink/bot/getuploadurl", wc.token,
	    body, UPLOAD_API_TIMEOUT_MS, upload_url_done, NULL);
	if (ud.call == NULL) {
		*why = "the request could not start";
		upload_cancel();
		return -1;
	}
	log_debug("wechat: row %llu: %s of %llu bytes, %llu encrypted",
	    (unsigned long long)o->id, o->kind,
	    (unsigned long long)ud.up.rawsize,
	    (unsigned long long)ud.up.filesize);
	return 0;
}

/* §3.9: read headers even on 200; the value is a credential. */
static size_t
upload_header(char *line, size_t size, size_t n, void *arg)
{
	size_t len = size * n;
	int rv;

	(void)arg;
	/* A new response (a redirect, an interim status) starts afresh. */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		explicit_bzero(ud.param, sizeof(ud.param));
		ud.cdn_errlen = 0;
		ud.bad_hdr = 0;
		return len;
	}
	if ((rv = ilink_cdn_header(line, len, "x-encrypted-param", ud.param,
	    sizeof(ud.param))) == -1)
		ud.bad_hdr = 1;
	else if (rv == 0 && ud.cdn_errlen == 0 &&
	    ilink_cdn_header(line, len, "x-error-message", ud.cdn_err,
	    sizeof(ud.cdn_err)) == 1)
		ud.cdn_errlen = strlen(ud.cdn_err);
	return len;
}

/* The body only says why, on an error: kept up to its bound. */
static size_t
upload_body(char *data, size_t size, size_t n, void *arg)
{
	size_t len = size * n, i;

	(void)arg;
	for (i = 0; i < len && ud.cdn_errlen < ILINK_CDN_ERR_MAX; i++)
		ud.cdn_err[ud.cdn_errlen++] =
		    data[i] >= 0x20 && data[i] < 0x7f ? data[i] : ' ';
	ud.cdn_err[ud.cdn_errlen] = '\0';
	return len;
}

/* §3.9: POST, octet-stream, no header of the bot API. */
static void
upload_cdn_start(const char *url)
{
	if ((ud.easy = fetch_easy()) == NULL) {
		upload_end(UPLOAD_RETRY, "no transfer handle");
		return;
	}
	ud.hdrs = curl_slist_append(NULL,
	    "Content-Type: application/octet-stream");
	ud.hdrs = curl_slist_append(ud.hdrs, "Expect:");
	ud.param[0] = '\0';
	ud.cdn_errlen = 0;
	ud.bad_hdr = 0;
	curl_easy_setopt(ud.easy, CURLOPT_POST, 1L);
	curl_easy_setopt(ud.easy, CURLOPT_POSTFIELDS, ud.buf);
	curl_easy_setopt(ud.easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)ud.len);
	curl_easy_setopt(ud.easy, CURLOPT_HTTPHEADER, ud.hdrs);
	curl_easy_setopt(ud.easy, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(ud.easy, CURLOPT_CONNECTTIMEOUT, wc.timeout_s);
	curl_easy_setopt(ud.easy, CURLOPT_TIMEOUT_MS,
	    (long)UPLOAD_CDN_TIMEOUT_MS);
	curl_easy_setopt(ud.easy, CURLOPT_HEADERFUNCTION, upload_header);
	curl_easy_setopt(ud.easy, CURLOPT_WRITEFUNCTION, upload_body);
	if (fetch_add(ud.easy, url, upload_cdn_done, NULL) == -1) {
		curl_easy_cleanup(ud.easy);
		ud.easy = NULL;
		upload_end(UPLOAD_RETRY, "the upload could not start");
	}
}

/*
 * §3.0, §3.5: the slot, or why not, in the codes send.c gives a
 * sendmessage answer: a dead token logs in again, -2 is refused, any
 * other ret and HTTP 4xx are for good, the rest is tried again.
 */
static void
upload_url_done(struct wcall *c, void *arg)
{
	struct ilink_ret r;
	enum ilink_err e;
	const char *body, *why;
	char *full, *param, *url;
	size_t len;
	static char msg[IPC_MESSAGE_MAX + 32];

	(void)arg;
	ud.call = NULL;
	switch (wcall_result(c)) {
	case WCALL_OK:
		break;
	case WCALL_HTTP4XX:
		upload_end(UPLOAD_REJECTED, wcall_error(c));
		return;
	default:
		upload_end(UPLOAD_RETRY, wcall_error(c));
		return;
	}
	body = wcall_body(c, &len);
	switch ((e = ilink_parse_uploadurl(body, len, &r, &full, &param))) {
	case ILINK_OK:
		break;
	case ILINK_E_SESSION:
		upload_end(UPLOAD_RELOGIN, "session timeout");
		return;
	case ILINK_E_RET:
		snprintf(msg, sizeof(msg), "getuploadurl: ret %lld%s%s",
		    r.code, *r.errmsg ? ": " : "", r.errmsg);
		upload_end(r.code == ILINK_RET_REFUSED ? UPLOAD_REFUSED :
		    UPLOAD_REJECTED, upload_cut(msg));
		return;
	default:
		snprintf(msg, sizeof(msg), "getuploadurl: %s",
		    ilink_strerror(e));
		upload_end(UPLOAD_RETRY, msg);
		return;
	}
	url = ilink_upload_url(wc.cdn_url, full, param, ud.up.filekey, &why);
	xfree_secret(full);
	xfree_secret(param);
	if (url == NULL) {
		upload_end(UPLOAD_REJECTED, why);
		return;
	}
	upload_cdn_start(url);
	xfree_secret(url);
}

/*
 * §3.9: 200 with x-encrypted-param is the one success; a 4xx is for
 * good (x-error-message, or the body, says why); the rest is tried
 * again, as a whole, by the hub's retry of the row.
 */
static void
upload_cdn_done(CURL *e, CURLcode rc, void *arg)
{
	static char msg[ILINK_CDN_ERR_MAX + 64];
	long status = 0;

	(void)arg;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	fetch_drop(e);
	ud.easy = NULL;
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "CDN upload: %s",
		    curl_easy_strerror(rc));
		upload_end(UPLOAD_RETRY, msg);
	} else if (status >= 400 && status <= 499) {
		snprintf(msg, sizeof(msg), "the CDN refused the %s (HTTP "
		    "%ld)%s%s", ud.o->kind, status, ud.cdn_errlen ? ": " : "",
		    ud.cdn_err);
		upload_end(UPLOAD_REJECTED, upload_cut(msg));
	} else if (status != 200) {
		snprintf(msg, sizeof(msg), "CDN upload: HTTP %ld", status);
		upload_end(UPLOAD_RETRY, msg);
	} else if (ud.bad_hdr || ud.param[0] == '\0')
		upload_end(UPLOAD_RETRY, ud.bad_hdr ? "CDN upload: an "
		    "unusable x-encrypted-param" : "CDN upload: 200 without "
		    "x-encrypted-param");
	else
		upload_end(UPLOAD_OK, "");
}

/* The ciphertext goes; what the message needs stays until cleared. */
static void
upload_end(enum upload_res res, const char *why)
{
	upload_fn fn = ud.fn;
	void *arg = ud.arg;

	free(ud.buf);
	ud.buf = NULL;
	ud.len = ud.cap = 0;
	fetch_slist_free_secret(ud.hdrs);
	ud.hdrs = NULL;
	ud.o = NULL;
	if (res != UPLOAD_OK)
		upload_clear();
	if (fn != NULL)
		fn(res, why, arg);
}

/* What sendmessage names: valid after UPLOAD_OK until upload_clear(). */
const struct ilink_up *
upload_info(void)
{
	return &ud.up;
}

const char *
upload_param(void)
{
	return ud.param;
}

void
upload_clear(void)
{
	explicit_bzero(&ud.up, sizeof(ud.up));
	explicit_bzero(ud.param, sizeof(ud.param));
}

/* Dropped, with no callback: shutdown, or a new start. */
void
upload_cancel(void)
{
	wcall_cancel(ud.call);
	ud.call = NULL;
	if (ud.easy != NULL)
		fetch_drop(ud.easy);
	ud.easy = NULL;
	ud.fn = NULL;
	ud.arg = NULL;
	upload_end(UPLOAD_RETRY, "");
}
