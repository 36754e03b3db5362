/*
 * wxgate-child --check-sandbox, past root: every worker kind's spec and
 * the configuration reader's, tried as the workers' user, which
 * child.c's fork has already dropped to (dropped: that drop's report).
 */
#include <stdlib.h>

#include "entry.h"
#include "sandbox.h"
#include "worker.h"
#include "xmalloc.h"

int
check_kinds(const struct sandbox_conf *sc, const struct sandbox_report *dropped)
{
	const struct wk_kind *const *kinds;
	struct sandbox_spec *specs;
	size_t i, n;
	int rv;

	kinds = worker_kinds(&n);
	specs = xcalloc(n + 1, sizeof(*specs));
	for (i = 0; i < n; i++)
		worker_spec(kinds[i], &specs[i]);
	reader_spec(&specs[n]);
	rv = sandbox_check(specs, n + 1, sc, dropped);
	free(specs);
	return rv;
}
