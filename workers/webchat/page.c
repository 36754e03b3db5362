/*
 * Routes for the chat page's static files.  Called by webchat.c for
 * every GET that is not /healthz or /ws; the bytes themselves live in the
 * generated assets.c.  The script and style are separate routes so the
 * Content-Security-Policy can forbid inline code.
 *
 * /page.json is the operator's webchat.page (title, welcome, colours),
 * taken from the worker's config slice before the sandbox by
 * page_config() and served as data: chat.js puts it in the page as text
 * only, so nothing here is ever markup.  /avatar is the agent's picture,
 * from the slice too, served as the type its bytes say; page.json then
 * says "avatar": true.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "log.h"
#include "page.h"
#include "sniff.h"

/* supervisor/config_webchat.c's limits, checked again here. */
#define PAGE_SUGGESTIONS_MAX	4
#define PAGE_TEXT_MAX		2000	/* the longest, welcome */
/* The whole document: every field at its limit fits with room. */
#define PAGE_JSON_MAX		16384
/* supervisor/config_webchat.c's CFG_PAGE_AVATAR_MAX. */
#define PAGE_AVATAR_MAX		(12 * 1024)

static int	page_config_check(json_t *);

static const struct page_asset page_assets[] = {
	{ "/",		 "text/html; charset=utf-8",
	  asset_index_html, &asset_index_html_len },
	{ "/index.html", "text/html; charset=utf-8",
	  asset_index_html, &asset_index_html_len },
	{ "/chat.js",	 "text/javascript; charset=utf-8",
	  asset_chat_js, &asset_chat_js_len },
	{ "/chat.css",	 "text/css; charset=utf-8",
	  asset_chat_css, &asset_chat_css_len },
	/* The binding page: served at /bind/<token> once the hub says. */
	{ "/bind.html",	 "text/html; charset=utf-8",
	  asset_bind_html, &asset_bind_html_len },
	{ "/bind.js",	 "text/javascript; charset=utf-8",
	  asset_bind_js, &asset_bind_js_len },
	{ "/bind.css",	 "text/css; charset=utf-8",
	  asset_bind_css, &asset_bind_css_len },
	{ "/favicon.svg", "image/svg+xml",
	  asset_favicon_svg, &asset_favicon_svg_len },
	/* Browsers ask for it whatever the page says; SVG is fine. */
	{ "/favicon.ico", "image/svg+xml",
	  asset_favicon_svg, &asset_favicon_svg_len },
	{ NULL,		 NULL, NULL, NULL }
};

/* "{}" until page_config() says otherwise: the page keeps its own. */
static unsigned char	page_json[PAGE_JSON_MAX] = "{}";
static size_t		page_json_len = 2;
static const struct page_asset page_json_asset = {
	"/page.json", "application/json; charset=utf-8",
	page_json, &page_json_len
};
static unsigned char	page_avatar[PAGE_AVATAR_MAX];
static size_t		page_avatar_len;
static struct page_asset page_avatar_asset = {
	"/avatar", NULL, page_avatar, &page_avatar_len
};

static int	page_avatar_set(json_t *);

const struct page_asset *
page_find(const char *path)
{
	const struct page_asset *a;

	if (strcmp(path, page_json_asset.path) == 0)
		return &page_json_asset;
	if (page_avatar_asset.ctype != NULL &&
	    strcmp(path, page_avatar_asset.path) == 0)
		return &page_avatar_asset;
	for (a = page_assets; a->path != NULL; a++)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}

/*
 * The slice's "page" object and "avatar" string, either NULL for none:
 * 0, or -1 if malformed.
 */
int
page_config(json_t *conf, json_t *avatar)
{
	size_t n;

	if (avatar != NULL && page_avatar_set(avatar) == -1)
		return -1;
	if (conf == NULL && avatar == NULL)
		return 0;
	if (conf == NULL)
		conf = json_object();
	else if (page_config_check(conf) == -1)
		return -1;
	else
		json_incref(conf);
	if (avatar != NULL)
		json_object_set_new(conf, "avatar", json_true());
	n = json_dumpb(conf, (char *)page_json, sizeof(page_json),
	    JSON_COMPACT);
	json_decref(conf);
	if (n == 0 || n > sizeof(page_json)) {
		log_warnx("%s: page config does not fit %d bytes", __func__,
		    PAGE_JSON_MAX);
		return -1;
	}
	page_json_len = n;
	return 0;
}

