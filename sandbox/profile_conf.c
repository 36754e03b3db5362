/*
 * Seccomp rules for the configuration reader (supervisor/conf_reader.c):
 * blocking frames over its one socket to the parent, the parsers'
 * allocations, and zoneinfo files read to check a schedule's tz (the
 * empty root and Landlock keep it to those), and OpenSSL to try the
 * console's certificate and key (config_console.c).  Files are opened for
 * reading only; no sockets, no processes, no ids.
 */
#include <fcntl.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW_ARG(openat, 2, SCMP_CMP_MASKED_EQ,
	    O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY,
	    "a schedule's tz file, read only"),
	SB_ALLOW(lseek, "stdio on a zoneinfo file"),
	/* glibc's qsort sizes its buffer by it; OpenSSL sorts at init. */
	SB_ALLOW(sysinfo, "OpenSSL trying the console's TLS pair"),
};

const struct sb_profile profile_conf = {
	"conf", rules, SB_NRULES(rules)
};
