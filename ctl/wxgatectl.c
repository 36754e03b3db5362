/*
 * wxgatectl: the operator's client for wxgated's control socket.
 * It sends one operator-role frame and prints the answer.  Exit codes are
 * part of the interface: 0 done, 1 refused by wxgated, 2 usage, 3 the
 * control socket cannot be reached or answered nonsense, 4 no answer in
 * time.  Every request has a deadline (-t): a wedged hub that takes the
 * connection and never answers must not hold an operator's shell or a
 * script forever.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"
#include "clock.h"
#include "codec.h"
#include "log.h"
#include "qr.h"
#include "ctl.h"

#define CTL_DEFAULT_SOCK	"./run/control.sock"

#define CTL_ARGS_ANY	-1	/* the command checks its own arguments */
/* How long `login` follows a QR login: the worker's own deadline. */
#define CTL_LOGIN_WAIT_S	480
/* Channel connections `status` lists (workers beyond it are not). */
#define CTL_CHANNELS_SHOWN	256
/* send --wait: how long by default, and how often it asks. */
#define CTL_WAIT_DEFAULT_S	60
#define CTL_WAIT_POLL_MS	200
/* Parts of one send that are followed (the daemon's own bound). */
#define CTL_SEND_PARTS		64
/* A share link lives a week unless --ttl says otherwise. */
#define CTL_SHARE_TTL_DEFAULT	(7 * 86400)
#define CTL_SHARE_TTL_MAX	UINT32_MAX	/* the codec's bound */
/*
 * How long one request may wait for its whole answer (-t).  wxgated
 * answers from memory or its local store in milliseconds; a command
 * that must be stored in a cluster's database first (share create)
 * waits for it, and 30 s is well past a healthy database's worst.
 * A day at most: a deadline, not a way to wait forever.
 */
#define CTL_TIMEOUT_DEFAULT_S	30
#define CTL_TIMEOUT_MAX_S	86400

static uint8_t	buf[IPC_FRAME_MAX];
static unsigned long long ctl_timeout_s = CTL_TIMEOUT_DEFAULT_S;
static uint64_t	ctl_due;	/* clock_mono_ms() the answer is due by */

static int	cmd_status(int, int, char **);
static int	cmd_restart(int, int, char **);
static int	cmd_stop(int, int, char **);
static int	cmd_test(int, int, char **);
static int	cmd_share(int, int, char **);
static int	share_create(int, int, char **);
static int	share_list(int, int, char **);
static int	share_revoke(int, int, char **);
static int	cmd_pairing(int, int, char **);
static int	pairing_list(int, int, char **);
static int	pairing_approve(int, int, char **);
static int	pairing_deny(int, int, char **);
static int	cmd_audit(int, int, char **);
static int	cmd_login(int, int, char **);
static int	cmd_stats(int, int, char **);
static int	cmd_metrics(int, int, char **);
static int	cmd_send(int, int, char **);
static int	cmd_outbox(int, int, char **);

static const struct {
	const char	 *name;
	int		  argc;		/* arguments after the command */
	int		(*fn)(int, int, char **);
} cmds[] = {
	{ "status",	0,	cmd_status },
	{ "restart",	1,	cmd_restart },
	{ "stop",	0,	cmd_stop },
	{ "test",	2,	cmd_test },	/* needs --enable-test-hooks */
	{ "share",	CTL_ARGS_ANY, cmd_share },
	{ "pairing",	CTL_ARGS_ANY, cmd_pairing },
	{ "audit",	CTL_ARGS_ANY, cmd_audit },
	{ "login",	CTL_ARGS_ANY, cmd_login },
	{ "stats",	0,	cmd_stats },
	{ "metrics",	0,	cmd_metrics },
	{ "top",	CTL_ARGS_ANY, cmd_top },
	{ "send",	CTL_ARGS_ANY, cmd_send },
	{ "outbox",	CTL_ARGS_ANY, cmd_outbox },
	{ "schedule",	CTL_ARGS_ANY, cmd_schedule },	/* ctl/schedule.c */
	{ "relay",	CTL_ARGS_ANY, cmd_relay },	/* ctl/relay_token.c */
	{ "bind",	CTL_ARGS_ANY, cmd_bind },	/* ctl/bind.c */
	{ "channels",	CTL_ARGS_ANY, cmd_channels },
	{ "console-url", CTL_ARGS_ANY, cmd_console_url },	/* ctl/console.c */
	{ "console",	CTL_ARGS_ANY, cmd_console },
	{ "account",	CTL_ARGS_ANY, cmd_account },	/* ctl/account.c */
	{ "cluster",	0,	cmd_cluster },		/* ctl/cluster.c */
	{ "drain",	0,	cmd_drain },
};

/* Subcommands of share and pairing (struct subcmd: ctl.h). */
static const struct subcmd share_cmds[] = {
	{ "create",	share_create },
	{ "list",	share_list },
	{ "revoke",	share_revoke },
};

static const struct subcmd pairing_cmds[] = {
	{ "list",	pairing_list },
	{ "approve",	pairing_approve },
	{ "deny",	pairing_deny },
};

