/*
 * libFuzzer harness for workers/wechat/ilink_parse.c: arbitrary bytes as
 * the body of every iLink response we parse (getupdates, sendmessage,
 * getconfig, get_bot_qrcode, get_qrcode_status).  Whatever comes in,
 * what comes out must be fit for an IPC frame as is: every kept message
 * has a sender, an id and a context within their limits, and text that
 * is valid UTF-8 without NUL; a typing ticket is printable and bounded.  The same bytes, as a string, go through
 * the other functions of ilink.c that take what a server or an
 * operator chose: the bot_agent sanitizer (its output is within the
 * grammar's bounds and sanitizes to itself), the host policy (a URL it
 * lets through is https to a weixin.qq.com host, or the login host) and
 * the QR status URL (nothing but unreserved characters and escapes).
 * getuploadurl's answer gives a slot (full URL or parameter) within its
 * bounds, and the upload URL made of it is https to a weixin.qq.com host
 * or the CDN base with the parameter escaped.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "codec.h"
#include "wechat/ilink.h"
#include "wechat/ilink_media.h"

/* Bigger inputs only make jansson slower, not the parsers deeper. */
#define FUZZER_MAXLEN	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_str(const char *s, size_t max, int nonempty)
{
	size_t len;

	if (s == NULL)
		abort();
	len = strlen(s);
	if (len > max || (nonempty && len == 0) || !ipc_utf8_valid(s, len))
		abort();
}

static void
check_updates(const struct ilink_updates *u)
{
	const struct ilink_msg *m;
	size_t i;

	if (u->n > ILINK_MSGS_MAX)
		abort();
	if (u->cursor != NULL)
		check_str(u->cursor, IPC_STATE_MAX, 1);
	for (i = 0; i < u->n; i++) {
		m = &u->msgs[i];
		if (m->drop != ILINK_KEEP)
			continue;
		check_str(m->peer, IPC_PEER_MAX, 1);
		check_str(m->msg_id, IPC_CHANID_MAX, 1);
		check_str(m->text, IPC_TEXT_MAX, 1);
		check_str(m->ctx, IPC_CTX_MAX, 0);
	}
}

/* Sanitized once, bot_agent is printable, bounded and stable. */
static void
check_bot_agent(const char *in)
{
	char out[ILINK_BOT_AGENT_MAX + 1], again[ILINK_BOT_AGENT_MAX + 1];
	size_t i;

	(void)ilink_bot_agent(in, "wxgate/0.1.0", out, sizeof(out));
	if (strlen(out) == 0 || strlen(out) > ILINK_BOT_AGENT_MAX)
		abort();
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] < ' ' || out[i] > '~')
			abort();
	if (ilink_bot_agent(out, "wxgate/0.1.0", again, sizeof(again)) !=
	    ILINK_BA_SAME || strcmp(out, again) != 0)
		abort();
}

/* What the host policy lets through, as curl itself reads it. */
static void
check_host(const char *url)
{
	static const char login[] = "https://ilinkai.weixin.qq.com";
	char *scheme = NULL, *host = NULL;
	const char *why;
	size_t len;
	CURLU *u;

	if (ilink_host_allowed(url, login, &why) == -1)
		return;
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		abort();
	len = strlen(host);
	if (strcmp(scheme, "https") != 0 ||
	    !(strcasecmp(host, "weixin.qq.com") == 0 ||
	    (len > 14 && strcasecmp(host + len - 14, ".weixin.qq.com") == 0)))
		abort();
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
}

static void
check_qrstatus_url(const char *s)
{
	const char *p;
	char *url;

	url = ilink_url_qrstatus("https://h", s, s);
	p = strchr(url, '=');
	for (p = p != NULL ? p + 1 : url; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~%&=", *p) != NULL))
			abort();
	free(url);
	(void)ilink_verify_code_ok(s);
}

/* §3.5, §3.9: the slot and the URL the upload goes to. */
static void
check_upload(const char *b, size_t size)
{
	static const char cdn[] = "https://novac2c.cdn.weixin.qq.com/c2c";
	struct ilink_ret r;
	char *full, *param, *url;
	const char *why, *p;

	if (ilink_parse_uploadurl(b, size, &r, &full, &param) != ILINK_OK) {
		if (full != NULL || param != NULL)
			abort();
		return;
	}
	if ((full == NULL && param == NULL) ||
	    (full != NULL && (*full == '\0' ||
	    strlen(full) > ILINK_MEDIA_URL_MAX)) ||
	    (param != NULL && (*param == '\0' ||
	    strlen(param) > ILINK_QUERY_MAX)))
		abort();
	url = ilink_upload_url(cdn, full, param, "00ff", &why);
	if (url != NULL && full != NULL)
		check_host(url);
	else if (url != NULL) {
		if (strncmp(url, cdn, sizeof(cdn) - 1) != 0)
			abort();
		for (p = url + sizeof(cdn) - 1; *p != '\0'; p++)
			if (!((*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') ||
			    strchr("-_.~%&=?/", *p) != NULL))
				abort();
	}
	free(url);
	free(full);
	free(param);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	struct ilink_updates u;
	struct ilink_qrcode q;
	struct ilink_qrstatus s;
	struct ilink_ret r;
	size_t qlen;
	char *quoted, *str, *ticket;

	if (size > FUZZER_MAXLEN)
		return 0;
	quoted = ilink_quote_ids(b, size, &qlen);
	if (qlen > size + size / 5 + 15 || quoted[qlen] != '\0')
		abort();
	free(quoted);

	if (ilink_parse_updates(b, size, &u) == ILINK_OK)
		check_updates(&u);
	ilink_updates_clear(&u);
	(void)ilink_parse_ret(b, size, &r);
	if (strlen(r.errmsg) > IPC_MESSAGE_MAX)
		abort();
	/* A ticket goes back into a JSON string: printable, bounded. */
	if (ilink_parse_ticket(b, size, &r, &ticket) == ILINK_OK) {
		if (ticket == NULL || strlen(ticket) == 0 ||
		    strlen(ticket) > ILINK_TICKET_MAX ||
		    strspn(ticket, "!\"#$%&'()*+,-./0123456789:;<=>?@"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz"
		    "{|}~") != strlen(ticket))
			abort();
		free(ticket);
	} else if (ticket != NULL)
		abort();
	if (ilink_parse_qrcode(b, size, &q) == ILINK_OK) {
		check_str(q.qrcode, 256, 1);
		check_str(q.url, IPC_URL_MAX, 1);
	}
	ilink_qrcode_clear(&q);
	if (ilink_parse_qrstatus(b, size, &s) == ILINK_OK &&
	    s.state == ILINK_QR_CONFIRMED &&
	    (!ilink_token_ok(s.bot_token) || s.bot_id == NULL))
		abort();
	ilink_qrstatus_clear(&s);
	check_upload(b, size);

	str = malloc(size + 1);
	if (str == NULL)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	check_bot_agent(str);
	check_host(str);
	check_qrstatus_url(str);
	free(str);
	return 0;
}
