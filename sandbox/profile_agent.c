/*
 * Seccomp rules for agent workers.  The echo backend needs nothing
 * beyond the common profile: it only talks to the supervisor.  A
 * request with attachments (agent.request_media) comes with a sealed
 * memfd, read once from offset 0.  The command backend adds its socket
 * and pipe to the program, which read and write cover, and the memfds
 * it hands the program (profile_media.c); the openai backend dials out
 * (profile_net.c).
 */
#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(pread64, "a request's attachments, from offset 0 whatever "
	    "the offset the memfd shares with the hub"),
};

const struct sb_profile profile_agent = {
	"agent", rules, SB_NRULES(rules)
};