void
usage(void)
{
	fprintf(stderr, "usage: wxgatectl [-s socket] status\n"
	    "       wxgatectl [-s socket] restart name\n"
	    "       wxgatectl [-s socket] stop\n"
	    "       wxgatectl [-s socket] share create [--ttl time] "
	    "[--read-only] [--session id]\n"
	    "       wxgatectl [-s socket] share list\n"
	    "       wxgatectl [-s socket] share revoke id\n"
	    "       wxgatectl [-s socket] pairing list\n"
	    "       wxgatectl [-s socket] pairing approve|deny code\n"
	    "       wxgatectl [-s socket] audit [-n count]\n"
	    "       wxgatectl [-s socket] login [--no-wait] channel [code]\n"
	    "       wxgatectl [-s socket] stats\n"
	    "       wxgatectl [-s socket] metrics\n"
	    "       wxgatectl [-s socket] top [--once | --json] [-d seconds]\n"
	    "       wxgatectl [-s socket] send [--wait [seconds]] channel "
	    "target text\n"
	    "       wxgatectl [-s socket] send [--wait [seconds]] --file path "
	    "channel target\n"
	    "           [caption]\n"
	    "       wxgatectl [-s socket] outbox id ...\n"
	    "       wxgatectl [-s socket] schedule add name\n"
	    "           (--cron expr [--tz zone] | --every time)\n"
	    "           (--text text | --agent agent --prompt text) "
	    "--to channel:target ...\n"
	    "           [--hold-until-contact time] [--catch-up latest|none]\n"
	    "       wxgatectl [-s socket] schedule list\n"
	    "       wxgatectl [-s socket] schedule "
	    "show|run|pause|resume|remove name\n"
	    "       wxgatectl [-s socket] schedule history [name]\n"
	    "       wxgatectl [-s socket] relay token create agent\n"
	    "       wxgatectl [-s socket] relay token list\n"
	    "       wxgatectl [-s socket] relay token revoke id\n"
	    "       wxgatectl [-s socket] bind create --template name "
	    "[--ttl time] [--uses n]\n"
	    "       wxgatectl [-s socket] bind list\n"
	    "       wxgatectl [-s socket] bind revoke id\n"
	    "       wxgatectl [-s socket] channels list\n"
	    "       wxgatectl [-s socket] channels remove name\n"
	    "       wxgatectl [-s socket] console-url [--operator name]\n"
	    "       wxgatectl [-s socket] console revoke-all\n"
	    "       wxgatectl [-s socket] account pause|resume name\n"
	    "       wxgatectl [-s socket] cluster\n"
	    "       wxgatectl [-s socket] drain\n"
	    "options: -s socket, -t seconds (default %d): how long to wait "
	    "for an answer\n", CTL_TIMEOUT_DEFAULT_S);
	exit(EX_USAGE);
}

/*
 * The deadline runs from each request to the last frame of its answer.
 * Commands that go on (top, login, send --wait) make a request per
 * round, and each round has the whole deadline: they run as long as
 * they mean to, but never wait on a silent hub.
 */
static void
ctl_arm(void)
{
	ctl_due = clock_mono_ms() + ctl_timeout_s * 1000;
}

static void __attribute__((noreturn))
ctl_late(void)
{
	fprintf(stderr, "wxgatectl: no answer from wxgated within %llu s\n",
	    ctl_timeout_s);
	exit(EX_TIMEOUT);
}

/* Until fd is ready for events, or the deadline: then exit. */
static void
ctl_wait(int fd, short events)
{
	struct pollfd pfd;
	uint64_t now;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		if ((now = clock_mono_ms()) >= ctl_due)
			ctl_late();
		n = poll(&pfd, 1, ctl_due - now > INT32_MAX ? INT32_MAX :
		    (int)(ctl_due - now));
		if (n == -1 && errno != EINTR) {
			fprintf(stderr, "wxgatectl: poll: %s\n",
			    strerror(errno));
			exit(EX_UNREACH);
		}
		/* Errors and hangups are ready too: the read says which. */
		if (n > 0)
			return;
	}
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int)sizeof(sun.sun_path)) {
		fprintf(stderr, "wxgatectl: socket path too long\n");
		exit(EX_USAGE);
	}
	ctl_arm();
	/*
	 * A hub that no longer accepts leaves connect(2) waiting once its
	 * backlog is full; Linux bounds that wait by the send timeout.
	 */
	tv.tv_sec = (time_t)ctl_timeout_s;
	tv.tv_usec = 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			ctl_late();
		goto fail;
	}
	return fd;
fail:
	fprintf(stderr, "wxgatectl: %s: %s\n", path, strerror(errno));
	exit(EX_UNREACH);
}

