/*
 * The XML of the callback scheme (shared/protocols/wecom.md C.6, D.2,
 * D.3): the encrypted envelope, the plaintext message inside it, and
 * the passive replies we write.  Pure functions of (bytes, len); the
 * callback worker (phase 2) calls them, as do the unit tests and
 * tests/fuzz/fuzz_xmlmsg.c.
 */
#ifndef WX_CALLBACK_XMLMSG_H
#define WX_CALLBACK_XMLMSG_H

#include <stddef.h>
#include <stdint.h>

/* C.9: request bodies are capped at 1 MiB. */
#define XMLMSG_BODY_MAX		(1024 * 1024)
/*
 * The deepest real message is an event with a list (<xml><SendPicsInfo>
 * <PicList><item><PicMd5Sum>): 5.  Twice that is hostile.
 */
#define XMLMSG_DEPTH_MAX	10
/* Elements in one document: a message has about a dozen. */
#define XMLMSG_ELEMS_MAX	128
/* Element names: the longest we know is 21 characters. */
#define XMLMSG_NAME_MAX		64
/* Ids: OpenIDs are 28 characters, WeCom UserIDs at most 64. */
#define XMLMSG_ID_MAX		128
/* A signature (40), a nonce (about 10), an event name. */
#define XMLMSG_SHORT_MAX	64
/* A text message or a transcript; WeChat's own caps are far lower. */
#define XMLMSG_CONTENT_MAX	(64 * 1024)

enum xmlmsg_err {
	XMLMSG_OK = 0,
	XMLMSG_E_SYNTAX,	/* not well-formed, or outside our subset */
	XMLMSG_E_DOCTYPE,	/* a DOCTYPE, ENTITY or other declaration */
	XMLMSG_E_ENTITY,	/* an entity other than the predefined five */
	XMLMSG_E_LIMIT,		/* body, depth, elements, a field */
	XMLMSG_E_DUP,		/* a field we read, twice */
	XMLMSG_E_MISSING,	/* a field the message needs is absent */
	XMLMSG_E_NUMBER,	/* CreateTime, MsgId, AgentID, TimeStamp */
	XMLMSG_E_REPLY,		/* a reply's input not usable */
	XMLMSG_E_CHARREF	/* &#...; not a character, or too long */
};

enum xmlmsg_type {
	XMLMSG_T_NONE = 0,
	XMLMSG_T_TEXT,
	XMLMSG_T_IMAGE,
	XMLMSG_T_VOICE,
	XMLMSG_T_VIDEO,
	XMLMSG_T_SHORTVIDEO,
	XMLMSG_T_LOCATION,
	XMLMSG_T_LINK,
	XMLMSG_T_EVENT,
	XMLMSG_T_OTHER
};

enum xmlmsg_event {
	XMLMSG_EV_NONE = 0,
	XMLMSG_EV_SUBSCRIBE,
	XMLMSG_EV_UNSUBSCRIBE,
	XMLMSG_EV_ENTER_AGENT,
	XMLMSG_EV_SCAN,
	XMLMSG_EV_LOCATION,
	XMLMSG_EV_CLICK,
	XMLMSG_EV_VIEW,
	XMLMSG_EV_OTHER
};

/* A field's decoded text, NUL-terminated in xmlmsg.buf; p NULL if absent. */
struct xmlmsg_str {
	const char	*p;
	size_t		 len;
};

/*
 * What one document holds: the envelope's fields (Encrypt; and the
 * reply envelope's MsgSignature, TimeStamp, Nonce) and the message's.
 * Fields we do not know are skipped.  Clear with xmlmsg_clear().
 */
struct xmlmsg {
	char			*buf;
	size_t			 bufsz;
	size_t			 used;
	struct xmlmsg_str	 to;		/* ToUserName */
	struct xmlmsg_str	 from;		/* FromUserName */
	struct xmlmsg_str	 createtime;	/* CreateTime */
	struct xmlmsg_str	 msgtype;	/* MsgType */
	struct xmlmsg_str	 content;	/* Content */
	struct xmlmsg_str	 msgid;		/* MsgId (uint64) */
	struct xmlmsg_str	 agentid;	/* AgentID (WeCom) */
	struct xmlmsg_str	 event;		/* Event */
	struct xmlmsg_str	 eventkey;	/* EventKey */
	struct xmlmsg_str	 mediaid;	/* MediaId */
	struct xmlmsg_str	 format;	/* Format (voice) */
	struct xmlmsg_str	 recognition;	/* Recognition (OA) */
	struct xmlmsg_str	 picurl;	/* PicUrl */
	struct xmlmsg_str	 location_x;	/* Location_X (latitude) */
	struct xmlmsg_str	 location_y;	/* Location_Y (longitude) */
	struct xmlmsg_str	 label;		/* Label (a place's name) */
	struct xmlmsg_str	 title;		/* Title (link) */
	struct xmlmsg_str	 description;	/* Description (link) */
	struct xmlmsg_str	 url;		/* Url (link) */
	struct xmlmsg_str	 encrypt;	/* Encrypt */
	struct xmlmsg_str	 msgsignature;	/* MsgSignature */
	struct xmlmsg_str	 timestamp;	/* TimeStamp */
	struct xmlmsg_str	 nonce;		/* Nonce */
	int64_t			 createtime_n;
	int64_t			 agentid_n;
	enum xmlmsg_type	 type;
	enum xmlmsg_event	 ev;
};

const char	*xmlmsg_strerror(int);
/* C.8's code for an error: -40002 to parse, -40011 to write. */
int		 xmlmsg_code(int);

int	xmlmsg_parse(const char *, size_t, struct xmlmsg *);
void	xmlmsg_clear(struct xmlmsg *);
/* After xmlmsg_parse: an envelope has Encrypt (C.6). */
int	xmlmsg_check_envelope(const struct xmlmsg *);
/* After xmlmsg_parse of a decrypted message: D.2's required fields. */
int	xmlmsg_check_message(const struct xmlmsg *);

/* D.3: to, from, CreateTime, content, contentlen; *out owned. */
int	xmlmsg_reply_text(const char *, const char *, int64_t, const char *,
	    size_t, char **, size_t *);
/* C.6: encrypt, msg_signature, timestamp, nonce; *out owned. */
int	xmlmsg_reply_envelope(const char *, const char *, const char *,
	    const char *, char **, size_t *);

#endif
