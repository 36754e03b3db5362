/*
 * The wecom_bot kind: one WeCom AI bot on its long connection
 * (protocols/wecom.md Part A), "wecom_bot.<account>".  This file owns
 * the config slice, the frames the hub sends (inbound.ack,
 * outbound.message, outbound.progress, outbound.file, state.value),
 * sup.resync and the test hooks; the connection is link.c's, the
 * frames frame.c's, the attachments attach.c's (in) and upload.c's
 * (out).
 *
 * The secret arrives in the slice only and goes on the wire only in
 * aibot_subscribe; it is never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "codec.h"
#include "log.h"
#include "wecom.h"
#include "worker.h"
#include "xmalloc.h"

struct wecom	wb;

static int	wecom_pre_sandbox(json_t *);
static int	wecom_post_sandbox(struct event_base *);
static void	wecom_shutdown(void);
static void	wecom_resync(void);
static const char *wecom_profile(void);
static int	wecom_state_value(const struct ipc_msg *);
#ifdef WX_TEST_HOOKS
static int	wecom_test(struct ipc_str);
#endif

static const struct wk_handler wecom_handlers[] = {
	{ IPC_INBOUND_ACK,	inbound_ack },
	{ IPC_OUTBOUND,		reply_outbound },
	{ IPC_OUTBOUND_PROGRESS, reply_progress },
	{ IPC_OUTBOUND_FILE,	upload_outbound_file },
	{ IPC_STATE_VALUE,	wecom_state_value },
	{ 0,			NULL }
};

const struct wk_kind wk_wecom_bot = {
	"wecom_bot", ROLE_CHANNEL, 0,
	wecom_pre_sandbox, wecom_post_sandbox, wecom_shutdown, wecom_resync,
	wecom_handlers, wecom_profile,
#ifdef WX_TEST_HOOKS
	wecom_test,
#else
	NULL,
#endif
	NULL
};

static char *
wecom_conf_dup(json_t *o, const char *key, const char *def)
{
	const char *v = wk_conf_str(o, key, def);

	return v != NULL ? xstrdup(v) : NULL;
}

static int
wecom_pre_sandbox(json_t *conf)
{
	json_t *w = json_object_get(conf, "wecom_bot");
	long long v;
	const char *a = wk_conf_str(conf, "account", NULL);

	if (a == NULL || *a == '\0' || !json_is_object(w))
		return -1;
	wb.account = xstrdup(a);
	wb.url = wecom_conf_dup(w, "url", NULL);
	wb.bot_id = wecom_conf_dup(w, "bot_id", NULL);
	wb.secret = wecom_conf_dup(w, "secret", NULL);
	wb.bot_name = wecom_conf_dup(w, "bot_name", "");
	wb.welcome = wecom_conf_dup(w, "welcome", "");
	if (wb.url == NULL || wb.bot_id == NULL || wb.secret == NULL ||
	    wb.bot_name == NULL || wb.welcome == NULL) {
		log_warnx("%s: url, bot_id and the secret are required",
		    __func__);
		return -1;
	}
	/* The bounds are the config's (config_channel.c). */
	if (wk_conf_int(w, "stream_interval_ms", 500, 100, 240000, &v) == -1)
		return -1;
	wb.stream_ms = (long)v;
	if (wk_conf_int(w, "heartbeat_ms", 30000, 500, 120000, &v) == -1)
		return -1;
	wb.heartbeat_ms = (long)v;
	if (wk_conf_int(w, "ack_timeout_ms", 5000, 200, 60000, &v) == -1)
		return -1;
	wb.ack_ms = (long)v;
	/* The hub's bound: what one inbound.media may carry. */
	if (wk_conf_int(conf, "media_max_bytes", 20971520, 1, IPC_FILE_MAX,
	    &v) == -1)
		return -1;
	wb.media_max = (uint64_t)v;
	if (attach_pre_sandbox() == -1 || upload_pre_sandbox() == -1)
		return -1;
	return wsc_pre_sandbox(wb.url);
}

/* Dials out like the wechat worker: the network profile fits. */
static const char *
wecom_profile(void)
{
	return "wechat";
}

static int
wecom_post_sandbox(struct event_base *base)
{
	if (link_init(base) == -1 || reply_init(base) == -1 ||
	    upload_init(base) == -1 || attach_post_sandbox(base) == -1)
		return -1;
	link_start();
	return 0;
}

static void
wecom_shutdown(void)
{
	wb.draining = 1;
	link_stop();
	upload_stop();
}

/* A new hub: the messages it may not have, and our status again. */
static void
wecom_resync(void)
{
	inbound_resync();
	wk_state_put("status", link_ready() ? "subscribed" : "connecting");
}

/* Only put, never asked: the answer to a get we never send is odd. */
static int
wecom_state_value(const struct ipc_msg *m)
{
	(void)m;
	return 0;
}

uint32_t
wecom_random(void)
{
	uint32_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	return r;
}

/* A client req_id, the SDK's form: <cmd>_<unix ms>_<8 hex> (A.3). */
void
wecom_req_id(const char *prefix, char *out, size_t size)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(out, size, "%s_%lld_%08x", prefix,
	    (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000, wecom_random());
}

#ifdef WX_TEST_HOOKS
/* The number after a test hook's prefix, within [min, max]; else -1. */
static long long
wecom_test_num(struct ipc_str a, const char *prefix, long long min,
    long long max)
{
	char buf[32], *end;
	size_t n = strlen(prefix);
	long long v;

	if (a.len <= n || a.len - n >= sizeof(buf) ||
	    memcmp(a.p, prefix, n) != 0)
		return -1;
	memcpy(buf, a.p + n, a.len - n);
	buf[a.len - n] = '\0';
	v = strtoll(buf, &end, 10);
	return *end != '\0' || v < min || v > max ? -1 : v;
}

/*
 * "counts": dropped frames and welcomes, attachments, for the tests.
 * "deadline:MS": a message's attachments get MS, not two minutes, so
 * a test sees a stalled media host given up on.  "upload_max:BYTES":
 * files over BYTES are refused, so a test sees the cap without 20 MiB.
 */
static int
wecom_test(struct ipc_str a)
{
	long long v;

	if ((v = wecom_test_num(a, "deadline:", 1, 600000)) != -1) {
		attach_test_deadline((uint64_t)v);
		return 0;
	}
	if ((v = wecom_test_num(a, "upload_max:", 1, IPC_FILE_MAX)) != -1) {
		upload_test_max((uint64_t)v);
		return 0;
	}
	if (!ipc_streq(a, "counts"))
		return -1;
	log_warnx("wecom %s: counts: bad_frames %llu unknown_cmds %llu "
	    "welcomes_dropped %llu media_parts %llu media_failed %llu "
	    "inbound_dropped %llu", wb.account,
	    (unsigned long long)wb.bad_frames,
	    (unsigned long long)wb.unknown_cmds,
	    (unsigned long long)wb.welcomes_dropped,
	    (unsigned long long)wb.media_parts,
	    (unsigned long long)wb.media_failed,
	    (unsigned long long)wb.inbound_dropped);
	return 0;
}
#endif
