/*
 * The browser's JSON request frames: parsing one frame into a checked
 * struct, and formatting replies and events.  Used by webchat.c and the
 * fuzz harness; knows nothing of sockets or IPC.
 */
#ifndef WX_WEBCHAT_RPC_H
#define WX_WEBCHAT_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RPC_ID_MAX		64	/* bytes of a string request id */
#define RPC_MSGID_MAX		64	/* bytes of a client_msg_id */
#define RPC_TOKEN_MAX		64	/* bytes of a session token */
#define RPC_DEPTH_MAX		8	/* nesting; real requests use 2 */
#define RPC_HISTORY_DEFAULT	50
#define RPC_HISTORY_MAX		256
#define RPC_ERRMSG_MAX		128
#define RPC_METHOD_MAX		64	/* a method name passed on */

enum rpc_method {
	RPC_M_NONE = 0,
	RPC_M_SESSION_OPEN,
	RPC_M_SESSION_RESUME,
	RPC_M_CHAT_SEND,
	RPC_M_CHAT_HISTORY,
	RPC_M_CHAT_ABORT,
	RPC_M_SHARE_OPEN,	/* token holds the link id */
	RPC_M_BIND_START,	/* token holds the invitation's */
	RPC_M_OTHER,		/* not ours: the supervisor names it */
	RPC_M_MAX
};

/* Error codes the worker itself gives; rpc_code() names them on the wire. */
enum rpc_err {
	RPC_OK = 0,
	RPC_E_BAD_JSON,
	RPC_E_BAD_REQUEST,
	RPC_E_UNKNOWN_METHOD,
	RPC_E_TOO_LARGE,
	RPC_E_BAD_UTF8,
	RPC_E_BINARY,
	RPC_E_BUSY,
	RPC_E_MAX
};

/*
 * One parsed request.  The strings borrow from root, which the struct
 * owns until rpc_req_clear().  id is NULL when it could not be read, and
 * the reply then carries "id":null.
 */
struct rpc_req {
	json_t		*root;
	json_t		*id;
	enum rpc_method	 method;
	const char	*token;
	size_t		 token_len;
	const char	*visitor;	/* share.open: "" or NULL if none */
	size_t		 visitor_len;
	const char	*text;
	size_t		 text_len;
	const char	*msgid;
	size_t		 msgid_len;
	uint64_t	 limit;
	/* With RPC_E_UNKNOWN_METHOD: the name, when it is a plain one. */
	const char	*mname;
	size_t		 mname_len;
	char		 errmsg[RPC_ERRMSG_MAX];
};

enum rpc_err	 rpc_parse(const char *, size_t, size_t max_text,
		    struct rpc_req *);
void		 rpc_req_clear(struct rpc_req *);
const char	*rpc_code(enum rpc_err);
const char	*rpc_method_name(enum rpc_method);

/* Formatters return a NUL-terminated string to free(), or NULL. */
char		*rpc_reply_ok(json_t *id, json_t *result);
char		*rpc_reply_error(json_t *id, const char *code,
		    const char *message);
/* The same with "retry_after_ms" in the error when retry_ms > 0. */
char		*rpc_reply_error_retry(json_t *id, const char *code,
		    const char *message, uint64_t retry_ms);
char		*rpc_event(const char *event, json_t *fields);
json_t		*rpc_strn(const char *, size_t);

#endif
