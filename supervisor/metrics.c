/*
 * Prometheus text exposition (version 0.0.4) of the hub's figures, for
 * `wxgatectl metrics`.  Hand-written: the format is a few lines of
 * HELP, TYPE and samples.  Times are seconds, sizes bytes, as the
 * format's conventions ask; counters end in _total and count from the
 * hub's start (a restarted hub starts them over, which Prometheus reads
 * as a counter reset).
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "hub.h"
#include "metrics.h"
#include "store.h"
#include "wire.h"

void
mx_labels_init(struct mx_labels *l)
{
	l->s[0] = '\0';
	l->len = 0;
}

/* Backslash, quote and newline escaped, as the format says; cut, never
 * overrun, when a set would pass MX_LABELS_MAX. */
void
mx_label(struct mx_labels *l, const char *key, const char *value)
{
	size_t room = sizeof(l->s) - l->len;
	char *p = l->s + l->len;
	int n;

	n = snprintf(p, room, "%s%s=\"", l->len > 0 ? "," : "", key);
	if (n < 0 || (size_t)n >= room)
		return;
	p += n;
	room -= (size_t)n;
	for (; *value != '\0' && room > 3; value++) {
		if (*value == '\\' || *value == '"' || *value == '\n') {
			*p++ = '\\';
			room--;
		}
		*p++ = *value == '\n' ? 'n' : *value;
		room--;
	}
	if (room < 2)
		return;
	*p++ = '"';
	*p = '\0';
	l->len = (size_t)(p - l->s);
}

void
mx_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

void
mx_put(struct evbuffer *b, const char *name, const struct mx_labels *l,
    uint64_t value)
{
	if (l != NULL && l->len > 0)
		evbuffer_add_printf(b, "%s{%s} %llu\n", name, l->s,
		    (unsigned long long)value);
	else
		evbuffer_add_printf(b, "%s %llu\n", name,
		    (unsigned long long)value);
}

static void
mx_seconds(char *buf, size_t len, uint64_t us)
{
	snprintf(buf, len, "%llu.%06llu", (unsigned long long)(us / 1000000),
	    (unsigned long long)(us % 1000000));
}

void
mx_put_hist(struct evbuffer *b, const char *name, const struct mx_labels *l,
    const struct mx_hist *h)
{
	static const uint64_t bounds[MX_BUCKETS] = MX_BOUNDS_US;
	const char *sep = l != NULL && l->len > 0 ? "," : "";
	const char *ls = l != NULL ? l->s : "";
	uint64_t cum = 0;
	char le[32];
	unsigned i;

	for (i = 0; i < MX_BUCKETS; i++) {
		cum += h->n[i];
		mx_seconds(le, sizeof(le), bounds[i]);
		evbuffer_add_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name,
		    ls, sep, le, (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, ls,
	    sep, (unsigned long long)h->count);
	mx_seconds(le, sizeof(le), h->sum_us);
	if (l != NULL && l->len > 0) {
		evbuffer_add_printf(b, "%s_sum{%s} %s\n", name, ls, le);
		evbuffer_add_printf(b, "%s_count{%s} %llu\n", name, ls,
		    (unsigned long long)h->count);
	} else {
		evbuffer_add_printf(b, "%s_sum %s\n", name, le);
		evbuffer_add_printf(b, "%s_count %llu\n", name,
		    (unsigned long long)h->count);
	}
}

/* One figure of every worker, as a family. */
enum w_fig { WF_UP, WF_RESTARTS, WF_SECCOMP, WF_IN, WF_OUT, WF_QUEUE, WF_RSS,
	WF_PSS };

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} w_figs[] = {
	[WF_UP] = { "wxgate_worker_up", "gauge",
	    "1 while the worker runs, else 0." },
	[WF_RESTARTS] = { "wxgate_worker_restarts_total", "counter",
	    "Times the worker was restarted." },
	[WF_SECCOMP] = { "wxgate_worker_seccomp_kills_total", "counter",
	    "Times the worker was killed by its seccomp filter." },
	[WF_IN] = { "wxgate_worker_messages_received_total", "counter",
	    "Messages from the worker, heartbeats, figures and logs aside." },
	[WF_OUT] = { "wxgate_worker_messages_sent_total", "counter",
	    "Messages to the worker, heartbeats aside." },
	[WF_QUEUE] = { "wxgate_worker_queue_frames", "gauge",
	    "Frames waiting in the hub's send queue to the worker." },
	[WF_RSS] = { "wxgate_worker_rss_bytes", "gauge",
	    "Resident set size of the worker's process." },
	[WF_PSS] = { "wxgate_worker_pss_bytes", "gauge",
	    "Proportional set size of the worker's process." },
};

