/*
 * The callback channel kinds: a WeChat Official Account (wechat_mp)
 * and a WeCom self-built app (wecom_app), one worker per account.  The
 * platform POSTs each user message, encrypted (shared/protocols/
 * wecom.md Part C), to the address the root parent bound for this
 * account (supervisor/listener.c) and handed us with sup.listen_fd.
 *
 * Two kind names and one implementation: the type is the kind, as for
 * every other channel (supervisor/kinds.c), so `type: wechat_mp` needs
 * no other table, and the two differ only in small places (the GET's
 * signature, OA's plain mode, the API's paths), which cb.wecom picks.
 * One worker per account, never several accounts on one listener: a
 * worker holds one account's key, token and secret, so a parser bug
 * reached through one account's URL reads no other's.
 *
 * This file reads the slice and takes the hub's frames; it must never
 * log a secret.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "callback.h"
#include "codec.h"
#include "ratelimit.h"
#include "log.h"
#include "net/fetch.h"
#include "worker.h"
#include "xmalloc.h"

struct cb_conf	cb;

static int	cb_pre_sandbox(json_t *);
static int	cb_post_sandbox(struct event_base *);
static void	cb_shutdown(void);
static void	cb_resync(void);
static int	cb_listen_fd(const struct ipc_msg *);
static int	cb_inbound_ack(const struct ipc_msg *);
static int	cb_outbound(const struct ipc_msg *);
static const char *cb_profile(void);

static const struct wk_handler cb_handlers[] = {
	{ IPC_SUP_LISTEN_FD,	cb_listen_fd },
	{ IPC_INBOUND_ACK,	cb_inbound_ack },
	{ IPC_OUTBOUND,		cb_outbound },
	{ 0,			NULL }
};

const struct wk_kind wk_wechat_mp = {
	"wechat_mp", ROLE_CHANNEL, 0,
	cb_pre_sandbox, cb_post_sandbox, cb_shutdown, cb_resync,
	cb_handlers, cb_profile, NULL, NULL
};

const struct wk_kind wk_wecom_app = {
	"wecom_app", ROLE_CHANNEL, 0,
	cb_pre_sandbox, cb_post_sandbox, cb_shutdown, cb_resync,
	cb_handlers, cb_profile, NULL, NULL
};

/* Both kinds accept on a handed socket and dial the platform's API. */
static const char *
cb_profile(void)
{
	return "callback";
}

static char *
cb_str(json_t *conf, const char *key, int required)
{
	const char *s = wk_conf_str(conf, key, required ? NULL : "");

	if (s == NULL || (required && *s == '\0')) {
		log_warnx("callback: the slice lacks %s", key);
		return NULL;
	}
	return xstrdup(s);
}

/* Per-address bounds (conn.c), from the hub's policy. */
static int
cb_front_door(json_t *conf)
{
	struct rl_rate r;
	json_t *l, *v;
	long long per, period, burst;
	size_t i;

	l = json_object_get(conf, "trusted_proxies");
	cb.proxies = xcalloc(json_array_size(l) + 1, sizeof(char *));
	json_array_foreach(l, i, v)
		if (json_is_string(v))
			cb.proxies[cb.nproxies++] = xstrdup(json_string_value(v));
	v = json_object_get(conf, "address_rate");
	if (wk_conf_int(conf, "conns_per_peer", 32, 1, 65536,
	    &cb.conns_per_peer) == -1 ||
	    wk_conf_int(conf, "conns_per_proxy", 1024, 1, 65536,
	    &cb.conns_per_proxy) == -1 ||
	    wk_conf_int(v, "per", 600, 1, RL_RATE_MAX, &per) == -1 ||
	    wk_conf_int(v, "period_ms", 60000, 1, INT64_MAX, &period) == -1 ||
	    wk_conf_int(v, "burst", 60, 1, RL_BURST_MAX, &burst) == -1)
		return -1;
	r.per = (uint64_t)per;
	r.period_ms = (uint64_t)period;
	r.burst = (uint64_t)burst;
	/* One bucket per address seen lately, at most this many. */
	cb.rl_addr = ratelimit_new(&r, 4096);
	return 0;
}

