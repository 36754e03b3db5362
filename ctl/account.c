/*
 * wxgatectl account pause NAME, account resume NAME: a channel account
 * stopped, its outbound messages held in the outbox, until
 * resumed; kept across a restart (supervisor/pause.c).
 */
#include "codec.h"
#include "ctl.h"

static int	account_pause(int, int, char **);
static int	account_resume(int, int, char **);

static const struct subcmd account_cmds[] = {
	{ "pause",	account_pause },
	{ "resume",	account_resume },
};

int
cmd_account(int fd, int argc, char **argv)
{
	return subcmd_run(account_cmds, sizeof(account_cmds) /
	    sizeof(account_cmds[0]), fd, argc, argv);
}

static int
account_pause(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_ACCOUNT_PAUSE);
}

static int
account_resume(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_ACCOUNT_RESUME);
}
