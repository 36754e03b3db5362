/*
 * Seccomp rules the callback channel workers (wechat_mp, wecom_app,
 * workers/callback/) add to profile_net.c, which lets them dial the
 * platform's API: they accept on the listening socket the parent bound
 * for their account and handed them, and never bind or listen on one
 * of their own.  getsockname and getpeername are the net profile's.
 */
#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(accept4, "the platform's requests on the handed socket"),
	SB_ALLOW(accept, "the platform's requests on the handed socket"),
	SB_ALLOW(listen, "evconnlistener re-arms the handed socket"),
};

const struct sb_profile profile_callback = {
	"callback", rules, SB_NRULES(rules)
};
