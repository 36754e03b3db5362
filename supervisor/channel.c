/*
 * Platform accounts in the supervisor: what a channel worker (role
 * channel, one per account: "wechat.alice") may ask, and the policy
 * every inbound message passes before an agent sees it.
 *
 * inbound.message, in this order: the account must still be configured;
 * a group chat's message is ignored unless the account's group_policy
 * serves groups and (require_mention, the default, unless the chat is
 * in groups_without_mention) it names the bot,
 * and denied (audited) when its chat is not in the list;
 * a redelivery of a stored platform id is acknowledged as a duplicate
 * (platforms deliver at least once); for a direct message the DM policy
 * decides (policy/dm.c): accept, answer an unknown sender with a pairing
 * code, or deny with an audit row.  A group message's conversation is
 * its chat and sender ("chat/sender"), never the sender's direct one,
 * and never another account's.  Then the token
 * buckets per account+peer and per account (the platform's quota).  A
 * limited message is stored as answered, and the sender gets one short
 * notice per stretch of limiting (at most one a minute), never one per
 * message: a notice per message would spend the very quota being
 * protected.  Every inbound.message gets exactly one inbound.ack, sent
 * after the message is in the store (committed with the loop turn,
 * before any later frame is read): the worker advances its platform
 * cursor only after the acks, so a crash on either side re-reads, and
 * the dedupe makes that harmless.  A store error answers "retry".
 *
 * Replies (agent answers and notices) become outbox rows, cut at the
 * account's text_chunk_limit, and go to the worker as outbound.message;
 * a row stays queued until delivery.ack (sent) or a failure that is
 * final (failed), and is kept in that state for the operator
 * (wxgatectl outbox) until the sweep prunes it.  The parts of one reply
 * go one at a time, oldest first: the next waits until the one before
 * has ended, so they arrive in order even when one is retried.
 * At most CH_INFLIGHT rows (of as many peers) are with a worker at
 * once, each leased for CH_LEASE_S; when an account's worker
 * (re)starts, its leased rows are due again at once.  A row is sent at
 * least once: a worker killed between the platform's answer and its
 * delivery.ack sends that row again.
 *
 * state.get/put is the worker's own account's key-value store (tokens,
 * cursors).  Putting "owner" (the user who scanned the login QR code)
 * also allows that user, as the official iLink client does.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "account.h"
#include "areq.h"
#include "bindpage.h"
#include "channel_media.h"
#include "clock.h"
#include "codec.h"
#include "command.h"
#include "config.h"
#include "dm.h"
#include "hub.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "role.h"
#include "store.h"
#include "xmalloc.h"

/* Rows with a worker at once: bounds its queue (and a resend burst). */
#define CH_INFLIGHT	8
/* A leased row comes due again after this (a worker that hangs). */
#define CH_LEASE_S	120
/* Retry delays of undelivered rows double from here, to CH_RETRY_MAX_S. */
#define CH_RETRY_MIN_S	5
#define CH_RETRY_MAX_S	3600
/* Attempts before a row is given up (and logged). */
#define CH_ATTEMPTS_MAX	10
/*
 * Delivery acks kept until a later turn finds them stored.  A turn whose
 * commit fails (a full disk) loses its acks; the row would stay leased
 * for CH_LEASE_S and hold back its peer's later rows, which wait behind
 * it to stay in order.
 */
#define CH_ACKED_MAX	(2 * CH_INFLIGHT)
/* Finished rows are kept this long, and at most this many. */
#define CH_KEEP_S	(7 * 86400)
#define CH_KEEP_ROWS	10000
#define CH_KICK_MS	1000
/* Peers with a live bucket, per account. */
#define CH_PEERS_MAX	4096
#define CH_NOTICE_MAX	1024	/* bytes of one notice */
#define CH_PAIR_TRIES	4	/* fresh codes tried against the index */
#define CH_NSTATUS	8
/*
 * Bytes of attachments queued at once, all accounts: each is held in
 * the store until sent, and read whole into memory to go.
 */
#define CH_FILES_WAIT_MAX	(64 * 1024 * 1024)
/* A full backlog is logged once per this, not per message. */
#define CH_FULL_LOG_MS	60000
/*
 * State keys an account may hold: a kind puts a handful (workers/state.c
 * stops at 8), so a worker that keeps putting new ones is compromised
 * and would grow the store without end.
 */
#define CH_STATE_KEYS	32

/* One configured account's running state. */
struct chacct {
	char		 name[IPC_NAME_MAX + 1];
	struct worker	*w;		/* incarnation frames came from */
	uint64_t	 gen;
	unsigned	 inflight;
	struct ratelimit *rl_peer;	/* per sender of this account */
	struct ratelimit *rl_acct;	/* the account as a whole */
	struct ratelimit *rl_notice;	/* one limit notice a minute */
	uint64_t	 full_logged;	/* clock_mono_ms() of that log */
	uint64_t	 full;		/* messages left on the platform */
	int		 kick;		/* rows may be due: after the commit */
	int		 latest_ctx;	/* replies on the newest context */
	/* Acks not yet seen committed: said again until they are. */
	int64_t		 acked[CH_ACKED_MAX];
	unsigned	 nacked;
	char		 login_url[IPC_URL_MAX + 1];	/* "" none */
	/* For metrics: inbound.ack's words, then what delivery said. */
	uint64_t	 in[CH_NSTATUS];
	uint64_t	 sent;
	uint64_t	 failed;		/* final: the row ended failed */
	uint64_t	 retried;
};

/* inbound.ack's statuses (ipc_msg.h), counted in this order. */
static const char *const ch_status[CH_NSTATUS] = {
	"accepted", "duplicate", "pairing", "denied", "limited", "ignored",
	"busy", "retry",
};

static struct chacct	*accts;
static unsigned		 naccts;
static struct event	*kick_ev;

static int	chan_inbound(struct worker *, struct ipc_msg *);
static int	chan_delivery_ack(struct worker *, struct ipc_msg *);
static int	chan_delivery_fail(struct worker *, struct ipc_msg *);
static int	chan_state_get(struct worker *, struct ipc_msg *);
static int	chan_state_put(struct worker *, struct ipc_msg *);
static int	chan_login(struct worker *, struct ipc_msg *);
struct kick;
struct store_outbox_row;
static void	chan_send_file(struct kick *, const struct store_outbox_row *,
		    const char *);
static void	chan_kick(struct chacct *);
static void	chan_kick_now(struct chacct *);
static void	chan_reack(struct chacct *);

const struct sup_handler channel_handlers[] = {
	{ IPC_INBOUND,		0,	chan_inbound },
	{ IPC_INBOUND_MEDIA,	0,	chan_inbound },
	{ IPC_DELIVERY_ACK,	0,	chan_delivery_ack },
	{ IPC_DELIVERY_FAIL,	0,	chan_delivery_fail },
	{ IPC_STATE_GET,	0,	chan_state_get },
	{ IPC_STATE_PUT,	0,	chan_state_put },
	{ IPC_LOGIN_QR,		0,	chan_login },
	{ 0,			0,	NULL }
};

/*
 * What senders are told, in both languages the web page speaks: they
 * see these in their chat, so they are short and say what to do.
 */
