/*
 * Outbound HTTP(S) for sandboxed workers: libcurl's multi interface with
 * its sockets and timer as libevent events on the worker's loop
 * (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION), so one process
 * holds many transfers without threads.
 *
 * The sandbox has no files and no threads, so everything curl would
 * fetch lazily is fetched before it: the CA bundle is read into memory
 * (CURLOPT_CAINFO_BLOB).  curl never resolves a name itself (its
 * resolver is a thread reading /etc): every transfer to a host name
 * carries that host's addresses in CURLOPT_RESOLVE.  They come from
 * getaddrinfo() before the sandbox for the configured hosts (fetch_pin)
 * and, for a host first named later (an API host a login returns) or
 * once an answer is FETCH_DNS_TTL_MS old, from evdns on the worker's
 * loop: UDP to the nameservers /etc/resolv.conf listed before the
 * sandbox (fetch_dns_init), A and AAAA, within FETCH_DNS_WAIT_MS.  An
 * old answer serves while a new lookup runs, and when none comes; a
 * host with no answer at all fails its transfers with
 * CURLE_COULDNT_RESOLVE_HOST, always from the loop, never inside
 * fetch_add().
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "net/curl_dl.h"
#include "net/fetch.h"
#include "net/resolv.h"
#include "xmalloc.h"

#define FETCH_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
/* The Debian bundle is about 200 KiB; ten times that is not a bundle. */
#define FETCH_CA_MAX	(2 * 1024 * 1024)
/* Addresses kept per host; hosts a worker talks to (the rest evicted). */
#define FETCH_ADDRS_MAX	8
#define FETCH_HOSTS_MAX	16
#define FETCH_HOST_MAX	256
/* An answer is used this long before a new lookup (we see no TTLs). */
#define FETCH_DNS_TTL_MS	(5 * 60 * 1000)
/* After a failed lookup, an old answer is used this long unasked. */
#define FETCH_DNS_RETRY_MS	(30 * 1000)
/* One lookup, A and AAAA, gets this long; its transfers wait for it. */
#define FETCH_DNS_WAIT_MS	8000
/* evdns's own bounds, per query: seconds and tries per nameserver. */
#define FETCH_DNS_TIMEOUT	"3"
#define FETCH_DNS_ATTEMPTS	"2"
/* A CURLOPT_RESOLVE line: host:port:addr,addr,... */
#define FETCH_ENTRY_MAX	(FETCH_HOST_MAX + 16 + FETCH_ADDRS_MAX * \
	    (INET6_ADDRSTRLEN + 3))

struct fetch_lookup;

/* What CURLOPT_PRIVATE holds from fetch_add() to the end. */
struct fetch_xfer {
	TAILQ_ENTRY(fetch_xfer)	 entry;		/* on lk->waiting */
	CURL			*e;
	struct fetch_lookup	*lk;		/* waiting for it; NULL: in
						   the multi */
	struct curl_slist	*resolve;	/* its CURLOPT_RESOLVE */
	fetch_done_fn		 fn;
	void			*arg;
};

/* A host we dial by name, and what we know of its addresses. */
struct fetch_host {
	char			*host;		/* NULL: a free slot */
	char			*port;
	char			*entry;		/* NULL: no answer yet */
	uint64_t		 stale_ms;	/* look up again after this */
	uint64_t		 used_ms;	/* eviction picks the oldest */
	struct fetch_lookup	*lk;		/* in flight */
	int			 busy;		/* handing out its answer */
};

/* One evdns lookup and the transfers waiting for it. */
struct fetch_lookup {
	struct fetch_host	*h;		/* NULL: given up, to free */
	struct evdns_getaddrinfo_request *req;
	struct event		*ev;		/* the deadline, then "done" */
	struct evutil_addrinfo	*res;
	int			 err;
	int			 done;
	TAILQ_HEAD(, fetch_xfer) waiting;
};

struct fetch_sock {
	struct event	*ev;
};

static struct {
	CURLM			*multi;
	struct event_base	*base;
	struct event		*timer;
	char			*ca;		/* the CA bundle */
	size_t			 calen;
	struct fetch_host	 hosts[FETCH_HOSTS_MAX];
	struct net_ns		 ns;	/* read before the sandbox */
	int			 dns_read;
	struct evdns_base	*dns;		/* NULL: no resolver */
} f;

