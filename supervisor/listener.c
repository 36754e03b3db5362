/*
 * The listening sockets of the kinds with K_F_OWN_LISTEN: one per
 * callback account (wechat_mp, wecom_app), at the `listen` address
 * config_callback.c checked, metrics.listen's (config_metrics.c) for
 * the metrics worker, and each relay agent's relay.listen
 * (config_relay.c) for that agent's worker.  Bound by the root parent and passed to the
 * worker at every spawn with sup.listen_fd, so a restarted worker
 * finds the connections the kernel queued meanwhile.
 *
 * main.c opens them at start; reload.c asks for the new file's before
 * it takes the file (an address that cannot be bound refuses the
 * reload) and closes those no account names once it did.  An address
 * that stays keeps its socket.  No parsing here beyond
 * sup_listen_open()'s: this runs as root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "sup.h"
#include "xmalloc.h"

struct listener {
	char	*addr;
	int	 fd;
	int	 fresh;		/* opened for a file not yet taken */
};

/*
 * One per account, metrics.listen and relay agent: the running file's
 * and, during a reload, the new.
 */
static struct listener	lst[(CFG_CHANNELS_MAX + 1 + CFG_AGENTS_MAX) * 2];
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
 * Bind every address conf names that is not bound yet; on a failure
 * the ones just bound are closed again and -1 says the file cannot be
 * taken.
 */
int
listener_prepare(const struct config *conf)
{
	const struct cfg_channel *c;
	unsigned i;

	for (i = 0; i < conf->channels_count; i++) {
		c = &conf->channels[i];
		if (c->cb_listen != NULL &&
		    listener_open(c->cb_listen, c->name) == -1)
			return -1;
	}
	if (conf->metrics_listen != NULL &&
	    listener_open(conf->metrics_listen, "metrics.listen") == -1)
		return -1;
	if (conf->console.listen != NULL &&
	    listener_open(conf->console.listen, "console.listen") == -1)
		return -1;
	for (i = 0; i < conf->agents_count; i++)
		if (conf->agents[i].relay_listen != NULL &&
		    listener_open(conf->agents[i].relay_listen,
		    conf->agents[i].name) == -1)
			return -1;
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

/* Does conf still name addr for some listener? */
static int
listener_named(const struct config *conf, const char *addr)
{
	unsigned j;

	for (j = 0; j < conf->channels_count; j++)
		if (conf->channels[j].cb_listen != NULL &&
		    strcmp(conf->channels[j].cb_listen, addr) == 0)
			return 1;
	for (j = 0; j < conf->agents_count; j++)
		if (conf->agents[j].relay_listen != NULL &&
		    strcmp(conf->agents[j].relay_listen, addr) == 0)
			return 1;
	if (conf->console.listen != NULL &&
	    strcmp(conf->console.listen, addr) == 0)
		return 1;
	return conf->metrics_listen != NULL &&
	    strcmp(conf->metrics_listen, addr) == 0;
}

/* conf is the running file now: the addresses it no longer names go. */
void
listener_commit(const struct config *conf)
{
	size_t i = 0;

	while (i < nlst) {
		lst[i].fresh = 0;
		if (!listener_named(conf, lst[i].addr)) {
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
	const struct cfg_channel *c;
	const struct cfg_agent *a;

	if (strcmp(kind, "metrics") == 0)
		return sup->conf->metrics_listen;
	if (strcmp(kind, "console") == 0)
		return sup->conf->console.listen;
	if (strcmp(kind, "agent") == 0)
		return (a = config_relay_agent(sup->conf, id)) != NULL ?
		    a->relay_listen : NULL;
	if ((c = config_channel(sup->conf, id)) != NULL)
		return c->cb_listen;
	return NULL;
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
