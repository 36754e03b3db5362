/*
 * A test-only channel kind (built with --enable-test-hooks only): a
 * platform account whose "platform" is the test itself.  `wxgatectl
 * test loopback.NAME say:PEER:TEXT` makes a user PEER write TEXT (a
 * PEER of "CHAT#USER": USER writes in the group chat CHAT, naming the
 * bot when TEXT holds "@bot"); each
 * outbound.message is logged as "loopback NAME: to PEER: TEXT" and
 * acknowledged, except to the peer "refuser", which refuses for good
 * (delivery.fail rejected); each outbound.file is read from its memfd
 * and logged as "loopback NAME: file FILE N bytes to PEER (KIND, sha256
 * HEX)",
 * then acknowledged.  `media:PEER:KIND:NAME:N[:TEXT]` makes PEER send
 * an attachment of N bytes (byte i is (i * 31 + 7) mod 256) with TEXT;
 * `media-png:...` begins it with PNG's signature;
 * `media-unsealed:...` and `media-short:...` send it in an unsealed
 * memfd, or declare one byte more than the memfd holds, as a
 * compromised worker might; `state:N` puts N distinct state keys.
 * It proves the channel interface: adding a kind is this folder, its
 * row in worker.c's kind table and one in the supervisor's
 * (supervisor/kinds.c), and nothing in the router or channel.c.  Like the
 * wechat kind it keeps each inbound message until its inbound.ack, and
 * sup.resync hands those to the new hub again under the same req_id.
 */
#ifdef WX_TEST_HOOKS
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "codec.h"
#include "log.h"
#include "media.h"
#include "outq.h"
#include "worker.h"
#include "xmalloc.h"

/* Messages said but not acked; past this they are not kept. */
#define LB_WAIT_MAX	64

struct lb_msg {
	uint64_t	 req;
	char		*peer;
	size_t		 peerlen;
	char		*text;
	size_t		 textlen;
};

static char		*lb_account;
static uint64_t		 lb_next = 1;
static struct lb_msg	 lb_wait[LB_WAIT_MAX];
static size_t		 lb_nwait;

static int	lb_pre_sandbox(json_t *);
static int	lb_inbound_ack(const struct ipc_msg *);
static int	lb_outbound(const struct ipc_msg *);
static int	lb_outbound_file(const struct ipc_msg *);
static int	lb_test(struct ipc_str);
static const char *lb_profile(void);
static void	lb_resync(void);

static const struct wk_handler lb_handlers[] = {
	{ IPC_INBOUND_ACK,	lb_inbound_ack },
	{ IPC_OUTBOUND,		lb_outbound },
	{ IPC_OUTBOUND_FILE,	lb_outbound_file },
	{ 0,			NULL }
};

const struct wk_kind wk_loopback = {
	"loopback", ROLE_CHANNEL, WK_F_NONET,
	lb_pre_sandbox, NULL, NULL, lb_resync, lb_handlers, lb_profile,
	lb_test, NULL
};

static int
lb_pre_sandbox(json_t *conf)
{
	const char *a = wk_conf_str(conf, "account", NULL);

	if (a == NULL || *a == '\0')
		return -1;
	lb_account = xstrdup(a);
	return 0;
}

/* It dials nothing: the agent's allowlist (the event loop) is enough. */
static const char *
lb_profile(void)
{
	return "loopback";
}

static int
lb_send(uint64_t req, const char *peer, size_t peerlen, const char *text,
    size_t textlen)
{
	struct ipc_body_inbound in;
	const char *hash;
	char id[32];

	memset(&in, 0, sizeof(in));
	in.group = IPC_S("");
	/* "CHAT#PEER": PEER writes in the group chat CHAT. */
	if ((hash = memchr(peer, '#', peerlen)) != NULL) {
		in.group.p = peer;
		in.group.len = (size_t)(hash - peer);
		peerlen -= in.group.len + 1;
		peer = hash + 1;
	}
	in.peer.p = peer;
	in.peer.len = peerlen;
	in.text.p = text;
	in.text.len = textlen;
	/* "@bot" in a group's text stands for a mention of the account. */
	in.mentioned = in.group.len > 0 && textlen >= 4 &&
	    memmem(text, textlen, "@bot", 4) != NULL;
	snprintf(id, sizeof(id), "lb-%llu", (unsigned long long)req);
	in.msg_id = ipc_s(id);
	in.reply_ctx = IPC_S("");
	return worker_send(IPC_INBOUND, req, &in);
}

