/*
 * The command backend: a long-lived program (agents[].command.argv)
 * that reads one JSON request per line on stdin and writes JSON lines
 * on stdout; the protocol is in README.md ("Command agents"):
 *
 *   in:  {"id": N, "messages": [{"role": "...", "content": "..."}, ...]}
 *        {"id": N, "messages": [...], "attachments": [{"kind": "image",
 *         "name": "...", "size": N}, ...]}
 *        {"id": N, "abort": true}
 *   out: {"id": N, "delta": "text"}  ...  {"id": N, "done": true}
 *        {"id": N, "file": {"name": "...", "kind": "image"|"file",
 *         "data": "<base64>"}}        a file the reply carries
 *        {"id": N, "error": "message"}
 *
 * The agent worker forks the program before its own sandbox, as the
 * sandbox user already (worker.c drops root first): the child gets
 * PR_SET_PDEATHSIG, a Unix socket on 0 and a pipe on 1, every other fd
 * closed,
 * rlimits, no_new_privs and the interpreter allowlist of
 * sandbox/profile_command.c, then execve.  The
 * worker keeps only its two ends (sandbox_keep_fd) and sandboxes
 * itself as any agent.  stdin is a socket so that a request's
 * attachments can come with it: one sealed memfd per attachment, passed
 * (SCM_RIGHTS) with the first byte of its line, in the order the line
 * lists them; a program that reads stdin with read() gets the line and
 * the kernel drops the descriptors.  Never a path: the program needs no
 * access to the state directory, and gets none.  The program's stdout is untrusted input: lines
 * are bounded, parsed strictly, and a line naming no running request is
 * dropped.  The id the program sees is the worker's own and never
 * reused: after sup.resync a new hub may reuse the old one's ids, and a
 * late line for an aborted request must not answer a new one.  When the
 * program exits the worker exits too, and the supervisor restarts both,
 * with backoff, and re-sends what was running.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "agent.h"
#include "b64.h"
#include "codec.h"
#include "log.h"
#include "sandbox.h"
#include "worker.h"
#include "xmalloc.h"

/*
 * One line from the program: a whole reply as one delta, or a file in
 * base64, plus JSON.
 */
#define CMD_LINE_MAX	(IPC_FILE_MAX / 3 * 4 + 64 * 1024)
/* Requests written but not yet read by the program. */
#define CMD_OUTBUF_MAX	(16 * 1024 * 1024)
/* The program's own descriptors: plenty for an interpreter. */
#define CMD_NOFILE	256

/* A line that waits for the ones before it to be written. */
struct cmdout {
	TAILQ_ENTRY(cmdout)	 entry;
	char			*line;		/* with its newline */
	size_t			 len;
	int			 fds[IPC_PARTS_MAX];
	size_t			 nfds;
};

struct cmdreq {
	TAILQ_ENTRY(cmdreq)	 entry;
	struct agent_req	*req;
	uint64_t		 id;		/* the program's, not the hub's */
	struct event		*tmo;
	int			 ended;		/* the program is done with it */
};

static char		**cmd_argv;
static long		  cmd_timeout_s = 60;
static int		  cmd_to = -1;		/* its stdin */
static int		  cmd_from = -1;	/* its stdout */
static pid_t		  cmd_pid = -1;
static struct bufferevent *bev_to, *bev_from;
static TAILQ_HEAD(, cmdreq) cmds = TAILQ_HEAD_INITIALIZER(cmds);
static TAILQ_HEAD(, cmdout) cmd_pending =
    TAILQ_HEAD_INITIALIZER(cmd_pending);
static size_t		  cmd_pending_bytes;
static struct event	 *cmd_wev;	/* the socket takes more */
static uint64_t		  cmd_next_id = 1;

static int	cmd_init(json_t *);
static int	cmd_post_sandbox(void);
static int	cmd_start(struct agent_req *,
		    const struct ipc_body_agent_request *);
static void	cmd_cancel(struct agent_req *);
static void	cmd_child(int, int) __attribute__((noreturn));
static void	cmd_read(struct bufferevent *, void *);
static void	cmd_event(struct bufferevent *, short, void *);
static void	cmd_line(const char *, size_t);
static void	cmd_timeout(evutil_socket_t, short, void *);
static void	cmd_write(json_t *);
static void	cmd_write_fds(json_t *, const int *, size_t);
static void	cmd_flush(struct bufferevent *, void *);
static void	cmd_writable(evutil_socket_t, short, void *);
static int	cmd_part_fd(const struct agent_part *);
static int	cmd_memfd(const uint8_t *, size_t);
static void	cmd_file(struct agent_req *, json_t *);

const struct agent_backend agent_command = {
	"command", "agent-command", cmd_init, cmd_post_sandbox, cmd_start,
	cmd_cancel, NULL
};