static int	fetch_hostport(const char *, char **, char **, int *);
static struct fetch_host *fetch_host_get(const char *, const char *);
static void	fetch_lookup_start(struct fetch_host *);
static void	fetch_lookup_cb(int, struct evutil_addrinfo *, void *);
static void	fetch_lookup_ev(evutil_socket_t, short, void *);
static int	fetch_run(struct fetch_xfer *);
static void	fetch_xfer_free(struct fetch_xfer *);
static int	fetch_sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	fetch_timer_cb(CURLM *, long, void *);
static void	fetch_event(evutil_socket_t, short, void *);
static void	fetch_timeout(evutil_socket_t, short, void *);
static void	fetch_check(void);
static size_t	fetch_cdisp_cb(char *, size_t, size_t, void *);

int
fetch_init(void)
{
	if (curl_dl_open() == -1)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("%s: curl_global_init failed", __func__);
		return -1;
	}
	return 0;
}

/* The CA bundle goes in by CURLOPT_CAINFO_BLOB: no files in the sandbox. */
int
fetch_load_ca(void)
{
	ssize_t n;
	int fd;

	if (f.ca != NULL)
		return 0;
	if ((fd = open(FETCH_CA_FILE, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: %s", __func__, FETCH_CA_FILE);
		return -1;
	}
	f.ca = xmalloc(FETCH_CA_MAX);
	while (f.calen < FETCH_CA_MAX) {
		n = read(fd, f.ca + f.calen, FETCH_CA_MAX - f.calen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		f.calen += (size_t)n;
	}
	close(fd);
	if (f.calen == 0 || f.calen == FETCH_CA_MAX) {
		log_warnx("%s: %s: empty or larger than %d bytes", __func__,
		    FETCH_CA_FILE, FETCH_CA_MAX);
		return -1;
	}
	return 0;
}

/*
 * The URL's host, its port (the scheme's default when none is named)
 * and whether the host is a literal address, which curl never resolves.
 */
static int
fetch_hostport(const char *url, char **host, char **port, int *literal)
{
	struct in6_addr a6;
	struct in_addr a4;
	CURLU *u;
	int rv = -1;

	*host = *port = NULL;
	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK)
		rv = 0;
	curl_url_cleanup(u);
	if (rv == -1) {
		curl_free(*host);
		curl_free(*port);
		*host = *port = NULL;
		return -1;
	}
	*literal = (*host)[0] == '[' || inet_pton(AF_INET, *host, &a4) == 1 ||
	    inet_pton(AF_INET6, *host, &a6) == 1;
	return 0;
}

/* Append the addresses of res to entry, as CURLOPT_RESOLVE wants them. */
static size_t
fetch_addrs(struct addrinfo *res, char *entry, size_t len, size_t size)
{
	char addr[INET6_ADDRSTRLEN + 2];
	struct addrinfo *ai;
	size_t n = 0, l;

	for (ai = res; ai != NULL && n < FETCH_ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    (void *)ai->ai_addr)->sin_addr, addr,
			    sizeof(addr));
		else if (ai->ai_family == AF_INET6) {
			addr[0] = '[';
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    (void *)ai->ai_addr)->sin6_addr, addr + 1,
			    sizeof(addr) - 2);
			l = strlen(addr);
			addr[l] = ']';
			addr[l + 1] = '\0';
		} else
			continue;
		len += (size_t)snprintf(entry + len, size - len, "%s%s",
		    n > 0 ? "," : "", addr);
		if (len >= size)
			return 0;
		n++;
	}
	return n;
}

/* evdns's own messages, at debug level: they name hosts. */
static void
fetch_dns_log(int warn, const char *msg)
{
	if (warn)
		log_info("evdns: %s", msg);
	else
		log_debug("evdns: %s", msg);
}

/* Before the sandbox: resolv.conf's nameservers (resolv.c). */
int
fetch_dns_init(void)
{
	if (f.dns_read)
		return 0;
	f.dns_read = 1;
	evdns_set_log_fn(fetch_dns_log);
	if (net_ns_read(&f.ns) == -1) {
		log_warnx("%s: no DNS in the sandbox", __func__);
		return 0;
	}
	if (f.ns.n == 0)
		log_warnx("%s: no nameserver; a host not resolved at start "
		    "cannot be reached", __func__);
	return 0;
}

