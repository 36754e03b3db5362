/*
 * The console's /api/media: one stored attachment's bytes (the media
 * table, store_conv_media.c), for the thread view's previews and
 * downloads (console_page_thread.c).  Any session may read it, as it
 * may read the conversation; console.c checked the session before.
 *
 * What the browser is told comes from the bytes, never from the sender:
 * an image type only when the magic numbers say one (sniff.c), else
 * application/octet-stream as an attachment whose file name is made of
 * safe characters here (a quoted ASCII one and an RFC 5987 one), so no
 * name a peer chose can break a header or be taken for markup.  The
 * worker adds nosniff and private, no-store (workers/console/).
 *
 * A part over IPC_CONSOLE_MEDIA_MAX is a 413 and its blob is never
 * read: one frame carries the bytes, and a frame has a bound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "console.h"
#include "hub.h"
#include "sniff.h"
#include "store.h"

/* A stored name's bytes read; longer ones are cut (sniff.c cuts more). */
#define MEDIA_NAME_MAX		256
/* The names in the header: 255 bytes as %XX fit 765. */
#define MEDIA_ASCII_MAX		128
#define MEDIA_PCT_MAX		768

_Static_assert(sizeof("attachment; filename=\"\"; filename*=UTF-8''") +
    MEDIA_ASCII_MAX + MEDIA_PCT_MAX <= IPC_CONSOLE_DISP_MAX,
    "a Content-Disposition the hub makes fits console.media");

/* "msg seq", two decimals: -1 on anything else. */
static int
media_query(const char *q, int64_t *msg, unsigned *seq)
{
	char m[20], s[11], end;

	if (q == NULL || strlen(q) > 30 ||
	    sscanf(q, "%19[0-9] %10[0-9]%c", m, s, &end) != 2)
		return -1;
	*msg = strtoll(m, NULL, 10);
	*seq = (unsigned)strtoul(s, NULL, 10);
	return *msg > 0 && strlen(s) < 10 ? 0 : -1;
}

/* Content-Disposition for a download named name, never for an image. */
static void
media_disposition(const char *name, char *out, size_t size)
{
	char ascii[MEDIA_ASCII_MAX], pct[MEDIA_PCT_MAX];

	sniff_ascii_name(name, ascii, sizeof(ascii));
	if (sniff_pct_name(name, pct, sizeof(pct)) == -1)
		snprintf(out, size, "attachment; filename=\"%s\"", ascii);
	else
		snprintf(out, size, "attachment; filename=\"%s\"; "
		    "filename*=UTF-8''%s", ascii, pct);
}

/* The media page: it answers itself, console.media or console.answer. */
int
console_media(struct worker *w, const struct ipc_msg *m, uint64_t conn,
    const char *query)
{
	struct ipc_body_console_media a;
	char name[MEDIA_NAME_MAX], disp[IPC_CONSOLE_DISP_MAX];
	const char *img;
	uint8_t *data;
	uint64_t size;
	int64_t msg;
	unsigned seq;
	int rv;

	if (media_query(query, &msg, &seq) == -1) {
		console_answer(w, m, conn, 400, NULL, NULL,
		    console_error("msg or seq is not valid"));
		return 0;
	}
	rv = store_conv_part_take(sup->store, msg, seq, IPC_CONSOLE_MEDIA_MAX,
	    &data, &size, name, sizeof(name));
	if (rv != 0) {
		console_answer(w, m, conn, rv == 1 ? 404 : rv == 2 ? 413 : 503,
		    NULL, NULL, console_error(rv == 1 ? "no such attachment" :
		    rv == 2 ? "too large to preview" : "store error"));
		return 0;
	}
	img = sniff_image(data, (size_t)size);
	disp[0] = '\0';
	if (img == NULL)
		media_disposition(name, disp, sizeof(disp));
	a.conn = conn;
	a.ctype = ipc_s(img != NULL ? img : "application/octet-stream");
	a.disposition = ipc_s(disp);
	a.data = (struct ipc_str){ (const char *)data, (size_t)size };
	router_send(w, IPC_CONSOLE_MEDIA, m->req_id, &a);
	free(data);
	return 0;
}
