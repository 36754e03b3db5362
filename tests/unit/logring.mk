# The hub's ring of its latest log lines: supervisor/logring.c keeps
# them and nothing else (the hub's log hook fills it), so it links alone.
check_PROGRAMS += tests/unit/supervisor/test_logring
TESTS += tests/unit/supervisor/test_logring
tests_unit_supervisor_test_logring_SOURCES = \
	tests/unit/supervisor/test_logring.c supervisor/logring.c \
	supervisor/logring.h $(UNIT_COMMON)
tests_unit_supervisor_test_logring_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_logring_LDADD = $(UNIT_LDADD)
