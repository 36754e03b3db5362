/*
 * Chat commands, the same on every surface (the web chat, WeChat,
 * WeCom): a message that is exactly one of these words is answered by
 * wxgate in the turn that stores it and never reaches the agent, so it
 * costs no agent time and is answered once like any message.  Anything
 * else, other "/words" included, is the agent's to read.  Called by
 * router_chat.c (web chat) and channel.c (platform accounts), after
 * their admission: a command is rate-limited like a message.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "store.h"
#include "sup.h"

static void	cmd_help(const struct cmd_ctx *, char *, size_t);
static void	cmd_new(const struct cmd_ctx *, char *, size_t);
static void	cmd_stop(const struct cmd_ctx *, char *, size_t);

static const struct command {
	const char	*word;
	const char	*help;
	void		(*run)(const struct cmd_ctx *, char *, size_t);
} commands[] = {
	{ "/help",	"these commands",			cmd_help },
	{ "/new",	"a new conversation: the agent forgets this one",
								cmd_new },
	{ "/stop",	"stop the answer being written",	cmd_stop },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

const struct command *
command_find(const char *text)
{
	size_t i, len;

	while (isspace((unsigned char)*text))
		text++;
	len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	for (i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].word) == len &&
		    strncasecmp(commands[i].word, text, len) == 0)
			return &commands[i];
	return NULL;
}

const char *
command_word(const struct command *c)
{
	return c->word;
}

int
command_run(const struct command *c, const struct cmd_ctx *x, char *reply,
    size_t len)
{
	c->run(x, reply, len);
	return store_msg_command(sup->store, x->msg_id, reply, sup_now());
}

static void
cmd_help(const struct cmd_ctx *x, char *reply, size_t len)
{
	size_t i, n = 0;
	int w;

	(void)x;
	for (i = 0; i < NCOMMANDS && n < len; i++) {
		w = snprintf(reply + n, len - n, "%s%s  %s", i ? "\n" : "",
		    commands[i].word, commands[i].help);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* The agent's context starts after this message (store_context). */
static void
cmd_new(const struct cmd_ctx *x, char *reply, size_t len)
{
	if (store_new_context(sup->store, x->session, x->msg_id) == -1) {
		snprintf(reply, len, "Could not start a new conversation; "
		    "try again.");
		return;
	}
	snprintf(reply, len, "A new conversation: the agent no longer sees "
	    "what came before.");
}

static void
cmd_stop(const struct cmd_ctx *x, char *reply, size_t len)
{
	int n;

	n = router_stop_session(x->session);
	log_debug("%s: session %lld: %d answer(s) stopped", __func__,
	    (long long)x->session, n);
	snprintf(reply, len, "%s", n > 0 ? "Stopped." :
	    "No answer is being written.");
}
