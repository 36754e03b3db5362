/*
 * wxgatectl top: a live view of the daemon (issue #17), refreshed like
 * top(1).  Each round asks for `status` (the workers) and `metrics`
 * (everything else) on the one connection, and reads from the
 * exposition only the families it shows; rates are the difference of
 * two rounds' counters.  --once prints one round (rates need two, so
 * they show "-"); --json prints one round as one JSON object, counters
 * as they are, for a machine to difference.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "codec.h"
#include "ctl.h"

#define TOP_WORKERS	256
#define TOP_AGENTS	64
#define TOP_CHANNELS	256
#define TOP_TEXT_MAX	(4 * 1024 * 1024)	/* one exposition, at most */
/* metrics.h's bucket bounds, in seconds, then +Inf. */
#define TOP_BUCKETS	15

struct top_worker {
	char		 name[IPC_NAME_MAX + 1];
	char		 kind[IPC_NAME_MAX + 1];
	char		 state[IPC_NAME_MAX + 1];
	uint64_t	 pid, restarts, in, out;
	double		 rss, pss, queue;
	double		 in_rate, out_rate;	/* -1: not known */
};

struct top_hist {
	double		 le[TOP_BUCKETS];
	double		 n[TOP_BUCKETS];	/* cumulative, as exposed */
	int		 nb;
};

struct top_agent {
	char		 name[IPC_NAME_MAX + 1];
	double		 inflight, queued, requests;
	struct top_hist	 first, answer;
};

struct top_channel {
	char		 name[IPC_NAME_MAX + 1];
	double		 backlog, sent;
};

struct top {
	struct top_worker	 w[TOP_WORKERS];
	int			 nw;
	struct top_agent	 a[TOP_AGENTS];
	int			 na;
	struct top_channel	 c[TOP_CHANNELS];
	int			 nc;
	double			 conns;
	double			 outbox[4];	/* queued sent failed undeliverable */
	struct timespec		 at;
};

static const char *const top_states[4] = {
	"queued", "sent", "failed", "undeliverable",
};

static char	*text;		/* the round's exposition */
static size_t	 textlen;

static void
top_text_row(const struct ipc_msg *m)
{
	size_t n = m->b.text.text.len;

	if (textlen + n > TOP_TEXT_MAX) {
		fprintf(stderr, "wxgatectl: metrics over %d bytes\n",
		    TOP_TEXT_MAX);
		exit(EX_UNREACH);
	}
	if ((text = realloc(text, textlen + n + 1)) == NULL) {
		perror("wxgatectl");
		exit(EX_UNREACH);
	}
	memcpy(text + textlen, m->b.text.text.p, n);
	textlen += n;
	text[textlen] = '\0';
}

/* A label's value in a sample's label set: 0 found (copied), -1 not. */
static int
top_label(const char *labels, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key), i = 0;
	const char *p = labels;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == labels || p[-1] == ',' || p[-1] == '{') &&
		    p[klen] == '=' && p[klen + 1] == '"') {
			for (p += klen + 2; *p != '\0' && *p != '"' &&
			    i + 1 < len; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				out[i++] = *p;
			}
			out[i] = '\0';
			return 0;
		}
		p += klen;
	}
	return -1;
}

static struct top_worker *
top_worker(struct top *t, const char *name)
{
	int i;

	for (i = 0; i < t->nw; i++)
		if (strcmp(t->w[i].name, name) == 0)
			return &t->w[i];
	return NULL;
}

static struct top_agent *
top_agent(struct top *t, const char *name)
{
	int i;

	for (i = 0; i < t->na; i++)
		if (strcmp(t->a[i].name, name) == 0)
			return &t->a[i];
	if (t->na == TOP_AGENTS)
		return NULL;
	snprintf(t->a[t->na].name, sizeof(t->a[0].name), "%s", name);
	return &t->a[t->na++];
}

static struct top_channel *
top_channel(struct top *t, const char *name)
{
	int i;

	for (i = 0; i < t->nc; i++)
		if (strcmp(t->c[i].name, name) == 0)
			return &t->c[i];
	if (t->nc == TOP_CHANNELS)
		return NULL;
	snprintf(t->c[t->nc].name, sizeof(t->c[0].name), "%s", name);
	return &t->c[t->nc++];
}

