/*
 * QR login of the wechat worker (§4): fetch a QR code from the fixed
 * login host, hand its URL to the supervisor (login.qr "scan", which
 * shows it to the operator), long-poll its status, and on "confirmed"
 * store the new credentials through state.put.  At most three QR codes
 * per attempt (§4.3); then a pause and a new attempt, for as long as
 * the worker lives: a channel without a token has nothing else to do.
 * When the phone asks for a verification code (need_verifycode) it
 * waits for the operator's login.code frame (wxgatectl login NAME CODE)
 * and polls with it at once.  The QR handle is a short-lived credential
 * and never logged, nor is the code.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "codec.h"
#include "ilink.h"
#include "log.h"
#include "wechat.h"
#include "worker.h"
#include "xmalloc.h"

/* §7.1 constants of the official client. */
#define LOGIN_QR_MAX		3
#define LOGIN_POLL_MS		35000
#define LOGIN_GAP_MS		1000
#define LOGIN_DEADLINE_MS	(480 * 1000)
/* Between attempts: long enough not to spin, short for a human. */
#define LOGIN_PAUSE_MS		60000

static struct {
	int			 running;
	int			 qrs;		/* shown this attempt */
	int			 failures;	/* fetch failures */
	int			 scanned;
	int			 want_code;	/* waiting for login.code */
	int			 redirect_said;	/* a refusal was logged */
	uint64_t		 started;	/* of this attempt, ms */
	char			*qrcode;	/* secret */
	char			*url;		/* its URL, for a new hub */
	char			*code;		/* verify_code sent, or NULL */
	char			*status_base;	/* or a redirect's */
	struct wcall		*call;
	struct event		*timer;
	void			(*next)(void);	/* run by the timer */
} lg;

static void	login_fetch(void);
static void	login_fetched(struct wcall *, void *);
static void	login_poll(void);
static void	login_polled(struct wcall *, void *);
static void	login_restart(void);
static void	login_later(void (*)(void), long);
static void	login_confirmed(const struct ilink_qrstatus *);
static void	login_ask_code(void);
static void	login_code_late(void);
static void	login_timer(evutil_socket_t, short, void *);

int
login_init(struct event_base *base)
{
	lg.timer = evtimer_new(base, login_timer, NULL);
	return lg.timer == NULL ? -1 : 0;
}

int
login_running(void)
{
	return lg.running;
}

void
login_start(void)
{
	if (lg.running)
		return;
	lg.running = 1;
	lg.failures = 0;
	login_restart();
}

static void
login_forget_code(void)
{
	xfree_secret(lg.code);
	lg.code = NULL;
}

static void
login_forget_qr(void)
{
	xfree_secret(lg.qrcode);
	lg.qrcode = NULL;
	free(lg.url);
	lg.url = NULL;
	login_forget_code();
	lg.want_code = 0;
	lg.redirect_said = 0;
	free(lg.status_base);
	lg.status_base = NULL;
}

void
login_stop(void)
{
	lg.running = 0;
	wcall_cancel(lg.call);
	lg.call = NULL;
	evtimer_del(lg.timer);
	login_forget_qr();
}

/*
 * A new hub knows no QR code: show it the one being polled, if any (a
 * scan, a confirmation or a verification code may still be to come).
 */
void
login_resync(void)
{
	if (lg.running && lg.url != NULL)
		wechat_send_login_scan(lg.url);
}

static void
login_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (lg.running && lg.next != NULL)
		lg.next();
}

static void
login_later(void (*fn)(void), long ms)
{
	struct timeval tv = clock_tv(ms);

	lg.next = fn;
	evtimer_add(lg.timer, &tv);
}

/* A new attempt: three fresh QR codes and a new deadline. */
static void
login_restart(void)
{
	lg.qrs = 0;
	lg.started = clock_mono_ms();
	login_fetch();
}

static void
login_fetch(void)
{
	login_forget_qr();
	lg.scanned = 0;
	if (lg.qrs >= LOGIN_QR_MAX ||
	    clock_mono_ms() - lg.started > LOGIN_DEADLINE_MS) {
		log_warnx("wechat: login: no QR code was confirmed; a new one "
		    "in %d s", LOGIN_PAUSE_MS / 1000);
		login_later(login_restart, LOGIN_PAUSE_MS);
		return;
	}
	/* §3.1: always the fixed host, without Authorization. */
	lg.call = wcall_post(wc.login_url,
	    "ilink/bot/get_bot_qrcode?bot_type=3", NULL, ilink_body_qrcode(),
	    wc.timeout_s * 1000, login_fetched, NULL);
	if (lg.call == NULL)
		login_later(login_fetch, wechat_backoff_ms(&lg.failures));
}

