/*
 * Unit tests for supervisor/kinds.c: the parent's kind table agrees with
 * the workers' (workers/worker.c) on every name and role, each channel
 * row says what its platform takes, the rows enumerate what a
 * configuration wants, and the configuration's channel types and text
 * limits are the table's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "ipc_msg.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "kinds_want.h"
#include "worker.h"
#include "xmalloc.h"

/* text_chunk_limit's floor in config_channel.c. */
#define CHUNK_MIN	100

static struct config	*parse(const char *, char *, size_t);
static void		 collect(const struct kind *, const char *, char *,
			    const char *, void *);
static void		 test_rows_match_workers(void **);
static void		 test_channel_caps(void **);
static void		 test_each(void **);
static void		 test_config_types(void **);

static struct config *
parse(const char *yaml, char *err, size_t errlen)
{
	return config_parse("test.yaml", yaml, strlen(yaml), CFG_F_HUB, err,
	    errlen);
}

/* Every supervisor row is a worker kind of the same role, and back. */
static void
test_rows_match_workers(void **state)
{
	const struct wk_kind *const *wk;
	const struct kind *k, *sk;
	size_t i, n, nwk;

	(void)state;
	k = kinds_all(&n);
	wk = worker_kinds(&nwk);
	assert_int_equal(n, nwk);
	for (i = 0; i < n; i++) {
		const struct wk_kind *w = worker_kind_find(k[i].name);

		if (w == NULL)
			fail_msg("kinds.c row %s has no worker kind", k[i].name);
		assert_int_equal(w->role, k[i].role);
		if (!kinds_want_has(k[i].name))
			fail_msg("kinds.c row %s has no kinds_want.c row",
			    k[i].name);
		assert_ptr_equal(kinds_find(k[i].name), &k[i]);
	}
	for (i = 0; i < nwk; i++) {
		if ((sk = kinds_find(wk[i]->name)) == NULL)
			fail_msg("worker kind %s has no kinds.c row",
			    wk[i]->name);
		assert_int_equal(sk->role, wk[i]->role);
	}
	assert_null(kinds_find("telegram"));
}

/* A channel row has a slice and limits; only the web chat listens. */
static void
test_channel_caps(void **state)
{
	const struct kind_caps *caps;
	const struct kind *k;
	size_t i, n;

	(void)state;
	k = kinds_all(&n);
	for (i = 0; i < n; i++) {
		assert_int_equal(!!(k[i].flags & K_F_LISTEN),
		    strcmp(k[i].name, "webchat") == 0);
		if (k[i].role != ROLE_CHANNEL) {
			assert_null(kinds_caps(k[i].name));
			continue;
		}
		/* Each channel row of kinds.c has its kinds_caps.c row. */
		assert_true(kinds_want_has(k[i].name));
		if ((caps = kinds_caps(k[i].name)) == NULL)
			fail_msg("kinds.c row %s has no kinds_caps.c row",
			    k[i].name);
		assert_true(caps->text_chunk >= CHUNK_MIN);
		assert_true(caps->text_chunk <= caps->text_max);
	}
	/* iLink: replies only, no streaming; text, typing, media. */
	assert_int_equal(kinds_caps("wechat")->flags,
	    KC_TYPING | KC_LATEST_CTX | KC_MEDIA);
	assert_int_equal(kinds_caps("wechat")->text_max, 4000);
	/* outbound.file: the robot, the AI bot and iLink send files. */
	assert_true(kinds_caps("wecom_webhook")->flags & KC_MEDIA);
	assert_true(kinds_caps("wecom_bot")->flags & KC_MEDIA);
	assert_true(kinds_caps("wechat")->flags & KC_MEDIA);
	assert_null(kinds_caps("telegram"));
}

struct seen {
	char	 names[16][80];
	size_t	 n;
};

static void
collect(const struct kind *k, const char *id, char *slice,
    const char *listen, void *arg)
{
	struct seen *s = arg;

	(void)listen;
	assert_true(s->n < 16);
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s.%s", k->name, id);
	xfree_secret(slice);
}

