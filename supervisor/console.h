/*
 * The operator console in the hub: console.c its login links, sessions
 * and pages, console_write.c what a session may change, console_page.c
 * the pages' JSON (console_page_sched.c the schedules',
 * console_page_acct.c the accounts', console_page_log.c the log's,
 * console_page_conv.c the conversations', console_page_thread.c one
 * conversation's, console_media.c its attachments).  The console worker
 * (workers/console/) only relays.
 */
#ifndef WX_CONSOLE_H
#define WX_CONSOLE_H

#include <stdint.h>

#include <jansson.h>

#include "ipc_msg.h"

#define CONSOLE_COOKIE		"wxgate_console"
#define CONSOLE_CSRF_LEN	64	/* hex of a SHA-256 */

struct worker;

/* A session as the hub found it for one request (console.c). */
struct console_who {
	int64_t		 id;
	char		 operator[IPC_NAME_MAX + 1];
	int		 admin;
	char		 csrf[CONSOLE_CSRF_LEN + 1];
};

/* console.c: an answer to the worker's request m; body is consumed. */
void	console_answer(struct worker *, const struct ipc_msg *,
	    uint64_t conn, int status, const char *cookie,
	    const char *location, json_t *body);
json_t	*console_error(const char *);
/* console_page.c: s ("" for NULL) in at most max bytes, whole UTF-8. */
json_t	*console_cut(const char *s, size_t max);
int64_t	 console_id(const char *, size_t);
/*
 * Does o fit a page's byte budget, *used of max spent so far?  If so it
 * is counted in (1); if not, nothing changes (0).
 */
int	 console_fits(size_t *used, size_t max, const json_t *o);
int	 console_take(json_t *list, size_t rows, size_t *used, size_t max,
	    json_t *o);
/* console_write.c: one POST of a session whose CSRF token was good. */
void	console_write(struct worker *, const struct ipc_msg *,
	    const struct console_who *, const char *action);
/* pause.c: account.pause and account.resume. */
void	console_account_pause(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
void	console_account_resume(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
/* console_send.c: conv.send, an admin's text into a conversation. */
void	console_conv_send(struct worker *, const struct ipc_msg *,
	    const struct console_who *);

/* The overview: workers and channels, as `wxgatectl status` sees them. */
json_t	*console_page_overview(void);
/* Pairing codes waiting for the operator; NULL on a store error. */
json_t	*console_page_pairings(void);
/* Share links, the newest; NULL on a store error. */
json_t	*console_page_shares(void);
/* console_page_sched.c: schedules and their latest runs; NULL, ditto. */
json_t	*console_page_schedules(void);
/*
 * The same, the cluster's, on a node that does not run them: asked of
 * the shared store and answered later (1), or 0: console_page_schedules.
 */
int	console_sched_hold(struct worker *, const struct ipc_msg *,
	    uint64_t conn, const char *query);
/*
 * console_page_sched.c: a sealed schedule's prompt or a run's summary,
 * whole (the query "ID RUN", RUN "-" for the prompt); the HTTP status.
 */
int	console_page_sched_sealed(const char *query, const char *text,
	    json_t **body);
/* The same, the cluster's, on a node that does not run them: 1 if held. */
int	console_sealed_hold(struct worker *, const struct ipc_msg *,
	    uint64_t conn, const char *query);
/*
 * console_page_acct.c: channel accounts, login QR codes, binding
 * invitations; NULL on a store error.
 */
json_t	*console_page_accounts(void);
/*
 * console_page_log.c: the latest log lines; the HTTP status.  It takes
 * no free text (text, "" when none, as the conversations' does).
 */
int	console_page_log(const char *query, const char *text,
	    json_t **body);
/*
 * console_page_conv.c: conversations and their messages; ditto.  text:
 * console.get's free text, the words to find ("" none).
 */
int	console_page_conversations(const char *query, const char *text,
	    json_t **body);
/*
 * console_page_thread.c: one conversation's messages, a page before a
 * cursor, with their attachments; ditto.
 */
int	console_page_thread(const char *query, const char *text,
	    json_t **body);
/*
 * console_media.c: one attachment's bytes (console.media), or why not
 * (console.answer); 0.
 */
int	console_media(struct worker *, const struct ipc_msg *,
	    uint64_t conn, const char *query);
/* console_chat.c: the Chat page's threads and messages; ditto. */
int	console_page_chat(const char *query, const char *text,
	    json_t **body);
/*
 * Hold a thread's page until its running reply grows past the length
 * the query says the page has (1), or not (0: console_page_chat).
 */
int	console_chat_hold(struct worker *, const struct ipc_msg *,
	    uint64_t conn, const char *query);
/* router_agent.c: a console request's reply grew, or it ended. */
void	console_chat_wake(int64_t session);
/* console_chat.c: its writes, for console_write.c's table. */
void	console_chat_new(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
void	console_chat_send(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
void	console_chat_branch(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
/*
 * console_e2e.c: sealed threads (docs/e2e.md).  sealed: 1 if the text
 * has a sealed message's shape; page_e2e: the operator's wrapped key;
 * e2e_key: the write that sets it; e2e_context: for a relay's request,
 * as JSON to free.
 */
struct store_cchat;
int	console_e2e_sealed(const char *, size_t);
json_t	*console_text(const char *, size_t cut);
json_t	*console_page_e2e(const struct console_who *);
void	console_e2e_key(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
char	*console_e2e_context(const struct store_cchat *, const int64_t *seq,
	    size_t n);
/*
 * A sealed schedule's run (console_e2e.c), n turns: as e2e_context, of
 * the other form (docs/relay-protocol.md).  console_e2e_sched.c: the
 * two steps that make a sealed schedule.
 */
struct store_run_seal;
char	*console_e2e_run(const struct store_run_seal *, size_t n);
void	console_sched_seal_new(struct worker *, const struct ipc_msg *,
	    const struct console_who *);
void	console_sched_seal_prompt(struct worker *, const struct ipc_msg *,
	    const struct console_who *);

#endif