#define NOTICE_PAIRING \
	"[wxgate] 你好！这个助手还不认识你。配对码：%s（%u 分钟内有效），" \
	"请发给它的管理员批准。\n" \
	"Hi! This assistant does not know you yet. Pairing code: %s " \
	"(valid %u min); send it to its operator to approve."
#define NOTICE_LIMITED \
	"[wxgate] 消息太频繁了，请 %llu 秒后再发；在此之前的消息不会被回复。\n" \
	"Too many messages: please wait %llu s. Messages sent before " \
	"then are not answered."
#define NOTICE_BUSY \
	"[wxgate] 助手正忙，你的消息会在稍后处理，请勿重复发送。\n" \
	"The assistant is busy; your message will be handled later, " \
	"no need to send it again."
#define NOTICE_FAILED \
	"[wxgate] 抱歉，暂时无法回答（%.*s），请稍后再试。\n" \
	"Sorry, no answer right now (%.*s); please try again later."

static struct chacct *
acct_find(const char *name)
{
	unsigned i;

	for (i = 0; i < naccts; i++)
		if (strcmp(accts[i].name, name) == 0)
			return &accts[i];
	return NULL;
}

static struct worker *
acct_worker(const struct chacct *a)
{
	if (a->w == NULL || a->w->gen != a->gen || a->w->state != W_RUNNING ||
	    a->w->wire == NULL)
		return NULL;
	return a->w;
}

static void
acct_free_limits(struct chacct *a)
{
	ratelimit_free(a->rl_peer);
	ratelimit_free(a->rl_acct);
	ratelimit_free(a->rl_notice);
	a->rl_peer = a->rl_acct = a->rl_notice = NULL;
}

static void
acct_limits(struct chacct *a, const struct cfg_channel *cc)
{
	struct rl_rate pr = { cc->peer_rate.per, cc->peer_rate.period_ms,
	    cc->peer_rate.burst };
	struct rl_rate ar = { cc->account_rate.per,
	    cc->account_rate.period_ms, cc->account_rate.burst };
	struct rl_rate one = { 1, 60 * 1000, 1 };

	acct_free_limits(a);
	a->rl_peer = ratelimit_new(&pr, CH_PEERS_MAX);
	a->rl_acct = ratelimit_new(&ar, 1);
	a->rl_notice = ratelimit_new(&one, CH_PEERS_MAX);
}

static void
chan_kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = clock_tv(CH_KICK_MS);
	unsigned i;

	(void)fd;
	(void)ev;
	(void)arg;
	if (naccts == 0)
		return;		/* no accounts, no timer: see init */
	for (i = 0; i < naccts; i++) {
		ratelimit_expire(accts[i].rl_peer, clock_mono_ms());
		ratelimit_expire(accts[i].rl_notice, clock_mono_ms());
		chan_kick(&accts[i]);
	}
	evtimer_add(kick_ev, &tv);
	sup_turn();
}

/*
 * At start and on reload: one entry per configured account.  A running
 * worker's bookkeeping carries over; the buckets start afresh with the
 * new rates.
 */
