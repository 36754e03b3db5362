/*
 * The control socket: a Unix stream socket (mode 0600) where wxgatectl
 * speaks length-prefixed IPC frames with the operator role.  Peers are
 * admitted by SO_PEERCRED uid (root or our own uid) before a byte is read.
 */
#include "clock.h"
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control_int.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "role.h"
#include "session.h"
#include "store.h"
#include "wire.h"
#include "wire_stream.h"
#include "xmalloc.h"

/* A stuck wxgatectl cannot make us buffer without bound. */
#define CONTROL_OUT_MAX	(4 * 1024 * 1024)
#define CONTROL_CLIENTS_MAX 16
/* One recvmsg's worth; a frame may take several. */
#define CONTROL_READ_MAX	(64 * 1024)
/* Descriptors one recvmsg may bring: more is a violation anyway. */
#define CONTROL_FDS_MAX		4
/* Rows `wxgatectl audit` shows by default, and at most. */
#define CONTROL_AUDIT_DEFAULT	50
#define CONTROL_AUDIT_MAX	10000

static struct evconnlistener	*listener;
static int			 nclients;
static int			 ctl_userns;	/* control_userns */
static TAILQ_HEAD(, ctl_client)	 clients = TAILQ_HEAD_INITIALIZER(clients);
static uint64_t			 client_ids;
static uint8_t			 cbuf[IPC_FRAME_MAX];
static uint8_t			 rbuf[CONTROL_READ_MAX];

static int	ctl_status(struct ctl_client *, struct ipc_msg *);
static int	ctl_restart(struct ctl_client *, struct ipc_msg *);
static int	ctl_stop(struct ctl_client *, struct ipc_msg *);
static int	ctl_share_create(struct ctl_client *, struct ipc_msg *);
static int	ctl_share_list(struct ctl_client *, struct ipc_msg *);
static int	ctl_share_revoke(struct ctl_client *, struct ipc_msg *);
static int	ctl_pairing_list(struct ctl_client *, struct ipc_msg *);
static int	ctl_pairing_approve(struct ctl_client *, struct ipc_msg *);
static int	ctl_pairing_deny(struct ctl_client *, struct ipc_msg *);
static int	ctl_audit_list(struct ctl_client *, struct ipc_msg *);
static int	ctl_login(struct ctl_client *, struct ipc_msg *);
static int	ctl_stats(struct ctl_client *, struct ipc_msg *);
static int	ctl_metrics(struct ctl_client *, struct ipc_msg *);
static int	ctl_send(struct ctl_client *, struct ipc_msg *);
static int	ctl_outbox(struct ctl_client *, struct ipc_msg *);
static void	ctl_stat(struct ctl_client *, uint64_t, const char *,
		    uint64_t);
#ifdef WX_TEST_HOOKS
static int	ctl_test(struct ctl_client *, struct ipc_msg *);
#endif

static const struct {
	uint32_t	  type;
	int		(*fn)(struct ctl_client *, struct ipc_msg *);
} ctl_handlers[] = {
	{ IPC_CTL_STATUS,	ctl_status },
	{ IPC_CTL_RESTART,	ctl_restart },
	{ IPC_CTL_STOP,		ctl_stop },
	{ IPC_CTL_SHARE_CREATE,	ctl_share_create },
	{ IPC_CTL_SHARE_LIST,	ctl_share_list },
	{ IPC_CTL_SHARE_REVOKE,	ctl_share_revoke },
	{ IPC_CTL_PAIRING_LIST,	ctl_pairing_list },
	{ IPC_CTL_PAIRING_APPROVE, ctl_pairing_approve },
	{ IPC_CTL_PAIRING_DENY,	ctl_pairing_deny },
	{ IPC_CTL_AUDIT_LIST,	ctl_audit_list },
	{ IPC_CTL_LOGIN,	ctl_login },
	{ IPC_CTL_STATS,	ctl_stats },
	{ IPC_CTL_METRICS,	ctl_metrics },
	{ IPC_CTL_SEND,		ctl_send },
	{ IPC_CTL_SEND_FILE,	ctl_send_file },
	{ IPC_CTL_OUTBOX,	ctl_outbox },
	{ IPC_CTL_ACCOUNT_PAUSE, ctl_account_pause },
	{ IPC_CTL_ACCOUNT_RESUME, ctl_account_resume },
	{ IPC_CTL_SCHED_ADD,	ctl_sched_add },
	{ IPC_CTL_SCHED_LIST,	ctl_sched_list },
	{ IPC_CTL_SCHED_RUN,	ctl_sched_run },
	{ IPC_CTL_SCHED_PAUSE,	ctl_sched_pause },
	{ IPC_CTL_SCHED_RESUME,	ctl_sched_resume },
	{ IPC_CTL_SCHED_REMOVE,	ctl_sched_remove },
	{ IPC_CTL_SCHED_HISTORY, ctl_sched_history },
	{ IPC_CTL_RELAY_CREATE,	ctl_relay_create },
	{ IPC_CTL_RELAY_LIST,	ctl_relay_list },
	{ IPC_CTL_RELAY_REVOKE,	ctl_relay_revoke },
	{ IPC_CTL_BIND_CREATE,	ctl_bind_create },
	{ IPC_CTL_BIND_LIST,	ctl_bind_list },
	{ IPC_CTL_BIND_REVOKE,	ctl_bind_revoke },
	{ IPC_CTL_CHANNELS,	ctl_channels },
	{ IPC_CTL_CHANNEL_REMOVE, ctl_channel_remove },
	{ IPC_CTL_CONSOLE_URL,	ctl_console_url },	/* console.c */
	{ IPC_CTL_CONSOLE_REVOKE, ctl_console_revoke },
	{ IPC_CTL_CLUSTER,	ctl_cluster },		/* control_cluster.c */
	{ IPC_CTL_DRAIN,	ctl_drain },
#ifdef WX_TEST_HOOKS
	{ IPC_CTL_TEST,		ctl_test },
#endif
};