static int
cmd_init(json_t *conf)
{
	json_t *argv = json_object_get(conf, "argv"), *v;
	long long t;
	int to[2], from[2];
	size_t i, n;

	if (!json_is_array(argv) || (n = json_array_size(argv)) == 0)
		return -1;
	cmd_argv = xcalloc(n + 1, sizeof(char *));
	json_array_foreach(argv, i, v) {
		if (!json_is_string(v))
			return -1;
		cmd_argv[i] = xstrdup(json_string_value(v));
	}
	if (wk_conf_int(conf, "timeout_s", cmd_timeout_s, 1, 3600, &t) == -1)
		return -1;
	cmd_timeout_s = (long)t;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, to) == -1 ||
	    pipe2(from, O_CLOEXEC) == -1) {
		log_warn("%s: socketpair, pipe2", __func__);
		return -1;
	}
	switch (cmd_pid = fork()) {
	case -1:
		log_warn("%s: fork", __func__);
		return -1;
	case 0:
		cmd_child(to[0], from[1]);
		/* NOTREACHED */
	}
	close(to[0]);
	close(from[1]);
	cmd_to = to[1];
	cmd_from = from[0];
	sandbox_keep_fd(cmd_to);
	sandbox_keep_fd(cmd_from);
	log_info("%s: started %s, pid %d", __func__, cmd_argv[0],
	    (int)cmd_pid);
	return 0;
}

/*
 * In the forked child: the program's sandbox, then execve.  Any failure
 * is _exit(127): the worker sees EOF and exits, and the log says why.
 */
static void
cmd_child(int in, int out)
{
	static char *const envp[] = {
		"PATH=/usr/bin:/bin", "LANG=C.UTF-8",
		/* No __pycache__ writes (denied anyway). */
		"PYTHONDONTWRITEBYTECODE=1", NULL
	};
	struct rlimit rl;
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		_exit(127);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
		_exit(127);
	/* stderr stays: the program's complaints reach wxgated's log. */
	if (close_range(3, ~0U, 0) == -1)
		for (fd = 3; fd < CMD_NOFILE; fd++)
			(void)close(fd);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		_exit(127);
	rl.rlim_cur = rl.rlim_max = CMD_NOFILE;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		_exit(127);
	/* sandbox_drop refuses root: never the program's. */
	if (getuid() == 0 || geteuid() == 0)
		_exit(127);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(127);
	if (sandbox_seccomp_child() == -1)
		_exit(127);
	execve(cmd_argv[0], cmd_argv, envp);
	_exit(127);
}

static int
cmd_post_sandbox(void)
{
	bev_to = bufferevent_socket_new(worker_base(), cmd_to,
	    BEV_OPT_CLOSE_ON_FREE);
	bev_from = bufferevent_socket_new(worker_base(), cmd_from,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev_to == NULL || bev_from == NULL)
		return -1;
	evutil_make_socket_nonblocking(cmd_to);
	evutil_make_socket_nonblocking(cmd_from);
	bufferevent_setcb(bev_from, cmd_read, NULL, cmd_event, NULL);
	bufferevent_setcb(bev_to, NULL, cmd_flush, cmd_event, NULL);
	if ((cmd_wev = event_new(worker_base(), cmd_to, EV_WRITE,
	    cmd_writable, NULL)) == NULL)
		return -1;
	bufferevent_enable(bev_from, EV_READ);
	bufferevent_enable(bev_to, EV_WRITE);
	return 0;
}

static void
cmd_write(json_t *o)
{
	cmd_write_fds(o, NULL, 0);
}

/*
 * A line, and the descriptors that go with its first byte (taken: the
 * program has its own copies once it is sent).  Lines go in order, so
 * once one waits for the socket, every later one waits behind it.
 */
