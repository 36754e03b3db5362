/*
 * Round-trip benchmark of the web chat: N WebSocket clients each open a
 * session and send M chat.send messages, each after the previous one's
 * chat.done (closed loop), optionally paced to a total offered rate.
 * The latency from send to the first chat.delta and to chat.done is
 * measured per message.  The RSS of the wxgated processes is read from
 * /proc before and after the load.
 *
 * Output is one "metric value unit" line each, for scripts to pick up.
 * The exit status is 1 when any message failed or timed out.
 *
 * The WebSocket client is tests/bench/wsc.c, which shares no code with
 * the server it measures.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "wsc.h"

#define BR_MAX_PIDS	64
#define BR_SETUP_S	10		/* handshake and session.open */

enum cl_state {
	CL_IDLE,	/* may send the next message */
	CL_WAIT,	/* a message is in flight */
	CL_DONE,	/* all sent and answered, or failed */
};

struct client {
	int		 idx;
	enum cl_state	 state;
	int		 sent;		/* messages sent */
	int		 seq;		/* of the message in flight */
	double		 t_send;	/* monotonic ms */
	int		 got_delta;
	int		 got_ack;
	struct wsc	 ws;
};

struct proc {
	pid_t		 pid;
	char		 name[64];
	double		 idle_kib;
	double		 loaded_kib;
};

static void	usage(void) __attribute__((__noreturn__));

static int	cl_frames(struct client *);
static int	cl_message(void *, const char *);
static int	cl_send_rpc(struct client *, int, const char *,
		    const char *);
static int	cl_open_session(struct client *);
static void	cl_fail(struct client *, const char *);

static void	load_run(void);
static void	print_lat(const char *, double *, size_t);

static void	proc_add(pid_t);
static void	proc_children(pid_t);
static void	proc_name(pid_t, char *, size_t);
static double	proc_rss_kib(pid_t);
static double	proc_smaps_kib(pid_t, const char *);
static void	proc_print_smaps(const char *, const char *);
static void	proc_sample(int);
static void	proc_print(const char *, int);

static struct client	*clients;
static int		 nclients = 1;
static int		 nmsgs = 100;
static double		 rate;		/* total msg/s, 0 for unpaced */
/* -l: each answered message's send time and round trip, ms, a line. */
static FILE		*msglog;
static double		 timeout_ms = 10000;
static const char	*text = "hello, bench";
static const char	*host = "127.0.0.1";
static int		 port;

static double		*lat_done;
static double		*lat_delta;
static size_t		 ndone, ndelta;
static size_t		 nerrors, ntimeouts, nnodelta;
static double		 t_first, t_last;

static struct proc	 procs[BR_MAX_PIDS];
static int		 nprocs;

static void
usage(void)
{
	fprintf(stderr, "usage: bench_roundtrip [-c clients] [-n messages] "
	    "[-r rate] [-t timeout_s]\n"
	    "\t[-T text] [-h host] [-l log] [-p pid] [-S supervisor_pid] "
	    "port\n");
	exit(2);
}

static int
cl_send_rpc(struct client *c, int id, const char *method, const char *params)
{
	char buf[8192];
	int len;

	len = snprintf(buf, sizeof(buf),
	    "{\"id\":%d,\"method\":\"%s\",\"params\":%s}", id, method, params);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return -1;
	if (wsc_queue(&c->ws, 1, buf, (size_t)len) == -1)
		return -1;
	return wsc_flush(&c->ws) == -1 ? -1 : 0;
}

/* Blocking: session.open, and wait for its reply. */
static int
cl_open_session(struct client *c)
{
	c->state = CL_WAIT;
	c->seq = -1;
	if (cl_send_rpc(c, 1, "session.open", "{}") == -1)
		return -1;
	while (c->state == CL_WAIT) {
		if (cl_frames(c) == -1)
			return -1;
		if (c->state != CL_WAIT)
			break;
		if (wsc_input(&c->ws) <= 0)
			return -1;
	}
	return c->state == CL_IDLE ? 0 : -1;
}