static void
ctl_free(struct ctl_client *c)
{
	event_free(c->rev);
	evbuffer_free(c->in);
	if (c->fd != -1)
		close(c->fd);
	bufferevent_free(c->bev);
	TAILQ_REMOVE(&clients, c, entry);
	free(c);
	nclients--;
}

struct ctl_client *
ctl_client_find(uint64_t id)
{
	struct ctl_client *c;

	TAILQ_FOREACH(c, &clients, entry)
		if (c->id == id)
			return c->closing ? NULL : c;
	return NULL;
}

/*
 * s cut to at most max bytes, on a character boundary: the codec
 * refuses to encode a string over its bound (the frame would not go
 * out at all, and wxgatectl would wait for it) and wxgatectl refuses
 * to decode one cut inside a UTF-8 sequence.
 */
void
ctl_fit(struct ipc_str *s, size_t max)
{
	size_t n = max;

	if (s->len <= max)
		return;
	while (n > 0 && ((unsigned char)s->p[n] & 0xc0) == 0x80)
		n--;
	s->len = n;
}

void
ctl_result(struct ctl_client *c, uint64_t req_id, int ok, const char *msg)
{
	struct ipc_body_result r;

	r.ok = ok;
	r.message = ipc_s(msg);
	ctl_fit(&r.message, IPC_MESSAGE_MAX);
	ipc_stream_put(bufferevent_get_output(c->bev), IPC_CTL_RESULT, req_id,
	    &r);
}

static int
ctl_status(struct ctl_client *c, struct ipc_msg *m)
{
	struct ipc_body_ctl_worker b;
	struct worker *w;
	char *platform;

	TAILQ_FOREACH(w, &sup->workers, entry) {
		/* A channel's connection, in its worker's words. */
		platform = NULL;
		if (w->role == ROLE_CHANNEL && store_kv_get(sup->store, w->id,
		    "status", &platform) != 0)
			platform = NULL;
		b.platform = ipc_s(platform != NULL ? platform : "");
		ctl_fit(&b.platform, IPC_MESSAGE_MAX);
		b.name = ipc_s(w->name);
		b.kind = ipc_s(w->kind);
		b.pid = w->pid > 0 ? (uint64_t)w->pid : 0;
		/* Ours while its socket is; the parent's word otherwise. */
		b.state = ipc_s(w->wire != NULL || w->pstate[0] == '\0' ?
		    worker_state_name(w->state) : w->pstate);
		b.uptime_ms = w->pid > 0 ? timespec_ms_since(&w->started) : 0;
		b.restarts = w->restarts;
		b.last_exit = ipc_s(w->last_exit);
		b.msgs_in = w->msgs_in;
		b.msgs_out = w->msgs_out;
		b.seccomp_kills = w->seccomp_kills;
		ipc_stream_put(bufferevent_get_output(c->bev), IPC_CTL_WORKER,
		    m->req_id, &b);
		free(platform);
	}
	ctl_result(c, m->req_id, 1, "");
	return 0;
}

