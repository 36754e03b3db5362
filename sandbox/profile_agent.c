/*
 * Seccomp rules for agent workers.  The echo backend needs nothing
 * beyond the common profile: it only talks to the supervisor, and the
 * command backend only adds the pipes to its program, which read and
 * write cover.  The openai backend dials out: it adds profile_net.c.
 */
#include "profile.h"

const struct sb_profile profile_agent = {
	"agent", NULL, 0
};
