# The sandbox (sandbox/*.c) as the hub enters it: forked children keep
# their state directory, run SQLite and the store's checkpointer thread
# under profile_hub.c, and die of SIGSYS on what the hub must not do.
# Both sandbox tests run it in a forked child with its socket on IPC_FD.
SBCHILD_SRC = tests/unit/sandbox/sbchild.c tests/unit/sandbox/sbchild.h

check_PROGRAMS += tests/unit/sandbox/test_hub
TESTS += tests/unit/sandbox/test_hub
tests_unit_sandbox_test_hub_SOURCES = tests/unit/sandbox/test_hub.c \
	$(SBCHILD_SRC) $(libwxsandbox_a_SOURCES) $(STORE_SRC)
tests_unit_sandbox_test_hub_CFLAGS = $(UNIT_CFLAGS)
tests_unit_sandbox_test_hub_LDADD = $(UNIT_LDADD)

# The -u argument (sandbox/creds_parse.c): all a hub or worker reads
# before its uid drop, and its format, the parent's (creds_arg.c).
check_PROGRAMS += tests/unit/sandbox/test_creds_arg
TESTS += tests/unit/sandbox/test_creds_arg
tests_unit_sandbox_test_creds_arg_SOURCES = \
	tests/unit/sandbox/test_creds_arg.c sandbox/creds_parse.c \
	sandbox/creds_arg.c
tests_unit_sandbox_test_creds_arg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_sandbox_test_creds_arg_LDADD = $(UNIT_LDADD)

# The sandbox as a worker enters it: the uid drop first, the host still
# in sight until sandbox_confine, then the rest through a user namespace.
check_PROGRAMS += tests/unit/sandbox/test_worker
TESTS += tests/unit/sandbox/test_worker
tests_unit_sandbox_test_worker_SOURCES = tests/unit/sandbox/test_worker.c \
	$(SBCHILD_SRC) $(libwxsandbox_a_SOURCES) $(UNIT_COMMON)
tests_unit_sandbox_test_worker_CFLAGS = $(UNIT_CFLAGS)
tests_unit_sandbox_test_worker_LDADD = $(UNIT_LDADD)

# The SIGSYS handler's frame (sandbox/sigsys.c), read as root's wxgated
# reads it: compiled IPC_PARENT_ONLY, with the parent's codec alone.
check_PROGRAMS += tests/unit/sandbox/test_sigsys
TESTS += tests/unit/sandbox/test_sigsys
tests_unit_sandbox_test_sigsys_SOURCES = tests/unit/sandbox/test_sigsys.c \
	sandbox/sigsys.c $(PARENT_CODEC) common/log.c common/xmalloc.c
tests_unit_sandbox_test_sigsys_CPPFLAGS = $(AM_CPPFLAGS) -DIPC_PARENT_ONLY
tests_unit_sandbox_test_sigsys_CFLAGS = $(UNIT_CFLAGS)
tests_unit_sandbox_test_sigsys_LDADD = $(UNIT_LDADD)
