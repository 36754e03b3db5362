/*
 * Directories kept inside the empty root (spec->rw_dir, spec->ro_dirs):
 * the hub keeps its state directory so SQLite can go on opening the
 * database by its usual path.  Each is opened O_PATH before the tmpfs
 * goes over NS_ROOT (a state directory may itself live under /tmp;
 * rw_dir through /proc/self/cwd when ns.c entered it before the drop),
 * its path is made again inside the tmpfs, and the open directory is
 * bound there through /proc/self/fd.  The binds keep their own flags
 * when ns.c remounts the root read-only: rw_dir stays writable,
 * ro_dirs are remounted read-only, all nosuid, nodev and noexec.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "nsdirs.h"

/* Absolute, not the root itself, no "." or ".." to walk out with. */
static int
nsdirs_path_ok(const char *path)
{
	const char *p, *e;
	size_t len;

	if (path[0] != '/' || strlen(path) >= PATH_MAX / 2)
		return 0;
	for (p = path; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		if ((e = strchr(p, '/')) == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
	}
	return strspn(path, "/") != strlen(path);
}

/* path: where it is kept; from: what to open, NULL for path itself. */
static int
nsdirs_add(struct nsdirs *nd, const char *path, const char *from, int ro,
    char *why, size_t len)
{
	int fd;

	if (!nsdirs_path_ok(path))
		fatalx("%s: %s: not a plain absolute path", __func__, path);
	if (nd->n == NSDIRS_MAX)
		fatalx("%s: more than %d directories", __func__, NSDIRS_MAX);
	if ((fd = open(from != NULL ? from : path,
	    O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		/* A read-only extra the host lacks is simply not there. */
		if (ro && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		if (ro) {
			log_warnx("sandbox: %s: %s: not kept", path,
			    strerror(errno));
			return 0;
		}
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	nd->d[nd->n].path = path;
	nd->d[nd->n].fd = fd;
	nd->d[nd->n].ro = ro;
	nd->n++;
	if (ro)
		nd->nro++;
	return 0;
}

int
nsdirs_open(const struct sandbox_spec *spec, const char *rwfrom,
    struct nsdirs *nd, char *why, size_t len)
{
	const char *const *ro;
	struct nsdir t;
	size_t i, j;

	memset(nd, 0, sizeof(*nd));
	if (spec->rw_dir != NULL &&
	    nsdirs_add(nd, spec->rw_dir, rwfrom, 0, why, len) == -1)
		return -1;
	for (ro = spec->ro_dirs; ro != NULL && *ro != NULL; ro++)
		if (nsdirs_add(nd, *ro, NULL, 1, why, len) == -1) {
			nsdirs_close(nd);
			return -1;
		}
	/* Shorter first: one nested in another is bound on top of it. */
	for (i = 1; i < nd->n; i++)
		for (j = i; j > 0 && strlen(nd->d[j - 1].path) >
		    strlen(nd->d[j].path); j--) {
			t = nd->d[j];
			nd->d[j] = nd->d[j - 1];
			nd->d[j - 1] = t;
		}
	return 0;
}

/* mkdir -p below root, which is our fresh tmpfs. */
static int
nsdirs_mkdirs(char *target, size_t rootlen)
{
	char *p = target + rootlen;
	int last;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return 0;
		p += strcspn(p, "/");
		last = *p == '\0';
		*p = '\0';
		if (mkdir(target, 0555) == -1 && errno != EEXIST)
			return -1;
		if (last)
			return 0;
		*p = '/';
	}
}

int
nsdirs_bind(struct nsdirs *nd, const char *root, char *why, size_t len)
{
	char target[PATH_MAX], src[32];
	unsigned long flags;
	struct nsdir *d;
	size_t i;

	for (i = 0; i < nd->n; i++) {
		d = &nd->d[i];
		snprintf(target, sizeof(target), "%s%s", root, d->path);
		if (nsdirs_mkdirs(target, strlen(root)) == -1) {
			snprintf(why, len, "mkdir %s: %s", d->path,
			    strerror(errno));
			return -1;
		}
		snprintf(src, sizeof(src), "/proc/self/fd/%d", d->fd);
		/* Not MS_REC: mounts below it stay out of sight. */
		if (mount(src, target, NULL, MS_BIND, NULL) == -1) {
			snprintf(why, len, "bind %s: %s", d->path,
			    strerror(errno));
			return -1;
		}
		/* A bind ignores flags; they take a second call. */
		flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV |
		    MS_NOEXEC | (d->ro ? MS_RDONLY : 0);
		if (mount(NULL, target, NULL, flags, NULL) == -1) {
			snprintf(why, len, "remount %s: %s", d->path,
			    strerror(errno));
			return -1;
		}
		close(d->fd);
		d->fd = -1;
	}
	return 0;
}

void
nsdirs_close(struct nsdirs *nd)
{
	size_t i;

	for (i = 0; i < nd->n; i++)
		if (nd->d[i].fd != -1) {
			close(nd->d[i].fd);
			nd->d[i].fd = -1;
		}
}