static void
login_fetched(struct wcall *c, void *arg)
{
	struct ilink_qrcode q;
	enum ilink_err e = ILINK_E_JSON;
	const char *body;
	size_t len;

	(void)arg;
	lg.call = NULL;
	memset(&q, 0, sizeof(q));
	if (wcall_result(c) == WCALL_OK) {
		body = wcall_body(c, &len);
		e = ilink_parse_qrcode(body, len, &q);
	}
	if (e != ILINK_OK) {
		log_warnx("wechat: login: no QR code: %s",
		    wcall_result(c) == WCALL_OK ? ilink_strerror(e) :
		    wcall_error(c));
		ilink_qrcode_clear(&q);
		login_later(login_fetch, wechat_backoff_ms(&lg.failures));
		return;
	}
	lg.failures = 0;
	lg.qrs++;
	lg.qrcode = q.qrcode;
	q.qrcode = NULL;
	lg.url = q.url;
	q.url = NULL;
	lg.status_base = xstrdup(wc.login_url);
	log_info("wechat: login: QR code %d of %d ready; waiting for a scan",
	    lg.qrs, LOGIN_QR_MAX);
	wechat_send_login_scan(lg.url);
	ilink_qrcode_clear(&q);
	login_poll();
}

static void
login_poll(void)
{
	char *url;

	url = ilink_url_qrstatus(lg.status_base, lg.qrcode, lg.code);
	lg.call = wcall_get(url, LOGIN_POLL_MS, login_polled, NULL);
	xfree_secret(url);
	/* §3.2: any failure to ask counts as "wait". */
	if (lg.call == NULL)
		login_later(login_poll, LOGIN_GAP_MS);
}

/*
 * §3.2 "scaned_but_redirect": later status polls go to the user's IDC,
 * https://<redirect_host>, if the host policy lets a server choose it
 * (ilink_host_allowed); fetch.c resolves it.  Otherwise we keep polling
 * where we are, which the official client also does without a host.
 */
static void
login_redirect(const char *host)
{
	const char *why;
	char *url;

	if (host == NULL)
		return;
	xasprintf(&url, "https://%s", host);
	if (ilink_host_allowed(url, wc.login_url, &why) == 0) {
		if (strcmp(url, lg.status_base) != 0)
			log_info("wechat: login: status polls go to %s now",
			    host);
		free(lg.status_base);
		lg.status_base = url;
		return;
	}
	if (!lg.redirect_said)
		log_warnx("wechat: login: redirect to %s refused (%s); polling "
		    "the same host", host, why);
	lg.redirect_said = 1;
	free(url);
}

/*
 * §4.2 need_verifycode: the phone shows a number, which only the
 * operator can read.  Polling stops until it comes (login_code()); the
 * attempt's deadline still runs, and a new QR code follows it.
 */
static void
login_ask_code(void)
{
	uint64_t spent = clock_mono_ms() - lg.started;

	if (!lg.want_code)
		log_warnx("wechat: login: the phone shows a verification code;"
		    " enter it with \"wxgatectl login %s <code>\"",
		    wc.account);
	lg.want_code = 1;
	login_later(login_code_late, spent < LOGIN_DEADLINE_MS ?
	    (long)(LOGIN_DEADLINE_MS - spent) : LOGIN_GAP_MS);
}

static void
login_code_late(void)
{
	log_warnx("wechat: login: no verification code came in time; a new "
	    "QR code");
	lg.want_code = 0;
	login_fetch();
}

/* login.code from the supervisor: the operator typed the number. */
int
login_code(const struct ipc_msg *m)
{
	const struct ipc_str *c = &m->b.name.name;
	char code[ILINK_VERIFY_CODE_MAX + 1];

	if (!lg.running || !lg.want_code) {
		log_info("wechat: login: a verification code came, but none "
		    "is asked for; ignored");
		return 0;
	}
	memset(code, 0, sizeof(code));
	if (c->len < sizeof(code))
		memcpy(code, c->p, c->len);
	/* A NUL inside would pass for a shorter code. */
	if (c->len >= sizeof(code) || strlen(code) != c->len ||
	    !ilink_verify_code_ok(code)) {
		log_warnx("wechat: login: that is not a verification code "
		    "(up to %d digits); still waiting for one",
		    ILINK_VERIFY_CODE_MAX);
		explicit_bzero(code, sizeof(code));
		return 0;
	}
	log_info("wechat: login: verification code received; checking it");
	lg.want_code = 0;
	lg.code = xstrdup(code);
	explicit_bzero(code, sizeof(code));
	evtimer_del(lg.timer);
	/* §3.2: right after a code, poll at once. */
	if (lg.call == NULL)
		login_poll();
	return 0;
}