static int
ctl_restart(struct ctl_client *c, struct ipc_msg *m)
{
	char name[IPC_NAME_MAX + 1];
	struct worker *w;

	snprintf(name, sizeof(name), "%.*s", (int)m->b.name.name.len,
	    m->b.name.name.p);
	if ((w = spawn_find(name)) == NULL || (w->flags & W_F_REMOVE)) {
		ctl_result(c, m->req_id, 0, "no such worker");
		return 0;
	}
	log_info("operator (uid %d) restarts %s", (int)c->uid, name);
	hub_request_restart(name);
	ctl_result(c, m->req_id, 1, "restarting");
	return 0;
}

static int
ctl_stop(struct ctl_client *c, struct ipc_msg *m)
{
	log_info("operator (uid %d) stops wxgated", (int)c->uid);
	ctl_result(c, m->req_id, 1, "stopping");
	hub_request_stop();
	return 0;
}

/* ctl_result_stored's answer, once the turn is committed. */
static void
ctl_stored(struct durable *d, int ok)
{
	struct ctl_client *c;

	if ((c = ctl_client_find((uint64_t)d->id)) != NULL)
		ctl_result(c, d->req_id, ok, ok ? d->str : d->str2);
	explicit_bzero(d->str, strlen(d->str));
}

/*
 * The answer to a command whose write must be stored first: on a
 * cluster, in PostgreSQL, so that a link it prints opens on every node
 * at once; alone, in the store's file.  text may hold a secret (a
 * link's): it is wiped once said.
 */
void
ctl_result_stored(struct ctl_client *c, uint64_t req_id, const char *text,
    const char *failed)
{
	struct durable *d = durable_after(ctl_stored);

	d->id = (int64_t)c->id;
	d->req_id = req_id;
	d->str = xstrdup(text);
	d->str2 = xstrdup(failed);
	sup_turn();
}

/* A share link (share.c); its URL, with the secret, goes back once. */
static int
ctl_share_create(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_body_share_create *b = &m->b.share_create;
	char url[IPC_URL_MAX + 1];
	const char *why;

	if (share_create((int64_t)b->session, b->read_only, b->ttl_s, url,
	    sizeof(url), &why) == -1) {
		ctl_result(c, m->req_id, 0, why);
		return 0;
	}
	if (b->session > 0)
		log_info("operator (uid %d) shares session %llu%s",
		    (int)c->uid, (unsigned long long)b->session,
		    b->read_only ? " read-only" : "");
	else
		log_info("operator (uid %d) shares a link for new chats",
		    (int)c->uid);
	ctl_result_stored(c, m->req_id, url, "the link could not be stored");
	explicit_bzero(url, sizeof(url));
	return 0;
}

static int
ctl_share_row(const struct store_share_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_share_row b;
	char prefix[SHARE_PREFIX + 1];

	snprintf(prefix, sizeof(prefix), "%.*s", SHARE_PREFIX, r->hash);
	b.hash = ipc_s(prefix);
	b.created = r->created > 0 ? (uint64_t)r->created : 0;
	b.expires = r->expires > 0 ? (uint64_t)r->expires : 0;
	b.read_only = r->read_only;
	b.session = r->session > 0 ? (uint64_t)r->session : 0;
	b.revoked = r->revoked > 0 ? (uint64_t)r->revoked : 0;
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_SHARE,
	    cw->req_id, &b);
	return 0;
}

/* A listing's rows went out as they came; the result ends it. */
int
ctl_walk_end(struct ctl_walk *cw, int rv)
{
	ctl_result(cw->c, cw->req_id, rv != -1, rv == -1 ? "store error" : "");
	return 0;
}

static int
ctl_share_list(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };

	return ctl_walk_end(&cw, store_share_list(sup->store, ctl_share_row,
	    &cw));
}

/* ID is the link's secret or a prefix of its hash (share.c). */
static int
ctl_share_revoke(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_str *id = &m->b.name.name;
	int rv;

	rv = share_revoke(id->p, id->len);
	switch (rv) {
	case 0:
		log_info("operator (uid %d) revokes a share link",
		    (int)c->uid);
		ctl_result(c, m->req_id, 1, "revoked");
		break;
	case 1:
		ctl_result(c, m->req_id, 0, "no such share link");
		break;
	case 2:
		ctl_result(c, m->req_id, 0,
		    "ambiguous: give more of the hash");
		break;
	default:
		ctl_result(c, m->req_id, 0, "store error");
		break;
	}
	return 0;
}

static int
ctl_pairing_row(const struct store_pairing_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_pairing_row b;

	/* A row the wire cannot carry is skipped, not truncated. */
	if (strlen(r->code) == 0 || strlen(r->code) > IPC_NAME_MAX ||
	    strlen(r->account) > IPC_NAME_MAX ||
	    strlen(r->peer) > IPC_PEER_MAX)
		return 0;
	b.code = ipc_s(r->code);
	b.account = ipc_s(r->account);
	b.peer = ipc_s(r->peer);
	b.created = r->created > 0 ? (uint64_t)r->created : 0;
	b.expires = r->expires > 0 ? (uint64_t)r->expires : 0;
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_PAIRING,
	    cw->req_id, &b);
	return 0;
}

