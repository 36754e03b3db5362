/*
 * The sandbox of the hub and the workers: entered once, in two phases
 * (sandbox_drop before anything is read, sandbox_confine before any
 * untrusted input).  See sandbox.c for the order.
 */
#ifndef WX_SANDBOX_H
#define WX_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>

#include "sandbox_conf.h"

/*
 * What one sandbox is for.  The sandbox knows nothing of workers: a
 * worker fills this in from its kind (worker.c: worker_spec).  Zero it
 * first: a field a caller does not know of must read as NULL.
 */
#define SB_S_NONET	0x01	/* never dials out: an empty net namespace */
#define SB_S_THREADS	0x02	/* needs threads: RLIMIT_NPROC left alone */
#define SB_S_OWNUID	0x08	/* a uid no other process has: mapped (ns.c) */

struct sandbox_spec {
	const char	*kind;		/* "webchat": for messages */
	const char	*seccomp;	/* profile_<name>.c's allowlist */
	int		 flags;		/* SB_S_* */
	/*
	 * Directories kept at their own absolute paths inside the empty
	 * root (ns.c) and by Landlock (landlock.c); NULL for kinds that
	 * open no files.  rw_dir stays writable; ro_dirs is NULL or a
	 * NULL-terminated list kept read-only, missing ones skipped.
	 */
	const char	*rw_dir;
	const char *const *ro_dirs;
};

/*
 * Sanitizer builds (the test suite runs once under ASan+UBSan) keep
 * stderr for reports, skip the address-space limit ASan's shadow memory
 * cannot live with, and allow the runtime's own syscalls.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SB_SANITIZER	1
#endif
#endif
#ifndef SB_SANITIZER
#define SB_SANITIZER	0
#endif

enum sb_layer {
	SB_FDS,			/* every fd but the IPC socket closed */
	SB_RLIMITS,		/* no core, bounded fds, address space, procs */
	SB_USERNS,		/* unprivileged user namespace (no root) */
	SB_MOUNTNS,		/* empty read-only root */
	SB_NETNS,		/* no interfaces (kinds that never dial out) */
	SB_IPCNS,
	SB_UTSNS,
	SB_CREDS,		/* unprivileged uid/gid, no groups */
	SB_NNP,			/* PR_SET_NO_NEW_PRIVS */
	SB_LANDLOCK,		/* files only beneath rw_dir and ro_dirs */
	SB_SECCOMP,		/* per-kind syscall allowlist */
	SB_NLAYERS
};

/*
 * The -u argument the parent wrote (sandbox_conf_format, in
 * sandbox_conf.h); -1 on anything else (creds_parse.c).
 */
int		 sandbox_conf_parse(const char *, struct sandbox_conf *);

struct sandbox_report {
	int		 on[SB_NLAYERS];
	char		 why[SB_NLAYERS][96];	/* when off, or a detail */
};

/*
 * Both die (fatalx) if a mandatory layer cannot be applied.  Between
 * them the caller runs as the unprivileged user with the host's files
 * still in sight; sandbox_enter is the two back to back.
 */
void		 sandbox_drop(const struct sandbox_spec *,
		    const struct sandbox_conf *, struct sandbox_report *);
void		 sandbox_confine(const struct sandbox_spec *,
		    const struct sandbox_conf *, struct sandbox_report *);
void		 sandbox_enter(const struct sandbox_spec *, const struct sandbox_conf *,
		    struct sandbox_report *);
const char	*sandbox_layer_name(enum sb_layer);
void		 sandbox_summary(const struct sandbox_report *, char *, size_t);
/*
 * wxgated --check-sandbox: a table of every layer for every kind,
 * tried as the user the caller dropped to (dropped: its drop's report)
 * with conf, those ids.  A kind that keeps a directory not made yet
 * gets a stand-in first (tmp: its path, "" for none; rmdir it after).
 */
void		 sandbox_check_standin(struct sandbox_spec *, char *tmp,
		    size_t);
int		 sandbox_check(const struct sandbox_spec *specs, size_t nspecs,
		    const struct sandbox_conf *conf,
		    const struct sandbox_report *dropped);

/* Steps, one file each. */
void		 sandbox_fds(void);
/* Before sandbox_confine: an fd of the kind's own that step 1 keeps. */
void		 sandbox_keep_fd(int);
/*
 * For a helper program a kind starts (the command agent): in the forked
 * child, before execve, load the interpreter allowlist of
 * profile_command.c with kill as the default.  -1 on failure.
 */
int		 sandbox_seccomp_child(void);
int		 sandbox_seccomp_deny(const char *const []);
void		 sandbox_rlimits(const struct sandbox_spec *, struct sandbox_report *);
void		 sandbox_ns(const struct sandbox_spec *, const struct sandbox_conf *,
		    struct sandbox_report *);
/*
 * In sandbox_drop, before the uid drop, for namespaces built after it:
 * the rw_dir entered (chdir) while root can walk its path.
 */
void		 sandbox_ns_open(const struct sandbox_spec *);
void		 sandbox_creds(const struct sandbox_conf *,
		    struct sandbox_report *);
/* -1 when Landlock exists but could not be applied; see landlock.c. */
int		 sandbox_landlock(const struct sandbox_spec *,
		    struct sandbox_report *);
int		 sandbox_seccomp(const struct sandbox_spec *, int log_only);
void		 sandbox_sigsys_init(void);

#endif