void
channel_init(void)
{
	const struct config *c = sup->conf;
	const struct cfg_channel *cc;
	const struct kind_caps *caps;
	struct chacct *na, *old;
	struct timeval tv = { 0, 0 };
	unsigned i, n;

	n = config_channels(c);
	na = xcalloc(n + 1, sizeof(*na));
	for (i = 0; i < n; i++) {
		/* The file's accounts, then the bound ones (account.c). */
		cc = config_channel_at(c, i);
		if ((old = acct_find(cc->name)) != NULL) {
			na[i] = *old;
			old->rl_peer = old->rl_acct = old->rl_notice = NULL;
		} else
			snprintf(na[i].name, sizeof(na[i].name), "%s",
			    cc->name);
		caps = kinds_caps(cc->type);
		na[i].latest_ctx = caps != NULL &&
		    (caps->flags & KC_LATEST_CTX);
		acct_limits(&na[i], cc);
	}
	for (i = 0; i < naccts; i++)
		acct_free_limits(&accts[i]);
	free(accts);
	accts = na;
	naccts = n;
	/* Retries come due on this timer; a web-chat-only gate needs none. */
	if (kick_ev == NULL &&
	    (kick_ev = evtimer_new(sup->base, chan_kick_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (naccts > 0 && !evtimer_pending(kick_ev, NULL))
		evtimer_add(kick_ev, &tv);
}

/* The frame's account: the worker's own, never a field of the frame. */
static struct chacct *
acct_of(struct worker *w)
{
	struct chacct *a = acct_find(w->id);

	if (a == NULL)
		return NULL;
	if (a->w != w || a->gen != w->gen) {
		a->w = w;
		a->gen = w->gen;
		a->inflight = 0;
	}
	return a;
}

/* Sending. */

/*
 * The byte length of text's first chunk: at most limit code points (as
 * platforms count characters) and, for a platform that counts bytes, at
 * most bytes of UTF-8 (0: no such bound); ending after the last newline
 * in the second half of that window when there is one, and never inside
 * a UTF-8 sequence (the loop stops only on a lead byte).
 */
static size_t
chunk_len(const char *s, size_t len, unsigned limit, size_t bytes)
{
	size_t i, cps = 0, nl = 0, seq;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (cps == limit)
				break;
			/* The whole sequence must fit, not only its lead. */
			for (seq = 1; i + seq < len &&
			    ((unsigned char)s[i + seq] & 0xc0) == 0x80; seq++)
				;
			if (bytes > 0 && i + seq > bytes && i > 0)
				break;
			cps++;
		}
		if (s[i] == '\n' && (cps > limit / 2 ||
		    (bytes > 0 && i > bytes / 2)))
			nl = i + 1;
	}
	if (i == len)
		return len;
	return nl > 0 ? nl : i;
}

/* Where a text goes besides its peer: its message, or its run. */
struct chan_for {
	int64_t		 msg_id;
	int64_t		 run;		/* a schedule's run, or 0 */
	int64_t		 hold_until;	/* a run's: until the peer writes */
	int		 seq;		/* the first row's: parts before it */
};

/*
 * Queue text for peer, cut into chunks; then try to send.  The rows'
 * ids go to ids (up to max of them, when not NULL); returns how many
 * rows were queued, -1 when one could not be.
 */
static int
chan_queue_for(struct chacct *a, const struct cfg_channel *cc,
    const char *peer, const struct chan_for *f, const char *text,
    const char *ctx, int64_t *ids, int max)
{
	const struct kind_caps *caps = kinds_caps(cc->type);
	size_t len = strlen(text), n;
	int64_t id;
	char *chunk;
	int seq = f->seq, failed = 0;

	while (len > 0) {
		n = chunk_len(text, len, cc->text_chunk_limit,
		    caps != NULL ? caps->bytes_max : 0);
		chunk = xstrndup(text, n);
		/* Whitespace-only pieces are not worth a platform message. */
		if (chunk[strspn(chunk, " \t\r\n")] != '\0') {
			if ((f->run != 0 ? store_outbox_add_run(sup->store,
			    a->name, peer, seq, chunk, f->run, f->hold_until,
			    sup_now(), &id) : store_outbox_add(sup->store,
			    a->name, peer, f->msg_id, seq, chunk, ctx, sup_now(),
			    &id)) == -1) {
				log_warnx("%s: %s: reply chunk not queued",
				    __func__, a->name);
				failed = 1;
			} else if (ids != NULL && seq - f->seq < max)
				ids[seq - f->seq] = id;
			seq++;
		}
		free(chunk);
		text += n;
		len -= n;
	}
	chan_kick(a);
	return failed ? -1 : seq - f->seq;
}

static int
chan_queue(struct chacct *a, const struct cfg_channel *cc, const char *peer,
    int64_t msg_id, const char *text, const char *ctx, int64_t *ids,
    int max)
{
	struct chan_for f = { msg_id, 0, 0, 0 };

	return chan_queue_for(a, cc, peer, &f, text, ctx, ids, max);
}

struct kick {
	struct chacct	*a;
	struct worker	*w;
};

/*
 * An attachment row: outbound.file with the bytes as its descriptor.
 * Bytes gone (never, while it is queued) or no memfd: the row fails,
 * as one that does not fit a frame does.
 */
static void
chan_send_file(struct kick *k, const struct store_outbox_row *r,
    const char *key)
{
	struct ipc_body_outbound_file b;
	struct store_attach at;
	const char *why = NULL;
	int fd = -1, rv;

	if ((rv = store_attach_get(sup->store, r->attachment, &at)) == -1)
		return;		/* the lease runs out; tried again then */
	if (rv == 1)
		why = "its file is gone from the store";
	else if ((fd = media_memfd(at.data, at.size)) == -1)
		why = NULL;	/* logged; the lease runs out, tried again */
	if (rv == 1 || fd == -1) {
		if (why != NULL) {
			log_warnx("%s: outbox row %lld: %s; failed",
			    k->a->name, (long long)r->id, why);
			store_outbox_finish(sup->store, k->a->name, r->id,
			    OUTBOX_FAILED, why, sup_now());
		}
		store_attach_free(&at);
		return;
	}
	b.id = (uint64_t)r->id;
	b.key = ipc_s(key);
	b.peer = ipc_s(r->peer);
	b.name = ipc_s(at.name);
	b.kind = ipc_s(at.kind);
	b.size = at.size;
	b.reply_ctx = ipc_s(r->reply_ctx);
	b.spent = (uint64_t)r->spent;
	/* The wire owns fd from here, whatever comes of it. */
	if (router_send_fd(k->w, IPC_OUTBOUND_FILE, 0, &b, fd) == 0)
		k->a->inflight++;
	log_debug("%s: row %lld: file %s, %zu bytes", k->a->name,
	    (long long)r->id, at.name, at.size);
	store_attach_free(&at);
}

static void
chan_send_row(const struct store_outbox_row *r, void *arg)
{
	struct kick *k = arg;
	struct ipc_body_outbound b;
	char key[IPC_NAME_MAX + 1];

	/*
	 * Row ids restart with a new store; with its birth time they don't.
	 * A row the platform surely refused goes again under a new key.
	 */
	if (r->key_gen == 0)
		snprintf(key, sizeof(key), "%lld-%lld", (long long)r->created,
		    (long long)r->id);
	else
		snprintf(key, sizeof(key), "%lld-%lld.%d",
		    (long long)r->created, (long long)r->id, r->key_gen);
	b.id = (uint64_t)r->id;
	b.key = ipc_s(key);
	b.peer = ipc_s(r->peer);
	b.text = ipc_s(r->body);
	b.reply_ctx = ipc_s(r->reply_ctx);
	b.more = r->more;
	b.spent = (uint64_t)r->spent;
	/* Over the frame's limits it never goes: drop it loudly instead. */
	if (b.peer.len > IPC_PEER_MAX || b.text.len > IPC_TEXT_MAX ||
	    b.reply_ctx.len > IPC_CTX_MAX || b.text.len == 0) {
		log_warnx("%s: outbox row %lld does not fit a frame; failed",
		    k->a->name, (long long)r->id);
		store_outbox_finish(sup->store, k->a->name, r->id,
		    OUTBOX_FAILED, "does not fit a frame", sup_now());
		return;
	}
	if (r->attachment != 0) {
		chan_send_file(k, r, key);
		return;
	}
	/* A full queue kills the worker; the row goes to the next one. */
	if (router_send(k->w, IPC_OUTBOUND, 0, &b) == 0)
		k->a->inflight++;
	log_debug("%s: row %lld to its worker (try %d)", k->a->name,
	    (long long)r->id, r->attempts);
}

/*
 * Due rows go out only after the turn that wrote them has committed
 * (channel_flush), so no row id the platform sees is ever rolled back
 * and given to another row.
 */
static void
chan_kick(struct chacct *a)
{
	a->kick = 1;
	sup_turn();
}

/* Rows held back (hub_pg_outbox_below) may go now. */
void
channel_kick_all(void)
{
	unsigned i;

	for (i = 0; i < naccts; i++)
		chan_kick(&accts[i]);
}

/* After each commit, from main.c: the accounts that have rows due. */
void
channel_flush(void)
{
	unsigned i;

	for (i = 0; i < naccts; i++)
		if (accts[i].kick) {
			accts[i].kick = 0;
			chan_kick_now(&accts[i]);
		}
}

/* Hand the account's due rows to its worker, up to CH_INFLIGHT. */
static void
chan_kick_now(struct chacct *a)
{
	struct kick k;
	int64_t now = sup_now();

	if (a->nacked > 0)
		chan_reack(a);
	/* A paused account's rows wait (pause.c); in a cluster, one
	 * whose lease went sends nothing while its worker is stopped. */
	if ((k.w = acct_worker(a)) == NULL || a->inflight >= CH_INFLIGHT ||
	    account_paused(a->name) || !hub_pg_holds(a->name))
		return;
	k.a = a;
	if (store_outbox_lease_ctx(sup->store, a->name, now, now + CH_LEASE_S,
	    CH_INFLIGHT - a->inflight, a->latest_ctx, hub_pg_outbox_below(),
	    chan_send_row, &k) > 0)
		sup_turn();
}

/* Inbound. */

/* A pairing code for an unknown sender, unless one is already live. */
static const char *
chan_pair(struct chacct *a, const struct cfg_channel *cc, const char *peer,
    const char *ctx)
{
	char code[PAIRING_CODE_LEN + 1], notice[CH_NOTICE_MAX];
	int64_t now = sup_now();
	int i, rv;

	if ((rv = store_pairing_live(sup->store, a->name, peer, now)) == -1)
		return "retry";
	/* Asked already: one code, one notice, until it expires. */
	if (rv == 1)
		return "pairing";
	/*
	 * The notice spends the platform's quota as a reply does: new
	 * senders past the account's bucket get no code and no row.
	 */
	if (ratelimit_take(a->rl_acct, "c", clock_mono_ms()) > 0)
		return "limited";
	for (i = 0; i < CH_PAIR_TRIES; i++) {
		if (pairing_code_new(code, sizeof(code)) == -1)
			return "retry";
		if (store_pairing_create(sup->store, a->name, peer, code, now,
		    now + (int64_t)cc->pairing_ttl_s) == 0)
			break;
	}
	if (i == CH_PAIR_TRIES)
		return "retry";
	log_info("channel %s: pairing code %s for an unknown sender; "
	    "wxgatectl pairing approve %s", a->name, code, code);
	snprintf(notice, sizeof(notice), NOTICE_PAIRING, code,
	    cc->pairing_ttl_s / 60, code, cc->pairing_ttl_s / 60);
	chan_queue(a, cc, peer, 0, notice, ctx, NULL, 0);
	return "pairing";
}

/* Stored and answered at once: over the sender's or account's rate. */
static const char *
chan_limited(struct chacct *a, const struct cfg_channel *cc,
    const struct store_chan_msg *sm, uint64_t wait_ms)
{
	char notice[CH_NOTICE_MAX], key[RL_KEY_MAX];
	unsigned long long secs = (wait_ms + 999) / 1000;
	int64_t id;
	int tell;

	snprintf(key, sizeof(key), "n:%016llx", (unsigned long long)
	    ratelimit_hash(sm->peer));
	tell = ratelimit_take(a->rl_notice, key, clock_mono_ms()) == 0;
	snprintf(notice, sizeof(notice), NOTICE_LIMITED, secs, secs);
	if (store_chan_msg_accept(sup->store, sm, sup_now(), &id) == -1 ||
	    store_msg_answer(sup->store, id, tell ? notice : "",
	    sup_now()) == -1)
		return "retry";
	log_debug("channel %s: a sender over the rate (wait %llu s)%s",
	    a->name, secs, tell ? "; told" : "");
	if (tell)
		chan_queue(a, cc, sm->peer, id, notice, sm->reply_ctx, NULL,
		    0);
	return "limited";
}

/*
 * Is the durable backlog full, for this account or over all of them?
 * Then the message is not taken: the platform keeps it and the cursor
 * stays (ack "busy"), the sender hears so once a minute, the operator
 * once a minute in the log.  1 full, 0 room, -1 store error.
 */
static int
chan_full(struct chacct *a, const struct cfg_channel *cc,
    const struct store_chan_msg *sm)
{
	char key[RL_KEY_MAX];
	int64_t mine, all;
	uint64_t now = clock_mono_ms();

	if (store_backlog_count(sup->store, a->name, &mine) == -1 ||
	    store_backlog_count(sup->store, NULL, &all) == -1)
		return -1;
	if (mine < (int64_t)cc->backlog_max &&
	    all < (int64_t)sup->conf->supervisor.backlog_max)
		return 0;
	a->full++;
	if (a->full_logged == 0 || now - a->full_logged >= CH_FULL_LOG_MS) {
		log_warnx("channel %s: backlog full (%lld unanswered here, "
		    "%lld in all); %llu messages left with the platform",
		    a->name, (long long)mine, (long long)all,
		    (unsigned long long)a->full);
		a->full_logged = now;
	}
	snprintf(key, sizeof(key), "b:%016llx", (unsigned long long)
	    ratelimit_hash(sm->peer));
	if (ratelimit_take(a->rl_notice, key, now) == 0)
		chan_queue(a, cc, sm->peer, 0, NOTICE_BUSY, sm->reply_ctx,
		    NULL, 0);
	return 1;
}

/* The peer wrote with a context: a schedule's held rows may go now. */
static void
chan_contact(struct chacct *a, const struct store_chan_msg *sm)
{
	int n;

	if (sm->reply_ctx == NULL || sm->reply_ctx[0] == '\0')
		return;
	if ((n = store_outbox_unhold(sup->store, a->name, sm->peer,
	    sup_now())) > 0) {
		log_info("%s: %d held message(s) to a peer who wrote again",
		    a->name, n);
		chan_kick(a);
	}
}

/*
 * A chat command (command.c): stored and answered by wxgate in this
 * turn, its answer queued like a reply; the agent never sees it.
 */
static const char *
chan_command(struct worker *w, struct chacct *a, const struct cfg_channel *cc,
    struct store_chan_msg *sm, const struct command *cmd, const char *arg)
{
	struct cmd_ctx x;
	char reply[1024];
	int64_t id;

	if (store_chan_session(sup->store, a->name, sm->peer, sup_now(),
	    &sm->session) == -1 ||
	    store_chan_msg_accept(sup->store, sm, sup_now(), &id) == -1)
		return "retry";
	x.session = sm->session;
	x.msg_id = id;
	x.agent = cc->agent;
	x.arg = arg;
	x.w = w;
	x.allowed = sup->conf->policy.channel_commands;
	x.account = a->name;
	x.peer = sm->peer;
	if (command_run(cmd, &x, reply, sizeof(reply)) == -1)
		return "retry";
	log_info("%s: %s from a peer", a->name, command_word(cmd));
	channel_reply(a->name, sm->peer, sm->reply_ctx, id, reply);
	chan_contact(a, sm);
	return "accepted";
}

static const char *
chan_admit(struct worker *w, struct chacct *a, const struct cfg_channel *cc,
    struct store_chan_msg *sm, const struct chan_media *md, int group)
{
	char key[RL_KEY_MAX], arg[CMD_ARG_MAX + 1];
	const struct command *cmd;
	uint64_t now = clock_mono_ms(), wait;
	int64_t id;
	int rv;

	if ((rv = store_chan_msg_seen(sup->store, a->name, sm->msgid)) == -1)
		return "retry";
	if (rv == 1)
		return "duplicate";
	/* The group's own verdict came first (chan_inbound). */
	if (group)
		rv = 1;
	else if ((rv = store_peer_allowed(sup->store, a->name,
	    sm->peer)) == -1)
		return "retry";
	switch (group ? DM_ACCEPT : dm_decide(cc->dm_policy, cc->allow_from,
	    cc->allow_from_count, sm->peer, rv)) {
	case DM_ACCEPT:
		break;
	case DM_PAIR:
		return chan_pair(a, cc, sm->peer, sm->reply_ctx);
	case DM_DENY:
		admit_deny(w, 0, ipc_type_name(IPC_INBOUND),
		    "sender not allowed by dm_policy");
		return "denied";
	}
	/* A sender's bucket first: one flooder must not drain the account. */
	snprintf(key, sizeof(key), "p:%016llx", (unsigned long long)
	    ratelimit_hash(sm->peer));
	if ((wait = ratelimit_take(a->rl_peer, key, now)) == 0 &&
	    (wait = ratelimit_take(a->rl_acct, "c", now)) == 0) {
		if ((cmd = command_find(sm->text, arg, sizeof(arg))) != NULL)
			return chan_command(w, a, cc, sm, cmd, arg);
		if ((rv = chan_full(a, cc, sm)) != 0)
			return rv == -1 ? "retry" : "busy";
		if (md->n > 0 && (rv = store_media_room(sup->store, md->len,
		    sup->conf->media.stored_max_bytes)) != 0) {
			if (rv == 1)
				log_warnx("%s: the media area is full of "
				    "messages not answered yet "
				    "(media.stored_max_bytes); one with "
				    "attachments waits", a->name);
			return rv == -1 ? "retry" : "busy";
		}
		if (store_chan_session(sup->store, a->name, sm->peer,
		    sup_now(), &sm->session) == -1 ||
		    store_chan_msg_accept(sup->store, sm, sup_now(), &id) == -1 ||
		    chan_media_store(md, a->name, id) == -1)
			return "retry";
		/* It waits in the store until the agent has room. */
		agentq_backlog(agentq_find(cc->agent));
		chan_contact(a, sm);
		return "accepted";
	}
	if (store_chan_session(sup->store, a->name, sm->peer, sup_now(),
	    &sm->session) == -1)
		return "retry";
	chan_contact(a, sm);
	return chan_limited(a, cc, sm, wait);
}

/*
 * "retry" if the turn that stored it did not commit: it comes again.
 *
 * In a cluster the ack also waits for the turn's ship, and while the
 * database is down that wait has no deadline of its own, unlike web
 * chat's (router_chat.c, chat_accepted_late).  It needs none: an
 * unacked message is the workers' backpressure, not a client waiting.
 * The wechat worker polls no further batch and stores no cursor until
 * every message of the batch is acked, so the platform keeps them; the
 * wecom_bot worker keeps at most IN_WAIT_MAX messages awaiting acks and
 * sends them again after a resync; the callback worker answers the
 * platform's open request at its reply budget whatever the ack.  And
 * the wait is bounded all the same: a database that is down cannot
 * renew the account's lease, which lapses within cluster.lease_ttl_ms
 * (lease.c's self-fence); the account's worker is then stopped, its
 * claims find no worker, and its unshipped rows never ship
 * (hub_pg.c: ship_held): the account's next holder polls them again.
 * Answering "retry" earlier would only make the worker ask again for
 * what the working set already holds.
 */
static void
chan_ack_cb(struct durable *d, int ok)
{
	struct ipc_body_inbound_ack ack;
	struct worker *w = durable_worker(d);

	if (w == NULL)
		return;
	ack.status = ipc_s(ok ? d->str : "retry");
	router_send(w, IPC_INBOUND_ACK, d->req_id, &ack);
}

/* A chat not in the account's groups: denied, audited. */
static int
chan_group_denied(struct worker *w, const struct cfg_channel *cc,
    struct ipc_str group)
{
	char *chat = ipc_strdup(group);
	enum dm_verdict v;

	v = dm_group_decide(cc->group_policy, cc->groups, cc->groups_count,
	    chat);
	free(chat);
	if (v == DM_ACCEPT)
		return 0;
	admit_deny(w, 0, ipc_type_name(IPC_INBOUND),
	    "group chat not allowed by group_policy");
	return 1;
}

/* The conversation: the sender, or in a group "chat/sender". */
static char *
chan_peer(const struct ipc_body_inbound *ib)
{
	char *p;

	if (ib->group.len == 0)
		return ipc_strdup(ib->peer);
	xasprintf(&p, "%.*s/%.*s", (int)ib->group.len, ib->group.p,
	    (int)ib->peer.len, ib->peer.p);
	return p;
}

static void
chan_count_in(struct chacct *a, const char *status)
{
	unsigned i;

	for (i = 0; i < CH_NSTATUS; i++)
		if (strcmp(ch_status[i], status) == 0) {
			a->in[i]++;
			return;
		}
}

static int
chan_inbound(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_inbound *ib = &m->b.inbound;
	const struct cfg_channel *cc = config_channel(sup->conf, w->id);
	struct store_chan_msg sm;
	struct chan_media md;
	struct durable *d;
	struct chacct *a = acct_of(w);
	const char *status, *why;

	memset(&sm, 0, sizeof(sm));
	memset(&md, 0, sizeof(md));
	if (m->type == IPC_INBOUND_MEDIA && chan_media_read(&md, m->fd,
	    &ib->parts, config_media_max(sup->conf), &why) == -1) {
		log_warnx("%s: %s", w->name, why);
		return -1;
	}
	if (a == NULL || cc == NULL)
		status = "ignored";	/* removed by a reload */
	else if (!hub_pg_holds(a->name))
		status = "retry";	/* its lease went: for its next node */
	else if ((ib->text.len == 0 && md.n == 0) || (ib->group.len > 0 &&
	    (cc->group_policy == GROUP_POLICY_DISABLED ||
	    (!ib->mentioned && config_group_mention(cc, ib->group.p,
	    ib->group.len)))))
		status = "ignored";
	else if (ib->group.len > 0 &&
	    ib->group.len + 1 + ib->peer.len > IPC_PEER_MAX) {
		/* Its replies could not name their conversation. */
		log_warnx("%s: a group message whose chat and sender ids are "
		    "over %d bytes together; ignored", w->name, IPC_PEER_MAX);
		status = "ignored";
	}
	else if (ib->group.len > 0 && chan_group_denied(w, cc, ib->group))
		status = "denied";
	else {
		sm.account = a->name;
		sm.peer = chan_peer(ib);
		sm.msgid = ipc_strdup(ib->msg_id);
		sm.text = md.n > 0 ? chan_media_text(&md, ib->text) :
		    ipc_strdup(ib->text);
		sm.reply_ctx = ipc_strdup(ib->reply_ctx);
		status = chan_admit(w, a, cc, &sm, &md, ib->group.len > 0);
	}
	if (a != NULL)
		chan_count_in(a, status);
	/* The cursor moves on this ack: only once the message is stored. */
	d = durable_after(chan_ack_cb);
	durable_for(d, w, m->req_id, 0);
	d->str = xstrdup(status);
	free((char *)sm.peer);
	free((char *)sm.msgid);
	free((char *)sm.text);
	xfree_secret((char *)sm.reply_ctx);	/* a context token */
	chan_media_free(&md);
	sup_turn();
	return 0;
}

/* Delivery. */

static int
chan_delivery_ack(struct worker *w, struct ipc_msg *m)
{
	struct chacct *a = acct_of(w);
	int rv;

	if (a == NULL)
		return 0;
	/* Another account's row, or one already acked, is not ours. */
	if ((rv = store_outbox_ack(sup->store, a->name,
	    (int64_t)m->b.delivery.id, sup_now())) == 1)
		log_debug("%s: ack of unknown row %llu", w->name,
		    (unsigned long long)m->b.delivery.id);
	if (rv == 0)
		log_debug("%s: row %llu acked", a->name,
		    (unsigned long long)m->b.delivery.id);
	if (rv == 0 && a->inflight > 0)
		a->inflight--;
	if (rv == 0)
		a->sent++;
	if (rv == 0) {
		/* The oldest, if full: its lease ends it the slow way. */
		if (a->nacked == CH_ACKED_MAX)
			memmove(a->acked, a->acked + 1, --a->nacked *
			    sizeof(a->acked[0]));
		a->acked[a->nacked++] = (int64_t)m->b.delivery.id;
	}
	chan_kick(a);
	sup_turn();
	return 0;
}

/*
 * After a commit: each ack still held is applied again.  One found done
 * (1) was committed by an earlier turn and is let go; one applied now
 * (0) waits for this turn's commit to be confirmed on the next pass.
 */
static void
chan_reack(struct chacct *a)
{
	unsigned i, n = 0;
	int again = 0;

	for (i = 0; i < a->nacked; i++) {
		switch (store_outbox_ack(sup->store, a->name, a->acked[i],
		    sup_now())) {
		case 1:
			continue;
		case 0:
			again = 1;
			break;
		}
		a->acked[n++] = a->acked[i];
	}
	a->nacked = n;
	if (again) {
		log_info("channel %s: delivery acks lost with a failed commit "
		    "stored again", a->name);
		sup_turn();
	}
}

static int
chan_delivery_fail(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_delivery_fail *f = &m->b.delivery_fail;
	struct chacct *a = acct_of(w);
	struct store_retry rt;
	int64_t id = (int64_t)f->id, delay;
	char why[IPC_MESSAGE_MAX + 64];
	int n;

	if (a == NULL)
		return 0;
	if (a->inflight > 0)
		a->inflight--;
	if (ipc_streq(f->code, "rejected")) {
		log_warnx("channel %s: the platform refused row %lld: %.*s; "
		    "failed", a->name, (long long)id, (int)f->message.len,
		    f->message.p);
		snprintf(why, sizeof(why), "%.*s", (int)f->message.len,
		    f->message.p);
		store_outbox_finish(sup->store, a->name, id, OUTBOX_FAILED,
		    why, sup_now());
		a->failed++;
		sup_turn();
		return 0;
	}
	if (!ipc_streq(f->code, "retry") && !ipc_streq(f->code, "refused"))
		return -1;
	rt.new_key = ipc_streq(f->code, "refused");
	rt.now = sup_now();
	rt.after_s = (int64_t)((f->retry_after_ms + 999) / 1000);
	rt.base_s = CH_RETRY_MIN_S;
	rt.max_s = CH_RETRY_MAX_S;
	if ((n = store_outbox_retry(sup->store, a->name, id, &rt,
	    &delay)) <= 0)
		return 0;
	if (n >= CH_ATTEMPTS_MAX) {
		log_warnx("channel %s: row %lld undelivered after %d tries "
		    "(%.*s); failed", a->name, (long long)id, n,
		    (int)f->message.len, f->message.p);
		snprintf(why, sizeof(why), "%d tries, the last: %.*s", n,
		    (int)f->message.len, f->message.p);
		store_outbox_finish(sup->store, a->name, id, OUTBOX_FAILED,
		    why, sup_now());
		a->failed++;
	} else {
		a->retried++;
		log_info("channel %s: reply row %lld not delivered (%.*s); "
		    "again in %llds", a->name, (long long)id,
		    (int)f->message.len, f->message.p, (long long)delay);
	}
	sup_turn();
	return 0;
}

/* Worker state and login. */

static int
chan_state_get(struct worker *w, struct ipc_msg *m)
{
	struct ipc_body_state_value v;
	char *key, *value = NULL;
	int rv;

	key = ipc_strdup(m->b.name.name);
	rv = store_kv_get(sup->store, w->id, key, &value);
	v.key = m->b.name.name;
	v.found = rv == 0;
	v.value = ipc_s(rv == 0 ? value : "");
	/* Longer than a frame holds: a value this worker never put. */
	if (v.value.len > IPC_STATE_MAX) {
		v.found = 0;
		v.value = ipc_s("");
	}
	router_send(w, IPC_STATE_VALUE, m->req_id, &v);
	xfree_secret(value);
	free(key);
	return 0;
}

static int
chan_state_put(struct worker *w, struct ipc_msg *m)
{
	char *key, *value;
	int64_t now = sup_now();

	/* A removed account's worker, before it stops: keep nothing. */
	if (config_channel(sup->conf, w->id) == NULL)
		return 0;
	key = ipc_strdup(m->b.state.key);
	/* A new key past the bound: the worker dies, the store stays. */
	if (m->b.state.value.len > 0 &&
	    store_kv_others(sup->store, w->id, key) >= CH_STATE_KEYS) {
		log_warnx("%s: a state key past %d", w->name, CH_STATE_KEYS);
		free(key);
		return -1;
	}
	value = ipc_strdup(m->b.state.value);
	if (store_kv_put(sup->store, w->id, key, value, now) == -1)
		log_warnx("%s: state %s not stored", w->name, key);
	/* The user who scanned the login QR code owns the bot. */
	if (strcmp(key, "owner") == 0 && value[0] != '\0' &&
	    store_peer_allow(sup->store, w->id, value, now) == 0)
		log_info("channel %s: its owner may talk to it", w->id);
	/* A binding's scanner: the invitation's use is spent with it. */
	if (strcmp(key, "owner") == 0 && value[0] != '\0' &&
	    account_pending(w->id))
		bindpage_owner(w->id, value);
	else if (strcmp(key, "status") == 0 && strcmp(value, "scanned") == 0)
		bindpage_scanned(w->id);
	freezero(value, m->b.state.value.len + 1);
	free(key);
	sup_turn();
	return 0;
}

static int
chan_login(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_login *l = &m->b.login;
	struct chacct *a = acct_of(w);

	if (a == NULL)
		return 0;
	if (ipc_streq(l->status, "scan") && l->url.len > 0) {
		snprintf(a->login_url, sizeof(a->login_url), "%.*s",
		    (int)l->url.len, l->url.p);
		/* A binding's code is for its page, not the operator. */
		if (account_pending(a->name)) {
			bindpage_login(a->name, "scan", a->login_url);
			a->login_url[0] = '\0';
			return 0;
		}
		log_warnx("channel %s needs a login: show the QR code with "
		    "\"wxgatectl login %s\" and scan it in WeChat", a->name,
		    a->name);
	} else if (ipc_streq(l->status, "done")) {
		a->login_url[0] = '\0';
		log_info("channel %s: logged in", a->name);
	} else if (ipc_streq(l->status, "needed")) {
		a->login_url[0] = '\0';
		log_warnx("channel %s: the platform ended the login; a new QR "
		    "code follows", a->name);
	} else
		return -1;
	return 0;
}

const char *
channel_login_url(const char *account)
{
	struct chacct *a = acct_find(account);

	return a != NULL && a->login_url[0] != '\0' ? a->login_url : NULL;
}

int
channel_login_code(const char *account, struct ipc_str code)
{
	struct ipc_body_name b;
	struct chacct *a = acct_find(account);
	struct worker *w;

	if (a == NULL || (w = acct_worker(a)) == NULL)
		return -1;
	b.name = code;
	return router_send(w, IPC_LOGIN_CODE, 0, &b);
}

/* From the hub's sweep: finished rows past their keep. */
void
channel_sweep(void)
{
	int n;

	if ((n = store_outbox_prune(sup->store, sup_now() - CH_KEEP_S,
	    CH_KEEP_ROWS)) > 0)
		log_debug("%s: %d finished outbox rows pruned", __func__, n);
	if ((n = store_media_prune(sup->store, sup_now() -
	    (int64_t)sup->conf->media.retention_days * 86400)) > 0)
		log_info("%d attachment(s) past media.retention_days dropped",
		    n);
}

/* From the router. */

/* A platform message's answer, for the conversation it came from. */
void
channel_reply(const char *account, const char *peer, const char *ctx,
    int64_t msg_id, const char *reply)
{
	channel_reply_part(account, peer, ctx, msg_id, reply, 0);
}

/*
 * A part of one: its rows numbered on from seq (the rows queued before
 * it, router_block.c).  The rows queued, or -1.
 */
int
channel_reply_part(const char *account, const char *peer, const char *ctx,
    int64_t msg_id, const char *reply, int seq)
{
	const struct cfg_channel *cc;
	struct chan_for f = { msg_id, 0, 0, seq };
	struct chacct *a;

	if ((cc = config_channel(sup->conf, account)) == NULL ||
	    (a = acct_find(account)) == NULL) {
		log_warnx("%s: account %s is gone; its reply is dropped",
		    __func__, account);
		return -1;
	}
	return chan_queue_for(a, cc, peer, &f, reply, ctx, NULL, 0);
}

/*
 * wxgatectl send: text to target, queued like a reply (cut, paced and
 * retried alike), for a kind that may write first.  Returns the rows
 * queued, their ids in ids; -1 with why in err.
 */
/*
 * May an operator write to peer first?  Always where the platform lets
 * a bot (KC_PROACTIVE); elsewhere (iLink) only within CH_CONTEXT_S of
 * the person's last message, whose context the row then goes with.
 */
static int
chan_may_write(const char *account, const struct cfg_channel *cc,
    const char *peer, char *err, size_t errlen)
{
	const struct kind_caps *caps = kinds_caps(cc->type);
	int64_t when;
	int rv;

	if (caps != NULL && (caps->flags & KC_PROACTIVE))
		return 0;
	if ((rv = store_peer_contact(sup->store, account, peer, &when)) == -1) {
		snprintf(err, errlen, "store error");
		return -1;
	}
	if (rv == 0 && when > sup_now() - CH_CONTEXT_S)
		return 0;
	snprintf(err, errlen, "channel %s (%s) can only answer: its platform "
	    "lets a bot write only within 24 h of the person's last message, "
	    "and %s has written none", account, cc->type, peer);
	return -1;
}

/*
 * The console's take-over (console_send.c): may an operator write to
 * peer now, by the rule channel_send applies?  0 with what one message
 * holds there (code points; UTF-8 bytes, 0 for no such bound), 1 for
 * no such channel, -1 with why in err.
 */
int
channel_send_limit(const char *account, const char *peer, uint32_t *cps,
    uint32_t *bytes, char *err, size_t errlen)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;

	if ((cc = config_channel(sup->conf, account)) == NULL ||
	    acct_find(account) == NULL) {
		snprintf(err, errlen, "no channel %s", account);
		return 1;
	}
	if (chan_may_write(account, cc, peer, err, errlen) == -1)
		return -1;
	caps = kinds_caps(cc->type);
	*cps = cc->text_chunk_limit;
	*bytes = caps != NULL ? caps->bytes_max : 0;
	return 0;
}

