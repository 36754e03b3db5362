/*
 * wxgate-relay: the client side of a relay agent (issue #19), run on the
 * machine that has the model or the program, dialling out to wxgated.
 *
 *   main.c	arguments, the config, the loop, reconnecting with backoff
 *   conf.c	the JSON config file and the secrets it names
 *   link.c	the WebSocket connection: DNS, TCP, TLS, upgrade, wslay
 *   bridge.c	the protocol: hello, requests to a backend, frames back;
 *		it gives wxgated's agent backends (workers/agent/openai.c,
 *		command.c) the few calls they make of an agent worker
 */
#ifndef WX_RELAY_CLIENT_H
#define WX_RELAY_CLIENT_H

#include <stddef.h>

#include <jansson.h>

struct event_base;

/* The parsed config file (conf.c); the token is wiped when freed. */
struct rconf {
	char		*server;	/* ws:// or wss://host:port/relay */
	char		*token;		/* read from token_file */
	char		*ca_file;	/* wss: the CA bundle */
	json_t		*backend;	/* the agent backend's slice */
	char		*type;		/* openai or command */
	char		*e2e_pass;	/* e2e.passphrase_file's, or NULL */
};

int		 rconf_load(const char *path, struct rconf *);
void		 rconf_free(struct rconf *);

/* link.c: one connection at a time; open and closed come back. */
struct wsclient_cb;
int		 link_init(struct event_base *, const struct rconf *,
		    const struct wsclient_cb *);
int		 link_connect(void);
void		 link_close(void);
int		 link_send(const char *, size_t);

/*
 * seal.c: a sealed console thread's request opened, its answer sealed
 * (docs/e2e.md).  open: NULL and why when the request has no e2e
 * object (*why NULL) or cannot be opened; the turns of b then point at
 * plaintext the seal holds until seal_wipe_turns().  The answer's text
 * is gathered with seal_add() and sealed whole by seal_close().
 */
struct ipc_body_agent_request;
struct seal;
void		 seal_init(const struct rconf *);
struct seal	*seal_open(json_t *e2e, struct ipc_body_agent_request *b,
		    const char **why);
void		 seal_wipe_turns(struct seal *);
void		 seal_add(struct seal *, const char *, size_t);
char		*seal_close(struct seal *);
void		 seal_free(struct seal *);

/* bridge.c */
int		 bridge_init(struct event_base *, const struct rconf *);
void		 bridge_open(void);
void		 bridge_text(const char *, size_t);
/* The link is gone: requests in flight are dropped (wxgated resends). */
void		 bridge_lost(void);
/* Welcomed on this connection: main.c resets its backoff. */
int		 bridge_welcomed(void);
/* The server refused the token: retrying will not help soon. */
int		 bridge_refused(void);

#endif
