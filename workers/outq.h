/*
 * The outbound queue of a channel worker (outq.c): outbound.message
 * frames wait here in order, the kind sends one at a time (cur), and
 * each ends in exactly one delivery.ack or delivery.fail.  The hub keeps
 * the outbox row until then and sends it again to a worker that never
 * answered; a row sent again under the same key while we hold it (after
 * sup.resync, or a lease that ran out) is the same send, and its one
 * answer serves both copies.
 */
#ifndef WX_OUTQ_H
#define WX_OUTQ_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

struct outq_item {
	TAILQ_ENTRY(outq_item)	 entry;
	uint64_t		 id;
	char			*key;		/* the hub's send key */
	char			*peer;
	char			*text;		/* NULL for an attachment */
	char			*ctx;		/* may be a token: wiped */
	int			 tries;		/* the kind's own waits */
	int			 more;		/* more of its answer follows */
	uint64_t		 spent;		/* the hub's count of ctx's */
	/* outbound.file: its memfd until the kind reads it, then -1. */
	int			 fd;
	char			*name;
	char			*kind;		/* "file" or "image" */
	uint64_t		 size;
};

struct outq {
	TAILQ_HEAD(, outq_item)	 q;
	size_t			 n;
	size_t			 max;
	size_t			 files;		/* attachments held, cur too */
	size_t			 files_max;	/* 0: no attachments */
	struct outq_item	*cur;		/* being sent */
	const char		*kind;		/* for log lines */
};

void		 outq_init(struct outq *, const char *kind, size_t max);
/*
 * An outbound.message: 1 queued, 0 held already (the same row and key),
 * -1 the queue is full and the hub was told to try after full_retry_ms.
 */
int		 outq_put(struct outq *, const struct ipc_body_outbound *,
		    uint64_t full_retry_ms);
/*
 * An outbound.file, its fd taken in every case (closed unless queued):
 * as outq_put, and -1 also when files_max attachments wait already.
 */
int		 outq_put_file(struct outq *,
		    const struct ipc_body_outbound_file *, int fd,
		    uint64_t full_retry_ms);
/* The oldest waiting one, now cur; NULL when none waits or one is out. */
struct outq_item *outq_take(struct outq *);
/* cur goes back to the head, to be taken again after a wait. */
void		 outq_putback(struct outq *);
/* cur ended: the answer goes to the hub and cur is freed. */
void		 outq_sent(struct outq *);
void		 outq_failed(struct outq *, const char *code, const char *why,
		    uint64_t retry_ms);
/* Every waiting one (not cur) back to the hub, to try later. */
void		 outq_fail_all(struct outq *, const char *why, uint64_t retry_ms);
/* Shutdown: all dropped unanswered; the hub sends them again. */
void		 outq_clear(struct outq *);

/* The two answers, for a kind that keeps no queue. */
void		 outq_ack(uint64_t id);
void		 outq_fail(uint64_t id, const char *code, const char *why,
		    uint64_t retry_ms);

#endif