/* The slot of host:port, made (evicting the least used) if need be. */
static struct fetch_host *
fetch_host_get(const char *host, const char *port)
{
	struct fetch_host *h, *pick = NULL;
	size_t i;

	for (i = 0; i < FETCH_HOSTS_MAX; i++) {
		h = &f.hosts[i];
		if (h->host != NULL && strcasecmp(h->host, host) == 0 &&
		    strcmp(h->port, port) == 0)
			return h;
	}
	if (strlen(host) >= FETCH_HOST_MAX) {
		log_warnx("%s: host name too long", __func__);
		return NULL;
	}
	for (i = 0; i < FETCH_HOSTS_MAX; i++) {
		h = &f.hosts[i];
		if (h->host == NULL) {
			pick = h;
			break;
		}
		if (h->lk == NULL && !h->busy &&
		    (pick == NULL || h->used_ms < pick->used_ms))
			pick = h;
	}
	if (pick == NULL) {
		log_warnx("%s: lookups of %d hosts in flight", __func__,
		    FETCH_HOSTS_MAX);
		return NULL;
	}
	free(pick->host);
	free(pick->port);
	free(pick->entry);
	memset(pick, 0, sizeof(*pick));
	pick->host = xstrdup(host);
	pick->port = xstrdup(port);
	return pick;
}

/* Keep res as h's addresses; 0 if none of them was usable. */
static int
fetch_host_set(struct fetch_host *h, struct addrinfo *res, uint64_t now)
{
	char entry[FETCH_ENTRY_MAX];
	size_t len;

	len = (size_t)snprintf(entry, sizeof(entry), "%s:%s:", h->host,
	    h->port);
	if (len >= sizeof(entry) || fetch_addrs(res, entry, len,
	    sizeof(entry)) == 0)
		return 0;
	free(h->entry);
	h->entry = xstrdup(entry);
	h->stale_ms = now + FETCH_DNS_TTL_MS;
	log_debug("%s: %s", __func__, entry);
	return 1;
}

/*
 * Resolve url's host now, while /etc is there, with the system's
 * resolver (and so /etc/hosts).  0: known (or a literal address); 1: it
 * did not resolve, and fetch_add() tries again with evdns; -1: a bad
 * URL or too many hosts.
 */
int
fetch_pin(const char *url)
{
	struct addrinfo hints, *res;
	struct fetch_host *h;
	char *host, *port;
	int literal, rv;

	if (fetch_hostport(url, &host, &port, &literal) == -1) {
		log_warnx("%s: cannot parse the URL", __func__);
		return -1;
	}
	rv = 0;
	if (literal)
		goto out;
	rv = -1;
	if ((h = fetch_host_get(host, port)) == NULL)
		goto out;
	rv = 0;
	if (h->entry != NULL)
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		log_warnx("%s: %s: %s; trying again when it is needed",
		    __func__, host, gai_strerror(rv));
		rv = 1;
		goto out;
	}
	rv = fetch_host_set(h, res, clock_mono_ms()) ? 0 : 1;
	freeaddrinfo(res);
out:
	curl_free(host);
	curl_free(port);
	return rv;
}

/*
 * In the sandbox: curl_multi_init opens its wake-up socketpair, and the
 * evdns base its nameservers' UDP sockets.
 */
int
fetch_start(struct event_base *base)
{
	f.base = base;
	if ((f.multi = curl_multi_init()) == NULL)
		return -1;
	curl_multi_setopt(f.multi, CURLMOPT_SOCKETFUNCTION, fetch_sock_cb);
	curl_multi_setopt(f.multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	if ((f.timer = evtimer_new(base, fetch_timeout, NULL)) == NULL)
		return -1;
	if (f.ns.n == 0)
		return 0;
	/* Idle, it must not keep the loop from ending. */
	if ((f.dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE)) ==
	    NULL) {
		log_warnx("%s: evdns_base_new failed; no DNS", __func__);
		return 0;
	}
	if (evdns_base_set_option(f.dns, "timeout:", FETCH_DNS_TIMEOUT) ||
	    evdns_base_set_option(f.dns, "attempts:", FETCH_DNS_ATTEMPTS))
		log_warnx("%s: evdns options refused", __func__);
	if (net_ns_add(f.dns, &f.ns) == 0) {
		evdns_base_free(f.dns, 0);
		f.dns = NULL;
		log_warnx("%s: no nameserver usable; no DNS", __func__);
	}
	return 0;
}

