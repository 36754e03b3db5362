/*
 * Routes for the chat page's static files.  Called by webchat.c for
 * every GET that is not /healthz or /ws; the bytes themselves live in the
 * generated assets.c.  The script and style are separate routes so the
 * Content-Security-Policy can forbid inline code.
 */
#include <string.h>

#include "page.h"

static const struct page_asset page_assets[] = {
	{ "/",		 "text/html; charset=utf-8",
	  asset_index_html, &asset_index_html_len },
	{ "/index.html", "text/html; charset=utf-8",
	  asset_index_html, &asset_index_html_len },
	{ "/chat.js",	 "text/javascript; charset=utf-8",
	  asset_chat_js, &asset_chat_js_len },
	{ "/chat.css",	 "text/css; charset=utf-8",
	  asset_chat_css, &asset_chat_css_len },
	{ NULL,		 NULL, NULL, NULL }
};

const struct page_asset *
page_find(const char *path)
{
	const struct page_asset *a;

	for (a = page_assets; a->path != NULL; a++)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
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
