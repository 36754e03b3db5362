/*
 * Seccomp rules for the configuration reader (supervisor/conf_reader.c):
 * blocking frames over its one socket to the parent, the parsers'
 * allocations, and OpenSSL to try the console's certificate and key
 * (config_console.c).  Its root is empty (a schedule's zone file is the
 * parent's to read: conf_reader.c), so an open finds nothing; it stays
 * allowed, read only, for libraries that look for their own files at
 * initialisation.  No sockets, no processes, no ids.
 */
#include <fcntl.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW_ARG(openat, 2, SCMP_CMP_MASKED_EQ,
	    O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY,
	    "a library's own file, read only: none in the empty root"),
	SB_ALLOW(lseek, "stdio on such a file"),
	/* glibc's qsort sizes its buffer by it; OpenSSL sorts at init. */
	SB_ALLOW(sysinfo, "OpenSSL trying the console's TLS pair"),
};

const struct sb_profile profile_conf = {
	"conf", rules, SB_NRULES(rules)
};
