/*
 * The settings of the HTTP-callback channels (see wxgate.yaml(5)): a
 * WeChat Official Account (wechat_mp:) and a WeCom self-built app
 * (wecom_app:), both on the WXBizMsgCrypt scheme of
 * shared/protocols/wecom.md Part C.  The callback Token, the
 * EncodingAESKey and the AppSecret are read here, by the parent, from
 * files only it may read, and leave it only in the account's own slice;
 * the hub's copy names them and reads none.  The listen address is
 * checked here so that the parent (supervisor/listener.c) only binds.
 *
 * Called by cfg_channel_one() in config_channel.c for every entry, and
 * cfg_callback_listens() once all channels are built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "log.h"
#include "xmalloc.h"

#define CB(f, o) offsetof(struct raw_callback, f), \
		offsetof(struct cfg_channel, o)

/* C.2: 43 characters of [A-Za-z0-9] are 258 bits: the 32-byte key. */
#define CB_AES_KEY_LEN		43
/* C.3: the console takes 3..32 letters and digits for the Token. */
#define CB_TOKEN_MIN		3
#define CB_TOKEN_MAX		32
/* AppIDs (wx...) and CorpIDs (ww...) are 18 characters; C.4's bound. */
#define CB_ID_MAX		64

static const struct cfg_num cb_nums[] = {
	/*
	 * The platform drops the request at 5 s (C.9); the answer must be
	 * written and on its way before that.
	 */
	{ "reply_budget_ms",	CB(reply_budget_ms, cb_budget_ms),
	    4000, 100, 4500 },
	/* C.9: gateways cap a callback at 1 MiB; a message is far less. */
	{ "body_max",		CB(body_max, cb_body_max),
	    65536, 1024, 1048576 },
	{ "timeout_s",		CB(timeout_s, cb_timeout_s),
	    15, 1, 600 },
	{ NULL,			0, 0, 0, 0, 0 },
};

static const char *const cb_modes[] = { "safe", "plain" };

static int	cfg_cb_check(struct cfg_ctx *, const struct raw_channel *,
		    const char *);
static int	cfg_cb_secrets(struct cfg_ctx *, const struct raw_callback *,
		    const char [64], struct cfg_channel *);
static int	cfg_cb_alnum(const char *, size_t, size_t);

int
cfg_channel_callback(struct cfg_ctx *ctx, const struct raw_channel *rc,
    const char *prefix, struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX], pre[64];
	const struct raw_callback *rb;
	int mp, v;

	if (cfg_cb_check(ctx, rc, prefix) == -1)
		return -1;
	mp = strcmp(c->type, "wechat_mp") == 0;
	if (!mp && strcmp(c->type, "wecom_app") != 0)
		return 0;
	rb = mp ? &rc->wechat_mp : &rc->wecom_app;
	snprintf(pre, sizeof(pre), "%s%s.", prefix, c->type);
	if (cfg_numbers(ctx, cb_nums, rb, c, pre) == -1)
		return -1;
	snprintf(field, sizeof(field), "%s%s", pre, mp ? "app_id" :
	    "corp_id");
	c->cb_id = xstrdup((mp ? rb->app_id : rb->corp_id) != NULL ?
	    (mp ? rb->app_id : rb->corp_id) : "");
	if (!cfg_cb_alnum(c->cb_id, 1, CB_ID_MAX)) {
		cfg_error(ctx, field, "the %s from the console is required "
		    "(letters and digits)", mp ? "AppID" : "CorpID");
		return -1;
	}
	if (!mp) {
		snprintf(field, sizeof(field), "%sagent_id", pre);
		if (rb->agent_id == NULL || *rb->agent_id == 0) {
			cfg_error(ctx, field, "the app's AgentId is required");
			return -1;
		}
		c->cb_agent_id = *rb->agent_id;
	}
	snprintf(field, sizeof(field), "%smode", pre);
	if ((v = cfg_check_word(ctx, field, "mode", rb->mode != NULL ?
	    rb->mode : "safe", cb_modes, NITEMS(cb_modes))) == -1)
		return -1;
	c->cb_plain = v == 1;
	snprintf(field, sizeof(field), "%slisten", pre);
	c->cb_listen = xstrdup(rb->listen != NULL ? rb->listen : "");
	if (cfg_check_listen(c->cb_listen) == -1) {
		cfg_error(ctx, field, "the callback needs its own address, "
		    "IPv4:port or [IPv6]:port (\"%s\")", c->cb_listen);
		return -1;
	}
	snprintf(field, sizeof(field), "%sapi_url", pre);
	c->cb_api_url = xstrdup(rb->api_url != NULL ? rb->api_url : mp ?
	    "https://api.weixin.qq.com" : "https://qyapi.weixin.qq.com");
	if (cfg_check_url(c->cb_api_url, 1) == -1) {
		cfg_error(ctx, field, "must be an https:// URL (http:// only "
		    "to this host)");
		return -1;
	}
	c->cb_welcome = xstrdup(rb->welcome != NULL ? rb->welcome : "");
	return cfg_cb_secrets(ctx, rb, pre, c);
}

