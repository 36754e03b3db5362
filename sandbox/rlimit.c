/*
 * Sandbox step 2: resource limits.  No core files (they would hold
 * session tokens), a bounded number of descriptors, a bounded address
 * space, and no new processes for kinds that never need one.
 */
#include <sys/resource.h>

#include <stdio.h>

#include "log.h"
#include "sandbox.h"

/* Enough for the web chat pool's connections plus a few files. */
#define RL_NOFILE	4096
/* Plenty for a worker whose buffers are all bounded; a leak stops here. */
#define RL_AS		(1024UL * 1024 * 1024)


static void
rl_set(int res, rlim_t v, const char *name)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) == 0)
		return;
	/* Only lowering: a smaller inherited hard limit stays as it is. */
	if (getrlimit(res, &rl) == -1)
		fatal("%s: getrlimit %s", __func__, name);
	if (rl.rlim_max > v)
		fatal("%s: setrlimit %s", __func__, name);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(res, &rl) == -1)
		fatal("%s: setrlimit %s", __func__, name);
}

void
sandbox_rlimits(const struct sandbox_spec *spec, struct sandbox_report *r)
{
	rl_set(RLIMIT_CORE, 0, "RLIMIT_CORE");
	rl_set(RLIMIT_NOFILE, RL_NOFILE, "RLIMIT_NOFILE");
	/* ASan reserves terabytes of shadow memory up front. */
	if (!SB_SANITIZER)
		rl_set(RLIMIT_AS, RL_AS, "RLIMIT_AS");
	/* Counted per uid; root ignores it, the dropped uid does not. */
	if (!(spec->flags & SB_S_THREADS))
		rl_set(RLIMIT_NPROC, 0, "RLIMIT_NPROC");
	r->on[SB_RLIMITS] = 1;
	snprintf(r->why[SB_RLIMITS], sizeof(r->why[SB_RLIMITS]),
	    "core 0, nofile %d%s%s", RL_NOFILE,
	    SB_SANITIZER ? "" : ", as 1 GiB",
	    spec->flags & SB_S_THREADS ? "" : ", nproc 0");
}