static int
ctl_pairing_list(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };

	return ctl_walk_end(&cw, store_pairing_list(sup->store,
	    ctl_pairing_row, &cw));
}

/* One outbox row as ctl.delivery; 0 sent, 1 no such row, -1 error. */
int
ctl_delivery(struct ctl_client *c, uint64_t req_id, int64_t id)
{
	struct store_outbox_state o;
	struct ipc_body_delivery_row b;
	int rv;

	if ((rv = store_outbox_get(sup->store, id, &o)) != 0)
		return rv;
	b.id = (uint64_t)o.id;
	b.channel = ipc_s(o.account);
	b.target = ipc_s(o.peer);
	b.state = ipc_s(o.state);
	b.detail = ipc_s(o.detail);
	/* The platform's words may run long: the start says enough. */
	ctl_fit(&b.detail, IPC_MESSAGE_MAX);
	if (b.channel.len > IPC_NAME_MAX || b.target.len > IPC_PEER_MAX) {
		store_outbox_state_free(&o);
		return -1;
	}
	b.attempts = (uint64_t)o.attempts;
	b.created = o.created > 0 ? (uint64_t)o.created : 0;
	b.finished = o.finished > 0 ? (uint64_t)o.finished : 0;
	ipc_stream_put(bufferevent_get_output(c->bev), IPC_CTL_DELIVERY,
	    req_id, &b);
	store_outbox_state_free(&o);
	return 0;
}

/* Rows one `wxgatectl send` may queue: a long text, cut. */
#define CONTROL_SEND_PARTS	64

static int
ctl_send(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_body_ctl_send *b = &m->b.ctl_send;
	char account[IPC_NAME_MAX + 1], err[256], *target, *text;
	int64_t ids[CONTROL_SEND_PARTS];
	int i, n;

	snprintf(account, sizeof(account), "%.*s", (int)b->channel.len,
	    b->channel.p);
	target = ipc_strdup(b->target);
	text = ipc_strdup(b->text);
	n = channel_send(account, target, text, ids, CONTROL_SEND_PARTS,
	    err, sizeof(err));
	free(target);
	free(text);
	if (n == -1) {
		ctl_result(c, m->req_id, 0, err);
		return 0;
	}
	if (n > CONTROL_SEND_PARTS) {
		log_warnx("%s: %d parts queued, the first %d shown", __func__,
		    n, CONTROL_SEND_PARTS);
		n = CONTROL_SEND_PARTS;
	}
	log_info("operator (uid %d) sends %d message(s) on %s", (int)c->uid,
	    n, account);
	for (i = 0; i < n; i++)
		ctl_delivery(c, m->req_id, ids[i]);
	ctl_result(c, m->req_id, 1, "");
	return 0;
}

static int
ctl_outbox(struct ctl_client *c, struct ipc_msg *m)
{
	switch (ctl_delivery(c, m->req_id, (int64_t)m->b.seq.seq)) {
	case 0:
		ctl_result(c, m->req_id, 1, "");
		break;
	case 1:
		ctl_result(c, m->req_id, 0, "no such outbox row (pruned, or "
		    "never queued)");
		break;
	default:
		ctl_result(c, m->req_id, 0, "store error");
		break;
	}
	return 0;
}

/* approve and deny differ only in the store call and the words. */
static int
ctl_pairing_decide(struct ctl_client *c, struct ipc_msg *m, int approve)
{
	char code[IPC_NAME_MAX + 1];
	size_t i;
	int rv;

	snprintf(code, sizeof(code), "%.*s", (int)m->b.name.name.len,
	    m->b.name.name.p);
	/* Codes are upper case; an operator may well type them lower. */
	for (i = 0; code[i] != '\0'; i++)
		if (code[i] >= 'a' && code[i] <= 'z')
			code[i] -= 'a' - 'A';
	rv = approve ? store_pairing_approve(sup->store, code, sup_now()) :
	    store_pairing_deny(sup->store, code, sup_now());
	switch (rv) {
	case 0:
		log_info("operator (uid %d) %s a pairing", (int)c->uid,
		    approve ? "approves" : "denies");
		ctl_result(c, m->req_id, 1, approve ? "approved" : "denied");
		break;
	case 1:
		ctl_result(c, m->req_id, 0, "no such pairing code");
		break;
	case 2:
		ctl_result(c, m->req_id, 0, "pairing code expired");
		break;
	default:
		ctl_result(c, m->req_id, 0, "store error");
		break;
	}
	return 0;
}