/* Every whole message in; a protocol error fails the client. */
static int
cl_frames(struct client *c)
{
	const char *why;

	if (wsc_frames(&c->ws, cl_message, c, &why) == -1) {
		if (why != NULL)
			cl_fail(c, why);
		return -1;
	}
	return 0;
}

/* One whole server message: a reply or an event. */
static int
cl_message(void *arg, const char *buf)
{
	struct client *c = arg;
	char want[64];
	json_t *j, *v;
	json_error_t err;
	const char *ev, *id;
	double t = wsc_now_ms();

	if ((j = json_loads(buf, 0, &err)) == NULL) {
		cl_fail(c, "bad json from server");
		return -1;
	}
	snprintf(want, sizeof(want), "c%d-%d", c->idx, c->seq);
	if ((v = json_object_get(j, "id")) != NULL) {
		/* A reply: session.open is id 1, chat.send id 2 + seq. */
		if (!json_is_true(json_object_get(j, "ok"))) {
			fprintf(stderr, "client %d: error reply: %s\n",
			    c->idx, buf);
			json_decref(j);
			cl_fail(c, NULL);
			return -1;
		}
		if (c->seq == -1 && json_integer_value(v) == 1)
			c->state = CL_IDLE;
		else
			c->got_ack = 1;
		json_decref(j);
		return 0;
	}
	ev = json_string_value(json_object_get(j, "event"));
	id = json_string_value(json_object_get(j, "client_msg_id"));
	if (ev == NULL || id == NULL || strcmp(id, want) != 0 ||
	    c->state != CL_WAIT) {
		fprintf(stderr, "client %d: unexpected: %s\n", c->idx, buf);
		json_decref(j);
		cl_fail(c, NULL);
		return -1;
	}
	if (strcmp(ev, "chat.delta") == 0) {
		if (!c->got_delta) {
			lat_delta[ndelta++] = t - c->t_send;
			c->got_delta = 1;
		}
	} else if (strcmp(ev, "chat.done") == 0) {
		/* The reply must come first; a missing delta is counted. */
		if (!c->got_ack) {
			fprintf(stderr, "client %d: done before the reply\n",
			    c->idx);
			nerrors++;
		}
		if (!c->got_delta && nnodelta++ == 0)
			fprintf(stderr, "client %d: done without a delta\n",
			    c->idx);
		lat_done[ndone++] = t - c->t_send;
		if (msglog != NULL)
			fprintf(msglog, "%.3f %.3f\n", c->t_send, t - c->t_send);
		t_last = t;
		c->state = c->sent < nmsgs ? CL_IDLE : CL_DONE;
	} else {
		fprintf(stderr, "client %d: %s\n", c->idx, buf);
		json_decref(j);
		cl_fail(c, NULL);
		return -1;
	}
	json_decref(j);
	return 0;
}

/*
 * A failed client stops: its message in flight and those it would still
 * have sent all count as errors.
 */
static void
cl_fail(struct client *c, const char *why)
{
	if (c->state == CL_DONE)
		return;
	if (why != NULL)
		fprintf(stderr, "client %d: %s\n", c->idx, why);
	nerrors += (size_t)(nmsgs - c->sent) + (c->state == CL_WAIT);
	c->state = CL_DONE;
	if (c->ws.fd != -1) {
		close(c->ws.fd);
		c->ws.fd = -1;
	}
}

