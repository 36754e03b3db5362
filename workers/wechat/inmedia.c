/*
 * The attachments of one inbound message (§3.9, §6.3): each media item
 * ilink_media.c found is fetched from the CDN in turn, decrypted
 * (ilink_cdn.c) and added to the message's wk_media (workers/media.h),
 * within the message's share of media_max_bytes.  poll.c asks, and
 * hears once when the last item is done; it keeps the wk_media until
 * the supervisor's ack.  The bytes all those memfds hold are counted
 * (inmedia_held) for poll.c, which starts a message's downloads only
 * when they leave room.
 *
 * Transfers run on the worker's loop (net/fetch.c), INMEDIA_PARALLEL at
 * once across all messages: the rest wait their turn, nothing blocks.
 * An item that cannot be had (no URL, no usable key, a failed or
 * oversized download, a ciphertext that does not decrypt) is logged,
 * counted, and named in a note after the message's text: the text still
 * goes.  No URL, query or key is ever logged: all are credentials.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ilink.h"
#include "ilink_media.h"
#include "log.h"
#include "media.h"
#include "net/fetch.h"
#include "wechat.h"
#include "xmalloc.h"

/* Downloads at once; each holds up to media_max_bytes in memory. */
#define INMEDIA_PARALLEL	2
/* One download's deadline (§3.9: hermes-agent's 120 s for the CDN). */
#define INMEDIA_TIMEOUT_MS	120000
/* The notes after a message's text: a line per item at most. */
#define INMEDIA_NOTE_MAX	96

struct inmedia {
	TAILQ_ENTRY(inmedia)	 entry;		/* waiting for a slot */
	int			 queued;
	const struct ilink_mlist *list;		/* the batch's */
	const char		*msg_id;	/* the batch's, for logs */
	size_t			 next;		/* the item to fetch next */
	size_t			 cur;		/* the item in flight */
	CURL			*easy;		/* NULL: none in flight */
	uint8_t			*buf;
	size_t			 len;
	size_t			 cap;
	size_t			 limit;
	int			 big;
	struct wk_media		 md;
	char			*notes;		/* "" or lines */
	inmedia_fn		 fn;
	void			*arg;
};

static struct {
	TAILQ_HEAD(, inmedia)	 waiting;
	int			 init;
	size_t			 running;
	uint64_t		 held;		/* in every live wk_media */
	unsigned long long	 errors;	/* items not delivered */
} imd;

static void	inmedia_step(struct inmedia *, int);
static int	inmedia_start(struct inmedia *);
static void	inmedia_done(CURL *, CURLcode, void *);
static size_t	inmedia_write(char *, size_t, size_t, void *);
static void	inmedia_pump(void);

/*
 * An item that does not come: logged (never its URL or key), counted,
 * and noted for the agent, which otherwise could not know of it.
 */
static void
inmedia_fail(struct inmedia *x, size_t i, const char *why)
{
	const struct ilink_media *m = &x->list->v[i];
	char note[INMEDIA_NOTE_MAX];
	size_t len;

	imd.errors++;
	log_warnx("wechat: message %s: %s (item %zu) not received: %s "
	    "(%llu so far)", x->msg_id, ilink_mkind_name(m->kind), i + 1,
	    why, imd.errors);
	snprintf(note, sizeof(note), "\n[attachment not received: %s, %s]",
	    ilink_mkind_name(m->kind), why);
	len = strlen(x->notes);
	x->notes = xreallocarray(x->notes, len + strlen(note) + 1, 1);
	memcpy(x->notes + len, note, strlen(note) + 1);
}

