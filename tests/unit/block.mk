# Where a streamed answer is cut into blocks: supervisor/block.c
check_PROGRAMS += tests/unit/supervisor/test_block
TESTS += tests/unit/supervisor/test_block
tests_unit_supervisor_test_block_SOURCES = \
	tests/unit/supervisor/test_block.c supervisor/block.c \
	supervisor/block.h
tests_unit_supervisor_test_block_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_block_LDADD = $(UNIT_LDADD)