/* The send loop: poll every client, pace sends, check timeouts. */
static void
load_run(void)
{
	struct pollfd *pfd;
	struct client *c;
	char params[4096];
	double t, next_slot, slot;
	size_t total = (size_t)nclients * (size_t)nmsgs, issued = 0;
	int i, n, active, wait_ms, rr = 0, k;

	if ((pfd = calloc((size_t)nclients, sizeof(*pfd))) == NULL)
		wsc_die("out of memory");
	slot = rate > 0 ? 1000.0 / rate : 0;
	t_first = next_slot = wsc_now_ms();
	for (;;) {
		t = wsc_now_ms();
		/* Send: to every idle client, or one per rate slot. */
		for (k = 0; k < nclients && issued < total; k++) {
			c = &clients[(rr + k) % nclients];
			if (c->state != CL_IDLE || c->sent >= nmsgs)
				continue;
			if (slot > 0 && t < next_slot)
				break;
			c->seq = c->sent++;
			c->got_delta = c->got_ack = 0;
			c->state = CL_WAIT;
			snprintf(params, sizeof(params),
			    "{\"text\":\"%s %d\",\"client_msg_id\":\"c%d-%d\"}",
			    text, c->seq, c->idx, c->seq);
			c->t_send = wsc_now_ms();
			if (cl_send_rpc(c, 2 + c->seq, "chat.send",
			    params) == -1)
				cl_fail(c, "send failed");
			issued++;
			if (slot > 0) {
				next_slot += slot;
				rr = (rr + k + 1) % nclients;
				k = -1;
			}
		}
		active = 0;
		wait_ms = -1;
		for (i = 0; i < nclients; i++) {
			c = &clients[i];
			pfd[i].fd = -1;
			pfd[i].events = 0;
			pfd[i].revents = 0;
			if (c->state == CL_DONE)
				continue;
			active++;
			if (c->state == CL_WAIT &&
			    t - c->t_send > timeout_ms) {
				fprintf(stderr, "client %d: message %d timed "
				    "out\n", c->idx, c->seq);
				ntimeouts++;
				cl_fail(c, NULL);
				active--;
				continue;
			}
			pfd[i].fd = c->ws.fd;
			pfd[i].events = POLLIN | (c->ws.outlen ? POLLOUT : 0);
		}
		if (active == 0)
			break;
		if (slot > 0 && issued < total) {
			n = (int)ceil(next_slot - wsc_now_ms());
			wait_ms = n < 0 ? 0 : n;
		} else
			wait_ms = 100;
		n = poll(pfd, (nfds_t)nclients, wait_ms);
		if (n == -1 && errno != EINTR)
			wsc_die("poll: %s", strerror(errno));
		for (i = 0; n > 0 && i < nclients; i++) {
			c = &clients[i];
			if (pfd[i].revents == 0 || c->ws.fd == -1)
				continue;
			if ((pfd[i].revents & POLLOUT) && wsc_flush(&c->ws) == -1) {
				cl_fail(c, "write error");
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) {
				k = wsc_input(&c->ws);
				if (k == 0 || (k == -1 && errno != EAGAIN)) {
					cl_fail(c, k == 0 ? "eof" :
					    "read error");
					continue;
				}
				if (cl_frames(c) == 0 && c->ws.outlen > 0 &&
				    wsc_flush(&c->ws) == -1)
					cl_fail(c, "write error");
			}
		}
	}
	free(pfd);
}

static void
print_lat(const char *name, double *v, size_t n)
{
	double sum = 0;
	size_t i;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), wsc_dcmp);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("%s_min %.3f ms\n", name, v[0]);
	printf("%s_mean %.3f ms\n", name, sum / (double)n);
	printf("%s_p50 %.3f ms\n", name, wsc_pct(v, n, 50));
	printf("%s_p90 %.3f ms\n", name, wsc_pct(v, n, 90));
	printf("%s_p99 %.3f ms\n", name, wsc_pct(v, n, 99));
	printf("%s_p999 %.3f ms\n", name, wsc_pct(v, n, 99.9));
	printf("%s_max %.3f ms\n", name, v[n - 1]);
}

static void
proc_add(pid_t pid)
{
	int i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return;
	if (nprocs == BR_MAX_PIDS)
		wsc_die("too many processes");
	procs[nprocs].pid = pid;
	proc_name(pid, procs[nprocs].name, sizeof(procs[nprocs].name));
	nprocs++;
}

