/*
 * The openai backend: any OpenAI-compatible /v1/chat/completions
 * endpoint (OpenAI, DeepSeek, DashScope, Ollama, llama.cpp, vLLM).
 * Many requests are in flight at once on one libcurl multi handle,
 * driven by the worker's libevent loop through CURLMOPT_SOCKETFUNCTION
 * and CURLMOPT_TIMERFUNCTION.  A streamed reply (SSE) is cut into events
 * by sse.c and each data line parsed with jansson; a server that answers
 * with plain JSON instead (or stream: false) is read whole.
 *
 * Before the sandbox it reads its config slice (with the API key, which
 * it never logs); net/fetch.c loads the CA bundle into memory, resolves
 * the endpoint's host (then again with evdns once that answer is old),
 * runs the multi handle on the loop, and says why (no files and no
 * threads in the sandbox).
 *
 * Every failure ends in agent.error with a code the user can act on:
 * unreachable, unauthorized, rate_limited (with retry_after_ms),
 * upstream_error, timeout, bad_response.  A request is retried once, and
 * only while nothing of it has been sent on (no delta yet).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "agent.h"
#include "codec.h"
#include "log.h"
#include "net/fetch.h"
#include "sse.h"
#include "worker.h"
#include "xmalloc.h"

/* A non-streamed reply, or an error body, read whole up to this. */
#define OAI_BODY_MAX	(256 * 1024)
/* Kept of an error body for the log line. */
#define OAI_ERRBODY_LOG	200
/* A delta frame is sent once this much text is waiting. */
#define OAI_DELTA_MAX	(16 * 1024)
/* One try plus one retry, this long apart, before any delta. */
#define OAI_TRIES_MAX	2
#define OAI_RETRY_MS	300
/* A whole request may take this long, however slowly it trickles. */
#define OAI_TOTAL_MAX_S	900
/* After [DONE] (or finish_reason) the response has this long to end. */
#define OAI_LINGER_MS	1000

struct oai_conf {
	char			*url;
	char			*model;
	json_t			*models;	/* what /model may pick */
	char			*api_key;
	double			 temperature;	/* < 0: not sent */
	long			 max_tokens;	/* 0: not sent */
	long			 timeout_s;
	int			 stream;
	struct curl_slist	*headers;	/* with Authorization */
};

struct oai {
	struct agent_req	*req;
	CURL			*easy;
	char			*body;		/* the JSON we POST */
	struct sse		 sse;
	int			 is_sse;	/* Content-Type said so */
	long			 status;
	uint64_t		 retry_after_ms;
	char			*raw;		/* non-SSE body */
	size_t			 rawlen;
	char			*pend;		/* text not yet sent on */
	size_t			 pendlen;
	size_t			 sent;		/* bytes of text sent on */
	int			 finished;	/* [DONE] or finish_reason */
	const char		*bad;		/* why the body was refused */
	int			 tries;
	struct event		*retry_ev;
	struct event		*silence_ev;	/* timeout_s without a byte */
};

static struct oai_conf	 oc;

static int	oai_init(json_t *);
static int	oai_post_sandbox(void);
static int	oai_start(struct agent_req *,
		    const struct ipc_body_agent_request *);
static void	oai_cancel(struct agent_req *);
static int	oai_launch(struct oai *);
static void	oai_drop_easy(struct oai *);
static void	oai_retry(evutil_socket_t, short, void *);
static void	oai_silence(evutil_socket_t, short, void *);
static void	oai_heard(struct oai *);
static void	oai_done(CURL *, CURLcode, void *);
static void	oai_finish(struct oai *, CURLcode);
static void	oai_fail(struct oai *, const char *, const char *, uint64_t);
static size_t	oai_write(char *, size_t, size_t, void *);
static size_t	oai_header(char *, size_t, size_t, void *);
static int	oai_sse_event(const char *, size_t, void *);
static int	oai_take_text(struct oai *, json_t *, const char *);
static void	oai_flush(struct oai *);

const struct agent_backend agent_openai = {
	"openai", "agent-openai", oai_init, oai_post_sandbox, oai_start,
	oai_cancel, NULL
};

static char *
oai_conf_str(json_t *conf, const char *key, int required)
{
	const char *v = wk_conf_str(conf, key, NULL);

	if (v == NULL && required)
		fatalx("openai: config slice lacks %s", key);
	return v == NULL ? NULL : xstrdup(v);
}

