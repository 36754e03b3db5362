/*
 * The wechat worker kind (wk_wechat): one process per personal-WeChat
 * iLink account, role channel.  This file owns the config slice, the
 * start-up read of the account's state (token, base_url, bot_id,
 * cursor), the IPC handler table and the moves between "logged in"
 * (poll.c and send.c run) and "needs a QR scan" (login.c runs).
 *
 * The supervisor owns every durable byte: the token and cursor live in
 * its store and reach us through state.get/state.put.  We never log a
 * token, a QR handle or a context token.
 *
 * sup.resync (a new hub on the same socket): the state.get not yet
 * answered is asked again, every state.put of this life is said again
 * (the old hub may have died before storing it), and poll.c and login.c
 * repeat what they wait on; send.c needs nothing, as the new hub
 * re-sends every unanswered row.
 */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "codec.h"
#include "ilink.h"
#include "log.h"
#include "net/fetch.h"
#include "wechat.h"
#include "worker.h"
#include "xmalloc.h"

#define WECHAT_LOGIN_URL	"https://ilinkai.weixin.qq.com"
/* §1.2: where media lives when an item names no full URL. */
#define WECHAT_CDN_URL		"https://novac2c.cdn.weixin.qq.com/c2c"
#ifdef PACKAGE_VERSION
#define WECHAT_BOT_AGENT	"wxgate/" PACKAGE_VERSION
#else
#define WECHAT_BOT_AGENT	"wxgate/0.1.0"
#endif
/* §3.3 backoff: 2 s after a failure, 30 s after the third in a row. */
#define WECHAT_BACKOFF_MS	2000
#define WECHAT_BACKOFF_LONG_MS	30000
#define WECHAT_BACKOFF_AFTER	3
/* §3.8 and §7: notifystart's timeout; notifystop's, short, at exit. */
#define WECHAT_NOTIFY_MS	10000
#define WECHAT_NOTIFY_STOP_MS	3000

struct wechat wc;

/* The state keys read at start, answered in any order. */
static const char *const start_keys[] = {
	"token", "base_url", "bot_id", "cursor"
};
#define NSTART	(sizeof(start_keys) / sizeof(start_keys[0]))

static struct {
	char		*value[NSTART];
	int		 got[NSTART];
	size_t		 left;
	struct event	*ev;
	int		 resynced;	/* an answer may come twice */
} st;

static int	wechat_pre_sandbox(json_t *);
static int	wechat_zygote_init(void);
static int	wechat_post_sandbox(struct event_base *);
static void	wechat_shutdown(void);
static void	wechat_resync(void);
static int	wechat_state_value(const struct ipc_msg *);
static void	wechat_ask_state(evutil_socket_t, short, void *);
static void	wechat_begin(void);
static void	wechat_online(void);

static const struct wk_handler wechat_handlers[] = {
	{ IPC_STATE_VALUE,	wechat_state_value },
	{ IPC_INBOUND_ACK,	poll_inbound_ack },
	{ IPC_OUTBOUND,		send_outbound },
	{ IPC_OUTBOUND_FILE,	send_outbound_file },
	{ IPC_LOGIN_CODE,	login_code },
	{ 0,			NULL }
};

const struct wk_kind wk_wechat = {
	"wechat", ROLE_CHANNEL, WK_F_DRAINS,
	wechat_pre_sandbox, wechat_post_sandbox, wechat_shutdown,
	wechat_resync, wechat_handlers, NULL, NULL, wechat_zygote_init
};

/*
 * Refuse a URL that is not https (or http to loopback), and resolve
 * its host now, with the system's resolver and /etc/hosts; fetch.c
 * looks it up again with evdns once that answer is old.
 */
static int
wechat_conf_url(const char *key, const char *url)
{
	const char *why;

	if (ilink_url_allowed(url, &why) == -1) {
		log_warnx("wechat: %s: %s", key, why);
		return -1;
	}
	/*
	 * Not for a plain-http (test) login host: an https host its server
	 * names then fails verification, cleanly, for want of the bundle.
	 */
	if (strncmp(url, "https://", 8) == 0 && fetch_load_ca() == -1)
		return -1;
	/* An unresolvable host fails each call, with a log line, not us. */
	return fetch_pin(url) == -1 ? -1 : 0;
}

