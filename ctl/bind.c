/*
 * wxgatectl bind and channels (issue #13): binding invitations, and the
 * channel accounts with the bound ones among them.  Shapes requests and
 * prints rows; wxgated judges templates, lifetimes and names, and its
 * ctl.result says what is wrong.
 */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "ctl.h"

static int	bind_create(int, int, char **);
static int	bind_list(int, int, char **);
static int	bind_revoke(int, int, char **);
static int	channels_list(int, int, char **);
static int	channels_remove(int, int, char **);

static const struct subcmd bind_cmds[] = {
	{ "create",	bind_create },
	{ "list",	bind_list },
	{ "revoke",	bind_revoke },
};

static const struct subcmd channels_cmds[] = {
	{ "list",	channels_list },
	{ "remove",	channels_remove },
};

int
cmd_bind(int fd, int argc, char **argv)
{
	return subcmd_run(bind_cmds, sizeof(bind_cmds) / sizeof(bind_cmds[0]),
	    fd, argc, argv);
}

int
cmd_channels(int fd, int argc, char **argv)
{
	return subcmd_run(channels_cmds, sizeof(channels_cmds) /
	    sizeof(channels_cmds[0]), fd, argc, argv);
}

static int
bind_create(int fd, int argc, char **argv)
{
	struct ipc_body_bind_create b;
	unsigned long long uses;
	long long ttl;
	int i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--template") == 0 && i + 1 < argc)
			b.tmpl = ipc_s(argv[++i]);
		else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
			if ((ttl = parse_ttl(argv[++i])) == -1) {
				fprintf(stderr, "wxgatectl: bad ttl: %s\n",
				    argv[i]);
				return EX_USAGE;
			}
			b.ttl_s = (uint64_t)ttl;
		} else if (strcmp(argv[i], "--uses") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], UINT32_MAX, &uses) == -1) {
				fprintf(stderr, "wxgatectl: bad uses: %s\n",
				    argv[i]);
				return EX_USAGE;
			}
			b.uses = uses;
		} else
			usage();
	}
	if (b.tmpl.len == 0 || b.tmpl.len > IPC_NAME_MAX)
		usage();
	ctl_send(fd, IPC_CTL_BIND_CREATE, &b);
	return ctl_url(fd);
}

static void
invite_row(const struct ipc_msg *m)
{
	const struct ipc_body_invite_row *r = &m->b.invite_row;
	char created[32], expires[32], revoked[32];

	fmt_time(r->created, created, sizeof(created));
	fmt_time(r->expires, expires, sizeof(expires));
	fmt_time(r->revoked, revoked, sizeof(revoked));
	printf("%-6llu %-16.*s %-20s %-20s %5llu %5llu  %s\n",
	    (unsigned long long)r->id, (int)r->tmpl.len, r->tmpl.p, created,
	    expires, (unsigned long long)r->uses_left,
	    (unsigned long long)r->used, revoked);
}

static int
bind_list(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argv;
	if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_BIND_LIST, &e);
	printf("%-6s %-16s %-20s %-20s %5s %5s  %s\n", "ID", "TEMPLATE",
	    "CREATED", "EXPIRES", "LEFT", "USED", "REVOKED");
	return ctl_rows(fd, IPC_CTL_INVITE, invite_row);
}

static int
bind_revoke(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_BIND_REVOKE);
}

static void
channel_row(const struct ipc_msg *m)
{
	const struct ipc_body_channel_row *r = &m->b.channel_row;

	printf("%-20.*s %-14.*s %-7.*s %-14.*s %-15.*s %.*s\n",
	    (int)r->name.len, r->name.p, (int)r->kind.len, r->kind.p,
	    (int)r->source.len, r->source.p,
	    r->tmpl.len > 0 ? (int)r->tmpl.len : 1,
	    r->tmpl.len > 0 ? r->tmpl.p : "-",
	    (int)r->state.len, r->state.p,
	    r->owner.len > 0 ? (int)r->owner.len : 1,
	    r->owner.len > 0 ? r->owner.p : "-");
}

static int
channels_list(int fd, int argc, char **argv)
{
	struct ipc_body_empty e = { 0 };

	(void)argv;
	if (argc != 0)
		usage();
	ctl_send(fd, IPC_CTL_CHANNELS, &e);
	printf("%-20s %-14s %-7s %-14s %-15s %s\n", "NAME", "KIND", "SOURCE",
	    "TEMPLATE", "STATE", "OWNER");
	return ctl_rows(fd, IPC_CTL_CHANNEL, channel_row);
}

static int
channels_remove(int fd, int argc, char **argv)
{
	return name_cmd(fd, argc, argv, IPC_CTL_CHANNEL_REMOVE);
}