/* A block for another type is a mistake worth naming, not ignoring. */
static int
cfg_cb_check(struct cfg_ctx *ctx, const struct raw_channel *rc,
    const char *prefix)
{
	static const char *const names[] = { "wechat_mp", "wecom_app" };
	const struct raw_callback *b[2] = { &rc->wechat_mp, &rc->wecom_app };
	char field[CFG_KEYPATH_MAX];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (rc->type != NULL && strcmp(rc->type, names[i]) == 0)
			continue;
		if (b[i]->app_id == NULL && b[i]->corp_id == NULL &&
		    b[i]->agent_id == NULL && b[i]->token_file == NULL &&
		    b[i]->encoding_aes_key_file == NULL &&
		    b[i]->secret_file == NULL && b[i]->listen == NULL &&
		    b[i]->api_url == NULL && b[i]->mode == NULL &&
		    b[i]->welcome == NULL && b[i]->reply_budget_ms == NULL &&
		    b[i]->body_max == NULL && b[i]->timeout_s == NULL)
			continue;
		snprintf(field, sizeof(field), "%s%s", prefix, names[i]);
		cfg_error(ctx, field, "is for channels of type %s only",
		    names[i]);
		return -1;
	}
	return 0;
}

static int
cfg_cb_alnum(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789") == n;
}

/*
 * Token and EncodingAESKey are required (safe mode decrypts, and every
 * request is signed); the AppSecret is for active sends only: without
 * it the account answers passively and late replies fail visibly.
 */
static int
cfg_cb_secrets(struct cfg_ctx *ctx, const struct raw_callback *rb,
    const char pre[64], struct cfg_channel *c)
{
	char field[CFG_KEYPATH_MAX];

	snprintf(field, sizeof(field), "%stoken_file", pre);
	if (rb->token_file == NULL) {
		cfg_error(ctx, field, "a file holding the callback Token "
		    "is required");
		return -1;
	}
	snprintf(field, sizeof(field), "%sencoding_aes_key_file", pre);
	if (rb->encoding_aes_key_file == NULL) {
		cfg_error(ctx, field, "a file holding the EncodingAESKey "
		    "is required");
		return -1;
	}
	if (ctx->flags & CFG_F_HUB)
		return 0;	/* named, not read: for the worker only */
	snprintf(field, sizeof(field), "%stoken_file", pre);
	if (cfg_secret_read(ctx, field, rb->token_file, &c->cb_token) == -1)
		return -1;
	if (!cfg_cb_alnum(c->cb_token, CB_TOKEN_MIN, CB_TOKEN_MAX)) {
		cfg_error(ctx, field, "%s does not hold a Token (%d..%d "
		    "letters and digits)", rb->token_file, CB_TOKEN_MIN,
		    CB_TOKEN_MAX);
		return -1;
	}
	snprintf(field, sizeof(field), "%sencoding_aes_key_file", pre);
	if (cfg_secret_read(ctx, field, rb->encoding_aes_key_file,
	    &c->cb_aes_key) == -1)
		return -1;
	/* Any 43 such characters decode to 32 bytes (C.2). */
	if (!cfg_cb_alnum(c->cb_aes_key, CB_AES_KEY_LEN, CB_AES_KEY_LEN)) {
		cfg_error(ctx, field, "%s does not hold an EncodingAESKey "
		    "(exactly %d letters and digits, the base64 of 32 bytes)",
		    rb->encoding_aes_key_file, CB_AES_KEY_LEN);
		return -1;
	}
	if (rb->secret_file == NULL)
		return 0;
	snprintf(field, sizeof(field), "%ssecret_file", pre);
	if (cfg_secret_read(ctx, field, rb->secret_file, &c->cb_secret) == -1)
		return -1;
	if (strlen(c->cb_secret) > 256 || !cfg_secret_ok(c->cb_secret)) {
		cfg_error(ctx, field, "%s does not hold a secret (printable "
		    "ASCII, no spaces)", rb->secret_file);
		return -1;
	}
	return 0;
}

