/*
 * One call to the platform's API (shared/protocols/wecom.md D.1, D.4,
 * D.5) through workers/net/fetch.c: a GET, or a POST of JSON, whose
 * answer (at most the caller's max bytes) comes back to the caller with
 * its HTTP status and Content-Type.  token.c, push.c and download.c are the callers.  The
 * URL may hold an access token or a secret: it is never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "callback.h"
#include "log.h"
#include "net/fetch.h"
#include "xmalloc.h"

/* "application/json; charset=utf-8" and the like: the type is first. */
#define API_CTYPE_MAX	128

struct api_call {
	api_fn			 fn;
	void			*arg;
	struct curl_slist	*hdrs;
	char			*json;
	char			*buf;
	size_t			 len;
	size_t			 size;
	size_t			 max;
	int			 big;
};

static size_t
api_write(char *p, size_t sz, size_t n, void *arg)
{
	struct api_call *a = arg;
	size_t len = sz * n;

	if (len > a->max - a->len) {
		a->big = 1;
		return 0;
	}
	if (a->len + len > a->size) {
		/* Doubling, from what a JSON answer needs, up to max. */
		while (a->size < a->len + len)
			a->size = a->size == 0 ? 4096 : a->size * 2;
		if (a->size > a->max)
			a->size = a->max;
		a->buf = xreallocarray(a->buf, a->size, 1);
	}
	memcpy(a->buf + a->len, p, len);
	a->len += len;
	return len;
}

static void
api_done(CURL *e, CURLcode rc, void *arg)
{
	struct api_call *a = arg;
	char ctype[API_CTYPE_MAX];
	long status = 0;
	const char *err = NULL, *ct = NULL;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	/* The handle's string, gone with it: a copy, cut if absurd. */
	if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK ||
	    ct == NULL)
		ct = "";
	snprintf(ctype, sizeof(ctype), "%s", ct);
	fetch_drop(e);
	if (a->big)
		err = "answer too long";
	else if (rc != CURLE_OK)
		err = curl_easy_strerror(rc);
	a->fn(status, ctype, a->buf != NULL ? a->buf : "", a->len, err,
	    a->arg);
	curl_slist_free_all(a->hdrs);
	free(a->json);
	free(a->buf);
	free(a);
}

/*
 * json NULL: a GET.  An answer past max bytes is an error, as is one
 * not complete within ms.  -1 when it could not start (fn is not
 * called).
 */
static int
api_start(const char *url, const char *json, size_t max, long ms,
    api_fn fn, void *arg)
{
	struct api_call *a;
	CURL *e;

	if ((e = fetch_easy()) == NULL)
		return -1;
	a = xcalloc(1, sizeof(*a));
	a->fn = fn;
	a->arg = arg;
	a->max = max;
	curl_easy_setopt(e, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, api_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
	if (json != NULL) {
		a->json = xstrdup(json);
		a->hdrs = curl_slist_append(NULL,
		    "Content-Type: application/json");
		a->hdrs = curl_slist_append(a->hdrs, "Expect:");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->hdrs);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->json);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(a->json));
	}
	if (fetch_add(e, url, api_done, a) == -1) {
		fetch_drop(e);
		curl_slist_free_all(a->hdrs);
		free(a->json);
		free(a);
		return -1;
	}
	return 0;
}

/* Each call of the API gets the account's timeout_s. */
int
api_call(const char *url, const char *json, size_t max, api_fn fn,
    void *arg)
{
	return api_start(url, json, max, cb.timeout_s * 1000, fn, arg);
}

/* A GET of a URL the API named, within what is left of a deadline. */
int
api_get(const char *url, size_t max, long ms, api_fn fn, void *arg)
{
	return api_start(url, NULL, max, ms, fn, arg);
}

/* D.1: branch on errcode, never on errmsg; absent errcode is 0. */
int
api_errcode(const char *body, size_t len, long long *code, char *msg,
    size_t msglen)
{
	json_t *o, *v;
	const char *s;

	*code = 0;
	if (msglen > 0)
		msg[0] = '\0';
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	if ((v = json_object_get(o, "errcode")) != NULL) {
		if (!json_is_integer(v)) {
			json_decref(o);
			return -1;
		}
		*code = json_integer_value(v);
	}
	if ((s = json_string_value(json_object_get(o, "errmsg"))) != NULL &&
	    msglen > 0) {
		strncpy(msg, s, msglen - 1);
		msg[msglen - 1] = '\0';
	}
	json_decref(o);
	return 0;
}
