/*
 * The WeCom AI bot's frames (protocols/wecom.md Part A), as pure
 * functions of bytes: frame.c parses what the server pushes and builds
 * what the worker sends; media.c decrypts attachments.  No loop, no
 * IPC, no worker.c: cmocka and libFuzzer drive them directly.
 */
#ifndef WX_WECOM_FRAME_H
#define WX_WECOM_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* A text frame from the server; past it the connection is dropped. */
#define WCF_FRAME_MAX		(1024 * 1024)
/* req_id, msgid, userid, chatid: printable ASCII, no spaces. */
#define WCF_ID_MAX		128
/* One stream bubble or markdown message (A.6 #7, A.10). */
#define WCF_CONTENT_MAX		20480
/* A user message as text for the agent: the IPC's own bound. */
#define WCF_TEXT_MAX		(32 * 1024)
/* The longest cmd or event type we keep, for a log line. */
#define WCF_WORD_MAX		48
/*
 * Attachments of one message that may be downloaded: inbound.media's
 * own bound (IPC_PARTS_MAX); past it a part stays a note, counted.
 */
#define WCF_ATT_MAX		8
/* An attachment URL: WeCom's carry a signed query, far below this. */
#define WCF_URL_MAX		2048
/* An aeskey is 44 characters (A.7 #2); longer is kept for no one. */
#define WCF_KEY_MAX		64
/* A file's name as the IPC carries it (IPC_FILENAME_MAX). */
#define WCF_NAME_MAX		255
/*
 * An upload_id or media_id in an upload's answer (A.5.8): WeCom's are
 * far shorter; the group robot's media_id is kept to the same bound.
 */
#define WCF_MEDIA_ID_MAX	256
/* An upload's chunk, raw, and the chunks of one file (A.5.8, A.10). */
#define WCF_CHUNK_MAX		(512 * 1024)
#define WCF_CHUNKS_MAX		100

/* Error codes the worker acts on (A.8). */
#define WCF_ERR_AUTH		853000	/* invalid bot_id or secret */
#define WCF_ERR_REQ_ID		846605	/* the req_id cannot take it */
#define WCF_ERR_EXPIRED		846608	/* the stream is stale */
#define WCF_ERR_CONFLICT	6000	/* concurrent updates */
#define WCF_ERR_FREQ		45009
#define WCF_ERR_CONCURRENCY	45033
#define WCF_ERR_TOO_LONG	45002
#define WCF_ERR_BUSY		(-1)

enum wcf_kind {
	WCF_ACK,	/* no cmd: an answer to one of ours */
	WCF_MSG,	/* aibot_msg_callback */
	WCF_EVENT,	/* aibot_event_callback */
	WCF_UNKNOWN	/* another cmd: logged and dropped */
};

/* Why a frame was refused. */
enum wcf_err {
	WCF_OK = 0,
	WCF_E_BIG,		/* over WCF_FRAME_MAX or WCF_TEXT_MAX */
	WCF_E_JSON,		/* not one JSON object */
	WCF_E_SHAPE,		/* a field missing or of the wrong type */
	WCF_E_ID		/* an id empty, too long or not printable */
};

/*
 * An attachment the message itself carries (not its quote), as the
 * frame named it; fetching it is the caller's, and so is ok.
 */
struct wcf_att {
	char		 kind[8];		/* image, file, video, voice */
	char		*url;			/* NULL: none fit to fetch */
	char		 aeskey[WCF_KEY_MAX + 1];	/* "": none */
	char		*name;			/* file.filename; NULL: none */
	/* Its note in the text ("[image]"); 0 bytes for a voice. */
	size_t		 note_off;
	size_t		 note_len;
	int		 ok;			/* fetched: the note may go */
};