/* Acked twice after a resync, or never kept: only logged. */
static int
lb_inbound_ack(const struct ipc_msg *m)
{
	size_t i;

	log_info("loopback %s: inbound %llu: %.*s", lb_account,
	    (unsigned long long)m->req_id, (int)m->b.inbound_ack.status.len,
	    m->b.inbound_ack.status.p);
	for (i = 0; i < lb_nwait; i++)
		if (lb_wait[i].req == m->req_id)
			break;
	if (i == lb_nwait)
		return 0;
	free(lb_wait[i].peer);
	free(lb_wait[i].text);
	memmove(&lb_wait[i], &lb_wait[i + 1],
	    (lb_nwait - i - 1) * sizeof(lb_wait[0]));
	lb_nwait--;
	return 0;
}

/* A new hub: every message not yet acked, again, in order. */
static void
lb_resync(void)
{
	size_t i;

	log_info("loopback %s: resync: %zu inbound again", lb_account,
	    lb_nwait);
	for (i = 0; i < lb_nwait; i++)
		if (lb_send(lb_wait[i].req, lb_wait[i].peer,
		    lb_wait[i].peerlen, lb_wait[i].text,
		    lb_wait[i].textlen) == -1)
			fatalx("%s: supervisor queue full", __func__);
}

static int
lb_outbound(const struct ipc_msg *m)
{
	const struct ipc_body_outbound *o = &m->b.outbound;

	/* The peer "refuser" stands for a platform that says no for good. */
	if (ipc_streq(o->peer, "refuser")) {
		outq_fail(o->id, "rejected", "loopback: refuser takes nothing",
		    0);
		return 0;
	}
	log_info("loopback %s: to %.*s: %.*s", lb_account, (int)o->peer.len,
	    o->peer.p, (int)o->text.len, o->text.p);
	outq_ack(o->id);
	return 0;
}

/*
 * The memfd holds exactly size bytes from offset 0: anything else is
 * the hub breaking its word, and a worker stops on that.
 */