static int
ctl_pairing_approve(struct ctl_client *c, struct ipc_msg *m)
{
	return ctl_pairing_decide(c, m, 1);
}

static int
ctl_pairing_deny(struct ctl_client *c, struct ipc_msg *m)
{
	return ctl_pairing_decide(c, m, 0);
}

static int
ctl_audit_row(const struct store_audit_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_audit_row b;

	b.time = r->time > 0 ? (uint64_t)r->time : 0;
	b.role = ipc_s(r->role != NULL ? r->role : "");
	b.worker = ipc_s(r->worker != NULL ? r->worker : "");
	b.session = r->session > 0 ? (uint64_t)r->session : 0;
	b.method = ipc_s(r->method != NULL ? r->method : "");
	b.detail = ipc_s(r->detail != NULL ? r->detail : "");
	/* Rows are ours, but a frame must hold them: cut, never fail. */
	ctl_fit(&b.method, IPC_METHOD_MAX);
	ctl_fit(&b.detail, IPC_MESSAGE_MAX);
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_AUDIT,
	    cw->req_id, &b);
	return 0;
}

/* The newest denials (seq is how many; 0 means the default). */
static int
ctl_audit_list(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };
	uint64_t n = m->b.seq.seq;

	if (n == 0 || n > CONTROL_AUDIT_MAX)
		n = n == 0 ? CONTROL_AUDIT_DEFAULT : CONTROL_AUDIT_MAX;
	return ctl_walk_end(&cw, store_audit_list(sup->store, (unsigned)n,
	    ctl_audit_row, &cw));
}

/*
 * The QR login URL a channel is waiting on, for the terminal to draw;
 * with a code, the number the phone asks for, handed to the worker.
 */
static int
ctl_login(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_body_login_req *l = &m->b.login_req;
	char name[IPC_NAME_MAX + 1];
	const char *url;

	snprintf(name, sizeof(name), "%.*s", (int)l->name.len, l->name.p);
	if (config_channel(sup->conf, name) == NULL)
		ctl_result(c, m->req_id, 0, "no such channel");
	else if ((url = channel_login_url(name)) == NULL)
		ctl_result(c, m->req_id, 0, "that channel is not waiting for "
		    "a login");
	else if (l->code.len > 0 && channel_login_code(name, l->code) == -1)
		ctl_result(c, m->req_id, 0, "the channel's worker is not "
		    "running");
	else {
		if (l->code.len > 0)
			log_info("operator (uid %d) enters a login code for "
			    "channel %s", (int)c->uid, name);
		ctl_result(c, m->req_id, 1, url);
	}
	return 0;
}

static void
ctl_stat(struct ctl_client *c, uint64_t req_id, const char *name,
    uint64_t v)
{
	struct ipc_body_name b;
	char line[IPC_NAME_MAX + 1];

	snprintf(line, sizeof(line), "%s %llu", name, (unsigned long long)v);
	b.name = ipc_s(line);
	ipc_stream_put(bufferevent_get_output(c->bev), IPC_CTL_STAT, req_id,
	    &b);
}

/*
 * The store's sizes and what its commits and checkpoints cost, one
 * "name value" row each.  Latencies cover the time since the previous
 * call, so a bench polling once a minute gets per-minute numbers.
 */
struct stat_arg {
	struct ctl_client	*c;
	uint64_t		 id;
};

static void
ctl_stat_cb(const char *name, uint64_t v, void *arg)
{
	struct stat_arg *sa = arg;

	ctl_stat(sa->c, sa->id, name, v);
}

