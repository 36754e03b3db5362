/*
 * C10K bench of the web chat (issue #17): N WebSocket sessions held open
 * at once, each sending one chat.send every P seconds (the sessions'
 * phases spread evenly over P, each send jittered) for D seconds, open
 * loop: a session does not wait for its last answer before the next.
 * Then every answer (chat.done) is awaited until a deadline.  The round
 * trip is counted from the send to its chat.done.
 *
 * One thread and epoll: at 10,000 sockets a poll() per wakeup would
 * measure the client.  The WebSocket client is tests/bench/wsc.c, which
 * shares no code with the server it measures.
 *
 * Prints "c10k.<metric> value unit" lines; exits 1 when a message went
 * unsent or unanswered, or a session was lost.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

#define CK_MAX_PROCS	64
#define CK_MAX_SESS	30000
#define CK_SETUP_S	30		/* connect, upgrade and session.open */
#define CK_MEM_EVERY_MS	5000		/* memory sampled during the load */

struct client {
	int		 idx;
	int		 open;		/* session.open answered */
	int		 lost;		/* connection gone */
	int		 sent;		/* messages sent */
	double		 due;		/* monotonic ms of the next send */
	int		 heap;		/* index in the send heap, -1 if out */
	struct wsc	 ws;
};

/* One message: when it went, and how it ended. */
enum { M_UNSENT, M_SENT, M_DONE, M_REFUSED, M_ERROR };

struct mem {
	double		 webchat_rss, webchat_pss;
	double		 hub_rss, hub_pss;
	double		 total_rss, total_pss;
};

static void	usage(void) __attribute__((__noreturn__));

static int	cl_setup(struct client *, const struct sockaddr_in *,
		    const struct sockaddr_in *);
static int	cl_frames(struct client *);
static int	cl_message(void *, const char *);
static void	cl_lose(struct client *, const char *);
static void	cl_send(struct client *);

static void	heap_push(struct client *);
static struct client *heap_pop(void);
static void	heap_swap(int, int);

static void	load_run(void);
static void	want_out(struct client *, int);
static double	due_at(int, int, double);

static void	proc_scan(pid_t);
static void	proc_mem(struct mem *);
static double	proc_field(pid_t, const char *, const char *);

static struct client	*clients;
static int		 nsess = 10000;
static double		 period_ms = 10000;
static double		 duration_ms = 120000;
static double		 wait_ms = 60000;	/* for answers, after the last send */
static int		 naddrs = 8;		/* client addresses 127.0.0.2.. */
static int		 permsg;		/* messages per session */
static const char	*text = "hello, c10k";
static int		 port;
static int		 ep;

static unsigned char	*mstate;		/* [nsess * permsg] */
static double		*t_sent;		/* [nsess * permsg] */
static double		*lat;			/* round trips, ms */
static size_t		 nlat;
static size_t		 nsent, ndone, nbusy, nlimited, nrefused, nerror;
static size_t		 nlost, nstray;

static struct client	**heap;			/* by due time */
static int		 nheap;

static struct {
	pid_t	 pid;
	char	 kind[32];	/* "webchat", "hub", ... or "supervisor" */
} procs[CK_MAX_PROCS];
static int		 nprocs;

static void
usage(void)
{
	fprintf(stderr, "usage: bench_c10k [-a addresses] [-d duration_s] "
	    "[-n sessions] [-p period_s]\n"
	    "\t[-S supervisor_pid] [-T text] [-w wait_s] port\n");
	exit(2);
}

/*
 * Blocking, with timeouts: connect from one of the client addresses,
 * upgrade, open a session.  Then the socket turns non-blocking.
 */
