/*
 * The file name in a Content-Disposition header value (RFC 6266 with
 * RFC 5987's ext-value): what a media host calls the bytes it serves.
 * Pure: workers/net/fetch.c feeds it the header it kept, the workers
 * that download attachments name their parts with it.  Fuzzed by
 * tests/fuzz/fuzz_cdisp.c.
 */
#ifndef WX_CDISP_H
#define WX_CDISP_H

#include <stddef.h>

/* A header value longer than this is refused whole, unread. */
#define CDISP_VALUE_MAX		2048
/* A name as the IPC carries it (IPC_FILENAME_MAX); longer is refused. */
#define CDISP_NAME_MAX		255

enum cdisp_err {
	CDISP_OK = 0,
	CDISP_E_NONE,		/* no filename or filename* parameter */
	CDISP_E_LONG,		/* value or name over its maximum */
	CDISP_E_SYNTAX,		/* not type *( ";" param ) */
	CDISP_E_DUP,		/* a parameter named twice */
	CDISP_E_ESCAPE,		/* a % not followed by two hex digits */
	CDISP_E_BYTE,		/* NUL, a control byte or DEL in the name */
	CDISP_E_UTF8,		/* the name is not UTF-8 */
	CDISP_E_EMPTY,		/* nothing left once the directory went */
	CDISP_E_MAX
};

/*
 * The name in v[0, len) into out (NUL-terminated, at most
 * CDISP_NAME_MAX bytes): filename*=UTF-8''... if there is one, else
 * filename=, percent-decoded, with any directory part cut off.
 * Anything but CDISP_OK leaves out "".
 */
enum cdisp_err	 cdisp_filename(const char *v, size_t len,
		    char out[CDISP_NAME_MAX + 1]);
const char	*cdisp_strerror(enum cdisp_err);

#endif
