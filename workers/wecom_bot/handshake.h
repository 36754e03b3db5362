/*
 * The client side of the RFC 6455 opening handshake for the WeCom AI
 * bot's long connection: the URL, the upgrade request and the check of
 * the server's answer.  Pure: strings in, strings out.
 */
#ifndef WX_WECOM_HANDSHAKE_H
#define WX_WECOM_HANDSHAKE_H

#include <stddef.h>

#define WSH_HOST_MAX	255
#define WSH_PATH_MAX	512
/* The server's answer head; past it the handshake fails. */
#define WSH_HEAD_MAX	8192
#define WSH_KEY_LEN	24	/* base64 of 16 random bytes */

struct wsh_url {
	int	 tls;
	char	 host[WSH_HOST_MAX + 1];	/* without IPv6 brackets */
	char	 port[6];
	char	 path[WSH_PATH_MAX + 1];
	int	 v6;				/* the host is [addr] */
};

int	wsh_url_parse(const char *, struct wsh_url *);
/* The GET request; NUL-terminated into buf, -1 if it does not fit. */
int	wsh_request(const struct wsh_url *, const char key[WSH_KEY_LEN + 1],
	    char *buf, size_t size);
/*
 * The answer head (up to and including the blank line): 0 when it is
 * a 101 upgrade answering key, else -1 with *why set.
 */
int	wsh_check(const char *head, size_t len,
	    const char key[WSH_KEY_LEN + 1], const char **why);

#endif
