/*
 * The relay agent backend (issue #19): relays dial in over WebSocket and
 * answer this agent's requests.  relay_conn.c owns the connections
 * (accept, handshake, bounds, keepalive); relay.c owns the requests
 * (which relay answers what, redelivery, agent_offline); relay_frame.c
 * the JSON frames.  See docs/relay-protocol.md.
 */
#ifndef WX_RELAY_H
#define WX_RELAY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

struct relay_frame;

enum relay_cstate {
	RC_HTTP,	/* reading the upgrade request */
	RC_HELLO,	/* WebSocket open, waiting for hello */
	RC_AUTH,	/* hello sent to the hub as relay.auth */
	RC_READY,	/* welcomed: takes requests */
	RC_CLOSING	/* closed by us; freed when flushed or timed out */
};

/* Ids of requests taken from a relay, whose late frames are dropped. */
#define RELAY_GONE_MAX	64

struct relay_conn;

/* relay_conn.c */
int		 relay_conn_listen(int fd);
void		 relay_conn_send(struct relay_conn *, char *frame);
/* Close c with a logged reason; its requests go to relay_lost(). */
void		 relay_conn_drop(struct relay_conn *, uint16_t code,
		    const char *why);
/* The same from relay_result(), inside wslay: done once it returns. */
void		 relay_conn_violate(struct relay_conn *, const char *why);
struct relay_conn *relay_conn_find(uint64_t id);
/* The ready relay with the fewest requests (turn about on a tie). */
struct relay_conn *relay_conn_pick(void);
unsigned	 relay_conn_ready(void);
void		 relay_conn_welcome(struct relay_conn *, uint64_t token_id,
		    const char *agent);
void		 relay_conn_refuse(struct relay_conn *);
void		 relay_conn_revoke(uint64_t token_id);
uint64_t	 relay_conn_id(const struct relay_conn *);
void		 relay_conn_load(struct relay_conn *, int delta);
void		 relay_conn_gone(struct relay_conn *, uint64_t req);
int		 relay_conn_was(const struct relay_conn *, uint64_t req);

/* relay.c, called by relay_conn.c */
void		 relay_hello(struct relay_conn *, const char *token);
void		 relay_result(struct relay_conn *,
		    const struct relay_frame *);
void		 relay_lost(struct relay_conn *);
void		 relay_up(void);

#endif
