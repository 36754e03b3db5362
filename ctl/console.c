/*
 * wxgatectl console-url [--operator name] and wxgatectl console
 * revoke-all: the operator console's one-time login link, and the end
 * of every console session (supervisor/console.c).  The link is
 * printed alone on stdout and works once: it is a secret until used.
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "ctl.h"

static int	console_revoke_all(int, int, char **);

static const struct subcmd console_cmds[] = {
	{ "revoke-all",	console_revoke_all },
};

/* "-" asks for the first operator of console.operators. */
int
cmd_console_url(int fd, int argc, char **argv)
{
	struct ipc_body_name b;
	struct ipc_msg m;
	int rv;

	if (argc == 0)
		b.name = ipc_s("-");
	else if (argc == 2 && strcmp(argv[0], "--operator") == 0)
		b.name = ipc_s(argv[1]);
	else
		usage();
	if (b.name.len == 0 || b.name.len > IPC_NAME_MAX)
		usage();
	ctl_send(fd, IPC_CTL_CONSOLE_URL, &b);
	if ((rv = ctl_result(fd, &m, 1)) != 0)
		return rv;
	printf("%.*s\n", (int)m.b.result.message.len, m.b.result.message.p);
	return 0;
}

int
cmd_console(int fd, int argc, char **argv)
{
	return subcmd_run(console_cmds, sizeof(console_cmds) /
	    sizeof(console_cmds[0]), fd, argc, argv);
}

static int
console_revoke_all(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };
	struct ipc_msg m;

	(void)argv;
	if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_CONSOLE_REVOKE, &e);
	return ctl_result(fd, &m, 0);
}
