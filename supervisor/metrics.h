/*
 * The hub's figures in Prometheus' text exposition format (issue #17):
 * `wxgatectl metrics`.  Each part of the hub renders its own families
 * (agentq_metrics(), channel_metrics(), ...); metrics.c holds the
 * format and the order.  Names and labels are a stable interface,
 * listed in wxgatectl(8).
 *
 * mx_hist is a cumulative latency histogram with fixed buckets, cheap
 * enough to feed on every request (an add and a short scan).
 */
#ifndef WX_METRICS_H
#define WX_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* Upper bounds in microseconds: 1 ms to 60 s, then +Inf. */
#define MX_BUCKETS	14
#define MX_BOUNDS_US	{ 1000, 2500, 5000, 10000, 25000, 50000, 100000, \
			  250000, 500000, 1000000, 2500000, 5000000, \
			  10000000, 60000000 }

struct mx_hist {
	uint64_t	 n[MX_BUCKETS + 1];	/* the last: past every bound */
	uint64_t	 count;
	uint64_t	 sum_us;
};

static inline void
mx_observe(struct mx_hist *h, uint64_t us)
{
	static const uint64_t b[MX_BUCKETS] = MX_BOUNDS_US;
	unsigned i = 0;

	while (i < MX_BUCKETS && us > b[i])
		i++;
	h->n[i]++;
	h->count++;
	h->sum_us += us;
}

/* A label set, rendered: `k="v",k2="v2"`, values escaped. */
#define MX_LABELS_MAX	512
struct mx_labels {
	char	 s[MX_LABELS_MAX];
	size_t	 len;
};
void	mx_labels_init(struct mx_labels *);
void	mx_label(struct mx_labels *, const char *key, const char *value);

/* A family's HELP and TYPE (counter, gauge, histogram), once, first. */
void	mx_family(struct evbuffer *, const char *name, const char *type,
	    const char *help);
/* One sample; labels NULL for none. */
void	mx_put(struct evbuffer *, const char *name,
	    const struct mx_labels *, uint64_t value);
void	mx_put_hist(struct evbuffer *, const char *name,
	    const struct mx_labels *, const struct mx_hist *);

/* The whole exposition. */
void	metrics_render(struct evbuffer *);
/* ... in parts of whole lines (metrics_serve.c); -1: over max_parts. */
typedef void	(*mx_part_fn)(const char *, size_t, void *);
int	metrics_parts(size_t part_max, size_t max_parts, mx_part_fn,
	    void *);
/* metrics.get from the loopback listener's worker. */
struct worker;
struct ipc_msg;
int	metrics_serve(struct worker *, struct ipc_msg *);

/* Counters kept where the events are, rendered by their owners. */
void	agentq_metrics(struct evbuffer *);
void	channel_metrics(struct evbuffer *);
/* The same counts, one account at a time (the console's overview). */
int	channel_counts(unsigned, const char **, uint64_t *, uint64_t *,
	    uint64_t *);
void	router_metrics(struct evbuffer *);
void	schedule_metrics(struct evbuffer *);

#endif