static int
cl_setup(struct client *c, const struct sockaddr_in *src,
    const struct sockaddr_in *dst)
{
	static const char open_rpc[] =
	    "{\"id\":1,\"method\":\"session.open\",\"params\":{}}";

	if (wsc_connect(&c->ws, src, dst, CK_SETUP_S) == -1 ||
	    wsc_upgrade(&c->ws, "127.0.0.1", port, "bench_c10k") == -1)
		return -1;
	if (wsc_queue(&c->ws, 1, open_rpc, strlen(open_rpc)) == -1 ||
	    wsc_flush(&c->ws) != 0)
		return -1;
	while (!c->open) {
		if (cl_frames(c) == -1)
			return -1;
		if (c->open)
			break;
		if (wsc_input(&c->ws) <= 0)
			return -1;
	}
	if (fcntl(c->ws.fd, F_SETFL,
	    fcntl(c->ws.fd, F_GETFL) | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/* Every whole message in; a protocol error loses the session. */
static int
cl_frames(struct client *c)
{
	const char *why;

	if (wsc_frames(&c->ws, cl_message, c, &why) == -1) {
		if (why != NULL)
			cl_lose(c, why);
		return -1;
	}
	return 0;
}

/*
 * A reply or an event.  chat.send is id 2 + seq and its client_msg_id
 * "c<session>-<seq>": either names the message a line is about.
 */
static int
cl_message(void *arg, const char *buf)
{
	struct client *c = arg;
	json_t *j, *v;
	json_error_t err;
	const char *ev, *id, *code;
	double t = wsc_now_ms();
	long long seq = -1;
	int sess;
	size_t k;

	if ((j = json_loads(buf, 0, &err)) == NULL) {
		cl_lose(c, "bad json from the server");
		return -1;
	}
	if ((v = json_object_get(j, "id")) != NULL) {
		seq = json_integer_value(v) - 2;
		if (seq == -1 && !c->open) {
			c->open = json_is_true(json_object_get(j, "ok"));
			json_decref(j);
			return c->open ? 0 : -1;
		}
		if (seq < 0 || seq >= permsg) {
			nstray++;
			json_decref(j);
			return 0;
		}
		k = (size_t)c->idx * (size_t)permsg + (size_t)seq;
		if (!json_is_true(json_object_get(j, "ok")) &&
		    mstate[k] == M_SENT) {
			/* Admission said no: what the bench must not measure. */
			code = json_string_value(json_object_get(
			    json_object_get(j, "error"), "code"));
			if (code != NULL && strcmp(code, "busy") == 0)
				nbusy++;
			else if (code != NULL && strcmp(code, "rate_limited") == 0)
				nlimited++;
			else if (nrefused++ == 0)
				fprintf(stderr, "session %d: refused: %s\n",
				    c->idx, buf);
			mstate[k] = M_REFUSED;
		}
		json_decref(j);
		return 0;
	}
	ev = json_string_value(json_object_get(j, "event"));
	id = json_string_value(json_object_get(j, "client_msg_id"));
	if (ev == NULL || id == NULL ||
	    sscanf(id, "c%d-%lld", &sess, &seq) != 2 || sess != c->idx ||
	    seq < 0 || seq >= permsg) {
		if (nstray++ == 0)
			fprintf(stderr, "session %d: unexpected: %s\n", c->idx,
			    buf);
		json_decref(j);
		return 0;
	}
	k = (size_t)c->idx * (size_t)permsg + (size_t)seq;
	if (strcmp(ev, "chat.done") == 0 && mstate[k] == M_SENT) {
		mstate[k] = M_DONE;
		lat[nlat++] = t - t_sent[k];
		ndone++;
	} else if (strcmp(ev, "chat.error") == 0 && mstate[k] == M_SENT) {
		if (nerror++ == 0)
			fprintf(stderr, "session %d: %s\n", c->idx, buf);
		mstate[k] = M_ERROR;
	} else if (strcmp(ev, "chat.delta") != 0) {
		/* A second done, or one for a message never sent. */
		if (nstray++ == 0)
			fprintf(stderr, "session %d: unexpected: %s\n", c->idx,
			    buf);
	}
	json_decref(j);
	return 0;
}

/* A lost session sends nothing more; what it has in flight stays so. */
static void
cl_lose(struct client *c, const char *why)
{
	if (c->lost)
		return;
	if (nlost++ < 5)
		fprintf(stderr, "session %d: %s\n", c->idx, why);
	c->lost = 1;
	if (c->ws.fd != -1) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->ws.fd, NULL);
		close(c->ws.fd);
		c->ws.fd = -1;
	}
}

static void
cl_send(struct client *c)
{
	char buf[4096];
	size_t k;
	int len, seq = c->sent++;

	k = (size_t)c->idx * (size_t)permsg + (size_t)seq;
	len = snprintf(buf, sizeof(buf), "{\"id\":%d,\"method\":\"chat.send\","
	    "\"params\":{\"text\":\"%s %d\",\"client_msg_id\":\"c%d-%d\"}}",
	    2 + seq, text, seq, c->idx, seq);
	if (len < 0 || (size_t)len >= sizeof(buf) ||
	    wsc_queue(&c->ws, 1, buf, (size_t)len) == -1)
		wsc_die("message too long");
	t_sent[k] = wsc_now_ms();
	mstate[k] = M_SENT;
	nsent++;
	switch (wsc_flush(&c->ws)) {
	case -1:
		cl_lose(c, "write error");
		break;
	case 1:
		want_out(c, 1);
		break;
	}
}

/* The send schedule: a binary min-heap on each session's next due time. */
static void
heap_swap(int a, int b)
{
	struct client *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap = a;
	heap[b]->heap = b;
}

static void
heap_push(struct client *c)
{
	int i = nheap++, p;

	heap[i] = c;
	c->heap = i;
	while (i > 0 && heap[p = (i - 1) / 2]->due > heap[i]->due) {
		heap_swap(i, p);
		i = p;
	}
}

static struct client *
heap_pop(void)
{
	struct client *top = heap[0];
	int i = 0, l, s;

	heap_swap(0, --nheap);
	for (;;) {
		s = i;
		l = 2 * i + 1;
		if (l < nheap && heap[l]->due < heap[s]->due)
			s = l;
		if (l + 1 < nheap && heap[l + 1]->due < heap[s]->due)
			s = l + 1;
		if (s == i)
			break;
		heap_swap(i, s);
		i = s;
	}
	top->heap = -1;
	return top;
}

static void
want_out(struct client *c, int on)
{
	struct epoll_event e;

	e.events = EPOLLIN | (on ? EPOLLOUT : 0);
	e.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->ws.fd, &e) == -1)
		wsc_die("epoll_ctl: %s", strerror(errno));
}

