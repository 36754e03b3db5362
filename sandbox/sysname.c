/*
 * A syscall's name for the logs, by libseccomp's table: apart from
 * seccomp.c, since the root parent names the syscalls that killed its
 * children and builds no filter.
 */
#include <stdio.h>
#include <stdlib.h>

#include <seccomp.h>

#include "sandbox_conf.h"

/* For logs: "execve" rather than 59. */
const char *
sandbox_syscall_name(long nr)
{
	static char name[64];
	char *s;

	if ((s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
	    (int)nr)) == NULL) {
		snprintf(name, sizeof(name), "syscall %ld", nr);
		return name;
	}
	snprintf(name, sizeof(name), "%s", s);
	free(s);
	return name;
}
