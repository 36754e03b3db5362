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
const char	*hook_verdict_name(enum hook_verdict);
/* base + "/cgi-bin/webhook/send?key=" + key; NULL when too long. */
char		*hook_url(const char *base, const char *key);
/* A key fit for a query string: [A-Za-z0-9-_], 1..HOOK_KEY_MAX. */
int		 hook_key_ok(const char *);

#endif
