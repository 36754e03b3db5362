/*
 * Images and files the hub sends the bot (outbound.file: what an
 * agent's reply carries, or wxgatectl send --file), uploaded on the
 * long connection and sent as a message (protocols/wecom.md A.5.8,
 * A.5.5 media, A.5.9, A.8, A.10, A.11).  The bytes are the hub's sealed
 * memfd, never a URL or a path.
 *
 * Rows wait in an outq (workers/outq.h) in the order they came and go
 * one at a time, each ending in exactly one delivery.ack or
 * delivery.fail.  Only the one being sent has its bytes in memory: the
 * memfd is read once, whole, when its turn comes, then closed.  The hub
 * sends one conversation's rows one after another, each when the one
 * before it ended, so a file follows the text of its reply; text rows
 * are reply.c's, and other conversations' go meanwhile.
 *
 * A row: aibot_upload_media_init (type, filename, total_size,
 * total_chunks, md5) answered with an upload_id, one
 * aibot_upload_media_chunk per WCF_CHUNK_MAX bytes (in order, base64),
 * aibot_upload_media_finish answered with a media_id, then the message:
 * the answer to the user's message (aibot_respond_msg on the callback's
 * req_id) when reply_may_answer() says that req_id is of this
 * connection, younger than UP_REPLY_MS and free, else a push
 * (aibot_send_msg) to the chat.  Each step is one frame with a fresh
 * req_id and only one is out at a time, so no req_id ever has two
 * frames in flight (A.3).
 *
 * Limits (A.5.8, A.10, A.12): a file of at most UP_FILE_MAX; a bigger
 * one is "rejected" with the reason, which wxgatectl outbox shows.  An
 * image goes as an image when it is a JPG or PNG of at most
 * UP_IMAGE_MAX, else as a file: A.5.8 says to downgrade rather than
 * upload what the server refuses.
 *
 * Errors (A.8): 45009 and 45033 are tried once more after 2 s, -1 after
 * 1, 2 and 4 s, 6000 after 150, 300 and 600 ms; then the row goes back
 * to the hub ("retry"), which tries it later from the start.  846605 or
 * 846608 on an answer sends it as a push instead.  Any other code is
 * "rejected".  An upload step unanswered for UP_ACK_MS gives the row
 * back ("retry"); a connection lost during the upload starts it over
 * on the next one (an unfinished upload expires by itself, A.5.8).
 * The message itself is never sent blindly twice (A.11: a file would
 * show twice): unanswered in ack_timeout_ms, or its connection lost
 * before the answer, it counts as sent, and that is logged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "../media.h"	/* workers/media.h: wk_media_fd_ok */
#include "outq.h"
#include "wecom.h"
#include "worker.h"
#include "xmalloc.h"

/*
 * A file (A.5.8, A.10: 20 MB), read as MiB as the group robot's worker
 * and the hub's IPC_FILE_MAX do; 40 chunks, within WCF_CHUNKS_MAX.
 */
#define UP_FILE_MAX		(20 * 1024 * 1024)
/*
 * An image: 10 MB says A.10, 2 MB another source (A.12).  Past the
 * smaller it goes as a file, which is shown either way; an image
 * refused would not be.
 */
#define UP_IMAGE_MAX		(2 * 1024 * 1024)
/* Rows held: the hub leases 8 at once (channel.c CH_INFLIGHT). */
#define UP_QUEUE_MAX		64
/* Attachments held, each a descriptor (RLIMIT_NOFILE). */
#define UP_FILES_MAX		16
#define UP_FULL_RETRY_MS	10000
/* A throttled row back at the hub, tried after this. */
#define UP_RETRY_MS		60000
/*
 * An upload step's answer: a 700 KB chunk frame may take a while to
 * leave a slow uplink, so more than the replies' ack_timeout_ms.
 */
#define UP_ACK_MS		30000
/*
 * A message is answered within about 6 minutes of coming (A.6 #5,
 * A.9); an answer later than this goes as a push.
 */
#define UP_REPLY_MS		(5 * 60 * 1000)
/* The memfd's promise (ipc_msg.h): its size cannot change under us. */

