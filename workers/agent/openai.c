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
 * it never logs), loads the CA bundle into memory and resolves the
 * endpoint's host once, pinning it with CURLOPT_RESOLVE: in the sandbox
 * there are no files and no threads, so curl must never resolve.
 * XXX the address is fixed for the worker's life; a restart re-resolves.
 * An evdns lookup per request would close that.
 *
 * Every failure ends in agent.error with a code the user can act on:
 * unreachable, unauthorized, rate_limited (with retry_after_ms),
 * upstream_error, timeout, bad_response.  A request is retried once, and
 * only while nothing of it has been sent on (no delta yet).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
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
#include "sse.h"
#include "worker.h"
#include "xmalloc.h"

#define OAI_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
/* The Debian bundle is about 200 KiB; ten times that is not a bundle. */
#define OAI_CA_MAX	(2 * 1024 * 1024)
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
/* Addresses pinned for the endpoint's host. */
#define OAI_ADDRS_MAX	8
#define OAI_HOST_MAX	256

struct oai_conf {
	char			*url;
	char			*model;
	char			*api_key;
	double			 temperature;	/* < 0: not sent */
	long			 max_tokens;	/* 0: not sent */
	long			 timeout_s;
	int			 stream;
	struct curl_slist	*headers;	/* with Authorization */
	struct curl_slist	*resolve;	/* host:port:addr,... */
	char			*ca;		/* the CA bundle, in memory */
	size_t			 calen;
	int			 no_addr;	/* host did not resolve */
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
};

struct oai_sock {
	struct event		*ev;
};

static struct oai_conf	 oc;
static CURLM		*multi;
static struct event	*timer_ev;

static int	oai_init(json_t *);
static int	oai_post_sandbox(void);
static int	oai_start(struct agent_req *,
		    const struct ipc_body_agent_request *);
static void	oai_cancel(struct agent_req *);
static int	oai_resolve(const char *);
static int	oai_load_ca(void);
static int	oai_launch(struct oai *);
static void	oai_drop_easy(struct oai *);
static int	oai_sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	oai_timer_cb(CURLM *, long, void *);
static void	oai_event(evutil_socket_t, short, void *);
static void	oai_timeout(evutil_socket_t, short, void *);
static void	oai_retry(evutil_socket_t, short, void *);
static void	oai_check(void);
static void	oai_finish(struct oai *, CURLcode);
static void	oai_fail(struct oai *, const char *, const char *, uint64_t);
static size_t	oai_write(char *, size_t, size_t, void *);
static size_t	oai_header(char *, size_t, size_t, void *);
static int	oai_sse_event(const char *, size_t, void *);
static int	oai_take_text(struct oai *, json_t *, const char *);
static void	oai_flush(struct oai *);

const struct agent_backend agent_openai = {
	"openai", "agent-openai", oai_init, oai_post_sandbox, oai_start,
	oai_cancel
};

static char *
oai_conf_str(json_t *conf, const char *key, int required)
{
	const char *v = json_string_value(json_object_get(conf, key));

	if (v == NULL && required)
		fatalx("openai: config slice lacks %s", key);
	return v == NULL ? NULL : xstrdup(v);
}

static int
oai_init(json_t *conf)
{
	char *h, *host = NULL;
	json_t *hl, *v;
	size_t i;
	CURLU *u;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("%s: curl_global_init failed", __func__);
		return -1;
	}
	oc.url = oai_conf_str(conf, "url", 1);
	oc.model = oai_conf_str(conf, "model", 1);
	oc.api_key = oai_conf_str(conf, "api_key", 0);
	oc.temperature = -1;
	if (json_is_number(v = json_object_get(conf, "temperature")))
		oc.temperature = json_number_value(v);
	oc.max_tokens = (long)json_integer_value(json_object_get(conf,
	    "max_tokens"));
	oc.timeout_s = (long)json_integer_value(json_object_get(conf,
	    "timeout_s"));
	if (oc.timeout_s <= 0)
		oc.timeout_s = 60;
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
		explicit_bzero(h, strlen(h));
		free(h);
	}
	hl = json_object_get(conf, "headers");
	json_array_foreach(hl, i, v)
		if (json_is_string(v))
			oc.headers = curl_slist_append(oc.headers,
			    json_string_value(v));
	if (oc.headers == NULL)
		return -1;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, oc.url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		log_warnx("%s: cannot parse the endpoint URL", __func__);
		curl_url_cleanup(u);
		return -1;
	}
	if (oai_resolve(host) == -1) {
		curl_free(host);
		curl_url_cleanup(u);
		return -1;
	}
	curl_free(host);
	curl_url_cleanup(u);
	if (strncmp(oc.url, "https://", 8) == 0 && oai_load_ca() == -1)
		return -1;
	return 0;
}

