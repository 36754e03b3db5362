/*
 * The listening sockets of the kinds with K_F_OWN_LISTEN: one per
 * callback account (wechat_mp, wecom_app), at the `listen` address
 * config_callback.c checked, metrics.listen's (config_metrics.c) for
 * the metrics worker, and each relay agent's relay.listen
 * (config_relay.c) for that agent's worker: the plan's rows with a
 * listen address (kinds_want.c).  Bound by the root parent and passed to the
 * worker at every spawn with sup.listen_fd, so a restarted worker
 * finds the connections the kernel queued meanwhile.
 *
 * main.c opens them at start; reload.c asks for the new file's before
 * it takes the file (an address that cannot be bound refuses the
 * reload) and closes those no account names once it did.  An address
 * that stays keeps its socket.  No parsing here beyond
 * sup_listen_open()'s: this runs as root.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "plan.h"
#include "sup.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG	511

struct listener {
	char	*addr;
	int	 fd;
	int	 fresh;		/* opened for a file not yet taken */
};

/*
 * One per account, metrics.listen and relay agent: the running file's
 * and, during a reload, the new.
 */
static struct listener	lst[PLAN_WORKERS_MAX * 2];
static size_t		nlst;

static int	listener_open(const char *, const char *);

static struct listener *
listener_find(const char *addr)
{
	size_t i;

	for (i = 0; i < nlst; i++)
		if (strcmp(lst[i].addr, addr) == 0)
			return &lst[i];
	return NULL;
}

static void
listener_drop(size_t i)
{
	close(lst[i].fd);
	free(lst[i].addr);
	lst[i] = lst[--nlst];
}

/*
 * Bind every address the plan names that is not bound yet; on a failure
 * the ones just bound are closed again and -1 says the file cannot be
 * taken.
 */
int
listener_prepare(const struct plan *p)
{
	const struct plan_worker *pw;
	size_t i;

	for (i = 0; i < p->nworkers; i++) {
		pw = &p->workers[i];
		if (pw->listen != NULL && listener_open(pw->listen,
		    strcmp(pw->kind, "metrics") == 0 ? "metrics.listen" :
		    strcmp(pw->kind, "console") == 0 ? "console.listen" :
		    pw->id) == -1)
			return -1;
	}
	return 0;
}

static int
listener_open(const char *addr, const char *what)
{
	int fd;

	if (listener_find(addr) != NULL)
		return 0;
	if (nlst == sizeof(lst) / sizeof(lst[0]) ||
	    (fd = sup_listen_open(addr)) == -1) {
		log_warnx("%s: %s: cannot listen on %s", __func__, what, addr);
		listener_abort();
		return -1;
	}
	lst[nlst].addr = xstrdup(addr);
	lst[nlst].fd = fd;
	lst[nlst].fresh = 1;
	nlst++;
	return 0;
}

/* The file was not taken: what listener_prepare() bound goes. */
void
listener_abort(void)
{
	size_t i = 0;

	while (i < nlst)
		if (lst[i].fresh)
			listener_drop(i);
		else
			i++;
}

/* Does p still name addr for some listener? */
static int
listener_named(const struct plan *p, const char *addr)
{
	size_t i;

	for (i = 0; i < p->nworkers; i++)
		if (p->workers[i].listen != NULL &&
		    strcmp(p->workers[i].listen, addr) == 0)
			return 1;
	return 0;
}

/* p is the running plan now: the addresses it no longer names go. */
void
listener_commit(const struct plan *p)
{
	size_t i = 0;

	while (i < nlst) {
		lst[i].fresh = 0;
		if (!listener_named(p, lst[i].addr)) {
			log_info("%s: closing %s", __func__, lst[i].addr);
			listener_drop(i);
		} else
			i++;
	}
}

/* The address a worker of the running file listens on, or NULL. */
const char *
listener_addr(const char *kind, const char *id)
{
	const struct plan_worker *pw;

	if ((pw = plan_find(sup->plan, kind, id)) == NULL)
		return NULL;
	return pw->listen;
}

/* The socket of the running file's account or metrics worker, or -1. */
int
listener_fd(const char *kind, const char *id)
{
	const char *addr;
	struct listener *l;

	if ((addr = listener_addr(kind, id)) == NULL ||
	    (l = listener_find(addr)) == NULL)
		return -1;
	return l->fd;
}

/* "127.0.0.1:8080" or "[::1]:8080"; config_webchat.c checked the form. */
int
sup_listen_open(const char *spec)
{
	struct addrinfo hints, *res;
	char host[INET6_ADDRSTRLEN + 2];
	const char *port, *p;
	size_t hl;
	int fd, on = 1, rv;

	if (spec[0] == '[') {
		if ((p = strstr(spec, "]:")) == NULL)
			return -1;
		hl = (size_t)(p - spec - 1);
		port = p + 2;
		spec++;
	} else {
		if ((p = strrchr(spec, ':')) == NULL)
			return -1;
		hl = (size_t)(p - spec);
		port = p + 1;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rv = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("listen %s: %s", spec, gai_strerror(rv));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("listen: socket");
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/*
	 * Accepted sockets inherit it: a reply streamed in small frames must
	 * not wait for the client's delayed ACK (Nagle), 40 ms a message.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("listen %s:%s", host, port);
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}
