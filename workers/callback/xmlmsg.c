/*
 * A bounded parser for the callback XML (shared/protocols/wecom.md
 * C.6 and D.2): one <xml> root whose children are flat text fields,
 * sometimes nested a few levels in events.  Fields we know are copied
 * out, decoded; the rest are parsed and skipped.
 *
 * Hand-written rather than libexpat: expat is not a dependency of
 * wxgate (configure.ac), and the subset is tiny: elements without
 * attributes, text, CDATA, comments, the five predefined entities and
 * an optional <?xml ...?> declaration.  Anything else is refused, in
 * particular every <!DOCTYPE> and <!ENTITY>, so no entity expansion
 * and no external reference (XXE) is possible.  Numeric character
 * references (&#NNN; and &#xHH;) are decoded to UTF-8: they name one
 * character and expand nothing, and a platform that writes text
 * outside CDATA may use them; one that is not an XML Char (zero, a
 * surrogate, past U+10FFFF, a C0 control but tab, LF and CR) or has
 * too many digits is refused.
 *
 * Limits are the XMLMSG_* constants in xmlmsg.h and the per-field
 * maxima below.  Recursion is bounded by XMLMSG_DEPTH_MAX.  Pure: no
 * I/O, no log.  Fuzzed by tests/fuzz/fuzz_xmlmsg.c.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"
#include "xmlmsg.h"

/* A field's text must be a decimal number. */
#define XF_DIGITS	0x01

/* int64 and uint64 in decimal. */
#define NUM_MAX		20
/*
 * Digits of a character reference: U+10FFFF is 1114111 and 10FFFF.  A
 * longer run, leading zeros or not, is refused rather than summed.
 */
#define CHARREF_DEC_MAX	7
#define CHARREF_HEX_MAX	6

static const struct xm_field {
	const char	*name;
	size_t		 off;
	size_t		 max;
	int		 flags;
} xm_fields[] = {
#define F(n, f, max, fl)	{ n, offsetof(struct xmlmsg, f), max, fl }
	F("ToUserName", to, XMLMSG_ID_MAX, 0),
	F("FromUserName", from, XMLMSG_ID_MAX, 0),
	F("CreateTime", createtime, NUM_MAX, XF_DIGITS),
	F("MsgType", msgtype, XMLMSG_SHORT_MAX, 0),
	F("Content", content, XMLMSG_CONTENT_MAX, 0),
	F("MsgId", msgid, NUM_MAX, XF_DIGITS),
	F("AgentID", agentid, NUM_MAX, XF_DIGITS),
	F("Event", event, XMLMSG_SHORT_MAX, 0),
	/* VIEW events carry a URL. */
	F("EventKey", eventkey, 2048, 0),
	F("MediaId", mediaid, 256, 0),
	F("Format", format, 16, 0),
	F("Recognition", recognition, XMLMSG_CONTENT_MAX, 0),
	F("PicUrl", picurl, 2048, 0),
	/* D.2: a location's and a link's own fields. */
	F("Location_X", location_x, 32, 0),
	F("Location_Y", location_y, 32, 0),
	F("Label", label, 1024, 0),
	F("Title", title, 1024, 0),
	F("Description", description, 4096, 0),
	F("Url", url, 2048, 0),
	F("Encrypt", encrypt, XMLMSG_BODY_MAX, 0),
	F("MsgSignature", msgsignature, XMLMSG_SHORT_MAX, 0),
	F("TimeStamp", timestamp, NUM_MAX, XF_DIGITS),
	F("Nonce", nonce, XMLMSG_SHORT_MAX, 0),
#undef F
};

/* D.2's MsgType values. */
static const char *const xm_types[] = {
	[XMLMSG_T_TEXT] = "text", [XMLMSG_T_IMAGE] = "image",
	[XMLMSG_T_VOICE] = "voice", [XMLMSG_T_VIDEO] = "video",
	[XMLMSG_T_SHORTVIDEO] = "shortvideo",
	[XMLMSG_T_LOCATION] = "location", [XMLMSG_T_LINK] = "link",
	[XMLMSG_T_EVENT] = "event"
};