/*
 * Session i's message k is due at i * P / N + k * P, plus a jitter of up
 * to a tenth of P either way: the load is even, its instants are not.
 */
static double
due_at(int i, int k, double t0)
{
	double j = ((double)(wsc_rnd32() % 2001) / 1000.0 - 1.0) * period_ms / 10;
	double d = (double)i * period_ms / nsess + (double)k * period_ms + j;

	return t0 + (d < 0 ? 0 : d);
}

/* Send on schedule, read answers, until all are in or the deadline. */
static void
load_run(void)
{
	struct epoll_event ev[256];
	struct client *c;
	struct mem m, peak;
	double t, t0, end = 0, next_mem;
	int i, n, r, to;
	size_t open;

	memset(&peak, 0, sizeof(peak));
	t0 = wsc_now_ms() + 100;
	for (i = 0; i < nsess; i++) {
		clients[i].due = due_at(i, 0, t0);
		heap_push(&clients[i]);
	}
	next_mem = t0 + CK_MEM_EVERY_MS;
	for (;;) {
		t = wsc_now_ms();
		while (nheap > 0 && heap[0]->due <= t) {
			c = heap_pop();
			if (c->lost)
				continue;
			cl_send(c);
			if (c->sent < permsg) {
				c->due = due_at(c->idx, c->sent, t0);
				heap_push(c);
			}
		}
		if (nheap == 0 && end == 0)
			end = t + wait_ms;
		if (t >= next_mem) {
			proc_mem(&m);
			if (m.total_pss > peak.total_pss)
				peak = m;
			next_mem = t + CK_MEM_EVERY_MS;
		}
		open = nsent - ndone - nbusy - nlimited - nrefused - nerror;
		if (end != 0 && (open == 0 || t >= end))
			break;
		to = nheap > 0 ? (int)ceil(heap[0]->due - t) : 100;
		if (to > 100)
			to = 100;
		if ((n = epoll_wait(ep, ev, 256, to < 0 ? 0 : to)) == -1) {
			if (errno == EINTR)
				continue;
			wsc_die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			c = ev[i].data.ptr;
			if (c->lost)
				continue;
			if (ev[i].events & EPOLLOUT) {
				if ((r = wsc_flush(&c->ws)) == -1) {
					cl_lose(c, "write error");
					continue;
				}
				if (r == 0)
					want_out(c, 0);
			}
			if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				r = wsc_input(&c->ws);
				if (r == 0 || (r == -1 && errno != EAGAIN)) {
					cl_lose(c, r == 0 ? "eof" :
					    "read error");
					continue;
				}
				if (cl_frames(c) == -1)
					continue;
				if (c->ws.outlen > 0 && wsc_flush(&c->ws) == 1)
					want_out(c, 1);
			}
		}
	}
	/* Memory with every session still open, and the peak. */
	proc_mem(&m);
	printf("c10k.webchat_rss %.0f KiB\n", m.webchat_rss);
	printf("c10k.webchat_pss %.0f KiB\n", m.webchat_pss);
	printf("c10k.hub_rss %.0f KiB\n", m.hub_rss);
	printf("c10k.hub_pss %.0f KiB\n", m.hub_pss);
	printf("c10k.total_rss %.0f KiB\n", m.total_rss);
	printf("c10k.total_pss %.0f KiB\n", m.total_pss);
	printf("c10k.total_pss_peak %.0f KiB\n",
	    m.total_pss > peak.total_pss ? m.total_pss : peak.total_pss);
}

