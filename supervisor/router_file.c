/*
 * Files an agent's reply carries (agent.file): an image or a file the
 * agent made, its bytes from the reply itself, never fetched or opened
 * on its behalf.  Held with the request until the reply is stored, then
 * queued after the reply's text in the same turn (channel.c), so a file
 * is sent exactly once, in its place, as text is.
 *
 * Bounded: IPC_FILES_REPLY_MAX files a reply, media.max_bytes together,
 * RF_HELD_MAX bytes held over all requests.  A file past a bound is
 * dropped and said so in the reply's text; one that breaks the rules
 * (not a sealed memfd of its size, a kind not image or file) is a
 * violation, and the agent's worker is killed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "areq.h"
#include "channel_media.h"
#include "codec.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "router_int.h"
#include "sha.h"
#include "store.h"
#include "xmalloc.h"

#define RF_FILES_MAX	4
#define RF_HELD_MAX	(64 * 1024 * 1024)

static uint64_t	rf_held;	/* bytes held over all requests */

/* A line in the reply's text for a file that will not come. */
static void
rf_note(struct areq *r, const char *name, uint64_t size, const char *why)
{
	char *s;

	log_warnx("agent reply %llu: file %s (%llu bytes) dropped: %s",
	    (unsigned long long)r->id, name, (unsigned long long)size, why);
	xasprintf(&s, "\n[file \"%s\" (%llu bytes) not sent: %s]", name,
	    (unsigned long long)size, why);
	if (evbuffer_get_length(r->reply) + strlen(s) <= IPC_REPLY_MAX)
		evbuffer_add(r->reply, s, strlen(s));
	free(s);
}

int
sup_agent_file(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_agent_file *b = &m->b.agent_file;
	struct areq_file *f;
	struct areq *r;
	uint64_t total = 0;
	const char *why;
	char name[IPC_FILENAME_MAX + 1];
	unsigned char *p;
	uint8_t *data;
	size_t i;

	if (!ipc_streq(b->kind, "image") && !ipc_streq(b->kind, "file")) {
		log_warnx("%s: %s: a file of kind %.*s", __func__, w->name,
		    (int)b->kind.len, b->kind.p);
		return -1;
	}
	if ((data = media_fd_read(m->fd, b->size, &why)) == NULL) {
		log_warnx("%s: %s: %s", __func__, w->name, why);
		return -1;
	}
	/* Shown in quotes on one line, never used as a path. */
	snprintf(name, sizeof(name), "%.*s", (int)b->name.len, b->name.p);
	for (p = (unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' ||
		    *p == '/')
			*p = '_';
	if ((r = areq_of(w, m)) == NULL || r->done) {
		free(data);
		return 0;
	}
	for (i = 0; i < r->nfiles; i++)
		total += r->files[i].size;
	why = NULL;
	if (r->origin != AREQ_CHANNEL)
		why = "only a channel's chats take files";
	else if (r->nfiles == RF_FILES_MAX)
		why = "too many files in one reply";
	else if (total + b->size > config_media_max(sup->conf))
		why = "the reply's files are over media.max_bytes";
	else if (rf_held + b->size > RF_HELD_MAX)
		why = "too many files wait to be stored";
	if (why != NULL) {
		rf_note(r, name, b->size, why);
		free(data);
		return 0;
	}
	r->files = xreallocarray(r->files, r->nfiles + 1, sizeof(*r->files));
	f = &r->files[r->nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->kind, sizeof(f->kind), "%.*s", (int)b->kind.len,
	    b->kind.p);
	f->data = data;
	f->size = b->size;
	rf_held += f->size;
	sha256(data, f->size, f->sha256);
	return 0;
}

void
router_files_queue(struct areq *r, int seq)
{
	struct store_attach at;
	size_t i;
	int n;

	for (i = 0; i < r->nfiles && r->origin == AREQ_CHANNEL; i++) {
		memset(&at, 0, sizeof(at));
		at.name = r->files[i].name;
		at.kind = r->files[i].kind;
		at.data = r->files[i].data;
		at.size = r->files[i].size;
		memcpy(at.sha256, r->files[i].sha256, sizeof(at.sha256));
		if ((n = channel_reply_file(r->account, r->peer, r->ctx,
		    r->msg_id, seq, &at)) > 0)
			seq += n;
	}
}

void
router_files_free(struct areq *r)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++) {
		rf_held -= r->files[i].size;
		free(r->files[i].data);
	}
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
}