enum up_step { UP_IDLE, UP_INIT, UP_CHUNK, UP_FINISH, UP_SEND };
enum up_tmode { UT_NONE, UT_ACK, UT_DELAY };

static struct {
	struct outq	 oq;
	struct event	*timer;
	enum up_tmode	 tmode;
	uint64_t	 file_max;
	/* The row being sent, oq.cur. */
	enum up_step	 step;		/* the frame out, or next */
	int		 inflight;
	char		 req_id[WCF_ID_MAX + 1];	/* the frame's */
	int		 tries;		/* after error answers */
	uint8_t		*buf;
	size_t		 len;
	const char	*type;		/* "image" or "file", as sent */
	char		 name[WCF_NAME_MAX + 1];
	char		 md5[2 * 16 + 1];
	unsigned	 nchunks;
	unsigned	 chunk;
	char		 upload_id[WCF_MEDIA_ID_MAX + 1];
	char		 media_id[WCF_MEDIA_ID_MAX + 1];
	int		 answer;	/* the message went as an answer */
	int		 push;		/* the answer refused: push */
} up;

static int	 up_where(const char *ctx, const char *peer, char *req_id,
		    char *chatid, int *group);
static void	 up_kick(void);
static int	 up_load(struct outq_item *);
static void	 up_send(void);
static char	*up_frame(void);
static char	*up_message(void);
static const char *up_cmd(void);
static void	 up_done(const struct wcf_in *);
static void	 up_error(long long);
static void	 up_sent(void);
static void	 up_fail(const char *code, const char *why, uint64_t ms);
static void	 up_end(void);
static void	 up_timer(enum up_tmode, long ms);
static void	 up_timer_cb(evutil_socket_t, short, void *);

/* MD5 resolved while OpenSSL may still read its configuration. */
int
upload_pre_sandbox(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (EVP_Digest("", 0, md, &n, EVP_md5(), NULL) != 1) {
		log_warnx("%s: OpenSSL has no MD5 (A.5.8: an upload's "
		    "checksum)", __func__);
		return -1;
	}
	up.file_max = UP_FILE_MAX;
	return 0;
}

int
upload_init(struct event_base *base)
{
	outq_init(&up.oq, "wecom_bot", UP_QUEUE_MAX);
	up.oq.files_max = UP_FILES_MAX;
	if ((up.timer = evtimer_new(base, up_timer_cb, NULL)) == NULL)
		return -1;
	return 0;
}

/*
 * Where the message goes, as reply.c decides for text: the reply
 * context's callback and chat, or without one (the hub starts the
 * conversation) the user or chat id the operator named.  req_id is ""
 * then, and group -1 (not known).
 */
static int
up_where(const char *ctx, const char *peer, char *req_id, char *chatid,
    int *group)
{
	if (*ctx == '\0') {
		if (!wcf_id_ok(peer, strlen(peer)))
			return -1;
		req_id[0] = '\0';
		snprintf(chatid, WCF_ID_MAX + 1, "%s", peer);
		*group = -1;
		return 0;
	}
	return wcf_ctx_decode(ctx, strlen(ctx), req_id, chatid, group);
}

int
upload_outbound_file(const struct ipc_msg *m)
{
	const struct ipc_body_outbound_file *b = &m->b.outbound_file;
	char req_id[WCF_ID_MAX + 1], chatid[WCF_ID_MAX + 1], *ctx, *peer;
	char why[128];
	int group, rv;

	if ((!ipc_streq(b->kind, "file") && !ipc_streq(b->kind, "image")) ||
	    !wk_media_fd_ok(m->fd, b->size)) {
		log_warnx("wecom %s: outbound.file %llu: kind or fd not as "
		    "ipc_msg.h says", wb.account, (unsigned long long)b->id);
		close(m->fd);
		return -1;
	}
	if (b->size == 0 || b->size > up.file_max) {
		close(m->fd);
		if (b->size == 0)
			snprintf(why, sizeof(why), "an empty file: WeCom "
			    "uploads take 1 byte at least");
		else
			snprintf(why, sizeof(why), "%llu bytes, over the %llu "
			    "WeCom takes for a file (A.10)",
			    (unsigned long long)b->size,
			    (unsigned long long)up.file_max);
		log_info("wecom %s: row %llu: %s", wb.account,
		    (unsigned long long)b->id, why);
		outq_fail(b->id, "rejected", why, 0);
		return 0;
	}
	ctx = ipc_strdup(b->reply_ctx);
	peer = ipc_strdup(b->peer);
	rv = up_where(ctx, peer, req_id, chatid, &group);
	xfree_secret(ctx);
	free(peer);
	if (rv == -1) {
		close(m->fd);
		outq_fail(b->id, "rejected", "no WeCom reply context, and the "
		    "target is not a user or chat id", 0);
		return 0;
	}
	if (outq_put_file(&up.oq, b, m->fd, UP_FULL_RETRY_MS) == 1)
		up_kick();
	return 0;
}