static int
oai_init(json_t *conf)
{
	char *h;
	json_t *hl, *v;
	long long n;
	size_t i;

	if (fetch_init() == -1)
		return -1;
	oc.url = oai_conf_str(conf, "url", 1);
	oc.model = oai_conf_str(conf, "model", 1);
	oc.models = json_incref(json_object_get(conf, "models"));
	oc.api_key = oai_conf_str(conf, "api_key", 0);
	oc.temperature = -1;
	if (json_is_number(v = json_object_get(conf, "temperature")))
		oc.temperature = json_number_value(v);
	if (wk_conf_int(conf, "max_tokens", 0, 0, 1000000, &n) == -1)
		return -1;
	oc.max_tokens = (long)n;
	if (wk_conf_int(conf, "timeout_s", 60, 1, 3600, &n) == -1)
		return -1;
	oc.timeout_s = (long)n;
	oc.stream = !json_is_false(json_object_get(conf, "stream"));

	oc.headers = curl_slist_append(oc.headers,
	    "Content-Type: application/json");
	/* No "100 Continue" round trip before the body. */
	oc.headers = curl_slist_append(oc.headers, "Expect:");
	if (oc.stream)
		oc.headers = curl_slist_append(oc.headers,
		    "Accept: text/event-stream");
	if (oc.api_key != NULL) {
		xasprintf(&h, "Authorization: Bearer %s", oc.api_key);
		oc.headers = curl_slist_append(oc.headers, h);
		xfree_secret(h);
		/* The header list holds it now; one copy fewer to leak. */
		xfree_secret(oc.api_key);
		oc.api_key = NULL;
	}
	hl = json_object_get(conf, "headers");
	json_array_foreach(hl, i, v)
		if (json_is_string(v))
			oc.headers = curl_slist_append(oc.headers,
			    json_string_value(v));
	if (oc.headers == NULL)
		return -1;

	/*
	 * Unresolvable now: each request looks it up again, and fails as
	 * unreachable while it stays so, rather than the start.
	 */
	if (fetch_dns_init() == -1 || fetch_pin(oc.url) == -1)
		return -1;
	if (strncmp(oc.url, "https://", 8) == 0 && fetch_load_ca() == -1)
		return -1;
	return 0;
}

static int
oai_post_sandbox(void)
{
	return fetch_start(worker_base());
}

/*
 * The conversation's pick (/model) if this agent's config lists it: the
 * hub checked already, and checking again costs a loop, not trust.
 */
static const char *
oai_model(const struct ipc_str *pick)
{
	json_t *v;
	size_t i;

	json_array_foreach(oc.models, i, v)
		if (json_is_string(v) && ipc_streq(*pick, json_string_value(v)))
			return json_string_value(v);
	return oc.model;
}

static int
oai_start(struct agent_req *r, const struct ipc_body_agent_request *b)
{
	json_t *body, *msgs, *parts;
	struct oai *o;
	size_t i;

	body = json_object();
	msgs = json_array();
	for (i = 0; i < b->turns.n; i++) {
		/* The newest turn is the one the attachments came with. */
		if (i + 1 == b->turns.n && r->nparts > 0 &&
		    (parts = vision_content(r, b->turns.v[i].text.p,
		    b->turns.v[i].text.len)) != NULL) {
			json_array_append_new(msgs, json_pack("{s:s%, s:o}",
			    "role", b->turns.v[i].role.p,
			    b->turns.v[i].role.len, "content", parts));
			continue;
		}
		json_array_append_new(msgs, json_pack("{s:s%, s:s%}",
		    "role", b->turns.v[i].role.p, b->turns.v[i].role.len,
		    "content", b->turns.v[i].text.p,
		    b->turns.v[i].text.len));
	}
	json_object_set_new(body, "model", json_string(oai_model(&b->model)));
	json_object_set_new(body, "messages", msgs);
	json_object_set_new(body, "stream", json_boolean(oc.stream));
	if (oc.temperature >= 0)
		json_object_set_new(body, "temperature",
		    json_real(oc.temperature));
	if (oc.max_tokens > 0)
		json_object_set_new(body, "max_tokens",
		    json_integer(oc.max_tokens));
	o = xcalloc(1, sizeof(*o));
	o->req = r;
	o->body = jsonalloc_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (o->body == NULL) {
		free(o);
		return -1;
	}
	r->priv = o;
	if (oai_launch(o) == -1) {
		r->priv = NULL;
		free(o->body);
		free(o);
		return -1;
	}
	return 0;
}

