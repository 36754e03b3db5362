/*
 * Sandbox step 6: Landlock, for kinds that keep directories (the hub's
 * state directory).  The kernel refuses every file access outside them
 * whatever the mount namespace let through, so the limit also holds
 * where namespaces are unavailable (no root, no user namespaces).
 * Every filesystem right the running kernel's ABI knows is handled;
 * all are granted beneath rw_dir, reading beneath each ro_dir.
 *
 * The paths are opened here, after step 3: ns.c bound them back at the
 * same places, and step 1 would have closed anything opened earlier.
 * A kernel without Landlock leaves the layer off with the reason,
 * logged and never fatal; the namespaces and seccomp still stand.
 * Must run while the process has one thread: the domain binds the
 * calling thread and the threads it starts afterwards.
 */
#include <sys/syscall.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* Newer than linux-libc-dev 6.1; masked out by the ABI when absent. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif

/* ABI 1: EXECUTE through MAKE_SYM. */
#define LL_ABI1		((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)
#define LL_READ		(LANDLOCK_ACCESS_FS_READ_FILE | \
			    LANDLOCK_ACCESS_FS_READ_DIR)

static uint64_t
ll_rights(int abi)
{
	uint64_t all = LL_ABI1;

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static int
ll_off(struct sandbox_report *r, const char *what, int err)
{
	snprintf(r->why[SB_LANDLOCK], sizeof(r->why[SB_LANDLOCK]), "%s: %s",
	    what, strerror(err));
	return -1;
}

/* 0, or -1 with errno from open or the rule. */
static int
ll_allow(int rfd, const char *path, uint64_t rights)
{
	struct landlock_path_beneath_attr pb;
	int fd, rv, saved;

	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights;
	pb.parent_fd = fd;
	rv = (int)syscall(SYS_landlock_add_rule, rfd,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	saved = errno;
	close(fd);
	errno = saved;
	return rv == -1 ? -1 : 0;
}

int
sandbox_landlock(const struct sandbox_spec *spec, struct sandbox_report *r)
{
	struct landlock_ruleset_attr attr;
	const char *const *ro;
	char *why = r->why[SB_LANDLOCK];
	size_t len = sizeof(r->why[SB_LANDLOCK]);
	int abi, rfd, nro = 0, rv = -1;

	r->on[SB_LANDLOCK] = 0;
	if (spec->rw_dir == NULL && spec->ro_dirs == NULL) {
		snprintf(why, len, "not used: this kind opens no files");
		return 0;
	}
	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		snprintf(why, len, "kernel has no Landlock: %s",
		    errno == ENOSYS ? "ENOSYS" : "EOPNOTSUPP (off at boot)");
		log_warnx("sandbox: %s: landlock off: %s", spec->kind, why);
		return 0;
	}
	if (abi == -1)
		return ll_off(r, "landlock ABI version", errno);

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = ll_rights(abi);
	if ((rfd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1)
		return ll_off(r, "landlock_create_ruleset", errno);
	if (spec->rw_dir != NULL &&
	    ll_allow(rfd, spec->rw_dir, attr.handled_access_fs) == -1) {
		ll_off(r, spec->rw_dir, errno);
		goto out;
	}
	for (ro = spec->ro_dirs; ro != NULL && *ro != NULL; ro++) {
		if (ll_allow(rfd, *ro, LL_READ) == 0)
			nro++;
		else if (errno != ENOENT && errno != ENOTDIR)
			log_warnx("sandbox: %s: %s: not kept: %s", spec->kind,
			    *ro, strerror(errno));
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		ll_off(r, "landlock_restrict_self", errno);
		goto out;
	}
	r->on[SB_LANDLOCK] = 1;
	if (spec->rw_dir != NULL)
		snprintf(why, len, "ABI %d: files only beneath %s (rw)%s",
		    abi, spec->rw_dir, nro > 0 ? " + read-only dirs" : "");
	else
		snprintf(why, len, "ABI %d: files only beneath read-only dirs",
		    abi);
	rv = 0;
 out:
	close(rfd);
	return rv;
}
