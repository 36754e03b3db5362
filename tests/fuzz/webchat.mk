# The webchat worker's parsers on arbitrary bytes: request heads
# (http.c), JSON request frames (rpc.c) and WebSocket input (ws.c).
noinst_PROGRAMS += tests/fuzz/fuzz_http_request tests/fuzz/fuzz_webchat_rpc \
	tests/fuzz/fuzz_ws_frame
tests_fuzz_fuzz_http_request_SOURCES = tests/fuzz/fuzz_http_request.c \
	workers/webchat/http.c
tests_fuzz_fuzz_http_request_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_http_request_LDADD = $(DEPS_LIBS)
tests_fuzz_fuzz_webchat_rpc_SOURCES = tests/fuzz/fuzz_webchat_rpc.c \
	workers/webchat/rpc.c common/jsonalloc.c common/log.c common/xmalloc.c
tests_fuzz_fuzz_webchat_rpc_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_webchat_rpc_LDADD = $(DEPS_LIBS)
tests_fuzz_fuzz_ws_frame_SOURCES = tests/fuzz/fuzz_ws_frame.c \
	workers/webchat/ws.c workers/webchat/http.c $(IPC_CODEC) common/b64.c common/sha.c \
	common/log.c common/xmalloc.c common/xreallocarray.c
tests_fuzz_fuzz_ws_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ws_frame_LDADD = $(DEPS_LIBS)
