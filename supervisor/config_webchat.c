/*
 * The webchat: slice of the configuration, see wxgate.yaml(5).
 *
 * Called by cfg_build() in config.c, and by the supervisor for
 * config_slice_webchat() when it spawns a web chat worker.  The worker
 * gets its sizes and timeouts; the listen address, the pool size and
 * the agent never leave the supervisor.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "xmalloc.h"

#define CFG_DEFAULT_LISTEN	"127.0.0.1:8080"

#define WEB(f)	offsetof(struct raw_config, webchat.f), \
		offsetof(struct config, webchat.f)

/* Applied by cfg_build() before any slice, as one with the top level's. */
const struct cfg_num cfg_webchat_nums[] = {
	{ "webchat.workers",		   WEB(workers),
	    2, 1, 64 },
	/* One WebSocket message is buffered whole; a megabyte at most. */
	{ "webchat.max_frame",		   WEB(max_frame),
	    65536, 1024, 1048576 },
	/* Also at most max_frame; 32 KiB keeps agent prompts bounded. */
	{ "webchat.max_text",		   WEB(max_text),
	    16384, 1, 32768 },
	{ "webchat.max_header",		   WEB(max_header),
	    8192, 1024, 65536 },
	{ "webchat.max_conns",		   WEB(max_conns),
	    1024, 1, 65536 },
	/* Each turn is context the agent pays for. */
	{ "webchat.history_limit",	   WEB(history_limit),
	    20, 0, 100 },
	{ "webchat.idle_timeout_s",	   WEB(idle_timeout_s),
	    300, 5, 86400 },
	/* A visitor waits with the page open; past an hour nobody does. */
	{ "webchat.deadline_s",		   WEB(deadline_s),
	    120, 1, 3600 },
	/*
	 * From accept(), so a silent connection is as short-lived as a
	 * slow one; a real browser sends its head within a round trip.
	 */
	{ "webchat.head_timeout_s",	   WEB(head_timeout_s),
	    20, 1, 300 },
	/* A frame's bytes trickling in do not count as activity. */
	{ "webchat.frame_timeout_s",	   WEB(frame_timeout_s),
	    20, 1, 300 },
	/*
	 * Unsent output of all of a worker's connections: a thousand slow
	 * readers at ws.h's 1 MiB each would otherwise hold a gigabyte.
	 */
	{ "webchat.max_out_total",	   WEB(max_out_total),
	    64 * 1024 * 1024, 1024 * 1024, 1024 * 1024 * 1024 },
	{ NULL,				   0, 0, 0, 0, 0 }
};


/* A text that cannot fit in one frame could never be sent. */
int
cfg_webchat_sizes(struct cfg_ctx *ctx, const struct cfg_webchat *wc)
{
	if (wc->max_text > wc->max_frame) {
		cfg_error(ctx, "webchat.max_text", "%u exceeds max_frame (%u)",
		    wc->max_text, wc->max_frame);
		return -1;
	}
	return 0;
}

/* The numbers are in by now (cfg_webchat_nums); the words follow. */
int
cfg_webchat_build(struct cfg_ctx *ctx, const struct raw_webchat *rw,
    struct cfg_webchat *wc)
{
	wc->listen = xstrdup(rw->listen != NULL ? rw->listen :
	    CFG_DEFAULT_LISTEN);
	if (cfg_check_listen(wc->listen) == -1) {
		cfg_error(ctx, "webchat.listen", "\"%s\" is not IPv4:port or "
		    "[IPv6]:port with port 1..65535", wc->listen);
		return -1;
	}
	wc->agent = xstrdup(rw->agent != NULL ? rw->agent :
	    CFG_DEFAULT_AGENT);
	/* Behind a proxy the listen address is not what people open. */
	if (rw->public_url == NULL)
		xasprintf(&wc->public_url, "http://%s", wc->listen);
	else if (cfg_check_url(rw->public_url, 0) == -1 ||
	    rw->public_url[strlen(rw->public_url) - 1] == '/' ||
	    strlen(rw->public_url) > IPC_URL_MAX - 70) {
		cfg_error(ctx, "webchat.public_url", "must be an http:// or "
		    "https:// URL without a trailing /, at most %d bytes",
		    IPC_URL_MAX - 70);
		return -1;
	} else
		wc->public_url = xstrdup(rw->public_url);
	return 0;
}

char *
config_slice_webchat(const struct config *conf)
{
	const struct cfg_webchat *wc = &conf->webchat;

	/* Listen address, pool size and agent stay with the supervisor. */
	return cfg_dumps(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "max_frame", (json_int_t)wc->max_frame,
	    "max_text", (json_int_t)wc->max_text,
	    "max_header", (json_int_t)wc->max_header,
	    "max_conns", (json_int_t)wc->max_conns,
	    "idle_timeout_s", (json_int_t)wc->idle_timeout_s,
	    "head_timeout_s", (json_int_t)wc->head_timeout_s,
	    "frame_timeout_s", (json_int_t)wc->frame_timeout_s,
	    "max_out_total", (json_int_t)wc->max_out_total));
}

/*
 * "a.b.c.d:port" or "[v6]:port", port 1..65535, and nothing looser:
 * no host names (resolving is not the supervisor's business at load)
 * and no missing port.
 */
int
cfg_check_listen(const char *s)
{
	char host[CFG_LISTEN_MAX + 1];
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon, *port;
	unsigned long p;
	size_t hlen;
	int af;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		hlen = colon - (s + 1);
		port = colon + 2;
		af = AF_INET6;
		s++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hlen = colon - s;
		port = colon + 1;
		af = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(af, host, af == AF_INET ? (void *)&a4 : (void *)&a6) != 1)
		return -1;
	/* Digits only: strtoul would take "+80", " 80" and "0x50". */
	if (port[0] == '\0' || strlen(port) > 5 ||
	    strspn(port, "0123456789") != strlen(port))
		return -1;
	p = strtoul(port, NULL, 10);
	if (p < 1 || p > 65535)
		return -1;
	return 0;
}
