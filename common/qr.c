/*
 * QR codes of share link URLs (see qr.h).  wxgatectl prints one in the
 * terminal; the webchat worker serves one as SVG so the page needs no
 * third-party script and its CSP stays 'self'.
 *
 * Level M and a 4-module quiet zone: what phone cameras read reliably
 * off a screen.  The terminal drawing paints light modules, since most
 * terminals are dark and a scanner wants dark modules on light.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"
#include "xmalloc.h"

#define QR_QUIET	4	/* modules of margin, per ISO/IEC 18004 */

static QRcode	*qr_encode(const char *);
static int	 qr_dark(const QRcode *, int, int);

static QRcode *
qr_encode(const char *text)
{
	if (text == NULL || text[0] == '\0' || strlen(text) > QR_TEXT_MAX)
		return NULL;
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

/* Outside the symbol is the quiet zone: light. */
static int
qr_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->data[y * q->width + x] & 1;
}

int
qr_print_utf8(FILE *fp, const char *text)
{
	QRcode *q;
	int x, y, top, bot;

	if ((q = qr_encode(text)) == NULL)
		return -1;
	for (y = -QR_QUIET; y < q->width + QR_QUIET; y += 2) {
		for (x = -QR_QUIET; x < q->width + QR_QUIET; x++) {
			top = !qr_dark(q, x, y);
			bot = !qr_dark(q, x, y + 1);
			if (top && bot)
				fputs("\xe2\x96\x88", fp);	/* full block */
			else if (top)
				fputs("\xe2\x96\x80", fp);	/* upper half */
			else if (bot)
				fputs("\xe2\x96\x84", fp);	/* lower half */
			else
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	QRcode_free(q);
	return 0;
}

char *
qr_svg(const char *text)
{
	QRcode *q;
	char *out, *p;
	size_t cap, n;
	int x, y, side;

	if ((q = qr_encode(text)) == NULL)
		return NULL;
	side = q->width + 2 * QR_QUIET;
	/* At most one "M<x> <y>h1v1h-1z" (under 24 bytes) per module. */
	cap = 512 + (size_t)q->width * (size_t)q->width * 24;
	p = out = xmalloc(cap);
	n = (size_t)snprintf(p, cap,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
	    " shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"", side, side, side, side);
	p += n;
	cap -= n;
	for (y = 0; y < q->width; y++) {
		for (x = 0; x < q->width; x++) {
			if (!qr_dark(q, x, y))
				continue;
			n = (size_t)snprintf(p, cap, "M%d %dh1v1h-1z",
			    x + QR_QUIET, y + QR_QUIET);
			p += n;
			cap -= n;
		}
	}
	snprintf(p, cap, "\"/></svg>\n");
	QRcode_free(q);
	return out;
}