static int
ctl_stats(struct ctl_client *c, struct ipc_msg *m)
{
	struct store_stats st;
	struct stat_arg sa;
	struct worker *w;
	uint64_t id = m->req_id;
	int failing;

	store_wal_stats(sup->store, &st);
	ctl_stat(c, id, "db_bytes", st.db_bytes);
	ctl_stat(c, id, "wal_bytes", st.wal_bytes);
	ctl_stat(c, id, "wal_frames", st.wal_frames);
	ctl_stat(c, id, "commits", st.commits);
	ctl_stat(c, id, "checkpoints", st.checkpoints);
	ctl_stat(c, id, "truncates", st.truncates);
	ctl_stat(c, id, "window_commits", st.window_commits);
	ctl_stat(c, id, "commit_p50_us", st.commit_p50_us);
	ctl_stat(c, id, "commit_p99_us", st.commit_p99_us);
	ctl_stat(c, id, "commit_max_us", st.commit_max_us);
	ctl_stat(c, id, "window_checkpoints", st.window_checkpoints);
	ctl_stat(c, id, "checkpoint_p50_us", st.ckpt_p50_us);
	ctl_stat(c, id, "checkpoint_p99_us", st.ckpt_p99_us);
	ctl_stat(c, id, "checkpoint_max_us", st.ckpt_max_us);
	ctl_stat(c, id, "commit_failures", durable_failures(&failing));
	ctl_stat(c, id, "store_failing", (uint64_t)failing);
	ctl_stat(c, id, "queue_overflows", hub_overflows());
	TAILQ_FOREACH(w, &sup->workers, entry) {
		char name[IPC_NAME_MAX + 32];

		if (w->pid <= 0)
			continue;
		snprintf(name, sizeof(name), "worker.%s.rss_kb", w->name);
		ctl_stat(c, id, name, w->rss_kb);
		snprintf(name, sizeof(name), "worker.%s.pss_kb", w->name);
		ctl_stat(c, id, name, w->pss_kb);
	}
	sa.c = c;
	sa.id = id;
	agentq_stats(ctl_stat_cb, &sa);
	channel_stats(ctl_stat_cb, &sa);
	schedule_stats(ctl_stat_cb, &sa);
	ctl_result(c, id, 1, "");
	return 0;
}

/* ctl.text parts: whole lines, each part far below a frame's bound. */
#define CONTROL_TEXT_PART	(16 * 1024)

struct ctl_text_arg {
	struct ctl_client	*c;
	uint64_t		 req_id;
};

static void
ctl_text_part(const char *p, size_t len, void *arg)
{
	struct ctl_text_arg *a = arg;
	struct ipc_body_text t;

	t.text.p = p;
	t.text.len = len;
	ipc_stream_put(bufferevent_get_output(a->c->bev), IPC_CTL_TEXT,
	    a->req_id, &t);
}

/* Text of whole lines, as ctl.text parts of at most CONTROL_TEXT_PART. */
void
ctl_text(struct ctl_client *c, uint64_t req_id, const char *text)
{
	struct ctl_text_arg a = { c, req_id };
	size_t len = strlen(text), n;
	const char *nl;

	while (len > 0) {
		n = len;
		if (n > CONTROL_TEXT_PART) {
			n = CONTROL_TEXT_PART;
			nl = memrchr(text, '\n', n);
			if (nl != NULL)
				n = (size_t)(nl - text) + 1;
		}
		ctl_text_part(text, n, &a);
		text += n;
		len -= n;
	}
}

/*
 * The Prometheus exposition (metrics.c), as ctl.text parts of whole
 * lines, then the result.  It is built whole first: a few hundred
 * lines per worker and agent, bounded by the configuration.
 */
static int
ctl_metrics(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_text_arg a = { c, m->req_id };

	metrics_parts(CONTROL_TEXT_PART, SIZE_MAX, ctl_text_part, &a);
	ctl_result(c, m->req_id, 1, "");
	return 0;
}

#ifdef WX_TEST_HOOKS
/* Year 3000, cron.h's CRON_AFTER_MAX: a later "now" no schedule takes. */
#define CONTROL_CLOCK_MAX	32503680000LL

/*
 * "clock:+N" and "clock:-N" move the hub's clock by N seconds,
 * "clock:@EPOCH" sets it; the schedule timer is re-armed for the new
 * time.  1 when action was a clock action (answered), else 0.
 */
static int
ctl_test_clock(struct ctl_client *c, uint64_t req_id, struct ipc_str action)
{
	char a[IPC_NAME_MAX + 1], msg[IPC_MESSAGE_MAX + 1], *end;
	int64_t real = (int64_t)time(NULL), want;
	long long v;

	snprintf(a, sizeof(a), "%.*s", (int)action.len, action.p);
	if (strncmp(a, "clock:", 6) != 0)
		return 0;
	/* a[7] is read only when a[6] is not the string's end. */
	if (a[6] == '\0' || strchr("+-@", a[6]) == NULL || a[7] < '0' ||
	    a[7] > '9')
		v = -1;
	else {
		errno = 0;
		v = strtoll(a + 7, &end, 10);
		if (*end != '\0' || errno != 0)
			v = -1;
	}
	if (v < 0 || v > CONTROL_CLOCK_MAX) {
		ctl_result(c, req_id, 0, "clock:+N, clock:-N or clock:@EPOCH");
		return 1;
	}
	want = a[6] == '@' ? v : sup_now() + (a[6] == '+' ? v : -v);
	if (want < 0 || want > CONTROL_CLOCK_MAX) {
		ctl_result(c, req_id, 0, "clock: before 1970 or after 3000");
		return 1;
	}
	sup_clock_set(want - real);
	log_info("test hook: the hub's clock reads %lld", (long long)want);
	schedule_kick();
	snprintf(msg, sizeof(msg), "clock %lld", (long long)sup_now());
	ctl_result(c, req_id, 1, msg);
	return 1;
}

