/*
 * A channel worker's outbound queue (outq.h): bounded, in order, one out
 * at a time, each row answered once.
 */
#include <stdlib.h>
#include <unistd.h>

#include "codec.h"
#include "log.h"
#include "outq.h"
#include "worker.h"
#include "xmalloc.h"

void
outq_init(struct outq *oq, const char *kind, size_t max)
{
	TAILQ_INIT(&oq->q);
	oq->n = 0;
	oq->max = max;
	oq->files = 0;
	oq->files_max = 0;
	oq->cur = NULL;
	oq->kind = kind;
}

static void
outq_item_free(struct outq *oq, struct outq_item *o)
{
	if (o == NULL)
		return;
	if (o->kind != NULL)
		oq->files--;
	free(o->key);
	free(o->peer);
	free(o->text);
	xfree_secret(o->ctx);
	if (o->fd != -1)
		close(o->fd);
	free(o->name);
	free(o->kind);
	free(o);
}

static int
outq_same(const struct outq_item *o, uint64_t id, struct ipc_str key)
{
	return o != NULL && o->id == id && ipc_streq(key, o->key);
}

/* 1 there is room for row id, 0 it is held already, -1 the hub was told. */
static int
outq_room(struct outq *oq, uint64_t id, struct ipc_str key, int file,
    uint64_t full_retry_ms)
{
	struct outq_item *o;

	if (outq_same(oq->cur, id, key)) {
		log_debug("%s: row %llu is being sent already", oq->kind,
		    (unsigned long long)id);
		return 0;
	}
	TAILQ_FOREACH(o, &oq->q, entry)
		if (outq_same(o, id, key)) {
			log_debug("%s: row %llu is queued already", oq->kind,
			    (unsigned long long)id);
			return 0;
		}
	if (oq->n >= oq->max || (file && oq->files >= oq->files_max)) {
		log_warnx("%s: send queue full; row %llu refused for now",
		    oq->kind, (unsigned long long)id);
		outq_fail(id, "retry", "send queue full", full_retry_ms);
		return -1;
	}
	return 1;
}

int
outq_put(struct outq *oq, const struct ipc_body_outbound *b,
    uint64_t full_retry_ms)
{
	struct outq_item *o;
	int rv;

	if ((rv = outq_room(oq, b->id, b->key, 0, full_retry_ms)) != 1)
		return rv;
	o = xcalloc(1, sizeof(*o));
	o->id = b->id;
	o->key = ipc_strdup(b->key);
	o->peer = ipc_strdup(b->peer);
	o->text = ipc_strdup(b->text);
	o->ctx = ipc_strdup(b->reply_ctx);
	o->more = b->more;
	o->spent = b->spent;
	o->fd = -1;
	TAILQ_INSERT_TAIL(&oq->q, o, entry);
	oq->n++;
	return 1;
}

int
outq_put_file(struct outq *oq, const struct ipc_body_outbound_file *b,
    int fd, uint64_t full_retry_ms)
{
	struct outq_item *o;
	int rv;

	if ((rv = outq_room(oq, b->id, b->key, 1, full_retry_ms)) != 1) {
		close(fd);
		return rv;
	}
	o = xcalloc(1, sizeof(*o));
	o->id = b->id;
	o->key = ipc_strdup(b->key);
	o->peer = ipc_strdup(b->peer);
	o->ctx = ipc_strdup(b->reply_ctx);
	o->spent = b->spent;
	o->fd = fd;
	o->name = ipc_strdup(b->name);
	o->kind = ipc_strdup(b->kind);
	o->size = b->size;
	TAILQ_INSERT_TAIL(&oq->q, o, entry);
	oq->n++;
	oq->files++;
	return 1;
}

struct outq_item *
outq_take(struct outq *oq)
{
	struct outq_item *o;

	if (oq->cur != NULL || (o = TAILQ_FIRST(&oq->q)) == NULL)
		return NULL;
	TAILQ_REMOVE(&oq->q, o, entry);
	oq->n--;
	oq->cur = o;
	return o;
}

void
outq_putback(struct outq *oq)
{
	if (oq->cur == NULL)
		return;
	TAILQ_INSERT_HEAD(&oq->q, oq->cur, entry);
	oq->n++;
	oq->cur = NULL;
}

void
outq_sent(struct outq *oq)
{
	if (oq->cur == NULL)
		return;
	outq_ack(oq->cur->id);
	outq_item_free(oq, oq->cur);
	oq->cur = NULL;
}

void
outq_failed(struct outq *oq, const char *code, const char *why,
    uint64_t retry_ms)
{
	if (oq->cur == NULL)
		return;
	log_info("%s: row %llu not sent (%s): %s", oq->kind,
	    (unsigned long long)oq->cur->id, code, why);
	outq_fail(oq->cur->id, code, why, retry_ms);
	outq_item_free(oq, oq->cur);
	oq->cur = NULL;
}

void
outq_fail_all(struct outq *oq, const char *why, uint64_t retry_ms)
{
	struct outq_item *o;

	while ((o = TAILQ_FIRST(&oq->q)) != NULL) {
		TAILQ_REMOVE(&oq->q, o, entry);
		oq->n--;
		outq_fail(o->id, "retry", why, retry_ms);
		outq_item_free(oq, o);
	}
}

void
outq_clear(struct outq *oq)
{
	struct outq_item *o;

	outq_item_free(oq, oq->cur);
	oq->cur = NULL;
	while ((o = TAILQ_FIRST(&oq->q)) != NULL) {
		TAILQ_REMOVE(&oq->q, o, entry);
		outq_item_free(oq, o);
	}
	oq->n = 0;
}

void
outq_ack(uint64_t id)
{
	struct ipc_body_delivery b = { id };

	if (worker_send(IPC_DELIVERY_ACK, 0, &b) == -1)
		fatalx("%s: hub queue full", __func__);
}

void
outq_fail(uint64_t id, const char *code, const char *why, uint64_t retry_ms)
{
	struct ipc_body_delivery_fail b;

	b.id = id;
	b.code = ipc_s(code);
	b.message = ipc_s(why);
	b.retry_after_ms = retry_ms;
	if (worker_send(IPC_DELIVERY_FAIL, 0, &b) == -1)
		fatalx("%s: hub queue full", __func__);
}
