/*
 * An image, a voice message or a video a user sent (shared/protocols/
 * wecom.md D.2, D.5): fetched by its MediaId with media/get and the
 * access token (token.c), at most the account's media.max_bytes, into
 * the turn's wk_media (workers/media.h), which goes to the hub as
 * inbound.media in a sealed memfd.  turn.c starts it and is called back
 * once, with NULL or why it failed (the message then goes with a note
 * instead).
 *
 * An answer is told from a file by its Content-Type, as D.5 says: JSON
 * or text is the platform speaking (an error; for an Official
 * Account's video, {"video_url":...}), anything else is the file.  A
 * WeCom app's media/get answers a video's bytes like any file; an
 * Official Account's names a URL, which is checked (videourl.c) and
 * fetched in turn, with the same cap, and within the same deadline:
 * both transfers end timeout_s after media/get began, as an image's
 * one does.  That URL may carry a signed query: it is never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "callback.h"
#include "clock.h"
#include "log.h"
#include "../media.h"	/* workers/media.h: the wk_media */
#include "videourl.h"
#include "xmalloc.h"

struct download {
	char		*media_id;
	const char	*kind;		/* "image", "voice" or "video" */
	struct wk_media	*media;
	download_fn	 fn;
	void		*arg;
	char		*tok;		/* the token it went with */
	int		 cancelled;
	int		 tokened;	/* fetched with a fresh token once */
	uint64_t	 deadline;	/* clock_mono_ms(): media/get's end */
};

static void	dl_token(const char *, const char *, void *);
static void	dl_done(long, const char *, const char *, size_t,
		    const char *, void *);
static void	dl_video(long, const char *, const char *, size_t,
		    const char *, void *);
static void	dl_url(struct download *, const char *, size_t);
static void	dl_add(struct download *, const char *, size_t);
static int	dl_is_answer(const char *, const char *, size_t);
static size_t	dl_room(const struct download *);
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

/* What an answer may take: the file's room, or a JSON answer's. */
static size_t
dl_room(const struct download *d)
{
	uint64_t room = d->media->max - d->media->total;

	return room < API_ANSWER_MAX ? API_ANSWER_MAX : (size_t)room;
}

/*
 * D.5: JSON or text is the platform's answer, not a file.  Without a
 * Content-Type, a body that opens as a JSON object is taken for one.
 */
static int
dl_is_answer(const char *ctype, const char *body, size_t len)
{
	if (*ctype == '\0')
		return len > 0 && body[0] == '{';
	return strncasecmp(ctype, "application/json", 16) == 0 ||
	    strncasecmp(ctype, "text/", 5) == 0;
}

static void
dl_token(const char *tok, const char *err, void *arg)
{
	struct download *d = arg;
	char url[2048], *eid;
	int rv;

	if (d->cancelled || tok == NULL) {
		dl_end(d, err);
		return;
	}
	if (d->tok != NULL)
		freezero(d->tok, strlen(d->tok));
	d->tok = xstrdup(tok);
	eid = curl_easy_escape(NULL, d->media_id, 0);
	snprintf(url, sizeof(url), "%s/cgi-bin/media/get?access_token=%s&"
	    "media_id=%s", cb.api_url, tok, eid != NULL ? eid : "");
	curl_free(eid);
	d->deadline = clock_mono_ms() + (uint64_t)cb.timeout_s * 1000;
	rv = api_call(url, NULL, dl_room(d), dl_done, d);
	explicit_bzero(url, sizeof(url));
	if (rv == -1)
		dl_end(d, "the download could not start");
}

static void
dl_done(long status, const char *ctype, const char *body, size_t len,
    const char *err, void *arg)
{
	struct download *d = arg;
	char msg[96], why[160];
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
	if (!dl_is_answer(ctype, body, len)) {
		dl_add(d, body, len);
		return;
	}
	if (len > API_ANSWER_MAX ||
	    api_errcode(body, len, &code, msg, sizeof(msg)) == -1) {
		dl_end(d, "media/get: a JSON or text answer, not a file");
		return;
	}
	/* A stale token gets one more try with a new one (D.1). */
	if ((code == 40001 || code == 40014 || code == 42001) &&
	    !d->tokened) {
		d->tokened = 1;
		token_stale(d->tok);
		token_get(dl_token, d);
		return;
	}
	if (code != 0) {
		snprintf(why, sizeof(why), "media/get: errcode %lld %s", code,
		    msg);
		dl_end(d, why);
		return;
	}
	/* D.5: only an Official Account's video is a URL. */
	if (!cb.wecom && strcmp(d->kind, "video") == 0) {
		dl_url(d, body, len);
		return;
	}
	dl_end(d, "media/get: a JSON answer without errcode, not a file");
}

/*
 * The video_url fetched as media/get was.  fetch.c follows no
 * redirect, and this keeps that: the URL's host is the platform's
 * answer, a Location would be a third party's, and a 3xx fails the
 * video (its note stays) rather than send the request anywhere else.
 */
static void
dl_url(struct download *d, const char *body, size_t len)
{
	char url[VIDEOURL_MAX + 1];
	const char *why;
	uint64_t now = clock_mono_ms();
	int rv;

	if (videourl_parse(body, len, url, &why) == -1) {
		dl_end(d, why);
		return;
	}
	if (now >= d->deadline) {
		explicit_bzero(url, sizeof(url));
		dl_end(d, "video_url: past the download's deadline");
		return;
	}
	rv = api_get(url, dl_room(d), (long)(d->deadline - now), dl_video, d);
	explicit_bzero(url, sizeof(url));
	if (rv == -1)
		dl_end(d, "the video download could not start");
}

static void
dl_video(long status, const char *ctype, const char *body, size_t len,
    const char *err, void *arg)
{
	struct download *d = arg;
	char why[160];

	if (d->cancelled) {
		dl_end(d, NULL);
		return;
	}
	if (err != NULL || status != 200) {
		if (err != NULL)
			snprintf(why, sizeof(why), "video_url: %s", err);
		else
			snprintf(why, sizeof(why), "video_url: HTTP status "
			    "%ld", status);
		dl_end(d, why);
		return;
	}
	if (dl_is_answer(ctype, body, len)) {
		dl_end(d, "video_url: a JSON or text answer, not a video");
		return;
	}
	dl_add(d, body, len);
}

/* The file's bytes into the message's memfd. */
static void
dl_add(struct download *d, const char *body, size_t len)
{
	char why[160];
	const char *w;

	if (wk_media_add(d->media, d->kind, NULL, body, len, &w) == -1) {
		snprintf(why, sizeof(why), "%s", w);
		dl_end(d, why);
		return;
	}
	log_debug("callback %s: %s %s, %zu bytes", cb.account, d->kind,
	    d->media_id, len);
	dl_end(d, NULL);
}
