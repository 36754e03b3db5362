/*
 * The iLink wire protocol of personal-WeChat bots (shared/protocols/
 * wechat-ilink.md; the § numbers below are that note's), as pure
 * functions: request bodies, URLs and header values out, parsed
 * responses in.  No I/O and no global state, so the unit tests and
 * tests/fuzz/fuzz_ilink.c reach every line of it.  The wechat worker
 * (wechat.c, poll.c, send.c, login.c) does the talking.
 */
#ifndef WX_ILINK_H
#define WX_ILINK_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

/* The official client we present as (§2.3, §2.4). */
#define ILINK_CHANNEL_VERSION	"2.4.9"
#define ILINK_APP_ID		"bot"
/* A response larger than this is a failure, never a partial parse. */
#define ILINK_BODY_MAX		(4 * 1024 * 1024)
/*
 * Messages handled from one getupdates batch.  A larger batch fails as
 * a whole (and is polled again after the backoff) rather than losing
 * its tail: the cursor only moves once every message has reached the
 * supervisor.  The official client takes them one at a time and no
 * server has been seen to send more than a handful.
 */
#define ILINK_MSGS_MAX		100
/* Observed tokens are about 60 bytes; far longer is not a token. */
#define ILINK_TOKEN_MAX		1024
/* URLs we keep from responses (baseurl). */
#define ILINK_URLLEN_MAX	1024
/* Base64 of "4294967295" plus NUL. */
#define ILINK_UIN_LEN		17
/* "wxgate:", the supervisor's key, NUL. */
#define ILINK_CLIENT_ID_LEN	(7 + IPC_NAME_MAX + 1)
/* §2.4: base_info.bot_agent, in bytes. */
#define ILINK_BOT_AGENT_MAX	256
/* §4.2: the number the phone shows; a few digits in practice. */
#define ILINK_VERIFY_CODE_MAX	16
/* §3.0: the code that means the bot token is dead. */
#define ILINK_RET_SESSION	(-14)
/* §7.2: sendmessage refused (window, turn budget, throttle). */
#define ILINK_RET_REFUSED	(-2)

enum ilink_err {
	ILINK_OK = 0,
	ILINK_E_JSON,		/* not JSON, or not an object */
	ILINK_E_SHAPE,		/* a field missing, mistyped, too long */
	ILINK_E_SESSION,	/* ret or errcode -14: log in again */
	ILINK_E_RET,		/* another non-zero ret or errcode */
	ILINK_E_TOOMANY		/* more than ILINK_MSGS_MAX messages */
};

/* ret, or else errcode (§3.0: absent means 0), and errmsg. */
struct ilink_ret {
	long long	 code;
	char		 errmsg[IPC_MESSAGE_MAX + 1];
};

/* Why an inbound message is not passed on (§5.5). */
enum ilink_drop {
	ILINK_KEEP = 0,
	ILINK_DROP_BAD,		/* not an object, or no usable sender */
	ILINK_DROP_ECHO,	/* our own message coming back */
	ILINK_DROP_GROUP,	/* a group_id that is no usable id */
	ILINK_DROP_EMPTY	/* nothing a user could have said */
};

/*
 * One inbound message, already cut to the IPC limits.  msg_id follows
 * §5.5 and keeps the raw digits of a uint64; text follows §5.3 and is
 * valid UTF-8 without NUL (text_cut: it was longer than IPC_TEXT_MAX or
 * held a NUL); ctx is the context_token, "" if none or if it was longer
 * than IPC_CTX_MAX (ctx_dropped).  A quoted message (ref_msg) leads
 * text as "> " lines; media lists the items to download (ilink_media.h).
 */
struct ilink_mlist;

struct ilink_msg {
	enum ilink_drop	 drop;
	char		*peer;		/* from_user_id */
	char		*msg_id;
	char		*text;
	char		*ctx;
	char		*group;		/* "" for a direct chat */
	int		 text_cut;
	int		 ctx_dropped;
	struct ilink_mlist *media;	/* kept messages: items, quote */
};

struct ilink_updates {
	struct ilink_ret	 ret;
	char			*cursor;	/* NULL: absent or empty */
	long			 timeout_ms;	/* 0: no hint */
	size_t			 n;
	struct ilink_msg	*msgs;
};

struct ilink_qrcode {
	struct ilink_ret	 ret;
	char			*qrcode;	/* poll handle, secret */
	char			*url;		/* to encode as a QR */
};

/* §4.2, in the order of the table there. */
enum ilink_qr_state {
	ILINK_QR_WAIT,
	ILINK_QR_SCANED,
	ILINK_QR_NEED_VERIFYCODE,
	ILINK_QR_VERIFY_BLOCKED,
	ILINK_QR_EXPIRED,
	ILINK_QR_SCANED_REDIRECT,
	ILINK_QR_BINDED_REDIRECT,
	ILINK_QR_CONFIRMED
};

/*
 * bot_token and bot_id are set when confirmed; baseurl and user_id may
 * then be NULL.  redirect_host: scaned_but_redirect's, or NULL.
 */