/* The ranges are config_callback.c's: a slice outside them is a skew. */
static int
cb_pre_sandbox(json_t *conf)
{
	const char *type, *aes, *secret;
	long long n;

	type = wk_conf_str(conf, "type", "");
	cb.wecom = type != NULL && strcmp(type, "wecom_app") == 0;
	if ((cb.account = cb_str(conf, "account", 1)) == NULL ||
	    (cb.id = cb_str(conf, "id", 1)) == NULL ||
	    (cb.token = cb_str(conf, "token", 1)) == NULL ||
	    (cb.api_url = cb_str(conf, "api_url", 1)) == NULL ||
	    (cb.welcome = cb_str(conf, "welcome", 0)) == NULL)
		return -1;
	if ((aes = wk_conf_str(conf, "aes_key", NULL)) == NULL ||
	    wxcrypt_key_decode(aes, strlen(aes), &cb.key) != WXC_OK) {
		log_warnx("callback %s: no usable EncodingAESKey",
		    cb.account);
		return -1;
	}
	if ((secret = wk_conf_str(conf, "secret", "")) != NULL &&
	    *secret != '\0')
		cb.secret = xstrdup(secret);
	cb.plain = json_is_true(json_object_get(conf, "plain")) && !cb.wecom;
	if (wk_conf_int(conf, "agent_id", 0, 0, UINT32_MAX, &cb.agent_id) ==
	    -1 || wk_conf_int(conf, "reply_budget_ms", 4000, 100, 4500,
	    &n) == -1)
		return -1;
	cb.budget_ms = (uint64_t)n;
	if (wk_conf_int(conf, "body_max", 65536, 1024, 1048576, &n) == -1)
		return -1;
	cb.body_max = (size_t)n;
	if (wk_conf_int(conf, "timeout_s", 15, 1, 600, &n) == -1)
		return -1;
	cb.timeout_s = (long)n;
	if (wk_conf_int(conf, "media_max_bytes", 20971520, 1, IPC_FILE_MAX,
	    &n) == -1)
		return -1;
	cb.media_max = (uint64_t)n;
	if (cb_front_door(conf) == -1)
		return -1;
	if (fetch_init() == -1 || fetch_dns_init() == -1 ||
	    (strncmp(cb.api_url, "https://", 8) == 0 &&
	    fetch_load_ca() == -1) || fetch_pin(cb.api_url) == -1)
		return -1;
	return 0;
}

static int
cb_post_sandbox(struct event_base *base)
{
	cb.base = base;
	turn_init();
	if (push_init() == -1)
		return -1;
	return fetch_start(base);
}

/*
 * The parent passes the account's socket after sup.config; a new hub
 * (sup.resync) does not pass it again, so a second one is a fault.
 */
static int
cb_listen_fd(const struct ipc_msg *m)
{
	if (m->fd == -1) {
		log_warnx("%s: no fd", __func__);
		return -1;
	}
	if (cb.base == NULL || cb.draining || conn_listen(m->fd) == -1) {
		log_warnx("%s: unexpected listen fd", __func__);
		close(m->fd);
		return -1;
	}
	log_info("callback %s: %s listening", cb.account,
	    cb.wecom ? "wecom_app" : "wechat_mp");
	return 0;
}

static int
cb_inbound_ack(const struct ipc_msg *m)
{
	return turn_inbound_ack(m);
}

/* The reply to a held request goes back on it; the rest by the API. */
static int
cb_outbound(const struct ipc_msg *m)
{
	log_debug("callback %s: outbound row %llu", cb.account,
	    (unsigned long long)m->b.outbound.id);
	if (turn_outbound(&m->b.outbound))
		return 0;
	return push_outbound(m);
}

/*
 * Held requests get the empty answer (the platform's retry finds our
 * successor, and the hub the outbox); queued sends go back unanswered.
 */
static void
cb_shutdown(void)
{
	cb.draining = 1;
	conn_stop();
	turn_stop();
	push_stop();
	token_stop();
}

static void
cb_resync(void)
{
	turn_resync();
}
