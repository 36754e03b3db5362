/*
 * The configuration reader: a one-shot process the root parent starts
 * ("wxgated -x conf:read") at start, on reload and for wxgated -n.  It
 * drops to the workers' uid and, like them, builds an empty root
 * holding nothing in an unmapped user namespace, without network and
 * under a seccomp allowlist, before it reads a byte; then it parses the file the parent sends
 * with the configuration code (config*.c, YAML by libcyaml and libyaml,
 * every kind's slice) and answers its plan: the parent's globals and
 * one row per worker to start (kinds_want.c), or the error.  So the
 * parser of the file runs unprivileged, as in OpenBSD's daemons.
 *
 * Files the configuration names (secret files, a command's program,
 * the zone file of a schedule's tz) are asked of the parent, which reads them with root's checks; see
 * conf_fetch.c for why that gives the reader nothing new.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "conf_file.h"
#include "config.h"
#include "entry.h"
#include "cron.h"
#include "hub.h"
#include "kinds.h"
#include "kinds_want.h"
#include "log.h"
#include "plan.h"
#include "sandbox.h"
#include "wire.h"
#include "wire_blocking.h"
#include "xmalloc.h"

/* The plan's rows must hold whatever a valid file may ask for. */
_Static_assert(PLAN_WORKERS_MAX >= CFG_CHANNELS_MAX + CFG_AGENTS_MAX +
    64 + 1, "PLAN_WORKERS_MAX below the configuration's bounds");
_Static_assert(PLAN_CHANNELS_MAX == CFG_CHANNELS_MAX, "account bounds agree");
_Static_assert(PLAN_ERR_MAX == CFG_ERR_MAX, "error bounds agree");
_Static_assert(IPC_CONFERR_MAX >= CFG_ERR_MAX, "an error fits a frame");
_Static_assert(IPC_SECRET_MAX == CONF_SECRET_MAX, "secret bounds agree");

struct row {
	const struct kind	*k;
	char			*id;
	char			*slice;
	const char		*listen;
};

static struct {
	uint8_t		 buf[IPC_FRAME_MAX];
	struct row	*rows;
	size_t		 nrows;
	int		 in_hook;
	int		 bad_id;	/* test hook: a worker root must refuse */
} rd;

static void
reader_log_hook(int level, const char *line)
{
	struct ipc_body_log b;

	if (rd.in_hook)
		return;
	rd.in_hook = 1;
	if (ipc_log_body(&b, level, line) == 0)
		(void)ipc_send_blocking(IPC_FD, IPC_LOG, 0, &b);
	rd.in_hook = 0;
}

static void
reader_send(uint32_t type, const void *body)
{
	if (ipc_send_blocking(IPC_FD, type, 0, body) == -1)
		fatalx("conf: %s could not be sent", ipc_type_name(type));
}

static void
reader_done(const char *error)
{
	struct ipc_body_conf_done b;

	memset(&b, 0, sizeof(b));
	b.ok = error == NULL;
	b.error = ipc_s(error != NULL ? error : "");
	/* snprintf may have cut a character: the line ends before it. */
	while (b.error.len > 0 && !ipc_utf8_valid(b.error.p, b.error.len))
		b.error.len--;
	reader_send(IPC_CONF_DONE, &b);
}

/* One frame of the parent's; anything else ends us. */
static void
reader_recv(uint32_t type, struct ipc_msg *m)
{
	enum ipc_err e;

	if (ipc_recv_blocking(IPC_FD, rd.buf, sizeof(rd.buf), m, &e) == -1)
		fatalx("conf: from the parent: %s", ipc_strerror(e));
	if (m->type != type || m->fd != -1)
		fatalx("conf: %s from the parent, not %s",
		    ipc_type_name(m->type), ipc_type_name(type));
}