/* The supervisor and its children, each with its kind from "-x kind:n". */
static void
proc_scan(pid_t sup)
{
	char path[300], line[512], buf[512], *p;
	FILE *f;
	DIR *d;
	struct dirent *de;
	long ppid;
	ssize_t n;
	int fd;

	procs[0].pid = sup;
	snprintf(procs[0].kind, sizeof(procs[0].kind), "supervisor");
	nprocs = 1;
	if ((d = opendir("/proc")) == NULL)
		wsc_die("/proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL && nprocs < CK_MAX_PROCS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid: comm may hold spaces and parens. */
		ppid = -1;
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL)
			(void)sscanf(p + 1, " %*c %ld", &ppid);
		fclose(f);
		if (ppid != sup)
			continue;
		procs[nprocs].pid = (pid_t)atol(de->d_name);
		snprintf(procs[nprocs].kind, sizeof(procs[nprocs].kind),
		    "other");
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY)) != -1) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = '\0';
			/* argv[1] "-x", argv[2] "kind:name" */
			p = buf + strlen(buf) + 1;
			if (n > 0 && p < buf + n && strcmp(p, "-x") == 0 &&
			    (p += 3) < buf + n) {
				p[strcspn(p, ":")] = '\0';
				snprintf(procs[nprocs].kind,
				    sizeof(procs[nprocs].kind), "%s", p);
			}
		}
		nprocs++;
	}
	closedir(d);
}

/* One "Name: N kB" line of a /proc file, or 0 when unreadable. */
static double
proc_field(pid_t pid, const char *file, const char *name)
{
	char path[64], line[256];
	FILE *f;
	double kib = 0;
	size_t len = strlen(name);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			kib = atof(line + len + 1);
			break;
		}
	fclose(f);
	return kib;
}