static int
lb_outbound_file(const struct ipc_msg *m)
{
	const struct ipc_body_outbound_file *o = &m->b.outbound_file;
	static const char hex[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE], *p;
	char mdhex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0, i;
	struct stat sb;
	size_t off = 0;
	ssize_t n;

	if (fstat(m->fd, &sb) == -1 || (uint64_t)sb.st_size != o->size)
		fatalx("%s: row %llu: the memfd is not %llu bytes", __func__,
		    (unsigned long long)o->id, (unsigned long long)o->size);
	p = xmalloc(o->size + 1);
	while (off < o->size) {
		n = read(m->fd, p + off, o->size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			fatalx("%s: read of the memfd failed", __func__);
		off += (size_t)n;
	}
	close(m->fd);
	if (EVP_Digest(p, o->size, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("%s: sha256", __func__);
	free(p);
	for (i = 0; i < mdlen; i++) {
		mdhex[2 * i] = hex[md[i] >> 4];
		mdhex[2 * i + 1] = hex[md[i] & 0x0f];
	}
	mdhex[2 * mdlen] = '\0';
	if (ipc_streq(o->peer, "refuser")) {
		outq_fail(o->id, "rejected", "loopback: refuser takes nothing",
		    0);
		return 0;
	}
	log_info("loopback %s: file %.*s %llu bytes to %.*s (%.*s, sha256 %s)",
	    lb_account, (int)o->name.len, o->name.p,
	    (unsigned long long)o->size, (int)o->peer.len, o->peer.p,
	    (int)o->kind.len, o->kind.p, mdhex);
	outq_ack(o->id);
	return 0;
}

/* The next ':'-separated field of a test action, NUL-terminated. */
static char *
lb_field(char **p)
{
	char *f = *p, *c;

	if (f == NULL)
		return NULL;
	if ((c = strchr(f, ':')) != NULL) {
		*c = '\0';
		*p = c + 1;
	} else
		*p = NULL;
	return f;
}

/*
 * "media[-unsealed|-short]:PEER:KIND:NAME:N[:TEXT]".  Not kept for a
 * resync: the tests that use it kill no hub.
 */
static int
lb_media(struct ipc_str a)
{
	struct ipc_body_inbound in;
	struct wk_media md;
	char *s, *p, *mode, *peer, *kind, *name, *num, *text, id[32], *e;
	uint8_t *buf;
	unsigned long long n, i;
	const char *why;
	int rv = -1, fd;
	uint64_t req;

	p = s = ipc_strdup(a);
	mode = lb_field(&p);
	peer = lb_field(&p);
	kind = lb_field(&p);
	name = lb_field(&p);
	num = lb_field(&p);
	text = p != NULL ? p : "";
	if (num == NULL || *peer == '\0' ||
	    (n = strtoull(num, &e, 10)) == 0 || *e != '\0' ||
	    n > IPC_FILE_MAX) {
		free(s);
		return -1;
	}
	buf = xmalloc(n);
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	/* An image a model can read: PNG's signature first. */
	if (strcmp(mode, "media-png") == 0 && n >= 8) {
		memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
		mode = "media";
	}
	wk_media_init(&md, IPC_FILE_MAX);
	if (wk_media_add(&md, kind, name, buf, n, &why) == -1) {
		log_warnx("loopback %s: %s", lb_account, why);
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.group = IPC_S("");
	in.peer = ipc_s(peer);
	in.text = ipc_s(text);
	req = lb_next++;
	snprintf(id, sizeof(id), "lb-%llu", (unsigned long long)req);
	in.msg_id = ipc_s(id);
	in.reply_ctx = IPC_S("");
	if (strcmp(mode, "media-short") == 0)
		md.size[0]++;
	if (strcmp(mode, "media-unsealed") == 0) {
		in.parts.n = 1;
		in.parts.v[0].kind = ipc_s(kind);
		in.parts.v[0].name = ipc_s(name);
		in.parts.v[0].size = n;
		if ((fd = dup(md.fd)) != -1)
			rv = worker_send_fd(IPC_INBOUND_MEDIA, req, &in, fd);
	} else if (strcmp(mode, "media") == 0 ||
	    strcmp(mode, "media-short") == 0)
		rv = wk_media_send(&md, req, &in);
out:
	wk_media_clear(&md);
	free(buf);
	free(s);
	return rv;
}

/*
 * "state:N": N state.put of keys k0..kN-1, as a compromised worker might
 * (wk_state_put stops a real kind at WK_STATE_KEYS).
 */
static int
lb_state(struct ipc_str a)
{
	struct ipc_body_state b;
	char num[16], key[24], *e;
	unsigned long n, i;

	snprintf(num, sizeof(num), "%.*s", (int)(a.len - 6), a.p + 6);
	if ((n = strtoul(num, &e, 10)) == 0 || *e != '\0' || n > 1000)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%lu", i);
		b.key = ipc_s(key);
		b.value = IPC_S("v");
		if (worker_send(IPC_STATE_PUT, 0, &b) == -1)
			return -1;
	}
	return 0;
}

/* "say:PEER:TEXT": PEER writes TEXT to the account. */
static int
lb_test(struct ipc_str a)
{
	struct lb_msg *w;
	const char *peer, *text, *colon;
	size_t peerlen, textlen;
	uint64_t req;

	if (a.len > 6 && memcmp(a.p, "media", 5) == 0)
		return lb_media(a);
	if (a.len > 6 && memcmp(a.p, "state:", 6) == 0)
		return lb_state(a);
	if (a.len < 5 || memcmp(a.p, "say:", 4) != 0 ||
	    (colon = memchr(a.p + 4, ':', a.len - 4)) == NULL)
		return -1;
	req = lb_next++;
	peer = a.p + 4;
	peerlen = (size_t)(colon - peer);
	text = colon + 1;
	textlen = a.len - (size_t)(colon + 1 - a.p);
	if (lb_send(req, peer, peerlen, text, textlen) == -1)
		return -1;
	if (lb_nwait == LB_WAIT_MAX) {
		log_warnx("loopback %s: inbound %llu not kept for a resync",
		    lb_account, (unsigned long long)req);
		return 0;
	}
	w = &lb_wait[lb_nwait++];
	w->req = req;
	/* Lengths, not NULs: a test may say anything. */
	w->peer = xmalloc(peerlen + 1);
	memcpy(w->peer, peer, peerlen);
	w->peerlen = peerlen;
	w->text = xmalloc(textlen + 1);
	memcpy(w->text, text, textlen);
	w->textlen = textlen;
	return 0;
}
#endif
