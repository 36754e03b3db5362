# The agent worker's SSE parser, workers/agent/sse.c, on its own.
check_PROGRAMS += tests/unit/workers/agent/test_sse
TESTS += tests/unit/workers/agent/test_sse
tests_unit_workers_agent_test_sse_SOURCES = \
	tests/unit/workers/agent/test_sse.c workers/agent/sse.c \
	workers/agent/sse.h $(UNIT_COMMON)
tests_unit_workers_agent_test_sse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_agent_test_sse_LDADD = $(UNIT_LDADD)
# sup.resync in the agent kind (agent.c, echo.c, command.c), with
# worker.c and the sandbox stubbed by the test.
check_PROGRAMS += tests/unit/workers/agent/test_agent_resync
TESTS += tests/unit/workers/agent/test_agent_resync
tests_unit_workers_agent_test_agent_resync_SOURCES = \
	tests/unit/workers/agent/test_agent_resync.c workers/agent/agent.c \
	workers/agent/agent.h workers/agent/echo.c workers/agent/command.c \
	workers/conf.c $(IPC_CODEC) $(UNIT_COMMON)
tests_unit_workers_agent_test_agent_resync_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_agent_test_agent_resync_LDADD = $(UNIT_LDADD)
# The relay agent's frame parser and builders, workers/agent/relay_frame.c.
check_PROGRAMS += tests/unit/workers/agent/test_relay_frame
TESTS += tests/unit/workers/agent/test_relay_frame
tests_unit_workers_agent_test_relay_frame_SOURCES = \
	tests/unit/workers/agent/test_relay_frame.c \
	workers/agent/relay_frame.c workers/agent/relay_frame.h \
	$(UNIT_COMMON)
tests_unit_workers_agent_test_relay_frame_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_agent_test_relay_frame_LDADD = $(UNIT_LDADD)

# wxgate-relay's end-to-end encryption, ctl/relay/e2e.c: scrypt and
# AES-256-GCM known answers, tampering, moving, replay, wrong passphrase.
check_PROGRAMS += tests/unit/relay/test_e2e
TESTS += tests/unit/relay/test_e2e
tests_unit_relay_test_e2e_SOURCES = tests/unit/relay/test_e2e.c \
	ctl/relay/e2e.c ctl/relay/e2e_key.c ctl/relay/e2e.h $(UNIT_COMMON)
tests_unit_relay_test_e2e_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/ctl/relay
tests_unit_relay_test_e2e_CFLAGS = $(UNIT_CFLAGS)
tests_unit_relay_test_e2e_LDADD = $(UNIT_LDADD)
# The same from the command line, for the browser tests to hold e2e.js
# to (tests/browser/e2e_crypto.test.mjs): built by "make check", not a
# test of its own.
check_PROGRAMS += tests/unit/relay/e2e_tool
tests_unit_relay_e2e_tool_SOURCES = tests/unit/relay/e2e_tool.c \
	ctl/relay/e2e.c ctl/relay/e2e_key.c ctl/relay/e2e.h $(UNIT_COMMON)
tests_unit_relay_e2e_tool_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/ctl/relay
tests_unit_relay_e2e_tool_LDADD = $(DEPS_LIBS)
