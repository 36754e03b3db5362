# The pacing of a streaming channel's progress frames: supervisor/pace.c
# is pure bookkeeping (router_progress.c sends), so it links alone.
check_PROGRAMS += tests/unit/supervisor/test_pace
TESTS += tests/unit/supervisor/test_pace
tests_unit_supervisor_test_pace_SOURCES = \
	tests/unit/supervisor/test_pace.c supervisor/pace.c \
	supervisor/pace.h
tests_unit_supervisor_test_pace_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_pace_LDADD = $(UNIT_LDADD)
