/*
 * The webchat: slice of the configuration, see wxgate.yaml(5).
 *
 * Called by cfg_build() in config.c, and by the supervisor for
 * config_slice_webchat() when it spawns a web chat worker.  The worker
 * gets its sizes and timeouts and the page's texts (webchat.page); the
 * listen address, the pool size and the agent never leave the
 * supervisor.  The agent's avatar is read by root as a public file
 * (conf_file.c) and travels in the slice, so the worker, which can open
 * no file, serves it from memory.
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

#include "b64.h"
#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "sniff.h"
#include "xmalloc.h"

#define CFG_DEFAULT_LISTEN	"127.0.0.1:8080"

/*
 * webchat.page text limits in bytes (UTF-8: a Chinese character is 3).
 * A header line, a bubble and a footer on a phone; more is an essay.
 */
#define CFG_PAGE_TITLE_MAX	120
#define CFG_PAGE_NAME_MAX	60
#define CFG_PAGE_WELCOME_MAX	2000
#define CFG_PAGE_SUGGEST_MAX	150	/* one button's label */
#define CFG_PAGE_FOOTER_MAX	1000
/*
 * A header's small picture.  Base64 in the slice, beside the page's
 * texts at their limits, it still fits IPC_CONF_MAX.
 */
#define CFG_PAGE_AVATAR_MAX	(12 * 1024)

/* WCAG 2.1 AA for normal text: the Send button's white on the accent. */
#define CFG_PAGE_CONTRAST_MIN	4.5

/* One webchat.page string: where it is, its limit, lines allowed. */
struct cfg_page_text {
	const char	*name;
	size_t		 raw;		/* offset in struct raw_page */
	size_t		 out;		/* offset in struct cfg_page */
	size_t		 max;
	int		 lines;		/* \n allowed */
};

#define PAGE(f)	offsetof(struct raw_page, f), offsetof(struct cfg_page, f)

static const struct cfg_page_text cfg_page_texts[] = {
	{ "title",	PAGE(title),	  CFG_PAGE_TITLE_MAX,	0 },
	{ "agent_name",	PAGE(agent_name), CFG_PAGE_NAME_MAX,	0 },
	{ "welcome",	PAGE(welcome),	  CFG_PAGE_WELCOME_MAX,	1 },
	{ "footer",	PAGE(footer),	  CFG_PAGE_FOOTER_MAX,	1 },
	{ NULL,		0, 0,		  0,			0 }
};

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

static int	 cfg_webchat_page(struct cfg_ctx *, const struct raw_page *,
		    struct cfg_page *);
static int	 cfg_page_text(struct cfg_ctx *, const char *, const char *,
		    size_t, int);
static int	 cfg_page_accent(struct cfg_ctx *, const char *);
static int	 cfg_page_avatar(struct cfg_ctx *, const char *,
		    struct cfg_page *);
static double	 cfg_page_luminance(const char *);
static double	 cfg_page_pow24(double);
static json_t	*cfg_page_json(const struct cfg_page *);

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
	return cfg_webchat_page(ctx, &rw->page, &wc->page);
}

void
cfg_webchat_free(struct cfg_webchat *wc)
{
	unsigned i;

	free(wc->listen);
	free(wc->public_url);
	free(wc->agent);
	free(wc->page.title);
	free(wc->page.agent_name);
	free(wc->page.welcome);
	for (i = 0; i < wc->page.suggestions_count; i++)
		free(wc->page.suggestions[i]);
	free(wc->page.accent);
	free(wc->page.footer);
	free(wc->page.lang);
	free(wc->page.avatar);
}

/*
 * webchat.page: every string is checked here, so the page can trust
 * its shape (it still renders them as text only).
 */
static int
cfg_webchat_page(struct cfg_ctx *ctx, const struct raw_page *rp,
    struct cfg_page *pg)
{
	const struct cfg_page_text *t;
	char field[CFG_KEYPATH_MAX];
	const char *s;
	unsigned i;

