# Root's own library (libwxparent.a), as wxgated links it: built with
# its part of the catalogue only (IPC_PARENT_ONLY), main.c's `sup`
# given by the test.
check_PROGRAMS += tests/unit/supervisor/test_parent
TESTS += tests/unit/supervisor/test_parent
tests_unit_supervisor_test_parent_SOURCES = \
	tests/unit/supervisor/test_parent.c
tests_unit_supervisor_test_parent_CPPFLAGS = $(AM_CPPFLAGS) -DIPC_PARENT_ONLY
tests_unit_supervisor_test_parent_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_parent_LDADD = libwxparent.a $(CMOCKA_LIBS) \
	$(PARENT_DEPS)
