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

int
conf_file_text(const char *path, char **textp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* A FIFO or a device could block or never end. */
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    S_ISDIR(st.st_mode) ? strerror(EISDIR) :
		    "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: file is larger than %d bytes", path,
		    CONF_FILE_MAX);
		close(fd);
		return -1;
	}
	/* Read what fstat saw; a file growing meanwhile is cut there. */
	text = xmalloc(st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			close(fd);
			free(text);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	text[len] = '\0';
	*textp = text;
	*lenp = len;
	return 0;
}

/* Up to bufsz - 1 bytes of fd into buf, NUL-terminated. */
static void
conf_file_bytes(int fd, char *buf, size_t bufsz, size_t *lenp)
{
	size_t len = 0;
	ssize_t n;

	while (len < bufsz - 1) {
		n = read(fd, buf + len, bufsz - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
}

/*
 * A secret file: a regular file of ours (or root's) that neither group
 * nor others may read or write, as OpenBSD's check_file_secrecy().  A
 * public one need only be regular and fit; it may be a symbolic link
 * (certbot's live/ names are).
 */
static int
conf_file_get(int secret, const char *path, char *buf, size_t bufsz,
    size_t *lenp, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    (secret ? O_NOFOLLOW : 0))) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (secret && st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: owned by uid %u, not by us or root",
		    path, (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, whylen, "%s: group or others may access it "
		    "(chmod 600)", path);
		close(fd);
		return -1;
	}
	if (!secret && (uintmax_t)st.st_size > bufsz - 1) {
		snprintf(why, whylen, "%s: larger than %zu bytes", path,
		    bufsz - 1);
		close(fd);
		return -1;
	}
	conf_file_bytes(fd, buf, bufsz, lenp);
	close(fd);
	return 0;
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
