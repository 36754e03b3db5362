/*
 * An image or a voice message a user sent (shared/protocols/wecom.md
 * D.5): fetched by its MediaId with media/get and the access token (token.c), at most the
 * account's media.max_bytes, into the turn's wk_media (workers/media.h),
 * which goes to the hub as inbound.media in a sealed memfd.  turn.c
 * starts it and is called back once, with NULL or why it failed (the
 * message then goes with a note instead).  An answer that is JSON is
 * the platform's error, not an image (D.5: tell them apart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "callback.h"
#include "log.h"
#include "../media.h"	/* workers/media.h: the wk_media */
#include "xmalloc.h"

struct download {
	char		*media_id;
	const char	*kind;		/* "image" or "voice" */
	struct wk_media	*media;
	download_fn	 fn;
	void		*arg;
	char		*tok;		/* the token it went with */
	int		 cancelled;
	int		 tokened;	/* fetched with a fresh token once */
};

static void	dl_token(const char *, const char *, void *);
static void	dl_done(long, const char *, size_t, const char *, void *);
static void	dl_end(struct download *, const char *);

struct download *
download_start(const char *kind, const char *media_id,
    struct wk_media *media, download_fn fn, void *arg)
{
	struct download *d;

	d = xcalloc(1, sizeof(*d));
	d->kind = kind;
	d->media_id = xstrdup(media_id);
	d->media = media;
	d->fn = fn;
	d->arg = arg;
	token_get(dl_token, d);
	return d;
}

/* The callbacks still come: they free it then. */
void
download_cancel(struct download *d)
{
	if (d != NULL)
		d->cancelled = 1;
}

static void
dl_end(struct download *d, const char *why)
{
	if (!d->cancelled)
		d->fn(why, d->arg);
	if (d->tok != NULL)
		freezero(d->tok, strlen(d->tok));
	free(d->media_id);
	free(d);
}

static void
dl_token(const char *tok, const char *err, void *arg)
{
	struct download *d = arg;
	char url[2048], *eid;
	uint64_t room;
	int rv;

	if (d->cancelled || tok == NULL) {
		dl_end(d, err);
		return;
	}
	if (d->tok != NULL)
		freezero(d->tok, strlen(d->tok));
	d->tok = xstrdup(tok);
	room = d->media->max - d->media->total;
	eid = curl_easy_escape(NULL, d->media_id, 0);
	snprintf(url, sizeof(url), "%s/cgi-bin/media/get?access_token=%s&"
	    "media_id=%s", cb.api_url, tok, eid != NULL ? eid : "");
	curl_free(eid);
	rv = api_call(url, NULL, room < API_ANSWER_MAX ? API_ANSWER_MAX :
	    (size_t)room, dl_done, d);
	explicit_bzero(url, sizeof(url));
	if (rv == -1)
		dl_end(d, "the download could not start");
}

static void
dl_done(long status, const char *body, size_t len, const char *err,
    void *arg)
{
	struct download *d = arg;
	char msg[96], why[160];
	const char *w;
	long long code;

	if (d->cancelled) {
		dl_end(d, NULL);
		return;
	}
	if (err != NULL || status != 200) {
		snprintf(why, sizeof(why), "media/get: %s", err != NULL ? err :
		    "HTTP error");
		dl_end(d, why);
		return;
	}
	if (len > 0 && body[0] == '{' &&
	    api_errcode(body, len, &code, msg, sizeof(msg)) == 0) {
		/* A stale token gets one more try with a new one (D.1). */
		if ((code == 40001 || code == 40014 || code == 42001) &&
		    !d->tokened) {
			d->tokened = 1;
			token_stale(d->tok);
			token_get(dl_token, d);
			return;
		}
		snprintf(why, sizeof(why), "media/get: errcode %lld %s", code,
		    msg);
		dl_end(d, why);
		return;
	}
	if (wk_media_add(d->media, d->kind, NULL, body, len, &w) == -1) {
		snprintf(why, sizeof(why), "%s", w);
		dl_end(d, why);
		return;
	}
	log_debug("callback %s: %s %s, %zu bytes", cb.account, d->kind,
	    d->media_id, len);
	dl_end(d, NULL);
}
