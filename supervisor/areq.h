/*
 * One agent request: a stored message on its way to an agent and back.
 * Shared by router_agent.c (which makes, dispatches, relays and ends them)
 * and agentq.c (which admits, queues, paces and times them out).
 */
#ifndef WX_AREQ_H
#define WX_AREQ_H

#include <sys/queue.h>

#include <stdint.h>
#include <time.h>

#include "block.h"
#include "ipc_msg.h"
#include "pace.h"
#include "ratelimit.h"

struct agentq;
struct event;
struct evbuffer;
struct worker;

/* Where a request came from, and so where its answer goes. */
enum areq_origin {
	AREQ_WEBCHAT = 1,	/* a browser session: cmid names it */
	AREQ_CHANNEL,		/* a platform account's conversation */
	AREQ_SCHEDULE,		/* a schedule run's prompt (schedule.c) */
	AREQ_CONSOLE		/* an operator's thread (console_chat.c) */
};

/* Where a request comes from, said in full; nothing is inferred. */
struct areq_from {
	enum areq_origin	 origin;
	int64_t			 session;
	int64_t			 msg_id;
	int64_t			 created;	/* accepted, Unix seconds */
	const char		*cmid;		/* web chat: the client's id */
	const char		*client;	/* web chat: address key or "" */
	const char		*account;	/* channel: the account */
	const char		*peer;		/* channel: the conversation */
	const char		*ctx;		/* channel: reply context */
};

/* A file an agent's reply carries, held until the reply is stored. */
struct areq_file {
	char		 name[IPC_FILENAME_MAX + 1];
	char		 kind[8];		/* "image" or "file" */
	uint8_t		*data;
	size_t		 size;
	uint8_t		 sha256[32];
};

struct areq {
	TAILQ_ENTRY(areq)	 entry;		/* router: all requests */
	TAILQ_ENTRY(areq)	 dirty;		/* router: output to relay */
	TAILQ_ENTRY(areq)	 wait;		/* agentq: waiting */
	struct areq		*next;		/* id hash chain */
	uint64_t		 id;
	enum areq_origin	 origin;
	int64_t			 session;
	int64_t			 msg_id;
	char			 cmid[IPC_MSGID_MAX + 1];	/* web chat */
	char			 account[IPC_NAME_MAX + 1];	/* channel */
	char			 peer[IPC_PEER_MAX + 1];
	char			*ctx;		/* reply context, or NULL */
	char			*text;		/* the user's message */
	unsigned		 history;	/* turns of context */
	struct agentq		*aq;		/* its agent's admission */
	char			 client[RL_KEY_MAX];	/* fair share, "" */
	uint64_t		 deadline;	/* clock_mono_ms() */
	int			 waiting;	/* on aq's wait list */
	int			 reserved;	/* counted, not yet committed */
	struct worker		*aw;		/* NULL unless in flight */
	uint64_t		 agen;
	struct evbuffer		*reply;
	struct evbuffer		*delta;
	int			 is_dirty;
	int			 done;
	int			 unstored;	/* done; its commit failed */
	int			 stored;	/* done and committed: chat.done */
	int			 aborted;	/* by chat.abort */
	/* Its client was told busy while its turn shipped (router_chat.c,
	 * chat_accepted_late): nothing goes to it until it asks again. */
	int			 muted;
	int			 truncated;
	struct timespec		 made;		/* for the latency figures */
	int			 spoke;		/* a delta came */
	/* router_progress.c: refreshes of a streaming channel's bubble */
	struct pace		 pace;
	struct event		*pace_ev;	/* NULL until the first */
	/* router_block.c: stream_mode block */
	size_t			 blk_off;	/* reply bytes queued as blocks */
	size_t			 blk_ok;	/* of those, committed */
	int			 blk_rows;	/* rows queued for the message */
	int			 blk_ok_rows;
	int			 blk_held;	/* the rest waits for the end */
	char			*blk_prev;	/* what an earlier try queued */
	struct block_scan	 blk_scan;	/* of the text after blk_off */
	/* router_file.c: files the reply carries (agent.file) */
	struct areq_file	*files;
	size_t			 nfiles;
};

TAILQ_HEAD(areqlist, areq);

/* router_agent.c: the request a worker's frame names, if still its. */
struct areq	*areq_of(struct worker *, struct ipc_msg *);

/* router_file.c */
int		 sup_agent_file(struct worker *, struct ipc_msg *);
/* Queue r's files after its text (channel requests); in the turn. */
void		 router_files_queue(struct areq *, int seq);
/* The files forgotten: the request starts over, or is done. */
void		 router_files_free(struct areq *);

/* agentq.c */
void		 agentq_init(void);
struct agentq	*agentq_find(const char *agent);
const char	*agentq_name(const struct agentq *);
/*
 * May a new web chat request join this agent?  0 yes; else the
 * milliseconds to tell the client to wait (busy).
 */
uint64_t	 agentq_room(struct agentq *, const char *client,
		    int64_t session);
void		 agentq_add(struct areq *);
/* Counted now, waiting only once the turn's commit has it stored. */
void		 agentq_reserve(struct areq *);
void		 agentq_commit(struct areq *);
void		 agentq_forget(struct areq *);
void		 agentq_requeue(struct areq *);
void		 agentq_backlog(struct agentq *);
void		 agentq_offline(struct agentq *);
void		 agentq_online(struct agentq *);
void		 agentq_pump(void);
void		 agentq_worker_ready(struct worker *);
void		 agentq_observe(struct agentq *, int first, uint64_t us);

/* router_agent.c, for agentq.c */
int		 router_dispatch_req(struct areq *);
unsigned	 router_take(struct agentq *, const char *account,
		    unsigned limit);
void		 router_timeout(struct areq *);
void		 router_expired(int64_t session, const char *cmid);
void		 router_finish(struct areq *);
struct areq	*router_first_req(void);
struct areq	*router_next_req(struct areq *);

/* router_progress.c, for router_agent.c */
void		 progress_note(struct areq *);
void		 progress_forget(struct areq *);

/* router_block.c, for router_agent.c */
void		 block_note(struct areq *, const char *, size_t);
size_t		 block_end(struct areq *, const char *answer);
void		 block_restart(struct areq *);
void		 block_resume(struct areq *);
void		 block_drop(struct areq *);
void		 block_forget(struct areq *);

#endif
