/*
 * libcurl, loaded by the workers that dial and by no other process.
 *
 * libcurl brings some thirty libraries with it (GnuTLS, Kerberos, LDAP,
 * SSH, RTMP...).  Linked into wxgated, every process mapped and
 * relocated them: about 4 MiB of RSS each in the root parent, the hub,
 * the web chat pool and the echo agent, none of which makes an HTTP
 * request.  So wxgated does not link libcurl; these definitions of the
 * curl functions the workers call forward to the library, which
 * curl_dl_open() loads before the sandbox (fetch_init(), in the kinds'
 * pre_sandbox), when opening files is still allowed.  Callers keep
 * curl's own prototypes and its compile-time option type checks.
 */
#define CURL_DISABLE_TYPECHECK	/* define the functions, not macros */

#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>

#include <curl/curl.h>

#include "curl_dl.h"
#include "log.h"

/* The runtime package's name (libcurl4), not the -dev symlink. */
#define CURL_DL_SONAME	"libcurl.so.4"

/* Every function the workers call, each resolved once. */
#define CURL_DL_FUNCS(X)						\
	X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt)	\
	X(curl_easy_getinfo) X(curl_easy_cleanup) X(curl_easy_strerror) \
	X(curl_easy_escape) X(curl_free) X(curl_slist_append)		\
	X(curl_slist_free_all) X(curl_url) X(curl_url_cleanup)		\
	X(curl_url_get) X(curl_url_set) X(curl_multi_init)		\
	X(curl_multi_setopt) X(curl_multi_add_handle)			\
	X(curl_multi_remove_handle) X(curl_multi_socket_action)	\
	X(curl_multi_info_read) X(curl_multi_assign) X(curl_mime_init)	\
	X(curl_mime_free) X(curl_mime_addpart) X(curl_mime_name)	\
	X(curl_mime_filename) X(curl_mime_type) X(curl_mime_data)	\
	X(curl_mime_data_cb)

static struct {
	void	*lib;
#define X(fn)	__typeof__(&fn) fn;
	CURL_DL_FUNCS(X)
#undef X
} cd;

int
curl_dl_open(void)
{
	void *lib;

	if (cd.lib != NULL)
		return 0;
	if ((lib = dlopen(CURL_DL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("%s: %s", __func__, dlerror());
		return -1;
	}
#define X(fn)								\
	if ((*(void **)&cd.fn = dlsym(lib, #fn)) == NULL) {		\
		log_warnx("%s: %s: no %s", __func__, CURL_DL_SONAME, #fn); \
		dlclose(lib);						\
		return -1;						\
	}
	CURL_DL_FUNCS(X)
#undef X
	cd.lib = lib;
	return 0;
}

/*
 * A process that calls curl without curl_dl_open() is a bug, found
 * here rather than as a crash: inside the sandbox the load would fail.
 */
static void
curl_dl_need(void)
{
	if (cd.lib == NULL && curl_dl_open() == -1)
		fatalx("%s: libcurl is not loaded", __func__);
}

/*
 * The variadic three take one argument whose type the option's number
 * says (curl.h: CURLOPTTYPE_*), as curl's own setopt reads it.
 */
CURLcode
curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	va_list ap;
	CURLcode r;

	curl_dl_need();
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = cd.curl_easy_setopt(h, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
		r = cd.curl_easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		r = cd.curl_easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	va_list ap;
	CURLMcode r;

	curl_dl_need();
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = cd.curl_multi_setopt(m, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
		r = cd.curl_multi_setopt(m, opt, va_arg(ap, curl_off_t));
	else
		r = cd.curl_multi_setopt(m, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list ap;
	CURLcode r;

	curl_dl_need();
	va_start(ap, info);
	r = cd.curl_easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* The rest forward their arguments as they are. */
#define FWD(ret, fn, params, args)					\
ret fn params { curl_dl_need(); return cd.fn args; }
#define FWDV(fn, params, args)						\
void fn params { curl_dl_need(); cd.fn args; }

FWD(CURLcode, curl_global_init, (long flags), (flags))
FWD(CURL *, curl_easy_init, (void), ())
FWDV(curl_easy_cleanup, (CURL *h), (h))
FWD(const char *, curl_easy_strerror, (CURLcode c), (c))
FWD(char *, curl_easy_escape, (CURL *h, const char *s, int n), (h, s, n))
FWDV(curl_free, (void *p), (p))
FWD(struct curl_slist *, curl_slist_append,
    (struct curl_slist *l, const char *s), (l, s))
FWDV(curl_slist_free_all, (struct curl_slist *l), (l))
FWD(CURLU *, curl_url, (void), ())
FWDV(curl_url_cleanup, (CURLU *u), (u))
FWD(CURLUcode, curl_url_get,
    (CURLU *u, CURLUPart what, char **part, unsigned int flags),
    (u, what, part, flags))
FWD(CURLUcode, curl_url_set,
    (CURLU *u, CURLUPart what, const char *part, unsigned int flags),
    (u, what, part, flags))
FWD(CURLM *, curl_multi_init, (void), ())
FWD(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *h), (m, h))
FWD(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *h), (m, h))
FWD(CURLMcode, curl_multi_socket_action,
    (CURLM *m, curl_socket_t s, int ev, int *running), (m, s, ev, running))
FWD(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left))
FWD(CURLMcode, curl_multi_assign, (CURLM *m, curl_socket_t s, void *p),
    (m, s, p))
FWD(curl_mime *, curl_mime_init, (CURL *h), (h))
FWDV(curl_mime_free, (curl_mime *mime), (mime))
FWD(curl_mimepart *, curl_mime_addpart, (curl_mime *mime), (mime))
FWD(CURLcode, curl_mime_name, (curl_mimepart *p, const char *s), (p, s))
FWD(CURLcode, curl_mime_filename, (curl_mimepart *p, const char *s), (p, s))
FWD(CURLcode, curl_mime_type, (curl_mimepart *p, const char *s), (p, s))
FWD(CURLcode, curl_mime_data, (curl_mimepart *p, const char *d, size_t n),
    (p, d, n))
FWD(CURLcode, curl_mime_data_cb,
    (curl_mimepart *p, curl_off_t n, curl_read_callback rd,
    curl_seek_callback sk, curl_free_callback fr, void *arg),
    (p, n, rd, sk, fr, arg))