int
channel_send(const char *account, const char *target, const char *text,
    int64_t *ids, int max, char *err, size_t errlen)
{
	const struct cfg_channel *cc;
	struct chacct *a;
	int n;

	if ((cc = config_channel(sup->conf, account)) == NULL ||
	    (a = acct_find(account)) == NULL) {
		snprintf(err, errlen, "no channel %s", account);
		return -1;
	}
	if (chan_may_write(account, cc, target, err, errlen) == -1)
		return -1;
	if (text[strspn(text, " \t\r\n")] == '\0') {
		snprintf(err, errlen, "nothing to send");
		return -1;
	}
	if ((n = chan_queue(a, cc, target, 0, text, "", ids, max)) == -1)
		snprintf(err, errlen, "store error: not queued");
	return n;
}

/*
 * The largest attachment the store takes in one commit: IPC_FILE_MAX,
 * or a third of wal_max_bytes when that is less, so one file (written
 * to the WAL once, then checkpointed) does not alone push the log past
 * its bound.
 */
size_t
channel_file_max(void)
{
	size_t wal = sup->conf->supervisor.wal_max_bytes / 3;

	return wal < IPC_FILE_MAX ? wal : IPC_FILE_MAX;
}

/*
 * wxgatectl send --file: one outbox row whose body is the file's name,
 * its bytes an attachment (store_attach.c), for a kind that may write
 * first and takes files.  0 with the row's id, -1 with why in err.
 */
