/*
 * Outbound HTTP(S) for sandboxed workers (the openai agent backend, the
 * wechat channel): one libcurl multi handle driven by the worker's
 * libevent loop.  Before the sandbox: fetch_init(), fetch_load_ca() if
 * https is used, fetch_dns_init() to read the resolver's configuration,
 * and fetch_pin() for the hosts known from the config.  In it:
 * fetch_start(), then easy handles from fetch_easy() handed to
 * fetch_add() with their URL; a host not pinned is looked up with evdns
 * then.  fetch_cdisp_keep() has a transfer keep its answer's
 * Content-Disposition for fetch_cdisp_name() (workers/net/cdisp.h).
 */
#ifndef WX_FETCH_H
#define WX_FETCH_H

#include <curl/curl.h>

#include "net/cdisp.h"

struct event_base;

/*
 * The Content-Disposition of a transfer's last answer (a 1xx or a
 * redirect's headers are forgotten when the next answer starts), owned
 * by the caller and filled by curl's header callback.
 */
struct fetch_cdisp {
	char		 v[CDISP_VALUE_MAX];
	size_t		 len;
	int		 seen;
	int		 in;		/* its line is the last one read */
	int		 body;		/* past the headers: trailers ignored */
	enum cdisp_err	 err;		/* too long, or two of them */
};

/*
 * A transfer ended (CURLE_COULDNT_RESOLVE_HOST: its host had no
 * address).  The handle is out of the multi already; the callee reads
 * what it wants from it and frees it with fetch_drop(), and may start
 * or drop other transfers meanwhile.
 */
typedef void	(*fetch_done_fn)(CURL *, CURLcode, void *arg);

int	 fetch_init(void);
int	 fetch_load_ca(void);
int	 fetch_dns_init(void);
int	 fetch_pin(const char *url);
int	 fetch_start(struct event_base *);
CURL	*fetch_easy(void);
int	 fetch_add(CURL *, const char *url, fetch_done_fn, void *arg);
void	 fetch_drop(CURL *);
void	 fetch_slist_free_secret(struct curl_slist *);
void	 fetch_cdisp_keep(CURL *, struct fetch_cdisp *);
enum cdisp_err	 fetch_cdisp_name(const struct fetch_cdisp *,
		    char [CDISP_NAME_MAX + 1]);

#endif
