/*
 * HTTP request heads, parsed with http-parser and bounded by our limits,
 * and the responses the webchat worker writes.
 *
 * webchat.c feeds each connection's input through http_parse_feed() until
 * it says HTTP_DONE or HTTP_ERROR; the fuzz harness feeds arbitrary bytes.
 * This file keeps only the few headers routing and the WebSocket handshake
 * need, each in a fixed buffer, and never accepts a body: a request that
 * declares one is refused, so the worker never buffers uploads.  It must
 * not do I/O beyond appending to the evbuffer it is given.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <http_parser.h>

#include "http.h"

/* The headers we keep, and where; every other header is only counted. */
struct http_slot {
	const char	*name;
	size_t		 off;
	size_t		 max;
};

static int	http_on_begin(http_parser *);
static int	http_on_url(http_parser *, const char *, size_t);
static int	http_on_field(http_parser *, const char *, size_t);
static int	http_on_value(http_parser *, const char *, size_t);
static int	http_on_headers(http_parser *);
static int	http_on_complete(http_parser *);
static int	http_on_body(http_parser *, const char *, size_t);
static int	http_fail(struct http_parse *, int);
static void	http_header_end(struct http_parse *);

static const struct http_slot http_slots[] = {
#define SLOT(n, f)	{ n, offsetof(struct http_req, f), HTTP_VALUE_MAX }
	SLOT("upgrade",			h_upgrade),
	SLOT("connection",		h_connection),
	SLOT("sec-websocket-key",	h_ws_key),
	SLOT("sec-websocket-version",	h_ws_version),
	SLOT("x-forwarded-for",		h_forwarded),
	{ "cookie", offsetof(struct http_req, h_cookie), HTTP_COOKIE_MAX },
	SLOT("origin",			h_origin),
	SLOT("host",			h_host),
	SLOT("x-csrf-token",		h_csrf),
	SLOT("sec-fetch-site",		h_fetch_site),
#undef SLOT
	{ NULL,			 0,	0 }
};

static const http_parser_settings http_settings = {
	.on_message_begin = http_on_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_field,
	.on_header_value = http_on_value,
	.on_headers_complete = http_on_headers,
	.on_body = http_on_body,
	.on_message_complete = http_on_complete,
};

