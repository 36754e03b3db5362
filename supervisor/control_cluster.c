/*
 * cluster.show and cluster.drain (wxgatectl cluster, wxgatectl drain,
 * issue #18): what this node of a cluster sees of all of them, read
 * from the shared store (hub_pg_ctl.c), and this node's accounts handed
 * over to the others.  A node alone answers that it is not in one.
 */
#include <stdio.h>
#include <string.h>

#include "control_int.h"
#include "hub.h"
#include "ipc_msg.h"
#include "log.h"

#define NOT_A_CLUSTER	"not a node of a cluster (store: is not " \
			"postgresql://)"

int
ctl_cluster(struct ctl_client *c, struct ipc_msg *m)
{
	if (!hub_pg_on())
		ctl_result(c, m->req_id, 0, NOT_A_CLUSTER);
	else if (hub_pg_cluster(c->id, m->req_id) == -1)
		ctl_result(c, m->req_id, 0, "busy: too many requests waiting "
		    "for the database; try again");
	return 0;
}

/* The answer to one, if its client is still there: lines, or err. */
void
ctl_cluster_answer(uint64_t client, uint64_t req_id, const char *lines,
    const char *err)
{
	struct ctl_client *c;

	if ((c = ctl_client_find(client)) == NULL)
		return;
	if (err != NULL) {
		ctl_result(c, req_id, 0, err);
		return;
	}
	ctl_text(c, req_id, lines);
	ctl_result(c, req_id, 1, "");
}

int
ctl_drain(struct ctl_client *c, struct ipc_msg *m)
{
	char msg[128];
	unsigned held;

	if (hub_pg_drain(&held) == -1) {
		ctl_result(c, m->req_id, 0, NOT_A_CLUSTER);
		return 0;
	}
	log_info("cluster: drained by the operator: %u accounts go to the "
	    "other nodes", held);
	snprintf(msg, sizeof(msg), "draining: %u accounts go to the other "
	    "nodes; this node takes none until it starts again", held);
	ctl_result(c, m->req_id, 1, msg);
	return 0;
}
