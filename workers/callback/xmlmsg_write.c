/*
 * The passive replies of the callback scheme (shared/protocols/
 * wecom.md D.3 and C.6): the plaintext text reply and the encrypted
 * envelope around it.  Text goes in CDATA, a literal "]]>" split as
 * "]]]]><![CDATA[>" and the control characters XML 1.0 forbids dropped
 * (D.6), so that whatever we write, xmlmsg_parse() and the platform's
 * parser read back.  Pure: the callback worker (phase 2) sends what it
 * returns.  Lengths are bounded by xmlmsg.h, so the output is too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"
#include "xmlmsg.h"

/* A CDATA byte can grow to 13 (a '>' after "]]" becomes 13 bytes). */
#define CDATA_GROWTH	13

/* The output buffer, sized before writing; w_* never exceed cap. */
struct xw {
	char	*b;
	size_t	 len;
	size_t	 cap;
};

static void	w_raw(struct xw *, const char *, size_t);
static void	w_str(struct xw *, const char *);
static void	w_cdata(struct xw *, const char *, size_t);
static int	w_bounded(const char *, size_t);
static int	w_digits(const char *);

static void
w_raw(struct xw *w, const char *s, size_t n)
{
	/* The caps below are computed from the inputs: past one is a bug. */
	if (n > w->cap - w->len)
		fatalx("%s: reply buffer overrun", __func__);
	memcpy(w->b + w->len, s, n);
	w->len += n;
}

static void
w_str(struct xw *w, const char *s)
{
	w_raw(w, s, strlen(s));
}

/*
 * <![CDATA[s]]>, with C0 controls other than tab, LF and CR left out
 * (XML 1.0 has no way to carry them) and every "]]>" of what is left
 * split across two sections.  The split looks at the bytes kept, not
 * the input: "]]\x01>" loses its control and becomes a "]]>" too.
 */
static void
w_cdata(struct xw *w, const char *s, size_t n)
{
	size_t i;
	unsigned char ch, k1 = 0, k2 = 0;	/* the last two kept */

	w_str(w, "<![CDATA[");
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
			continue;
		if (ch == '>' && k1 == ']' && k2 == ']')
			w_str(w, "]]><![CDATA[>");
		else
			w_raw(w, s + i, 1);
		k2 = k1;
		k1 = ch;
	}
	w_str(w, "]]>");
}

/* Present and at most max bytes. */
static int
w_bounded(const char *s, size_t max)
{
	return s != NULL && strnlen(s, max + 1) <= max;
}

static int
w_digits(const char *s)
{
	size_t n = strnlen(s, 21);

	if (n == 0 || n > 20)
		return 0;
	return strspn(s, "0123456789") == n;
}

/*
 * D.3: ToUserName is the user (OpenID or UserID), FromUserName the
 * account (gh_ id or CorpID).  Content is cut by the hub to the
 * platform's byte limit before it gets here; this only refuses what
 * could never be a reply.
 */
int
xmlmsg_reply_text(const char *to, const char *from, int64_t createtime,
    const char *content, size_t contentlen, char **out, size_t *outlen)
{
	struct xw w;
	char num[32];

	*out = NULL;
	*outlen = 0;
	if (!w_bounded(to, XMLMSG_ID_MAX) ||
	    !w_bounded(from, XMLMSG_ID_MAX) ||
	    content == NULL || contentlen > XMLMSG_CONTENT_MAX ||
	    createtime < 0)
		return XMLMSG_E_REPLY;
	snprintf(num, sizeof(num), "%" PRId64, createtime);
	w.len = 0;
	w.cap = 256 + CDATA_GROWTH * (strlen(to) + strlen(from) +
	    contentlen) + strlen(num);
	w.b = xmalloc(w.cap);
	w_str(&w, "<xml><ToUserName>");
	w_cdata(&w, to, strlen(to));
	w_str(&w, "</ToUserName><FromUserName>");
	w_cdata(&w, from, strlen(from));
	w_str(&w, "</FromUserName><CreateTime>");
	w_str(&w, num);
	w_str(&w, "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>");
	w_cdata(&w, content, contentlen);
	w_str(&w, "</Content></xml>");
	*out = w.b;
	*outlen = w.len;
	return XMLMSG_OK;
}

/*
 * C.6: the reply envelope.  encrypt and the signature come from
 * wxcrypt; timestamp and nonce are the ones the signature was made
 * with (C.3), so TimeStamp must be digits as sent.
 */
int
xmlmsg_reply_envelope(const char *encrypt, const char *sig,
    const char *timestamp, const char *nonce, char **out, size_t *outlen)
{
	struct xw w;
	size_t elen;

	*out = NULL;
	*outlen = 0;
	if (!w_bounded(encrypt, XMLMSG_BODY_MAX) ||
	    !w_bounded(sig, XMLMSG_SHORT_MAX) ||
	    !w_bounded(nonce, XMLMSG_SHORT_MAX) ||
	    timestamp == NULL || !w_digits(timestamp))
		return XMLMSG_E_REPLY;
	elen = strlen(encrypt);
	w.len = 0;
	w.cap = 256 + CDATA_GROWTH * (elen + strlen(sig) + strlen(nonce)) +
	    strlen(timestamp);
	w.b = xmalloc(w.cap);
	w_str(&w, "<xml><Encrypt>");
	w_cdata(&w, encrypt, elen);
	w_str(&w, "</Encrypt><MsgSignature>");
	w_cdata(&w, sig, strlen(sig));
	w_str(&w, "</MsgSignature><TimeStamp>");
	w_str(&w, timestamp);
	w_str(&w, "</TimeStamp><Nonce>");
	w_cdata(&w, nonce, strlen(nonce));
	w_str(&w, "</Nonce></xml>");
	*out = w.b;
	*outlen = w.len;
	return XMLMSG_OK;
}
