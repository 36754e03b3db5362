/*
 * Attachments people send to channel accounts (inbound.media, see
 * ipc/ipc_msg.h): the worker's memfd is checked and read here, each
 * part hashed and named in a note the agent reads with the message's
 * text, and kept in the media area with the message (store_media.c).
 * Called by channel.c's inbound handler, in the turn that stores the
 * message, so the parts and the message commit together or not at all.
 *
 * The descriptor is a worker's: it may be compromised.  Only a sealed
 * regular memfd of exactly the parts' size is read (a pipe could block
 * the hub, an unsealed file could change under the hash); anything else
 * is a violation and the worker is killed.
 */
#include <sys/stat.h>

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel_media.h"
#include "codec.h"
#include "hub.h"
#include "log.h"
#include "sha.h"
#include "store.h"
#include "xmalloc.h"

#define CM_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static const char *const cm_kinds[] = { "image", "file", "voice", "video" };

static const char *
cm_kind(struct ipc_str k)
{
	size_t i;

	for (i = 0; i < sizeof(cm_kinds) / sizeof(cm_kinds[0]); i++)
		if (ipc_streq(k, cm_kinds[i]))
			return cm_kinds[i];
	return NULL;
}

/*
 * A name the agent reads inside quotes on one line: no quote, no
 * backslash, no path separator, no control character.  The platform's
 * name is the sender's text, so it is shown, never used as a path.
 */
static char *
cm_name(struct ipc_str n)
{
	char *s = ipc_strdup(n);
	unsigned char *p;

	for (p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' ||
		    *p == '/')
			*p = '_';
	return s;
}

int
media_fd_sealed(int fd)
{
	int seals;

	return (seals = fcntl(fd, F_GET_SEALS)) != -1 &&
	    (seals & CM_SEALS) == CM_SEALS;
}

uint8_t *
media_fd_bytes(int fd, size_t size)
{
	uint8_t *buf;
	size_t off;
	ssize_t n;

	buf = xmalloc(size);
	for (off = 0; off < size; off += (size_t)n)
		if ((n = pread(fd, buf + off, size - off, (off_t)off)) <= 0) {
			free(buf);
			return NULL;
		}
	return buf;
}

uint8_t *
media_fd_read(int fd, uint64_t size, const char **why)
{
	struct stat sb;
	uint8_t *buf;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		*why = "attachments not in a regular file";
		return NULL;
	}
	if (!media_fd_sealed(fd)) {
		*why = "attachments in an unsealed file";
		return NULL;
	}
	if ((uint64_t)sb.st_size != size || size == 0 || size > IPC_FILE_MAX) {
		*why = "attachments' file of another size than named";
		return NULL;
	}
	if ((buf = media_fd_bytes(fd, (size_t)size)) == NULL)
		*why = "attachments' file could not be read";
	return buf;
}

int
chan_media_read(struct chan_media *md, int fd, const struct ipc_parts *parts,
    uint64_t max, const char **why)
{
	uint64_t total = 0;
	size_t i, off;

	memset(md, 0, sizeof(*md));
	for (i = 0; i < parts->n; i++) {
		if ((md->v[i].kind = cm_kind(parts->v[i].kind)) == NULL) {
			*why = "an attachment of an unknown kind";
			return -1;
		}
		total += parts->v[i].size;
	}
	if (parts->n == 0 || total > max) {
		*why = "attachments over media.max_bytes";
		return -1;
	}
	if ((md->buf = media_fd_read(fd, total, why)) == NULL)
		return -1;
	md->len = total;
	for (i = 0, off = 0; i < parts->n; i++) {
		md->v[i].name = cm_name(parts->v[i].name);
		md->v[i].off = off;
		md->v[i].size = parts->v[i].size;
		off += md->v[i].size;
		md->n = i + 1;
		sha256(md->buf + md->v[i].off, md->v[i].size,
		    md->v[i].sha256);
	}
	return 0;
}

