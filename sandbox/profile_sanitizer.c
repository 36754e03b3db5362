/*
 * Extra seccomp rules for ASan/UBSan builds only (the test suite runs
 * once under them): the sanitizer runtime's own allocator and reporting.
 * seccomp.c adds these only when a sanitizer is compiled in.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <termios.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(sigaltstack, "ASan's per-thread alternate stack"),
	SB_ALLOW(sched_yield, "the sanitizer allocator's spin locks"),
	SB_ALLOW(getrlimit, "ASan checks stack limits when reporting"),
	SB_ALLOW(prlimit64, "ASan checks stack limits when reporting"),
	SB_ALLOW(readlink, "a report names the binary"),
	SB_ALLOW(mincore, "ASan probes mappings when unwinding"),
	SB_ALLOW_ARG(prctl, 0, SCMP_CMP_EQ, PR_GET_DUMPABLE, 0,
	    "a report checks whether it may dump"),
	SB_ALLOW(pread64, "reading /proc/self/maps when it is reachable"),
	SB_ALLOW(getdents64, "listing /proc/self/task on a report"),
	SB_ALLOW(sched_getaffinity, "pthread_getattr_np when ASan starts "
	    "a thread (the hub's checkpointer)"),
	/*
	 * A report asks isatty(stderr) to choose colours; without this the
	 * report dies of SIGSYS before a word of it is written.
	 */
	SB_ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, TCGETS, 0,
	    "isatty() when a report picks its colours"),
};

const struct sb_profile profile_sanitizer = {
	"sanitizer", rules, SB_NRULES(rules)
};
