/*
 * Magic numbers of the four image formats browsers show in <img>, and
 * a file name made safe for Content-Disposition.  Pure functions of
 * their bytes, called by the hub (is a part an image, for the console's
 * page) and by the console worker (the type it serves); both must
 * agree, so both call this.  Never reads past the length given.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sniff.h"

static const struct {
	const char	*type;
	size_t		 off;
	size_t		 len;
	const char	*magic;
} sniff_magic[] = {
	{ "image/png",	0, 8, "\x89PNG\r\n\x1a\n" },
	{ "image/jpeg",	0, 3, "\xff\xd8\xff" },
	{ "image/gif",	0, 6, "GIF87a" },
	{ "image/gif",	0, 6, "GIF89a" },
	/* RIFF, a size, then WEBP. */
	{ "image/webp",	8, 4, "WEBP" },
};

const char *
sniff_image(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < sizeof(sniff_magic) / sizeof(sniff_magic[0]); i++) {
		if (len < sniff_magic[i].off + sniff_magic[i].len)
			continue;
		if (memcmp(p + sniff_magic[i].off, sniff_magic[i].magic,
		    sniff_magic[i].len) != 0)
			continue;
		/* WebP is RIFF first: "WEBP" at 8 alone is not enough. */
		if (sniff_magic[i].off == 8 && memcmp(p, "RIFF", 4) != 0)
			continue;
		return sniff_magic[i].type;
	}
	return NULL;
}

void
sniff_ascii_name(const char *name, char *out, size_t size)
{
	const unsigned char *p;
	size_t n = 0;

	if (size == 0)
		return;
	for (p = (const unsigned char *)name; *p != '\0' && n + 1 < size;
	    p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == ' ' || (*p == '.' && n > 0))
			out[n++] = (char)*p;
		else
			out[n++] = '_';
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, size, "file");
}

int
sniff_pct_name(const char *name, char *out, size_t size)
{
	/* RFC 5987 attr-char, less nothing: these need no escape. */
	static const char keep[] = "!#$&+-.^_`|~";
	const unsigned char *p;
	size_t n = 0;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p) != NULL) {
			if (n + 1 >= size)
				return -1;
			out[n++] = (char)*p;
			continue;
		}
		if (n + 3 >= size)
			return -1;
		snprintf(out + n, 4, "%%%02X", *p);
		n += 3;
	}
	if (size == 0)
		return -1;
	out[n] = '\0';
	return 0;
}