static int
full_io(int fd, void *p, size_t len, int writing)
{
	uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		ctl_wait(fd, writing ? POLLOUT : POLLIN);
		n = writing ? write(fd, b, len) : read(fd, b, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One frame; pass (not -1) rides with its first byte as SCM_RIGHTS, so
 * wxgated can tell which frame it belongs to.
 */
static void
ctl_send_fd(int fd, uint32_t type, const void *body, int pass)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov[2];
	uint8_t hdr[4];
	size_t len;
	ssize_t n;

	ctl_arm();
	if ((len = ipc_encode(type, 1, body, buf, sizeof(buf))) == 0) {
		fprintf(stderr, "wxgatectl: cannot encode request\n");
		exit(EX_USAGE);
	}
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	if (pass == -1) {
		if (full_io(fd, hdr, 4, 1) == -1 ||
		    full_io(fd, buf, len, 1) == -1)
			goto lost;
		return;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov[0].iov_base = hdr;
	iov[0].iov_len = 4;
	iov[1].iov_base = buf;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &pass, sizeof(int));
	do {
		ctl_wait(fd, POLLOUT);
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n < 4)
		goto lost;
	/* The descriptor went with the first byte; the rest is plain. */
	if ((size_t)n < 4 + len && full_io(fd, buf + (n - 4),
	    4 + len - (size_t)n, 1) == -1)
		goto lost;
	return;
lost:
	fprintf(stderr, "wxgatectl: write: %s\n", strerror(errno));
	exit(EX_UNREACH);
}

void
ctl_send(int fd, uint32_t type, const void *body)
{
	ctl_send_fd(fd, type, body, -1);
}

void
ctl_recv(int fd, struct ipc_msg *m)
{
	uint8_t hdr[4];
	uint32_t len;
	enum ipc_err e;

	if (full_io(fd, hdr, 4, 0) == -1)
		goto lost;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > sizeof(buf) || full_io(fd, buf, len, 0) == -1)
		goto lost;
	if ((e = ipc_decode(buf, len, m)) != IPC_OK) {
		fprintf(stderr, "wxgatectl: bad answer: %s\n",
		    ipc_strerror(e));
		exit(EX_UNREACH);
	}
	return;
lost:
	fprintf(stderr, "wxgatectl: wxgated closed the connection\n");
	exit(EX_UNREACH);
}

/* Read until ctl.result; print its message when it says no. */
int
ctl_result(int fd, struct ipc_msg *m, int quiet)
{
	for (;;) {
		ctl_recv(fd, m);
		if (m->type != IPC_CTL_RESULT)
			return -1;
		if (!m->b.result.ok) {
			fprintf(stderr, "wxgatectl: %.*s\n",
			    (int)m->b.result.message.len,
			    m->b.result.message.p);
			return EX_REFUSED;
		}
		if (!quiet && m->b.result.message.len > 0)
			printf("%.*s\n", (int)m->b.result.message.len,
			    m->b.result.message.p);
		return 0;
	}
}

static void
fmt_uptime(uint64_t ms, char *out, size_t len)
{
	uint64_t s = ms / 1000;

	if (ms == 0)
		snprintf(out, len, "-");
	else if (s < 60)
		snprintf(out, len, "%llu.%llus", (unsigned long long)s,
		    (unsigned long long)(ms % 1000) / 100);
	else if (s < 3600)
		snprintf(out, len, "%llum%02llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else
		snprintf(out, len, "%lluh%02llum",
		    (unsigned long long)s / 3600,
		    (unsigned long long)(s % 3600) / 60);
}

static int
cmd_status(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };
	struct ipc_msg m;
	const struct ipc_body_ctl_worker *w = &m.b.ctl_worker;
	/* Channel connections, shown after the workers: name and state. */
	static char chan[CTL_CHANNELS_SHOWN][IPC_NAME_MAX + IPC_MESSAGE_MAX + 2];
	size_t i, nchan = 0;
	char up[32];

	(void)argc;
	(void)argv;
	ctl_send(fd, IPC_CTL_STATUS, &e);
	printf("%-16s %-8s %7s %-9s %8s %8s %8s %8s %7s  %s\n", "NAME",
	    "KIND", "PID", "STATE", "UPTIME", "RESTARTS", "IN", "OUT",
	    "SECCOMP", "LAST-EXIT");
	for (;;) {
		ctl_recv(fd, &m);
		if (m.type == IPC_CTL_RESULT)
			break;
		if (m.type != IPC_CTL_WORKER) {
			fprintf(stderr, "wxgatectl: unexpected %s\n",
			    ipc_type_name(m.type));
			return EX_UNREACH;
		}
		fmt_uptime(w->uptime_ms, up, sizeof(up));
		/* LAST-EXIT has spaces: it goes last, so columns stay split. */
		printf("%-16.*s %-8.*s %7llu %-9.*s %8s %8llu %8llu %8llu "
		    "%7llu  %.*s\n", (int)w->name.len, w->name.p,
		    (int)w->kind.len, w->kind.p, (unsigned long long)w->pid,
		    (int)w->state.len, w->state.p, up,
		    (unsigned long long)w->restarts,
		    (unsigned long long)w->msgs_in,
		    (unsigned long long)w->msgs_out,
		    (unsigned long long)w->seccomp_kills,
		    w->last_exit.len ? (int)w->last_exit.len : 1,
		    w->last_exit.len ? w->last_exit.p : "-");
		if (w->platform.len > 0 && nchan < CTL_CHANNELS_SHOWN)
			snprintf(chan[nchan++], sizeof(chan[0]), "%-16.*s %.*s",
			    (int)w->name.len, w->name.p, (int)w->platform.len,
			    w->platform.p);
	}
	/* A second table, after a blank line: the state may have spaces. */
	if (nchan > 0)
		printf("\n%-16s %s\n", "CHANNEL", "PLATFORM");
	for (i = 0; i < nchan; i++)
		printf("%s\n", chan[i]);
	return m.b.result.ok ? 0 : EX_REFUSED;
}