static void
cmd_write_fds(json_t *o, const int *fds, size_t nfds)
{
	struct cmdout *w;
	char *s;

	if ((s = jsonalloc_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: jsonalloc_dumps", __func__);
	json_decref(o);
	/* A program that stopped reading is stuck: restart it. */
	if (evbuffer_get_length(bufferevent_get_output(bev_to)) +
	    cmd_pending_bytes > CMD_OUTBUF_MAX)
		fatalx("%s: the command agent stopped reading", __func__);
	if (nfds == 0 && TAILQ_EMPTY(&cmd_pending)) {
		bufferevent_write(bev_to, s, strlen(s));
		bufferevent_write(bev_to, "\n", 1);
		free(s);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	xasprintf(&w->line, "%s\n", s);
	free(s);
	w->len = strlen(w->line);
	memcpy(w->fds, fds, nfds * sizeof(fds[0]));
	w->nfds = nfds;
	TAILQ_INSERT_TAIL(&cmd_pending, w, entry);
	cmd_pending_bytes += w->len;
	cmd_flush(bev_to, NULL);
}

static void
cmd_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	cmd_flush(bev_to, NULL);
}

/* One attachment as its own sealed memfd, read from offset 0. */
static int
cmd_part_fd(const struct agent_part *a)
{
	return cmd_memfd(a->data, a->size);
}

static int
cmd_memfd(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("wxgate-attachment", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	/* pwrite: the offset the program shares stays 0 for its read(). */
	while (off < size) {
		n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto bad;
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

/* The first line's bytes and its descriptors in one sendmsg. */
static ssize_t
cmd_sendfds(const struct cmdout *w)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * IPC_PARTS_MAX)];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = w->line;
	iov.iov_len = w->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * w->nfds);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * w->nfds);
	memcpy(CMSG_DATA(c), w->fds, sizeof(int) * w->nfds);
	do
		n = sendmsg(cmd_to, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	return n;
}

/*
 * Written out (the bufferevent's write callback) or a new line: what
 * waits goes while the socket is ours alone, that is while the
 * bufferevent holds nothing (its bytes would otherwise come after).
 */
static void
cmd_flush(struct bufferevent *bev, void *arg)
{
	struct cmdout *w;
	size_t i;
	ssize_t n;

	(void)arg;
	while ((w = TAILQ_FIRST(&cmd_pending)) != NULL &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		if (w->nfds > 0) {
			if ((n = cmd_sendfds(w)) == -1) {
				if (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != ENOBUFS)
					fatal("%s: sendmsg", __func__);
				/* Full: wake when it is not. */
				event_add(cmd_wev, NULL);
				return;
			}
			if ((size_t)n < w->len)
				bufferevent_write(bev, w->line + n,
				    w->len - (size_t)n);
		} else
			bufferevent_write(bev, w->line, w->len);
		TAILQ_REMOVE(&cmd_pending, w, entry);
		cmd_pending_bytes -= w->len;
		for (i = 0; i < w->nfds; i++)
			close(w->fds[i]);
		free(w->line);
		free(w);
	}
}

static int
cmd_start(struct agent_req *r, const struct ipc_body_agent_request *b)
{
	struct timeval tv = { cmd_timeout_s, 0 };
	int fds[IPC_PARTS_MAX];
	struct cmdreq *c;
	json_t *msgs, *att, *o;
	size_t i, j;

	msgs = json_array();
	for (i = 0; i < b->turns.n; i++)
		json_array_append_new(msgs, json_pack("{s:s%, s:s%}",
		    "role", b->turns.v[i].role.p, b->turns.v[i].role.len,
		    "content", b->turns.v[i].text.p,
		    b->turns.v[i].text.len));
	c = xcalloc(1, sizeof(*c));
	c->req = r;
	c->id = cmd_next_id++;
	c->tmo = evtimer_new(worker_base(), cmd_timeout, c);
	evtimer_add(c->tmo, &tv);
	TAILQ_INSERT_TAIL(&cmds, c, entry);
	r->priv = c;
	o = json_pack("{s:I, s:o}", "id", (json_int_t)c->id, "messages", msgs);
	if (r->nparts == 0) {
		cmd_write(o);
		return 0;
	}
	att = json_array();
	for (i = 0; i < r->nparts; i++) {
		if ((fds[i] = cmd_part_fd(&r->parts[i])) == -1) {
			log_warn("command: an attachment's memfd");
			for (j = 0; j < i; j++)
				close(fds[j]);
			json_decref(att);
			json_decref(o);
			/* cancel must not tell the program of it. */
			c->ended = 1;
			return -1;
		}
		json_array_append_new(att, json_pack("{s:s, s:s, s:I}",
		    "kind", r->parts[i].kind, "name", r->parts[i].name,
		    "size", (json_int_t)r->parts[i].size));
	}
	json_object_set_new(o, "attachments", att);
	cmd_write_fds(o, fds, r->nparts);
	return 0;
}

static void
cmd_cancel(struct agent_req *r)
{
	struct cmdreq *c = r->priv;

	if (c == NULL)
		return;
	/* Aborted by the supervisor: tell the program to stop. */
	if (!c->ended)
		cmd_write(json_pack("{s:I, s:b}", "id", (json_int_t)c->id,
		    "abort", 1));
	TAILQ_REMOVE(&cmds, c, entry);
	event_free(c->tmo);
	free(c);
	r->priv = NULL;
}

/*
 * The program is told to stop (cancel writes the abort line); it may
 * ignore that: its later lines for the request find nothing.
 */
static void
cmd_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct cmdreq *c = arg;

	(void)fd;
	(void)what;
	log_warnx("command: request %llu: no answer within %lds",
	    (unsigned long long)c->req->id, cmd_timeout_s);
	agent_error(c->req, "timeout", "the agent took too long to answer");
}

