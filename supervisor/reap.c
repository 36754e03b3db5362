/*
 * Death of workers: SIGCHLD, the exit cause in plain words, restart with
 * exponential backoff, and crash-loop parking.  Also the one place that
 * kills a worker, so every kill is logged with its reason.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "wire.h"
#include "plan.h"
#include "log.h"
#include "sandbox_conf.h"
#include "sup.h"
#include "xmalloc.h"

/* A worker that stayed up this long is no longer in a crash loop. */
#define REAP_STABLE_MS	10000
/*
 * A worker killed by seccomp named the syscall to the hub first, and the
 * hub tells us (hub.violation), maybe after SIGCHLD: its death waits for
 * the name this long at most, so the record and the log can give it.
 * The name usually comes within milliseconds and ends the wait; 250 ms
 * was once too short with both cores busy (a test saw the record
 * without it), and a second more before restarting a worker that broke
 * its sandbox costs nothing.
 */
#define REAP_SYSCALL_WAIT_MS	1000

static struct event	*sigchld_ev;

static void	reap_sigchld(evutil_socket_t, short, void *);
static void	reap_restart_cb(evutil_socket_t, short, void *);
static void	reap_died(struct worker *, int status);
static void	reap_hold(struct worker *, int status);

void
reap_init(void)
{
	sigchld_ev = evsignal_new(sup->base, SIGCHLD, reap_sigchld, NULL);
	if (sigchld_ev == NULL || event_add(sigchld_ev, NULL) == -1)
		fatalx("%s: SIGCHLD handler", __func__);
}

/* The only way the supervisor kills a worker: with a reason on record. */
void
reap_kill(struct worker *w, const char *why)
{
	if (w->pid <= 0 || (w->flags & W_F_REAPED))
		return;
	if (w->kill_why[0] == '\0')
		snprintf(w->kill_why, sizeof(w->kill_why), "%s", why);
	log_warnx("killing worker %s (pid %d): %s", w->name, (int)w->pid,
	    why);
	kill(w->pid, SIGKILL);
}

static void
reap_sigchld(evutil_socket_t sig, short ev, void *arg)
{
	struct worker *w;
	pid_t pid;
	int status;

	(void)sig;
	(void)ev;
	(void)arg;
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (parent_hub_died(pid, status) || zygote_died(pid, status))
			continue;
		if ((w = spawn_find_pid(pid)) == NULL) {
			log_debug("%s: unknown child %d", __func__, (int)pid);
			continue;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS &&
		    w->violation < 0 && parent_hub_alive()) {
			reap_hold(w, status);
			continue;
		}
		reap_died(w, status);
	}
	if (sup->stopping)
		reap_stopped();
}

static void
reap_held_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)ev;
	if (!(w->flags & W_F_REAPED))
		return;
	w->flags &= ~W_F_REAPED;
	reap_died(w, w->held_status);
}

static void
reap_hold(struct worker *w, int status)
{
	struct timeval tv = clock_tv(REAP_SYSCALL_WAIT_MS);

	w->flags |= W_F_REAPED;
	w->held_status = status;
	if (w->held_ev == NULL &&
	    (w->held_ev = evtimer_new(sup->base, reap_held_cb, w)) == NULL)
		fatalx("%s: timer", __func__);
	evtimer_add(w->held_ev, &tv);
}

/* hub.violation: the syscall a worker's SIGSYS handler named. */
void
reap_syscall(struct worker *w, int64_t nr)
{
	w->violation = nr;
	if (w->flags & W_F_REAPED) {
		evtimer_del(w->held_ev);
		reap_held_cb(-1, 0, w);
	}
}

/* Stopping: the hub goes last, once no worker needs it to drain. */
void
reap_stopped(void)
{
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry)
		if (w->pid > 0)
			return;
	if (parent_hub_alive())
		parent_hub_stop();
	else
		event_base_loopexit(sup->base, NULL);
}

/* How a worker or the hub ended: syscall its trap named, or -1. */
void
reap_cause(int status, int64_t syscall, const char *why, char *buf,
    size_t len)
{
	/* glibc's abbreviation, "KILL"; none for a real-time signal. */
	const char *sig = WIFSIGNALED(status) ?
	    sigabbrev_np(WTERMSIG(status)) : NULL;

	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len, "killed by seccomp (SIGSYS)%s%s",
		    syscall >= 0 ? ": " : "", syscall >= 0 ?
		    sandbox_syscall_name((long)syscall) : "");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "SIG%s%s%s%s", sig != NULL ? sig : "RT",
		    why[0] ? " (" : "", why, why[0] ? ")" : "");
	else
		snprintf(buf, len, "status %d", status);
}