struct wcf_in {
	enum wcf_kind	 kind;
	char		 req_id[WCF_ID_MAX + 1];
	char		 cmd[WCF_WORD_MAX + 1];		/* WCF_UNKNOWN */
	long long	 errcode;			/* WCF_ACK */
	/* WCF_ACK of an upload step (A.5.8): its body's ids, or "". */
	char		 upload_id[WCF_MEDIA_ID_MAX + 1];
	char		 media_id[WCF_MEDIA_ID_MAX + 1];
	/* WCF_MSG and WCF_EVENT */
	char		 msgid[WCF_ID_MAX + 1];
	char		 userid[WCF_ID_MAX + 1];
	char		 chatid[WCF_ID_MAX + 1];	/* "" single chat */
	int		 group;
	char		 msgtype[WCF_WORD_MAX + 1];
	char		 eventtype[WCF_WORD_MAX + 1];	/* WCF_EVENT */
	/* WCF_MSG: the message as the agent reads it; the caller frees. */
	char		*text;
	size_t		 textlen;
	/* WCF_MSG: what it carries, in the text's order; freed with it. */
	struct wcf_att	 att[WCF_ATT_MAX];
	size_t		 natt;
	size_t		 att_over;	/* past WCF_ATT_MAX: notes only */
};

int		 wcf_parse(const char *, size_t, struct wcf_in *);
void		 wcf_in_free(struct wcf_in *);
void		 wcf_att_free(struct wcf_att *);
/*
 * The notes of the attachments that are ok cut out of text (with the
 * line break that set each apart): the agent reads those parts
 * themselves.  The others' notes stay, so a failed part is still
 * named and a photo alone is never an empty message.
 */
void		 wcf_notes_drop(char *text, size_t *len,
		    const struct wcf_att *, size_t n);
const char	*wcf_strerror(int);
int		 wcf_id_ok(const char *, size_t);

/*
 * Builders: each returns the frame as a NUL-terminated string the
 * caller frees, or NULL when an argument cannot go on the wire.
 */
char	*wcf_subscribe(const char *req_id, const char *bot_id,
	    const char *secret);
char	*wcf_ping(const char *req_id);
char	*wcf_stream(const char *req_id, const char *stream_id,
	    const char *content, size_t len, int finish);
char	*wcf_welcome(const char *req_id, const char *text);
char	*wcf_markdown(const char *req_id, const char *chatid, int group,
	    const char *content, size_t len);
/*
 * A.5.8: type "image" or "file"; md5 the whole file's, lowercase hex.
 * A chunk carries at most WCF_CHUNK_MAX raw bytes, base64 here.
 */
char	*wcf_upload_init(const char *req_id, const char *type,
	    const char *filename, uint64_t total_size, unsigned total_chunks,
	    const char *md5);
char	*wcf_upload_chunk(const char *req_id, const char *upload_id,
	    unsigned index, const uint8_t *raw, size_t len);
char	*wcf_upload_finish(const char *req_id, const char *upload_id);
/*
 * An uploaded image or file (type) as a message: the answer to the
 * callback req_id (aibot_respond_msg, A.5.5) when chatid is NULL, else
 * a push to chatid (aibot_send_msg, A.5.9; group < 0: chat_type left
 * out, as wcf_markdown).
 */
char	*wcf_media(const char *req_id, const char *chatid, int group,
	    const char *type, const char *media_id);

/*
 * A group message addressed to the bot: its text names "@" bot_name
 * (an empty name: WeCom delivers only mentions, A.5.3).  The mention
 * is cut out of text in place.
 */
int	 wcf_mention(char *text, size_t *len, const char *bot_name);

/*
 * The reply context the hub keeps for a message: the callback's
 * req_id and where to push when that req_id is gone.
 */
#define WCF_CTX_MAX	(2 * WCF_ID_MAX + 8)
int	 wcf_ctx_encode(char *, size_t, const char *req_id,
	    const char *chatid, int group);
int	 wcf_ctx_decode(const char *, size_t, char *req_id, char *chatid,
	    int *group);

/* The longest prefix of s[0..len) of at most max bytes ending on a
 * UTF-8 character boundary. */
size_t	 wcf_utf8_cut(const char *s, size_t len, size_t max);

#endif