/*
 * A file the agent's reply carries, after its text (row seq): as an
 * attachment row where the kind takes files, else one line saying what
 * could not be sent, so the person knows something is missing.  Rows
 * queued (1), or -1.
 */
int
channel_reply_file(const char *account, const char *peer, const char *ctx,
    int64_t msg_id, int seq, const struct store_attach *at)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;
	struct chan_for f = { msg_id, 0, 0, seq };
	struct store_attach a = *at;
	struct chacct *ac;
	uint64_t waiting;
	const char *why = NULL;
	char *note;
	int rv;

	if ((cc = config_channel(sup->conf, account)) == NULL ||
	    (ac = acct_find(account)) == NULL) {
		log_warnx("%s: account %s is gone; its reply's file is "
		    "dropped", __func__, account);
		return -1;
	}
	caps = kinds_caps(cc->type);
	if (caps == NULL || !(caps->flags & KC_MEDIA))
		why = "this chat takes no files from the bot";
	else if (store_attach_waiting(sup->store, &waiting) == -1)
		return -1;
	else if (waiting + at->size > CH_FILES_WAIT_MAX)
		why = "too many files wait to be sent; ask again later";
	if (why != NULL) {
		log_info("%s: %s: the agent's file %s not sent: %s", __func__,
		    account, at->name, why);
		xasprintf(&note, "[%s \"%s\" (%zu bytes) not sent: %s]",
		    at->kind, at->name, at->size, why);
		rv = chan_queue_for(ac, cc, peer, &f, note, ctx, NULL, 0);
		free(note);
		return rv;
	}
	a.account = account;
	a.peer = peer;
	a.msg_id = msg_id;
	a.seq = seq;
	a.reply_ctx = ctx;
	if (store_attach_add(sup->store, &a, sup_now(), NULL) == -1)
		return -1;
	chan_kick(ac);
	return 1;
}