	for (t = cfg_page_texts; t->name != NULL; t++) {
		s = *(char *const *)((const char *)rp + t->raw);
		if (s == NULL)
			continue;
		snprintf(field, sizeof(field), "webchat.page.%s", t->name);
		if (cfg_page_text(ctx, field, s, t->max, t->lines) == -1)
			return -1;
		*(char **)((char *)pg + t->out) = xstrdup(s);
	}
	if (rp->suggestions_count > CFG_PAGE_SUGGESTIONS_MAX) {
		cfg_error(ctx, "webchat.page.suggestions", "%u given, at most "
		    "%d", rp->suggestions_count, CFG_PAGE_SUGGESTIONS_MAX);
		return -1;
	}
	for (i = 0; i < rp->suggestions_count; i++) {
		snprintf(field, sizeof(field), "webchat.page.suggestions[%u]",
		    i);
		if (cfg_page_text(ctx, field, rp->suggestions[i],
		    CFG_PAGE_SUGGEST_MAX, 0) == -1)
			return -1;
		pg->suggestions[i] = xstrdup(rp->suggestions[i]);
		pg->suggestions_count = i + 1;
	}
	if (rp->accent != NULL) {
		if (cfg_page_accent(ctx, rp->accent) == -1)
			return -1;
		pg->accent = xstrdup(rp->accent);
	}
	if (rp->lang != NULL) {
		if (strcmp(rp->lang, "zh") != 0 &&
		    strcmp(rp->lang, "en") != 0) {
			cfg_error(ctx, "webchat.page.lang", "\"%s\" is not zh "
			    "or en", rp->lang);
			return -1;
		}
		pg->lang = xstrdup(rp->lang);
	}
	if (rp->avatar != NULL)
		return cfg_page_avatar(ctx, rp->avatar, pg);
	return 0;
}

/*
 * An image by its magic numbers, as the console's previews: the page
 * serves it with the type its bytes say, never one the file name
 * suggests.  The hub's copy does not read it; nothing of the hub's
 * shows it.
 */
static int
cfg_page_avatar(struct cfg_ctx *ctx, const char *path, struct cfg_page *pg)
{
	if (ctx->flags & CFG_F_HUB)
		return 0;
	if (cfg_public_read(ctx, "webchat.page.avatar", path,
	    CFG_PAGE_AVATAR_MAX, &pg->avatar, &pg->avatarlen) == -1)
		return -1;
	if (sniff_image(pg->avatar, pg->avatarlen) == NULL) {
		cfg_error(ctx, "webchat.page.avatar", "%s is not a PNG, JPEG, "
		    "GIF or WebP image", path);
		free(pg->avatar);
		pg->avatar = NULL;
		return -1;
	}
	return 0;
}

/*
 * 0 if s may be shown as field, else -1 with the reason.  libyaml has
 * already refused text that is not UTF-8.  Control characters would be
 * invisible or garble the page: none but a line break, and that only
 * where lines are allowed.
 */
static int
cfg_page_text(struct cfg_ctx *ctx, const char *field, const char *s,
    size_t max, int lines)
{
	const unsigned char *p;

	if (*s == '\0') {
		cfg_error(ctx, field, "must not be empty");
		return -1;
	}
	if (strlen(s) > max) {
		cfg_error(ctx, field, "%zu bytes, at most %zu", strlen(s), max);
		return -1;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n' && lines)
			continue;
		if (*p < 0x20 || *p == 0x7f) {
			cfg_error(ctx, field, "has a %s (byte 0x%02x)",
			    *p == '\n' ? "line break" : "control character",
			    *p);
			return -1;
		}
	}
	return 0;
}

/*
 * "#rrggbb" whose contrast with white text reaches WCAG AA, since the
 * page puts the Send button's white label on it.
 */