/*
 * Each callback account has an address of its own: two on one, or one
 * on the web chat's, could not both be bound.
 */
int
cfg_callback_listens(struct cfg_ctx *ctx, const struct config *conf)
{
	char field[CFG_KEYPATH_MAX];
	const struct cfg_channel *c, *d;
	unsigned i, j;

	for (i = 0; i < conf->channels_count; i++) {
		c = &conf->channels[i];
		if (c->cb_listen == NULL)
			continue;
		snprintf(field, sizeof(field), "channels[%u].%s.listen", i,
		    c->type);
		if (strcmp(c->cb_listen, conf->webchat.listen) == 0) {
			cfg_error(ctx, field, "%s is webchat.listen",
			    c->cb_listen);
			return -1;
		}
		for (j = 0; j < i; j++) {
			d = &conf->channels[j];
			if (d->cb_listen == NULL ||
			    strcmp(d->cb_listen, c->cb_listen) != 0)
				continue;
			cfg_error(ctx, field, "%s is also channels[%u]'s",
			    c->cb_listen, j);
			return -1;
		}
	}
	return 0;
}

void
cfg_channel_callback_free(struct cfg_channel *c)
{
	free(c->cb_id);
	xfree_secret(c->cb_token);
	xfree_secret(c->cb_aes_key);
	xfree_secret(c->cb_secret);
	free(c->cb_listen);
	free(c->cb_api_url);
	free(c->cb_welcome);
}

/*
 * The account's worker: its ids, its three secrets, where it listens
 * (so that a new address restarts it with the new socket) and its
 * bounds.  Policy, rates and the agent stay with the hub.
 */
char *
config_slice_callback(const struct config *conf, const struct cfg_channel *c)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:I, s:I, "
	    "s:I}",
	    "account", c->name,
	    "type", c->type,
	    "id", c->cb_id,
	    "agent_id", (json_int_t)c->cb_agent_id,
	    "listen", c->cb_listen,
	    "api_url", c->cb_api_url,
	    "welcome", c->cb_welcome,
	    "plain", c->cb_plain,
	    "reply_budget_ms", (json_int_t)c->cb_budget_ms,
	    "body_max", (json_int_t)c->cb_body_max,
	    "timeout_s", (json_int_t)c->cb_timeout_s);
	if (o == NULL)
		fatalx("%s: json_pack failed", __func__);
	if (c->cb_token != NULL)
		json_object_set_new(o, "token", json_string(c->cb_token));
	if (c->cb_aes_key != NULL)
		json_object_set_new(o, "aes_key", json_string(c->cb_aes_key));
	if (c->cb_secret != NULL)
		json_object_set_new(o, "secret", json_string(c->cb_secret));
	/* What the worker may download for one message, at most. */
	json_object_set_new(o, "media_max_bytes",
	    json_integer(config_media_max(conf)));
	return cfg_dumps(o);
}
