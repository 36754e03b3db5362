/*
 * The account's access token (shared/protocols/wecom.md D.1), kept in
 * memory only: fetched when a send needs it, by OA's stable_token
 * (several holders share one token, and it never invalidates another
 * process's) or WeCom's gettoken, once for every caller waiting, and
 * fetched again TOKEN_MARGIN_S before its expires_in, or when the
 * platform called it stale (40001, 40014, 42001: push.c) and it is
 * still the one held.  Neither the token nor the secret is logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "callback.h"
#include "log.h"
#include "xmalloc.h"

/* D.1: stable tokens rotate 5 min early; refresh a minute before. */
#define TOKEN_MARGIN_S	60
/* D.1: "store >= 512 chars". */
#define TOKEN_MAX	1024
/* push.c waits for one at a time, but a fetch may outlive a stop. */
#define TOKEN_WAITERS	4

static struct {
	char		*tok;
	time_t		 expires;
	int		 fetching;
	token_fn	 fn[TOKEN_WAITERS];
	void		*arg[TOKEN_WAITERS];
	size_t		 n;
} tk;

static void	token_done(long, const char *, const char *, size_t,
	    const char *, void *);
static void	token_tell(const char *, const char *);

void
token_get(token_fn fn, void *arg)
{
	char url[2048], *json = NULL, *ecorp, *esec;
	json_t *o;
	int rv;

	if (cb.secret == NULL) {
		fn(NULL, "no secret_file: this account answers passively "
		    "only", arg);
		return;
	}
	if (tk.tok != NULL && time(NULL) < tk.expires) {
		fn(tk.tok, NULL, arg);
		return;
	}
	if (tk.n == TOKEN_WAITERS) {
		fn(NULL, "too many waiting for the access token", arg);
		return;
	}
	tk.fn[tk.n] = fn;
	tk.arg[tk.n++] = arg;
	if (tk.fetching)
		return;
	if (cb.wecom) {
		ecorp = curl_easy_escape(NULL, cb.id, 0);
		esec = curl_easy_escape(NULL, cb.secret, 0);
		snprintf(url, sizeof(url), "%s/cgi-bin/gettoken?corpid=%s&"
		    "corpsecret=%s", cb.api_url, ecorp, esec);
		curl_free(ecorp);
		freezero(esec, strlen(esec));
	} else {
		snprintf(url, sizeof(url), "%s/cgi-bin/stable_token",
		    cb.api_url);
		o = json_pack("{s:s, s:s, s:s, s:b}",
		    "grant_type", "client_credential", "appid", cb.id,
		    "secret", cb.secret, "force_refresh", 0);
		if (o == NULL ||
		    (json = jsonalloc_dumps(o, JSON_COMPACT)) == NULL)
			fatalx("%s: json", __func__);
		json_decref(o);
	}
	tk.fetching = 1;
	log_debug("callback %s: fetching an access token", cb.account);
	rv = api_call(url, json, API_ANSWER_MAX, token_done, NULL);
	explicit_bzero(url, sizeof(url));
	if (json != NULL)
		freezero(json, strlen(json));
	if (rv == -1) {
		tk.fetching = 0;
		token_tell(NULL, "the token request could not start");
	}
}

static void
token_tell(const char *tok, const char *err)
{
	token_fn fn[TOKEN_WAITERS];
	void *arg[TOKEN_WAITERS];
	size_t i, n = tk.n;

	memcpy(fn, tk.fn, sizeof(fn));
	memcpy(arg, tk.arg, sizeof(arg));
	tk.n = 0;
	for (i = 0; i < n; i++)
		fn[i](tok, err, arg[i]);
}

static void
token_done(long status, const char *ctype, const char *body, size_t len,
    const char *err, void *arg)
{
	char why[160], msg[96];
	json_t *o = NULL;
	const char *t;
	long long code, exp;

	(void)ctype;	/* the body is read as JSON whatever it says */
	(void)arg;
	tk.fetching = 0;
	if (err != NULL || status != 200) {
		snprintf(why, sizeof(why), "access token: %s", err != NULL ?
		    err : "HTTP error");
		token_tell(NULL, why);
		return;
	}
	if (api_errcode(body, len, &code, msg, sizeof(msg)) == -1 ||
	    code != 0 ||
	    (o = json_loadb(body, len, 0, NULL)) == NULL ||
	    (t = json_string_value(json_object_get(o, "access_token"))) ==
	    NULL || *t == '\0' || strlen(t) > TOKEN_MAX) {
		/* 40001 here is a wrong secret (D.1): say so, once. */
		snprintf(why, sizeof(why), "access token refused: errcode "
		    "%lld %s", code, msg);
		log_warnx("callback %s: %s", cb.account, why);
		json_decref(o);
		token_tell(NULL, why);
		return;
	}
	exp = json_integer_value(json_object_get(o, "expires_in"));
	if (exp <= 0 || exp > 7200)
		exp = 7200;
	if (tk.tok != NULL)
		freezero(tk.tok, strlen(tk.tok));
	tk.tok = xstrdup(t);
	json_decref(o);
	tk.expires = time(NULL) + (exp > 2 * TOKEN_MARGIN_S ?
	    exp - TOKEN_MARGIN_S : exp / 2);
	log_debug("callback %s: access token for %lld s", cb.account, exp);
	token_tell(tk.tok, NULL);
}

/* Only the token the platform refused: a newer one stays (D.1 CAS). */
void
token_stale(const char *tok)
{
	if (tk.tok == NULL || strcmp(tk.tok, tok) != 0)
		return;
	freezero(tk.tok, strlen(tk.tok));
	tk.tok = NULL;
}

void
token_stop(void)
{
	tk.n = 0;
	if (tk.tok != NULL)
		freezero(tk.tok, strlen(tk.tok));
	tk.tok = NULL;
}