/* One try: a fresh easy handle on the shared multi handle. */
static int
oai_launch(struct oai *o)
{
	CURL *e;

	o->tries++;
	o->status = 0;
	o->is_sse = 0;
	o->retry_after_ms = 0;
	o->rawlen = 0;
	o->finished = 0;
	o->bad = NULL;
	sse_clear(&o->sse);
	if ((e = fetch_easy()) == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, oc.headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, oc.timeout_s);
	/*
	 * A stream silent for timeout_s is stalled: oai_silence, not
	 * curl's low-speed check, which averages over whole seconds and
	 * cut a stalled stream only after about four times timeout_s.
	 */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)OAI_TOTAL_MAX_S);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, oai_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, oai_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, o);
	/* Before fetch_add: a write callback may already ask for it. */
	o->easy = e;
	if (fetch_add(e, oc.url, oai_done, o) == -1) {
		curl_easy_cleanup(e);
		o->easy = NULL;
		return -1;
	}
	if (o->silence_ev == NULL &&
	    (o->silence_ev = evtimer_new(worker_base(), oai_silence, o)) ==
	    NULL)
		fatalx("%s: evtimer_new", __func__);
	oai_heard(o);
	return 0;
}

/*
 * A byte came (or the try began): silence is counted from now.  Not
 * once the reply is whole: what a server sends after it (keepalive
 * comments) must not hold the request open.
 */
static void
oai_heard(struct oai *o)
{
	struct timeval tv = { oc.timeout_s, 0 };

	if (o->finished)
		return;
	evtimer_add(o->silence_ev, &tv);
}

/*
 * timeout_s without a byte: end the transfer (the server sees the
 * connection close) and tell the client.  Not retried: the model may
 * be working on it still, and a retry would double the wait.
 */
static void
oai_silence(evutil_socket_t fd, short what, void *arg)
{
	struct oai *o = arg;

	(void)fd;
	(void)what;
	/*
	 * The reply was whole and the server kept the response open past
	 * OAI_LINGER_MS: it is the answer, not a timeout.
	 */
	if (o->finished && o->bad == NULL) {
		log_debug("openai: request %llu: response held open after "
		    "its end", (unsigned long long)o->req->id);
		oai_flush(o);
		oai_drop_easy(o);
		agent_done(o->req);	/* frees o via oai_cancel */
		return;
	}
	log_warnx("openai: request %llu: no data for %lds",
	    (unsigned long long)o->req->id, oc.timeout_s);
	oai_flush(o);
	oai_drop_easy(o);
	oai_fail(o, "timeout", "the model took too long to answer", 0);
}

static void
oai_drop_easy(struct oai *o)
{
	if (o->silence_ev != NULL)
		evtimer_del(o->silence_ev);
	if (o->easy == NULL)
		return;
	/* Closes the connection: the server sees the request end. */
	fetch_drop(o->easy);
	o->easy = NULL;
}

static void
oai_cancel(struct agent_req *r)
{
	struct oai *o = r->priv;

	if (o == NULL)
		return;
	oai_drop_easy(o);
	if (o->retry_ev != NULL)
		event_free(o->retry_ev);
	if (o->silence_ev != NULL)
		event_free(o->silence_ev);
	sse_clear(&o->sse);
	free(o->body);
	free(o->raw);
	free(o->pend);
	free(o);
	r->priv = NULL;
}

/* A transfer ended: net/fetch.c calls back outside any curl callback. */
static void
oai_done(CURL *e, CURLcode rc, void *arg)
{
	(void)e;
	oai_finish(arg, rc);
}

static void
oai_retry(evutil_socket_t fd, short what, void *arg)
{
	struct oai *o = arg;

	(void)fd;
	(void)what;
	if (oai_launch(o) == -1)
		oai_fail(o, "upstream_error", "the model could not be asked",
		    0);
}

/*
 * Decide what a finished transfer means.  Order matters: a body we
 * refused says more than the curl error its refusal caused.
 */
