/*
 * Seccomp rules the wecom_webhook worker adds to profile_net.c: an
 * outbound.file attachment arrives as a sealed memfd (ipc/ipc_msg.h),
 * which the worker checks and reads whole, once, then closes
 * (workers/wecom_webhook/hook.c).  Nothing here opens a file.
 */
#include <fcntl.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GET_SEALS, 0,
	    "an attachment's memfd is sealed against resizing"),
	SB_ALLOW(pread64, "an attachment's bytes, from offset 0 whatever "
	    "the offset it shares with the hub"),
};

const struct sb_profile profile_webhook = {
	"webhook", rules, SB_NRULES(rules)
};