/* Base64 of an image, checked by its magic numbers again. */
static int
page_avatar_set(json_t *v)
{
	const char *s = json_string_value(v), *type;
	int n;

	if (s == NULL || (n = b64_decode(s, json_string_length(v), 0,
	    page_avatar, sizeof(page_avatar))) <= 0) {
		log_warnx("%s: avatar is not base64 of at most %d bytes",
		    __func__, PAGE_AVATAR_MAX);
		return -1;
	}
	if ((type = sniff_image(page_avatar, (size_t)n)) == NULL) {
		log_warnx("%s: avatar is not an image", __func__);
		return -1;
	}
	page_avatar_len = (size_t)n;
	page_avatar_asset.ctype = type;
	return 0;
}

/* Known keys, strings of bounded length, accent "#rrggbb". */
static int
page_config_check(json_t *conf)
{
	static const char *const texts[] = { "title", "agent_name",
	    "welcome", "accent", "footer", "lang", NULL };
	const char *const *t;
	const char *key, *s;
	json_t *v, *e;
	size_t i;

	if (!json_is_object(conf)) {
		log_warnx("%s: page is not an object", __func__);
		return -1;
	}
	json_object_foreach(conf, key, v) {
		for (t = texts; *t != NULL; t++)
			if (strcmp(*t, key) == 0)
				break;
		if (*t != NULL && json_is_string(v) &&
		    json_string_length(v) > 0 &&
		    json_string_length(v) <= PAGE_TEXT_MAX)
			continue;
		if (*t == NULL && strcmp(key, "suggestions") == 0 &&
		    json_is_array(v) &&
		    json_array_size(v) <= PAGE_SUGGESTIONS_MAX) {
			json_array_foreach(v, i, e)
				if (!json_is_string(e) ||
				    json_string_length(e) == 0 ||
				    json_string_length(e) > PAGE_TEXT_MAX)
					break;
			if (i == json_array_size(v))
				continue;
		}
		log_warnx("%s: bad page key %s", __func__, key);
		return -1;
	}
	/* It goes into a CSS custom property: nothing but a colour. */
	if ((s = json_string_value(json_object_get(conf, "accent"))) != NULL &&
	    (strlen(s) != 7 || s[0] != '#' ||
	    strspn(s + 1, "0123456789abcdefABCDEF") != 6)) {
		log_warnx("%s: accent is not #rrggbb", __func__);
		return -1;
	}
	return 0;
}

/* No script or style: it must stand alone under the same CSP. */
const char page_gone[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,"
    " initial-scale=1\"><title>Link expired</title></head>\n"
    "<body><h1>This link has expired</h1>\n"
    "<p>The conversation shared here is no longer available: the link"
    " ran out or was revoked.  Ask whoever sent it for a new one.</p>"
    "</body></html>\n";

#define PAGE_BIND_HEAD \
    "<!doctype html>\n<html><head><meta charset=\"utf-8\">" \
    "<meta name=\"viewport\" content=\"width=device-width," \
    " initial-scale=1\"><link rel=\"stylesheet\" href=\"/bind.css\">"

const char page_bind_invalid[] = PAGE_BIND_HEAD
    "<title>Link not valid</title></head>\n<body><main>"
    "<h1 data-testid=\"bind-gone\">This link is not valid</h1>\n"
    "<p>链接无效。Check that you opened the whole link, or ask whoever"
    " sent it for a new one.</p></main></body></html>\n";

const char page_bind_expired[] = PAGE_BIND_HEAD
    "<title>Link expired</title></head>\n<body><main>"
    "<h1 data-testid=\"bind-gone\">This link has expired</h1>\n"
    "<p>链接已过期。Ask whoever sent it for a new one.</p>"
    "</main></body></html>\n";

const char page_bind_used[] = PAGE_BIND_HEAD
    "<title>Link already used</title></head>\n<body><main>"
    "<h1 data-testid=\"bind-gone\">This link was already used</h1>\n"
    "<p>链接已被使用。Each link makes its bots once. If the bot is"
    " yours, write to it in WeChat; otherwise ask for a new link.</p>"
    "</main></body></html>\n";

const char page_bind_revoked[] = PAGE_BIND_HEAD
    "<title>Link revoked</title></head>\n<body><main>"
    "<h1 data-testid=\"bind-gone\">This link was revoked</h1>\n"
    "<p>链接已被撤销。Ask whoever sent it for a new one.</p>"
    "</main></body></html>\n";
