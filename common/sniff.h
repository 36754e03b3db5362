/*
 * What a stored attachment's bytes are, by their magic numbers alone
 * (sniff.c): the console serves a part as an image only when its first
 * bytes say so, whatever kind or name the sender gave it.
 */
#ifndef WX_SNIFF_H
#define WX_SNIFF_H

#include <stddef.h>

/* Bytes sniff_image() looks at; fewer may be given. */
#define SNIFF_HEAD	12

/*
 * "image/png", "image/jpeg", "image/gif" or "image/webp" for bytes that
 * start as one; NULL for anything else, which is served as a download.
 */
const char	*sniff_image(const void *, size_t);
/*
 * name as a quoted-string's safe ASCII: letters, digits, '.', '-', '_'
 * and space kept, any other byte '_'; at most size - 1 bytes, never
 * empty ("file") and never starting with '.'.
 */
void		 sniff_ascii_name(const char *name, char *out, size_t size);
/*
 * name as RFC 5987 ext-value characters (attr-char or %XX): -1 when it
 * does not fit size.
 */
int		 sniff_pct_name(const char *name, char *out, size_t size);

#endif
