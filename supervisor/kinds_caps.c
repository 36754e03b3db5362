/*
 * Each channel kind's platform, as kinds_caps.h describes it: one row
 * per ROLE_CHANNEL row of kinds.c (test_kinds.c checks they match).
 * Apart from kinds.c, since only the hub and the configuration's
 * checks read it; the root parent links none of it.
 */
#include <string.h>

#include "ipc_msg.h"
#include "kinds.h"
#include "kinds_caps.h"

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

static const struct {
	const char		*type;
	const struct kind_caps	*caps;
} caps[] = {
	{ "wechat",		&wechat_caps },
	{ "wecom_webhook",	&webhook_caps },
	{ "wecom_bot",		&wecom_bot_caps },
	{ "wechat_mp",		&wechat_mp_caps },
	{ "wecom_app",		&wecom_app_caps },
#ifdef WX_TEST_HOOKS
	{ "loopback",		&loopback_caps },
#endif
};

const struct kind_caps *
kinds_caps(const char *type)
{
	const struct kind *k;
	size_t i;

	if ((k = kinds_find(type)) == NULL || k->role != ROLE_CHANNEL)
		return NULL;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strcmp(caps[i].type, type) == 0)
			return caps[i].caps;
	return NULL;
}
