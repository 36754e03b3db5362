/*
 * One message's attachments fetched and decrypted (protocols/wecom.md
 * A.7) into the wk_media that goes up with it (workers/media.h): a GET
 * of each URL the callback frame named, one part after another, each
 * within the bytes the message may still carry and the message's
 * deadline, then wcm_decrypt with the part's aeskey.
 *
 * Called by inbound.c, which keeps the message in order meanwhile.
 * A part that fails (no URL, a bad key, a transfer error, an HTTP
 * status but 200, over the cap, a pad that does not check) is logged,
 * counted in wb.media_failed and left with ok 0, so its note stays in
 * the text; it is never tried again.  The URLs carry credentials in
 * their query and the keys open the files: neither is ever logged
 * (A.11).  Nothing here follows a redirect or reads a URL from the
 * user's text.
 *
 * A part is named by the media host's Content-Disposition
 * (filename*= before filename=, read by workers/net/cdisp.c from the
 * header fetch.c keeps), else by the frame's file.filename, else not
 * at all; a header name refused is logged at debug and costs only the
 * name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "log.h"
#include "../media.h"	/* workers/media.h: the wk_media */
#include "media.h"	/* this kind's: wcm_decrypt */
#include "net/fetch.h"
#include "wecom.h"
#include "xmalloc.h"

/*
 * The URLs live about 5 minutes (A.7 #1, A.9): a message's parts all
 * end AT_MSG_MS after it came, however long it waited for its turn,
 * one part takes at most AT_PART_MS, so a stalled media host holds
 * the messages behind it that long and no more.
 */
#define AT_MSG_MS	(120 * 1000)
#define AT_PART_MS	(60 * 1000)
#define AT_CONNECT_MS	(10 * 1000)
/* The first allocation of a body; it doubles up to the part's cap. */
#define AT_BUF_MIN	(64 * 1024)

/* A header's name goes up as it came: wk_media must hold it uncut. */
#if CDISP_NAME_MAX > IPC_FILENAME_MAX
#error "a Content-Disposition name longer than the IPC carries"
#endif

/* AT_MSG_MS, but for a test hook's shorter one. */
static uint64_t	at_msg_ms = AT_MSG_MS;

struct attach {
	struct wcf_att	*att;
	size_t		 n;
	size_t		 i;		/* the part in flight */
	struct wk_media	*media;
	char		 msgid[WCF_ID_MAX + 1];
	uint64_t	 deadline;	/* clock_mono_ms() */
	CURL		*easy;
	uint8_t		*buf;		/* the ciphertext so far */
	size_t		 len;
	size_t		 cap;
	size_t		 max;		/* this part's ciphertext cap */
	int		 big;
	struct fetch_cdisp cd;		/* this part's Content-Disposition */
	attach_fn	 fn;
	void		*arg;
};

static int	at_next(struct attach *);
static int	at_begin(struct attach *, const char **);
static void	at_done(CURL *, CURLcode, void *);
static size_t	at_write(char *, size_t, size_t, void *);
static const char *at_open(struct attach *, const struct wcf_att *);
static const char *at_name(const struct attach *, const struct wcf_att *,
		    char *);
static void	at_fail(struct attach *, const char *);
static void	at_body_free(struct attach *);

/*
 * Before the sandbox: curl, the resolver's nameservers and the CA
 * bundle, since a media host is not known until a message names it.
 * Without a bundle https downloads fail their check, counted; the
 * bot still answers text.
 */
int
attach_pre_sandbox(void)
{
	if (fetch_init() == -1 || fetch_dns_init() == -1)
		return -1;
	if (fetch_load_ca() == -1)
		log_warnx("%s: no CA bundle: https attachments will fail",
		    __func__);
	return 0;
}

int
attach_post_sandbox(struct event_base *base)
{
	return fetch_start(base);
}

#ifdef WX_TEST_HOOKS
void
attach_test_deadline(uint64_t ms)
{
	at_msg_ms = ms;
}
#endif

struct attach *
attach_start(struct wcf_att *att, size_t n, struct wk_media *media,
    const char *msgid, uint64_t since, attach_fn fn, void *arg)
{
	struct attach *a;

	a = xcalloc(1, sizeof(*a));
	a->att = att;
	a->n = n;
	a->media = media;
	snprintf(a->msgid, sizeof(a->msgid), "%s", msgid);
	a->deadline = since + at_msg_ms;
	a->fn = fn;
	a->arg = arg;
	if (at_next(a) == 0)
		return a;
	free(a);
	return NULL;
}

/* The next part that starts a transfer: 0, or -1 when none is left. */
static int
at_next(struct attach *a)
{
	const char *why;

	for (; a->i < a->n; a->i++) {
		if (at_begin(a, &why) == 0)
			return 0;
		at_fail(a, why);
	}
	return -1;
}

