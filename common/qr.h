/*
 * QR codes of share link URLs, drawn with libqrencode: as UTF-8 half
 * blocks for wxgatectl's terminal, and as one SVG path for the webchat
 * page.  Pure functions of the text: no files, no sockets.
 */
#ifndef WX_QR_H
#define WX_QR_H

#include <stdio.h>

/* The text to encode is a URL: bounded so a drawing stays small. */
#define QR_TEXT_MAX	512

/* 0 drawn, -1 if the text cannot be encoded. */
int	 qr_print_utf8(FILE *, const char *text);
/* A NUL-terminated SVG document to free(), or NULL. */
char	*qr_svg(const char *text);

#endif