static const struct {
	int		 status;
	const char	*reason;
} http_reasons[] = {
	{ 101, "Switching Protocols" },
	{ 200, "OK" },
	{ 303, "See Other" },
	{ 401, "Unauthorized" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 426, "Upgrade Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
	{ 505, "HTTP Version Not Supported" },
	{ 0, NULL }
};

/*
 * Sent with every response.  The page loads its script and style from
 * separate routes, so nothing inline is needed and the CSP can forbid it.
 * Its one form is sent by script over the WebSocket, never submitted,
 * so form-action forbids every target; base-uri keeps an injected
 * <base> from moving the page's relative URLs elsewhere.
 */
static const char http_common_headers[] =
    "Content-Security-Policy: default-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cache-Control: no-cache\r\n";

void
http_parse_init(struct http_parse *hp, struct http_req *req,
    size_t max_header)
{
	memset(hp, 0, sizeof(*hp));
	memset(req, 0, sizeof(*req));
	http_parser_init(&hp->p, HTTP_REQUEST);
	hp->p.data = hp;
	hp->req = req;
	hp->max_header = max_header;
}

void
http_parse_body(struct http_parse *hp, char *buf, size_t max)
{
	hp->body = buf;
	hp->body_max = max;
}

/*
 * Feed what in holds, a contiguous chunk at a time, draining what the
 * parser took: past HTTP_DONE the rest stays in (the next request, or
 * WebSocket frames after an upgrade).
 */
enum http_result
http_parse_evbuffer(struct http_parse *hp, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	enum http_result r = HTTP_MORE;
	size_t used;

	while (r == HTTP_MORE && evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		r = http_parse_feed(hp, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (used == 0 && r == HTTP_MORE)
			break;
	}
	return r;
}

/*
 * Feed bytes.  On HTTP_DONE *used says how many belong to the head; the
 * rest is the next request or, after an upgrade, WebSocket frames.
 */
enum http_result
http_parse_feed(struct http_parse *hp, const char *buf, size_t len,
    size_t *used)
{
	enum http_errno err;
	size_t n;

	*used = 0;
	if (hp->status != 0)
		return HTTP_ERROR;
	n = http_parser_execute(&hp->p, &http_settings, buf, len);
	err = HTTP_PARSER_ERRNO(&hp->p);
	*used = n;
	hp->nread += n;
	if (hp->status != 0)
		return HTTP_ERROR;
	/*
	 * Counted after the fact: http-parser has consumed at most len.
	 * A body is bounded by body_max instead.
	 */
	if (hp->nread > hp->max_header + hp->req->body_len) {
		hp->status = 431;
		return HTTP_ERROR;
	}
	if (hp->done)
		return HTTP_DONE;
	if (err != HPE_OK) {
		hp->status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
		return HTTP_ERROR;
	}
	if (n != len) {
		/* http-parser stops early only on error or completion. */
		hp->status = 400;
		return HTTP_ERROR;
	}
	return HTTP_MORE;
}

static int
http_fail(struct http_parse *hp, int status)
{
	hp->status = status;
	return -1;
}

static int
http_on_begin(http_parser *p)
{
	struct http_parse *hp = p->data;

	/* Keep-alive reinitialises per request; a second head is a bug. */
	if (hp->done)
		return http_fail(hp, 400);
	return 0;
}

static int
http_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_parse *hp = p->data;

	if (len > HTTP_URL_MAX - hp->url_len)
		return http_fail(hp, 414);
	memcpy(hp->url + hp->url_len, at, len);
	hp->url_len += len;
	hp->url[hp->url_len] = '\0';
	return 0;
}

static int
http_on_field(http_parser *p, const char *at, size_t len)
{
	struct http_parse *hp = p->data;
	size_t take;

	if (hp->in_value || hp->nheaders == 0) {
		if (hp->in_value)
			http_header_end(hp);
		if (++hp->nheaders > HTTP_HEADERS_MAX)
			return http_fail(hp, 431);
		hp->name_len = 0;
		hp->in_value = 0;
	}
	/* A name longer than any we keep is kept truncated: never a match. */
	take = len;
	if (take > HTTP_NAME_MAX - hp->name_len)
		take = HTTP_NAME_MAX - hp->name_len;
	memcpy(hp->name + hp->name_len, at, take);
	hp->name_len += take;
	hp->name[hp->name_len] = '\0';
	if (take < len)
		hp->name[0] = '\0';
	return 0;
}

static int
http_on_value(http_parser *p, const char *at, size_t len)
{
	struct http_parse *hp = p->data;
	const struct http_slot *s;
	size_t cur;

	if (!hp->in_value) {
		hp->in_value = 1;
		hp->value = NULL;
		/* Counted, not kept: only its presence and uniqueness matter. */
		if (strcasecmp(hp->name, "host") == 0)
			hp->nhost++;
		for (s = http_slots; s->name != NULL; s++)
			if (strcasecmp(hp->name, s->name) == 0)
				break;
		if (s->name == NULL)
			return 0;
		hp->value = (char *)hp->req + s->off;
		hp->value_max = s->max;
		/*
		 * A repeated header joins the first with a comma (RFC 9110);
		 * cookies with "; " (RFC 6265 5.4).
		 */
		cur = strlen(hp->value);
		if (cur > 0) {
			if (cur + 2 > hp->value_max)
				return http_fail(hp, 431);
			memcpy(hp->value + cur, s->max == HTTP_COOKIE_MAX ?
			    "; " : ", ", 3);
		}
	}
	if (hp->value == NULL)
		return 0;
	cur = strlen(hp->value);
	if (len > hp->value_max - cur)
		return http_fail(hp, 431);
	memcpy(hp->value + cur, at, len);
	hp->value[cur + len] = '\0';
	return 0;
}

static void
http_header_end(struct http_parse *hp)
{
	hp->value = NULL;
}

static int
http_on_headers(http_parser *p)
{
	struct http_parse *hp = p->data;
	struct http_req *req = hp->req;
	struct http_parser_url u;
	uint16_t off, len;

	http_header_end(hp);
	/* No uploads: the webchat worker has nothing to do with a body. */
	if (hp->body == NULL && ((p->flags & F_CHUNKED) ||
	    ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)))
		return http_fail(hp, 413);
	/*
	 * A body's size is known before a byte of it is read: nothing is
	 * buffered that could not be taken whole.
	 */
	if (hp->body != NULL && p->method == HTTP_POST &&
	    (!(p->flags & F_CONTENTLENGTH) || (p->flags & F_CHUNKED)))
		return http_fail(hp, 411);
	if (hp->body != NULL && (p->flags & F_CONTENTLENGTH) &&
	    p->content_length > hp->body_max)
		return http_fail(hp, 413);

	req->method = p->method;
	req->major = p->http_major;
	req->minor = p->http_minor;
	req->upgrade = p->upgrade;
	/* http-parser takes any digits; we speak 1.x only. */
	if (req->major != 1)
		return http_fail(hp, 505);
	/*
	 * RFC 9112 3.2: a 1.1 request without Host, or with more than one,
	 * is answered 400; two could name different hosts to us and to a
	 * proxy in front of us.
	 */
	if (hp->nhost > 1 || (req->minor >= 1 && hp->nhost == 0))
		return http_fail(hp, 400);

	http_parser_url_init(&u);
	if (hp->url_len == 0 ||
	    http_parser_parse_url(hp->url, hp->url_len, 0, &u) != 0)
		return http_fail(hp, 400);
	if (u.field_set & (1 << UF_PATH)) {
		off = u.field_data[UF_PATH].off;
		len = u.field_data[UF_PATH].len;
		memcpy(req->path, hp->url + off, len);
		req->path[len] = '\0';
	} else
		memcpy(req->path, "/", 2);
	if (u.field_set & (1 << UF_QUERY)) {
		off = u.field_data[UF_QUERY].off;
		len = u.field_data[UF_QUERY].len;
		memcpy(req->query, hp->url + off, len);
		req->query[len] = '\0';
	}
	/* Routing compares paths; anything not rooted is malformed. */
	if (req->path[0] != '/')
		return http_fail(hp, 400);
	return 0;
}