/* A handle with what every transfer of ours needs; the caller adds more. */
CURL *
fetch_easy(void)
{
	CURL *e;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* A redirect would name a host nobody vetted or resolved. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Never the compiled-in bundle path: there are no files in here. */
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	return e;
}

/*
 * Start a transfer of e to url.  A host name goes out with its
 * addresses in CURLOPT_RESOLVE; one we know nothing of, or whose answer
 * is old, is looked up first (an old answer serves meanwhile).  -1: it
 * could not start (a bad URL, too many hosts), and fn is not called;
 * else fn is called once, from the loop, when it ends.
 */
int
fetch_add(CURL *e, const char *url, fetch_done_fn fn, void *arg)
{
	struct curl_blob blob;
	struct fetch_xfer *x;
	struct fetch_host *h;
	char *host, *port;
	uint64_t now;
	int literal, rv = -1;

	if (fetch_hostport(url, &host, &port, &literal) == -1) {
		log_warnx("%s: cannot parse the URL", __func__);
		return -1;
	}
	x = xcalloc(1, sizeof(*x));
	x->e = e;
	x->fn = fn;
	x->arg = arg;
	curl_easy_setopt(e, CURLOPT_URL, url);
	/*
	 * The bundle for https only: each connection keeps a copy of its
	 * configuration's blob (200 KiB), which plain http never reads.
	 */
	blob.data = f.ca;
	blob.len = f.calen;
	blob.flags = CURL_BLOB_NOCOPY;
	curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, f.ca != NULL &&
	    strncasecmp(url, "https:", 6) == 0 ? &blob : NULL);
	if (literal) {
		rv = fetch_run(x);
		goto out;
	}
	if ((h = fetch_host_get(host, port)) == NULL)
		goto out;
	now = clock_mono_ms();
	h->used_ms = now;
	if ((h->entry == NULL || now >= h->stale_ms) && h->lk == NULL)
		fetch_lookup_start(h);
	if (h->entry != NULL) {
		x->resolve = curl_slist_append(NULL, h->entry);
		rv = x->resolve != NULL ? fetch_run(x) : -1;
	} else {
		x->lk = h->lk;
		TAILQ_INSERT_TAIL(&x->lk->waiting, x, entry);
		curl_easy_setopt(e, CURLOPT_PRIVATE, x);
		rv = 0;
	}
out:
	if (rv == -1)
		fetch_xfer_free(x);
	curl_free(host);
	curl_free(port);
	return rv;
}

/* Into the multi, with its addresses; -1 leaves e as it was. */
static int
fetch_run(struct fetch_xfer *x)
{
	x->lk = NULL;
	curl_easy_setopt(x->e, CURLOPT_RESOLVE, x->resolve);
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(f.multi, x->e) != CURLM_OK) {
		curl_easy_setopt(x->e, CURLOPT_PRIVATE, NULL);
		curl_easy_setopt(x->e, CURLOPT_RESOLVE, NULL);
		return -1;
	}
	return 0;
}

/* x is off every list and out of the multi. */
static void
fetch_xfer_free(struct fetch_xfer *x)
{
	if (x->resolve != NULL) {
		curl_easy_setopt(x->e, CURLOPT_RESOLVE, NULL);
		curl_slist_free_all(x->resolve);
	}
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, NULL);
	free(x);
}

/* Tell x's owner it is over; it may start or drop others meanwhile. */
static void
fetch_end(struct fetch_xfer *x, CURLcode rc)
{
	fetch_done_fn fn = x->fn;
	void *arg = x->arg;
	CURL *e = x->e;

	fetch_xfer_free(x);
	fn(e, rc, arg);
}

/*
 * A lookup of h, A and AAAA at once (evdns_getaddrinfo), bounded by
 * FETCH_DNS_WAIT_MS.  Its end is always handled from the loop
 * (fetch_lookup_ev), even when evdns answers at once.  No resolver: an
 * old answer is kept unasked, or the lookup fails as soon as it can.
 */
