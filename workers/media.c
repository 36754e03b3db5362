/*
 * Attachments to the supervisor in a sealed memfd (media.h).  Sealing
 * is what lets the hub trust the size it reads: once sealed, neither
 * this worker nor anyone it is compromised by can grow, shrink or
 * rewrite the bytes the hub has already checked.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "log.h"
#include "media.h"
#include "worker.h"

#define MEDIA_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
			    F_SEAL_SEAL)

void
wk_media_init(struct wk_media *m, uint64_t max)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->max = max > IPC_FILE_MAX || max == 0 ? IPC_FILE_MAX : max;
}

static int
media_write(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
wk_media_add(struct wk_media *m, const char *kind, const char *name,
    const void *data, size_t len, const char **why)
{
	if (len == 0) {
		*why = "empty";
		return -1;
	}
	if (m->n == IPC_PARTS_MAX) {
		*why = "too many parts";
		return -1;
	}
	if (len > m->max - m->total) {
		*why = "over media.max_bytes";
		return -1;
	}
	if (m->fd == -1 &&
	    (m->fd = memfd_create("wx-media", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (media_write(m->fd, data, len) == -1) {
		/* Out of memory: the parts before it go with this one. */
		*why = strerror(errno);
		close(m->fd);
		m->fd = -1;
		m->n = 0;
		m->total = 0;
		return -1;
	}
	snprintf(m->kind[m->n], sizeof(m->kind[m->n]), "%s", kind);
	snprintf(m->name[m->n], sizeof(m->name[m->n]), "%s",
	    name != NULL ? name : "");
	m->size[m->n] = len;
	m->total += len;
	m->n++;
	return 0;
}

int
wk_media_send(struct wk_media *m, uint64_t req_id, struct ipc_body_inbound *b)
{
	size_t i;
	int seals, dfd;

	b->parts.n = 0;
	if (m->n == 0)
		return worker_send(IPC_INBOUND, req_id, b);
	if ((seals = fcntl(m->fd, F_GET_SEALS)) == -1 ||
	    ((seals & MEDIA_SEALS) != MEDIA_SEALS &&
	    fcntl(m->fd, F_ADD_SEALS, MEDIA_SEALS) == -1)) {
		log_warn("%s: sealing the attachments", __func__);
		return -1;
	}
	for (i = 0; i < m->n; i++) {
		b->parts.v[i].kind = ipc_s(m->kind[i]);
		b->parts.v[i].name = ipc_s(m->name[i]);
		b->parts.v[i].size = m->size[i];
	}
	b->parts.n = m->n;
	/* The frame takes its own descriptor: a retry sends another. */
	if ((dfd = dup(m->fd)) == -1) {
		log_warn("%s: dup", __func__);
		return -1;
	}
	return worker_send_fd(IPC_INBOUND_MEDIA, req_id, b, dfd);
}

void
wk_media_clear(struct wk_media *m)
{
	if (m->fd != -1)
		close(m->fd);
	wk_media_init(m, m->max);
}

int
wk_media_fd_ok(int fd, uint64_t size)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != size)
		return 0;
	seals = fcntl(fd, F_GET_SEALS);
	return seals != -1 &&
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
	    (F_SEAL_SHRINK | F_SEAL_GROW);
}