static void
cmd_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	(void)arg;
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		cmd_line(line, len);
		free(line);
	}
	if (evbuffer_get_length(in) > CMD_LINE_MAX)
		fatalx("%s: the command agent wrote a line over %d bytes",
		    __func__, CMD_LINE_MAX);
}

/* One line of the program's output. */
static void
cmd_line(const char *line, size_t len)
{
	struct agent_req *r;
	struct cmdreq *c;
	json_t *o, *id, *v;
	const char *s;

	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o) || !json_is_integer(id = json_object_get(o,
	    "id")) || json_integer_value(id) <= 0) {
		log_warnx("command: a line that is not {\"id\": N, ...}");
		json_decref(o);
		return;
	}
	TAILQ_FOREACH(c, &cmds, entry)
		if (c->id == (uint64_t)json_integer_value(id))
			break;
	if (c == NULL) {
		/* Aborted or timed out already. */
		json_decref(o);
		return;
	}
	r = c->req;
	if ((v = json_object_get(o, "delta")) != NULL) {
		s = json_string_value(v);
		if (s == NULL || !ipc_utf8_valid(s, json_string_length(v)) ||
		    json_string_length(v) > IPC_REPLY_MAX) {
			agent_error(r, "bad_response", "the agent sent "
			    "something that is not text");
		} else if (json_string_length(v) > 0 &&
		    agent_delta(r, s, json_string_length(v)) == -1)
			fatalx("%s: supervisor queue full", __func__);
	} else if ((v = json_object_get(o, "file")) != NULL) {
		cmd_file(r, v);
	} else if (json_is_true(json_object_get(o, "done"))) {
		c->ended = 1;
		agent_done(r);
	} else if ((v = json_object_get(o, "error")) != NULL) {
		c->ended = 1;
		log_warnx("command: request %llu: the agent failed: %.200s",
		    (unsigned long long)r->id, json_is_string(v) ?
		    json_string_value(v) : "?");
		agent_error(r, "upstream_error", "the agent failed");
	} else
		log_warnx("command: request %llu: a line with no delta, done "
		    "or error", (unsigned long long)r->id);
	json_decref(o);
}

/*
 * The file's bytes, 1 to IPC_FILE_MAX of them; NULL for anything else.
 * Lax on the last character's unused bits, as EVP_DecodeBlock was here.
 */
static uint8_t *
cmd_b64(const char *s, size_t len, size_t *outlen)
{
	uint8_t *out;
	int n;

	if (len == 0 || len / 4 * 3 > IPC_FILE_MAX + 2)
		return NULL;
	out = xmalloc(len / 4 * 3);
	if ((n = b64_decode(s, len, B64_LAX_PAD, out, len / 4 * 3)) <= 0 ||
	    (size_t)n > IPC_FILE_MAX) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n;
	return out;
}

/* A file the reply carries: to the hub as a sealed memfd (agent.file). */
static void
cmd_file(struct agent_req *r, json_t *v)
{
	struct ipc_body_agent_file b;
	const char *name, *kind, *data;
	uint8_t *bytes = NULL;
	size_t n = 0;
	int fd;

	name = json_string_value(json_object_get(v, "name"));
	kind = json_string_value(json_object_get(v, "kind"));
	data = json_string_value(json_object_get(v, "data"));
	if (name == NULL || *name == '\0' ||
	    strlen(name) > IPC_FILENAME_MAX ||
	    !ipc_utf8_valid(name, strlen(name)) || kind == NULL ||
	    (strcmp(kind, "image") != 0 && strcmp(kind, "file") != 0) ||
	    data == NULL || (bytes = cmd_b64(data,
	    json_string_length(json_object_get(v, "data")), &n)) == NULL) {
		free(bytes);
		agent_error(r, "bad_response", "the agent sent a file that "
		    "is not {name, kind image|file, data base64}");
		return;
	}
	fd = cmd_memfd(bytes, n);
	free(bytes);
	if (fd == -1) {
		log_warn("command: a file's memfd");
		agent_error(r, "agent_failed", "the agent's file could not "
		    "be passed on");
		return;
	}
	b.name = ipc_s(name);
	b.kind = ipc_s(kind);
	b.size = n;
	if (worker_send_fd(IPC_AGENT_FILE, r->id, &b, fd) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

static void
cmd_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)arg;
	/* The program is gone; so are we, and the supervisor restarts us. */
	fatalx("command agent %s %s", cmd_argv[0], (what & BEV_EVENT_EOF) ?
	    "exited" : "pipe failed");
}
