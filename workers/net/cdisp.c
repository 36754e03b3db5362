/*
 * The file name a media host gives its bytes in Content-Disposition
 * (protocols/wecom.md A.7 #1): the value is read whole against RFC
 * 6266's grammar, type *( ";" param ), and the name is taken from
 * filename*=UTF-8''pct-encoded (RFC 5987) first, then from filename=
 * as a token or a quoted-string.  The SDK percent-decodes both, and so
 * does this: a plain name with a bare "%" is refused, not guessed at.
 * A filename* in another charset is passed over for filename=.
 *
 * The name comes from a host we do not control and ends in the agent's
 * text and the store, so it is refused rather than repaired when it
 * holds NUL, a control byte or DEL, or is not UTF-8, and whatever
 * precedes its last "/" or "\" is cut so it can never name a path.
 * Pure: no I/O, no log; the caller says why with cdisp_strerror().
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "net/cdisp.h"

struct cd_cur {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

/* A parameter's value as read: a token or a quoted-string, unquoted. */
struct cd_val {
	char		 buf[CDISP_VALUE_MAX];
	size_t		 len;
	int		 seen;
	int		 quoted;
};

static const char *const cd_errs[CDISP_E_MAX] = {
	[CDISP_OK] = "ok",
	[CDISP_E_NONE] = "no filename parameter",
	[CDISP_E_LONG] = "too long",
	[CDISP_E_SYNTAX] = "not a Content-Disposition value",
	[CDISP_E_DUP] = "a filename parameter given twice",
	[CDISP_E_ESCAPE] = "a bad percent escape",
	[CDISP_E_BYTE] = "a control byte in the name",
	[CDISP_E_UTF8] = "the name is not UTF-8",
	[CDISP_E_EMPTY] = "no name once its directory is cut",
};

static int		 cd_tchar(unsigned char);
static int		 cd_attrchar(unsigned char);
static void		 cd_ows(struct cd_cur *);
static int		 cd_token(struct cd_cur *, const char **, size_t *);
static enum cdisp_err	 cd_value(struct cd_cur *, struct cd_val *);
static enum cdisp_err	 cd_params(struct cd_cur *, struct cd_val *,
			    struct cd_val *);
static enum cdisp_err	 cd_ext(const struct cd_val *, char *, size_t *,
			    int *);
static enum cdisp_err	 cd_pct(const char *, size_t, int, char *,
			    size_t *);
static int		 cd_utf8(const unsigned char *, size_t);
static enum cdisp_err	 cd_name(const char *, size_t, char *);

/* RFC 9110's tchar. */
static int
cd_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 5987's attr-char: a tchar but "*", "'" and "%". */
static int
cd_attrchar(unsigned char c)
{
	return cd_tchar(c) && c != '*' && c != '\'' && c != '%';
}

static void
cd_ows(struct cd_cur *c)
{
	while (c->off < c->len && (c->p[c->off] == ' ' ||
	    c->p[c->off] == '\t'))
		c->off++;
}

static int
cd_token(struct cd_cur *c, const char **s, size_t *n)
{
	size_t start = c->off;

	while (c->off < c->len && cd_tchar((unsigned char)c->p[c->off]))
		c->off++;
	*s = c->p + start;
	*n = c->off - start;
	return *n > 0 ? 0 : -1;
}

/* A token or a quoted-string (with its quoted-pairs) into v. */
static enum cdisp_err
cd_value(struct cd_cur *c, struct cd_val *v)
{
	const char *s;
	unsigned char ch;
	size_t n;

	v->len = 0;
	v->quoted = 0;
	if (c->off == c->len)
		return CDISP_E_SYNTAX;
	if (c->p[c->off] != '"') {
		if (cd_token(c, &s, &n) == -1)
			return CDISP_E_SYNTAX;
		/* The whole value is at most CDISP_VALUE_MAX: it fits. */
		memcpy(v->buf, s, n);
		v->len = n;
		return CDISP_OK;
	}
	v->quoted = 1;
	for (c->off++; c->off < c->len; c->off++) {
		ch = (unsigned char)c->p[c->off];
		if (ch == '"') {
			c->off++;
			return CDISP_OK;
		}
		if (ch == '\\') {
			if (++c->off == c->len)
				return CDISP_E_SYNTAX;
			ch = (unsigned char)c->p[c->off];
			if (ch != '\t' && (ch < ' ' || ch == 0x7f))
				return CDISP_E_SYNTAX;
		} else if (ch != '\t' && (ch < ' ' || ch == 0x7f))
			return CDISP_E_SYNTAX;
		v->buf[v->len++] = (char)ch;
	}
	return CDISP_E_SYNTAX;		/* no closing quote */
}

/*
 * The parameters after the type: filename and filename* kept, others
 * read for their syntax only.  Empty ones (";;", a ";" at the end)
 * are let by, as browsers do.
 */
