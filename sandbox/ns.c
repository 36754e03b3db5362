/*
 * Sandbox step 3: namespaces.  A mount namespace whose root is an empty
 * read-only tmpfs (nothing of the host's files is visible but the
 * directories a kind keeps: the hub's state directory), a network
 * namespace with no interfaces for kinds that only use fds they were
 * handed, and fresh IPC and UTS namespaces.  Root is gone by then
 * (never had, or dropped in sandbox_drop by every process): an
 * unprivileged user namespace provides the privilege to build these,
 * and every capability it grants is dropped again before no_new_privs.
 * A kept rw_dir is entered before the drop (sandbox_ns_open), so one
 * below a directory only root may walk is bound all the same.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "nsdirs.h"
#include "sandbox.h"

/* Mounted over in our namespace only; it is the new root. */
#define NS_ROOT		"/tmp"

static void	ns_drop_caps(void);

static int
ns_write(const char *path, const char *text)
{
	ssize_t n, len = (ssize_t)strlen(text);
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, text, (size_t)len);
	close(fd);
	return n == len ? 0 : -1;
}

static void
ns_off(struct sandbox_report *r, enum sb_layer l, const char *what, int err)
{
	r->on[l] = 0;
	snprintf(r->why[l], sizeof(r->why[l]), "%s: %s", what,
	    strerror(err));
}

/* The maps of our own uid and gid: nothing else exists in there. */
static int
ns_map(uid_t uid, gid_t gid, struct sandbox_report *r)
{
	char map[64];

	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (ns_write("/proc/self/setgroups", "deny") == -1 ||
	    ns_write("/proc/self/uid_map", map) == -1) {
		ns_off(r, SB_USERNS, "uid_map", errno);
		return -1;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (ns_write("/proc/self/gid_map", map) == -1) {
		ns_off(r, SB_USERNS, "gid_map", errno);
		return -1;
	}
	return 0;
}

/*
 * Map our own uid and gid only.  A process that dropped root is not
 * dumpable, so its /proc files stay root's and it cannot write the
 * maps.  A worker stays so: another process of its uid (nobody: the
 * other workers, the host's) could attach while it was dumpable.  It
 * stays unmapped, its ids read as the overflow id inside, which builds
 * the namespaces all the same; it only cannot create files in its own
 * tmpfs, which a kind that keeps no directory never needs.  The hub
 * keeps directories, whose paths are made in that tmpfs, and has a uid
 * no other process has (SB_S_OWNUID: main.c, sup_ids): it is
 * dumpable for the three writes only, then not again, and only root
 * could have attached meanwhile.
 */
static int
ns_user(const struct sandbox_spec *spec, struct sandbox_report *r)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int dumpable = prctl(PR_GET_DUMPABLE) == 1, lend, rv;

	lend = !dumpable && (spec->flags & SB_S_OWNUID);
	if (!dumpable && !lend &&
	    (spec->rw_dir != NULL || spec->ro_dirs != NULL)) {
		ns_off(r, SB_USERNS, "kept directories need a uid map, and "
		    "root was dropped first", EPERM);
		return -1;
	}
	if (unshare(CLONE_NEWUSER) == -1) {
		ns_off(r, SB_USERNS, "unshare(CLONE_NEWUSER)", errno);
		return -1;
	}
	r->on[SB_USERNS] = 1;
	if (!dumpable && !lend) {
		snprintf(r->why[SB_USERNS], sizeof(r->why[SB_USERNS]),
		    "uid %u unmapped, capabilities dropped", (unsigned)uid);
		return 0;
	}
	if (lend && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	rv = ns_map(uid, gid, r);
	if (lend && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	if (rv == -1) {
		/* In it all the same: keep nothing it granted. */
		ns_drop_caps();
		return -1;
	}
	snprintf(r->why[SB_USERNS], sizeof(r->why[SB_USERNS]),
	    "uid %u mapped to itself, capabilities dropped", (unsigned)uid);
	return 0;
}

/* "empty read-only root + /var/lib/wxgate (rw) + 1 dir (ro)" */
static void
ns_describe(const struct sandbox_spec *spec, const struct nsdirs *nd,
    char *why, size_t len)
{
	char ro[48] = "";

	if (nd->nro > 0)
		snprintf(ro, sizeof(ro), " + %zu dir%s (ro)", nd->nro,
		    nd->nro == 1 ? "" : "s");
	snprintf(why, len, "empty read-only root%s%s%s%s",
	    spec->rw_dir != NULL ? " + " : "",
	    spec->rw_dir != NULL ? spec->rw_dir : "",
	    spec->rw_dir != NULL ? " (rw)" : "", ro);
}

/*
 * Before the uid drop, for namespaces built after it: the kept rw_dir
 * made our working directory while root can still walk its path (it
 * may lie below one only root may enter, as a test's private /tmp).
 * No fd would do: a bind's source must be a mount of our own mount
 * namespace, and unshare(CLONE_NEWNS) moves the working directory
 * (and nothing else we hold) into the new one, where /proc/self/cwd
 * leads to it without a lookup in any directory.  The read-only ones
 * are opened by path later, as the unprivileged user.
 */
static int	ns_rw_cwd;

void
sandbox_ns_open(const struct sandbox_spec *spec)
{
	if (spec->rw_dir == NULL)
		return;
	/* Else nsdirs.c says why, by its path, when it tries again. */
	if (chdir(spec->rw_dir) == 0)
		ns_rw_cwd = 1;
}

/*
 * The new root: an empty tmpfs with the kind's directories bound back
 * in (nsdirs.c), then read-only, entered by pivot_root.
 */
static int
ns_mount(const struct sandbox_spec *spec, struct sandbox_report *r)
{
	char *why = r->why[SB_MOUNTNS];
	size_t len = sizeof(r->why[SB_MOUNTNS]);
	struct nsdirs nd;
	int rv = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		ns_off(r, SB_MOUNTNS, "make / private", errno);
		return -1;
	}
	/* Before the tmpfs: it may cover them. */
	if (nsdirs_open(spec, ns_rw_cwd ? "/proc/self/cwd" : NULL, &nd, why,
	    len) == -1)
		return -1;
	/* Room for the directories leading to the kept ones. */
	if (mount("wxgate", NS_ROOT, "tmpfs", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, nd.n > 0 ? "size=64k,nr_inodes=64,mode=0555" :
	    "size=16k,nr_inodes=16,mode=0555") == -1) {
		ns_off(r, SB_MOUNTNS, "mount tmpfs", errno);
		goto out;
	}
	if (nsdirs_bind(&nd, NS_ROOT, why, len) == -1) {
		/* Uncover whatever lay under NS_ROOT again. */
		umount2(NS_ROOT, MNT_DETACH);
		goto out;
	}
	if (chdir(NS_ROOT) == -1 ||
	    syscall(SYS_pivot_root, ".", ".") == -1 ||
	    umount2(".", MNT_DETACH) == -1 || chdir("/") == -1) {
		ns_off(r, SB_MOUNTNS, "pivot_root", errno);
		goto out;
	}
	/* The root alone: the binds keep the flags they were given. */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1) {
		ns_off(r, SB_MOUNTNS, "remount / read-only", errno);
		goto out;
	}
	r->on[SB_MOUNTNS] = 1;
	ns_describe(spec, &nd, why, len);
	rv = 0;
 out:
	nsdirs_close(&nd);
	return rv;
}