static void
fetch_lookup_start(struct fetch_host *h)
{
	struct evutil_addrinfo hints;
	struct timeval tv = clock_tv(FETCH_DNS_WAIT_MS);
	struct evdns_getaddrinfo_request *req;
	struct fetch_lookup *lk;

	if (f.dns == NULL && h->entry != NULL) {
		h->stale_ms = clock_mono_ms() + FETCH_DNS_TTL_MS;
		return;
	}
	lk = xcalloc(1, sizeof(*lk));
	TAILQ_INIT(&lk->waiting);
	lk->h = h;
	h->lk = lk;
	if ((lk->ev = evtimer_new(f.base, fetch_lookup_ev, lk)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (f.dns == NULL) {
		lk->done = 1;
		lk->err = EVUTIL_EAI_FAIL;
		event_active(lk->ev, EV_TIMEOUT, 0);
		return;
	}
	evtimer_add(lk->ev, &tv);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/* The callback may run before this returns (then req is NULL). */
	req = evdns_getaddrinfo(f.dns, h->host, NULL, &hints,
	    fetch_lookup_cb, lk);
	if (!lk->done)
		lk->req = req;
}

static void
fetch_lookup_cb(int err, struct evutil_addrinfo *res, void *arg)
{
	struct fetch_lookup *lk = arg;

	lk->req = NULL;
	if (lk->h == NULL) {
		/* Cancelled at its deadline: nobody waits any more. */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		event_free(lk->ev);
		free(lk);
		return;
	}
	lk->done = 1;
	lk->err = err;
	lk->res = res;
	evtimer_del(lk->ev);
	event_active(lk->ev, EV_TIMEOUT, 0);
}

/* A lookup's end or deadline: keep the answer, run or fail its waiters. */
static void
fetch_lookup_ev(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_lookup *lk = arg;
	struct fetch_host *h = lk->h;
	struct fetch_xfer *x;
	const char *why;
	uint64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	h->lk = NULL;
	if (!lk->done)
		why = "no answer in time";
	else if (lk->err != 0)
		why = f.dns == NULL ? "no resolver in the sandbox" :
		    evutil_gai_strerror(lk->err);
	else if (lk->res == NULL || !fetch_host_set(h, lk->res, now))
		why = "no address";
	else
		why = NULL;
	if (why != NULL && h->entry != NULL) {
		log_info("%s: %s: %s; keeping the addresses we had", __func__,
		    h->host, why);
		h->stale_ms = now + FETCH_DNS_RETRY_MS;
	} else if (why != NULL)
		log_warnx("%s: cannot resolve %s: %s", __func__, h->host, why);
	/*
	 * An owner told of its end may add or drop transfers: drops come
	 * off lk->waiting, and h stays h meanwhile (busy: not evicted).
	 */
	h->busy = 1;
	while ((x = TAILQ_FIRST(&lk->waiting)) != NULL) {
		TAILQ_REMOVE(&lk->waiting, x, entry);
		x->lk = NULL;
		if (h->entry == NULL)
			fetch_end(x, CURLE_COULDNT_RESOLVE_HOST);
		else if ((x->resolve = curl_slist_append(NULL, h->entry)) ==
		    NULL || fetch_run(x) == -1)
			fetch_end(x, CURLE_FAILED_INIT);
	}
	h->busy = 0;
	if (lk->done || lk->req == NULL) {
		if (lk->res != NULL)
			evutil_freeaddrinfo(lk->res);
		event_free(lk->ev);
		free(lk);
		return;
	}
	/* Its callback, with EVUTIL_EAI_CANCEL, frees it; maybe at once. */
	lk->h = NULL;
	evdns_getaddrinfo_cancel(lk->req);
}

/* Running, waiting or finished: removing the handle closes its connection. */
void
fetch_drop(CURL *e)
{
	struct fetch_xfer *x = NULL;

	if (e == NULL)
		return;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	if (x != NULL) {
		if (x->lk != NULL)
			TAILQ_REMOVE(&x->lk->waiting, x, entry);
		else
			curl_multi_remove_handle(f.multi, e);
		fetch_xfer_free(x);
	}
	curl_easy_cleanup(e);
}

/*
 * A header list with a secret in it (Authorization: Bearer): libcurl
 * frees each line with a plain free(), so they are wiped first.
 */
void
fetch_slist_free_secret(struct curl_slist *l)
{
	struct curl_slist *n;

	for (n = l; n != NULL; n = n->next)
		explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(l);
}

/*
 * The caller's cd keeps e's Content-Disposition, a header line at a
 * time.  Only that header is kept, within CDISP_VALUE_MAX; the others
 * are read past.
 */
void
fetch_cdisp_keep(CURL *e, struct fetch_cdisp *cd)
{
	memset(cd, 0, sizeof(*cd));
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_cdisp_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, cd);
}

/* The name in what was kept: CDISP_E_NONE when the answer had none. */
enum cdisp_err
fetch_cdisp_name(const struct fetch_cdisp *cd, char out[CDISP_NAME_MAX + 1])
{
	out[0] = '\0';
	if (cd->err != CDISP_OK)
		return cd->err;
	if (!cd->seen)
		return CDISP_E_NONE;
	return cdisp_filename(cd->v, cd->len, out);
}

/*
 * One header line, with its CRLF.  A status line starts an answer
 * (after a 100 Continue or a redirect's), so what the one before said
 * is forgotten; the empty line ends the headers, and a trailer after
 * the body is not taken for one.  A folded line (obs-fold, starting
 * with a blank) continues the header before it.  Never fails the
 * transfer: a header too long or given twice only costs the name.
 */
static size_t
fetch_cdisp_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	static const char name[] = "content-disposition:";
	struct fetch_cdisp *cd = arg;
	size_t n = size * nitems, len = n, skip;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		memset(cd, 0, sizeof(*cd));
		return n;
	}
	if (cd->body)
		return n;
	if (len == 0) {
		cd->body = 1;
		cd->in = 0;
		return n;
	}
	if (buf[0] == ' ' || buf[0] == '\t') {
		if (cd->in && cd->err == CDISP_OK) {
			if (len > sizeof(cd->v) - cd->len)
				cd->err = CDISP_E_LONG;
			else {
				memcpy(cd->v + cd->len, buf, len);
				cd->len += len;
			}
		}
		return n;
	}
	cd->in = 0;
	skip = sizeof(name) - 1;
	if (len < skip || strncasecmp(buf, name, skip) != 0)
		return n;
	if (cd->seen) {
		cd->err = CDISP_E_DUP;
		return n;
	}
	cd->seen = cd->in = 1;
	if (len - skip > sizeof(cd->v))
		cd->err = CDISP_E_LONG;
	else {
		memcpy(cd->v, buf + skip, len - skip);
		cd->len = len - skip;
	}
	return n;
}

