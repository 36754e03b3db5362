# The workers' shared network library, workers/net/: its pure parts,
# with no loop and no curl handle.
check_PROGRAMS += tests/unit/workers/net/test_cdisp
TESTS += tests/unit/workers/net/test_cdisp
tests_unit_workers_net_test_cdisp_SOURCES = \
	tests/unit/workers/net/test_cdisp.c workers/net/cdisp.c \
	workers/net/cdisp.h $(UNIT_COMMON)
tests_unit_workers_net_test_cdisp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_net_test_cdisp_LDADD = $(UNIT_LDADD)