/* The next frame, unless one is out, waits, or cannot go now. */
static void
up_kick(void)
{
	struct outq_item *o;

	if (up.inflight || up.tmode == UT_DELAY || !link_ready() ||
	    wb.draining)
		return;
	while (up.step == UP_IDLE) {
		if ((o = outq_take(&up.oq)) == NULL)
			return;
		if (up_load(o) == 0)
			up.step = UP_INIT;
	}
	up_send();
}

static int
up_is_image(const uint8_t *p, size_t len)
{
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };

	return (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) ||
	    (len >= sizeof(png) && memcmp(p, png, sizeof(png)) == 0);
}

/* cur's bytes into memory, its fd closed; -1 when cur was answered. */
static int
up_load(struct outq_item *o)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	size_t off = 0;
	ssize_t n;

	/* size <= up.file_max (upload_outbound_file): one file at most. */
	up.buf = xmalloc(o->size);
	while (off < o->size) {
		/* From offset 0 whatever the shared file offset says. */
		n = pread(o->fd, up.buf + off, o->size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(o->fd);
	o->fd = -1;
	up.len = off;
	if (off != o->size) {
		log_warnx("wecom %s: row %llu: read %zu of %llu bytes",
		    wb.account, (unsigned long long)o->id, off,
		    (unsigned long long)o->size);
		up_fail("retry", "the attachment could not be read", 0);
		return -1;
	}
	if (EVP_Digest(up.buf, up.len, md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen != 16) {
		up_fail("retry", "no MD5", 0);
		return -1;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(up.md5 + 2 * i, 3, "%02x", md[i]);
	up.type = "file";
	if (strcmp(o->kind, "image") == 0) {
		if (up.len <= UP_IMAGE_MAX && up_is_image(up.buf, up.len))
			up.type = "image";
		else
			log_info("wecom %s: row %llu is not a JPG or PNG of at "
			    "most %d bytes: sent as a file", wb.account,
			    (unsigned long long)o->id, UP_IMAGE_MAX);
	}
	/* Shown to the recipient (A.5.8); the hub's names are one line. */
	snprintf(up.name, sizeof(up.name), "%s", *o->name != '\0' ? o->name :
	    up.type);
	up.nchunks = (unsigned)((up.len + WCF_CHUNK_MAX - 1) / WCF_CHUNK_MAX);
	up.chunk = 0;
	return 0;
}

static const char *
up_cmd(void)
{
	switch (up.step) {
	case UP_INIT:
		return "aibot_upload_media_init";
	case UP_CHUNK:
		return "aibot_upload_media_chunk";
	case UP_FINISH:
		return "aibot_upload_media_finish";
	case UP_SEND:
		return up.answer ? "aibot_respond_msg" : "aibot_send_msg";
	case UP_IDLE:
		break;
	}
	return "nothing";
}

static void
up_send(void)
{
	char *json;

	if ((json = up_frame()) == NULL) {
		/* Checked before (ids, sizes): a name jansson refuses. */
		up_fail("rejected", "no WeCom frame could be made of it", 0);
		up_kick();
		return;
	}
	if (link_send(json) == -1) {
		/* The link is going: upload_link_up() sends it again. */
		free(json);
		return;
	}
	free(json);
	up.inflight = 1;
	up_timer(UT_ACK, up.step == UP_SEND ? wb.ack_ms : UP_ACK_MS);
}

static char *
up_frame(void)
{
	size_t off;

	switch (up.step) {
	case UP_INIT:
		wecom_req_id("aibot_upload_media_init", up.req_id,
		    sizeof(up.req_id));
		return wcf_upload_init(up.req_id, up.type, up.name, up.len,
		    up.nchunks, up.md5);
	case UP_CHUNK:
		off = (size_t)up.chunk * WCF_CHUNK_MAX;
		wecom_req_id("aibot_upload_media_chunk", up.req_id,
		    sizeof(up.req_id));
		return wcf_upload_chunk(up.req_id, up.upload_id, up.chunk,
		    up.buf + off, up.len - off < WCF_CHUNK_MAX ? up.len - off :
		    WCF_CHUNK_MAX);
	case UP_FINISH:
		wecom_req_id("aibot_upload_media_finish", up.req_id,
		    sizeof(up.req_id));
		return wcf_upload_finish(up.req_id, up.upload_id);
	case UP_SEND:
		return up_message();
	case UP_IDLE:
		break;
	}
	return NULL;
}

/* The answer to the user's message if it may be one, else a push. */
static char *
up_message(void)
{
	struct outq_item *o = up.oq.cur;
	char cb[WCF_ID_MAX + 1], chatid[WCF_ID_MAX + 1];
	int group;

	if (up_where(o->ctx, o->peer, cb, chatid, &group) == -1)
		return NULL;
	up.answer = !up.push && cb[0] != '\0' &&
	    reply_may_answer(cb, UP_REPLY_MS);
	if (up.answer) {
		snprintf(up.req_id, sizeof(up.req_id), "%s", cb);
		return wcf_media(up.req_id, NULL, 0, up.type, up.media_id);
	}
	wecom_req_id("aibot_send_msg", up.req_id, sizeof(up.req_id));
	return wcf_media(up.req_id, chatid, group, up.type, up.media_id);
}

/* An answer to the frame out, if it is ours; 1 then. */
int
upload_ack(const struct wcf_in *in)
{
	if (!up.inflight || strcmp(in->req_id, up.req_id) != 0)
		return 0;
	up.inflight = 0;
	evtimer_del(up.timer);
	up.tmode = UT_NONE;
	if (in->errcode != 0)
		up_error(in->errcode);
	else
		up_done(in);
	up_kick();
	return 1;
}

static void
up_done(const struct wcf_in *in)
{
	up.tries = 0;
	switch (up.step) {
	case UP_INIT:
		if (in->upload_id[0] == '\0') {
			up_fail("retry", "WeCom's answer to "
			    "aibot_upload_media_init had no upload_id", 0);
			return;
		}
		snprintf(up.upload_id, sizeof(up.upload_id), "%s",
		    in->upload_id);
		up.chunk = 0;
		up.step = UP_CHUNK;
		break;
	case UP_CHUNK:
		if (++up.chunk == up.nchunks)
			up.step = UP_FINISH;
		break;
	case UP_FINISH:
		if (in->media_id[0] == '\0') {
			up_fail("retry", "WeCom's answer to "
			    "aibot_upload_media_finish had no media_id", 0);
			return;
		}
		snprintf(up.media_id, sizeof(up.media_id), "%s",
		    in->media_id);
		up.step = UP_SEND;
		break;
	case UP_SEND:
		up_sent();
		break;
	case UP_IDLE:
		break;
	}
}

/* What A.8 says to do with an error answer to the frame out. */
static void
up_error(long long err)
{
	char why[128];
	long delay = -1;

	log_warnx("wecom %s: %s of row %llu refused with %lld", wb.account,
	    up_cmd(), (unsigned long long)up.oq.cur->id, err);
	if (up.step == UP_SEND && up.answer && (err == WCF_ERR_REQ_ID ||
	    err == WCF_ERR_EXPIRED)) {
		/* That req_id takes no more: a push may go (A.8). */
		reply_refused(up.req_id);
		up.push = 1;
		return;
	}
	switch (err) {
	case WCF_ERR_CONFLICT:
		if (up.tries < 3)
			delay = 150L << up.tries;
		break;
	case WCF_ERR_FREQ:
	case WCF_ERR_CONCURRENCY:
		if (up.tries < 1)
			delay = 2000;
		break;
	case WCF_ERR_BUSY:
		if (up.tries < 3)
			delay = 1000L << up.tries;
		break;
	default:
		break;
	}
	if (delay > 0) {
		up.tries++;
		up_timer(UT_DELAY, delay);
		return;
	}
	snprintf(why, sizeof(why), "WeCom errcode %lld on %s", err, up_cmd());
	if (err == WCF_ERR_CONFLICT || err == WCF_ERR_FREQ ||
	    err == WCF_ERR_CONCURRENCY || err == WCF_ERR_BUSY)
		up_fail("retry", why, UP_RETRY_MS);
	else
		up_fail("rejected", why, 0);
}

static void
up_sent(void)
{
	log_info("wecom %s: row %llu: %s \"%s\", %zu bytes, sent %s",
	    wb.account, (unsigned long long)up.oq.cur->id, up.type, up.name,
	    up.len, up.answer ? "as the answer" : "as a push");
	up_end();
	outq_sent(&up.oq);
}

static void
up_fail(const char *code, const char *why, uint64_t ms)
{
	up_end();
	outq_failed(&up.oq, code, why, ms);
}

/* cur's bytes and steps forgotten; the caller answers cur. */
static void
up_end(void)
{
	evtimer_del(up.timer);
	up.tmode = UT_NONE;
	free(up.buf);
	up.buf = NULL;
	up.len = 0;
	up.step = UP_IDLE;
	up.inflight = 0;
	up.tries = 0;
	up.answer = up.push = 0;
	up.upload_id[0] = up.media_id[0] = '\0';
}

static void
up_timer(enum up_tmode mode, long ms)
{
	struct timeval tv = clock_tv(ms);

	up.tmode = mode;
	evtimer_add(up.timer, &tv);
}

static void
up_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	char why[128];
	enum up_tmode mode = up.tmode;

	(void)fd;
	(void)ev;
	(void)arg;
	up.tmode = UT_NONE;
	if (mode == UT_ACK) {
		up.inflight = 0;
		if (up.step == UP_SEND) {
			log_warnx("wecom %s: no answer to %s within %ld ms; "
			    "row %llu taken as sent (again, it could show "
			    "twice)", wb.account, up_cmd(), wb.ack_ms,
			    (unsigned long long)up.oq.cur->id);
			up_sent();
		} else {
			snprintf(why, sizeof(why), "no answer to %s within %d "
			    "s", up_cmd(), UP_ACK_MS / 1000);
			up_fail("retry", why, 0);
		}
	}
	up_kick();
}

void
upload_link_up(void)
{
	up_kick();
}

/*
 * The connection is gone.  An upload starts over on the next one; a
 * message in flight may have arrived, and sent again it could show
 * twice (A.11): it counts as sent.  One waiting to be tried again goes
 * as a push, as its req_id went with the connection.
 */
void
upload_link_down(void)
{
	evtimer_del(up.timer);
	up.tmode = UT_NONE;
	if (up.step == UP_IDLE)
		return;
	if (up.step == UP_SEND && up.inflight) {
		log_warnx("wecom %s: connection lost before the answer to "
		    "%s; row %llu taken as sent", wb.account, up_cmd(),
		    (unsigned long long)up.oq.cur->id);
		up_sent();
		return;
	}
	up.inflight = 0;
	up.tries = 0;
	if (up.step != UP_SEND) {
		up.step = UP_INIT;
		up.upload_id[0] = '\0';
	}
}

/* Shutdown: nothing answered; the hub sends the rows again. */
void
upload_stop(void)
{
	up_end();
	outq_clear(&up.oq);
}

#ifdef WX_TEST_HOOKS
/* A smaller file cap, so a test sees a row refused over it. */
void
upload_test_max(uint64_t max)
{
	up.file_max = max;
}
#endif