int
channel_send_file(const struct store_attach *at, int64_t *id, char *err,
    size_t errlen)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;
	struct chacct *a;
	uint64_t waiting;

	if ((cc = config_channel(sup->conf, at->account)) == NULL ||
	    (a = acct_find(at->account)) == NULL) {
		snprintf(err, errlen, "no channel %s", at->account);
		return -1;
	}
	caps = kinds_caps(cc->type);
	if (caps == NULL || !(caps->flags & KC_MEDIA)) {
		snprintf(err, errlen, "channel %s (%s) does not take "
		    "attachments", at->account, cc->type);
		return -1;
	}
	if (chan_may_write(at->account, cc, at->peer, err, errlen) == -1)
		return -1;
	if (store_attach_waiting(sup->store, &waiting) == -1) {
		snprintf(err, errlen, "store error: not queued");
		return -1;
	}
	if (waiting + at->size > CH_FILES_WAIT_MAX) {
		snprintf(err, errlen, "busy: %llu MiB of attachments wait to "
		    "be sent (at most %d MiB); try again later",
		    (unsigned long long)((waiting + (1 << 20) - 1) >> 20),
		    CH_FILES_WAIT_MAX >> 20);
		return -1;
	}
	if (store_attach_add(sup->store, at, sup_now(), id) == -1) {
		snprintf(err, errlen, "store error: not queued");
		return -1;
	}
	chan_kick(a);
	return 0;
}

