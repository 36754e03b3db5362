/*
 * wxgatectl relay token create|list|revoke: the pairing tokens of relay
 * agents (supervisor/control_relay.c).  create prints the token once,
 * on stdout alone so it can go straight into a file; list never shows
 * one, wxgated does not have them.
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "ctl.h"

static int	token_create(int, int, char **);
static int	token_list(int, int, char **);
static int	token_revoke(int, int, char **);
static int	relay_token(int, int, char **);

static const struct subcmd relay_cmds[] = {
	{ "token",	relay_token },
};

static const struct subcmd token_cmds[] = {
	{ "create",	token_create },
	{ "list",	token_list },
	{ "revoke",	token_revoke },
};

int
cmd_relay(int fd, int argc, char **argv)
{
	return subcmd_run(relay_cmds, sizeof(relay_cmds) /
	    sizeof(relay_cmds[0]), fd, argc, argv);
}

static int
relay_token(int fd, int argc, char **argv)
{
	return subcmd_run(token_cmds, sizeof(token_cmds) /
	    sizeof(token_cmds[0]), fd, argc, argv);
}

/* NAME is the relay agent the token opens. */
static int
token_create(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_RELAY_CREATE);
}

static void
token_row(const struct ipc_msg *m)
{
	const struct ipc_body_relay_row *r = &m->b.relay_row;
	char created[32], used[32], revoked[32];

	fmt_time(r->created, created, sizeof(created));
	fmt_time(r->last_used, used, sizeof(used));
	fmt_time(r->revoked, revoked, sizeof(revoked));
	printf("%-6llu %-16.*s %-20s %-20s %s\n", (unsigned long long)r->id,
	    (int)r->agent.len, r->agent.p, created, used, revoked);
}

static int
token_list(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argv;
	if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_RELAY_LIST, &e);
	printf("%-6s %-16s %-20s %-20s %s\n", "ID", "AGENT", "CREATED",
	    "LAST-USED", "REVOKED");
	return ctl_rows(fd, IPC_CTL_RELAY_TOKEN, token_row);
}

static int
token_revoke(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_RELAY_REVOKE);
}
