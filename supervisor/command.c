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
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "command.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "role.h"
#include "store.h"

static void	cmd_help(const struct cmd_ctx *, char *, size_t);
static void	cmd_new(const struct cmd_ctx *, char *, size_t);
static void	cmd_stop(const struct cmd_ctx *, char *, size_t);
static void	cmd_model(const struct cmd_ctx *, char *, size_t);
static void	cmd_unbind(const struct cmd_ctx *, char *, size_t);

static const struct command {
	const char	*word;
	int		 arg;		/* takes one word after it */
	int		 bound;		/* for bound accounts only */
	const char	*help;
	void		(*run)(const struct cmd_ctx *, char *, size_t);
} commands[] = {
	{ "/help",	0, 0, "these commands",			cmd_help },
	{ "/new",	0, 0, "a new conversation: the agent forgets this one",
								cmd_new },
	{ "/stop",	0, 0, "stop the answer being written",	cmd_stop },
	{ "/model",	1, 0, "the models this chat may use; /model NAME "
	    "picks one",					cmd_model },
	{ "/unbind",	0, 1, "delete this bot and what it keeps (its owner, "
	    "twice)",						cmd_unbind },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/*
 * The word, any case, spaces around it ignored; for one that takes an
 * argument, the word alone or with one more word after a space (put in
 * arg).  Anything longer is not a command: "/model is slow today" is a
 * sentence for the agent.
 */
const struct command *
command_find(const char *text, char *arg, size_t arglen)
{
	const char *sp, *a;
	size_t i, len, wlen, alen;

	arg[0] = '\0';
	while (isspace((unsigned char)*text))
		text++;
	len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	for (wlen = 0; wlen < len && !isspace((unsigned char)text[wlen]);
	    wlen++)
		;
	for (i = 0; i < NCOMMANDS; i++) {
		if (strlen(commands[i].word) != wlen ||
		    strncasecmp(commands[i].word, text, wlen) != 0)
			continue;
		if (wlen == len)
			return &commands[i];
		if (!commands[i].arg)
			return NULL;
		for (a = text + wlen; isspace((unsigned char)*a); a++)
			;
		alen = len - (size_t)(a - text);
		for (sp = a; sp < text + len; sp++)
			if (isspace((unsigned char)*sp))
				return NULL;
		if (alen >= arglen)
			return NULL;
		memcpy(arg, a, alen);
		arg[alen] = '\0';
		return &commands[i];
	}
	return NULL;
}

const char *
command_word(const struct command *c)
{
	return c->word;
}

/*
 * A command the surface's policy does not grant (policy.commands) is
 * answered so, and audited as a denied method would be.
 */
int
command_run(const struct command *c, const struct cmd_ctx *x, char *reply,
    size_t len)
{
	if (!(x->allowed & role_command_bit(c->word + 1,
	    strlen(c->word + 1)))) {
		admit_deny(x->w, x->session, c->word,
		    "not granted by policy.commands");
		snprintf(reply, len, "%s is not available in this chat.",
		    c->word);
	} else
		c->run(x, reply, len);
	return store_msg_command(sup->store, x->msg_id, reply, sup_now());
}

static void
cmd_help(const struct cmd_ctx *x, char *reply, size_t len)
{
	size_t i, n = 0;
	int w;

	for (i = 0; i < NCOMMANDS && n < len; i++) {
		/* /unbind only where it can work: a bound account. */
		if (commands[i].bound && (x->account == NULL ||
		    !account_is(x->account)))
			continue;
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

/* Among the models the conversation's agent lists (openai.models). */
static void
cmd_model(const struct cmd_ctx *x, char *reply, size_t len)
{
	const struct cfg_agent *ca = config_agent(sup->conf, x->agent);
	char *cur;
	size_t n;
	unsigned i;

	if (ca == NULL || ca->models_count == 0) {
		snprintf(reply, len, "This chat's agent has one model%s%s.",
		    ca != NULL && ca->model != NULL ? ": " : "",
		    ca != NULL && ca->model != NULL ? ca->model : "");
		return;
	}
	if (x->arg[0] != '\0') {
		if (!config_agent_has_model(ca, x->arg)) {
			snprintf(reply, len, "No model %s here; /model lists "
			    "them.", x->arg);
			return;
		}
		if (store_session_set_model(sup->store, x->session,
		    strcmp(x->arg, ca->model) == 0 ? "" : x->arg) == -1) {
			snprintf(reply, len, "Could not switch; try again.");
			return;
		}
		snprintf(reply, len, "This chat now uses %s.", x->arg);
		return;
	}
	cur = store_session_model(sup->store, x->session);
	n = (size_t)snprintf(reply, len, "Models:");
	for (i = 0; i < ca->models_count && n < len; i++)
		n += (size_t)snprintf(reply + n, len - n, "\n%s %s",
		    strcmp(ca->models[i], config_agent_has_model(ca, cur) ?
		    cur : ca->model) == 0 ? "*" : " ", ca->models[i]);
	free(cur);
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

/*
 * A bound account's owner deletes it: the first /unbind asks, a second
 * within ACCOUNT_UNBIND_MS does it (account.c), after this answer had
 * a moment to leave.
 */
static void
cmd_unbind(const struct cmd_ctx *x, char *reply, size_t len)
{
	const char *why = "Only a bot bound through an invitation can be "
	    "deleted this way.";

	if (x->account != NULL && x->peer != NULL)
		switch (account_unbind(x->account, x->peer)) {
		case ACCOUNT_UNBIND_ASK:
			why = "Send /unbind again within 60 s to delete this "
			    "bot and everything it keeps.";
			break;
		case ACCOUNT_UNBIND_DONE:
			why = "This bot is deleted: its messages, contacts "
			    "and login are gone. Goodbye.";
			break;
		case ACCOUNT_UNBIND_NOT_OWNER:
			why = "Only the person who bound this bot can "
			    "delete it.";
			break;
		}
	snprintf(reply, len, "%s", why);
}
