# The agent worker's parser of model output: workers/agent/sse.c.
noinst_PROGRAMS += tests/fuzz/fuzz_sse
tests_fuzz_fuzz_sse_SOURCES = tests/fuzz/fuzz_sse.c workers/agent/sse.c \
	common/log.c common/xmalloc.c
tests_fuzz_fuzz_sse_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sse_LDADD = $(DEPS_LIBS)
# The relay agent's frames from relays: workers/agent/relay_frame.c.
noinst_PROGRAMS += tests/fuzz/fuzz_relay_frame
tests_fuzz_fuzz_relay_frame_SOURCES = tests/fuzz/fuzz_relay_frame.c \
	workers/agent/relay_frame.c common/log.c common/xmalloc.c \
	common/jsonalloc.c
tests_fuzz_fuzz_relay_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_relay_frame_LDADD = $(DEPS_LIBS)
