/*
 * A wecom_webhook channel's settings (wecom_webhook: under its channels[]
 * entry, see wxgate.yaml(5)): a WeCom group robot, protocols/wecom.md
 * part B.  The robot's key is its whole credential, so it lives in
 * key_file, read as root by the parent like any secret, and reaches the
 * robot's own worker only, in its slice; the hub never reads it.
 *
 * Called by cfg_channel_one() in config_channel.c for every entry (the
 * numbers are in its table); only a wecom_webhook entry needs a key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "log.h"
#include "xmalloc.h"

#define HOOK_DEFAULT_URL	"https://qyapi.weixin.qq.com"

static const char *const hook_msgtypes[] = { "text", "markdown" };

/*
 * The key is the key= part of the webhook URL; a file holding the whole
 * URL (what the WeCom client lets one copy) is taken for it.
 */
static int
cfg_webhook_key(struct cfg_ctx *ctx, const char *field, const char *path,
    char **keyp)
{
	char *raw, *k;
	size_t n;

	if (cfg_secret_read(ctx, field, path, &raw) == -1)
		return -1;
	if ((k = strstr(raw, "key=")) != NULL)
		k += 4;
	else
		k = raw;
	n = strcspn(k, "&#");
	if (n == 0 || n > 128 || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") < n) {
		xfree_secret(raw);
		cfg_error(ctx, field, "%s does not hold a webhook key (the "
		    "key= part of the robot's URL)", path);
		return -1;
	}
	*keyp = xstrndup(k, n);
	xfree_secret(raw);
	return 0;
}

int
cfg_channel_webhook(struct cfg_ctx *ctx, const struct raw_webhook *rw,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];
	int mine = strcmp(c->type, "wecom_webhook") == 0;

	c->hook_url = xstrdup(rw->url != NULL ? rw->url : HOOK_DEFAULT_URL);
	c->hook_msgtype = xstrdup(rw->msgtype != NULL ? rw->msgtype : "text");
	if (!mine)
		return 0;
	snprintf(field, sizeof(field), "%swecom_webhook.url", prefix);
	if (cfg_check_url(c->hook_url, 1) == -1) {
		cfg_error(ctx, field, "must be an https:// URL (http:// only "
		    "to this host)");
		return -1;
	}
	snprintf(field, sizeof(field), "%swecom_webhook.msgtype", prefix);
	if (cfg_check_word(ctx, field, "msgtype", c->hook_msgtype,
	    hook_msgtypes, NITEMS(hook_msgtypes)) == -1)
		return -1;
	snprintf(field, sizeof(field), "%swecom_webhook.key_file", prefix);
	if (rw->key_file == NULL) {
		cfg_error(ctx, field, "a group robot needs its key (a file "
		    "holding the key= part of its webhook URL)");
		return -1;
	}
	if (!(ctx->flags & CFG_F_HUB) &&
	    cfg_webhook_key(ctx, field, rw->key_file, &c->hook_key) == -1)
		return -1;
	return 0;
}

void
cfg_channel_webhook_free(struct cfg_channel *c)
{
	free(c->hook_url);
	free(c->hook_msgtype);
	xfree_secret(c->hook_key);
}

/* The robot's worker: where to post, how, how fast, and its key. */
char *
config_slice_webhook(const struct config *conf, const struct cfg_channel *c)
{
	json_t *o;

	(void)conf;
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
	    "account", c->name,
	    "url", c->hook_url,
	    "msgtype", c->hook_msgtype,
	    "rate_max", (json_int_t)c->hook_rate_max,
	    "rate_window_s", (json_int_t)c->hook_rate_window_s,
	    "timeout_s", (json_int_t)c->hook_timeout_s);
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	if (c->hook_key != NULL)
		json_object_set_new(o, "key", json_string(c->hook_key));
	return cfg_dumps(o);
}