/* libcurl's globals and the CA bundle: the same for every account. */
static int
wechat_zygote_init(void)
{
	return fetch_init() == -1 || fetch_load_ca() == -1 ? -1 : 0;
}

static int
wechat_pre_sandbox(json_t *conf)
{
	char agent[ILINK_BOT_AGENT_MAX + 1];
	const char *s, *tok;
	long long n;
	size_t len;

	if ((s = wk_conf_str(conf, "account", NULL)) == NULL || !*s) {
		log_warnx("wechat: config slice lacks account");
		return -1;
	}
	wc.account = xstrdup(s);
	if ((s = wk_conf_str(conf, "login_url", WECHAT_LOGIN_URL)) ==
	    NULL || (tok = wk_conf_str(conf, "base_url", "")) == NULL) {
		log_warnx("wechat: login_url and base_url are strings");
		return -1;
	}
	wc.login_url = xstrdup(*s ? s : WECHAT_LOGIN_URL);
	wc.conf_base = xstrdup(tok);
	/* §2.4; our fallback is our own name, not the official "OpenClaw". */
	if ((s = wk_conf_str(conf, "bot_agent", WECHAT_BOT_AGENT)) == NULL)
		s = "";
	switch (ilink_bot_agent(s, WECHAT_BOT_AGENT, agent, sizeof(agent))) {
	case ILINK_BA_SAME:
		break;
	case ILINK_BA_CUT:
		log_warnx("wechat: bot_agent: parts that are not \"Name/Version"
		    " (comment)\" or past %d bytes dropped; sending \"%s\"",
		    ILINK_BOT_AGENT_MAX, agent);
		break;
	case ILINK_BA_FALLBACK:
		log_warnx("wechat: bot_agent has no valid \"Name/Version\" "
		    "token; sending \"%s\"", agent);
		break;
	}
	wc.bot_agent = xstrdup(agent);
	if ((tok = wk_conf_str(conf, "token", "")) == NULL) {
		log_warnx("wechat: token is a string");
		return -1;
	}
	/* §2.1: trimmed; one that cannot go into a header is refused. */
	tok += strspn(tok, " \t\r\n");
	for (len = strlen(tok); len > 0 && strchr(" \t\r\n", tok[len - 1]);)
		len--;
	if (len > 0) {
		wc.conf_token = xstrndup(tok, len);
		if (!ilink_token_ok(wc.conf_token)) {
			log_warnx("wechat: token is not a bot token");
			return -1;
		}
	}
	/* The ranges are config.c's: a slice outside them is a skew. */
	if (wk_conf_int(conf, "poll_timeout_ms", 35000, 1000, 120000,
	    &n) == -1)
		return -1;
	wc.poll_timeout_ms = (long)n;
	if (wk_conf_int(conf, "send_gap_ms", 1500, 0, 60000, &n) == -1)
		return -1;
	wc.send_gap_ms = (long)n;
	if (wk_conf_int(conf, "timeout_s", 15, 1, 600, &n) == -1)
		return -1;
	wc.timeout_s = (long)n;
	/* What one message's attachments may weigh (media.max_bytes). */
	if (wk_conf_int(conf, "media_max_bytes", 20971520, 1, IPC_FILE_MAX,
	    &n) == -1)
		return -1;
	wc.media_max = (uint64_t)n;
	if ((s = wk_conf_str(conf, "cdn_url", WECHAT_CDN_URL)) == NULL) {
		log_warnx("wechat: cdn_url is a string");
		return -1;
	}
	wc.cdn_url = xstrdup(*s ? s : WECHAT_CDN_URL);
	/* The resolver's configuration, for hosts a server names. */
	if (fetch_init() == -1 || fetch_dns_init() == -1 ||
	    wechat_conf_url("login_url", wc.login_url) ||
	    (*wc.conf_base && wechat_conf_url("base_url", wc.conf_base)))
		return -1;
	/*
	 * The default CDN host is looked up when a message first needs it
	 * (evdns, in the sandbox): a host without DNS must not wait on it
	 * at every start.  One the operator named is checked and pinned.
	 */
	if (strcmp(wc.cdn_url, WECHAT_CDN_URL) == 0)
		return fetch_load_ca();
	if (wechat_conf_url("cdn_url", wc.cdn_url) == -1)
		return -1;
	return 0;
}

