/*
 * The kind table: one row per kind of worker the parent starts, with
 * its role and sockets and, for a channel kind, what its platform can
 * take.  The root parent starts workers by it (reload.c, spawn.c) and
 * the configuration's channel types and text limits come from it.
 * Which instances a configuration wants of a kind, and their slices,
 * are kinds_want.c's: the configuration reader's, never the parent's.
 *
 * Adding a channel kind: a folder under workers/, its row in
 * workers/worker.c's kinds[], a row here and in kinds_want.c, and its
 * tests.
 */
#include <string.h>

#include "ipc_msg.h"
#include "kinds.h"
#include "xmalloc.h"

/*
 * iLink (protocols/wechat-ilink.md): a bot only replies, inside the
 * window a user's message opens (1.4); it must not stream (3.4); a
 * text of 5000 characters passed and one of 7337 did not (7.2), and
 * the official client declares 4000.  A reply carries the peer's newest
 * context token (1.4).  workers/wechat/ shows "typing..."
 * (3.7) while the agent answers.  It sends images and files (6.2:
 * getuploadurl, the CDN, one message each; audio as a file, 6.4), so
 * outbound.file.  At most 10 bot messages per user message (one context
 * token, 7.2), an attachment's too: stream_mode block keeps within them
 * (router_block.c).
 */
static const struct kind_caps wechat_caps = { 4000, 2000,
    KC_TYPING | KC_LATEST_CTX | KC_MEDIA, 0, 10 };

/*
 * A WeCom group robot (protocols/wecom.md B.3, B.6): 2048 bytes of
 * UTF-8 a text; it only sends, so writing first is all it does.  It
 * sends files and images too (upload_media, outbound.file).
 */
static const struct kind_caps webhook_caps = { 2048, 2048,
	KC_PROACTIVE | KC_MEDIA, 2048, 0 };

/*
 * WeCom AI bot (protocols/wecom.md Part A): a stream or markdown holds
 * 20480 bytes of UTF-8 (A.10), so 5120 code points of up to four bytes
 * always fit.  It streams (one bubble per reply, A.6) and may push
 * first (aibot_send_msg, A.5.9).  It sends images and files too
 * (outbound.file), uploaded on its connection (A.5.8).
 */
static const struct kind_caps wecom_bot_caps = { 5120, 5120,
	KC_STREAM | KC_PROACTIVE | KC_MEDIA, 20480, 0 };

/*
 * Official Accounts and WeCom apps (protocols/wecom.md D.3, D.4): a
 * text is 2048 bytes of UTF-8, passive or sent; gateways split OA's
 * (undocumented) there too.  A WeCom app may write first; an OA only
 * within the 48-hour window a user opens (45015), so not proactive.
 */
static const struct kind_caps wechat_mp_caps = { 2048, 2048, 0, 2048, 0 };
static const struct kind_caps wecom_app_caps = { 2048, 2048,
	KC_PROACTIVE, 2048, 0 };

#ifdef WX_TEST_HOOKS
/*
 * workers/loopback's platform is its log line (LOG_LINE_MAX bytes):
 * 200 code points of up to four bytes leave room for its prefix with
 * a short peer.  It delivers to anyone, asked or not, files too (it
 * logs their name, size and SHA-256).
 */
static const struct kind_caps loopback_caps = { 200, 200,
	KC_PROACTIVE | KC_MEDIA, 0, 0 };
#endif

/* Start order: agents before the workers that send them work. */
static const struct kind kinds[] = {
	{ "agent",	ROLE_AGENT,	K_F_MAY_LISTEN | K_F_LIGHT, NULL },
	{ "wechat",	ROLE_CHANNEL,	K_F_ZYGOTE,	&wechat_caps },
	{ "wecom_webhook", ROLE_CHANNEL, 0,		&webhook_caps },
	{ "wecom_bot",	ROLE_CHANNEL,	0,		&wecom_bot_caps },
	/* One kind per type, one worker per account: workers/callback/. */
	{ "wechat_mp",	ROLE_CHANNEL,	K_F_OWN_LISTEN,	&wechat_mp_caps },
	{ "wecom_app",	ROLE_CHANNEL,	K_F_OWN_LISTEN,	&wecom_app_caps },
#ifdef WX_TEST_HOOKS
	{ "loopback",	ROLE_CHANNEL,	0,		&loopback_caps },
#endif
	{ "webchat",	ROLE_WEBCHAT,	K_F_LISTEN | K_F_LIGHT, NULL },
	/* metrics.listen's worker: workers/metrics/. */
	{ "metrics",	ROLE_METRICS,	K_F_OWN_LISTEN | K_F_LIGHT, NULL },
	/* console.listen's worker: workers/console/. */
	{ "console",	ROLE_CONSOLE,	K_F_OWN_LISTEN,	NULL },
};

const struct kind *
kinds_all(size_t *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

const struct kind *
kinds_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

/*
 * An instance's name (an agent's, an account's, "0", "http"): a-z, 0-9,
 * _ and -, at most KINDS_ID_MAX.  It becomes a worker name, a log
 * prefix and a store key, so root checks whoever sent it.
 */
int
kinds_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= KINDS_ID_MAX &&
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

const struct kind_caps *
kinds_caps(const char *type)
{
	const struct kind *k;

	if ((k = kinds_find(type)) == NULL || k->role != ROLE_CHANNEL)
		return NULL;
	return k->caps;
}