/* D.2's events: OA writes SCAN, CLICK; WeCom click, so case is ignored. */
static const char *const xm_events[] = {
	[XMLMSG_EV_SUBSCRIBE] = "subscribe",
	[XMLMSG_EV_UNSUBSCRIBE] = "unsubscribe",
	[XMLMSG_EV_ENTER_AGENT] = "enter_agent", [XMLMSG_EV_SCAN] = "SCAN",
	[XMLMSG_EV_LOCATION] = "LOCATION", [XMLMSG_EV_CLICK] = "CLICK",
	[XMLMSG_EV_VIEW] = "VIEW"
};

static const char *const xm_errs[] = {
	[XMLMSG_OK] = "ok",
	[XMLMSG_E_SYNTAX] = "not well-formed",
	[XMLMSG_E_DOCTYPE] = "declaration refused",
	[XMLMSG_E_ENTITY] = "unknown entity",
	[XMLMSG_E_LIMIT] = "over a limit",
	[XMLMSG_E_DUP] = "field repeated",
	[XMLMSG_E_MISSING] = "field missing",
	[XMLMSG_E_NUMBER] = "not a number",
	[XMLMSG_E_REPLY] = "reply not writable",
	[XMLMSG_E_CHARREF] = "bad character reference"
};

/* The five predefined entities, with their '&' and ';' (XML 1.0 4.6). */
static const struct {
	const char	*ref;
	char		 c;
} xm_ents[] = {
	{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
	{ "&quot;", '"' }, { "&apos;", '\'' }
};

/* The read cursor; text is appended to m->buf. */
struct xm_cur {
	const char	*b;
	size_t		 len;
	size_t		 pos;
	int		 elems;
	struct xmlmsg	*m;
};

static int	xm_lit(struct xm_cur *, const char *);
static void	xm_ws(struct xm_cur *);
static int	xm_until(struct xm_cur *, const char *, size_t *);
static int	xm_misc(struct xm_cur *);
static int	xm_name(struct xm_cur *, size_t *, size_t *);
static int	xm_entity(struct xm_cur *);
static int	xm_charref(struct xm_cur *);
static int	xm_char_ok(uint32_t);
static int	xm_text(struct xm_cur *, int);
static int	xm_element(struct xm_cur *, int);
static int	xm_keep(struct xm_cur *, const char *, size_t, size_t, int);
static int	xm_number(const struct xmlmsg_str *, int64_t *);
static int	xm_finish(struct xmlmsg *);

const char *
xmlmsg_strerror(int err)
{
	if (err < 0 || (size_t)err >= sizeof(xm_errs) / sizeof(xm_errs[0]))
		return "unknown error";
	return xm_errs[err];
}

int
xmlmsg_code(int err)
{
	if (err == XMLMSG_OK)
		return 0;
	return err == XMLMSG_E_REPLY ? -40011 : -40002;
}

/* Consume s if the input continues with it. */
static int
xm_lit(struct xm_cur *c, const char *s)
{
	size_t n = strlen(s);

	if (c->len - c->pos < n || memcmp(c->b + c->pos, s, n) != 0)
		return 0;
	c->pos += n;
	return 1;
}

static void
xm_ws(struct xm_cur *c)
{
	while (c->pos < c->len && strchr(" \t\r\n", c->b[c->pos]) != NULL &&
	    c->b[c->pos] != '\0')
		c->pos++;
}

/* Skip to just past end; *start is where the skipped text began. */
static int
xm_until(struct xm_cur *c, const char *end, size_t *start)
{
	size_t n = strlen(end);

	*start = c->pos;
	for (; c->len - c->pos >= n; c->pos++)
		if (memcmp(c->b + c->pos, end, n) == 0) {
			c->pos += n;
			return XMLMSG_OK;
		}
	return XMLMSG_E_SYNTAX;
}

/*
 * Whitespace and comments between elements.  Any other "<!" (DOCTYPE,
 * ENTITY, ELEMENT, ATTLIST) or a processing instruction is refused.
 */
static int
xm_misc(struct xm_cur *c)
{
	size_t s;
	int rc;

	for (;;) {
		xm_ws(c);
		if (xm_lit(c, "<!--")) {
			if ((rc = xm_until(c, "-->", &s)) != XMLMSG_OK)
				return rc;
		} else if (c->len - c->pos >= 2 &&
		    memcmp(c->b + c->pos, "<!", 2) == 0)
			return XMLMSG_E_DOCTYPE;
		else if (c->len - c->pos >= 2 &&
		    memcmp(c->b + c->pos, "<?", 2) == 0)
			return XMLMSG_E_SYNTAX;
		else
			return XMLMSG_OK;
	}
}

/* An element name: ASCII letters, digits, '_', '-', '.', ':'. */
static int
xm_name(struct xm_cur *c, size_t *start, size_t *len)
{
	char ch;

	*start = c->pos;
	while (c->pos < c->len) {
		ch = c->b[c->pos];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    ch == '_' || ch == ':' || (c->pos > *start &&
		    ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.')))
			c->pos++;
		else
			break;
	}
	*len = c->pos - *start;
	if (*len == 0)
		return XMLMSG_E_SYNTAX;
	return *len > XMLMSG_NAME_MAX ? XMLMSG_E_LIMIT : XMLMSG_OK;
}

/* XML 1.0 production [2] Char (WFC: Legal Character). */
static int
xm_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0a || cp == 0x0d;
	return cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) ||
	    (cp >= 0x10000 && cp <= 0x10ffff);
}

