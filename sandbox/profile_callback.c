/*
 * Seccomp rules the callback channel workers (wechat_mp, wecom_app,
 * workers/callback/) add to profile_net.c, which lets them dial the
 * platform's API: they accept on the listening socket the parent bound
 * for their account and handed them, and never bind or listen on one
 * of their own.  getsockname and getpeername are the net profile's.
 * An image, voice message or video a user sent goes to the hub in a
 * sealed memfd (workers/media.c), as profile_media.c allows the other
 * channels: its rules are repeated here, since a kind has two tables at
 * most.
 */
#include <fcntl.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(accept4, "the platform's requests on the handed socket"),
	SB_ALLOW(accept, "the platform's requests on the handed socket"),
	SB_ALLOW(listen, "evconnlistener re-arms the handed socket"),
	SB_ALLOW(memfd_create, "an inbound message's image, voice or video"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_ADD_SEALS, 0,
	    "the media memfd sealed before it is passed"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GET_SEALS, 0,
	    "sealed already, when a message goes a second time"),
	SB_ALLOW(dup, "each send passes its own descriptor of the memfd"),
};

const struct sb_profile profile_callback = {
	"callback", rules, SB_NRULES(rules)
};
