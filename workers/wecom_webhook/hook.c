/*
 * The wecom_webhook worker kind (wk_wecom_webhook): one process per
 * WeCom group robot, role channel, outbound only (protocols/wecom.md
 * part B).  outbound.message frames wait in a bounded queue and go out
 * one at a time, paced so that no window of rate_window_s seconds holds
 * more than rate_max sends (B.6: 20 a minute).  A send counts from its
 * answer, which comes after the robot counted it, so the pace is never
 * ahead of the robot's clock.  A 45009 (someone else spends the same
 * key) keeps the message here until the window has passed: messages
 * wait, they are not dropped.
 *
 * Each outbound.message ends in one delivery.ack or delivery.fail:
 * "rejected" for an errcode that will not change (93000: the key is
 * wrong or the robot is gone), "retry" for -1, a cut connection, a
 * timeout or an answer without errcode.  A webhook has no idempotency
 * key, so a retried message the robot did take shows twice; only an
 * answer lost in transit leads there.
 *
 * outbound.file rows (B.3 image, B.4 file) wait in the same queue, in
 * the same order and pace: the hub's sealed memfd is held until the row
 * is sent, then read whole (pread, at most HOOK_FILE_MAX bytes: one
 * attachment's bytes are in memory at a time) and closed.  An image
 * goes as msgtype image when it is a JPG or PNG of at most 2 MB, and as
 * a file otherwise.  A file is uploaded first (upload_media, multipart
 * from memory), then sent by its media_id; the upload is not a message
 * and is not paced, its send is.  Codes past the text path's: "too_big"
 * over 20 MB, "rejected" under the upload's 5 bytes or a file type the
 * robot refuses.
 *
 * The key is the whole credential (B.1, B.7): it arrives in the slice,
 * lives in the URL and is never logged.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "clock.h"
#include "codec.h"
#include "hook.h"
#include "log.h"
#include "media.h"
#include "net/fetch.h"
#include "outq.h"
#include "worker.h"
#include "xmalloc.h"

#define HOOK_BASE_URL		"https://qyapi.weixin.qq.com"
/* Held here at once; past this the hub is told to try later. */
#define HOOK_QUEUE_MAX		256
#define HOOK_FULL_RETRY_MS	10000
#define HOOK_BUSY_RETRY_MS	2000
/* 45009s in a row for one message before the hub hears of it. */
#define HOOK_RATE_TRIES		10
/* Sends remembered for the pace: rate_max is at most this. */
#define HOOK_RING_MAX		1000
/*
 * Kept beyond the window: our millisecond clock and timer rounding may
 * otherwise put the first send of a new window a hair inside the
 * robot's old one, and a 45009 then costs a whole window.
 */
#define HOOK_PACE_MARGIN_MS	100
/*
 * Attachments held at once, each an fd (RLIMIT_NOFILE) and up to 20 MB
 * of the hub's memory; past this the hub is told to try later.
 */
#define HOOK_FILES_MAX		16
/* The memfd's promise (ipc_msg.h): its size cannot change under us. */

static struct {
	char			*account;
	char			*url;		/* holds the key: a secret */
	char			*upurl;		/* upload_media's, the same */
	enum hook_msgtype	 type;
	long			 timeout_s;
	unsigned		 rate_max;
	uint64_t		 window_ms;
	struct outq		 oq;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*req;
	curl_mime		*mime;		/* an upload's body */
	int			 uploading;
	char			 resp[HOOK_BODY_MAX + 1];
	size_t			 len;
	int			 big;
	uint64_t		 ring[HOOK_RING_MAX];	/* answer times */
	unsigned		 head, count;
	uint64_t		 not_before;	/* a 45009's window */
	struct event		*timer;
	int			 draining;
} hk;

/* The attachment being sent: cur's, kept while it waits at the head. */
static struct {
	struct outq_item	*owner;
	uint8_t			*buf;
	size_t			 len;
	size_t			 off;		/* the upload's read position */
	int			 as_file;
	char			 media_id[HOOK_MEDIA_ID_MAX + 1];
} md;

static int	hook_pre_sandbox(json_t *);
static int	hook_post_sandbox(struct event_base *);
static void	hook_shutdown(void);
static int	hook_outbound(const struct ipc_msg *);
static int	hook_outbound_file(const struct ipc_msg *);
static void	hook_kick(void);
static void	hook_next(void);
static void	hook_done(CURL *, CURLcode, void *);

