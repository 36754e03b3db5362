# The agent worker's SSE parser, workers/agent/sse.c, on its own.
check_PROGRAMS += tests/unit/workers/agent/test_sse
TESTS += tests/unit/workers/agent/test_sse
tests_unit_workers_agent_test_sse_SOURCES = \
	tests/unit/workers/agent/test_sse.c workers/agent/sse.c \
	workers/agent/sse.h $(UNIT_COMMON)
tests_unit_workers_agent_test_sse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_agent_test_sse_LDADD = $(UNIT_LDADD)
