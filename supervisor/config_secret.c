/*
 * Secrets named by the configuration: an agent's API key file and a
 * channel's token file.
 *
 * Called by config_agent.c and config_channel.c while they build.  A
 * secret is never logged nor put into an error message; the buffer
 * that held it is wiped.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "xmalloc.h"

/*
 * The API key file: a regular file of ours (or root's) that neither group
 * nor others may read or write, as OpenBSD's check_file_secrecy().  One
 * line; surrounding white space is dropped.
 */
int
cfg_secret_read(struct cfg_ctx *ctx, const char *field, const char *path,
    char **keyp)
{
	char buf[CFG_KEY_MAX + 2];
	struct stat st;
	size_t len = 0, start = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		cfg_error(ctx, field, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cfg_error(ctx, field, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		cfg_error(ctx, field, "%s: owned by uid %u, not by us or root",
		    path, (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		cfg_error(ctx, field, "%s: group or others may access it "
		    "(chmod 600)", path);
		close(fd);
		return -1;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		buf[--len] = '\0';
	while (start < len && strchr(" \t", buf[start]) != NULL)
		start++;
	if (len - start == 0 || len - start > CFG_KEY_MAX ||
	    !cfg_secret_ok(buf + start)) {
		explicit_bzero(buf, sizeof(buf));
		cfg_error(ctx, field, "%s does not hold one key (printable "
		    "ASCII, no spaces, at most %d bytes)", path, CFG_KEY_MAX);
		return -1;
	}
	*keyp = xstrdup(buf + start);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* Printable ASCII without spaces: it goes into an HTTP header line. */
int
cfg_secret_ok(const char *k)
{
	for (; *k != '\0'; k++)
		if (*k <= ' ' || *k > '~')
			return 0;
	return 1;
}