/* The supervisor's switches: every commit fails, or waits. */
static const struct {
	const char	*on, *off;
	void		(*fn)(int);
} ctl_switches[] = {
	{ "commit_fail_on", "commit_fail_off", store_test_fail_commits },
	{ "commit_hold_on", "commit_hold_off", durable_test_hold },
};

static int
ctl_test(struct ctl_client *c, struct ipc_msg *m)
{
	char name[IPC_NAME_MAX + 1];
	struct ipc_body_test t;
	struct worker *w;
	size_t i;

	snprintf(name, sizeof(name), "%.*s", (int)m->b.ctl_test.name.len,
	    m->b.ctl_test.name.p);
	/* The supervisor's own hook: its next channel write fails. */
	if (strcmp(name, "supervisor") == 0 &&
	    ipc_streq(m->b.ctl_test.action, "store_fail")) {
		store_test_fail_writes(1);
		ctl_result(c, m->req_id, 1, "armed");
		return 0;
	}
	for (i = 0; strcmp(name, "supervisor") == 0 &&
	    i < sizeof(ctl_switches) / sizeof(ctl_switches[0]); i++) {
		if (ipc_streq(m->b.ctl_test.action, ctl_switches[i].on) ||
		    ipc_streq(m->b.ctl_test.action, ctl_switches[i].off)) {
			ctl_switches[i].fn(ipc_streq(m->b.ctl_test.action,
			    ctl_switches[i].on));
			ctl_result(c, m->req_id, 1, "armed");
			return 0;
		}
	}
	if (strcmp(name, "supervisor") == 0 &&
	    ctl_test_clock(c, m->req_id, m->b.ctl_test.action))
		return 0;
	if (strcmp(name, "hub") == 0) {
		ctl_result(c, m->req_id, 1, "sent");
		hub_test(m->b.ctl_test.action);
		return 0;
	}
	if ((w = spawn_find(name)) == NULL || w->wire == NULL) {
		ctl_result(c, m->req_id, 0, "no such worker");
		return 0;
	}
	t.action = m->b.ctl_test.action;
	if (wire_send(w->wire, IPC_SUP_TEST, 0, &t) == -1) {
		ctl_result(c, m->req_id, 0, "send failed");
		return 0;
	}
	ctl_result(c, m->req_id, 1, "sent");
	return 0;
}
#endif

/*
 * The descriptor a frame at stream offset off may claim: the pending
 * one when off lies in the read that brought it.  A pending fd whose
 * read lies wholly behind off was passed with no MSG_FD frame: -2.
 */
static int
ctl_frame_fd(struct ctl_client *c, uint64_t off, int want)
{
	int fd;

	if (c->fd == -1)
		return want ? -2 : -1;
	if (off >= c->fd_to || (want && off < c->fd_from))
		return -2;
	if (!want)
		return -1;
	fd = c->fd;
	c->fd = -1;
	return fd;
}

static int
ctl_frames(struct ctl_client *c)
{
	struct ipc_msg m;
	enum ipc_err e;
	uint64_t off;
	size_t len, i;
	int rv = 0, want;

	while (!c->closing) {
		off = c->pulled;
		if ((rv = ipc_stream_pull(c->in, cbuf, &len)) != 1)
			break;
		c->pulled += 4 + len;
		if ((e = ipc_decode(cbuf, len, &m)) != IPC_OK) {
			log_warnx("control: uid %d: %s", (int)c->uid,
			    ipc_strerror(e));
			return -1;
		}
		if (!role_may_send(ROLE_OPERATOR, m.type)) {
			log_warnx("control: uid %d sent %s", (int)c->uid,
			    ipc_type_name(m.type));
			return -1;
		}
		want = (ipc_msginfo(m.type)->flags & MSG_FD) != 0;
		if ((m.fd = ctl_frame_fd(c, off, want)) == -2) {
			log_warnx("control: uid %d: %s %s", (int)c->uid,
			    ipc_type_name(m.type), want ? "without its fd" :
			    "after an fd no frame claimed");
			return -1;
		}
		for (i = 0; i < sizeof(ctl_handlers) / sizeof(ctl_handlers[0]);
		    i++)
			if (ctl_handlers[i].type == m.type)
				break;
		if (i == sizeof(ctl_handlers) / sizeof(ctl_handlers[0])) {
			if (m.fd != -1)
				close(m.fd);
			return -1;
		}
		/* The handler owns m.fd. */
		ctl_handlers[i].fn(c, &m);
		/* Share, pairing and schedule commands write: commit now. */
		sup_turn();
	}
	if (rv == -1)
		return -1;
	/* Every byte framed and still an fd: no frame will claim it. */
	if (c->fd != -1 && c->pulled >= c->fd_to) {
		log_warnx("control: uid %d passed an fd with no MSG_FD frame",
		    (int)c->uid);
		return -1;
	}
	return 0;
}