static int
cmd_restart(int fd, int argc, char **argv)
{
	struct ipc_body_name b;
	struct ipc_msg m;

	(void)argc;
	b.name = ipc_s(argv[0]);
	if (b.name.len == 0 || b.name.len > IPC_NAME_MAX)
		usage();
	ctl_send(fd, IPC_CTL_RESTART, &b);
	return ctl_result(fd, &m, 0);
}

static int
cmd_stop(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };
	struct ipc_msg m;

	(void)argc;
	(void)argv;
	ctl_send(fd, IPC_CTL_STOP, &e);
	return ctl_result(fd, &m, 0);
}

static int
cmd_test(int fd, int argc, char **argv)
{
	struct ipc_body_ctl_test b;
	struct ipc_msg m;

	(void)argc;
	if (ipc_msginfo(IPC_CTL_TEST) == NULL) {
		fprintf(stderr, "wxgatectl: built without test hooks\n");
		return EX_USAGE;
	}
	b.name = ipc_s(argv[0]);
	b.action = ipc_s(argv[1]);
	if (b.name.len == 0 || b.name.len > IPC_NAME_MAX ||
	    b.action.len == 0 || b.action.len > IPC_NAME_MAX)
		usage();
	ctl_send(fd, IPC_CTL_TEST, &b);
	return ctl_result(fd, &m, 0);
}

/* A decimal count from 1 to max, nothing around it: 0, or -1. */
int
parse_count(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 || *v > max ? -1 : 0;
}

/*
 * A duration: a number and one unit of s, m, h or d; a bare number is
 * seconds.  -1 for anything else, zero included.
 */
long long
parse_ttl(const char *s)
{
	static const struct { char unit; unsigned long long mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	unsigned long long n;
	char *end;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || n == 0 || n > CTL_SHARE_TTL_MAX)
		return -1;
	if (*end == '\0')
		return (long long)n;
	if (end[1] != '\0')
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == *end) {
			if (n > CTL_SHARE_TTL_MAX / units[i].mult)
				return -1;
			return (long long)(n * units[i].mult);
		}
	return -1;
}

int
subcmd_run(const struct subcmd *t, size_t n, int fd, int argc, char **argv)
{
	size_t i;

	if (argc < 1)
		usage();
	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, argv[0]) == 0)
			return t[i].fn(fd, argc - 1, argv + 1);
	usage();
}

static int
cmd_share(int fd, int argc, char **argv)
{
	return subcmd_run(share_cmds, sizeof(share_cmds) /
	    sizeof(share_cmds[0]), fd, argc, argv);
}

static int
share_create(int fd, int argc, char **argv)
{
	struct ipc_body_share_create b;
	long long ttl = CTL_SHARE_TTL_DEFAULT;
	unsigned long long sess;
	int i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--read-only") == 0)
			b.read_only = 1;
		else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
			if ((ttl = parse_ttl(argv[++i])) == -1) {
				fprintf(stderr, "wxgatectl: bad ttl: %s\n",
				    argv[i]);
				return EX_USAGE;
			}
		} else if (strcmp(argv[i], "--session") == 0 &&
		    i + 1 < argc) {
			if (parse_count(argv[++i], INT64_MAX, &sess) == -1) {
				fprintf(stderr, "wxgatectl: bad session: "
				    "%s\n", argv[i]);
				return EX_USAGE;
			}
			b.session = sess;
		} else
			usage();
	}
	b.ttl_s = (uint64_t)ttl;
	ctl_send(fd, IPC_CTL_SHARE_CREATE, &b);
	return ctl_url(fd);
}

/*
 * A ctl.result whose message is a link to open on a phone (share,
 * bind): the URL, then its QR code.
 */
int
ctl_url(int fd)
{
	struct ipc_msg m;
	char url[IPC_MESSAGE_MAX + 1];
	int rv;

	if ((rv = ctl_result(fd, &m, 1)) != 0)
		return rv;
	snprintf(url, sizeof(url), "%.*s", (int)m.b.result.message.len,
	    m.b.result.message.p);
	printf("%s\n", url);
	/* The URL is the answer; a terminal without the glyphs still has it. */
	if (qr_print_utf8(stdout, url) == -1)
		fprintf(stderr, "wxgatectl: cannot draw the QR code\n");
	return 0;
}

void
fmt_time(uint64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Rows of one type until the closing result, each printed by fn: the
 * shape of every listing.
 */
int
ctl_rows(int fd, uint32_t type, void (*fn)(const struct ipc_msg *))
{
	struct ipc_msg m;

	for (;;) {
		ctl_recv(fd, &m);
		if (m.type == IPC_CTL_RESULT)
			break;
		if (m.type != type) {
			fprintf(stderr, "wxgatectl: unexpected %s\n",
			    ipc_type_name(m.type));
			return EX_UNREACH;
		}
		fn(&m);
	}
	if (!m.b.result.ok) {
		fprintf(stderr, "wxgatectl: %.*s\n",
		    (int)m.b.result.message.len, m.b.result.message.p);
		return EX_REFUSED;
	}
	return 0;
}

static void
share_row(const struct ipc_msg *m)
{
	const struct ipc_body_share_row *r = &m->b.share_row;
	char created[32], expires[32], revoked[32], session[24];

	fmt_time(r->created, created, sizeof(created));
	fmt_time(r->expires, expires, sizeof(expires));
	fmt_time(r->revoked, revoked, sizeof(revoked));
	/* A link for new chats names no session: each visitor's. */
	if (r->session == 0)
		snprintf(session, sizeof(session), "-");
	else
		snprintf(session, sizeof(session), "%llu",
		    (unsigned long long)r->session);
	printf("%-12.*s %-20s %-20s %-9s %7s  %s\n", (int)r->hash.len,
	    r->hash.p, created, expires, r->read_only ? "yes" : "no",
	    session, revoked);
}

static int
share_list(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argv;
	if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_SHARE_LIST, &e);
	printf("%-12s %-20s %-20s %-9s %7s  %s\n", "HASH", "CREATED",
	    "EXPIRES", "READ-ONLY", "SESSION", "REVOKED");
	return ctl_rows(fd, IPC_CTL_SHARE, share_row);
}

