/*
 * The chat page's static files, embedded at build time: page.c maps a
 * request path to one of them; workers/webchat/local.mk generates the
 * byte arrays (assets.c) from workers/webchat/assets/.
 */
#ifndef WX_WEBCHAT_PAGE_H
#define WX_WEBCHAT_PAGE_H

#include <stddef.h>

struct page_asset {
	const char		*path;
	const char		*ctype;
	const unsigned char	*data;
	const size_t		*len;
};

struct json_t;

const struct page_asset	*page_find(const char *path);
int			 page_config(struct json_t *, struct json_t *);

/* The 410 answer to an expired or revoked share link. */
extern const char	 page_gone[];
/* A binding invitation's link that opens nothing (404, 410). */
extern const char	 page_bind_invalid[];
extern const char	 page_bind_expired[];
extern const char	 page_bind_used[];
extern const char	 page_bind_revoked[];

/* Generated into assets.c, one pair per file in assets/. */
extern const unsigned char	asset_index_html[];
extern const size_t		asset_index_html_len;
extern const unsigned char	asset_chat_js[];
extern const size_t		asset_chat_js_len;
extern const unsigned char	asset_chat_css[];
extern const size_t		asset_chat_css_len;
extern const unsigned char	asset_bind_html[];
extern const size_t		asset_bind_html_len;
extern const unsigned char	asset_bind_js[];
extern const size_t		asset_bind_js_len;
extern const unsigned char	asset_bind_css[];
extern const size_t		asset_bind_css_len;
extern const unsigned char	asset_favicon_svg[];
extern const size_t		asset_favicon_svg_len;

#endif
