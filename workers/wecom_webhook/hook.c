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
 * The key is the whole credential (B.1, B.7): it arrives in the slice,
 * lives in the URL and is never logged.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "clock.h"
#include "codec.h"
#include "hook.h"
#include "log.h"
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

static struct {
	char			*account;
	char			*url;		/* holds the key: a secret */
	enum hook_msgtype	 type;
	long			 timeout_s;
	unsigned		 rate_max;
	uint64_t		 window_ms;
	struct outq		 oq;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*req;
	char			 resp[HOOK_BODY_MAX + 1];
	size_t			 len;
	int			 big;
	uint64_t		 ring[HOOK_RING_MAX];	/* answer times */
	unsigned		 head, count;
	uint64_t		 not_before;	/* a 45009's window */
	struct event		*timer;
	int			 draining;
} hk;

static int	hook_pre_sandbox(json_t *);
static int	hook_post_sandbox(struct event_base *);
static void	hook_shutdown(void);
static int	hook_outbound(const struct ipc_msg *);
static void	hook_kick(void);
static void	hook_done(CURL *, CURLcode, void *);

static const struct wk_handler hook_handlers[] = {
	{ IPC_OUTBOUND,		hook_outbound },
	{ 0,			NULL }
};

const struct wk_kind wk_wecom_webhook = {
	"wecom_webhook", ROLE_CHANNEL, 0,
	hook_pre_sandbox, hook_post_sandbox, hook_shutdown,
	NULL, hook_handlers, NULL, NULL
};

static int
hook_pre_sandbox(json_t *conf)
{
	const char *s, *key, *base;
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
	if ((hk.url = hook_url(base, key)) == NULL) {
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

/* Start the next send if one waits and the pace allows it. */
static void
hook_kick(void)
{
	struct timeval tv;
	struct outq_item *o;
	uint64_t wait;

	if (hk.oq.cur != NULL || TAILQ_EMPTY(&hk.oq.q) || hk.draining)
		return;
	if ((wait = hook_wait_ms()) > 0) {
		tv.tv_sec = (time_t)(wait / 1000);
		tv.tv_usec = (suseconds_t)(wait % 1000 * 1000);
		evtimer_add(hk.timer, &tv);
		return;
	}
	o = outq_take(&hk.oq);
	if ((hk.req = hook_body(hk.type, o->peer, o->text)) == NULL) {
		outq_failed(&hk.oq, "rejected", "not UTF-8, or over the "
		    "robot's length", 0);
		event_active(hk.timer, EV_TIMEOUT, 0);
		return;
	}
	hk.len = 0;
	hk.big = 0;
	if ((hk.easy = fetch_easy()) == NULL)
		goto fail;
	hk.hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hk.hdrs = curl_slist_append(hk.hdrs, "Expect:");
	curl_easy_setopt(hk.easy, CURLOPT_HTTPHEADER, hk.hdrs);
	curl_easy_setopt(hk.easy, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(hk.easy, CURLOPT_CONNECTTIMEOUT, hk.timeout_s);
	curl_easy_setopt(hk.easy, CURLOPT_TIMEOUT, hk.timeout_s);
	curl_easy_setopt(hk.easy, CURLOPT_WRITEFUNCTION, hook_write);
	curl_easy_setopt(hk.easy, CURLOPT_POSTFIELDS, hk.req);
	curl_easy_setopt(hk.easy, CURLOPT_POSTFIELDSIZE, (long)strlen(hk.req));
	if (fetch_add(hk.easy, hk.url, hook_done, NULL) == -1)
		goto fail;
	log_debug("wecom_webhook %s: sending %llu", hk.account,
	    (unsigned long long)o->id);
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

static void
hook_done(CURL *e, CURLcode rc, void *arg)
{
	struct hook_answer a;
	struct outq_item *o = hk.oq.cur;
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
	free(hk.req);
	hk.req = NULL;
	if (rc != CURLE_OK || hk.big || status != 200) {
		/* Not known either way: the hub tries again. */
		if (hk.big)
			snprintf(why, sizeof(why), "answer too long");
		else if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
		else
			snprintf(why, sizeof(why), "HTTP %ld", status);
		hook_count();
		outq_failed(&hk.oq, "retry", why, 0);
		goto next;
	}
	hook_count();
	switch (hook_parse(hk.resp, hk.len, &a)) {
	case HOOK_SENT:
		log_debug("wecom_webhook %s: %llu sent", hk.account,
		    (unsigned long long)o->id);
		outq_sent(&hk.oq);
		break;
	case HOOK_RATE:
		/* Someone else spends the key too: wait out a window. */
		hk.not_before = clock_mono_ms() + hk.window_ms;
		if (++o->tries >= HOOK_RATE_TRIES) {
			outq_failed(&hk.oq, "refused", "errcode 45009: api "
			    "freq out of limit", hk.window_ms);
			break;
		}
		log_info("wecom_webhook %s: 45009 on %llu; again after the "
		    "window", hk.account, (unsigned long long)o->id);
		outq_putback(&hk.oq);
		break;
	case HOOK_BUSY:
		outq_failed(&hk.oq, "refused", "errcode -1: system busy",
		    HOOK_BUSY_RETRY_MS);
		break;
	case HOOK_REJECTED:
		snprintf(why, sizeof(why), "errcode %lld: %s", a.errcode,
		    a.errmsg);
		if (a.errcode == 93000)
			log_warnx("wecom_webhook %s: the robot refuses our key "
			    "(93000): the key is wrong or the robot was "
			    "removed", hk.account);
		outq_failed(&hk.oq, "rejected", why, 0);
		break;
	case HOOK_GARBLED:
		outq_failed(&hk.oq, "retry", "an answer without errcode", 0);
		break;
	}
next:
	/* From the loop, not in a recursion. */
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
	free(hk.req);
	hk.req = NULL;
	outq_clear(&hk.oq);
	evtimer_del(hk.timer);
}