struct ilink_qrstatus {
	struct ilink_ret	 ret;
	enum ilink_qr_state	 state;
	char			*bot_token;
	char			*bot_id;
	char			*baseurl;
	char			*user_id;
	char			*redirect_host;
};

/* What ilink_bot_agent() did to its input. */
enum ilink_ba {
	ILINK_BA_SAME,		/* valid as given */
	ILINK_BA_CUT,		/* invalid or surplus tokens dropped */
	ILINK_BA_FALLBACK	/* nothing valid: the fallback */
};

/* Request headers, one "Name: value" line each (§2.1). */
#define ILINK_HDRS_MAX		6
struct ilink_hdrs {
	size_t		 n;
	char		*v[ILINK_HDRS_MAX];
};
enum ilink_hkind {
	ILINK_H_JSON,		/* a JSON POST; token NULL for the QR */
	ILINK_H_GET		/* get_qrcode_status */
};

/* Header values and request bodies (§2, §3). */
uint32_t	 ilink_client_version(const char *semver);
int		 ilink_uin(uint32_t, char *out, size_t outlen);
int		 ilink_token_ok(const char *);
void		 ilink_headers(struct ilink_hdrs *, enum ilink_hkind,
		    const char *token, uint32_t uin);
void		 ilink_headers_clear(struct ilink_hdrs *);
enum ilink_ba	 ilink_bot_agent(const char *in, const char *fallback,
		    char *out, size_t outlen);
void		 ilink_client_id(const char *key, char *out, size_t outlen);
char		*ilink_url(const char *base, const char *path);
char		*ilink_url_qrstatus(const char *base, const char *qrcode,
		    const char *verify_code);
int		 ilink_verify_code_ok(const char *);
int		 ilink_url_allowed(const char *url, const char **why);
int		 ilink_host_allowed(const char *url, const char *login_url,
		    const char **why);
char		*ilink_body_qrcode(void);
char		*ilink_body_updates(const char *cursor,
		    const char *bot_agent);
char		*ilink_body_send(const char *peer, const char *text,
		    const char *ctx, const char *client_id,
		    const char *bot_agent);
/* §3.6 and §3.7: a peer's typing ticket, and "typing..." on or off. */
#define ILINK_TYPING_ON		1
#define ILINK_TYPING_OFF	2
#define ILINK_TICKET_MAX	512
char		*ilink_body_getconfig(const char *peer, const char *ctx,
		    const char *bot_agent);
/* §3.8: msg/notifystart and msg/notifystop carry base_info alone. */
char		*ilink_body_notify(const char *bot_agent);
char		*ilink_body_typing(const char *peer, const char *ticket,
		    int status, const char *bot_agent);

/*
 * One attachment going out (§3.5, §6.2): what getuploadurl is told and
 * the item sendmessage carries.  keyhex is the AES key, a secret.
 * media_type: audio goes as a FILE (§6.4: voice items never play).
 */
#define ILINK_UP_IMAGE		1
#define ILINK_UP_FILE		3
#define ILINK_HEX16_LEN		(2 * 16 + 1)
struct ilink_up {
	int		 media_type;
	char		 filekey[ILINK_HEX16_LEN];
	char		 keyhex[ILINK_HEX16_LEN];
	char		 md5[ILINK_HEX16_LEN];
	uint64_t	 rawsize;
	uint64_t	 filesize;	/* the ciphertext's */
};
char		*ilink_body_uploadurl(const struct ilink_up *,
		    const char *peer, const char *bot_agent);
/* param: the CDN's x-encrypted-param; name: a file item's file_name. */
char		*ilink_body_send_media(const char *peer,
		    const struct ilink_up *, const char *param,
		    const char *name, const char *ctx, const char *client_id,
		    const char *bot_agent);

/* Responses: (bytes, len) in, a struct or an error out. */
char		*ilink_quote_ids(const char *body, size_t len,
		    size_t *outlen);
enum ilink_err	 ilink_parse_ret(const char *body, size_t len,
		    struct ilink_ret *);
/* getconfig: its ret and, when ret is 0, the typing ticket (caller frees). */
enum ilink_err	 ilink_parse_ticket(const char *body, size_t len,
		    struct ilink_ret *, char **ticket);
/*
 * getuploadurl (§3.5): its ret and, when ret is 0, upload_full_url
 * and upload_param (either NULL; not both).  The caller frees them.
 */
enum ilink_err	 ilink_parse_uploadurl(const char *body, size_t len,
		    struct ilink_ret *, char **full_url, char **param);
enum ilink_err	 ilink_parse_updates(const char *body, size_t len,
		    struct ilink_updates *);
void		 ilink_updates_clear(struct ilink_updates *);
enum ilink_err	 ilink_parse_qrcode(const char *body, size_t len,
		    struct ilink_qrcode *);
void		 ilink_qrcode_clear(struct ilink_qrcode *);
enum ilink_err	 ilink_parse_qrstatus(const char *body, size_t len,
		    struct ilink_qrstatus *);
void		 ilink_qrstatus_clear(struct ilink_qrstatus *);
const char	*ilink_qr_state_name(enum ilink_qr_state);
const char	*ilink_strerror(enum ilink_err);
const char	*ilink_drop_name(enum ilink_drop);

#endif