/* The supervisor and its children: the kernel's list, else a scan. */
static void
proc_children(pid_t sup)
{
	char path[300], line[512], *p, *e;
	FILE *f;
	DIR *d;
	struct dirent *de;
	long v, ppid;

	proc_add(sup);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)sup,
	    (int)sup);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			for (p = line; ; p = e) {
				v = strtol(p, &e, 10);
				if (e == p)
					break;
				proc_add((pid_t)v);
			}
			fclose(f);
			return;
		}
		fclose(f);
	}
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid: comm may hold spaces and parens. */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == sup)
			proc_add((pid_t)atol(de->d_name));
		fclose(f);
	}
	closedir(d);
}

/* "wxgated -x webchat:0" is webchat.0; the supervisor is wxgated. */
static void
proc_name(pid_t pid, char *name, size_t sz)
{
	char path[64], buf[512], *arg, *p;
	ssize_t n;
	int fd;

	snprintf(name, sz, "pid%d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strrchr(buf, '/');
	if (snprintf(name, sz, "%s", p != NULL ? p + 1 : buf) >= (int)sz)
		name[sz - 1] = '\0';
	for (arg = buf; arg < buf + n; arg += strlen(arg) + 1) {
		if (strcmp(arg, "-x") == 0 && arg + 3 < buf + n) {
			if (snprintf(name, sz, "%s", arg + 3) >= (int)sz)
				name[sz - 1] = '\0';
			if ((p = strchr(name, ':')) != NULL)
				*p = '.';
			return;
		}
	}
}

/* VmRSS in KiB, or -1 when the process is gone. */
static double
proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	double kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A field of smaps_rollup in KiB.  RSS counts the shared library pages
 * every process maps again; Pss divides them among the processes
 * sharing them; Private_Dirty is what the process alone costs (its
 * heap, stacks and the relocated data of every library it maps).
 */
static double
proc_smaps_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	FILE *f;
	double kib = -1;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* One line per process and a total: "<prefix><name> N MiB". */
static void
proc_print_smaps(const char *key, const char *prefix)
{
	double v, total = 0;
	int i;

	for (i = 0; i < nprocs; i++) {
		if ((v = proc_smaps_kib(procs[i].pid, key)) < 0)
			continue;
		total += v;
		printf("%s%s %.2f MiB\n", prefix, procs[i].name, v / 1024);
	}
	if (nprocs > 0)
		printf("%stotal %.2f MiB\n", prefix, total / 1024);
}

static void
proc_sample(int loaded)
{
	int i;

	for (i = 0; i < nprocs; i++) {
		if (loaded)
			procs[i].loaded_kib = proc_rss_kib(procs[i].pid);
		else
			procs[i].idle_kib = proc_rss_kib(procs[i].pid);
	}
}

/* One line per process and a total, in MiB; prefix "rss_" or longer. */
static void
proc_print(const char *prefix, int loaded)
{
	double v, total = 0;
	int i;

	if (nprocs == 0)
		return;
	for (i = 0; i < nprocs; i++) {
		v = loaded ? procs[i].loaded_kib : procs[i].idle_kib;
		if (v < 0) {
			printf("%s%s gone pid%d\n", prefix, procs[i].name,
			    (int)procs[i].pid);
			continue;
		}
		total += v;
		printf("%s%s %.2f MiB\n", prefix, procs[i].name, v / 1024);
	}
	printf("%stotal %.2f MiB\n", prefix, total / 1024);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	struct client *c;
	const char *errstr = NULL;
	double t0, open_ms, elapsed;
	pid_t sup = 0;
	int ch, i;

	wsc_prog = "bench_roundtrip";
	while ((ch = getopt(argc, argv, "c:h:l:n:p:r:S:t:T:")) != -1) {
		switch (ch) {
		case 'c':
			nclients = atoi(optarg);
			if (nclients < 0 || nclients > 10000)
				errstr = "clients: 0 to 10000";
			break;
		case 'h':
			host = optarg;
			break;
		case 'l':
			if ((msglog = fopen(optarg, "w")) == NULL)
				wsc_die("%s: %s", optarg, strerror(errno));
			break;
		case 'n':
			nmsgs = atoi(optarg);
			if (nmsgs < 1 || nmsgs > 10000000)
				errstr = "messages: 1 to 10000000";
			break;
		case 'p':
			if (atoi(optarg) <= 0)
				errstr = "bad pid";
			else
				proc_add((pid_t)atoi(optarg));
			break;
		case 'r':
			rate = atof(optarg);
			if (rate < 0)
				errstr = "rate: not negative";
			break;
		case 'S':
			if ((sup = (pid_t)atoi(optarg)) <= 0)
				errstr = "bad supervisor pid";
			break;
		case 't':
			timeout_ms = atof(optarg) * 1000;
			if (timeout_ms <= 0)
				errstr = "timeout: positive seconds";
			break;
		case 'T':
			text = optarg;
			if (strlen(text) > 2048 || strpbrk(text, "\"\\") != NULL)
				errstr = "text: at most 2048 bytes, no \" or \\";
			break;
		default:
			usage();
		}
		if (errstr != NULL)
			wsc_die("%s", errstr);
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if ((port = atoi(argv[0])) <= 0 || port > 65535)
		wsc_die("bad port %s", argv[0]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		wsc_die("bad IPv4 address %s", host);
	signal(SIGPIPE, SIG_IGN);
	if (sup != 0)
		proc_children(sup);

	/* No clients: report the RSS alone. */
	proc_sample(0);
	if (nclients == 0) {
		proc_print("rss_", 0);
		proc_print_smaps("Pss", "pss_");
		proc_print_smaps("Private_Dirty", "dirty_");
		return 0;
	}

	if ((clients = calloc((size_t)nclients, sizeof(*clients))) == NULL ||
	    (lat_done = calloc((size_t)nclients * (size_t)nmsgs,
	    sizeof(double))) == NULL ||
	    (lat_delta = calloc((size_t)nclients * (size_t)nmsgs,
	    sizeof(double))) == NULL)
		wsc_die("out of memory");
	t0 = wsc_now_ms();
	for (i = 0; i < nclients; i++) {
		c = &clients[i];
		c->idx = i;
		c->ws.fd = -1;
		if (wsc_connect(&c->ws, NULL, &sin, BR_SETUP_S) == -1 ||
		    wsc_upgrade(&c->ws, host, port, "bench_roundtrip") == -1 ||
		    cl_open_session(c) == -1)
			wsc_die("client %d: setup failed: %s", i,
			    errno ? strerror(errno) : "protocol");
		if (fcntl(c->ws.fd, F_SETFL, fcntl(c->ws.fd, F_GETFL) |
		    O_NONBLOCK) == -1)
			wsc_die("fcntl: %s", strerror(errno));
	}
	open_ms = wsc_now_ms() - t0;

	load_run();

	proc_sample(1);
	elapsed = (t_last > t_first ? t_last - t_first : 0) / 1000;
	printf("clients %d count\n", nclients);
	printf("setup_per_client %.3f ms\n", open_ms / nclients);
	if (rate > 0)
		printf("offered_rate %.0f msg/s\n", rate);
	printf("messages %zu count\n", ndone);
	printf("errors %zu count\n", nerrors);
	printf("timeouts %zu count\n", ntimeouts);
	printf("done_without_delta %zu count\n", nnodelta);
	printf("duration %.3f s\n", elapsed);
	printf("throughput %.0f msg/s\n",
	    elapsed > 0 ? (double)ndone / elapsed : 0);
	print_lat("roundtrip", lat_done, ndone);
	print_lat("first_delta", lat_delta, ndelta);
	proc_print("rss_idle_", 0);
	proc_print("rss_loaded_", 1);
	fflush(stdout);

	for (i = 0; i < nclients; i++)
		wsc_close(&clients[i].ws);
	return nerrors > 0 || ntimeouts > 0 ||
	    ndone != (size_t)nclients * (size_t)nmsgs ? 1 : 0;
}