/*
 * One recvmsg into c->in.  Descriptors are kept (at most one waits at
 * a time); a second, more than one at once or a cut control message
 * ends the connection.  0 read, 1 nothing now, -1 closed or a violation.
 */
static int
ctl_recv(struct ctl_client *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(CONTROL_FDS_MAX * sizeof(int))];
	} cmsgbuf;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov;
	int fds[CONTROL_FDS_MAX], bad = 0;
	size_t nfd = 0, k, i;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = rbuf;
	iov.iov_len = sizeof(rbuf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	if ((n = recvmsg(bufferevent_getfd(c->bev), &msg,
	    MSG_CMSG_CLOEXEC)) == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 1 : -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			if (nfd < CONTROL_FDS_MAX)
				memcpy(&fds[nfd++], CMSG_DATA(cmsg) +
				    i * sizeof(int), sizeof(int));
		}
	}
	if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || nfd > 1 ||
	    (nfd == 1 && (c->fd != -1 || n == 0)))
		bad = 1;
	if (bad) {
		for (i = 0; i < nfd; i++)
			close(fds[i]);
		log_warnx("control: uid %d passed more descriptors than one "
		    "frame may", (int)c->uid);
		return -1;
	}
	if (n == 0)
		return -1;
	if (nfd == 1) {
		c->fd = fds[0];
		c->fd_from = c->rx;
		c->fd_to = c->rx + (uint64_t)n;
	}
	c->rx += (uint64_t)n;
	if (evbuffer_add(c->in, rbuf, (size_t)n) == -1)
		return -1;
	return 0;
}

static void
ctl_read(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client *c = arg;
	int rv;

	(void)fd;
	(void)ev;
	if ((rv = ctl_recv(c)) == 1)
		return;
	if (rv == -1 || ctl_frames(c) == -1)
		goto bad;
	/* A frame never over IPC_FRAME_MAX: more waiting is garbage. */
	if (evbuffer_get_length(c->in) > 4 + IPC_FRAME_MAX)
		goto bad;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    CONTROL_OUT_MAX)
		goto bad;
	return;
bad:
	ctl_free(c);
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_free(arg);
}

static void
ctl_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	/*
	 * The socket's mode is a first fence; the uid check is the real
	 * one.  In the hub's user namespace only its own uid is mapped and
	 * every other one reads as the overflow uid, root's too: there the
	 * fence alone keeps others out (0600, the parent's: only the
	 * parent's uid and root can connect, parent_hub.c: control_open),
	 * and a uid that is not ours is root.
	 */
	if (cred.uid != geteuid() && (cred.uid == 0 || ctl_userns))
		cred.uid = 0;
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warnx("control: refused uid %d", (int)cred.uid);
		close(fd);
		return;
	}
	if (nclients >= CONTROL_CLIENTS_MAX) {
		log_warnx("control: too many clients");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->id = ++client_ids;
	TAILQ_INSERT_TAIL(&clients, c, entry);
	c->uid = cred.uid;
	c->fd = -1;
	c->bev = bufferevent_socket_new(sup->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	/* Reading is ours (ctl_recv): a bufferevent drops passed fds. */
	if ((c->in = evbuffer_new()) == NULL ||
	    (c->rev = event_new(sup->base, fd, EV_READ | EV_PERSIST,
	    ctl_read, c)) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	nclients++;
	bufferevent_setcb(c->bev, NULL, NULL, ctl_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
	bufferevent_disable(c->bev, EV_READ);
	event_add(c->rev, NULL);
}

/* Whether the hub is in a user namespace of its own (hub.c). */
void
control_userns(int on)
{
	ctl_userns = on;
}

/* The listening socket the parent bound (parent_hub.c: control_open). */
int
control_init(int fd)
{
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = evconnlistener_new(sup->base, ctl_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (listener == NULL) {
		log_warnx("control: listener");
		close(fd);
		return -1;
	}
	return 0;
}

void
control_close(void)
{
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
}