/* A subcommand whose one argument is a name, id or code. */
int
name_cmd(int fd, int argc, char **argv, uint32_t type)
{
	struct ipc_body_name b;
	struct ipc_msg m;

	if (argc != 1)
		usage();
	b.name = ipc_s(argv[0]);
	if (b.name.len == 0 || b.name.len > IPC_NAME_MAX)
		usage();
	ctl_send(fd, type, &b);
	return ctl_result(fd, &m, 0);
}

static int
share_revoke(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_SHARE_REVOKE);
}

static int
cmd_pairing(int fd, int argc, char **argv)
{
	return subcmd_run(pairing_cmds, sizeof(pairing_cmds) /
	    sizeof(pairing_cmds[0]), fd, argc, argv);
}

static void
pairing_row(const struct ipc_msg *m)
{
	const struct ipc_body_pairing_row *r = &m->b.pairing_row;
	char created[32], expires[32];

	fmt_time(r->created, created, sizeof(created));
	fmt_time(r->expires, expires, sizeof(expires));
	/* PEER is whatever the platform calls a sender: last. */
	printf("%-12.*s %-16.*s %-20s %-20s  %.*s\n", (int)r->code.len,
	    r->code.p, (int)r->account.len, r->account.p, created, expires,
	    (int)r->peer.len, r->peer.p);
}

static int
pairing_list(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argv;
	if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_PAIRING_LIST, &e);
	printf("%-12s %-16s %-20s %-20s  %s\n", "CODE", "ACCOUNT", "CREATED",
	    "EXPIRES", "PEER");
	return ctl_rows(fd, IPC_CTL_PAIRING, pairing_row);
}


static int
pairing_approve(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_PAIRING_APPROVE);
}

static int
pairing_deny(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_PAIRING_DENY);
}

static void
audit_row(const struct ipc_msg *m)
{
	const struct ipc_body_audit_row *r = &m->b.audit_row;
	char when[32], session[24];

	fmt_time(r->time, when, sizeof(when));
	if (r->session == 0)
		snprintf(session, sizeof(session), "-");
	else
		snprintf(session, sizeof(session), "%llu",
		    (unsigned long long)r->session);
	printf("%-20s %-9.*s %-16.*s %7s %-24.*s %.*s\n", when,
	    (int)r->role.len, r->role.p, (int)r->worker.len, r->worker.p,
	    session, (int)r->method.len, r->method.p, (int)r->detail.len,
	    r->detail.p);
}

/* The newest denials, oldest first: what policy refused, and whom. */
static int
cmd_audit(int fd, int argc, char **argv)
{
	struct ipc_body_seq b = { 0 };
	unsigned long long n;

	if (argc == 2 && strcmp(argv[0], "-n") == 0) {
		if (parse_count(argv[1], 10000, &n) == -1) {
			fprintf(stderr, "wxgatectl: -n %s: not 1..10000\n",
			    argv[1]);
			return EX_USAGE;
		}
		b.seq = n;
	} else if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_AUDIT_LIST, &b);
	printf("%-20s %-9s %-16s %7s %-24s %s\n", "TIME", "ROLE", "WORKER",
	    "SESSION", "METHOD", "DETAIL");
	return ctl_rows(fd, IPC_CTL_AUDIT, audit_row);
}

/*
 * The URL a channel waiting for a QR login shows: 1 and url, 0 when it
 * waits for none (*why says so), or the exit code of another refusal.
 */
static int
login_url(int fd, const char *name, char *url, size_t len, int *status)
{
	struct ipc_body_login_req b;
	struct ipc_msg m;

	b.name = ipc_s(name);
	b.code = IPC_S("");
	ctl_send(fd, IPC_CTL_LOGIN, &b);
	ctl_recv(fd, &m);
	if (m.type != IPC_CTL_RESULT)
		exit(EX_UNREACH);
	snprintf(url, len, "%.*s", (int)m.b.result.message.len,
	    m.b.result.message.p);
	if (m.b.result.ok)
		return 1;
	if (strstr(url, "not waiting") != NULL)
		return 0;
	fprintf(stderr, "wxgatectl: %s\n", url);
	*status = EX_REFUSED;
	return -1;
}