/* The items' own errors are known before any download. */
struct inmedia *
inmedia_new(const struct ilink_mlist *list, const char *msg_id)
{
	struct inmedia *x;
	size_t i;

	if (!imd.init) {
		TAILQ_INIT(&imd.waiting);
		imd.init = 1;
	}
	x = xcalloc(1, sizeof(*x));
	x->list = list;
	x->msg_id = msg_id;
	x->notes = xstrdup("");
	wk_media_init(&x->md, wc.media_max);
	if (list->quote_err != ILINK_M_OK) {
		imd.errors++;
		log_warnx("wechat: message %s: quote left out: %s (%llu so "
		    "far)", msg_id, ilink_merr_name(list->quote_err),
		    imd.errors);
	}
	for (i = 0; i < list->n; i++)
		if (list->v[i].err != ILINK_M_OK)
			inmedia_fail(x, i, ilink_merr_name(list->v[i].err));
	if (list->unread > 0) {
		imd.errors += list->unread;
		log_warnx("wechat: message %s: %zu items past the first %d "
		    "not read", msg_id, list->unread, ILINK_ITEMS_MAX);
	}
	return x;
}

/*
 * Start fetching; 0 when there is nothing to fetch (the message is
 * ready now), 1 when fn(arg) will be called, from the loop, once done.
 */
int
inmedia_fetch(struct inmedia *x, inmedia_fn fn, void *arg)
{
	x->fn = fn;
	x->arg = arg;
	inmedia_step(x, 0);
	return x->next < x->list->n || x->easy != NULL || x->queued;
}

/* The next item that can be fetched, or the end (fn when from_cb). */
static void
inmedia_step(struct inmedia *x, int from_cb)
{
	while (x->next < x->list->n) {
		if (x->list->v[x->next].err != ILINK_M_OK) {
			x->next++;
			continue;
		}
		if (imd.running >= INMEDIA_PARALLEL) {
			if (!x->queued) {
				TAILQ_INSERT_TAIL(&imd.waiting, x, entry);
				x->queued = 1;
			}
			return;
		}
		x->cur = x->next++;
		if (inmedia_start(x) == 0)
			return;
	}
	if (from_cb)
		x->fn(x->arg);
}

/* One GET, no headers of ours (§2.1: the CDN takes none). */
static int
inmedia_start(struct inmedia *x)
{
	const struct ilink_media *m = &x->list->v[x->cur];
	const char *why;
	uint64_t left = x->md.max - x->md.total;
	char *url;

	if (left == 0) {
		inmedia_fail(x, x->cur, "over media_max_bytes");
		return -1;
	}
	if ((url = ilink_media_url(wc.cdn_url, m, &why)) == NULL) {
		inmedia_fail(x, x->cur, why);
		return -1;
	}
	x->limit = ilink_cdn_limit(m->limit, (size_t)left,
	    m->keyenc != ILINK_KEY_NONE);
	x->len = 0;
	x->big = 0;
	if ((x->easy = fetch_easy()) == NULL) {
		xfree_secret(url);
		inmedia_fail(x, x->cur, "no transfer handle");
		return -1;
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, wc.timeout_s);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)INMEDIA_TIMEOUT_MS);
	/* A Content-Length past the bound ends it before any byte. */
	curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)x->limit);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, inmedia_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	if (fetch_add(x->easy, url, inmedia_done, x) == -1) {
		xfree_secret(url);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		inmedia_fail(x, x->cur, "the download could not start");
		return -1;
	}
	xfree_secret(url);
	imd.running++;
	return 0;
}

/* The body, up to the bound; past it the transfer fails. */
static size_t
inmedia_write(char *data, size_t size, size_t n, void *arg)
{
	struct inmedia *x = arg;
	size_t len = size * n, cap;

	if (len > x->limit - x->len) {
		x->big = 1;
		return 0;
	}
	if (x->len + len > x->cap) {
		for (cap = x->cap == 0 ? 65536 : x->cap; cap < x->len + len;)
			cap *= 2;
		if (cap > x->limit)
			cap = x->limit;
		x->buf = xreallocarray(x->buf, cap, 1);
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, len);
	x->len += len;
	return len;
}

