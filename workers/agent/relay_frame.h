/*
 * The relay wire protocol's frames (docs/relay-protocol.md): JSON text
 * over WebSocket.  relay_frame.c parses what a relay sends and builds
 * what wxgate sends; no sockets, no IPC, so the fuzzer drives it.
 */
#ifndef WX_RELAY_FRAME_H
#define WX_RELAY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_msg.h"

#define RELAY_VERSION		1
/* One frame from a relay; a delta of 16 KiB escaped fits with room. */
#define RELAY_FRAME_MAX		(128 * 1024)
/* Text of one delta, after unescaping. */
#define RELAY_DELTA_MAX		(64 * 1024)
/* Ids are the hub's request ids: JSON integers up to 2^53 stay exact. */
#define RELAY_ID_MAX		((1ULL << 53) - 1)

enum relay_ftype {
	RF_HELLO = 1,
	RF_DELTA,
	RF_DONE,
	RF_ERROR,
	RF_PING,
	RF_PONG,
};

enum relay_ferr {
	RF_OK = 0,
	RF_E_JSON,		/* not one JSON object */
	RF_E_TYPE,		/* no type, or not one of ours */
	RF_E_KEY, /* a key the type does not have, or one missing */
	RF_E_VALUE,		/* a value of the wrong type or out of range */
	RF_E_SIZE,		/* over RELAY_FRAME_MAX or a field's bound */
};

struct relay_frame {
	enum relay_ftype	 type;
	uint64_t		 id;		/* delta, done, error */
	uint64_t		 version;	/* hello */
	char			 token[IPC_TOKEN_MAX + 1];	/* hello */
	char			 code[IPC_NAME_MAX + 1];	/* error */
	char			 message[IPC_MESSAGE_MAX + 1];	/* error */
	char			*text;		/* delta: owned, NUL-ended */
	size_t			 text_len;
};

/* f is filled on RF_OK; relay_frame_clear() frees its text either way. */
enum relay_ferr	 relay_frame_parse(const char *, size_t,
		    struct relay_frame *);
void		 relay_frame_clear(struct relay_frame *);
const char	*relay_frame_strerror(enum relay_ferr);

struct ipc_body_agent_request;
/* The request frame for id (caller frees), or NULL. */
char		*relay_frame_request(uint64_t id,
		    const struct ipc_body_agent_request *);
/* {"type":"abort","id":N}, {"type":"welcome",...}, ping and pong. */
char		*relay_frame_abort(uint64_t id);
char		*relay_frame_welcome(const char *agent);
char		*relay_frame_simple(const char *type);

#endif
