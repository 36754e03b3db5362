/*
 * One iLink HTTP exchange for the wechat worker: the headers of §2.1
 * (a fresh X-WECHAT-UIN each time), the body kept up to ILINK_BODY_MAX,
 * a deadline, and one callback when it ends.  net/fetch.c resolves the
 * host (curl's own resolver thread would die in the sandbox); a lookup
 * that fails ends the call as WCALL_NET.  It never logs a header or a
 * URL: one holds the bot token, the other may hold the QR handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ilink.h"
#include "log.h"
#include "net/fetch.h"
#include "wechat.h"
#include "xmalloc.h"

struct wcall {
	CURL			*easy;
	struct curl_slist	*hdrs;		/* one holds the token */
	char			*req;		/* the body we POST */
	char			*resp;
	size_t			 len;
	size_t			 cap;
	int			 big;
	CURLcode		 rc;
	long			 status;
	wcall_fn		 fn;
	void			*arg;
};

static struct wcall *wcall_new(enum ilink_hkind, const char *, long,
		    wcall_fn, void *);
static void	wcall_free(struct wcall *);
static void	wcall_done(CURL *, CURLcode, void *);
static size_t	wcall_write(char *, size_t, size_t, void *);

/* A JSON POST to base/path; body is taken.  NULL: it could not start. */
struct wcall *
wcall_post(const char *base, const char *path, const char *token, char *body,
    long timeout_ms, wcall_fn fn, void *arg)
{
	struct wcall *c;
	char *url;

	url = ilink_url(base, path);
	if ((c = wcall_new(ILINK_H_JSON, token, timeout_ms, fn, arg)) ==
	    NULL) {
		free(url);
		xfree_secret(body);
		return NULL;
	}
	c->req = body;
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->req);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->req));
	if (fetch_add(c->easy, url, wcall_done, c) == -1) {
		free(url);
		wcall_free(c);
		return NULL;
	}
	free(url);
	return c;
}

/* get_qrcode_status: a GET with the App headers only (§2.1). */
struct wcall *
wcall_get(const char *url, long timeout_ms, wcall_fn fn, void *arg)
{
	struct wcall *c;

	if ((c = wcall_new(ILINK_H_GET, NULL, timeout_ms, fn, arg)) == NULL)
		return NULL;
	curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
	if (fetch_add(c->easy, url, wcall_done, c) == -1) {
		wcall_free(c);
		return NULL;
	}
	return c;
}

/* A handle with the headers and limits; fetch_add() gives it its URL. */
static struct wcall *
wcall_new(enum ilink_hkind kind, const char *token, long timeout_ms,
    wcall_fn fn, void *arg)
{
	struct ilink_hdrs h;
	struct wcall *c;
	size_t i;

	c = xcalloc(1, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	if ((c->easy = fetch_easy()) == NULL) {
		free(c);
		return NULL;
	}
	ilink_headers(&h, kind, token, wechat_random());
	for (i = 0; i < h.n; i++)
		c->hdrs = curl_slist_append(c->hdrs, h.v[i]);
	/* No "100 Continue" round trip before the body. */
	c->hdrs = curl_slist_append(c->hdrs, "Expect:");
	ilink_headers_clear(&h);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT, wc.timeout_s);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, wcall_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	return c;
}

/* Dropped before its end: no callback. */
void
wcall_cancel(struct wcall *c)
{
	wcall_free(c);
}

static void
wcall_free(struct wcall *c)
{
	if (c == NULL)
		return;
	fetch_drop(c->easy);
	fetch_slist_free_secret(c->hdrs);
	/* The body may hold a context token, the answer a bot token. */
	xfree_secret(c->req);
	freezero(c->resp, c->cap);
	free(c);
}

static void
wcall_done(CURL *e, CURLcode rc, void *arg)
{
	struct wcall *c = arg;

	c->rc = rc;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
	c->fn(c, c->arg);
	wcall_free(c);
}

/* The body, up to the bound; past it the transfer ends as a failure. */
static size_t
wcall_write(char *buf, size_t size, size_t n, void *arg)
{
	struct wcall *c = arg;
	size_t len = size * n, cap;
	char *p;

	if (len > ILINK_BODY_MAX - c->len) {
		c->big = 1;
		return 0;
	}
	if (c->len + len + 1 > c->cap) {
		for (cap = c->cap; c->len + len + 1 > cap;)
			cap = cap == 0 ? 16384 : cap * 2;
		/* Not realloc(): it would free the old copy unwiped. */
		p = xmalloc(cap);
		if (c->resp != NULL)
			memcpy(p, c->resp, c->len);
		freezero(c->resp, c->cap);
		c->resp = p;
		c->cap = cap;
	}
	memcpy(c->resp + c->len, buf, len);
	c->len += len;
	c->resp[c->len] = '\0';
	return len;
}

enum wcall_res
wcall_result(const struct wcall *c)
{
	if (c->big)
		return WCALL_BIG;
	if (c->rc == CURLE_OPERATION_TIMEDOUT)
		return WCALL_TIMEOUT;
	if (c->rc != CURLE_OK)
		return WCALL_NET;
	if (c->status >= 200 && c->status <= 299)
		return WCALL_OK;
	if (c->status >= 400 && c->status <= 499)
		return WCALL_HTTP4XX;
	return WCALL_HTTP5XX;
}

const char *
wcall_body(const struct wcall *c, size_t *len)
{
	*len = c->len;
	return c->resp != NULL ? c->resp : "";
}

long
wcall_status(const struct wcall *c)
{
	return c->status;
}

/* For logs and delivery.fail: never the URL, which may hold a secret. */
const char *
wcall_error(const struct wcall *c)
{
	static char err[64];

	if (c->big)
		snprintf(err, sizeof(err), "response over %d bytes",
		    ILINK_BODY_MAX);
	else if (c->rc != CURLE_OK)
		snprintf(err, sizeof(err), "%s", curl_easy_strerror(c->rc));
	else
		snprintf(err, sizeof(err), "HTTP %ld", c->status);
	return err;
}