static const struct wk_handler hook_handlers[] = {
	{ IPC_OUTBOUND,		hook_outbound },
	{ IPC_OUTBOUND_FILE,	hook_outbound_file },
	{ 0,			NULL }
};

const struct wk_kind wk_wecom_webhook = {
	"wecom_webhook", ROLE_CHANNEL, 0,
	hook_pre_sandbox, hook_post_sandbox, hook_shutdown,
	NULL, hook_handlers, NULL, NULL, NULL
};

static int
hook_pre_sandbox(json_t *conf)
{
	const char *s, *key, *base;
	char md5[2 * 16 + 1];
	long long n;

	if ((s = wk_conf_str(conf, "account", NULL)) == NULL || !*s) {
		log_warnx("wecom_webhook: config slice lacks account");
		return -1;
	}
	hk.account = xstrdup(s);
	key = wk_conf_str(conf, "key", "");
	base = wk_conf_str(conf, "url", HOOK_BASE_URL);
	if (key == NULL || base == NULL || !hook_key_ok(key)) {
		log_warnx("wecom_webhook %s: no usable key (key_file holds "
		    "the key= part of the robot's webhook URL)", hk.account);
		return -1;
	}
	if ((hk.url = hook_url(base, key)) == NULL ||
	    (hk.upurl = hook_upload_url(base, key)) == NULL) {
		log_warnx("wecom_webhook %s: url too long", hk.account);
		return -1;
	}
	s = wk_conf_str(conf, "msgtype", "text");
	if (s == NULL || (strcmp(s, "text") != 0 &&
	    strcmp(s, "markdown") != 0)) {
		log_warnx("wecom_webhook %s: msgtype is text or markdown",
		    hk.account);
		return -1;
	}
	hk.type = strcmp(s, "text") == 0 ? HOOK_TEXT : HOOK_MARKDOWN;
	/* The ranges are config_webhook.c's: a slice outside is a skew. */
	if (wk_conf_int(conf, "rate_max", HOOK_RATE_MAX, 1, HOOK_RING_MAX,
	    &n) == -1)
		return -1;
	hk.rate_max = (unsigned)n;
	if (wk_conf_int(conf, "rate_window_s", HOOK_RATE_WINDOW_S, 1, 3600,
	    &n) == -1)
		return -1;
	hk.window_ms = (uint64_t)n * 1000;
	if (wk_conf_int(conf, "timeout_s", 15, 1, 600, &n) == -1)
		return -1;
	hk.timeout_s = (long)n;
	/* MD5 for images, resolved while OpenSSL may still read files. */
	if (hook_md5_hex((const uint8_t *)"", 0, md5) == -1) {
		log_warnx("wecom_webhook %s: OpenSSL has no MD5 (B.3: an "
		    "image's checksum)", hk.account);
		return -1;
	}
	if (fetch_init() == -1 || fetch_dns_init() == -1 ||
	    (strncmp(base, "https://", 8) == 0 && fetch_load_ca() == -1) ||
	    fetch_pin(base) == -1)
		return -1;
	return 0;
}

static void
hook_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	hook_kick();
}

static int
hook_post_sandbox(struct event_base *base)
{
	outq_init(&hk.oq, "wecom_webhook", HOOK_QUEUE_MAX);
	hk.oq.files_max = HOOK_FILES_MAX;
	if ((hk.timer = evtimer_new(base, hook_timer, NULL)) == NULL)
		return -1;
	return fetch_start(base);
}

static int
hook_outbound(const struct ipc_msg *m)
{
	if (outq_put(&hk.oq, &m->b.outbound, HOOK_FULL_RETRY_MS) == 1)
		hook_kick();
	return 0;
}

static int
hook_outbound_file(const struct ipc_msg *m)
{
	const struct ipc_body_outbound_file *b = &m->b.outbound_file;

	if ((!ipc_streq(b->kind, "file") && !ipc_streq(b->kind, "image")) ||
	    !wk_media_fd_ok(m->fd, b->size)) {
		log_warnx("wecom_webhook %s: outbound.file %llu: kind or fd "
		    "not as ipc_msg.h says", hk.account,
		    (unsigned long long)b->id);
		close(m->fd);
		return -1;
	}
	/* The codec bounds size by IPC_FILE_MAX; the robot's cap is ours. */
	if (b->size > HOOK_FILE_MAX) {
		close(m->fd);
		log_info("wecom_webhook %s: row %llu: %llu bytes, over the "
		    "robot's %d", hk.account, (unsigned long long)b->id,
		    (unsigned long long)b->size, HOOK_FILE_MAX);
		outq_fail(b->id, "too_big", "over the robot's 20 MB", 0);
		return 0;
	}
	if (outq_put_file(&hk.oq, b, m->fd, HOOK_FULL_RETRY_MS) == 1)
		hook_kick();
	return 0;
}