/* config_file_hook: the parent reads it (conf_fetch.c says why). */
static int
reader_file(int what, const char *path, char *buf, size_t bufsz,
    size_t *lenp, char *why, size_t whylen)
{
	struct ipc_body_conf_file r;
	struct ipc_msg m;
	size_t n;

	*lenp = 0;
	if (bufsz > 0)
		buf[0] = '\0';
	r.what = ipc_s(what == CONF_FILE_SECRET ? "secret" :
	    what == CONF_FILE_PUBLIC ? "public" : "exec");
	r.path = ipc_s(path);
	if (r.path.len == 0 || r.path.len > IPC_PATH_MAX) {
		snprintf(why, whylen, "%s: %s", path, "path too long");
		return -1;
	}
	reader_send(IPC_CONF_FILE, &r);
	reader_recv(IPC_CONF_FILE_DATA, &m);
	if (!m.b.conf_file_data.ok) {
		snprintf(why, whylen, "%.*s", (int)m.b.conf_file_data.why.len,
		    m.b.conf_file_data.why.p);
		return -1;
	}
	/* Binary bytes are no key: an empty read says so as well. */
	if ((what == CONF_FILE_PUBLIC || (what == CONF_FILE_SECRET &&
	    !m.b.conf_file_data.binary)) && bufsz > 0) {
		n = m.b.conf_file_data.data.len;
		if (what == CONF_FILE_PUBLIC && n > bufsz - 1) {
			snprintf(why, whylen, "%s: larger than %zu bytes",
			    path, bufsz - 1);
			return -1;
		}
		if (n > bufsz - 1)
			n = bufsz - 1;
		memcpy(buf, m.b.conf_file_data.data.p, n);
		buf[n] = '\0';
		*lenp = n;
		explicit_bzero(rd.buf, sizeof(rd.buf));
	}
	return 0;
}

/*
 * cron_tz_peek: a schedule's zone file, read by the parent as a public
 * one, since the reader keeps no directory (specs.c: reader_spec).
 * Each name is asked once: the parent counts the files of a reading.
 */
struct tz_seen {
	struct tz_seen	*next;
	int		 rv;
	char		 magic[4];
	char		 path[];
};
static struct tz_seen	*tz_seen;

static int
reader_tz_peek(const char *path, char magic[4])
{
	static char buf[IPC_PUBFILE_MAX + 1];
	char why[IPC_CONFERR_MAX];
	struct tz_seen *t;
	size_t len, n = strlen(path) + 1;

	for (t = tz_seen; t != NULL; t = t->next)
		if (strcmp(t->path, path) == 0)
			break;
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t) + n);
		memcpy(t->path, path, n);
		/* Only a file that will not open is no zone at all. */
		if (reader_file(CONF_FILE_PUBLIC, path, buf, sizeof(buf), &len,
		    why, sizeof(why)) == -1)
			t->rv = strstr(why, ": not a regular file") != NULL ||
			    strstr(why, ": larger than") != NULL ? 1 : -1;
		else if (len < sizeof(t->magic))
			t->rv = 1;
		else
			memcpy(t->magic, buf, sizeof(t->magic));
		t->next = tz_seen;
		tz_seen = t;
	}
	memcpy(magic, t->magic, sizeof(t->magic));
	return t->rv;
}

static void
reader_want(const struct kind *k, const char *id, char *slice,
    const char *listen, void *arg)
{
	struct row *r;

	(void)arg;
	if (rd.nrows == PLAN_WORKERS_MAX)
		fatalx("conf: more than %d workers", PLAN_WORKERS_MAX);
	r = &rd.rows[rd.nrows++];
	r->k = k;
	r->id = xstrdup(id);
	r->slice = slice;
	r->listen = listen;
}

static void
reader_plan(const struct config *c)
{
	const struct cfg_supervisor *cs = &c->supervisor;
	struct ipc_body_conf_worker w;
	struct ipc_body_conf_plan p;
	char err[CFG_ERR_MAX];
	size_t i;

	rd.rows = xcalloc(PLAN_WORKERS_MAX, sizeof(*rd.rows));
	kinds_want(c, reader_want, NULL);
	for (i = 0; i < rd.nrows; i++)
		if (strlen(rd.rows[i].slice) > IPC_CONF_MAX) {
			snprintf(err, sizeof(err), "%s.%s: its configuration "
			    "slice is larger than %d bytes", rd.rows[i].k->name,
			    rd.rows[i].id, IPC_CONF_MAX);
			reader_done(err);
			return;
		}
	memset(&p, 0, sizeof(p));
	p.state_dir = ipc_s(c->state_dir);
	p.store = ipc_s(c->store);
	p.control = ipc_s(c->control);
	p.log_level = ipc_s(c->log_level);
	p.log_syslog = c->log_syslog;
	p.user = ipc_s(c->sandbox.user);
	p.group = ipc_s(c->sandbox.group);
	p.hub_user = ipc_s(c->sandbox.hub_user);
	p.hub_group = ipc_s(c->sandbox.hub_group);
	p.strict = c->sandbox.strict;
	p.zygote = c->sandbox.zygote;
	p.webchat_listen = ipc_s(c->webchat.listen);
	p.metrics_listen = ipc_s(c->metrics_listen != NULL ?
	    c->metrics_listen : "");
	p.store_pg = c->store_pg;
	p.store_secret = ipc_s(c->cluster.password != NULL ?
	    c->cluster.password : "");
	p.worker_rows = rd.nrows;
	p.heartbeat_ms = cs->heartbeat_ms;
	p.heartbeat_timeout_ms = cs->heartbeat_timeout_ms;
	p.restart_min_ms = cs->restart_min_ms;
	p.restart_max_ms = cs->restart_max_ms;
	p.crashloop_count = cs->crashloop_count;
	p.crashloop_window_s = cs->crashloop_window_s;
	p.shutdown_grace_ms = cs->shutdown_grace_ms;
	reader_send(IPC_CONF_PLAN, &p);
	for (i = 0; i < rd.nrows; i++) {
		memset(&w, 0, sizeof(w));
		w.kind = ipc_s(rd.rows[i].k->name);
		w.id = ipc_s(rd.bad_id && i == 0 ? "x/y" : rd.rows[i].id);
		w.conf = ipc_s(rd.rows[i].slice);
		w.listen = ipc_s(rd.rows[i].listen != NULL ?
		    rd.rows[i].listen : "");
		reader_send(IPC_CONF_WORKER, &w);
		xfree_secret(rd.rows[i].slice);
		free(rd.rows[i].id);
	}
	reader_done(NULL);
}

