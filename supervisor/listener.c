/*
 * The listening sockets of the callback accounts (kinds with
 * K_F_OWN_LISTEN: wechat_mp, wecom_app): one per account, bound by the
 * root parent to the `listen` address config_callback.c checked, and
 * passed to that account's worker at every spawn with sup.listen_fd,
 * so a restarted worker finds the connections the kernel queued
 * meanwhile.
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

/* One per account: the running file's and, during a reload, the new. */
static struct listener	lst[CFG_CHANNELS_MAX * 2];
static size_t		nlst;

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
	int fd;

	for (i = 0; i < conf->channels_count; i++) {
		c = &conf->channels[i];
		if (c->cb_listen == NULL || listener_find(c->cb_listen) != NULL)
			continue;
		if (nlst == sizeof(lst) / sizeof(lst[0]) ||
		    (fd = sup_listen_open(c->cb_listen)) == -1) {
			log_warnx("%s: channel %s: cannot listen on %s",
			    __func__, c->name, c->cb_listen);
			listener_abort();
			return -1;
		}
		lst[nlst].addr = xstrdup(c->cb_listen);
		lst[nlst].fd = fd;
		lst[nlst].fresh = 1;
		nlst++;
	}
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

/* conf is the running file now: the addresses it no longer names go. */
void
listener_commit(const struct config *conf)
{
	const struct cfg_channel *c;
	size_t i = 0;
	unsigned j;

	while (i < nlst) {
		lst[i].fresh = 0;
		for (j = 0; j < conf->channels_count; j++) {
			c = &conf->channels[j];
			if (c->cb_listen != NULL &&
			    strcmp(c->cb_listen, lst[i].addr) == 0)
				break;
		}
		if (j == conf->channels_count) {
			log_info("%s: closing %s", __func__, lst[i].addr);
			listener_drop(i);
		} else
			i++;
	}
}

/* The socket of the running file's account, or -1. */
int
listener_fd(const char *account)
{
	const struct cfg_channel *c;
	struct listener *l;

	if ((c = config_channel(sup->conf, account)) == NULL ||
	    c->cb_listen == NULL || (l = listener_find(c->cb_listen)) == NULL)
		return -1;
	return l->fd;
}