/* Whatever a user namespace granted, keep none of it. */
static void
ns_drop_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
	    0 };
	struct __user_cap_data_struct data[2];
	int cap;

	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL)
			fatal("%s: PR_CAPBSET_DROP", __func__);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("%s: capset", __func__);
}

void
sandbox_ns(const struct sandbox_spec *spec, const struct sandbox_conf *conf,
    struct sandbox_report *r)
{
	int flags;

	(void)conf;
	if (!(spec->flags & SB_S_NONET))
		snprintf(r->why[SB_NETNS], sizeof(r->why[SB_NETNS]),
		    "not used: this kind dials out");
	/* Never root here: sandbox_creds ran first, and refuses uid 0. */
	if (ns_user(spec, r) == -1) {
		/* Without privileges nothing below can be built. */
		ns_off(r, SB_MOUNTNS, "needs a user namespace", EPERM);
		if (spec->flags & SB_S_NONET)
			ns_off(r, SB_NETNS, "needs a user namespace",
			    EPERM);
		ns_off(r, SB_IPCNS, "needs a user namespace", EPERM);
		ns_off(r, SB_UTSNS, "needs a user namespace", EPERM);
		return;
	}
	if (unshare(CLONE_NEWNS) == -1)
		ns_off(r, SB_MOUNTNS, "unshare(CLONE_NEWNS)", errno);
	else
		ns_mount(spec, r);
	if (spec->flags & SB_S_NONET) {
		if (unshare(CLONE_NEWNET) == -1)
			ns_off(r, SB_NETNS, "unshare(CLONE_NEWNET)", errno);
		else {
			r->on[SB_NETNS] = 1;
			snprintf(r->why[SB_NETNS], sizeof(r->why[SB_NETNS]),
			    "no interfaces: only handed fds");
		}
	}
	flags = CLONE_NEWIPC;
	if (unshare(flags) == -1)
		ns_off(r, SB_IPCNS, "unshare(CLONE_NEWIPC)", errno);
	else {
		r->on[SB_IPCNS] = 1;
		snprintf(r->why[SB_IPCNS], sizeof(r->why[SB_IPCNS]),
		    "private System V IPC");
	}
	if (unshare(CLONE_NEWUTS) == -1)
		ns_off(r, SB_UTSNS, "unshare(CLONE_NEWUTS)", errno);
	else {
		r->on[SB_UTSNS] = 1;
		sethostname("wxgate", 6);
		snprintf(r->why[SB_UTSNS], sizeof(r->why[SB_UTSNS]),
		    "hostname \"wxgate\"");
	}
	ns_drop_caps();
}
