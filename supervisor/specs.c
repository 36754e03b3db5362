/*
 * The sandboxes of the processes the root parent re-executes besides
 * the workers (whose specs are workers/worker.c's): the hub and the
 * configuration reader.  Apart from hub.c and conf_reader.c, since
 * --check-sandbox (child.c) tries them beside the workers'.  The root
 * parent names no spec and does not link this file.
 */
#include <string.h>

#include "entry.h"
#include "sandbox.h"

/*
 * The hub's sandbox: its store's directory, zoneinfo for schedules.  It
 * drops root first and builds its namespaces through a user namespace,
 * as a worker does; its uid is its own (SB_S_OWNUID: sup_ids), so
 * that namespace maps it, and files it makes in its store stay its.
 */
void
hub_spec(struct sandbox_spec *sb, const char *dir)
{
	static const char *const ro[] = { "/usr/share/zoneinfo", NULL };

	memset(sb, 0, sizeof(*sb));
	sb->kind = "hub";
	sb->seccomp = "hub";
	sb->flags = SB_S_NONET | SB_S_THREADS | SB_S_OWNUID;
	sb->rw_dir = dir;
	sb->ro_dirs = ro;
}

/*
 * The reader's sandbox: nothing of the host's files.  It drops root
 * first and builds its namespaces in a user namespace, as a worker
 * does, unmapped (its uid is the workers'): with no directory to keep
 * it needs no map, and it checks a schedule's tz by the parent's read
 * of the zone file (conf_reader.c: reader_tz_peek).
 */
void
reader_spec(struct sandbox_spec *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->kind = "conf";
	sb->seccomp = "conf";
	sb->flags = SB_S_NONET;
}
