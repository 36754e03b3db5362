/*
 * Role allowlists, derived from the sender column of the IPC catalogue so
 * that a new message cannot be added without saying who may send it.
 * Called by the supervisor for every frame before its handler runs.
 */
#include <stdint.h>

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
};

const char *
role_name(int role)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
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