static int
at_begin(struct attach *a, const char **why)
{
	const struct wcf_att *p = &a->att[a->i];
	uint8_t key[WCM_KEY_LEN];
	uint64_t now = clock_mono_ms(), left;
	long ms;

	if (p->url == NULL) {
		*why = "no URL in the frame";
		return -1;
	}
	if (wcm_key_decode(p->aeskey, strlen(p->aeskey), key) == -1) {
		*why = "no aeskey, or not 32 bytes of base64";
		return -1;
	}
	explicit_bzero(key, sizeof(key));
	if (a->media->total >= a->media->max) {
		*why = "over media_max_bytes";
		return -1;
	}
	if (now >= a->deadline) {
		*why = "past the message's download deadline";
		return -1;
	}
	/* The pad adds 1 to 32 bytes to the plaintext (A.7 #5). */
	left = a->media->max - a->media->total;
	a->max = left > WCM_CIPHER_MAX - WCM_BLOCK ? WCM_CIPHER_MAX :
	    (size_t)left + WCM_BLOCK;
	ms = a->deadline - now < AT_PART_MS ? (long)(a->deadline - now) :
	    AT_PART_MS;
	if ((a->easy = fetch_easy()) == NULL) {
		*why = "no curl handle";
		return -1;
	}
	curl_easy_setopt(a->easy, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(a->easy, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(a->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)AT_CONNECT_MS);
	curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS, ms);
	/* A Content-Length past the cap fails before the body comes. */
	curl_easy_setopt(a->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)a->max);
	curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, at_write);
	curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a);
	fetch_cdisp_keep(a->easy, &a->cd);
	if (fetch_add(a->easy, p->url, at_done, a) == -1) {
		fetch_drop(a->easy);
		a->easy = NULL;
		*why = "the transfer could not start";
		return -1;
	}
	return 0;
}

/* The body, kept to the part's cap; past it the transfer stops. */
static size_t
at_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct attach *a = arg;
	size_t n = size * nmemb;

	if (n > a->max - a->len) {
		a->big = 1;
		return 0;
	}
	if (a->len + n > a->cap) {
		a->cap = a->cap < AT_BUF_MIN ? AT_BUF_MIN : a->cap;
		while (a->cap < a->len + n)
			a->cap *= 2;
		if (a->cap > a->max)
			a->cap = a->max;
		a->buf = xreallocarray(a->buf, a->cap, 1);
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
	return n;
}

static void
at_done(CURL *e, CURLcode rc, void *arg)
{
	struct attach *a = arg;
	const char *why = NULL;
	char msg[64];
	long status = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	fetch_drop(e);
	a->easy = NULL;
	if (a->big || rc == CURLE_FILESIZE_EXCEEDED)
		why = "over media_max_bytes";
	else if (rc != CURLE_OK)
		why = curl_easy_strerror(rc);
	else if (status != 200) {
		snprintf(msg, sizeof(msg), "HTTP status %ld", status);
		why = msg;
	} else
		why = at_open(a, &a->att[a->i]);
	if (why != NULL)
		at_fail(a, why);
	at_body_free(a);
	a->i++;
	if (at_next(a) == 0)
		return;
	a->fn(a->arg);
	free(a);
}

/* The ciphertext in a->buf decrypted into the message's memfd. */
static const char *
at_open(struct attach *a, const struct wcf_att *p)
{
	uint8_t key[WCM_KEY_LEN], *out;
	char cdname[CDISP_NAME_MAX + 1];
	const char *why = NULL;
	size_t outlen, i;
	int rv;

	if (wcm_key_decode(p->aeskey, strlen(p->aeskey), key) == -1)
		return "no aeskey, or not 32 bytes of base64";
	out = xmalloc(a->len > 0 ? a->len : 1);
	rv = wcm_decrypt(key, a->buf, a->len, out, &outlen);
	explicit_bzero(key, sizeof(key));
	if (rv == -1)
		why = "cannot decrypt: a wrong key or damaged bytes";
	else if (wk_media_add(a->media, p->kind, at_name(a, p, cdname), out,
	    outlen, &why) == 0) {
		a->att[a->i].ok = 1;
		wb.media_parts++;
	} else if (a->media->n == 0)
		/* A failed write took the parts before it: notes again. */
		for (i = 0; i < a->i; i++)
			a->att[i].ok = 0;
	freezero(out, a->len > 0 ? a->len : 1);
	return why;
}

/*
 * The header's name wins over the frame's file.filename, in A.7 #1's
 * order: it names the bytes the host served, and the frame's is only
 * what the sender's client said.  The frame's stands in when the header
 * has none or one refused; an image usually has neither.
 */
static const char *
at_name(const struct attach *a, const struct wcf_att *p, char *buf)
{
	enum cdisp_err e;

	if ((e = fetch_cdisp_name(&a->cd, buf)) == CDISP_OK)
		return buf;
	if (e != CDISP_E_NONE)
		log_debug("wecom %s: message %s: %s %zu: Content-Disposition "
		    "refused: %s", wb.account, a->msgid, p->kind, a->i + 1,
		    cdisp_strerror(e));
	return p->name;
}

static void
at_fail(struct attach *a, const char *why)
{
	wb.media_failed++;
	log_warnx("wecom %s: message %s: %s %zu of %zu not fetched: %s; "
	    "%llu attachments failed", wb.account, a->msgid,
	    a->att[a->i].kind, a->i + 1, a->n, why,
	    (unsigned long long)wb.media_failed);
}

static void
at_body_free(struct attach *a)
{
	free(a->buf);
	a->buf = NULL;
	a->len = a->cap = 0;
	a->big = 0;
}
