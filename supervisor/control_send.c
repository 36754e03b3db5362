/*
 * wxgatectl send --file (ctl.send_file): the file comes as the frame's
 * descriptor, opened by wxgatectl with the operator's own rights; this
 * file never opens a path a client names.  It reads the descriptor
 * whole (bounded), decides file or image from the bytes, and hands them
 * to channel.c, which queues them as an outbox row like any reply's.
 * Called from control.c's handler table only.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel_media.h"
#include "codec.h"
#include "control_int.h"
#include "hub.h"
#include "log.h"
#include "sha.h"
#include "store.h"
#include "xmalloc.h"

/* What the platforms take as an image (WeCom's robot: 2 MiB). */
#define CS_IMAGE_MAX	(2 * 1024 * 1024)

static const uint8_t png_magic[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
    0x1a, '\n' };
static const uint8_t jpg_magic[] = { 0xff, 0xd8, 0xff };

static int
cs_is_image(const uint8_t *p, size_t len)
{
	return (len >= sizeof(png_magic) &&
	    memcmp(p, png_magic, sizeof(png_magic)) == 0) ||
	    (len >= sizeof(jpg_magic) &&
	    memcmp(p, jpg_magic, sizeof(jpg_magic)) == 0);
}

/*
 * fd's bytes, at most max of them.  Only a sealed memfd is read
 * (wxgatectl copies the file into one): its bytes are in memory and
 * cannot change, so a file on a slow mount, a FUSE file that never
 * answers or one being written can never stall the hub's loop.
 */
static uint8_t *
cs_read(int fd, size_t max, size_t *lenp, char *err, size_t errlen)
{
	struct stat sb;
	uint8_t *p;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return NULL;
	}
	if (!media_fd_sealed(fd)) {
		snprintf(err, errlen, "not a sealed memfd (wxgatectl sends "
		    "the file's bytes in one)");
		return NULL;
	}
	if (sb.st_size <= 0 || (uint64_t)sb.st_size > max) {
		snprintf(err, errlen, "%lld bytes; an attachment has 1 to "
		    "%zu%s", (long long)sb.st_size, max, max < IPC_FILE_MAX ?
		    " (a third of supervisor.wal_max_bytes)" : "");
		return NULL;
	}
	if ((p = media_fd_bytes(fd, (size_t)sb.st_size)) == NULL) {
		snprintf(err, errlen, "cannot read the file");
		return NULL;
	}
	*lenp = (size_t)sb.st_size;
	return p;
}

/* "file", "image" or "" (from the bytes); NULL with why in err. */
static const char *
cs_kind(struct ipc_str want, const uint8_t *p, size_t len, char *err,
    size_t errlen)
{
	int image = cs_is_image(p, len);

	if (want.len == 0)
		return image && len <= CS_IMAGE_MAX ? "image" : "file";
	if (ipc_streq(want, "file"))
		return "file";
	if (!ipc_streq(want, "image")) {
		snprintf(err, errlen, "kind is file or image");
		return NULL;
	}
	if (!image)
		snprintf(err, errlen, "not a JPG or PNG image");
	else if (len > CS_IMAGE_MAX)
		snprintf(err, errlen, "an image is at most %d MiB",
		    CS_IMAGE_MAX >> 20);
	else
		return "image";
	return NULL;
}

int
ctl_send_file(struct ctl_client *c, struct ipc_msg *m)
{
	const struct ipc_body_send_file *b = &m->b.send_file;
	struct store_attach at;
	char account[IPC_NAME_MAX + 1], err[256];
	const char *kind;
	int64_t id;
	int rv = -1;

	memset(&at, 0, sizeof(at));
	snprintf(account, sizeof(account), "%.*s", (int)b->channel.len,
	    b->channel.p);
	at.data = cs_read(m->fd, channel_file_max(), &at.size, err,
	    sizeof(err));
	close(m->fd);
	if (at.data == NULL)
		goto out;
	if ((kind = cs_kind(b->kind, at.data, at.size, err,
	    sizeof(err))) == NULL)
		goto out;
	/* A name is the recipient's to see, never a path of ours. */
	if (memchr(b->name.p, '/', b->name.len) != NULL ||
	    memchr(b->name.p, '\0', b->name.len) != NULL) {
		snprintf(err, sizeof(err), "a file's name has no '/'");
		goto out;
	}
	sha256(at.data, at.size, at.sha256);
	at.account = account;
	at.peer = ipc_strdup(b->target);
	at.name = ipc_strdup(b->name);
	at.kind = xstrdup(kind);
	if (channel_send_file(&at, &id, err, sizeof(err)) == -1) {
		free((char *)at.peer);
		goto out;
	}
	log_info("operator (uid %d) sends %s %s (%zu bytes) on %s",
	    (int)c->uid, at.kind, at.name, at.size, account);
	free((char *)at.peer);
	rv = 0;
out:
	store_attach_free(&at);
	if (rv == -1) {
		ctl_result(c, m->req_id, 0, err);
		return 0;
	}
	ctl_delivery(c, m->req_id, id);
	ctl_result(c, m->req_id, 1, "");
	return 0;
}