static void
proc_mem(struct mem *m)
{
	double rss, pss;
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < nprocs; i++) {
		rss = proc_field(procs[i].pid, "smaps_rollup", "Rss");
		pss = proc_field(procs[i].pid, "smaps_rollup", "Pss");
		m->total_rss += rss;
		m->total_pss += pss;
		if (strcmp(procs[i].kind, "webchat") == 0) {
			m->webchat_rss += rss;
			m->webchat_pss += pss;
		} else if (strcmp(procs[i].kind, "hub") == 0) {
			m->hub_rss += rss;
			m->hub_pss += pss;
		}
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in src, dst;
	struct epoll_event e;
	struct rlimit rl;
	struct rusage ru;
	struct client *c;
	const char *errstr = NULL;
	double t0;
	pid_t sup = 0;
	size_t nplan, unanswered;
	int ch, i;

	wsc_prog = "bench_c10k";
	while ((ch = getopt(argc, argv, "a:d:n:p:S:T:w:")) != -1) {
		switch (ch) {
		case 'a':
			if ((naddrs = atoi(optarg)) < 1 || naddrs > 250)
				errstr = "addresses: 1 to 250";
			break;
		case 'd':
			if ((duration_ms = atof(optarg) * 1000) <= 0)
				errstr = "duration: positive seconds";
			break;
		case 'n':
			nsess = atoi(optarg);
			if (nsess < 1 || nsess > CK_MAX_SESS)
				errstr = "sessions: 1 to 30000";
			break;
		case 'p':
			if ((period_ms = atof(optarg) * 1000) <= 0)
				errstr = "period: positive seconds";
			break;
		case 'S':
			if ((sup = (pid_t)atoi(optarg)) <= 0)
				errstr = "bad supervisor pid";
			break;
		case 'T':
			text = optarg;
			if (strlen(text) > 2048 || strpbrk(text, "\"\\") != NULL)
				errstr = "text: at most 2048 bytes, no \" or \\";
			break;
		case 'w':
			if ((wait_ms = atof(optarg) * 1000) <= 0)
				errstr = "wait: positive seconds";
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
	if ((permsg = (int)(duration_ms / period_ms)) < 1)
		wsc_die("duration shorter than one period");
	signal(SIGPIPE, SIG_IGN);

	/* One descriptor a session, and a few more. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		wsc_die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < (rlim_t)nsess + 64) {
		rl.rlim_cur = (rlim_t)nsess + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			wsc_die("RLIMIT_NOFILE below %d sessions", nsess);
	}
	if (sup != 0)
		proc_scan(sup);

	nplan = (size_t)nsess * (size_t)permsg;
	if ((clients = calloc((size_t)nsess, sizeof(*clients))) == NULL ||
	    (heap = calloc((size_t)nsess, sizeof(*heap))) == NULL ||
	    (mstate = calloc(nplan, 1)) == NULL ||
	    (t_sent = calloc(nplan, sizeof(*t_sent))) == NULL ||
	    (lat = calloc(nplan, sizeof(*lat))) == NULL)
		wsc_die("out of memory");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		wsc_die("epoll_create1: %s", strerror(errno));

	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	src = dst;
	src.sin_port = 0;
	t0 = wsc_now_ms();
	for (i = 0; i < nsess; i++) {
		c = &clients[i];
		c->idx = i;
		c->heap = -1;
		/* 127.0.0.2 and up: no one address carries all of it. */
		src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + i % naddrs);
		if (cl_setup(c, &src, &dst) == -1)
			wsc_die("session %d: setup failed: %s", i,
			    errno ? strerror(errno) : "protocol");
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->ws.fd, &e) == -1)
			wsc_die("epoll_ctl: %s", strerror(errno));
	}
	printf("c10k.sessions %d count\n", nsess);
	printf("c10k.setup_per_session %.3f ms\n", (wsc_now_ms() - t0) / nsess);
	fflush(stdout);

	load_run();

	unanswered = nsent - ndone;
	qsort(lat, nlat, sizeof(*lat), wsc_dcmp);
	printf("c10k.period %.1f s\n", period_ms / 1000);
	printf("c10k.duration %.1f s\n", duration_ms / 1000);
	printf("c10k.offered_rate %.0f msg/s\n", nsess * 1000.0 / period_ms);
	printf("c10k.messages_planned %zu count\n", nplan);
	printf("c10k.messages_sent %zu count\n", nsent);
	printf("c10k.messages_answered %zu count\n", ndone);
	printf("c10k.unanswered %zu count\n", unanswered);
	printf("c10k.busy %zu count\n", nbusy);
	printf("c10k.rate_limited %zu count\n", nlimited);
	printf("c10k.refused_other %zu count\n", nrefused);
	printf("c10k.chat_errors %zu count\n", nerror);
	printf("c10k.sessions_lost %zu count\n", nlost);
	printf("c10k.stray_frames %zu count\n", nstray);
	printf("c10k.roundtrip_p50 %.3f ms\n", wsc_pct(lat, nlat, 50));
	printf("c10k.roundtrip_p99 %.3f ms\n", wsc_pct(lat, nlat, 99));
	printf("c10k.roundtrip_max %.3f ms\n", nlat ? lat[nlat - 1] : 0);
	/* The client's own share of the two cores, to tell who was busy. */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("c10k.client_cpu %.1f s\n",
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	fflush(stdout);
	return unanswered > 0 || nsent != nplan || nlost > 0 ? 1 : 0;
}
