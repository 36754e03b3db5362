# The sandbox (sandbox/*.c) as the hub enters it: forked children keep
# their state directory, run SQLite and the store's checkpointer thread
# under profile_hub.c, and die of SIGSYS on what the hub must not do.
check_PROGRAMS += tests/unit/sandbox/test_hub
TESTS += tests/unit/sandbox/test_hub
tests_unit_sandbox_test_hub_SOURCES = tests/unit/sandbox/test_hub.c \
	$(libwxsandbox_a_SOURCES) $(STORE_SRC)
tests_unit_sandbox_test_hub_CFLAGS = $(UNIT_CFLAGS)
tests_unit_sandbox_test_hub_LDADD = $(UNIT_LDADD)
