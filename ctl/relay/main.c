/*
 * wxgate-relay: dials out to a wxgated relay agent's listener and
 * answers its requests with a local OpenAI-compatible endpoint or a
 * local program, so the model, its keys and files stay on this machine
 * and it needs no open port.  See wxgate-relay(1) and
 * docs/relay-protocol.md.
 *
 * The loop: connect, hello, serve; when the connection ends, wait a
 * backoff that doubles from RM_BACKOFF_MIN_MS to RM_BACKOFF_MAX_MS with
 * a quarter of jitter (so a fleet of relays does not come back in step
 * after a server restart), reset once welcomed.  A refused token waits
 * the longest: it will not start working on its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "clock.h"
#include "log.h"
#include "net/wsclient.h"
#include "relay.h"
#include "xmalloc.h"

#define RM_BACKOFF_MIN_MS	1000
#define RM_BACKOFF_MAX_MS	60000

static struct {
	struct event_base	*base;
	struct event		*retry;
	uint32_t		 backoff_ms;
	struct rconf		 conf;
} rm;

static void	rm_open(void);
static void	rm_closed(const char *);
static void	rm_retry_cb(evutil_socket_t, short, void *);
static void	rm_signal_cb(evutil_socket_t, short, void *);

static const struct wsclient_cb rm_link_cb = {
	.open = rm_open,
	.text = bridge_text,
	.closed = rm_closed,
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: wxgate-relay [-v] -f config\n");
	exit(2);
}

static void
rm_open(void)
{
	log_info("connected to %s", rm.conf.server);
	bridge_open();
}

/* The next try: backoff with jitter, doubled for the one after. */
static void
rm_schedule(void)
{
	struct timeval tv;
	uint32_t ms, r = 0;

	(void)RAND_bytes((unsigned char *)&r, sizeof(r));
	ms = rm.backoff_ms - rm.backoff_ms / 4 + r % (rm.backoff_ms / 2 + 1);
	tv = clock_tv(ms);
	evtimer_add(rm.retry, &tv);
	log_info("reconnecting in %u.%us", ms / 1000, (ms % 1000) / 100);
	rm.backoff_ms = rm.backoff_ms >= RM_BACKOFF_MAX_MS / 2 ?
	    RM_BACKOFF_MAX_MS : rm.backoff_ms * 2;
}

static void
rm_closed(const char *why)
{
	log_info("disconnected from %s: %s", rm.conf.server, why);
	if (bridge_welcomed())
		rm.backoff_ms = RM_BACKOFF_MIN_MS;
	if (bridge_refused())
		rm.backoff_ms = RM_BACKOFF_MAX_MS;
	bridge_lost();
	rm_schedule();
}

static void
rm_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (link_connect() == -1)
		rm_closed("cannot connect");
}

static void
rm_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(rm.base);
}

int
main(int argc, char *argv[])
{
	struct event *sigint, *sigterm;
	const char *path = NULL;
	int ch, verbose = 0;

	while ((ch = getopt(argc, argv, "f:v")) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	/* Info by default: a relay says when it connects and what it serves. */
	log_init(LOG_LVL_INFO + verbose, 0);
	log_procinit("wxgate-relay");
	jsonalloc_init();
	signal(SIGPIPE, SIG_IGN);
	if (rconf_load(path, &rm.conf) == -1)
		exit(1);
	if ((rm.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (bridge_init(rm.base, &rm.conf) == -1 ||
	    link_init(rm.base, &rm.conf, &rm_link_cb) == -1)
		exit(1);
	rm.retry = evtimer_new(rm.base, rm_retry_cb, NULL);
	sigint = evsignal_new(rm.base, SIGINT, rm_signal_cb, NULL);
	sigterm = evsignal_new(rm.base, SIGTERM, rm_signal_cb, NULL);
	if (rm.retry == NULL || sigint == NULL || sigterm == NULL ||
	    evsignal_add(sigint, NULL) == -1 ||
	    evsignal_add(sigterm, NULL) == -1)
		fatalx("events");
	rm.backoff_ms = RM_BACKOFF_MIN_MS;
	rm_retry_cb(-1, 0, NULL);
	event_base_dispatch(rm.base);
	link_close();
	bridge_lost();
	rconf_free(&rm.conf);
	return 0;
}
