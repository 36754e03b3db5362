/*
 * Agent worker: one process per configured agent backend.  agent.c owns
 * the request table and the IPC; a backend (echo.c, openai.c, command.c)
 * only turns a request's turns into deltas.
 */
#ifndef WX_AGENT_H
#define WX_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "ipc_msg.h"

/* One attachment of the newest user turn (agent.request_media). */
struct agent_part {
	char			 kind[IPC_PARTKIND_MAX + 1];
	char			 name[IPC_FILENAME_MAX + 1];
	const uint8_t		*data;		/* into agent_req's media */
	size_t			 size;
};

struct agent_req {
	TAILQ_ENTRY(agent_req)	 entry;
	uint64_t		 id;		/* the supervisor's req_id */
	void			*priv;		/* the backend's state */
	/* Text held while the hub is behind (agent_delta). */
	char			*held;
	size_t			 heldlen;
	size_t			 said;		/* bytes of reply so far */
	int			 cut;		/* past IPC_REPLY_MAX */
	/* Attachments a backend may use while the request runs. */
	uint8_t			*media;
	size_t			 nparts;
	struct agent_part	 parts[IPC_PARTS_MAX];
};

struct agent_backend {
	const char	 *type;
	/* Seccomp profile (sandbox/seccomp.c) this backend runs under. */
	const char	 *profile;
	/* Before the sandbox: read conf, load files, spawn helpers. */
	int		(*init)(json_t *conf);
	/* In the sandbox, once worker_base() exists; may be NULL. */
	int		(*post_sandbox)(void);
	/* Copy what is needed from b: it is borrowed. */
	int		(*start)(struct agent_req *,
			    const struct ipc_body_agent_request *b);
	/*
	 * Free the backend's state of a request that is going away (done,
	 * error, agent.abort, sup.resync); it sends nothing to the hub.
	 */
	void		(*cancel)(struct agent_req *);
	/*
	 * sup.listen_fd, relay.verdict, relay.revoke: frames only the
	 * relay backend takes; NULL refuses them (a fault).
	 */
	int		(*msg)(const struct ipc_msg *);
};

extern const struct agent_backend	agent_echo;
extern const struct agent_backend	agent_openai;
extern const struct agent_backend	agent_command;
extern const struct agent_backend	agent_relay;

/*
 * vision.c: the newest user turn's text and r's images as content
 * parts, or NULL when none of them is an image a model can read.
 */
json_t	*vision_content(const struct agent_req *r, const char *text,
	    size_t len);

/* A running request by the supervisor's id, or NULL. */
struct agent_req *agent_req_find(uint64_t id);
/* Called by backends; done and error end the request and free it. */
int	agent_delta(struct agent_req *, const char *text, size_t len);
/* The reply starts over (agent.restart): what was said is forgotten. */
void	agent_restart(struct agent_req *);
void	agent_done(struct agent_req *);
void	agent_error(struct agent_req *, const char *code, const char *msg);
/* The same for rate_limited, with when the client may try again. */
void	agent_error_retry(struct agent_req *, const char *code,
	    const char *msg, uint64_t retry_after_ms);

#endif