static void
top_bucket(struct top_hist *h, const char *labels, double v)
{
	char le[32];

	if (h->nb == TOP_BUCKETS || top_label(labels, "le", le,
	    sizeof(le)) == -1)
		return;
	h->le[h->nb] = strcmp(le, "+Inf") == 0 ? INFINITY : atof(le);
	h->n[h->nb++] = v;
}

/* One sample line of the families top shows; others are skipped. */
static void
top_sample(struct top *t, const char *name, const char *labels, double v)
{
	char key[IPC_NAME_MAX + 1];
	struct top_worker *w;
	struct top_agent *a;
	struct top_channel *c;
	int i;

	if (strncmp(name, "wxgate_worker_", 14) == 0) {
		if (top_label(labels, "worker", key, sizeof(key)) == -1 ||
		    (w = top_worker(t, key)) == NULL)
			return;
		if (strcmp(name, "wxgate_worker_rss_bytes") == 0)
			w->rss = v;
		else if (strcmp(name, "wxgate_worker_pss_bytes") == 0)
			w->pss = v;
		else if (strcmp(name, "wxgate_worker_queue_frames") == 0)
			w->queue = v;
	} else if (strncmp(name, "wxgate_agent_", 13) == 0) {
		if (top_label(labels, "agent", key, sizeof(key)) == -1 ||
		    (a = top_agent(t, key)) == NULL)
			return;
		if (strcmp(name, "wxgate_agent_inflight") == 0)
			a->inflight = v;
		else if (strcmp(name, "wxgate_agent_queued") == 0)
			a->queued = v;
		else if (strcmp(name, "wxgate_agent_requests_total") == 0)
			a->requests = v;
		else if (strcmp(name,
		    "wxgate_agent_first_delta_seconds_bucket") == 0)
			top_bucket(&a->first, labels, v);
		else if (strcmp(name, "wxgate_agent_answer_seconds_bucket") == 0)
			top_bucket(&a->answer, labels, v);
	} else if (strncmp(name, "wxgate_channel_", 15) == 0) {
		if (top_label(labels, "channel", key, sizeof(key)) == -1 ||
		    (c = top_channel(t, key)) == NULL)
			return;
		if (strcmp(name, "wxgate_channel_backlog") == 0)
			c->backlog = v;
		else if (strcmp(name, "wxgate_channel_messages_sent_total") == 0)
			c->sent = v;
	} else if (strcmp(name, "wxgate_webchat_connections") == 0)
		t->conns = v;
	else if (strcmp(name, "wxgate_outbox_rows") == 0 &&
	    top_label(labels, "state", key, sizeof(key)) == 0)
		for (i = 0; i < 4; i++)
			if (strcmp(key, top_states[i]) == 0)
				t->outbox[i] = v;
}

static void
top_parse(struct top *t)
{
	char *line, *next, *sp, *brace, *labels;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || (sp = strrchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		labels = "";
		if ((brace = strchr(line, '{')) != NULL) {
			*brace = '\0';
			labels = brace + 1;
		}
		top_sample(t, line, labels, atof(sp + 1));
	}
}

/* A quantile's bucket bound, in seconds; -1 without observations. */
static double
top_quantile(const struct top_hist *h, double q)
{
	double want;
	int i;

	if (h->nb == 0 || h->n[h->nb - 1] <= 0)
		return -1;
	want = q * h->n[h->nb - 1];
	for (i = 0; i < h->nb; i++)
		if (h->n[i] >= want)
			return h->le[i];
	return h->le[h->nb - 1];
}

static void
top_round(int fd, struct top *t)
{
	struct ipc_body_empty e = { 0 };
	struct ipc_msg m;
	const struct ipc_body_ctl_worker *b = &m.b.ctl_worker;
	struct top_worker *w;

	memset(t, 0, sizeof(*t));
	clock_gettime(CLOCK_MONOTONIC, &t->at);
	ctl_send(fd, IPC_CTL_STATUS, &e);
	for (;;) {
		ctl_recv(fd, &m);
		if (m.type == IPC_CTL_RESULT)
			break;
		if (m.type != IPC_CTL_WORKER || t->nw == TOP_WORKERS)
			continue;
		w = &t->w[t->nw++];
		snprintf(w->name, sizeof(w->name), "%.*s", (int)b->name.len,
		    b->name.p);
		snprintf(w->kind, sizeof(w->kind), "%.*s", (int)b->kind.len,
		    b->kind.p);
		snprintf(w->state, sizeof(w->state), "%.*s",
		    (int)b->state.len, b->state.p);
		w->pid = b->pid;
		w->restarts = b->restarts;
		w->in = b->msgs_in;
		w->out = b->msgs_out;
		w->in_rate = w->out_rate = -1;
	}
	textlen = 0;
	ctl_send(fd, IPC_CTL_METRICS, &e);
	if (ctl_rows(fd, IPC_CTL_TEXT, top_text_row) != 0)
		exit(EX_UNREACH);
	if (text != NULL)
		top_parse(t);
}

