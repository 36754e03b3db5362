/*
 * Seccomp rules a channel worker that receives attachments adds to
 * profile_net.c: it builds each message's parts in a memfd and seals it
 * before the supervisor gets a descriptor (workers/media.c).  One that
 * sends them reads the supervisor's sealed memfd (wecom_bot's and
 * wechat's upload.c).  Nothing here opens a file; write, close and
 * fstat are in the common profile.
 */
#include <fcntl.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(memfd_create, "an inbound message's attachments"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_ADD_SEALS, 0,
	    "sealing that memfd before the supervisor reads it"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GET_SEALS, 0,
	    "sealed already, when a message goes a second time; an outbound "
	    "attachment's memfd checked before it is read"),
	SB_ALLOW(pread64, "an outbound attachment's bytes, from offset 0 "
	    "whatever the shared file offset says"),
	SB_ALLOW(pwrite64, "a command agent's attachment, written without "
	    "moving the offset the program reads from"),
	SB_ALLOW(dup, "each send passes its own descriptor of the memfd, "
	    "which the worker keeps until the message is acked"),
};

const struct sb_profile profile_media = {
	"media", rules, SB_NRULES(rules)
};
