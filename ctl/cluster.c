/*
 * wxgatectl cluster: the nodes and leases of a cluster as the shared
 * store has them (any node's control socket answers for all), and
 * wxgatectl drain: this node hands its accounts to the others
 * (supervisor/control_cluster.c).
 */
#include <stdio.h>

#include "codec.h"
#include "ctl.h"

static void
cluster_line(const struct ipc_msg *m)
{
	fwrite(m->b.text.text.p, 1, m->b.text.text.len, stdout);
}

int
cmd_cluster(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argc;
	(void)argv;
	ctl_send(fd, IPC_CTL_CLUSTER, &e);
	return ctl_rows(fd, IPC_CTL_TEXT, cluster_line);
}

int
cmd_drain(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };
	struct ipc_msg m;

	(void)argc;
	(void)argv;
	ctl_send(fd, IPC_CTL_DRAIN, &e);
	return ctl_result(fd, &m, 0);
}