/*
 * state.get goes out from the loop's first turn, after worker.c has
 * sent ready: the supervisor serves channel requests only after it.
 */
static int
wechat_post_sandbox(struct event_base *base)
{
	wc.base = xstrdup(wc.login_url);
	wc.bot_id = xstrdup("");
	wc.cursor = xstrdup("");
	if (fetch_start(base) == -1 || poll_init(base) == -1 ||
	    send_init(base) == -1 || login_init(base) == -1 ||
	    typing_init(base) == -1)
		return -1;
	st.left = NSTART;
	if ((st.ev = evtimer_new(base, wechat_ask_state, NULL)) == NULL)
		return -1;
	event_active(st.ev, EV_TIMEOUT, 0);
	return 0;
}

static void
wechat_ask_state(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_body_name b;
	size_t i;

	(void)fd;
	(void)what;
	(void)arg;
	/* After a resync: only what the old hub left unanswered. */
	for (i = 0; i < NSTART; i++) {
		if (st.got[i])
			continue;
		b.name = ipc_s(start_keys[i]);
		if (worker_send(IPC_STATE_GET, i + 1, &b) == -1)
			fatalx("%s: supervisor queue full", __func__);
	}
}

/*
 * The answer to our state.get number req_id.  A second one is a bug,
 * unless a resync came between: the new hub may answer both the frame
 * the old one left unread and the one we sent again.
 */
static int
wechat_state_value(const struct ipc_msg *m)
{
	const struct ipc_body_state_value *b = &m->b.state_value;
	size_t i = (size_t)m->req_id - 1;

	if (st.resynced && m->req_id > 0 && m->req_id <= NSTART &&
	    st.got[i] && ipc_streq(b->key, start_keys[i])) {
		log_debug("%s: %s answered again, after a resync", __func__,
		    start_keys[i]);
		return 0;
	}
	if (m->req_id == 0 || m->req_id > NSTART || st.got[i] ||
	    !ipc_streq(b->key, start_keys[i])) {
		log_warnx("%s: unexpected answer (req %llu)", __func__,
		    (unsigned long long)m->req_id);
		return -1;
	}
	st.got[i] = 1;
	st.value[i] = b->found ? ipc_strdup(b->value) : xstrdup("");
	if (--st.left == 0)
		wechat_begin();
	return 0;
}

/* Everything known: poll with a token, or ask for a QR scan. */
static void
wechat_begin(void)
{
	const char *tok = st.value[0];

	if (wc.conf_token != NULL)
		tok = wc.conf_token;
	else if (*tok && !ilink_token_ok(tok)) {
		log_warnx("%s: the stored token is unusable; logging in again",
		    __func__);
		tok = "";
	}
	if (*wc.conf_base)
		wechat_set_base(wc.conf_base, 0);
	else
		wechat_set_base(st.value[1], 1);
	free(wc.bot_id);
	wc.bot_id = xstrdup(st.value[2]);
	free(wc.cursor);
	wc.cursor = xstrdup(st.value[3]);
	log_info("%s: account %s, %s", __func__, wc.account,
	    *tok ? "token known, polling" : "no token, QR login");
	if (*tok) {
		wechat_set_token(tok);
		wk_state_put("status", "polling");
		wechat_online();
		send_kick();
	} else {
		wk_state_put("status", "login_required");
		send_fail_all("not logged in", WECHAT_LOGIN_RETRY_MS);
		login_start();
	}
	xfree_secret(st.value[0]);
	st.value[0] = NULL;
}

/* §3.8: the answer to notifystart or notifystop, whatever it is. */
static void
wechat_notified(struct wcall *c, void *arg)
{
	const char *what = arg, *body;
	struct ilink_ret r;
	size_t len;

	body = wcall_body(c, &len);
	if (wcall_result(c) != WCALL_OK ||
	    ilink_parse_ret(body, len, &r) != ILINK_OK)
		log_info("wechat: %s: %s; going on", what, wcall_result(c) !=
		    WCALL_OK ? wcall_error(c) : "refused");
	if (strcmp(what, "notifystop") == 0) {
		worker_drained();
		return;
	}
	if (!wc.draining && wc.token != NULL)
		poll_start();
}

