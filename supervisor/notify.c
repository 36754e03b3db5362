/*
 * systemd's readiness and watchdog protocol (sd_notify(3)): datagrams
 * "READY=1", "RELOADING=1", "STOPPING=1" and "WATCHDOG=1" to the
 * AF_UNIX socket named by $NOTIFY_SOCKET.  That socket and sendto() are
 * the whole protocol, so the root parent does without libsystemd.
 *
 * Ready means serving: every worker of the start has come up under the
 * hub (the web chat accepts, the channels run), not merely forked, so
 * `systemctl start` returns when the daemon answers.  The watchdog is
 * kicked from the parent's own event loop at half of WATCHDOG_USEC: it
 * proves the root loop turns.  A hub or worker that hangs is the
 * parent's to restart (heartbeats), not systemd's.
 *
 * The variables are read once and removed from the environment, so no
 * process the parent starts can write to the manager's socket.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "sup.h"

static struct {
	int			 fd;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	struct event		*wd_ev;
	int			 ready;
} nt = { -1, { 0 }, 0, NULL, 0 };

static void
notify_watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	notify_send("WATCHDOG=1");
}

/* WATCHDOG_USEC, if it is for us: the period to kick at, or 0. */
static unsigned long long
notify_watchdog_usec(void)
{
	const char *s = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	char *end;

	if (s == NULL)
		return 0;
	if (pid != NULL && strtoll(pid, &end, 10) != (long long)getpid())
		return 0;
	errno = 0;
	us = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || us == 0) {
		log_warnx("WATCHDOG_USEC=%s is not a number of microseconds; "
		    "no watchdog", s);
		return 0;
	}
	return us;
}

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	unsigned long long us = notify_watchdog_usec();
	struct timeval tv;
	size_t len;

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL) {
		if (us > 0)
			log_warnx("WATCHDOG_USEC without NOTIFY_SOCKET: "
			    "no watchdog");
		return;
	}
	len = strlen(path);
	/* "@name": the abstract namespace, its first byte NUL. */
	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len >= sizeof(nt.sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s is not a socket path; ignored",
		    path);
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	nt.sun.sun_family = AF_UNIX;
	memcpy(nt.sun.sun_path, path, len);
	if (path[0] == '@')
		nt.sun.sun_path[0] = '\0';
	nt.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	unsetenv("NOTIFY_SOCKET");
	if ((nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify socket");
		return;
	}
	if (us == 0)
		return;
	us /= 2;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	if ((nt.wd_ev = event_new(sup->base, -1, EV_PERSIST,
	    notify_watchdog_cb, NULL)) == NULL ||
	    event_add(nt.wd_ev, &tv) == -1)
		fatalx("%s: watchdog timer", __func__);
	log_info("systemd watchdog: kicked every %llu ms", us / 1000);
}

void
notify_send(const char *state)
{
	if (nt.fd == -1)
		return;
	/* The manager may be restarting; it is never worth blocking for. */
	if (sendto(nt.fd, state, strlen(state), MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&nt.sun, nt.len) == -1)
		log_debug("%s: %s: %s", __func__, state, strerror(errno));
}

/*
 * A worker came up: ready once all of them run, the first time, or
 * again after a reload (notify_reloading).
 */
void
notify_ready(void)
{
	struct worker *w;
	char msg[64];

	if (nt.fd == -1 || nt.ready || sup->stopping)
		return;
	TAILQ_FOREACH(w, &sup->workers, entry)
		if (w->state != W_RUNNING)
			return;
	nt.ready = 1;
	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
	notify_send(msg);
}

void
notify_reloading(void)
{
	notify_send("RELOADING=1");
	nt.ready = 0;
}