static void
oai_finish(struct oai *o, CURLcode rc)
{
	struct timeval tv = { OAI_RETRY_MS / 1000, (OAI_RETRY_MS % 1000) *
	    1000 };
	const char *code = NULL, *msg = NULL;
	json_t *root;
	int retry = 0;

	curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &o->status);
	if (o->bad != NULL) {
		log_warnx("openai: request %llu: bad response: %s",
		    (unsigned long long)o->req->id, o->bad);
		code = "bad_response";
		msg = "the model sent something that is not a reply";
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		log_warnx("openai: request %llu: %s after %lds",
		    (unsigned long long)o->req->id, curl_easy_strerror(rc),
		    oc.timeout_s);
		code = "timeout";
		msg = "the model took too long to answer";
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	    (rc == CURLE_SEND_ERROR && o->status == 0)) {
		log_warnx("openai: request %llu: %s",
		    (unsigned long long)o->req->id, curl_easy_strerror(rc));
		code = "unreachable";
		msg = "the model's server cannot be reached";
		retry = 1;
	} else if (rc != CURLE_OK || (o->status == 200 && o->is_sse &&
	    !o->finished)) {
		log_warnx("openai: request %llu: connection broke off: %s",
		    (unsigned long long)o->req->id, rc != CURLE_OK ?
		    curl_easy_strerror(rc) : "stream ended without [DONE]");
		code = "upstream_error";
		msg = "the connection to the model broke off";
		retry = 1;
	} else if (o->status == 401 || o->status == 403) {
		log_warnx("openai: request %llu: HTTP %ld: check the API key",
		    (unsigned long long)o->req->id, o->status);
		code = "unauthorized";
		msg = "the model's server refused our key";
	} else if (o->status == 429) {
		log_warnx("openai: request %llu: HTTP 429, retry after %llu ms",
		    (unsigned long long)o->req->id,
		    (unsigned long long)o->retry_after_ms);
		code = "rate_limited";
		msg = "the model is busy; try again shortly";
	} else if (o->status < 200 || o->status > 299) {
		log_warnx("openai: request %llu: HTTP %ld: %.*s",
		    (unsigned long long)o->req->id, o->status,
		    (int)(o->rawlen < OAI_ERRBODY_LOG ? o->rawlen :
		    OAI_ERRBODY_LOG), o->raw != NULL ? o->raw : "");
		code = "upstream_error";
		msg = "the model's server failed";
		retry = o->status >= 500;
	} else if (!o->is_sse) {
		/* The whole reply as one JSON object (stream: false). */
		root = json_loadb(o->raw != NULL ? o->raw : "", o->rawlen,
		    JSON_REJECT_DUPLICATES, NULL);
		if (root == NULL || oai_take_text(o, root, "message") == -1) {
			log_warnx("openai: request %llu: bad response: %s",
			    (unsigned long long)o->req->id, o->bad != NULL ?
			    o->bad : "not JSON");
			code = "bad_response";
			msg = "the model sent something that is not a reply";
		}
		json_decref(root);
	}
	oai_drop_easy(o);
	if (code != NULL) {
		if (retry && o->sent == 0 && o->pendlen == 0 &&
		    o->tries < OAI_TRIES_MAX) {
			log_info("openai: request %llu: retrying",
			    (unsigned long long)o->req->id);
			if (o->retry_ev == NULL)
				o->retry_ev = evtimer_new(worker_base(),
				    oai_retry, o);
			evtimer_add(o->retry_ev, &tv);
			return;
		}
		oai_fail(o, code, msg, o->retry_after_ms);
		return;
	}
	oai_flush(o);
	agent_done(o->req);		/* frees o via oai_cancel */
}

static void
oai_fail(struct oai *o, const char *code, const char *msg, uint64_t retry)
{
	agent_error_retry(o->req, code, msg, retry);	/* frees o */
}

/* Headers of the final response: status line resets, two we read. */
static size_t
oai_header(char *buf, size_t size, size_t n, void *arg)
{
	struct oai *o = arg;
	size_t len = size * n, i;
	unsigned long long v = 0;

	oai_heard(o);
	if (len >= 5 && strncasecmp(buf, "HTTP/", 5) == 0) {
		o->is_sse = 0;
		o->retry_after_ms = 0;
		return len;
	}
	if (len > 13 && strncasecmp(buf, "Content-Type:", 13) == 0) {
		for (i = 13; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++)
			;
		o->is_sse = len - i >= 17 &&
		    strncasecmp(buf + i, "text/event-stream", 17) == 0;
		return len;
	}
	/* Delta-seconds only; an HTTP-date is left to the client. */
	if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		for (i = 12; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++)
			;
		for (; i < len && buf[i] >= '0' && buf[i] <= '9' &&
		    v < IPC_RETRY_AFTER_MAX / 1000; i++)
			v = v * 10 + (unsigned long long)(buf[i] - '0');
		o->retry_after_ms = v * 1000;
		return len;
	}
	return len;
}