static enum cdisp_err
cd_params(struct cd_cur *c, struct cd_val *fn, struct cd_val *fx)
{
	struct cd_val other, *v;
	enum cdisp_err e;
	const char *s;
	size_t n;

	for (;;) {
		cd_ows(c);
		if (c->off == c->len)
			return CDISP_OK;
		if (c->p[c->off] != ';')
			return CDISP_E_SYNTAX;
		c->off++;
		cd_ows(c);
		if (c->off == c->len || c->p[c->off] == ';')
			continue;
		if (cd_token(c, &s, &n) == -1)
			return CDISP_E_SYNTAX;
		if (n == 8 && strncasecmp(s, "filename", 8) == 0)
			v = fn;
		else if (n == 9 && strncasecmp(s, "filename*", 9) == 0)
			v = fx;
		else
			v = &other;
		if (v != &other && v->seen)
			return CDISP_E_DUP;
		v->seen = 1;
		cd_ows(c);
		if (c->off == c->len || c->p[c->off] != '=')
			return CDISP_E_SYNTAX;
		c->off++;
		cd_ows(c);
		if ((e = cd_value(c, v)) != CDISP_OK)
			return e;
	}
}

/*
 * filename*'s ext-value, charset'language'value-chars, decoded into
 * out.  *utf8 0: a charset other than UTF-8, passed over.
 */
static enum cdisp_err
cd_ext(const struct cd_val *v, char *out, size_t *outlen, int *utf8)
{
	const char *q1, *q2, *end = v->buf + v->len;
	size_t i;

	*utf8 = 0;
	if (v->quoted ||
	    (q1 = memchr(v->buf, '\'', v->len)) == NULL ||
	    (q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1))) == NULL)
		return CDISP_E_SYNTAX;
	for (i = 0; v->buf + i < q1; i++)
		if (!cd_attrchar((unsigned char)v->buf[i]))
			return CDISP_E_SYNTAX;
	if (q1 - v->buf != 5 || strncasecmp(v->buf, "UTF-8", 5) != 0)
		return CDISP_OK;
	*utf8 = 1;
	return cd_pct(q2 + 1, (size_t)(end - q2 - 1), 1, out, outlen);
}

/*
 * s[0, n) percent-decoded into out; strict: only attr-chars and
 * escapes (ext-value's value-chars), else any byte but "%".
 */
static enum cdisp_err
cd_pct(const char *s, size_t n, int strict, char *out, size_t *outlen)
{
	unsigned char ch;
	size_t i, o = 0;
	int b;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '%') {
			if ((b = hex_pct(s + i, n - i)) == -1)
				return CDISP_E_ESCAPE;
			ch = (unsigned char)b;
			i += 2;
		} else if (strict && !cd_attrchar(ch))
			return CDISP_E_SYNTAX;
		out[o++] = (char)ch;
	}
	*outlen = o;
	return CDISP_OK;
}

/* Well-formed UTF-8: no overlong forms, surrogates or past U+10FFFF. */
static int
cd_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned int cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return -1;
		if (n - i <= need)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1;
	}
	return 0;
}

/* The decoded name checked, its directory cut, into out. */
static enum cdisp_err
cd_name(const char *s, size_t n, char *out)
{
	size_t i, base = 0;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return CDISP_E_BYTE;
		if (s[i] == '/' || s[i] == '\\')
			base = i + 1;
	}
	if (cd_utf8((const unsigned char *)s, n) == -1)
		return CDISP_E_UTF8;
	s += base;
	n -= base;
	if (n == 0 || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return CDISP_E_EMPTY;
	if (n > CDISP_NAME_MAX)
		return CDISP_E_LONG;
	memcpy(out, s, n);
	out[n] = '\0';
	return CDISP_OK;
}

enum cdisp_err
cdisp_filename(const char *v, size_t len, char out[CDISP_NAME_MAX + 1])
{
	struct cd_val fn, fx;
	struct cd_cur c = { v, len, 0 };
	char dec[CDISP_VALUE_MAX];
	enum cdisp_err e;
	const char *s;
	size_t n;
	int utf8 = 0;

	out[0] = '\0';
	if (len > CDISP_VALUE_MAX)
		return CDISP_E_LONG;
	fn.seen = fx.seen = 0;
	cd_ows(&c);
	if (cd_token(&c, &s, &n) == -1)
		return CDISP_E_SYNTAX;
	if ((e = cd_params(&c, &fn, &fx)) != CDISP_OK)
		return e;
	if (fx.seen && (e = cd_ext(&fx, dec, &n, &utf8)) != CDISP_OK)
		return e;
	if (!utf8) {
		if (!fn.seen)
			return CDISP_E_NONE;
		if ((e = cd_pct(fn.buf, fn.len, 0, dec, &n)) != CDISP_OK)
			return e;
	}
	return cd_name(dec, n, out);
}

const char *
cdisp_strerror(enum cdisp_err e)
{
	if ((unsigned int)e >= CDISP_E_MAX)
		return "unknown error";
	return cd_errs[e];
}
