/*
 * What control.c lends the files that hold a group of its requests
 * (control_sched.c): the client a request came from, the ctl.result
 * that ends every answer, and the walk a listing streams its rows
 * through.  Outside supervisor/control*.c only the console includes
 * it: console.c for its two requests, console_page_sched.c for
 * ctl_fit.
 */
#ifndef WX_CONTROL_INT_H
#define WX_CONTROL_INT_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

struct bufferevent;
struct event;
struct evbuffer;
struct ipc_msg;
struct ipc_str;

/*
 * A connection.  The bufferevent only writes: reading is recvmsg into
 * in (control.c: ctl_recv), so a descriptor passed with a frame can be
 * kept.  At most one waits (fd), with the stream offsets the read that
 * brought it covered: its frame starts in [fd_from, fd_to).
 */
struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	uint64_t		 id;		/* for a later answer */
	struct bufferevent	*bev;
	struct event		*rev;
	struct evbuffer		*in;
	uid_t			 uid;
	int			 closing;
	int			 fd;		/* passed, not yet claimed; -1 */
	uint64_t		 fd_from;
	uint64_t		 fd_to;
	uint64_t		 rx;		/* bytes received */
	uint64_t		 pulled;	/* bytes framed */
};

/* A listing in progress: rows go out as they come, then the result. */
struct ctl_walk {
	struct ctl_client	*c;
	uint64_t		 req_id;
};

/* The client of an answer that came later, if it is still there. */
struct ctl_client *ctl_client_find(uint64_t id);
/* Said once the turn's writes are stored (in PostgreSQL on a cluster):
 * text if so, failed if not. */
void		 ctl_result_stored(struct ctl_client *, uint64_t req_id,
		    const char *text, const char *failed);
void	ctl_text(struct ctl_client *, uint64_t req_id, const char *text);
void	ctl_fit(struct ipc_str *, size_t max);
void	ctl_result(struct ctl_client *, uint64_t req_id, int ok,
	    const char *msg);
int	ctl_walk_end(struct ctl_walk *, int rv);

/* control_sched.c: schedule.* (issue #15) */
int	ctl_sched_add(struct ctl_client *, struct ipc_msg *);
int	ctl_sched_list(struct ctl_client *, struct ipc_msg *);
int	ctl_sched_run(struct ctl_client *, struct ipc_msg *);
int	ctl_sched_pause(struct ctl_client *, struct ipc_msg *);
int	ctl_sched_resume(struct ctl_client *, struct ipc_msg *);
int	ctl_sched_remove(struct ctl_client *, struct ipc_msg *);
int	ctl_sched_history(struct ctl_client *, struct ipc_msg *);

/* control_relay.c: relay.token_* (issue #19) */
int	ctl_relay_create(struct ctl_client *, struct ipc_msg *);
int	ctl_relay_list(struct ctl_client *, struct ipc_msg *);
int	ctl_relay_revoke(struct ctl_client *, struct ipc_msg *);

/* pause.c: account.pause, account.resume (issue #16) */
int	ctl_account_pause(struct ctl_client *, struct ipc_msg *);
int	ctl_account_resume(struct ctl_client *, struct ipc_msg *);

/* control_send.c: send --file (issue #15) */
int	ctl_send_file(struct ctl_client *, struct ipc_msg *);
int	ctl_delivery(struct ctl_client *, uint64_t req_id, int64_t id);

/* control_bind.c: bind.* and channels.* (issue #13) */
int	ctl_bind_create(struct ctl_client *, struct ipc_msg *);
int	ctl_bind_list(struct ctl_client *, struct ipc_msg *);
int	ctl_bind_revoke(struct ctl_client *, struct ipc_msg *);
int	ctl_channels(struct ctl_client *, struct ipc_msg *);
int	ctl_channel_remove(struct ctl_client *, struct ipc_msg *);

/* control_cluster.c: cluster.show, cluster.drain (issue #18) */
int	ctl_cluster(struct ctl_client *, struct ipc_msg *);
int	ctl_drain(struct ctl_client *, struct ipc_msg *);

/* console.c: console.url and console.revoke_all (issue #16) */
int	ctl_console_url(struct ctl_client *, struct ipc_msg *);
int	ctl_console_revoke(struct ctl_client *, struct ipc_msg *);

#endif
