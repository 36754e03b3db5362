/*
 * The root parent's side of the configuration reader: read the file's
 * bytes (bounded, as root may), start a fresh "wxgated -x conf:read"
 * on a socketpair, hand it the text and the files it asks for, and take
 * back its plan (plan.h) or its error, all within READER_DEADLINE_MS.
 * A reader that misbehaves, dies or runs late is killed and the start
 * or reload fails with a line saying so.
 *
 * Secrets: the reader runs sandboxed and can open no file, so it asks
 * for the secret files the configuration names (conf.file), and the
 * parent reads them with root's checks (conf_file.c: a regular file,
 * owned by root or us, no group or other access) and answers their
 * bytes.  That hands no more to the reader than the file already does:
 * it is fresh, has read nothing but the root-owned configuration, and
 * the paths it asks for are the ones that configuration names, the
 * same ones config_load() used to open as root in this process.  Its
 * plan carries the secrets on in the workers' slices, as before.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "conf_file.h"
#include "kinds.h"
#include "log.h"
#include "plan.h"
#include "sup.h"
#include "wire.h"
#include "xmalloc.h"

/* A reader has this long from its fork to its conf.done. */
#define READER_DEADLINE_MS	10000
/* Files one reading may ask for: a few per account and agent. */
#define READER_FILES_MAX	(4 * PLAN_WORKERS_MAX)

struct fetch;
static void	fetch_fail(struct fetch *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

struct fetch {
	int		 fd;
	pid_t		 pid;
	const char	*path;
	const char	*text;
	size_t		 len;
	size_t		 off;		/* text sent so far */
	int		 text_done;
	uint8_t		*out;		/* an encoded frame waiting to go */
	size_t		 outlen;
	unsigned	 files;
	int		 have_plan;
	int64_t		 violation;	/* its syscall, or -1 */
	uint64_t	 deadline;	/* ms from its fork */
	struct plan	*p;
	int		 done;		/* 1 plan, -1 error */
	char		*err;
	size_t		 errlen;
};

static uint8_t	fbuf[IPC_FRAME_MAX];
static unsigned	readings;	/* readers started, this one included */

#define PLAN_FREE_U64(k)
#define PLAN_FREE_BOOL(k)
#define PLAN_FREE_STR(k)	xfree_secret(p->k);
#define PLAN_FREE(b, k, t, max, flags)	PLAN_FREE_##t(k)

void
plan_free(struct plan *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->text);
	IPC_BODY_conf_plan(PLAN_FREE)
	for (i = 0; i < p->nworkers; i++) {
		xfree_secret(p->workers[i].slice);
		free(p->workers[i].listen);
	}
	free(p->workers);
	free(p);
}

const struct plan_worker *
plan_find(const struct plan *p, const char *kind, const char *id)
{
	size_t i;

	for (i = 0; i < p->nworkers; i++)
		if (strcmp(p->workers[i].kind, kind) == 0 &&
		    strcmp(p->workers[i].id, id) == 0)
			return &p->workers[i];
	return NULL;
}

static char *
fetch_str(struct ipc_str s)
{
	return s.len == 0 ? NULL : ipc_strdup(s);
}

static void
fetch_child(int fd, uid_t uid, gid_t gid, int strict)
{
	const char *hook = NULL;
	char spec[32];

#ifdef WX_TEST_HOOKS
	const char *after;

	/*
	 * What a test wants this reader to do wrong: hang or syscall;
	 * past the first WXGATE_TEST_READER_AFTER readings (a reload's).
	 */
	hook = getenv("WXGATE_TEST_READER");
	if ((after = getenv("WXGATE_TEST_READER_AFTER")) != NULL &&
	    readings <= (unsigned)atoi(after))
		hook = NULL;
#endif
	snprintf(spec, sizeof(spec), "conf:read%s%.16s", hook != NULL ?
	    ":" : "", hook != NULL ? hook : "");
	spawn_exec(sup->exe, fd, spec, uid, gid, strict, NULL);
}

