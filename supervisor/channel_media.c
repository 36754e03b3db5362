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

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "channel_media.h"
#include "codec.h"
#include "store.h"
#include "sup.h"
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
chan_media_read(struct chan_media *md, int fd, const struct ipc_parts *parts,
    uint64_t max, const char **why)
{
	struct stat sb;
	uint64_t total = 0;
	size_t i, off;
	unsigned int mdlen;
	ssize_t n;
	int seals;

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
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		*why = "attachments not in a regular file";
		return -1;
	}
	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 ||
	    (seals & CM_SEALS) != CM_SEALS) {
		*why = "attachments in an unsealed file";
		return -1;
	}
	if ((uint64_t)sb.st_size != total) {
		*why = "attachments' file of another size than their parts";
		return -1;
	}
	md->buf = xmalloc(total);
	md->len = total;
	for (off = 0; off < total; off += (size_t)n)
		if ((n = pread(fd, md->buf + off, total - off,
		    (off_t)off)) <= 0) {
			*why = "attachments' file could not be read";
			chan_media_free(md);
			return -1;
		}
	for (i = 0, off = 0; i < parts->n; i++) {
		md->v[i].name = cm_name(parts->v[i].name);
		md->v[i].off = off;
		md->v[i].size = parts->v[i].size;
		off += md->v[i].size;
		md->n = i + 1;
		if (EVP_Digest(md->buf + md->v[i].off, md->v[i].size,
		    md->v[i].sha256, &mdlen, EVP_sha256(), NULL) != 1 ||
		    mdlen != sizeof(md->v[i].sha256)) {
			*why = "attachments could not be hashed";
			chan_media_free(md);
			return -1;
		}
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

void
chan_media_free(struct chan_media *md)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		free(md->v[i].name);
	free(md->buf);
	memset(md, 0, sizeof(*md));
}