static int
http_on_body(http_parser *p, const char *at, size_t len)
{
	struct http_parse *hp = p->data;

	/* Content-Length was checked against body_max: this is defence. */
	if (hp->body == NULL || len > hp->body_max - hp->req->body_len)
		return http_fail(hp, 413);
	memcpy(hp->body + hp->req->body_len, at, len);
	hp->req->body_len += len;
	return 0;
}

static int
http_on_complete(http_parser *p)
{
	struct http_parse *hp = p->data;

	hp->done = 1;
	hp->req->keep_alive = http_should_keep_alive(p);
	/* Stop right after this head; the caller drains what was used. */
	http_parser_pause(p, 1);
	return 0;
}

const char *
http_reason(int status)
{
	size_t i;

	for (i = 0; http_reasons[i].reason != NULL; i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	return "Unknown";
}

/* Is token in a comma-separated header list (case-insensitive)? */
int
http_token_has(const char *list, const char *token)
{
	size_t tlen = strlen(token), n;
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(p, token, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

void
http_response(struct evbuffer *out, int status, const char *ctype,
    const void *body, size_t len, int flags)
{
	http_response_x(out, status, ctype, NULL, body, len, flags);
}

void
http_response_x(struct evbuffer *out, int status, const char *ctype,
    const char *extra, const void *body, size_t len, int flags)
{
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    http_reason(status));
	evbuffer_add(out, http_common_headers,
	    sizeof(http_common_headers) - 1);
	if (flags & HTTP_R_NOSTORE)
		evbuffer_add_printf(out, "Cache-Control: no-store\r\n");
	if (extra != NULL)
		evbuffer_add(out, extra, strlen(extra));
	/* The caller's own Allow, when it serves other methods. */
	if (status == 405 && (extra == NULL || strstr(extra, "Allow:") == NULL))
		evbuffer_add_printf(out, "Allow: GET\r\n");
	/* RFC 6455 4.4: say which version we speak. */
	if (status == 426)
		evbuffer_add_printf(out, "Sec-WebSocket-Version: 13\r\n");
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	evbuffer_add_printf(out,
	    "Content-Length: %zu\r\nConnection: %s\r\n\r\n", len,
	    (flags & HTTP_R_CLOSE) ? "close" : "keep-alive");
	if (len > 0)
		evbuffer_add(out, body, len);
}
