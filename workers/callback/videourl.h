/*
 * An Official Account's answer to media/get for a video (shared/
 * protocols/wecom.md D.5): {"video_url":"DOWN_URL"}, the URL that
 * download.c then fetches.  Pure; fuzzed by tests/fuzz/fuzz_videourl.c.
 */
#ifndef WX_CALLBACK_VIDEOURL_H
#define WX_CALLBACK_VIDEOURL_H

#include <stddef.h>

/* The JSON answer is small; one past this is not that answer. */
#define VIDEOURL_ANSWER_MAX	16384
/* A CDN URL with its signed query; the longest a URL may be here. */
#define VIDEOURL_MAX		2048

/*
 * The video_url of body[0..len), copied NUL-terminated to out (of
 * VIDEOURL_MAX + 1 bytes) when it has the shape videourl.c allows: 0,
 * else -1 with why.
 */
int	videourl_parse(const char *body, size_t len,
	    char out[VIDEOURL_MAX + 1], const char **why);

#endif
