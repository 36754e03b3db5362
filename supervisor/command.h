/*
 * Chat commands (command.c): /help, /new, /stop, /model and /unbind,
 * answered by wxgate on every surface.
 */
#ifndef WX_COMMAND_H
#define WX_COMMAND_H

#include <stddef.h>
#include <stdint.h>

struct command;

/* The conversation a command came in, and its own stored message. */
struct worker;

struct cmd_ctx {
	struct worker	*w;		/* it came through, for the audit */
	uint32_t	 allowed;	/* policy.commands of the surface */
	int64_t		 session;
	int64_t		 msg_id;
	const char	*agent;		/* the conversation's */
	const char	*arg;		/* the word after it, or "" */
	const char	*account;	/* a platform's, NULL: web chat */
	const char	*peer;		/* who wrote, on that platform */
};

#define CMD_ARG_MAX	128

/*
 * The command text is, whitespace aside and in any case, with its one
 * argument in arg (CMD_ARG_MAX + 1 bytes); or NULL.
 */
const struct command	*command_find(const char *text, char *arg,
			    size_t arglen);
const char		*command_word(const struct command *);
/*
 * Run it and store reply as the message's answer (never the agent's
 * context): 0, or -1 on a store error (the turn then fails).
 */
int			 command_run(const struct command *,
			    const struct cmd_ctx *, char *reply, size_t len);

#endif