/* Polling begins after notifystart (§3.8), once per life, best effort. */
static void
wechat_online(void)
{
	static int notified;

	if (notified) {
		poll_start();
		return;
	}
	notified = 1;
	if (wcall_post(wc.base, "ilink/bot/msg/notifystart", wc.token,
	    ilink_body_notify(wc.bot_agent), WECHAT_NOTIFY_MS,
	    wechat_notified, "notifystart") == NULL)
		poll_start();
}

static void
wechat_shutdown(void)
{
	wc.draining = 1;
	/* Unacked sends are the supervisor's to re-send after a restart. */
	poll_stop();
	login_stop();
	send_stop();
	typing_clear();
	/* §3.8: offline, when logged in; we exit on its answer. */
	if (wc.token == NULL || wcall_post(wc.base,
	    "ilink/bot/msg/notifystop", wc.token,
	    ilink_body_notify(wc.bot_agent), WECHAT_NOTIFY_STOP_MS,
	    wechat_notified, "notifystop") == NULL)
		worker_drained();
}

/*
 * A new hub took over.  What the old one was asked may be lost with it:
 * ask and say it again.  Nothing here is fatal for what it forgot.
 */
static void
wechat_resync(void)
{
	st.resynced = 1;
	/* Runs from the loop, as at start, and asks only what is missing. */
	if (st.left > 0)
		event_active(st.ev, EV_TIMEOUT, 0);
	wk_state_resay();
	login_resync();
	poll_resync();
}

static void
wechat_login_qr(const char *status, const char *url)
{
	struct ipc_body_login b;

	b.status = ipc_s(status);
	b.url = ipc_s(url);
	if (worker_send(IPC_LOGIN_QR, 0, &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

void
wechat_set_token(const char *t)
{
	xfree_secret(wc.token);
	wc.token = t != NULL && *t ? xstrdup(t) : NULL;
}

/*
 * The API base for bot calls; NULL or "" means the login host.  One a
 * server chose (from_net: the login's baseurl, now or as stored) must
 * pass the host policy of ilink_host_allowed(), as the bot token goes
 * there; the operator's base_url was checked at start.  Its host is
 * resolved by fetch.c on first use.
 */
void
wechat_set_base(const char *url, int from_net)
{
	const char *why;

	if (url == NULL || *url == '\0')
		url = wc.login_url;
	else if (from_net && ilink_host_allowed(url, wc.login_url, &why) ==
	    -1) {
		log_warnx("%s: the base URL %s the server named is refused "
		    "(%s); using the login host", __func__, url, why);
		url = wc.login_url;
	}
	free(wc.base);
	wc.base = xstrdup(url);
}

/*
 * §8.16: -14 needs a human.  Say so, forget the dead token (for good:
 * the store's copy too) and show a QR code.
 */
void
wechat_login_needed(void)
{
	if (login_running() || wc.draining)
		return;
	log_warnx("%s: the bot token was refused (-14); a new QR scan is "
	    "needed", __func__);
	wechat_login_qr("needed", "");
	wechat_set_token(NULL);
	wk_state_put("token", "");
	/* wxgatectl status says so, not only the log. */
	wk_state_put("status", "login_required");
	poll_stop();
	typing_clear();
	send_fail_all("not logged in", WECHAT_LOGIN_RETRY_MS);
	login_start();
}

/* login.c has stored the new credentials. */
void
wechat_logged_in(void)
{
	wechat_login_qr("done", "");
	if (wc.draining)
		return;
	wk_state_put("status", "polling");
	wechat_online();
	send_kick();
}

void
wechat_send_login_scan(const char *url)
{
	wechat_login_qr("scan", url);
}

uint32_t
wechat_random(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		fatal("%s: getrandom", __func__);
	return v;
}

/* §3.3 rule 7. */
long
wechat_backoff_ms(int *failures)
{
	if (++*failures >= WECHAT_BACKOFF_AFTER) {
		*failures = 0;
		return WECHAT_BACKOFF_LONG_MS;
	}
	return WECHAT_BACKOFF_MS;
}
