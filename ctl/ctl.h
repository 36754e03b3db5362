/*
 * What ctl/wxgatectl.c lends the files that hold a command of their own
 * (ctl/schedule.c): the round trip to wxgated, the shape of a listing,
 * times and durations, and the exit codes, which are part of the
 * interface.  Nothing here keeps state but the one frame buffer.
 */
#ifndef WX_CTL_H
#define WX_CTL_H

#include <stddef.h>
#include <stdint.h>

struct ipc_msg;

#define EX_REFUSED	1	/* wxgated said no */
#define EX_USAGE	2
#define EX_UNREACH	3	/* no control socket, or nonsense from it */
#define EX_TIMEOUT	4	/* no answer within the deadline (-t) */

/* Subcommands, tmux style: one function each. */
struct subcmd {
	const char	 *name;
	int		(*fn)(int, int, char **);
};

void	usage(void) __attribute__((noreturn));
int	subcmd_run(const struct subcmd *, size_t, int, int, char **);

void	ctl_send(int, uint32_t, const void *);
void	ctl_recv(int, struct ipc_msg *);
int	ctl_result(int, struct ipc_msg *, int);
int	ctl_rows(int, uint32_t, void (*)(const struct ipc_msg *));
int	name_cmd(int, int, char **, uint32_t);
int	ctl_url(int);

void	fmt_time(uint64_t, char *, size_t);
long long parse_ttl(const char *);
int	parse_count(const char *, unsigned long long, unsigned long long *);

/* ctl/schedule.c */
int	cmd_schedule(int, int, char **);
/* ctl/relay_token.c */
int	cmd_relay(int, int, char **);
/* ctl/bind.c */
int	cmd_bind(int, int, char **);
int	cmd_channels(int, int, char **);
/* ctl/console.c */
int	cmd_console_url(int, int, char **);
int	cmd_console(int, int, char **);
/* ctl/account.c */
int	cmd_account(int, int, char **);
/* ctl/cluster.c */
int	cmd_cluster(int, int, char **);
int	cmd_drain(int, int, char **);
/* ctl/top.c */
int	cmd_top(int, int, char **);

#endif