/*
 * At "&#": a decimal or (after a lower-case x, as XML 1.0 [66] has it)
 * hexadecimal reference, appended as UTF-8.  Its source is at least as
 * long as its encoding ("&#128;" for 2 bytes, "&#2048;" for 3,
 * "&#65536;" for 4), so m->buf keeps its bound.
 */
static int
xm_charref(struct xm_cur *c)
{
	uint32_t cp = 0;
	size_t n = 0, max = CHARREF_DEC_MAX;
	unsigned base = 10, d;
	char ch, *o;

	c->pos += 2;
	if (c->pos < c->len && c->b[c->pos] == 'x') {
		base = 16;
		max = CHARREF_HEX_MAX;
		c->pos++;
	}
	for (; c->pos < c->len && c->b[c->pos] != ';'; c->pos++, n++) {
		ch = c->b[c->pos];
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (base == 16 && ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (base == 16 && ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return XMLMSG_E_CHARREF;
		if (n == max)
			return XMLMSG_E_CHARREF;
		cp = cp * base + d;	/* 7 decimal digits fit */
	}
	if (n == 0 || c->pos == c->len || !xm_char_ok(cp))
		return XMLMSG_E_CHARREF;
	c->pos++;
	o = c->m->buf + c->m->used;
	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	c->m->used += n;
	return XMLMSG_OK;
}

/* At '&': a character reference or one of the five, appended decoded. */
static int
xm_entity(struct xm_cur *c)
{
	size_t i;

	if (c->len - c->pos >= 2 && c->b[c->pos + 1] == '#')
		return xm_charref(c);
	for (i = 0; i < sizeof(xm_ents) / sizeof(xm_ents[0]); i++)
		if (xm_lit(c, xm_ents[i].ref)) {
			c->m->buf[c->m->used++] = xm_ents[i].c;
			return XMLMSG_OK;
		}
	return XMLMSG_E_ENTITY;
}

/*
 * Character data up to the next tag, appended to m->buf.  At the root
 * (depth 1) only whitespace may sit between the fields.  A NUL is
 * refused: fields are C strings.
 */
static int
xm_text(struct xm_cur *c, int depth)
{
	size_t s, n;
	int rc;
	char ch;

	while (c->pos < c->len) {
		if (xm_lit(c, "<![CDATA[")) {
			if (depth == 1)
				return XMLMSG_E_SYNTAX;
			/* The first "]]>" ends it: "]]" alone is data. */
			if ((rc = xm_until(c, "]]>", &s)) != XMLMSG_OK)
				return rc;
			n = c->pos - 3 - s;
			if (memchr(c->b + s, '\0', n) != NULL)
				return XMLMSG_E_SYNTAX;
			memcpy(c->m->buf + c->m->used, c->b + s, n);
			c->m->used += n;
			continue;
		}
		if (xm_lit(c, "<!--")) {
			if ((rc = xm_until(c, "-->", &s)) != XMLMSG_OK)
				return rc;
			continue;
		}
		ch = c->b[c->pos];
		if (ch == '<')
			return XMLMSG_OK;
		if (ch == '\0' || (depth == 1 &&
		    strchr(" \t\r\n", ch) == NULL))
			return XMLMSG_E_SYNTAX;
		if (ch == '&') {
			if ((rc = xm_entity(c)) != XMLMSG_OK)
				return rc;
			continue;
		}
		c->m->buf[c->m->used++] = ch;
		c->pos++;
	}
	return XMLMSG_E_SYNTAX;	/* the document ended in an element */
}

/*
 * A field of the root (depth 2) with no child elements: if we know its
 * name, its text m->buf[start, used) becomes the field.
 */
static int
xm_keep(struct xm_cur *c, const char *name, size_t nlen, size_t start,
    int leaf)
{
	struct xmlmsg_str *f;
	size_t i, j, len = c->m->used - start;

	for (i = 0; i < sizeof(xm_fields) / sizeof(xm_fields[0]); i++) {
		if (strlen(xm_fields[i].name) != nlen ||
		    memcmp(xm_fields[i].name, name, nlen) != 0)
			continue;
		f = (struct xmlmsg_str *)((char *)c->m + xm_fields[i].off);
		if (f->p != NULL)
			return XMLMSG_E_DUP;
		/* A field we read never has children. */
		if (!leaf)
			return XMLMSG_E_SYNTAX;
		if (len > xm_fields[i].max)
			return XMLMSG_E_LIMIT;
		if (xm_fields[i].flags & XF_DIGITS) {
			if (len == 0)
				return XMLMSG_E_NUMBER;
			for (j = start; j < c->m->used; j++)
				if (c->m->buf[j] < '0' || c->m->buf[j] > '9')
					return XMLMSG_E_NUMBER;
		}
		c->m->buf[c->m->used++] = '\0';
		f->p = c->m->buf + start;
		f->len = len;
		return XMLMSG_OK;
	}
	c->m->used = start;	/* not ours: drop its text */
	return XMLMSG_OK;
}

/* At '<' of a start tag: the element, its content and its end tag. */
static int
xm_element(struct xm_cur *c, int depth)
{
	size_t ns, nl, es, el, start = c->m->used;
	int rc, leaf = 1;

	if (depth > XMLMSG_DEPTH_MAX || ++c->elems > XMLMSG_ELEMS_MAX)
		return XMLMSG_E_LIMIT;
	c->pos++;
	if ((rc = xm_name(c, &ns, &nl)) != XMLMSG_OK)
		return rc;
	if (depth == 1 && (nl != 3 || memcmp(c->b + ns, "xml", 3) != 0))
		return XMLMSG_E_SYNTAX;
	xm_ws(c);
	if (xm_lit(c, "/>"))
		return depth == 2 ? xm_keep(c, c->b + ns, nl, start, 1) :
		    XMLMSG_OK;
	/* No attributes: WeChat and WeCom write none. */
	if (!xm_lit(c, ">"))
		return XMLMSG_E_SYNTAX;
	for (;;) {
		if ((rc = xm_text(c, depth)) != XMLMSG_OK)
			return rc;
		if (xm_lit(c, "</"))
			break;
		if (c->len - c->pos >= 2 && (c->b[c->pos + 1] == '!' ||
		    c->b[c->pos + 1] == '?'))
			return c->b[c->pos + 1] == '!' ? XMLMSG_E_DOCTYPE :
			    XMLMSG_E_SYNTAX;
		if ((rc = xm_element(c, depth + 1)) != XMLMSG_OK)
			return rc;
		leaf = 0;
	}
	if ((rc = xm_name(c, &es, &el)) != XMLMSG_OK)
		return rc;
	if (el != nl || memcmp(c->b + es, c->b + ns, nl) != 0)
		return XMLMSG_E_SYNTAX;
	xm_ws(c);
	if (!xm_lit(c, ">"))
		return XMLMSG_E_SYNTAX;
	if (depth == 2)
		return xm_keep(c, c->b + ns, nl, start, leaf);
	c->m->used = start;
	return XMLMSG_OK;
}

/* strtonum-style: digits only (checked), no overflow. */
static int
xm_number(const struct xmlmsg_str *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < s->len; i++) {
		if (v > (INT64_MAX - (s->p[i] - '0')) / 10)
			return XMLMSG_E_NUMBER;
		v = v * 10 + (s->p[i] - '0');
	}
	*out = v;
	return XMLMSG_OK;
}

/* Numbers and the type and event names, once the fields are in. */
static int
xm_finish(struct xmlmsg *m)
{
	size_t i;

	if (m->createtime.p != NULL &&
	    xm_number(&m->createtime, &m->createtime_n) != XMLMSG_OK)
		return XMLMSG_E_NUMBER;
	if (m->agentid.p != NULL &&
	    xm_number(&m->agentid, &m->agentid_n) != XMLMSG_OK)
		return XMLMSG_E_NUMBER;
	/* MsgId is 64-bit unsigned (D.6): 20 digits at most, kept as text. */
	if (m->msgid.p != NULL && m->msgid.len == NUM_MAX &&
	    strcmp(m->msgid.p, "18446744073709551615") > 0)
		return XMLMSG_E_NUMBER;
	if (m->msgtype.p != NULL) {
		m->type = XMLMSG_T_OTHER;
		for (i = 1; i < sizeof(xm_types) / sizeof(xm_types[0]); i++)
			if (strcmp(m->msgtype.p, xm_types[i]) == 0)
				m->type = (enum xmlmsg_type)i;
	}
	if (m->event.p != NULL) {
		m->ev = XMLMSG_EV_OTHER;
		for (i = 1; i < sizeof(xm_events) / sizeof(xm_events[0]); i++)
			if (strcasecmp(m->event.p, xm_events[i]) == 0)
				m->ev = (enum xmlmsg_event)i;
	}
	return XMLMSG_OK;
}

/*
 * The document: an optional declaration, comments, the <xml> root,
 * comments.  Decoded text is never longer than its source, and every
 * kept field adds one NUL for at least seven bytes of tags, so m->buf
 * of len + 1 bytes cannot overflow.
 */
int
xmlmsg_parse(const char *b, size_t len, struct xmlmsg *m)
{
	struct xm_cur c;
	size_t s;
	int rc;

	memset(m, 0, sizeof(*m));
	if (len > XMLMSG_BODY_MAX)
		return XMLMSG_E_LIMIT;
	memset(&c, 0, sizeof(c));
	c.b = b;
	c.len = len;
	c.m = m;
	m->bufsz = len + 1;
	m->buf = xmalloc(m->bufsz);
	if (xm_lit(&c, "<?xml") && (c.pos == c.len ||
	    strchr(" \t\r\n", c.b[c.pos]) == NULL ||
	    xm_until(&c, "?>", &s) != XMLMSG_OK)) {
		rc = XMLMSG_E_SYNTAX;
		goto out;
	}
	if ((rc = xm_misc(&c)) != XMLMSG_OK)
		goto out;
	if (c.pos == c.len || c.b[c.pos] != '<') {
		rc = XMLMSG_E_SYNTAX;
		goto out;
	}
	if ((rc = xm_element(&c, 1)) != XMLMSG_OK ||
	    (rc = xm_misc(&c)) != XMLMSG_OK)
		goto out;
	if (c.pos != c.len) {
		rc = XMLMSG_E_SYNTAX;
		goto out;
	}
	rc = xm_finish(m);
 out:
	if (rc != XMLMSG_OK)
		xmlmsg_clear(m);
	return rc;
}

void
xmlmsg_clear(struct xmlmsg *m)
{
	if (m->buf != NULL)
		freezero(m->buf, m->bufsz);
	memset(m, 0, sizeof(*m));
}

int
xmlmsg_check_envelope(const struct xmlmsg *m)
{
	return m->encrypt.p != NULL && m->encrypt.len > 0 ? XMLMSG_OK :
	    XMLMSG_E_MISSING;
}

/*
 * D.2: every message names both ends, a time and a type; a message
 * (not an event) has the MsgId the dedup keys on (C.9), a text its
 * Content, an event its Event.
 */
int
xmlmsg_check_message(const struct xmlmsg *m)
{
	if (m->to.p == NULL || m->from.p == NULL || m->createtime.p == NULL ||
	    m->msgtype.p == NULL)
		return XMLMSG_E_MISSING;
	if (m->type == XMLMSG_T_EVENT)
		return m->event.p != NULL ? XMLMSG_OK : XMLMSG_E_MISSING;
	if (m->msgid.p == NULL)
		return XMLMSG_E_MISSING;
	if (m->type == XMLMSG_T_TEXT && m->content.p == NULL)
		return XMLMSG_E_MISSING;
	return XMLMSG_OK;
}