static size_t
oai_write(char *buf, size_t size, size_t n, void *arg)
{
	struct oai *o = arg;
	struct timeval tv = { OAI_LINGER_MS / 1000, (OAI_LINGER_MS % 1000) *
	    1000 };
	size_t len = size * n;
	enum sse_err e;
	int was;

	oai_heard(o);
	if (o->status == 0)
		curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &o->status);
	if (o->status == 200 && o->is_sse) {
		was = o->finished;
		e = sse_feed(&o->sse, buf, len, oai_sse_event, o);
		if (e != SSE_OK && o->bad == NULL)
			o->bad = sse_strerror(e);
		oai_flush(o);
		/* Whole now: the response's end has a moment to come. */
		if (!was && o->finished)
			evtimer_add(o->silence_ev, &tv);
		/* Returning less than len ends the transfer. */
		return o->bad != NULL ? 0 : len;
	}
	/* A JSON reply or an error body: keep it, up to a bound. */
	if (len > OAI_BODY_MAX - o->rawlen) {
		if (o->status == 200) {
			o->bad = "reply larger than the body limit";
			return 0;
		}
		len = OAI_BODY_MAX - o->rawlen;
	}
	o->raw = xreallocarray(o->raw, o->rawlen + len + 1, 1);
	memcpy(o->raw + o->rawlen, buf, len);
	o->rawlen += len;
	o->raw[o->rawlen] = '\0';
	return size * n;
}

/* One SSE event: "[DONE]" or a chat.completion.chunk. */
static int
oai_sse_event(const char *data, size_t len, void *arg)
{
	struct oai *o = arg;
	json_t *root;
	int rv;

	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		o->finished = 1;
		return 0;
	}
	if (o->finished)
		return 0;
	if ((root = json_loadb(data, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL) {
		o->bad = "an event is not JSON";
		return -1;
	}
	rv = oai_take_text(o, root, "delta");
	json_decref(root);
	return rv;
}

/*
 * choices[0].<part>.content of a chunk ("delta") or a whole reply
 * ("message"); null or absent content is no text.  An "error" object is
 * an upstream failure reported in band.
 */
static int
oai_take_text(struct oai *o, json_t *root, const char *part)
{
	json_t *ch, *c0, *content, *fr;
	const char *s;
	size_t len;

	if (!json_is_object(root)) {
		o->bad = "an event is not an object";
		return -1;
	}
	if (json_object_get(root, "error") != NULL) {
		o->bad = "the stream reported an error";
		return -1;
	}
	ch = json_object_get(root, "choices");
	if (!json_is_array(ch)) {
		o->bad = "no choices";
		return -1;
	}
	/* Usage-only chunks have no choices at all. */
	if (json_array_size(ch) == 0)
		return 0;
	c0 = json_array_get(ch, 0);
	if (!json_is_object(c0)) {
		o->bad = "a choice is not an object";
		return -1;
	}
	fr = json_object_get(c0, "finish_reason");
	if (fr != NULL && !json_is_null(fr))
		o->finished = 1;
	content = json_object_get(json_object_get(c0, part), "content");
	if (content == NULL || json_is_null(content))
		return 0;
	if (!json_is_string(content)) {
		o->bad = "content is not a string";
		return -1;
	}
	s = json_string_value(content);
	len = json_string_length(content);
	/* \u0000 is valid JSON and not valid IPC text. */
	if (!ipc_utf8_valid(s, len)) {
		o->bad = "content holds NUL";
		return -1;
	}
	/* The supervisor keeps IPC_REPLY_MAX of a reply; stop sending there. */
	if (len > IPC_REPLY_MAX - o->sent - o->pendlen) {
		len = IPC_REPLY_MAX - o->sent - o->pendlen;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		if (len == 0)
			return 0;
	}
	if (o->pendlen + len > OAI_DELTA_MAX)
		oai_flush(o);
	o->pend = xreallocarray(o->pend, o->pendlen + len + 1, 1);
	memcpy(o->pend + o->pendlen, s, len);
	o->pendlen += len;
	return 0;
}

/* Text waiting goes on as one delta. */
static void
oai_flush(struct oai *o)
{
	if (o->pendlen == 0)
		return;
	if (agent_delta(o->req, o->pend, o->pendlen) == -1)
		fatalx("%s: supervisor queue full", __func__);
	o->sent += o->pendlen;
	o->pendlen = 0;
}