/*
 * A schedule run's text for peer (schedule.c).  A kind that may not
 * write first gets it only within CH_CONTEXT_S of the peer's last
 * message; past that it is undeliverable, or held for hold_s for the
 * peer to write again (chan_contact).  The target's state, why in
 * detail.
 */
const char *
channel_queue_run(const char *account, const char *peer, const char *text,
    int64_t run, int64_t hold_s, char *detail, size_t len)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;
	struct chan_for f = { 0, run, 0, 0 };
	struct chacct *a;
	int64_t when, now = sup_now();
	int rv;

	if ((cc = config_channel(sup->conf, account)) == NULL ||
	    (a = acct_find(account)) == NULL) {
		snprintf(detail, len, "no channel %s", account);
		return OUTBOX_FAILED;
	}
	if (!hub_pg_holds(account)) {
		/* Another node of the cluster runs it and has its peers'
		 * messages: it judges the contact as it takes the rows in
		 * (hub_pg_sched.c), held if the schedule would hold. */
		if (hold_s > 0)
			f.hold_until = now + hold_s;
	} else if ((caps = kinds_caps(cc->type)) != NULL &&
	    !(caps->flags & KC_PROACTIVE)) {
		if ((rv = store_peer_contact(sup->store, account, peer,
		    &when)) == -1) {
			snprintf(detail, len, "store error");
			return OUTBOX_FAILED;
		}
		if (rv == 1 || when <= now - CH_CONTEXT_S) {
			if (hold_s <= 0) {
				snprintf(detail, len, "no conversation context: "
				    "%s lets a bot write only within 24 h of the "
				    "person's last message (hold_until_contact "
				    "would wait for the next)", cc->type);
				return OUTBOX_UNDELIVERABLE;
			}
			f.hold_until = now + hold_s;
			snprintf(detail, len, "held until the peer writes "
			    "(hold_until_contact)");
		}
	}
	if (chan_queue_for(a, cc, peer, &f, text, "", NULL, 0) == -1) {
		snprintf(detail, len, "store error: not queued");
		return OUTBOX_FAILED;
	}
	return OUTBOX_QUEUED;
}