/*
 * A death now, in a history of W_DEATHS_MAX: the deaths inside the
 * crash-loop window, counting this one.
 */
unsigned
reap_deaths(struct timespec *deaths, unsigned *n)
{
	uint64_t window = (uint64_t)sup->plan->crashloop_window_s *
	    1000;
	unsigned i, in = 0;

	if (*n < W_DEATHS_MAX)
		(*n)++;
	memmove(&deaths[1], &deaths[0], (*n - 1) * sizeof(deaths[0]));
	clock_gettime(CLOCK_MONOTONIC, &deaths[0]);
	for (i = 0; i < *n; i++)
		if (timespec_ms_since(&deaths[i]) <= window)
			in++;
	return in;
}

static void
reap_died(struct worker *w, int status)
{
	const struct plan *p = sup->plan;
	struct timeval tv;
	uint64_t up = timespec_ms_since(&w->started);
	int planned = w->state == W_STOPPING, pid = (int)w->pid;

	reap_cause(status, w->violation, w->kill_why, w->last_exit,
	    sizeof(w->last_exit));
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		w->seccomp_kills++;
	w->pid = -1;
	if (w->hubfd != -1)
		close(w->hubfd);
	w->hubfd = -1;
	if (w->grace_ev != NULL)
		evtimer_del(w->grace_ev);
	/*
	 * An account the hub started has no slice here to restart it
	 * with: it is forgotten, and the hub asks again if it wants it.
	 */
	if (w->flags & W_F_RUNTIME)
		w->flags |= W_F_REMOVE;
	if ((planned && !(w->flags & W_F_RESPAWN)) ||
	    (w->flags & W_F_RUNTIME)) {
		log_info("worker %s stopped (%s)", w->name, w->last_exit);
		w->state = W_STOPPED;
		if (w->flags & W_F_REMOVE) {
			parent_hub_detach(w, "removed");
			TAILQ_REMOVE(&sup->workers, w, entry);
			if (w->restart_ev != NULL)
				event_free(w->restart_ev);
			if (w->grace_ev != NULL)
				event_free(w->grace_ev);
			if (w->held_ev != NULL)
				event_free(w->held_ev);
			xfree_secret(w->conf);
			free(w);
		} else {
			parent_hub_detach(w, w->last_exit);
			parent_hub_worker(w);
		}
		return;
	}
	parent_hub_detach(w, w->last_exit);
	if (sup->stopping) {
		w->state = W_STOPPED;
		parent_hub_worker(w);
		return;
	}
	if (w->flags & W_F_RESPAWN) {
		log_info("worker %s restarted by operator (%s)", w->name,
		    w->last_exit);
		w->restarts++;
		spawn_worker(w);
		return;
	}
	if (reap_deaths(w->deaths, &w->ndeaths) >= p->crashloop_count) {
		w->state = W_FAILED;
		log_warnx("worker %s (%s) died %u times in %us: failed, "
		    "not restarting (wxgatectl restart %s)", w->name,
		    w->last_exit, p->crashloop_count, p->crashloop_window_s,
		    w->name);
		parent_hub_worker(w);
		return;
	}
	if (up >= REAP_STABLE_MS || w->backoff_ms == 0)
		w->backoff_ms = p->restart_min_ms;
	else if (w->backoff_ms < p->restart_max_ms / 2)
		w->backoff_ms *= 2;
	else
		w->backoff_ms = p->restart_max_ms;
	log_warnx("worker %s (pid %d) %s, restarting in %u.%us", w->name,
	    pid, w->last_exit, w->backoff_ms / 1000, (w->backoff_ms % 1000) / 100);
	w->state = W_BACKOFF;
	if (w->restart_ev == NULL)
		w->restart_ev = evtimer_new(sup->base, reap_restart_cb, w);
	tv = clock_tv(w->backoff_ms);
	evtimer_add(w->restart_ev, &tv);
	parent_hub_worker(w);
}

static void
reap_restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)ev;
	if (w->state != W_BACKOFF || sup->stopping)
		return;
	w->restarts++;
	/* If fork itself failed, count it as a death and back off. */
	if (spawn_worker(w) == -1 && w->pid == -1)
		reap_died(w, 0);
}

void
sup_stop(void)
{
	struct worker *w;
	int alive = 0;

	if (sup->stopping)
		return;
	sup->stopping = 1;
	zygote_stop();
	notify_send("STOPPING=1");
	log_info("stopping: draining workers");
	TAILQ_FOREACH(w, &sup->workers, entry) {
		spawn_shutdown(w);
		alive += w->pid > 0;
	}
	if (!alive)
		reap_stopped();
}