static int
cfg_page_accent(struct cfg_ctx *ctx, const char *s)
{
	double ratio;

	if (strlen(s) != 7 || s[0] != '#' ||
	    strspn(s + 1, "0123456789abcdefABCDEF") != 6) {
		cfg_error(ctx, "webchat.page.accent", "\"%s\" is not a colour "
		    "#rrggbb", s);
		return -1;
	}
	/* White's relative luminance is 1. */
	ratio = (1.0 + 0.05) / (cfg_page_luminance(s) + 0.05);
	if (ratio < CFG_PAGE_CONTRAST_MIN) {
		cfg_error(ctx, "webchat.page.accent", "%s has contrast %.2f:1 "
		    "with white text, under WCAG AA's %.1f:1; choose a darker "
		    "colour", s, ratio, CFG_PAGE_CONTRAST_MIN);
		return -1;
	}
	return 0;
}

/* WCAG 2.1 relative luminance of "#rrggbb" (already checked). */
static double
cfg_page_luminance(const char *s)
{
	static const double w[3] = { 0.2126, 0.7152, 0.0722 };
	double c, y = 0;
	char hex[3];
	int i;

	for (i = 0; i < 3; i++) {
		hex[0] = s[1 + 2 * i];
		hex[1] = s[2 + 2 * i];
		hex[2] = '\0';
		c = strtol(hex, NULL, 16) / 255.0;
		c = c <= 0.04045 ? c / 12.92 : cfg_page_pow24((c + 0.055) /
		    1.055);
		y += w[i] * c;
	}
	return y;
}

/*
 * x^2.4 for x in (0, 1]: x^2 times the fifth root of x^2, by Newton's
 * method, so the daemon need not link libm for one check at load.
 */
static double
cfg_page_pow24(double x)
{
	double y = x * x, r = 1.0;
	int i;

	for (i = 0; i < 60; i++)
		r -= (r * r * r * r * r - y) / (5 * r * r * r * r);
	return y * r;
}

/* The page's part of the worker's slice: only what was given. */
static json_t *
cfg_page_json(const struct cfg_page *pg)
{
	json_t *o, *a;
	unsigned i;

	o = json_object();
	if (pg->title != NULL)
		json_object_set_new(o, "title", json_string(pg->title));
	if (pg->agent_name != NULL)
		json_object_set_new(o, "agent_name",
		    json_string(pg->agent_name));
	if (pg->welcome != NULL)
		json_object_set_new(o, "welcome", json_string(pg->welcome));
	if (pg->suggestions_count > 0) {
		a = json_array();
		for (i = 0; i < pg->suggestions_count; i++)
			json_array_append_new(a,
			    json_string(pg->suggestions[i]));
		json_object_set_new(o, "suggestions", a);
	}
	if (pg->accent != NULL)
		json_object_set_new(o, "accent", json_string(pg->accent));
	if (pg->footer != NULL)
		json_object_set_new(o, "footer", json_string(pg->footer));
	if (pg->lang != NULL)
		json_object_set_new(o, "lang", json_string(pg->lang));
	return o;
}

/* The avatar's bytes in base64, or NULL for none. */
static json_t *
cfg_page_avatar_json(const struct cfg_page *pg)
{
	json_t *v;
	char *b;

	if (pg->avatar == NULL)
		return NULL;
	b = xmalloc(B64_LEN(pg->avatarlen) + 1);
	b64_encode((const uint8_t *)pg->avatar, pg->avatarlen, b);
	v = json_string(b);
	free(b);
	return v;
}

char *
config_slice_webchat(const struct config *conf)
{
	const struct cfg_webchat *wc = &conf->webchat;

	/* Listen address, pool size and agent stay with the supervisor. */
	return cfg_dumps(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:o, s:o*}",
	    "max_frame", (json_int_t)wc->max_frame,
	    "max_text", (json_int_t)wc->max_text,
	    "max_header", (json_int_t)wc->max_header,
	    "max_conns", (json_int_t)wc->max_conns,
	    "idle_timeout_s", (json_int_t)wc->idle_timeout_s,
	    "head_timeout_s", (json_int_t)wc->head_timeout_s,
	    "frame_timeout_s", (json_int_t)wc->frame_timeout_s,
	    "max_out_total", (json_int_t)wc->max_out_total,
	    "page", cfg_page_json(&wc->page),
	    "avatar", cfg_page_avatar_json(&wc->page)));
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
