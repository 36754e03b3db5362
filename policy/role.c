/*
 * Roles: who may send what.  The allowlists derive from the sender column
 * of the IPC catalogue, so a new message cannot be added without saying
 * who may send it; the supervisor asks role_may_send() for every frame
 * before its handler runs.
 *
 * This file also names methods for the config's narrowing of a role
 * (policy.roles) and for the supervisor's answer to a browser that calls
 * another role's method.  Method names the design gives a role before
 * their messages exist are reserved here, so that no config can grant
 * them to webchat ahead of time.  It keeps the denial counters, and
 * never decides anything from a frame's content: only from the channel.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "role.h"

static const struct {
	int		 role;
	const char	*name;
} roles[] = {
	{ ROLE_SUP,		"supervisor" },
	{ ROLE_WEBCHAT,		"webchat" },
	{ ROLE_CHANNEL,		"channel" },
	{ ROLE_AGENT,		"agent" },
	{ ROLE_OPERATOR,	"operator" },
	{ ROLE_METRICS,		"metrics" },
	{ ROLE_CONSOLE,		"console" },
};

#define NROLES	(sizeof(roles) / sizeof(roles[0]))

/* Planned methods (docs/architecture.md, "Roles"), not yet messages. */
static const struct {
	const char	*name;
	int		 role;
} role_reserved[] = {
	{ "workers.list",	ROLE_OPERATOR },
	{ "workers.restart",	ROLE_OPERATOR },
	{ "sessions.list",	ROLE_OPERATOR },
	{ "sessions.revoke",	ROLE_OPERATOR },
	{ "send",		ROLE_OPERATOR },
};

#define NRESERVED	(sizeof(role_reserved) / sizeof(role_reserved[0]))

/* Catalogue numbers to probe: every range of ipc_msg.h. */
#define ROLE_TYPE_MIN	100
#define ROLE_TYPE_MAX	1049

static uint64_t	role_denials[NROLES];

const char *
role_name(int role)
{
	size_t i;

	for (i = 0; i < NROLES; i++)
		if (roles[i].role == role)
			return roles[i].name;
	return "unknown";
}

int
role_may_send(int role, uint32_t type)
{
	const struct ipc_msginfo *mi;

	if ((mi = ipc_msginfo(type)) == NULL)
		return 0;
	/* Exactly one role bit: a combined mask is a programming error. */
	if (role == 0 || (role & (role - 1)) != 0)
		return 0;
	return (mi->roles & role) != 0;
}

/*
 * A method is a request one role makes: a catalogue type with exactly
 * one sending role that is not the supervisor, and not bookkeeping.
 */
static int
role_type_is_method(const struct ipc_msginfo *mi)
{
	if (mi == NULL || (mi->flags & MSG_INTERNAL) ||
	    mi->roles == ROLE_SUP || (mi->roles & (mi->roles - 1)) != 0)
		return 0;
	return 1;
}

int
role_is_method(uint32_t type)
{
	return role_type_is_method(ipc_msginfo(type));
}

int
role_of_method(const char *name, size_t len, uint32_t *type)
{
	const struct ipc_msginfo *mi;
	uint32_t t;
	size_t i;

	if (type != NULL)
		*type = IPC_NONE;
	for (t = ROLE_TYPE_MIN; t <= ROLE_TYPE_MAX; t++) {
		if (!role_type_is_method(mi = ipc_msginfo(t)))
			continue;
		if (strlen(mi->name) == len &&
		    memcmp(mi->name, name, len) == 0) {
			if (type != NULL)
				*type = t;
			return mi->roles;
		}
	}
	for (i = 0; i < NRESERVED; i++)
		if (strlen(role_reserved[i].name) == len &&
		    memcmp(role_reserved[i].name, name, len) == 0)
			return role_reserved[i].role;
	return 0;
}

void
role_deny(int role)
{
	size_t i;

	for (i = 0; i < NROLES; i++)
		if (roles[i].role == role)
			role_denials[i]++;
}

uint64_t
role_denied(int role)
{
	size_t i;

	for (i = 0; i < NROLES; i++)
		if (roles[i].role == role)
			return role_denials[i];
	return 0;
}

/* The chat commands' words, in bit order; command.c answers them. */
static const char *const role_cmd_words[] = { "help", "new", "stop",
    "model", "unbind" };

uint32_t
role_command_bit(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(role_cmd_words) / sizeof(role_cmd_words[0]);
	    i++)
		if (strlen(role_cmd_words[i]) == len &&
		    memcmp(role_cmd_words[i], word, len) == 0)
			return 1U << i;
	return 0;
}

/* "help, new, ...": for a message, so that it names every word. */
void
role_commands_list(char *buf, size_t len)
{
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < sizeof(role_cmd_words) / sizeof(role_cmd_words[0]);
	    i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    i > 0 ? ", " : "", role_cmd_words[i]);
}

uint32_t
role_commands_all(void)
{
	return (1U << (sizeof(role_cmd_words) / sizeof(role_cmd_words[0]))) -
	    1;
}