#ifdef WX_TEST_HOOKS
/*
 * "conf:read:hang" waits for ever; ":syscall" makes a forbidden one;
 * ":badid" names its first worker out of bounds, as a reader taken
 * over could.
 */
static void
reader_test(const char *hook)
{
	struct ipc_msg m;

	if (strcmp(hook, "hang") == 0) {
		log_info("test: hanging");
		for (;;)
			(void)ipc_recv_blocking(IPC_FD, rd.buf,
			    sizeof(rd.buf), &m, &(enum ipc_err){ IPC_OK });
	}
	if (strcmp(hook, "syscall") == 0) {
		log_info("test: a forbidden syscall");
		(void)socket(AF_INET, SOCK_STREAM, 0);
	}
	if (strcmp(hook, "badid") == 0) {
		rd.bad_id = 1;
		return;
	}
	fatalx("conf: unknown test hook \"%s\"", hook);
}
#endif

int
reader_main(const char *spec, const char *creds, int verbose)
{
	struct sandbox_conf sc;
	struct sandbox_report report;
	struct sandbox_spec sb;
	struct config *c;
	struct ipc_msg m;
	char err[CFG_ERR_MAX], line[512], *path = NULL, *text = NULL;
	size_t len = 0, n;

	log_init(verbose, 0);
	log_procinit("conf");
	/* Every line to the parent, which writes it; we keep no stderr. */
	log_sethook(reader_log_hook);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (strncmp(spec, "conf:read", 9) != 0 || (spec[9] != '\0' &&
	    spec[9] != ':') || creds == NULL)
		fatalx("conf: started without its arguments");
	/* Nothing else is read before the uid drop. */
	if (sandbox_conf_parse(creds, &sc) == -1)
		fatalx("conf: bad credentials \"%s\"", creds);
	reader_spec(&sb);
	sandbox_enter(&sb, &sc, &report);
	sandbox_summary(&report, line, sizeof(line));
	log_debug("sandbox: %s", line);
#ifdef WX_TEST_HOOKS
	if (spec[9] == ':')
		reader_test(spec + 10);
#else
	if (spec[9] == ':')
		fatalx("conf: test hooks are not built in");
#endif
	/* Slices hold keys: jansson's blocks are wiped when freed. */
	jsonalloc_init();
	/* policy.roles names methods: the catalogue says which exist. */
	ipc_catalogue_all();
	do {
		reader_recv(IPC_CONF_TEXT, &m);
		n = m.b.conf_text.part.len;
		if (len + n > CONF_FILE_MAX)
			fatalx("conf: the file is larger than %d bytes",
			    CONF_FILE_MAX);
		if (path == NULL)
			path = ipc_strdup(m.b.conf_text.path);
		text = xreallocarray(text, len + n + 1, 1);
		memcpy(text + len, m.b.conf_text.part.p, n);
		len += n;
		text[len] = '\0';
	} while (!m.b.conf_text.last);
	log_setverbose((int)m.b.conf_text.verbose);
	config_file_hook(reader_file);
	cron_tz_peek(reader_tz_peek);
	if ((c = config_parse(path, text, len, 0, err, sizeof(err))) == NULL)
		reader_done(err);
	else {
		reader_plan(c);
		config_free(c);
	}
	free(text);
	free(path);
	return 0;
}
