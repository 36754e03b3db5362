/*
 * Seccomp profiles: one table of rules per worker kind, read by
 * seccomp.c.  Every rule carries its reason.  A syscall matched by no
 * rule traps, and the trap handler ends the process (sigsys.c).  A
 * kind's rule that allows or fails a syscall otherwise than the common
 * profile replaces every common rule for that syscall.
 */
#ifndef WX_PROFILE_H
#define WX_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#define SB_ANYARG	-1
#define SB_SELF		UINT64_MAX	/* datum: our own pid, at load time */

struct sb_rule {
	int			 nr;	/* __NR_* or SCMP_SYS() */
	int			 err;	/* 0 allows; else fails with this errno */
	int			 arg;	/* SB_ANYARG, or the argument compared */
	enum scmp_compare	 op;
	uint64_t		 a;
	uint64_t		 b;
	const char		*why;
};

struct sb_profile {
	const char		*kind;
	const struct sb_rule	*rules;
	size_t			 n;
};

#define SB_ALLOW(call, why) \
	{ SCMP_SYS(call), 0, SB_ANYARG, SCMP_CMP_EQ, 0, 0, why }
#define SB_ALLOW_ARG(call, arg, op, a, b, why) \
	{ SCMP_SYS(call), 0, arg, op, a, b, why }
#define SB_DENY(call, err, why) \
	{ SCMP_SYS(call), err, SB_ANYARG, SCMP_CMP_EQ, 0, 0, why }
#define SB_NRULES(t)	(sizeof(t) / sizeof((t)[0]))

extern const struct sb_profile	profile_common;
extern const struct sb_profile	profile_sanitizer;
extern const struct sb_profile	profile_webchat;
extern const struct sb_profile	profile_agent;
extern const struct sb_profile	profile_net;
extern const struct sb_profile	profile_webhook;
extern const struct sb_profile	profile_callback;
extern const struct sb_profile	profile_media;
extern const struct sb_profile	profile_hub;
extern const struct sb_profile	profile_db;
extern const struct sb_profile	profile_conf;
extern const struct sb_profile	profile_command_child;

#endif