/* The first failure is the one said; the reader is killed after it. */
static void
fetch_fail(struct fetch *f, const char *fmt, ...)
{
	va_list ap;

	if (f->done != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(f->err, f->errlen, fmt, ap);
	va_end(ap);
	f->done = -1;
}

/* Queue one frame; the loop sends it when the socket takes it. */
static int
fetch_put(struct fetch *f, uint32_t type, const void *body)
{
	if ((f->outlen = ipc_encode(type, 0, body, f->out,
	    IPC_FRAME_MAX)) == 0) {
		fetch_fail(f, "configuration reader: %s frame too large",
		    ipc_type_name(type));
		return -1;
	}
	return 0;
}

/* The next part of the text, once the last frame went. */
static void
fetch_text(struct fetch *f)
{
	struct ipc_body_conf_text b;
	size_t n = f->len - f->off;

	if (n > IPC_CONFPART_MAX)
		n = IPC_CONFPART_MAX;
	memset(&b, 0, sizeof(b));
	b.path = ipc_s(f->path);
	b.part.p = f->text + f->off;
	b.part.len = n;
	b.last = f->off + n == f->len;
	b.verbose = (uint64_t)(sup->verbose > LOG_LVL_DEBUG ? LOG_LVL_DEBUG :
	    sup->verbose < 0 ? 0 : sup->verbose);
	if (fetch_put(f, IPC_CONF_TEXT, &b) == 0) {
		f->off += n;
		f->text_done = b.last;
	}
}

/*
 * conf.file: root reads what the configuration names (see above).  A
 * public file's bytes go as they are (an image is binary); a secret's
 * only as text, since a key is text.
 */
/* What the configuration may ask of a public file, the frame carries. */
_Static_assert(CONF_PUBLIC_MAX == IPC_PUBFILE_MAX,
    "conf_file.h and ipc_parent.h disagree on a public file's size");

static void
fetch_file(struct fetch *f, const struct ipc_body_conf_file *r)
{
	static char buf[IPC_PUBFILE_MAX + 1];
	struct ipc_body_conf_file_data b;
	char *path, why[IPC_CONFERR_MAX];
	size_t len = 0, cut, bufsz = IPC_SECRET_MAX + 1;
	int what;

	if (ipc_streq(r->what, "secret"))
		what = CONF_FILE_SECRET;
	else if (ipc_streq(r->what, "public")) {
		what = CONF_FILE_PUBLIC;
		bufsz = sizeof(buf);
	} else if (ipc_streq(r->what, "exec"))
		what = CONF_FILE_EXEC;
	else {
		fetch_fail(f, "configuration reader: asked for a file of no "
		    "known use");
		return;
	}
	if (++f->files > READER_FILES_MAX) {
		fetch_fail(f, "configuration reader: asked for more than %d "
		    "files", READER_FILES_MAX);
		return;
	}
	memset(&b, 0, sizeof(b));
	path = ipc_strdup(r->path);
	why[0] = '\0';
	b.ok = conf_file_read(what, path, buf, bufsz, &len, why,
	    sizeof(why)) == 0;
	free(path);
	if (b.ok && len > 0 && (memchr(buf, '\0', len) != NULL ||
	    !ipc_utf8_valid(buf, len)))
		b.binary = 1;	/* no key then: the reader says so */
	if (b.ok && (!b.binary || what == CONF_FILE_PUBLIC))
		b.data.p = buf, b.data.len = len;
	/* A long path may cut a character: end the line before it. */
	cut = strlen(why);
	while (cut > 0 && !ipc_utf8_valid(why, cut))
		cut--;
	b.why.p = why;
	b.why.len = cut;
	(void)fetch_put(f, IPC_CONF_FILE_DATA, &b);
	explicit_bzero(buf, bufsz);
}

static void
fetch_worker(struct fetch *f, const struct ipc_body_conf_worker *b)
{
	struct plan_worker *pw;
	const struct kind *k;
	char kind[IPC_NAME_MAX + 1], id[IPC_NAME_MAX + 1];

	snprintf(kind, sizeof(kind), "%.*s", (int)b->kind.len, b->kind.p);
	snprintf(id, sizeof(id), "%.*s", (int)b->id.len, b->id.p);
	if (!f->have_plan || f->p->nworkers >= f->p->worker_rows) {
		fetch_fail(f, "configuration reader: %s out of order",
		    "conf.worker");
		return;
	}
	/* Role and sockets are the parent's table's, never a frame's. */
	if ((k = kinds_find(kind)) == NULL || !kinds_id_ok(id) ||
	    plan_find(f->p, kind, id) != NULL) {
		fetch_fail(f, "configuration reader: worker %s.%s of no kind, "
		    "named out of bounds, or twice", kind, id);
		return;
	}
	pw = &f->p->workers[f->p->nworkers++];
	memcpy(pw->kind, kind, sizeof(pw->kind));
	memcpy(pw->id, id, sizeof(pw->id));
	pw->role = k->role;
	pw->flags = k->flags;
	pw->slice = ipc_strdup(b->conf);
	pw->listen = fetch_str(b->listen);
}

#define PLAN_TAKE_U64(k)	p->k = b->k;
#define PLAN_TAKE_BOOL(k)	p->k = b->k;
#define PLAN_TAKE_STR(k)	p->k = fetch_str(b->k);
#define PLAN_TAKE(b_, k, t, max, flags)	PLAN_TAKE_##t(k)

static void
fetch_plan(struct fetch *f, const struct ipc_body_conf_plan *b)
{
	struct plan *p = f->p;

	if (f->have_plan) {
		fetch_fail(f, "configuration reader: %s out of order",
		    "conf.plan");
		return;
	}
	f->have_plan = 1;
	/* Refused before it is taken: no plan counts more rows than fit. */
	if (b->worker_rows > PLAN_WORKERS_MAX) {
		fetch_fail(f, "configuration reader: more than %d workers",
		    PLAN_WORKERS_MAX);
		return;
	}
	IPC_BODY_conf_plan(PLAN_TAKE)
	p->workers = xcalloc(b->worker_rows + 1, sizeof(*p->workers));
}

static void
fetch_msg(struct fetch *f, struct ipc_msg *m)
{
	char line[LOG_LINE_MAX];

	if (!(ipc_msginfo(m->type)->roles & ROLE_READER)) {
		fetch_fail(f, "configuration reader: sent %s, not a reader's "
		    "frame", ipc_type_name(m->type));
		return;
	}
	switch (m->type) {
	case IPC_LOG:
		snprintf(line, sizeof(line), "conf: %.*s",
		    (int)m->b.log.text.len, m->b.log.text.p);
		log_emit((int)m->b.log.level, line);
		break;
	case IPC_VIOLATION:
		f->violation = (int64_t)m->b.violation.syscall;
		break;
	case IPC_CONF_FILE:
		if (!f->text_done || f->outlen != 0)
			fetch_fail(f, "configuration reader: %s out of order",
			    "conf.file");
		else
			fetch_file(f, &m->b.conf_file);
		break;
	case IPC_CONF_PLAN:
		fetch_plan(f, &m->b.conf_plan);
		break;
	case IPC_CONF_WORKER:
		fetch_worker(f, &m->b.conf_worker);
		break;
	case IPC_CONF_DONE:
		if (!m->b.conf_done.ok) {
			snprintf(f->err, f->errlen, "%.*s",
			    (int)m->b.conf_done.error.len,
			    m->b.conf_done.error.p);
			f->done = -1;
		} else if (!f->have_plan || f->p->nworkers != f->p->worker_rows)
			fetch_fail(f, "configuration reader: %s before its plan",
			    "conf.done");
		else
			f->done = 1;
		break;
	}
}

/* Frames from the reader until it would block; -1 when it is gone. */
static int
fetch_read(struct fetch *f)
{
	struct ipc_msg m;
	enum ipc_err e;

	for (;;) {
		errno = 0;	/* EOF leaves it alone */
		if (ipc_recv_blocking(f->fd, fbuf, sizeof(fbuf), &m, &e) == -1) {
			if (e == IPC_E_SHORT && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				return 0;
			if (e != IPC_E_SHORT)
				fetch_fail(f, "configuration reader: bad frame "
				    "(%s)", ipc_strerror(e));
			return -1;
		}
		if (m.fd != -1) {
			close(m.fd);
			fetch_fail(f, "configuration reader: passed a "
			    "descriptor");
			return -1;
		}
		fetch_msg(f, &m);
		if (f->done != 0)
			return 0;
	}
}

/* Past the loop: the reader is killed if it lives, and reaped. */
static void
fetch_reap(struct fetch *f)
{
	char why[128];
	int status;

	kill(f->pid, SIGKILL);
	while (waitpid(f->pid, &status, 0) == -1 && errno == EINTR)
		;
	if (f->done != 0)
		return;
	/* Worded as a worker's death is (reap.c). */
	reap_cause(status, f->violation, "", why, sizeof(why));
	fetch_fail(f, "configuration reader died before its answer: %s", why);
}

static void
fetch_loop(struct fetch *f, uint64_t deadline_ms)
{
	struct pollfd pfd;
	uint64_t now;
	int rv;

	while (f->done == 0) {
		if (f->outlen == 0 && !f->text_done)
			fetch_text(f);
		if ((now = clock_mono_ms()) >= deadline_ms) {
			snprintf(f->err, f->errlen, "configuration reader did "
			    "not answer within %llu ms; killed",
			    (unsigned long long)f->deadline);
			f->done = -1;
			break;
		}
		pfd.fd = f->fd;
		pfd.events = POLLIN | (f->outlen != 0 ? POLLOUT : 0);
		pfd.revents = 0;
		rv = poll(&pfd, 1, (int)(deadline_ms - now));
		if (rv == -1 && errno != EINTR)
			fatal("%s: poll", __func__);
		if (rv <= 0)
			continue;
		if (f->outlen != 0 && (pfd.revents & POLLOUT)) {
			if (ipc_send_raw(f->fd, f->out, f->outlen, -1) == 0)
				f->outlen = 0;
			else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ENOBUFS && errno != EINTR) {
				/*
				 * Gone: nothing more goes; what it sent
				 * before (a violation) is read to its EOF.
				 */
				f->outlen = 0;
				f->text_done = 1;
			}
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    fetch_read(f) == -1)
			break;
	}
}

struct plan *
conf_fetch(const char *path, uid_t uid, gid_t gid, int strict, char *err,
    size_t errlen)
{
	struct fetch f;
	uint64_t deadline = READER_DEADLINE_MS;
	char *text;
	size_t len;
	int sv[2];
#ifdef WX_TEST_HOOKS
	const char *ms;

	/* A shorter deadline for the test of a reader that hangs. */
	if ((ms = getenv("WXGATE_TEST_READER_MS")) != NULL &&
	    atoi(ms) > 0 && atoi(ms) < READER_DEADLINE_MS)
		deadline = (uint64_t)atoi(ms);
#endif
	if (errlen > 0)
		err[0] = '\0';
	if (conf_file_text(path, &text, &len, err, errlen) == -1)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("%s: socketpair", __func__);
	memset(&f, 0, sizeof(f));
	f.path = path;
	f.text = text;
	f.len = len;
	f.violation = -1;
	f.deadline = deadline;
	f.err = err;
	f.errlen = errlen;
	readings++;
	switch (f.pid = fork()) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		close(sv[0]);
		fetch_child(sv[1], uid, gid, strict);
		/* NOTREACHED */
	}
	close(sv[1]);
	f.fd = sv[0];
	if (fcntl(f.fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	f.out = xmalloc(IPC_FRAME_MAX);
	f.p = xcalloc(1, sizeof(*f.p));
	fetch_loop(&f, clock_mono_ms() + deadline);
	close(f.fd);
	fetch_reap(&f);
	/* Secret files' bytes went out of one, slices came in the other. */
	explicit_bzero(f.out, IPC_FRAME_MAX);
	explicit_bzero(fbuf, sizeof(fbuf));
	free(f.out);
	if (f.done != 1) {
		plan_free(f.p);
		free(text);
		return NULL;
	}
	f.p->text = text;
	f.p->textlen = len;
	return f.p;
}
