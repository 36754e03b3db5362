/*
 * What the root parent knows of the sandbox: the ids and flags it hands
 * a hub or worker on argv, and the names of the syscalls that killed
 * one.  The parent's files include this alone, not sandbox.h (which
 * includes it): the parent builds no sandbox and takes no step of one.
 */
#ifndef WX_SANDBOX_CONF_H
#define WX_SANDBOX_CONF_H

#include <sys/types.h>

#include <stddef.h>

struct sandbox_conf {
	uid_t		 uid;		/* drop to these when root */
	gid_t		 gid;
	int		 strict;	/* a layer that is off is fatal */
	int		 log_only;	/* seccomp logs instead of killing */
};

/*
 * The parent hands a hub or worker its sandbox_conf on argv, as
 * "-u uid:gid:strict:log_only" (creds_arg.c; the child parses it with
 * sandbox.h's sandbox_conf_parse, creds_parse.c).  SB_CONF_ARG_MAX
 * holds the longest.
 */
#define SB_CONF_ARG_MAX	32
void		 sandbox_conf_format(const struct sandbox_conf *, char *, size_t);

/* For logs: "execve" rather than 59 (sysname.c). */
const char	*sandbox_syscall_name(long nr);

#endif
