/*
 * libFuzzer harness for workers/webchat/rpc.c: arbitrary bytes as one
 * WebSocket text message.  Every outcome is formatted the way webchat.c
 * would answer it, so the reply builders see whatever ids and error
 * messages the parser can produce.  Checks that an accepted request
 * keeps the documented limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "webchat/rpc.h"

/* Above the largest max_frame (1 MiB) would only slow the fuzzer. */
#define FUZZER_MAXLEN	(64 * 1024)
#define FUZZ_MAX_TEXT	16384

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_req r;
	enum rpc_err e;
	char *s;

	if (size > FUZZER_MAXLEN)
		return 0;
	e = rpc_parse((const char *)data, size, FUZZ_MAX_TEXT, &r);
	if (memchr(r.errmsg, '\0', sizeof(r.errmsg)) == NULL)
		abort();
	if (e == RPC_OK) {
		if (r.method <= RPC_M_NONE || r.method >= RPC_M_MAX ||
		    r.id == NULL)
			abort();
		if (r.method == RPC_M_CHAT_SEND &&
		    (r.text_len == 0 || r.text_len > FUZZ_MAX_TEXT ||
		    r.msgid_len == 0 || r.msgid_len > RPC_MSGID_MAX))
			abort();
		if ((r.method == RPC_M_SESSION_RESUME ||
		    r.method == RPC_M_SHARE_OPEN ||
		    r.method == RPC_M_BIND_START) &&
		    (r.token_len == 0 || r.token_len > RPC_TOKEN_MAX))
			abort();
		if (r.method == RPC_M_CHAT_HISTORY &&
		    (r.limit < 1 || r.limit > RPC_HISTORY_MAX))
			abort();
		s = rpc_reply_ok(r.id, json_pack("{s:o}", "text",
		    rpc_strn(r.text != NULL ? r.text : "", r.text_len)));
	} else
		s = rpc_reply_error(r.id, rpc_code(e), r.errmsg);
	if (s == NULL)
		abort();
	free(s);
	rpc_req_clear(&r);
	return 0;
}