/* Each row yields its own instances, in the file's order. */
static void
test_each(void **state)
{
	static const char *const want[] = {
		"agent.default", "agent.b", "wechat.w1", "wechat.w2",
#ifdef WX_TEST_HOOKS
		"loopback.l1",
#endif
		"webchat.0", "webchat.1", "webchat.2",
	};
	char err[CFG_ERR_MAX];
	struct config *conf;
	struct seen s;
	size_t i;

	(void)state;
	conf = parse("webchat:\n  workers: 3\n"
	    "agents:\n  - name: default\n  - name: b\n"
	    "channels:\n  - name: w1\n    type: wechat\n"
#ifdef WX_TEST_HOOKS
	    "  - name: l1\n    type: loopback\n"
#endif
	    "  - name: w2\n    type: wechat\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	memset(&s, 0, sizeof(s));
	kinds_want(conf, collect, &s);
	assert_int_equal(s.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < s.n; i++)
		assert_string_equal(s.names[i], want[i]);
	config_free(conf);
}

/* What a type cannot start without (the hub's copy reads no file). */
static const char *
needs(const char *type)
{
	if (strcmp(type, "wecom_webhook") == 0)
		return "    wecom_webhook:\n      key_file: /nonexistent\n";
	if (strcmp(type, "wecom_bot") == 0)
		return "    wecom_bot: {bot_id: b, secret_env: S}\n";
	if (strcmp(type, "wechat_mp") == 0)
		return "    wechat_mp: {app_id: wx1, token_file: /n, "
		    "encoding_aes_key_file: /n, listen: \"127.0.0.1:1\"}\n";
	if (strcmp(type, "wecom_app") == 0)
		return "    wecom_app: {corp_id: ww1, agent_id: 2, token_file: "
		    "/n, encoding_aes_key_file: /n, listen: \"127.0.0.1:1\"}\n";
	return "";
}

/* Channel types and text_chunk_limit's default and cap per type. */
static void
test_config_types(void **state)
{
	char err[CFG_ERR_MAX], yaml[512];
	const struct kind_caps *caps;
	struct config *conf;
	const struct kind *k;
	size_t i, n;

	(void)state;
	k = kinds_all(&n);
	for (i = 0; i < n; i++) {
		if (k[i].role != ROLE_CHANNEL)
			continue;
		caps = kinds_caps(k[i].name);
		snprintf(yaml, sizeof(yaml), "channels:\n  - name: a\n"
		    "    type: %s\n%s", k[i].name, needs(k[i].name));
		if ((conf = parse(yaml, err, sizeof(err))) == NULL)
			fail_msg("%s", err);
		assert_int_equal(conf->channels[0].text_chunk_limit,
		    caps->text_chunk);
		config_free(conf);
		snprintf(yaml, sizeof(yaml), "channels:\n  - name: a\n"
		    "    type: %s\n    text_chunk_limit: %u\n%s", k[i].name,
		    caps->text_max, needs(k[i].name));
		if ((conf = parse(yaml, err, sizeof(err))) == NULL)
			fail_msg("%s", err);
		config_free(conf);
		snprintf(yaml, sizeof(yaml), "channels:\n  - name: a\n"
		    "    type: %s\n    text_chunk_limit: %u\n%s", k[i].name,
		    caps->text_max + 1, needs(k[i].name));
		assert_null(parse(yaml, err, sizeof(err)));
		assert_non_null(strstr(err, "channels[0].text_chunk_limit"));
	}
	/* The known types in the message are the table's channel rows. */
	assert_null(parse("channels:\n  - name: a\n    type: webchat\n", err,
	    sizeof(err)));
#ifdef WX_TEST_HOOKS
	assert_non_null(strstr(err,
	    "(known: wechat, wecom_webhook, wecom_bot, wechat_mp, wecom_app, "
	    "loopback)"));
#else
	assert_non_null(strstr(err, "(known: wechat, wecom_webhook, "
	    "wecom_bot, wechat_mp, wecom_app)"));
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_match_workers),
		cmocka_unit_test(test_channel_caps),
		cmocka_unit_test(test_each),
		cmocka_unit_test(test_config_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
