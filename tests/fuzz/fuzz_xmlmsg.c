/*
 * libFuzzer harness for workers/callback/xmlmsg.c and xmlmsg_write.c
 * (shared/protocols/wecom.md C.6, D.2, D.3): arbitrary bytes as a
 * callback body.  Invariants (abort on a breach): every field that
 * comes out is NUL-terminated, inside the parse buffer, within its
 * limit and free of NULs; a text reply or a reply envelope written
 * from the parsed fields parses back to the same fields, less the C0
 * controls the writer drops (D.6).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callback/xmlmsg.h"

/* Several times the largest field; more only costs time. */
#define FUZZER_MAXLEN	(256 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_field(const struct xmlmsg *m, const struct xmlmsg_str *f, size_t max)
{
	if (f->p == NULL) {
		check(f->len == 0);
		return;
	}
	check(f->p >= m->buf && f->p + f->len < m->buf + m->bufsz);
	check(f->len <= max && f->p[f->len] == '\0' && strlen(f->p) == f->len);
}

/* What the writer keeps of s: all but C0 controls other than \t \n \r. */
static int
same_kept(const struct xmlmsg_str *got, const char *s, size_t n)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			continue;
		if (o >= got->len || got->p[o++] != s[i])
			return 0;
	}
	return o == got->len;
}

/* A field, or a stand-in when it is absent, so every parse is written. */
static struct xmlmsg_str
or_default(const struct xmlmsg_str *f, const char *dflt)
{
	struct xmlmsg_str s;

	if (f->p != NULL)
		return *f;
	s.p = dflt;
	s.len = strlen(dflt);
	return s;
}

static void
reply_text(const struct xmlmsg *m)
{
	struct xmlmsg r;
	struct xmlmsg_str to, from, content;
	char *out;
	size_t len;

	to = or_default(&m->to, "oFAKEopenid0001");
	from = or_default(&m->from, "gh_fake0001");
	content = or_default(&m->content, "");
	/* The parser's limits are the writer's: this must be writable. */
	check(xmlmsg_reply_text(to.p, from.p, m->createtime_n, content.p,
	    content.len, &out, &len) == XMLMSG_OK);
	check(xmlmsg_parse(out, len, &r) == XMLMSG_OK);
	check(xmlmsg_check_message(&r) == XMLMSG_E_MISSING);	/* no MsgId */
	check(same_kept(&r.to, to.p, to.len));
	check(same_kept(&r.from, from.p, from.len));
	check(same_kept(&r.content, content.p, content.len));
	check(r.createtime_n == m->createtime_n && r.type == XMLMSG_T_TEXT);
	xmlmsg_clear(&r);
	free(out);
}

static void
reply_envelope(const struct xmlmsg *m)
{
	struct xmlmsg r;
	struct xmlmsg_str enc, sig, ts, nonce;
	char *out;
	size_t len;

	enc = or_default(&m->encrypt, "BASE64==");
	sig = or_default(&m->msgsignature,
	    "ac4eec2f391a8e1fa2fa3345e6d66e657a3d3bee");
	ts = or_default(&m->timestamp, "1700000000");
	nonce = or_default(&m->nonce, "n0nce42");
	check(xmlmsg_reply_envelope(enc.p, sig.p, ts.p, nonce.p, &out, &len) ==
	    XMLMSG_OK);
	check(xmlmsg_parse(out, len, &r) == XMLMSG_OK);
	check(same_kept(&r.encrypt, enc.p, enc.len));
	check(same_kept(&r.msgsignature, sig.p, sig.len));
	check(strcmp(r.timestamp.p, ts.p) == 0);
	check(same_kept(&r.nonce, nonce.p, nonce.len));
	xmlmsg_clear(&r);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xmlmsg m;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (xmlmsg_parse((const char *)data, size, &m) != XMLMSG_OK) {
		check(m.buf == NULL);
		return 0;
	}
	check_field(&m, &m.to, XMLMSG_ID_MAX);
	check_field(&m, &m.from, XMLMSG_ID_MAX);
	check_field(&m, &m.createtime, 20);
	check_field(&m, &m.msgtype, XMLMSG_SHORT_MAX);
	check_field(&m, &m.content, XMLMSG_CONTENT_MAX);
	check_field(&m, &m.msgid, 20);
	check_field(&m, &m.agentid, 20);
	check_field(&m, &m.event, XMLMSG_SHORT_MAX);
	check_field(&m, &m.eventkey, 2048);
	check_field(&m, &m.mediaid, 256);
	check_field(&m, &m.format, 16);
	check_field(&m, &m.recognition, XMLMSG_CONTENT_MAX);
	check_field(&m, &m.picurl, 2048);
	check_field(&m, &m.encrypt, XMLMSG_BODY_MAX);
	check_field(&m, &m.msgsignature, XMLMSG_SHORT_MAX);
	check_field(&m, &m.timestamp, 20);
	check_field(&m, &m.nonce, XMLMSG_SHORT_MAX);
	check(m.createtime_n >= 0 && m.agentid_n >= 0);
	(void)xmlmsg_check_envelope(&m);
	(void)xmlmsg_check_message(&m);
	reply_text(&m);
	reply_envelope(&m);
	xmlmsg_clear(&m);
	return 0;
}