/* When the next send may start: 0 now. */
static uint64_t
hook_wait_ms(void)
{
	uint64_t now = clock_mono_ms(), at = hk.not_before;
	uint64_t oldest;

	if (hk.count >= hk.rate_max) {
		oldest = hk.ring[(hk.head + HOOK_RING_MAX - hk.rate_max) %
		    HOOK_RING_MAX];
		if (oldest + hk.window_ms + HOOK_PACE_MARGIN_MS > at)
			at = oldest + hk.window_ms + HOOK_PACE_MARGIN_MS;
	}
	return at > now ? at - now : 0;
}

static size_t
hook_write(char *buf, size_t size, size_t n, void *arg)
{
	size_t len = size * n;

	(void)arg;
	if (len > HOOK_BODY_MAX - hk.len) {
		hk.big = 1;
		return 0;
	}
	memcpy(hk.resp + hk.len, buf, len);
	hk.len += len;
	hk.resp[hk.len] = '\0';
	return len;
}

/* The attachment's bytes go, unless their row waits at the head. */
static void
hook_media_drop(int keep)
{
	if (keep && md.owner != NULL && TAILQ_FIRST(&hk.oq.q) == md.owner)
		return;
	free(md.buf);
	memset(&md, 0, sizeof(md));
}

/* cur's bytes into memory, its fd closed; -1 when cur was answered. */
static int
hook_media_load(struct outq_item *o)
{
	size_t off = 0;
	ssize_t n;

	if (md.owner == o)
		return 0;
	hook_media_drop(0);
	/* size <= HOOK_FILE_MAX (hook_outbound_file): one file at most. */
	md.buf = xmalloc(o->size > 0 ? o->size : 1);
	while (off < o->size) {
		/* From offset 0 whatever the shared file offset says. */
		n = pread(o->fd, md.buf + off, o->size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(o->fd);
	o->fd = -1;
	if (off != o->size) {
		log_warnx("wecom_webhook %s: row %llu: read %zu of %llu "
		    "bytes", hk.account, (unsigned long long)o->id, off,
		    (unsigned long long)o->size);
		hook_media_drop(0);
		outq_failed(&hk.oq, "retry", "the attachment could not be "
		    "read", 0);
		return -1;
	}
	md.owner = o;
	md.len = off;
	md.as_file = strcmp(o->kind, "image") != 0;
	if (!md.as_file && (md.len > HOOK_IMAGE_MAX ||
	    hook_image_kind(md.buf, md.len) == HOOK_IMG_NONE)) {
		log_info("wecom_webhook %s: row %llu is not a JPG or PNG of "
		    "at most 2 MB: sent as a file", hk.account,
		    (unsigned long long)o->id);
		md.as_file = 1;
	}
	if (md.as_file && md.len < HOOK_FILE_MIN) {
		hook_media_drop(0);
		outq_failed(&hk.oq, "rejected", "under the robot's 5 bytes "
		    "for a file", 0);
		return -1;
	}
	return 0;
}

/* What cur sends, and where; -1 when cur was answered instead. */
static int
hook_request(struct outq_item *o, const char **url)
{
	*url = hk.url;
	hk.uploading = 0;
	if (o->kind == NULL) {
		if ((hk.req = hook_body(hk.type, o->peer, o->text)) == NULL) {
			outq_failed(&hk.oq, "rejected", "not UTF-8, or over "
			    "the robot's length", 0);
			return -1;
		}
		return 0;
	}
	if (hook_media_load(o) == -1)
		return -1;
	if (!md.as_file)
		hk.req = hook_image_body(md.buf, md.len);
	else if (md.media_id[0] != '\0')
		hk.req = hook_file_body(md.media_id);
	else {
		/* B.4: a file is uploaded first, then sent by its id. */
		hk.uploading = 1;
		*url = hk.upurl;
		return 0;
	}
	if (hk.req == NULL) {
		/* Checked already (magic, md5 in pre_sandbox, media_id). */
		hook_media_drop(0);
		outq_failed(&hk.oq, "rejected", "no body could be made", 0);
		return -1;
	}
	return 0;
}

static size_t
hook_media_read(char *buf, size_t size, size_t n, void *arg)
{
	size_t len = size * n;

	(void)arg;
	if (len > md.len - md.off)
		len = md.len - md.off;
	memcpy(buf, md.buf + md.off, len);
	md.off += len;
	return len;
}

/* curl rewinds to send the body again (a redirect, a retried auth). */
static int
hook_media_seek(void *arg, curl_off_t off, int whence)
{
	(void)arg;
	if (whence != SEEK_SET || off < 0 || (uint64_t)off > md.len)
		return CURL_SEEKFUNC_FAIL;
	md.off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/*
 * B.4: one part named media, the file's name as its filename.  The
 * bytes are read from md.buf as curl sends them: curl_mime_data() would
 * copy them, and an upload would then hold a file twice.
 */
static int
hook_mime(CURL *e, const struct outq_item *o)
{
	char name[HOOK_FILENAME_MAX + 1];
	curl_mimepart *p;

	hook_file_name(o->name, name, sizeof(name));
	md.off = 0;
	if ((hk.mime = curl_mime_init(e)) == NULL ||
	    (p = curl_mime_addpart(hk.mime)) == NULL ||
	    curl_mime_name(p, "media") != CURLE_OK ||
	    curl_mime_filename(p, name) != CURLE_OK ||
	    curl_mime_type(p, "application/octet-stream") != CURLE_OK ||
	    curl_mime_data_cb(p, (curl_off_t)md.len, hook_media_read,
	    hook_media_seek, NULL, NULL) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MIMEPOST, hk.mime) != CURLE_OK)
		return -1;
	return 0;
}

/* Start the next send if one waits and the pace allows it. */
static void
hook_kick(void)
{
	struct timeval tv;
	struct outq_item *o;
	const char *url;
	uint64_t wait;

	if (hk.oq.cur != NULL || TAILQ_EMPTY(&hk.oq.q) || hk.draining)
		return;
	if ((wait = hook_wait_ms()) > 0) {
		tv = clock_tv(wait);
		evtimer_add(hk.timer, &tv);
		return;
	}
	o = outq_take(&hk.oq);
	if (hook_request(o, &url) == -1) {
		hook_next();
		return;
	}
	hk.len = 0;
	hk.big = 0;
	if ((hk.easy = fetch_easy()) == NULL)
		goto fail;
	/* An upload's Content-Type is curl's, with the boundary. */
	if (!hk.uploading)
		hk.hdrs = curl_slist_append(NULL,
		    "Content-Type: application/json");
	hk.hdrs = curl_slist_append(hk.hdrs, "Expect:");
	curl_easy_setopt(hk.easy, CURLOPT_HTTPHEADER, hk.hdrs);
	curl_easy_setopt(hk.easy, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(hk.easy, CURLOPT_CONNECTTIMEOUT, hk.timeout_s);
	curl_easy_setopt(hk.easy, CURLOPT_TIMEOUT, hk.timeout_s);
	curl_easy_setopt(hk.easy, CURLOPT_WRITEFUNCTION, hook_write);
	if (hk.uploading) {
		if (hook_mime(hk.easy, o) == -1)
			goto fail;
	} else {
		curl_easy_setopt(hk.easy, CURLOPT_POSTFIELDS, hk.req);
		curl_easy_setopt(hk.easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(hk.req));
	}
	if (fetch_add(hk.easy, url, hook_done, NULL) == -1)
		goto fail;
	log_debug("wecom_webhook %s: %s %llu", hk.account,
	    hk.uploading ? "uploading" : "sending", (unsigned long long)o->id);
	return;
fail:
	fetch_drop(hk.easy);
	hk.easy = NULL;
	hook_done(NULL, CURLE_FAILED_INIT, NULL);
}

/* The pace counts a send from its answer. */
static void
hook_count(void)
{
	hk.ring[hk.head] = clock_mono_ms();
	hk.head = (hk.head + 1) % HOOK_RING_MAX;
	if (hk.count < HOOK_RING_MAX)
		hk.count++;
}

/* An answer other than ok, to a send or an upload ("upload: "). */
static void
hook_refused(enum hook_verdict v, const struct hook_answer *a,
    const char *what)
{
	struct outq_item *o = hk.oq.cur;
	char why[256];

	switch (v) {
	case HOOK_SENT:
		break;
	case HOOK_RATE:
		/* Someone else spends the key too: wait out a window. */
		hk.not_before = clock_mono_ms() + hk.window_ms;
		if (++o->tries >= HOOK_RATE_TRIES) {
			snprintf(why, sizeof(why), "%serrcode 45009: api freq "
			    "out of limit", what);
			outq_failed(&hk.oq, "refused", why, hk.window_ms);
			break;
		}
		log_info("wecom_webhook %s: %s45009 on %llu; again after the "
		    "window", hk.account, what, (unsigned long long)o->id);
		outq_putback(&hk.oq);
		break;
	case HOOK_BUSY:
		snprintf(why, sizeof(why), "%serrcode -1: system busy", what);
		outq_failed(&hk.oq, "refused", why, HOOK_BUSY_RETRY_MS);
		break;
	case HOOK_REJECTED:
		snprintf(why, sizeof(why), "%serrcode %lld: %s", what,
		    a->errcode, a->errmsg);
		if (a->errcode == 93000)
			log_warnx("wecom_webhook %s: the robot refuses our key "
			    "(93000): the key is wrong or the robot was "
			    "removed", hk.account);
		outq_failed(&hk.oq, "rejected", why, 0);
		break;
	case HOOK_GARBLED:
		snprintf(why, sizeof(why), "%san answer without errcode%s",
		    what, *what != '\0' ? " or media_id" : "");
		outq_failed(&hk.oq, "retry", why, 0);
		break;
	}
}

static void
hook_done(CURL *e, CURLcode rc, void *arg)
{
	struct hook_answer a;
	struct outq_item *o = hk.oq.cur;
	enum hook_verdict v;
	char why[256];
	long status = 0;

	(void)arg;
	if (e != NULL) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		fetch_drop(e);
	}
	hk.easy = NULL;
	curl_slist_free_all(hk.hdrs);
	hk.hdrs = NULL;
	curl_mime_free(hk.mime);
	hk.mime = NULL;
	free(hk.req);
	hk.req = NULL;
	/* An upload is not a message: the pace counts its send. */
	if (!hk.uploading)
		hook_count();
	if (rc != CURLE_OK || hk.big || status != 200) {
		/* Not known either way: the hub tries again. */
		if (hk.big)
			snprintf(why, sizeof(why), "%sanswer too long",
			    hk.uploading ? "upload: " : "");
		else if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s%s",
			    hk.uploading ? "upload: " : "",
			    curl_easy_strerror(rc));
		else
			snprintf(why, sizeof(why), "%sHTTP %ld",
			    hk.uploading ? "upload: " : "", status);
		outq_failed(&hk.oq, "retry", why, 0);
		goto next;
	}
	if (hk.uploading) {
		v = hook_parse_upload(hk.resp, hk.len, &a, md.media_id);
		if (v == HOOK_SENT) {
			/* Its send is a message: it waits for the pace. */
			log_debug("wecom_webhook %s: %llu uploaded",
			    hk.account, (unsigned long long)o->id);
			outq_putback(&hk.oq);
		} else
			hook_refused(v, &a, "upload: ");
		goto next;
	}
	if ((v = hook_parse(hk.resp, hk.len, &a)) == HOOK_SENT) {
		log_debug("wecom_webhook %s: %llu sent", hk.account,
		    (unsigned long long)o->id);
		outq_sent(&hk.oq);
	} else
		hook_refused(v, &a, "");
next:
	hook_next();
}

/* From the loop, not in a recursion; an answered row's bytes go. */
static void
hook_next(void)
{
	hook_media_drop(1);
	event_active(hk.timer, EV_TIMEOUT, 0);
}

/* Shutdown: abandon everything; the hub re-sends unanswered rows. */
static void
hook_shutdown(void)
{
	hk.draining = 1;
	/* The one in flight is dropped with its transfer: no answer. */
	fetch_drop(hk.easy);
	hk.easy = NULL;
	curl_slist_free_all(hk.hdrs);
	hk.hdrs = NULL;
	curl_mime_free(hk.mime);
	hk.mime = NULL;
	free(hk.req);
	hk.req = NULL;
	hook_media_drop(0);
	outq_clear(&hk.oq);
	evtimer_del(hk.timer);
}