/* Messages a second since the round before, where the worker was. */
static void
top_rates(struct top *t, const struct top *prev)
{
	double dt = (double)(t->at.tv_sec - prev->at.tv_sec) +
	    (double)(t->at.tv_nsec - prev->at.tv_nsec) / 1e9;
	const struct top_worker *p;
	int i, k;

	if (dt <= 0)
		return;
	for (i = 0; i < t->nw; i++)
		for (k = 0; k < prev->nw; k++) {
			p = &prev->w[k];
			if (strcmp(p->name, t->w[i].name) != 0 ||
			    p->pid != t->w[i].pid)
				continue;
			t->w[i].in_rate = (double)(t->w[i].in - p->in) / dt;
			t->w[i].out_rate = (double)(t->w[i].out - p->out) / dt;
		}
}

static void
fmt_rate(double r, char *out, size_t len)
{
	if (r < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.1f", r);
}

static void
fmt_ms(double s, char *out, size_t len)
{
	if (s < 0)
		snprintf(out, len, "-");
	else if (isinf(s))
		snprintf(out, len, ">60000");
	else
		snprintf(out, len, "%.0f", s * 1000);
}

static void
fmt_mib(double b, char *out, size_t len)
{
	snprintf(out, len, "%.1f", b / (1024 * 1024));
}

static void
top_print(const struct top *t)
{
	char r1[16], r2[16], m1[16], m2[16], q[4][16];
	const struct top_worker *w;
	const struct top_agent *a;
	time_t now = time(NULL);
	struct tm tm;
	char clock[16];
	int i;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	printf("wxgate top  %s  workers %d  web chat connections %.0f  "
	    "outbox queued %.0f sent %.0f failed %.0f undeliverable %.0f\n\n",
	    clock, t->nw, t->conns, t->outbox[0], t->outbox[1], t->outbox[2],
	    t->outbox[3]);
	printf("%-20s %-13s %7s %-9s %8s %8s %8s %8s %8s %6s\n", "NAME",
	    "KIND", "PID", "STATE", "RESTARTS", "IN/s", "OUT/s", "RSS-MiB",
	    "PSS-MiB", "QUEUE");
	for (i = 0; i < t->nw; i++) {
		w = &t->w[i];
		fmt_rate(w->in_rate, r1, sizeof(r1));
		fmt_rate(w->out_rate, r2, sizeof(r2));
		fmt_mib(w->rss, m1, sizeof(m1));
		fmt_mib(w->pss, m2, sizeof(m2));
		printf("%-20s %-13s %7llu %-9s %8llu %8s %8s %8s %8s %6.0f\n",
		    w->name, w->kind, (unsigned long long)w->pid, w->state,
		    (unsigned long long)w->restarts, r1, r2, m1, m2, w->queue);
	}
	if (t->na > 0)
		printf("\n%-20s %8s %8s %10s %12s %12s %12s %12s\n", "AGENT",
		    "INFLIGHT", "QUEUED", "REQUESTS", "FIRST-P50ms",
		    "FIRST-P99ms", "ANSWER-P50ms", "ANSWER-P99ms");
	for (i = 0; i < t->na; i++) {
		a = &t->a[i];
		fmt_ms(top_quantile(&a->first, 0.5), q[0], sizeof(q[0]));
		fmt_ms(top_quantile(&a->first, 0.99), q[1], sizeof(q[1]));
		fmt_ms(top_quantile(&a->answer, 0.5), q[2], sizeof(q[2]));
		fmt_ms(top_quantile(&a->answer, 0.99), q[3], sizeof(q[3]));
		printf("%-20s %8.0f %8.0f %10.0f %12s %12s %12s %12s\n",
		    a->name, a->inflight, a->queued, a->requests, q[0], q[1],
		    q[2], q[3]);
	}
	if (t->nc > 0)
		printf("\n%-20s %8s %10s\n", "CHANNEL", "BACKLOG", "SENT");
	for (i = 0; i < t->nc; i++)
		printf("%-20s %8.0f %10.0f\n", t->c[i].name, t->c[i].backlog,
		    t->c[i].sent);
}

/* A quantile for JSON: seconds, or null when unknown or past 60 s. */
static json_t *
top_jq(const struct top_hist *h, double q)
{
	double v = top_quantile(h, q);

	return v < 0 || isinf(v) ? json_null() : json_real(v);
}

static int
top_json(const struct top *t)
{
	json_t *o, *ws, *as, *cs, *ob;
	int i;

	ws = json_array();
	for (i = 0; i < t->nw; i++)
		json_array_append_new(ws, json_pack("{s:s, s:s, s:I, s:s, s:I, "
		    "s:I, s:I, s:I, s:I, s:I}", "name", t->w[i].name, "kind",
		    t->w[i].kind, "pid", (json_int_t)t->w[i].pid, "state",
		    t->w[i].state, "restarts", (json_int_t)t->w[i].restarts,
		    "messages_in", (json_int_t)t->w[i].in, "messages_out",
		    (json_int_t)t->w[i].out, "rss_bytes",
		    (json_int_t)t->w[i].rss, "pss_bytes",
		    (json_int_t)t->w[i].pss, "queue_frames",
		    (json_int_t)t->w[i].queue));
	as = json_array();
	for (i = 0; i < t->na; i++)
		json_array_append_new(as, json_pack("{s:s, s:I, s:I, s:I, "
		    "s:o, s:o, s:o, s:o}", "name", t->a[i].name, "inflight",
		    (json_int_t)t->a[i].inflight, "queued",
		    (json_int_t)t->a[i].queued, "requests",
		    (json_int_t)t->a[i].requests,
		    "first_delta_p50_s", top_jq(&t->a[i].first, 0.5),
		    "first_delta_p99_s", top_jq(&t->a[i].first, 0.99),
		    "answer_p50_s", top_jq(&t->a[i].answer, 0.5),
		    "answer_p99_s", top_jq(&t->a[i].answer, 0.99)));
	cs = json_array();
	for (i = 0; i < t->nc; i++)
		json_array_append_new(cs, json_pack("{s:s, s:I, s:I}", "name",
		    t->c[i].name, "backlog", (json_int_t)t->c[i].backlog,
		    "sent", (json_int_t)t->c[i].sent));
	ob = json_object();
	for (i = 0; i < 4; i++)
		json_object_set_new(ob, top_states[i],
		    json_integer((json_int_t)t->outbox[i]));
	o = json_pack("{s:o, s:o, s:o, s:{s:I}, s:o}", "workers", ws,
	    "agents", as, "channels", cs, "webchat", "connections",
	    (json_int_t)t->conns, "outbox", ob);
	if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) == -1) {
		fprintf(stderr, "wxgatectl: cannot write JSON\n");
		json_decref(o);
		return EX_UNREACH;
	}
	printf("\n");
	json_decref(o);
	return 0;
}

int
cmd_top(int fd, int argc, char **argv)
{
	static struct top cur, prev;
	int i, once = 0, json = 0, tty;
	long delay_ms = 1000;
	char *end;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = once = 1;
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			errno = 0;
			delay_ms = (long)(strtod(argv[++i], &end) * 1000);
			if (errno != 0 || *end != '\0' || delay_ms < 100 ||
			    delay_ms > 3600 * 1000)
				usage();
		} else
			usage();
	}
	top_round(fd, &cur);
	if (json)
		return top_json(&cur);
	tty = isatty(STDOUT_FILENO);
	for (;;) {
		if (tty && !once)
			printf("\033[H\033[2J");
		top_print(&cur);
		if (once)
			return 0;
		fflush(stdout);
		usleep((useconds_t)delay_ms * 1000);
		prev = cur;
		top_round(fd, &cur);
		top_rates(&cur, &prev);
		if (!tty)
			printf("\n");
	}
}
