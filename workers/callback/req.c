/*
 * What one callback request means (shared/protocols/wecom.md C.5, C.6):
 * a GET is the console's URL verification, a POST a message.  Checked
 * in this order, each with its status: the query's values (400), the
 * timestamp within CB_TS_WINDOW_S of our clock (403), the signature in
 * constant time (403), the envelope's XML (400), the decryption (400,
 * a bad pad or layout), the receive id (403), a nonce seen before with
 * another message (403), the message's XML (400).  Only then does
 * turn.c see it.  Nothing decrypted is echoed in a refusal or logged
 * above debug (C.8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "callback.h"
#include "log.h"
#include "query.h"

/* What a request's query may carry, decoded. */
struct req_q {
	char	sig[WXC_SIG_LEN + 1];		/* msg_signature or signature */
	char	oasig[WXC_SIG_LEN + 1];		/* OA: signature */
	char	ts[WXC_TIMESTAMP_MAX + 1];
	char	nonce[WXC_NONCE_MAX + 1];
	char	echostr[QUERY_MAX];
};

static int	req_query(const char *, struct req_q *, int);
static int	req_fresh(const char *);
static void	req_get(struct conn *, const struct req_q *);
static void	req_post(struct conn *, const struct req_q *, const char *,
		    size_t);
static int	req_status(int);

void
req_handle(struct conn *c, unsigned method, const char *query,
    const char *body, size_t len)
{
	struct req_q q;

	if (method != HTTP_GET && method != HTTP_POST) {
		conn_reply(c, 405, NULL, NULL, 0);
		return;
	}
	if (req_query(query, &q, method == HTTP_GET) == -1) {
		log_info("callback %s: a request without its signature "
		    "values", cb.account);
		conn_reply(c, 400, NULL, NULL, 0);
		return;
	}
	if (!req_fresh(q.ts)) {
		log_warnx("callback %s: timestamp %s outside +-%d s: a "
		    "replay, or our clock is off", cb.account, q.ts,
		    CB_TS_WINDOW_S);
		conn_reply(c, 403, NULL, NULL, 0);
		return;
	}
	if (method == HTTP_GET)
		req_get(c, &q);
	else
		req_post(c, &q, body, len);
}

/*
 * WeCom signs with msg_signature over four values; OA's GET and plain
 * POST with signature over three (C.5, C.11).  OA's safe POST carries
 * both, and only msg_signature covers the message.
 */
static int
req_query(const char *query, struct req_q *q, int get)
{
	size_t n = strlen(query);
	int oa3 = !cb.wecom && (get || cb.plain);

	memset(q, 0, sizeof(*q));
	if (query_get(query, n, oa3 ? "signature" : "msg_signature", q->sig,
	    sizeof(q->sig)) == -1 ||
	    query_get(query, n, "timestamp", q->ts, sizeof(q->ts)) == -1 ||
	    query_get(query, n, "nonce", q->nonce, sizeof(q->nonce)) == -1)
		return -1;
	if (get && query_get(query, n, "echostr", q->echostr,
	    sizeof(q->echostr)) == -1)
		return -1;
	return 0;
}

/* Decimal seconds, within the window either way. */
static int
req_fresh(const char *ts)
{
	long long t, now = (long long)time(NULL);
	char *end;

	if (*ts < '0' || *ts > '9')
		return 0;
	t = strtoll(ts, &end, 10);
	if (*end != '\0' || t > now + CB_TS_WINDOW_S ||
	    t < now - CB_TS_WINDOW_S)
		return 0;
	return 1;
}

/* C.8's reasons to refuse, as HTTP statuses. */
static int
req_status(int e)
{
	switch (e) {
	case WXC_E_SIGNATURE:
	case WXC_E_RECEIVEID:
		return 403;
	default:
		return 400;
	}
}

static void
req_get(struct conn *c, const struct req_q *q)
{
	struct wxcrypt_plain pl;
	int e;

	if (!cb.wecom) {
		/* OA: three values signed, echostr answered verbatim. */
		if ((e = wxcrypt_verify_oa(cb.token, q->sig, q->ts,
		    q->nonce)) != WXC_OK) {
			log_warnx("callback %s: verification: %s", cb.account,
			    wxcrypt_strerror(e));
			conn_reply(c, 403, NULL, NULL, 0);
			return;
		}
		conn_reply(c, 200, "text/plain", q->echostr,
		    strlen(q->echostr));
		log_info("callback %s: URL verified", cb.account);
		return;
	}
	memset(&pl, 0, sizeof(pl));
	if ((e = wxcrypt_open(&cb.key, cb.token, q->sig, q->ts, q->nonce,
	    q->echostr, cb.id, &pl)) != WXC_OK) {
		log_warnx("callback %s: verification: %s", cb.account,
		    wxcrypt_strerror(e));
		conn_reply(c, req_status(e), NULL, NULL, 0);
		return;
	}
	/* C.5: the plaintext exactly, nothing around it. */
	conn_reply(c, 200, "text/plain", pl.msg, pl.msglen);
	wxcrypt_plain_clear(&pl);
	log_info("callback %s: URL verified", cb.account);
}

static void
req_post(struct conn *c, const struct req_q *q, const char *body,
    size_t len)
{
	struct wxcrypt_plain pl;
	struct xmlmsg env, m;
	const char *what;
	size_t wlen;
	int e;

	memset(&env, 0, sizeof(env));
	memset(&m, 0, sizeof(m));
	memset(&pl, 0, sizeof(pl));
	if (cb.plain) {
		if ((e = wxcrypt_verify_oa(cb.token, q->sig, q->ts,
		    q->nonce)) != WXC_OK)
			goto refuse;
		what = body;
		wlen = len;
	} else {
		if ((e = xmlmsg_parse(body, len, &env)) != XMLMSG_OK ||
		    (e = xmlmsg_check_envelope(&env)) != XMLMSG_OK) {
			log_warnx("callback %s: envelope: %s", cb.account,
			    xmlmsg_strerror(e));
			conn_reply(c, 400, NULL, NULL, 0);
			goto out;
		}
		if ((e = wxcrypt_open(&cb.key, cb.token, q->sig, q->ts,
		    q->nonce, env.encrypt.p, cb.id, &pl)) != WXC_OK)
			goto refuse;
		/*
		 * The message, not its ciphertext: a retry encrypted
		 * again under the same nonce is the same message.
		 */
		what = pl.msg;
		wlen = pl.msglen;
	}
	/* After the signature, so a forger cannot fill the table. */
	if (seen_nonce(q->nonce, q->ts, what, wlen) == SEEN_REPLAY) {
		log_warnx("callback %s: nonce %s again with another message: "
		    "a replay", cb.account, q->nonce);
		conn_reply(c, 403, NULL, NULL, 0);
		goto out;
	}
	if ((e = xmlmsg_parse(cb.plain ? body : pl.msg, cb.plain ? len :
	    pl.msglen, &m)) != XMLMSG_OK ||
	    (e = xmlmsg_check_message(&m)) != XMLMSG_OK) {
		log_warnx("callback %s: message: %s", cb.account,
		    xmlmsg_strerror(e));
		conn_reply(c, 400, NULL, NULL, 0);
		goto out;
	}
	turn_message(c, &m);
	goto out;
refuse:
	log_warnx("callback %s: %s", cb.account, wxcrypt_strerror(e));
	conn_reply(c, req_status(e), NULL, NULL, 0);
out:
	xmlmsg_clear(&m);
	xmlmsg_clear(&env);
	wxcrypt_plain_clear(&pl);
}
