# The web chat connection record: admit.c's caps on router_bind.c's
# table, with the store and the router's senders stubbed.
check_PROGRAMS += tests/unit/supervisor/test_admit
TESTS += tests/unit/supervisor/test_admit
tests_unit_supervisor_test_admit_SOURCES = \
	tests/unit/supervisor/test_admit.c supervisor/admit.c \
	supervisor/router_bind.c policy/ratelimit.c policy/addrkey.c \
	policy/xff.c policy/role.c $(IPC_CODEC) $(UNIT_COMMON)
tests_unit_supervisor_test_admit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_admit_LDADD = $(UNIT_LDADD)