/* The platform state `status` shows for the channel's worker; "" none. */
static void
login_platform(int fd, const char *name, char *out, size_t len)
{
	struct ipc_body_empty e = { 0 };
	const struct ipc_body_ctl_worker *w;
	struct ipc_msg m;
	const char *dot;

	out[0] = '\0';
	ctl_send(fd, IPC_CTL_STATUS, &e);
	for (;;) {
		ctl_recv(fd, &m);
		if (m.type == IPC_CTL_RESULT)
			return;
		if (m.type != IPC_CTL_WORKER)
			exit(EX_UNREACH);
		w = &m.b.ctl_worker;
		/* "wechat.alice": the account is what follows the kind. */
		if ((dot = memchr(w->name.p, '.', w->name.len)) != NULL &&
		    w->name.len - (size_t)(dot + 1 - w->name.p) ==
		    strlen(name) && memcmp(dot + 1, name, strlen(name)) == 0)
			snprintf(out, len, "%.*s", (int)w->platform.len,
			    w->platform.p);
	}
}

static void
login_show(const char *name, const char *url)
{
	printf("Scan with WeChat to log in %s:\n%s\n", name, url);
	if (qr_print_utf8(stdout, url) == -1)
		fprintf(stderr, "wxgatectl: cannot draw the QR code\n");
	fflush(stdout);
}

/*
 * A channel waiting for a QR login: its code, drawn to scan, then what
 * happens to it (scanned, expired and replaced by a new one, confirmed)
 * until the account is logged in (exit 0) or the wait is over (1).
 * --no-wait shows the code and returns; with a code (the number the
 * phone shows after the scan) it is passed on.
 */
static int
cmd_login(int fd, int argc, char **argv)
{
	struct ipc_body_login_req b;
	struct ipc_msg m;
	struct timespec ts = { 1, 0 };
	char url[IPC_URL_MAX + 1], shown[IPC_URL_MAX + 1];
	char state[IPC_MESSAGE_MAX + 1];
	int rv = 0, wait = 1, scanned = 0;
	time_t until;

	if (argc >= 1 && strcmp(argv[0], "--no-wait") == 0) {
		wait = 0;
		argc--;
		argv++;
	}
	if (argc != 1 && argc != 2)
		usage();
	b.name = ipc_s(argv[0]);
	b.code = ipc_s(argc == 2 ? argv[1] : "");
	if (b.name.len == 0 || b.name.len > IPC_NAME_MAX ||
	    (argc == 2 && (b.code.len == 0 || b.code.len > 16 ||
	    strspn(argv[1], "0123456789") != b.code.len)))
		usage();
	if (argc == 2) {
		ctl_send(fd, IPC_CTL_LOGIN, &b);
		if ((rv = ctl_result(fd, &m, 1)) != 0)
			return rv;
		printf("code sent to %s\n", argv[0]);
		return 0;
	}
	switch (login_url(fd, argv[0], url, sizeof(url), &rv)) {
	case -1:
		return rv;
	case 0:
		fprintf(stderr, "wxgatectl: %s\n", url);
		return EX_REFUSED;
	}
	login_show(argv[0], url);
	if (!wait)
		return 0;
	snprintf(shown, sizeof(shown), "%s", url);
	until = time(NULL) + CTL_LOGIN_WAIT_S;
	while (time(NULL) < until) {
		nanosleep(&ts, NULL);
		login_platform(fd, argv[0], state, sizeof(state));
		if (strcmp(state, "scanned") == 0 && !scanned) {
			printf("Scanned: confirm on the phone.\n");
			fflush(stdout);
			scanned = 1;
		}
		switch (login_url(fd, argv[0], url, sizeof(url), &rv)) {
		case -1:
			return rv;
		case 0:
			/* No code shown: logged in, once the worker says so. */
			if (strcmp(state, "polling") == 0) {
				printf("Logged in.\n");
				return 0;
			}
			continue;
		}
		if (strcmp(url, shown) != 0) {
			printf("The code expired; a new one:\n");
			login_show(argv[0], url);
			snprintf(shown, sizeof(shown), "%s", url);
			scanned = 0;
		}
	}
	fprintf(stderr, "wxgatectl: %s is still not logged in after %d s\n",
	    argv[0], CTL_LOGIN_WAIT_S);
	return EX_REFUSED;
}

static void
stat_row(const struct ipc_msg *m)
{
	printf("%.*s\n", (int)m->b.name.name.len, m->b.name.name.p);
}

/* The store's numbers; latencies since the previous stats. */
static int
cmd_stats(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argc;
	(void)argv;
	ctl_send(fd, IPC_CTL_STATS, &e);
	return ctl_rows(fd, IPC_CTL_STAT, stat_row);
}

static void
text_row(const struct ipc_msg *m)
{
	fwrite(m->b.text.text.p, 1, m->b.text.text.len, stdout);
}

/* Prometheus' text exposition, as the hub renders it. */
static int
cmd_metrics(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argc;
	(void)argv;
	ctl_send(fd, IPC_CTL_METRICS, &e);
	return ctl_rows(fd, IPC_CTL_TEXT, text_row);
}

/* Outbox rows: what send queued, and what outbox shows. */
static struct {
	uint64_t	 id;
	int		 final;		/* not queued */
	int		 sent;
} rows[CTL_SEND_PARTS];
static int	nrows;