/* The same, for a message known only by its session (expiry). */
static void
chan_reply_session(int64_t session, int64_t msg_id, const char *reply)
{
	char *account, *peer, *ctx;

	if (store_chan_of(sup->store, session, &account, &peer) != 0)
		return;
	ctx = store_chan_msg_ctx(sup->store, msg_id);
	channel_reply(account, peer, ctx, msg_id, reply);
	/* A context token lets anyone reply as the bot for a day. */
	xfree_secret(ctx);
	free(account);
	free(peer);
}

/* What the sender hears when the agent gave no answer. */
void
channel_failure_text(char *buf, size_t len, struct ipc_str code)
{
	snprintf(buf, len, NOTICE_FAILED, (int)code.len, code.p,
	    (int)code.len, code.p);
}

/* The agent failed: the sender hears so once, and it is final. */
void
channel_failed(int64_t session, int64_t msg_id, struct ipc_str code)
{
	char notice[CH_NOTICE_MAX];

	channel_failure_text(notice, sizeof(notice), code);
	if (store_msg_answer(sup->store, msg_id, notice, sup_now()) == 0)
		chan_reply_session(session, msg_id, notice);
}

/* A new incarnation holds nothing: what was leased is due now. */
void
channel_worker_ready(struct worker *w)
{
	struct chacct *a;

	if ((a = acct_of(w)) == NULL)
		return;
	store_outbox_release(sup->store, a->name, sup_now());
	/* In a cluster, a worker whose lease is not ours goes too. */
	if (account_paused(a->name) || !hub_pg_holds(a->name)) {
		pause_again(a->name);
		return;
	}
	chan_kick(a);
	sup_turn();
}

void
channel_worker_down(struct worker *w)
{
	struct chacct *a = acct_find(w->id);

	if (a != NULL && a->w == w) {
		a->w = NULL;
		a->inflight = 0;
	}
}

/*
 * For wxgatectl stats: each account's backlog, and the messages it
 * refused when full (left with the platform).
 */
void
channel_stats(stat_fn fn, void *arg)
{
	char name[IPC_NAME_MAX + 32];
	int64_t n;
	unsigned i;

	for (i = 0; i < naccts; i++) {
		if (store_backlog_count(sup->store, accts[i].name, &n) == 0) {
			snprintf(name, sizeof(name), "channel.%s.backlog",
			    accts[i].name);
			fn(name, (uint64_t)n, arg);
		}
		snprintf(name, sizeof(name), "channel.%s.refused",
		    accts[i].name);
		fn(name, accts[i].full, arg);
	}
}

/* Each account's traffic, for wxgatectl metrics. */
void
channel_metrics(struct evbuffer *b)
{
	struct mx_labels l;
	int64_t n;
	unsigned i, k;

	mx_family(b, "wxgate_channel_messages_received_total", "counter",
	    "Platform messages, by what the hub made of them.");
	for (i = 0; i < naccts; i++)
		for (k = 0; k < CH_NSTATUS; k++) {
			mx_labels_init(&l);
			mx_label(&l, "channel", accts[i].name);
			mx_label(&l, "status", ch_status[k]);
			mx_put(b, "wxgate_channel_messages_received_total", &l,
			    accts[i].in[k]);
		}
	mx_family(b, "wxgate_channel_messages_sent_total", "counter",
	    "Outbox rows the platform accepted.");
	for (i = 0; i < naccts; i++) {
		mx_labels_init(&l);
		mx_label(&l, "channel", accts[i].name);
		mx_put(b, "wxgate_channel_messages_sent_total", &l,
		    accts[i].sent);
	}
	mx_family(b, "wxgate_channel_delivery_failures_total", "counter",
	    "Outbox rows that ended failed.");
	for (i = 0; i < naccts; i++) {
		mx_labels_init(&l);
		mx_label(&l, "channel", accts[i].name);
		mx_put(b, "wxgate_channel_delivery_failures_total", &l,
		    accts[i].failed);
	}
	mx_family(b, "wxgate_channel_delivery_retries_total", "counter",
	    "Outbox rows the platform did not take yet, tried again later.");
	for (i = 0; i < naccts; i++) {
		mx_labels_init(&l);
		mx_label(&l, "channel", accts[i].name);
		mx_put(b, "wxgate_channel_delivery_retries_total", &l,
		    accts[i].retried);
	}
	mx_family(b, "wxgate_channel_backlog", "gauge",
	    "Platform messages stored and not yet answered.");
	for (i = 0; i < naccts; i++)
		if (store_backlog_count(sup->store, accts[i].name, &n) == 0) {
			mx_labels_init(&l);
			mx_label(&l, "channel", accts[i].name);
			mx_put(b, "wxgate_channel_backlog", &l,
			    n > 0 ? (uint64_t)n : 0);
		}
	mx_family(b, "wxgate_channel_refused_total", "counter",
	    "Platform messages left with the platform: the backlog was "
	    "full.");
	for (i = 0; i < naccts; i++) {
		mx_labels_init(&l);
		mx_label(&l, "channel", accts[i].name);
		mx_put(b, "wxgate_channel_refused_total", &l, accts[i].full);
	}
}

/*
 * Account i's message counts for the console's overview (console_page.c):
 * received (every inbound.ack status), sent, failed.  -1 past the last.
 */
int
channel_counts(unsigned i, const char **name, uint64_t *in, uint64_t *sent,
    uint64_t *failed)
{
	unsigned k;

	if (i >= naccts)
		return -1;
	*name = accts[i].name;
	for (*in = 0, k = 0; k < CH_NSTATUS; k++)
		*in += accts[i].in[k];
	*sent = accts[i].sent;
	*failed = accts[i].failed;
	return 0;
}