/*
 * Resolve the host now, while /etc is there, and pin the result.  A
 * literal address needs nothing: curl never resolves one.  A host that
 * does not resolve leaves every request failing as unreachable, rather
 * than the worker failing to start, so the cause reaches the user.
 */
static int
oai_resolve(const char *host)
{
	struct addrinfo hints, *res, *ai;
	char addr[INET6_ADDRSTRLEN + 2], entry[OAI_HOST_MAX + 16 +
	    OAI_ADDRS_MAX * (INET6_ADDRSTRLEN + 3)];
	struct in6_addr a6;
	struct in_addr a4;
	const char *port;
	size_t n = 0, len, len2;
	int rv;

	if (host[0] == '[' || inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		return 0;
	if (strlen(host) >= OAI_HOST_MAX) {
		log_warnx("%s: host name too long", __func__);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		log_warnx("%s: %s: %s; requests will fail until a restart",
		    __func__, host, gai_strerror(rv));
		oc.no_addr = 1;
		return 0;
	}
	port = strncmp(oc.url, "https://", 8) == 0 ? "443" : "80";
	{
		/* The URL's own port, when it names one. */
		CURLU *u = curl_url();
		char *p = NULL;

		if (u != NULL && curl_url_set(u, CURLUPART_URL, oc.url, 0) ==
		    CURLUE_OK && curl_url_get(u, CURLUPART_PORT, &p, 0) ==
		    CURLUE_OK && p != NULL)
			port = p;
		len = (size_t)snprintf(entry, sizeof(entry), "%s:%s:", host,
		    port);
		curl_free(p);
		curl_url_cleanup(u);
	}
	for (ai = res; ai != NULL && n < OAI_ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    (void *)ai->ai_addr)->sin_addr, addr,
			    sizeof(addr));
		else if (ai->ai_family == AF_INET6) {
			addr[0] = '[';
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    (void *)ai->ai_addr)->sin6_addr, addr + 1,
			    sizeof(addr) - 2);
			len2 = strlen(addr);
			addr[len2] = ']';
			addr[len2 + 1] = '\0';
		} else
			continue;
		len += (size_t)snprintf(entry + len, sizeof(entry) - len,
		    "%s%s", n > 0 ? "," : "", addr);
		n++;
	}
	freeaddrinfo(res);
	if (n == 0 || len >= sizeof(entry)) {
		oc.no_addr = 1;
		return 0;
	}
	oc.resolve = curl_slist_append(NULL, entry);
	log_debug("%s: pinned %s", __func__, entry);
	return oc.resolve == NULL ? -1 : 0;
}