static uint64_t
w_fig(const struct worker *w, enum w_fig f)
{
	switch (f) {
	case WF_UP:
		return w->state == W_RUNNING;
	case WF_RESTARTS:
		return w->restarts;
	case WF_SECCOMP:
		return w->seccomp_kills;
	case WF_IN:
		return w->msgs_in;
	case WF_OUT:
		return w->msgs_out;
	case WF_QUEUE:
		return w->wire != NULL ? wire_queued(w->wire) : 0;
	case WF_RSS:
		return w->rss_kb * 1024;
	case WF_PSS:
		return w->pss_kb * 1024;
	}
	return 0;
}

static void
metrics_workers(struct evbuffer *b)
{
	struct mx_labels l;
	struct worker *w;
	unsigned f;

	for (f = 0; f < sizeof(w_figs) / sizeof(w_figs[0]); f++) {
		mx_family(b, w_figs[f].name, w_figs[f].type, w_figs[f].help);
		TAILQ_FOREACH(w, &sup->workers, entry) {
			mx_labels_init(&l);
			mx_label(&l, "worker", w->name);
			mx_label(&l, "kind", w->kind);
			mx_put(b, w_figs[f].name, &l, w_fig(w, f));
		}
	}
}

static void
metrics_store(struct evbuffer *b)
{
	struct store_stats st;
	struct mx_hist h;
	uint64_t bytes, parts;
	int failing;

	store_wal_sizes(sup->store, &st, &h);
	mx_family(b, "wxgate_store_db_bytes", "gauge",
	    "Size of the store's database file.");
	mx_put(b, "wxgate_store_db_bytes", NULL, st.db_bytes);
	mx_family(b, "wxgate_store_wal_bytes", "gauge",
	    "Size of the store's write-ahead log.");
	mx_put(b, "wxgate_store_wal_bytes", NULL, st.wal_bytes);
	mx_family(b, "wxgate_store_commits_total", "counter",
	    "Transactions committed (one per busy loop turn).");
	mx_put(b, "wxgate_store_commits_total", NULL, st.commits);
	mx_family(b, "wxgate_store_commit_failures_total", "counter",
	    "Commits that failed (a full disk, say).");
	mx_put(b, "wxgate_store_commit_failures_total", NULL,
	    durable_failures(&failing));
	mx_family(b, "wxgate_store_commit_seconds", "histogram",
	    "Time a commit took.");
	mx_put_hist(b, "wxgate_store_commit_seconds", NULL, &h);
	mx_family(b, "wxgate_queue_overflows_total", "counter",
	    "Workers killed because their send queue was full.");
	mx_put(b, "wxgate_queue_overflows_total", NULL, hub_overflows());
	if (store_media_bytes(sup->store, &bytes, &parts) == -1)
		bytes = parts = 0;
	mx_family(b, "wxgate_media_stored_bytes", "gauge",
	    "Bytes of attachments in the store's media area.");
	mx_put(b, "wxgate_media_stored_bytes", NULL, bytes);
	mx_family(b, "wxgate_media_stored_parts", "gauge",
	    "Attachments in the store's media area.");
	mx_put(b, "wxgate_media_stored_parts", NULL, parts);
}

void
metrics_render(struct evbuffer *b)
{
	metrics_workers(b);
	router_metrics(b);
	agentq_metrics(b);
	channel_metrics(b);
	schedule_metrics(b);
	metrics_store(b);
}
