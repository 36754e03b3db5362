/*
 * The wecom_webhook worker kind: a WeCom group robot's webhook
 * (protocols/wecom.md part B), outbound only.  One process per robot.
 *
 *   hook.c		the kind: config slice, the send queue, pacing
 *   hook_proto.c	the wire: request bodies, what an answer means
 */
#ifndef WX_HOOK_H
#define WX_HOOK_H

#include <stddef.h>
#include <stdint.h>

/* B.3: a text is 2048 bytes of UTF-8, markdown 4096. */
#define HOOK_TEXT_BYTES		2048
#define HOOK_MARKDOWN_BYTES	4096
/* B.6: 20 messages a minute per robot, all types counted. */
#define HOOK_RATE_MAX		20
#define HOOK_RATE_WINDOW_S	60
/* An answer is a line of JSON; anything longer is not one. */
#define HOOK_BODY_MAX		(16 * 1024)
#define HOOK_KEY_MAX		128
/* B.3: an image's raw bytes; B.4: a file's, for type=file. */
#define HOOK_IMAGE_MAX		(2 * 1024 * 1024)
#define HOOK_FILE_MIN		5
#define HOOK_FILE_MAX		(20 * 1024 * 1024)
/* An upload's media_id; WeCom's are about 70 bytes. */
#define HOOK_MEDIA_ID_MAX	256
/* upload_media's filename, the name the chat shows (IPC_FILENAME_MAX). */
#define HOOK_FILENAME_MAX	255

enum hook_msgtype {
	HOOK_TEXT,
	HOOK_MARKDOWN,
};

/* B.5, as the outbox's three codes and the wait of 45009. */
enum hook_verdict {
	HOOK_SENT,		/* errcode 0 */
	HOOK_RATE,		/* 45009: wait for the next window, again */
	HOOK_BUSY,		/* -1: not taken; again, later */
	HOOK_REJECTED,		/* anything else: never as it is */
	HOOK_GARBLED,		/* no errcode: not known either way */
};

/* What an attachment's first bytes say it is (B.3: JPG or PNG only). */
enum hook_image {
	HOOK_IMG_NONE,
	HOOK_IMG_JPEG,
	HOOK_IMG_PNG,
};

struct hook_answer {
	long long	 errcode;
	char		 errmsg[160];	/* cut; the hint link dropped */
};

/*
 * The JSON body for one message; NULL if text is not valid UTF-8 or
 * too long for the type.  target "@all" or "@id,id" mentions (text
 * only); anything else mentions nobody.
 */
char		*hook_body(enum hook_msgtype, const char *target,
		    const char *text);
enum hook_verdict hook_parse(const char *body, size_t len,
		    struct hook_answer *);
/*
 * An upload_media answer (B.4): the verdict of its errcode, and for
 * HOOK_SENT the media_id, which must then be there; an answer that
 * says ok without one, or of another type than file, is HOOK_GARBLED.
 */
enum hook_verdict hook_parse_upload(const char *body, size_t len,
		    struct hook_answer *, char media_id[HOOK_MEDIA_ID_MAX + 1]);
const char	*hook_verdict_name(enum hook_verdict);
/* base + "/cgi-bin/webhook/send?key=" + key; NULL when too long. */
char		*hook_url(const char *base, const char *key);
/* base + "/cgi-bin/webhook/upload_media?key=" + key + "&type=file". */
char		*hook_upload_url(const char *base, const char *key);

/* By the magic bytes alone. */
enum hook_image	 hook_image_kind(const uint8_t *, size_t);
/* Lowercase hex MD5 of the bytes; -1 if OpenSSL has no MD5. */
int		 hook_md5_hex(const uint8_t *, size_t,
		    char hex[2 * 16 + 1]);
/* Standard base64 with padding, no line breaks. */
char		*hook_base64(const uint8_t *, size_t);
/*
 * {"msgtype":"image","image":{"base64":...,"md5":...}}; NULL if the
 * bytes are over HOOK_IMAGE_MAX or not a JPG or PNG.
 */
char		*hook_image_body(const uint8_t *, size_t);
/*
 * name fit for a multipart filename: control bytes, quotes, backslashes
 * and slashes become '_', a cut keeps whole UTF-8 sequences, and
 * nothing becomes "file".  out holds outlen bytes, outlen > 4.
 */
void		 hook_file_name(const char *name, char *out, size_t outlen);
/* {"msgtype":"file","file":{"media_id":...}}; NULL if it is unfit. */
char		*hook_file_body(const char *media_id);
/* A key fit for a query string: [A-Za-z0-9-_], 1..HOOK_KEY_MAX. */
int		 hook_key_ok(const char *);

#endif