static void
delivery_print(const struct ipc_body_delivery_row *r)
{
	printf("%llu %.*s %.*s %.*s%s%.*s\n", (unsigned long long)r->id,
	    (int)r->state.len, r->state.p, (int)r->channel.len, r->channel.p,
	    (int)r->target.len, r->target.p, r->detail.len ? ": " : "",
	    (int)r->detail.len, r->detail.p);
}

/* Keep (or update) the row; print it when asked. */
static void
delivery_row(const struct ipc_msg *m)
{
	const struct ipc_body_delivery_row *r = &m->b.delivery_row;
	int i;

	for (i = 0; i < nrows && rows[i].id != r->id; i++)
		;
	if (i == nrows) {
		if (nrows == CTL_SEND_PARTS)
			return;
		rows[nrows++].id = r->id;
	}
	rows[i].final = !ipc_streq(r->state, "queued");
	rows[i].sent = ipc_streq(r->state, "sent");
}

static void
delivery_row_print(const struct ipc_msg *m)
{
	delivery_row(m);
	delivery_print(&m->b.delivery_row);
}

/* 0 every row sent, EX_REFUSED one failed or is still queued. */
static int
delivery_verdict(void)
{
	int i;

	for (i = 0; i < nrows; i++)
		if (!rows[i].sent)
			return EX_REFUSED;
	return 0;
}

/*
 * The file's size bytes copied into a sealed memfd: wxgated reads
 * that, from memory, so a file on a slow mount stalls this process
 * and never the hub's loop.  One read past size tells a file that
 * grew; -1 with why on stderr.
 */
