/*
 * The files a configuration names, read as root (conf_file.h).  The
 * root parent runs this for the configuration reader: what it hands
 * back is exactly what config_load() used to read itself, with the same
 * checks, so a secret file's owner and mode are still root's to judge.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_file.h"
#include "xmalloc.h"

/*
 * A regular file, opened without waiting (O_NONBLOCK: a FIFO would wait
 * for a writer, a device might never end); a secret also is no link,
 * ours or root's, and closed to group and others.  The fd, or -1 with
 * why ("path: " pfx "reason").
 */
static int
conf_file_open(const char *path, int secret, const char *pfx,
    struct stat *st, char *why, size_t whylen)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    (secret ? O_NOFOLLOW : 0))) == -1 || fstat(fd, st) == -1) {
		snprintf(why, whylen, "%s: %s%s", path, pfx, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* The reader tells a zone's directory by "not a regular file". */
	if (!S_ISREG(st->st_mode))
		snprintf(why, whylen, "%s: %s%s", path, pfx,
		    S_ISDIR(st->st_mode) && *pfx != '\0' ? strerror(EISDIR) :
		    "not a regular file");
	else if (secret && st->st_uid != 0 && st->st_uid != geteuid())
		snprintf(why, whylen, "%s: owned by uid %u, not by us or root",
		    path, (unsigned)st->st_uid);
	else if (secret && (st->st_mode & (S_IRWXG | S_IRWXO)))
		snprintf(why, whylen, "%s: group or others may access it "
		    "(chmod 600)", path);
	else
		return fd;
	close(fd);
	return -1;
}

/* Up to bufsz - 1 bytes, NUL-terminated; a file growing meanwhile is cut. */
static int
conf_file_bytes(int fd, char *buf, size_t bufsz, size_t *lenp)
{
	size_t len = 0;
	ssize_t n;

	while (len < bufsz - 1) {
		n = read(fd, buf + len, bufsz - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return 0;
}

int
conf_file_text(const char *path, char **textp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = conf_file_open(path, 0, "cannot open: ", &st, err,
	    errlen)) == -1)
		return -1;
	if (st.st_size > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: file is larger than %d bytes", path,
		    CONF_FILE_MAX);
		close(fd);
		return -1;
	}
	/* Read what fstat saw. */
	*textp = xmalloc(st.st_size + 1);
	if (conf_file_bytes(fd, *textp, st.st_size + 1, lenp) == -1) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		free(*textp);
		*textp = NULL;
	}
	close(fd);
	return *textp == NULL ? -1 : 0;
}

static int
conf_file_get(int secret, const char *path, char *buf, size_t bufsz,
    size_t *lenp, char *why, size_t whylen)
{
	struct stat st;
	int fd, rv = 0;

	if ((fd = conf_file_open(path, secret, "", &st, why, whylen)) == -1)
		return -1;
	if (!secret && (uintmax_t)st.st_size > bufsz - 1) {
		snprintf(why, whylen, "%s: larger than %zu bytes", path,
		    bufsz - 1);
		rv = -1;
	} else if (conf_file_bytes(fd, buf, bufsz, lenp) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		rv = -1;
	}
	close(fd);
	return rv;
}

int
conf_file_read(int what, const char *path, char *buf, size_t bufsz,
    size_t *lenp, char *why, size_t whylen)
{
	*lenp = 0;
	if (bufsz > 0)
		buf[0] = '\0';
	switch (what) {
	case CONF_FILE_SECRET:
		if (bufsz == 0)
			break;
		return conf_file_get(1, path, buf, bufsz, lenp, why, whylen);
	case CONF_FILE_PUBLIC:
		if (bufsz == 0)
			break;
		return conf_file_get(0, path, buf, bufsz, lenp, why, whylen);
	case CONF_FILE_EXEC:
		/* No PATH search: the program that runs is the one named. */
		if (access(path, X_OK) == -1) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	snprintf(why, whylen, "%s: not a file the configuration reads", path);
	return -1;
}