static void
login_polled(struct wcall *c, void *arg)
{
	struct ilink_qrstatus s;
	const char *body;
	size_t len;

	(void)arg;
	lg.call = NULL;
	memset(&s, 0, sizeof(s));
	if (wcall_result(c) == WCALL_OK) {
		body = wcall_body(c, &len);
		if (ilink_parse_qrstatus(body, len, &s) != ILINK_OK) {
			ilink_qrstatus_clear(&s);
			s.state = ILINK_QR_WAIT;
		}
	}
	if (clock_mono_ms() - lg.started > LOGIN_DEADLINE_MS &&
	    s.state != ILINK_QR_CONFIRMED)
		s.state = ILINK_QR_EXPIRED;
	log_debug("wechat: login: %s", ilink_qr_state_name(s.state));
	switch (s.state) {
	case ILINK_QR_SCANED:
		/* §4.2: a pending code was accepted. */
		if (lg.code != NULL)
			log_info("wechat: login: verification code accepted");
		login_forget_code();
		if (!lg.scanned) {
			log_info("wechat: login: scanned; waiting for the "
			    "confirmation on the phone");
			/* wxgatectl login follows it. */
			wk_state_put("status", "scanned");
		}
		lg.scanned = 1;
		/* FALLTHROUGH */
	case ILINK_QR_WAIT:
		/* A pending code goes on every poll until it is judged. */
		login_later(login_poll, LOGIN_GAP_MS);
		break;
	case ILINK_QR_NEED_VERIFYCODE:
		/* Asked again while a code is pending: it was wrong. */
		if (lg.code != NULL) {
			log_warnx("wechat: login: the verification code was "
			    "wrong");
			login_forget_code();
			lg.want_code = 0;
		}
		login_ask_code();
		break;
	case ILINK_QR_VERIFY_BLOCKED:
		log_warnx("wechat: login: too many wrong verification codes; "
		    "a new QR code");
		login_forget_code();
		login_later(login_fetch, LOGIN_GAP_MS);
		break;
	case ILINK_QR_EXPIRED:
		log_info("wechat: login: QR code %s",
		    ilink_qr_state_name(s.state));
		if (lg.scanned)
			wk_state_put("status", "login_required");
		login_later(login_fetch, LOGIN_GAP_MS);
		break;
	case ILINK_QR_SCANED_REDIRECT:
		login_redirect(s.redirect_host);
		login_later(login_poll, LOGIN_GAP_MS);
		break;
	case ILINK_QR_BINDED_REDIRECT:
		/* §4.2: success only while we still hold the token. */
		if (wc.token != NULL) {
			login_stop();
			wechat_logged_in();
		} else
			login_later(login_fetch, LOGIN_GAP_MS);
		break;
	case ILINK_QR_CONFIRMED:
		login_confirmed(&s);
		break;
	}
	ilink_qrstatus_clear(&s);
}

/* §4.1 step 4, through the supervisor's store; then start polling. */
static void
login_confirmed(const struct ilink_qrstatus *s)
{
	const char *why, *base;

	log_info("wechat: login: confirmed; bot %s", s->bot_id);
	wk_state_put("token", s->bot_token);
	wechat_set_token(s->bot_token);
	/*
	 * The token goes to the base, so a server may not name just any
	 * host (ilink_host_allowed).  The operator's base_url wins.
	 */
	base = s->baseurl;
	if (base != NULL && *base &&
	    ilink_host_allowed(base, wc.login_url, &why) == -1) {
		log_warnx("wechat: login: the base URL %s is refused (%s); "
		    "using the login host", base, why);
		base = NULL;
	}
	wk_state_put("base_url", base != NULL ? base : "");
	if (*wc.conf_base)
		wechat_set_base(wc.conf_base, 0);
	else
		wechat_set_base(base, 0);
	/* §8.8: a cursor belongs to one bot binding. */
	if (strcmp(wc.bot_id, s->bot_id) != 0 && *wc.cursor) {
		wk_state_put("cursor", "");
		free(wc.cursor);
		wc.cursor = xstrdup("");
		poll_forget_cursor();
	}
	free(wc.bot_id);
	wc.bot_id = xstrdup(s->bot_id);
	wk_state_put("bot_id", s->bot_id);
	if (s->user_id != NULL)
		wk_state_put("owner", s->user_id);
	login_stop();
	wechat_logged_in();
}