static int
send_copy(int in, size_t size, const char *path)
{
	char chunk[65536];
	size_t off = 0;
	ssize_t n, w;
	int fd;

	if ((fd = memfd_create("wxgatectl-send", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		fprintf(stderr, "wxgatectl: memfd_create: %s\n",
		    strerror(errno));
		return -1;
	}
	for (;;) {
		n = read(in, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "wxgatectl: %s: %s\n", path,
			    strerror(errno));
			goto bad;
		}
		if (n == 0)
			break;
		if (off + (size_t)n > size)
			break;
		for (w = 0; w < n; ) {
			ssize_t k = write(fd, chunk + w, (size_t)(n - w));

			if (k == -1 && errno == EINTR)
				continue;
			if (k == -1) {
				fprintf(stderr, "wxgatectl: memfd: %s\n",
				    strerror(errno));
				goto bad;
			}
			w += k;
		}
		off += (size_t)n;
	}
	if (off != size || n != 0) {
		fprintf(stderr, "wxgatectl: %s: the file changed while it was "
		    "read\n", path);
		goto bad;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		fprintf(stderr, "wxgatectl: F_ADD_SEALS: %s\n",
		    strerror(errno));
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

/*
 * send --file: the file opened here, with the caller's rights (wxgated
 * never opens a path a client names), and checked before anything is
 * queued: a regular file of 1 to IPC_FILE_MAX bytes.  A sealed memfd
 * of its bytes (send_copy), or EX_USAGE with why on stderr.
 */
static int
send_open(const char *path, struct ipc_str *name)
{
	struct stat sb;
	const char *base;
	int fd, mfd = -1;

	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	*name = ipc_s(base);
	if (name->len == 0 || name->len > IPC_FILENAME_MAX) {
		fprintf(stderr, "wxgatectl: %s: the file's name must be 1 to "
		    "%d bytes\n", path, IPC_FILENAME_MAX);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		fprintf(stderr, "wxgatectl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		fprintf(stderr, "wxgatectl: %s: %s\n", path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "wxgatectl: %s: not a regular file\n", path);
		goto bad;
	}
	if (sb.st_size == 0 || sb.st_size > IPC_FILE_MAX) {
		fprintf(stderr, "wxgatectl: %s: %lld bytes; an attachment has "
		    "1 to %d\n", path, (long long)sb.st_size, IPC_FILE_MAX);
		goto bad;
	}
	mfd = send_copy(fd, (size_t)sb.st_size, path);
bad:
	close(fd);
	return mfd;
}

/* What `send` was asked: options first, then channel target [text]. */
struct send_args {
	long long	 wait;		/* -1: print the rows and go */
	const char	*file;
	char		**pos;
	int		 npos;
};

static void
send_args(int argc, char **argv, struct send_args *sa)
{
	int i = 0, k, has_file = 0, rest;

	for (k = 0; k + 1 < argc; k++)
		if (strcmp(argv[k], "--file") == 0)
			has_file = 1;
	sa->wait = -1;
	sa->file = NULL;
	for (;;) {
		if (i + 1 < argc && strcmp(argv[i], "--file") == 0) {
			sa->file = argv[i + 1];
			i += 2;
		} else if (i < argc && strcmp(argv[i], "--wait") == 0) {
			sa->wait = CTL_WAIT_DEFAULT_S;
			i++;
			/*
			 * Seconds, when what follows still holds the
			 * channel, the target and (without --file) text.
			 */
			rest = argc - i - 1 - (has_file && sa->file == NULL ?
			    2 : 0);
			if (i < argc && parse_ttl(argv[i]) != -1 &&
			    rest >= (has_file ? 2 : 3))
				sa->wait = parse_ttl(argv[i++]);
		} else
			break;
	}
	sa->pos = argv + i;
	sa->npos = argc - i;
}

/* Follow the rows until each has ended or the time is up. */
static int
send_follow(int fd, long long wait)
{
	struct ipc_body_seq q;
	struct timespec ts = { 0, CTL_WAIT_POLL_MS * 1000000L };
	time_t until;
	int i, rv, done;

	until = time(NULL) + (time_t)wait;
	for (;;) {
		done = 1;
		for (i = 0; i < nrows; i++)
			done &= rows[i].final;
		if (done || time(NULL) >= until)
			break;
		nanosleep(&ts, NULL);
		for (i = 0; i < nrows; i++) {
			if (rows[i].final)
				continue;
			q.seq = rows[i].id;
			ctl_send(fd, IPC_CTL_OUTBOX, &q);
			if ((rv = ctl_rows(fd, IPC_CTL_DELIVERY,
			    delivery_row)) != 0)
				return rv;
		}
	}
	/* Where each part ended, or stands when time ran out. */
	for (i = 0; i < nrows; i++) {
		q.seq = rows[i].id;
		ctl_send(fd, IPC_CTL_OUTBOX, &q);
		if ((rv = ctl_rows(fd, IPC_CTL_DELIVERY,
		    delivery_row_print)) != 0)
			return rv;
	}
	return delivery_verdict();
}

/*
 * wxgatectl send: through the outbox like any reply.  Without --wait it
 * prints each part's id and state (queued) for `outbox` later; with it,
 * it asks until every part is sent, failed or undeliverable, or the
 * time is up, and prints where each ended.  With --file, text is a
 * caption: its own text row, queued right after the file's and only
 * when the file was taken, so a refused file leaves no caption alone.
 */
static int
cmd_send(int fd, int argc, char **argv)
{
	struct ipc_body_ctl_send b;
	struct ipc_body_send_file sf;
	struct send_args sa;
	int rv, ffd = -1;

	send_args(argc, argv, &sa);
	if (sa.npos != 3 && !(sa.file != NULL && sa.npos == 2))
		usage();
	b.channel = ipc_s(sa.pos[0]);
	b.target = ipc_s(sa.pos[1]);
	b.text = ipc_s(sa.npos == 3 ? sa.pos[2] : "");
	if (b.channel.len == 0 || b.channel.len > IPC_NAME_MAX ||
	    b.target.len == 0 || b.target.len > IPC_PEER_MAX ||
	    (sa.npos == 3 && b.text.len == 0) || b.text.len > IPC_TEXT_MAX) {
		fprintf(stderr, "wxgatectl: channel, target and text must not "
		    "be empty; text at most %d bytes\n", IPC_TEXT_MAX);
		return EX_USAGE;
	}
	if (sa.file != NULL && (ffd = send_open(sa.file, &sf.name)) == -1)
		return EX_USAGE;
	/* The file first: a refused one leaves no caption behind. */
	if (ffd != -1) {
		sf.channel = b.channel;
		sf.target = b.target;
		sf.kind = ipc_s("");	/* wxgated decides from the bytes */
		ctl_send_fd(fd, IPC_CTL_SEND_FILE, &sf, ffd);
		close(ffd);
		if ((rv = ctl_rows(fd, IPC_CTL_DELIVERY, sa.wait < 0 ?
		    delivery_row_print : delivery_row)) != 0)
			return rv;
	}
	if (sa.npos == 3) {
		ctl_send(fd, IPC_CTL_SEND, &b);
		if ((rv = ctl_rows(fd, IPC_CTL_DELIVERY, sa.wait < 0 ?
		    delivery_row_print : delivery_row)) != 0)
			return rv;
	}
	if (sa.wait < 0)
		return 0;
	return send_follow(fd, sa.wait);
}

/* The rows named: where each stands. */
static int
cmd_outbox(int fd, int argc, char **argv)
{
	struct ipc_body_seq q;
	unsigned long long id;
	int i, rv, worst = 0;

	if (argc < 1)
		usage();
	for (i = 0; i < argc; i++) {
		if (parse_count(argv[i], INT64_MAX, &id) == -1) {
			fprintf(stderr, "wxgatectl: bad outbox id: %s\n",
			    argv[i]);
			return EX_USAGE;
		}
		q.seq = id;
		ctl_send(fd, IPC_CTL_OUTBOX, &q);
		if ((rv = ctl_rows(fd, IPC_CTL_DELIVERY,
		    delivery_row_print)) != 0)
			worst = rv;
	}
	return worst;
}

int
main(int argc, char *argv[])
{
	const char *sock;
	size_t i;
	int ch, fd;

	ipc_catalogue_all();
	if ((sock = getenv("WXGATE_CONTROL")) == NULL)
		sock = CTL_DEFAULT_SOCK;
	while ((ch = getopt(argc, argv, "+s:t:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 't':
			if (parse_count(optarg, CTL_TIMEOUT_MAX_S,
			    &ctl_timeout_s) == -1) {
				fprintf(stderr, "wxgatectl: -t %s: not 1..%d "
				    "seconds\n", optarg, CTL_TIMEOUT_MAX_S);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, argv[0]) != 0)
			continue;
		if (cmds[i].argc != CTL_ARGS_ANY && argc - 1 != cmds[i].argc)
			usage();
		fd = ctl_connect(sock);
		return cmds[i].fn(fd, argc - 1, argv + 1);
	}
	usage();
}