/*
 * The text the agent gets: the person's words, then one line per part.
 * The hash lets an agent (or a test) tell parts apart and match them
 * byte for byte without being handed the bytes.
 */
char *
chan_media_text(const struct chan_media *md, struct ipc_str text)
{
	char hex[2 * sizeof(md->v[0].sha256) + 1];
	char *out, *line;
	size_t i, j;

	out = ipc_strdup(text);
	for (i = 0; i < md->n; i++) {
		for (j = 0; j < sizeof(md->v[i].sha256); j++)
			snprintf(hex + 2 * j, 3, "%02x", md->v[i].sha256[j]);
		xasprintf(&line, "%s%s[attachment: %s \"%s\", %zu bytes, "
		    "sha256 %s]", out, *out != '\0' ? "\n" : "",
		    md->v[i].kind, md->v[i].name, md->v[i].size, hex);
		free(out);
		out = line;
	}
	return out;
}

int
chan_media_store(const struct chan_media *md, const char *account,
    int64_t msg_id)
{
	struct store_media sm;
	size_t i;

	for (i = 0; i < md->n; i++) {
		memset(&sm, 0, sizeof(sm));
		sm.account = account;
		sm.msg_id = msg_id;
		sm.seq = (unsigned)i;
		sm.kind = md->v[i].kind;
		sm.name = md->v[i].name;
		sm.data = md->buf + md->v[i].off;
		sm.size = md->v[i].size;
		memcpy(sm.sha256, md->v[i].sha256, sizeof(sm.sha256));
		if (store_media_add(sup->store, &sm, sup_now()) == -1)
			return -1;
	}
	return 0;
}

/*
 * The bytes as a sealed memfd: a worker can read them, never change
 * them, and sees exactly size of them.  Written with pwrite so the
 * shared offset stays 0 for the worker's read.  -1 on failure.
 */
int
media_memfd(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("wxgate-file", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		log_warn("%s: memfd_create", __func__);
		return -1;
	}
	while (off < size) {
		n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("%s: write", __func__);
			goto bad;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		log_warn("%s: F_ADD_SEALS", __func__);
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

struct cm_gather {
	struct media_out	*mo;
	int			 images;
	uint8_t			*buf;
	size_t			 len;
};

static int
cm_gather_one(const struct store_media *m, void *arg)
{
	struct cm_gather *g = arg;
	struct media_out *mo = g->mo;
	size_t i = mo->parts.n;

	if (i == IPC_PARTS_MAX || (g->images && strcmp(m->kind, "image") != 0))
		return 0;
	if (m->size > IPC_FILE_MAX - g->len)
		return 1;
	g->buf = xreallocarray(g->buf, g->len + m->size, 1);
	memcpy(g->buf + g->len, m->data, m->size);
	g->len += m->size;
	snprintf(mo->kind[i], sizeof(mo->kind[i]), "%s", m->kind);
	snprintf(mo->name[i], sizeof(mo->name[i]), "%s", m->name);
	mo->parts.v[i].kind = ipc_s(mo->kind[i]);
	mo->parts.v[i].name = ipc_s(mo->name[i]);
	mo->parts.v[i].size = m->size;
	mo->parts.n = i + 1;
	return 0;
}

int
media_for_agent(int64_t msg_id, int images, struct media_out *mo)
{
	struct cm_gather g = { mo, images, NULL, 0 };
	int fd = -1;

	mo->parts.n = 0;
	if (store_media_each(sup->store, msg_id, cm_gather_one, &g) == 0 &&
	    mo->parts.n > 0)
		fd = media_memfd(g.buf, g.len);
	free(g.buf);
	if (fd == -1)
		mo->parts.n = 0;
	return fd;
}

void
chan_media_free(struct chan_media *md)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		free(md->v[i].name);
	free(md->buf);
	memset(md, 0, sizeof(*md));
}