/* The CA bundle goes in by CURLOPT_CAINFO_BLOB: no files in the sandbox. */
static int
oai_load_ca(void)
{
	ssize_t n;
	int fd;

	if ((fd = open(OAI_CA_FILE, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: %s", __func__, OAI_CA_FILE);
		return -1;
	}
	oc.ca = xmalloc(OAI_CA_MAX);
	while (oc.calen < OAI_CA_MAX) {
		n = read(fd, oc.ca + oc.calen, OAI_CA_MAX - oc.calen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		oc.calen += (size_t)n;
	}
	close(fd);
	if (oc.calen == 0 || oc.calen == OAI_CA_MAX) {
		log_warnx("%s: %s: empty or larger than %d bytes", __func__,
		    OAI_CA_FILE, OAI_CA_MAX);
		return -1;
	}
	return 0;
}

/* curl_multi_init opens its wake-up socketpair: do it in the sandbox. */
static int
oai_post_sandbox(void)
{
	if ((multi = curl_multi_init()) == NULL)
		return -1;
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, oai_sock_cb);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, oai_timer_cb);
	timer_ev = evtimer_new(worker_base(), oai_timeout, NULL);
	return timer_ev == NULL ? -1 : 0;
}

static int
oai_start(struct agent_req *r, const struct ipc_body_agent_request *b)
{
	json_t *body, *msgs;
	struct oai *o;
	size_t i;

	body = json_object();
	msgs = json_array();
	for (i = 0; i < b->turns.n; i++)
		json_array_append_new(msgs, json_pack("{s:s%, s:s%}",
		    "role", b->turns.v[i].role.p, b->turns.v[i].role.len,
		    "content", b->turns.v[i].text.p,
		    b->turns.v[i].text.len));
	json_object_set_new(body, "model", json_string(oc.model));
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
	o->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (o->body == NULL) {
		free(o);
		return -1;
	}
	r->priv = o;
	if (oc.no_addr) {
		oai_fail(o, "unreachable", "the model's address could not be "
		    "found", 0);
		return 0;
	}
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
	struct curl_blob blob;
	CURL *e;

	o->tries++;
	o->status = 0;
	o->is_sse = 0;
	o->retry_after_ms = 0;
	o->rawlen = 0;
	o->finished = 0;
	o->bad = NULL;
	sse_clear(&o->sse);
	if ((e = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, oc.url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, oc.headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "wxgate");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, oc.timeout_s);
	/* A stream silent for timeout_s is stalled. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, oc.timeout_s);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)OAI_TOTAL_MAX_S);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, oai_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, oai_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, o);
	curl_easy_setopt(e, CURLOPT_PRIVATE, o);
	/* Never the compiled-in bundle path: there are no files in here. */
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	if (oc.ca != NULL) {
		blob.data = oc.ca;
		blob.len = oc.calen;
		blob.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (oc.resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, oc.resolve);
	if (curl_multi_add_handle(multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return -1;
	}
	o->easy = e;
	return 0;
}

static void
oai_drop_easy(struct oai *o)
{
	if (o->easy == NULL)
		return;
	/* Closes the connection: the server sees the request end. */
	curl_multi_remove_handle(multi, o->easy);
	curl_easy_cleanup(o->easy);
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
	sse_clear(&o->sse);
	free(o->body);
	free(o->raw);
	free(o->pend);
	free(o);
	r->priv = NULL;
}

/* libcurl tells us which sockets to watch; libevent watches them. */
static int
oai_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct oai_sock *os = sockp;
	short kind;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (os != NULL) {
			event_free(os->ev);
			free(os);
		}
		curl_multi_assign(multi, s, NULL);
		return 0;
	}
	if (os == NULL) {
		os = xcalloc(1, sizeof(*os));
		curl_multi_assign(multi, s, os);
	} else
		event_free(os->ev);
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if ((os->ev = event_new(worker_base(), s, kind, oai_event,
	    NULL)) == NULL || event_add(os->ev, NULL) == -1)
		fatalx("%s: event_new", __func__);
	return 0;
}

static int
oai_timer_cb(CURLM *m, long ms, void *userp)
{
	struct timeval tv;

	(void)m;
	(void)userp;
	if (ms < 0) {
		evtimer_del(timer_ev);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(timer_ev, &tv);
	return 0;
}

static void
oai_event(evutil_socket_t fd, short what, void *arg)
{
	int running, action = 0;

	(void)arg;
	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(multi, fd, action, &running);
	oai_check();
}

static void
oai_timeout(evutil_socket_t fd, short what, void *arg)
{
	int running;

	(void)fd;
	(void)what;
	(void)arg;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	oai_check();
}

/* Finished transfers, outside any curl callback. */
static void
oai_check(void)
{
	CURLMsg *msg;
	struct oai *o;
	int left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		o = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&o);
		if (o == NULL)
			continue;
		oai_finish(o, msg->data.result);
	}
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
	size_t len = size * n;
	enum sse_err e;

	if (o->status == 0)
		curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &o->status);
	if (o->status == 200 && o->is_sse) {
		e = sse_feed(&o->sse, buf, len, oai_sse_event, o);
		if (e != SSE_OK && o->bad == NULL)
			o->bad = sse_strerror(e);
		oai_flush(o);
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
