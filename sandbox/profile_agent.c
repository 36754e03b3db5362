/*
 * Seccomp rules for agent workers.  The echo backend needs nothing
 * beyond the common profile: it only talks to the supervisor.  Backends
 * that dial out add their socket rules here, after a comment saying so.
 */
#include "profile.h"

const struct sb_profile profile_agent = {
	"agent", NULL, 0
};
