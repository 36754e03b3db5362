/*
 * HTTP/1.1 request heads for the webchat worker: an incremental parser on
 * top of http-parser that stops at the end of one request head, and the
 * response writer.  The callback worker (workers/callback/) also takes a
 * bounded body: http_parse_body().  No sockets, no IPC: fuzzed by
 * fuzz_http_request.c.
 */
#ifndef WX_WEBCHAT_HTTP_H
#define WX_WEBCHAT_HTTP_H

#include <stddef.h>

#include <http_parser.h>

struct evbuffer;

#define HTTP_URL_MAX		1024	/* request target; longer gets 414 */
#define HTTP_NAME_MAX		64	/* longer header names are not ours */
#define HTTP_VALUE_MAX		256	/* a header we keep; longer gets 431 */
#define HTTP_HEADERS_MAX	64	/* header lines; more gets 431 */
/* Cookie: other sites on a loopback host share it with the console. */
#define HTTP_COOKIE_MAX		2048

/* One parsed request head: only what routing and the WS handshake use. */
struct http_req {
	unsigned int	 method;	/* enum http_method */
	unsigned short	 major;
	unsigned short	 minor;
	int		 keep_alive;
	int		 upgrade;	/* Upgrade + Connection: upgrade */
	char		 path[HTTP_URL_MAX + 1];
	char		 h_upgrade[HTTP_VALUE_MAX + 1];
	char		 h_connection[HTTP_VALUE_MAX + 1];
	char		 h_ws_key[HTTP_VALUE_MAX + 1];
	char		 h_ws_version[HTTP_VALUE_MAX + 1];
	/* Passed on as is; only the supervisor knows whom to believe. */
	char		 h_forwarded[HTTP_VALUE_MAX + 1];	/* X-F-F */
	/* The operator console's (workers/console/): its session. */
	char		 h_cookie[HTTP_COOKIE_MAX + 1];
	char		 h_origin[HTTP_VALUE_MAX + 1];
	char		 h_host[HTTP_VALUE_MAX + 1];
	char		 h_csrf[HTTP_VALUE_MAX + 1];	/* X-CSRF-Token */
	char		 h_fetch_site[HTTP_VALUE_MAX + 1];	/* Sec-Fetch-Site */
	/* The raw query (no '?'), "" when none; decoded by its user. */
	char		 query[HTTP_URL_MAX + 1];
	/* With http_parse_body(): the body, body_len bytes of body_max. */
	size_t		 body_len;
};

enum http_result {
	HTTP_MORE,		/* every byte consumed, head not complete */
	HTTP_DONE,		/* head complete; *used bytes belong to it */
	HTTP_ERROR		/* send hp->status and close */
};

struct http_parse {
	http_parser	 p;
	struct http_req	*req;
	size_t		 max_header;
	size_t		 nread;		/* bytes of this head so far */
	size_t		 nheaders;
	size_t		 nhost;		/* Host header lines */
	int		 status;	/* error to answer with */
	int		 done;
	int		 in_value;	/* last callback was a value */
	char		 url[HTTP_URL_MAX + 1];
	size_t		 url_len;
	char		 name[HTTP_NAME_MAX + 1];
	size_t		 name_len;
	char		*value;		/* slot of the current header or NULL */
	size_t		 value_max;	/* its size, NUL excluded */
	size_t		 value_len;
	int		 value_fresh;
	char		*body;		/* http_parse_body()'s buffer, or NULL */
	size_t		 body_max;
};

void		 http_parse_init(struct http_parse *, struct http_req *,
		    size_t max_header);
/*
 * Accept a body of at most max bytes into buf (the caller's): it needs
 * a Content-Length (411 without, 413 past max; chunked is 411 too), and
 * HTTP_DONE comes when it is all in, req->body_len bytes.
 */
void		 http_parse_body(struct http_parse *, char *buf, size_t max);
enum http_result http_parse_feed(struct http_parse *, const char *, size_t,
		    size_t *used);
/* http_parse_feed() over a connection's input, drained as it goes. */
enum http_result http_parse_evbuffer(struct http_parse *, struct evbuffer *);

#define HTTP_R_CLOSE	0x01	/* Connection: close */
#define HTTP_R_NOSTORE	0x02	/* Cache-Control: no-store */

const char	*http_reason(int status);
void		 http_response(struct evbuffer *, int status, const char *ctype,
		    const void *body, size_t len, int flags);
/* http_response() with extra header lines ("Name: value\r\n"...). */
void		 http_response_x(struct evbuffer *, int status,
		    const char *ctype, const char *extra, const void *body,
		    size_t len, int flags);
int		 http_token_has(const char *list, const char *token);

#endif