/* libcurl tells us which sockets to watch; libevent watches them. */
static int
fetch_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct fetch_sock *fs = sockp;
	short kind;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL) {
			event_free(fs->ev);
			free(fs);
		}
		curl_multi_assign(f.multi, s, NULL);
		return 0;
	}
	if (fs == NULL) {
		fs = xcalloc(1, sizeof(*fs));
		curl_multi_assign(f.multi, s, fs);
	} else
		event_free(fs->ev);
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if ((fs->ev = event_new(f.base, s, kind, fetch_event, NULL)) == NULL ||
	    event_add(fs->ev, NULL) == -1)
		fatalx("%s: event_new", __func__);
	return 0;
}

static int
fetch_timer_cb(CURLM *m, long ms, void *userp)
{
	struct timeval tv;

	(void)m;
	(void)userp;
	if (ms < 0) {
		evtimer_del(f.timer);
		return 0;
	}
	tv = clock_tv(ms);
	evtimer_add(f.timer, &tv);
	return 0;
}

static void
fetch_event(evutil_socket_t fd, short what, void *arg)
{
	int running, action = 0;

	(void)arg;
	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(f.multi, fd, action, &running);
	fetch_check();
}

static void
fetch_timeout(evutil_socket_t fd, short what, void *arg)
{
	int running;

	(void)fd;
	(void)what;
	(void)arg;
	curl_multi_socket_action(f.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check();
}

/*
 * Finished transfers, outside any curl callback.  Each handle leaves the
 * multi before its owner hears of it, so the owner may drop it, retry it
 * or start others from the callback.
 */
static void
fetch_check(void)
{
	struct fetch_xfer *x;
	CURLMsg *msg;
	CURLcode rc;
	CURL *e;
	int left;

	while ((msg = curl_multi_info_read(f.multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		e = msg->easy_handle;
		rc = msg->data.result;
		x = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		if (x == NULL)
			continue;
		curl_multi_remove_handle(f.multi, e);
		fetch_end(x, rc);
	}
}