/* Decrypt and keep what came, or say why not. */
static void
inmedia_take(struct inmedia *x)
{
	const struct ilink_media *m = &x->list->v[x->cur];
	enum ilink_cdn_err e;
	const char *why;
	uint64_t left = x->md.max - x->md.total, before = x->md.total;
	size_t plain = x->len;
	int rc;

	if (m->keyenc == ILINK_KEY_NONE)
		e = ilink_cdn_plain(x->len, m->limit, (size_t)left);
	else
		e = ilink_cdn_decrypt(m->key, x->buf, x->len, m->limit,
		    (size_t)left, &plain);
	if (e != ILINK_CDN_OK) {
		inmedia_fail(x, x->cur, ilink_cdn_strerror(e));
		return;
	}
	rc = wk_media_add(&x->md, ilink_mkind_name(m->kind), m->name, x->buf,
	    plain, &why);
	/* A failed write may drop the parts before it: count what is. */
	imd.held = imd.held - before + x->md.total;
	if (rc == -1) {
		inmedia_fail(x, x->cur, why);
		return;
	}
	log_debug("wechat: message %s: %s of %zu bytes", x->msg_id,
	    ilink_mkind_name(m->kind), plain);
}

static void
inmedia_done(CURL *e, CURLcode rc, void *arg)
{
	struct inmedia *x = arg;
	char why[64];
	long status = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	fetch_drop(e);
	x->easy = NULL;
	imd.running--;
	if (x->big || rc == CURLE_FILESIZE_EXCEEDED)
		inmedia_fail(x, x->cur, x->limit == x->list->v[x->cur].limit ?
		    "larger than declared" : "over media_max_bytes");
	else if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "download failed: %s",
		    curl_easy_strerror(rc));
		inmedia_fail(x, x->cur, why);
	} else if (status < 200 || status > 299) {
		snprintf(why, sizeof(why), "download failed: HTTP %ld", status);
		inmedia_fail(x, x->cur, why);
	} else
		inmedia_take(x);
	free(x->buf);
	x->buf = NULL;
	x->len = x->cap = 0;
	inmedia_step(x, 1);
	inmedia_pump();
}

/* Free slots to the messages waiting for one, in order. */
static void
inmedia_pump(void)
{
	struct inmedia *x;

	while (imd.running < INMEDIA_PARALLEL &&
	    (x = TAILQ_FIRST(&imd.waiting)) != NULL) {
		TAILQ_REMOVE(&imd.waiting, x, entry);
		x->queued = 0;
		inmedia_step(x, 1);
	}
}

/* Whether any item is left to download: the rest failed up front. */
int
inmedia_wants(const struct inmedia *x)
{
	size_t i;

	if (x->list == NULL)
		return 0;		/* kept: done long ago */
	for (i = x->next; i < x->list->n; i++)
		if (x->list->v[i].err == ILINK_M_OK)
			return 1;
	return 0;
}

uint64_t
inmedia_held(void)
{
	return imd.held;
}

struct wk_media *
inmedia_parts(struct inmedia *x)
{
	return &x->md;
}

const char *
inmedia_notes(const struct inmedia *x)
{
	return x->notes;
}

/*
 * Done, and outliving its batch (poll.c carries it to the next): what
 * it borrowed from the batch is forgotten.
 */
void
inmedia_keep(struct inmedia *x)
{
	x->list = NULL;
	x->msg_id = NULL;
}

/* Its transfer dropped, its memfd closed: after the ack, or at exit. */
void
inmedia_free(struct inmedia *x)
{
	if (x == NULL)
		return;
	if (x->queued)
		TAILQ_REMOVE(&imd.waiting, x, entry);
	free(x->buf);
	imd.held -= x->md.total;
	wk_media_clear(&x->md);
	free(x->notes);
	if (x->easy != NULL) {
		fetch_drop(x->easy);
		free(x);
		/* Its slot to the next in line. */
		imd.running--;
		inmedia_pump();
		return;
	}
	free(x);
}
